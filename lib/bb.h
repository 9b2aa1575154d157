/* SPDX-License-Identifier: MIT */
/*
 * Blackboards, inside: what the service side (lib/blackboard.c) and the
 * writer and readers (lib/bb_ports.c) share. How an entry's value is
 * written and read without locks: lib/blackboard.c.
 */
#ifndef FLOE_BB_H
#define FLOE_BB_H

#include "internal.h"

#define STATE_WRITING 2ULL
#define STATE_SLOT(s) ((uint32_t)((s) & 1))
#define STATE_GEN(s) ((s) >> 2)

/* An entry as this process validated it. */
struct bb_entry {
	uint64_t key;
	uint64_t size;
	uint64_t align;
	uint64_t value_off; /* slot 0 within the value area */
	uint64_t stride;    /* slot 1 is at value_off + stride */
	char type_name[FLOE_TYPE_NAME_LEN + 1];
};

struct key_index {
	uint64_t key;
	uint32_t index;
};

struct floe_blackboard {
	floe_service *svc;
	floe_service *events; /* change notification, same name */
	uint32_t n;
	struct bb_entry *entries; /* creation order */
	struct key_index *by_key; /* sorted by key */
	struct floe_bb_cell *cells; /* in the mapping */
	char *values;               /* the value area in the mapping */
};

/** Index of the entry of @key, or -1. */
int64_t floe_bb_find(const floe_blackboard *bb, uint64_t key);

static inline struct floe_bb_cell *floe_bb_cell(const floe_blackboard *bb,
						uint32_t i)
{
	return bb->cells + i;
}

/* Value slot @slot (0 or 1) of entry @i. */
static inline void *floe_bb_value(const floe_blackboard *bb, uint32_t i,
				  uint32_t slot)
{
	const struct bb_entry *e = &bb->entries[i];

	return bb->values + e->value_off + slot * e->stride;
}

#endif
