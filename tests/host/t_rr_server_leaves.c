// SPDX-License-Identifier: MIT
/*
 * A server that answers a request and leaves at once (destroys its port,
 * exits): the client still gets every response and a normal end of the
 * stream, not FLOE_E_DEAD. Repeated, since the window is short.
 */
#include "rr_helpers.h"

#define SERVICE "t/rr/server-leaves"
#define ROUNDS 20

/* Answer exactly one request, then leave. */
static int answer_one_and_leave(void *arg)
{
	struct rr_server_arg *sa = arg;
	floe_node *node = th_node("server");
	floe_service *svc = NULL;
	floe_server *srv = NULL;
	floe_active_request *a;
	int r;

	if (!node || rr_open_retry(node, sa->service, &svc, 10000) ||
	    floe_server_create(svc, NULL, &srv))
		return 1;
	th_send_u64(&sa->ready, floe_server_id(srv));
	while ((r = floe_server_receive(srv, &a)) == 0)
		sched_yield();
	th_check(r == 1 && rr_answer(a) == 0, "answer");
	floe_active_request_drop(a);
	floe_server_destroy(srv);
	floe_service_close(svc);
	floe_node_destroy(node);
	return th_child_result();
}

int main(void)
{
	const char *domain = th_setup("rrleaves");
	struct floe_rr_opts o = rr_opts(NULL);
	floe_node *node = NULL;
	floe_service *svc = NULL;
	floe_client *client = NULL;
	int complete = 0, exited = 0;

	tap_plan(6);
	tap_require(floe_node_create("client", NULL, &node) == 0, "node");
	tap_require(floe_rr_create(node, SERVICE, &o, &svc) == 0, "create");
	tap_require(floe_client_create(svc, NULL, &client) == 0, "client");
	for (uint64_t round = 0; round < ROUNDS; round++) {
		struct rr_server_arg sa;
		floe_pending_response *p;
		const floe_response *resp;
		struct rr_req req;
		uint64_t id;
		pid_t pid;
		int r, got = 0;

		if (rr_server_init(&sa, SERVICE))
			break;
		pid = th_fork(answer_one_and_leave, &sa);
		if (th_recv_u64(&sa.ready, &id, 10000))
			break;
		rr_fill_req(&req, 9, round, 3);
		if (floe_client_send_copy(client, &req, sizeof(req), &p) != 1)
			break;
		while ((r = rr_receive(p, &resp, 10000)) == 1) {
			got += rr_resp_ok(floe_response_payload(resp), 9, round,
					  (uint64_t)got);
			floe_response_release(resp);
		}
		if (got == 3 && r == FLOE_E_END_OF_STREAM)
			complete++;
		else
			tap_diag("round %" PRIu64 ": %d responses, then %s",
				 round, got, floe_strerror(r));
		floe_pending_response_drop(p);
		exited += th_wait(pid, 10000) == 0;
	}
	tap_eq(complete, ROUNDS, "every stream complete and ended normally");
	tap_eq(exited, ROUNDS, "every server exited cleanly");
	floe_client_destroy(client);
	floe_service_close(svc);
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
