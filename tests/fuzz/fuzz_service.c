// SPDX-License-Identifier: MIT
/*
 * A hostile peer rewrites a service's static configuration: the segment
 * header (magic, version, state, QoS, type, attributes, creator) and the
 * slots after it. Then another node opens the service, reads what it
 * reports, creates and destroys ports and closes it: the header must be
 * validated before anything relies on it.
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

static const struct pattern {
	int (*create)(floe_node *node, floe_service **out);
	void (*use)(floe_node *node);
} patterns[] = {
	{ pubsub_create, pubsub_use },
	{ event_create, event_use },
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
	floe_service_close(svc);
	floe_node_destroy(creator);
	fz_sweep();
	return 0;
}
