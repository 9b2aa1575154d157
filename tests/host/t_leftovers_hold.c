// SPDX-License-Identifier: MIT
/*
 * A publisher that could not reach a subscriber (four gone publishers'
 * leftovers queued for it, docs/reliability.md) and leaves leaves nothing
 * behind: with the module it asked the subscriber to hold its data before
 * it found it must wait, and that hold used to stay, keeping its data
 * segments named until the subscriber ended. Counted by the domain's
 * shared-memory objects (/sys/kernel/floe/segments with the module).
 */
#include "helpers.h"

#define SERVICE "t/leftovers/hold"
#define GONE 4 /* publishers leaving samples in the only slot */

int main(void)
{
	const char *domain = th_setup("leftovers_hold");
	struct floe_pubsub_qos q;
	struct floe_service_opts o = {
		.type = th_type("t_leftovers_hold.Tag", sizeof(uint64_t),
				_Alignof(uint64_t)),
		.qos = &q,
	};
	floe_node *node = NULL;
	floe_service *svc = NULL;
	floe_subscriber *sub = NULL;
	uint64_t gone_tags = 0, tag;
	int r, reached = 1, before, after;

	tap_plan(5);
	floe_pubsub_qos_init(&q);
	q.max_publishers = 1;
	q.max_subscribers = 1;
	q.enable_safe_overflow = false;
	r = floe_node_create("leftovers_hold", NULL, &node);
	if (!r)
		r = floe_service_create(node, SERVICE, &o, &svc);
	if (!r)
		r = floe_subscriber_create(svc, NULL, &sub);
	tap_require(r == 0, "node, service, subscriber (%s)", floe_strerror(r));
	for (tag = 0; tag < GONE; tag++) {
		reached &= th_send_tag_and_leave(svc, tag) == 1;
		gone_tags |= 1ull << tag;
	}
	tap_ok(reached, "%d publishers in turn reached the subscriber, then "
	       "left", GONE);

	before = th_count_objects(domain, 0);
	r = th_send_tag_and_leave(svc, tag);
	after = th_count_objects(domain, 0);
	tap_ok(r == 0 && after == before,
	       "one that reached nobody (%d) left no object behind (%d "
	       "before, %d after)", r, before, after);
	tap_eq(th_receive_tags(sub), gone_tags,
	       "the subscriber receives everything the gone ones sent");

	floe_subscriber_destroy(sub);
	floe_service_close(svc);
	floe_node_destroy(node);
	tap_ok(th_count_objects(domain, 1) == 0, "no shared objects remain");
	return tap_done();
}
