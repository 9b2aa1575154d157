// SPDX-License-Identifier: MIT
/*
 * MCAP writer (see mcap.h): header, channels in the data section, messages
 * in chunks with their message indexes, then the data end and a summary
 * (channels, chunk indexes, statistics, summary offsets) and the footer.
 *
 * Every byte goes out through emit(), which keeps the file offset and the
 * running CRC-32: over the data section until the data end record, then
 * over the summary up to the footer's CRC field, as the specification
 * defines them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include "mcap.h"

#define DEFAULT_CHUNK_SIZE (1u << 20)
#define MAX_CHANNELS 65535

/* A growable byte buffer; a failed growth is remembered, not crashed on. */
struct buf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

static bool buf_reserve(struct buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 256;
	uint8_t *p;

	if (b->oom || more > SIZE_MAX / 2 - b->len) {
		b->oom = true;
		return false;
	}
	if (b->len + more <= b->cap)
		return true;
	while (cap < b->len + more)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

static void put(struct buf *b, const void *data, size_t len)
{
	if (len && buf_reserve(b, len)) {
		memcpy(b->p + b->len, data, len);
		b->len += len;
	}
}

/* little-endian integers, as the specification serialises them */
static void put_uint(struct buf *b, uint64_t v, int bytes)
{
	uint8_t le[8];

	for (int i = 0; i < bytes; i++)
		le[i] = (uint8_t)(v >> (8 * i));
	put(b, le, (size_t)bytes);
}

static void put_str(struct buf *b, const char *s)
{
	size_t len = s ? strlen(s) : 0;

	put_uint(b, len, 4);
	put(b, s, len);
}

/* Open a record: opcode and a length placeholder, patched by
 * record_end(). Returns where the record starts. */
static size_t record_begin(struct buf *b, uint8_t op)
{
	size_t start = b->len;

	put_uint(b, op, 1);
	put_uint(b, 0, 8);
	return start;
}

static void record_end(struct buf *b, size_t start)
{
	uint64_t len = b->len - start - MCAP_RECORD_HEADER;

	if (b->oom)
		return;
	for (int i = 0; i < 8; i++)
		b->p[start + 1 + i] = (uint8_t)(len >> (8 * i));
}

/* Where each of a chunk's messages on one channel is. */
struct index_entry {
	uint64_t log_time;
	uint64_t offset; /* in the chunk's uncompressed records */
};

struct channel {
	struct buf record; /* the channel record, repeated in the summary */
	uint64_t messages;
	struct index_entry *index; /* the current chunk's */
	size_t n_index, cap_index;
};

struct mcap_writer {
	int fd;
	int err; /* the first error; later calls do nothing */
	uint64_t offset;
	uint32_t crc;
	bool compress;
	size_t chunk_size;
	ZSTD_CCtx *zstd;
	struct channel *channels;
	size_t n_channels;
	/* the current chunk */
	struct buf chunk;
	uint64_t chunk_start, chunk_end;
	struct buf compressed;
	/* summary material */
	struct buf chunk_indexes;
	uint64_t messages, chunks, start_time, end_time;
};

static void emit(mcap_writer *w, const void *data, size_t len)
{
	const uint8_t *p = data;

	/* (zlib answers a NULL buffer with its initial value) */
	if (w->err || !len)
		return;
	w->crc = (uint32_t)crc32_z(w->crc, p, len);
	w->offset += len;
	while (len) {
		ssize_t n = write(w->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			w->err = MCAP_E_IO;
			return;
		}
		p += n;
		len -= (size_t)n;
	}
}

/* Emit a record built in @b (and empty @b). */
static void emit_buf(mcap_writer *w, struct buf *b)
{
	if (b->oom && !w->err)
		w->err = MCAP_E_NOMEM;
	emit(w, b->p, b->len);
	b->len = 0;
}

int mcap_writer_open(int fd, const struct mcap_writer_opts *opts,
		     mcap_writer **out)
{
	mcap_writer *w = calloc(1, sizeof(*w));
	struct buf header = { 0 };
	size_t rec;
	int ret;

	*out = NULL;
	if (!w)
		return MCAP_E_NOMEM;
	w->fd = fd;
	w->compress = opts->compress;
	w->chunk_size = opts->chunk_size ? opts->chunk_size : DEFAULT_CHUNK_SIZE;
	if (w->compress && !(w->zstd = ZSTD_createCCtx())) {
		free(w);
		return MCAP_E_NOMEM;
	}
	emit(w, MCAP_MAGIC, MCAP_MAGIC_LEN);
	rec = record_begin(&header, MCAP_OP_HEADER);
	put_str(&header, opts->profile);
	put_str(&header, opts->library);
	record_end(&header, rec);
	emit_buf(w, &header);
	free(header.p);
	ret = w->err;
	if (ret) {
		ZSTD_freeCCtx(w->zstd);
		free(w);
		return ret;
	}
	*out = w;
	return MCAP_OK;
}

int mcap_writer_add_channel(mcap_writer *w, const char *topic,
			    const char *message_encoding,
			    const struct mcap_kv *metadata, size_t n_metadata,
			    uint16_t *id)
{
	struct channel *ch;
	struct buf meta = { 0 };
	size_t rec;

	if (w->err)
		return w->err;
	if (w->n_channels == MAX_CHANNELS)
		return MCAP_E_INVALID;
	ch = realloc(w->channels, (w->n_channels + 1) * sizeof(*ch));
	if (!ch)
		return MCAP_E_NOMEM;
	w->channels = ch;
	ch = &w->channels[w->n_channels];
	memset(ch, 0, sizeof(*ch));
	*id = (uint16_t)++w->n_channels;
	for (size_t i = 0; i < n_metadata; i++) {
		put_str(&meta, metadata[i].key);
		put_str(&meta, metadata[i].value);
	}
	rec = record_begin(&ch->record, MCAP_OP_CHANNEL);
	put_uint(&ch->record, *id, 2);
	put_uint(&ch->record, 0, 2); /* no schema: see floe(1) */
	put_str(&ch->record, topic);
	put_str(&ch->record, message_encoding);
	put_uint(&ch->record, meta.len, 4);
	put(&ch->record, meta.p, meta.len);
	record_end(&ch->record, rec);
	if (meta.oom)
		ch->record.oom = true;
	free(meta.p);
	if (ch->record.oom) {
		w->err = MCAP_E_NOMEM;
		return w->err;
	}
	emit(w, ch->record.p, ch->record.len);
	return w->err;
}

static int by_time_then_offset(const void *a, const void *b)
{
	const struct index_entry *x = a, *y = b;

	if (x->log_time != y->log_time)
		return x->log_time < y->log_time ? -1 : 1;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* The chunk index of the chunk just written, into the summary material. */
static void add_chunk_index(mcap_writer *w, uint64_t chunk_offset,
			    uint64_t chunk_len, const struct buf *index_map,
			    uint64_t index_len, uint64_t compressed_len)
{
	struct buf *b = &w->chunk_indexes;
	size_t rec = record_begin(b, MCAP_OP_CHUNK_INDEX);

	put_uint(b, w->chunk_start, 8);
	put_uint(b, w->chunk_end, 8);
	put_uint(b, chunk_offset, 8);
	put_uint(b, chunk_len, 8);
	put_uint(b, index_map->len, 4);
	put(b, index_map->p, index_map->len);
	put_uint(b, index_len, 8);
	put_str(b, w->compress ? "zstd" : "");
	put_uint(b, compressed_len, 8);
	put_uint(b, w->chunk.len, 8);
	record_end(b, rec);
}

/* Each channel's message index for the chunk just written. */
static void emit_message_indexes(mcap_writer *w, struct buf *index_map)
{
	struct buf rec = { 0 };

	for (size_t c = 0; c < w->n_channels; c++) {
		struct channel *ch = &w->channels[c];
		size_t start;

		if (!ch->n_index)
			continue;
		/* a clock stepped back must not unsort the index */
		qsort(ch->index, ch->n_index, sizeof(*ch->index),
		      by_time_then_offset);
		put_uint(index_map, c + 1, 2);
		put_uint(index_map, w->offset, 8);
		start = record_begin(&rec, MCAP_OP_MESSAGE_INDEX);
		put_uint(&rec, c + 1, 2);
		put_uint(&rec, ch->n_index * 16, 4);
		for (size_t i = 0; i < ch->n_index; i++) {
			put_uint(&rec, ch->index[i].log_time, 8);
			put_uint(&rec, ch->index[i].offset, 8);
		}
		record_end(&rec, start);
		emit_buf(w, &rec);
		ch->n_index = 0;
	}
	free(rec.p);
}

int mcap_writer_flush(mcap_writer *w)
{
	struct buf head = { 0 }, index_map = { 0 };
	const void *records = w->chunk.p;
	uint64_t chunk_offset = w->offset, index_offset;
	size_t records_len = w->chunk.len;
	const char *compression = w->compress ? "zstd" : "";

	if (w->err || !w->chunk.len)
		return w->err;
	if (w->compress) {
		size_t bound = ZSTD_compressBound(w->chunk.len), n;

		w->compressed.len = 0;
		if (!buf_reserve(&w->compressed, bound)) {
			w->err = MCAP_E_NOMEM;
			return w->err;
		}
		n = ZSTD_compressCCtx(w->zstd, w->compressed.p, bound,
				      w->chunk.p, w->chunk.len,
				      ZSTD_CLEVEL_DEFAULT);
		if (ZSTD_isError(n)) {
			w->err = MCAP_E_NOMEM; /* the only way it fails here */
			return w->err;
		}
		records = w->compressed.p;
		records_len = n;
	}
	put_uint(&head, MCAP_OP_CHUNK, 1);
	put_uint(&head, 8 + 8 + 8 + 4 + 4 + strlen(compression) + 8 +
				(uint64_t)records_len, 8);
	put_uint(&head, w->chunk_start, 8);
	put_uint(&head, w->chunk_end, 8);
	put_uint(&head, w->chunk.len, 8);
	put_uint(&head, (uint32_t)crc32_z(0, w->chunk.p, w->chunk.len), 4);
	put_str(&head, compression);
	put_uint(&head, records_len, 8);
	emit_buf(w, &head);
	free(head.p);
	emit(w, records, records_len);
	index_offset = w->offset;
	emit_message_indexes(w, &index_map);
	add_chunk_index(w, chunk_offset, index_offset - chunk_offset,
			&index_map, w->offset - index_offset, records_len);
	if (index_map.oom || w->chunk_indexes.oom)
		w->err = MCAP_E_NOMEM;
	free(index_map.p);
	w->chunks++;
	w->chunk.len = 0;
	return w->err;
}

int mcap_writer_write(mcap_writer *w, const struct mcap_message *msg,
		      const struct iovec *data, int n_data)
{
	struct channel *ch;
	struct index_entry *e;
	size_t rec;

	if (w->err)
		return w->err;
	if (!msg->channel_id || msg->channel_id > w->n_channels)
		return MCAP_E_INVALID;
	ch = &w->channels[msg->channel_id - 1];
	if (ch->n_index == ch->cap_index) {
		size_t cap = ch->cap_index ? ch->cap_index * 2 : 64;

		e = realloc(ch->index, cap * sizeof(*e));
		if (!e)
			return MCAP_E_NOMEM;
		ch->index = e;
		ch->cap_index = cap;
	}
	rec = record_begin(&w->chunk, MCAP_OP_MESSAGE);
	put_uint(&w->chunk, msg->channel_id, 2);
	put_uint(&w->chunk, msg->sequence, 4);
	put_uint(&w->chunk, msg->log_time, 8);
	put_uint(&w->chunk, msg->publish_time, 8);
	for (int i = 0; i < n_data; i++)
		put(&w->chunk, data[i].iov_base, data[i].iov_len);
	record_end(&w->chunk, rec);
	if (w->chunk.oom) {
		w->err = MCAP_E_NOMEM;
		return w->err;
	}
	ch->index[ch->n_index++] = (struct index_entry){ msg->log_time, rec };
	ch->messages++;
	if (!rec || msg->log_time < w->chunk_start)
		w->chunk_start = msg->log_time;
	if (!rec || msg->log_time > w->chunk_end)
		w->chunk_end = msg->log_time;
	if (!w->messages || msg->log_time < w->start_time)
		w->start_time = msg->log_time;
	if (!w->messages || msg->log_time > w->end_time)
		w->end_time = msg->log_time;
	w->messages++;
	if (w->chunk.len >= w->chunk_size)
		return mcap_writer_flush(w);
	return MCAP_OK;
}

/* A summary offset record for the group of records from @start to here. */
static void add_summary_offset(mcap_writer *w, struct buf *offsets,
			       uint8_t op, uint64_t start)
{
	size_t rec;

	if (start == w->offset)
		return;
	rec = record_begin(offsets, MCAP_OP_SUMMARY_OFFSET);
	put_uint(offsets, op, 1);
	put_uint(offsets, start, 8);
	put_uint(offsets, w->offset - start, 8);
	record_end(offsets, rec);
}

/* Data end, summary, footer, magic. */
static void finish(mcap_writer *w)
{
	struct buf b = { 0 }, offsets = { 0 };
	uint64_t summary_start, group, offsets_start;
	size_t rec;

	rec = record_begin(&b, MCAP_OP_DATA_END);
	put_uint(&b, w->crc, 4);
	record_end(&b, rec);
	emit_buf(w, &b);
	summary_start = w->offset;
	w->crc = 0; /* from here: the summary's CRC */

	group = w->offset;
	for (size_t c = 0; c < w->n_channels; c++)
		emit(w, w->channels[c].record.p, w->channels[c].record.len);
	add_summary_offset(w, &offsets, MCAP_OP_CHANNEL, group);

	group = w->offset;
	emit_buf(w, &w->chunk_indexes);
	add_summary_offset(w, &offsets, MCAP_OP_CHUNK_INDEX, group);

	group = w->offset;
	rec = record_begin(&b, MCAP_OP_STATISTICS);
	put_uint(&b, w->messages, 8);
	put_uint(&b, 0, 2); /* schemas */
	put_uint(&b, w->n_channels, 4);
	put_uint(&b, 0, 4); /* attachments */
	put_uint(&b, 0, 4); /* metadata */
	put_uint(&b, w->chunks, 4);
	put_uint(&b, w->start_time, 8);
	put_uint(&b, w->end_time, 8);
	put_uint(&b, w->n_channels * 10, 4);
	for (size_t c = 0; c < w->n_channels; c++) {
		put_uint(&b, c + 1, 2);
		put_uint(&b, w->channels[c].messages, 8);
	}
	record_end(&b, rec);
	emit_buf(w, &b);
	add_summary_offset(w, &offsets, MCAP_OP_STATISTICS, group);

	offsets_start = w->offset;
	emit_buf(w, &offsets);
	free(offsets.p);

	put_uint(&b, MCAP_OP_FOOTER, 1);
	put_uint(&b, MCAP_FOOTER_LEN, 8);
	put_uint(&b, summary_start, 8);
	put_uint(&b, offsets_start, 8);
	emit_buf(w, &b);
	/* the CRC covers the footer up to the CRC field itself */
	put_uint(&b, w->crc, 4);
	put(&b, MCAP_MAGIC, MCAP_MAGIC_LEN);
	emit_buf(w, &b);
	free(b.p);
}

int mcap_writer_close(mcap_writer *w)
{
	int ret;

	mcap_writer_flush(w);
	if (!w->err)
		finish(w);
	ret = w->err;
	for (size_t c = 0; c < w->n_channels; c++) {
		free(w->channels[c].record.p);
		free(w->channels[c].index);
	}
	free(w->channels);
	free(w->chunk.p);
	free(w->compressed.p);
	free(w->chunk_indexes.p);
	ZSTD_freeCCtx(w->zstd);
	free(w);
	return ret;
}
