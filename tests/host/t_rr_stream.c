// SPDX-License-Identifier: MIT
/*
 * Streams: a server process answers each request with the number of
 * responses it asks for (0, 1, 5, 200), blocking on the client's full
 * buffer; the client sees every response of a stream in order, then the
 * end of the stream. In one process: a client that drops its pending
 * response mid-stream makes floe_active_request_is_connected() false and
 * further responses go nowhere; the active-request place comes back when
 * the server ends the stream.
 */
#include "rr_helpers.h"

#define SERVICE "t/rr/stream"
#define LOCAL "t/rr/stream-local"

static int stream_ok(floe_pending_response *p, uint64_t seq, uint64_t n)
{
	const floe_response *resp;
	int r;

	for (uint64_t i = 0; i < n; i++) {
		r = rr_receive(p, &resp, 10000);
		if (r != 1) {
			tap_diag("stream %" PRIu64 ": response %" PRIu64
				 ": %d", seq, i, r);
			return 0;
		}
		r = rr_resp_ok(floe_response_payload(resp), 1, seq, i);
		floe_response_release(resp);
		if (!r) {
			tap_diag("stream %" PRIu64 ": response %" PRIu64
				 " out of order or corrupt", seq, i);
			return 0;
		}
	}
	r = rr_receive(p, &resp, 10000);
	if (r != FLOE_E_END_OF_STREAM) {
		tap_diag("stream %" PRIu64 ": end: %d", seq, r);
		return 0;
	}
	return 1;
}

static void local_drop(floe_node *node)
{
	struct floe_rr_opts o = rr_opts(NULL);
	struct floe_rr_qos q;
	floe_service *svc;
	floe_client *c;
	floe_server *s;
	floe_request_mut *req;
	floe_pending_response *p, *p2;
	floe_active_request *a;
	const floe_response *resp;
	struct rr_resp one = { 0 };

	floe_rr_qos_init(&q);
	q.max_active_requests_per_client = 1;
	o.qos = &q;
	tap_require(floe_rr_create(node, LOCAL, &o, &svc) == 0, "local service");
	tap_require(floe_server_create(svc, NULL, &s) == 0, "local server");
	tap_require(floe_client_create(svc, NULL, &c) == 0, "local client");
	tap_require(floe_client_loan(c, 1, &req) == 0, "loan");
	rr_fill_req(floe_request_mut_payload(req), 1, 0, 0);
	tap_eq(floe_request_mut_send(req, &p), 1, "request reached the server");
	tap_eq(floe_server_receive(s, &a), 1, "server has it");
	tap_ok(floe_active_request_is_connected(a), "connected while pending");
	tap_eq(floe_active_request_send_copy(a, &one, sizeof(one)), 1,
	       "response queued");
	tap_eq(floe_pending_response_servers(p), 1, "one server streaming");
	floe_pending_response_drop(p);
	tap_ok(!floe_active_request_is_connected(a),
	       "not connected once the client dropped it");
	tap_eq(floe_active_request_send_copy(a, &one, sizeof(one)), 0,
	       "a response nobody waits for goes nowhere");
	tap_require(floe_client_loan(c, 1, &req) == 0, "loan again");
	rr_fill_req(floe_request_mut_payload(req), 1, 1, 0);
	tap_eq(floe_request_mut_send(req, &p2), FLOE_E_ACTIVE_LIMIT,
	       "dropped stream still holds its place until the server ends it");
	floe_active_request_drop(a);
	tap_eq(floe_request_mut_send(req, &p2), 1,
	       "place free once the server ended the stream");
	tap_eq(floe_server_receive(s, &a), 1, "second request");
	floe_active_request_drop(a);
	tap_eq(rr_receive(p2, &resp, 5000), FLOE_E_END_OF_STREAM,
	       "empty stream ends");
	floe_pending_response_drop(p2);
	floe_client_destroy(c);
	floe_server_destroy(s);
	floe_service_close(svc);
}

int main(void)
{
	static const uint64_t lens[] = { 0, 1, 5, 200, 3 };
	const char *domain = th_setup("rrstream");
	struct floe_rr_opts o = rr_opts(NULL);
	struct rr_server_arg sa;
	floe_node *node = NULL;
	floe_service *svc = NULL;
	floe_client *client = NULL;
	uint64_t server_id, answered = 0;
	int ok = 1;
	pid_t pid;

	tap_plan(25);
	tap_require(floe_node_create("client", NULL, &node) == 0, "node");
	local_drop(node);
	tap_require(rr_server_init(&sa, SERVICE) == 0, "pipes");
	sa.backpressure = FLOE_DELIVER_BLOCK;
	tap_require(floe_rr_create(node, SERVICE, &o, &svc) == 0, "create");
	tap_require(floe_client_create(svc, NULL, &client) == 0, "client");
	pid = th_fork(rr_server_process, &sa);
	tap_require(th_recv_u64(&sa.ready, &server_id, 10000) == 0,
		    "server ready");
	for (uint64_t seq = 0; ok && seq < 5; seq++) {
		floe_pending_response *p;
		struct rr_req req;

		rr_fill_req(&req, 1, seq, lens[seq]);
		if (floe_client_send_copy(client, &req, sizeof(req), &p) != 1) {
			ok = 0;
			break;
		}
		ok = stream_ok(p, seq, lens[seq]);
		floe_pending_response_drop(p);
	}
	tap_ok(ok, "streams of 0, 1, 5, 200, 3 responses in order, then end");
	th_send_u64(&sa.stop, 1);
	th_recv_u64(&sa.count, &answered, 10000);
	tap_eq(th_wait(pid, 10000), 0, "server exit");
	tap_eq(answered, 5, "server answered 5");
	floe_client_destroy(client);
	floe_service_close(svc);
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
