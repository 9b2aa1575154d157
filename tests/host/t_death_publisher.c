// SPDX-License-Identifier: MIT
/*
 * Publisher death: a publisher process is SIGKILLed while the subscriber
 * holds some of its samples and more are queued. The held samples stay
 * readable, intact, until released (also across floe_node_cleanup_dead),
 * and the queued ones are still delivered; the dead publisher then
 * disappears (receive returns 0, no error); a new publisher takes the
 * single publisher slot and is received; a sample of a publisher that
 * exited normally stays valid too; nothing leaks.
 */
#include "helpers.h"

#define SERVICE "t/dpub"
#define SENT_BY_DEAD 6
#define HELD 4
#define SENT_BY_NEW 5
#define WORDS 30

struct dpub_msg {
	uint64_t value;
	uint64_t tag;
	uint64_t words[WORDS];	/* th_pattern(tag * 1000 + value, i) */
};

static const struct floe_type msg_type = {
	.name = "t_dpub.Msg",
	.size = sizeof(struct dpub_msg),
	.align = _Alignof(struct dpub_msg),
};

struct pub_arg {
	uint64_t tag, first_value, count;
	int wait_for_kill;
	struct th_pipe to_child, to_parent;
};

static int msg_ok(const floe_sample *s, uint64_t tag, uint64_t value)
{
	const struct dpub_msg *m = floe_sample_payload(s);

	if (m->tag != tag || m->value != value)
		return 0;
	for (int i = 0; i < WORDS; i++)
		if (m->words[i] != th_pattern(tag * 1000 + value, (uint64_t)i))
			return 0;
	return 1;
}

static int publisher_process(void *arg)
{
	struct pub_arg *pa = arg;
	struct floe_service_opts o = { .type = msg_type };
	floe_node *node = th_node("publisher");
	floe_service *svc = NULL;
	floe_publisher *pub = NULL;
	uint64_t deadline, v;
	int r;

	if (!node)
		return 1;
	r = th_service_open_retry(node, SERVICE, &o, &svc, 10000);
	if (!th_check(r == 0, "open: %s", floe_strerror(r)))
		return 1;
	/* The single publisher slot may still be the dead one's a moment. */
	deadline = th_now_ns() + 2000000000ull;
	while ((r = floe_publisher_create(svc, NULL, &pub)) ==
		       FLOE_E_PORT_LIMIT && th_now_ns() < deadline)
		th_sleep_ms(1);
	if (!th_check(r == 0, "publisher: %s", floe_strerror(r)))
		return 1;
	for (uint64_t i = 0; i < pa->count; i++) {
		floe_sample_mut *s;
		struct dpub_msg *m;
		uint64_t value = pa->first_value + i;

		r = floe_publisher_loan(pub, 1, &s);
		if (!th_check(r == 0, "loan: %s", floe_strerror(r)))
			break;
		m = floe_sample_mut_payload(s);
		m->value = value;
		m->tag = pa->tag;
		for (int k = 0; k < WORDS; k++)
			m->words[k] = th_pattern(pa->tag * 1000 + value,
						 (uint64_t)k);
		th_check(floe_sample_mut_send(s) == 1, "send %" PRIu64, i);
	}
	th_send_u64(&pa->to_parent, floe_publisher_id(pub));
	if (pa->wait_for_kill)
		for (;;)
			pause();
	th_recv_u64(&pa->to_child, &v, 60000);
	floe_publisher_destroy(pub);
	floe_service_close(svc);
	floe_node_destroy(node);
	return th_child_result();
}

static int held_intact(const floe_sample *const *held, int n, uint64_t tag)
{
	int ok = 1;

	for (int i = 0; i < n; i++)
		ok &= msg_ok(held[i], tag, (uint64_t)i);
	return ok;
}

int main(void)
{
	const char *domain = th_setup("dpub");
	struct floe_service_opts o = { .type = msg_type };
	struct floe_pubsub_qos q;
	struct pub_arg dead = {
		.tag = 1, .first_value = 0, .count = SENT_BY_DEAD,
		.wait_for_kill = 1,
	};
	struct pub_arg fresh = {
		.tag = 2, .first_value = 0, .count = SENT_BY_NEW,
	};
	const floe_sample *held[HELD], *s, *kept = NULL;
	floe_node *node = NULL;
	floe_service *svc = NULL;
	floe_subscriber *sub = NULL;
	uint64_t dead_id = 0, fresh_id = 0, next;
	int r, ok, errors, late, zeros;
	pid_t pid;

	tap_plan(18);
	tap_require(floe_node_create("t_dpub", NULL, &node) == 0, "node");
	floe_pubsub_qos_init(&q);
	q.max_publishers = 1;
	q.subscriber_max_buffer_size = 8;
	q.subscriber_max_borrowed_samples = HELD;
	o.qos = &q;
	r = floe_service_create(node, SERVICE, &o, &svc);
	if (r == 0)
		r = floe_subscriber_create(svc, NULL, &sub);
	tap_require(r == 0, "service and subscriber (%s)", floe_strerror(r));

	tap_require(th_pipe_init(&dead.to_child) == 0 &&
			    th_pipe_init(&dead.to_parent) == 0, "pipes");
	pid = th_fork(publisher_process, &dead);
	tap_require(pid > 0 &&
			    th_recv_u64(&dead.to_parent, &dead_id, 30000) == 0,
		    "publisher process sent %d samples", SENT_BY_DEAD);

	ok = 1;
	for (int i = 0; i < HELD; i++) {
		r = th_receive(sub, &held[i], 5000);
		if (r != 1) {
			ok = 0;
			break;
		}
		ok &= msg_ok(held[i], dead.tag, (uint64_t)i) &&
		      floe_sample_publisher_id(held[i]) == dead_id;
	}
	tap_require(ok, "received and holding %d of its samples", HELD);

	tap_eq(th_kill(pid), 128 + SIGKILL, "publisher process SIGKILLed");
	tap_ok(held_intact(held, HELD, dead.tag),
	       "held samples intact after the publisher's death");
	r = floe_node_cleanup_dead(node);
	tap_ok(r >= 0, "cleanup_dead (%d)", r);
	tap_ok(held_intact(held, HELD, dead.tag),
	       "held samples intact after cleanup_dead");
	for (int i = 0; i < HELD; i++)
		floe_sample_release(held[i]);

	/* The rest of its queue is delivered too, in order and intact; then
	 * silence without error. */
	errors = late = zeros = 0;
	next = HELD;
	for (uint64_t end = th_now_ns() + 500000000ull; th_now_ns() < end;) {
		r = floe_subscriber_receive(sub, &s);
		if (r < 0) {
			if (errors++ < 3)
				tap_diag("receive after the death: %s",
					 floe_strerror(r));
			continue;
		}
		if (r == 0) {
			zeros++;
			sched_yield();
			continue;
		}
		if (!msg_ok(s, dead.tag, next))
			errors++;
		next++;
		late++;
		floe_sample_release(s);
	}
	tap_ok(errors == 0 && zeros > 0 && late == SENT_BY_DEAD - HELD,
	       "then receive returns 0 without error (%d late samples, "
	       "%d errors)", late, errors);
	tap_ok(!floe_subscriber_has_samples(sub), "nothing waiting");

	/* A new publisher joins through the only publisher slot. */
	tap_require(th_pipe_init(&fresh.to_child) == 0 &&
			    th_pipe_init(&fresh.to_parent) == 0, "pipes");
	pid = th_fork(publisher_process, &fresh);
	r = pid > 0 ? th_recv_u64(&fresh.to_parent, &fresh_id, 30000) : -1;
	tap_require(r == 0 && fresh_id != dead_id,
		    "new publisher joined (id %" PRIu64 ", dead one %" PRIu64 ")",
		    fresh_id, dead_id);
	ok = 1;
	for (int i = 0; i < SENT_BY_NEW; i++) {
		r = th_receive(sub, &s, 5000);
		if (r != 1) {
			ok = 0;
			tap_diag("new publisher's sample %d: %d", i, r);
			break;
		}
		ok &= msg_ok(s, fresh.tag, (uint64_t)i) &&
		      floe_sample_publisher_id(s) == fresh_id &&
		      floe_sample_sequence(s) == (uint64_t)i;
		if (i == SENT_BY_NEW - 1)
			kept = s;
		else
			floe_sample_release(s);
	}
	tap_ok(ok, "its samples arrive with its id, sequence and contents");
	/* It exits normally while we hold its last sample. */
	th_send_u64(&fresh.to_child, 1);
	tap_eq(th_wait(pid, 30000), 0, "new publisher exited cleanly");
	tap_ok(kept && msg_ok(kept, fresh.tag, SENT_BY_NEW - 1),
	       "sample of a destroyed publisher still intact");
	if (kept)
		floe_sample_release(kept);

	r = floe_node_cleanup_dead(node);
	tap_ok(r >= 0, "cleanup_dead (%d)", r);
	floe_subscriber_destroy(sub);
	floe_service_close(svc);
	floe_node_destroy(node);
	th_pipe_close(&dead.to_child);
	th_pipe_close(&dead.to_parent);
	th_pipe_close(&fresh.to_child);
	th_pipe_close(&fresh.to_parent);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
