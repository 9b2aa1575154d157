// SPDX-License-Identifier: MIT
#include "engine/dir.h"

#include "base/bounds.h"

static uint32_t pow2_at_least(uint32_t n)
{
	return n <= 1 ? 1 : 1U << (32 - __builtin_clz(n - 1));
}

uint64_t floe_dir_layout(struct floe_dir *d, uint64_t conns_off,
			 uint32_t markers)
{
	uint64_t chunks;

	if (!d->senders || d->senders > FLOE_LIMIT_PORTS || !d->receivers ||
	    d->receivers > FLOE_LIMIT_PORTS || !d->buffer ||
	    d->buffer > FLOE_LIMIT_QUEUE || !d->borrowed ||
	    d->borrowed > FLOE_LIMIT_QUEUE || !d->receiver_held ||
	    d->history > d->buffer ||
	    !d->loans || d->loans > FLOE_LIMIT_QUEUE ||
	    markers > FLOE_LIMIT_QUEUE ||
	    d->user_header_size > FLOE_LIMIT_USER_HEADER)
		return 0;
	/* Every chunk a sender can have outstanding at once: queued or held
	 * by each receiver (plus one in transit back), history, loans, and
	 * one spare. */
	chunks = (uint64_t)d->receivers * (d->buffer + d->borrowed + 1) +
		 d->history + d->loans + 1;
	if (chunks > FLOE_LIMIT_CHUNKS)
		return 0;
	d->chunk_count = (uint32_t)chunks;
	/* room for gone senders' leftovers ahead of a new one's (struct
	 * floe_conn): each may fill its data limit and markers; rings are
	 * powers of two (lib/base/ring.h) */
	d->sub_cap = pow2_at_least((FLOE_CONN_CARRIED + 1) *
				   (d->buffer + markers));
	/* every chunk of the sender once, and what the receiver held of
	 * gone senders' and gives back before it sees them gone (after a
	 * new one emptied the queue, taking the connection over) */
	if ((uint64_t)d->chunk_count + d->receiver_held > FLOE_LIMIT_CHUNKS)
		return 0;
	d->comp_cap = pow2_at_least(d->chunk_count + d->receiver_held);
	d->conns_off = conns_off;
	d->sub_ring_off = sizeof(struct floe_conn);
	d->comp_ring_off = d->sub_ring_off + floe_ring_bytes(d->sub_cap);
	d->conn_stride = d->comp_ring_off + floe_ring_bytes(d->comp_cap);
	d->wake_off = conns_off +
		      (uint64_t)d->senders * d->receivers * d->conn_stride;
	return floe_dir_end(d);
}
