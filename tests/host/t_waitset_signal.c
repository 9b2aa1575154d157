// SPDX-License-Identifier: MIT
/*
 * WaitSet with handle_signals, on each engine, for SIGTERM and SIGINT: a
 * child process sits in floe_waitset_run; the parent signals it (once the
 * child's callback proved it is inside run, with the signals blocked) and
 * run returns FLOE_E_INTERRUPTED within a second. The child then checks
 * that its signal mask is what it was before run and that the signal was
 * consumed, not left pending; a second round does the same through
 * run_once with the signal already pending (blocked by the child itself,
 * which run_once must leave blocked). The child exits 0; had the signal
 * got through, it would have died of it.
 */
#include <pthread.h>

#include "helpers.h"

struct child_arg {
	enum floe_waitset_impl impl;
	int sig;
	struct th_pipe to_child, to_parent;
};

static struct child_arg *self;
static bool announced;

/* Inside run, signals blocked: tell the parent to signal us. */
static int announce(floe_waitset *ws, int id, enum floe_trigger trigger,
		    void *user)
{
	(void)ws;
	(void)id;
	(void)trigger;
	(void)user;
	if (!announced)
		th_send_u64(&self->to_parent, 1);
	announced = true;
	return 0;
}

static bool same_mask(const sigset_t *a, const sigset_t *b)
{
	for (int s = 1; s < SIGRTMAX; s++)
		if (sigismember(a, s) != sigismember(b, s))
			return false;
	return true;
}

static int signalled_process(void *arg)
{
	struct floe_waitset_opts opts = { .impl = 0, .handle_signals = true };
	sigset_t before, after, pending, both;
	floe_waitset *ws = NULL;
	uint64_t go;
	int r;

	self = arg;
	opts.impl = self->impl;
	r = floe_waitset_create(&opts, &ws);
	if (!th_check(r == 0, "create: %s", floe_strerror(r)))
		return 1;
	/* Ticks let the callback announce that run is under way. */
	floe_waitset_attach_interval(ws, 5000000, NULL);

	pthread_sigmask(SIG_BLOCK, NULL, &before);
	r = floe_waitset_run(ws, announce);
	th_send_u64(&self->to_parent, (uint64_t)(int64_t)r);
	pthread_sigmask(SIG_BLOCK, NULL, &after);
	sigpending(&pending);
	th_check(same_mask(&before, &after), "run restores the signal mask");
	th_check(!sigismember(&pending, self->sig), "signal consumed by run");

	/* run_once with the signal pending: blocked by us beforehand. */
	sigemptyset(&both);
	sigaddset(&both, SIGINT);
	sigaddset(&both, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &both, &before);
	pthread_sigmask(SIG_BLOCK, NULL, &after);
	th_send_u64(&self->to_parent, 2);
	th_check(th_recv_u64(&self->to_child, &go, 10000) == 0, "go");
	r = floe_waitset_run_once(ws, 10000000000ull, announce);
	th_send_u64(&self->to_parent, (uint64_t)(int64_t)r);
	pthread_sigmask(SIG_BLOCK, NULL, &pending);
	th_check(same_mask(&after, &pending),
		 "run_once leaves signals blocked that were blocked");
	sigpending(&pending);
	th_check(!sigismember(&pending, self->sig),
		 "signal consumed by run_once");
	pthread_sigmask(SIG_SETMASK, &before, NULL);

	floe_waitset_destroy(ws);
	return th_child_result();
}

static void round_trip(enum floe_waitset_impl impl, int sig)
{
	struct child_arg ca = { .impl = impl, .sig = sig };
	const char *name = floe_waitset_impl_name(impl);
	uint64_t msg = 0, t0, elapsed;
	int r;
	pid_t pid;

	tap_require(th_pipe_init(&ca.to_child) == 0 &&
		    th_pipe_init(&ca.to_parent) == 0, "pipes");
	pid = th_fork(signalled_process, &ca);
	r = th_recv_u64(&ca.to_parent, &msg, 10000);
	t0 = th_now_ns();
	if (!r)
		kill(pid, sig);
	r = r ? r : th_recv_u64(&ca.to_parent, &msg, 10000);
	elapsed = th_now_ns() - t0;
	tap_ok(!r && (int64_t)msg == FLOE_E_INTERRUPTED &&
	       elapsed < 1000000000ull,
	       "%s, %s: run returns FLOE_E_INTERRUPTED in %" PRIu64 " us",
	       name, strsignal(sig), elapsed / 1000);

	r = th_recv_u64(&ca.to_parent, &msg, 10000);
	if (!r && msg == 2) {
		kill(pid, sig);
		th_send_u64(&ca.to_child, 1);
		r = th_recv_u64(&ca.to_parent, &msg, 10000);
	}
	tap_ok(!r && (int64_t)msg == FLOE_E_INTERRUPTED,
	       "%s, %s: run_once with it pending: FLOE_E_INTERRUPTED", name,
	       strsignal(sig));
	tap_eq(th_wait(pid, 10000), 0,
	       "%s, %s: the child's mask restored, signal consumed, exit 0",
	       name, strsignal(sig));
	th_pipe_close(&ca.to_child);
	th_pipe_close(&ca.to_parent);
}

int main(void)
{
	const char *domain = th_setup("wssig");
	static const enum floe_waitset_impl impls[] = {
		FLOE_WAITSET_IO_URING, FLOE_WAITSET_EPOLL,
	};

	tap_plan(17);
	for (size_t i = 0; i < 2; i++) {
		struct floe_waitset_opts opts = { .impl = impls[i] };
		floe_waitset *ws = NULL;

		if (floe_waitset_create(&opts, &ws) == FLOE_E_BACKEND) {
			for (int k = 0; k < 8; k++)
				tap_ok(1, "# SKIP io_uring unavailable");
			continue;
		}
		floe_waitset_destroy(ws);
		round_trip(impls[i], SIGTERM);
		round_trip(impls[i], SIGINT);
	}
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
