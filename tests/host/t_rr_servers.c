// SPDX-License-Identifier: MIT
/*
 * Several servers on one service: every request goes to every server
 * connected when it is sent, and its pending response receives each
 * server's stream (each in order) and ends only when both have ended.
 * A server that joins later gets only later requests.
 */
#include "rr_helpers.h"

#define SERVICE "t/rr/servers"

int main(void)
{
	const char *domain = th_setup("rrservers");
	struct floe_rr_opts o = rr_opts(NULL);
	struct rr_server_arg sa[2];
	floe_node *node = NULL;
	floe_service *svc = NULL;
	floe_client *client = NULL;
	floe_pending_response *p;
	const floe_response *resp;
	uint64_t ids[2], answered[2] = { 0, 0 };
	pid_t pid[2];
	int r, ok = 1;

	tap_plan(15);
	tap_require(floe_node_create("client", NULL, &node) == 0, "node");
	tap_require(floe_rr_create(node, SERVICE, &o, &svc) == 0, "create");
	tap_require(floe_client_create(svc, NULL, &client) == 0, "client");
	for (int i = 0; i < 2; i++) {
		tap_require(rr_server_init(&sa[i], SERVICE) == 0, "pipes");
		sa[i].backpressure = FLOE_DELIVER_BLOCK;
	}
	pid[0] = th_fork(rr_server_process, &sa[0]);
	tap_require(th_recv_u64(&sa[0].ready, &ids[0], 10000) == 0,
		    "first server ready");
	{
		struct rr_req req;

		rr_fill_req(&req, 3, 0, 2);
		tap_eq(floe_client_send_copy(client, &req, sizeof(req), &p), 1,
		       "one server reached");
		for (int i = 0; i < 2; i++) {
			r = rr_receive(p, &resp, 10000);
			ok &= r == 1 && floe_response_server_id(resp) == ids[0];
			if (r == 1)
				floe_response_release(resp);
		}
		tap_ok(ok, "its two responses");
		tap_eq(rr_receive(p, &resp, 10000), FLOE_E_END_OF_STREAM,
		       "then the end");
		floe_pending_response_drop(p);
	}
	pid[1] = th_fork(rr_server_process, &sa[1]);
	tap_require(th_recv_u64(&sa[1].ready, &ids[1], 10000) == 0,
		    "second server ready");
	for (uint64_t seq = 1; ok && seq < 50; seq++) {
		struct rr_req req;
		uint64_t next[2] = { 0, 0 };

		rr_fill_req(&req, 3, seq, 3);
		if (floe_client_send_copy(client, &req, sizeof(req), &p) != 2) {
			tap_diag("request %" PRIu64 " did not reach both", seq);
			ok = 0;
			break;
		}
		while ((r = rr_receive(p, &resp, 10000)) == 1) {
			int k = floe_response_server_id(resp) == ids[1];

			if (!rr_resp_ok(floe_response_payload(resp), 3, seq,
					next[k]++)) {
				tap_diag("seq %" PRIu64 ": server %d out of "
					 "order", seq, k);
				ok = 0;
			}
			floe_response_release(resp);
		}
		if (r != FLOE_E_END_OF_STREAM || next[0] != 3 || next[1] != 3) {
			tap_diag("seq %" PRIu64 ": %d, %" PRIu64 " + %" PRIu64,
				 seq, r, next[0], next[1]);
			ok = 0;
		}
		floe_pending_response_drop(p);
	}
	tap_ok(ok, "49 requests: 3 responses from each server, each in "
	       "order, stream ends after both");
	for (int i = 0; i < 2; i++) {
		th_send_u64(&sa[i].stop, 1);
		th_recv_u64(&sa[i].count, &answered[i], 10000);
		tap_eq(th_wait(pid[i], 10000), 0, "server %d exit", i);
	}
	tap_ok(answered[0] == 50 && answered[1] == 49,
	       "first answered 50, second 49 (%" PRIu64 ", %" PRIu64 ")",
	       answered[0], answered[1]);
	floe_client_destroy(client);
	floe_service_close(svc);
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
