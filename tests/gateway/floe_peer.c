// SPDX-License-Identifier: MIT
/*
 * The floe side of the gateway's tests (floe only, no DDS):
 *
 *   floe_peer pub SERVICE [options]   numbered samples: the first 8 bytes
 *                                     the index (little-endian), then
 *                                     bytes (index + i) & 0xff
 *   floe_peer sub SERVICE [options]   receive, check content and order,
 *                                     print one summary line
 *
 * Options: --count N (pub: samples, default 10; sub: samples wanted),
 * --size BYTES (default 16), --interval-us U (pub, default 1000),
 * --timeout-ms T (default 60000), --wait-subs K (pub: wait for K
 * subscribers first), --small (create the service with small pools:
 * 2 subscribers, queue 1; for big payloads), --history H,
 * --reliable (no safe overflow), --user-header N (pub: bytes 0xa5; sub:
 * checked), --type NAME/SIZE/ALIGN,
 * --block (pub: wait for full queues), --extra-ms T (sub: watch T ms
 * after the last sample wanted).
 *
 * sub prints "received N first F last L gaps G disorder D corrupt C
 * extra E" and exits 0 once N samples arrived, in order, intact, and
 * nothing came after them (1 otherwise).
 */
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "floe.h"

struct args {
	const char *mode, *service;
	long count;
	uint64_t size;
	long interval_us, timeout_ms, extra_ms;
	uint32_t wait_subs, history, user_header;
	bool small, reliable, block;
	struct floe_type type;
	char type_name[FLOE_TYPE_NAME_LEN + 1];
};

static volatile sig_atomic_t stopped;

static void on_signal(int sig)
{
	(void)sig;
	stopped = 1;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, us % 1000000 * 1000 };

	nanosleep(&ts, NULL);
}

static int die(const char *what, int err)
{
	fprintf(stderr, "floe_peer: %s: %s\n", what, floe_strerror(err));
	return 1;
}

static int open_service(floe_node *node, const struct args *a,
			const char *name, floe_service **svc)
{
	struct floe_pubsub_qos qos;
	struct floe_service_opts opts = { .type = a->type, .qos = &qos };
	int ret;

	floe_pubsub_qos_init(&qos);
	if (a->small) {
		qos.max_subscribers = 2; /* the gateway's and one more */
		qos.subscriber_max_buffer_size = 1;
		qos.subscriber_max_borrowed_samples = 1;
		qos.publisher_max_loaned_samples = 1;
	}
	qos.history_size = a->history;
	if (qos.history_size > qos.subscriber_max_buffer_size)
		qos.subscriber_max_buffer_size = qos.history_size;
	qos.enable_safe_overflow = !a->reliable;
	qos.user_header_size = a->user_header;
	ret = floe_service_create(node, name, &opts, svc);
	if (ret == FLOE_E_EXISTS) {
		opts.qos = NULL;
		ret = floe_service_open(node, name, &opts, svc);
	}
	return ret;
}

struct count_ctx {
	const char *name;
	uint32_t subscribers;
};

static int on_service(const struct floe_service_info *info, void *arg)
{
	struct count_ctx *c = arg;

	if (info->pattern == FLOE_PATTERN_KIND_PUBSUB &&
	    !strcmp(info->name, c->name)) {
		c->subscribers = info->subscribers;
		return 1;
	}
	return 0;
}

static void fill(unsigned char *p, uint64_t len, uint64_t index)
{
	uint64_t le = htole64(index);

	for (uint64_t i = 0; i < len; i++)
		p[i] = (unsigned char)(index + i);
	memcpy(p, &le, len < 8 ? len : 8);
}

/* The sample's index, or -1 if its bytes are not what fill() wrote. */
static int64_t check(const unsigned char *p, uint64_t len)
{
	uint64_t le = 0, index;

	if (len < 8)
		return -1;
	memcpy(&le, p, 8);
	index = le64toh(le);
	for (uint64_t i = 8; i < len; i++)
		if (p[i] != (unsigned char)(index + i))
			return -1;
	return (int64_t)index;
}

/* The user header as publish() writes it. */
static bool header_ok(const floe_sample *s, uint32_t len)
{
	const unsigned char *h = floe_sample_user_header(s);

	for (uint32_t i = 0; h && i < len; i++)
		if (h[i] != 0xa5)
			return false;
	return h != NULL;
}

static int publish(floe_node *node, const struct args *a)
{
	struct floe_publisher_opts popts;
	uint64_t deadline = now_ms() + (uint64_t)a->timeout_ms;
	uint64_t elements = a->size / a->type.size;
	floe_publisher *pub = NULL;
	floe_service *svc = NULL;
	int ret = open_service(node, a, a->service, &svc);

	if (ret)
		return die("service", ret);
	floe_publisher_opts_init(&popts);
	popts.initial_max_slice_len = elements;
	if (a->block)
		popts.unable_to_deliver = FLOE_DELIVER_BLOCK;
	ret = floe_publisher_create(svc, &popts, &pub);
	if (ret) {
		floe_service_close(svc);
		return die("publisher", ret);
	}
	for (;;) {
		struct count_ctx c = { .name = a->service };

		floe_service_list(node, on_service, &c);
		if (c.subscribers >= a->wait_subs)
			break;
		if (now_ms() > deadline || stopped) {
			fprintf(stderr, "floe_peer: no subscriber came\n");
			ret = 1;
			goto out;
		}
		sleep_us(10000);
	}
	for (long i = 0; i < a->count && !stopped; i++) {
		floe_sample_mut *m;

		ret = floe_publisher_loan(pub, elements, &m);
		if (ret == FLOE_E_POOL_EMPTY || ret == FLOE_E_LOAN_LIMIT) {
			i--; /* the gateway has not released them yet */
			floe_publisher_update_connections(pub);
			sleep_us(1000);
			continue;
		}
		if (ret) {
			die("loan", ret);
			ret = 1;
			goto out;
		}
		fill(floe_sample_mut_payload(m), a->size, (uint64_t)i);
		if (a->user_header)
			memset(floe_sample_mut_user_header(m), 0xa5,
			       a->user_header);
		floe_sample_mut_send(m);
		sleep_us(a->interval_us);
	}
	ret = 0;
out:
	floe_publisher_destroy(pub);
	floe_service_close(svc);
	return ret;
}

static int subscribe(floe_node *node, const struct args *a)
{
	uint64_t deadline = now_ms() + (uint64_t)a->timeout_ms;
	long received = 0, gaps = 0, disorder = 0, corrupt = 0, extra = 0;
	int64_t first = -1, last = -1;
	floe_subscriber *sub = NULL;
	floe_service *svc = NULL;
	int ret = open_service(node, a, a->service, &svc);

	if (ret)
		return die("service", ret);
	ret = floe_subscriber_create(svc, NULL, &sub);
	if (ret) {
		floe_service_close(svc);
		return die("subscriber", ret);
	}
	while (received < a->count && now_ms() < deadline && !stopped) {
		const floe_sample *s;
		int64_t index;

		if (floe_subscriber_receive(sub, &s) != 1) {
			sleep_us(200);
			continue;
		}
		index = floe_sample_payload_size(s) == a->size ?
				check(floe_sample_payload(s), a->size) : -1;
		if (a->user_header && !header_ok(s, a->user_header))
			index = -1;
		if (index < 0)
			corrupt++;
		else if (last >= 0 && index <= last)
			disorder++;
		else if (last >= 0 && index != last + 1)
			gaps++;
		if (index >= 0 && first < 0)
			first = index;
		if (index > last)
			last = index;
		floe_sample_release(s);
		received++;
	}
	/* what comes after the last one wanted is a duplicate or an echo */
	deadline = now_ms() + (uint64_t)a->extra_ms;
	while (received == a->count && now_ms() < deadline && !stopped) {
		const floe_sample *s;

		if (floe_subscriber_receive(sub, &s) != 1) {
			sleep_us(1000);
			continue;
		}
		floe_sample_release(s);
		extra++;
	}
	printf("received %ld first %" PRId64 " last %" PRId64
	       " gaps %ld disorder %ld corrupt %ld extra %ld\n",
	       received, first, last, gaps, disorder, corrupt, extra);
	fflush(stdout);
	floe_subscriber_destroy(sub);
	floe_service_close(svc);
	return received == a->count && !disorder && !corrupt && !extra ? 0 :
									 1;
}

static bool parse_type(struct args *a, const char *spec)
{
	unsigned long long size, align;
	char name[FLOE_TYPE_NAME_LEN + 1];

	if (sscanf(spec, "%127[^/]/%llu/%llu", name, &size, &align) != 3)
		return false;
	snprintf(a->type_name, sizeof(a->type_name), "%s", name);
	a->type.size = size;
	a->type.align = align;
	return true;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 's' },
		{ "interval-us", required_argument, NULL, 'i' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "wait-subs", required_argument, NULL, 'w' },
		{ "history", required_argument, NULL, 'H' },
		{ "user-header", required_argument, NULL, 'u' },
		{ "type", required_argument, NULL, 'T' },
		{ "small", no_argument, NULL, 'S' },
		{ "reliable", no_argument, NULL, 'r' },
		{ "block", no_argument, NULL, 'b' },
		{ "extra-ms", required_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	struct args a = {
		.count = 10, .size = 16, .interval_us = 1000,
		.timeout_ms = 60000, .type_name = "floe.bytes",
		.type = { .size = 1, .align = 1 },
	};
	struct sigaction sa = { .sa_handler = on_signal };
	floe_node *node;
	int c, ret;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': a.count = atol(optarg); break;
		case 's': a.size = strtoull(optarg, NULL, 0); break;
		case 'i': a.interval_us = atol(optarg); break;
		case 't': a.timeout_ms = atol(optarg); break;
		case 'w': a.wait_subs = (uint32_t)atol(optarg); break;
		case 'H': a.history = (uint32_t)atol(optarg); break;
		case 'u': a.user_header = (uint32_t)atol(optarg); break;
		case 'S': a.small = true; break;
		case 'r': a.reliable = true; break;
		case 'b': a.block = true; break;
		case 'x': a.extra_ms = atol(optarg); break;
		case 'T':
			if (!parse_type(&a, optarg))
				return 2;
			break;
		default: return 2;
		}
	}
	a.type.name = a.type_name;
	if (argc - optind < 2 || !a.size || a.size % a.type.size) {
		fprintf(stderr, "usage: floe_peer pub|sub SERVICE [options]\n");
		return 2;
	}
	a.mode = argv[optind];
	a.service = argv[optind + 1];
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	ret = floe_node_create("floe_peer", NULL, &node);
	if (ret)
		return die("node", ret);
	if (!strcmp(a.mode, "pub"))
		ret = publish(node, &a);
	else if (!strcmp(a.mode, "sub"))
		ret = subscribe(node, &a);
	else
		ret = 2;
	floe_node_destroy(node);
	return ret;
}
