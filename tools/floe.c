// SPDX-License-Identifier: MIT
/*
 * floe: inspect and debug a floe system from the shell.
 *
 *   floe [global options] <command> [options] [arguments]
 *
 * Parses the command line (global options are accepted before or after the
 * command), reads the configuration files, creates a node named after the
 * command in the chosen domain and runs the command. The manual is
 * docs/floe.1; exit statuses are enum cli_exit.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#ifndef FLOE_TOOL_VERSION
#define FLOE_TOOL_VERSION "unknown"
#endif

volatile sig_atomic_t cli_stop;
const char cli_version[] = "floe " FLOE_TOOL_VERSION;

enum option_id {
	OPT_HELP = 'h',
	OPT_OUTPUT = 'o',
	OPT_JSON = 256,
	OPT_DOMAIN,
	OPT_BACKEND,
	OPT_VERSION,
	OPT_COUNT,
	OPT_TIMEOUT,
	OPT_INTERVAL,
	OPT_ITERATIONS,
	OPT_ONCE,
	OPT_TYPE,
	OPT_SIZE,
	OPT_ALIGN,
	OPT_HEX,
	OPT_LINGER,
	OPT_RATE,
	OPT_LOOP,
	OPT_FILE,
	OPT_RAW,
	OPT_ATTR,
};

static const struct option global_options[] = {
	{ "domain", required_argument, NULL, OPT_DOMAIN },
	{ "backend", required_argument, NULL, OPT_BACKEND },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
};
#define N_GLOBAL_OPTIONS (sizeof(global_options) / sizeof(global_options[0]))

#define O_COUNT { "count", required_argument, NULL, OPT_COUNT }
#define O_TIMEOUT { "timeout", required_argument, NULL, OPT_TIMEOUT }
#define O_INTERVAL { "interval", required_argument, NULL, OPT_INTERVAL }
#define O_LINGER { "linger", required_argument, NULL, OPT_LINGER }
#define O_END { NULL, 0, NULL, 0 }

/* the payload type and attributes, for publish and subscribe */
#define O_TYPE                                                              \
	{ "type", required_argument, NULL, OPT_TYPE },                     \
	{ "size", required_argument, NULL, OPT_SIZE },                     \
	{ "align", required_argument, NULL, OPT_ALIGN },                   \
	{ "attr", required_argument, NULL, OPT_ATTR }
#define HELP_TYPE                                                           \
	"  --type NAME      payload type name (default floe.bytes)\n"         \
	"  --size N         bytes of one element (default 1)\n"               \
	"  --align N        alignment of the type (default 1)\n"              \
	"  --attr KEY=VALUE a service attribute: set when the service is\n"   \
	"                   created, required when it is opened (repeatable;\n" \
	"                   deadline_ms=N makes floe top flag a silence)\n"
#define HELP_COUNT_TIMEOUT(what)                                            \
	"  --count N        stop after N " what " (default: until interrupted)\n" \
	"  --timeout MS     stop after MS milliseconds; exit status 4 if\n"   \
	"                   --count was not reached by then\n"

struct verb {
	const char *noun; /* NULL: a command of one word */
	const char *name;
	const char *synopsis; /* what follows the command */
	const char *summary;
	const char *options_help; /* the verb's own options, or NULL */
	struct option options[12]; /* the verb's own, O_END-terminated */
	int min_args, max_args;    /* max -1: any number */
	int (*run)(struct cli *cli, int argc, char **argv);
};

static const struct verb verbs[] = {
	{ "node", "list", "", "list the domain's nodes (alive or dead)",
	  NULL, { O_END }, 0, 0, cmd_node_list },
	{ "node", "show", "<id>", "show a node and its ports",
	  NULL, { O_END }, 1, 1, cmd_node_show },
	{ "node", "cleanup", "",
	  "remove what dead nodes left behind",
	  NULL, { O_END }, 0, 0, cmd_node_cleanup },
	{ "service", "list", "",
	  "list the domain's services",
	  NULL, { O_END }, 0, 0, cmd_service_list },
	{ "service", "show", "<name>",
	  "show a service: type, QoS, attributes, ports",
	  NULL, { O_END }, 1, 1, cmd_service_show },
	{ "port", "list", "",
	  "list the ports of every service",
	  NULL, { O_END }, 0, 0, cmd_port_list },
	{ NULL, "top", "[options]",
	  "live view: rates of services and ports, dead ports, totals",
	  "  --once           print one view and exit\n"
	  "  --iterations N   print N views and exit\n"
	  "  --interval MS    between views (default 1000)\n",
	  { { "once", no_argument, NULL, OPT_ONCE },
	    { "iterations", required_argument, NULL, OPT_ITERATIONS },
	    O_INTERVAL, O_END },
	  0, 0, cmd_top },
	{ NULL, "hz", "<service> [options]",
	  "print a service's message, byte and drop rates",
	  "  --interval MS    measure over MS milliseconds (default 1000)\n"
	  "  --count N        print N rates and exit (default: until\n"
	  "                   interrupted)\n"
	  "  --timeout MS     stop after MS milliseconds\n",
	  { O_COUNT, O_TIMEOUT, O_INTERVAL, O_END },
	  1, 1, cmd_hz },
	{ NULL, "publish",
	  "<service> [options] (<text>... | --hex HEX)",
	  "send a sample (the text, the bytes given in hex, or a file)",
	  HELP_TYPE
	  "  --hex HEX        the payload as hex digits (spaces allowed)\n"
	  "  --file PATH      the payload is the file's bytes ('-': standard\n"
	  "                   input); for payloads beyond an argument's limit\n"
	  "  --count N        send it N times (default 1)\n"
	  "  --interval MS    between sends (default 100)\n"
	  "  --linger MS      stay connected MS after the last send, for\n"
	  "                   subscribers to notice the publisher (default 200)\n",
	  { O_TYPE,
	    { "hex", required_argument, NULL, OPT_HEX },
	    { "file", required_argument, NULL, OPT_FILE },
	    O_LINGER, O_COUNT, O_INTERVAL, O_END },
	  1, -1, cmd_publish },
	{ NULL, "subscribe",
	  "<service> [options]",
	  "print received samples as hex and as text",
	  HELP_TYPE HELP_COUNT_TIMEOUT("samples")
	  "  --raw            write only the payloads' bytes, one after\n"
	  "                   the other\n",
	  { O_TYPE, { "raw", no_argument, NULL, OPT_RAW }, O_COUNT, O_TIMEOUT,
	    O_END },
	  1, 1, cmd_subscribe },
	{ "config", "show", "",
	  "show every configuration key: its value and where it came from",
	  NULL, { O_END }, 0, 0, cmd_config_show },
	{ "config", "generate", "",
	  "print a configuration file of every key and its default",
	  NULL, { O_END }, 0, 0, cmd_config_generate },
	{ "config", "check", "<file>",
	  "check a configuration file (exit status 5 if it is invalid)",
	  NULL, { O_END }, 1, 1, cmd_config_check },
	{ NULL, "notify", "<service> <event-id>",
	  "signal an event to an event service's listeners",
	  NULL, { O_END }, 2, 2, cmd_notify },
	{ NULL, "listen", "<service> [options]",
	  "print the ids of events as they fire",
	  HELP_COUNT_TIMEOUT("events"),
	  { O_COUNT, O_TIMEOUT, O_END },
	  1, 1, cmd_listen },
	{ NULL, "record", "<service>... -o <file> [options]",
	  "record the samples of services to an MCAP file",
	  "  -o, --output FILE\n"
	  "                   the MCAP file to write (replaced)\n"
	  HELP_TYPE
	  "                   (for services that do not exist yet)\n"
	  HELP_COUNT_TIMEOUT("samples"),
	  { { "output", required_argument, NULL, OPT_OUTPUT },
	    O_TYPE, O_COUNT, O_TIMEOUT, O_END },
	  1, -1, cmd_record },
	{ NULL, "replay", "<file> [options]",
	  "publish the samples of a recording again, with their timing",
	  "  --rate X         play X times as fast (default 1; 0.5: half)\n"
	  "  --loop           start over at the end, until interrupted\n"
	  "  --linger MS      stay connected MS after the last sample\n"
	  "                   (default 200)\n",
	  { { "rate", required_argument, NULL, OPT_RATE },
	    { "loop", no_argument, NULL, OPT_LOOP },
	    O_LINGER, O_END },
	  1, 1, cmd_replay },
	{ NULL, "watch", "[options]",
	  "print nodes, services and ports as they appear, die and go",
	  HELP_COUNT_TIMEOUT("changes"),
	  { O_COUNT, O_TIMEOUT, O_END },
	  0, 0, cmd_watch },
};
#define N_VERBS (sizeof(verbs) / sizeof(verbs[0]))

static const char global_help[] =
	"Global options (before or after the command):\n"
	"  --domain D       domain to work in (default: $FLOE_DOMAIN, the\n"
	"                   configuration, then \"floe\")\n"
	"  --backend B      auto, kmod or shm (default: $FLOE_BACKEND, the\n"
	"                   configuration, then auto)\n"
	"  --json           machine-readable output\n"
	"  -h, --help       this help; 'floe <command> --help' for a command\n"
	"  --version        print the version\n";

void cli_error(const struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	fputs("floe: ", stderr);
	if (cli && cli->verb_name)
		fprintf(stderr, "%s: ", cli->verb_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int exit_status(int err)
{
	switch (err) {
	case FLOE_E_NOT_FOUND:
		return EXIT_NOT_FOUND;
	case FLOE_E_TIMEOUT:
		return EXIT_TIMEOUT;
	case FLOE_E_CONFIG:
		return EXIT_CONFIG;
	case FLOE_E_NAME:
		return EXIT_USAGE;
	case FLOE_E_TYPE_MISMATCH:
	case FLOE_E_QOS_MISMATCH:
	case FLOE_E_ATTR_MISMATCH:
	case FLOE_E_PATTERN:
		return EXIT_INCOMPATIBLE;
	default:
		return EXIT_FAIL;
	}
}

int cli_fail(const struct cli *cli, int err, const char *what)
{
	cli_error(cli, "%s: %s", what, floe_strerror(err));
	return exit_status(err);
}

uint64_t cli_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Waits go in slices this long, to notice SIGINT and SIGTERM (the
 * library's waits go on through signals). */
#define WAIT_SLICE_MS 100

int cli_wait_for(struct cli *cli, const char *items, const long *seen,
		 const char *doing, int (*wait)(void *ctx, uint64_t slice_ns),
		 void *ctx)
{
	uint64_t deadline = cli->timeout_ms < 0 ? 0
				: cli_now_ms() + (uint64_t)cli->timeout_ms;

	while (!cli_stop && (cli->count < 0 || *seen < cli->count)) {
		uint64_t now = cli_now_ms(), slice = WAIT_SLICE_MS;
		int got;

		if (deadline && now >= deadline) {
			/* without --count, the timeout just ends the wait */
			if (cli->count < 0)
				break;
			cli_error(cli, "timed out after %ld ms with %ld of %ld %s",
				  cli->timeout_ms, *seen, cli->count, items);
			return EXIT_TIMEOUT;
		}
		if (deadline && deadline - now < slice)
			slice = deadline - now;
		got = wait(ctx, slice * 1000000);
		if (got < 0)
			return cli_fail(cli, got, doing);
	}
	return EXIT_OK;
}

void cli_flush(void)
{
	/* the reader went away (floe top | head): stop like on SIGINT */
	if (fflush(stdout) == EOF && errno == EPIPE)
		cli_stop = 1;
}

bool cli_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	/* the signal handlers interrupt the sleep (no SA_RESTART) */
	while (!cli_stop && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	return !cli_stop;
}

/* The library's messages in the tool's own format ("floe: <verb>: "),
 * at the level FLOE_LOG_LEVEL chooses. */
static void log_message(enum floe_log_level level, const char *message,
			void *ctx)
{
	const struct cli *cli = ctx;

	cli_error(cli, "%s%s", level <= FLOE_LOG_WARN ? "" : "note: ",
		  message);
}

static void on_stop_signal(int sig)
{
	(void)sig;
	cli_stop = 1;
}

static void print_usage(FILE *out)
{
	fprintf(out, "usage: floe [global options] <command> [options] "
		     "[arguments]\n\nCommands:\n");
	for (size_t i = 0; i < N_VERBS; i++) {
		const struct verb *v = &verbs[i];
		/* the synopsis's leading <arguments>, not its [options] */
		int args = (int)strcspn(v->synopsis, "[(");
		char command[64];

		while (args && v->synopsis[args - 1] == ' ')
			args--;
		snprintf(command, sizeof(command), "%s%s%s%s%.*s",
			 v->noun ? v->noun : "", v->noun ? " " : "", v->name,
			 args ? " " : "", args, v->synopsis);
		fprintf(out, "  %-28s %s\n", command, v->summary);
	}
	fprintf(out, "\n%s\nSee floe(1) for exit statuses, configuration "
		     "files and the environment.\n", global_help);
}

static void print_noun_usage(FILE *out, const char *noun)
{
	fprintf(out, "usage: floe %s <command> [options]\n\nCommands:\n", noun);
	for (size_t i = 0; i < N_VERBS; i++)
		if (verbs[i].noun && !strcmp(verbs[i].noun, noun))
			fprintf(out, "  %-9s %s\n", verbs[i].name,
				verbs[i].summary);
}

static void print_verb_usage(FILE *out, const struct verb *v)
{
	fprintf(out, "usage: floe %s%s%s %s\n\n%c%s.\n",
		v->noun ? v->noun : "", v->noun ? " " : "", v->name,
		v->synopsis, v->summary[0] - 'a' + 'A', v->summary + 1);
	if (v->options_help)
		fprintf(out, "\nOptions:\n%s", v->options_help);
	fprintf(out, "\n%s", global_help);
}

/* A decimal number in [min, max], for option @name. */
static bool parse_number(const char *name, const char *text, long min,
			 long max, long *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(text, &end, 10);
	if (!*text || *end || errno || n < min || n > max) {
		cli_error(NULL, "--%s: '%s' is not a number from %ld to %ld",
			  name, text, min, max);
		return false;
	}
	*out = n;
	return true;
}

/* A speed factor: a decimal number above 0, at most a million. */
static bool parse_rate(const char *text, double *out)
{
	char *end;
	double x;

	errno = 0;
	x = strtod(text, &end);
	if (!*text || *end || errno || !isfinite(x) || x <= 0 || x > 1e6) {
		cli_error(NULL, "--rate: '%s' is not a number above 0 (at most "
			  "1000000)", text);
		return false;
	}
	*out = x;
	return true;
}

/* --attr KEY=VALUE: -1 to go on, or EXIT_USAGE. */
static int add_attribute(struct cli *cli, char *arg)
{
	char *eq = strchr(arg, '=');

	if (!eq || eq == arg || eq - arg > FLOE_ATTR_KEY_LEN ||
	    strlen(eq + 1) > FLOE_ATTR_VALUE_LEN) {
		cli_error(NULL, "--attr '%s': KEY=VALUE, a key of 1 to %d and "
			  "a value of at most %d characters", arg,
			  FLOE_ATTR_KEY_LEN, FLOE_ATTR_VALUE_LEN);
		return EXIT_USAGE;
	}
	if (cli->nattrs == FLOE_MAX_ATTRIBUTES) {
		cli_error(NULL, "--attr: at most %d attributes",
			  FLOE_MAX_ATTRIBUTES);
		return EXIT_USAGE;
	}
	/* argv is ours to cut (the key ends where the value starts) */
	*eq = '\0';
	cli->attrs[cli->nattrs++] = (struct floe_attribute){ arg, eq + 1 };
	return -1;
}

/*
 * Apply one option to @cli; @name is its long name for messages. Returns
 * -1 to go on, or an exit status (help, version, bad value).
 */
static int apply_option(struct cli *cli, const struct verb *v, int id,
			const char *name, char *arg)
{
	long n;

	switch (id) {
	case OPT_HELP:
		if (v)
			print_verb_usage(stdout, v);
		else
			print_usage(stdout);
		return EXIT_OK;
	case OPT_VERSION:
		printf("floe %s\n", FLOE_TOOL_VERSION);
		return EXIT_OK;
	case OPT_JSON:
		cli->json = true;
		return -1;
	case OPT_DOMAIN:
		cli->node_opts.domain = arg;
		return -1;
	case OPT_BACKEND:
		if (floe_backend_parse(arg, &cli->node_opts.backend))
			return -1;
		cli_error(NULL, "--backend: '%s' is not auto, kmod or shm", arg);
		return EXIT_USAGE;
	case OPT_TYPE:
		cli->type.name = arg;
		return -1;
	case OPT_HEX:
		cli->hex = arg;
		return -1;
	case OPT_FILE:
		cli->file = arg;
		return -1;
	case OPT_RAW:
		cli->raw = true;
		return -1;
	case OPT_ATTR:
		return add_attribute(cli, arg);
	case OPT_ONCE:
		cli->iterations = 1;
		return -1;
	case OPT_OUTPUT:
		cli->output = arg;
		return -1;
	case OPT_LOOP:
		cli->loop = true;
		return -1;
	case OPT_RATE:
		return parse_rate(arg, &cli->rate) ? -1 : EXIT_USAGE;
	}
	/* the rest are numbers */
	if (!parse_number(name, arg,
			  id == OPT_INTERVAL || id == OPT_TIMEOUT ||
					  id == OPT_LINGER ? 0 : 1,
			  id == OPT_SIZE || id == OPT_ALIGN ? 1L << 32
							    : LONG_MAX, &n))
		return EXIT_USAGE;
	switch (id) {
	case OPT_COUNT:
		cli->count = n;
		break;
	case OPT_TIMEOUT:
		cli->timeout_ms = n;
		break;
	case OPT_INTERVAL:
		cli->interval_ms = n;
		break;
	case OPT_LINGER:
		cli->linger_ms = n;
		break;
	case OPT_ITERATIONS:
		cli->iterations = n;
		break;
	case OPT_SIZE:
		cli->type.size = (uint64_t)n;
		break;
	case OPT_ALIGN:
		if (n & (n - 1) || n > 4096) {
			cli_error(NULL, "--align %ld: a power of two up to 4096",
				  n);
			return EXIT_USAGE;
		}
		cli->type.align = (uint64_t)n;
		break;
	}
	return -1;
}

/*
 * getopt_long over @argv with the global options plus @v's (none when @v
 * is NULL: then parsing stops at the first argument, the command).
 * Returns -1 to go on (optind is left at the first argument) or an exit
 * status.
 */
static int parse_options(struct cli *cli, const struct verb *v, int argc,
			 char **argv)
{
	struct option all[N_GLOBAL_OPTIONS + sizeof(v->options) /
						     sizeof(v->options[0])];
	/* -h, and the verb's options that have a letter (-o) */
	char shorts[16] = "+h";
	const char *name;
	size_t n = 0, ns = strlen(shorts);
	int id, ret;

	for (size_t i = 0; i < N_GLOBAL_OPTIONS; i++)
		all[n++] = global_options[i];
	for (size_t i = 0; v && v->options[i].name; i++) {
		all[n++] = v->options[i];
		if (isalpha(v->options[i].val) && ns + 3 < sizeof(shorts)) {
			shorts[ns++] = (char)v->options[i].val;
			if (v->options[i].has_arg == required_argument)
				shorts[ns++] = ':';
		}
	}
	all[n] = (struct option)O_END;
	optind = 0; /* glibc: start afresh */
	opterr = 0; /* our own messages */
	/* before the command, stop at it ("+"); after, permute */
	while ((id = getopt_long(argc, argv, shorts + (v ? 1 : 0), all,
				 NULL)) != -1) {
		if (id == '?' || id == ':') {
			cli_error(cli, "%s: unknown option, or its value is "
				       "missing (see --help)", argv[optind - 1]);
			return EXIT_USAGE;
		}
		name = "help";
		for (size_t i = 0; i < n; i++)
			if (all[i].val == id)
				name = all[i].name;
		ret = apply_option(cli, v, id, name, optarg);
		if (ret >= 0)
			return ret;
	}
	return -1;
}

static const struct verb *find_verb(const char *noun, const char *name)
{
	for (size_t i = 0; i < N_VERBS; i++) {
		const struct verb *v = &verbs[i];

		if ((v->noun ? noun && !strcmp(v->noun, noun) : !noun) &&
		    name && !strcmp(v->name, name))
			return v;
	}
	return NULL;
}

static bool is_noun(const char *word)
{
	for (size_t i = 0; i < N_VERBS; i++)
		if (verbs[i].noun && !strcmp(verbs[i].noun, word))
			return true;
	return false;
}

/* Read the configuration, join the domain, run @v. */
static int run_verb(struct cli *cli, const struct verb *v, int argc,
		    char **argv)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };
	enum floe_backend_kind kind = cli->node_opts.backend;
	const char *domain = cli->node_opts.domain;
	char err[512], node_name[32];
	int ret;

	/* the config verbs read the files themselves, and join nothing */
	if (v->noun && !strcmp(v->noun, "config"))
		return v->run(cli, argc, argv);
	if (floe_config_load(&cli->config, err, sizeof(err))) {
		cli_error(NULL, "%s", err);
		return EXIT_CONFIG;
	}
	/* what floe_node_create will pick, for messages */
	if (!domain)
		domain = getenv("FLOE_DOMAIN");
	floe_config_apply(&cli->config, &kind, &domain);
	cli->domain = cli->node_opts.domain ? cli->node_opts.domain
		      : domain && *domain	 ? domain
						 : "floe";
	snprintf(node_name, sizeof(node_name), "floe %s", cli->verb_name);
	ret = floe_node_create(node_name, &cli->node_opts, &cli->node);
	if (ret) {
		cli_error(cli, "cannot join domain '%s' (backend %s): %s",
			  cli->domain,
			  floe_backend_name(kind), floe_strerror(ret));
		return exit_status(ret);
	}
	floe_set_log(floe_log_get_level(), log_message, cli);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	ret = v->run(cli, argc, argv);
	floe_node_destroy(cli->node);
	/* @cli goes with main (the fuzzer calls main again and again) */
	floe_set_log(floe_log_get_level(), NULL, NULL);
	return ret;
}

int main(int argc, char **argv)
{
	struct cli cli = {
		.count = -1,
		.timeout_ms = -1,
		.interval_ms = -1,
		.iterations = -1,
		.linger_ms = -1,
		.rate = 1,
		.type = { "floe.bytes", 1, 1 },
	};
	const struct verb *v;
	char verb_name[32];
	const char *noun = NULL;
	int ret, nargs;

	/* a closed output pipe is seen as EPIPE (cli_flush), not a death */
	signal(SIGPIPE, SIG_IGN);
	floe_node_opts_init(&cli.node_opts);
	ret = parse_options(&cli, NULL, argc, argv);
	if (ret >= 0)
		return ret;
	argc -= optind;
	argv += optind;
	if (!argc) {
		print_usage(stderr);
		return EXIT_USAGE;
	}
	if (is_noun(argv[0])) {
		noun = argv[0];
		argc--;
		argv++;
		if (!argc || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
			print_noun_usage(argc ? stdout : stderr, noun);
			return argc ? EXIT_OK : EXIT_USAGE;
		}
	}
	v = find_verb(noun, argv[0]);
	if (!v) {
		cli_error(NULL, "unknown command '%s%s%s' (see floe --help)",
			  noun ? noun : "", noun ? " " : "", argv[0]);
		return EXIT_USAGE;
	}
	snprintf(verb_name, sizeof(verb_name), "%s%s%s", noun ? noun : "",
		 noun ? " " : "", v->name);
	cli.verb_name = verb_name;
	/* argv[0] is the verb: getopt_long skips it like a program name */
	ret = parse_options(&cli, v, argc, argv);
	if (ret >= 0)
		return ret;
	nargs = argc - optind;
	if (nargs < v->min_args || (v->max_args >= 0 && nargs > v->max_args)) {
		cli_error(&cli, "wrong number of arguments; usage: floe %s %s",
			  verb_name, v->synopsis);
		return EXIT_USAGE;
	}
	return run_verb(&cli, v, nargs, argv + optind);
}
