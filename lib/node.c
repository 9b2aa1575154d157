// SPDX-License-Identifier: MIT
/*
 * Nodes: a process's presence in a domain. A node registers itself with the
 * backend (with the module: a port of role "node") and publishes a small
 * record segment "<domain>.n.<id>" so that others can list it and tell
 * whether it is alive.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/floe.h>

#include "base/log.h"
#include "config.h"
#include "internal.h"

#define NODE_RECORD_MODE 0644 /* anyone may list nodes */

FLOE_EXPORT void floe_node_opts_init(struct floe_node_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
}

FLOE_EXPORT const char *floe_backend_name(enum floe_backend_kind kind)
{
	switch (kind) {
	case FLOE_BACKEND_KMOD:
		return "kmod";
	case FLOE_BACKEND_SHM:
		return "shm";
	default:
		return "auto";
	}
}

FLOE_EXPORT int floe_node_create(const char *name,
				 const struct floe_node_opts *opts,
				 floe_node **out)
{
	enum floe_backend_kind kind = opts ? opts->backend : FLOE_BACKEND_AUTO;
	const char *domain = opts && opts->domain ? opts->domain
						   : getenv("FLOE_DOMAIN");
	char seg_name[FLOE_SEG_NAME_MAX];
	struct floe_node_record *rec, init;
	struct floe_config *cfg;
	floe_node *node;
	int ret;

	if (!out || kind > FLOE_BACKEND_SHM)
		return FLOE_E_INVALID;
	/* an explicit domain is 1..16 characters; "" is no default */
	if (opts && opts->domain && !floe_domain_valid(opts->domain))
		return FLOE_E_NAME;
	/* options, then the environment, then the configuration files (the
	 * configuration names its files: off small thread stacks) */
	node = calloc(1, sizeof(*node));
	cfg = malloc(sizeof(*cfg));
	ret = node && cfg ? floe_config_load(cfg, NULL, 0) : FLOE_E_NOMEM;
	if (!ret) {
		floe_config_apply(cfg, &kind, &domain);
		if (!domain || !*domain)
			domain = "floe";
		if (!floe_user_name_valid(name, FLOE_NAME_LEN) ||
		    !floe_domain_valid(domain))
			ret = FLOE_E_NAME;
	}
	if (ret) {
		free(cfg);
		free(node);
		return ret;
	}
	node->record.fd = -1;
	snprintf(node->name, sizeof(node->name), "%s", name);
	node->pubsub_defaults = cfg->pubsub;
	node->event_defaults = cfg->event;
	node->rr_defaults = cfg->rr;
	node->blackboard_defaults = cfg->blackboard;
	/* the backend keeps its own copy of the domain (it may be in cfg) */
	ret = floe_backend_open(kind, domain, &node->be);
	free(cfg);
	if (ret)
		goto fail_free;
	ret = node->be->ops->port_register(node->be, FLOE_ROLE_NODE, name, 0,
					   &node->ref);
	if (ret)
		goto fail_backend;
	floe_seg_name(seg_name, node->be->domain, FLOE_KIND_NODE, node->ref.id,
		      0);
	init = (struct floe_node_record){
		.magic = FLOE_NODE_MAGIC,
		.version = FLOE_LAYOUT_VERSION,
		.ref = node->ref,
		.pid = getpid(),
		.created_ns = floe_now_ns(),
	};
	memcpy(init.name, node->name, sizeof(init.name));
	ret = node->be->ops->seg_create(node->be, seg_name, sizeof(init),
					NODE_RECORD_MODE, FLOE_SEG_OWNED_BY_PORT,
					&node->ref, &init, sizeof(init),
					&node->record);
	if (ret)
		goto fail_port;
	rec = node->record.addr;
	atomic_store_explicit(&rec->ready, 1, memory_order_release);
	*out = node;
	return 0;
fail_port:
	node->be->ops->port_unregister(node->be, &node->ref);
fail_backend:
	node->be->ops->destroy(node->be);
fail_free:
	free(node);
	return ret;
}

FLOE_EXPORT void floe_node_destroy(floe_node *node)
{
	char seg_name[FLOE_SEG_NAME_MAX];

	if (!node)
		return;
	if (atomic_load(&node->services))
		floe_misuse(__func__, "node '%s' still has %d open services; "
			    "close them first", node->name,
			    atomic_load(&node->services));
	floe_seg_name(seg_name, node->be->domain, FLOE_KIND_NODE, node->ref.id,
		      0);
	atomic_store(&((struct floe_node_record *)node->record.addr)->left, 1);
	node->be->ops->seg_unlink(node->be, seg_name);
	floe_seg_close(&node->record);
	node->be->ops->port_unregister(node->be, &node->ref);
	node->be->ops->destroy(node->be);
	free(node);
}

FLOE_EXPORT uint64_t floe_node_id(const floe_node *node)
{
	return node->ref.id;
}

FLOE_EXPORT enum floe_backend_kind floe_node_backend(const floe_node *node)
{
	return node->be->ops->kind;
}

static int collect_name(const char *name, void *ctx)
{
	struct floe_name_list *list = ctx;

	if (list->count == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 16;
		void *grown = realloc(list->names, cap * sizeof(*list->names));

		if (!grown) {
			list->err = FLOE_E_NOMEM;
			return 1;
		}
		list->names = grown;
		list->cap = cap;
	}
	snprintf(list->names[list->count++], FLOE_SEG_NAME_MAX, "%s", name);
	return 0;
}

/* Names of all segments of @kind in the domain; the caller frees. */
int floe_list_kind(floe_node *node, enum floe_seg_kind kind,
		   struct floe_name_list *list)
{
	char prefix[FLOE_SEG_NAME_MAX];
	int ret;

	memset(list, 0, sizeof(*list));
	floe_seg_prefix(prefix, node->be->domain, kind);
	ret = node->be->ops->seg_list(node->be, prefix, collect_name, list);
	if (ret < 0 && ret != FLOE_E_NOT_FOUND)
		return ret;
	return list->err;
}

/* Read what a node record says; state INACCESSIBLE when it can't be read. */
static void read_node(floe_node *node, const char *seg_name, uint64_t id,
		      struct floe_node_info *info)
{
	/* Without a readable record only the id is known: enough for the shm
	 * backend (liveness is per node), not for the module (per slot). */
	struct floe_port_ref ref = {
		.id = id, .node_id = id, .slot = FLOE_SLOT_UNKNOWN,
	};
	struct floe_seg seg = { .fd = -1 };
	const struct floe_node_record *rec;
	int open_ret;

	memset(info, 0, sizeof(*info));
	info->id = id;
	open_ret = node->be->ops->seg_open(node->be, seg_name, false, &seg);
	rec = seg.addr;
	if (!open_ret && seg.size >= sizeof(*rec) &&
	    rec->magic == FLOE_NODE_MAGIC &&
	    atomic_load_explicit(&((struct floe_node_record *)rec)->ready,
				 memory_order_acquire) &&
	    rec->ref.id == id) {
		ref = rec->ref;
		info->pid = rec->pid;
		memcpy(info->name, rec->name, sizeof(info->name) - 1);
	}
	if (!open_ret)
		floe_seg_close(&seg);
	if (open_ret == FLOE_E_NOT_FOUND) {
		info->state = FLOE_NODE_DEAD; /* went while we looked */
		return;
	}
	switch (node->be->ops->port_liveness(node->be, &ref)) {
	case FLOE_PORT_ALIVE:
		/* alive but unreadable to us: another user's, or half-made */
		info->state = info->pid ? FLOE_NODE_ALIVE
					: FLOE_NODE_INACCESSIBLE;
		break;
	case FLOE_PORT_DEAD:
		info->state = FLOE_NODE_DEAD;
		break;
	default:
		info->state = FLOE_NODE_INACCESSIBLE;
		break;
	}
}

/*
 * Read every node record of the domain and call @fn with what it says;
 * stop when @fn returns non-zero. Returns the number visited or an error.
 */
static int for_each_node(floe_node *node,
			 int (*fn)(floe_node *node, const char *seg_name,
				   const struct floe_node_info *info, void *ctx),
			 void *ctx)
{
	size_t plen = strlen(node->be->domain) + 3;
	struct floe_node_info info;
	struct floe_name_list list;
	int visited = 0;
	uint64_t id;
	int ret;

	ret = floe_list_kind(node, FLOE_KIND_NODE, &list);
	for (size_t i = 0; !ret && i < list.count; i++) {
		if (!floe_seg_name_id(list.names[i], plen, &id) ||
		    list.names[i][plen + 16])
			continue;
		read_node(node, list.names[i], id, &info);
		visited++;
		if (fn(node, list.names[i], &info, ctx))
			break;
	}
	free(list.names);
	return ret ? ret : visited;
}

struct list_ctx {
	int (*cb)(const struct floe_node_info *info, void *ctx);
	void *ctx;
};

static int list_one(floe_node *node, const char *seg_name,
		    const struct floe_node_info *info, void *ctx)
{
	struct list_ctx *lc = ctx;

	(void)node;
	(void)seg_name;
	return lc->cb(info, lc->ctx);
}

FLOE_EXPORT int floe_node_list(floe_node *node,
			       int (*cb)(const struct floe_node_info *, void *),
			       void *ctx)
{
	struct list_ctx lc = { cb, ctx };

	if (!node || !cb)
		return FLOE_E_INVALID;
	return for_each_node(node, list_one, &lc);
}

/*
 * Unlink data segment @name if its header names publisher @id as owner and
 * that port is dead or has left. Ids come from shared memory a peer may
 * have forged: the header (writable by its owner only) and the liveness
 * check keep a live publisher's data (of any service) out of reach.
 */
static void unlink_if_gone_publisher(struct floe_backend *be,
				     const char *name, uint64_t id)
{
	struct floe_seg seg = { .fd = -1 };
	struct floe_data_header dh;

	if (be->ops->seg_open(be, name, false, &seg))
		return;
	if (seg.size >= sizeof(dh)) {
		memcpy(&dh, seg.addr, sizeof(dh));
		/* only a complete header names the owner to ask */
		if (dh.magic == FLOE_DATA_MAGIC && dh.publisher_id == id &&
		    dh.owner.id == id &&
		    (dh.departed ||
		     be->ops->port_liveness(be, &dh.owner) == FLOE_PORT_DEAD))
			be->ops->seg_unlink(be, name);
	}
	floe_seg_close(&seg);
}

void floe_unlink_publisher_data(struct floe_backend *be, uint64_t pub_id)
{
	char prefix[FLOE_SEG_NAME_MAX];
	struct floe_name_list list = { 0 };

	floe_seg_name(prefix, be->domain, FLOE_KIND_DATA, pub_id, 0);
	strcat(prefix, ".");
	be->ops->seg_list(be, prefix, collect_name, &list);
	for (size_t i = 0; i < list.count; i++)
		unlink_if_gone_publisher(be, list.names[i], pub_id);
	free(list.names);
}

static bool has_id(const struct floe_id_list *list, uint64_t id)
{
	for (size_t i = 0; i < list->count; i++)
		if (list->ids[i] == id)
			return true;
	return false;
}

/* Of the data segments in @data (listed before @senders was collected),
 * those whose publisher is gone and that no service still refers to
 * (whose data nobody may still read), left named by a crash at the wrong
 * moment. A segment listed after the collection began could be a new
 * publisher's that no service named yet when it was visited. */
static void sweep_orphan_data(floe_node *node,
			      const struct floe_name_list *data,
			      const struct floe_id_list *senders)
{
	size_t plen = strlen(node->be->domain) + 3;

	for (size_t i = 0; i < data->count; i++) {
		uint64_t id;

		if (floe_seg_name_id(data->names[i], plen, &id) &&
		    !has_id(senders, id))
			unlink_if_gone_publisher(node->be, data->names[i], id);
	}
}

static int remove_if_dead(floe_node *node, const char *seg_name,
			  const struct floe_node_info *info, void *ctx)
{
	int *cleaned = ctx;

	if (info->state == FLOE_NODE_DEAD &&
	    !node->be->ops->seg_unlink(node->be, seg_name)) {
		(*cleaned)++;
		floe_log(FLOE_LOG_WARN, "node %llu '%s' (pid %d) is dead; "
			 "removed its record", (unsigned long long)info->id,
			 info->name, (int)info->pid);
	}
	return 0;
}

FLOE_EXPORT int floe_node_cleanup_dead(floe_node *node)
{
	struct floe_id_list senders = { 0 };
	struct floe_name_list list, data = { 0 };
	int cleaned = 0;
	int ret;

	if (!node)
		return FLOE_E_INVALID;
	ret = for_each_node(node, remove_if_dead, &cleaned);
	/* the data first, then who may still need it */
	if (ret >= 0)
		senders.err = floe_list_kind(node, FLOE_KIND_DATA, &data);
	for (size_t k = 0; ret >= 0 && k < FLOE_PATTERNS; k++) {
		int r = floe_list_kind(node, floe_patterns[k]->seg_kind, &list);

		for (size_t i = 0; !r && i < list.count; i++)
			floe_service_cleanup_by_name(node, list.names[i],
						     &senders);
		free(list.names);
		if (r)
			ret = r;
	}
	/* an incomplete list of senders would sweep data still to be read */
	if (ret >= 0 && !senders.err)
		sweep_orphan_data(node, &data, &senders);
	free(data.names);
	free(senders.ids);
	return ret < 0 ? ret : cleaned;
}

/* The defaults the configuration files gave when @node was created. */
#define QOS_FROM_CONFIG(fn, type, field)                                     \
	FLOE_EXPORT int fn(const floe_node *node, type *qos)                 \
	{                                                                    \
		if (!node || !qos)                                           \
			return FLOE_E_INVALID;                               \
		*qos = node->field;                                          \
		return 0;                                                    \
	}

QOS_FROM_CONFIG(floe_pubsub_qos_init_from_config, struct floe_pubsub_qos,
		pubsub_defaults)
QOS_FROM_CONFIG(floe_event_qos_init_from_config, struct floe_event_qos,
		event_defaults)
QOS_FROM_CONFIG(floe_rr_qos_init_from_config, struct floe_rr_qos, rr_defaults)
QOS_FROM_CONFIG(floe_blackboard_qos_init_from_config,
		struct floe_blackboard_qos, blackboard_defaults)
