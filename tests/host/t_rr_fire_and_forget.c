// SPDX-License-Identifier: MIT
/*
 * Fire-and-forget: refused (FLOE_E_QOS_MISMATCH, the request stays
 * loaned) on a service that does not enable it; where enabled, requests
 * reach a server process that sees them flagged, cannot answer them
 * (FLOE_E_NO_RESPONSE), and they take no active-request place: many more
 * than max_active_requests_per_client go out back to back.
 */
#include "rr_helpers.h"

#define SERVICE "t/rr/ff"
#define PLAIN "t/rr/ff-plain"
#define COUNT 200

struct ff_arg {
	struct th_pipe ready, result;
};

static int ff_server(void *arg)
{
	struct ff_arg *fa = arg;
	floe_node *node = th_node("server");
	floe_service *svc = NULL;
	floe_server *srv = NULL;
	floe_active_request *a;
	floe_response_mut *m;
	uint64_t seen = 0, flagged = 0, refused = 0, intact = 0;
	uint64_t deadline = th_now_ns() + 20000000000ull;
	int r;

	if (!node || rr_open_retry(node, SERVICE, &svc, 10000) ||
	    floe_server_create(svc, NULL, &srv))
		return 1;
	th_send_u64(&fa->ready, 1);
	while (seen < COUNT && th_now_ns() < deadline) {
		r = floe_server_receive(srv, &a);
		if (r != 1) {
			sched_yield();
			continue;
		}
		seen++;
		flagged += floe_active_request_is_fire_and_forget(a);
		refused += floe_active_request_loan(a, 1, &m) ==
			   FLOE_E_NO_RESPONSE;
		intact += rr_req_ok(floe_active_request_payload(a));
		floe_active_request_drop(a);
	}
	th_send_u64(&fa->result, seen);
	th_send_u64(&fa->result, flagged);
	th_send_u64(&fa->result, refused);
	th_send_u64(&fa->result, intact);
	floe_server_destroy(srv);
	floe_service_close(svc);
	floe_node_destroy(node);
	return 0;
}

int main(void)
{
	const char *domain = th_setup("rrff");
	struct floe_rr_qos q;
	struct floe_rr_opts o = rr_opts(NULL);
	struct ff_arg fa;
	floe_node *node = NULL;
	floe_service *svc = NULL, *plain = NULL;
	floe_client *client = NULL, *pc = NULL;
	floe_request_mut *req;
	uint64_t v, sent = 0, res[4] = { 0 };
	pid_t pid;
	int r;

	tap_plan(13);
	tap_require(floe_node_create("client", NULL, &node) == 0, "node");
	tap_require(floe_rr_create(node, PLAIN, &o, &plain) == 0, "plain");
	tap_require(floe_client_create(plain, NULL, &pc) == 0, "plain client");
	tap_require(floe_client_loan(pc, 1, &req) == 0, "loan");
	tap_eq(floe_request_mut_send_fire_and_forget(req), FLOE_E_QOS_MISMATCH,
	       "not enabled: refused");
	floe_request_mut_discard(req);
	floe_rr_qos_init(&q);
	q.enable_fire_and_forget = true;
	o.qos = &q;
	tap_eq(floe_rr_open(node, PLAIN, &o, &svc), FLOE_E_QOS_MISMATCH,
	       "demanding fire-and-forget of a service without it");
	tap_require(floe_rr_create(node, SERVICE, &o, &svc) == 0, "create");
	tap_require(floe_client_create(svc, NULL, &client) == 0, "client");
	th_pipe_init(&fa.ready);
	th_pipe_init(&fa.result);
	pid = th_fork(ff_server, &fa);
	tap_require(th_recv_u64(&fa.ready, &v, 10000) == 0, "server ready");
	while (sent < COUNT) {
		r = floe_client_loan(client, 1, &req);
		if (r == FLOE_E_POOL_EMPTY) { /* the server is behind */
			sched_yield();
			continue;
		}
		if (r)
			break;
		rr_fill_req(floe_request_mut_payload(req), 4, sent, 0);
		r = floe_request_mut_send_fire_and_forget(req);
		if (r == 1)
			sent++;
		else
			sched_yield(); /* queue full: dropped, try again */
	}
	tap_eq(sent, COUNT, "%d fire-and-forget requests sent", COUNT);
	for (int i = 0; i < 4; i++)
		th_recv_u64(&fa.result, &res[i], 30000);
	tap_ok(res[0] == COUNT && res[1] == COUNT && res[2] == COUNT &&
	       res[3] == COUNT,
	       "server saw all, flagged, unanswerable, intact (%" PRIu64
	       " %" PRIu64 " %" PRIu64 " %" PRIu64 ")",
	       res[0], res[1], res[2], res[3]);
	tap_eq(th_wait(pid, 10000), 0, "server exit");
	floe_client_destroy(client);
	floe_client_destroy(pc);
	floe_service_close(svc);
	floe_service_close(plain);
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
