// SPDX-License-Identifier: MIT
/*
 * Review of let_go()'s wake (lib/engine/receiver.c): a server letting a
 * gone client go wakes the response receiver of the client now in that
 * client slot, if that client has not connected to the server. Nothing
 * a client sleeps on waits for that connection (a client takes every
 * response), so the wake is for nothing: its descriptor, documented as
 * readable while a response or stream end is queued, turns readable with
 * nothing queued.
 */
#include "rr_helpers.h"

#define SERVICE "t/rr/wake-client"
#define GONE 4 /* clients leaving requests queued: 3 carried + 1 */

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

int main(void)
{
	const char *domain = th_setup("rrwakecl");
	floe_node *node = NULL;
	floe_service *svc = NULL;
	floe_server *srv = NULL;
	floe_client *c = NULL;
	floe_pending_response *p;
	floe_active_request *a;
	struct floe_rr_qos q;
	struct floe_rr_opts o;
	struct rr_req req;
	int sent = 0, taken = 0, fd, r;

	tap_plan(12);
	floe_rr_qos_init(&q);
	q.max_clients = 1;
	q.max_servers = 1;
	o = rr_opts(&q);
	tap_require(floe_node_create("wake-client", NULL, &node) == 0 &&
			    floe_rr_create(node, SERVICE, &o, &svc) == 0 &&
			    floe_server_create(svc, NULL, &srv) == 0,
		    "node, service, server");
	for (uint64_t k = 0; k < GONE; k++) {
		tap_require(floe_client_create(svc, NULL, &c) == 0, "client");
		rr_fill_req(&req, 1, k, 1);
		sent += floe_client_send_copy(c, &req, sizeof(req), &p) == 1;
		floe_pending_response_drop(p);
		floe_client_destroy(c);
	}
	tap_ok(sent == GONE, "%d clients sent a request and left", GONE);
	tap_require(floe_client_create(svc, NULL, &c) == 0, "last client");
	rr_fill_req(&req, 1, GONE, 1);
	r = floe_client_send_copy(c, &req, sizeof(req), &p);
	tap_ok(r == 0, "the last client cannot reach the server yet (%d)", r);
	floe_pending_response_drop(p);
	fd = floe_client_fd(c);
	tap_require(fd >= 0, "client fd");
	tap_ok(!readable(fd), "its descriptor is not readable: nothing queued");
	/* the server reads the gone clients' requests and lets them go */
	while (floe_server_receive(srv, &a) == 1) {
		taken++;
		floe_active_request_drop(a);
	}
	tap_diag("server took %d requests", taken);
	tap_ok(!readable(fd),
	       "the client's descriptor is still not readable (nothing is "
	       "queued for it)");
	tap_ok(floe_client_fd(c) == fd, "same fd");
	floe_client_destroy(c);
	floe_server_destroy(srv);
	floe_service_close(svc);
	floe_node_destroy(node);
	(void)domain;
	return tap_done();
}
