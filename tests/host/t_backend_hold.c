// SPDX-License-Identifier: MIT
/*
 * The backend's port_hold/port_release, on whichever backend the test runs
 * (FLOE_BACKEND). Two backends in one process stand for two processes
 * (with the module, two /dev/floe files). kmod: a held owner's segment
 * outlives the owner's unregistration until the holder releases it or
 * goes, and errors come back as floe errors (FLOE_E_DEAD for a dead
 * holder, FLOE_E_NOT_FOUND, FLOE_E_PERMISSION). shm: both calls do
 * nothing and return 0, names outlive their owner anyway, and the test
 * unlinks them. Nothing of the domain is left behind.
 * (Test of internals: it drives lib/backend directly.)
 */
#include "helpers.h"
#include "backend/backend.h"
#include "names.h"

#define SEG_SIZE 4096

static struct floe_backend *a, *b;
static bool kmod;

static void reg(struct floe_backend *be, uint32_t role, uint64_t node,
		struct floe_port_ref *ref, const char *what)
{
	tap_require(be->ops->port_register(be, role, "t/backend_hold", node, ref) == 0,
		    "register %s", what);
}

/* A segment of @owner on backend a, its first bytes "held". */
static void create(const struct floe_port_ref *owner, char name[FLOE_SEG_NAME_MAX])
{
	struct floe_seg seg;

	floe_seg_name(name, th_domain, FLOE_KIND_DATA, owner->id, 0);
	tap_require(a->ops->seg_create(a, name, SEG_SIZE, 0600, FLOE_SEG_OWNED_BY_PORT,
				       owner, "held", 5, &seg) == 0,
		    "create %s owned by port %" PRIu64, name, owner->id);
	floe_seg_close(&seg);
}

/* Open @name on @be: 0 and the contents checked, or the error. */
static int open_check(struct floe_backend *be, const char *name)
{
	struct floe_seg seg;
	int r = be->ops->seg_open(be, name, false, &seg);

	if (r)
		return r;
	r = memcmp(seg.addr, "held", 5) ? FLOE_E_CORRUPT : 0;
	floe_seg_close(&seg);
	return r;
}

/* shm keeps names until someone unlinks them: the test does. */
static void unlink_shm_file(const char *name)
{
	if (!kmod)
		a->ops->seg_unlink(a, name);
}

int main(void)
{
	struct floe_port_ref na, nb, owner, owner2, owner3, holder, gone;
	char name[FLOE_SEG_NAME_MAX], name3[FLOE_SEG_NAME_MAX];

	th_setup("bkhold");
	tap_plan(25);
	tap_require(floe_backend_open(FLOE_BACKEND_AUTO, th_domain, &a) == 0 &&
			    floe_backend_open(FLOE_BACKEND_AUTO, th_domain, &b) == 0,
		    "open two backends");
	kmod = a->ops->kind == FLOE_BACKEND_KMOD;
	tap_diag("backend %s", kmod ? "kmod" : "shm");
	reg(a, FLOE_PORT_NODE, 0, &na, "node a");
	reg(a, FLOE_PORT_PUBLISHER, na.id, &owner, "owner on a");
	reg(b, FLOE_PORT_NODE, 0, &nb, "node b");
	reg(b, FLOE_PORT_SUBSCRIBER, nb.id, &holder, "holder on b");
	create(&owner, name);

	tap_eq(a->ops->port_hold(a, &owner, &holder), 0, "port_hold");
	tap_eq(a->ops->port_hold(a, &owner, &holder), 0, "port_hold again: one hold");
	a->ops->port_unregister(a, &owner);
	tap_eq(open_check(b, name), 0, "the owner unregistered: its segment opens, intact");
	tap_eq(b->ops->port_release(b, owner.id, &holder), 0, "the holder's port_release");
	tap_eq(open_check(b, name), kmod ? FLOE_E_NOT_FOUND : 0,
	       "then the name is %s", kmod ? "gone" : "still there (shm)");
	tap_eq(b->ops->port_release(b, owner.id, &holder), kmod ? FLOE_E_NOT_FOUND : 0,
	       "port_release again: %s", kmod ? "FLOE_E_NOT_FOUND" : "0 (shm)");
	unlink_shm_file(name);

	reg(a, FLOE_PORT_PUBLISHER, na.id, &owner2, "a second owner on a");
	reg(b, FLOE_PORT_SUBSCRIBER, nb.id, &gone, "a holder on b, then unregistered");
	b->ops->port_unregister(b, &gone);
	tap_eq(a->ops->port_hold(a, &owner2, &gone), kmod ? FLOE_E_DEAD : 0,
	       "port_hold for a dead holder: %s", kmod ? "FLOE_E_DEAD" : "0 (shm)");
	tap_eq(b->ops->port_hold(b, &owner2, &holder), kmod ? FLOE_E_NOT_FOUND : 0,
	       "port_hold of another file's owner: %s", kmod ? "FLOE_E_NOT_FOUND" : "0 (shm)");
	tap_eq(b->ops->port_release(b, owner2.id, &na), kmod ? FLOE_E_PERMISSION : 0,
	       "port_release with neither port ours: %s",
	       kmod ? "FLOE_E_PERMISSION" : "0 (shm)");
	tap_eq(a->ops->port_hold(a, &owner2, &holder), 0, "port_hold of the second owner");
	tap_eq(a->ops->port_release(a, owner2.id, &holder), 0, "the owner's own port_release");
	tap_eq(a->ops->port_release(a, owner2.id, &holder), kmod ? FLOE_E_NOT_FOUND : 0,
	       "  ...once");

	/* the holder's process goes: an unregistered owner's names go too */
	reg(a, FLOE_PORT_PUBLISHER, na.id, &owner3, "a third owner on a");
	create(&owner3, name3);
	tap_eq(a->ops->port_hold(a, &owner3, &holder), 0, "port_hold of the third owner");
	a->ops->port_unregister(a, &owner3);
	b->ops->destroy(b);
	tap_eq(open_check(a, name3), kmod ? FLOE_E_NOT_FOUND : 0,
	       "its owner unregistered and the holder's backend closed: name %s",
	       kmod ? "gone" : "still there (shm)");
	unlink_shm_file(name3);
	a->ops->port_unregister(a, &owner2);
	a->ops->port_unregister(a, &na);
	a->ops->destroy(a);
	tap_eq(th_count_objects(th_domain, 1), 0, "nothing of the domain left");
	return tap_done();
}
