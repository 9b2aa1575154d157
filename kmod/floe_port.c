// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * floe ports and the liveness table.
 *
 * The table is a vmalloc_user() area that every /dev/floe file may map
 * read-only: a header, then one slot per possible port. A port is alive
 * while its slot holds its id; the id is published last with release
 * ordering and cleared before @deaths is bumped (also with release), so a
 * reader that sees a new @deaths also sees the cleared ids. Ids come from
 * a 64-bit counter and are never reused, so a stale (slot, id) pair can
 * never look alive again.
 */
#include <linux/bitmap.h>
#include <linux/hashtable.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/vmalloc.h>

#include "floe_internal.h"
#include "floe_trace.h"

unsigned int floe_max_ports;
size_t floe_live_size;
atomic_t floe_nr_ports;
DECLARE_WAIT_QUEUE_HEAD(floe_death_wq);

static struct floe_live_header *floe_live;
static unsigned long *floe_slot_map;	/* used slots, under floe_lock */
static atomic64_t floe_next_id;

/* Live ports by id, under floe_lock. */
static DEFINE_HASHTABLE(floe_port_index, 8);

static struct floe_live_slot *floe_slot(u32 slot)
{
	return (struct floe_live_slot *)(floe_live + 1) + slot;
}

int floe_live_init(unsigned int max_ports)
{
	floe_live_size = PAGE_ALIGN(sizeof(*floe_live) +
				    (size_t)max_ports * sizeof(struct floe_live_slot));
	floe_live = vmalloc_user(floe_live_size);
	floe_slot_map = bitmap_zalloc(max_ports, GFP_KERNEL);
	if (!floe_live || !floe_slot_map) {
		floe_live_exit();
		return -ENOMEM;
	}
	floe_max_ports = max_ports;
	floe_live->magic = FLOE_LIVE_MAGIC;
	floe_live->abi = FLOE_ABI_VERSION;
	floe_live->max_ports = max_ports;
	floe_live->slot_size = sizeof(struct floe_live_slot);
	atomic64_set(&floe_next_id, 0);
	atomic_set(&floe_nr_ports, 0);
	return 0;
}

void floe_live_exit(void)
{
	vfree(floe_live);
	bitmap_free(floe_slot_map);
	floe_live = NULL;
	floe_slot_map = NULL;
}

/* Map the table read-only; remap_vmalloc_range() checks offset and size. */
int floe_live_mmap(struct vm_area_struct *vma)
{
	if (vma->vm_flags & VM_WRITE)
		return -EACCES;
	vm_flags_clear(vma, VM_MAYWRITE);
	return remap_vmalloc_range(vma, floe_live, vma->vm_pgoff);
}

u64 floe_deaths(void)
{
	/* Pairs with the release in floe_file_release(). */
	return smp_load_acquire(&floe_live->deaths);
}

/* 1..255 printable ASCII, zero after the NUL. */
static bool floe_service_valid(const char *s)
{
	size_t len = strnlen(s, FLOE_SERVICE_MAX);
	size_t i;

	if (!len || len == FLOE_SERVICE_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return !memchr_inv(s + len, 0, FLOE_SERVICE_MAX - len);
}

void floe_file_init(struct floe_file *ff)
{
	INIT_LIST_HEAD(&ff->ports);
	INIT_LIST_HEAD(&ff->segs);
	/* Only deaths after the open are news to this file. */
	ff->seen_deaths = floe_deaths();
}

/* The live port @id, of any file. */
struct floe_port *floe_port_lookup(u64 id)
{
	struct floe_port *port;

	lockdep_assert_held(&floe_lock);
	hash_for_each_possible(floe_port_index, port, hnode, id)
		if (port->id == id)
			return port;
	return NULL;
}

/* The live port @id if it is registered on @ff. */
struct floe_port *floe_port_find(struct floe_file *ff, u64 id)
{
	struct floe_port *port = floe_port_lookup(id);

	return port && port->ff == ff ? port : NULL;
}

int floe_port_register(struct floe_file *ff, struct floe_port_register *req)
{
	struct floe_live_slot *s;
	struct floe_port *port;
	unsigned long slot;
	int ret;

	if (!floe_service_valid(req->service) || !req->role ||
	    req->role > FLOE_ROLE_MAX || req->flags || req->pad ||
	    memchr_inv(req->reserved, 0, sizeof(req->reserved)))
		return -EINVAL;

	port = kzalloc(sizeof(*port), GFP_KERNEL);
	if (!port)
		return -ENOMEM;
	kobject_init(&port->kobj, &floe_port_ktype);
	INIT_LIST_HEAD(&port->segs);
	INIT_LIST_HEAD(&port->holders);
	INIT_LIST_HEAD(&port->held);
	memcpy(port->service, req->service, FLOE_SERVICE_MAX);
	port->node_id = req->node_id;
	port->role = req->role;
	/* In the initial pid namespace: the table is global. */
	port->pid = task_tgid_nr(current);
	port->created_ns = ktime_get_real_ns();

	mutex_lock(&floe_lock);
	slot = find_first_zero_bit(floe_slot_map, floe_max_ports);
	if (slot >= floe_max_ports) {
		ret = -ENOSPC;
		goto err;
	}
	port->slot = slot;
	port->id = atomic64_inc_return(&floe_next_id);
	ret = floe_sysfs_add_port(port);
	if (ret)
		goto err;

	__set_bit(slot, floe_slot_map);
	s = floe_slot(slot);
	WRITE_ONCE(s->node_id, port->node_id);
	WRITE_ONCE(s->pid, port->pid);
	WRITE_ONCE(s->role, port->role);
	/* Readers that acquire the id see the fields above. */
	smp_store_release(&s->id, port->id);
	WRITE_ONCE(floe_live->registrations, floe_live->registrations + 1);
	hash_add(floe_port_index, &port->hnode, port->id);
	list_add_tail(&port->node, &ff->ports);
	port->ff = ff;
	atomic_inc(&floe_nr_ports);
	trace_floe_port_register(port);
	mutex_unlock(&floe_lock);

	req->id = port->id;
	req->slot = slot;
	return 0;
err:
	mutex_unlock(&floe_lock);
	kobject_put(&port->kobj);
	return ret;
}

/*
 * Clear the port's slot, take it out of the index, its file and sysfs; its
 * holds decide whether its segments are unlinked and it is freed now.
 */
static void floe_port_kill(struct floe_port *port)
{
	lockdep_assert_held(&floe_lock);
	WRITE_ONCE(floe_slot(port->slot)->id, 0);
	__clear_bit(port->slot, floe_slot_map);
	hash_del(&port->hnode);
	list_del(&port->node);
	port->ff = NULL;
	atomic_dec(&floe_nr_ports);
	kobject_del(&port->kobj);
	floe_hold_port_gone(port);
}

int floe_port_unregister(struct floe_file *ff,
			 const struct floe_port_unregister *req)
{
	struct floe_port *port;
	int ret = -ENOENT;

	if (memchr_inv(req->reserved, 0, sizeof(req->reserved)))
		return -EINVAL;

	mutex_lock(&floe_lock);
	port = floe_port_find(ff, req->id);
	if (port) {
		trace_floe_port_unregister(port);
		floe_port_kill(port);
		ret = 0;
	}
	mutex_unlock(&floe_lock);
	return ret;
}

/*
 * The file is being released: its ports die and every name it or its ports
 * own goes. One death per released file that held ports.
 */
void floe_file_release(struct floe_file *ff)
{
	struct floe_port *port, *tmp;
	bool died;

	mutex_lock(&floe_lock);
	died = !list_empty(&ff->ports);
	list_for_each_entry_safe(port, tmp, &ff->ports, node) {
		trace_floe_port_death(port);
		floe_port_kill(port);
	}
	floe_seg_unlink_all(&ff->segs);
	if (died) {
		/* Whoever acquires the new count sees the cleared slot ids. */
		smp_store_release(&floe_live->deaths, floe_live->deaths + 1);
	}
	mutex_unlock(&floe_lock);

	if (died)
		wake_up_interruptible_poll(&floe_death_wq, EPOLLIN | EPOLLRDNORM);
}
