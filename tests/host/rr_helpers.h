/* SPDX-License-Identifier: MIT */
/*
 * What the request-response tests share: the request and response types
 * (with checkable contents), opening with retries, receiving with a
 * deadline, and a server process that answers each request with the
 * stream of responses the request asks for.
 */
#ifndef FLOE_TESTS_HOST_RR_HELPERS_H
#define FLOE_TESTS_HOST_RR_HELPERS_H

#include "helpers.h"

#define RR_KEY 0x72657175657374ull

struct rr_req {
	uint64_t client; /* the test's own client number */
	uint64_t seq;
	uint64_t responses; /* how many responses the server is to send */
	uint64_t check;     /* th_pattern(RR_KEY ^ client, seq) */
};

struct rr_resp {
	uint64_t client, seq;
	uint64_t index; /* 0..responses-1 */
	uint64_t check; /* th_pattern(seq ^ client, index) */
};

static const struct floe_type rr_req_type = {
	.name = "t_rr.Req",
	.size = sizeof(struct rr_req),
	.align = _Alignof(struct rr_req),
};

static const struct floe_type rr_resp_type = {
	.name = "t_rr.Resp",
	.size = sizeof(struct rr_resp),
	.align = _Alignof(struct rr_resp),
};

static inline struct floe_rr_opts rr_opts(const struct floe_rr_qos *qos)
{
	struct floe_rr_opts o = {
		.request_type = rr_req_type,
		.response_type = rr_resp_type,
		.qos = qos,
	};

	return o;
}

static inline void rr_fill_req(struct rr_req *r, uint64_t client,
			       uint64_t seq, uint64_t responses)
{
	r->client = client;
	r->seq = seq;
	r->responses = responses;
	r->check = th_pattern(RR_KEY ^ client, seq);
}

static inline int rr_req_ok(const struct rr_req *r)
{
	return r->check == th_pattern(RR_KEY ^ r->client, r->seq);
}

static inline int rr_resp_ok(const struct rr_resp *r, uint64_t client,
			     uint64_t seq, uint64_t index)
{
	return r->client == client && r->seq == seq && r->index == index &&
	       r->check == th_pattern(seq ^ client, index);
}

/* Open the service, retrying while it is not there yet. */
static inline int rr_open_retry(floe_node *node, const char *name,
				floe_service **out, long timeout_ms)
{
	struct floe_rr_opts o = rr_opts(NULL);
	uint64_t deadline = th_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	int err;

	for (;;) {
		err = floe_rr_open(node, name, &o, out);
		if ((err != FLOE_E_BUSY && err != FLOE_E_NOT_FOUND) ||
		    th_now_ns() > deadline)
			return err;
		th_sleep_us(500);
	}
}

/*
 * Next response of @p within @timeout_ms: 1, 0 on timeout, or the
 * pending response's verdict (FLOE_E_END_OF_STREAM, FLOE_E_DEAD, ...).
 * Sleeps in floe_pending_response_wait.
 */
static inline int rr_receive(floe_pending_response *p,
			     const floe_response **out, long timeout_ms)
{
	uint64_t deadline = th_now_ns() + (uint64_t)timeout_ms * 1000000ull;

	for (;;) {
		int r = floe_pending_response_receive(p, out);
		uint64_t now = th_now_ns();

		if (r != 0 || now > deadline)
			return r;
		r = floe_pending_response_wait(p, deadline - now);
		if (r < 0)
			return r;
	}
}

/* Take every response of @p (each must be @seq's of client 1, indexed
 * from 0), then its verdict; *@got counts the good ones. */
static inline int rr_take_stream(floe_pending_response *p, uint64_t seq,
				 int *got)
{
	const floe_response *resp;
	int r;

	*got = 0;
	while ((r = rr_receive(p, &resp, 10000)) == 1) {
		*got += rr_resp_ok(floe_response_payload(resp), 1, seq,
				   (uint64_t)*got);
		floe_response_release(resp);
	}
	return r;
}

/* Send the stream a request asks for; 0, or the first failure. */
static inline int rr_answer(floe_active_request *a)
{
	const struct rr_req *req = floe_active_request_payload(a);
	struct rr_req q = *req;

	if (!rr_req_ok(&q))
		return FLOE_E_CORRUPT;
	for (uint64_t i = 0; i < q.responses; i++) {
		floe_response_mut *m;
		struct rr_resp *resp;
		int r = floe_active_request_loan(a, 1, &m);

		if (r)
			return r;
		resp = floe_response_mut_payload(m);
		resp->client = q.client;
		resp->seq = q.seq;
		resp->index = i;
		resp->check = th_pattern(q.seq ^ q.client, i);
		r = floe_response_mut_send(m);
		if (r < 0)
			return r;
	}
	return 0;
}

/* A server process: answers until told to stop. */
struct rr_server_arg {
	const char *service;
	struct th_pipe ready; /* server → test: its port id */
	struct th_pipe stop;  /* test → server */
	struct th_pipe count; /* server → test: requests answered */
	enum floe_unable_to_deliver backpressure;
	int hold_last; /* keep the last request active (death tests) */
	int report_each; /* send the count after every request too */
};

static inline int rr_server_process(void *arg)
{
	struct rr_server_arg *sa = arg;
	struct floe_server_opts so = { .backpressure = sa->backpressure };
	floe_node *node = th_node("server");
	floe_service *svc = NULL;
	floe_server *srv = NULL;
	floe_active_request *a;
	uint64_t answered = 0;
	int r;

	if (!node)
		return 1;
	r = rr_open_retry(node, sa->service, &svc, 10000);
	if (!th_check(r == 0, "server open: %s", floe_strerror(r)))
		return 1;
	r = floe_server_create(svc, &so, &srv);
	if (!th_check(r == 0, "server create: %s", floe_strerror(r)))
		return 1;
	th_send_u64(&sa->ready, floe_server_id(srv));
	while (!th_pending(&sa->stop)) {
		r = floe_server_receive(srv, &a);
		if (r == 0) {
			/* short: the stop pipe is looked at between waits */
			r = floe_server_wait(srv, 20 * 1000000ull);
			th_check(r >= 0 || r == FLOE_E_DEAD, "server wait: %s",
				 floe_strerror(r));
			continue;
		}
		if (!th_check(r == 1, "server receive: %s", floe_strerror(r)))
			break;
		r = rr_answer(a);
		th_check(r == 0, "answer: %s", floe_strerror(r));
		answered++;
		if (sa->report_each)
			th_send_u64(&sa->count, answered);
		if (!sa->hold_last)
			floe_active_request_drop(a);
	}
	th_send_u64(&sa->count, answered);
	floe_server_destroy(srv);
	floe_service_close(svc);
	floe_node_destroy(node);
	return th_child_result();
}

static inline int rr_server_init(struct rr_server_arg *sa, const char *service)
{
	memset(sa, 0, sizeof(*sa));
	sa->service = service;
	return th_pipe_init(&sa->ready) || th_pipe_init(&sa->stop) ||
	       th_pipe_init(&sa->count);
}

#endif
