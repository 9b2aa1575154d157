// SPDX-License-Identifier: MIT
/*
 * Configuration files ($FLOE_CONFIG, lib/config.c): the input is the file.
 * It is written to a memfd that $FLOE_CONFIG names, so the parser reads it
 * exactly as it reads a file on disk. A file that loads must leave a
 * configuration the rest of the library accepts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "pattern.h"

static int fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[64];

	(void)argc;
	(void)argv;
	fd = memfd_create("floe-fuzz-config", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	setenv("FLOE_CONFIG", path, 1);
	unsetenv("FLOE_BACKEND");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	enum floe_backend_kind kind = FLOE_BACKEND_AUTO;
	const char *domain = NULL;
	struct floe_config cfg;
	char err[256];
	int ret;

	if (ftruncate(fd, 0) || pwrite(fd, data, len, 0) != (ssize_t)len)
		abort();
	err[0] = '\0';
	ret = floe_config_load(&cfg, err, sizeof(err));
	if (ret) {
		/* every failure explains itself */
		if (ret != FLOE_E_CONFIG || !err[0] || !memchr(err, 0, sizeof(err)))
			abort();
		return 0;
	}
	floe_config_apply(&cfg, &kind, &domain);
	if (domain && !floe_domain_valid(domain))
		abort();
	if (kind != FLOE_BACKEND_AUTO && kind != FLOE_BACKEND_KMOD &&
	    kind != FLOE_BACKEND_SHM)
		abort();
	/* the [pubsub] defaults must describe a service that can exist */
	{
		struct floe_shm_qos q = {
			.pattern = FLOE_PATTERN_KIND_PUBSUB,
			.max_nodes = cfg.pubsub.max_nodes,
			.pubsub = {
				.max_publishers = cfg.pubsub.max_publishers,
				.max_subscribers = cfg.pubsub.max_subscribers,
				.buffer = cfg.pubsub.subscriber_max_buffer_size,
				.borrowed =
					cfg.pubsub.subscriber_max_borrowed_samples,
				.history = cfg.pubsub.history_size,
				.loans = cfg.pubsub.publisher_max_loaned_samples,
			},
		};
		struct floe_svc_layout lay;

		/* only the ranges are the parser's business; combinations
		 * (history > buffer, too many chunks) are refused later */
		(void)floe_pubsub_pattern.layout(&q, &lay);
	}
	/* every key's value is within its range, and printable */
	for (size_t i = 0; i < FLOE_CONFIG_KEYS; i++) {
		const struct floe_config_key *k = &floe_config_keys[i];
		char value[FLOE_NAME_LEN + 1];
		uint32_t n;

		floe_config_value(&cfg, k, value, sizeof(value));
		if (!memchr(value, 0, sizeof(value)))
			abort();
		if (k->kind != FLOE_CONFIG_U32)
			continue;
		memcpy(&n, (const char *)&cfg + k->offset, sizeof(n));
		if (n < k->min || n > k->max)
			abort();
	}
	return 0;
}
