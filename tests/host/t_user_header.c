// SPDX-License-Identifier: MIT
/*
 * User header: with user_header_size set, each sample carries that many
 * bytes in front of the payload; what the publisher writes there the
 * subscriber (another process) reads, and header and payload do not
 * overlap. Without one, floe_sample_mut_user_header is NULL. Openers
 * demanding another header size are refused.
 */
#include "helpers.h"

#define SERVICE "t/uh"
#define COUNT 200

/* 20 bytes: not a multiple of the payload alignment on purpose. */
struct user_header {
	uint64_t stamp;
	uint64_t inverse;
	uint32_t tag;
};
#define HEADER_SIZE 20

struct uh_msg {
	uint64_t words[4];
};

static const struct floe_type msg_type = {
	.name = "t_uh.Msg",
	.size = sizeof(struct uh_msg),
	.align = _Alignof(struct uh_msg),
};

struct chan {
	struct th_pipe to_child, to_parent;
};

static void fill(floe_sample_mut *s, uint64_t seq)
{
	struct user_header h = {
		.stamp = seq * 7 + 1,
		.inverse = ~seq,
		.tag = (uint32_t)th_pattern(5, seq),
	};
	struct uh_msg *m = floe_sample_mut_payload(s);

	memcpy(floe_sample_mut_user_header(s), &h, HEADER_SIZE);
	for (int i = 0; i < 4; i++)
		m->words[i] = th_pattern(seq, (uint64_t)i);
}

static int subscriber_process(void *arg)
{
	struct chan *ch = arg;
	struct floe_service_opts o = { .type = msg_type };
	struct floe_pubsub_qos demand = th_qos_zero();
	floe_node *node = th_node("subscriber");
	floe_service *svc = NULL, *tmp = NULL;
	floe_subscriber *sub = NULL;
	uint64_t bad_header = 0, bad_payload = 0, v;
	int r;

	if (!node)
		return 1;
	demand.user_header_size = HEADER_SIZE - 4;
	o.qos = &demand;
	r = th_service_open_retry(node, SERVICE, &o, &tmp, 10000);
	th_check(r == FLOE_E_QOS_MISMATCH,
		 "demand of another header size: %d, want %d", r,
		 FLOE_E_QOS_MISMATCH);
	if (r == 0)
		floe_service_close(tmp);
	demand.user_header_size = HEADER_SIZE;
	r = floe_service_open(node, SERVICE, &o, &svc);
	if (!th_check(r == 0, "open demanding the header size: %s",
		      floe_strerror(r)))
		return 1;
	r = floe_subscriber_create(svc, NULL, &sub);
	if (!th_check(r == 0, "subscriber: %s", floe_strerror(r)))
		return 1;
	th_send_u64(&ch->to_parent, 0);
	th_recv_u64(&ch->to_child, &v, 60000);

	for (uint64_t seq = 0; seq < COUNT; seq++) {
		const struct uh_msg *m;
		struct user_header h;
		const void *hp;
		const floe_sample *s;

		r = th_receive(sub, &s, 10000);
		if (!th_check(r == 1, "sample %" PRIu64 " missing: %d", seq, r))
			break;
		hp = floe_sample_user_header(s);
		if (!th_check(hp != NULL, "no user header on sample %" PRIu64,
			      seq)) {
			floe_sample_release(s);
			break;
		}
		memcpy(&h, hp, HEADER_SIZE);
		if (h.stamp != seq * 7 + 1 || h.inverse != ~seq ||
		    h.tag != (uint32_t)th_pattern(5, seq))
			bad_header++;
		m = floe_sample_payload(s);
		for (int i = 0; i < 4; i++)
			if (m->words[i] != th_pattern(seq, (uint64_t)i)) {
				bad_payload++;
				break;
			}
		floe_sample_release(s);
	}
	th_check(bad_header == 0, "%" PRIu64 " user headers wrong",
		 bad_header);
	th_check(bad_payload == 0, "%" PRIu64 " payloads wrong", bad_payload);
	th_send_u64(&ch->to_parent, (uint64_t)th_child_failures);

	floe_subscriber_destroy(sub);
	floe_service_close(svc);
	floe_node_destroy(node);
	return th_child_result();
}

int main(void)
{
	const char *domain = th_setup("uh");
	struct floe_service_opts o = { .type = msg_type };
	struct floe_publisher_opts po;
	struct floe_pubsub_qos q, got;
	floe_node *node = NULL;
	floe_service *svc = NULL, *plain = NULL;
	floe_publisher *pub = NULL, *plain_pub = NULL;
	floe_sample_mut *s;
	uint64_t v, fails = 0;
	struct chan ch = { 0 };
	int r, bad = 0, no_header = 0;
	pid_t pid;

	tap_plan(11);
	tap_require(floe_node_create("t_user_header", NULL, &node) == 0,
		    "node");
	floe_pubsub_qos_init(&q);
	q.user_header_size = HEADER_SIZE;
	q.subscriber_max_buffer_size = 8;
	q.enable_safe_overflow = false;
	o.qos = &q;
	floe_publisher_opts_init(&po);
	po.unable_to_deliver = FLOE_DELIVER_BLOCK;
	r = floe_service_create(node, SERVICE, &o, &svc);
	if (r == 0)
		r = floe_publisher_create(svc, &po, &pub);
	tap_require(r == 0, "service with a user header, publisher (%s)",
		    floe_strerror(r));
	floe_service_qos(svc, &got);
	tap_eq(got.user_header_size, HEADER_SIZE, "QoS reports the header size");

	/* The header is distinct from the payload and writable. */
	r = floe_publisher_loan(pub, 1, &s);
	tap_ok(r == 0 && floe_sample_mut_user_header(s) &&
		       floe_sample_mut_user_header(s) !=
			       floe_sample_mut_payload(s),
	       "loaned sample has a user header apart from the payload");
	if (r == 0)
		floe_sample_mut_discard(s);

	tap_require(th_pipe_init(&ch.to_child) == 0 &&
			    th_pipe_init(&ch.to_parent) == 0, "pipes");
	pid = th_fork(subscriber_process, &ch);
	tap_require(pid > 0 && th_recv_u64(&ch.to_parent, &v, 30000) == 0,
		    "subscriber process ready");
	th_send_u64(&ch.to_child, 1);
	for (uint64_t seq = 0; seq < COUNT; seq++) {
		r = floe_publisher_loan(pub, 1, &s);
		if (r) {
			bad++;
			continue;
		}
		no_header += floe_sample_mut_user_header(s) == NULL;
		if (floe_sample_mut_user_header(s))
			fill(s, seq);
		bad += floe_sample_mut_send(s) != 1;
	}
	tap_ok(bad == 0 && no_header == 0, "%d samples with headers sent",
	       COUNT);
	tap_ok(th_recv_u64(&ch.to_parent, &fails, 60000) == 0 && fails == 0,
	       "subscriber reads every header and payload as written");
	tap_eq(th_wait(pid, 30000), 0, "subscriber process's checks passed");

	/* Without a user header. */
	o.qos = NULL;
	r = floe_service_create(node, "t/uh/none", &o, &plain);
	if (r == 0)
		r = floe_publisher_create(plain, NULL, &plain_pub);
	if (r == 0)
		r = floe_publisher_loan(plain_pub, 1, &s);
	tap_ok(r == 0 && floe_sample_mut_user_header(s) == NULL,
	       "no user header on a service without one");
	if (r == 0)
		floe_sample_mut_discard(s);
	if (plain_pub)
		floe_publisher_destroy(plain_pub);
	if (plain)
		floe_service_close(plain);

	floe_publisher_destroy(pub);
	floe_service_close(svc);
	floe_node_destroy(node);
	th_pipe_close(&ch.to_child);
	th_pipe_close(&ch.to_parent);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
