// SPDX-License-Identifier: MIT
/*
 * Many to many across processes and threads: three publishers and three
 * subscribers spread over three processes (publisher threads sharing a
 * node, a process with both a publisher and a subscriber). With safe
 * overflow off and blocking publishers, every subscriber must get every
 * message of every publisher, in per-publisher order, with the right
 * publisher id, sequence number and contents.
 *
 *   process "pubs":  publisher threads 0 and 1
 *   process "mixed": publisher thread 2, subscriber thread 0
 *   process "subs":  subscriber threads 1 and 2
 */
#include <pthread.h>

#include "helpers.h"

#define SERVICE "t/many"
#define NPUBS 3
#define NSUBS 3
#define NPROCS 3

struct many_msg {
	uint64_t tag;		/* which publisher thread, 0..NPUBS-1 */
	uint64_t seq;
	uint64_t check;		/* th_pattern(tag, seq) */
	uint64_t pad[5];
};

static const struct floe_type msg_type = {
	.name = "t_many.Msg",
	.size = sizeof(struct many_msg),
	.align = _Alignof(struct many_msg),
};

/* Shared by all processes (set before fork). */
static struct th_barrier subs_ready, all_received;
static uint64_t per_publisher;

struct port_thread {
	pthread_t thread;
	floe_service *svc;
	floe_subscriber *sub;	/* subscriber threads: made before barrier */
	floe_publisher *pub;	/* publisher threads: destroyed by main */
	int tag;
	int failures;
};

static void *publisher_thread(void *arg)
{
	struct port_thread *pt = arg;
	struct floe_publisher_opts po;
	floe_publisher *pub = NULL;
	int r;

	floe_publisher_opts_init(&po);
	po.unable_to_deliver = FLOE_DELIVER_BLOCK;
	r = floe_publisher_create(pt->svc, &po, &pub);
	if (!th_check(r == 0, "publisher %d: %s", pt->tag, floe_strerror(r))) {
		pt->failures++;
		return NULL;
	}
	for (uint64_t seq = 0; seq < per_publisher; seq++) {
		floe_sample_mut *s;
		struct many_msg *m;

		r = floe_publisher_loan(pub, 1, &s);
		if (!th_check(r == 0, "publisher %d loan %" PRIu64 ": %s",
			      pt->tag, seq, floe_strerror(r))) {
			pt->failures++;
			break;
		}
		m = floe_sample_mut_payload(s);
		m->tag = (uint64_t)pt->tag;
		m->seq = seq;
		m->check = th_pattern((uint64_t)pt->tag, seq);
		r = floe_sample_mut_send(s);
		if (!th_check(r == NSUBS, "publisher %d send %" PRIu64
			      " reached %d subscribers", pt->tag, seq, r)) {
			pt->failures++;
			break;
		}
	}
	/* The process's main thread destroys the publisher once every
	 * subscriber has everything: queued samples must not vanish. */
	pt->pub = pub;
	return NULL;
}

static void *subscriber_thread(void *arg)
{
	struct port_thread *pt = arg;
	uint64_t next[NPUBS] = { 0 }, id_of[NPUBS] = { 0 }, total = 0;
	int id_known[NPUBS] = { 0 };
	int reported = 0;

	while (total < per_publisher * NPUBS) {
		const floe_sample *s;
		const struct many_msg *m;
		int r = th_receive(pt->sub, &s, 20000);

		if (r <= 0) {
			th_check(0, "subscriber %d: receive %d (%s) after %"
				 PRIu64 " samples", pt->tag, r,
				 floe_strerror(r < 0 ? r : 0), total);
			pt->failures++;
			break;
		}
		m = floe_sample_payload(s);
		if (m->tag >= NPUBS) {
			pt->failures++;
			th_check(0, "subscriber %d: bad tag %" PRIu64,
				 pt->tag, m->tag);
			floe_sample_release(s);
			break;
		}
		if (!id_known[m->tag]) {
			id_known[m->tag] = 1;
			id_of[m->tag] = floe_sample_publisher_id(s);
		}
		if ((m->seq != next[m->tag] ||
		     floe_sample_sequence(s) != m->seq ||
		     m->check != th_pattern(m->tag, m->seq) ||
		     floe_sample_publisher_id(s) != id_of[m->tag]) &&
		    reported++ < 5) {
			pt->failures++;
			th_check(0, "subscriber %d: publisher %" PRIu64
				 " seq %" PRIu64 " (want %" PRIu64
				 ", header seq %" PRIu64 ", id %" PRIu64
				 "/%" PRIu64 ")", pt->tag, m->tag, m->seq,
				 next[m->tag], floe_sample_sequence(s),
				 floe_sample_publisher_id(s), id_of[m->tag]);
		}
		next[m->tag] = m->seq + 1;
		total++;
		floe_sample_release(s);
	}
	for (int i = 0; i < NPUBS; i++)
		for (int j = i + 1; j < NPUBS; j++)
			if (id_known[i] && id_known[j] && id_of[i] == id_of[j]) {
				pt->failures++;
				th_check(0, "publishers %d and %d share an id",
					 i, j);
			}
	return NULL;
}

struct proc_plan {
	const char *name;
	int pub_tags[2], npubs;
	int sub_tags[2], nsubs;
};

static const struct proc_plan plans[NPROCS] = {
	{ "pubs", { 0, 1 }, 2, { 0 }, 0 },
	{ "mixed", { 2 }, 1, { 0 }, 1 },
	{ "subs", { 0 }, 0, { 1, 2 }, 2 },
};

static int process_main(void *arg)
{
	const struct proc_plan *plan = arg;
	struct floe_service_opts o = { .type = msg_type };
	struct port_thread pubs[2], subs[2];
	floe_node *node = th_node(plan->name);
	floe_service *svc = NULL;
	int r, failures = 0;

	if (!node)
		return 1;
	r = th_service_open_retry(node, SERVICE, &o, &svc, 10000);
	if (!th_check(r == 0, "open: %s", floe_strerror(r)))
		return 1;

	/* Subscribers exist before any publisher: nothing is missed. */
	memset(subs, 0, sizeof(subs));
	for (int i = 0; i < plan->nsubs; i++) {
		subs[i].svc = svc;
		subs[i].tag = plan->sub_tags[i];
		r = floe_subscriber_create(svc, NULL, &subs[i].sub);
		if (!th_check(r == 0, "subscriber: %s", floe_strerror(r)))
			return 1;
	}
	if (!th_check(th_barrier_wait(&subs_ready, 30000) == 0,
		      "subscribers-ready barrier"))
		return 1;

	memset(pubs, 0, sizeof(pubs));
	for (int i = 0; i < plan->npubs; i++) {
		pubs[i].svc = svc;
		pubs[i].tag = plan->pub_tags[i];
		pthread_create(&pubs[i].thread, NULL, publisher_thread,
			       &pubs[i]);
	}
	for (int i = 0; i < plan->nsubs; i++)
		pthread_create(&subs[i].thread, NULL, subscriber_thread,
			       &subs[i]);
	for (int i = 0; i < plan->nsubs; i++) {
		pthread_join(subs[i].thread, NULL);
		failures += subs[i].failures;
	}
	for (int i = 0; i < plan->npubs; i++) {
		pthread_join(pubs[i].thread, NULL);
		failures += pubs[i].failures;
	}
	/* Our subscribers are done and our publishers have sent all: wait
	 * for the other processes before tearing the publishers down. */
	failures += th_barrier_wait(&all_received, 100000) != 0;
	for (int i = 0; i < plan->npubs; i++)
		if (pubs[i].pub)
			floe_publisher_destroy(pubs[i].pub);
	for (int i = 0; i < plan->nsubs; i++)
		floe_subscriber_destroy(subs[i].sub);
	floe_service_close(svc);
	floe_node_destroy(node);
	return failures || th_child_failures ? 1 : 0;
}

int main(void)
{
	const char *domain = th_setup("many");
	struct floe_service_opts o = { .type = msg_type };
	struct floe_pubsub_qos q;
	floe_node *node = NULL;
	floe_service *svc = NULL;
	pid_t pids[NPROCS];
	int r;

	per_publisher = (uint64_t)th_env_long("FLOE_MANY_N", 5000);
	tap_plan(10);
	tap_require(floe_node_create("t_many", NULL, &node) == 0, "node");
	floe_pubsub_qos_init(&q);
	q.max_publishers = NPUBS;
	q.max_subscribers = NSUBS;
	q.subscriber_max_buffer_size = 8;
	q.subscriber_max_borrowed_samples = 2;
	q.enable_safe_overflow = false;
	o.qos = &q;
	r = floe_service_create(node, SERVICE, &o, &svc);
	tap_require(r == 0, "service (%s)", floe_strerror(r));
	tap_require(th_barrier_init(&subs_ready, NPROCS) == 0 &&
			    th_barrier_init(&all_received, NPROCS) == 0,
		    "barriers");
	for (int i = 0; i < NPROCS; i++)
		pids[i] = th_fork(process_main, (void *)&plans[i]);
	tap_require(pids[0] > 0 && pids[1] > 0 && pids[2] > 0, "forks");
	tap_ok(th_barrier_release(&subs_ready, 30000) == 0,
	       "all subscribers created");
	tap_ok(th_barrier_release(&all_received, 100000) == 0,
	       "all subscribers received %" PRIu64 " x %d messages",
	       per_publisher, NPUBS);
	for (int i = 0; i < NPROCS; i++)
		tap_eq(th_wait(pids[i], 30000), 0,
		       "process \"%s\": all checks passed", plans[i].name);

	floe_service_close(svc);
	floe_node_destroy(node);
	th_barrier_destroy(&subs_ready);
	th_barrier_destroy(&all_received);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
