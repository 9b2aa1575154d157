// SPDX-License-Identifier: MIT
/*
 * A hostile peer writes into a publish-subscribe service while samples are
 * in flight: slots, connection queues (submission and completion rings,
 * their indices and entries) and the chunk headers of the publisher's data
 * segment. Then the subscribers receive and release, the publisher loans,
 * sends and reclaims completions, ports come and go, and everything is
 * closed. Nothing of that may crash or hang.
 *
 * Regions: 0 the service segment from its slots on, 1 its connections,
 * 2 the chunks in flight (headers and payloads). (Test of internals: it
 * reaches the segment through the library's private headers.)
 */
#include "fuzz_common.h"
#include "internal.h"

#define IN_FLIGHT 4

/* payload bytes are read into this, so the reads cannot be optimised away */
static volatile uint8_t fz_sink;

struct msg {
	uint64_t seq;
	uint64_t check;
};

static const struct floe_type msg_type = {
	.name = "fuzz.Msg",
	.size = sizeof(struct msg),
	.align = 8,
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_setup("ps");
	return 0;
}

/* Receive what there is, reading every payload byte the library vouches
 * for (an out-of-bounds length would fault or trip ASan here). */
static void drain(floe_subscriber *sub)
{
	const floe_sample *held[IN_FLIGHT * 2];
	size_t nheld = 0;

	for (int i = 0; i < 32; i++) {
		const floe_sample *s = NULL;
		const uint8_t *p;
		uint64_t n;

		if (floe_subscriber_receive(sub, &s) != 1)
			break;
		p = floe_sample_payload(s);
		n = floe_sample_payload_size(s);
		for (uint64_t k = 0; k < n; k++)
			fz_sink ^= p[k];
		(void)floe_sample_sequence(s);
		(void)floe_sample_publisher_id(s);
		/* hold some, to give hostile completions something to hit */
		if (nheld < sizeof(held) / sizeof(held[0]) && (i & 1))
			held[nheld++] = s;
		else
			floe_sample_release(s);
	}
	(void)floe_subscriber_has_samples(sub);
	while (nheld)
		floe_sample_release(held[--nheld]);
}

static void send_some(floe_publisher *pub, int n, void **payloads)
{
	for (int i = 0; i < n; i++) {
		floe_sample_mut *m;
		struct msg *p;

		if (floe_publisher_loan(pub, 1, &m))
			return;
		p = floe_sample_mut_payload(m);
		p->seq = (uint64_t)i;
		p->check = ~(uint64_t)i;
		if (payloads)
			payloads[i] = p;
		floe_sample_mut_send(m);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct floe_pubsub_qos qos;
	struct floe_service_opts o = { .type = msg_type, .qos = &qos };
	floe_subscriber *sub[2] = { NULL, NULL }, *late = NULL;
	floe_publisher *pub = NULL;
	void *payloads[IN_FLIGHT] = { NULL };
	struct fz_region regions[3];
	floe_service *svc = NULL;
	floe_node *node = fz_node("fuzz");
	char *lo = NULL, *hi = NULL;

	floe_pubsub_qos_init(&qos);
	qos.max_publishers = 1;
	qos.max_subscribers = 3;
	qos.subscriber_max_buffer_size = IN_FLIGHT;
	qos.history_size = 1;
	qos.publisher_max_loaned_samples = IN_FLIGHT;
	/* the first input byte picks the overflow policy */
	qos.enable_safe_overflow = len && (data[0] & 1);
	if (floe_service_create(node, "fuzz/pubsub", &o, &svc) ||
	    floe_publisher_create(svc, NULL, &pub) ||
	    floe_subscriber_create(svc, NULL, &sub[0]) ||
	    floe_subscriber_create(svc, NULL, &sub[1]))
		abort();
	send_some(pub, IN_FLIGHT, payloads);
	for (int i = 0; i < IN_FLIGHT; i++) {
		char *p = payloads[i];

		if (!p)
			abort();
		if (!lo || p < lo)
			lo = p;
		if (!hi || p > hi)
			hi = p;
	}
	lo -= svc->dirs[0].payload_offset;
	hi += sizeof(struct msg);

	regions[0] = (struct fz_region){
		(char *)svc->seg.addr + svc->lay.slots_off[FLOE_SLOT_NODE],
		svc->lay.size - svc->lay.slots_off[FLOE_SLOT_NODE]
	};
	regions[1] = (struct fz_region){ (char *)svc->seg.addr +
						 svc->lay.body_off,
					 svc->lay.size - svc->lay.body_off };
	regions[2] = (struct fz_region){ lo, (size_t)(hi - lo) };
	if (len)
		fz_patch(data + 1, len - 1, regions, 3);
	atomic_fetch_add(&svc->hdr->changes, 1);

	drain(sub[0]);
	send_some(pub, IN_FLIGHT, NULL);
	floe_publisher_update_connections(pub);
	drain(sub[1]);
	drain(sub[0]);
	if (floe_subscriber_create(svc, NULL, &late) == 0) {
		drain(late);
		floe_subscriber_destroy(late);
	}
	send_some(pub, 2, NULL);
	floe_subscriber_destroy(sub[0]);
	floe_publisher_destroy(pub);
	drain(sub[1]);
	floe_subscriber_destroy(sub[1]);
	floe_service_close(svc);
	floe_node_destroy(node);
	fz_sweep();
	return 0;
}
