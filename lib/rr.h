/* SPDX-License-Identifier: MIT */
/*
 * Request-response, inside: what the service glue (lib/rr.c), the client
 * (lib/rr_client.c) and the server (lib/rr_server.c) share.
 *
 * One segment, two directions of the engine (lib/engine/): requests
 * (clients, the source slots → servers, the sink slots) and responses
 * (servers → clients). A client is a sender of requests and a receiver of
 * responses on one port and one slot; a server the reverse. So every
 * property of pub-sub holds here too: zero copies, no lock and no system
 * call per message, chunks returned when a peer dies, everything read from
 * shared memory validated.
 *
 * Streams. A client has max_active_requests_per_client channels; a request
 * takes a free one and carries a tag in its chunk header:
 *     sequence << 24 | fire-and-forget flag << 16 | channel
 * A server's responses carry the request's tag, so the client routes each
 * to its pending response (responses of other channels met on the way are
 * kept aside, in order). Dropping an active request queues an end marker
 * (a queue entry without a chunk, after the responses) to the client; the
 * response rings keep room for one marker per channel beyond the data
 * limit, so a marker never waits for a slow reader and never evicts data.
 * A channel is free again once every server the request reached has ended
 * it or is gone, so a late marker can never end a newer stream. A server
 * takes a request only while what it sends reaches the client (a
 * connection full of gone servers' leftovers makes it wait, until the
 * client reading them wakes it), so that it can always end the stream.
 *
 * A client that drops a pending response says so in its request's chunk
 * header (floe_sender_unwant), which every server holding the request has
 * read already: its cheap way to learn that nobody listens any more.
 */
#ifndef FLOE_RR_H
#define FLOE_RR_H

#include "engine/engine.h"

#define RR_REQUESTS 0  /* svc->dirs[]: clients → servers */
#define RR_RESPONSES 1 /* servers → clients */

#define TAG_CHANNEL(tag) ((uint32_t)(tag) & 0xffff)
#define TAG_FIRE_AND_FORGET (1ULL << 16)
#define TAG_SEQ_SHIFT 24

/* An end marker's tag: the channel and the low 31 bits of the sequence,
 * so a marker left queued from an earlier stream (one a client forged for
 * itself) cannot end the channel's next stream. */
static inline uint64_t rr_marker_tag(uint64_t tag)
{
	return ((tag >> TAG_SEQ_SHIFT) << 16 | TAG_CHANNEL(tag)) &
	       ((1ULL << FLOE_MARKER_TAG_BITS) - 1);
}

/** A client (@kind source) or server (sink) joins: its slot, its
 * receiver (holding at most @held) and its sender. */
int floe_rr_join(floe_service *svc, enum floe_slot_kind kind, uint32_t held,
		 const struct floe_sender_opts *opts, struct floe_port *port,
		 struct floe_receiver **rx, struct floe_sender **tx);
/** And leaves: what its sender queued stays for its receivers. */
void floe_rr_leave(struct floe_port *port, struct floe_receiver *rx,
		   struct floe_sender *tx);

#endif
