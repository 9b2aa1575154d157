// SPDX-License-Identifier: MIT
/*
 * The third raw limit: what copying a payload costs on this machine.
 *
 *   memcpy_bandwidth [--quick] [--json] [--sizes 8,4K,1M,...]
 *                    [--iterations N] [--budget-ms N]
 *
 * One process, pinned to the first CPU allowed, copies a payload of each
 * size from one buffer into another (both touched beforehand) with
 * memcpy(). A transport that copies pays this at least once per message
 * (a kernel one twice: into the kernel and out of it); a zero-copy one does
 * not pay it at all, which is what the other benchmarks compare against.
 * Small copies are timed in batches (the clock costs more than they do);
 * each sample is one copy's share of its batch. Rows: p50 / p99 / p99.9 /
 * max of one copy, copies per second and the bandwidth at p50. Large sizes
 * stop early after --budget-ms (the row says how many copies it timed).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench.h"

#define BATCH_BYTES 65536	/* small copies are timed this many at once */

static void *buffer(uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0x5a, size);
	return p;
}

static int run_size(const struct bench_opts *o, uint64_t size,
		    uint64_t *samples, struct bench_result *r)
{
	uint64_t batch = size >= BATCH_BYTES ? 1 : BATCH_BYTES / size;
	uint64_t start, end, deadline;
	char *src = buffer(size), *dst = buffer(size);
	long n = 0;

	if (!src || !dst)
		return -1;
	/* warm-up: caches and TLB as they will be */
	for (int i = 0; i < 3; i++)
		memcpy(dst, src, size);
	start = end = bench_now_ns();
	deadline = start + o->budget_ns;
	while (n < o->iterations && end < deadline) {
		uint64_t t0 = end;

		for (uint64_t i = 0; i < batch; i++) {
			memcpy(dst, src, size);
			/* the compiler must not drop or merge the copies */
			__asm__ volatile("" : : "r"(dst) : "memory");
		}
		end = bench_now_ns();
		samples[n++] = (end - t0) / batch;
	}
	munmap(src, size);
	munmap(dst, size);
	r->system = "raw-memcpy";
	r->pattern = "memcpy";
	r->payload_bytes = size;
	r->subscribers = 0;
	bench_summarise(r, samples, n, (double)n * (double)batch, end - start);
	return 0;
}

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--quick] [--json] [--sizes 8,4K,1M,...] "
		"[--iterations N] [--budget-ms N]\n", argv0);
	exit(2);
}

static void parse_args(int argc, char **argv, struct bench_opts *o)
{
	static const uint64_t full[] = BENCH_SIZES, quick[] = BENCH_QUICK_SIZES;

	memset(o, 0, sizeof(*o));
	bench_set_sizes(o, full, sizeof(full) / sizeof(full[0]));
	o->iterations = 10000;
	o->budget_ns = 500000000ull;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			bench_set_sizes(o, quick,
					sizeof(quick) / sizeof(quick[0]));
			o->iterations = 200;
			o->budget_ns = 50000000ull;
		} else if (!bench_option(o, argc, argv, &i, 1)) {
			usage(argv[0]);
		}
	}
	/* nsizes is -1 if a size was 0 */
	if (o->iterations < 1 || o->nsizes < 1 || !o->budget_ns)
		usage(argv[0]);
}

int main(int argc, char **argv)
{
	struct bench_result res[BENCH_MAX_SIZES];
	struct bench_cpus cpus;
	struct bench_opts o;
	uint64_t *samples;
	FILE *table;
	int nres = 0;

	parse_args(argc, argv, &o);
	table = o.json ? stderr : stdout;
	samples = calloc((size_t)o.iterations, sizeof(*samples));
	if (!samples)
		return 1;
	cpus = bench_choose_cpus();
	bench_pin(cpus.a);
	fprintf(table, "# CPU %d, up to %ld samples or %" PRIu64 " ms per "
		"row; one memcpy() in ns\n", cpus.a, o.iterations,
		o.budget_ns / 1000000);
	fprintf(table, "%-10s %9s %8s %8s %8s %10s %12s %9s\n", "system",
		"payload", "p50", "p99", "p99.9", "max", "copies/s", "GB/s");
	for (int i = 0; i < o.nsizes; i++) {
		struct bench_result *r = &res[nres];
		char size[32];

		if (run_size(&o, o.sizes[i], samples, r)) {
			fprintf(stderr, "no memory for %" PRIu64 " B\n",
				o.sizes[i]);
			return 1;
		}
		nres++;
		fprintf(table, "%-10s %9s %8" PRIu64 " %8" PRIu64 " %8" PRIu64
			" %10" PRIu64 " %12.0f %9.2f\n", r->system,
			bench_human(r->payload_bytes, size, sizeof(size)),
			r->p50, r->p99, r->p999, r->max, r->msgs_per_s,
			r->p50 ? (double)r->payload_bytes / (double)r->p50
			       : 0);
		fflush(table);
	}
	if (o.json)
		bench_json(stdout, res, nres);
	free(samples);
	return 0;
}
