// SPDX-License-Identifier: MIT
/*
 * Model-based test of the publish-subscribe contract across processes,
 * with kills.
 *
 * The parent forks 2-4 worker processes at a time. Each runs a random
 * sequence of operations (from the seed: FLOE_SEED=<seed> replays the same
 * sequences, the interleaving differs) on 2-3 services of varied QoS
 * (history 0 and > 0, safe overflow on and off - off with
 * FLOE_DELIVER_DISCARD, so a full queue means "not reached" - buffers of
 * 1-4, some services with a single subscriber): open/create/close a
 * service, create/destroy publishers and subscribers (some subscribers
 * are looked at rarely), loan+send (several loans at once, sent in random
 * order) or send_copy, receive, hold samples up to the borrow limit and
 * release them in random order, has_samples followed by receive,
 * publishers that live for one burst (create, send, destroy with the
 * samples still queued), sends followed by the worker SIGKILLing itself,
 * and exits right after sending (destroying everything, or not). The
 * first two workers are anchors that live to the end (their subscribers
 * carry the obligations checked); some others are flash workers: open,
 * publish a burst or two, end at once. The parent SIGKILLs random workers
 * at random times and starts new ones.
 *
 * Every observation is a line of the worker's log with CLOCK_MONOTONIC
 * times taken before and after the call (a send and a subscriber creation
 * also log their start, so one cut short by a kill is known: "maybe sent"
 * obliges nothing but may be received). At the end the parent stops the
 * survivors (who may destroy their publishers then), has them drain every
 * subscriber (receive until 0, then has_samples must be false and a
 * further receive 0 - nothing is sent any more), and checks the merged
 * logs against a sequential model of the contract:
 *
 *  integrity      payload matches the header (publisher id, sequence) and
 *                 the publisher that wrote it; contents intact, also when
 *                 released after the publisher ended;
 *  no phantom     every received sample was sent (or maybe sent) on that
 *                 service before the receive returned;
 *  no duplicate   per subscriber;
 *  order          per subscriber and publisher, strictly increasing
 *                 sequence numbers;
 *  no over-delivery  (history 0) no more subscribers receive a sample
 *                 than its send reported, and none created after it;
 *  no loss        (history 0) for every send that reported k >= 1
 *                 subscribers reached: receivers + excused >= k, where a
 *                 subscriber is excused if it may have been reached (its
 *                 creation began before the send returned and it was not
 *                 destroyed before the send began - a dead subscriber's
 *                 slot may be counted until reclaimed) and it left or
 *                 died without receiving the sample (and without taking
 *                 a later sample of that publisher, which would have come
 *                 after it), or (safe overflow) at least its buffer size
 *                 later samples of that publisher were sent before it
 *                 took a later one (or ended): enough to push it out. The
 *                 publisher's end (destroy, exit, SIGKILL)
 *                 excuses nothing;
 *  receive consistency  has_samples true => the next receive on that
 *                 subscriber returns a sample (excused only on a safe
 *                 overflow service by a concurrent send, whose eviction
 *                 may empty the queue for an instant); in the drain, a
 *                 receive that returns 0 is never followed by a sample;
 *                 after the drain has_samples is false.
 *
 * Violations are printed with the seed and the log lines involved.
 *
 * Environment: FLOE_MODEL_SECS (default 4) seconds of random operations,
 * capped by FLOE_TEST_TIMEOUT (make check-storm: STORM_SECS), in rounds of
 * at most FLOE_MODEL_ROUND_SECS (default 10), each with fresh services
 * (new QoS), workers and logs, and a seed of its own (printed; round 0's
 * is the test's); FLOE_MODEL_ENDINGS (default "all"): which
 * publisher endings happen, a comma list of "destroy" (destroy and
 * burst-lived publishers), "exit" (workers exiting on their own), "kill"
 * (SIGKILLs by the parent and by workers after a send), or "none" (no
 * publisher ever ends before the drain; subscribers still come and go) -
 * for telling violations about publisher endings from the rest;
 * FLOE_MODEL_KEEP=1 keeps the logs (kept anyway for a round with a
 * violation: the directory is printed); FLOE_MODEL_SHOW (default 6):
 * violations printed in full per category (the rest are counted).
 */
#include "model.h"

#define MAX_SVC 3
#define PUBS_PER_SVC 2 /* per worker */
#define SUBS_PER_SVC 2
#define MAX_HELD 8
#define MAX_LOANS 4
#define WORDS 4
#define MAYBE INT64_MIN /* a send's result when the worker died in it */
#define NONE UINT32_MAX
#define MIN(a, b) ((a) < (b) ? (a) : (b))

struct model_msg {
	uint64_t pub_id;  /* floe id of the publisher */
	uint64_t pub_key; /* the model's name of the publisher */
	uint64_t seq;     /* its sends so far: the header's sequence */
	uint64_t words[WORDS];
	uint64_t check;
};

static const struct floe_type msg_type = {
	.name = "t_model.Msg",
	.size = sizeof(struct model_msg),
	.align = _Alignof(struct model_msg),
};

struct svc_cfg {
	char name[32];
	struct floe_pubsub_qos q;
};

enum { END_DESTROY = 1, END_EXIT = 2, END_KILL = 4, END_ALL = 7 };

static struct svc_cfg svcs[MAX_SVC];
static int nsvc;
static uint64_t seed;
static int endings = END_ALL;

/* ------------------------------------------------------------------ */
/* Payload                                                            */
/* ------------------------------------------------------------------ */

static uint64_t msg_word(const struct model_msg *m, int i)
{
	return th_pattern(m->pub_key * 7919 + m->seq, (uint64_t)i);
}

static uint64_t msg_sum(const struct model_msg *m)
{
	uint64_t h = th_pattern(m->pub_id ^ (m->pub_key << 20), m->seq);

	for (int i = 0; i < WORDS; i++)
		h = th_pattern(h, m->words[i]);
	return h;
}

static void msg_fill(struct model_msg *m, uint64_t id, uint64_t key,
		     uint64_t seq)
{
	m->pub_id = id;
	m->pub_key = key;
	m->seq = seq;
	for (int i = 0; i < WORDS; i++)
		m->words[i] = msg_word(m, i);
	m->check = msg_sum(m);
}

static int msg_ok(const struct model_msg *m)
{
	for (int i = 0; i < WORDS; i++)
		if (m->words[i] != msg_word(m, i))
			return 0;
	return m->check == msg_sum(m);
}

/* Whole and consistent with its header. */
static int sample_ok(const floe_sample *s)
{
	const struct model_msg *m = floe_sample_payload(s);

	return msg_ok(m) && m->pub_id == floe_sample_publisher_id(s) &&
	       m->seq == floe_sample_sequence(s) && floe_sample_len(s) == 1 &&
	       floe_sample_payload_size(s) == sizeof(*m);
}

/* ------------------------------------------------------------------ */
/* Worker                                                             */
/* ------------------------------------------------------------------ */

/*
 * Log lines (times in ns since the test began; keys name ports as
 * worker << 16 | n):
 *   n t0 t1 res id                       node created
 *   o t0 t1 svc how res                  service open (0) create (1) either (2)
 *   x t0 t1 svc                          service closed
 *   p t0 t1 svc pub res id               publisher created
 *   q t0 t1 svc pub                      publisher destroyed
 *   C t0 svc sub                         subscriber creation begins
 *   c t0 t1 svc sub res id buffer        subscriber created
 *   d t0 t1 svc sub                      subscriber destroyed
 *   a t0 t1 svc pub res                  loan failed
 *   S t0 svc pub seq                     send begins
 *   s t0 t1 svc pub seq res              send returned
 *   r t0 t1 svc sub res hpid hseq ppub pseq ok   receive (header, payload)
 *   h t0 t1 svc sub res                  has_samples
 *   l t0 t1 svc sub hpid hseq ok         release (ok: still intact)
 *   Q t                                  stopped
 *   D t svc sub                          drain begins
 *   Z t svc sub has                      drain ends, has_samples after it
 *   X t how                              exits: 0 destroying, 1 without,
 *                                        2 SIGKILLs itself, 3 survivor
 *   E t0 t1 svc key res text             unexpected result
 */

enum op {
	OP_OPEN, OP_CLOSE, OP_PUB_CREATE, OP_PUB_DESTROY, OP_SUB_CREATE,
	OP_SUB_DESTROY, OP_SEND, OP_RECV, OP_RELEASE, OP_HAS, OP_BURST_PUB,
	OP_SEND_DIE, OP_EXIT, OP_UPDATE, OP_SLEEP, OP_COUNT
};

struct wpub {
	floe_publisher *h;
	uint64_t key, id, seq;
	int svc;
};

struct wsub {
	floe_subscriber *h;
	uint64_t key, id;
	uint32_t buf;
	int svc;
	int lazy; /* looked at rarely: publishers come and go unseen */
	const floe_sample *held[MAX_HELD];
	int nheld;
};

static struct model_worker *me;
static floe_node *wnode;
static floe_service *wsvc[MAX_SVC];
static struct wpub wpubs[MAX_SVC * PUBS_PER_SVC];
static int nwpubs;
static struct wsub wsubs[MAX_SVC * SUBS_PER_SVC];
static int nwsubs;
static uint64_t next_pub_n, next_sub_n;
static unsigned weights[OP_COUNT], weight_sum;
static uint64_t sleep_max_us;
/* publishers per service: anchors hold fewer, and none unless they
 * destroy them, so that the others find free publisher slots */
static int pub_cap = PUBS_PER_SVC;

static void unexpected(const char *what, int svc, uint64_t key, int r,
		       uint64_t t0, uint64_t t1)
{
	model_log("E %" PRIu64 " %" PRIu64 " %d %" PRIu64 " %d %s: %s", t0, t1,
		  svc, key, r, what, floe_strerror(r));
}

static int pubs_on(int svc)
{
	int n = 0;

	for (int i = 0; i < nwpubs; i++)
		n += wpubs[i].svc == svc;
	return n;
}

static int subs_on(int svc)
{
	int n = 0;

	for (int i = 0; i < nwsubs; i++)
		n += wsubs[i].svc == svc;
	return n;
}

/* A random open service (with fewer than @max of our publishers if
 * @pubs, or of our subscribers if @subs), or -1. */
static int pick_svc(int want_open, int pubs, int subs)
{
	int cand[MAX_SVC], n = 0;

	for (int i = 0; i < nsvc; i++) {
		if (!!wsvc[i] != want_open)
			continue;
		if (pubs && pubs_on(i) >= pub_cap)
			continue;
		if (subs && subs_on(i) >= SUBS_PER_SVC)
			continue;
		cand[n++] = i;
	}
	return n ? cand[th_rand_below((uint64_t)n)] : -1;
}

static void op_open(void)
{
	int i = pick_svc(0, 0, 0), how = (int)th_rand_below(3), r;
	struct floe_service_opts o = { .type = msg_type };
	floe_service *h = NULL;
	uint64_t t0, t1;

	if (i < 0)
		return;
	o.qos = &svcs[i].q;
	t0 = model_now();
	if (how == 0)
		r = floe_service_open(wnode, svcs[i].name, &o, &h);
	else if (how == 1)
		r = floe_service_create(wnode, svcs[i].name, &o, &h);
	else
		r = floe_service_open_or_create(wnode, svcs[i].name, &o, &h);
	t1 = model_now();
	model_log("o %" PRIu64 " %" PRIu64 " %d %d %d", t0, t1, i, how, r);
	if (!r)
		wsvc[i] = h;
	else if (r != FLOE_E_BUSY && r != FLOE_E_NODE_LIMIT &&
		 !(how == 0 && r == FLOE_E_NOT_FOUND) &&
		 !(how == 1 && r == FLOE_E_EXISTS))
		unexpected("service open", i, 0, r, t0, t1);
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
	int i = pick_svc(1, 0, 0);

	if (i >= 0 && !pubs_on(i) && !subs_on(i))
		svc_close(i);
}

static struct wpub *pub_create(int svc)
{
	struct floe_publisher_opts po;
	struct wpub *p = &wpubs[nwpubs];
	floe_publisher *h = NULL;
	uint64_t key = ((uint64_t)me->idx << 16) | next_pub_n++;
	uint64_t t0, t1, id = 0;
	int r;

	floe_publisher_opts_init(&po);
	po.unable_to_deliver = FLOE_DELIVER_DISCARD;
	t0 = model_now();
	r = floe_publisher_create(wsvc[svc], &po, &h);
	t1 = model_now();
	if (!r)
		id = floe_publisher_id(h);
	model_log("p %" PRIu64 " %" PRIu64 " %d %" PRIu64 " %d %" PRIu64, t0,
		  t1, svc, key, r, id);
	if (r) {
		if (r != FLOE_E_PORT_LIMIT)
			unexpected("publisher create", svc, key, r, t0, t1);
		return NULL;
	}
	*p = (struct wpub){ .h = h, .key = key, .id = id, .svc = svc };
	nwpubs++;
	return p;
}

static void pub_destroy(struct wpub *p)
{
	uint64_t t0 = model_now(), t1;

	floe_publisher_destroy(p->h);
	t1 = model_now();
	model_log("q %" PRIu64 " %" PRIu64 " %d %" PRIu64, t0, t1, p->svc,
		  p->key);
	*p = wpubs[--nwpubs];
}

static void op_pub_create(void)
{
	int svc = pick_svc(1, 1, 0);

	if (svc >= 0)
		pub_create(svc);
}

static void sub_create(int svc)
{
	struct floe_subscriber_opts so = { 0 };
	uint32_t qbuf = svcs[svc].q.subscriber_max_buffer_size;
	floe_subscriber *h = NULL;
	uint64_t key = ((uint64_t)me->idx << 16) | next_sub_n++;
	uint64_t t0, t1, id = 0;
	int r;

	if (th_rand_below(3))
		so.buffer_size = 1 + (uint32_t)th_rand_below(qbuf);
	t0 = model_now();
	model_log("C %" PRIu64 " %d %" PRIu64, t0, svc, key);
	r = floe_subscriber_create(wsvc[svc], &so, &h);
	t1 = model_now();
	if (!r)
		id = floe_subscriber_id(h);
	model_log("c %" PRIu64 " %" PRIu64 " %d %" PRIu64 " %d %" PRIu64 " %u",
		  t0, t1, svc, key, r, id,
		  so.buffer_size ? so.buffer_size : qbuf);
	if (r) {
		if (r != FLOE_E_PORT_LIMIT)
			unexpected("subscriber create", svc, key, r, t0, t1);
		return;
	}
	wsubs[nwsubs++] = (struct wsub){
		.h = h, .key = key, .id = id, .svc = svc,
		.buf = so.buffer_size ? so.buffer_size : qbuf,
		.lazy = th_rand_below(3) == 0,
	};
}

static void op_sub_create(void)
{
	int svc = pick_svc(1, 0, 1);

	if (svc >= 0)
		sub_create(svc);
}

/* Release held sample @k of @s (checking it is still intact). */
static void release(struct wsub *s, int k)
{
	const floe_sample *smp = s->held[k];
	int ok = sample_ok(smp);
	uint64_t hpid = floe_sample_publisher_id(smp);
	uint64_t hseq = floe_sample_sequence(smp);
	uint64_t t0 = model_now(), t1;

	floe_sample_release(smp);
	t1 = model_now();
	s->held[k] = s->held[--s->nheld];
	model_log("l %" PRIu64 " %" PRIu64 " %d %" PRIu64 " %" PRIu64
		  " %" PRIu64 " %d", t0, t1, s->svc, s->key, hpid, hseq, ok);
}

static void release_all(struct wsub *s)
{
	while (s->nheld)
		release(s, (int)th_rand_below((uint64_t)s->nheld));
}

static void sub_destroy(struct wsub *s)
{
	uint64_t t0, t1;

	/* held samples go back first (destroying a subscriber that holds
	 * some is a misuse) */
	release_all(s);
	t0 = model_now();
	floe_subscriber_destroy(s->h);
	t1 = model_now();
	model_log("d %" PRIu64 " %" PRIu64 " %d %" PRIu64, t0, t1, s->svc,
		  s->key);
	*s = wsubs[--nwsubs];
}

/* Receive once, logged; hold the sample (the caller may release). */
static int sub_receive(struct wsub *s)
{
	uint32_t limit = svcs[s->svc].q.subscriber_max_borrowed_samples;
	const floe_sample *smp = NULL;
	uint64_t t0 = model_now(), t1;
	int r = floe_subscriber_receive(s->h, &smp);

	t1 = model_now();
	if (r == 1) {
		const struct model_msg *m = floe_sample_payload(smp);

		model_log("r %" PRIu64 " %" PRIu64 " %d %" PRIu64 " 1 %" PRIu64
			  " %" PRIu64 " %" PRIu64 " %" PRIu64 " %d", t0, t1,
			  s->svc, s->key, floe_sample_publisher_id(smp),
			  floe_sample_sequence(smp), m->pub_key, m->seq,
			  sample_ok(smp));
		s->held[s->nheld++] = smp;
		return 1;
	}
	model_log("r %" PRIu64 " %" PRIu64 " %d %" PRIu64 " %d 0 0 0 0 0", t0,
		  t1, s->svc, s->key, r);
	if (r < 0 && !(r == FLOE_E_BORROW_LIMIT && s->nheld >= (int)limit))
		unexpected("receive", s->svc, s->key, r, t0, t1);
	return r;
}

static int sub_has(struct wsub *s)
{
	uint64_t t0 = model_now(), t1;
	int h = floe_subscriber_has_samples(s->h);

	t1 = model_now();
	model_log("h %" PRIu64 " %" PRIu64 " %d %" PRIu64 " %d", t0, t1, s->svc,
		  s->key, h);
	return h;
}

/* Make room for one more sample if at the borrow limit. */
static void make_room(struct wsub *s)
{
	uint32_t limit = svcs[s->svc].q.subscriber_max_borrowed_samples;

	if (s->nheld >= (int)limit)
		release(s, (int)th_rand_below((uint64_t)s->nheld));
}

/* A subscriber to look at, or NULL (lazy ones are mostly left alone). */
static struct wsub *pick_sub(void)
{
	struct wsub *s;

	if (!nwsubs)
		return NULL;
	s = &wsubs[th_rand_below((uint64_t)nwsubs)];
	return s->lazy && th_rand_below(20) ? NULL : s;
}

static void op_recv(void)
{
	struct wsub *s = pick_sub();
	int n;

	if (!s)
		return;
	n = 1 + (int)th_rand_below(3);
	for (int i = 0; i < n; i++) {
		/* at the limit, mostly make room; sometimes hit the limit */
		if (th_rand_below(4))
			make_room(s);
		if (sub_receive(s) != 1)
			break;
		if (th_rand_below(2))
			release(s, (int)th_rand_below((uint64_t)s->nheld));
	}
}

static void op_release(void)
{
	struct wsub *s;

	if (!nwsubs)
		return;
	s = &wsubs[th_rand_below((uint64_t)nwsubs)];
	if (s->nheld)
		release(s, (int)th_rand_below((uint64_t)s->nheld));
}

static void op_has(void)
{
	struct wsub *s = pick_sub();

	if (!s)
		return;
	make_room(s);
	sub_has(s);
	if (th_rand_below(4))
		sub_receive(s);
}

/* Send @n samples from @p: loaned one by one, several loans at once sent
 * in random order, or copied. */
static void pub_send(struct wpub *p, int n)
{
	uint32_t loans = svcs[p->svc].q.publisher_max_loaned_samples;

	while (n > 0) {
		floe_sample_mut *held[MAX_LOANS];
		int k = 0, want = 1, loan_err = 0, r;
		uint64_t t0, t1;

		if (th_rand_below(4) == 0) {
			struct model_msg m;

			msg_fill(&m, p->id, p->key, p->seq);
			t0 = model_now();
			model_log("S %" PRIu64 " %d %" PRIu64 " %" PRIu64, t0,
				  p->svc, p->key, p->seq);
			r = floe_publisher_send_copy(p->h, &m, sizeof(m));
			t1 = model_now();
			model_log("s %" PRIu64 " %" PRIu64 " %d %" PRIu64
				  " %" PRIu64 " %d", t0, t1, p->svc, p->key,
				  p->seq, r);
			if (r >= 0)
				p->seq++;
			else if (r != FLOE_E_POOL_EMPTY)
				unexpected("send_copy", p->svc, p->key, r, t0,
					   t1);
			n--;
			continue;
		}
		if (th_rand_below(3) == 0)
			want = 1 + (int)th_rand_below(loans);
		while (k < want) {
			t0 = model_now();
			r = floe_publisher_loan(p->h, 1, &held[k]);
			t1 = model_now();
			if (r) {
				model_log("a %" PRIu64 " %" PRIu64 " %d %" PRIu64
					  " %d", t0, t1, p->svc, p->key, r);
				if (r != FLOE_E_POOL_EMPTY)
					unexpected("loan", p->svc, p->key, r,
						   t0, t1);
				loan_err = r;
				break;
			}
			k++;
		}
		/* send them in random order (the sequence is the send
		 * order: fill just before sending), maybe discard one */
		while (k) {
			int i = (int)th_rand_below((uint64_t)k);
			floe_sample_mut *sm = held[i];

			held[i] = held[--k];
			if (th_rand_below(8) == 0) {
				floe_sample_mut_discard(sm);
				continue;
			}
			msg_fill(floe_sample_mut_payload(sm), p->id, p->key,
				 p->seq);
			t0 = model_now();
			model_log("S %" PRIu64 " %d %" PRIu64 " %" PRIu64, t0,
				  p->svc, p->key, p->seq);
			r = floe_sample_mut_send(sm);
			t1 = model_now();
			model_log("s %" PRIu64 " %" PRIu64 " %d %" PRIu64
				  " %" PRIu64 " %d", t0, t1, p->svc, p->key,
				  p->seq, r);
			p->seq++;
			if (r < 0)
				unexpected("send", p->svc, p->key, r, t0, t1);
			n--;
		}
		if (loan_err)
			break; /* the pool is empty: give up this burst */
	}
}

static int burst_len(int svc)
{
	return 1 + (int)th_rand_below(svcs[svc].q.subscriber_max_buffer_size + 1);
}

static void op_send(void)
{
	struct wpub *p;

	if (!nwpubs)
		return;
	p = &wpubs[th_rand_below((uint64_t)nwpubs)];
	pub_send(p, burst_len(p->svc));
}

static void op_pub_destroy(void)
{
	if (nwpubs)
		pub_destroy(&wpubs[th_rand_below((uint64_t)nwpubs)]);
}

/* A publisher that lives for one burst: destroyed with its samples still
 * queued. */
static void op_burst_pub(void)
{
	int svc = pick_svc(1, 1, 0);
	struct wpub *p;

	if (svc < 0 || !(p = pub_create(svc)))
		return;
	pub_send(p, burst_len(svc));
	if (th_rand_below(2))
		th_sleep_us(th_rand_below(200));
	pub_destroy(p);
}

/* Send, then SIGKILL ourselves. */
static void op_send_die(void)
{
	struct wpub *p = NULL;
	int svc;

	if (nwpubs && th_rand_below(2)) {
		p = &wpubs[th_rand_below((uint64_t)nwpubs)];
	} else {
		svc = pick_svc(1, 1, 0);
		if (svc < 0 || !(p = pub_create(svc)))
			return;
	}
	pub_send(p, burst_len(p->svc));
	model_log("X %" PRIu64 " 2", model_now());
	kill(getpid(), SIGKILL);
	for (;;)
		pause();
}

/* Destroy every port and service (in random order) and the node. */
static void destroy_everything(void)
{
	while (nwpubs || nwsubs) {
		if (nwpubs && (!nwsubs || th_rand_below(2)))
			pub_destroy(&wpubs[th_rand_below((uint64_t)nwpubs)]);
		else
			sub_destroy(&wsubs[th_rand_below((uint64_t)nwsubs)]);
	}
	for (int i = 0; i < nsvc; i++)
		if (wsvc[i])
			svc_close(i);
	floe_node_destroy(wnode);
	wnode = NULL;
}

/* Exit, usually right after a burst of sends, destroying everything
 * first or not. */
static void op_exit(void)
{
	if (nwpubs && th_rand_below(4)) {
		struct wpub *p = &wpubs[th_rand_below((uint64_t)nwpubs)];

		pub_send(p, burst_len(p->svc));
	}
	if (th_rand_below(3)) {
		destroy_everything();
		model_log("X %" PRIu64 " 0", model_now());
		_exit(0);
	}
	model_log("X %" PRIu64 " 1", model_now());
	_exit(0);
}

static void op_update(void)
{
	struct wpub *p;
	uint64_t t0, t1;
	int r;

	if (!nwpubs)
		return;
	p = &wpubs[th_rand_below((uint64_t)nwpubs)];
	t0 = model_now();
	r = floe_publisher_update_connections(p->h);
	t1 = model_now();
	if (r)
		unexpected("update_connections", p->svc, p->key, r, t0, t1);
}

/* Receive until nothing is waiting, then has_samples and one more
 * receive: nothing is sent any more, so both must say "empty". */
static void drain(struct wsub *s)
{
	model_log("D %" PRIu64 " %d %" PRIu64, model_now(), s->svc, s->key);
	release_all(s);
	for (int round = 0; round < 100; round++) {
		int n = 0;

		while (n++ < 100000 && sub_receive(s) == 1)
			release_all(s);
		sub_has(s);
		if (sub_receive(s) != 1)
			break;
		release_all(s); /* a violation: go on draining */
	}
	model_log("Z %" PRIu64 " %d %" PRIu64 " %d", model_now(), s->svc,
		  s->key, floe_subscriber_has_samples(s->h));
}

/* Told to stop: maybe end our publishers now, drain when told to, clean
 * up when told to. */
static int worker_finish(void)
{
	char c;

	if (endings & END_DESTROY) {
		int mode = (int)th_rand_below(3);

		for (int i = nwpubs - 1; i >= 0; i--)
			if (mode == 0 || (mode == 1 && th_rand_below(2)))
				pub_destroy(&wpubs[i]);
	}
	model_log("Q %" PRIu64, model_now());
	model_ack(me->idx, 'Q');
	c = model_wait_cmd(me, 600000);
	if (c != 'D')
		return 3;
	for (int i = 0; i < nwsubs; i++)
		drain(&wsubs[i]);
	model_ack(me->idx, 'D');
	c = model_wait_cmd(me, 600000);
	if (c != 'F')
		return 3;
	destroy_everything();
	model_log("X %" PRIu64 " 3", model_now());
	return 0;
}

static void set_weights(void)
{
	/* A personality per worker: eager or lazy subscriber, busy or
	 * quiet publisher, more or less sleep. Anchors (workers that live to
	 * the end, so that their subscribers' obligations are checked)
	 * rarely destroy subscribers. */
	weights[OP_OPEN] = 40;
	weights[OP_CLOSE] = 10;
	weights[OP_PUB_CREATE] = 30;
	weights[OP_PUB_DESTROY] = endings & END_DESTROY ? 20 : 0;
	weights[OP_SUB_CREATE] = 30;
	weights[OP_SUB_DESTROY] = me->anchor ? 1 : 10;
	weights[OP_SEND] = 50 + (unsigned)th_rand_below(300);
	weights[OP_RECV] = 20 + (unsigned)th_rand_below(300);
	weights[OP_RELEASE] = 40;
	weights[OP_HAS] = 30 + (unsigned)th_rand_below(120);
	weights[OP_BURST_PUB] = endings & END_DESTROY ? 30 : 0;
	weights[OP_UPDATE] = 10;
	weights[OP_SLEEP] = 50 + (unsigned)th_rand_below(400);
	weight_sum = 0;
	for (int i = 0; i < OP_COUNT; i++)
		weight_sum += weights[i];
	/* some are slow to look at their subscribers */
	sleep_max_us = th_rand_below(3) ? 500 : 5000;
	if (me->anchor)
		pub_cap = endings & END_DESTROY ? 1 : 0;
}

/*
 * A flash worker: a publisher (and maybe a subscriber) that lives for a
 * burst or two, then ends at once - destroying everything and exiting,
 * exiting without destroying, or SIGKILLing itself - likely before the
 * subscribers have looked at it.
 */
static int flash_worker(void)
{
	int svc = (int)th_rand_below((uint64_t)nsvc), how;
	struct floe_service_opts o = { .type = msg_type, .qos = &svcs[svc].q };
	struct wpub *p;
	uint64_t t0, t1;
	int r;

	t0 = model_now();
	r = floe_service_open_or_create(wnode, svcs[svc].name, &o, &wsvc[svc]);
	t1 = model_now();
	model_log("o %" PRIu64 " %" PRIu64 " %d 2 %d", t0, t1, svc, r);
	if (r) {
		wsvc[svc] = NULL;
		if (r != FLOE_E_BUSY && r != FLOE_E_NODE_LIMIT)
			unexpected("service open", svc, 0, r, t0, t1);
		return 0;
	}
	if (th_rand_below(4) == 0)
		sub_create(svc);
	/* publisher slots may be taken a moment */
	for (int i = 0; i < 10 && !(p = pub_create(svc)); i++)
		th_sleep_us(500);
	for (int i = 0, n = 1 + (int)th_rand_below(2); p && i < n; i++) {
		pub_send(p, burst_len(svc));
		th_sleep_us(th_rand_below(300));
	}
	/* end as the allowed endings say (flash workers are only started
	 * when exit or kill is allowed) */
	how = (int)th_rand_below(3);
	if (!(endings & END_EXIT) || (how == 0 && (endings & END_KILL)))
		op_send_die();
	if (how == 1) {
		model_log("X %" PRIu64 " 1", model_now());
		_exit(0);
	}
	if (how == 2 && (endings & END_DESTROY) && p)
		pub_destroy(p);
	destroy_everything();
	model_log("X %" PRIu64 " 0", model_now());
	return 0;
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
	snprintf(name, sizeof(name), "model-w%d", me->idx);
	t0 = model_now();
	r = floe_node_create(name, NULL, &wnode);
	t1 = model_now();
	model_log("n %" PRIu64 " %" PRIu64 " %d %" PRIu64, t0, t1, r,
		  r ? 0 : floe_node_id(wnode));
	if (r) {
		unexpected("node create", -1, 0, r, t0, t1);
		return 1;
	}
	if (me->flash)
		return flash_worker();
	for (;;) {
		unsigned x;
		int op = 0;

		if (model_poll_cmd(me) == 'Q')
			return worker_finish();
		/* the rare ends of a worker, by themselves: about one in
		 * 3000 operations each */
		if ((endings & END_KILL) && !me->anchor &&
		    th_rand_below(3000) == 0)
			op_send_die();
		if ((endings & END_EXIT) && !me->anchor &&
		    th_rand_below(3000) == 0)
			op_exit();
		x = (unsigned)th_rand_below(weight_sum);
		while (x >= weights[op])
			x -= weights[op++];
		switch (op) {
		case OP_OPEN: op_open(); break;
		case OP_CLOSE: op_close(); break;
		case OP_PUB_CREATE: op_pub_create(); break;
		case OP_PUB_DESTROY: op_pub_destroy(); break;
		case OP_SUB_CREATE: op_sub_create(); break;
		case OP_SUB_DESTROY:
			/* an anchor's subscribers mostly live to the end */
			if (nwsubs && (!me->anchor || !th_rand_below(20)))
				sub_destroy(&wsubs[th_rand_below(
					(uint64_t)nwsubs)]);
			break;
		case OP_SEND: op_send(); break;
		case OP_RECV: op_recv(); break;
		case OP_RELEASE: op_release(); break;
		case OP_HAS: op_has(); break;
		case OP_BURST_PUB: op_burst_pub(); break;
		case OP_UPDATE: op_update(); break;
		case OP_SLEEP: th_sleep_us(20 + th_rand_below(sleep_max_us)); break;
		default: break;
		}
	}
}

/* ------------------------------------------------------------------ */
/* The checker                                                        */
/* ------------------------------------------------------------------ */

#define NV 10

struct rec {
	char type;
	int w;
	int64_t v[NV];
	const char *line;
};

struct pubm {
	uint64_t key, id;
	int w, svc;
	uint32_t crec, drec;
	uint64_t t_end;
	struct model_vec sends; /* by sequence */
};

struct subm {
	uint64_t key, id;
	int w, svc;
	uint32_t buf;
	/* may be reached from t_begin (its creation began) to t_reach_end
	 * (its destroy returned; a dead subscriber's slot may be counted
	 * until someone reclaims it); lived until t_end */
	uint64_t t_begin, t_reach_end, t_end;
	int anon, drained, drain_done, left;
	uint32_t irec, crec, drec, zrec;
	struct model_vec evs; /* r, h, l, D, Z records in order */
};

struct sendm {
	uint32_t pub;
	uint64_t seq;
	int svc;
	uint64_t t0, t1;
	int64_t res;
	uint32_t irec, rrec;
	uint32_t nrecv;
};

static struct rec *recs;
static uint32_t nrecs, caprecs;
static struct pubm *pubm;
static uint32_t npubm, cappubm;
static struct subm *subm;
static uint32_t nsubm, capsubm;
static struct sendm *sendm;
static uint32_t nsendm, capsendm;
static struct model_map pub_by_key, sub_by_key, send_by_key, received;
static struct model_vec svc_subs[MAX_SVC], svc_sends[MAX_SVC];
/* (subscriber << 32 | publisher) -> the highest sequence received */
static struct model_map last_seq;


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

/* (subscriber << 32 | publisher) -> index in rx_lists: the receive
 * records of its samples, in receive (and so sequence) order */
static struct model_map rx_by_pair;
static struct model_vec *rx_lists;
static uint32_t nrx_lists, caprx_lists;

static void rx_append(uint32_t si, uint32_t pi, uint32_t ri)
{
	uint64_t key = ((uint64_t)si << 32) | pi;
	uint32_t x;

	if (!model_map_get(&rx_by_pair, key, &x)) {
		GROW(rx_lists, nrx_lists, caprx_lists);
		x = nrx_lists++;
		memset(&rx_lists[x], 0, sizeof(rx_lists[x]));
		model_map_put(&rx_by_pair, key, x);
	}
	model_vec_push(&rx_lists[x], ri);
}

/* When subscriber @si took its first sample of publisher @pi after @seq
 * (the receive's return), or UINT64_MAX. */
static uint64_t first_later_rx(uint32_t si, uint32_t pi, uint64_t seq)
{
	uint32_t x, lo = 0, hi;
	struct model_vec *v;

	if (!model_map_get(&rx_by_pair, ((uint64_t)si << 32) | pi, &x))
		return UINT64_MAX;
	v = &rx_lists[x];
	hi = v->n;
	while (lo < hi) { /* first with sequence > seq */
		uint32_t mid = lo + (hi - lo) / 2;

		if ((uint64_t)recs[v->v[mid]].v[8] > seq)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo < v->n ? (uint64_t)recs[v->v[lo]].v[1] : UINT64_MAX;
}

static struct model_category
	cat_api = { "api", "no unexpected errors from the API", 0 },
	cat_integrity = { "integrity", "payloads match their headers", 0 },
	cat_intact = { "intact", "held samples intact until released", 0 },
	cat_phantom = { "phantom", "every received sample was sent", 0 },
	cat_dup = { "duplicate", "no sample received twice", 0 },
	cat_order = { "order", "per-publisher order", 0 },
	cat_over = { "over-delivery", "no more receivers than reached", 0 },
	cat_loss = { "loss", "every sample reported delivered is received "
			      "unless excused", 0 },
	cat_consistency = { "receive-consistency",
			    "has_samples true => receive returns a sample", 0 },
	cat_drain = { "drain", "nothing waiting after the drain", 0 },
	cat_log = { "log", "logs well-formed", 0 };

static uint64_t send_key(uint64_t pub_key, uint64_t seq)
{
	return (pub_key << 32) | (seq & 0xffffffffull);
}

static const char *onoff(bool b)
{
	return b ? "on" : "off";
}

static void describe_svc(int i)
{
	const struct floe_pubsub_qos *q = &svcs[i].q;

	tap_diag("  service %d \"%s\": publishers %u, subscribers %u, buffer "
		 "%u, borrowed %u, history %u, loans %u, safe overflow %s", i,
		 svcs[i].name, q->max_publishers, q->max_subscribers,
		 q->subscriber_max_buffer_size,
		 q->subscriber_max_borrowed_samples, q->history_size,
		 q->publisher_max_loaned_samples,
		 onoff(q->enable_safe_overflow));
}

static void show_rec(uint32_t r)
{
	if (r != NONE)
		model_show_line(recs[r].w, recs[r].line);
}

static void show_fate(int w)
{
	struct model_worker *wk = &model_workers[w];

	tap_diag("    w%-3d pid %d %s (status %d), ended by t %" PRIu64
		 "%s", w, (int)wk->pid, model_fate_name[wk->fate], wk->status,
		 wk->end, wk->kill_sent ? " after the parent's SIGKILL" : "");
}

static const char *sub_state(const struct subm *s)
{
	if (s->anon)
		return "died while being created";
	if (s->drain_done)
		return "survived, drained";
	if (s->drained)
		return "died while draining";
	if (s->drec != NONE)
		return "destroyed";
	return "its worker ended";
}

/* Load every worker's log into records and entities. */
static void load_logs(void)
{
	for (int w = 0; w < model_nworkers; w++) {
		struct model_worker *wk = &model_workers[w];
		uint32_t pending_send = NONE, pending_sub = NONE;
		char path[320];
		char *p;

		model_log_path(path, sizeof(path), w);
		wk->log = model_slurp(path, &wk->log_len);
		if (!wk->log)
			continue;
		for (p = wk->log; *p;) {
			char *nl = strchr(p, '\n');
			struct rec *rc;
			uint32_t ri, x;

			if (!nl)
				break; /* cut short: cannot happen, one write */
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
			case 'p':
				if (rc->v[4] != 0)
					break;
				GROW(pubm, npubm, cappubm);
				pubm[npubm] = (struct pubm){
					.key = (uint64_t)rc->v[3],
					.id = (uint64_t)rc->v[5], .w = w,
					.svc = (int)rc->v[2], .crec = ri,
					.drec = NONE, .t_end = UINT64_MAX,
				};
				model_map_put(&pub_by_key, (uint64_t)rc->v[3],
					      npubm++);
				break;
			case 'q':
				if (model_map_get(&pub_by_key,
						  (uint64_t)rc->v[3], &x)) {
					pubm[x].drec = ri;
					pubm[x].t_end = (uint64_t)rc->v[1];
				}
				break;
			case 'S':
				pending_send = ri;
				break;
			case 's':
				if (pending_send == NONE ||
				    recs[pending_send].v[2] != rc->v[3] ||
				    recs[pending_send].v[3] != rc->v[4]) {
					if (model_violation(&cat_log, seed,
						"send result without its start"))
						model_show_line(w, rc->line);
					break;
				}
				if (rc->v[5] >= 0 &&
				    model_map_get(&pub_by_key,
						  (uint64_t)rc->v[3], &x)) {
					GROW(sendm, nsendm, capsendm);
					sendm[nsendm] = (struct sendm){
						.pub = x,
						.seq = (uint64_t)rc->v[4],
						.svc = (int)rc->v[2],
						.t0 = (uint64_t)rc->v[0],
						.t1 = (uint64_t)rc->v[1],
						.res = rc->v[5],
						.irec = pending_send,
						.rrec = ri,
					};
					nsendm++;
				}
				pending_send = NONE;
				break;
			case 'C':
				pending_sub = ri;
				break;
			case 'c':
				if (rc->v[4] == 0) {
					GROW(subm, nsubm, capsubm);
					subm[nsubm] = (struct subm){
						.key = (uint64_t)rc->v[3],
						.id = (uint64_t)rc->v[5],
						.w = w, .svc = (int)rc->v[2],
						.buf = (uint32_t)rc->v[6],
						.t_begin = (uint64_t)rc->v[0],
						.t_reach_end = UINT64_MAX,
						.t_end = UINT64_MAX,
						.irec = pending_sub,
						.crec = ri, .drec = NONE,
						.zrec = NONE,
					};
					model_map_put(&sub_by_key,
						      (uint64_t)rc->v[3],
						      nsubm++);
				}
				pending_sub = NONE;
				break;
			case 'd':
				if (model_map_get(&sub_by_key,
						  (uint64_t)rc->v[3], &x)) {
					subm[x].drec = ri;
					subm[x].t_end = (uint64_t)rc->v[1];
					subm[x].t_reach_end = subm[x].t_end;
					if (!subm[x].drained)
						subm[x].left = 1;
				}
				break;
			case 'r':
			case 'h':
			case 'l':
			case 'D':
			case 'Z': {
				int kpos = rc->type == 'D' || rc->type == 'Z'
						   ? 2 : 3;

				if (!model_map_get(&sub_by_key,
						   (uint64_t)rc->v[kpos], &x)) {
					if (model_violation(&cat_log, seed,
						"record of an unknown subscriber"))
						model_show_line(w, rc->line);
					break;
				}
				model_vec_push(&subm[x].evs, ri);
				if (rc->type == 'D')
					subm[x].drained = 1;
				if (rc->type == 'Z') {
					subm[x].drain_done = 1;
					subm[x].zrec = ri;
				}
				break;
			}
			case 'E':
				if (model_violation(&cat_api, seed,
						    "unexpected result"))
					model_show_around(w, rc->line, 3, 0);
				break;
			default:
				break;
			}
		}
		/* A send cut short by the worker's death: maybe sent. */
		if (pending_send != NONE) {
			struct rec *rc = &recs[pending_send];
			uint32_t x;

			if (model_map_get(&pub_by_key, (uint64_t)rc->v[2], &x)) {
				GROW(sendm, nsendm, capsendm);
				sendm[nsendm++] = (struct sendm){
					.pub = x, .seq = (uint64_t)rc->v[3],
					.svc = (int)rc->v[1],
					.t0 = (uint64_t)rc->v[0],
					.t1 = wk->end, .res = MAYBE,
					.irec = pending_send, .rrec = NONE,
				};
			}
		}
		/* A subscriber cut short in its creation: it may have been
		 * reached, and it died. */
		if (pending_sub != NONE) {
			struct rec *rc = &recs[pending_sub];

			GROW(subm, nsubm, capsubm);
			subm[nsubm++] = (struct subm){
				.key = (uint64_t)rc->v[2], .w = w,
				.svc = (int)rc->v[1],
				.t_begin = (uint64_t)rc->v[0],
				.t_reach_end = UINT64_MAX,
				.t_end = wk->end, .anon = 1, .left = 1,
				.irec = pending_sub, .crec = NONE,
				.drec = NONE, .zrec = NONE,
			};
		}
		/* Ports its death or exit ended. */
		for (uint32_t i = 0; i < npubm; i++)
			if (pubm[i].w == w && pubm[i].t_end == UINT64_MAX)
				pubm[i].t_end = wk->end;
		for (uint32_t i = 0; i < nsubm; i++) {
			struct subm *s = &subm[i];

			if (s->w != w)
				continue;
			if (s->t_end == UINT64_MAX)
				s->t_end = wk->end;
			if (!s->drain_done)
				s->left = 1;
			else
				s->left = 0;
		}
	}
	for (uint32_t i = 0; i < nsendm; i++) {
		struct sendm *sd = &sendm[i];

		model_map_put(&send_by_key,
			      send_key(pubm[sd->pub].key, sd->seq), i);
		model_vec_push(&pubm[sd->pub].sends, i);
		if (sd->svc >= 0 && sd->svc < nsvc)
			model_vec_push(&svc_sends[sd->svc], i);
	}
	for (uint32_t i = 0; i < nsubm; i++)
		if (subm[i].svc >= 0 && subm[i].svc < nsvc)
			model_vec_push(&svc_subs[subm[i].svc], i);
}

static const char *res_text(int64_t res, char *buf, size_t len)
{
	if (res == MAYBE)
		snprintf(buf, len, "no result (its worker died in it)");
	else
		snprintf(buf, len, "%" PRId64, res);
	return buf;
}

/* The send of @pub_key's sample @seq, or NONE. */
static uint32_t find_send(uint64_t pub_key, uint64_t seq)
{
	uint32_t x;

	return model_map_get(&send_by_key, send_key(pub_key, seq), &x) ? x
								       : NONE;
}

/* Print what subscriber @si received from publisher @pi around @seq. */
static void show_sub_around(uint32_t si, uint32_t pi, uint64_t seq)
{
	struct subm *s = &subm[si];
	uint32_t before = NONE, after = NONE;
	unsigned n = 0;

	for (uint32_t k = 0; k < s->evs.n; k++) {
		struct rec *rc = &recs[s->evs.v[k]];

		if (rc->type != 'r' || rc->v[4] != 1 ||
		    (uint64_t)rc->v[7] != pubm[pi].key)
			continue;
		n++;
		if ((uint64_t)rc->v[8] < seq)
			before = s->evs.v[k];
		else if (after == NONE)
			after = s->evs.v[k];
	}
	tap_diag("    received %u samples of that publisher; the last before "
		 "and the first after:", n);
	show_rec(before);
	show_rec(after);
	if (s->drec != NONE)
		show_rec(s->drec);
	if (s->zrec != NONE)
		show_rec(s->zrec);
}

static void show_send(uint32_t i)
{
	struct sendm *sd = &sendm[i];
	struct pubm *p = &pubm[sd->pub];

	show_rec(sd->irec);
	show_rec(sd->rrec);
	tap_diag("    its publisher:");
	show_rec(p->crec);
	if (p->drec != NONE)
		show_rec(p->drec);
	else
		show_fate(p->w);
}

/* Samples of publisher @pi after @seq possibly delivered before @until,
 * counted up to @enough. */
static uint32_t later_delivered(uint32_t pi, uint64_t seq, uint64_t until,
				uint32_t enough)
{
	struct model_vec *v = &pubm[pi].sends;
	uint32_t n = 0;

	for (uint32_t k = 0; k < v->n && n < enough; k++) {
		struct sendm *sd = &sendm[v->v[k]];

		if (sd->seq > seq && sd->t0 < until &&
		    (sd->res == MAYBE || sd->res >= 1))
			n++;
	}
	return n;
}

/* Some send on service @svc overlapping [@from, @to]. */
static uint32_t concurrent_send(int svc, uint64_t from, uint64_t to)
{
	struct model_vec *v = &svc_sends[svc];

	for (uint32_t k = 0; k < v->n; k++) {
		struct sendm *sd = &sendm[v->v[k]];

		if (sd->t0 <= to && sd->t1 >= from)
			return v->v[k];
	}
	return NONE;
}

struct stats {
	long receives, has_true, drained, obligations, sends, maybe, reached;
	long consistency_checks, excused_left, excused_overflow;
	long bound_checks;
	long pool_empty;
};

/* A sample subscriber @si received (record @ri): integrity, phantom,
 * duplicate, order, over-delivery. */
static void check_sample(uint32_t si, uint32_t ri)
{
	struct subm *s = &subm[si];
	const struct floe_pubsub_qos *q = &svcs[s->svc].q;
	struct rec *rc = &recs[ri];
	uint64_t pkey = (uint64_t)rc->v[7];
	uint64_t pseq = (uint64_t)rc->v[8];
	uint64_t pair;
	uint32_t pi, sdi, prev;
	struct sendm *sd;

	if (!rc->v[9]) {
		if (model_violation(&cat_integrity, seed,
				    "w%d.s%" PRIu64 " received a sample whose "
				    "payload does not match its header", s->w,
				    s->key & 0xffff))
			show_rec(ri);
		return;
	}
	if (!model_map_get(&pub_by_key, pkey, &pi)) {
		if (model_violation(&cat_phantom, seed,
				    "w%d.s%" PRIu64 " received a sample of an "
				    "unknown publisher", s->w, s->key & 0xffff))
			show_rec(ri);
		return;
	}
	if ((uint64_t)rc->v[5] != pubm[pi].id &&
	    model_violation(&cat_integrity, seed,
			    "header publisher id %" PRId64 " is not the id %"
			    PRIu64 " of the publisher that wrote it", rc->v[5],
			    pubm[pi].id))
		show_rec(ri);
	sdi = find_send(pkey, pseq);
	if (sdi == NONE) {
		if (model_violation(&cat_phantom, seed,
				    "w%d.s%" PRIu64 " received seq %" PRIu64
				    " of w%d.p%" PRIu64 ", which never sent it",
				    s->w, s->key & 0xffff, pseq, pubm[pi].w,
				    pkey & 0xffff))
			show_rec(ri);
		return;
	}
	sd = &sendm[sdi];
	if ((sd->svc != s->svc || sd->t0 > (uint64_t)rc->v[1]) &&
	    model_violation(&cat_phantom, seed,
			    "w%d.s%" PRIu64 " received seq %" PRIu64 " of w%d.p%"
			    PRIu64 " on service %d before it was sent, or "
			    "from another service", s->w, s->key & 0xffff,
			    pseq, pubm[pi].w, pkey & 0xffff, s->svc)) {
		show_rec(ri);
		show_rec(sd->irec);
	}
	if (model_map_get(&received, ((uint64_t)si << 32) | sdi, NULL)) {
		if (model_violation(&cat_dup, seed,
				    "w%d.s%" PRIu64 " received seq %" PRIu64
				    " of w%d.p%" PRIu64 " again", s->w,
				    s->key & 0xffff, pseq, pubm[pi].w,
				    pkey & 0xffff))
			show_sub_around(si, pi, pseq + 1);
		return;
	}
	model_map_put(&received, ((uint64_t)si << 32) | sdi, 1);
	sd->nrecv++;
	pair = ((uint64_t)si << 32) | pi;
	if (model_map_get(&last_seq, pair, &prev) && pseq < prev &&
	    model_violation(&cat_order, seed,
			    "w%d.s%" PRIu64 " received seq %" PRIu64 " of w%d.p%"
			    PRIu64 " after seq %u", s->w, s->key & 0xffff, pseq,
			    pubm[pi].w, pkey & 0xffff, prev))
		show_sub_around(si, pi, pseq);
	rx_append(si, pi, ri);
	if (!model_map_get(&last_seq, pair, &prev) || pseq > prev)
		model_map_put(&last_seq, pair, (uint32_t)pseq);
	if (!q->history_size && sd->res != MAYBE && sd->t1 < s->t_begin &&
	    model_violation(&cat_over, seed,
			    "w%d.s%" PRIu64 " (service %d, history 0) received "
			    "seq %" PRIu64 " of w%d.p%" PRIu64 ", sent before "
			    "it was created", s->w, s->key & 0xffff, s->svc,
			    pseq, pubm[pi].w, pkey & 0xffff)) {
		show_rec(s->irec);
		show_send(sdi);
		show_rec(ri);
	}
}

/* Subscriber @si: has_samples (record @hi) said true, then the next
 * receive (@ri) returned 0. Only a concurrent send evicting from a full
 * queue (safe overflow) can empty it for an instant. */
static void check_has_then_empty(uint32_t si, uint32_t hi, uint32_t ri)
{
	struct subm *s = &subm[si];
	const struct floe_pubsub_qos *q = &svcs[s->svc].q;
	struct rec *h = &recs[hi], *rc = &recs[ri];

	if (q->enable_safe_overflow &&
	    concurrent_send(s->svc, (uint64_t)h->v[0], (uint64_t)rc->v[1]) !=
		    NONE)
		return;
	if (!model_violation(&cat_consistency, seed,
			     "subscriber w%d.s%" PRIu64 " (id %" PRIu64
			     ", service %d, safe overflow %s): has_samples "
			     "true, then receive returned 0", s->w,
			     s->key & 0xffff, s->id, s->svc,
			     onoff(q->enable_safe_overflow)))
		return;
	if (strchr(h->line, '\n') + 1 != rc->line) {
		model_show_around(h->w, h->line, 4, 0);
		tap_diag("    ...");
	}
	model_show_around(rc->w, rc->line, 4, 0);
}

static void check_receives(struct stats *st)
{
	for (uint32_t si = 0; si < nsubm; si++) {
		struct subm *s = &subm[si];
		uint32_t pending_has = NONE, zero_in_drain = NONE;
		int in_drain = 0;

		st->drained += s->drain_done;
		for (uint32_t k = 0; k < s->evs.n; k++) {
			uint32_t ri = s->evs.v[k];
			struct rec *rc = &recs[ri];

			switch (rc->type) {
			case 'D':
				in_drain = 1;
				break;
			case 'Z':
				if (rc->v[3] &&
				    model_violation(&cat_drain, seed,
					"subscriber w%d.s%" PRIu64 " (id %" PRIu64
					"): has_samples still true after the "
					"drain", s->w, s->key & 0xffff, s->id))
					model_show_around(rc->w, rc->line, 6, 0);
				in_drain = 0;
				break;
			case 'h':
				pending_has = rc->v[4] == 1 ? ri : NONE;
				st->has_true += rc->v[4] == 1;
				break;
			case 'l':
				if (!rc->v[6] &&
				    model_violation(&cat_intact, seed,
					"sample (publisher id %" PRId64 ", seq %"
					PRId64 ") changed while w%d.s%" PRIu64
					" held it", rc->v[4], rc->v[5], s->w,
					s->key & 0xffff))
					show_rec(ri);
				break;
			case 'r':
				if (rc->v[4] == 0 && pending_has != NONE) {
					st->consistency_checks++;
					check_has_then_empty(si, pending_has, ri);
				}
				if (rc->v[4] == 0 && in_drain)
					zero_in_drain = ri;
				pending_has = NONE;
				if (rc->v[4] != 1)
					break;
				st->receives++;
				if (in_drain && zero_in_drain != NONE &&
				    model_violation(&cat_consistency, seed,
					"subscriber w%d.s%" PRIu64 " (id %" PRIu64
					"): in the drain (nothing sent any "
					"more) receive returned 0, then a "
					"sample", s->w, s->key & 0xffff, s->id))
					model_show_around(rc->w, rc->line, 4, 0);
				zero_in_drain = NONE;
				check_sample(si, ri);
				break;
			default:
				break;
			}
		}
	}
}

static void check_loss(struct stats *st)
{
	for (uint32_t i = 0; i < nsendm; i++) {
		struct sendm *sd = &sendm[i];
		const struct floe_pubsub_qos *q = &svcs[sd->svc].q;
		struct pubm *p = &pubm[sd->pub];
		struct model_vec *cands = &svc_subs[sd->svc];
		uint32_t excused = 0, left = 0, overflow = 0, later;
		char rb[64];

		st->sends++;
		if (sd->res == MAYBE) {
			st->maybe++;
			continue;
		}
		if (sd->res < 1)
			continue;
		st->reached++;
		if (q->history_size)
			continue;
		st->obligations += sd->res;
		if (sd->nrecv > (uint64_t)sd->res &&
		    model_violation(&cat_over, seed,
			"seq %" PRIu64 " of w%d.p%" PRIu64 " (id %" PRIu64
			", service %d) received by %u subscribers, its send "
			"reported %s", sd->seq, p->w, p->key & 0xffff, p->id,
			sd->svc, sd->nrecv, res_text(sd->res, rb, sizeof(rb))))
			show_send(i);
		for (uint32_t k = 0; k < cands->n; k++) {
			struct subm *s = &subm[cands->v[k]];

			int took_later;

			if (!(s->t_begin < sd->t1 && s->t_reach_end > sd->t0))
				continue; /* cannot have been reached */
			took_later = model_map_get(&last_seq,
						   ((uint64_t)cands->v[k] << 32) |
							   sd->pub, &later) &&
				     later > sd->seq;
			if (!s->left || took_later)
				st->bound_checks++;
			if (model_map_get(&received,
					  ((uint64_t)cands->v[k] << 32) | i, NULL))
				continue;
			/* overflow: enough later samples to push it out of
			 * the queue before it took a later one (or ended) */
			if (q->enable_safe_overflow &&
			    later_delivered(sd->pub, sd->seq,
					    MIN(s->t_end,
						first_later_rx(cands->v[k],
							       sd->pub, sd->seq)),
					    s->buf) >= s->buf) {
				excused++;
				overflow++;
				continue;
			}
			/* left or died before taking it - unless it took a
			 * later sample of that publisher: then this one never
			 * reached it (it would have come first) */
			if (s->left && !took_later) {
				excused++;
				left++;
			}
		}
		st->excused_left += left;
		st->excused_overflow += overflow;
		if (sd->nrecv + excused >= (uint64_t)sd->res)
			continue;
		if (!model_violation(&cat_loss, seed,
			"seq %" PRIu64 " of w%d.p%" PRIu64 " (id %" PRIu64 ") on "
			"service %d: send reported %" PRId64 " reached, "
			"received by %u, excused %u (%u left or died, %u "
			"overflowed)", sd->seq, p->w, p->key & 0xffff, p->id,
			sd->svc, sd->res, sd->nrecv, excused, left, overflow))
			continue;
		describe_svc(sd->svc);
		tap_diag("    the send:");
		show_send(i);
		for (uint32_t k = 0; k < cands->n; k++) {
			struct subm *s = &subm[cands->v[k]];
			int got = model_map_get(&received,
						((uint64_t)cands->v[k] << 32) | i,
						NULL);

			if (!(s->t_begin < sd->t1 && s->t_reach_end > sd->t0))
				continue;
			tap_diag("    subscriber w%d.s%" PRIu64 " (id %" PRIu64
				 ", buffer %u) may have been reached: %s, %s",
				 s->w, s->key & 0xffff, s->id, s->buf,
				 sub_state(s), got ? "received it" :
				 "did not receive it");
			show_rec(s->irec);
			show_rec(s->crec);
			if (!got)
				show_sub_around(cands->v[k], sd->pub, sd->seq);
		}
	}
}

/* ------------------------------------------------------------------ */
/* The parent                                                         */
/* ------------------------------------------------------------------ */

static void configure(void)
{
	nsvc = 2 + (int)th_rand_below(2);
	for (int i = 0; i < nsvc; i++) {
		struct floe_pubsub_qos *q = &svcs[i].q;

		snprintf(svcs[i].name, sizeof(svcs[i].name), "t/model/%d", i);
		floe_pubsub_qos_init(q);
		q->max_publishers = 1 + (uint32_t)th_rand_below(4);
		q->max_subscribers = th_rand_below(3) ? 2 + (uint32_t)th_rand_below(3)
						      : 1;
		q->max_nodes = 16;
		q->subscriber_max_buffer_size = 1 + (uint32_t)th_rand_below(4);
		q->subscriber_max_borrowed_samples =
			1 + (uint32_t)th_rand_below(3);
		q->history_size = th_rand_below(2)
			? 0 : 1 + (uint32_t)th_rand_below(
				      q->subscriber_max_buffer_size);
		q->publisher_max_loaned_samples = 1 + (uint32_t)th_rand_below(2);
		q->enable_safe_overflow = th_rand_below(2);
	}
	/* always a history-0 service, and one with a single subscriber */
	svcs[0].q.history_size = 0;
	svcs[1].q.max_subscribers = 1;
	svcs[1].q.history_size = 0;
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

/* Forget a round's workers, logs and model. */
static void reset_round(void)
{
	for (int w = 0; w < model_nworkers; w++)
		free(model_workers[w].log);
	model_nworkers = 0;
	for (uint32_t i = 0; i < npubm; i++)
		free(pubm[i].sends.v);
	for (uint32_t i = 0; i < nsubm; i++)
		free(subm[i].evs.v);
	nrecs = npubm = nsubm = nsendm = 0;
	model_map_free(&pub_by_key);
	model_map_free(&sub_by_key);
	model_map_free(&send_by_key);
	model_map_free(&received);
	model_map_free(&last_seq);
	model_map_free(&rx_by_pair);
	for (uint32_t i = 0; i < nrx_lists; i++)
		free(rx_lists[i].v);
	nrx_lists = 0;
	for (int i = 0; i < MAX_SVC; i++) {
		free(svc_subs[i].v);
		free(svc_sends[i].v);
		memset(&svc_subs[i], 0, sizeof(svc_subs[i]));
		memset(&svc_sends[i], 0, sizeof(svc_sends[i]));
	}
}

struct totals {
	long rounds, workers, kills, self, exited, survived, bad, failed;
	struct stats st;
};

static long violations(void)
{
	return cat_api.count + cat_log.count + cat_integrity.count +
	       cat_intact.count + cat_phantom.count + cat_dup.count +
	       cat_order.count + cat_over.count + cat_loss.count +
	       cat_consistency.count + cat_drain.count;
}

/*
 * One round: fresh services (QoS from the round's seed), workers and
 * logs; run for @secs, stop, drain, check. Returns 1 if it was clean.
 */
static int run_round(const char base[192], int round, long secs, long phase_ms,
		     struct totals *tot)
{
	long before = violations(), failed;
	uint64_t run_end;
	floe_node *node = NULL;
	int anchors = 2;

	th_seed(seed);
	configure();
	tap_diag("round %d: seed %" PRIu64 " (FLOE_SEED=%" PRIu64 " replays "
		 "its operations), %ld s, publisher endings:%s%s%s%s", round,
		 seed, seed, secs, endings & END_DESTROY ? " destroy" : "",
		 endings & END_EXIT ? " exit" : "",
		 endings & END_KILL ? " kill" : "", endings ? "" : " none");
	for (int i = 0; i < nsvc; i++)
		describe_svc(i);
	snprintf(model_dir, sizeof(model_dir), "%s/r%d", base, round);
	if (mkdir(model_dir, 0700) < 0) {
		tap_diag("mkdir %s: %s", model_dir, strerror(errno));
		tot->failed++;
		return 0;
	}

	/* Run: keep 2-4 workers going, kill some at random times. The
	 * first two are anchors: they live to the end. */
	run_end = model_now() + (uint64_t)secs * 1000000000ull;
	while (model_now() < run_end) {
		int running = model_reap();

		if (running < 2 || (running < 4 && th_rand_below(20) == 0)) {
			int anchor = model_nworkers < anchors;
			int flash = !anchor && running >= 2 &&
				    (endings & (END_EXIT | END_KILL)) &&
				    th_rand_below(2);

			if (model_spawn(worker, seed, anchor, flash) < 0 &&
			    running == 0)
				break;
			continue;
		}
		if ((endings & END_KILL) && th_rand_below(40) == 0) {
			struct model_worker *w = model_pick_victim();

			if (w) {
				model_kill(w);
				tot->kills++;
			}
		}
		th_sleep_us(2000 + th_rand_below(6000));
	}

	/* Stop, drain, finish. */
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

	/* Check. */
	load_logs();
	check_receives(&tot->st);
	check_loss(&tot->st);
	for (int i = 0; i < model_nworkers; i++) {
		enum model_fate f = model_workers[i].fate;

		tot->exited += f == MODEL_EXITED;
		tot->self += f == MODEL_SELF_KILLED;
		tot->survived += f == MODEL_SURVIVED;
		if (f == MODEL_FAILED || f == MODEL_RUNNING) {
			tot->bad++;
			tap_diag("worker w%d failed:", i);
			show_fate(i);
		}
	}
	tot->workers += model_nworkers;
	tot->failed += failed;
	tot->rounds++;
	if (violations() == before && !failed &&
	    !th_env_long("FLOE_MODEL_KEEP", 0)) {
		rm_logs();
		reset_round();
		return 1;
	}
	tap_diag("round %d (seed %" PRIu64 "): logs kept in %s", round, seed,
		 model_dir);
	reset_round();
	return 0;
}

int main(void)
{
	const char *domain = th_setup("model");
	long secs = th_env_long("FLOE_MODEL_SECS", 4);
	long round_secs = th_env_long("FLOE_MODEL_ROUND_SECS", 10);
	long timeout = th_env_long("FLOE_TEST_TIMEOUT", 120);
	long watchdog = timeout > 20 ? timeout - 10 : timeout;
	const char *tmp = getenv("TMPDIR");
	char base[192];
	uint64_t begin = th_now_ns(), first_seed;
	long phase_ms, left;
	struct totals tot = { 0 };
	struct stats *st = &tot.st;
	int all_ok = 1;

	first_seed = th_rng_state; /* th_setup seeded it: the seed it printed */
	endings = parse_endings(getenv("FLOE_MODEL_ENDINGS"));
	/* what the watchdog leaves: a third for stopping, draining and
	 * checking */
	if (secs < 1)
		secs = 1;
	if (secs > watchdog * 2 / 3)
		secs = watchdog * 2 / 3 > 0 ? watchdog * 2 / 3 : 1;
	if (round_secs < 1)
		round_secs = 1;
	phase_ms = (watchdog - secs) * 1000 / 5;
	if (phase_ms < 2000)
		phase_ms = 2000;
	if (phase_ms > 30000)
		phase_ms = 30000;
	model_base = th_now_ns();

	tap_plan(15);
	snprintf(base, sizeof(base), "%s/floe-model-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	tap_require(mkdtemp(base) != NULL, "log directory %s", base);
	tap_require(th_pipe_init(&model_acks) == 0, "pipes");

	/* Rounds of at most FLOE_MODEL_ROUND_SECS (the logs of one are
	 * checked and dropped before the next), each with a seed of its
	 * own: round 0's is the test's seed. */
	seed = first_seed;
	for (left = secs; left > 0; left -= round_secs) {
		long this = left < round_secs ? left : round_secs;
		uint64_t spent = (th_now_ns() - begin) / 1000000000ull;

		if (tot.rounds && spent + (uint64_t)this * 3 / 2 + 5 >
					  (uint64_t)watchdog) {
			tap_diag("time budget spent after %ld rounds",
				 tot.rounds);
			break;
		}
		run_round(base, (int)tot.rounds, this, phase_ms, &tot);
		seed = (th_pattern(first_seed, (uint64_t)tot.rounds) &
			INT64_MAX) | 1; /* FLOE_SEED takes a long */
	}
	rmdir(base); /* fails if a round's logs were kept */

	tap_diag("%ld rounds, %ld workers: %ld killed by the parent, %ld "
		 "killed themselves after a send, %ld exited, %ld survived",
		 tot.rounds, tot.workers, tot.kills, tot.self, tot.exited,
		 tot.survived);
	tap_diag("%ld sends (%ld maybe sent, %ld reached someone), %ld "
		 "receives, %ld obligations on history-0 services (excused: "
		 "%ld left or died, %ld overflowed; %ld checked against "
		 "subscribers bound to them: survivors or takers of later "
		 "samples), %ld has_samples true (%ld followed by an empty "
		 "receive), %ld subscribers drained", st->sends, st->maybe,
		 st->reached, st->receives, st->obligations, st->excused_left,
		 st->excused_overflow, st->bound_checks, st->has_true,
		 st->consistency_checks, st->drained);
	tap_ok(tot.workers >= 2 && st->reached > 0 && st->receives > 0,
	       "workers ran (%ld workers, %ld sends, %ld receives)",
	       tot.workers, st->sends, st->receives);
	tap_ok(tot.bad == 0 && tot.failed == 0,
	       "no worker crashed, failed or hung (%ld)", tot.bad);
	{
		struct model_category *cats[] = {
			&cat_api, &cat_integrity, &cat_intact, &cat_phantom,
			&cat_dup, &cat_order, &cat_over, &cat_loss,
			&cat_consistency, &cat_drain,
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
	return tap_done();
}
