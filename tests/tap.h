/* SPDX-License-Identifier: MIT */
/*
 * TAP for floe's C tests, library and module alike (TAP 13 / KTAP
 * conventions): "ok N - what" / "not ok N - what", diagnostics behind '#',
 * the plan "1..N" first (tap_plan) or, if none was given, at the end.
 * Forked children (tap_fork) record their results in shared memory and the
 * parent prints them when it reaps the child (tap_wait), so numbering stays
 * in one place. A test program exits non-zero when any check failed or the
 * plan was not met (return tap_done()), so the runner needs nothing but
 * the exit code and the text.
 */
#ifndef FLOE_TESTS_TAP_H
#define FLOE_TESTS_TAP_H

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TAP_REC_MAX 1024
#define TAP_MSG_MAX 232

struct tap_rec {
	int ready; /* 1 when the record is complete */
	int ok;    /* 1 ok, 0 not ok, -1 diagnostic */
	char msg[TAP_MSG_MAX];
};

struct tap_shm {
	int n;
	struct tap_rec r[TAP_REC_MAX];
};

static struct tap_shm *tap_shm;
static unsigned int tap_flushed;
static int tap_is_child, tap_n, tap_failed, tap_planned = -1;

/* Room for children's records; a whole-program timeout (0: none). */
static inline void tap_init(unsigned int timeout_s)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!tap_shm) {
		/* (a cast: the C++ tests include this too) */
		tap_shm = (struct tap_shm *)mmap(NULL, sizeof(*tap_shm),
						 PROT_READ | PROT_WRITE,
						 MAP_SHARED | MAP_ANONYMOUS,
						 -1, 0);
		if (tap_shm == MAP_FAILED) {
			printf("Bail out! mmap for TAP records: %s\n",
			       strerror(errno));
			exit(1);
		}
	}
	/* Whole-program safety net: SIGALRM's default action kills us. The
	 * figure is for a normal machine: a runner that allows each test
	 * longer (FLOE_TEST_TIMEOUT: tests/run-host.sh, a TCG VM with a
	 * debug kernel) stretches it to its own. */
	if (timeout_s) {
		const char *outer = getenv("FLOE_TEST_TIMEOUT");
		unsigned long runner = outer ? strtoul(outer, NULL, 10) : 0;

		alarm(runner > timeout_s && runner < 86400 ? (unsigned int)runner
							   : timeout_s);
	}
}

/* Announce @n checks up front (else the plan follows them). */
static inline void tap_plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

static inline void tap_vrecord(int ok, const char *fmt, va_list ap)
{
	int i = __atomic_fetch_add(&tap_shm->n, 1, __ATOMIC_RELAXED);

	if (i >= TAP_REC_MAX)
		return;
	tap_shm->r[i].ok = ok;
	vsnprintf(tap_shm->r[i].msg, TAP_MSG_MAX, fmt, ap);
	__atomic_store_n(&tap_shm->r[i].ready, 1, __ATOMIC_RELEASE);
}

static inline int tap_ok(int cond, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	cond = !!cond;
	if (!cond)
		tap_failed++;
	va_start(ap, fmt);
	if (tap_is_child) {
		tap_vrecord(cond, fmt, ap);
	} else {
		printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
		vprintf(fmt, ap);
		printf("\n");
		fflush(stdout);
	}
	va_end(ap);
	return cond;
}

static inline void tap_diag(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (tap_is_child) {
		tap_vrecord(-1, fmt, ap);
	} else {
		printf("# ");
		vprintf(fmt, ap);
		printf("\n");
		fflush(stdout);
	}
	va_end(ap);
}

/* Print what children recorded so far (parent only). */
static inline void tap_flush(void)
{
	unsigned int n = tap_shm ? (unsigned int)__atomic_load_n(
					   &tap_shm->n, __ATOMIC_RELAXED)
				 : 0;

	if (n > TAP_REC_MAX)
		n = TAP_REC_MAX;
	for (; tap_flushed < n; tap_flushed++) {
		struct tap_rec *r = &tap_shm->r[tap_flushed];

		if (!__atomic_load_n(&r->ready, __ATOMIC_ACQUIRE))
			break;
		if (r->ok < 0) {
			printf("# %s\n", r->msg);
			continue;
		}
		if (!r->ok)
			tap_failed++;
		printf("%sok %d - %s\n", r->ok ? "" : "not ", ++tap_n, r->msg);
	}
	fflush(stdout);
}

/* Integer comparison showing both values on failure. */
#define tap_eq(got, want, ...)                                               \
	({                                                                   \
		long long tap_g_ = (long long)(got), tap_w_ = (long long)(want); \
		int tap_r_ = tap_ok(tap_g_ == tap_w_, __VA_ARGS__);          \
		if (!tap_r_)                                                 \
			tap_diag("  got %lld (%#llx), want %lld (%#llx)",    \
				 tap_g_, tap_g_, tap_w_, tap_w_);             \
		tap_r_;                                                      \
	})

/* expr must fail (-1, or MAP_FAILED) with errno == want. */
#define tap_errno(expr, want, ...)                                           \
	({                                                                   \
		errno = 0;                                                   \
		long tap_r_ = (long)(expr);                                  \
		int tap_e_ = errno, tap_w_ = (want);                         \
		int tap_k_ = tap_ok(tap_r_ == -1 && tap_e_ == tap_w_, __VA_ARGS__); \
		if (!tap_k_)                                                 \
			tap_diag("  got %ld errno %d (%s), want -1 errno %d (%s)", \
				 tap_r_, tap_r_ == -1 ? tap_e_ : 0,           \
				 tap_r_ == -1 ? strerror(tap_e_) : "-",       \
				 tap_w_, strerror(tap_w_));                   \
		tap_k_;                                                      \
	})

/* expr must succeed (not -1); shows errno otherwise. Yields the result. */
#define tap_call(expr, ...)                                                  \
	({                                                                   \
		errno = 0;                                                   \
		long tap_r_ = (long)(expr);                                  \
		int tap_e_ = errno;                                          \
		if (!tap_ok(tap_r_ != -1, __VA_ARGS__))                      \
			tap_diag("  failed: errno %d (%s)", tap_e_, strerror(tap_e_)); \
		tap_r_;                                                      \
	})

/* Stop on a failed precondition: later checks would be meaningless. */
#define tap_require(cond, ...)                                               \
	do {                                                                 \
		int tap_c_ = !!(cond), tap_se_ = errno;                      \
		if (!tap_ok(tap_c_, __VA_ARGS__)) {                          \
			tap_diag("  errno %d (%s); required check failed, bailing out", \
				 tap_se_, strerror(tap_se_));                 \
			if (tap_is_child)                                    \
				_exit(1);                                    \
			tap_flush();                                         \
			printf("Bail out!\n");                               \
			exit(1);                                             \
		}                                                            \
	} while (0)

/* fork(); the child records instead of printing and dies after timeout_s. */
static inline pid_t tap_fork(unsigned int timeout_s)
{
	pid_t pid;

	tap_init(0);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		tap_is_child = 1;
		tap_failed = 0;
		alarm(timeout_s);
	}
	return pid;
}

/* Child side: exit 0 iff every check in this child passed. */
static inline void tap_child_exit(void)
{
	_exit(tap_failed ? 1 : 0);
}

static inline long long tap_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/*
 * Reap a child within timeout_ms (SIGKILL it otherwise), print what it
 * recorded, and check it exited 0. Returns the raw wait status.
 */
static inline int tap_wait(pid_t pid, int timeout_ms, const char *what)
{
	long long deadline = tap_now_ns() + timeout_ms * 1000000LL;
	int status = 0, killed = 0;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid || (r < 0 && errno != EINTR))
			break;
		if (!killed && tap_now_ns() > deadline) {
			kill(pid, SIGKILL);
			killed = 1;
		}
		usleep(1000);
	}
	tap_flush();
	if (r != pid) {
		tap_ok(0, "child %s reaped", what);
		tap_diag("  waitpid: %s", strerror(errno));
		return -1;
	}
	if (!tap_ok(!killed && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "child %s finished cleanly", what)) {
		if (killed)
			tap_diag("  timed out after %d ms, killed", timeout_ms);
		else if (WIFSIGNALED(status))
			tap_diag("  killed by signal %d", WTERMSIG(status));
		else
			tap_diag("  exit status %d", WEXITSTATUS(status));
	}
	return status;
}

static inline int tap_done(void)
{
	tap_flush();
	if (tap_planned < 0)
		printf("1..%d\n", tap_n);
	else if (tap_n != tap_planned)
		printf("# planned %d tests but ran %d\n", tap_planned, tap_n);
	if (tap_failed)
		printf("# %d of %d checks failed\n", tap_failed, tap_n);
	fflush(stdout);
	return tap_failed || (tap_planned >= 0 && tap_n != tap_planned) ? 1 : 0;
}

#endif
