/* SPDX-License-Identifier: MIT */
/*
 * A receiving port's wake cell, in shared memory: how a sender wakes a
 * receiver that sleeps, with no system call when nobody sleeps.
 *
 * The receiver announces itself in @want (a count of futex sleepers, plus
 * FLOE_WANT_FD while its descriptor is armed), then reads @seq, then looks
 * for data once more, then sleeps on @seq. A sender publishes its queue
 * entries, then (floe_wake_barrier, once per send) reads @want of each
 * receiver it reached; only if it is set does it bump @seq and wake. Both
 * sides order a store before a load with a full barrier, so either the
 * receiver's last look finds the data or the sender finds @want set (the
 * futex's compare of @seq closes the rest): no lost wake-up.
 */
#ifndef FLOE_BASE_WAKE_H
#define FLOE_BASE_WAKE_H

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "base/futex.h"

#define FLOE_WANT_FD (1U << 31)
#define FLOE_WANT_SLEEPERS (FLOE_WANT_FD - 1)

struct floe_wake {
	_Atomic uint32_t seq;
	_Atomic uint32_t want;
	uint8_t pad[56]; /* one line: written only by sleepers and wakers */
};

#if defined(__SANITIZE_THREAD__)
#define FLOE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FLOE_TSAN 1
#endif
#endif

/* Between a sender's queue entries and its reads of @want. */
static inline void floe_wake_barrier(void)
{
#ifdef FLOE_TSAN
	/* ThreadSanitizer has no fences (GCC refuses them); its builds are
	 * x86 test builds, where a locked read-modify-write is a full
	 * barrier */
	static _Atomic uint32_t tsan_barrier;

	atomic_fetch_add(&tsan_barrier, 0);
#else
	atomic_thread_fence(memory_order_seq_cst);
#endif
}

/* After floe_wake_barrier: what the receiver of @w wants (0: nothing). */
static inline uint32_t floe_wake_wanted(struct floe_wake *w)
{
	return atomic_load_explicit(&w->want, memory_order_relaxed);
}

/* Wake the futex sleepers of @w, if @want has any. */
static inline void floe_wake_ring(struct floe_wake *w, uint32_t want)
{
	atomic_fetch_add(&w->seq, 1);
	if (want & FLOE_WANT_SLEEPERS)
		floe_futex_wake_all(&w->seq);
}

/* A sleeper announces itself; the value of @seq to sleep on. Look for
 * data after this, sleep with floe_wake_sleep only if there is none. */
static inline uint32_t floe_wake_arm(struct floe_wake *w)
{
	atomic_fetch_add(&w->want, 1);
	return atomic_load(&w->seq);
}

/* Sleep until woken, @deadline (absolute CLOCK_MONOTONIC) or a signal;
 * then withdraw the announcement of floe_wake_arm. */
static inline void floe_wake_sleep(struct floe_wake *w, uint32_t seq,
				   const struct timespec *deadline)
{
	floe_futex_wait_until(&w->seq, seq, deadline);
	atomic_fetch_sub(&w->want, 1);
}

/* Withdraw the announcement without sleeping (data was found). */
static inline void floe_wake_disarm(struct floe_wake *w)
{
	atomic_fetch_sub(&w->want, 1);
}

#endif
