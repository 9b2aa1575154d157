// SPDX-License-Identifier: MIT
/*
 * One publisher process, one subscriber process, many messages: every
 * message arrives once, in order, with the sequence number, publisher id,
 * payload size and contents the publisher produced. The publisher blocks
 * on a full queue (safe overflow off, FLOE_DELIVER_BLOCK), so nothing may
 * be lost. Alternates loan/send and send_copy.
 */
#include "helpers.h"

#define SERVICE "t/order"
#define CONTENT_KEY 0x6f72646572ull

struct order_msg {
	uint64_t seq;
	uint64_t check;		/* th_pattern(CONTENT_KEY, seq) */
	uint64_t words[6];	/* th_pattern(seq, i) */
};

static const struct floe_type msg_type = {
	.name = "t_order.Msg",
	.size = sizeof(struct order_msg),
	.align = _Alignof(struct order_msg),
};

struct pub_arg {
	struct th_pipe id, done;
	uint64_t count;
};

static void fill(struct order_msg *m, uint64_t seq)
{
	m->seq = seq;
	m->check = th_pattern(CONTENT_KEY, seq);
	for (int i = 0; i < 6; i++)
		m->words[i] = th_pattern(seq, (uint64_t)i);
}

static int content_ok(const struct order_msg *m, uint64_t seq)
{
	if (m->seq != seq || m->check != th_pattern(CONTENT_KEY, seq))
		return 0;
	for (int i = 0; i < 6; i++)
		if (m->words[i] != th_pattern(seq, (uint64_t)i))
			return 0;
	return 1;
}

static int publisher_process(void *arg)
{
	struct pub_arg *pa = arg;
	struct floe_service_opts o = { .type = msg_type };
	struct floe_publisher_opts po;
	floe_node *node = th_node("publisher");
	floe_service *svc = NULL;
	floe_publisher *pub = NULL;
	uint64_t done;
	int r;

	if (!node)
		return 1;
	r = th_service_open_retry(node, SERVICE, &o, &svc, 10000);
	if (!th_check(r == 0, "open: %s", floe_strerror(r)))
		return 1;
	floe_publisher_opts_init(&po);
	po.unable_to_deliver = FLOE_DELIVER_BLOCK;
	r = floe_publisher_create(svc, &po, &pub);
	if (!th_check(r == 0, "publisher: %s", floe_strerror(r)))
		return 1;
	th_send_u64(&pa->id, floe_publisher_id(pub));

	for (uint64_t seq = 0; seq < pa->count; seq++) {
		if (seq & 1) {
			struct order_msg m;

			fill(&m, seq);
			r = floe_publisher_send_copy(pub, &m, sizeof(m));
		} else {
			floe_sample_mut *s;

			r = floe_publisher_loan(pub, 1, &s);
			if (!th_check(r == 0, "loan %" PRIu64 ": %s", seq,
				      floe_strerror(r)))
				break;
			th_check(floe_sample_mut_len(s) == 1, "loaned len");
			fill(floe_sample_mut_payload(s), seq);
			r = floe_sample_mut_send(s);
		}
		if (!th_check(r == 1, "send %" PRIu64 " reached %d (%s)", seq,
			      r, floe_strerror(r < 0 ? r : 0)))
			break;
	}
	/* Stay connected until the subscriber has everything. */
	th_check(th_recv_u64(&pa->done, &done, 100000) == 0, "done signal");
	floe_publisher_destroy(pub);
	floe_service_close(svc);
	floe_node_destroy(node);
	return th_child_result();
}

int main(void)
{
	const char *domain = th_setup("order");
	uint64_t count = (uint64_t)th_env_long("FLOE_ORDER_N", 20000);
	struct floe_service_opts o = { .type = msg_type };
	struct floe_pubsub_qos q;
	floe_node *node = NULL;
	floe_service *svc = NULL;
	floe_subscriber *sub = NULL;
	const floe_sample *held[3];
	uint64_t pub_id = 0, received = 0, bad_seq = 0, bad_content = 0;
	uint64_t bad_id = 0, bad_size = 0;
	struct pub_arg pa = { .count = count };
	int nheld = 0, r = 0, err = 0;
	pid_t pid;

	tap_plan(14);
	tap_require(floe_node_create("subscriber", NULL, &node) == 0, "node");
	floe_pubsub_qos_init(&q);
	q.max_publishers = 1;
	q.max_subscribers = 1;
	q.subscriber_max_buffer_size = 16;
	q.subscriber_max_borrowed_samples = 4;
	q.publisher_max_loaned_samples = 2;
	q.enable_safe_overflow = false;
	o.qos = &q;
	r = floe_service_create(node, SERVICE, &o, &svc);
	tap_require(r == 0, "service (%s)", floe_strerror(r));
	r = floe_subscriber_create(svc, NULL, &sub);
	tap_require(r == 0, "subscriber (%s)", floe_strerror(r));

	tap_require(th_pipe_init(&pa.id) == 0 && th_pipe_init(&pa.done) == 0,
		    "pipes");
	pid = th_fork(publisher_process, &pa);
	r = pid > 0 ? th_recv_u64(&pa.id, &pub_id, 30000) : -1;
	tap_require(r == 0, "publisher process up (id %" PRIu64 ")", pub_id);

	/* Receive everything; hold up to 3 samples at a time so samples are
	 * released out of receive order too. Give up after 20 s without
	 * progress. */
	while (received < count) {
		const floe_sample *s;
		const struct order_msg *m;

		r = th_receive(sub, &s, 20000);
		if (r <= 0) {
			err = r;
			break;
		}
		m = floe_sample_payload(s);
		if (floe_sample_sequence(s) != received && bad_seq++ < 5)
			tap_diag("sample %" PRIu64 ": sequence %" PRIu64,
				 received, floe_sample_sequence(s));
		if (!content_ok(m, received) && bad_content++ < 5)
			tap_diag("sample %" PRIu64 ": payload seq %" PRIu64
				 " or contents wrong", received, m->seq);
		if (floe_sample_publisher_id(s) != pub_id)
			bad_id++;
		if (floe_sample_payload_size(s) != sizeof(*m) ||
		    floe_sample_len(s) != 1)
			bad_size++;
		received++;
		held[nheld++] = s;
		if (nheld == 3 || (received & 7) == 0) {
			/* Release newest first: order must not matter. */
			while (nheld)
				floe_sample_release(held[--nheld]);
		}
	}
	while (nheld)
		floe_sample_release(held[--nheld]);

	if (!tap_eq(received, count, "received all %" PRIu64 " messages",
		    count))
		tap_diag("receive stopped with %d (%s)", err,
			 floe_strerror(err < 0 ? err : 0));
	tap_eq(bad_seq, 0, "sequence numbers consecutive from 0");
	tap_eq(bad_content, 0, "payload contents match the sequence");
	tap_eq(bad_id, 0, "publisher id in every header");
	tap_eq(bad_size, 0, "payload size and len of every sample");
	tap_ok(!floe_subscriber_has_samples(sub), "nothing more waiting");
	{
		const floe_sample *s = NULL;

		r = floe_subscriber_receive(sub, &s);
		tap_eq(r, 0, "receive returns 0 when empty");
		if (r == 1)
			floe_sample_release(s);
	}
	th_send_u64(&pa.done, 1);
	tap_eq(th_wait(pid, 30000), 0, "publisher process's checks passed");

	floe_subscriber_destroy(sub);
	floe_service_close(svc);
	floe_node_destroy(node);
	th_pipe_close(&pa.id);
	th_pipe_close(&pa.done);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
