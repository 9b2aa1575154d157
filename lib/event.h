/* SPDX-License-Identifier: MIT */
/*
 * Events, inside: what the service side and notifiers (lib/event.c) and
 * the listeners (lib/event_listener.c) share. The protocol is described
 * at the top of lib/event.c.
 */
#ifndef FLOE_EVENT_H
#define FLOE_EVENT_H

#include "internal.h"

/** Cell of listener slot @j (< max_listeners; the layout was validated
 * against the mapping's size when the service was attached). */
struct floe_event_cell *floe_event_cell(floe_service *svc, uint32_t j);

static inline _Atomic uint64_t *floe_event_bits(struct floe_event_cell *cell)
{
	return (_Atomic uint64_t *)(cell + 1);
}

/** Words of event bits per cell. */
uint32_t floe_event_words(const struct floe_shm_qos *q);
#endif
