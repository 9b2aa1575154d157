// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * floe segment holds: a port (the holder) keeps another port's (the
 * owner's) segments linked after the owner is unregistered or dies, so
 * that what a publisher sent stays reachable by name for the subscribers
 * it was sent to, and no longer.
 *
 * A hold is a (owner, holder) pair on both ports' lists, all under
 * floe_lock. An owner that goes with holders and linked segments becomes
 * an orphan (floe_internal.h): out of the port index and sysfs, its
 * segments still linked; it is freed, its segments unlinked, as soon as
 * its last hold or its last linked segment goes. Lists are searched
 * linearly: an owner has at most floe_max_holders holders, all alive.
 */
#include <linux/slab.h>
#include <linux/string.h>

#include "floe_internal.h"
#include "floe_trace.h"

unsigned int floe_max_holders = 1024;
atomic_t floe_nr_holds;

static struct floe_hold *floe_hold_find(struct floe_port *owner,
					u64 holder_id)
{
	struct floe_hold *h;

	list_for_each_entry(h, &owner->holders, owner_node)
		if (h->holder->id == holder_id)
			return h;
	return NULL;
}

static struct floe_hold *floe_held_find(struct floe_port *holder,
					u64 owner_id)
{
	struct floe_hold *h;

	list_for_each_entry(h, &holder->held, holder_node)
		if (h->owner->id == owner_id)
			return h;
	return NULL;
}

static void floe_hold_free(struct floe_hold *h)
{
	list_del(&h->owner_node);
	list_del(&h->holder_node);
	atomic_dec(&h->owner->nr_holders);
	atomic_dec(&floe_nr_holds);
	trace_floe_hold_drop(h);
	kfree(h);
}

/* The end of a port that is gone: its holds, its segments' names, itself. */
static void floe_port_free(struct floe_port *port)
{
	struct floe_hold *h, *tmp;

	list_for_each_entry_safe(h, tmp, &port->holders, owner_node)
		floe_hold_free(h);
	floe_seg_unlink_all(&port->segs);
	kobject_put(&port->kobj);
}

/* Drop one hold; an orphaned owner left without holders goes with it. */
static void floe_hold_drop(struct floe_hold *h)
{
	struct floe_port *owner = h->owner;

	floe_hold_free(h);
	if (!owner->ff && list_empty(&owner->holders))
		floe_port_free(owner);
}

/*
 * @port was unregistered or died and has left its file and the index: the
 * holds it has go, and it is freed unless it is held and still owns a
 * linked segment, which orphans it.
 */
void floe_hold_port_gone(struct floe_port *port)
{
	struct floe_hold *h, *tmp;

	lockdep_assert_held(&floe_lock);
	/* A drop frees only an orphan left without holds: @tmp stays valid. */
	list_for_each_entry_safe(h, tmp, &port->held, holder_node)
		floe_hold_drop(h);
	if (list_empty(&port->holders) || list_empty(&port->segs))
		floe_port_free(port);
}

/* A segment of @owner was unlinked by name: an orphan may now be empty. */
void floe_hold_seg_unlinked(struct floe_port *owner)
{
	lockdep_assert_held(&floe_lock);
	if (!owner->ff && list_empty(&owner->segs))
		floe_port_free(owner);
}

static int floe_hold_add(struct floe_file *ff, const struct floe_seg_hold *req)
{
	struct floe_port *owner, *holder;
	struct floe_hold *h;
	int ret = 0;

	/* Charged to the caller's memcg: holds are made on its request. */
	h = kzalloc(sizeof(*h), GFP_KERNEL_ACCOUNT);
	if (!h)
		return -ENOMEM;

	mutex_lock(&floe_lock);
	owner = floe_port_find(ff, req->owner_port);
	holder = floe_port_lookup(req->holder_port);
	if (!owner) {
		ret = -ENOENT;
	} else if (!holder) {
		ret = -ESRCH;
	} else if (floe_hold_find(owner, holder->id)) {
		/* already held: one hold */
	} else if (atomic_read(&owner->nr_holders) >=
		   READ_ONCE(floe_max_holders)) {
		ret = -ENOSPC;
	} else {
		h->owner = owner;
		h->holder = holder;
		list_add_tail(&h->owner_node, &owner->holders);
		list_add_tail(&h->holder_node, &holder->held);
		atomic_inc(&owner->nr_holders);
		atomic_inc(&floe_nr_holds);
		trace_floe_hold_add(h);
		h = NULL;
	}
	mutex_unlock(&floe_lock);
	kfree(h);
	return ret;
}

/* The holder's file, or the owner's while it lives, may release. */
static int floe_hold_release(struct floe_file *ff,
			     const struct floe_seg_hold *req)
{
	struct floe_port *port;
	struct floe_hold *h;
	int ret = 0;

	mutex_lock(&floe_lock);
	port = floe_port_find(ff, req->holder_port);
	if (port) {
		h = floe_held_find(port, req->owner_port);
	} else {
		port = floe_port_find(ff, req->owner_port);
		h = port ? floe_hold_find(port, req->holder_port) : NULL;
	}
	if (!port)
		ret = -EPERM;
	else if (!h)
		ret = -ENOENT;
	else
		floe_hold_drop(h);
	mutex_unlock(&floe_lock);
	return ret;
}

int floe_seg_hold(struct floe_file *ff, const struct floe_seg_hold *req)
{
	if (req->flags & ~FLOE_HOLD_FLAGS_ALL || req->pad ||
	    memchr_inv(req->reserved, 0, sizeof(req->reserved)) ||
	    req->owner_port == req->holder_port)
		return -EINVAL;
	if (req->flags & FLOE_HOLD_RELEASE)
		return floe_hold_release(ff, req);
	return floe_hold_add(ff, req);
}
