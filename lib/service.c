// SPDX-License-Identifier: MIT
/*
 * Services, for every pattern: one shared segment per service name holding
 * its static configuration (pattern, QoS, types, attributes) and its
 * dynamic state (slots of the nodes and ports using it, and what the
 * pattern lays out after them). What differs between patterns comes from
 * their table (lib/pattern.h).
 *
 * Lifetime: the creator fills the segment, then marks it READY. Every node
 * using the service holds a node slot; the last to leave (or whoever finds
 * all holders dead) moves it READY → REMOVING and unlinks it. An opener
 * takes its node slot first and checks the state after; the remover
 * changes the state first and checks the slots after. Both orders are
 * sequentially consistent, so one of the two sees the other and the
 * service is never removed under a new user.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "base/bounds.h"
#include "base/log.h"
#include "internal.h"

#define SERVICE_READY_TIMEOUT_NS 2000000000ULL
/* With the module a live creator writes the header right after it makes
 * the name (a mapping and a copy): one without it for this long died in
 * between (in the VM about one kill of a creating churner in five). */
#define HEADER_TIMEOUT_NS 200000000ULL
#define DEFAULT_MODE 0600
/* open_or_create attempts while the service appears and disappears */
#define GET_ROUNDS 2000

uint64_t floe_svc_changes(floe_service *svc)
{
	return atomic_load_explicit(&svc->hdr->changes, memory_order_acquire);
}

struct floe_type floe_svc_type(const floe_service *svc, uint32_t i)
{
	return (struct floe_type){ svc->types[i].name, svc->types[i].size,
				   svc->types[i].align };
}

/* A payload type's size and alignment as every pattern requires them. */
static bool type_shape_valid(uint64_t size, uint64_t align)
{
	return size && align && align <= 4096 && !(align & (align - 1));
}

static bool header_complete(struct floe_svc_header *hdr)
{
	return __atomic_load_n(&hdr->magic, __ATOMIC_ACQUIRE) ==
	       FLOE_SERVICE_MAGIC;
}

/* The header names its creator (with the module the name is visible
 * before the header), and it is dead. */
static bool creator_dead(struct floe_backend *be, struct floe_svc_header *hdr)
{
	struct floe_port_ref creator;

	if (!header_complete(hdr))
		return false;
	memcpy(&creator, &hdr->creator, sizeof(creator));
	return be->ops->port_liveness(be, &creator) == FLOE_PORT_DEAD;
}

/* Wait while the service is being created, for as long as its creator
 * lives; *@state is what it became. */
static int wait_created(struct floe_backend *be, struct floe_svc_header *hdr,
			uint64_t *state)
{
	uint64_t start = floe_now_ns();
	uint64_t deadline = start + SERVICE_READY_TIMEOUT_NS;

	for (uint32_t round = 0;; round++) {
		bool complete = header_complete(hdr);

		*state = atomic_load_explicit(&hdr->state, memory_order_acquire);
		if (*state != FLOE_SVC_CREATING) {
			/* (without a header: removed before its creator
			 * wrote it, remove_unfinished) */
			return complete || !(*state & FLOE_SVC_REMOVING)
				       ? 0
				       : FLOE_E_NOT_FOUND;
		}
		if (complete ? creator_dead(be, hdr)
			     : floe_now_ns() > start + HEADER_TIMEOUT_NS)
			return FLOE_SVC_ABANDONED;
		if (floe_now_ns() > deadline)
			return FLOE_E_BUSY;
		floe_backoff(round);
	}
}

/* Copy the header (it stays writable by every user of the service), then
 * validate the copies. */
static int validate(floe_service *svc)
{
	struct floe_svc_header *hdr = svc->hdr;

	if (hdr->magic != FLOE_SERVICE_MAGIC ||
	    hdr->version != FLOE_LAYOUT_VERSION)
		return FLOE_E_VERSION;
	svc->qos = hdr->qos;
	memcpy(svc->types, hdr->types, sizeof(svc->types));
	svc->num_attrs = __atomic_load_n(&hdr->num_attrs, __ATOMIC_RELAXED);
	memcpy(svc->name, hdr->name, sizeof(svc->name));
	memcpy(svc->attrs, hdr->attrs, sizeof(svc->attrs));
	svc->pattern = floe_pattern_of(svc->qos.pattern);
	if (!svc->pattern || svc->pattern->layout(&svc->qos, &svc->lay) ||
	    svc->lay.size > svc->seg.size ||
	    svc->num_attrs > FLOE_MAX_ATTRIBUTES ||
	    svc->name[sizeof(svc->name) - 1])
		return FLOE_E_CORRUPT;
	for (uint32_t i = 0; i < svc->pattern->types; i++)
		if (!type_shape_valid(svc->types[i].size, svc->types[i].align) ||
		    svc->types[i].name[FLOE_TYPE_NAME_LEN])
			return FLOE_E_CORRUPT;
	for (uint32_t i = 0; i < svc->num_attrs; i++) {
		svc->attrs[i].key[FLOE_ATTR_KEY_LEN] = '\0';
		svc->attrs[i].value[FLOE_ATTR_VALUE_LEN] = '\0';
	}
	svc->ndirs = svc->pattern->directions
			     ? svc->pattern->directions(&svc->qos, &svc->lay,
							svc->types, svc->dirs)
			     : 0;
	for (uint32_t k = 0; k < svc->ndirs; k++) {
		svc->dirs[k].svc = svc;
		svc->dirs[k].base = svc->seg.addr;
		svc->dirs[k].changes = &svc->hdr->changes;
		svc->dirs[k].deaths = svc->node->be->deaths;
	}
	return 0;
}

/* Map a service segment and validate everything later code relies on. */
static int attach(floe_node *node, const char *seg_name, bool removing_ok,
		  floe_service **out)
{
	struct floe_backend *be = node->be;
	floe_service *svc;
	uint64_t state;
	int ret;

	svc = calloc(1, sizeof(*svc));
	if (!svc)
		return FLOE_E_NOMEM;
	svc->seg.fd = -1;
	svc->node = node;
	snprintf(svc->seg_name, sizeof(svc->seg_name), "%s", seg_name);
	ret = be->ops->seg_open(be, seg_name, true, &svc->seg);
	if (ret)
		goto fail;
	svc->hdr = svc->seg.addr;
	ret = FLOE_E_CORRUPT;
	if (svc->seg.size < sizeof(*svc->hdr))
		goto fail;
	ret = wait_created(be, svc->hdr, &state);
	if (!ret)
		ret = validate(svc);
	if (ret)
		goto fail;
	/* its remover may have been killed half-way */
	if ((state & FLOE_SVC_REMOVING) &&
	    floe_svc_finish_removal(svc, state)) {
		ret = FLOE_E_NOT_FOUND;
		goto fail;
	}
	state = atomic_load(&svc->hdr->state);
	ret = FLOE_E_BUSY;
	if (state != FLOE_SVC_READY && !(removing_ok &&
					  (state & FLOE_SVC_REMOVING)))
		goto fail;
	*out = svc;
	return 0;
fail:
	floe_seg_close(&svc->seg);
	free(svc);
	return ret;
}

int floe_svc_attach(floe_node *node, const char *seg_name, floe_service **out)
{
	return attach(node, seg_name, false, out);
}

int floe_svc_look(floe_node *node, const char *seg_name, floe_service **out)
{
	return attach(node, seg_name, true, out);
}

void floe_svc_detach(floe_service *svc)
{
	floe_seg_close(&svc->seg);
	free(svc);
}

static void add_id(uint64_t id, void *ctx)
{
	struct floe_id_list *list = ctx;

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

/* A service whose creator died before it was READY (no port ever
 * joined it): its name goes; true if so. The state goes CREATING →
 * REMOVING (ours) first: another node may remove the segment and make a
 * new service under the name as soon as we looked, and only the holder
 * of the state unlinks the name. */
static bool remove_unfinished(floe_node *node, const char *seg_name)
{
	struct floe_backend *be = node->be;
	struct floe_seg seg = { .fd = -1 };
	bool removed = false;

	if (be->ops->seg_open(be, seg_name, true, &seg))
		return false;
	if (seg.size >= sizeof(struct floe_svc_header)) {
		struct floe_svc_header *hdr = seg.addr;
		uint64_t creating = FLOE_SVC_CREATING;
		uint64_t removing = floe_svc_removing_word(node);

		/* (no header after the wait: a creator that died between
		 * making the name and writing it) */
		if (atomic_load(&hdr->state) == FLOE_SVC_CREATING &&
		    (!header_complete(hdr) || creator_dead(be, hdr)) &&
		    atomic_compare_exchange_strong(&hdr->state, &creating,
						   removing)) {
			removed = !be->ops->seg_unlink(be, seg_name);
			if (!removed)
				atomic_compare_exchange_strong(
					&hdr->state, &removing,
					FLOE_SVC_CREATING);
		}
	}
	floe_seg_close(&seg);
	return removed;
}

void floe_service_cleanup_by_name(floe_node *node, const char *seg_name,
				  struct floe_id_list *senders)
{
	floe_service *svc;
	int ret = floe_svc_look(node, seg_name, &svc);

	/* its creator died before any sender could join */
	if (ret == FLOE_SVC_ABANDONED &&
	    remove_unfinished(node, seg_name))
		return;
	if (ret) {
		/* Gone since it was listed: it needs nothing. Otherwise (not
		 * ready yet, unreadable) its senders are not known, and the
		 * list is incomplete. */
		if (ret != FLOE_E_NOT_FOUND)
			senders->err = ret;
		return;
	}
	floe_svc_reclaim_dead(svc);
	if (!floe_svc_try_remove(svc))
		floe_svc_for_each_sender(svc, add_id, senders);
	floe_svc_detach(svc);
}

static int check_spec(const char *name, const struct floe_svc_spec *spec)
{
	if (!floe_user_name_valid(name, FLOE_NAME_LEN))
		return FLOE_E_NAME;
	for (uint32_t i = 0; i < spec->pattern->types; i++) {
		const struct floe_type *t = &spec->types[i];

		if (!floe_user_name_valid(t->name, FLOE_TYPE_NAME_LEN))
			return FLOE_E_NAME;
		if (!type_shape_valid(t->size, t->align))
			return FLOE_E_INVALID;
	}
	if (spec->mode > 0777 || spec->num_attributes > FLOE_MAX_ATTRIBUTES ||
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
			     const struct floe_pattern *pattern,
			     char out[FLOE_SEG_NAME_MAX])
{
	floe_seg_name(out, node->be->domain, pattern->seg_kind,
		      floe_name_hash(name), 0);
}

/* Join as a node: what makes the service stay. */
static int join(floe_service *svc)
{
	int slot = floe_svc_claim(svc, FLOE_SLOT_NODE, &svc->node->ref, 0);

	if (slot < 0)
		return slot;
	if (atomic_load(&svc->hdr->state) != FLOE_SVC_READY) {
		floe_svc_release(svc, FLOE_SLOT_NODE, (uint32_t)slot,
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
	if (strcmp(svc->name, name) || svc->pattern != spec->pattern)
		return FLOE_E_NOT_FOUND; /* a hash collision, not our service */
	/* the error code says what differs; the log says how */
	for (uint32_t i = 0; i < svc->pattern->types; i++) {
		const struct floe_shm_type *have = &svc->types[i];
		const struct floe_type *want = &spec->types[i];

		if (strcmp(have->name, want->name) || have->size != want->size ||
		    have->align != want->align) {
			floe_log(FLOE_LOG_WARN,
				 "service '%s' refused: it carries '%s' (size "
				 "%llu, align %llu), not '%s' (size %llu, "
				 "align %llu)", name, have->name,
				 (unsigned long long)have->size,
				 (unsigned long long)have->align, want->name,
				 (unsigned long long)want->size,
				 (unsigned long long)want->align);
			return FLOE_E_TYPE_MISMATCH;
		}
	}
	if (spec->demand && (spec->demand->max_nodes > svc->qos.max_nodes ||
			     !svc->pattern->satisfies(&svc->qos, spec->demand))) {
		floe_log(FLOE_LOG_WARN, "service '%s' refused: its QoS offers "
			 "less than demanded (floe service show '%s')", name,
			 name);
		return FLOE_E_QOS_MISMATCH;
	}
	for (size_t i = 0; i < spec->num_attributes; i++) {
		const char *key = spec->attributes[i].key;
		const char *v = floe_service_attribute(svc, key);

		if (!v || strcmp(v, spec->attributes[i].value)) {
			floe_log(FLOE_LOG_WARN, "service '%s' refused: "
				 "attribute '%s' is %s%s%s, not '%s'", name, key,
				 v ? "'" : "missing", v ? v : "", v ? "'" : "",
				 spec->attributes[i].value);
			return FLOE_E_ATTR_MISMATCH;
		}
	}
	return 0;
}

static int open_once(floe_node *node, const char *name,
		     const struct floe_svc_spec *spec, floe_service **out)
{
	char seg_name[FLOE_SEG_NAME_MAX];
	floe_service *svc;
	int ret;

	service_seg_name(node, name, spec->pattern, seg_name);
	ret = floe_svc_attach(node, seg_name, &svc);
	if (ret)
		return ret;
	ret = check_compat(svc, name, spec);
	if (!ret)
		ret = join(svc);
	if (ret == FLOE_E_NODE_LIMIT && !floe_svc_in_use(svc))
		ret = FLOE_SVC_ABANDONED;
	if (ret) {
		floe_svc_detach(svc);
		return ret;
	}
	*out = svc;
	return 0;
}

/* A type too large for any sender to allocate its pool of one-element
 * chunks is refused at creation, rather than by every sender afterwards. */
static int check_types_fit(const struct floe_svc_spec *spec,
			   const struct floe_svc_layout *lay)
{
	struct floe_shm_type types[FLOE_MAX_TYPES] = { 0 };
	struct floe_dir dirs[FLOE_MAX_DIRS];
	uint32_t n;

	for (uint32_t i = 0; i < spec->pattern->types; i++) {
		types[i].size = spec->types[i].size;
		types[i].align = spec->types[i].align;
	}
	n = spec->pattern->directions
		    ? spec->pattern->directions(&spec->qos, lay, types, dirs)
		    : 0;
	for (uint32_t k = 0; k < n; k++) {
		uint64_t stride = floe_chunk_stride(dirs[k].payload_offset, 1,
						    dirs[k].type_size,
						    dirs[k].type_align);

		if (floe_data_bytes(stride, dirs[k].chunk_count) >
		    FLOE_LIMIT_DATA_BYTES)
			return FLOE_E_TOO_LARGE;
	}
	return 0;
}

static struct floe_svc_header *make_header(floe_node *node, const char *name,
					   const struct floe_svc_spec *spec,
					   const struct floe_svc_layout *lay)
{
	struct floe_svc_header *hdr = calloc(1, sizeof(*hdr));

	if (!hdr)
		return NULL;
	hdr->creator = node->ref;
	/* (without entropy, unique enough: no node makes two at once) */
	if (getrandom(&hdr->incarnation, sizeof(hdr->incarnation),
		      GRND_NONBLOCK) != sizeof(hdr->incarnation))
		hdr->incarnation = node->ref.id ^ floe_now_ns();
	hdr->magic = FLOE_SERVICE_MAGIC;
	hdr->version = FLOE_LAYOUT_VERSION;
	hdr->layout_size = lay->size;
	snprintf(hdr->name, sizeof(hdr->name), "%s", name);
	hdr->qos = spec->qos;
	for (uint32_t i = 0; i < spec->pattern->types; i++) {
		snprintf(hdr->types[i].name, sizeof(hdr->types[i].name), "%s",
			 spec->types[i].name);
		hdr->types[i].size = spec->types[i].size;
		hdr->types[i].align = spec->types[i].align;
	}
	hdr->mode = spec->mode ? spec->mode : DEFAULT_MODE;
	hdr->num_attrs = (uint32_t)spec->num_attributes;
	for (size_t i = 0; i < spec->num_attributes; i++) {
		snprintf(hdr->attrs[i].key, sizeof(hdr->attrs[i].key), "%s",
			 spec->attributes[i].key);
		snprintf(hdr->attrs[i].value, sizeof(hdr->attrs[i].value), "%s",
			 spec->attributes[i].value);
	}
	return hdr;
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

	if (spec->pattern->layout(&spec->qos, &lay))
		return FLOE_E_INVALID;
	ret = check_types_fit(spec, &lay);
	if (ret)
		return ret;
	service_seg_name(node, name, spec->pattern, seg_name);
	hdr = make_header(node, name, spec, &lay);
	if (!hdr)
		return FLOE_E_NOMEM;
	/* State CREATING until the header is in place (with the module the
	 * name is visible at once): openers wait for READY. */
	ret = be->ops->seg_create(be, seg_name, lay.size, hdr->mode,
				  FLOE_SEG_SHARED, NULL, hdr, sizeof(*hdr), &seg);
	free(hdr);
	if (ret)
		return ret;
	if (spec->fill)
		spec->fill(seg.addr, &lay, spec->fill_ctx);
	/* With the module the name was visible before the header: a peer
	 * that found it late may have taken it for abandoned and removed it
	 * (remove_unfinished): then it is not ours to make READY, and a node
	 * that mapped it before must not join it. Make it again. */
	if (!atomic_compare_exchange_strong(
		    &((struct floe_svc_header *)seg.addr)->state,
		    &(uint64_t){ FLOE_SVC_CREATING }, FLOE_SVC_READY)) {
		floe_seg_close(&seg);
		return FLOE_E_NOT_FOUND;
	}
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
	floe_service *svc;
	bool removed;
	int ret;

	ret = floe_svc_attach(node, seg_name, &svc);
	if (!ret) {
		floe_svc_reclaim_dead(svc);
		removed = floe_svc_try_remove(svc);
		floe_svc_detach(svc);
		return removed;
	}
	/* (not found: a removal its remover left half-done ended now) */
	return ret == FLOE_E_NOT_FOUND ||
	       ((ret == FLOE_E_BUSY || ret == FLOE_SVC_ABANDONED) &&
		remove_unfinished(node, seg_name));
}

static int create(floe_node *node, const char *name,
		  const struct floe_svc_spec *spec, const char *seg_name,
		  floe_service **out)
{
	int ret = create_once(node, name, spec, out);

	if (ret == FLOE_E_EXISTS && remove_if_abandoned(node, seg_name))
		ret = create_once(node, name, spec, out);
	/* ours was taken for abandoned (HEADER_TIMEOUT_NS) and removed
	 * before we joined it: make it again */
	for (int k = 0; ret == FLOE_E_NOT_FOUND && k < 3; k++)
		ret = create_once(node, name, spec, out);
	return ret;
}

int floe_svc_get(floe_node *node, const char *name,
		 const struct floe_svc_spec *spec, enum floe_svc_how how,
		 floe_service **out)
{
	char seg_name[FLOE_SEG_NAME_MAX];
	int ret = check_spec(name, spec);

	if (ret)
		return ret;
	if (!node || !out)
		return FLOE_E_INVALID;
	service_seg_name(node, name, spec->pattern, seg_name);
	if (how == FLOE_SVC_OPEN) {
		/* a remover that finds us backs out: wait for it (only an
		 * abandoned service stays BUSY, for open_or_create) */
		uint64_t deadline = floe_now_ns() + SERVICE_READY_TIMEOUT_NS;

		for (uint32_t round = 0;; round++) {
			ret = open_once(node, name, spec, out);
			if (ret == FLOE_SVC_ABANDONED)
				return FLOE_E_BUSY;
			if (ret != FLOE_E_BUSY || floe_now_ns() > deadline)
				return ret;
			floe_backoff(round);
		}
	}
	if (how == FLOE_SVC_CREATE)
		return create(node, name, spec, seg_name, out);
	/* open and create race with other processes doing the same: retry
	 * while the service appears or disappears under us. */
	for (uint32_t round = 0; round < GET_ROUNDS; round++) {
		ret = open_once(node, name, spec, out);
		if (ret == FLOE_E_NOT_FOUND)
			ret = create(node, name, spec, seg_name, out);
		else if ((ret == FLOE_E_BUSY || ret == FLOE_SVC_ABANDONED) &&
			 remove_if_abandoned(node, seg_name))
			continue;
		if (ret == FLOE_SVC_ABANDONED)
			ret = FLOE_E_BUSY;
		if (ret != FLOE_E_EXISTS && ret != FLOE_E_BUSY &&
		    ret != FLOE_E_NOT_FOUND)
			return ret;
		floe_backoff(round);
	}
	return ret;
}

FLOE_EXPORT void floe_service_close(floe_service *svc)
{
	if (!svc)
		return;
	if (atomic_load(&svc->ports))
		floe_misuse(__func__, "service '%s' still has %d ports; "
			    "destroy them first", svc->name,
			    atomic_load(&svc->ports));
	floe_svc_release(svc, FLOE_SLOT_NODE, svc->node_slot,
			 svc->node->ref.id);
	atomic_fetch_sub(&svc->node->services, 1);
	floe_svc_reclaim_dead(svc);
	floe_svc_try_remove(svc);
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
