// SPDX-License-Identifier: MIT
/*
 * A sender's connections: the producing side of one submission queue per
 * connected receiver, and the consuming side of its completion queue.
 * Receivers are connected when their slot is taken (history is re-sent to
 * a late one), disconnected when it is freed or they die, quarantined when
 * their queues are found corrupt. What a sender leaves queued when it goes
 * stays in its connections for their receivers (struct floe_conn); with
 * the module it holds its data for every receiver it connects (backend
 * port_hold), so that data stays readable however it ends.
 */
#include <stdlib.h>
#include <unistd.h>

#include "base/log.h"
#include "doorbell.h"
#include "engine/sender.h"

/* Evictions a full queue with safe overflow may take before it counts as
 * tampered with (an honest one needs one, two if the receiver races). */
#define SAFE_OVERFLOW_ROUNDS 4

static struct floe_backend *backend(const struct floe_sender *tx)
{
	return tx->dir->svc->node->be;
}

static struct floe_conn *conn(const struct floe_sender *tx, uint32_t j)
{
	return floe_dir_conn(tx->dir, tx->slot, j);
}

static void changed(const struct floe_sender *tx)
{
	atomic_fetch_add(&tx->dir->svc->hdr->changes, 1);
}

/* An entry given back (or evicted) from receiver @j's connection: true if
 * it was in flight there; the caller lowers the connection's count (once
 * for a batch). */
static inline bool take_back(struct floe_sender *tx, uint32_t j,
			     uint64_t entry)
{
	struct tx_conn *c = &tx->conns[j];
	uint32_t chunk = FLOE_ENTRY_CHUNK(entry);

	if (FLOE_ENTRY_EPOCH(entry) != (c->epoch & 0xffff) ||
	    !floe_bitset_test(&c->inflight, chunk))
		return false; /* stale or bogus: never ours to free */
	floe_bitset_clear(&c->inflight, chunk);
	floe_tx_unref(tx, chunk);
	return true;
}

static void unref_all(struct floe_sender *tx, struct floe_bitset *set)
{
	for (uint32_t chunk = floe_bitset_next(set, 0); chunk < tx->chunk_count;
	     chunk = floe_bitset_next(set, chunk + 1)) {
		floe_bitset_clear(set, chunk);
		floe_tx_unref(tx, chunk);
	}
}

static void live_add(struct floe_sender *tx, uint32_t j, uint64_t id)
{
	tx->conns[j].sub_id = id;
	tx->conns[j].live_pos = tx->nlive;
	tx->live[tx->nlive++] = j;
}

/* The last one takes @j's place: loops over the list that may end the
 * connection they are at run backwards. */
static void live_remove(struct floe_sender *tx, uint32_t j)
{
	uint32_t pos = tx->conns[j].live_pos, last;

	if (!tx->conns[j].sub_id)
		return;
	last = tx->live[--tx->nlive];
	tx->live[pos] = last;
	tx->conns[last].live_pos = pos;
	tx->conns[j].sub_id = 0;
}

static void end_connection(struct floe_sender *tx, uint32_t j)
{
	struct floe_conn *sc = conn(tx, j);

	atomic_store(&sc->sub_id, 0);
	/* leftovers we carried for it are nobody's now */
	floe_svc_forget_all_carried(tx->dir, tx->slot, j);
	tx->conns[j].inflight_count = 0;
	live_remove(tx, j);
}

/* The receiver left or died: everything in flight to it comes back. */
static void disconnect(struct floe_sender *tx, uint32_t j)
{
	unref_all(tx, &tx->conns[j].inflight);
	end_connection(tx, j);
}

/* Wake receiver @j, which wants @want (lib/base/wake.h): it sleeps or
 * armed its descriptor. */
static void wake_receiver(struct floe_sender *tx, uint32_t j, uint32_t want)
{
	struct floe_wake *w = floe_dir_wake(tx->dir, j);
	struct floe_doorbell bell;

	floe_wake_ring(w, want);
	if (!(want & FLOE_WANT_FD))
		return;
	floe_doorbell_name(&bell, backend(tx)->domain, FLOE_DOORBELL_PORT,
			   tx->conns[j].sub_id);
	floe_doorbell_ring_peer(&tx->bell_sock, &bell);
}

/* After floe_wake_barrier: wake receiver @j if it waits for data;
 * *@fenced as floe_wake_wanted takes it. Inline: nearly always nobody
 * waits. */
static inline void wake_if_waiting(struct floe_sender *tx, uint32_t j,
				   bool *fenced)
{
	uint32_t want = floe_wake_wanted(floe_dir_wake(tx->dir, j), fenced);

	if (want)
		wake_receiver(tx, j, want);
}

/* Wake the connected receivers, or only @to, that wait for data. */
static inline __attribute__((always_inline)) void
wake_receivers(struct floe_sender *tx, const struct floe_target *to)
{
	bool fenced = floe_wake_barrier(tx->wake_registered);

	if (to) {
		if (to->slot < tx->dir->receivers)
			wake_if_waiting(tx, to->slot, &fenced);
		return;
	}
	for (uint32_t k = 0; k < tx->nlive; k++)
		wake_if_waiting(tx, tx->live[k], &fenced);
}

/* Before disconnecting a receiver found dead: say what comes back. */
static void log_taken_back(struct floe_sender *tx, uint32_t j)
{
	const struct floe_dir *d = tx->dir;

	floe_log(FLOE_LOG_INFO,
		 "service '%s': %s %llu is dead; %s %llu took back the %u "
		 "samples it held or had queued", d->svc->name,
		 floe_port_role_name(d->svc->pattern->roles[d->receiver]),
		 (unsigned long long)tx->conns[j].sub_id,
		 floe_port_role_name(d->svc->pattern->roles[d->sender]),
		 (unsigned long long)tx->ref.id, tx->conns[j].inflight_count);
}

/*
 * The connection's shared state is corrupt (someone wrote garbage into it)
 * but the receiver may be alive and holding samples: set its chunks aside
 * and connect it afresh on the next update.
 */
static void quarantine(struct floe_sender *tx, uint32_t j)
{
	struct tx_conn *c = &tx->conns[j];
	uint32_t words = (tx->chunk_count + 63) / 64;

	if (c->quarantine_owner && c->quarantine_owner != c->sub_id)
		unref_all(tx, &c->quarantine);
	/* set aside already and in flight again (history re-sent after an
	 * earlier quarantine): one bit keeps one of its two references */
	for (uint32_t chunk = floe_bitset_next(&c->inflight, 0);
	     chunk < tx->chunk_count;
	     chunk = floe_bitset_next(&c->inflight, chunk + 1))
		if (floe_bitset_test(&c->quarantine, chunk))
			floe_tx_unref(tx, chunk);
	for (uint32_t w = 0; w < words; w++) {
		c->quarantine.words[w] |= c->inflight.words[w];
		c->inflight.words[w] = 0;
	}
	c->quarantine_owner = c->sub_id;
	floe_log(FLOE_LOG_WARN,
		 "service '%s': the queues from %s %llu to %s %llu are "
		 "corrupt; connection quarantined (its samples are set aside "
		 "until that %s goes)", tx->dir->svc->name,
		 floe_port_role_name(tx->dir->svc->pattern->roles[tx->dir->sender]),
		 (unsigned long long)tx->ref.id,
		 floe_port_role_name(tx->dir->svc->pattern->roles[tx->dir->receiver]),
		 (unsigned long long)c->sub_id,
		 floe_port_role_name(tx->dir->svc->pattern->roles[tx->dir->receiver]));
	end_connection(tx, j);
	changed(tx);
}

/* Take back what receiver @j returned: its completion queue has no
 * other consumer, so the whole batch is taken with one store. */
static void reclaim(struct floe_sender *tx, uint32_t j)
{
	struct floe_ring *ring = tx->conns[j].comp_ring;
	uint32_t cap = tx->dir->comp_cap;
	enum floe_ring_result r;
	uint64_t head, tail;
	uint32_t taken = 0;

	r = floe_ring_queued(ring, cap, &head, &tail);
	if (r == FLOE_RING_CORRUPT) {
		quarantine(tx, j);
		return;
	}
	for (uint64_t i = head; i != tail; i++)
		taken += take_back(tx, j, floe_ring_entry(ring, cap, i));
	tx->conns[j].inflight_count -= taken;
	if (r == FLOE_RING_OK)
		floe_ring_consumed(ring, tail);
}

void floe_tx_reclaim_all(struct floe_sender *tx)
{
	for (uint32_t k = tx->nlive; k-- > 0;)
		reclaim(tx, tx->live[k]);
}

/* Queue @chunk (generation @gen), which receiver @j's connection does not
 * hold, to it; the caller counts the reference the connection gains.
 * Always inline: a call here would cost the common send its registers. */
static inline __attribute__((always_inline)) enum floe_ring_result
push_new(struct floe_sender *tx, uint32_t j, uint32_t chunk, uint32_t gen)
{
	struct tx_conn *c = &tx->conns[j];
	enum floe_ring_result r;

	r = floe_ring_push(c->sub_ring, tx->dir->sub_cap, c->limit,
			   &c->sub_prod, floe_entry(c->epoch, gen, chunk));
	if (r == FLOE_RING_OK) {
		floe_bitset_set(&c->inflight, chunk);
		c->inflight_count++;
	}
	return r;
}

/* Queue history @chunk to receiver @j, just connected: its connection
 * holds nothing yet (disconnect and quarantine empty the set), and the
 * history holds a chunk once. */
static void push_history(struct floe_sender *tx, uint32_t j, uint32_t chunk)
{
	if (push_new(tx, j, chunk, floe_tx_chunk_gen(tx, chunk)) ==
	    FLOE_RING_OK)
		tx->refcnt[chunk]++;
}

static void connect_receiver(struct floe_sender *tx, uint32_t j, uint64_t id,
			     const struct floe_port_ref *ref,
			     uint32_t buffer_size)
{
	const struct floe_dir *d = tx->dir;
	struct floe_backend *be = backend(tx);
	struct tx_conn *c = &tx->conns[j];
	struct floe_conn *sc = conn(tx, j);
	uint64_t done;
	uint32_t first;
	int ret;

	/* Our data must outlive us for as long as this receiver may read
	 * it (FLOE_E_BACKEND: a module without holds; go on without). */
	ret = be->ops->port_hold(be, &tx->ref, ref);
	if (ret && ret != FLOE_E_BACKEND)
		return; /* it died meanwhile, or the module's limit: later */
	/* A gone sender's leftovers still queued for this receiver are
	 * never discarded: we queue behind them (or wait, if another's are
	 * carried already). */
	switch (floe_svc_take_over(d, tx->slot, j, tx->ref.id, &done)) {
	case FLOE_TAKE_WAIT:
		/* again when the receiver has read them; until then it
		 * needs nothing of ours */
		be->ops->port_release(be, tx->ref.id, ref);
		return;
	case FLOE_TAKE_CARRY:
		floe_ring_producer_resume(floe_dir_sub_ring(d, sc),
					  &c->sub_prod);
		/* What the receiver gave back to the gone sender is nobody's
		 * now, and would fill the completion queue we alone read (its
		 * receiver appends without looking at head). */
		floe_ring_reset(floe_dir_comp_ring(d, sc));
		break;
	case FLOE_TAKE_FRESH:
		/* sub_id 0 keeps the receiver away while the queues are
		 * reset. */
		atomic_store(&sc->sub_id, 0);
		floe_ring_reset(floe_dir_sub_ring(d, sc));
		floe_ring_reset(floe_dir_comp_ring(d, sc));
		floe_ring_producer_resume(floe_dir_sub_ring(d, sc),
					  &c->sub_prod);
		break;
	}
	c->epoch = atomic_load(&sc->epoch) + 1;
	atomic_store(&sc->epoch, c->epoch);
	atomic_store(&sc->pub_id, tx->ref.id);
	atomic_store(&sc->sub_id, id);
	if (done)
		floe_svc_leftovers_closed(d, tx->slot, done);
	/* tells the receiver to look at its connections again */
	changed(tx);
	live_add(tx, j, id);
	c->sub_ref = *ref;
	c->limit = buffer_size && buffer_size < d->buffer ? buffer_size
							  : d->buffer;
	/* Late joiner: the newest history samples that fit, oldest first. */
	first = tx->hist_len > c->limit ? tx->hist_len - c->limit : 0;
	for (uint32_t k = first; k < tx->hist_len; k++)
		push_history(tx, j,
			     tx->history[(tx->hist_next + d->history -
					  tx->hist_len + k) % d->history]);
	if (first < tx->hist_len) {
		bool fenced = floe_wake_barrier(tx->wake_registered);

		wake_if_waiting(tx, j, &fenced);
	}
}

/*
 * Bring connections in line with the receiver slots. @check_liveness also
 * asks the backend whether connected receivers still live (a system call
 * per receiver with the shm backend: slow paths only).
 */
static __attribute__((noinline)) void update(struct floe_sender *tx,
					   bool check_liveness)
{
	const struct floe_dir *d = tx->dir;
	struct floe_backend *be = backend(tx);

	tx->seen_changes = floe_dir_changes(d);
	tx->seen_deaths = floe_dir_deaths(d);
	if (check_liveness)
		floe_svc_reclaim_dead(d->svc);
	for (uint32_t j = 0; j < d->receivers; j++) {
		struct tx_conn *c = &tx->conns[j];
		struct floe_port_ref ref;
		uint64_t owner =
			floe_svc_slot_owner(d->svc, d->receiver, j, &ref);
		bool dead;

		if (c->quarantine_owner && owner != c->quarantine_owner) {
			unref_all(tx, &c->quarantine);
			c->quarantine_owner = 0;
		}
		/* gone (its slot freed, perhaps by a reclaimer) or dead */
		dead = c->sub_id && check_liveness &&
		       be->ops->port_liveness(be, &c->sub_ref) == FLOE_PORT_DEAD;
		if (c->sub_id && (owner != c->sub_id || dead)) {
			if (dead)
				log_taken_back(tx, j);
			disconnect(tx, j);
		}
		if (owner && !c->sub_id)
			connect_receiver(
				tx, j, owner, &ref,
				__atomic_load_n(&floe_svc_slot(d->svc,
							       d->receiver, j)
							 ->buffer_size,
						__ATOMIC_RELAXED));
	}
}

/* Did receivers come, go or die since the sender last looked? */
static inline bool conns_changed(const struct floe_sender *tx)
{
	return floe_dir_changes(tx->dir) != tx->seen_changes ||
	       floe_dir_deaths(tx->dir) != tx->seen_deaths;
}

static inline void update_if_changed(struct floe_sender *tx)
{
	if (conns_changed(tx))
		update(tx, floe_dir_deaths(tx->dir) != tx->seen_deaths);
}

void floe_tx_recover(struct floe_sender *tx)
{
	update(tx, true);
	floe_tx_reclaim_all(tx);
}

void floe_sender_update(struct floe_sender *tx)
{
	floe_tx_recover(tx);
}

bool floe_sender_reaches(struct floe_sender *tx, const struct floe_target *to)
{
	update_if_changed(tx);
	return to->slot < tx->dir->receivers &&
	       tx->conns[to->slot].sub_id == to->id;
}

static void sender_free(struct floe_sender *tx, bool keep)
{
	for (uint32_t j = 0; tx->conns && j < tx->dir->receivers; j++) {
		floe_bitset_fini(&tx->conns[j].inflight);
		floe_bitset_fini(&tx->conns[j].quarantine);
	}
	free(tx->conns);
	free(tx->live);
	free(tx->history);
	if (tx->bell_sock >= 0)
		close(tx->bell_sock);
	floe_tx_chunks_fini(tx, keep);
	free(tx);
}

int floe_sender_open(const struct floe_dir *dir, const struct floe_port *port,
		     const struct floe_sender_opts *opts,
		     struct floe_sender **out)
{
	struct floe_sender *tx;
	int ret;

	if (opts->unable_to_deliver > FLOE_DELIVER_BLOCK ||
	    opts->allocation > FLOE_ALLOC_POWER_OF_TWO ||
	    (opts->max_slice_len &&
	     opts->max_slice_len < opts->initial_max_slice_len))
		return FLOE_E_INVALID;
	tx = calloc(1, sizeof(*tx));
	if (!tx)
		return FLOE_E_NOMEM;
	tx->dir = dir;
	tx->bell_sock = -1;
	tx->ref = port->ref;
	tx->slot = port->slot;
	tx->stats = floe_svc_stats(dir->svc, dir->sender, port->slot);
	tx->opts = *opts;
	tx->wake_registered = floe_wake_sender_init();
	if (!tx->opts.initial_max_slice_len)
		tx->opts.initial_max_slice_len = 1;
	tx->conns = calloc(dir->receivers, sizeof(*tx->conns));
	tx->live = calloc(dir->receivers, sizeof(*tx->live));
	tx->history = calloc(dir->history + 1, sizeof(*tx->history));
	ret = FLOE_E_NOMEM;
	if (!tx->conns || !tx->live || !tx->history)
		goto fail;
	for (uint32_t j = 0; j < dir->receivers; j++) {
		struct floe_conn *sc = floe_dir_conn(dir, tx->slot, j);

		tx->conns[j].sub_ring = floe_dir_sub_ring(dir, sc);
		tx->conns[j].comp_ring = floe_dir_comp_ring(dir, sc);
		if (floe_bitset_init(&tx->conns[j].inflight, dir->chunk_count) ||
		    floe_bitset_init(&tx->conns[j].quarantine,
				     dir->chunk_count))
			goto fail;
	}
	ret = floe_tx_chunks_init(tx);
	if (ret)
		goto fail;
	update(tx, false);
	*out = tx;
	return 0;
fail:
	sender_free(tx, false);
	return ret;
}

void floe_sender_close(struct floe_sender *tx)
{
	const struct floe_dir *d = tx->dir;
	struct floe_backend *be = backend(tx);
	bool keep = false;

	for (uint32_t j = 0; j < d->receivers; j++) {
		struct tx_conn *c = &tx->conns[j];
		struct floe_port_ref ref;
		uint64_t id = c->sub_id;

		if (!id)
			continue;
		/* kept only in a connection still as we made it: one a peer
		 * wrote over could never be closed by its receiver */
		if (atomic_load(&conn(tx, j)->pub_id) == tx->ref.id &&
		    atomic_load(&conn(tx, j)->sub_id) == id &&
		    floe_ring_count(floe_dir_sub_ring(d, conn(tx, j)),
				    d->sub_cap) &&
		    floe_svc_slot_owner(d->svc, d->receiver, j, &ref) == id &&
		    be->ops->port_liveness(be, &ref) != FLOE_PORT_DEAD) {
			keep = true;
			continue;
		}
		/* it took everything, or is gone: nothing to keep for it */
		atomic_compare_exchange_strong(&conn(tx, j)->sub_id, &id, 0);
		be->ops->port_release(be, tx->ref.id, &c->sub_ref);
	}
	sender_free(tx, keep);
}

/* Retry a full queue until the receiver makes room, leaves or dies. */
static enum floe_ring_result push_blocking(struct floe_sender *tx, uint32_t j,
					   uint32_t chunk, uint32_t gen)
{
	struct floe_backend *be = backend(tx);
	struct tx_conn *c = &tx->conns[j];
	enum floe_ring_result r;

	/* Receivers this send reached already must not wait for this one
	 * to make room (its reader may be theirs): they are woken now, not
	 * after the send (the others wake for nothing). */
	wake_receivers(tx, NULL);
	for (uint32_t round = 0;; round++) {
		r = push_new(tx, j, chunk, gen);
		if (r != FLOE_RING_FULL)
			return r;
		reclaim(tx, j);
		if (!c->sub_id)
			return FLOE_RING_CORRUPT;
		if (round % 256 == 255) {
			struct floe_port_ref ref;

			if (floe_svc_slot_owner(tx->dir->svc, tx->dir->receiver,
						j, &ref) != c->sub_id ||
			    be->ops->port_liveness(be, &c->sub_ref) ==
				    FLOE_PORT_DEAD) {
				disconnect(tx, j);
				return FLOE_RING_CORRUPT;
			}
		}
		floe_backoff(round < 1024 ? round : 1024);
	}
}

/* deliver() when the connection is at its bound or its queue is full:
 * out of the way of the common send. */
static __attribute__((noinline)) bool
deliver_slow(struct floe_sender *tx, uint32_t j, uint32_t chunk, uint32_t gen)
{
	const struct floe_dir *d = tx->dir;
	struct tx_conn *c = &tx->conns[j];
	enum floe_ring_result r;

	/* An honest receiver holds at most its queue, its borrowed samples
	 * and one on its way back; one that keeps more (never returning
	 * them) gets nothing more rather than drain the pool for everyone. */
	if (c->inflight_count >= c->limit + d->borrowed + 1) {
		reclaim(tx, j);
		/* (or the reclaim found its completions corrupt and ended
		 * the connection) */
		if (!c->sub_id ||
		    c->inflight_count >= c->limit + d->borrowed + 1) {
			floe_stat_add(&tx->stats->undelivered, 1);
			return false;
		}
	}
	r = push_new(tx, j, chunk, gen);
	/* one more and the bound above needs a reclaim: do it after this
	 * send (reclaim_ahead) */
	if (c->inflight_count >= c->limit + d->borrowed)
		tx->reclaim_due = true;

	/* An honest ring has room after one eviction, or after the receiver
	 * took the oldest itself: full after a few rounds means indices
	 * someone tampered with (found by tests/fuzz/fuzz_pubsub, where this
	 * looped forever). */
	for (uint32_t round = 0; r == FLOE_RING_FULL && d->safe_overflow;
	     round++) {
		uint64_t oldest;

		/* the oldest is a gone sender's leftover: not ours to push
		 * out, and ours are behind it (struct floe_conn) */
		if (c->sub_prod.head_cache - c->sub_prod.floor >= 1ULL << 63)
			break;
		/* Safe overflow: the sample oldest when the push found the
		 * queue full makes room, unless the receiver took it first
		 * (then there is room anyway). */
		if (floe_ring_evict(c->sub_ring, d->sub_cap, &c->sub_prod,
				    &oldest)) {
			c->inflight_count -= take_back(tx, j, oldest);
			floe_stat_add(&tx->stats->overflowed, 1);
		}
		r = push_new(tx, j, chunk, gen);
		if (r == FLOE_RING_FULL && round == SAFE_OVERFLOW_ROUNDS)
			r = FLOE_RING_CORRUPT;
	}
	if (r == FLOE_RING_FULL &&
	    tx->opts.unable_to_deliver == FLOE_DELIVER_BLOCK)
		r = push_blocking(tx, j, chunk, gen);
	if (r == FLOE_RING_CORRUPT && c->sub_id)
		quarantine(tx, j);
	if (r != FLOE_RING_OK)
		floe_stat_add(&tx->stats->undelivered, 1);
	return r == FLOE_RING_OK;
}

/*
 * Queue @chunk (generation @gen), on loan and being sent, to receiver @j
 * if that takes nothing out of the way: the connection below its bound
 * and room in its queue; false for deliver_slow. The connection's
 * reference is not counted here: each delivery gains one, and
 * floe_tx_end_sent_loan counts them all at once, the first taking over
 * the loan's own, so that a send to one receiver stores no count at all.
 * Until then the count holds the loan's reference only; no connection
 * this send queued to already is reclaimed or dropped before the send
 * ends (deliver_slow reclaims only @j, which does not hold the chunk
 * yet), so nothing can take it to zero. No call: values the send keeps
 * in registers need not be saved around it.
 */
static inline bool deliver_fast(struct floe_sender *tx, uint32_t j,
				uint32_t chunk, uint32_t gen)
{
	struct tx_conn *c = &tx->conns[j];
	uint32_t bound = c->limit + tx->dir->borrowed;

	if (c->inflight_count > bound ||
	    push_new(tx, j, chunk, gen) != FLOE_RING_OK)
		return false;
	/* one more and the bound needs a reclaim: after this send
	 * (reclaim_ahead) */
	if (c->inflight_count >= bound)
		tx->reclaim_due = true;
	return true;
}

/* Queue @chunk to receiver @j: true if it went. */
static inline bool deliver(struct floe_sender *tx, uint32_t j, uint32_t chunk,
			   uint32_t gen)
{
	return deliver_fast(tx, j, chunk, gen) ||
	       deliver_slow(tx, j, chunk, gen);
}

/* deliver_all from the connection at @k in the list on, that one needing
 * deliver_slow: out of line, so that the common loop calls nothing. */
static __attribute__((noinline)) int deliver_from(struct floe_sender *tx,
						 uint32_t k, uint32_t chunk,
						 uint32_t gen, uint64_t *reached)
{
	int delivered = 0;

	for (k++; k-- > 0;) {
		uint32_t j = tx->live[k];
		uint64_t id = tx->conns[j].sub_id;
		bool ok = deliver(tx, j, chunk, gen);

		if (reached && ok)
			reached[j] = id;
		delivered += ok;
	}
	return delivered;
}

/* Queue @chunk (generation @gen) to every connected receiver, noting in
 * @reached (if not NULL) the id of each it went to; how many it went to.
 * Always inline: the common send (no @reached) is then a loop with
 * nothing to note. */
static inline __attribute__((always_inline)) int
deliver_all(struct floe_sender *tx, uint32_t chunk, uint32_t gen,
	    uint64_t *reached)
{
	int delivered = 0;

	/* backwards: a delivery may end the connection it is at */
	for (uint32_t k = tx->nlive; k-- > 0;) {
		uint32_t j = tx->live[k];

		if (!deliver_fast(tx, j, chunk, gen))
			return delivered +
			       deliver_from(tx, k, chunk, gen, reached);
		if (reached)
			reached[j] = tx->conns[j].sub_id;
		delivered++;
	}
	return delivered;
}

/*
 * After a send, take back what receivers returned if the next send would
 * have to first: a connection one short of its bound (deliver), or a dry
 * pool (a loan). Here the completion queue's cache miss overlaps
 * with the sample's way to its receivers; at the start of the next send
 * it would hold that sample back (its entries wait for the chunk the
 * reclaim frees, or for the bound's verdict).
 */
static inline __attribute__((always_inline)) void
reclaim_ahead(struct floe_sender *tx)
{
	const struct floe_dir *d = tx->dir;

	if (!floe_pool_free_count(&tx->pool)) {
		floe_tx_reclaim_all(tx);
		return;
	}
	if (!tx->reclaim_due)
		return;
	tx->reclaim_due = false;
	for (uint32_t k = tx->nlive; k-- > 0;) {
		struct tx_conn *c = &tx->conns[tx->live[k]];

		if (c->inflight_count >= c->limit + d->borrowed)
			reclaim(tx, tx->live[k]);
	}
}

/* The last @history samples sent stay for late receivers. */
static inline void keep_history(struct floe_sender *tx, uint32_t chunk)
{
	uint32_t n = tx->dir->history;

	if (!n)
		return;
	if (tx->hist_len == n)
		floe_tx_unref(tx, tx->history[tx->hist_next]);
	else
		tx->hist_len++;
	tx->history[tx->hist_next] = chunk;
	tx->hist_next = (tx->hist_next + 1) % n;
	tx->refcnt[chunk]++;
}

/* Write @s's chunk header: what a receiver checks and reads besides the
 * payload. Its sender id was written with the data segment. */
static inline void stamp(struct floe_sender *tx, floe_sample_mut *s,
			 uint64_t tag)
{
	struct floe_chunk_header *ch =
		(void *)((char *)s->payload - tx->dir->payload_offset);

	ch->sequence = tx->sequence++;
	ch->len = s->len;
	ch->next_chunk = floe_tx_announce_next(tx);
	if (tag && !tx->tagged)
		tx->tagged = true;
	if (tx->tagged) {
		ch->reserved = tag;
		ch->unwanted = 0;
	}
}

/* The port's counters (the CLI and sysfs read them) of @s sent. */
static inline void count_sent(struct floe_sender *tx,
			      const floe_sample_mut *s)
{
	floe_stat_add(&tx->stats->sent, 1);
	if (s->len != 1) /* a loan has at least one */
		floe_stat_add(&tx->stats->sent_extra, s->len - 1);
}

/* What follows a send's deliveries (@delivered of them): wake the
 * receivers that wait, count, keep the history, end the loan, take back
 * ahead. */
static inline __attribute__((always_inline)) int
send_end(struct floe_sender *tx, floe_sample_mut *s,
	 const struct floe_target *to, int delivered)
{
	if (delivered)
		wake_receivers(tx, to);
	count_sent(tx, s);
	keep_history(tx, s->chunk);
	floe_tx_end_sent_loan(s, delivered);
	reclaim_ahead(tx);
	return delivered;
}

/* send_end() out of line, for floe_sender_publish's tail calls. */
static __attribute__((noinline)) int send_end_slow(struct floe_sender *tx,
						   floe_sample_mut *s,
						   int delivered)
{
	return send_end(tx, s, NULL, delivered);
}

/* A broadcast whose delivery to the connection at @k in the list needs
 * deliver_slow, with @delivered to those after it. */
static __attribute__((noinline)) int send_from(struct floe_sender *tx,
					       floe_sample_mut *s, uint32_t k,
					       uint32_t gen, int delivered)
{
	delivered += deliver_from(tx, k, s->chunk, gen, NULL);
	return send_end_slow(tx, s, delivered);
}

/* reclaim_ahead() out of line, then @delivered. */
static __attribute__((noinline)) int reclaim_after(struct floe_sender *tx,
						   int delivered)
{
	reclaim_ahead(tx);
	return delivered;
}

int floe_sender_send(floe_sample_mut *s, const struct floe_target *to,
		     uint64_t tag, uint64_t *reached)
{
	struct floe_sender *tx;
	uint32_t gen;
	int delivered;

	if (!s || !s->in_use)
		return FLOE_E_INVALID;
	tx = s->tx;
	gen = floe_tx_chunk_gen(tx, s->chunk);
	update_if_changed(tx);
	stamp(tx, s, tag);
	if (to) {
		delivered = to->slot < tx->dir->receivers &&
			    tx->conns[to->slot].sub_id == to->id &&
			    deliver(tx, to->slot, s->chunk, gen);
		if (reached && delivered)
			reached[to->slot] = to->id;
	} else {
		delivered = deliver_all(tx, s->chunk, gen, reached);
	}
	return send_end(tx, s, to, delivered);
}

/* Would a receiver of a broadcast just made need waking? Inline and
 * without calls, like the rest of the common publish. */
static inline bool anyone_waits(struct floe_sender *tx)
{
	if (!tx->wake_registered)
		return true; /* send_end fences first */
	atomic_signal_fence(memory_order_seq_cst);
	for (uint32_t k = 0; k < tx->nlive; k++)
		if (atomic_load_explicit(&floe_dir_wake(tx->dir, tx->live[k])->want,
					 memory_order_relaxed))
			return true;
	return false;
}

/*
 * The common publish, a broadcast that needs nothing out of the way,
 * makes no calls: everything else is a tail call (floe_sender_send,
 * send_from, send_end_slow, reclaim_after). So fewer values must outlive
 * a call and fewer are spilled (two, and two per receiver, against eight
 * or nine and their reloads in floe_sender_send): on x86 every store, a
 * spill among them, leaves the core in order behind the stores to lines
 * the receivers hold, and it is stores that bound the rate of a publisher
 * (bench/README.md, sixth pass).
 */
int floe_sender_publish(floe_sample_mut *s)
{
	struct floe_sender *tx;
	int delivered = 0;
	uint32_t gen;

	if (!s || !s->in_use)
		return FLOE_E_INVALID;
	tx = s->tx;
	if (conns_changed(tx))
		return floe_sender_send(s, NULL, 0, NULL);
	gen = floe_tx_chunk_gen(tx, s->chunk);
	stamp(tx, s, 0);
	/* backwards: a delivery may end the connection it is at */
	for (uint32_t k = tx->nlive; k-- > 0;) {
		if (!deliver_fast(tx, tx->live[k], s->chunk, gen))
			return send_from(tx, s, k, gen, delivered);
		delivered++;
	}
	if (!delivered || tx->dir->history || anyone_waits(tx))
		return send_end_slow(tx, s, delivered);
	count_sent(tx, s);
	floe_tx_end_sent_loan(s, delivered);
	if (tx->reclaim_due || !floe_pool_free_count(&tx->pool))
		return reclaim_after(tx, delivered);
	return delivered;
}

void floe_sender_unwant(struct floe_sender *tx, uint32_t chunk, uint64_t tag)
{
	struct floe_chunk_header *ch;

	/* back in the pool, its memory may be gone with its generation */
	if (chunk >= tx->chunk_count || !tx->refcnt[chunk])
		return;
	ch = floe_tx_chunk(tx, chunk);
	tx->tagged = true;
	/* or it carries a newer sample (loaned, not yet sent: its send
	 * clears the flag) */
	if (__atomic_load_n(&ch->reserved, __ATOMIC_RELAXED) == tag)
		__atomic_store_n(&ch->unwanted, 1, __ATOMIC_RELAXED);
}

int floe_sender_mark(struct floe_sender *tx, const struct floe_target *to,
		     uint64_t tag)
{
	const struct floe_dir *d = tx->dir;
	struct tx_conn *c;
	enum floe_ring_result r;

	update_if_changed(tx);
	if (to->slot >= d->receivers)
		return FLOE_E_INVALID;
	c = &tx->conns[to->slot];
	if (c->sub_id != to->id)
		return FLOE_E_DEAD;
	/* Markers may use the ring's capacity beyond the data limit. */
	r = floe_ring_push(c->sub_ring, d->sub_cap, d->sub_cap, &c->sub_prod,
			   floe_marker_entry(c->epoch, tag));
	if (r == FLOE_RING_CORRUPT)
		quarantine(tx, to->slot);
	if (r != FLOE_RING_OK)
		return FLOE_E_WOULD_BLOCK;
	wake_receivers(tx, to);
	return 0;
}
