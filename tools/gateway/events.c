// SPDX-License-Identifier: MIT
/*
 * One event service bridged both ways (--events): an id a local notifier
 * fires travels as an envelope of type "floe.event" whose payload is the
 * id (8 bytes, little-endian), and is fired by the gateway's notifier on
 * the other side. A listener cannot tell who fired an id, so the importer
 * marks the ids it fires and the exporter skips them once: no echo. Ids
 * are merged by floe as they always are (an id a local process fires at
 * the very moment the gateway fires it for a remote one counts once).
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"

/* events queued per reader and writer: signals, not data */
#define EVENT_DEPTH 64

struct gw_event_bridge {
	struct gw_ctx *ctx;
	const char *name;
	char topic[GW_TOPIC_LEN];
	dds_entity_t writer, reader;
	floe_service *svc;
	floe_listener *listener;  /* exporter thread */
	floe_notifier *notifier;  /* importer thread */
	uint32_t id_max;
	atomic_uchar *fired_by_us; /* [id_max + 1] */
	uint64_t seq;
	struct gw_seen seen;
	struct gw_ratelimit log;
};

int gw_event_bridge_create(struct gw_ctx *ctx, const char *name,
			   struct gw_event_bridge **out)
{
	struct gw_event_bridge *e = calloc(1, sizeof(*e));
	struct gw_dds_qos map = {
		.reliable = true, .depth = EVENT_DEPTH,
		.reader_samples = EVENT_DEPTH,
	};
	struct floe_event_qos qos;
	int ret;

	if (!e)
		return -1;
	e->ctx = ctx;
	e->name = name;
	ret = floe_event_open_or_create(ctx->node, name, NULL, &e->svc);
	if (!ret)
		ret = floe_listener_create(e->svc, &e->listener);
	if (!ret)
		ret = floe_notifier_create(e->svc, &e->notifier);
	if (ret) {
		gw_log("event service '%s': %s", name, floe_strerror(ret));
		goto fail;
	}
	floe_event_qos(e->svc, &qos);
	e->id_max = qos.event_id_max;
	e->fired_by_us = calloc((size_t)e->id_max + 1, 1);
	if (!e->fired_by_us)
		goto fail;
	gw_topic_name(e->topic, ctx->opts->ros2 ? "rt/floe_event/" :
						"floe_event/", name);
	if (gw_dds_endpoints(ctx, e->topic, &map, &e->writer, &e->reader))
		goto fail;
	gw_log("bridging events of '%s' as DDS topic '%s'", name, e->topic);
	*out = e;
	return 0;
fail:
	gw_event_bridge_destroy(e);
	return -1;
}

void gw_event_bridge_destroy(struct gw_event_bridge *e)
{
	if (!e)
		return;
	/* first: the writer's listener refers to e->topic */
	if (e->writer > 0)
		dds_delete(e->writer);
	if (e->reader > 0)
		dds_delete(e->reader);
	floe_listener_destroy(e->listener);
	floe_notifier_destroy(e->notifier);
	floe_service_close(e->svc);
	free(e->fired_by_us);
	free(e);
}

dds_entity_t gw_event_reader(const struct gw_event_bridge *e)
{
	return e->reader;
}

static void export_id(uint64_t id, void *arg)
{
	struct gw_event_bridge *e = arg;
	uint64_t wire = htole64(id);
	floe_gw_Envelope env = {
		.type_size = sizeof(wire),
		.type_align = sizeof(wire),
		.gateway_id = e->ctx->gateway_id,
		.publisher_id = floe_notifier_id(e->notifier),
		.seq = e->seq++,
		.payload = { sizeof(wire), sizeof(wire), (uint8_t *)&wire,
			     false },
	};
	dds_return_t rc;

	if (id <= e->id_max && atomic_exchange(&e->fired_by_us[id], 0))
		return; /* the importer fired it: it came from DDS */
	snprintf(env.service, sizeof(env.service), "%s", e->name);
	snprintf(env.type_name, sizeof(env.type_name), GW_EVENT_TYPE);
	rc = dds_write(e->writer, &env);
	if (rc < 0)
		gw_log_limited(&e->log, "events of '%s': id %llu not sent: %s",
			       e->name, (unsigned long long)id,
			       dds_strretcode(rc));
}

int gw_event_export(struct gw_event_bridge *e)
{
	int n = floe_listener_try_wait(e->listener, export_id, e);

	return n > 0 ? n : 0;
}

static void import_event(void *arg, const floe_gw_Envelope *env)
{
	struct gw_event_bridge *e = arg;
	uint64_t id;
	char why[160];

	if (gw_envelope_check(env, e->name, sizeof(id), why, sizeof(why))) {
		gw_log_limited(&e->log,
			       "events of '%s': dropped an envelope: %s",
			       e->name, why);
		return;
	}
	if (strcmp(env->type_name, GW_EVENT_TYPE) != 0 ||
	    env->type_size != sizeof(id) ||
	    env->payload._length != sizeof(id)) {
		gw_log_limited(&e->log,
			       "events of '%s': dropped an envelope of type "
			       "'%s': not an event", e->name, env->type_name);
		return;
	}
	if (env->gateway_id == e->ctx->gateway_id ||
	    !gw_seen_is_new(&e->seen, env->gateway_id, env->publisher_id,
			    env->seq))
		return;
	memcpy(&id, env->payload._buffer, sizeof(id));
	id = le64toh(id);
	if (id > e->id_max) {
		gw_log_limited(&e->log,
			       "events of '%s': id %llu is beyond the local "
			       "service's %u: dropped", e->name,
			       (unsigned long long)id, e->id_max);
		return;
	}
	atomic_store(&e->fired_by_us[id], 1);
	floe_notifier_notify(e->notifier, id);
}

int gw_event_import(struct gw_event_bridge *e)
{
	return gw_take_each(e->reader, import_event, e);
}
