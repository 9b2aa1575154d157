// SPDX-License-Identifier: MIT
/*
 * Events: the notifier.
 *
 *   event_notifier [COUNT]
 *
 * Fires COUNT (default 10) events on the event service "MyEventName", one
 * every 100 ms, with event ids 0, 1, 2, ... (modulo 16), then exits. An
 * event carries no data: listeners learn which ids fired. Start
 * event_listener first (or at the same time) to see them arrive.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "floe.h"

#define EVENT_SERVICE_NAME "MyEventName"

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	int count = argc > 1 ? atoi(argv[1]) : 10;
	floe_node *node;
	floe_service *service;
	floe_notifier *notifier;
	int err;

	err = floe_node_create("event_notifier", NULL, &node);
	if (err) {
		fprintf(stderr, "node: %s\n", floe_strerror(err));
		return 1;
	}
	/* NULL options: the default QoS (16 notifiers, 16 listeners, event
	 * ids 0..4095). Whoever comes first creates the service. */
	err = floe_event_open_or_create(node, EVENT_SERVICE_NAME, NULL,
					&service);
	if (err) {
		fprintf(stderr, "event service: %s\n", floe_strerror(err));
		floe_node_destroy(node);
		return 1;
	}
	err = floe_notifier_create(service, &notifier);
	if (err) {
		fprintf(stderr, "notifier: %s\n", floe_strerror(err));
		floe_service_close(service);
		floe_node_destroy(node);
		return 1;
	}

	for (int counter = 0; counter < count; counter++) {
		uint64_t event_id = (uint64_t)(counter % 16);
		/* Sets the id's bit in every listener's cell; a listener
		 * asleep in a wait costs one wake-up system call, one that
		 * is busy costs nothing. */
		int reached = floe_notifier_notify(notifier, event_id);

		if (reached < 0) {
			fprintf(stderr, "notify: %s\n", floe_strerror(reached));
			err = reached;
			break;
		}
		printf("fired event id %llu, reached %d listener(s)\n",
		       (unsigned long long)event_id, reached);
		fflush(stdout);
		sleep_ms(100);
	}

	floe_notifier_destroy(notifier);
	floe_service_close(service);
	floe_node_destroy(node);
	return err ? 1 : 0;
}
