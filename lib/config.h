/* SPDX-License-Identifier: MIT */
/*
 * Configuration files (INI, parsed with inih):
 *
 *   /etc/floe/floe.conf                      system
 *   $XDG_CONFIG_HOME/floe/floe.conf          user (else ~/.config/floe/...),
 *                                            overrides the system file key
 *                                            by key
 *   $FLOE_CONFIG                             if set, the only file read; it
 *                                            must exist
 *
 *   [global]  backend = auto|kmod|shm, domain = NAME
 *   [pubsub]  the fields of struct floe_pubsub_qos except user_header_size:
 *             defaults for services the floe tool creates
 *
 * Missing system and user files are fine; anything else wrong (unreadable
 * file, syntax error, unknown section or key, bad value) is an error with a
 * "<file>:<line>: <reason>" message. Nothing is cached: every load reads
 * the files again, so there is no global state.
 *
 * Private to the library and the floe tool (which links the static library).
 */
#ifndef FLOE_CONFIG_H
#define FLOE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "floe.h"
#include "names.h"

#define FLOE_CONFIG_SYSTEM_FILE "/etc/floe/floe.conf"

struct floe_config {
	/** FLOE_BACKEND_AUTO when no file chose one */
	enum floe_backend_kind backend;
	/** "" when no file chose one */
	char domain[FLOE_DOMAIN_MAX + 1];
	/** floe_pubsub_qos_init(), then what the files say */
	struct floe_pubsub_qos pubsub;
};

/**
 * Read the configuration files into @cfg. On failure returns a negative
 * floe error and, if @err is not NULL, writes the reason to @err.
 */
int floe_config_load(struct floe_config *cfg, char *err, size_t errlen);

/**
 * Fill in what a node was not told: @kind stays unless it is AUTO and
 * $FLOE_BACKEND is unset (the backend honours it), @domain unless it is
 * NULL or empty. @domain may then point into @cfg.
 */
void floe_config_apply(const struct floe_config *cfg,
		       enum floe_backend_kind *kind, const char **domain);

/** "auto", "kmod" or "shm" to a backend kind; false for anything else. */
bool floe_backend_parse(const char *text, enum floe_backend_kind *out);

#endif
