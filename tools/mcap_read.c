// SPDX-License-Identifier: MIT
/*
 * MCAP reader (see mcap.h, and mcap_reader.h for its insides): walks the
 * file record by record from its start. Every length is checked against what is left of the file (or of
 * the record, or of the chunk) before it is used, so a damaged file ends
 * in an error that names the offset, never in a read out of bounds.
 *
 * The running CRC-32 covers the data section up to the data end record,
 * then the summary up to the footer's CRC field; each chunk's records are
 * checked against their own CRC before any message in them is returned.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "mcap_reader.h"

/* A file's string for a message: printable ASCII, at most 32 bytes. */
static const char *printable(char out[40], const uint8_t *s, uint32_t len)
{
	uint32_t n = len < 32 ? len : 32;

	for (uint32_t i = 0; i < n; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
	strcpy(out + n, len > n ? "..." : "");
	return out;
}

/* Bytes read ahead for small reads: a record header and a small record
 * are two reads each, a system call apiece without it. */
#define READ_WINDOW (64 * 1024)

/* Read @len bytes at @offset; the file may have shrunk meanwhile. */
static int read_direct(mcap_reader *r, void *buf, uint64_t len,
		       uint64_t offset)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = pread(r->fd, p, len, (off_t)offset);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return mcap_fail(r, MCAP_E_IO, offset, "%s", strerror(errno));
		if (!n)
			return mcap_fail(r, MCAP_E_TRUNCATED, offset,
				    "the file shrank while being read");
		p += n;
		len -= (uint64_t)n;
		offset += (uint64_t)n;
	}
	return MCAP_OK;
}

/* As read_direct, through the window when @len fits in it. */
static int read_at(mcap_reader *r, void *buf, uint64_t len, uint64_t offset)
{
	uint64_t want;
	int ret;

	if (len > READ_WINDOW)
		return read_direct(r, buf, len, offset);
	if (offset < r->window_off ||
	    offset - r->window_off + len > r->window_len) {
		if (!r->window && !(r->window = malloc(READ_WINDOW)))
			return read_direct(r, buf, len, offset);
		/* as much as the file has (r->size: callers read within
		 * it), at least @len */
		want = r->size > offset && r->size - offset < READ_WINDOW
			       ? r->size - offset
			       : READ_WINDOW;
		if (want < len)
			want = len;
		r->window_len = 0;
		ret = read_direct(r, r->window, want, offset);
		if (ret)
			return ret;
		r->window_off = offset;
		r->window_len = want;
	}
	memcpy(buf, r->window + (offset - r->window_off), len);
	return MCAP_OK;
}

/* Grow *@buf to @len bytes (at least); @len is below the record limit.
 * Never NULL after: cursors over empty records point somewhere. */
static int reserve(mcap_reader *r, uint8_t **buf, uint64_t *cap, uint64_t len,
		   uint64_t offset)
{
	uint8_t *p;

	if (*buf && len <= *cap)
		return MCAP_OK;
	p = realloc(*buf, len ? len : 1);
	if (!p)
		return mcap_fail(r, MCAP_E_NOMEM, offset,
			    "%llu bytes for a record", (unsigned long long)len);
	*buf = p;
	*cap = len;
	return MCAP_OK;
}

/* The record at r->pos into r->header and r->content. */
static int read_record(mcap_reader *r)
{
	uint64_t off = r->pos, left = r->size - r->pos;
	int ret;

	if (!left)
		return mcap_fail(r, MCAP_E_TRUNCATED, off,
			    "the file ends without a footer (recording cut "
			    "short?)");
	if (left < MCAP_RECORD_HEADER)
		return mcap_fail(r, MCAP_E_TRUNCATED, off,
			    "%llu bytes left, too few for a record",
			    (unsigned long long)left);
	ret = read_at(r, r->header, MCAP_RECORD_HEADER, off);
	if (ret)
		return ret;
	r->content_len = 0;
	for (int i = 0; i < 8; i++)
		r->content_len |= (uint64_t)r->header[1 + i] << (8 * i);
	if (r->content_len > left - MCAP_RECORD_HEADER)
		return mcap_fail(r, MCAP_E_TRUNCATED, off,
			    "record (opcode 0x%02x) of %llu bytes runs past "
			    "the end of the file (%llu bytes left)",
			    r->header[0], (unsigned long long)r->content_len,
			    (unsigned long long)(left - MCAP_RECORD_HEADER));
	if (r->content_len > r->max_record)
		return mcap_fail(r, MCAP_E_TOO_LARGE, off,
			    "record of %llu bytes, the limit is %llu",
			    (unsigned long long)r->content_len,
			    (unsigned long long)r->max_record);
	ret = reserve(r, &r->content, &r->content_cap, r->content_len, off);
	if (!ret)
		ret = read_at(r, r->content, r->content_len,
			      off + MCAP_RECORD_HEADER);
	r->record_offset = off;
	r->pos = off + MCAP_RECORD_HEADER + r->content_len;
	return ret;
}

static uint32_t record_crc(const mcap_reader *r, uint32_t crc)
{
	crc = (uint32_t)crc32_z(crc, r->header, MCAP_RECORD_HEADER);
	return (uint32_t)crc32_z(crc, r->content, r->content_len);
}

/* Where a record inside a chunk is, for messages. */
#define IN_CHUNK_FMT "chunk record at byte %llu: "
static int open_chunk(mcap_reader *r)
{
	struct cursor c = { r->content, r->content_len, 0, false };
	uint64_t off = r->record_offset, size, records_len;
	uint32_t crc, len;
	const uint8_t *compression, *records;
	char name[40];

	cur_uint(&c, 8); /* message start time */
	cur_uint(&c, 8); /* message end time */
	size = cur_uint(&c, 8);
	crc = (uint32_t)cur_uint(&c, 4);
	compression = cur_prefixed(&c, &len);
	records_len = cur_uint(&c, 8);
	records = cur_bytes(&c, records_len);
	if (c.overrun)
		return mcap_fail(r, MCAP_E_FORMAT, off,
			    "chunk record shorter than its fields");
	if (!len) {
		if (size != records_len)
			return mcap_fail(r, MCAP_E_FORMAT, off,
				    "uncompressed chunk of %llu bytes says "
				    "%llu", (unsigned long long)records_len,
				    (unsigned long long)size);
	} else if (len == 4 && !memcmp(compression, "zstd", 4)) {
		size_t n;

		unsigned long long framed;

		if (size > r->max_record)
			return mcap_fail(r, MCAP_E_TOO_LARGE, off,
				    "chunk of %llu bytes uncompressed, the "
				    "limit is %llu", (unsigned long long)size,
				    (unsigned long long)r->max_record);
		/* The frame says its size too (unless its writer did not
		 * know it): both must agree before that much memory is
		 * asked for, so a damaged size costs no allocation. */
		framed = ZSTD_getFrameContentSize(records, records_len);
		if (framed == ZSTD_CONTENTSIZE_ERROR)
			return mcap_fail(r, MCAP_E_FORMAT, off,
				    "chunk compression 'zstd' but no zstd "
				    "frame");
		if (framed != ZSTD_CONTENTSIZE_UNKNOWN && framed != size)
			return mcap_fail(r, MCAP_E_FORMAT, off,
				    "chunk of %llu bytes uncompressed, its zstd "
				    "frame says %llu", (unsigned long long)size,
				    framed);
		if (reserve(r, &r->unpacked, &r->unpacked_cap, size, off))
			return r->err.code;
		if (!r->zstd && !(r->zstd = ZSTD_createDCtx()))
			return mcap_fail(r, MCAP_E_NOMEM, off, "zstd context");
		n = ZSTD_decompressDCtx(r->zstd, r->unpacked, size, records,
					records_len);
		if (ZSTD_isError(n))
			return mcap_fail(r, MCAP_E_FORMAT, off, "zstd: %s",
				    ZSTD_getErrorName(n));
		if (n != size)
			return mcap_fail(r, MCAP_E_FORMAT, off,
				    "chunk decompressed to %zu bytes, it says "
				    "%llu", n, (unsigned long long)size);
		records = r->unpacked;
	} else {
		return mcap_fail(r, MCAP_E_UNSUPPORTED, off,
			    "chunk compression '%s'",
			    printable(name, compression, len));
	}
	if (crc && crc32_z(0, records, size) != crc)
		return mcap_fail(r, MCAP_E_CRC, off,
			    "chunk records: CRC %08lx, the chunk says %08x",
			    crc32_z(0, records, size), crc);
	r->chunk = (struct cursor){ records, size, 0, false };
	r->chunk_offset = off;
	r->in_chunk = true;
	return MCAP_OK;
}

/* The chunk's next message: 1, 0 when it has no more, or an error. */
static int next_in_chunk(mcap_reader *r, struct mcap_message *msg,
			 const uint8_t **data, uint64_t *len)
{
	struct cursor *c = &r->chunk;

	while (c->pos < c->len) {
		unsigned long long at = c->pos;
		uint8_t op = (uint8_t)cur_uint(c, 1);
		uint64_t rec_len = cur_uint(c, 8);
		struct cursor rec = { .p = cur_bytes(c, rec_len), .len = rec_len };
		int ret = MCAP_OK;

		if (c->overrun)
			return mcap_fail(r, MCAP_E_FORMAT, r->chunk_offset,
				    IN_CHUNK_FMT "runs past the chunk's end",
				    at);
		switch (op) {
		case MCAP_OP_MESSAGE:
			return mcap_parse_message(r, &rec, r->chunk_offset, msg,
					     data, len);
		case MCAP_OP_CHANNEL:
			ret = mcap_parse_channel(r, &rec, r->chunk_offset);
			break;
		case MCAP_OP_SCHEMA:
			ret = mcap_parse_schema(r, &rec, r->chunk_offset);
			break;
		default:
			/* later versions and private records: skipped */
			if (op <= MCAP_OP_DATA_END)
				return mcap_fail(r, MCAP_E_FORMAT, r->chunk_offset,
					    IN_CHUNK_FMT "opcode 0x%02x may "
					    "not be in a chunk", at, op);
		}
		if (ret) {
			/* name the record inside the chunk too */
			char detail[sizeof(r->err.detail) + 48];

			snprintf(detail, sizeof(detail), IN_CHUNK_FMT "%s",
				 at, r->err.detail);
			memcpy(r->err.detail, detail, sizeof(r->err.detail));
			r->err.detail[sizeof(r->err.detail) - 1] = '\0';
			return ret;
		}
	}
	r->in_chunk = false;
	return 0;
}
/* The footer and the closing magic: the file's last bytes. */
static int parse_footer(mcap_reader *r, uint32_t crc)
{
	struct cursor c = { r->content, r->content_len, 0, false };
	uint64_t off = r->record_offset, summary_start, offsets_start;
	uint64_t left = r->size - r->pos;
	uint32_t summary_crc;
	uint8_t magic[MCAP_MAGIC_LEN];
	int ret;

	if (r->content_len != MCAP_FOOTER_LEN)
		return mcap_fail(r, MCAP_E_FORMAT, off,
			    "footer of %llu bytes, not %d",
			    (unsigned long long)r->content_len,
			    MCAP_FOOTER_LEN);
	summary_start = cur_uint(&c, 8);
	offsets_start = cur_uint(&c, 8);
	summary_crc = (uint32_t)cur_uint(&c, 4);
	if (summary_start && summary_start != r->summary_start)
		return mcap_fail(r, MCAP_E_FORMAT, off,
			    "footer: the summary starts at %llu, not %llu",
			    (unsigned long long)r->summary_start,
			    (unsigned long long)summary_start);
	if (offsets_start && offsets_start != r->offsets_start)
		return mcap_fail(r, MCAP_E_FORMAT, off,
			    "footer: the summary offsets start at %llu, not "
			    "%llu", (unsigned long long)r->offsets_start,
			    (unsigned long long)offsets_start);
	crc = (uint32_t)crc32_z(crc, r->header, MCAP_RECORD_HEADER);
	crc = (uint32_t)crc32_z(crc, r->content, 16);
	if (summary_crc && summary_crc != crc)
		return mcap_fail(r, MCAP_E_CRC, off,
			    "summary: CRC %08x, the footer says %08x", crc,
			    summary_crc);
	if (r->have_stats && r->stats.message_count != r->messages)
		return mcap_fail(r, MCAP_E_FORMAT, off,
			    "the statistics count %llu messages, the file "
			    "has %llu",
			    (unsigned long long)r->stats.message_count,
			    (unsigned long long)r->messages);
	if (left < MCAP_MAGIC_LEN)
		return mcap_fail(r, MCAP_E_TRUNCATED, r->pos,
			    "%llu bytes after the footer, not the closing "
			    "magic", (unsigned long long)left);
	ret = read_at(r, magic, MCAP_MAGIC_LEN, r->pos);
	if (ret)
		return ret;
	if (memcmp(magic, MCAP_MAGIC, MCAP_MAGIC_LEN))
		return mcap_fail(r, MCAP_E_FORMAT, r->pos, "bad closing magic");
	if (left > MCAP_MAGIC_LEN)
		return mcap_fail(r, MCAP_E_FORMAT, r->pos + MCAP_MAGIC_LEN,
			    "%llu bytes after the closing magic",
			    (unsigned long long)(left - MCAP_MAGIC_LEN));
	r->section = AT_END;
	return MCAP_OK;
}

static int data_record(mcap_reader *r, struct mcap_message *msg,
		       const uint8_t **data, uint64_t *len)
{
	struct cursor c = { r->content, r->content_len, 0, false };
	uint64_t off = r->record_offset;
	uint8_t op = r->header[0];
	uint32_t want;

	switch (op) {
	case MCAP_OP_MESSAGE:
		return mcap_parse_message(r, &c, off, msg, data, len);
	case MCAP_OP_CHANNEL:
		return mcap_parse_channel(r, &c, off);
	case MCAP_OP_SCHEMA:
		return mcap_parse_schema(r, &c, off);
	case MCAP_OP_CHUNK:
		return open_chunk(r);
	case MCAP_OP_DATA_END:
		if (r->content_len != MCAP_DATA_END_LEN)
			return mcap_fail(r, MCAP_E_FORMAT, off,
				    "data end record of %llu bytes, not %d",
				    (unsigned long long)r->content_len,
				    MCAP_DATA_END_LEN);
		want = (uint32_t)cur_uint(&c, 4);
		if (want && want != r->crc)
			return mcap_fail(r, MCAP_E_CRC, off,
				    "data section: CRC %08x, the data end "
				    "record says %08x", r->crc, want);
		r->section = IN_SUMMARY;
		r->summary_start = r->pos;
		return MCAP_OK;
	case MCAP_OP_FOOTER: /* a file without data end and summary */
		return parse_footer(r, 0);
	case MCAP_OP_MESSAGE_INDEX:
	case MCAP_OP_ATTACHMENT:
	case MCAP_OP_METADATA:
		return MCAP_OK; /* indexes and content floe does not use */
	}
	if (op <= MCAP_OP_DATA_END)
		return mcap_fail(r, MCAP_E_FORMAT, off,
			    "opcode 0x%02x may not be in the data section", op);
	return MCAP_OK; /* later versions and private records: skipped */
}

static int summary_record(mcap_reader *r)
{
	struct cursor c = { r->content, r->content_len, 0, false };
	uint8_t op = r->header[0];

	switch (op) {
	case MCAP_OP_CHANNEL:
		return mcap_parse_channel(r, &c, r->record_offset);
	case MCAP_OP_SCHEMA:
		return mcap_parse_schema(r, &c, r->record_offset);
	case MCAP_OP_STATISTICS:
		return mcap_parse_statistics(r);
	case MCAP_OP_FOOTER:
		return parse_footer(r, r->crc);
	case MCAP_OP_SUMMARY_OFFSET:
		if (!r->offsets_start)
			r->offsets_start = r->record_offset;
		return MCAP_OK;
	case MCAP_OP_CHUNK_INDEX:
	case MCAP_OP_ATTACHMENT_INDEX:
	case MCAP_OP_METADATA_INDEX:
		return MCAP_OK; /* a reader from the start needs no index */
	}
	if (op <= MCAP_OP_DATA_END)
		return mcap_fail(r, MCAP_E_FORMAT, r->record_offset,
			    "opcode 0x%02x may not be in the summary", op);
	return MCAP_OK;
}

int mcap_reader_next(mcap_reader *r, struct mcap_message *msg,
		     const uint8_t **data, uint64_t *len)
{
	int ret;

	while (!r->err.code) {
		if (r->in_chunk) {
			ret = next_in_chunk(r, msg, data, len);
			if (ret)
				return ret;
			continue;
		}
		if (r->section == AT_END)
			return 0;
		ret = read_record(r);
		if (ret)
			return ret;
		ret = r->section == IN_DATA ? data_record(r, msg, data, len)
					    : summary_record(r);
		/* the CRC up to here, unless the record started a section */
		if (r->summary_start == r->pos)
			r->crc = 0;
		else
			r->crc = record_crc(r, r->crc);
		if (ret)
			return ret;
	}
	return r->err.code;
}

int mcap_reader_open(int fd, uint64_t max_record, mcap_reader **out,
		     struct mcap_read_error *err)
{
	mcap_reader *r = calloc(1, sizeof(*r));
	uint8_t magic[MCAP_MAGIC_LEN];
	struct stat st;
	struct cursor c;
	uint32_t len;
	int ret;

	*out = NULL;
	memset(err, 0, sizeof(*err));
	if (!r) {
		err->code = MCAP_E_NOMEM;
		snprintf(err->detail, sizeof(err->detail), "the reader");
		return err->code;
	}
	r->fd = fd;
	r->max_record = max_record ? max_record : MCAP_MAX_RECORD_DEFAULT;
	if (fstat(fd, &st))
		ret = mcap_fail(r, MCAP_E_IO, 0, "%s", strerror(errno));
	else if ((r->size = (uint64_t)st.st_size) < MCAP_MAGIC_LEN)
		ret = mcap_fail(r, MCAP_E_TRUNCATED, 0,
			   "%llu bytes, too few for MCAP",
			   (unsigned long long)r->size);
	else
		ret = read_at(r, magic, MCAP_MAGIC_LEN, 0);
	if (!ret && memcmp(magic, MCAP_MAGIC, 5))
		ret = mcap_fail(r, MCAP_E_FORMAT, 0, "not an MCAP file (no magic)");
	else if (!ret && memcmp(magic, MCAP_MAGIC, MCAP_MAGIC_LEN))
		ret = mcap_fail(r, MCAP_E_UNSUPPORTED, 5,
			   "MCAP major version 0x%02x", magic[5]);
	r->pos = MCAP_MAGIC_LEN;
	r->crc = (uint32_t)crc32_z(0, magic, MCAP_MAGIC_LEN);
	if (!ret)
		ret = read_record(r);
	if (!ret && r->header[0] != MCAP_OP_HEADER)
		ret = mcap_fail(r, MCAP_E_FORMAT, MCAP_MAGIC_LEN,
			   "the first record (opcode 0x%02x) is no header",
			   r->header[0]);
	if (!ret) {
		c = (struct cursor){ r->content, r->content_len, 0, false };
		cur_prefixed(&c, &len); /* profile */
		cur_prefixed(&c, &len); /* library */
		if (c.overrun)
			ret = mcap_fail(r, MCAP_E_FORMAT, MCAP_MAGIC_LEN,
				   "header record shorter than its fields");
		r->crc = record_crc(r, r->crc);
	}
	if (ret) {
		*err = r->err;
		mcap_reader_close(r);
		return ret;
	}
	*out = r;
	return MCAP_OK;
}

const struct mcap_channel *mcap_reader_channel(const mcap_reader *r,
					       uint16_t id)
{
	return r->channels[id] ? &r->channels[id]->pub : NULL;
}

const struct mcap_read_error *mcap_reader_error(const mcap_reader *r)
{
	return &r->err;
}

const struct mcap_stats *mcap_reader_stats(const mcap_reader *r)
{
	return r->section == AT_END && r->have_stats ? &r->stats : NULL;
}

void mcap_reader_close(mcap_reader *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_defined; i++)
		free(r->channels[r->defined[i]]);
	free(r->defined);
	free(r->content);
	free(r->unpacked);
	free(r->window);
	ZSTD_freeDCtx(r->zstd);
	free(r);
}
