// SPDX-License-Identifier: MIT
/*
 * The C examples' payload types (transmission_data.h,
 * request_response_data.h) for the C++ examples: the same type names,
 * layouts and service names, so C, C++ and Python processes share the
 * services (floe checks name, size and alignment when they open them).
 */
#ifndef FLOE_EXAMPLE_TRANSMISSION_DATA_HPP
#define FLOE_EXAMPLE_TRANSMISSION_DATA_HPP

#include <cstdint>

#include <floe.hpp>

struct transmission_data {
	std::int32_t x;
	std::int32_t y;
	double funky;
};

struct stream_request {
	std::uint64_t number;    // the client's request counter
	std::uint64_t responses; // length of the stream asked for
};

inline const char *const example_service_name = "My/Funk/ServiceName";
inline const char *const rr_service_name = "My/Funk/RequestResponse";

inline const floe::service_config transmission_config{
	"TransmissionData", {}, {}, 0
};
inline const floe::rr_config stream_config{
	"StreamRequest", "TransmissionData", {}, {}, 0
};

#endif
