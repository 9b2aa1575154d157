// SPDX-License-Identifier: MIT
/*
 * WaitSet intervals and timeouts, on each engine: ticks arrive at their
 * rate (counted over about a second, generous bounds: machines are
 * noisy), two intervals side by side each at its own, the first tick
 * comes one period after attaching, periods that elapsed while nobody
 * ran are reported as one TICK, a detached interval stops ticking even
 * when it was already due, and run_once returns on time (within
 * [timeout, timeout + 200 ms]) when nothing happens, with nothing
 * attached or with quiet attachments.
 */
#include "helpers.h"

#define CHECKS_PER_ENGINE 12
#define MS UINT64_C(1000000)

static int ticks[8];
static int other_triggers;

static int on_trigger(floe_waitset *ws, int id, enum floe_trigger trigger,
		      void *user)
{
	(void)ws;
	(void)user;
	if (trigger == FLOE_TRIGGER_TICK && id >= 0 && id < 8)
		ticks[id]++;
	else
		other_triggers++;
	return 0;
}

static void reset(void)
{
	memset(ticks, 0, sizeof(ticks));
	other_triggers = 0;
}

/* Run for @ms milliseconds. */
static void run_for(floe_waitset *ws, uint64_t ms)
{
	uint64_t end = th_now_ns() + ms * MS;

	for (uint64_t now = th_now_ns(); now < end; now = th_now_ns())
		floe_waitset_run_once(ws, end - now, on_trigger);
}

static void rates(floe_waitset *ws)
{
	int a, b;

	reset();
	a = floe_waitset_attach_interval(ws, 10 * MS, NULL);
	run_for(ws, 1000);
	tap_ok(ticks[a] >= 60 && ticks[a] <= 101 && !other_triggers,
	       "10 ms interval: %d ticks in 1 s (60..101)", ticks[a]);

	reset();
	b = floe_waitset_attach_interval(ws, 50 * MS, NULL);
	floe_waitset_detach(ws, a);
	a = floe_waitset_attach_interval(ws, 20 * MS, NULL);
	run_for(ws, 1000);
	tap_ok(ticks[a] >= 30 && ticks[a] <= 51,
	       "20 ms interval beside a 50 ms one: %d ticks in 1 s (30..51)",
	       ticks[a]);
	tap_ok(ticks[b] >= 12 && ticks[b] <= 21 && !other_triggers,
	       "and the 50 ms one: %d ticks (12..21)", ticks[b]);
	floe_waitset_detach(ws, a);
	floe_waitset_detach(ws, b);
}

static void first_tick_and_coalescing(floe_waitset *ws)
{
	uint64_t t0 = th_now_ns(), elapsed;
	int a = floe_waitset_attach_interval(ws, 200 * MS, NULL), r;

	reset();
	r = floe_waitset_run_once(ws, 100 * MS, on_trigger);
	tap_eq(r, 0, "no tick before the first period");
	r = floe_waitset_run_once(ws, 1000 * MS, on_trigger);
	elapsed = th_now_ns() - t0;
	tap_ok(r == 1 && ticks[a] == 1 && elapsed >= 200 * MS &&
	       elapsed < 400 * MS,
	       "first tick one period after attaching (%" PRIu64 " ms)",
	       elapsed / MS);
	floe_waitset_detach(ws, a);

	/* Ten periods pass unobserved: one TICK, then the next on time. */
	a = floe_waitset_attach_interval(ws, 10 * MS, NULL);
	th_sleep_ms(105);
	reset();
	r = floe_waitset_run_once(ws, 0, on_trigger);
	tap_ok(r == 1 && ticks[a] == 1,
	       "periods that passed unobserved: one TICK (%d)", r);
	t0 = th_now_ns();
	r = floe_waitset_run_once(ws, 1000 * MS, on_trigger);
	elapsed = th_now_ns() - t0;
	tap_ok(r == 1 && elapsed < 200 * MS,
	       "then the next period's (%" PRIu64 " ms)", elapsed / MS);

	/* Due, then detached: no tick. */
	th_sleep_ms(25);
	floe_waitset_detach(ws, a);
	reset();
	r = floe_waitset_run_once(ws, 50 * MS, on_trigger);
	tap_eq(r, 0, "an interval detached while due does not tick");
}

/* run_once(@timeout) with nothing happening returns 0 on time. */
static int on_time(floe_waitset *ws, uint64_t timeout_ms)
{
	uint64_t t0 = th_now_ns(), elapsed;
	int r = floe_waitset_run_once(ws, timeout_ms * MS, on_trigger);

	elapsed = th_now_ns() - t0;
	if (r == 0 && elapsed >= timeout_ms * MS &&
	    elapsed <= (timeout_ms + 200) * MS)
		return 1;
	tap_diag("  run_once(%" PRIu64 " ms): %d after %" PRIu64 " us",
		 timeout_ms, r, elapsed / 1000);
	return 0;
}

static void timeouts(floe_waitset *ws)
{
	static const uint64_t ms[] = { 0, 1, 50, 300 };
	int p[2], slow, quiet, ok = 1;

	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++)
		ok &= on_time(ws, ms[i]);
	tap_ok(ok, "nothing attached: run_once(0, 1, 50, 300 ms) returns 0 "
	       "on time");
	tap_require(pipe2(p, O_CLOEXEC) == 0, "pipe");
	slow = floe_waitset_attach_interval(ws, 3600000 * MS, NULL);
	quiet = floe_waitset_attach_fd(ws, p[0], NULL);
	ok = 1;
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++)
		ok &= on_time(ws, ms[i]);
	tap_ok(ok, "a quiet pipe and an hourly interval: run_once(0, 1, 50, "
	       "300 ms) returns 0 on time");
	floe_waitset_detach(ws, slow);
	floe_waitset_detach(ws, quiet);
	close(p[0]);
	close(p[1]);
}

static void run_engine(enum floe_waitset_impl impl)
{
	struct floe_waitset_opts opts = { .impl = impl };
	const char *name = floe_waitset_impl_name(impl);
	floe_waitset *ws = NULL;
	int r = floe_waitset_create(&opts, &ws);

	tap_diag("engine %s", name);
	if (r == FLOE_E_BACKEND && impl == FLOE_WAITSET_IO_URING) {
		for (int i = 0; i < CHECKS_PER_ENGINE; i++)
			tap_ok(1, "# SKIP io_uring unavailable");
		return;
	}
	tap_require(r == 0, "%s: create (%s)", name, floe_strerror(r));
	timeouts(ws);
	rates(ws);
	first_tick_and_coalescing(ws);
	floe_waitset_destroy(ws);
}

int main(void)
{
	const char *domain = th_setup("wsivl");

	tap_plan(2 * CHECKS_PER_ENGINE + 1);
	run_engine(FLOE_WAITSET_IO_URING);
	run_engine(FLOE_WAITSET_EPOLL);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
