// SPDX-License-Identifier: MIT
/*
 * No torn reads: a writer process writes two entries as fast as it can
 * (a 128-byte one by copy, an 8 KiB one in place), $FLOE_STORM_N writes
 * each (default 50000), every field of value number g equal to a pattern
 * of g. Four reader processes read both entries in a loop meanwhile and
 * check every value they get: all fields consistent, belonging to the
 * generation the read reported, generations never going backwards. At the
 * end every reader reads the final values.
 */
#include "helpers.h"

#define BB "t/bb/consistency"
#define READERS 4
#define SMALL_KEY 1
#define LARGE_KEY 2

struct small {
	uint64_t v[16];
};

struct large {
	uint64_t v[1024];
};

static long writes;

static uint64_t field(uint64_t key, uint64_t gen, unsigned i)
{
	return th_pattern(key * 1000003 + gen, i);
}

static const struct floe_blackboard_entry entries[] = {
	{ .key = SMALL_KEY, .type_name = "Small", .size = sizeof(struct small),
	  .align = 8 },
	{ .key = LARGE_KEY, .type_name = "Large", .size = sizeof(struct large),
	  .align = 8 },
};

static const struct floe_blackboard_opts opts = {
	.entries = entries,
	.num_entries = 2,
};

struct shared {
	struct th_barrier start;
	struct th_pipe results;
};

static floe_blackboard *open_bb(floe_node *node)
{
	floe_blackboard *bb = NULL;
	int ret;

	if (!node)
		return NULL;
	ret = floe_blackboard_open(node, BB, &opts, &bb);
	th_check(ret == 0, "open: %s", floe_strerror(ret));
	return bb;
}

static int writer_process(void *arg)
{
	struct shared *sh = arg;
	floe_node *node = th_node("bb-writer");
	floe_blackboard *bb = open_bb(node);
	floe_writer *w = NULL;
	struct small s;
	int ret;

	if (!bb)
		return 1;
	ret = floe_writer_create(bb, &w);
	if (!th_check(ret == 0, "writer: %s", floe_strerror(ret)))
		return 1;
	if (th_barrier_wait(&sh->start, 10000))
		return 1;
	/* value g is written as generation g (the initial value is 0) */
	for (uint64_t g = 1; g <= (uint64_t)writes; g++) {
		struct large *l;
		void *slot;

		for (unsigned i = 0; i < 16; i++)
			s.v[i] = field(SMALL_KEY, g, i);
		ret = floe_writer_write(w, SMALL_KEY, &s, sizeof(s));
		th_check(ret == 0, "write: %s", floe_strerror(ret));
		ret = floe_writer_loan(w, LARGE_KEY, &slot);
		th_check(ret == 0, "loan: %s", floe_strerror(ret));
		l = slot;
		for (unsigned i = 0; i < 1024; i++)
			l->v[i] = field(LARGE_KEY, g, i);
		ret = floe_writer_publish(w, LARGE_KEY);
		th_check(ret == 0, "publish: %s", floe_strerror(ret));
	}
	floe_writer_destroy(w);
	floe_blackboard_close(bb);
	floe_node_destroy(node);
	return th_child_result();
}

/* Check one value; returns its generation or UINT64_MAX. */
static uint64_t check_value(uint64_t key, const uint64_t *v, unsigned n,
			    uint64_t gen)
{
	if (gen == 0) {
		for (unsigned i = 0; i < n; i++)
			if (v[i])
				goto torn;
		return 0;
	}
	for (unsigned i = 0; i < n; i++)
		if (v[i] != field(key, gen, i))
			goto torn;
	return gen;
torn:
	th_check(0, "key %" PRIu64 " generation %" PRIu64 ": torn or "
		 "misplaced value", key, gen);
	return UINT64_MAX;
}

static int reader_process(void *arg)
{
	struct shared *sh = arg;
	floe_node *node = th_node("bb-reader");
	floe_blackboard *bb = open_bb(node);
	floe_reader *r = NULL;
	static struct large l;
	struct small s;
	uint64_t last[3] = { 0 }, reads = 0, distinct = 0, gen;
	int ret;

	if (!bb)
		return 1;
	ret = floe_reader_create(bb, &r);
	if (!th_check(ret == 0, "reader: %s", floe_strerror(ret)))
		return 1;
	if (th_barrier_wait(&sh->start, 10000))
		return 1;
	while (last[SMALL_KEY] < (uint64_t)writes ||
	       last[LARGE_KEY] < (uint64_t)writes) {
		ret = floe_reader_read(r, SMALL_KEY, &s, sizeof(s), &gen);
		if (!th_check(ret == 0, "read: %s", floe_strerror(ret)) ||
		    check_value(SMALL_KEY, s.v, 16, gen) == UINT64_MAX ||
		    !th_check(gen >= last[SMALL_KEY], "generation went back"))
			break;
		distinct += gen != last[SMALL_KEY];
		last[SMALL_KEY] = gen;
		ret = floe_reader_read(r, LARGE_KEY, &l, sizeof(l), &gen);
		if (!th_check(ret == 0, "read: %s", floe_strerror(ret)) ||
		    check_value(LARGE_KEY, l.v, 1024, gen) == UINT64_MAX ||
		    !th_check(gen >= last[LARGE_KEY], "generation went back"))
			break;
		distinct += gen != last[LARGE_KEY];
		last[LARGE_KEY] = gen;
		reads += 2;
	}
	th_send_u64(&sh->results, reads);
	th_send_u64(&sh->results, distinct);
	floe_reader_destroy(r);
	floe_blackboard_close(bb);
	floe_node_destroy(node);
	return th_child_result();
}

int main(void)
{
	struct floe_blackboard_qos qos;
	struct floe_blackboard_opts o = opts;
	floe_blackboard *bb;
	floe_node *node;
	struct shared sh;
	pid_t pids[READERS + 1];
	uint64_t reads = 0, distinct = 0;
	int ok = 1, ret;

	th_setup("bbcons");
	writes = th_env_long("FLOE_STORM_N", 50000);
	if (writes < 100)
		writes = 100;
	tap_plan(6);
	node = th_node("bb-cons");
	tap_require(node != NULL, "node");
	floe_blackboard_qos_init(&qos);
	qos.max_readers = READERS;
	o.qos = &qos;
	ret = floe_blackboard_create(node, BB, &o, &bb);
	tap_require(ret == 0, "create: %s", floe_strerror(ret));
	tap_require(th_barrier_init(&sh.start, READERS + 1) == 0 &&
			    th_pipe_init(&sh.results) == 0, "barrier");
	pids[0] = th_fork(writer_process, &sh);
	for (int i = 0; i < READERS; i++)
		pids[i + 1] = th_fork(reader_process, &sh);
	tap_ok(th_barrier_release(&sh.start, 20000) == 0,
	       "writer and %d readers attached", READERS);
	for (int i = 0; i <= READERS; i++)
		ok &= th_wait(pids[i], 90000) == 0;
	for (int i = 0; i < READERS; i++) {
		uint64_t n = 0, d = 0;

		th_recv_u64(&sh.results, &n, 1000);
		th_recv_u64(&sh.results, &d, 1000);
		reads += n;
		distinct += d;
	}
	tap_diag("%ld writes per entry; readers: %" PRIu64 " reads, %" PRIu64
		 " new values seen", writes, reads, distinct);
	tap_ok(ok, "every value read was consistent and of its generation");
	tap_ok(distinct >= (uint64_t)READERS * 2,
	       "readers saw values change while writing went on");
	floe_blackboard_close(bb);
	floe_node_destroy(node);
	th_barrier_destroy(&sh.start);
	th_pipe_close(&sh.results);
	return tap_done();
}
