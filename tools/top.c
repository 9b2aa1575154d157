// SPDX-License-Identifier: MIT
/*
 * floe top: a refreshing view of a floe system.
 *
 * With the kernel module loaded, ports, segments and totals come from
 * /sys/kernel/floe (every domain: the kernel keeps no domain per port);
 * without it, nodes, ports and totals of the domain come from the shared
 * registry through the discovery API. The domain's services are listed in
 * both cases, with their rates (tools/rates.c: from the ports' counters in
 * the registry, which sysfs does not show), busiest first. With --json
 * each view is one JSON object on one line.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define SYSFS_ROOT "/sys/kernel/floe"
#define DEFAULT_INTERVAL_MS 1000
/* The first view's rates are measured over this (or the interval, if
 * shorter), so that even --once shows them. */
#define FIRST_WINDOW_MS 250

/* The first line of a sysfs attribute, without its newline. */
static bool read_attr(const char *dir, const char *name, char *buf,
		      size_t size)
{
	char path[512];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "re");
	if (!f)
		return false;
	ok = fgets(buf, (int)size, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

static json_object *attr_number(const char *dir, const char *name)
{
	char buf[32];

	/* an entry that vanished while we read it: null */
	return read_attr(dir, name, buf, sizeof(buf))
		       ? json_object_new_uint64(strtoull(buf, NULL, 10)) : NULL;
}

static json_object *attr_string(const char *dir, const char *name)
{
	char buf[FLOE_NAME_LEN + 2];

	return read_attr(dir, name, buf, sizeof(buf))
		       ? json_object_new_string(buf) : NULL;
}

static json_object *sysfs_totals(void)
{
	static const char *const names[] = {
		"nr_ports", "max_ports", "nr_segments", "segment_bytes",
		"deaths", "abi_version",
	};
	json_object *obj = json_object_new_object();

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		json_object_object_add(obj, names[i],
				       attr_number(SYSFS_ROOT, names[i]));
	return obj;
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void add_port(json_object *rows, const char *dir, uint64_t now_ns)
{
	json_object *row = json_object_new_object(), *created;
	uint64_t created_ns;

	json_object_object_add(row, "id", attr_number(dir, "id"));
	json_object_object_add(row, "role", attr_string(dir, "role"));
	json_object_object_add(row, "state", attr_string(dir, "state"));
	json_object_object_add(row, "node", attr_number(dir, "node"));
	json_object_object_add(row, "pid", attr_number(dir, "pid"));
	created = attr_number(dir, "created_ns");
	created_ns = created ? json_object_get_uint64(created) : now_ns;
	json_object_object_add(row, "created_ns", created);
	json_object_object_add(row, "age_s", json_object_new_uint64(
		now_ns > created_ns ? (now_ns - created_ns) / 1000000000ull : 0));
	json_object_object_add(row, "service", attr_string(dir, "service"));
	json_object_array_add(rows, row);
}

static void add_segment(json_object *rows, const char *dir, uint64_t now_ns)
{
	static const char *const numbers[] = { "size", "owner", "uid", "gid",
					       "mappings" };
	json_object *row = json_object_new_object();

	(void)now_ns;
	json_object_object_add(row, "name", attr_string(dir, "name"));
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
		json_object_object_add(row, numbers[i],
				       attr_number(dir, numbers[i]));
	json_object_object_add(row, "mode", attr_string(dir, "mode"));
	json_object_array_add(rows, row);
}

/* One row per directory under SYSFS_ROOT/@sub, sorted by name. */
static json_object *sysfs_rows(const char *sub,
			       void (*add)(json_object *rows, const char *dir,
					   uint64_t now_ns))
{
	json_object *rows = json_object_new_array();
	uint64_t now_ns = realtime_ns();
	struct dirent **entries;
	char path[512];
	int n;

	snprintf(path, sizeof(path), SYSFS_ROOT "/%s", sub);
	n = scandir(path, &entries, NULL, versionsort);
	for (int i = 0; i < n; i++) {
		if (entries[i]->d_name[0] != '.') {
			snprintf(path, sizeof(path), SYSFS_ROOT "/%s/%s", sub,
				 entries[i]->d_name);
			add(rows, path, now_ns);
		}
		free(entries[i]);
	}
	if (n >= 0)
		free(entries);
	return rows;
}

/* Totals of the registry view: services, nodes, and ports by role. */
static json_object *registry_totals(json_object *services, json_object *nodes,
				    json_object *ports)
{
	static const char *const roles[] = { "publisher", "subscriber",
					     "notifier", "listener" };
	static const char *const keys[] = { "publishers", "subscribers",
					    "notifiers", "listeners" };
	json_object *obj = json_object_new_object();
	int counts[4] = { 0 }, dead = 0;

	for (size_t i = 0; i < json_object_array_length(nodes); i++) {
		json_object *state;

		if (json_object_object_get_ex(json_object_array_get_idx(nodes, i),
					      "state", &state) &&
		    !strcmp(json_object_get_string(state), "dead"))
			dead++;
	}
	for (size_t i = 0; i < json_object_array_length(ports); i++) {
		json_object *role;

		if (!json_object_object_get_ex(json_object_array_get_idx(ports, i),
					       "role", &role))
			continue;
		for (size_t r = 0; r < 4; r++)
			counts[r] += !strcmp(json_object_get_string(role),
					     roles[r]);
	}
	json_object_object_add(obj, "services",
			       json_object_new_int((int)json_object_array_length(services)));
	json_object_object_add(obj, "nodes",
			       json_object_new_int((int)json_object_array_length(nodes)));
	json_object_object_add(obj, "dead_nodes", json_object_new_int(dead));
	for (size_t r = 0; r < 4; r++)
		json_object_object_add(obj, keys[r],
				       json_object_new_int(counts[r]));
	return obj;
}

/* The registry's rates of each sysfs port (the same ids), and the ports
 * the registry still holds whose processes died: the kernel has removed
 * them from sysfs already. */
static void copy_rates(json_object *sysfs_ports, json_object *reg_ports)
{
	static const char *const keys[] = { "msg_s", "bytes_s", "drop_s" };

	for (size_t i = 0; i < json_object_array_length(sysfs_ports); i++) {
		json_object *row = json_object_array_get_idx(sysfs_ports, i);

		for (size_t j = 0; j < json_object_array_length(reg_ports); j++) {
			json_object *reg = json_object_array_get_idx(reg_ports, j);
			json_object *val;

			if (member_u64(reg, "id") != member_u64(row, "id"))
				continue;
			for (size_t k = 0; k < 3; k++)
				if (json_object_object_get_ex(reg, keys[k], &val))
					json_object_object_add(
						row, keys[k], json_object_get(val));
			break;
		}
	}
	for (size_t j = 0; j < json_object_array_length(reg_ports); j++) {
		json_object *reg = json_object_array_get_idx(reg_ports, j);

		if (!strcmp(member_str(reg, "state"), "dead"))
			json_object_array_add(sysfs_ports, json_object_get(reg));
	}
}

/* One view of the system with rates since the previous one (none for the
 * first), or NULL (and *err) if the registry failed. */
static json_object *snapshot(struct cli *cli, struct traffic *traffic,
			     bool from_sysfs, int *err)
{
	json_object *view, *services, *nodes, *ports;

	services = collect_services(cli, err);
	ports = services ? collect_ports(cli, err) : NULL;
	if (!ports) {
		json_object_put(services);
		return NULL;
	}
	traffic_update(traffic, services, ports, cli_now_ms());
	sort_by_rate(services);
	view = json_object_new_object();
	json_object_object_add(view, "domain", json_object_new_string(cli->domain));
	json_object_object_add(view, "backend", json_object_new_string(
		floe_backend_name(floe_node_backend(cli->node))));
	json_object_object_add(view, "source", json_object_new_string(
		from_sysfs ? "sysfs" : "registry"));
	if (from_sysfs) {
		json_object *sysfs_ports = sysfs_rows("ports", add_port);

		copy_rates(sysfs_ports, ports);
		json_object_put(ports);
		sort_by_rate(sysfs_ports);
		json_object_object_add(view, "totals", sysfs_totals());
		json_object_object_add(view, "services", services);
		json_object_object_add(view, "ports", sysfs_ports);
		json_object_object_add(view, "segments",
				       sysfs_rows("segments", add_segment));
		return view;
	}
	nodes = collect_nodes(cli, err);
	if (!nodes) {
		json_object_put(ports);
		json_object_put(services);
		json_object_put(view);
		return NULL;
	}
	sort_by_rate(ports);
	json_object_object_add(view, "totals",
			       registry_totals(services, nodes, ports));
	json_object_object_add(view, "services", services);
	json_object_object_add(view, "nodes", nodes);
	json_object_object_add(view, "ports", ports);
	return view;
}

#define RATE_COLUMNS \
	{ "MSG/S", "msg_s" }, { "BYTES/S", "bytes_s" }, { "DROP/S", "drop_s" }

static const struct column top_service_columns[] = {
	{ "NAME", "name" },
	{ "PATTERN", "pattern" },
	{ "TYPE", "type" },
	{ "NODES", "nodes" },
	{ "PUB/NOTIF", "publishers|notifiers|writers|clients" },
	{ "SUB/LISTEN", "subscribers|listeners|readers|servers" },
	RATE_COLUMNS,
	{ "ALERT", "alert" },
};

static const struct column top_port_columns[] = {
	{ "ID", "id" },	    { "ROLE", "role" },	     { "STATE", "state" },
	{ "NODE", "node" }, { "PID", "pid" },	     RATE_COLUMNS,
	{ "SERVICE", "service" },
};

static const struct column sysfs_port_columns[] = {
	{ "ID", "id" },	      { "ROLE", "role" },   { "NODE", "node" },
	{ "PID", "pid" },     { "AGE(S)", "age_s" }, RATE_COLUMNS,
	{ "SERVICE", "service" },
};

static const struct column segment_columns[] = {
	{ "NAME", "name" }, { "SIZE", "size" }, { "OWNER", "owner" },
	{ "MODE", "mode" }, { "UID", "uid" },	{ "GID", "gid" },
	{ "MAPPINGS", "mappings" },
};

#define COLUMNS(a) a, sizeof(a) / sizeof(a[0])

static void print_section(json_object *view, const char *key,
			  const char *title, const struct column *cols,
			  size_t ncols, bool highlight)
{
	json_object *rows;

	if (!json_object_object_get_ex(view, key, &rows))
		return;
	printf("\n%s (%zu)\n", title, json_object_array_length(rows));
	if (json_object_array_length(rows))
		print_table("  ", rows, cols, ncols, highlight);
}

static void print_view(struct cli *cli, json_object *view, bool from_sysfs,
		       bool highlight)
{
	json_object *totals;
	const char *sep = "";

	printf("floe top: domain %s, backend %s, from %s\n", cli->domain,
	       floe_backend_name(floe_node_backend(cli->node)),
	       from_sysfs ? SYSFS_ROOT : "the shared registry");
	printf("totals:");
	json_object_object_get_ex(view, "totals", &totals);
	json_object_object_foreach(totals, key, val) {
		printf("%s %s %s", sep, key,
		       val ? json_object_get_string(val) : "-");
		sep = ",";
	}
	putchar('\n');
	print_section(view, "services", "SERVICES of the domain",
		      COLUMNS(top_service_columns), highlight);
	if (from_sysfs) {
		print_section(view, "ports", "PORTS, every domain",
			      COLUMNS(sysfs_port_columns), highlight);
		print_section(view, "segments", "SEGMENTS, every domain",
			      COLUMNS(segment_columns), highlight);
	} else {
		print_section(view, "nodes", "NODES", node_columns,
			      node_columns_len, highlight);
		print_section(view, "ports", "PORTS", COLUMNS(top_port_columns),
			      highlight);
	}
	cli_flush();
}

int cmd_top(struct cli *cli, int argc, char **argv)
{
	long interval = cli->interval_ms < 0 ? DEFAULT_INTERVAL_MS
					     : cli->interval_ms;
	bool terminal = !cli->json && isatty(STDOUT_FILENO);
	bool clear = terminal && cli->iterations != 1;
	struct traffic traffic;
	json_object *view;
	bool ok;
	int err = 0;

	(void)argc;
	(void)argv;
	/* a whole view per write: no half-drawn screen */
	if (clear)
		setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	traffic_init(&traffic);
	/* the baseline of the first view's rates */
	view = snapshot(cli, &traffic, false, &err);
	ok = view != NULL;
	json_object_put(view);
	if (ok)
		cli_sleep_ms(interval < FIRST_WINDOW_MS ? interval
							: FIRST_WINDOW_MS);
	for (long i = 0; ok && !cli_stop &&
			 (cli->iterations < 0 || i < cli->iterations); i++) {
		bool from_sysfs = access(SYSFS_ROOT "/nr_ports", R_OK) == 0;

		view = snapshot(cli, &traffic, from_sysfs, &err);
		ok = view != NULL;
		if (!ok)
			break;
		/* in place: home, then clear what the last view left */
		if (clear)
			fputs("\033[H\033[J", stdout);
		else if (i && !cli->json)
			putchar('\n');
		if (cli->json)
			print_json(view, true);
		else
			print_view(cli, view, from_sysfs, terminal);
		json_object_put(view);
		if ((cli->iterations < 0 || i + 1 < cli->iterations) &&
		    !cli_sleep_ms(interval))
			break;
	}
	traffic_fini(&traffic);
	return ok ? EXIT_OK
				: cli_fail(cli, err, "reading the registry");
}
