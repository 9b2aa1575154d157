/* SPDX-License-Identifier: MIT */
/*
 * The types of the request_response_client and request_response_server
 * examples: a request asks for a short stream of TransmissionData.
 */
#ifndef FLOE_EXAMPLE_REQUEST_RESPONSE_DATA_H
#define FLOE_EXAMPLE_REQUEST_RESPONSE_DATA_H

#include <stdint.h>

#include "floe.h"
#include "transmission_data.h"

struct stream_request {
	uint64_t number;    /* the client's request counter */
	uint64_t responses; /* length of the stream asked for */
};

#define RR_SERVICE_NAME "My/Funk/RequestResponse"

static inline struct floe_rr_opts rr_example_opts(void)
{
	struct floe_rr_opts opts = {
		.request_type = { .name = "StreamRequest",
				  .size = sizeof(struct stream_request),
				  .align = _Alignof(struct stream_request) },
		.response_type = TRANSMISSION_DATA_TYPE,
	};

	return opts;
}

#endif
