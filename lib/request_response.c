// SPDX-License-Identifier: MIT
/*
 * Request-response: two publish-subscribe directions in one service
 * segment (laid out by floe_rr_layout), run by the ordinary publisher and
 * subscriber code on a view of each direction. A client is a publisher of
 * requests and a subscriber of responses on one port and one slot; a
 * server is the reverse. So every property of pub-sub holds here too: zero
 * copies, no lock and no system call per message, chunks returned when a
 * peer dies, everything read from shared memory validated.
 *
 * Streams. A client has max_active_requests_per_client channels; a request
 * takes a free one and carries a tag in its chunk header:
 *     sequence << 24 | fire-and-forget flag << 16 | channel
 * A server's responses carry the request's tag, so the client routes each
 * to its pending response (responses of other channels met on the way are
 * kept aside, in order). Dropping an active request queues an end marker
 * (a queue entry without a chunk, after the responses) to the client; the
 * response rings keep room for one marker per channel beyond the data
 * limit, so a marker never waits for a slow reader and never evicts data.
 * A channel is free again once every server the request reached has ended
 * it or is gone, so a late marker can never end a newer stream.
 *
 * The channel words in the segment hold the tag each client channel
 * carries (0 once its pending response is dropped): the servers' cheap
 * way to learn that nobody listens any more.
 */
#include <stdlib.h>
#include <string.h>

#include <linux/floe.h>

#include "internal.h"

#define TAG_CHANNEL(tag) ((uint32_t)(tag) & 0xffff)
#define TAG_FIRE_AND_FORGET (1ULL << 16)
#define TAG_SEQ_SHIFT 24
/* How often a waiting client asks whether its servers still live. */
#define LIVENESS_PERIOD_NS 1000000ULL
/* Marker pushes that find the ring full (only a client not following the
 * protocol fills the marker room) are retried this often. */
#define MARK_ATTEMPTS 64
#define STASH_NONE UINT32_MAX

/* A service's two directions, as the pub-sub code sees them. */
struct rr_views {
	floe_service req;  /* clients publish, servers subscribe */
	floe_service resp; /* servers publish, clients subscribe */
	struct floe_rr_layout lay;
};

struct stash_entry {
	const floe_sample *sample;
	uint32_t next;
};

struct floe_pending_response {
	floe_client *client;
	uint64_t tag;      /* 0: channel free */
	uint64_t *servers; /* by server slot: id still streaming, or 0 */
	uint32_t streaming;
	bool lost;    /* a server went without ending the stream */
	bool dropped; /* the user let go; freed when streaming reaches 0 */
	uint32_t stash_head, stash_tail;
	uint64_t next_liveness_ns;
};

struct floe_request_mut {
	floe_client *client;
	floe_sample_mut *sample;
	bool in_use;
};

struct floe_client {
	floe_service *svc;
	struct rr_views v;
	struct floe_port_ref ref;
	uint32_t slot;
	uint32_t channels_n;
	floe_publisher *pub;
	floe_subscriber *sub;
	struct floe_pending_response *channels;
	uint64_t *servers; /* channels_n * max_servers */
	struct floe_request_mut *loans;
	struct stash_entry *stash;
	uint32_t stash_free;
	uint64_t next_seq;
	_Atomic uint64_t *words; /* this client's channel words */
};

struct floe_active_request {
	floe_server *server;
	const floe_sample *sample;
	struct floe_pub_target client;
	uint64_t tag;
	bool in_use;
};

struct floe_response_mut {
	floe_active_request *request;
	floe_sample_mut *sample;
	bool in_use;
};

struct floe_server {
	floe_service *svc;
	struct rr_views v;
	struct floe_port_ref ref;
	uint32_t slot;
	floe_publisher *pub;
	floe_subscriber *sub;
	struct floe_active_request *active;
	uint32_t active_n;
	struct floe_response_mut *loans;
};

/* ------------------------------------------------------------------ */
/* Services                                                           */
/* ------------------------------------------------------------------ */

FLOE_EXPORT void floe_rr_qos_init(struct floe_rr_qos *qos)
{
	if (!qos)
		return;
	*qos = (struct floe_rr_qos){
		.max_clients = 8,
		.max_servers = 2,
		.max_nodes = 20,
		.max_active_requests_per_client = 4,
		.max_loaned_requests = 2,
		.max_response_buffer_size = 4,
		.max_loaned_responses = 2,
	};
}

/* See lib/layout.h for what the shared QoS fields mean here. */
static void rr_qos_to_shm(const struct floe_rr_qos *q, struct floe_shm_qos *s)
{
	*s = (struct floe_shm_qos){
		.max_publishers = q->max_clients,
		.max_subscribers = q->max_servers,
		.max_nodes = q->max_nodes,
		.buffer = q->max_response_buffer_size,
		.borrowed = q->max_active_requests_per_client,
		.loans = q->max_loaned_requests,
		.history = q->max_loaned_responses,
		.event_id_max = q->enable_fire_and_forget,
		.pattern = FLOE_PATTERN_REQUEST_RESPONSE,
	};
}

static int rr_spec(const struct floe_rr_opts *opts, bool creating,
		   struct floe_svc_spec *spec, struct floe_shm_qos *demand)
{
	struct floe_rr_qos defaults;

	if (!opts)
		return FLOE_E_INVALID;
	floe_rr_qos_init(&defaults);
	*spec = (struct floe_svc_spec){
		.type = opts->request_type,
		.resp_type = opts->response_type,
		.attributes = opts->attributes,
		.num_attributes = opts->num_attributes,
		.mode = opts->mode,
	};
	rr_qos_to_shm(creating && opts->qos ? opts->qos : &defaults, &spec->qos);
	if (opts->qos) {
		rr_qos_to_shm(opts->qos, demand);
		spec->demand = demand;
	}
	return 0;
}

FLOE_EXPORT int floe_rr_open(floe_node *node, const char *name,
			     const struct floe_rr_opts *opts, floe_service **out)
{
	struct floe_svc_spec spec;
	struct floe_shm_qos demand;
	int ret = rr_spec(opts, false, &spec, &demand);

	return ret ? ret : floe_svc_open(node, name, &spec, out);
}

FLOE_EXPORT int floe_rr_create(floe_node *node, const char *name,
			       const struct floe_rr_opts *opts,
			       floe_service **out)
{
	struct floe_svc_spec spec;
	struct floe_shm_qos demand;
	int ret = rr_spec(opts, true, &spec, &demand);

	return ret ? ret : floe_svc_create(node, name, &spec, out);
}

FLOE_EXPORT int floe_rr_open_or_create(floe_node *node, const char *name,
				       const struct floe_rr_opts *opts,
				       floe_service **out)
{
	struct floe_svc_spec spec;
	struct floe_shm_qos demand;
	int ret = rr_spec(opts, true, &spec, &demand);

	return ret ? ret : floe_svc_open_or_create(node, name, &spec, out);
}

FLOE_EXPORT void floe_rr_qos(const floe_service *svc, struct floe_rr_qos *qos)
{
	const struct floe_shm_qos *s;

	if (!svc || !qos)
		return;
	s = &svc->qos;
	*qos = (struct floe_rr_qos){
		.max_clients = s->max_publishers,
		.max_servers = s->max_subscribers,
		.max_nodes = s->max_nodes,
		.max_active_requests_per_client = s->borrowed,
		.max_loaned_requests = s->loans,
		.max_response_buffer_size = s->buffer,
		.max_loaned_responses = s->history,
		.enable_fire_and_forget = s->event_id_max != 0,
	};
}

/*
 * The two directions as services of their own: the same mapping, with the
 * direction's QoS, layout and payload type. Views are never attached or
 * detached; they live inside the client or server using them.
 */
static void make_views(floe_service *svc, struct rr_views *v)
{
	v->lay = svc->rr;
	memcpy(&v->req, svc, sizeof(*svc));
	atomic_store(&v->req.ports, 0);
	v->req.qos = v->lay.req_qos;
	v->req.lay = v->lay.req;
	memcpy(&v->resp, &v->req, sizeof(*svc));
	v->resp.qos = v->lay.resp_qos;
	v->resp.lay = v->lay.resp;
	v->resp.sender_kind = 's'; /* servers send the responses */
	v->resp.type_size = svc->resp_type_size;
	v->resp.type_align = svc->resp_type_align;
	memcpy(v->resp.type_name, svc->resp_type_name, sizeof(v->resp.type_name));
	v->resp.payload_offset = floe_chunk_payload_offset(0, svc->resp_type_align);
}

/* The channel words of client slot @slot. */
static _Atomic uint64_t *channel_words(floe_service *svc,
				       const struct rr_views *v, uint32_t slot)
{
	return (_Atomic uint64_t *)((char *)svc->seg.addr +
				    v->lay.channels_off) +
	       (uint64_t)slot * svc->qos.borrowed;
}

/* Register a port of @role and take a slot of @kind for it. */
static int join_service(floe_service *svc, uint32_t role, char kind,
			uint32_t buffer_size, struct floe_port_ref *ref,
			uint32_t *slot)
{
	struct floe_backend *be = svc->node->be;
	int ret = be->ops->port_register(be, role, svc->name,
					 svc->node->ref.id, ref);

	if (ret)
		return ret;
	ret = floe_svc_claim(svc, kind, ref, buffer_size);
	if (ret < 0) {
		be->ops->port_unregister(be, ref);
		return ret;
	}
	*slot = (uint32_t)ret;
	atomic_fetch_add(&svc->ports, 1);
	return 0;
}

static void leave_service(floe_service *svc, char kind, uint32_t slot,
			  const struct floe_port_ref *ref)
{
	floe_svc_release(svc, kind, slot, ref->id);
	svc->node->be->ops->port_unregister(svc->node->be, ref);
	atomic_fetch_sub(&svc->ports, 1);
}

static void copy_slice_opts(struct floe_publisher_opts *p,
			    enum floe_unable_to_deliver backpressure,
			    uint64_t initial, enum floe_allocation allocation,
			    uint64_t max)
{
	floe_publisher_opts_init(p);
	p->unable_to_deliver = backpressure;
	if (initial)
		p->initial_max_slice_len = initial;
	p->allocation = allocation;
	p->max_slice_len = max;
}

/* ------------------------------------------------------------------ */
/* Client                                                             */
/* ------------------------------------------------------------------ */

static void stash_push(floe_client *c, struct floe_pending_response *p,
		       const floe_sample *s)
{
	uint32_t e = c->stash_free;

	/* Never empty: the stash has an entry per sample we may hold. */
	c->stash_free = c->stash[e].next;
	c->stash[e] = (struct stash_entry){ .sample = s, .next = STASH_NONE };
	if (p->stash_tail == STASH_NONE)
		p->stash_head = e;
	else
		c->stash[p->stash_tail].next = e;
	p->stash_tail = e;
}

static const floe_sample *stash_pop(floe_client *c,
				    struct floe_pending_response *p)
{
	uint32_t e = p->stash_head;
	const floe_sample *s;

	if (e == STASH_NONE)
		return NULL;
	s = c->stash[e].sample;
	p->stash_head = c->stash[e].next;
	if (p->stash_head == STASH_NONE)
		p->stash_tail = STASH_NONE;
	c->stash[e].next = c->stash_free;
	c->stash_free = e;
	return s;
}

static void free_channel(struct floe_pending_response *p)
{
	p->tag = 0;
	p->dropped = false;
}

/* Server @slot (@id) is done with channel @p: ended it, or went. */
static void server_done(struct floe_pending_response *p, uint32_t slot,
			bool lost)
{
	p->servers[slot] = 0;
	p->streaming--;
	p->lost |= lost;
	if (!p->streaming && p->dropped)
		free_channel(p);
}

/* The channel a response or marker with @tag from server @slot (@id)
 * belongs to, or NULL if none expects it (stale or bogus). */
static struct floe_pending_response *route(floe_client *c, uint64_t tag,
					   uint32_t slot, uint64_t id,
					   bool marker)
{
	uint32_t k = TAG_CHANNEL(tag);
	struct floe_pending_response *p;

	if (k >= c->channels_n || slot >= c->svc->qos.max_subscribers)
		return NULL;
	p = &c->channels[k];
	if (!p->tag || p->servers[slot] != id ||
	    (!marker && tag != p->tag))
		return NULL;
	return p;
}

/* Take one entry off the response queues. 1: progress, 0: none, <0. */
static int pump(floe_client *c)
{
	const floe_sample *s;
	struct floe_marker m;
	struct floe_pending_response *p;
	int ret = floe_sub_receive(c->sub, &s, &m);

	if (ret == 2) {
		p = route(c, m.tag, m.pub_slot, m.pub_id, true);
		if (p)
			server_done(p, m.pub_slot, false);
		return 1;
	}
	if (ret != 1)
		return ret;
	p = route(c, floe_sample_tag(s), floe_sample_pub_slot(s),
		  floe_sample_publisher_id(s), false);
	if (p && !p->dropped)
		stash_push(c, p, s);
	else
		floe_sample_release(s);
	return 1;
}

/*
 * Servers that went without ending @p's stream. What a server queued
 * before it went is still read: it is gone for us once its slot no longer
 * holds it and its queue is drained. Whether it died is a system call
 * with the shm backend, so it is asked at most every LIVENESS_PERIOD_NS.
 */
static void check_servers(floe_client *c, struct floe_pending_response *p)
{
	struct floe_backend *be = c->svc->node->be;
	uint64_t now = floe_now_ns();
	bool ask = now >= p->next_liveness_ns;

	if (ask)
		p->next_liveness_ns = now + LIVENESS_PERIOD_NS;
	for (uint32_t j = 0; p->streaming && j < c->svc->qos.max_subscribers;
	     j++) {
		struct floe_port_ref ref;
		uint64_t id = p->servers[j];

		if (!id)
			continue;
		if (ask && floe_svc_slot_owner(c->svc, 's', j, &ref) == id &&
		    be->ops->port_liveness(be, &ref) == FLOE_PORT_DEAD)
			floe_svc_reclaim_dead(c->svc);
		if (!floe_sub_has_source(c->sub, j, id))
			server_done(p, j, true);
	}
}

/* Make a channel free if any can be: read what is queued, notice dead
 * servers. */
static struct floe_pending_response *free_channel_for(floe_client *c)
{
	for (int round = 0; round < 2; round++) {
		for (uint32_t k = 0; k < c->channels_n; k++)
			if (!c->channels[k].tag)
				return &c->channels[k];
		if (round)
			break;
		while (pump(c) == 1)
			;
		for (uint32_t k = 0; k < c->channels_n; k++)
			if (c->channels[k].dropped) {
				c->channels[k].next_liveness_ns = 0;
				check_servers(c, &c->channels[k]);
			}
	}
	return NULL;
}

static void client_free(floe_client *c)
{
	free(c->channels);
	free(c->servers);
	free(c->loans);
	free(c->stash);
	free(c);
}

FLOE_EXPORT int floe_client_create(floe_service *svc,
				   const struct floe_client_opts *opts,
				   floe_client **out)
{
	struct floe_publisher_opts popts;
	uint32_t servers, held;
	floe_client *c;
	int ret;

	if (!svc || !out)
		return FLOE_E_INVALID;
	if (svc->qos.pattern != FLOE_PATTERN_REQUEST_RESPONSE)
		return FLOE_E_PATTERN;
	if (opts && opts->allocation > FLOE_ALLOC_POWER_OF_TWO)
		return FLOE_E_INVALID;
	c = calloc(1, sizeof(*c));
	if (!c)
		return FLOE_E_NOMEM;
	c->svc = svc;
	make_views(svc, &c->v);
	servers = svc->qos.max_subscribers;
	c->channels_n = svc->qos.borrowed;
	/* a full response budget per server: a server cannot make us hold
	 * more, the pub-sub code refuses to send past it */
	held = c->v.resp.qos.borrowed * servers;
	c->channels = calloc(c->channels_n, sizeof(*c->channels));
	c->servers = calloc((size_t)c->channels_n * servers, sizeof(*c->servers));
	c->loans = calloc(svc->qos.loans, sizeof(*c->loans));
	c->stash = calloc(held, sizeof(*c->stash));
	if (!c->channels || !c->servers || !c->loans || !c->stash) {
		client_free(c);
		return FLOE_E_NOMEM;
	}
	for (uint32_t k = 0; k < c->channels_n; k++)
		c->channels[k] = (struct floe_pending_response){
			.client = c,
			.servers = c->servers + (size_t)k * servers,
			.stash_head = STASH_NONE,
			.stash_tail = STASH_NONE,
		};
	for (uint32_t e = 0; e < held; e++)
		c->stash[e].next = e + 1 < held ? e + 1 : STASH_NONE;
	c->next_seq = 1;
	ret = join_service(svc, FLOE_ROLE_CLIENT, 'p', svc->qos.buffer, &c->ref,
			   &c->slot);
	if (ret) {
		client_free(c);
		return ret;
	}
	c->words = channel_words(svc, &c->v, c->slot);
	for (uint32_t k = 0; k < c->channels_n; k++)
		atomic_store(&c->words[k], 0);
	ret = floe_sub_open(&c->v.resp, &c->ref, c->slot, held, &c->sub);
	if (ret)
		goto fail;
	copy_slice_opts(&popts, FLOE_DELIVER_DISCARD,
			opts ? opts->initial_max_slice_len : 0,
			opts ? opts->allocation : FLOE_ALLOC_STATIC,
			opts ? opts->max_slice_len : 0);
	ret = floe_pub_open(&c->v.req, &popts, &c->ref, c->slot, &c->pub);
	if (ret) {
		floe_sub_close(c->sub);
		goto fail;
	}
	*out = c;
	return 0;
fail:
	leave_service(svc, 'p', c->slot, &c->ref);
	client_free(c);
	return ret;
}

/* Every request loan, pending response and response the user was given
 * must be over before the client goes: their memory goes with it. */
static void client_check_idle(floe_client *c)
{
	uint32_t loans = 0, pending = 0, stashed = 0, held;

	for (uint32_t i = 0; i < c->svc->qos.loans; i++)
		loans += c->loans[i].in_use;
	for (uint32_t k = 0; k < c->channels_n; k++) {
		pending += c->channels[k].tag && !c->channels[k].dropped;
		for (uint32_t e = c->channels[k].stash_head; e != STASH_NONE;
		     e = c->stash[e].next)
			stashed++;
	}
	held = floe_sub_borrowed(c->sub) - stashed;
	if (loans || pending || held)
		floe_misuse("floe_client_destroy",
			    "client of service '%s' still has %u loaned "
			    "requests, %u pending responses not dropped and "
			    "%u responses not released", c->svc->name, loans,
			    pending, held);
}

FLOE_EXPORT void floe_client_destroy(floe_client *c)
{
	bool keep;

	if (!c)
		return;
	client_check_idle(c);
	/* requests still queued (fire-and-forget ones among them) stay for
	 * their servers; the responses to us are reclaimed once we go */
	keep = floe_pub_close(c->pub);
	floe_svc_leave(c->svc, 'p', c->slot, c->ref.id, keep);
	floe_sub_close(c->sub);
	c->svc->node->be->ops->port_unregister(c->svc->node->be, &c->ref);
	atomic_fetch_sub(&c->svc->ports, 1);
	client_free(c);
}

floe_publisher *floe_client_requests(floe_client *c)
{
	return c->pub;
}

FLOE_EXPORT uint64_t floe_client_id(const floe_client *c)
{
	return c->ref.id;
}

FLOE_EXPORT int floe_client_loan(floe_client *c, uint64_t len,
				 floe_request_mut **out)
{
	struct floe_request_mut *r = NULL;
	int ret;

	if (!c || !out)
		return FLOE_E_INVALID;
	for (uint32_t i = 0; i < c->svc->qos.loans && !r; i++)
		if (!c->loans[i].in_use)
			r = &c->loans[i];
	if (!r)
		return FLOE_E_LOAN_LIMIT;
	ret = floe_publisher_loan(c->pub, len, &r->sample);
	if (ret)
		return ret;
	r->client = c;
	r->in_use = true;
	*out = r;
	return 0;
}

FLOE_EXPORT void *floe_request_mut_payload(floe_request_mut *r)
{
	return floe_sample_mut_payload(r->sample);
}

FLOE_EXPORT uint64_t floe_request_mut_len(const floe_request_mut *r)
{
	return floe_sample_mut_len(r->sample);
}

FLOE_EXPORT void floe_request_mut_discard(floe_request_mut *r)
{
	if (!r || !r->in_use)
		return;
	floe_sample_mut_discard(r->sample);
	r->in_use = false;
}

FLOE_EXPORT int floe_request_mut_send(floe_request_mut *r,
				      floe_pending_response **out)
{
	struct floe_pending_response *p;
	floe_client *c;
	uint64_t tag;
	int ret;

	if (!r || !r->in_use || !out)
		return FLOE_E_INVALID;
	c = r->client;
	p = free_channel_for(c);
	if (!p)
		return FLOE_E_ACTIVE_LIMIT;
	tag = c->next_seq++ << TAG_SEQ_SHIFT | (uint64_t)(p - c->channels);
	/* before any server can see the request and ask */
	atomic_store(&c->words[p - c->channels], tag);
	p->tag = tag;
	p->lost = false;
	p->dropped = false;
	/* a server that reads the request has no need to be asked */
	p->next_liveness_ns = floe_now_ns() + LIVENESS_PERIOD_NS;
	ret = floe_pub_send(r->sample, NULL, tag, p->servers);
	r->in_use = false;
	/* Map the servers' memory now: with the module a server's segments
	 * go when it dies, and what it answered must stay readable. */
	floe_sub_refresh(c->sub);
	p->streaming = 0;
	for (uint32_t j = 0; j < c->svc->qos.max_subscribers; j++)
		p->streaming += p->servers[j] != 0;
	*out = p;
	return ret;
}

FLOE_EXPORT int floe_request_mut_send_fire_and_forget(floe_request_mut *r)
{
	floe_client *c;
	int ret;

	if (!r || !r->in_use)
		return FLOE_E_INVALID;
	c = r->client;
	if (!c->svc->qos.event_id_max)
		return FLOE_E_QOS_MISMATCH;
	ret = floe_pub_send(r->sample, NULL,
			    c->next_seq++ << TAG_SEQ_SHIFT | TAG_FIRE_AND_FORGET,
			    NULL);
	r->in_use = false;
	return ret;
}

FLOE_EXPORT int floe_client_send_copy(floe_client *c, const void *data,
				      size_t bytes,
				      floe_pending_response **out)
{
	floe_request_mut *r;
	int ret;

	if (!c || !data || !bytes || bytes % c->svc->type_size || !out)
		return FLOE_E_INVALID;
	ret = floe_client_loan(c, bytes / c->svc->type_size, &r);
	if (ret)
		return ret;
	memcpy(floe_request_mut_payload(r), data, bytes);
	ret = floe_request_mut_send(r, out);
	if (ret < 0)
		floe_request_mut_discard(r);
	return ret;
}

FLOE_EXPORT int floe_pending_response_receive(floe_pending_response *p,
					      const floe_response **out)
{
	floe_client *c;

	if (!p || !out || !p->tag || p->dropped)
		return FLOE_E_INVALID;
	c = p->client;
	for (;;) {
		const floe_sample *s = stash_pop(c, p);
		int ret;

		if (s) {
			*out = (const floe_response *)s;
			return 1;
		}
		if (!p->streaming)
			return p->lost ? FLOE_E_DEAD : FLOE_E_END_OF_STREAM;
		ret = pump(c);
		if (ret < 0)
			return ret;
		if (ret)
			continue;
		check_servers(c, p);
		if (p->streaming && p->stash_head == STASH_NONE)
			return 0;
	}
}

FLOE_EXPORT uint32_t floe_pending_response_servers(floe_pending_response *p)
{
	return p ? p->streaming : 0;
}

FLOE_EXPORT void floe_pending_response_drop(floe_pending_response *p)
{
	floe_client *c;
	const floe_sample *s;

	if (!p || !p->tag || p->dropped)
		return;
	c = p->client;
	atomic_store(&c->words[p - c->channels], 0);
	while ((s = stash_pop(c, p)))
		floe_sample_release(s);
	if (p->streaming)
		p->dropped = true;
	else
		free_channel(p);
}

FLOE_EXPORT const void *floe_response_payload(const floe_response *r)
{
	return floe_sample_payload((const floe_sample *)r);
}

FLOE_EXPORT uint64_t floe_response_payload_size(const floe_response *r)
{
	return floe_sample_payload_size((const floe_sample *)r);
}

FLOE_EXPORT uint64_t floe_response_len(const floe_response *r)
{
	return floe_sample_len((const floe_sample *)r);
}

FLOE_EXPORT uint64_t floe_response_server_id(const floe_response *r)
{
	return floe_sample_publisher_id((const floe_sample *)r);
}

FLOE_EXPORT void floe_response_release(const floe_response *r)
{
	floe_sample_release((const floe_sample *)r);
}

/* ------------------------------------------------------------------ */
/* Server                                                             */
/* ------------------------------------------------------------------ */

static void server_free(floe_server *srv)
{
	free(srv->active);
	free(srv->loans);
	free(srv);
}

FLOE_EXPORT int floe_server_create(floe_service *svc,
				   const struct floe_server_opts *opts,
				   floe_server **out)
{
	struct floe_publisher_opts popts;
	floe_server *srv;
	int ret;

	if (!svc || !out)
		return FLOE_E_INVALID;
	if (svc->qos.pattern != FLOE_PATTERN_REQUEST_RESPONSE)
		return FLOE_E_PATTERN;
	if (opts && (opts->backpressure > FLOE_DELIVER_BLOCK ||
		     opts->allocation > FLOE_ALLOC_POWER_OF_TWO))
		return FLOE_E_INVALID;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return FLOE_E_NOMEM;
	srv->svc = svc;
	make_views(svc, &srv->v);
	/* every active request of every client, plus fire-and-forget ones
	 * (which the clients' pub-sub limits bound the same way) */
	srv->active_n = svc->qos.max_publishers * svc->qos.borrowed;
	srv->active = calloc(srv->active_n, sizeof(*srv->active));
	srv->loans = calloc(srv->v.resp.qos.loans, sizeof(*srv->loans));
	if (!srv->active || !srv->loans) {
		server_free(srv);
		return FLOE_E_NOMEM;
	}
	ret = join_service(svc, FLOE_ROLE_SERVER, 's', svc->qos.borrowed,
			   &srv->ref, &srv->slot);
	if (ret) {
		server_free(srv);
		return ret;
	}
	ret = floe_sub_open(&srv->v.req, &srv->ref, srv->slot, srv->active_n,
			    &srv->sub);
	if (ret)
		goto fail;
	copy_slice_opts(&popts, opts ? opts->backpressure : FLOE_DELIVER_DISCARD,
			opts ? opts->initial_max_slice_len : 0,
			opts ? opts->allocation : FLOE_ALLOC_STATIC,
			opts ? opts->max_slice_len : 0);
	ret = floe_pub_open(&srv->v.resp, &popts, &srv->ref, srv->slot,
			    &srv->pub);
	if (ret) {
		floe_sub_close(srv->sub);
		goto fail;
	}
	*out = srv;
	return 0;
fail:
	leave_service(svc, 's', srv->slot, &srv->ref);
	server_free(srv);
	return ret;
}

FLOE_EXPORT void floe_server_destroy(floe_server *srv)
{
	uint32_t loans = 0, active = 0;
	bool keep;

	if (!srv)
		return;
	for (uint32_t i = 0; i < srv->v.resp.qos.loans; i++)
		loans += srv->loans[i].in_use;
	for (uint32_t i = 0; i < srv->active_n; i++)
		active += srv->active[i].in_use;
	if (loans || active)
		floe_misuse(__func__, "server of service '%s' still has %u "
			    "active requests not dropped and %u loaned "
			    "responses", srv->svc->name, active, loans);
	/* responses and end markers still queued stay for their clients */
	keep = floe_pub_close(srv->pub);
	floe_svc_leave(srv->svc, 's', srv->slot, srv->ref.id, keep);
	floe_sub_close(srv->sub);
	srv->svc->node->be->ops->port_unregister(srv->svc->node->be, &srv->ref);
	atomic_fetch_sub(&srv->svc->ports, 1);
	server_free(srv);
}

floe_publisher *floe_server_responses(floe_server *srv)
{
	return srv->pub;
}

FLOE_EXPORT uint64_t floe_server_id(const floe_server *srv)
{
	return srv->ref.id;
}

FLOE_EXPORT int floe_server_receive(floe_server *srv,
				    floe_active_request **out)
{
	struct floe_active_request *a = NULL;

	if (!srv || !out)
		return FLOE_E_INVALID;
	for (uint32_t i = 0; i < srv->active_n && !a; i++)
		if (!srv->active[i].in_use)
			a = &srv->active[i];
	if (!a)
		return FLOE_E_BORROW_LIMIT;
	for (;;) {
		const floe_sample *s;
		int ret = floe_sub_receive(srv->sub, &s, NULL);
		uint64_t tag;

		if (ret != 1)
			return ret;
		tag = floe_sample_tag(s);
		if (!(tag & TAG_FIRE_AND_FORGET) &&
		    TAG_CHANNEL(tag) >= srv->svc->qos.borrowed) {
			floe_sample_release(s); /* no such channel: bogus */
			continue;
		}
		*a = (struct floe_active_request){
			.server = srv,
			.sample = s,
			.client = { .slot = floe_sample_pub_slot(s),
				    .sub_id = floe_sample_publisher_id(s) },
			.tag = tag,
			.in_use = true,
		};
		*out = a;
		return 1;
	}
}

FLOE_EXPORT bool floe_server_has_requests(floe_server *srv)
{
	return srv && floe_subscriber_has_samples(srv->sub);
}

FLOE_EXPORT int floe_server_update_connections(floe_server *srv)
{
	if (!srv)
		return FLOE_E_INVALID;
	return floe_publisher_update_connections(srv->pub);
}

FLOE_EXPORT const void *floe_active_request_payload(const floe_active_request *a)
{
	return floe_sample_payload(a->sample);
}

FLOE_EXPORT uint64_t
floe_active_request_payload_size(const floe_active_request *a)
{
	return floe_sample_payload_size(a->sample);
}

FLOE_EXPORT uint64_t floe_active_request_len(const floe_active_request *a)
{
	return floe_sample_len(a->sample);
}

FLOE_EXPORT uint64_t floe_active_request_client_id(const floe_active_request *a)
{
	return a->client.sub_id;
}

FLOE_EXPORT bool
floe_active_request_is_fire_and_forget(const floe_active_request *a)
{
	return a->tag & TAG_FIRE_AND_FORGET;
}

FLOE_EXPORT bool floe_active_request_is_connected(floe_active_request *a)
{
	floe_server *srv;
	struct floe_backend *be;
	struct floe_port_ref ref;
	_Atomic uint64_t *words;

	if (!a || !a->in_use || (a->tag & TAG_FIRE_AND_FORGET))
		return false;
	srv = a->server;
	be = srv->svc->node->be;
	words = channel_words(srv->svc, &srv->v, a->client.slot);
	return atomic_load(&words[TAG_CHANNEL(a->tag)]) == a->tag &&
	       floe_svc_slot_owner(srv->svc, 'p', a->client.slot, &ref) ==
		       a->client.sub_id &&
	       be->ops->port_liveness(be, &ref) != FLOE_PORT_DEAD;
}

FLOE_EXPORT int floe_active_request_loan(floe_active_request *a, uint64_t len,
					 floe_response_mut **out)
{
	struct floe_response_mut *r = NULL;
	floe_server *srv;
	int ret;

	if (!a || !a->in_use || !out)
		return FLOE_E_INVALID;
	if (a->tag & TAG_FIRE_AND_FORGET)
		return FLOE_E_NO_RESPONSE;
	srv = a->server;
	for (uint32_t i = 0; i < srv->v.resp.qos.loans && !r; i++)
		if (!srv->loans[i].in_use)
			r = &srv->loans[i];
	if (!r)
		return FLOE_E_LOAN_LIMIT;
	ret = floe_publisher_loan(srv->pub, len, &r->sample);
	if (ret)
		return ret;
	r->request = a;
	r->in_use = true;
	*out = r;
	return 0;
}

FLOE_EXPORT void *floe_response_mut_payload(floe_response_mut *r)
{
	return floe_sample_mut_payload(r->sample);
}

FLOE_EXPORT uint64_t floe_response_mut_len(const floe_response_mut *r)
{
	return floe_sample_mut_len(r->sample);
}

FLOE_EXPORT void floe_response_mut_discard(floe_response_mut *r)
{
	if (!r || !r->in_use)
		return;
	floe_sample_mut_discard(r->sample);
	r->in_use = false;
}

FLOE_EXPORT int floe_response_mut_send(floe_response_mut *r)
{
	floe_active_request *a;
	_Atomic uint64_t *words;
	int ret;

	if (!r || !r->in_use)
		return FLOE_E_INVALID;
	a = r->request;
	r->in_use = false;
	words = channel_words(a->server->svc, &a->server->v, a->client.slot);
	/* nobody listens: spare the client the work of throwing it away */
	if (atomic_load(&words[TAG_CHANNEL(a->tag)]) != a->tag) {
		floe_sample_mut_discard(r->sample);
		return 0;
	}
	ret = floe_pub_send(r->sample, &a->client, a->tag, NULL);
	return ret < 0 ? ret : ret > 0;
}

FLOE_EXPORT int floe_active_request_send_copy(floe_active_request *a,
					      const void *data, size_t bytes)
{
	floe_response_mut *r;
	uint64_t size;
	int ret;

	if (!a || !a->in_use || !data || !bytes)
		return FLOE_E_INVALID;
	size = a->server->v.resp.type_size;
	if (bytes % size)
		return FLOE_E_INVALID;
	ret = floe_active_request_loan(a, bytes / size, &r);
	if (ret)
		return ret;
	memcpy(floe_response_mut_payload(r), data, bytes);
	return floe_response_mut_send(r);
}

FLOE_EXPORT void floe_active_request_drop(floe_active_request *a)
{
	floe_server *srv;

	if (!a || !a->in_use)
		return;
	srv = a->server;
	/* its place is reused: a loan left pointing at it would answer
	 * some later request */
	for (uint32_t i = 0; i < srv->v.resp.qos.loans; i++)
		if (srv->loans[i].in_use && srv->loans[i].request == a)
			floe_response_mut_discard(&srv->loans[i]);
	if (!(a->tag & TAG_FIRE_AND_FORGET)) {
		for (uint32_t round = 0; round < MARK_ATTEMPTS; round++) {
			if (floe_pub_mark(a->server->pub, &a->client,
					  TAG_CHANNEL(a->tag)) !=
			    FLOE_E_WOULD_BLOCK)
				break;
			floe_backoff(round);
		}
	}
	floe_sample_release(a->sample);
	a->in_use = false;
}
