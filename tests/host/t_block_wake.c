// SPDX-License-Identifier: MIT
/*
 * A broadcast send with FLOE_DELIVER_BLOCK that waits for a full
 * subscriber B must not keep subscriber A, which it reached already, from
 * being woken: A (on a waitset, or in floe_subscriber_wait) is woken
 * before B's reader makes room, 1.5 s after the send began.
 */
#include <pthread.h>
#include "helpers.h"

#define SERVICE "t/blockwake"
#define MS UINT64_C(1000000)

static floe_subscriber *a, *b;
static uint64_t t_send, t_woken, t_room;
static int mode; /* 0: waitset, 1: floe_subscriber_wait */

static int on_data(floe_waitset *ws, int id, enum floe_trigger t, void *u)
{
	(void)ws;
	(void)id;
	(void)u;
	if (t == FLOE_TRIGGER_DATA && !t_woken)
		t_woken = th_now_ns();
	return 1;
}

static void *waiter(void *arg)
{
	(void)arg;
	if (mode == 0) {
		floe_waitset *ws = NULL;

		if (floe_waitset_create(NULL, &ws) ||
		    floe_waitset_attach_subscriber(ws, a, 0, NULL) < 0)
			return NULL;
		floe_waitset_run_once(ws, 5000 * MS, on_data);
		floe_waitset_destroy(ws);
	} else {
		if (floe_subscriber_wait(a, 5000 * MS) == 1)
			t_woken = th_now_ns();
	}
	return NULL;
}

static void *reader_b(void *arg)
{
	const floe_sample *s;

	(void)arg;
	th_sleep_ms(1500);
	t_room = th_now_ns();
	if (floe_subscriber_receive(b, &s) == 1)
		floe_sample_release(s);
	return NULL;
}

static void run(int m)
{
	floe_node *node = NULL;
	floe_service *svc = NULL;
	floe_publisher *pub = NULL;
	struct floe_pubsub_qos q;
	struct floe_service_opts o = {
		.type = { .name = "u64", .size = 8, .align = 8 }, .qos = &q
	};
	struct floe_publisher_opts po;
	struct floe_subscriber_opts so = { .buffer_size = 1 };
	const floe_sample *s;
	pthread_t tw, tr;
	uint64_t v = 0;
	char name[64];
	int r;

	mode = m;
	t_woken = t_room = 0;
	snprintf(name, sizeof(name), SERVICE "/%d", m);
	floe_pubsub_qos_init(&q);
	q.enable_safe_overflow = false;
	floe_publisher_opts_init(&po);
	po.unable_to_deliver = FLOE_DELIVER_BLOCK;
	tap_require(floe_node_create("bw", NULL, &node) == 0, "node");
	tap_require(floe_service_create(node, name, &o, &svc) == 0, "svc");
	tap_require(floe_subscriber_create(svc, &so, &b) == 0, "b");
	tap_require(floe_subscriber_create(svc, NULL, &a) == 0, "a");
	tap_require(floe_publisher_create(svc, &po, &pub) == 0, "pub");
	r = floe_publisher_send_copy(pub, &v, sizeof(v));
	tap_require(r == 2, "first sample to both (%d)", r);
	tap_require(floe_subscriber_receive(a, &s) == 1, "a took it");
	floe_sample_release(s);
	/* b's queue (1) stays full */
	pthread_create(&tw, NULL, waiter, NULL);
	th_sleep_ms(200); /* the waiter sleeps */
	pthread_create(&tr, NULL, reader_b, NULL);
	t_send = th_now_ns();
	v = 1;
	r = floe_publisher_send_copy(pub, &v, sizeof(v));
	pthread_join(tw, NULL);
	pthread_join(tr, NULL);
	tap_ok(t_woken && t_woken < t_room,
	       "%s on A woken %.0f ms after the send began, before B made "
	       "room at %.0f ms (the send returned %d)",
	       m ? "floe_subscriber_wait" : "waitset",
	       t_woken ? (double)(t_woken - t_send) / 1e6 : -1.0,
	       (double)(t_room - t_send) / 1e6, r);
	while (floe_subscriber_receive(a, &s) == 1)
		floe_sample_release(s);
	while (floe_subscriber_receive(b, &s) == 1)
		floe_sample_release(s);
	floe_publisher_destroy(pub);
	floe_subscriber_destroy(a);
	floe_subscriber_destroy(b);
	floe_service_close(svc);
	floe_node_destroy(node);
}

int main(void)
{
	th_setup("bw");
	run(0);
	run(1);
	return tap_done();
}
