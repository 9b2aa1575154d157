// SPDX-License-Identifier: MIT
/*
 * Request-response round trip, beside the publish-subscribe ping-pong and
 * the physical limit measured in the same run.
 *
 *   request_response [--quick] [--json] [--sizes 8,1M,...]
 *                    [--iterations N] [--warmup N]
 *
 * First runs the sibling pubsub_pingpong (same options, --json) for the
 * raw cache-line ping-pong and the pub-sub rows, so every row comes from
 * one invocation on one machine state. Then two processes, pinned to two
 * CPUs: a client loans a request of the payload size, writes a sequence
 * number into its first cache line and sends it; the server receives it,
 * loans a response of the same size, copies the number into it, sends it
 * and drops the request; the client takes the response (and then the end
 * of the stream, untimed). A request and its response are two messages,
 * as a ping-pong round trip is: the rows give half the round trip, so
 * they compare directly with the pub-sub ones (and "x pubsub" says by
 * how much they differ).
 */
#include <inttypes.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "floe.h"

#define SERVICE "bench/request-response"

static const struct floe_type byte_type = { .name = "u8", .size = 1,
					    .align = 8 };
static struct bench_cpus cpus;
static FILE *table;

static struct floe_rr_opts service_opts(void)
{
	struct floe_rr_opts o = { .request_type = byte_type,
				  .response_type = byte_type };

	return o;
}

static uint64_t max_size(const struct bench_opts *o)
{
	uint64_t m = 8;

	for (int i = 0; i < o->nsizes; i++)
		if (o->sizes[i] > m)
			m = o->sizes[i];
	return m;
}

/* The server: echo the sequence number in a response of the request's
 * size until a request of sequence UINT64_MAX. */
static int server_process(const struct bench_opts *o)
{
	struct floe_rr_opts ro = service_opts();
	struct floe_server_opts so = { .backpressure = FLOE_DELIVER_BLOCK,
				       .initial_max_slice_len = max_size(o) };
	floe_node *node;
	floe_service *svc;
	floe_server *srv;
	int err;

	if (floe_node_create("bench server", NULL, &node))
		return 1;
	do
		err = floe_rr_open(node, SERVICE, &ro, &svc);
	while (err == FLOE_E_NOT_FOUND || err == FLOE_E_BUSY);
	if (err || floe_server_create(svc, &so, &srv))
		return 1;
	for (;;) {
		floe_active_request *a;
		floe_response_mut *m;
		uint64_t seq;

		err = floe_server_receive(srv, &a);
		if (err == 0) {
			bench_relax(&cpus);
			continue;
		}
		if (err < 0)
			return 1;
		seq = *(const uint64_t *)floe_active_request_payload(a);
		if (seq == UINT64_MAX) {
			floe_active_request_drop(a);
			break;
		}
		err = floe_active_request_loan(a, floe_active_request_len(a),
					       &m);
		if (err)
			return 1;
		*(uint64_t *)floe_response_mut_payload(m) = seq;
		floe_response_mut_send(m);
		floe_active_request_drop(a);
	}
	floe_server_destroy(srv);
	floe_service_close(svc);
	floe_node_destroy(node);
	return 0;
}

/* One request of @size bytes carrying @seq; its pending response. */
static int send_request(floe_client *c, uint64_t size, uint64_t seq,
			floe_pending_response **p)
{
	floe_request_mut *r;
	int err = floe_client_loan(c, size, &r);

	if (err)
		return err;
	*(uint64_t *)floe_request_mut_payload(r) = seq;
	err = floe_request_mut_send(r, p);
	if (err < 0)
		floe_request_mut_discard(r);
	return err;
}

/* Wait for the response (1, checked), or the stream's end. */
static int take(floe_pending_response *p, uint64_t seq, pid_t server)
{
	const floe_response *resp;
	unsigned spins = 0;
	int err;

	while ((err = floe_pending_response_receive(p, &resp)) == 0) {
		bench_relax(&cpus);
		if (++spins % 4096 == 0 &&
		    waitpid(server, NULL, WNOHANG) == server)
			return FLOE_E_DEAD;
	}
	if (err == 1) {
		err = *(const uint64_t *)floe_response_payload(resp) == seq
			      ? 1
			      : FLOE_E_CORRUPT;
		floe_response_release(resp);
	}
	return err;
}

static int run_size(const struct bench_opts *o, floe_client *c, pid_t server,
		    uint64_t size, uint64_t *samples, struct bench_result *r)
{
	uint64_t start = 0, seq = 0;

	for (long i = -o->warmup; i < o->iterations; i++, seq++) {
		floe_pending_response *p;
		uint64_t t0 = bench_now_ns();

		if (i == 0)
			start = t0;
		if (send_request(c, size, seq, &p) != 1 ||
		    take(p, seq, server) != 1)
			return -1;
		if (i >= 0)
			samples[i] = (bench_now_ns() - t0) / 2;
		if (take(p, seq, server) != FLOE_E_END_OF_STREAM)
			return -1;
		floe_pending_response_drop(p);
	}
	bench_summarise(r, samples, o->iterations, 2.0 * (double)o->iterations,
			bench_now_ns() - start);
	r->system = "floe";
	r->pattern = "request-response";
	r->payload_bytes = size;
	r->subscribers = 1;
	return 0;
}

/* Rows of the sibling pubsub_pingpong, run now with our options. */
static int run_pubsub(const char *argv0, const struct bench_opts *o,
		      bool quick, struct bench_result *rows, int max,
		      char names[][2][32])
{
	char cmd[4096], sizes[512] = "", line[1024], *self = strdup(argv0);
	int n = 0, len = 0;
	FILE *f;

	for (int i = 0; i < o->nsizes; i++)
		len += snprintf(sizes + len, sizeof(sizes) - (size_t)len,
				"%s%" PRIu64, i ? "," : "", o->sizes[i]);
	snprintf(cmd, sizeof(cmd),
		 "'%s/pubsub_pingpong' --json %s --sizes %s --iterations %ld "
		 "--warmup %ld 2>/dev/null", dirname(self), quick ? "--quick" : "",
		 sizes, o->iterations, o->warmup);
	free(self);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (n < max && fgets(line, sizeof(line), f)) {
		struct bench_result *r = &rows[n];

		if (sscanf(line,
			   " {\"system\": \"%31[^\"]\", \"pattern\": \"%31[^\"]\""
			   ", \"payload_bytes\": %" SCNu64
			   ", \"subscribers\": %" SCNu32 ", \"p50_ns\": %" SCNu64
			   ", \"p99_ns\": %" SCNu64 ", \"p999_ns\": %" SCNu64
			   ", \"max_ns\": %" SCNu64 ", \"msgs_per_s\": %lf"
			   ", \"iterations\": %ld",
			   names[n][0], names[n][1], &r->payload_bytes,
			   &r->subscribers, &r->p50, &r->p99, &r->p999, &r->max,
			   &r->msgs_per_s, &r->iterations) != 10)
			continue;
		r->system = names[n][0];
		r->pattern = names[n][1];
		/* its distribution: in pubsub_pingpong's own .cdf files */
		r->cdf_points = 0;
		n++;
	}
	return pclose(f) == 0 ? n : -1;
}

static void print_row(const struct bench_result *r, uint64_t raw_p50,
		      uint64_t pubsub_p50)
{
	char size[32];

	fprintf(table, "%-14s %-17s %9s %8" PRIu64 " %8" PRIu64 " %8" PRIu64
		" %10" PRIu64 " %12.0f", r->system, r->pattern,
		bench_human(r->payload_bytes, size, sizeof(size)), r->p50,
		r->p99, r->p999, r->max, r->msgs_per_s);
	if (raw_p50)
		fprintf(table, " %7.1fx", (double)r->p50 / (double)raw_p50);
	if (pubsub_p50)
		fprintf(table, " %9.2fx", (double)r->p50 / (double)pubsub_p50);
	fprintf(table, "\n");
	fflush(table);
}

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--quick] [--json] [--sizes 8,1M,...] "
		"[--iterations N] [--warmup N]\n", argv0);
	exit(2);
}

int main(int argc, char **argv)
{
	static const uint64_t sizes[] = { 8, 1 << 20 };
	struct bench_result rows[2 * BENCH_MAX_SIZES + 2];
	char names[BENCH_MAX_SIZES + 2][2][32];
	struct bench_opts o = { .iterations = 20000, .warmup = 2000 };
	struct floe_client_opts co = { 0 };
	struct floe_rr_opts ro = service_opts();
	struct floe_rr_qos q;
	floe_node *node;
	floe_service *svc;
	floe_client *client;
	floe_pending_response *p;
	uint64_t *samples, raw_p50 = 0;
	bool quick = false;
	int nps, n, failed = 0;
	pid_t server;

	bench_set_sizes(&o, sizes, 2);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			quick = true;
			o.iterations = 2000;
			o.warmup = 200;
		} else if (!bench_option(&o, argc, argv, &i, 8)) {
			usage(argv[0]);
		}
	}
	if (o.nsizes < 1 || o.iterations < 1 || o.warmup < 0)
		usage(argv[0]);
	signal(SIGPIPE, SIG_IGN);
	table = o.json ? stderr : stdout;
	bench_own_domain();
	samples = calloc((size_t)o.iterations, sizeof(*samples));
	if (!samples)
		return 1;

	nps = run_pubsub(argv[0], &o, quick, rows, BENCH_MAX_SIZES + 2, names);
	if (nps < 0) {
		fprintf(stderr, "pubsub_pingpong failed\n");
		return 1;
	}
	n = nps;

	cpus = bench_choose_cpus();
	bench_pin(cpus.a);
	floe_rr_qos_init(&q);
	q.max_clients = 1;
	q.max_servers = 1;
	ro.qos = &q;
	co.initial_max_slice_len = max_size(&o);
	if (floe_node_create("bench client", NULL, &node) ||
	    floe_rr_create(node, SERVICE, &ro, &svc) ||
	    floe_client_create(svc, &co, &client)) {
		fprintf(stderr, "request-response setup failed\n");
		return 1;
	}
	server = bench_fork_partner(cpus.b);
	if (server < 0)
		return 1;
	if (server == 0)
		_exit(server_process(&o));

	/* wait until the server is there */
	while ((n = send_request(client, 8, 0, &p)) == 0) {
		floe_pending_response_drop(p);
		usleep(1000);
		if (waitpid(server, NULL, WNOHANG) == server)
			break;
	}
	if (n != 1 || take(p, 0, server) != 1 ||
	    take(p, 0, server) != FLOE_E_END_OF_STREAM) {
		fprintf(stderr, "request-response server did not answer\n");
		return 1;
	}
	floe_pending_response_drop(p);
	n = nps;
	fprintf(table, "# %s, backend %s, %ld iterations (+%ld warm-up) per "
		"row; half round trip in ns\n",
		cpus.single ? "one CPU only: not pinned, numbers mean little"
			    : "two CPUs pinned",
		floe_backend_name(floe_node_backend(node)), o.iterations,
		o.warmup);
	fprintf(table, "%-14s %-17s %9s %8s %8s %8s %10s %12s %8s %10s\n",
		"system", "pattern", "payload", "p50", "p99", "p99.9", "max",
		"msgs/s", "p50/raw", "x pubsub");
	for (int i = 0; i < nps; i++) {
		if (!strcmp(rows[i].system, "raw-cacheline"))
			raw_p50 = rows[i].p50;
		print_row(&rows[i], strcmp(rows[i].system, "raw-cacheline")
					     ? raw_p50 : 0, 0);
	}
	for (int i = 0; i < o.nsizes; i++) {
		uint64_t pubsub_p50 = 0;

		if (run_size(&o, client, server, o.sizes[i], samples,
			     &rows[n])) {
			fprintf(stderr, "request-response %" PRIu64
				" B failed\n", o.sizes[i]);
			failed = 1;
			break;
		}
		for (int k = 0; k < nps; k++)
			if (!strcmp(rows[k].pattern, "pingpong") &&
			    strcmp(rows[k].system, "raw-cacheline") &&
			    rows[k].payload_bytes == o.sizes[i])
				pubsub_p50 = rows[k].p50;
		print_row(&rows[n], raw_p50, pubsub_p50);
		n++;
	}
	/* stop the server */
	if (send_request(client, 8, UINT64_MAX, &p) == 1) {
		take(p, UINT64_MAX, server);
		floe_pending_response_drop(p);
	}
	waitpid(server, NULL, 0);
	floe_client_destroy(client);
	floe_service_close(svc);
	floe_node_destroy(node);
	if (o.json)
		bench_json(stdout, rows, n);
	free(samples);
	return failed;
}
