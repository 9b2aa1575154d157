// SPDX-License-Identifier: MIT
/*
 * A receiver: the consuming side of one submission queue per sender, and
 * the producing side of the matching completion queue.
 *
 * A "source" is one connected sender: its queue epoch, the generations of
 * its data segment mapped read-only, and the samples held from it. When
 * the sender leaves, what it already queued is still drained; a source
 * whose sender is gone lives on while samples from it are held, so a
 * sample stays valid until released even if its sender died.
 *
 * Everything read from shared memory is validated before use: queue
 * entries (epoch, generation, chunk index), data segment headers and chunk
 * headers (sender id, length). The header fields are copied once, so a
 * sender rewriting them later cannot change what was validated.
 */
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "doorbell.h"
#include "engine/receiver.h"

/* Rounds of a receive that finds its sources changed under it (a retired
 * source makes room for at most one new one per slot). */
#define RECEIVE_PASSES 3

static void free_source(struct source *src)
{
	for (uint32_t m = 0; m < FLOE_MAX_LIVE_GENERATIONS; m++)
		if (src->maps[m].seg.addr)
			floe_seg_close(&src->maps[m].seg);
	free(src);
}

/*
 * A sender of row @i that has not connected to us yet may have been told
 * to wait (FLOE_TAKE_WAIT: every carried record in use), and where its
 * port receives (another direction) it may sleep on what it will not
 * take before it connects: a request-response server, on requests it
 * could not answer. Letting a gone sender go may let it connect: wake it
 * as a send would (lib/base/wake.h), with a full fence. We freed the
 * record or closed the connection and bumped `changes`, then read its
 * cell; it announces itself, then looks: it finds them, or we find it
 * announced.
 */
static void wake_row_sender(struct floe_receiver *rx, uint32_t i)
{
	const struct floe_dir *d = rx->dir;
	floe_service *svc = d->svc;
	struct floe_port_ref ref;
	struct floe_doorbell bell;
	struct floe_wake *w = NULL;
	uint64_t owner;
	uint32_t want;
	int sock = -1;

	/* only where such a sender waits for it: a client, say, takes
	 * every response, and a wake would be for nothing (its descriptor
	 * readable with nothing queued) */
	if (!d->wake_sender_on_let_go)
		return;
	for (uint32_t k = 0; k < svc->ndirs; k++)
		if (svc->dirs[k].receiver == d->sender)
			w = floe_dir_wake(&svc->dirs[k], i);
	if (!w)
		return;
	floe_wake_fence();
	want = atomic_load(&w->want) & ~FLOE_WANT_FENCE;
	if (!want)
		return;
	/* read after the cell: a port that announced itself owns its
	 * slot; one connected to us already waits for nothing of ours */
	owner = floe_svc_slot_owner(svc, d->sender, i, &ref);
	if (!owner ||
	    atomic_load(&floe_dir_conn(d, i, rx->slot)->pub_id) == owner)
		return;
	floe_wake_ring(w, want);
	if (!(want & FLOE_WANT_FD))
		return;
	/* rare: a socket for this ring alone */
	floe_doorbell_name(&bell, svc->node->be->domain, FLOE_DOORBELL_PORT,
			   owner);
	floe_doorbell_ring_peer(&sock, &bell);
	if (sock >= 0)
		close(sock);
}

/*
 * We are done with the gone sender @pub_id of row @i (we took all it left
 * us, or leave): close our connection if it is still its, so that its
 * data can go and a new sender of the row can connect to us.
 */
static void let_go(struct floe_receiver *rx, uint32_t i, uint64_t pub_id)
{
	struct floe_conn *sc = floe_dir_conn(rx->dir, i, rx->slot);
	struct floe_backend *be = rx->dir->svc->node->be;
	uint64_t me = rx->ref.id;

	/* with the module: its data need not outlive it for us any more */
	be->ops->port_release(be, pub_id, &rx->ref);
	/* carried ahead of a newer sender's entries, or our connection */
	floe_svc_forget_carried(rx->dir, i, rx->slot, pub_id);
	if (atomic_load(&sc->pub_id) == pub_id &&
	    atomic_compare_exchange_strong(&sc->sub_id, &me, 0)) {
		/* A new sender of the row may have taken the connection
		 * over between our look and our swap: it writes pub_id,
		 * then our id back into sub_id, so the swap cannot tell,
		 * and it would stay shut, the newcomer's samples never
		 * read. If pub_id moved, it is the newcomer's: open it
		 * again (if its store came after our swap, it did so
		 * itself). The gone sender's leftovers are taken either way
		 * (a newcomer that found them taken leaves their data to
		 * us). */
		if (atomic_load(&sc->pub_id) != pub_id) {
			me = 0;
			atomic_compare_exchange_strong(&sc->sub_id, &me,
						       rx->ref.id);
		}
		floe_svc_leftovers_closed(rx->dir, i, pub_id);
	}
	wake_row_sender(rx, i);
}

/* Samples held from @src. */
static uint32_t source_held(const struct source *src)
{
	uint32_t n = 0;

	for (uint32_t m = 0; m < FLOE_MAX_LIVE_GENERATIONS; m++)
		n += src->maps[m].held;
	return n;
}

/* Stop polling @src; free it now or with its last held sample. */
static void retire_source(struct floe_receiver *rx, struct source *src)
{
	struct source *last = rx->polled[--rx->npolled];

	if (src->gone)
		let_go(rx, src->pub_slot, src->pub_id);
	rx->sources[src->pub_slot] = NULL;
	rx->generation++;
	/* the last takes its place (a receive looking through the list
	 * starts over) */
	rx->polled[src->polled_pos] = last;
	last->polled_pos = src->polled_pos;
	rx->rescan = true;
	if (!source_held(src)) {
		free_source(src);
		return;
	}
	src->retired = true;
	src->next_retired = rx->retired;
	rx->retired = src;
}

/* Map generation @gen of the source's data segment, which
 * map_generation() found mapped nowhere; index or -1. */
static int map_new_generation(struct floe_receiver *rx, struct source *src,
			      uint32_t gen)
{
	const struct floe_dir *d = rx->dir;
	struct floe_backend *be = d->svc->node->be;
	char name[FLOE_SEG_NAME_MAX];
	struct floe_data_header dh;
	struct source_map *m = NULL;
	struct floe_seg seg = { .fd = -1 };
	uint64_t need;

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
	/* One copy of the header, validated and then used: the sender
	 * can rewrite the original at any time. */
	memcpy(&dh, seg.addr, sizeof(dh));
	need = floe_data_bytes(dh.chunk_stride, d->chunk_count);
	if (dh.magic != FLOE_DATA_MAGIC || dh.publisher_id != src->pub_id ||
	    dh.generation != gen || dh.chunk_count != d->chunk_count ||
	    need > seg.size || dh.chunk_stride % FLOE_CACHELINE ||
	    dh.chunk_stride < floe_chunk_stride(d->payload_offset, dh.max_len,
						d->type_size,
						d->type_align)) {
		floe_seg_close(&seg);
		return -1;
	}
	m->seg = seg;
	m->chunks = (const char *)seg.addr + floe_data_chunks_offset();
	m->stride = dh.chunk_stride;
	m->max_len = dh.max_len;
	m->gen = gen;
	m->held = 0;
	return (int)(m - src->maps);
}

/* Where generation @gen of the source's data segment is mapped (mapped
 * now if it is not yet); index or -1. */
static __attribute__((noinline)) int
find_generation(struct floe_receiver *rx, struct source *src, uint32_t gen)
{
	int mi;

	for (uint32_t i = 0; i < FLOE_MAX_LIVE_GENERATIONS; i++) {
		if (src->maps[i].seg.addr && src->maps[i].gen == gen) {
			src->last_map = i;
			return (int)i;
		}
	}
	mi = map_new_generation(rx, src, gen);
	if (mi >= 0)
		src->last_map = (uint32_t)mi;
	return mi;
}

/* find_generation, first trying the mapping the last entry used: nearly
 * every entry is of the generation the one before was. */
static inline int map_generation(struct floe_receiver *rx, struct source *src,
				 uint32_t gen)
{
	const struct source_map *last = &src->maps[src->last_map];

	if (last->gen == gen && last->seg.addr)
		return (int)src->last_map;
	return find_generation(rx, src, gen);
}

/* Connect to sender @pub_id of row @i; @gone if it is no longer there,
 * @dead if it died (it connected to us while alive). */
static void connect_source(struct floe_receiver *rx, uint32_t i,
			   uint64_t pub_id, uint32_t epoch, bool gone,
			   bool dead)
{
	struct floe_conn *sc = floe_dir_conn(rx->dir, i, rx->slot);
	struct source *src = calloc(1, sizeof(*src));

	if (!src)
		return; /* retried on the next update */
	src->ring = floe_dir_sub_ring(rx->dir, sc);
	src->comp = floe_dir_comp_ring(rx->dir, sc);
	src->pub_id = pub_id;
	src->pub_slot = i;
	src->draining = src->gone = gone;
	src->epoch = epoch;
	rx->deaths += dead;
	for (uint32_t m = 0; m < FLOE_MAX_LIVE_GENERATIONS; m++)
		src->maps[m].seg.fd = -1;
	rx->sources[i] = src;
	src->polled_pos = rx->npolled;
	rx->polled[rx->npolled++] = src;
	/* Map now, what the sender's slot announces (a gone one's may no
	 * longer be its: the entries say what to map). */
	if (!gone)
		map_generation(rx, src, atomic_load(&floe_svc_slot(
			rx->dir->svc, rx->dir->sender, i)->generation));
}

/* Is @id one of the gone senders whose leftovers @sc carries? */
static bool carried(struct floe_conn *sc, uint64_t id)
{
	for (int k = 0; k < FLOE_CONN_CARRIED; k++)
		if (atomic_load(&sc->carried_id[k]) == id)
			return true;
	return false;
}

/*
 * Whose entry comes first in @sc's queue: the epoch of its oldest entry
 * names a gone sender whose leftovers are carried, or else it is the
 * connection's own sender's. Its epoch in *@epoch; 0 while a new sender
 * takes the connection over (try again).
 *
 * That sender records the gone one it carries, then writes the epoch,
 * then pub_id: an epoch and pub_id read while it does so may not belong
 * together, and a source of the new sender with the old epoch would read
 * the gone one's entries as its own (their samples rejected, their end
 * markers lost). So both are read before and after the entry.
 */
static uint64_t first_sender(const struct floe_dir *d, struct floe_conn *sc,
			     uint32_t *epoch)
{
	uint32_t e = atomic_load(&sc->epoch);
	uint64_t pub = atomic_load(&sc->pub_id), entry, head;

	if (floe_ring_peek(floe_dir_sub_ring(d, sc), d->sub_cap, d->sub_cap,
			   &entry, &head) == FLOE_RING_OK) {
		for (int k = 0; k < FLOE_CONN_CARRIED; k++) {
			uint64_t id = atomic_load(&sc->carried_id[k]);

			*epoch = atomic_load(&sc->carried_epoch[k]);
			if (id && (*epoch & 0xffff) == FLOE_ENTRY_EPOCH(entry))
				return id;
		}
	}
	*epoch = e;
	return atomic_load(&sc->epoch) == e && atomic_load(&sc->pub_id) == pub
		       ? pub
		       : 0;
}

/* The sender owning slot @i (0 if none), and whether it is dead. */
static uint64_t slot_sender(const struct floe_dir *d, uint32_t i, bool *dead)
{
	struct floe_backend *be = d->svc->node->be;
	struct floe_port_ref ref;
	uint64_t owner = floe_svc_slot_owner(d->svc, d->sender, i, &ref);

	*dead = owner && be->ops->port_liveness(be, &ref) == FLOE_PORT_DEAD;
	return owner;
}

/* Did the sender of @src leave in order? It marks its data departed
 * when it does; a sender that died never gets to. */
static bool departed(const struct source *src)
{
	for (uint32_t m = 0; m < FLOE_MAX_LIVE_GENERATIONS; m++) {
		const struct floe_data_header *dh = src->maps[m].seg.addr;

		if (dh && atomic_load(&((struct floe_data_header *)dh)->departed))
			return true;
	}
	return false;
}

/* The sender of @src is gone (@dead: the backend says it died). */
static void source_gone(struct floe_receiver *rx, struct source *src,
			bool dead)
{
	if (src->gone)
		return;
	src->gone = src->draining = true;
	if (dead || !departed(src))
		rx->deaths++;
}

/*
 * Follow the sender slots: connect to senders that connected to us
 * (gone ones too: what they left queued is ours to read), and mark the
 * sources whose sender left, died or dropped us as draining.
 */
static __attribute__((noinline)) void update(struct floe_receiver *rx)
{
	const struct floe_dir *d = rx->dir;

	rx->seen_changes = floe_dir_changes(d);
	rx->seen_deaths = floe_dir_deaths(d);
	rx->rescan = false;
	rx->generation++;
	for (uint32_t i = 0; i < d->senders; i++) {
		struct floe_conn *sc = floe_dir_conn(d, i, rx->slot);
		struct source *src = rx->sources[i];
		bool owner_dead;
		uint64_t owner = slot_sender(d, i, &owner_dead);
		bool ours = atomic_load(&sc->sub_id) == rx->ref.id;
		/* whose connection to us, if any: the slot's owner, or a
		 * gone sender's leftovers */
		uint64_t pub_id = ours ? atomic_load(&sc->pub_id) : 0;
		uint32_t epoch;
		uint64_t first;

		if (src && ours && carried(sc, src->pub_id)) {
			/* reading what it left, ahead of a newer one's */
			source_gone(rx, src, false);
		} else if (src && src->pub_id != pub_id) {
			/* dropped us, or another took the row: done when
			 * drained; gone unless it is still the slot's */
			src->draining = true;
			if (src->pub_id != owner || owner_dead)
				source_gone(rx, src, owner_dead &&
						     src->pub_id == owner);
		} else if (src && (pub_id != owner || owner_dead)) {
			source_gone(rx, src, owner_dead && pub_id == owner);
		} else if (src) {
			map_generation(rx, src, atomic_load(
				&floe_svc_slot(d->svc, d->sender, i)->generation));
		} else if (pub_id) {
			first = first_sender(d, sc, &epoch);
			/* A sender that took the slot and connected since we
			 * looked at the slot is no gone one: taken for one, it
			 * was let go of (its connection closed) as soon as its
			 * queue was empty, and what it sent next never read. */
			if (first && first != owner)
				owner = slot_sender(d, i, &owner_dead);
			if (first)
				connect_source(rx, i, first, epoch,
					       first != owner || owner_dead,
					       first == owner && owner_dead);
			else
				rx->rescan = true;
		}
	}
}

static inline void update_if_changed(struct floe_receiver *rx)
{
	if (rx->rescan || floe_dir_changes(rx->dir) != rx->seen_changes ||
	    floe_dir_deaths(rx->dir) != rx->seen_deaths)
		update(rx);
}

/* May we take what @src queued? */
static bool takes_from(struct floe_receiver *rx, const struct source *src)
{
	return src && (!rx->ready ||
		       rx->ready(rx->ready_ctx, src->pub_slot, src->pub_id));
}

static struct floe_sample *free_sample(struct floe_receiver *rx)
{
	for (uint32_t i = 0; i < rx->max_borrowed; i++)
		if (!rx->samples[i].in_use)
			return &rx->samples[i];
	return NULL;
}

static void give_back(struct floe_receiver *rx, struct source *src,
		      uint32_t chunk)
{
	if (src->draining)
		return; /* the connection is over: nobody takes it back */
	/* it holds at most every chunk of the pool once, and what we
	 * held of a gone sender's (comp_cap, lib/engine/dir.c): no room
	 * to look for */
	floe_ring_append(src->comp, rx->dir->comp_cap,
			 floe_entry(src->epoch, 0, chunk));
}

/*
 * Give back what was released since the last call that looked for data.
 * A release only notes its chunk: it is typically followed by the port's
 * own send (a reply), and on x86 stores become visible in order, so a
 * give-back to a line its sender has read since would hold that send
 * back by a cache-line transfer. The next receive, look for data or wait
 * (or the close) gives it back, before anything else; until then the
 * chunk counts as held, as it did before its release (the pool has room
 * for every sample a receiver may hold).
 */
static void return_released(struct floe_receiver *rx)
{
	for (uint32_t i = 0; i < rx->nreleased; i++)
		give_back(rx, rx->released[i]->src, rx->released[i]->chunk);
	rx->nreleased = 0;
}

/* The header of the chunk a queue entry names, in mapping @mi; NULL if
 * the entry names no chunk in it. */
static const struct floe_chunk_header *
entry_chunk(struct floe_receiver *rx, struct source *src, uint64_t entry,
	    int mi)
{
	uint32_t chunk = FLOE_ENTRY_CHUNK(entry);
	const struct source_map *m;

	if (chunk >= rx->dir->chunk_count || mi < 0)
		return NULL;
	m = &src->maps[mi];
	return (const struct floe_chunk_header *)(m->chunks +
						  (uint64_t)chunk * m->stride);
}

/* Turn the entry for chunk @ch (entry_chunk(), in mapping @mi) into a
 * sample; false if it fails validation. */
static bool accept_entry(struct floe_receiver *rx, struct source *src,
			 uint64_t entry, int mi,
			 const struct floe_chunk_header *ch,
			 struct floe_sample *s)
{
	const struct floe_dir *d = rx->dir;
	struct source_map *m;
	uint64_t pub_id, len, tag;
	uint32_t next;

	if (!ch)
		return false;
	m = &src->maps[mi];
	pub_id = __atomic_load_n(&ch->publisher_id, __ATOMIC_RELAXED);
	len = __atomic_load_n(&ch->len, __ATOMIC_RELAXED);
	if (pub_id != src->pub_id || !len || len > m->max_len)
		return false;
	/* only what changes from sample to sample is stored: the
	 * receiver's stores wait behind its cache misses too (the record
	 * is reused: its source, mapping, length and tag are mostly what
	 * they were) */
	if (s->src != src)
		s->src = src;
	s->payload = (const char *)ch + d->payload_offset;
	if (s->len != len)
		s->len = len;
	s->sequence = __atomic_load_n(&ch->sequence, __ATOMIC_RELAXED);
	tag = __atomic_load_n(&ch->reserved, __ATOMIC_RELAXED);
	if (s->tag != tag)
		s->tag = tag;
	s->chunk = FLOE_ENTRY_CHUNK(entry);
	if (s->map != (uint32_t)mi)
		s->map = (uint32_t)mi;
	next = __atomic_load_n(&ch->next_chunk, __ATOMIC_RELAXED);
	src->next_header = next < d->chunk_count
				   ? m->chunks + (uint64_t)next * m->stride
				   : NULL;
	src->idle_polls = 0;
	s->in_use = true;
	m->held++;
	return true;
}

/* Next valid entry of @src: 1 with *s filled, 2 with *mark filled (only
 * if @mark), 0 when none. Inline: a call of its own would save and
 * restore six registers more per sample (an empty poll, which does not
 * get here, pays for the larger function: 74 -> 81 instructions). */
static inline __attribute__((always_inline)) int
receive_from(struct floe_receiver *rx, struct source *src,
	     struct floe_sample *s, struct floe_marker *mark)
{
	const struct floe_dir *d = rx->dir;
	struct floe_ring *ring = src->ring;
	const struct floe_chunk_header *ch;
	uint64_t entry, head;
	int mi;

	for (;;) {
		enum floe_ring_result r = floe_ring_peek_known(
			ring, d->sub_cap, d->sub_cap, &src->cons, &entry,
			&head);

		if (r == FLOE_RING_EMPTY && !src->draining)
			return 0;
		if (r != FLOE_RING_OK ||
		    FLOE_ENTRY_EPOCH(entry) != (src->epoch & 0xffff)) {
			/* Drained, or corrupt, or the queue now belongs to a
			 * newer connection (whose entry stays queued for it):
			 * this source is done. A new sender in the row means
			 * ours is gone, though we may not have looked since:
			 * let it go all the same. */
			if (r == FLOE_RING_OK &&
			    atomic_load(&floe_dir_conn(d, src->pub_slot,
						       rx->slot)->pub_id) !=
				    src->pub_id)
				source_gone(rx, src, false);
			retire_source(rx, src);
			return 0;
		}
		/* Map the chunk's memory before taking the entry: a leaving
		 * sender keeps its data only while a queue refers to it. */
		mi = FLOE_ENTRY_IS_MARKER(entry)
			     ? -1
			     : map_generation(rx, src, FLOE_ENTRY_GEN(entry));
		/* The sender wrote the chunk last: start fetching its line
		 * now, not after the take (with safe overflow a locked
		 * instruction, which no later load passes). */
		ch = entry_chunk(rx, src, entry, mi);
		if (ch)
			__builtin_prefetch(ch);
		if (!d->safe_overflow)
			floe_ring_take_own(ring, &src->cons, head);
		else if (!floe_ring_take_known(ring, &src->cons, head))
			continue; /* evicted under us by safe overflow */
		if (FLOE_ENTRY_IS_MARKER(entry)) {
			if (!mark)
				continue;
			*mark = (struct floe_marker){
				.pub_id = src->pub_id,
				.pub_slot = src->pub_slot,
				.tag = FLOE_MARKER_TAG(entry),
			};
			return 2;
		}
		if (accept_entry(rx, src, entry, mi, ch, s))
			return 1;
		give_back(rx, src, FLOE_ENTRY_CHUNK(entry));
	}
}

/*
 * Empty polls of a source after a sample before its announced chunk is
 * fetched. A sender that streams is writing that chunk right then, and a
 * fetch would take its line away between its stores (1→1 throughput 4%
 * lower fetching from the first empty poll); a sender that answers, whose
 * next sample is a round trip away, has written it by the third (the
 * ping-pong's p50 unchanged; fetching from the fifth, it rose).
 */
#define IDLE_POLLS_BEFORE_PREFETCH 2

int floe_receiver_receive(struct floe_receiver *rx, const floe_sample **out,
			  struct floe_marker *mark)
{
	uint32_t n;
	struct floe_sample *s;
	int got;

	if (rx->nreleased)
		return_released(rx);
	s = free_sample(rx);
	if (!s)
		return FLOE_E_BORROW_LIMIT;
	/* A source retired on the way may leave its slot to a newer
	 * sender whose samples wait already: look again, so that what is
	 * waiting is returned in this very call. */
	for (uint32_t pass = 0; pass < RECEIVE_PASSES; pass++) {
		update_if_changed(rx);
		/* Publishers take turns, so a busy one cannot starve the
		 * others. A source retired on the way leaves its place in
		 * the list to another: start over (each time one fewer). */
look:
		n = rx->npolled;
		for (uint32_t k = 0, i = rx->next_source < n ? rx->next_source : 0;
		     k < n; k++, i = i + 1 < n ? i + 1 : 0) {
			struct source *src = rx->polled[i];

			/* nothing queued (a draining source is looked at to
			 * be retired): fetch the line the next sample will
			 * likely be in, so that when it comes that line and
			 * the queue's come at once, not one after the other
			 * (a prefetch: never faults, whatever the address) */
			if (!src->draining &&
			    floe_ring_idle(src->ring, &src->cons,
					   rx->dir->sub_cap)) {
				if (src->idle_polls < IDLE_POLLS_BEFORE_PREFETCH)
					src->idle_polls++;
				else if (src->next_header)
					__builtin_prefetch(src->next_header);
				continue;
			}
			if (takes_from(rx, src) &&
			    (got = receive_from(rx, src, s, mark))) {
				uint32_t next = i + 1 < n ? i + 1 : 0;

				if (rx->next_source != next)
					rx->next_source = next;
				if (got == 1) {
					floe_stat_add(&rx->stats->received, 1);
					/* accept_entry took at least one */
					if (s->len != 1)
						floe_stat_add(&rx->stats->received_extra,
							      s->len - 1);
					*out = s;
				}
				return got;
			}
			if (rx->npolled != n)
				goto look;
		}
		if (!rx->rescan)
			break;
	}
	if (rx->bell >= 0)
		floe_receiver_settle(rx);
	return 0;
}

uint32_t floe_receiver_borrowed(const struct floe_receiver *rx)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < rx->max_borrowed; i++)
		n += rx->samples[i].in_use;
	return n;
}

void floe_receiver_refresh(struct floe_receiver *rx)
{
	update_if_changed(rx);
}

uint64_t floe_receiver_generation(const struct floe_receiver *rx)
{
	return rx->generation;
}

uint64_t floe_receiver_deaths(const struct floe_receiver *rx)
{
	return rx->deaths;
}

bool floe_receiver_has_source(struct floe_receiver *rx, uint32_t slot,
			      uint64_t pub_id)
{
	struct floe_conn *sc = floe_dir_conn(rx->dir, slot, rx->slot);
	struct floe_port_ref ref;

	update_if_changed(rx);
	/* or our connection may still hold its entries: its own (we
	 * connect to it once a newer sender that takes it over is done), or
	 * carried ahead of a newer sender's while any are queued */
	return (rx->sources[slot] && rx->sources[slot]->pub_id == pub_id) ||
	       floe_svc_slot_owner(rx->dir->svc, rx->dir->sender, slot,
				   &ref) == pub_id ||
	       (atomic_load(&sc->sub_id) == rx->ref.id &&
		(atomic_load(&sc->pub_id) == pub_id ||
		 (carried(sc, pub_id) &&
		  floe_ring_count(floe_dir_sub_ring(rx->dir, sc),
				  rx->dir->sub_cap))));
}

bool floe_receiver_has_data(struct floe_receiver *rx)
{
	if (rx->nreleased)
		return_released(rx);
	update_if_changed(rx);
	for (uint32_t i = 0; i < rx->dir->senders; i++) {
		struct source *src = rx->sources[i];
		struct floe_conn *sc;

		if (!takes_from(rx, src))
			continue;
		sc = floe_dir_conn(rx->dir, i, rx->slot);
		if (floe_ring_count(floe_dir_sub_ring(rx->dir, sc),
				    rx->dir->sub_cap))
			return true;
	}
	return false;
}

void floe_receiver_take_only(struct floe_receiver *rx,
			     bool (*ready)(void *ctx, uint32_t slot,
					   uint64_t id),
			     void *ctx)
{
	rx->ready = ready;
	rx->ready_ctx = ctx;
}

/* The last sample held from a retired source is released: free it. Out
 * of the common release's way. */
static __attribute__((noinline)) void release_retired(struct floe_receiver *rx,
						     struct source *src)
{
	if (source_held(src))
		return;
	for (struct source **p = &rx->retired; *p; p = &(*p)->next_retired) {
		if (*p == src) {
			*p = src->next_retired;
			break;
		}
	}
	free_source(src);
}

FLOE_EXPORT void floe_sample_release(const floe_sample *cs)
{
	struct floe_sample *s = (struct floe_sample *)cs;
	struct source *src;

	if (!s || !s->in_use)
		return;
	src = s->src;
	s->in_use = false;
	src->maps[s->map].held--;
	if (src->retired)
		release_retired(s->rx, src);
	else /* at most every sample held since the last receive: room */
		s->rx->released[s->rx->nreleased++] = s;
}

int floe_receiver_open(const struct floe_dir *dir, const struct floe_port *port,
		       uint32_t max_borrowed, struct floe_receiver **out)
{
	struct floe_receiver *rx = calloc(1, sizeof(*rx));

	if (!rx)
		return FLOE_E_NOMEM;
	rx->dir = dir;
	rx->ref = port->ref;
	rx->slot = port->slot;
	rx->stats = floe_svc_stats(dir->svc, dir->receiver, port->slot);
	rx->max_borrowed = max_borrowed;
	rx->bell = -1;
	rx->sources = calloc(dir->senders, sizeof(*rx->sources));
	rx->polled = calloc(dir->senders, sizeof(*rx->polled));
	rx->samples = calloc(max_borrowed, sizeof(*rx->samples));
	rx->released = calloc(max_borrowed, sizeof(*rx->released));
	if (!rx->sources || !rx->polled || !rx->samples || !rx->released) {
		free(rx->sources);
		free(rx->polled);
		free(rx->samples);
		free(rx->released);
		free(rx);
		return FLOE_E_NOMEM;
	}
	for (uint32_t i = 0; i < max_borrowed; i++)
		rx->samples[i].rx = rx;
	floe_wake_receiver_init(floe_receiver_wake(rx));
	update(rx);
	*out = rx;
	return 0;
}

/* Senders reclaim everything in flight to us once the slot goes; what
 * gone ones left us is let go. */
void floe_receiver_close(struct floe_receiver *rx)
{
	const struct floe_dir *d = rx->dir;
	struct floe_backend *be = d->svc->node->be;

	return_released(rx);
	for (uint32_t i = 0; i < d->senders; i++) {
		struct floe_conn *sc = floe_dir_conn(d, i, rx->slot);
		struct floe_port_ref ref;
		uint64_t pub_id, owner;

		if (atomic_load(&sc->sub_id) != rx->ref.id)
			continue;
		floe_svc_forget_all_carried(d, i, rx->slot);
		pub_id = atomic_load(&sc->pub_id);
		owner = floe_svc_slot_owner(d->svc, d->sender, i, &ref);
		if (owner != pub_id ||
		    be->ops->port_liveness(be, &ref) == FLOE_PORT_DEAD)
			let_go(rx, i, pub_id);
	}
	for (uint32_t i = 0; i < d->senders; i++)
		if (rx->sources[i])
			free_source(rx->sources[i]);
	while (rx->retired) {
		struct source *next = rx->retired->next_retired;

		free_source(rx->retired);
		rx->retired = next;
	}
	if (rx->bell >= 0) {
		atomic_fetch_and(&floe_receiver_wake(rx)->want, ~FLOE_WANT_FD);
		close(rx->bell);
	}
	free(rx->sources);
	free(rx->polled);
	free(rx->samples);
	free(rx->released);
	free(rx);
}

void floe_receiver_check_senders(struct floe_receiver *rx)
{
	update(rx);
}
