// SPDX-License-Identifier: MIT
/*
 * A subscriber that reads a gone publisher's last sample and then finds
 * the queue taken over by the slot's next publisher lets the gone one go
 * even when it has not noticed yet that it left (the receive's look at
 * the slots came before it left): its carried record is forgotten and its
 * data unlinked, not kept until the subscriber ends. The subscriber's
 * late notice is made by hand: the service's change counter is set back
 * to what the subscriber saw. (Test of internals.)
 */
#define SERVICE "t/retire_takeover"

#include "lifecycle.h"

int main(void)
{
	const char *domain = th_setup("retire_takeover");
	struct floe_pubsub_qos q;
	struct floe_service_opts o = lc_opts(&q);
	floe_node *node;
	floe_service *svc;
	floe_subscriber *sub;
	floe_publisher *p1, *p2;
	const floe_sample *s;
	uint64_t seen, tag, got = 0;
	int r, baseline, after;

	tap_plan(6);
	node = th_node("main");
	q.max_publishers = 1;
	q.enable_safe_overflow = false;
	r = floe_service_create(node, SERVICE, &o, &svc);
	if (!r)
		r = floe_subscriber_create(svc, NULL, &sub);
	tap_require(r == 0, "service, subscriber: %s", floe_strerror(r));
	baseline = th_count_objects(domain, 0);

	r = floe_publisher_create(svc, NULL, &p1);
	tap_require(r == 0, "first publisher");
	/* the subscriber connects to it and looks no more */
	r = floe_subscriber_receive(sub, &s);
	seen = atomic_load(&svc->hdr->changes);
	tag = 1;
	r = floe_publisher_send_copy(p1, &tag, sizeof(tag));
	floe_publisher_destroy(p1);
	tag = 2;
	if (floe_publisher_create(svc, NULL, &p2) == 0)
		r += floe_publisher_send_copy(p2, &tag, sizeof(tag));
	tap_require(r == 2, "the second publisher took the slot over; both "
		    "samples reached the subscriber");
	atomic_store(&svc->hdr->changes, seen);

	/* the first one's sample, then the queue is the second one's */
	while ((r = floe_subscriber_receive(sub, &s)) == 1) {
		got |= 1ull << *(const uint64_t *)floe_sample_payload(s);
		floe_sample_release(s);
	}
	atomic_fetch_add(&svc->hdr->changes, 1);
	got |= th_receive_tags(sub);
	tap_ok(got == (1u << 1 | 1u << 2), "both samples received (%#" PRIx64
	       ")", got);
	floe_publisher_destroy(p2);
	after = th_count_objects(domain, 1);
	tap_ok(after == baseline,
	       "both publishers' data went once read (%d objects, %d before "
	       "either)", after, baseline);
	floe_subscriber_destroy(sub);
	floe_service_close(svc);
	floe_node_destroy(node);
	tap_ok(th_count_objects(domain, 1) == 0, "no shared objects remain");
	return tap_done();
}
