// SPDX-License-Identifier: MIT
/*
 * Publish-subscribe in C++: sends COUNT TransmissionData samples (default
 * 10), 100 ms apart, on the C examples' service; any subscriber (C, C++,
 * Python) receives them.
 *
 *   cxx_pubsub_publisher [COUNT]
 */
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "transmission_data.hpp"

int main(int argc, char **argv)
{
	int count = argc > 1 ? std::atoi(argv[1]) : 10;

	try {
		floe::node node("cxx_pubsub_publisher");
		floe::service<transmission_data> svc(node, example_service_name,
						     transmission_config);
		floe::publisher<transmission_data> pub(svc);

		for (int i = 0; i < count; i++) {
			auto sample = pub.loan();
			// written in place, in shared memory
			*sample = transmission_data{ i, i * 3, i * 812.12 };
			int reached = sample.send();
			std::printf("sent sample %d to %d subscriber(s)\n", i,
				    reached);
			std::this_thread::sleep_for(std::chrono::milliseconds(100));
		}
	} catch (const floe::error &e) {
		std::fprintf(stderr, "cxx_pubsub_publisher: %s\n", e.what());
		return 1;
	}
	return 0;
}
