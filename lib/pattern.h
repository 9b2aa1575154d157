/* SPDX-License-Identifier: MIT */
/*
 * Messaging patterns: what each pattern supplies to the generic service
 * code (lib/service.c, lib/slots.c, lib/discovery.c, lib/node.c), which
 * never branches on the pattern itself. A pattern is one file set:
 * lib/pubsub.c, lib/event.c, lib/rr.c (+ rr_client.c, rr_server.c),
 * lib/blackboard.c (+ bb_ports.c); each defines one of these tables.
 */
#ifndef FLOE_PATTERN_H
#define FLOE_PATTERN_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/dir.h"
#include "layout.h"
#include "names.h"

/* At most this many directions of data per service (request-response). */
#define FLOE_MAX_DIRS 2

struct floe_pattern {
	enum floe_pattern_kind kind;
	/* the namespace letter of its service segments */
	enum floe_seg_kind seg_kind;
	/* the uapi role of each slot kind's ports (nodes: FLOE_ROLE_NODE) */
	uint32_t roles[FLOE_SLOT_KINDS];
	/* payload types a service records (request-response: two) */
	uint32_t types;
	/**
	 * Check @q (a creator's, or a copy from shared memory) and lay the
	 * service out: its slots (floe_slots_layout) and its body. 0 or
	 * FLOE_E_INVALID.
	 */
	int (*layout)(const struct floe_shm_qos *q, struct floe_svc_layout *l);
	/** Does a service of QoS @have offer what an opener demands? */
	bool (*satisfies)(const struct floe_shm_qos *have,
			  const struct floe_shm_qos *want);
	/**
	 * The directions in which its ports send samples (they own data
	 * segments), laid out as @l after @q, carrying @types; their svc is
	 * left to the caller. Returns how many. NULL: none.
	 */
	uint32_t (*directions)(const struct floe_shm_qos *q,
			       const struct floe_svc_layout *l,
			       const struct floe_shm_type *types,
			       struct floe_dir dirs[FLOE_MAX_DIRS]);
	/** The pattern's QoS in a discovery record. */
	void (*describe)(const struct floe_shm_qos *q,
			 struct floe_service_info *info);
	/** A dead port's slot @slot of @kind was just freed (once per
	 * port; NULL: nothing to do). */
	void (*port_gone)(floe_service *svc, enum floe_slot_kind kind,
			  uint32_t slot);
};

extern const struct floe_pattern floe_pubsub_pattern;
extern const struct floe_pattern floe_event_pattern;
extern const struct floe_pattern floe_rr_pattern;
extern const struct floe_pattern floe_bb_pattern;

/** Every pattern, for walking a domain's services. */
#define FLOE_PATTERNS 4
extern const struct floe_pattern *const floe_patterns[FLOE_PATTERNS];

/** The pattern of kind @kind (read from shared memory), or NULL. */
const struct floe_pattern *floe_pattern_of(uint32_t kind);

#endif
