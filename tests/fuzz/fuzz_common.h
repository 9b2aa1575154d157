/* SPDX-License-Identifier: MIT */
/*
 * Shared by the libFuzzer harnesses that play a hostile peer: each runs in
 * a domain of its own on the shm backend, builds a valid service, lets the
 * fuzzer input overwrite parts of its shared memory, and then drives the
 * library over it. Only a crash, a sanitizer report or a hang is a finding:
 * any error code is an acceptable answer to garbage.
 *
 * The input is a list of patches rather than a raw image, so that most
 * inputs stay close to a valid segment and reach the deep checks:
 *   u8 region, u16 offset (little endian), u8 n, then n (<= 8) bytes
 * The harness decides what the regions are; offsets wrap at a region's end.
 */
#ifndef FLOE_TESTS_FUZZ_COMMON_H
#define FLOE_TESTS_FUZZ_COMMON_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "floe.h"

struct fz_region {
	void *base;
	size_t size;
};

static char fz_domain[24];

/* Once per process: a fresh domain on the shm backend. */
static void fz_setup(const char *tag)
{
	snprintf(fz_domain, sizeof(fz_domain), "fz%.6s%d", tag,
		 (int)(getpid() % 10000000));
	setenv("FLOE_DOMAIN", fz_domain, 1);
	setenv("FLOE_BACKEND", "shm", 1);
	/* no configuration file may change what the harness builds */
	setenv("FLOE_CONFIG", "/dev/null", 1);
}

/*
 * Remove whatever the iteration left in the domain: a service whose slots
 * the input scrambled may well not be recognised as unused any more.
 */
static void fz_sweep(void)
{
	size_t plen = strlen(fz_domain);
	struct dirent *de;
	DIR *d = opendir("/dev/shm");
	char path[320];

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, fz_domain, plen) ||
		    de->d_name[plen] != '.')
			continue;
		snprintf(path, sizeof(path), "/dev/shm/%s", de->d_name);
		unlink(path);
	}
	closedir(d);
}

/* Apply the patches in @data to @regions; returns the bytes consumed. */
static size_t fz_patch(const uint8_t *data, size_t len,
		       const struct fz_region *regions, size_t nregions)
{
	size_t pos = 0;

	while (pos + 4 <= len) {
		const struct fz_region *r = &regions[data[pos] % nregions];
		size_t off = (size_t)data[pos + 1] | (size_t)data[pos + 2] << 8;
		size_t n = data[pos + 3] % 9;

		pos += 4;
		if (n > len - pos)
			n = len - pos;
		for (size_t i = 0; r->size && i < n; i++)
			((volatile uint8_t *)r->base)[(off + i) % r->size] =
				data[pos + i];
		pos += n;
	}
	return pos;
}

/*
 * Abort unless @ret is a result the API documents for the call: a count
 * or flag from 0 to @max, or a floe error code. Garbage may be refused with
 * any error, but never answered with a value no caller can interpret.
 */
static inline int fz_ret(int ret, int max)
{
	if (ret > max ||
	    (ret < 0 && !strcmp(floe_strerror(ret), floe_strerror(1)))) {
		fprintf(stderr, "fuzz: result %d outside [error, %d]\n", ret,
			max);
		abort();
	}
	return ret;
}

/* Set by a harness whose input patched nothing: fz_expect then holds the
 * library to exactly what it documents. */
static bool fz_unpatched;

static inline void fz_expect(bool ok, const char *what)
{
	if (fz_unpatched && !ok) {
		fprintf(stderr, "fuzz: unpatched input: %s\n", what);
		abort();
	}
}

static floe_node *fz_node(const char *name)
{
	floe_node *node = NULL;

	if (floe_node_create(name, NULL, &node)) {
		fprintf(stderr, "fuzz: cannot create a node in %s\n", fz_domain);
		abort();
	}
	return node;
}

#endif
