// SPDX-License-Identifier: MIT
/*
 * Watching a domain: another process's node, service and publisher are
 * reported created; its SIGKILL makes its node and ports dead; cleaning up
 * after it removes them and the service nobody uses; a node that leaves in
 * order is removed without dying. Nothing is reported while nothing
 * changes, the watch's descriptor wakes poll and a waitset (CHANGED).
 */
#include <poll.h>

#include "helpers.h"

#define SERVICE "t/watch/svc"
#define MAX_EVENTS 256

static const struct floe_type u64_type = {
	.name = "t_watch.U64", .size = 8, .align = 8
};

struct log {
	struct floe_watch_event ev[MAX_EVENTS];
	int n;
};

static void record(const struct floe_watch_event *ev, void *ctx)
{
	struct log *l = ctx;

	if (l->n < MAX_EVENTS)
		l->ev[l->n++] = *ev;
}

/* Has @l an event of @kind for @pid (nodes) or @service and @role? */
static int seen(const struct log *l, enum floe_watch_event_kind kind,
		int32_t pid, const char *service, enum floe_port_role role)
{
	for (int i = 0; i < l->n; i++) {
		const struct floe_watch_event *e = &l->ev[i];

		if (e->kind != kind)
			continue;
		if (pid && e->pid == pid)
			return 1;
		if (service && !strcmp(e->name, service) &&
		    (!role || e->role == role))
			return 1;
	}
	return 0;
}

/* Wait up to 10 s until @l has that event. */
static int await(floe_watch *w, struct log *l, enum floe_watch_event_kind kind,
		 int32_t pid, const char *service, enum floe_port_role role)
{
	uint64_t deadline = th_now_ns() + 10000000000ull;

	while (!seen(l, kind, pid, service, role) && th_now_ns() < deadline)
		floe_watch_timed_wait(w, 500000000ull, record, l);
	return seen(l, kind, pid, service, role);
}

struct child {
	struct th_pipe ready; /* child → parent */
	struct th_pipe go;    /* parent → child: leave now */
	int leave;
};

static int child(void *arg)
{
	struct child *c = arg;
	struct floe_service_opts o = { .type = u64_type };
	floe_node *node = th_node("watched");
	floe_service *svc = NULL;
	floe_publisher *pub = NULL;

	if (!node || !th_check(!floe_service_create(node, SERVICE, &o, &svc) &&
				       !floe_publisher_create(svc, NULL, &pub),
			       "service and publisher"))
		return 1;
	th_send_u64(&c->ready, 1);
	if (c->leave) {
		uint64_t v;

		th_recv_u64(&c->go, &v, 30000);
		floe_publisher_destroy(pub);
		floe_service_close(svc);
		floe_node_destroy(node);
		return th_child_result();
	}
	for (;;)
		pause();
}

static int on_trigger(floe_waitset *ws, int id, enum floe_trigger t,
		      void *user)
{
	(void)ws;
	(void)id;
	*(int *)user = t == FLOE_TRIGGER_CHANGED;
	return 1;
}

int main(void)
{
	const char *domain = th_setup("watch");
	floe_node *node = th_node("watcher");
	struct child c = { 0 };
	struct log l = { 0 };
	floe_watch *w = NULL;
	floe_waitset *ws = NULL;
	struct pollfd pfd;
	uint64_t v;
	int changed = 0, removed_before_dead = 0;
	pid_t pid;

	tap_plan(20);
	tap_eq(floe_watch_create(NULL, &w), FLOE_E_INVALID, "NULL node");
	tap_eq(floe_watch_try_wait(NULL, NULL, NULL), FLOE_E_INVALID,
	       "NULL watch");
	tap_require(node && !floe_watch_create(node, &w), "watch");
	tap_eq(floe_watch_try_wait(w, record, &l), 0,
	       "what exists at creation is no news");

	th_pipe_init(&c.ready);
	th_pipe_init(&c.go);
	pid = th_fork(child, &c);
	tap_require(th_recv_u64(&c.ready, &v, 10000) == 0, "child is up");
	pfd = (struct pollfd){ .fd = floe_watch_fd(w), .events = POLLIN };
	tap_ok(poll(&pfd, 1, 10000) == 1, "the descriptor wakes poll");
	tap_ok(await(w, &l, FLOE_WATCH_NODE_CREATED, pid, NULL, 0),
	       "node created (its pid)");
	tap_ok(await(w, &l, FLOE_WATCH_SERVICE_CREATED, 0, SERVICE, 0),
	       "service created");
	tap_ok(await(w, &l, FLOE_WATCH_PORT_CREATED, 0, SERVICE,
		     FLOE_PORT_PUBLISHER),
	       "publisher created");

	l.n = 0;
	th_kill(pid);
	tap_ok(await(w, &l, FLOE_WATCH_NODE_DEAD, pid, NULL, 0),
	       "SIGKILL: node dead");
	tap_ok(await(w, &l, FLOE_WATCH_PORT_DEAD, 0, SERVICE,
		     FLOE_PORT_PUBLISHER),
	       "and its publisher");
	tap_ok(floe_node_cleanup_dead(node) >= 0, "cleanup (with the module the kernel did most)");
	tap_ok(await(w, &l, FLOE_WATCH_NODE_REMOVED, pid, NULL, 0) &&
		       await(w, &l, FLOE_WATCH_PORT_REMOVED, 0, SERVICE,
			     FLOE_PORT_PUBLISHER) &&
		       await(w, &l, FLOE_WATCH_SERVICE_REMOVED, 0, SERVICE, 0),
	       "cleanup removes node, port and the unused service");

	/* leaving in order: removed, never dead */
	c.leave = 1;
	pid = th_fork(child, &c);
	th_recv_u64(&c.ready, &v, 10000);
	tap_ok(await(w, &l, FLOE_WATCH_NODE_CREATED, pid, NULL, 0),
	       "a second node");
	l.n = 0;
	th_send_u64(&c.go, 1);
	tap_eq(th_wait(pid, 10000), 0, "it leaves in order");
	tap_ok(await(w, &l, FLOE_WATCH_NODE_REMOVED, pid, NULL, 0),
	       "removed");
	for (int i = 0; i < l.n; i++)
		removed_before_dead |= l.ev[i].kind == FLOE_WATCH_NODE_DEAD;
	tap_ok(!removed_before_dead, "never reported dead");

	/* a waitset */
	tap_require(!floe_waitset_create(NULL, &ws) &&
			    floe_waitset_attach_watch(ws, w, &changed) >= 0,
		    "watch on a waitset");
	floe_watch_try_wait(w, NULL, NULL);
	c.leave = 0;
	pid = th_fork(child, &c);
	th_recv_u64(&c.ready, &v, 10000);
	tap_ok(floe_waitset_run_once(ws, 10000000000ull, on_trigger) == 1 &&
		       changed,
	       "CHANGED on the waitset");
	th_kill(pid);
	floe_waitset_destroy(ws);
	floe_node_cleanup_dead(node);
	floe_watch_destroy(w);
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
