// SPDX-License-Identifier: MIT
/*
 * Publish-subscribe with a user header: the publisher.
 *
 *   pubsub_user_header_publisher [COUNT]
 *
 * Sends COUNT (default 10) counters on "My/Funk/WithHeader", 100 ms apart,
 * each with a struct custom_header written into the sample's user header
 * (floe_sample_mut_user_header) beside the payload.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "user_header_data.h"

int main(int argc, char **argv)
{
	int count = argc > 1 ? atoi(argv[1]) : 10;
	struct timespec pause = { .tv_nsec = 100 * 1000000 }, now;
	floe_node *node;
	floe_service *service;
	floe_publisher *publisher = NULL;
	int err;

	err = floe_node_create("pubsub_user_header_publisher", NULL, &node);
	if (err) {
		fprintf(stderr, "node: %s\n", floe_strerror(err));
		return 1;
	}
	err = user_header_service(node, &service);
	if (!err)
		err = floe_publisher_create(service, NULL, &publisher);
	for (int counter = 0; !err && counter < count; counter++) {
		floe_sample_mut *sample;
		struct custom_header *header;

		err = floe_publisher_loan(publisher, 1, &sample);
		if (err)
			break;
		clock_gettime(CLOCK_REALTIME, &now);
		header = floe_sample_mut_user_header(sample);
		header->stamp_ns = (uint64_t)now.tv_sec * 1000000000u +
				   (uint64_t)now.tv_nsec;
		header->version = 1;
		header->origin = 4711;
		*(uint64_t *)floe_sample_mut_payload(sample) = (uint64_t)counter;
		err = floe_sample_mut_send(sample);
		if (err >= 0) {
			printf("sent: counter %d, header { version 1, origin "
			       "4711, stamp %llu }\n", counter,
			       (unsigned long long)header->stamp_ns);
			fflush(stdout);
			err = 0;
		}
		nanosleep(&pause, NULL);
	}
	if (err)
		fprintf(stderr, "publishing: %s\n", floe_strerror(err));
	floe_publisher_destroy(publisher);
	if (service)
		floe_service_close(service);
	floe_node_destroy(node);
	return err ? 1 : 0;
}
