// SPDX-License-Identifier: MIT
/*
 * Publisher: owns a pool of chunks in its data segment and the producing
 * side of one submission queue per connected subscriber.
 *
 * Bookkeeping stays in this process, where no peer can touch it: a
 * reference count per chunk (the loan, the history, one per subscriber it
 * was queued to) and, per connection, the set of chunks in flight to that
 * subscriber. A chunk coming back through a completion queue is accepted
 * only if it is in that set, so a buggy subscriber can neither free a chunk
 * twice nor free another's; when a subscriber goes (or dies), everything
 * in its set is reclaimed at once.
 *
 * Data segments grow by generation: a new, larger segment is made when a
 * slice needs it; a chunk index is bound to the generation current when it
 * is loaned, and an old segment is released once none of its chunks is in
 * use.
 */
#include <stdlib.h>
#include <string.h>

#include <linux/floe.h>

#include "base/bounds.h"
#include "internal.h"

/*
 * Returned chunks are collected every few sends (at most this many, and a
 * quarter of the pool) or when the pool runs dry: reading a completion
 * queue is a cache miss, since the subscriber wrote it last, so it is not
 * paid on every loan.
 */
#define RECLAIM_EVERY 8

/* Evictions a full queue with safe overflow may take before it counts as
 * tampered with (an honest one needs one, two if the subscriber races). */
#define SAFE_OVERFLOW_ROUNDS 4

struct pub_conn {
	uint64_t sub_id; /* 0: not connected */
	struct floe_port_ref sub_ref;
	struct floe_ring_producer sub_prod;
	uint32_t limit;
	uint32_t epoch;
	struct floe_bitset inflight;
	uint32_t inflight_count;
	/* chunks of a connection dropped as corrupt while its subscriber
	 * lives: it may still hold them, so they are freed only once that
	 * subscriber is gone */
	struct floe_bitset quarantine;
	uint64_t quarantine_owner;
};

struct pub_gen {
	struct floe_seg seg;
	uint64_t max_len;
	uint64_t stride;
	uint32_t gen;
	uint32_t users; /* chunks bound to this generation */
	bool live;
};

struct floe_sample_mut {
	floe_publisher *pub;
	void *payload;
	void *user_header;
	uint64_t len;
	uint32_t chunk;
	bool in_use;
};

struct floe_publisher {
	floe_service *svc;
	struct floe_port_ref ref;
	struct floe_publisher_opts opts;
	uint32_t slot;
	uint32_t chunk_count;
	struct floe_pool pool;
	uint32_t *refcnt;
	uint8_t *chunk_gen; /* index into gens[] */
	struct pub_gen gens[FLOE_MAX_LIVE_GENERATIONS];
	uint32_t cur;
	uint32_t next_gen;
	struct pub_conn *conns;
	uint32_t *history;
	uint32_t hist_len;
	uint32_t hist_next;
	struct floe_sample_mut *loans;
	uint32_t loaned;
	uint64_t sequence;
	uint32_t sends_since_reclaim;
	uint32_t reclaim_batch;
	uint64_t seen_changes;
	uint64_t seen_deaths;
};

FLOE_EXPORT void floe_publisher_opts_init(struct floe_publisher_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->initial_max_slice_len = 1;
}

static void *chunk_base(floe_publisher *pub, uint32_t chunk)
{
	struct pub_gen *g = &pub->gens[pub->chunk_gen[chunk]];

	return (char *)g->seg.addr + floe_data_chunks_offset() +
	       (uint64_t)chunk * g->stride;
}

static void retire_gen(floe_publisher *pub, uint32_t idx)
{
	struct pub_gen *g = &pub->gens[idx];
	char name[FLOE_SEG_NAME_MAX];

	floe_seg_name(name, pub->svc->node->be->domain, FLOE_KIND_DATA,
		      pub->ref.id, g->gen);
	pub->svc->node->be->ops->seg_unlink(pub->svc->node->be, name);
	floe_seg_close(&g->seg);
	g->live = false;
}

static int create_gen(floe_publisher *pub, uint64_t max_len, uint32_t *idx)
{
	floe_service *svc = pub->svc;
	struct floe_backend *be = svc->node->be;
	struct floe_data_header dh;
	char name[FLOE_SEG_NAME_MAX];
	struct pub_gen *g = NULL;
	uint64_t stride, size;
	int ret;

	for (uint32_t i = 0; i < FLOE_MAX_LIVE_GENERATIONS; i++) {
		if (!pub->gens[i].live) {
			g = &pub->gens[i];
			*idx = i;
			break;
		}
	}
	if (!g || pub->next_gen > 0xffff)
		return FLOE_E_NO_SPACE;
	stride = floe_chunk_stride(svc->payload_offset, max_len,
				   svc->type_size, svc->type_align);
	size = floe_data_bytes(stride, pub->chunk_count);
	if (size > FLOE_LIMIT_DATA_BYTES)
		return FLOE_E_TOO_LARGE;
	floe_seg_name(name, be->domain, FLOE_KIND_DATA, pub->ref.id,
		      pub->next_gen);
	dh = (struct floe_data_header){
		.magic = FLOE_DATA_MAGIC,
		.owner = pub->ref,
		.publisher_id = pub->ref.id,
		.generation = pub->next_gen,
		.chunk_count = pub->chunk_count,
		.chunk_stride = stride,
		.max_len = max_len,
	};
	ret = be->ops->seg_create(be, name, size, (svc->hdr->mode & 0444) | 0200,
				  FLOE_SEG_OWNED_BY_PORT, &pub->ref, &dh,
				  sizeof(dh), &g->seg);
	if (ret)
		return ret;
	g->gen = pub->next_gen++;
	g->max_len = max_len;
	g->stride = stride;
	g->users = 0;
	g->live = true;
	return 0;
}

static void unref_chunk(floe_publisher *pub, uint32_t chunk)
{
	uint32_t gi;

	if (--pub->refcnt[chunk])
		return;
	gi = pub->chunk_gen[chunk];
	if (--pub->gens[gi].users == 0 && gi != pub->cur)
		retire_gen(pub, gi);
	floe_pool_push(&pub->pool, chunk);
}

/* An entry given back (or evicted) from subscriber @j's connection. */
static void take_back(floe_publisher *pub, uint32_t j, uint64_t entry)
{
	struct pub_conn *c = &pub->conns[j];
	uint32_t chunk = FLOE_ENTRY_CHUNK(entry);

	if (FLOE_ENTRY_EPOCH(entry) != (c->epoch & 0xffff) ||
	    !floe_bitset_test(&c->inflight, chunk))
		return; /* stale or bogus: never ours to free */
	floe_bitset_clear(&c->inflight, chunk);
	c->inflight_count--;
	unref_chunk(pub, chunk);
}

static void unref_all(floe_publisher *pub, struct floe_bitset *set)
{
	for (uint32_t chunk = floe_bitset_next(set, 0); chunk < pub->chunk_count;
	     chunk = floe_bitset_next(set, chunk + 1)) {
		floe_bitset_clear(set, chunk);
		unref_chunk(pub, chunk);
	}
}

static void end_connection(floe_publisher *pub, uint32_t j)
{
	struct floe_conn *sc = floe_svc_conn(pub->svc, pub->slot, j);

	atomic_store(&sc->sub_id, 0);
	pub->conns[j].inflight_count = 0;
	pub->conns[j].sub_id = 0;
}

/* The subscriber left or died: everything in flight to it comes back. */
static void disconnect(floe_publisher *pub, uint32_t j)
{
	struct pub_conn *c = &pub->conns[j];

	unref_all(pub, &c->inflight);
	end_connection(pub, j);
}

/*
 * The connection's shared state is corrupt (someone wrote garbage into it)
 * but the subscriber may be alive and holding samples: set its chunks
 * aside and connect it afresh on the next update.
 */
static void quarantine(floe_publisher *pub, uint32_t j)
{
	struct pub_conn *c = &pub->conns[j];
	uint32_t words = (pub->chunk_count + 63) / 64;

	if (c->quarantine_owner && c->quarantine_owner != c->sub_id)
		unref_all(pub, &c->quarantine);
	for (uint32_t w = 0; w < words; w++) {
		c->quarantine.words[w] |= c->inflight.words[w];
		c->inflight.words[w] = 0;
	}
	c->quarantine_owner = c->sub_id;
	end_connection(pub, j);
	atomic_fetch_add(&pub->svc->hdr->changes, 1);
}

static void reclaim(floe_publisher *pub, uint32_t j)
{
	struct floe_conn *sc = floe_svc_conn(pub->svc, pub->slot, j);
	struct floe_ring *ring = floe_conn_comp_ring(pub->svc, sc);
	uint64_t entry;
	enum floe_ring_result r;

	while ((r = floe_ring_pop(ring, pub->svc->lay.comp_cap,
				  pub->svc->lay.comp_cap, &entry)) ==
	       FLOE_RING_OK)
		take_back(pub, j, entry);
	if (r == FLOE_RING_CORRUPT)
		quarantine(pub, j);
}

static void reclaim_all(floe_publisher *pub)
{
	for (uint32_t j = 0; j < pub->svc->qos.max_subscribers; j++)
		if (pub->conns[j].sub_id)
			reclaim(pub, j);
}

static enum floe_ring_result push(floe_publisher *pub, uint32_t j,
				  uint32_t chunk)
{
	struct pub_conn *c = &pub->conns[j];
	struct floe_conn *sc = floe_svc_conn(pub->svc, pub->slot, j);
	uint64_t entry = floe_entry(c->epoch, pub->gens[pub->chunk_gen[chunk]].gen,
				    chunk);
	enum floe_ring_result r;

	r = floe_ring_push(floe_conn_sub_ring(pub->svc, sc), pub->svc->lay.sub_cap,
			   c->limit, &c->sub_prod, entry);
	if (r == FLOE_RING_OK && !floe_bitset_test(&c->inflight, chunk)) {
		floe_bitset_set(&c->inflight, chunk);
		c->inflight_count++;
		pub->refcnt[chunk]++;
	}
	return r;
}

static void connect_sub(floe_publisher *pub, uint32_t j, uint64_t sub_id,
			const struct floe_port_ref *ref, uint32_t buffer_size)
{
	floe_service *svc = pub->svc;
	struct pub_conn *c = &pub->conns[j];
	struct floe_conn *sc = floe_svc_conn(svc, pub->slot, j);
	uint32_t first;

	/* sub_id 0 keeps the subscriber away while the queues are reset. */
	atomic_store(&sc->sub_id, 0);
	floe_ring_reset(floe_conn_sub_ring(svc, sc));
	floe_ring_reset(floe_conn_comp_ring(svc, sc));
	floe_ring_producer_init(&c->sub_prod);
	c->epoch = atomic_load(&sc->epoch) + 1;
	atomic_store(&sc->epoch, c->epoch);
	atomic_store(&sc->pub_id, pub->ref.id);
	atomic_store(&sc->sub_id, sub_id);
	/* tells the subscriber to look at its connections again */
	atomic_fetch_add(&svc->hdr->changes, 1);
	c->sub_id = sub_id;
	c->sub_ref = *ref;
	c->limit = buffer_size && buffer_size < svc->qos.buffer ? buffer_size
								: svc->qos.buffer;
	/* Late joiner: the newest history samples that fit, oldest first. */
	first = pub->hist_len > c->limit ? pub->hist_len - c->limit : 0;
	for (uint32_t k = first; k < pub->hist_len; k++) {
		uint32_t pos = (pub->hist_next + svc->qos.history - pub->hist_len +
				k) % svc->qos.history;

		push(pub, j, pub->history[pos]);
	}
}

/*
 * Bring connections in line with the subscriber slots. @check_liveness
 * also asks the backend whether connected subscribers still live (a
 * system call per subscriber with the shm backend: slow paths only).
 */
static void update(floe_publisher *pub, bool check_liveness)
{
	floe_service *svc = pub->svc;
	struct floe_backend *be = svc->node->be;

	pub->seen_changes = floe_svc_changes(svc);
	pub->seen_deaths = be->ops->death_epoch(be);
	if (check_liveness)
		floe_svc_reclaim_dead(svc);
	for (uint32_t j = 0; j < svc->qos.max_subscribers; j++) {
		struct pub_conn *c = &pub->conns[j];
		struct floe_port_ref ref;
		uint64_t owner = floe_svc_slot_owner(svc, 's', j, &ref);

		if (c->quarantine_owner && owner != c->quarantine_owner) {
			unref_all(pub, &c->quarantine);
			c->quarantine_owner = 0;
		}
		if (c->sub_id && (owner != c->sub_id ||
				  (check_liveness &&
				   be->ops->port_liveness(be, &c->sub_ref) ==
					   FLOE_PORT_DEAD)))
			disconnect(pub, j);
		if (owner && !c->sub_id)
			connect_sub(pub, j, owner, &ref,
				    __atomic_load_n(&floe_svc_slot(svc, 's', j)
							     ->buffer_size,
						    __ATOMIC_RELAXED));
	}
}

static void update_if_changed(floe_publisher *pub)
{
	struct floe_backend *be = pub->svc->node->be;
	uint64_t deaths = be->ops->death_epoch(be);

	if (floe_svc_changes(pub->svc) != pub->seen_changes ||
	    deaths != pub->seen_deaths)
		update(pub, deaths != pub->seen_deaths);
}

FLOE_EXPORT int floe_publisher_update_connections(floe_publisher *pub)
{
	if (!pub)
		return FLOE_E_INVALID;
	update(pub, true);
	reclaim_all(pub);
	return 0;
}

static void publisher_free(floe_publisher *pub)
{
	for (uint32_t j = 0; pub->conns && j < pub->svc->qos.max_subscribers;
	     j++) {
		floe_bitset_fini(&pub->conns[j].inflight);
		floe_bitset_fini(&pub->conns[j].quarantine);
	}
	free(pub->conns);
	free(pub->refcnt);
	free(pub->chunk_gen);
	free(pub->history);
	free(pub->loans);
	floe_pool_fini(&pub->pool);
	free(pub);
}

int floe_pub_open(floe_service *svc, const struct floe_publisher_opts *opts,
		  const struct floe_port_ref *ref, uint32_t slot,
		  floe_publisher **out)
{
	floe_publisher *pub;
	uint32_t idx;
	int ret;

	if (opts && (opts->unable_to_deliver > FLOE_DELIVER_BLOCK ||
		     opts->allocation > FLOE_ALLOC_POWER_OF_TWO))
		return FLOE_E_INVALID;
	pub = calloc(1, sizeof(*pub));
	if (!pub)
		return FLOE_E_NOMEM;
	pub->svc = svc;
	if (opts)
		pub->opts = *opts;
	else
		floe_publisher_opts_init(&pub->opts);
	if (!pub->opts.initial_max_slice_len)
		pub->opts.initial_max_slice_len = 1;
	if (pub->opts.max_slice_len &&
	    pub->opts.max_slice_len < pub->opts.initial_max_slice_len) {
		free(pub);
		return FLOE_E_INVALID;
	}
	pub->chunk_count = svc->lay.chunk_count;
	pub->reclaim_batch = pub->chunk_count / 4;
	if (pub->reclaim_batch > RECLAIM_EVERY)
		pub->reclaim_batch = RECLAIM_EVERY;
	if (!pub->reclaim_batch)
		pub->reclaim_batch = 1;
	pub->next_gen = 1;
	pub->conns = calloc(svc->qos.max_subscribers, sizeof(*pub->conns));
	pub->refcnt = calloc(pub->chunk_count, sizeof(*pub->refcnt));
	pub->chunk_gen = calloc(pub->chunk_count, sizeof(*pub->chunk_gen));
	pub->history = calloc(svc->qos.history + 1, sizeof(*pub->history));
	pub->loans = calloc(svc->qos.loans, sizeof(*pub->loans));
	ret = FLOE_E_NOMEM;
	if (!pub->conns || !pub->refcnt || !pub->chunk_gen || !pub->history ||
	    !pub->loans || floe_pool_init(&pub->pool, pub->chunk_count))
		goto fail_free;
	for (uint32_t j = 0; j < svc->qos.max_subscribers; j++)
		if (floe_bitset_init(&pub->conns[j].inflight, pub->chunk_count) ||
		    floe_bitset_init(&pub->conns[j].quarantine, pub->chunk_count))
			goto fail_free;
	pub->ref = *ref;
	pub->slot = slot;
	ret = create_gen(pub, pub->opts.initial_max_slice_len, &idx);
	if (ret)
		goto fail_free;
	pub->cur = idx;
	atomic_store(&floe_svc_slot(svc, 'p', pub->slot)->generation,
		     pub->gens[idx].gen);
	update(pub, false);
	*out = pub;
	return 0;
fail_free:
	publisher_free(pub);
	return ret;
}

bool floe_pub_close(floe_publisher *pub)
{
	floe_service *svc = pub->svc;
	bool keep = false;

	for (uint32_t j = 0; j < svc->qos.max_subscribers; j++) {
		struct floe_conn *sc = floe_svc_conn(svc, pub->slot, j);
		uint64_t sub_id = pub->conns[j].sub_id;

		if (!sub_id)
			continue;
		if (floe_ring_count(floe_conn_sub_ring(svc, sc), svc->lay.sub_cap))
			keep = true;
		else
			atomic_compare_exchange_strong(&sc->sub_id, &sub_id, 0);
	}
	/* Subscribers keep what they mapped. The names go now, unless a
	 * queue still refers to them: then whoever finishes the lingering
	 * slot unlinks them, as the header now allows. */
	for (uint32_t i = 0; i < FLOE_MAX_LIVE_GENERATIONS; i++) {
		struct pub_gen *g = &pub->gens[i];

		if (!g->live)
			continue;
		if (keep) {
			atomic_store(&((struct floe_data_header *)g->seg.addr)
					      ->departed, 1);
			floe_seg_close(&g->seg);
		} else {
			retire_gen(pub, i);
		}
	}
	publisher_free(pub);
	return keep;
}

FLOE_EXPORT int floe_publisher_create(floe_service *svc,
				      const struct floe_publisher_opts *opts,
				      floe_publisher **out)
{
	struct floe_backend *be;
	struct floe_port_ref ref;
	int ret, slot;

	if (!svc || !out)
		return FLOE_E_INVALID;
	if (svc->qos.pattern != FLOE_PATTERN_PUBSUB)
		return FLOE_E_PATTERN;
	be = svc->node->be;
	ret = be->ops->port_register(be, FLOE_ROLE_PUBLISHER, svc->name,
				     svc->node->ref.id, &ref);
	if (ret)
		return ret;
	slot = floe_svc_claim(svc, 'p', &ref, 0);
	ret = slot < 0 ? slot : floe_pub_open(svc, opts, &ref, (uint32_t)slot, out);
	if (ret) {
		if (slot >= 0)
			floe_svc_release(svc, 'p', (uint32_t)slot, ref.id);
		be->ops->port_unregister(be, &ref);
		return ret;
	}
	atomic_fetch_add(&svc->ports, 1);
	return 0;
}

FLOE_EXPORT void floe_publisher_destroy(floe_publisher *pub)
{
	floe_service *svc;
	struct floe_port_ref ref;
	uint32_t slot;
	bool keep;

	if (!pub)
		return;
	if (pub->loaned)
		floe_misuse(__func__, "%u loaned samples of service '%s' are "
			    "neither sent nor discarded", pub->loaned,
			    pub->svc->name);
	svc = pub->svc;
	ref = pub->ref;
	slot = pub->slot;
	keep = floe_pub_close(pub);
	floe_svc_leave(svc, 'p', slot, ref.id, keep);
	svc->node->be->ops->port_unregister(svc->node->be, &ref);
	atomic_fetch_sub(&svc->ports, 1);
}

FLOE_EXPORT uint64_t floe_publisher_id(const floe_publisher *pub)
{
	return pub->ref.id;
}

uint32_t floe_publisher_free_chunks(const floe_publisher *pub)
{
	return floe_pool_free_count(&pub->pool);
}

uint32_t floe_publisher_chunk_count(const floe_publisher *pub)
{
	return pub->chunk_count;
}

/* Make the current generation hold @len elements. */
static int grow(floe_publisher *pub, uint64_t len)
{
	uint64_t max = pub->gens[pub->cur].max_len;
	uint32_t old = pub->cur, idx;
	int ret;

	if (pub->opts.allocation != FLOE_ALLOC_POWER_OF_TWO ||
	    (pub->opts.max_slice_len && len > pub->opts.max_slice_len))
		return FLOE_E_TOO_LARGE;
	while (max < len) {
		if (max > UINT64_MAX / 2)
			return FLOE_E_TOO_LARGE;
		max *= 2;
	}
	if (pub->opts.max_slice_len && max > pub->opts.max_slice_len)
		max = pub->opts.max_slice_len;
	ret = create_gen(pub, max, &idx);
	if (ret)
		return ret;
	pub->cur = idx;
	atomic_store(&floe_svc_slot(pub->svc, 'p', pub->slot)->generation,
		     pub->gens[idx].gen);
	/* subscribers map the new generation before its name can go */
	atomic_fetch_add(&pub->svc->hdr->changes, 1);
	if (pub->gens[old].users == 0)
		retire_gen(pub, old);
	return 0;
}

FLOE_EXPORT int floe_publisher_loan(floe_publisher *pub, uint64_t len,
				    floe_sample_mut **out)
{
	floe_service *svc;
	struct floe_sample_mut *s = NULL;
	struct pub_gen *g;
	uint32_t chunk;
	int ret;

	if (!pub || !out || !len)
		return FLOE_E_INVALID;
	svc = pub->svc;
	if (pub->loaned == svc->qos.loans)
		return FLOE_E_LOAN_LIMIT;
	update_if_changed(pub);
	if (pub->sends_since_reclaim >= pub->reclaim_batch) {
		pub->sends_since_reclaim = 0;
		reclaim_all(pub);
	}
	if (len > pub->gens[pub->cur].max_len) {
		ret = grow(pub, len);
		if (ret)
			return ret;
	}
	chunk = floe_pool_pop(&pub->pool);
	if (chunk == FLOE_POOL_NONE) {
		reclaim_all(pub);
		chunk = floe_pool_pop(&pub->pool);
	}
	if (chunk == FLOE_POOL_NONE) {
		/* Maybe a subscriber died holding chunks. */
		update(pub, true);
		reclaim_all(pub);
		chunk = floe_pool_pop(&pub->pool);
		if (chunk == FLOE_POOL_NONE)
			return FLOE_E_POOL_EMPTY;
	}
	for (uint32_t i = 0; i < svc->qos.loans; i++) {
		if (!pub->loans[i].in_use) {
			s = &pub->loans[i];
			break;
		}
	}
	g = &pub->gens[pub->cur];
	pub->chunk_gen[chunk] = (uint8_t)pub->cur;
	g->users++;
	pub->refcnt[chunk] = 1;
	s->pub = pub;
	s->chunk = chunk;
	s->len = len;
	s->payload = (char *)chunk_base(pub, chunk) + svc->payload_offset;
	s->user_header = svc->qos.user_header_size
				 ? (char *)chunk_base(pub, chunk) +
					   sizeof(struct floe_chunk_header)
				 : NULL;
	s->in_use = true;
	pub->loaned++;
	*out = s;
	return 0;
}

FLOE_EXPORT void *floe_sample_mut_payload(floe_sample_mut *s)
{
	return s->payload;
}

FLOE_EXPORT void *floe_sample_mut_user_header(floe_sample_mut *s)
{
	return s->user_header;
}

FLOE_EXPORT uint64_t floe_sample_mut_len(const floe_sample_mut *s)
{
	return s->len;
}

static void end_loan(floe_sample_mut *s)
{
	s->in_use = false;
	s->pub->loaned--;
	unref_chunk(s->pub, s->chunk);
}

FLOE_EXPORT void floe_sample_mut_discard(floe_sample_mut *s)
{
	if (s && s->in_use)
		end_loan(s);
}

/* Retry a full queue until the subscriber makes room, leaves or dies. */
static enum floe_ring_result push_blocking(floe_publisher *pub, uint32_t j,
					   uint32_t chunk)
{
	struct floe_backend *be = pub->svc->node->be;
	struct pub_conn *c = &pub->conns[j];
	enum floe_ring_result r;

	for (uint32_t round = 0;; round++) {
		r = push(pub, j, chunk);
		if (r != FLOE_RING_FULL)
			return r;
		reclaim(pub, j);
		if (!c->sub_id)
			return FLOE_RING_CORRUPT;
		if (round % 256 == 255) {
			struct floe_port_ref ref;

			if (floe_svc_slot_owner(pub->svc, 's', j, &ref) !=
				    c->sub_id ||
			    be->ops->port_liveness(be, &c->sub_ref) ==
				    FLOE_PORT_DEAD) {
				disconnect(pub, j);
				return FLOE_RING_CORRUPT;
			}
		}
		floe_backoff(round < 1024 ? round : 1024);
	}
}

static bool deliver(floe_publisher *pub, uint32_t j, uint32_t chunk)
{
	floe_service *svc = pub->svc;
	struct pub_conn *c = &pub->conns[j];
	enum floe_ring_result r;

	/* An honest subscriber holds at most its queue, its borrowed samples
	 * and one on its way back; one that keeps more (never returning
	 * them) gets nothing more rather than drain the pool for everyone. */
	if (c->inflight_count >= c->limit + svc->qos.borrowed + 1) {
		reclaim(pub, j);
		if (c->inflight_count >= c->limit + svc->qos.borrowed + 1)
			return false;
	}
	r = push(pub, j, chunk);

	/* An honest ring has room after one eviction, or after the
	 * subscriber took the oldest itself: full after an empty peek, or
	 * after a few rounds, means indices someone tampered with (found by
	 * tests/fuzz/fuzz_pubsub, where this looped forever). */
	for (uint32_t round = 0; r == FLOE_RING_FULL && svc->qos.safe_overflow;
	     round++) {
		struct floe_conn *sc = floe_svc_conn(svc, pub->slot, j);
		struct floe_ring *ring = floe_conn_sub_ring(svc, sc);
		uint64_t oldest, head;

		/* Safe overflow: the oldest queued sample makes room, unless
		 * the subscriber took it first (then there is room anyway). */
		r = floe_ring_peek(ring, svc->lay.sub_cap, c->limit, &oldest,
				   &head);
		if (r == FLOE_RING_CORRUPT)
			break;
		if (r == FLOE_RING_OK && floe_ring_take(ring, head))
			take_back(pub, j, oldest);
		if (r == FLOE_RING_EMPTY || round == SAFE_OVERFLOW_ROUNDS) {
			r = push(pub, j, chunk);
			if (r == FLOE_RING_FULL)
				r = FLOE_RING_CORRUPT;
			break;
		}
		r = push(pub, j, chunk);
	}
	if (r == FLOE_RING_FULL &&
	    pub->opts.unable_to_deliver == FLOE_DELIVER_BLOCK)
		r = push_blocking(pub, j, chunk);
	if (r == FLOE_RING_CORRUPT && c->sub_id)
		quarantine(pub, j);
	return r == FLOE_RING_OK;
}

int floe_pub_send(floe_sample_mut *s, const struct floe_pub_target *to,
		  uint64_t tag, uint64_t *reached)
{
	floe_publisher *pub;
	floe_service *svc;
	struct floe_chunk_header *ch;
	int delivered = 0;

	if (!s || !s->in_use)
		return FLOE_E_INVALID;
	pub = s->pub;
	svc = pub->svc;
	update_if_changed(pub);
	ch = chunk_base(pub, s->chunk);
	ch->publisher_id = pub->ref.id;
	ch->sequence = pub->sequence++;
	ch->len = s->len;
	ch->reserved = tag;
	for (uint32_t j = 0; j < svc->qos.max_subscribers; j++) {
		uint64_t sub_id = pub->conns[j].sub_id;
		bool ok = sub_id && (!to || (j == to->slot &&
					     sub_id == to->sub_id)) &&
			  deliver(pub, j, s->chunk);

		if (reached)
			reached[j] = ok ? sub_id : 0;
		delivered += ok;
	}
	pub->sends_since_reclaim++;
	if (svc->qos.history) {
		if (pub->hist_len == svc->qos.history)
			unref_chunk(pub, pub->history[pub->hist_next]);
		else
			pub->hist_len++;
		pub->history[pub->hist_next] = s->chunk;
		pub->hist_next = (pub->hist_next + 1) % svc->qos.history;
		pub->refcnt[s->chunk]++;
	}
	end_loan(s);
	return delivered;
}

FLOE_EXPORT int floe_sample_mut_send(floe_sample_mut *s)
{
	return floe_pub_send(s, NULL, 0, NULL);
}

int floe_pub_mark(floe_publisher *pub, const struct floe_pub_target *to,
		  uint32_t tag)
{
	floe_service *svc = pub->svc;
	struct pub_conn *c;
	enum floe_ring_result r;

	update_if_changed(pub);
	if (to->slot >= svc->qos.max_subscribers)
		return FLOE_E_INVALID;
	c = &pub->conns[to->slot];
	if (c->sub_id != to->sub_id)
		return FLOE_E_DEAD;
	/* Markers may use the ring's capacity beyond the data limit. */
	r = floe_ring_push(floe_conn_sub_ring(svc, floe_svc_conn(svc, pub->slot,
								 to->slot)),
			   svc->lay.sub_cap, svc->lay.sub_cap, &c->sub_prod,
			   floe_entry(c->epoch, tag, FLOE_ENTRY_MARKER));
	if (r == FLOE_RING_CORRUPT)
		quarantine(pub, to->slot);
	return r == FLOE_RING_OK ? 0 : FLOE_E_WOULD_BLOCK;
}

FLOE_EXPORT int floe_publisher_send_copy(floe_publisher *pub, const void *data,
					 size_t bytes)
{
	floe_sample_mut *s;
	int ret;

	if (!pub || (!data && bytes) || !bytes ||
	    bytes % pub->svc->type_size)
		return FLOE_E_INVALID;
	ret = floe_publisher_loan(pub, bytes / pub->svc->type_size, &s);
	if (ret)
		return ret;
	memcpy(s->payload, data, bytes);
	return floe_sample_mut_send(s);
}
