/* SPDX-License-Identifier: MIT */
/*
 * Relocatable references into a mapped segment. Shared memory holds only
 * offsets (never pointers: every process maps at another address), and
 * every offset read from it may come from a buggy or hostile peer, so it is
 * turned into a pointer only after checking that [off, off + len) lies in
 * the mapping.
 */
#ifndef FLOE_BASE_BOUNDS_H
#define FLOE_BASE_BOUNDS_H

#include <stddef.h>
#include <stdint.h>

static inline void *floe_at(void *base, uint64_t map_size, uint64_t off,
			    uint64_t len)
{
	if (off > map_size || len > map_size - off)
		return NULL;
	return (char *)base + off;
}

static inline uint64_t floe_align_up(uint64_t v, uint64_t align)
{
	return (v + align - 1) & ~(align - 1);
}

/** a * b, or UINT64_MAX on overflow (callers compare against limits). */
static inline uint64_t floe_mul_sat(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

static inline uint64_t floe_add_sat(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

#endif
