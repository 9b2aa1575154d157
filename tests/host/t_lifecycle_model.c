// SPDX-License-Identifier: MIT
/*
 * Model-based test of a service's lifecycle across processes and kills:
 * one name, one service at a time, never a split.
 *
 * Four workers (each its own node, from its own seed) loop: open_or_create
 * the service, note which segment they joined (the header's incarnation)
 * in shared memory, use it (a publisher and a subscriber of their own
 * send and receive), clear the note, close it (the last
 * one out removes it); now and then they list the domain. The parent
 * SIGKILLs random workers at random moments (mid-create, mid-removal,
 * anywhere) and starts new ones, and between kills stops every worker
 * (SIGSTOP) and checks the model:
 *
 *  one service    the domain holds at most one segment of the pattern;
 *  no split       every worker that notes a segment joined the one the
 *                 name leads to now (a service is never removed, nor a
 *                 new one made under its name, while a live node is in
 *                 it);
 *  liveness       open_or_create never fails (dead creators and removers
 *                 are seen and their work finished or undone), and ports
 *                 join the service and send.
 *
 * FLOE_LIFECYCLE_SECS (default 3) seconds.
 * (Test of internals: it reads the segment's header.)
 */
#include <sys/mman.h>

#define SERVICE "t/lifecycle_model"

#include "lifecycle.h"

#define WORKERS 4

struct shared {
	_Atomic uint64_t joined[WORKERS]; /* incarnation, 0 while not in it */
	_Atomic long rounds[WORKERS];     /* since the worker started */
	_Atomic int stop;
};

static struct shared *shared;

/* Room for every worker and the dead ones not yet reclaimed. */
static struct floe_service_opts opts(struct floe_pubsub_qos *q)
{
	struct floe_service_opts o = lc_opts(q);

	q->max_nodes = 4 * WORKERS;
	q->max_publishers = WORKERS;
	q->max_subscribers = WORKERS;
	return o;
}

/* The service works for us: a publisher and a subscriber join it, and
 * a send does not fail (what it reaches is the publish-subscribe tests'
 * business: killed workers' leftovers may keep it from ours). */
static void use(floe_service *svc, long round)
{
	floe_publisher *pub = NULL;
	floe_subscriber *sub = NULL;
	const floe_sample *s;
	uint64_t tag = (uint64_t)round;
	int r;

	r = floe_subscriber_create(svc, NULL, &sub);
	if (!th_check(r == 0, "round %ld: subscriber: %s", round,
		      floe_strerror(r)))
		return;
	r = floe_publisher_create(svc, NULL, &pub);
	if (th_check(r == 0, "round %ld: publisher: %s", round,
		     floe_strerror(r))) {
		r = floe_publisher_send_copy(pub, &tag, sizeof(tag));
		th_check(r >= 0, "round %ld: send: %s", round,
			 floe_strerror(r));
		while (floe_subscriber_receive(sub, &s) == 1)
			floe_sample_release(s);
		floe_publisher_destroy(pub);
	}
	floe_subscriber_destroy(sub);
}

static int worker(void *arg)
{
	int me = (int)(intptr_t)arg;
	struct floe_pubsub_qos q;
	struct floe_service_opts o = opts(&q);
	floe_node *node = th_node("worker");
	long rounds = 0;

	if (!node)
		return 1;
	while (!atomic_load(&shared->stop)) {
		floe_service *svc;
		int r;

		if (th_rand_below(8) == 0) {
			r = floe_service_list(node, lc_count_service, &(int){ 0 });
			th_check(r >= 0, "list: %s", floe_strerror(r));
		}
		r = floe_service_open_or_create(node, SERVICE, &o, &svc);
		if (!th_check(r == 0, "round %ld: open_or_create: %s", rounds,
			      floe_strerror(r)))
			break;
		atomic_store(&shared->joined[me], svc->hdr->incarnation);
		if (th_rand_below(2))
			use(svc, rounds);
		if (th_rand_below(2))
			th_sleep_us(th_rand_below(500));
		atomic_store(&shared->joined[me], 0);
		floe_service_close(svc);
		atomic_store(&shared->rounds[me], ++rounds);
	}
	floe_node_destroy(node);
	return th_child_result();
}

/* The incarnation of the segment the name leads to, 0 if none; false if
 * the domain holds more than one (*@count). */
static bool current(floe_node *node, uint64_t *inc, size_t *count)
{
	const struct floe_pattern *p =
		floe_pattern_of(FLOE_PATTERN_KIND_PUBSUB);
	struct floe_name_list list = { 0 };
	struct floe_seg seg = { .fd = -1 };

	*inc = 0;
	if (floe_list_kind(node, p->seg_kind, &list))
		return false;
	*count = list.count;
	if (list.count == 1 &&
	    !node->be->ops->seg_open(node->be, list.names[0], false, &seg)) {
		if (seg.size >= sizeof(struct floe_svc_header))
			*inc = ((struct floe_svc_header *)seg.addr)
				       ->incarnation;
		floe_seg_close(&seg);
	}
	free(list.names);
	return list.count <= 1;
}

int main(void)
{
	const char *domain = th_setup("lifecycle_model");
	long secs = th_env_long("FLOE_LIFECYCLE_SECS", 3);
	pid_t pids[WORKERS];
	floe_node *node;
	long checks = 0, held = 0, kills = 0, splits = 0, failed = 0;
	uint64_t until;

	tap_plan(5);
	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	tap_require(shared != MAP_FAILED, "shared memory");
	node = th_node("parent");
	for (int w = 0; w < WORKERS; w++)
		pids[w] = th_fork(worker, (void *)(intptr_t)w);
	until = th_now_ns() + (uint64_t)secs * 1000000000ull;
	while (th_now_ns() < until) {
		int w = (int)th_rand_below(WORKERS), status;
		uint64_t inc;
		size_t count = 0;
		bool one;

		th_sleep_us(200 + th_rand_below(3000));
		/* (a worker gets through a round first: on a slow machine
		 * killing it sooner would kill it always while it creates) */
		if (th_rand_below(3) == 0 && atomic_load(&shared->rounds[w])) {
			failed += th_kill(pids[w]) != 128 + SIGKILL;
			atomic_store(&shared->joined[w], 0);
			atomic_store(&shared->rounds[w], 0);
			pids[w] = th_fork(worker, (void *)(intptr_t)w);
			kills++;
			continue;
		}
		for (int k = 0; k < WORKERS; k++) {
			kill(pids[k], SIGSTOP);
			if (waitpid(pids[k], &status, WUNTRACED) == pids[k] &&
			    WIFSTOPPED(status))
				continue;
			/* it ended by itself: a failure, and its note is
			 * stale */
			th_forget_child(pids[k]);
			tap_diag("worker %d ended: %d", k, th_status(status));
			failed++;
			atomic_store(&shared->joined[k], 0);
			atomic_store(&shared->rounds[k], 0);
			pids[k] = th_fork(worker, (void *)(intptr_t)k);
			kill(pids[k], SIGSTOP);
			waitpid(pids[k], &status, WUNTRACED);
		}
		one = current(node, &inc, &count);
		for (int k = 0; k < WORKERS; k++) {
			uint64_t j = atomic_load(&shared->joined[k]);

			if (!j)
				continue;
			held++;
			if ((!one || j != inc) && splits++ < 5)
				tap_diag("worker %d joined %#" PRIx64 ", the "
					 "name leads to %#" PRIx64
					 " (%zu segments)",
					 k, j, inc, count);
		}
		checks++;
		for (int k = 0; k < WORKERS; k++)
			kill(pids[k], SIGCONT);
	}
	atomic_store(&shared->stop, 1);
	for (int w = 0; w < WORKERS; w++)
		failed += th_wait(pids[w], 30000) != 0;
	tap_ok(kills > 5 && checks > 10 && held > 0,
	       "%ld kills, %ld checks of %ld workers in the service", kills,
	       checks, held);
	tap_ok(splits == 0, "no worker in a service the name does not lead to "
	       "(%ld)", splits);
	tap_ok(failed == 0, "every worker's checks passed (%ld failed)",
	       failed);
	floe_node_cleanup_dead(node);
	floe_node_destroy(node);
	tap_ok(th_count_objects(domain, 1) == 0, "no shared objects remain");
	return tap_done();
}
