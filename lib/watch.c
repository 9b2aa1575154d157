// SPDX-License-Identifier: MIT
/*
 * Watching a domain: nodes, services and ports appearing, dying and going.
 *
 * A watch keeps the domain as it last saw it (discovery's lists, sorted
 * by key) and reports the differences when it looks again. It looks again
 * only when its backend's change source says something may have changed
 * (shm: inotify on /dev/shm, where a node's death closes its record; kmod:
 * /dev/floe's death counter, plus a periodic look, since the module does
 * not announce segments), so an idle watch costs nothing. The descriptor
 * it hands out is an epoll set of those sources.
 *
 * A node's record goes when it leaves, and with the module also when it
 * dies (the kernel unlinks a dead process's names): to tell the two apart
 * the watch keeps each live node's record mapped and reads the flag an
 * orderly floe_node_destroy sets before it unlinks the record.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "internal.h"

/* kmod: how often segments are looked for (the module does not announce
 * them). shm: a look again this soon after each change, since a dying
 * process's record is closed (the event) just before its lock goes. */
#define WATCH_PERIOD_NS 200000000ULL
#define WATCH_RECHECK_NS 20000000ULL

struct watch_node {
	uint64_t id;
	int32_t pid;
	enum floe_node_state state;
	char name[FLOE_NAME_LEN + 1];
};

/* A live node's record, mapped for its left flag. */
struct watch_record {
	uint64_t id;
	struct floe_seg seg;
};

struct watch_service {
	char name[FLOE_NAME_LEN + 1];
	enum floe_pattern_kind pattern;
};

struct watch_port {
	uint64_t id;
	uint64_t node_id;
	enum floe_port_role role;
	enum floe_node_state state;
	enum floe_pattern_kind pattern;
	char service[FLOE_NAME_LEN + 1];
};

/* A growable array of one of the above. */
struct list {
	void *items;
	size_t n, cap, size;
};

struct snapshot {
	struct list nodes, services, ports;
	/* nodes still being made, or ports of services still being made:
	 * not in the lists yet */
	uint32_t unready;
};

struct floe_watch {
	floe_node *node;
	struct snapshot seen;
	int changes; /* the backend's change source */
	int timer;
	int epoll;
	bool complete; /* changes covers segments, not only deaths */
	struct list records; /* struct watch_record, by node id */
};

static void *list_add(struct list *l)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		void *items = realloc(l->items, cap * l->size);

		if (!items)
			return NULL;
		l->items = items;
		l->cap = cap;
	}
	return memset((char *)l->items + l->n++ * l->size, 0, l->size);
}

static void *list_at(const struct list *l, size_t i)
{
	return (char *)l->items + i * l->size;
}

/* (qsort may not be given a NULL array, even of no elements) */
static void list_sort(struct list *l, int (*cmp)(const void *, const void *))
{
	if (l->n)
		qsort(l->items, l->n, l->size, cmp);
}

static void snapshot_init(struct snapshot *s)
{
	*s = (struct snapshot){
		.nodes = { .size = sizeof(struct watch_node) },
		.services = { .size = sizeof(struct watch_service) },
		.ports = { .size = sizeof(struct watch_port) },
	};
}

static void snapshot_free(struct snapshot *s)
{
	free(s->nodes.items);
	free(s->services.items);
	free(s->ports.items);
}

static int add_node(const struct floe_node_info *info, void *ctx)
{
	struct snapshot *s = ctx;
	struct watch_node *n;

	/* half-made (or another user's), or gone while read: reported once
	 * it can be read, or not at all */
	if (info->state == FLOE_NODE_INACCESSIBLE || !info->pid) {
		s->unready++;
		return 0;
	}
	n = list_add(&s->nodes);
	if (!n)
		return FLOE_E_NOMEM;
	*n = (struct watch_node){ .id = info->id, .pid = info->pid,
				  .state = info->state };
	memcpy(n->name, info->name, sizeof(n->name));
	return 0;
}

static int add_service(const struct floe_service_info *info, void *ctx)
{
	struct watch_service *s = list_add(ctx);

	if (!s)
		return FLOE_E_NOMEM;
	memcpy(s->name, info->name, sizeof(s->name));
	s->pattern = info->pattern;
	return 0;
}

static int add_port(const struct floe_port_info *info, void *ctx)
{
	struct watch_port *p = list_add(ctx);

	if (!p)
		return FLOE_E_NOMEM;
	*p = (struct watch_port){ .id = info->id, .node_id = info->node_id,
				  .role = info->role, .state = info->state,
				  .pattern = info->pattern };
	memcpy(p->service, info->service, sizeof(p->service));
	return 0;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int cmp_node(const void *a, const void *b)
{
	return cmp_u64(((const struct watch_node *)a)->id,
		       ((const struct watch_node *)b)->id);
}

static int cmp_service(const void *a, const void *b)
{
	const struct watch_service *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (int)x->pattern - (int)y->pattern;
}

/* Ports by id, then service: a node has one membership port per service
 * it uses, all of one id. */
static int cmp_port(const void *a, const void *b)
{
	const struct watch_port *x = a, *y = b;
	int c = cmp_u64(x->id, y->id);

	if (c)
		return c;
	c = strcmp(x->service, y->service);
	return c ? c : (int)x->pattern - (int)y->pattern;
}

/* Ports of a service the service list skipped (still being made): left
 * for a later look, so that a service is reported before its ports. */
static void drop_orphan_ports(struct snapshot *s)
{
	size_t kept = 0;

	for (size_t i = 0; i < s->ports.n; i++) {
		struct watch_port *p = list_at(&s->ports, i);
		struct watch_service key = { .pattern = p->pattern };

		memcpy(key.name, p->service, sizeof(key.name));
		if (!s->services.n ||
		    !bsearch(&key, s->services.items, s->services.n,
			     s->services.size, cmp_service)) {
			s->unready++;
			continue;
		}
		if (kept != i)
			memcpy(list_at(&s->ports, kept), p, s->ports.size);
		kept++;
	}
	s->ports.n = kept;
}

static int take_snapshot(floe_node *node, struct snapshot *s)
{
	int r;

	snapshot_init(s);
	r = floe_node_list(node, add_node, s);
	if (r >= 0)
		r = floe_service_list(node, add_service, &s->services);
	if (r >= 0)
		r = floe_port_list(node, add_port, &s->ports);
	if (r < 0) {
		snapshot_free(s);
		return r;
	}
	list_sort(&s->nodes, cmp_node);
	list_sort(&s->services, cmp_service);
	list_sort(&s->ports, cmp_port);
	drop_orphan_ports(s);
	return 0;
}

/* Report one event. */
struct reporter {
	floe_watch *w;
	floe_watch_cb cb;
	void *ctx;
	int count;
};

static void report(struct reporter *r, const struct floe_watch_event *ev)
{
	if (r->cb)
		r->cb(ev, r->ctx);
	r->count++;
}

static void node_event(struct reporter *r, enum floe_watch_event_kind kind,
		       const struct watch_node *n)
{
	struct floe_watch_event ev = { .kind = kind, .node_id = n->id,
				       .pid = n->pid };

	memcpy(ev.name, n->name, sizeof(ev.name));
	report(r, &ev);
}

static void service_event(struct reporter *r, enum floe_watch_event_kind kind,
			  const struct watch_service *s)
{
	struct floe_watch_event ev = { .kind = kind, .pattern = s->pattern };

	memcpy(ev.name, s->name, sizeof(ev.name));
	report(r, &ev);
}

static void port_event(struct reporter *r, enum floe_watch_event_kind kind,
		       const struct watch_port *p)
{
	struct floe_watch_event ev = { .kind = kind, .node_id = p->node_id,
				       .port_id = p->id, .role = p->role,
				       .pattern = p->pattern };

	memcpy(ev.name, p->service, sizeof(ev.name));
	report(r, &ev);
}

/*
 * Walk two sorted lists side by side: @gone for what only @old has,
 * @came for what only @now has, @both for what both have.
 */
static void diff(const struct list *old, const struct list *now,
		 int (*cmp)(const void *, const void *), struct reporter *r,
		 void (*gone)(struct reporter *, const void *),
		 void (*came)(struct reporter *, const void *),
		 void (*both)(struct reporter *, const void *, const void *))
{
	size_t i = 0, j = 0;

	while (i < old->n || j < now->n) {
		int c = i == old->n   ? 1
			: j == now->n ? -1
				      : cmp(list_at(old, i), list_at(now, j));

		if (c < 0) {
			gone(r, list_at(old, i++));
		} else if (c > 0) {
			came(r, list_at(now, j++));
		} else {
			if (both)
				both(r, list_at(old, i), list_at(now, j));
			i++;
			j++;
		}
	}
}

/* The mapped record of node @id, or NULL. */
static struct watch_record *record_of(floe_watch *w, uint64_t id)
{
	for (size_t i = 0; i < w->records.n; i++) {
		struct watch_record *r = list_at(&w->records, i);

		if (r->id == id)
			return r;
	}
	return NULL;
}

static void record_drop(floe_watch *w, struct watch_record *r)
{
	floe_seg_close(&r->seg);
	*r = *(struct watch_record *)list_at(&w->records, --w->records.n);
}

/* Map live node @n's record (a failure only costs telling its end). */
static void record_keep(floe_watch *w, const struct watch_node *n)
{
	struct floe_backend *be = w->node->be;
	char name[FLOE_SEG_NAME_MAX];
	const struct floe_node_record *rec;
	struct watch_record *r;
	struct floe_seg seg = { .fd = -1 };

	if (n->state != FLOE_NODE_ALIVE || record_of(w, n->id))
		return;
	floe_seg_name(name, be->domain, FLOE_KIND_NODE, n->id, 0);
	if (be->ops->seg_open(be, name, false, &seg))
		return;
	rec = seg.addr;
	/* another process's memory: only a record of this very node */
	if (seg.size < sizeof(*rec) || rec->magic != FLOE_NODE_MAGIC ||
	    rec->ref.id != n->id || !(r = list_add(&w->records))) {
		floe_seg_close(&seg);
		return;
	}
	floe_seg_drop_fd(&seg);
	*r = (struct watch_record){ .id = n->id, .seg = seg };
}

static void node_gone(struct reporter *r, const void *n)
{
	const struct watch_node *node = n;
	struct watch_record *rec = record_of(r->w, node->id);

	/* with the module a dead node's record goes at once: died unless
	 * it said it left */
	if (rec && node->state != FLOE_NODE_DEAD &&
	    !atomic_load(&((struct floe_node_record *)rec->seg.addr)->left))
		node_event(r, FLOE_WATCH_NODE_DEAD, n);
	if (rec)
		record_drop(r->w, rec);
	node_event(r, FLOE_WATCH_NODE_REMOVED, n);
}

static void node_came(struct reporter *r, const void *n)
{
	const struct watch_node *node = n;

	node_event(r, FLOE_WATCH_NODE_CREATED, n);
	if (node->state == FLOE_NODE_DEAD)
		node_event(r, FLOE_WATCH_NODE_DEAD, n);
}

static void node_both(struct reporter *r, const void *o, const void *n)
{
	if (((const struct watch_node *)o)->state != FLOE_NODE_DEAD &&
	    ((const struct watch_node *)n)->state == FLOE_NODE_DEAD)
		node_event(r, FLOE_WATCH_NODE_DEAD, n);
}

static void service_gone(struct reporter *r, const void *s)
{
	service_event(r, FLOE_WATCH_SERVICE_REMOVED, s);
}

static void service_came(struct reporter *r, const void *s)
{
	service_event(r, FLOE_WATCH_SERVICE_CREATED, s);
}

static void port_gone(struct reporter *r, const void *p)
{
	port_event(r, FLOE_WATCH_PORT_REMOVED, p);
}

static void port_came(struct reporter *r, const void *p)
{
	const struct watch_port *port = p;

	port_event(r, FLOE_WATCH_PORT_CREATED, p);
	if (port->state == FLOE_NODE_DEAD)
		port_event(r, FLOE_WATCH_PORT_DEAD, p);
}

static void port_both(struct reporter *r, const void *o, const void *n)
{
	if (((const struct watch_port *)o)->state != FLOE_NODE_DEAD &&
	    ((const struct watch_port *)n)->state == FLOE_NODE_DEAD)
		port_event(r, FLOE_WATCH_PORT_DEAD, n);
}

/* Arm the timer: periodic (kmod) or once, soon (shm, after a change). */
static void arm_timer(floe_watch *w, bool periodic)
{
	uint64_t ns = periodic ? WATCH_PERIOD_NS : WATCH_RECHECK_NS;
	struct itimerspec t = {
		.it_value = { (time_t)(ns / 1000000000ULL),
			      (long)(ns % 1000000000ULL) },
	};

	if (periodic)
		t.it_interval = t.it_value;
	timerfd_settime(w->timer, 0, &t, NULL);
}

/* Did anything tell us to look? Takes what it said. */
static bool due(floe_watch *w)
{
	uint64_t expirations;
	bool changed = w->node->be->ops->changes_take(w->node->be, w->changes);

	/* a change: look again a little later too (only for a change, not
	 * for that second look, so that an idle watch stays idle) */
	if (changed && w->complete)
		arm_timer(w, false);
	return read(w->timer, &expirations, sizeof(expirations)) > 0 ||
	       changed;
}

FLOE_EXPORT int floe_watch_try_wait(floe_watch *w, floe_watch_cb cb,
				    void *ctx)
{
	struct reporter r = { .w = w, .cb = cb, .ctx = ctx };
	struct snapshot now;
	int err;

	if (!w)
		return FLOE_E_INVALID;
	if (!due(w))
		return 0;
	err = take_snapshot(w->node, &now);
	if (err)
		return err;
	/* nodes first, then services, then ports: what a port belongs to
	 * is reported before the port */
	diff(&w->seen.nodes, &now.nodes, cmp_node, &r, node_gone, node_came,
	     node_both);
	diff(&w->seen.services, &now.services, cmp_service, &r, service_gone,
	     service_came, NULL);
	diff(&w->seen.ports, &now.ports, cmp_port, &r, port_gone, port_came,
	     port_both);
	snapshot_free(&w->seen);
	w->seen = now;
	for (size_t i = 0; i < now.nodes.n; i++)
		record_keep(w, list_at(&now.nodes, i));
	/* a node becoming readable changes no file: look again soon */
	if (now.unready && w->complete)
		arm_timer(w, false);
	return r.count;
}

FLOE_EXPORT int floe_watch_timed_wait(floe_watch *w, uint64_t timeout_ns,
				      floe_watch_cb cb, void *ctx)
{
	struct timespec deadline;
	const struct timespec *until = &deadline;

	if (!w)
		return FLOE_E_INVALID;
	if (!floe_deadline_after(timeout_ns, &deadline))
		until = NULL;
	for (;;) {
		struct epoll_event ev;
		int n = floe_watch_try_wait(w, cb, ctx);

		if (n)
			return n;
		if (floe_deadline_passed(until))
			return 0;
		if (epoll_wait(w->epoll, &ev, 1, floe_deadline_ms(until)) < 0 &&
		    errno != EINTR)
			return FLOE_E_SYSTEM;
	}
}

FLOE_EXPORT int floe_watch_fd(floe_watch *w)
{
	return w ? w->epoll : FLOE_E_INVALID;
}

FLOE_EXPORT void floe_watch_destroy(floe_watch *w)
{
	if (!w)
		return;
	if (w->epoll >= 0)
		close(w->epoll);
	if (w->timer >= 0)
		close(w->timer);
	if (w->changes >= 0)
		close(w->changes);
	snapshot_free(&w->seen);
	while (w->records.n)
		record_drop(w, list_at(&w->records, 0));
	free(w->records.items);
	free(w);
}

static int watch_in(floe_watch *w, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN };

	return epoll_ctl(w->epoll, EPOLL_CTL_ADD, fd, &ev) ? FLOE_E_SYSTEM
							   : 0;
}

FLOE_EXPORT int floe_watch_create(floe_node *node, floe_watch **out)
{
	floe_watch *w;
	int err;

	if (!node || !out)
		return FLOE_E_INVALID;
	w = calloc(1, sizeof(*w));
	if (!w)
		return FLOE_E_NOMEM;
	w->node = node;
	w->timer = w->epoll = -1;
	w->records.size = sizeof(struct watch_record);
	snapshot_init(&w->seen);
	w->changes = node->be->ops->changes_open(node->be, &w->complete);
	if (w->changes < 0) {
		err = w->changes;
		free(w);
		return err;
	}
	w->timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	w->epoll = epoll_create1(EPOLL_CLOEXEC);
	err = w->timer < 0 || w->epoll < 0 ? floe_fd_errno(errno) : 0;
	if (!err)
		err = watch_in(w, w->changes);
	if (!err)
		err = watch_in(w, w->timer);
	/* what is there now is the starting point, not news */
	if (!err)
		err = take_snapshot(node, &w->seen);
	for (size_t i = 0; !err && i < w->seen.nodes.n; i++)
		record_keep(w, list_at(&w->seen.nodes, i));
	if (err) {
		floe_watch_destroy(w);
		return err;
	}
	if (!w->complete)
		arm_timer(w, true);
	*out = w;
	return 0;
}
