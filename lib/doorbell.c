// SPDX-License-Identifier: MIT
#include "doorbell.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

/* Failures need no handling: EAGAIN means its queue is full (so it is
 * readable already), ECONNREFUSED that the port is gone or has no
 * descriptor. */
void floe_doorbell_ring(int sock, const struct floe_doorbell *db)
{
	static const char byte = 1;

	sendto(sock, &byte, 1, MSG_DONTWAIT | MSG_NOSIGNAL,
	       (const struct sockaddr *)&db->addr, db->len);
}

void floe_doorbell_drain(int sock)
{
	char buf[64];

	while (recv(sock, buf, sizeof(buf), MSG_DONTWAIT) >= 0 ||
	       errno == EINTR)
		;
}
