// SPDX-License-Identifier: MIT
/*
 * Hostile peers of request-response: a server sending responses and end
 * markers with forged tags (other channels, stale sequences, channels out
 * of range), a client sending requests with forged tags, and finally
 * random bytes over every queue of the service. Nothing
 * may crash; forged responses never reach a pending response; calls
 * return valid codes; genuine traffic still works after the forgeries.
 * (Test of internals: forges through the library's private API.)
 */
#include "engine/engine.h"
#include "rr.h"
#include "rr_helpers.h"

#define SERVICE "t/rr/hostile"

static int valid_code(int r)
{
	return r <= 1 && r >= FLOE_E_NO_RESPONSE;
}

/* One genuine round trip; 1 if the response and the end came. */
static int round_trip(floe_client *c, floe_server *s, uint64_t seq)
{
	floe_pending_response *p;
	floe_active_request *a;
	const floe_response *resp;
	struct rr_req req;
	int ok, r;

	rr_fill_req(&req, 1, seq, 1);
	if (floe_client_send_copy(c, &req, sizeof(req), &p) != 1)
		return 0;
	while ((r = floe_server_receive(s, &a)) == 1 &&
	       !rr_req_ok(floe_active_request_payload(a)))
		floe_active_request_drop(a); /* a forged one */
	if (r != 1)
		return 0;
	rr_answer(a);
	floe_active_request_drop(a);
	ok = rr_receive(p, &resp, 2000) == 1 &&
	     rr_resp_ok(floe_response_payload(resp), 1, seq, 0);
	if (ok)
		floe_response_release(resp);
	ok &= rr_receive(p, &resp, 2000) == FLOE_E_END_OF_STREAM;
	floe_pending_response_drop(p);
	return ok;
}

int main(void)
{
	const char *domain = th_setup("rrhostile");
	struct floe_rr_opts o = rr_opts(NULL);
	floe_node *node = NULL;
	floe_service *svc = NULL;
	floe_client *c = NULL;
	floe_server *s = NULL;
	struct floe_sender *spub, *cpub;
	floe_pending_response *p;
	floe_active_request *a;
	const floe_response *resp;
	struct floe_target to = { .slot = 0 };
	struct rr_req req;
	int r, forged_seen = 0, valid = 1;
	uint8_t *base;

	tap_plan(15);
	tap_require(floe_node_create("hostile", NULL, &node) == 0, "node");
	tap_require(floe_rr_create(node, SERVICE, &o, &svc) == 0, "create");
	tap_require(floe_server_create(svc, NULL, &s) == 0, "server");
	tap_require(floe_client_create(svc, NULL, &c) == 0, "client");
	spub = floe_server_sender(s);
	cpub = floe_client_sender(c);
	to.id = floe_client_id(c);
	tap_ok(round_trip(c, s, 0), "genuine round trip");

	/* A forging server: responses and markers with tags of other
	 * channels, stale sequences, out-of-range channels. */
	rr_fill_req(&req, 1, 1, 0);
	tap_require(floe_client_send_copy(c, &req, sizeof(req), &p) == 1,
		    "request");
	tap_require(floe_server_receive(s, &a) == 1, "server has it");
	for (int i = 0; i < 200; i++) {
		floe_sample_mut *m;
		uint64_t tag = th_rand();

		if (i % 3 == 0)
			floe_sender_mark(spub, &to, (uint32_t)tag);
		else if (floe_sender_loan(spub, 1, NULL, &m) == 0)
			floe_sender_send(m, &to, i % 2 ? tag : tag & 0xffff, NULL);
		while ((r = floe_pending_response_receive(p, &resp)) == 1) {
			forged_seen++;
			floe_response_release(resp);
		}
		valid &= valid_code(r);
		floe_server_update_connections(s);
	}
	tap_ok(!forged_seen && valid,
	       "forged responses never reach the pending response");
	floe_active_request_drop(a);
	tap_eq(rr_receive(p, &resp, 2000), FLOE_E_END_OF_STREAM,
	       "the genuine end still arrives");
	floe_pending_response_drop(p);

	/* A forging client: requests with random tags. */
	for (int i = 0; i < 200; i++) {
		floe_sample_mut *m;

		if (floe_sender_loan(cpub, 1, NULL, &m) == 0) {
			rr_fill_req(floe_sample_mut_payload(m), 1, 99, 0);
			floe_sender_send(m, NULL, th_rand(), NULL);
		}
		while ((r = floe_server_receive(s, &a)) == 1) {
			floe_response_mut *rm;

			if (floe_active_request_loan(a, 1, &rm) == 0)
				floe_response_mut_send(rm);
			floe_active_request_drop(a);
		}
		valid &= valid_code(r);
	}
	tap_ok(valid && round_trip(c, s, 2),
	       "forged requests rejected or served, genuine ones still work");

	/* A forged request on a channel the client uses next: its end
	 * marker, still queued, must not end the genuine stream. */
	{
		floe_sample_mut *m;

		tap_require(floe_sender_loan(cpub, 1, NULL, &m) == 0,
			    "forged request loan");
		rr_fill_req(floe_sample_mut_payload(m), 1, 98, 0);
		floe_sender_send(m, NULL, 12345ULL << TAG_SEQ_SHIFT, NULL);
		tap_require(floe_server_receive(s, &a) == 1,
			    "server has the forged request");
		floe_active_request_drop(a);
	}
	tap_ok(round_trip(c, s, 3),
	       "a forged request's end marker cannot end the next stream");

	/* Random bytes over every queue. */
	base = svc->seg.addr;
	for (int round = 0; round < 20; round++) {
		for (uint64_t off = svc->lay.body_off; off < svc->lay.size;
		     off += 8)
			if (th_rand_below(4) == 0)
				*(volatile uint64_t *)(base + off) = th_rand();
		int sent;

		rr_fill_req(&req, 1, 3, 1);
		sent = floe_client_send_copy(c, &req, sizeof(req), &p);
		valid &= sent >= 0 || valid_code(sent) ||
			 sent == FLOE_E_ACTIVE_LIMIT;
		while ((r = floe_server_receive(s, &a)) == 1) {
			floe_active_request_is_connected(a);
			rr_answer(a);
			floe_active_request_drop(a);
		}
		valid &= valid_code(r);
		if (sent < 0)
			continue;
		while ((r = floe_pending_response_receive(p, &resp)) == 1)
			floe_response_release(resp);
		valid &= valid_code(r) || r == FLOE_E_END_OF_STREAM ||
			 r == FLOE_E_DEAD;
		floe_pending_response_drop(p);
	}
	tap_ok(valid, "random bytes everywhere: no crash, valid codes");
	floe_client_destroy(c);
	floe_server_destroy(s);
	floe_service_close(svc);
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
