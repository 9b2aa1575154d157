// SPDX-License-Identifier: MIT
/*
 * A subscriber that sleeps until data arrives: a publish-subscribe service
 * and an event service of the same name; the publisher process notifies
 * after every send, the subscriber (this process) drains its queue and
 * then sleeps in timed_wait until the next notify. FLOE_PUBSUB_EVENT_N
 * samples (default 1000) at an irregular pace (bursts, and pauses long
 * enough for the subscriber to fall asleep); the publisher blocks on a
 * full queue, so none may be lost.
 *
 * Checked: every sample arrives once, in order, intact; no wait ever runs
 * into its (generous) timeout, which would mean a lost wake-up; and the
 * subscriber does not poll: it only wakes for a notify, so it waits at
 * most once per sample.
 */
#include "helpers.h"

#define SERVICE "t/event/pubsub"
#define WAIT_NS 10000000000ull /* a wait this long lost its wake-up */

struct msg {
	uint64_t seq;
	uint64_t check;
};

static const struct floe_type msg_type = {
	.name = "t_event_pubsub.Msg",
	.size = sizeof(struct msg),
	.align = _Alignof(struct msg),
};

struct pub_arg {
	struct th_pipe ready, done;
	uint64_t count;
};

static void pace(void)
{
	switch (th_rand_below(16)) {
	case 0:
		th_sleep_us(200 + th_rand_below(800)); /* the subscriber sleeps */
		break;
	case 1:
	case 2:
		th_sleep_us(th_rand_below(50));
		break;
	case 3:
		sched_yield();
		break;
	default:
		break; /* a burst */
	}
}

static int publisher_process(void *arg)
{
	struct pub_arg *pa = arg;
	struct floe_service_opts so = { .type = msg_type };
	struct floe_publisher_opts po;
	floe_node *node = th_node("publisher");
	floe_service *data = NULL, *events = NULL;
	floe_publisher *pub = NULL;
	floe_notifier *notifier = NULL;
	uint64_t done;
	int r;

	if (!node)
		return 1;
	r = th_service_open_retry(node, SERVICE, &so, &data, 10000);
	if (!th_check(r == 0, "open pub-sub: %s", floe_strerror(r)))
		return 1;
	r = floe_event_open(node, SERVICE, NULL, &events);
	if (!th_check(r == 0, "open events: %s", floe_strerror(r)))
		return 1;
	floe_publisher_opts_init(&po);
	po.unable_to_deliver = FLOE_DELIVER_BLOCK;
	r = floe_publisher_create(data, &po, &pub);
	if (!th_check(r == 0, "publisher: %s", floe_strerror(r)))
		return 1;
	r = floe_notifier_create(events, &notifier);
	if (!th_check(r == 0, "notifier: %s", floe_strerror(r)))
		return 1;
	th_send_u64(&pa->ready, 1);

	for (uint64_t seq = 0; seq < pa->count; seq++) {
		struct msg m = { .seq = seq, .check = th_pattern(7, seq) };

		pace();
		r = floe_publisher_send_copy(pub, &m, sizeof(m));
		if (!th_check_eq(r, 1, "send %" PRIu64, seq))
			break;
		/* data first, then the wake-up */
		r = floe_notifier_notify(notifier, 0);
		if (!th_check_eq(r, 1, "notify %" PRIu64, seq))
			break;
	}
	th_check(th_recv_u64(&pa->done, &done, 100000) == 0, "done");
	floe_notifier_destroy(notifier);
	floe_publisher_destroy(pub);
	floe_service_close(events);
	floe_service_close(data);
	floe_node_destroy(node);
	return th_child_result();
}

int main(void)
{
	const char *domain = th_setup("evpubsub");
	uint64_t count = (uint64_t)th_env_long("FLOE_PUBSUB_EVENT_N", 1000);
	struct floe_service_opts so = { .type = msg_type };
	struct floe_pubsub_qos pq;
	struct floe_event_qos eq;
	struct floe_event_opts eo = { .qos = &eq };
	struct pub_arg pa = { .count = count };
	floe_node *node = NULL;
	floe_service *data = NULL, *events = NULL;
	floe_subscriber *sub = NULL;
	floe_listener *listener = NULL;
	uint64_t received = 0, bad = 0, waits = 0, empty_waits = 0;
	uint64_t timeouts = 0, v;
	pid_t pid;
	int r;

	tap_plan(13);
	tap_require(floe_node_create("subscriber", NULL, &node) == 0, "node");
	floe_pubsub_qos_init(&pq);
	pq.max_publishers = 1;
	pq.max_subscribers = 1;
	pq.subscriber_max_buffer_size = 8;
	pq.enable_safe_overflow = false;
	so.qos = &pq;
	r = floe_service_create(node, SERVICE, &so, &data);
	tap_require(r == 0, "pub-sub service (%s)", floe_strerror(r));
	floe_event_qos_init(&eq);
	eq.max_notifiers = 1;
	eq.max_listeners = 1;
	eq.event_id_max = 0;
	r = floe_event_create(node, SERVICE, &eo, &events);
	tap_require(r == 0, "event service of the same name (%s)",
		    floe_strerror(r));
	tap_require(floe_subscriber_create(data, NULL, &sub) == 0, "subscriber");
	tap_require(floe_listener_create(events, &listener) == 0, "listener");

	tap_require(th_pipe_init(&pa.ready) == 0 && th_pipe_init(&pa.done) == 0,
		    "pipes");
	pid = th_fork(publisher_process, &pa);
	tap_require(pid > 0 && th_recv_u64(&pa.ready, &v, 30000) == 0,
		    "publisher process up");

	while (received < count) {
		const floe_sample *s;
		uint64_t before = received;

		/* drain everything that is there */
		while ((r = floe_subscriber_receive(sub, &s)) == 1) {
			const struct msg *m = floe_sample_payload(s);

			if ((m->seq != received ||
			     m->check != th_pattern(7, received)) && bad++ < 5)
				tap_diag("sample %" PRIu64 ": seq %" PRIu64,
					 received, m->seq);
			received++;
			floe_sample_release(s);
		}
		if (r < 0) {
			tap_diag("receive: %s", floe_strerror(r));
			break;
		}
		if (waits && received == before)
			empty_waits++;
		if (received == count)
			break;
		/* then sleep until the publisher says there is more */
		waits++;
		r = floe_listener_timed_wait(listener, WAIT_NS, NULL, NULL);
		if (r == 0 && timeouts++ == 0)
			tap_diag("a wait timed out after %" PRIu64 " samples",
				 received);
		if (r < 0 || timeouts > 2)
			break;
	}

	tap_eq(received, count, "all %" PRIu64 " samples arrived", count);
	tap_eq(bad, 0, "in order and intact");
	tap_eq(timeouts, 0, "no wait ran into its timeout (no lost wake-up)");
	/* Each wait consumed at least one notify: never more waits than
	 * samples. (A wait can find nothing new when the sample of its
	 * notify was taken by the drain before: reported, not judged.) */
	tap_ok(waits <= count,
	       "slept %" PRIu64 " times for %" PRIu64 " samples (%" PRIu64
	       " wake-ups found nothing new): woken only by notifies", waits,
	       count, empty_waits);
	th_send_u64(&pa.done, 1);
	tap_eq(th_wait(pid, 30000), 0, "publisher process's checks passed");

	floe_listener_destroy(listener);
	floe_subscriber_destroy(sub);
	floe_service_close(events);
	floe_service_close(data);
	floe_node_destroy(node);
	th_pipe_close(&pa.ready);
	th_pipe_close(&pa.done);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
