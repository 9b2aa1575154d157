/* SPDX-License-Identifier: MIT */
/*
 * The library's messages (public side: floe_set_log in floe.h). Only for
 * slow paths — a death, a quarantine, a refusal, a fallback — never per
 * message: floe_log formats only when the level lets the message through.
 */
#ifndef FLOE_BASE_LOG_H
#define FLOE_BASE_LOG_H

#include <stdbool.h>

#include "floe.h"

/** Would a message of @level be delivered now? */
bool floe_log_enabled(enum floe_log_level level);

/** Format and deliver one message (no trailing newline) if enabled. */
void floe_log(enum floe_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
