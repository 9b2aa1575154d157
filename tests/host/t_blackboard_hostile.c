// SPDX-License-Identifier: MIT
/*
 * A buggy or hostile peer writes garbage into a blackboard's segment:
 * random state words, descriptors with absurd sizes, alignments, broken
 * type names or duplicate keys, a QoS whose value area does not fit or
 * does not match the descriptors, and finally random bytes over
 * everything after the header. Readers and writers that are attached
 * must never crash (every call returns a valid code); openers must refuse
 * what does not validate; a new reader process survives too. (Test of
 * internals: it maps the segment through the library's private headers.)
 */
#include "helpers.h"
#include "base/bounds.h"
#include "internal.h"

#define BB "t/bb/hostile"

struct big {
	uint64_t v[32];
};

static const struct floe_blackboard_entry entries[] = {
	{ .key = 1, .type_name = "u64", .size = 8, .align = 8 },
	{ .key = 2, .type_name = "Big", .size = sizeof(struct big),
	  .align = 8 },
};

static const struct floe_blackboard_opts opts = {
	.entries = entries,
	.num_entries = 2,
};

static int valid_code(int r)
{
	return r == 0 || r == FLOE_E_BUSY || r == FLOE_E_TYPE_MISMATCH ||
	       r == FLOE_E_NO_KEY;
}

/* An opener in another process: whatever it finds, it must not crash. */
static int opener_process(void *arg)
{
	floe_node *node = th_node("bb-opener");
	floe_blackboard *bb = NULL;
	floe_reader *r = NULL;
	struct big b;
	uint64_t v;
	int ret;

	(void)arg;
	if (!node)
		return 1;
	ret = floe_blackboard_open(node, BB, NULL, &bb);
	if (ret == 0) {
		if (floe_reader_create(bb, &r) == 0) {
			th_check(valid_code(floe_reader_read(r, 1, &v, 8, NULL)),
				 "read");
			th_check(valid_code(floe_reader_read(r, 2, &b,
							     sizeof(b), NULL)),
				 "read");
			floe_reader_destroy(r);
		}
		floe_blackboard_close(bb);
	}
	floe_node_destroy(node);
	return th_child_result();
}

int main(void)
{
	char seg_name[FLOE_SEG_NAME_MAX];
	floe_blackboard *bb, *other;
	struct floe_bb_desc *d, saved[2];
	struct floe_bb_cell *cells;
	struct floe_shm_qos qos_saved;
	floe_service *svc;
	floe_writer *w;
	floe_reader *r;
	floe_node *node;
	struct big b;
	uint64_t v, gen;
	int ok, ret;

	th_setup("bbhostile");
	tap_plan(15);
	node = th_node("bb-hostile");
	tap_require(node != NULL, "node");
	tap_require(floe_blackboard_create(node, BB, &opts, &bb) == 0 &&
			    floe_writer_create(bb, &w) == 0 &&
			    floe_reader_create(bb, &r) == 0,
		    "blackboard, writer and reader");
	floe_seg_name(seg_name, getenv("FLOE_DOMAIN"), FLOE_KIND_BLACKBOARD,
		      floe_name_hash(BB), 0);
	ret = floe_svc_attach(node, seg_name, &svc);
	tap_require(ret == 0, "segment mapped: %s", floe_strerror(ret));
	/* the layout of lib/blackboard.c: descriptors, then cells */
	d = (struct floe_bb_desc *)((char *)svc->seg.addr + svc->lay.body_off);
	cells = (struct floe_bb_cell *)((char *)svc->seg.addr +
					floe_align_up(svc->lay.body_off +
							      svc->qos.bb.entries *
								      sizeof(*d),
						      FLOE_CACHELINE));
	memcpy(saved, d, sizeof(saved));
	qos_saved = svc->hdr->qos;

	/* State words: any value names one of the entry's two slots. */
	ok = 1;
	for (int i = 0; i < 1000; i++) {
		atomic_store(&cells[th_rand_below(2)].state, th_rand());
		ok &= valid_code(floe_reader_read(r, 1, &v, 8, NULL));
		ok &= valid_code(floe_reader_read(r, 2, &b, sizeof(b), NULL));
		ok &= floe_reader_changed(r, 2) >= 0;
	}
	tap_ok(ok, "random state words: reads return valid codes");
	v = 12345;
	ret = floe_writer_write(w, 1, &v, 8);
	v = 0;
	tap_ok(ret == 0 && floe_reader_read(r, 1, &v, 8, &gen) == 0 &&
		       v == 12345,
	       "a write after garbage states is read back");

	/* Descriptors: the attached ports use their own validated copies;
	 * openers refuse what does not validate. */
	d[1].size = 1ULL << 40;
	tap_eq(floe_blackboard_open(node, BB, NULL, &other), FLOE_E_CORRUPT,
	       "absurd value size: open refuses");
	tap_ok(floe_reader_read(r, 2, &b, sizeof(b), NULL) == 0,
	       "the attached reader still reads with its own copy");
	memcpy(d, saved, sizeof(saved));
	d[0].align = 24;
	tap_eq(floe_blackboard_open(node, BB, NULL, &other), FLOE_E_CORRUPT,
	       "alignment not a power of two: open refuses");
	memcpy(d, saved, sizeof(saved));
	memset(d[0].type_name, 'x', sizeof(d[0].type_name));
	ret = floe_blackboard_open(node, BB, &opts, &other);
	tap_ok(ret == FLOE_E_TYPE_MISMATCH || ret == FLOE_E_CORRUPT,
	       "unterminated type name: open refuses (%s)", floe_strerror(ret));
	memcpy(d, saved, sizeof(saved));
	d[1].key = d[0].key;
	tap_eq(floe_blackboard_open(node, BB, NULL, &other), FLOE_E_CORRUPT,
	       "duplicate keys: open refuses");
	memcpy(d, saved, sizeof(saved));

	/* QoS: value area too small for the descriptors, or larger than
	 * the mapping. */
	svc->hdr->qos.bb.value_bytes = 64;
	tap_eq(floe_blackboard_open(node, BB, NULL, &other), FLOE_E_CORRUPT,
	       "value area smaller than the entries: open refuses");
	svc->hdr->qos.bb.value_bytes = 1U << 29;
	tap_eq(floe_blackboard_open(node, BB, NULL, &other), FLOE_E_CORRUPT,
	       "value area beyond the mapping: open refuses");
	svc->hdr->qos = qos_saved;
	ret = floe_blackboard_open(node, BB, &opts, &other);
	tap_ok(ret == 0, "restored: open works again (%s)", floe_strerror(ret));
	if (!ret)
		floe_blackboard_close(other);

	/* Random bytes over slots, descriptors, cells and values. */
	ok = 1;
	for (int round = 0; round < 200; round++) {
		char *base = (char *)svc->seg.addr + svc->lay.slots_off[FLOE_SLOT_NODE];
		uint64_t len = svc->lay.size - svc->lay.slots_off[FLOE_SLOT_NODE];

		for (uint64_t i = 0; i < len / 8; i += 1 + th_rand_below(16))
			((uint64_t *)base)[i] = th_rand_below(4) ? th_rand()
								 : th_rand_below(64);
		ok &= valid_code(floe_reader_read(r, 1, &v, 8, NULL));
		ok &= valid_code(floe_reader_read(r, 2, &b, sizeof(b), NULL));
		ok &= valid_code(floe_writer_write(w, 2, &b, sizeof(b)));
		ok &= floe_reader_changed(r, 1) >= 0;
	}
	tap_ok(ok, "200 rounds of random bytes: every call returns a valid "
	       "code");
	tap_eq(th_wait(th_fork(opener_process, NULL), 20000), 0,
	       "an opener process survives the garbage");

	floe_reader_destroy(r);
	floe_writer_destroy(w);
	/* The slots are garbage: remove the segment by hand; closing must
	 * still not crash. */
	node->be->ops->seg_unlink(node->be, seg_name);
	floe_svc_detach(svc);
	floe_blackboard_close(bb);
	floe_node_cleanup_dead(node);
	floe_node_destroy(node);
	return tap_done();
}
