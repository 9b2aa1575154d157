// SPDX-License-Identifier: MIT
/*
 * Services: one shared segment per service name holding its static
 * configuration (type, QoS, attributes) and its dynamic state (slots of the
 * nodes and ports using it, and the queues connecting them).
 *
 * Lifetime: the creator fills the segment, then marks it READY. Every node
 * using the service holds a node slot; the last to leave (or whoever finds
 * all holders dead) moves it READY → REMOVING and unlinks it. An opener
 * takes its node slot first and checks the state after; the remover
 * changes the state first and checks the slots after. Both orders are
 * sequentially consistent, so one of the two sees the other and the
 * service is never removed under a new user.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bounds.h"
#include "internal.h"

#define SERVICE_READY_TIMEOUT_NS 2000000000ULL
#define DEFAULT_MODE 0600

FLOE_EXPORT void floe_pubsub_qos_init(struct floe_pubsub_qos *qos)
{
	*qos = (struct floe_pubsub_qos){
		.max_publishers = 2,
		.max_subscribers = 8,
		.max_nodes = 20,
		.subscriber_max_buffer_size = 4,
		.subscriber_max_borrowed_samples = 2,
		.history_size = 0,
		.publisher_max_loaned_samples = 2,
		.user_header_size = 0,
		.enable_safe_overflow = true,
	};
}

static void qos_to_shm(const struct floe_pubsub_qos *q, struct floe_shm_qos *s)
{
	*s = (struct floe_shm_qos){
		.max_publishers = q->max_publishers,
		.max_subscribers = q->max_subscribers,
		.max_nodes = q->max_nodes,
		.buffer = q->subscriber_max_buffer_size,
		.borrowed = q->subscriber_max_borrowed_samples,
		.history = q->history_size,
		.loans = q->publisher_max_loaned_samples,
		.user_header_size = q->user_header_size,
		.safe_overflow = q->enable_safe_overflow,
		.pattern = FLOE_PATTERN_PUBSUB,
	};
}

FLOE_EXPORT void floe_service_qos(const floe_service *svc,
				  struct floe_pubsub_qos *q)
{
	const struct floe_shm_qos *s = &svc->qos;

	*q = (struct floe_pubsub_qos){
		.max_publishers = s->max_publishers,
		.max_subscribers = s->max_subscribers,
		.max_nodes = s->max_nodes,
		.subscriber_max_buffer_size = s->buffer,
		.subscriber_max_borrowed_samples = s->borrowed,
		.history_size = s->history,
		.publisher_max_loaned_samples = s->loans,
		.user_header_size = s->user_header_size,
		.enable_safe_overflow = s->safe_overflow,
	};
}

static uint32_t slot_count(floe_service *svc, char kind)
{
	switch (kind) {
	case 'n':
		return svc->qos.max_nodes;
	case 'p':
		return svc->qos.max_publishers;
	default:
		return svc->qos.max_subscribers;
	}
}

struct floe_slot *floe_svc_slot(floe_service *svc, char kind, uint32_t i)
{
	uint64_t off = kind == 'n'   ? svc->lay.nodes_off
		       : kind == 'p' ? svc->lay.pubs_off
				     : svc->lay.subs_off;

	return (struct floe_slot *)((char *)svc->seg.addr + off) + i;
}

struct floe_conn *floe_svc_conn(floe_service *svc, uint32_t pub, uint32_t sub)
{
	uint64_t idx = (uint64_t)pub * svc->qos.max_subscribers + sub;

	return (struct floe_conn *)((char *)svc->seg.addr + svc->lay.conns_off +
				    idx * svc->lay.conn_stride);
}

struct floe_ring *floe_conn_sub_ring(floe_service *svc, struct floe_conn *c)
{
	return (struct floe_ring *)((char *)c + svc->lay.sub_ring_off);
}

struct floe_ring *floe_conn_comp_ring(floe_service *svc, struct floe_conn *c)
{
	return (struct floe_ring *)((char *)c + svc->lay.comp_ring_off);
}

uint64_t floe_svc_changes(floe_service *svc)
{
	return atomic_load_explicit(&svc->hdr->changes, memory_order_acquire);
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

uint64_t floe_svc_slot_peer(floe_service *svc, char kind, uint32_t i,
			    struct floe_port_ref *ref)
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

uint64_t floe_svc_slot_owner(floe_service *svc, char kind, uint32_t i,
			     struct floe_port_ref *ref)
{
	uint64_t raw = floe_svc_slot_peer(svc, kind, i, ref);

	return raw & FLOE_SLOT_LINGERING ? 0 : raw;
}

static int try_claim(floe_service *svc, char kind,
		     const struct floe_port_ref *ref, uint32_t buffer_size)
{
	struct floe_backend *be = svc->node->be;
	uint64_t claim = FLOE_SLOT_CLAIMING |
			 (be->ops->claim_key(be, ref) &
			  (FLOE_CLAIM_KEY_LIMIT - 1));
	uint32_t n = slot_count(svc, kind);

	for (uint32_t i = 0; i < n; i++) {
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

int floe_svc_claim(floe_service *svc, char kind, const struct floe_port_ref *ref,
		   uint32_t buffer_size)
{
	int i = try_claim(svc, kind, ref, buffer_size);

	/* Full: slots of dead ports may be what fills it. */
	if (i == FLOE_E_PORT_LIMIT && floe_svc_reclaim_dead(svc) > 0)
		i = try_claim(svc, kind, ref, buffer_size);
	if (i == FLOE_E_PORT_LIMIT && kind == 'n')
		return FLOE_E_NODE_LIMIT;
	return i;
}

void floe_svc_release(floe_service *svc, char kind, uint32_t i, uint64_t id)
{
	struct floe_slot *slot = floe_svc_slot(svc, kind, i);

	/* fails only if a reclaimer took over (it frees the slot then) or a
	 * peer overwrote it: never free a slot that is not ours */
	atomic_compare_exchange_strong(&slot->owner, &id, 0);
	bump_changes(svc);
}

/*
 * Senders and their connections. Publish-subscribe has one direction
 * (publishers → subscribers), request-response two (clients → servers,
 * servers → clients); events and blackboards move no data.
 */
struct sender_dir {
	const struct floe_svc_layout *lay; /* the connections' layout */
	uint32_t receivers;
	char receiver_kind;
};

/* The direction whose senders are @svc's slots of @kind; false if those
 * ports send nothing (and own no data segments). */
static bool sender_dir(floe_service *svc, char kind, struct sender_dir *d)
{
	switch (svc->qos.pattern) {
	case FLOE_PATTERN_PUBSUB:
		*d = (struct sender_dir){ &svc->lay, svc->qos.max_subscribers,
					  's' };
		return kind == 'p';
	case FLOE_PATTERN_REQUEST_RESPONSE:
		if (kind == 'p')
			*d = (struct sender_dir){
				&svc->rr.req, svc->rr.req_qos.max_subscribers,
				's' };
		else
			*d = (struct sender_dir){
				&svc->rr.resp,
				svc->rr.resp_qos.max_subscribers, 'p' };
		return kind == 'p' || kind == 's';
	default:
		return false;
	}
}

static bool has_data(floe_service *svc, char kind)
{
	struct sender_dir d;

	return sender_dir(svc, kind, &d);
}

/*
 * Does a receiver still read from the gone sender @id of slot @i? Its
 * connection is open (the receiver has not closed it) and the receiver
 * lives. Connections of receivers found gone are closed on the way.
 */
static bool still_read(floe_service *svc, char kind, uint32_t i, uint64_t id)
{
	struct floe_backend *be = svc->node->be;
	struct sender_dir d;

	if (!sender_dir(svc, kind, &d))
		return false;
	for (uint32_t j = 0; j < d.receivers; j++) {
		struct floe_conn *c = (struct floe_conn *)(
			(char *)svc->seg.addr + d.lay->conns_off +
			((uint64_t)i * d.receivers + j) * d.lay->conn_stride);
		uint64_t sub = atomic_load(&c->sub_id);
		struct floe_port_ref ref;

		if (!sub || atomic_load(&c->pub_id) != id)
			continue;
		if (floe_svc_slot_owner(svc, d.receiver_kind, j, &ref) == sub &&
		    be->ops->port_liveness(be, &ref) != FLOE_PORT_DEAD)
			return true;
		atomic_compare_exchange_strong(&c->sub_id, &sub, 0);
	}
	return false;
}

/* Clean up after the gone port of a tombstone @raw and free the slot
 * (unlinking twice is harmless); true if this call freed it. */
static bool finish_reclaim(floe_service *svc, char kind,
			   struct floe_slot *slot, uint64_t raw)
{
	if (has_data(svc, kind))
		floe_unlink_publisher_data(svc->node->be,
					   raw & ~FLOE_SLOT_STATE);
	if (!atomic_compare_exchange_strong(&slot->owner, &raw, 0))
		return false;
	bump_changes(svc);
	return true;
}

/* Free the slot of a lingering sender (@raw) once nobody reads from it;
 * true if this call freed it. */
static bool finish_lingering(floe_service *svc, char kind, uint32_t i,
			     uint64_t raw)
{
	struct floe_slot *slot = floe_svc_slot(svc, kind, i);
	uint64_t id = raw & ~FLOE_SLOT_STATE;

	if (still_read(svc, kind, i, id) ||
	    !atomic_compare_exchange_strong(&slot->owner, &raw,
					    id | FLOE_SLOT_TOMBSTONE))
		return false;
	return finish_reclaim(svc, kind, slot, id | FLOE_SLOT_TOMBSTONE);
}

/* Sender @id of slot @i is gone: let it linger; true if the slot is free
 * already (nobody reads from it). */
static bool linger(floe_service *svc, char kind, uint32_t i, uint64_t id)
{
	uint64_t raw = id;

	if (!atomic_compare_exchange_strong(&floe_svc_slot(svc, kind, i)->owner,
					    &raw, id | FLOE_SLOT_LINGERING))
		return false;
	bump_changes(svc);
	return finish_lingering(svc, kind, i, id | FLOE_SLOT_LINGERING);
}

void floe_svc_leave(floe_service *svc, char kind, uint32_t i, uint64_t id,
		    bool keep)
{
	if (keep && has_data(svc, kind))
		linger(svc, kind, i, id);
	else
		floe_svc_release(svc, kind, i, id);
}

void floe_svc_sender_released(floe_service *svc, uint32_t i, uint64_t id)
{
	struct floe_backend *be = svc->node->be;
	char kind = svc->sender_kind;
	floe_service *base = svc->base;
	uint64_t raw;
	struct floe_port_ref ref;

	raw = floe_svc_slot_peer(base, kind, i, &ref);
	if (raw == (id | FLOE_SLOT_LINGERING))
		finish_lingering(base, kind, i, raw);
	else if (raw == id && be->ops->port_liveness(be, &ref) ==
				      FLOE_PORT_DEAD)
		linger(base, kind, i, id);
}

int floe_svc_reclaim_dead(floe_service *svc)
{
	struct floe_backend *be = svc->node->be;
	static const char kinds[] = { 'n', 'p', 's' };
	int freed = 0;

	svc = svc->base;
	for (size_t k = 0; k < sizeof(kinds); k++) {
		for (uint32_t i = 0; i < slot_count(svc, kinds[k]); i++) {
			struct floe_slot *slot = floe_svc_slot(svc, kinds[k], i);
			uint64_t raw = atomic_load(&slot->owner);
			struct floe_port_ref ref;
			uint64_t owner;

			if (raw & FLOE_SLOT_TOMBSTONE) {
				freed += finish_reclaim(svc, kinds[k], slot, raw);
				continue;
			}
			if (raw & FLOE_SLOT_LINGERING) {
				freed += finish_lingering(svc, kinds[k], i, raw);
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
			owner = floe_svc_slot_owner(svc, kinds[k], i, &ref);
			if (!owner || be->ops->port_liveness(be, &ref) !=
					      FLOE_PORT_DEAD)
				continue;
			/* what a dead sender queued is still to be read */
			if (has_data(svc, kinds[k])) {
				freed += linger(svc, kinds[k], i, owner);
				continue;
			}
			raw = owner;
			if (atomic_compare_exchange_strong(
				    &slot->owner, &raw,
				    owner | FLOE_SLOT_TOMBSTONE))
				freed += finish_reclaim(
					svc, kinds[k], slot,
					owner | FLOE_SLOT_TOMBSTONE);
		}
	}
	return freed;
}

/* True if some node slot is taken by a node that may be alive. */
static bool has_live_nodes(floe_service *svc)
{
	struct floe_backend *be = svc->node->be;

	for (uint32_t i = 0; i < svc->qos.max_nodes; i++) {
		struct floe_slot *slot = floe_svc_slot(svc, 'n', i);
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
		if (!floe_svc_slot_owner(svc, 'n', i, &ref))
			return true;
		if (be->ops->port_liveness(be, &ref) != FLOE_PORT_DEAD)
			return true;
	}
	return false;
}

/*
 * Remove the service if no live node uses it; true if removed. A remover
 * that finds a live node backs out, then looks again: the node it saw may
 * have left meanwhile and failed its own attempt while this one held
 * REMOVING, and then nobody else would remove the service.
 */
static bool try_remove(floe_service *svc)
{
	for (int attempt = 0;; attempt++) {
		uint32_t ready = FLOE_SVC_READY;

		if (!atomic_compare_exchange_strong(&svc->hdr->state, &ready,
						    FLOE_SVC_REMOVING))
			return false;
		svc->hdr->remover = svc->node->ref;
		if (!has_live_nodes(svc))
			break;
		atomic_store(&svc->hdr->state, FLOE_SVC_READY);
		if (attempt == 100 || has_live_nodes(svc))
			return false;
	}
	/* e.g. another user's service: leave it usable, not half-removed */
	if (svc->node->be->ops->seg_unlink(svc->node->be, svc->seg_name)) {
		atomic_store(&svc->hdr->state, FLOE_SVC_READY);
		return false;
	}
	for (uint32_t i = 0; i < svc->qos.max_publishers; i++) {
		uint64_t owner = atomic_load(&floe_svc_slot(svc, 'p', i)->owner);

		if (owner && !(owner & FLOE_SLOT_CLAIMING))
			floe_unlink_publisher_data(svc->node->be,
						   owner & ~FLOE_SLOT_STATE);
	}
	for (uint32_t i = 0; has_data(svc, 's') && i < svc->qos.max_subscribers;
	     i++) {
		uint64_t owner = atomic_load(&floe_svc_slot(svc, 's', i)->owner);

		if (owner && !(owner & FLOE_SLOT_CLAIMING))
			floe_unlink_publisher_data(svc->node->be,
						   owner & ~FLOE_SLOT_STATE);
	}
	return true;
}

/* A payload type's size and alignment as every pattern requires them. */
static bool type_shape_valid(uint64_t size, uint64_t align)
{
	return size && align && align <= 4096 && !(align & (align - 1));
}

/* Map a service segment and validate everything later code relies on. */
int floe_svc_attach(floe_node *node, const char *seg_name, floe_service **out)
{
	struct floe_backend *be = node->be;
	struct floe_svc_header *hdr;
	uint64_t deadline = floe_now_ns() + SERVICE_READY_TIMEOUT_NS;
	floe_service *svc;
	uint32_t state;
	int ret;

	svc = calloc(1, sizeof(*svc));
	if (!svc)
		return FLOE_E_NOMEM;
	svc->seg.fd = -1;
	svc->node = node;
	svc->base = svc;
	svc->sender_kind = 'p';
	snprintf(svc->seg_name, sizeof(svc->seg_name), "%s", seg_name);
	ret = be->ops->seg_open(be, seg_name, true, &svc->seg);
	if (ret)
		goto fail;
	hdr = svc->seg.addr;
	svc->hdr = hdr;
	ret = FLOE_E_CORRUPT;
	if (svc->seg.size < sizeof(*hdr))
		goto fail;
	for (uint32_t round = 0;; round++) {
		state = atomic_load_explicit(&hdr->state, memory_order_acquire);
		if (state != FLOE_SVC_CREATING)
			break;
		if (floe_now_ns() > deadline) {
			ret = FLOE_E_BUSY;
			goto fail;
		}
		floe_backoff(round);
	}
	if (state != FLOE_SVC_READY) {
		ret = FLOE_E_BUSY;
		goto fail;
	}
	if (hdr->magic != FLOE_SERVICE_MAGIC ||
	    hdr->version != FLOE_LAYOUT_VERSION) {
		ret = FLOE_E_VERSION;
		goto fail;
	}
	/* Copy first, then validate the copies: the header stays writable
	 * by every user of the service. */
	svc->qos = hdr->qos;
	svc->type_size = __atomic_load_n(&hdr->type_size, __ATOMIC_RELAXED);
	svc->type_align = __atomic_load_n(&hdr->type_align, __ATOMIC_RELAXED);
	svc->num_attrs = __atomic_load_n(&hdr->num_attrs, __ATOMIC_RELAXED);
	memcpy(svc->name, hdr->name, sizeof(svc->name));
	memcpy(svc->type_name, hdr->type_name, sizeof(svc->type_name));
	memcpy(svc->attrs, hdr->attrs, sizeof(svc->attrs));
	if (floe_svc_layout(&svc->qos, &svc->lay) ||
	    svc->lay.size > svc->seg.size || !svc->type_size ||
	    svc->type_align == 0 || svc->type_align > 4096 ||
	    (svc->type_align & (svc->type_align - 1)) ||
	    svc->num_attrs > FLOE_MAX_ATTRIBUTES ||
	    svc->name[sizeof(svc->name) - 1] ||
	    svc->type_name[sizeof(svc->type_name) - 1])
		goto fail;
	if (svc->qos.pattern == FLOE_PATTERN_REQUEST_RESPONSE) {
		svc->resp_type_size = __atomic_load_n(&hdr->resp_type_size,
						      __ATOMIC_RELAXED);
		svc->resp_type_align = __atomic_load_n(&hdr->resp_type_align,
						       __ATOMIC_RELAXED);
		memcpy(svc->resp_type_name, hdr->resp_type_name,
		       sizeof(svc->resp_type_name));
		if (!type_shape_valid(svc->resp_type_size,
				      svc->resp_type_align) ||
		    svc->resp_type_name[sizeof(svc->resp_type_name) - 1] ||
		    floe_rr_layout(&svc->qos, &svc->rr))
			goto fail;
	}
	svc->payload_offset = floe_chunk_payload_offset(
		svc->qos.user_header_size, svc->type_align);
	for (uint32_t i = 0; i < svc->num_attrs; i++) {
		svc->attrs[i].key[FLOE_ATTR_KEY_LEN] = '\0';
		svc->attrs[i].value[FLOE_ATTR_VALUE_LEN] = '\0';
	}
	*out = svc;
	return 0;
fail:
	floe_seg_close(&svc->seg);
	free(svc);
	return ret;
}

void floe_svc_detach(floe_service *svc)
{
	floe_seg_close(&svc->seg);
	free(svc);
}

static void add_id(struct floe_id_list *list, uint64_t id)
{
	if (list->count == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 16;
		uint64_t *grown = realloc(list->ids, cap * sizeof(*grown));

		if (!grown) {
			list->err = FLOE_E_NOMEM;
			return;
		}
		list->ids = grown;
		list->cap = cap;
	}
	list->ids[list->count++] = id;
}

void floe_service_cleanup_by_name(floe_node *node, const char *seg_name,
				  struct floe_id_list *senders)
{
	static const char kinds[] = { 'p', 's' };
	floe_service *svc;

	if (floe_svc_attach(node, seg_name, &svc))
		return;
	floe_svc_reclaim_dead(svc);
	if (!try_remove(svc)) {
		for (size_t k = 0; k < sizeof(kinds); k++) {
			for (uint32_t i = 0; has_data(svc, kinds[k]) &&
					     i < slot_count(svc, kinds[k]);
			     i++) {
				uint64_t raw = atomic_load(
					&floe_svc_slot(svc, kinds[k], i)->owner);

				if (raw && !(raw & FLOE_SLOT_CLAIMING))
					add_id(senders, raw & ~FLOE_SLOT_STATE);
			}
		}
	}
	floe_svc_detach(svc);
}

static int check_spec(const char *name, const struct floe_svc_spec *spec)
{
	const struct floe_type *t = &spec->type;

	if (!floe_user_name_valid(name, FLOE_NAME_LEN))
		return FLOE_E_NAME;
	if (!floe_user_name_valid(t->name, FLOE_TYPE_NAME_LEN))
		return FLOE_E_NAME;
	if (spec->qos.pattern == FLOE_PATTERN_REQUEST_RESPONSE &&
	    !floe_user_name_valid(spec->resp_type.name, FLOE_TYPE_NAME_LEN))
		return FLOE_E_NAME;
	if (spec->qos.pattern == FLOE_PATTERN_REQUEST_RESPONSE &&
	    !type_shape_valid(spec->resp_type.size, spec->resp_type.align))
		return FLOE_E_INVALID;
	if (!type_shape_valid(t->size, t->align) || spec->mode > 0777 ||
	    spec->num_attributes > FLOE_MAX_ATTRIBUTES ||
	    (spec->num_attributes && !spec->attributes))
		return FLOE_E_INVALID;
	for (size_t i = 0; i < spec->num_attributes; i++) {
		const struct floe_attribute *a = &spec->attributes[i];

		if (!floe_user_name_valid(a->key, FLOE_ATTR_KEY_LEN) ||
		    !a->value || strlen(a->value) > FLOE_ATTR_VALUE_LEN)
			return FLOE_E_INVALID;
	}
	return 0;
}

/* Each messaging pattern has a namespace of its own. */
static void service_seg_name(floe_node *node, const char *name,
			     uint32_t pattern, char out[FLOE_SEG_NAME_MAX])
{
	enum floe_seg_kind kind = FLOE_KIND_SERVICE;

	if (pattern == FLOE_PATTERN_EVENT)
		kind = FLOE_KIND_EVENT;
	else if (pattern == FLOE_PATTERN_BLACKBOARD)
		kind = FLOE_KIND_BLACKBOARD;
	else if (pattern == FLOE_PATTERN_REQUEST_RESPONSE)
		kind = FLOE_KIND_REQUEST_RESPONSE;
	floe_seg_name(out, node->be->domain, kind, floe_name_hash(name), 0);
}

/* Join as a node: what makes the service stay. */
static int join(floe_service *svc)
{
	int slot = floe_svc_claim(svc, 'n', &svc->node->ref, 0);

	if (slot < 0)
		return slot;
	if (atomic_load(&svc->hdr->state) != FLOE_SVC_READY) {
		floe_svc_release(svc, 'n', (uint32_t)slot,
				 svc->node->ref.id);
		return FLOE_E_BUSY;
	}
	svc->node_slot = (uint32_t)slot;
	atomic_fetch_add(&svc->node->services, 1);
	return 0;
}

static int check_compat(floe_service *svc, const char *name,
			const struct floe_svc_spec *spec)
{
	const struct floe_shm_qos *want = spec->demand;
	const struct floe_shm_qos *q = &svc->qos;

	if (strcmp(svc->name, name) || q->pattern != spec->qos.pattern)
		return FLOE_E_NOT_FOUND; /* a hash collision, not our service */
	if (strcmp(svc->type_name, spec->type.name) ||
	    svc->type_size != spec->type.size ||
	    svc->type_align != spec->type.align)
		return FLOE_E_TYPE_MISMATCH;
	if (q->pattern == FLOE_PATTERN_REQUEST_RESPONSE &&
	    (strcmp(svc->resp_type_name, spec->resp_type.name) ||
	     svc->resp_type_size != spec->resp_type.size ||
	     svc->resp_type_align != spec->resp_type.align))
		return FLOE_E_TYPE_MISMATCH;
	if (want && (want->max_publishers > q->max_publishers ||
		     want->max_subscribers > q->max_subscribers ||
		     want->max_nodes > q->max_nodes ||
		     want->buffer > q->buffer ||
		     want->borrowed > q->borrowed ||
		     want->history > q->history ||
		     want->loans > q->loans ||
		     want->event_id_max > q->event_id_max ||
		     (want->user_header_size &&
		      want->user_header_size != q->user_header_size)))
		return FLOE_E_QOS_MISMATCH;
	for (size_t i = 0; i < spec->num_attributes; i++) {
		const char *v = floe_service_attribute(svc,
						       spec->attributes[i].key);

		if (!v || strcmp(v, spec->attributes[i].value))
			return FLOE_E_ATTR_MISMATCH;
	}
	return 0;
}

int floe_svc_open(floe_node *node, const char *name,
		  const struct floe_svc_spec *spec, floe_service **out)
{
	char seg_name[FLOE_SEG_NAME_MAX];
	floe_service *svc;
	int ret = check_spec(name, spec);

	if (ret)
		return ret;
	if (!node || !out)
		return FLOE_E_INVALID;
	service_seg_name(node, name, spec->qos.pattern, seg_name);
	ret = floe_svc_attach(node, seg_name, &svc);
	if (ret)
		return ret;
	ret = check_compat(svc, name, spec);
	if (!ret)
		ret = join(svc);
	if (ret == FLOE_E_NODE_LIMIT && !has_live_nodes(svc))
		ret = FLOE_E_BUSY; /* abandoned: open_or_create replaces it */
	if (ret) {
		floe_svc_detach(svc);
		return ret;
	}
	*out = svc;
	return 0;
}

/* Can a publisher's pool of one-element chunks of @t be allocated? */
static bool type_fits(const struct floe_type *t, uint32_t user_header_size,
		      uint32_t chunk_count)
{
	uint64_t stride = floe_chunk_stride(
		floe_chunk_payload_offset(user_header_size, t->align), 1,
		t->size, t->align);

	return floe_data_bytes(stride, chunk_count) <= FLOE_LIMIT_DATA_BYTES;
}

/* A type too large for any publisher to send is refused at creation,
 * rather than by every publisher afterwards. */
static int check_type_fits(const struct floe_svc_spec *spec,
			   const struct floe_svc_layout *lay)
{
	struct floe_rr_layout rr;

	switch (spec->qos.pattern) {
	case FLOE_PATTERN_PUBSUB:
		return type_fits(&spec->type, spec->qos.user_header_size,
				 lay->chunk_count)
			       ? 0
			       : FLOE_E_TOO_LARGE;
	case FLOE_PATTERN_REQUEST_RESPONSE:
		if (floe_rr_layout(&spec->qos, &rr))
			return FLOE_E_INVALID;
		return type_fits(&spec->type, 0, rr.req.chunk_count) &&
				       type_fits(&spec->resp_type, 0,
						 rr.resp.chunk_count)
			       ? 0
			       : FLOE_E_TOO_LARGE;
	default:
		return 0;
	}
}

static int create_once(floe_node *node, const char *name,
		       const struct floe_svc_spec *spec, floe_service **out)
{
	struct floe_backend *be = node->be;
	char seg_name[FLOE_SEG_NAME_MAX];
	struct floe_svc_header *hdr;
	struct floe_svc_layout lay;
	struct floe_seg seg = { .fd = -1 };
	floe_service *svc;
	int ret;

	if (floe_svc_layout(&spec->qos, &lay))
		return FLOE_E_INVALID;
	ret = check_type_fits(spec, &lay);
	if (ret)
		return ret;
	service_seg_name(node, name, spec->qos.pattern, seg_name);
	hdr = calloc(1, sizeof(*hdr));
	if (!hdr)
		return FLOE_E_NOMEM;
	hdr->creator = node->ref;
	hdr->magic = FLOE_SERVICE_MAGIC;
	hdr->version = FLOE_LAYOUT_VERSION;
	hdr->layout_size = lay.size;
	snprintf(hdr->name, sizeof(hdr->name), "%s", name);
	snprintf(hdr->type_name, sizeof(hdr->type_name), "%s", spec->type.name);
	hdr->type_size = spec->type.size;
	hdr->type_align = spec->type.align;
	if (spec->qos.pattern == FLOE_PATTERN_REQUEST_RESPONSE) {
		snprintf(hdr->resp_type_name, sizeof(hdr->resp_type_name), "%s",
			 spec->resp_type.name);
		hdr->resp_type_size = spec->resp_type.size;
		hdr->resp_type_align = spec->resp_type.align;
	}
	hdr->qos = spec->qos;
	hdr->mode = spec->mode ? spec->mode : DEFAULT_MODE;
	hdr->num_attrs = (uint32_t)spec->num_attributes;
	for (size_t i = 0; i < spec->num_attributes; i++) {
		snprintf(hdr->attrs[i].key, sizeof(hdr->attrs[i].key), "%s",
			 spec->attributes[i].key);
		snprintf(hdr->attrs[i].value, sizeof(hdr->attrs[i].value), "%s",
			 spec->attributes[i].value);
	}
	/* State CREATING until the header is in place (with the module the
	 * name is visible at once): openers wait for READY. */
	ret = be->ops->seg_create(be, seg_name, lay.size, hdr->mode,
				  FLOE_SEG_SHARED, NULL, hdr, sizeof(*hdr), &seg);
	free(hdr);
	if (ret)
		return ret;
	if (spec->fill)
		spec->fill(seg.addr, &lay, spec->fill_ctx);
	atomic_store_explicit(&((struct floe_svc_header *)seg.addr)->state,
			      FLOE_SVC_READY, memory_order_release);
	floe_seg_close(&seg);
	ret = floe_svc_attach(node, seg_name, &svc);
	if (!ret) {
		ret = join(svc);
		if (ret)
			floe_svc_detach(svc);
		else
			*out = svc;
	}
	return ret;
}

/* An existing segment under our name whose users are all dead (or that
 * never got past creation) is removed; true if so. */
static bool remove_if_abandoned(floe_node *node, const char *seg_name)
{
	struct floe_seg seg = { .fd = -1 };
	struct floe_backend *be = node->be;
	floe_service *svc;
	bool removed = false;
	int ret;

	ret = floe_svc_attach(node, seg_name, &svc);
	if (!ret) {
		floe_svc_reclaim_dead(svc);
		removed = try_remove(svc);
		floe_svc_detach(svc);
		return removed;
	}
	if (ret != FLOE_E_BUSY || be->ops->seg_open(be, seg_name, true, &seg))
		return false;
	if (seg.size >= sizeof(struct floe_svc_header)) {
		struct floe_svc_header *hdr = seg.addr;
		struct floe_port_ref creator = hdr->creator;
		struct floe_port_ref remover = hdr->remover;
		uint32_t state = atomic_load(&hdr->state);

		/* Stuck in CREATING: its creator died half-way. */
		if (state == FLOE_SVC_CREATING &&
		    (!creator.id || be->ops->port_liveness(be, &creator) ==
					    FLOE_PORT_DEAD))
			removed = !be->ops->seg_unlink(be, seg_name);
		/* Stuck in REMOVING: its remover died half-way. Back to
		 * READY; the caller's next attempt decides again. */
		if (state == FLOE_SVC_REMOVING && remover.id &&
		    be->ops->port_liveness(be, &remover) == FLOE_PORT_DEAD)
			atomic_compare_exchange_strong(&hdr->state, &state,
						       FLOE_SVC_READY);
	}
	floe_seg_close(&seg);
	return removed;
}

int floe_svc_create(floe_node *node, const char *name,
		    const struct floe_svc_spec *spec, floe_service **out)
{
	char seg_name[FLOE_SEG_NAME_MAX];
	int ret = check_spec(name, spec);

	if (ret)
		return ret;
	if (!node || !out)
		return FLOE_E_INVALID;
	ret = create_once(node, name, spec, out);
	service_seg_name(node, name, spec->qos.pattern, seg_name);
	if (ret == FLOE_E_EXISTS && remove_if_abandoned(node, seg_name))
		ret = create_once(node, name, spec, out);
	return ret;
}

int floe_svc_open_or_create(floe_node *node, const char *name,
			    const struct floe_svc_spec *spec,
			    floe_service **out)
{
	char seg_name[FLOE_SEG_NAME_MAX];
	int ret = FLOE_E_BUSY;

	if (!node)
		return FLOE_E_INVALID;
	if (!floe_user_name_valid(name, FLOE_NAME_LEN))
		return FLOE_E_NAME;
	service_seg_name(node, name, spec->qos.pattern, seg_name);
	/* open and create race with other processes doing the same: retry
	 * while the service appears or disappears under us. */
	for (uint32_t round = 0; round < 2000; round++) {
		ret = floe_svc_open(node, name, spec, out);
		if (ret == FLOE_E_NOT_FOUND)
			ret = floe_svc_create(node, name, spec, out);
		else if (ret == FLOE_E_BUSY &&
			 remove_if_abandoned(node, seg_name))
			continue;
		if (ret != FLOE_E_EXISTS && ret != FLOE_E_BUSY &&
		    ret != FLOE_E_NOT_FOUND)
			return ret;
		floe_backoff(round);
	}
	return ret;
}

/* Publish-subscribe services: the public face of the above. */
static int pubsub_spec(const struct floe_service_opts *opts, bool creating,
		       struct floe_svc_spec *spec, struct floe_shm_qos *demand)
{
	struct floe_pubsub_qos defaults;

	if (!opts)
		return FLOE_E_INVALID;
	floe_pubsub_qos_init(&defaults);
	*spec = (struct floe_svc_spec){
		.type = opts->type,
		.attributes = opts->attributes,
		.num_attributes = opts->num_attributes,
		.mode = opts->mode,
	};
	qos_to_shm(creating && opts->qos ? opts->qos : &defaults, &spec->qos);
	if (opts->qos) {
		qos_to_shm(opts->qos, demand);
		spec->demand = demand;
	}
	return 0;
}

FLOE_EXPORT int floe_service_open(floe_node *node, const char *name,
				  const struct floe_service_opts *opts,
				  floe_service **out)
{
	struct floe_svc_spec spec;
	struct floe_shm_qos demand;
	int ret = pubsub_spec(opts, false, &spec, &demand);

	return ret ? ret : floe_svc_open(node, name, &spec, out);
}

FLOE_EXPORT int floe_service_create(floe_node *node, const char *name,
				    const struct floe_service_opts *opts,
				    floe_service **out)
{
	struct floe_svc_spec spec;
	struct floe_shm_qos demand;
	int ret = pubsub_spec(opts, true, &spec, &demand);

	return ret ? ret : floe_svc_create(node, name, &spec, out);
}

FLOE_EXPORT int floe_service_open_or_create(floe_node *node, const char *name,
					    const struct floe_service_opts *opts,
					    floe_service **out)
{
	struct floe_svc_spec spec;
	struct floe_shm_qos demand;
	int ret = pubsub_spec(opts, true, &spec, &demand);

	return ret ? ret : floe_svc_open_or_create(node, name, &spec, out);
}

FLOE_EXPORT void floe_service_close(floe_service *svc)
{
	if (!svc)
		return;
	if (atomic_load(&svc->ports))
		floe_misuse(__func__, "service '%s' still has %d ports; "
			    "destroy them first", svc->name,
			    atomic_load(&svc->ports));
	floe_svc_release(svc, 'n', svc->node_slot, svc->node->ref.id);
	atomic_fetch_sub(&svc->node->services, 1);
	floe_svc_reclaim_dead(svc);
	try_remove(svc);
	floe_svc_detach(svc);
}

FLOE_EXPORT const char *floe_service_name(const floe_service *svc)
{
	return svc->name;
}

FLOE_EXPORT const char *floe_service_attribute(const floe_service *svc,
					       const char *key)
{
	if (!key)
		return NULL;
	for (uint32_t i = 0; i < svc->num_attrs; i++)
		if (!strcmp(svc->attrs[i].key, key))
			return svc->attrs[i].value;
	return NULL;
}
