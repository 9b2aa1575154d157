// SPDX-License-Identifier: MIT
/*
 * Request-response clients: a sender of requests and a receiver of
 * responses on one port (lib/rr.h). Each request takes a channel; the
 * responses of every server it reached are routed to its pending
 * response, kept aside (the stash) when they arrive while another channel
 * is being read.
 */
#include <stdlib.h>
#include <string.h>

#include "rr.h"

/* How often a waiting client asks whether its servers still live. */
#define LIVENESS_PERIOD_NS 1000000ULL
#define STASH_NONE UINT32_MAX
/* next_liveness_ns of a request just sent: the period starts at the first
 * look that finds nothing (a server that reads the request has no need
 * to be asked; reading the clock at every send would cost more) */
#define LIVENESS_NOT_STARTED UINT64_MAX

struct stash_entry {
	const floe_sample *sample;
	uint32_t next;
};

struct floe_pending_response {
	floe_client *client;
	uint64_t tag;      /* 0: channel free */
	uint32_t request_chunk; /* the request's, for floe_sender_unwant */
	uint64_t *servers; /* by server slot: id still streaming, or 0 (all
			    * 0 while the channel is free) */
	uint32_t streaming;
	bool lost;    /* a server went without ending the stream */
	bool dropped; /* the user let go; freed when streaming reaches 0 */
	uint32_t stash_head, stash_tail;
	uint64_t next_liveness_ns;
	/* floe_receiver_generation when check_servers last looked */
	uint64_t seen_generation;
	/* floe_receiver_deaths when it last asked who lives */
	uint64_t seen_deaths;
};

struct floe_client {
	struct floe_port port;
	floe_service *svc;
	struct floe_sender *tx;   /* requests */
	struct floe_receiver *rx; /* responses */
	uint32_t channels_n;
	uint32_t servers_n;
	struct floe_pending_response *channels;
	uint64_t *servers; /* channels_n * servers_n */
	struct stash_entry *stash;
	uint32_t stash_free;
	uint64_t next_seq;
};

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

	if (k >= c->channels_n || slot >= c->servers_n)
		return NULL;
	p = &c->channels[k];
	if (!p->tag || p->servers[slot] != id ||
	    tag != (marker ? rr_marker_tag(p->tag) : p->tag))
		return NULL;
	return p;
}

/*
 * Take one entry off the response queues. 1: progress, 0: none, <0. A
 * response for @reader whose stash is empty is its next one: it goes to
 * *@next instead of through the stash (else *@next is left alone).
 */
static int pump(floe_client *c, struct floe_pending_response *reader,
		const floe_sample **next)
{
	const floe_sample *s;
	struct floe_marker m;
	struct floe_pending_response *p;
	int ret = floe_receiver_receive(c->rx, &s, &m);

	if (ret == 2) {
		p = route(c, m.tag, m.pub_slot, m.pub_id, true);
		if (p)
			server_done(p, m.pub_slot, false);
		return 1;
	}
	if (ret != 1)
		return ret;
	p = route(c, floe_sample_tag(s), floe_sample_sender_slot(s),
		  floe_sample_publisher_id(s), false);
	if (p && p == reader && p->stash_head == STASH_NONE)
		*next = s;
	else if (p && !p->dropped)
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
	uint64_t now = floe_coarse_now_ns(), deaths;
	bool ask = now >= p->next_liveness_ns;

	if (ask || p->next_liveness_ns == LIVENESS_NOT_STARTED)
		p->next_liveness_ns = now + LIVENESS_PERIOD_NS;
	/* Polled in a loop while nothing comes: look at the servers only if
	 * one may have come, gone or died since we did. */
	floe_receiver_refresh(c->rx);
	/* Our receiver saw a sender die (a waitset's liveness slice asks
	 * for an attached client, then wakes it once): ask now, or a
	 * client woken once would not hear of it. */
	deaths = floe_receiver_deaths(c->rx);
	if (deaths != p->seen_deaths) {
		p->seen_deaths = deaths;
		ask = true;
	}
	if (!ask && floe_receiver_generation(c->rx) == p->seen_generation)
		return;
	p->seen_generation = floe_receiver_generation(c->rx);
	for (uint32_t j = 0; p->streaming && j < c->servers_n;
	     j++) {
		struct floe_port_ref ref;
		uint64_t id = p->servers[j];

		if (!id)
			continue;
		if (ask &&
		    floe_svc_slot_owner(c->svc, FLOE_SLOT_SINK, j, &ref) == id &&
		    be->ops->port_liveness(be, &ref) == FLOE_PORT_DEAD)
			floe_svc_reclaim_dead(c->svc);
		if (!floe_receiver_has_source(c->rx, j, id))
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
		while (pump(c, NULL, NULL) == 1)
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
	free(c->stash);
	free(c);
}

FLOE_EXPORT int floe_client_create(floe_service *svc,
				   const struct floe_client_opts *opts,
				   floe_client **out)
{
	struct floe_sender_opts tx_opts = { .initial_max_slice_len = 1 };
	uint32_t held;
	floe_client *c;
	int ret;

	if (!svc || !out)
		return FLOE_E_INVALID;
	if (svc->pattern != &floe_rr_pattern)
		return FLOE_E_PATTERN;
	if (opts)
		tx_opts = (struct floe_sender_opts){
			.initial_max_slice_len = opts->initial_max_slice_len,
			.allocation = opts->allocation,
			.max_slice_len = opts->max_slice_len,
		};
	c = calloc(1, sizeof(*c));
	if (!c)
		return FLOE_E_NOMEM;
	c->svc = svc;
	c->servers_n = svc->qos.rr.max_servers;
	c->channels_n = svc->qos.rr.active_per_client;
	/* what the responses' direction says a client may hold */
	held = svc->dirs[RR_RESPONSES].receiver_held;
	c->channels = calloc(c->channels_n, sizeof(*c->channels));
	c->servers = calloc((size_t)c->channels_n * c->servers_n,
			    sizeof(*c->servers));
	c->stash = calloc(held, sizeof(*c->stash));
	if (!c->channels || !c->servers || !c->stash) {
		client_free(c);
		return FLOE_E_NOMEM;
	}
	for (uint32_t k = 0; k < c->channels_n; k++)
		c->channels[k] = (struct floe_pending_response){
			.client = c,
			.servers = c->servers + (size_t)k * c->servers_n,
			.stash_head = STASH_NONE,
			.stash_tail = STASH_NONE,
		};
	for (uint32_t e = 0; e < held; e++)
		c->stash[e].next = e + 1 < held ? e + 1 : STASH_NONE;
	c->next_seq = 1;
	ret = floe_rr_join(svc, FLOE_SLOT_SOURCE, held, &tx_opts, &c->port,
			   &c->rx, &c->tx);
	if (ret) {
		client_free(c);
		return ret;
	}
	*out = c;
	return 0;
}

/* Every request loan, pending response and response the user was given
 * must be over before the client goes: their memory goes with it. */
static void client_check_idle(floe_client *c)
{
	uint32_t loans = floe_sender_loaned(c->tx), pending = 0, stashed = 0;
	uint32_t held;

	for (uint32_t k = 0; k < c->channels_n; k++) {
		pending += c->channels[k].tag && !c->channels[k].dropped;
		for (uint32_t e = c->channels[k].stash_head; e != STASH_NONE;
		     e = c->stash[e].next)
			stashed++;
	}
	held = floe_receiver_borrowed(c->rx) - stashed;
	if (loans || pending || held)
		floe_misuse("floe_client_destroy",
			    "client of service '%s' still has %u loaned "
			    "requests, %u pending responses not dropped and "
			    "%u responses not released", c->svc->name, loans,
			    pending, held);
}

FLOE_EXPORT void floe_client_destroy(floe_client *c)
{

	if (!c)
		return;
	client_check_idle(c);
	/* requests still queued (fire-and-forget ones among them) stay for
	 * their servers; the responses to us are reclaimed once we go */
	floe_rr_leave(&c->port, c->rx, c->tx);
	client_free(c);
}

struct floe_receiver *floe_client_receiver(floe_client *c)
{
	return c->rx;
}

struct floe_sender *floe_client_sender(floe_client *c)
{
	return c->tx;
}

FLOE_EXPORT uint64_t floe_client_id(const floe_client *c)
{
	return c->port.ref.id;
}

FLOE_EXPORT int floe_client_loan(floe_client *c, uint64_t len,
				 floe_request_mut **out)
{
	if (!c || !out || !len)
		return FLOE_E_INVALID;
	/* a request loan is the engine's, with the client as its context */
	return floe_sender_loan(c->tx, len, c, (floe_sample_mut **)out);
}

static floe_sample_mut *loan_of(floe_request_mut *r)
{
	return (floe_sample_mut *)r;
}

FLOE_EXPORT void *floe_request_mut_payload(floe_request_mut *r)
{
	return floe_sample_mut_payload(loan_of(r));
}

FLOE_EXPORT uint64_t floe_request_mut_len(const floe_request_mut *r)
{
	return floe_sample_mut_len((const floe_sample_mut *)r);
}

FLOE_EXPORT void floe_request_mut_discard(floe_request_mut *r)
{
	floe_sample_mut_discard(loan_of(r));
}

FLOE_EXPORT int floe_request_mut_send(floe_request_mut *r,
				      floe_pending_response **out)
{
	struct floe_pending_response *p;
	floe_client *c;
	uint64_t tag;
	int ret;

	c = floe_loan_ctx(loan_of(r));
	if (!c || !out)
		return FLOE_E_INVALID;
	p = free_channel_for(c);
	if (!p)
		return FLOE_E_ACTIVE_LIMIT;
	tag = c->next_seq++ << TAG_SEQ_SHIFT | (uint64_t)(p - c->channels);
	p->tag = tag;
	p->request_chunk = floe_loan_chunk(loan_of(r));
	p->lost = false;
	p->dropped = false;
	p->next_liveness_ns = LIVENESS_NOT_STARTED;
	/* (unequal: the first look at the servers is never skipped) */
	p->seen_generation = floe_receiver_generation(c->rx) - 1;
	p->seen_deaths = floe_receiver_deaths(c->rx);
	/* (a free channel's servers are all 0: each server_done cleared
	 * one, until none streamed) */
	ret = floe_sender_send(loan_of(r), NULL, tag, p->servers);
	/* Connect to the servers now, so that what they answer is followed
	 * from the start. */
	floe_receiver_refresh(c->rx);
	p->streaming = ret > 0 ? (uint32_t)ret : 0;
	*out = p;
	return ret;
}

FLOE_EXPORT int floe_request_mut_send_fire_and_forget(floe_request_mut *r)
{
	floe_client *c = floe_loan_ctx(loan_of(r));

	if (!c)
		return FLOE_E_INVALID;
	if (!c->svc->qos.rr.fire_and_forget)
		return FLOE_E_QOS_MISMATCH;
	return floe_sender_send(loan_of(r), NULL,
				c->next_seq++ << TAG_SEQ_SHIFT |
					TAG_FIRE_AND_FORGET,
				NULL);
}

FLOE_EXPORT int floe_client_send_copy(floe_client *c, const void *data,
				      size_t bytes,
				      floe_pending_response **out)
{
	floe_request_mut *r;
	int ret;

	if (!c || !data || !bytes || bytes % c->svc->types[0].size || !out)
		return FLOE_E_INVALID;
	ret = floe_client_loan(c, bytes / c->svc->types[0].size, &r);
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
		if (!p->streaming) {
			floe_receiver_settle(c->rx);
			return p->lost ? FLOE_E_DEAD : FLOE_E_END_OF_STREAM;
		}
		ret = pump(c, p, &s);
		if (s) {
			*out = (const floe_response *)s;
			return 1;
		}
		if (ret < 0)
			return ret;
		if (ret)
			continue;
		check_servers(c, p);
		if (p->streaming && p->stash_head == STASH_NONE)
			return 0;
	}
}

/* Would receive have something to say: a response, or the end? */
static bool pending_ready(const struct floe_pending_response *p)
{
	return p->stash_head != STASH_NONE || !p->streaming;
}

FLOE_EXPORT int floe_pending_response_wait(floe_pending_response *p,
					   uint64_t timeout_ns)
{
	struct timespec deadline, slice;
	bool bounded = floe_deadline_after(timeout_ns, &deadline);
	floe_client *c;
	int ret = 0;

	if (!p || !p->tag || p->dropped)
		return FLOE_E_INVALID;
	c = p->client;
	for (;;) {
		/* other channels' responses met on the way are stashed */
		while (!pending_ready(p) && (ret = pump(c, NULL, NULL)) > 0)
			;
		if (!pending_ready(p))
			check_servers(c, p);
		if (pending_ready(p))
			return 1;
		if (ret < 0)
			return ret;
		if (bounded && floe_deadline_passed(&deadline))
			return 0;
		floe_deadline_min(bounded ? &deadline : NULL,
				  FLOE_LIVENESS_PERIOD_NS, &slice);
		/* a server's death shows in check_servers */
		ret = floe_receiver_wait(c->rx, &slice);
		if (ret < 0 && ret != FLOE_E_DEAD)
			return ret;
	}
}

FLOE_EXPORT int floe_client_fd(floe_client *c)
{
	if (!c)
		return FLOE_E_INVALID;
	return floe_receiver_fd(c->rx);
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
	/* servers still streaming learn it from the request's header (once
	 * all ended the stream, that line stays theirs to share: a write
	 * would take it from them and hold our next request's stores back) */
	if (p->streaming)
		floe_sender_unwant(c->tx, p->request_chunk, p->tag);
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

