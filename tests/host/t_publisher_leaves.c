// SPDX-License-Identifier: MIT
/*
 * What a send reported delivered is received, however its publisher ends:
 * destroyed in this process, a process that exits cleanly, a process
 * SIGKILLed (before the subscriber ever looked, and across
 * floe_node_cleanup_dead), a publisher that grew its data segment just
 * before leaving. Its slot is free at once: a new publisher in it queues
 * behind what the old one left (both are received, in order), and what is
 * left goes with the subscriber if it leaves first. A subscriber whose
 * publisher was replaced in the same slot receives the newcomer's waiting
 * sample in the first call (has_samples and receive agree).
 */
#include "helpers.h"

#define SERVICE "t/leaves"
#define SENT 3
#define BIG_LEN 100

struct msg {
	uint64_t tag;
	uint64_t value;
	uint64_t check;
};

static const struct floe_type msg_type = {
	.name = "t_leaves.Msg",
	.size = sizeof(struct msg),
	.align = _Alignof(struct msg),
};

enum ending { END_DESTROY, END_EXIT, END_KILL, END_GROW };

struct child_arg {
	enum ending ending;
	uint64_t tag;
	struct th_pipe to_parent;
};

static struct floe_service_opts service_opts(struct floe_pubsub_qos *q)
{
	floe_pubsub_qos_init(q);
	q->max_publishers = 1;
	q->subscriber_max_buffer_size = 8;
	q->subscriber_max_borrowed_samples = 2;
	q->enable_safe_overflow = false;
	return (struct floe_service_opts){ .type = msg_type, .qos = q };
}

/* Send @count samples of @len elements tagged @tag; how many reached one
 * subscriber. */
static int send_tagged(floe_publisher *pub, uint64_t tag, int count,
		       uint64_t len)
{
	int reached = 0;

	for (int i = 0; i < count; i++) {
		floe_sample_mut *s;
		struct msg *m;

		if (floe_publisher_loan(pub, len, &s))
			break;
		m = floe_sample_mut_payload(s);
		for (uint64_t k = 0; k < len; k++)
			m[k] = (struct msg){ tag, (uint64_t)i,
					     th_pattern(tag, (uint64_t)i + k) };
		reached += floe_sample_mut_send(s) == 1;
	}
	return reached;
}

/* Receive @count samples tagged @tag, values 0.. in order, each of @len
 * elements. */
static int receive_tagged(floe_subscriber *sub, uint64_t tag, int count,
			  uint64_t len)
{
	const floe_sample *s;
	int ok = 1;

	for (int i = 0; i < count; i++) {
		const struct msg *m;

		if (th_receive(sub, &s, 5000) != 1) {
			tap_diag("sample %d of tag %" PRIu64 " missing", i, tag);
			return 0;
		}
		m = floe_sample_payload(s);
		if (floe_sample_len(s) != len || m->tag != tag ||
		    m->value != (uint64_t)i)
			tap_diag("sample %d of tag %" PRIu64 ": tag %" PRIu64
				 ", value %" PRIu64 ", len %" PRIu64, i, tag,
				 m->tag, m->value, floe_sample_len(s));
		ok &= floe_sample_len(s) == len;
		for (uint64_t k = 0; ok && k < len; k++)
			ok &= m[k].tag == tag && m[k].value == (uint64_t)i &&
			      m[k].check == th_pattern(tag, (uint64_t)i + k);
		floe_sample_release(s);
	}
	return ok;
}

/* Nothing more is waiting. */
static int drained(floe_subscriber *sub)
{
	const floe_sample *s;
	int r = floe_subscriber_receive(sub, &s);

	if (r == 1)
		floe_sample_release(s);
	return r == 0 && !floe_subscriber_has_samples(sub);
}

static int publisher_process(void *arg)
{
	struct child_arg *ca = arg;
	struct floe_pubsub_qos q;
	struct floe_service_opts o = service_opts(&q);
	struct floe_publisher_opts po;
	floe_node *node = th_node("publisher");
	floe_service *svc = NULL;
	floe_publisher *pub = NULL;
	int r, reached;

	if (!node)
		return 1;
	floe_publisher_opts_init(&po);
	po.allocation = FLOE_ALLOC_POWER_OF_TWO;
	r = th_service_open_retry(node, SERVICE, &o, &svc, 10000);
	if (!r)
		r = floe_publisher_create(svc, &po, &pub);
	if (!th_check(r == 0, "publisher: %s", floe_strerror(r)))
		return 1;
	if (ca->ending == END_GROW) {
		reached = send_tagged(pub, ca->tag, 1, 1);
		reached += send_tagged(pub, ca->tag + 1, 1, BIG_LEN);
		th_check_eq(reached, 2, "both sizes reached the subscriber");
	} else {
		th_check_eq(send_tagged(pub, ca->tag, SENT, 1), SENT,
			    "every send reached the subscriber");
	}
	if (ca->ending == END_KILL) {
		th_send_u64(&ca->to_parent, 1);
		for (;;)
			pause();
	}
	floe_publisher_destroy(pub);
	floe_service_close(svc);
	floe_node_destroy(node);
	th_send_u64(&ca->to_parent, 1);
	return th_child_result();
}

/* A publisher process sends and ends as @ending; true once it did. */
static int run_publisher(enum ending ending, uint64_t tag)
{
	struct child_arg ca = { .ending = ending, .tag = tag };
	uint64_t v = 0;
	pid_t pid;
	int ok;

	if (th_pipe_init(&ca.to_parent))
		return 0;
	pid = th_fork(publisher_process, &ca);
	ok = pid > 0 && th_recv_u64(&ca.to_parent, &v, 30000) == 0;
	if (ending == END_KILL)
		ok &= pid > 0 && th_kill(pid) == 128 + SIGKILL;
	else
		ok &= pid > 0 && th_wait(pid, 30000) == 0;
	th_pipe_close(&ca.to_parent);
	return ok;
}

int main(void)
{
	const char *domain = th_setup("leaves");
	struct floe_pubsub_qos q;
	struct floe_service_opts o = service_opts(&q);
	floe_node *node = NULL;
	floe_service *svc = NULL;
	floe_subscriber *sub = NULL;
	floe_publisher *pub = NULL, *pub2 = NULL;
	const floe_sample *s;
	int r;

	tap_plan(25);
	tap_require(floe_node_create("t_leaves", NULL, &node) == 0, "node");
	r = floe_service_create(node, SERVICE, &o, &svc);
	if (!r)
		r = floe_subscriber_create(svc, NULL, &sub);
	tap_require(r == 0, "service and subscriber (%s)", floe_strerror(r));

	/* In this process: send, destroy, then receive. */
	tap_require(floe_publisher_create(svc, NULL, &pub) == 0, "publisher");
	tap_eq(send_tagged(pub, 10, SENT, 1), SENT, "sends reached 1 each");
	floe_publisher_destroy(pub);
	tap_ok(receive_tagged(sub, 10, SENT, 1) && drained(sub),
	       "all received after floe_publisher_destroy");

	tap_require(run_publisher(END_EXIT, 20), "a process sent and exited");
	tap_ok(receive_tagged(sub, 20, SENT, 1) && drained(sub),
	       "all received after its clean exit");

	tap_require(run_publisher(END_KILL, 30), "a process sent, SIGKILLed");
	tap_ok(floe_node_cleanup_dead(node) >= 0, "cleanup_dead");
	tap_ok(receive_tagged(sub, 30, SENT, 1) && drained(sub),
	       "all received after its death and cleanup_dead");

	tap_require(run_publisher(END_GROW, 40), "a process grew, sent, left");
	tap_ok(receive_tagged(sub, 40, 1, 1) &&
		       receive_tagged(sub, 41, 1, BIG_LEN) && drained(sub),
	       "both sizes received after it left");

	/* The only slot is free at once; the next publisher's samples queue
	 * behind what the last one left. */
	tap_require(floe_publisher_create(svc, NULL, &pub) == 0, "publisher");
	tap_eq(send_tagged(pub, 50, SENT, 1), SENT, "sent");
	floe_publisher_destroy(pub);
	r = floe_publisher_create(svc, NULL, &pub2);
	tap_eq(r, 0, "a new publisher takes the slot at once");
	tap_eq(send_tagged(pub2, 60, 1, 1), 1,
	       "and reaches the subscriber behind the old one's samples");
	tap_ok(floe_subscriber_has_samples(sub), "has_samples");
	tap_ok(receive_tagged(sub, 50, SENT, 1), "the old one's first");
	r = floe_subscriber_receive(sub, &s);
	tap_eq(r, 1, "then the new one's, in the same call");
	if (r == 1)
		floe_sample_release(s);

	/* Replaced in the same slot with nothing queued: at once. */
	floe_publisher_destroy(pub2);
	r = floe_publisher_create(svc, NULL, &pub);
	tap_eq(r, 0, "an emptied publisher's slot is free at once");
	tap_eq(send_tagged(pub, 70, 1, 1), 1, "sent");
	r = floe_subscriber_has_samples(sub) ? floe_subscriber_receive(sub, &s)
					     : -1;
	tap_eq(r, 1, "received by the first call");
	if (r == 1)
		floe_sample_release(s);

	/* What is left goes with the subscriber if it leaves first. */
	tap_eq(send_tagged(pub, 80, 1, 1), 1, "sent again");
	floe_publisher_destroy(pub);
	floe_subscriber_destroy(sub);
	r = floe_publisher_create(svc, NULL, &pub);
	tap_eq(r, 0, "the slot is free after both left");
	if (!r)
		floe_publisher_destroy(pub);

	floe_service_close(svc);
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
