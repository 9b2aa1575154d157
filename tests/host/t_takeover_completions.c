// SPDX-License-Identifier: MIT
/*
 * A publisher takes over the slot of one that left a sample queued (its
 * leftovers are carried ahead of the newcomer's): the subscriber's give-
 * backs to the gone publisher that it never took back share the
 * completion queue with the newcomer's. Whatever the gone one left there,
 * the newcomer's connection is never found corrupt (no quarantine, no
 * warning), every sample arrives in order, and every chunk comes back.
 *
 * One process, steps in a fixed order: publisher A and the subscriber go
 * in lockstep (send, receive, release) for @before samples; A sends
 * @held more that the subscriber receives and keeps, and one that stays
 * queued, and leaves; B takes the only publisher slot; the subscriber
 * releases what it kept (given back to A before it sees A gone, after B
 * emptied the completion queue) and goes in lockstep with B. Run for every
 * @before up to two reclaim periods, so that A leaves at every point of
 * its reclaim cycle; with nothing kept, and with the borrow limit kept in
 * a queue whose chunk count is a power of two (no slack).
 */
#include <string.h>

#include "helpers.h"
#include "engine/engine.h" /* pool accessors for the leak check */

#define AFTER 60

struct shape {
	uint32_t buffer, borrowed, held;
};

static const struct shape shapes[] = {
	{ .buffer = 16, .borrowed = 2, .held = 0 },
	/* 5 + 8 + 1 queued or held, 1 loan, 1 spare: 16 chunks */
	{ .buffer = 5, .borrowed = 8, .held = 8 },
};

static int send_u64(floe_publisher *pub, uint64_t v)
{
	return floe_publisher_send_copy(pub, &v, sizeof(v));
}

/* Receive one sample, check it is @v from publisher @seq, release it. */
static int take(floe_subscriber *sub, uint64_t v, uint64_t seq)
{
	const floe_sample *s;
	int ok = floe_subscriber_receive(sub, &s) == 1;

	if (!ok)
		return 0;
	ok = *(const uint64_t *)floe_sample_payload(s) == v &&
	     floe_sample_sequence(s) == seq;
	floe_sample_release(s);
	/* gives it back at once (a receive would with the next sample) */
	floe_subscriber_has_samples(sub);
	return ok;
}

/* One round; 1 if everything held. */
static int round_with(floe_node *node, const struct shape *sh, uint32_t before,
		      const char **why)
{
	struct floe_pubsub_qos qos;
	struct floe_service_opts o = { .type = th_type("t_takeover.U64", 8, 8),
				       .qos = &qos };
	floe_publisher *a = NULL, *b = NULL;
	floe_subscriber *sub = NULL;
	floe_service *svc = NULL;
	const floe_sample *s, *kept[8];
	uint32_t nkept = 0;
	int ok = 0;

	floe_pubsub_qos_init(&qos);
	qos.max_publishers = 1;
	qos.max_subscribers = 1;
	qos.subscriber_max_buffer_size = sh->buffer;
	qos.subscriber_max_borrowed_samples = sh->borrowed;
	qos.history_size = 0;
	qos.publisher_max_loaned_samples = 1;
	*why = "set-up";
	if (floe_service_create(node, "t/takeover", &o, &svc) ||
	    floe_subscriber_create(svc, NULL, &sub) ||
	    floe_publisher_create(svc, NULL, &a))
		goto out;
	*why = "the first publisher's samples";
	for (uint32_t i = 0; i < before; i++)
		if (send_u64(a, i) != 1 || !take(sub, i, i))
			goto out;
	for (; nkept < sh->held; nkept++)
		if (send_u64(a, 500 + nkept) != 1 ||
		    floe_subscriber_receive(sub, &kept[nkept]) != 1)
			goto out;
	if (send_u64(a, 1000) != 1)
		goto out;
	floe_publisher_destroy(a);
	a = NULL;
	*why = "the second publisher";
	if (floe_publisher_create(svc, NULL, &b))
		goto out;
	*why = "the samples kept of the first publisher";
	while (nkept) {
		s = kept[--nkept];
		ok = *(const uint64_t *)floe_sample_payload(s) == 500 + nkept;
		floe_sample_release(s);
		if (!ok)
			goto out;
		ok = 0;
	}
	floe_subscriber_has_samples(sub);
	*why = "the first publisher's last sample, left queued";
	if (!take(sub, 1000, before + sh->held))
		goto out;
	*why = "the second publisher's samples (sent, received in order)";
	for (uint32_t i = 0; i < AFTER; i++)
		if (send_u64(b, 2000 + i) != 1 || !take(sub, 2000 + i, i))
			goto out;
	*why = "nothing more";
	if (floe_subscriber_receive(sub, &s) != 0)
		goto out;
	/* the last give-back goes with the next look for data */
	floe_subscriber_has_samples(sub);
	floe_publisher_update_connections(b);
	*why = "every chunk of the second publisher back";
	ok = floe_sender_free_chunks(floe_publisher_sender(b)) ==
	     floe_sender_chunk_count(floe_publisher_sender(b));
out:
	while (nkept)
		floe_sample_release(kept[--nkept]);
	if (a)
		floe_publisher_destroy(a);
	if (b)
		floe_publisher_destroy(b);
	if (sub)
		floe_subscriber_destroy(sub);
	if (svc)
		floe_service_close(svc);
	return ok;
}

int main(void)
{
	floe_node *node;
	uint32_t failed = 0, first_bad = 0, first_shape = 0;
	const char *why = "", *first_why = "";

	th_setup("takeover");
	tap_plan(3);
	th_count_warnings();
	node = th_node("takeover");
	tap_require(node != NULL, "node");
	for (uint32_t k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++) {
		const struct shape *sh = &shapes[k];

		for (uint32_t before = 0;
		     before <= 2 * (sh->buffer + sh->borrowed + 2); before++) {
			if (round_with(node, sh, before, &why))
				continue;
			if (!failed++) {
				first_shape = k;
				first_bad = before;
				first_why = why;
			}
		}
	}
	if (failed)
		tap_diag("%u rounds failed; the first of shape %u with %u "
			 "samples before the takeover, at: %s", failed,
			 first_shape, first_bad, first_why);
	tap_ok(!failed, "every round: samples in order, none lost, every "
			"chunk back");
	tap_eq(*th_warnings(), 0, "no connection found corrupt (no warning)");
	floe_node_destroy(node);
	return tap_done();
}
