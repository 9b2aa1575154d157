// SPDX-License-Identifier: MIT
/*
 * A service whose name its remover already unlinked is never made READY
 * again. A remover leaves its REMOVING word in the segment it unlinked;
 * once its node is gone, a process that mapped the segment before the
 * unlink (an opener or a listing that raced the close) finishes the
 * "half-done" removal. If a second such opener holds a node slot at that
 * moment, the finisher must not hand the nameless segment back as READY:
 * the opener would join a service nobody else can find.
 * (Test of internals: the openers' steps are taken one by one.)
 */

#define SERVICE "t/finish_nameless"

#include "lifecycle.h"

int main(void)
{
	const char *domain = th_setup("finish_nameless");
	struct floe_pubsub_qos q;
	struct floe_service_opts o = lc_opts(&q);
	char seg_name[FLOE_SEG_NAME_MAX];
	floe_node *creator, *opener, *finisher, *third;
	floe_service *svc, *stale_o, *stale_f, *svc3;
	uint64_t state;
	int r, slot;
	bool gone;

	tap_plan(7);
	creator = th_node("creator");
	opener = th_node("opener");
	finisher = th_node("finisher");
	third = th_node("third");
	r = floe_service_create(creator, SERVICE, &o, &svc);
	tap_require(r == 0, "create: %s", floe_strerror(r));
	floe_seg_name(seg_name, getenv("FLOE_DOMAIN"), FLOE_KIND_SERVICE,
		      floe_name_hash(SERVICE), 0);
	/* the opener and the finisher map it while it is READY */
	tap_require(floe_svc_attach(opener, seg_name, &stale_o) == 0 &&
			    floe_svc_attach(finisher, seg_name, &stale_f) == 0,
		    "two processes map the service");
	/* the creator leaves (a child still uses it: no removal) */
	floe_svc_release(svc, FLOE_SLOT_NODE, svc->node_slot, creator->ref.id);
	atomic_fetch_sub(&creator->services, 1);
	/* a child opens and closes it: removed, name unlinked; it ends */
	tap_require(th_wait(th_fork(lc_open_close, NULL), 10000) == 0,
		    "a child removed the service and ended");
	floe_svc_detach(svc);
	r = floe_service_open(third, SERVICE, &o, &svc3);
	tap_ok(r == FLOE_E_NOT_FOUND, "the name is gone: %s",
	       floe_strerror(r));
	/* the opener's join, first half: its node slot */
	slot = floe_svc_claim(stale_o, FLOE_SLOT_NODE, &opener->ref, 0);
	tap_require(slot >= 0, "the opener claims a node slot");
	/* the finisher's attach read the state: REMOVING, remover dead */
	state = atomic_load(&stale_f->hdr->state);
	gone = floe_svc_finish_removal(stale_f, state);
	/* the opener's join, second half: the state */
	state = atomic_load(&stale_o->hdr->state);
	tap_ok(state != FLOE_SVC_READY,
	       "the nameless service is not READY again (finish says %s, "
	       "state %#" PRIx64 ")", gone ? "gone" : "not gone", state);
	floe_svc_release(stale_o, FLOE_SLOT_NODE, (uint32_t)slot,
			 opener->ref.id);
	floe_svc_detach(stale_o);
	floe_svc_detach(stale_f);
	floe_node_destroy(third);
	floe_node_destroy(finisher);
	floe_node_destroy(opener);
	floe_node_cleanup_dead(creator);
	floe_node_destroy(creator);
	tap_ok(th_count_objects(domain, 1) == 0, "no shared objects remain");
	return tap_done();
}
