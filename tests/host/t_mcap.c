// SPDX-License-Identifier: MIT
/*
 * The floe tool's MCAP writer and reader (tools/mcap_*.c) on their own:
 * round trips (compressed and not, many chunks, a message larger than a
 * chunk, an empty file), then damage: every truncation of a small file
 * must end in an error naming an offset within it, after only messages
 * that are intact and in order, and every corrupted bit in an error too
 * (before which a damaged record length may have made the reader skip or
 * misread records: the reason floe replay checks a file first); and the distinct
 * errors of a bad magic, version, compression, checksum and record limit.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mcap.h"
#include "tap.h"

#define N_MESSAGES 200
#define BIG_LEN 5000

static const struct mcap_kv meta[] = {
	{ "floe.type", "Position" },
	{ "floe.type_size", "16" },
	{ "", "empty key" },
};

/* Message @i: channel, fields and data (into @buf). */
static size_t message(int i, struct mcap_message *m, uint8_t *buf)
{
	size_t len = i == 7 ? BIG_LEN : (size_t)(i * 37) % 300;

	m->channel_id = (uint16_t)(1 + i % 3);
	m->sequence = (uint32_t)i * 3u;
	/* a clock step back at 50: the writer's index must cope */
	m->log_time = 1700000000000000000ull + (uint64_t)i * 1000003 -
		      (i >= 50 ? 500000 : 0);
	m->publish_time = m->log_time - 17;
	for (size_t j = 0; j < len; j++)
		buf[j] = (uint8_t)(i + j * 7);
	return len;
}

static int new_file(void)
{
	int fd = memfd_create("t_mcap", MFD_CLOEXEC);

	if (fd < 0) {
		printf("Bail out! memfd_create: %s\n", strerror(errno));
		exit(1);
	}
	return fd;
}

/* A file of @n messages on three channels, in @fd. */
static int write_file(int fd, int n, bool compress, size_t chunk_size)
{
	struct mcap_writer_opts opts = {
		.profile = "floe", .library = "t_mcap",
		.chunk_size = chunk_size, .compress = compress,
	};
	static uint8_t buf[BIG_LEN];
	mcap_writer *w;
	uint16_t id;
	int ret = mcap_writer_open(fd, &opts, &w);

	if (ret)
		return ret;
	for (int c = 0; c < 3 && !ret; c++) {
		char topic[16];

		snprintf(topic, sizeof(topic), "svc/%d", c);
		ret = mcap_writer_add_channel(w, topic, "floe", meta,
					      (size_t)c, &id);
	}
	for (int i = 0; i < n && !ret; i++) {
		struct mcap_message m;
		size_t len = message(i, &m, buf);
		/* the data in two pieces, as the recorder gives it */
		struct iovec iov[2] = { { buf, len / 3 },
					{ buf + len / 3, len - len / 3 } };

		ret = mcap_writer_write(w, &m, iov, 2);
	}
	if (ret) {
		mcap_writer_close(w);
		return ret;
	}
	return mcap_writer_close(w);
}

struct result {
	int ret;         /* the reader's last answer */
	int messages;    /* returned before it */
	bool all_intact; /* each equal to what was written */
	bool in_order;   /* and in the order written, none left out */
	struct mcap_read_error err;
	struct mcap_stats stats;
	bool have_stats;
	mcap_reader *r;  /* left open when keep is set */
};

static struct result read_file(int fd, uint64_t max_record, bool keep)
{
	static uint8_t want[BIG_LEN];
	struct result res = { .all_intact = true, .in_order = true };
	struct mcap_message m, w;
	const uint8_t *data;
	uint64_t len;

	res.ret = mcap_reader_open(fd, max_record, &res.r, &res.err);
	while (!res.ret && (res.ret = mcap_reader_next(res.r, &m, &data,
						       &len)) == 1) {
		/* the message written with this sequence number */
		size_t want_len = message((int)(m.sequence / 3), &w, want);

		if (m.sequence != (uint32_t)res.messages++ * 3)
			res.in_order = false;
		if (m.channel_id != w.channel_id || m.sequence != w.sequence ||
		    m.log_time != w.log_time ||
		    m.publish_time != w.publish_time || len != want_len ||
		    memcmp(data, want, len))
			res.all_intact = false;
		res.ret = 0;
	}
	if (res.r && res.ret)
		res.err = *mcap_reader_error(res.r);
	if (res.r && mcap_reader_stats(res.r)) {
		res.stats = *mcap_reader_stats(res.r);
		res.have_stats = true;
	}
	if (!keep) {
		mcap_reader_close(res.r);
		res.r = NULL;
	}
	return res;
}

static void round_trip(bool compress)
{
	const char *how = compress ? "zstd" : "uncompressed";
	int fd = new_file();
	struct result res;
	const struct mcap_channel *ch;

	tap_eq(write_file(fd, N_MESSAGES, compress, 1024), MCAP_OK,
	       "%s: %d messages written", how, N_MESSAGES);
	res = read_file(fd, 0, true);
	tap_eq(res.ret, 0, "%s: read to the end without error", how);
	tap_eq(res.messages, N_MESSAGES, "%s: every message read back", how);
	tap_ok(res.all_intact && res.in_order,
	       "%s: fields and data as written, in order", how);
	tap_ok(res.have_stats && res.stats.message_count == N_MESSAGES &&
		       res.stats.channel_count == 3 &&
		       res.stats.chunk_count > 10 &&
		       res.stats.message_start_time == 1700000000000000000ull &&
		       res.stats.message_end_time ==
			       1700000000000000000ull +
				       (N_MESSAGES - 1) * 1000003ull - 500000,
	       "%s: statistics (messages, channels, chunks, times)", how);
	ch = res.r ? mcap_reader_channel(res.r, 3) : NULL;
	tap_ok(ch && !strcmp(ch->topic, "svc/2") &&
		       !strcmp(ch->message_encoding, "floe") &&
		       ch->n_metadata == 2 &&
		       !strcmp(ch->metadata[0].key, "floe.type") &&
		       !strcmp(ch->metadata[0].value, "Position") &&
		       !strcmp(ch->metadata[1].value, "16") &&
		       !mcap_reader_channel(res.r, 4),
	       "%s: channel topic, encoding and metadata", how);
	mcap_reader_close(res.r);
	close(fd);
}

static void empty_file(void)
{
	int fd = new_file();
	struct result res;

	tap_eq(write_file(fd, 0, true, 0), MCAP_OK, "empty: written");
	res = read_file(fd, 0, false);
	tap_ok(res.ret == 0 && res.messages == 0 && res.have_stats &&
		       res.stats.message_count == 0,
	       "empty: read, no messages, statistics say 0");
	close(fd);
}

/* Read a copy of @file (@size bytes) cut to @len, with byte @at xored
 * with @x (no change when @at >= @len). One file serves every copy: tens
 * of thousands of them are read, and a file made and closed for each
 * costs more than the read in a VM with a debug kernel. */
static struct result read_damaged(const uint8_t *file, size_t len, size_t at,
				  uint8_t x, uint64_t max_record)
{
	static int fd = -1;
	struct result res;
	uint8_t *copy = malloc(len + 1);

	if (fd < 0)
		fd = new_file();
	memcpy(copy, file, len);
	if (at < len)
		copy[at] ^= x;
	if (ftruncate(fd, 0) || pwrite(fd, copy, len, 0) != (ssize_t)len)
		res = (struct result){ .ret = MCAP_E_IO };
	else
		res = read_file(fd, max_record, false);
	free(copy);
	return res;
}

/* A sane error: negative, an offset inside the file, a detail. */
static bool sane_error(const struct result *res, size_t size)
{
	return res->ret < 0 && res->err.code == res->ret &&
	       res->err.offset <= size && res->err.detail[0] &&
	       memchr(res->err.detail, 0, sizeof(res->err.detail));
}

static void damage(bool compress)
{
	const char *how = compress ? "zstd" : "uncompressed";
	int fd = new_file(), n = 7; /* the big one is 7th */
	size_t size, bad_trunc = 0, bad_flip = 0, missed = 0, off;
	uint8_t *file;

	tap_require(write_file(fd, n, compress, 512) == MCAP_OK,
		    "%s: small file written", how);
	size = (size_t)lseek(fd, 0, SEEK_END);
	file = malloc(size);
	tap_require(pread(fd, file, size, 0) == (ssize_t)size, "read it");
	for (size_t len = 0; len < size; len++) {
		struct result res = read_damaged(file, len, size, 0, 0);

		if (!sane_error(&res, len) || res.ret != MCAP_E_TRUNCATED ||
		    !res.all_intact || !res.in_order) {
			if (!bad_trunc++)
				tap_diag("cut to %zu: ret %d at %llu: %s", len,
					 res.ret,
					 (unsigned long long)res.err.offset,
					 res.err.detail);
		}
	}
	tap_eq(bad_trunc, 0, "%s: each of %zu truncations: 'truncated' at an "
	       "offset, only intact messages before", how, size);
	for (size_t at = 0; at < size; at++) {
		for (int bit = 0; bit < 8; bit++) {
			uint8_t x = (uint8_t)(1u << bit);
			struct result res = read_damaged(file, size, at, x, 0);

			if (!res.ret) {
				missed++;
				tap_diag("byte %zu ^ %#x read as intact", at, x);
			} else if (!sane_error(&res, size)) {
				if (!bad_flip++)
					tap_diag("byte %zu ^ %#x: ret %d, %d "
						 "messages (intact: %d): %s", at,
						 x, res.ret, res.messages,
						 res.all_intact, res.err.detail);
			}
		}
	}
	tap_eq(missed, 0, "%s: every corrupted bit of %zu bytes is found",
	       how, size);
	tap_eq(bad_flip, 0, "%s: ... as an error at an offset", how);
	/* the chunk's compression name, changed */
	off = 0;
	for (size_t i = 0; compress && i + 4 <= size; i++)
		if (!memcmp(file + i, "zstd", 4) && !off)
			off = i; /* the first chunk's */
	if (compress) {
		struct result res = read_damaged(file, size, off + 1, 'z' ^ 'Z',
						 0);

		tap_ok(res.ret == MCAP_E_UNSUPPORTED &&
			       strstr(res.err.detail, "'zStd'"),
		       "zstd: another compression is 'unsupported' (%s)",
		       res.err.detail);
	}
	free(file);
	close(fd);
}

static void distinct_errors(void)
{
	int fd = new_file();
	size_t size;
	uint8_t *file;
	struct result res;
	struct mcap_writer_opts opts = { .compress = true };
	mcap_writer *w = NULL;
	struct mcap_message m;
	static uint8_t buf[BIG_LEN];
	size_t last;

	tap_require(write_file(fd, 3, false, 0) == MCAP_OK,
		    "file of 3 messages, one chunk, uncompressed");
	size = (size_t)lseek(fd, 0, SEEK_END);
	file = malloc(size);
	tap_require(pread(fd, file, size, 0) == (ssize_t)size, "read it");

	res = read_damaged(file, size, 0, 0xff, 0);
	tap_ok(res.ret == MCAP_E_FORMAT && res.err.offset == 0 &&
		       strstr(res.err.detail, "not an MCAP file"),
	       "bad magic: 'malformed' at 0 (%s)", res.err.detail);
	res = read_damaged(file, size, 5, '0' ^ '1', 0);
	tap_ok(res.ret == MCAP_E_UNSUPPORTED && res.err.offset == 5,
	       "major version 1: 'unsupported' at 5 (%s)", res.err.detail);
	/* the last message's last byte: in the chunk, before its index */
	last = message(2, &m, buf);
	for (size_t i = size; i-- > 1;)
		if (file[i] == buf[last - 1] && file[i - 1] == buf[last - 2]) {
			res = read_damaged(file, size, i, 1, 0);
			break;
		}
	tap_ok(res.ret == MCAP_E_CRC && res.messages == 0 &&
		       strstr(res.err.detail, "chunk records"),
	       "a changed message byte: 'checksum mismatch' before any "
	       "message of its chunk (%s)", res.err.detail);
	res = read_damaged(file, size, size, 0, 64);
	tap_ok(res.ret == MCAP_E_TOO_LARGE,
	       "a record over the reader's limit: 'record too large' (%s)",
	       res.err.detail);
	free(file);
	close(fd);

	fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		tap_ok(1, "# SKIP no /dev/full");
		return;
	}
	tap_eq(mcap_writer_open(fd, &opts, &w), MCAP_E_IO,
	       "writing to a full device: 'input/output error'");
	close(fd);
}

int main(void)
{
	tap_init(100);
	round_trip(true);
	round_trip(false);
	empty_file();
	damage(true);
	damage(false);
	distinct_errors();
	return tap_done();
}
