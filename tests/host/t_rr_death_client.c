// SPDX-License-Identifier: MIT
/*
 * A client SIGKILLed while it holds a loaned request, two pending
 * responses and received responses it never released: the server sees
 * its active requests disconnected, and once it drops them and updates
 * its connections every response chunk is back in its pool. Repeated a
 * few times: nothing accumulates, and a live client is served meanwhile.
 */
#include "engine/engine.h" /* floe_server_sender, pool counts */
#include "rr_helpers.h"

#define SERVICE "t/rr/death-client"
#define ROUNDS 5

struct victim_arg {
	struct th_pipe ready;
};

static int victim_process(void *arg)
{
	struct victim_arg *va = arg;
	floe_node *node = th_node("victim");
	floe_service *svc = NULL;
	floe_client *c = NULL;
	floe_request_mut *held;
	floe_pending_response *p[2];
	const floe_response *resp[2];
	int r;

	if (!node)
		return 1;
	r = rr_open_retry(node, SERVICE, &svc, 10000);
	if (!th_check(r == 0, "open: %s", floe_strerror(r)))
		return 1;
	r = floe_client_create(svc, NULL, &c);
	if (!th_check(r == 0, "client: %s", floe_strerror(r)))
		return 1;
	th_check(floe_client_loan(c, 1, &held) == 0, "loan kept");
	for (int i = 0; i < 2; i++) {
		struct rr_req req;

		rr_fill_req(&req, 9, (uint64_t)i, 3);
		r = floe_client_send_copy(c, &req, sizeof(req), &p[i]);
		th_check(r == 1, "send: %d", r);
	}
	for (int i = 0; i < 2; i++)
		th_check(rr_receive(p[i], &resp[i], 10000) == 1,
			 "a response to hold");
	th_send_u64(&va->ready, floe_client_id(c));
	for (;;)
		pause(); /* killed holding all of it */
}

int main(void)
{
	const char *domain = th_setup("rrdclient");
	struct floe_rr_opts o = rr_opts(NULL);
	floe_node *node = NULL;
	floe_service *svc = NULL;
	floe_server *srv = NULL;
	floe_client *live = NULL;
	struct floe_sender *pool;
	int ok_disc = 1, ok_pool = 1, ok_live = 1;

	tap_plan(9);
	tap_require(floe_node_create("server", NULL, &node) == 0, "node");
	tap_require(floe_rr_create(node, SERVICE, &o, &svc) == 0, "create");
	tap_require(floe_server_create(svc, NULL, &srv) == 0, "server");
	tap_require(floe_client_create(svc, NULL, &live) == 0, "live client");
	pool = floe_server_sender(srv);
	for (int round = 0; round < ROUNDS; round++) {
		struct victim_arg va;
		floe_active_request *a[2];
		floe_pending_response *p;
		const floe_response *resp;
		struct rr_req req;
		uint64_t id;
		int n = 0;
		pid_t pid;

		th_pipe_init(&va.ready);
		pid = th_fork(victim_process, &va);
		while (n < 2) {
			int r = floe_server_receive(srv, &a[n]);

			if (r == 1) {
				rr_answer(a[n]);
				n++;
			} else if (r < 0 || th_pending(&va.ready)) {
				break;
			}
		}
		if (th_recv_u64(&va.ready, &id, 10000) || n != 2) {
			tap_diag("round %d: victim not ready (%d)", round, n);
			ok_disc = 0;
			break;
		}
		th_kill(pid);
		ok_disc &= floe_active_request_is_connected(a[0]) == false &&
			   floe_active_request_is_connected(a[1]) == false;
		floe_active_request_drop(a[0]);
		floe_active_request_drop(a[1]);
		floe_server_update_connections(srv);
		if (floe_sender_free_chunks(pool) !=
		    floe_sender_chunk_count(pool)) {
			tap_diag("round %d: %u of %u chunks free", round,
				 floe_sender_free_chunks(pool),
				 floe_sender_chunk_count(pool));
			ok_pool = 0;
		}
		/* the live client is still served */
		rr_fill_req(&req, 1, (uint64_t)round, 1);
		floe_client_send_copy(live, &req, sizeof(req), &p);
		if (floe_server_receive(srv, &a[0]) == 1) {
			rr_answer(a[0]);
			floe_active_request_drop(a[0]);
		}
		ok_live &= rr_receive(p, &resp, 5000) == 1;
		floe_response_release(resp);
		ok_live &= rr_receive(p, &resp, 5000) == FLOE_E_END_OF_STREAM;
		floe_pending_response_drop(p);
		th_pipe_close(&va.ready);
	}
	tap_ok(ok_disc, "a dead client's requests are not connected");
	tap_ok(ok_pool, "every response chunk is back after each death");
	tap_ok(ok_live, "a live client is served meanwhile");
	floe_client_destroy(live);
	floe_server_destroy(srv);
	floe_service_close(svc);
	/* the module removes a dead process's node at once; shm leaves it
	 * to the cleanup */
	tap_eq(floe_node_cleanup_dead(node),
	       floe_node_backend(node) == FLOE_BACKEND_SHM ? ROUNDS : 0,
	       "dead clients' nodes removed");
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
