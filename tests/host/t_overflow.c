// SPDX-License-Identifier: MIT
/*
 * Full subscriber queues, with the subscriber in another process:
 *  A. safe overflow on: a subscriber that does not read keeps only the
 *     newest buffer_size samples (the service's, or its own smaller one);
 *  B. safe overflow off, FLOE_DELIVER_DISCARD: sends to a full queue reach
 *     0 subscribers and the oldest samples are kept;
 *  C. safe overflow off, FLOE_DELIVER_BLOCK: a send to a full queue waits
 *     until the subscriber reads, and nothing is lost;
 *  D. FLOE_DELIVER_BLOCK: a send blocked on a subscriber returns once that
 *     subscriber's process is SIGKILLed.
 */
#include <pthread.h>

#include "helpers.h"

#define BUFFER 4
#define SAFE_SENT 20
#define SMALL_BUFFER 2
#define DISCARD_SENT 10
#define BLOCK_BUFFER 2
#define BLOCK_SENT 50
#define READER_DELAY_MS 300

struct ovf_msg {
	uint64_t value;
	uint64_t check;
};

static const struct floe_type msg_type = {
	.name = "t_overflow.Msg",
	.size = sizeof(struct ovf_msg),
	.align = _Alignof(struct ovf_msg),
};

enum scenario { SAFE, DISCARD, BLOCK, BLOCK_DEATH };

static const char *const services[] = {
	[SAFE] = "t/ovf/safe",
	[DISCARD] = "t/ovf/discard",
	[BLOCK] = "t/ovf/block",
	[BLOCK_DEATH] = "t/ovf/blockdeath",
};

struct chan {
	enum scenario scenario;
	struct th_pipe to_child, to_parent;
};

static int send_value(floe_publisher *pub, uint64_t value)
{
	struct ovf_msg m = { .value = value, .check = th_pattern(3, value) };

	return floe_publisher_send_copy(pub, &m, sizeof(m));
}

/* Expect payload values [from, to) on @sub, then nothing. */
static void expect(floe_subscriber *sub, const char *who, uint64_t from,
		   uint64_t to)
{
	const floe_sample *s;

	for (uint64_t v = from; v < to; v++) {
		const struct ovf_msg *m;
		int r = th_receive(sub, &s, 5000);

		if (!th_check(r == 1, "%s: value %" PRIu64 " missing (%d)",
			      who, v, r))
			return;
		m = floe_sample_payload(s);
		th_check(m->value == v && m->check == th_pattern(3, v),
			 "%s: got %" PRIu64 ", want %" PRIu64, who, m->value,
			 v);
		floe_sample_release(s);
	}
	if (floe_subscriber_receive(sub, &s) == 1) {
		th_check(0, "%s: extra sample %" PRIu64, who,
			 ((const struct ovf_msg *)floe_sample_payload(s))->value);
		floe_sample_release(s);
	}
}

static int wait_parent(struct chan *ch)
{
	uint64_t v;

	return th_check(th_recv_u64(&ch->to_child, &v, 60000) == 0,
			"parent did not answer");
}

static int subscriber_process(void *arg)
{
	struct chan *ch = arg;
	struct floe_service_opts o = { .type = msg_type };
	struct floe_subscriber_opts so = { .buffer_size = SMALL_BUFFER };
	floe_node *node = th_node("subscriber");
	floe_service *svc = NULL;
	floe_subscriber *sub = NULL, *small = NULL;
	int r;

	if (!node)
		return 1;
	r = th_service_open_retry(node, services[ch->scenario], &o, &svc,
				  10000);
	if (!th_check(r == 0, "open: %s", floe_strerror(r)))
		return 1;
	r = floe_subscriber_create(svc, NULL, &sub);
	if (!th_check(r == 0, "subscriber: %s", floe_strerror(r)))
		return 1;
	if (ch->scenario == SAFE) {
		r = floe_subscriber_create(svc, &so, &small);
		if (!th_check(r == 0, "small subscriber: %s",
			      floe_strerror(r)))
			return 1;
	}
	th_send_u64(&ch->to_parent, 0);		/* ready */
	if (ch->scenario == BLOCK_DEATH) {
		for (;;)
			pause();		/* never read: wait for death */
	}
	if (!wait_parent(ch))
		return 1;

	switch (ch->scenario) {
	case SAFE:
		expect(sub, "safe overflow", SAFE_SENT - BUFFER, SAFE_SENT);
		expect(small, "safe overflow, buffer 2",
		       SAFE_SENT - SMALL_BUFFER, SAFE_SENT);
		break;
	case DISCARD:
		expect(sub, "discard", 0, BUFFER);
		th_send_u64(&ch->to_parent, (uint64_t)th_child_failures);
		if (!wait_parent(ch))
			return 1;
		expect(sub, "discard, after reading", DISCARD_SENT,
		       DISCARD_SENT + 1);
		break;
	case BLOCK: {
		uint64_t t_start;

		/* Let the publisher run into the full queue, then note when
		 * we start reading: its blocked send cannot end before. */
		th_sleep_ms(READER_DELAY_MS);
		t_start = th_now_ns();
		th_send_u64(&ch->to_parent, t_start);
		expect(sub, "block", 0, BLOCK_SENT);
		break;
	}
	case BLOCK_DEATH:
		break;
	}
	th_send_u64(&ch->to_parent, (uint64_t)th_child_failures);
	if (small)
		floe_subscriber_destroy(small);
	floe_subscriber_destroy(sub);
	floe_service_close(svc);
	floe_node_destroy(node);
	return th_child_result();
}

/* Start scenario @sc: service, publisher, subscriber process (ready). */
static pid_t start(floe_node *node, struct chan *ch, enum scenario sc,
		   floe_service **svc, floe_publisher **pub)
{
	struct floe_service_opts o = { .type = msg_type };
	struct floe_publisher_opts po;
	struct floe_pubsub_qos q;
	uint64_t ready;
	pid_t pid;
	int r;

	floe_pubsub_qos_init(&q);
	q.subscriber_max_buffer_size = sc == BLOCK || sc == BLOCK_DEATH ?
					       BLOCK_BUFFER : BUFFER;
	q.enable_safe_overflow = sc == SAFE;
	o.qos = &q;
	floe_publisher_opts_init(&po);
	po.unable_to_deliver = sc == BLOCK || sc == BLOCK_DEATH ?
				       FLOE_DELIVER_BLOCK : FLOE_DELIVER_DISCARD;
	r = floe_service_create(node, services[sc], &o, svc);
	if (r == 0)
		r = floe_publisher_create(*svc, &po, pub);
	tap_require(r == 0, "%s: service and publisher (%s)", services[sc],
		    floe_strerror(r));
	ch->scenario = sc;
	pid = th_fork(subscriber_process, ch);
	tap_require(pid > 0 && th_recv_u64(&ch->to_parent, &ready, 30000) == 0,
		    "%s: subscriber process ready", services[sc]);
	return pid;
}

static void finish(pid_t pid, floe_service *svc, floe_publisher *pub,
		   const char *what)
{
	tap_eq(th_wait(pid, 30000), 0, "%s: subscriber process passed", what);
	floe_publisher_destroy(pub);
	floe_service_close(svc);
}

/* ---- D: a thread kills the subscriber while main is blocked -------- */

struct killer {
	pid_t victim;
	_Atomic int send_returned; /* main writes, the killer polls */
};

static void *killer_thread(void *arg)
{
	struct killer *k = arg;

	th_sleep_ms(READER_DELAY_MS);
	kill(k->victim, SIGKILL);
	/* The blocked send must notice within 20 s; otherwise it never
	 * will, and the test cannot go on. */
	for (int i = 0; i < 2000 && !k->send_returned; i++)
		th_sleep_ms(10);
	if (!k->send_returned) {
		printf("Bail out! blocked send still blocked 20 s after its "
		       "only subscriber died\n");
		fflush(stdout);
		_exit(1);
	}
	return NULL;
}

int main(void)
{
	const char *domain = th_setup("ovf");
	floe_node *node = NULL;
	floe_service *svc;
	floe_publisher *pub;
	struct chan ch = { 0 };
	uint64_t fails = 0;
	int r, reached, bad;
	pid_t pid;

	tap_plan(33);
	tap_require(floe_node_create("t_overflow", NULL, &node) == 0, "node");
	tap_require(th_pipe_init(&ch.to_child) == 0 &&
			    th_pipe_init(&ch.to_parent) == 0, "pipes");

	/* A. Safe overflow: every send reaches both subscribers. */
	pid = start(node, &ch, SAFE, &svc, &pub);
	bad = 0;
	for (uint64_t v = 0; v < SAFE_SENT; v++)
		bad += send_value(pub, v) != 2;
	tap_eq(bad, 0, "safe overflow: every send reaches both subscribers");
	th_send_u64(&ch.to_child, 1);
	tap_ok(th_recv_u64(&ch.to_parent, &fails, 60000) == 0 && fails == 0,
	       "safe overflow: only the newest %d (and %d) samples kept",
	       BUFFER, SMALL_BUFFER);
	finish(pid, svc, pub, "safe overflow");

	/* B. Discard: a full queue takes nothing more. */
	pid = start(node, &ch, DISCARD, &svc, &pub);
	reached = 0;
	bad = 0;
	for (uint64_t v = 0; v < DISCARD_SENT; v++) {
		r = send_value(pub, v);
		if (v < BUFFER)
			reached += r;
		else
			bad += r != 0;
	}
	tap_eq(reached, BUFFER, "discard: the first %d sends reach 1", BUFFER);
	tap_eq(bad, 0, "discard: sends to the full queue reach 0");
	th_send_u64(&ch.to_child, 1);
	tap_ok(th_recv_u64(&ch.to_parent, &fails, 60000) == 0 && fails == 0,
	       "discard: the oldest %d samples are the ones kept", BUFFER);
	tap_eq(send_value(pub, DISCARD_SENT), 1,
	       "discard: after the subscriber read, a send reaches it");
	th_send_u64(&ch.to_child, 1);
	tap_ok(th_recv_u64(&ch.to_parent, &fails, 60000) == 0 && fails == 0,
	       "discard: ... and it arrives");
	finish(pid, svc, pub, "discard");

	/* C. Block: the third send waits for the reader. */
	pid = start(node, &ch, BLOCK, &svc, &pub);
	{
		uint64_t t_before, t_after, t_reader = 0;

		bad = 0;
		for (uint64_t v = 0; v < BLOCK_BUFFER; v++)
			bad += send_value(pub, v) != 1;
		tap_eq(bad, 0, "block: sends into free queue slots");
		th_send_u64(&ch.to_child, 1);
		t_before = th_now_ns();
		r = send_value(pub, BLOCK_BUFFER);
		t_after = th_now_ns();
		tap_eq(r, 1, "block: send to the full queue reaches 1");
		tap_ok(th_recv_u64(&ch.to_parent, &t_reader, 60000) == 0 &&
			       t_after >= t_reader,
		       "block: the send returned only after the reader began "
		       "(blocked %" PRIu64 " ms)",
		       (t_after - t_before) / 1000000);
		for (uint64_t v = BLOCK_BUFFER + 1; v < BLOCK_SENT; v++)
			bad += send_value(pub, v) != 1;
		tap_eq(bad, 0, "block: every later send reaches 1");
		tap_ok(th_recv_u64(&ch.to_parent, &fails, 60000) == 0 &&
			       fails == 0,
		       "block: all %d samples arrive in order", BLOCK_SENT);
	}
	finish(pid, svc, pub, "block");

	/* D. Block on a subscriber that dies. */
	pid = start(node, &ch, BLOCK_DEATH, &svc, &pub);
	{
		struct killer k = { .victim = pid };
		uint64_t t_before, t_after;
		pthread_t t;

		bad = 0;
		for (uint64_t v = 0; v < BLOCK_BUFFER; v++)
			bad += send_value(pub, v) != 1;
		tap_eq(bad, 0, "block/death: queue filled");
		pthread_create(&t, NULL, killer_thread, &k);
		t_before = th_now_ns();
		r = send_value(pub, BLOCK_BUFFER);
		t_after = th_now_ns();
		k.send_returned = 1;
		pthread_join(t, NULL);
		tap_ok(r == 0, "block/death: blocked send returns, reaching 0 "
		       "(%d: %s)", r, floe_strerror(r < 0 ? r : 0));
		tap_ok(t_after - t_before >= (READER_DELAY_MS / 2) * 1000000ull,
		       "block/death: ... after blocking (%" PRIu64 " ms)",
		       (t_after - t_before) / 1000000);
		tap_eq(th_kill(pid), 128 + SIGKILL, "block/death: killed");
		r = floe_publisher_update_connections(pub);
		tap_ok(r >= 0, "block/death: update_connections (%s)",
		       floe_strerror(r < 0 ? r : 0));
		tap_eq(send_value(pub, BLOCK_BUFFER + 1), 0,
		       "block/death: publisher still sends (to nobody)");
		floe_publisher_destroy(pub);
		floe_service_close(svc);
	}

	r = floe_node_cleanup_dead(node);
	tap_ok(r >= 0, "cleanup_dead (%d)", r);
	floe_node_destroy(node);
	th_pipe_close(&ch.to_child);
	th_pipe_close(&ch.to_parent);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
