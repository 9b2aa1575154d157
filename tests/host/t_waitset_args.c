// SPDX-License-Identifier: MIT
/*
 * WaitSet arguments and bookkeeping, on each engine: every bad argument
 * is refused with FLOE_E_INVALID (a descriptor attached twice with
 * FLOE_E_ATTACHED, a run from inside a callback with FLOE_E_BUSY), a bad
 * $FLOE_WAITSET with FLOE_E_INVALID, nothing is reported to a run that
 * does not block, ids stay small through many attach/detach cycles, and
 * neither detach nor destroy leaks a descriptor.
 */
#include "helpers.h"

#define CHECKS_PER_ENGINE 24

static int nested_result = 1;

/* Count the calls; try to run the waitset from inside its callback. */
static int on_trigger(floe_waitset *ws, int id, enum floe_trigger trigger,
		      void *user)
{
	int *calls = user;

	(void)id;
	(void)trigger;
	(*calls)++;
	nested_result = floe_waitset_run_once(ws, 0, on_trigger);
	return 0;
}

static int run_nested(floe_waitset *ws, int id, enum floe_trigger trigger,
		      void *user)
{
	(void)id;
	(void)trigger;
	(void)user;
	return floe_waitset_run(ws, on_trigger);
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static void run_engine(enum floe_waitset_impl impl)
{
	struct floe_waitset_opts opts = { .impl = impl };
	const char *name = floe_waitset_impl_name(impl);
	floe_waitset *ws = NULL;
	int fds_before = open_fds(), calls = 0, p[2], file, id, r, bad;

	tap_diag("engine %s", name);
	r = floe_waitset_create(&opts, &ws);
	if (r == FLOE_E_BACKEND && impl == FLOE_WAITSET_IO_URING) {
		for (int i = 0; i < CHECKS_PER_ENGINE; i++)
			tap_ok(1, "# SKIP io_uring unavailable");
		return;
	}
	tap_require(r == 0, "%s: create (%s)", name, floe_strerror(r));
	tap_require(pipe2(p, O_CLOEXEC) == 0, "pipe");
	file = open("/proc/self/status", O_RDONLY | O_CLOEXEC);

	tap_eq(floe_waitset_attach_fd(NULL, p[0], NULL), FLOE_E_INVALID,
	       "attach_fd: NULL waitset");
	tap_eq(floe_waitset_attach_fd(ws, -1, NULL), FLOE_E_INVALID,
	       "attach_fd: negative fd");
	tap_eq(floe_waitset_attach_fd(ws, 1000000, NULL), FLOE_E_INVALID,
	       "attach_fd: fd not open");
	tap_eq(floe_waitset_attach_fd(ws, file, NULL), FLOE_E_INVALID,
	       "attach_fd: a regular file (not pollable)");
	id = floe_waitset_attach_fd(ws, p[0], NULL);
	tap_eq(id, 0, "attach_fd: first id is 0");
	tap_eq(floe_waitset_attach_fd(ws, p[0], NULL), FLOE_E_ATTACHED,
	       "attach_fd: the same fd twice");
	tap_eq(floe_waitset_attach_interval(ws, 0, NULL), FLOE_E_INVALID,
	       "attach_interval: period 0");
	tap_eq(floe_waitset_attach_interval(NULL, 1000, NULL), FLOE_E_INVALID,
	       "attach_interval: NULL waitset");
	tap_eq(floe_waitset_attach_listener(ws, NULL, 0, NULL),
	       FLOE_E_INVALID, "attach_listener: NULL listener");
	tap_eq(floe_waitset_detach(ws, -1), FLOE_E_INVALID, "detach -1");
	tap_eq(floe_waitset_detach(ws, 1), FLOE_E_INVALID,
	       "detach an id never given");
	tap_eq(floe_waitset_detach(NULL, 0), FLOE_E_INVALID,
	       "detach: NULL waitset");
	tap_eq(floe_waitset_detach(ws, id), 0, "detach");
	tap_eq(floe_waitset_detach(ws, id), FLOE_E_INVALID, "detach again");

	tap_eq(floe_waitset_run_once(ws, 0, NULL), FLOE_E_INVALID,
	       "run_once: NULL callback");
	tap_eq(floe_waitset_run(NULL, on_trigger), FLOE_E_INVALID,
	       "run: NULL waitset");
	r = floe_waitset_run_once(ws, 0, on_trigger);
	tap_eq(r, 0, "run_once(0) with nothing attached returns 0");

	/* A 1 ms interval fires the callback, which runs the waitset. */
	id = floe_waitset_attach_interval(ws, 1000000, &calls);
	r = floe_waitset_run_once(ws, 2000000000ull, on_trigger);
	tap_ok(r == 1 && calls == 1 && nested_result == FLOE_E_BUSY,
	       "run_once from a callback: busy (%d, %d calls, nested %d)", r,
	       calls, nested_result);
	floe_waitset_detach(ws, id);
	id = floe_waitset_attach_interval(ws, 1000000, NULL);
	tap_eq(floe_waitset_run(ws, run_nested), FLOE_E_BUSY,
	       "run from a callback: busy (and its result ends the run)");
	floe_waitset_detach(ws, id);

	/* Many cycles: ids stay small, timers are closed on detach. */
	bad = 0;
	for (int i = 0; i < 500; i++) {
		int a = floe_waitset_attach_interval(ws, 1000000000, NULL);
		int b = floe_waitset_attach_fd(ws, p[0], NULL);

		bad += a != 0 || b != 1;
		bad += floe_waitset_detach(ws, (i & 1) ? a : b) != 0;
		bad += floe_waitset_detach(ws, (i & 1) ? b : a) != 0;
	}
	tap_eq(bad, 0, "500 attach/detach cycles reuse ids 0 and 1");
	tap_eq(open_fds(), fds_before + 4,
	       "no descriptor left by detach (2 pipe ends, file, waitset)");

	/* Destroy with attachments: its own descriptors go with it. */
	floe_waitset_attach_interval(ws, 1000000000, NULL);
	floe_waitset_attach_fd(ws, p[0], NULL);
	floe_waitset_destroy(ws);
	close(p[0]);
	close(p[1]);
	close(file);
	tap_eq(open_fds(), fds_before, "destroy leaves no descriptor behind");
}

int main(void)
{
	const char *domain = th_setup("wsargs");
	struct floe_waitset_opts opts = { .impl = FLOE_WAITSET_AUTO };
	floe_waitset *ws = NULL;

	tap_plan(10 + 2 * CHECKS_PER_ENGINE);
	tap_eq(floe_waitset_create(NULL, NULL), FLOE_E_INVALID,
	       "create: NULL out");
	opts.impl = (enum floe_waitset_impl)3;
	tap_eq(floe_waitset_create(&opts, &ws), FLOE_E_INVALID,
	       "create: unknown implementation");
	opts.impl = FLOE_WAITSET_AUTO;
	setenv("FLOE_WAITSET", "kqueue", 1);
	tap_eq(floe_waitset_create(&opts, &ws), FLOE_E_INVALID,
	       "create: FLOE_WAITSET=kqueue");
	opts.impl = FLOE_WAITSET_EPOLL;
	tap_eq(floe_waitset_create(&opts, &ws), 0,
	       "an explicit implementation ignores FLOE_WAITSET");
	floe_waitset_destroy(ws);
	unsetenv("FLOE_WAITSET");
	tap_eq(floe_waitset_create(NULL, &ws), 0, "create with NULL opts");
	tap_ok(floe_waitset_impl(ws) == FLOE_WAITSET_IO_URING ||
	       floe_waitset_impl(ws) == FLOE_WAITSET_EPOLL,
	       "AUTO resolves to %s",
	       floe_waitset_impl_name(floe_waitset_impl(ws)));
	floe_waitset_destroy(ws);
	floe_waitset_destroy(NULL);
	tap_ok(!strcmp(floe_waitset_impl_name(FLOE_WAITSET_IO_URING),
		       "io_uring") &&
	       !strcmp(floe_waitset_impl_name(FLOE_WAITSET_EPOLL), "epoll"),
	       "implementation names");
	tap_eq(floe_waitset_run_once(NULL, 0, NULL), FLOE_E_INVALID,
	       "run_once: NULL waitset");

	run_engine(FLOE_WAITSET_IO_URING);
	run_engine(FLOE_WAITSET_EPOLL);
	tap_ok(!strcmp(floe_strerror(FLOE_E_INTERRUPTED),
		       "interrupted by SIGINT or SIGTERM"), "strerror");
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
