// SPDX-License-Identifier: MIT
/*
 * Leftovers are bounded per connection (docs/reliability.md): a slot's
 * connection to a subscriber carries what at most four gone publishers of
 * that slot left. When every free slot's connection is that full, a new
 * publisher does not reach the subscriber, and its send says so; it does
 * from the first send after the subscriber read what waited. Nothing a
 * send reported delivered is lost on the way.
 */
#include "helpers.h"

#define SERVICE "t/leftovers/bound"
#define GONE 4 /* publishers leaving samples in the only slot */

int main(void)
{
	const char *domain = th_setup("leftovers_bound");
	struct floe_pubsub_qos q;
	struct floe_service_opts o = th_one_slot_opts(&q, "t_leftovers_bound.Tag");
	floe_node *node = NULL;
	floe_service *svc = NULL;
	floe_subscriber *sub = NULL;
	floe_publisher *pub = NULL;
	uint64_t gone_tags, tag;
	int r;

	tap_plan(8);
	r = floe_node_create("leftovers_bound", NULL, &node);
	if (!r)
		r = floe_service_create(node, SERVICE, &o, &svc);
	if (!r)
		r = floe_subscriber_create(svc, NULL, &sub);
	tap_require(r == 0, "node, service, subscriber (%s)", floe_strerror(r));

	gone_tags = th_leave_leftovers(svc, GONE);
	tag = GONE;
	tap_ok(gone_tags != 0, "%d publishers in turn reached the subscriber, "
	       "then left", GONE);

	r = floe_publisher_create(svc, NULL, &pub);
	tap_require(r == 0, "a new publisher (%s)", floe_strerror(r));
	tap_eq(floe_publisher_send_copy(pub, &tag, sizeof(tag)), 0,
	       "its send behind four gone publishers' leftovers reaches "
	       "nobody, and says so");
	tap_eq(th_receive_tags(sub), gone_tags,
	       "the subscriber receives everything the gone ones sent, once");
	tag++;
	tap_eq(floe_publisher_send_copy(pub, &tag, sizeof(tag)), 1,
	       "then the new publisher's next send reaches it");
	tap_eq(th_receive_tags(sub), 1ull << tag, "and is received");

	floe_publisher_destroy(pub);
	floe_subscriber_destroy(sub);
	floe_service_close(svc);
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
