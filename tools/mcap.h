/* SPDX-License-Identifier: MIT */
/*
 * MCAP, the open log format of ROS 2 and Foxglove (its public
 * specification, major version 0): a writer and a streaming reader, just
 * what `floe record` and `floe replay` need, so that recordings open in the
 * tools people already use.
 *
 * The writer puts messages in zstd-compressed chunks, each followed by its
 * message indexes, and ends the file with a summary (channels, chunk
 * indexes, statistics, summary offsets) and the CRC-32s the specification
 * defines. The reader walks a file from its start and checks everything it
 * passes: record bounds, chunk and section CRCs, the footer and the magic.
 * Damage is reported with the file offset where it was found, never by a
 * crash: a file's lengths are trusted only after they were checked against
 * the file's size and the reader's record limit.
 */
#ifndef FLOE_TOOL_MCAP_H
#define FLOE_TOOL_MCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

enum mcap_error {
	MCAP_OK = 0,
	MCAP_E_IO = -1,          /* reading or writing the file failed (errno) */
	MCAP_E_NOMEM = -2,       /* out of memory */
	MCAP_E_TRUNCATED = -3,   /* the file ends inside a record or early */
	MCAP_E_FORMAT = -4,      /* not MCAP, or a malformed record */
	MCAP_E_CRC = -5,         /* a checksum does not match */
	MCAP_E_UNSUPPORTED = -6, /* compression other than zstd or none */
	MCAP_E_TOO_LARGE = -7,   /* a record beyond the reader's limit */
	MCAP_E_INVALID = -8,     /* bad argument (e.g. the 65536th channel) */
};

/* Text for an enum mcap_error; never NULL. */
const char *mcap_strerror(int err);

/* One metadata entry of a channel. */
struct mcap_kv {
	const char *key;
	const char *value;
};

/* A message's record fields; its data travels separately. */
struct mcap_message {
	uint16_t channel_id;
	uint32_t sequence;
	uint64_t log_time;     /* ns */
	uint64_t publish_time; /* ns */
};

/* ------------------------------------------------------------------ */
/* Writer (tools/mcap_write.c)                                        */
/* ------------------------------------------------------------------ */

typedef struct mcap_writer mcap_writer;

struct mcap_writer_opts {
	const char *profile; /* the header's profile; NULL: "" */
	const char *library; /* the header's library; NULL: "" */
	/* uncompressed bytes a chunk collects before it is written; 0: 1 MiB */
	size_t chunk_size;
	/* false: chunks are stored uncompressed (compression "") */
	bool compress;
};

/*
 * Start a file on @fd (at its current position, which must be its start:
 * offsets in the file count from there) and write its magic and header.
 * The caller keeps @fd and closes it after mcap_writer_close().
 */
int mcap_writer_open(int fd, const struct mcap_writer_opts *opts,
		     mcap_writer **out);
/*
 * Define a channel (written at once, outside chunks) and return its id in
 * *@id: 1, 2, ... in the order of definition.
 */
int mcap_writer_add_channel(mcap_writer *w, const char *topic,
			    const char *message_encoding,
			    const struct mcap_kv *metadata, size_t n_metadata,
			    uint16_t *id);
/*
 * Add a message whose data is the concatenation of @data[0..n_data); it
 * goes to the current chunk, which is written once it reaches the chunk
 * size (a larger message makes a chunk of its own).
 */
int mcap_writer_write(mcap_writer *w, const struct mcap_message *msg,
		      const struct iovec *data, int n_data);
/* Write the current chunk now, if it holds anything: what was written
 * survives the writer's death. */
int mcap_writer_flush(mcap_writer *w);
/*
 * Write the last chunk, the data end, summary and footer, and free @w.
 * Returns the first error the writer met, if any (errno set for
 * MCAP_E_IO).
 */
int mcap_writer_close(mcap_writer *w);

/* ------------------------------------------------------------------ */
/* Reader (tools/mcap_read.c, tools/mcap_records.c)                   */
/* ------------------------------------------------------------------ */

typedef struct mcap_reader mcap_reader;

struct mcap_channel {
	uint16_t id;
	const char *topic;
	const char *message_encoding;
	const struct mcap_kv *metadata;
	size_t n_metadata;
};

/* Where the reader stopped on damage, and why. */
struct mcap_read_error {
	int code;             /* enum mcap_error */
	uint64_t offset;      /* from the file's start */
	char detail[160];     /* what was found there */
};

/* The file's statistics record, once the reader reached the end. */
struct mcap_stats {
	uint64_t message_count;
	uint32_t channel_count;
	uint32_t chunk_count;
	uint64_t message_start_time;
	uint64_t message_end_time;
};

/* Default limit for one record (and one chunk's uncompressed records). */
#define MCAP_MAX_RECORD_DEFAULT (1ULL << 32)

/*
 * Read the MCAP file open on @fd from its start (pread: @fd's position is
 * left alone; the caller keeps @fd open until mcap_reader_close). Records
 * larger than @max_record bytes (0: MCAP_MAX_RECORD_DEFAULT) are refused
 * with MCAP_E_TOO_LARGE. Checks the magic and the header; on damage returns
 * the error with *@err filled in (and *@out NULL).
 */
int mcap_reader_open(int fd, uint64_t max_record, mcap_reader **out,
		     struct mcap_read_error *err);
/*
 * The next message in file order: returns 1 with *@msg, *@data and *@len
 * set (valid until the next call), 0 at the end of a file found intact
 * to its last byte, or an error (then mcap_reader_error() says where, and
 * every later call returns the same error). A chunk's messages are
 * returned once the chunk's CRC held; the data section's CRC (over record
 * headers and anything outside chunks) is checked at its end, so on a
 * damaged file records may be skipped or misread before the error comes:
 * read a file to its end before trusting it.
 */
int mcap_reader_next(mcap_reader *r, struct mcap_message *msg,
		     const uint8_t **data, uint64_t *len);
/* The channel with @id defined so far, or NULL. */
const struct mcap_channel *mcap_reader_channel(const mcap_reader *r,
					       uint16_t id);
/* The error mcap_reader_next() returned. */
const struct mcap_read_error *mcap_reader_error(const mcap_reader *r);
/* The file's statistics after mcap_reader_next() returned 0; NULL if the
 * file has none. */
const struct mcap_stats *mcap_reader_stats(const mcap_reader *r);
void mcap_reader_close(mcap_reader *r);

/* ------------------------------------------------------------------ */
/* What writer and reader share                                       */
/* ------------------------------------------------------------------ */

#define MCAP_MAGIC "\x89MCAP0\r\n"
#define MCAP_MAGIC_LEN 8
/* opcode byte and content length in front of every record */
#define MCAP_RECORD_HEADER 9

enum mcap_opcode {
	MCAP_OP_HEADER = 0x01,
	MCAP_OP_FOOTER = 0x02,
	MCAP_OP_SCHEMA = 0x03,
	MCAP_OP_CHANNEL = 0x04,
	MCAP_OP_MESSAGE = 0x05,
	MCAP_OP_CHUNK = 0x06,
	MCAP_OP_MESSAGE_INDEX = 0x07,
	MCAP_OP_CHUNK_INDEX = 0x08,
	MCAP_OP_ATTACHMENT = 0x09,
	MCAP_OP_ATTACHMENT_INDEX = 0x0a,
	MCAP_OP_STATISTICS = 0x0b,
	MCAP_OP_METADATA = 0x0c,
	MCAP_OP_METADATA_INDEX = 0x0d,
	MCAP_OP_SUMMARY_OFFSET = 0x0e,
	MCAP_OP_DATA_END = 0x0f,
};

/* Fixed content lengths (these records are never extended). */
#define MCAP_FOOTER_LEN 20
#define MCAP_DATA_END_LEN 4
/* channel id, sequence, log time, publish time */
#define MCAP_MESSAGE_FIELDS 22

#endif
