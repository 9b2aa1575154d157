// SPDX-License-Identifier: MIT
/*
 * A sent chunk is back in its publisher's pool exactly when nothing holds
 * it any more: no subscriber's queue, no subscriber's hand (received, not
 * yet released, or released and not yet given back), no history. Checked
 * against a model after every step of a random run: sends to up to three
 * subscribers (a send's first delivery takes over the loan's reference,
 * lib/engine/sender.c), receives in order, releases in any order, safe
 * overflow evicting from full queues, subscribers leaving and late ones
 * joining (history re-sent), and sends with nobody connected. Run twice:
 * with history (every send then ends out of line) and without (the
 * common publish, floe_sender_publish, ends inline). At most STEPS steps
 * or FLOE_SEND_REFS_SECS seconds (default 5: slow kernels) each.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/sender.h"
#include "helpers.h"

#define SUBS 3
#define BUFFER 3
#define BORROWED 2
#define HISTORY 2
#define STEPS 20000
#define MAX_SAMPLES (STEPS + 1)

static const struct floe_type u64_type = {
	.name = "t_send_refs.U64", .size = 8, .align = 8
};

/* What the model knows of one subscriber. */
struct model_sub {
	floe_subscriber *port; /* NULL: not there */
	uint64_t queue[BUFFER]; /* sequence numbers, oldest first */
	uint32_t queued;
	const floe_sample *held[BORROWED];
	uint64_t held_seq[BORROWED];
	uint32_t nheld;
};

static struct model_sub subs[SUBS];
static uint64_t history[HISTORY]; /* the last sent, oldest first */
static uint32_t hist_len, hist_max;

/* How many sent samples something still holds. */
static uint32_t live_samples(uint64_t sent)
{
	static uint8_t holds[MAX_SAMPLES];
	uint32_t live = 0;

	for (uint64_t q = 0; q < sent; q++)
		holds[q] = 0;
	for (uint32_t k = 0; k < hist_len; k++)
		holds[history[k]] = 1;
	for (int i = 0; i < SUBS; i++) {
		for (uint32_t k = 0; k < subs[i].queued; k++)
			holds[subs[i].queue[k]] = 1;
		for (uint32_t k = 0; k < subs[i].nheld; k++)
			holds[subs[i].held_seq[k]] = 1;
	}
	for (uint64_t q = 0; q < sent; q++)
		live += holds[q];
	return live;
}

static void queue_push(struct model_sub *m, uint64_t seq)
{
	if (m->queued == BUFFER) { /* safe overflow: the oldest goes */
		for (uint32_t k = 1; k < BUFFER; k++)
			m->queue[k - 1] = m->queue[k];
		m->queued--;
	}
	m->queue[m->queued++] = seq;
}

static int join(floe_service *svc, struct model_sub *m)
{
	if (floe_subscriber_create(svc, NULL, &m->port))
		return -1;
	/* a late joiner is sent the history, oldest first */
	m->queued = 0;
	m->nheld = 0;
	for (uint32_t k = 0; k < hist_len; k++)
		queue_push(m, history[k]);
	return 0;
}

/* Release what @m holds and leave. */
static void leave(struct model_sub *m)
{
	for (uint32_t k = 0; k < m->nheld; k++)
		floe_sample_release(m->held[k]);
	floe_subscriber_destroy(m->port);
	m->port = NULL;
	m->queued = 0;
	m->nheld = 0;
}

/* One random run with a history of hist_max (at most HISTORY). */
static void run(floe_node *node)
{
	struct floe_pubsub_qos q;
	struct floe_service_opts o = { .type = u64_type, .qos = &q };
	floe_service *svc = NULL;
	floe_publisher *pub = NULL;
	struct floe_sender *tx;
	uint64_t sent = 0;
	uint32_t all, wrong_value = 0, wrong_count = 0, failed = 0;
	uint32_t sends = 0, evictions = 0, joins = 0;
	uint64_t deadline = th_now_ns() +
			    (uint64_t)th_env_long("FLOE_SEND_REFS_SECS", 5) *
				    1000000000ull;

	hist_len = 0;
	floe_pubsub_qos_init(&q);
	q.max_subscribers = SUBS;
	q.subscriber_max_buffer_size = BUFFER;
	q.subscriber_max_borrowed_samples = BORROWED;
	q.history_size = hist_max;
	q.publisher_max_loaned_samples = 1;
	tap_require(node && !floe_service_create(node, "t/send_refs", &o, &svc) &&
			    !floe_publisher_create(svc, NULL, &pub),
		    "history %u: service and publisher", hist_max);
	tx = floe_publisher_sender(pub);
	all = floe_sender_chunk_count(tx);
	for (int i = 0; i < SUBS; i++)
		tap_require(!join(svc, &subs[i]), "subscriber %d", i);

	for (uint32_t step = 0;
	     step < STEPS && !failed && th_now_ns() < deadline; step++) {
		struct model_sub *m = &subs[th_rand_below(SUBS)];
		uint64_t op = th_rand_below(100), v;
		const floe_sample *s;

		if (op < 40) { /* send */
			int got = floe_publisher_send_copy(pub, &sent,
							   sizeof(sent));
			int want = 0;

			for (int i = 0; i < SUBS; i++) {
				if (!subs[i].port)
					continue;
				evictions += subs[i].queued == BUFFER;
				queue_push(&subs[i], sent);
				want++;
			}
			if (hist_max) {
				if (hist_len == hist_max) {
					for (uint32_t k = 1; k < hist_max; k++)
						history[k - 1] = history[k];
					hist_len--;
				}
				history[hist_len++] = sent;
			}
			sent++;
			sends++;
			if (got != want) {
				tap_diag("step %u: sent to %d, model %d", step,
					 got, want);
				failed++;
			}
		} else if (op < 70 && m->port) { /* receive */
			int r = floe_subscriber_receive(m->port, &s);

			if (m->nheld == BORROWED) {
				failed += r != FLOE_E_BORROW_LIMIT;
			} else if (!m->queued) {
				failed += r != 0;
			} else if (r != 1) {
				tap_diag("step %u: receive %d", step, r);
				failed++;
			} else {
				memcpy(&v, floe_sample_payload(s), sizeof(v));
				wrong_value += v != m->queue[0];
				for (uint32_t k = 1; k < m->queued; k++)
					m->queue[k - 1] = m->queue[k];
				m->queued--;
				m->held[m->nheld] = s;
				m->held_seq[m->nheld++] = v;
			}
		} else if (op < 95 && m->port && m->nheld) { /* release */
			uint32_t k = (uint32_t)th_rand_below(m->nheld);

			floe_sample_release(m->held[k]);
			m->held[k] = m->held[m->nheld - 1];
			m->held_seq[k] = m->held_seq[m->nheld - 1];
			m->nheld--;
			/* the chunk goes back at the next look */
			floe_subscriber_has_samples(m->port);
		} else if (op >= 95 && m->port) {
			leave(m);
		} else if (op >= 95) {
			if (join(svc, m))
				failed++;
			joins++;
		}
		/* take back everything given back, then count */
		floe_sender_update(tx);
		if (floe_sender_free_chunks(tx) != all - live_samples(sent)) {
			if (!wrong_count++)
				tap_diag("step %u: %u chunks free, model %u", step,
					 floe_sender_free_chunks(tx),
					 all - live_samples(sent));
		}
	}
	tap_eq(failed, 0, "history %u: %u sends, %u evictions, %u late "
			  "joiners: every send reached whom the model says, "
			  "every receive found what it says", hist_max, sends,
	       evictions, joins);
	tap_eq(wrong_value, 0, "history %u: every sample arrived in order",
	       hist_max);
	tap_eq(wrong_count, 0, "history %u: after every step the pool holds "
			       "exactly the chunks nothing holds", hist_max);
	for (int i = 0; i < SUBS; i++)
		if (subs[i].port)
			leave(&subs[i]);
	floe_sender_update(tx);
	tap_eq(floe_sender_free_chunks(tx), all - hist_len,
	       "history %u: with every subscriber gone only the history "
	       "holds chunks", hist_max);
	floe_publisher_destroy(pub);
	floe_service_close(svc);
	tap_ok(sends > 100 && evictions > 0 && joins > 0,
	       "history %u: the run sent, evicted and had late joiners",
	       hist_max);
}

int main(void)
{
	const char *domain = th_setup("send_refs");
	floe_node *node = th_node("main");

	tap_plan(2 * 9 + 1);
	hist_max = HISTORY;
	run(node);
	hist_max = 0;
	run(node);
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
