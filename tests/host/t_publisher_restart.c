// SPDX-License-Identifier: MIT
/*
 * A publisher leaves and a new one takes its slot while the subscriber
 * still has the old connection: the subscriber must not lose the new
 * publisher's first samples (here its first send), and every chunk of the
 * new publisher must come back (none leaked by a dropped queue entry).
 */
#include "helpers.h"
#include "engine/engine.h" /* pool accessors for the leak check */

int main(void)
{
	struct floe_pubsub_qos qos;
	struct floe_service_opts o = { .type = th_type("t_restart.U64", 8, 8),
				       .qos = &qos };
	floe_publisher *first, *second;
	const floe_sample *s;
	floe_subscriber *sub;
	floe_service *svc;
	floe_node *node;
	uint64_t v;
	int ok = 1, r;

	th_setup("restart");
	tap_plan(6);
	floe_pubsub_qos_init(&qos);
	qos.max_publishers = 1;
	qos.history_size = 1;
	node = th_node("restart");
	tap_require(node && floe_service_create(node, "t/restart", &o, &svc) == 0 &&
			    floe_subscriber_create(svc, NULL, &sub) == 0 &&
			    floe_publisher_create(svc, NULL, &first) == 0,
		    "service, subscriber, first publisher");
	v = 1;
	floe_publisher_send_copy(first, &v, sizeof(v));
	r = floe_subscriber_receive(sub, &s);
	tap_ok(r == 1 && *(const uint64_t *)floe_sample_payload(s) == 1,
	       "sample of the first publisher received");
	if (r == 1)
		floe_sample_release(s);

	floe_publisher_destroy(first);
	tap_require(floe_publisher_create(svc, NULL, &second) == 0,
		    "second publisher takes the only publisher slot");
	for (v = 100; v < 103; v++)
		ok &= floe_publisher_send_copy(second, &v, sizeof(v)) == 1;
	tap_ok(ok, "three samples sent to the subscriber");
	ok = 1;
	for (v = 100; v < 103; v++) {
		r = th_receive(sub, &s, 2000);
		ok &= r == 1 && *(const uint64_t *)floe_sample_payload(s) == v &&
		      floe_sample_sequence(s) == v - 100;
		if (r == 1)
			floe_sample_release(s);
	}
	tap_ok(ok && floe_subscriber_receive(sub, &s) == 0,
	       "all three arrive, in order, none before or after");
	floe_publisher_update_connections(second);
	tap_eq(floe_sender_free_chunks(floe_publisher_sender(second)),
	       floe_sender_chunk_count(floe_publisher_sender(second)) - 1,
	       "every chunk back but the one history keeps");
	floe_publisher_destroy(second);
	floe_subscriber_destroy(sub);
	floe_service_close(svc);
	floe_node_destroy(node);
	return tap_done();
}
