/* SPDX-License-Identifier: MIT */
/*
 * Lock-free free list of indices 0..n-1 (a Treiber stack). The head packs
 * a 32-bit index with a 32-bit tag that changes on every pop, so a pop that
 * raced with pop-push-pop of the same index fails its compare-and-swap
 * instead of corrupting the list (the ABA problem).
 *
 * Lives in process memory: it is the publisher's pool of chunk indices.
 */
#ifndef FLOE_BASE_POOL_H
#define FLOE_BASE_POOL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define FLOE_POOL_NONE UINT32_MAX

struct floe_pool {
	_Atomic uint64_t head; /* tag << 32 | index */
	_Atomic uint32_t *next;
	_Atomic uint32_t free_count;
	uint32_t size;
};

/** Allocate and fill with all @size indices. 0 or FLOE_E_NOMEM. */
int floe_pool_init(struct floe_pool *pool, uint32_t size);
void floe_pool_fini(struct floe_pool *pool);
/** Take an index; FLOE_POOL_NONE when empty. */
uint32_t floe_pool_pop(struct floe_pool *pool);
/** Return @index (< size, not already free: the caller's invariant). */
void floe_pool_push(struct floe_pool *pool, uint32_t index);
/** Indices currently free (a snapshot). */
uint32_t floe_pool_free_count(const struct floe_pool *pool);

#endif
