/* SPDX-License-Identifier: MIT */
/*
 * The floe command-line tool: what its source files share.
 *
 * floe.c parses the command line and runs one verb; every verb builds its
 * result as json-c objects, which output.c prints either as JSON (--json) or
 * as aligned text, so both forms always carry the same data.
 */
#ifndef FLOE_TOOL_CLI_H
#define FLOE_TOOL_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "config.h" /* the one library-internal header: config files */
#include "floe.h"

/* Exit statuses (documented in docs/floe.1). */
enum cli_exit {
	EXIT_OK = 0,
	EXIT_FAIL = 1,         /* the operation failed */
	EXIT_USAGE = 2,        /* bad command line, option value or name */
	EXIT_NOT_FOUND = 3,    /* no such service or node */
	EXIT_TIMEOUT = 4,      /* --timeout passed before --count was reached */
	EXIT_CONFIG = 5,       /* invalid configuration file */
	EXIT_INCOMPATIBLE = 6, /* service has another type, QoS or pattern */
};

struct cli {
	/* global options */
	struct floe_node_opts node_opts;
	bool json;
	/* verb options: each verb reads those it accepts */
	long count;       /* samples or events to wait for; -1: no limit */
	long timeout_ms;  /* -1: none */
	long interval_ms; /* between refreshes or repeated sends; -1: default */
	long linger_ms;   /* publish: connected after the last send; -1: default */
	long iterations;  /* top refreshes; -1: until interrupted */
	struct floe_type type;
	const char *hex;
	const char *output; /* record: the file to write */
	double rate;        /* replay: speed factor of the original timing */
	bool loop;          /* replay: start over at the end */
	const char *file; /* publish: the payload's file, "-": stdin */
	/* publish, subscribe: stored on create, required on open */
	struct floe_attribute attrs[FLOE_MAX_ATTRIBUTES];
	size_t nattrs;
	bool raw;         /* subscribe: payload bytes only */
	/* set up before a verb runs */
	struct floe_config config;
	floe_node *node;
	const char *domain; /* the node's */
	const char *verb_name; /* "node list", "publish", ... for messages */
};

/* Set by SIGINT and SIGTERM: long-running verbs stop cleanly. */
extern volatile sig_atomic_t cli_stop;
/* "floe <version>", for what the tool writes into files. */
extern const char cli_version[];

/* floe.c */
void cli_error(const struct cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Print "floe: <verb>: <what>: <floe_strerror>" and map @err to an exit
 * status. */
int cli_fail(const struct cli *cli, int err, const char *what);
/* Flush standard output; a closed pipe sets cli_stop (SIGPIPE is
 * ignored so that the node is left cleanly). */
void cli_flush(void);
/* Sleep @ms milliseconds unless interrupted; false if cli_stop is set. */
bool cli_sleep_ms(long ms);
uint64_t cli_now_ms(void);
/* Call @wait(@ctx, slice) until *@seen reaches --count, --timeout passes
 * (EXIT_TIMEOUT if --count was given) or a signal comes; slices are short
 * enough to notice signals. @wait returns >= 0 or a floe error (then
 * reported as "@doing"). Returns an exit status. */
int cli_wait_for(struct cli *cli, const char *items, const long *seen,
		 const char *doing, int (*wait)(void *ctx, uint64_t slice_ns),
		 void *ctx);

/* output.c */
struct column {
	const char *header;
	/* member of each row; "a|b" takes the first present */
	const char *key;
};
/* @rows (an array of objects) as a table, or as JSON with --json. */
void print_rows(const struct cli *cli, json_object *rows,
		const struct column *cols, size_t ncols);
/* @rows as an aligned table; with @highlight (a terminal), rows with an
 * "alert" member in bold red. */
void print_table(const char *indent, json_object *rows,
		 const struct column *cols, size_t ncols, bool highlight);
/* An object as "key  value" lines (nested objects indented, arrays of
 * objects as tables), or as JSON with --json. */
void print_object(const struct cli *cli, json_object *obj);
/* One JSON document, pretty (or on one line, for streams). */
void print_json(json_object *obj, bool one_line);
/* @len bytes of @data as lowercase hex pairs separated by @sep (may be
 * ""); NULL if out of memory, else the caller frees. */
char *hex_string(const void *data, size_t len, const char *sep);

/* pubsub.c */
/*
 * Open the publish-subscribe service @name with @type, or create it with
 * the configured [pubsub] QoS and @user_header_size if it does not exist
 * (a non-zero @user_header_size must then match an existing service's).
 * Returns an exit status, the failure reported.
 */
int cli_open_pubsub(struct cli *cli, const char *name,
		    const struct floe_type *type, uint32_t user_header_size,
		    floe_service **svc);
/* How long a sender stays connected after its last sample by default: a
 * subscriber connects to a publisher when it next looks (receive), and
 * samples of a publisher it never saw are lost with it. */
#define DEFAULT_LINGER_MS 200
/* Polling period of a subscriber (subscribe, record) while nothing
 * arrives. */
#define POLL_MS 1

/*
 * record.c / replay.c: a recording is an MCAP file (tools/mcap.h) with a
 * channel per service (topic: the service's name) whose messages are
 * samples: a header of SAMPLE_HEADER_LEN bytes (publisher id and sequence
 * number, little-endian uint64 each), the user header, the payload. The
 * channel's metadata holds the type and the user header's size.
 */
#define SAMPLE_ENCODING "floe"
#define SAMPLE_HEADER_LEN 16
#define META_TYPE "floe.type"
#define META_TYPE_SIZE "floe.type_size"
#define META_TYPE_ALIGN "floe.type_align"
#define META_USER_HEADER "floe.user_header_size"

/*
 * A service attribute: the longest silence, in milliseconds, its
 * publishers promise; floe top flags a service silent for longer.
 */
#define DEADLINE_ATTRIBUTE "deadline_ms"

/* discovery.c: a member of @obj as a number (0 if absent) or as a
 * string ("" if absent) */
uint64_t member_u64(json_object *obj, const char *key);
const char *member_str(json_object *obj, const char *key);
/* discovery.c: the domain's nodes, services and ports as JSON arrays of
 * objects (NULL and *err set on failure); the tool's own node is left out */
json_object *collect_nodes(struct cli *cli, int *err);
json_object *collect_services(struct cli *cli, int *err);
json_object *collect_ports(struct cli *cli, int *err);
/* "pubsub", "event", ...: the names the tool prints */
const char *pattern_name(enum floe_pattern_kind pattern);
extern const struct column service_columns[];
extern const size_t service_columns_len;
extern const struct column port_columns[];
extern const size_t port_columns_len;
extern const struct column node_columns[];
extern const size_t node_columns_len;

/* rates.c: what top and hz remember from one reading to the next */
struct traffic {
	uint64_t at_ms;        /* when the previous reading was taken */
	json_object *ports;    /* its port rows (NULL before the first) */
	json_object *activity; /* per service: samples sent, when that grew */
};
void traffic_init(struct traffic *t);
void traffic_fini(struct traffic *t);
/*
 * Add rates per second since the previous reading to @ports and @services
 * (may be NULL) from the ports' counters: msg_s, bytes_s, drop_s; a dead
 * port and a service silent past its deadline_ms get an "alert". Then
 * @ports becomes the previous reading. The first reading is the baseline:
 * no rates.
 */
void traffic_update(struct traffic *t, json_object *services,
		    json_object *ports, uint64_t now_ms);
/* Busiest first (msg_s), then by name, service and id. */
void sort_by_rate(json_object *rows);

/* The verbs: argv[0] is the first argument after the verb's options. */
int cmd_node_list(struct cli *cli, int argc, char **argv);
int cmd_node_show(struct cli *cli, int argc, char **argv);
int cmd_node_cleanup(struct cli *cli, int argc, char **argv);
int cmd_service_list(struct cli *cli, int argc, char **argv);
int cmd_service_show(struct cli *cli, int argc, char **argv);
int cmd_port_list(struct cli *cli, int argc, char **argv);
int cmd_top(struct cli *cli, int argc, char **argv);
int cmd_hz(struct cli *cli, int argc, char **argv);
int cmd_config_show(struct cli *cli, int argc, char **argv);
int cmd_config_generate(struct cli *cli, int argc, char **argv);
int cmd_config_check(struct cli *cli, int argc, char **argv);
int cmd_publish(struct cli *cli, int argc, char **argv);
int cmd_subscribe(struct cli *cli, int argc, char **argv);
int cmd_notify(struct cli *cli, int argc, char **argv);
int cmd_listen(struct cli *cli, int argc, char **argv);
int cmd_record(struct cli *cli, int argc, char **argv);
int cmd_replay(struct cli *cli, int argc, char **argv);
int cmd_watch(struct cli *cli, int argc, char **argv);

#endif
