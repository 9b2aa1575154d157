// SPDX-License-Identifier: MIT
/*
 * Event wake-up latency: floe's notify → blocking_wait against a bare futex.
 *
 *   event_wakeup [--quick] [--json] [--iterations N] [--warmup N]
 *
 * Two processes, pinned to the first two CPUs allowed (normally 0 and 1),
 * wake each other in turn; each sleeps in the kernel until woken:
 *  1. raw: two futex words on a MAP_SHARED anonymous mapping; a side
 *     stores the other's next value and FUTEX_WAKEs it, then FUTEX_WAITs
 *     on its own word: the least a sleeping wake-up across processes can
 *     cost;
 *  2. floe-event: two event services, "ping" and "pong"; a side notifies
 *     the other's listener, then blocking_waits on its own;
 *  3. floe-subscriber-wait: two publish-subscribe services; a side sends
 *     8 bytes to the other's subscriber, then sleeps in
 *     floe_subscriber_wait on its own (no event service: the data path's
 *     own wake-up).
 * A round trip is timed per iteration (after a warm-up); half of it is one
 * wake-up's latency: p50 / p99 / p99.9 / max, and floe's p50 over raw.
 * --json prints the results as JSON on stdout (the table then goes to
 * stderr). With one CPU nothing is pinned.
 */
#include <inttypes.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "floe.h"

#define CACHE_LINE 64

struct options {
	long iterations, warmup;
	int json;
};

static struct bench_cpus cpus;
static FILE *table;                /* where the readable table goes */

/* ---- raw futex ping-pong ----------------------------------------------- */

/* Shared, not FUTEX_PRIVATE: the two processes have different mms. */
static void futex_wait(uint32_t *word, uint32_t val)
{
	syscall(SYS_futex, word, FUTEX_WAIT, val, NULL, NULL, 0);
}

static void futex_wake(uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* Sleep until *@word == @want. */
static void await(uint32_t *word, uint32_t want)
{
	uint32_t v;

	while ((v = __atomic_load_n(word, __ATOMIC_ACQUIRE)) != want)
		futex_wait(word, v);
}

static int run_raw(const struct options *o, uint64_t *samples,
		   struct bench_result *r)
{
	long total = o->warmup + o->iterations;
	uint32_t *ping, *pong;
	uint64_t start = 0;
	void *map;
	pid_t pid;

	map = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return -1;
	/* one cache line per direction, as floe's two services have */
	ping = map;
	pong = (uint32_t *)((char *)map + CACHE_LINE);
	pid = bench_fork_partner(cpus.b);
	if (pid < 0)
		return -1;
	if (pid == 0) {
		for (uint32_t i = 1; i <= (uint32_t)total; i++) {
			await(ping, i);
			__atomic_store_n(pong, i, __ATOMIC_RELEASE);
			futex_wake(pong);
		}
		_exit(0);
	}
	for (uint32_t i = 1; i <= (uint32_t)total; i++) {
		uint64_t t0, t1;

		if (i == (uint32_t)o->warmup + 1)
			start = bench_now_ns();
		t0 = bench_now_ns();
		__atomic_store_n(ping, i, __ATOMIC_RELEASE);
		futex_wake(ping);
		await(pong, i);
		t1 = bench_now_ns();
		if (i > (uint32_t)o->warmup)
			samples[i - 1 - o->warmup] = (t1 - t0) / 2;
	}
	/* two wake-ups per round trip */
	bench_summarise(r, samples, o->iterations,
			2.0 * (double)o->iterations, bench_now_ns() - start);
	r->system = "raw-futex";
	r->pattern = "event-wakeup";
	r->payload_bytes = 0;
	r->subscribers = 1;
	waitpid(pid, NULL, 0);
	munmap(map, 4096);
	return 0;
}

/* ---- floe events ping-pong ---------------------------------------------- */

#define PING "bench/event/ping"
#define PONG "bench/event/pong"

/* What a side signals with and sleeps on. */
enum wake_kind { WAKE_EVENT, WAKE_SUBSCRIBER };

struct ends {
	enum wake_kind kind;
	floe_node *node;
	floe_service *ping, *pong;
	floe_notifier *notifier; /* on the other side's service */
	floe_listener *listener; /* on ours */
	floe_publisher *pub;     /* WAKE_SUBSCRIBER: the same, by data */
	floe_subscriber *sub;
};

static const struct floe_type word_type = {
	.name = "bench.Word", .size = 8, .align = 8
};

/* Open (@first: create) @name as the kind of service @e uses. */
static int open_one(struct ends *e, const char *name, int first,
		    floe_service **out)
{
	struct floe_event_qos q;
	struct floe_event_opts eo = { .qos = &q };
	struct floe_pubsub_qos pq;
	struct floe_service_opts po = { .type = word_type, .qos = &pq };

	if (e->kind == WAKE_SUBSCRIBER) {
		floe_pubsub_qos_init(&pq);
		pq.max_publishers = 1;
		pq.max_subscribers = 1;
		pq.max_nodes = 2;
		return first ? floe_service_create(e->node, name, &po, out)
			     : floe_service_open(e->node, name, &po, out);
	}
	/* One id is all it takes; one bit word per listener to look at. */
	floe_event_qos_init(&q);
	q.max_notifiers = 1;
	q.max_listeners = 1;
	q.max_nodes = 2;
	q.event_id_max = 63;
	return first ? floe_event_create(e->node, name, &eo, out)
		     : floe_event_open(e->node, name, NULL, out);
}

/* The receiving end on @own, the sending end on @other. */
static int open_ports(struct ends *e, floe_service *own, floe_service *other)
{
	int err;

	if (e->kind == WAKE_SUBSCRIBER) {
		err = floe_subscriber_create(own, NULL, &e->sub);
		return err ? err : floe_publisher_create(other, NULL, &e->pub);
	}
	err = floe_listener_create(own, &e->listener);
	return err ? err : floe_notifier_create(other, &e->notifier);
}

/* Wake the other side: 0 or -1. */
static int signal_other(struct ends *e)
{
	uint64_t word = 1;

	if (e->kind == WAKE_SUBSCRIBER)
		return floe_publisher_send_copy(e->pub, &word, 8) == 1 ? 0 : -1;
	return floe_notifier_notify(e->notifier, 0) == 1 ? 0 : -1;
}

/* Sleep until the other side woke us: 0 or -1. */
static int wait_woken(struct ends *e)
{
	const floe_sample *s;

	if (e->kind == WAKE_SUBSCRIBER) {
		if (floe_subscriber_wait(e->sub, UINT64_MAX) != 1 ||
		    floe_subscriber_receive(e->sub, &s) != 1)
			return -1;
		floe_sample_release(s);
		return 0;
	}
	return floe_listener_blocking_wait(e->listener, NULL, NULL) == 1 ? 0
									  : -1;
}

static int open_ends(struct ends *e, enum wake_kind kind, const char *name,
		     int first)
{
	uint64_t deadline = bench_now_ns() + 10000000000ull;
	int err;

	memset(e, 0, sizeof(*e));
	e->kind = kind;
	err = floe_node_create(name, NULL, &e->node);
	if (err)
		return err;
	if (first) {
		err = open_one(e, PING, 1, &e->ping);
		if (!err)
			err = open_one(e, PONG, 1, &e->pong);
		return err ? err : open_ports(e, e->pong, e->ping);
	}
	do {
		err = open_one(e, PING, 0, &e->ping);
	} while ((err == FLOE_E_NOT_FOUND || err == FLOE_E_BUSY) &&
		 bench_now_ns() < deadline);
	if (!err)
		err = open_one(e, PONG, 0, &e->pong);
	return err ? err : open_ports(e, e->ping, e->pong);
}

static void close_ends(struct ends *e)
{
	floe_notifier_destroy(e->notifier);
	floe_listener_destroy(e->listener);
	floe_publisher_destroy(e->pub);
	floe_subscriber_destroy(e->sub);
	floe_service_close(e->ping);
	floe_service_close(e->pong);
	if (e->node)
		floe_node_destroy(e->node);
}

static int run_floe(const struct options *o, enum wake_kind kind,
		    uint64_t *samples, struct bench_result *r)
{
	long total = o->warmup + o->iterations;
	struct ends e;
	uint64_t start = 0;
	int ready[2], status, err;
	char c;
	pid_t pid;

	err = open_ends(&e, kind, "bench ping", 1);
	if (err) {
		fprintf(stderr, "floe setup: %s\n", floe_strerror(err));
		close_ends(&e);
		return -1;
	}
	if (pipe(ready))
		return -1;
	pid = bench_fork_partner(cpus.b);
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct ends pe;

		err = open_ends(&pe, kind, "bench pong", 0);
		c = err ? 'x' : 'r';
		if (write(ready[1], &c, 1) != 1 || err)
			_exit(1);
		for (long i = 0; i < total && !err; i++)
			err = wait_woken(&pe) ? -1 : signal_other(&pe);
		close_ends(&pe);
		_exit(err ? 1 : 0);
	}
	if (read(ready[0], &c, 1) != 1 || c != 'r') {
		fprintf(stderr, "floe partner setup failed\n");
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close_ends(&e);
		return -1;
	}
	for (long i = 0; i < total; i++) {
		uint64_t t0, t1;
		int got;

		if (i == o->warmup)
			start = bench_now_ns();
		t0 = bench_now_ns();
		err = signal_other(&e);
		got = err ? -1 : wait_woken(&e);
		t1 = bench_now_ns();
		if (err || got) {
			fprintf(stderr, "floe ping-pong failed at %ld\n", i);
			kill(pid, SIGKILL);
			err = -1;
			break;
		}
		if (i >= o->warmup)
			samples[i - o->warmup] = (t1 - t0) / 2;
	}
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		err = -1;
	close_ends(&e);
	close(ready[0]);
	close(ready[1]);
	if (err)
		return -1;
	/* two wake-ups per round trip */
	bench_summarise(r, samples, o->iterations,
			2.0 * (double)o->iterations, bench_now_ns() - start);
	r->system = kind == WAKE_EVENT ? "floe-event" : "floe-subscriber-wait";
	r->pattern = "event-wakeup";
	r->payload_bytes = 0;
	r->subscribers = 1;
	return 0;
}

/* ---- output and main -------------------------------------------------------- */

static void print_row(const struct bench_result *r,
		      const struct bench_result *raw)
{
	fprintf(table, "%-12s %8" PRIu64 " %8" PRIu64 " %8" PRIu64
		" %10" PRIu64 " %12.0f", r->system, r->p50, r->p99, r->p999,
		r->max, r->msgs_per_s);
	if (raw && raw->p50)
		fprintf(table, " %8.2fx", (double)r->p50 / (double)raw->p50);
	fprintf(table, "\n");
	fflush(table);
}

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--quick] [--json] [--iterations N] "
		"[--warmup N]\n", argv0);
	exit(2);
}

static void parse_args(int argc, char **argv, struct options *o)
{
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
		} else {
			usage(argv[0]);
		}
	}
	if (o->iterations < 1 || o->warmup < 0 ||
	    o->iterations + o->warmup >= UINT32_MAX)
		usage(argv[0]);
}

int main(int argc, char **argv)
{
	struct bench_result results[3];
	struct options o;
	uint64_t *samples;
	int nres = 0, failed = 0;

	parse_args(argc, argv, &o);
	signal(SIGPIPE, SIG_IGN);
	table = o.json ? stderr : stdout;
	bench_own_domain();
	samples = calloc((size_t)o.iterations, sizeof(*samples));
	if (!samples)
		return 1;
	cpus = bench_choose_cpus();
	bench_pin(cpus.a);
	if (cpus.single)
		fprintf(table, "# one CPU only: not pinned");
	else
		fprintf(table, "# CPUs %d and %d", cpus.a, cpus.b);
	fprintf(table, ", backend %s, %ld iterations (+%ld warm-up); half "
		"round trip (one sleeping wake-up) in ns\n",
		getenv("FLOE_BACKEND") ? getenv("FLOE_BACKEND") : "auto",
		o.iterations, o.warmup);
	fprintf(table, "%-12s %8s %8s %8s %10s %12s %9s\n", "system", "p50",
		"p99", "p99.9", "max", "wakeups/s", "p50/raw");

	if (run_raw(&o, samples, &results[nres])) {
		fprintf(stderr, "raw futex ping-pong failed\n");
		return 1;
	}
	print_row(&results[nres], NULL);
	nres++;
	for (int kind = WAKE_EVENT; kind <= WAKE_SUBSCRIBER; kind++) {
		if (run_floe(&o, kind, samples, &results[nres])) {
			failed = 1;
		} else {
			print_row(&results[nres], &results[0]);
			nres++;
		}
	}
	if (o.json)
		bench_json(stdout, results, nres);
	free(samples);
	return failed;
}
