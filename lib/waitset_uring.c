// SPDX-License-Identifier: MIT
/*
 * The waitset's io_uring engine: one IORING_OP_POLL_ADD per source,
 * one-shot, re-armed once its report was handled.
 *
 * Why not multishot poll (5.13+)? It is edge-triggered: it completes once
 * per wake-up of the file's wait queue, so a listener whose callback did
 * not consume its events, or a pipe not read empty, would never be
 * reported again. A one-shot poll submitted while the file is readable
 * completes at once, so re-arming after the callback gives level
 * triggering; the re-arm is only queued in the submission ring and goes to
 * the kernel with the next wait, in the same io_uring_enter: one system
 * call per wake-up either way.
 *
 * Why no IORING_SETUP_SINGLE_ISSUER / DEFER_TASKRUN? They bind the ring to
 * the thread that created it, while a waitset may move between threads
 * (used by one at a time).
 *
 * Required features, else the waitset falls back to epoll: EXT_ARG (5.11;
 * a wait with a timeout needs no timeout request, so no completion is
 * ever liburing's own) and NODROP (5.5; completions beyond the CQ ring are
 * kept, not lost, should more sources be ready at once than it holds).
 */
#include <errno.h>
#include <poll.h>

#include "internal.h"
#include "waitset.h"

#define URING_SQ_ENTRIES 64
/* Every source has at most one poll in flight: a CQ ring this large
 * rarely overflows (and NODROP covers it when it does). */
#define URING_CQ_ENTRIES 1024

static int uring_init(floe_waitset *ws)
{
	const unsigned required = IORING_FEAT_EXT_ARG | IORING_FEAT_NODROP;
	struct io_uring_params params = {
		.flags = IORING_SETUP_CQSIZE,
		.cq_entries = URING_CQ_ENTRIES,
	};
	int err = io_uring_queue_init_params(URING_SQ_ENTRIES, &ws->ring,
					     &params);

	if (err)
		return err;
	if ((params.features & required) != required) {
		io_uring_queue_exit(&ws->ring);
		return -EOPNOTSUPP;
	}
	return 0;
}

static void uring_fini(floe_waitset *ws)
{
	io_uring_queue_exit(&ws->ring);
}

/* A free submission entry, making room by submitting if need be. */
static struct io_uring_sqe *uring_sqe(floe_waitset *ws)
{
	struct io_uring_sqe *sqe;

	while (!(sqe = io_uring_get_sqe(&ws->ring))) {
		int r = io_uring_submit(&ws->ring);

		if (r < 0 && r != -EINTR)
			return NULL;
	}
	return sqe;
}

static int uring_watch(floe_waitset *ws, const struct ws_source *src)
{
	struct io_uring_sqe *sqe = uring_sqe(ws);

	if (!sqe)
		return FLOE_E_SYSTEM;
	io_uring_prep_poll_add(sqe, src->fd, POLLIN);
	io_uring_sqe_set_data64(sqe, src->key);
	return 0;
}

static void uring_unwatch(floe_waitset *ws, const struct ws_source *src)
{
	struct io_uring_sqe *sqe = uring_sqe(ws);

	/* Whether the poll is in flight or its completion already queued
	 * (then the removal fails with ENOENT), a stale completion is
	 * dropped by its generation. */
	if (!sqe)
		return;
	io_uring_prep_poll_remove(sqe, src->key);
	io_uring_sqe_set_data64(sqe, ws_key(WS_ROLE_IGNORE, 0, 0));
	/* Now, not with the next wait: until the poll is removed, it holds
	 * a reference to the file (a pipe would not see its reader go). */
	io_uring_submit(&ws->ring);
}

static int uring_wait(floe_waitset *ws, uint64_t timeout_ns)
{
	struct __kernel_timespec ts, *limit = NULL;
	struct io_uring_cqe *cqe;
	int r;

	if (timeout_ns != WS_FOREVER) {
		ts.tv_sec = (long long)(timeout_ns / 1000000000ULL);
		ts.tv_nsec = (long long)(timeout_ns % 1000000000ULL);
		limit = &ts;
	}
	/* Submits the queued (re-)arms and sleeps in one system call. */
	r = io_uring_submit_and_wait_timeout(&ws->ring, &cqe, 1, limit, NULL);
	if (r >= 0 || r == -EINTR)
		return 0; /* EINTR: the caller waits again for what is left */
	return r == -ETIME ? FLOE_E_TIMEOUT : FLOE_E_SYSTEM;
}

static bool uring_next(floe_waitset *ws, struct ws_ready *ready)
{
	struct io_uring_cqe *cqe;

	if (io_uring_peek_cqe(&ws->ring, &cqe))
		return false;
	ready->key = cqe->user_data;
	/*
	 * A poll's result is the ready mask (POLLIN, or POLLHUP/POLLERR,
	 * which a read reports), or an error. -ECANCELED on a poll we did
	 * not remove: the kernel cancelled it (the submitting thread
	 * exec'd, say); just arm it again.
	 */
	ready->readable = cqe->res != -ECANCELED;
	io_uring_cqe_seen(&ws->ring, cqe);
	return true;
}

const struct ws_engine ws_engine_uring = {
	.impl = FLOE_WAITSET_IO_URING,
	.init = uring_init,
	.fini = uring_fini,
	.watch = uring_watch,
	.unwatch = uring_unwatch,
	.rewatch = uring_watch,
	.wait = uring_wait,
	.next = uring_next,
};
