// SPDX-License-Identifier: MIT
/*
 * Event listeners: the cell of their slot, waited on through its futex
 * word or, on request, an abstract datagram socket (lib/event.c has the
 * protocol).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "base/futex.h"
#include "doorbell.h"
#include "event.h"

struct floe_listener {
	struct floe_port port;
	uint32_t words;
	uint64_t id_max;
	struct floe_event_cell *cell;
	_Atomic uint64_t *bits;
	int sock; /* -1 until floe_listener_fd */
};

/* A fresh cell for a newly claimed slot; the id goes in last, so a
 * notifier that sees it also sees the rest cleared. */
static void cell_init(floe_listener *l)
{
	struct floe_event_cell *cell = l->cell;

	atomic_store(&cell->listener_id, 0);
	for (uint32_t w = 0; w < l->words; w++)
		atomic_store_explicit(&l->bits[w], 0, memory_order_relaxed);
	atomic_store_explicit(&cell->waiters, 0, memory_order_relaxed);
	atomic_store_explicit(&cell->fd_armed, 0, memory_order_relaxed);
	atomic_store_explicit(&cell->listener_id, l->port.ref.id,
			      memory_order_release);
}

FLOE_EXPORT int floe_listener_create(floe_service *svc, floe_listener **out)
{
	floe_listener *l;
	int ret;

	if (!svc || !out)
		return FLOE_E_INVALID;
	if (svc->pattern != &floe_event_pattern)
		return FLOE_E_PATTERN;
	l = calloc(1, sizeof(*l));
	if (!l)
		return FLOE_E_NOMEM;
	l->sock = -1;
	l->words = floe_event_words(&svc->qos);
	l->id_max = svc->qos.event.event_id_max;
	/* Notifiers see the slot before its cell is ours; they skip a cell
	 * whose listener_id is not the slot's owner until cell_init is done. */
	ret = floe_port_join(svc, FLOE_SLOT_SINK, 0, &l->port);
	if (ret) {
		free(l);
		return ret;
	}
	l->cell = floe_event_cell(svc, l->port.slot);
	l->bits = floe_event_bits(l->cell);
	cell_init(l);
	*out = l;
	return 0;
}

FLOE_EXPORT void floe_listener_destroy(floe_listener *l)
{
	uint64_t mine;

	if (!l)
		return;
	/* Still our slot: retire the cell before the slot can be re-taken,
	 * so notifiers stop signalling it. */
	mine = l->port.ref.id;
	atomic_compare_exchange_strong(&l->cell->listener_id, &mine, 0);
	atomic_store(&l->cell->fd_armed, 0);
	if (l->sock >= 0)
		close(l->sock);
	floe_port_leave(&l->port);
	free(l);
}

FLOE_EXPORT uint64_t floe_listener_id(const floe_listener *l)
{
	return l ? l->port.ref.id : 0;
}

static bool bits_pending(floe_listener *l)
{
	for (uint32_t w = 0; w < l->words; w++)
		if (atomic_load(&l->bits[w]))
			return true;
	return false;
}

/* Take the pending ids and report them in increasing order. */
static int collect(floe_listener *l, floe_event_cb cb, void *ctx)
{
	int count = 0;

	/* the readiness it carried is about to be answered */
	if (l->sock >= 0)
		floe_doorbell_drain(l->sock);
	for (uint32_t w = 0; w < l->words; w++) {
		uint64_t v;

		/* a load first: most words are empty, and an exchange
		 * would take the cache line from the notifiers each time */
		if (!atomic_load_explicit(&l->bits[w], memory_order_relaxed))
			continue;
		v = atomic_exchange(&l->bits[w], 0);
		while (v) {
			uint64_t id = (uint64_t)w * 64 +
				      (uint64_t)__builtin_ctzll(v);

			v &= v - 1;
			if (id > l->id_max)
				break; /* bits no notifier may set */
			count++;
			if (cb)
				cb(id, ctx);
		}
	}
	return count;
}

FLOE_EXPORT int floe_listener_try_wait(floe_listener *l, floe_event_cb cb,
				       void *ctx)
{
	if (!l)
		return FLOE_E_INVALID;
	return collect(l, cb, ctx);
}

/* Wait for events until @deadline (NULL: forever), or the service's
 * deadline from now (FLOE_E_MISSED_DEADLINE), whichever comes first. */
static int wait_until(floe_listener *l, const struct timespec *deadline,
		      floe_event_cb cb, void *ctx)
{
	struct floe_event_cell *cell = l->cell;
	uint64_t service_ns = l->port.svc->qos.event.deadline_ns;
	struct timespec missed;
	int late = 0;

	if (service_ns) {
		floe_deadline_min(deadline, service_ns, &missed);
		/* the service's deadline comes first: missing it is news */
		late = !deadline || missed.tv_sec != deadline->tv_sec ||
		       missed.tv_nsec != deadline->tv_nsec;
		deadline = &missed;
	}
	for (;;) {
		uint32_t seq = atomic_load(&cell->futex_seq);
		int count = collect(l, cb, ctx);

		if (count)
			return count;
		if (floe_deadline_passed(deadline))
			return late ? FLOE_E_MISSED_DEADLINE : 0;
		atomic_fetch_add(&cell->waiters, 1);
		/* A notifier that saw waiters == 0 set its bit before: look
		 * once more before sleeping. */
		if (!bits_pending(l))
			floe_futex_wait_until(&cell->futex_seq, seq, deadline);
		atomic_fetch_sub(&cell->waiters, 1);
	}
}

FLOE_EXPORT int floe_listener_timed_wait(floe_listener *l,
					 uint64_t timeout_ns, floe_event_cb cb,
					 void *ctx)
{
	struct timespec deadline;

	if (!l)
		return FLOE_E_INVALID;
	if (!timeout_ns)
		return collect(l, cb, ctx);
	if (!floe_deadline_after(timeout_ns, &deadline))
		return wait_until(l, NULL, cb, ctx);
	return wait_until(l, &deadline, cb, ctx);
}

FLOE_EXPORT int floe_listener_blocking_wait(floe_listener *l,
					    floe_event_cb cb, void *ctx)
{
	if (!l)
		return FLOE_E_INVALID;
	return wait_until(l, NULL, cb, ctx);
}

uint64_t floe_listener_deadline(const floe_listener *l)
{
	return l->port.svc->qos.event.deadline_ns;
}

FLOE_EXPORT int floe_listener_fd(floe_listener *l)
{
	struct floe_doorbell bell;
	int sock;

	if (!l)
		return FLOE_E_INVALID;
	if (l->sock >= 0)
		return l->sock;
	floe_doorbell_name(&bell, l->port.svc->node->be->domain,
			   FLOE_DOORBELL_LISTENER, l->port.ref.id);
	sock = floe_doorbell_bind(&bell);
	if (sock < 0)
		return sock;
	l->sock = sock;
	atomic_store(&l->cell->fd_armed, 1);
	/* Events that fired before notifiers could see fd_armed: make the
	 * descriptor readable for them ourselves. */
	if (bits_pending(l))
		floe_doorbell_ring(sock, &bell);
	return sock;
}
