// SPDX-License-Identifier: MIT
/* The gateway's diagnostics: one line each on stderr, with the UTC time. */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "gateway.h"

uint64_t gw_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void vlog(const char *fmt, va_list ap)
{
	struct timespec ts;
	char line[1024];
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	vsnprintf(line, sizeof(line), fmt, ap);
	/* one write per line: the threads' lines do not interleave */
	fprintf(stderr, "floe-gateway: %02d:%02d:%02d.%03ld %s\n", tm.tm_hour,
		tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, line);
}

void gw_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void gw_log_limited(struct gw_ratelimit *rl, const char *fmt, ...)
{
	uint64_t now = gw_now_ms();
	va_list ap;

	if (now - rl->window_ms >= 1000) {
		if (rl->suppressed)
			gw_log("(%llu similar messages suppressed)",
			       (unsigned long long)rl->suppressed);
		rl->window_ms = now;
		rl->lines = 0;
		rl->suppressed = 0;
	}
	if (rl->lines >= GW_LOG_BURST) {
		rl->suppressed++;
		return;
	}
	rl->lines++;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}
