// SPDX-License-Identifier: MIT
/*
 * The C++ end of the Python -> C++ NumPy test (bindings/python/tests/
 * test_cross.py): creates SERVICE for slices of "u64" with the smallest
 * QoS (one publisher, one subscriber, one sample in flight: a 64 MiB
 * array then needs a few chunks, not dozens), says "ready", waits up to
 * 60 s for one sample of ELEMENTS elements and checks every one of them,
 * in place: element i == i * 0x9E3779B97F4A7C15 (mod 2^64), so every byte
 * matters. Prints "verified N bytes"; exit status 0 only then.
 *
 *   array_receiver SERVICE ELEMENTS
 */
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include <floe.hpp>

int main(int argc, char **argv)
{
	if (argc != 3) {
		std::fprintf(stderr, "usage: array_receiver SERVICE ELEMENTS\n");
		return 2;
	}
	std::uint64_t elements = std::strtoull(argv[2], nullptr, 0);
	floe_pubsub_qos qos;

	floe_pubsub_qos_init(&qos);
	qos.max_publishers = 1;
	qos.max_subscribers = 1;
	qos.subscriber_max_buffer_size = 1;
	qos.subscriber_max_borrowed_samples = 1;
	qos.publisher_max_loaned_samples = 1;
	qos.history_size = 0;
	try {
		floe::node node("array_receiver");
		floe::service<std::uint64_t> svc(node, argv[1],
						 { "u64", qos, {}, 0 },
						 floe::mode::create);
		floe::subscriber<std::uint64_t> sub(svc);
		auto deadline = std::chrono::steady_clock::now() +
				std::chrono::seconds(60);

		std::printf("ready\n");
		std::fflush(stdout);
		while (std::chrono::steady_clock::now() < deadline) {
			auto s = sub.receive();
			if (!s) {
				std::this_thread::sleep_for(
					std::chrono::milliseconds(5));
				continue;
			}
			auto values = s->slice();
			if (values.size() != elements) {
				std::printf("got %zu elements, not %llu\n",
					    values.size(),
					    (unsigned long long)elements);
				return 1;
			}
			for (std::uint64_t i = 0; i < elements; i++)
				if (values[i] != i * 0x9E3779B97F4A7C15ull) {
					std::printf("element %llu differs\n",
						    (unsigned long long)i);
					return 1;
				}
			std::printf("verified %llu bytes\n",
				    (unsigned long long)s->payload_size());
			return 0;
		}
		std::printf("timed out\n");
	} catch (const floe::error &e) {
		std::fprintf(stderr, "array_receiver: %s\n", e.what());
	}
	return 1;
}
