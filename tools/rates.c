// SPDX-License-Identifier: MIT
/*
 * Traffic rates for floe top and floe hz, from two readings of the ports'
 * counters (floe_port_list: each port counts what it sent, received and
 * dropped since it was created). A port's rates are the differences of
 * its counters, per second; a port new since the last reading started
 * from zero. A service's rates count each sample once, where it was sent.
 * The first reading is the baseline: no rates yet.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* A rate with one decimal, as JSON and text show it. */
static json_object *rate(double per_second)
{
	char text[32];

	snprintf(text, sizeof(text), "%.1f", per_second);
	return json_object_new_double_s(strtod(text, NULL), text);
}

static json_object *find_port(json_object *ports, uint64_t id)
{
	for (size_t i = 0; ports && i < json_object_array_length(ports); i++) {
		json_object *row = json_object_array_get_idx(ports, i);

		if (member_u64(row, "id") == id)
			return row;
	}
	return NULL;
}

/* @key's growth since @before (NULL: since zero); 0 if it went back (a
 * port that wrote nonsense into its counters). */
static uint64_t growth(json_object *now, json_object *before, const char *key)
{
	uint64_t a = member_u64(now, key);
	uint64_t b = before ? member_u64(before, key) : 0;

	return a >= b ? a - b : 0;
}

struct port_delta {
	uint64_t sent, sent_bytes, received, received_bytes, dropped;
};

static struct port_delta delta(json_object *now, json_object *before)
{
	return (struct port_delta){
		.sent = growth(now, before, "sent"),
		.sent_bytes = growth(now, before, "sent_bytes"),
		.received = growth(now, before, "received"),
		.received_bytes = growth(now, before, "received_bytes"),
		.dropped = growth(now, before, "overflowed") +
			   growth(now, before, "undelivered"),
	};
}

static void add_rates(json_object *row, double msgs, double bytes,
		      double drops, double seconds)
{
	json_object_object_add(row, "msg_s", rate(msgs / seconds));
	json_object_object_add(row, "bytes_s", rate(bytes / seconds));
	json_object_object_add(row, "drop_s", rate(drops / seconds));
}

void traffic_init(struct traffic *t)
{
	memset(t, 0, sizeof(*t));
	t->activity = json_object_new_object();
}

void traffic_fini(struct traffic *t)
{
	json_object_put(t->ports);
	json_object_put(t->activity);
}

/* When the service's samples last grew in number (the first reading
 * counts as a change), to tell a missed deadline. */
static uint64_t last_activity(struct traffic *t, json_object *svc,
			      uint64_t sent_total, uint64_t now_ms)
{
	char key[FLOE_NAME_LEN + 32];
	json_object *seen, *pair;

	snprintf(key, sizeof(key), "%s/%s", member_str(svc, "pattern"),
		 member_str(svc, "name"));
	if (json_object_object_get_ex(t->activity, key, &seen) &&
	    member_u64(seen, "sent") == sent_total)
		return member_u64(seen, "at_ms");
	pair = json_object_new_object();
	json_object_object_add(pair, "sent", json_object_new_uint64(sent_total));
	json_object_object_add(pair, "at_ms", json_object_new_uint64(now_ms));
	json_object_object_add(t->activity, key, pair);
	return now_ms;
}

/* @seconds 0: the baseline (activity noted, no rates) */
static void service_rates(struct traffic *t, json_object *svc,
			  json_object *ports, double seconds, uint64_t now_ms)
{
	struct port_delta sum = { 0 };
	uint64_t sent_total = 0, deadline, quiet_ms;

	for (size_t i = 0; i < json_object_array_length(ports); i++) {
		json_object *row = json_object_array_get_idx(ports, i);
		struct port_delta d;

		if (strcmp(member_str(row, "service"), member_str(svc, "name")) ||
		    strcmp(member_str(row, "pattern"), member_str(svc, "pattern")))
			continue;
		d = delta(row, find_port(t->ports, member_u64(row, "id")));
		sum.sent += d.sent;
		sum.sent_bytes += d.sent_bytes;
		sum.dropped += d.dropped;
		sent_total += member_u64(row, "sent");
	}
	if (seconds > 0)
		add_rates(svc, (double)sum.sent, (double)sum.sent_bytes,
			  (double)sum.dropped, seconds);
	deadline = member_u64(svc, DEADLINE_ATTRIBUTE);
	if (!deadline)
		return;
	quiet_ms = now_ms - last_activity(t, svc, sent_total, now_ms);
	if (seconds <= 0)
		return;
	json_object_object_add(svc, "quiet_ms", json_object_new_uint64(quiet_ms));
	json_object_object_add(svc, "deadline_missed",
			       json_object_new_boolean(quiet_ms > deadline));
	if (quiet_ms > deadline)
		json_object_object_add(svc, "alert",
				       json_object_new_string("deadline missed"));
}

void traffic_update(struct traffic *t, json_object *services,
		    json_object *ports, uint64_t now_ms)
{
	double seconds = (double)(now_ms - t->at_ms) / 1000.0;
	bool baseline = !t->ports;

	if (seconds <= 0)
		seconds = 0.001;
	for (size_t i = 0; services && i < json_object_array_length(services);
	     i++)
		service_rates(t, json_object_array_get_idx(services, i), ports,
			      baseline ? 0 : seconds, now_ms);
	for (size_t i = 0; i < json_object_array_length(ports); i++) {
		json_object *row = json_object_array_get_idx(ports, i);
		struct port_delta d = delta(
			row, find_port(t->ports, member_u64(row, "id")));

		if (!strcmp(member_str(row, "state"), "dead"))
			json_object_object_add(row, "alert",
					       json_object_new_string("dead"));
		/* a node's membership has no traffic of its own */
		if (!baseline && strcmp(member_str(row, "role"), "node"))
			add_rates(row, (double)(d.sent + d.received),
				  (double)(d.sent_bytes + d.received_bytes),
				  (double)d.dropped, seconds);
	}
	json_object_put(t->ports);
	t->ports = json_object_get(ports);
	t->at_ms = now_ms;
}

static double member_double(json_object *obj, const char *key)
{
	json_object *val;

	return json_object_object_get_ex(obj, key, &val)
		       ? json_object_get_double(val) : 0;
}

/* Busiest first; ties by name, then id, for a stable order. */
static int by_rate(const void *a, const void *b)
{
	json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b;
	double rx = member_double(x, "msg_s"), ry = member_double(y, "msg_s");
	int c;

	if (rx != ry)
		return rx < ry ? 1 : -1;
	c = strcmp(member_str(x, "name"), member_str(y, "name"));
	if (!c)
		c = strcmp(member_str(x, "service"), member_str(y, "service"));
	return c ? c : (member_u64(x, "id") > member_u64(y, "id")) -
			       (member_u64(x, "id") < member_u64(y, "id"));
}

void sort_by_rate(json_object *rows)
{
	json_object_array_sort(rows, by_rate);
}

/* ------------------------------------------------------------------ */
/* floe hz                                                            */
/* ------------------------------------------------------------------ */

/* The domain's services named @name (one per pattern), with rates since
 * the previous reading; NULL (and *err) if the registry failed. */
static json_object *read_service(struct cli *cli, struct traffic *t,
				 const char *name, int *err)
{
	json_object *services = collect_services(cli, err), *ports, *mine;

	ports = services ? collect_ports(cli, err) : NULL;
	if (!ports) {
		json_object_put(services);
		return NULL;
	}
	mine = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(services); i++) {
		json_object *svc = json_object_array_get_idx(services, i);

		if (!strcmp(member_str(svc, "name"), name))
			json_object_array_add(mine, json_object_get(svc));
	}
	traffic_update(t, mine, ports, cli_now_ms());
	json_object_put(ports);
	json_object_put(services);
	return mine;
}

static void print_hz(struct cli *cli, json_object *svc, double window_s)
{
	json_object *out = json_object_new_object(), *val;
	static const char *const keys[] = { "name", "pattern", "msg_s",
					    "bytes_s", "drop_s" };

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		if (json_object_object_get_ex(svc, keys[k], &val))
			json_object_object_add(out, keys[k],
					       json_object_get(val));
	json_object_object_add(out, "window_s", rate(window_s));
	if (cli->json)
		print_json(out, true);
	else
		printf("%s: %s msg/s, %s B/s, %s drops/s (over %.1f s)\n",
		       member_str(svc, "name"), member_str(svc, "msg_s"),
		       member_str(svc, "bytes_s"), member_str(svc, "drop_s"),
		       window_s);
	cli_flush();
	json_object_put(out);
}

int cmd_hz(struct cli *cli, int argc, char **argv)
{
	long interval = cli->interval_ms <= 0 ? 1000 : cli->interval_ms;
	uint64_t start = cli_now_ms(), before;
	struct traffic t;
	json_object *svcs;
	int err = 0, ret = EXIT_OK;

	(void)argc;
	traffic_init(&t);
	svcs = read_service(cli, &t, argv[0], &err);
	if (!svcs) {
		traffic_fini(&t);
		return cli_fail(cli, err, "reading the registry");
	}
	if (!json_object_array_length(svcs)) {
		cli_error(cli, "no service '%s' in domain '%s'", argv[0],
			  cli->domain);
		ret = EXIT_NOT_FOUND;
	}
	for (long n = 0; !ret && (cli->count < 0 || n < cli->count); n++) {
		if (cli->timeout_ms >= 0 &&
		    cli_now_ms() + (uint64_t)interval >
			    start + (uint64_t)cli->timeout_ms)
			break;
		before = t.at_ms;
		if (!cli_sleep_ms(interval))
			break;
		json_object_put(svcs);
		svcs = read_service(cli, &t, argv[0], &err);
		if (!svcs) {
			ret = cli_fail(cli, err, "reading the registry");
			break;
		}
		for (size_t i = 0; i < json_object_array_length(svcs); i++)
			print_hz(cli, json_object_array_get_idx(svcs, i),
				 (double)(t.at_ms - before) / 1000.0);
		if (cli_stop)
			break;
	}
	json_object_put(svcs);
	traffic_fini(&t);
	return ret;
}
