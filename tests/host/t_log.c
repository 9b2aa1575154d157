// SPDX-License-Identifier: MIT
/*
 * The log hook: level names, FLOE_LOG_LEVEL, the stderr default, a
 * callback and its level filter, callback and context always paired while
 * threads swap the sink, and real messages: a refused service with its
 * reason, a dead publisher and node reclaimed with their ids.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "helpers.h"

#define SERVICE "t/log"

struct captured {
	char text[16][512];
	enum floe_log_level level[16];
	int count;
};

static void capture(enum floe_log_level level, const char *message, void *ctx)
{
	struct captured *c = ctx;

	if (c->count < 16) {
		snprintf(c->text[c->count], sizeof(c->text[0]), "%s", message);
		c->level[c->count] = level;
	}
	c->count++;
}

/* Index of the first captured message containing every needle, or -1. */
static int find(const struct captured *c, const char *a, const char *b)
{
	for (int i = 0; i < c->count && i < 16; i++)
		if (strstr(c->text[i], a) && (!b || strstr(c->text[i], b)))
			return i;
	return -1;
}

static struct floe_service_opts typed(const char *name, uint64_t size)
{
	struct floe_service_opts o = { .type = th_type(name, size, 1) };

	return o;
}

/* Open SERVICE (created as "u8", size 1) as "u16": refused, logged. */
static int refuse(floe_node *node)
{
	struct floe_service_opts want = typed("u16", 2);
	floe_service *svc = NULL;

	return floe_service_open(node, SERVICE, &want, &svc);
}

static void test_levels(void)
{
	static const char *const names[] = { "off", "error", "warn", "info",
					      "debug" };
	enum floe_log_level l = FLOE_LOG_INFO;
	int all = 1;

	for (int i = 0; i <= FLOE_LOG_DEBUG; i++)
		all &= !floe_log_level_parse(names[i], &l) && (int)l == i &&
		       !strcmp(floe_log_level_name(l), names[i]);
	tap_ok(all, "every level name parses and names itself back");
	tap_eq(floe_log_level_parse("warning", &l), FLOE_E_INVALID,
	       "'warning' is no level");
	tap_eq(floe_log_level_parse("", &l), FLOE_E_INVALID, "nor is ''");
	tap_eq(floe_log_level_parse(NULL, &l), FLOE_E_INVALID, "nor NULL");
	tap_ok(floe_log_level_name((enum floe_log_level)7) == NULL,
	       "a level out of range has no name");
	tap_eq(floe_set_log((enum floe_log_level)5, NULL, NULL),
	       FLOE_E_INVALID, "floe_set_log refuses a level out of range");
}

/* Before any floe_set_log (a child: the parent sets one later). */
static int env_child(void *arg)
{
	(void)arg;
	unsetenv("FLOE_LOG_LEVEL");
	th_check_eq(floe_log_get_level(), FLOE_LOG_WARN, "default: warn");
	setenv("FLOE_LOG_LEVEL", "debug", 1);
	th_check_eq(floe_log_get_level(), FLOE_LOG_DEBUG, "env: debug");
	setenv("FLOE_LOG_LEVEL", "loud", 1);
	th_check_eq(floe_log_get_level(), FLOE_LOG_WARN, "bad env: warn");
	setenv("FLOE_LOG_LEVEL", "debug", 1);
	floe_set_log(FLOE_LOG_ERROR, NULL, NULL);
	th_check_eq(floe_log_get_level(), FLOE_LOG_ERROR,
		    "floe_set_log's level beats the environment");
	return th_child_result();
}

/* A refusal with stderr on a pipe, at the level of @arg's environment. */
struct stderr_arg {
	const char *env_level;
	struct th_pipe out;
};

static int stderr_child(void *arg)
{
	struct stderr_arg *a = arg;
	floe_node *node = th_node("log-stderr");

	setenv("FLOE_LOG_LEVEL", a->env_level, 1);
	dup2(a->out.wr, STDERR_FILENO);
	if (node)
		th_check_eq(refuse(node), FLOE_E_TYPE_MISMATCH, "refused");
	floe_node_destroy(node);
	return th_child_result();
}

/* What a child wrote to stderr with FLOE_LOG_LEVEL=@level. */
static void child_stderr(const char *level, char *buf, size_t size)
{
	struct stderr_arg a = { .env_level = level };
	pid_t pid;
	ssize_t n;
	size_t got = 0;

	memset(buf, 0, size);
	tap_require(th_pipe_init(&a.out) == 0, "pipe");
	pid = th_fork(stderr_child, &a);
	tap_eq(th_wait(pid, 30000), 0, "FLOE_LOG_LEVEL=%s: child ran", level);
	close(a.out.wr);
	while (got + 1 < size &&
	       (n = read(a.out.rd, buf + got, size - 1 - got)) > 0)
		got += (size_t)n;
	close(a.out.rd);
}

static void test_stderr(void)
{
	char buf[2048], want[64];

	child_stderr("warn", buf, sizeof(buf));
	snprintf(want, sizeof(want), "]: warn: service '%s' refused: ", SERVICE);
	tap_ok(!strncmp(buf, "floe[", 5) && strstr(buf, want) &&
	       strstr(buf, "it carries 'u8' (size 1, align 1), not 'u16' "
			   "(size 2, align 1)\n"),
	       "default sink: one stderr line with the reason");
	if (!strstr(buf, want))
		tap_diag("  stderr: %s", buf);
	child_stderr("error", buf, sizeof(buf));
	tap_ok(!strstr(buf, "refused"), "FLOE_LOG_LEVEL=error: no warning");
}

static void test_callback(floe_node *node)
{
	struct captured c = { 0 };

	floe_set_log(FLOE_LOG_WARN, capture, &c);
	tap_eq(refuse(node), FLOE_E_TYPE_MISMATCH, "open with another type");
	tap_ok(c.count == 1 && c.level[0] == FLOE_LOG_WARN &&
	       find(&c, "refused", "not 'u16' (size 2, align 1)") == 0,
	       "the callback got the refusal, at warn");
	floe_set_log(FLOE_LOG_ERROR, capture, &c);
	refuse(node);
	tap_eq(c.count, 1, "at level error it does not");
	floe_set_log(FLOE_LOG_OFF, capture, &c);
	refuse(node);
	tap_eq(c.count, 1, "nor with logging off");
}

/* ---- the sink pair under threads ---- */

struct pair_ctx {
	_Atomic long calls;
	_Atomic long mismatches;
};

static struct pair_ctx ctx_a, ctx_b;
static _Atomic int swapping;

static void sink_a(enum floe_log_level l, const char *m, void *ctx)
{
	(void)l, (void)m;
	ctx_a.calls++;
	ctx_a.mismatches += ctx != &ctx_a;
}

static void sink_b(enum floe_log_level l, const char *m, void *ctx)
{
	(void)l, (void)m;
	ctx_b.calls++;
	ctx_b.mismatches += ctx != &ctx_b;
}

static void *swapper(void *arg)
{
	(void)arg;
	for (long i = 0; atomic_load(&swapping); i++)
		floe_set_log(FLOE_LOG_WARN, i % 2 ? sink_a : sink_b,
			     i % 2 ? (void *)&ctx_a : (void *)&ctx_b);
	return NULL;
}

static void *refuser(void *arg)
{
	for (int i = 0; i < 500; i++)
		refuse(arg);
	return NULL;
}

static void test_threads(floe_node *node)
{
	pthread_t sw[2], rf[2];

	/* the test before left logging off: a refuser that ran before the
	 * swappers' first call would log nothing */
	floe_set_log(FLOE_LOG_WARN, sink_a, &ctx_a);
	atomic_store(&swapping, 1);
	for (int i = 0; i < 2; i++)
		pthread_create(&sw[i], NULL, swapper, NULL);
	for (int i = 0; i < 2; i++)
		pthread_create(&rf[i], NULL, refuser, node);
	for (int i = 0; i < 2; i++)
		pthread_join(rf[i], NULL);
	atomic_store(&swapping, 0);
	for (int i = 0; i < 2; i++)
		pthread_join(sw[i], NULL);
	tap_eq(ctx_a.calls + ctx_b.calls, 1000,
	       "1000 messages while two threads swap the sink: each delivered");
	tap_eq(ctx_a.mismatches + ctx_b.mismatches, 0,
	       "every callback got its own context");
}

/* A node of the automatic backend: the shm one says why it was chosen. */
static int fallback_child(void *arg)
{
	struct captured c = { 0 };
	struct floe_node_opts opts;
	floe_node *node = NULL;
	int found;

	(void)arg;
	unsetenv("FLOE_BACKEND");
	floe_set_log(FLOE_LOG_INFO, capture, &c);
	floe_node_opts_init(&opts);
	opts.backend = FLOE_BACKEND_AUTO;
	if (!th_check(floe_node_create("log-auto", &opts, &node) == 0, "node"))
		return 1;
	found = find(&c, "kernel module unusable", "using the shm backend");
	if (floe_node_backend(node) == FLOE_BACKEND_SHM)
		th_check(found >= 0, "the fallback to shm is logged at info");
	else
		th_check(found < 0, "no fallback, no message");
	floe_node_destroy(node);
	return th_child_result();
}

/* ---- a dead publisher and node ---- */

static int doomed(void *arg)
{
	struct th_pipe *ready = arg;
	floe_node *node = th_node("log-doomed");
	struct floe_service_opts o = typed("u8", 1);
	floe_service *svc = NULL;
	floe_publisher *pub = NULL;

	if (!node || floe_service_open(node, SERVICE, &o, &svc) ||
	    floe_publisher_create(svc, NULL, &pub))
		return 1;
	th_send_u64(ready, floe_publisher_id(pub));
	th_send_u64(ready, floe_node_id(node));
	for (;;)
		pause();
}

static void test_death(floe_node *node)
{
	struct captured c = { 0 };
	struct th_pipe ready;
	uint64_t pub_id = 0, node_id = 0;
	char want[96];
	pid_t pid;

	tap_require(th_pipe_init(&ready) == 0, "pipe");
	pid = th_fork(doomed, &ready);
	tap_require(th_recv_u64(&ready, &pub_id, 30000) == 0 &&
		    th_recv_u64(&ready, &node_id, 30000) == 0,
		    "a child has a publisher");
	th_kill(pid);
	floe_set_log(FLOE_LOG_WARN, capture, &c);
	tap_ok(floe_node_cleanup_dead(node) >= 0, "cleanup after it");
	snprintf(want, sizeof(want), "publisher %llu of node %llu is dead",
		 (unsigned long long)pub_id, (unsigned long long)node_id);
	if (!tap_ok(find(&c, want, SERVICE) >= 0,
		    "logged: the dead publisher, its node and service"))
		for (int i = 0; i < c.count && i < 16; i++)
			tap_diag("  logged: %s", c.text[i]);
	floe_set_log(FLOE_LOG_WARN, NULL, NULL);
	th_pipe_close(&ready);
}

int main(void)
{
	const char *domain = th_setup("log");
	struct floe_service_opts o = typed("u8", 1);
	floe_service *svc = NULL;
	floe_node *node;
	pid_t pid;

	tap_plan(27);
	test_levels();
	pid = th_fork(env_child, NULL);
	tap_eq(th_wait(pid, 30000), 0, "FLOE_LOG_LEVEL: default, set, "
					 "invalid, overridden");
	node = th_node("log");
	tap_require(node, "node");
	tap_require(floe_service_create(node, SERVICE, &o, &svc) == 0,
		    "service");
	pid = th_fork(fallback_child, NULL);
	tap_eq(th_wait(pid, 30000), 0, "the automatic backend: a fallback to "
					 "shm is logged, kmod is silent");
	test_stderr();
	test_callback(node);
	test_threads(node);
	test_death(node);
	floe_service_close(svc);
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared memory left");
	return tap_done();
}
