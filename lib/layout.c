// SPDX-License-Identifier: MIT
#include "layout.h"

#include "base/bounds.h"

int floe_svc_layout(const struct floe_shm_qos *q, struct floe_svc_layout *l)
{
	uint64_t off;

	if (!q->max_publishers || q->max_publishers > FLOE_LIMIT_PORTS ||
	    !q->max_subscribers || q->max_subscribers > FLOE_LIMIT_PORTS ||
	    !q->max_nodes || q->max_nodes > FLOE_LIMIT_NODES || !q->buffer ||
	    q->buffer > FLOE_LIMIT_QUEUE || !q->borrowed ||
	    q->borrowed > FLOE_LIMIT_QUEUE || q->history > q->buffer ||
	    !q->loans || q->loans > FLOE_LIMIT_QUEUE ||
	    q->user_header_size > FLOE_LIMIT_USER_HEADER || q->safe_overflow > 1)
		return FLOE_E_INVALID;
	/* Every chunk a publisher can have outstanding at once: queued or
	 * held by each subscriber (plus one in transit back), history, loans,
	 * and one spare. */
	off = (uint64_t)q->max_subscribers * (q->buffer + q->borrowed + 1) +
	      q->history + q->loans + 1;
	if (off > FLOE_LIMIT_CHUNKS)
		return FLOE_E_INVALID;
	l->chunk_count = (uint32_t)off;
	l->sub_cap = q->buffer;
	l->comp_cap = l->chunk_count;

	off = floe_align_up(sizeof(struct floe_svc_header), FLOE_CACHELINE);
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
	l->conns_off = off;
	l->sub_ring_off = sizeof(struct floe_conn);
	l->comp_ring_off = l->sub_ring_off + floe_ring_bytes(l->sub_cap);
	l->conn_stride = l->comp_ring_off + floe_ring_bytes(l->comp_cap);
	l->size = off + (uint64_t)q->max_publishers * q->max_subscribers *
				l->conn_stride;
	return 0;
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
