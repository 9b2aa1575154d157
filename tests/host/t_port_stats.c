// SPDX-License-Identifier: MIT
/*
 * Traffic counters of ports, as floe_port_list reports them (what floe top
 * and floe hz compute rates from): samples and bytes sent and received,
 * samples pushed out by safe overflow, deliveries dropped on a full queue
 * without it; a slice counts the bytes of all its elements; a new port in
 * the same slot starts from zero; request-response ports count both ways;
 * a notifier counts its events.
 */
#include "helpers.h"

struct want_port {
	uint64_t id;
	struct floe_port_info got;
	bool found;
};

static int find_port(const struct floe_port_info *info, void *ctx)
{
	struct want_port *w = ctx;

	if (info->id == w->id) {
		w->got = *info;
		w->found = true;
	}
	return 0;
}

static struct floe_port_info port_info(floe_node *node, uint64_t id)
{
	struct want_port w = { .id = id };

	floe_port_list(node, find_port, &w);
	if (!w.found)
		tap_diag("port %llu not listed", (unsigned long long)id);
	return w.got;
}

static floe_service *pubsub(floe_node *node, const char *name,
			    bool safe_overflow)
{
	struct floe_pubsub_qos qos;
	struct floe_service_opts o = { .type = th_type("u64", 8, 8),
				       .qos = &qos };
	floe_service *svc = NULL;

	floe_pubsub_qos_init(&qos);
	qos.subscriber_max_buffer_size = 2;
	qos.history_size = 0;
	qos.enable_safe_overflow = safe_overflow;
	tap_require(floe_service_create(node, name, &o, &svc) == 0, "%s", name);
	return svc;
}

static void send_n(floe_publisher *pub, int n)
{
	for (uint64_t v = 0; v < (uint64_t)n; v++)
		floe_publisher_send_copy(pub, &v, sizeof(v));
}

static void test_pubsub(floe_node *node, bool safe_overflow)
{
	floe_service *svc = pubsub(node, safe_overflow ? "t/stats/safe"
						       : "t/stats/discard",
				   safe_overflow);
	const char *how = safe_overflow ? "safe overflow" : "discard";
	floe_subscriber *sub = NULL;
	floe_publisher *pub = NULL;
	const floe_sample *sample;
	struct floe_port_info p, s;

	tap_require(floe_subscriber_create(svc, NULL, &sub) == 0, "sub");
	tap_require(floe_publisher_create(svc, NULL, &pub) == 0, "pub");
	send_n(pub, 5);
	for (int i = 0; i < 2; i++)
		if (th_receive(sub, &sample, 5000) == 1)
			floe_sample_release(sample);
	p = port_info(node, floe_publisher_id(pub));
	s = port_info(node, floe_subscriber_id(sub));
	tap_ok(p.sent == 5 && p.sent_bytes == 40 && !p.received,
	       "%s: the publisher counted 5 samples, 40 bytes sent", how);
	if (safe_overflow)
		tap_ok(p.overflowed == 3 && !p.undelivered,
		       "%s: 3 queued samples pushed out", how);
	else
		tap_ok(p.undelivered == 3 && !p.overflowed,
		       "%s: 3 deliveries dropped on the full queue", how);
	if (p.overflowed + p.undelivered != 3)
		tap_diag("  overflowed %llu, undelivered %llu",
			 (unsigned long long)p.overflowed,
			 (unsigned long long)p.undelivered);
	tap_ok(s.received == 2 && s.received_bytes == 16 && !s.sent,
	       "%s: the subscriber counted 2 samples, 16 bytes received", how);

	/* a new publisher in the freed slot starts from zero */
	floe_publisher_destroy(pub);
	tap_require(floe_publisher_create(svc, NULL, &pub) == 0, "pub again");
	p = port_info(node, floe_publisher_id(pub));
	tap_ok(!p.sent && !p.sent_bytes && !p.overflowed && !p.undelivered,
	       "%s: a new publisher starts from zero", how);
	floe_publisher_destroy(pub);
	floe_subscriber_destroy(sub);
	floe_service_close(svc);
}

/* A sample of n elements counts n times the element size, whatever mix of
 * one-element samples and slices was sent. */
static void test_slices(floe_node *node)
{
	floe_service *svc = pubsub(node, "t/stats/slices", false);
	struct floe_publisher_opts po;
	floe_subscriber *sub = NULL;
	floe_publisher *pub = NULL;
	const floe_sample *sample;
	floe_sample_mut *m;
	struct floe_port_info p, s;
	static const uint64_t lens[] = { 3, 1 };
	int got = 0;

	floe_publisher_opts_init(&po);
	po.initial_max_slice_len = 4;
	tap_require(floe_subscriber_create(svc, NULL, &sub) == 0, "sub");
	tap_require(floe_publisher_create(svc, &po, &pub) == 0, "pub");
	for (int i = 0; i < 2; i++) {
		tap_require(floe_publisher_loan(pub, lens[i], &m) == 0, "loan");
		memset(floe_sample_mut_payload(m), i, lens[i] * 8);
		tap_require(floe_sample_mut_send(m) == 1, "send");
	}
	for (int i = 0; i < 2; i++)
		if (th_receive(sub, &sample, 5000) == 1) {
			got++;
			floe_sample_release(sample);
		}
	p = port_info(node, floe_publisher_id(pub));
	s = port_info(node, floe_subscriber_id(sub));
	tap_ok(got == 2 && p.sent == 2 && p.sent_bytes == 32,
	       "slices: 2 samples of 3 and 1 elements, 32 bytes sent");
	tap_ok(s.received == 2 && s.received_bytes == 32,
	       "slices: 2 samples, 32 bytes received");
	if (p.sent_bytes != 32 || s.received_bytes != 32)
		tap_diag("  sent %llu bytes, received %llu",
			 (unsigned long long)p.sent_bytes,
			 (unsigned long long)s.received_bytes);
	floe_publisher_destroy(pub);
	floe_subscriber_destroy(sub);
	floe_service_close(svc);
}

static void test_rr(floe_node *node)
{
	struct floe_rr_opts o = { .request_type = th_type("u64", 8, 8),
				  .response_type = th_type("u32", 4, 4) };
	floe_service *svc = NULL;
	floe_client *client = NULL;
	floe_server *server = NULL;
	floe_pending_response *pending = NULL;
	floe_active_request *req = NULL;
	const floe_response *resp = NULL;
	struct floe_port_info c, s;
	uint64_t q = 7;
	uint32_t a = 9;
	int got = 0;

	tap_require(floe_rr_create(node, "t/stats/rr", &o, &svc) == 0, "rr");
	tap_require(floe_server_create(svc, NULL, &server) == 0, "server");
	tap_require(floe_client_create(svc, NULL, &client) == 0, "client");
	tap_require(floe_client_send_copy(client, &q, sizeof(q), &pending) >= 0,
		    "request");
	for (int i = 0; i < 5000 && floe_server_receive(server, &req) != 1; i++)
		th_sleep_ms(1);
	tap_require(req, "the server got it");
	floe_active_request_send_copy(req, &a, sizeof(a));
	floe_active_request_drop(req);
	for (int i = 0; i < 5000 && got != 1; i++) {
		got = floe_pending_response_receive(pending, &resp);
		if (got != 1)
			th_sleep_ms(1);
	}
	if (got == 1)
		floe_response_release(resp);
	c = port_info(node, floe_client_id(client));
	s = port_info(node, floe_server_id(server));
	tap_ok(c.sent == 1 && c.sent_bytes == 8 && c.received == 1 &&
	       c.received_bytes == 4,
	       "the client counted its request sent and the response received");
	tap_ok(s.received == 1 && s.received_bytes == 8 && s.sent == 1 &&
	       s.sent_bytes == 4,
	       "the server counted the request received and its response sent");
	floe_pending_response_drop(pending);
	floe_client_destroy(client);
	floe_server_destroy(server);
	floe_service_close(svc);
}

static void test_event(floe_node *node)
{
	floe_service *svc = NULL;
	floe_notifier *n = NULL;
	floe_listener *l = NULL;

	tap_require(floe_event_create(node, "t/stats/ev", NULL, &svc) == 0 &&
		    floe_listener_create(svc, &l) == 0 &&
		    floe_notifier_create(svc, &n) == 0, "event ports");
	for (int i = 0; i < 3; i++)
		floe_notifier_notify(n, 1);
	tap_eq(port_info(node, floe_notifier_id(n)).sent, 3,
	       "a notifier counts its events sent");
	floe_notifier_destroy(n);
	floe_listener_destroy(l);
	floe_service_close(svc);
}

int main(void)
{
	const char *domain = th_setup("stats");
	floe_node *node = th_node("stats");

	tap_plan(36);
	tap_require(node, "node");
	test_pubsub(node, true);
	test_pubsub(node, false);
	test_slices(node);
	test_rr(node);
	test_event(node);
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared memory left");
	return tap_done();
}
