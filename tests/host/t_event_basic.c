// SPDX-License-Identifier: MIT
/*
 * Event services, the basics: create / open / open_or_create and their
 * errors, the QoS as created and as demanded, patterns kept apart (pub-sub
 * ports refuse an event service and event ports a pub-sub one, and both
 * kinds of service may share a name), argument and event id validation,
 * port limits; then across processes: a child fires ids (with duplicates,
 * out of order, at both ends of the range) and every listener reports each
 * id exactly once, in increasing order.
 */
#include "helpers.h"

#define SERVICE "t/event/basic"
#define ID_MAX 4095

static const struct floe_type u64_type = {
	.name = "t_event.U64", .size = 8, .align = 8,
};

/* What a child fires, in this order. */
static const uint64_t fired[] = { 5, 3, 5, 0, ID_MAX, 63, 64, 3, 1000, 0, 64 };
/* What a listener must report: each once, increasing. */
static const uint64_t expected[] = { 0, 3, 5, 63, 64, 1000, ID_MAX };
#define NEXPECTED (sizeof(expected) / sizeof(expected[0]))

struct seen {
	uint64_t ids[64];
	int n;
};

static void record(uint64_t id, void *ctx)
{
	struct seen *s = ctx;

	if (s->n < 64)
		s->ids[s->n] = id;
	s->n++;
}

static int same_as_expected(const struct seen *s, int ret)
{
	if (ret != (int)NEXPECTED || s->n != (int)NEXPECTED)
		return 0;
	for (size_t i = 0; i < NEXPECTED; i++)
		if (s->ids[i] != expected[i])
			return 0;
	return 1;
}

struct child_arg {
	struct th_pipe go, done;
};

/* Open the service, fire the ids, report how many listeners each reached. */
static int notifier_process(void *arg)
{
	struct child_arg *ca = arg;
	floe_node *node = th_node("notifier");
	floe_service *svc = NULL;
	floe_notifier *n = NULL;
	uint64_t go, reached = 0;
	int r;

	if (th_open_notifier(node, SERVICE, &svc, &n))
		return 1;
	th_check(th_recv_u64(&ca->go, &go, 30000) == 0, "go");
	for (size_t i = 0; i < sizeof(fired) / sizeof(fired[0]); i++) {
		r = floe_notifier_notify(n, fired[i]);
		th_check_eq(r, 2, "notify %" PRIu64 " reaches both listeners",
			    fired[i]);
		reached += r > 0 ? (uint64_t)r : 0;
	}
	th_check_eq(floe_notifier_notify(n, ID_MAX + 1), FLOE_E_INVALID,
		    "id beyond event_id_max");
	th_send_u64(&ca->done, reached);
	floe_notifier_destroy(n);
	floe_service_close(svc);
	floe_node_destroy(node);
	return th_child_result();
}

static int count_roles(const struct floe_port_info *info, void *ctx)
{
	int *counts = ctx;

	if (!strcmp(info->service, SERVICE) &&
	    info->pattern == FLOE_PATTERN_KIND_EVENT) {
		if (info->role == FLOE_PORT_NOTIFIER)
			counts[0]++;
		if (info->role == FLOE_PORT_LISTENER)
			counts[1]++;
	}
	return 0;
}

int main(void)
{
	const char *domain = th_setup("evbasic");
	struct floe_event_qos q, got, demand;
	struct floe_event_opts eo = { 0 };
	struct floe_service_opts so = { .type = u64_type };
	floe_node *node = NULL;
	floe_service *ev = NULL, *ev2 = NULL, *ps = NULL, *tmp = NULL;
	floe_notifier *n = NULL, *n2 = NULL;
	floe_listener *l1 = NULL, *l2 = NULL, *l3 = NULL;
	floe_publisher *pub = NULL;
	floe_subscriber *sub = NULL;
	struct child_arg ca = { { -1, -1 }, { -1, -1 } };
	struct seen s1 = { 0 }, s2 = { 0 };
	int counts[2] = { 0, 0 };
	uint64_t reached = 0;
	pid_t pid;
	int r;

	tap_plan(52);
	tap_require(floe_node_create("basic", NULL, &node) == 0, "node");

	/* ---- services ---- */
	floe_event_qos_init(&q);
	tap_ok(q.max_notifiers == 16 && q.max_listeners == 16 &&
	       q.max_nodes == 36 && q.event_id_max == 4095,
	       "qos defaults: 16 notifiers, 16 listeners, 36 nodes, ids 0..4095");
	tap_eq(floe_event_open(node, SERVICE, NULL, &ev), FLOE_E_NOT_FOUND,
	       "open before create: not found");
	q.max_notifiers = 2;
	q.max_listeners = 2;
	q.max_nodes = 8;
	q.event_id_max = ID_MAX;
	eo.qos = &q;
	r = floe_event_create(node, SERVICE, &eo, &ev);
	tap_require(r == 0, "create (%s)", floe_strerror(r));
	tap_eq(floe_event_create(node, SERVICE, &eo, &tmp), FLOE_E_EXISTS,
	       "create again: exists");
	floe_event_qos(ev, &got);
	tap_ok(got.max_notifiers == 2 && got.max_listeners == 2 &&
	       got.max_nodes == 8 && got.event_id_max == ID_MAX,
	       "floe_event_qos: as created");
	tap_ok(!strcmp(floe_service_name(ev), SERVICE), "service name");

	r = floe_event_open(node, SERVICE, NULL, &ev2);
	tap_eq(r, 0, "open with no demands");
	floe_service_close(ev2);
	ev2 = NULL;
	r = floe_event_open_or_create(node, SERVICE, NULL, &ev2);
	tap_eq(r, 0, "open_or_create opens the existing one");
	floe_service_close(ev2);
	ev2 = NULL;

	memset(&demand, 0, sizeof(demand));
	demand.max_listeners = 3;
	eo.qos = &demand;
	tap_eq(floe_event_open(node, SERVICE, &eo, &tmp), FLOE_E_QOS_MISMATCH,
	       "demand more listeners: qos mismatch");
	memset(&demand, 0, sizeof(demand));
	demand.event_id_max = ID_MAX + 1;
	tap_eq(floe_event_open(node, SERVICE, &eo, &tmp), FLOE_E_QOS_MISMATCH,
	       "demand larger event ids: qos mismatch");
	tap_eq(floe_event_open_or_create(node, SERVICE, &eo, &tmp),
	       FLOE_E_QOS_MISMATCH, "open_or_create with a demand it misses");
	memset(&demand, 0, sizeof(demand));
	demand.max_notifiers = 2;
	demand.event_id_max = 100;
	r = floe_event_open(node, SERVICE, &eo, &ev2);
	tap_eq(r, 0, "demands the service meets");
	floe_service_close(ev2);
	ev2 = NULL;

	floe_event_qos_init(&demand);
	demand.event_id_max = (1u << 20);
	eo.qos = &demand;
	tap_eq(floe_event_create(node, "t/event/bad", &eo, &tmp),
	       FLOE_E_INVALID, "create with event_id_max >= 2^20: invalid");
	floe_event_qos_init(&demand);
	demand.max_listeners = 0;
	tap_eq(floe_event_create(node, "t/event/bad", &eo, &tmp),
	       FLOE_E_INVALID, "create with no listener slots: invalid");
	tap_eq(floe_event_create(node, "", NULL, &tmp), FLOE_E_NAME,
	       "empty name");
	tap_eq(floe_event_open_or_create(node, NULL, NULL, &tmp), FLOE_E_NAME,
	       "NULL name");
	tap_eq(floe_event_create(NULL, SERVICE, NULL, &tmp), FLOE_E_INVALID,
	       "NULL node");
	tap_eq(floe_event_create(node, "t/event/x", NULL, NULL),
	       FLOE_E_INVALID, "NULL out");

	/* ---- patterns kept apart ---- */
	tap_eq(floe_service_open(node, SERVICE, &so, &tmp), FLOE_E_NOT_FOUND,
	       "an event service is no pub-sub service");
	r = floe_service_create(node, SERVICE, &so, &ps);
	tap_require(r == 0, "pub-sub service of the same name (%s)",
		    floe_strerror(r));
	tap_eq(floe_notifier_create(ps, &n), FLOE_E_PATTERN,
	       "notifier on a pub-sub service: pattern");
	tap_eq(floe_listener_create(ps, &l1), FLOE_E_PATTERN,
	       "listener on a pub-sub service: pattern");
	tap_eq(floe_publisher_create(ev, NULL, &pub), FLOE_E_PATTERN,
	       "publisher on an event service: pattern");
	tap_eq(floe_subscriber_create(ev, NULL, &sub), FLOE_E_PATTERN,
	       "subscriber on an event service: pattern");

	/* ---- ports ---- */
	tap_eq(floe_notifier_create(NULL, &n), FLOE_E_INVALID, "NULL service");
	tap_eq(floe_listener_create(ev, NULL), FLOE_E_INVALID, "NULL out");
	tap_require(floe_notifier_create(ev, &n) == 0, "notifier");
	tap_require(floe_listener_create(ev, &l1) == 0 &&
			    floe_listener_create(ev, &l2) == 0,
		    "two listeners");
	tap_eq(floe_listener_create(ev, &l3), FLOE_E_PORT_LIMIT,
	       "third listener: port limit");
	tap_ok(floe_notifier_id(n) && floe_listener_id(l1) &&
	       floe_listener_id(l1) != floe_listener_id(l2) &&
	       floe_listener_id(l1) != floe_notifier_id(n),
	       "port ids non-zero and distinct");
	floe_port_list(node, count_roles, counts);
	tap_ok(counts[0] == 1 && counts[1] == 2,
	       "discovery lists 1 notifier, 2 listeners (%d, %d)", counts[0],
	       counts[1]);

	tap_eq(floe_notifier_notify(n, ID_MAX + 1), FLOE_E_INVALID,
	       "notify id beyond event_id_max: invalid");
	tap_eq(floe_notifier_notify(n, UINT64_MAX), FLOE_E_INVALID,
	       "notify id UINT64_MAX: invalid");
	tap_eq(floe_notifier_notify(NULL, 1), FLOE_E_INVALID, "NULL notifier");
	tap_eq(floe_listener_try_wait(NULL, NULL, NULL), FLOE_E_INVALID,
	       "NULL listener");
	tap_eq(floe_listener_try_wait(l1, NULL, NULL), 0,
	       "nothing fired: try_wait 0");
	tap_eq(floe_listener_timed_wait(l1, 0, NULL, NULL), 0,
	       "timed_wait(0) with nothing fired: 0 at once");

	/* Same process: merged, ordered, consumed. */
	floe_notifier_notify(n, 7);
	floe_notifier_notify(n, 2);
	r = floe_notifier_notify(n, 7);
	tap_eq(r, 2, "notify reaches both listeners");
	s1.n = 0;
	r = floe_listener_try_wait(l1, record, &s1);
	tap_ok(r == 2 && s1.n == 2 && s1.ids[0] == 2 && s1.ids[1] == 7,
	       "try_wait: 2 then 7, duplicate merged (ret %d)", r);
	tap_eq(floe_listener_try_wait(l2, NULL, NULL), 2,
	       "NULL callback just counts and consumes");
	tap_eq(floe_listener_try_wait(l2, NULL, NULL), 0, "consumed");

	/* ---- across processes ---- */
	floe_notifier_destroy(n);
	n = NULL;
	tap_require(th_pipe_init(&ca.go) == 0 && th_pipe_init(&ca.done) == 0,
		    "pipes");
	pid = th_fork(notifier_process, &ca);
	tap_require(pid > 0, "notifier process");
	th_send_u64(&ca.go, 1);
	r = th_recv_u64(&ca.done, &reached, 30000);
	tap_ok(r == 0 && reached == 2 * (sizeof(fired) / sizeof(fired[0])),
	       "child's notifies reached 2 listeners each (%" PRIu64 ")",
	       reached);
	s1.n = s2.n = 0;
	r = floe_listener_try_wait(l1, record, &s1);
	tap_ok(same_as_expected(&s1, r),
	       "listener 1: every fired id once, increasing (%d ids)", r);
	r = floe_listener_timed_wait(l2, 1000000000, record, &s2);
	tap_ok(same_as_expected(&s2, r),
	       "listener 2 (timed_wait): the same (%d ids)", r);
	tap_eq(floe_listener_try_wait(l1, NULL, NULL) +
		       floe_listener_try_wait(l2, NULL, NULL),
	       0, "nothing left");
	tap_eq(th_wait(pid, 30000), 0, "notifier process's checks passed");

	/* A second notifier port in this process still works afterwards. */
	tap_require(floe_notifier_create(ev, &n2) == 0, "notifier again");
	tap_eq(floe_notifier_notify(n2, 0), 2, "notify after the child left");
	floe_notifier_destroy(n2);

	floe_listener_destroy(l1);
	floe_listener_destroy(l2);
	floe_service_close(ev);
	floe_service_close(ps);
	floe_node_destroy(node);
	th_pipe_close(&ca.go);
	th_pipe_close(&ca.done);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
