// SPDX-License-Identifier: MIT
/*
 * Events: the listener.
 *
 *   event_listener [COUNT [TIMEOUT_S]]
 *
 * Sleeps until events fire on "MyEventName" and prints their ids; exits
 * after COUNT (default 10) of them, or after TIMEOUT_S seconds (default
 * 10 + COUNT / 10). Exit status 0 only if all COUNT arrived. The process
 * uses no CPU while it waits: it sleeps in the kernel until a notifier
 * wakes it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "floe.h"

#define EVENT_SERVICE_NAME "MyEventName"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Called once per id that fired since the last wait, in increasing order
 * (an id fired twice meanwhile is reported once). */
static void on_event(uint64_t event_id, void *ctx)
{
	int *received = ctx;

	printf("received event id %llu\n", (unsigned long long)event_id);
	fflush(stdout);
	(*received)++;
}

int main(int argc, char **argv)
{
	int count = argc > 1 ? atoi(argv[1]) : 10;
	double timeout = argc > 2 ? atof(argv[2]) : 10 + count / 10.0;
	floe_node *node;
	floe_service *service;
	floe_listener *listener;
	int received = 0, err;
	double deadline, left;

	err = floe_node_create("event_listener", NULL, &node);
	if (err) {
		fprintf(stderr, "node: %s\n", floe_strerror(err));
		return 1;
	}
	err = floe_event_open_or_create(node, EVENT_SERVICE_NAME, NULL,
					&service);
	if (err) {
		fprintf(stderr, "event service: %s\n", floe_strerror(err));
		floe_node_destroy(node);
		return 1;
	}
	err = floe_listener_create(service, &listener);
	if (err) {
		fprintf(stderr, "listener: %s\n", floe_strerror(err));
		floe_service_close(service);
		floe_node_destroy(node);
		return 1;
	}
	/* Events fired from now on reach us. */
	printf("listener ready: waiting for %d events on %s\n", count,
	       EVENT_SERVICE_NAME);
	fflush(stdout);

	deadline = now_s() + timeout;
	while (received < count && (left = deadline - now_s()) > 0) {
		/* Sleep until something fires or the time is up; returns
		 * how many ids it reported (0: timeout). */
		err = floe_listener_timed_wait(listener,
					       (uint64_t)(left * 1e9),
					       on_event, &received);
		if (err < 0) {
			fprintf(stderr, "wait: %s\n", floe_strerror(err));
			break;
		}
	}
	printf("received %d of %d events\n", received, count);

	floe_listener_destroy(listener);
	floe_service_close(service);
	floe_node_destroy(node);
	return received >= count ? 0 : 1;
}
