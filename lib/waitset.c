// SPDX-License-Identifier: MIT
/*
 * WaitSet: one thread sleeps on listeners, plain descriptors, intervals
 * and deadlines at once, and a callback is told what woke it.
 *
 * Everything is reduced to descriptors that are readable when they need
 * attention (see waitset.h): a listener's socket (floe_listener_fd), the
 * user's fd, a timerfd per interval, a timerfd per listener deadline, a
 * signalfd for SIGINT/SIGTERM. An engine (io_uring, or epoll where
 * io_uring is unavailable) reports which are readable, level-triggered;
 * this file turns reports into triggers:
 *
 *   listener socket   NOTIFIED; the deadline timer restarts
 *   user fd           READABLE (also on hang-up or error: a read will not
 *                     block, it tells the caller what happened)
 *   interval timer    TICK, once per wake-up however many periods elapsed
 *                     (a late waitset does not get a burst of ticks)
 *   deadline timer    MISSED_DEADLINE, then again every period of silence
 *   signalfd          run/run_once return FLOE_E_INTERRUPTED
 *
 * A process killed by SIGKILL writes no futex word and rings no doorbell,
 * so while receiving ports are attached the wait is cut into slices of
 * FLOE_LIVENESS_PERIOD_NS, after each of which every port asks whether
 * its senders live (what floe_subscriber_wait and its kin do): a port one
 * of whose senders died gets DATA once, and its receive then says what
 * that means (a client's pending response: FLOE_E_DEAD; a server: the
 * requests it held off from a client that died can be taken now).
 *
 * SIGINT/SIGTERM are blocked only in the thread running the waitset (and
 * only while it runs): a signal sent to the process reaches the signalfd
 * unless another thread leaves it unblocked and takes it first.
 *
 * Timers are consumed (read) before their trigger is reported, so a
 * report whose timer was restarted in the meantime (a listener fired in
 * the same batch) is dropped rather than reported late. Readable user fds
 * and listeners are not consumed here: the callback does it, and if it
 * does not, the next run reports them again.
 *
 * Attachment ids index one array; the lowest free id is reused. Reports
 * carry the id and a generation (waitset.h), so a report still in flight
 * for a detached attachment, even one whose id was reused, is dropped.
 * Callbacks may attach and detach (the array may move: nothing here keeps
 * a pointer into it across a callback).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "base/log.h"
#include "engine/engine.h"
#include "internal.h"
#include "waitset.h"

/* ------------------------------------------------------------------ */
/* Timers and signals                                                 */
/* ------------------------------------------------------------------ */

/* (Re)start @fd to expire @period_ns from now, then every @period_ns. */
static void periodic_timer_restart(int fd, uint64_t period_ns)
{
	struct itimerspec its;

	its.it_interval.tv_sec = (time_t)(period_ns / 1000000000ULL);
	its.it_interval.tv_nsec = (long)(period_ns % 1000000000ULL);
	its.it_value = its.it_interval;
	/* Cannot fail: a valid timerfd and a normalised, non-zero time. */
	timerfd_settime(fd, 0, &its, NULL);
}

/* A periodic CLOCK_MONOTONIC timerfd, or an error. */
static int periodic_timer_new(uint64_t period_ns)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

	if (fd < 0)
		return floe_fd_errno(errno);
	periodic_timer_restart(fd, period_ns);
	return fd;
}

/* Consume a timer's expirations; false if there were none (it was
 * restarted after it became readable). */
static bool periodic_timer_take(int fd)
{
	uint64_t expirations;

	return read(fd, &expirations, sizeof(expirations)) ==
	       (ssize_t)sizeof(expirations);
}

/* Consume one pending SIGINT/SIGTERM; false if none is pending. */
static bool signal_take(floe_waitset *ws)
{
	struct signalfd_siginfo info;

	return read(ws->signal_src.fd, &info, sizeof(info)) ==
	       (ssize_t)sizeof(info);
}

/* ------------------------------------------------------------------ */
/* Creation                                                           */
/* ------------------------------------------------------------------ */

/* AUTO resolved through $FLOE_WAITSET; FLOE_E_INVALID for a bad value. */
static int choose_impl(enum floe_waitset_impl impl)
{
	const char *env = getenv("FLOE_WAITSET");

	if (impl != FLOE_WAITSET_AUTO || !env || !*env)
		return impl;
	if (!strcmp(env, "io_uring"))
		return FLOE_WAITSET_IO_URING;
	if (!strcmp(env, "epoll"))
		return FLOE_WAITSET_EPOLL;
	if (!strcmp(env, "auto"))
		return FLOE_WAITSET_AUTO;
	return FLOE_E_INVALID;
}

static int engine_init(floe_waitset *ws, const struct ws_engine *engine)
{
	int err = engine->init(ws);

	if (err)
		return err;
	ws->engine = engine;
	return 0;
}

static int watch_signals(floe_waitset *ws)
{
	int err;

	sigemptyset(&ws->signals);
	sigaddset(&ws->signals, SIGINT);
	sigaddset(&ws->signals, SIGTERM);
	ws->signal_src.fd = signalfd(-1, &ws->signals,
				     SFD_NONBLOCK | SFD_CLOEXEC);
	if (ws->signal_src.fd < 0)
		return floe_fd_errno(errno);
	ws->signal_src.key = ws_key(WS_ROLE_SIGNAL, 0, 0);
	err = ws->engine->watch(ws, &ws->signal_src);
	if (err) {
		close(ws->signal_src.fd);
		ws->signal_src.fd = -1;
	}
	return err;
}

FLOE_EXPORT int floe_waitset_create(const struct floe_waitset_opts *opts,
				    floe_waitset **out)
{
	enum floe_waitset_impl requested = opts ? opts->impl
						: FLOE_WAITSET_AUTO;
	floe_waitset *ws;
	int impl, err;

	if (!out || requested > FLOE_WAITSET_EPOLL)
		return FLOE_E_INVALID;
	impl = choose_impl(requested);
	if (impl < 0)
		return impl;
	ws = calloc(1, sizeof(*ws));
	if (!ws)
		return FLOE_E_NOMEM;
	ws->signal_src.fd = -1;
	ws->futex_ports = !(opts && opts->port_descriptors) &&
			  !(getenv("FLOE_WAITSET_PORTS") &&
			    !strcmp(getenv("FLOE_WAITSET_PORTS"), "descriptor"));

	switch (impl) {
	case FLOE_WAITSET_IO_URING:
		err = engine_init(ws, &ws_engine_uring);
		/* Asked for by name: say it is not there (ENOSYS, EPERM for
		 * kernel.io_uring_disabled, seccomp, a kernel too old). */
		if (err)
			err = err == -EMFILE || err == -ENFILE ? FLOE_E_NOMEM
							       : FLOE_E_BACKEND;
		break;
	case FLOE_WAITSET_EPOLL:
		err = engine_init(ws, &ws_engine_epoll);
		if (err)
			err = floe_fd_errno(-err);
		break;
	default:
		err = engine_init(ws, &ws_engine_uring);
		if (err) {
			floe_log(FLOE_LOG_INFO, "io_uring unavailable (%s): "
				 "the waitset uses epoll", strerror(-err));
			err = engine_init(ws, &ws_engine_epoll);
		}
		if (err)
			err = floe_fd_errno(-err);
		break;
	}
	if (err) {
		free(ws);
		return err;
	}
	if (ws->engine != &ws_engine_uring)
		ws->futex_ports = false;
	if (opts && opts->handle_signals) {
		ws->handle_signals = true;
		err = watch_signals(ws);
		if (err) {
			ws->engine->fini(ws);
			free(ws);
			return err;
		}
	}
	*out = ws;
	return 0;
}

/* Descriptors the waitset created for an attachment (not the user's). */
static void close_owned(struct ws_attachment *a)
{
	if (a->kind == WS_INTERVAL)
		close(a->src[WS_ROLE_MAIN].fd);
	if (a->src[WS_ROLE_DEADLINE].fd >= 0)
		close(a->src[WS_ROLE_DEADLINE].fd);
}

FLOE_EXPORT void floe_waitset_destroy(floe_waitset *ws)
{
	if (!ws)
		return;
	/* Closing the ring or the epoll instance drops every watch at once;
	 * only then are our own descriptors closed. Ports sleep no more. */
	for (uint32_t id = 0; id < ws->natt; id++)
		ws_port_disarm(&ws->att[id].src[WS_ROLE_MAIN]);
	ws->engine->fini(ws);
	for (uint32_t id = 0; id < ws->natt; id++)
		if (ws->att[id].kind != WS_FREE)
			close_owned(&ws->att[id]);
	if (ws->signal_src.fd >= 0)
		close(ws->signal_src.fd);
	free(ws->att);
	free(ws);
}

FLOE_EXPORT bool floe_waitset_uses_futex(const floe_waitset *ws)
{
	return ws && ws->futex_ports;
}

FLOE_EXPORT enum floe_waitset_impl floe_waitset_impl(const floe_waitset *ws)
{
	return ws ? ws->engine->impl : FLOE_WAITSET_AUTO;
}

FLOE_EXPORT const char *floe_waitset_impl_name(enum floe_waitset_impl impl)
{
	switch (impl) {
	case FLOE_WAITSET_IO_URING:
		return "io_uring";
	case FLOE_WAITSET_EPOLL:
		return "epoll";
	case FLOE_WAITSET_AUTO:
		return "auto";
	}
	return "unknown";
}

/* ------------------------------------------------------------------ */
/* Attachments                                                        */
/* ------------------------------------------------------------------ */

/* The lowest free id, growing the array if all are taken; or an error. */
static int take_id(floe_waitset *ws)
{
	struct ws_attachment *grown;
	uint32_t cap;

	for (uint32_t id = 0; id < ws->natt; id++)
		if (ws->att[id].kind == WS_FREE)
			return (int)id;
	if (ws->natt == INT_MAX)
		return FLOE_E_NOMEM;
	if (ws->natt == ws->cap) {
		cap = ws->cap ? ws->cap * 2 : 8;
		if (cap > INT_MAX)
			cap = INT_MAX;
		grown = realloc(ws->att, cap * sizeof(*grown));
		if (!grown)
			return FLOE_E_NOMEM;
		/* Fresh slots start at generation 0; slots given back by
		 * detach keep theirs, so reports for them stay stale. */
		memset(grown + ws->cap, 0, (cap - ws->cap) * sizeof(*grown));
		ws->att = grown;
		ws->cap = cap;
	}
	return (int)ws->natt++;
}

/* Give @id back; trailing free slots stop being scanned. */
static void release_id(floe_waitset *ws, uint32_t id)
{
	ws->att[id].kind = WS_FREE;
	ws->att[id].gen = (ws->att[id].gen + 1) & WS_GEN_MASK;
	while (ws->natt && ws->att[ws->natt - 1].kind == WS_FREE)
		ws->natt--;
}

/* FLOE_E_ATTACHED if @fd is already watched for a listener, a port or a
 * user fd (epoll cannot register it twice, so neither backend allows
 * it), or port @rx is attached already. */
static int check_unique(const floe_waitset *ws, int fd,
			const struct floe_receiver *rx)
{
	for (uint32_t id = 0; id < ws->natt; id++) {
		const struct ws_attachment *a = &ws->att[id];
		const struct ws_source *src = &a->src[WS_ROLE_MAIN];

		if ((a->kind == WS_LISTENER || a->kind == WS_FD ||
		     a->kind == WS_PORT || a->kind == WS_WATCH) &&
		    ((fd >= 0 && src->fd == fd) || (rx && src->rx == rx)))
			return FLOE_E_ATTACHED;
	}
	return 0;
}

/*
 * Attach @fd (reported as @kind) and, if @deadline_fd >= 0, a deadline
 * timer. Takes ownership of the descriptors the waitset created (the
 * interval's timer, @deadline_fd) even on failure.
 */
static int attach(floe_waitset *ws, enum ws_kind kind, int fd,
		  struct floe_receiver *rx, int deadline_fd,
		  uint64_t deadline_ns, void *user)
{
	struct ws_attachment *a;
	int id = take_id(ws), err;

	if (id < 0) {
		if (kind == WS_INTERVAL)
			close(fd);
		if (deadline_fd >= 0)
			close(deadline_fd);
		return id;
	}
	a = &ws->att[id];
	a->kind = kind;
	a->user = user;
	a->deadline_ns = deadline_ns;
	a->src[WS_ROLE_MAIN] = (struct ws_source){
		.fd = fd, .key = ws_key(WS_ROLE_MAIN, a->gen, (uint32_t)id),
		.rx = rx,
	};
	a->src[WS_ROLE_DEADLINE] = (struct ws_source){
		.fd = deadline_fd,
		.key = ws_key(WS_ROLE_DEADLINE, a->gen, (uint32_t)id),
	};
	err = ws->engine->watch(ws, &a->src[WS_ROLE_MAIN]);
	if (!err && deadline_fd >= 0) {
		err = ws->engine->watch(ws, &a->src[WS_ROLE_DEADLINE]);
		if (err)
			ws->engine->unwatch(ws, &a->src[WS_ROLE_MAIN]);
	}
	if (err) {
		close_owned(a);
		release_id(ws, (uint32_t)id);
		return err;
	}
	return id;
}

int ws_attach_watched(floe_waitset *ws, enum ws_kind kind, int fd,
		      struct floe_receiver *rx, uint64_t deadline_ns,
		      void *user)
{
	int deadline_fd = -1, err;

	if (fd < 0 && !rx)
		return fd;
	err = check_unique(ws, fd, rx);
	if (err)
		return err;
	if (deadline_ns) {
		deadline_fd = periodic_timer_new(deadline_ns);
		if (deadline_fd < 0)
			return deadline_fd;
	}
	return attach(ws, kind, fd, rx, deadline_fd, deadline_ns, user);
}

FLOE_EXPORT int floe_waitset_attach_listener(floe_waitset *ws,
					     floe_listener *listener,
					     uint64_t deadline_ns, void *user)
{
	if (!ws || !listener)
		return FLOE_E_INVALID;
	if (!deadline_ns)
		deadline_ns = floe_listener_deadline(listener);
	return ws_attach_watched(ws, WS_LISTENER, floe_listener_fd(listener),
				 NULL, deadline_ns, user);
}

FLOE_EXPORT int floe_waitset_attach_fd(floe_waitset *ws, int fd, void *user)
{
	struct stat st;
	int err;

	if (!ws || fd < 0)
		return FLOE_E_INVALID;
	/* Not open, or a file or directory: those are always "ready" to
	 * poll(2) and refused by epoll. */
	if (fstat(fd, &st) || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
		return FLOE_E_INVALID;
	err = check_unique(ws, fd, NULL);
	if (err)
		return err;
	return attach(ws, WS_FD, fd, NULL, -1, 0, user);
}

FLOE_EXPORT int floe_waitset_attach_interval(floe_waitset *ws,
					     uint64_t period_ns, void *user)
{
	int fd;

	if (!ws || !period_ns)
		return FLOE_E_INVALID;
	fd = periodic_timer_new(period_ns);
	if (fd < 0)
		return fd;
	return attach(ws, WS_INTERVAL, fd, NULL, -1, 0, user);
}

FLOE_EXPORT int floe_waitset_detach(floe_waitset *ws, int attachment)
{
	struct ws_attachment *a;

	if (!ws || attachment < 0 || (uint32_t)attachment >= ws->natt ||
	    ws->att[attachment].kind == WS_FREE)
		return FLOE_E_INVALID;
	a = &ws->att[attachment];
	/* Stop watching before closing: a closed descriptor's number may
	 * be reused at once. */
	for (int role = WS_ROLE_MAIN; role <= WS_ROLE_DEADLINE; role++)
		if (a->src[role].fd >= 0 || a->src[role].rx)
			ws->engine->unwatch(ws, &a->src[role]);
	close_owned(a);
	release_id(ws, (uint32_t)attachment);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Running                                                            */
/* ------------------------------------------------------------------ */

/* Is the source a report with @key came from still attached? A detached
 * one's slot is free, or taken again under the next generation. */
static bool attached(const floe_waitset *ws, uint32_t id, enum ws_role role,
		     uint64_t key)
{
	return id < ws->natt && ws->att[id].kind != WS_FREE &&
	       ws->att[id].src[role].key == key;
}

/* @src's report was handled; watch on unless a callback detached it. */
static void rewatch(floe_waitset *ws, enum ws_role role, uint32_t id,
		    uint64_t key, int *stop)
{
	struct ws_source *src;
	int err;

	if (role == WS_ROLE_SIGNAL) {
		src = &ws->signal_src;
	} else {
		if (!attached(ws, id, role, key))
			return; /* the callback detached it */
		src = &ws->att[id].src[role];
	}
	err = ws->engine->rewatch(ws, src);
	if (err && !*stop)
		*stop = err;
}

/* @a had its event: its deadline (if any) starts over. */
static void restart_deadline(struct ws_attachment *a)
{
	if (a->deadline_ns)
		periodic_timer_restart(a->src[WS_ROLE_DEADLINE].fd,
				       a->deadline_ns);
}

/*
 * Turn one readiness report into a trigger and report it. Returns 1 if
 * the callback was called, else 0. Sets *@stop to a callback's non-zero
 * result, FLOE_E_INTERRUPTED, or an engine failure.
 */
static int dispatch(floe_waitset *ws, const struct ws_ready *ready,
		    floe_waitset_cb cb, int *stop)
{
	enum ws_role role = ws_key_role(ready->key);
	uint32_t id = ws_key_id(ready->key);
	enum floe_trigger trigger;
	struct ws_attachment *a;
	int r;

	if (role == WS_ROLE_SIGNAL) {
		if (ready->readable && signal_take(ws))
			*stop = FLOE_E_INTERRUPTED;
		rewatch(ws, role, 0, ready->key, stop);
		return 0;
	}
	if (role > WS_ROLE_DEADLINE || !attached(ws, id, role, ready->key))
		return 0; /* detached since: stale */
	a = &ws->att[id];
	if (!ready->readable) {
		rewatch(ws, role, id, ready->key, stop);
		return 0;
	}

	if (role == WS_ROLE_DEADLINE) {
		trigger = FLOE_TRIGGER_MISSED_DEADLINE;
	} else if (a->kind == WS_PORT) {
		ws_port_disarm(&a->src[WS_ROLE_MAIN]);
		if (!floe_receiver_has_data(a->src[WS_ROLE_MAIN].rx)) {
			/* taken already, or a wake-up for nothing: empty the
			 * descriptor, else it stays readable */
			floe_receiver_settle(a->src[WS_ROLE_MAIN].rx);
			rewatch(ws, role, id, ready->key, stop);
			return 0;
		}
		trigger = FLOE_TRIGGER_DATA;
		restart_deadline(a);
	} else if (a->kind == WS_LISTENER) {
		trigger = FLOE_TRIGGER_NOTIFIED;
		restart_deadline(a);
	} else if (a->kind == WS_INTERVAL) {
		trigger = FLOE_TRIGGER_TICK;
	} else if (a->kind == WS_WATCH) {
		trigger = FLOE_TRIGGER_CHANGED;
	} else {
		trigger = FLOE_TRIGGER_READABLE;
	}
	if ((trigger == FLOE_TRIGGER_TICK ||
	     trigger == FLOE_TRIGGER_MISSED_DEADLINE) &&
	    !periodic_timer_take(a->src[role].fd)) {
		/* nothing expired: a deadline restarted by its listener's
		 * event earlier in this batch */
		rewatch(ws, role, id, ready->key, stop);
		return 0;
	}

	r = cb(ws, (int)id, trigger, a->user);
	if (r)
		*stop = r;
	rewatch(ws, role, id, ready->key, stop);
	return 1;
}

static bool any_port(const floe_waitset *ws)
{
	for (uint32_t id = 0; id < ws->natt; id++)
		if (ws->att[id].kind == WS_PORT)
			return true;
	return false;
}

/*
 * If a liveness slice is over at @now: every attached port asks whether
 * its senders live, and one that lost a sender gets DATA (whatever it has
 * to take besides is reported the usual way). Returns how many were
 * reported; sets *@stop as dispatch() does.
 */
static int check_liveness(floe_waitset *ws, uint64_t now, floe_waitset_cb cb,
			  int *stop)
{
	int count = 0;

	if (now < ws->next_liveness_ns)
		return 0;
	ws->next_liveness_ns = now + FLOE_LIVENESS_PERIOD_NS;
	/* callbacks may attach and detach: nothing kept across one */
	for (uint32_t id = 0; !*stop && id < ws->natt; id++) {
		struct floe_receiver *rx = ws->att[id].src[WS_ROLE_MAIN].rx;
		int r;

		if (ws->att[id].kind != WS_PORT)
			continue;
		floe_receiver_check_senders(rx);
		if (!floe_receiver_take_deaths(rx))
			continue;
		restart_deadline(&ws->att[id]);
		r = cb(ws, (int)id, FLOE_TRIGGER_DATA, ws->att[id].user);
		if (r)
			*stop = r;
		count++;
	}
	return count;
}

/*
 * Wait up to @timeout_ns (WS_FOREVER: forever) until at least one
 * trigger was reported or *@stop set; report everything due. Reports that
 * turn out stale or spurious do not end the wait early.
 */
static int run_until(floe_waitset *ws, uint64_t timeout_ns,
		     floe_waitset_cb cb, int *stop)
{
	uint64_t start = floe_now_ns(), waited;
	int count = 0, err;

	for (;;) {
		struct ws_ready ready;
		uint64_t slice = timeout_ns, now;
		bool ports = any_port(ws);

		if (ports) {
			now = floe_now_ns();
			if (!ws->next_liveness_ns)
				ws->next_liveness_ns = now + FLOE_LIVENESS_PERIOD_NS;
			if (ws->next_liveness_ns < now)
				ws->next_liveness_ns = now;
			if (ws->next_liveness_ns - now < slice)
				slice = ws->next_liveness_ns - now;
		}
		err = ws->engine->wait(ws, slice);
		if (err && err != FLOE_E_TIMEOUT) {
			*stop = err;
			return count;
		}
		while (!*stop && ws->engine->next(ws, &ready))
			count += dispatch(ws, &ready, cb, stop);
		if (ports && !*stop)
			count += check_liveness(ws, floe_now_ns(), cb, stop);
		if (count || *stop || (err == FLOE_E_TIMEOUT && slice == timeout_ns))
			return count;
		if (timeout_ns != WS_FOREVER) {
			waited = floe_now_ns() - start;
			if (waited >= timeout_ns)
				return 0;
			timeout_ns -= waited;
			start += waited;
		}
	}
}

/* Enter run/run_once: one at a time, SIGINT/SIGTERM blocked if asked. */
static int enter(floe_waitset *ws, floe_waitset_cb cb, sigset_t *saved)
{
	if (!ws || !cb)
		return FLOE_E_INVALID;
	if (ws->running)
		return FLOE_E_BUSY; /* called from one of its callbacks */
	if (ws->handle_signals &&
	    pthread_sigmask(SIG_BLOCK, &ws->signals, saved))
		return FLOE_E_SYSTEM;
	ws->running = true;
	return 0;
}

/*
 * Leave run/run_once with the caller's signal mask back. SIGINT/SIGTERM
 * that arrived after the last look at the signalfd (while callbacks ran,
 * say) are still pending: restoring the mask would deliver them, killing
 * a process that asked to be stopped cleanly instead. Consume them here
 * and stop with FLOE_E_INTERRUPTED, which then also takes precedence over
 * a callback's value: both ask to stop, the signal is the one that would
 * be lost. Returns the run's result.
 */
static int leave(floe_waitset *ws, const sigset_t *saved, int result)
{
	if (ws->handle_signals) {
		while (signal_take(ws))
			result = FLOE_E_INTERRUPTED;
		pthread_sigmask(SIG_SETMASK, saved, NULL);
	}
	ws->running = false;
	return result;
}

FLOE_EXPORT int floe_waitset_run_once(floe_waitset *ws, uint64_t timeout_ns,
				      floe_waitset_cb cb)
{
	sigset_t saved;
	int stop = 0, count, err = enter(ws, cb, &saved);

	if (err)
		return err;
	count = run_until(ws, timeout_ns, cb, &stop);
	return leave(ws, &saved, stop ? stop : count);
}

FLOE_EXPORT int floe_waitset_run(floe_waitset *ws, floe_waitset_cb cb)
{
	sigset_t saved;
	int stop = 0, err = enter(ws, cb, &saved);

	if (err)
		return err;
	while (!stop)
		run_until(ws, WS_FOREVER, cb, &stop);
	return leave(ws, &saved, stop);
}
