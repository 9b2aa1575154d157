// SPDX-License-Identifier: MIT
/*
 * floe QoS to DDS QoS. Both gateways of a topic derive it the same way
 * from the service's QoS, so their readers and writers match:
 *   history_size > 0      -> TRANSIENT_LOCAL durability: a gateway that
 *                            joins late gets the last samples, as a late
 *                            floe subscriber does
 *   enable_safe_overflow  -> BEST_EFFORT: newest wins, nothing waits
 *   otherwise (publishers  -> RELIABLE, flow-controlled: lost fragments
 *   discard or block)        are resent, a reader that falls behind
 *                            holds its writers back (a write waits at
 *                            most max_blocking_time): KEEP_ALL (a history
 *                            service's writer: KEEP_LAST depth, what late
 *                            joiners get), readers KEEP_ALL within
 *                            resource limits
 *   depth                 -> KEEP_LAST max(history_size,
 *                            subscriber_max_buffer_size, 1)
 */
#include "gateway.h"

/* How long a reliable write may wait for a slow or vanished reader
 * before the gateway drops that sample: it must keep draining its local
 * subscribers so that local publishers never wait for the network. */
#define GW_MAX_BLOCKING_MS 100
/* What a reliable reader holds before it pushes back: this many bytes
 * of samples of the largest size, at least 4 samples and at most 64. */
#define GW_READER_BYTES (1ull << 30)
#define GW_READER_SAMPLES_MIN 4
#define GW_READER_SAMPLES_MAX 64

void gw_qos_map(const struct floe_pubsub_qos *qos, uint64_t max_payload,
		struct gw_dds_qos *out)
{
	uint64_t held = GW_READER_BYTES / max_payload;
	uint32_t depth = qos->history_size;

	if (qos->subscriber_max_buffer_size > depth)
		depth = qos->subscriber_max_buffer_size;
	out->reliable = !qos->enable_safe_overflow;
	out->transient_local = qos->history_size > 0;
	out->writer_keep_all = out->reliable && !out->transient_local;
	out->depth = depth ? (int32_t)(depth > INT32_MAX ? INT32_MAX : depth)
			   : 1;
	held = held < GW_READER_SAMPLES_MIN ? GW_READER_SAMPLES_MIN :
	       held > GW_READER_SAMPLES_MAX ? GW_READER_SAMPLES_MAX : held;
	out->reader_samples = (int32_t)held > out->depth ? (int32_t)held :
							   out->depth;
}

dds_qos_t *gw_qos_create(const struct gw_dds_qos *map, bool reader)
{
	dds_qos_t *q = dds_create_qos();
	bool keep_all = map->reliable && (reader || map->writer_keep_all);

	dds_qset_reliability(q, map->reliable ? DDS_RELIABILITY_RELIABLE :
						DDS_RELIABILITY_BEST_EFFORT,
			     DDS_MSECS(GW_MAX_BLOCKING_MS));
	dds_qset_durability(q, map->transient_local ?
				       DDS_DURABILITY_TRANSIENT_LOCAL :
				       DDS_DURABILITY_VOLATILE);
	/* what a late joiner gets: the whole depth (Cyclone keeps one
	 * sample by default) */
	if (map->transient_local)
		dds_qset_durability_service(q, 0, DDS_HISTORY_KEEP_LAST,
					    map->depth, DDS_LENGTH_UNLIMITED,
					    DDS_LENGTH_UNLIMITED,
					    DDS_LENGTH_UNLIMITED);
	dds_qset_history(q, keep_all ? DDS_HISTORY_KEEP_ALL :
				       DDS_HISTORY_KEEP_LAST, map->depth);
	/* what a reader holds before it stops acknowledging (the writer
	 * then resends): bounded, as samples may be large */
	if (reader && keep_all)
		dds_qset_resource_limits(q, map->reader_samples,
					 DDS_LENGTH_UNLIMITED,
					 DDS_LENGTH_UNLIMITED);
	/* a gateway never reads what it wrote itself */
	dds_qset_ignorelocal(q, DDS_IGNORELOCAL_PARTICIPANT);
	return q;
}

