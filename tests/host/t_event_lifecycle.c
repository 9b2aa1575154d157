// SPDX-License-Identifier: MIT
/*
 * An event service's QoS beyond ids: lifecycle events (every listener
 * gets the configured id when a notifier is created, destroyed, or found
 * dead after its process was SIGKILLed) and a deadline (a notify after a
 * longer silence is delivered and says FLOE_E_MISSED_DEADLINE; a
 * listener's wait and a waitset report a silent service). Without them
 * (the defaults) nothing extra is signalled.
 */
#include "helpers.h"

#define SERVICE "t/event/lifecycle"
#define PLAIN "t/event/plain"
#define CREATED 1
#define DROPPED 2
#define DEAD 3
#define DEADLINE_MS 200

struct ids {
	uint64_t bits;
};

static void collect(uint64_t id, void *ctx)
{
	((struct ids *)ctx)->bits |= 1ULL << id;
}

/* The ids @l receives within 5 s (at least one wait). */
static uint64_t ids_within(floe_listener *l, uint64_t want)
{
	struct ids got = { 0 };
	uint64_t deadline = th_now_ns() + 5000000000ull;

	do
		floe_listener_timed_wait(l, 100000000ull, collect, &got);
	while ((got.bits & want) != want && th_now_ns() < deadline);
	return got.bits;
}

static struct floe_event_opts lifecycle_opts(struct floe_event_qos *q)
{
	floe_event_qos_init(q);
	q->event_id_max = 63;
	q->lifecycle = FLOE_EVENT_NOTIFIER_CREATED |
		       FLOE_EVENT_NOTIFIER_DROPPED | FLOE_EVENT_NOTIFIER_DEAD;
	q->notifier_created_event = CREATED;
	q->notifier_dropped_event = DROPPED;
	q->notifier_dead_event = DEAD;
	q->deadline_ns = DEADLINE_MS * 1000000ull;
	return (struct floe_event_opts){ .qos = q };
}

static int notifier_child(void *arg)
{
	struct th_pipe *ready = arg;
	floe_node *node = th_node("notifier");
	floe_service *svc = NULL;
	floe_notifier *n = NULL;

	if (!node || !th_check(!floe_event_open(node, SERVICE, NULL, &svc) &&
				       !floe_notifier_create(svc, &n),
			       "notifier"))
		return 1;
	th_send_u64(ready, 1);
	for (;;)
		pause();
}

static int on_trigger(floe_waitset *ws, int id, enum floe_trigger t,
		      void *user)
{
	(void)ws;
	(void)id;
	*(enum floe_trigger *)user = t;
	return 1;
}

int main(void)
{
	const char *domain = th_setup("evlife");
	floe_node *node = th_node("listener");
	struct floe_event_qos q, got;
	struct floe_event_opts o = lifecycle_opts(&q);
	floe_service *svc = NULL, *plain = NULL;
	floe_listener *l = NULL, *pl = NULL;
	floe_notifier *n = NULL, *pn = NULL;
	floe_waitset *ws = NULL;
	enum floe_trigger trig = 0;
	struct th_pipe ready;
	uint64_t t0, v;
	int r;
	pid_t pid;

	tap_plan(21);
	q.notifier_dead_event = 64;
	tap_eq(floe_event_create(node, SERVICE, &o, &svc), FLOE_E_INVALID,
	       "a lifecycle id beyond event_id_max: FLOE_E_INVALID");
	q.notifier_dead_event = DEAD;
	tap_require(!floe_event_create(node, SERVICE, &o, &svc), "service");
	floe_event_qos(svc, &got);
	tap_ok(got.lifecycle == (FLOE_EVENT_NOTIFIER_CREATED |
				 FLOE_EVENT_NOTIFIER_DROPPED |
				 FLOE_EVENT_NOTIFIER_DEAD) &&
		       got.notifier_created_event == CREATED &&
		       got.notifier_dropped_event == DROPPED &&
		       got.notifier_dead_event == DEAD &&
		       got.deadline_ns == DEADLINE_MS * 1000000ull,
	       "the QoS reads back");
	tap_require(!floe_listener_create(svc, &l), "listener");

	tap_require(!floe_notifier_create(svc, &n), "notifier");
	tap_eq(ids_within(l, 1 << CREATED), 1 << CREATED,
	       "created: its id, nothing else");
	floe_notifier_destroy(n);
	tap_eq(ids_within(l, 1 << DROPPED), 1 << DROPPED, "destroyed: its id");

	th_pipe_init(&ready);
	pid = th_fork(notifier_child, &ready);
	tap_require(th_recv_u64(&ready, &v, 10000) == 0, "a notifier process");
	tap_eq(ids_within(l, 1 << CREATED), 1 << CREATED, "its creation");
	th_kill(pid);
	floe_node_cleanup_dead(node);
	tap_eq(ids_within(l, 1 << DEAD), 1 << DEAD,
	       "SIGKILLed, then reclaimed: the dead id");

	/* the deadline */
	tap_require(!floe_notifier_create(svc, &n), "notifier");
	floe_listener_try_wait(l, NULL, NULL);
	t0 = th_now_ns();
	r = floe_listener_timed_wait(l, 10000000000ull, NULL, NULL);
	tap_ok(r == FLOE_E_MISSED_DEADLINE &&
		       th_now_ns() - t0 < 5000000000ull,
	       "a silent service: the wait says FLOE_E_MISSED_DEADLINE (%d)",
	       r);
	tap_eq(floe_listener_timed_wait(l, DEADLINE_MS / 4 * 1000000ull, NULL,
					NULL),
	       0, "a shorter timeout than the deadline: 0");
	th_sleep_ms(DEADLINE_MS + 100);
	tap_eq(floe_notifier_notify(n, 5), FLOE_E_MISSED_DEADLINE,
	       "a notify after a longer silence: FLOE_E_MISSED_DEADLINE");
	tap_eq(ids_within(l, 1 << 5), 1 << 5, "and it was delivered");
	tap_eq(floe_notifier_notify(n, 5), 1, "a prompt notify: 1 listener");

	tap_require(!floe_waitset_create(NULL, &ws) &&
			    floe_waitset_attach_listener(ws, l, 0, &trig) >= 0,
		    "waitset");
	floe_listener_try_wait(l, NULL, NULL);
	r = floe_waitset_run_once(ws, 10000000000ull, on_trigger);
	tap_ok(r == 1 && trig == FLOE_TRIGGER_MISSED_DEADLINE,
	       "the waitset uses the service's deadline");
	floe_waitset_destroy(ws);

	/* defaults: nothing extra */
	tap_require(!floe_event_create(node, PLAIN, NULL, &plain) &&
			    !floe_listener_create(plain, &pl) &&
			    !floe_notifier_create(plain, &pn),
		    "a service with default QoS");
	floe_notifier_destroy(pn);
	tap_eq(floe_listener_timed_wait(pl, 300000000ull, NULL, NULL), 0,
	       "defaults: no lifecycle events, no deadline");

	floe_listener_destroy(pl);
	floe_service_close(plain);
	floe_notifier_destroy(n);
	floe_listener_destroy(l);
	floe_service_close(svc);
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
