// SPDX-License-Identifier: MIT
/*
 * Configuration files as floe_node_create reads them: a missing
 * $FLOE_CONFIG, bad syntax, unknown keys and bad values fail with
 * FLOE_E_CONFIG; a valid file supplies backend and domain; the environment
 * and the options take precedence over it; the per-user file is read when
 * $FLOE_CONFIG is unset and absent files are no error.
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

int main(void)
{
	const char *domain = th_setup("config");
	char conf_domain[32], text[256];
	floe_node *node = NULL;
	int r;

	tap_plan(12);
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
