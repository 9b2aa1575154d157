/* SPDX-License-Identifier: MIT */
/*
 * The library's handles and its generic layers, shared between its source
 * files: nodes, services (lib/service.c), slots and ports (lib/slots.c).
 * docs/architecture.md is the map.
 */
#ifndef FLOE_INTERNAL_H
#define FLOE_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <linux/floe.h>

#include "backend/backend.h"
#include "engine/dir.h"
#include "floe.h"
#include "layout.h"
#include "names.h"
#include "pattern.h"

#define FLOE_EXPORT __attribute__((visibility("default")))

/* The public roles are the module's. */
_Static_assert((int)FLOE_PORT_NODE == FLOE_ROLE_NODE &&
		       (int)FLOE_PORT_PUBLISHER == FLOE_ROLE_PUBLISHER &&
		       (int)FLOE_PORT_SUBSCRIBER == FLOE_ROLE_SUBSCRIBER &&
		       (int)FLOE_PORT_NOTIFIER == FLOE_ROLE_NOTIFIER &&
		       (int)FLOE_PORT_LISTENER == FLOE_ROLE_LISTENER &&
		       (int)FLOE_PORT_CLIENT == FLOE_ROLE_CLIENT &&
		       (int)FLOE_PORT_SERVER == FLOE_ROLE_SERVER &&
		       (int)FLOE_PORT_WRITER == FLOE_ROLE_WRITER &&
		       (int)FLOE_PORT_READER == FLOE_ROLE_READER,
	       "enum floe_port_role mirrors the uapi enum floe_role");

struct floe_node {
	struct floe_backend *be;
	struct floe_port_ref ref;
	struct floe_seg record;
	char name[FLOE_NAME_LEN + 1];
	_Atomic int services;
	/* the configuration files' QoS defaults, as the node was created
	 * (floe_*_qos_init_from_config) */
	struct floe_pubsub_qos pubsub_defaults;
	struct floe_event_qos event_defaults;
	struct floe_rr_qos rr_defaults;
	struct floe_blackboard_qos blackboard_defaults;
};

struct floe_service {
	floe_node *node;
	const struct floe_pattern *pattern;
	struct floe_seg seg;
	struct floe_svc_header *hdr;
	struct floe_svc_layout lay;
	/* validated copies of the header */
	struct floe_shm_qos qos;
	struct floe_shm_type types[FLOE_MAX_TYPES];
	uint32_t num_attrs;
	struct floe_shm_attr attrs[FLOE_MAX_ATTRIBUTES];
	/* the directions its ports send samples in */
	struct floe_dir dirs[FLOE_MAX_DIRS];
	uint32_t ndirs;
	uint32_t node_slot;
	_Atomic int ports;
	char seg_name[FLOE_SEG_NAME_MAX];
	char name[FLOE_NAME_LEN + 1];
};

/* ------------------------------------------------------------------ */
/* Services: lib/service.c                                            */
/* ------------------------------------------------------------------ */

/* What a service is opened or created with, any pattern. */
struct floe_svc_spec {
	const struct floe_pattern *pattern;
	struct floe_type types[FLOE_MAX_TYPES];
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

enum floe_svc_how {
	FLOE_SVC_OPEN,
	FLOE_SVC_CREATE,
	FLOE_SVC_OPEN_OR_CREATE,
};

/** Open and/or create a service of any pattern, and join it as a node. */
int floe_svc_get(floe_node *node, const char *name,
		 const struct floe_svc_spec *spec, enum floe_svc_how how,
		 floe_service **out);
/* Not a floe error: a service nobody will finish or use (its creator died
 * before it was ready, or every node in it is dead). */
#define FLOE_SVC_ABANDONED 1

/**
 * Map and validate a READY service segment without joining it: 0, a
 * negative floe error (FLOE_E_BUSY: being created, or removed by a live
 * node), or FLOE_SVC_ABANDONED if its creator died before it was ready.
 * A removal whose remover died is finished first (FLOE_E_NOT_FOUND if the
 * service is gone now).
 */
int floe_svc_attach(floe_node *node, const char *seg_name, floe_service **out);
/** floe_svc_attach, and a service being removed is attached too: to read
 * what it holds. */
int floe_svc_look(floe_node *node, const char *seg_name, floe_service **out);
void floe_svc_detach(floe_service *svc);
uint64_t floe_svc_changes(floe_service *svc);
/** The service's payload type @i as its API hands it out. */
struct floe_type floe_svc_type(const floe_service *svc, uint32_t i);

/** A growing list of port ids. */
struct floe_id_list {
	uint64_t *ids;
	size_t count, cap;
	/* FLOE_E_NOMEM once an id could not be added, or why a service's
	 * ids could not be read: the list is incomplete */
	int err;
};
/**
 * Reclaim a service's dead slots by segment name and remove it if unused;
 * if it stays, add to @senders the ids of the senders whose data it may
 * still need (floe_svc_for_each_sender).
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
/** Unlink the data segments of sender @pub_id if their headers say it
 * owns them and it is gone (the id may come from a hostile peer). */
void floe_unlink_publisher_data(struct floe_backend *be, uint64_t pub_id);

/* ------------------------------------------------------------------ */
/* Slots and ports: lib/slots.c                                       */
/* ------------------------------------------------------------------ */

struct floe_slot *floe_svc_slot(floe_service *svc, enum floe_slot_kind kind,
				uint32_t i);
/** The traffic counters of port slot @i of @kind (not FLOE_SLOT_NODE). */
struct floe_port_stats *floe_svc_stats(floe_service *svc,
				       enum floe_slot_kind kind, uint32_t i);
/** Owner of a slot if it is ready, else 0; fills @ref (a copy). */
uint64_t floe_svc_slot_owner(floe_service *svc, enum floe_slot_kind kind,
			     uint32_t i, struct floe_port_ref *ref);
/** Take a free slot of @kind for @ref. Index or error. */
int floe_svc_claim(floe_service *svc, enum floe_slot_kind kind,
		   const struct floe_port_ref *ref, uint32_t buffer_size);
void floe_svc_release(floe_service *svc, enum floe_slot_kind kind, uint32_t i,
		      uint64_t id);
/** Free slots whose ports are dead; returns how many were freed. */
int floe_svc_reclaim_dead(floe_service *svc);
/** True if some node slot is taken by a node that may be alive. */
bool floe_svc_in_use(floe_service *svc);
/** @node's REMOVING state word: the remover's identity goes with the
 * state, so a remover that died is recognised (FLOE_SVC_REMOVING). */
uint64_t floe_svc_removing_word(floe_node *node);
/** Remove the service if no live node uses it; true if removed. */
bool floe_svc_try_remove(floe_service *svc);
/**
 * The state word @stuck says REMOVING: if its remover is dead, finish its
 * removal (or, with live nodes in it, make the service READY again); true
 * if the service is removed.
 */
bool floe_svc_finish_removal(floe_service *svc, uint64_t stuck);
/* What a new sender of row @i may do with the connection to column @j. */
enum floe_takeover {
	FLOE_TAKE_FRESH, /* closed (or made so): start it afresh */
	FLOE_TAKE_CARRY, /* gone senders' leftovers are queued: append
			  * behind them (they are recorded as carried) */
	FLOE_TAKE_WAIT,  /* every carried record is in use: later */
};
/* (*@done: a gone sender with nothing left in it, to be finished with
 * floe_svc_leftovers_closed once the connection is ours.) */
enum floe_takeover floe_svc_take_over(const struct floe_dir *dir, uint32_t i,
				      uint32_t j, uint64_t me, uint64_t *done);
/**
 * A connection of the gone sender @id in row @i of @dir was closed, or
 * its leftovers read: unlink its data if no live receiver still reads
 * from it.
 */
void floe_svc_leftovers_closed(const struct floe_dir *dir, uint32_t i,
			       uint64_t id);
/** The receiver of column @j read the leftovers of @id carried in row
 * @i's connection (or is gone): forget them. */
void floe_svc_forget_carried(const struct floe_dir *dir, uint32_t i,
			     uint32_t j, uint64_t id);
/** Forget every sender whose leftovers row @i's connection to column @j
 * carries (its receiver is gone, or its queue reset). */
void floe_svc_forget_all_carried(const struct floe_dir *dir, uint32_t i,
				 uint32_t j);
/** Call @fn with every sender whose data the service may still need: the
 * slots' owners and the senders of open connections. */
void floe_svc_for_each_sender(floe_service *svc,
			      void (*fn)(uint64_t id, void *ctx), void *ctx);

/* A port: registered with the backend, holding a slot of its service. */
struct floe_port {
	floe_service *svc;
	struct floe_port_ref ref;
	uint32_t slot;
	enum floe_slot_kind kind;
};

/**
 * Register a port of @svc's pattern's role for @kind and take a slot of
 * that kind (a receiver's @buffer_size is recorded in it).
 */
int floe_port_join(floe_service *svc, enum floe_slot_kind kind,
		   uint32_t buffer_size, struct floe_port *port);
/** Leave: free the slot and unregister. */
void floe_port_leave(struct floe_port *port);

/* Test hooks: a port's sender, for leak checks of its pool. */
struct floe_sender;
struct floe_sender *floe_publisher_sender(floe_publisher *pub);
struct floe_sender *floe_client_sender(floe_client *client);
struct floe_sender *floe_server_sender(floe_server *server);
/** A listener's service deadline (0: none), for the waitset. */
uint64_t floe_listener_deadline(const floe_listener *l);
/** The receiving side of a port (for the waitset). */
struct floe_receiver *floe_subscriber_receiver(floe_subscriber *sub);
struct floe_receiver *floe_server_receiver(floe_server *server);
struct floe_receiver *floe_client_receiver(floe_client *client);

/* ------------------------------------------------------------------ */
/* Odds and ends: lib/util.c                                          */
/* ------------------------------------------------------------------ */

uint64_t floe_now_ns(void);
/** CLOCK_MONOTONIC_COARSE: no clock-source read (a few ns, not tens), to
 * a timer tick's resolution: for rate limits on paths polled in a loop. */
uint64_t floe_coarse_now_ns(void);
/** The absolute CLOCK_MONOTONIC deadline @timeout_ns from now in *@out;
 * false if it is too far to represent (wait forever). */
bool floe_deadline_after(uint64_t timeout_ns, struct timespec *out);
/** Milliseconds until @deadline, rounded up, for poll-like calls (-1 for
 * NULL: no limit). */
int floe_deadline_ms(const struct timespec *deadline);
/** Has @deadline (NULL: never) passed? */
bool floe_deadline_passed(const struct timespec *deadline);
/** The earlier of @deadline (NULL: never) and @ns from now, in *@out. */
void floe_deadline_min(const struct timespec *deadline, uint64_t ns,
		       struct timespec *out);
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
