/* SPDX-License-Identifier: MIT */
/*
 * The waitset's private parts: what waitset.c (attachments, triggers,
 * signals, the public API) shares with its two readiness engines,
 * waitset_uring.c (io_uring) and waitset_epoll.c (epoll).
 *
 * Everything a waitset waits on is a descriptor that is readable when it
 * needs attention (a "source"): a listener's socket, a user's fd, a
 * timerfd for an interval or a deadline, the signalfd, a receiving port's
 * doorbell. An engine only answers "which sources are readable",
 * level-triggered: a source that is still readable after it was handled
 * is reported again by the next wait.
 *
 * A receiving port is the exception where io_uring can wait on futexes
 * (IORING_OP_FUTEX_WAIT, Linux 6.7): then its source is the port's wake
 * cell (lib/base/wake.h) itself, with no socket between sender and
 * waitset. See waitset_uring.c.
 */
#ifndef FLOE_WAITSET_H
#define FLOE_WAITSET_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <liburing.h>
#include <sys/epoll.h>

#include "floe.h"

/*
 * A source's key, which the engine hands back when the source is ready
 * (io_uring user_data, epoll data.u64):
 *   bits 63..56  role: enum ws_role
 *   bits 55..32  generation of the attachment slot (mod 2^24)
 *   bits 31..0   attachment id
 * The generation changes on detach, so a completion still in flight for a
 * detached attachment, or for the previous owner of a reused id, no longer
 * matches and is dropped.
 */
enum ws_role {
	WS_ROLE_MAIN = 0,     /* the attachment's own descriptor */
	WS_ROLE_DEADLINE = 1, /* a listener's deadline timerfd */
	WS_ROLE_SIGNAL = 2,   /* the waitset's signalfd */
	WS_ROLE_IGNORE = 3,   /* io_uring: completions of cancellations */
};

#define WS_GEN_MASK 0xffffffu

/* A wait without a time limit. */
#define WS_FOREVER UINT64_MAX

static inline uint64_t ws_key(enum ws_role role, uint32_t gen, uint32_t id)
{
	return (uint64_t)role << 56 | (uint64_t)(gen & WS_GEN_MASK) << 32 | id;
}

static inline enum ws_role ws_key_role(uint64_t key)
{
	return (enum ws_role)(key >> 56);
}

static inline uint32_t ws_key_gen(uint64_t key)
{
	return (uint32_t)(key >> 32) & WS_GEN_MASK;
}

static inline uint32_t ws_key_id(uint64_t key)
{
	return (uint32_t)key;
}

struct ws_source {
	int fd;       /* -1: this source is not used */
	uint64_t key;
	/* a receiving port, or NULL; with fd -1 waited on through its wake
	 * cell (futex mode) */
	struct floe_receiver *rx;
	bool armed; /* counted in the cell's want (futex mode) */
};

enum ws_kind {
	WS_FREE = 0,
	WS_LISTENER,
	WS_FD,
	WS_INTERVAL,
	WS_PORT,
	WS_WATCH,
};

struct ws_attachment {
	enum ws_kind kind;
	uint32_t gen;
	void *user;
	uint64_t deadline_ns;           /* listener, port: 0 = none */
	struct ws_source src[2];        /* by role: MAIN, DEADLINE */
};

/* One readiness report of an engine. */
struct ws_ready {
	uint64_t key;
	/* false: the source is not known to be readable (io_uring: its poll
	 * was cancelled by the kernel); just watch it again */
	bool readable;
};

struct ws_engine {
	enum floe_waitset_impl impl;
	/* 0, or a negative errno when the engine is unusable here */
	int (*init)(floe_waitset *ws);
	void (*fini)(floe_waitset *ws);
	/* Start reporting @src. 0 or a floe error. */
	int (*watch)(floe_waitset *ws, struct ws_source *src);
	/* Stop reporting @src, at once: its descriptor may be closed (and
	 * its number reused) right after. */
	void (*unwatch)(floe_waitset *ws, struct ws_source *src);
	/* @src's last report was handled: report it again while (or as
	 * soon as) it is readable. 0 or a floe error. */
	int (*rewatch)(floe_waitset *ws, struct ws_source *src);
	/* Sleep until a source may be ready or @timeout_ns passed
	 * (WS_FOREVER: no limit). 0, FLOE_E_TIMEOUT, or an error. */
	int (*wait)(floe_waitset *ws, uint64_t timeout_ns);
	/* Take the next report of the last wait; false when there is none.
	 * Reports not taken before the next wait are not lost. */
	bool (*next)(floe_waitset *ws, struct ws_ready *ready);
};

/* Attach @fd of a listener or of the port @rx (waitset_ports.c), with a
 * deadline timer if @deadline_ns. An attachment id or a floe error. */
int ws_attach_watched(floe_waitset *ws, enum ws_kind kind, int fd,
		      struct floe_receiver *rx, uint64_t deadline_ns,
		      void *user);

/* A futex-mode source's report was taken: it no longer sleeps. */
void ws_port_disarm(struct ws_source *src);

extern const struct ws_engine ws_engine_uring;
extern const struct ws_engine ws_engine_epoll;

/* epoll reports at most this many sources per wait (no allocation per
 * wait); level triggering reports the rest next time */
#define WS_EPOLL_BATCH 64

struct floe_waitset {
	const struct ws_engine *engine;
	struct ws_attachment *att;
	uint32_t natt, cap;  /* slots in use (high water), allocated */
	bool running;        /* in run/run_once: no re-entry */
	bool handle_signals;
	bool futex_ports;    /* io_uring waits on ports' wake cells */
	/* when attached ports next ask whether their senders live: a
	 * process killed by SIGKILL rings nobody (waitset.c, liveness) */
	uint64_t next_liveness_ns;
	sigset_t signals;    /* SIGINT, SIGTERM */
	struct ws_source signal_src;
	union {
		struct io_uring ring;
		struct {
			int fd;
			int count, next;
			struct epoll_event events[WS_EPOLL_BATCH];
		} ep;
	};
};

#endif
