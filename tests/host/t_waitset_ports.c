// SPDX-License-Identifier: MIT
/*
 * Receiving ports on a WaitSet, in each way it can wait on them: io_uring
 * on the ports' futex words (where the kernel has IORING_OP_FUTEX_WAIT),
 * io_uring polling their descriptors, and epoll. In each: DATA when a
 * publisher in another process sends, level-triggered (what a callback
 * leaves is reported again), nothing once detached, MISSED_DEADLINE for a
 * silent port, servers and clients too, no lost wake-up over many rounds,
 * and no sleeper left counted in the port's wake cell once the waitset
 * stopped waiting (else every send would cost a system call).
 */
#include "engine/engine.h"
#include "rr_helpers.h"

#define SERVICE "t/ws/ports"
#define RR_SERVICE "t/ws/ports/rr"
#define ROUNDS 500

static const struct floe_type u64_type = {
	.name = "t_ws_ports.U64", .size = 8, .align = 8
};

static floe_service *open_svc(floe_node *node)
{
	struct floe_pubsub_qos q;
	struct floe_service_opts o = { .type = u64_type, .qos = &q };
	floe_service *svc = NULL;

	floe_pubsub_qos_init(&q);
	q.subscriber_max_buffer_size = 8;
	q.subscriber_max_borrowed_samples = 4;
	if (floe_service_open_or_create(node, SERVICE, &o, &svc))
		return NULL;
	return svc;
}

/* Child: a publisher sending one sample per byte read from @cmd. */
struct pub_child {
	struct th_pipe cmd, ready;
};

static int publisher_child(void *p)
{
	struct pub_child *a = p;
	floe_node *node = th_node("pub");
	floe_service *svc = node ? open_svc(node) : NULL;
	floe_publisher *pub = NULL;
	uint64_t v;

	if (!th_check(svc && !floe_publisher_create(svc, NULL, &pub), "pub"))
		return 1;
	th_send_u64(&a->ready, 0);
	while (th_recv_u64(&a->cmd, &v, 30000) == 0 && v != UINT64_MAX) {
		int r = floe_publisher_send_copy(pub, &v, sizeof(v));

		th_send_u64(&a->ready, (uint64_t)r);
	}
	floe_publisher_destroy(pub);
	floe_service_close(svc);
	floe_node_destroy(node);
	return th_child_result();
}

struct seen {
	int data, deadline, other;
	void *user;
	floe_subscriber *drain; /* receive until 0, else leave one */
	int take;               /* receive at most this many (0: all) */
	uint32_t sleepers;      /* counted in the wake cell, in the callback */
};

static uint32_t sleepers(floe_subscriber *sub)
{
	return atomic_load(&floe_receiver_wake(floe_subscriber_receiver(sub))
				    ->want) & FLOE_WANT_SLEEPERS;
}

static int on_trigger(floe_waitset *ws, int id, enum floe_trigger t,
		      void *user)
{
	struct seen *s = user;
	const floe_sample *smp;
	int n = 0;

	(void)ws;
	(void)id;
	s->user = user;
	if (t == FLOE_TRIGGER_DATA) {
		s->data++;
		if (s->drain)
			s->sleepers = sleepers(s->drain);
		while (s->drain && (!s->take || n < s->take) &&
		       floe_subscriber_receive(s->drain, &smp) == 1) {
			floe_sample_release(smp);
			n++;
		}
	} else if (t == FLOE_TRIGGER_MISSED_DEADLINE) {
		s->deadline++;
	} else {
		s->other++;
	}
	return 0;
}

static void one_mode(floe_service *svc,
		     struct pub_child *pc, enum floe_waitset_impl impl,
		     bool descriptors)
{
	struct floe_waitset_opts wo = { .impl = impl,
					.port_descriptors = descriptors };
	const char *mode;
	floe_waitset *ws;
	floe_subscriber *sub;
	struct seen s = { 0 };
	uint64_t v;
	int id, r, n, ok;

	tap_require(!floe_waitset_create(&wo, &ws) &&
			    !floe_subscriber_create(svc, NULL, &sub),
		    "waitset and subscriber");
	mode = floe_waitset_uses_futex(ws) ? "futex words" : "descriptors";
	tap_diag("%s on %s", floe_waitset_impl_name(floe_waitset_impl(ws)),
		 mode);
	tap_ok(!floe_waitset_uses_futex(ws) ||
		       (impl != FLOE_WAITSET_EPOLL && !descriptors),
	       "[%s] futex mode only on io_uring when not declined", mode);
	id = floe_waitset_attach_subscriber(ws, sub, 0, &s);
	tap_ok(id >= 0, "[%s] attach", mode);
	tap_eq(floe_waitset_attach_subscriber(ws, sub, 0, &s), FLOE_E_ATTACHED,
	       "[%s] twice: FLOE_E_ATTACHED", mode);
	tap_eq(floe_waitset_run_once(ws, 0, on_trigger), 0,
	       "[%s] nothing waits: no trigger", mode);

	/* woken by another process's send */
	th_send_u64(&pc->cmd, 1);
	th_recv_u64(&pc->ready, &v, 10000);
	s.drain = sub;
	s.take = 0;
	r = floe_waitset_run_once(ws, 10ULL * 1000000000ULL, on_trigger);
	tap_ok(r == 1 && s.data == 1 && s.user == &s && v == 1,
	       "[%s] DATA for a send (%d, %d)", mode, r, s.data);
	tap_eq(s.sleepers, 0, "[%s] no sleeper counted in the callback",
	       mode);

	/* level-triggered */
	th_send_u64(&pc->cmd, 2);
	th_recv_u64(&pc->ready, &v, 10000);
	th_send_u64(&pc->cmd, 3);
	th_recv_u64(&pc->ready, &v, 10000);
	s.take = 1;
	ok = floe_waitset_run_once(ws, 10ULL * 1000000000ULL, on_trigger) == 1;
	ok &= floe_waitset_run_once(ws, 10ULL * 1000000000ULL, on_trigger) == 1;
	tap_ok(ok && s.data == 3, "[%s] what a callback leaves is reported "
	       "again (%d)", mode, s.data);
	s.take = 0;
	tap_eq(floe_waitset_run_once(ws, 50 * 1000000ULL, on_trigger), 0,
	       "[%s] drained: no trigger", mode);

	/* many rounds: a lost wake-up would stall */
	for (n = 0; n < ROUNDS; n++) {
		int before = s.data;

		th_send_u64(&pc->cmd, (uint64_t)n);
		for (int k = 0; k < 3 && s.data == before; k++)
			floe_waitset_run_once(ws, 10ULL * 1000000000ULL,
					      on_trigger);
		th_recv_u64(&pc->ready, &v, 10000);
		if (s.data == before)
			break;
	}
	tap_ok(n == ROUNDS, "[%s] %d rounds, each woke the waitset (%d)", mode,
	       ROUNDS, n);

	/* detached: nothing */
	tap_eq(floe_waitset_detach(ws, id), 0, "[%s] detach", mode);
	tap_eq(sleepers(sub), 0, "[%s] detached: no sleeper counted", mode);
	th_send_u64(&pc->cmd, 9);
	th_recv_u64(&pc->ready, &v, 10000);
	tap_eq(floe_waitset_run_once(ws, 100 * 1000000ULL, on_trigger), 0,
	       "[%s] detached: no trigger", mode);
	{
		const floe_sample *smp;

		while (floe_subscriber_receive(sub, &smp) == 1)
			floe_sample_release(smp);
	}

	/* a silent port misses its deadline */
	memset(&s, 0, sizeof(s));
	id = floe_waitset_attach_subscriber(ws, sub, 100 * 1000000ULL, &s);
	r = floe_waitset_run_once(ws, 10ULL * 1000000000ULL, on_trigger);
	tap_ok(id >= 0 && r == 1 && s.deadline == 1 && !s.data,
	       "[%s] MISSED_DEADLINE for a silent port", mode);
	floe_waitset_destroy(ws);
	tap_eq(sleepers(sub), 0, "[%s] waitset gone: no sleeper counted", mode);
	floe_subscriber_destroy(sub);
}

/* A server and a client on one waitset: request, then its response. */
static void rr_mode(floe_node *node, bool descriptors)
{
	struct floe_waitset_opts wo = { .port_descriptors = descriptors };
	struct floe_rr_opts o = rr_opts(NULL);
	floe_service *svc = NULL;
	floe_server *srv = NULL;
	floe_client *cl = NULL;
	floe_waitset *ws;
	floe_pending_response *p;
	floe_active_request *a;
	const floe_response *resp;
	struct seen ss = { 0 }, cs = { 0 };
	struct rr_req req;
	int ok;

	tap_require(!floe_rr_open_or_create(node, RR_SERVICE, &o, &svc) &&
			    !floe_server_create(svc, NULL, &srv) &&
			    !floe_client_create(svc, NULL, &cl) &&
			    !floe_waitset_create(&wo, &ws),
		    "rr ports");
	ok = floe_waitset_attach_server(ws, srv, 0, &ss) >= 0 &&
	     floe_waitset_attach_client(ws, cl, 0, &cs) >= 0;
	rr_fill_req(&req, 1, 1, 1);
	ok &= floe_client_send_copy(cl, &req, sizeof(req), &p) == 1;
	ok &= floe_waitset_run_once(ws, 10ULL * 1000000000ULL, on_trigger) == 1;
	tap_ok(ok && ss.data == 1 && !cs.data, "server: DATA for a request");
	ok = floe_server_receive(srv, &a) == 1 && !rr_answer(a);
	floe_active_request_drop(a);
	ok &= floe_waitset_run_once(ws, 10ULL * 1000000000ULL, on_trigger) >= 1;
	tap_ok(ok && cs.data >= 1, "client: DATA for the response");
	ok = rr_receive(p, &resp, 1000) == 1;
	floe_response_release(resp);
	tap_ok(ok && rr_receive(p, &resp, 1000) == FLOE_E_END_OF_STREAM,
	       "response and end received");
	floe_pending_response_drop(p);
	floe_waitset_destroy(ws);
	floe_client_destroy(cl);
	floe_server_destroy(srv);
	floe_service_close(svc);
}

int main(void)
{
	const char *domain = th_setup("wsports");
	floe_node *node = th_node("waiter");
	floe_service *svc = node ? open_svc(node) : NULL;
	struct pub_child pc;
	uint64_t v;
	pid_t pid;

	tap_require(svc, "service");
	tap_eq(floe_waitset_attach_subscriber(NULL, NULL, 0, NULL),
	       FLOE_E_INVALID, "NULL arguments");
	th_pipe_init(&pc.cmd);
	th_pipe_init(&pc.ready);
	pid = th_fork(publisher_child, &pc);
	tap_require(th_recv_u64(&pc.ready, &v, 10000) == 0, "publisher");
	one_mode(svc, &pc, FLOE_WAITSET_IO_URING, false);
	one_mode(svc, &pc, FLOE_WAITSET_IO_URING, true);
	one_mode(svc, &pc, FLOE_WAITSET_EPOLL, false);
	th_send_u64(&pc.cmd, UINT64_MAX);
	tap_eq(th_wait(pid, 10000), 0, "publisher child");
	rr_mode(node, false);
	rr_mode(node, true);
	floe_service_close(svc);
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
