// SPDX-License-Identifier: MIT
/*
 * A storm of senders, sleepers and SIGKILLs: subscriber processes that
 * only ever sleep in floe_subscriber_wait (no timeout), survivor
 * publishers sending bursts with random pauses (blocking, so nothing they
 * send is dropped), and victim publishers on the same service that are
 * SIGKILLed and replaced all along. Every sample a survivor's send
 * reported delivered is received, in order, and each survivor's last
 * sample wakes every sleeper (a wait that slept through data would hang
 * until the test's timeout); the victims' deaths wake sleepers with
 * FLOE_E_DEAD. FLOE_STORM_N scales the rounds.
 */
#include "helpers.h"

#define SERVICE "t/wait/storm"
#define SLEEPERS 3
#define SURVIVORS 2
#define VICTIMS 2
#define END UINT64_MAX

struct msg {
	uint64_t publisher; /* 1..SURVIVORS; 0 for victims */
	uint64_t seq;       /* END for a survivor's last */
};

static const struct floe_type msg_type = {
	.name = "t_wait_storm.Msg", .size = sizeof(struct msg),
	.align = _Alignof(struct msg),
};

static struct th_pipe to_parent;
static long rounds;

/* The parent creates the service; its children open it. */
static floe_service *open_svc(floe_node *node, bool create)
{
	struct floe_pubsub_qos q;
	struct floe_service_opts o = { .type = msg_type, .qos = &q };
	floe_service *svc = NULL;

	floe_pubsub_qos_init(&q);
	q.max_publishers = SURVIVORS + VICTIMS + 2;
	q.max_subscribers = SLEEPERS;
	q.subscriber_max_buffer_size = 16;
	q.enable_safe_overflow = false;
	if (create)
		floe_service_create(node, SERVICE, &o, &svc);
	else
		th_service_open_retry(node, SERVICE,
				      &(struct floe_service_opts){ .type = msg_type },
				      &svc, 10000);
	return svc;
}

/* Report (who, what, value) to the parent in one write, so that the
 * reports of several children never interleave. */
static void report(uint64_t who, uint64_t what, uint64_t value)
{
	uint64_t r[2] = { who << 32 | what, value };

	th_send(&to_parent, r, sizeof(r));
}

/* The next report: 0, or -1 if none came within 60 s. */
static int next_report(uint64_t *what, uint64_t *value)
{
	uint64_t r[2];

	if (th_recv(&to_parent, r, sizeof(r), 60000))
		return -1;
	*what = r[0] & 0xffffffff;
	*value = r[1];
	return 0;
}

enum { R_READY = 1, R_RECEIVED, R_DEADS, R_REACHED };

static int sleeper(void *arg)
{
	uint64_t me = (uint64_t)(uintptr_t)arg, next[SURVIVORS + 1] = { 0 };
	uint64_t received = 0, deads = 0;
	floe_node *node = th_node("sleeper");
	floe_service *svc = node ? open_svc(node, false) : NULL;
	floe_subscriber *sub = NULL;
	int ended = 0;

	if (!th_check(svc && !floe_subscriber_create(svc, NULL, &sub),
		      "sleeper %" PRIu64, me))
		return 1;
	report(me, R_READY, 0);
	while (ended < SURVIVORS) {
		const floe_sample *s;
		int r = floe_subscriber_wait(sub, UINT64_MAX);

		if (r == FLOE_E_DEAD) {
			deads++;
			continue;
		}
		if (!th_check(r == 1, "wait: %d", r))
			break;
		while (floe_subscriber_receive(sub, &s) == 1) {
			const struct msg *m = floe_sample_payload(s);
			uint64_t p = m->publisher;

			if (p && p <= SURVIVORS) {
				if (m->seq == END) {
					ended++;
				} else {
					th_check(m->seq == next[p],
						 "publisher %" PRIu64 ": %" PRIu64
						 " after %" PRIu64, p, m->seq,
						 next[p]);
					next[p] = m->seq + 1;
					received++;
				}
			}
			floe_sample_release(s);
		}
	}
	report(me, R_RECEIVED, received);
	report(me, R_DEADS, deads);
	floe_subscriber_destroy(sub);
	floe_service_close(svc);
	floe_node_destroy(node);
	return th_child_result();
}

static int publisher(void *arg)
{
	uint64_t me = (uint64_t)(uintptr_t)arg, reached = 0;
	struct floe_publisher_opts po;
	floe_node *node = th_node("publisher");
	floe_service *svc = node ? open_svc(node, false) : NULL;
	floe_publisher *pub = NULL;
	struct msg m = { .publisher = me };

	floe_publisher_opts_init(&po);
	po.unable_to_deliver = me ? FLOE_DELIVER_BLOCK : FLOE_DELIVER_DISCARD;
	if (!th_check(svc && !floe_publisher_create(svc, &po, &pub),
		      "publisher %" PRIu64, me))
		return 1;
	for (long i = 0; me ? i < rounds : 1; i++) {
		/* a burst, then a pause long enough for sleepers to sleep */
		for (uint64_t k = th_rand_below(8) + 1; k; k--) {
			int r = floe_publisher_send_copy(pub, &m, sizeof(m));

			if (r > 0)
				reached += (uint64_t)r;
			m.seq++;
		}
		th_sleep_us(th_rand_below(2000));
	}
	m.seq = END;
	th_check(floe_publisher_send_copy(pub, &m, sizeof(m)) == SLEEPERS,
		 "the end reached every sleeper");
	report(me, R_REACHED, reached);
	floe_publisher_destroy(pub);
	floe_service_close(svc);
	floe_node_destroy(node);
	return th_child_result();
}

int main(void)
{
	const char *domain = th_setup("wstorm");
	floe_node *node = th_node("storm");
	floe_service *svc = node ? open_svc(node, true) : NULL;
	pid_t sleepers[SLEEPERS], survivors[SURVIVORS], victims[VICTIMS];
	uint64_t reached = 0, received = 0, deads = 0, kills = 0, v, k;
	int ok = 1, ready = 0, sleeper_reports = 0;

	rounds = th_env_long("FLOE_STORM_N", 1000) / 2;
	tap_plan(8);
	tap_require(svc && !th_pipe_init(&to_parent), "service");
	for (uintptr_t i = 0; i < SLEEPERS; i++)
		sleepers[i] = th_fork(sleeper, (void *)(i + 1));
	while (ready < SLEEPERS && next_report(&k, &v) == 0)
		ready += k == R_READY;
	tap_eq(ready, SLEEPERS, "sleepers subscribed");
	for (int i = 0; i < VICTIMS; i++)
		victims[i] = th_fork(publisher, (void *)0);
	for (uintptr_t i = 0; i < SURVIVORS; i++)
		survivors[i] = th_fork(publisher, (void *)(i + 1));

	/* kill and replace victims until the survivors are done; sleepers
	 * may finish (and report) before the last survivor reports */
	for (int done = 0; done < SURVIVORS;) {
		if (th_pending(&to_parent)) {
			if (next_report(&k, &v))
				break;
			done += k == R_REACHED;
			reached += k == R_REACHED ? v : 0;
			received += k == R_RECEIVED ? v : 0;
			deads += k == R_DEADS ? v : 0;
			sleeper_reports += k == R_RECEIVED || k == R_DEADS;
			ok &= k == R_REACHED || k == R_RECEIVED || k == R_DEADS;
			continue;
		}
		th_sleep_ms(th_rand_below(30) + 5);
		k = th_rand_below(VICTIMS);
		th_kill(victims[k]);
		kills++;
		victims[k] = th_fork(publisher, (void *)0);
	}
	tap_ok(ok, "reports: what was reached, received, and deaths seen");
	for (int i = 0; i < SURVIVORS; i++)
		ok &= th_wait(survivors[i], 30000) == 0;
	tap_ok(ok, "survivors done (%" PRIu64 " victims killed)", kills);
	for (int i = 0; i < VICTIMS; i++)
		th_kill(victims[i]);

	/* every sleeper woke for every survivor's end: none slept through */
	for (; sleeper_reports < 2 * SLEEPERS; sleeper_reports++) {
		if (next_report(&k, &v))
			break;
		if (k == R_RECEIVED)
			received += v;
		else if (k == R_DEADS)
			deads += v;
	}
	ok = 1;
	for (int i = 0; i < SLEEPERS; i++)
		ok &= th_wait(sleepers[i], 30000) == 0;
	tap_ok(ok, "every sleeper woke for the ends and exited");
	tap_eq(received, reached,
	       "every delivered survivor sample was received (%" PRIu64 ")",
	       reached);
	tap_ok(deads > 0, "victims' deaths woke sleepers (%" PRIu64 ")", deads);
	floe_service_close(svc);
	floe_node_cleanup_dead(node);
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
