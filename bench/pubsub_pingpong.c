// SPDX-License-Identifier: MIT
/*
 * Publish-subscribe ping-pong latency, floe against the physical limit.
 *
 *   pubsub_pingpong [--quick] [--json] [--sizes 8,4K,1M,...]
 *                   [--iterations N] [--warmup N]
 *
 * Two processes, pinned to the first two CPUs allowed (normally 0 and 1),
 * busy-poll each other:
 *  1. raw: both spin on one cache line of a MAP_SHARED anonymous mapping,
 *     each writing the next value when it sees its turn: what the hardware
 *     can do at best;
 *  2. raw zero-copy: a queue line whose entry names a chunk line holding
 *     the value, read in that order (two dependent transfers): the floor
 *     of any zero-copy transport;
 *  3. floe: the first process loans a sample of the payload size on
 *     service "ping", writes the sequence number into its first cache line
 *     and sends it; the second receives it, releases it, and answers the
 *     same way on "pong". Only the first cache line of the payload is
 *     touched, so with zero-copy the latency must not grow with the size.
 * A round trip is timed per iteration (after a warm-up); half of it is one
 * message's latency: p50 / p99 / p99.9 / max, and floe's p50 over raw.
 * --json prints the results as JSON on stdout (the table then goes to
 * stderr). With one CPU nothing is pinned and the spinning yields.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "floe.h"
#include "pingpong_qos.h"

#define CACHE_LINE 64

struct options {
	uint64_t sizes[BENCH_MAX_SIZES];
	int nsizes;
	long iterations, warmup;
	int json;
};

static struct bench_cpus cpus;
static FILE *table;			/* where the readable table goes */

/* Called while spinning: stop if the partner died. */
static void check_partner(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, WNOHANG) == pid) {
		fprintf(stderr, "partner process died (status %d)\n", status);
		exit(1);
	}
}

/* ---- raw cache-line ping-pong ----------------------------------------- */

/* The row of a raw ping-pong of 8 B timed since @start. */
static void raw_row(struct bench_result *r, const char *system,
		    const struct options *o, uint64_t *samples, uint64_t start)
{
	/* two messages per round trip */
	bench_summarise(r, samples, o->iterations,
			2.0 * (double)o->iterations, bench_now_ns() - start);
	r->system = system;
	r->pattern = "pingpong";
	r->subscribers = 1;
	r->payload_bytes = 8;
}

static int run_raw(const struct options *o, uint64_t *samples,
		   struct bench_result *r)
{
	long total = o->warmup + o->iterations;
	volatile uint64_t *line;
	uint64_t start = 0;
	pid_t pid;
	void *map;

	map = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return -1;
	line = map;
	*line = 0;
	pid = bench_fork_partner(cpus.b);
	if (pid < 0)
		return -1;
	if (pid == 0) {
		/* Answer every odd value with the next even one. */
		for (uint64_t i = 0; i < (uint64_t)total; i++) {
			while (__atomic_load_n(line, __ATOMIC_ACQUIRE) != 2 * i + 1)
				bench_relax(&cpus);
			__atomic_store_n(line, 2 * i + 2, __ATOMIC_RELEASE);
		}
		_exit(0);
	}
	for (uint64_t i = 0; i < (uint64_t)total; i++) {
		uint64_t t0, t1;
		unsigned spins = 0;

		if (i == (uint64_t)o->warmup)
			start = bench_now_ns();
		t0 = bench_now_ns();
		__atomic_store_n(line, 2 * i + 1, __ATOMIC_RELEASE);
		while (__atomic_load_n(line, __ATOMIC_ACQUIRE) != 2 * i + 2) {
			bench_relax(&cpus);
			if (++spins == 0)
				check_partner(pid);
		}
		t1 = bench_now_ns();
		if (i >= (uint64_t)o->warmup)
			samples[i - (uint64_t)o->warmup] = (t1 - t0) / 2;
	}
	raw_row(r, "raw-cacheline", o, samples, start);
	waitpid(pid, NULL, 0);
	munmap(map, 4096);
	return 0;
}

/* ---- raw zero-copy ping-pong -------------------------------------------- */

/*
 * The floor of any zero-copy transport: a message is an index in a queue
 * line (its tail and entries share the line) naming a chunk line that
 * holds the payload, so the receiver's second read depends on its first.
 * Two dependent line transfers per message and nothing else: no
 * validation, no reclaim, no fence.
 */
#define ZC_CHUNKS 8

struct zc_dir {
	_Alignas(64) _Atomic uint64_t tail;
	uint64_t entries[7];
	_Alignas(64) uint64_t chunks[ZC_CHUNKS][8];
};

static void zc_send(struct zc_dir *d, uint64_t i, uint64_t v)
{
	uint64_t c = i % ZC_CHUNKS;

	__atomic_store_n(&d->chunks[c][0], v, __ATOMIC_RELAXED);
	__atomic_store_n(&d->entries[i % 7], c, __ATOMIC_RELAXED);
	atomic_store_explicit(&d->tail, i + 1, memory_order_release);
}

static uint64_t zc_receive(struct zc_dir *d, uint64_t i, pid_t partner)
{
	unsigned spins = 0;
	uint64_t c;

	while (atomic_load_explicit(&d->tail, memory_order_acquire) == i) {
		bench_relax(&cpus);
		if (partner > 0 && ++spins == 0)
			check_partner(partner);
	}
	c = __atomic_load_n(&d->entries[i % 7], __ATOMIC_RELAXED);
	return __atomic_load_n(&d->chunks[c % ZC_CHUNKS][0], __ATOMIC_RELAXED);
}

static int run_raw_zerocopy(const struct options *o, uint64_t *samples,
			    struct bench_result *r)
{
	long total = o->warmup + o->iterations;
	struct zc_dir *ping, *pong;
	uint64_t start = 0;
	long bad = 0;
	pid_t pid;
	void *map;

	map = mmap(NULL, 2 * sizeof(struct zc_dir), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return -1;
	ping = map;
	pong = ping + 1;
	pid = bench_fork_partner(cpus.b);
	if (pid < 0)
		return -1;
	if (pid == 0) {
		for (uint64_t i = 0; i < (uint64_t)total; i++)
			zc_send(pong, i, zc_receive(ping, i, 0));
		_exit(0);
	}
	for (uint64_t i = 0; i < (uint64_t)total; i++) {
		uint64_t t0, t1;

		if (i == (uint64_t)o->warmup)
			start = bench_now_ns();
		t0 = bench_now_ns();
		zc_send(ping, i, i);
		bad += zc_receive(pong, i, pid) != i;
		t1 = bench_now_ns();
		if (i >= (uint64_t)o->warmup)
			samples[i - (uint64_t)o->warmup] = (t1 - t0) / 2;
	}
	raw_row(r, "raw-zerocopy", o, samples, start);
	waitpid(pid, NULL, 0);
	munmap(map, 2 * sizeof(struct zc_dir));
	return bad ? -1 : 0;
}

/* ---- floe ping-pong ----------------------------------------------------- */

static const struct floe_type byte_type = { .name = "u8", .size = 1,
					    .align = 1 };

struct pipe_pair {
	int to_child[2], to_parent[2];
};

static int put(int fd, uint64_t v)
{
	return write(fd, &v, sizeof(v)) == sizeof(v) ? 0 : -1;
}

static int get(int fd, uint64_t *v)
{
	return read(fd, v, sizeof(*v)) == sizeof(*v) ? 0 : -1;
}

static void service_names(uint64_t size, char *ping, char *pong, size_t len)
{
	snprintf(ping, len, "bench/ping/%" PRIu64, size);
	snprintf(pong, len, "bench/pong/%" PRIu64, size);
}

static int make_service(floe_node *node, const char *name, int create,
			floe_service **out)
{
	struct floe_service_opts so = { .type = byte_type };
	struct floe_pubsub_qos q;
	uint64_t deadline = bench_now_ns() + 10000000000ull;
	int err;

	if (!create) {
		do {
			err = floe_service_open(node, name, &so, out);
		} while ((err == FLOE_E_NOT_FOUND || err == FLOE_E_BUSY) &&
			 bench_now_ns() < deadline);
		return err;
	}
	bench_pingpong_qos(&q);
	so.qos = &q;
	return floe_service_create(node, name, &so, out);
}

static int make_publisher(floe_service *svc, uint64_t size,
			  floe_publisher **out)
{
	struct floe_publisher_opts po;

	floe_publisher_opts_init(&po);
	po.initial_max_slice_len = size;
	po.allocation = FLOE_ALLOC_STATIC;
	return floe_publisher_create(svc, &po, out);
}

/* Loan, write the sequence number into the first cache line, send. */
static int send_seq(floe_publisher *pub, uint64_t size, uint64_t seq)
{
	floe_sample_mut *s;
	int err;

	while ((err = floe_publisher_loan(pub, size, &s)) == FLOE_E_POOL_EMPTY)
		bench_relax(&cpus); /* the partner has not released yet */
	if (err)
		return err;
	memcpy(floe_sample_mut_payload(s), &seq, sizeof(seq));
	return floe_sample_mut_send(s) == 1 ? 0 : -1;
}

/* Spin until a sample arrives; returns its sequence number (payload). */
static int recv_seq(floe_subscriber *sub, uint64_t *seq, pid_t partner)
{
	const floe_sample *s;
	unsigned spins = 0;
	int r;

	while ((r = floe_subscriber_receive(sub, &s)) == 0) {
		bench_relax(&cpus);
		if (partner > 0 && ++spins == 0)
			check_partner(partner);
	}
	if (r < 0)
		return r;
	memcpy(seq, floe_sample_payload(s), sizeof(*seq));
	floe_sample_release(s);
	return 0;
}

/* The partner: for each size, answer every ping with a pong. */
static int floe_partner(const struct options *o, struct pipe_pair *pp)
{
	long total = o->warmup + o->iterations;
	floe_node *node;
	uint64_t size;
	int err = floe_node_create("bench pong", NULL, &node);

	if (err) {
		fprintf(stderr, "partner node: %s\n", floe_strerror(err));
		return 1;
	}
	while (get(pp->to_child[0], &size) == 0 && size) {
		char ping[64], pong[64];
		floe_service *ping_svc = NULL, *pong_svc = NULL;
		floe_subscriber *sub = NULL;
		floe_publisher *pub = NULL;
		uint64_t seq;

		service_names(size, ping, pong, sizeof(ping));
		err = make_service(node, ping, 0, &ping_svc);
		if (!err)
			err = make_service(node, pong, 0, &pong_svc);
		if (!err)
			err = floe_subscriber_create(ping_svc, NULL, &sub);
		if (!err)
			err = make_publisher(pong_svc, size, &pub);
		put(pp->to_parent[1], (uint64_t)-err);
		if (err) {
			fprintf(stderr, "partner setup (%" PRIu64 " B): %s\n",
				size, floe_strerror(err));
			return 1;
		}
		for (long i = 0; i < total && !err; i++) {
			err = recv_seq(sub, &seq, 0);
			if (!err)
				err = send_seq(pub, size, seq);
		}
		floe_publisher_destroy(pub);
		floe_subscriber_destroy(sub);
		floe_service_close(ping_svc);
		floe_service_close(pong_svc);
		put(pp->to_parent[1], (uint64_t)-err);
	}
	floe_node_destroy(node);
	return err ? 1 : 0;
}

static int run_floe_size(const struct options *o, floe_node *node,
			 struct pipe_pair *pp, pid_t partner, uint64_t size,
			 uint64_t *samples, struct bench_result *r,
			 long *errors)
{
	long total = o->warmup + o->iterations;
	char ping[64], pong[64];
	floe_service *ping_svc = NULL, *pong_svc = NULL;
	floe_subscriber *sub = NULL;
	floe_publisher *pub = NULL;
	uint64_t start = 0, v;
	int err;

	service_names(size, ping, pong, sizeof(ping));
	err = make_service(node, ping, 1, &ping_svc);
	if (!err)
		err = make_service(node, pong, 1, &pong_svc);
	if (!err)
		err = floe_subscriber_create(pong_svc, NULL, &sub);
	if (err) {
		fprintf(stderr, "setup (%" PRIu64 " B): %s\n", size,
			floe_strerror(err));
		return -1;
	}
	/* The partner subscribes to ping before we publish on it. */
	put(pp->to_child[1], size);
	if (get(pp->to_parent[0], &v) || v) {
		fprintf(stderr, "partner setup failed\n");
		return -1;
	}
	err = make_publisher(ping_svc, size, &pub);
	if (err) {
		fprintf(stderr, "publisher (%" PRIu64 " B): %s\n", size,
			floe_strerror(err));
		return -1;
	}

	for (long i = 0; i < total; i++) {
		uint64_t t0, t1, seq = 0;

		if (i == o->warmup)
			start = bench_now_ns();
		t0 = bench_now_ns();
		err = send_seq(pub, size, (uint64_t)i);
		if (!err)
			err = recv_seq(sub, &seq, partner);
		t1 = bench_now_ns();
		if (err) {
			/* The partner may wait for us forever: end it. */
			fprintf(stderr, "ping-pong (%" PRIu64 " B): %s\n", size,
				floe_strerror(err));
			kill(partner, SIGKILL);
			return -1;
		}
		if (seq != (uint64_t)i)
			(*errors)++;
		if (i >= o->warmup)
			samples[i - o->warmup] = (t1 - t0) / 2;
	}
	if (get(pp->to_parent[0], &v) || v)
		err = err ? err : -1;
	floe_publisher_destroy(pub);
	floe_subscriber_destroy(sub);
	floe_service_close(ping_svc);
	floe_service_close(pong_svc);
	if (err)
		return -1;
	/* two messages per round trip */
	bench_summarise(r, samples, o->iterations,
			2.0 * (double)o->iterations, bench_now_ns() - start);
	r->system = "floe";
	r->pattern = "pingpong";
	r->subscribers = 1;
	r->payload_bytes = size;
	return 0;
}

/* ---- output -------------------------------------------------------------- */

static void print_row(const struct bench_result *r,
		      const struct bench_result *raw)
{
	char size[32];

	fprintf(table, "%-14s %9s %8" PRIu64 " %8" PRIu64 " %8" PRIu64
		" %10" PRIu64 " %12.0f", r->system,
		bench_human(r->payload_bytes, size, sizeof(size)), r->p50,
		r->p99, r->p999, r->max, r->msgs_per_s);
	if (raw && raw->p50)
		fprintf(table, " %8.1fx", (double)r->p50 / (double)raw->p50);
	fprintf(table, "\n");
	fflush(table);
}

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--quick] [--json] [--sizes 8,4K,1M,...] "
		"[--iterations N] [--warmup N]\n", argv0);
	exit(2);
}

static void parse_args(int argc, char **argv, struct options *o)
{
	static const uint64_t sizes[] = BENCH_SIZES;

	o->nsizes = (int)(sizeof(sizes) / sizeof(sizes[0]));
	memcpy(o->sizes, sizes, sizeof(sizes));
	o->iterations = 100000;
	o->warmup = 10000;
	o->json = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			o->iterations = 2000;
			o->warmup = 200;
		} else if (!strcmp(argv[i], "--json")) {
			o->json = 1;
		} else if (!strcmp(argv[i], "--iterations") && i + 1 < argc) {
			o->iterations = atol(argv[++i]);
		} else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) {
			o->warmup = atol(argv[++i]);
		} else if (!strcmp(argv[i], "--sizes") && i + 1 < argc) {
			o->nsizes = bench_parse_sizes(argv[++i], o->sizes,
						      BENCH_MAX_SIZES, 8);
		} else {
			usage(argv[0]);
		}
	}
	if (o->nsizes < 0) {
		fprintf(stderr, "payload sizes must be >= 8 bytes\n");
		exit(2);
	}
	if (o->iterations < 1 || o->warmup < 0 || o->nsizes < 1)
		usage(argv[0]);
}

int main(int argc, char **argv)
{
	struct bench_result results[BENCH_MAX_SIZES + 2], raw, zc;
	struct options o;
	struct pipe_pair pp;
	floe_node *node = NULL;
	uint64_t *samples;
	long seq_errors = 0;
	int nres = 0, failed = 0, err, status;
	pid_t partner;

	parse_args(argc, argv, &o);
	signal(SIGPIPE, SIG_IGN);
	table = o.json ? stderr : stdout;
	bench_own_domain();
	samples = calloc((size_t)o.iterations, sizeof(*samples));
	if (!samples)
		return 1;
	cpus = bench_choose_cpus();
	bench_pin(cpus.a);

	err = floe_node_create("bench ping", NULL, &node);
	if (err) {
		fprintf(stderr, "node: %s\n", floe_strerror(err));
		return 1;
	}
	if (cpus.single)
		fprintf(table, "# one CPU only: not pinned, spinning yields; "
			"numbers mean little\n");
	else
		fprintf(table, "# CPUs %d and %d", cpus.a, cpus.b);
	fprintf(table, ", backend %s, %ld iterations (+%ld warm-up) per "
		"row; half round trip in ns\n",
		floe_backend_name(floe_node_backend(node)), o.iterations,
		o.warmup);
	fprintf(table, "%-14s %9s %8s %8s %8s %10s %12s %9s\n", "system",
		"payload", "p50", "p99", "p99.9", "max", "msgs/s", "p50/raw");

	/* 1. The physical limit. */
	if (run_raw(&o, samples, &raw)) {
		fprintf(stderr, "raw ping-pong failed\n");
		return 1;
	}
	print_row(&raw, NULL);
	results[nres++] = raw;
	if (run_raw_zerocopy(&o, samples, &zc)) {
		fprintf(stderr, "raw zero-copy ping-pong failed\n");
		return 1;
	}
	print_row(&zc, &raw);
	results[nres++] = zc;

	/* 2. floe, for every size, with one partner process. */
	if (pipe(pp.to_child) || pipe(pp.to_parent))
		return 1;
	partner = bench_fork_partner(cpus.b);
	if (partner < 0)
		return 1;
	if (partner == 0)
		_exit(floe_partner(&o, &pp));
	for (int i = 0; i < o.nsizes; i++) {
		struct bench_result r;

		if (run_floe_size(&o, node, &pp, partner, o.sizes[i], samples,
				  &r, &seq_errors)) {
			failed = 1;
			break;
		}
		print_row(&r, &raw);
		results[nres++] = r;
	}
	put(pp.to_child[1], 0);		/* partner: done */
	waitpid(partner, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		failed = 1;
	floe_node_destroy(node);
	if (seq_errors) {
		fprintf(stderr, "%ld pongs carried the wrong sequence number\n",
			seq_errors);
		failed = 1;
	}
	if (o.json)
		bench_json(stdout, results, nres);
	free(samples);
	return failed;
}
