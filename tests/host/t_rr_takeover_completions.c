// SPDX-License-Identifier: MIT
/*
 * The request-response sibling of t_takeover_completions: a client may
 * hold far more of one server's responses than a connection's borrow
 * limit (its receiver holds that much per server slot, for the server and
 * the gone ones carried ahead of it). Server S1 streams as many responses
 * as its connection lets in flight, the client holds them all; S1 ends
 * the stream and leaves with its end marker queued; S2 takes the slot,
 * carrying it. The client then releases S1's responses and reads the end
 * of the stream: it gives them back before it sees S1 gone, into the
 * completion queue S2 now reads. Then S2 streams to the client, which
 * takes and releases each burst: every response arrives in order, the
 * stream ends, and the connection is never found corrupt (no warning).
 *
 * Shape: 1 client, 1 server, 1 active request, buffer 9, 1 loaned
 * response; the client may hold 19 of S1's.
 */
#include "rr_helpers.h"

#define SERVICE "t/rr/takeover-comp"
#define BUF 9
#define N2 32
#define BURST 4

static int send_resp(floe_active_request *a, uint64_t client, uint64_t seq,
		     uint64_t i)
{
	struct rr_resp x = { client, seq, i, th_pattern(seq ^ client, i) };

	return floe_active_request_send_copy(a, &x, sizeof(x));
}

int main(void)
{
	struct floe_server_opts so = { .backpressure = FLOE_DELIVER_DISCARD };
	struct floe_rr_qos q;
	struct floe_rr_opts o;
	floe_node *node;
	floe_service *svc = NULL;
	floe_client *c = NULL;
	floe_server *s1 = NULL, *s2 = NULL;
	floe_pending_response *p;
	floe_active_request *a;
	const floe_response *held[64], *r;
	struct rr_req req;
	uint32_t nheld = 0, sent1 = 0, got2 = 0, inorder = 1;
	int ret;

	th_setup("rrtkcomp");
	tap_plan(12);
	th_count_warnings();
	node = th_node("rrtkcomp");
	tap_require(node != NULL, "node");
	floe_rr_qos_init(&q);
	q.max_clients = 1;
	q.max_servers = 1;
	q.max_active_requests_per_client = 1;
	q.max_response_buffer_size = BUF;
	q.max_loaned_responses = 1;
	q.max_loaned_requests = 1;
	o = rr_opts(&q);
	tap_require(floe_rr_create(node, SERVICE, &o, &svc) == 0, "service");
	tap_require(floe_client_create(svc, NULL, &c) == 0 &&
			    floe_server_create(svc, &so, &s1) == 0,
		    "client, first server");

	/* S1: as many responses as its connection lets in flight, the client
	 * holding every one */
	rr_fill_req(&req, 1, 1, 0);
	tap_require(floe_client_send_copy(c, &req, sizeof(req), &p) == 1,
		    "request 1 reaches S1");
	tap_require(floe_server_receive(s1, &a) == 1, "S1 takes it");
	for (uint32_t round = 0; round < 4; round++) {
		while (send_resp(a, 1, 1, sent1) == 1)
			sent1++;
		while (floe_pending_response_receive(p, &r) == 1)
			held[nheld++] = r;
	}
	tap_diag("S1 sent %u, the client holds %u", sent1, nheld);
	floe_active_request_drop(a); /* marker stays queued */
	floe_server_destroy(s1);

	/* S2 takes the slot, carrying S1's marker */
	tap_require(floe_server_create(svc, &so, &s2) == 0, "second server");
	while (nheld)
		floe_response_release(held[--nheld]);
	ret = floe_pending_response_receive(p, &r);
	tap_eq(ret, FLOE_E_END_OF_STREAM, "S1's stream ends normally");
	floe_pending_response_drop(p);

	rr_fill_req(&req, 1, 2, 0);
	ret = floe_client_send_copy(c, &req, sizeof(req), &p);
	tap_eq(ret, 1, "request 2 reaches S2");
	tap_require(floe_server_receive(s2, &a) == 1, "S2 takes it");
	/* bursts of BURST responses, the client taking each burst whole */
	for (uint32_t i = 0; i < N2; i += BURST) {
		for (uint32_t k = i; k < i + BURST; k++) {
			int sr = send_resp(a, 1, 2, k);

			if (sr != 1)
				tap_diag("S2's response %u not queued: %s", k,
					 sr < 0 ? floe_strerror(sr) : "0");
		}
		while (floe_pending_response_receive(p, &r) == 1) {
			const struct rr_resp *x = floe_response_payload(r);

			if (!rr_resp_ok(x, 1, 2, got2)) {
				if (inorder)
					tap_diag("expected response %u, got %llu",
						 got2,
						 (unsigned long long)x->index);
				inorder = 0;
				got2 = (uint32_t)x->index;
			}
			got2++;
			floe_response_release(r);
		}
	}
	floe_active_request_drop(a);
	ret = floe_pending_response_receive(p, &r);
	if (ret == 1) {
		floe_response_release(r);
		ret = floe_pending_response_receive(p, &r);
	}
	tap_ok(got2 == N2 && inorder, "every S2 response, in order");
	tap_eq(ret, FLOE_E_END_OF_STREAM, "S2's stream ends");
	tap_eq(*th_warnings(), 0, "no connection found corrupt");
	floe_pending_response_drop(p);
	floe_server_destroy(s2);
	floe_client_destroy(c);
	floe_service_close(svc);
	floe_node_destroy(node);
	return tap_done();
}
