/* SPDX-License-Identifier: MIT */
/*
 * Bounded lock-free queue of 64-bit entries in shared memory: one producer,
 * one consumer, and — for safe overflow — the producer may also take the
 * oldest entry itself. head is advanced by compare-and-swap (consumer and
 * evicting producer race for it); tail only by the producer.
 *
 * The peer on the other side of a queue may be buggy or hostile: indices
 * read from shared memory are checked (tail - head within capacity), every
 * slot index is reduced modulo the capacity this process computed itself
 * (never one read from shared memory), and the producer keeps its own copy
 * of tail. Capacities are powers of two, so that reduction is a mask, not
 * a division (tens of cycles, on the path of every entry). A violated
 * invariant makes the call return FLOE_RING_CORRUPT; callers then drop
 * the connection.
 */
#ifndef FLOE_BASE_RING_H
#define FLOE_BASE_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define FLOE_CACHELINE 64

/*
 * head has a cache line of its own (the consumer's); tail shares its line
 * with the first entries, so a consumer that sees tail move usually has
 * the new entry in the same transfer.
 *
 * The producer reads how far the consumer got from head_seen, a copy of
 * head on a line of its own that takes only plain stores: had it read
 * head itself, the consumer's next take (a locked instruction, which must
 * own the line) would wait for the line to come back, a cache-line
 * transfer on the path of every message in a queue that is often near
 * its limit. head_seen never runs ahead of head; the producer reads head
 * itself only when the copy says the ring is full.
 */
struct floe_ring {
	_Atomic uint64_t head;
	uint8_t pad0[FLOE_CACHELINE - sizeof(uint64_t)];
	_Atomic uint64_t head_seen;
	uint8_t pad1[FLOE_CACHELINE - sizeof(uint64_t)];
	_Atomic uint64_t tail;
	_Atomic uint64_t entries[];
};

/* What a producer keeps in its own memory. */
struct floe_ring_producer {
	uint64_t tail;
	/* last head seen: head only grows, so a stale value errs on the side
	 * of "full" and head is re-read only then, sparing a cache miss */
	uint64_t head_cache;
	/* where this producer's entries begin: a limit counts only those
	 * (entries of an earlier producer may still be queued ahead) */
	uint64_t floor;
};

enum floe_ring_result {
	FLOE_RING_OK = 0,
	FLOE_RING_EMPTY = 1,
	FLOE_RING_FULL = 2,
	FLOE_RING_CORRUPT = 3,
};

/* The slot of entry @index in a ring of @capacity (a power of two). */
static inline uint64_t floe_ring_slot(uint32_t capacity, uint64_t index)
{
	return index & (capacity - 1);
}

/** Bytes a ring of @capacity entries (a power of two) occupies. */
static inline uint64_t floe_ring_bytes(uint32_t capacity)
{
	uint64_t n = sizeof(struct floe_ring) + (uint64_t)capacity * 8;

	return (n + FLOE_CACHELINE - 1) & ~(uint64_t)(FLOE_CACHELINE - 1);
}

/**
 * Empty the ring, dropping what is queued: head moves up to tail. Indices
 * never move back, so a consumer that remembers what it saw (struct
 * floe_ring_consumer) is not misled by a ring emptied under it, and a
 * take it peeked at before fails. For a producer taking the ring over,
 * then floe_ring_producer_resume().
 */
static inline void floe_ring_reset(struct floe_ring *r)
{
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);

	atomic_store_explicit(&r->head, t, memory_order_release);
	atomic_store_explicit(&r->head_seen, t, memory_order_release);
}

/** Go on producing where another producer left off: what it queued stays
 * ahead of what comes now. */
static inline void floe_ring_producer_resume(struct floe_ring *r,
					     struct floe_ring_producer *p)
{
	p->tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	p->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
	p->floor = p->tail;
}

/* Entries of @p's own from @head up to @tail (earlier ones are not its). */
static inline uint64_t floe_ring_own(const struct floe_ring_producer *p,
				     uint64_t head, uint64_t tail)
{
	return tail - (head - p->floor < (uint64_t)1 << 63 ? head : p->floor);
}

/**
 * Producer: append @v unless @limit (<= @capacity) of its own entries are
 * queued, or the ring is full. @p is the producer's private state. Pushes
 * with different limits may be mixed: more than @limit entries queued is
 * full, not corrupt. A full ring leaves the head it was full at in
 * @p->head_cache (floe_ring_evict).
 */
static inline enum floe_ring_result
floe_ring_push(struct floe_ring *r, uint32_t capacity, uint32_t limit,
	       struct floe_ring_producer *p, uint64_t v)
{
	uint64_t t = p->tail;

	/* The shared tail is this producer's own line, so reading it costs
	 * nothing unless someone else wrote it; then resynchronise. */
	if (floe_ring_own(p, p->head_cache, t) >= limit ||
	    t - p->head_cache >= capacity ||
	    atomic_load_explicit(&r->tail, memory_order_relaxed) != t) {
		uint64_t h = atomic_load_explicit(&r->head_seen,
						  memory_order_acquire);

		/* full by the copy, which may lag: ask head itself */
		if (t - h > capacity || floe_ring_own(p, h, t) >= limit ||
		    t - h >= capacity)
			h = atomic_load_explicit(&r->head, memory_order_acquire);

		if (t - h > capacity) {
			/* Someone else moved tail: adopt it if it is
			 * consistent with head (the consumer validates what
			 * such entries hold). */
			t = atomic_load_explicit(&r->tail,
						 memory_order_acquire);
			if (t - h > capacity)
				return FLOE_RING_CORRUPT;
		}
		p->head_cache = h;
		/* beyond @limit: pushes with a larger limit (markers) */
		if (floe_ring_own(p, h, t) >= limit || t - h >= capacity)
			return FLOE_RING_FULL;
	}
	atomic_store_explicit(&r->entries[floe_ring_slot(capacity, t)], v,
			      memory_order_relaxed);
	p->tail = t + 1;
	atomic_store_explicit(&r->tail, t + 1, memory_order_release);
	return FLOE_RING_OK;
}

/* floe_ring_peek, also saying the tail it read in *@tail. */
static inline enum floe_ring_result
floe_ring_peek_tail(struct floe_ring *r, uint32_t capacity, uint32_t limit,
		    uint64_t *v, uint64_t *head, uint64_t *tail)
{
	uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);

	for (;;) {
		uint64_t t = atomic_load_explicit(&r->tail,
						  memory_order_acquire);

		*tail = t;
		if (h == t)
			return FLOE_RING_EMPTY;
		if (t - h > limit) {
			/* h may be stale (an eviction moved it on meanwhile);
			 * only an unchanged head proves the indices bad. */
			uint64_t fresh = atomic_load_explicit(
				&r->head, memory_order_acquire);

			if (fresh == h)
				return FLOE_RING_CORRUPT;
			h = fresh;
			continue;
		}
		*v = atomic_load_explicit(&r->entries[floe_ring_slot(capacity, h)],
					  memory_order_relaxed);
		*head = h;
		return FLOE_RING_OK;
	}
}

/**
 * Look at the oldest entry without taking it; *@head is what
 * floe_ring_take() needs to take it. @limit bounds what a sane producer can
 * have queued.
 */
static inline enum floe_ring_result
floe_ring_peek(struct floe_ring *r, uint32_t capacity, uint32_t limit,
	       uint64_t *v, uint64_t *head)
{
	uint64_t tail;

	return floe_ring_peek_tail(r, capacity, limit, v, head, &tail);
}

/* What a consumer that remembers keeps in its own memory. */
struct floe_ring_consumer {
	uint64_t head_next; /* head after its last take */
	uint64_t tail_seen; /* tail as it read it last */
};

/* The entry at @head is known to be queued: it lies between where our
 * last take left head and the tail we saw (head moving back means the
 * ring was reset under us: known no more), within @limit. */
static inline bool floe_ring_known(const struct floe_ring_consumer *c,
				   uint64_t head, uint32_t limit)
{
	return head - c->head_next < (uint64_t)1 << 63 &&
	       c->tail_seen - head - 1 < limit;
}

/**
 * floe_ring_peek for a consumer that remembers (@c): while entries it
 * already knows of are queued it reads neither tail nor its line, which
 * the producer writes on every push. A consumer that read the tail on
 * every message would pull that line away from a streaming producer each
 * time, one transfer per message; this one reads it once per batch that
 * arrived. Take with floe_ring_take_known().
 */
static inline enum floe_ring_result
floe_ring_peek_known(struct floe_ring *r, uint32_t capacity, uint32_t limit,
		     struct floe_ring_consumer *c, uint64_t *v,
		     uint64_t *head)
{
	uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);

	if (floe_ring_known(c, h, limit)) {
		*v = atomic_load_explicit(&r->entries[floe_ring_slot(capacity, h)],
					  memory_order_relaxed);
		*head = h;
		return FLOE_RING_OK;
	}
	return floe_ring_peek_tail(r, capacity, limit, v, head, &c->tail_seen);
}

/*
 * Take the entry peeked at @head. False if someone else took it first (the
 * consumer, or the producer evicting it): the entry read is not ours.
 */
static inline bool floe_ring_take(struct floe_ring *r, uint64_t head)
{
	if (!atomic_compare_exchange_strong_explicit(
		    &r->head, &head, head + 1, memory_order_acq_rel,
		    memory_order_acquire))
		return false;
	/* for the producer (release: we are done with the entry) */
	atomic_store_explicit(&r->head_seen, head + 1, memory_order_release);
	return true;
}

/**
 * Producer, after floe_ring_push() found the ring full: take the entry
 * that was oldest when it did (at the head it read, @p->head_cache) into
 * *@v. False if the consumer took that entry first: then there is room.
 * Never the entry oldest now: once the consumer has taken one, the next
 * is owed to it, in a ring no longer full. The caller makes sure that
 * entry is its own (not an earlier producer's: p->floor).
 */
static inline bool floe_ring_evict(struct floe_ring *r, uint32_t capacity,
				   const struct floe_ring_producer *p,
				   uint64_t *v)
{
	uint64_t head = p->head_cache;

	/* we wrote that slot, and write it again only once head moves on */
	*v = atomic_load_explicit(&r->entries[floe_ring_slot(capacity, head)],
				  memory_order_relaxed);
	return floe_ring_take(r, head);
}

/* floe_ring_take for a consumer that remembers (@c). */
static inline bool floe_ring_take_known(struct floe_ring *r,
					struct floe_ring_consumer *c,
					uint64_t head)
{
	if (!floe_ring_take(r, head))
		return false;
	c->head_next = head + 1;
	return true;
}

/*
 * floe_ring_take_known for a ring whose producer never evicts (no safe
 * overflow): only its consumer moves head, so plain stores take the
 * entry. A locked instruction would first wait until every store before
 * it reached its line: the give-backs and head copies the sender reads,
 * a cache-line transfer per message when it streams. (A sender resets
 * the indices only of a queue no live receiver reads, or of one whose
 * receiver corrupted it: struct floe_conn.)
 */
static inline void floe_ring_take_own(struct floe_ring *r,
				      struct floe_ring_consumer *c,
				      uint64_t head)
{
	/* release: we read the entry before the producer may reuse it */
	atomic_store_explicit(&r->head, head + 1, memory_order_release);
	atomic_store_explicit(&r->head_seen, head + 1, memory_order_release);
	c->head_next = head + 1;
}

/*
 * A ring nobody but its consumer takes from (its producer never evicts):
 * the consumer takes entries with plain loads and hands their slots back
 * with one store, no compare-and-swap. floe_ring_queued() says what is
 * queued, from *@head to *@tail; floe_ring_entry() reads one of them;
 * floe_ring_consumed() gives the slots up to @tail back to the producer.
 */
static inline enum floe_ring_result
floe_ring_queued(struct floe_ring *r, uint32_t limit, uint64_t *head,
		 uint64_t *tail)
{
	/* only this consumer writes head (or a tampering peer: then the
	 * check below fails) */
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);

	if (t - h > limit)
		return FLOE_RING_CORRUPT;
	*head = h;
	*tail = t;
	return h == t ? FLOE_RING_EMPTY : FLOE_RING_OK;
}

static inline uint64_t floe_ring_entry(struct floe_ring *r, uint32_t capacity,
				       uint64_t index)
{
	return atomic_load_explicit(&r->entries[floe_ring_slot(capacity, index)],
				    memory_order_relaxed);
}

static inline void floe_ring_consumed(struct floe_ring *r, uint64_t tail)
{
	/* release: our reads of the entries come before the producer
	 * reuses their slots */
	atomic_store_explicit(&r->head, tail, memory_order_release);
	atomic_store_explicit(&r->head_seen, tail, memory_order_release);
}

/**
 * Producer of a ring that cannot overfill by construction (a completion
 * queue: it never holds more than every chunk of its sender once, and
 * what its receiver held of gone senders' and gives back late, and its
 * capacity is sized for that, lib/engine/dir.c): append @v without
 * looking at head, after
 * whatever is queued. A consumer that does not keep up finds the indices
 * corrupt, its own doing.
 */
static inline void floe_ring_append(struct floe_ring *r, uint32_t capacity,
				    uint64_t v)
{
	/* only we write tail (an earlier producer may have: go on after
	 * it) */
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);

	atomic_store_explicit(&r->entries[floe_ring_slot(capacity, t)], v,
			      memory_order_relaxed);
	atomic_store_explicit(&r->tail, t + 1, memory_order_release);
}

/* Nothing queued, at a glance: the quick look before
 * floe_ring_peek_known (inconsistent indices are not idle: the peek
 * reports them). */
static inline bool floe_ring_idle(struct floe_ring *r,
				  const struct floe_ring_consumer *c,
				  uint32_t limit)
{
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);

	return !floe_ring_known(c, h, limit) &&
	       atomic_load_explicit(&r->tail, memory_order_relaxed) == h;
}

/** Entries queued, as far as a consumer can tell; 0 when inconsistent. */
static inline uint64_t floe_ring_count(struct floe_ring *r, uint32_t limit)
{
	uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);

	return t - h > limit ? 0 : t - h;
}

#endif
