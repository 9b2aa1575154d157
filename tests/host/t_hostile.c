// SPDX-License-Identifier: MIT
/*
 * A buggy or hostile peer writes garbage into a service's shared memory:
 * queue entries with out-of-range chunk indices or generations, indices
 * moved past each other, chunk headers with absurd lengths, bogus
 * completions, a corrupted QoS, and finally random bytes over every slot
 * and queue. The library must reject all of it without crashing and without
 * corrupting samples a subscriber holds. (Test of internals: it reaches the
 * service segment through the library's private headers.)
 */
#include "helpers.h"
#include "internal.h"

struct msg {
	uint64_t seq;
	uint64_t pattern[7];
};

static const struct floe_type msg_type = {
	.name = "t_hostile.Msg",
	.size = sizeof(struct msg),
	.align = 8,
};

static int send_seq(floe_publisher *pub, uint64_t seq)
{
	struct msg m = { .seq = seq };

	for (int i = 0; i < 7; i++)
		m.pattern[i] = th_pattern(seq, (uint64_t)i);
	return floe_publisher_send_copy(pub, &m, sizeof(m));
}

static int msg_ok(const floe_sample *s, uint64_t seq)
{
	const struct msg *m = floe_sample_payload(s);

	for (int i = 0; i < 7; i++)
		if (m->pattern[i] != th_pattern(seq, (uint64_t)i))
			return 0;
	return m->seq == seq;
}

static struct floe_ring *sub_ring(floe_service *svc)
{
	return floe_dir_sub_ring(&svc->dirs[0], floe_dir_conn(&svc->dirs[0], 0, 0));
}

static int valid_code(int r)
{
	return r <= 1 && r >= FLOE_E_WOULD_BLOCK;
}

int main(void)
{
	struct floe_pubsub_qos qos;
	struct floe_service_opts o = { .type = msg_type, .qos = &qos };
	const floe_sample *held[2], *s = NULL;
	floe_publisher *pub;
	floe_subscriber *sub;
	floe_service *svc, *other;
	struct floe_ring *ring;
	floe_node *node;
	struct floe_ring_producer prod = { 0 };
	int r, ok;

	th_setup("hostile");
	tap_plan(15);
	floe_pubsub_qos_init(&qos);
	qos.max_publishers = 1;
	qos.max_subscribers = 1;
	qos.enable_safe_overflow = false;
	node = th_node("hostile");
	tap_require(node != NULL, "node");
	tap_require(floe_service_create(node, "t/hostile", &o, &svc) == 0 &&
			    floe_publisher_create(svc, NULL, &pub) == 0 &&
			    floe_subscriber_create(svc, NULL, &sub) == 0,
		    "service, publisher and subscriber");

	/* The subscriber holds two samples while garbage is given back. */
	send_seq(pub, 0);
	send_seq(pub, 1);
	ok = floe_subscriber_receive(sub, &held[0]) == 1 &&
	     floe_subscriber_receive(sub, &held[1]) == 1;
	tap_require(ok, "subscriber holds two samples");
	{
		struct floe_conn *c = floe_dir_conn(&svc->dirs[0], 0, 0);
		struct floe_ring *comp = floe_dir_comp_ring(&svc->dirs[0], c);
		uint32_t epoch = atomic_load(&c->epoch);

		prod.tail = prod.head_cache = atomic_load(&comp->tail);
		/* wrong epoch for every index, out-of-range indices, and
		 * right-epoch indices that are not in flight */
		for (uint32_t i = 0; i < svc->dirs[0].chunk_count; i++)
			floe_ring_push(comp, svc->dirs[0].comp_cap,
				       svc->dirs[0].comp_cap, &prod,
				       floe_entry(epoch + 7, 0, i));
		floe_ring_push(comp, svc->dirs[0].comp_cap, svc->dirs[0].comp_cap,
			       &prod, floe_entry(epoch, 0, 0xffffffffu));
		for (int k = 2; k < 6; k++)
			send_seq(pub, (uint64_t)k);
	}
	tap_ok(msg_ok(held[0], 0) && msg_ok(held[1], 1),
	       "bogus completions did not free chunks the subscriber holds");
	floe_sample_release(held[0]);
	floe_sample_release(held[1]);
	ok = 1;
	for (uint64_t k = 2; k < 6; k++) {
		ok &= floe_subscriber_receive(sub, &s) == 1 && msg_ok(s, k);
		if (s)
			floe_sample_release(s);
		s = NULL;
	}
	tap_ok(ok, "later samples arrive intact");

	/* Submission entry pointing past the chunk array. */
	ring = sub_ring(svc);
	send_seq(pub, 100);
	{
		uint64_t h = atomic_load(&ring->head);
		uint64_t e = atomic_load(&ring->entries[h % svc->dirs[0].sub_cap]);

		atomic_store(&ring->entries[h % svc->dirs[0].sub_cap],
			     floe_entry(FLOE_ENTRY_EPOCH(e), FLOE_ENTRY_GEN(e),
					svc->dirs[0].chunk_count + 5));
	}
	tap_eq(floe_subscriber_receive(sub, &s), 0,
	       "out-of-range chunk index is skipped");
	send_seq(pub, 101);
	{
		uint64_t h = atomic_load(&ring->head);
		uint64_t e = atomic_load(&ring->entries[h % svc->dirs[0].sub_cap]);

		atomic_store(&ring->entries[h % svc->dirs[0].sub_cap],
			     floe_entry(FLOE_ENTRY_EPOCH(e), 77,
					FLOE_ENTRY_CHUNK(e)));
	}
	r = floe_subscriber_receive(sub, &s);
	tap_eq(r, 0, "unknown data generation is skipped");

	/* A chunk header claiming an absurd length. */
	{
		floe_sample_mut *m;

		tap_require(floe_publisher_loan(pub, 1, &m) == 0, "loan");
		((struct floe_chunk_header *)((char *)floe_sample_mut_payload(m) -
					      svc->dirs[0].payload_offset))
			->len = 1ULL << 40;
		floe_sample_mut_send(m);
		/* send rewrote the header; corrupt it again after the fact */
		((struct floe_chunk_header *)((char *)floe_sample_mut_payload(m) -
					      svc->dirs[0].payload_offset))
			->len = 1ULL << 40;
	}
	tap_eq(floe_subscriber_receive(sub, &s), 0,
	       "chunk header with an absurd length is skipped");
	ok = 1;
	for (uint64_t k = 200; k < 210; k++) {
		int sent = send_seq(pub, k), got = floe_subscriber_receive(sub, &s);

		if (sent != 1 || got != 1 || !msg_ok(s, k))
			tap_diag("seq %" PRIu64 ": sent %d, received %d", k, sent, got);
		ok &= sent == 1 && got == 1 && msg_ok(s, k);
		if (s)
			floe_sample_release(s);
		s = NULL;
	}
	tap_ok(ok, "the connection still works after skipped entries");

	/* Indices moved past each other: the queue is treated as broken. */
	atomic_store(&ring->tail, atomic_load(&ring->head) + (1ULL << 40));
	r = floe_subscriber_receive(sub, &s);
	tap_ok(r == 0, "corrupt queue indices: nothing received (got %d)", r);
	tap_ok(!floe_subscriber_has_samples(sub),
	       "and no phantom samples are reported");

	/* A QoS no layout can satisfy. */
	svc->hdr->qos.pubsub.max_publishers = 0;
	r = floe_service_open(node, "t/hostile", &o, &other);
	tap_eq(r, FLOE_E_CORRUPT, "corrupt QoS in the header: open refuses");
	svc->hdr->qos.pubsub.max_publishers = 1;

	/* Random bytes over every slot and queue, many times over. */
	ok = 1;
	for (int round = 0; round < 300; round++) {
		char *base = (char *)svc->seg.addr + svc->lay.slots_off[FLOE_SLOT_NODE];
		uint64_t len = svc->lay.size - svc->lay.slots_off[FLOE_SLOT_NODE];
		floe_sample_mut *m;

		for (uint64_t i = 0; i < len / 8; i += 1 + th_rand_below(16))
			((uint64_t *)base)[i] = th_rand_below(4) ? th_rand()
								 : th_rand_below(64);
		atomic_fetch_add(&svc->hdr->changes, 1);
		r = floe_publisher_loan(pub, 1, &m);
		ok &= valid_code(r);
		if (r == 0)
			ok &= valid_code(floe_sample_mut_send(m));
		r = floe_subscriber_receive(sub, &s);
		ok &= valid_code(r);
		if (r == 1)
			floe_sample_release(s);
		ok &= valid_code(floe_publisher_update_connections(pub));
	}
	tap_ok(ok, "300 rounds of random garbage: every call returns a valid code");
	tap_ok(1, "and the process is still alive");

	floe_subscriber_destroy(sub);
	floe_publisher_destroy(pub);
	/* The slots are garbage now, so the service cannot tell that nobody
	 * uses it: remove it by hand; closing must still not crash. */
	node->be->ops->seg_unlink(node->be, svc->seg_name);
	floe_service_close(svc);
	floe_node_cleanup_dead(node);
	floe_node_destroy(node);
	return tap_done();
}
