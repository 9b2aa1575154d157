// SPDX-License-Identifier: MIT
/*
 * A hostile subscriber takes samples off its queue without ever giving
 * them back, then corrupts its completion queue. The publisher stops
 * delivering to it at its bound (queue + borrowed + one on its way back);
 * the send that finds the completions corrupt reports the subscriber not
 * reached (its connection quarantined, nothing queued into it), and the
 * connection is then made afresh: the subscriber gets what is sent next.
 * (Test of internals: it reaches the queues through the library's private
 * headers.)
 */
#include "helpers.h"
#include "internal.h"

static const struct floe_type u64_type = {
	.name = "t_hostile_withhold.U64",
	.size = sizeof(uint64_t),
	.align = 8,
};

static int send_value(floe_publisher *pub, uint64_t v)
{
	return floe_publisher_send_copy(pub, &v, sizeof(v));
}

int main(void)
{
	struct floe_pubsub_qos qos;
	struct floe_service_opts o = { .type = u64_type, .qos = &qos };
	const floe_sample *s = NULL;
	floe_publisher *pub;
	floe_subscriber *sub;
	floe_service *svc;
	floe_node *node;
	struct floe_dir *d;
	struct floe_ring *ring, *comp;
	uint32_t bound;
	int ok = 1, r;

	th_setup("withhold");
	tap_plan(6);
	floe_pubsub_qos_init(&qos);
	qos.max_publishers = 1;
	qos.max_subscribers = 1;
	qos.subscriber_max_buffer_size = 2;
	qos.subscriber_max_borrowed_samples = 1;
	qos.enable_safe_overflow = false;
	node = th_node("withhold");
	tap_require(node != NULL &&
			    floe_service_create(node, "t/withhold", &o, &svc) == 0 &&
			    floe_publisher_create(svc, NULL, &pub) == 0 &&
			    floe_subscriber_create(svc, NULL, &sub) == 0,
		    "service, publisher and subscriber");
	d = &svc->dirs[0];
	ring = floe_dir_sub_ring(d, floe_dir_conn(d, 0, 0));
	comp = floe_dir_comp_ring(d, floe_dir_conn(d, 0, 0));
	bound = d->buffer + d->borrowed + 1;

	/* Taken off the queue behind the library's back, never returned. */
	for (uint32_t k = 0; k < bound; k++) {
		ok &= send_value(pub, k) == 1;
		atomic_store(&ring->head, atomic_load(&ring->tail));
	}
	tap_ok(ok, "the first %u samples reach it", bound);
	tap_eq(send_value(pub, 100), 0,
	       "at its bound it gets nothing more (it returned nothing)");

	/* Completion indices no honest subscriber writes. */
	atomic_store(&comp->tail, atomic_load(&comp->head) + 4 * d->comp_cap);
	tap_eq(send_value(pub, 101), 0,
	       "a send that finds its completions corrupt does not reach it");
	tap_eq(floe_ring_count(ring, d->sub_cap), 0,
	       "and queued nothing into the quarantined connection");

	/* A fresh connection: what is sent now arrives. */
	r = send_value(pub, 102);
	for (int i = 0; i < 1000 && floe_subscriber_receive(sub, &s) != 1; i++) {
		s = NULL;
		if (r != 1)
			r = send_value(pub, 102);
	}
	tap_ok(s && *(const uint64_t *)floe_sample_payload(s) == 102,
	       "the connection made afresh delivers again");
	if (s)
		floe_sample_release(s);
	floe_subscriber_destroy(sub);
	floe_publisher_destroy(pub);
	floe_service_close(svc);
	floe_node_destroy(node);
	return tap_done();
}
