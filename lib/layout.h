/* SPDX-License-Identifier: MIT */
/*
 * The layout of floe's shared memory. Three kinds of segments:
 *
 *  node     "<domain>.n.<id>"   a node's registration record
 *  service  "<domain>.s.<hash>" (publish-subscribe; "<domain>.e.<hash>" for
 *           events, laid out by lib/event.c; "<domain>.b.<hash>" for
 *           blackboards, lib/blackboard.c) header (type, QoS, attributes), slots for
 *           nodes, publishers and subscribers, and one connection per
 *           (publisher slot, subscriber slot) pair holding two queues:
 *           submission (publisher → subscriber: chunks to read) and
 *           completion (subscriber → publisher: chunks given back)
 *  data     "<domain>.d.<publisher id>.<generation>" a publisher's chunks;
 *           only the publisher maps it writable
 *
 * Everything here is read by processes that must not trust each other:
 * sizes are recomputed locally from validated QoS, never taken from
 * offsets stored in shared memory.
 */
#ifndef FLOE_LAYOUT_H
#define FLOE_LAYOUT_H

#include <stdatomic.h>
#include <stdint.h>

#include "backend/backend.h"
#include "base/ring.h"
#include "floe.h"

#define FLOE_LAYOUT_VERSION 4
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
/* Largest data segment a publisher makes (a pool of chunks). */
#define FLOE_LIMIT_DATA_BYTES (1ULL << 46)
/* Data segment generations a subscriber keeps mapped per publisher. */
#define FLOE_MAX_LIVE_GENERATIONS 8

struct floe_node_record {
	uint64_t magic;
	uint32_t version;
	_Atomic uint32_t ready;
	struct floe_port_ref ref;
	int32_t pid;
	uint32_t pad;
	uint64_t created_ns;
	char name[FLOE_NAME_LEN + 1];
};

/* Messaging patterns; each has its own service namespace and layout. */
enum floe_pattern {
	FLOE_PATTERN_PUBSUB = 1,
	FLOE_PATTERN_EVENT = 2,
	FLOE_PATTERN_REQUEST_RESPONSE = 3,
	FLOE_PATTERN_BLACKBOARD = 4,
};

enum floe_service_state {
	FLOE_SVC_CREATING = 0,
	FLOE_SVC_READY = 1,
	FLOE_SVC_REMOVING = 2,
};

struct floe_shm_qos {
	uint32_t max_publishers;
	uint32_t max_subscribers;
	uint32_t max_nodes;
	uint32_t buffer;
	uint32_t borrowed;
	uint32_t history;
	uint32_t loans;
	uint32_t user_header_size;
	uint32_t safe_overflow;
	uint32_t pattern;      /* enum floe_pattern */
	uint32_t event_id_max; /* events: largest event id */
	uint32_t bb_entries;     /* blackboard: number of entries */
	uint32_t bb_value_bytes; /* blackboard: bytes of the value area */
	uint32_t pad;
};

struct floe_shm_attr {
	char key[FLOE_ATTR_KEY_LEN + 1];
	char value[FLOE_ATTR_VALUE_LEN + 1];
};

struct floe_svc_header {
	uint64_t magic;
	uint32_t version;
	_Atomic uint32_t state;
	uint64_t layout_size;
	struct floe_port_ref creator;
	/* the node removing the service (state REMOVING), so that a remover
	 * that died half-way can be recognised and its work undone */
	struct floe_port_ref remover;
	/* bumped whenever a slot is taken or freed: ports re-scan on change */
	_Atomic uint64_t changes;
	char name[FLOE_NAME_LEN + 1];
	char type_name[FLOE_TYPE_NAME_LEN + 1];
	uint64_t type_size;
	uint64_t type_align;
	struct floe_shm_qos qos;
	uint32_t num_attrs;
	uint32_t mode;
	struct floe_shm_attr attrs[FLOE_MAX_ATTRIBUTES];
	/* request-response: the response type (type_* is the request's) */
	char resp_type_name[FLOE_TYPE_NAME_LEN + 1];
	uint64_t resp_type_size;
	uint64_t resp_type_align;
};

/*
 * A node, publisher or subscriber slot. Its owner word says what state it
 * is in; every change of state is a compare-and-swap on it, so a stale
 * actor fails instead of freeing a slot that a new port has taken
 * meanwhile (ids are unique):
 *   0                            free
 *   FLOE_SLOT_CLAIMING | key     a port is claiming it and writing its ref;
 *                                the key (backend claim_key) tells whether
 *                                the port lives, so a claimer killed
 *                                half-way is reclaimed too
 *   id                           owned; the ref is complete
 *   FLOE_SLOT_LINGERING | id     a sender (publisher, client, server) left
 *                                or died with samples still queued: its
 *                                slot and data stay until every receiver it
 *                                was connected to has taken them or is gone
 *                                (lib/service.c); anyone may then finish
 *   FLOE_SLOT_TOMBSTONE | id     the owner is gone and a reclaimer cleans up
 *                                after it; anyone may finish (the reclaimer
 *                                may die too)
 */
#define FLOE_SLOT_TOMBSTONE (1ULL << 63)
#define FLOE_SLOT_CLAIMING (1ULL << 62)
#define FLOE_SLOT_LINGERING (1ULL << 61)
#define FLOE_SLOT_STATE \
	(FLOE_SLOT_TOMBSTONE | FLOE_SLOT_CLAIMING | FLOE_SLOT_LINGERING)

struct floe_slot {
	_Atomic uint64_t owner; /* port id and state: lib/service.c */
	uint32_t buffer_size;   /* subscriber: its queue depth */
	uint32_t pad0;
	struct floe_port_ref ref;
	/* publisher: generation of its current data segment */
	_Atomic uint32_t generation;
	uint32_t pad;
};

struct floe_conn {
	_Atomic uint64_t pub_id;
	_Atomic uint64_t sub_id;
	/* changes on every (re)connection; tags every queue entry so that
	 * leftovers of an earlier connection in this pair are recognised */
	_Atomic uint32_t epoch;
	uint8_t pad[FLOE_CACHELINE - 20];
	/* followed by the submission ring, then the completion ring */
};

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
 * (at bb_values_off, bb_value_bytes long) holding two value slots per
 * entry. Where an entry's slots are is recomputed by every process from
 * the descriptors' sizes and alignments (see lib/blackboard.c), never read
 * as an offset.
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
/* A queue entry carrying no chunk: its generation bits are a tag. */
#define FLOE_ENTRY_MARKER UINT32_MAX

struct floe_data_header {
	uint64_t magic;
	struct floe_port_ref owner; /* the publisher */
	uint64_t publisher_id;
	uint32_t generation;
	uint32_t chunk_count;
	uint64_t chunk_stride;
	uint64_t max_len; /* elements a chunk holds */
	/* set by a publisher that left while some of this data was still
	 * queued: whoever finishes its lingering slot may unlink it */
	_Atomic uint32_t departed;
	uint32_t pad;
};

struct floe_chunk_header {
	uint64_t publisher_id;
	uint64_t sequence;
	uint64_t len; /* elements */
	uint64_t reserved;
};

/* Where things are in a service segment, derived from its QoS alone. */
struct floe_svc_layout {
	uint64_t nodes_off;
	uint64_t pubs_off;
	uint64_t subs_off;
	/* pub-sub: connections [pub][sub]; events: one cell per listener */
	uint64_t conns_off;
	uint64_t conn_stride;
	uint64_t sub_ring_off;  /* within a connection */
	uint64_t comp_ring_off; /* within a connection */
	/* blackboard: descriptors at conns_off, cells and values here */
	uint64_t bb_cells_off;
	uint64_t bb_values_off;
	uint64_t size;
	uint32_t sub_cap;
	uint32_t comp_cap;
	uint32_t chunk_count;
};

/*
 * Request-response: one segment, two publish-subscribe directions over
 * shared slots. Client slots ('p' in the layout) publish requests and
 * subscribe to responses; server slots ('s') the reverse. Each direction is
 * laid out exactly as a publish-subscribe service with its own connection
 * array, so lib/publisher.c and lib/subscriber.c run on a view of it. The
 * QoS fields mean, for this pattern:
 *   max_publishers  max clients          max_subscribers  max servers
 *   buffer          responses queued per client and server
 *   borrowed        max active requests per client
 *   loans           requests a client may have loaned
 *   history         responses a server may have loaned
 *   event_id_max    fire-and-forget enabled (0 or 1)
 * After the two connection arrays: one word per (client, request
 * channel) holding the tag of the request it carries, cleared when the
 * client drops its pending response.
 */
struct floe_rr_layout {
	struct floe_svc_layout req;  /* clients → servers */
	struct floe_svc_layout resp; /* servers → clients */
	struct floe_shm_qos req_qos;
	struct floe_shm_qos resp_qos;
	uint64_t channels_off;
};

/** The two directions of a request-response service. 0 or FLOE_E_INVALID. */
int floe_rr_layout(const struct floe_shm_qos *q, struct floe_rr_layout *rr);

/** Check QoS bounds and compute the layout. 0 or FLOE_E_CORRUPT/INVALID. */
int floe_svc_layout(const struct floe_shm_qos *qos, struct floe_svc_layout *l);

/** Chunk geometry of a data segment. */
uint64_t floe_chunk_payload_offset(uint32_t user_header_size, uint64_t align);
uint64_t floe_chunk_stride(uint64_t payload_offset, uint64_t max_len,
			   uint64_t type_size, uint64_t align);
uint64_t floe_data_chunks_offset(void);
/** Bytes of a data segment of @chunk_count chunks of @stride bytes
 * (saturating). */
uint64_t floe_data_bytes(uint64_t stride, uint32_t chunk_count);

#endif
