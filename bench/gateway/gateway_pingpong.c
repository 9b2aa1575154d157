// SPDX-License-Identifier: MIT
/*
 * One-way latency and throughput between two hosts, through floe-gateway
 * and with Cyclone DDS alone on the same path (scripts/bench-gateway.sh
 * runs the two ends in two network namespaces joined by a veth pair).
 *
 *   gateway_pingpong pong --via floe|dds          the far end: answers
 *   gateway_pingpong ping --via floe|dds [--quick] [--json]
 *                    [--sizes 8,1M] [--iterations N] [--warmup N]
 *
 * --via floe: the ends are floe processes in their own floe domains
 * ($FLOE_DOMAIN), each beside a floe-gateway bridging "gwbench/ping" and
 * "gwbench/pong" (no safe overflow: reliable, volatile, flow-controlled on
 * DDS). --via dds: the ends write and take the gateway's envelope type on
 * DDS topics of their own with that very QoS (the gateway's mapping,
 * tools/gateway/qos.c), as an application using Cyclone DDS directly
 * would ($GWBENCH_DDS_DOMAIN, default 0).
 *
 * Each message starts with one 64-bit word (so that 8 B messages work):
 * bit 63 asks for an answer, bits 40..62 carry an answer's count, bits
 * 0..39 the index. Rows:
 *   gateway-pingpong   half a round trip (ping waits for each answer)
 *   gateway-stream     ping sends a burst, the last one asks for an
 *                      answer that says how many arrived: msgs_per_s
 *                      counts those (latency fields: the burst's time
 *                      per message)
 * systems: "cyclonedds" and "floe-gateway".
 */
#include <sched.h>
#include <signal.h>

#include <dds/dds.h>

#include "bench.h"
#include "gateway.h"

#define ASK_ANSWER (1ull << 63)
#define INDEX_MASK ((1ull << 40) - 1)
#define COUNT_SHIFT 40
#define COUNT_MASK ((1ull << 23) - 1)
#define TIMEOUT_NS (5ull * 1000000000ull)
#define STREAM_BURST 200

/* One end's transport: send a message of @len bytes, wait for one. */
struct end {
	/* floe */
	floe_node *node;
	floe_service *svc_out, *svc_in;
	floe_publisher *pub;
	floe_subscriber *sub;
	/* dds */
	dds_entity_t pp, writer, reader, ws;
	uint8_t *buf;
	uint64_t buf_len;
	bool dds;
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/* The benchmark services' QoS, on both paths. */
static void service_qos(struct floe_pubsub_qos *qos)
{
	floe_pubsub_qos_init(qos);
	qos->enable_safe_overflow = false;
	qos->max_subscribers = 2;
}

static int floe_open(struct end *e, const char *out, const char *in)
{
	struct floe_pubsub_qos qos;
	struct floe_service_opts opts = {
		.type = { "floe.bytes", 1, 1 }, .qos = &qos,
	};
	struct floe_publisher_opts popts;
	const char *names[2] = { out, in };
	floe_service **svcs[2] = { &e->svc_out, &e->svc_in };
	int ret = floe_node_create("gateway_pingpong", NULL, &e->node);

	service_qos(&qos);
	for (int i = 0; !ret && i < 2; i++) {
		ret = floe_service_create(e->node, names[i], &opts, svcs[i]);
		if (ret == FLOE_E_EXISTS) {
			opts.qos = NULL;
			ret = floe_service_open(e->node, names[i], &opts,
						svcs[i]);
			opts.qos = &qos;
		}
	}
	floe_publisher_opts_init(&popts);
	popts.unable_to_deliver = FLOE_DELIVER_BLOCK;
	popts.allocation = FLOE_ALLOC_POWER_OF_TWO;
	if (!ret)
		ret = floe_publisher_create(e->svc_out, &popts, &e->pub);
	if (!ret)
		ret = floe_subscriber_create(e->svc_in, NULL, &e->sub);
	if (ret)
		fprintf(stderr, "gateway_pingpong: floe: %s\n",
			floe_strerror(ret));
	return ret;
}

static int dds_open(struct end *e, const char *out, const char *in)
{
	const char *env = getenv("GWBENCH_DDS_DOMAIN");
	struct floe_pubsub_qos qos;
	struct gw_dds_qos map;
	dds_qos_t *wq, *rq;
	dds_entity_t t_out, t_in;

	e->dds = true;
	service_qos(&qos);
	gw_qos_map(&qos, GW_DEFAULT_MAX_PAYLOAD, &map);
	wq = gw_qos_create(&map, false);
	rq = gw_qos_create(&map, true);
	e->pp = dds_create_participant(env ? (dds_domainid_t)atoi(env) : 0,
				       NULL, NULL);
	t_out = dds_create_topic(e->pp, &floe_gw_Envelope_desc, out, wq, NULL);
	t_in = dds_create_topic(e->pp, &floe_gw_Envelope_desc, in, wq, NULL);
	e->writer = dds_create_writer(e->pp, t_out, wq, NULL);
	e->reader = dds_create_reader(e->pp, t_in, rq, NULL);
	dds_delete_qos(wq);
	dds_delete_qos(rq);
	e->ws = dds_create_waitset(e->pp);
	/* the waitset wakes for data only (other statuses stay set) */
	dds_set_status_mask(e->reader, DDS_DATA_AVAILABLE_STATUS);
	if (e->pp < 0 || e->writer < 0 || e->reader < 0 ||
	    dds_waitset_attach(e->ws, e->reader, 0) < 0) {
		fprintf(stderr, "gateway_pingpong: DDS entities failed\n");
		return -1;
	}
	return 0;
}

static void end_close(struct end *e)
{
	if (e->dds) {
		dds_delete(e->pp);
	} else {
		floe_publisher_destroy(e->pub);
		floe_subscriber_destroy(e->sub);
		floe_service_close(e->svc_out);
		floe_service_close(e->svc_in);
		floe_node_destroy(e->node);
	}
	free(e->buf);
}

static int send_msg(struct end *e, uint64_t word, uint64_t len)
{
	floe_gw_Envelope env = {
		.service = "gwbench", .type_name = "floe.bytes",
		.type_size = 1, .type_align = 1,
	};
	floe_sample_mut *m;
	int ret;

	if (e->dds) {
		if (e->buf_len < len) {
			free(e->buf);
			e->buf = calloc(1, len);
			e->buf_len = e->buf ? len : 0;
			if (!e->buf)
				return -1;
		}
		memcpy(e->buf, &word, sizeof(word));
		env.seq = word & INDEX_MASK;
		env.payload._buffer = e->buf;
		env.payload._length = env.payload._maximum = (uint32_t)len;
		return dds_write(e->writer, &env) < 0 ? -1 : 0;
	}
	ret = floe_publisher_loan(e->pub, len, &m);
	if (ret)
		return ret;
	/* as in pubsub_pingpong: the first cache line; the gateway copies
	 * the whole payload onto the network anyway */
	memcpy(floe_sample_mut_payload(m), &word, sizeof(word));
	return floe_sample_mut_send(m) < 0 ? -1 : 0;
}

/* Wait for a message until @deadline_ns; its first word in *@word, its
 * length in *@len. False on timeout or stop. */
static bool recv_msg(struct end *e, uint64_t *word, uint64_t *len,
		     uint64_t deadline_ns)
{
	while (!stopping && bench_now_ns() < deadline_ns) {
		if (e->dds) {
			void *s[1] = { NULL };
			dds_sample_info_t info;
			const floe_gw_Envelope *env;
			bool got = false;

			if (dds_take(e->reader, s, &info, 1, 1) < 1) {
				dds_waitset_wait(e->ws, NULL, 0,
						 DDS_MSECS(100));
				continue;
			}
			env = s[0];
			if (info.valid_data &&
			    env->payload._length >= sizeof(*word)) {
				memcpy(word, env->payload._buffer,
				       sizeof(*word));
				*len = env->payload._length;
				got = true;
			}
			dds_return_loan(e->reader, s, 1);
			if (got)
				return true;
		} else {
			const floe_sample *s;

			if (floe_subscriber_receive(e->sub, &s) != 1) {
				sched_yield();
				continue;
			}
			*len = floe_sample_payload_size(s);
			if (*len >= sizeof(*word))
				memcpy(word, floe_sample_payload(s),
				       sizeof(*word));
			floe_sample_release(s);
			if (*len >= sizeof(*word))
				return true;
		}
	}
	return false;
}

static int pong(struct end *e)
{
	uint64_t count = 0;

	while (!stopping) {
		uint64_t word, len;

		if (!recv_msg(e, &word, &len, bench_now_ns() + TIMEOUT_NS))
			continue;
		count++;
		if (!(word & ASK_ANSWER))
			continue;
		word = (word & INDEX_MASK) |
		       (count & COUNT_MASK) << COUNT_SHIFT;
		count = 0;
		send_msg(e, word, len);
	}
	return 0;
}

/* One exchange: send @index asking for an answer, wait for it. */
static bool exchange(struct end *e, uint64_t index, uint64_t len,
		     uint64_t *count)
{
	uint64_t deadline = bench_now_ns() + TIMEOUT_NS, got, got_len;

	index &= INDEX_MASK;
	if (send_msg(e, index | ASK_ANSWER, len))
		return false;
	while (recv_msg(e, &got, &got_len, deadline))
		if ((got & INDEX_MASK) == index) {
			*count = got >> COUNT_SHIFT & COUNT_MASK;
			return true;
		}
	return false;
}

static int ping(struct end *e, const char *system, struct bench_opts *o)
{
	struct bench_result rows[2 * BENCH_MAX_SIZES];
	uint64_t *samples = calloc((size_t)o->iterations, sizeof(uint64_t));
	uint64_t index = 1, count;
	int n = 0;

	if (!samples)
		return 1;
	/* the far end and both gateways are up when one exchange passes */
	while (!exchange(e, index++, sizeof(uint64_t), &count))
		if (stopping)
			return 1;
	for (int s = 0; s < o->nsizes; s++) {
		uint64_t len = o->sizes[s], t0, burst_ns;
		struct bench_result *r = &rows[n];
		long lost = 0;

		memset(r, 0, sizeof(*r));
		for (long i = 0; i < o->warmup; i++)
			exchange(e, index++, len, &count);
		t0 = bench_now_ns();
		for (long i = 0; i < o->iterations; i++) {
			uint64_t start = bench_now_ns();

			while (!exchange(e, index++, len, &count) &&
			       !stopping)
				lost++;
			samples[i] = (bench_now_ns() - start) / 2;
		}
		r->system = system;
		r->pattern = "gateway-pingpong";
		r->payload_bytes = len;
		r->subscribers = 1;
		bench_summarise(r, samples, o->iterations,
				2.0 * (double)o->iterations,
				bench_now_ns() - t0);
		if (lost)
			fprintf(stderr, "# %s %" PRIu64 " B: %ld exchanges "
				"timed out and were repeated\n", system, len,
				lost);
		n++;
		/* a burst, the last message asking how many arrived */
		r = &rows[n];
		memset(r, 0, sizeof(*r));
		t0 = bench_now_ns();
		for (long i = 0; i + 1 < STREAM_BURST; i++) {
			send_msg(e, index++ & INDEX_MASK, len);
		}
		if (!exchange(e, index++, len, &count))
			count = 0;
		burst_ns = bench_now_ns() - t0;
		r->system = system;
		r->pattern = "gateway-stream";
		r->payload_bytes = len;
		r->subscribers = 1;
		r->iterations = STREAM_BURST;
		r->p50 = r->p99 = r->p999 = r->max = burst_ns / STREAM_BURST;
		r->msgs_per_s = (double)count * 1e9 / (double)burst_ns;
		if (count < STREAM_BURST)
			fprintf(stderr, "# %s %" PRIu64 " B stream: %" PRIu64
				" of %d arrived\n", system, len, count,
				STREAM_BURST);
		n++;
	}
	if (o->json)
		bench_json(stdout, rows, n);
	for (int i = 0; i < n; i++) {
		char size[32];

		fprintf(stderr, "%-13s %-17s %8s  p50 %9" PRIu64 " ns  p99 %9"
			PRIu64 " ns  %10.0f msgs/s\n", rows[i].system,
			rows[i].pattern,
			bench_human(rows[i].payload_bytes, size, sizeof(size)),
			rows[i].p50, rows[i].p99, rows[i].msgs_per_s);
	}
	free(samples);
	return 0;
}

int main(int argc, char **argv)
{
	static const uint64_t full[] = { 8, 1024, 65536, 1 << 20 };
	static const uint64_t quick[] = { 8, 1 << 20 };
	struct bench_opts o = { .iterations = 2000, .warmup = 100 };
	struct sigaction sa = { .sa_handler = on_signal };
	const char *via = "floe", *role = argc > 1 ? argv[1] : "";
	struct end e = { 0 };
	bool is_dds, is_ping = !strcmp(role, "ping");
	int ret;

	bench_set_sizes(&o, full, sizeof(full) / sizeof(full[0]));
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--via") && i + 1 < argc) {
			via = argv[++i];
		} else if (!strcmp(argv[i], "--quick")) {
			bench_set_sizes(&o, quick, 2);
			o.iterations = 50;
			o.warmup = 5;
		} else if (!bench_option(&o, argc, argv, &i, 8)) {
			fprintf(stderr, "gateway_pingpong: unknown option "
					"%s\n", argv[i]);
			return 2;
		}
	}
	is_dds = !strcmp(via, "dds");
	if ((!is_ping && strcmp(role, "pong")) ||
	    (!is_dds && strcmp(via, "floe")) || o.nsizes < 1 ||
	    o.iterations < 1) {
		fprintf(stderr, "usage: gateway_pingpong ping|pong --via "
				"floe|dds [--quick] [--json] [--sizes L]\n");
		return 2;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (is_dds)
		ret = dds_open(&e, is_ping ? "gwbench_dds/ping" :
					     "gwbench_dds/pong",
			       is_ping ? "gwbench_dds/pong" :
					 "gwbench_dds/ping");
	else
		ret = floe_open(&e, is_ping ? "gwbench/ping" : "gwbench/pong",
				is_ping ? "gwbench/pong" : "gwbench/ping");
	if (!ret)
		ret = is_ping ? ping(&e, is_dds ? "cyclonedds" :
						  "floe-gateway", &o) :
				pong(&e);
	end_close(&e);
	return ret ? 1 : 0;
}
