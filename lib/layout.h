/* SPDX-License-Identifier: MIT */
/*
 * The layout of floe's shared memory. Three kinds of segments:
 *
 *  node     "<domain>.n.<id>"   a node's registration record
 *  service  "<domain>.<p>.<hash>", one namespace letter <p> per messaging
 *           pattern (lib/pattern.h): a header (pattern, QoS, types,
 *           attributes), then slots for nodes and for the pattern's two
 *           kinds of ports, then what the pattern lays out after them
 *           (connections and their queues, event cells, blackboard
 *           entries)
 *  data     "<domain>.d.<port id>.<generation>" a sender's chunks; only
 *           the sender maps it writable
 *
 * Everything here is read by processes that must not trust each other:
 * sizes are recomputed locally from validated QoS, never taken from
 * offsets stored in shared memory.
 */
#ifndef FLOE_LAYOUT_H
#define FLOE_LAYOUT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend/backend.h"
#include "base/ring.h"
#include "floe.h"

#define FLOE_LAYOUT_VERSION 14
#define FLOE_NODE_MAGIC 0x31646f6e656f6c66ULL    /* "floenod1" */
#define FLOE_SERVICE_MAGIC 0x31637673656f6c66ULL /* "floesvc1" */
#define FLOE_DATA_MAGIC 0x31617461646f6c66ULL    /* "flodata1" */

/* Sanity bounds for QoS read from shared memory (and accepted on create). */
#define FLOE_LIMIT_PORTS 1024
#define FLOE_LIMIT_NODES 4096
#define FLOE_LIMIT_QUEUE (1U << 16)
#define FLOE_LIMIT_USER_HEADER (1U << 20)
#define FLOE_LIMIT_CHUNKS (1U << 24)
#define FLOE_LIMIT_EVENT_ID ((1U << 20) - 1)
#define FLOE_LIMIT_BB_ENTRIES 4096
#define FLOE_LIMIT_BB_VALUE_BYTES (1U << 30)
/* Largest data segment a sender makes (a pool of chunks). */
#define FLOE_LIMIT_DATA_BYTES (1ULL << 46)
/* Data segment generations a receiver keeps mapped per sender. */
#define FLOE_MAX_LIVE_GENERATIONS 8

struct floe_node_record {
	uint64_t magic;
	uint32_t version;
	_Atomic uint32_t ready;
	struct floe_port_ref ref;
	int32_t pid;
	/* set by floe_node_destroy before it unlinks the record: a watcher
	 * that still maps it tells a node that left from one that died */
	_Atomic uint32_t left;
	uint64_t created_ns;
	char name[FLOE_NAME_LEN + 1];
};

/*
 * Every pattern's service has slots of three kinds: its nodes, and its two
 * kinds of ports — the side that originates (publisher, notifier, client,
 * writer) and the side that takes (subscriber, listener, server, reader).
 */
enum floe_slot_kind {
	FLOE_SLOT_NODE = 0,
	FLOE_SLOT_SOURCE = 1,
	FLOE_SLOT_SINK = 2,
	FLOE_SLOT_KINDS = 3,
};

/*
 * A service's state word. REMOVING carries the remover's claim key
 * (backend claim_key) in the same word, so that a remover killed at any
 * point is recognised as dead and its removal finished by someone else.
 */
enum floe_service_state {
	FLOE_SVC_CREATING = 0,
	FLOE_SVC_READY = 1,
};

#define FLOE_SVC_REMOVING (1ULL << 63) /* | the remover's claim key */

/*
 * Each pattern's QoS as shared memory holds it; the header's `pattern`
 * says which. Each is validated by its pattern (lib/pattern.h), and no
 * field means anything but what its name says.
 */
struct floe_pubsub_shm_qos {
	uint32_t max_publishers;
	uint32_t max_subscribers;
	uint32_t buffer;   /* samples queued per subscriber and publisher */
	uint32_t borrowed; /* samples a subscriber may hold */
	uint32_t history;
	uint32_t loans; /* samples a publisher may have loaned */
	uint32_t user_header_size;
	uint32_t safe_overflow;
};

#define FLOE_EVENT_ID_NONE UINT32_MAX

struct floe_event_shm_qos {
	uint32_t max_notifiers;
	uint32_t max_listeners;
	uint32_t event_id_max;
	/* lifecycle event ids, or FLOE_EVENT_ID_NONE (off) */
	uint32_t notifier_created;
	uint32_t notifier_dropped;
	uint32_t notifier_dead;
	uint64_t deadline_ns;
};

struct floe_rr_shm_qos {
	uint32_t max_clients;
	uint32_t max_servers;
	uint32_t active_per_client; /* pending responses a client may have */
	uint32_t loaned_requests;
	uint32_t response_buffer; /* responses queued per client and server */
	uint32_t loaned_responses;
	uint32_t fire_and_forget;
	uint32_t pad;
};

struct floe_bb_shm_qos {
	uint32_t max_readers;
	uint32_t entries;
	uint32_t value_bytes; /* the value area */
	uint32_t pad;
};

struct floe_shm_qos {
	uint32_t pattern; /* enum floe_pattern_kind: which member below */
	uint32_t max_nodes;
	union {
		struct floe_pubsub_shm_qos pubsub;
		struct floe_event_shm_qos event;
		struct floe_rr_shm_qos rr;
		struct floe_bb_shm_qos bb;
		uint64_t reserved[8];
	};
};

struct floe_shm_attr {
	char key[FLOE_ATTR_KEY_LEN + 1];
	char value[FLOE_ATTR_VALUE_LEN + 1];
};

/* A payload type as recorded (request-response records two). */
struct floe_shm_type {
	char name[FLOE_TYPE_NAME_LEN + 1];
	uint64_t size;
	uint64_t align;
};

#define FLOE_MAX_TYPES 2

struct floe_svc_header {
	uint64_t magic;
	uint32_t version;
	uint32_t mode;
	_Atomic uint64_t state; /* enum floe_service_state, FLOE_SVC_REMOVING */
	/* this segment's identity: a service made anew under the name has
	 * another (a node's REMOVING word names the node, not the segment) */
	uint64_t incarnation;
	uint64_t layout_size;
	struct floe_port_ref creator;
	/* bumped whenever a slot is taken or freed: ports re-scan on change */
	_Atomic uint64_t changes;
	char name[FLOE_NAME_LEN + 1];
	struct floe_shm_qos qos;
	struct floe_shm_type types[FLOE_MAX_TYPES];
	uint32_t num_attrs;
	struct floe_shm_attr attrs[FLOE_MAX_ATTRIBUTES];
};

/*
 * A node or port slot. Its owner word says what state it is in; every
 * change of state is a compare-and-swap on it, so a stale actor fails
 * instead of freeing a slot that a new port has taken meanwhile (ids are
 * unique):
 *   0                            free
 *   FLOE_SLOT_CLAIMING | key     a port is claiming it and writing its ref;
 *                                the key (backend claim_key) tells whether
 *                                the port lives, so a claimer killed
 *                                half-way is reclaimed too
 *   id                           owned; the ref is complete
 *   FLOE_SLOT_TOMBSTONE | id     the owner is gone and a reclaimer cleans up
 *                                after it; anyone may finish (the reclaimer
 *                                may die too)
 */
#define FLOE_SLOT_TOMBSTONE (1ULL << 63)
#define FLOE_SLOT_CLAIMING (1ULL << 62)
#define FLOE_SLOT_STATE (FLOE_SLOT_TOMBSTONE | FLOE_SLOT_CLAIMING)

struct floe_slot {
	_Atomic uint64_t owner; /* port id and state: lib/slots.c */
	uint32_t buffer_size;   /* receiver: its queue depth */
	uint32_t pad0;
	struct floe_port_ref ref;
	/* sender: generation of its current data segment */
	_Atomic uint32_t generation;
	uint32_t pad;
};

/*
 * Traffic of a port, for floe top and floe hz. Only the port writes it (a
 * port is used by one thread at a time: a relaxed load and store, no
 * locked instruction), each on a cache line of its own, apart from the
 * slots and queues that receivers read on their hot path; anyone reads
 * it. Zeroed when a port takes the slot. Advisory: a peer may write
 * anything here, and nothing but the numbers shown depends on it.
 */
struct floe_port_stats {
	_Atomic uint64_t sent; /* samples (requests, responses) sent */
	/* elements beyond the first of each sample sent (slices): the
	 * bytes are (sent + sent_extra) times the element size, and a
	 * sample of one element stores nothing more */
	_Atomic uint64_t sent_extra;
	_Atomic uint64_t received;
	_Atomic uint64_t received_extra; /* as sent_extra */
	/* queued samples a newer one pushed out (safe overflow) */
	_Atomic uint64_t overflowed;
	/* deliveries dropped: a full queue without safe overflow */
	_Atomic uint64_t undelivered;
	uint8_t pad[FLOE_CACHELINE - 48];
};

_Static_assert(sizeof(struct floe_port_stats) == FLOE_CACHELINE,
	       "a port's counters are one cache line");

static inline void floe_stat_add(_Atomic uint64_t *counter, uint64_t n)
{
	atomic_store_explicit(counter,
			      atomic_load_explicit(counter,
						   memory_order_relaxed) + n,
			      memory_order_relaxed);
}

/*
 * A connection from the sender of a row to the receiver of a column. Open
 * while sub_id is set: the sender pub_id delivers to it, or, once that
 * sender is gone (left or dead, its slot freed or taken by another), its
 * leftovers wait in the queue for the receiver, which closes it when it
 * took them (or leaves). A new sender of the row carries such leftovers
 * over: it records their sender and epoch in a free carried_* entry and
 * queues behind them (the receiver reads them first, telling whose an
 * entry is by its epoch, then clears the record); only when every record
 * is in use does it wait. So samples a send reported delivered are never
 * discarded for a newcomer, and the last to close a gone sender's
 * connections unlinks its data (lib/slots.c). A sender resets the queues'
 * indices (a fresh connection) only when no live receiver reads them, or
 * after quarantining one that corrupted them: without safe overflow a
 * receiver takes entries with plain stores (lib/base/ring.h).
 */
#define FLOE_CONN_CARRIED 3

struct floe_conn {
	_Atomic uint64_t pub_id;
	_Atomic uint64_t sub_id;
	/* changes on every (re)connection; tags every queue entry so that
	 * entries of an earlier connection in this pair are recognised */
	_Atomic uint32_t epoch;
	_Atomic uint32_t carried_epoch[FLOE_CONN_CARRIED];
	/* gone senders whose leftovers are still queued ahead, or 0 */
	_Atomic uint64_t carried_id[FLOE_CONN_CARRIED];
	uint8_t pad[FLOE_CACHELINE - 56];
	/* followed by the submission ring, then the completion ring */
};

_Static_assert(sizeof(struct floe_conn) == FLOE_CACHELINE,
	       "a connection's header is one cache line");

/*
 * Events: one cell per listener slot. A notifier sets the event's bit and
 * bumps futex_seq; it makes the FUTEX_WAKE system call only if the
 * listener declared itself asleep (waiters), and writes to the listener's
 * socket only if it asked for a pollable descriptor (fd_armed).
 */
struct floe_event_cell {
	_Atomic uint32_t futex_seq;
	_Atomic uint32_t waiters;
	_Atomic uint32_t fd_armed;
	uint32_t pad;
	_Atomic uint64_t listener_id; /* the cell's owner, for stale checks */
	uint8_t pad2[FLOE_CACHELINE - 24];
	/* followed by event_id_max / 64 + 1 words of pending-event bits */
};

/*
 * Blackboard: after the slots, one descriptor per entry (written by the
 * creator, then read-only), one state cell per entry, and the value area
 * holding two value slots per entry. Where an entry's slots are is
 * recomputed by every process from the descriptors' sizes and alignments
 * (see lib/blackboard.c), never read as an offset.
 */
struct floe_bb_desc {
	uint64_t key;
	uint64_t size;
	uint64_t align;
	uint64_t reserved;
	char type_name[FLOE_TYPE_NAME_LEN + 1];
};

/* state: generation << 2 | writing << 1 | published slot */
struct floe_bb_cell {
	_Atomic uint64_t state;
	uint8_t pad[FLOE_CACHELINE - 8];
};

/* Queue entries: epoch (16 bits) | generation (16) | chunk index (32). */
static inline uint64_t floe_entry(uint32_t epoch, uint32_t gen, uint32_t chunk)
{
	return (uint64_t)(epoch & 0xffff) << 48 | (uint64_t)(gen & 0xffff) << 32 |
	       chunk;
}
#define FLOE_ENTRY_EPOCH(e) ((uint32_t)((e) >> 48))
#define FLOE_ENTRY_GEN(e) ((uint32_t)((e) >> 32) & 0xffff)
#define FLOE_ENTRY_CHUNK(e) ((uint32_t)(e))
/* A queue entry carrying no chunk (chunk indices stay below 2^24): its
 * generation bits and the low 31 bits of its chunk field are a tag. */
#define FLOE_ENTRY_MARKER_BIT (1U << 31)
#define FLOE_ENTRY_IS_MARKER(e) (FLOE_ENTRY_CHUNK(e) & FLOE_ENTRY_MARKER_BIT)
#define FLOE_MARKER_TAG_BITS 47
static inline uint64_t floe_marker_entry(uint32_t epoch, uint64_t tag)
{
	return floe_entry(epoch, (uint32_t)tag,
			  FLOE_ENTRY_MARKER_BIT | (uint32_t)(tag >> 16));
}
#define FLOE_MARKER_TAG(e) \
	((uint64_t)(FLOE_ENTRY_CHUNK(e) & ~FLOE_ENTRY_MARKER_BIT) << 16 | \
	 FLOE_ENTRY_GEN(e))

struct floe_data_header {
	uint64_t magic;
	struct floe_port_ref owner; /* the sender */
	uint64_t publisher_id;
	uint32_t generation;
	uint32_t chunk_count;
	uint64_t chunk_stride;
	uint64_t max_len; /* elements a chunk holds */
	/* set by a sender that left while some of this data was still
	 * queued: whoever closes its last connection may unlink it */
	_Atomic uint32_t departed;
	uint32_t pad;
};

struct floe_chunk_header {
	/* the data segment's sender, written when the segment is created */
	uint64_t publisher_id;
	uint64_t sequence;
	uint64_t len; /* elements */
	uint64_t reserved;
	/* the chunk the sender's next loan takes (FLOE_POOL_NONE: not
	 * known), a hint only: a receiver waiting for the next sample
	 * fetches that chunk's line together with its queue's, instead of
	 * after the entry that names it (lib/engine/receiver.c) */
	uint32_t next_chunk;
	/* 0 when sent; set by the sender once nobody wants answers to the
	 * sample any more (request-response: the client dropped the pending
	 * response), so a server spares itself and the client the work. It
	 * shares the line the receiver reads anyway: asking costs nothing. */
	uint32_t unwanted;
};

/*
 * Where things are in a service segment, derived from its QoS alone: the
 * slots (the same for every pattern), then the pattern's part from
 * `body_off` (lib/pattern.h says what it holds).
 */
struct floe_svc_layout {
	uint64_t slots_off[FLOE_SLOT_KINDS];
	uint32_t slots[FLOE_SLOT_KINDS]; /* how many of each kind */
	/* a struct floe_port_stats per port slot (none for nodes: 0) */
	uint64_t stats_off[FLOE_SLOT_KINDS];
	uint64_t body_off;
	uint64_t size;
};

/** Lay out the slots of @counts, from after the header; their end. */
uint64_t floe_slots_layout(const uint32_t counts[FLOE_SLOT_KINDS],
			   struct floe_svc_layout *l);
/** Check that the slot counts are within the limits. */
bool floe_slot_counts_valid(const uint32_t counts[FLOE_SLOT_KINDS]);

/** Chunk geometry of a data segment. */
uint64_t floe_chunk_payload_offset(uint32_t user_header_size, uint64_t align);
uint64_t floe_chunk_stride(uint64_t payload_offset, uint64_t max_len,
			   uint64_t type_size, uint64_t align);
/* Where a data segment's chunks begin: its header has the first page. */
static inline uint64_t floe_data_chunks_offset(void)
{
	return 4096;
}
/** Bytes of a data segment of @chunk_count chunks of @stride bytes
 * (saturating). */
uint64_t floe_data_bytes(uint64_t stride, uint32_t chunk_count);

#endif
