// SPDX-License-Identifier: MIT
/*
 * Request-response in C++: the server of the C examples' service, for
 * clients in any language. Answers each StreamRequest with the stream of
 * TransmissionData it asks for { x: number, y: i, funky: number * 1.5 + i },
 * then ends the stream. Exits after sending COUNT responses (default 10),
 * or after 10 + COUNT / 10 seconds; exit status 0 only if it sent them.
 *
 *   cxx_request_response_server [COUNT]
 */
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "transmission_data.hpp"

int main(int argc, char **argv)
{
	int count = argc > 1 ? std::atoi(argv[1]) : 10;
	int sent = 0;
	auto deadline = std::chrono::steady_clock::now() +
			std::chrono::seconds(10 + count / 10);
	floe_server_opts opts{};

	opts.backpressure = FLOE_DELIVER_BLOCK; // wait for a slow client
	try {
		floe::node node("cxx_request_response_server");
		floe::rr_service<stream_request, transmission_data> svc(
			node, rr_service_name, stream_config);
		floe::server<stream_request, transmission_data> server(svc, &opts);

		std::printf("server ready: answering on %s\n", rr_service_name);
		std::fflush(stdout);
		while (sent < count &&
		       std::chrono::steady_clock::now() < deadline) {
			auto request = server.receive();
			if (!request) {
				std::this_thread::sleep_for(
					std::chrono::milliseconds(10));
				continue;
			}
			const stream_request &req = **request;
			std::printf("request %llu: %llu responses\n",
				    (unsigned long long)req.number,
				    (unsigned long long)req.responses);
			std::fflush(stdout);
			for (std::uint64_t i = 0; i < req.responses; i++) {
				auto response = request->loan();
				*response = transmission_data{
					(std::int32_t)req.number, (std::int32_t)i,
					req.number * 1.5 + (double)i
				};
				sent += response.send();
			}
			// `request` goes here: the stream ends after its responses
		}
	} catch (const floe::error &e) {
		std::fprintf(stderr, "cxx_request_response_server: %s\n",
			     e.what());
		return 1;
	}
	std::printf("sent %d of %d responses\n", sent, count);
	return sent >= count ? 0 : 1;
}
