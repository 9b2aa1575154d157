// SPDX-License-Identifier: MIT
/*
 * A server that cannot answer a client's request yet (its connection to
 * the client is full of gone servers' leftovers, so it does not take the
 * request) must be woken once the client reads them and it can: nothing
 * else happens meanwhile, and a waitset has no timeout slice to recover
 * through. The server sleeps in another thread, on a waitset (as it
 * picks: the port's futex word or its descriptor), on a waitset through
 * the port's descriptor, and in epoll on floe_server_fd; it must not wake
 * before the client reads, and must wake and take the request within 2 s
 * of it (it gives up after 5 s).
 */
#include <pthread.h>
#include <sys/epoll.h>

#include "rr_helpers.h"

#define SERVICE "t/rr/carried-wake"
#define LEFT 4 /* servers that leave their answers queued */
#define MS UINT64_C(1000000)
#define GIVE_UP_MS 5000
#define WOKEN_WITHIN_MS 2000
#define CHECKS 10 /* per run; on a waitset, two more */

enum how { ON_WAITSET, ON_WAITSET_FD, ON_EPOLL, HOWS };

static const char *const how_name[HOWS] = {
	"a waitset", "a waitset on the descriptor", "epoll on the descriptor",
};

struct waiter {
	enum how how;
	floe_server *srv;
	floe_waitset *ws;
	_Atomic uint64_t woken; /* when it took the request, or 0 */
	_Atomic bool done;
	int answered;
};

/* Take the request, answer it and end its stream; false if it is not
 * to be taken (yet). */
static bool take_request(struct waiter *w)
{
	floe_active_request *a;

	if (floe_server_receive(w->srv, &a) != 1)
		return false;
	w->woken = th_now_ns();
	w->answered = rr_answer(a) == 0;
	floe_active_request_drop(a);
	return true;
}

static int on_data(floe_waitset *ws, int id, enum floe_trigger t, void *user)
{
	(void)ws;
	(void)id;
	return t == FLOE_TRIGGER_DATA && take_request(user);
}

static void wait_on_epoll(struct waiter *w)
{
	uint64_t deadline = th_now_ns() + GIVE_UP_MS * MS;
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, floe_server_fd(w->srv), &ev)) {
		tap_diag("epoll: %s", strerror(errno));
		goto out;
	}
	for (uint64_t now = th_now_ns(); now < deadline; now = th_now_ns()) {
		int ms = (int)((deadline - now) / MS) + 1;

		if (epoll_wait(ep, &ev, 1, ms) > 0 && take_request(w))
			break;
		/* a ring for nothing: floe_server_receive emptied the
		 * descriptor */
	}
out:
	if (ep >= 0)
		close(ep);
}

static void *wait_for_request(void *arg)
{
	struct waiter *w = arg;

	if (w->how == ON_EPOLL)
		wait_on_epoll(w);
	else
		floe_waitset_run_once(w->ws, GIVE_UP_MS * MS, on_data);
	w->done = true;
	return NULL;
}

static void run(floe_node *node, enum how how)
{
	struct floe_server_opts so = { .backpressure = FLOE_DELIVER_DISCARD };
	struct floe_waitset_opts wo = {
		.port_descriptors = how == ON_WAITSET_FD,
	};
	struct waiter w = { .how = how };
	floe_pending_response *p[LEFT + 1];
	floe_service *svc = NULL;
	floe_client *client = NULL;
	floe_active_request *a;
	struct floe_rr_qos q;
	struct floe_rr_opts o;
	struct rr_req req;
	char name[64];
	int answered = 0, whole = 0, got, r;
	uint64_t t_read;
	pthread_t thread;

	floe_rr_qos_init(&q);
	q.max_clients = 1;
	q.max_servers = 1;
	q.max_active_requests_per_client = LEFT + 1;
	o = rr_opts(&q);
	snprintf(name, sizeof(name), SERVICE "/%d", how);
	tap_require(floe_rr_create(node, name, &o, &svc) == 0, "service");
	tap_require(floe_client_create(svc, NULL, &client) == 0, "client");

	/* servers that answer and leave while the client reads nothing */
	for (uint64_t k = 0; k < LEFT; k++) {
		if (floe_server_create(svc, &so, &w.srv))
			break;
		rr_fill_req(&req, 1, k, 1);
		if (floe_client_send_copy(client, &req, sizeof(req),
					  &p[k]) != 1 ||
		    floe_server_receive(w.srv, &a) != 1)
			break;
		answered += rr_answer(a) == 0;
		floe_active_request_drop(a);
		floe_server_destroy(w.srv);
		w.srv = NULL;
	}
	tap_require(answered == LEFT, "%d servers answered and left", LEFT);

	/* the next one cannot reach the client until it reads */
	tap_require(floe_server_create(svc, &so, &w.srv) == 0, "last server");
	rr_fill_req(&req, 1, LEFT, 1);
	tap_require(floe_client_send_copy(client, &req, sizeof(req),
					  &p[LEFT]) == 1, "the request");
	tap_require(!floe_server_has_requests(w.srv),
		    "the server cannot take it yet");
	if (how != ON_EPOLL) {
		tap_require(floe_waitset_create(&wo, &w.ws) == 0, "waitset");
		tap_require(floe_waitset_attach_server(w.ws, w.srv, 0, &w) >= 0,
			    "attached");
		tap_diag("%s, ports through %s", floe_waitset_impl_name(
				 floe_waitset_impl(w.ws)),
			 floe_waitset_uses_futex(w.ws) ? "futex words"
						       : "descriptors");
	}
	tap_require(pthread_create(&thread, NULL, wait_for_request, &w) == 0,
		    "waiter");
	th_sleep_ms(300);
	tap_ok(!w.done, "%s: the server sleeps while the client reads "
	       "nothing", how_name[how]);

	/* past the first gone server's leftovers: room for the last */
	t_read = th_now_ns();
	for (uint64_t k = 0; k < 2; k++) {
		r = rr_take_stream(p[k], k, &got);
		whole += r == FLOE_E_END_OF_STREAM && got == 1;
		floe_pending_response_drop(p[k]);
	}
	pthread_join(thread, NULL);
	tap_ok(w.woken >= t_read && w.woken - t_read < WOKEN_WITHIN_MS * MS,
	       "%s: the server is woken and takes the request once the "
	       "client read (after %.0f ms)", how_name[how],
	       w.woken ? (double)(w.woken - t_read) / 1e6 : -1.0);
	/* not woken: take it now, as its next wake-up would, so that the
	 * streams can still be checked */
	if (!w.woken)
		take_request(&w);

	for (uint64_t k = 2; k < LEFT; k++) {
		r = rr_take_stream(p[k], k, &got);
		whole += r == FLOE_E_END_OF_STREAM && got == 1;
		floe_pending_response_drop(p[k]);
	}
	r = rr_take_stream(p[LEFT], LEFT, &got);
	tap_ok(whole == LEFT && w.answered && r == FLOE_E_END_OF_STREAM &&
	       got == 1, "%s: every stream whole, the last one answered "
	       "(%d, %s)", how_name[how], got, floe_strerror(r));
	floe_pending_response_drop(p[LEFT]);
	if (w.ws)
		floe_waitset_destroy(w.ws);
	floe_server_destroy(w.srv);
	floe_client_destroy(client);
	floe_service_close(svc);
}

int main(void)
{
	const char *domain = th_setup("rrcwake");
	floe_node *node = NULL;

	tap_plan(HOWS * CHECKS + 2 * 2 + 2);
	tap_require(floe_node_create("carried-wake", NULL, &node) == 0,
		    "node");
	for (enum how how = 0; how < HOWS; how++)
		run(node, how);
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
