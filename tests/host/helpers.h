/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the multi-process host tests.
 *
 *  - th_setup():        per-test domain (honours a preset $FLOE_DOMAIN, so
 *                       the runner can name it) and a watchdog, so that no
 *                       test can hang whatever the library does;
 *  - th_fork/th_wait:   run a function in a child process; wait with a
 *                       deadline, killing the child when it passes;
 *  - th_pipe/th_barrier: synchronisation between processes over pipes
 *                       (no shared state that a dying process could wedge);
 *  - th_count_objects:  the domain's shared-memory objects still present
 *                       (/dev/shm files, /sys/kernel/floe/segments entries);
 *  - th_check:          a failed check inside a child, reported as a TAP
 *                       diagnostic; the child's exit code carries the verdict.
 *
 * Children never print "ok" lines: only the parent owns the TAP plan.
 */
#ifndef FLOE_TESTS_HOST_HELPERS_H
#define FLOE_TESTS_HOST_HELPERS_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "floe.h"
#include "tap.h"

/* ------------------------------------------------------------------ */
/* Time                                                               */
/* ------------------------------------------------------------------ */

static inline uint64_t th_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void th_sleep_us(uint64_t us)
{
	struct timespec ts = {
		.tv_sec = (time_t)(us / 1000000),
		.tv_nsec = (long)(us % 1000000) * 1000,
	};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static inline void th_sleep_ms(uint64_t ms)
{
	th_sleep_us(ms * 1000);
}

/* Environment integer with a default (for iteration counts). */
static inline long th_env_long(const char *name, long def)
{
	const char *v = getenv(name);
	char *end;
	long x;

	if (!v || !*v)
		return def;
	x = strtol(v, &end, 0);
	return *end ? def : x;
}

/* ------------------------------------------------------------------ */
/* Randomness: xorshift, seeded per process, reproducible via FLOE_SEED */
/* ------------------------------------------------------------------ */

static uint64_t th_rng_state = 88172645463325252ull;

static inline void th_seed(uint64_t seed)
{
	th_rng_state = seed ? seed : 88172645463325252ull;
}

static inline uint64_t th_rand(void)
{
	uint64_t x = th_rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return th_rng_state = x;
}

/* Uniform-enough value in [0, n). */
static inline uint64_t th_rand_below(uint64_t n)
{
	return n ? th_rand() % n : 0;
}

/* A payload word derived from (key, index): content checks that catch
 * torn, stale or misplaced data, not just wrong sequence numbers. */
static inline uint64_t th_pattern(uint64_t key, uint64_t index)
{
	uint64_t z = key * 0x9e3779b97f4a7c15ull + index + 0x632be59bd9b4e019ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* ------------------------------------------------------------------ */
/* Child bookkeeping and the watchdog                                 */
/* ------------------------------------------------------------------ */

#define TH_MAX_CHILDREN 1024

static pid_t th_children[TH_MAX_CHILDREN];
static int th_nchildren;
static int th_in_child;

static inline void th_forget_child(pid_t pid)
{
	for (int i = 0; i < th_nchildren; i++) {
		if (th_children[i] == pid) {
			th_children[i] = th_children[--th_nchildren];
			return;
		}
	}
}

/* SIGKILL and reap every child still registered (end of test, bail-out). */
static inline void th_kill_children(void)
{
	for (int i = 0; i < th_nchildren; i++)
		kill(th_children[i], SIGKILL);
	for (int i = 0; i < th_nchildren; i++)
		waitpid(th_children[i], NULL, 0);
	th_nchildren = 0;
}

static void th_watchdog_fired(int sig)
{
	static const char msg[] = "Bail out! watchdog: test took too long\n";
	ssize_t r;

	(void)sig;
	/* Async-signal-safe only: write, kill, _exit. */
	r = write(STDOUT_FILENO, msg, sizeof(msg) - 1);
	(void)r;
	for (int i = 0; i < th_nchildren; i++)
		kill(th_children[i], SIGKILL);
	_exit(3);
}

/* ------------------------------------------------------------------ */
/* Setup                                                              */
/* ------------------------------------------------------------------ */

static char th_domain[24];

/*
 * Call first in main. Keeps $FLOE_DOMAIN if the runner set it (so it can
 * check for leaks), otherwise picks "t<tag><pid>"; children inherit it.
 * Arms a watchdog below the runner's timeout ($FLOE_TEST_TIMEOUT, 120 s).
 */
static inline const char *th_setup(const char *tag)
{
	const char *preset = getenv("FLOE_DOMAIN");
	long timeout = th_env_long("FLOE_TEST_TIMEOUT", 120);
	long seed = th_env_long("FLOE_SEED", 0);

	if (preset && *preset) {
		snprintf(th_domain, sizeof(th_domain), "%s", preset);
	} else {
		snprintf(th_domain, sizeof(th_domain), "t%.7s%d", tag,
			 (int)(getpid() % 10000000));
		setenv("FLOE_DOMAIN", th_domain, 1);
	}
	if (!seed)
		seed = (long)(th_now_ns() ^ ((uint64_t)getpid() << 32));
	th_seed((uint64_t)seed);
	tap_diag("domain %s, backend %s, seed %ld", th_domain,
		 getenv("FLOE_BACKEND") ? getenv("FLOE_BACKEND") : "auto", seed);

	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, th_watchdog_fired);
	alarm((unsigned)(timeout > 20 ? timeout - 10 : timeout));
	return th_domain;
}

/* ------------------------------------------------------------------ */
/* Checks inside children                                             */
/* ------------------------------------------------------------------ */

static int th_child_failures;

static inline void th_child_diag(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline void th_child_diag(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "# [pid %d] ", (int)getpid());
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	/* One write per line so that processes do not interleave mid-line. */
	n = (int)strlen(line);
	line[n++] = '\n';
	fflush(stdout);
	if (write(STDOUT_FILENO, line, (size_t)n) < 0)
		return;
}

/* A failed check in a child: print why, remember it, carry on. */
#define th_check(cond, ...)                                                 \
	({                                                                  \
		int th_c_ = !!(cond);                                       \
		if (!th_c_) {                                               \
			th_child_failures++;                                \
			th_child_diag("check failed at %s:%d: " #cond,      \
				      __FILE__, __LINE__);                  \
			th_child_diag(__VA_ARGS__);                         \
		}                                                           \
		th_c_;                                                      \
	})

/* Compare integers in a child. */
#define th_check_eq(got, want, ...)                                         \
	({                                                                  \
		long long th_g_ = (long long)(got), th_w_ = (long long)(want); \
		int th_r_ = th_check(th_g_ == th_w_, __VA_ARGS__);          \
		if (!th_r_)                                                 \
			th_child_diag("  got %lld, want %lld", th_g_, th_w_); \
		th_r_;                                                      \
	})

/* Exit code of a child: 0 if all its checks passed. */
static inline int th_child_result(void)
{
	return th_child_failures ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* Processes                                                          */
/* ------------------------------------------------------------------ */

typedef int (*th_child_fn)(void *arg);

/*
 * Run @fn(@arg) in a child process that exits with its return value. The
 * child dies with its parent (no orphan can outlive a crashed test).
 * Returns the child's pid, or -1.
 */
static inline pid_t th_fork(th_child_fn fn, void *arg)
{
	pid_t parent = getpid();
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		tap_diag("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int rc;

		alarm(0);
		signal(SIGALRM, SIG_DFL);
		th_nchildren = 0;
		th_in_child = 1;
		th_child_failures = 0;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(126);
		th_seed(th_rand() ^ th_now_ns() ^ (uint64_t)getpid());
		rc = fn(arg);
		fflush(stdout);
		_exit(rc);
	}
	if (th_nchildren < TH_MAX_CHILDREN)
		th_children[th_nchildren++] = pid;
	return pid;
}

/* Decode a wait status: exit code, 128 + signal number, or -2. */
static inline int th_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -2;
}

/*
 * Wait for @pid up to @timeout_ms. Returns its exit code (128 + signal if
 * killed by one), or -1 after killing it because the deadline passed.
 */
static inline int th_wait(pid_t pid, long timeout_ms)
{
	uint64_t deadline = th_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	uint64_t pause_us = 100;
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid) {
			th_forget_child(pid);
			return th_status(status);
		}
		if (r < 0 && errno != EINTR) {
			th_forget_child(pid);
			return -2;
		}
		if (th_now_ns() > deadline) {
			tap_diag("child %d still running after %ld ms: killed",
				 (int)pid, timeout_ms);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			th_forget_child(pid);
			return -1;
		}
		th_sleep_us(pause_us);
		if (pause_us < 10000)
			pause_us *= 2;
	}
}

/* SIGKILL @pid and reap it; returns the decoded status. */
static inline int th_kill(pid_t pid)
{
	int status = 0;

	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	th_forget_child(pid);
	return th_status(status);
}

/* ------------------------------------------------------------------ */
/* Pipes and barriers                                                 */
/* ------------------------------------------------------------------ */

/* A one-way channel; create before fork, both ends stay open in both. */
struct th_pipe {
	int rd, wr;
};

static inline int th_pipe_init(struct th_pipe *p)
{
	int fds[2];

	p->rd = p->wr = -1;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	p->rd = fds[0];
	p->wr = fds[1];
	return 0;
}

static inline void th_pipe_close(struct th_pipe *p)
{
	close(p->rd);
	close(p->wr);
}

static inline int th_send(struct th_pipe *p, const void *buf, size_t len)
{
	const char *c = buf;

	while (len) {
		ssize_t n = write(p->wr, c, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		c += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read exactly @len bytes within @timeout_ms; 0 or -1 (timeout, error). */
static inline int th_recv(struct th_pipe *p, void *buf, size_t len,
			  long timeout_ms)
{
	uint64_t deadline = th_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	char *c = buf;

	while (len) {
		struct pollfd pfd = { .fd = p->rd, .events = POLLIN };
		uint64_t now = th_now_ns();
		ssize_t n;
		int r;

		if (now >= deadline)
			return -1;
		r = poll(&pfd, 1, (int)((deadline - now) / 1000000 + 1));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		n = read(p->rd, c, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		c += n;
		len -= (size_t)n;
	}
	return 0;
}

static inline int th_send_u64(struct th_pipe *p, uint64_t v)
{
	return th_send(p, &v, sizeof(v));
}

static inline int th_recv_u64(struct th_pipe *p, uint64_t *v, long timeout_ms)
{
	return th_recv(p, v, sizeof(*v), timeout_ms);
}

/* True if data is waiting on @p (non-blocking check). */
static inline int th_pending(struct th_pipe *p)
{
	struct pollfd pfd = { .fd = p->rd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1;
}

/*
 * A single-use barrier between @parties children and their parent (the
 * coordinator): each child arrives, the parent waits for all of them and
 * releases them together. Single use because a fast child could otherwise
 * take a release byte meant for a slower one; make one per phase.
 */
struct th_barrier {
	struct th_pipe arrive, release;
	int parties;
};

static inline int th_barrier_init(struct th_barrier *b, int parties)
{
	b->parties = parties;
	if (th_pipe_init(&b->arrive) < 0)
		return -1;
	return th_pipe_init(&b->release);
}

/* Child side: arrive and wait for the release. */
static inline int th_barrier_wait(struct th_barrier *b, long timeout_ms)
{
	char c = 'a';

	if (th_send(&b->arrive, &c, 1) < 0)
		return -1;
	return th_recv(&b->release, &c, 1, timeout_ms);
}

/* Parent side: wait until every party arrived, then release them all. */
static inline int th_barrier_release(struct th_barrier *b, long timeout_ms)
{
	uint64_t deadline = th_now_ns() + (uint64_t)timeout_ms * 1000000ull;

	for (int i = 0; i < b->parties; i++) {
		uint64_t now = th_now_ns();
		char c;

		if (now >= deadline ||
		    th_recv(&b->arrive, &c, 1,
			    (long)((deadline - now) / 1000000 + 1)) < 0) {
			tap_diag("barrier: only %d of %d parties arrived", i,
				 b->parties);
			return -1;
		}
	}
	for (int i = 0; i < b->parties; i++) {
		char c = 'r';

		if (th_send(&b->release, &c, 1) < 0)
			return -1;
	}
	return 0;
}

static inline void th_barrier_destroy(struct th_barrier *b)
{
	th_pipe_close(&b->arrive);
	th_pipe_close(&b->release);
}

/* ------------------------------------------------------------------ */
/* Leak accounting                                                    */
/* ------------------------------------------------------------------ */

static inline int th_count_in(const char *dir, const char *domain, int show)
{
	size_t plen = strlen(domain);
	struct dirent *de;
	DIR *d = opendir(dir);
	int count = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, domain, plen) || de->d_name[plen] != '.')
			continue;
		count++;
		if (show)
			tap_diag("  remaining: %s/%s", dir, de->d_name);
	}
	closedir(d);
	return count;
}

/*
 * Shared-memory objects of @domain that still exist: files
 * /dev/shm/<domain>.* (shm backend) plus segments listed by the module in
 * /sys/kernel/floe/segments/<domain>.* (kmod backend). @show lists them.
 */
static inline int th_count_objects(const char *domain, int show)
{
	int n = th_count_in("/dev/shm", domain, show);

	if (access("/sys/kernel/floe", F_OK) == 0)
		n += th_count_in("/sys/kernel/floe/segments", domain, show);
	return n;
}

/* ------------------------------------------------------------------ */
/* floe conveniences                                                  */
/* ------------------------------------------------------------------ */

/* Create a node in the inherited domain; prints the error on failure. */
static inline floe_node *th_node(const char *name)
{
	floe_node *node = NULL;
	int err = floe_node_create(name, NULL, &node);

	if (err) {
		th_child_diag("floe_node_create(%s): %s", name,
			      floe_strerror(err));
		return NULL;
	}
	return node;
}

/* In a child: open the event service @service with @node (NULL: its
 * creation failed, already reported) and create a notifier on it. Failures
 * are reported; returns 0 or -1. */
static inline int th_open_notifier(floe_node *node, const char *service,
				   floe_service **svc, floe_notifier **n)
{
	int r;

	if (!node)
		return -1;
	r = floe_event_open(node, service, NULL, svc);
	if (!th_check(r == 0, "open %s: %s", service, floe_strerror(r)))
		return -1;
	r = floe_notifier_create(*svc, n);
	if (!th_check(r == 0, "notifier: %s", floe_strerror(r)))
		return -1;
	return 0;
}

static inline struct floe_type th_type(const char *name, uint64_t size,
				       uint64_t align)
{
	struct floe_type t = { .name = name, .size = size, .align = align };

	return t;
}

/* QoS with every demand zero (for floe_service_open: no demands). */
static inline struct floe_pubsub_qos th_qos_zero(void)
{
	struct floe_pubsub_qos q;

	memset(&q, 0, sizeof(q));
	return q;
}

/*
 * Open a service, retrying while it is still being created (FLOE_E_BUSY)
 * or not yet visible (FLOE_E_NOT_FOUND) for up to @timeout_ms.
 */
static inline int th_service_open_retry(floe_node *node, const char *name,
					const struct floe_service_opts *opts,
					floe_service **out, long timeout_ms)
{
	uint64_t deadline = th_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	int err;

	for (;;) {
		err = floe_service_open(node, name, opts, out);
		if ((err != FLOE_E_BUSY && err != FLOE_E_NOT_FOUND) ||
		    th_now_ns() > deadline)
			return err;
		th_sleep_us(500);
	}
}

/*
 * Receive with a deadline: 1 and *@out on success, 0 if nothing came
 * within @timeout_ms, or the error. Sleeps in floe_subscriber_wait (a
 * publisher's death only wakes it: its samples are still received).
 */
static inline int th_receive(floe_subscriber *sub, const floe_sample **out,
			     long timeout_ms)
{
	uint64_t deadline = th_now_ns() + (uint64_t)timeout_ms * 1000000ull;

	for (;;) {
		int r = floe_subscriber_receive(sub, out);
		uint64_t now = th_now_ns();

		if (r != 0 || now > deadline)
			return r;
		r = floe_subscriber_wait(sub, deadline - now);
		if (r < 0 && r != FLOE_E_DEAD)
			return r;
	}
}

/*
 * Receive what waits, each sample's payload a uint64_t tag below 63: the
 * tags as a bit set, or with bit 63 set if a tag is out of range or came
 * twice, or has_samples still says something waits afterwards.
 */
static inline uint64_t th_receive_tags(floe_subscriber *sub)
{
	uint64_t got = 0;
	const floe_sample *s;

	while (floe_subscriber_receive(sub, &s) == 1) {
		uint64_t tag = *(const uint64_t *)floe_sample_payload(s);

		got |= tag < 63 && !(got & 1ull << tag) ? 1ull << tag
							: 1ull << 63;
		floe_sample_release(s);
	}
	return floe_subscriber_has_samples(sub) ? 1ull << 63 : got;
}

/* Warnings and errors the library logged since th_count_warnings() (a
 * test that expects none checks this); each is shown as a TAP comment. */
static inline long *th_warnings(void)
{
	static long count;

	return &count;
}

static inline void th_warning_sink(enum floe_log_level level,
				   const char *message, void *ctx)
{
	(void)ctx;
	if (level <= FLOE_LOG_WARN) {
		(*th_warnings())++;
		tap_diag("floe: %s", message);
	}
}

static inline void th_count_warnings(void)
{
	floe_set_log(FLOE_LOG_WARN, th_warning_sink, NULL);
}

/* A new publisher sends @tag (a uint64_t) and leaves: how many it reached,
 * or the error creating it. */
static inline int th_send_tag_and_leave(floe_service *svc, uint64_t tag)
{
	floe_publisher *pub;
	int r = floe_publisher_create(svc, NULL, &pub);

	if (r)
		return r;
	r = floe_publisher_send_copy(pub, &tag, sizeof(tag));
	floe_publisher_destroy(pub);
	return r;
}

/* One publisher slot and one subscriber, no safe overflow: the service
 * where gone publishers' leftovers bound what a new one reaches. */
static inline struct floe_service_opts th_one_slot_opts(
	struct floe_pubsub_qos *q, const char *type_name)
{
	floe_pubsub_qos_init(q);
	q->max_publishers = 1;
	q->max_subscribers = 1;
	q->enable_safe_overflow = false;
	return (struct floe_service_opts){
		.type = th_type(type_name, sizeof(uint64_t),
				_Alignof(uint64_t)),
		.qos = q,
	};
}

/* @n publishers in turn send their index as a tag and leave, their
 * samples queued for the subscribers: the tags' bits, or 0 if one of the
 * sends reached none. */
static inline uint64_t th_leave_leftovers(floe_service *svc, int n)
{
	uint64_t tags = 0;

	for (int tag = 0; tag < n; tag++) {
		if (th_send_tag_and_leave(svc, (uint64_t)tag) != 1)
			return 0;
		tags |= 1ull << tag;
	}
	return tags;
}

/*
 * Loan until the publisher refuses (at most 64), then give them all back.
 * Returns how many loans succeeded and sets *@err to the refusal.
 */
static inline int th_loan_all(floe_publisher *pub, int *err)
{
	floe_sample_mut *held[64];
	int n = 0, r = 0;

	while (n < 64 && (r = floe_publisher_loan(pub, 1, &held[n])) == 0)
		n++;
	*err = r;
	for (int i = 0; i < n; i++)
		floe_sample_mut_discard(held[i]);
	return n;
}

#endif /* FLOE_TESTS_HOST_HELPERS_H */
