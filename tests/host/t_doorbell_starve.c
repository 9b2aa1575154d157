// SPDX-License-Identifier: MIT
/*
 * Ports that armed a descriptor and stopped reading it must not keep the
 * others from being woken. A notifier (or a publisher) rings every port's
 * doorbell through one unbound datagram socket, and AF_UNIX charges a
 * datagram to the socket that sent it until it is read: 30 listeners (or
 * subscribers) with armed, never drained descriptors fill that socket's
 * buffer within a few hundred rings. A healthy listener or subscriber on a
 * waitset (epoll, io_uring with or without port descriptors) must then
 * still be woken for every event or sample, 400 rounds.
 */
#include "helpers.h"

#define SERVICE "t/starve"
#define MS UINT64_C(1000000)

static floe_listener *healthy;
static int notified, got;

static void count_id(uint64_t id, void *ctx)
{
	(void)id;
	(void)ctx;
	got++;
}

static int on_trigger(floe_waitset *ws, int id, enum floe_trigger t, void *u)
{
	(void)ws;
	(void)id;
	(void)u;
	if (t == FLOE_TRIGGER_NOTIFIED) {
		notified++;
		floe_listener_try_wait(healthy, count_id, NULL);
	}
	return 0;
}

static void run(enum floe_waitset_impl impl, int nstalled)
{
	floe_node *node = NULL;
	floe_service *svc = NULL;
	floe_notifier *n = NULL;
	floe_listener *stalled[64];
	floe_waitset *ws = NULL;
	struct floe_event_qos q;
	struct floe_event_opts o = { .qos = &q };
	struct floe_waitset_opts wo = { .impl = impl };
	char name[64];
	int lost_round = -1, pending = 0;

	snprintf(name, sizeof(name), SERVICE "/%d", (int)impl);
	floe_event_qos_init(&q);
	q.max_listeners = 64;
	tap_require(floe_node_create("starve", NULL, &node) == 0, "node");
	tap_require(floe_event_create(node, name, &o, &svc) == 0, "service");
	tap_require(floe_notifier_create(svc, &n) == 0, "notifier");
	for (int i = 0; i < nstalled; i++) {
		/* armed, e.g. polled by a busy or stopped process */
		if (floe_listener_create(svc, &stalled[i]) ||
		    floe_listener_fd(stalled[i]) < 0)
			tap_require(0, "stalled listener");
	}
	tap_require(floe_listener_create(svc, &healthy) == 0, "healthy");
	tap_require(floe_waitset_create(&wo, &ws) == 0, "waitset");
	tap_require(floe_waitset_attach_listener(ws, healthy, 0, NULL) >= 0,
		    "attach");
	for (int round = 0; round < 400; round++) {
		int r;

		notified = got = 0;
		floe_notifier_notify(n, 1);
		r = floe_waitset_run_once(ws, 300 * MS, on_trigger);
		if (r == 0 && !notified) {
			pending = floe_listener_try_wait(healthy, NULL, NULL);
			lost_round = round;
			break;
		}
	}
	tap_ok(lost_round < 0,
	       "%s, %d stalled listener(s): healthy listener's waitset woken "
	       "for every notify (lost at round %d; event pending: %d)",
	       floe_waitset_impl_name(floe_waitset_impl(ws)), nstalled,
	       lost_round, pending);
	floe_waitset_destroy(ws);
	floe_listener_destroy(healthy);
	for (int i = 0; i < nstalled; i++)
		floe_listener_destroy(stalled[i]);
	floe_notifier_destroy(n);
	floe_service_close(svc);
	floe_node_destroy(node);
}

static floe_subscriber *hsub;
static int data;

static int on_data(floe_waitset *ws, int id, enum floe_trigger t, void *u)
{
	const floe_sample *smp;

	(void)ws;
	(void)id;
	(void)u;
	if (t == FLOE_TRIGGER_DATA) {
		data++;
		while (floe_subscriber_receive(hsub, &smp) == 1)
			floe_sample_release(smp);
	}
	return 0;
}

/* The same with a publisher's doorbell socket (tx->bell_sock): stalled
 * subscribers with an armed descriptor, a healthy one on a waitset that
 * uses port descriptors (epoll, or port_descriptors). */
static void run_pubsub(bool port_descriptors, enum floe_waitset_impl impl,
		       int nstalled)
{
	floe_node *node = NULL;
	floe_service *svc = NULL;
	floe_publisher *pub = NULL;
	floe_subscriber *stalled[64];
	floe_waitset *ws = NULL;
	struct floe_pubsub_qos q;
	struct floe_service_opts o = {
		.type = { .name = "u64", .size = 8, .align = 8 }, .qos = &q
	};
	struct floe_waitset_opts wo = { .impl = impl,
					.port_descriptors = port_descriptors };
	char name[64];
	int lost_round = -1;
	bool pending = false;

	snprintf(name, sizeof(name), SERVICE "/ps%d%d", (int)impl,
		 port_descriptors);
	floe_pubsub_qos_init(&q);
	q.max_subscribers = 64;
	q.max_nodes = 80;
	tap_require(floe_node_create("starve", NULL, &node) == 0, "node");
	tap_require(floe_service_create(node, name, &o, &svc) == 0, "svc");
	tap_require(floe_publisher_create(svc, NULL, &pub) == 0, "pub");
	for (int i = 0; i < nstalled; i++) {
		if (floe_subscriber_create(svc, NULL, &stalled[i]) ||
		    floe_subscriber_fd(stalled[i]) < 0)
			tap_require(0, "stalled subscriber");
	}
	tap_require(floe_subscriber_create(svc, NULL, &hsub) == 0, "sub");
	tap_require(floe_waitset_create(&wo, &ws) == 0, "waitset");
	tap_require(floe_waitset_attach_subscriber(ws, hsub, 0, NULL) >= 0,
		    "attach");
	for (int round = 0; round < 400; round++) {
		uint64_t v = (uint64_t)round;
		int r;

		data = 0;
		r = floe_publisher_send_copy(pub, &v, sizeof(v));
		if (r < 0 && round < 3)
			tap_diag("send: %s", floe_strerror(r));
		r = floe_waitset_run_once(ws, 300 * MS, on_data);
		if (r == 0 && !data) {
			pending = floe_subscriber_has_samples(hsub);
			lost_round = round;
			break;
		}
	}
	tap_ok(lost_round < 0,
	       "pubsub %s%s, %d stalled subscriber(s): healthy subscriber's "
	       "waitset woken for every sample (lost at round %d; sample "
	       "pending: %d)",
	       floe_waitset_impl_name(floe_waitset_impl(ws)),
	       port_descriptors ? " (port descriptors)" : "", nstalled,
	       lost_round, pending);
	floe_waitset_destroy(ws);
	floe_subscriber_destroy(hsub);
	for (int i = 0; i < nstalled; i++)
		floe_subscriber_destroy(stalled[i]);
	floe_publisher_destroy(pub);
	floe_service_close(svc);
	floe_node_destroy(node);
}

int main(void)
{
	int nstalled = 30;

	th_setup("starve");
	run(FLOE_WAITSET_EPOLL, nstalled);
	run(FLOE_WAITSET_IO_URING, nstalled);
	run_pubsub(false, FLOE_WAITSET_EPOLL, nstalled);
	run_pubsub(true, FLOE_WAITSET_IO_URING, nstalled);
	run_pubsub(false, FLOE_WAITSET_IO_URING, nstalled);
	return tap_done();
}
