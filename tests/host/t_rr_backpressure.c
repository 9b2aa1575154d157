// SPDX-License-Identifier: MIT
/*
 * A client's response buffer is full. With FLOE_DELIVER_DISCARD the
 * server's sends beyond the buffer are dropped (the client gets exactly
 * the buffer's worth, oldest first, then the end of the stream, whose
 * marker is never dropped); with FLOE_DELIVER_BLOCK the server waits for a
 * slow client and every response arrives, in order.
 */
#include "rr_helpers.h"

#define SERVICE "t/rr/backpressure"
#define BUFFER 4
#define ASKED 40

static int run(floe_client *client, enum floe_unable_to_deliver bp,
	       uint64_t seq, uint64_t *got)
{
	struct rr_server_arg sa;
	floe_pending_response *p;
	const floe_response *resp;
	struct rr_req req;
	uint64_t id, answered;
	pid_t pid;
	int r;

	rr_server_init(&sa, SERVICE);
	sa.backpressure = bp;
	sa.report_each = 1;
	pid = th_fork(rr_server_process, &sa);
	th_recv_u64(&sa.ready, &id, 10000);
	rr_fill_req(&req, 2, seq, ASKED);
	if (floe_client_send_copy(client, &req, sizeof(req), &p) != 1)
		return -1;
	/* DISCARD: let the server finish before reading anything */
	if (bp == FLOE_DELIVER_DISCARD &&
	    th_recv_u64(&sa.count, &answered, 10000))
		return -1;
	*got = 0;
	while ((r = rr_receive(p, &resp, 10000)) == 1) {
		const struct rr_resp *x = floe_response_payload(resp);

		/* BLOCK: strictly in order; DISCARD: the first ones */
		if (!rr_resp_ok(x, 2, seq, *got))
			r = -100;
		floe_response_release(resp);
		if (r == -100)
			break;
		++*got;
		if (bp == FLOE_DELIVER_BLOCK)
			th_sleep_us(200); /* a slow reader */
	}
	floe_pending_response_drop(p);
	th_send_u64(&sa.stop, 1);
	if (th_wait(pid, 10000) != 0)
		return -2;
	return r;
}

int main(void)
{
	const char *domain = th_setup("rrbackp");
	struct floe_rr_qos q;
	struct floe_rr_opts o = rr_opts(&q);
	floe_node *node = NULL;
	floe_service *svc = NULL;
	floe_client *client = NULL;
	uint64_t got = 0;

	tap_plan(8);
	tap_require(floe_node_create("client", NULL, &node) == 0, "node");
	floe_rr_qos_init(&q);
	q.max_response_buffer_size = BUFFER;
	tap_require(floe_rr_create(node, SERVICE, &o, &svc) == 0, "create");
	tap_require(floe_client_create(svc, NULL, &client) == 0, "client");
	tap_eq(run(client, FLOE_DELIVER_DISCARD, 0, &got),
	       FLOE_E_END_OF_STREAM, "discard: the stream still ends");
	tap_eq(got, BUFFER, "discard: the first %d of %d arrive", BUFFER, ASKED);
	tap_eq(run(client, FLOE_DELIVER_BLOCK, 1, &got), FLOE_E_END_OF_STREAM,
	       "block: the stream ends");
	tap_eq(got, ASKED, "block: all %d arrive in order", ASKED);
	floe_client_destroy(client);
	floe_service_close(svc);
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
