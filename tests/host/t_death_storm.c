// SPDX-License-Identifier: MIT
/*
 * Death storm: FLOE_STORM_N (default 1000; at least 100 but no more than
 * FLOE_STORM_SECS, default 60, seconds of them) short-lived processes, each a
 * publisher or a subscriber of the same service, are SIGKILLed at random
 * points (inside setup, while loaning, sending, receiving, releasing)
 * while a surviving publisher/subscriber pair keeps exchanging checked
 * messages without loss (safe overflow off, blocking publisher). After the
 * storm: every survivor message arrived once, in order, intact; no victim
 * crashed by itself; the surviving publisher can loan its whole pool
 * again; and no shared object is left once everything is closed.
 */
#include "helpers.h"
#include "engine/engine.h" /* pool accessors: leak checks below the loan limit */

#define SERVICE "t/storm"
#define CONCURRENT 4		/* victims alive at a time */
#define MAX_PORTS 16
#define BUFFER 8
#define BORROWS 2
#define WORDS 6
#define SURVIVOR_TAG 0
#define TABLE 8192		/* publishers tracked by the survivor */

struct storm_msg {
	uint64_t tag;		/* SURVIVOR_TAG or the victim's pid */
	uint64_t seq;
	uint64_t words[WORDS];	/* th_pattern(tag ^ seq << 20, i) */
};

static const struct floe_type msg_type = {
	.name = "t_storm.Msg",
	.size = sizeof(struct storm_msg),
	.align = _Alignof(struct storm_msg),
};

static struct th_pipe to_sp, from_sp, to_ss, from_ss;

static void fill(struct storm_msg *m, uint64_t tag, uint64_t seq)
{
	m->tag = tag;
	m->seq = seq;
	for (int i = 0; i < WORDS; i++)
		m->words[i] = th_pattern(tag ^ (seq << 20), (uint64_t)i);
}

static int intact(const struct storm_msg *m)
{
	for (int i = 0; i < WORDS; i++)
		if (m->words[i] != th_pattern(m->tag ^ (m->seq << 20),
					      (uint64_t)i))
			return 0;
	return 1;
}

static floe_service *open_service(floe_node *node)
{
	struct floe_service_opts o = { .type = msg_type };
	floe_service *svc = NULL;

	if (th_service_open_retry(node, SERVICE, &o, &svc, 10000))
		return NULL;
	return svc;
}

/* ---- victims: run until killed ------------------------------------ */

static void __attribute__((noreturn)) victim_publisher(floe_service *svc)
{
	struct floe_publisher_opts po;
	floe_publisher *pub = NULL;
	uint64_t seq = 0;

	floe_publisher_opts_init(&po);
	po.unable_to_deliver = FLOE_DELIVER_DISCARD;
	while (floe_publisher_create(svc, &po, &pub))
		th_sleep_us(200);	/* slots of the dead not reclaimed yet */
	for (;;) {
		floe_sample_mut *s;

		if (floe_publisher_loan(pub, 1, &s)) {
			sched_yield();
			continue;
		}
		fill(floe_sample_mut_payload(s), (uint64_t)getpid(), seq++);
		if (th_rand_below(16) == 0)
			floe_sample_mut_discard(s);
		else
			floe_sample_mut_send(s);
		if (th_rand_below(8) == 0)
			sched_yield();
	}
}

static void __attribute__((noreturn)) victim_subscriber(floe_service *svc)
{
	const floe_sample *held[BORROWS];
	floe_subscriber *sub = NULL;
	int nheld = 0;

	while (floe_subscriber_create(svc, NULL, &sub))
		th_sleep_us(200);
	for (;;) {
		const floe_sample *s;

		if (floe_subscriber_receive(sub, &s) != 1) {
			sched_yield();
			continue;
		}
		held[nheld++] = s;
		if (nheld == BORROWS || th_rand_below(2))
			while (nheld)
				floe_sample_release(held[--nheld]);
	}
}

static int victim(void *arg)
{
	floe_node *node = th_node("victim");
	floe_service *svc;

	(void)arg;
	if (!node)
		return 2;
	svc = open_service(node);
	if (!svc)
		return 2;
	if (th_rand_below(2))
		victim_publisher(svc);
	victim_subscriber(svc);
}

/* ---- the survivors ------------------------------------------------- */

static int survivor_publisher(void *arg)
{
	struct floe_publisher_opts po;
	floe_node *node = th_node("survivor pub");
	floe_service *svc;
	floe_publisher *pub = NULL;
	uint64_t seq = 0, transient_empty = 0, v;
	int base, base_err, got = 0, got_err = 0, r;

	(void)arg;
	if (!node || !(svc = open_service(node)))
		return 1;
	floe_publisher_opts_init(&po);
	po.unable_to_deliver = FLOE_DELIVER_BLOCK;
	r = floe_publisher_create(svc, &po, &pub);
	if (!th_check(r == 0, "publisher: %s", floe_strerror(r)))
		return 1;
	base = th_loan_all(pub, &base_err);
	th_send_u64(&from_sp, (uint64_t)base);		/* ready */

	while (!th_pending(&to_sp)) {
		floe_sample_mut *s;
		uint64_t deadline = th_now_ns() + 2000000000ull;

		/* Dead subscribers' chunks come back after a moment; a pool
		 * that stays empty is a leak. */
		while ((r = floe_publisher_loan(pub, 1, &s)) ==
			       FLOE_E_POOL_EMPTY &&
		       th_now_ns() < deadline) {
			transient_empty++;
			floe_publisher_update_connections(pub);
			th_sleep_us(100);
		}
		if (!th_check(r == 0, "loan %" PRIu64 ": %s", seq,
			      floe_strerror(r)))
			break;
		fill(floe_sample_mut_payload(s), SURVIVOR_TAG, seq);
		r = floe_sample_mut_send(s);
		if (!th_check(r >= 1, "send %" PRIu64 " reached %d", seq, r))
			break;
		seq++;
		if ((seq & 255) == 0)
			th_sleep_us(100);	/* leave CPU to the storm */
	}
	if (transient_empty)
		th_child_diag("survivor publisher: %" PRIu64
			      " loans met an empty pool before recovering",
			      transient_empty);
	th_recv_u64(&to_sp, &v, 1000);		/* "stop" */
	th_send_u64(&from_sp, seq);		/* how many were sent */
	th_recv_u64(&to_sp, &v, 100000);	/* survivor subscriber done */

	/* Every victim is dead: the whole pool must come back. */
	{
		uint64_t deadline = th_now_ns() + 2000000000ull;

		do {
			floe_publisher_update_connections(pub);
			got = th_loan_all(pub, &got_err);
			if (got == base && got_err == base_err &&
			    floe_sender_free_chunks(floe_publisher_sender(pub)) ==
				    floe_sender_chunk_count(floe_publisher_sender(pub)))
				break;
			th_sleep_ms(1);
		} while (th_now_ns() < deadline);
	}
	th_check(got == base && got_err == base_err &&
			 floe_sender_free_chunks(floe_publisher_sender(pub)) ==
				 floe_sender_chunk_count(floe_publisher_sender(pub)),
		 "pool after the storm: %d loans (%s), before: %d (%s); "
		 "%u of %u chunks free", got, floe_strerror(got_err), base,
		 floe_strerror(base_err), floe_sender_free_chunks(floe_publisher_sender(pub)),
		 floe_sender_chunk_count(floe_publisher_sender(pub)));
	th_send_u64(&from_sp, (uint64_t)th_child_failures);
	floe_publisher_destroy(pub);
	floe_service_close(svc);
	floe_node_destroy(node);
	return th_child_result();
}

struct seen {
	uint64_t id, next_seq;
};

static int survivor_subscriber(void *arg)
{
	static struct seen table[TABLE];
	floe_node *node = th_node("survivor sub");
	floe_service *svc;
	floe_subscriber *sub = NULL;
	uint64_t expected = UINT64_MAX, next = 0, foreign = 0;
	uint64_t bad_survivor = 0, bad_foreign = 0;
	int r;

	(void)arg;
	if (!node || !(svc = open_service(node)))
		return 1;
	r = floe_subscriber_create(svc, NULL, &sub);
	if (!th_check(r == 0, "subscriber: %s", floe_strerror(r)))
		return 1;
	th_send_u64(&from_ss, 0);			/* ready */

	while (next < expected) {
		const floe_sample *s;
		const struct storm_msg *m;

		r = floe_subscriber_receive(sub, &s);
		if (r == 0) {
			/* Idle: has the parent told us the final count? */
			if (expected == UINT64_MAX && th_pending(&to_ss))
				th_recv_u64(&to_ss, &expected, 1000);
			sched_yield();
			continue;
		}
		if (!th_check(r == 1, "receive: %s", floe_strerror(r)))
			break;
		m = floe_sample_payload(s);
		if (m->tag == SURVIVOR_TAG) {
			if ((m->seq != next || !intact(m) ||
			     floe_sample_sequence(s) != m->seq) &&
			    bad_survivor++ < 5)
				th_child_diag("survivor message %" PRIu64
					      ": got seq %" PRIu64 " (%s)",
					      next, m->seq,
					      intact(m) ? "intact" : "corrupt");
			next = m->seq + 1;
		} else {
			uint64_t id = floe_sample_publisher_id(s);
			uint64_t h = id % TABLE;

			foreign++;
			for (int probe = 0; probe < TABLE; probe++) {
				struct seen *e = &table[(h + (uint64_t)probe) % TABLE];

				if (e->id && e->id != id)
					continue;
				if (e->id && m->seq < e->next_seq)
					bad_foreign++;
				e->id = id;
				e->next_seq = m->seq + 1;
				break;
			}
			if (!intact(m) && bad_foreign++ < 5)
				th_child_diag("victim message corrupt");
		}
		floe_sample_release(s);
	}
	th_check(bad_survivor == 0, "%" PRIu64 " survivor messages wrong",
		 bad_survivor);
	th_check(bad_foreign == 0, "%" PRIu64
		 " victim messages corrupt or out of order", bad_foreign);
	th_child_diag("survivor subscriber: %" PRIu64 " survivor and %" PRIu64
		      " victim messages", next, foreign);
	floe_subscriber_destroy(sub);
	th_send_u64(&from_ss, (uint64_t)th_child_failures);
	floe_service_close(svc);
	floe_node_destroy(node);
	return th_child_result();
}

int main(void)
{
	const char *domain = th_setup("storm");
	long storm = th_env_long("FLOE_STORM_N", 1000);
	/* Slow machines (an emulated VM) get a time budget rather than a
	 * timeout: the storm stops early, but only after a real number. */
	uint64_t budget_end = th_now_ns() +
		(uint64_t)th_env_long("FLOE_STORM_SECS", 60) * 1000000000ull;
	long min_storm = storm < 100 ? storm : 100;
	struct floe_service_opts o = { .type = msg_type };
	struct floe_pubsub_qos q;
	floe_node *node = NULL;
	floe_service *svc = NULL;
	uint64_t base = 0, sent = 0, fails = 0, v;
	long forked = 0, crashed = 0, gave_up = 0;
	pid_t sp, ss, victims[CONCURRENT];
	int r;

	tap_plan(12);
	floe_pubsub_qos_init(&q);
	q.max_publishers = MAX_PORTS;
	q.max_subscribers = MAX_PORTS;
	q.max_nodes = 4 * MAX_PORTS;
	q.subscriber_max_buffer_size = BUFFER;
	q.subscriber_max_borrowed_samples = BORROWS;
	q.enable_safe_overflow = false;
	o.qos = &q;
	r = floe_node_create("t_storm", NULL, &node);
	if (r == 0)
		r = floe_service_create(node, SERVICE, &o, &svc);
	tap_require(r == 0, "node and service (%s)", floe_strerror(r));
	tap_require(th_pipe_init(&to_sp) == 0 && th_pipe_init(&from_sp) == 0 &&
			    th_pipe_init(&to_ss) == 0 &&
			    th_pipe_init(&from_ss) == 0, "pipes");

	/* The subscriber first, so the publisher reaches it from seq 0. */
	ss = th_fork(survivor_subscriber, NULL);
	r = ss > 0 ? th_recv_u64(&from_ss, &v, 30000) : -1;
	sp = r == 0 ? th_fork(survivor_publisher, NULL) : -1;
	r = sp > 0 ? th_recv_u64(&from_sp, &base, 30000) : -1;
	tap_require(r == 0, "survivor pair up (pool: %" PRIu64 " loans)", base);

	for (long i = 0; i < storm; i += CONCURRENT) {
		int n = 0;

		if (th_now_ns() > budget_end && forked >= min_storm) {
			tap_diag("time budget spent after %ld victims", forked);
			break;
		}

		for (int k = 0; k < CONCURRENT && i + k < storm; k++) {
			victims[n] = th_fork(victim, NULL);
			if (victims[n] > 0)
				n++;
		}
		forked += n;
		th_sleep_us(th_rand_below(8000));
		for (int k = 0; k < n; k++) {
			int st;

			if (th_rand_below(2))
				th_sleep_us(th_rand_below(1000));
			st = th_kill(victims[k]);
			if (st == 2)
				gave_up++;
			else if (st != 128 + SIGKILL && crashed++ < 5)
				tap_diag("victim %d ended with status %d",
					 (int)victims[k], st);
		}
	}
	tap_ok(forked == storm || (forked >= min_storm &&
				   th_now_ns() > budget_end),
	       "%ld of %ld victims forked and SIGKILLed", forked, storm);
	tap_eq(crashed, 0, "no victim died of anything but SIGKILL");
	if (gave_up)
		tap_diag("%ld victims could not open the service", gave_up);

	th_send_u64(&to_sp, 1);
	r = th_recv_u64(&from_sp, &sent, 60000);
	tap_ok(r == 0 && sent > 0,
	       "survivor publisher kept sending (%" PRIu64 " messages)", sent);
	th_send_u64(&to_ss, sent);
	r = th_recv_u64(&from_ss, &fails, 100000);
	tap_ok(r == 0 && fails == 0,
	       "survivor subscriber got all of them, in order, intact");
	th_send_u64(&to_sp, 1);
	r = th_recv_u64(&from_sp, &fails, 60000);
	tap_ok(r == 0 && fails == 0,
	       "survivor publisher never starved; pool whole again");
	tap_eq(th_wait(ss, 30000), 0, "survivor subscriber passed");
	tap_eq(th_wait(sp, 30000), 0, "survivor publisher passed");

	r = floe_node_cleanup_dead(node);
	tap_ok(r >= 0, "cleanup_dead (%d)", r);
	floe_service_close(svc);
	floe_node_destroy(node);
	th_pipe_close(&to_sp);
	th_pipe_close(&from_sp);
	th_pipe_close(&to_ss);
	th_pipe_close(&from_ss);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
