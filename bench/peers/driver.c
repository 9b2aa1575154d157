// SPDX-License-Identifier: MIT
/*
 * Ping-pong latency of a peer IPC system, measured as floe's is.
 *
 *   <peer> [--quick] [--json] [--sizes 8,4K,1M,...] [--iterations N]
 *          [--warmup N] [--budget-ms N] [--only SYSTEM]
 *
 * Two processes, pinned to the first two CPUs allowed (normally 0 and 1),
 * busy-poll each other through the transport: the measuring process sends
 * a sequence number in a message of the payload size and polls for the
 * answer, the partner answers every message with the same number. Kernel
 * transports are used non-blocking, so that neither side ever sleeps: what
 * is measured is the transport (system calls and copies), not the
 * scheduler, the same busy-polling floe's ping-pong does. Each round trip
 * is timed; half of it is one message's latency. Every size runs
 * --iterations round trips after --warmup ones, but stops early when it
 * has taken --budget-ms and at least MIN_SAMPLES (large copies are slow;
 * the row then says how many it ran). A size a transport cannot carry is
 * reported as such.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../bench.h"
#include "peer.h"

#define STOP_SEQ UINT64_MAX	/* the partner leaves the size's loop */
#define SETUP_NS 10000000000ull	/* how long ready() may take */
#define CHECK_EVERY 4096	/* spins between looks at the partner */
#define MIN_SAMPLES 10		/* taken even when over the time budget */

struct options {
	struct bench_opts b;
	const char *only;	/* --only SYSTEM */
};

/* Shared by both processes: either sets abort when it cannot go on. */
struct control {
	int abort;
};

static struct bench_cpus cpus;
static struct control *ctl;
static pid_t partner_pid;	/* in the parent, while a partner runs */
static FILE *table;
static void *buffer;
static uint64_t buffer_len;

void *peer_buffer(uint64_t size)
{
	if (size <= buffer_len)
		return buffer;
	if (buffer)
		munmap(buffer, buffer_len);
	buffer = mmap(NULL, size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (buffer == MAP_FAILED) {
		buffer = NULL;
		buffer_len = 0;
		return NULL;
	}
	buffer_len = size;
	return buffer;
}

void *peer_message(uint64_t seq, uint64_t size)
{
	char *buf = peer_buffer(size);

	memcpy(buf, &seq, sizeof(seq));
	return buf;
}

int peer_received(ssize_t n, uint64_t size, uint64_t *seq)
{
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	if ((uint64_t)n != size)
		return -EMSGSIZE;
	memcpy(seq, buffer, sizeof(*seq));
	return 1;
}

/* The other side gave up, or (seen from the parent) died. */
static bool aborted(void)
{
	siginfo_t info = { 0 };

	if (__atomic_load_n(&ctl->abort, __ATOMIC_RELAXED))
		return true;
	return partner_pid > 0 &&
	       waitid(P_PID, (id_t)partner_pid, &info,
		      WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid;
}

static void set_abort(void)
{
	__atomic_store_n(&ctl->abort, 1, __ATOMIC_RELAXED);
}

static int put(int fd, int64_t v)
{
	return write(fd, &v, sizeof(v)) == sizeof(v) ? 0 : -1;
}

static int get(int fd, int64_t *v)
{
	return read(fd, v, sizeof(*v)) == sizeof(*v) ? 0 : -1;
}

/* Send, retrying while the transport is full; -ECANCELED if aborted. */
static int send_msg(const struct peer_transport *t, enum peer_side side,
		    uint64_t seq, uint64_t size)
{
	unsigned long spins = 0;
	int err;

	while ((err = t->send(side, seq, size)) == -EAGAIN) {
		bench_relax(&cpus);
		if ((t->waits || ++spins % CHECK_EVERY == 0) && aborted())
			return -ECANCELED;
	}
	return err;
}

/* Poll until a message comes; -ECANCELED if aborted. */
static int recv_msg(const struct peer_transport *t, enum peer_side side,
		    uint64_t *seq, uint64_t size)
{
	unsigned long spins = 0;
	int r;

	while ((r = t->recv(side, seq, size)) == 0) {
		bench_relax(&cpus);
		if ((t->waits || ++spins % CHECK_EVERY == 0) && aborted())
			return -ECANCELED;
	}
	return r < 0 ? r : 0;
}

static int wait_ready(const struct peer_transport *t, enum peer_side side)
{
	uint64_t deadline = bench_now_ns() + SETUP_NS;

	while (t->ready && !t->ready(side)) {
		if (bench_now_ns() > deadline || aborted())
			return -ETIMEDOUT;
		usleep(1000);
	}
	return 0;
}

/* The partner: answer every message of each size the parent names. */
static int partner(const struct peer_transport *t, int rx, int tx)
{
	int64_t size;
	int failed = 0;

	while (get(rx, &size) == 0 && size > 0) {
		char why[128] = "";
		uint64_t seq;
		int err = t->open(PEER_PONG, (uint64_t)size, why, sizeof(why));

		put(tx, err);
		if (err) {
			fprintf(stderr, "%s: partner: %s\n", t->system, why);
			continue;
		}
		err = wait_ready(t, PEER_PONG);
		while (!err) {
			err = recv_msg(t, PEER_PONG, &seq, (uint64_t)size);
			if (err || seq == STOP_SEQ)
				break;
			err = send_msg(t, PEER_PONG, seq, (uint64_t)size);
		}
		if (err && err != -ECANCELED) {
			fprintf(stderr, "%s: partner, %" PRId64 " B: %s\n",
				t->system, size, strerror(-err));
			set_abort();
			failed = 1;
		}
		t->close(PEER_PONG);
		put(tx, err);
	}
	return failed;
}

static void print_row(const struct bench_result *r)
{
	char size[32];

	fprintf(table, "%-12s %9s %8" PRIu64 " %8" PRIu64 " %8" PRIu64
		" %10" PRIu64 " %12.0f %8ld\n", r->system,
		bench_human(r->payload_bytes, size, sizeof(size)), r->p50,
		r->p99, r->p999, r->max, r->msgs_per_s, r->iterations);
	fflush(table);
}

static void print_skip(const struct peer_transport *t, uint64_t size,
		       const char *why)
{
	char human[32];

	fprintf(table, "# %s cannot carry %s: %s\n", t->system,
		bench_human(size, human, sizeof(human)), why);
	fflush(table);
}

/* One timed round trip: send @seq, wait for it to come back. */
static int round_trip(const struct peer_transport *t, uint64_t seq,
		      uint64_t size, long *errors)
{
	uint64_t back = STOP_SEQ;
	int err = send_msg(t, PEER_PING, seq, size);

	if (!err)
		err = recv_msg(t, PEER_PING, &back, size);
	if (!err && back != seq)
		(*errors)++;
	return err;
}

/* One size over the transport; 1: measured into @r, 0: skipped, -1: failed. */
static int run_size(const struct bench_opts *o,
		    const struct peer_transport *t, int to_partner,
		    int from_partner, uint64_t size,
		    uint64_t *samples, struct bench_result *r, long *errors)
{
	char why[128] = "";
	uint64_t start, end, deadline, seq = 0;
	long n = 0;
	int64_t status;
	int err;

	err = t->open(PEER_PING, size, why, sizeof(why));
	if (err) {
		print_skip(t, size, why);
		return 0;
	}
	__atomic_store_n(&ctl->abort, 0, __ATOMIC_RELAXED);
	if (put(to_partner, (int64_t)size) || get(from_partner, &status)) {
		t->close(PEER_PING);
		return -1;
	}
	if (status) {
		t->close(PEER_PING);
		print_skip(t, size, "the partner could not open it");
		return 0;
	}
	err = wait_ready(t, PEER_PING);
	/* warm up: --warmup round trips, or a tenth of the budget */
	deadline = bench_now_ns() + o->budget_ns / 10;
	for (long i = 0; !err && i < o->warmup; i++) {
		err = round_trip(t, seq++, size, errors);
		if (bench_now_ns() > deadline)
			break;
	}
	start = bench_now_ns();
	deadline = start + o->budget_ns;
	for (end = start; !err && n < o->iterations &&
	     (end < deadline || n < MIN_SAMPLES); n++) {
		uint64_t t0 = end;

		err = round_trip(t, seq++, size, errors);
		end = bench_now_ns();
		samples[n] = (end - t0) / 2;
	}
	if (!err)
		err = send_msg(t, PEER_PING, STOP_SEQ, size);
	if (err) {
		/* the transport cannot carry this size after all, or broke */
		set_abort();
		snprintf(why, sizeof(why), "%s", strerror(-err));
	}
	if (get(from_partner, &status)) {
		/* no word from the partner: it died */
		t->close(PEER_PING);
		fprintf(table, "# %s, %" PRIu64 " B: the partner died\n",
			t->system, size);
		return -1;
	}
	t->close(PEER_PING);
	if (err) {
		if (err == -ECANCELED)
			snprintf(why, sizeof(why), "the partner's side failed "
				 "(its reason is above)");
		print_skip(t, size, why);
		return 0;
	}
	r->system = t->system;
	r->pattern = "pingpong";
	r->payload_bytes = size;
	r->subscribers = 1;
	bench_summarise(r, samples, n, 2.0 * (double)n, end - start);
	return 1;
}

static int run_transport(const struct bench_opts *o,
			 const struct peer_transport *t, uint64_t *samples,
			 struct bench_result *res, int *nres, long *errors)
{
	int to_partner[2], from_partner[2], status, failed = 0;
	pid_t pid;

	if (t->setup && t->setup()) {
		fprintf(table, "# %s: setup failed: %s\n", t->system,
			strerror(errno));
		return 1;
	}
	if (pipe(to_partner) || pipe(from_partner))
		return 1;
	pid = bench_fork_partner(cpus.b);
	if (pid < 0)
		return 1;
	if (pid == 0) {
		close(to_partner[1]);
		close(from_partner[0]);
		/* exit(), not _exit(): a library may leave its broker in
		 * its destructors (iceoryx's RouDi aborts at shutdown when
		 * a client vanished unannounced) */
		exit(partner(t, to_partner[0], from_partner[1]));
	}
	/* only our ends open: a dead partner reads as end of file */
	close(to_partner[0]);
	close(from_partner[1]);
	partner_pid = pid;
	for (int i = 0; i < o->nsizes && *nres < BENCH_MAX_SIZES * 8; i++) {
		int r = run_size(o, t, to_partner[1], from_partner[0],
				 o->sizes[i], samples, &res[*nres], errors);

		if (r < 0) {
			failed = 1;
			break;
		}
		if (r > 0)
			print_row(&res[(*nres)++]);
	}
	put(to_partner[1], 0);
	waitpid(pid, &status, 0);
	partner_pid = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		failed = 1;
	close(to_partner[1]);
	close(from_partner[0]);
	return failed;
}

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--quick] [--json] [--sizes 8,4K,1M,...] "
		"[--iterations N] [--warmup N] [--budget-ms N] "
		"[--only SYSTEM]\n", argv0);
	exit(2);
}

static void parse_args(int argc, char **argv, struct options *o)
{
	static const uint64_t full[] = BENCH_SIZES, quick[] = BENCH_QUICK_SIZES;
	struct bench_opts *b = &o->b;

	memset(o, 0, sizeof(*o));
	bench_set_sizes(b, full, sizeof(full) / sizeof(full[0]));
	b->iterations = 100000;
	b->warmup = 10000;
	b->budget_ns = 2000000000ull;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			bench_set_sizes(b, quick,
					sizeof(quick) / sizeof(quick[0]));
			b->iterations = 2000;
			b->warmup = 200;
			b->budget_ns = 100000000ull;
		} else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
			o->only = argv[++i];
		} else if (!bench_option(b, argc, argv, &i, 8)) {
			usage(argv[0]);
		}
	}
	if (b->nsizes < 0) {
		fprintf(stderr, "payload sizes must be >= 8 bytes\n");
		exit(2);
	}
	if (b->iterations < 1 || b->warmup < 0 || b->nsizes < 1 ||
	    !b->budget_ns)
		usage(argv[0]);
}

int main(int argc, char **argv)
{
	struct bench_result res[BENCH_MAX_SIZES * 8];
	struct options o;
	uint64_t *samples;
	long errors = 0;
	int nres = 0, failed = 0, ran = 0;

	parse_args(argc, argv, &o);
	signal(SIGPIPE, SIG_IGN);
	table = o.b.json ? stderr : stdout;
	samples = calloc((size_t)o.b.iterations, sizeof(*samples));
	ctl = mmap(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!samples || ctl == MAP_FAILED)
		return 1;
	cpus = bench_choose_cpus();
	bench_pin(cpus.a);
	if (cpus.single)
		fprintf(table, "# one CPU only: not pinned, spinning yields; "
			"numbers mean little");
	else
		fprintf(table, "# CPUs %d and %d", cpus.a, cpus.b);
	fprintf(table, ", up to %ld iterations (+%ld warm-up) or %" PRIu64
		" ms per row; half round trip in ns\n", o.b.iterations,
		o.b.warmup, o.b.budget_ns / 1000000);
	fprintf(table, "%-12s %9s %8s %8s %8s %10s %12s %8s\n", "system",
		"payload", "p50", "p99", "p99.9", "max", "msgs/s", "iters");
	for (int i = 0; i < peer_num_transports; i++) {
		const struct peer_transport *t = peer_transports[i];

		if (o.only && strcmp(o.only, t->system))
			continue;
		ran++;
		failed |= run_transport(&o.b, t, samples, res, &nres, &errors);
	}
	if (!ran) {
		fprintf(stderr, "no transport named %s\n", o.only);
		failed = 1;
	}
	if (errors) {
		fprintf(stderr, "%ld answers carried the wrong sequence "
			"number\n", errors);
		failed = 1;
	}
	if (o.b.json)
		bench_json(stdout, res, nres);
	free(samples);
	return failed;
}
