// SPDX-License-Identifier: MIT
/*
 * Event-based communication: the subscriber that sleeps until data
 * arrives.
 *
 *   pubsub_event_subscriber [COUNT [TIMEOUT_S]]
 *
 * Subscribes to "My/Funk/EventBased" and listens on the event service of
 * the same name. Between samples it sleeps in the kernel (no polling, no
 * CPU) until the publisher fires SAMPLE_SENT, then takes everything that
 * is queued. Exits after COUNT (default 10) samples or TIMEOUT_S seconds
 * (default 10 + COUNT / 10); status 0 only if all COUNT arrived.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "floe.h"
#include "transmission_data.h"

/* Shared with pubsub_event_publisher.c. */
#define SERVICE_NAME "My/Funk/EventBased"
#define SAMPLE_SENT 0

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
	floe_service *data_service = NULL, *event_service = NULL;
	floe_subscriber *subscriber = NULL;
	floe_listener *listener = NULL;
	int received = 0, err;
	double deadline, left;

	err = floe_node_create("pubsub_event_subscriber", NULL, &node);
	if (err) {
		fprintf(stderr, "node: %s\n", floe_strerror(err));
		return 1;
	}
	err = floe_service_open_or_create(node, SERVICE_NAME, &service_opts,
					  &data_service);
	if (!err)
		err = floe_event_open_or_create(node, SERVICE_NAME, NULL,
						&event_service);
	if (!err)
		err = floe_subscriber_create(data_service, NULL, &subscriber);
	if (!err)
		err = floe_listener_create(event_service, &listener);
	if (err) {
		fprintf(stderr, "setup: %s\n", floe_strerror(err));
		goto out;
	}
	printf("subscriber ready: sleeping until samples arrive on %s\n",
	       SERVICE_NAME);
	fflush(stdout);

	deadline = now_s() + timeout;
	while (received < count) {
		const floe_sample *sample;

		/* Take everything queued... */
		while ((err = floe_subscriber_receive(subscriber, &sample)) ==
		       1) {
			const struct transmission_data *data =
				floe_sample_payload(sample);

			printf("received: TransmissionData { x: %d, y: %d, "
			       "funky: %.2f } (sequence %llu)\n", data->x,
			       data->y, data->funky,
			       (unsigned long long)floe_sample_sequence(sample));
			fflush(stdout);
			floe_sample_release(sample);
			received++;
		}
		if (err < 0) {
			fprintf(stderr, "receive: %s\n", floe_strerror(err));
			break;
		}
		if (received >= count || (left = deadline - now_s()) <= 0)
			break;
		/* ...then sleep until the publisher says there is more. The
		 * ids that fired are consumed (NULL callback): there is only
		 * SAMPLE_SENT, and the queue says how many samples came. */
		err = floe_listener_timed_wait(listener, (uint64_t)(left * 1e9),
					       NULL, NULL);
		if (err < 0) {
			fprintf(stderr, "wait: %s\n", floe_strerror(err));
			break;
		}
	}
	printf("received %d of %d samples\n", received, count);

out:
	floe_listener_destroy(listener);
	floe_subscriber_destroy(subscriber);
	floe_service_close(event_service);
	floe_service_close(data_service);
	floe_node_destroy(node);
	return received >= count ? 0 : 1;
}
