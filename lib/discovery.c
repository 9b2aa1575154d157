// SPDX-License-Identifier: MIT
/*
 * Discovery: what services and ports a domain holds, read from the
 * services' own shared segments (the same registry with or without the
 * module), without joining them.
 */
#include <stdlib.h>
#include <string.h>

#include "base/bounds.h"
#include "internal.h"

/* Call @fn for each readable service of the domain, any pattern. */
static int for_each_service(floe_node *node,
			    int (*fn)(floe_service *svc, void *ctx), void *ctx)
{
	int visited = 0, stop = 0;

	if (!node)
		return FLOE_E_INVALID;
	for (size_t k = 0; k < FLOE_PATTERNS && !stop; k++) {
		struct floe_name_list list;
		int ret = floe_list_kind(node, floe_patterns[k]->seg_kind,
					 &list);

		for (size_t i = 0; !ret && !stop && i < list.count; i++) {
			floe_service *svc;

			if (floe_svc_look(node, list.names[i], &svc))
				continue; /* another user's, or half-made */
			visited++;
			stop = fn(svc, ctx);
			floe_svc_detach(svc);
		}
		free(list.names);
		if (ret)
			return ret;
	}
	return visited;
}

static uint32_t taken(floe_service *svc, enum floe_slot_kind kind)
{
	uint32_t count = 0;

	for (uint32_t i = 0; i < svc->lay.slots[kind]; i++) {
		uint64_t owner = atomic_load(&floe_svc_slot(svc, kind, i)->owner);

		/* half-claimed and half-reclaimed slots, and senders gone,
		 * are no port */
		count += owner && !(owner & FLOE_SLOT_STATE);
	}
	return count;
}

static void describe(floe_service *svc, struct floe_service_info *info)
{
	memset(info, 0, sizeof(*info));
	memcpy(info->name, svc->name, sizeof(info->name));
	info->pattern = svc->pattern->kind;
	memcpy(info->type_name, svc->types[0].name, sizeof(info->type_name));
	info->type_size = svc->types[0].size;
	info->type_align = svc->types[0].align;
	if (svc->pattern->types > 1) {
		memcpy(info->response_type_name, svc->types[1].name,
		       sizeof(info->response_type_name));
		info->response_type_size = svc->types[1].size;
		info->response_type_align = svc->types[1].align;
	}
	svc->pattern->describe(&svc->qos, info);
	info->mode = __atomic_load_n(&svc->hdr->mode, __ATOMIC_RELAXED) & 0777;
	info->num_attributes = svc->num_attrs;
	for (uint32_t i = 0; i < svc->num_attrs; i++) {
		memcpy(info->attributes[i].key, svc->attrs[i].key,
		       sizeof(info->attributes[i].key));
		memcpy(info->attributes[i].value, svc->attrs[i].value,
		       sizeof(info->attributes[i].value));
	}
	info->nodes = taken(svc, FLOE_SLOT_NODE);
	info->publishers = taken(svc, FLOE_SLOT_SOURCE);
	info->subscribers = taken(svc, FLOE_SLOT_SINK);
}

struct service_walk {
	int (*cb)(const struct floe_service_info *info, void *ctx);
	void *ctx;
	struct floe_service_info info;
};

static int report_service(floe_service *svc, void *ctx)
{
	struct service_walk *w = ctx;

	describe(svc, &w->info);
	return w->cb(&w->info, w->ctx);
}

FLOE_EXPORT int floe_service_list(floe_node *node,
				  int (*cb)(const struct floe_service_info *,
					    void *),
				  void *ctx)
{
	struct service_walk *w;
	int ret;

	if (!cb)
		return FLOE_E_INVALID;
	/* the info is large: keep it off small thread stacks */
	w = calloc(1, sizeof(*w));
	if (!w)
		return FLOE_E_NOMEM;
	w->cb = cb;
	w->ctx = ctx;
	ret = for_each_service(node, report_service, w);
	free(w);
	return ret;
}

FLOE_EXPORT const char *floe_port_role_name(enum floe_port_role role)
{
	static const char *const names[] = {
		[FLOE_PORT_NODE] = "node",
		[FLOE_PORT_PUBLISHER] = "publisher",
		[FLOE_PORT_SUBSCRIBER] = "subscriber",
		[FLOE_PORT_NOTIFIER] = "notifier",
		[FLOE_PORT_LISTENER] = "listener",
		[FLOE_PORT_CLIENT] = "client",
		[FLOE_PORT_SERVER] = "server",
		[FLOE_PORT_WRITER] = "writer",
		[FLOE_PORT_READER] = "reader",
	};

	return (unsigned)role < sizeof(names) / sizeof(names[0]) && names[role]
		       ? names[role] : "unknown";
}

struct port_walk {
	int (*cb)(const struct floe_port_info *info, void *ctx);
	void *ctx;
	int visited;
};

/* The payload bytes of @samples samples with @extra elements beyond one
 * each, sent (@sending) or received by a port of slot @kind: 0 if it
 * moves no payload that way (a notifier's events). */
static uint64_t payload_bytes(floe_service *svc, enum floe_slot_kind kind,
			      bool sending, uint64_t samples, uint64_t extra)
{
	for (uint32_t k = 0; k < svc->ndirs; k++) {
		const struct floe_dir *d = &svc->dirs[k];

		if ((sending ? d->sender : d->receiver) == kind)
			return floe_mul_sat(floe_add_sat(samples, extra),
					    d->type_size);
	}
	return 0;
}

/* The counters of the port in slot @i, if it still holds @info->id. */
static void read_stats(floe_service *svc, enum floe_slot_kind kind,
		       uint32_t i, struct floe_port_info *info)
{
	const struct floe_port_stats *st = floe_svc_stats(svc, kind, i);
	struct floe_port_ref ref;

	info->sent = atomic_load_explicit(&st->sent, memory_order_relaxed);
	info->sent_bytes = payload_bytes(
		svc, kind, true, info->sent,
		atomic_load_explicit(&st->sent_extra, memory_order_relaxed));
	info->received = atomic_load_explicit(&st->received,
					      memory_order_relaxed);
	info->received_bytes = payload_bytes(
		svc, kind, false, info->received,
		atomic_load_explicit(&st->received_extra,
				     memory_order_relaxed));
	info->overflowed = atomic_load_explicit(&st->overflowed,
						memory_order_relaxed);
	info->undelivered = atomic_load_explicit(&st->undelivered,
						 memory_order_relaxed);
	/* a new port took the slot meanwhile: those were (partly) its */
	if (floe_svc_slot_owner(svc, kind, i, &ref) != info->id) {
		info->sent = info->sent_bytes = info->received = 0;
		info->received_bytes = info->overflowed = 0;
		info->undelivered = 0;
	}
}

static int report_ports(floe_service *svc, void *ctx)
{
	struct floe_backend *be = svc->node->be;
	struct port_walk *w = ctx;
	struct floe_port_info info;

	for (int k = 0; k < FLOE_SLOT_KINDS; k++) {
		for (uint32_t i = 0; i < svc->lay.slots[k]; i++) {
			struct floe_port_ref ref;

			if (!floe_svc_slot_owner(svc, k, i, &ref))
				continue;
			memset(&info, 0, sizeof(info));
			info.id = ref.id;
			info.node_id = ref.node_id;
			info.role = (enum floe_port_role)svc->pattern->roles[k];
			switch (be->ops->port_liveness(be, &ref)) {
			case FLOE_PORT_ALIVE:
				info.state = FLOE_NODE_ALIVE;
				break;
			case FLOE_PORT_DEAD:
				info.state = FLOE_NODE_DEAD;
				break;
			default:
				info.state = FLOE_NODE_INACCESSIBLE;
			}
			memcpy(info.service, svc->name, sizeof(info.service));
			info.pattern = svc->pattern->kind;
			if (k != FLOE_SLOT_NODE)
				read_stats(svc, k, i, &info);
			w->visited++;
			if (w->cb(&info, w->ctx))
				return 1;
		}
	}
	return 0;
}

FLOE_EXPORT int floe_port_list(floe_node *node,
			       int (*cb)(const struct floe_port_info *, void *),
			       void *ctx)
{
	struct port_walk w = { cb, ctx, 0 };
	int ret;

	if (!cb)
		return FLOE_E_INVALID;
	ret = for_each_service(node, report_ports, &w);
	return ret < 0 ? ret : w.visited;
}
