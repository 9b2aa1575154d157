// SPDX-License-Identifier: MIT
/*
 * Listener deadlines, on each engine. Two listeners attached with a
 * 100 ms deadline, on two services; a notifier process fires the "busy"
 * one every 20 ms and leaves the "silent" one alone. No MISSED_DEADLINE is
 * ever reported less than a deadline after the listener's last event (or
 * its attachment), nor more often than once a deadline: over a second the
 * busy listener
 * is notified often and (on a machine not too loaded to notify every
 * 20 ms) misses nothing, the silent one misses about every period (the
 * first one period after attaching, never earlier). A single notify of the
 * silent listener restarts its deadline: the next MISSED_DEADLINE comes a
 * whole period after that NOTIFIED. When the busy one falls silent its
 * deadline is missed; a detached listener reports nothing more. Upper
 * bounds on lateness are loose: a loaded or emulated machine is slow.
 */
#include "helpers.h"

#define SERVICE_BUSY "t/ws/deadline/busy"
#define SERVICE_SILENT "t/ws/deadline/silent"
#define MS UINT64_C(1000000)
#define DEADLINE_MS 100
#define CHECKS_PER_ENGINE 9

enum command {
	BUSY_ON = 1,	/* notify the busy service every 20 ms */
	BUSY_OFF,
	POKE_SILENT,	/* notify the silent service once */
	QUIT,
};

static struct th_pipe cmd, ack;

static int notifier_process(void *arg)
{
	floe_node *node = th_node("notifier");
	floe_service *busy_svc = NULL, *silent_svc = NULL;
	floe_notifier *busy = NULL, *silent = NULL;
	bool busy_on = false;
	uint64_t c = 0;
	int r;

	(void)arg;
	if (!node)
		return 1;
	r = floe_event_open(node, SERVICE_BUSY, NULL, &busy_svc);
	if (!r)
		r = floe_event_open(node, SERVICE_SILENT, NULL, &silent_svc);
	if (!r)
		r = floe_notifier_create(busy_svc, &busy);
	if (!r)
		r = floe_notifier_create(silent_svc, &silent);
	if (!th_check(r == 0, "notifiers: %s", floe_strerror(r)))
		return 1;
	th_send_u64(&ack, 0);
	while (c != QUIT) {
		if (busy_on)
			floe_notifier_notify(busy, 1);
		/* a command, or 20 ms passing without one */
		if (th_recv_u64(&cmd, &c, busy_on ? 20 : 60000)) {
			if (!busy_on)
				break;
			continue;
		}
		if (c == BUSY_ON || c == BUSY_OFF)
			busy_on = c == BUSY_ON;
		else if (c == POKE_SILENT)
			th_check_eq(floe_notifier_notify(silent, 2), 1,
				    "notify the silent listener");
		th_send_u64(&ack, c);
	}
	floe_notifier_destroy(busy);
	floe_notifier_destroy(silent);
	floe_service_close(busy_svc);
	floe_service_close(silent_svc);
	floe_node_destroy(node);
	return th_child_result();
}

static int command(uint64_t c)
{
	uint64_t got = 0;

	if (th_send_u64(&cmd, c) || th_recv_u64(&ack, &got, 10000))
		return -1;
	return got == c ? 0 : -1;
}

struct watched {
	floe_listener *listener;
	int id;
	int notified, missed, other;
	int early; /* misses less than a deadline after the last event */
	uint64_t attached_ns, last_notified_ns, first_missed_ns,
		last_missed_ns;
};

static uint64_t latest(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static int on_trigger(floe_waitset *ws, int id, enum floe_trigger trigger,
		      void *user)
{
	struct watched *w = user;
	uint64_t now = th_now_ns();

	(void)ws;
	if (id != w->id) {
		w->other++;
	} else if (trigger == FLOE_TRIGGER_NOTIFIED) {
		w->notified++;
		w->last_notified_ns = now;
		floe_listener_try_wait(w->listener, NULL, NULL);
	} else if (trigger == FLOE_TRIGGER_MISSED_DEADLINE) {
		/* (misses keep the timer's schedule, so one reported late
		 * may be followed closely by the next) */
		uint64_t since = latest(w->attached_ns, w->last_notified_ns);

		/* 5 ms of timer slack */
		w->early += now - since < (DEADLINE_MS - 5) * MS;
		if (!w->missed++)
			w->first_missed_ns = now;
		w->last_missed_ns = now;
	} else {
		w->other++;
	}
	return 0;
}

/* Forget what was counted; the deadline's reference times stay. */
static void clear(struct watched *w)
{
	w->notified = w->missed = w->other = w->early = 0;
	w->first_missed_ns = 0;
}

static void run_for(floe_waitset *ws, uint64_t ms)
{
	uint64_t end = th_now_ns() + ms * MS;

	for (uint64_t now = th_now_ns(); now < end; now = th_now_ns())
		floe_waitset_run_once(ws, end - now, on_trigger);
}

/* Run until @w reports MISSED_DEADLINE or @ms passed. */
static void run_until_missed(floe_waitset *ws, struct watched *w, uint64_t ms)
{
	uint64_t end = th_now_ns() + ms * MS;

	for (uint64_t now = th_now_ns(); !w->missed && now < end;
	     now = th_now_ns())
		floe_waitset_run_once(ws, end - now, on_trigger);
}

static void run_engine(enum floe_waitset_impl impl, floe_service *busy_svc,
		       floe_service *silent_svc)
{
	struct floe_waitset_opts opts = { .impl = impl };
	const char *name = floe_waitset_impl_name(impl);
	struct watched busy = { 0 }, silent = { 0 };
	floe_waitset *ws = NULL;
	uint64_t t0, gap;
	int r;

	tap_diag("engine %s", name);
	r = floe_waitset_create(&opts, &ws);
	if (r == FLOE_E_BACKEND && impl == FLOE_WAITSET_IO_URING) {
		for (int i = 0; i < CHECKS_PER_ENGINE; i++)
			tap_ok(1, "# SKIP io_uring unavailable");
		return;
	}
	tap_require(r == 0, "%s: create (%s)", name, floe_strerror(r));
	tap_require(floe_listener_create(busy_svc, &busy.listener) == 0 &&
		    floe_listener_create(silent_svc, &silent.listener) == 0,
		    "listeners");

	command(BUSY_ON);
	t0 = th_now_ns();
	busy.attached_ns = silent.attached_ns = t0;
	busy.id = floe_waitset_attach_listener(ws, busy.listener,
					       DEADLINE_MS * MS, &busy);
	silent.id = floe_waitset_attach_listener(ws, silent.listener,
						 DEADLINE_MS * MS, &silent);
	run_for(ws, 1000);
	tap_ok(!busy.early && busy.notified >= 10 && !busy.other,
	       "notified every 20 ms (%d times): no MISSED_DEADLINE within a "
	       "deadline of an event (%d missed, %d early)", busy.notified,
	       busy.missed, busy.early);
	tap_ok(!silent.early && silent.missed >= 2 && silent.missed <= 10 &&
		       !silent.notified && !silent.other,
	       "silent for 1 s: MISSED_DEADLINE %d times (2..10), none early",
	       silent.missed);
	gap = silent.first_missed_ns - t0;
	tap_ok(gap >= DEADLINE_MS * MS && gap < 10 * DEADLINE_MS * MS,
	       "the first one a period after attaching (%" PRIu64 " ms)",
	       gap / MS);

	/* One notify half-way through a period restarts the silent
	 * listener's deadline: the next miss comes a whole period later,
	 * not half a period. */
	clear(&silent);
	run_until_missed(ws, &silent, 1000);
	th_sleep_ms(DEADLINE_MS / 2);
	clear(&silent);
	command(POKE_SILENT);
	for (uint64_t end = th_now_ns() + 5000 * MS;
	     !silent.notified && th_now_ns() < end;)
		floe_waitset_run_once(ws, 100 * MS, on_trigger);
	silent.missed = 0;	/* due in the same batch as the notify */
	run_until_missed(ws, &silent, 1000);
	gap = silent.first_missed_ns - silent.last_notified_ns;
	tap_ok(silent.notified == 1 && silent.missed == 1 &&
	       gap >= (DEADLINE_MS - 5) * MS && gap < 10 * DEADLINE_MS * MS,
	       "a notify restarts the deadline: next MISSED_DEADLINE %" PRIu64
	       " ms after the NOTIFIED", gap / MS);

	/* The busy one falls silent. */
	clear(&busy);
	command(BUSY_OFF);
	t0 = th_now_ns();
	run_until_missed(ws, &busy, 1000);
	gap = busy.first_missed_ns - t0;
	tap_ok(busy.missed == 1 && !busy.early && gap < 10 * DEADLINE_MS * MS,
	       "the busy one falls silent: MISSED_DEADLINE after %" PRIu64
	       " ms", gap / MS);

	/* Detached: nothing more. */
	tap_eq(floe_waitset_detach(ws, silent.id), 0, "detach the silent one");
	clear(&silent);
	clear(&busy);
	run_for(ws, 3 * DEADLINE_MS);
	tap_ok(!silent.missed && !silent.other && busy.missed >= 1 &&
		       !busy.early,
	       "a detached listener reports nothing (the other goes on: %d)",
	       busy.missed);

	floe_waitset_destroy(ws);
	floe_listener_destroy(busy.listener);
	floe_listener_destroy(silent.listener);
}

int main(void)
{
	const char *domain = th_setup("wsdead");
	floe_node *node = NULL;
	floe_service *busy_svc = NULL, *silent_svc = NULL;
	uint64_t ready;
	pid_t pid;
	int r;

	tap_plan(2 * CHECKS_PER_ENGINE + 6);
	tap_require(floe_node_create("deadline", NULL, &node) == 0, "node");
	r = floe_event_create(node, SERVICE_BUSY, NULL, &busy_svc);
	if (!r)
		r = floe_event_create(node, SERVICE_SILENT, NULL, &silent_svc);
	tap_require(r == 0, "services (%s)", floe_strerror(r));
	tap_require(th_pipe_init(&cmd) == 0 && th_pipe_init(&ack) == 0,
		    "pipes");
	pid = th_fork(notifier_process, NULL);
	tap_require(th_recv_u64(&ack, &ready, 30000) == 0,
		    "notifier process up");

	run_engine(FLOE_WAITSET_IO_URING, busy_svc, silent_svc);
	run_engine(FLOE_WAITSET_EPOLL, busy_svc, silent_svc);

	th_send_u64(&cmd, QUIT);
	tap_eq(th_wait(pid, 30000), 0, "notifier process's checks passed");
	floe_service_close(busy_svc);
	floe_service_close(silent_svc);
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
