// SPDX-License-Identifier: MIT
#include "doorbell.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/sockios.h>

#include "internal.h"

void floe_doorbell_name(struct floe_doorbell *db, const char *domain,
			char kind, uint64_t id)
{
	int n;

	memset(&db->addr, 0, sizeof(db->addr));
	db->addr.sun_family = AF_UNIX;
	n = snprintf(db->addr.sun_path + 1, sizeof(db->addr.sun_path) - 1,
		     "floe.%s.%c.%016" PRIx64, domain, kind, id);
	db->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			      (size_t)n);
}

int floe_doorbell_socket(void)
{
	return socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

int floe_doorbell_bind(const struct floe_doorbell *db)
{
	int sock = floe_doorbell_socket();

	if (sock < 0)
		return floe_fd_errno(errno);
	/* EADDRINUSE: someone else holds our name (abstract names are
	 * global to the network namespace). */
	if (bind(sock, (const struct sockaddr *)&db->addr, db->len)) {
		close(sock);
		return FLOE_E_SYSTEM;
	}
	return sock;
}

/* 0, or -1 with errno: EAGAIN when the port's queue is full (it is
 * readable already) or the sending socket's buffer is, ECONNREFUSED when
 * the port is gone or has no descriptor. */
static int ring_through(int sock, const struct floe_doorbell *db)
{
	static const char byte = 1;

	return sendto(sock, &byte, 1, MSG_DONTWAIT | MSG_NOSIGNAL,
		      (const struct sockaddr *)&db->addr, db->len) < 0 ? -1 : 0;
}

void floe_doorbell_ring(int sock, const struct floe_doorbell *db)
{
	ring_through(sock, db);
}

void floe_doorbell_ring_peer(int *sock, const struct floe_doorbell *db)
{
	socklen_t size = sizeof(int);
	int queued, limit, fresh;

	if (*sock < 0)
		*sock = floe_doorbell_socket();
	if (*sock < 0 || !ring_through(*sock, db) || errno != EAGAIN)
		return;
	/* The port's queue is full, or ours: datagrams count against the
	 * socket that sent them until they are read, and ports that armed
	 * a descriptor and stopped reading fill it. Then no port would be
	 * rung, however empty its own queue: a fresh socket takes over
	 * (the old one goes once what it sent is read or its ports gone). */
	if (ioctl(*sock, SIOCOUTQ, &queued) ||
	    getsockopt(*sock, SOL_SOCKET, SO_SNDBUF, &limit, &size) ||
	    queued < limit / 2)
		return;
	fresh = floe_doorbell_socket();
	if (fresh < 0)
		return;
	close(*sock);
	*sock = fresh;
	ring_through(fresh, db);
}

void floe_doorbell_drain(int sock)
{
	char buf[64];

	while (recv(sock, buf, sizeof(buf), MSG_DONTWAIT) >= 0 ||
	       errno == EINTR)
		;
}
