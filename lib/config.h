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
 *   [global]            backend = auto|kmod|shm, domain = NAME
 *   [pubsub]            QoS defaults of each pattern's services: those the
 *   [event]             floe tool creates, and those a program creates
 *   [request_response]  with floe_*_qos_init_from_config()
 *   [blackboard]
 *
 * Every key is in floe_config_keys (with its range and a line of help),
 * which the floe tool's config verbs walk.
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

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "floe.h"
#include "names.h"

#define FLOE_CONFIG_SYSTEM_FILE "/etc/floe/floe.conf"
/* entries of floe_config_keys */
#define FLOE_CONFIG_KEYS 24
/* files a load reads at most: the system's and the user's */
#define FLOE_CONFIG_FILES 2

/* Where a key's value came from: a file (1 + index in files) and line,
 * or file 0: the default. */
struct floe_config_origin {
	uint32_t file;
	uint32_t line;
};

struct floe_config {
	/** FLOE_BACKEND_AUTO when no file chose one */
	enum floe_backend_kind backend;
	/** "" when no file chose one */
	char domain[FLOE_DOMAIN_MAX + 1];
	/** each pattern's floe_*_qos_init(), then what the files say */
	struct floe_pubsub_qos pubsub;
	struct floe_event_qos event;
	struct floe_rr_qos rr;
	struct floe_blackboard_qos blackboard;
	/** the files read, in order, and where each key was set */
	char files[FLOE_CONFIG_FILES][PATH_MAX];
	uint32_t nfiles;
	struct floe_config_origin origin[FLOE_CONFIG_KEYS];
};

enum floe_config_kind {
	FLOE_CONFIG_BACKEND,
	FLOE_CONFIG_DOMAIN,
	FLOE_CONFIG_U32,
	FLOE_CONFIG_BOOL,
};

struct floe_config_key {
	const char *section;
	const char *name;
	enum floe_config_kind kind;
	size_t offset; /* of the value in struct floe_config */
	uint32_t min, max; /* FLOE_CONFIG_U32 */
	const char *help;
};

extern const struct floe_config_key floe_config_keys[FLOE_CONFIG_KEYS];

/** Defaults only: what a load starts from. */
void floe_config_init(struct floe_config *cfg);

/**
 * Read the configuration files into @cfg. On failure returns a negative
 * floe error and, if @err is not NULL, writes the reason to @err.
 */
int floe_config_load(struct floe_config *cfg, char *err, size_t errlen);

/** Read only the file @path (which must exist) over the defaults. */
int floe_config_load_file(struct floe_config *cfg, const char *path,
			  char *err, size_t errlen);

/** @key's value in @cfg as the files spell it. */
void floe_config_value(const struct floe_config *cfg,
		       const struct floe_config_key *key, char *buf,
		       size_t size);

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
