// SPDX-License-Identifier: MIT
/*
 * A hostile peer writes into a live blackboard: its slots, the entry
 * descriptors (the key table: keys, types, sizes, alignments), the state
 * cells (published slot, writing bit, generation) and the values, and the
 * listener cells of its change-notification event service; one entry is
 * loaned out at the time. Then the creator's reader reads and waits, the
 * writer publishes and writes, and another node opens the blackboard and
 * reads it. Nothing of that may crash or hang, and every call must return
 * a result its documentation allows.
 *
 * What a hostile peer cannot do while the values are left alone: make a
 * reader return bytes nobody wrote. Every value written here (also the
 * loaned one) fills its entry with one byte, so each read is checked
 * against the bytes written to that entry. An input without patches must
 * read exactly the latest values and generations.
 *
 * Regions: 0 the slots, 1 the descriptors, 2 the cells, 3 the values,
 * 4 the event service from its slots on. (Test of internals: it maps the
 * segments through the library's private headers.)
 */
#include "fuzz_common.h"
#include "base/bounds.h"
#include "internal.h"

#define NENTRIES 3
#define MAX_WRITES 8
#define MAX_SIZE 100

struct entry {
	struct floe_blackboard_entry e;
	uint8_t written[MAX_WRITES]; /* the fill byte of each write */
	uint32_t nwritten;
	uint32_t published; /* the write readers see (its generation) */
};

static const struct floe_blackboard_entry proto[NENTRIES] = {
	{ 1, "fuzz.U64", 8, 8, NULL },
	{ 7, "fuzz.Pose", 24, 8, NULL },
	{ 42, "fuzz.Wide", MAX_SIZE, 64, NULL },
};

static struct entry ents[NENTRIES];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_setup("bb");
	return 0;
}


/* The byte entry @i's next value is filled with, recorded as written. */
static uint8_t next_fill(uint32_t i)
{
	struct entry *e = &ents[i];
	uint8_t b = (uint8_t)(0x11 * (i + 1) + 0x40 * e->nwritten);

	if (e->nwritten == MAX_WRITES)
		abort();
	e->written[e->nwritten++] = b;
	return b;
}

static void write_entry(floe_writer *w, uint32_t i)
{
	uint8_t v[MAX_SIZE];

	memset(v, next_fill(i), sizeof(v));
	if (fz_ret(floe_writer_write(w, ents[i].e.key, v, ents[i].e.size), 0))
		abort(); /* keys and sizes are the writer's own copies */
	ents[i].published = ents[i].nwritten - 1;
}

/*
 * Read every entry, and an unknown key and a wrong size. With the values
 * @intact, what a read returns must be a value written to that entry;
 * unpatched, the latest one.
 */
static void read_all(floe_reader *r, bool intact)
{
	uint8_t buf[MAX_SIZE];
	uint64_t gen, gen2;

	for (uint32_t i = 0; i < NENTRIES; i++) {
		const struct entry *e = &ents[i];
		bool known = false;
		int ret;

		ret = fz_ret(floe_reader_read(r, e->e.key, buf, e->e.size,
					      &gen),
			     0);
		if (ret) {
			fz_expect(false, "read");
			continue;
		}
		for (uint32_t k = 0; k < e->nwritten && !known; k++) {
			known = true;
			for (uint64_t b = 0; b < e->e.size; b++)
				known &= buf[b] == e->written[k];
		}
		if (intact && !known) {
			fprintf(stderr, "fuzz: key %llu read bytes nobody "
					"wrote\n",
				(unsigned long long)e->e.key);
			abort();
		}
		fz_expect(buf[0] == e->written[e->published] &&
			       gen == e->published,
		       "latest value");
		fz_ret(floe_reader_generation(r, e->e.key, &gen2), 0);
		fz_ret(floe_reader_changed(r, e->e.key), 1);
	}
	if (floe_reader_read(r, 99, buf, 8, NULL) != FLOE_E_NO_KEY ||
	    floe_reader_read(r, 1, buf, 9, NULL) != FLOE_E_TYPE_MISMATCH)
		abort();
}

/* A changed key reported by a wait must be one of the blackboard's. */
static void on_change(uint64_t key, void *ctx)
{
	uint32_t i = 0;

	(void)ctx;
	while (i < NENTRIES && ents[i].e.key != key)
		i++;
	if (i == NENTRIES)
		abort();
}

/* Map segment @kind of the blackboard, as any process may. */
static floe_service *map(floe_node *node, enum floe_seg_kind kind)
{
	char name[FLOE_SEG_NAME_MAX];
	floe_service *svc;

	floe_seg_name(name, node->be->domain, kind, floe_name_hash("fuzz/bb"),
		      0);
	if (floe_svc_attach(node, name, &svc))
		abort();
	return svc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct floe_blackboard_entry entries[NENTRIES];
	struct floe_blackboard_opts opts = {
		.entries = entries,
		.num_entries = NENTRIES,
	};
	uint8_t initial[NENTRIES][MAX_SIZE], before[1024];
	floe_node *node = fz_node("fuzz"), *other;
	floe_blackboard *bb, *bb2;
	floe_service *seg, *ev;
	struct fz_region regions[5];
	floe_reader *r, *r2;
	floe_writer *w, *w2;
	struct floe_svc_layout *l;
	uint64_t cells_off, values_off;
	bool intact;
	char *base;
	void *loan;
	int ret;

	for (uint32_t i = 0; i < NENTRIES; i++) {
		ents[i] = (struct entry){ .e = proto[i] };
		memset(initial[i], next_fill(i), MAX_SIZE);
		entries[i] = proto[i];
		entries[i].initial = initial[i];
	}
	if (floe_blackboard_create(node, "fuzz/bb", &opts, &bb) ||
	    floe_writer_create(bb, &w) || floe_reader_create(bb, &r))
		abort();
	write_entry(w, 0);
	write_entry(w, 0);
	write_entry(w, 1);
	/* entry 2 loaned and filled, not published: its writing bit is set
	 * (a hostile state word may make readers take it: a whole value) */
	if (floe_writer_loan(w, ents[2].e.key, &loan))
		abort();
	memset(loan, next_fill(2), ents[2].e.size);
	read_all(r, true);

	seg = map(node, FLOE_KIND_BLACKBOARD);
	ev = map(node, FLOE_KIND_EVENT);
	l = &seg->lay;
	base = seg->seg.addr;
	/* the layout of lib/blackboard.c: descriptors, cells, values */
	cells_off = floe_align_up(l->body_off + NENTRIES *
						      sizeof(struct floe_bb_desc),
				  FLOE_CACHELINE);
	values_off = floe_align_up(cells_off + NENTRIES *
						       sizeof(struct floe_bb_cell),
				   4096);
	regions[0] = (struct fz_region){ base + l->slots_off[FLOE_SLOT_NODE],
					 l->body_off -
						 l->slots_off[FLOE_SLOT_NODE] };
	regions[1] = (struct fz_region){
		base + l->body_off, NENTRIES * sizeof(struct floe_bb_desc)
	};
	regions[2] = (struct fz_region){
		base + cells_off, NENTRIES * sizeof(struct floe_bb_cell)
	};
	regions[3] = (struct fz_region){ base + values_off,
					 seg->qos.bb.value_bytes };
	regions[4] = (struct fz_region){
		(char *)ev->seg.addr + ev->lay.slots_off[FLOE_SLOT_NODE],
		ev->lay.size - ev->lay.slots_off[FLOE_SLOT_NODE]
	};
	if (regions[3].size > sizeof(before))
		abort();
	memcpy(before, regions[3].base, regions[3].size);
	fz_unpatched = len < 4;
	fz_patch(data, len, regions, 5);
	intact = !memcmp(before, regions[3].base, regions[3].size);
	atomic_fetch_add(&seg->hdr->changes, 1);
	atomic_fetch_add(&ev->hdr->changes, 1);

	read_all(r, intact);
	ret = fz_ret(floe_reader_wait(r, 0, on_change, NULL), NENTRIES);
	fz_expect(ret == 2, "wait reports keys 1 and 7");
	if (fz_ret(floe_writer_publish(w, ents[2].e.key), 0))
		abort();
	ents[2].published = 1;
	write_entry(w, 1);
	write_entry(w, 0);
	read_all(r, intact);
	ret = fz_ret(floe_reader_wait(r, 0, on_change, NULL), NENTRIES);
	fz_expect(ret == 3, "wait reports every key");

	/* another node relies on the same entries */
	other = fz_node("other");
	for (uint32_t i = 0; i < NENTRIES; i++)
		entries[i].initial = NULL;
	ret = fz_ret(floe_blackboard_open(other, "fuzz/bb", &opts, &bb2), 0);
	fz_expect(ret == 0, "open");
	if (ret == 0) {
		if (fz_ret(floe_reader_create(bb2, &r2), 0) == 0) {
			read_all(r2, intact);
			write_entry(w, 2);
			fz_ret(floe_reader_wait(r2, 0, on_change, NULL),
			       NENTRIES);
			read_all(r2, intact);
			floe_reader_destroy(r2);
		}
		ret = fz_ret(floe_writer_create(bb2, &w2), 0);
		fz_expect(ret == FLOE_E_PORT_LIMIT, "a second writer");
		if (!ret)
			floe_writer_destroy(w2);
		floe_blackboard_close(bb2);
	}
	floe_node_destroy(other);

	floe_svc_detach(ev);
	floe_svc_detach(seg);
	floe_reader_destroy(r);
	floe_writer_destroy(w);
	floe_blackboard_close(bb);
	floe_node_destroy(node);
	fz_sweep();
	return 0;
}
