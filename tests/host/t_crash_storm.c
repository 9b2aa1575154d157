// SPDX-License-Identifier: MIT
/*
 * Crash storm across patterns: FLOE_STORM_N (default 1000, at most
 * FLOE_STORM_SECS, default 60, seconds of them) short-lived processes, each
 * a publisher, subscriber, notifier, listener, request-response client or
 * server, blackboard writer or reader (one entry of `roles` below: adding
 * a pattern's ports is adding entries), are SIGKILLed at random moments,
 * in setup too, while survivors keep talking: one process publishes
 * checked messages (blocking, no safe overflow) and notifies an event per
 * message, another sleeps on a listener and receives them; a client sends
 * one request at a time to every server, victims included, and a server
 * (blocking) answers each with a checked stream; this process reads the
 * blackboard the victim writers take turns writing. Victims check what
 * they receive or read and exit (not die of SIGKILL) on a bad value.
 * Afterwards: every survivor message arrived once, in order, intact, and
 * so did every survivor response stream; no victim died of anything but
 * SIGKILL; every blackboard value read was whole and no older than the one
 * before; the survivor publisher's and server's pools are whole again; a
 * new writer attaches (the dead ones' slot is reclaimed) and is read; and
 * no shared object is left once everything is closed.
 */
#include "rr_helpers.h"
#include "engine/engine.h" /* pool accessors: leak checks below the loan limit */

#define SERVICE "t/crash"
#define CONCURRENT 4 /* victims alive at a time */
#define MAX_PORTS 16
#define BUFFER 8
#define WORDS 6
#define RESPONSES 3 /* a request asks for 1..RESPONSES, below the buffer */
#define ACTIVE 4    /* a client's active requests (the QoS default) */
#define BB_NAME "t/crash/bb" /* its event service must not be SERVICE */
#define BB_COPY_KEY 1 /* written by copy */
#define BB_LOAN_KEY 2 /* written in place, through a loan */
#define BB_WORDS 32

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

/* A blackboard value: whole only if every word fits the sequence. */
struct bb_value {
	uint64_t seq;
	uint64_t words[BB_WORDS]; /* th_pattern(seq, key * BB_WORDS + i) */
};

static struct bb_value bb_initial[2]; /* sequence 0, filled by main */

static const struct floe_blackboard_entry bb_entries[2] = {
	{ .key = BB_COPY_KEY, .type_name = "t_crash.Value",
	  .size = sizeof(struct bb_value), .align = _Alignof(struct bb_value),
	  .initial = &bb_initial[0] },
	{ .key = BB_LOAN_KEY, .type_name = "t_crash.Value",
	  .size = sizeof(struct bb_value), .align = _Alignof(struct bb_value),
	  .initial = &bb_initial[1] },
};

static const struct floe_blackboard_opts bb_opts = {
	.entries = bb_entries,
	.num_entries = 2,
};

static struct th_pipe to_pub, from_pub, to_sub, from_sub;
static struct th_pipe to_client, from_client, to_server, from_server;

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

static floe_service *open_rr(floe_node *node)
{
	floe_service *svc = NULL;

	return rr_open_retry(node, SERVICE, &svc, 10000) ? NULL : svc;
}

static floe_blackboard *open_blackboard(floe_node *node)
{
	floe_blackboard *bb = NULL;

	for (int i = 0; i < 1000; i++) {
		if (!floe_blackboard_open(node, BB_NAME, &bb_opts, &bb))
			return bb;
		th_sleep_ms(10);
	}
	return NULL;
}

static void bb_fill(struct bb_value *v, uint64_t key, uint64_t seq)
{
	v->seq = seq;
	for (uint64_t i = 0; i < BB_WORDS; i++)
		v->words[i] = th_pattern(seq, key * BB_WORDS + i);
}

static int bb_intact(const struct bb_value *v, uint64_t key)
{
	for (uint64_t i = 0; i < BB_WORDS; i++)
		if (v->words[i] != th_pattern(v->seq, key * BB_WORDS + i))
			return 0;
	return 1;
}

/*
 * Read every entry: 1 if each value is whole and its generation no older
 * than the one @gen (by entry) holds from the read before, else 0 (said
 * why). Dead writers must leave the last published values readable.
 */
static int bb_read_ok(floe_reader *reader, uint64_t gen[2])
{
	for (int i = 0; i < 2; i++) {
		uint64_t key = bb_entries[i].key, g = 0;
		struct bb_value v;
		int r = floe_reader_read(reader, key, &v, sizeof(v), &g);

		if (!th_check(r == 0, "read key %" PRIu64 ": %s", key,
			      floe_strerror(r)) ||
		    !th_check(bb_intact(&v, key) && g >= gen[i],
			      "key %" PRIu64 ": %s value %" PRIx64
			      ", generation %" PRIu64 " after %" PRIu64,
			      key, bb_intact(&v, key) ? "whole" : "torn",
			      v.seq, g, gen[i]))
			return 0;
		gen[i] = g;
	}
	return 1;
}

/* ---- victims: each runs until killed (or returns on a bad value) --- */

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

/* Keeps up to ACTIVE requests open, receives from them in any order,
 * sometimes gives one up before its end or holds a response. */
static void victim_client(floe_node *node)
{
	floe_service *svc = open_rr(node);
	floe_pending_response *pending[ACTIVE] = { NULL };
	uint64_t seq[ACTIVE], asked[ACTIVE], next = 0;
	uint64_t me = (uint64_t)getpid();
	const floe_response *held = NULL;
	floe_client *client;

	while (!svc || floe_client_create(svc, NULL, &client))
		th_sleep_us(200);
	for (;;) {
		int k = (int)th_rand_below(ACTIVE), r;
		const floe_response *resp;
		const struct rr_resp *m;
		struct rr_req req;

		if (!pending[k]) {
			seq[k] = next++;
			asked[k] = 1 + th_rand_below(RESPONSES);
			rr_fill_req(&req, me, seq[k], asked[k]);
			/* the active limit while given-up streams run on */
			if (floe_client_send_copy(client, &req, sizeof(req),
						  &pending[k]) < 0)
				pending[k] = NULL;
		} else if ((r = floe_pending_response_receive(pending[k],
							      &resp)) == 1) {
			m = floe_response_payload(resp);
			if (!th_check(m->index < asked[k] &&
				      rr_resp_ok(m, me, seq[k], m->index),
				      "response %" PRIu64 " to request %" PRIu64
				      " of %" PRIu64 ": wrong or corrupt",
				      m->index, seq[k], asked[k]))
				return;
			floe_response_release(held);
			held = th_rand_below(4) ? NULL : resp;
			if (!held)
				floe_response_release(resp);
		} else if (!th_check(r >= 0 || r == FLOE_E_END_OF_STREAM ||
				     r == FLOE_E_DEAD, "receive: %s",
				     floe_strerror(r))) {
			return;
		} else if (r < 0 || !th_rand_below(16)) {
			/* ended, or given up: servers see it disconnected */
			floe_pending_response_drop(pending[k]);
			pending[k] = NULL;
		}
		sched_yield();
	}
}

/* Answers every request, blocking or not, sometimes keeping a stream
 * open until the next request comes. */
static void victim_server(floe_node *node)
{
	struct floe_server_opts so = {
		.backpressure = th_rand_below(2) ? FLOE_DELIVER_BLOCK
						 : FLOE_DELIVER_DISCARD,
	};
	floe_service *svc = open_rr(node);
	floe_active_request *request, *held = NULL;
	floe_server *server;

	while (!svc || floe_server_create(svc, &so, &server))
		th_sleep_us(200);
	for (;;) {
		if (floe_server_receive(server, &request) == 1) {
			/* loans may fail while dead clients hold chunks, a
			 * request's content never */
			if (!th_check(rr_answer(request) != FLOE_E_CORRUPT,
				      "corrupt request from client %" PRIu64,
				      floe_active_request_client_id(request)))
				return;
			floe_active_request_drop(held);
			held = th_rand_below(4) ? NULL : request;
			if (!held)
				floe_active_request_drop(request);
		}
		sched_yield();
	}
}

/* Writes both entries flat out, one by copy, one in place. */
static void victim_writer(floe_node *node)
{
	floe_blackboard *bb = open_blackboard(node);
	uint64_t seq = (uint64_t)getpid() << 32;
	floe_writer *writer;
	struct bb_value v;

	/* one writer at a time: wait until the live one is killed */
	while (!bb || floe_writer_create(bb, &writer))
		th_sleep_us(200);
	for (;;) {
		void *slot;
		int r;

		bb_fill(&v, BB_COPY_KEY, ++seq);
		r = floe_writer_write(writer, BB_COPY_KEY, &v, sizeof(v));
		if (!r)
			r = floe_writer_loan(writer, BB_LOAN_KEY, &slot);
		if (!r) {
			bb_fill(slot, BB_LOAN_KEY, seq);
			r = floe_writer_publish(writer, BB_LOAN_KEY);
		}
		if (!th_check(r == 0, "write: %s", floe_strerror(r)))
			return;
		sched_yield();
	}
}

/* Reads both entries, sometimes after sleeping until one is written. */
static void victim_reader(floe_node *node)
{
	floe_blackboard *bb = open_blackboard(node);
	uint64_t gen[2] = { 0, 0 };
	floe_reader *reader;

	while (!bb || floe_reader_create(bb, &reader))
		th_sleep_us(200);
	for (;;) {
		if (!th_rand_below(4))
			floe_reader_wait(reader, 1000000, NULL, NULL);
		if (!bb_read_ok(reader, gen))
			return;
		sched_yield();
	}
}

static void (*const roles[])(floe_node *node) = {
	victim_publisher, victim_subscriber, victim_notifier, victim_listener,
	victim_client, victim_server, victim_writer, victim_reader,
};

static int victim(void *arg)
{
	floe_node *node = th_node("victim");

	(void)arg;
	if (!node)
		return 2;
	roles[th_rand_below(sizeof(roles) / sizeof(roles[0]))](node);
	return th_child_result(); /* a role returns on a failed check only */
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
		    floe_sender_free_chunks(floe_publisher_sender(pub)) ==
			    floe_sender_chunk_count(floe_publisher_sender(pub)))
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

/*
 * One request at a time, reaching the survivor server and whichever victim
 * servers are connected: the survivor's stream must arrive whole and in
 * order, ended or lost (FLOE_E_DEAD) only as a whole, whatever the
 * victims do; what victims send is checked too.
 */
static int survivor_client(void *arg)
{
	const uint64_t *server_id = arg;
	floe_node *node = th_node("survivor client");
	floe_service *svc = NULL;
	floe_client *client = NULL;
	uint64_t seq = 0, foreign = 0, lost = 0, v;
	int r;

	if (!node || !(svc = open_rr(node)))
		return 1;
	r = floe_client_create(svc, NULL, &client);
	if (!th_check(r == 0, "client: %s", floe_strerror(r)))
		return 1;
	th_send_u64(&from_client, 0); /* ready */

	while (!th_pending(&to_client)) {
		uint64_t asked = 1 + seq % RESPONSES, mine = 0, bad = 0;
		floe_pending_response *pending;
		const floe_response *resp;
		struct rr_req req;

		rr_fill_req(&req, 0, seq, asked);
		r = floe_client_send_copy(client, &req, sizeof(req), &pending);
		if (!th_check(r >= 1, "request %" PRIu64 " reached %d", seq, r))
			break;
		while ((r = rr_receive(pending, &resp, 10000)) == 1) {
			const struct rr_resp *m = floe_response_payload(resp);

			if (floe_response_server_id(resp) == *server_id) {
				bad += !rr_resp_ok(m, 0, seq, mine++);
			} else {
				foreign++;
				bad += m->index >= asked ||
				       !rr_resp_ok(m, 0, seq, m->index);
			}
			floe_response_release(resp);
		}
		lost += r == FLOE_E_DEAD;
		th_check(r == FLOE_E_END_OF_STREAM || r == FLOE_E_DEAD,
			 "request %" PRIu64 ": %s", seq,
			 r ? floe_strerror(r) : "no end in 10 s");
		th_check(mine == asked && bad == 0,
			 "request %" PRIu64 ": %" PRIu64 " of %" PRIu64
			 " responses, %" PRIu64 " wrong or corrupt",
			 seq, mine, asked, bad);
		floe_pending_response_drop(pending);
		if (th_child_failures)
			break;
		seq++;
	}
	th_child_diag("survivor client: %" PRIu64 " requests, %" PRIu64
		      " responses of victims, %" PRIu64
		      " streams cut by a victim's death", seq, foreign, lost);
	th_recv_u64(&to_client, &v, 100000); /* "stop" */
	th_send_u64(&from_client, seq);
	th_send_u64(&from_client, (uint64_t)th_child_failures);
	floe_client_destroy(client);
	floe_service_close(svc);
	floe_node_destroy(node);
	return th_child_result();
}

/* Answers every request, the victims' too, blocking while a client's
 * buffer is full (until it makes room or dies). */
static int survivor_server(void *arg)
{
	struct floe_server_opts so = { .backpressure = FLOE_DELIVER_BLOCK };
	floe_node *node = th_node("survivor server");
	floe_service *svc = NULL;
	floe_server *server = NULL;
	struct floe_sender *pool;
	uint64_t answered = 0, foreign = 0, v;
	int r;

	(void)arg;
	if (!node || !(svc = open_rr(node)))
		return 1;
	r = floe_server_create(svc, &so, &server);
	if (!th_check(r == 0, "server: %s", floe_strerror(r)))
		return 1;
	pool = floe_server_sender(server);
	th_send_u64(&from_server, floe_server_id(server)); /* ready */

	while (!th_pending(&to_server)) {
		floe_active_request *request;

		r = floe_server_receive(server, &request);
		if (r == 0) {
			th_sleep_us(50); /* leave CPU to the storm */
			continue;
		}
		if (!th_check(r == 1, "receive: %s", floe_strerror(r)))
			break;
		foreign += ((const struct rr_req *)floe_active_request_payload(
				    request))->client != 0;
		r = rr_answer(request);
		floe_active_request_drop(request);
		if (!th_check(r == 0, "answer %" PRIu64 ": %s", answered,
			      floe_strerror(r)))
			break;
		answered++;
	}
	th_recv_u64(&to_server, &v, 100000); /* "stop": the client is done */

	/* every client is dead or done: the whole pool must come back */
	for (uint64_t deadline = th_now_ns() + 2000000000ull;
	     floe_sender_free_chunks(pool) !=
		     floe_sender_chunk_count(pool) &&
	     th_now_ns() < deadline;
	     th_sleep_ms(1))
		floe_server_update_connections(server);
	th_check(floe_sender_free_chunks(pool) ==
			 floe_sender_chunk_count(pool),
		 "server pool after the storm: %u of %u chunks free",
		 floe_sender_free_chunks(pool),
		 floe_sender_chunk_count(pool));
	th_child_diag("survivor server: %" PRIu64 " requests (%" PRIu64
		      " of victims)", answered, foreign);
	th_send_u64(&from_server, answered);
	th_send_u64(&from_server, (uint64_t)th_child_failures);
	floe_server_destroy(server);
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
	struct floe_rr_qos rq;
	struct floe_rr_opts ro = rr_opts(&rq);
	struct floe_blackboard_qos bq;
	struct floe_blackboard_opts bo = bb_opts;
	floe_node *node = NULL;
	floe_service *svc = NULL, *ev = NULL, *rr = NULL;
	floe_blackboard *bb = NULL;
	floe_reader *reader = NULL;
	floe_writer *writer = NULL;
	struct bb_value last;
	uint64_t base = 0, sent = 0, fails = 0, v, server_id = 0;
	uint64_t requests = 0, answered = 0, gen[2] = { 0, 0 };
	long forked = 0, crashed = 0, reads = 0, bad_reads = 0;
	pid_t sp, ss, sc, sv, victims[CONCURRENT];
	int r;

	tap_plan(19);
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
	floe_rr_qos_init(&rq);
	rq.max_clients = MAX_PORTS;
	rq.max_servers = MAX_PORTS;
	rq.max_nodes = 4 * MAX_PORTS;
	floe_blackboard_qos_init(&bq);
	bq.max_readers = MAX_PORTS;
	bq.max_nodes = 4 * MAX_PORTS;
	bo.qos = &bq;
	for (int i = 0; i < 2; i++)
		bb_fill(&bb_initial[i], bb_entries[i].key, 0);
	r = floe_node_create("t_crash", NULL, &node);
	if (r == 0)
		r = floe_service_create(node, SERVICE, &o, &svc);
	if (r == 0)
		r = floe_event_create(node, SERVICE, &eo, &ev);
	if (r == 0)
		r = floe_rr_create(node, SERVICE, &ro, &rr);
	if (r == 0)
		r = floe_blackboard_create(node, BB_NAME, &bo, &bb);
	if (r == 0)
		r = floe_reader_create(bb, &reader);
	tap_require(r == 0, "node, pub-sub, event, request-response services, "
			    "blackboard and its reader (%s)", floe_strerror(r));
	tap_require(th_pipe_init(&to_pub) == 0 && th_pipe_init(&from_pub) == 0 &&
			    th_pipe_init(&to_sub) == 0 &&
			    th_pipe_init(&from_sub) == 0 &&
			    th_pipe_init(&to_client) == 0 &&
			    th_pipe_init(&from_client) == 0 &&
			    th_pipe_init(&to_server) == 0 &&
			    th_pipe_init(&from_server) == 0, "pipes");

	/* the subscriber first, so the publisher reaches it from seq 0 */
	ss = th_fork(survivor_subscriber, NULL);
	r = ss > 0 ? th_recv_u64(&from_sub, &v, 30000) : -1;
	sp = r == 0 ? th_fork(survivor_publisher, NULL) : -1;
	r = sp > 0 ? th_recv_u64(&from_pub, &base, 30000) : -1;
	tap_require(r == 0, "survivor pair up (pool: %" PRIu64 " loans)", base);
	sv = th_fork(survivor_server, NULL);
	r = sv > 0 ? th_recv_u64(&from_server, &server_id, 30000) : -1;
	sc = r == 0 ? th_fork(survivor_client, &server_id) : -1;
	r = sc > 0 ? th_recv_u64(&from_client, &v, 30000) : -1;
	tap_require(r == 0, "survivor client and server up");

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
		reads++;
		bad_reads += !bb_read_ok(reader, gen);
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

	th_send_u64(&to_client, 1);
	r = th_recv_u64(&from_client, &requests, 60000);
	if (r == 0)
		r = th_recv_u64(&from_client, &fails, 60000);
	tap_ok(r == 0 && requests > 0 && fails == 0,
	       "survivor client got the survivor server's whole stream, in "
	       "order, intact, for each of %" PRIu64 " requests", requests);
	th_send_u64(&to_server, 1);
	r = th_recv_u64(&from_server, &answered, 60000);
	if (r == 0)
		r = th_recv_u64(&from_server, &fails, 60000);
	tap_ok(r == 0 && answered >= requests && fails == 0,
	       "survivor server answered them (%" PRIu64 " requests in all), "
	       "its pool whole again", answered);
	tap_eq(th_wait(sc, 30000), 0, "survivor client passed");
	tap_eq(th_wait(sv, 30000), 0, "survivor server passed");

	tap_ok(bad_reads == 0, "blackboard read %ld times during the storm: "
			       "every value whole, none older than the last "
			       "(generations %" PRIu64 ", %" PRIu64 ")",
	       reads, gen[0], gen[1]);
	/* every writer is dead: their slot must be free for a new one */
	r = floe_writer_create(bb, &writer);
	if (r == 0) {
		bb_fill(&last, BB_COPY_KEY, 1);
		r = floe_writer_write(writer, BB_COPY_KEY, &last, sizeof(last));
	}
	if (r == 0)
		r = floe_reader_read(reader, BB_COPY_KEY, &last, sizeof(last),
				     &v);
	tap_ok(r == 0 && last.seq == 1 && bb_intact(&last, BB_COPY_KEY) &&
		       v == gen[0] + 1,
	       "a new writer attaches after the storm and is read (%s)",
	       floe_strerror(r));

	r = floe_node_cleanup_dead(node);
	tap_ok(r >= 0, "cleanup_dead (%d)", r);
	floe_writer_destroy(writer);
	floe_reader_destroy(reader);
	floe_blackboard_close(bb);
	floe_service_close(rr);
	floe_service_close(ev);
	floe_service_close(svc);
	floe_node_destroy(node);
	th_pipe_close(&to_pub);
	th_pipe_close(&from_pub);
	th_pipe_close(&to_sub);
	th_pipe_close(&from_sub);
	th_pipe_close(&to_client);
	th_pipe_close(&from_client);
	th_pipe_close(&to_server);
	th_pipe_close(&from_server);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
