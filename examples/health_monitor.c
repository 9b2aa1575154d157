// SPDX-License-Identifier: MIT
/*
 * A health monitor: reports ports that die in the domain and a heartbeat
 * service that goes silent, from one WaitSet, without polling.
 *
 *   health_monitor [SECONDS]
 *
 * Watches the domain (floe_watch: nodes and ports that die) and listens
 * on the event service "Health/Heartbeat", created with a 500 ms deadline:
 * a notifier there that stays silent longer is reported as a missed
 * deadline. What dead nodes leave behind is cleaned up at once. Runs
 * SECONDS (default 10), then exits 0.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "floe.h"

#define HEARTBEAT "Health/Heartbeat"
#define DEADLINE_NS 500000000ULL

struct monitor {
	floe_node *node;
	floe_watch *watch;
	floe_listener *listener;
	int timer; /* the attachment that ends the run */
};

static void on_change(const struct floe_watch_event *ev, void *ctx)
{
	int *dead = ctx;

	if (ev->kind == FLOE_WATCH_NODE_DEAD) {
		printf("node dead: %s (pid %d)\n", ev->name, ev->pid);
		(*dead)++;
	}
	else if (ev->kind == FLOE_WATCH_PORT_DEAD &&
		 ev->role != FLOE_PORT_NODE)
		printf("port dead: %s %016" PRIx64 " on %s\n",
		       floe_port_role_name(ev->role),
		       ev->port_id, ev->name);
}

static int on_trigger(floe_waitset *ws, int attachment,
		      enum floe_trigger trigger, void *user)
{
	struct monitor *m = user;

	(void)ws;
	switch (trigger) {
	case FLOE_TRIGGER_CHANGED: {
		int dead = 0;

		floe_watch_try_wait(m->watch, on_change, &dead);
		/* the ports were reported: now free what they held */
		if (dead && floe_node_cleanup_dead(m->node) > 0)
			printf("cleaned up after %d dead node%s\n", dead,
			       dead == 1 ? "" : "s");
		break;
	}
	case FLOE_TRIGGER_NOTIFIED:
		if (floe_listener_try_wait(m->listener, NULL, NULL) > 0)
			printf("heartbeat\n");
		break;
	case FLOE_TRIGGER_MISSED_DEADLINE:
		printf("missed deadline: %s silent for 500 ms\n", HEARTBEAT);
		break;
	case FLOE_TRIGGER_TICK:
		if (attachment == m->timer)
			return 1; /* the run's time is up */
		break;
	default:
		break;
	}
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	int secs = argc > 1 ? atoi(argv[1]) : 10;
	struct floe_event_qos qos;
	struct floe_event_opts opts = { .qos = &qos };
	struct monitor m = { 0 };
	floe_service *heartbeat = NULL;
	floe_waitset *ws = NULL;
	int err;

	floe_event_qos_init(&qos);
	qos.deadline_ns = DEADLINE_NS;
	err = floe_node_create("health_monitor", NULL, &m.node);
	if (!err)
		err = floe_watch_create(m.node, &m.watch);
	if (!err)
		err = floe_event_open_or_create(m.node, HEARTBEAT, &opts,
						&heartbeat);
	if (!err)
		err = floe_listener_create(heartbeat, &m.listener);
	if (!err)
		err = floe_waitset_create(NULL, &ws);
	if (!err)
		err = floe_waitset_attach_watch(ws, m.watch, &m);
	/* deadline 0: the service's own */
	if (err >= 0)
		err = floe_waitset_attach_listener(ws, m.listener, 0, &m);
	if (err >= 0)
		err = m.timer = floe_waitset_attach_interval(
			ws, (uint64_t)(secs > 0 ? secs : 1) * 1000000000ULL,
			&m);
	if (err < 0) {
		fprintf(stderr, "health_monitor: %s\n", floe_strerror(err));
		return 1;
	}
	printf("health monitor ready: watching the domain and %s\n",
	       HEARTBEAT);
	fflush(stdout);
	err = floe_waitset_run(ws, on_trigger);
	floe_waitset_destroy(ws);
	floe_listener_destroy(m.listener);
	floe_service_close(heartbeat);
	floe_watch_destroy(m.watch);
	floe_node_destroy(m.node);
	return err == 1 ? 0 : 1;
}
