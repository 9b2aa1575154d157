/* SPDX-License-Identifier: MIT */
/*
 * A receiving port's wake cell, in shared memory: how a sender wakes a
 * receiver that sleeps, with no system call when nobody sleeps.
 *
 * The receiver announces itself in @want (a count of futex sleepers, plus
 * FLOE_WANT_FD while its descriptor is armed), then reads @seq, then looks
 * for data once more, then sleeps on @seq. A sender publishes its queue
 * entries, then reads @want of each receiver it reached; only if it is set
 * does it bump @seq and wake. A store followed by a load on each side:
 * a full barrier between them on both sides means either the receiver's
 * last look finds the data or the sender finds @want set (the futex's
 * compare of @seq closes the rest): no lost wake-up.
 *
 * A fence on every send would cost a send much of its speed when a
 * receiver streams (the sender waits there for its stores to reach the
 * receiver's core), and most receivers never sleep: they poll. So the
 * barrier is asymmetric where the kernel allows (membarrier(2)). A sender
 * whose process registered for MEMBARRIER_CMD_GLOBAL_EXPEDITED orders its
 * entries and its read of @want only against the compiler, unless the
 * receiver set FLOE_WANT_FENCE; a receiver sets that bit the first time
 * it announces itself (it waits: it may sleep), and then forces a full
 * barrier on every running thread of every registered process, once.
 * Either a sender's read of @want came after that barrier, and it sees
 * the bit and fences from then on, or its entries came before it, and the
 * receiver's look finds them. A receiver where membarrier is refused (a
 * seccomp filter, say) sets the bit when it opens.
 */
#ifndef FLOE_BASE_WAKE_H
#define FLOE_BASE_WAKE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "base/futex.h"

#define FLOE_WANT_FD (1U << 31)
/* set by a receiver that waits: its senders fence (see above) */
#define FLOE_WANT_FENCE (1U << 30)
#define FLOE_WANT_SLEEPERS (FLOE_WANT_FENCE - 1)

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

/* A full barrier. */
static inline void floe_wake_fence(void)
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

/**
 * For a sender, once per port: register this process so that receivers'
 * barriers reach it. True if they do (its sends then skip the fence);
 * false where membarrier(2) cannot (then every send fences).
 */
bool floe_wake_sender_init(void);

/**
 * For a receiver taking the slot of @w: senders need not fence for it
 * until it waits, if membarrier(2) works here (FLOE_WANT_FENCE).
 */
void floe_wake_receiver_init(struct floe_wake *w);

/**
 * A sender, between its queue entries and its reads of @want: @registered
 * is floe_wake_sender_init()'s answer. Returns whether this send has
 * passed a full barrier (floe_wake_wanted needs to know).
 */
static inline bool floe_wake_barrier(bool registered)
{
	if (registered) {
		atomic_signal_fence(memory_order_seq_cst);
		return false;
	}
	floe_wake_fence();
	return true;
}

/* After floe_wake_barrier: what the receiver of @w wants (0: nothing);
 * *@fenced as it returned, updated if this receiver needs a fence. */
static inline uint32_t floe_wake_wanted(struct floe_wake *w, bool *fenced)
{
	uint32_t want = atomic_load_explicit(&w->want, memory_order_relaxed);

	if ((want & FLOE_WANT_FENCE) && !*fenced) {
		floe_wake_fence();
		*fenced = true;
		want = atomic_load_explicit(&w->want, memory_order_relaxed);
	}
	return want & ~FLOE_WANT_FENCE;
}

/* A receiver that announced itself (in @want): make sure senders see
 * it, also one in the middle of a send (FLOE_WANT_FENCE, the first time
 * with the asymmetric barrier); after it, look for data, then sleep. */
void floe_wake_announced(struct floe_wake *w);

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
	floe_wake_announced(w);
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
