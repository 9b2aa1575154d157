// SPDX-License-Identifier: MIT
/*
 * Publish-subscribe: services in the "<domain>.s." namespace with one
 * direction, publishers (source slots) → subscribers (sink slots). A
 * publisher is an engine sender, a subscriber an engine receiver; this
 * file is the pattern's table and its public API.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"

struct floe_publisher {
	struct floe_port port;
	struct floe_sender *tx;
};

struct floe_subscriber {
	struct floe_port port;
	struct floe_receiver *rx;
};

/* ------------------------------------------------------------------ */
/* The pattern                                                        */
/* ------------------------------------------------------------------ */

/* The direction as QoS @q describes it (counts and queue limits). */
static void describe_dir(const struct floe_shm_qos *q, struct floe_dir *d)
{
	const struct floe_pubsub_shm_qos *p = &q->pubsub;

	*d = (struct floe_dir){
		.sender = FLOE_SLOT_SOURCE,
		.receiver = FLOE_SLOT_SINK,
		.senders = p->max_publishers,
		.receivers = p->max_subscribers,
		.buffer = p->buffer,
		.borrowed = p->borrowed,
		.receiver_held = p->borrowed,
		.history = p->history,
		.loans = p->loans,
		.user_header_size = p->user_header_size,
		.safe_overflow = p->safe_overflow,
	};
}

static int layout(const struct floe_shm_qos *q, struct floe_svc_layout *l)
{
	const uint32_t counts[FLOE_SLOT_KINDS] = {
		q->max_nodes, q->pubsub.max_publishers, q->pubsub.max_subscribers
	};
	struct floe_dir d;

	if (!floe_slot_counts_valid(counts) || q->pubsub.safe_overflow > 1)
		return FLOE_E_INVALID;
	describe_dir(q, &d);
	l->size = floe_dir_layout(&d, floe_slots_layout(counts, l), 0);
	return l->size ? 0 : FLOE_E_INVALID;
}

static bool satisfies(const struct floe_shm_qos *have,
		      const struct floe_shm_qos *want)
{
	const struct floe_pubsub_shm_qos *h = &have->pubsub, *w = &want->pubsub;

	return w->max_publishers <= h->max_publishers &&
	       w->max_subscribers <= h->max_subscribers &&
	       w->buffer <= h->buffer && w->borrowed <= h->borrowed &&
	       w->history <= h->history && w->loans <= h->loans &&
	       (!w->user_header_size ||
		w->user_header_size == h->user_header_size);
}

static uint32_t directions(const struct floe_shm_qos *q,
			   const struct floe_svc_layout *l,
			   const struct floe_shm_type *types,
			   struct floe_dir dirs[FLOE_MAX_DIRS])
{
	describe_dir(q, &dirs[0]);
	floe_dir_layout(&dirs[0], l->body_off, 0);
	dirs[0].type_size = types[0].size;
	dirs[0].type_align = types[0].align;
	dirs[0].payload_offset = floe_chunk_payload_offset(
		dirs[0].user_header_size, types[0].align);
	return 1;
}

static void qos_from_shm(const struct floe_shm_qos *s,
			 struct floe_pubsub_qos *q)
{
	const struct floe_pubsub_shm_qos *p = &s->pubsub;

	*q = (struct floe_pubsub_qos){
		.max_publishers = p->max_publishers,
		.max_subscribers = p->max_subscribers,
		.max_nodes = s->max_nodes,
		.subscriber_max_buffer_size = p->buffer,
		.subscriber_max_borrowed_samples = p->borrowed,
		.history_size = p->history,
		.publisher_max_loaned_samples = p->loans,
		.user_header_size = p->user_header_size,
		.enable_safe_overflow = p->safe_overflow,
	};
}

static void describe(const struct floe_shm_qos *q,
		     struct floe_service_info *info)
{
	qos_from_shm(q, &info->qos);
}

const struct floe_pattern floe_pubsub_pattern = {
	.kind = FLOE_PATTERN_KIND_PUBSUB,
	.seg_kind = FLOE_KIND_SERVICE,
	.roles = { FLOE_ROLE_NODE, FLOE_ROLE_PUBLISHER, FLOE_ROLE_SUBSCRIBER },
	.types = 1,
	.layout = layout,
	.satisfies = satisfies,
	.directions = directions,
	.describe = describe,
};

/* ------------------------------------------------------------------ */
/* Services                                                           */
/* ------------------------------------------------------------------ */

FLOE_EXPORT void floe_pubsub_qos_init(struct floe_pubsub_qos *qos)
{
	*qos = (struct floe_pubsub_qos){
		.max_publishers = 2,
		.max_subscribers = 8,
		.max_nodes = 20,
		.subscriber_max_buffer_size = 4,
		.subscriber_max_borrowed_samples = 2,
		.history_size = 0,
		.publisher_max_loaned_samples = 2,
		.user_header_size = 0,
		.enable_safe_overflow = true,
	};
}

static void qos_to_shm(const struct floe_pubsub_qos *q, struct floe_shm_qos *s)
{
	*s = (struct floe_shm_qos){
		.pattern = FLOE_PATTERN_KIND_PUBSUB,
		.max_nodes = q->max_nodes,
		.pubsub = {
			.max_publishers = q->max_publishers,
			.max_subscribers = q->max_subscribers,
			.buffer = q->subscriber_max_buffer_size,
			.borrowed = q->subscriber_max_borrowed_samples,
			.history = q->history_size,
			.loans = q->publisher_max_loaned_samples,
			.user_header_size = q->user_header_size,
			.safe_overflow = q->enable_safe_overflow,
		},
	};
}

static int get_service(floe_node *node, const char *name,
		       const struct floe_service_opts *opts,
		       enum floe_svc_how how, floe_service **out)
{
	struct floe_pubsub_qos defaults;
	struct floe_shm_qos demand;
	struct floe_svc_spec spec;

	if (!opts)
		return FLOE_E_INVALID;
	floe_pubsub_qos_init(&defaults);
	spec = (struct floe_svc_spec){
		.pattern = &floe_pubsub_pattern,
		.types = { opts->type },
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

FLOE_EXPORT int floe_service_open(floe_node *node, const char *name,
				  const struct floe_service_opts *opts,
				  floe_service **out)
{
	return get_service(node, name, opts, FLOE_SVC_OPEN, out);
}

FLOE_EXPORT int floe_service_create(floe_node *node, const char *name,
				    const struct floe_service_opts *opts,
				    floe_service **out)
{
	return get_service(node, name, opts, FLOE_SVC_CREATE, out);
}

FLOE_EXPORT int floe_service_open_or_create(floe_node *node, const char *name,
					    const struct floe_service_opts *opts,
					    floe_service **out)
{
	return get_service(node, name, opts, FLOE_SVC_OPEN_OR_CREATE, out);
}

FLOE_EXPORT void floe_service_qos(const floe_service *svc,
				  struct floe_pubsub_qos *q)
{
	qos_from_shm(&svc->qos, q);
}

/* ------------------------------------------------------------------ */
/* Publisher                                                          */
/* ------------------------------------------------------------------ */

FLOE_EXPORT void floe_publisher_opts_init(struct floe_publisher_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->initial_max_slice_len = 1;
}

FLOE_EXPORT int floe_publisher_create(floe_service *svc,
				      const struct floe_publisher_opts *opts,
				      floe_publisher **out)
{
	struct floe_sender_opts tx_opts = { .initial_max_slice_len = 1 };
	floe_publisher *pub;
	int ret;

	if (!svc || !out)
		return FLOE_E_INVALID;
	if (svc->pattern != &floe_pubsub_pattern)
		return FLOE_E_PATTERN;
	if (opts)
		tx_opts = (struct floe_sender_opts){
			.unable_to_deliver = opts->unable_to_deliver,
			.initial_max_slice_len = opts->initial_max_slice_len,
			.allocation = opts->allocation,
			.max_slice_len = opts->max_slice_len,
		};
	pub = calloc(1, sizeof(*pub));
	if (!pub)
		return FLOE_E_NOMEM;
	ret = floe_port_join(svc, FLOE_SLOT_SOURCE, 0, &pub->port);
	if (ret) {
		free(pub);
		return ret;
	}
	ret = floe_sender_open(&svc->dirs[0], &pub->port, &tx_opts, &pub->tx);
	if (ret) {
		floe_port_leave(&pub->port);
		free(pub);
		return ret;
	}
	*out = pub;
	return 0;
}

FLOE_EXPORT void floe_publisher_destroy(floe_publisher *pub)
{
	if (!pub)
		return;
	if (floe_sender_loaned(pub->tx))
		floe_misuse(__func__, "%u loaned samples of service '%s' are "
			    "neither sent nor discarded",
			    floe_sender_loaned(pub->tx), pub->port.svc->name);
	floe_sender_close(pub->tx);
	floe_port_leave(&pub->port);
	free(pub);
}

FLOE_EXPORT uint64_t floe_publisher_id(const floe_publisher *pub)
{
	return pub->port.ref.id;
}

FLOE_EXPORT int floe_publisher_loan(floe_publisher *pub, uint64_t len,
				    floe_sample_mut **out)
{
	if (!pub || !out || !len)
		return FLOE_E_INVALID;
	return floe_sender_loan(pub->tx, len, pub, out);
}

FLOE_EXPORT int floe_sample_mut_send(floe_sample_mut *s)
{
	return floe_sender_publish(s);
}

FLOE_EXPORT int floe_publisher_send_copy(floe_publisher *pub, const void *data,
					 size_t bytes)
{
	floe_sample_mut *s;
	uint64_t size;
	int ret;

	if (!pub || !data || !bytes)
		return FLOE_E_INVALID;
	size = pub->port.svc->types[0].size;
	if (bytes % size)
		return FLOE_E_INVALID;
	ret = floe_publisher_loan(pub, bytes / size, &s);
	if (ret)
		return ret;
	memcpy(floe_sample_mut_payload(s), data, bytes);
	return floe_sample_mut_send(s);
}

FLOE_EXPORT int floe_publisher_update_connections(floe_publisher *pub)
{
	if (!pub)
		return FLOE_E_INVALID;
	floe_sender_update(pub->tx);
	return 0;
}

struct floe_sender *floe_publisher_sender(floe_publisher *pub)
{
	return pub->tx;
}

/* ------------------------------------------------------------------ */
/* Subscriber                                                         */
/* ------------------------------------------------------------------ */

FLOE_EXPORT int floe_subscriber_create(floe_service *svc,
				       const struct floe_subscriber_opts *opts,
				       floe_subscriber **out)
{
	uint32_t buffer = opts ? opts->buffer_size : 0;
	floe_subscriber *sub;
	int ret;

	if (!svc || !out)
		return FLOE_E_INVALID;
	if (svc->pattern != &floe_pubsub_pattern)
		return FLOE_E_PATTERN;
	if (buffer > svc->dirs[0].buffer)
		return FLOE_E_INVALID;
	sub = calloc(1, sizeof(*sub));
	if (!sub)
		return FLOE_E_NOMEM;
	ret = floe_port_join(svc, FLOE_SLOT_SINK,
			     buffer ? buffer : svc->dirs[0].buffer, &sub->port);
	if (ret) {
		free(sub);
		return ret;
	}
	ret = floe_receiver_open(&svc->dirs[0], &sub->port,
				 svc->dirs[0].receiver_held, &sub->rx);
	if (ret) {
		floe_port_leave(&sub->port);
		free(sub);
		return ret;
	}
	*out = sub;
	return 0;
}

FLOE_EXPORT void floe_subscriber_destroy(floe_subscriber *sub)
{
	if (!sub)
		return;
	if (floe_receiver_borrowed(sub->rx))
		floe_misuse(__func__, "%u received samples of service '%s' are "
			    "not released", floe_receiver_borrowed(sub->rx),
			    sub->port.svc->name);
	floe_receiver_close(sub->rx);
	floe_port_leave(&sub->port);
	free(sub);
}

FLOE_EXPORT uint64_t floe_subscriber_id(const floe_subscriber *sub)
{
	return sub->port.ref.id;
}

FLOE_EXPORT int floe_subscriber_receive(floe_subscriber *sub,
					const floe_sample **out)
{
	if (!sub || !out)
		return FLOE_E_INVALID;
	return floe_receiver_receive(sub->rx, out, NULL);
}

FLOE_EXPORT bool floe_subscriber_has_samples(floe_subscriber *sub)
{
	return sub && floe_receiver_has_data(sub->rx);
}

/* A wait of @timeout_ns (0: just look; too large to represent: forever). */
int floe_wait_receiver(struct floe_receiver *rx, uint64_t timeout_ns)
{
	struct timespec deadline;

	if (!floe_deadline_after(timeout_ns, &deadline))
		return floe_receiver_wait(rx, NULL);
	return floe_receiver_wait(rx, &deadline);
}

FLOE_EXPORT int floe_subscriber_wait(floe_subscriber *sub, uint64_t timeout_ns)
{
	if (!sub)
		return FLOE_E_INVALID;
	return floe_wait_receiver(sub->rx, timeout_ns);
}

struct floe_receiver *floe_subscriber_receiver(floe_subscriber *sub)
{
	return sub->rx;
}

FLOE_EXPORT int floe_subscriber_fd(floe_subscriber *sub)
{
	if (!sub)
		return FLOE_E_INVALID;
	return floe_receiver_fd(sub->rx);
}
