// SPDX-License-Identifier: MIT
/*
 * Servers come and go on a one-server service while a client keeps
 * reading: each server answers the requests waiting for it, ends their
 * streams and leaves at once, its responses and end markers left queued
 * for the client, and the next one takes its slot and the connection to
 * the client over while the client drains those leftovers.
 *
 * Every stream a server ended must reach the client whole: each response
 * the server queued, then FLOE_E_END_OF_STREAM, never FLOE_E_DEAD. (The
 * client closing a gone server's connection and the next server taking
 * it over used to race: the client's close, decided before the takeover,
 * could land after it and shut the newcomer's connection - its responses
 * and end markers never read, FLOE_E_DEAD once it left - or leave a
 * record of carried leftovers behind that nobody would clear, so that
 * later servers could not connect at all and their end markers were
 * lost.) Requests a server left without receiving may end either way.
 *
 * A server thread and the client (main thread) of one process, each with
 * a node of its own; FLOE_CHURN_SERVERS (default 3000) server lifetimes,
 * at most FLOE_CHURN_SECS (default 20) seconds.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "rr_helpers.h"

#define SERVICE "t/rr/server-churn"
#define CHANNELS 2
#define MAX_RESPONSES 3
#define MAX_REQUESTS (1u << 20)

/* Per request (by its sequence): 0 while no server ended it, else 1 +
 * how many responses that server queued. */
static _Atomic uint32_t *ended;
static atomic_bool servers_done;
static uint64_t deadline;
static long servers_wanted;
static atomic_long server_failures;
static atomic_long lifetimes, idle_lifetimes;

/* Answer a request's stream (each response the send says it queued is
 * counted) and end it. */
static void answer_and_end(floe_active_request *a)
{
	struct rr_req q = *(const struct rr_req *)floe_active_request_payload(a);
	uint32_t queued = 0;

	if (!rr_req_ok(&q) || q.seq >= MAX_REQUESTS) {
		atomic_fetch_add(&server_failures, 1);
		floe_active_request_drop(a);
		return;
	}
	for (uint64_t i = 0; i < q.responses; i++) {
		struct rr_resp r = {
			.client = q.client, .seq = q.seq, .index = i,
			.check = th_pattern(q.seq ^ q.client, i),
		};
		int ret = floe_active_request_send_copy(a, &r, sizeof(r));

		if (ret < 0)
			atomic_fetch_add(&server_failures, 1);
		queued += ret == 1;
	}
	/* before the end: whoever sees the end sees this */
	atomic_store(&ended[q.seq], 1 + queued);
	floe_active_request_drop(a);
}

/* One lifetime: wait for a first request (a slow machine may take long to
 * connect), a moment for more, answer them, leave at once. */
static void serve_once(floe_service *svc)
{
	struct floe_server_opts so = { .backpressure = FLOE_DELIVER_DISCARD };
	uint64_t until = th_now_ns() + 2000000000ull;
	floe_active_request *a;
	floe_server *srv = NULL;
	int r, got = 0;

	/* the slot frees once the last one left */
	while ((r = floe_server_create(svc, &so, &srv)) == FLOE_E_PORT_LIMIT &&
	       th_now_ns() < deadline)
		sched_yield();
	if (r) {
		atomic_fetch_add(&server_failures, 1);
		return;
	}
	while (got < CHANNELS && th_now_ns() < until) {
		r = floe_server_receive(srv, &a);
		if (r == 1) {
			answer_and_end(a);
			if (!got++)
				until = th_now_ns() + 20000000ull;
		} else if (r == 0) {
			sched_yield();
		} else {
			atomic_fetch_add(&server_failures, 1);
			break;
		}
	}
	floe_server_destroy(srv);
	atomic_fetch_add(&lifetimes, 1);
	if (!got)
		atomic_fetch_add(&idle_lifetimes, 1);
}

static void *server_thread(void *arg)
{
	floe_node *node = NULL;
	floe_service *svc = NULL;

	(void)arg;
	if (floe_node_create("churn-servers", NULL, &node) ||
	    rr_open_retry(node, SERVICE, &svc, 10000)) {
		atomic_fetch_add(&server_failures, 1);
	} else {
		for (long n = 0; n < servers_wanted && th_now_ns() < deadline;
		     n++)
			serve_once(svc);
	}
	atomic_store(&servers_done, true);
	floe_service_close(svc);
	floe_node_destroy(node);
	return NULL;
}

struct stream {
	floe_pending_response *p;
	uint64_t seq, got, next_index;
};

struct tally {
	long streams, ended_by_server, complete, dead, bad;
};

/* The stream is over (verdict @r): judge it against what its server
 * reported. */
static void judge(struct stream *s, int r, struct tally *t)
{
	uint32_t e = atomic_load(&ended[s->seq]);

	t->streams++;
	if (!e)
		return; /* no server received it: may end either way */
	t->ended_by_server++;
	if (r == FLOE_E_END_OF_STREAM && s->got == e - 1) {
		t->complete++;
		return;
	}
	t->dead += r == FLOE_E_DEAD;
	if (t->bad++ < 5)
		tap_diag("request %" PRIu64 ": server queued %u responses and "
			 "ended it; the client got %" PRIu64 ", then %s",
			 s->seq, e - 1, s->got, floe_strerror(r));
}

/* Take what is there; 1 once the stream is over. */
static int poll_stream(struct stream *s, struct tally *t)
{
	const floe_response *resp;
	int r;

	while ((r = floe_pending_response_receive(s->p, &resp)) == 1) {
		const struct rr_resp *x = floe_response_payload(resp);

		/* in order, intact (responses not queued leave gaps) */
		if (x->index < s->next_index ||
		    !rr_resp_ok(x, 1, s->seq, x->index)) {
			if (t->bad++ < 5)
				tap_diag("request %" PRIu64 ": bad response",
					 s->seq);
		} else {
			s->next_index = x->index + 1;
			s->got++;
		}
		floe_response_release(resp);
	}
	if (r == 0)
		return 0;
	if (r != FLOE_E_END_OF_STREAM && r != FLOE_E_DEAD && t->bad++ < 5)
		tap_diag("request %" PRIu64 ": receive: %s", s->seq,
			 floe_strerror(r));
	judge(s, r, t);
	floe_pending_response_drop(s->p);
	s->p = NULL;
	return 1;
}

int main(void)
{
	const char *domain = th_setup("rrchurn");
	long secs = th_env_long("FLOE_CHURN_SECS", 20);
	struct floe_rr_qos q;
	struct floe_rr_opts o;
	floe_node *node = NULL;
	floe_service *svc = NULL;
	floe_client *client = NULL;
	struct stream streams[CHANNELS] = { 0 };
	struct tally t = { 0 };
	uint64_t next_seq = 0, drain_until;
	long sent = 0, send_failures = 0;
	pthread_t thr;
	int open;

	servers_wanted = th_env_long("FLOE_CHURN_SERVERS", 3000);
	floe_rr_qos_init(&q);
	q.max_clients = 1;
	q.max_servers = 1;
	q.max_active_requests_per_client = CHANNELS;
	q.max_response_buffer_size = MAX_RESPONSES;
	o = rr_opts(&q);
	ended = calloc(MAX_REQUESTS, sizeof(*ended));
	deadline = th_now_ns() + (uint64_t)secs * 1000000000ull;

	tap_plan(10);
	tap_require(ended != NULL, "memory");
	tap_require(floe_node_create("churn-client", NULL, &node) == 0, "node");
	tap_require(floe_rr_create(node, SERVICE, &o, &svc) == 0, "service");
	tap_require(floe_client_create(svc, NULL, &client) == 0, "client");
	tap_require(pthread_create(&thr, NULL, server_thread, NULL) == 0,
		    "server thread");

	/* keep every channel busy while servers come and go */
	while (!atomic_load(&servers_done) && next_seq < MAX_REQUESTS) {
		for (int k = 0; k < CHANNELS; k++) {
			struct stream *s = &streams[k];
			struct rr_req req;
			int r;

			if (s->p && !poll_stream(s, &t))
				continue;
			rr_fill_req(&req, 1, next_seq, 1 + next_seq % MAX_RESPONSES);
			r = floe_client_send_copy(client, &req, sizeof(req), &s->p);
			if (r < 0) {
				s->p = NULL;
				send_failures++;
				continue;
			}
			*s = (struct stream){ .p = s->p, .seq = next_seq++ };
			sent++;
		}
		sched_yield();
	}
	pthread_join(thr, NULL);
	/* the last server is gone: what is left ends (generous: a loaded
	 * machine) */
	drain_until = th_now_ns() + 10000000000ull;
	do {
		open = 0;
		for (int k = 0; k < CHANNELS; k++)
			if (streams[k].p && !poll_stream(&streams[k], &t))
				open++;
		sched_yield();
	} while (open && th_now_ns() < drain_until);

	tap_diag("%ld server lifetimes, %ld of them idle", atomic_load(&lifetimes),
		 atomic_load(&idle_lifetimes));
	tap_diag("%ld requests, %ld streams over, %ld ended by a server, "
		 "%ld of them whole", sent, t.streams, t.ended_by_server,
		 t.complete);
	tap_ok(t.ended_by_server > 100 && send_failures == 0 &&
	       atomic_load(&server_failures) == 0,
	       "servers answered and ended streams (%ld; %ld send failures, "
	       "%ld server failures)", t.ended_by_server, send_failures,
	       atomic_load(&server_failures));
	tap_eq(open, 0, "every stream ended");
	tap_eq(t.dead, 0, "no stream a server ended came to FLOE_E_DEAD");
	tap_eq(t.bad, 0, "every stream a server ended arrived whole, in order");
	floe_client_destroy(client);
	floe_service_close(svc);
	floe_node_destroy(node);
	free(ended);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
