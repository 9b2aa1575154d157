/* SPDX-License-Identifier: MIT */
/*
 * Inside a sender, shared by its two files: lib/engine/chunks.c (the pool
 * of chunks in data segments that grow by generation, and the loans) and
 * lib/engine/sender.c (connections, delivery, overflow).
 *
 * Bookkeeping stays in this process, where no peer can touch it: a
 * reference count per chunk (the loan, the history, one per receiver it
 * was queued to; the first receiver of a send takes the loan's over) and,
 * per connection, the set of chunks in flight to that receiver. A chunk
 * coming back through a completion queue is accepted only if it is in
 * that set, so a buggy receiver can neither free a chunk twice nor free
 * another's; when a receiver goes (or dies), everything in its set is
 * reclaimed at once.
 */
#ifndef FLOE_ENGINE_SENDER_H
#define FLOE_ENGINE_SENDER_H

#include "base/bitset.h"
#include "base/pool.h"
#include "engine/engine.h"

struct tx_conn {
	uint64_t sub_id; /* 0: not connected */
	uint32_t live_pos; /* where in floe_sender.live, while connected */
	/* its queues in the service segment, mapped as long as we live */
	struct floe_ring *sub_ring, *comp_ring;
	struct floe_port_ref sub_ref;
	struct floe_ring_producer sub_prod;
	uint32_t limit;
	uint32_t epoch;
	struct floe_bitset inflight;
	uint32_t inflight_count;
	/* chunks of a connection dropped as corrupt while its receiver
	 * lives: it may still hold them, so they are freed only once that
	 * receiver is gone */
	struct floe_bitset quarantine;
	uint64_t quarantine_owner;
};

/* A data segment: the pool's chunks at one size. */
struct tx_gen {
	struct floe_seg seg;
	uint64_t max_len;
	uint64_t stride;
	uint32_t gen;
	/* chunks in use bound to this generation, counted from when it
	 * stops being the current one (grow): a loan and a free of the
	 * current one store nothing here */
	uint32_t users;
	bool live;
};

struct floe_sample_mut {
	struct floe_sender *tx; /* set once, when the sender opens */
	void *ctx;
	void *payload;
	uint64_t len;
	uint32_t chunk;
	bool in_use;
};

struct floe_sender {
	const struct floe_dir *dir;
	struct floe_port_ref ref;
	uint32_t slot;
	struct floe_sender_opts opts;
	/* chunks.c */
	uint32_t chunk_count;
	struct floe_pool pool;
	/* taken from the pool for the next loan and announced in the last
	 * chunk header sent (floe_tx_announce_next), or FLOE_POOL_NONE */
	uint32_t next_chunk;
	uint32_t *refcnt;
	uint8_t *chunk_gen; /* index into gens[] */
	struct tx_gen gens[FLOE_MAX_LIVE_GENERATIONS];
	uint32_t cur;
	uint32_t next_gen;
	struct floe_sample_mut *loans;
	/* sender.c */
	struct tx_conn *conns; /* by receiver slot */
	/* the slots of the connected receivers, in no order: a send visits
	 * these, not every slot */
	uint32_t *live;
	uint32_t nlive;
	uint32_t *history;
	uint32_t hist_len;
	uint32_t hist_next;
	uint64_t sequence;
	struct floe_port_stats *stats; /* ours, in the service segment */
	uint64_t seen_changes;
	uint64_t seen_deaths;
	bool reclaim_due; /* a connection is one short of its bound */
	/* a send carried a tag or a header was marked unwanted: from then
	 * on every send writes both; until then every header holds the
	 * zeros of its new data segment, and a send to subscribers (tag 0)
	 * stores two words fewer */
	bool tagged;
	int bell_sock; /* for receivers' doorbells; -1 until one is armed */
	/* receivers' barriers reach this process: sends need no fence
	 * (lib/base/wake.h) */
	bool wake_registered;
};

/* chunks.c */
int floe_tx_chunks_init(struct floe_sender *tx);
/** Close the data segments; with @keep their names stay (marked as left
 * by their sender) for receivers still to read queued samples. */
void floe_tx_chunks_fini(struct floe_sender *tx, bool keep);
/** Release generation @gi, its last chunk back: out of line, seldom. */
void floe_tx_retire_gen(struct floe_sender *tx, uint32_t gi);

/** Where @chunk is in the data segment of generation @g. */
static inline void *floe_tx_gen_chunk(const struct tx_gen *g, uint32_t chunk)
{
	return (char *)g->seg.addr + floe_data_chunks_offset() +
	       (uint64_t)chunk * g->stride;
}

/** Where @chunk is, in the data segment of the generation it is bound to. */
static inline void *floe_tx_chunk(const struct floe_sender *tx, uint32_t chunk)
{
	return floe_tx_gen_chunk(&tx->gens[tx->chunk_gen[chunk]], chunk);
}

/** Return @chunk, its last reference gone, to the pool. */
static inline void floe_tx_free(struct floe_sender *tx, uint32_t chunk)
{
	uint32_t gi = tx->chunk_gen[chunk];

	if (gi != tx->cur && --tx->gens[gi].users == 0)
		floe_tx_retire_gen(tx, gi);
	floe_pool_push(&tx->pool, chunk);
}

/* The generation of @chunk's data segment. */
static inline uint32_t floe_tx_chunk_gen(const struct floe_sender *tx,
					 uint32_t chunk)
{
	return tx->gens[tx->chunk_gen[chunk]].gen;
}

/** Drop a reference; the last one returns the chunk to the pool. */
static inline void floe_tx_unref(struct floe_sender *tx, uint32_t chunk)
{
	if (!--tx->refcnt[chunk])
		floe_tx_free(tx, chunk);
}
/** The chunk the next loan will take, set aside for it now so that a
 * chunk header can announce it (FLOE_POOL_NONE if the pool is dry). */
static inline uint32_t floe_tx_announce_next(struct floe_sender *tx)
{
	if (tx->next_chunk == FLOE_POOL_NONE)
		tx->next_chunk = floe_pool_pop(&tx->pool);
	return tx->next_chunk;
}

/** End loan @s, discarded or sent to nobody: its reference goes. */
static inline void floe_tx_end_loan(floe_sample_mut *s)
{
	s->in_use = false;
	floe_tx_unref(s->tx, s->chunk);
}

/** End loan @s, sent to @refs receivers whose references are not counted
 * yet (sender.c, deliver): the first takes over the loan's own. */
static inline void floe_tx_end_sent_loan(floe_sample_mut *s, uint32_t refs)
{
	if (!refs) {
		floe_tx_end_loan(s);
		return;
	}
	s->in_use = false;
	if (refs > 1)
		s->tx->refcnt[s->chunk] += refs - 1;
}

/* sender.c: take back everything returned. Called only when the pool runs
 * dry (a loan), so it is taken back in batches: reading a
 * completion queue is a cache miss, since its receiver wrote it last. */
void floe_tx_reclaim_all(struct floe_sender *tx);
/* also ask whether receivers died holding chunks: slow, for a dry pool */
void floe_tx_recover(struct floe_sender *tx);

#endif
