/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the benchmark programs: the clock, pinning the two
 * processes of a ping-pong to two CPUs, percentiles and the latency
 * distribution (.cdf files for plots), and the JSON row every
 * benchmark prints with the same field names (system, pattern,
 * payload_bytes, subscribers, p50_ns, p99_ns, p999_ns, max_ns, msgs_per_s)
 * so that runs and systems can be compared by scripts/bench.sh.
 */
#ifndef FLOE_BENCH_H
#define FLOE_BENCH_H

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

/*
 * A row's latency distribution, for plots: the sample a fraction f of the
 * sorted samples come before, for f = 1 - 10^(-j / BENCH_CDF_PER_DECADE),
 * j = 0, 1, ... down to BENCH_CDF_DECADES nines, then the max. Each decade
 * of the tail (p90 to p99, p99 to p99.9, ...) gets as many points as the
 * body, so that a plot of 1 - f on a log axis shows the tail.
 */
#define BENCH_CDF_PER_DECADE 40
#define BENCH_CDF_STEP 0.94406087628592338	/* 10^(-1/PER_DECADE) */
#define BENCH_CDF_DECADES 5
#define BENCH_CDF_MAX_POINTS (BENCH_CDF_PER_DECADE * BENCH_CDF_DECADES + 2)

struct bench_cdf_point {
	uint64_t ns;
	double fraction;	/* of the samples before this one */
};

/* One row of results: latencies are half round trips, in ns. */
struct bench_result {
	const char *system;
	const char *pattern;
	uint64_t payload_bytes;
	uint32_t subscribers;
	uint64_t p50, p99, p999, max;
	double msgs_per_s;
	long iterations;
	int cdf_points;		/* 0: no distribution (not summarised) */
	struct bench_cdf_point cdf[BENCH_CDF_MAX_POINTS];
};

/* The two CPUs of a ping-pong; a = b = -1 when there is only one. */
struct bench_cpus {
	int a, b;
	bool single;
};

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A spinning waiter: pause, or give the CPU away when we share one. */
static inline void bench_relax(const struct bench_cpus *cpus)
{
	if (cpus->single)
		sched_yield();
	else
		__builtin_ia32_pause();
}

static inline void bench_pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		fprintf(stderr, "sched_setaffinity(%d): %s\n", cpu,
			strerror(errno));
}

/* The first two CPUs we may run on; one CPU: nothing is pinned. */
static inline struct bench_cpus bench_choose_cpus(void)
{
	struct bench_cpus c = { .a = -1, .b = -1, .single = false };
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		for (int i = 0; i < CPU_SETSIZE && c.b < 0; i++) {
			if (!CPU_ISSET(i, &set))
				continue;
			if (c.a < 0)
				c.a = i;
			else
				c.b = i;
		}
	}
	if (c.b < 0) {
		c.a = -1;
		c.single = true;
	}
	return c;
}

/* Fork a child that dies with its parent, pinned to @cpu. */
static inline pid_t bench_fork_partner(int cpu)
{
	pid_t parent = getpid();
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		bench_pin(cpu);
	}
	return pid;
}

static inline int bench_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static inline void bench_cdf_add(struct bench_result *r,
				 const uint64_t *sorted, long n, long k)
{
	struct bench_cdf_point *p = &r->cdf[r->cdf_points++];

	p->ns = sorted[k];
	p->fraction = (double)k / (double)n;
}

/* Keep the points of the distribution of @n @sorted samples. */
static inline void bench_keep_cdf(struct bench_result *r,
				  const uint64_t *sorted, long n)
{
	double above = 1;	/* the fraction of samples from the point on */
	long last = -1;

	r->cdf_points = 0;
	for (int j = 0; j <= BENCH_CDF_PER_DECADE * BENCH_CDF_DECADES;
	     j++, above *= BENCH_CDF_STEP) {
		long k = (long)((1 - above) * (double)n);

		if (k >= n - 1)
			break;
		/* few samples: neighbouring points fall on one sample */
		if (k > last)
			bench_cdf_add(r, sorted, n, k);
		last = k;
	}
	bench_cdf_add(r, sorted, n, n - 1);
}

/*
 * Sort @n samples and fill in the percentiles and the distribution; @msgs
 * messages passed in @elapsed_ns (a ping-pong passes two per round trip).
 */
static inline void bench_summarise(struct bench_result *r, uint64_t *samples,
				   long n, double msgs, uint64_t elapsed_ns)
{
	qsort(samples, (size_t)n, sizeof(*samples), bench_cmp_u64);
	r->p50 = samples[n / 2];
	r->p99 = samples[(n * 99) / 100];
	r->p999 = samples[(n * 999) / 1000];
	r->max = samples[n - 1];
	r->iterations = n;
	r->msgs_per_s = elapsed_ns ? msgs * 1e9 / (double)elapsed_ns : 0;
	bench_keep_cdf(r, samples, n);
}

/* "8 B", "64 KiB", "2 MiB" */
static inline const char *bench_human(uint64_t bytes, char *buf, size_t len)
{
	if (bytes >= (1 << 20) && bytes % (1 << 20) == 0)
		snprintf(buf, len, "%" PRIu64 " MiB", bytes >> 20);
	else if (bytes >= 1024 && bytes % 1024 == 0)
		snprintf(buf, len, "%" PRIu64 " KiB", bytes >> 10);
	else
		snprintf(buf, len, "%" PRIu64 " B", bytes);
	return buf;
}

/* 8, 4K, 1M, 1G */
static inline uint64_t bench_parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	switch (*end) {
	case 'k': case 'K': v <<= 10; break;
	case 'm': case 'M': v <<= 20; break;
	case 'g': case 'G': v <<= 30; break;
	default: break;
	}
	return v;
}

/*
 * "8,4K,1M" into @sizes (at most @max); the count, or -1 if a size is
 * below @min. @list is consumed (strtok_r).
 */
static inline int bench_parse_sizes(char *list, uint64_t *sizes, int max,
				    uint64_t min)
{
	char *tok, *save = NULL;
	int n = 0;

	for (tok = strtok_r(list, ",", &save); tok && n < max;
	     tok = strtok_r(NULL, ",", &save)) {
		sizes[n] = bench_parse_size(tok);
		if (sizes[n++] < min)
			return -1;
	}
	return n;
}

/* Payload sizes of a full run and of --quick, for struct bench_opts. */
#define BENCH_SIZES { 8, 32, 128, 512, 2048, 8192, 32768, 131072, \
		      524288, 2 << 20, 8 << 20, 32 << 20, 64 << 20 }
#define BENCH_QUICK_SIZES { 8, 65536, 1 << 20 }
#define BENCH_MAX_SIZES 32

/* The options every payload-size benchmark takes. */
struct bench_opts {
	uint64_t sizes[BENCH_MAX_SIZES];
	int nsizes;		/* -1: a size below the minimum */
	long iterations, warmup;
	uint64_t budget_ns;	/* per row */
	bool json;
};

static inline void bench_set_sizes(struct bench_opts *o,
				   const uint64_t *sizes, size_t n)
{
	memcpy(o->sizes, sizes, n * sizeof(*sizes));
	o->nsizes = (int)n;
}

/*
 * Take argv[*@i] if it is one of --json, --iterations N, --warmup N,
 * --budget-ms N, --sizes LIST (sizes below @min_size: nsizes -1), moving
 * *@i past its value. False if it is none of them.
 */
static inline bool bench_option(struct bench_opts *o, int argc, char **argv,
				int *i, uint64_t min_size)
{
	const char *opt = argv[*i];

	if (!strcmp(opt, "--json")) {
		o->json = true;
		return true;
	}
	if (*i + 1 >= argc)
		return false;
	if (!strcmp(opt, "--iterations"))
		o->iterations = atol(argv[++*i]);
	else if (!strcmp(opt, "--warmup"))
		o->warmup = atol(argv[++*i]);
	else if (!strcmp(opt, "--budget-ms"))
		o->budget_ns = strtoull(argv[++*i], NULL, 0) * 1000000ull;
	else if (!strcmp(opt, "--sizes"))
		o->nsizes = bench_parse_sizes(argv[++*i], o->sizes,
					      BENCH_MAX_SIZES, min_size);
	else
		return false;
	return true;
}

/*
 * Run in a floe domain of our own (bench<pid>) unless $FLOE_DOMAIN names
 * one: a benchmark must not meet, or be slowed by, anybody else's
 * services. Returns the domain.
 */
static inline const char *bench_own_domain(void)
{
	static char domain[32];

	if (!getenv("FLOE_DOMAIN")) {
		snprintf(domain, sizeof(domain), "bench%d", (int)getpid());
		setenv("FLOE_DOMAIN", domain, 1);
	}
	return getenv("FLOE_DOMAIN");
}

/*
 * With $BENCH_CDF_DIR set, write the distribution of @r, if it has one, to
 * $BENCH_CDF_DIR/<system>-<pattern>-<payload_bytes>.cdf (-<n>subs before
 * .cdf with n > 1 subscribers): lines "latency_ns fraction", the fraction
 * of the samples sorted before that one (1 - fraction took latency_ns or
 * longer). Written here and not when summarising: several programs name
 * a row only after bench_summarise().
 */
static inline void bench_write_cdf(const struct bench_result *r)
{
	const char *dir = getenv("BENCH_CDF_DIR");
	char path[4096], subs[32] = "";
	FILE *f;

	if (!dir || !r->cdf_points)
		return;
	if (r->subscribers > 1)
		snprintf(subs, sizeof(subs), "-%" PRIu32 "subs",
			 r->subscribers);
	snprintf(path, sizeof(path), "%s/%s-%s-%" PRIu64 "%s.cdf", dir,
		 r->system, r->pattern, r->payload_bytes, subs);
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return;
	}
	fprintf(f, "# %s %s, %" PRIu64 " B, %ld samples: latency_ns, "
		"fraction of the samples sorted before it\n", r->system,
		r->pattern, r->payload_bytes, r->iterations);
	for (int i = 0; i < r->cdf_points; i++)
		fprintf(f, "%" PRIu64 " %.9g\n", r->cdf[i].ns,
			r->cdf[i].fraction);
	if (fclose(f))
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
}

/*
 * One JSON object, the stable fields first; @last: no trailing comma.
 * Also the row's .cdf file (bench_write_cdf).
 */
static inline void bench_json_row(FILE *f, const struct bench_result *r,
				  bool last)
{
	bench_write_cdf(r);
	fprintf(f, "  {\"system\": \"%s\", \"pattern\": \"%s\", "
		"\"payload_bytes\": %" PRIu64 ", \"subscribers\": %" PRIu32
		", \"p50_ns\": %" PRIu64 ", \"p99_ns\": %" PRIu64
		", \"p999_ns\": %" PRIu64 ", \"max_ns\": %" PRIu64
		", \"msgs_per_s\": %.0f, \"iterations\": %ld}%s\n",
		r->system, r->pattern, r->payload_bytes, r->subscribers,
		r->p50, r->p99, r->p999, r->max, r->msgs_per_s, r->iterations,
		last ? "" : ",");
}

/* All rows as a JSON array. */
static inline void bench_json(FILE *f, const struct bench_result *r, int n)
{
	fprintf(f, "[\n");
	for (int i = 0; i < n; i++)
		bench_json_row(f, &r[i], i + 1 == n);
	fprintf(f, "]\n");
}

#endif /* FLOE_BENCH_H */
