// SPDX-License-Identifier: MIT
/*
 * WaitSet and listeners, on each engine: the shape of examples/waitset.c,
 * two event services with a listener each plus an interval in one
 * waitset, and a notifier process per service. Each notify is reported
 * as NOTIFIED for its own service's attachment, and the callback's
 * floe_listener_try_wait yields exactly the ids fired; both services
 * firing at once give both reports; ticks go on meanwhile. A listener the
 * callback does not consume is reported again (level-triggered); a
 * listener cannot be attached twice, nor its descriptor beside it; after
 * detach (or destroy) nothing is reported and the listener itself still
 * works.
 */
#include "helpers.h"

#define SERVICE_A "t/ws/listener/a"
#define SERVICE_B "t/ws/listener/b"
#define CHECKS_PER_ENGINE 15
#define CMD_QUIT UINT64_MAX
#define MS UINT64_C(1000000)

struct notifier_arg {
	const char *service;
	struct th_pipe cmd, ack;
};

/* What the callbacks saw: per attachment, ids and triggers. */
struct watched {
	floe_listener *listener;
	int id;
	int notified, missed, ticks;
	uint64_t ids;	/* bit per event id < 64 */
	int nids;
};

static bool consume = true;

static void record_id(uint64_t event_id, void *ctx)
{
	struct watched *w = ctx;

	if (event_id < 64)
		w->ids |= 1ull << event_id;
	w->nids++;
}

static int on_trigger(floe_waitset *ws, int id, enum floe_trigger trigger,
		      void *user)
{
	struct watched *w = user;

	(void)ws;
	(void)id;
	switch (trigger) {
	case FLOE_TRIGGER_NOTIFIED:
		w->notified++;
		if (consume)
			floe_listener_try_wait(w->listener, record_id, w);
		break;
	case FLOE_TRIGGER_TICK:
		w->ticks++;
		break;
	default:
		w->missed++;
		break;
	}
	return 0;
}

/* Open @service (created by the parent) and notify the ids commanded. */
static int notifier_process(void *arg)
{
	struct notifier_arg *na = arg;
	floe_node *node = th_node("notifier");
	floe_service *svc = NULL;
	floe_notifier *n = NULL;
	uint64_t c;
	int r;

	if (th_open_notifier(node, na->service, &svc, &n))
		return 1;
	th_send_u64(&na->ack, 0);
	while (th_recv_u64(&na->cmd, &c, 60000) == 0 && c != CMD_QUIT) {
		r = floe_notifier_notify(n, c);
		th_check_eq(r, 1, "notify %" PRIu64 " reaches the listener",
			    c);
		th_send_u64(&na->ack, c);
	}
	floe_notifier_destroy(n);
	floe_service_close(svc);
	floe_node_destroy(node);
	return th_child_result();
}

static int notify(struct notifier_arg *na, uint64_t id)
{
	uint64_t got = ~id;

	if (th_send_u64(&na->cmd, id) || th_recv_u64(&na->ack, &got, 10000))
		return -1;
	return got == id ? 0 : -1;
}

static void clear(struct watched *w)
{
	w->notified = w->missed = w->ticks = w->nids = 0;
	w->ids = 0;
}

/* Run until @w was notified (or 5 s passed). */
static void run_until_notified(floe_waitset *ws, struct watched *w)
{
	uint64_t end = th_now_ns() + 5000 * MS;

	while (!w->notified && th_now_ns() < end)
		floe_waitset_run_once(ws, end - th_now_ns(), on_trigger);
}

static void run_engine(enum floe_waitset_impl impl, floe_service *sa,
		       floe_service *sb, struct notifier_arg *na,
		       struct notifier_arg *nb)
{
	struct floe_waitset_opts opts = { .impl = impl };
	const char *name = floe_waitset_impl_name(impl);
	struct watched a = { 0 }, b = { 0 }, timer = { 0 };
	floe_waitset *ws = NULL;
	floe_listener *la = NULL, *lb = NULL;
	int r, fd;

	tap_diag("engine %s", name);
	r = floe_waitset_create(&opts, &ws);
	if (r == FLOE_E_BACKEND && impl == FLOE_WAITSET_IO_URING) {
		for (int i = 0; i < CHECKS_PER_ENGINE; i++)
			tap_ok(1, "# SKIP io_uring unavailable");
		return;
	}
	tap_require(r == 0, "%s: create (%s)", name, floe_strerror(r));
	tap_require(floe_listener_create(sa, &la) == 0 &&
		    floe_listener_create(sb, &lb) == 0, "listeners");
	a.listener = la;
	b.listener = lb;
	a.id = floe_waitset_attach_listener(ws, la, 0, &a);
	b.id = floe_waitset_attach_listener(ws, lb, 0, &b);
	timer.id = floe_waitset_attach_interval(ws, 20 * MS, &timer);
	tap_ok(a.id == 0 && b.id == 1 && timer.id == 2,
	       "two listeners and an interval attached");
	tap_eq(floe_waitset_attach_listener(ws, la, 0, NULL), FLOE_E_ATTACHED,
	       "the same listener twice: exists");
	fd = floe_listener_fd(la);
	tap_eq(floe_waitset_attach_fd(ws, fd, NULL), FLOE_E_ATTACHED,
	       "the listener's descriptor as a plain fd: exists");

	notify(na, 3);
	run_until_notified(ws, &a);
	tap_ok(a.notified == 1 && a.ids == 1u << 3 && a.nids == 1 &&
	       !b.notified, "service A's notify: NOTIFIED for A, id 3 only");
	clear(&a);
	notify(nb, 5);
	notify(nb, 9);
	run_until_notified(ws, &b);
	tap_ok(b.notified == 1 && b.ids == (1u << 5 | 1u << 9) &&
	       b.nids == 2 && !a.notified,
	       "service B's two notifies: NOTIFIED for B, ids 5 and 9");
	clear(&b);

	notify(na, 1);
	notify(na, 2);
	notify(nb, 7);
	run_until_notified(ws, &a);
	run_until_notified(ws, &b);
	tap_ok(a.notified == 1 && a.ids == (1u << 1 | 1u << 2) &&
	       b.notified == 1 && b.ids == 1u << 7,
	       "both at once: each reported once with its own ids");
	clear(&a);
	clear(&b);
	for (uint64_t end = th_now_ns() + 2000 * MS;
	     timer.ticks < 3 && th_now_ns() < end;)
		floe_waitset_run_once(ws, 100 * MS, on_trigger);
	tap_ok(timer.ticks >= 3 && !timer.missed && !a.notified &&
	       !b.notified, "the interval ticks beside them (%d), no "
	       "spurious NOTIFIED", timer.ticks);

	/* Not consumed: reported again, then consumed: quiet. */
	consume = false;
	notify(na, 4);
	run_until_notified(ws, &a);
	a.notified = 0;
	run_until_notified(ws, &a);
	tap_ok(a.notified == 1 && a.nids == 0,
	       "a listener not consumed is NOTIFIED again");
	consume = true;
	a.notified = 0;
	run_until_notified(ws, &a);
	clear(&a);
	for (uint64_t end = th_now_ns() + 150 * MS; th_now_ns() < end;)
		floe_waitset_run_once(ws, 50 * MS, on_trigger);
	tap_ok(!a.notified && !b.notified, "once consumed, quiet");

	/* Detached: nothing reported, the listener keeps its events. */
	tap_eq(floe_waitset_detach(ws, a.id), 0, "detach A");
	notify(na, 6);
	for (uint64_t end = th_now_ns() + 150 * MS; th_now_ns() < end;)
		floe_waitset_run_once(ws, 50 * MS, on_trigger);
	tap_ok(!a.notified, "a detached listener is not reported");
	clear(&a);
	r = floe_listener_try_wait(la, record_id, &a);
	tap_ok(r == 1 && a.ids == 1u << 6,
	       "the listener itself still has the event (%d)", r);

	/* Destroyed with B attached: B still works on its own. */
	floe_waitset_destroy(ws);
	notify(nb, 8);
	clear(&b);
	r = floe_listener_timed_wait(lb, 5000 * MS, record_id, &b);
	tap_ok(r == 1 && b.ids == 1u << 8,
	       "after destroy, the listener still works (%d)", r);
	floe_listener_destroy(la);
	floe_listener_destroy(lb);
}

int main(void)
{
	const char *domain = th_setup("wslist");
	struct notifier_arg na = { .service = SERVICE_A };
	struct notifier_arg nb = { .service = SERVICE_B };
	floe_node *node = NULL;
	floe_service *sa = NULL, *sb = NULL;
	pid_t pa, pb;
	uint64_t ready;
	int r;

	tap_plan(2 * CHECKS_PER_ENGINE + 6);
	tap_require(floe_node_create("waitset", NULL, &node) == 0, "node");
	r = floe_event_create(node, SERVICE_A, NULL, &sa);
	if (!r)
		r = floe_event_create(node, SERVICE_B, NULL, &sb);
	tap_require(r == 0, "two event services (%s)", floe_strerror(r));
	tap_require(th_pipe_init(&na.cmd) == 0 && th_pipe_init(&na.ack) == 0 &&
		    th_pipe_init(&nb.cmd) == 0 && th_pipe_init(&nb.ack) == 0,
		    "pipes");
	pa = th_fork(notifier_process, &na);
	pb = th_fork(notifier_process, &nb);
	tap_require(th_recv_u64(&na.ack, &ready, 30000) == 0 &&
		    th_recv_u64(&nb.ack, &ready, 30000) == 0,
		    "notifier processes up");

	run_engine(FLOE_WAITSET_IO_URING, sa, sb, &na, &nb);
	run_engine(FLOE_WAITSET_EPOLL, sa, sb, &na, &nb);

	th_send_u64(&na.cmd, CMD_QUIT);
	th_send_u64(&nb.cmd, CMD_QUIT);
	tap_ok(th_wait(pa, 30000) == 0 && th_wait(pb, 30000) == 0,
	       "notifier processes' checks passed");
	floe_service_close(sa);
	floe_service_close(sb);
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
