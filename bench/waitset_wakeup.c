// SPDX-License-Identifier: MIT
/*
 * Wake-up latency through the waitset, against blocking on the source
 * directly.
 *
 *   waitset_wakeup [--quick] [--json] [--iterations N] [--warmup N]
 *
 * Two processes, pinned to the first two CPUs allowed (normally 0 and 1),
 * wake each other in turn; each sleeps in the kernel until woken, both in
 * the same way, so half a round trip is one wake-up:
 *  - pattern "fd": each side writes a byte into the other's pipe;
 *  - pattern "event": each side notifies the other's listener (two event
 *    services, "ping" and "pong");
 *  - pattern "data": each side sends 8 bytes to the other's subscriber
 *    (two publish-subscribe services), no event service.
 * Systems:
 *  - raw-pipe (fd): a blocking read() on the pipe, the baseline;
 *  - floe-listener (event): floe_listener_timed_wait, the listener's own
 *    futex sleep, the baseline;
 *  - floe-subscriber-wait (data): floe_subscriber_wait, the subscriber's
 *    own futex sleep, the baseline;
 *  - waitset-io_uring, waitset-epoll: floe_waitset_run_once with the pipe
 *    or the listener or the subscriber attached beside N - 1 idle pipes
 *    (N = 1, 8, 64: only one attachment ever fires); the callback consumes
 *    the byte, the event (floe_listener_try_wait) or the sample. io_uring
 *    waits on the subscriber's futex word where the kernel can (the row
 *    says "waitset-io_uring-futex"). Skipped when io_uring is unavailable.
 * A round trip is timed per iteration (after a warm-up); half of it is one
 * wake-up: p50 / p99 / p99.9 / max, messages (wake-ups) per second, and
 * p50 over the baseline of the same pattern. --json prints the results as
 * JSON on stdout (the table then goes to stderr); "subscribers" and
 * "attachments" both give N. With one CPU nothing is pinned.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "floe.h"

#define MAX_ATTACHMENTS 64
#define MAX_ROWS 24
#define WAIT_NS 5000000000ull	/* a wake-up this late means the peer died */

struct options {
	long iterations, warmup;
	int json;
};

enum pattern { PATTERN_FD, PATTERN_EVENT, PATTERN_DATA, PATTERNS };

static const char *const pattern_names[] = { "fd", "event", "data" };

static const struct floe_type word_type = {
	.name = "bench.Word", .size = 8, .align = 8
};

/* One row of the table: how both sides wait. */
struct row {
	const char *system;
	enum pattern pattern;
	enum floe_waitset_impl impl;	/* AUTO: no waitset, the baseline */
	int attachments;
};

struct result {
	struct row row;
	uint64_t p50, p99, p999, max;
	double msgs_per_s;
};

/* One process's end of the ping-pong. */
struct side {
	const struct row *row;
	int rx_fd, tx_fd;		/* fd: the pipes */
	floe_service *rx_svc, *tx_svc;	/* event: */
	floe_listener *rx;
	floe_notifier *tx;
	floe_subscriber *sub;		/* data: */
	floe_publisher *pub;
	floe_waitset *ws;		/* waitset rows */
	int idle[MAX_ATTACHMENTS][2];	/* pipes nobody writes */
	int nidle;
	bool fired;
};

static struct bench_cpus cpus;
static FILE *table;			/* where the readable table goes */

static void summarise(struct result *r, uint64_t *half_rtt, long n,
		      uint64_t elapsed_ns)
{
	struct bench_result b;

	/* two wake-ups per round trip */
	bench_summarise(&b, half_rtt, n, 2.0 * (double)n, elapsed_ns);
	r->p50 = b.p50;
	r->p99 = b.p99;
	r->p999 = b.p999;
	r->max = b.max;
	r->msgs_per_s = b.msgs_per_s;
}

/* ---- one side ------------------------------------------------------------ */

/* Receive and release what waits; how many. */
static int take_samples(struct side *s)
{
	const floe_sample *smp;
	int n = 0;

	while (floe_subscriber_receive(s->sub, &smp) == 1) {
		floe_sample_release(smp);
		n++;
	}
	return n;
}

static int on_trigger(floe_waitset *ws, int attachment,
		      enum floe_trigger trigger, void *user)
{
	struct side *s = user;
	char byte;

	(void)ws;
	(void)attachment;
	(void)trigger;
	if (s->row->pattern == PATTERN_FD) {
		if (read(s->rx_fd, &byte, 1) != 1)
			return -1;
	} else if (s->row->pattern == PATTERN_DATA) {
		if (!take_samples(s))
			return 0; /* readiness without a sample: wait on */
	} else if (floe_listener_try_wait(s->rx, NULL, NULL) <= 0) {
		return 0; /* readiness without an event: wait on */
	}
	s->fired = true;
	return 0;
}

/* Sleep until the peer's wake-up arrives; 0 or -1 (peer gone). */
static int side_wait(struct side *s)
{
	char byte;

	if (!s->ws) {
		if (s->row->pattern == PATTERN_FD)
			return read(s->rx_fd, &byte, 1) == 1 ? 0 : -1;
		if (s->row->pattern == PATTERN_DATA)
			return floe_subscriber_wait(s->sub, WAIT_NS) == 1 &&
					       take_samples(s)
				       ? 0 : -1;
		return floe_listener_timed_wait(s->rx, WAIT_NS, NULL, NULL) > 0
			       ? 0 : -1;
	}
	s->fired = false;
	while (!s->fired)
		if (floe_waitset_run_once(s->ws, WAIT_NS, on_trigger) <= 0)
			return -1;
	return 0;
}

static int side_send(struct side *s)
{
	uint64_t word = 1;

	if (s->row->pattern == PATTERN_FD)
		return write(s->tx_fd, "x", 1) == 1 ? 0 : -1;
	if (s->row->pattern == PATTERN_DATA)
		return floe_publisher_send_copy(s->pub, &word, 8) == 1 ? 0 : -1;
	return floe_notifier_notify(s->tx, 0) == 1 ? 0 : -1;
}

/* Event services of a row: ping carries A → B, pong B → A. */
static void service_names(int row, char *ping, char *pong, size_t len)
{
	snprintf(ping, len, "bench/waitset/%d/ping", row);
	snprintf(pong, len, "bench/waitset/%d/pong", row);
}

/*
 * Set up a side of @row (index @index): @is_a listens on pong and
 * notifies ping, B the reverse. A creates the services, B opens them.
 */
static int side_setup(struct side *s, const struct row *row, int index,
		      bool is_a, floe_node *node)
{
	char ping[64], pong[64];
	int err = 0, id;

	s->row = row;
	if (row->pattern == PATTERN_EVENT) {
		service_names(index, ping, pong, sizeof(ping));
		err = is_a ? floe_event_create(node, ping, NULL, &s->tx_svc)
			   : floe_event_open(node, ping, NULL, &s->rx_svc);
		if (!err)
			err = is_a ? floe_event_create(node, pong, NULL,
						       &s->rx_svc)
				   : floe_event_open(node, pong, NULL,
						     &s->tx_svc);
		if (!err)
			err = floe_listener_create(s->rx_svc, &s->rx);
		if (!err)
			err = floe_notifier_create(s->tx_svc, &s->tx);
	} else if (row->pattern == PATTERN_DATA) {
		struct floe_service_opts so = { .type = word_type };

		service_names(index, ping, pong, sizeof(ping));
		err = is_a ? floe_service_create(node, ping, &so, &s->tx_svc)
			   : floe_service_open(node, ping, &so, &s->rx_svc);
		if (!err)
			err = is_a ? floe_service_create(node, pong, &so,
							 &s->rx_svc)
				   : floe_service_open(node, pong, &so,
						       &s->tx_svc);
		if (!err)
			err = floe_subscriber_create(s->rx_svc, NULL, &s->sub);
		if (!err)
			err = floe_publisher_create(s->tx_svc, NULL, &s->pub);
	}
	if (!err && row->impl != FLOE_WAITSET_AUTO) {
		struct floe_waitset_opts opts = { .impl = row->impl };

		err = floe_waitset_create(&opts, &s->ws);
		if (!err) {
			if (row->pattern == PATTERN_FD)
				id = floe_waitset_attach_fd(s->ws, s->rx_fd, s);
			else if (row->pattern == PATTERN_DATA)
				id = floe_waitset_attach_subscriber(
					s->ws, s->sub, 0, s);
			else
				id = floe_waitset_attach_listener(s->ws, s->rx,
								  0, s);
			err = id < 0 ? id : 0;
		}
		for (; !err && s->nidle < row->attachments - 1; s->nidle++) {
			if (pipe2(s->idle[s->nidle], O_CLOEXEC)) {
				err = FLOE_E_SYSTEM;
				break;
			}
			id = floe_waitset_attach_fd(s->ws, s->idle[s->nidle][0],
						    NULL);
			err = id < 0 ? id : 0;
		}
	}
	if (err)
		fprintf(stderr, "%s side of %s/%s/%d: %s\n", is_a ? "A" : "B",
			row->system, pattern_names[row->pattern],
			row->attachments, floe_strerror(err));
	return err;
}

static void side_teardown(struct side *s)
{
	floe_waitset_destroy(s->ws);
	for (int i = 0; i < s->nidle; i++) {
		close(s->idle[i][0]);
		close(s->idle[i][1]);
	}
	floe_listener_destroy(s->rx);
	floe_notifier_destroy(s->tx);
	floe_subscriber_destroy(s->sub);
	floe_publisher_destroy(s->pub);
	floe_service_close(s->rx_svc);
	floe_service_close(s->tx_svc);
}

/* ---- one row ------------------------------------------------------------- */

/* Side B, in the forked partner: answer every wake-up with one. */
static int partner(struct side *s, const struct row *row, int index,
		   long total, int ctl_fd)
{
	floe_node *node = NULL;
	int err = 0;

	if (row->pattern != PATTERN_FD)
		err = floe_node_create("bench waitset B", NULL, &node);
	if (!err)
		err = side_setup(s, row, index, false, node);
	if (write(ctl_fd, &err, sizeof(err)) != sizeof(err) || err)
		return 1;
	for (long i = 0; i < total; i++)
		if (side_wait(s) || side_send(s))
			return 1;
	side_teardown(s);
	floe_node_destroy(node);
	return 0;
}

static int run_row(const struct options *o, const struct row *row,
		   int index, floe_node *node, uint64_t *samples,
		   struct result *r)
{
	long total = o->warmup + o->iterations;
	struct side a = { .rx_fd = -1, .tx_fd = -1 };
	int a2b[2], b2a[2], ctl[2], err = -1, status = 0;
	uint64_t start = 0;
	pid_t pid;

	if (pipe2(a2b, O_CLOEXEC) || pipe2(b2a, O_CLOEXEC) ||
	    pipe2(ctl, O_CLOEXEC))
		return -1;
	/* Side A first: it creates the event services B opens. */
	a.rx_fd = b2a[0];
	a.tx_fd = a2b[1];
	if (side_setup(&a, row, index, true, node))
		goto out;

	pid = bench_fork_partner(cpus.b);
	if (pid < 0)
		goto out;
	if (pid == 0) {
		struct side b = { .rx_fd = a2b[0], .tx_fd = b2a[1] };

		/* only B's ends stay open here: a dead A is an EOF for B */
		close(a2b[1]);
		close(b2a[0]);
		_exit(partner(&b, row, index, total, ctl[1]));
	}
	close(a2b[0]);
	close(b2a[1]);
	a2b[0] = b2a[1] = -1;
	if (read(ctl[0], &err, sizeof(err)) != sizeof(err) || err) {
		err = -1;
		goto reap;
	}

	for (long i = 0; i < total; i++) {
		uint64_t t0, t1;

		if (i == o->warmup)
			start = bench_now_ns();
		t0 = bench_now_ns();
		if (side_send(&a) || side_wait(&a)) {
			fprintf(stderr, "%s/%s/%d: round %ld failed\n",
				row->system, pattern_names[row->pattern],
				row->attachments, i);
			err = -1;
			kill(pid, SIGKILL);
			goto reap;
		}
		t1 = bench_now_ns();
		if (i >= o->warmup)
			samples[i - o->warmup] = (t1 - t0) / 2;
	}
	summarise(r, samples, o->iterations, bench_now_ns() - start);
	r->row = *row;
reap:
	waitpid(pid, &status, 0);
	if (!err && !(WIFEXITED(status) && !WEXITSTATUS(status)))
		err = -1;
out:
	side_teardown(&a);
	for (int i = 0; i < 2; i++) {
		close(a2b[i]);
		close(b2a[i]);
		close(ctl[i]);
	}
	return err;
}

/* ---- output -------------------------------------------------------------- */

static void print_row(const struct result *r, const struct result *base)
{
	fprintf(table, "%-22s %-6s %5d %8" PRIu64 " %8" PRIu64 " %8" PRIu64
		" %10" PRIu64 " %10.0f", r->row.system,
		pattern_names[r->row.pattern], r->row.attachments, r->p50,
		r->p99, r->p999, r->max, r->msgs_per_s);
	if (base && base->p50)
		fprintf(table, " %8.2fx", (double)r->p50 / (double)base->p50);
	fprintf(table, "\n");
	fflush(table);
}

static void print_json(const struct result *res, int n)
{
	printf("[\n");
	for (int i = 0; i < n; i++)
		printf("  {\"system\": \"%s\", \"pattern\": \"%s\", "
		       "\"payload_bytes\": %d, \"subscribers\": %d, "
		       "\"attachments\": %d, \"p50_ns\": %" PRIu64
		       ", \"p99_ns\": %" PRIu64 ", \"p999_ns\": %" PRIu64
		       ", \"max_ns\": %" PRIu64 ", \"msgs_per_s\": %.0f}%s\n",
		       res[i].row.system, pattern_names[res[i].row.pattern],
		       res[i].row.pattern == PATTERN_FD ? 1 : 0,
		       res[i].row.attachments, res[i].row.attachments,
		       res[i].p50, res[i].p99, res[i].p999, res[i].max,
		       res[i].msgs_per_s, i + 1 < n ? "," : "");
	printf("]\n");
}

/* ---- main ------------------------------------------------------------- */

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--quick] [--json] [--iterations N] "
		"[--warmup N]\n", argv0);
	exit(2);
}

static void parse_args(int argc, char **argv, struct options *o)
{
	o->iterations = 20000;
	o->warmup = 1000;
	o->json = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			o->iterations = 1000;
			o->warmup = 100;
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
	if (o->iterations < 1 || o->warmup < 0)
		usage(argv[0]);
}

/* Every row, baselines first: they are what the others are divided by. */
static int make_rows(struct row *rows)
{
	static const enum floe_waitset_impl impls[] = {
		FLOE_WAITSET_IO_URING, FLOE_WAITSET_EPOLL,
	};
	static const int counts[] = { 1, 8, MAX_ATTACHMENTS };
	int n = 0;

	rows[n++] = (struct row){ "raw-pipe", PATTERN_FD, FLOE_WAITSET_AUTO,
				  1 };
	rows[n++] = (struct row){ "floe-listener", PATTERN_EVENT,
				  FLOE_WAITSET_AUTO, 1 };
	rows[n++] = (struct row){ "floe-subscriber-wait", PATTERN_DATA,
				  FLOE_WAITSET_AUTO, 1 };
	for (size_t i = 0; i < 2; i++) {
		struct floe_waitset_opts opts = { .impl = impls[i] };
		floe_waitset *ws = NULL;
		bool futex;

		if (floe_waitset_create(&opts, &ws)) {
			fprintf(table, "# %s unavailable: skipped\n",
				floe_waitset_impl_name(impls[i]));
			continue;
		}
		futex = floe_waitset_uses_futex(ws);
		floe_waitset_destroy(ws);
		for (int p = PATTERN_FD; p < PATTERNS; p++)
			for (size_t c = 0; c < 3; c++)
				rows[n++] = (struct row){
					impls[i] == FLOE_WAITSET_EPOLL
						? "waitset-epoll"
					: futex && p == PATTERN_DATA
						? "waitset-io_uring-futex"
						: "waitset-io_uring",
					(enum pattern)p, impls[i], counts[c],
				};
	}
	return n;
}

int main(int argc, char **argv)
{
	struct result results[MAX_ROWS], *base[PATTERNS] = { NULL };
	struct row rows[MAX_ROWS];
	struct options o;
	floe_node *node = NULL;
	uint64_t *samples;
	int nrows, nres = 0, failed = 0, err;

	parse_args(argc, argv, &o);
	signal(SIGPIPE, SIG_IGN);
	table = o.json ? stderr : stdout;
	bench_own_domain();
	samples = calloc((size_t)o.iterations, sizeof(*samples));
	if (!samples)
		return 1;
	cpus = bench_choose_cpus();
	bench_pin(cpus.a);
	err = floe_node_create("bench waitset A", NULL, &node);
	if (err) {
		fprintf(stderr, "node: %s\n", floe_strerror(err));
		return 1;
	}
	if (cpus.single)
		fprintf(table, "# one CPU only: not pinned");
	else
		fprintf(table, "# CPUs %d and %d", cpus.a, cpus.b);
	fprintf(table, ", backend %s, %ld iterations (+%ld warm-up) per "
		"row; one wake-up (half round trip) in ns\n",
		floe_backend_name(floe_node_backend(node)), o.iterations,
		o.warmup);
	nrows = make_rows(rows);
	fprintf(table, "%-22s %-6s %5s %8s %8s %8s %10s %10s %9s\n", "system",
		"wakes", "att", "p50", "p99", "p99.9", "max", "msgs/s",
		"p50/base");

	for (int i = 0; i < nrows; i++) {
		struct result *r = &results[nres];

		if (run_row(&o, &rows[i], i, node, samples, r)) {
			failed = 1;
			continue;
		}
		print_row(r, base[r->row.pattern]);
		if (r->row.impl == FLOE_WAITSET_AUTO)
			base[r->row.pattern] = r;
		nres++;
	}
	if (o.json)
		print_json(results, nres);
	floe_node_destroy(node);
	free(samples);
	return failed;
}
