// SPDX-License-Identifier: MIT
/*
 * floe QoS to DDS QoS. Both gateways of a topic derive it the same way
 * from the service's QoS, so their readers and writers match:
 *   history_size > 0      -> TRANSIENT_LOCAL durability: a gateway that
 *                            joins late gets the last samples, as a late
 *                            floe subscriber does
 *   enable_safe_overflow  -> BEST_EFFORT: newest wins, nothing waits
 *   otherwise (publishers  -> RELIABLE (lost fragments are resent; a
 *   discard or block)        writer waits at most max_blocking_time)
 *   depth                 -> KEEP_LAST max(history_size,
 *                            subscriber_max_buffer_size, 1)
 */
#include "gateway.h"

/* How long a reliable write may wait for a slow or vanished reader
 * before the gateway drops that sample: it must keep draining its local
 * subscribers so that local publishers never wait for the network. */
#define GW_MAX_BLOCKING_MS 100

void gw_qos_map(const struct floe_pubsub_qos *qos, struct gw_dds_qos *out)
{
	uint32_t depth = qos->history_size;

	if (qos->subscriber_max_buffer_size > depth)
		depth = qos->subscriber_max_buffer_size;
	out->reliable = !qos->enable_safe_overflow;
	out->transient_local = qos->history_size > 0;
	out->depth = depth ? (int32_t)(depth > INT32_MAX ? INT32_MAX : depth)
			   : 1;
}

dds_qos_t *gw_qos_create(const struct gw_dds_qos *map)
{
	dds_qos_t *q = dds_create_qos();

	dds_qset_reliability(q, map->reliable ? DDS_RELIABILITY_RELIABLE :
						DDS_RELIABILITY_BEST_EFFORT,
			     DDS_MSECS(GW_MAX_BLOCKING_MS));
	dds_qset_durability(q, map->transient_local ?
				       DDS_DURABILITY_TRANSIENT_LOCAL :
				       DDS_DURABILITY_VOLATILE);
	dds_qset_history(q, DDS_HISTORY_KEEP_LAST, map->depth);
	/* a gateway never reads what it wrote itself */
	dds_qset_ignorelocal(q, DDS_IGNORELOCAL_PARTICIPANT);
	return q;
}

/* Said in the log: whether anything on the network listens (tests and
 * operators wait for this line). */
static void on_matched(dds_entity_t writer,
		       const dds_publication_matched_status_t status, void *arg)
{
	(void)writer;
	gw_log("topic '%s': %d DDS reader%s matched", (const char *)arg,
	       status.current_count, status.current_count == 1 ? "" : "s");
}

int gw_dds_endpoints(struct gw_ctx *ctx, const char *topic_name,
		     const struct gw_dds_qos *map, dds_entity_t *writer,
		     dds_entity_t *reader)
{
	dds_qos_t *q = gw_qos_create(map);
	dds_listener_t *l = dds_create_listener((void *)topic_name);
	dds_entity_t topic;
	int ret = 0;

	topic = dds_create_topic(ctx->participant, &floe_gw_Envelope_desc,
				 topic_name, q, NULL);
	if (topic < 0) {
		gw_log("topic '%s': %s", topic_name, dds_strretcode(topic));
		ret = -1;
		goto out;
	}
	dds_lset_publication_matched(l, on_matched);
	*writer = dds_create_writer(ctx->participant, topic, q, l);
	*reader = dds_create_reader(ctx->participant, topic, q, NULL);
	if (*writer < 0 || *reader < 0) {
		gw_log("topic '%s': creating the writer or reader: %s",
		       topic_name,
		       dds_strretcode(*writer < 0 ? *writer : *reader));
		ret = -1;
	}
out:
	dds_delete_listener(l);
	dds_delete_qos(q);
	return ret;
}
