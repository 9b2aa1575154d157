// SPDX-License-Identifier: MIT
/*
 * Lost wake-ups: a model test of the notify / wait protocol.
 *
 * A listener process waits for events in a loop; K notifier processes
 * each run FLOE_STORM_N rounds (default 3000) of a handshake: fire a few
 * noise ids (random, >= K), pause a random tiny while, fire id i (its own),
 * then wait until the listener acknowledges round r through a pipe. The
 * listener acknowledges every id i < K it is told about with the number of
 * times it saw it. So every round needs exactly one wake-up of the
 * listener, and with K == 1 nothing else can wake it: a single lost
 * wake-up leaves the listener asleep and the notifier waiting, which the
 * notifier's deadline (ACK_MS) turns into a failure instead of a hang. The
 * random pauses sweep the moment of the notify across the listener's way
 * into and out of the futex.
 *
 * Phases: blocking_wait with K = 1 and K = 4 (notifiers racing each other
 * on one cell); timed_wait with random, mostly expiring, timeouts (the
 * waiters count going up and down under notifies); floe_listener_fd +
 * poll() with K = 1 and K = 3, where a poll that times out while an event
 * is pending is a lost wake-up of the descriptor.
 *
 * Checked too: ids arrive in increasing order within each wait, each
 * round's id exactly once (acks carry the count), every notify of the
 * listener returns 1.
 */
#include "helpers.h"

#define SERVICE "t/event/storm"
#define ID_MAX 255
#define STOP_ID ID_MAX
#define MAX_K 4
#define ACK_MS 5000  /* a round that takes this long lost its wake-up */
#define POLL_MS 5000

enum wait_mode { BLOCKING, TIMED, POLL };

static const char *const mode_names[] = { "blocking_wait", "timed_wait",
					  "fd + poll" };

struct phase {
	enum wait_mode mode;
	int k;
	int perturb; /* interrupt the listener with signals all the time */
	long rounds;
	struct th_pipe ack[MAX_K]; /* listener → notifier i */
	struct th_pipe ready;      /* listener → parent */
	struct th_pipe result;     /* listener → parent: rounds, noise */
	struct th_barrier start;   /* notifiers */
	int index;                 /* of the notifier child */
};

/* ---- listener ---- */

/*
 * Perturbation: a timer signals the listener every PERTURB_US, and the
 * handler spins for a random while. The signal lands at random points of
 * the listener's code, so a race window of a few instructions anywhere on
 * its way to sleep is now and then stretched to microseconds, long enough
 * for the notifier's next notify to fall into it. It also sends the
 * listener's futex waits and polls through EINTR.
 */
#define PERTURB_US 47

static uint64_t perturb_rng = 0x9e3779b97f4a7c15ull;

static void perturb_handler(int sig)
{
	uint64_t until, spin;
	int saved = errno;

	(void)sig;
	perturb_rng ^= perturb_rng << 13;
	perturb_rng ^= perturb_rng >> 7;
	perturb_rng ^= perturb_rng << 17;
	spin = perturb_rng % 16;
	until = th_now_ns() + spin * 1000;
	while (th_now_ns() < until)
		;
	errno = saved;
}

static int start_perturbation(void)
{
	struct sigaction sa = { .sa_handler = perturb_handler };
	struct sigevent sev = {
		.sigev_notify = SIGEV_SIGNAL,
		.sigev_signo = SIGUSR1,
	};
	struct itimerspec its = {
		.it_interval = { 0, PERTURB_US * 1000 },
		.it_value = { 0, PERTURB_US * 1000 },
	};
	timer_t timer;

	/* no SA_RESTART: interrupted waits return EINTR to the library */
	sigemptyset(&sa.sa_mask);
	perturb_rng ^= (uint64_t)getpid() * 0x2545f4914f6cdd1dull;
	if (sigaction(SIGUSR1, &sa, NULL) ||
	    timer_create(CLOCK_MONOTONIC, &sev, &timer) ||
	    timer_settime(timer, 0, &its, NULL))
		return -1;
	return 0;
}

/* A random pause from nothing to tens of microseconds. @may_sleep false:
 * spin only (a sleep interrupted every few microseconds may never end). */
static void tiny_pause(int may_sleep)
{
	switch (th_rand_below(may_sleep ? 8 : 5)) {
	case 0:
	case 1:
	case 2:
		break; /* none */
	case 3:
	case 4:
		for (uint64_t n = th_rand_below(3000); n; n--)
			__asm__ __volatile__("" ::: "memory");
		break;
	case 5:
		sched_yield();
		break;
	default:
		th_sleep_us(th_rand_below(40));
		break;
	}
}


struct listen_state {
	struct phase *ph;
	uint64_t rounds[MAX_K];
	uint64_t noise;
	uint64_t out_of_order;
	long last_id; /* within one wait call */
	int stop;
	int ack_failed;
};

static void on_event(uint64_t id, void *ctx)
{
	struct listen_state *s = ctx;

	if ((long)id <= s->last_id)
		s->out_of_order++;
	s->last_id = (long)id;
	if (id == STOP_ID) {
		s->stop = 1;
	} else if (id < (uint64_t)s->ph->k) {
		s->rounds[id]++;
		if (th_send_u64(&s->ph->ack[id], s->rounds[id]))
			s->ack_failed = 1;
	} else {
		s->noise++;
	}
}

static int listener_process(void *arg)
{
	struct phase *ph = arg;
	struct listen_state s = { .ph = ph };
	floe_node *node = th_node("listener");
	floe_service *svc = NULL;
	floe_listener *l = NULL;
	int r, fd = -1;
	uint64_t waits = 0, empty = 0;

	if (!node)
		return 1;
	r = floe_event_open(node, SERVICE, NULL, &svc);
	if (!th_check(r == 0, "open: %s", floe_strerror(r)))
		return 1;
	r = floe_listener_create(svc, &l);
	if (!th_check(r == 0, "listener: %s", floe_strerror(r)))
		return 1;
	if (ph->mode == POLL) {
		fd = floe_listener_fd(l);
		if (!th_check(fd >= 0, "listener fd: %s", floe_strerror(fd)))
			return 1;
		th_check_eq(floe_listener_fd(l), fd, "same fd twice");
	}
	if (ph->perturb)
		th_check(start_perturbation() == 0, "perturbation timer: %s",
			 strerror(errno));
	th_send_u64(&ph->ready, 1);

	while (!s.stop && !s.ack_failed) {
		/* vary when we come back to wait, relative to the notifier's
		 * next notify (which follows our ack by a pipe wake-up) */
		tiny_pause(!ph->perturb);
		s.last_id = -1;
		waits++;
		switch (ph->mode) {
		case BLOCKING:
			r = floe_listener_blocking_wait(l, on_event, &s);
			th_check(r > 0, "blocking_wait returned %d", r);
			break;
		case TIMED:
			r = floe_listener_timed_wait(
				l, th_rand_below(300) * 1000, on_event, &s);
			th_check(r >= 0, "timed_wait returned %d", r);
			break;
		case POLL: {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };

			r = poll(&pfd, 1, POLL_MS);
			if (r < 0 && errno == EINTR)
				continue;
			if (r == 0) {
				r = floe_listener_try_wait(l, on_event, &s);
				if (r > 0)
					th_check(0, "fd not readable for %d ms "
						 "while %d events were pending: "
						 "lost wake-up", POLL_MS, r);
				else
					th_check(0, "nothing for %d ms: a "
						 "notifier's wake-up was lost",
						 POLL_MS);
				goto out;
			}
			r = floe_listener_try_wait(l, on_event, &s);
			th_check(r >= 0, "try_wait returned %d", r);
			break;
		}
		}
		if (r < 0)
			break;
		if (r == 0)
			empty++;
	}
out:
	th_check_eq(s.out_of_order, 0, "ids out of order within a wait");
	th_check(!s.ack_failed, "ack pipe broken");
	th_check(s.stop, "stop event seen");
	for (int i = 0; i < ph->k; i++)
		th_send_u64(&ph->result, s.rounds[i]);
	th_send_u64(&ph->result, s.noise);
	th_send_u64(&ph->result, waits);
	th_send_u64(&ph->result, empty);
	floe_listener_destroy(l);
	floe_service_close(svc);
	floe_node_destroy(node);
	return th_child_result();
}

/* ---- notifiers ---- */

static int notifier_process(void *arg)
{
	struct phase *ph = arg;
	int me = ph->index;
	floe_node *node = th_node("notifier");
	floe_service *svc = NULL;
	floe_notifier *n = NULL;
	uint64_t ack, worst_ns = 0;
	int r;

	if (th_open_notifier(node, SERVICE, &svc, &n))
		return 1;
	if (!th_check(th_barrier_wait(&ph->start, 30000) == 0, "start"))
		return 1;
	for (long round = 0; round < ph->rounds; round++) {
		uint64_t t0;

		for (uint64_t k = th_rand_below(3); k; k--) {
			uint64_t noise = (uint64_t)ph->k +
					 th_rand_below(STOP_ID - (uint64_t)ph->k);

			th_check_eq(floe_notifier_notify(n, noise), 1,
				    "noise notify reaches the listener");
		}
		tiny_pause(1);
		t0 = th_now_ns();
		r = floe_notifier_notify(n, (uint64_t)me);
		if (!th_check_eq(r, 1, "notify round %ld", round))
			break;
		if (!th_check(th_recv_u64(&ph->ack[me], &ack, ACK_MS) == 0,
			      "notifier %d round %ld: no ack within %d ms: "
			      "the listener missed its wake-up", me, round,
			      ACK_MS))
			break;
		if (!th_check_eq(ack, (uint64_t)round + 1,
				 "ack of round %ld counts each round once",
				 round))
			break;
		if (th_now_ns() - t0 > worst_ns)
			worst_ns = th_now_ns() - t0;
	}
	if (worst_ns > 100000000ull)
		th_child_diag("notifier %d: slowest round %" PRIu64 " us", me,
			      worst_ns / 1000);
	floe_notifier_destroy(n);
	floe_service_close(svc);
	floe_node_destroy(node);
	return th_child_result();
}

/* ---- one phase ---- */

static void run_phase(floe_notifier *stopper, enum wait_mode mode, int k,
		      int perturb, long rounds)
{
	struct phase ph = { .mode = mode, .k = k, .rounds = rounds,
			    .perturb = perturb };
	pid_t listener, notifiers[MAX_K];
	uint64_t ready = 0, got[MAX_K], noise = 0, waits = 0, empty = 0;
	int fails = 0, got_ok = 1;
	char label[96];
	uint64_t t0;

	snprintf(label, sizeof(label), "%s, %d notifier(s)%s", mode_names[mode],
		 k, perturb ? ", listener under signals" : "");
	for (int i = 0; i < k; i++)
		th_pipe_init(&ph.ack[i]);
	th_pipe_init(&ph.ready);
	th_pipe_init(&ph.result);
	th_barrier_init(&ph.start, k);

	listener = th_fork(listener_process, &ph);
	if (th_recv_u64(&ph.ready, &ready, 30000))
		tap_diag("listener did not get ready");
	for (int i = 0; i < k; i++) {
		ph.index = i;
		notifiers[i] = th_fork(notifier_process, &ph);
	}
	t0 = th_now_ns();
	th_barrier_release(&ph.start, 30000);
	for (int i = 0; i < k; i++)
		fails += th_wait(notifiers[i], 100000) != 0;
	/* All rounds done (or failed): tell the listener to finish. */
	tap_eq(floe_notifier_notify(stopper, STOP_ID), 1,
	       "%s: stop reaches the listener", label);
	for (int i = 0; i < k; i++) {
		if (th_recv_u64(&ph.result, &got[i], 10000)) {
			got_ok = 0;
			break;
		}
		if (got[i] != (uint64_t)rounds) {
			got_ok = 0;
			tap_diag("notifier %d: listener saw %" PRIu64
				 " of %ld rounds", i, got[i], rounds);
		}
	}
	if (got_ok && (th_recv_u64(&ph.result, &noise, 10000) ||
		       th_recv_u64(&ph.result, &waits, 10000) ||
		       th_recv_u64(&ph.result, &empty, 10000)))
		got_ok = 0;
	tap_eq(fails, 0,
	       "%s, %ld rounds each: no lost wake-up, every ack in time and "
	       "counted once", label, rounds);
	tap_eq(th_wait(listener, 30000), 0, "%s: listener's checks passed",
	       label);
	tap_ok(got_ok, "%s: listener saw each round once", label);
	tap_diag("  %.0f ms, %" PRIu64 " waits (%" PRIu64 " empty), %" PRIu64
		 " noise ids after merging", (double)(th_now_ns() - t0) / 1e6,
		 waits, empty, noise);
	for (int i = 0; i < k; i++)
		th_pipe_close(&ph.ack[i]);
	th_pipe_close(&ph.ready);
	th_pipe_close(&ph.result);
	th_barrier_destroy(&ph.start);
}

int main(void)
{
	const char *domain = th_setup("evstorm");
	long rounds = th_env_long("FLOE_STORM_N", 3000);
	struct floe_event_qos q;
	struct floe_event_opts eo = { .qos = &q };
	floe_node *node = NULL;
	floe_service *svc = NULL;
	floe_notifier *stopper = NULL;
	int r;

	tap_plan(4 + 7 * 4);
	tap_require(floe_node_create("storm", NULL, &node) == 0, "node");
	floe_event_qos_init(&q);
	q.max_notifiers = MAX_K + 1;
	q.max_listeners = 1;
	q.event_id_max = ID_MAX;
	r = floe_event_create(node, SERVICE, &eo, &svc);
	tap_require(r == 0, "event service (%s)", floe_strerror(r));
	tap_require(floe_notifier_create(svc, &stopper) == 0,
		    "the parent's notifier (for stop)");

	run_phase(stopper, BLOCKING, 1, 0, rounds);
	run_phase(stopper, BLOCKING, 1, 1, rounds);
	run_phase(stopper, BLOCKING, 4, 0, rounds);
	run_phase(stopper, TIMED, 2, 1, rounds);
	run_phase(stopper, POLL, 1, 0, rounds);
	run_phase(stopper, POLL, 1, 1, rounds);
	run_phase(stopper, POLL, 3, 0, rounds);

	floe_notifier_destroy(stopper);
	floe_service_close(svc);
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
