// SPDX-License-Identifier: MIT
#include "base/pool.h"

#include <stdlib.h>

#include "floe.h"

int floe_pool_init(struct floe_pool *pool, uint32_t size)
{
	pool->free = calloc(size ? size : 1, sizeof(*pool->free));
	if (!pool->free)
		return FLOE_E_NOMEM;
	/* index 0 on top: handed out first */
	for (uint32_t i = 0; i < size; i++)
		pool->free[i] = size - 1 - i;
	pool->count = size;
	return 0;
}

void floe_pool_fini(struct floe_pool *pool)
{
	free(pool->free);
	pool->free = NULL;
	pool->count = 0;
}
