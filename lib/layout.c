// SPDX-License-Identifier: MIT
#include "layout.h"

#include <string.h>

#include "base/bounds.h"

/* Node and port slots: the same for every pattern. Returns their end. */
static uint64_t slots_layout(const struct floe_shm_qos *q,
			     struct floe_svc_layout *l)
{
	uint64_t off = floe_align_up(sizeof(struct floe_svc_header),
				     FLOE_CACHELINE);

	l->nodes_off = off;
	off += floe_align_up((uint64_t)q->max_nodes * sizeof(struct floe_slot),
			     FLOE_CACHELINE);
	l->pubs_off = off;
	off += floe_align_up((uint64_t)q->max_publishers *
				     sizeof(struct floe_slot),
			     FLOE_CACHELINE);
	l->subs_off = off;
	off += floe_align_up((uint64_t)q->max_subscribers *
				     sizeof(struct floe_slot),
			     FLOE_CACHELINE);
	return off;
}

static int pubsub_layout(const struct floe_shm_qos *q,
			 struct floe_svc_layout *l)
{
	uint64_t chunks;

	if (!q->buffer || q->buffer > FLOE_LIMIT_QUEUE || !q->borrowed ||
	    q->borrowed > FLOE_LIMIT_QUEUE || q->history > q->buffer ||
	    !q->loans || q->loans > FLOE_LIMIT_QUEUE ||
	    q->user_header_size > FLOE_LIMIT_USER_HEADER || q->safe_overflow > 1)
		return FLOE_E_INVALID;
	/* Every chunk a publisher can have outstanding at once: queued or
	 * held by each subscriber (plus one in transit back), history, loans,
	 * and one spare. */
	chunks = (uint64_t)q->max_subscribers * (q->buffer + q->borrowed + 1) +
		 q->history + q->loans + 1;
	if (chunks > FLOE_LIMIT_CHUNKS)
		return FLOE_E_INVALID;
	l->chunk_count = (uint32_t)chunks;
	l->sub_cap = q->buffer;
	l->comp_cap = l->chunk_count;
	l->conns_off = slots_layout(q, l);
	l->sub_ring_off = sizeof(struct floe_conn);
	l->comp_ring_off = l->sub_ring_off + floe_ring_bytes(l->sub_cap);
	l->conn_stride = l->comp_ring_off + floe_ring_bytes(l->comp_cap);
	l->size = l->conns_off + (uint64_t)q->max_publishers *
					 q->max_subscribers * l->conn_stride;
	return 0;
}

static int event_layout(const struct floe_shm_qos *q,
			struct floe_svc_layout *l)
{
	if (q->event_id_max > FLOE_LIMIT_EVENT_ID)
		return FLOE_E_INVALID;
	l->conns_off = slots_layout(q, l);
	l->conn_stride = floe_align_up(
		sizeof(struct floe_event_cell) +
			((uint64_t)q->event_id_max / 64 + 1) * sizeof(uint64_t),
		FLOE_CACHELINE);
	l->size = l->conns_off + (uint64_t)q->max_subscribers * l->conn_stride;
	return 0;
}

static int blackboard_layout(const struct floe_shm_qos *q,
			     struct floe_svc_layout *l)
{
	if (!q->bb_entries || q->bb_entries > FLOE_LIMIT_BB_ENTRIES ||
	    !q->bb_value_bytes || q->bb_value_bytes > FLOE_LIMIT_BB_VALUE_BYTES)
		return FLOE_E_INVALID;
	l->conns_off = slots_layout(q, l);
	l->conn_stride = sizeof(struct floe_bb_desc);
	l->bb_cells_off = floe_align_up(l->conns_off + (uint64_t)q->bb_entries *
							       l->conn_stride,
					FLOE_CACHELINE);
	/* page-aligned, so that any alignment up to 4096 can be honoured */
	l->bb_values_off = floe_align_up(l->bb_cells_off +
						 (uint64_t)q->bb_entries *
							 sizeof(struct floe_bb_cell),
					 4096);
	l->size = l->bb_values_off + q->bb_value_bytes;
	return 0;
}

/*
 * One direction of a request-response service: a publish-subscribe layout
 * of @vq whose connections start at @conns_off and whose submission rings
 * hold @extra entries beyond the data limit (the end-of-stream markers).
 */
static int rr_direction(const struct floe_shm_qos *vq, uint32_t extra,
			uint64_t conns_off, struct floe_svc_layout *l)
{
	int ret = pubsub_layout(vq, l);

	if (ret)
		return ret;
	l->sub_cap += extra;
	l->comp_ring_off = l->sub_ring_off + floe_ring_bytes(l->sub_cap);
	l->conn_stride = l->comp_ring_off + floe_ring_bytes(l->comp_cap);
	l->conns_off = conns_off;
	l->size = conns_off + (uint64_t)vq->max_publishers *
				      vq->max_subscribers * l->conn_stride;
	return 0;
}

int floe_rr_layout(const struct floe_shm_qos *q, struct floe_rr_layout *rr)
{
	struct floe_svc_layout base;
	uint32_t active = q->borrowed;
	int ret;

	memset(rr, 0, sizeof(*rr));
	if (!active || active > FLOE_LIMIT_QUEUE || !q->buffer ||
	    q->buffer > FLOE_LIMIT_QUEUE || !q->loans ||
	    q->loans > FLOE_LIMIT_QUEUE || !q->history ||
	    q->history > FLOE_LIMIT_QUEUE || q->event_id_max > 1 ||
	    q->user_header_size || q->safe_overflow)
		return FLOE_E_INVALID;
	/* requests: a server holds at most a client's active requests */
	rr->req_qos = (struct floe_shm_qos){
		.max_publishers = q->max_publishers,
		.max_subscribers = q->max_subscribers,
		.max_nodes = q->max_nodes,
		.buffer = active,
		.borrowed = active,
		.loans = q->loans,
		/* so that dead clients' and servers' data is unlinked */
		.pattern = FLOE_PATTERN_REQUEST_RESPONSE,
	};
	/* responses: a client may hold a full buffer per active request */
	rr->resp_qos = (struct floe_shm_qos){
		.max_publishers = q->max_subscribers,
		.max_subscribers = q->max_publishers,
		.max_nodes = q->max_nodes,
		.buffer = q->buffer,
		.borrowed = floe_mul_sat(active, q->buffer) > FLOE_LIMIT_QUEUE
				    ? FLOE_LIMIT_QUEUE
				    : active * q->buffer,
		.loans = q->history,
		.pattern = FLOE_PATTERN_REQUEST_RESPONSE,
	};
	slots_layout(q, &base);
	ret = rr_direction(&rr->req_qos, 0, slots_layout(q, &base), &rr->req);
	if (!ret)
		ret = rr_direction(&rr->resp_qos, active, rr->req.size,
				   &rr->resp);
	if (ret)
		return ret;
	rr->req.nodes_off = rr->resp.nodes_off = base.nodes_off;
	rr->req.pubs_off = rr->resp.subs_off = base.pubs_off;
	rr->req.subs_off = rr->resp.pubs_off = base.subs_off;
	rr->channels_off = rr->resp.size;
	return 0;
}

static int rr_layout(const struct floe_shm_qos *q, struct floe_svc_layout *l)
{
	struct floe_rr_layout rr;
	int ret = floe_rr_layout(q, &rr);

	if (ret)
		return ret;
	l->conns_off = slots_layout(q, l);
	l->size = rr.channels_off + (uint64_t)q->max_publishers * q->borrowed *
					    sizeof(uint64_t);
	return 0;
}

int floe_svc_layout(const struct floe_shm_qos *q, struct floe_svc_layout *l)
{
	memset(l, 0, sizeof(*l));
	if (!q->max_publishers || q->max_publishers > FLOE_LIMIT_PORTS ||
	    !q->max_subscribers || q->max_subscribers > FLOE_LIMIT_PORTS ||
	    !q->max_nodes || q->max_nodes > FLOE_LIMIT_NODES)
		return FLOE_E_INVALID;
	switch (q->pattern) {
	case FLOE_PATTERN_PUBSUB:
		return pubsub_layout(q, l);
	case FLOE_PATTERN_EVENT:
		return event_layout(q, l);
	case FLOE_PATTERN_REQUEST_RESPONSE:
		return rr_layout(q, l);
	case FLOE_PATTERN_BLACKBOARD:
		return blackboard_layout(q, l);
	default:
		return FLOE_E_INVALID;
	}
}

uint64_t floe_chunk_payload_offset(uint32_t user_header_size, uint64_t align)
{
	return floe_align_up(sizeof(struct floe_chunk_header) + user_header_size,
			     align);
}

uint64_t floe_chunk_stride(uint64_t payload_offset, uint64_t max_len,
			   uint64_t type_size, uint64_t align)
{
	uint64_t bytes = floe_add_sat(payload_offset,
				      floe_mul_sat(max_len, type_size));

	if (align < FLOE_CACHELINE)
		align = FLOE_CACHELINE;
	return bytes > UINT64_MAX - align ? UINT64_MAX
					  : floe_align_up(bytes, align);
}

uint64_t floe_data_chunks_offset(void)
{
	return 4096;
}

uint64_t floe_data_bytes(uint64_t stride, uint32_t chunk_count)
{
	return floe_add_sat(floe_data_chunks_offset(),
			    floe_mul_sat(stride, chunk_count));
}
