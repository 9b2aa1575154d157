// SPDX-License-Identifier: MIT
/*
 * The command line and the configuration file (an INI file: [gateway] and
 * [service NAME] sections; docs/floe-gateway.1).
 */
#include <errno.h>
#include <getopt.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"

struct config_parse {
	struct gw_opts *opts;
	const char *error;
};

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-')
		return false;
	*out = v;
	return true;
}

static bool parse_bool(const char *s, bool *out)
{
	if (!strcmp(s, "true") || !strcmp(s, "1") || !strcmp(s, "yes"))
		*out = true;
	else if (!strcmp(s, "false") || !strcmp(s, "0") || !strcmp(s, "no"))
		*out = false;
	else
		return false;
	return true;
}

static struct gw_service_conf *service_conf(struct gw_opts *o,
					    const char *name)
{
	struct gw_service_conf *s;

	for (size_t i = 0; i < o->num_services; i++)
		if (!strcmp(o->services[i].name, name))
			return &o->services[i];
	s = realloc(o->services, (o->num_services + 1) * sizeof(*s));
	if (!s)
		return NULL;
	o->services = s;
	s = &s[o->num_services];
	s->name = strdup(name);
	if (!s->name)
		return NULL;
	floe_pubsub_qos_init(&s->qos);
	o->num_services++;
	return s;
}

static bool qos_key(struct floe_pubsub_qos *q, const char *key,
		    const char *value)
{
	static const struct {
		const char *key;
		size_t off;
	} counts[] = {
#define COUNT(f) { #f, offsetof(struct floe_pubsub_qos, f) }
		COUNT(max_publishers), COUNT(max_subscribers),
		COUNT(max_nodes), COUNT(subscriber_max_buffer_size),
		COUNT(subscriber_max_borrowed_samples), COUNT(history_size),
		COUNT(publisher_max_loaned_samples),
#undef COUNT
	};
	uint64_t v;

	if (!strcmp(key, "enable_safe_overflow"))
		return parse_bool(value, &q->enable_safe_overflow);
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		if (strcmp(key, counts[i].key))
			continue;
		if (!parse_u64(value, &v) || v > UINT32_MAX)
			return false;
		*(uint32_t *)((char *)q + counts[i].off) = (uint32_t)v;
		return true;
	}
	return false;
}

static int on_ini(void *arg, const char *section, const char *key,
		  const char *value)
{
	struct config_parse *p = arg;
	struct gw_opts *o = p->opts;
	uint64_t v;

	if (!strncmp(section, "service ", 8)) {
		struct gw_service_conf *s = service_conf(o, section + 8);

		if (!s) {
			p->error = "out of memory";
			return 0;
		}
		if (!key) /* section header alone: bridge it */
			return 1;
		if (!qos_key(&s->qos, key, value)) {
			p->error = "unknown key or bad value";
			return 0;
		}
		return 1;
	}
	if (strcmp(section, "gateway") != 0) {
		p->error = "unknown section ([gateway] or [service NAME])";
		return 0;
	}
	if (!key)
		return 1;
	if (!strcmp(key, "domain")) {
		free(o->owned_domain);
		o->owned_domain = strdup(value);
		o->domain = o->owned_domain;
	} else if (!strcmp(key, "dds_domain") && parse_u64(value, &v) &&
		   v < 232) {
		o->dds_domain = (uint32_t)v;
	} else if (!strcmp(key, "max_payload") && parse_u64(value, &v) &&
		   v && v <= UINT32_MAX) {
		o->max_payload = v;
	} else if (!(!strcmp(key, "ros2") && parse_bool(value, &o->ros2)) &&
		   !(!strcmp(key, "events") &&
		     parse_bool(value, &o->events))) {
		p->error = "unknown key or bad value";
		return 0;
	}
	return 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: floe-gateway [--domain D] [--dds-domain N] "
		"[--config FILE] [--ros2]\n"
		"                    [--events] [--max-payload BYTES] "
		"SERVICE...\n"
		"Bridges floe publish-subscribe services (and, with "
		"--events, the event\nservices of the same names) both ways "
		"onto Eclipse Cyclone DDS topics.\nSee floe-gateway(1).\n");
}

static const struct option long_opts[] = {
	{ "domain", required_argument, NULL, 'd' },
	{ "dds-domain", required_argument, NULL, 'n' },
	{ "config", required_argument, NULL, 'c' },
	{ "ros2", no_argument, NULL, 'r' },
	{ "events", no_argument, NULL, 'e' },
	{ "max-payload", required_argument, NULL, 'm' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* The configuration file first, so that the command line overrides it. */
static int load_config(int argc, char **argv, struct config_parse *p)
{
	const char *file = NULL;
	int line;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			file = argv[i + 1];
		else if (!strncmp(argv[i], "--config=", 9))
			file = argv[i] + 9;
		else if (!strcmp(argv[i], "--"))
			break;
	}
	if (!file)
		return EXIT_OK;
	line = ini_parse(file, on_ini, p);
	if (line < 0) {
		gw_log("%s: cannot read it", file);
		return EXIT_CONFIG;
	}
	if (line > 0) {
		gw_log("%s:%d: %s", file, line,
		       p->error ? p->error : "syntax error");
		return EXIT_CONFIG;
	}
	return EXIT_OK;
}

/* As the library checks it: 1..FLOE_NAME_LEN printable characters. */
static bool service_name_ok(const char *name)
{
	size_t n = 0;

	for (; name[n]; n++)
		if (n >= FLOE_NAME_LEN || name[n] < 0x20 || name[n] > 0x7e)
			return false;
	return n > 0;
}

int gw_parse_args(int argc, char **argv, struct gw_opts *o)
{
	struct config_parse parse = { .opts = o };
	struct config_parse *p = &parse;
	uint64_t v;
	int c, ret = load_config(argc, argv, p);

	if (ret)
		return ret;
	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->domain = optarg;
			break;
		case 'n':
			if (!parse_u64(optarg, &v) || v >= 232) {
				gw_log("--dds-domain: 0..231, not '%s'",
				       optarg);
				return EXIT_USAGE;
			}
			o->dds_domain = (uint32_t)v;
			break;
		case 'c':
			break; /* read first */
		case 'r':
			o->ros2 = true;
			break;
		case 'e':
			o->events = true;
			break;
		case 'm':
			if (!parse_u64(optarg, &v) || !v || v > UINT32_MAX) {
				gw_log("--max-payload: 1..%u bytes, not '%s'",
				       UINT32_MAX, optarg);
				return EXIT_USAGE;
			}
			o->max_payload = v;
			break;
		case 'h':
			usage(stdout);
			return EXIT_HELP;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	for (int i = optind; i < argc; i++)
		if (!service_name_ok(argv[i]) || !service_conf(o, argv[i])) {
			gw_log("'%s' is not a service name", argv[i]);
			return EXIT_USAGE;
		}
	if (!o->num_services) {
		usage(stderr);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}


void gw_opts_free(struct gw_opts *o)
{
	for (size_t i = 0; i < o->num_services; i++)
		free(o->services[i].name);
	free(o->services);
	free(o->owned_domain);
}
