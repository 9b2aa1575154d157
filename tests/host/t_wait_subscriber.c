// SPDX-License-Identifier: MIT
/*
 * A subscriber waits for data without an event service: floe_subscriber_wait
 * sleeps until a publisher (another process) sends, returns 0 at its
 * timeout, FLOE_E_DEAD once when a connected publisher is SIGKILLed (not
 * when one leaves in order), and the samples a dead publisher sent stay
 * receivable. floe_subscriber_fd is readable exactly while a sample waits.
 * A ping-pong of many rounds through waits alone loses no wake-up.
 */
#include <poll.h>

#include "helpers.h"

#define SERVICE_A "t/wait/a"
#define SERVICE_B "t/wait/b"
#define ROUNDS 2000

static const struct floe_type u64_type = {
	.name = "t_wait.U64", .size = 8, .align = 8
};

static floe_service *open_svc(floe_node *node, const char *name)
{
	struct floe_pubsub_qos q;
	struct floe_service_opts o = { .type = u64_type, .qos = &q };
	floe_service *svc = NULL;

	floe_pubsub_qos_init(&q);
	q.max_publishers = 2;
	q.subscriber_max_buffer_size = 4;
	if (floe_service_open_or_create(node, name, &o, &svc))
		return NULL;
	return svc;
}

static int send_u64(floe_publisher *pub, uint64_t v)
{
	return floe_publisher_send_copy(pub, &v, sizeof(v));
}

/* Child: publish @v after a pause, then exit / be killed by the parent. */
struct pub_arg {
	uint64_t pause_ms;
	uint64_t value; /* 0: send nothing */
	int leave;      /* destroy in order and exit */
	struct th_pipe ready;
};

static int publisher_child(void *p)
{
	struct pub_arg *a = p;
	floe_node *node = th_node("pub");
	floe_service *svc = node ? open_svc(node, SERVICE_A) : NULL;
	floe_publisher *pub = NULL;

	if (!th_check(svc && !floe_publisher_create(svc, NULL, &pub),
		      "publisher"))
		return 1;
	th_send_u64(&a->ready, 1);
	th_sleep_ms(a->pause_ms);
	if (a->value)
		th_check(send_u64(pub, a->value) == 1, "send reached one");
	if (a->leave) {
		floe_publisher_destroy(pub);
		floe_service_close(svc);
		floe_node_destroy(node);
		return th_child_result();
	}
	th_send_u64(&a->ready, 2);
	for (;;)
		pause(); /* killed by the parent */
}

/* Child of the ping-pong: echo every value of A onto B, by waiting. */
static int echo_child(void *p)
{
	struct th_pipe *ready = p;
	floe_node *node = th_node("echo");
	floe_service *a = node ? open_svc(node, SERVICE_A) : NULL;
	floe_service *b = node ? open_svc(node, SERVICE_B) : NULL;
	floe_subscriber *sub = NULL;
	floe_publisher *pub = NULL;

	if (!th_check(a && b && !floe_subscriber_create(a, NULL, &sub) &&
			      !floe_publisher_create(b, NULL, &pub),
		      "echo ports"))
		return 1;
	th_send_u64(ready, 1);
	for (uint64_t n = 0; n < ROUNDS;) {
		const floe_sample *s;
		int r = floe_subscriber_wait(sub, 10ULL * 1000000000ULL);

		if (!th_check(r == 1, "echo wait: %d after %" PRIu64, r, n))
			break;
		while (floe_subscriber_receive(sub, &s) == 1) {
			uint64_t v = *(const uint64_t *)floe_sample_payload(s);

			floe_sample_release(s);
			th_check(send_u64(pub, v) == 1, "echo send");
			n++;
		}
	}
	floe_publisher_destroy(pub);
	floe_subscriber_destroy(sub);
	floe_service_close(b);
	floe_service_close(a);
	floe_node_destroy(node);
	return th_child_result();
}

static int readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static int readable_within(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

int main(void)
{
	const char *domain = th_setup("wait");
	floe_node *node;
	floe_service *svc, *svc_b;
	floe_subscriber *sub;
	floe_publisher *pub;
	const floe_sample *s;
	struct pub_arg arg = { 0 };
	uint64_t t0, v;
	pid_t pid;
	int fd, r, ok;

	tap_plan(28);
	node = th_node("waiter");
	svc = node ? open_svc(node, SERVICE_A) : NULL;
	tap_require(svc && !floe_subscriber_create(svc, NULL, &sub),
		    "subscriber");
	tap_eq(floe_subscriber_wait(NULL, 0), FLOE_E_INVALID, "NULL port");
	tap_eq(floe_subscriber_fd(NULL), FLOE_E_INVALID, "NULL port: fd");
	tap_eq(floe_subscriber_wait(sub, 0), 0, "nothing waiting: 0 at once");
	t0 = th_now_ns();
	r = floe_subscriber_wait(sub, 80 * 1000000ULL);
	tap_ok(r == 0 && th_now_ns() - t0 >= 80 * 1000000ULL,
	       "timeout: 0 after the time asked (%d)", r);

	/* woken by a send from another process */
	th_pipe_init(&arg.ready);
	arg.pause_ms = 150;
	arg.value = 42;
	pid = th_fork(publisher_child, &arg);
	tap_require(th_recv_u64(&arg.ready, &v, 10000) == 0, "publisher up");
	t0 = th_now_ns();
	r = floe_subscriber_wait(sub, 20ULL * 1000000000ULL);
	tap_ok(r == 1 && th_now_ns() - t0 < 15ULL * 1000000000ULL,
	       "woken by the send (%d)", r);
	tap_ok(floe_subscriber_receive(sub, &s) == 1 &&
		       *(const uint64_t *)floe_sample_payload(s) == 42,
	       "the sample is there");
	floe_sample_release(s);
	tap_require(th_recv_u64(&arg.ready, &v, 10000) == 0, "publisher sent");

	/* its death wakes the waiter, once */
	th_kill(pid);
	t0 = th_now_ns();
	r = floe_subscriber_wait(sub, 20ULL * 1000000000ULL);
	tap_eq(r, FLOE_E_DEAD, "a SIGKILLed publisher: FLOE_E_DEAD");
	tap_eq(floe_subscriber_wait(sub, 100 * 1000000ULL), 0,
	       "reported once");

	/* a dead publisher's sample is still received */
	arg.pause_ms = 0;
	arg.value = 7;
	pid = th_fork(publisher_child, &arg);
	th_recv_u64(&arg.ready, &v, 10000);
	tap_require(th_recv_u64(&arg.ready, &v, 10000) == 0, "sent, then");
	th_kill(pid);
	th_sleep_ms(100);
	tap_eq(floe_subscriber_wait(sub, 5ULL * 1000000000ULL), 1,
	       "a sample of a dead publisher: 1 before the death");
	tap_ok(floe_subscriber_receive(sub, &s) == 1 &&
		       *(const uint64_t *)floe_sample_payload(s) == 7,
	       "and received");
	floe_sample_release(s);
	tap_eq(floe_subscriber_wait(sub, 5ULL * 1000000000ULL), FLOE_E_DEAD,
	       "then the death");

	/* leaving in order is no death */
	arg.value = 0;
	arg.leave = 1;
	pid = th_fork(publisher_child, &arg);
	th_recv_u64(&arg.ready, &v, 10000);
	tap_eq(th_wait(pid, 10000), 0, "a publisher left in order");
	tap_eq(floe_subscriber_wait(sub, 300 * 1000000ULL), 0,
	       "no FLOE_E_DEAD for it");

	/* the descriptor */
	fd = floe_subscriber_fd(sub);
	tap_ok(fd >= 0 && floe_subscriber_fd(sub) == fd, "one descriptor");
	tap_ok(!readable(fd), "not readable while nothing waits");
	tap_require(!floe_publisher_create(svc, NULL, &pub), "publisher");
	send_u64(pub, 1);
	tap_ok(readable_within(fd, 5000), "readable after a send");
	send_u64(pub, 2);
	ok = floe_subscriber_receive(sub, &s) == 1;
	floe_sample_release(s);
	tap_ok(ok && readable(fd), "still readable while one more waits");
	ok = floe_subscriber_receive(sub, &s) == 1;
	floe_sample_release(s);
	tap_ok(ok && floe_subscriber_receive(sub, &s) == 0 && !readable(fd),
	       "not readable once drained");
	floe_publisher_destroy(pub);

	/* ping-pong through waits only: a lost wake-up would stall it */
	svc_b = open_svc(node, SERVICE_B);
	{
		floe_subscriber *back;
		struct th_pipe ready;
		uint64_t n = 0;

		tap_require(svc_b && !floe_subscriber_create(svc_b, NULL, &back) &&
				    !floe_publisher_create(svc, NULL, &pub),
			    "ping-pong ports");
		th_pipe_init(&ready);
		pid = th_fork(echo_child, &ready);
		th_recv_u64(&ready, &v, 10000);
		/* the echo's subscriber is connected once a send reaches it */
		while (send_u64(pub, 0) == 0)
			th_sleep_ms(1);
		for (n = 0; n < ROUNDS; n++) {
			if (floe_subscriber_wait(back, 10ULL * 1000000000ULL) !=
			    1)
				break;
			while (floe_subscriber_receive(back, &s) == 1)
				floe_sample_release(s);
			if (n + 1 < ROUNDS)
				send_u64(pub, n + 1);
		}
		tap_ok(n == ROUNDS, "%d round trips through waits (%" PRIu64 ")",
		       ROUNDS, n);
		tap_eq(th_wait(pid, 20000), 0, "echo child");
		floe_publisher_destroy(pub);
		floe_subscriber_destroy(back);
		floe_service_close(svc_b);
	}
	floe_subscriber_destroy(sub);
	floe_service_close(svc);
	tap_ok(floe_node_cleanup_dead(node) >= 0, "dead nodes cleaned up");
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
