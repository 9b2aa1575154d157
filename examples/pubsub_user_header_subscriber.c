// SPDX-License-Identifier: MIT
/*
 * Publish-subscribe with a user header: the subscriber.
 *
 *   pubsub_user_header_subscriber [COUNT [TIMEOUT_S]]
 *
 * Prints the counters received on "My/Funk/WithHeader" with their user
 * header (floe_sample_user_header), and exits after COUNT (default 10) of
 * them, or after TIMEOUT_S seconds (default 10 + COUNT / 10). Exit status
 * 0 only if all COUNT samples arrived.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "user_header_data.h"

int main(int argc, char **argv)
{
	int count = argc > 1 ? atoi(argv[1]) : 10;
	time_t deadline = time(NULL) + (argc > 2 ? atoi(argv[2])
						 : 10 + count / 10);
	struct timespec poll_interval = { .tv_nsec = 10 * 1000000 };
	floe_node *node;
	floe_service *service = NULL;
	floe_subscriber *subscriber = NULL;
	int received = 0, err;

	err = floe_node_create("pubsub_user_header_subscriber", NULL, &node);
	if (err) {
		fprintf(stderr, "node: %s\n", floe_strerror(err));
		return 1;
	}
	err = user_header_service(node, &service);
	if (!err)
		err = floe_subscriber_create(service, NULL, &subscriber);
	if (!err) {
		printf("subscriber ready: waiting for %d samples on %s\n",
		       count, USER_HEADER_SERVICE_NAME);
		fflush(stdout);
	}
	while (!err && received < count && time(NULL) <= deadline) {
		const floe_sample *sample;
		const struct custom_header *header;

		err = floe_subscriber_receive(subscriber, &sample);
		if (err <= 0) {
			if (!err)
				nanosleep(&poll_interval, NULL);
			continue;
		}
		err = 0;
		header = floe_sample_user_header(sample);
		printf("received: counter %llu, header { version %u, origin "
		       "%u, stamp %llu }\n",
		       (unsigned long long)*(const uint64_t *)
			       floe_sample_payload(sample),
		       header->version, header->origin,
		       (unsigned long long)header->stamp_ns);
		fflush(stdout);
		floe_sample_release(sample);
		received++;
	}
	if (err)
		fprintf(stderr, "subscribing: %s\n", floe_strerror(err));
	printf("received %d of %d samples\n", received, count);
	floe_subscriber_destroy(subscriber);
	if (service)
		floe_service_close(service);
	floe_node_destroy(node);
	return received == count ? 0 : 1;
}
