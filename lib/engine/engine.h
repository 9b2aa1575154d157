/* SPDX-License-Identifier: MIT */
/*
 * The engine: senders and receivers of one direction (lib/engine/dir.h).
 * A sender owns a pool of chunks in its data segments and the producing
 * side of one submission queue per connected receiver; a receiver the
 * consuming side of one submission queue per sender. No lock and no
 * system call per message.
 *
 * The public ports are thin over it: a publisher is a sender, a
 * subscriber a receiver (lib/pubsub.c); a request-response client is a
 * sender of requests and a receiver of responses, a server the reverse
 * (lib/rr_client.c, lib/rr_server.c). A loan is the public floe_sample_mut,
 * a received sample the public floe_sample.
 */
#ifndef FLOE_ENGINE_H
#define FLOE_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "engine/dir.h"
#include "internal.h"

struct floe_sender;
struct floe_receiver;

/* How often a waiting receiver asks whether its senders still live. */
#define FLOE_LIVENESS_PERIOD_NS 50000000ULL

struct floe_sender_opts {
	enum floe_unable_to_deliver unable_to_deliver;
	uint64_t initial_max_slice_len; /* elements; 0 → 1 */
	enum floe_allocation allocation;
	uint64_t max_slice_len; /* 0 → no bound beyond memory */
};

/* One receiver: its slot and port id. */
struct floe_target {
	uint32_t slot;
	uint64_t id;
};

/**
 * Open the sending side of @port (its slot is a sender slot of @dir).
 * FLOE_E_INVALID for bad options.
 */
int floe_sender_open(const struct floe_dir *dir, const struct floe_port *port,
		     const struct floe_sender_opts *opts,
		     struct floe_sender **out);
/**
 * Close: connections whose receiver took everything are closed; those
 * still holding samples stay open for their receivers, and so does the
 * data (struct floe_conn). Loans must have ended.
 */
void floe_sender_close(struct floe_sender *tx);
/** Loans not yet sent or discarded. */
uint32_t floe_sender_loaned(const struct floe_sender *tx);
/** Loan a chunk of @len elements, as floe_publisher_loan; @ctx is the
 * user port's (request-response: the client, or the active request). */
int floe_sender_loan(struct floe_sender *tx, uint64_t len, void *ctx,
		     floe_sample_mut **out);
/** A live loan's @ctx, or NULL if @s is no loan (never given, or over). */
void *floe_loan_ctx(const floe_sample_mut *s);
/** The chunk of live loan @s (for floe_sender_unwant). */
uint32_t floe_loan_chunk(const floe_sample_mut *s);
/** Discard every loan of @tx given with @ctx. */
void floe_sender_discard_loans(struct floe_sender *tx, const void *ctx);
/**
 * Send to every receiver, or only to @to; @tag goes into the chunk header.
 * With @reached (dir->receivers entries, all 0 on entry), the entry of
 * each receiver slot the sample reached is set to that receiver's port
 * id. Returns how many it reached; the loan ends whatever the result.
 */
int floe_sender_send(floe_sample_mut *s, const struct floe_target *to,
		     uint64_t tag, uint64_t *reached);
/** floe_sender_send(@s, NULL, 0, NULL): a broadcast without a tag, the
 * common case, made without a call while nothing is out of the way. */
int floe_sender_publish(floe_sample_mut *s);
/** Queue a marker (no chunk; the low FLOE_MARKER_TAG_BITS of @tag) for @to,
 * in order with the samples sent to it. 0, FLOE_E_DEAD (not connected) or
 * WOULD_BLOCK. */
int floe_sender_mark(struct floe_sender *tx, const struct floe_target *to,
		     uint64_t tag);
/** Nobody wants answers to the sample sent with @tag in @chunk any more:
 * say so in its header (floe_sample_unwanted), if the chunk still holds
 * it. */
void floe_sender_unwant(struct floe_sender *tx, uint32_t chunk, uint64_t tag);
/** Connect new receivers and take back what receivers returned or died
 * holding. */
void floe_sender_update(struct floe_sender *tx);
/** True if what @tx sends to @to reaches it now (connected once it can
 * be: a receiver with a full set of carried leftovers waits). */
bool floe_sender_reaches(struct floe_sender *tx, const struct floe_target *to);
/** Chunks in the pool right now, and its size (for tests: leak checks). */
uint32_t floe_sender_free_chunks(const struct floe_sender *tx);
uint32_t floe_sender_chunk_count(const struct floe_sender *tx);

/** Open the receiving side of @port (its slot is a receiver slot of
 * @dir), holding at most @max_borrowed samples. */
int floe_receiver_open(const struct floe_dir *dir, const struct floe_port *port,
		       uint32_t max_borrowed, struct floe_receiver **out);
/** Close; what gone senders left it is let go. Samples must have
 * been released. */
void floe_receiver_close(struct floe_receiver *rx);
/** Samples held (received, not released). */
uint32_t floe_receiver_borrowed(const struct floe_receiver *rx);
/** A marker taken from a queue: who queued it and its tag. */
struct floe_marker {
	uint64_t pub_id;
	uint32_t pub_slot;
	uint64_t tag;
};
/**
 * Take the next entry: 1 with *@out, 2 with *@mark (only if @mark; with
 * @mark NULL markers are skipped), 0 if nothing is waiting, or
 * FLOE_E_BORROW_LIMIT.
 */
int floe_receiver_receive(struct floe_receiver *rx, const floe_sample **out,
			  struct floe_marker *mark);
/** True if an entry is waiting. */
bool floe_receiver_has_data(struct floe_receiver *rx);
/** Take (and count as waiting) only what senders for which @ready(@ctx,
 * sender slot, sender id) holds queued; the others' entries stay queued. */
void floe_receiver_take_only(struct floe_receiver *rx,
			     bool (*ready)(void *ctx, uint32_t slot,
					   uint64_t id),
			     void *ctx);
/** Connect to (and map the memory of) senders that appeared. */
void floe_receiver_refresh(struct floe_receiver *rx);
/** A number that stays the same while what floe_receiver_has_source says
 * cannot change: no refresh found the slots changed, no sender was
 * retired. */
uint64_t floe_receiver_generation(const struct floe_receiver *rx);
/** How many senders @rx has seen die while connected (only grows). */
uint64_t floe_receiver_deaths(const struct floe_receiver *rx);
/** True while @rx reads from sender @id in @slot (or may soon: its slot
 * still holds it, or our connection from that slot its entries). */
bool floe_receiver_has_source(struct floe_receiver *rx, uint32_t slot,
			      uint64_t id);
/** The wake cell of @rx's slot (lib/base/wake.h). */
struct floe_wake *floe_receiver_wake(const struct floe_receiver *rx);
/** True once for senders seen to die (not leave) since the last call. */
bool floe_receiver_take_deaths(struct floe_receiver *rx);
/** Look at every sender slot now, asking the backend who died. */
void floe_receiver_check_senders(struct floe_receiver *rx);
/** @rx's descriptor, readable while an entry waits (lib/doorbell.h);
 * made on the first call, closed with @rx. Negative FLOE_E_* on error. */
int floe_receiver_fd(struct floe_receiver *rx);
/** A port that stopped taking entries before its queues were empty (it
 * got what it asked for): make the descriptor readable only if entries
 * wait. */
void floe_receiver_settle(struct floe_receiver *rx);
/**
 * Sleep until an entry waits (1), a sender died (FLOE_E_DEAD, see
 * floe_receiver_take_deaths) or @deadline passes (0; NULL: never).
 * Without the module a death is noticed within FLOE_LIVENESS_PERIOD_NS.
 */
int floe_receiver_wait(struct floe_receiver *rx,
		       const struct timespec *deadline);
/** As floe_receiver_wait, for @timeout_ns (0: just look; too large to
 * represent: forever): the ports' public waits (lib/pubsub.c). */
int floe_wait_receiver(struct floe_receiver *rx, uint64_t timeout_ns);

/** The chunk header's tag, and the sender slot a sample came from. */
uint64_t floe_sample_tag(const floe_sample *s);
uint32_t floe_sample_sender_slot(const floe_sample *s);
/** Whether @s's sender has since said nobody wants answers to it
 * (floe_sender_unwant): read live from its chunk header, a hint. */
bool floe_sample_unwanted(const floe_sample *s);

#endif
