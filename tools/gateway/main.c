// SPDX-License-Identifier: MIT
/*
 * floe-gateway [--domain D] [--dds-domain N] [--config FILE] [--ros2]
 *              [--events] [--max-payload BYTES] SERVICE...
 *
 * The gateway's threads and their loops, start and stop (options.c reads
 * the options); docs/floe-gateway.1 is the manual.
 */
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "gateway.h"

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
	struct sigaction sa = { .sa_handler = on_signal };
	struct gateway g = { .ctx.opts = &opts };
	int ret;

	ret = gw_parse_args(argc, argv, &opts);
	if (ret) {
		ret = ret == EXIT_HELP ? EXIT_OK : ret;
		goto out;
	}
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
	gw_opts_free(&opts);
	return ret;
}
