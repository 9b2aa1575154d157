// SPDX-License-Identifier: MIT
/*
 * MCAP reader (see mcap.h): walks the file record by record from its
 * start. Every length is checked against what is left of the file (or of
 * the record, or of the chunk) before it is used, so a damaged file ends
 * in an error that names the offset, never in a read out of bounds.
 *
 * The running CRC-32 covers the data section up to the data end record,
 * then the summary up to the footer's CRC field; each chunk's records are
 * checked against their own CRC before any message in them is returned.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include "mcap.h"

/* Bounds-checked little-endian reads from a byte range. */
struct cursor {
	const uint8_t *p;
	uint64_t len, pos;
	bool overrun; /* a read went past len; it returned zeros */
};

static const uint8_t *get_bytes(struct cursor *c, uint64_t n)
{
	const uint8_t *p = c->p + c->pos;

	if (c->overrun || n > c->len - c->pos) {
		c->overrun = true;
		return NULL;
	}
	c->pos += n;
	return p;
}

static uint64_t get_uint(struct cursor *c, int bytes)
{
	const uint8_t *p = get_bytes(c, (uint64_t)bytes);
	uint64_t v = 0;

	for (int i = 0; p && i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* A uint32-length-prefixed string or byte array. */
static const uint8_t *get_prefixed(struct cursor *c, uint32_t *len)
{
	*len = (uint32_t)get_uint(c, 4);
	return get_bytes(c, *len);
}

struct channel {
	struct mcap_channel pub;
	uint8_t *record; /* the channel record's content, for redefinitions */
	uint64_t record_len;
};

enum section { IN_DATA, IN_SUMMARY, AT_END };

struct mcap_reader {
	int fd;
	uint64_t size, max_record;
	uint64_t pos; /* of the next record */
	enum section section;
	/* CRC of the section so far, without the current record */
	uint32_t crc;
	uint64_t summary_start;  /* 0: no data end record (yet) */
	uint64_t offsets_start;  /* of the first summary offset record */
	struct mcap_read_error err;
	/* the current record */
	uint8_t header[MCAP_RECORD_HEADER];
	uint8_t *content;
	uint64_t content_len, content_cap, record_offset;
	/* the chunk whose records are being returned */
	struct cursor chunk;
	bool in_chunk;
	uint64_t chunk_offset;
	uint8_t *unpacked;
	uint64_t unpacked_cap;
	ZSTD_DCtx *zstd;
	/* by id; the ids defined, to free them without touching every
	 * page of the table */
	struct channel *channels[65536];
	uint16_t *defined;
	size_t n_defined;
	uint8_t schemas[65536 / 8];
	uint64_t messages;
	struct mcap_stats stats;
	bool have_stats;
};

const char *mcap_strerror(int err)
{
	switch (err) {
	case MCAP_OK:
		return "success";
	case MCAP_E_IO:
		return "input/output error";
	case MCAP_E_NOMEM:
		return "out of memory";
	case MCAP_E_TRUNCATED:
		return "truncated";
	case MCAP_E_FORMAT:
		return "malformed";
	case MCAP_E_CRC:
		return "checksum mismatch";
	case MCAP_E_UNSUPPORTED:
		return "unsupported";
	case MCAP_E_TOO_LARGE:
		return "record too large";
	case MCAP_E_INVALID:
		return "invalid argument";
	}
	return "unknown MCAP error";
}

__attribute__((format(printf, 4, 5)))
static int fail(mcap_reader *r, int code, uint64_t offset, const char *fmt,
		...)
{
	va_list ap;

	r->err.code = code;
	r->err.offset = offset;
	va_start(ap, fmt);
	vsnprintf(r->err.detail, sizeof(r->err.detail), fmt, ap);
	va_end(ap);
	return code;
}

/* A file's string for a message: printable ASCII, at most 32 bytes. */
static const char *printable(char out[40], const uint8_t *s, uint32_t len)
{
	uint32_t n = len < 32 ? len : 32;

	for (uint32_t i = 0; i < n; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
	strcpy(out + n, len > n ? "..." : "");
	return out;
}

/* Read @len bytes at @offset; the file may have shrunk meanwhile. */
static int read_at(mcap_reader *r, void *buf, uint64_t len, uint64_t offset)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = pread(r->fd, p, len, (off_t)offset);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(r, MCAP_E_IO, offset, "%s", strerror(errno));
		if (!n)
			return fail(r, MCAP_E_TRUNCATED, offset,
				    "the file shrank while being read");
		p += n;
		len -= (uint64_t)n;
		offset += (uint64_t)n;
	}
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
		return fail(r, MCAP_E_NOMEM, offset,
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
		return fail(r, MCAP_E_TRUNCATED, off,
			    "the file ends without a footer (recording cut "
			    "short?)");
	if (left < MCAP_RECORD_HEADER)
		return fail(r, MCAP_E_TRUNCATED, off,
			    "%llu bytes left, too few for a record",
			    (unsigned long long)left);
	ret = read_at(r, r->header, MCAP_RECORD_HEADER, off);
	if (ret)
		return ret;
	r->content_len = 0;
	for (int i = 0; i < 8; i++)
		r->content_len |= (uint64_t)r->header[1 + i] << (8 * i);
	if (r->content_len > left - MCAP_RECORD_HEADER)
		return fail(r, MCAP_E_TRUNCATED, off,
			    "record (opcode 0x%02x) of %llu bytes runs past "
			    "the end of the file (%llu bytes left)",
			    r->header[0], (unsigned long long)r->content_len,
			    (unsigned long long)(left - MCAP_RECORD_HEADER));
	if (r->content_len > r->max_record)
		return fail(r, MCAP_E_TOO_LARGE, off,
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

static int parse_schema(mcap_reader *r, struct cursor *c, uint64_t offset)
{
	uint16_t id = (uint16_t)get_uint(c, 2);
	uint32_t len;

	get_prefixed(c, &len); /* name */
	get_prefixed(c, &len); /* encoding */
	get_prefixed(c, &len); /* data */
	if (c->overrun)
		return fail(r, MCAP_E_FORMAT, offset,
			    "schema record shorter than its fields");
	/* id 0 is invalid and ignored, says the specification */
	r->schemas[id / 8] |= (uint8_t)(id ? 1u << (id % 8) : 0);
	return MCAP_OK;
}

/* The map<string, string> at @c, @n its entries: checked, counted. */
static bool check_map(struct cursor *c, size_t *n)
{
	uint32_t map_len, len;
	struct cursor m = { .p = get_prefixed(c, &map_len) };

	m.len = map_len;
	*n = 0;
	while (m.p && m.pos < m.len && !m.overrun) {
		get_prefixed(&m, &len);
		get_prefixed(&m, &len);
		++*n;
	}
	return !c->overrun && !m.overrun;
}

/* A string of the file as a C string in @dst (NUL bytes refused). */
static char *copy_str(struct cursor *c, char **dst, bool *bad)
{
	uint32_t len;
	const uint8_t *s = get_prefixed(c, &len);
	char *out = *dst;

	if (!s || memchr(s, 0, len)) {
		*bad = true;
		return NULL;
	}
	memcpy(out, s, len);
	out[len] = '\0';
	*dst += len + 1;
	return out;
}

static int parse_channel(mcap_reader *r, struct cursor *c, uint64_t offset)
{
	struct cursor check = *c;
	uint16_t id = (uint16_t)get_uint(&check, 2);
	uint16_t schema = (uint16_t)get_uint(&check, 2);
	const uint8_t *rec = c->p + c->pos;
	uint64_t rec_len = c->len - c->pos;
	struct channel *ch = r->channels[id];
	struct mcap_kv *kv;
	uint16_t *ids;
	uint32_t len;
	size_t n;
	char *strings;
	bool bad = false;

	get_prefixed(&check, &len); /* topic */
	get_prefixed(&check, &len); /* message encoding */
	if (!check_map(&check, &n))
		return fail(r, MCAP_E_FORMAT, offset,
			    "channel record shorter than its fields");
	if (schema && !(r->schemas[schema / 8] & 1u << (schema % 8)))
		return fail(r, MCAP_E_FORMAT, offset,
			    "channel %u refers to schema %u, not defined "
			    "before it", id, schema);
	if (ch) {
		if (ch->record_len != rec_len || memcmp(ch->record, rec, rec_len))
			return fail(r, MCAP_E_FORMAT, offset,
				    "channel %u defined again, differently",
				    id);
		return MCAP_OK;
	}
	/* one block: the channel, its metadata, the record, its strings
	 * (each no longer than the record, plus a NUL) */
	ch = calloc(1, sizeof(*ch) + n * sizeof(*kv) + 2 * rec_len +
			       2 * n + 2);
	if (!ch)
		return fail(r, MCAP_E_NOMEM, offset, "a channel");
	kv = (struct mcap_kv *)(ch + 1);
	ch->record = (uint8_t *)(kv + n);
	memcpy(ch->record, rec, rec_len);
	ch->record_len = rec_len;
	strings = (char *)ch->record + rec_len;
	get_uint(c, 4); /* id, schema */
	ch->pub.id = id;
	ch->pub.topic = copy_str(c, &strings, &bad);
	ch->pub.message_encoding = copy_str(c, &strings, &bad);
	get_uint(c, 4); /* the map's length: check_map went through it */
	for (size_t i = 0; i < n && !bad; i++) {
		kv[i].key = copy_str(c, &strings, &bad);
		kv[i].value = copy_str(c, &strings, &bad);
	}
	if (bad) {
		free(ch);
		return fail(r, MCAP_E_FORMAT, offset,
			    "channel %u: a string holds a NUL byte", id);
	}
	ch->pub.metadata = kv;
	ch->pub.n_metadata = n;
	ids = realloc(r->defined, (r->n_defined + 1) * sizeof(*ids));
	if (!ids) {
		free(ch);
		return fail(r, MCAP_E_NOMEM, offset, "a channel");
	}
	r->defined = ids;
	r->defined[r->n_defined++] = id;
	r->channels[id] = ch;
	return MCAP_OK;
}

static int parse_message(mcap_reader *r, struct cursor *c, uint64_t offset,
			 struct mcap_message *msg, const uint8_t **data,
			 uint64_t *len)
{
	if (c->len - c->pos < MCAP_MESSAGE_FIELDS)
		return fail(r, MCAP_E_FORMAT, offset,
			    "message record of %llu bytes, shorter than its "
			    "fields", (unsigned long long)(c->len - c->pos));
	msg->channel_id = (uint16_t)get_uint(c, 2);
	msg->sequence = (uint32_t)get_uint(c, 4);
	msg->log_time = get_uint(c, 8);
	msg->publish_time = get_uint(c, 8);
	if (!r->channels[msg->channel_id])
		return fail(r, MCAP_E_FORMAT, offset,
			    "message on channel %u, not defined before it",
			    msg->channel_id);
	*len = c->len - c->pos;
	*data = get_bytes(c, *len);
	r->messages++;
	return 1;
}

static int open_chunk(mcap_reader *r)
{
	struct cursor c = { r->content, r->content_len, 0, false };
	uint64_t off = r->record_offset, size, records_len;
	uint32_t crc, len;
	const uint8_t *compression, *records;
	char name[40];

	get_uint(&c, 8); /* message start time */
	get_uint(&c, 8); /* message end time */
	size = get_uint(&c, 8);
	crc = (uint32_t)get_uint(&c, 4);
	compression = get_prefixed(&c, &len);
	records_len = get_uint(&c, 8);
	records = get_bytes(&c, records_len);
	if (c.overrun)
		return fail(r, MCAP_E_FORMAT, off,
			    "chunk record shorter than its fields");
	if (!len) {
		if (size != records_len)
			return fail(r, MCAP_E_FORMAT, off,
				    "uncompressed chunk of %llu bytes says "
				    "%llu", (unsigned long long)records_len,
				    (unsigned long long)size);
	} else if (len == 4 && !memcmp(compression, "zstd", 4)) {
		size_t n;

		if (size > r->max_record)
			return fail(r, MCAP_E_TOO_LARGE, off,
				    "chunk of %llu bytes uncompressed, the "
				    "limit is %llu", (unsigned long long)size,
				    (unsigned long long)r->max_record);
		if (reserve(r, &r->unpacked, &r->unpacked_cap, size, off))
			return r->err.code;
		if (!r->zstd && !(r->zstd = ZSTD_createDCtx()))
			return fail(r, MCAP_E_NOMEM, off, "zstd context");
		n = ZSTD_decompressDCtx(r->zstd, r->unpacked, size, records,
					records_len);
		if (ZSTD_isError(n))
			return fail(r, MCAP_E_FORMAT, off, "zstd: %s",
				    ZSTD_getErrorName(n));
		if (n != size)
			return fail(r, MCAP_E_FORMAT, off,
				    "chunk decompressed to %zu bytes, it says "
				    "%llu", n, (unsigned long long)size);
		records = r->unpacked;
	} else {
		return fail(r, MCAP_E_UNSUPPORTED, off,
			    "chunk compression '%s'",
			    printable(name, compression, len));
	}
	if (crc && crc32_z(0, records, size) != crc)
		return fail(r, MCAP_E_CRC, off,
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
		uint8_t op = (uint8_t)get_uint(c, 1);
		uint64_t rec_len = get_uint(c, 8);
		struct cursor rec = { .p = get_bytes(c, rec_len), .len = rec_len };
		int ret = MCAP_OK;

		if (c->overrun)
			return fail(r, MCAP_E_FORMAT, r->chunk_offset,
				    IN_CHUNK_FMT "runs past the chunk's end",
				    at);
		switch (op) {
		case MCAP_OP_MESSAGE:
			return parse_message(r, &rec, r->chunk_offset, msg,
					     data, len);
		case MCAP_OP_CHANNEL:
			ret = parse_channel(r, &rec, r->chunk_offset);
			break;
		case MCAP_OP_SCHEMA:
			ret = parse_schema(r, &rec, r->chunk_offset);
			break;
		default:
			/* later versions and private records: skipped */
			if (op <= MCAP_OP_DATA_END)
				return fail(r, MCAP_E_FORMAT, r->chunk_offset,
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

static int parse_statistics(mcap_reader *r)
{
	struct cursor c = { r->content, r->content_len, 0, false };
	uint32_t counts_len;

	r->stats.message_count = get_uint(&c, 8);
	get_uint(&c, 2); /* schemas */
	r->stats.channel_count = (uint32_t)get_uint(&c, 4);
	get_uint(&c, 8); /* attachments, metadata */
	r->stats.chunk_count = (uint32_t)get_uint(&c, 4);
	r->stats.message_start_time = get_uint(&c, 8);
	r->stats.message_end_time = get_uint(&c, 8);
	get_prefixed(&c, &counts_len); /* map<channel id u16, count u64> */
	if (c.overrun || counts_len % 10)
		return fail(r, MCAP_E_FORMAT, r->record_offset,
			    "statistics record shorter than its fields");
	r->have_stats = true;
	return MCAP_OK;
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
		return fail(r, MCAP_E_FORMAT, off,
			    "footer of %llu bytes, not %d",
			    (unsigned long long)r->content_len,
			    MCAP_FOOTER_LEN);
	summary_start = get_uint(&c, 8);
	offsets_start = get_uint(&c, 8);
	summary_crc = (uint32_t)get_uint(&c, 4);
	if (summary_start && summary_start != r->summary_start)
		return fail(r, MCAP_E_FORMAT, off,
			    "footer: the summary starts at %llu, not %llu",
			    (unsigned long long)r->summary_start,
			    (unsigned long long)summary_start);
	if (offsets_start && offsets_start != r->offsets_start)
		return fail(r, MCAP_E_FORMAT, off,
			    "footer: the summary offsets start at %llu, not "
			    "%llu", (unsigned long long)r->offsets_start,
			    (unsigned long long)offsets_start);
	crc = (uint32_t)crc32_z(crc, r->header, MCAP_RECORD_HEADER);
	crc = (uint32_t)crc32_z(crc, r->content, 16);
	if (summary_crc && summary_crc != crc)
		return fail(r, MCAP_E_CRC, off,
			    "summary: CRC %08x, the footer says %08x", crc,
			    summary_crc);
	if (r->have_stats && r->stats.message_count != r->messages)
		return fail(r, MCAP_E_FORMAT, off,
			    "the statistics count %llu messages, the file "
			    "has %llu",
			    (unsigned long long)r->stats.message_count,
			    (unsigned long long)r->messages);
	if (left < MCAP_MAGIC_LEN)
		return fail(r, MCAP_E_TRUNCATED, r->pos,
			    "%llu bytes after the footer, not the closing "
			    "magic", (unsigned long long)left);
	ret = read_at(r, magic, MCAP_MAGIC_LEN, r->pos);
	if (ret)
		return ret;
	if (memcmp(magic, MCAP_MAGIC, MCAP_MAGIC_LEN))
		return fail(r, MCAP_E_FORMAT, r->pos, "bad closing magic");
	if (left > MCAP_MAGIC_LEN)
		return fail(r, MCAP_E_FORMAT, r->pos + MCAP_MAGIC_LEN,
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
		return parse_message(r, &c, off, msg, data, len);
	case MCAP_OP_CHANNEL:
		return parse_channel(r, &c, off);
	case MCAP_OP_SCHEMA:
		return parse_schema(r, &c, off);
	case MCAP_OP_CHUNK:
		return open_chunk(r);
	case MCAP_OP_DATA_END:
		if (r->content_len != MCAP_DATA_END_LEN)
			return fail(r, MCAP_E_FORMAT, off,
				    "data end record of %llu bytes, not %d",
				    (unsigned long long)r->content_len,
				    MCAP_DATA_END_LEN);
		want = (uint32_t)get_uint(&c, 4);
		if (want && want != r->crc)
			return fail(r, MCAP_E_CRC, off,
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
		return fail(r, MCAP_E_FORMAT, off,
			    "opcode 0x%02x may not be in the data section", op);
	return MCAP_OK; /* later versions and private records: skipped */
}

static int summary_record(mcap_reader *r)
{
	struct cursor c = { r->content, r->content_len, 0, false };
	uint8_t op = r->header[0];

	switch (op) {
	case MCAP_OP_CHANNEL:
		return parse_channel(r, &c, r->record_offset);
	case MCAP_OP_SCHEMA:
		return parse_schema(r, &c, r->record_offset);
	case MCAP_OP_STATISTICS:
		return parse_statistics(r);
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
		return fail(r, MCAP_E_FORMAT, r->record_offset,
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
		ret = fail(r, MCAP_E_IO, 0, "%s", strerror(errno));
	else if ((r->size = (uint64_t)st.st_size) < MCAP_MAGIC_LEN)
		ret = fail(r, MCAP_E_TRUNCATED, 0,
			   "%llu bytes, too few for MCAP",
			   (unsigned long long)r->size);
	else
		ret = read_at(r, magic, MCAP_MAGIC_LEN, 0);
	if (!ret && memcmp(magic, MCAP_MAGIC, 5))
		ret = fail(r, MCAP_E_FORMAT, 0, "not an MCAP file (no magic)");
	else if (!ret && memcmp(magic, MCAP_MAGIC, MCAP_MAGIC_LEN))
		ret = fail(r, MCAP_E_UNSUPPORTED, 5,
			   "MCAP major version 0x%02x", magic[5]);
	r->pos = MCAP_MAGIC_LEN;
	r->crc = (uint32_t)crc32_z(0, magic, MCAP_MAGIC_LEN);
	if (!ret)
		ret = read_record(r);
	if (!ret && r->header[0] != MCAP_OP_HEADER)
		ret = fail(r, MCAP_E_FORMAT, MCAP_MAGIC_LEN,
			   "the first record (opcode 0x%02x) is no header",
			   r->header[0]);
	if (!ret) {
		c = (struct cursor){ r->content, r->content_len, 0, false };
		get_prefixed(&c, &len); /* profile */
		get_prefixed(&c, &len); /* library */
		if (c.overrun)
			ret = fail(r, MCAP_E_FORMAT, MCAP_MAGIC_LEN,
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
	ZSTD_freeDCtx(r->zstd);
	free(r);
}
