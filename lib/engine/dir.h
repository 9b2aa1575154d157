/* SPDX-License-Identifier: MIT */
/*
 * A direction: what a sender and a receiver of one service share. Sender
 * slots, receiver slots and a connection per (sender, receiver) pair, each
 * holding a submission queue (sender → receiver: chunks to read) and a
 * completion queue (receiver → sender: chunks given back), then a wake
 * cell per receiver slot (lib/base/wake.h). The samples travel in the
 * senders' own data segments.
 *
 * Publish-subscribe has one direction (publishers → subscribers),
 * request-response two (clients → servers, servers → clients) in one
 * segment. Every number here comes from QoS this process validated, never
 * from shared memory.
 */
#ifndef FLOE_ENGINE_DIR_H
#define FLOE_ENGINE_DIR_H

#include <stdbool.h>
#include <stdint.h>

#include "base/wake.h"
#include "layout.h"

struct floe_dir {
	floe_service *svc; /* whose header and node */
	void *base;        /* its segment, as mapped here */
	/* what ports look at on every call, to notice a change of slots
	 * (the header's counter) or a death (the backend's, or NULL) */
	const _Atomic uint64_t *changes;
	const uint64_t *deaths;
	enum floe_slot_kind sender, receiver;
	uint32_t senders, receivers;
	/* connections [sender][receiver] */
	uint64_t conns_off;
	uint64_t conn_stride;
	uint64_t sub_ring_off;  /* within a connection */
	uint64_t comp_ring_off; /* within a connection */
	uint64_t wake_off;      /* the receivers' wake cells */
	uint32_t sub_cap;       /* submission ring: room for carried ones too */
	uint32_t comp_cap;
	uint32_t chunk_count;   /* chunks in a sender's pool */
	/* the queues' QoS */
	uint32_t buffer;   /* samples queued per connection */
	uint32_t borrowed; /* samples a receiver may hold of one sender's */
	/* samples a receiver may hold at once, of every sender's (its borrow
	 * limit): what it may give back to a connection a new sender has
	 * taken over since */
	uint32_t receiver_held;
	uint32_t history;  /* samples re-delivered to a late receiver */
	uint32_t loans;    /* samples a sender may have loaned */
	uint32_t user_header_size;
	bool safe_overflow;
	/* its senders, where they receive, take nothing of a receiver of
	 * ours before they connect to it (a request-response server's
	 * requests): a receiver letting a gone sender go wakes its row's
	 * sender (let_go, lib/engine/receiver.c) */
	bool wake_sender_on_let_go;
	/* the payload */
	uint64_t type_size;
	uint64_t type_align;
	uint64_t payload_offset; /* within a chunk */
};

/**
 * Lay out @d's connections and wake cells from @conns_off, for the counts and queue QoS
 * already in it (from a pattern's QoS, validated here), with room for
 * @markers markers per submission queue beyond its data. Returns where
 * they end, or 0 for QoS out of bounds.
 */
uint64_t floe_dir_layout(struct floe_dir *d, uint64_t conns_off,
			 uint32_t markers);

static inline struct floe_conn *floe_dir_conn(const struct floe_dir *d,
					      uint32_t sender,
					      uint32_t receiver)
{
	uint64_t idx = (uint64_t)sender * d->receivers + receiver;

	return (struct floe_conn *)((char *)d->base + d->conns_off +
				    idx * d->conn_stride);
}

static inline struct floe_ring *floe_dir_sub_ring(const struct floe_dir *d,
						  struct floe_conn *c)
{
	return (struct floe_ring *)((char *)c + d->sub_ring_off);
}

static inline struct floe_ring *floe_dir_comp_ring(const struct floe_dir *d,
						   struct floe_conn *c)
{
	return (struct floe_ring *)((char *)c + d->comp_ring_off);
}

static inline struct floe_wake *floe_dir_wake(const struct floe_dir *d,
					     uint32_t receiver)
{
	return (struct floe_wake *)((char *)d->base + d->wake_off) + receiver;
}

/* The service's slots changed since it said @seen_changes, or (where
 * the backend tells) a port died since @seen_deaths: floe_dir_changes,
 * floe_dir_deaths. A port checks on every call, so two loads of lines
 * that seldom change, no call. */
static inline uint64_t floe_dir_changes(const struct floe_dir *d)
{
	return atomic_load_explicit(d->changes, memory_order_acquire);
}

static inline uint64_t floe_dir_deaths(const struct floe_dir *d)
{
	return floe_backend_deaths(d->deaths);
}

/* The user header of the chunk whose payload is at @payload, or NULL if
 * @d's samples have none: derived, not stored per sample. */
static inline void *floe_dir_user_header(const struct floe_dir *d,
					 const void *payload)
{
	return d->user_header_size ? (char *)payload - d->payload_offset +
					     sizeof(struct floe_chunk_header)
				   : NULL;
}

/* Where @d's part of the segment ends. */
static inline uint64_t floe_dir_end(const struct floe_dir *d)
{
	return d->wake_off + (uint64_t)d->receivers * sizeof(struct floe_wake);
}

#endif
