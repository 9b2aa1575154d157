// SPDX-License-Identifier: MIT
/*
 * A released sample's chunk goes back to its publisher at the
 * subscriber's next receive, look for samples, wait or destroy (not at
 * the release itself: lib/engine/receiver.c, return_released), and the
 * publisher never runs dry meanwhile: a subscriber that holds its full
 * allowance and releases it without receiving again withholds no more
 * than it could hold.
 */
#include "engine/sender.h"
#include "helpers.h"

static const struct floe_type u64_type = {
	.name = "t_release.U64", .size = 8, .align = 8
};

static uint32_t free_chunks(floe_publisher *pub)
{
	struct floe_sender *tx = floe_publisher_sender(pub);

	floe_sender_update(tx); /* take back everything returned */
	return floe_sender_free_chunks(tx);
}

static int send(floe_publisher *pub, uint64_t v)
{
	return floe_publisher_send_copy(pub, &v, sizeof(v));
}

int main(void)
{
	const char *domain = th_setup("release");
	floe_node *node = th_node("main");
	struct floe_pubsub_qos q;
	struct floe_service_opts o = { .type = u64_type, .qos = &q };
	floe_service *svc = NULL;
	floe_publisher *pub = NULL;
	floe_subscriber *sub = NULL;
	const floe_sample *s[4];
	uint32_t all, bad = 0;

	tap_plan(11);
	floe_pubsub_qos_init(&q);
	q.subscriber_max_buffer_size = 2;
	q.subscriber_max_borrowed_samples = 4;
	q.publisher_max_loaned_samples = 1;
	tap_require(node && !floe_service_create(node, "t/release", &o, &svc) &&
			    !floe_subscriber_create(svc, NULL, &sub) &&
			    !floe_publisher_create(svc, NULL, &pub),
		    "ports");
	all = floe_sender_chunk_count(floe_publisher_sender(pub));

	tap_eq(send(pub, 1), 1, "sent");
	tap_eq(floe_subscriber_receive(sub, &s[0]), 1, "received");
	floe_sample_release(s[0]);
	tap_eq(free_chunks(pub), all - 1,
	       "released: its chunk not back yet (nothing looked since)");
	tap_eq(floe_subscriber_receive(sub, &s[0]), 0,
	       "the next receive finds nothing");
	tap_eq(free_chunks(pub), all, "and gave the chunk back");

	send(pub, 2);
	floe_subscriber_receive(sub, &s[0]);
	floe_sample_release(s[0]);
	floe_subscriber_has_samples(sub);
	tap_eq(free_chunks(pub), all, "so does a look for samples");
	send(pub, 3);
	floe_subscriber_receive(sub, &s[0]);
	floe_sample_release(s[0]);
	floe_subscriber_wait(sub, 0);
	tap_eq(free_chunks(pub), all, "and a wait");

	/* hold the whole allowance, release it all, then only send: the
	 * publisher's pool has room for it (and more) */
	for (uint64_t round = 0; round < 1000; round++) {
		int n = 0;

		for (int k = 0; k < 4; k++) {
			if (send(pub, round * 4 + k) != 1) {
				bad++;
				continue;
			}
			/* the queue holds 2: take as they come */
			if (floe_subscriber_receive(sub, &s[n]) == 1)
				n++;
		}
		for (int k = 0; k < n; k++)
			floe_sample_release(s[k]);
		bad += n != 4;
	}
	tap_eq(bad, 0, "1000 rounds of four held and released: the "
		       "publisher never ran dry, every sample arrived");
	floe_subscriber_destroy(sub);
	tap_eq(free_chunks(pub), all, "destroying the subscriber gives "
				      "back what it released last");
	floe_publisher_destroy(pub);
	floe_service_close(svc);
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
