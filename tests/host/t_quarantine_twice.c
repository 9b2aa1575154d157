// SPDX-License-Identifier: MIT
/*
 * A subscriber's connection is quarantined twice while the publisher keeps
 * history: the history sample re-sent to the fresh connection is still set
 * aside from the first quarantine, so the second finds it both in flight
 * and set aside, two references. Once the subscriber is gone and history
 * moves on, every chunk is back in the pool: none leaked. (Test of
 * internals: it corrupts the completion queue through the library's
 * private headers.)
 */
#include "helpers.h"
#include "internal.h"
#include "engine/engine.h" /* pool accessors for the leak check */

static const struct floe_type u64_type = {
	.name = "t_quarantine_twice.U64",
	.size = sizeof(uint64_t),
	.align = 8,
};

static int send_value(floe_publisher *pub, uint64_t v)
{
	return floe_publisher_send_copy(pub, &v, sizeof(v));
}

/* Completion indices no honest subscriber writes; the publisher finds them
 * when it next takes completions back. */
static void corrupt_completions(struct floe_dir *d)
{
	struct floe_ring *comp = floe_dir_comp_ring(d, floe_dir_conn(d, 0, 0));

	atomic_store(&comp->tail, atomic_load(&comp->head) + 4 * d->comp_cap);
}

int main(void)
{
	struct floe_pubsub_qos qos;
	struct floe_service_opts o = { .type = u64_type, .qos = &qos };
	const floe_sample *s;
	floe_publisher *pub;
	floe_subscriber *sub;
	floe_service *svc;
	floe_node *node;
	struct floe_dir *d;
	struct floe_sender *tx;
	int ok = 1;

	th_setup("quarantine_twice");
	tap_plan(5);
	/* the quarantines are meant to be; their warnings are not news */
	floe_set_log(FLOE_LOG_ERROR, NULL, NULL);
	floe_pubsub_qos_init(&qos);
	qos.max_publishers = 1;
	qos.max_subscribers = 1;
	qos.subscriber_max_buffer_size = 2;
	qos.subscriber_max_borrowed_samples = 1;
	qos.history_size = 1;
	node = th_node("quarantine_twice");
	tap_require(node != NULL &&
			    floe_service_create(node, "t/qtwice", &o, &svc) == 0 &&
			    floe_publisher_create(svc, NULL, &pub) == 0 &&
			    floe_subscriber_create(svc, NULL, &sub) == 0,
		    "service, publisher and subscriber");
	d = &svc->dirs[0];
	tx = floe_publisher_sender(pub);
	tap_eq(send_value(pub, 1), 1, "a sample reaches the subscriber");

	for (int round = 0; round < 2; round++) {
		corrupt_completions(d);
		/* quarantined, then connected afresh: history sent again */
		floe_publisher_update_connections(pub);
		floe_publisher_update_connections(pub);
	}
	ok = th_receive(sub, &s, 2000) == 1 &&
	     *(const uint64_t *)floe_sample_payload(s) == 1;
	if (ok)
		floe_sample_release(s);
	tap_ok(ok, "after two quarantines the fresh connection has the "
		   "history sample");

	floe_subscriber_destroy(sub);
	floe_publisher_update_connections(pub);
	/* history moves on: its old chunk is nobody's any more */
	send_value(pub, 2);
	floe_publisher_update_connections(pub);
	tap_eq(floe_sender_free_chunks(tx), floe_sender_chunk_count(tx) - 1,
	       "every chunk back but the one history keeps");
	tap_ok(floe_sender_free_chunks(tx) <= floe_sender_chunk_count(tx),
	       "and none returned twice");
	floe_publisher_destroy(pub);
	floe_service_close(svc);
	floe_node_destroy(node);
	return tap_done();
}
