// SPDX-License-Identifier: MIT
/*
 * Publish-subscribe with dynamic slices: the subscriber.
 *
 *   pubsub_slice_subscriber [COUNT [TIMEOUT_S]]
 *
 * Receives COUNT (default 10) slices of uint64_t from
 * "My/Funk/SliceService", checks every element, prints a line per slice,
 * and exits (status 0 only if all COUNT arrived intact), or gives up after
 * TIMEOUT_S seconds (default 10 + COUNT / 10).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "floe.h"

#define SLICE_SERVICE_NAME "My/Funk/SliceService"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int count = argc > 1 ? atoi(argv[1]) : 10;
	double timeout = argc > 2 ? atof(argv[2]) : 10 + count / 10.0;
	struct floe_service_opts service_opts = {
		.type = { .name = "u64", .size = 8, .align = 8 },
	};
	struct timespec poll_interval = { .tv_nsec = 10 * 1000000 };
	floe_node *node;
	floe_service *service;
	floe_subscriber *subscriber;
	int received = 0, intact = 0, err;
	double deadline;

	err = floe_node_create("pubsub_slice_subscriber", NULL, &node);
	if (err) {
		fprintf(stderr, "node: %s\n", floe_strerror(err));
		return 1;
	}
	err = floe_service_open_or_create(node, SLICE_SERVICE_NAME,
					  &service_opts, &service);
	if (err) {
		fprintf(stderr, "service: %s\n", floe_strerror(err));
		floe_node_destroy(node);
		return 1;
	}
	err = floe_subscriber_create(service, NULL, &subscriber);
	if (err) {
		fprintf(stderr, "subscriber: %s\n", floe_strerror(err));
		floe_service_close(service);
		floe_node_destroy(node);
		return 1;
	}
	printf("subscriber ready: waiting for %d slices on %s\n", count,
	       SLICE_SERVICE_NAME);
	fflush(stdout);

	deadline = now_s() + timeout;
	while (received < count && now_s() < deadline) {
		const floe_sample *sample;
		const uint64_t *elements;
		uint64_t len, base, wrong = 0;

		err = floe_subscriber_receive(subscriber, &sample);
		if (err < 0) {
			fprintf(stderr, "receive: %s\n", floe_strerror(err));
			break;
		}
		if (err == 0) {
			nanosleep(&poll_interval, NULL);
			continue;
		}
		/* The slice knows its length; the publisher wrote
		 * counter * 1000000 + index into each element. */
		len = floe_sample_len(sample);
		elements = floe_sample_payload(sample);
		base = elements[0] - elements[0] % 1000000;
		for (uint64_t i = 0; i < len; i++)
			wrong += elements[i] != base + i;
		printf("received slice %llu: %llu elements (%llu bytes), %s\n",
		       (unsigned long long)(base / 1000000),
		       (unsigned long long)len,
		       (unsigned long long)floe_sample_payload_size(sample),
		       wrong ? "CORRUPT" : "all elements correct");
		fflush(stdout);
		floe_sample_release(sample);
		received++;
		intact += !wrong;
	}
	printf("received %d of %d slices, %d intact\n", received, count,
	       intact);

	floe_subscriber_destroy(subscriber);
	floe_service_close(service);
	floe_node_destroy(node);
	return received == count && intact == count ? 0 : 1;
}
