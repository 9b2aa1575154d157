// SPDX-License-Identifier: MIT
/*
 * The wake cell's asymmetric barrier (lib/base/wake.h): a subscriber
 * that only polls asks its publishers for no fence; its first wait (or
 * descriptor) sets FLOE_WANT_FENCE for good. Where membarrier(2) is
 * refused (a seccomp filter), the subscriber asks for the fence from the
 * start and the publisher fences on every send. In each arrangement a
 * ping-pong through waits alone, with the sender racing the sleeper's
 * announcement, never sleeps through a sample: a missed wake-up would
 * show as a round trip as long as a wait's slice (50 ms). The window for
 * one is nanoseconds wide, so the ping-pong is no proof (a library whose
 * senders never fence passes it too); the bits are checked directly.
 */
#include <linux/filter.h>
#include <linux/membarrier.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "engine/receiver.h"
#include "engine/sender.h"
#include "helpers.h"

#define SERVICE_A "t/wake/a"
#define SERVICE_B "t/wake/b"
#define ROUNDS 3000
/* a round trip this long means a wait slept through its sample until the
 * end of its slice (FLOE_LIVENESS_PERIOD_NS) */
#define MISSED_NS (FLOE_LIVENESS_PERIOD_NS * 4 / 5)

static const struct floe_type u64_type = {
	.name = "t_wake.U64", .size = 8, .align = 8
};

static floe_service *open_svc(floe_node *node, const char *name)
{
	struct floe_pubsub_qos q;
	struct floe_service_opts o = { .type = u64_type, .qos = &q };
	floe_service *svc = NULL;

	floe_pubsub_qos_init(&q);
	q.subscriber_max_buffer_size = 4;
	if (floe_service_open_or_create(node, name, &o, &svc))
		return NULL;
	return svc;
}

static uint32_t want_of(floe_subscriber *sub)
{
	return atomic_load(&floe_receiver_wake(floe_subscriber_receiver(sub))
				    ->want);
}

static bool membarrier_works(void)
{
	return syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0,
		       0) == 0;
}

/* Refuse membarrier(2) in this process from now on (EPERM). */
static int refuse_membarrier(void)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_membarrier, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = sizeof(filter) / sizeof(filter[0]),
		.filter = filter,
	};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/* Whether this kernel has seccomp filters (small debug kernels may
 * not): tried in a child, which the filter would outlive. */
static bool seccomp_filters_work(void)
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(refuse_membarrier() ? 1 : 0);
	return pid > 0 && waitpid(pid, &status, 0) == pid &&
	       WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Wait for one value, take all that came. 1, or what the wait said. */
static int wait_take(floe_subscriber *sub)
{
	const floe_sample *s;
	int r = floe_subscriber_wait(sub, 10ULL * 1000000000ULL);

	if (r != 1)
		return r;
	while (floe_subscriber_receive(sub, &s) == 1)
		floe_sample_release(s);
	return 1;
}

/* Send after a pause of 0 to a few microseconds, spun: sometimes before
 * the peer announces itself, sometimes while it does, sometimes after. */
static int send_soon(floe_publisher *pub, uint64_t v)
{
	uint64_t until = th_now_ns() + th_rand_below(4000);

	while (th_now_ns() < until)
		;
	return floe_publisher_send_copy(pub, &v, sizeof(v));
}

struct echo_arg {
	bool refuse;
	struct th_pipe ready;
};

/* Echo every value of A onto B, by waiting; with @refuse, membarrier is
 * refused here before any port exists. */
static int echo_child(void *p)
{
	struct echo_arg *a = p;
	floe_node *node;
	floe_service *svc_a, *svc_b;
	floe_subscriber *sub = NULL;
	floe_publisher *pub = NULL;

	/* (where the kernel refuses it already, nothing to install) */
	if (a->refuse && membarrier_works() &&
	    !th_check(refuse_membarrier() == 0 && !membarrier_works(),
		      "membarrier refused by seccomp"))
		return 1;
	node = th_node("echo");
	svc_a = node ? open_svc(node, SERVICE_A) : NULL;
	svc_b = node ? open_svc(node, SERVICE_B) : NULL;
	if (!th_check(svc_a && svc_b &&
			      !floe_subscriber_create(svc_a, NULL, &sub) &&
			      !floe_publisher_create(svc_b, NULL, &pub),
		      "echo ports"))
		return 1;
	if (a->refuse) {
		th_check(want_of(sub) & FLOE_WANT_FENCE,
			 "refused: the subscriber asks for the fence at once");
		th_check(!floe_publisher_sender(pub)->wake_registered,
			 "refused: the publisher fences on every send");
	}
	th_send_u64(&a->ready, 1);
	for (uint64_t n = 0; n < ROUNDS; n++) {
		if (!th_check_eq(wait_take(sub), 1, "echo wait %" PRIu64, n))
			break;
		send_soon(pub, n);
	}
	floe_publisher_destroy(pub);
	floe_subscriber_destroy(sub);
	floe_service_close(svc_a);
	floe_service_close(svc_b);
	floe_node_destroy(node);
	return th_child_result();
}

/* The ping-pong against an echo child; returns rounds that went through
 * and, in *@missed, how many took a wait's slice. */
static uint64_t ping_pong(floe_node *node, bool refuse, uint64_t *missed)
{
	struct echo_arg a = { .refuse = refuse };
	floe_service *svc_a = open_svc(node, SERVICE_A);
	floe_service *svc_b = open_svc(node, SERVICE_B);
	floe_subscriber *back = NULL;
	floe_publisher *pub = NULL;
	uint64_t n = 0, v;
	pid_t pid;

	*missed = 0;
	if (!svc_a || !svc_b || floe_subscriber_create(svc_b, NULL, &back) ||
	    floe_publisher_create(svc_a, NULL, &pub))
		return 0;
	th_pipe_init(&a.ready);
	pid = th_fork(echo_child, &a);
	if (th_recv_u64(&a.ready, &v, 10000) == 0) {
		/* the first send reaches nobody until the echo's subscriber
		 * is connected */
		while (send_soon(pub, 0) == 0)
			th_sleep_ms(1);
		for (n = 0; n < ROUNDS; n++) {
			uint64_t t0 = th_now_ns();

			if ((n && send_soon(pub, n) != 1) ||
			    wait_take(back) != 1)
				break;
			*missed += th_now_ns() - t0 >= MISSED_NS;
		}
	}
	tap_eq(th_wait(pid, 30000), 0, "%s echo child's checks passed",
	       refuse ? "membarrier refused:" : "membarrier:");
	floe_publisher_destroy(pub);
	floe_subscriber_destroy(back);
	floe_service_close(svc_a);
	floe_service_close(svc_b);
	return n;
}

int main(void)
{
	const char *domain = th_setup("wakebar");
	floe_node *node = th_node("main");
	floe_service *svc = NULL;
	floe_subscriber *poller, *waiter, *armed;
	floe_publisher *pub;
	const floe_sample *s;
	bool works = membarrier_works();
	uint64_t rounds, missed;

	tap_plan(14);
	tap_require(node && (svc = open_svc(node, SERVICE_A)), "service");
	tap_require(!floe_subscriber_create(svc, NULL, &poller) &&
			    !floe_subscriber_create(svc, NULL, &waiter) &&
			    !floe_subscriber_create(svc, NULL, &armed) &&
			    !floe_publisher_create(svc, NULL, &pub),
		    "ports");
	if (!works)
		tap_diag("membarrier(2) refused here: every receiver asks "
			 "for the fence");
	tap_ok(!(want_of(poller) & FLOE_WANT_FENCE) == works,
	       "a subscriber that has not waited asks for no fence "
	       "(where membarrier works)");
#ifdef FLOE_TSAN
	/* ThreadSanitizer builds keep the fence it can see (wake.c) */
	tap_ok(!floe_publisher_sender(pub)->wake_registered,
	       "the publisher fences under ThreadSanitizer");
#else
	tap_eq(floe_publisher_sender(pub)->wake_registered, works,
	       "the publisher skips the fence where membarrier works");
#endif
	floe_publisher_send_copy(pub, &(uint64_t){ 1 }, 8);
	while (floe_subscriber_receive(poller, &s) == 1)
		floe_sample_release(s);
	tap_ok(!(want_of(poller) & FLOE_WANT_FENCE) == works,
	       "receiving does not change that");
	tap_eq(floe_subscriber_wait(waiter, 1000000), 1,
	       "a wait with a sample there returns at once");
	while (floe_subscriber_receive(waiter, &s) == 1)
		floe_sample_release(s);
	tap_eq(floe_subscriber_wait(waiter, 1000000), 0,
	       "a wait that finds nothing times out");
	tap_ok(want_of(waiter) & FLOE_WANT_FENCE,
	       "after its first wait the subscriber asks for the fence");
	tap_ok(floe_subscriber_fd(armed) >= 0 &&
		       (want_of(armed) & FLOE_WANT_FENCE),
	       "so does one whose descriptor is armed");
	floe_subscriber_destroy(poller);
	floe_subscriber_destroy(waiter);
	floe_subscriber_destroy(armed);
	floe_publisher_destroy(pub);
	floe_service_close(svc);

	rounds = ping_pong(node, false, &missed);
	tap_ok(rounds == ROUNDS && missed == 0,
	       "membarrier: %d round trips through waits, %" PRIu64
	       " slept through a sample", ROUNDS, missed);
	if (!works || seccomp_filters_work()) {
		rounds = ping_pong(node, true, &missed);
		tap_ok(rounds == ROUNDS && missed == 0,
		       "membarrier refused on one side: %d round trips, %" PRIu64
		       " slept through a sample", ROUNDS, missed);
	} else {
		tap_ok(1, "membarrier refused: echo child's checks passed "
			  "# SKIP no seccomp filters in this kernel");
		tap_ok(1, "membarrier refused on one side # SKIP no seccomp "
			  "filters in this kernel");
	}
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
