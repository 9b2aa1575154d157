// SPDX-License-Identifier: MIT
/*
 * WaitSet: one thread waits on many things at once.
 *
 *   waitset [SECONDS]
 *
 * Listens on two event services, "MyEventName" and "MyOtherEventName",
 * with a one-second interval beside them, and prints whatever fires:
 * event ids, ticks, and a deadline missed when "MyOtherEventName" stays
 * silent for 3 s. Stops after SECONDS (default 10) or on Ctrl-C/SIGTERM.
 * Start event_notifier (which fires on "MyEventName") to see events
 * arrive. The process uses no CPU while it waits: one thread sleeps in
 * the kernel (io_uring, or epoll where io_uring is unavailable; set
 * FLOE_WAITSET=epoll to choose it) until something needs it.
 */
#include <stdio.h>
#include <stdlib.h>

#include "floe.h"

#define SERVICE_1 "MyEventName"
#define SERVICE_2 "MyOtherEventName"
#define SILENCE_S 3	/* deadline of the second service */
#define STOP 1		/* a callback's "stop running" */

/* What an attachment is, handed to the callback as its user pointer. */
struct watched {
	const char *name;
	floe_listener *listener;	/* NULL: an interval */
	int ticks;
};

static void print_event(uint64_t event_id, void *ctx)
{
	const struct watched *w = ctx;

	printf("%s: event id %llu\n", w->name, (unsigned long long)event_id);
}

/* Called once per trigger; returning non-zero ends floe_waitset_run. */
static int on_trigger(floe_waitset *ws, int attachment,
		      enum floe_trigger trigger, void *user)
{
	struct watched *w = user;

	(void)ws;
	(void)attachment;
	switch (trigger) {
	case FLOE_TRIGGER_NOTIFIED:
		/* Take what fired (each id once, however often it fired);
		 * this also re-arms the listener's descriptor. */
		floe_listener_try_wait(w->listener, print_event, w);
		break;
	case FLOE_TRIGGER_MISSED_DEADLINE:
		printf("%s: silent for %d s\n", w->name, SILENCE_S);
		break;
	case FLOE_TRIGGER_TICK:
		if (!w->listener && !w->name)
			return STOP; /* the run's time is up */
		printf("%s %d\n", w->name, ++w->ticks);
		break;
	case FLOE_TRIGGER_READABLE:
	case FLOE_TRIGGER_DATA:
	case FLOE_TRIGGER_CHANGED:
		break; /* no descriptors, ports or watches attached here */
	}
	fflush(stdout);
	return 0;
}

/* Open (or create) @name and attach a listener for it. */
static int listen_on(floe_node *node, floe_waitset *ws, struct watched *w,
		     floe_service **service, uint64_t deadline_ns)
{
	int err = floe_event_open_or_create(node, w->name, NULL, service);

	if (!err)
		err = floe_listener_create(*service, &w->listener);
	if (!err) {
		err = floe_waitset_attach_listener(ws, w->listener,
						   deadline_ns, w);
		err = err < 0 ? err : 0;
	}
	if (err)
		fprintf(stderr, "%s: %s\n", w->name, floe_strerror(err));
	return err;
}

/* A tick every second, and one after @seconds that ends the run. */
static int attach_intervals(floe_waitset *ws, int seconds,
			    struct watched *ticker, struct watched *time_up)
{
	int id = floe_waitset_attach_interval(ws, 1000000000ull, ticker);

	if (id >= 0)
		id = floe_waitset_attach_interval(
			ws, (uint64_t)seconds * 1000000000ull, time_up);
	if (id < 0) {
		fprintf(stderr, "interval: %s\n", floe_strerror(id));
		return id;
	}
	return 0;
}

static int run(floe_waitset *ws, int seconds)
{
	int err;

	printf("waitset ready (%s): listening on %s and %s for %d s, "
	       "Ctrl-C stops\n", floe_waitset_impl_name(floe_waitset_impl(ws)),
	       SERVICE_1, SERVICE_2, seconds);
	fflush(stdout);
	/* Sleeps until something fires; returns when a callback says STOP
	 * or SIGINT/SIGTERM arrives (handle_signals). */
	err = floe_waitset_run(ws, on_trigger);
	if (err == FLOE_E_INTERRUPTED) {
		printf("stopped: interrupted\n");
		return 0;
	}
	if (err == STOP) {
		printf("stopped: %d s are up\n", seconds);
		return 0;
	}
	fprintf(stderr, "run: %s\n", floe_strerror(err));
	return err;
}

int main(int argc, char **argv)
{
	int seconds = argc > 1 ? atoi(argv[1]) : 10;
	struct floe_waitset_opts opts = { .impl = FLOE_WAITSET_AUTO,
					  .handle_signals = true };
	struct watched first = { .name = SERVICE_1 };
	struct watched second = { .name = SERVICE_2 };
	struct watched ticker = { .name = "tick" }, time_up = { 0 };
	floe_service *service1 = NULL, *service2 = NULL;
	floe_waitset *ws = NULL;
	floe_node *node = NULL;
	int err;

	if (seconds <= 0) {
		fprintf(stderr, "usage: %s [SECONDS > 0]\n", argv[0]);
		return 2;
	}
	err = floe_node_create("waitset", NULL, &node);
	if (!err)
		err = floe_waitset_create(&opts, &ws);
	if (err) {
		fprintf(stderr, "setup: %s\n", floe_strerror(err));
		floe_node_destroy(node);
		return 1;
	}
	err = listen_on(node, ws, &first, &service1, 0);
	if (!err)
		err = listen_on(node, ws, &second, &service2,
				SILENCE_S * 1000000000ull);
	if (!err)
		err = attach_intervals(ws, seconds, &ticker, &time_up);
	if (!err)
		err = run(ws, seconds);

	/* Destroying the waitset detaches the listeners; they go after. */
	floe_waitset_destroy(ws);
	floe_listener_destroy(first.listener);
	floe_listener_destroy(second.listener);
	floe_service_close(service1);
	floe_service_close(service2);
	floe_node_destroy(node);
	return err ? 1 : 0;
}
