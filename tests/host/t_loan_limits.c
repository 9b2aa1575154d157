// SPDX-License-Identifier: MIT
/*
 * Loan and borrow limits: publisher_max_loaned_samples is enforced
 * (FLOE_E_LOAN_LIMIT) and both send and discard end a loan; a new
 * publisher has the whole allowance again; subscriber_max_borrowed_samples
 * is enforced (FLOE_E_BORROW_LIMIT) in another process and release frees a
 * slot; over many loan/send/receive/release cycles between two processes
 * the pool never runs dry.
 */
#include "helpers.h"

#define SERVICE "t/loans"
#define LOANS 3
#define BORROWS 2
#define BUFFER 8

struct loan_msg {
	uint64_t value;
	uint64_t check;
};

static const struct floe_type msg_type = {
	.name = "t_loans.Msg",
	.size = sizeof(struct loan_msg),
	.align = _Alignof(struct loan_msg),
};

struct chan {
	struct th_pipe to_child, to_parent;
};

static void write_msg(floe_sample_mut *s, uint64_t value)
{
	struct loan_msg *m = floe_sample_mut_payload(s);

	m->value = value;
	m->check = th_pattern(11, value);
}

static int msg_ok(const floe_sample *s, uint64_t value)
{
	const struct loan_msg *m = floe_sample_payload(s);

	return m->value == value && m->check == th_pattern(11, value);
}

static int subscriber_process(void *arg)
{
	struct chan *ch = arg;
	struct floe_service_opts o = { .type = msg_type };
	const floe_sample *held[BORROWS], *s = NULL;
	floe_node *node = th_node("subscriber");
	floe_service *svc = NULL;
	floe_subscriber *sub = NULL;
	uint64_t v, last = 0, received = 0;
	int r, nheld = 0, done = 0, decreasing = 0;

	if (!node)
		return 1;
	r = th_service_open_retry(node, SERVICE, &o, &svc, 10000);
	if (!th_check(r == 0, "open: %s", floe_strerror(r)))
		return 1;
	r = floe_subscriber_create(svc, NULL, &sub);
	if (!th_check(r == 0, "subscriber: %s", floe_strerror(r)))
		return 1;
	th_send_u64(&ch->to_parent, 0);
	if (!th_check(th_recv_u64(&ch->to_child, &v, 30000) == 0, "go"))
		return 1;

	/* Borrow limit: values 0..4 are waiting. */
	for (int i = 0; i < BORROWS; i++) {
		r = th_receive(sub, &held[i], 5000);
		th_check(r == 1 && msg_ok(held[i], (uint64_t)i),
			 "borrow %d: %d", i, r);
		if (r != 1)
			return 1;
	}
	r = floe_subscriber_receive(sub, &s);
	th_check(r == FLOE_E_BORROW_LIMIT,
		 "receive beyond the borrow limit: %d, want %d", r,
		 FLOE_E_BORROW_LIMIT);
	if (r == 1)
		floe_sample_release(s);
	th_check(floe_subscriber_has_samples(sub),
		 "samples still waiting behind the borrow limit");
	floe_sample_release(held[0]);
	r = floe_subscriber_receive(sub, &s);
	th_check(r == 1 && msg_ok(s, BORROWS),
		 "after one release the next sample comes: %d", r);
	if (r == 1)
		floe_sample_release(s);
	floe_sample_release(held[1]);
	for (uint64_t i = BORROWS + 1; i < 5; i++) {
		r = th_receive(sub, &s, 5000);
		th_check(r == 1 && msg_ok(s, i), "sample %" PRIu64 ": %d", i,
			 r);
		if (r == 1)
			floe_sample_release(s);
	}
	th_send_u64(&ch->to_parent, (uint64_t)th_child_failures);

	/* Cycles: hold up to BORROWS, release them together; the publisher
	 * says when it has sent everything. Safe overflow may drop samples,
	 * so values only have to increase. */
	th_check(th_recv_u64(&ch->to_child, &v, 30000) == 0, "go cycles");
	for (;;) {
		r = floe_subscriber_receive(sub, &s);
		if (r == 1) {
			const struct loan_msg *m = floe_sample_payload(s);

			if ((received && m->value <= last) ||
			    m->check != th_pattern(11, m->value))
				decreasing++;
			last = m->value;
			received++;
			held[nheld++] = s;
			if (nheld == BORROWS)
				while (nheld)
					floe_sample_release(held[--nheld]);
			continue;
		}
		if (!th_check(r == 0, "receive in cycles: %s",
			      floe_strerror(r)))
			break;
		if (done)
			break;
		/* Only stop after seeing the queue empty *after* the
		 * publisher said it is done. */
		done = th_pending(&ch->to_child);
		sched_yield();
	}
	while (nheld)
		floe_sample_release(held[--nheld]);
	th_check(decreasing == 0, "%d samples out of order or corrupt",
		 decreasing);
	th_check(received > 0, "received nothing in the cycles");
	th_child_diag("cycles: received %" PRIu64 ", last value %" PRIu64,
		      received, last);
	th_send_u64(&ch->to_parent, (uint64_t)th_child_failures);

	floe_subscriber_destroy(sub);
	floe_service_close(svc);
	floe_node_destroy(node);
	return th_child_result();
}

int main(void)
{
	const char *domain = th_setup("loans");
	uint64_t cycles = (uint64_t)th_env_long("FLOE_LOAN_CYCLES", 20000);
	struct floe_service_opts o = { .type = msg_type };
	struct floe_pubsub_qos q;
	floe_sample_mut *loans[LOANS + 1];
	floe_node *node = NULL;
	floe_service *svc = NULL;
	floe_publisher *pub = NULL;
	uint64_t v, fails = 0, value = 0, loan_fail = 0, send_miss = 0;
	struct loan_msg m = { 0 };
	struct chan ch = { 0 };
	int r, ok;
	pid_t pid;

	tap_plan(16);
	tap_require(floe_node_create("t_loans", NULL, &node) == 0, "node");
	floe_pubsub_qos_init(&q);
	q.publisher_max_loaned_samples = LOANS;
	q.subscriber_max_borrowed_samples = BORROWS;
	q.subscriber_max_buffer_size = BUFFER;
	q.max_subscribers = 1;
	o.qos = &q;
	r = floe_service_create(node, SERVICE, &o, &svc);
	if (r == 0)
		r = floe_publisher_create(svc, NULL, &pub);
	tap_require(r == 0, "service and publisher (%s)", floe_strerror(r));

	/* Loan limit. */
	ok = 1;
	for (int i = 0; i < LOANS; i++)
		ok &= floe_publisher_loan(pub, 1, &loans[i]) == 0;
	tap_require(ok, "%d loans", LOANS);
	tap_eq(floe_publisher_loan(pub, 1, &loans[LOANS]), FLOE_E_LOAN_LIMIT,
	       "loan %d -> FLOE_E_LOAN_LIMIT", LOANS + 1);
	tap_eq(floe_publisher_send_copy(pub, &m, sizeof(m)), FLOE_E_LOAN_LIMIT,
	       "send_copy with every loan taken -> FLOE_E_LOAN_LIMIT");
	floe_sample_mut_discard(loans[0]);
	r = floe_publisher_loan(pub, 1, &loans[0]);
	tap_eq(r, 0, "discard ends a loan");
	write_msg(loans[1], 0);
	floe_sample_mut_send(loans[1]);
	r = floe_publisher_loan(pub, 1, &loans[1]);
	tap_eq(r, 0, "send ends a loan");
	/* All loans out again, ended, the publisher replaced: the new one
	 * has the full allowance. */
	for (int i = 2; i < LOANS; i++)
		floe_sample_mut_discard(loans[i]);
	floe_sample_mut_discard(loans[0]);
	floe_sample_mut_discard(loans[1]);
	floe_publisher_destroy(pub);
	r = floe_publisher_create(svc, NULL, &pub);
	ok = r == 0;
	for (int i = 0; ok && i < LOANS; i++)
		ok &= floe_publisher_loan(pub, 1, &loans[i]) == 0;
	for (int i = 0; ok && i < LOANS; i++)
		floe_sample_mut_discard(loans[i]);
	tap_require(ok, "a new publisher loans %d", LOANS);

	/* Borrow limit, in another process. */
	tap_require(th_pipe_init(&ch.to_child) == 0 &&
			    th_pipe_init(&ch.to_parent) == 0, "pipes");
	pid = th_fork(subscriber_process, &ch);
	tap_require(pid > 0 && th_recv_u64(&ch.to_parent, &v, 30000) == 0,
		    "subscriber process ready");
	for (value = 0; value < 5; value++) {
		floe_sample_mut *s;

		if (floe_publisher_loan(pub, 1, &s) == 0) {
			write_msg(s, value);
			floe_sample_mut_send(s);
		}
	}
	th_send_u64(&ch.to_child, 1);
	tap_ok(th_recv_u64(&ch.to_parent, &fails, 30000) == 0 && fails == 0,
	       "subscriber: %d borrowed, then FLOE_E_BORROW_LIMIT; release "
	       "frees a slot", BORROWS);

	/* Many cycles: loan 1..LOANS, send most, discard some. */
	th_send_u64(&ch.to_child, 1);
	for (uint64_t c = 0; c < cycles; c++) {
		int n = 1 + (int)th_rand_below(LOANS);

		/* Now and then give the subscriber time to catch up, so it
		 * borrows and releases while we recycle chunks. */
		if ((c & 15) == 0)
			th_sleep_us(20);

		for (int i = 0; i < n; i++) {
			r = floe_publisher_loan(pub, 1, &loans[i]);
			if (r) {
				if (loan_fail++ < 5)
					tap_diag("cycle %" PRIu64 " loan %d: %s",
						 c, i, floe_strerror(r));
				n = i;
				break;
			}
		}
		for (int i = 0; i < n; i++) {
			if (th_rand_below(8) == 0) {
				floe_sample_mut_discard(loans[i]);
				continue;
			}
			write_msg(loans[i], 5 + value++);
			send_miss += floe_sample_mut_send(loans[i]) != 1;
		}
	}
	th_send_u64(&ch.to_child, 2);
	tap_eq(loan_fail, 0, "%" PRIu64 " cycles: every loan succeeded",
	       cycles);
	tap_eq(send_miss, 0, "every send reached the subscriber");
	tap_ok(th_recv_u64(&ch.to_parent, &fails, 60000) == 0 && fails == 0,
	       "subscriber saw increasing, intact values");
	tap_eq(th_wait(pid, 30000), 0, "subscriber process's checks passed");

	floe_publisher_destroy(pub);
	floe_service_close(svc);
	floe_node_destroy(node);
	th_pipe_close(&ch.to_child);
	th_pipe_close(&ch.to_parent);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
