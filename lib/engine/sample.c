// SPDX-License-Identifier: MIT
/* A received sample's accessors. */
#include "engine/receiver.h"

FLOE_EXPORT const void *floe_sample_payload(const floe_sample *s)
{
	return s->payload;
}

FLOE_EXPORT uint64_t floe_sample_payload_size(const floe_sample *s)
{
	return s->len * s->rx->dir->type_size;
}

FLOE_EXPORT uint64_t floe_sample_len(const floe_sample *s)
{
	return s->len;
}

FLOE_EXPORT const void *floe_sample_user_header(const floe_sample *s)
{
	return floe_dir_user_header(s->rx->dir, s->payload);
}

FLOE_EXPORT uint64_t floe_sample_publisher_id(const floe_sample *s)
{
	return s->src->pub_id;
}

FLOE_EXPORT uint64_t floe_sample_sequence(const floe_sample *s)
{
	return s->sequence;
}

uint64_t floe_sample_tag(const floe_sample *s)
{
	return s->tag;
}

uint32_t floe_sample_sender_slot(const floe_sample *s)
{
	return s->src->pub_slot;
}

bool floe_sample_unwanted(const floe_sample *s)
{
	const struct floe_chunk_header *ch =
		(const void *)((const char *)s->payload -
			       s->rx->dir->payload_offset);

	return __atomic_load_n(&ch->unwanted, __ATOMIC_RELAXED);
}
