// SPDX-License-Identifier: MIT
/*
 * Publish-subscribe with dynamic slices: the publisher.
 *
 *   pubsub_slice_publisher [COUNT]
 *
 * Sends COUNT (default 10) slices of uint64_t on "My/Funk/SliceService",
 * one every 100 ms, each twice as long as the one before (16, 32, ...
 * elements). The publisher starts with room for 16 elements per sample;
 * FLOE_ALLOC_POWER_OF_TWO lets floe replace its shared memory by a larger
 * one whenever a loan needs more.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "floe.h"

#define SLICE_SERVICE_NAME "My/Funk/SliceService"
#define INITIAL_LEN 16

int main(int argc, char **argv)
{
	int count = argc > 1 ? atoi(argv[1]) : 10;
	struct floe_service_opts service_opts = {
		/* The type is one element; a sample holds a slice of them. */
		.type = { .name = "u64", .size = 8, .align = 8 },
	};
	struct floe_publisher_opts publisher_opts;
	struct timespec interval = { .tv_nsec = 100 * 1000000 };
	floe_node *node;
	floe_service *service;
	floe_publisher *publisher;
	int err;

	err = floe_node_create("pubsub_slice_publisher", NULL, &node);
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

	floe_publisher_opts_init(&publisher_opts);
	/* A hint: most slices hold up to 16 elements... */
	publisher_opts.initial_max_slice_len = INITIAL_LEN;
	/* ...but grow the memory (doubling) when one needs more. */
	publisher_opts.allocation = FLOE_ALLOC_POWER_OF_TWO;
	err = floe_publisher_create(service, &publisher_opts, &publisher);
	if (err) {
		fprintf(stderr, "publisher: %s\n", floe_strerror(err));
		floe_service_close(service);
		floe_node_destroy(node);
		return 1;
	}

	for (int counter = 0; counter < count; counter++) {
		uint64_t len = (uint64_t)INITIAL_LEN << counter;
		floe_sample_mut *sample;
		uint64_t *elements;
		int reached;

		/* Loan a slice of len elements, fill it in place, send. */
		err = floe_publisher_loan(publisher, len, &sample);
		if (err) {
			fprintf(stderr, "loan of %llu elements: %s\n",
				(unsigned long long)len, floe_strerror(err));
			break;
		}
		elements = floe_sample_mut_payload(sample);
		for (uint64_t i = 0; i < len; i++)
			elements[i] = (uint64_t)counter * 1000000 + i;
		reached = floe_sample_mut_send(sample);
		printf("send slice %d of %llu elements to %d subscriber(s)\n",
		       counter, (unsigned long long)len,
		       reached < 0 ? 0 : reached);
		fflush(stdout);
		nanosleep(&interval, NULL);
	}

	floe_publisher_destroy(publisher);
	floe_service_close(service);
	floe_node_destroy(node);
	return err ? 1 : 0;
}
