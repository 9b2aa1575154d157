// SPDX-License-Identifier: MIT
/*
 * A subscriber SIGKILLed while it sleeps in floe_subscriber_wait with its
 * descriptor armed leaves a sleeper and the descriptor counted in its
 * slot's wake cell. The next subscriber of that slot starts asking for
 * nothing: senders must not wake a futex and ring a doorbell for nobody
 * on every send. (Test of internals: it reads the wake cell.)
 */
#include "engine/receiver.h"
#include "helpers.h"

#define SERVICE "t/stalewant"
#define MS UINT64_C(1000000)

static const struct floe_type u64_type = {
	.name = "u64", .size = 8, .align = 8
};

static uint32_t want_of(floe_subscriber *sub)
{
	return atomic_load(&floe_receiver_wake(floe_subscriber_receiver(sub))
				    ->want);
}

static int victim(void *arg)
{
	floe_node *node = th_node("victim");
	floe_service *svc = NULL;
	floe_subscriber *sub = NULL;
	struct floe_service_opts o = { .type = u64_type };

	(void)arg;
	if (!node || floe_service_open(node, SERVICE, &o, &svc) ||
	    floe_subscriber_create(svc, NULL, &sub))
		return 1;
	floe_subscriber_fd(sub); /* FLOE_WANT_FD */
	floe_subscriber_wait(sub, 60000 * MS); /* a sleeper */
	return 0;
}

int main(void)
{
	floe_node *node = NULL;
	floe_service *svc = NULL;
	floe_subscriber *sub = NULL;
	struct floe_service_opts o = { .type = u64_type };
	struct floe_pubsub_qos q;
	uint32_t want;
	pid_t pid;

	th_setup("stalew");
	floe_pubsub_qos_init(&q);
	q.max_subscribers = 1;
	o.qos = &q;
	tap_require(floe_node_create("main", NULL, &node) == 0, "node");
	tap_require(floe_service_create(node, SERVICE, &o, &svc) == 0, "svc");
	pid = th_fork(victim, NULL);
	th_sleep_ms(500);
	th_kill(pid);
	/* the one slot is the dead one's: reclaimed by this create */
	for (int i = 0; i < 100 && floe_subscriber_create(svc, NULL, &sub); i++)
		th_sleep_ms(20);
	tap_require(sub != NULL, "subscriber in the dead one's slot");
	want = want_of(sub);
	tap_ok((want & ~FLOE_WANT_FENCE) == 0,
	       "fresh subscriber's wake cell asks for nothing (want 0x%x: "
	       "%u sleepers, fd %d)", want, want & FLOE_WANT_SLEEPERS,
	       !!(want & FLOE_WANT_FD));
	floe_subscriber_destroy(sub);
	floe_service_close(svc);
	/* the victim's node record */
	floe_node_cleanup_dead(node);
	floe_node_destroy(node);
	return tap_done();
}
