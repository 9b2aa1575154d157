// SPDX-License-Identifier: MIT
/*
 * Slots and ports, for every pattern. A port registers with the backend
 * and takes a slot of its kind in its service's segment; the slot's owner
 * word moves through the states of struct floe_slot (lib/layout.h) by
 * compare-and-swap only, so that crashes at any point leave a state that
 * someone else can finish.
 *
 * A sender that goes (leaves or dies) while its queues hold samples leaves
 * them in their connections (struct floe_conn): its slot is freed at once,
 * its data stays until the last receiver reading them closes its
 * connection, and whoever sees that unlinks the data.
 */
#include <string.h>

#include "base/log.h"
#include "internal.h"

struct floe_slot *floe_svc_slot(floe_service *svc, enum floe_slot_kind kind,
				uint32_t i)
{
	return (struct floe_slot *)((char *)svc->seg.addr +
				    svc->lay.slots_off[kind]) +
	       i;
}

struct floe_port_stats *floe_svc_stats(floe_service *svc,
				       enum floe_slot_kind kind, uint32_t i)
{
	return (struct floe_port_stats *)((char *)svc->seg.addr +
					  svc->lay.stats_off[kind]) +
	       i;
}

/* A new port's traffic starts at zero (by id: readers tell ports apart). */
static void stats_reset(floe_service *svc, enum floe_slot_kind kind,
			uint32_t i)
{
	struct floe_port_stats *st;

	if (kind == FLOE_SLOT_NODE)
		return;
	st = floe_svc_stats(svc, kind, i);
	atomic_store_explicit(&st->sent, 0, memory_order_relaxed);
	atomic_store_explicit(&st->sent_extra, 0, memory_order_relaxed);
	atomic_store_explicit(&st->received, 0, memory_order_relaxed);
	atomic_store_explicit(&st->received_extra, 0, memory_order_relaxed);
	atomic_store_explicit(&st->overflowed, 0, memory_order_relaxed);
	atomic_store_explicit(&st->undelivered, 0, memory_order_relaxed);
}

static void bump_changes(floe_service *svc)
{
	atomic_fetch_add_explicit(&svc->hdr->changes, 1, memory_order_acq_rel);
}

/*
 * A slot's ref is written while the slot is claimed and read by anyone
 * who sees it owned, without a lock: word by word, atomically, so that a
 * reader racing a new claimer gets a torn copy it then rejects (the owner
 * word is re-read), never undefined behaviour.
 */
#define REF_WORDS (sizeof(struct floe_port_ref) / sizeof(uint64_t))
_Static_assert(sizeof(struct floe_port_ref) % sizeof(uint64_t) == 0,
	       "a slot's ref is copied in whole words");

static void ref_store(struct floe_port_ref *dst, const struct floe_port_ref *src)
{
	uint64_t w[REF_WORDS];

	memcpy(w, src, sizeof(w));
	for (size_t k = 0; k < REF_WORDS; k++)
		__atomic_store_n((uint64_t *)dst + k, w[k], __ATOMIC_RELAXED);
}

static void ref_load(struct floe_port_ref *dst, const struct floe_port_ref *src)
{
	uint64_t w[REF_WORDS];

	for (size_t k = 0; k < REF_WORDS; k++)
		w[k] = __atomic_load_n((const uint64_t *)src + k,
				       __ATOMIC_RELAXED);
	memcpy(dst, w, sizeof(w));
}

uint64_t floe_svc_slot_owner(floe_service *svc, enum floe_slot_kind kind,
			     uint32_t i, struct floe_port_ref *ref)
{
	struct floe_slot *slot = floe_svc_slot(svc, kind, i);
	uint64_t raw = atomic_load_explicit(&slot->owner, memory_order_acquire);

	if (!raw || (raw & FLOE_SLOT_STATE))
		return 0;
	ref_load(ref, &slot->ref);
	/* The ref must belong to the owner read before it (a slot freed and
	 * taken again in between would mix two ports). */
	atomic_thread_fence(memory_order_acquire);
	if (ref->id != raw ||
	    atomic_load_explicit(&slot->owner, memory_order_acquire) != raw)
		return 0;
	return raw;
}

static bool port_lives(floe_service *svc, enum floe_slot_kind kind,
		       uint32_t i, uint64_t id);
static bool carry_full(const struct floe_dir *d, struct floe_conn *c);

/* What a new sender of a free row meets in its connections. */
enum row_state {
	ROW_CLEAN,   /* no gone sender's leftovers for a live receiver */
	ROW_CARRIES, /* some, and it can queue behind them all */
	ROW_FULL,    /* some receiver it could not reach until that reads */
};

/*
 * The state of free row @i (of the directions whose senders are @kind).
 * Connections to receivers that are gone are closed on the way.
 */
static enum row_state row_state(floe_service *svc, enum floe_slot_kind kind,
				uint32_t i)
{
	enum row_state state = ROW_CLEAN;

	for (uint32_t k = 0; k < svc->ndirs; k++) {
		const struct floe_dir *d = &svc->dirs[k];

		for (uint32_t j = 0; d->sender == kind && j < d->receivers;
		     j++) {
			struct floe_conn *c = floe_dir_conn(d, i, j);
			uint64_t sub = atomic_load(&c->sub_id);

			if (!sub)
				continue;
			if (port_lives(svc, d->receiver, j, sub)) {
				if (carry_full(d, c))
					state = ROW_FULL;
				else if (state == ROW_CLEAN)
					state = ROW_CARRIES;
			} else if (atomic_compare_exchange_strong(&c->sub_id,
								  &sub, 0)) {
				floe_svc_leftovers_closed(
					d, i, atomic_load(&c->pub_id));
				floe_svc_forget_all_carried(d, i, j);
			}
		}
	}
	return state;
}

/*
 * Take a free slot. A sender prefers a row without gone senders'
 * leftovers, then one where it can queue behind them for every receiver
 * (struct floe_conn), and only then one where a receiver's connection
 * carries all it can: it reaches that receiver once it read them.
 */
static int try_claim(floe_service *svc, enum floe_slot_kind kind,
		     const struct floe_port_ref *ref, uint32_t buffer_size)
{
	struct floe_backend *be = svc->node->be;
	uint64_t claim = FLOE_SLOT_CLAIMING |
			 (be->ops->claim_key(be, ref) &
			  (FLOE_CLAIM_KEY_LIMIT - 1));

	for (enum row_state accept = ROW_CLEAN; accept <= ROW_FULL; accept++) {
		for (uint32_t i = 0; i < svc->lay.slots[kind]; i++) {
			struct floe_slot *slot = floe_svc_slot(svc, kind, i);
			uint64_t expected = 0;

			if (atomic_load_explicit(&slot->owner,
						 memory_order_relaxed) ||
			    (accept < ROW_FULL &&
			     row_state(svc, kind, i) > accept) ||
			    !atomic_compare_exchange_strong(&slot->owner,
							    &expected, claim))
				continue;
			ref_store(&slot->ref, ref);
			__atomic_store_n(&slot->buffer_size, buffer_size,
					 __ATOMIC_RELAXED);
			stats_reset(svc, kind, i);
			/* fails only if we were taken for dead, or a peer
			 * wrote over the slot: either way our ref may be
			 * torn, so give up */
			expected = claim;
			if (!atomic_compare_exchange_strong(&slot->owner,
							    &expected, ref->id))
				return FLOE_E_CORRUPT;
			bump_changes(svc);
			return (int)i;
		}
	}
	return FLOE_E_PORT_LIMIT;
}

int floe_svc_claim(floe_service *svc, enum floe_slot_kind kind,
		   const struct floe_port_ref *ref, uint32_t buffer_size)
{
	int i = try_claim(svc, kind, ref, buffer_size);

	/* Full: slots of dead ports may be what fills it. */
	if (i == FLOE_E_PORT_LIMIT && floe_svc_reclaim_dead(svc) > 0)
		i = try_claim(svc, kind, ref, buffer_size);
	if (i == FLOE_E_PORT_LIMIT && kind == FLOE_SLOT_NODE)
		return FLOE_E_NODE_LIMIT;
	return i;
}

void floe_svc_release(floe_service *svc, enum floe_slot_kind kind, uint32_t i,
		      uint64_t id)
{
	struct floe_slot *slot = floe_svc_slot(svc, kind, i);

	/* fails only if a reclaimer took over (it frees the slot then) or a
	 * peer overwrote it: never free a slot that is not ours */
	atomic_compare_exchange_strong(&slot->owner, &id, 0);
	bump_changes(svc);
}

/* Is the port in slot @i of @kind the one with @id, and alive? */
static bool port_lives(floe_service *svc, enum floe_slot_kind kind,
		       uint32_t i, uint64_t id)
{
	struct floe_backend *be = svc->node->be;
	struct floe_port_ref ref;

	return floe_svc_slot_owner(svc, kind, i, &ref) == id &&
	       be->ops->port_liveness(be, &ref) != FLOE_PORT_DEAD;
}

static bool carries(struct floe_conn *c, uint64_t id)
{
	for (int k = 0; k < FLOE_CONN_CARRIED; k++)
		if (atomic_load(&c->carried_id[k]) == id)
			return true;
	return false;
}

/* Does a live receiver still read leftovers of the gone sender @id from
 * row @i? Connections to receivers found gone are closed on the way. */
static bool still_read(const struct floe_dir *d, uint32_t i, uint64_t id)
{
	for (uint32_t j = 0; j < d->receivers; j++) {
		struct floe_conn *c = floe_dir_conn(d, i, j);
		uint64_t sub = atomic_load(&c->sub_id);

		if (!sub || (atomic_load(&c->pub_id) != id && !carries(c, id)))
			continue;
		if (port_lives(d->svc, d->receiver, j, sub))
			return true;
		if (atomic_load(&c->pub_id) == id)
			atomic_compare_exchange_strong(&c->sub_id, &sub, 0);
		for (int k = 0; k < FLOE_CONN_CARRIED; k++) {
			uint64_t mine = id;

			atomic_compare_exchange_strong(&c->carried_id[k],
						       &mine, 0);
		}
	}
	return false;
}

void floe_svc_leftovers_closed(const struct floe_dir *d, uint32_t i,
			       uint64_t id)
{
	if (id && !still_read(d, i, id))
		floe_unlink_publisher_data(d->svc->node->be, id);
	bump_changes(d->svc);
}

void floe_svc_forget_carried(const struct floe_dir *d, uint32_t i,
			     uint32_t j, uint64_t id)
{
	struct floe_conn *c = floe_dir_conn(d, i, j);
	bool forgot = false;

	for (int k = 0; id && k < FLOE_CONN_CARRIED; k++) {
		uint64_t mine = id;

		forgot |= atomic_compare_exchange_strong(&c->carried_id[k],
							 &mine, 0);
	}
	if (forgot)
		floe_svc_leftovers_closed(d, i, id);
}

void floe_svc_forget_all_carried(const struct floe_dir *d, uint32_t i,
				 uint32_t j)
{
	struct floe_conn *c = floe_dir_conn(d, i, j);

	for (int k = 0; k < FLOE_CONN_CARRIED; k++)
		floe_svc_forget_carried(d, i, j,
					atomic_load(&c->carried_id[k]));
}

/* Is an entry of @epoch still queued in @c? */
static bool queued(const struct floe_dir *d, struct floe_conn *c,
		   uint32_t epoch)
{
	struct floe_ring *r = floe_dir_sub_ring(d, c);
	uint64_t h = atomic_load(&r->head), t = atomic_load(&r->tail);

	for (uint64_t k = h; t - h <= d->sub_cap && k != t; k++)
		if (FLOE_ENTRY_EPOCH(atomic_load(&r->entries[k % d->sub_cap])) ==
		    (epoch & 0xffff))
			return true;
	return false;
}

/*
 * Would a new sender of @c's row have to wait for its receiver: its
 * sender's entries are still queued and every carried record is in use?
 */
static bool carry_full(const struct floe_dir *d, struct floe_conn *c)
{
	for (int k = 0; k < FLOE_CONN_CARRIED; k++)
		if (!atomic_load(&c->carried_id[k]))
			return false;
	return queued(d, c, atomic_load(&c->epoch));
}

enum floe_takeover floe_svc_take_over(const struct floe_dir *d, uint32_t i,
				      uint32_t j, uint64_t me, uint64_t *done)
{
	struct floe_conn *c = floe_dir_conn(d, i, j);
	uint64_t sub = atomic_load(&c->sub_id), cur = atomic_load(&c->pub_id);

	*done = 0;
	if (!sub || cur == me)
		return FLOE_TAKE_FRESH;
	if (port_lives(d->svc, d->receiver, j, sub) &&
	    floe_ring_count(floe_dir_sub_ring(d, c), d->sub_cap)) {
		/* its sender queued nothing that is still there: only the
		 * carried ones' remain */
		if (!queued(d, c, atomic_load(&c->epoch))) {
			*done = cur;
			return FLOE_TAKE_CARRY;
		}
		/* queue behind them, in a free record (the epoch first:
		 * whoever sees the id reads it) */
		for (int k = 0; k < FLOE_CONN_CARRIED; k++) {
			uint32_t epoch = atomic_load(&c->epoch);
			uint64_t none = 0;

			if (atomic_load(&c->carried_id[k]))
				continue;
			atomic_store(&c->carried_epoch[k], epoch);
			if (!atomic_compare_exchange_strong(&c->carried_id[k],
							    &none, cur))
				continue;
			/* The receiver may have taken the last of them
			 * before the record was there, and forgotten the
			 * record before it was: nobody would forget it, and
			 * with every record taken later senders wait. */
			none = cur;
			if (!queued(d, c, epoch) &&
			    atomic_compare_exchange_strong(&c->carried_id[k],
							   &none, 0))
				*done = cur;
			return FLOE_TAKE_CARRY;
		}
		return FLOE_TAKE_WAIT;
	}
	/* it took them all (it holds what it still reads mapped), or is
	 * gone (or closed it just now itself: then waiting for a change
	 * would miss the one it is about to announce) */
	if (!atomic_compare_exchange_strong(&c->sub_id, &sub, 0) && sub)
		return FLOE_TAKE_WAIT;
	floe_svc_leftovers_closed(d, i, cur);
	floe_svc_forget_all_carried(d, i, j);
	return FLOE_TAKE_FRESH;
}

/*
 * Close the connections a gone receiver @id of column @j still has open
 * from gone senders (a live sender disconnects it itself), and forget the
 * leftovers carried for it, finishing the senders whose last they were.
 */
static void receiver_gone(const struct floe_dir *d, uint32_t j, uint64_t id)
{
	for (uint32_t i = 0; i < d->senders; i++) {
		struct floe_conn *c = floe_dir_conn(d, i, j);
		uint64_t sub = id, pub = atomic_load(&c->pub_id);

		if (atomic_load(&c->sub_id) != id)
			continue;
		floe_svc_forget_all_carried(d, i, j);
		if (port_lives(d->svc, d->sender, i, pub) ||
		    !atomic_compare_exchange_strong(&c->sub_id, &sub, 0))
			continue;
		floe_svc_leftovers_closed(d, i, pub);
	}
}

/* Clean up after the gone port of a tombstone @raw in slot @i of @kind and
 * free the slot; true if this call freed it. A sender's data stays for
 * receivers still reading its leftovers. */
static bool finish_reclaim(floe_service *svc, enum floe_slot_kind kind,
			   uint32_t i, uint64_t raw)
{
	struct floe_slot *slot = floe_svc_slot(svc, kind, i);
	uint64_t id = raw & ~FLOE_SLOT_STATE;

	for (uint32_t k = 0; k < svc->ndirs; k++) {
		if (svc->dirs[k].sender == kind)
			floe_svc_leftovers_closed(&svc->dirs[k], i, id);
		if (svc->dirs[k].receiver == kind)
			receiver_gone(&svc->dirs[k], i, id);
	}
	if (!atomic_compare_exchange_strong(&slot->owner, &raw, 0))
		return false;
	bump_changes(svc);
	if (svc->pattern->port_gone)
		svc->pattern->port_gone(svc, kind, i);
	return true;
}

int floe_svc_reclaim_dead(floe_service *svc)
{
	struct floe_backend *be = svc->node->be;
	int freed = 0;

	for (int k = 0; k < FLOE_SLOT_KINDS; k++) {
		for (uint32_t i = 0; i < svc->lay.slots[k]; i++) {
			struct floe_slot *slot = floe_svc_slot(svc, k, i);
			uint64_t raw = atomic_load(&slot->owner);
			struct floe_port_ref ref;
			uint64_t owner;

			if (raw & FLOE_SLOT_TOMBSTONE) {
				freed += finish_reclaim(svc, k, i, raw);
				continue;
			}
			if (raw & FLOE_SLOT_CLAIMING) {
				/* killed before its ref was written: it owns
				 * nothing else yet */
				if (be->ops->claim_liveness(
					    be, raw & ~FLOE_SLOT_CLAIMING) ==
					    FLOE_PORT_DEAD &&
				    atomic_compare_exchange_strong(&slot->owner,
								   &raw, 0)) {
					bump_changes(svc);
					freed++;
				}
				continue;
			}
			owner = floe_svc_slot_owner(svc, k, i, &ref);
			if (!owner || be->ops->port_liveness(be, &ref) !=
					      FLOE_PORT_DEAD)
				continue;
			raw = owner;
			if (!atomic_compare_exchange_strong(
				    &slot->owner, &raw,
				    owner | FLOE_SLOT_TOMBSTONE))
				continue;
			freed += finish_reclaim(svc, k, i,
						owner | FLOE_SLOT_TOMBSTONE);
			/* only the reclaimer that won the slot says so */
			if (k == FLOE_SLOT_NODE)
				floe_log(FLOE_LOG_WARN, "service '%s': node %llu "
					 "is dead; reclaimed its slot",
					 svc->name, (unsigned long long)owner);
			else
				floe_log(FLOE_LOG_WARN, "service '%s': %s %llu "
					 "of node %llu is dead; reclaimed its "
					 "slot and what it held in its "
					 "connections", svc->name,
					 floe_port_role_name(
						 svc->pattern->roles[k]),
					 (unsigned long long)owner,
					 (unsigned long long)ref.node_id);
		}
	}
	return freed;
}

void floe_svc_for_each_sender(floe_service *svc,
			      void (*fn)(uint64_t id, void *ctx), void *ctx)
{
	for (uint32_t k = 0; k < svc->ndirs; k++) {
		const struct floe_dir *d = &svc->dirs[k];

		for (uint32_t i = 0; i < d->senders; i++) {
			uint64_t owner = atomic_load(
				&floe_svc_slot(svc, d->sender, i)->owner);

			if (owner && !(owner & FLOE_SLOT_CLAIMING))
				fn(owner & ~FLOE_SLOT_STATE, ctx);
			for (uint32_t j = 0; j < d->receivers; j++) {
				struct floe_conn *c = floe_dir_conn(d, i, j);

				if (atomic_load(&c->sub_id))
					fn(atomic_load(&c->pub_id), ctx);
				for (int n = 0; n < FLOE_CONN_CARRIED; n++)
					if (atomic_load(&c->carried_id[n]))
						fn(atomic_load(&c->carried_id[n]),
						   ctx);
			}
		}
	}
}

/* True if some node slot is taken by a node that may be alive. */
bool floe_svc_in_use(floe_service *svc)
{
	struct floe_backend *be = svc->node->be;

	for (uint32_t i = 0; i < svc->lay.slots[FLOE_SLOT_NODE]; i++) {
		struct floe_slot *slot = floe_svc_slot(svc, FLOE_SLOT_NODE, i);
		uint64_t raw = atomic_load(&slot->owner);
		struct floe_port_ref ref;

		if (!raw || (raw & FLOE_SLOT_TOMBSTONE))
			continue;
		if (raw & FLOE_SLOT_CLAIMING) {
			if (be->ops->claim_liveness(
				    be, raw & ~FLOE_SLOT_CLAIMING) !=
			    FLOE_PORT_DEAD)
				return true;
			continue;
		}
		/* freed or re-claimed since: look at it again */
		if (!floe_svc_slot_owner(svc, FLOE_SLOT_NODE, i, &ref))
			return true;
		if (be->ops->port_liveness(be, &ref) != FLOE_PORT_DEAD)
			return true;
	}
	return false;
}

static void unlink_data(uint64_t id, void *be)
{
	floe_unlink_publisher_data(be, id);
}

uint64_t floe_svc_removing_word(floe_node *node)
{
	struct floe_backend *be = node->be;

	return FLOE_SVC_REMOVING | (be->ops->claim_key(be, &node->ref) &
				    (FLOE_CLAIM_KEY_LIMIT - 1));
}

/* Does the service's name still lead to the segment we map? (Then it
 * stays so: we hold its REMOVING state, and only its holder unlinks.) */
static bool name_still_ours(floe_service *svc)
{
	struct floe_backend *be = svc->node->be;
	struct floe_seg seg = { .fd = -1 };
	bool ours = false;

	if (be->ops->seg_open(be, svc->seg_name, false, &seg))
		return false;
	if (seg.size >= sizeof(struct floe_svc_header))
		ours = ((struct floe_svc_header *)seg.addr)->incarnation ==
		       svc->hdr->incarnation;
	floe_seg_close(&seg);
	return ours;
}

/*
 * Move the state from @from to our REMOVING word and remove the service
 * unless a node may still use it. A remover that finds a live node backs
 * out, then looks again: the node it saw may have left meanwhile and
 * failed its own attempt while this one held REMOVING, and then nobody
 * else would remove the service.
 */
static bool remove_from(floe_service *svc, uint64_t from)
{
	struct floe_backend *be = svc->node->be;
	uint64_t removing = floe_svc_removing_word(svc->node);
	int ret;

	for (int attempt = 0;; attempt++) {
		uint64_t expected = from;

		if (!atomic_compare_exchange_strong(&svc->hdr->state, &expected,
						    removing))
			return false;
		/* Finishing a dead remover's work: it may have unlinked the
		 * name already (and a new service may have it now). Then
		 * nobody can find this one: it is never READY again, even
		 * if an opener that mapped it before holds a node slot (it
		 * sees REMOVING and backs out). */
		if (from != FLOE_SVC_READY && !name_still_ours(svc)) {
			floe_svc_for_each_sender(svc, unlink_data, be);
			return true;
		}
		if (!floe_svc_in_use(svc))
			break;
		atomic_store(&svc->hdr->state, FLOE_SVC_READY);
		if (attempt == 100 || floe_svc_in_use(svc))
			return false;
		from = FLOE_SVC_READY;
	}
	ret = be->ops->seg_unlink(be, svc->seg_name);
	/* e.g. another user's service: leave it usable, not half-removed */
	if (ret) {
		atomic_store(&svc->hdr->state, FLOE_SVC_READY);
		return false;
	}
	floe_svc_for_each_sender(svc, unlink_data, be);
	return true;
}

bool floe_svc_try_remove(floe_service *svc)
{
	return remove_from(svc, FLOE_SVC_READY);
}

bool floe_svc_finish_removal(floe_service *svc, uint64_t stuck)
{
	struct floe_backend *be = svc->node->be;

	if (!(stuck & FLOE_SVC_REMOVING) ||
	    be->ops->claim_liveness(be, stuck & ~FLOE_SVC_REMOVING) !=
		    FLOE_PORT_DEAD)
		return false;
	return remove_from(svc, stuck);
}

int floe_port_join(floe_service *svc, enum floe_slot_kind kind,
		   uint32_t buffer_size, struct floe_port *port)
{
	struct floe_backend *be = svc->node->be;
	int ret;

	port->svc = svc;
	port->kind = kind;
	ret = be->ops->port_register(be, svc->pattern->roles[kind], svc->name,
				     svc->node->ref.id, &port->ref);
	if (ret)
		return ret;
	ret = floe_svc_claim(svc, kind, &port->ref, buffer_size);
	if (ret < 0) {
		be->ops->port_unregister(be, &port->ref);
		return ret;
	}
	port->slot = (uint32_t)ret;
	atomic_fetch_add(&svc->ports, 1);
	return 0;
}

void floe_port_leave(struct floe_port *port)
{
	floe_service *svc = port->svc;

	floe_svc_release(svc, port->kind, port->slot, port->ref.id);
	svc->node->be->ops->port_unregister(svc->node->be, &port->ref);
	atomic_fetch_sub(&svc->ports, 1);
}
