// SPDX-License-Identifier: MIT
/*
 * Limits, each with its own error: loaned requests (FLOE_E_LOAN_LIMIT),
 * active requests per client (FLOE_E_ACTIVE_LIMIT; the request stays
 * loaned and goes out once a stream ends), loaned responses
 * (FLOE_E_LOAN_LIMIT), clients and servers (FLOE_E_PORT_LIMIT), slices
 * beyond the static maximum (FLOE_E_TOO_LARGE) and a grown slice.
 */
#include "rr_helpers.h"

#define SERVICE "t/rr/limits"

int main(void)
{
	const char *domain = th_setup("rrlimits");
	struct floe_rr_qos q;
	struct floe_rr_opts o = rr_opts(&q);
	struct floe_client_opts co = { .initial_max_slice_len = 2,
				       .allocation = FLOE_ALLOC_POWER_OF_TWO };
	floe_node *node = NULL;
	floe_service *svc = NULL;
	floe_client *c = NULL, *c2 = NULL, *c3 = NULL, *c4;
	floe_server *s = NULL, *s2;
	floe_request_mut *r[3];
	floe_pending_response *p[3];
	floe_active_request *a;
	floe_response_mut *m[3];
	const floe_response *resp;

	tap_plan(24);
	tap_require(floe_node_create("limits", NULL, &node) == 0, "node");
	floe_rr_qos_init(&q);
	q.max_clients = 3;
	q.max_servers = 1;
	q.max_loaned_requests = 2;
	q.max_active_requests_per_client = 2;
	q.max_loaned_responses = 2;
	tap_require(floe_rr_create(node, SERVICE, &o, &svc) == 0, "create");
	tap_require(floe_server_create(svc, NULL, &s) == 0, "server");
	tap_eq(floe_server_create(svc, NULL, &s2), FLOE_E_PORT_LIMIT,
	       "second server: port limit");
	tap_require(floe_client_create(svc, NULL, &c) == 0, "client");
	tap_require(floe_client_create(svc, &co, &c2) == 0, "slice client");
	tap_require(floe_client_create(svc, NULL, &c3) == 0, "third client");
	tap_eq(floe_client_create(svc, NULL, &c4), FLOE_E_PORT_LIMIT,
	       "fourth client: port limit");

	tap_eq(floe_client_loan(c, 1, &r[0]), 0, "loan 1");
	tap_eq(floe_client_loan(c, 1, &r[1]), 0, "loan 2");
	tap_eq(floe_client_loan(c, 1, &r[2]), FLOE_E_LOAN_LIMIT,
	       "loan 3: loan limit");
	rr_fill_req(floe_request_mut_payload(r[0]), 0, 0, 0);
	rr_fill_req(floe_request_mut_payload(r[1]), 0, 1, 0);
	tap_eq(floe_request_mut_send(r[0], &p[0]), 1, "active 1");
	tap_eq(floe_request_mut_send(r[1], &p[1]), 1, "active 2");
	tap_eq(floe_client_loan(c, 1, &r[2]), 0, "loan 3 once two were sent");
	rr_fill_req(floe_request_mut_payload(r[2]), 0, 2, 0);
	tap_eq(floe_request_mut_send(r[2], &p[2]), FLOE_E_ACTIVE_LIMIT,
	       "active 3: active limit, request still loaned");

	tap_eq(floe_server_receive(s, &a), 1, "server receives");
	tap_eq(floe_active_request_loan(a, 1, &m[0]) |
		       floe_active_request_loan(a, 1, &m[1]),
	       0, "two responses loaned");
	tap_eq(floe_active_request_loan(a, 1, &m[2]), FLOE_E_LOAN_LIMIT,
	       "third response: loan limit");
	floe_response_mut_discard(m[0]);
	floe_response_mut_discard(m[1]);
	floe_active_request_drop(a);
	tap_eq(floe_request_mut_send(r[2], &p[2]), FLOE_E_ACTIVE_LIMIT,
	       "an ended stream holds its place until dropped");
	tap_eq(rr_receive(p[0], &resp, 5000), FLOE_E_END_OF_STREAM,
	       "ended stream reports its end");
	floe_pending_response_drop(p[0]);
	tap_eq(floe_request_mut_send(r[2], &p[0]), 1,
	       "sent once the ended stream was dropped");

	tap_eq(floe_client_loan(c2, 3, &r[0]), 0, "slice grows past 2");
	floe_request_mut_discard(r[0]);
	tap_eq(floe_client_loan(c, 2, &r[0]), FLOE_E_TOO_LARGE,
	       "static client: slice too large");

	floe_pending_response_drop(p[0]);
	floe_pending_response_drop(p[1]);
	floe_client_destroy(c);
	floe_client_destroy(c2);
	floe_client_destroy(c3);
	floe_server_destroy(s);
	floe_service_close(svc);
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
