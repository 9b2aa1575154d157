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
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "layout.h"

/* What floe_node_create reports for a bad configuration file. */
#define CONFIG_ERROR FLOE_E_CONFIG
/* A file longer than this is no configuration (/dev/zero never ends). */
#define CONFIG_MAX_LINES 10000

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
	if (++ctx->line > CONFIG_MAX_LINES) {
		note_error(ctx, "more than %d lines", CONFIG_MAX_LINES);
		return NULL;
	}
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

#define KEY(sec, field, kind_, lo, hi, text)                                \
	{ .section = sec, .name = #field, .kind = kind_,                      \
	  .offset = offsetof(struct floe_config, field), .min = lo, .max = hi, \
	  .help = text }
#define U32(sec, member, field, lo, hi, text)                               \
	{ .section = sec, .name = #field, .kind = FLOE_CONFIG_U32,            \
	  .offset = offsetof(struct floe_config, member.field), .min = lo,    \
	  .max = hi, .help = text }
#define BOOL(sec, member, field, text)                                      \
	{ .section = sec, .name = #field, .kind = FLOE_CONFIG_BOOL,           \
	  .offset = offsetof(struct floe_config, member.field), .help = text }

/* Every key, by section, with the ranges the service layouts accept. */
const struct floe_config_key floe_config_keys[] = {
	KEY("global", backend, FLOE_CONFIG_BACKEND, 0, 0,
	    "auto (the module if usable, else shm), kmod or shm"),
	KEY("global", domain, FLOE_CONFIG_DOMAIN, 0, 0,
	    "1 to 16 of A-Z a-z 0-9 _ - (empty: \"floe\")"),
	U32("pubsub", pubsub, max_publishers, 1, FLOE_LIMIT_PORTS,
	    "publishers a service admits"),
	U32("pubsub", pubsub, max_subscribers, 1, FLOE_LIMIT_PORTS,
	    "subscribers a service admits"),
	U32("pubsub", pubsub, max_nodes, 1, FLOE_LIMIT_NODES,
	    "nodes that may open a service"),
	U32("pubsub", pubsub, subscriber_max_buffer_size, 1, FLOE_LIMIT_QUEUE,
	    "samples a subscriber's queue holds per publisher"),
	U32("pubsub", pubsub, subscriber_max_borrowed_samples, 1,
	    FLOE_LIMIT_QUEUE, "samples a subscriber may hold at once"),
	U32("pubsub", pubsub, history_size, 0, FLOE_LIMIT_QUEUE,
	    "last samples re-sent to a subscriber that joins late"),
	U32("pubsub", pubsub, publisher_max_loaned_samples, 1,
	    FLOE_LIMIT_QUEUE, "samples a publisher may have loaned"),
	BOOL("pubsub", pubsub, enable_safe_overflow,
	     "a full queue drops its oldest sample (else the publisher's "
	     "strategy)"),
	U32("event", event, max_notifiers, 1, FLOE_LIMIT_PORTS,
	    "notifiers a service admits"),
	U32("event", event, max_listeners, 1, FLOE_LIMIT_PORTS,
	    "listeners a service admits"),
	U32("event", event, max_nodes, 1, FLOE_LIMIT_NODES,
	    "nodes that may open a service"),
	U32("event", event, event_id_max, 0, FLOE_LIMIT_EVENT_ID,
	    "largest event id"),
	U32("request_response", rr, max_clients, 1, FLOE_LIMIT_PORTS,
	    "clients a service admits"),
	U32("request_response", rr, max_servers, 1, FLOE_LIMIT_PORTS,
	    "servers a service admits"),
	U32("request_response", rr, max_nodes, 1, FLOE_LIMIT_NODES,
	    "nodes that may open a service"),
	U32("request_response", rr, max_active_requests_per_client, 1,
	    FLOE_LIMIT_QUEUE, "requests of a client whose streams go on"),
	U32("request_response", rr, max_loaned_requests, 1, FLOE_LIMIT_QUEUE,
	    "requests a client may have loaned"),
	U32("request_response", rr, max_response_buffer_size, 1,
	    FLOE_LIMIT_QUEUE, "responses queued per client and server"),
	U32("request_response", rr, max_loaned_responses, 1, FLOE_LIMIT_QUEUE,
	    "responses a server may have loaned"),
	BOOL("request_response", rr, enable_fire_and_forget,
	     "allow requests that expect no response"),
	U32("blackboard", blackboard, max_readers, 1, FLOE_LIMIT_PORTS,
	    "readers a blackboard admits"),
	U32("blackboard", blackboard, max_nodes, 1, FLOE_LIMIT_NODES,
	    "nodes that may open a blackboard"),
};

#undef KEY
#undef U32
#undef BOOL

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

/* Set @key from @value; 1, or 0 with the reason noted. */
static int set_key(struct parse_ctx *ctx, const struct floe_config_key *key,
		   const char *value)
{
	void *field = (char *)ctx->cfg + key->offset;
	unsigned long long n;
	char *end;

	switch (key->kind) {
	case FLOE_CONFIG_BACKEND:
		if (floe_backend_parse(value, field))
			return 1;
		note_error(ctx, "backend must be auto, kmod or shm, not '%s'",
			   value);
		return 0;
	case FLOE_CONFIG_DOMAIN:
		if (floe_domain_valid(value)) {
			snprintf(field, FLOE_DOMAIN_MAX + 1, "%s", value);
			return 1;
		}
		note_error(ctx,
			   "domain '%s' is not 1..%d of A-Z a-z 0-9 _ -",
			   value, FLOE_DOMAIN_MAX);
		return 0;
	case FLOE_CONFIG_BOOL:
		if (parse_bool(value, field))
			return 1;
		note_error(ctx, "%s must be true or false, not '%s'", key->name,
			   value);
		return 0;
	case FLOE_CONFIG_U32:
		errno = 0;
		n = strtoull(value, &end, 10);
		/* strtoull accepts a sign: digits only */
		if (value[0] < '0' || value[0] > '9' || *end || errno ||
		    n < key->min || n > key->max) {
			note_error(ctx, "%s must be a number from %u to %u, "
					"not '%s'", key->name, key->min,
				   key->max, value);
			return 0;
		}
		*(uint32_t *)field = (uint32_t)n;
		return 1;
	}
	return 0;
}

static bool section_known(const char *section)
{
	for (size_t i = 0; i < FLOE_CONFIG_KEYS; i++)
		if (!strcmp(floe_config_keys[i].section, section))
			return true;
	return false;
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
	if (!*section) {
		note_error(ctx, "'%s' is outside a section ([global], "
				"[pubsub], ...)", key);
		return 0;
	}
	if (!section_known(section)) {
		note_error(ctx, "unknown section [%s]", section);
		return 0;
	}
	for (size_t i = 0; i < FLOE_CONFIG_KEYS; i++) {
		const struct floe_config_key *k = &floe_config_keys[i];

		if (strcmp(k->section, section) || strcmp(k->name, key))
			continue;
		if (!set_key(ctx, k, value))
			return 0;
		ctx->cfg->origin[i] = (struct floe_config_origin){
			.file = ctx->cfg->nfiles, .line = (uint32_t)ctx->line
		};
		return 1;
	}
	note_error(ctx, "unknown key '%s' in [%s]", key, section);
	return 0;
}

/*
 * Open @path for reading, refusing what would block instead of reading
 * like a file (a FIFO without a writer, a socket): 0, -EPIPE for those,
 * or -errno (-ENOENT also for a missing directory on the way). Devices
 * are fine: FLOE_CONFIG=/dev/null is the documented way to read nothing.
 */
static int open_config(const char *path, FILE **out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), err;
	struct stat st;

	if (fd < 0)
		return errno == ENOTDIR ? -ENOENT : -errno;
	if (fstat(fd, &st))
		goto fail;
	if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) ||
	    S_ISDIR(st.st_mode)) {
		close(fd);
		return S_ISDIR(st.st_mode) ? -EISDIR : -EPIPE;
	}
	/* reads block as usual (a terminal's /dev/stdin waits for input) */
	if (fcntl(fd, F_SETFL, 0) < 0)
		goto fail;
	*out = fdopen(fd, "r");
	if (*out)
		return 0;
fail:
	err = errno;
	close(fd);
	return -err;
}

static int parse_file(struct floe_config *cfg, const char *path,
		      bool must_exist, char *err, size_t errlen)
{
	struct parse_ctx ctx = { .cfg = cfg, .path = path };
	int bad_line, read_error, ret;

	ret = open_config(path, &ctx.file);
	if (ret == -ENOENT && !must_exist)
		return 0;
	if (ret == -EPIPE) {
		report(err, errlen, "%s: a FIFO or socket, not a file", path);
		return CONFIG_ERROR;
	}
	if (ret) {
		errno = -ret;
		report(err, errlen, "%s: %m", path);
		/* the file may be fine: this process cannot open any */
		return ret == -EMFILE || ret == -ENFILE ? FLOE_E_FD_LIMIT
							: CONFIG_ERROR;
	}
	/* origins name the file by its place among those read */
	snprintf(cfg->files[cfg->nfiles], sizeof(cfg->files[0]), "%s", path);
	cfg->nfiles++;
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

void floe_config_init(struct floe_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	floe_pubsub_qos_init(&cfg->pubsub);
	floe_event_qos_init(&cfg->event);
	floe_rr_qos_init(&cfg->rr);
	floe_blackboard_qos_init(&cfg->blackboard);
}

int floe_config_load_file(struct floe_config *cfg, const char *path,
			  char *err, size_t errlen)
{
	floe_config_init(cfg);
	return parse_file(cfg, path, true, err, errlen);
}

int floe_config_load(struct floe_config *cfg, char *err, size_t errlen)
{
	const char *only = getenv("FLOE_CONFIG");
	char path[PATH_MAX];
	int ret;

	if (only && *only)
		return floe_config_load_file(cfg, only, err, errlen);
	floe_config_init(cfg);
	ret = parse_file(cfg, FLOE_CONFIG_SYSTEM_FILE, false, err, errlen);
	if (!ret && user_file(path, sizeof(path)))
		ret = parse_file(cfg, path, false, err, errlen);
	return ret;
}

void floe_config_value(const struct floe_config *cfg,
		       const struct floe_config_key *key, char *buf,
		       size_t size)
{
	const void *field = (const char *)cfg + key->offset;

	switch (key->kind) {
	case FLOE_CONFIG_BACKEND:
		snprintf(buf, size, "%s", floe_backend_name(
			*(const enum floe_backend_kind *)field));
		break;
	case FLOE_CONFIG_DOMAIN:
		snprintf(buf, size, "%s", (const char *)field);
		break;
	case FLOE_CONFIG_BOOL:
		snprintf(buf, size, "%s", *(const bool *)field ? "true"
								: "false");
		break;
	case FLOE_CONFIG_U32:
		snprintf(buf, size, "%u", *(const uint32_t *)field);
		break;
	}
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
