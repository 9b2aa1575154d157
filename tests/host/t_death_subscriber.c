// SPDX-License-Identifier: MIT
/*
 * Subscriber death: a subscriber process is SIGKILLed while it holds
 * borrowed samples and its queue is full. After
 * floe_publisher_update_connections (retried for up to 2 s) the publisher
 * can loan exactly as many samples as with no subscriber at all: every
 * chunk came back. Then the same with kills at random moments (during
 * node/service/subscriber setup, while receiving, while the publisher
 * sends), FLOE_DEATH_ROUNDS times (default 200); a leak of even a few
 * chunks per death accumulates and shows. Finally the publisher still
 * serves a new subscriber and no shared object is left.
 */
#include "helpers.h"
#include "engine/engine.h" /* pool accessors: leak checks below the loan limit */

#define SERVICE "t/dsub"
#define BUFFER 4
#define BORROWS 2
#define RECOVERY_MS 2000

struct dsub_msg {
	uint64_t value;
	uint64_t check;
};

static const struct floe_type msg_type = {
	.name = "t_dsub.Msg",
	.size = sizeof(struct dsub_msg),
	.align = _Alignof(struct dsub_msg),
};

enum victim_mode {
	HOLD_AND_FULL,	/* hold BORROWS samples, queue full, then die */
	RANDOM,		/* receive and release until killed */
	CHECKED,	/* the final, surviving subscriber */
};

struct round {
	enum victim_mode mode;
	struct th_pipe to_child, to_parent;
};

static uint64_t next_value;

static int send_value(floe_publisher *pub)
{
	struct dsub_msg m = {
		.value = next_value,
		.check = th_pattern(13, next_value),
	};

	next_value++;
	return floe_publisher_send_copy(pub, &m, sizeof(m));
}

/* Loan until refused; returns how many, *err the refusal. */
/*
 * After a subscriber died: retry update_connections until the publisher
 * can loan its whole pool again (@want loans, refused with @want_err).
 */
static int pool_recovers(floe_publisher *pub, int want, int want_err,
			 int *got, int *got_err)
{
	uint64_t deadline = th_now_ns() + RECOVERY_MS * 1000000ull;

	for (;;) {
		floe_publisher_update_connections(pub);
		*got = th_loan_all(pub, got_err);
		if (*got == want && *got_err == want_err &&
		    floe_sender_free_chunks(floe_publisher_sender(pub)) ==
			    floe_sender_chunk_count(floe_publisher_sender(pub)))
			return 1;
		if (th_now_ns() > deadline)
			return 0;
		th_sleep_ms(1);
	}
}

static int victim(void *arg)
{
	struct round *rd = arg;
	struct floe_service_opts o = { .type = msg_type };
	const floe_sample *held[BORROWS], *s;
	floe_node *node = th_node("victim");
	floe_service *svc = NULL;
	floe_subscriber *sub = NULL;
	uint64_t deadline, v;
	int r, nheld = 0;

	if (!node)
		return 2;
	r = th_service_open_retry(node, SERVICE, &o, &svc, 10000);
	if (r)
		return 2;
	/* A dead predecessor's slot may take a moment to be reclaimed. */
	deadline = th_now_ns() + RECOVERY_MS * 1000000ull;
	while ((r = floe_subscriber_create(svc, NULL, &sub)) ==
		       FLOE_E_PORT_LIMIT && th_now_ns() < deadline)
		th_sleep_ms(1);
	if (!th_check(r == 0, "subscriber: %s", floe_strerror(r)))
		return 2;
	th_send_u64(&rd->to_parent, 0);		/* ready */

	switch (rd->mode) {
	case HOLD_AND_FULL:
		th_recv_u64(&rd->to_child, &v, 30000);
		for (int i = 0; i < BORROWS; i++) {
			if (th_receive(sub, &held[i], 5000) != 1)
				return 3;
		}
		th_send_u64(&rd->to_parent, 0);	/* holding */
		for (;;)
			pause();
	case RANDOM:
		for (;;) {
			r = floe_subscriber_receive(sub, &s);
			if (r == 1) {
				held[nheld++] = s;
				if (nheld == BORROWS ||
				    th_rand_below(2) == 0) {
					while (nheld)
						floe_sample_release(held[--nheld]);
				}
			} else {
				sched_yield();
			}
		}
	case CHECKED:
		th_recv_u64(&rd->to_child, &v, 30000);	/* v: first value */
		for (uint64_t i = 0; i < BUFFER - 1; i++) {
			const struct dsub_msg *m;

			r = th_receive(sub, &s, 5000);
			if (!th_check(r == 1, "sample %" PRIu64 " missing", i))
				break;
			m = floe_sample_payload(s);
			th_check(m->value == v + i &&
					 m->check == th_pattern(13, v + i),
				 "got %" PRIu64 ", want %" PRIu64, m->value,
				 v + i);
			floe_sample_release(s);
		}
		break;
	}
	floe_subscriber_destroy(sub);
	floe_service_close(svc);
	floe_node_destroy(node);
	return th_child_result();
}

static pid_t start_round(struct round *rd, enum victim_mode mode)
{
	rd->mode = mode;
	if (th_pipe_init(&rd->to_child) || th_pipe_init(&rd->to_parent))
		return -1;
	return th_fork(victim, rd);
}

static void end_round(struct round *rd)
{
	th_pipe_close(&rd->to_child);
	th_pipe_close(&rd->to_parent);
}

int main(void)
{
	const char *domain = th_setup("dsub");
	long rounds = th_env_long("FLOE_DEATH_ROUNDS", 200);
	struct floe_service_opts o = { .type = msg_type };
	struct floe_publisher_opts po;
	struct floe_pubsub_qos q;
	floe_node *node = NULL;
	floe_service *svc = NULL;
	floe_publisher *pub = NULL;
	int base, base_err, got = 0, got_err = 0, r;
	long leak_rounds = 0, setup_failures = 0, killed_in_setup = 0;
	struct round rd = { 0 };
	uint64_t v;
	pid_t pid;

	tap_plan(13);
	tap_require(floe_node_create("t_dsub", NULL, &node) == 0, "node");
	floe_pubsub_qos_init(&q);
	q.max_publishers = 1;
	q.max_subscribers = 2;
	q.subscriber_max_buffer_size = BUFFER;
	q.subscriber_max_borrowed_samples = BORROWS;
	q.enable_safe_overflow = true;
	o.qos = &q;
	floe_publisher_opts_init(&po);
	po.unable_to_deliver = FLOE_DELIVER_DISCARD;
	r = floe_service_create(node, SERVICE, &o, &svc);
	if (r == 0)
		r = floe_publisher_create(svc, &po, &pub);
	tap_require(r == 0, "service and publisher (%s)", floe_strerror(r));

	/* What the publisher can loan with nobody subscribed. */
	base = th_loan_all(pub, &base_err);
	tap_ok(base >= 1 && (base_err == FLOE_E_LOAN_LIMIT ||
			     base_err == FLOE_E_POOL_EMPTY),
	       "baseline: %d loans, then %s", base, floe_strerror(base_err));

	/* Deterministic: holding BORROWS, queue full, killed. */
	pid = start_round(&rd, HOLD_AND_FULL);
	tap_require(pid > 0 && th_recv_u64(&rd.to_parent, &v, 30000) == 0,
		    "subscriber process ready");
	for (int i = 0; i < BORROWS; i++)
		send_value(pub);
	th_send_u64(&rd.to_child, 1);
	r = th_recv_u64(&rd.to_parent, &v, 30000);
	for (int i = 0; i < 2 * BUFFER; i++)	/* full, and overflowing */
		send_value(pub);
	tap_ok(r == 0, "subscriber holds %d samples, its queue is full",
	       BORROWS);
	th_kill(pid);
	end_round(&rd);
	r = pool_recovers(pub, base, base_err, &got, &got_err);
	tap_ok(r, "after its death the publisher loans its whole pool again "
	       "(%d, %s)", got, floe_strerror(got_err));

	/* Random moments. */
	for (long i = 0; i < rounds; i++) {
		int deterministic = i % 8 == 0, not_ready = 0, status;

		pid = start_round(&rd, deterministic ? HOLD_AND_FULL : RANDOM);
		if (pid < 0) {
			setup_failures++;
			break;
		}
		if (!deterministic && th_rand_below(3) == 0) {
			/* Die somewhere inside node/service/port setup. */
			th_sleep_us(th_rand_below(3000));
			killed_in_setup++;
		} else if (th_recv_u64(&rd.to_parent, &v, 10000) < 0) {
			not_ready = 1;
		} else if (deterministic) {
			for (int k = 0; k < BORROWS; k++)
				send_value(pub);
			th_send_u64(&rd.to_child, 1);
			th_recv_u64(&rd.to_parent, &v, 10000);
			for (int k = 0; k < 2 * BUFFER; k++)
				send_value(pub);
		} else {
			int n = (int)th_rand_below(40);

			for (int k = 0; k < n; k++) {
				send_value(pub);
				if (th_rand_below(4) == 0)
					th_sleep_us(th_rand_below(200));
			}
		}
		status = th_kill(pid);
		end_round(&rd);
		if (not_ready && setup_failures++ < 5)
			tap_diag("round %ld: subscriber never became ready "
				 "(exit status %d)", i, status);
		if (!pool_recovers(pub, base, base_err, &got, &got_err) &&
		    leak_rounds++ < 5)
			tap_diag("round %ld: only %d loans (%s) after the death",
				 i, got, floe_strerror(got_err));
	}
	tap_diag("%ld rounds, %ld killed during setup", rounds,
		 killed_in_setup);
	tap_eq(leak_rounds, 0, "every death: whole pool back within %d ms",
	       RECOVERY_MS);
	tap_eq(setup_failures, 0,
	       "every new subscriber could be created after the deaths");

	/* The publisher still serves a subscriber. */
	floe_publisher_update_connections(pub);
	pid = start_round(&rd, CHECKED);
	tap_require(pid > 0 && th_recv_u64(&rd.to_parent, &v, 30000) == 0,
		    "surviving subscriber ready");
	v = next_value;
	r = 0;
	for (int i = 0; i < BUFFER - 1; i++)
		r += send_value(pub) == 1;
	tap_eq(r, BUFFER - 1, "sends reach the new subscriber");
	th_send_u64(&rd.to_child, v);
	tap_eq(th_wait(pid, 30000), 0, "new subscriber gets intact samples");
	end_round(&rd);

	r = floe_node_cleanup_dead(node);
	tap_ok(r >= 0, "cleanup_dead (%d)", r);
	floe_publisher_destroy(pub);
	floe_service_close(svc);
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
