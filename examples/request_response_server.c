// SPDX-License-Identifier: MIT
/*
 * Request-response with streaming: the server.
 *
 *   request_response_server [COUNT [TIMEOUT_S]]
 *
 * Answers every request on "My/Funk/RequestResponse" with the stream of
 * TransmissionData it asks for, then ends the stream by dropping the
 * active request. Exits once it sent COUNT responses (default 10), or
 * after TIMEOUT_S seconds (default 10 + COUNT / 10). Exit status 0 only
 * if it sent all COUNT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "floe.h"
#include "request_response_data.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int count = argc > 1 ? atoi(argv[1]) : 10;
	double timeout = argc > 2 ? atof(argv[2]) : 10 + count / 10.0;
	struct floe_rr_opts opts = rr_example_opts();
	/* a slow client makes us wait rather than lose responses */
	struct floe_server_opts server_opts = {
		.backpressure = FLOE_DELIVER_BLOCK,
	};
	struct timespec poll_interval = { .tv_nsec = 10 * 1000000 };
	floe_node *node;
	floe_service *service;
	floe_server *server;
	int sent = 0, err = 0;
	double deadline;

	err = floe_node_create("request_response_server", NULL, &node);
	if (err) {
		fprintf(stderr, "node: %s\n", floe_strerror(err));
		return 1;
	}
	err = floe_rr_open_or_create(node, RR_SERVICE_NAME, &opts, &service);
	if (err) {
		fprintf(stderr, "service: %s\n", floe_strerror(err));
		floe_node_destroy(node);
		return 1;
	}
	err = floe_server_create(service, &server_opts, &server);
	if (err) {
		fprintf(stderr, "server: %s\n", floe_strerror(err));
		floe_service_close(service);
		floe_node_destroy(node);
		return 1;
	}
	printf("server ready: answering on %s\n", RR_SERVICE_NAME);
	fflush(stdout);

	deadline = now_s() + timeout;
	while (sent < count && now_s() < deadline) {
		floe_active_request *request;
		struct stream_request req;

		err = floe_server_receive(server, &request);
		if (err < 0) {
			fprintf(stderr, "receive: %s\n", floe_strerror(err));
			break;
		}
		if (err == 0) {
			nanosleep(&poll_interval, NULL);
			continue;
		}
		/* Read in place, in the client's memory. */
		req = *(const struct stream_request *)
			      floe_active_request_payload(request);
		printf("request %llu: %llu responses\n",
		       (unsigned long long)req.number,
		       (unsigned long long)req.responses);
		for (uint64_t i = 0; i < req.responses; i++) {
			floe_response_mut *response;
			struct transmission_data *data;

			err = floe_active_request_loan(request, 1, &response);
			if (err) {
				fprintf(stderr, "loan: %s\n", floe_strerror(err));
				break;
			}
			/* Written in place, in our own memory. */
			data = floe_response_mut_payload(response);
			data->x = (int32_t)req.number;
			data->y = (int32_t)i;
			data->funky = req.number * 1.5 + i;
			if (floe_response_mut_send(response) == 1)
				sent++;
		}
		/* Ends the stream: the client sees it after the responses. */
		floe_active_request_drop(request);
	}
	printf("sent %d of %d responses\n", sent, count);
	floe_server_destroy(server);
	floe_service_close(service);
	floe_node_destroy(node);
	return sent >= count ? 0 : 1;
}
