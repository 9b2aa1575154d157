// SPDX-License-Identifier: MIT
/*
 * Crash storm across patterns: FLOE_STORM_N (default 1000, at most
 * FLOE_STORM_SECS, default 60, seconds of them) short-lived processes, each
 * a publisher, subscriber, notifier or listener (one entry of `roles`
 * below: adding a pattern's ports is adding entries), are SIGKILLed at
 * random moments while a surviving pair keeps talking: one process
 * publishes checked messages (blocking, no safe overflow) and notifies an
 * event per message, the other sleeps on a listener and receives them.
 * Afterwards: every survivor message arrived once, in order, intact; no
 * victim died of anything but SIGKILL; the survivor publisher's pool is
 * whole again; and no shared object is left once everything is closed.
 */
#include "helpers.h"
#include "internal.h" /* pool accessors: leak checks below the loan limit */

#define SERVICE "t/crash"
#define CONCURRENT 4 /* victims alive at a time */
#define MAX_PORTS 16
#define BUFFER 8
#define WORDS 6

struct crash_msg {
	uint64_t tag; /* 0: the survivor's; else the victim's pid */
	uint64_t seq;
	uint64_t words[WORDS]; /* th_pattern(seq, i) */
};

static const struct floe_type msg_type = {
	.name = "t_crash.Msg",
	.size = sizeof(struct crash_msg),
	.align = _Alignof(struct crash_msg),
};

static struct th_pipe to_pub, from_pub, to_sub, from_sub;

static int intact(const struct crash_msg *m)
{
	for (int i = 0; i < WORDS; i++)
		if (m->words[i] != th_pattern(m->seq, (uint64_t)i))
			return 0;
	return 1;
}

static floe_service *open_pubsub(floe_node *node)
{
	struct floe_service_opts o = { .type = msg_type };
	floe_service *svc = NULL;

	return th_service_open_retry(node, SERVICE, &o, &svc, 10000) ? NULL
								      : svc;
}

static floe_service *open_event(floe_node *node)
{
	floe_service *svc = NULL;

	for (int i = 0; i < 1000; i++) {
		if (!floe_event_open(node, SERVICE, NULL, &svc))
			return svc;
		th_sleep_ms(10);
	}
	return NULL;
}

/* ---- victims: each runs until killed ------------------------------- */

static void victim_publisher(floe_node *node)
{
	floe_service *svc = open_pubsub(node);
	struct floe_publisher_opts po;
	floe_publisher *pub;
	struct crash_msg m = { .tag = (uint64_t)getpid() };

	floe_publisher_opts_init(&po);
	po.unable_to_deliver = FLOE_DELIVER_DISCARD;
	/* slots of the dead may not be reclaimed yet: retry */
	while (!svc || floe_publisher_create(svc, &po, &pub))
		th_sleep_us(200);
	for (;;) {
		m.seq++;
		floe_publisher_send_copy(pub, &m, sizeof(m));
		sched_yield();
	}
}

static void victim_subscriber(floe_node *node)
{
	floe_service *svc = open_pubsub(node);
	floe_subscriber *sub;

	while (!svc || floe_subscriber_create(svc, NULL, &sub))
		th_sleep_us(200);
	for (;;) {
		const floe_sample *s;

		/* sometimes hold a sample across the next receive */
		if (floe_subscriber_receive(sub, &s) == 1 && th_rand_below(4))
			floe_sample_release(s);
		sched_yield();
	}
}

static void victim_notifier(floe_node *node)
{
	floe_service *svc = open_event(node);
	floe_notifier *notifier;

	while (!svc || floe_notifier_create(svc, &notifier))
		th_sleep_us(200);
	for (;;) {
		floe_notifier_notify(notifier, 1 + th_rand_below(64));
		sched_yield();
	}
}

static void victim_listener(floe_node *node)
{
	floe_service *svc = open_event(node);
	floe_listener *listener;

	while (!svc || floe_listener_create(svc, &listener))
		th_sleep_us(200);
	for (;;)
		floe_listener_timed_wait(listener, 1000000, NULL, NULL);
}

static void (*const roles[])(floe_node *node) = {
	victim_publisher, victim_subscriber, victim_notifier, victim_listener,
};

static int victim(void *arg)
{
	floe_node *node = th_node("victim");

	(void)arg;
	if (!node)
		return 2;
	roles[th_rand_below(sizeof(roles) / sizeof(roles[0]))](node);
	return 3; /* not reached */
}

/* ---- the survivors ------------------------------------------------- */

static int survivor_publisher(void *arg)
{
	struct floe_publisher_opts po;
	floe_node *node = th_node("survivor pub");
	floe_service *svc = NULL, *ev = NULL;
	floe_publisher *pub = NULL;
	floe_notifier *notifier = NULL;
	uint64_t seq = 0, v;
	int base, base_err, got = 0, got_err = 0, r;

	(void)arg;
	if (!node || !(svc = open_pubsub(node)) || !(ev = open_event(node)))
		return 1;
	floe_publisher_opts_init(&po);
	po.unable_to_deliver = FLOE_DELIVER_BLOCK;
	r = floe_publisher_create(svc, &po, &pub);
	if (!th_check(r == 0, "publisher: %s", floe_strerror(r)) ||
	    !th_check(floe_notifier_create(ev, &notifier) == 0, "notifier"))
		return 1;
	base = th_loan_all(pub, &base_err);
	th_send_u64(&from_pub, (uint64_t)base); /* ready */

	while (!th_pending(&to_pub)) {
		uint64_t deadline = th_now_ns() + 2000000000ull;
		floe_sample_mut *s;
		struct crash_msg *m;

		/* dead subscribers' chunks come back after a moment */
		while ((r = floe_publisher_loan(pub, 1, &s)) ==
			       FLOE_E_POOL_EMPTY &&
		       th_now_ns() < deadline) {
			floe_publisher_update_connections(pub);
			th_sleep_us(100);
		}
		if (!th_check(r == 0, "loan %" PRIu64 ": %s", seq,
			      floe_strerror(r)))
			break;
		m = floe_sample_mut_payload(s);
		m->tag = 0;
		m->seq = seq;
		for (int i = 0; i < WORDS; i++)
			m->words[i] = th_pattern(seq, (uint64_t)i);
		r = floe_sample_mut_send(s);
		if (!th_check(r >= 1, "send %" PRIu64 " reached %d", seq, r))
			break;
		r = floe_notifier_notify(notifier, 0);
		if (!th_check(r >= 1, "notify %" PRIu64 ": %d", seq, r))
			break;
		if ((++seq & 255) == 0)
			th_sleep_us(100); /* leave CPU to the storm */
	}
	th_recv_u64(&to_pub, &v, 1000);	      /* "stop" */
	th_send_u64(&from_pub, seq);	      /* how many were sent */
	th_recv_u64(&to_pub, &v, 100000);     /* the subscriber is done */

	/* every victim is dead: the whole pool must come back */
	for (uint64_t deadline = th_now_ns() + 2000000000ull;
	     th_now_ns() < deadline; th_sleep_ms(1)) {
		floe_publisher_update_connections(pub);
		got = th_loan_all(pub, &got_err);
		if (got == base && got_err == base_err &&
		    floe_publisher_free_chunks(pub) ==
			    floe_publisher_chunk_count(pub))
			break;
	}
	th_check(got == base && got_err == base_err,
		 "pool after the storm: %d loans, before: %d", got, base);
	th_send_u64(&from_pub, (uint64_t)th_child_failures);
	floe_notifier_destroy(notifier);
	floe_publisher_destroy(pub);
	floe_service_close(ev);
	floe_service_close(svc);
	floe_node_destroy(node);
	return th_child_result();
}

static int survivor_subscriber(void *arg)
{
	floe_node *node = th_node("survivor sub");
	floe_service *svc = NULL, *ev = NULL;
	floe_subscriber *sub = NULL;
	floe_listener *listener = NULL;
	uint64_t expected = UINT64_MAX, next = 0, bad = 0, wakeups = 0;
	uint64_t foreign = 0;
	int r;

	(void)arg;
	if (!node || !(svc = open_pubsub(node)) || !(ev = open_event(node)))
		return 1;
	if (!th_check(floe_subscriber_create(svc, NULL, &sub) == 0,
		      "subscriber") ||
	    !th_check(floe_listener_create(ev, &listener) == 0, "listener"))
		return 1;
	th_send_u64(&from_sub, 0); /* ready */

	while (next < expected) {
		const floe_sample *s;
		const struct crash_msg *m;

		r = floe_subscriber_receive(sub, &s);
		if (r == 0) {
			if (expected == UINT64_MAX && th_pending(&to_sub))
				th_recv_u64(&to_sub, &expected, 1000);
			/* sleep until notified; the timeout only bounds a
			 * wait for a message that is already there */
			wakeups += floe_listener_timed_wait(listener, 20000000,
							    NULL, NULL) > 0;
			continue;
		}
		if (!th_check(r == 1, "receive: %s", floe_strerror(r)))
			break;
		m = floe_sample_payload(s);
		if (m->tag) {
			foreign++; /* a victim's */
			floe_sample_release(s);
			continue;
		}
		if ((m->seq != next || !intact(m)) && bad++ < 5)
			th_child_diag("message %" PRIu64 ": got seq %" PRIu64
				      " (%s)", next, m->seq,
				      intact(m) ? "intact" : "corrupt");
		next = m->seq + 1;
		floe_sample_release(s);
	}
	th_check(bad == 0, "%" PRIu64 " survivor messages wrong", bad);
	th_child_diag("survivor subscriber: %" PRIu64 " messages (and %" PRIu64
		      " of victims), %" PRIu64 " wake-ups", next, foreign,
		      wakeups);
	floe_listener_destroy(listener);
	floe_subscriber_destroy(sub);
	th_send_u64(&from_sub, (uint64_t)th_child_failures);
	floe_service_close(ev);
	floe_service_close(svc);
	floe_node_destroy(node);
	return th_child_result();
}

int main(void)
{
	const char *domain = th_setup("crash");
	long storm = th_env_long("FLOE_STORM_N", 1000);
	uint64_t budget_end = th_now_ns() +
		(uint64_t)th_env_long("FLOE_STORM_SECS", 60) * 1000000000ull;
	long min_storm = storm < 100 ? storm : 100;
	struct floe_service_opts o = { .type = msg_type };
	struct floe_event_qos eq;
	struct floe_event_opts eo = { .qos = &eq };
	struct floe_pubsub_qos q;
	floe_node *node = NULL;
	floe_service *svc = NULL, *ev = NULL;
	uint64_t base = 0, sent = 0, fails = 0, v;
	long forked = 0, crashed = 0;
	pid_t sp, ss, victims[CONCURRENT];
	int r;

	tap_plan(12);
	floe_pubsub_qos_init(&q);
	q.max_publishers = MAX_PORTS;
	q.max_subscribers = MAX_PORTS;
	q.max_nodes = 4 * MAX_PORTS;
	q.subscriber_max_buffer_size = BUFFER;
	q.enable_safe_overflow = false;
	o.qos = &q;
	floe_event_qos_init(&eq);
	eq.max_notifiers = MAX_PORTS;
	eq.max_listeners = MAX_PORTS;
	eq.max_nodes = 4 * MAX_PORTS;
	r = floe_node_create("t_crash", NULL, &node);
	if (r == 0)
		r = floe_service_create(node, SERVICE, &o, &svc);
	if (r == 0)
		r = floe_event_create(node, SERVICE, &eo, &ev);
	tap_require(r == 0, "node, pub-sub and event services (%s)",
		    floe_strerror(r));
	tap_require(th_pipe_init(&to_pub) == 0 && th_pipe_init(&from_pub) == 0 &&
			    th_pipe_init(&to_sub) == 0 &&
			    th_pipe_init(&from_sub) == 0, "pipes");

	/* the subscriber first, so the publisher reaches it from seq 0 */
	ss = th_fork(survivor_subscriber, NULL);
	r = ss > 0 ? th_recv_u64(&from_sub, &v, 30000) : -1;
	sp = r == 0 ? th_fork(survivor_publisher, NULL) : -1;
	r = sp > 0 ? th_recv_u64(&from_pub, &base, 30000) : -1;
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
			if (st != 128 + SIGKILL && crashed++ < 5)
				tap_diag("victim %d ended with status %d",
					 (int)victims[k], st);
		}
	}
	tap_ok(forked == storm || (forked >= min_storm &&
				   th_now_ns() > budget_end),
	       "%ld of %ld victims forked and SIGKILLed", forked, storm);
	tap_eq(crashed, 0, "no victim died of anything but SIGKILL");

	th_send_u64(&to_pub, 1);
	r = th_recv_u64(&from_pub, &sent, 60000);
	tap_ok(r == 0 && sent > 0,
	       "survivor publisher kept sending (%" PRIu64 " messages)", sent);
	th_send_u64(&to_sub, sent);
	r = th_recv_u64(&from_sub, &fails, 100000);
	tap_ok(r == 0 && fails == 0,
	       "survivor subscriber got all of them, in order, intact");
	th_send_u64(&to_pub, 1);
	r = th_recv_u64(&from_pub, &fails, 60000);
	tap_ok(r == 0 && fails == 0, "survivor publisher's pool whole again");
	tap_eq(th_wait(ss, 30000), 0, "survivor subscriber passed");
	tap_eq(th_wait(sp, 30000), 0, "survivor publisher passed");

	r = floe_node_cleanup_dead(node);
	tap_ok(r >= 0, "cleanup_dead (%d)", r);
	floe_service_close(ev);
	floe_service_close(svc);
	floe_node_destroy(node);
	th_pipe_close(&to_pub);
	th_pipe_close(&from_pub);
	th_pipe_close(&to_sub);
	th_pipe_close(&from_sub);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
