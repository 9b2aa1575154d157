// SPDX-License-Identifier: MIT
/*
 * A server SIGKILLed mid-stream: the client still reads every response
 * the server sent before it died, then its pending response reports
 * FLOE_E_DEAD (not a normal end), within a bound. A new server then
 * serves the client as usual, and the dead server's resources go.
 */
#include "rr_helpers.h"

#define SERVICE "t/rr/death-server"

int main(void)
{
	const char *domain = th_setup("rrdserver");
	struct floe_rr_opts o = rr_opts(NULL);
	struct rr_server_arg sa, sb;
	floe_node *node = NULL;
	floe_service *svc = NULL;
	floe_client *client = NULL;
	floe_pending_response *p;
	const floe_response *resp;
	struct rr_req req;
	uint64_t id, t0, answered;
	pid_t pid;
	int r, got = 0;

	tap_plan(14);
	tap_require(floe_node_create("client", NULL, &node) == 0, "node");
	tap_require(floe_rr_create(node, SERVICE, &o, &svc) == 0, "create");
	tap_require(floe_client_create(svc, NULL, &client) == 0, "client");
	tap_require(rr_server_init(&sa, SERVICE) == 0, "pipes");
	sa.hold_last = 1; /* answers, but never ends the stream */
	pid = th_fork(rr_server_process, &sa);
	tap_require(th_recv_u64(&sa.ready, &id, 10000) == 0, "server ready");

	rr_fill_req(&req, 5, 0, 3);
	tap_eq(floe_client_send_copy(client, &req, sizeof(req), &p), 1,
	       "request sent");
	/* the server has answered (3 responses fit the buffer) but holds
	 * the request: its stream is open when it dies */
	th_sleep_ms(200);
	th_kill(pid);
	t0 = th_now_ns();
	while ((r = rr_receive(p, &resp, 10000)) == 1) {
		got += rr_resp_ok(floe_response_payload(resp), 5, 0,
				  (uint64_t)got);
		floe_response_release(resp);
	}
	tap_eq(got, 3, "the responses sent before the death are read");
	tap_eq(r, FLOE_E_DEAD, "then the stream reports the server's death");
	tap_ok(th_now_ns() - t0 < 2000000000ull,
	       "within 2 s (%" PRIu64 " ms)", (th_now_ns() - t0) / 1000000);
	floe_pending_response_drop(p);

	tap_require(rr_server_init(&sb, SERVICE) == 0, "pipes");
	pid = th_fork(rr_server_process, &sb);
	th_recv_u64(&sb.ready, &id, 10000);
	rr_fill_req(&req, 5, 1, 1);
	r = floe_client_send_copy(client, &req, sizeof(req), &p);
	tap_eq(r, 1, "a new server gets the next request (only it)");
	r = rr_receive(p, &resp, 10000);
	if (r == 1) {
		r = rr_resp_ok(floe_response_payload(resp), 5, 1, 0);
		floe_response_release(resp);
	}
	tap_ok(r == 1 && rr_receive(p, &resp, 10000) == FLOE_E_END_OF_STREAM,
	       "and answers it");
	floe_pending_response_drop(p);
	th_send_u64(&sb.stop, 1);
	th_recv_u64(&sb.count, &answered, 10000);
	th_wait(pid, 10000);
	floe_client_destroy(client);
	floe_service_close(svc);
	/* the module removes a dead process's node at once; shm leaves it
	 * to the cleanup */
	tap_eq(floe_node_cleanup_dead(node),
	       floe_node_backend(node) == FLOE_BACKEND_SHM ? 1 : 0,
	       "dead server's node removed");
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
