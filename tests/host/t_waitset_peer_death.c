// SPDX-License-Identifier: MIT
/*
 * A sender that dies wakes the waitset its receivers sleep on, though a
 * process killed by SIGKILL writes nobody's futex word or doorbell: a
 * client waiting on a waitset for the response of a server that is
 * SIGKILLed with the request taken and unanswered gets DATA within a
 * bound, and its pending response then reports FLOE_E_DEAD. In each way
 * a waitset can wait on a port: io_uring on its futex word, io_uring on
 * its descriptor, epoll.
 */
#include "rr_helpers.h"

#define SERVICE "t/ws/peer-death"

struct seen {
	int data, other;
};

static int on_trigger(floe_waitset *ws, int id, enum floe_trigger t,
		      void *user)
{
	struct seen *s = user;

	(void)ws;
	(void)id;
	if (t == FLOE_TRIGGER_DATA)
		s->data++;
	else
		s->other++;
	return 0;
}

static void one_mode(floe_service *svc, enum floe_waitset_impl impl,
		     bool descriptors)
{
	struct floe_waitset_opts wo = { .impl = impl,
					.port_descriptors = descriptors };
	const char *how = impl == FLOE_WAITSET_EPOLL ? "epoll"
			  : descriptors		     ? "io_uring, descriptor"
						     : "io_uring";
	floe_client *client = NULL;
	floe_waitset *ws = NULL;
	floe_pending_response *p = NULL;
	const floe_response *resp;
	struct rr_server_arg sa;
	struct rr_req req;
	struct seen s = { 0 };
	uint64_t id, t0, waited;
	pid_t pid;
	int r;

	tap_require(floe_client_create(svc, NULL, &client) == 0 &&
			    floe_waitset_create(&wo, &ws) == 0 &&
			    floe_waitset_attach_client(ws, client, 0, &s) >= 0,
		    "%s: client on a waitset", how);
	tap_require(rr_server_init(&sa, SERVICE) == 0, "pipes");
	sa.hold_last = 1; /* takes the request, never ends its stream */
	sa.report_each = 1;
	pid = th_fork(rr_server_process, &sa);
	tap_require(th_recv_u64(&sa.ready, &id, 10000) == 0, "server ready");
	rr_fill_req(&req, 1, 0, 0);
	tap_eq(floe_client_send_copy(client, &req, sizeof(req), &p), 1,
	       "%s: request sent", how);
	/* its stream is open when it dies */
	tap_require(th_recv_u64(&sa.count, &id, 10000) == 0,
		    "%s: the server took it", how);
	/* nothing to report while it lives; the waitset then sleeps */
	r = floe_waitset_run_once(ws, 100 * 1000000ull, on_trigger);
	tap_ok(r == 0 && !s.data && !s.other,
	       "%s: nothing while the server lives", how);
	th_kill(pid);

	t0 = th_now_ns();
	while (!s.data && th_now_ns() - t0 < 5000000000ull)
		floe_waitset_run_once(ws, 1000 * 1000000ull, on_trigger);
	waited = (th_now_ns() - t0) / 1000000;
	tap_ok(s.data >= 1 && !s.other,
	       "%s: the server's death wakes the waitset (%d DATA, %" PRIu64
	       " ms)", how, s.data, waited);
	tap_ok(waited < 2000, "%s: within 2 s", how);
	r = floe_pending_response_receive(p, &resp);
	tap_eq(r, FLOE_E_DEAD, "%s: then the response reports the death", how);
	floe_pending_response_drop(p);
	floe_waitset_destroy(ws);
	floe_client_destroy(client);
}

int main(void)
{
	const char *domain = th_setup("wspeerdeath");
	struct floe_rr_opts o = rr_opts(NULL);
	floe_node *node = NULL;
	floe_service *svc = NULL;

	tap_plan(30);
	tap_require(floe_node_create("client", NULL, &node) == 0, "node");
	tap_require(floe_rr_create(node, SERVICE, &o, &svc) == 0, "create");
	one_mode(svc, FLOE_WAITSET_IO_URING, false);
	one_mode(svc, FLOE_WAITSET_IO_URING, true);
	one_mode(svc, FLOE_WAITSET_EPOLL, false);
	floe_service_close(svc);
	floe_node_cleanup_dead(node);
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
