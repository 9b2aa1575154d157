// SPDX-License-Identifier: MIT
/*
 * Finishing a dead remover's removal of an old, nameless segment never
 * unlinks a new service that has the name now, even while another handle
 * of the same node holds REMOVING on the new one (floe_svc_try_remove's
 * first step, before it finds another node in it and backs out): a
 * node's REMOVING word names the node, not the segment, so the finisher
 * tells them apart by the header's incarnation.
 * (Test of internals: the steps of both are taken one by one.)
 */

#define SERVICE "t/finish_same_key"

#include "lifecycle.h"

int main(void)
{
	const char *domain = th_setup("finish_same_key");
	struct floe_pubsub_qos q;
	struct floe_service_opts o = lc_opts(&q);
	char seg_name[FLOE_SEG_NAME_MAX];
	floe_node *creator, *node, *other, *third;
	floe_service *svc, *stale, *mine, *theirs, *svc3;
	uint64_t ready = FLOE_SVC_READY, removing;
	int r;

	tap_plan(7);
	creator = th_node("creator");
	node = th_node("node");
	other = th_node("other");
	third = th_node("third");
	r = floe_service_create(creator, SERVICE, &o, &svc);
	tap_require(r == 0, "create: %s", floe_strerror(r));
	floe_seg_name(seg_name, getenv("FLOE_DOMAIN"), FLOE_KIND_SERVICE,
		      floe_name_hash(SERVICE), 0);
	tap_require(floe_svc_attach(node, seg_name, &stale) == 0,
		    "the node maps the old service");
	floe_svc_release(svc, FLOE_SLOT_NODE, svc->node_slot, creator->ref.id);
	atomic_fetch_sub(&creator->services, 1);
	tap_require(th_wait(th_fork(lc_open_close, NULL), 10000) == 0,
		    "a child removed the old service and ended");
	floe_svc_detach(svc);
	/* the new service, used by another node and by ours */
	r = floe_service_create(other, SERVICE, &o, &theirs);
	tap_require(r == 0, "the new service: %s", floe_strerror(r));
	r = floe_service_open(node, SERVICE, &o, &mine);
	tap_require(r == 0, "our node opens it too: %s", floe_strerror(r));
	/* our handle's close, first step: REMOVING under our key */
	removing = floe_svc_removing_word(node);
	atomic_compare_exchange_strong(&mine->hdr->state, &ready, removing);
	/* meanwhile our other thread finishes the old one's removal */
	floe_svc_finish_removal(stale, atomic_load(&stale->hdr->state));
	/* our close finds the other node and backs out */
	atomic_store(&mine->hdr->state, FLOE_SVC_READY);
	r = floe_service_open(third, SERVICE, &o, &svc3);
	tap_ok(r == 0, "the new service, in use, keeps its name: %s",
	       floe_strerror(r));
	if (!r)
		floe_service_close(svc3);
	floe_svc_detach(stale);
	floe_service_close(mine);
	floe_service_close(theirs);
	floe_node_destroy(third);
	floe_node_destroy(other);
	floe_node_destroy(node);
	floe_node_cleanup_dead(creator);
	floe_node_destroy(creator);
	tap_ok(th_count_objects(domain, 1) == 0, "no shared objects remain");
	return tap_done();
}
