// SPDX-License-Identifier: MIT
/*
 * Deaths on an event service.
 *
 * Notifiers: FLOE_DEATH_ROUNDS times (default 40) a notifier process is
 * SIGKILLed at a random moment, mostly in the middle of a storm of
 * notifies, sometimes while it is still setting up. The service has two
 * notifier slots, so new notifiers can only be created because the dead
 * ones' slots are reclaimed. Meanwhile the listener (this process) keeps
 * taking events; afterwards a fresh notifier process still wakes it.
 *
 * Listeners: a listener process (armed with a descriptor, asleep in
 * poll) is SIGKILLed. Notifiers keep working and stop counting it once its
 * slot is reclaimed (with the module: by the next notify, which sees the
 * death; with shm: by floe_node_cleanup_dead). A new listener takes the
 * freed slot and starts with a clean cell: nothing of what was fired at
 * the dead one shows up, and it hears exactly what is notified next.
 *
 * Finally, after cleanup, no shared object of the domain remains.
 */
#include "helpers.h"

#define SERVICE "t/event/death"
#define ID_MAX 1023

struct storm_arg {
	struct th_pipe ready;
};

/* Notify random ids as fast as possible until killed. */
static int storm_process(void *arg)
{
	struct storm_arg *sa = arg;
	floe_node *node = th_node("storm");
	floe_service *svc = NULL;
	floe_notifier *n = NULL;
	int r;

	if (th_open_notifier(node, SERVICE, &svc, &n))
		return 1;
	th_send_u64(&sa->ready, 1);
	for (;;) {
		r = floe_notifier_notify(n, th_rand_below(ID_MAX + 1));
		if (!th_check(r >= 1, "notify: %d", r))
			return 1;
	}
}

/* Notify @arg (an id) once, then leave in order. */
static int one_shot_process(void *arg)
{
	uint64_t id = (uint64_t)(uintptr_t)arg;
	floe_node *node = th_node("one-shot");
	floe_service *svc = NULL;
	floe_notifier *n = NULL;
	int r;

	if (th_open_notifier(node, SERVICE, &svc, &n))
		return 1;
	r = floe_notifier_notify(n, id);
	th_check(r >= 1, "notify reached %d", r);
	floe_notifier_destroy(n);
	floe_service_close(svc);
	floe_node_destroy(node);
	return th_child_result();
}

/* The ids one wait reported. */
struct heard {
	uint64_t ids[ID_MAX + 1];
	int n;
};

static void record(uint64_t id, void *ctx)
{
	struct heard *h = ctx;

	if (h->n <= ID_MAX)
		h->ids[h->n++] = id;
}

struct listen_arg {
	struct th_pipe ready, heard;
	int use_fd;
};

/* A listener reporting every id it hears, until killed. */
static int listener_process(void *arg)
{
	struct listen_arg *la = arg;
	floe_node *node = th_node("listener");
	floe_service *svc = NULL;
	floe_listener *l = NULL;
	int r, fd = -1;

	if (!node)
		return 1;
	r = floe_event_open(node, SERVICE, NULL, &svc);
	if (!th_check(r == 0, "open: %s", floe_strerror(r)))
		return 1;
	r = floe_listener_create(svc, &l);
	if (!th_check(r == 0, "listener: %s", floe_strerror(r)))
		return 1;
	if (la->use_fd) {
		fd = floe_listener_fd(l);
		if (!th_check(fd >= 0, "fd: %s", floe_strerror(fd)))
			return 1;
	}
	/* a fresh cell: nothing pending */
	th_send_u64(&la->ready, (uint64_t)floe_listener_try_wait(l, NULL, NULL));
	for (;;) {
		struct heard h = { .n = 0 };

		if (fd >= 0) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };

			if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
				return 1;
			floe_listener_try_wait(l, record, &h);
		} else {
			floe_listener_blocking_wait(l, record, &h);
		}
		for (int i = 0; i < h.n; i++)
			th_send_u64(&la->heard, h.ids[i]);
	}
}

static int listener_count(floe_notifier *n)
{
	return floe_notifier_notify(n, 0);
}

int main(void)
{
	const char *domain = th_setup("evdeath");
	long rounds = th_env_long("FLOE_DEATH_ROUNDS", 40);
	struct floe_event_qos q;
	struct floe_event_opts eo = { .qos = &q };
	struct storm_arg sa = { { -1, -1 } };
	struct listen_arg la = { { -1, -1 }, { -1, -1 }, 1 };
	floe_node *node = NULL;
	floe_service *svc = NULL;
	floe_listener *l0 = NULL;
	floe_notifier *n0 = NULL;
	uint64_t taken = 0, v, heard;
	int kills = 0, setup_kills = 0, r, ok;
	bool kmod;
	pid_t pid;

	tap_plan(18);
	tap_require(floe_node_create("death", NULL, &node) == 0, "node");
	kmod = floe_node_backend(node) == FLOE_BACKEND_KMOD;
	floe_event_qos_init(&q);
	q.max_notifiers = 2;
	q.max_listeners = 2;
	q.event_id_max = ID_MAX;
	r = floe_event_create(node, SERVICE, &eo, &svc);
	tap_require(r == 0, "event service (%s)", floe_strerror(r));
	tap_require(floe_listener_create(svc, &l0) == 0, "listener");
	tap_require(th_pipe_init(&sa.ready) == 0, "pipe");

	/* ---- notifiers killed mid-storm ---- */
	for (long round = 0; round < rounds; round++) {
		int early = th_rand_below(5) == 0;

		pid = th_fork(storm_process, &sa);
		if (pid < 0)
			break;
		if (early) {
			/* somewhere in node/service/notifier setup */
			th_sleep_us(th_rand_below(3000));
			setup_kills++;
		} else {
			uint64_t until;

			if (th_recv_u64(&sa.ready, &v, 10000))
				tap_diag("round %ld: storm never got ready",
					 round);
			/* listen to the storm for a while, then kill it */
			until = th_now_ns() + th_rand_below(5000) * 1000;
			while (th_now_ns() < until) {
				r = floe_listener_timed_wait(l0, 1000000,
							     NULL, NULL);
				if (r > 0)
					taken += (uint64_t)r;
			}
		}
		th_kill(pid);
		kills++;
		/* a storm killed before "ready" may still have said it */
		while (th_pending(&sa.ready))
			th_recv_u64(&sa.ready, &v, 100);
	}
	tap_ok(kills == rounds && taken > 0,
	       "%d notifiers killed (%d during setup); the listener took %"
	       PRIu64 " events meanwhile", kills, setup_kills, taken);
	floe_listener_try_wait(l0, NULL, NULL);

	/* The listener still works, and new notifiers get slots. */
	pid = th_fork(one_shot_process, (void *)(uintptr_t)42);
	ok = 0;
	for (int i = 0; i < 50 && !ok; i++) {
		static struct heard h;

		h.n = 0;
		floe_listener_timed_wait(l0, 100000000, record, &h);
		for (int k = 0; k < h.n; k++)
			ok |= h.ids[k] == 42;
	}
	tap_ok(ok, "a new notifier process wakes the listener");
	tap_eq(th_wait(pid, 30000), 0, "new notifier's checks passed");
	tap_require(floe_notifier_create(svc, &n0) == 0,
		    "and this process gets a notifier slot as well");

	/* ---- a listener killed ---- */
	tap_require(th_pipe_init(&la.ready) == 0 && th_pipe_init(&la.heard) == 0,
		    "pipes");
	pid = th_fork(listener_process, &la);
	tap_require(pid > 0 && th_recv_u64(&la.ready, &v, 10000) == 0,
		    "listener process up");
	tap_eq(floe_notifier_notify(n0, 5), 2, "notify reaches both listeners");
	r = th_recv_u64(&la.heard, &heard, 10000);
	tap_ok(r == 0 && heard == 5, "the listener process heard it");
	th_sleep_ms(20); /* back asleep in poll */
	th_kill(pid);
	floe_listener_try_wait(l0, NULL, NULL);

	/* Fire at the dead one: the next owner of its cell must not see it. */
	r = floe_notifier_notify(n0, 77);
	tap_ok(r == 1 || r == 2, "notify with a dead listener works (%d)", r);
	if (kmod) {
		/* the module reported the death: the next notify reclaims */
		r = listener_count(n0);
		tap_eq(r, 1, "kmod: the dead listener is no longer counted");
	} else {
		r = floe_node_cleanup_dead(node);
		tap_ok(r >= 1 && listener_count(n0) == 1,
		       "shm: after cleanup (%d dead nodes) the dead listener "
		       "is no longer counted", r);
	}
	floe_listener_try_wait(l0, NULL, NULL);

	/* The freed slot serves a new listener with a clean cell. */
	la.use_fd = 0;
	pid = th_fork(listener_process, &la);
	r = pid > 0 ? th_recv_u64(&la.ready, &v, 10000) : -1;
	tap_ok(r == 0 && v == 0,
	       "a new listener takes the slot, nothing pending (%" PRIu64 ")",
	       v);
	tap_eq(floe_notifier_notify(n0, 9), 2, "notify reaches both again");
	r = th_recv_u64(&la.heard, &heard, 10000);
	tap_ok(r == 0 && heard == 9 && !th_pending(&la.heard),
	       "the new listener hears exactly the new event");
	th_kill(pid);

	floe_notifier_destroy(n0);
	floe_listener_destroy(l0);
	floe_service_close(svc);
	floe_node_cleanup_dead(node);
	floe_node_destroy(node);
	th_pipe_close(&sa.ready);
	th_pipe_close(&la.ready);
	th_pipe_close(&la.heard);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
