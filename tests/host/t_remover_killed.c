// SPDX-License-Identifier: MIT
/*
 * A node killed while it removes a service never blocks that service:
 * the state word that says REMOVING names its remover, so whoever comes
 * next sees the remover dead and finishes or undoes its work.
 *
 * 1. A child marks a service that the parent still uses REMOVING, as
 *    floe_svc_try_remove's first step does, and is SIGKILLed: a new node
 *    opens the service at once, and a sample sent before reaches the
 *    parent's subscriber.
 * 2. The same with nobody else in the service: open reports it gone,
 *    create makes it anew, and nothing of the old one is left.
 * 3. Children open and close a service in a loop (each close removes it)
 *    and are SIGKILLed at random moments: after each kill, open_or_create
 *    succeeds at once, never FLOE_E_BUSY or FLOE_E_EXISTS.
 * (Test of internals: steps 1 and 2 set the service's state.)
 */

#define SERVICE "t/remover_killed"

#include "lifecycle.h"
#define KILL_ROUNDS 60

/* Join (or create) the service, mark it REMOVING under our name, die. */
static int mark_and_die(void *unused)
{
	struct floe_pubsub_qos q;
	struct floe_service_opts o = lc_opts(&q);
	floe_node *node = th_node("remover");
	floe_service *svc;
	uint64_t ready = FLOE_SVC_READY;

	(void)unused;
	if (!node || floe_service_open_or_create(node, SERVICE, &o, &svc))
		return 1;
	if (!atomic_compare_exchange_strong(&svc->hdr->state, &ready,
					    floe_svc_removing_word(node)))
		return 2;
	raise(SIGKILL);
	return 3;
}

static int churn(void *unused)
{
	struct floe_pubsub_qos q;
	struct floe_service_opts o = lc_opts(&q);
	floe_node *node = th_node("churner");
	floe_service *svc;

	(void)unused;
	if (!node)
		return 1;
	for (;;) {
		if (floe_service_open_or_create(node, SERVICE, &o, &svc) == 0)
			floe_service_close(svc);
	}
}

/* How long open_or_create takes from a fresh node; its result in *@r. */
static uint64_t open_or_create_ms(floe_node *node, int *r)
{
	struct floe_pubsub_qos q;
	struct floe_service_opts o = lc_opts(&q);
	uint64_t t0 = th_now_ns();
	floe_service *svc;

	*r = floe_service_open_or_create(node, SERVICE, &o, &svc);
	if (!*r)
		floe_service_close(svc);
	return (th_now_ns() - t0) / 1000000;
}

int main(void)
{
	const char *domain = th_setup("remover_killed");
	struct floe_pubsub_qos q;
	struct floe_service_opts o = lc_opts(&q);
	floe_node *node, *other;
	floe_service *svc, *svc2;
	floe_publisher *pub;
	floe_subscriber *sub;
	const floe_sample *s;
	uint64_t tag = 42;
	int r, r2, got = 0, bad = 0, slowest = 0;

	tap_plan(9);
	node = th_node("main");
	other = th_node("other");

	/* 1 */
	r = floe_service_create(node, SERVICE, &o, &svc);
	tap_require(r == 0, "create: %s", floe_strerror(r));
	r = floe_subscriber_create(svc, NULL, &sub);
	r2 = floe_publisher_create(svc, NULL, &pub);
	tap_require(!r && !r2, "ports");
	r = floe_publisher_send_copy(pub, &tag, sizeof(tag));
	tap_ok(th_wait(th_fork(mark_and_die, NULL), 10000) == 128 + SIGKILL,
	       "step 1: a remover marked the service and was killed");
	r2 = floe_service_open(other, SERVICE, &o, &svc2);
	tap_ok(r2 == 0, "step 1: a new node opens the service in use: %s",
	       floe_strerror(r2));
	if (!r2)
		floe_service_close(svc2);
	got = floe_subscriber_receive(sub, &s);
	tap_ok(r == 1 && got == 1 && *(const uint64_t *)floe_sample_payload(s) ==
					     tag,
	       "step 1: the sample sent before arrives (send %d, receive %d)",
	       r, got);
	if (got == 1)
		floe_sample_release(s);
	floe_publisher_destroy(pub);
	floe_subscriber_destroy(sub);
	floe_service_close(svc);

	/* 2: the child creates it anew, alone in it */
	r = th_wait(th_fork(mark_and_die, NULL), 10000) == 128 + SIGKILL
		    ? floe_service_open(other, SERVICE, &o, &svc2)
		    : -1000;
	r2 = floe_service_create(other, SERVICE, &o, &svc2);
	tap_ok(r == FLOE_E_NOT_FOUND && r2 == 0,
	       "step 2: open finds it gone (%s), create makes it anew (%s)",
	       floe_strerror(r), floe_strerror(r2));
	if (!r2)
		floe_service_close(svc2);

	/* 3 */
	for (int k = 0; k < KILL_ROUNDS; k++) {
		pid_t pid = th_fork(churn, NULL);
		uint64_t ms;

		th_sleep_us(2000 + th_rand_below(8000));
		th_kill(pid);
		ms = open_or_create_ms(other, &r);
		if (r && bad++ < 5)
			tap_diag("round %d: open_or_create: %s", k,
				 floe_strerror(r));
		if ((int)ms > slowest)
			slowest = (int)ms;
		if (ms > 500)
			tap_diag("round %d: open_or_create took %d ms (%s)", k,
				 (int)ms, floe_strerror(r));
	}
	tap_ok(bad == 0, "step 3: open_or_create after %d killed churners "
	       "(%d failed)", KILL_ROUNDS, bad);
	/* a backed-off open waits up to 2 s; a dead remover is seen at once */
	tap_ok(slowest < 1500, "step 3: none took long (slowest %d ms)",
	       slowest);

	floe_node_destroy(other);
	floe_node_cleanup_dead(node);
	floe_node_destroy(node);
	tap_ok(th_count_objects(domain, 1) == 0, "no shared objects remain");
	return tap_done();
}
