// SPDX-License-Identifier: MIT
/*
 * ZeroMQ (libzmq) as a peer: a PAIR socket per process over ipc:// (a Unix
 * domain socket underneath, driven by libzmq's I/O thread, which inherits
 * the process's CPU). zmq_send copies the payload into a message and
 * zmq_recv out of it. Unlike the other peers these block (for at most
 * WAIT_MS, then the driver polls again): the I/O thread does the work on
 * the same pinned CPU, and a caller spinning there would starve it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "peer.h"

#define WAIT_MS 100

static void *ctx, *sock;
static pid_t owner;	/* the ping process, whose pid names the endpoint */

static int zmq_setup(void)
{
	owner = getpid();
	return 0;
}

static void endpoint(char *buf, size_t len)
{
	snprintf(buf, len, "ipc:///tmp/floe-bench-%d.zmq", (int)owner);
}

static int zmq_open_side(enum peer_side side, uint64_t size, char *why,
			 size_t why_len)
{
	int linger = 0, wait_ms = WAIT_MS, err;
	char ep[96];

	if (!peer_buffer(size)) {
		snprintf(why, why_len, "no memory for the payload");
		return -ENOMEM;
	}
	if (!ctx)
		ctx = zmq_ctx_new();
	sock = ctx ? zmq_socket(ctx, ZMQ_PAIR) : NULL;
	if (!sock) {
		snprintf(why, why_len, "zmq_socket: %s", zmq_strerror(errno));
		return -errno;
	}
	zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(sock, ZMQ_RCVTIMEO, &wait_ms, sizeof(wait_ms));
	zmq_setsockopt(sock, ZMQ_SNDTIMEO, &wait_ms, sizeof(wait_ms));
	endpoint(ep, sizeof(ep));
	err = side == PEER_PING ? zmq_bind(sock, ep) : zmq_connect(sock, ep);
	if (err) {
		err = errno;
		snprintf(why, why_len, "%s %s: %s",
			 side == PEER_PING ? "zmq_bind" : "zmq_connect", ep,
			 zmq_strerror(err));
		zmq_close(sock);
		sock = NULL;
		return -err;
	}
	return 0;
}

static int zmq_send_msg(enum peer_side side, uint64_t seq, uint64_t size)
{
	(void)side;
	return zmq_send(sock, peer_message(seq, size), size, 0) < 0 ? -errno
								   : 0;
}

static int zmq_recv_msg(enum peer_side side, uint64_t *seq, uint64_t size)
{
	int n = zmq_recv(sock, peer_buffer(size), size, 0);

	(void)side;
	return peer_received(n, size, seq);
}

static void zmq_close_side(enum peer_side side)
{
	char ep[96];

	zmq_close(sock);
	sock = NULL;
	if (side == PEER_PING) {
		endpoint(ep, sizeof(ep));
		unlink(ep + strlen("ipc://"));
	}
}

static const struct peer_transport zeromq = {
	.system = "zeromq-ipc",
	.waits = true,
	.setup = zmq_setup,
	.open = zmq_open_side,
	.send = zmq_send_msg,
	.recv = zmq_recv_msg,
	.close = zmq_close_side,
};

const struct peer_transport *const peer_transports[] = { &zeromq };
const int peer_num_transports = 1;
