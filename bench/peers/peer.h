/* SPDX-License-Identifier: MIT */
/*
 * A peer IPC system as the ping-pong driver (driver.c) sees it. Every peer
 * program is driver.c linked with one file that defines peer_transports[]:
 * the driver pins two processes to two CPUs, runs the same busy-polling
 * ping-pong as bench/pubsub_pingpong.c for every payload size over each
 * transport and prints the same table and JSON.
 *
 * A message is the sequence number in the first 8 bytes of a payload of
 * the given size. A copying transport sends the whole payload every time;
 * a zero-copy one (iceoryx) writes only the sequence number into the
 * memory it loaned, as floe does.
 */
#ifndef FLOE_BENCH_PEER_H
#define FLOE_BENCH_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum peer_side {
	PEER_PING,	/* the measuring process: sends first */
	PEER_PONG,	/* the partner: answers every message */
};

struct peer_transport {
	const char *system;	/* the "system" field of the results */
	/* send and recv wait a while themselves before they give up: look
	 * at the other side after every call, not every few thousand */
	bool waits;
	/* Once per process, before the partner is forked (may be NULL). */
	int (*setup)(void);
	/*
	 * Make this side's ends for payloads of @size bytes; the ping side
	 * opens first, then the pong side. 0, or a negative errno with the
	 * reason in @why when this size cannot be carried.
	 */
	int (*open)(enum peer_side side, uint64_t size, char *why,
		    size_t why_len);
	/* 1 once messages sent now reach the other side (may be NULL). */
	int (*ready)(enum peer_side side);
	/* Send @seq in a @size-byte message: 0, -EAGAIN (retry), -errno. */
	int (*send)(enum peer_side side, uint64_t seq, uint64_t size);
	/* Poll for a message: 1 (*@seq filled in), 0 (none yet), -errno. */
	int (*recv)(enum peer_side side, uint64_t *seq, uint64_t size);
	void (*close)(enum peer_side side);
};

/* Defined by each peer program. */
extern const struct peer_transport *const peer_transports[];
extern const int peer_num_transports;

/*
 * A payload buffer of at least @size bytes for copying transports, its
 * pages already touched: page faults are not what is being measured.
 */
void *peer_buffer(uint64_t size);

/* peer_buffer(@size) with @seq in its first 8 bytes: a message to send. */
void *peer_message(uint64_t seq, uint64_t size);

/*
 * After a receive of @n bytes (or -1 with errno) into peer_buffer(): 1
 * and *@seq for a whole message of @size, 0 if nothing was there (EAGAIN),
 * or a negative errno (-EMSGSIZE for a message of another size).
 */
int peer_received(ssize_t n, uint64_t size, uint64_t *seq);

#endif /* FLOE_BENCH_PEER_H */
