// SPDX-License-Identifier: MIT
/*
 * A client that does not read while servers come and go: each server
 * answers one of its requests, ends the stream and leaves, its response
 * and end marker left queued for the client. A connection carries what
 * up to three gone senders left ahead of a new one's; the fifth server
 * cannot reach the client until it reads. That server must not take the
 * client's request meanwhile (it could neither answer it nor end its
 * stream: the client would get FLOE_E_DEAD from a server that ended it);
 * once the client has read, the server takes it, and the client gets its
 * response and a normal end. Every earlier stream arrives whole too.
 * Sequential, one process.
 */
#include "rr_helpers.h"

#define SERVICE "t/rr/unreachable-client"
#define LEFT 4 /* servers that leave their answers queued */

int main(void)
{
	const char *domain = th_setup("rrunreach");
	struct floe_server_opts so = { .backpressure = FLOE_DELIVER_DISCARD };
	struct floe_rr_qos q;
	struct floe_rr_opts o;
	floe_node *node = NULL;
	floe_service *svc = NULL;
	floe_client *client = NULL;
	floe_server *srv = NULL;
	floe_pending_response *p[LEFT + 1];
	floe_active_request *a;
	struct rr_req req;
	int answered = 0, whole = 0, got, r;
	bool has;

	floe_rr_qos_init(&q);
	q.max_clients = 1;
	q.max_servers = 1;
	q.max_active_requests_per_client = LEFT + 1;
	o = rr_opts(&q);

	tap_plan(12);
	tap_require(floe_node_create("unreach", NULL, &node) == 0, "node");
	tap_require(floe_rr_create(node, SERVICE, &o, &svc) == 0, "service");
	tap_require(floe_client_create(svc, NULL, &client) == 0, "client");

	/* servers that answer and leave while the client reads nothing */
	for (uint64_t k = 0; k < LEFT; k++) {
		if (floe_server_create(svc, &so, &srv))
			break;
		rr_fill_req(&req, 1, k, 1);
		if (floe_client_send_copy(client, &req, sizeof(req), &p[k]) != 1 ||
		    floe_server_receive(srv, &a) != 1)
			break;
		answered += rr_answer(a) == 0;
		floe_active_request_drop(a);
		floe_server_destroy(srv);
		srv = NULL;
	}
	tap_eq(answered, LEFT, "%d servers answered a request each and left",
	       LEFT);

	/* the next one cannot reach the client yet */
	tap_require(floe_server_create(svc, &so, &srv) == 0, "last server");
	rr_fill_req(&req, 1, LEFT, 1);
	tap_eq(floe_client_send_copy(client, &req, sizeof(req), &p[LEFT]), 1,
	       "the request reaches it");
	has = floe_server_has_requests(srv);
	r = floe_server_receive(srv, &a);
	tap_ok(!has && r == 0,
	       "it does not take the request while it cannot answer it");
	if (r == 1) {
		/* as a server would: answer it, end it */
		rr_answer(a);
		floe_active_request_drop(a);
	}

	/* the client reads the first two streams: past the first server's
	 * leftovers, so there is room for the last server */
	for (uint64_t k = 0; k < 2; k++) {
		r = rr_take_stream(p[k], k, &got);
		whole += r == FLOE_E_END_OF_STREAM && got == 1;
		floe_pending_response_drop(p[k]);
	}
	r = floe_server_receive(srv, &a);
	tap_eq(r, 1, "once the client read, the server takes the request");
	tap_ok(r == 1 && rr_answer(a) == 0, "and answers it");
	if (r == 1)
		floe_active_request_drop(a);
	for (uint64_t k = 2; k < LEFT; k++) {
		r = rr_take_stream(p[k], k, &got);
		whole += r == FLOE_E_END_OF_STREAM && got == 1;
		floe_pending_response_drop(p[k]);
	}
	tap_eq(whole, LEFT, "every stream of the servers that left is whole");
	r = rr_take_stream(p[LEFT], LEFT, &got);
	tap_ok(r == FLOE_E_END_OF_STREAM && got == 1,
	       "the last stream: its response, then the end (%d, %s)", got,
	       floe_strerror(r));
	floe_pending_response_drop(p[LEFT]);
	floe_server_destroy(srv);
	floe_client_destroy(client);
	floe_service_close(svc);
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
