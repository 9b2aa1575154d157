// SPDX-License-Identifier: MIT
/*
 * Thousands of requests with content checks: several client processes,
 * one server process. Each client keeps several requests in flight at
 * once (so responses of different streams interleave in its queue) and
 * checks every response's contents and order and every stream's end.
 */
#include "rr_helpers.h"

#define SERVICE "t/rr/many"
#define CLIENTS 3
#define INFLIGHT 3

struct client_arg {
	uint64_t number;
	uint64_t requests;
	struct th_pipe done;
};

struct flight {
	floe_pending_response *p;
	uint64_t seq, next;
};

static int client_process(void *arg)
{
	struct client_arg *ca = arg;
	floe_node *node = th_node("client");
	floe_service *svc = NULL;
	floe_client *c = NULL;
	struct flight fl[INFLIGHT];
	uint64_t sent = 0, finished = 0;
	int r, nfl = 0;

	if (!node)
		return 1;
	r = rr_open_retry(node, SERVICE, &svc, 10000);
	if (!th_check(r == 0, "open: %s", floe_strerror(r)))
		return 1;
	r = floe_client_create(svc, NULL, &c);
	if (!th_check(r == 0, "client: %s", floe_strerror(r)))
		return 1;
	while (finished < ca->requests) {
		while (nfl < INFLIGHT && sent < ca->requests) {
			struct rr_req req;

			rr_fill_req(&req, ca->number, sent, 1 + sent % 3);
			r = floe_client_send_copy(c, &req, sizeof(req),
						  &fl[nfl].p);
			if (!th_check(r == 1, "send %" PRIu64 ": %d", sent, r))
				return 1;
			fl[nfl].seq = sent++;
			fl[nfl++].next = 0;
		}
		/* newest first, so others' responses pile up meanwhile */
		for (int i = nfl - 1; i >= 0; i--) {
			const floe_response *resp;

			r = floe_pending_response_receive(fl[i].p, &resp);
			if (r == 1) {
				th_check(rr_resp_ok(floe_response_payload(resp),
						    ca->number, fl[i].seq,
						    fl[i].next),
					 "client %" PRIu64 " seq %" PRIu64
					 " response %" PRIu64 " wrong",
					 ca->number, fl[i].seq, fl[i].next);
				fl[i].next++;
				floe_response_release(resp);
			} else if (r == FLOE_E_END_OF_STREAM) {
				uint64_t want = 1 + fl[i].seq % 3;

				th_check(fl[i].next == want,
					 "seq %" PRIu64 ": %" PRIu64
					 " responses", fl[i].seq, fl[i].next);
				floe_pending_response_drop(fl[i].p);
				fl[i] = fl[--nfl];
				finished++;
			} else if (!th_check(r == 0, "receive: %s",
					     floe_strerror(r))) {
				return 1;
			}
		}
		if (th_child_failures)
			return 1;
		sched_yield();
	}
	th_send_u64(&ca->done, finished);
	floe_client_destroy(c);
	floe_service_close(svc);
	floe_node_destroy(node);
	return th_child_result();
}

int main(void)
{
	const char *domain = th_setup("rrmany");
	uint64_t n = (uint64_t)th_env_long("FLOE_RR_MANY_N", 2000);
	struct floe_rr_opts o = rr_opts(NULL);
	struct floe_rr_qos q;
	struct client_arg ca[CLIENTS];
	struct rr_server_arg sa;
	floe_node *node = NULL;
	floe_service *svc = NULL;
	uint64_t server_id, answered = 0, done;
	pid_t server, clients[CLIENTS];
	int ok = 1;

	tap_plan(8);
	tap_require(floe_node_create("owner", NULL, &node) == 0, "node");
	floe_rr_qos_init(&q);
	q.max_active_requests_per_client = INFLIGHT;
	o.qos = &q;
	tap_require(floe_rr_create(node, SERVICE, &o, &svc) == 0, "create");
	tap_require(rr_server_init(&sa, SERVICE) == 0, "pipes");
	sa.backpressure = FLOE_DELIVER_BLOCK;
	server = th_fork(rr_server_process, &sa);
	tap_require(th_recv_u64(&sa.ready, &server_id, 10000) == 0,
		    "server ready");
	for (int i = 0; i < CLIENTS; i++) {
		ca[i] = (struct client_arg){ .number = (uint64_t)i,
					     .requests = n };
		th_pipe_init(&ca[i].done);
		clients[i] = th_fork(client_process, &ca[i]);
	}
	for (int i = 0; i < CLIENTS; i++) {
		if (th_recv_u64(&ca[i].done, &done, 100000) || done != n ||
		    th_wait(clients[i], 10000) != 0) {
			tap_diag("client %d failed", i);
			ok = 0;
		}
	}
	tap_ok(ok, "%d clients x %" PRIu64 " requests, %d in flight each, "
	       "every response checked", CLIENTS, n, INFLIGHT);
	th_send_u64(&sa.stop, 1);
	th_recv_u64(&sa.count, &answered, 10000);
	tap_eq(th_wait(server, 10000), 0, "server exit");
	tap_eq(answered, CLIENTS * n, "server answered them all");
	floe_service_close(svc);
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
