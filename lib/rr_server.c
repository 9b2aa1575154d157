// SPDX-License-Identifier: MIT
/*
 * Request-response servers: a receiver of requests and a sender of
 * responses on one port (lib/rr.h). Each request received is an active
 * request, answered with a stream of responses sent to its client only,
 * and ended by dropping it (an end marker follows the responses).
 */
#include <stdlib.h>
#include <string.h>

#include "rr.h"

/* Marker pushes that find the ring full (only a client not following the
 * protocol fills the marker room) are retried this often. */
#define MARK_ATTEMPTS 64

struct floe_active_request {
	floe_server *server;
	const floe_sample *sample;
	struct floe_target client;
	uint64_t tag;
	bool in_use;
};

struct floe_server {
	struct floe_port port;
	floe_service *svc;
	struct floe_receiver *rx; /* requests */
	struct floe_sender *tx;   /* responses */
	struct floe_active_request *active;
	uint32_t active_n;
};

/*
 * A request is taken only when its stream can be answered and ended: while
 * the connection to its client waits (gone servers' leftovers fill its
 * carried records), an end of stream would be lost and the client get
 * FLOE_E_DEAD from a server that ended the stream. The client that reads
 * them wakes the server (let_go, lib/engine/receiver.c). A client that is
 * gone gets nothing anyway: its requests are taken as ever.
 */
static bool can_answer(void *ctx, uint32_t slot, uint64_t id)
{
	floe_server *srv = ctx;
	struct floe_target client = { .slot = slot, .id = id };
	struct floe_port_ref ref;

	return floe_sender_reaches(srv->tx, &client) ||
	       floe_svc_slot_owner(srv->svc, FLOE_SLOT_SOURCE, slot, &ref) != id;
}

static void server_free(floe_server *srv)
{
	free(srv->active);
	free(srv);
}

FLOE_EXPORT int floe_server_create(floe_service *svc,
				   const struct floe_server_opts *opts,
				   floe_server **out)
{
	struct floe_sender_opts tx_opts = { .initial_max_slice_len = 1 };
	floe_server *srv;
	int ret;

	if (!svc || !out)
		return FLOE_E_INVALID;
	if (svc->pattern != &floe_rr_pattern)
		return FLOE_E_PATTERN;
	if (opts)
		tx_opts = (struct floe_sender_opts){
			.unable_to_deliver = opts->backpressure,
			.initial_max_slice_len = opts->initial_max_slice_len,
			.allocation = opts->allocation,
			.max_slice_len = opts->max_slice_len,
		};
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return FLOE_E_NOMEM;
	srv->svc = svc;
	/* every active request of every client, plus fire-and-forget ones
	 * (which the clients' queue limits bound the same way) */
	srv->active_n = svc->dirs[RR_REQUESTS].receiver_held;
	srv->active = calloc(srv->active_n, sizeof(*srv->active));
	if (!srv->active) {
		server_free(srv);
		return FLOE_E_NOMEM;
	}
	ret = floe_rr_join(svc, FLOE_SLOT_SINK, srv->active_n, &tx_opts,
			   &srv->port, &srv->rx, &srv->tx);
	if (ret) {
		server_free(srv);
		return ret;
	}
	floe_receiver_take_only(srv->rx, can_answer, srv);
	*out = srv;
	return 0;
}

FLOE_EXPORT void floe_server_destroy(floe_server *srv)
{
	uint32_t loans, active = 0;

	if (!srv)
		return;
	loans = floe_sender_loaned(srv->tx);
	for (uint32_t i = 0; i < srv->active_n; i++)
		active += srv->active[i].in_use;
	if (loans || active)
		floe_misuse(__func__, "server of service '%s' still has %u "
			    "active requests not dropped and %u loaned "
			    "responses", srv->svc->name, active, loans);
	/* responses and end markers still queued stay for their clients */
	floe_rr_leave(&srv->port, srv->rx, srv->tx);
	server_free(srv);
}

struct floe_receiver *floe_server_receiver(floe_server *srv)
{
	return srv->rx;
}

struct floe_sender *floe_server_sender(floe_server *srv)
{
	return srv->tx;
}

FLOE_EXPORT uint64_t floe_server_id(const floe_server *srv)
{
	return srv->port.ref.id;
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
		int ret = floe_receiver_receive(srv->rx, &s, NULL);
		uint64_t tag;

		if (ret != 1)
			return ret;
		tag = floe_sample_tag(s);
		if (!(tag & TAG_FIRE_AND_FORGET) &&
		    TAG_CHANNEL(tag) >= srv->svc->qos.rr.active_per_client) {
			floe_sample_release(s); /* no such channel: bogus */
			continue;
		}
		*a = (struct floe_active_request){
			.server = srv,
			.sample = s,
			.client = { .slot = floe_sample_sender_slot(s),
				    .id = floe_sample_publisher_id(s) },
			.tag = tag,
			.in_use = true,
		};
		*out = a;
		return 1;
	}
}

FLOE_EXPORT bool floe_server_has_requests(floe_server *srv)
{
	return srv && floe_receiver_has_data(srv->rx);
}

FLOE_EXPORT int floe_server_wait(floe_server *srv, uint64_t timeout_ns)
{
	if (!srv)
		return FLOE_E_INVALID;
	return floe_wait_receiver(srv->rx, timeout_ns);
}

FLOE_EXPORT int floe_server_fd(floe_server *srv)
{
	if (!srv)
		return FLOE_E_INVALID;
	return floe_receiver_fd(srv->rx);
}

FLOE_EXPORT int floe_server_update_connections(floe_server *srv)
{
	if (!srv)
		return FLOE_E_INVALID;
	floe_sender_update(srv->tx);
	return 0;
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
	return a->client.id;
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

	if (!a || !a->in_use || (a->tag & TAG_FIRE_AND_FORGET))
		return false;
	srv = a->server;
	be = srv->svc->node->be;
	return !floe_sample_unwanted(a->sample) &&
	       floe_svc_slot_owner(srv->svc, FLOE_SLOT_SOURCE, a->client.slot,
				   &ref) == a->client.id &&
	       be->ops->port_liveness(be, &ref) != FLOE_PORT_DEAD;
}

FLOE_EXPORT int floe_active_request_loan(floe_active_request *a, uint64_t len,
					 floe_response_mut **out)
{
	if (!a || !a->in_use || !out || !len)
		return FLOE_E_INVALID;
	if (a->tag & TAG_FIRE_AND_FORGET)
		return FLOE_E_NO_RESPONSE;
	/* a response loan is the engine's, with its request as context */
	return floe_sender_loan(a->server->tx, len, a,
				(floe_sample_mut **)out);
}

static floe_sample_mut *loan_of(floe_response_mut *r)
{
	return (floe_sample_mut *)r;
}

FLOE_EXPORT void *floe_response_mut_payload(floe_response_mut *r)
{
	return floe_sample_mut_payload(loan_of(r));
}

FLOE_EXPORT uint64_t floe_response_mut_len(const floe_response_mut *r)
{
	return floe_sample_mut_len((const floe_sample_mut *)r);
}

FLOE_EXPORT void floe_response_mut_discard(floe_response_mut *r)
{
	floe_sample_mut_discard(loan_of(r));
}

FLOE_EXPORT int floe_response_mut_send(floe_response_mut *r)
{
	floe_active_request *a = floe_loan_ctx(loan_of(r));
	int ret;

	if (!a)
		return FLOE_E_INVALID;
	/* nobody listens: spare the client the work of throwing it away */
	if (floe_sample_unwanted(a->sample)) {
		floe_sample_mut_discard(loan_of(r));
		return 0;
	}
	ret = floe_sender_send(loan_of(r), &a->client, a->tag, NULL);
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
	size = a->server->svc->types[1].size;
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
	floe_sender_discard_loans(srv->tx, a);
	if (!(a->tag & TAG_FIRE_AND_FORGET)) {
		for (uint32_t round = 0; round < MARK_ATTEMPTS; round++) {
			if (floe_sender_mark(a->server->tx, &a->client,
					     rr_marker_tag(a->tag)) !=
			    FLOE_E_WOULD_BLOCK)
				break;
			floe_backoff(round);
		}
	}
	floe_sample_release(a->sample);
	a->in_use = false;
}
