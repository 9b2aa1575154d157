/* SPDX-License-Identifier: MIT */
/*
 * Shared by the pubsub_user_header_* examples: a user header travels in
 * front of every payload (here a stamp and where the sample came from).
 * The service is created with its size (qos.user_header_size), and every
 * opener must ask for that very size.
 */
#ifndef FLOE_EXAMPLE_USER_HEADER_DATA_H
#define FLOE_EXAMPLE_USER_HEADER_DATA_H

#include <stdint.h>

#include "floe.h"

struct custom_header {
	uint64_t stamp_ns; /* when the sample was written */
	uint32_t version;
	uint32_t origin;
};

/* the payload: a counter */
#define COUNTER_TYPE                                                        \
	((struct floe_type){ .name = "u64", .size = sizeof(uint64_t),       \
			     .align = _Alignof(uint64_t) })

#define USER_HEADER_SERVICE_NAME "My/Funk/WithHeader"

/* Open or create the service, with the header's size in its QoS. */
static inline int user_header_service(floe_node *node, floe_service **out)
{
	struct floe_pubsub_qos qos;
	struct floe_service_opts opts = { .type = COUNTER_TYPE, .qos = &qos };

	floe_pubsub_qos_init(&qos);
	qos.user_header_size = sizeof(struct custom_header);
	return floe_service_open_or_create(node, USER_HEADER_SERVICE_NAME,
					   &opts, out);
}

#endif
