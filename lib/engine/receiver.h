/* SPDX-License-Identifier: MIT */
/*
 * A receiver's state, shared by its files: the queues (receiver.c), the
 * samples taken from them (sample.c) and waiting (wait.c).
 */
#ifndef FLOE_ENGINE_RECEIVER_H
#define FLOE_ENGINE_RECEIVER_H

#include "engine/engine.h"

struct source_map {
	struct floe_seg seg;
	/* its first chunk: all chunk_count chunks lie within the mapping
	 * (checked when mapped) */
	const char *chunks;
	uint64_t stride;
	uint64_t max_len;
	uint32_t gen;
	/* samples held from it: the only count kept of what is held (a
	 * receive and a release store nothing else for it; the source's and
	 * the receiver's are summed when asked, on their rare paths) */
	uint32_t held;
};

struct source {
	struct floe_ring *ring; /* our connection's submission queue */
	struct floe_ring *comp; /* and its completion queue */
	struct floe_ring_consumer cons; /* what we know of it */
	/* the chunk header the sender's next sample will likely be in (its
	 * last header said), or NULL: fetched while we wait for it */
	const void *next_header;
	/* polls that found nothing since the last sample, counted up to
	 * IDLE_POLLS_BEFORE_PREFETCH */
	uint32_t idle_polls;
	uint64_t pub_id;
	uint32_t pub_slot;
	uint32_t epoch;
	bool draining; /* sender gone or queue broken: finish what's queued */
	bool gone;     /* the sender left or died */
	bool retired;  /* no longer polled; freed with its last sample */
	struct source_map maps[FLOE_MAX_LIVE_GENERATIONS];
	uint32_t last_map; /* the mapping the last entry was in */
	uint32_t polled_pos; /* where in floe_receiver.polled */
	struct source *next_retired;
};

struct floe_sample {
	struct floe_receiver *rx; /* set once, when the receiver opens */
	struct source *src; /* its sender's id: src->pub_id */
	const void *payload;
	uint64_t len;
	uint64_t sequence;
	uint64_t tag;
	uint32_t chunk;
	uint32_t map;
	bool in_use;
};

struct floe_receiver {
	const struct floe_dir *dir;
	struct floe_port_ref ref;
	uint32_t slot;
	struct floe_port_stats *stats; /* ours, in the service segment */
	struct source **sources; /* by sender slot */
	/* the same sources in no order: a receive visits these, not every
	 * slot */
	struct source **polled;
	uint32_t npolled;
	struct source *retired;
	struct floe_sample *samples;
	/* samples released, their chunks not yet given back
	 * (return_released): a record is not reused before that, so it
	 * still names its source and chunk; room for max_borrowed */
	struct floe_sample **released;
	uint32_t nreleased;
	uint32_t max_borrowed;
	uint32_t next_source;
	uint64_t seen_changes;
	uint64_t seen_deaths;
	bool rescan; /* a slot freed up locally: look for new senders */
	/* moves whenever the sources may have changed (update, retire):
	 * floe_receiver_generation */
	uint64_t generation;
	/* floe_receiver_take_only */
	bool (*ready)(void *ctx, uint32_t slot, uint64_t id);
	void *ready_ctx;
	uint64_t deaths;          /* senders seen to die while connected */
	uint64_t deaths_reported; /* of them, told by take_deaths */
	int bell;                 /* its descriptor (doorbell), or -1 */
};


#endif
