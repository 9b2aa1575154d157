/* SPDX-License-Identifier: MIT */
/*
 * The MCAP reader's insides, shared by its two files: mcap_read.c walks
 * the file (records, chunks, sections, checksums), mcap_records.c parses
 * the content of single records. Not for other users: they have mcap.h.
 */
#ifndef FLOE_TOOL_MCAP_READER_H
#define FLOE_TOOL_MCAP_READER_H

#include <stdbool.h>
#include <stdint.h>

#include <zstd.h>

#include "mcap.h"

/* Bounds-checked little-endian reads from a byte range. */
struct cursor {
	const uint8_t *p;
	uint64_t len, pos;
	bool overrun; /* a read went past len; it returned zeros */
};

/* @n bytes from @c, or NULL (and c->overrun set) past its end. */
const uint8_t *cur_bytes(struct cursor *c, uint64_t n);
/* A little-endian integer of @bytes (<= 8) bytes; 0 past the end. */
uint64_t cur_uint(struct cursor *c, int bytes);
/* A uint32-length-prefixed string or byte array. */
const uint8_t *cur_prefixed(struct cursor *c, uint32_t *len);

/* A channel the file defined. */
struct channel {
	struct mcap_channel pub;
	uint8_t *record; /* the channel record's content, for redefinitions */
	uint64_t record_len;
};

enum section { IN_DATA, IN_SUMMARY, AT_END };

struct mcap_reader {
	int fd;
	uint64_t size, max_record;
	/* what was read of the file last: small reads are served from it */
	uint8_t *window;
	uint64_t window_off, window_len;
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

/* Record the reader's error (it sticks) and return @code. */
int mcap_fail(mcap_reader *r, int code, uint64_t offset, const char *fmt,
	      ...) __attribute__((format(printf, 4, 5)));

/* The content of a record at @c (found at file @offset): schema, channel
 * (defined, or checked against its first definition), message (returns
 * 1 with the message), statistics (r->content). */
int mcap_parse_schema(mcap_reader *r, struct cursor *c, uint64_t offset);
int mcap_parse_channel(mcap_reader *r, struct cursor *c, uint64_t offset);
int mcap_parse_message(mcap_reader *r, struct cursor *c, uint64_t offset,
		       struct mcap_message *msg, const uint8_t **data,
		       uint64_t *len);
int mcap_parse_statistics(mcap_reader *r);

#endif
