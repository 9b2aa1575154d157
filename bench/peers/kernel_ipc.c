// SPDX-License-Identifier: MIT
/*
 * The kernel's own IPC as peers: Unix domain sockets (stream and datagram),
 * a pipe pair, and POSIX message queues. Each message is copied twice
 * (sender → kernel → receiver); all are used non-blocking and polled.
 *
 * What each cannot carry is found out, not assumed: a datagram must fit the
 * socket's send buffer (raised with SO_SNDBUFFORCE when we may) and one
 * kernel allocation; a message queue's msgsize is capped by
 * /proc/sys/fs/mqueue/msgsize_max (root: by the kernel's hard limit) and
 * by RLIMIT_MSGQUEUE.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "peer.h"

/* ---- byte streams: a socketpair or two pipes --------------------------- */

/* fds[side][0] is read by @side, fds[side][1] written by it */
static int fds[2][2] = { { -1, -1 }, { -1, -1 } };

static int nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int uds_setup(int type)
{
	int sv[2];

	if (socketpair(AF_UNIX, type | SOCK_NONBLOCK, 0, sv))
		return -1;
	fds[PEER_PING][0] = fds[PEER_PING][1] = sv[0];
	fds[PEER_PONG][0] = fds[PEER_PONG][1] = sv[1];
	return 0;
}

static int stream_setup(void)
{
	return uds_setup(SOCK_STREAM);
}

static int pipe_setup(void)
{
	int a[2], b[2];

	if (pipe(a) || pipe(b) || nonblock(a[0]) || nonblock(a[1]) ||
	    nonblock(b[0]) || nonblock(b[1]))
		return -1;
	/* both processes keep all four ends: there is no EOF to see */
	fds[PEER_PING][1] = a[1];
	fds[PEER_PONG][0] = a[0];
	fds[PEER_PONG][1] = b[1];
	fds[PEER_PING][0] = b[0];
	return 0;
}

static int stream_open(enum peer_side side, uint64_t size, char *why,
		       size_t why_len)
{
	(void)side;
	if (!peer_buffer(size)) {
		snprintf(why, why_len, "no memory for the payload");
		return -ENOMEM;
	}
	return 0;
}

/* A whole message: once the first byte is in, the rest is waited for. */
static int stream_send(enum peer_side side, uint64_t seq, uint64_t size)
{
	char *buf = peer_message(seq, size);
	uint64_t done = 0;

	while (done < size) {
		ssize_t n = write(fds[side][1], buf + done, size - done);

		if (n > 0) {
			done += (uint64_t)n;
		} else if (errno != EAGAIN) {
			return -errno;
		} else if (!done) {
			return -EAGAIN;
		}
	}
	return 0;
}

static int stream_recv(enum peer_side side, uint64_t *seq, uint64_t size)
{
	char *buf = peer_buffer(size);
	uint64_t done = 0;

	while (done < size) {
		ssize_t n = read(fds[side][0], buf + done, size - done);

		if (n > 0) {
			done += (uint64_t)n;
		} else if (n == 0) {
			return -EPIPE;
		} else if (errno != EAGAIN) {
			return -errno;
		} else if (!done) {
			return 0;
		}
	}
	memcpy(seq, buf, sizeof(*seq));
	return 1;
}

static void nothing_to_close(enum peer_side side)
{
	(void)side;
}

static const struct peer_transport uds_stream = {
	.system = "uds-stream",
	.setup = stream_setup,
	.open = stream_open,
	.send = stream_send,
	.recv = stream_recv,
	.close = nothing_to_close,
};

static const struct peer_transport pipe_pair = {
	.system = "pipe",
	.setup = pipe_setup,
	.open = stream_open,
	.send = stream_send,
	.recv = stream_recv,
	.close = nothing_to_close,
};

/* ---- Unix datagrams ----------------------------------------------------- */

static int dgram_setup(void)
{
	return uds_setup(SOCK_DGRAM);
}

static int dgram_open(enum peer_side side, uint64_t size, char *why,
		      size_t why_len)
{
	/* room for one message in flight, and a little for the header */
	int want = size > (1u << 30) ? 1 << 30 : (int)size + 4096;
	int fd = fds[side][1];

	if (stream_open(side, size, why, why_len))
		return -ENOMEM;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof(want)) &&
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want))) {
		snprintf(why, why_len, "SO_SNDBUF: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static int dgram_send(enum peer_side side, uint64_t seq, uint64_t size)
{
	char *buf = peer_message(seq, size);

	return send(fds[side][1], buf, size, MSG_DONTWAIT) < 0 ? -errno : 0;
}

static int dgram_recv(enum peer_side side, uint64_t *seq, uint64_t size)
{
	ssize_t n = recv(fds[side][0], peer_buffer(size), size, MSG_DONTWAIT);

	return peer_received(n, size, seq);
}

static const struct peer_transport uds_dgram = {
	.system = "uds-dgram",
	.setup = dgram_setup,
	.open = dgram_open,
	.send = dgram_send,
	.recv = dgram_recv,
	.close = nothing_to_close,
};

/* ---- POSIX message queues ----------------------------------------------- */

/* mq[side][0] is received from by @side, mq[side][1] sent to */
static mqd_t mq[2][2] = { { -1, -1 }, { -1, -1 } };
static pid_t mq_owner;	/* the ping process, whose pid names the queues */

static int mq_setup(void)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };

	/* the queues' bytes count against RLIMIT_MSGQUEUE: lift it if we
	 * may, else large sizes are reported as not carried */
	setrlimit(RLIMIT_MSGQUEUE, &unlimited);
	mq_owner = getpid();
	return 0;
}

/* The limit for an unprivileged queue's message size; -1 unknown. */
static long msgsize_max(void)
{
	FILE *f = fopen("/proc/sys/fs/mqueue/msgsize_max", "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static void mq_name(char *buf, size_t len, const char *dir)
{
	snprintf(buf, len, "/floe-bench-%d-%s", (int)mq_owner, dir);
}

static int mq_open_side(enum peer_side side, uint64_t size, char *why,
			size_t why_len)
{
	struct mq_attr attr = { .mq_maxmsg = 1, .mq_msgsize = (long)size };
	int flags = O_RDWR | O_NONBLOCK;
	char ping[64], pong[64];
	mqd_t a, b;

	if (stream_open(side, size, why, why_len))
		return -ENOMEM;
	mq_name(ping, sizeof(ping), "ping");
	mq_name(pong, sizeof(pong), "pong");
	if (side == PEER_PING)
		flags |= O_CREAT | O_EXCL;
	a = mq_open(ping, flags, 0600, &attr);
	b = a == (mqd_t)-1 ? a : mq_open(pong, flags, 0600, &attr);
	if (b == (mqd_t)-1) {
		int err = errno;

		snprintf(why, why_len, "mq_open(msgsize %llu): %s "
			 "(fs.mqueue.msgsize_max %ld)",
			 (unsigned long long)size, strerror(err),
			 msgsize_max());
		if (a != (mqd_t)-1)
			mq_close(a);
		if (side == PEER_PING) {
			mq_unlink(ping);
			mq_unlink(pong);
		}
		return -err;
	}
	mq[side][side == PEER_PING ? 1 : 0] = a;
	mq[side][side == PEER_PING ? 0 : 1] = b;
	return 0;
}

static int mq_send_msg(enum peer_side side, uint64_t seq, uint64_t size)
{
	return mq_send(mq[side][1], peer_message(seq, size), size, 0) ? -errno
								       : 0;
}

static int mq_recv_msg(enum peer_side side, uint64_t *seq, uint64_t size)
{
	ssize_t n = mq_receive(mq[side][0], peer_buffer(size), size, NULL);

	return peer_received(n, size, seq);
}

static void mq_close_side(enum peer_side side)
{
	char name[64];

	mq_close(mq[side][0]);
	mq_close(mq[side][1]);
	mq[side][0] = mq[side][1] = (mqd_t)-1;
	if (side == PEER_PING) {
		mq_name(name, sizeof(name), "ping");
		mq_unlink(name);
		mq_name(name, sizeof(name), "pong");
		mq_unlink(name);
	}
}

static const struct peer_transport posix_mq = {
	.system = "posix-mq",
	.setup = mq_setup,
	.open = mq_open_side,
	.send = mq_send_msg,
	.recv = mq_recv_msg,
	.close = mq_close_side,
};

const struct peer_transport *const peer_transports[] = {
	&uds_stream, &uds_dgram, &pipe_pair, &posix_mq,
};
const int peer_num_transports =
	(int)(sizeof(peer_transports) / sizeof(peer_transports[0]));
