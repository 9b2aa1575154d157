// SPDX-License-Identifier: MIT
/*
 * floe config show|generate|check: the configuration files' keys
 * (lib/config.h's table), their effective values and where each came
 * from, a commented file of every default, and a file checked alone.
 * None of them joins a domain.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct column config_columns[] = {
	{ "SECTION", "section" },
	{ "KEY", "key" },
	{ "VALUE", "value" },
	{ "ORIGIN", "origin" },
};

/* What overrides a [global] key: its option, then its variable. */
static bool overridden(const struct cli *cli, const char *key,
		       const char **value, const char **origin)
{
	bool backend = !strcmp(key, "backend");
	const char *env = getenv(backend ? "FLOE_BACKEND" : "FLOE_DOMAIN");

	if (backend && cli->node_opts.backend != FLOE_BACKEND_AUTO) {
		*value = floe_backend_name(cli->node_opts.backend);
		*origin = "--backend";
	} else if (!backend && cli->node_opts.domain) {
		*value = cli->node_opts.domain;
		*origin = "--domain";
	} else if (env && *env) {
		*value = env;
		*origin = backend ? "$FLOE_BACKEND" : "$FLOE_DOMAIN";
	} else {
		return false;
	}
	return true;
}

int cmd_config_show(struct cli *cli, int argc, char **argv)
{
	json_object *rows = json_object_new_array();
	char err[512], value[FLOE_NAME_LEN + 1], origin[PATH_MAX + 16];

	(void)argc;
	(void)argv;
	if (floe_config_load(&cli->config, err, sizeof(err))) {
		cli_error(NULL, "%s", err);
		json_object_put(rows);
		return EXIT_CONFIG;
	}
	for (size_t i = 0; i < FLOE_CONFIG_KEYS; i++) {
		const struct floe_config_key *k = &floe_config_keys[i];
		const struct floe_config_origin *o = &cli->config.origin[i];
		json_object *row = json_object_new_object();
		const char *v = value, *from = origin;

		floe_config_value(&cli->config, k, value, sizeof(value));
		if (o->file)
			snprintf(origin, sizeof(origin), "%s:%u",
				 cli->config.files[o->file - 1], o->line);
		else
			snprintf(origin, sizeof(origin), "default");
		if (!strcmp(k->section, "global"))
			overridden(cli, k->name, &v, &from);
		/* no domain anywhere: the library's own */
		if (k->kind == FLOE_CONFIG_DOMAIN && !*v)
			v = "floe";
		json_object_object_add(row, "section",
				       json_object_new_string(k->section));
		json_object_object_add(row, "key", json_object_new_string(k->name));
		json_object_object_add(row, "value", json_object_new_string(v));
		json_object_object_add(row, "origin", json_object_new_string(from));
		json_object_array_add(rows, row);
	}
	print_rows(cli, rows, config_columns,
		   sizeof(config_columns) / sizeof(config_columns[0]));
	json_object_put(rows);
	return EXIT_OK;
}

int cmd_config_generate(struct cli *cli, int argc, char **argv)
{
	struct floe_config defaults;
	const char *section = "";
	char value[FLOE_NAME_LEN + 1];

	(void)cli;
	(void)argc;
	(void)argv;
	floe_config_init(&defaults);
	printf("# floe configuration (floe(1)): " FLOE_CONFIG_SYSTEM_FILE
	       " for the system,\n"
	       "# $XDG_CONFIG_HOME/floe/floe.conf (~/.config/floe/floe.conf)"
	       " for a user,\n# or only $FLOE_CONFIG when set. Every key is "
	       "shown with its default,\n# commented out: uncomment a line to "
	       "change it.\n");
	for (size_t i = 0; i < FLOE_CONFIG_KEYS; i++) {
		const struct floe_config_key *k = &floe_config_keys[i];

		if (strcmp(section, k->section)) {
			section = k->section;
			printf("\n[%s]\n", section);
		}
		floe_config_value(&defaults, k, value, sizeof(value));
		if (k->kind == FLOE_CONFIG_U32)
			printf("# %s (%u to %u)\n", k->help, k->min, k->max);
		else
			printf("# %s\n", k->help);
		printf(";%s = %s\n", k->name,
		       k->kind == FLOE_CONFIG_DOMAIN && !*value ? "floe"
								: value);
	}
	cli_flush();
	return EXIT_OK;
}

int cmd_config_check(struct cli *cli, int argc, char **argv)
{
	char err[512];
	int ret;

	(void)argc;
	ret = floe_config_load_file(&cli->config, argv[0], err, sizeof(err));
	if (cli->json) {
		json_object *obj = json_object_new_object();

		json_object_object_add(obj, "file", json_object_new_string(argv[0]));
		json_object_object_add(obj, "valid", json_object_new_boolean(!ret));
		if (ret)
			json_object_object_add(obj, "error",
					       json_object_new_string(err));
		print_json(obj, false);
		json_object_put(obj);
	} else if (!ret) {
		printf("%s: valid\n", argv[0]);
	}
	if (ret && !cli->json)
		cli_error(NULL, "%s", err);
	cli_flush();
	return ret ? EXIT_CONFIG : EXIT_OK;
}
