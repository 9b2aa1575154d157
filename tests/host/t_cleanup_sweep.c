// SPDX-License-Identifier: MIT
/*
 * floe_node_cleanup_dead, run while the system lives, never removes data
 * a subscriber is still owed. A child publishes for 3 s with publishers
 * that live for one send: each joins, sends (reported delivered), and
 * leaves its data for the subscriber, which has not read yet. The parent
 * runs the cleanup over and over (60 more services make each run long,
 * so that publishers come and go during it) and reads: it receives every
 * sample the child's sends reported delivered.
 */
#include "helpers.h"

#define SERVICE "t/cleanup_sweep"
#define OTHERS 60

static const struct floe_type u64_type = {
	.name = "t_cleanup_sweep.u64",
	.size = 8,
	.align = 8,
};

static struct floe_service_opts opts(struct floe_pubsub_qos *q)
{
	floe_pubsub_qos_init(q);
	q->max_publishers = 2;
	q->subscriber_max_buffer_size = 64;
	q->enable_safe_overflow = false;
	return (struct floe_service_opts){ .type = u64_type, .qos = q };
}

struct arg {
	struct th_pipe to_parent;
};

static int sender(void *p)
{
	struct arg *a = p;
	struct floe_pubsub_qos q;
	struct floe_service_opts o = opts(&q);
	floe_node *node = th_node("sender");
	floe_service *svc;
	uint64_t reached = 0;

	if (!node || floe_service_open(node, SERVICE, &o, &svc))
		return 1;
	for (uint64_t until = th_now_ns() + 3ull * 1000000000ull;
	     th_now_ns() < until;) {
		reached += th_send_tag_and_leave(svc, 1) == 1;
		th_sleep_us(300);
	}
	th_send_u64(&a->to_parent, reached);
	floe_service_close(svc);
	floe_node_destroy(node);
	return 0;
}

int main(void)
{
	struct floe_pubsub_qos q;
	struct floe_service_opts o = opts(&q);
	floe_service *svc, *others[OTHERS];
	floe_node *node, *cleaner;
	floe_subscriber *sub;
	const floe_sample *s;
	uint64_t reached = 0, received = 0;
	struct arg a;
	pid_t pid;
	int r;

	th_setup("cleanup_sweep");
	tap_plan(2);
	node = th_node("main");
	cleaner = th_node("cleaner");
	r = floe_service_open_or_create(node, SERVICE, &o, &svc);
	r |= floe_subscriber_create(svc, NULL, &sub);
	for (int i = 0; i < OTHERS; i++) {
		char name[32];

		snprintf(name, sizeof(name), "t/cleanup_other%d", i);
		r |= floe_service_open_or_create(node, name, &o, &others[i]);
	}
	tap_ok(r == 0, "setup");
	th_pipe_init(&a.to_parent);
	pid = th_fork(sender, &a);
	for (uint64_t until = th_now_ns() + 4ull * 1000000000ull;
	     th_now_ns() < until;) {
		floe_node_cleanup_dead(cleaner);
		while (floe_subscriber_receive(sub, &s) == 1) {
			received++;
			floe_sample_release(s);
		}
	}
	th_recv_u64(&a.to_parent, &reached, 10000);
	th_wait(pid, 10000);
	while (floe_subscriber_receive(sub, &s) == 1) {
		received++;
		floe_sample_release(s);
	}
	tap_ok(received == reached, "received %llu of %llu delivered",
	       (unsigned long long)received, (unsigned long long)reached);
	for (int i = 0; i < OTHERS; i++)
		floe_service_close(others[i]);
	floe_subscriber_destroy(sub);
	floe_service_close(svc);
	floe_node_destroy(cleaner);
	floe_node_destroy(node);
	return tap_done();
}
