// SPDX-License-Identifier: MIT
/*
 * Request-response basics: a client process and a server process; each
 * request gets one response with the contents it asked for, then the
 * stream ends (FLOE_E_END_OF_STREAM). Type and pattern checks: opening
 * with another request or response type fails with FLOE_E_TYPE_MISMATCH,
 * pub-sub ports refuse the service and clients refuse a pub-sub one, a
 * bad QoS is refused, and nothing is left behind.
 */
#include "rr_helpers.h"

#define SERVICE "t/rr/basic"

struct listing {
	int services, clients, servers;
	struct floe_service_info info;
};

static int on_service(const struct floe_service_info *info, void *ctx)
{
	struct listing *l = ctx;

	if (info->pattern == FLOE_PATTERN_KIND_REQUEST_RESPONSE) {
		l->services++;
		l->info = *info;
	}
	return 0;
}

static int on_port(const struct floe_port_info *info, void *ctx)
{
	struct listing *l = ctx;

	l->clients += info->role == FLOE_PORT_CLIENT &&
		      info->pattern == FLOE_PATTERN_KIND_REQUEST_RESPONSE;
	l->servers += info->role == FLOE_PORT_SERVER &&
		      info->pattern == FLOE_PATTERN_KIND_REQUEST_RESPONSE;
	return 0;
}

int main(void)
{
	const char *domain = th_setup("rrbasic");
	struct floe_rr_opts o = rr_opts(NULL);
	struct floe_service_opts po = { .type = rr_req_type };
	struct floe_rr_qos q;
	struct rr_server_arg sa;
	struct listing l = { 0 };
	floe_node *node = NULL;
	floe_service *svc = NULL, *other = NULL, *ps = NULL;
	floe_client *client = NULL;
	floe_publisher *pub = NULL;
	floe_client *bad_client = NULL;
	floe_pending_response *p;
	const floe_response *resp;
	uint64_t server_id = 0, answered = 0;
	int r, ok_all = 1, ended = 1, seen = 0;
	pid_t pid;

	tap_plan(23);
	tap_require(floe_node_create("client", NULL, &node) == 0, "node");
	tap_require(rr_server_init(&sa, SERVICE) == 0, "pipes");

	floe_rr_qos_init(&q);
	q.max_active_requests_per_client = 0;
	r = floe_rr_create(node, SERVICE, &(struct floe_rr_opts){
		.request_type = rr_req_type, .response_type = rr_resp_type,
		.qos = &q }, &svc);
	tap_eq(r, FLOE_E_INVALID, "zero active requests per client refused");
	o.response_type.name = "";
	tap_eq(floe_rr_create(node, SERVICE, &o, &svc), FLOE_E_NAME,
	       "empty response type name refused");

	o = rr_opts(NULL);
	r = floe_rr_create(node, SERVICE, &o, &svc);
	tap_require(r == 0, "create: %s", floe_strerror(r));

	o.response_type.size = 8;
	tap_eq(floe_rr_open(node, SERVICE, &o, &other), FLOE_E_TYPE_MISMATCH,
	       "other response size: type mismatch");
	o = rr_opts(NULL);
	o.request_type.name = "t_rr.Other";
	tap_eq(floe_rr_open(node, SERVICE, &o, &other), FLOE_E_TYPE_MISMATCH,
	       "other request type: type mismatch");
	o = rr_opts(NULL);
	q.max_active_requests_per_client = 1000;
	q.max_clients = q.max_servers = q.max_nodes = 0;
	q.max_loaned_requests = q.max_response_buffer_size = 0;
	q.max_loaned_responses = 0;
	o.qos = &q;
	tap_eq(floe_rr_open(node, SERVICE, &o, &other), FLOE_E_QOS_MISMATCH,
	       "demanding more active requests: QoS mismatch");
	tap_eq(floe_service_open(node, SERVICE, &po, &ps), FLOE_E_NOT_FOUND,
	       "no pub-sub service of that name");
	tap_eq(floe_publisher_create(svc, NULL, &pub), FLOE_E_PATTERN,
	       "publisher refuses a request-response service");
	r = floe_service_create(node, SERVICE, &po, &ps);
	tap_require(r == 0, "pub-sub service of the same name: %s",
		    floe_strerror(r));
	tap_eq(floe_client_create(ps, NULL, &bad_client), FLOE_E_PATTERN,
	       "client refuses a pub-sub service");
	floe_service_close(ps);

	r = floe_client_create(svc, NULL, &client);
	tap_require(r == 0, "client: %s", floe_strerror(r));

	pid = th_fork(rr_server_process, &sa);
	tap_require(pid > 0, "fork server");
	tap_require(th_recv_u64(&sa.ready, &server_id, 10000) == 0,
		    "server ready");

	for (uint64_t seq = 0; seq < 100; seq++) {
		floe_request_mut *req;

		r = floe_client_loan(client, 1, &req);
		if (r) {
			ok_all = 0;
			tap_diag("loan: %s", floe_strerror(r));
			break;
		}
		rr_fill_req(floe_request_mut_payload(req), 7, seq, 1);
		r = floe_request_mut_send(req, &p);
		if (r != 1) {
			ok_all = 0;
			tap_diag("send %" PRIu64 " reached %d", seq, r);
			break;
		}
		r = rr_receive(p, &resp, 10000);
		if (r != 1 || floe_response_payload_size(resp) !=
				      sizeof(struct rr_resp) ||
		    floe_response_len(resp) != 1 ||
		    floe_response_server_id(resp) != server_id ||
		    !rr_resp_ok(floe_response_payload(resp), 7, seq, 0)) {
			ok_all = 0;
			tap_diag("response %" PRIu64 ": %d", seq, r);
			break;
		}
		seen++;
		floe_response_release(resp);
		r = rr_receive(p, &resp, 10000);
		if (r != FLOE_E_END_OF_STREAM) {
			ended = 0;
			tap_diag("end of %" PRIu64 ": %s", seq, floe_strerror(r));
		}
		floe_pending_response_drop(p);
	}
	tap_ok(ok_all && seen == 100, "100 requests, 100 checked responses");
	floe_service_list(node, on_service, &l);
	floe_port_list(node, on_port, &l);
	tap_ok(l.services == 1 && l.info.publishers == 1 &&
	       l.info.subscribers == 1 &&
	       !strcmp(l.info.type_name, rr_req_type.name) &&
	       !strcmp(l.info.response_type_name, rr_resp_type.name) &&
	       l.info.response_type_size == sizeof(struct rr_resp) &&
	       l.info.rr_qos.max_active_requests_per_client == 4,
	       "discovery: the service, both types, one client, one server");
	tap_ok(l.clients == 1 && l.servers == 1,
	       "discovery: a client port and a server port");
	tap_ok(ended, "every stream ended after its response");
	tap_eq(floe_client_send_copy(client, "x", 1, &p), FLOE_E_INVALID,
	       "send_copy of a partial request refused");

	th_send_u64(&sa.stop, 1);
	th_recv_u64(&sa.count, &answered, 10000);
	tap_eq(th_wait(pid, 10000), 0, "server exit");
	tap_eq(answered, 100, "server answered 100");
	floe_client_destroy(client);
	floe_service_close(svc);
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
