// SPDX-License-Identifier: MIT
/*
 * Subscriber: the consuming side of one submission queue per publisher, and
 * the producing side of the matching completion queue.
 *
 * A "source" is one connected publisher: its queue epoch, the generations
 * of its data segment mapped read-only, and the samples held from it. When
 * the publisher leaves, what it already queued is still drained; a source
 * whose publisher is gone lives on while samples from it are held, so a
 * sample stays valid until released even if its publisher died.
 *
 * Everything read from shared memory is validated before use: queue
 * entries (epoch, generation, chunk index), data segment headers and chunk
 * headers (publisher id, length). The header fields are copied once, so a
 * publisher rewriting them later cannot change what was validated.
 */
#include <stdlib.h>
#include <string.h>

#include <linux/floe.h>

#include "base/bounds.h"
#include "internal.h"

/* Rounds of a receive that finds its sources changed under it (a retired
 * source makes room for at most one new one per slot). */
#define RECEIVE_PASSES 3

struct source_map {
	struct floe_seg seg;
	uint64_t stride;
	uint64_t max_len;
	uint32_t gen;
	uint32_t held;
};

struct source {
	uint64_t pub_id;
	uint32_t pub_slot;
	uint32_t epoch;
	struct floe_ring_producer comp_prod;
	uint32_t held;
	bool draining; /* publisher gone or queue broken: finish what's queued */
	bool gone;     /* the publisher left or died */
	bool retired;  /* no longer polled; freed with its last sample */
	struct source_map maps[FLOE_MAX_LIVE_GENERATIONS];
	struct source *next_retired;
};

struct floe_sample {
	floe_subscriber *sub;
	struct source *src;
	const void *payload;
	const void *user_header;
	uint64_t len;
	uint64_t sequence;
	uint64_t pub_id;
	uint64_t tag;
	uint32_t chunk;
	uint32_t map;
	bool in_use;
};

struct floe_subscriber {
	floe_service *svc;
	struct floe_port_ref ref;
	uint32_t slot;
	struct source **sources; /* by publisher slot */
	struct source *retired;
	struct floe_sample *samples;
	uint32_t max_borrowed;
	uint32_t borrowed;
	uint32_t next_source;
	uint64_t seen_changes;
	uint64_t seen_deaths;
	bool rescan; /* a slot freed up locally: look for new publishers */
};

static void free_source(struct source *src)
{
	for (uint32_t m = 0; m < FLOE_MAX_LIVE_GENERATIONS; m++)
		if (src->maps[m].seg.addr)
			floe_seg_close(&src->maps[m].seg);
	free(src);
}

/*
 * Close our connection from the gone publisher @pub_id of slot @i: we took
 * all it left us (or leave), so its lingering slot may be finished.
 */
static void let_go(floe_subscriber *sub, uint32_t i, uint64_t pub_id)
{
	struct floe_conn *sc = floe_svc_conn(sub->svc, i, sub->slot);
	uint64_t me = sub->ref.id;

	if (atomic_load(&sc->pub_id) != pub_id ||
	    !atomic_compare_exchange_strong(&sc->sub_id, &me, 0))
		return;
	floe_svc_sender_released(sub->svc, i, pub_id);
}

/* Stop polling @src; free it now or with its last held sample. */
static void retire_source(floe_subscriber *sub, struct source *src)
{
	if (src->gone)
		let_go(sub, src->pub_slot, src->pub_id);
	sub->sources[src->pub_slot] = NULL;
	sub->rescan = true;
	if (!src->held) {
		free_source(src);
		return;
	}
	src->retired = true;
	src->next_retired = sub->retired;
	sub->retired = src;
}

/* Map generation @gen of the source's data segment; index or -1. */
static int map_generation(floe_subscriber *sub, struct source *src,
			  uint32_t gen)
{
	floe_service *svc = sub->svc;
	struct floe_backend *be = svc->node->be;
	char name[FLOE_SEG_NAME_MAX];
	struct floe_data_header dh;
	struct source_map *m = NULL;
	struct floe_seg seg = { .fd = -1 };
	uint64_t need;

	for (uint32_t i = 0; i < FLOE_MAX_LIVE_GENERATIONS; i++)
		if (src->maps[i].seg.addr && src->maps[i].gen == gen)
			return (int)i;
	/* Free a slot: an older generation nothing is held from. */
	for (uint32_t i = 0; i < FLOE_MAX_LIVE_GENERATIONS && !m; i++)
		if (!src->maps[i].seg.addr)
			m = &src->maps[i];
	for (uint32_t i = 0; i < FLOE_MAX_LIVE_GENERATIONS && !m; i++) {
		if (!src->maps[i].held) {
			floe_seg_close(&src->maps[i].seg);
			m = &src->maps[i];
		}
	}
	if (!m || gen == 0)
		return -1;
	floe_seg_name(name, be->domain, FLOE_KIND_DATA, src->pub_id, gen);
	if (be->ops->seg_open(be, name, false, &seg))
		return -1;
	if (seg.size < floe_data_chunks_offset()) {
		floe_seg_close(&seg);
		return -1;
	}
	/* One copy of the header, validated and then used: the publisher
	 * can rewrite the original at any time. */
	memcpy(&dh, seg.addr, sizeof(dh));
	need = floe_data_bytes(dh.chunk_stride, svc->lay.chunk_count);
	if (dh.magic != FLOE_DATA_MAGIC || dh.publisher_id != src->pub_id ||
	    dh.generation != gen || dh.chunk_count != svc->lay.chunk_count ||
	    need > seg.size || dh.chunk_stride % FLOE_CACHELINE ||
	    dh.chunk_stride < floe_chunk_stride(svc->payload_offset, dh.max_len,
						svc->type_size,
						svc->type_align)) {
		floe_seg_close(&seg);
		return -1;
	}
	m->seg = seg;
	m->stride = dh.chunk_stride;
	m->max_len = dh.max_len;
	m->gen = gen;
	m->held = 0;
	return (int)(m - src->maps);
}

static void connect_source(floe_subscriber *sub, uint32_t i, uint64_t pub_id,
			   struct floe_conn *sc, bool gone)
{
	struct source *src = calloc(1, sizeof(*src));

	if (!src)
		return; /* retried on the next update */
	src->pub_id = pub_id;
	src->pub_slot = i;
	src->draining = src->gone = gone;
	src->epoch = atomic_load(&sc->epoch);
	for (uint32_t m = 0; m < FLOE_MAX_LIVE_GENERATIONS; m++)
		src->maps[m].seg.fd = -1;
	sub->sources[i] = src;
	/* Map now, so queued samples stay readable if the publisher goes. */
	map_generation(sub, src, atomic_load(
		&floe_svc_slot(sub->svc, 'p', i)->generation));
}

/*
 * Follow the publisher slots: connect to publishers that connected to us
 * (gone ones too: what they left queued is ours to read), and mark the
 * sources whose publisher left, died or dropped us as draining.
 */
static void update(floe_subscriber *sub)
{
	floe_service *svc = sub->svc;
	struct floe_backend *be = svc->node->be;

	sub->seen_changes = floe_svc_changes(svc);
	sub->seen_deaths = be->ops->death_epoch(be);
	sub->rescan = false;
	for (uint32_t i = 0; i < svc->qos.max_publishers; i++) {
		struct floe_conn *sc = floe_svc_conn(svc, i, sub->slot);
		struct source *src = sub->sources[i];
		struct floe_port_ref ref;
		uint64_t raw = floe_svc_slot_peer(svc, 'p', i, &ref);
		uint64_t pub_id = raw & ~FLOE_SLOT_LINGERING;
		bool lingering = raw & FLOE_SLOT_LINGERING;
		bool connected = pub_id &&
				 atomic_load(&sc->sub_id) == sub->ref.id &&
				 atomic_load(&sc->pub_id) == pub_id;

		if (src && src->pub_id != pub_id) {
			src->draining = src->gone = true;
		} else if (src && (lingering || be->ops->port_liveness(be, &ref) ==
							FLOE_PORT_DEAD)) {
			src->draining = src->gone = true;
		} else if (src && !connected) {
			src->draining = true; /* dropped us: reconnects later */
		} else if (src) {
			map_generation(sub, src, atomic_load(
				&floe_svc_slot(svc, 'p', i)->generation));
		} else if (connected) {
			connect_source(sub, i, pub_id, sc,
				       lingering ||
					       be->ops->port_liveness(be, &ref) ==
						       FLOE_PORT_DEAD);
		}
	}
}

static void update_if_changed(floe_subscriber *sub)
{
	struct floe_backend *be = sub->svc->node->be;

	if (sub->rescan || floe_svc_changes(sub->svc) != sub->seen_changes ||
	    be->ops->death_epoch(be) != sub->seen_deaths)
		update(sub);
}

static struct floe_sample *free_sample(floe_subscriber *sub)
{
	for (uint32_t i = 0; i < sub->max_borrowed; i++)
		if (!sub->samples[i].in_use)
			return &sub->samples[i];
	return NULL;
}

static void give_back(floe_subscriber *sub, struct source *src,
		      uint32_t chunk)
{
	struct floe_conn *sc;

	if (src->draining)
		return; /* the connection is over: nobody takes it back */
	sc = floe_svc_conn(sub->svc, src->pub_slot, sub->slot);
	floe_ring_push(floe_conn_comp_ring(sub->svc, sc), sub->svc->lay.comp_cap,
		       sub->svc->lay.comp_cap, &src->comp_prod,
		       floe_entry(src->epoch, 0, chunk));
}

/* Turn a queue entry into a sample, its chunk in mapping @mi; false if it
 * fails validation. */
static bool accept(floe_subscriber *sub, struct source *src, uint64_t entry,
		   int mi, struct floe_sample *s)
{
	floe_service *svc = sub->svc;
	uint32_t chunk = FLOE_ENTRY_CHUNK(entry);
	const struct floe_chunk_header *ch;
	struct source_map *m;
	uint64_t pub_id, len;

	if (chunk >= svc->lay.chunk_count || mi < 0)
		return false;
	m = &src->maps[mi];
	ch = floe_at(m->seg.addr, m->seg.size,
		     floe_data_chunks_offset() + (uint64_t)chunk * m->stride,
		     m->stride);
	if (!ch)
		return false;
	pub_id = __atomic_load_n(&ch->publisher_id, __ATOMIC_RELAXED);
	len = __atomic_load_n(&ch->len, __ATOMIC_RELAXED);
	if (pub_id != src->pub_id || !len || len > m->max_len)
		return false;
	s->sub = sub;
	s->src = src;
	s->payload = (const char *)ch + svc->payload_offset;
	s->user_header = svc->qos.user_header_size ? ch + 1 : NULL;
	s->len = len;
	s->sequence = __atomic_load_n(&ch->sequence, __ATOMIC_RELAXED);
	s->pub_id = pub_id;
	s->tag = __atomic_load_n(&ch->reserved, __ATOMIC_RELAXED);
	s->chunk = chunk;
	s->map = (uint32_t)mi;
	s->in_use = true;
	m->held++;
	src->held++;
	sub->borrowed++;
	return true;
}

/* Next valid entry of @src: 1 with *s filled, 2 with *mark filled (only
 * if @mark), 0 when none. */
static int receive_from(floe_subscriber *sub, struct source *src,
			struct floe_sample *s, struct floe_marker *mark)
{
	floe_service *svc = sub->svc;
	struct floe_conn *sc = floe_svc_conn(svc, src->pub_slot, sub->slot);
	struct floe_ring *ring = floe_conn_sub_ring(svc, sc);
	uint64_t entry, head;
	int mi;

	for (;;) {
		enum floe_ring_result r = floe_ring_peek(
			ring, svc->lay.sub_cap, svc->lay.sub_cap, &entry, &head);

		if (r == FLOE_RING_EMPTY && !src->draining)
			return 0;
		if (r != FLOE_RING_OK ||
		    FLOE_ENTRY_EPOCH(entry) != (src->epoch & 0xffff)) {
			/* Drained, or corrupt, or the queue now belongs to a
			 * newer connection (whose entry stays queued for it):
			 * this source is done. */
			retire_source(sub, src);
			return 0;
		}
		/* Map the chunk's memory before taking the entry: a leaving
		 * publisher keeps its data only while a queue refers to it. */
		mi = FLOE_ENTRY_CHUNK(entry) == FLOE_ENTRY_MARKER
			     ? -1
			     : map_generation(sub, src, FLOE_ENTRY_GEN(entry));
		if (!floe_ring_take(ring, head))
			continue; /* evicted under us by safe overflow */
		if (FLOE_ENTRY_CHUNK(entry) == FLOE_ENTRY_MARKER) {
			if (!mark)
				continue;
			*mark = (struct floe_marker){
				.pub_id = src->pub_id,
				.pub_slot = src->pub_slot,
				.tag = FLOE_ENTRY_GEN(entry),
			};
			return 2;
		}
		if (accept(sub, src, entry, mi, s))
			return 1;
		give_back(sub, src, FLOE_ENTRY_CHUNK(entry));
	}
}

int floe_sub_receive(floe_subscriber *sub, const floe_sample **out,
		     struct floe_marker *mark)
{
	uint32_t n;
	struct floe_sample *s;
	int got;

	if (!sub || !out)
		return FLOE_E_INVALID;
	s = free_sample(sub);
	if (!s)
		return FLOE_E_BORROW_LIMIT;
	n = sub->svc->qos.max_publishers;
	/* A source retired on the way may leave its slot to a newer
	 * publisher whose samples wait already: look again, so that what is
	 * waiting is returned in this very call. */
	for (uint32_t pass = 0; pass < RECEIVE_PASSES; pass++) {
		update_if_changed(sub);
		/* Publishers take turns, so a busy one cannot starve the
		 * others. */
		for (uint32_t k = 0; k < n; k++) {
			uint32_t i = (sub->next_source + k) % n;
			struct source *src = sub->sources[i];

			if (src && (got = receive_from(sub, src, s, mark))) {
				sub->next_source = (i + 1) % n;
				if (got == 1)
					*out = s;
				return got;
			}
		}
		if (!sub->rescan)
			break;
	}
	return 0;
}

FLOE_EXPORT int floe_subscriber_receive(floe_subscriber *sub,
					const floe_sample **out)
{
	return floe_sub_receive(sub, out, NULL);
}

uint32_t floe_sub_borrowed(const floe_subscriber *sub)
{
	return sub->borrowed;
}

void floe_sub_refresh(floe_subscriber *sub)
{
	update_if_changed(sub);
}

bool floe_sub_has_source(floe_subscriber *sub, uint32_t slot, uint64_t pub_id)
{
	struct floe_port_ref ref;

	update_if_changed(sub);
	return (sub->sources[slot] && sub->sources[slot]->pub_id == pub_id) ||
	       floe_svc_slot_owner(sub->svc, 'p', slot, &ref) == pub_id;
}

FLOE_EXPORT bool floe_subscriber_has_samples(floe_subscriber *sub)
{
	if (!sub)
		return false;
	update_if_changed(sub);
	for (uint32_t i = 0; i < sub->svc->qos.max_publishers; i++) {
		struct source *src = sub->sources[i];
		struct floe_conn *sc;

		if (!src)
			continue;
		sc = floe_svc_conn(sub->svc, i, sub->slot);
		if (floe_ring_count(floe_conn_sub_ring(sub->svc, sc),
				    sub->svc->lay.sub_cap))
			return true;
	}
	return false;
}

FLOE_EXPORT void floe_sample_release(const floe_sample *cs)
{
	struct floe_sample *s = (struct floe_sample *)cs;
	floe_subscriber *sub;
	struct source *src;

	if (!s || !s->in_use)
		return;
	sub = s->sub;
	src = s->src;
	s->in_use = false;
	sub->borrowed--;
	src->maps[s->map].held--;
	src->held--;
	if (!src->retired) {
		give_back(sub, src, s->chunk);
		return;
	}
	if (src->held)
		return;
	for (struct source **p = &sub->retired; *p; p = &(*p)->next_retired) {
		if (*p == src) {
			*p = src->next_retired;
			break;
		}
	}
	free_source(src);
}

int floe_sub_open(floe_service *svc, const struct floe_port_ref *ref,
		  uint32_t slot, uint32_t max_borrowed, floe_subscriber **out)
{
	floe_subscriber *sub = calloc(1, sizeof(*sub));

	if (!sub)
		return FLOE_E_NOMEM;
	sub->svc = svc;
	sub->ref = *ref;
	sub->slot = slot;
	sub->max_borrowed = max_borrowed;
	sub->sources = calloc(svc->qos.max_publishers, sizeof(*sub->sources));
	sub->samples = calloc(max_borrowed, sizeof(*sub->samples));
	if (!sub->sources || !sub->samples) {
		free(sub->sources);
		free(sub->samples);
		free(sub);
		return FLOE_E_NOMEM;
	}
	update(sub);
	*out = sub;
	return 0;
}

/* Publishers reclaim everything in flight to us once the slot goes; gone
 * ones lingering for us are let go. */
void floe_sub_close(floe_subscriber *sub)
{
	struct floe_backend *be = sub->svc->node->be;

	for (uint32_t i = 0; i < sub->svc->qos.max_publishers; i++) {
		struct floe_conn *sc = floe_svc_conn(sub->svc, i, sub->slot);
		struct floe_port_ref ref;
		uint64_t raw;

		if (atomic_load(&sc->sub_id) != sub->ref.id)
			continue;
		raw = floe_svc_slot_peer(sub->svc, 'p', i, &ref);
		if ((raw & FLOE_SLOT_LINGERING) ||
		    (raw && be->ops->port_liveness(be, &ref) == FLOE_PORT_DEAD))
			let_go(sub, i, raw & ~FLOE_SLOT_LINGERING);
	}
	for (uint32_t i = 0; i < sub->svc->qos.max_publishers; i++)
		if (sub->sources[i])
			free_source(sub->sources[i]);
	while (sub->retired) {
		struct source *next = sub->retired->next_retired;

		free_source(sub->retired);
		sub->retired = next;
	}
	free(sub->sources);
	free(sub->samples);
	free(sub);
}

FLOE_EXPORT int floe_subscriber_create(floe_service *svc,
				       const struct floe_subscriber_opts *opts,
				       floe_subscriber **out)
{
	struct floe_backend *be;
	struct floe_port_ref ref;
	uint32_t buffer = opts ? opts->buffer_size : 0;
	int ret, slot;

	if (!svc || !out || buffer > svc->qos.buffer)
		return FLOE_E_INVALID;
	if (svc->qos.pattern != FLOE_PATTERN_PUBSUB)
		return FLOE_E_PATTERN;
	be = svc->node->be;
	ret = be->ops->port_register(be, FLOE_ROLE_SUBSCRIBER, svc->name,
				     svc->node->ref.id, &ref);
	if (ret)
		return ret;
	slot = floe_svc_claim(svc, 's', &ref, buffer ? buffer : svc->qos.buffer);
	ret = slot < 0 ? slot
		       : floe_sub_open(svc, &ref, (uint32_t)slot,
				       svc->qos.borrowed, out);
	if (ret) {
		if (slot >= 0)
			floe_svc_release(svc, 's', (uint32_t)slot, ref.id);
		be->ops->port_unregister(be, &ref);
		return ret;
	}
	atomic_fetch_add(&svc->ports, 1);
	return 0;
}

FLOE_EXPORT void floe_subscriber_destroy(floe_subscriber *sub)
{
	floe_service *svc;
	struct floe_port_ref ref;

	if (!sub)
		return;
	if (sub->borrowed)
		floe_misuse(__func__, "%u received samples of service '%s' are "
			    "not released", sub->borrowed, sub->svc->name);
	svc = sub->svc;
	ref = sub->ref;
	floe_svc_release(svc, 's', sub->slot, ref.id);
	floe_sub_close(sub);
	svc->node->be->ops->port_unregister(svc->node->be, &ref);
	atomic_fetch_sub(&svc->ports, 1);
}

FLOE_EXPORT uint64_t floe_subscriber_id(const floe_subscriber *sub)
{
	return sub->ref.id;
}

FLOE_EXPORT const void *floe_sample_payload(const floe_sample *s)
{
	return s->payload;
}

FLOE_EXPORT uint64_t floe_sample_payload_size(const floe_sample *s)
{
	return s->len * s->sub->svc->type_size;
}

FLOE_EXPORT uint64_t floe_sample_len(const floe_sample *s)
{
	return s->len;
}

FLOE_EXPORT const void *floe_sample_user_header(const floe_sample *s)
{
	return s->user_header;
}

FLOE_EXPORT uint64_t floe_sample_publisher_id(const floe_sample *s)
{
	return s->pub_id;
}

FLOE_EXPORT uint64_t floe_sample_sequence(const floe_sample *s)
{
	return s->sequence;
}

uint64_t floe_sample_tag(const floe_sample *s)
{
	return s->tag;
}

uint32_t floe_sample_pub_slot(const floe_sample *s)
{
	return s->src->pub_slot;
}
