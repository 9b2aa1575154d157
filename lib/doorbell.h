/* SPDX-License-Identifier: MIT */
/*
 * Doorbells: the pollable descriptor of a waiting port (a listener, or a
 * receiving port). An abstract AF_UNIX datagram socket named after the
 * port, "\0floe.<domain>.<kind>.<id>": a sender that finds the port's
 * descriptor armed sends it one byte; the port empties it before it
 * looks for work, and rings itself if work is left, so the descriptor is
 * readable exactly while something waits. Abstract names need no file
 * and vanish with the socket, so a dead port leaves nothing behind.
 */
#ifndef FLOE_DOORBELL_H
#define FLOE_DOORBELL_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#define FLOE_DOORBELL_LISTENER 'l'
#define FLOE_DOORBELL_PORT 'p'

struct floe_doorbell {
	struct sockaddr_un addr;
	socklen_t len;
};

/** The name of port @id of @kind in @domain. */
void floe_doorbell_name(struct floe_doorbell *db, const char *domain,
			char kind, uint64_t id);
/** An unbound datagram socket to ring doorbells with; -1 on failure. */
int floe_doorbell_socket(void);
/** A socket bound to @db's name (the port's descriptor); negative
 * FLOE_E_* on failure. */
int floe_doorbell_bind(const struct floe_doorbell *db);
/** Ring @db through @sock, the port's own bound one (it rings itself;
 * failures need no handling). */
void floe_doorbell_ring(int sock, const struct floe_doorbell *db);
/**
 * Ring another port's @db through the unbound socket *@sock (-1: made
 * now). A datagram counts against the socket that sent it until it is
 * read, so ports that stop reading can fill *@sock; it is then replaced
 * by a fresh one, so that every other port is still rung.
 */
void floe_doorbell_ring_peer(int *sock, const struct floe_doorbell *db);
/** Empty the bound socket @sock. */
void floe_doorbell_drain(int sock);

#endif
