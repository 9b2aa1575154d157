// SPDX-License-Identifier: MIT
/*
 * Configuration files as floe_node_create reads them: a missing
 * $FLOE_CONFIG, bad syntax, unknown keys and bad values fail with
 * FLOE_E_CONFIG; a valid file supplies backend and domain; the environment
 * and the options take precedence over it; the per-user file is read when
 * $FLOE_CONFIG is unset and absent files are no error. Each pattern's QoS
 * defaults reach services a program creates through
 * floe_*_qos_init_from_config, as they were when the node was created.
 */
#include "helpers.h"

static char dir[64];

static void setup_failed(const char *what, const char *path)
{
	printf("Bail out! %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

static const char *write_conf(const char *name, const char *text)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f))
		setup_failed("cannot write", path);
	return path;
}

/* floe_node_create's result with $FLOE_CONFIG naming a file holding @text */
static int create_with(const char *text, floe_node **out)
{
	setenv("FLOE_CONFIG", write_conf("floe.conf", text), 1);
	return floe_node_create("cfg", NULL, out);
}

static void expect_config_error(const char *text, const char *what)
{
	floe_node *node = NULL;
	int r = create_with(text, &node);

	tap_ok(r == FLOE_E_CONFIG && !node, "%s: FLOE_E_CONFIG (got %s)", what,
	       floe_strerror(r));
	floe_node_destroy(node);
}

struct find_ctx {
	uint64_t id;
	int found;
};

static int find_cb(const struct floe_node_info *info, void *arg)
{
	struct find_ctx *ctx = arg;

	ctx->found |= info->id == ctx->id;
	return 0;
}

/* Whether @node is listed in @domain (seen through a node of its own) */
static int listed_in(const floe_node *node, const char *domain)
{
	struct floe_node_opts opts;
	struct find_ctx ctx = { .id = floe_node_id(node) };
	floe_node *viewer;

	floe_node_opts_init(&opts);
	opts.backend = FLOE_BACKEND_SHM;
	opts.domain = domain;
	if (floe_node_create("viewer", &opts, &viewer))
		return -1;
	if (floe_node_list(viewer, find_cb, &ctx) < 0)
		ctx.found = -1;
	floe_node_destroy(viewer);
	return ctx.found;
}

/* [pubsub], [event], [request_response] and [blackboard] defaults, and
 * the services made with them. */
static void test_qos_defaults(void)
{
	struct floe_pubsub_qos ps, ps_default, got_ps;
	struct floe_event_qos ev, got_ev;
	struct floe_rr_qos rr, got_rr;
	struct floe_blackboard_qos bb;
	struct floe_service_opts so = { .type = th_type("u8", 1, 1),
					.qos = &ps };
	struct floe_event_opts eo = { .qos = &ev };
	struct floe_rr_opts ro = { .request_type = th_type("u8", 1, 1),
				   .response_type = th_type("u8", 1, 1),
				   .qos = &rr };
	floe_service *svc = NULL, *esvc = NULL, *rsvc = NULL;
	floe_node *node = NULL;
	int r;

	r = create_with("[pubsub]\nhistory_size = 3\nmax_publishers = 5\n"
			"enable_safe_overflow = false\n"
			"[event]\nevent_id_max = 99\n"
			"[request_response]\nmax_servers = 3\n"
			"enable_fire_and_forget = yes\n"
			"[blackboard]\nmax_readers = 5\n", &node);
	tap_require(r == 0, "a node with QoS defaults in the file (%s)",
		    floe_strerror(r));
	/* what the node saw stays, whatever the file says later */
	write_conf("floe.conf", "[pubsub]\nhistory_size = 1\n");
	floe_pubsub_qos_init(&ps_default);
	tap_ok(!floe_pubsub_qos_init_from_config(node, &ps) &&
	       ps.history_size == 3 && ps.max_publishers == 5 &&
	       !ps.enable_safe_overflow &&
	       ps.max_subscribers == ps_default.max_subscribers,
	       "[pubsub]: the file's keys, the defaults for the others");
	tap_ok(!floe_event_qos_init_from_config(node, &ev) &&
	       ev.event_id_max == 99, "[event] event_id_max");
	tap_ok(!floe_rr_qos_init_from_config(node, &rr) &&
	       rr.max_servers == 3 && rr.enable_fire_and_forget,
	       "[request_response] max_servers, enable_fire_and_forget");
	tap_ok(!floe_blackboard_qos_init_from_config(node, &bb) &&
	       bb.max_readers == 5, "[blackboard] max_readers");
	tap_eq(floe_pubsub_qos_init_from_config(NULL, &ps), FLOE_E_INVALID,
	       "no node: FLOE_E_INVALID");
	tap_eq(floe_event_qos_init_from_config(node, NULL), FLOE_E_INVALID,
	       "no QoS: FLOE_E_INVALID");

	tap_require(floe_service_create(node, "t/cfg/ps", &so, &svc) == 0 &&
		    floe_event_create(node, "t/cfg/ev", &eo, &esvc) == 0 &&
		    floe_rr_create(node, "t/cfg/rr", &ro, &rsvc) == 0,
		    "services created with those QoS");
	floe_service_qos(svc, &got_ps);
	floe_event_qos(esvc, &got_ev);
	floe_rr_qos(rsvc, &got_rr);
	tap_ok(got_ps.history_size == 3 && got_ps.max_publishers == 5 &&
	       !got_ps.enable_safe_overflow && got_ev.event_id_max == 99 &&
	       got_rr.max_servers == 3 && got_rr.enable_fire_and_forget,
	       "the services have the configured QoS");
	floe_service_close(rsvc);
	floe_service_close(esvc);
	floe_service_close(svc);
	floe_node_destroy(node);
}

int main(void)
{
	const char *domain = th_setup("config");
	char conf_domain[32], text[256];
	floe_node *node = NULL;
	int r;

	tap_plan(23);
	snprintf(dir, sizeof(dir), "/tmp/floe-config.%d", (int)getpid());
	if (mkdir(dir, 0700))
		setup_failed("mkdir", dir);
	/* a domain of the same length as ours, differing in its first byte */
	snprintf(conf_domain, sizeof(conf_domain), "k%s", domain + 1);
	/* the tests choose the backend through the file, not the runner */
	unsetenv("FLOE_BACKEND");

	setenv("FLOE_CONFIG", "/nonexistent/floe.conf", 1);
	r = floe_node_create("cfg", NULL, &node);
	tap_ok(r == FLOE_E_CONFIG && !node,
	       "a missing $FLOE_CONFIG: FLOE_E_CONFIG (got %s)", floe_strerror(r));
	tap_ok(!strcmp(floe_strerror(FLOE_E_CONFIG), "invalid configuration file"),
	       "floe_strerror names the configuration file");

	expect_config_error("[global\nbackend = shm\n", "an unclosed section");
	expect_config_error("[global]\ncolour = blue\n", "an unknown key");
	expect_config_error("[colours]\nblue = 1\n", "an unknown section");
	expect_config_error("[global]\nbackend = carrier-pigeon\n",
			    "an unknown backend");
	expect_config_error("[global]\ndomain = no/slashes\n", "a bad domain");
	expect_config_error("[pubsub]\nhistory_size = -3\n",
			    "a negative history size");
	expect_config_error("[event]\nevent_id_max = 1048576\n",
			    "an event id beyond 2^20 - 1");
	expect_config_error("[request_response]\nmax_clients = 0\n",
			    "no clients");

	/* a valid file: backend and domain come from it */
	unsetenv("FLOE_DOMAIN");
	snprintf(text, sizeof(text),
		 "; comment\n[global]\nbackend = shm\ndomain = %s\n", conf_domain);
	r = create_with(text, &node);
	tap_ok(r == 0 && node && floe_node_backend(node) == FLOE_BACKEND_SHM &&
	       listed_in(node, conf_domain) == 1,
	       "a valid file supplies backend and domain (%s)", floe_strerror(r));
	floe_node_destroy(node);
	node = NULL;

	/* $FLOE_DOMAIN wins over the file */
	setenv("FLOE_DOMAIN", domain, 1);
	r = create_with(text, &node);
	tap_ok(r == 0 && node && listed_in(node, domain) == 1 &&
	       listed_in(node, conf_domain) == 0,
	       "$FLOE_DOMAIN takes precedence over the file");
	floe_node_destroy(node);
	node = NULL;

	test_qos_defaults();

	/* without $FLOE_CONFIG: the per-user file, absent or bad */
	unsetenv("FLOE_CONFIG");
	setenv("XDG_CONFIG_HOME", dir, 1);
	r = floe_node_create("cfg", NULL, &node);
	tap_ok(r == 0 && node, "no configuration files: no error (%s)",
	       floe_strerror(r));
	floe_node_destroy(node);
	node = NULL;
	snprintf(text, sizeof(text), "%s/floe", dir);
	mkdir(text, 0700);
	write_conf("floe/floe.conf", "[global]\nbackend = maybe\n");
	r = floe_node_create("cfg", NULL, &node);
	tap_ok(r == FLOE_E_CONFIG && !node,
	       "a bad $XDG_CONFIG_HOME/floe/floe.conf: FLOE_E_CONFIG (got %s)",
	       floe_strerror(r));
	floe_node_destroy(node);

	unlink(write_conf("floe/floe.conf", ""));
	rmdir(text);
	unlink(write_conf("floe.conf", ""));
	rmdir(dir);
	return tap_done();
}
