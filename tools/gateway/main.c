// SPDX-License-Identifier: MIT
/*
 * floe-gateway [--domain D] [--dds-domain N] [--config FILE] [--ros2]
 *              [--events] [--max-payload BYTES] SERVICE...
 *
 * Options, the configuration file, the two threads and their loops;
 * docs/floe-gateway.1 is the manual.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <ini.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "gateway.h"

enum exit_status {
	EXIT_OK = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_CONFIG = 5,
};

/*
 * The exporter polls local subscribers (a subscriber cannot sleep on a
 * publisher): it spins, yielding the CPU, for POLL_SPIN_MS after the last
 * sample (a conversation's next message comes within a network round
 * trip), then polls every POLL_BUSY_NS until POLL_BUSY_MS, then every
 * POLL_IDLE_NS: an idle gateway costs next to nothing, a busy one adds
 * little latency.
 */
#define POLL_SPIN_MS 5
#define POLL_BUSY_NS 20000L
#define POLL_BUSY_MS 50
#define POLL_IDLE_NS 1000000L
/* The importer wakes this often when DDS is quiet (late local
 * subscribers connect, SIGTERM is noticed). */
#define IMPORT_IDLE_MS 100
/* How long import threads get to finish after SIGINT or SIGTERM. */
#define STOP_GRACE_S 3

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

uint64_t gw_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void vlog(const char *fmt, va_list ap)
{
	struct timespec ts;
	char line[1024];
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	vsnprintf(line, sizeof(line), fmt, ap);
	/* one write per line: the threads' lines do not interleave */
	fprintf(stderr, "floe-gateway: %02d:%02d:%02d.%03ld %s\n", tm.tm_hour,
		tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, line);
}

void gw_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void gw_log_limited(struct gw_ratelimit *rl, const char *fmt, ...)
{
	uint64_t now = gw_now_ms();
	va_list ap;

	if (now - rl->window_ms >= 1000) {
		if (rl->suppressed)
			gw_log("(%llu similar messages suppressed)",
			       (unsigned long long)rl->suppressed);
		rl->window_ms = now;
		rl->lines = 0;
		rl->suppressed = 0;
	}
	if (rl->lines >= GW_LOG_BURST) {
		rl->suppressed++;
		return;
	}
	rl->lines++;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

/* ---- options and the configuration file ------------------------------- */

struct config_parse {
	struct gw_opts *opts;
	char *owned_domain;
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
		free(p->owned_domain);
		p->owned_domain = strdup(value);
		o->domain = p->owned_domain;
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

static int parse_args(int argc, char **argv, struct config_parse *p)
{
	struct gw_opts *o = p->opts;
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
			exit(EXIT_OK);
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

/* ---- running ------------------------------------------------------------ */

struct gateway {
	struct gw_ctx ctx;
	struct gw_bridge **bridges;
	struct gw_event_bridge **events;
	size_t num_bridges, num_events;
	struct importer *importers;
	size_t num_importers;
};

/* After work, or within POLL_SPIN_MS of the last (then yielding the
 * CPU), true: look again at once. */
static bool keep_spinning(int busy, uint64_t *last_busy)
{
	if (busy) {
		*last_busy = gw_now_ms();
		return true;
	}
	if (gw_now_ms() - *last_busy >= POLL_SPIN_MS)
		return false;
	sched_yield();
	return true;
}

/* One import thread per bridge: a local subscriber that is slow to take
 * samples of a reliable service holds up that service alone. */
struct importer {
	struct gw_ctx *ctx;
	struct gw_bridge *bridge;      /* or */
	struct gw_event_bridge *events;
	pthread_t thread;
	bool started;
};

static void *import_thread(void *arg)
{
	struct importer *im = arg;
	uint64_t last_busy = 0;
	dds_entity_t reader = im->bridge ? gw_bridge_reader(im->bridge) :
					   gw_event_reader(im->events);
	dds_entity_t ws = dds_create_waitset(im->ctx->participant);

	dds_waitset_attach(ws, reader, 0);
	/* the reader triggers while it holds data: take until it has none */
	dds_set_status_mask(reader, DDS_DATA_AVAILABLE_STATUS);
	while (!atomic_load(&im->ctx->stop)) {
		int busy = im->bridge ? gw_bridge_import(im->bridge) :
					gw_event_import(im->events);

		/* as the exporter: a conversation's next message comes soon,
		 * and a wake-up from the waitset costs more than a look */
		if (keep_spinning(busy, &last_busy))
			continue;
		if (im->bridge)
			gw_bridge_idle(im->bridge);
		dds_waitset_wait(ws, NULL, 0, DDS_MSECS(IMPORT_IDLE_MS));
	}
	dds_delete(ws);
	return NULL;
}

static void export_loop(struct gateway *g)
{
	uint64_t last_busy = 0;

	while (!stop_signal) {
		struct timespec pause = { 0, POLL_IDLE_NS };
		int busy = 0;

		for (size_t i = 0; i < g->num_bridges; i++)
			busy += gw_bridge_export(g->bridges[i]);
		for (size_t i = 0; i < g->num_events; i++)
			busy += gw_event_export(g->events[i]);
		if (keep_spinning(busy, &last_busy))
			continue;
		if (gw_now_ms() - last_busy < POLL_BUSY_MS)
			pause.tv_nsec = POLL_BUSY_NS;
		nanosleep(&pause, NULL);
	}
}

static int start(struct gateway *g)
{
	const struct gw_opts *o = g->ctx.opts;
	struct floe_node_opts node_opts;
	int ret;

	floe_node_opts_init(&node_opts);
	node_opts.domain = o->domain;
	ret = floe_node_create(GW_NODE_NAME, &node_opts, &g->ctx.node);
	if (ret) {
		gw_log("floe node: %s", floe_strerror(ret));
		return ret == FLOE_E_CONFIG ? EXIT_CONFIG : EXIT_FAILED;
	}
	g->ctx.participant = dds_create_participant(o->dds_domain, NULL, NULL);
	if (g->ctx.participant < 0) {
		gw_log("DDS participant in domain %u: %s", o->dds_domain,
		       dds_strretcode(g->ctx.participant));
		return EXIT_FAILED;
	}
	if (getrandom(&g->ctx.gateway_id, sizeof(g->ctx.gateway_id), 0) !=
	    sizeof(g->ctx.gateway_id))
		g->ctx.gateway_id = (uint64_t)getpid() << 32 ^ gw_now_ms();
	g->bridges = calloc(o->num_services, sizeof(*g->bridges));
	g->events = calloc(o->num_services, sizeof(*g->events));
	if (!g->bridges || !g->events)
		return EXIT_FAILED;
	for (size_t i = 0; i < o->num_services; i++) {
		if (gw_bridge_create(&g->ctx, &o->services[i],
				     &g->bridges[g->num_bridges]))
			return EXIT_FAILED;
		g->num_bridges++;
		if (!o->events)
			continue;
		if (gw_event_bridge_create(&g->ctx, o->services[i].name,
					   &g->events[g->num_events]))
			return EXIT_FAILED;
		g->num_events++;
	}
	return EXIT_OK;
}

static int start_importers(struct gateway *g)
{
	g->importers = calloc(g->num_bridges + g->num_events,
			      sizeof(*g->importers));
	if (!g->importers)
		return -1;
	for (size_t i = 0; i < g->num_bridges + g->num_events; i++) {
		struct importer *im = &g->importers[g->num_importers];

		im->ctx = &g->ctx;
		if (i < g->num_bridges)
			im->bridge = g->bridges[i];
		else
			im->events = g->events[i - g->num_bridges];
		if (pthread_create(&im->thread, NULL, import_thread, im))
			return -1;
		g->num_importers++;
	}
	return 0;
}

/*
 * False if an import thread did not finish within STOP_GRACE_S: it is
 * stuck publishing to a local subscriber of a reliable service that
 * takes nothing (floe's blocking delivery waits for it), and the process
 * must exit without destroying what that thread uses (the peers' usual
 * cleanup reclaims it). Meanwhile the gateway's own subscribers are
 * drained: importers deliver to them too.
 */
static bool stop_importers(struct gateway *g)
{
	uint64_t deadline = gw_now_ms() + STOP_GRACE_S * 1000;
	size_t joined = 0;

	atomic_store(&g->ctx.stop, true);
	while (joined < g->num_importers && gw_now_ms() < deadline) {
		for (size_t i = 0; i < g->num_bridges; i++)
			gw_bridge_export(g->bridges[i]);
		if (!pthread_tryjoin_np(g->importers[joined].thread, NULL))
			joined++;
		else
			sched_yield();
	}
	return joined == g->num_importers;
}

static void stop(struct gateway *g)
{
	for (size_t i = 0; i < g->num_bridges; i++)
		gw_bridge_destroy(g->bridges[i]);
	for (size_t i = 0; i < g->num_events; i++)
		gw_event_bridge_destroy(g->events[i]);
	free(g->bridges);
	free(g->events);
	free(g->importers);
	if (g->ctx.participant > 0)
		dds_delete(g->ctx.participant);
	floe_node_destroy(g->ctx.node);
}

int main(int argc, char **argv)
{
	struct gw_opts opts = { .max_payload = GW_DEFAULT_MAX_PAYLOAD };
	struct config_parse parse = { .opts = &opts };
	struct sigaction sa = { .sa_handler = on_signal };
	struct gateway g = { .ctx.opts = &opts };
	int ret;

	ret = parse_args(argc, argv, &parse);
	if (ret)
		goto out;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* short sleeps of the poll loop stay short */
	prctl(PR_SET_TIMERSLACK, 1000UL);
	ret = start(&g);
	if (ret)
		goto out_stop;
	if (start_importers(&g)) {
		gw_log("cannot start the import threads");
		stop_importers(&g);
		ret = EXIT_FAILED;
		goto out_stop;
	}
	gw_log("running (floe domain %s, DDS domain %u, gateway %016llx)",
	       opts.domain ? opts.domain : "default", opts.dds_domain,
	       (unsigned long long)g.ctx.gateway_id);
	export_loop(&g);
	if (!stop_importers(&g)) {
		gw_log("stopped by signal %d; a local subscriber does not "
		       "take its samples: exiting without cleanup",
		       (int)stop_signal);
		_exit(EXIT_FAILED);
	}
	gw_log("stopped by signal %d", (int)stop_signal);
out_stop:
	stop(&g);
out:
	for (size_t i = 0; i < opts.num_services; i++)
		free(opts.services[i].name);
	free(opts.services);
	free(parse.owned_domain);
	return ret;
}
