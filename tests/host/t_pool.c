// SPDX-License-Identifier: MIT
/*
 * The lock-free index pool: hands out every index once, refuses when
 * empty, and survives threads popping and pushing the same indices at full
 * speed (the ABA pattern) without ever handing one index to two owners.
 */
#include <pthread.h>

#include "base/pool.h"
#include "helpers.h"

#define SIZE 64u
#define THREADS 4
#define ROUNDS 200000

static struct floe_pool pool;
static _Atomic uint32_t owners[SIZE];
static _Atomic int violations;

static void *churn(void *arg)
{
	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		uint32_t a = floe_pool_pop(&pool), b = floe_pool_pop(&pool);

		if (a != FLOE_POOL_NONE && atomic_fetch_add(&owners[a], 1))
			atomic_fetch_add(&violations, 1);
		if (b != FLOE_POOL_NONE && atomic_fetch_add(&owners[b], 1))
			atomic_fetch_add(&violations, 1);
		if (a != FLOE_POOL_NONE) {
			atomic_fetch_sub(&owners[a], 1);
			floe_pool_push(&pool, a);
		}
		if (b != FLOE_POOL_NONE) {
			atomic_fetch_sub(&owners[b], 1);
			floe_pool_push(&pool, b);
		}
	}
	return NULL;
}

int main(void)
{
	uint8_t seen[SIZE] = { 0 };
	pthread_t th[THREADS];
	int ok = 1;

	th_setup("pool");
	tap_plan(6);
	tap_require(floe_pool_init(&pool, SIZE) == 0, "pool of 64 created");
	for (uint32_t i = 0; i < SIZE; i++) {
		uint32_t x = floe_pool_pop(&pool);

		ok &= x < SIZE && !seen[x];
		if (x < SIZE)
			seen[x] = 1;
	}
	tap_ok(ok, "64 pops return 64 distinct indices");
	tap_eq(floe_pool_pop(&pool), FLOE_POOL_NONE, "65th pop: empty");
	for (uint32_t i = 0; i < SIZE; i++)
		floe_pool_push(&pool, i);
	tap_eq(floe_pool_free_count(&pool), SIZE, "all pushed back");

	for (int i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, churn, NULL);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	tap_eq(atomic_load(&violations), 0,
	       "no index held by two threads at once under churn");
	memset(seen, 0, sizeof(seen));
	ok = 1;
	for (uint32_t i = 0; i < SIZE; i++) {
		uint32_t x = floe_pool_pop(&pool);

		ok &= x < SIZE && !seen[x];
		if (x < SIZE)
			seen[x] = 1;
	}
	tap_ok(ok && floe_pool_pop(&pool) == FLOE_POOL_NONE,
	       "after churn the pool holds each index exactly once");
	floe_pool_fini(&pool);
	return tap_done();
}
