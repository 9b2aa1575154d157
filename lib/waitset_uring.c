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
 * Receiving ports (futex mode, when the kernel has IORING_OP_FUTEX_WAIT,
 * 6.7+): the source is the port's wake cell. Arming counts the waitset
 * in the cell's want (so senders wake it), reads seq, looks for data, and
 * submits a FUTEX_WAIT on seq - or, if data is there already, a NOP that
 * completes at once: level triggering again, and no lost wake-up by the
 * protocol of lib/base/wake.h. A completion takes the count back
 * (ws_port_disarm), so senders pay no system call while the waitset is
 * busy elsewhere. liburing 2.3 (Debian 12) predates the futex helpers,
 * so the SQE is filled by hand as io_uring/futex.c reads it: addr = the
 * word, addr2 = the value expected, addr3 = the bitset, fd = FUTEX2_*
 * flags (32-bit, shared: the word is in a mapping of a shared file).
 *
 * Required features, else the waitset falls back to epoll: EXT_ARG (5.11;
 * a wait with a timeout needs no timeout request, so no completion is
 * ever liburing's own) and NODROP (5.5; completions beyond the CQ ring are
 * kept, not lost, should more sources be ready at once than it holds).
 */
#include <errno.h>
#include <poll.h>

#include "engine/engine.h"
#include "internal.h"
#include "waitset.h"

/* Not in liburing 2.3's headers; the kernel's ABI since 6.7. */
#define URING_OP_FUTEX_WAIT 51
#define URING_FUTEX2_SIZE_U32 0x02

#define URING_SQ_ENTRIES 64
/* Every source has at most one poll in flight: a CQ ring this large
 * rarely overflows (and NODROP covers it when it does). */
#define URING_CQ_ENTRIES 1024

static bool futex_wait_supported(floe_waitset *ws)
{
	struct io_uring_probe *probe = io_uring_get_probe_ring(&ws->ring);
	bool ok = probe &&
		  io_uring_opcode_supported(probe, URING_OP_FUTEX_WAIT);

	if (probe)
		io_uring_free_probe(probe);
	return ok;
}

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
	ws->futex_ports = ws->futex_ports && futex_wait_supported(ws);
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

/* Futex mode: sleep on @src's wake cell, or complete at once if data
 * waits already. */
static void prep_port(struct io_uring_sqe *sqe, struct ws_source *src)
{
	struct floe_wake *w = floe_receiver_wake(src->rx);
	uint32_t seq;

	if (!src->armed) {
		seq = floe_wake_arm(w);
		src->armed = true;
	} else {
		seq = atomic_load(&w->seq);
	}
	if (floe_receiver_has_data(src->rx)) {
		io_uring_prep_nop(sqe);
		return;
	}
	io_uring_prep_rw(URING_OP_FUTEX_WAIT, sqe, URING_FUTEX2_SIZE_U32,
			 (void *)&w->seq, 0, 0);
	sqe->addr2 = seq;
	sqe->addr3 = FUTEX_BITSET_MATCH_ANY;
}

void ws_port_disarm(struct ws_source *src)
{
	if (!src->armed)
		return;
	floe_wake_disarm(floe_receiver_wake(src->rx));
	src->armed = false;
}

static int uring_watch(floe_waitset *ws, struct ws_source *src)
{
	struct io_uring_sqe *sqe = uring_sqe(ws);

	if (!sqe)
		return FLOE_E_SYSTEM;
	if (src->rx && src->fd < 0)
		prep_port(sqe, src);
	else
		io_uring_prep_poll_add(sqe, src->fd, POLLIN);
	io_uring_sqe_set_data64(sqe, src->key);
	return 0;
}

static void uring_unwatch(floe_waitset *ws, struct ws_source *src)
{
	struct io_uring_sqe *sqe = uring_sqe(ws);

	/* Whether the poll is in flight or its completion already queued
	 * (then the removal fails with ENOENT), a stale completion is
	 * dropped by its generation. */
	if (src->rx && src->fd < 0) {
		ws_port_disarm(src);
		if (!sqe)
			return;
		io_uring_prep_cancel64(sqe, src->key, 0);
	} else {
		if (!sqe)
			return;
		io_uring_prep_poll_remove(sqe, src->key);
	}
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
	 * which a read reports), or an error; a futex wait's 0 (woken) or
	 * -EAGAIN (the word moved before it slept). -ECANCELED on one we did
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
