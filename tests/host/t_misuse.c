// SPDX-License-Identifier: MIT
/*
 * Misuse that would leave handles pointing at freed memory fails loudly:
 * closing a service with live ports, destroying a node with open services,
 * a publisher with loans, a subscriber holding samples, a client with a
 * pending response, a server holding an active request, closing a
 * blackboard with a live reader. Each is done in a child process, which
 * must die of SIGABRT having named the function on stderr; the same steps
 * done in the right order exit cleanly. The dead children's leftovers are
 * then cleaned up.
 */
#include "rr_helpers.h"

enum misuse {
	SERVICE_WITH_PORT,
	NODE_WITH_SERVICE,
	PUBLISHER_WITH_LOAN,
	SUBSCRIBER_WITH_SAMPLE,
	CLIENT_WITH_PENDING,
	SERVER_WITH_ACTIVE,
	BLACKBOARD_WITH_READER,
	MISUSES
};

static const char *const culprit[MISUSES] = {
	[SERVICE_WITH_PORT] = "floe_service_close",
	[NODE_WITH_SERVICE] = "floe_node_destroy",
	[PUBLISHER_WITH_LOAN] = "floe_publisher_destroy",
	[SUBSCRIBER_WITH_SAMPLE] = "floe_subscriber_destroy",
	[CLIENT_WITH_PENDING] = "floe_client_destroy",
	[SERVER_WITH_ACTIVE] = "floe_server_destroy",
	[BLACKBOARD_WITH_READER] = "floe_blackboard_close",
};

struct child {
	enum misuse what;
	int correct; /* do it in the right order instead */
	int err_fd;  /* the child's stderr */
};

static const struct floe_type u64_type = { "t_misuse.U64", 8, 8 };

static int pubsub(struct child *c, floe_node *node)
{
	struct floe_service_opts o = { .type = u64_type };
	floe_service *svc;
	floe_publisher *pub;
	floe_subscriber *sub;
	floe_sample_mut *loan;
	const floe_sample *s;

	if (floe_service_create(node, "t/misuse", &o, &svc) ||
	    floe_subscriber_create(svc, NULL, &sub) ||
	    floe_publisher_create(svc, NULL, &pub) ||
	    floe_publisher_loan(pub, 1, &loan))
		return 1;
	*(uint64_t *)floe_sample_mut_payload(loan) = 7;
	if (floe_sample_mut_send(loan) != 1 ||
	    th_receive(sub, &s, 5000) != 1 ||
	    floe_publisher_loan(pub, 1, &loan))
		return 1;
	if (c->correct) {
		/* what must go first, in order */
		floe_sample_mut_discard(loan);
		floe_sample_release(s);
		if (c->what == SERVICE_WITH_PORT ||
		    c->what == NODE_WITH_SERVICE) {
			floe_publisher_destroy(pub);
			floe_subscriber_destroy(sub);
		}
		if (c->what == NODE_WITH_SERVICE)
			floe_service_close(svc);
	}
	switch (c->what) {
	case SERVICE_WITH_PORT:
		floe_service_close(svc);
		return c->correct ? 0 : 2;
	case NODE_WITH_SERVICE:
		floe_node_destroy(node);
		return c->correct ? 0 : 2;
	case PUBLISHER_WITH_LOAN:
		floe_publisher_destroy(pub);
		floe_subscriber_destroy(sub);
		break;
	default:
		floe_subscriber_destroy(sub);
		floe_publisher_destroy(pub);
		break;
	}
	floe_service_close(svc);
	return c->correct ? 0 : 2; /* misused: should not get here */
}

static int request_response(struct child *c, floe_node *node)
{
	struct floe_rr_opts o = rr_opts(NULL);
	floe_service *svc;
	floe_client *client;
	floe_server *server;
	floe_request_mut *req;
	floe_pending_response *pending;
	floe_active_request *active;
	int r = 0;

	if (floe_rr_create(node, "t/misuse", &o, &svc) ||
	    floe_server_create(svc, NULL, &server) ||
	    floe_client_create(svc, NULL, &client) ||
	    floe_client_loan(client, 1, &req))
		return 1;
	rr_fill_req(floe_request_mut_payload(req), 1, 1, 0);
	if (floe_request_mut_send(req, &pending) != 1)
		return 1;
	for (uint64_t end = th_now_ns() + 5000000000ull;
	     r == 0 && th_now_ns() < end;)
		r = floe_server_receive(server, &active);
	if (r != 1)
		return 1;
	if (c->correct) {
		floe_active_request_drop(active);
		floe_pending_response_drop(pending);
	}
	if (c->what == CLIENT_WITH_PENDING)
		floe_client_destroy(client);
	else
		floe_server_destroy(server);
	if (!c->correct)
		return 2;
	if (c->what == CLIENT_WITH_PENDING)
		floe_server_destroy(server);
	else
		floe_client_destroy(client);
	floe_service_close(svc);
	return 0;
}

static int blackboard(struct child *c, floe_node *node)
{
	struct floe_blackboard_entry e = { 1, "t_misuse.U64", 8, 8, NULL };
	struct floe_blackboard_opts o = { .entries = &e, .num_entries = 1 };
	floe_blackboard *bb;
	floe_reader *reader;

	if (floe_blackboard_create(node, "t/misuse", &o, &bb) ||
	    floe_reader_create(bb, &reader))
		return 1;
	if (c->correct)
		floe_reader_destroy(reader);
	floe_blackboard_close(bb);
	return c->correct ? 0 : 2;
}

static int child_main(void *arg)
{
	struct child *c = arg;
	floe_node *node;
	int r;

	dup2(c->err_fd, STDERR_FILENO);
	node = th_node("misuse");
	if (!node)
		return 1;
	if (c->what <= SUBSCRIBER_WITH_SAMPLE)
		r = pubsub(c, node);
	else if (c->what <= SERVER_WITH_ACTIVE)
		r = request_response(c, node);
	else
		r = blackboard(c, node);
	if (r == 0 && c->what != NODE_WITH_SERVICE)
		floe_node_destroy(node);
	return r;
}

/* Run @what wrongly (or @correct-ly) in a child; its exit status and what
 * it wrote to stderr. */
static int run(enum misuse what, int correct, char *err, size_t len)
{
	struct child c = { .what = what, .correct = correct };
	int fds[2], status;
	ssize_t n, got = 0;
	pid_t pid;

	if (pipe(fds))
		return -1;
	c.err_fd = fds[1];
	pid = th_fork(child_main, &c);
	close(fds[1]);
	while (pid > 0 && (n = read(fds[0], err + got, len - 1 - (size_t)got)) > 0)
		got += n;
	err[got] = '\0';
	close(fds[0]);
	status = pid > 0 ? th_wait(pid, 30000) : -1;
	return status;
}

int main(void)
{
	const char *domain = th_setup("misuse");
	floe_node *node;
	char err[1024];

	tap_plan(2 * MISUSES + 1);
	for (int w = 0; w < MISUSES; w++) {
		int status = run(w, 0, err, sizeof(err));

		tap_ok(status == 128 + SIGABRT && strstr(err, culprit[w]) &&
			       strstr(err, "floe: "),
		       "%s misused: aborts, saying so", culprit[w]);
		if (status != 128 + SIGABRT || !strstr(err, culprit[w]))
			tap_diag("status %d, stderr: %s", status, err);
		status = run(w, 1, err, sizeof(err));
		tap_eq(status, 0, "%s used right: clean exit", culprit[w]);
	}
	node = th_node("cleaner");
	tap_ok(node && floe_node_cleanup_dead(node) >= 0 &&
		       (floe_node_destroy(node), 1) &&
		       th_count_objects(domain, 1) == 0,
	       "the aborted processes' leftovers are cleaned up");
	return tap_done();
}
