// SPDX-License-Identifier: MIT
#include "pattern.h"

const struct floe_pattern *const floe_patterns[FLOE_PATTERNS] = {
	&floe_pubsub_pattern,
	&floe_event_pattern,
	&floe_rr_pattern,
	&floe_bb_pattern,
};

const struct floe_pattern *floe_pattern_of(uint32_t kind)
{
	for (size_t k = 0; k < FLOE_PATTERNS; k++)
		if (floe_patterns[k]->kind == kind)
			return floe_patterns[k];
	return NULL;
}
