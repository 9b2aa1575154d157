// SPDX-License-Identifier: MIT
/*
 * The waitset's epoll engine, for where io_uring is unavailable (disabled
 * by kernel.io_uring_disabled, filtered by seccomp, too old a kernel) or
 * asked for. Level-triggered registrations give the semantics the waitset
 * wants directly: a source stays reported while it is readable, so
 * nothing needs re-arming, and reports left untaken when a callback stops
 * the run come back with the next wait.
 *
 * Timeouts have millisecond resolution, rounded up: a wait never ends
 * before its timeout.
 */
#include <errno.h>
#include <limits.h>
#include <unistd.h>

#include "internal.h"
#include "waitset.h"

static int epoll_engine_init(floe_waitset *ws)
{
	ws->ep.fd = epoll_create1(EPOLL_CLOEXEC);
	if (ws->ep.fd < 0)
		return -errno;
	ws->ep.count = ws->ep.next = 0;
	return 0;
}

static void epoll_engine_fini(floe_waitset *ws)
{
	close(ws->ep.fd);
}

static int epoll_engine_watch(floe_waitset *ws, struct ws_source *src)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = src->key };

	if (!epoll_ctl(ws->ep.fd, EPOLL_CTL_ADD, src->fd, &ev))
		return 0;
	switch (errno) {
	case EEXIST:
		return FLOE_E_ATTACHED;
	case EPERM: /* a file that cannot be polled */
	case EBADF:
		return FLOE_E_INVALID;
	case ENOMEM:
	case ENOSPC: /* fs.epoll.max_user_watches */
		return FLOE_E_NOMEM;
	default:
		return FLOE_E_SYSTEM;
	}
}

static void epoll_engine_unwatch(floe_waitset *ws, struct ws_source *src)
{
	/* Fails only if the descriptor was closed before detach, which
	 * removed it from the set already. */
	epoll_ctl(ws->ep.fd, EPOLL_CTL_DEL, src->fd, NULL);
}

static int epoll_engine_rewatch(floe_waitset *ws, struct ws_source *src)
{
	(void)ws;
	(void)src;
	return 0; /* level-triggered: still registered, still reported */
}

static int epoll_engine_wait(floe_waitset *ws, uint64_t timeout_ns)
{
	int ms = -1, n;

	if (timeout_ns != WS_FOREVER)
		ms = timeout_ns / 1000000 >= INT_MAX
			     ? INT_MAX
			     : (int)((timeout_ns + 999999) / 1000000);
	ws->ep.count = ws->ep.next = 0;
	n = epoll_wait(ws->ep.fd, ws->ep.events, WS_EPOLL_BATCH, ms);
	if (n < 0)
		/* EINTR: the caller waits again for what is left */
		return errno == EINTR ? 0 : FLOE_E_SYSTEM;
	if (!n)
		return FLOE_E_TIMEOUT;
	ws->ep.count = n;
	return 0;
}

static bool epoll_engine_next(floe_waitset *ws, struct ws_ready *ready)
{
	if (ws->ep.next >= ws->ep.count)
		return false;
	/* EPOLLIN, or EPOLLHUP/EPOLLERR, which a read reports */
	ready->key = ws->ep.events[ws->ep.next++].data.u64;
	ready->readable = true;
	return true;
}

const struct ws_engine ws_engine_epoll = {
	.impl = FLOE_WAITSET_EPOLL,
	.init = epoll_engine_init,
	.fini = epoll_engine_fini,
	.watch = epoll_engine_watch,
	.unwatch = epoll_engine_unwatch,
	.rewatch = epoll_engine_rewatch,
	.wait = epoll_engine_wait,
	.next = epoll_engine_next,
};
