// SPDX-License-Identifier: MIT
/*
 * Eclipse iceoryx 2.0 as a peer, through its C binding (Debian's
 * libiceoryx-binding-c-dev): a publisher and a subscriber per side, on
 * services "floe-bench"/"ping"/<size> and "floe-bench"/"pong"/<size>. Like
 * floe it is zero-copy: a chunk is loaned from RouDi's shared memory pools,
 * only the sequence number is written into it, and it is published; the
 * other side takes it, reads the number and releases it.
 *
 * iox-roudi must be running (scripts/bench.sh starts it with
 * bench/peers/roudi.toml, whose memory pools hold chunks up to 64 MiB);
 * a size no pool holds is reported as not carried.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iceoryx_binding_c/chunk.h>
#include <iceoryx_binding_c/enums.h>
#include <iceoryx_binding_c/log.h>
#include <iceoryx_binding_c/publisher.h>
#include <iceoryx_binding_c/runtime.h>
#include <iceoryx_binding_c/subscriber.h>
#include <iceoryx_binding_c/types.h>

#include "peer.h"

/* RouDi's unix socket: without it iox_runtime_init would wait forever */
#define ROUDI_SOCKET "/tmp/roudi"

static iox_pub_storage_t pub_storage;
static iox_sub_storage_t sub_storage;
static iox_pub_t pub;
static iox_sub_t sub;
static int runtime_up;

static int iox_setup(void)
{
	struct stat st;

	if (stat(ROUDI_SOCKET, &st)) {
		fprintf(stderr, "iceoryx: %s: %s: is iox-roudi running?\n",
			ROUDI_SOCKET, strerror(errno));
		return -1;
	}
	return 0;
}

static int iox_open_side(enum peer_side side, uint64_t size, char *why,
			 size_t why_len)
{
	const char *mine = side == PEER_PING ? "ping" : "pong";
	const char *theirs = side == PEER_PING ? "pong" : "ping";
	iox_pub_options_t po;
	iox_sub_options_t so;
	char event[32], name[64];

	if (size > UINT32_MAX) {
		snprintf(why, why_len, "chunks are at most 4 GiB");
		return -EMSGSIZE;
	}
	if (!runtime_up) {
		/* once per process: the partner is forked before this */
		snprintf(name, sizeof(name), "floe-bench-%d", (int)getpid());
		iox_set_loglevel(Iceoryx_LogLevel_Warn);
		iox_runtime_init(name);
		runtime_up = 1;
	}
	snprintf(event, sizeof(event), "%llu", (unsigned long long)size);
	iox_pub_options_init(&po);
	po.historyCapacity = 0;
	po.subscriberTooSlowPolicy = ConsumerTooSlowPolicy_WAIT_FOR_CONSUMER;
	iox_sub_options_init(&so);
	so.queueCapacity = 2;
	so.historyRequest = 0;
	so.queueFullPolicy = QueueFullPolicy_BLOCK_PRODUCER;
	pub = iox_pub_init(&pub_storage, "floe-bench", mine, event, &po);
	sub = iox_sub_init(&sub_storage, "floe-bench", theirs, event, &so);
	return 0;
}

static int iox_ready(enum peer_side side)
{
	(void)side;
	return iox_pub_has_subscribers(pub) &&
	       iox_sub_get_subscription_state(sub) == SubscribeState_SUBSCRIBED;
}

static int iox_send(enum peer_side side, uint64_t seq, uint64_t size)
{
	void *payload;
	enum iox_AllocationResult r;

	(void)side;
	r = iox_pub_loan_chunk(pub, &payload, (uint32_t)size);
	if (r == AllocationResult_RUNNING_OUT_OF_CHUNKS)
		return -EAGAIN;	/* the other side has not released yet */
	if (r != AllocationResult_SUCCESS)
		return -ENOBUFS; /* no memory pool holds this size */
	memcpy(payload, &seq, sizeof(seq));
	iox_pub_publish_chunk(pub, payload);
	return 0;
}

static int iox_recv(enum peer_side side, uint64_t *seq, uint64_t size)
{
	const void *payload;
	enum iox_ChunkReceiveResult r = iox_sub_take_chunk(sub, &payload);

	(void)side;
	(void)size;
	if (r == ChunkReceiveResult_NO_CHUNK_AVAILABLE)
		return 0;
	if (r != ChunkReceiveResult_SUCCESS)
		return -EIO;
	memcpy(seq, payload, sizeof(*seq));
	iox_sub_release_chunk(sub, payload);
	return 1;
}

static void iox_close_side(enum peer_side side)
{
	(void)side;
	iox_pub_deinit(pub);
	iox_sub_deinit(sub);
}

static const struct peer_transport iceoryx = {
	.system = "iceoryx",
	.setup = iox_setup,
	.open = iox_open_side,
	.ready = iox_ready,
	.send = iox_send,
	.recv = iox_recv,
	.close = iox_close_side,
};

const struct peer_transport *const peer_transports[] = { &iceoryx };
const int peer_num_transports = 1;
