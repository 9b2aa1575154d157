// SPDX-License-Identifier: MIT
/*
 * No lost wake-up through the waitset, on each engine. A listener process
 * runs a waitset with a listener on each of two event services; K
 * notifier processes (alternating between the services) each run
 * FLOE_STORM_N rounds (default 2000) of a handshake: fire a few noise ids
 * (>= K), pause a random tiny while, fire id i (its own), then wait until
 * the listener acknowledges the round through a pipe. The listener's
 * callback consumes the events (floe_listener_try_wait) and acknowledges
 * every own id with the number of times it saw it. Every round needs one
 * wake-up of the waitset, so a lost one leaves both sides waiting: the
 * notifier's deadline (ACK_MS) and the listener's (a run_once that sees
 * nothing for STALL_MS) turn it into a failure instead of a hang.
 *
 * Phases: K = 1 (nothing else can wake the listener), K = 4 (notifiers
 * racing each other on both services), and K = 2 with the listener
 * interrupted by a signal every few tens of microseconds, so that its
 * waits return EINTR at random points.
 */
#include "helpers.h"

#define SERVICE_0 "t/ws/storm/0"
#define SERVICE_1 "t/ws/storm/1"
#define ID_MAX 255
#define STOP_ID ID_MAX
#define MAX_K 4
#define ACK_MS 5000
#define STALL_MS 5000
#define PERTURB_US 47
#define PHASES_PER_ENGINE 3
#define CHECKS_PER_PHASE 2

struct phase {
	enum floe_waitset_impl impl;
	int k;
	int perturb;
	long rounds;
	struct th_pipe ack[MAX_K]; /* listener → notifier i */
	struct th_pipe ready;      /* listener → parent */
	struct th_pipe result;     /* listener → parent: rounds per id */
	struct th_barrier start;   /* notifiers */
	int index;                 /* of the notifier child */
};

/* ---- listener ---- */

static void perturb_handler(int sig)
{
	(void)sig; /* being there is the point: waits return EINTR */
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
	if (sigaction(SIGUSR1, &sa, NULL) ||
	    timer_create(CLOCK_MONOTONIC, &sev, &timer) ||
	    timer_settime(timer, 0, &its, NULL))
		return -1;
	return 0;
}

struct listen_state {
	struct phase *ph;
	floe_listener *listener[2];
	uint64_t rounds[MAX_K];
	uint64_t out_of_order;
	long last_id;
	int stop, ack_failed;
};

static struct listen_state state;

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
	}
}

static int on_trigger(floe_waitset *ws, int id, enum floe_trigger trigger,
		      void *user)
{
	floe_listener *l = user;

	(void)ws;
	if (!th_check(trigger == FLOE_TRIGGER_NOTIFIED && id >= 0 && id < 2,
		      "trigger %d for attachment %d", trigger, id))
		return -1;
	state.last_id = -1;
	th_check(floe_listener_try_wait(l, on_event, &state) >= 0,
		 "try_wait");
	return state.stop || state.ack_failed;
}

static int listener_process(void *arg)
{
	struct phase *ph = arg;
	struct floe_waitset_opts opts = { .impl = ph->impl };
	const char *names[2] = { SERVICE_0, SERVICE_1 };
	floe_node *node = th_node("listener");
	floe_service *svc[2] = { NULL, NULL };
	floe_waitset *ws = NULL;
	int r = 0;

	if (!node)
		return 1;
	state.ph = ph;
	for (int s = 0; s < 2 && !r; s++) {
		r = floe_event_open(node, names[s], NULL, &svc[s]);
		if (!r)
			r = floe_listener_create(svc[s], &state.listener[s]);
	}
	if (!th_check(r == 0, "listeners: %s", floe_strerror(r)))
		return 1;
	r = floe_waitset_create(&opts, &ws);
	if (!th_check(r == 0, "waitset: %s", floe_strerror(r)))
		return 1;
	for (int s = 0; s < 2; s++)
		th_check_eq(floe_waitset_attach_listener(ws, state.listener[s],
							 0, state.listener[s]),
			    s, "attach listener %d", s);
	if (ph->perturb)
		th_check(start_perturbation() == 0, "perturbation timer: %s",
			 strerror(errno));
	th_send_u64(&ph->ready, 1);

	for (;;) {
		r = floe_waitset_run_once(ws, STALL_MS * 1000000ull,
					  on_trigger);
		if (r == 0)
			th_check(0, "nothing for %d ms: a wake-up was lost",
				 STALL_MS);
		if (r <= 0 || state.stop || state.ack_failed)
			break;
	}
	th_check(r > 0 && state.stop, "stopped by the stop event (%d)", r);
	th_check_eq(state.out_of_order, 0, "ids out of order within a wait");
	th_check(!state.ack_failed, "ack pipe broken");
	for (int i = 0; i < ph->k; i++)
		th_send_u64(&ph->result, state.rounds[i]);
	floe_waitset_destroy(ws);
	for (int s = 0; s < 2; s++) {
		floe_listener_destroy(state.listener[s]);
		floe_service_close(svc[s]);
	}
	floe_node_destroy(node);
	return th_child_result();
}

/* ---- notifiers ---- */

/* A random pause from nothing to tens of microseconds. */
static void tiny_pause(void)
{
	switch (th_rand_below(8)) {
	case 0:
	case 1:
	case 2:
		break;
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

static int notifier_process(void *arg)
{
	struct phase *ph = arg;
	int me = ph->index;
	floe_node *node = th_node("notifier");
	floe_service *svc = NULL;
	floe_notifier *n = NULL;
	uint64_t ack;
	int r;

	if (th_open_notifier(node, me & 1 ? SERVICE_1 : SERVICE_0, &svc, &n))
		return 1;
	if (!th_check(th_barrier_wait(&ph->start, 30000) == 0, "start"))
		return 1;
	for (long round = 0; round < ph->rounds; round++) {
		for (uint64_t k = th_rand_below(3); k; k--)
			floe_notifier_notify(n, (uint64_t)ph->k +
				th_rand_below(STOP_ID - (uint64_t)ph->k));
		tiny_pause();
		r = floe_notifier_notify(n, (uint64_t)me);
		if (!th_check_eq(r, 1, "notify round %ld", round))
			break;
		if (!th_check(th_recv_u64(&ph->ack[me], &ack, ACK_MS) == 0,
			      "notifier %d round %ld: no ack within %d ms: "
			      "the waitset missed its wake-up", me, round,
			      ACK_MS))
			break;
		if (!th_check_eq(ack, (uint64_t)round + 1,
				 "ack of round %ld counts each round once",
				 round))
			break;
	}
	floe_notifier_destroy(n);
	floe_service_close(svc);
	floe_node_destroy(node);
	return th_child_result();
}

/* ---- one phase ---- */

static void run_phase(floe_notifier *stopper, enum floe_waitset_impl impl,
		      int k, int perturb, long rounds)
{
	struct phase ph = { .impl = impl, .k = k, .rounds = rounds,
			    .perturb = perturb };
	pid_t listener, notifiers[MAX_K];
	uint64_t ready = 0, got[MAX_K];
	int fails = 0, got_ok = 1;
	char label[96];
	uint64_t t0;

	snprintf(label, sizeof(label), "%s, %d notifier(s)%s",
		 floe_waitset_impl_name(impl), k,
		 perturb ? ", listener under signals" : "");
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
		fails += th_wait(notifiers[i], 120000) != 0;
	/* Stop the listener: a notify it cannot take for a round id. */
	floe_notifier_notify(stopper, STOP_ID);
	for (int i = 0; i < k; i++) {
		if (th_recv_u64(&ph.result, &got[i], 10000) ||
		    got[i] != (uint64_t)rounds) {
			got_ok = 0;
			tap_diag("  listener saw id %d %" PRIu64 " times", i,
				 got[i]);
		}
	}
	tap_ok(!fails && got_ok,
	       "%s: %ld rounds each, no wake-up lost (%" PRIu64 " ms)", label,
	       rounds, (th_now_ns() - t0) / 1000000);
	tap_eq(th_wait(listener, 30000), 0, "%s: listener's checks passed",
	       label);
	for (int i = 0; i < k; i++)
		th_pipe_close(&ph.ack[i]);
	th_pipe_close(&ph.ready);
	th_pipe_close(&ph.result);
	th_barrier_destroy(&ph.start);
}

int main(void)
{
	const char *domain = th_setup("wsstorm");
	long rounds = th_env_long("FLOE_STORM_N", 2000);
	static const enum floe_waitset_impl impls[] = {
		FLOE_WAITSET_IO_URING, FLOE_WAITSET_EPOLL,
	};
	struct floe_event_qos q;
	struct floe_event_opts eo = { .qos = &q };
	floe_node *node = NULL;
	floe_service *svc0 = NULL, *svc1 = NULL;
	floe_notifier *stopper = NULL;
	int r;

	tap_plan(3 + 2 * PHASES_PER_ENGINE * CHECKS_PER_PHASE);
	tap_require(floe_node_create("storm", NULL, &node) == 0, "node");
	floe_event_qos_init(&q);
	q.event_id_max = ID_MAX;
	r = floe_event_create(node, SERVICE_0, &eo, &svc0);
	if (!r)
		r = floe_event_create(node, SERVICE_1, &eo, &svc1);
	if (!r)
		r = floe_notifier_create(svc0, &stopper);
	tap_require(r == 0, "services and the stop notifier (%s)",
		    floe_strerror(r));

	for (size_t i = 0; i < 2; i++) {
		struct floe_waitset_opts opts = { .impl = impls[i] };
		floe_waitset *ws = NULL;

		if (floe_waitset_create(&opts, &ws) == FLOE_E_BACKEND) {
			for (int c = 0; c < PHASES_PER_ENGINE *
						    CHECKS_PER_PHASE; c++)
				tap_ok(1, "# SKIP io_uring unavailable");
			continue;
		}
		floe_waitset_destroy(ws);
		run_phase(stopper, impls[i], 1, 0, rounds);
		run_phase(stopper, impls[i], 4, 0, rounds);
		run_phase(stopper, impls[i], 2, 1, rounds);
	}

	floe_notifier_destroy(stopper);
	floe_service_close(svc0);
	floe_service_close(svc1);
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
