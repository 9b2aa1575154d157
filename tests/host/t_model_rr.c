// SPDX-License-Identifier: MIT
/*
 * Model-based test of the request-response contract across processes,
 * with kills (the request-response sibling of t_model.c, same machinery:
 * model.h).
 *
 * The parent keeps 2-4 worker processes going (the first two, anchors,
 * live to the end). Each runs a random sequence of operations (from the
 * seed; FLOE_SEED replays it) on 1-2 request-response services of varied
 * QoS (1-3 servers - service 0 has a single one -, 1-4 active requests per
 * client, response buffers of 1-4, servers that DISCARD on a full buffer):
 * open/close the service, create/destroy clients and servers, send
 * requests asking for 0-4 responses (loaned or copied), receive from
 * pending responses in random order, drop pending responses early,
 * receive requests (has_requests first, sometimes), answer them a few
 * responses at a time, interleaved, and end their streams; servers killed
 * mid-stream (by themselves after answering, or by the parent), workers
 * exiting with or without cleaning up. Every call is logged as in t_model
 * (a request send and a response send also log their start). At the end
 * the survivors stop sending requests, serve every request and take every
 * response until each of their requests has ended, and the logs are
 * checked against the contract:
 *
 *  integrity      requests and responses intact; a response belongs to
 *                 the request of the pending response it came from (no
 *                 response of another client's request); the request's
 *                 header names its client;
 *  no phantom     a request received was sent (on that service, before);
 *                 a response received was sent and queued (send returned
 *                 1, or its server died in the send) by a server that
 *                 received that request;
 *  no duplicate, order  per request and server, response indices
 *                 strictly increasing (each server's stream in order);
 *  request delivery  a request reported reaching k servers is received
 *                 by k of them, unless a server that may have been reached
 *                 left or died without receiving it (checked for requests
 *                 whose pending response was not dropped early) - a server
 *                 whose worker died inside floe_server_create, or before
 *                 logging its result, may have been reached too: it owned
 *                 a slot from the call on;
 *  response loss  every response a server queued is received unless the
 *                 client dropped the pending response (or left or died)
 *                 first - also before FLOE_E_END_OF_STREAM or
 *                 FLOE_E_DEAD, which come after what was sent;
 *  stream end     END_OF_STREAM only once every server that received the
 *                 request ended its stream (and none died without ending
 *                 it); DEAD only if some server did not end its stream (it
 *                 died, or left, or never received the request); a request
 *                 that reached no server ends at once; every pending
 *                 response of a survivor ends;
 *  receive consistency  has_requests true => the next server receive
 *                 returns a request (unless a client left or dropped a
 *                 request meanwhile).
 *
 * Environment as t_model: FLOE_MODEL_SECS (default 4), FLOE_TEST_TIMEOUT,
 * FLOE_MODEL_ENDINGS ("all", "none", or a list of destroy, exit, kill:
 * here they are the ways servers end - destroy is a clean destroy after
 * ending every stream; exit and kill may end them mid-stream),
 * FLOE_MODEL_KEEP=1, FLOE_MODEL_SHOW (default 6).
 */
#include "model.h"
#include "rr_helpers.h"

#define MAX_SVC 2
#define CLIS_PER_SVC 2 /* per worker */
#define MAX_PEND 4     /* pending responses a client keeps */
#define MAX_ACT 4      /* active requests a server keeps */
#define MAX_RESP 4     /* responses a request may ask for */
#define MAYBE INT64_MIN
#define NONE UINT32_MAX

struct svc_cfg {
	char name[32];
	struct floe_rr_qos q;
};

enum { END_DESTROY = 1, END_EXIT = 2, END_KILL = 4, END_ALL = 7 };

static struct svc_cfg svcs[MAX_SVC];
static int nsvc;
static uint64_t seed;
static int endings = END_ALL;

/* ------------------------------------------------------------------ */
/* Worker                                                             */
/* ------------------------------------------------------------------ */

/*
 * Log lines (times in ns since the test began; keys: worker << 16 | n):
 *   n t0 t1 res id                       node created
 *   o t0 t1 svc how res                  service opened or created
 *   x t0 t1 svc                          service closed
 *   k t0 t1 svc cli res id               client created
 *   K t0 t1 svc cli                      client destroyed
 *   c t0 svc srv                         server create begins
 *   v t0 t1 svc srv res id               server created
 *   V t0 t1 svc srv                      server destroyed
 *   S t0 svc cli rseq nresp              request send begins
 *   s t0 t1 svc cli rseq res             request sent (res: servers reached)
 *   g t0 t1 svc cli rseq res srvid ckey pseq idx ok   pending receive
 *   z t0 t1 svc cli rseq                 pending response dropped
 *   R t0 t1 svc srv res clid ckey rseq nresp ok       server receive
 *   H t0 t1 svc srv res                  has_requests
 *   A t0 svc srv ckey rseq idx           response send begins
 *   a t0 t1 svc srv ckey rseq idx res    response sent (1 queued, 0 not)
 *   B t0 svc srv ckey rseq               active request drop begins (a
 *                                        server killed in it may have ended
 *                                        the stream)
 *   e t0 t1 svc srv ckey rseq            active request dropped: end
 *   Y t                                  stopped sending requests
 *   U t                                  every pending response ended
 *   X t how                              exits: 0 cleanly, 1 without
 *                                        cleaning up, 2 SIGKILLs itself,
 *                                        3 survivor
 *   E t0 t1 svc key res text             unexpected result
 */

enum op {
	OP_OPEN, OP_CLOSE, OP_CLI_CREATE, OP_CLI_DESTROY, OP_SRV_CREATE,
	OP_SRV_DESTROY, OP_SEND, OP_PEND_RECV, OP_PEND_DROP, OP_SRV_RECV,
	OP_SRV_ANSWER, OP_SRV_END, OP_SRV_HAS, OP_SLEEP, OP_COUNT
};

struct wpend {
	floe_pending_response *p;
	uint64_t rseq;
};

struct wcli {
	floe_client *h;
	uint64_t key, id, next_seq;
	int svc;
	struct wpend pend[MAX_PEND];
	int npend;
};

struct wact {
	floe_active_request *a;
	uint64_t ckey, rseq, nresp, next;
};

struct wsrv {
	floe_server *h;
	uint64_t key, id;
	int svc;
	struct wact act[MAX_ACT];
	int nact;
};

static struct model_worker *me;
static floe_node *wnode;
static floe_service *wsvc[MAX_SVC];
static struct wcli wclis[MAX_SVC * CLIS_PER_SVC];
static int nwclis;
static struct wsrv wsrvs[MAX_SVC];
static int nwsrvs;
static uint64_t next_cli_n, next_srv_n;
static unsigned weights[OP_COUNT], weight_sum;

static void unexpected(const char *what, int svc, uint64_t key, int r,
		       uint64_t t0, uint64_t t1)
{
	model_log("E %" PRIu64 " %" PRIu64 " %d %" PRIu64 " %d %s: %s", t0, t1,
		  svc, key, r, what, floe_strerror(r));
}

static int ports_on(int svc)
{
	int n = 0;

	for (int i = 0; i < nwclis; i++)
		n += wclis[i].svc == svc;
	for (int i = 0; i < nwsrvs; i++)
		n += wsrvs[i].svc == svc;
	return n;
}

static int clis_on(int svc)
{
	int n = 0;

	for (int i = 0; i < nwclis; i++)
		n += wclis[i].svc == svc;
	return n;
}

static int srv_on(int svc)
{
	for (int i = 0; i < nwsrvs; i++)
		if (wsrvs[i].svc == svc)
			return 1;
	return 0;
}

/* A random service that is open (or closed), or -1. */
static int pick_svc(int want_open)
{
	int cand[MAX_SVC], n = 0;

	for (int i = 0; i < nsvc; i++)
		if (!!wsvc[i] == want_open)
			cand[n++] = i;
	return n ? cand[th_rand_below((uint64_t)n)] : -1;
}

static int svc_open(int i, int how)
{
	struct floe_rr_opts o = rr_opts(&svcs[i].q);
	floe_service *h = NULL;
	uint64_t t0, t1;
	int r;

	t0 = model_now();
	if (how == 0)
		r = floe_rr_open(wnode, svcs[i].name, &o, &h);
	else if (how == 1)
		r = floe_rr_create(wnode, svcs[i].name, &o, &h);
	else
		r = floe_rr_open_or_create(wnode, svcs[i].name, &o, &h);
	t1 = model_now();
	model_log("o %" PRIu64 " %" PRIu64 " %d %d %d", t0, t1, i, how, r);
	if (!r)
		wsvc[i] = h;
	else if (r != FLOE_E_BUSY && r != FLOE_E_NODE_LIMIT &&
		 !(how == 0 && r == FLOE_E_NOT_FOUND) &&
		 !(how == 1 && r == FLOE_E_EXISTS))
		unexpected("service open", i, 0, r, t0, t1);
	return r;
}

static void op_open(void)
{
	int i = pick_svc(0);

	if (i >= 0)
		svc_open(i, (int)th_rand_below(3));
}

static void svc_close(int i)
{
	uint64_t t0 = model_now(), t1;

	floe_service_close(wsvc[i]);
	t1 = model_now();
	wsvc[i] = NULL;
	model_log("x %" PRIu64 " %" PRIu64 " %d", t0, t1, i);
}

static void op_close(void)
{
	int i = pick_svc(1);

	if (i >= 0 && !ports_on(i))
		svc_close(i);
}

static struct wcli *cli_create(int svc)
{
	uint64_t key = ((uint64_t)me->idx << 16) | next_cli_n++;
	floe_client *h = NULL;
	uint64_t t0, t1, id = 0;
	int r;

	t0 = model_now();
	r = floe_client_create(wsvc[svc], NULL, &h);
	t1 = model_now();
	if (!r)
		id = floe_client_id(h);
	model_log("k %" PRIu64 " %" PRIu64 " %d %" PRIu64 " %d %" PRIu64, t0,
		  t1, svc, key, r, id);
	if (r) {
		if (r != FLOE_E_PORT_LIMIT)
			unexpected("client create", svc, key, r, t0, t1);
		return NULL;
	}
	wclis[nwclis] = (struct wcli){ .h = h, .key = key, .id = id,
				       .svc = svc };
	return &wclis[nwclis++];
}

static void pend_drop(struct wcli *c, int i)
{
	uint64_t t0 = model_now(), t1;

	floe_pending_response_drop(c->pend[i].p);
	t1 = model_now();
	model_log("z %" PRIu64 " %" PRIu64 " %d %" PRIu64 " %" PRIu64, t0, t1,
		  c->svc, c->key, c->pend[i].rseq);
	c->pend[i] = c->pend[--c->npend];
}

static void cli_destroy(struct wcli *c)
{
	uint64_t t0, t1;

	while (c->npend)
		pend_drop(c, (int)th_rand_below((uint64_t)c->npend));
	t0 = model_now();
	floe_client_destroy(c->h);
	t1 = model_now();
	model_log("K %" PRIu64 " %" PRIu64 " %d %" PRIu64, t0, t1, c->svc,
		  c->key);
	*c = wclis[--nwclis];
}

static struct wsrv *srv_create(int svc)
{
	struct floe_server_opts so = { .backpressure = FLOE_DELIVER_DISCARD };
	uint64_t key = ((uint64_t)me->idx << 16) | next_srv_n++;
	floe_server *h = NULL;
	uint64_t t0, t1, id = 0;
	int r;

	t0 = model_now();
	model_log("c %" PRIu64 " %d %" PRIu64, t0, svc, key);
	r = floe_server_create(wsvc[svc], &so, &h);
	t1 = model_now();
	if (!r)
		id = floe_server_id(h);
	model_log("v %" PRIu64 " %" PRIu64 " %d %" PRIu64 " %d %" PRIu64, t0,
		  t1, svc, key, r, id);
	if (r) {
		if (r != FLOE_E_PORT_LIMIT)
			unexpected("server create", svc, key, r, t0, t1);
		return NULL;
	}
	wsrvs[nwsrvs] = (struct wsrv){ .h = h, .key = key, .id = id,
				       .svc = svc };
	return &wsrvs[nwsrvs++];
}

static void srv_end(struct wsrv *s, int i)
{
	struct wact *a = &s->act[i];
	uint64_t t0 = model_now(), t1;

	model_log("B %" PRIu64 " %d %" PRIu64 " %" PRIu64 " %" PRIu64, t0,
		  s->svc, s->key, a->ckey, a->rseq);
	floe_active_request_drop(a->a);
	t1 = model_now();
	model_log("e %" PRIu64 " %" PRIu64 " %d %" PRIu64 " %" PRIu64 " %" PRIu64,
		  t0, t1, s->svc, s->key, a->ckey, a->rseq);
	*a = s->act[--s->nact];
}

static void srv_destroy(struct wsrv *s)
{
	uint64_t t0, t1;

	/* every stream ends first (destroying a server holding requests
	 * is a misuse) */
	while (s->nact)
		srv_end(s, (int)th_rand_below((uint64_t)s->nact));
	t0 = model_now();
	floe_server_destroy(s->h);
	t1 = model_now();
	model_log("V %" PRIu64 " %" PRIu64 " %d %" PRIu64, t0, t1, s->svc,
		  s->key);
	*s = wsrvs[--nwsrvs];
}

/* Send a request asking for 0..MAX_RESP responses. */
static void cli_send(struct wcli *c)
{
	uint64_t n = th_rand_below(MAX_RESP + 1), t0, t1;
	floe_pending_response *p = NULL;
	struct rr_req req;
	int r;

	if (c->npend >= MAX_PEND)
		return;
	rr_fill_req(&req, c->key, c->next_seq, n);
	if (th_rand_below(2)) {
		t0 = model_now();
		model_log("S %" PRIu64 " %d %" PRIu64 " %" PRIu64 " %" PRIu64,
			  t0, c->svc, c->key, c->next_seq, n);
		r = floe_client_send_copy(c->h, &req, sizeof(req), &p);
		t1 = model_now();
	} else {
		floe_request_mut *m;

		r = floe_client_loan(c->h, 1, &m);
		if (r) {
			if (r != FLOE_E_POOL_EMPTY && r != FLOE_E_LOAN_LIMIT)
				unexpected("request loan", c->svc, c->key, r,
					   model_now(), model_now());
			return;
		}
		*(struct rr_req *)floe_request_mut_payload(m) = req;
		t0 = model_now();
		model_log("S %" PRIu64 " %d %" PRIu64 " %" PRIu64 " %" PRIu64,
			  t0, c->svc, c->key, c->next_seq, n);
		r = floe_request_mut_send(m, &p);
		t1 = model_now();
		if (r < 0)
			floe_request_mut_discard(m); /* it stays loaned */
	}
	model_log("s %" PRIu64 " %" PRIu64 " %d %" PRIu64 " %" PRIu64 " %d", t0,
		  t1, c->svc, c->key, c->next_seq, r);
	if (r >= 0) {
		c->pend[c->npend++] = (struct wpend){ .p = p,
						      .rseq = c->next_seq };
		c->next_seq++;
	} else if (r != FLOE_E_ACTIVE_LIMIT && r != FLOE_E_POOL_EMPTY &&
		   r != FLOE_E_LOAN_LIMIT) {
		unexpected("request send", c->svc, c->key, r, t0, t1);
	}
}

/* Receive once from pending response @i of @c; a finished one is
 * dropped. Returns the result. */
static int pend_recv(struct wcli *c, int i)
{
	struct wpend *pd = &c->pend[i];
	const floe_response *resp = NULL;
	uint64_t t0 = model_now(), t1;
	int r = floe_pending_response_receive(pd->p, &resp);

	t1 = model_now();
	if (r == 1) {
		const struct rr_resp *m = floe_response_payload(resp);
		int ok = floe_response_payload_size(resp) == sizeof(*m) &&
			 floe_response_len(resp) == 1 &&
			 rr_resp_ok(m, m->client, m->seq, m->index);

		model_log("g %" PRIu64 " %" PRIu64 " %d %" PRIu64 " %" PRIu64
			  " 1 %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
			  " %d", t0, t1, c->svc, c->key, pd->rseq,
			  floe_response_server_id(resp), m->client, m->seq,
			  m->index, ok);
		floe_response_release(resp);
		return 1;
	}
	model_log("g %" PRIu64 " %" PRIu64 " %d %" PRIu64 " %" PRIu64
		  " %d 0 0 0 0 0", t0, t1, c->svc, c->key, pd->rseq, r);
	if (r == FLOE_E_END_OF_STREAM || r == FLOE_E_DEAD)
		pend_drop(c, i);
	else if (r < 0)
		unexpected("pending receive", c->svc, c->key, r, t0, t1);
	return r;
}

static uint32_t srv_limit(const struct wsrv *s)
{
	const struct floe_rr_qos *q = &svcs[s->svc].q;
	uint32_t lim = q->max_clients * q->max_active_requests_per_client;

	return lim < MAX_ACT ? lim : MAX_ACT;
}

static int srv_recv(struct wsrv *s)
{
	const struct floe_rr_qos *q = &svcs[s->svc].q;
	floe_active_request *a = NULL;
	uint64_t t0, t1;
	int r;

	if (s->nact >= (int)srv_limit(s))
		return 0;
	t0 = model_now();
	r = floe_server_receive(s->h, &a);
	t1 = model_now();
	if (r == 1) {
		const struct rr_req *req = floe_active_request_payload(a);
		int ok = floe_active_request_payload_size(a) == sizeof(*req) &&
			 floe_active_request_len(a) == 1 && rr_req_ok(req) &&
			 req->responses <= MAX_RESP;

		model_log("R %" PRIu64 " %" PRIu64 " %d %" PRIu64 " 1 %" PRIu64
			  " %" PRIu64 " %" PRIu64 " %" PRIu64 " %d", t0, t1,
			  s->svc, s->key, floe_active_request_client_id(a),
			  req->client, req->seq, req->responses, ok);
		s->act[s->nact++] = (struct wact){
			.a = a, .ckey = req->client, .rseq = req->seq,
			.nresp = ok ? req->responses : 0,
		};
		return 1;
	}
	model_log("R %" PRIu64 " %" PRIu64 " %d %" PRIu64 " %d 0 0 0 0 0", t0,
		  t1, s->svc, s->key, r);
	if (r < 0 && !(r == FLOE_E_BORROW_LIMIT &&
		       s->nact >= (int)(q->max_clients *
					q->max_active_requests_per_client)))
		unexpected("server receive", s->svc, s->key, r, t0, t1);
	return r;
}

/* Send up to @n more responses of active request @i. */
static void srv_answer(struct wsrv *s, int i, int n)
{
	struct wact *a = &s->act[i];

	while (n-- > 0 && a->next < a->nresp) {
		struct rr_resp m = {
			.client = a->ckey, .seq = a->rseq, .index = a->next,
			.check = th_pattern(a->rseq ^ a->ckey, a->next),
		};
		uint64_t t0, t1;
		int r;

		if (th_rand_below(2)) {
			t0 = model_now();
			model_log("A %" PRIu64 " %d %" PRIu64 " %" PRIu64
				  " %" PRIu64 " %" PRIu64, t0, s->svc, s->key,
				  a->ckey, a->rseq, a->next);
			r = floe_active_request_send_copy(a->a, &m, sizeof(m));
			t1 = model_now();
		} else {
			floe_response_mut *rm;

			r = floe_active_request_loan(a->a, 1, &rm);
			if (r) {
				if (r != FLOE_E_POOL_EMPTY &&
				    r != FLOE_E_LOAN_LIMIT)
					unexpected("response loan", s->svc,
						   s->key, r, model_now(),
						   model_now());
				return;
			}
			*(struct rr_resp *)floe_response_mut_payload(rm) = m;
			t0 = model_now();
			model_log("A %" PRIu64 " %d %" PRIu64 " %" PRIu64
				  " %" PRIu64 " %" PRIu64, t0, s->svc, s->key,
				  a->ckey, a->rseq, a->next);
			r = floe_response_mut_send(rm);
			t1 = model_now();
		}
		model_log("a %" PRIu64 " %" PRIu64 " %d %" PRIu64 " %" PRIu64
			  " %" PRIu64 " %" PRIu64 " %d", t0, t1, s->svc,
			  s->key, a->ckey, a->rseq, a->next, r);
		if (r < 0) {
			if (r != FLOE_E_POOL_EMPTY)
				unexpected("response send", s->svc, s->key, r,
					   t0, t1);
			return; /* not sent: tried again later */
		}
		a->next++;
	}
}

static struct wcli *pick_cli(void)
{
	return nwclis ? &wclis[th_rand_below((uint64_t)nwclis)] : NULL;
}

static struct wsrv *pick_srv(void)
{
	return nwsrvs ? &wsrvs[th_rand_below((uint64_t)nwsrvs)] : NULL;
}

/* A server answers, then SIGKILLs itself with its streams open; or a
 * client sends, then dies. */
static void op_die(void)
{
	struct wsrv *s = pick_srv();
	struct wcli *c = pick_cli();

	if (s && s->nact && th_rand_below(2)) {
		srv_answer(s, (int)th_rand_below((uint64_t)s->nact),
			   1 + (int)th_rand_below(2));
	} else if (c) {
		cli_send(c);
	} else if (!s) {
		return;
	}
	model_log("X %" PRIu64 " 2", model_now());
	kill(getpid(), SIGKILL);
	for (;;)
		pause();
}

static void destroy_everything(void)
{
	while (nwclis || nwsrvs) {
		if (nwclis && (!nwsrvs || th_rand_below(2)))
			cli_destroy(&wclis[th_rand_below((uint64_t)nwclis)]);
		else
			srv_destroy(&wsrvs[th_rand_below((uint64_t)nwsrvs)]);
	}
	for (int i = 0; i < nsvc; i++)
		if (wsvc[i])
			svc_close(i);
	floe_node_destroy(wnode);
	wnode = NULL;
}

static void op_exit(void)
{
	struct wsrv *s = pick_srv();

	if (s && s->nact)
		srv_answer(s, (int)th_rand_below((uint64_t)s->nact), 1);
	if (th_rand_below(2)) {
		destroy_everything();
		model_log("X %" PRIu64 " 0", model_now());
		_exit(0);
	}
	model_log("X %" PRIu64 " 1", model_now());
	_exit(0);
}

/* Serve everything and take every response; 1 when no request of ours
 * is pending any more. */
static int serve_and_take(void)
{
	for (int i = 0; i < nwsrvs; i++) {
		struct wsrv *s = &wsrvs[i];

		while (srv_recv(s) == 1)
			;
		while (s->nact) {
			srv_answer(s, s->nact - 1, MAX_RESP);
			if (s->act[s->nact - 1].next < s->act[s->nact - 1].nresp)
				break; /* the pool is empty: later */
			srv_end(s, s->nact - 1);
		}
	}
	for (int i = 0; i < nwclis; i++) {
		struct wcli *c = &wclis[i];

		for (int k = c->npend - 1; k >= 0; k--)
			while (k < c->npend && pend_recv(c, k) == 1)
				;
	}
	for (int i = 0; i < nwclis; i++)
		if (wclis[i].npend)
			return 0;
	return 1;
}

static int worker_finish(void)
{
	int got_d = 0, acked = 0;

	model_log("Y %" PRIu64, model_now());
	model_ack(me->idx, 'Q');
	for (;;) {
		int done = serve_and_take();
		char c = model_poll_cmd(me);

		if (c == 'D')
			got_d = 1;
		if (c == 'F')
			break;
		if (got_d && done && !acked) {
			model_log("U %" PRIu64, model_now());
			model_ack(me->idx, 'D');
			acked = 1;
		}
		th_sleep_us(200);
	}
	destroy_everything();
	model_log("X %" PRIu64 " 3", model_now());
	return 0;
}

static void set_weights(void)
{
	weights[OP_OPEN] = 40;
	weights[OP_CLOSE] = 10;
	weights[OP_CLI_CREATE] = 30;
	weights[OP_CLI_DESTROY] = me->anchor ? 1 : 10;
	weights[OP_SRV_CREATE] = 30;
	weights[OP_SRV_DESTROY] = endings & END_DESTROY ? 10 : 0;
	weights[OP_SEND] = 50 + (unsigned)th_rand_below(200);
	weights[OP_PEND_RECV] = 50 + (unsigned)th_rand_below(300);
	weights[OP_PEND_DROP] = 5;
	weights[OP_SRV_RECV] = 30 + (unsigned)th_rand_below(200);
	weights[OP_SRV_ANSWER] = 50 + (unsigned)th_rand_below(200);
	weights[OP_SRV_END] = 30 + (unsigned)th_rand_below(100);
	weights[OP_SRV_HAS] = 20 + (unsigned)th_rand_below(60);
	weights[OP_SLEEP] = 50 + (unsigned)th_rand_below(300);
	weight_sum = 0;
	for (int i = 0; i < OP_COUNT; i++)
		weight_sum += weights[i];
}

static int worker(void *arg)
{
	char path[320], name[32];
	uint64_t t0, t1;
	int r;

	me = arg;
	th_seed(me->seed);
	model_log_path(path, sizeof(path), me->idx);
	if (model_log_open(path))
		return 2;
	set_weights();
	snprintf(name, sizeof(name), "model-rr-w%d", me->idx);
	t0 = model_now();
	r = floe_node_create(name, NULL, &wnode);
	t1 = model_now();
	model_log("n %" PRIu64 " %" PRIu64 " %d %" PRIu64, t0, t1, r,
		  r ? 0 : floe_node_id(wnode));
	if (r) {
		unexpected("node create", -1, 0, r, t0, t1);
		return 1;
	}
	for (;;) {
		struct wcli *c;
		struct wsrv *s;
		unsigned x;
		int op = 0, i;

		if (model_poll_cmd(me) == 'Q')
			return worker_finish();
		if ((endings & END_KILL) && !me->anchor &&
		    th_rand_below(2000) == 0)
			op_die();
		if ((endings & END_EXIT) && !me->anchor &&
		    th_rand_below(2000) == 0)
			op_exit();
		x = (unsigned)th_rand_below(weight_sum);
		while (x >= weights[op])
			x -= weights[op++];
		switch (op) {
		case OP_OPEN:
			op_open();
			break;
		case OP_CLOSE:
			op_close();
			break;
		case OP_CLI_CREATE:
			i = pick_svc(1);
			if (i >= 0 && clis_on(i) < CLIS_PER_SVC)
				cli_create(i);
			break;
		case OP_CLI_DESTROY:
			if ((c = pick_cli()) && (!me->anchor || !th_rand_below(20)))
				cli_destroy(c);
			break;
		case OP_SRV_CREATE:
			i = pick_svc(1);
			if (i >= 0 && !srv_on(i))
				srv_create(i);
			break;
		case OP_SRV_DESTROY:
			if ((s = pick_srv()))
				srv_destroy(s);
			break;
		case OP_SEND:
			if ((c = pick_cli()))
				cli_send(c);
			break;
		case OP_PEND_RECV:
			if ((c = pick_cli()) && c->npend)
				pend_recv(c, (int)th_rand_below(
					(uint64_t)c->npend));
			break;
		case OP_PEND_DROP:
			if ((c = pick_cli()) && c->npend)
				pend_drop(c, (int)th_rand_below(
					(uint64_t)c->npend));
			break;
		case OP_SRV_RECV:
			if ((s = pick_srv()))
				srv_recv(s);
			break;
		case OP_SRV_ANSWER:
			if ((s = pick_srv()) && s->nact)
				srv_answer(s, (int)th_rand_below(
					(uint64_t)s->nact),
					   1 + (int)th_rand_below(2));
			break;
		case OP_SRV_END:
			if ((s = pick_srv()) && s->nact) {
				i = (int)th_rand_below((uint64_t)s->nact);
				/* mostly once everything was sent */
				if (s->act[i].next >= s->act[i].nresp ||
				    !th_rand_below(8))
					srv_end(s, i);
			}
			break;
		case OP_SRV_HAS:
			if ((s = pick_srv()) && s->nact < (int)srv_limit(s)) {
				t0 = model_now();
				r = floe_server_has_requests(s->h);
				t1 = model_now();
				model_log("H %" PRIu64 " %" PRIu64 " %d %" PRIu64
					  " %d", t0, t1, s->svc, s->key, r);
				if (th_rand_below(4))
					srv_recv(s);
			}
			break;
		case OP_SLEEP:
			th_sleep_us(20 + th_rand_below(500));
			break;
		default:
			break;
		}
	}
}

/* ------------------------------------------------------------------ */
/* The checker                                                        */
/* ------------------------------------------------------------------ */

#define NV 12

struct rec {
	char type;
	int w;
	int64_t v[NV];
	const char *line;
};

struct clim {
	uint64_t key, id;
	int w, svc;
	uint32_t crec, drec;
	uint64_t t_end;
	int gone; /* destroyed or died before the end */
};

struct srvm {
	uint64_t key, id;
	int w, svc;
	uint32_t crec, drec;
	uint64_t t_begin, t_reach_end, t_end;
	int died; /* died (or exited without destroying) */
	int gone; /* destroyed or died before the end */
	struct model_vec evs; /* H and R records */
};

struct reqm {
	uint32_t cli;
	uint64_t rseq, nresp;
	int svc;
	uint64_t t0, t1;
	int64_t res;
	uint32_t irec, rrec;
	uint32_t term_rec, drop_rec; /* end seen; dropped before that */
	struct model_vec evs;        /* its g and z records */
	struct model_vec streams;
};

struct streamm {
	uint32_t srv, req;
	uint32_t rrec, erec;
	uint32_t brec; /* its drop began (B), or NONE */
	struct model_vec sent; /* its A (maybe) and a records, by index */
	uint64_t last_idx_plus1;
	struct model_vec got; /* g records of it */
};

static struct rec *recs;
static uint32_t nrecs, caprecs;
static struct clim *clim;
static uint32_t nclim, capclim;
static struct srvm *srvm;
static uint32_t nsrvm, capsrvm;
static struct reqm *reqm;
static uint32_t nreqm, capreqm;
static struct streamm *strm;
static uint32_t nstrm, capstrm;
static struct model_map cli_by_key, srv_by_key, srv_by_id, req_by_key,
	stream_by_pair;
static struct model_vec svc_srvs[MAX_SVC], svc_clis[MAX_SVC];
static uint32_t stop_rec[MODEL_MAX_WORKERS]; /* each worker's Y record */

#define GROW(arr, n, cap)                                                   \
	do {                                                                \
		if ((n) == (cap)) {                                         \
			(cap) = (cap) ? (cap) * 2 : 1024;                   \
			(arr) = realloc((arr), (cap) * sizeof(*(arr)));     \
			if (!(arr)) {                                       \
				printf("Bail out! out of memory\n");        \
				exit(1);                                    \
			}                                                   \
		}                                                           \
	} while (0)

static struct model_category
	cat_api = { "api", "no unexpected errors from the API", 0 },
	cat_log = { "log", "logs well-formed", 0 },
	cat_integrity = { "integrity", "requests and responses intact, each "
				       "response its request's", 0 },
	cat_phantom = { "phantom", "every request and response received was "
				   "sent", 0 },
	cat_order = { "order", "each server's responses once, in order", 0 },
	cat_delivery = { "request-delivery", "requests received by every "
					     "server they reached", 0 },
	cat_loss = { "response-loss", "every queued response received unless "
				      "the request was dropped", 0 },
	cat_end = { "stream-end", "streams end right: END_OF_STREAM, DEAD, "
				  "always", 0 },
	cat_consistency = { "receive-consistency", "has_requests true => "
						   "receive returns a request",
			    0 };

static uint64_t pair_key(uint64_t a, uint64_t b)
{
	return (a << 32) | (b & 0xffffffffull);
}

static void show_rec(uint32_t r)
{
	if (r != NONE)
		model_show_line(recs[r].w, recs[r].line);
}

static void show_fate(int w)
{
	struct model_worker *wk = &model_workers[w];

	tap_diag("    w%-3d pid %d %s (status %d), ended by t %" PRIu64 "%s", w,
		 (int)wk->pid, model_fate_name[wk->fate], wk->status, wk->end,
		 wk->kill_sent ? " after the parent's SIGKILL" : "");
}

static void describe_svc(int i)
{
	const struct floe_rr_qos *q = &svcs[i].q;

	tap_diag("  service %d \"%s\": clients %u, servers %u, active %u, "
		 "loaned requests %u, response buffer %u, loaned responses %u",
		 i, svcs[i].name, q->max_clients, q->max_servers,
		 q->max_active_requests_per_client, q->max_loaned_requests,
		 q->max_response_buffer_size, q->max_loaned_responses);
}

/* Everything about request @ri: its send, its client's receives, and
 * each server's side. */
static void show_req(uint32_t ri)
{
	struct reqm *rq = &reqm[ri];

	describe_svc(rq->svc);
	tap_diag("    the request (client w%d.c%" PRIu64 ", id %" PRIu64 "):",
		 clim[rq->cli].w, clim[rq->cli].key & 0xffff, clim[rq->cli].id);
	show_rec(rq->irec);
	show_rec(rq->rrec);
	if (rq->rrec == NONE)
		show_fate(clim[rq->cli].w);
	for (uint32_t k = 0; k < rq->evs.n && k < 16; k++)
		show_rec(rq->evs.v[k]);
	if (clim[rq->cli].drec != NONE)
		show_rec(clim[rq->cli].drec);
	for (uint32_t k = 0; k < rq->streams.n; k++) {
		struct streamm *st = &strm[rq->streams.v[k]];
		struct srvm *sv = &srvm[st->srv];

		tap_diag("    server w%d.v%" PRIu64 " (id %" PRIu64 "):", sv->w,
			 sv->key & 0xffff, sv->id);
		show_rec(st->rrec);
		for (uint32_t j = 0; j < st->sent.n && j < 8; j++)
			show_rec(st->sent.v[j]);
		show_rec(st->erec);
		if (sv->drec != NONE)
			show_rec(sv->drec);
		else if (sv->died)
			show_fate(sv->w);
	}
}

/* Pass 1: ports and requests. Pass 2 (needs every request): server
 * receives, responses, ends, client receives. */
static void load_logs(void)
{
	for (int w = 0; w < model_nworkers; w++) {
		struct model_worker *wk = &model_workers[w];
		uint32_t pending = NONE, creating = NONE;
		char path[320], *p;

		stop_rec[w] = NONE;
		model_log_path(path, sizeof(path), w);
		wk->log = model_slurp(path, &wk->log_len);
		if (!wk->log)
			continue;
		for (p = wk->log; *p;) {
			char *nl = strchr(p, '\n');
			struct rec *rc;
			uint32_t ri, x;

			if (!nl)
				break;
			GROW(recs, nrecs, caprecs);
			ri = nrecs++;
			rc = &recs[ri];
			memset(rc, 0, sizeof(*rc));
			rc->type = *p;
			rc->w = w;
			rc->line = p;
			model_ints(p, rc->v, NV);
			p = nl + 1;
			switch (rc->type) {
			case 'k':
				if (rc->v[4])
					break;
				GROW(clim, nclim, capclim);
				clim[nclim] = (struct clim){
					.key = (uint64_t)rc->v[3],
					.id = (uint64_t)rc->v[5], .w = w,
					.svc = (int)rc->v[2], .crec = ri,
					.drec = NONE, .t_end = UINT64_MAX,
				};
				model_map_put(&cli_by_key, (uint64_t)rc->v[3],
					      nclim++);
				break;
			case 'K':
				if (model_map_get(&cli_by_key,
						  (uint64_t)rc->v[3], &x)) {
					clim[x].drec = ri;
					clim[x].t_end = (uint64_t)rc->v[1];
				}
				break;
			case 'c':
				creating = ri;
				break;
			case 'v':
				creating = NONE;
				if (rc->v[4])
					break;
				GROW(srvm, nsrvm, capsrvm);
				srvm[nsrvm] = (struct srvm){
					.key = (uint64_t)rc->v[3],
					.id = (uint64_t)rc->v[5], .w = w,
					.svc = (int)rc->v[2], .crec = ri,
					.drec = NONE,
					.t_begin = (uint64_t)rc->v[0],
					.t_reach_end = UINT64_MAX,
					.t_end = UINT64_MAX,
				};
				model_map_put(&srv_by_key, (uint64_t)rc->v[3],
					      nsrvm);
				model_map_put(&srv_by_id, (uint64_t)rc->v[5],
					      nsrvm++);
				break;
			case 'V':
				if (model_map_get(&srv_by_key,
						  (uint64_t)rc->v[3], &x)) {
					srvm[x].drec = ri;
					srvm[x].t_end = (uint64_t)rc->v[1];
					srvm[x].t_reach_end = srvm[x].t_end;
				}
				break;
			case 'S':
				pending = ri;
				break;
			case 's':
				if (pending == NONE ||
				    recs[pending].v[2] != rc->v[3] ||
				    recs[pending].v[3] != rc->v[4]) {
					if (model_violation(&cat_log, seed,
						"request result without its start"))
						model_show_line(w, rc->line);
					break;
				}
				if (rc->v[5] >= 0 &&
				    model_map_get(&cli_by_key,
						  (uint64_t)rc->v[3], &x)) {
					GROW(reqm, nreqm, capreqm);
					reqm[nreqm] = (struct reqm){
						.cli = x,
						.rseq = (uint64_t)rc->v[4],
						.nresp = (uint64_t)recs[pending].v[4],
						.svc = (int)rc->v[2],
						.t0 = (uint64_t)rc->v[0],
						.t1 = (uint64_t)rc->v[1],
						.res = rc->v[5],
						.irec = pending, .rrec = ri,
						.term_rec = NONE,
						.drop_rec = NONE,
					};
					model_map_put(&req_by_key,
						      pair_key((uint64_t)rc->v[3],
							       (uint64_t)rc->v[4]),
						      nreqm++);
				}
				pending = NONE;
				break;
			case 'E':
				if (model_violation(&cat_api, seed,
						    "unexpected result"))
					model_show_around(w, rc->line, 3, 0);
				break;
			case 'Y':
				stop_rec[w] = ri;
				break;
			default:
				break;
			}
		}
		if (pending != NONE) {
			struct rec *rc = &recs[pending];
			uint32_t x;

			if (model_map_get(&cli_by_key, (uint64_t)rc->v[2], &x)) {
				GROW(reqm, nreqm, capreqm);
				reqm[nreqm] = (struct reqm){
					.cli = x, .rseq = (uint64_t)rc->v[3],
					.nresp = (uint64_t)rc->v[4],
					.svc = (int)rc->v[1],
					.t0 = (uint64_t)rc->v[0],
					.t1 = wk->end, .res = MAYBE,
					.irec = pending, .rrec = NONE,
					.term_rec = NONE, .drop_rec = NONE,
				};
				model_map_put(&req_by_key,
					      pair_key((uint64_t)rc->v[2],
						       (uint64_t)rc->v[3]),
					      nreqm++);
			}
		}
		/* A server create cut short by its worker's death: the
		 * server may have owned a slot from the call on, and been
		 * reached (as a dead server may, until its clients notice);
		 * nothing else is known of it. */
		if (creating != NONE) {
			struct rec *rc = &recs[creating];

			GROW(srvm, nsrvm, capsrvm);
			srvm[nsrvm++] = (struct srvm){
				.key = (uint64_t)rc->v[2], .w = w,
				.svc = (int)rc->v[1], .crec = creating,
				.drec = NONE, .t_begin = (uint64_t)rc->v[0],
				.t_reach_end = UINT64_MAX,
				.t_end = UINT64_MAX,
			};
		}
		/* ports end with their worker; those a survivor destroys
		 * after it stopped are not gone (the test ends) */
		for (uint32_t i = 0; i < nclim; i++) {
			if (clim[i].w != w)
				continue;
			if (clim[i].t_end == UINT64_MAX)
				clim[i].t_end = wk->end;
			clim[i].gone = wk->fate != MODEL_SURVIVED ||
				       (clim[i].drec != NONE &&
					clim[i].drec < stop_rec[w]);
		}
		for (uint32_t i = 0; i < nsrvm; i++) {
			if (srvm[i].w != w)
				continue;
			if (srvm[i].t_end == UINT64_MAX) {
				srvm[i].t_end = wk->end;
				srvm[i].died = 1;
			}
			srvm[i].gone = wk->fate != MODEL_SURVIVED ||
				       (srvm[i].drec != NONE &&
					srvm[i].drec < stop_rec[w]);
		}
	}
	for (uint32_t i = 0; i < nclim; i++)
		model_vec_push(&svc_clis[clim[i].svc], i);
	for (uint32_t i = 0; i < nsrvm; i++)
		model_vec_push(&svc_srvs[srvm[i].svc], i);
}

static uint32_t find_stream(uint64_t srv_key, uint64_t cli_key, uint64_t rseq,
			    uint32_t *req_out)
{
	uint32_t si, ri, x;

	if (!model_map_get(&srv_by_key, srv_key, &si) ||
	    !model_map_get(&req_by_key, pair_key(cli_key, rseq), &ri))
		return NONE;
	if (req_out)
		*req_out = ri;
	return model_map_get(&stream_by_pair, pair_key(si, ri), &x) ? x : NONE;
}

static void load_pass2(void)
{
	uint32_t pending = NONE;
	int w = -1;

	for (uint32_t ri = 0; ri <= nrecs; ri++) {
		struct rec *rc = ri < nrecs ? &recs[ri] : NULL;
		uint32_t x, q, st;

		if (!rc || rc->w != w) {
			/* a response send cut short by its worker's death */
			if (pending != NONE) {
				st = find_stream((uint64_t)recs[pending].v[2],
						 (uint64_t)recs[pending].v[3],
						 (uint64_t)recs[pending].v[4],
						 NULL);
				if (st != NONE)
					model_vec_push(&strm[st].sent, pending);
			}
			pending = NONE;
			if (!rc)
				break;
			w = rc->w;
		}
		switch (rc->type) {
		case 'H':
			if (model_map_get(&srv_by_key, (uint64_t)rc->v[3], &x))
				model_vec_push(&srvm[x].evs, ri);
			break;
		case 'R':
			if (!model_map_get(&srv_by_key, (uint64_t)rc->v[3], &x))
				break;
			model_vec_push(&srvm[x].evs, ri);
			if (rc->v[4] != 1)
				break;
			if (!rc->v[9]) {
				if (model_violation(&cat_integrity, seed,
						    "server w%d.v%" PRIu64
						    " received a torn request",
						    rc->w, (uint64_t)rc->v[3] &
							   0xffff))
					show_rec(ri);
				break;
			}
			if (!model_map_get(&req_by_key,
					   pair_key((uint64_t)rc->v[6],
						    (uint64_t)rc->v[7]), &q)) {
				if (model_violation(&cat_phantom, seed,
						    "server w%d.v%" PRIu64
						    " received a request never "
						    "sent", rc->w,
						    (uint64_t)rc->v[3] & 0xffff))
					show_rec(ri);
				break;
			}
			if ((uint64_t)rc->v[5] != clim[reqm[q].cli].id &&
			    model_violation(&cat_integrity, seed,
					    "request header names client %"
					    PRId64 ", not its client %" PRIu64,
					    rc->v[5], clim[reqm[q].cli].id)) {
				show_rec(ri);
				show_rec(reqm[q].irec);
			}
			if ((reqm[q].svc != srvm[x].svc ||
			     reqm[q].t0 > (uint64_t)rc->v[1]) &&
			    model_violation(&cat_phantom, seed,
					    "server w%d.v%" PRIu64 " received a "
					    "request of another service, or "
					    "before it was sent", rc->w,
					    srvm[x].key & 0xffff)) {
				show_rec(reqm[q].irec);
				show_rec(ri);
			}
			if (model_map_get(&stream_by_pair, pair_key(x, q),
					  NULL)) {
				if (model_violation(&cat_order, seed,
						    "server w%d.v%" PRIu64
						    " received a request twice",
						    rc->w, srvm[x].key & 0xffff))
					show_req(q);
				break;
			}
			GROW(strm, nstrm, capstrm);
			strm[nstrm] = (struct streamm){
				.srv = x, .req = q, .rrec = ri, .erec = NONE,
				.brec = NONE,
			};
			model_map_put(&stream_by_pair, pair_key(x, q), nstrm);
			model_vec_push(&reqm[q].streams, nstrm++);
			break;
		case 'A':
			pending = ri;
			break;
		case 'a':
			pending = NONE;
			st = find_stream((uint64_t)rc->v[3], (uint64_t)rc->v[4],
					 (uint64_t)rc->v[5], NULL);
			if (st != NONE)
				model_vec_push(&strm[st].sent, ri);
			break;
		case 'B':
			st = find_stream((uint64_t)rc->v[2], (uint64_t)rc->v[3],
					 (uint64_t)rc->v[4], NULL);
			if (st != NONE)
				strm[st].brec = ri;
			break;
		case 'e':
			st = find_stream((uint64_t)rc->v[3], (uint64_t)rc->v[4],
					 (uint64_t)rc->v[5], NULL);
			if (st != NONE)
				strm[st].erec = ri;
			break;
		case 'g':
		case 'z':
			if (model_map_get(&req_by_key,
					  pair_key((uint64_t)rc->v[3],
						   (uint64_t)rc->v[4]), &q))
				model_vec_push(&reqm[q].evs, ri);
			break;
		default:
			break;
		}
	}
}

struct stats {
	long requests, maybe, reached, streams, queued, received, eos, dead;
	long dropped, has_true, consistency_checks, survivors;
};

/* Was response @idx of stream @st queued (sent with result 1) or maybe
 * sent (its server died in the send)? */
static int was_sent(const struct streamm *st, uint64_t idx)
{
	for (uint32_t k = 0; k < st->sent.n; k++) {
		const struct rec *rc = &recs[st->sent.v[k]];

		if (rc->type == 'A' && (uint64_t)rc->v[5] == idx)
			return 1;
		if (rc->type == 'a' && (uint64_t)rc->v[6] == idx &&
		    rc->v[7] == 1)
			return 1;
	}
	return 0;
}

static int was_received(const struct streamm *st, uint64_t idx)
{
	for (uint32_t k = 0; k < st->got.n; k++)
		if ((uint64_t)recs[st->got.v[k]].v[9] == idx)
			return 1;
	return 0;
}

static void check_requests(struct stats *sts)
{
	for (uint32_t ri = 0; ri < nreqm; ri++) {
		struct reqm *rq = &reqm[ri];
		struct clim *cl = &clim[rq->cli];
		uint32_t term = NONE, drop = NONE, first = NONE;
		int64_t tres = 0;

		sts->requests++;
		sts->streams += rq->streams.n;
		if (rq->res == MAYBE)
			sts->maybe++;
		else if (rq->res >= 1)
			sts->reached++;

		/* the client's side, in order */
		for (uint32_t k = 0; k < rq->evs.n; k++) {
			struct rec *rc = &recs[rq->evs.v[k]];
			uint32_t sv, st;

			if (rc->type == 'z') {
				if (term == NONE && drop == NONE)
					drop = rq->evs.v[k];
				continue;
			}
			if (first == NONE)
				first = rq->evs.v[k];
			if (rc->v[5] == FLOE_E_END_OF_STREAM ||
			    rc->v[5] == FLOE_E_DEAD) {
				if (term == NONE) {
					term = rq->evs.v[k];
					tres = rc->v[5];
				}
				continue;
			}
			if (rc->v[5] != 1)
				continue;
			sts->received++;
			if (!rc->v[10] || (uint64_t)rc->v[7] != cl->key ||
			    (uint64_t)rc->v[8] != rq->rseq) {
				if (model_violation(&cat_integrity, seed,
						    "client w%d.c%" PRIu64
						    " got a torn response, or one "
						    "of another request, for its "
						    "request %" PRIu64, cl->w,
						    cl->key & 0xffff, rq->rseq))
					show_rec(rq->evs.v[k]);
				continue;
			}
			if (!model_map_get(&srv_by_id, (uint64_t)rc->v[6], &sv) ||
			    !model_map_get(&stream_by_pair, pair_key(sv, ri),
					   &st) ||
			    !was_sent(&strm[st], (uint64_t)rc->v[9])) {
				if (model_violation(&cat_phantom, seed,
						    "client w%d.c%" PRIu64
						    " got response %" PRId64
						    " of its request %" PRIu64
						    " from server id %" PRId64
						    ", which never queued it",
						    cl->w, cl->key & 0xffff,
						    rc->v[9], rq->rseq, rc->v[6])) {
					show_rec(rq->evs.v[k]);
					show_req(ri);
				}
				continue;
			}
			if ((uint64_t)rc->v[9] + 1 <= strm[st].last_idx_plus1) {
				if (model_violation(&cat_order, seed,
						    "client w%d.c%" PRIu64
						    " got response %" PRId64
						    " of request %" PRIu64
						    " after response %" PRIu64,
						    cl->w, cl->key & 0xffff,
						    rc->v[9], rq->rseq,
						    strm[st].last_idx_plus1 - 1))
					show_req(ri);
			} else {
				strm[st].last_idx_plus1 =
					(uint64_t)rc->v[9] + 1;
			}
			model_vec_push(&strm[st].got, rq->evs.v[k]);
		}
		rq->term_rec = term;
		rq->drop_rec = drop;
		sts->eos += term != NONE && tres == FLOE_E_END_OF_STREAM;
		sts->dead += term != NONE && tres == FLOE_E_DEAD;
		sts->dropped += drop != NONE;
		if (!cl->gone)
			sts->survivors++;

		/* responses queued must be taken (unless dropped first) */
		for (uint32_t k = 0; k < rq->streams.n; k++) {
			struct streamm *st = &strm[rq->streams.v[k]];

			for (uint32_t j = 0; j < st->sent.n; j++) {
				struct rec *rc = &recs[st->sent.v[j]];

				if (rc->type != 'a' || rc->v[7] != 1)
					continue;
				sts->queued++;
				if (was_received(st, (uint64_t)rc->v[6]))
					continue;
				if (drop != NONE || (term == NONE && cl->gone))
					continue;
				if (model_violation(&cat_loss, seed,
						    "response %" PRId64 " of "
						    "request %" PRIu64 " of "
						    "client w%d.c%" PRIu64
						    " queued by server w%d.v%"
						    PRIu64 ", never received%s",
						    rc->v[6], rq->rseq, cl->w,
						    cl->key & 0xffff,
						    srvm[st->srv].w,
						    srvm[st->srv].key & 0xffff,
						    term != NONE
							    ? " (its end came first)"
							    : ""))
					show_req(ri);
			}
		}

		if (rq->res == MAYBE)
			continue;
		/* how the stream ended */
		if (rq->res == 0 && first != NONE &&
		    !(recs[first].v[5] == FLOE_E_END_OF_STREAM) &&
		    model_violation(&cat_end, seed,
				    "request %" PRIu64 " of w%d.c%" PRIu64
				    " reached no server, but its first receive "
				    "returned %" PRId64 ", not END_OF_STREAM",
				    rq->rseq, cl->w, cl->key & 0xffff,
				    recs[first].v[5]))
			show_req(ri);
		if (term != NONE && tres == FLOE_E_END_OF_STREAM) {
			for (uint32_t k = 0; k < rq->streams.n; k++) {
				struct streamm *st = &strm[rq->streams.v[k]];
				struct srvm *sv = &srvm[st->srv];

				if (st->erec != NONE &&
				    (uint64_t)recs[st->erec].v[0] <=
					    (uint64_t)recs[term].v[1])
					continue;
				/* killed inside the drop, maybe after the
				 * end marker went */
				if (st->erec == NONE && st->brec != NONE &&
				    (uint64_t)recs[st->brec].v[0] <=
					    (uint64_t)recs[term].v[1])
					continue;
				if (model_violation(&cat_end, seed,
						    "request %" PRIu64 " of w%d.c%"
						    PRIu64 " ended (END_OF_STREAM)"
						    " though server w%d.v%" PRIu64
						    " %s", rq->rseq, cl->w,
						    cl->key & 0xffff, sv->w,
						    sv->key & 0xffff,
						    st->erec == NONE
							    ? "died without ending "
							      "its stream"
							    : "ended its stream "
							      "only later"))
					show_req(ri);
			}
		}
		if (term != NONE && tres == FLOE_E_DEAD &&
		    (int64_t)rq->streams.n == rq->res) {
			int all_ended = 1;

			for (uint32_t k = 0; k < rq->streams.n; k++) {
				struct streamm *st = &strm[rq->streams.v[k]];

				all_ended &= st->erec != NONE &&
					     (uint64_t)recs[st->erec].v[0] <=
						     (uint64_t)recs[term].v[0];
			}
			if (all_ended &&
			    model_violation(&cat_end, seed,
					    "request %" PRIu64 " of w%d.c%" PRIu64
					    " got FLOE_E_DEAD though every server "
					    "it reached (%" PRId64 ") had ended "
					    "its stream", rq->rseq, cl->w,
					    cl->key & 0xffff, rq->res))
				show_req(ri);
		}
		if (term == NONE && drop == NONE && !cl->gone &&
		    model_violation(&cat_end, seed,
				    "request %" PRIu64 " of surviving client "
				    "w%d.c%" PRIu64 " never ended", rq->rseq,
				    cl->w, cl->key & 0xffff))
			show_req(ri);

		/* the request reached rq->res servers: they received it */
		if (rq->res < 1 || drop != NONE || (term == NONE && cl->gone))
			continue;
		if ((int64_t)rq->streams.n > rq->res &&
		    model_violation(&cat_delivery, seed,
				    "request %" PRIu64 " of w%d.c%" PRIu64
				    " received by %u servers, sent to %" PRId64,
				    rq->rseq, cl->w, cl->key & 0xffff,
				    rq->streams.n, rq->res))
			show_req(ri);
		if ((int64_t)rq->streams.n < rq->res) {
			struct model_vec *cands = &svc_srvs[rq->svc];
			uint32_t excused = 0;

			for (uint32_t k = 0; k < cands->n; k++) {
				struct srvm *sv = &srvm[cands->v[k]];

				if (sv->t_begin < rq->t1 &&
				    sv->t_reach_end > rq->t0 && sv->gone &&
				    !model_map_get(&stream_by_pair,
						   pair_key(cands->v[k], ri),
						   NULL))
					excused++;
			}
			if ((int64_t)(rq->streams.n + excused) < rq->res &&
			    model_violation(&cat_delivery, seed,
					    "request %" PRIu64 " of w%d.c%"
					    PRIu64 " reported reaching %" PRId64
					    " servers, received by %u (%u "
					    "excused: left or died)", rq->rseq,
					    cl->w, cl->key & 0xffff, rq->res,
					    rq->streams.n, excused))
				show_req(ri);
		}
	}
}

/* has_requests true => the next receive of that server returns one
 * (unless a client of the service left or dropped a request meanwhile,
 * which may take its queued requests back). */
static void check_servers(struct stats *sts)
{
	for (uint32_t si = 0; si < nsrvm; si++) {
		struct srvm *sv = &srvm[si];
		uint32_t has = NONE;

		for (uint32_t k = 0; k < sv->evs.n; k++) {
			struct rec *rc = &recs[sv->evs.v[k]];
			uint64_t from, to;
			int excused = 0;

			if (rc->type == 'H') {
				has = rc->v[4] == 1 ? sv->evs.v[k] : NONE;
				sts->has_true += rc->v[4] == 1;
				continue;
			}
			if (has == NONE || rc->v[4] != 0) {
				has = NONE;
				continue;
			}
			sts->consistency_checks++;
			from = (uint64_t)recs[has].v[0];
			to = (uint64_t)rc->v[1];
			for (uint32_t c = 0; c < svc_clis[sv->svc].n && !excused;
			     c++) {
				struct clim *cl = &clim[svc_clis[sv->svc].v[c]];

				excused = cl->t_end >= from && cl->t_end <= to;
			}
			for (uint32_t q = 0; q < nreqm && !excused; q++) {
				struct reqm *rq = &reqm[q];

				if (rq->svc != sv->svc)
					continue;
				for (uint32_t j = 0; j < rq->evs.n; j++) {
					struct rec *z = &recs[rq->evs.v[j]];

					if (z->type == 'z' &&
					    (uint64_t)z->v[1] >= from &&
					    (uint64_t)z->v[0] <= to)
						excused = 1;
				}
			}
			if (!excused &&
			    model_violation(&cat_consistency, seed,
					    "server w%d.v%" PRIu64 " (id %" PRIu64
					    "): has_requests true, then receive "
					    "returned 0", sv->w, sv->key & 0xffff,
					    sv->id)) {
				model_show_around(recs[has].w, recs[has].line,
						  3, 0);
				tap_diag("    ...");
				model_show_around(rc->w, rc->line, 2, 0);
			}
			has = NONE;
		}
	}
}

/* ------------------------------------------------------------------ */
/* The parent                                                         */
/* ------------------------------------------------------------------ */

static void configure(void)
{
	nsvc = 1 + (int)th_rand_below(2);
	for (int i = 0; i < nsvc; i++) {
		struct floe_rr_qos *q = &svcs[i].q;

		snprintf(svcs[i].name, sizeof(svcs[i].name), "t/model_rr/%d", i);
		floe_rr_qos_init(q);
		q->max_clients = 2 + (uint32_t)th_rand_below(4);
		q->max_servers = 1 + (uint32_t)th_rand_below(3);
		q->max_nodes = 16;
		q->max_active_requests_per_client =
			1 + (uint32_t)th_rand_below(4);
		q->max_loaned_requests = 1 + (uint32_t)th_rand_below(2);
		q->max_response_buffer_size = 1 + (uint32_t)th_rand_below(4);
		q->max_loaned_responses = 1 + (uint32_t)th_rand_below(2);
	}
	svcs[0].q.max_servers = 1;
}

static int parse_endings(const char *s)
{
	int e = 0;

	if (!s || !*s || !strcmp(s, "all"))
		return END_ALL;
	if (!strcmp(s, "none"))
		return 0;
	if (strstr(s, "destroy"))
		e |= END_DESTROY;
	if (strstr(s, "exit"))
		e |= END_EXIT;
	if (strstr(s, "kill"))
		e |= END_KILL;
	return e;
}

static void rm_logs(void)
{
	char path[320];

	for (int w = 0; w < model_nworkers; w++) {
		model_log_path(path, sizeof(path), w);
		unlink(path);
	}
	rmdir(model_dir);
}

int main(void)
{
	const char *domain = th_setup("modelrr");
	long secs = th_env_long("FLOE_MODEL_SECS", 4);
	long timeout = th_env_long("FLOE_TEST_TIMEOUT", 120);
	long watchdog = timeout > 20 ? timeout - 10 : timeout;
	const char *tmp = getenv("TMPDIR");
	uint64_t run_end;
	long phase_ms, kills = 0, failed, ex = 0, self = 0, surv = 0, bad = 0;
	struct stats st = { 0 };
	floe_node *node = NULL;
	int all_ok = 1, anchors = 2;

	seed = th_rng_state; /* th_setup seeded it: the seed it printed */
	endings = parse_endings(getenv("FLOE_MODEL_ENDINGS"));
	/* one round: its logs are held in memory to be checked */
	if (secs < 1)
		secs = 1;
	if (secs > 60)
		secs = 60;
	if (secs > watchdog / 3)
		secs = watchdog / 3 > 0 ? watchdog / 3 : 1;
	phase_ms = (watchdog - secs) * 1000 / 5;
	if (phase_ms < 2000)
		phase_ms = 2000;
	if (phase_ms > 30000)
		phase_ms = 30000;
	model_base = th_now_ns();

	tap_plan(13);
	configure();
	tap_diag("model seed %" PRIu64 " (FLOE_SEED=%" PRIu64 " replays the "
		 "operations), %ld s, server endings:%s%s%s%s", seed, seed, secs,
		 endings & END_DESTROY ? " destroy" : "",
		 endings & END_EXIT ? " exit" : "",
		 endings & END_KILL ? " kill" : "", endings ? "" : " none");
	for (int i = 0; i < nsvc; i++)
		describe_svc(i);
	snprintf(model_dir, sizeof(model_dir), "%s/floe-model-rr-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	tap_require(mkdtemp(model_dir) != NULL, "log directory %s", model_dir);
	tap_require(th_pipe_init(&model_acks) == 0, "pipes");

	run_end = model_now() + (uint64_t)secs * 1000000000ull;
	while (model_now() < run_end) {
		int running = model_reap();

		if (running < 2 || (running < 4 && th_rand_below(20) == 0)) {
			if (model_spawn(worker, seed, model_nworkers < anchors,
					0) < 0 &&
			    running == 0)
				break;
			continue;
		}
		if ((endings & END_KILL) && th_rand_below(40) == 0) {
			struct model_worker *w = model_pick_victim();

			if (w) {
				model_kill(w);
				kills++;
			}
		}
		th_sleep_us(2000 + th_rand_below(6000));
	}

	/* Stop sending requests; serve and take until every request has
	 * ended; finish. */
	failed = model_command_all('Q', phase_ms);
	failed += model_command_all('D', phase_ms);
	for (int i = 0; i < model_nworkers; i++)
		if (model_workers[i].fate == MODEL_RUNNING)
			th_send(&model_workers[i].cmd, "F", 1);
	{
		uint64_t deadline = th_now_ns() + (uint64_t)phase_ms * 1000000ull;

		while (model_reap() && th_now_ns() < deadline)
			th_sleep_ms(2);
		for (int i = 0; i < model_nworkers; i++) {
			struct model_worker *w = &model_workers[i];

			if (w->fate != MODEL_RUNNING)
				continue;
			tap_diag("worker w%d did not finish: killed", i);
			model_kill(w);
			w->fate = MODEL_FAILED;
			failed++;
		}
	}
	if (!floe_node_create("model-parent", NULL, &node)) {
		floe_node_cleanup_dead(node);
		floe_node_destroy(node);
	}

	load_logs();
	load_pass2();
	check_requests(&st);
	check_servers(&st);
	for (int i = 0; i < model_nworkers; i++) {
		enum model_fate f = model_workers[i].fate;

		ex += f == MODEL_EXITED;
		self += f == MODEL_SELF_KILLED;
		surv += f == MODEL_SURVIVED;
		if (f == MODEL_FAILED || f == MODEL_RUNNING) {
			bad++;
			tap_diag("worker w%d failed:", i);
			show_fate(i);
		}
	}
	tap_diag("%d workers: %ld killed by the parent, %ld killed themselves, "
		 "%ld exited, %ld survived", model_nworkers, kills, self, ex,
		 surv);
	tap_diag("%ld requests (%ld maybe sent, %ld reached a server; %ld of "
		 "surviving clients), %ld server streams, %ld responses "
		 "queued, %ld received, %ld END_OF_STREAM, %ld DEAD, %ld "
		 "dropped early, %ld has_requests true (%ld followed by an "
		 "empty receive)", st.requests, st.maybe, st.reached,
		 st.survivors, st.streams, st.queued, st.received, st.eos,
		 st.dead, st.dropped, st.has_true, st.consistency_checks);
	tap_ok(model_nworkers >= 2 && st.reached > 0 && st.received > 0,
	       "workers ran (%d workers, %ld requests, %ld responses "
	       "received)", model_nworkers, st.requests, st.received);
	tap_ok(bad == 0 && failed == 0, "no worker crashed, failed or hung "
	       "(%ld)", bad);
	{
		struct model_category *cats[] = {
			&cat_api, &cat_integrity, &cat_phantom, &cat_order,
			&cat_delivery, &cat_loss, &cat_end, &cat_consistency,
		};

		for (size_t i = 0; i < sizeof(cats) / sizeof(cats[0]); i++) {
			long n = cats[i]->count;

			if (i == 0)
				n += cat_log.count;
			all_ok &= tap_ok(n == 0, "%s (%ld violations)",
					 cats[i]->what, n);
		}
	}
	all_ok &= tap_eq(th_count_objects(domain, 1), 0,
			 "no shared objects remain");
	if (all_ok && !bad && !failed && !th_env_long("FLOE_MODEL_KEEP", 0))
		rm_logs();
	else
		tap_diag("logs kept in %s (seed %" PRIu64 ")", model_dir, seed);
	return tap_done();
}
