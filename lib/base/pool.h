/* SPDX-License-Identifier: MIT */
/*
 * Free list of indices 0..n-1: a stack in process memory, owned by one
 * thread at a time — a sender's pool of chunk indices, used as its port is
 * (include/floe.h: one thread at a time). No atomic instruction: a locked
 * one per loan and per return would cost more than the rest of the pool.
 * Last in, first out, so that the chunk reused is the one whose lines are
 * most likely still in this core's cache.
 */
#ifndef FLOE_BASE_POOL_H
#define FLOE_BASE_POOL_H

#include <stdint.h>

#define FLOE_POOL_NONE UINT32_MAX

struct floe_pool {
	uint32_t *free; /* the free indices, the top last */
	uint32_t count; /* how many are free */
};

/** Allocate and fill with all @size indices. 0 or FLOE_E_NOMEM. */
int floe_pool_init(struct floe_pool *pool, uint32_t size);
void floe_pool_fini(struct floe_pool *pool);

/** Take an index; FLOE_POOL_NONE when empty. */
static inline uint32_t floe_pool_pop(struct floe_pool *pool)
{
	return pool->count ? pool->free[--pool->count] : FLOE_POOL_NONE;
}

/** Return @index (< size, not already free: the caller's invariant). */
static inline void floe_pool_push(struct floe_pool *pool, uint32_t index)
{
	pool->free[pool->count++] = index;
}

/** Indices currently free. */
static inline uint32_t floe_pool_free_count(const struct floe_pool *pool)
{
	return pool->count;
}

#endif
