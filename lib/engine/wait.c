// SPDX-License-Identifier: MIT
/*
 * Waiting on a receiver: the futex protocol of lib/base/wake.h, sleeping
 * in slices so that a sender's death is noticed even where nobody writes
 * the futex word for it (a process killed by SIGKILL wakes nobody).
 */
#include "doorbell.h"
#include "engine/receiver.h"

/* The queues were found empty: empty the descriptor too, unless
 * something arrived meanwhile (lib/doorbell.h). */
static void rearm(struct floe_receiver *rx)
{
	struct floe_doorbell self;

	floe_doorbell_drain(rx->bell);
	if (!floe_receiver_has_data(rx))
		return;
	floe_doorbell_name(&self, rx->dir->svc->node->be->domain,
			   FLOE_DOORBELL_PORT, rx->ref.id);
	floe_doorbell_ring(rx->bell, &self);
}

void floe_receiver_settle(struct floe_receiver *rx)
{
	if (rx->bell >= 0)
		rearm(rx);
}

struct floe_wake *floe_receiver_wake(const struct floe_receiver *rx)
{
	return floe_dir_wake(rx->dir, rx->slot);
}

bool floe_receiver_take_deaths(struct floe_receiver *rx)
{
	bool any = rx->deaths != rx->deaths_reported;

	rx->deaths_reported = rx->deaths;
	return any;
}

int floe_receiver_fd(struct floe_receiver *rx)
{
	struct floe_doorbell self;
	int sock;

	if (rx->bell >= 0)
		return rx->bell;
	floe_doorbell_name(&self, rx->dir->svc->node->be->domain,
			   FLOE_DOORBELL_PORT, rx->ref.id);
	sock = floe_doorbell_bind(&self);
	if (sock < 0)
		return sock;
	rx->bell = sock;
	atomic_fetch_or(&floe_receiver_wake(rx)->want, FLOE_WANT_FD);
	/* what came before senders could see the descriptor armed */
	floe_wake_announced(floe_receiver_wake(rx));
	if (floe_receiver_has_data(rx))
		floe_doorbell_ring(sock, &self);
	return sock;
}


int floe_receiver_wait(struct floe_receiver *rx,
		       const struct timespec *deadline)
{
	struct floe_wake *w = floe_receiver_wake(rx);

	for (;;) {
		struct timespec slice;
		uint32_t seq;

		if (floe_receiver_has_data(rx))
			return 1;
		if (floe_receiver_take_deaths(rx))
			return FLOE_E_DEAD;
		if (floe_deadline_passed(deadline))
			return 0;
		seq = floe_wake_arm(w);
		/* a sender that found nobody armed queued its entry before */
		if (floe_receiver_has_data(rx)) {
			floe_wake_disarm(w);
			return 1;
		}
		floe_deadline_min(deadline, FLOE_LIVENESS_PERIOD_NS, &slice);
		floe_wake_sleep(w, seq, &slice);
		/* not woken by a sender: time to ask who still lives (a
		 * system call per sender with the shm backend) */
		if (atomic_load_explicit(&w->seq, memory_order_relaxed) == seq)
			floe_receiver_check_senders(rx);
	}
}
