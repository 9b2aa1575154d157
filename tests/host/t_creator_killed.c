// SPDX-License-Identifier: MIT
/*
 * A creator killed before its service was READY leaves a name that no
 * port ever joined; nobody waits for it: listing the domain skips it at
 * once, open reports FLOE_E_BUSY at once, floe_node_cleanup_dead removes
 * it, and open_or_create of the name works. (Waiting out the creator
 * makes sense only while it lives; every one of these used to wait 2 s.)
 * The child creates the service and sets its state back to CREATING
 * before it is SIGKILLed. (Test of internals: it sets the state.)
 */

#define SERVICE "t/creator_killed"

#include "lifecycle.h"

static uint64_t ms_since(uint64_t t0)
{
	return (th_now_ns() - t0) / 1000000;
}

int main(void)
{
	const char *domain = th_setup("creator_killed");
	struct floe_pubsub_qos q;
	struct floe_service_opts o = lc_opts(&q);
	floe_node *node;
	floe_service *svc;
	uint64_t t0, ms;
	int r, seen = 0;

	tap_plan(6);
	node = th_node("main");
	tap_require(th_wait(th_fork(lc_create_and_die, NULL), 10000) ==
			    128 + SIGKILL,
		    "a creator was killed before its service was ready");
	t0 = th_now_ns();
	r = floe_service_list(node, lc_count_service, &seen);
	ms = ms_since(t0);
	tap_ok(r >= 0 && !seen && ms < 1000,
	       "listing skips it (%d, seen %d, %" PRIu64 " ms)", r, seen, ms);
	t0 = th_now_ns();
	r = floe_service_open(node, SERVICE, &o, &svc);
	ms = ms_since(t0);
	tap_ok(r == FLOE_E_BUSY && ms < 1000, "open: %s (%" PRIu64 " ms)",
	       floe_strerror(r), ms);
	t0 = th_now_ns();
	r = floe_node_cleanup_dead(node);
	ms = ms_since(t0);
	tap_ok(r >= 0 && ms < 1000 && floe_service_open(node, SERVICE, &o,
						      &svc) == FLOE_E_NOT_FOUND,
	       "cleanup removes it (%d, %" PRIu64 " ms)", r, ms);
	r = floe_service_open_or_create(node, SERVICE, &o, &svc);
	tap_ok(r == 0, "open_or_create: %s", floe_strerror(r));
	if (!r)
		floe_service_close(svc);
	floe_node_destroy(node);
	tap_ok(th_count_objects(domain, 1) == 0, "no shared objects remain");
	return tap_done();
}
