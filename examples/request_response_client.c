// SPDX-License-Identifier: MIT
/*
 * Request-response with streaming: the client.
 *
 *   request_response_client [COUNT [TIMEOUT_S]]
 *
 * Sends requests on "My/Funk/RequestResponse", each asking for a stream
 * of up to three TransmissionData, prints every response, and exits once
 * it received COUNT responses (default 10), or after TIMEOUT_S seconds
 * (default 10 + COUNT / 10). Exit status 0 only if all COUNT arrived.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "floe.h"
#include "request_response_data.h"

#define STREAM_MAX 3

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
	struct timespec poll_interval = { .tv_nsec = 10 * 1000000 };
	floe_node *node;
	floe_service *service;
	floe_client *client;
	uint64_t number = 0;
	int received = 0, err;
	double deadline;

	err = floe_node_create("request_response_client", NULL, &node);
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
	err = floe_client_create(service, NULL, &client);
	if (err) {
		fprintf(stderr, "client: %s\n", floe_strerror(err));
		floe_service_close(service);
		floe_node_destroy(node);
		return 1;
	}
	printf("client ready: asking %s for %d responses\n", RR_SERVICE_NAME,
	       count);
	fflush(stdout);

	deadline = now_s() + timeout;
	while (received < count && now_s() < deadline) {
		floe_request_mut *request;
		floe_pending_response *pending;
		struct stream_request *req;
		const floe_response *response;
		int left = count - received;

		err = floe_client_loan(client, 1, &request);
		if (err) {
			fprintf(stderr, "loan: %s\n", floe_strerror(err));
			break;
		}
		req = floe_request_mut_payload(request);
		req->number = number;
		req->responses = left < STREAM_MAX ? (uint64_t)left : STREAM_MAX;
		err = floe_request_mut_send(request, &pending);
		if (err < 0) {
			fprintf(stderr, "send: %s\n", floe_strerror(err));
			floe_request_mut_discard(request);
			break;
		}
		if (err == 0) { /* no server yet: ask again in a moment */
			floe_pending_response_drop(pending);
			nanosleep(&poll_interval, NULL);
			continue;
		}
		number++;
		/* The stream: responses in order, then its end. */
		while (now_s() < deadline) {
			const struct transmission_data *data;

			err = floe_pending_response_receive(pending, &response);
			if (err == 0) {
				nanosleep(&poll_interval, NULL);
				continue;
			}
			if (err < 0)
				break;
			data = floe_response_payload(response);
			printf("response: TransmissionData { x: %d, y: %d, "
			       "funky: %.2f }\n", data->x, data->y, data->funky);
			fflush(stdout);
			floe_response_release(response);
			received++;
		}
		if (err != FLOE_E_END_OF_STREAM)
			fprintf(stderr, "stream: %s\n", floe_strerror(err));
		floe_pending_response_drop(pending);
	}
	printf("received %d of %d responses\n", received, count);
	floe_client_destroy(client);
	floe_service_close(service);
	floe_node_destroy(node);
	return received == count ? 0 : 1;
}
