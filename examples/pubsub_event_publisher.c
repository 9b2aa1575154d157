// SPDX-License-Identifier: MIT
/*
 * Event-based communication: the publisher.
 *
 *   pubsub_event_publisher [COUNT]
 *
 * Sends COUNT (default 10) samples of struct transmission_data, one every
 * 100 ms, on the publish-subscribe service "My/Funk/EventBased", and after
 * each one fires event SAMPLE_SENT on the event service of the same name.
 * The subscriber (pubsub_event_subscriber) sleeps until that event instead
 * of polling its queue.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "floe.h"
#include "transmission_data.h"

/* Shared with pubsub_event_subscriber.c. */
#define SERVICE_NAME "My/Funk/EventBased"
#define SAMPLE_SENT 0

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
	floe_service *data_service = NULL, *event_service = NULL;
	floe_publisher *publisher = NULL;
	floe_notifier *notifier = NULL;
	int err;

	err = floe_node_create("pubsub_event_publisher", NULL, &node);
	if (err) {
		fprintf(stderr, "node: %s\n", floe_strerror(err));
		return 1;
	}
	/* Two services, one name: publish-subscribe and events live in
	 * separate namespaces. */
	err = floe_service_open_or_create(node, SERVICE_NAME, &service_opts,
					  &data_service);
	if (!err)
		err = floe_event_open_or_create(node, SERVICE_NAME, NULL,
						&event_service);
	if (!err)
		err = floe_publisher_create(data_service, NULL, &publisher);
	if (!err)
		err = floe_notifier_create(event_service, &notifier);
	if (err) {
		fprintf(stderr, "setup: %s\n", floe_strerror(err));
		goto out;
	}

	for (int counter = 0; counter < count; counter++) {
		struct transmission_data data = {
			.x = counter,
			.y = counter * 3,
			.funky = counter * 812.12,
		};
		int reached;

		/* Data first: once the event fires, the sample must be in
		 * the subscriber's queue. */
		reached = floe_publisher_send_copy(publisher, &data,
						   sizeof(data));
		if (reached < 0) {
			err = reached;
			fprintf(stderr, "send: %s\n", floe_strerror(err));
			break;
		}
		err = floe_notifier_notify(notifier, SAMPLE_SENT);
		if (err < 0) {
			fprintf(stderr, "notify: %s\n", floe_strerror(err));
			break;
		}
		err = 0;
		printf("send sample %d (x=%d, y=%d, funky=%.2f) to %d "
		       "subscriber(s), then notified\n", counter, data.x,
		       data.y, data.funky, reached);
		fflush(stdout);
		sleep_ms(100);
	}

out:
	floe_notifier_destroy(notifier);
	floe_publisher_destroy(publisher);
	floe_service_close(event_service);
	floe_service_close(data_service);
	floe_node_destroy(node);
	return err ? 1 : 0;
}
