// SPDX-License-Identifier: MIT
/*
 * Blackboard: typed key → value entries in one service segment of the
 * blackboard pattern ("<domain>.b.<hash>"). The writer takes the single
 * source slot, readers the sink slots. After the slots come one descriptor
 * per entry (key, type; written by the creator before the segment becomes
 * READY, never changed), one state cell per entry, and the value area.
 *
 * Values: each entry has two slots of its size (cache-line aligned, or
 * more if its type asks). The cell's state word holds
 * generation << 2 | writing << 1 | published slot.
 *
 *   write:  s = state; store s | writing; release fence;
 *           fill slot (s.slot ^ 1);
 *           store-release (s.generation + 1, slot ^ 1)
 *   read:   s1 = load-acquire state; copy slot s1.slot; acquire fence;
 *           s2 = state; the copy is good if no write began on s1's slot
 *           meanwhile: same generation, or the next one not yet followed
 *           by another write (its writing bit clear). Else retry.
 *
 * The writer only ever writes the slot that is not published, and only
 * after announcing it (the writing bit, or the publish of the generation
 * before), so a reader that saw none of that announcement read no byte of
 * the overwrite (the fences pair up as in a seqlock). A writer killed
 * half-way leaves the state pointing at the last published slot: readers
 * go on reading it, a new writer overwrites the other one. Nothing ever
 * waits for the writer.
 *
 * Where an entry's slots are is computed by every process from the
 * descriptors (copied and validated when the blackboard is opened) and
 * checked against the value area size computed from the validated QoS;
 * afterwards only state words are read from shared memory, and their slot
 * bit can only name one of the entry's two slots. A hostile peer can make
 * values wrong, never make a reader touch memory outside the mapping.
 *
 * Change notification goes through an ordinary event service of the same
 * name: the writer's notifier signals event id = entry index after every
 * publish; each reader owns a listener.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bounds.h"
#include "bb.h"

#define BLACKBOARD_TYPE_NAME "floe.blackboard"

FLOE_EXPORT void floe_blackboard_qos_init(struct floe_blackboard_qos *qos)
{
	if (!qos)
		return;
	*qos = (struct floe_blackboard_qos){
		.max_readers = 8,
		.max_nodes = 20,
	};
}

/* ------------------------------------------------------------------ */
/* Entries                                                            */
/* ------------------------------------------------------------------ */

static bool entry_type_valid(const char *type_name, uint64_t size,
			     uint64_t align)
{
	return floe_user_name_valid(type_name, FLOE_TYPE_NAME_LEN) && size &&
	       size <= FLOE_LIMIT_BB_VALUE_BYTES && align && align <= 4096 &&
	       !(align & (align - 1));
}

/*
 * Lay out the value slots in creation order, each slot aligned to the
 * larger of a cache line and the type's alignment. Returns the value area
 * size, or UINT64_MAX if it exceeds the limit (sizes must be validated).
 */
static uint64_t place_values(struct bb_entry *e, uint32_t n)
{
	uint64_t off = 0;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t a = e[i].align > FLOE_CACHELINE ? e[i].align
							 : FLOE_CACHELINE;

		e[i].stride = floe_align_up(e[i].size, a);
		e[i].value_off = floe_align_up(off, a);
		off = e[i].value_off + 2 * e[i].stride;
		if (off > FLOE_LIMIT_BB_VALUE_BYTES)
			return UINT64_MAX;
	}
	return off;
}

static int by_key_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct key_index *)a)->key;
	uint64_t y = ((const struct key_index *)b)->key;

	return x < y ? -1 : x > y;
}

/* Index entries by key; FLOE_E_INVALID if two share a key. */
static int index_keys(floe_blackboard *bb)
{
	bb->by_key = malloc((size_t)bb->n * sizeof(*bb->by_key));
	if (!bb->by_key)
		return FLOE_E_NOMEM;
	for (uint32_t i = 0; i < bb->n; i++)
		bb->by_key[i] = (struct key_index){ bb->entries[i].key, i };
	qsort(bb->by_key, bb->n, sizeof(*bb->by_key), by_key_cmp);
	for (uint32_t i = 1; i < bb->n; i++)
		if (bb->by_key[i].key == bb->by_key[i - 1].key)
			return FLOE_E_INVALID;
	return 0;
}

int64_t floe_bb_find(const floe_blackboard *bb, uint64_t key)
{
	uint32_t lo = 0, hi = bb->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		uint64_t k = bb->by_key[mid].key;

		if (k == key)
			return bb->by_key[mid].index;
		if (k < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Where the body's parts are, from the QoS alone. */
struct bb_layout {
	uint64_t descs, cells, values, end;
};

static void bb_layout(const struct floe_shm_qos *q, uint64_t body,
		      struct bb_layout *b)
{
	b->descs = body;
	b->cells = floe_align_up(b->descs + (uint64_t)q->bb.entries *
						    sizeof(struct floe_bb_desc),
				 FLOE_CACHELINE);
	/* page-aligned, so that any alignment up to 4096 can be honoured */
	b->values = floe_align_up(b->cells + (uint64_t)q->bb.entries *
						     sizeof(struct floe_bb_cell),
				  4096);
	b->end = b->values + q->bb.value_bytes;
}

static struct floe_bb_desc *descs(floe_service *svc)
{
	struct bb_layout b;

	bb_layout(&svc->qos, svc->lay.body_off, &b);
	return (struct floe_bb_desc *)((char *)svc->seg.addr + b.descs);
}

/* ------------------------------------------------------------------ */
/* Creating and opening                                               */
/* ------------------------------------------------------------------ */

struct fill_ctx {
	const struct floe_blackboard_entry *entries;
	const struct bb_entry *placed;
	uint32_t n;
};

/* Runs on the new segment before it is READY: descriptors, cells at
 * generation 0 on slot 0, and both slots holding the initial value. */
static void fill_segment(void *seg, const struct floe_svc_layout *lay,
			 const void *ctx)
{
	const struct fill_ctx *f = ctx;
	struct bb_layout b;
	struct floe_bb_desc *d;
	struct floe_bb_cell *cells;
	char *values;

	bb_layout(&((struct floe_svc_header *)seg)->qos, lay->body_off, &b);
	d = (struct floe_bb_desc *)((char *)seg + b.descs);
	cells = (struct floe_bb_cell *)((char *)seg + b.cells);
	values = (char *)seg + b.values;

	for (uint32_t i = 0; i < f->n; i++) {
		const struct floe_blackboard_entry *src = &f->entries[i];
		const struct bb_entry *e = &f->placed[i];

		d[i] = (struct floe_bb_desc){
			.key = e->key,
			.size = e->size,
			.align = e->align,
		};
		memcpy(d[i].type_name, e->type_name, sizeof(d[i].type_name));
		atomic_store_explicit(&cells[i].state, 0, memory_order_relaxed);
		if (src->initial) {
			memcpy(values + e->value_off, src->initial, e->size);
			memcpy(values + e->value_off + e->stride, src->initial,
			       e->size);
		}
	}
}

/* The entries of a create request, checked and placed. */
static int entries_from_opts(const struct floe_blackboard_opts *opts,
			     floe_blackboard *bb, uint64_t *value_bytes)
{
	if (!opts->entries || !opts->num_entries ||
	    opts->num_entries > FLOE_LIMIT_BB_ENTRIES)
		return FLOE_E_INVALID;
	bb->n = (uint32_t)opts->num_entries;
	bb->entries = calloc(bb->n, sizeof(*bb->entries));
	if (!bb->entries)
		return FLOE_E_NOMEM;
	for (uint32_t i = 0; i < bb->n; i++) {
		const struct floe_blackboard_entry *src = &opts->entries[i];
		struct bb_entry *e = &bb->entries[i];

		if (!src->type_name)
			return FLOE_E_NAME;
		if (!entry_type_valid(src->type_name, src->size, src->align))
			return floe_user_name_valid(src->type_name,
						    FLOE_TYPE_NAME_LEN)
				       ? FLOE_E_INVALID
				       : FLOE_E_NAME;
		e->key = src->key;
		e->size = src->size;
		e->align = src->align;
		snprintf(e->type_name, sizeof(e->type_name), "%s",
			 src->type_name);
	}
	*value_bytes = place_values(bb->entries, bb->n);
	if (*value_bytes == UINT64_MAX)
		return FLOE_E_TOO_LARGE;
	return index_keys(bb);
}

/* Copy and validate the descriptors of an attached blackboard. */
static int entries_from_segment(floe_blackboard *bb)
{
	floe_service *svc = bb->svc;
	const struct floe_bb_desc *d = descs(svc);
	struct bb_layout b;

	bb->n = svc->qos.bb.entries;
	bb->entries = calloc(bb->n, sizeof(*bb->entries));
	if (!bb->entries)
		return FLOE_E_NOMEM;
	for (uint32_t i = 0; i < bb->n; i++) {
		struct bb_entry *e = &bb->entries[i];

		/* once: the descriptor may change under us */
		e->key = __atomic_load_n(&d[i].key, __ATOMIC_RELAXED);
		e->size = __atomic_load_n(&d[i].size, __ATOMIC_RELAXED);
		e->align = __atomic_load_n(&d[i].align, __ATOMIC_RELAXED);
		memcpy(e->type_name, d[i].type_name, sizeof(e->type_name));
		e->type_name[FLOE_TYPE_NAME_LEN] = '\0';
		if (!entry_type_valid(e->type_name, e->size, e->align))
			return FLOE_E_CORRUPT;
	}
	if (place_values(bb->entries, bb->n) > svc->qos.bb.value_bytes)
		return FLOE_E_CORRUPT;
	bb_layout(&svc->qos, svc->lay.body_off, &b);
	bb->cells = (struct floe_bb_cell *)((char *)svc->seg.addr + b.cells);
	bb->values = (char *)svc->seg.addr + b.values;
	return index_keys(bb) == FLOE_E_INVALID ? FLOE_E_CORRUPT : 0;
}

/* Does the blackboard have every entry the opener relies on? */
static int check_entries(const floe_blackboard *bb,
			 const struct floe_blackboard_opts *opts)
{
	if (!opts || !opts->num_entries)
		return 0;
	if (!opts->entries)
		return FLOE_E_INVALID;
	for (size_t i = 0; i < opts->num_entries; i++) {
		const struct floe_blackboard_entry *want = &opts->entries[i];
		int64_t k = floe_bb_find(bb, want->key);
		const struct bb_entry *e;

		if (k < 0)
			return FLOE_E_TYPE_MISMATCH;
		e = &bb->entries[k];
		if (!want->type_name || strcmp(e->type_name, want->type_name) ||
		    e->size != want->size || e->align != want->align)
			return FLOE_E_TYPE_MISMATCH;
	}
	return 0;
}

static void bb_free(floe_blackboard *bb)
{
	if (bb->events)
		floe_service_close(bb->events);
	if (bb->svc)
		floe_service_close(bb->svc);
	free(bb->entries);
	free(bb->by_key);
	free(bb);
}

/* Join the blackboard's event service, creating it if need be. */
static int open_events(floe_blackboard *bb, floe_node *node,
		       const struct floe_blackboard_opts *opts)
{
	struct floe_event_qos q = {
		.max_notifiers = 1,
		.max_listeners = bb->svc->qos.bb.max_readers,
		.max_nodes = bb->svc->qos.max_nodes,
		.event_id_max = bb->n - 1,
	};
	struct floe_event_opts eo = {
		.qos = &q,
		.mode = opts ? opts->mode : 0,
	};

	return floe_event_open_or_create(node, bb->svc->name, &eo,
					 &bb->events);
}

static int layout(const struct floe_shm_qos *q, struct floe_svc_layout *l)
{
	const uint32_t counts[FLOE_SLOT_KINDS] = { q->max_nodes, 1,
						   q->bb.max_readers };
	struct bb_layout b;

	if (!floe_slot_counts_valid(counts) || !q->bb.entries ||
	    q->bb.entries > FLOE_LIMIT_BB_ENTRIES || !q->bb.value_bytes ||
	    q->bb.value_bytes > FLOE_LIMIT_BB_VALUE_BYTES)
		return FLOE_E_INVALID;
	bb_layout(q, floe_slots_layout(counts, l), &b);
	l->size = b.end;
	return 0;
}

/* The entries are checked apart (check_entries). */
static bool satisfies(const struct floe_shm_qos *have,
		      const struct floe_shm_qos *want)
{
	return want->bb.max_readers <= have->bb.max_readers;
}

static void describe(const struct floe_shm_qos *q,
		     struct floe_service_info *info)
{
	info->blackboard_qos = (struct floe_blackboard_qos){
		.max_readers = q->bb.max_readers,
		.max_nodes = q->max_nodes,
	};
	info->blackboard_entries = q->bb.entries;
}

const struct floe_pattern floe_bb_pattern = {
	.kind = FLOE_PATTERN_KIND_BLACKBOARD,
	.seg_kind = FLOE_KIND_BLACKBOARD,
	.roles = { FLOE_ROLE_NODE, FLOE_ROLE_WRITER, FLOE_ROLE_READER },
	.types = 1,
	.layout = layout,
	.satisfies = satisfies,
	.directions = NULL, /* values are copied in place */
	.describe = describe,
};

static void bb_spec(const struct floe_blackboard_opts *opts,
		    const struct floe_blackboard_qos *qos,
		    struct floe_svc_spec *spec)
{
	*spec = (struct floe_svc_spec){
		.pattern = &floe_bb_pattern,
		.types = { { .name = BLACKBOARD_TYPE_NAME, .size = 8,
			     .align = 8 } },
		.qos = {
			.pattern = FLOE_PATTERN_KIND_BLACKBOARD,
			.max_nodes = qos->max_nodes,
			.bb = { .max_readers = qos->max_readers },
		},
		.attributes = opts ? opts->attributes : NULL,
		.num_attributes = opts ? opts->num_attributes : 0,
		.mode = opts ? opts->mode : 0,
	};
}

FLOE_EXPORT int floe_blackboard_create(floe_node *node, const char *name,
				       const struct floe_blackboard_opts *opts,
				       floe_blackboard **out)
{
	struct floe_blackboard_qos qos;
	struct floe_svc_spec spec;
	struct fill_ctx fill;
	uint64_t value_bytes;
	floe_blackboard *bb;
	int ret;

	if (!node || !opts || !out)
		return FLOE_E_INVALID;
	floe_blackboard_qos_init(&qos);
	if (opts->qos)
		qos = *opts->qos;
	bb = calloc(1, sizeof(*bb));
	if (!bb)
		return FLOE_E_NOMEM;
	ret = entries_from_opts(opts, bb, &value_bytes);
	if (ret)
		goto fail;
	bb_spec(opts, &qos, &spec);
	spec.qos.bb.entries = bb->n;
	spec.qos.bb.value_bytes = (uint32_t)value_bytes;
	fill = (struct fill_ctx){ opts->entries, bb->entries, bb->n };
	spec.fill = fill_segment;
	spec.fill_ctx = &fill;
	ret = floe_svc_get(node, name, &spec, FLOE_SVC_CREATE, &bb->svc);
	if (ret)
		goto fail;
	/* From here on, what counts is what the segment says. */
	free(bb->entries);
	free(bb->by_key);
	bb->entries = NULL;
	bb->by_key = NULL;
	ret = entries_from_segment(bb);
	if (!ret)
		ret = open_events(bb, node, opts);
	if (ret)
		goto fail;
	*out = bb;
	return 0;
fail:
	bb_free(bb);
	return ret;
}

FLOE_EXPORT int floe_blackboard_open(floe_node *node, const char *name,
				     const struct floe_blackboard_opts *opts,
				     floe_blackboard **out)
{
	struct floe_blackboard_qos none = { 0 };
	const struct floe_blackboard_qos *want = opts && opts->qos ? opts->qos
								    : &none;
	struct floe_svc_spec spec;
	struct floe_shm_qos demand;
	floe_blackboard *bb;
	int ret;

	if (!node || !out)
		return FLOE_E_INVALID;
	bb = calloc(1, sizeof(*bb));
	if (!bb)
		return FLOE_E_NOMEM;
	bb_spec(opts, want, &spec);
	demand = spec.qos;
	spec.demand = &demand;
	ret = floe_svc_get(node, name, &spec, FLOE_SVC_OPEN, &bb->svc);
	if (!ret)
		ret = entries_from_segment(bb);
	if (!ret)
		ret = check_entries(bb, opts);
	if (!ret)
		ret = open_events(bb, node, opts);
	if (ret) {
		bb_free(bb);
		return ret;
	}
	*out = bb;
	return 0;
}

FLOE_EXPORT void floe_blackboard_close(floe_blackboard *bb)
{
	if (!bb)
		return;
	if (atomic_load(&bb->svc->ports))
		floe_misuse(__func__, "blackboard '%s' still has %d writers "
			    "and readers; destroy them first", bb->svc->name,
			    atomic_load(&bb->svc->ports));
	bb_free(bb);
}

FLOE_EXPORT const char *floe_blackboard_name(const floe_blackboard *bb)
{
	return bb ? bb->svc->name : NULL;
}

FLOE_EXPORT size_t floe_blackboard_num_entries(const floe_blackboard *bb)
{
	return bb ? bb->n : 0;
}

FLOE_EXPORT int floe_blackboard_key(const floe_blackboard *bb, size_t index,
				    uint64_t *key)
{
	if (!bb || !key || index >= bb->n)
		return FLOE_E_INVALID;
	*key = bb->entries[index].key;
	return 0;
}
