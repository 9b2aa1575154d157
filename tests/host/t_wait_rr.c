// SPDX-License-Identifier: MIT
/*
 * Request-response ports wait without polling: a server process sleeps
 * in floe_server_wait until a request comes (rr_server_process); a
 * client's floe_pending_response_wait returns 1 for a response, for the
 * end of the streams and for a server's death (receive then says which),
 * and 0 at its timeout; floe_server_fd and floe_client_fd are readable
 * exactly while something waits; a SIGKILLed client wakes a waiting
 * server with FLOE_E_DEAD.
 */
#include <poll.h>

#include "rr_helpers.h"

#define SERVICE "t/wait/rr"

static int readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/*
 * Once @p's stream is over and taken, @fd is not readable. A server rings
 * the doorbell just after it queued an entry, so a ring may still arrive
 * for an entry already taken: the next receive empties it (within 1 s,
 * else the descriptor is stuck readable).
 */
static int settles(int fd, floe_pending_response *p)
{
	const floe_response *resp;

	for (int i = 0; i < 100; i++) {
		if (floe_pending_response_receive(p, &resp) !=
		    FLOE_E_END_OF_STREAM)
			return 0;
		if (!readable(fd, 0))
			return 1;
		th_sleep_ms(10);
	}
	return 0;
}

/* A client process that sends one request, reports, and waits to die. */
static int client_child(void *arg)
{
	struct th_pipe *ready = arg;
	struct floe_rr_opts o = rr_opts(NULL);
	floe_node *node = th_node("client");
	floe_service *svc = NULL;
	floe_client *c = NULL;
	floe_pending_response *p;
	struct rr_req req;

	if (!node || !th_check(!floe_rr_open_or_create(node, SERVICE, &o, &svc) &&
				       !floe_client_create(svc, NULL, &c),
			       "client"))
		return 1;
	rr_fill_req(&req, 9, 1, 0);
	th_check(floe_client_send_copy(c, &req, sizeof(req), &p) == 1,
		 "request reached the server");
	th_send_u64(ready, 1);
	for (;;)
		pause();
}

int main(void)
{
	const char *domain = th_setup("waitrr");
	struct floe_rr_opts o = rr_opts(NULL);
	struct rr_server_arg sa;
	floe_node *node = th_node("waiter");
	floe_service *svc = NULL;
	floe_client *c = NULL;
	floe_server *s = NULL;
	floe_pending_response *p;
	floe_active_request *a;
	const floe_response *resp;
	struct rr_req req;
	struct th_pipe ready;
	uint64_t v, t0;
	pid_t pid;
	int fd, r, ok;

	tap_plan(27);
	tap_require(node && !floe_rr_create(node, SERVICE, &o, &svc) &&
			    !floe_client_create(svc, NULL, &c),
		    "client");
	tap_eq(floe_server_wait(NULL, 0), FLOE_E_INVALID, "NULL server");
	tap_eq(floe_pending_response_wait(NULL, 0), FLOE_E_INVALID,
	       "NULL pending response");
	tap_eq(floe_client_fd(NULL), FLOE_E_INVALID, "NULL client");

	/* a server process that sleeps between requests */
	tap_require(!rr_server_init(&sa, SERVICE), "pipes");
	pid = th_fork(rr_server_process, &sa);
	tap_require(th_recv_u64(&sa.ready, &v, 10000) == 0, "server up");
	rr_fill_req(&req, 1, 1, 3);
	tap_require(floe_client_send_copy(c, &req, sizeof(req), &p) == 1,
		    "request reached the sleeping server");
	ok = 1;
	for (int i = 0; i < 3; i++) {
		ok &= floe_pending_response_wait(p, 10ULL * 1000000000ULL) == 1 &&
		      floe_pending_response_receive(p, &resp) == 1 &&
		      rr_resp_ok(floe_response_payload(resp), 1, 1,
				 (uint64_t)i);
		if (ok)
			floe_response_release(resp);
	}
	tap_ok(ok, "each response woke the client's wait");
	tap_ok(floe_pending_response_wait(p, 10ULL * 1000000000ULL) == 1 &&
		       floe_pending_response_receive(p, &resp) ==
			       FLOE_E_END_OF_STREAM,
	       "the end wakes it too");
	floe_pending_response_drop(p);

	/* the client's descriptor */
	fd = floe_client_fd(c);
	tap_ok(fd >= 0 && !readable(fd, 0), "client fd, not readable");
	rr_fill_req(&req, 1, 2, 1);
	tap_require(floe_client_send_copy(c, &req, sizeof(req), &p) == 1,
		    "second request");
	tap_ok(readable(fd, 10000), "readable once the response came");
	tap_eq(rr_receive(p, &resp, 5000), 1, "the response");
	floe_response_release(resp);
	tap_eq(rr_receive(p, &resp, 5000), FLOE_E_END_OF_STREAM, "its end");
	tap_ok(settles(fd, p), "not readable once all is taken");
	floe_pending_response_drop(p);

	/* a server that dies mid-stream wakes the waiting client */
	sa.hold_last = 1;
	th_send_u64(&sa.stop, 1);
	tap_eq(th_wait(pid, 10000), 0, "server left");
	tap_require(!rr_server_init(&sa, SERVICE), "pipes");
	sa.hold_last = 1;
	sa.report_each = 1;
	pid = th_fork(rr_server_process, &sa);
	tap_require(th_recv_u64(&sa.ready, &v, 10000) == 0, "holding server");
	rr_fill_req(&req, 1, 3, 0);
	floe_client_send_copy(c, &req, sizeof(req), &p);
	th_recv_u64(&sa.count, &v, 10000);
	tap_eq(floe_pending_response_wait(p, 200 * 1000000ULL), 0,
	       "an open stream: the wait times out");
	th_kill(pid);
	t0 = th_now_ns();
	r = floe_pending_response_wait(p, 20ULL * 1000000000ULL);
	tap_ok(r == 1 && floe_pending_response_receive(p, &resp) == FLOE_E_DEAD,
	       "its death wakes the wait (%d after %" PRIu64 " ms)", r,
	       (th_now_ns() - t0) / 1000000);
	floe_pending_response_drop(p);

	/* a server of our own: its descriptor, and a client's death */
	tap_require(!floe_server_create(svc, NULL, &s), "server");
	fd = floe_server_fd(s);
	tap_ok(fd >= 0 && !readable(fd, 0), "server fd, not readable");
	th_pipe_init(&ready);
	pid = th_fork(client_child, &ready);
	tap_require(th_recv_u64(&ready, &v, 10000) == 0, "client sent");
	tap_ok(readable(fd, 10000) && floe_server_wait(s, 0) == 1,
	       "the request makes it readable");
	tap_ok(floe_server_receive(s, &a) == 1, "and is received");
	floe_active_request_drop(a);
	th_kill(pid);
	tap_eq(floe_server_wait(s, 20ULL * 1000000000ULL), FLOE_E_DEAD,
	       "a SIGKILLed client wakes the waiting server");

	floe_server_destroy(s);
	floe_client_destroy(c);
	floe_service_close(svc);
	floe_node_cleanup_dead(node);
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
