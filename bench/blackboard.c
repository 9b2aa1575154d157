// SPDX-License-Identifier: MIT
/*
 * Blackboard read and write rates, with 1 and 8 reader processes.
 *
 *   blackboard [--quick] [--json] [--duration-ms N]
 *
 * For each value size (8 B and 4 KiB) and reader count (1 and 8): one
 * writer process writes one entry (floe_writer_write: copy, publish,
 * notify) as fast as it can while the reader processes read it
 * (floe_reader_read: copy and check) as fast as they can, for the
 * duration (default 1000 ms, --quick 100 ms). Reported per row: ops/s
 * (writes of the writer; reads of all readers together) and the latency
 * of one operation (p50 / p99 / p99.9 / max in ns; the writer's, or the
 * first reader's), each sample the mean of a batch of 8 operations timed
 * together so the clock does not dominate. Readers check that the first
 * and last words of every value they read agree (no torn values).
 *
 * The writer runs on the first CPU allowed, the readers on the second;
 * with 8 readers and only two CPUs the readers share one CPU and the
 * machine is oversubscribed: the output says so. --json prints the rows
 * as JSON on stdout (the table then goes to stderr).
 */
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "bench.h"
#include "floe.h"

#define BB_NAME "bench/blackboard"
#define KEY 1
#define MAX_READERS 8
#define BATCH 8
#define MAX_SAMPLES (1 << 20)

/* What one process reports back through the shared page. */
struct proc_result {
	struct bench_result r; /* percentiles */
	uint64_t ops, torn;
	int failed;
};

/* Shared by the parent and its children (MAP_SHARED | MAP_ANONYMOUS). */
struct control {
	_Atomic int ready;
	_Atomic int go;
	_Atomic int stop;
	struct proc_result writer;
	struct proc_result readers[MAX_READERS];
};

static struct bench_cpus cpus;
static FILE *table;

/* One operation on @value (every word of a value is the same number, so
 * a torn read shows); returns non-zero on failure. */
static int write_op(void *port, uint64_t *value, size_t size,
		    struct proc_result *res)
{
	(void)res;
	value[0]++;
	value[size / 8 - 1] = value[0];
	return floe_writer_write(port, KEY, value, size);
}

static int read_op(void *port, uint64_t *value, size_t size,
		   struct proc_result *res)
{
	int err = floe_reader_read(port, KEY, value, size, NULL);

	res->torn += value[0] != value[size / 8 - 1];
	return err;
}

typedef int (*op_fn)(void *port, uint64_t *value, size_t size,
		     struct proc_result *res);

/* Run @op flat out from go to stop, timing batches of BATCH. */
static void measure(struct control *c, struct proc_result *res, op_fn op,
		    void *port, size_t size, uint64_t *samples)
{
	uint64_t *value = calloc(1, size);
	uint64_t start;
	long ns = 0;

	if (!value) {
		res->failed = 1;
		return;
	}
	while (!atomic_load(&c->go))
		bench_relax(&cpus);
	start = bench_now_ns();
	while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
		uint64_t t0 = bench_now_ns();

		for (int i = 0; i < BATCH; i++)
			res->failed |= op(port, value, size, res) != 0;
		res->ops += BATCH;
		if (ns < MAX_SAMPLES)
			samples[ns++] = (bench_now_ns() - t0) / BATCH;
	}
	if (ns)
		bench_summarise(&res->r, samples, ns, (double)res->ops,
				bench_now_ns() - start);
	free(value);
}

/* A child: the writer (@idx < 0) or reader @idx. */
static void run_port(struct control *c, int idx, size_t size,
		     uint64_t *samples)
{
	struct proc_result *res = idx < 0 ? &c->writer : &c->readers[idx];
	floe_node *node = NULL;
	floe_blackboard *bb = NULL;
	floe_writer *w = NULL;
	floe_reader *r = NULL;
	int err;

	err = floe_node_create("bench port", NULL, &node);
	if (!err)
		err = floe_blackboard_open(node, BB_NAME, NULL, &bb);
	if (!err)
		err = idx < 0 ? floe_writer_create(bb, &w)
			      : floe_reader_create(bb, &r);
	atomic_fetch_add(&c->ready, 1);
	if (err) {
		fprintf(stderr, "bench port: %s\n", floe_strerror(err));
		res->failed = 1;
		return;
	}
	if (w)
		measure(c, res, write_op, w, size, samples);
	else
		measure(c, res, read_op, r, size, samples);
	floe_writer_destroy(w);
	floe_reader_destroy(r);
	floe_blackboard_close(bb);
	floe_node_destroy(node);
}

static int run(long duration_ms, size_t size, uint32_t readers,
	       uint64_t *samples, struct bench_result out[2])
{
	struct floe_blackboard_entry entry = {
		.key = KEY, .type_name = "bench.Value", .size = size,
		.align = 8,
	};
	struct floe_blackboard_qos qos = { .max_readers = MAX_READERS,
					   .max_nodes = MAX_READERS + 4 };
	struct floe_blackboard_opts bo = { .entries = &entry,
					   .num_entries = 1, .qos = &qos };
	struct timespec duration = { duration_ms / 1000,
				     (duration_ms % 1000) * 1000000 };
	pid_t pids[MAX_READERS + 1];
	uint64_t start, elapsed, reads = 0, torn = 0;
	struct control *c;
	floe_node *node;
	floe_blackboard *bb;
	int failed = 0, err;

	c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED)
		return -1;
	err = floe_node_create("bench blackboard", NULL, &node);
	if (!err)
		err = floe_blackboard_create(node, BB_NAME, &bo, &bb);
	if (err) {
		fprintf(stderr, "setup: %s\n", floe_strerror(err));
		return -1;
	}
	for (int i = -1; i < (int)readers; i++) {
		pid_t pid = bench_fork_partner(i < 0 ? cpus.a : cpus.b);

		if (pid == 0) {
			run_port(c, i, size, samples);
			_exit(0);
		}
		pids[i + 1] = pid;
	}
	while (atomic_load(&c->ready) < (int)readers + 1)
		sched_yield();
	start = bench_now_ns();
	atomic_store(&c->go, 1);
	nanosleep(&duration, NULL);
	atomic_store(&c->stop, 1);
	elapsed = bench_now_ns() - start;
	for (uint32_t i = 0; i <= readers; i++) {
		int status;

		waitpid(pids[i], &status, 0);
		failed |= !WIFEXITED(status) || WEXITSTATUS(status);
	}
	failed |= c->writer.failed;
	for (uint32_t i = 0; i < readers; i++) {
		failed |= c->readers[i].failed;
		reads += c->readers[i].ops;
		torn += c->readers[i].torn;
	}
	if (torn) {
		fprintf(stderr, "%" PRIu64 " torn values read!\n", torn);
		failed = 1;
	}
	/* latencies: the writer's, and the first reader's */
	out[0] = c->writer.r;
	out[0].pattern = "blackboard-write";
	out[0].msgs_per_s = (double)c->writer.ops * 1e9 / (double)elapsed;
	out[1] = c->readers[0].r;
	out[1].pattern = "blackboard-read";
	out[1].msgs_per_s = (double)reads * 1e9 / (double)elapsed;
	for (int i = 0; i < 2; i++) {
		out[i].system = "floe";
		out[i].payload_bytes = size;
		out[i].subscribers = readers;
	}
	floe_blackboard_close(bb);
	floe_node_destroy(node);
	munmap(c, sizeof(*c));
	return failed ? -1 : 0;
}

static void print_row(const struct bench_result *r)
{
	fprintf(table, "%-17s %7" PRIu64 " %7" PRIu32 " %7" PRIu64 " %7" PRIu64
		" %8" PRIu64 " %9" PRIu64 " %13.0f\n", r->pattern,
		r->payload_bytes, r->subscribers, r->p50, r->p99, r->p999,
		r->max, r->msgs_per_s);
	fflush(table);
}

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--quick] [--json] [--duration-ms N]\n",
		argv0);
	exit(2);
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 8, 4096 };
	static const uint32_t reader_counts[] = { 1, MAX_READERS };
	struct bench_result results[8];
	long duration_ms = 1000, ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	uint64_t *samples;
	int nres = 0, failed = 0, json = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			duration_ms = 100;
		else if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--duration-ms") && i + 1 < argc)
			duration_ms = atol(argv[++i]);
		else
			usage(argv[0]);
	}
	if (duration_ms < 1)
		usage(argv[0]);
	signal(SIGPIPE, SIG_IGN);
	table = json ? stderr : stdout;
	bench_own_domain();
	/* each child has its own copy after fork */
	samples = malloc(MAX_SAMPLES * sizeof(*samples));
	if (!samples)
		return 1;
	cpus = bench_choose_cpus();
	if (cpus.single)
		fprintf(table, "# one CPU only: not pinned");
	else
		fprintf(table, "# writer on CPU %d, readers on CPU %d", cpus.a,
			cpus.b);
	fprintf(table, ", backend %s, %ld ms per row; ns per operation "
		"(mean of %d), ops/s of the writer or of all readers\n",
		getenv("FLOE_BACKEND") ? getenv("FLOE_BACKEND") : "auto",
		duration_ms, BATCH);
	if (ncpu < MAX_READERS + 1)
		fprintf(table, "# %ld CPUs: with %d readers the machine is "
			"oversubscribed (the readers share one CPU)\n", ncpu,
			MAX_READERS);
	fprintf(table, "%-17s %7s %7s %7s %7s %8s %9s %13s\n", "pattern",
		"bytes", "readers", "p50", "p99", "p99.9", "max", "ops/s");
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (size_t r = 0; r < 2; r++) {
			if (run(duration_ms, sizes[s], reader_counts[r],
				samples, &results[nres])) {
				fprintf(stderr, "run %zu B, %u readers failed\n",
					sizes[s], reader_counts[r]);
				failed = 1;
				continue;
			}
			print_row(&results[nres]);
			print_row(&results[nres + 1]);
			nres += 2;
		}
	}
	if (json)
		bench_json(stdout, results, nres);
	free(samples);
	return failed;
}
