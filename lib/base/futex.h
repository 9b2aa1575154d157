/* SPDX-License-Identifier: MIT */
/*
 * Futexes on words in shared memory. Shared (not FUTEX_PRIVATE): the
 * word lives in a segment every process maps from the same file
 * (/dev/shm, or the module's shmem), so the kernel keys it by inode and
 * offset.
 */
#ifndef FLOE_BASE_FUTEX_H
#define FLOE_BASE_FUTEX_H

#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static inline void floe_futex_wake_all(_Atomic uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* Sleep while *@word == @expected, until @deadline (absolute
 * CLOCK_MONOTONIC; NULL: forever). Any return is a reason to look again. */
static inline void floe_futex_wait_until(_Atomic uint32_t *word,
					 uint32_t expected,
					 const struct timespec *deadline)
{
	/* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline, so
	 * an EINTR needs no recomputation of the time left. */
	syscall(SYS_futex, word, FUTEX_WAIT_BITSET, expected, deadline, NULL,
		FUTEX_BITSET_MATCH_ANY);
}

#endif
