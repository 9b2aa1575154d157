// SPDX-License-Identifier: MIT
/*
 * A sender's chunks: a pool of fixed-size chunks in a data segment that
 * only the sender maps writable, and the loans taken from it.
 *
 * Data segments grow by generation: a new, larger segment is made when a
 * slice needs it; a chunk index is bound to the generation current when it
 * is loaned, and an old segment is released once none of its chunks is in
 * use.
 */
#include <stdlib.h>
#include <string.h>

#include "base/bounds.h"
#include "engine/sender.h"

static struct floe_backend *backend(const struct floe_sender *tx)
{
	return tx->dir->svc->node->be;
}

void floe_tx_retire_gen(struct floe_sender *tx, uint32_t idx)
{
	struct tx_gen *g = &tx->gens[idx];
	struct floe_backend *be = backend(tx);
	char name[FLOE_SEG_NAME_MAX];

	floe_seg_name(name, be->domain, FLOE_KIND_DATA, tx->ref.id, g->gen);
	be->ops->seg_unlink(be, name);
	floe_seg_close(&g->seg);
	g->live = false;
}

static int create_gen(struct floe_sender *tx, uint64_t max_len, uint32_t *idx)
{
	const struct floe_dir *d = tx->dir;
	struct floe_backend *be = backend(tx);
	struct floe_data_header dh;
	char name[FLOE_SEG_NAME_MAX];
	struct tx_gen *g = NULL;
	uint64_t stride, size;
	int ret;

	for (uint32_t i = 0; i < FLOE_MAX_LIVE_GENERATIONS; i++) {
		if (!tx->gens[i].live) {
			g = &tx->gens[i];
			*idx = i;
			break;
		}
	}
	if (!g || tx->next_gen > 0xffff)
		return FLOE_E_NO_SPACE;
	stride = floe_chunk_stride(d->payload_offset, max_len, d->type_size,
				   d->type_align);
	size = floe_data_bytes(stride, tx->chunk_count);
	if (size > FLOE_LIMIT_DATA_BYTES)
		return FLOE_E_TOO_LARGE;
	floe_seg_name(name, be->domain, FLOE_KIND_DATA, tx->ref.id,
		      tx->next_gen);
	dh = (struct floe_data_header){
		.magic = FLOE_DATA_MAGIC,
		.owner = tx->ref,
		.publisher_id = tx->ref.id,
		.generation = tx->next_gen,
		.chunk_count = tx->chunk_count,
		.chunk_stride = stride,
		.max_len = max_len,
	};
	ret = be->ops->seg_create(be, name, size,
				  (d->svc->hdr->mode & 0444) | 0200,
				  FLOE_SEG_OWNED_BY_PORT, &tx->ref, &dh,
				  sizeof(dh), &g->seg);
	if (ret)
		return ret;
	g->gen = tx->next_gen++;
	g->max_len = max_len;
	g->stride = stride;
	g->users = 0;
	g->live = true;
	/* A chunk carries only its sender's samples: its sender id is
	 * written once here, not by every send. */
	for (uint32_t c = 0; c < tx->chunk_count; c++) {
		struct floe_chunk_header *ch = floe_tx_gen_chunk(g, c);

		ch->publisher_id = tx->ref.id;
	}
	return 0;
}

/* Receivers find the current generation in the sender's slot. */
static void announce(struct floe_sender *tx)
{
	atomic_store(&floe_svc_slot(tx->dir->svc, tx->dir->sender, tx->slot)
			      ->generation,
		     tx->gens[tx->cur].gen);
}

int floe_tx_chunks_init(struct floe_sender *tx)
{
	uint32_t idx;
	int ret;

	tx->chunk_count = tx->dir->chunk_count;
	tx->next_gen = 1;
	tx->next_chunk = FLOE_POOL_NONE;
	tx->refcnt = calloc(tx->chunk_count, sizeof(*tx->refcnt));
	tx->chunk_gen = calloc(tx->chunk_count, sizeof(*tx->chunk_gen));
	tx->loans = calloc(tx->dir->loans, sizeof(*tx->loans));
	if (!tx->refcnt || !tx->chunk_gen || !tx->loans ||
	    floe_pool_init(&tx->pool, tx->chunk_count))
		return FLOE_E_NOMEM;
	for (uint32_t i = 0; i < tx->dir->loans; i++)
		tx->loans[i].tx = tx;
	ret = create_gen(tx, tx->opts.initial_max_slice_len, &idx);
	if (ret)
		return ret;
	tx->cur = idx;
	announce(tx);
	return 0;
}

void floe_tx_chunks_fini(struct floe_sender *tx, bool keep)
{
	for (uint32_t i = 0; i < FLOE_MAX_LIVE_GENERATIONS; i++) {
		struct tx_gen *g = &tx->gens[i];

		if (!g->live)
			continue;
		/* receivers tell a sender that left from one that died by
		 * this (lib/engine/receiver.c) */
		atomic_store(&((struct floe_data_header *)g->seg.addr)->departed,
			     1);
		if (keep) {
			floe_seg_close(&g->seg);
		} else {
			floe_tx_retire_gen(tx, i);
		}
	}
	free(tx->refcnt);
	free(tx->chunk_gen);
	free(tx->loans);
	floe_pool_fini(&tx->pool);
}

/* Make the current generation hold @len elements. */
static int grow(struct floe_sender *tx, uint64_t len)
{
	uint64_t max = tx->gens[tx->cur].max_len;
	uint32_t old = tx->cur, idx;
	int ret;

	if (tx->opts.allocation != FLOE_ALLOC_POWER_OF_TWO ||
	    (tx->opts.max_slice_len && len > tx->opts.max_slice_len))
		return FLOE_E_TOO_LARGE;
	while (max < len) {
		if (max > UINT64_MAX / 2)
			return FLOE_E_TOO_LARGE;
		max *= 2;
	}
	if (tx->opts.max_slice_len && max > tx->opts.max_slice_len)
		max = tx->opts.max_slice_len;
	ret = create_gen(tx, max, &idx);
	if (ret)
		return ret;
	tx->cur = idx;
	announce(tx);
	/* receivers map the new generation before its name can go */
	atomic_fetch_add(&tx->dir->svc->hdr->changes, 1);
	for (uint32_t c = 0; c < tx->chunk_count; c++)
		tx->gens[old].users += tx->chunk_gen[c] == old && tx->refcnt[c];
	if (tx->gens[old].users == 0)
		floe_tx_retire_gen(tx, old);
	return 0;
}

/* A free chunk: the one announced as the next (floe_tx_announce_next),
 * else the pool's top; FLOE_POOL_NONE if none. */
static uint32_t take_free(struct floe_sender *tx)
{
	uint32_t chunk = tx->next_chunk;

	if (chunk == FLOE_POOL_NONE)
		return floe_pool_pop(&tx->pool);
	tx->next_chunk = FLOE_POOL_NONE;
	return chunk;
}

/* The chunk for a loan that neither the announced chunk nor the current
 * generation serves (loan_slow): out of the common loan's way. */
static __attribute__((noinline)) int alloc_slow(struct floe_sender *tx,
						uint64_t len, uint32_t *chunk)
{
	int ret;

	if (len > tx->gens[tx->cur].max_len) {
		ret = grow(tx, len);
		if (ret)
			return ret;
	}
	*chunk = take_free(tx);
	if (*chunk == FLOE_POOL_NONE) {
		floe_tx_reclaim_all(tx);
		*chunk = take_free(tx);
	}
	if (*chunk == FLOE_POOL_NONE) {
		/* Maybe a receiver died holding chunks. */
		floe_tx_recover(tx);
		*chunk = take_free(tx);
		if (*chunk == FLOE_POOL_NONE)
			return FLOE_E_POOL_EMPTY;
	}
	return 0;
}

/* Bind free @chunk (of the current generation) to loan @s of @len
 * elements, reference count 1. Only what changes from loan to loan is
 * stored: a loan's stores wait behind the sender's cache misses. */
static inline int lend(struct floe_sender *tx, floe_sample_mut *s,
		       uint32_t chunk, uint64_t len, void *ctx,
		       floe_sample_mut **out)
{
	if (tx->chunk_gen[chunk] != tx->cur)
		tx->chunk_gen[chunk] = (uint8_t)tx->cur;
	tx->refcnt[chunk] = 1;
	if (s->ctx != ctx)
		s->ctx = ctx;
	s->chunk = chunk;
	if (s->len != len)
		s->len = len;
	s->payload = (char *)floe_tx_chunk(tx, chunk) + tx->dir->payload_offset;
	s->in_use = true;
	*out = s;
	return 0;
}

/* floe_sender_loan() when the announced chunk does not serve: out of the
 * common loan's way. */
static __attribute__((noinline)) int loan_slow(struct floe_sender *tx,
					       floe_sample_mut *s,
					       uint64_t len, void *ctx,
					       floe_sample_mut **out)
{
	uint32_t chunk;
	int ret = alloc_slow(tx, len, &chunk);

	return ret ? ret : lend(tx, s, chunk, len, ctx, out);
}

int floe_sender_loan(struct floe_sender *tx, uint64_t len, void *ctx,
		     floe_sample_mut **out)
{
	floe_sample_mut *s = tx->loans, *end = s + tx->dir->loans;
	uint32_t chunk = tx->next_chunk;

	/* the loans are counted where asked (floe_sender_loaned), not on
	 * every loan and send */
	while (s != end && s->in_use)
		s++;
	if (s == end)
		return FLOE_E_LOAN_LIMIT;
	if (chunk == FLOE_POOL_NONE || len > tx->gens[tx->cur].max_len)
		return loan_slow(tx, s, len, ctx, out);
	/* the next loan's chunk, set aside now: the send announces it
	 * (floe_tx_announce_next) without storing it again */
	tx->next_chunk = floe_pool_pop(&tx->pool);
	return lend(tx, s, chunk, len, ctx, out);
}

void *floe_loan_ctx(const floe_sample_mut *s)
{
	return s && s->in_use ? s->ctx : NULL;
}

uint32_t floe_loan_chunk(const floe_sample_mut *s)
{
	return s->chunk;
}

void floe_sender_discard_loans(struct floe_sender *tx, const void *ctx)
{
	for (uint32_t i = 0; i < tx->dir->loans; i++)
		if (tx->loans[i].in_use && tx->loans[i].ctx == ctx)
			floe_tx_end_loan(&tx->loans[i]);
}

uint32_t floe_sender_loaned(const struct floe_sender *tx)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < tx->dir->loans; i++)
		n += tx->loans[i].in_use;
	return n;
}

uint32_t floe_sender_free_chunks(const struct floe_sender *tx)
{
	return floe_pool_free_count(&tx->pool) +
	       (tx->next_chunk != FLOE_POOL_NONE);
}

uint32_t floe_sender_chunk_count(const struct floe_sender *tx)
{
	return tx->chunk_count;
}

FLOE_EXPORT void *floe_sample_mut_payload(floe_sample_mut *s)
{
	return s->payload;
}

FLOE_EXPORT void *floe_sample_mut_user_header(floe_sample_mut *s)
{
	return floe_dir_user_header(s->tx->dir, s->payload);
}

FLOE_EXPORT uint64_t floe_sample_mut_len(const floe_sample_mut *s)
{
	return s->len;
}

FLOE_EXPORT void floe_sample_mut_discard(floe_sample_mut *s)
{
	if (s && s->in_use)
		floe_tx_end_loan(s);
}
