/* SPDX-License-Identifier: MIT */
/*
 * floe-gateway: floe publish-subscribe (and event) services bridged both
 * ways onto Eclipse Cyclone DDS topics. One thread exports (polls the
 * local subscribers and listeners, writes to DDS), one imports (sleeps
 * in a DDS waitset, publishes locally); a bridge's floe ports belong to
 * one of them each, as floe requires.
 */
#ifndef FLOE_GATEWAY_H
#define FLOE_GATEWAY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <dds/dds.h>

#include "envelope.h"
#include "floe.h"

/* The node name every gateway uses: how a gateway recognises samples
 * that another gateway on the same floe domain imported (never export
 * them: that would loop). */
#define GW_NODE_NAME "floe-gateway"
/* Type name, size and alignment of the envelopes on an event topic. */
#define GW_EVENT_TYPE "floe.event"
/* Default and hard upper bound of one sample's payload on the wire. */
#define GW_DEFAULT_MAX_PAYLOAD (16ull << 20)
#define GW_MAX_USER_HEADER 4096u
/* Publishers per bridge whose last sequence number is remembered. */
#define GW_SEEN_MAX 64
#define GW_TOPIC_LEN 1024

/* ---- decode.c: checks of what arrives from the network ---------------- */

/* The last sequence number seen per origin (gateway, publisher). */
struct gw_seen {
	struct {
		uint64_t gateway_id, publisher_id, seq;
	} entry[GW_SEEN_MAX];
	unsigned used, next_victim;
};

/*
 * Check an envelope received on the topic of @service: strings terminated
 * and valid, the type sane, the payload a non-zero multiple of the type's
 * size and at most @max_payload bytes, the user header at most
 * GW_MAX_USER_HEADER bytes, buffers present where lengths say so. Returns
 * 0, or -1 with the reason in @why.
 */
int gw_envelope_check(const floe_gw_Envelope *env, const char *service,
		      uint64_t max_payload, char *why, size_t why_len);
/* True (and remembered) if @seq is newer than anything seen from this
 * origin: DDS may repeat or, best-effort, reorder. */
bool gw_seen_is_new(struct gw_seen *seen, uint64_t gateway_id,
		    uint64_t publisher_id, uint64_t seq);
/* The DDS topic name of @service: @prefix then the name with the
 * characters DDS refuses in topic names written as _HH (hex). */
void gw_topic_name(char out[GW_TOPIC_LEN], const char *prefix,
		   const char *service);

/* ---- qos.c: floe QoS to DDS QoS ----------------------------------------- */

struct gw_dds_qos {
	bool reliable;        /* else best-effort */
	bool transient_local; /* else volatile */
	bool writer_keep_all; /* else keep last depth */
	int32_t depth;        /* keep-last depth */
	int32_t reader_samples; /* reliable readers' resource limit */
};

/* The documented mapping (docs/floe-gateway.1, QoS mapping), for
 * payloads of at most @max_payload bytes. */
void gw_qos_map(const struct floe_pubsub_qos *qos, uint64_t max_payload,
		struct gw_dds_qos *out);
/* The DDS QoS object of a mapping for a writer or a @reader
 * (dds_delete_qos it). */
dds_qos_t *gw_qos_create(const struct gw_dds_qos *map, bool reader);

/* ---- the gateway (dds.c: its DDS entities) ---------------------------- */

struct gw_service_conf {
	char *name;
	struct floe_pubsub_qos qos; /* creating the service locally */
};

struct gw_opts {
	const char *domain;
	char *owned_domain; /* the configuration file's */
	uint32_t dds_domain;
	bool ros2;
	bool events;
	uint64_t max_payload;
	struct gw_service_conf *services;
	size_t num_services;
};

/* Exit statuses (docs/floe-gateway.1). */
enum gw_exit {
	EXIT_OK = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_CONFIG = 5,
	EXIT_HELP = -1, /* gw_parse_args: --help printed */
};

/* options.c: the configuration file (--config), then the command line,
 * into @o (which starts with its defaults); an enum gw_exit. */
int gw_parse_args(int argc, char **argv, struct gw_opts *o);
void gw_opts_free(struct gw_opts *o);

struct gw_ctx {
	const struct gw_opts *opts;
	floe_node *node;
	dds_entity_t participant;
	uint64_t gateway_id;
	atomic_bool stop;
};

struct gw_bridge;
struct gw_event_bridge;

/* bridge.c: one publish-subscribe service. */
int gw_bridge_create(struct gw_ctx *ctx, const struct gw_service_conf *conf,
		     struct gw_bridge **out);
void gw_bridge_destroy(struct gw_bridge *b);
/* Exporter thread: forward what local publishers sent; returns how many. */
int gw_bridge_export(struct gw_bridge *b);
/* Importer thread: publish what arrived; returns how many. */
int gw_bridge_import(struct gw_bridge *b);
/* Importer thread, when idle: let late local subscribers connect. */
void gw_bridge_idle(struct gw_bridge *b);
dds_entity_t gw_bridge_reader(const struct gw_bridge *b);

/* events.c: one event service (--events). */
int gw_event_bridge_create(struct gw_ctx *ctx, const char *name,
			   struct gw_event_bridge **out);
void gw_event_bridge_destroy(struct gw_event_bridge *e);
int gw_event_export(struct gw_event_bridge *e);
int gw_event_import(struct gw_event_bridge *e);
dds_entity_t gw_event_reader(const struct gw_event_bridge *e);

/* Diagnostics on stderr; limited ones at most GW_LOG_BURST lines a
 * second per struct gw_ratelimit, the rest counted and reported. */
#define GW_LOG_BURST 20
struct gw_ratelimit {
	uint64_t window_ms;
	unsigned lines;
	uint64_t suppressed;
};
void gw_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void gw_log_limited(struct gw_ratelimit *rl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
uint64_t gw_now_ms(void);
/* A DDS reader and writer of envelopes on @topic_name with @map; the
 * name must live as long as they do (the writer's log lines use it). */
int gw_dds_endpoints(struct gw_ctx *ctx, const char *topic_name,
		     const struct gw_dds_qos *map, dds_entity_t *writer,
		     dds_entity_t *reader);
/* Take up to GW_TAKE_BATCH envelopes (so that no service starves the
 * others) and call @fn for each; returns how many were taken. */
#define GW_TAKE_BATCH 16
int gw_take_each(dds_entity_t reader,
		 void (*fn)(void *arg, const floe_gw_Envelope *env), void *arg);

#endif
