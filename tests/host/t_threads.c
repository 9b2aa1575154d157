// SPDX-License-Identifier: MIT
/*
 * Threads sharing one node and its service handles (floe.h: "a node may
 * be shared by threads that create and destroy ports concurrently; a port
 * and its samples are used by one thread at a time"):
 *
 *  - churn: 4 threads each repeatedly open and close a service handle of
 *    their own on a shared service and create and destroy their own
 *    publisher, subscriber, notifier, listener, client and server (in
 *    random order) on shared handles, with a little traffic between their
 *    own ports: a sample from their publisher reaches their subscriber,
 *    an event from their notifier their listener, a request from their
 *    client their server, once that took what waited for it: the
 *    others' ports send to it too and leave, and one that stopped
 *    reading while four times as many of them as its service has free
 *    slots came, sent and left is reached by a new sender only once it
 *    read (docs/reliability.md; a thread stalled on a loaded machine
 *    meets that). No call may fail (the limits leave room; a full
 *    service is retried a moment), and opening the service - open all
 *    along - never says FLOE_E_BUSY;
 *  - pub-sub across threads: a publisher on one thread, its subscriber on
 *    another (blocking publisher, no safe overflow): every sample arrives
 *    once, in order, intact, and every send reports 1 subscriber;
 *  - events across threads: a notifier and a listener play ping-pong with
 *    timed waits: every event id arrives, no wakeup is lost;
 *  - request-response across threads: a client and a server thread;
 *    every request gets its stream in order, then end of stream.
 *
 * All of it runs at once for FLOE_THREADS_SECS (default 2) seconds. Meant
 * to run clean under ThreadSanitizer too (make check-tsan).
 */
#include <pthread.h>
#include <stdatomic.h>

#include "rr_helpers.h"

#define CHURNERS 4
#define PS_NAME "t/threads/churn"
#define EV_NAME "t/threads/churn"
#define RR_NAME "t/threads/churn"
#define XS_NAME "t/threads/xchg"
#define PP_NAME "t/threads/pingpong"
#define RX_NAME "t/threads/xchg"
#define WORDS 6

struct xmsg {
	uint64_t seq;
	uint64_t thread;
	uint64_t words[WORDS]; /* th_pattern(seq ^ thread, i) */
};

static const struct floe_type xmsg_type = {
	.name = "t_threads.Msg",
	.size = sizeof(struct xmsg),
	.align = _Alignof(struct xmsg),
};

static floe_node *node;
static floe_service *ps, *ev, *rr, *xs, *pp, *rx;
static uint64_t deadline;

static void xfill(struct xmsg *m, uint64_t thread, uint64_t seq)
{
	m->seq = seq;
	m->thread = thread;
	for (int i = 0; i < WORDS; i++)
		m->words[i] = th_pattern(seq ^ (thread << 40), (uint64_t)i);
}

static int xok(const struct xmsg *m)
{
	for (int i = 0; i < WORDS; i++)
		if (m->words[i] != th_pattern(m->seq ^ (m->thread << 40),
					      (uint64_t)i))
			return 0;
	return 1;
}

/* A per-thread xorshift (th_rand's state is global). */
static uint64_t trand(uint64_t *s, uint64_t n)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return n ? x % n : 0;
}

/* Failures are counted per thread; the first few are printed. */
struct tres {
	long iters, errors, misses, sent, received;
	char what[160];
};

#define FAIL(res, ...)                                                      \
	do {                                                                \
		if ((res)->errors++ == 0)                                   \
			snprintf((res)->what, sizeof((res)->what),          \
				 __VA_ARGS__);                              \
	} while (0)

/* ------------------------------------------------------------------ */
/* Churn                                                              */
/* ------------------------------------------------------------------ */

struct churner {
	pthread_t th;
	int idx;
	uint64_t rng;
	struct tres res;
	long own_sample, own_event, own_request;
	long port_limit; /* creations retried after FLOE_E_PORT_LIMIT */
	long busy;       /* opens of the open service that said FLOE_E_BUSY */
};

struct churn_ports {
	floe_publisher *pub;
	floe_subscriber *sub;
	floe_notifier *notifier;
	floe_listener *listener;
	floe_client *client;
	floe_server *server;
	floe_service *own; /* a handle of our own on the pub-sub service */
	int order;         /* creation step of each, below */
	int made[7];
};

static void ev_found(uint64_t id, void *ctx)
{
	uint64_t *want = ctx;

	if (id == *want)
		*want = UINT64_MAX;
}

static int show_service(const struct floe_service_info *info, void *ctx)
{
	(void)ctx;
	if (!strcmp(info->name, PS_NAME))
		tap_diag("  %s (pattern %d): %u nodes, %u senders, %u receivers "
			 "hold slots", info->name, info->pattern, info->nodes,
			 info->publishers, info->subscribers);
	return 0;
}

static int show_port(const struct floe_port_info *info, void *ctx)
{
	int *n = ctx;

	if (!strcmp(info->service, PS_NAME) && info->role != FLOE_PORT_NODE)
		n[info->role < 10 ? info->role : 0]++;
	return 0;
}

/* What holds the churn services' slots (a creation failed). */
static void show_churn_services(void)
{
	int n[10] = { 0 };

	floe_service_list(node, show_service, NULL);
	floe_port_list(node, show_port, n);
	tap_diag("  ports listed: %d publishers, %d subscribers, %d notifiers, "
		 "%d listeners, %d clients, %d servers", n[FLOE_PORT_PUBLISHER],
		 n[FLOE_PORT_SUBSCRIBER], n[FLOE_PORT_NOTIFIER],
		 n[FLOE_PORT_LISTENER], n[FLOE_PORT_CLIENT],
		 n[FLOE_PORT_SERVER]);
}

/* Create port @kind (0..6) for churner @c; 0 or the error. */
static int churn_create_once(struct churn_ports *p, int kind)
{
	struct floe_service_opts o = { .type = xmsg_type };
	struct floe_server_opts so = { .backpressure = FLOE_DELIVER_DISCARD };

	switch (kind) {
	case 0:
		return floe_publisher_create(ps, NULL, &p->pub);
	case 1:
		return floe_subscriber_create(ps, NULL, &p->sub);
	case 2:
		return floe_notifier_create(ev, &p->notifier);
	case 3:
		return floe_listener_create(ev, &p->listener);
	case 4:
		return floe_client_create(rr, NULL, &p->client);
	case 5:
		return floe_server_create(rr, &so, &p->server);
	default:
		return floe_service_open(node, PS_NAME, &o, &p->own);
	}
}

/* Create port @kind; FLOE_E_PORT_LIMIT (ports free their slots as they
 * go, so it would be a leak) is counted and retried for up to 2 s. */
static void churn_create(struct churner *c, struct churn_ports *p, int kind)
{
	uint64_t until = th_now_ns() + 2000000000ull;
	int r;

	for (;;) {
		r = churn_create_once(p, kind);
		if (r == FLOE_E_BUSY && kind == 6) {
			/* the service exists and stays (the main thread
			 * holds it open): "being created or removed" is
			 * wrong, counted and retried */
			c->busy++;
		} else if (r != FLOE_E_PORT_LIMIT) {
			break;
		} else {
			c->port_limit++;
		}
		if (th_now_ns() > until)
			break;
		th_sleep_us(200);
	}
	if (r) {
		if (!c->res.errors)
			show_churn_services();
		FAIL(&c->res, "thread %d: create kind %d: %s", c->idx, kind,
		     floe_strerror(r));
	} else {
		p->made[kind] = ++p->order;
	}
}

static void churn_destroy(struct churn_ports *p, int kind)
{
	if (!p->made[kind])
		return;
	switch (kind) {
	case 0: floe_publisher_destroy(p->pub); break;
	case 1: floe_subscriber_destroy(p->sub); break;
	case 2: floe_notifier_destroy(p->notifier); break;
	case 3: floe_listener_destroy(p->listener); break;
	case 4: floe_client_destroy(p->client); break;
	case 5: floe_server_destroy(p->server); break;
	case 6: floe_service_close(p->own); break;
	}
	p->made[kind] = 0;
}

/* Take what the others' publishers sent our subscriber. */
static void take_waiting_samples(struct churner *c, floe_subscriber *sub)
{
	const floe_sample *s;

	while (floe_subscriber_receive(sub, &s) == 1) {
		if (!xok(floe_sample_payload(s)))
			FAIL(&c->res, "thread %d: torn sample", c->idx);
		floe_sample_release(s);
	}
}

/* Take what the others' clients sent our server. */
static void take_waiting_requests(floe_server *server)
{
	floe_active_request *a;

	while (floe_server_receive(server, &a) == 1)
		floe_active_request_drop(a);
}

/* Traffic between our own ports, where the receiving one came first. */
static void churn_traffic(struct churner *c, struct churn_ports *p)
{
	uint64_t me = (uint64_t)c->idx + 1;

	if (p->made[0] && p->made[1] && p->made[1] < p->made[0]) {
		struct xmsg m;
		int r, found = 0;

		take_waiting_samples(c, p->sub);
		xfill(&m, me, (uint64_t)c->res.iters);
		r = floe_publisher_send_copy(p->pub, &m, sizeof(m));
		if (r < 1)
			FAIL(&c->res, "thread %d: send reached %d", c->idx, r);
		/* ours comes after whatever the others queued meanwhile */
		for (int n = 0; n < 1000 && !found; n++) {
			const floe_sample *s;

			r = floe_subscriber_receive(p->sub, &s);
			if (r != 1)
				break;
			if (!xok(floe_sample_payload(s)))
				FAIL(&c->res, "thread %d: torn sample",
				     c->idx);
			if (floe_sample_publisher_id(s) ==
			    floe_publisher_id(p->pub))
				found = 1;
			floe_sample_release(s);
		}
		c->own_sample++;
		if (!found) {
			c->res.misses++;
			FAIL(&c->res, "thread %d: own sample not received "
			     "(receive %d)", c->idx, r);
		}
	}
	if (p->made[2] && p->made[3] && p->made[3] < p->made[2]) {
		uint64_t id = 1 + (uint64_t)c->idx * 100 +
			      trand(&c->rng, 100), want = id;
		int r = floe_notifier_notify(p->notifier, id);

		if (r < 1)
			FAIL(&c->res, "thread %d: notify reached %d", c->idx,
			     r);
		r = floe_listener_try_wait(p->listener, ev_found, &want);
		c->own_event++;
		if (r < 0 || want != UINT64_MAX) {
			c->res.misses++;
			FAIL(&c->res, "thread %d: own event %" PRIu64
			     " not seen (try_wait %d)", c->idx, id, r);
		}
	}
	if (p->made[4] && p->made[5] && p->made[5] < p->made[4]) {
		floe_pending_response *pend = NULL;
		floe_active_request *a;
		struct rr_req req;
		int r, found = 0;

		take_waiting_requests(p->server);
		rr_fill_req(&req, me, (uint64_t)c->res.iters, 0);
		r = floe_client_send_copy(p->client, &req, sizeof(req), &pend);
		if (r < 1)
			FAIL(&c->res, "thread %d: request reached %d (%s)",
			     c->idx, r, floe_strerror(r < 0 ? r : 0));
		for (int n = 0; n < 1000 && !found; n++) {
			r = floe_server_receive(p->server, &a);
			if (r != 1)
				break;
			if (floe_active_request_client_id(a) ==
			    floe_client_id(p->client))
				found = 1;
			floe_active_request_drop(a);
		}
		c->own_request++;
		if (!found) {
			c->res.misses++;
			FAIL(&c->res, "thread %d: own request not received "
			     "(receive %d)", c->idx, r);
		}
		if (r >= 0 && pend)
			floe_pending_response_drop(pend);
	}
}

static void *churn_thread(void *arg)
{
	struct churner *c = arg;

	while (th_now_ns() < deadline) {
		struct churn_ports p = { 0 };
		int order[7];

		for (int i = 0; i < 7; i++)
			order[i] = i;
		for (int i = 6; i > 0; i--) {
			int j = (int)trand(&c->rng, (uint64_t)i + 1), t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		for (int i = 0; i < 7; i++)
			churn_create(c, &p, order[i]);
		churn_traffic(c, &p);
		for (int i = 6; i > 0; i--) {
			int j = (int)trand(&c->rng, (uint64_t)i + 1), t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		for (int i = 0; i < 7; i++)
			churn_destroy(&p, order[i]);
		c->res.iters++;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Pub-sub across threads                                             */
/* ------------------------------------------------------------------ */

static floe_publisher *xpub;
static floe_subscriber *xsub;
static atomic_ullong xsent, xdone;
static struct tres xpub_res, xsub_res;

static void *xpub_thread(void *arg)
{
	uint64_t seq = 0;

	(void)arg;
	while (th_now_ns() < deadline) {
		floe_sample_mut *s;
		int r;

		if (seq & 1) {
			struct xmsg m;

			xfill(&m, 99, seq);
			r = floe_publisher_send_copy(xpub, &m, sizeof(m));
		} else {
			r = floe_publisher_loan(xpub, 1, &s);
			if (r) {
				FAIL(&xpub_res, "loan %" PRIu64 ": %s", seq,
				     floe_strerror(r));
				break;
			}
			xfill(floe_sample_mut_payload(s), 99, seq);
			r = floe_sample_mut_send(s);
		}
		if (r != 1)
			FAIL(&xpub_res, "send %" PRIu64 " reached %d", seq, r);
		seq++;
		atomic_store(&xsent, seq);
	}
	xpub_res.sent = (long)seq;
	atomic_store(&xdone, 1);
	return NULL;
}

static void *xsub_thread(void *arg)
{
	const floe_sample *held[3];
	uint64_t next = 0, idle_since = 0;
	int nheld = 0;

	(void)arg;
	for (;;) {
		const floe_sample *s;
		const struct xmsg *m;
		int r = floe_subscriber_receive(xsub, &s);

		if (r == 0) {
			uint64_t now;

			if (atomic_load(&xdone) && next >= atomic_load(&xsent))
				break;
			now = th_now_ns();
			if (!idle_since)
				idle_since = now;
			if (now - idle_since > 10000000000ull) {
				FAIL(&xsub_res, "nothing for 10 s at sample %"
				     PRIu64 " of %llu sent", next,
				     (unsigned long long)atomic_load(&xsent));
				break;
			}
			sched_yield();
			continue;
		}
		idle_since = 0;
		if (r < 0) {
			FAIL(&xsub_res, "receive: %s", floe_strerror(r));
			break;
		}
		m = floe_sample_payload(s);
		if (floe_sample_sequence(s) != next || m->seq != next ||
		    m->thread != 99 || !xok(m))
			FAIL(&xsub_res, "sample %" PRIu64 ": sequence %" PRIu64
			     ", payload %" PRIu64 "%s", next,
			     floe_sample_sequence(s), m->seq,
			     xok(m) ? "" : ", torn");
		next = floe_sample_sequence(s) + 1;
		xsub_res.received++;
		held[nheld++] = s;
		if (nheld == 3 || (next & 3) == 0)
			while (nheld)
				floe_sample_release(held[--nheld]);
	}
	while (nheld)
		floe_sample_release(held[--nheld]);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Events across threads: ping-pong                                   */
/* ------------------------------------------------------------------ */

static floe_notifier *pp_notifier;
static floe_listener *pp_listener;
static atomic_llong pp_fired = -1, pp_seen = -1;
static atomic_int pp_stop;
static struct tres pp_res;

#define PP_IDS 64

static void pp_cb(uint64_t id, void *ctx)
{
	uint64_t *mask = ctx;

	if (id < PP_IDS)
		*mask |= 1ull << id;
}

static void *pp_notify_thread(void *arg)
{
	long round = 0;

	(void)arg;
	while (th_now_ns() < deadline) {
		uint64_t until = th_now_ns() + 10000000000ull;
		int r;

		/* announced first: the listener may wake before notify
		 * returns */
		atomic_store(&pp_fired, round);
		r = floe_notifier_notify(pp_notifier, (uint64_t)(round % PP_IDS));
		if (r != 1)
			FAIL(&pp_res, "notify %ld reached %d", round, r);
		while (atomic_load(&pp_seen) < round && th_now_ns() < until)
			sched_yield();
		if (atomic_load(&pp_seen) < round) {
			FAIL(&pp_res, "event %ld (id %ld) not seen in 10 s",
			     round, round % PP_IDS);
			break;
		}
		round++;
	}
	pp_res.sent = round;
	atomic_store(&pp_stop, 1);
	return NULL;
}

static void *pp_listen_thread(void *arg)
{
	long expect = 0;

	(void)arg;
	while (!atomic_load(&pp_stop)) {
		uint64_t mask = 0;
		int r = floe_listener_timed_wait(pp_listener, 100000000ull,
						 pp_cb, &mask);

		if (r < 0) {
			FAIL(&pp_res, "timed_wait: %s", floe_strerror(r));
			break;
		}
		if (!r)
			continue;
		/* the id of the round the notifier is in must be there */
		if (atomic_load(&pp_fired) >= expect &&
		    (mask & (1ull << (expect % PP_IDS)))) {
			pp_res.received++;
			atomic_store(&pp_seen, expect);
			expect++;
		}
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Request-response across threads                                    */
/* ------------------------------------------------------------------ */

static floe_client *rx_client;
static floe_server *rx_server;
static atomic_int rx_stop;
static struct tres rx_cres, rx_sres;

static void *rx_server_thread(void *arg)
{
	(void)arg;
	while (!atomic_load(&rx_stop)) {
		floe_active_request *a;
		int r = floe_server_receive(rx_server, &a);

		if (r == 0) {
			sched_yield();
			continue;
		}
		if (r < 0) {
			FAIL(&rx_sres, "server receive: %s", floe_strerror(r));
			break;
		}
		r = rr_answer(a);
		if (r)
			FAIL(&rx_sres, "answer: %s", floe_strerror(r));
		rx_sres.sent++;
		floe_active_request_drop(a);
	}
	return NULL;
}

static void *rx_client_thread(void *arg)
{
	uint64_t seq = 0;

	(void)arg;
	while (th_now_ns() < deadline) {
		uint64_t n = 1 + seq % 3;
		floe_pending_response *p;
		const floe_response *resp;
		struct rr_req req;
		int r;

		rr_fill_req(&req, 42, seq, n);
		r = floe_client_send_copy(rx_client, &req, sizeof(req), &p);
		if (r != 1) {
			FAIL(&rx_cres, "request %" PRIu64 " reached %d", seq, r);
			if (r >= 0)
				floe_pending_response_drop(p);
			break;
		}
		for (uint64_t i = 0; i < n; i++) {
			r = rr_receive(p, &resp, 10000);
			if (r != 1) {
				FAIL(&rx_cres, "request %" PRIu64 " response %"
				     PRIu64 ": %d (%s)", seq, i, r,
				     floe_strerror(r < 0 ? r : 0));
				break;
			}
			if (!rr_resp_ok(floe_response_payload(resp), 42, seq,
					i))
				FAIL(&rx_cres, "request %" PRIu64 " response %"
				     PRIu64 " wrong", seq, i);
			floe_response_release(resp);
			rx_cres.received++;
		}
		if (r == 1) {
			r = rr_receive(p, &resp, 10000);
			if (r != FLOE_E_END_OF_STREAM)
				FAIL(&rx_cres, "request %" PRIu64 ": end %d (%s)",
				     seq, r, floe_strerror(r < 0 ? r : 0));
		}
		floe_pending_response_drop(p);
		seq++;
		if (rx_cres.errors)
			break;
	}
	rx_cres.sent = (long)seq;
	atomic_store(&rx_stop, 1);
	return NULL;
}

/* ------------------------------------------------------------------ */

static int count_ports(const struct floe_port_info *info, void *ctx)
{
	int *n = ctx;

	*n += info->role != FLOE_PORT_NODE;
	return 0;
}

static void report(const char *name, const struct tres *r)
{
	if (r->errors)
		tap_diag("%s: %ld failures, the first: %s", name, r->errors,
			 r->what);
}

int main(void)
{
	const char *domain = th_setup("threads");
	long secs = th_env_long("FLOE_THREADS_SECS", 2);
	struct churner ch[CHURNERS];
	struct floe_pubsub_qos q;
	struct floe_event_qos eq;
	struct floe_rr_qos rq;
	struct floe_service_opts o = { .type = xmsg_type, .qos = &q };
	struct floe_event_opts eo = { .qos = &eq };
	struct floe_rr_opts ro = rr_opts(&rq);
	struct floe_publisher_opts po;
	pthread_t xp, xsb, ppn, ppl, rxs, rxc;
	long iters = 0, errors = 0, misses = 0, own_s = 0, own_e = 0, own_r = 0;
	long port_limit = 0, busy = 0;
	int r, ports = 0;

	tap_plan(12);
	if (secs < 1)
		secs = 1;
	tap_require(floe_node_create("threads", NULL, &node) == 0, "node");

	/* churn services: room for every thread's ports, and free slots to
	 * spread what ports that left with samples or requests queued leave
	 * in their connections */
	floe_pubsub_qos_init(&q);
	q.max_publishers = 4 * CHURNERS;
	q.max_subscribers = 4 * CHURNERS;
	r = floe_service_create(node, PS_NAME, &o, &ps);
	floe_event_qos_init(&eq);
	if (!r)
		r = floe_event_create(node, EV_NAME, &eo, &ev);
	floe_rr_qos_init(&rq);
	rq.max_clients = 4 * CHURNERS;
	rq.max_servers = 4 * CHURNERS;
	if (!r)
		r = floe_rr_create(node, RR_NAME, &ro, &rr);
	/* exchanges: one port of each side */
	floe_pubsub_qos_init(&q);
	q.max_publishers = 1;
	q.max_subscribers = 1;
	q.subscriber_max_buffer_size = 8;
	q.subscriber_max_borrowed_samples = 3;
	q.enable_safe_overflow = false;
	if (!r)
		r = floe_service_create(node, XS_NAME, &o, &xs);
	if (!r)
		r = floe_event_create(node, PP_NAME, &eo, &pp);
	floe_rr_qos_init(&rq);
	rq.max_clients = 1;
	rq.max_servers = 1;
	if (!r)
		r = floe_rr_create(node, RX_NAME, &ro, &rx);
	tap_require(r == 0, "services (%s)", floe_strerror(r));

	/* the exchanging ports are made here and handed to their threads */
	floe_publisher_opts_init(&po);
	po.unable_to_deliver = FLOE_DELIVER_BLOCK;
	r = floe_subscriber_create(xs, NULL, &xsub);
	if (!r)
		r = floe_publisher_create(xs, &po, &xpub);
	if (!r)
		r = floe_listener_create(pp, &pp_listener);
	if (!r)
		r = floe_notifier_create(pp, &pp_notifier);
	if (!r)
		r = floe_server_create(rx, NULL, &rx_server);
	if (!r)
		r = floe_client_create(rx, NULL, &rx_client);
	tap_require(r == 0, "exchanging ports (%s)", floe_strerror(r));

	deadline = th_now_ns() + (uint64_t)secs * 1000000000ull;
	for (int i = 0; i < CHURNERS; i++) {
		memset(&ch[i], 0, sizeof(ch[i]));
		ch[i].idx = i;
		ch[i].rng = th_rand() | 1;
		pthread_create(&ch[i].th, NULL, churn_thread, &ch[i]);
	}
	pthread_create(&xsb, NULL, xsub_thread, NULL);
	pthread_create(&xp, NULL, xpub_thread, NULL);
	pthread_create(&ppl, NULL, pp_listen_thread, NULL);
	pthread_create(&ppn, NULL, pp_notify_thread, NULL);
	pthread_create(&rxs, NULL, rx_server_thread, NULL);
	pthread_create(&rxc, NULL, rx_client_thread, NULL);

	for (int i = 0; i < CHURNERS; i++) {
		pthread_join(ch[i].th, NULL);
		iters += ch[i].res.iters;
		errors += ch[i].res.errors;
		misses += ch[i].res.misses;
		own_s += ch[i].own_sample;
		own_e += ch[i].own_event;
		own_r += ch[i].own_request;
		port_limit += ch[i].port_limit;
		busy += ch[i].busy;
		report("churn", &ch[i].res);
	}
	pthread_join(xp, NULL);
	pthread_join(xsb, NULL);
	pthread_join(ppn, NULL);
	pthread_join(ppl, NULL);
	pthread_join(rxc, NULL);
	pthread_join(rxs, NULL);

	tap_ok(iters >= CHURNERS && ch[0].res.iters && ch[1].res.iters &&
		       ch[2].res.iters && ch[3].res.iters,
	       "churn: %ld rounds of 7 ports by %d threads on one node", iters,
	       CHURNERS);
	tap_eq(errors - misses, 0, "churn: every create and send succeeded "
	       "(%ld retries after a full service)", port_limit);
	tap_eq(busy, 0, "churn: opening the service, held open all along, "
	       "never fails with FLOE_E_BUSY (while another handle closes)");
	tap_eq(misses, 0, "churn: own sample (%ld), event (%ld), request "
	       "(%ld) received every time", own_s, own_e, own_r);
	report("publisher thread", &xpub_res);
	report("subscriber thread", &xsub_res);
	tap_ok(xpub_res.errors == 0 && xsub_res.errors == 0 &&
		       xsub_res.received == xpub_res.sent && xpub_res.sent > 0,
	       "pub-sub across threads: %ld sent, %ld received in order, "
	       "intact", xpub_res.sent, xsub_res.received);
	report("events", &pp_res);
	tap_ok(pp_res.errors == 0 && pp_res.sent > 0 &&
		       pp_res.received >= pp_res.sent,
	       "events across threads: %ld rounds, no wakeup lost",
	       pp_res.sent);
	report("client thread", &rx_cres);
	report("server thread", &rx_sres);
	tap_ok(rx_cres.errors == 0 && rx_sres.errors == 0 && rx_cres.sent > 0 &&
		       rx_sres.sent == rx_cres.sent,
	       "request-response across threads: %ld requests, %ld "
	       "responses in order, each stream ended", rx_cres.sent,
	       rx_cres.received);

	floe_publisher_destroy(xpub);
	floe_subscriber_destroy(xsub);
	floe_notifier_destroy(pp_notifier);
	floe_listener_destroy(pp_listener);
	floe_client_destroy(rx_client);
	floe_server_destroy(rx_server);
	floe_port_list(node, count_ports, &ports);
	tap_eq(ports, 0, "no port left once all are destroyed");
	floe_service_close(ps);
	floe_service_close(ev);
	floe_service_close(rr);
	floe_service_close(xs);
	floe_service_close(pp);
	floe_service_close(rx);
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
