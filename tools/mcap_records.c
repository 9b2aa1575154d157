// SPDX-License-Identifier: MIT
/*
 * MCAP reader, part two (see mcap_reader.h): the content of single records
 * — schema, channel, message, statistics — read through bounds-checked
 * cursors, and the reader's errors.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcap_reader.h"

const uint8_t *cur_bytes(struct cursor *c, uint64_t n)
{
	const uint8_t *p;

	if (c->overrun || n > c->len - c->pos) {
		c->overrun = true;
		return NULL;
	}
	p = c->p + c->pos;
	c->pos += n;
	return p;
}

uint64_t cur_uint(struct cursor *c, int bytes)
{
	const uint8_t *p = cur_bytes(c, (uint64_t)bytes);
	uint64_t v = 0;

	for (int i = 0; p && i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* A uint32-length-prefixed string or byte array. */
const uint8_t *cur_prefixed(struct cursor *c, uint32_t *len)
{
	*len = (uint32_t)cur_uint(c, 4);
	return cur_bytes(c, *len);
}

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

int mcap_fail(mcap_reader *r, int code, uint64_t offset, const char *fmt,
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

int mcap_parse_schema(mcap_reader *r, struct cursor *c, uint64_t offset)
{
	uint16_t id = (uint16_t)cur_uint(c, 2);
	uint32_t len;

	cur_prefixed(c, &len); /* name */
	cur_prefixed(c, &len); /* encoding */
	cur_prefixed(c, &len); /* data */
	if (c->overrun)
		return mcap_fail(r, MCAP_E_FORMAT, offset,
			    "schema record shorter than its fields");
	/* id 0 is invalid and ignored, says the specification */
	r->schemas[id / 8] |= (uint8_t)(id ? 1u << (id % 8) : 0);
	return MCAP_OK;
}

/* The map<string, string> at @c, @n its entries: checked, counted. */
static bool check_map(struct cursor *c, size_t *n)
{
	uint32_t map_len, len;
	struct cursor m = { .p = cur_prefixed(c, &map_len) };

	m.len = map_len;
	*n = 0;
	while (m.p && m.pos < m.len && !m.overrun) {
		cur_prefixed(&m, &len);
		cur_prefixed(&m, &len);
		++*n;
	}
	return !c->overrun && !m.overrun;
}

/* A string of the file as a C string in @dst (NUL bytes refused). */
static char *copy_str(struct cursor *c, char **dst, bool *bad)
{
	uint32_t len;
	const uint8_t *s = cur_prefixed(c, &len);
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

int mcap_parse_channel(mcap_reader *r, struct cursor *c, uint64_t offset)
{
	struct cursor check = *c;
	uint16_t id = (uint16_t)cur_uint(&check, 2);
	uint16_t schema = (uint16_t)cur_uint(&check, 2);
	const uint8_t *rec = c->p + c->pos;
	uint64_t rec_len = c->len - c->pos;
	struct channel *ch = r->channels[id];
	struct mcap_kv *kv;
	uint16_t *ids;
	uint32_t len;
	size_t n;
	char *strings;
	bool bad = false;

	cur_prefixed(&check, &len); /* topic */
	cur_prefixed(&check, &len); /* message encoding */
	if (!check_map(&check, &n))
		return mcap_fail(r, MCAP_E_FORMAT, offset,
			    "channel record shorter than its fields");
	if (schema && !(r->schemas[schema / 8] & 1u << (schema % 8)))
		return mcap_fail(r, MCAP_E_FORMAT, offset,
			    "channel %u refers to schema %u, not defined "
			    "before it", id, schema);
	if (ch) {
		if (ch->record_len != rec_len || memcmp(ch->record, rec, rec_len))
			return mcap_fail(r, MCAP_E_FORMAT, offset,
				    "channel %u defined again, differently",
				    id);
		return MCAP_OK;
	}
	/* one block: the channel, its metadata, the record, its strings
	 * (each no longer than the record, plus a NUL) */
	ch = calloc(1, sizeof(*ch) + n * sizeof(*kv) + 2 * rec_len +
			       2 * n + 2);
	if (!ch)
		return mcap_fail(r, MCAP_E_NOMEM, offset, "a channel");
	kv = (struct mcap_kv *)(ch + 1);
	ch->record = (uint8_t *)(kv + n);
	memcpy(ch->record, rec, rec_len);
	ch->record_len = rec_len;
	strings = (char *)ch->record + rec_len;
	cur_uint(c, 4); /* id, schema */
	ch->pub.id = id;
	ch->pub.topic = copy_str(c, &strings, &bad);
	ch->pub.message_encoding = copy_str(c, &strings, &bad);
	cur_uint(c, 4); /* the map's length: check_map went through it */
	for (size_t i = 0; i < n && !bad; i++) {
		kv[i].key = copy_str(c, &strings, &bad);
		kv[i].value = copy_str(c, &strings, &bad);
	}
	if (bad) {
		free(ch);
		return mcap_fail(r, MCAP_E_FORMAT, offset,
			    "channel %u: a string holds a NUL byte", id);
	}
	ch->pub.metadata = kv;
	ch->pub.n_metadata = n;
	ids = realloc(r->defined, (r->n_defined + 1) * sizeof(*ids));
	if (!ids) {
		free(ch);
		return mcap_fail(r, MCAP_E_NOMEM, offset, "a channel");
	}
	r->defined = ids;
	r->defined[r->n_defined++] = id;
	r->channels[id] = ch;
	return MCAP_OK;
}

int mcap_parse_message(mcap_reader *r, struct cursor *c, uint64_t offset,
			 struct mcap_message *msg, const uint8_t **data,
			 uint64_t *len)
{
	if (c->len - c->pos < MCAP_MESSAGE_FIELDS)
		return mcap_fail(r, MCAP_E_FORMAT, offset,
			    "message record of %llu bytes, shorter than its "
			    "fields", (unsigned long long)(c->len - c->pos));
	msg->channel_id = (uint16_t)cur_uint(c, 2);
	msg->sequence = (uint32_t)cur_uint(c, 4);
	msg->log_time = cur_uint(c, 8);
	msg->publish_time = cur_uint(c, 8);
	if (!r->channels[msg->channel_id])
		return mcap_fail(r, MCAP_E_FORMAT, offset,
			    "message on channel %u, not defined before it",
			    msg->channel_id);
	*len = c->len - c->pos;
	*data = cur_bytes(c, *len);
	r->messages++;
	return 1;
}

int mcap_parse_statistics(mcap_reader *r)
{
	struct cursor c = { r->content, r->content_len, 0, false };
	uint32_t counts_len;

	r->stats.message_count = cur_uint(&c, 8);
	cur_uint(&c, 2); /* schemas */
	r->stats.channel_count = (uint32_t)cur_uint(&c, 4);
	cur_uint(&c, 8); /* attachments, metadata */
	r->stats.chunk_count = (uint32_t)cur_uint(&c, 4);
	r->stats.message_start_time = cur_uint(&c, 8);
	r->stats.message_end_time = cur_uint(&c, 8);
	cur_prefixed(&c, &counts_len); /* map<channel id u16, count u64> */
	if (c.overrun || counts_len % 10)
		return mcap_fail(r, MCAP_E_FORMAT, r->record_offset,
			    "statistics record shorter than its fields");
	r->have_stats = true;
	return MCAP_OK;
}
