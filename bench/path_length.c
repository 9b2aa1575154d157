// SPDX-License-Identifier: MIT
/*
 * The path length of a message: what floe executes per message, counted
 * instead of timed. scripts/path-length.sh runs this program under
 * valgrind (lackey) at two lengths and divides the difference by the
 * messages in between: instructions and stores per message, figures that
 * do not move with the machine's state the way its timings do.
 *
 *   path_length CASE ROUNDS
 *
 * One process (publisher and subscriber, or client and server, in turn)
 * runs ROUNDS rounds of CASE, 8-byte payloads:
 *   pingpong  a loan, send, receive and release (pingpong_qos.h's QoS)
 *   default   the same with the default QoS (8 subscriber slots)
 *   stream    32 loans and sends, then 32 receives and releases (scale's
 *             throughput QoS: a queue of 64, no safe overflow, blocking)
 *   rr        a request, its response and its end of stream
 * Exit status 0 if every message arrived intact, 2 for bad arguments.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "floe.h"
#include "pingpong_qos.h"

#define STREAM_BURST 32

static const struct floe_type u64_type = {
	.name = "u64", .size = 8, .align = 8
};

static int publish(floe_publisher *pub, uint64_t seq)
{
	floe_sample_mut *s;

	if (floe_publisher_loan(pub, 1, &s))
		return -1;
	memcpy(floe_sample_mut_payload(s), &seq, sizeof(seq));
	return floe_sample_mut_send(s) == 1 ? 0 : -1;
}

static int take(floe_subscriber *sub, uint64_t seq)
{
	const floe_sample *s;
	uint64_t got;

	if (floe_subscriber_receive(sub, &s) != 1)
		return -1;
	memcpy(&got, floe_sample_payload(s), sizeof(got));
	floe_sample_release(s);
	return got == seq ? 0 : -1;
}

static int pubsub(floe_node *node, const char *name,
		  const struct floe_pubsub_qos *qos, long rounds, int burst)
{
	struct floe_service_opts so = { .type = u64_type, .qos = qos };
	struct floe_publisher_opts po;
	floe_subscriber *sub = NULL;
	floe_publisher *pub = NULL;
	floe_service *svc;
	uint64_t sent = 0, taken = 0;
	int err;

	floe_publisher_opts_init(&po);
	po.unable_to_deliver = FLOE_DELIVER_BLOCK;
	err = floe_service_create(node, name, &so, &svc);
	if (err)
		return err;
	err = floe_publisher_create(svc, &po, &pub);
	if (!err)
		err = floe_subscriber_create(svc, NULL, &sub);
	for (long r = 0; !err && r < rounds; r++) {
		for (int i = 0; !err && i < burst; i++)
			err = publish(pub, sent++);
		for (int i = 0; !err && i < burst; i++)
			err = take(sub, taken++);
	}
	floe_subscriber_destroy(sub);
	floe_publisher_destroy(pub);
	floe_service_close(svc);
	return err;
}

static int request_response(floe_node *node, const char *name, long rounds)
{
	struct floe_rr_opts o = { .request_type = u64_type,
				  .response_type = u64_type };
	floe_client *client = NULL;
	floe_server *server = NULL;
	floe_service *svc;
	int err;

	err = floe_rr_create(node, name, &o, &svc);
	if (err)
		return err;
	err = floe_client_create(svc, NULL, &client);
	if (!err)
		err = floe_server_create(svc, NULL, &server);
	for (uint64_t i = 0; !err && i < (uint64_t)rounds; i++) {
		floe_request_mut *req;
		floe_pending_response *pending;
		floe_active_request *active;
		floe_response_mut *res;
		const floe_response *got;
		uint64_t v;

		err = -1;
		if (floe_client_loan(client, 1, &req))
			break;
		memcpy(floe_request_mut_payload(req), &i, sizeof(i));
		if (floe_request_mut_send(req, &pending) != 1)
			break;
		if (floe_server_receive(server, &active) != 1)
			break;
		if (floe_active_request_loan(active, 1, &res)) {
			floe_active_request_drop(active);
			break;
		}
		memcpy(floe_response_mut_payload(res),
		       floe_active_request_payload(active), sizeof(v));
		floe_response_mut_send(res);
		floe_active_request_drop(active);
		if (floe_pending_response_receive(pending, &got) == 1) {
			memcpy(&v, floe_response_payload(got), sizeof(v));
			floe_response_release(got);
			if (v == i && floe_pending_response_receive(
					      pending, &got) ==
					      FLOE_E_END_OF_STREAM)
				err = 0;
		}
		floe_pending_response_drop(pending);
	}
	floe_server_destroy(server);
	floe_client_destroy(client);
	floe_service_close(svc);
	return err;
}

int main(int argc, char **argv)
{
	struct floe_pubsub_qos qos;
	char name[64];
	floe_node *node;
	long rounds;
	int err;

	if (argc != 3 || (rounds = atol(argv[2])) < 1) {
		fprintf(stderr, "usage: %s pingpong|default|stream|rr ROUNDS\n",
			argv[0]);
		return 2;
	}
	snprintf(name, sizeof(name), "bench/path_length/%d", (int)getpid());
	err = floe_node_create("path_length", NULL, &node);
	if (err) {
		fprintf(stderr, "node: %s\n", floe_strerror(err));
		return 1;
	}
	if (!strcmp(argv[1], "pingpong")) {
		bench_pingpong_qos(&qos);
		err = pubsub(node, name, &qos, rounds, 1);
	} else if (!strcmp(argv[1], "default")) {
		floe_pubsub_qos_init(&qos);
		err = pubsub(node, name, &qos, rounds, 1);
	} else if (!strcmp(argv[1], "stream")) {
		floe_pubsub_qos_init(&qos);
		qos.max_publishers = 1;
		qos.max_subscribers = 1;
		qos.subscriber_max_buffer_size = 64;
		qos.subscriber_max_borrowed_samples = 1;
		qos.publisher_max_loaned_samples = 1;
		qos.enable_safe_overflow = false;
		err = pubsub(node, name, &qos, rounds, STREAM_BURST);
	} else if (!strcmp(argv[1], "rr")) {
		err = request_response(node, name, rounds);
	} else {
		fprintf(stderr, "path_length: unknown case '%s'\n", argv[1]);
		floe_node_destroy(node);
		return 2;
	}
	floe_node_destroy(node);
	if (err)
		fprintf(stderr, "path_length %s: %s\n", argv[1],
			err == -1 ? "a message was lost or changed"
				  : floe_strerror(err));
	return err ? 1 : 0;
}
