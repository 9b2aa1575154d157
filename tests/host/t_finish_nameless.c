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
#include "helpers.h"
#include "internal.h"

#define SERVICE "t/finish_nameless"

static const struct floe_type u64_type = {
	.name = "t_finish_nameless.u64",
	.size = 8,
	.align = 8,
};

static struct floe_service_opts opts(struct floe_pubsub_qos *q)
{
	floe_pubsub_qos_init(q);
	q->max_nodes = 4;
	return (struct floe_service_opts){ .type = u64_type, .qos = q };
}

/* Open the service and close it: the last user, it removes it. */
static int open_close(void *unused)
{
	struct floe_pubsub_qos q;
	struct floe_service_opts o = opts(&q);
	floe_node *node = th_node("remover");
	floe_service *svc;

	(void)unused;
	if (!node || floe_service_open(node, SERVICE, &o, &svc))
		return 1;
	floe_service_close(svc);
	floe_node_destroy(node);
	return 0;
}

int main(void)
{
	const char *domain = th_setup("finish_nameless");
	struct floe_pubsub_qos q;
	struct floe_service_opts o = opts(&q);
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
	tap_require(th_wait(th_fork(open_close, NULL), 10000) == 0,
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
