// SPDX-License-Identifier: MIT
/* The layout every pattern shares: header, slots, data segments. */
#include "layout.h"

#include "base/bounds.h"

bool floe_slot_counts_valid(const uint32_t counts[FLOE_SLOT_KINDS])
{
	return counts[FLOE_SLOT_NODE] &&
	       counts[FLOE_SLOT_NODE] <= FLOE_LIMIT_NODES &&
	       counts[FLOE_SLOT_SOURCE] &&
	       counts[FLOE_SLOT_SOURCE] <= FLOE_LIMIT_PORTS &&
	       counts[FLOE_SLOT_SINK] && counts[FLOE_SLOT_SINK] <= FLOE_LIMIT_PORTS;
}

uint64_t floe_slots_layout(const uint32_t counts[FLOE_SLOT_KINDS],
			   struct floe_svc_layout *l)
{
	uint64_t off = floe_align_up(sizeof(struct floe_svc_header),
				     FLOE_CACHELINE);

	for (int k = 0; k < FLOE_SLOT_KINDS; k++) {
		l->slots[k] = counts[k];
		l->slots_off[k] = off;
		off += floe_align_up((uint64_t)counts[k] *
					     sizeof(struct floe_slot),
				     FLOE_CACHELINE);
	}
	l->stats_off[FLOE_SLOT_NODE] = 0;
	for (int k = FLOE_SLOT_SOURCE; k < FLOE_SLOT_KINDS; k++) {
		l->stats_off[k] = off;
		off += (uint64_t)counts[k] * sizeof(struct floe_port_stats);
	}
	l->body_off = off;
	return off;
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

uint64_t floe_data_bytes(uint64_t stride, uint32_t chunk_count)
{
	return floe_add_sat(floe_data_chunks_offset(),
			    floe_mul_sat(stride, chunk_count));
}
