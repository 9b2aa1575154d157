// SPDX-License-Identifier: MIT
/*
 * A hostile peer rewrites a service's static configuration: the segment
 * header (magic, version, state, QoS, types, attributes, creator), the
 * slots after it and, for a blackboard, its key table. Then another node
 * opens the service, reads what it reports, creates and destroys ports
 * and closes it: the header must be validated before anything relies on
 * it.
 *
 * The first input byte picks the pattern; the rest are patches of
 * region 0, the segment up to the end of its layout. A pattern is one
 * entry of `patterns` below.
 */
#include "fuzz_common.h"
#include "internal.h"

static const struct floe_type msg_type = {
	.name = "fuzz.Svc",
	.size = 16,
	.align = 8,
};

static const struct floe_type resp_type = {
	.name = "fuzz.Resp",
	.size = 16,
	.align = 8,
};

static const struct floe_attribute attrs[] = {
	{ "unit", "m/s" },
	{ "rate", "100" },
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_setup("svc");
	return 0;
}

static int pubsub_create(floe_node *node, floe_service **out)
{
	struct floe_service_opts o = {
		.type = msg_type,
		.attributes = attrs,
		.num_attributes = 2,
	};

	return floe_service_create(node, "fuzz/svc", &o, out);
}

static void pubsub_use(floe_node *node)
{
	struct floe_service_opts o = { .type = msg_type };
	struct floe_pubsub_qos qos;
	floe_publisher *pub;
	floe_subscriber *sub;
	floe_service *svc;
	const floe_sample *s;

	if (floe_service_open(node, "fuzz/svc", &o, &svc))
		return;
	floe_service_qos(svc, &qos);
	(void)floe_service_attribute(svc, "unit");
	(void)strlen(floe_service_name(svc));
	if (floe_publisher_create(svc, NULL, &pub) == 0) {
		if (floe_subscriber_create(svc, NULL, &sub) == 0) {
			floe_publisher_send_copy(pub, "0123456789abcdef", 16);
			if (floe_subscriber_receive(sub, &s) == 1)
				floe_sample_release(s);
			floe_subscriber_destroy(sub);
		}
		floe_publisher_destroy(pub);
	}
	floe_service_close(svc);
}

static int event_create(floe_node *node, floe_service **out)
{
	struct floe_event_opts o = { .attributes = attrs, .num_attributes = 2 };

	return floe_event_create(node, "fuzz/svc", &o, out);
}

static void event_use(floe_node *node)
{
	struct floe_event_qos qos;
	floe_notifier *notifier;
	floe_listener *listener;
	floe_service *svc;

	if (floe_event_open(node, "fuzz/svc", NULL, &svc))
		return;
	floe_event_qos(svc, &qos);
	if (floe_listener_create(svc, &listener) == 0) {
		if (floe_notifier_create(svc, &notifier) == 0) {
			floe_notifier_notify(notifier, 3);
			floe_notifier_notify(notifier, qos.event_id_max);
			floe_notifier_destroy(notifier);
		}
		floe_listener_destroy(listener);
	}
	floe_service_close(svc);
}

static int rr_create(floe_node *node, floe_service **out)
{
	struct floe_rr_opts o = {
		.request_type = msg_type,
		.response_type = resp_type,
		.attributes = attrs,
		.num_attributes = 2,
	};

	return floe_rr_create(node, "fuzz/svc", &o, out);
}

/* A request and its response; the client goes before the server, which
 * would wait for it to drain. */
static void rr_exchange(floe_client *client, floe_server *server)
{
	floe_pending_response *pending;
	const floe_response *resp;
	floe_active_request *req;

	if (floe_client_send_copy(client, "0123456789abcdef", 16, &pending) < 0)
		return;
	if (floe_server_receive(server, &req) == 1) {
		fz_ret(floe_active_request_send_copy(req, "fedcba9876543210",
						     16),
		       1);
		floe_active_request_drop(req);
	}
	if (fz_ret(floe_pending_response_receive(pending, &resp), 1) == 1)
		floe_response_release(resp);
	floe_pending_response_drop(pending);
}

static void rr_use(floe_node *node)
{
	struct floe_rr_opts o = { .request_type = msg_type,
				  .response_type = resp_type };
	struct floe_rr_qos qos;
	floe_client *client;
	floe_server *server;
	floe_service *svc;

	if (floe_rr_open(node, "fuzz/svc", &o, &svc))
		return;
	floe_rr_qos(svc, &qos);
	(void)floe_service_attribute(svc, "unit");
	if (floe_server_create(svc, NULL, &server) == 0) {
		if (floe_client_create(svc, NULL, &client) == 0) {
			rr_exchange(client, server);
			floe_client_destroy(client);
		}
		floe_server_destroy(server);
	}
	floe_service_close(svc);
}

/* The creator's blackboard; the harness patches its segment, mapped
 * once more by bb_create. */
static floe_blackboard *bb_creator;

static int bb_create(floe_node *node, floe_service **out)
{
	static const uint64_t initial[2] = { 1, 2 };
	const struct floe_blackboard_entry entries[] = {
		{ 1, "fuzz.U64", 8, 8, &initial[0] },
		{ 9, "fuzz.Pair", 16, 8, initial },
	};
	struct floe_blackboard_opts o = {
		.entries = entries,
		.num_entries = 2,
		.attributes = attrs,
		.num_attributes = 2,
	};
	char name[FLOE_SEG_NAME_MAX];
	int ret = floe_blackboard_create(node, "fuzz/svc", &o, &bb_creator);

	if (ret)
		return ret;
	floe_seg_name(name, node->be->domain, FLOE_KIND_BLACKBOARD,
		      floe_name_hash("fuzz/svc"), 0);
	ret = floe_svc_attach(node, name, out);
	if (ret)
		floe_blackboard_close(bb_creator);
	return ret;
}

static void bb_close(floe_service *svc)
{
	floe_svc_detach(svc);
	floe_blackboard_close(bb_creator);
}

/* Write and read every entry; the opener knows no sizes: try both. */
static void bb_touch(floe_blackboard *bb, floe_writer *writer,
		     floe_reader *reader)
{
	uint64_t buf[2] = { 3, 4 }, key, gen;

	for (size_t i = 0; i < floe_blackboard_num_entries(bb); i++) {
		if (floe_blackboard_key(bb, i, &key))
			abort();
		fz_ret(floe_writer_write(writer, key, buf, 8), 0);
		fz_ret(floe_writer_write(writer, key, buf, 16), 0);
		fz_ret(floe_reader_read(reader, key, buf, 8, &gen), 0);
		fz_ret(floe_reader_read(reader, key, buf, 16, &gen), 0);
		fz_ret(floe_reader_changed(reader, key), 1);
	}
	fz_ret(floe_reader_wait(reader, 0, NULL, NULL), 2);
}

static void bb_use(floe_node *node)
{
	floe_blackboard *bb;
	floe_writer *writer;
	floe_reader *reader;

	if (floe_blackboard_open(node, "fuzz/svc", NULL, &bb))
		return;
	if (floe_writer_create(bb, &writer) == 0) {
		if (floe_reader_create(bb, &reader) == 0) {
			bb_touch(bb, writer, reader);
			floe_reader_destroy(reader);
		}
		floe_writer_destroy(writer);
	}
	floe_blackboard_close(bb);
}

static const struct pattern {
	/* create the service; *out maps its segment until close */
	int (*create)(floe_node *node, floe_service **out);
	void (*use)(floe_node *node);
	void (*close)(floe_service *svc);
} patterns[] = {
	{ pubsub_create, pubsub_use, floe_service_close },
	{ event_create, event_use, floe_service_close },
	{ rr_create, rr_use, floe_service_close },
	{ bb_create, bb_use, bb_close },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const struct pattern *p;
	struct fz_region whole;
	floe_node *creator, *opener;
	floe_service *svc;

	if (!len)
		return 0;
	p = &patterns[data[0] % (sizeof(patterns) / sizeof(patterns[0]))];
	creator = fz_node("creator");
	opener = fz_node("opener");
	if (p->create(creator, &svc))
		abort();
	whole = (struct fz_region){ svc->seg.addr, svc->lay.size };
	fz_patch(data + 1, len - 1, &whole, 1);
	/* a creator that never finishes makes openers wait for seconds:
	 * that path is a timeout, not a parser */
	if (atomic_load(&svc->hdr->state) == FLOE_SVC_CREATING)
		atomic_store(&svc->hdr->state, FLOE_SVC_READY);
	p->use(opener);
	p->use(opener);
	floe_node_destroy(opener);
	p->close(svc);
	floe_node_destroy(creator);
	fz_sweep();
	return 0;
}
