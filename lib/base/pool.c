// SPDX-License-Identifier: MIT
#include "base/pool.h"

#include <stdlib.h>

#include "floe.h"

static uint64_t pack(uint32_t tag, uint32_t index)
{
	return (uint64_t)tag << 32 | index;
}

int floe_pool_init(struct floe_pool *pool, uint32_t size)
{
	pool->next = calloc(size ? size : 1, sizeof(*pool->next));
	if (!pool->next)
		return FLOE_E_NOMEM;
	pool->size = size;
	for (uint32_t i = 0; i < size; i++)
		atomic_init(&pool->next[i], i + 1 < size ? i + 1 : FLOE_POOL_NONE);
	atomic_init(&pool->head, pack(0, size ? 0 : FLOE_POOL_NONE));
	atomic_init(&pool->free_count, size);
	return 0;
}

void floe_pool_fini(struct floe_pool *pool)
{
	free(pool->next);
	pool->next = NULL;
	pool->size = 0;
}

uint32_t floe_pool_pop(struct floe_pool *pool)
{
	uint64_t old = atomic_load_explicit(&pool->head, memory_order_acquire);

	for (;;) {
		uint32_t index = (uint32_t)old;
		uint32_t next;

		if (index == FLOE_POOL_NONE)
			return FLOE_POOL_NONE;
		next = atomic_load_explicit(&pool->next[index],
					    memory_order_relaxed);
		if (atomic_compare_exchange_weak_explicit(
			    &pool->head, &old,
			    pack((uint32_t)(old >> 32) + 1, next),
			    memory_order_acq_rel, memory_order_acquire)) {
			atomic_fetch_sub_explicit(&pool->free_count, 1,
						  memory_order_relaxed);
			return index;
		}
	}
}

void floe_pool_push(struct floe_pool *pool, uint32_t index)
{
	uint64_t old = atomic_load_explicit(&pool->head, memory_order_relaxed);

	do {
		atomic_store_explicit(&pool->next[index], (uint32_t)old,
				      memory_order_relaxed);
	} while (!atomic_compare_exchange_weak_explicit(
		&pool->head, &old, pack((uint32_t)(old >> 32), index),
		memory_order_release, memory_order_relaxed));
	atomic_fetch_add_explicit(&pool->free_count, 1, memory_order_relaxed);
}

uint32_t floe_pool_free_count(const struct floe_pool *pool)
{
	return atomic_load_explicit(&((struct floe_pool *)pool)->free_count,
				    memory_order_relaxed);
}
