// SPDX-License-Identifier: MIT
/*
 * Slices: samples of a variable number of elements.
 *  - FLOE_ALLOC_STATIC: any length up to initial_max_slice_len, longer ->
 *    FLOE_E_TOO_LARGE;
 *  - FLOE_ALLOC_POWER_OF_TWO: the publisher's memory grows; a slice 100x
 *    the initial maximum arrives intact in another process, and a sample
 *    the subscriber holds from before the growth stays intact; growth
 *    stops at max_slice_len;
 *  - len, payload size and the payload's alignment (the type's) are right.
 */
#include "helpers.h"

#define SVC_STATIC "t/slice/static"
#define SVC_GROW "t/slice/grow"
#define STATIC_MAX 64
#define GROW_INITIAL 1024

static const struct floe_type u32_type = {
	.name = "u32", .size = 4, .align = 4
};

static const uint64_t static_lens[] = { 1, 17, STATIC_MAX, 33 };
/* The first is held by the subscriber while the publisher grows. */
static const uint64_t grow_lens[] = {
	GROW_INITIAL, 1, GROW_INITIAL + 1, 4 * GROW_INITIAL,
	100 * GROW_INITIAL, 10, 3 * GROW_INITIAL,
};
#define NSTATIC (sizeof(static_lens) / sizeof(static_lens[0]))
#define NGROW (sizeof(grow_lens) / sizeof(grow_lens[0]))

static uint32_t element(uint64_t key, uint64_t i)
{
	return (uint32_t)th_pattern(key, i);
}

/* Loan, fill and send a slice; returns send's result or the loan error. */
static int send_slice(floe_publisher *pub, uint64_t key, uint64_t len)
{
	floe_sample_mut *s;
	uint32_t *p;
	int r = floe_publisher_loan(pub, len, &s);

	if (r)
		return r;
	if (floe_sample_mut_len(s) != len)
		tap_diag("loaned %" PRIu64 ", len says %" PRIu64, len,
			 floe_sample_mut_len(s));
	p = floe_sample_mut_payload(s);
	for (uint64_t i = 0; i < len; i++)
		p[i] = element(key, i);
	return floe_sample_mut_send(s);
}

/* The subscriber side's check of one slice. */
static int slice_ok(const floe_sample *s, uint64_t key, uint64_t len,
		    const char *who)
{
	const uint32_t *p = floe_sample_payload(s);
	uint64_t bad = 0;

	if (!th_check(floe_sample_len(s) == len &&
			      floe_sample_payload_size(s) == len * 4,
		      "%s: len %" PRIu64 " size %" PRIu64 ", want %" PRIu64,
		      who, floe_sample_len(s), floe_sample_payload_size(s),
		      len))
		return 0;
	th_check(((uintptr_t)p & 3) == 0, "%s: payload misaligned", who);
	for (uint64_t i = 0; i < len; i++)
		bad += p[i] != element(key, i);
	return th_check(bad == 0, "%s: %" PRIu64 " of %" PRIu64
			" elements wrong", who, bad, len);
}

struct chan {
	struct th_pipe to_child, to_parent;
};

static int subscriber_process(void *arg)
{
	struct chan *ch = arg;
	struct floe_service_opts o = { .type = u32_type };
	floe_node *node = th_node("subscriber");
	floe_service *svc_s = NULL, *svc_g = NULL;
	floe_subscriber *sub_s = NULL, *sub_g = NULL;
	const floe_sample *s, *first = NULL;
	char who[64];
	uint64_t v;
	int r;

	if (!node)
		return 1;
	r = th_service_open_retry(node, SVC_STATIC, &o, &svc_s, 10000);
	if (r == 0)
		r = th_service_open_retry(node, SVC_GROW, &o, &svc_g, 10000);
	if (r == 0)
		r = floe_subscriber_create(svc_s, NULL, &sub_s);
	if (r == 0)
		r = floe_subscriber_create(svc_g, NULL, &sub_g);
	if (!th_check(r == 0, "setup: %s", floe_strerror(r)))
		return 1;
	th_send_u64(&ch->to_parent, 0);

	/* Static slices. */
	th_recv_u64(&ch->to_child, &v, 60000);
	for (uint64_t k = 0; k < NSTATIC; k++) {
		snprintf(who, sizeof(who), "static slice %" PRIu64, k);
		r = th_receive(sub_s, &s, 5000);
		if (!th_check(r == 1, "%s missing: %d", who, r))
			break;
		slice_ok(s, k, static_lens[k], who);
		floe_sample_release(s);
	}
	th_send_u64(&ch->to_parent, (uint64_t)th_child_failures);

	/* Growing slices: take the first and keep it across the growth. */
	th_recv_u64(&ch->to_child, &v, 60000);
	r = th_receive(sub_g, &first, 5000);
	th_check(r == 1, "first growing slice missing: %d", r);
	th_send_u64(&ch->to_parent, 0);
	th_recv_u64(&ch->to_child, &v, 60000);
	for (uint64_t k = 1; k < NGROW; k++) {
		snprintf(who, sizeof(who), "growing slice %" PRIu64
			 " (%" PRIu64 " elements)", k, grow_lens[k]);
		r = th_receive(sub_g, &s, 10000);
		if (!th_check(r == 1, "%s missing: %d", who, r))
			break;
		slice_ok(s, 100 + k, grow_lens[k], who);
		floe_sample_release(s);
	}
	if (first) {
		slice_ok(first, 100, grow_lens[0], "slice held across growth");
		floe_sample_release(first);
	}
	th_send_u64(&ch->to_parent, (uint64_t)th_child_failures);

	floe_subscriber_destroy(sub_s);
	floe_subscriber_destroy(sub_g);
	floe_service_close(svc_s);
	floe_service_close(svc_g);
	floe_node_destroy(node);
	return th_child_result();
}

static floe_publisher *publisher(floe_service *svc, enum floe_allocation a,
				 uint64_t initial, uint64_t max)
{
	struct floe_publisher_opts po;
	floe_publisher *pub = NULL;
	int r;

	floe_publisher_opts_init(&po);
	po.unable_to_deliver = FLOE_DELIVER_BLOCK;
	po.allocation = a;
	po.initial_max_slice_len = initial;
	po.max_slice_len = max;
	r = floe_publisher_create(svc, &po, &pub);
	if (r)
		tap_diag("publisher: %s", floe_strerror(r));
	return pub;
}

static floe_service *service(floe_node *node, const char *name,
			     const struct floe_type *type)
{
	struct floe_service_opts o = { .type = *type };
	struct floe_pubsub_qos q;
	floe_service *svc = NULL;
	int r;

	floe_pubsub_qos_init(&q);
	q.subscriber_max_buffer_size = 8;
	q.enable_safe_overflow = false;
	o.qos = &q;
	r = floe_service_create(node, name, &o, &svc);
	if (r)
		tap_diag("service %s: %s", name, floe_strerror(r));
	return svc;
}

/* Payload alignment of a type with a large alignment, several lens. */
static void check_alignment(floe_node *node, uint64_t align)
{
	struct floe_type t = { .name = "t_slice.Aligned", .size = align,
			       .align = align };
	char name[64];
	floe_service *svc;
	floe_publisher *pub = NULL;
	int bad = 0, loaned = 0;

	snprintf(name, sizeof(name), "t/slice/align%" PRIu64, align);
	svc = service(node, name, &t);
	if (svc)
		pub = publisher(svc, FLOE_ALLOC_POWER_OF_TWO, 1, 0);
	for (uint64_t len = 1; pub && len <= 5; len++) {
		floe_sample_mut *s;

		if (floe_publisher_loan(pub, len, &s))
			continue;
		loaned++;
		bad += ((uintptr_t)floe_sample_mut_payload(s) & (align - 1)) != 0;
		/* Write the whole slice: it must be ours to write. */
		memset(floe_sample_mut_payload(s), 0x5a, len * align);
		floe_sample_mut_discard(s);
	}
	tap_ok(loaned == 5 && bad == 0,
	       "payload aligned to %" PRIu64 " (%d of 5 loans, %d misaligned)",
	       align, loaned, bad);
	if (pub)
		floe_publisher_destroy(pub);
	if (svc)
		floe_service_close(svc);
}

int main(void)
{
	const char *domain = th_setup("slice");
	floe_node *node = NULL;
	floe_service *svc_s, *svc_g, *svc_b;
	floe_publisher *pub_s, *pub_g, *pub_b = NULL;
	floe_sample_mut *s;
	static const uint8_t six_bytes[6] = { 1, 2, 3, 4, 5, 6 };
	uint64_t v, fails = 0;
	struct chan ch = { 0 };
	int r, bad;
	pid_t pid;

	tap_plan(19);
	tap_require(floe_node_create("t_slice", NULL, &node) == 0, "node");
	svc_s = service(node, SVC_STATIC, &u32_type);
	svc_g = service(node, SVC_GROW, &u32_type);
	pub_s = svc_s ? publisher(svc_s, FLOE_ALLOC_STATIC, STATIC_MAX, 0) : NULL;
	pub_g = svc_g ? publisher(svc_g, FLOE_ALLOC_POWER_OF_TWO, GROW_INITIAL,
				  0) : NULL;
	tap_require(pub_s && pub_g, "services and publishers");

	/* Static: lengths up to the maximum, not beyond. */
	r = floe_publisher_loan(pub_s, STATIC_MAX, &s);
	tap_ok(r == 0 && floe_sample_mut_len(s) == STATIC_MAX,
	       "static: loan of the maximum length");
	if (r == 0)
		floe_sample_mut_discard(s);
	tap_eq(floe_publisher_loan(pub_s, STATIC_MAX + 1, &s), FLOE_E_TOO_LARGE,
	       "static: one element more -> FLOE_E_TOO_LARGE");
	tap_eq(floe_publisher_loan(pub_s, 100 * STATIC_MAX, &s),
	       FLOE_E_TOO_LARGE, "static: 100x -> FLOE_E_TOO_LARGE");
	tap_eq(floe_publisher_send_copy(pub_s, six_bytes, 6), FLOE_E_INVALID,
	       "send_copy of bytes not a multiple of the type size");

	tap_require(th_pipe_init(&ch.to_child) == 0 &&
			    th_pipe_init(&ch.to_parent) == 0, "pipes");
	pid = th_fork(subscriber_process, &ch);
	tap_require(pid > 0 && th_recv_u64(&ch.to_parent, &v, 30000) == 0,
		    "subscriber process ready");

	bad = 0;
	for (uint64_t k = 0; k < NSTATIC; k++)
		bad += send_slice(pub_s, k, static_lens[k]) != 1;
	tap_eq(bad, 0, "static: %zu slices sent", NSTATIC);
	th_send_u64(&ch.to_child, 1);
	tap_ok(th_recv_u64(&ch.to_parent, &fails, 60000) == 0 && fails == 0,
	       "static: slices arrive with len, size and contents");

	/* Growing: the subscriber holds slice 0 while we grow. */
	r = send_slice(pub_g, 100, grow_lens[0]);
	tap_eq(r, 1, "grow: slice of the initial maximum sent");
	th_send_u64(&ch.to_child, 1);
	th_recv_u64(&ch.to_parent, &v, 60000);
	bad = 0;
	for (uint64_t k = 1; k < NGROW; k++) {
		r = send_slice(pub_g, 100 + k, grow_lens[k]);
		if (r != 1) {
			bad++;
			tap_diag("grow: slice of %" PRIu64 ": %d (%s)",
				 grow_lens[k], r, floe_strerror(r < 0 ? r : 0));
		}
	}
	tap_eq(bad, 0, "grow: slices up to 100x the initial maximum sent");
	th_send_u64(&ch.to_child, 1);
	tap_ok(th_recv_u64(&ch.to_parent, &fails, 60000) == 0 && fails == 0,
	       "grow: all arrive intact; the slice held across growth too");
	tap_eq(th_wait(pid, 30000), 0, "subscriber process's checks passed");

	/* Growth bounded by max_slice_len. */
	svc_b = service(node, "t/slice/bounded", &u32_type);
	if (svc_b)
		pub_b = publisher(svc_b, FLOE_ALLOC_POWER_OF_TWO, 16, 4096);
	r = pub_b ? floe_publisher_loan(pub_b, 4096, &s) : -1;
	tap_ok(r == 0, "bounded growth: loan of max_slice_len (%s)",
	       floe_strerror(r));
	if (r == 0)
		floe_sample_mut_discard(s);
	r = pub_b ? floe_publisher_loan(pub_b, 4097, &s) : -1;
	tap_eq(r, FLOE_E_TOO_LARGE,
	       "bounded growth: max_slice_len + 1 -> FLOE_E_TOO_LARGE");
	if (r == 0)
		floe_sample_mut_discard(s);
	if (pub_b)
		floe_publisher_destroy(pub_b);
	if (svc_b)
		floe_service_close(svc_b);

	check_alignment(node, 256);
	check_alignment(node, 4096);

	floe_publisher_destroy(pub_s);
	floe_publisher_destroy(pub_g);
	floe_service_close(svc_s);
	floe_service_close(svc_g);
	floe_node_destroy(node);
	th_pipe_close(&ch.to_child);
	th_pipe_close(&ch.to_parent);
	tap_eq(th_count_objects(domain, 1), 0,
	       "no shared objects remain (old segments included)");
	return tap_done();
}
