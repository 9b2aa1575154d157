/* SPDX-License-Identifier: MIT */
/* Fixed-size bitset in process memory (one owner thread). */
#ifndef FLOE_BASE_BITSET_H
#define FLOE_BASE_BITSET_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

struct floe_bitset {
	uint64_t *words;
	uint32_t bits;
};

static inline int floe_bitset_init(struct floe_bitset *b, uint32_t bits)
{
	b->words = calloc((bits + 63) / 64 + 1, sizeof(uint64_t));
	b->bits = bits;
	return b->words ? 0 : -1;
}

static inline void floe_bitset_fini(struct floe_bitset *b)
{
	free(b->words);
	b->words = NULL;
}

static inline bool floe_bitset_test(const struct floe_bitset *b, uint32_t i)
{
	return i < b->bits && (b->words[i / 64] >> (i % 64) & 1);
}

static inline void floe_bitset_set(struct floe_bitset *b, uint32_t i)
{
	b->words[i / 64] |= (uint64_t)1 << (i % 64);
}

static inline void floe_bitset_clear(struct floe_bitset *b, uint32_t i)
{
	b->words[i / 64] &= ~((uint64_t)1 << (i % 64));
}

/** Next set bit at or after @from, or b->bits if none. */
static inline uint32_t floe_bitset_next(const struct floe_bitset *b,
					uint32_t from)
{
	while (from < b->bits) {
		uint64_t w = b->words[from / 64] >> (from % 64);

		if (w)
			return from + (uint32_t)__builtin_ctzll(w);
		from = (from | 63) + 1;
	}
	return b->bits;
}

#endif
