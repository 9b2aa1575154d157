// SPDX-License-Identifier: MIT
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "internal.h"

int floe_fd_errno(int err)
{
	switch (err) {
	case EMFILE:
	case ENFILE:
		return FLOE_E_FD_LIMIT;
	case ENOMEM:
	case ENOBUFS:
		return FLOE_E_NOMEM;
	default:
		return FLOE_E_SYSTEM;
	}
}

void floe_misuse(const char *fn, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "floe: %s: ", fn);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

uint64_t floe_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t floe_coarse_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

bool floe_deadline_after(uint64_t timeout_ns, struct timespec *out)
{
	uint64_t ns;

	clock_gettime(CLOCK_MONOTONIC, out);
	/* Saturate: a timeout of centuries is forever. */
	if (timeout_ns / 1000000000ULL >
	    (uint64_t)(INT64_MAX / 2) - (uint64_t)out->tv_sec)
		return false;
	ns = (uint64_t)out->tv_nsec + timeout_ns % 1000000000ULL;
	out->tv_sec += (time_t)(timeout_ns / 1000000000ULL +
				ns / 1000000000ULL);
	out->tv_nsec = (long)(ns % 1000000000ULL);
	return true;
}

static bool before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

int floe_deadline_ms(const struct timespec *deadline)
{
	struct timespec now;
	int64_t ns;

	if (!deadline)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (int64_t)(deadline->tv_sec - now.tv_sec) * 1000000000LL +
	     (deadline->tv_nsec - now.tv_nsec);
	if (ns <= 0)
		return 0;
	return ns / 1000000 >= INT_MAX ? INT_MAX : (int)((ns + 999999) / 1000000);
}

bool floe_deadline_passed(const struct timespec *deadline)
{
	struct timespec now;

	if (!deadline)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return !before(&now, deadline);
}

void floe_deadline_min(const struct timespec *deadline, uint64_t ns,
		       struct timespec *out)
{
	floe_deadline_after(ns, out);
	if (deadline && before(deadline, out))
		*out = *deadline;
}

void floe_backoff(uint32_t round)
{
	if (round < 64) {
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#else
		atomic_signal_fence(memory_order_seq_cst);
#endif
	} else if (round < 256) {
		sched_yield();
	} else {
		struct timespec ts = { 0, round < 1024 ? 10000 : 200000 };

		nanosleep(&ts, NULL);
	}
}
