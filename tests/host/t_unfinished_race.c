// SPDX-License-Identifier: MIT
/*
 * remove_unfinished() opens a service's name, finds it CREATING with a
 * dead creator, and then unlinks the name: by then another node may have
 * removed that segment and made a new service under the name (its own
 * open_or_create), whose name the first one unlinks under its users.
 * The cleanup (floe_node_cleanup_dead) does this since fa3663b; two
 * open_or_creates did it before. The interleaving is forced: the
 * cleaner's backend runs the other node's open_or_create inside its
 * liveness check of the dead creator.
 * (Test of internals: it hooks a backend operation.)
 */

#define SERVICE "t/unfinished_race"

#include "lifecycle.h"

static const struct floe_backend_ops *real;
static floe_node *racer;
static floe_service *racer_svc;
static int calls, racer_call, racer_ret = -1000;

static enum floe_liveness hooked_liveness(struct floe_backend *be,
					  const struct floe_port_ref *ref)
{
	enum floe_liveness l = real->port_liveness(be, ref);

	/* the dead creator's: for its node record (shm: the module
	 * removes it itself), floe_svc_look's, then remove_unfinished's */
	if (l == FLOE_PORT_DEAD && ++calls == racer_call) {
		struct floe_pubsub_qos q;
		struct floe_service_opts o = lc_opts(&q);

		racer_ret = floe_service_open_or_create(racer, SERVICE, &o,
							&racer_svc);
	}
	return l;
}

int main(void)
{
	const char *domain = th_setup("unfinished_race");
	struct floe_pubsub_qos q;
	struct floe_service_opts o = lc_opts(&q);
	struct floe_backend_ops hooked;
	floe_node *cleaner, *third;
	floe_service *svc3;
	int r;

	tap_plan(4);
	cleaner = th_node("cleaner");
	racer = th_node("racer");
	third = th_node("third");
	tap_require(th_wait(th_fork(lc_create_and_die, NULL), 10000) ==
			    128 + SIGKILL,
		    "a creator was killed before its service was ready");
	racer_call = floe_node_backend(cleaner) == FLOE_BACKEND_KMOD ? 2 : 3;
	real = cleaner->be->ops;
	hooked = *real;
	hooked.port_liveness = hooked_liveness;
	cleaner->be->ops = &hooked;
	r = floe_node_cleanup_dead(cleaner);
	cleaner->be->ops = real;
	tap_require(racer_ret == 0, "meanwhile another node's open_or_create "
		    "made the service anew: %s (cleanup %d, calls %d)",
		    floe_strerror(racer_ret), r, calls);
	r = floe_service_open(third, SERVICE, &o, &svc3);
	tap_ok(r == 0, "the new service, in use, keeps its name: %s",
	       floe_strerror(r));
	if (!r)
		floe_service_close(svc3);
	floe_service_close(racer_svc);
	floe_node_destroy(third);
	floe_node_destroy(racer);
	floe_node_cleanup_dead(cleaner);
	floe_node_destroy(cleaner);
	tap_ok(th_count_objects(domain, 1) == 0, "no shared objects remain");
	return tap_done();
}
