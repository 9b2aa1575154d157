// SPDX-License-Identifier: MIT
/*
 * A server with FLOE_DELIVER_BLOCK does not wait for what a client's
 * application holds (struct floe_server_opts): while the client keeps
 * the responses it received without releasing them, the server's sends
 * go until it holds more than a full buffer per active request besides
 * its queue, then return 0 at once instead of blocking; once the client
 * released them (and received, which gives them back), the next send
 * reaches it again. Nothing is lost that a
 * send reported queued. (One thread: a send that blocked would hang the
 * test until its watchdog.)
 */
#include "rr_helpers.h"

#define SERVICE "t/rr/block_held"
#define MAX_HELD 1024

int main(void)
{
	struct floe_rr_qos q;
	struct floe_rr_opts o;
	struct floe_server_opts so = { .backpressure = FLOE_DELIVER_BLOCK };
	static const floe_response *held[MAX_HELD];
	floe_node *node = NULL;
	floe_service *svc = NULL;
	floe_client *client = NULL;
	floe_server *server = NULL;
	floe_pending_response *p = NULL;
	floe_active_request *a = NULL;
	struct rr_req req;
	struct rr_resp resp;
	uint32_t budget;
	int r, nheld = 0, sent = 0, bad = 0;

	th_setup("rr_block_held");
	floe_rr_qos_init(&q);
	q.max_clients = 1;
	q.max_servers = 1;
	budget = q.max_active_requests_per_client * q.max_response_buffer_size;
	o = rr_opts(&q);
	tap_plan(5);
	r = floe_node_create("block_held", NULL, &node);
	if (!r)
		r = floe_rr_create(node, SERVICE, &o, &svc);
	if (!r)
		r = floe_client_create(svc, NULL, &client);
	if (!r)
		r = floe_server_create(svc, &so, &server);
	tap_require(r == 0, "node, service, client, server: %s",
		    floe_strerror(r));
	rr_fill_req(&req, 1, 0, 1);
	r = floe_client_send_copy(client, &req, sizeof(req), &p);
	if (r >= 0)
		r = floe_server_receive(server, &a) == 1 ? 0 : -1;
	tap_require(r == 0, "a request reaches the server");

	/* the client takes every response and keeps it */
	for (;;) {
		resp = (struct rr_resp){ .client = 1, .seq = 0, .index = sent,
					 .check = th_pattern(1, sent) };
		r = floe_active_request_send_copy(a, &resp, sizeof(resp));
		if (r != 1 || nheld == MAX_HELD)
			break;
		sent++;
		if (floe_pending_response_receive(p, &held[nheld]) != 1) {
			bad++;
			break;
		}
		nheld++;
	}
	tap_ok(r == 0 && !bad && (uint32_t)nheld > budget,
	       "sends return 0 once the client holds %d (more than %u "
	       "besides its queue), not block (last %d)", nheld, budget, r);
	for (int k = 0; k < nheld; k++) {
		const struct rr_resp *x = floe_response_payload(held[k]);

		bad += !rr_resp_ok(x, 1, 0, (uint64_t)k);
		floe_response_release(held[k]);
	}
	tap_ok(!bad, "every response held arrived intact, in order");
	{
		const floe_response *none;

		/* a release is given back by the next receive (or wait) */
		r = floe_pending_response_receive(p, &none);
		if (r)
			tap_diag("a receive with nothing sent: %d", r);
	}
	resp.index = sent;
	resp.check = th_pattern(1, sent);
	r = floe_active_request_send_copy(a, &resp, sizeof(resp));
	{
		const floe_response *x = NULL;
		int got = floe_pending_response_receive(p, &x);

		tap_ok(r == 1 && got == 1 &&
		       rr_resp_ok(floe_response_payload(x), 1, 0, sent),
		       "released, the client gets the next one (send %d, "
		       "receive %d)", r, got);
		if (got == 1)
			floe_response_release(x);
	}
	floe_active_request_drop(a);
	floe_pending_response_drop(p);
	floe_server_destroy(server);
	floe_client_destroy(client);
	floe_service_close(svc);
	floe_node_destroy(node);
	return tap_done();
}
