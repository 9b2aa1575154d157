/* SPDX-License-Identifier: MIT */
/* The library's handles, shared between its source files. */
#ifndef FLOE_INTERNAL_H
#define FLOE_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend/backend.h"
#include "base/bitset.h"
#include "base/pool.h"
#include "floe.h"
#include "layout.h"
#include "names.h"

#define FLOE_EXPORT __attribute__((visibility("default")))

struct floe_node {
	struct floe_backend *be;
	struct floe_port_ref ref;
	struct floe_seg record;
	char name[FLOE_NAME_LEN + 1];
	_Atomic int services;
};

struct floe_service {
	floe_node *node;
	/* the service itself, or for a request-response direction (a
	 * pub-sub view of one, lib/request_response.c) the service it is a
	 * view of; slot kinds below are the base's */
	floe_service *base;
	/* kind of the base's slots that this view's publishers are */
	char sender_kind;
	struct floe_rr_layout rr; /* request-response: both directions */
	struct floe_seg seg;
	struct floe_svc_header *hdr;
	struct floe_svc_layout lay;
	struct floe_shm_qos qos; /* validated copy */
	uint64_t type_size;
	uint64_t type_align;
	uint64_t payload_offset;
	uint32_t node_slot;
	_Atomic int ports;
	char seg_name[FLOE_SEG_NAME_MAX];
	char name[FLOE_NAME_LEN + 1];
	char type_name[FLOE_TYPE_NAME_LEN + 1];
	/* request-response: the response type (type_* is the request's) */
	uint64_t resp_type_size;
	uint64_t resp_type_align;
	char resp_type_name[FLOE_TYPE_NAME_LEN + 1];
	uint32_t num_attrs;
	struct floe_shm_attr attrs[FLOE_MAX_ATTRIBUTES];
};

/* service.c: what a service is opened or created with, any pattern */
struct floe_svc_spec {
	struct floe_type type;
	struct floe_type resp_type; /* request-response only */
	struct floe_shm_qos qos;           /* create: the service's */
	const struct floe_shm_qos *demand; /* open: minimums, or NULL */
	const struct floe_attribute *attributes;
	size_t num_attributes;
	uint32_t mode;
	/* create: fills the pattern's part of the new segment (@seg, laid
	 * out as @lay) before openers may see it; NULL: nothing to fill */
	void (*fill)(void *seg, const struct floe_svc_layout *lay,
		     const void *ctx);
	const void *fill_ctx;
};

int floe_svc_open(floe_node *node, const char *name,
		  const struct floe_svc_spec *spec, floe_service **out);
int floe_svc_create(floe_node *node, const char *name,
		    const struct floe_svc_spec *spec, floe_service **out);
int floe_svc_open_or_create(floe_node *node, const char *name,
			    const struct floe_svc_spec *spec,
			    floe_service **out);

/** Map and validate a service segment without joining it. */
int floe_svc_attach(floe_node *node, const char *seg_name, floe_service **out);
void floe_svc_detach(floe_service *svc);

/* service.c: slots and connections of a mapped service */
struct floe_slot *floe_svc_slot(floe_service *svc, char kind, uint32_t i);
struct floe_conn *floe_svc_conn(floe_service *svc, uint32_t pub,
				uint32_t sub);
struct floe_ring *floe_conn_sub_ring(floe_service *svc, struct floe_conn *c);
struct floe_ring *floe_conn_comp_ring(floe_service *svc, struct floe_conn *c);
/** Take a free slot of @kind ('n', 'p', 's') for @ref. Index or error. */
int floe_svc_claim(floe_service *svc, char kind, const struct floe_port_ref *ref,
		   uint32_t buffer_size);
void floe_svc_release(floe_service *svc, char kind, uint32_t i, uint64_t id);
/** Owner of a slot if it is ready, else 0; fills @ref (a copy). */
uint64_t floe_svc_slot_owner(floe_service *svc, char kind, uint32_t i,
			     struct floe_port_ref *ref);
/** As floe_svc_slot_owner, but a lingering sender's slot gives its id
 * with FLOE_SLOT_LINGERING set. */
uint64_t floe_svc_slot_peer(floe_service *svc, char kind, uint32_t i,
			    struct floe_port_ref *ref);
/**
 * A sender (publisher, client, server) of slot @i of @kind leaves; with
 * @keep some of its connections still hold samples, so its slot and
 * data stay until their receivers took them or are gone.
 */
void floe_svc_leave(floe_service *svc, char kind, uint32_t i, uint64_t id,
		    bool keep);
/**
 * A receiver closed its connection from the gone sender @id of this
 * view's publisher slot @i (it took everything, or leaves): finish the
 * sender's slot if nobody else still reads from it.
 */
void floe_svc_sender_released(floe_service *svc, uint32_t i, uint64_t id);
/** Free slots whose ports are dead; returns how many were freed. */
int floe_svc_reclaim_dead(floe_service *svc);
uint64_t floe_svc_changes(floe_service *svc);
/** A growing list of port ids. */
struct floe_id_list {
	uint64_t *ids;
	size_t count, cap;
	int err; /* FLOE_E_NOMEM once an id could not be added */
};
/**
 * Reclaim a service's dead slots by segment name and remove it if unused;
 * if it stays, add to @senders the ids of the senders still in its slots
 * (alive, or lingering: their data is still to be read).
 */
void floe_service_cleanup_by_name(floe_node *node, const char *seg_name,
				  struct floe_id_list *senders);
/** Names of the domain's segments of @kind; free(list->names) after. */
struct floe_name_list {
	char (*names)[FLOE_SEG_NAME_MAX];
	size_t count, cap;
	int err;
};
int floe_list_kind(floe_node *node, enum floe_seg_kind kind,
		   struct floe_name_list *list);
/** Unlink the data segments of publisher @pub_id if their headers say it
 * owns them and it is dead (the id may come from a hostile peer). */
void floe_unlink_publisher_data(struct floe_backend *be, uint64_t pub_id);

/*
 * Publishers and subscribers on a service view, for ports that are both at
 * once (request-response clients and servers, lib/request_response.c):
 * the caller registered the port and claimed its slot.
 */
int floe_pub_open(floe_service *svc, const struct floe_publisher_opts *opts,
		  const struct floe_port_ref *ref, uint32_t slot,
		  floe_publisher **out);
/**
 * Close the publisher: connections whose subscriber took everything are
 * closed; true if some still hold samples, which stay readable (the
 * caller then lets the slot linger: floe_svc_leave).
 */
bool floe_pub_close(floe_publisher *pub);
/** One subscriber: its slot and port id. */
struct floe_pub_target {
	uint32_t slot;
	uint64_t sub_id;
};
/**
 * Send to every subscriber, or only to @to; @tag goes into the chunk
 * header. With @reached (max_subscribers entries), each subscriber slot's
 * entry is set to the port id the sample reached, or 0.
 */
int floe_pub_send(floe_sample_mut *s, const struct floe_pub_target *to,
		  uint64_t tag, uint64_t *reached);
/** Queue a marker (no chunk, 16 bits of @tag) for @to, in order with the
 * samples sent to it. 0, FLOE_E_DEAD (not connected) or WOULD_BLOCK. */
int floe_pub_mark(floe_publisher *pub, const struct floe_pub_target *to,
		  uint32_t tag);


int floe_sub_open(floe_service *svc, const struct floe_port_ref *ref,
		  uint32_t slot, uint32_t max_borrowed, floe_subscriber **out);
void floe_sub_close(floe_subscriber *sub);
/** A marker taken from a queue: who queued it and its tag. */
struct floe_marker {
	uint64_t pub_id;
	uint32_t pub_slot;
	uint32_t tag;
};
/**
 * As floe_subscriber_receive, but a marker is returned too (2, *@mark
 * filled); with @mark NULL markers are skipped.
 */
int floe_sub_receive(floe_subscriber *sub, const floe_sample **out,
		     struct floe_marker *mark);
/** The chunk header's tag, and the publisher slot a sample came from. */
uint64_t floe_sample_tag(const floe_sample *s);
uint32_t floe_sample_pub_slot(const floe_sample *s);
/** Samples the subscriber holds (received, not released). */
uint32_t floe_sub_borrowed(const floe_subscriber *sub);
/** Connect to (and map the memory of) publishers that appeared. */
void floe_sub_refresh(floe_subscriber *sub);
/** True while @sub reads from publisher @pub_id in @slot (or may soon:
 * its slot still holds it). */
bool floe_sub_has_source(floe_subscriber *sub, uint32_t slot, uint64_t pub_id);

/** The server's publisher of responses (for tests: leak checks). */
floe_publisher *floe_server_responses(floe_server *srv);
/** The client's publisher of requests (for tests: leak checks). */
floe_publisher *floe_client_requests(floe_client *client);

/** Chunks in the publisher's pool right now (for tests: leak checks). */
uint32_t floe_publisher_free_chunks(const floe_publisher *pub);
/** Size of the publisher's pool. */
uint32_t floe_publisher_chunk_count(const floe_publisher *pub);

uint64_t floe_now_ns(void);
/** errno of a failed call that makes a descriptor (socket, timerfd, ...)
 * → floe error. */
int floe_fd_errno(int err);
/**
 * A documented precondition of @fn is broken in a way that would corrupt
 * memory later (an object destroyed while handles it gave out live on):
 * say which on stderr and abort, rather than fail silently afterwards.
 */
void floe_misuse(const char *fn, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));
/** Spin-then-sleep backoff for slow paths; @round counts from 0. */
void floe_backoff(uint32_t round);

#endif
