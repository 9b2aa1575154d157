// SPDX-License-Identifier: MIT
/*
 * Request-response services ("<domain>.r.<hash>"): the pattern's table and
 * the services' public API. Clients and servers: lib/rr_client.c,
 * lib/rr_server.c; how the pieces fit: lib/rr.h.
 */
#include "base/bounds.h"
#include "rr.h"

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

/* @a * @b samples held, saturated (QoS that large is refused by the
 * layout's limits) */
static uint32_t held_limit(uint64_t a, uint64_t b)
{
	uint64_t n = floe_mul_sat(a, b);

	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

/* The two directions as QoS @q describes them (counts, queue limits). */
static void describe_dirs(const struct floe_shm_qos *q,
			  struct floe_dir dirs[2])
{
	const struct floe_rr_shm_qos *r = &q->rr;

	/* requests: a server holds at most a client's active requests,
	 * every client's at once */
	dirs[RR_REQUESTS] = (struct floe_dir){
		.sender = FLOE_SLOT_SOURCE,
		.receiver = FLOE_SLOT_SINK,
		.senders = r->max_clients,
		.receivers = r->max_servers,
		.buffer = r->active_per_client,
		.borrowed = r->active_per_client,
		.receiver_held = held_limit(r->max_clients,
					    r->active_per_client),
		.loans = r->loaned_requests,
	};
	/* responses: a client may hold a full buffer per active request */
	dirs[RR_RESPONSES] = (struct floe_dir){
		.sender = FLOE_SLOT_SINK,
		.receiver = FLOE_SLOT_SOURCE,
		.senders = r->max_servers,
		.receivers = r->max_clients,
		.buffer = r->response_buffer,
		.borrowed = floe_mul_sat(r->active_per_client,
					 r->response_buffer) > FLOE_LIMIT_QUEUE
				    ? FLOE_LIMIT_QUEUE
				    : r->active_per_client * r->response_buffer,
		.loans = r->loaned_responses,
		/* a server takes no request of a client it cannot reach
		 * yet (can_answer, lib/rr_server.c) */
		.wake_sender_on_let_go = true,
	};
	/* a client: a full response budget per server slot, for its
	 * server and for the gone ones whose responses are carried ahead
	 * of it (struct floe_conn); servers cannot make it hold more, the
	 * engine refuses to send past it */
	dirs[RR_RESPONSES].receiver_held =
		held_limit(dirs[RR_RESPONSES].borrowed,
			   floe_mul_sat(r->max_servers, FLOE_CONN_CARRIED + 1));
}

/* Lay out both directions' connections after the slots; where they end,
 * or 0 for QoS out of bounds. */
static uint64_t lay_dirs(const struct floe_shm_qos *q, uint64_t body,
			 struct floe_dir dirs[2])
{
	uint64_t end;

	describe_dirs(q, dirs);
	end = floe_dir_layout(&dirs[RR_REQUESTS], body, 0);
	/* one end-of-stream marker per channel beyond the data limit */
	return end ? floe_dir_layout(&dirs[RR_RESPONSES], end,
				     q->rr.active_per_client)
		   : 0;
}

static int layout(const struct floe_shm_qos *q, struct floe_svc_layout *l)
{
	const uint32_t counts[FLOE_SLOT_KINDS] = { q->max_nodes,
						   q->rr.max_clients,
						   q->rr.max_servers };
	struct floe_dir dirs[2];

	if (!floe_slot_counts_valid(counts) || q->rr.fire_and_forget > 1)
		return FLOE_E_INVALID;
	l->size = lay_dirs(q, floe_slots_layout(counts, l), dirs);
	return l->size ? 0 : FLOE_E_INVALID;
}

static bool satisfies(const struct floe_shm_qos *have,
		      const struct floe_shm_qos *want)
{
	const struct floe_rr_shm_qos *h = &have->rr, *w = &want->rr;

	return w->max_clients <= h->max_clients &&
	       w->max_servers <= h->max_servers &&
	       w->active_per_client <= h->active_per_client &&
	       w->loaned_requests <= h->loaned_requests &&
	       w->response_buffer <= h->response_buffer &&
	       w->loaned_responses <= h->loaned_responses &&
	       w->fire_and_forget <= h->fire_and_forget;
}

static uint32_t directions(const struct floe_shm_qos *q,
			   const struct floe_svc_layout *l,
			   const struct floe_shm_type *types,
			   struct floe_dir dirs[FLOE_MAX_DIRS])
{
	lay_dirs(q, l->body_off, dirs);
	for (uint32_t k = 0; k < 2; k++) {
		dirs[k].type_size = types[k].size;
		dirs[k].type_align = types[k].align;
		dirs[k].payload_offset =
			floe_chunk_payload_offset(0, types[k].align);
	}
	return 2;
}

static void qos_from_shm(const struct floe_shm_qos *s, struct floe_rr_qos *q)
{
	const struct floe_rr_shm_qos *r = &s->rr;

	*q = (struct floe_rr_qos){
		.max_clients = r->max_clients,
		.max_servers = r->max_servers,
		.max_nodes = s->max_nodes,
		.max_active_requests_per_client = r->active_per_client,
		.max_loaned_requests = r->loaned_requests,
		.max_response_buffer_size = r->response_buffer,
		.max_loaned_responses = r->loaned_responses,
		.enable_fire_and_forget = r->fire_and_forget != 0,
	};
}

static void describe(const struct floe_shm_qos *q,
		     struct floe_service_info *info)
{
	qos_from_shm(q, &info->rr_qos);
}

const struct floe_pattern floe_rr_pattern = {
	.kind = FLOE_PATTERN_KIND_REQUEST_RESPONSE,
	.seg_kind = FLOE_KIND_REQUEST_RESPONSE,
	.roles = { FLOE_ROLE_NODE, FLOE_ROLE_CLIENT, FLOE_ROLE_SERVER },
	.types = 2,
	.layout = layout,
	.satisfies = satisfies,
	.directions = directions,
	.describe = describe,
};

int floe_rr_join(floe_service *svc, enum floe_slot_kind kind, uint32_t held,
		 const struct floe_sender_opts *opts, struct floe_port *port,
		 struct floe_receiver **rx, struct floe_sender **tx)
{
	/* a client receives responses and sends requests, a server the
	 * reverse */
	uint32_t in = kind == FLOE_SLOT_SOURCE ? RR_RESPONSES : RR_REQUESTS;
	int ret = floe_port_join(svc, kind, svc->dirs[in].buffer, port);

	if (ret)
		return ret;
	ret = floe_receiver_open(&svc->dirs[in], port, held, rx);
	if (!ret) {
		ret = floe_sender_open(&svc->dirs[!in], port, opts, tx);
		if (ret)
			floe_receiver_close(*rx);
	}
	if (ret)
		floe_port_leave(port);
	return ret;
}

void floe_rr_leave(struct floe_port *port, struct floe_receiver *rx,
		   struct floe_sender *tx)
{
	floe_sender_close(tx);
	floe_receiver_close(rx);
	floe_port_leave(port);
}

static void qos_to_shm(const struct floe_rr_qos *q, struct floe_shm_qos *s)
{
	*s = (struct floe_shm_qos){
		.pattern = FLOE_PATTERN_KIND_REQUEST_RESPONSE,
		.max_nodes = q->max_nodes,
		.rr = {
			.max_clients = q->max_clients,
			.max_servers = q->max_servers,
			.active_per_client = q->max_active_requests_per_client,
			.loaned_requests = q->max_loaned_requests,
			.response_buffer = q->max_response_buffer_size,
			.loaned_responses = q->max_loaned_responses,
			.fire_and_forget = q->enable_fire_and_forget,
		},
	};
}

static int get_service(floe_node *node, const char *name,
		       const struct floe_rr_opts *opts, enum floe_svc_how how,
		       floe_service **out)
{
	struct floe_rr_qos defaults;
	struct floe_shm_qos demand;
	struct floe_svc_spec spec;

	if (!opts)
		return FLOE_E_INVALID;
	floe_rr_qos_init(&defaults);
	spec = (struct floe_svc_spec){
		.pattern = &floe_rr_pattern,
		.types = { opts->request_type, opts->response_type },
		.attributes = opts->attributes,
		.num_attributes = opts->num_attributes,
		.mode = opts->mode,
	};
	qos_to_shm(how != FLOE_SVC_OPEN && opts->qos ? opts->qos : &defaults,
		   &spec.qos);
	if (opts->qos) {
		qos_to_shm(opts->qos, &demand);
		spec.demand = &demand;
	}
	return floe_svc_get(node, name, &spec, how, out);
}

FLOE_EXPORT int floe_rr_open(floe_node *node, const char *name,
			     const struct floe_rr_opts *opts, floe_service **out)
{
	return get_service(node, name, opts, FLOE_SVC_OPEN, out);
}

FLOE_EXPORT int floe_rr_create(floe_node *node, const char *name,
			       const struct floe_rr_opts *opts,
			       floe_service **out)
{
	return get_service(node, name, opts, FLOE_SVC_CREATE, out);
}

FLOE_EXPORT int floe_rr_open_or_create(floe_node *node, const char *name,
				       const struct floe_rr_opts *opts,
				       floe_service **out)
{
	return get_service(node, name, opts, FLOE_SVC_OPEN_OR_CREATE, out);
}

FLOE_EXPORT void floe_rr_qos(const floe_service *svc, struct floe_rr_qos *qos)
{
	if (svc && qos)
		qos_from_shm(&svc->qos, qos);
}
