// SPDX-License-Identifier: MIT
/*
 * WaitSet and plain file descriptors, on each engine (io_uring, epoll):
 * a child process writes to pipes the parent attached, and each write is
 * reported as READABLE for the right attachment, with 1, 8, 64 and 200
 * attachments, one at a time and all at once. Reports are level-triggered
 * (a pipe not read is reported again), a hang-up is reported, a detached
 * pipe is not (not even a completion already in flight for it), the
 * lowest free id is reused and reports for the new attachment only,
 * a callback may detach another attachment whose report is due in the
 * same batch, and a callback's non-zero result stops the run without
 * losing the reports not yet delivered.
 */
#include "helpers.h"

#define MAX_PIPES 204
#define EXTRA0 200	/* pipes 200..203: the single-pipe scenarios */
#define CMD_ALL (1ull << 40)	/* write to pipes 0..n-1: CMD_ALL | n */
#define CMD_CLOSE (1ull << 41)	/* close the write end: CMD_CLOSE | i */
#define CMD_QUIT (1ull << 42)
#define CHECKS_PER_ENGINE 39

static const int sizes[] = { 1, 8, 64, 200 };

struct slot {
	int index;
	int rd, wr;
	int id;
};

static struct slot slots[MAX_PIPES];
static struct th_pipe cmd, ack;

/* What the callbacks saw. */
struct hit {
	int id, index;
	enum floe_trigger trigger;
};
static struct hit hits[MAX_PIPES * 2];
static int nhits;
static bool consume = true;	/* callbacks read their pipe empty */
/* a callback for one of these detaches the other */
static int pair[2] = { -1, -1 };
static int stop_with;		/* callbacks return this */

static int on_trigger(floe_waitset *ws, int id, enum floe_trigger trigger,
		      void *user)
{
	struct slot *s = user;
	char buf[64];

	if (nhits < (int)(sizeof(hits) / sizeof(hits[0])))
		hits[nhits] = (struct hit){ id, s->index, trigger };
	nhits++;
	if (consume)
		while (read(s->rd, buf, sizeof(buf)) > 0)
			;
	if (pair[0] >= 0 && (id == pair[0] || id == pair[1])) {
		floe_waitset_detach(ws, id == pair[0] ? pair[1] : pair[0]);
		pair[0] = pair[1] = -1;
	}
	return stop_with;
}

/* The writer: executes commands, acknowledges each. */
static int writer_process(void *arg)
{
	uint64_t c;

	(void)arg;
	while (th_recv_u64(&cmd, &c, 60000) == 0 && c != CMD_QUIT) {
		if (c & CMD_ALL) {
			for (uint64_t i = 0; i < (c & 0xffff); i++)
				th_check(write(slots[i].wr, "a", 1) == 1,
					 "write %" PRIu64, i);
		} else if (c & CMD_CLOSE) {
			close(slots[c & 0xffff].wr);
		} else {
			th_check(write(slots[c].wr, "w", 1) == 1,
				 "write %" PRIu64, c);
		}
		th_send_u64(&ack, c);
	}
	return th_child_result();
}

/* Have the writer act, and wait until it did. */
static int command(uint64_t c)
{
	uint64_t got = ~c;

	if (th_send_u64(&cmd, c) || th_recv_u64(&ack, &got, 10000))
		return -1;
	return got == c ? 0 : -1;
}

static int run(floe_waitset *ws, uint64_t timeout_ms)
{
	nhits = 0;
	return floe_waitset_run_once(ws, timeout_ms * 1000000, on_trigger);
}

static int attach(floe_waitset *ws, int i)
{
	slots[i].id = floe_waitset_attach_fd(ws, slots[i].rd, &slots[i]);
	return slots[i].id;
}

/* One write at a time, then all at once, with @n attachments. */
static void routing(floe_waitset *ws, int n)
{
	int bad_ids = 0, misrouted = 0, seen[MAX_PIPES] = { 0 }, dup = 0;
	int rounds = n < 64 ? n : 64, missing = n;

	for (int i = 0; i < n; i++)
		if (attach(ws, i) != i)
			bad_ids++;
	tap_eq(bad_ids, 0, "%d attachments get ids 0..%d", n, n - 1);

	for (int r = 0; r < rounds; r++) {
		int k = n <= 64 ? r : (int)th_rand_below((uint64_t)n);
		int got = command((uint64_t)k) ? -1 : run(ws, 5000);

		if (got != 1 || nhits != 1 || hits[0].id != k ||
		    hits[0].index != k ||
		    hits[0].trigger != FLOE_TRIGGER_READABLE) {
			if (misrouted++ < 3)
				tap_diag("  write to %d: run_once %d, %d hits, "
					 "first id %d", k, got, nhits,
					 nhits ? hits[0].id : -1);
		}
	}
	tap_eq(misrouted, 0, "%d attachments: %d writes each reported once, "
	       "READABLE, for the written pipe", n, rounds);

	/* All at once: epoll hands out at most 64 per wait, io_uring all;
	 * either way every pipe is reported exactly once. */
	command(CMD_ALL | (uint64_t)n);
	for (int loops = 0; missing && loops < 10; loops++) {
		if (run(ws, 1000) <= 0)
			break;
		for (int h = 0; h < nhits; h++) {
			if (hits[h].id < 0 || hits[h].id >= n)
				continue;
			if (seen[hits[h].id]++)
				dup++;
			else
				missing--;
		}
	}
	tap_ok(!missing && !dup && run(ws, 20) == 0,
	       "%d pipes written at once: each reported once, then quiet "
	       "(%d missing, %d twice)", n, missing, dup);

	for (int i = 0; i < n; i++)
		bad_ids += floe_waitset_detach(ws, i) != 0;
	tap_eq(bad_ids, 0, "%d attachments detached", n);
}

static void level_triggered(floe_waitset *ws)
{
	int a = EXTRA0, r1, r2, r3, r4;

	attach(ws, a);
	command((uint64_t)a);
	consume = false;
	r1 = run(ws, 5000);
	r2 = run(ws, 5000);
	tap_ok(r1 == 1 && r2 == 1 && hits[0].id == slots[a].id,
	       "a pipe not read is reported again (%d, %d)", r1, r2);
	consume = true;
	r3 = run(ws, 5000);
	r4 = run(ws, 100);
	tap_ok(r3 == 1 && r4 == 0, "once read empty, it is not (%d, %d)", r3,
	       r4);
	floe_waitset_detach(ws, slots[a].id);
}

static void detach_and_reuse(floe_waitset *ws)
{
	int p0 = EXTRA0, p1 = EXTRA0 + 1, p2 = EXTRA0 + 2, p3 = EXTRA0 + 3;
	int old_id, r;

	tap_ok(attach(ws, p0) == 0 && attach(ws, p1) == 1 &&
	       attach(ws, p2) == 2, "three attachments: ids 0, 1, 2");
	/* p1 becomes readable (io_uring: its poll completes) before it is
	 * detached: that completion must not be reported. */
	command((uint64_t)p1);
	old_id = slots[p1].id;
	tap_eq(floe_waitset_detach(ws, old_id), 0, "detach id 1");
	tap_eq(attach(ws, p3), old_id, "the next attachment reuses id 1");
	r = run(ws, 150);
	tap_ok(r == 0 && nhits == 0,
	       "a readable pipe detached is not reported, nor its stale "
	       "report under the reused id (%d)", r);
	command((uint64_t)p3);
	r = run(ws, 5000);
	tap_ok(r == 1 && hits[0].id == old_id && hits[0].index == p3,
	       "the reused id reports the new pipe (%d, index %d)", r,
	       nhits ? hits[0].index : -1);
	command((uint64_t)p1);
	r = run(ws, 150);
	tap_eq(r, 0, "writes to the detached pipe stay unreported");
	while (read(slots[p1].rd, (char[64]){ 0 }, 64) > 0)
		;
	/* Detached while watched (no report in flight), id left free. */
	floe_waitset_detach(ws, old_id);
	command((uint64_t)p3);
	r = run(ws, 150);
	tap_eq(r, 0, "a pipe detached while idle stays unreported, its id "
	       "left free");
	while (read(slots[p3].rd, (char[64]){ 0 }, 64) > 0)
		;
	tap_eq(attach(ws, p3), old_id, "and taken again");

	/* Both readable; the first callback detaches the other one, whose
	 * report is due in the same batch. */
	command((uint64_t)p0);
	command((uint64_t)p2);
	pair[0] = slots[p0].id;
	pair[1] = slots[p2].id;
	nhits = 0;
	r = floe_waitset_run_once(ws, 5000000000ull, on_trigger);
	tap_ok(r == 1 && nhits == 1,
	       "no report for an attachment detached by an earlier callback of "
	       "the same batch (%d)", r);
	/* whichever was not reported is still readable, detached: drain */
	while (read(slots[p0].rd, (char[64]){ 0 }, 64) > 0)
		;
	while (read(slots[p2].rd, (char[64]){ 0 }, 64) > 0)
		;
	tap_eq(run(ws, 100), 0, "then quiet");
	for (int id = 0; id < 3; id++)
		floe_waitset_detach(ws, id);
}

static void stop_and_resume(floe_waitset *ws)
{
	int p0 = EXTRA0, p2 = EXTRA0 + 2, r, first;

	attach(ws, p0);
	attach(ws, p2);
	command((uint64_t)p0);
	command((uint64_t)p2);
	stop_with = 7;
	r = run(ws, 5000);
	first = nhits ? hits[0].index : -1;
	tap_ok(r == 7 && nhits == 1,
	       "run_once returns a callback's non-zero value at once (%d, %d "
	       "calls)", r, nhits);
	stop_with = 0;
	r = run(ws, 5000);
	tap_ok(r == 1 && hits[0].index != first,
	       "the report not delivered then comes with the next run");
	command((uint64_t)p0);
	stop_with = 42;
	tap_eq(floe_waitset_run(ws, on_trigger), 42,
	       "run returns a callback's non-zero value");
	stop_with = 0;
	floe_waitset_detach(ws, slots[p0].id);
	floe_waitset_detach(ws, slots[p2].id);
}

static void hang_up(floe_waitset *ws)
{
	int p = EXTRA0 + 3, r;

	attach(ws, p);
	command(CMD_CLOSE | (uint64_t)p);
	close(slots[p].wr);	/* ours too: now the pipe has no writer */
	slots[p].wr = -1;
	r = run(ws, 5000);
	tap_ok(r == 1 && hits[0].trigger == FLOE_TRIGGER_READABLE &&
	       read(slots[p].rd, (char[8]){ 0 }, 8) == 0,
	       "a hang-up is READABLE (the read returns end of file)");
	tap_eq(floe_waitset_detach(ws, slots[p].id), 0, "detach it");
}

static void run_engine(enum floe_waitset_impl impl)
{
	struct floe_waitset_opts opts = { .impl = impl };
	const char *name = floe_waitset_impl_name(impl);
	floe_waitset *ws = NULL;
	int r = floe_waitset_create(&opts, &ws);
	pid_t pid;

	tap_diag("engine %s", name);
	if (r == FLOE_E_BACKEND && impl == FLOE_WAITSET_IO_URING) {
		for (int i = 0; i < CHECKS_PER_ENGINE; i++)
			tap_ok(1, "# SKIP io_uring unavailable");
		return;
	}
	tap_require(r == 0, "%s: create (%s)", name, floe_strerror(r));
	tap_eq(floe_waitset_impl(ws), impl, "%s: in use", name);

	r = 0;
	for (int i = 0; i < MAX_PIPES; i++) {
		int fds[2];

		if (pipe2(fds, O_CLOEXEC | O_NONBLOCK)) {
			r = -errno;
			break;
		}
		slots[i] = (struct slot){ .index = i, .rd = fds[0],
					  .wr = fds[1], .id = -1 };
	}
	tap_require(r == 0, "%d pipes (%s)", MAX_PIPES, strerror(-r));
	tap_require(th_pipe_init(&cmd) == 0 && th_pipe_init(&ack) == 0,
		    "command pipes");
	pid = th_fork(writer_process, NULL);
	tap_require(pid > 0, "writer process");

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		routing(ws, sizes[i]);
	level_triggered(ws);
	detach_and_reuse(ws);
	stop_and_resume(ws);
	hang_up(ws);

	th_send_u64(&cmd, CMD_QUIT);
	tap_eq(th_wait(pid, 30000), 0, "writer process's checks passed");
	floe_waitset_destroy(ws);
	for (int i = 0; i < MAX_PIPES; i++) {
		close(slots[i].rd);
		if (slots[i].wr >= 0)
			close(slots[i].wr);
	}
	th_pipe_close(&cmd);
	th_pipe_close(&ack);
}

int main(void)
{
	const char *domain = th_setup("wsfd");

	tap_plan(2 * CHECKS_PER_ENGINE + 1);
	run_engine(FLOE_WAITSET_IO_URING);
	run_engine(FLOE_WAITSET_EPOLL);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
