// SPDX-License-Identifier: MIT
/*
 * The floe tool's command line (tools/floe.c): the input is argv, its
 * arguments separated by NUL bytes. The tool's main is built as
 * floe_tool_main for this harness; $FLOE_CONFIG names a file that does not
 * exist, so a command line that parses stops at reading the configuration,
 * before it joins a domain or does anything; the config commands only
 * read (and print, to /dev/null).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ARGS 24

int floe_tool_main(int argc, char **argv);
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("FLOE_CONFIG", "/nonexistent/floe-fuzz.conf", 1);
	/* help texts: not the fuzzer's log; and nothing to wait for on
	 * stdin ("config check /dev/stdin") */
	if (!freopen("/dev/null", "w", stdout) ||
	    !freopen("/dev/null", "r", stdin))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *args[MAX_ARGS + 2];
	char *copy = malloc(len + 1);
	int argc = 0, ret;
	size_t start = 0;

	if (!copy)
		return 0;
	memcpy(copy, data, len);
	copy[len] = '\0';
	args[argc++] = "floe";
	for (size_t i = 0; i <= len && argc <= MAX_ARGS; i++) {
		if (copy[i])
			continue;
		args[argc++] = copy + start;
		start = i + 1;
	}
	args[argc] = NULL;
	ret = floe_tool_main(argc, args);
	/* parsing ends in an exit status, never in work */
	if (ret < 0 || ret > 125)
		abort();
	free(copy);
	return 0;
}
