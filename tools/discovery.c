// SPDX-License-Identifier: MIT
/*
 * floe node list|show|cleanup, floe service list|show, floe port list:
 * the discovery API's answers as JSON objects, sorted so that the output is
 * stable from one run to the next.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const struct column node_columns[] = {
	{ "ID", "id" },
	{ "PID", "pid" },
	{ "STATE", "state" },
	{ "NAME", "name" },
};
const size_t node_columns_len = sizeof(node_columns) / sizeof(node_columns[0]);

const struct column service_columns[] = {
	{ "NAME", "name" },
	{ "PATTERN", "pattern" },
	{ "TYPE", "type" },
	{ "SIZE", "type_size" },
	{ "ALIGN", "type_align" },
	{ "NODES", "nodes" },
	{ "PUB/NOTIF", "publishers|notifiers|writers|clients" },
	{ "SUB/LISTEN", "subscribers|listeners|readers|servers" },
};
const size_t service_columns_len =
	sizeof(service_columns) / sizeof(service_columns[0]);

const struct column port_columns[] = {
	{ "ID", "id" },
	{ "ROLE", "role" },
	{ "STATE", "state" },
	{ "NODE", "node" },
	{ "PID", "pid" },
	{ "PATTERN", "pattern" },
	{ "SERVICE", "service" },
};
const size_t port_columns_len = sizeof(port_columns) / sizeof(port_columns[0]);

static const char *state_name(enum floe_node_state state)
{
	switch (state) {
	case FLOE_NODE_ALIVE:
		return "alive";
	case FLOE_NODE_DEAD:
		return "dead";
	default:
		return "inaccessible";
	}
}

const char *pattern_name(enum floe_pattern_kind pattern)
{
	switch (pattern) {
	case FLOE_PATTERN_KIND_EVENT:
		return "event";
	case FLOE_PATTERN_KIND_BLACKBOARD:
		return "blackboard";
	case FLOE_PATTERN_KIND_REQUEST_RESPONSE:
		return "request-response";
	default:
		return "pubsub";
	}
}

static void add(json_object *obj, const char *key, json_object *val)
{
	json_object_object_add(obj, key, val);
}

uint64_t member_u64(json_object *obj, const char *key)
{
	json_object *val;

	return json_object_object_get_ex(obj, key, &val)
		       ? json_object_get_uint64(val) : 0;
}

const char *member_str(json_object *obj, const char *key)
{
	json_object *val;

	return json_object_object_get_ex(obj, key, &val)
		       ? json_object_get_string(val) : "";
}

/* json_object_array_sort comparators: they receive pointers to elements */
static int by_id(const void *a, const void *b)
{
	uint64_t x = member_u64(*(json_object *const *)a, "id");
	uint64_t y = member_u64(*(json_object *const *)b, "id");

	return (x > y) - (x < y);
}

static int by_service_then_id(const void *a, const void *b)
{
	json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b;
	int c = strcmp(member_str(x, "service"), member_str(y, "service"));

	if (!c)
		c = strcmp(member_str(x, "pattern"), member_str(y, "pattern"));
	return c ? c : by_id(a, b);
}

static int by_name_then_pattern(const void *a, const void *b)
{
	json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b;
	int c = strcmp(member_str(x, "name"), member_str(y, "name"));

	return c ? c : strcmp(member_str(x, "pattern"), member_str(y, "pattern"));
}

/* ------------------------------------------------------------------ */
/* Nodes                                                              */
/* ------------------------------------------------------------------ */

struct node_walk {
	uint64_t self;
	json_object *rows;
};

static int on_node(const struct floe_node_info *info, void *ctx)
{
	struct node_walk *w = ctx;
	json_object *row;

	if (info->id == w->self)
		return 0;
	row = json_object_new_object();
	add(row, "id", json_object_new_uint64(info->id));
	add(row, "pid", info->pid ? json_object_new_int(info->pid) : NULL);
	add(row, "state", json_object_new_string(state_name(info->state)));
	add(row, "name", json_object_new_string(info->name));
	json_object_array_add(w->rows, row);
	return 0;
}

json_object *collect_nodes(struct cli *cli, int *err)
{
	struct node_walk w = { floe_node_id(cli->node),
			       json_object_new_array() };
	int ret = floe_node_list(cli->node, on_node, &w);

	if (ret < 0) {
		json_object_put(w.rows);
		*err = ret;
		return NULL;
	}
	json_object_array_sort(w.rows, by_id);
	return w.rows;
}

/* ------------------------------------------------------------------ */
/* Ports                                                              */
/* ------------------------------------------------------------------ */

struct port_walk {
	json_object *nodes; /* to learn each port's pid */
	json_object *rows;
};

static json_object *node_pid(json_object *nodes, uint64_t node_id)
{
	for (size_t i = 0; i < json_object_array_length(nodes); i++) {
		json_object *node = json_object_array_get_idx(nodes, i), *pid;

		if (member_u64(node, "id") == node_id &&
		    json_object_object_get_ex(node, "pid", &pid))
			return json_object_get(pid);
	}
	return NULL;
}

static int on_port(const struct floe_port_info *info, void *ctx)
{
	struct port_walk *w = ctx;
	json_object *row = json_object_new_object();

	add(row, "id", json_object_new_uint64(info->id));
	add(row, "role", json_object_new_string(floe_port_role_name(info->role)));
	add(row, "state", json_object_new_string(state_name(info->state)));
	add(row, "node", json_object_new_uint64(info->node_id));
	add(row, "pid", node_pid(w->nodes, info->node_id));
	add(row, "pattern", json_object_new_string(pattern_name(info->pattern)));
	add(row, "service", json_object_new_string(info->service));
	add(row, "sent", json_object_new_uint64(info->sent));
	add(row, "sent_bytes", json_object_new_uint64(info->sent_bytes));
	add(row, "received", json_object_new_uint64(info->received));
	add(row, "received_bytes", json_object_new_uint64(info->received_bytes));
	add(row, "overflowed", json_object_new_uint64(info->overflowed));
	add(row, "undelivered", json_object_new_uint64(info->undelivered));
	json_object_array_add(w->rows, row);
	return 0;
}

json_object *collect_ports(struct cli *cli, int *err)
{
	struct port_walk w = { collect_nodes(cli, err), NULL };
	int ret;

	if (!w.nodes)
		return NULL;
	w.rows = json_object_new_array();
	ret = floe_port_list(cli->node, on_port, &w);
	json_object_put(w.nodes);
	if (ret < 0) {
		json_object_put(w.rows);
		*err = ret;
		return NULL;
	}
	json_object_array_sort(w.rows, by_service_then_id);
	return w.rows;
}

/* ------------------------------------------------------------------ */
/* Services                                                           */
/* ------------------------------------------------------------------ */

static json_object *pubsub_qos(const struct floe_pubsub_qos *q)
{
	json_object *obj = json_object_new_object();

	add(obj, "max_publishers", json_object_new_int64(q->max_publishers));
	add(obj, "max_subscribers", json_object_new_int64(q->max_subscribers));
	add(obj, "max_nodes", json_object_new_int64(q->max_nodes));
	add(obj, "subscriber_max_buffer_size",
	    json_object_new_int64(q->subscriber_max_buffer_size));
	add(obj, "subscriber_max_borrowed_samples",
	    json_object_new_int64(q->subscriber_max_borrowed_samples));
	add(obj, "history_size", json_object_new_int64(q->history_size));
	add(obj, "publisher_max_loaned_samples",
	    json_object_new_int64(q->publisher_max_loaned_samples));
	add(obj, "user_header_size", json_object_new_int64(q->user_header_size));
	add(obj, "enable_safe_overflow",
	    json_object_new_boolean(q->enable_safe_overflow));
	return obj;
}

static json_object *event_qos(const struct floe_event_qos *q)
{
	json_object *obj = json_object_new_object();

	add(obj, "max_notifiers", json_object_new_int64(q->max_notifiers));
	add(obj, "max_listeners", json_object_new_int64(q->max_listeners));
	add(obj, "max_nodes", json_object_new_int64(q->max_nodes));
	add(obj, "event_id_max", json_object_new_int64(q->event_id_max));
	if (q->deadline_ns)
		add(obj, "deadline_ns", json_object_new_uint64(q->deadline_ns));
	if (q->lifecycle & FLOE_EVENT_NOTIFIER_CREATED)
		add(obj, "notifier_created_event",
		    json_object_new_int64(q->notifier_created_event));
	if (q->lifecycle & FLOE_EVENT_NOTIFIER_DROPPED)
		add(obj, "notifier_dropped_event",
		    json_object_new_int64(q->notifier_dropped_event));
	if (q->lifecycle & FLOE_EVENT_NOTIFIER_DEAD)
		add(obj, "notifier_dead_event",
		    json_object_new_int64(q->notifier_dead_event));
	return obj;
}

static json_object *blackboard_qos(const struct floe_blackboard_qos *q)
{
	json_object *obj = json_object_new_object();

	add(obj, "max_readers", json_object_new_int64(q->max_readers));
	add(obj, "max_nodes", json_object_new_int64(q->max_nodes));
	return obj;
}

static json_object *rr_qos(const struct floe_rr_qos *q)
{
	json_object *obj = json_object_new_object();

	add(obj, "max_clients", json_object_new_int64(q->max_clients));
	add(obj, "max_servers", json_object_new_int64(q->max_servers));
	add(obj, "max_nodes", json_object_new_int64(q->max_nodes));
	add(obj, "max_active_requests_per_client",
	    json_object_new_int64(q->max_active_requests_per_client));
	add(obj, "max_loaned_requests",
	    json_object_new_int64(q->max_loaned_requests));
	add(obj, "max_response_buffer_size",
	    json_object_new_int64(q->max_response_buffer_size));
	add(obj, "max_loaned_responses",
	    json_object_new_int64(q->max_loaned_responses));
	add(obj, "enable_fire_and_forget",
	    json_object_new_boolean(q->enable_fire_and_forget));
	return obj;
}

/* What service list shows; service show adds QoS, mode and attributes. */
static json_object *service_object(const struct floe_service_info *info,
				   bool details)
{
	bool event = info->pattern == FLOE_PATTERN_KIND_EVENT;
	bool blackboard = info->pattern == FLOE_PATTERN_KIND_BLACKBOARD;
	bool rr = info->pattern == FLOE_PATTERN_KIND_REQUEST_RESPONSE;
	json_object *obj = json_object_new_object(), *attrs;
	char mode[8];

	add(obj, "name", json_object_new_string(info->name));
	add(obj, "pattern", json_object_new_string(pattern_name(info->pattern)));
	if (blackboard) {
		add(obj, "entries",
		    json_object_new_int64(info->blackboard_entries));
		add(obj, "nodes", json_object_new_int64(info->nodes));
		add(obj, "writers", json_object_new_int64(info->publishers));
		add(obj, "readers", json_object_new_int64(info->subscribers));
	} else if (!event) {
		add(obj, "type", json_object_new_string(info->type_name));
		add(obj, "type_size", json_object_new_uint64(info->type_size));
		add(obj, "type_align", json_object_new_uint64(info->type_align));
	}
	if (rr) {
		add(obj, "response_type",
		    json_object_new_string(info->response_type_name));
		add(obj, "response_type_size",
		    json_object_new_uint64(info->response_type_size));
		add(obj, "response_type_align",
		    json_object_new_uint64(info->response_type_align));
		add(obj, "nodes", json_object_new_int64(info->nodes));
		add(obj, "clients", json_object_new_int64(info->publishers));
		add(obj, "servers", json_object_new_int64(info->subscribers));
	} else if (!blackboard) {
		add(obj, "nodes", json_object_new_int64(info->nodes));
		add(obj, event ? "notifiers" : "publishers",
		    json_object_new_int64(info->publishers));
		add(obj, event ? "listeners" : "subscribers",
		    json_object_new_int64(info->subscribers));
	}
	for (uint32_t i = 0; i < info->num_attributes; i++)
		if (!strcmp(info->attributes[i].key, DEADLINE_ATTRIBUTE))
			add(obj, DEADLINE_ATTRIBUTE, json_object_new_uint64(
				strtoull(info->attributes[i].value, NULL, 10)));
	if (!details)
		return obj;
	snprintf(mode, sizeof(mode), "%04o", info->mode);
	add(obj, "mode", json_object_new_string(mode));
	add(obj, "qos", blackboard ? blackboard_qos(&info->blackboard_qos)
			: event	   ? event_qos(&info->event_qos)
			: rr	   ? rr_qos(&info->rr_qos)
				   : pubsub_qos(&info->qos));
	attrs = json_object_new_object();
	for (uint32_t i = 0; i < info->num_attributes; i++)
		add(attrs, info->attributes[i].key,
		    json_object_new_string(info->attributes[i].value));
	add(obj, "attributes", attrs);
	return obj;
}

struct service_walk {
	const char *name; /* NULL: every service */
	bool details;
	json_object *rows;
};

static int on_service(const struct floe_service_info *info, void *ctx)
{
	struct service_walk *w = ctx;

	if (!w->name || !strcmp(w->name, info->name))
		json_object_array_add(w->rows,
				      service_object(info, w->details));
	return 0;
}

static json_object *find_services(struct cli *cli, const char *name,
				  bool details, int *err)
{
	struct service_walk w = { name, details, json_object_new_array() };
	int ret = floe_service_list(cli->node, on_service, &w);

	if (ret < 0) {
		json_object_put(w.rows);
		*err = ret;
		return NULL;
	}
	json_object_array_sort(w.rows, by_name_then_pattern);
	return w.rows;
}

json_object *collect_services(struct cli *cli, int *err)
{
	return find_services(cli, NULL, false, err);
}

/* ------------------------------------------------------------------ */
/* Verbs                                                              */
/* ------------------------------------------------------------------ */

int cmd_node_list(struct cli *cli, int argc, char **argv)
{
	int err = 0;
	json_object *rows = collect_nodes(cli, &err);

	(void)argc;
	(void)argv;
	if (!rows)
		return cli_fail(cli, err, "listing nodes");
	print_rows(cli, rows, node_columns, node_columns_len);
	json_object_put(rows);
	return EXIT_OK;
}

/* The ports @match selects for @owner, without the members @drop names
 * (they would only repeat what selected them). */
static json_object *select_ports(json_object *ports,
				 bool (*match)(json_object *port,
					       json_object *owner),
				 json_object *owner, const char *const drop[])
{
	json_object *out = json_object_new_array();

	for (size_t i = 0; i < json_object_array_length(ports); i++) {
		json_object *port = json_object_array_get_idx(ports, i);

		if (!match(port, owner))
			continue;
		for (size_t k = 0; drop[k]; k++)
			json_object_object_del(port, drop[k]);
		json_object_array_add(out, json_object_get(port));
	}
	return out;
}

/* A port's counters: for port list --json, floe top and floe hz, not
 * for the show verbs, which say what a node or service is. */
#define TRAFFIC_KEYS                                                    \
	"sent", "sent_bytes", "received", "received_bytes", "overflowed", \
		"undelivered"

static bool port_of_node(json_object *port, json_object *node)
{
	return member_u64(port, "node") == member_u64(node, "id");
}

static bool port_of_service(json_object *port, json_object *svc)
{
	return !strcmp(member_str(port, "service"), member_str(svc, "name")) &&
	       !strcmp(member_str(port, "pattern"), member_str(svc, "pattern"));
}

int cmd_node_show(struct cli *cli, int argc, char **argv)
{
	json_object *nodes, *ports, *node = NULL;
	char *end;
	uint64_t id;
	int err = 0;

	(void)argc;
	errno = 0;
	id = strtoull(argv[0], &end, 10);
	if (argv[0][0] < '0' || argv[0][0] > '9' || *end || errno) {
		cli_error(cli, "'%s' is not a node id (see floe node list)",
			  argv[0]);
		return EXIT_USAGE;
	}
	nodes = collect_nodes(cli, &err);
	if (!nodes)
		return cli_fail(cli, err, "listing nodes");
	for (size_t i = 0; i < json_object_array_length(nodes) && !node; i++)
		if (member_u64(json_object_array_get_idx(nodes, i), "id") == id)
			node = json_object_get(json_object_array_get_idx(nodes, i));
	json_object_put(nodes);
	if (!node) {
		cli_error(cli, "no node %s in this domain", argv[0]);
		return EXIT_NOT_FOUND;
	}
	ports = collect_ports(cli, &err);
	if (!ports) {
		json_object_put(node);
		return cli_fail(cli, err, "listing ports");
	}
	add(node, "ports", select_ports(ports, port_of_node, node,
					(const char *const[]){ "node", "pid",
							       TRAFFIC_KEYS,
							       NULL }));
	json_object_put(ports);
	print_object(cli, node);
	json_object_put(node);
	return EXIT_OK;
}

int cmd_node_cleanup(struct cli *cli, int argc, char **argv)
{
	int removed = floe_node_cleanup_dead(cli->node);
	json_object *obj;

	(void)argc;
	(void)argv;
	if (removed < 0)
		return cli_fail(cli, removed, "cleaning up dead nodes");
	obj = json_object_new_object();
	add(obj, "removed", json_object_new_int(removed));
	if (cli->json)
		print_json(obj, false);
	else
		printf("removed %d dead node%s\n", removed,
		       removed == 1 ? "" : "s");
	json_object_put(obj);
	return EXIT_OK;
}

int cmd_service_list(struct cli *cli, int argc, char **argv)
{
	int err = 0;
	json_object *rows = collect_services(cli, &err);

	(void)argc;
	(void)argv;
	if (!rows)
		return cli_fail(cli, err, "listing services");
	print_rows(cli, rows, service_columns, service_columns_len);
	json_object_put(rows);
	return EXIT_OK;
}

int cmd_service_show(struct cli *cli, int argc, char **argv)
{
	json_object *services, *ports;
	size_t n;
	int err = 0;

	(void)argc;
	services = find_services(cli, argv[0], true, &err);
	if (!services)
		return cli_fail(cli, err, "listing services");
	n = json_object_array_length(services);
	if (!n) {
		json_object_put(services);
		cli_error(cli, "no service '%s' in this domain", argv[0]);
		return EXIT_NOT_FOUND;
	}
	ports = collect_ports(cli, &err);
	if (!ports) {
		json_object_put(services);
		return cli_fail(cli, err, "listing ports");
	}
	for (size_t i = 0; i < n; i++) {
		json_object *svc = json_object_array_get_idx(services, i);

		add(svc, "ports",
		    select_ports(ports, port_of_service, svc,
				 (const char *const[]){ "service", "pattern",
							TRAFFIC_KEYS, NULL }));
		if (!cli->json)
			print_object(cli, svc);
		if (!cli->json && i + 1 < n)
			putchar('\n');
	}
	/* a name may carry a pub-sub and an event service: always an array */
	if (cli->json)
		print_json(services, false);
	json_object_put(ports);
	json_object_put(services);
	return EXIT_OK;
}

int cmd_port_list(struct cli *cli, int argc, char **argv)
{
	int err = 0;
	json_object *rows = collect_ports(cli, &err);

	(void)argc;
	(void)argv;
	if (!rows)
		return cli_fail(cli, err, "listing ports");
	print_rows(cli, rows, port_columns, port_columns_len);
	json_object_put(rows);
	return EXIT_OK;
}
