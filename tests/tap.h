/* SPDX-License-Identifier: MIT */
/*
 * Minimal TAP producer for floe's C tests (TAP 13 / KTAP conventions):
 * plan, "ok N - what" / "not ok N - what", diagnostics behind '#'.
 * A test program exits non-zero when any check failed or the plan was not
 * met, so the runner needs nothing but the exit code and the text.
 */
#ifndef FLOE_TESTS_TAP_H
#define FLOE_TESTS_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_planned, tap_run, tap_failed;

static inline void tap_plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

static inline int tap_ok(int cond, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_run++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

static inline void tap_diag(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* Compare two integers and show both on failure. */
#define tap_eq(got, want, ...)                                              \
	({                                                                  \
		long long tap_g_ = (long long)(got), tap_w_ = (long long)(want); \
		int tap_r_ = tap_ok(tap_g_ == tap_w_, __VA_ARGS__);         \
		if (!tap_r_)                                                \
			tap_diag("  got %lld, want %lld", tap_g_, tap_w_);  \
		tap_r_;                                                     \
	})

/* Stop on a failed precondition: later checks would be meaningless. */
#define tap_require(cond, ...)                                              \
	do {                                                                \
		if (!tap_ok((cond), __VA_ARGS__)) {                         \
			tap_diag("  required check failed, bailing out");   \
			exit(1);                                            \
		}                                                           \
	} while (0)

static inline int tap_done(void)
{
	if (tap_run != tap_planned) {
		tap_diag("planned %d tests but ran %d", tap_planned, tap_run);
		return 1;
	}
	return tap_failed ? 1 : 0;
}

#endif
