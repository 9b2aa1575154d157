// SPDX-License-Identifier: MIT
/*
 * Readers that die: a blackboard with room for two readers; $FLOE_DEATH_ROUNDS
 * times (default 5) two reader processes, reading in a loop or asleep in
 * floe_reader_wait, are SIGKILLed. Each time, new readers can only be
 * created because the dead ones' slots (and their listeners' slots on the
 * event service) are reclaimed; the writer keeps writing throughout and
 * the new readers read its latest value and are woken by its next write.
 */
#include "helpers.h"

#define BB "t/bb/reader-death"

static const struct floe_blackboard_entry entry = {
	.key = 1, .type_name = "u64", .size = 8, .align = 8,
};

struct reader_arg {
	struct th_pipe ready;
	int sleep; /* wait for changes instead of reading in a loop */
};

static int reader_process(void *arg)
{
	struct reader_arg *ra = arg;
	floe_node *node = th_node("bb-reader");
	floe_blackboard *bb = NULL;
	floe_reader *r = NULL;
	uint64_t v;
	int ret;

	if (!node)
		return 1;
	ret = floe_blackboard_open(node, BB, NULL, &bb);
	if (!th_check(ret == 0, "open: %s", floe_strerror(ret)))
		return 1;
	ret = floe_reader_create(bb, &r);
	if (!th_check(ret == 0, "reader: %s", floe_strerror(ret)))
		return 1;
	th_send_u64(&ra->ready, 1);
	for (;;) {
		if (ra->sleep)
			floe_reader_wait(r, UINT64_MAX, NULL, NULL);
		else
			floe_reader_read(r, 1, &v, 8, NULL);
	}
}

int main(void)
{
	struct floe_blackboard_qos qos = { .max_readers = 2, .max_nodes = 8 };
	struct floe_blackboard_opts o = { .entries = &entry, .num_entries = 1,
					  .qos = &qos };
	struct reader_arg ra;
	floe_blackboard *bb;
	floe_reader *r[2];
	floe_writer *w;
	floe_node *node;
	uint64_t ready, v = 0, got;
	long rounds;
	int ok_kill = 1, ok_new = 1, ok_read = 1, ret;

	th_setup("bbrdeath");
	rounds = th_env_long("FLOE_DEATH_ROUNDS", 5);
	tap_plan(7);
	node = th_node("bb-rdeath");
	tap_require(node != NULL, "node");
	ret = floe_blackboard_create(node, BB, &o, &bb);
	tap_require(ret == 0, "create: %s", floe_strerror(ret));
	ret = floe_writer_create(bb, &w);
	tap_require(ret == 0, "writer: %s", floe_strerror(ret));
	tap_require(th_pipe_init(&ra.ready) == 0, "pipe");

	for (long round = 0; round < rounds; round++) {
		pid_t pids[2];

		for (int i = 0; i < 2; i++) {
			ra.sleep = i;
			pids[i] = th_fork(reader_process, &ra);
			ok_kill &= pids[i] > 0 &&
				   th_recv_u64(&ra.ready, &ready, 10000) == 0;
		}
		for (int k = 0; k < 100; k++, v++)
			floe_writer_write(w, 1, &v, 8);
		for (int i = 0; i < 2; i++)
			ok_kill &= th_kill(pids[i]) == 128 + SIGKILL;
		v++;
		floe_writer_write(w, 1, &v, 8);

		/* both slots were the dead readers': reclaimed on demand */
		ok_new &= floe_reader_create(bb, &r[0]) == 0 &&
			  floe_reader_create(bb, &r[1]) == 0;
		if (!ok_new)
			break;
		ok_read &= floe_reader_read(r[0], 1, &got, 8, NULL) == 0 &&
			   got == v;
		v++;
		floe_writer_write(w, 1, &v, 8);
		ok_read &= floe_reader_wait(r[1], 5000000000ull, NULL, NULL) ==
				   1 &&
			   floe_reader_read(r[1], 1, &got, 8, NULL) == 0 &&
			   got == v;
		floe_reader_destroy(r[0]);
		floe_reader_destroy(r[1]);
	}
	tap_ok(ok_kill, "%ld times two readers killed", rounds);
	tap_ok(ok_new, "new readers take the dead readers' slots");
	tap_ok(ok_read, "they read the latest value and wake on the next");

	floe_writer_destroy(w);
	floe_blackboard_close(bb);
	floe_node_cleanup_dead(node);
	floe_node_destroy(node);
	th_pipe_close(&ra.ready);
	return tap_done();
}
