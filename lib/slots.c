// SPDX-License-Identifier: MIT
/*
 * Slots and ports, for every pattern. A port registers with the backend
 * and takes a slot of its kind in its service's segment; the slot's owner
 * word moves through the states of struct floe_slot (lib/layout.h) by
 * compare-and-swap only, so that crashes at any point leave a state that
 * someone else can finish.
 *
 * A sender that goes (leaves or dies) while its queues hold samples
 * lingers: its slot and data stay until every receiver it was connected to
 * has closed that connection (it took everything, or left) or is gone.
 * Whoever sees the last one closed frees the slot and unlinks the data.
 */
#include <string.h>

#include "internal.h"

struct floe_slot *floe_svc_slot(floe_service *svc, enum floe_slot_kind kind,
				uint32_t i)
{
	return (struct floe_slot *)((char *)svc->seg.addr +
				    svc->lay.slots_off[kind]) +
	       i;
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

uint64_t floe_svc_slot_peer(floe_service *svc, enum floe_slot_kind kind,
			    uint32_t i, struct floe_port_ref *ref)
{
	struct floe_slot *slot = floe_svc_slot(svc, kind, i);
	uint64_t raw = atomic_load_explicit(&slot->owner, memory_order_acquire);

	if (!raw || (raw & (FLOE_SLOT_TOMBSTONE | FLOE_SLOT_CLAIMING)))
		return 0;
	ref_load(ref, &slot->ref);
	/* The ref must belong to the owner read before it (a slot freed and
	 * taken again in between would mix two ports). */
	atomic_thread_fence(memory_order_acquire);
	if (ref->id != (raw & ~FLOE_SLOT_STATE) ||
	    atomic_load_explicit(&slot->owner, memory_order_acquire) != raw)
		return 0;
	return raw;
}

uint64_t floe_svc_slot_owner(floe_service *svc, enum floe_slot_kind kind,
			     uint32_t i, struct floe_port_ref *ref)
{
	uint64_t raw = floe_svc_slot_peer(svc, kind, i, ref);

	return raw & FLOE_SLOT_LINGERING ? 0 : raw;
}

static int try_claim(floe_service *svc, enum floe_slot_kind kind,
		     const struct floe_port_ref *ref, uint32_t buffer_size)
{
	struct floe_backend *be = svc->node->be;
	uint64_t claim = FLOE_SLOT_CLAIMING |
			 (be->ops->claim_key(be, ref) &
			  (FLOE_CLAIM_KEY_LIMIT - 1));

	for (uint32_t i = 0; i < svc->lay.slots[kind]; i++) {
		struct floe_slot *slot = floe_svc_slot(svc, kind, i);
		uint64_t expected = 0;

		if (atomic_load_explicit(&slot->owner, memory_order_relaxed))
			continue;
		if (!atomic_compare_exchange_strong(&slot->owner, &expected,
						    claim))
			continue;
		ref_store(&slot->ref, ref);
		__atomic_store_n(&slot->buffer_size, buffer_size,
				 __ATOMIC_RELAXED);
		/* fails only if we were taken for dead, or a peer wrote over
		 * the slot: either way our ref may be torn, so give up */
		expected = claim;
		if (!atomic_compare_exchange_strong(&slot->owner, &expected,
						    ref->id))
			return FLOE_E_CORRUPT;
		bump_changes(svc);
		return (int)i;
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

/* The direction whose senders are slots of @kind, or NULL: those ports
 * send nothing (and own no data). */
static const struct floe_dir *sender_dir(floe_service *svc,
					 enum floe_slot_kind kind)
{
	for (uint32_t k = 0; k < svc->ndirs; k++)
		if (svc->dirs[k].sender == kind)
			return &svc->dirs[k];
	return NULL;
}

/*
 * Does a receiver still read from the gone sender @id of slot @i? Its
 * connection is open (the receiver has not closed it) and the receiver
 * lives. Connections of receivers found gone are closed on the way.
 */
static bool still_read(const struct floe_dir *d, uint32_t i, uint64_t id)
{
	struct floe_backend *be = d->svc->node->be;

	for (uint32_t j = 0; j < d->receivers; j++) {
		struct floe_conn *c = floe_dir_conn(d, i, j);
		uint64_t sub = atomic_load(&c->sub_id);
		struct floe_port_ref ref;

		if (!sub || atomic_load(&c->pub_id) != id)
			continue;
		if (floe_svc_slot_owner(d->svc, d->receiver, j, &ref) == sub &&
		    be->ops->port_liveness(be, &ref) != FLOE_PORT_DEAD)
			return true;
		atomic_compare_exchange_strong(&c->sub_id, &sub, 0);
	}
	return false;
}

/* Clean up after the gone port of a tombstone @raw and free the slot
 * (unlinking twice is harmless); true if this call freed it. */
static bool finish_reclaim(floe_service *svc, enum floe_slot_kind kind,
			   struct floe_slot *slot, uint64_t raw)
{
	if (sender_dir(svc, kind))
		floe_unlink_publisher_data(svc->node->be,
					   raw & ~FLOE_SLOT_STATE);
	if (!atomic_compare_exchange_strong(&slot->owner, &raw, 0))
		return false;
	bump_changes(svc);
	return true;
}

/* Free the slot of a lingering sender (@raw) once nobody reads from it;
 * true if this call freed it. */
static bool finish_lingering(const struct floe_dir *d, uint32_t i,
			     uint64_t raw)
{
	struct floe_slot *slot = floe_svc_slot(d->svc, d->sender, i);
	uint64_t id = raw & ~FLOE_SLOT_STATE;

	if (still_read(d, i, id) ||
	    !atomic_compare_exchange_strong(&slot->owner, &raw,
					    id | FLOE_SLOT_TOMBSTONE))
		return false;
	return finish_reclaim(d->svc, d->sender, slot,
			      id | FLOE_SLOT_TOMBSTONE);
}

/* Sender @id of slot @i is gone: let it linger; true if the slot is free
 * already (nobody reads from it). */
static bool linger(const struct floe_dir *d, uint32_t i, uint64_t id)
{
	uint64_t raw = id;

	if (!atomic_compare_exchange_strong(
		    &floe_svc_slot(d->svc, d->sender, i)->owner, &raw,
		    id | FLOE_SLOT_LINGERING))
		return false;
	bump_changes(d->svc);
	return finish_lingering(d, i, id | FLOE_SLOT_LINGERING);
}

void floe_svc_sender_released(const struct floe_dir *d, uint32_t i,
			      uint64_t id)
{
	struct floe_backend *be = d->svc->node->be;
	struct floe_port_ref ref;
	uint64_t raw = floe_svc_slot_peer(d->svc, d->sender, i, &ref);

	if (raw == (id | FLOE_SLOT_LINGERING))
		finish_lingering(d, i, raw);
	else if (raw == id &&
		 be->ops->port_liveness(be, &ref) == FLOE_PORT_DEAD)
		linger(d, i, id);
}

int floe_svc_reclaim_dead(floe_service *svc)
{
	struct floe_backend *be = svc->node->be;
	int freed = 0;

	for (int k = 0; k < FLOE_SLOT_KINDS; k++) {
		const struct floe_dir *d = sender_dir(svc, k);

		for (uint32_t i = 0; i < svc->lay.slots[k]; i++) {
			struct floe_slot *slot = floe_svc_slot(svc, k, i);
			uint64_t raw = atomic_load(&slot->owner);
			struct floe_port_ref ref;
			uint64_t owner;

			if (raw & FLOE_SLOT_TOMBSTONE) {
				freed += finish_reclaim(svc, k, slot, raw);
				continue;
			}
			if (raw & FLOE_SLOT_LINGERING) {
				freed += d && finish_lingering(d, i, raw);
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
			/* what a dead sender queued is still to be read */
			if (d) {
				freed += linger(d, i, owner);
				continue;
			}
			raw = owner;
			if (atomic_compare_exchange_strong(
				    &slot->owner, &raw,
				    owner | FLOE_SLOT_TOMBSTONE))
				freed += finish_reclaim(
					svc, k, slot,
					owner | FLOE_SLOT_TOMBSTONE);
		}
	}
	return freed;
}

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

/*
 * A remover that finds a live node backs out, then looks again: the node
 * it saw may have left meanwhile and failed its own attempt while this one
 * held REMOVING, and then nobody else would remove the service.
 */
bool floe_svc_try_remove(floe_service *svc)
{
	for (int attempt = 0;; attempt++) {
		uint32_t ready = FLOE_SVC_READY;

		if (!atomic_compare_exchange_strong(&svc->hdr->state, &ready,
						    FLOE_SVC_REMOVING))
			return false;
		svc->hdr->remover = svc->node->ref;
		if (!floe_svc_in_use(svc))
			break;
		atomic_store(&svc->hdr->state, FLOE_SVC_READY);
		if (attempt == 100 || floe_svc_in_use(svc))
			return false;
	}
	/* e.g. another user's service: leave it usable, not half-removed */
	if (svc->node->be->ops->seg_unlink(svc->node->be, svc->seg_name)) {
		atomic_store(&svc->hdr->state, FLOE_SVC_READY);
		return false;
	}
	for (uint32_t k = 0; k < svc->ndirs; k++) {
		const struct floe_dir *d = &svc->dirs[k];

		for (uint32_t i = 0; i < d->senders; i++) {
			uint64_t owner = atomic_load(
				&floe_svc_slot(svc, d->sender, i)->owner);

			if (owner && !(owner & FLOE_SLOT_CLAIMING))
				floe_unlink_publisher_data(
					svc->node->be, owner & ~FLOE_SLOT_STATE);
		}
	}
	return true;
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

void floe_port_leave(struct floe_port *port, bool keep)
{
	floe_service *svc = port->svc;
	const struct floe_dir *d = sender_dir(svc, port->kind);

	if (keep && d)
		linger(d, port->slot, port->ref.id);
	else
		floe_svc_release(svc, port->kind, port->slot, port->ref.id);
	svc->node->be->ops->port_unregister(svc->node->be, &port->ref);
	atomic_fetch_sub(&svc->ports, 1);
}
