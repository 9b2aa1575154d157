// SPDX-License-Identifier: MIT
/*
 * Configuration files: see config.h for where they are and what they hold.
 *
 * inih reports only the line of the first error, not why; so the handler
 * and the line reader note the first reason they find themselves, and a
 * line inih rejected before any noted reason is a syntax error.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "layout.h"

/* What floe_node_create reports for a bad configuration file. */
#define CONFIG_ERROR FLOE_E_CONFIG

struct parse_ctx {
	struct floe_config *cfg;
	FILE *file;
	const char *path;
	/* lines handed to inih so far: inih's own line numbering */
	int line;
	/* the current line is indented, and a key came earlier in its
	 * section: inih takes such a line as the key's value continued */
	bool indented, section_has_key;
	/* the first error noted by the reader or the handler (0: none) */
	int error_line;
	char reason[160];
};

static void note_error(struct parse_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note_error(struct parse_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (ctx->error_line)
		return;
	ctx->error_line = ctx->line;
	va_start(ap, fmt);
	vsnprintf(ctx->reason, sizeof(ctx->reason), fmt, ap);
	va_end(ap);
}

static void report(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void report(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * fgets for inih that counts lines. A line longer than inih's buffer would
 * reach it in pieces, each parsed as a line of its own: refuse it instead.
 * Physical and inih line numbers agree up to the first such line, and no
 * error after it is ever reported.
 */
static char *read_line(char *buf, int size, void *stream)
{
	struct parse_ctx *ctx = stream;
	const char *text = buf;
	size_t n;

	if (!fgets(buf, size, ctx->file))
		return NULL;
	ctx->line++;
	n = strlen(buf);
	if (n && buf[n - 1] != '\n' && !feof(ctx->file))
		note_error(ctx, "line longer than %d characters", size - 3);
	while (*text == ' ' || *text == '\t')
		text++;
	ctx->indented = text != buf;
	if (*text == '[')
		ctx->section_has_key = false;
	return buf;
}

bool floe_backend_parse(const char *text, enum floe_backend_kind *out)
{
	static const enum floe_backend_kind kinds[] = {
		FLOE_BACKEND_AUTO, FLOE_BACKEND_KMOD, FLOE_BACKEND_SHM
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (!strcmp(text, floe_backend_name(kinds[i]))) {
			*out = kinds[i];
			return true;
		}
	}
	return false;
}

static int global_key(struct parse_ctx *ctx, const char *key,
		      const char *value)
{
	struct floe_config *cfg = ctx->cfg;

	if (!strcmp(key, "backend")) {
		if (floe_backend_parse(value, &cfg->backend))
			return 1;
		note_error(ctx, "backend must be auto, kmod or shm, not '%s'",
			   value);
		return 0;
	}
	if (!strcmp(key, "domain")) {
		if (floe_domain_valid(value)) {
			snprintf(cfg->domain, sizeof(cfg->domain), "%s", value);
			return 1;
		}
		note_error(ctx,
			   "domain '%s' is not 1..%d of A-Z a-z 0-9 _ -",
			   value, FLOE_DOMAIN_MAX);
		return 0;
	}
	note_error(ctx, "unknown key '%s' in [global]", key);
	return 0;
}

/* The [pubsub] counts, with the ranges the service layout accepts. */
static const struct qos_key {
	const char *name;
	size_t offset; /* of a uint32_t in struct floe_pubsub_qos */
	uint32_t min, max;
} qos_keys[] = {
#define QOS_KEY(field, lo, hi) \
	{ #field, offsetof(struct floe_pubsub_qos, field), lo, hi }
	QOS_KEY(max_publishers, 1, FLOE_LIMIT_PORTS),
	QOS_KEY(max_subscribers, 1, FLOE_LIMIT_PORTS),
	QOS_KEY(max_nodes, 1, FLOE_LIMIT_NODES),
	QOS_KEY(subscriber_max_buffer_size, 1, FLOE_LIMIT_QUEUE),
	QOS_KEY(subscriber_max_borrowed_samples, 1, FLOE_LIMIT_QUEUE),
	QOS_KEY(history_size, 0, FLOE_LIMIT_QUEUE),
	QOS_KEY(publisher_max_loaned_samples, 1, FLOE_LIMIT_QUEUE),
#undef QOS_KEY
};

static bool parse_bool(const char *text, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcmp(text, yes[i]) || !strcmp(text, no[i])) {
			*out = !strcmp(text, yes[i]);
			return true;
		}
	}
	return false;
}

static int pubsub_key(struct parse_ctx *ctx, const char *key,
		      const char *value)
{
	struct floe_pubsub_qos *qos = &ctx->cfg->pubsub;

	if (!strcmp(key, "enable_safe_overflow")) {
		if (parse_bool(value, &qos->enable_safe_overflow))
			return 1;
		note_error(ctx, "enable_safe_overflow must be true or false, "
				"not '%s'", value);
		return 0;
	}
	for (size_t i = 0; i < sizeof(qos_keys) / sizeof(qos_keys[0]); i++) {
		const struct qos_key *k = &qos_keys[i];
		unsigned long long n;
		char *end;

		if (strcmp(key, k->name))
			continue;
		errno = 0;
		n = strtoull(value, &end, 10);
		/* strtoull accepts a sign: digits only */
		if (value[0] < '0' || value[0] > '9' || *end || errno ||
		    n < k->min || n > k->max) {
			note_error(ctx, "%s must be a number from %u to %u, "
					"not '%s'", key, k->min, k->max, value);
			return 0;
		}
		*(uint32_t *)((char *)qos + k->offset) = (uint32_t)n;
		return 1;
	}
	note_error(ctx, "unknown key '%s' in [pubsub]", key);
	return 0;
}

static int handle_pair(void *user, const char *section, const char *key,
		       const char *value)
{
	struct parse_ctx *ctx = user;

	/* a value over several lines is more likely a mistake than meant */
	if (ctx->indented && ctx->section_has_key) {
		note_error(ctx, "indented line: values cannot continue on "
				"the next line");
		return 0;
	}
	ctx->section_has_key = true;
	if (!strcmp(section, "global"))
		return global_key(ctx, key, value);
	if (!strcmp(section, "pubsub"))
		return pubsub_key(ctx, key, value);
	if (!*section)
		note_error(ctx, "'%s' is outside a section ([global] or "
				"[pubsub])", key);
	else
		note_error(ctx, "unknown section [%s]", section);
	return 0;
}

static int parse_file(struct floe_config *cfg, const char *path,
		      bool must_exist, char *err, size_t errlen)
{
	struct parse_ctx ctx = { .cfg = cfg, .path = path };
	int bad_line, read_error;

	ctx.file = fopen(path, "re");
	if (!ctx.file) {
		if (!must_exist && (errno == ENOENT || errno == ENOTDIR))
			return 0;
		report(err, errlen, "%s: %m", path);
		/* the file may be fine: this process cannot open any */
		return errno == EMFILE || errno == ENFILE ? FLOE_E_FD_LIMIT
							  : CONFIG_ERROR;
	}
	bad_line = ini_parse_stream(read_line, &ctx, handle_pair, &ctx);
	read_error = ferror(ctx.file);
	fclose(ctx.file);
	if (ctx.error_line && (bad_line <= 0 || ctx.error_line <= bad_line)) {
		report(err, errlen, "%s:%d: %s", path, ctx.error_line,
		       ctx.reason);
		return CONFIG_ERROR;
	}
	if (bad_line > 0) {
		report(err, errlen,
		       "%s:%d: syntax error (expected [section] or key = value)",
		       path, bad_line);
		return CONFIG_ERROR;
	}
	if (bad_line < 0 || read_error) {
		report(err, errlen, "%s: cannot read the file", path);
		return CONFIG_ERROR;
	}
	return 0;
}

/* $XDG_CONFIG_HOME/floe/floe.conf, else ~/.config/floe/floe.conf. */
static bool user_file(char *path, size_t size)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	int n;

	/* the XDG spec says to ignore a relative XDG_CONFIG_HOME */
	if (xdg && xdg[0] == '/')
		n = snprintf(path, size, "%s/floe/floe.conf", xdg);
	else if (home && *home)
		n = snprintf(path, size, "%s/.config/floe/floe.conf", home);
	else
		return false;
	return n > 0 && (size_t)n < size;
}

int floe_config_load(struct floe_config *cfg, char *err, size_t errlen)
{
	const char *only = getenv("FLOE_CONFIG");
	char path[PATH_MAX];
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	floe_pubsub_qos_init(&cfg->pubsub);
	if (only && *only)
		return parse_file(cfg, only, true, err, errlen);
	ret = parse_file(cfg, FLOE_CONFIG_SYSTEM_FILE, false, err, errlen);
	if (!ret && user_file(path, sizeof(path)))
		ret = parse_file(cfg, path, false, err, errlen);
	return ret;
}

void floe_config_apply(const struct floe_config *cfg,
		       enum floe_backend_kind *kind, const char **domain)
{
	const char *env_backend = getenv("FLOE_BACKEND");

	if (*kind == FLOE_BACKEND_AUTO && !(env_backend && *env_backend))
		*kind = cfg->backend;
	if ((!*domain || !**domain) && cfg->domain[0])
		*domain = cfg->domain;
}
