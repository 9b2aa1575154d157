// SPDX-License-Identifier: MIT
/*
 * Services: create / open / open_or_create, and everything an opener is
 * checked against (type, QoS demands, attributes); port and node limits;
 * use from another process; concurrent open_or_create; the service
 * disappears, without leftovers, when its last user closes it.
 */
#include "helpers.h"

#define SVC_A "t/svc/a"
#define SVC_B "t/svc/b"
#define SVC_RACE "t/svc/race"
#define RACERS 4

static const struct floe_attribute attrs_a[] = {
	{ .key = "color", .value = "blue" },
	{ .key = "k2", .value = "v2" },
};

static struct floe_pubsub_qos qos_a(void)
{
	struct floe_pubsub_qos q;

	floe_pubsub_qos_init(&q);
	q.max_publishers = 2;
	q.max_subscribers = 3;
	q.max_nodes = 10;
	q.subscriber_max_buffer_size = 4;
	q.subscriber_max_borrowed_samples = 2;
	q.history_size = 1;
	q.publisher_max_loaned_samples = 2;
	q.user_header_size = 0;
	q.enable_safe_overflow = true;
	return q;
}

static struct floe_service_opts opts_for(const struct floe_type *type)
{
	struct floe_service_opts o;

	memset(&o, 0, sizeof(o));
	o.type = *type;
	return o;
}

static const struct floe_type type_a = {
	.name = "t_service.Data", .size = 16, .align = 8
};

static int qos_equal(const struct floe_pubsub_qos *a,
		     const struct floe_pubsub_qos *b)
{
	return a->max_publishers == b->max_publishers &&
	       a->max_subscribers == b->max_subscribers &&
	       a->max_nodes == b->max_nodes &&
	       a->subscriber_max_buffer_size == b->subscriber_max_buffer_size &&
	       a->subscriber_max_borrowed_samples ==
		       b->subscriber_max_borrowed_samples &&
	       a->history_size == b->history_size &&
	       a->publisher_max_loaned_samples ==
		       b->publisher_max_loaned_samples &&
	       a->user_header_size == b->user_header_size &&
	       a->enable_safe_overflow == b->enable_safe_overflow;
}

/* Open SVC_A with only @demand set; returns the open's result. */
static int open_with_demand(floe_node *node, const struct floe_pubsub_qos *d)
{
	struct floe_service_opts o = opts_for(&type_a);
	floe_service *s = NULL;
	int r;

	o.qos = d;
	r = floe_service_open(node, SVC_A, &o, &s);
	if (r == 0)
		floe_service_close(s);
	return r;
}

static int open_with_attrs(floe_node *node, const struct floe_attribute *a,
			   size_t n, floe_service **out)
{
	struct floe_service_opts o = opts_for(&type_a);

	o.attributes = a;
	o.num_attributes = n;
	return floe_service_open(node, SVC_A, &o, out);
}

/* ---- another process uses the service ----------------------------- */

struct user_arg {
	struct th_pipe ready, go;
};

static int other_process_user(void *arg)
{
	struct user_arg *ua = arg;
	static const struct floe_attribute need[] = {
		{ .key = "color", .value = "blue" },
	};
	struct floe_service_opts o = opts_for(&type_a);
	struct floe_pubsub_qos q, want = qos_a();
	floe_node *node = th_node("user");
	floe_service *svc = NULL;
	floe_subscriber *sub = NULL;
	const char *v;
	uint64_t go;
	int r;

	if (!node)
		return 1;
	o.attributes = need;
	o.num_attributes = 1;
	r = floe_service_open(node, SVC_A, &o, &svc);
	if (!th_check(r == 0, "open from child: %s", floe_strerror(r)))
		return 1;
	v = floe_service_attribute(svc, "k2");
	th_check(v && !strcmp(v, "v2"), "child sees attribute k2=v2 (%s)",
		 v ? v : "NULL");
	floe_service_qos(svc, &q);
	th_check(qos_equal(&q, &want), "child sees the creator's QoS");
	r = floe_subscriber_create(svc, NULL, &sub);
	th_check(r == 0, "subscriber in child: %s", floe_strerror(r));
	th_send_u64(&ua->ready, 1);
	th_check(th_recv_u64(&ua->go, &go, 60000) == 0, "go from parent");
	if (sub)
		floe_subscriber_destroy(sub);
	floe_service_close(svc);
	floe_node_destroy(node);
	return th_child_result();
}

/* ---- concurrent open_or_create ------------------------------------ */

struct race_arg {
	struct th_barrier start, opened;
};

static int racer(void *arg)
{
	struct race_arg *ra = arg;
	struct floe_service_opts o = opts_for(&type_a);
	struct floe_pubsub_qos q = qos_a();
	floe_node *node = th_node("racer");
	floe_service *svc = NULL;
	uint64_t deadline;
	int r;

	if (!node)
		return 1;
	o.qos = &q;
	o.attributes = attrs_a;
	o.num_attributes = 2;
	th_check(th_barrier_wait(&ra->start, 30000) == 0, "start barrier");
	/* BUSY means "being created by someone else": retry, bounded. */
	deadline = th_now_ns() + 5000000000ull;
	do {
		r = floe_service_open_or_create(node, SVC_RACE, &o, &svc);
	} while (r == FLOE_E_BUSY && th_now_ns() < deadline);
	th_check(r == 0, "open_or_create race: %s", floe_strerror(r));
	th_check(th_barrier_wait(&ra->opened, 30000) == 0, "opened barrier");
	if (r == 0) {
		struct floe_pubsub_qos got;

		floe_service_qos(svc, &got);
		th_check(qos_equal(&got, &q), "racer sees the agreed QoS");
		floe_service_close(svc);
	}
	floe_node_destroy(node);
	return th_child_result();
}

int main(void)
{
	const char *domain = th_setup("svc");
	struct floe_pubsub_qos q = qos_a(), got, d;
	struct floe_service_opts o = opts_for(&type_a);
	floe_node *node = NULL, *node2 = NULL, *node3 = NULL;
	floe_service *svc = NULL, *svc2 = NULL, *svc_b = NULL, *tmp = NULL;
	floe_subscriber *subs[4] = { 0 };
	floe_publisher *pubs[3] = { 0 };
	struct user_arg ua = { 0 };
	struct race_arg ra = { 0 };
	pid_t pid, racers[RACERS];
	struct floe_type t;
	const char *v;
	uint64_t one;
	int r, ok;

	tap_plan(54);
	tap_require(floe_node_create("t_service", NULL, &node) == 0, "node");

	/* Create, with QoS and attributes, and read them back. */
	o.qos = &q;
	o.attributes = attrs_a;
	o.num_attributes = 2;
	r = floe_service_create(node, SVC_A, &o, &svc);
	tap_require(r == 0 && svc, "create %s (%s)", SVC_A, floe_strerror(r));
	tap_ok(!strcmp(floe_service_name(svc), SVC_A), "service name");
	floe_service_qos(svc, &got);
	tap_ok(qos_equal(&got, &q), "QoS reads back as created");
	v = floe_service_attribute(svc, "color");
	tap_ok(v && !strcmp(v, "blue"), "attribute color=blue");
	v = floe_service_attribute(svc, "k2");
	tap_ok(v && !strcmp(v, "v2"), "attribute k2=v2");
	tap_ok(floe_service_attribute(svc, "nope") == NULL,
	       "absent attribute -> NULL");

	/* Create twice, open missing, bad names. */
	tap_eq(floe_service_create(node, SVC_A, &o, &tmp), FLOE_E_EXISTS,
	       "create twice -> FLOE_E_EXISTS");
	o = opts_for(&type_a);
	tap_eq(floe_service_open(node, "t/svc/missing", &o, &tmp),
	       FLOE_E_NOT_FOUND, "open missing -> FLOE_E_NOT_FOUND");
	tap_eq(floe_service_open(node, "", &o, &tmp), FLOE_E_NAME,
	       "empty service name -> FLOE_E_NAME");
	t = type_a;
	t.align = 3;
	o = opts_for(&t);
	r = floe_service_create(node, "t/svc/badalign", &o, &tmp);
	tap_ok(r < 0, "type alignment 3 rejected (%s)", floe_strerror(r));
	/* A type no publisher could allocate is refused up front. */
	t = type_a;
	t.size = 1ULL << 63;
	o = opts_for(&t);
	tap_eq(floe_service_create(node, "t/svc/huge", &o, &tmp),
	       FLOE_E_TOO_LARGE, "type size 2^63 -> FLOE_E_TOO_LARGE");
	t.size = 1ULL << 42; /* times the default pool of 60-odd chunks */
	o = opts_for(&t);
	tap_eq(floe_service_create(node, "t/svc/huge", &o, &tmp),
	       FLOE_E_TOO_LARGE, "a pool beyond 2^46 bytes -> FLOE_E_TOO_LARGE");
	t.size = 1ULL << 20;
	o = opts_for(&t);
	r = floe_service_create(node, "t/svc/big", &o, &tmp);
	tap_eq(r, 0, "a 1 MiB type is fine");
	if (!r)
		floe_service_close(tmp);

	/* Open with the right type and no demands. */
	o = opts_for(&type_a);
	r = floe_service_open(node, SVC_A, &o, &svc2);
	tap_ok(r == 0, "open with matching type (%s)", floe_strerror(r));
	if (r == 0)
		floe_service_close(svc2);

	/* Type mismatches. */
	t = type_a;
	t.name = "t_service.Other";
	o = opts_for(&t);
	tap_eq(floe_service_open(node, SVC_A, &o, &tmp), FLOE_E_TYPE_MISMATCH,
	       "type name differs -> FLOE_E_TYPE_MISMATCH");
	t = type_a;
	t.size = 24;
	o = opts_for(&t);
	tap_eq(floe_service_open(node, SVC_A, &o, &tmp), FLOE_E_TYPE_MISMATCH,
	       "type size differs -> FLOE_E_TYPE_MISMATCH");
	t = type_a;
	t.align = 16;
	o = opts_for(&t);
	tap_eq(floe_service_open(node, SVC_A, &o, &tmp), FLOE_E_TYPE_MISMATCH,
	       "type alignment differs -> FLOE_E_TYPE_MISMATCH");

	/* QoS demands: each above what the service offers fails alone. */
	d = th_qos_zero();
	d.max_publishers = q.max_publishers + 1;
	tap_eq(open_with_demand(node, &d), FLOE_E_QOS_MISMATCH,
	       "demand max_publishers+1 -> FLOE_E_QOS_MISMATCH");
	d = th_qos_zero();
	d.max_subscribers = q.max_subscribers + 1;
	tap_eq(open_with_demand(node, &d), FLOE_E_QOS_MISMATCH,
	       "demand max_subscribers+1 -> FLOE_E_QOS_MISMATCH");
	d = th_qos_zero();
	d.max_nodes = q.max_nodes + 1;
	tap_eq(open_with_demand(node, &d), FLOE_E_QOS_MISMATCH,
	       "demand max_nodes+1 -> FLOE_E_QOS_MISMATCH");
	d = th_qos_zero();
	d.subscriber_max_buffer_size = q.subscriber_max_buffer_size + 1;
	tap_eq(open_with_demand(node, &d), FLOE_E_QOS_MISMATCH,
	       "demand buffer_size+1 -> FLOE_E_QOS_MISMATCH");
	d = th_qos_zero();
	d.subscriber_max_borrowed_samples =
		q.subscriber_max_borrowed_samples + 1;
	tap_eq(open_with_demand(node, &d), FLOE_E_QOS_MISMATCH,
	       "demand borrowed+1 -> FLOE_E_QOS_MISMATCH");
	d = th_qos_zero();
	d.history_size = q.history_size + 1;
	tap_eq(open_with_demand(node, &d), FLOE_E_QOS_MISMATCH,
	       "demand history+1 -> FLOE_E_QOS_MISMATCH");
	d = th_qos_zero();
	d.publisher_max_loaned_samples = q.publisher_max_loaned_samples + 1;
	tap_eq(open_with_demand(node, &d), FLOE_E_QOS_MISMATCH,
	       "demand loans+1 -> FLOE_E_QOS_MISMATCH");
	d = th_qos_zero();
	d.user_header_size = 8;
	tap_eq(open_with_demand(node, &d), FLOE_E_QOS_MISMATCH,
	       "demand user header 8 on a service without -> QOS_MISMATCH");
	d = q;
	d.enable_safe_overflow = !q.enable_safe_overflow;
	tap_eq(open_with_demand(node, &d), 0,
	       "demands equal to the offer (safe overflow not compared) -> ok");
	d = th_qos_zero();
	d.max_subscribers = 1;
	d.history_size = 1;
	tap_eq(open_with_demand(node, &d), 0, "demands below the offer -> ok");

	/* Attributes. */
	{
		static const struct floe_attribute red[] = {
			{ .key = "color", .value = "red" } };
		static const struct floe_attribute missing[] = {
			{ .key = "shape", .value = "round" } };
		static const struct floe_attribute blue[] = {
			{ .key = "color", .value = "blue" } };

		tap_eq(open_with_attrs(node, red, 1, &tmp), FLOE_E_ATTR_MISMATCH,
		       "attribute with another value -> FLOE_E_ATTR_MISMATCH");
		tap_eq(open_with_attrs(node, missing, 1, &tmp),
		       FLOE_E_ATTR_MISMATCH,
		       "missing attribute -> FLOE_E_ATTR_MISMATCH");
		r = open_with_attrs(node, blue, 1, &svc2);
		tap_ok(r == 0, "required attribute present -> ok (%s)",
		       floe_strerror(r));
		if (r == 0) {
			v = floe_service_attribute(svc2, "k2");
			tap_ok(v && !strcmp(v, "v2"),
			       "opener reads the other attribute k2=v2");
			floe_service_close(svc2);
		} else {
			tap_ok(0, "opener reads the other attribute k2=v2");
		}
		r = open_with_attrs(node, attrs_a, 2, &svc2);
		tap_ok(r == 0, "both attributes required -> ok (%s)",
		       floe_strerror(r));
		if (r == 0)
			floe_service_close(svc2);
	}

	/* open_or_create: opens what exists, creates what does not. */
	o = opts_for(&type_a);
	r = floe_service_open_or_create(node, SVC_A, &o, &svc2);
	tap_ok(r == 0, "open_or_create opens the existing service (%s)",
	       floe_strerror(r));
	if (r == 0) {
		floe_service_qos(svc2, &got);
		tap_ok(got.history_size == q.history_size,
		       "... and reports the creator's QoS");
		floe_service_close(svc2);
	} else {
		tap_ok(0, "... and reports the creator's QoS");
	}
	r = floe_service_open_or_create(node, SVC_B, &o, &svc_b);
	tap_ok(r == 0, "open_or_create creates a missing service (%s)",
	       floe_strerror(r));
	tap_eq(floe_service_create(node, SVC_B, &o, &tmp), FLOE_E_EXISTS,
	       "... which then exists");

	/* Port limits: 3 subscribers and 2 publishers. */
	ok = 1;
	for (int i = 0; i < 3; i++)
		ok &= floe_subscriber_create(svc, NULL, &subs[i]) == 0;
	tap_ok(ok, "max_subscribers subscribers created");
	tap_eq(floe_subscriber_create(svc, NULL, &subs[3]), FLOE_E_PORT_LIMIT,
	       "one subscriber more -> FLOE_E_PORT_LIMIT");
	ok = 1;
	for (int i = 0; i < 2; i++)
		ok &= floe_publisher_create(svc, NULL, &pubs[i]) == 0;
	tap_ok(ok, "max_publishers publishers created");
	tap_eq(floe_publisher_create(svc, NULL, &pubs[2]), FLOE_E_PORT_LIMIT,
	       "one publisher more -> FLOE_E_PORT_LIMIT");
	floe_subscriber_destroy(subs[0]);
	subs[0] = NULL;
	r = floe_subscriber_create(svc, NULL, &subs[0]);
	tap_ok(r == 0, "a destroyed subscriber frees its slot (%s)",
	       floe_strerror(r));
	for (int i = 0; i < 3; i++)
		if (subs[i])
			floe_subscriber_destroy(subs[i]);
	for (int i = 0; i < 2; i++)
		if (pubs[i])
			floe_publisher_destroy(pubs[i]);

	/* Node limit: a service for at most 2 nodes. */
	{
		struct floe_pubsub_qos q2;
		floe_service *s1 = NULL, *s2 = NULL, *s3 = NULL;
		int r1, r2, r3;

		floe_pubsub_qos_init(&q2);
		q2.max_nodes = 2;
		o = opts_for(&type_a);
		o.qos = &q2;
		floe_node_create("t_service 2", NULL, &node2);
		floe_node_create("t_service 3", NULL, &node3);
		r1 = floe_service_create(node, "t/svc/nodes", &o, &s1);
		o.qos = NULL;
		r2 = node2 ? floe_service_open(node2, "t/svc/nodes", &o, &s2) : -1;
		r3 = node3 ? floe_service_open(node3, "t/svc/nodes", &o, &s3) : -1;
		tap_ok(r1 == 0 && r2 == 0 && r3 == FLOE_E_NODE_LIMIT,
		       "third node on a 2-node service -> FLOE_E_NODE_LIMIT "
		       "(%d %d %d)", r1, r2, r3);
		if (s3)
			floe_service_close(s3);
		if (s2)
			floe_service_close(s2);
		if (s1)
			floe_service_close(s1);
		if (node3)
			floe_node_destroy(node3);
		if (node2)
			floe_node_destroy(node2);
	}

	/* Another process keeps the service alive after we close ours. */
	tap_require(th_pipe_init(&ua.ready) == 0 && th_pipe_init(&ua.go) == 0,
		    "pipes");
	pid = th_fork(other_process_user, &ua);
	tap_require(pid > 0, "fork user");
	tap_ok(th_recv_u64(&ua.ready, &one, 30000) == 0,
	       "other process opened the service and made a subscriber");
	floe_service_close(svc);
	svc = NULL;
	o = opts_for(&type_a);
	r = floe_service_open(node, SVC_A, &o, &svc2);
	tap_ok(r == 0, "service survives while another process uses it (%s)",
	       floe_strerror(r));
	if (r == 0)
		floe_service_close(svc2);
	th_send_u64(&ua.go, 1);
	tap_eq(th_wait(pid, 30000), 0, "other process's checks passed");
	tap_eq(floe_service_open(node, SVC_A, &o, &tmp), FLOE_E_NOT_FOUND,
	       "service gone after its last user closed it");

	/* Concurrent open_or_create from several processes. */
	tap_require(th_barrier_init(&ra.start, RACERS) == 0 &&
			    th_barrier_init(&ra.opened, RACERS) == 0,
		    "barriers");
	for (int i = 0; i < RACERS; i++)
		racers[i] = th_fork(racer, &ra);
	r = th_barrier_release(&ra.start, 30000);
	r |= th_barrier_release(&ra.opened, 30000);
	ok = r == 0;
	for (int i = 0; i < RACERS; i++)
		ok &= racers[i] > 0 && th_wait(racers[i], 30000) == 0;
	tap_ok(ok, "%d processes open_or_create the same service at once",
	       RACERS);
	tap_eq(floe_service_open(node, SVC_RACE, &o, &tmp), FLOE_E_NOT_FOUND,
	       "raced service gone after all racers closed it");

	if (svc_b)
		floe_service_close(svc_b);
	tap_eq(floe_service_open(node, SVC_B, &o, &tmp), FLOE_E_NOT_FOUND,
	       "%s gone after close", SVC_B);

	floe_node_destroy(node);
	th_pipe_close(&ua.ready);
	th_pipe_close(&ua.go);
	th_barrier_destroy(&ra.start);
	th_barrier_destroy(&ra.opened);
	tap_eq(th_count_objects(domain, 1), 0,
	       "no shared objects of the domain remain");
	return tap_done();
}
