// SPDX-License-Identifier: MIT
/*
 * Waiting with and without a deadline:
 *  - timed_wait with nothing fired returns 0 once its timeout passed, not
 *    before and not much after (slack SLACK_MS for loaded machines), for a
 *    range of timeouts, also while signals keep interrupting the wait;
 *  - timed_wait(0) returns at once;
 *  - timed_wait returns early, with the event, when another process
 *    notifies during the wait;
 *  - blocking_wait sleeps until another process notifies, then returns
 *    the id;
 *  - a huge timeout is no error (it is a blocking wait).
 */
#include "helpers.h"

#define SERVICE "t/event/timeout"
#define SLACK_MS 200

struct child_arg {
	struct th_pipe go;  /* parent → child: delay in ms, then the id */
	struct th_pipe fired;
};

/* Notify the requested id after the requested delay, on request. */
static int notifier_process(void *arg)
{
	struct child_arg *ca = arg;
	floe_node *node = th_node("notifier");
	floe_service *svc = NULL;
	floe_notifier *n = NULL;
	uint64_t delay_ms, id, t;
	int r;

	if (th_open_notifier(node, SERVICE, &svc, &n))
		return 1;
	while (th_recv_u64(&ca->go, &delay_ms, 60000) == 0 &&
	       delay_ms != UINT64_MAX) {
		if (th_recv_u64(&ca->go, &id, 10000))
			break;
		th_sleep_ms(delay_ms);
		/* the listener cannot have its event before this moment */
		t = th_now_ns();
		r = floe_notifier_notify(n, id);
		th_check_eq(r, 1, "notify %" PRIu64, id);
		th_send_u64(&ca->fired, t);
	}
	floe_notifier_destroy(n);
	floe_service_close(svc);
	floe_node_destroy(node);
	return th_child_result();
}

/* Another process interrupting us with SIGUSR1 every @period_us. */
static int signaller_process(void *arg)
{
	pid_t target = getppid();

	for (;;) {
		kill(target, SIGUSR1);
		th_sleep_us((uint64_t)(uintptr_t)arg);
	}
	return 0;
}

static volatile sig_atomic_t signals_seen;

static void on_usr1(int sig)
{
	(void)sig;
	signals_seen++;
}

struct seen {
	uint64_t id;
	int n;
};

static void record(uint64_t id, void *ctx)
{
	struct seen *s = ctx;

	s->id = id;
	s->n++;
}

static void check_timeout(floe_listener *l, uint64_t timeout_ms,
			  const char *what)
{
	uint64_t t0 = th_now_ns(), elapsed_ms;
	int r = floe_listener_timed_wait(l, timeout_ms * 1000000, NULL, NULL);

	elapsed_ms = (th_now_ns() - t0) / 1000000;
	tap_ok(r == 0 && th_now_ns() - t0 >= timeout_ms * 1000000 &&
		       elapsed_ms <= timeout_ms + SLACK_MS,
	       "timed_wait(%" PRIu64 " ms)%s: 0 after %" PRIu64 " ms (ret %d)",
	       timeout_ms, what, elapsed_ms, r);
}

int main(void)
{
	const char *domain = th_setup("evtime");
	struct floe_event_qos q;
	struct floe_event_opts eo = { .qos = &q };
	struct child_arg ca = { { -1, -1 }, { -1, -1 } };
	uint64_t returned_at;
	struct sigaction sa = { .sa_handler = on_usr1 };
	floe_node *node = NULL;
	floe_service *svc = NULL;
	floe_listener *l = NULL;
	struct seen s;
	uint64_t t0, fired_at = 0, elapsed_ms;
	pid_t child, signaller;
	int r;

	tap_plan(22);
	tap_require(floe_node_create("timeout", NULL, &node) == 0, "node");
	floe_event_qos_init(&q);
	q.max_notifiers = 2;
	q.max_listeners = 2;
	r = floe_event_create(node, SERVICE, &eo, &svc);
	tap_require(r == 0, "event service (%s)", floe_strerror(r));
	tap_require(floe_listener_create(svc, &l) == 0, "listener");

	/* ---- timeouts with nothing fired ---- */
	t0 = th_now_ns();
	r = floe_listener_timed_wait(l, 0, NULL, NULL);
	tap_ok(r == 0 && th_now_ns() - t0 < 50000000ull,
	       "timed_wait(0): 0 at once");
	check_timeout(l, 1, "");
	check_timeout(l, 20, "");
	check_timeout(l, 100, "");
	check_timeout(l, 500, "");

	/* Signals keep interrupting the futex wait (no SA_RESTART): the
	 * wait goes on until its own deadline. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	signaller = th_fork(signaller_process, (void *)(uintptr_t)2000);
	tap_require(signaller > 0, "signaller process");
	check_timeout(l, 300, " under SIGUSR1 every 2 ms");
	th_kill(signaller);
	tap_ok(signals_seen > 10, "signals did interrupt it (%d)",
	       (int)signals_seen);
	signal(SIGUSR1, SIG_IGN);

	/* ---- woken early by another process ---- */
	tap_require(th_pipe_init(&ca.go) == 0 && th_pipe_init(&ca.fired) == 0,
		    "pipes");
	child = th_fork(notifier_process, &ca);
	tap_require(child > 0, "notifier process");

	th_send_u64(&ca.go, 100);
	th_send_u64(&ca.go, 17);
	s.n = 0;
	t0 = th_now_ns();
	r = floe_listener_timed_wait(l, 10000000000ull, record, &s);
	returned_at = th_now_ns();
	elapsed_ms = (returned_at - t0) / 1000000;
	th_recv_u64(&ca.fired, &fired_at, 10000);
	tap_ok(r == 1 && s.n == 1 && s.id == 17,
	       "timed_wait(10 s) returns the id notified meanwhile (ret %d)", r);
	tap_ok(elapsed_ms < 100 + SLACK_MS + 1000,
	       "... early: after %" PRIu64 " ms for a notify at ~100 ms",
	       elapsed_ms);
	tap_ok(fired_at && fired_at <= returned_at,
	       "... and not before the notify");

	/* ---- blocking_wait until another process notifies ---- */
	th_send_u64(&ca.go, 150);
	th_send_u64(&ca.go, 4095);
	s.n = 0;
	t0 = th_now_ns();
	r = floe_listener_blocking_wait(l, record, &s);
	elapsed_ms = (th_now_ns() - t0) / 1000000;
	th_recv_u64(&ca.fired, &fired_at, 10000);
	tap_ok(r == 1 && s.n == 1 && s.id == 4095,
	       "blocking_wait wakes with the id another process notified "
	       "(ret %d)", r);
	tap_ok(elapsed_ms >= 100,
	       "... after sleeping until the notify (%" PRIu64 " ms)",
	       elapsed_ms);

	/* ---- an event already pending: no wait at all ---- */
	th_send_u64(&ca.go, 0);
	th_send_u64(&ca.go, 1);
	th_recv_u64(&ca.fired, &fired_at, 10000);
	t0 = th_now_ns();
	r = floe_listener_timed_wait(l, 5000000000ull, NULL, NULL);
	tap_ok(r == 1 && th_now_ns() - t0 < 100000000ull,
	       "pending event: timed_wait returns at once (ret %d)", r);

	/* ---- a timeout of centuries is a blocking wait, not an error ---- */
	th_send_u64(&ca.go, 50);
	th_send_u64(&ca.go, 2);
	r = floe_listener_timed_wait(l, UINT64_MAX, NULL, NULL);
	th_recv_u64(&ca.fired, &fired_at, 10000);
	tap_eq(r, 1, "timed_wait(UINT64_MAX) waits for the notify");

	th_send_u64(&ca.go, UINT64_MAX);
	tap_eq(th_wait(child, 30000), 0, "notifier process's checks passed");

	floe_listener_destroy(l);
	floe_service_close(svc);
	floe_node_destroy(node);
	th_pipe_close(&ca.go);
	th_pipe_close(&ca.fired);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
