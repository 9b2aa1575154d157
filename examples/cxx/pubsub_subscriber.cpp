// SPDX-License-Identifier: MIT
/*
 * Publish-subscribe in C++: receives COUNT TransmissionData samples
 * (default 10) from any publisher (C, C++, Python), or gives up after
 * 10 + COUNT / 10 seconds. Exit status 0 only if all came.
 *
 *   cxx_pubsub_subscriber [COUNT]
 */
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "transmission_data.hpp"

int main(int argc, char **argv)
{
	int count = argc > 1 ? std::atoi(argv[1]) : 10;
	int received = 0;
	auto deadline = std::chrono::steady_clock::now() +
			std::chrono::seconds(10 + count / 10);

	try {
		floe::node node("cxx_pubsub_subscriber");
		floe::service<transmission_data> svc(node, example_service_name,
						     transmission_config);
		floe::subscriber<transmission_data> sub(svc);

		std::printf("subscriber ready: waiting for %d samples\n", count);
		std::fflush(stdout);
		while (received < count &&
		       std::chrono::steady_clock::now() < deadline) {
			auto sample = sub.receive();
			if (!sample) {
				std::this_thread::sleep_for(
					std::chrono::milliseconds(10));
				continue;
			}
			// read in place; released when `sample` goes
			std::printf("received: TransmissionData { x: %d, y: %d, "
				    "funky: %.2f } (sequence %llu)\n",
				    (*sample)->x, (*sample)->y, (*sample)->funky,
				    (unsigned long long)sample->sequence());
			std::fflush(stdout);
			received++;
		}
	} catch (const floe::error &e) {
		std::fprintf(stderr, "cxx_pubsub_subscriber: %s\n", e.what());
		return 1;
	}
	std::printf("received %d of %d samples\n", received, count);
	return received == count ? 0 : 1;
}
