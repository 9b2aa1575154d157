// SPDX-License-Identifier: MIT
/*
 * Blackboard basics: create with fixed keys and initial values, open from
 * another process with and without type expectations, the errors of both
 * (duplicate keys, bad types, missing keys, QoS demands, a second writer,
 * readers beyond the maximum, unknown keys, wrong sizes, publish without a
 * loan), copying and in-place writes seen by a reader in another process
 * with their generations, "changed since last read", and discovery.
 */
#include "helpers.h"

#define BB "t/bb/basic"

struct pose {
	double x, y, z;
	uint32_t id;
};

struct big {
	uint8_t bytes[100];
} __attribute__((aligned(64)));

static const uint64_t counter_init = 41;
static const struct pose pose_init = { 1.5, 2.5, 3.5, 7 };

static struct floe_blackboard_entry entries[] = {
	{ .key = 10, .type_name = "u64", .size = 8, .align = 8,
	  .initial = &counter_init },
	{ .key = 3, .type_name = "Pose", .size = sizeof(struct pose),
	  .align = 8, .initial = &pose_init },
	{ .key = 99, .type_name = "Big", .size = sizeof(struct big),
	  .align = 64, .initial = NULL },
};

#define NUM_ENTRIES (sizeof(entries) / sizeof(entries[0]))

struct chan {
	struct th_pipe to_child, to_parent;
};

/* Child: open, check initial values and errors, then read what the
 * parent writes, step by step. */
static int reader_process(void *arg)
{
	struct chan *ch = arg;
	struct floe_blackboard_entry want[] = { entries[1] };
	struct floe_blackboard_opts o = { .entries = want, .num_entries = 1 };
	struct floe_blackboard_qos big_qos = { .max_readers = 1000 };
	floe_node *node = th_node("bb-reader");
	floe_blackboard *bb = NULL, *other;
	floe_reader *r = NULL;
	floe_writer *w;
	struct pose p;
	struct big b;
	uint64_t v = 0, gen = 99, step;
	int ret;

	if (!node)
		return 1;
	ret = floe_blackboard_open(node, BB, &o, &bb);
	if (!th_check(ret == 0, "open: %s", floe_strerror(ret)))
		return 1;
	ret = floe_reader_create(bb, &r);
	if (!th_check(ret == 0, "reader: %s", floe_strerror(ret)))
		return 1;
	th_check_eq(floe_blackboard_num_entries(bb), NUM_ENTRIES, "entries");

	/* wrong expectations */
	want[0].type_name = "NotPose";
	th_check_eq(floe_blackboard_open(node, BB, &o, &other),
		    FLOE_E_TYPE_MISMATCH, "other type name");
	want[0] = entries[1];
	want[0].size += 8;
	th_check_eq(floe_blackboard_open(node, BB, &o, &other),
		    FLOE_E_TYPE_MISMATCH, "other size");
	want[0] = entries[1];
	want[0].align = 16;
	th_check_eq(floe_blackboard_open(node, BB, &o, &other),
		    FLOE_E_TYPE_MISMATCH, "other alignment");
	want[0] = entries[1];
	want[0].key = 4;
	th_check_eq(floe_blackboard_open(node, BB, &o, &other),
		    FLOE_E_TYPE_MISMATCH, "missing key");
	want[0] = entries[1];
	o.qos = &big_qos;
	th_check_eq(floe_blackboard_open(node, BB, &o, &other),
		    FLOE_E_QOS_MISMATCH, "more readers than offered");
	o.qos = NULL;
	th_check_eq(floe_blackboard_open(node, "t/bb/none", NULL, &other),
		    FLOE_E_NOT_FOUND, "no such blackboard");

	/* the parent holds the writer */
	th_check_eq(floe_writer_create(bb, &w), FLOE_E_PORT_LIMIT,
		    "second writer in another process");

	/* initial values, generation 0 */
	ret = floe_reader_read(r, 10, &v, sizeof(v), &gen);
	th_check(ret == 0 && v == 41 && gen == 0, "counter %d %" PRIu64
		 " gen %" PRIu64, ret, v, gen);
	ret = floe_reader_read(r, 3, &p, sizeof(p), &gen);
	th_check(ret == 0 && p.x == 1.5 && p.z == 3.5 && p.id == 7 &&
			 gen == 0, "pose");
	memset(&b, 0xff, sizeof(b));
	ret = floe_reader_read(r, 99, &b, sizeof(b), NULL);
	th_check(ret == 0 && b.bytes[0] == 0 && b.bytes[99] == 0,
		 "no initial value: zeros");
	th_check_eq(floe_reader_read(r, 5, &v, sizeof(v), NULL), FLOE_E_NO_KEY,
		    "unknown key");
	th_check_eq(floe_reader_read(r, 10, &v, 4, NULL), FLOE_E_TYPE_MISMATCH,
		    "wrong size");
	th_check_eq(floe_reader_changed(r, 10), 0, "nothing changed yet");
	th_send_u64(&ch->to_parent, 1);

	/* step 1: the parent wrote the counter 3 times (copying) */
	if (th_recv_u64(&ch->to_child, &step, 5000) || step != 1)
		return 1;
	th_check_eq(floe_reader_changed(r, 10), 1, "counter changed");
	th_check_eq(floe_reader_changed(r, 3), 0, "pose did not");
	ret = floe_reader_generation(r, 10, &gen);
	th_check(ret == 0 && gen == 3, "generation %" PRIu64, gen);
	ret = floe_reader_read(r, 10, &v, sizeof(v), &gen);
	th_check(ret == 0 && v == 1002 && gen == 3, "counter %" PRIu64, v);
	th_check_eq(floe_reader_changed(r, 10), 0, "read: no longer changed");
	th_send_u64(&ch->to_parent, 2);

	/* step 2: pose and big written in place (loan + publish) */
	if (th_recv_u64(&ch->to_child, &step, 5000) || step != 2)
		return 1;
	ret = floe_reader_read(r, 3, &p, sizeof(p), &gen);
	th_check(ret == 0 && p.x == -1 && p.y == -2 && p.z == -3 &&
			 p.id == 8 && gen == 1, "pose in place, gen %" PRIu64,
		 gen);
	ret = floe_reader_read(r, 99, &b, sizeof(b), &gen);
	th_check(ret == 0 && b.bytes[0] == 0xab && b.bytes[99] == 0xab &&
			 gen == 1, "big in place");
	floe_reader_destroy(r);
	floe_blackboard_close(bb);
	floe_node_destroy(node);
	th_send_u64(&ch->to_parent, 3);
	return th_child_result();
}

struct found {
	int services, writers, readers;
	struct floe_service_info info;
};

static int on_service(const struct floe_service_info *info, void *ctx)
{
	struct found *f = ctx;

	if (!strcmp(info->name, BB) &&
	    info->pattern == FLOE_PATTERN_KIND_BLACKBOARD) {
		f->services++;
		f->info = *info;
	}
	return 0;
}

static int on_port(const struct floe_port_info *info, void *ctx)
{
	struct found *f = ctx;

	if (strcmp(info->service, BB) ||
	    info->pattern != FLOE_PATTERN_KIND_BLACKBOARD)
		return 0;
	f->writers += info->role == FLOE_PORT_WRITER;
	f->readers += info->role == FLOE_PORT_READER;
	return 0;
}

int main(void)
{
	struct floe_blackboard_qos qos;
	struct floe_blackboard_opts o = { .entries = entries,
					  .num_entries = NUM_ENTRIES,
					  .qos = &qos };
	struct floe_blackboard_entry dup[2] = { entries[0], entries[0] };
	struct floe_blackboard_entry bad = entries[0];
	struct floe_blackboard_opts bo = { .entries = dup, .num_entries = 2 };
	floe_blackboard *bb, *other;
	floe_reader *readers[3];
	floe_writer *w, *w2;
	floe_node *node;
	struct found f = { 0 };
	struct chan ch;
	struct pose *pp;
	struct big *bp;
	uint64_t v, step;
	void *slot;
	pid_t pid;
	int ret;

	th_setup("bbbasic");
	tap_plan(25);
	node = th_node("bb-basic");
	tap_require(node != NULL, "node");
	floe_blackboard_qos_init(&qos);
	qos.max_readers = 3;

	tap_eq(floe_blackboard_create(node, BB, &bo, &other), FLOE_E_INVALID,
	       "duplicate keys refused");
	bo.num_entries = 0;
	tap_eq(floe_blackboard_create(node, BB, &bo, &other), FLOE_E_INVALID,
	       "no entries refused");
	bad.align = 3;
	bo.entries = &bad;
	bo.num_entries = 1;
	tap_eq(floe_blackboard_create(node, BB, &bo, &other), FLOE_E_INVALID,
	       "bad alignment refused");
	bad = entries[0];
	bad.type_name = "";
	tap_eq(floe_blackboard_create(node, BB, &bo, &other), FLOE_E_NAME,
	       "empty type name refused");

	ret = floe_blackboard_create(node, BB, &o, &bb);
	tap_require(ret == 0, "create: %s", floe_strerror(ret));
	tap_eq(floe_blackboard_create(node, BB, &o, &other), FLOE_E_EXISTS,
	       "create again: exists");
	ret = floe_writer_create(bb, &w);
	tap_require(ret == 0, "writer: %s", floe_strerror(ret));
	tap_eq(floe_writer_create(bb, &w2), FLOE_E_PORT_LIMIT,
	       "second writer: port limit");
	tap_eq(floe_writer_write(w, 10, &v, 4), FLOE_E_TYPE_MISMATCH,
	       "write of the wrong size");
	tap_eq(floe_writer_write(w, 11, &v, 8), FLOE_E_NO_KEY,
	       "write of an unknown key");
	tap_eq(floe_writer_publish(w, 3), FLOE_E_INVALID,
	       "publish without a loan");

	tap_require(th_pipe_init(&ch.to_child) == 0 &&
			    th_pipe_init(&ch.to_parent) == 0, "pipes");
	pid = th_fork(reader_process, &ch);
	tap_require(pid > 0, "reader process");
	tap_ok(th_recv_u64(&ch.to_parent, &step, 10000) == 0 && step == 1,
	       "reader checked initial values and open errors");

	/* one reader slot is the child's: two more fit, a third does not */
	tap_ok(floe_reader_create(bb, &readers[0]) == 0 &&
		       floe_reader_create(bb, &readers[1]) == 0,
	       "readers up to the maximum");
	tap_eq(floe_reader_create(bb, &readers[2]), FLOE_E_PORT_LIMIT,
	       "reader beyond the maximum");
	floe_service_list(node, on_service, &f);
	floe_port_list(node, on_port, &f);
	tap_ok(f.services == 1 && f.info.publishers == 1 &&
		       f.info.subscribers == 3 &&
		       f.info.blackboard_entries == NUM_ENTRIES &&
		       f.info.blackboard_qos.max_readers == 3,
	       "discovery: blackboard with 1 writer, 3 readers, 3 entries");
	tap_ok(f.writers == 1 && f.readers == 3, "discovery: ports by role");
	floe_reader_destroy(readers[1]);
	floe_reader_destroy(readers[0]);

	for (v = 1000; v < 1003; v++)
		floe_writer_write(w, 10, &v, sizeof(v));
	th_send_u64(&ch.to_child, 1);
	tap_ok(th_recv_u64(&ch.to_parent, &step, 10000) == 0 && step == 2,
	       "reader saw copying writes with their generation");

	ret = floe_writer_loan(w, 3, &slot);
	pp = slot;
	tap_require(ret == 0 && ((uintptr_t)slot & 7) == 0, "loan pose");
	*pp = (struct pose){ -1, -2, -3, 8 };
	ret = floe_writer_loan(w, 99, &slot);
	bp = slot;
	tap_ok(ret == 0 && ((uintptr_t)slot & 63) == 0,
	       "loan honours a 64-byte alignment");
	memset(bp->bytes, 0xab, sizeof(bp->bytes));
	tap_ok(floe_writer_publish(w, 3) == 0 && floe_writer_publish(w, 99) == 0,
	       "publish both");
	th_send_u64(&ch.to_child, 2);
	tap_ok(th_recv_u64(&ch.to_parent, &step, 10000) == 0 && step == 3,
	       "reader saw in-place writes");
	tap_eq(th_wait(pid, 10000), 0, "reader process passed its checks");

	floe_writer_destroy(w);
	floe_blackboard_close(bb);
	floe_node_destroy(node);
	th_pipe_close(&ch.to_child);
	th_pipe_close(&ch.to_parent);
	return tap_done();
}
