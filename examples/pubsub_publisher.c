// SPDX-License-Identifier: MIT
/*
 * Publish-subscribe, typed payload: the publisher.
 *
 *   pubsub_publisher [COUNT]
 *
 * Sends COUNT (default 10) samples of struct transmission_data, one every
 * 100 ms, on the service "My/Funk/ServiceName", then exits. Start
 * pubsub_subscriber first (or at the same time) to see them arrive.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "floe.h"
#include "transmission_data.h"

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	int count = argc > 1 ? atoi(argv[1]) : 10;
	struct floe_service_opts service_opts = {
		.type = TRANSMISSION_DATA_TYPE,
	};
	floe_node *node;
	floe_service *service;
	floe_publisher *publisher;
	int err;

	/* A node is this process's presence in floe: others can see it and
	 * clean up after it if it dies. NULL options: backend and domain
	 * come from the environment (FLOE_BACKEND, FLOE_DOMAIN). */
	err = floe_node_create("pubsub_publisher", NULL, &node);
	if (err) {
		fprintf(stderr, "node: %s\n", floe_strerror(err));
		return 1;
	}

	/* Whoever comes first creates the service; the other one opens it
	 * and floe checks that both agree on the payload type. */
	err = floe_service_open_or_create(node, EXAMPLE_SERVICE_NAME,
					  &service_opts, &service);
	if (err) {
		fprintf(stderr, "service: %s\n", floe_strerror(err));
		floe_node_destroy(node);
		return 1;
	}

	err = floe_publisher_create(service, NULL, &publisher);
	if (err) {
		fprintf(stderr, "publisher: %s\n", floe_strerror(err));
		floe_service_close(service);
		floe_node_destroy(node);
		return 1;
	}

	for (int counter = 0; counter < count; counter++) {
		floe_sample_mut *sample;
		struct transmission_data *data;
		int reached;

		/* Loan a sample straight from shared memory and write the
		 * payload in place: the subscriber reads these very bytes,
		 * nothing is copied. */
		err = floe_publisher_loan(publisher, 1, &sample);
		if (err) {
			fprintf(stderr, "loan: %s\n", floe_strerror(err));
			break;
		}
		data = floe_sample_mut_payload(sample);
		data->x = counter;
		data->y = counter * 3;
		data->funky = counter * 812.12;

		/* Sending hands the sample to every subscriber's queue. */
		reached = floe_sample_mut_send(sample);
		printf("send sample %d (x=%d, y=%d, funky=%.2f) to %d "
		       "subscriber(s)\n", counter, data->x, data->y,
		       data->funky, reached < 0 ? 0 : reached);
		fflush(stdout);
		sleep_ms(100);
	}

	/* Tear down in reverse order of creation. */
	floe_publisher_destroy(publisher);
	floe_service_close(service);
	floe_node_destroy(node);
	return err ? 1 : 0;
}
