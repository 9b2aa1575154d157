// SPDX-License-Identifier: MIT
/*
 * Publish-subscribe, typed payload: the subscriber.
 *
 *   pubsub_subscriber [COUNT [TIMEOUT_S]]
 *
 * Prints the struct transmission_data samples published on
 * "My/Funk/ServiceName" and exits after COUNT (default 10) of them, or
 * after TIMEOUT_S seconds (default 10 + COUNT / 10). Exit status 0 only
 * if all COUNT samples arrived. Between samples it sleeps in
 * floe_subscriber_wait: the publisher wakes it, with no event service.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "floe.h"
#include "transmission_data.h"

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
		.type = TRANSMISSION_DATA_TYPE,
	};
	floe_node *node;
	floe_service *service;
	floe_subscriber *subscriber;
	int received = 0, err;
	double deadline;

	err = floe_node_create("pubsub_subscriber", NULL, &node);
	if (err) {
		fprintf(stderr, "node: %s\n", floe_strerror(err));
		return 1;
	}
	err = floe_service_open_or_create(node, EXAMPLE_SERVICE_NAME,
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
	/* From here on, every sample sent reaches us. */
	printf("subscriber ready: waiting for %d samples on %s\n", count,
	       EXAMPLE_SERVICE_NAME);
	fflush(stdout);

	deadline = now_s() + timeout;
	while (received < count && now_s() < deadline) {
		const floe_sample *sample;
		const struct transmission_data *data;

		/* Non-blocking: 1 with a sample, 0 if none is waiting. */
		err = floe_subscriber_receive(subscriber, &sample);
		if (err < 0) {
			fprintf(stderr, "receive: %s\n", floe_strerror(err));
			break;
		}
		if (err == 0) {
			/* Sleep until a sample comes (or a publisher dies:
			 * FLOE_E_DEAD, and its samples are still ours). */
			double left = deadline - now_s();

			err = floe_subscriber_wait(subscriber,
						   left > 0 ? (uint64_t)(left * 1e9)
							    : 0);
			if (err < 0 && err != FLOE_E_DEAD) {
				fprintf(stderr, "wait: %s\n",
					floe_strerror(err));
				break;
			}
			continue;
		}
		/* The payload is read where the publisher wrote it. */
		data = floe_sample_payload(sample);
		printf("received: TransmissionData { x: %d, y: %d, funky: %.2f }"
		       " (sequence %llu)\n", data->x, data->y, data->funky,
		       (unsigned long long)floe_sample_sequence(sample));
		fflush(stdout);
		/* Give the memory back to the publisher. */
		floe_sample_release(sample);
		received++;
	}
	printf("received %d of %d samples\n", received, count);

	floe_subscriber_destroy(subscriber);
	floe_service_close(service);
	floe_node_destroy(node);
	return received == count ? 0 : 1;
}
