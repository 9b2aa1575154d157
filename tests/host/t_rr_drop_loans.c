// SPDX-License-Identifier: MIT
/*
 * Dropping an active request discards the responses still loaned from it:
 * sending one afterwards must not reach the request that reuses its place
 * (another client's stream).
 */
#include "rr_helpers.h"

#define SERVICE "t/rr/drop-loans"

int main(void)
{
	const char *domain = th_setup("rrdroploans");
	struct floe_rr_opts o = rr_opts(NULL);
	floe_node *node = NULL;
	floe_service *svc = NULL;
	floe_server *srv = NULL;
	floe_client *c1 = NULL, *c2 = NULL;
	floe_pending_response *p1, *p2;
	floe_active_request *a;
	floe_response_mut *stale;
	const floe_response *resp;
	struct rr_req req;
	int r;

	tap_plan(11);
	tap_require(floe_node_create("droploans", NULL, &node) == 0, "node");
	tap_require(floe_rr_create(node, SERVICE, &o, &svc) == 0, "create");
	tap_require(floe_server_create(svc, NULL, &srv) == 0 &&
			    floe_client_create(svc, NULL, &c1) == 0 &&
			    floe_client_create(svc, NULL, &c2) == 0,
		    "ports");
	rr_fill_req(&req, 1, 0, 1);
	tap_require(floe_client_send_copy(c1, &req, sizeof(req), &p1) == 1,
		    "client 1 sends");
	tap_require(floe_server_receive(srv, &a) == 1, "server takes it");
	tap_require(floe_active_request_loan(a, 1, &stale) == 0, "loan");
	floe_active_request_drop(a);
	tap_eq(rr_receive(p1, &resp, 2000), FLOE_E_END_OF_STREAM,
	       "client 1's stream ends with nothing");
	rr_fill_req(&req, 2, 0, 1);
	tap_require(floe_client_send_copy(c2, &req, sizeof(req), &p2) == 1 &&
			    floe_server_receive(srv, &a) == 1,
		    "client 2's request in the freed place");
	/* the loan ended with the drop: sending it is refused, and above
	 * all must not reach client 2 */
	tap_eq(floe_response_mut_send(stale), FLOE_E_INVALID,
	       "a response loaned from a dropped request cannot be sent");
	floe_active_request_drop(a);
	r = rr_receive(p2, &resp, 2000);
	if (r == 1)
		floe_response_release(resp);
	tap_eq(r, FLOE_E_END_OF_STREAM, "client 2 gets no stale response");
	floe_pending_response_drop(p1);
	floe_pending_response_drop(p2);
	floe_client_destroy(c1);
	floe_client_destroy(c2);
	floe_server_destroy(srv);
	floe_service_close(svc);
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
