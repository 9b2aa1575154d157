// SPDX-License-Identifier: MIT
/*
 * How floe scales: subscribers, services alive, shared memory per service
 * and per port.
 *
 *   scale [--quick] [--json] [--budget-ms N]
 *
 * 1. fan-out latency ("fanout-pingpong"): one publisher on service "ping",
 *    N = 1, 2, 4, 8, 16 subscriber processes; each answers every sample on
 *    service "pong" (N publishers, one subscriber). A round trip ends when
 *    all N answers are in; half of it is reported, 8 B payloads.
 * 2. throughput ("throughput"): one publisher sends 8 B and 64 KiB samples
 *    as fast as it can to N = 1 … 16 subscriber processes, delivery
 *    blocking (no sample is lost: every subscriber checks that it saw every
 *    sequence number); msgs_per_s is samples sent per second, each reaching
 *    all N subscribers. Latency fields are 0 in these rows. Beside them the
 *    limit, system "raw-zerocopy": the same streaming with nothing but the
 *    protocol's own memory traffic (raw_stream below).
 * 3. services alive ("pingpong-services"): 1, 10, 100, 1000 idle services
 *    (default QoS) exist in the domain while an 8 B ping-pong runs beside
 *    them; "services" says how many.
 * 4. memory ("memory-service", "memory-publisher", "memory-subscriber"):
 *    bytes of shared memory one more service (default QoS, no ports), one
 *    more publisher (8 B payloads) and one more subscriber cost, measured
 *    as the growth of the domain's files in /dev/shm (shm backend only):
 *    "shm_bytes" is what is allocated, "shm_mapped_bytes" the files' size.
 *
 * The publisher runs pinned to the first CPU allowed, every subscriber to
 * the second. With more than one subscriber the waiting processes share a
 * CPU and yield instead of spinning: the numbers then include the
 * scheduler, which is what several subscribers on two CPUs cost.
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "bench.h"
#include "floe.h"

#define MAX_SUBS 16
#define MAX_ROWS 64
#define STOP_SEQ UINT64_MAX
#define SETUP_NS 10000000000ull

struct options {
	const uint32_t *subs;
	int nsubs;
	uint32_t chosen_subs[MAX_SUBS]; /* --subs, whatever the order */
	int nchosen;
	/* --only: rows of this pattern only (fanout-pingpong, throughput or
	 * pingpong-services, memory rows with the last), or NULL: all */
	const char *only;
	const uint32_t *services;
	int nservices;
	long iterations, warmup;
	uint64_t budget_ns;
	bool json;
};

/* Rows of this program: the common fields and what only it reports. */
struct row {
	struct bench_result r;
	uint32_t services;		/* idle services alive; 0: not said */
	int64_t shm_bytes, shm_mapped;	/* memory rows; else -1 */
};

/* How a group of one publisher and N subscriber processes is run. */
struct group {
	uint32_t nsubs;
	uint64_t size;
	bool throughput;	/* else ping-pong, every subscriber answers */
	int ready[2];		/* subscriber → publisher: set up or not */
};

static const uint32_t full_subs[] = { 1, 2, 4, 8, 16 };
static const uint32_t quick_subs[] = { 1, 2 };
static const uint32_t full_services[] = { 1, 10, 100, 1000 };
static const uint32_t quick_services[] = { 1, 10 };
static const uint64_t throughput_sizes[] = { 8, 65536 };

static const struct floe_type byte_type = { .name = "u8", .size = 1,
					    .align = 1 };
static struct bench_cpus cpus;
static FILE *table;
static const char *domain;	/* ours: its files are what we measure */

/* Spin politely: yield when the CPU is shared with other waiters. */
static void relax(bool shared)
{
	if (shared)
		sched_yield();
	else
		bench_relax(&cpus);
}

static void qos_for(const struct group *g, bool ping, struct floe_pubsub_qos *q)
{
	floe_pubsub_qos_init(q);
	q->max_nodes = g->nsubs + 2;
	q->max_publishers = ping ? 1 : g->nsubs;
	q->max_subscribers = ping ? g->nsubs : 1;
	/* throughput: room to run ahead; ping-pong: one in flight */
	q->subscriber_max_buffer_size = g->throughput && ping ? 64 : 2;
	q->subscriber_max_borrowed_samples = 1;
	q->publisher_max_loaned_samples = 1;
	q->enable_safe_overflow = false;
}

static int open_service(floe_node *node, const struct group *g, bool ping,
			bool create, floe_service **out)
{
	struct floe_pubsub_qos q;
	struct floe_service_opts so = { .type = byte_type, .qos = &q };
	const char *name = ping ? "bench/scale/ping" : "bench/scale/pong";
	uint64_t deadline = bench_now_ns() + SETUP_NS;
	int err;

	qos_for(g, ping, &q);
	if (create)
		return floe_service_create(node, name, &so, out);
	so.qos = NULL;
	do {
		err = floe_service_open(node, name, &so, out);
	} while ((err == FLOE_E_NOT_FOUND || err == FLOE_E_BUSY) &&
		 bench_now_ns() < deadline);
	return err;
}

static int make_publisher(floe_service *svc, uint64_t size,
			  floe_publisher **out)
{
	struct floe_publisher_opts po;

	floe_publisher_opts_init(&po);
	po.initial_max_slice_len = size;
	po.allocation = FLOE_ALLOC_STATIC;
	po.unable_to_deliver = FLOE_DELIVER_BLOCK;
	return floe_publisher_create(svc, &po, out);
}

static int send_seq(floe_publisher *pub, uint64_t size, uint64_t seq,
		    bool shared)
{
	floe_sample_mut *s;
	int err;

	while ((err = floe_publisher_loan(pub, size, &s)) == FLOE_E_POOL_EMPTY)
		relax(shared);
	if (err)
		return err;
	memcpy(floe_sample_mut_payload(s), &seq, sizeof(seq));
	return floe_sample_mut_send(s) < 0 ? -1 : 0;
}

/* Poll for a sample: 1 and its sequence number, 0 none, or an error. */
static int poll_seq(floe_subscriber *sub, uint64_t *seq)
{
	const floe_sample *s;
	int r = floe_subscriber_receive(sub, &s);

	if (r <= 0)
		return r;
	memcpy(seq, floe_sample_payload(s), sizeof(*seq));
	floe_sample_release(s);
	return 1;
}

/* A subscriber process; exit status 0 if it saw what it should. */
static int subscriber(const struct group *g)
{
	floe_service *ping = NULL, *pong = NULL;
	floe_subscriber *sub = NULL;
	floe_publisher *pub = NULL;
	bool shared = g->nsubs > 1;
	uint64_t seq, expect = 0;
	floe_node *node;
	int err, bad = 0;
	char c;

	err = floe_node_create("bench sub", NULL, &node);
	if (!err)
		err = open_service(node, g, true, false, &ping);
	if (!err)
		err = floe_subscriber_create(ping, NULL, &sub);
	if (!err && !g->throughput)
		err = open_service(node, g, false, false, &pong);
	if (!err && !g->throughput)
		err = make_publisher(pong, g->size, &pub);
	c = err ? 'x' : 'r';
	if (write(g->ready[1], &c, 1) != 1 || err) {
		fprintf(stderr, "subscriber setup: %s\n", floe_strerror(err));
		return 1;
	}
	for (;;) {
		int r = poll_seq(sub, &seq);

		if (r < 0)
			return 1;
		if (r == 0) {
			relax(shared);
			continue;
		}
		if (seq == STOP_SEQ)
			break;
		if (g->throughput) {
			/* delivery blocks: nothing may be lost */
			bad |= seq != expect++;
		} else if (send_seq(pub, g->size, seq, shared)) {
			return 1;
		}
	}
	floe_publisher_destroy(pub);
	floe_subscriber_destroy(sub);
	floe_service_close(ping);
	floe_service_close(pong);
	floe_node_destroy(node);
	return bad;
}

/* Fork the group's subscribers and wait until all are set up. */
static int start_subscribers(struct group *g, pid_t *pids)
{
	if (pipe(g->ready))
		return -1;
	for (uint32_t i = 0; i < g->nsubs; i++) {
		pids[i] = bench_fork_partner(cpus.b);
		if (pids[i] < 0)
			return -1;
		if (pids[i] == 0)
			_exit(subscriber(g));
	}
	for (uint32_t i = 0; i < g->nsubs; i++) {
		char c;

		if (read(g->ready[0], &c, 1) != 1 || c != 'r')
			return -1;
	}
	return 0;
}

/* Reap the subscribers; -1 if any failed. */
static int stop_subscribers(struct group *g, pid_t *pids, bool kill_them)
{
	int ret = 0, status;

	for (uint32_t i = 0; i < g->nsubs; i++) {
		if (pids[i] <= 0)
			continue;
		if (kill_them)
			kill(pids[i], SIGKILL);
		if (waitpid(pids[i], &status, 0) != pids[i] ||
		    !WIFEXITED(status) || WEXITSTATUS(status))
			ret = -1;
	}
	return ret;
}

/* True if a subscriber died while we wait for it. */
static bool lost_subscriber(void)
{
	siginfo_t info = { 0 };

	return waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	       info.si_pid;
}

/* All N answers to @seq; -1 if a subscriber died. */
static int collect(floe_subscriber *sub, uint64_t seq, uint32_t n,
		   long *errors)
{
	unsigned spins = 0;

	while (n) {
		uint64_t got;
		int r = poll_seq(sub, &got);

		if (r < 0)
			return -1;
		if (r == 1) {
			*errors += got != seq;
			n--;
			continue;
		}
		bench_relax(&cpus);
		if (++spins % 65536 == 0 && lost_subscriber())
			return -1;
	}
	return 0;
}

/* ---- raw zero-copy streaming ------------------------------------------- */

/*
 * The floor of 1→1 zero-copy streaming with floe's geometry (a queue of
 * RAW_QUEUE entries, RAW_CHUNKS chunks, a completion queue): the
 * producer writes a sequence number into a free chunk and queues its
 * index; the consumer reads it, checks it and queues the index back.
 * Indices are cached on both sides, and completions are taken back only
 * when no chunk is free: no validation, no counters, no bookkeeping.
 */
#define RAW_QUEUE 64
#define RAW_CHUNKS 68
#define RAW_COMPLETIONS 128

struct raw_stream {
	_Alignas(64) _Atomic uint64_t head;	/* consumer's */
	_Alignas(64) _Atomic uint64_t tail;	/* producer's, with the entries */
	uint64_t entries[RAW_QUEUE];
	_Alignas(64) _Atomic uint64_t done_tail;	/* consumer's */
	uint64_t done[RAW_COMPLETIONS];
	_Alignas(64) uint64_t chunks[RAW_CHUNKS][8];
};

/* The consumer: exit status 0 if it saw every number in order. */
static int raw_consume(struct raw_stream *r)
{
	uint64_t head = 0, tail = 0, done = 0, expect = 0;
	bool bad = false;

	for (;;) {
		uint64_t chunk, v;

		while (tail == head) {
			tail = atomic_load_explicit(&r->tail,
						    memory_order_acquire);
			if (tail == head)
				bench_relax(&cpus);
		}
		chunk = r->entries[head % RAW_QUEUE] % RAW_CHUNKS;
		v = r->chunks[chunk][0];
		atomic_store_explicit(&r->head, ++head, memory_order_release);
		r->done[done % RAW_COMPLETIONS] = chunk;
		atomic_store_explicit(&r->done_tail, ++done,
				      memory_order_release);
		if (v == STOP_SEQ)
			return bad;
		bad |= v != expect++;
	}
}

/* Produce @v: 0, or -1 if the consumer died. */
static int raw_produce(struct raw_stream *r, uint64_t *free_chunks,
		       uint32_t *nfree, uint64_t *tail, uint64_t *head,
		       uint64_t *done_head, uint64_t v)
{
	unsigned spins = 0;
	uint64_t chunk;

	while (!*nfree) {
		uint64_t done = atomic_load_explicit(&r->done_tail,
						     memory_order_acquire);

		while (*done_head != done)
			free_chunks[(*nfree)++] =
				r->done[(*done_head)++ % RAW_COMPLETIONS];
		if (!*nfree) {
			bench_relax(&cpus);
			if (++spins % 65536 == 0 && lost_subscriber())
				return -1;
		}
	}
	chunk = free_chunks[--*nfree];
	r->chunks[chunk][0] = v;
	while (*tail - *head >= RAW_QUEUE) {
		*head = atomic_load_explicit(&r->head, memory_order_acquire);
		if (*tail - *head >= RAW_QUEUE) {
			bench_relax(&cpus);
			if (++spins % 65536 == 0 && lost_subscriber())
				return -1;
		}
	}
	r->entries[*tail % RAW_QUEUE] = chunk;
	atomic_store_explicit(&r->tail, ++*tail, memory_order_release);
	return 0;
}

/* The raw-zerocopy throughput row, for the same budget as floe's. */
static int raw_stream(const struct options *o, struct bench_result *out)
{
	uint64_t free_chunks[RAW_CHUNKS], tail = 0, head = 0, done_head = 0;
	uint64_t start, end, seq = 0;
	uint32_t nfree = RAW_CHUNKS;
	struct raw_stream *r;
	int status, err = 0;
	pid_t pid;

	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED)
		return -1;
	for (uint32_t i = 0; i < RAW_CHUNKS; i++)
		free_chunks[i] = i;
	pid = bench_fork_partner(cpus.b);
	if (pid < 0) {
		munmap(r, sizeof(*r));
		return -1;
	}
	if (pid == 0)
		_exit(raw_consume(r));
	start = end = bench_now_ns();
	while (!err && end < start + o->budget_ns) {
		err = raw_produce(r, free_chunks, &nfree, &tail, &head,
				  &done_head, seq++);
		if (seq % 64 == 0)
			end = bench_now_ns();
	}
	if (!err)
		err = raw_produce(r, free_chunks, &nfree, &tail, &head,
				  &done_head, STOP_SEQ);
	if (err)
		kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		err = -1;
	end = bench_now_ns();
	munmap(r, sizeof(*r));
	if (err)
		return -1;
	out->system = "raw-zerocopy";
	out->pattern = "throughput";
	out->payload_bytes = 8;
	out->subscribers = 1;
	out->iterations = (long)seq;
	out->msgs_per_s = (double)seq * 1e9 / (double)(end - start);
	return 0;
}

/* One group: fan-out ping-pong or throughput, into @out. */
static int run_group(const struct options *o, floe_node *node,
		     struct group *g, uint64_t *samples,
		     struct bench_result *out, long *errors)
{
	floe_service *ping = NULL, *pong = NULL;
	floe_subscriber *sub = NULL;
	floe_publisher *pub = NULL;
	pid_t pids[MAX_SUBS] = { 0 };
	uint64_t start, end, deadline, seq = 0;
	long n = 0;
	int err;

	g->ready[0] = g->ready[1] = -1;
	err = open_service(node, g, true, true, &ping);
	if (!err && !g->throughput)
		err = open_service(node, g, false, true, &pong);
	if (!err && !g->throughput)
		err = floe_subscriber_create(pong, NULL, &sub);
	if (!err && start_subscribers(g, pids))
		err = -1;
	if (!err)
		err = make_publisher(ping, g->size, &pub);
	if (err)
		goto out;

	/* warm-up: a tenth of the budget at most */
	deadline = bench_now_ns() + o->budget_ns / 10;
	for (long i = 0; !err && i < o->warmup && bench_now_ns() < deadline;
	     i++) {
		err = send_seq(pub, g->size, seq++, false);
		if (!err && !g->throughput)
			err = collect(sub, seq - 1, g->nsubs, errors);
	}
	start = end = bench_now_ns();
	deadline = start + o->budget_ns;
	while (!err && end < deadline &&
	       (g->throughput || n < o->iterations)) {
		uint64_t t0 = end;

		err = send_seq(pub, g->size, seq++, false);
		if (!err && !g->throughput)
			err = collect(sub, seq - 1, g->nsubs, errors);
		/* throughput: the clock (~20 ns) is read every 64 sends, not
		 * counted into each */
		if (!g->throughput || n % 64 == 63)
			end = bench_now_ns();
		if (!g->throughput)
			samples[n] = (end - t0) / 2;
		n++;
	}
	if (!err)
		err = send_seq(pub, g->size, STOP_SEQ, false);
	/* throughput counts until the last subscriber took the last one */
	if (!err && stop_subscribers(g, pids, false))
		err = -1;
	memset(pids, 0, sizeof(pids));
	end = g->throughput ? bench_now_ns() : end;
	if (err)
		goto out;
	out->system = "floe";
	out->payload_bytes = g->size;
	out->subscribers = g->nsubs;
	if (g->throughput) {
		out->pattern = "throughput";
		out->iterations = n;
		out->msgs_per_s = (double)n * 1e9 / (double)(end - start);
	} else {
		out->pattern = "fanout-pingpong";
		/* two hops per round trip, N answers on the way back */
		bench_summarise(out, samples, n, (double)n * (1 + g->nsubs),
				end - start);
	}
out:
	if (pids[0] > 0)
		stop_subscribers(g, pids, true);
	floe_publisher_destroy(pub);
	floe_subscriber_destroy(sub);
	floe_service_close(ping);
	floe_service_close(pong);
	if (g->ready[0] >= 0) {
		close(g->ready[0]);
		close(g->ready[1]);
	}
	if (err)
		fprintf(stderr, "%s with %" PRIu32 " subscribers failed: %s\n",
			g->throughput ? "throughput" : "fan-out",
			g->nsubs, err < 0 ? floe_strerror(err) : "?");
	return err ? -1 : 0;
}

/* Bytes the domain's files in /dev/shm hold: allocated and mapped. */
static void domain_shm(int64_t *allocated, int64_t *mapped)
{
	size_t plen = strlen(domain);
	DIR *d = opendir("/dev/shm");
	struct dirent *e;

	*allocated = *mapped = 0;
	if (!d)
		return;
	while ((e = readdir(d))) {
		struct stat st;

		if (strncmp(e->d_name, domain, plen) ||
		    e->d_name[plen] != '.' ||
		    fstatat(dirfd(d), e->d_name, &st, 0))
			continue;
		*allocated += (int64_t)st.st_blocks * 512;
		*mapped += (int64_t)st.st_size;
	}
	closedir(d);
}

static void print_row(const struct row *w)
{
	const struct bench_result *r = &w->r;
	char size[32];

	if (w->shm_bytes >= 0) {
		fprintf(table, "%-18s %10" PRId64 " B allocated, %10" PRId64
			" B mapped\n", r->pattern, w->shm_bytes,
			w->shm_mapped);
		return;
	}
	fprintf(table, "%-18s %9s %4" PRIu32 " %5" PRIu32 " %8" PRIu64
		" %8" PRIu64 " %8" PRIu64 " %10" PRIu64 " %12.0f%s%s\n",
		r->pattern, bench_human(r->payload_bytes, size, sizeof(size)),
		r->subscribers, w->services, r->p50, r->p99, r->p999, r->max,
		r->msgs_per_s, strcmp(r->system, "floe") ? "  " : "",
		strcmp(r->system, "floe") ? r->system : "");
	fflush(table);
}

static void print_json(const struct row *rows, int n)
{
	printf("[\n");
	for (int i = 0; i < n; i++) {
		const struct bench_result *r = &rows[i].r;

		printf("  {\"system\": \"%s\", \"pattern\": \"%s\", "
		       "\"payload_bytes\": %" PRIu64 ", \"subscribers\": %"
		       PRIu32 ", \"p50_ns\": %" PRIu64 ", \"p99_ns\": %" PRIu64
		       ", \"p999_ns\": %" PRIu64 ", \"max_ns\": %" PRIu64
		       ", \"msgs_per_s\": %.0f, \"iterations\": %ld, "
		       "\"services\": %" PRIu32, r->system, r->pattern,
		       r->payload_bytes,
		       r->subscribers, r->p50, r->p99, r->p999, r->max,
		       r->msgs_per_s, r->iterations, rows[i].services);
		if (rows[i].shm_bytes >= 0)
			printf(", \"shm_bytes\": %" PRId64 ", "
			       "\"shm_mapped_bytes\": %" PRId64,
			       rows[i].shm_bytes, rows[i].shm_mapped);
		printf("}%s\n", i + 1 < n ? "," : "");
	}
	printf("]\n");
}

/* A memory row: what the last step added to the domain's files. */
static void memory_row(struct row *w, const char *what, int64_t *alloc0,
		       int64_t *mapped0, uint32_t count)
{
	int64_t alloc, mapped;

	domain_shm(&alloc, &mapped);
	memset(w, 0, sizeof(*w));
	w->r.system = "floe";
	w->r.pattern = what;
	w->shm_bytes = (alloc - *alloc0) / count;
	w->shm_mapped = (mapped - *mapped0) / count;
	*alloc0 = alloc;
	*mapped0 = mapped;
}

/* Does --only let rows of @pattern run? */
static bool wanted(const struct options *o, const char *pattern)
{
	return !o->only || !strcmp(o->only, pattern);
}

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--quick] [--json] [--budget-ms N] "
		"[--subs N,N,...] [--only PATTERN]\n", argv0);
	exit(2);
}

static void parse_args(int argc, char **argv, struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->subs = full_subs;
	o->nsubs = (int)(sizeof(full_subs) / sizeof(full_subs[0]));
	o->services = full_services;
	o->nservices = (int)(sizeof(full_services) / sizeof(full_services[0]));
	o->iterations = 100000;
	o->warmup = 10000;
	o->budget_ns = 1000000000ull;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			o->subs = quick_subs;
			o->nsubs = (int)(sizeof(quick_subs) /
					 sizeof(quick_subs[0]));
			o->services = quick_services;
			o->nservices = (int)(sizeof(quick_services) /
					     sizeof(quick_services[0]));
			o->iterations = 2000;
			o->warmup = 200;
			o->budget_ns = 50000000ull;
		} else if (!strcmp(argv[i], "--json")) {
			o->json = true;
		} else if (!strcmp(argv[i], "--budget-ms") && i + 1 < argc) {
			o->budget_ns = strtoull(argv[++i], NULL, 0) *
				       1000000ull;
		} else if (!strcmp(argv[i], "--subs") && i + 1 < argc) {
			char *p = argv[++i], *end;

			o->nchosen = 0;
			do {
				unsigned long n = strtoul(p, &end, 10);

				if (end == p || !n || n > MAX_SUBS ||
				    o->nchosen == MAX_SUBS)
					usage(argv[0]);
				o->chosen_subs[o->nchosen++] = (uint32_t)n;
				p = end + 1;
			} while (*end == ',');
			if (*end)
				usage(argv[0]);
		} else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
			o->only = argv[++i];
			if (strcmp(o->only, "fanout-pingpong") &&
			    strcmp(o->only, "throughput") &&
			    strcmp(o->only, "pingpong-services"))
				usage(argv[0]);
		} else {
			usage(argv[0]);
		}
	}
	if (!o->budget_ns)
		usage(argv[0]);
	if (o->nchosen) {
		o->subs = o->chosen_subs;
		o->nsubs = o->nchosen;
	}
}

int main(int argc, char **argv)
{
	static struct row rows[MAX_ROWS];
	floe_service *idle[1000];
	struct options o;
	floe_node *node;
	uint64_t *samples;
	int64_t alloc0, mapped0;
	uint32_t nidle = 0;
	long errors = 0;
	int nrows = 0, failed = 0, err;
	bool shm;

	parse_args(argc, argv, &o);
	signal(SIGPIPE, SIG_IGN);
	table = o.json ? stderr : stdout;
	domain = bench_own_domain();
	samples = calloc((size_t)o.iterations, sizeof(*samples));
	if (!samples)
		return 1;
	cpus = bench_choose_cpus();
	bench_pin(cpus.a);
	err = floe_node_create("bench scale", NULL, &node);
	if (err) {
		fprintf(stderr, "node: %s\n", floe_strerror(err));
		return 1;
	}
	shm = floe_node_backend(node) == FLOE_BACKEND_SHM;
	fprintf(table, "# CPUs %d and %d, backend %s, up to %ld iterations or "
		"%" PRIu64 " ms per row; latency: half round trip in ns\n",
		cpus.a, cpus.b, floe_backend_name(floe_node_backend(node)),
		o.iterations, o.budget_ns / 1000000);
	fprintf(table, "%-18s %9s %4s %5s %8s %8s %8s %10s %12s\n", "pattern",
		"payload", "subs", "svcs", "p50", "p99", "p99.9", "max",
		"msgs/s");

	/* 1, 2: subscribers; before the throughput rows, their limit */
	for (int t = 0; t < 3 && !failed; t++) {
		if (!wanted(&o, t ? "throughput" : "fanout-pingpong"))
			continue;
		if (t == 1) {
			struct row *w = &rows[nrows];

			memset(w, 0, sizeof(*w));
			w->shm_bytes = -1;
			if (raw_stream(&o, &w->r))
				failed = 1;
			else
				print_row(&rows[nrows++]);
		}
		for (int i = 0; i < o.nsubs && !failed; i++) {
			struct group g = {
				.nsubs = o.subs[i],
				.throughput = t > 0,
				.size = t > 0 ? throughput_sizes[t - 1] : 8,
			};
			struct row *w = &rows[nrows];

			memset(w, 0, sizeof(*w));
			w->shm_bytes = -1;
			if (run_group(&o, node, &g, samples, &w->r, &errors))
				failed = 1;
			else
				print_row(&rows[nrows++]);
		}
	}

	/* 3, 4: services alive, and what each costs */
	domain_shm(&alloc0, &mapped0);
	for (int i = 0; i < o.nservices && !failed &&
			wanted(&o, "pingpong-services");
	     i++) {
		struct floe_service_opts so = { .type = byte_type };
		uint32_t before = nidle;
		struct group g = { .nsubs = 1, .size = 8 };
		struct row *w;

		for (; nidle < o.services[i] && !failed; nidle++) {
			char name[64];

			snprintf(name, sizeof(name), "bench/idle/%" PRIu32,
				 nidle);
			err = floe_service_create(node, name, &so,
						  &idle[nidle]);
			if (err) {
				fprintf(stderr, "service %" PRIu32 ": %s\n",
					nidle, floe_strerror(err));
				failed = 1;
			}
		}
		if (failed)
			break;
		if (shm && nidle > before) {
			memory_row(&rows[nrows], "memory-service", &alloc0,
				   &mapped0, nidle - before);
			rows[nrows].services = nidle;
			print_row(&rows[nrows++]);
		}
		w = &rows[nrows];
		memset(w, 0, sizeof(*w));
		w->shm_bytes = -1;
		if (run_group(&o, node, &g, samples, &w->r, &errors)) {
			failed = 1;
			break;
		}
		w->r.pattern = "pingpong-services";
		w->services = nidle;
		print_row(&rows[nrows++]);
		domain_shm(&alloc0, &mapped0);
	}
	if (shm && !failed && nidle) {
		floe_publisher *pub;
		floe_subscriber *sub;

		domain_shm(&alloc0, &mapped0);
		if (!make_publisher(idle[0], 8, &pub)) {
			memory_row(&rows[nrows], "memory-publisher", &alloc0,
				   &mapped0, 1);
			print_row(&rows[nrows++]);
			if (!floe_subscriber_create(idle[0], NULL, &sub)) {
				memory_row(&rows[nrows], "memory-subscriber",
					   &alloc0, &mapped0, 1);
				print_row(&rows[nrows++]);
				floe_subscriber_destroy(sub);
			}
			floe_publisher_destroy(pub);
		}
	} else if (!shm) {
		fprintf(table, "# memory: measured on the shm backend only\n");
	}
	while (nidle)
		floe_service_close(idle[--nidle]);
	floe_node_destroy(node);
	if (errors) {
		fprintf(stderr, "%ld answers carried the wrong sequence "
			"number\n", errors);
		failed = 1;
	}
	if (o.json)
		print_json(rows, nrows);
	free(samples);
	return failed;
}
