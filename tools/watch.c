// SPDX-License-Identifier: MIT
/*
 * floe watch: the domain's changes as they happen (floe_watch), one line
 * (or one JSON object) per change.
 */
#include <inttypes.h>

#include "cli.h"

static const char *kind_name(enum floe_watch_event_kind kind)
{
	switch (kind) {
	case FLOE_WATCH_NODE_CREATED: return "node-created";
	case FLOE_WATCH_NODE_DEAD: return "node-dead";
	case FLOE_WATCH_NODE_REMOVED: return "node-removed";
	case FLOE_WATCH_SERVICE_CREATED: return "service-created";
	case FLOE_WATCH_SERVICE_REMOVED: return "service-removed";
	case FLOE_WATCH_PORT_CREATED: return "port-created";
	case FLOE_WATCH_PORT_DEAD: return "port-dead";
	case FLOE_WATCH_PORT_REMOVED: return "port-removed";
	}
	return "?";
}

struct watch_ctx {
	struct cli *cli;
	floe_watch *watch;
	long seen;
};

static json_object *hex_id(uint64_t id)
{
	char buf[20];

	snprintf(buf, sizeof(buf), "%016" PRIx64, id);
	return json_object_new_string(buf);
}

static void on_change(const struct floe_watch_event *ev, void *ctx)
{
	struct watch_ctx *wc = ctx;
	bool node = ev->kind <= FLOE_WATCH_NODE_REMOVED;
	bool port = ev->kind >= FLOE_WATCH_PORT_CREATED;
	json_object *obj;

	/* changes seen together arrive together: stop at --count */
	if (wc->cli->count >= 0 && wc->seen >= wc->cli->count)
		return;
	wc->seen++;
	obj = json_object_new_object();
	json_object_object_add(obj, "change",
			       json_object_new_string(kind_name(ev->kind)));
	if (node || port)
		json_object_object_add(obj, "node", hex_id(ev->node_id));
	if (node) {
		json_object_object_add(obj, "pid", json_object_new_int(ev->pid));
		json_object_object_add(obj, "name",
				       json_object_new_string(ev->name));
	} else {
		json_object_object_add(obj, "service",
				       json_object_new_string(ev->name));
		json_object_object_add(
			obj, "pattern",
			json_object_new_string(pattern_name(ev->pattern)));
	}
	if (port) {
		json_object_object_add(obj, "port", hex_id(ev->port_id));
		json_object_object_add(
			obj, "role", json_object_new_string(floe_port_role_name(ev->role)));
	}
	if (wc->cli->json) {
		print_json(obj, true);
	} else if (node) {
		printf("%-16s node %016" PRIx64 " pid %d %s\n",
		       kind_name(ev->kind), ev->node_id, ev->pid, ev->name);
	} else if (port) {
		printf("%-16s %s %016" PRIx64 " of node %016" PRIx64 " on %s\n",
		       kind_name(ev->kind), floe_port_role_name(ev->role), ev->port_id,
		       ev->node_id, ev->name);
	} else {
		printf("%-16s %s (%s)\n", kind_name(ev->kind), ev->name,
		       pattern_name(ev->pattern));
	}
	json_object_put(obj);
	cli_flush();
}

static int watch_slice(void *ctx, uint64_t slice_ns)
{
	struct watch_ctx *wc = ctx;

	return floe_watch_timed_wait(wc->watch, slice_ns, on_change, wc);
}

int cmd_watch(struct cli *cli, int argc, char **argv)
{
	struct watch_ctx wc = { cli, NULL, 0 };
	int ret = floe_watch_create(cli->node, &wc.watch);

	(void)argc;
	(void)argv;
	if (ret)
		return cli_fail(cli, ret, "watching the domain");
	ret = cli_wait_for(cli, "changes", &wc.seen, "watching", watch_slice,
			   &wc);
	floe_watch_destroy(wc.watch);
	return ret;
}
