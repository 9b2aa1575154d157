// SPDX-License-Identifier: MIT
/*
 * A new publisher takes a slot from which it reaches every subscriber
 * whenever a free one does. A slot's connection to a subscriber carries
 * the leftovers of at most four gone publishers of that slot (struct
 * floe_conn); a newcomer in a slot whose connection is that full could not
 * reach the subscriber until it read them. Here every free slot holds
 * some gone publisher's leftovers: slot 0 four for both subscribers, slot
 * 1 one for subscriber T only. The newcomer must take slot 1 and reach
 * both (it used to take the first free slot, 0, and reach neither: found
 * by t_threads' churn on a loaded machine). Everything sent is then
 * received, once.
 */
#include "helpers.h"

#define SERVICE "t/leftovers/row"
#define GONE 4 /* publishers leaving samples in slot 0 */

int main(void)
{
	const char *domain = th_setup("leftovers_row");
	struct floe_pubsub_qos q;
	struct floe_service_opts o = {
		.type = th_type("t_leftovers_row.Tag", sizeof(uint64_t),
				_Alignof(uint64_t)),
		.qos = &q,
	};
	floe_node *node = NULL;
	floe_service *svc = NULL;
	floe_subscriber *s = NULL, *t = NULL;
	floe_publisher *first = NULL, *newcomer = NULL;
	uint64_t gone_tags = 0, tag = 10;
	int r;

	tap_plan(10);
	floe_pubsub_qos_init(&q);
	q.max_publishers = 2;
	q.max_subscribers = 2;
	q.enable_safe_overflow = false;
	r = floe_node_create("leftovers_row", NULL, &node);
	if (!r)
		r = floe_service_create(node, SERVICE, &o, &svc);
	if (!r)
		r = floe_subscriber_create(svc, NULL, &t);
	tap_require(r == 0, "node, service, subscriber T (%s)",
		    floe_strerror(r));

	/* Slot 1: what a gone publisher left for T alone (S comes later).
	 * The first publisher keeps slot 0 meanwhile. */
	r = floe_publisher_create(svc, NULL, &first);
	tap_require(r == 0, "a publisher in slot 0 (%s)", floe_strerror(r));
	tap_eq(th_send_tag_and_leave(svc, 1), 1,
	       "a publisher in slot 1 reached T, then left");
	floe_publisher_destroy(first);
	r = floe_subscriber_create(svc, NULL, &s);
	tap_require(r == 0, "subscriber S (%s)", floe_strerror(r));

	/* Slot 0: four gone publishers' leftovers for S and T (slot 1 holds
	 * leftovers too, so each one takes slot 0 again). */
	r = 1;
	for (int k = 0; k < GONE; k++, tag++) {
		r &= th_send_tag_and_leave(svc, tag) == 2;
		gone_tags |= 1ull << tag;
	}
	tap_ok(r, "%d publishers in turn reached S and T, then left", GONE);

	r = floe_publisher_create(svc, NULL, &newcomer);
	tap_require(r == 0, "a new publisher (%s)", floe_strerror(r));
	tap_eq(floe_publisher_send_copy(newcomer, &tag, sizeof(tag)), 2,
	       "its send reaches both subscribers");
	tap_eq(th_receive_tags(s), gone_tags | 1ull << tag,
	       "S receives what the gone publishers sent and the new one's, "
	       "each once");
	tap_eq(th_receive_tags(t), 1ull << 1 | gone_tags | 1ull << tag,
	       "T receives both slots' leftovers and the new one's, each once");

	floe_publisher_destroy(newcomer);
	floe_subscriber_destroy(s);
	floe_subscriber_destroy(t);
	floe_service_close(svc);
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
