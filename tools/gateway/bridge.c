// SPDX-License-Identifier: MIT
/*
 * One publish-subscribe service bridged both ways. The local service is
 * opened when it exists (with its own type) or, when the first envelope
 * arrives, created with the envelope's type and the configured QoS. Its
 * subscriber is the exporter thread's, its publisher the importer's.
 */
#include <stdlib.h>
#include <string.h>

#include "gateway.h"

/* How often the exporter looks for a local service not there yet. */
#define LOOKUP_PERIOD_MS 250
/* Samples forwarded per call, so that no service starves the others. */
#define EXPORT_BATCH 64
/* Publishers whose origin (a gateway or not) the exporter remembers. */
#define ORIGINS_MAX 64

struct origin {
	uint64_t publisher_id;
	bool gateway;
};

struct gw_bridge {
	struct gw_ctx *ctx;
	const struct gw_service_conf *conf;
	char topic[GW_TOPIC_LEN];
	dds_entity_t writer, reader;
	bool reliable;

	pthread_mutex_t lock; /* svc and what describes it */
	floe_service *svc;
	char type_name[FLOE_TYPE_NAME_LEN + 1];
	uint64_t type_size, type_align;
	uint32_t user_header_size;

	/* exporter thread */
	floe_subscriber *sub;
	uint64_t next_lookup_ms;
	struct origin origins[ORIGINS_MAX];
	unsigned num_origins, next_origin;
	struct gw_ratelimit write_log;

	/* importer thread */
	floe_publisher *pub;
	_Atomic uint64_t pub_id; /* read by the exporter: never re-export */
	struct gw_seen seen;
	struct gw_ratelimit drop_log;
	char refused[FLOE_TYPE_NAME_LEN + 64];
};

struct lookup {
	const char *name;
	struct floe_service_info *info;
	bool found;
};

static int on_service(const struct floe_service_info *info, void *arg)
{
	struct lookup *l = arg;

	if (info->pattern != FLOE_PATTERN_KIND_PUBSUB ||
	    strcmp(info->name, l->name) != 0)
		return 0;
	*l->info = *info;
	l->found = true;
	return 1;
}

/* The local service's description, if it exists. */
static bool find_service(floe_node *node, const char *name,
			 struct floe_service_info *info)
{
	struct lookup l = { .name = name, .info = info };

	return floe_service_list(node, on_service, &l) >= 0 && l.found;
}

/* With b->lock held: open the local service as it is, if it exists. */
static int open_existing(struct gw_bridge *b)
{
	struct floe_service_info *info;
	struct floe_service_opts opts = { 0 };
	int ret;

	if (b->svc)
		return 0;
	info = malloc(sizeof(*info));
	if (!info)
		return FLOE_E_NOMEM;
	if (!find_service(b->ctx->node, b->conf->name, info)) {
		free(info);
		return FLOE_E_NOT_FOUND;
	}
	opts.type.name = info->type_name;
	opts.type.size = info->type_size;
	opts.type.align = info->type_align;
	ret = floe_service_open(b->ctx->node, b->conf->name, &opts, &b->svc);
	if (!ret) {
		snprintf(b->type_name, sizeof(b->type_name), "%s",
			 info->type_name);
		b->type_size = info->type_size;
		b->type_align = info->type_align;
		b->user_header_size = info->qos.user_header_size;
	}
	free(info);
	return ret;
}

int gw_bridge_create(struct gw_ctx *ctx, const struct gw_service_conf *conf,
		     struct gw_bridge **out)
{
	struct gw_bridge *b = calloc(1, sizeof(*b));
	struct floe_service_info *info = malloc(sizeof(*info));
	struct floe_pubsub_qos qos = conf->qos;
	struct gw_dds_qos map;

	if (!b || !info) {
		free(b);
		free(info);
		return -1;
	}
	b->ctx = ctx;
	b->conf = conf;
	pthread_mutex_init(&b->lock, NULL);
	/* DDS QoS from the local service's when it exists, else from the
	 * configuration: what the service would be created with */
	if (find_service(ctx->node, conf->name, info))
		qos = info->qos;
	free(info);
	gw_qos_map(&qos, ctx->opts->max_payload, &map);
	b->reliable = map.reliable;
	gw_topic_name(b->topic, ctx->opts->ros2 ? "rt/" : "floe/", conf->name);
	if (gw_dds_endpoints(ctx, b->topic, &map, &b->writer, &b->reader)) {
		gw_bridge_destroy(b);
		return -1;
	}
	gw_log("bridging '%s' as DDS topic '%s' (%s, %s, writer keeps %s %d)",
	       conf->name, b->topic, map.reliable ? "reliable" : "best-effort",
	       map.transient_local ? "transient-local" : "volatile",
	       map.writer_keep_all ? "all, depth" : "last", map.depth);
	*out = b;
	return 0;
}

void gw_bridge_destroy(struct gw_bridge *b)
{
	if (!b)
		return;
	/* first: the writer's listener refers to b->topic */
	if (b->writer > 0)
		dds_delete(b->writer);
	if (b->reader > 0)
		dds_delete(b->reader);
	floe_subscriber_destroy(b->sub);
	floe_publisher_destroy(b->pub);
	floe_service_close(b->svc);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

dds_entity_t gw_bridge_reader(const struct gw_bridge *b)
{
	return b->reader;
}

/* ---- export -------------------------------------------------------------- */

struct node_lookup {
	uint64_t id;
	bool gateway;
};

static int on_node(const struct floe_node_info *info, void *arg)
{
	struct node_lookup *l = arg;

	if (info->id != l->id)
		return 0;
	l->gateway = strcmp(info->name, GW_NODE_NAME) == 0;
	return 1;
}

static int on_port(const struct floe_port_info *info, void *arg)
{
	struct node_lookup *l = arg;

	if (info->id != l->id)
		return 0;
	l->id = info->node_id;
	return 1;
}

/* Whether a publisher belongs to a gateway (this or another one on the
 * same floe domain): what it publishes came from DDS. */
static bool from_gateway(struct gw_bridge *b, uint64_t publisher_id)
{
	struct node_lookup l = { .id = publisher_id };
	struct origin *o;

	if (publisher_id == atomic_load(&b->pub_id))
		return true;
	for (unsigned i = 0; i < b->num_origins; i++)
		if (b->origins[i].publisher_id == publisher_id)
			return b->origins[i].gateway;
	if (floe_port_list(b->ctx->node, on_port, &l) >= 0 &&
	    l.id != publisher_id)
		floe_node_list(b->ctx->node, on_node, &l);
	if (b->num_origins < ORIGINS_MAX) {
		o = &b->origins[b->num_origins++];
	} else {
		o = &b->origins[b->next_origin];
		b->next_origin = (b->next_origin + 1) % ORIGINS_MAX;
	}
	o->publisher_id = publisher_id;
	o->gateway = l.gateway;
	return l.gateway;
}

static bool ensure_subscriber(struct gw_bridge *b)
{
	uint64_t now = gw_now_ms();
	int ret = 0;

	if (b->sub)
		return true;
	pthread_mutex_lock(&b->lock);
	if (!b->svc && now >= b->next_lookup_ms) {
		b->next_lookup_ms = now + LOOKUP_PERIOD_MS;
		ret = open_existing(b);
	}
	if (b->svc)
		ret = floe_subscriber_create(b->svc, NULL, &b->sub);
	pthread_mutex_unlock(&b->lock);
	if (ret && ret != FLOE_E_NOT_FOUND)
		gw_log_limited(&b->write_log,
			       "'%s': cannot subscribe locally: %s",
			       b->conf->name, floe_strerror(ret));
	return b->sub != NULL;
}

static void export_sample(struct gw_bridge *b, const floe_sample *s)
{
	floe_gw_Envelope env = {
		.type_size = b->type_size,
		.type_align = b->type_align,
		.gateway_id = b->ctx->gateway_id,
		.publisher_id = floe_sample_publisher_id(s),
		.seq = floe_sample_sequence(s),
	};
	uint64_t len = floe_sample_payload_size(s);
	dds_return_t rc;

	if (len > b->ctx->opts->max_payload || len > UINT32_MAX) {
		gw_log_limited(&b->write_log,
			       "'%s': a sample of %llu bytes exceeds "
			       "--max-payload: not exported", b->conf->name,
			       (unsigned long long)len);
		return;
	}
	snprintf(env.service, sizeof(env.service), "%s", b->conf->name);
	snprintf(env.type_name, sizeof(env.type_name), "%s", b->type_name);
	/* DDS serialises from these without writing to them */
	env.payload._buffer = (uint8_t *)floe_sample_payload(s);
	env.payload._length = env.payload._maximum = (uint32_t)len;
	if (b->user_header_size) {
		env.user_header._buffer =
			(uint8_t *)floe_sample_user_header(s);
		env.user_header._length = env.user_header._maximum =
			b->user_header_size;
	}
	rc = dds_write(b->writer, &env);
	if (rc < 0)
		gw_log_limited(&b->write_log,
			       "'%s': sample %llu not sent to DDS: %s",
			       b->conf->name, (unsigned long long)env.seq,
			       dds_strretcode(rc));
}

int gw_bridge_export(struct gw_bridge *b)
{
	int n = 0;

	if (!ensure_subscriber(b))
		return 0;
	while (n < EXPORT_BATCH) {
		const floe_sample *s;
		int got = floe_subscriber_receive(b->sub, &s);

		if (got <= 0)
			break;
		if (!from_gateway(b, floe_sample_publisher_id(s)))
			export_sample(b, s);
		floe_sample_release(s);
		n++;
	}
	return n;
}

/* ---- import -------------------------------------------------------------- */

/* With b->lock held: the local service for @env, created if need be. */
static int attach_for(struct gw_bridge *b, const floe_gw_Envelope *env)
{
	struct floe_pubsub_qos qos = b->conf->qos;
	struct floe_service_opts opts = {
		.type = { env->type_name, env->type_size, env->type_align },
		.qos = &qos,
	};
	int ret = open_existing(b);

	if (ret != FLOE_E_NOT_FOUND)
		return ret;
	qos.user_header_size = env->user_header._length;
	ret = floe_service_create(b->ctx->node, b->conf->name, &opts,
				  &b->svc);
	if (ret == FLOE_E_EXISTS) /* a local process was faster */
		return open_existing(b);
	if (ret)
		return ret;
	snprintf(b->type_name, sizeof(b->type_name), "%s", env->type_name);
	b->type_size = env->type_size;
	b->type_align = env->type_align;
	b->user_header_size = qos.user_header_size;
	gw_log("'%s': created locally with type '%s' (size %llu, align %llu)",
	       b->conf->name, env->type_name,
	       (unsigned long long)env->type_size,
	       (unsigned long long)env->type_align);
	return 0;
}

/* Refuse an envelope whose type differs from the local service's: said
 * once per remote type, then counted with the other drops. */
static bool type_refused(struct gw_bridge *b, const floe_gw_Envelope *env)
{
	char remote[sizeof(b->refused)];

	if (!strcmp(env->type_name, b->type_name) &&
	    env->type_size == b->type_size &&
	    env->type_align == b->type_align &&
	    env->user_header._length == b->user_header_size)
		return false;
	snprintf(remote, sizeof(remote), "%s/%llu/%llu/%u", env->type_name,
		 (unsigned long long)env->type_size,
		 (unsigned long long)env->type_align,
		 env->user_header._length);
	if (strcmp(remote, b->refused) != 0) {
		memcpy(b->refused, remote, sizeof(remote));
		gw_log("'%s': refused: remote type '%s' (size %llu, align "
		       "%llu, user header %u) does not match the local "
		       "service's '%s' (size %llu, align %llu, user header "
		       "%u); its samples are dropped", b->conf->name,
		       env->type_name, (unsigned long long)env->type_size,
		       (unsigned long long)env->type_align,
		       env->user_header._length, b->type_name,
		       (unsigned long long)b->type_size,
		       (unsigned long long)b->type_align, b->user_header_size);
	} else {
		b->drop_log.suppressed++;
	}
	return true;
}

static int ensure_publisher(struct gw_bridge *b, uint64_t elements)
{
	struct floe_publisher_opts opts;
	int ret;

	if (b->pub)
		return 0;
	floe_publisher_opts_init(&opts);
	/* reliable end to end: wait for a local subscriber's room (this
	 * service's import thread alone waits); else newest wins */
	opts.unable_to_deliver = b->reliable ? FLOE_DELIVER_BLOCK :
					       FLOE_DELIVER_DISCARD;
	opts.allocation = FLOE_ALLOC_POWER_OF_TWO;
	opts.initial_max_slice_len = elements;
	opts.max_slice_len = b->ctx->opts->max_payload / b->type_size;
	ret = floe_publisher_create(b->svc, &opts, &b->pub);
	if (!ret)
		atomic_store(&b->pub_id, floe_publisher_id(b->pub));
	return ret;
}

static void import_envelope(void *arg, const floe_gw_Envelope *env)
{
	struct gw_bridge *b = arg;
	uint64_t elements;
	floe_sample_mut *m;
	char why[160];
	int ret;

	if (gw_envelope_check(env, b->conf->name, b->ctx->opts->max_payload,
			      why, sizeof(why))) {
		gw_log_limited(&b->drop_log, "'%s': dropped an envelope: %s",
			       b->conf->name, why);
		return;
	}
	if (env->gateway_id == b->ctx->gateway_id ||
	    !gw_seen_is_new(&b->seen, env->gateway_id, env->publisher_id,
			    env->seq))
		return;
	pthread_mutex_lock(&b->lock);
	ret = attach_for(b, env);
	pthread_mutex_unlock(&b->lock);
	if (ret) {
		gw_log_limited(&b->drop_log,
			       "'%s': cannot open or create locally: %s",
			       b->conf->name, floe_strerror(ret));
		return;
	}
	if (type_refused(b, env))
		return;
	elements = env->payload._length / env->type_size;
	ret = ensure_publisher(b, elements);
	if (!ret)
		ret = floe_publisher_loan(b->pub, elements, &m);
	if (ret) {
		gw_log_limited(&b->drop_log,
			       "'%s': sample %llu of publisher %llu "
			       "dropped: %s", b->conf->name,
			       (unsigned long long)env->seq,
			       (unsigned long long)env->publisher_id,
			       floe_strerror(ret));
		return;
	}
	memcpy(floe_sample_mut_payload(m), env->payload._buffer,
	       env->payload._length);
	if (b->user_header_size)
		memcpy(floe_sample_mut_user_header(m),
		       env->user_header._buffer, b->user_header_size);
	floe_sample_mut_send(m);
}

int gw_bridge_import(struct gw_bridge *b)
{
	return gw_take_each(b->reader, import_envelope, b);
}

void gw_bridge_idle(struct gw_bridge *b)
{
	if (b->pub)
		floe_publisher_update_connections(b->pub);
}
