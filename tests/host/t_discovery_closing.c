// SPDX-License-Identifier: MIT
/*
 * A service that a node closes while another still uses it stays in
 * every listing: the closer marks it REMOVING for a moment, finds the
 * other node, and backs out, and floe_service_list must not report it
 * gone meanwhile (a watch built on the listings would report it removed
 * and created again). A child opens and closes the service for 2 s while
 * the parent, which keeps it open, lists the domain over and over.
 */

#define SERVICE "t/discovery_closing"

#include "lifecycle.h"

static int churn(void *unused)
{
	struct floe_pubsub_qos q;
	struct floe_service_opts o = lc_opts(&q);
	floe_node *node = th_node("churner");
	long rounds = 0;
	floe_service *svc;

	(void)unused;
	if (!node)
		return 1;
	for (uint64_t until = th_now_ns() + 2000000000ull;
	     th_now_ns() < until; rounds++) {
		if (!th_check(floe_service_open(node, SERVICE, &o, &svc) == 0,
			      "open"))
			break;
		floe_service_close(svc);
	}
	th_child_diag("%ld opens and closes", rounds);
	floe_node_destroy(node);
	return th_child_result();
}

int main(void)
{
	const char *domain = th_setup("discovery_closing");
	struct floe_pubsub_qos q;
	struct floe_service_opts o = lc_opts(&q);
	floe_node *node;
	floe_service *svc;
	long lists = 0, missing = 0;
	pid_t pid;
	int r, status;

	tap_plan(4);
	node = th_node("main");
	r = floe_service_create(node, SERVICE, &o, &svc);
	tap_require(r == 0, "create: %s", floe_strerror(r));
	pid = th_fork(churn, NULL);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		int seen = 0;

		r = floe_service_list(node, lc_count_service, &seen);
		lists++;
		missing += r < 0 || seen != 1;
	}
	th_forget_child(pid);
	tap_ok(th_status(status) == 0 && lists > 10,
	       "the child's opens and closes (%d); listed %ld times",
	       th_status(status), lists);
	tap_ok(missing == 0, "the service was in every listing (missing "
	       "from %ld)", missing);
	floe_service_close(svc);
	floe_node_destroy(node);
	tap_ok(th_count_objects(domain, 1) == 0, "no shared objects remain");
	return tap_done();
}
