/* SPDX-License-Identifier: MIT */
/*
 * The QoS of a ping-pong's services (pubsub_pingpong.c, cxx/pingpong.cpp;
 * python/pingpong.py says the same in Python): one message in flight per
 * direction, the smallest pool.
 */
#ifndef FLOE_BENCH_PINGPONG_QOS_H
#define FLOE_BENCH_PINGPONG_QOS_H

#include "floe.h"

static inline void bench_pingpong_qos(struct floe_pubsub_qos *q)
{
	floe_pubsub_qos_init(q);
	q->max_publishers = 1;
	q->max_subscribers = 1;
	q->subscriber_max_buffer_size = 2;
	q->subscriber_max_borrowed_samples = 1;
	q->publisher_max_loaned_samples = 1;
}

#endif
