/* SPDX-License-Identifier: MIT */
/*
 * The payload type shared by the pubsub_publisher and pubsub_subscriber
 * examples. Both sides describe it to floe with the same name, size and
 * alignment; a process that disagrees cannot open the service.
 */
#ifndef FLOE_EXAMPLE_TRANSMISSION_DATA_H
#define FLOE_EXAMPLE_TRANSMISSION_DATA_H

#include <stdint.h>

#include "floe.h"

struct transmission_data {
	int32_t x;
	int32_t y;
	double funky;
};

#define TRANSMISSION_DATA_TYPE                                              \
	((struct floe_type){                                                \
		.name = "TransmissionData",                                 \
		.size = sizeof(struct transmission_data),                   \
		.align = _Alignof(struct transmission_data),                \
	})

#define EXAMPLE_SERVICE_NAME "My/Funk/ServiceName"

#endif
