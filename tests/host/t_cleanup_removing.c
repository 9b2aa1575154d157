// SPDX-License-Identifier: MIT
/*
 * floe_node_cleanup_dead never removes data a subscriber is still owed
 * because it could not look into that subscriber's service: one another
 * node is closing while others still use it is REMOVING for a moment, and
 * its senders must be read then too. Step 1 holds that moment by hand (the
 * compare-and-swap floe_svc_try_remove makes first, and its back-off)
 * around a cleanup; step 2 has a child open and close the service in a
 * loop for 3 s while the parent sends from publishers that leave at once,
 * cleans up and receives. Every sample a send reported delivered arrives.
 * (Test of internals: it sets the service's state.)
 */
#include "helpers.h"
#include "internal.h"

#define SERVICE "t/cleanup_removing"

static const struct floe_type u64_type = {
	.name = "t_cleanup_removing.u64",
	.size = 8,
	.align = 8,
};

static struct floe_service_opts opts(struct floe_pubsub_qos *q)
{
	floe_pubsub_qos_init(q);
	q->max_publishers = 2;
	q->max_nodes = 8;
	q->enable_safe_overflow = false;
	return (struct floe_service_opts){ .type = u64_type, .qos = q };
}

static int churner(void *arg)
{
	struct floe_pubsub_qos q;
	struct floe_service_opts o = opts(&q);
	floe_node *node = th_node("churner");
	uint64_t until = th_now_ns() + 4ull * 1000000000ull;

	(void)arg;
	if (!node)
		return 1;
	while (th_now_ns() < until) {
		floe_service *svc;

		if (!floe_service_open(node, SERVICE, &o, &svc))
			floe_service_close(svc);
	}
	floe_node_destroy(node);
	return 0;
}

int main(void)
{
	struct floe_pubsub_qos q;
	struct floe_service_opts o = opts(&q);
	floe_node *node, *cleaner;
	floe_service *svc, *csvc;
	floe_subscriber *sub;
	const floe_sample *s;
	uint64_t ready = FLOE_SVC_READY, removing;
	int r, lost = 0, rounds = 0;
	pid_t pid;

	th_setup("cleanup_removing");
	tap_plan(3);
	node = th_node("main");
	cleaner = th_node("cleaner");
	r = floe_service_open_or_create(node, SERVICE, &o, &svc);
	tap_ok(r == 0, "service: %s", floe_strerror(r));
	/* the cleaner's own handle: only to keep node slots realistic */
	r = floe_service_open(cleaner, SERVICE, &o, &csvc);
	floe_service_close(csvc);
	r = floe_subscriber_create(svc, NULL, &sub);

	/* 1: deterministic (the remover: our own node, alive) */
	removing = floe_svc_removing_word(node);
	r = th_send_tag_and_leave(svc, 7);
	atomic_compare_exchange_strong(&svc->hdr->state, &ready, removing);
	floe_node_cleanup_dead(cleaner);
	atomic_compare_exchange_strong(&svc->hdr->state, &removing,
				       FLOE_SVC_READY);
	{
		int got = floe_subscriber_receive(sub, &s);

		tap_ok(r == 1 && got == 1,
		       "a sample delivered before a cleanup is received "
		       "(send reached %d, receive %d)", r, got);
		if (got == 1)
			floe_sample_release(s);
	}

	/* 2: a real concurrent try_remove */
	pid = th_fork(churner, NULL);
	for (uint64_t until = th_now_ns() + 3ull * 1000000000ull;
	     th_now_ns() < until; rounds++) {
		uint64_t tag = (uint64_t)rounds;
		int sent = th_send_tag_and_leave(svc, tag), got;

		floe_node_cleanup_dead(cleaner);
		got = floe_subscriber_receive(sub, &s);
		if (got == 1) {
			if (*(const uint64_t *)floe_sample_payload(s) != tag)
				lost++;
			floe_sample_release(s);
		} else if (sent == 1) {
			lost++;
		}
	}
	th_wait(pid, 30000);
	tap_ok(lost == 0, "no delivered sample lost across %d cleanups "
	       "racing a closer: %d lost", rounds, lost);
	floe_subscriber_destroy(sub);
	floe_service_close(svc);
	floe_node_destroy(cleaner);
	floe_node_destroy(node);
	return tap_done();
}
