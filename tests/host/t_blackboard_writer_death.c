// SPDX-License-Identifier: MIT
/*
 * A writer dies in the middle of writing: $FLOE_DEATH_ROUNDS times
 * (default 5) a writer process writing two entries in a tight loop (one by
 * copy, one in place through a loan) is SIGKILLed at a random moment.
 * Afterwards:
 *  - readers (this process and a fresh reader process) read consistent
 *    values, all fields of the generation the read reports, and the
 *    values no longer change (nobody writes);
 *  - a new writer process attaches (the dead writer's slot is reclaimed;
 *    the blackboard has one writer slot) and its writes are read back.
 */
#include "helpers.h"

#define BB "t/bb/writer-death"
#define COPY_KEY 5
#define LOAN_KEY 6
#define WORDS 512

struct value {
	uint64_t v[WORDS];
};

static const struct floe_blackboard_entry entries[] = {
	{ .key = COPY_KEY, .type_name = "Value", .size = sizeof(struct value),
	  .align = 8 },
	{ .key = LOAN_KEY, .type_name = "Value", .size = sizeof(struct value),
	  .align = 8 },
};

static const struct floe_blackboard_opts opts = {
	.entries = entries,
	.num_entries = 2,
};

/* Value number @n of @key: generation n of a writer's run starts at
 * wherever the previous writer left the entry, so the writer records its
 * own count and a tag in every field instead. */
static void fill(struct value *v, uint64_t key, uint64_t n)
{
	for (unsigned i = 0; i < WORDS; i++)
		v->v[i] = th_pattern(key * 7919 + n, i);
	v->v[0] = n;
}

static int value_ok(const struct value *v, uint64_t key)
{
	uint64_t n = v->v[0];

	for (unsigned i = 1; i < WORDS; i++)
		if (v->v[i] != th_pattern(key * 7919 + n, i))
			return 0;
	return 1;
}

static int open_bb(floe_node *node, floe_blackboard **bb)
{
	int ret;

	if (!node)
		return -1;
	ret = floe_blackboard_open(node, BB, &opts, bb);
	return th_check(ret == 0, "open: %s", floe_strerror(ret)) ? 0 : -1;
}

struct writer_arg {
	struct th_pipe ready;
	uint64_t first; /* number of the first value to write */
	long count;     /* 0: until killed */
};

static int writer_process(void *arg)
{
	struct writer_arg *wa = arg;
	floe_node *node = th_node("bb-writer");
	floe_blackboard *bb = NULL;
	floe_writer *w = NULL;
	struct value v;
	int ret;

	if (open_bb(node, &bb))
		return 1;
	ret = floe_writer_create(bb, &w);
	if (!th_check(ret == 0, "writer: %s", floe_strerror(ret)))
		return 1;
	for (uint64_t n = wa->first;
	     !wa->count || n < wa->first + (uint64_t)wa->count; n++) {
		void *slot;

		fill(&v, COPY_KEY, n);
		ret = floe_writer_write(w, COPY_KEY, &v, sizeof(v));
		th_check(ret == 0, "write: %s", floe_strerror(ret));
		ret = floe_writer_loan(w, LOAN_KEY, &slot);
		th_check(ret == 0, "loan: %s", floe_strerror(ret));
		fill(slot, LOAN_KEY, n);
		ret = floe_writer_publish(w, LOAN_KEY);
		th_check(ret == 0, "publish: %s", floe_strerror(ret));
		/* the killer waits for one whole pair of writes (and only a
		 * writer that will be killed says so: nobody reads the others) */
		if (!wa->count && n == wa->first)
			th_send_u64(&wa->ready, 1);
	}
	floe_writer_destroy(w);
	floe_blackboard_close(bb);
	floe_node_destroy(node);
	return th_child_result();
}

/* Read both entries twice: consistent, and unchanged in between. */
static int read_stable(floe_reader *r, uint64_t *copy_n, uint64_t *loan_n)
{
	static struct value a, b;
	uint64_t ga, gb;
	int ok = 1;

	for (uint64_t key = COPY_KEY; key <= LOAN_KEY; key++) {
		ok &= floe_reader_read(r, key, &a, sizeof(a), &ga) == 0 &&
		      value_ok(&a, key);
		th_sleep_ms(2);
		ok &= floe_reader_read(r, key, &b, sizeof(b), &gb) == 0 &&
		      ga == gb && !memcmp(&a, &b, sizeof(a));
		*(key == COPY_KEY ? copy_n : loan_n) = a.v[0];
	}
	return ok;
}

static int fresh_reader_process(void *arg)
{
	uint64_t *expect = arg;
	floe_node *node = th_node("bb-reader");
	floe_blackboard *bb = NULL;
	floe_reader *r = NULL;
	uint64_t c, l;
	int ret;

	if (open_bb(node, &bb))
		return 1;
	ret = floe_reader_create(bb, &r);
	if (!th_check(ret == 0, "reader: %s", floe_strerror(ret)))
		return 1;
	th_check(read_stable(r, &c, &l), "consistent values");
	th_check(c == expect[0] && l == expect[1],
		 "same values as the other reader: %" PRIu64 "/%" PRIu64
		 " vs %" PRIu64 "/%" PRIu64, c, l, expect[0], expect[1]);
	floe_reader_destroy(r);
	floe_blackboard_close(bb);
	floe_node_destroy(node);
	return th_child_result();
}

int main(void)
{
	long rounds;
	floe_blackboard *bb;
	floe_reader *r;
	floe_node *node;
	struct writer_arg wa;
	uint64_t expect[2], next = 1, ready;
	int ok_kill = 1, ok_read = 1, ok_fresh = 1, ok_new = 1, ret;

	th_setup("bbdeath");
	rounds = th_env_long("FLOE_DEATH_ROUNDS", 5);
	tap_plan(8);
	node = th_node("bb-death");
	tap_require(node != NULL, "node");
	ret = floe_blackboard_create(node, BB, &opts, &bb);
	tap_require(ret == 0, "create: %s", floe_strerror(ret));
	ret = floe_reader_create(bb, &r);
	tap_require(ret == 0, "reader: %s", floe_strerror(ret));
	tap_require(th_pipe_init(&wa.ready) == 0, "pipe");

	for (long round = 0; round < rounds; round++) {
		pid_t pid;

		/* a writer writing flat out, killed at a random moment */
		wa.first = next;
		wa.count = 0;
		pid = th_fork(writer_process, &wa);
		ok_kill &= pid > 0 && th_recv_u64(&wa.ready, &ready, 10000) == 0;
		th_sleep_us(1000 + th_rand_below(20000));
		ok_kill &= th_kill(pid) == 128 + SIGKILL;

		ok_read &= read_stable(r, &expect[0], &expect[1]);
		ok_read &= expect[0] >= next && expect[1] >= next - 1;
		pid = th_fork(fresh_reader_process, expect);
		ok_fresh &= th_wait(pid, 20000) == 0;

		/* a new writer takes the dead one's slot */
		next = (expect[0] > expect[1] ? expect[0] : expect[1]) + 1;
		wa.first = next;
		wa.count = 3;
		pid = th_fork(writer_process, &wa);
		ok_new &= th_wait(pid, 20000) == 0;
		ok_new &= read_stable(r, &expect[0], &expect[1]) &&
			  expect[0] == next + 2 && expect[1] == next + 2;
		next += 3;
	}
	tap_ok(ok_kill, "%ld writers killed while writing", rounds);
	tap_ok(ok_read, "after each death: consistent, stable last values");
	tap_ok(ok_fresh, "a new reader process reads the same values");
	tap_ok(ok_new, "a new writer attaches and its writes are read");

	floe_reader_destroy(r);
	floe_blackboard_close(bb);
	/* the dead writers' nodes */
	floe_node_cleanup_dead(node);
	floe_node_destroy(node);
	th_pipe_close(&wa.ready);
	return tap_done();
}
