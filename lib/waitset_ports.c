// SPDX-License-Identifier: MIT
/*
 * Receiving ports on a waitset: DATA while something waits for the port;
 * and domain watches (CHANGED).
 * With io_uring's futex waits the port's wake cell is the source
 * (waitset_uring.c), else the port's descriptor (lib/doorbell.h).
 */
#include "engine/engine.h"
#include "internal.h"
#include "waitset.h"

/* In futex mode the port gets no descriptor: an armed one would cost
 * its senders a system call per message. */
static int attach_port(floe_waitset *ws, struct floe_receiver *rx,
		       uint64_t deadline_ns, void *user)
{
	int fd = ws->futex_ports ? -1 : floe_receiver_fd(rx);

	if (fd < 0 && !ws->futex_ports)
		return fd;
	return ws_attach_watched(ws, WS_PORT, fd, rx, deadline_ns, user);
}

FLOE_EXPORT int floe_waitset_attach_watch(floe_waitset *ws, floe_watch *watch,
					  void *user)
{
	if (!ws || !watch)
		return FLOE_E_INVALID;
	return ws_attach_watched(ws, WS_WATCH, floe_watch_fd(watch), NULL, 0,
				 user);
}

FLOE_EXPORT int floe_waitset_attach_subscriber(floe_waitset *ws,
					       floe_subscriber *sub,
					       uint64_t deadline_ns, void *user)
{
	if (!ws || !sub)
		return FLOE_E_INVALID;
	return attach_port(ws, floe_subscriber_receiver(sub), deadline_ns,
			   user);
}

FLOE_EXPORT int floe_waitset_attach_server(floe_waitset *ws,
					   floe_server *server,
					   uint64_t deadline_ns, void *user)
{
	if (!ws || !server)
		return FLOE_E_INVALID;
	return attach_port(ws, floe_server_receiver(server), deadline_ns,
			   user);
}

FLOE_EXPORT int floe_waitset_attach_client(floe_waitset *ws,
					   floe_client *client,
					   uint64_t deadline_ns, void *user)
{
	if (!ws || !client)
		return FLOE_E_INVALID;
	return attach_port(ws, floe_client_receiver(client), deadline_ns,
			   user);
}
