// SPDX-License-Identifier: MIT
/*
 * A sender announces in each chunk header the chunk its next loan takes
 * (struct floe_chunk_header.next_chunk), so that a receiver waiting for
 * the next sample can fetch that line together with its queue's: the
 * announcement is right, the announced chunk counts as free (nothing
 * leaks), and a receiver ignores an announcement out of range (a hostile
 * sender's), as it must any hint.
 */
#include "engine/receiver.h"
#include "engine/sender.h"
#include "helpers.h"

static const struct floe_type u64_type = {
	.name = "t_next.U64", .size = 8, .align = 8
};

/* The header of a received sample, through its payload. */
static struct floe_chunk_header *header_of(floe_service *svc, const void *p)
{
	return (struct floe_chunk_header *)((char *)p -
					    svc->dirs[0].payload_offset);
}

int main(void)
{
	const char *domain = th_setup("next");
	floe_node *node = th_node("main");
	struct floe_pubsub_qos q;
	struct floe_service_opts o = { .type = u64_type, .qos = &q };
	floe_service *svc = NULL;
	floe_publisher *pub = NULL;
	floe_subscriber *sub = NULL;
	const floe_sample *s;
	floe_sample_mut *m;
	struct floe_sender *tx;
	struct source *src;
	uint32_t announced, right = 0, all;

	tap_plan(8);
	floe_pubsub_qos_init(&q);
	tap_require(node && !floe_service_create(node, "t/next", &o, &svc) &&
			    !floe_subscriber_create(svc, NULL, &sub) &&
			    !floe_publisher_create(svc, NULL, &pub),
		    "ports");
	tx = floe_publisher_sender(pub);
	all = floe_sender_chunk_count(tx);

	/* every send announces the chunk of the next loan */
	for (uint64_t i = 0; i < 200; i++) {
		if (floe_publisher_send_copy(pub, &i, 8) != 1 ||
		    floe_subscriber_receive(sub, &s) != 1)
			break;
		announced = header_of(svc, floe_sample_payload(s))->next_chunk;
		floe_sample_release(s);
		if (floe_publisher_loan(pub, 1, &m))
			break;
		right += m->chunk == announced;
		floe_sample_mut_discard(m);
	}
	tap_eq(right, 200, "each header names the chunk the next loan takes");
	src = floe_subscriber_receiver(sub)->sources[0];
	tap_ok(src && src->next_header, "the receiver keeps where it is");
	floe_subscriber_receive(sub, &s); /* gives back what was released */
	floe_sender_update(tx);
	tap_eq(floe_sender_free_chunks(tx), all,
	       "the announced chunk counts as free: nothing leaks");

	/* a sender that announces nonsense: ignored */
	tap_require(!floe_publisher_loan(pub, 1, &m), "loan");
	floe_sample_mut_send(m);
	tap_require(floe_subscriber_receive(sub, &s) == 1, "received");
	floe_sample_release(s);
	/* rewrite the header of the next one after its send, as a hostile
	 * sender could, before it is received */
	floe_publisher_loan(pub, 1, &m);
	{
		struct floe_chunk_header *ch =
			header_of(svc, floe_sample_mut_payload(m));

		floe_sample_mut_send(m);
		ch->next_chunk = UINT32_MAX - 7;
	}
	tap_ok(floe_subscriber_receive(sub, &s) == 1 && !src->next_header,
	       "an announcement out of range is not kept");
	floe_sample_release(s);
	floe_subscriber_destroy(sub);
	floe_publisher_destroy(pub);
	floe_service_close(svc);
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
