// SPDX-License-Identifier: MIT
/*
 * Discovery: what services and ports a domain holds, read from the
 * services' own shared segments (the same registry with or without the
 * module), without joining them.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Call @fn for each readable service of the domain, any pattern. */
static int for_each_service(floe_node *node,
			    int (*fn)(floe_service *svc, void *ctx), void *ctx)
{
	static const enum floe_seg_kind kinds[] = { FLOE_KIND_SERVICE,
						    FLOE_KIND_EVENT,
						    FLOE_KIND_BLACKBOARD,
						    FLOE_KIND_REQUEST_RESPONSE };
	int visited = 0, stop = 0;

	if (!node)
		return FLOE_E_INVALID;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]) && !stop;
	     k++) {
		struct floe_name_list list;
		int ret = floe_list_kind(node, kinds[k], &list);

		for (size_t i = 0; !ret && !stop && i < list.count; i++) {
			floe_service *svc;

			if (floe_svc_attach(node, list.names[i], &svc))
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

static uint32_t taken(floe_service *svc, char kind, uint32_t n)
{
	uint32_t count = 0;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t owner = atomic_load(&floe_svc_slot(svc, kind, i)->owner);

		/* half-claimed and half-reclaimed slots are no port */
		count += owner && !(owner & FLOE_SLOT_STATE);
	}
	return count;
}

static enum floe_pattern_kind pattern_kind(uint32_t pattern)
{
	switch (pattern) {
	case FLOE_PATTERN_EVENT:
		return FLOE_PATTERN_KIND_EVENT;
	case FLOE_PATTERN_BLACKBOARD:
		return FLOE_PATTERN_KIND_BLACKBOARD;
	case FLOE_PATTERN_REQUEST_RESPONSE:
		return FLOE_PATTERN_KIND_REQUEST_RESPONSE;
	default:
		return FLOE_PATTERN_KIND_PUBSUB;
	}
}

static void describe(floe_service *svc, struct floe_service_info *info)
{
	const struct floe_shm_qos *q = &svc->qos;

	memset(info, 0, sizeof(*info));
	memcpy(info->name, svc->name, sizeof(info->name));
	memcpy(info->type_name, svc->type_name, sizeof(info->type_name));
	info->pattern = pattern_kind(q->pattern);
	info->type_size = svc->type_size;
	info->type_align = svc->type_align;
	if (info->pattern == FLOE_PATTERN_KIND_PUBSUB) {
		floe_service_qos(svc, &info->qos);
	} else if (info->pattern == FLOE_PATTERN_KIND_BLACKBOARD) {
		info->blackboard_qos = (struct floe_blackboard_qos){
			.max_readers = q->max_subscribers,
			.max_nodes = q->max_nodes,
		};
		info->blackboard_entries = q->bb_entries;
	} else if (info->pattern == FLOE_PATTERN_KIND_REQUEST_RESPONSE) {
		floe_rr_qos(svc, &info->rr_qos);
		memcpy(info->response_type_name, svc->resp_type_name,
		       sizeof(info->response_type_name));
		info->response_type_size = svc->resp_type_size;
		info->response_type_align = svc->resp_type_align;
	} else {
		info->event_qos = (struct floe_event_qos){
			.max_notifiers = q->max_publishers,
			.max_listeners = q->max_subscribers,
			.max_nodes = q->max_nodes,
			.event_id_max = q->event_id_max,
		};
	}
	info->mode = __atomic_load_n(&svc->hdr->mode, __ATOMIC_RELAXED) & 0777;
	info->num_attributes = svc->num_attrs;
	for (uint32_t i = 0; i < svc->num_attrs; i++) {
		memcpy(info->attributes[i].key, svc->attrs[i].key,
		       sizeof(info->attributes[i].key));
		memcpy(info->attributes[i].value, svc->attrs[i].value,
		       sizeof(info->attributes[i].value));
	}
	info->nodes = taken(svc, 'n', q->max_nodes);
	info->publishers = taken(svc, 'p', q->max_publishers);
	info->subscribers = taken(svc, 's', q->max_subscribers);
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

struct port_walk {
	int (*cb)(const struct floe_port_info *info, void *ctx);
	void *ctx;
	int visited;
};

static enum floe_port_role port_role(char kind, uint32_t pattern)
{
	bool event = pattern == FLOE_PATTERN_EVENT;

	if (kind == 'n')
		return FLOE_PORT_NODE;
	if (pattern == FLOE_PATTERN_BLACKBOARD)
		return kind == 'p' ? FLOE_PORT_WRITER : FLOE_PORT_READER;
	if (pattern == FLOE_PATTERN_REQUEST_RESPONSE)
		return kind == 'p' ? FLOE_PORT_CLIENT : FLOE_PORT_SERVER;
	if (kind == 'p')
		return event ? FLOE_PORT_NOTIFIER : FLOE_PORT_PUBLISHER;
	return event ? FLOE_PORT_LISTENER : FLOE_PORT_SUBSCRIBER;
}

static int report_ports(floe_service *svc, void *ctx)
{
	static const char kinds[] = { 'n', 'p', 's' };
	const uint32_t counts[] = { svc->qos.max_nodes, svc->qos.max_publishers,
				    svc->qos.max_subscribers };
	struct floe_backend *be = svc->node->be;
	struct port_walk *w = ctx;
	struct floe_port_info info;

	for (size_t k = 0; k < sizeof(kinds); k++) {
		for (uint32_t i = 0; i < counts[k]; i++) {
			struct floe_port_ref ref;

			if (!floe_svc_slot_owner(svc, kinds[k], i, &ref))
				continue;
			memset(&info, 0, sizeof(info));
			info.id = ref.id;
			info.node_id = ref.node_id;
			info.role = port_role(kinds[k], svc->qos.pattern);
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
			info.pattern = pattern_kind(svc->qos.pattern);
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
