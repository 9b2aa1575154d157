// SPDX-License-Identifier: MIT
/*
 * History: a subscriber (in another process) that joins after samples
 * were sent receives the last history_size of them, in order and with
 * their original sequence numbers, then the new ones; a second late
 * subscriber gets the then-latest history; a subscriber already connected
 * gets nothing twice. Fewer samples than history_size: all of them. A
 * service without history: nothing.
 */
#include "helpers.h"

#define HISTORY 4
#define FIRST_BATCH 10		/* sent before anyone subscribes */
#define SECOND_BATCH 5
#define SHORT_BATCH 2		/* < HISTORY */

struct hist_msg {
	uint64_t seq;
	uint64_t check;
};

static const struct floe_type msg_type = {
	.name = "t_history.Msg",
	.size = sizeof(struct hist_msg),
	.align = _Alignof(struct hist_msg),
};

static const char *const services[3] = {
	"t/history/main", "t/history/short", "t/history/none"
};

struct chan {
	struct th_pipe to_child, to_parent;
};

static void publish(floe_publisher *pub, uint64_t from, uint64_t to)
{
	for (uint64_t seq = from; seq < to; seq++) {
		struct hist_msg m = { .seq = seq, .check = th_pattern(7, seq) };
		int r = floe_publisher_send_copy(pub, &m, sizeof(m));

		if (r < 0)
			tap_diag("send %" PRIu64 ": %s", seq, floe_strerror(r));
	}
}

/* Expect exactly samples [from, to) on @sub, then nothing. */
static void expect(floe_subscriber *sub, const char *who, uint64_t from,
		   uint64_t to)
{
	const floe_sample *s;

	for (uint64_t seq = from; seq < to; seq++) {
		const struct hist_msg *m;
		int r = th_receive(sub, &s, 5000);

		if (!th_check(r == 1, "%s: sample %" PRIu64 " missing (%d)",
			      who, seq, r))
			return;
		m = floe_sample_payload(s);
		th_check(m->seq == seq && m->check == th_pattern(7, seq) &&
				 floe_sample_sequence(s) == seq,
			 "%s: got payload %" PRIu64 " header %" PRIu64
			 ", want %" PRIu64, who, m->seq,
			 floe_sample_sequence(s), seq);
		floe_sample_release(s);
	}
	if (floe_subscriber_receive(sub, &s) == 1) {
		th_check(0, "%s: unexpected extra sample %" PRIu64, who,
			 ((const struct hist_msg *)floe_sample_payload(s))->seq);
		floe_sample_release(s);
	}
}

static int wait_parent(struct chan *ch)
{
	uint64_t v;

	return th_check(th_recv_u64(&ch->to_child, &v, 30000) == 0,
			"parent did not answer");
}

/* Report the failures of a phase (and reset the count). */
static void report(struct chan *ch)
{
	th_send_u64(&ch->to_parent, (uint64_t)th_child_failures);
	th_child_failures = 0;
}

static int late_subscriber(void *arg)
{
	struct chan *ch = arg;
	struct floe_service_opts o = { .type = msg_type };
	floe_service *svc[3] = { 0 };
	floe_subscriber *sub[3] = { 0 }, *late = NULL;
	floe_node *node = th_node("late");
	int r, total = 0;

	if (!node)
		return 1;
	for (int i = 0; i < 3; i++) {
		r = th_service_open_retry(node, services[i], &o, &svc[i],
					  10000);
		if (!th_check(r == 0, "open %s: %s", services[i],
			      floe_strerror(r)))
			return 1;
		r = floe_subscriber_create(svc[i], NULL, &sub[i]);
		if (!th_check(r == 0, "subscriber: %s", floe_strerror(r)))
			return 1;
	}
	report(ch);			/* created */
	if (!wait_parent(ch))		/* publishers connected us */
		return 1;
	expect(sub[0], "late on main", FIRST_BATCH - HISTORY, FIRST_BATCH);
	expect(sub[1], "late on short", 0, SHORT_BATCH);
	expect(sub[2], "late on none", 0, 0);
	total += th_child_failures;
	report(ch);
	if (!wait_parent(ch))		/* second batch sent */
		return 1;
	expect(sub[0], "connected on main", FIRST_BATCH,
	       FIRST_BATCH + SECOND_BATCH);
	r = floe_subscriber_create(svc[0], NULL, &late);
	th_check(r == 0, "second late subscriber: %s", floe_strerror(r));
	total += th_child_failures;
	report(ch);
	if (!wait_parent(ch))		/* second late one connected */
		return 1;
	if (late)
		expect(late, "second late on main",
		       FIRST_BATCH + SECOND_BATCH - HISTORY,
		       FIRST_BATCH + SECOND_BATCH);
	expect(sub[0], "connected on main, again", 0, 0);
	total += th_child_failures;
	report(ch);

	if (late)
		floe_subscriber_destroy(late);
	for (int i = 0; i < 3; i++) {
		floe_subscriber_destroy(sub[i]);
		floe_service_close(svc[i]);
	}
	floe_node_destroy(node);
	return total || th_child_failures;
}

static void update(floe_publisher *const *pubs, int n)
{
	for (int i = 0; i < n; i++) {
		int r = floe_publisher_update_connections(pubs[i]);

		if (r < 0)
			tap_diag("update_connections: %s", floe_strerror(r));
	}
}

int main(void)
{
	const char *domain = th_setup("hist");
	static const uint32_t history[3] = { HISTORY, HISTORY, 0 };
	struct floe_service_opts o = { .type = msg_type };
	floe_service *svc[3] = { 0 };
	floe_publisher *pub[3] = { 0 };
	floe_node *node = NULL;
	struct chan ch = { 0 };
	uint64_t fails = 0;
	pid_t pid;
	int r;

	tap_plan(10);
	tap_require(floe_node_create("t_history", NULL, &node) == 0, "node");
	for (int i = 0; i < 3; i++) {
		struct floe_pubsub_qos q;

		floe_pubsub_qos_init(&q);
		q.history_size = history[i];
		q.subscriber_max_buffer_size = 8;
		o.qos = &q;
		r = floe_service_create(node, services[i], &o, &svc[i]);
		if (r == 0)
			r = floe_publisher_create(svc[i], NULL, &pub[i]);
		if (r)
			break;
	}
	tap_require(r == 0, "services and publishers (%s)", floe_strerror(r));
	publish(pub[0], 0, FIRST_BATCH);
	publish(pub[1], 0, SHORT_BATCH);
	publish(pub[2], 0, FIRST_BATCH);

	tap_require(th_pipe_init(&ch.to_child) == 0 &&
			    th_pipe_init(&ch.to_parent) == 0, "pipes");
	pid = th_fork(late_subscriber, &ch);
	tap_require(pid > 0, "fork");
	tap_require(th_recv_u64(&ch.to_parent, &fails, 30000) == 0 &&
			    fails == 0, "late subscribers created");

	update(pub, 3);
	th_send_u64(&ch.to_child, 1);
	r = th_recv_u64(&ch.to_parent, &fails, 60000);
	tap_ok(r == 0 && fails == 0,
	       "late subscriber gets the last %d of %d samples in order; "
	       "all %d of a short history; none without history",
	       HISTORY, FIRST_BATCH, SHORT_BATCH);

	publish(pub[0], FIRST_BATCH, FIRST_BATCH + SECOND_BATCH);
	th_send_u64(&ch.to_child, 1);
	r = th_recv_u64(&ch.to_parent, &fails, 60000);
	tap_ok(r == 0 && fails == 0, "then the new samples, in order");

	update(pub, 1);
	th_send_u64(&ch.to_child, 1);
	r = th_recv_u64(&ch.to_parent, &fails, 60000);
	tap_ok(r == 0 && fails == 0,
	       "second late subscriber gets the latest history; the first "
	       "gets nothing twice");

	tap_eq(th_wait(pid, 30000), 0, "subscriber process's checks passed");
	for (int i = 0; i < 3; i++) {
		floe_publisher_destroy(pub[i]);
		floe_service_close(svc[i]);
	}
	floe_node_destroy(node);
	th_pipe_close(&ch.to_child);
	th_pipe_close(&ch.to_parent);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
