// SPDX-License-Identifier: MIT
/*
 * The index pool: hands out every index once, refuses when empty, gives
 * back the index returned last first (its chunk is the one still in this
 * core's cache), and under random pops and pushes checked against a model
 * never hands one index to two owners nor loses one.
 */
#include "base/pool.h"
#include "helpers.h"

#define SIZE 64u
#define ROUNDS 200000

int main(void)
{
	struct floe_pool pool;
	uint8_t held[SIZE] = { 0 };
	uint32_t nheld = 0, bad = 0;
	int ok = 1;

	th_setup("pool");
	tap_plan(7);
	tap_require(floe_pool_init(&pool, SIZE) == 0, "pool of 64 created");
	for (uint32_t i = 0; i < SIZE; i++) {
		uint32_t x = floe_pool_pop(&pool);

		ok &= x < SIZE && !held[x];
		if (x < SIZE)
			held[x] = 1;
	}
	tap_ok(ok, "64 pops return 64 distinct indices");
	tap_eq(floe_pool_pop(&pool), FLOE_POOL_NONE, "65th pop: empty");
	for (uint32_t i = 0; i < SIZE; i++)
		floe_pool_push(&pool, i);
	memset(held, 0, sizeof(held));
	tap_eq(floe_pool_free_count(&pool), SIZE, "all pushed back");
	floe_pool_push(&pool, floe_pool_pop(&pool));
	tap_eq(floe_pool_pop(&pool), SIZE - 1,
	       "the index returned last is handed out first");
	floe_pool_push(&pool, SIZE - 1);

	/* random pops and pushes against a model of who holds what */
	for (int r = 0; r < ROUNDS; r++) {
		if (th_rand_below(2)) {
			uint32_t x = floe_pool_pop(&pool);

			if (nheld == SIZE) {
				bad += x != FLOE_POOL_NONE;
				continue;
			}
			if (x >= SIZE || held[x]) {
				bad++;
				continue;
			}
			held[x] = 1;
			nheld++;
		} else if (nheld) {
			uint32_t x = (uint32_t)th_rand_below(SIZE);

			while (!held[x])
				x = (x + 1) % SIZE;
			held[x] = 0;
			nheld--;
			floe_pool_push(&pool, x);
		}
		bad += floe_pool_free_count(&pool) != SIZE - nheld;
	}
	tap_eq(bad, 0, "random pops and pushes: no index handed out twice, "
		       "none lost, the count right");
	/* what is left is exactly what the model says is free */
	ok = 1;
	for (uint32_t i = 0; i < SIZE - nheld; i++) {
		uint32_t x = floe_pool_pop(&pool);

		ok &= x < SIZE && !held[x];
		if (x < SIZE)
			held[x] = 1;
	}
	ok &= floe_pool_pop(&pool) == FLOE_POOL_NONE;
	for (uint32_t i = 0; i < SIZE; i++)
		ok &= held[i];
	tap_ok(ok, "after the churn the pool holds exactly the free indices");
	floe_pool_fini(&pool);
	return tap_done();
}
