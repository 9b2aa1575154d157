// SPDX-License-Identifier: MIT
/*
 * The MCAP reader of floe record/replay (tools/mcap_read.c): the input is
 * the file, written to a memfd that the reader reads as it reads a file on
 * disk. Whatever the bytes, the reader must end, with 0 or with an error
 * that names an offset inside the file and says what is wrong there; every
 * message it returns must lie in memory it owns (ASan checks each byte)
 * and belong to a channel it returns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mcap.h"

/* the fuzzer's allocations stay small: records of at most 1 MiB */
#define MAX_RECORD (1u << 20)

static int fd = -1;
/* where the bytes of each message go, so that each is read */
static volatile uint8_t sink;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fd = memfd_create("floe-fuzz-mcap", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	return 0;
}

static void check_error(const struct mcap_read_error *err, int ret,
			size_t len)
{
	if (ret < MCAP_E_INVALID || ret >= 0 || err->code != ret ||
	    err->offset > len || !err->detail[0] ||
	    !memchr(err->detail, 0, sizeof(err->detail)) ||
	    !strcmp(mcap_strerror(ret), mcap_strerror(1))) {
		fprintf(stderr, "fuzz: error %d at %llu: %.160s\n", ret,
			(unsigned long long)err->offset, err->detail);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct mcap_read_error err;
	struct mcap_message msg;
	const uint8_t *bytes;
	uint64_t n, messages = 0;
	uint8_t sum = 0;
	mcap_reader *r;
	int ret;

	if (ftruncate(fd, 0) || pwrite(fd, data, len, 0) != (ssize_t)len)
		abort();
	ret = mcap_reader_open(fd, MAX_RECORD, &r, &err);
	if (ret) {
		check_error(&err, ret, len);
		return 0;
	}
	while ((ret = mcap_reader_next(r, &msg, &bytes, &n)) == 1) {
		const struct mcap_channel *ch =
			mcap_reader_channel(r, msg.channel_id);

		if (!ch || ch->id != msg.channel_id || !ch->topic ||
		    !ch->message_encoding || n > len)
			abort();
		for (size_t i = 0; i < ch->n_metadata; i++)
			sum ^= (uint8_t)(ch->metadata[i].key[0] ^
					 ch->metadata[i].value[0]);
		for (uint64_t i = 0; i < n; i++)
			sum ^= bytes[i];
		messages++;
	}
	if (ret)
		check_error(mcap_reader_error(r), ret, len);
	else if (mcap_reader_stats(r) &&
		 mcap_reader_stats(r)->message_count != messages)
		abort(); /* an intact file's statistics hold */
	sink = sum;
	/* errors stick */
	if (ret && mcap_reader_next(r, &msg, &bytes, &n) != ret)
		abort();
	mcap_reader_close(r);
	return 0;
}
