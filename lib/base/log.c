// SPDX-License-Identifier: MIT
/*
 * The process-wide log sink: the one piece of global state the library
 * keeps, as a C library keeps its stderr, since a message may come from a
 * place no handle leads back from (a backend fallback, a reclaimer).
 *
 * The level is one atomic word. The callback and its context are a pair
 * that must be read together: a sequence lock (odd while a writer
 * changes it) lets readers take a consistent copy without a mutex, so a
 * message may be logged from any thread, or a signal handler's thread,
 * without blocking.
 */
#include "base/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* Longest message delivered; longer ones are cut. */
#define LOG_MESSAGE_MAX 512
/* No level set by floe_set_log: FLOE_LOG_LEVEL decides, else warnings. */
#define LEVEL_UNSET (-1)

static _Atomic int log_level = LEVEL_UNSET;
static _Atomic unsigned sink_seq;
static _Atomic(floe_log_fn) sink_fn;
static _Atomic(void *) sink_ctx;

static const char *const level_names[] = {
	[FLOE_LOG_OFF] = "off",	  [FLOE_LOG_ERROR] = "error",
	[FLOE_LOG_WARN] = "warn", [FLOE_LOG_INFO] = "info",
	[FLOE_LOG_DEBUG] = "debug",
};

FLOE_EXPORT const char *floe_log_level_name(enum floe_log_level level)
{
	return (unsigned)level <= FLOE_LOG_DEBUG ? level_names[level] : NULL;
}

FLOE_EXPORT int floe_log_level_parse(const char *text,
				     enum floe_log_level *out)
{
	if (!text || !out)
		return FLOE_E_INVALID;
	for (int l = FLOE_LOG_OFF; l <= FLOE_LOG_DEBUG; l++) {
		if (!strcmp(text, level_names[l])) {
			*out = (enum floe_log_level)l;
			return 0;
		}
	}
	return FLOE_E_INVALID;
}

FLOE_EXPORT enum floe_log_level floe_log_get_level(void)
{
	int level = atomic_load_explicit(&log_level, memory_order_relaxed);
	enum floe_log_level from_env;

	if (level != LEVEL_UNSET)
		return (enum floe_log_level)level;
	/* read each time: messages are rare, and this keeps no cache */
	if (!floe_log_level_parse(getenv("FLOE_LOG_LEVEL"), &from_env))
		return from_env;
	return FLOE_LOG_WARN;
}

FLOE_EXPORT int floe_set_log(enum floe_log_level level, floe_log_fn fn,
			     void *ctx)
{
	unsigned seq;

	if ((unsigned)level > FLOE_LOG_DEBUG)
		return FLOE_E_INVALID;
	/* writers take turns: make the sequence odd from an even value */
	seq = atomic_load(&sink_seq);
	do {
		while (seq & 1)
			seq = atomic_load(&sink_seq);
	} while (!atomic_compare_exchange_weak(&sink_seq, &seq, seq + 1));
	atomic_store_explicit(&sink_fn, fn, memory_order_relaxed);
	atomic_store_explicit(&sink_ctx, ctx, memory_order_relaxed);
	atomic_store_explicit(&log_level, (int)level, memory_order_relaxed);
	atomic_store_explicit(&sink_seq, seq + 2, memory_order_release);
	return 0;
}

bool floe_log_enabled(enum floe_log_level level)
{
	return level != FLOE_LOG_OFF && level <= floe_log_get_level();
}

/* The default sink: one write(2) per line, so that lines of threads and
 * processes sharing stderr do not interleave. */
static void log_to_stderr(enum floe_log_level level, const char *message)
{
	char line[LOG_MESSAGE_MAX + 64];
	int n = snprintf(line, sizeof(line), "floe[%d]: %s: %s\n", (int)getpid(),
			 level_names[level], message);

	if (n > (int)sizeof(line) - 1) {
		n = (int)sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	if (n > 0 && write(STDERR_FILENO, line, (size_t)n) < 0)
		return; /* nowhere left to say it */
}

void floe_log(enum floe_log_level level, const char *fmt, ...)
{
	char message[LOG_MESSAGE_MAX];
	floe_log_fn fn;
	void *ctx;
	unsigned seq;
	va_list ap;

	if (!floe_log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	do {
		seq = atomic_load_explicit(&sink_seq, memory_order_acquire);
		fn = atomic_load_explicit(&sink_fn, memory_order_relaxed);
		ctx = atomic_load_explicit(&sink_ctx, memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
	} while ((seq & 1) ||
		 seq != atomic_load_explicit(&sink_seq, memory_order_relaxed));
	if (fn)
		fn(level, message, ctx);
	else
		log_to_stderr(level, message);
}
