// SPDX-License-Identifier: MIT
/*
 * Waiting for a blackboard to change: a timed wait with nothing written
 * returns 0 on time; a write by a writer in another process wakes a
 * sleeping reader and names the key; several writes to several keys
 * before a look report each key once; a reader's listener attached to a
 * waitset fires on a write; and floe_reader_changed follows writes and
 * reads.
 */
#include "helpers.h"

#define BB "t/bb/wait"

static const struct floe_blackboard_entry entries[] = {
	{ .key = 100, .type_name = "u64", .size = 8, .align = 8 },
	{ .key = 7, .type_name = "u64", .size = 8, .align = 8 },
	{ .key = 55, .type_name = "u32", .size = 4, .align = 4 },
};

struct keys {
	uint64_t key[8];
	int n;
};

static void record(uint64_t key, void *ctx)
{
	struct keys *k = ctx;

	if (k->n < 8)
		k->key[k->n++] = key;
}

struct step {
	struct th_pipe go, done;
};

/* Writes on command: each command names a key (0: stop). */
static int writer_process(void *arg)
{
	struct step *st = arg;
	floe_node *node = th_node("bb-writer");
	floe_blackboard *bb = NULL;
	floe_writer *w = NULL;
	uint64_t key, delay_ms, value = 1;
	int ret;

	if (!node)
		return 1;
	ret = floe_blackboard_open(node, BB, NULL, &bb);
	if (!th_check(ret == 0, "open: %s", floe_strerror(ret)))
		return 1;
	ret = floe_writer_create(bb, &w);
	if (!th_check(ret == 0, "writer: %s", floe_strerror(ret)))
		return 1;
	th_send_u64(&st->done, 0);
	while (!th_recv_u64(&st->go, &key, 20000) && key) {
		if (th_recv_u64(&st->go, &delay_ms, 1000))
			break;
		th_sleep_ms(delay_ms);
		ret = key == 55 ? floe_writer_write(w, key, &value, 4)
				: floe_writer_write(w, key, &value, 8);
		th_check(ret == 0, "write %" PRIu64 ": %s", key,
			 floe_strerror(ret));
		value++;
		th_send_u64(&st->done, key);
	}
	floe_writer_destroy(w);
	floe_blackboard_close(bb);
	floe_node_destroy(node);
	return th_child_result();
}

static void command(struct step *st, uint64_t key, uint64_t delay_ms)
{
	th_send_u64(&st->go, key);
	th_send_u64(&st->go, delay_ms);
}

static int ws_cb(floe_waitset *ws, int attachment, enum floe_trigger trigger,
		 void *user)
{
	int *fired = user;

	(void)ws;
	(void)attachment;
	if (trigger == FLOE_TRIGGER_NOTIFIED)
		(*fired)++;
	return 0;
}

int main(void)
{
	struct floe_blackboard_opts o = { .entries = entries, .num_entries = 3 };
	floe_blackboard *bb;
	floe_waitset *ws;
	floe_reader *r;
	floe_node *node;
	struct step st;
	struct keys k = { .n = 0 };
	uint64_t t0, elapsed_ms, done, v;
	int ret, fired = 0, att;
	pid_t pid;

	th_setup("bbwait");
	tap_plan(15);
	node = th_node("bb-wait");
	tap_require(node != NULL, "node");
	ret = floe_blackboard_create(node, BB, &o, &bb);
	tap_require(ret == 0, "create: %s", floe_strerror(ret));
	ret = floe_reader_create(bb, &r);
	tap_require(ret == 0, "reader: %s", floe_strerror(ret));

	t0 = th_now_ns();
	ret = floe_reader_wait(r, 200000000ull, record, &k);
	elapsed_ms = (th_now_ns() - t0) / 1000000;
	tap_ok(ret == 0 && k.n == 0 && elapsed_ms >= 195 && elapsed_ms < 3000,
	       "nothing written: timed wait returns 0 after %" PRIu64 " ms",
	       elapsed_ms);

	tap_require(th_pipe_init(&st.go) == 0 && th_pipe_init(&st.done) == 0,
		    "pipes");
	pid = th_fork(writer_process, &st);
	tap_require(pid > 0 && th_recv_u64(&st.done, &done, 10000) == 0,
		    "writer process attached");

	/* asleep when the write comes */
	command(&st, 7, 100);
	t0 = th_now_ns();
	ret = floe_reader_wait(r, 10000000000ull, record, &k);
	elapsed_ms = (th_now_ns() - t0) / 1000000;
	tap_ok(ret == 1 && k.n == 1 && k.key[0] == 7 && elapsed_ms >= 50 &&
		       elapsed_ms < 5000,
	       "a write wakes the sleeping reader after %" PRIu64 " ms, key 7",
	       elapsed_ms);
	th_recv_u64(&st.done, &done, 5000);
	tap_eq(floe_reader_changed(r, 7), 1, "key 7 changed");
	tap_ok(floe_reader_read(r, 7, &v, 8, NULL) == 0 && v == 1 &&
		       floe_reader_changed(r, 7) == 0,
	       "read it: value 1, no longer changed");

	/* several writes before a look: each key once, in entry order */
	command(&st, 55, 0);
	th_recv_u64(&st.done, &done, 5000);
	command(&st, 100, 0);
	th_recv_u64(&st.done, &done, 5000);
	command(&st, 55, 0);
	th_recv_u64(&st.done, &done, 5000);
	k.n = 0;
	ret = floe_reader_wait(r, 0, record, &k);
	tap_ok(ret == 2 && k.n == 2 && k.key[0] == 100 && k.key[1] == 55,
	       "three writes to two keys: each key reported once");
	tap_eq(floe_reader_wait(r, 0, NULL, NULL), 0, "then nothing pending");

	/* through a waitset */
	tap_require(floe_waitset_create(NULL, &ws) == 0, "waitset");
	att = floe_waitset_attach_listener(ws, floe_reader_listener(r), 0,
					   &fired);
	tap_ok(att >= 0, "reader's listener attached");
	command(&st, 100, 50);
	for (int i = 0; i < 50 && !fired; i++)
		floe_waitset_run_once(ws, 200000000ull, ws_cb);
	k.n = 0;
	tap_ok(fired >= 1 && floe_reader_wait(r, 0, record, &k) == 1 &&
		       k.key[0] == 100,
	       "waitset woke on the write; key 100 reported");
	floe_waitset_destroy(ws);

	command(&st, 0, 0);
	tap_eq(th_wait(pid, 10000), 0, "writer process passed its checks");
	floe_reader_destroy(r);
	floe_blackboard_close(bb);
	floe_node_destroy(node);
	th_pipe_close(&st.go);
	th_pipe_close(&st.done);
	return tap_done();
}
