// SPDX-License-Identifier: MIT
/*
 * A client that drops a pending response tells the servers through its
 * request's chunk header (floe_sender_unwant): every server holding the
 * request sees it (is_connected false, responses go nowhere). The chunk
 * goes back to the client's pool once the servers are done, and a later
 * request may be in it while the old pending response is still held:
 * dropping that one then must not silence the new request, whether it was
 * only loaned or already sent. (Test of internals: reads a loan's chunk
 * through the library's private API.)
 */
#include "engine/engine.h"
#include "rr_helpers.h"

#define SERVICE "t/rr/unwanted"

static floe_client *c;
static floe_server *s1, *s2;

static uint32_t chunk_of(floe_request_mut *r)
{
	return floe_loan_chunk((floe_sample_mut *)r);
}

/* @s takes the request with sequence @seq, answers it with one response
 * (the result of its send in *@sent) and ends the stream. */
static int serve_one(floe_server *s, uint64_t seq, int *sent,
		     bool *connected)
{
	floe_active_request *a;
	struct rr_resp resp = { .client = 1, .seq = seq, .index = 0 };
	int r = floe_server_receive(s, &a);

	if (r != 1)
		return r;
	if (!rr_req_ok(floe_active_request_payload(a)) ||
	    ((const struct rr_req *)floe_active_request_payload(a))->seq != seq) {
		floe_active_request_drop(a);
		return FLOE_E_CORRUPT;
	}
	resp.check = th_pattern(seq ^ 1, 0);
	*connected = floe_active_request_is_connected(a);
	*sent = floe_active_request_send_copy(a, &resp, sizeof(resp));
	floe_active_request_drop(a);
	return 1;
}

/* Send the loaned @req as sequence @seq; the pending response. */
static floe_pending_response *send_req(floe_request_mut *req, uint64_t seq)
{
	floe_pending_response *p = NULL;

	rr_fill_req(floe_request_mut_payload(req), 1, seq, 1);
	if (floe_request_mut_send(req, &p) < 1)
		return NULL;
	return p;
}

/* The response of @seq, then the end. */
static int stream_whole(floe_pending_response *p, uint64_t seq)
{
	const floe_response *resp;
	int ok = rr_receive(p, &resp, 5000) == 1;

	if (ok) {
		ok = rr_resp_ok(floe_response_payload(resp), 1, seq, 0);
		floe_response_release(resp);
	}
	return ok && rr_receive(p, &resp, 5000) == FLOE_E_END_OF_STREAM;
}

/*
 * A request whose stream is over but whose pending response is kept;
 * then requests until one is loaned in its chunk (returned to the loan in
 * *@req, sequence *@seq). NULL if none is within the pool's two rounds.
 */
static floe_pending_response *kept_and_reloaned(uint64_t *seq,
						floe_request_mut **req)
{
	floe_pending_response *kept, *p;
	uint32_t chunk;
	int sent;
	bool connected;

	if (floe_client_loan(c, 1, req))
		return NULL;
	chunk = chunk_of(*req);
	kept = send_req(*req, *seq);
	if (!kept || serve_one(s1, *seq, &sent, &connected) != 1 ||
	    sent != 1 || !stream_whole(kept, *seq))
		return NULL;
	for (int i = 0; i < 256; i++) {
		++*seq;
		if (floe_client_loan(c, 1, req))
			return NULL;
		if (chunk_of(*req) == chunk)
			return kept;
		p = send_req(*req, *seq);
		if (!p || serve_one(s1, *seq, &sent, &connected) != 1 ||
		    !stream_whole(p, *seq))
			return NULL;
		floe_pending_response_drop(p);
	}
	return NULL;
}

/* The request in the reused chunk is answered and the answer arrives. */
static void answered(floe_pending_response *p, uint64_t seq, const char *what)
{
	int sent = -1;
	bool connected = false;

	tap_eq(serve_one(s1, seq, &sent, &connected), 1, "%s: taken", what);
	tap_ok(connected, "%s: the server sees its client listening", what);
	tap_eq(sent, 1, "%s: its response is queued", what);
	tap_ok(p && stream_whole(p, seq), "%s: and received, then the end",
	       what);
	floe_pending_response_drop(p);
}

int main(void)
{
	const char *domain = th_setup("rrunwanted");
	struct floe_rr_opts o = rr_opts(NULL);
	floe_node *node;
	floe_service *svc;
	floe_pending_response *kept, *p;
	floe_request_mut *req;
	floe_active_request *a1, *a2;
	struct rr_resp one = { 0 };
	uint64_t seq = 1;

	tap_plan(19);
	tap_require(floe_node_create("t", NULL, &node) == 0 &&
			    floe_rr_create(node, SERVICE, &o, &svc) == 0 &&
			    floe_client_create(svc, NULL, &c) == 0 &&
			    floe_server_create(svc, NULL, &s1) == 0,
		    "client and server");

	/* dropped after the new request was loaned: the send clears it */
	kept = kept_and_reloaned(&seq, &req);
	tap_require(kept != NULL, "an old request's chunk is loaned again");
	floe_pending_response_drop(kept);
	answered(send_req(req, seq), seq, "dropped while the reuse was loaned");

	/* dropped after the new request was sent: not its flag to set */
	seq++;
	kept = kept_and_reloaned(&seq, &req);
	tap_require(kept != NULL, "and again");
	p = send_req(req, seq);
	floe_pending_response_drop(kept);
	answered(p, seq, "dropped once the reuse was sent");

	/* every server that holds the request learns it */
	tap_require(floe_server_create(svc, NULL, &s2) == 0, "second server");
	tap_require(floe_client_loan(c, 1, &req) == 0, "loan");
	p = send_req(req, ++seq);
	tap_eq(floe_pending_response_servers(p), 2, "both servers reached");
	tap_require(floe_server_receive(s1, &a1) == 1 &&
			    floe_server_receive(s2, &a2) == 1,
		    "both servers take it");
	tap_ok(floe_active_request_is_connected(a1) &&
		       floe_active_request_is_connected(a2),
	       "both see the client listening");
	floe_pending_response_drop(p);
	tap_ok(!floe_active_request_is_connected(a1) &&
		       !floe_active_request_is_connected(a2),
	       "both see it gone once it dropped the pending response");
	tap_ok(floe_active_request_send_copy(a1, &one, sizeof(one)) == 0 &&
		       floe_active_request_send_copy(a2, &one, sizeof(one)) == 0,
	       "neither sends it anything");
	floe_active_request_drop(a1);
	floe_active_request_drop(a2);

	floe_server_destroy(s2);
	floe_server_destroy(s1);
	floe_client_destroy(c);
	floe_service_close(svc);
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
