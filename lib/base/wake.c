// SPDX-License-Identifier: MIT
/*
 * The kernel's half of the wake cell's asymmetric barrier
 * (lib/base/wake.h): membarrier(2), MEMBARRIER_CMD_GLOBAL_EXPEDITED.
 */
#include "base/wake.h"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

static int membarrier(int cmd)
{
	return (int)syscall(__NR_membarrier, cmd, 0, 0);
}

bool floe_wake_sender_init(void)
{
#ifdef FLOE_TSAN
	/* a barrier ThreadSanitizer cannot see: keep the fence it can */
	return false;
#else
	/* per process; again per port is cheap and keeps no state */
	return membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) == 0;
#endif
}

void floe_wake_receiver_init(struct floe_wake *w)
{
	/* Nothing wanted yet: a predecessor in this slot killed while it
	 * slept or had its descriptor armed left that counted, and every
	 * send would wake nobody. The command a first wait needs is tried
	 * now: where it is refused, senders fence for us from the start. */
	atomic_store(&w->want,
		     membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) == 0
			     ? 0 : FLOE_WANT_FENCE);
}

void floe_wake_announced(struct floe_wake *w)
{
	/* the locked instruction that announced us was our own barrier;
	 * senders fence for us already, or once they see the bit */
	if (atomic_fetch_or(&w->want, FLOE_WANT_FENCE) & FLOE_WANT_FENCE)
		return;
	/* senders that read @want before the bit was visible: their sends
	 * now reach us too. Refused (a seccomp filter installed since the
	 * port opened), such a send is found when floe_receiver_wait looks
	 * again after its slice (FLOE_LIVENESS_PERIOD_NS). */
	membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED);
}
