/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * floe internals shared by the core files (segments, ports, holds, sysfs)
 * and the two modules built from them: floe.ko and floe_kunit.ko.
 *
 * LOCK ORDER
 *
 *   floe_lock (mutex)
 *     -> kernfs locks (kobject_add()/kobject_del() of port and segment dirs)
 *     -> floe_acct_lock (spinlock, leaf: segment byte/count accounting)
 *
 *   floe_lock protects the segment name index, the port index, every
 *   floe_file's port and segment lists, each port's segment and hold
 *   lists, each port's file pointer and each segment's owner pointer, and
 *   the liveness slot bitmap. User memory is never touched under
 *   floe_lock, and floe_lock is never taken from VMA callbacks or from the
 *   last put of a segment, so mmap_lock -> floe_acct_lock is the only edge
 *   involving mmap_lock. sysfs show() never takes floe_lock (kobject_del()
 *   waits for running show() calls): it reads immutable fields, atomics,
 *   and a segment's owner, which outlives the segment's sysfs directory.
 *
 * LIFETIME
 *
 *   segment: refcounted by its embedded kobject (kobject_get/put, no other
 *   counter). References: the name index while the segment is linked, each
 *   segment fd, each VMA. A segment is linked (in the index, on its owner's
 *   list unless persistent, visible in sysfs) from creation until unlinked
 *   by name, by its owning port going (unless held, see below), by the
 *   release of its owning /dev/floe file, or at module exit; unlinking
 *   drops the index reference. The last put uncharges the accounting and
 *   drops the shmem file; it may run under mmap_lock (VMA close) and so
 *   takes no sleeping lock.
 *
 *   port: one kobject reference, no others. While alive it is in the port
 *   index and on its floe_file's list. When it is unregistered or its file
 *   released it leaves both and sysfs; it is freed at once, its segments
 *   unlinked, unless it has holders and linked segments: then it is
 *   orphaned, reachable only from its holds and its segments, and freed
 *   (segments unlinked) when its last hold or its last linked segment
 *   goes. Every change happens under floe_lock.
 *
 *   hold: one per (owner, holder) port pair, on the owner's holders list
 *   and the holder's held list; freed under floe_lock when released, when
 *   its holder goes, or with its orphaned owner. Holders are live ports,
 *   so no hold or orphan outlives the holders' files: at module exit (no
 *   file open) there is none.
 *
 *   floe_file: one per open /dev/floe, freed by its release(), which first
 *   kills every port on it; only those ports point at it (port->ff), so a
 *   release cannot race with ioctls on other files.
 *
 *   module: pinned by open /dev/floe files (misc fops owner), segment fds
 *   (anon file fops owner) and one reference per segment VMA (vm_ops live
 *   in this module).
 */
#ifndef _FLOE_INTERNAL_H
#define _FLOE_INTERNAL_H

#include <linux/atomic.h>
#include <linux/kobject.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <linux/floe.h>

#include "floe_compat.h"

struct file;
struct vm_area_struct;

/* Upper bound of the max_ports parameter (a 2 MiB liveness table). */
#define FLOE_MAX_PORTS_LIMIT	65536

/* Per open /dev/floe. */
struct floe_file {
	struct list_head ports;		/* floe_port.node */
	struct list_head segs;		/* segments with owner_port 0 */
	u64 seen_deaths;		/* deaths value last read() */
};

struct floe_port {
	struct kobject kobj;
	struct hlist_node hnode;	/* port index; hashed iff alive */
	struct list_head node;		/* on floe_file.ports while alive */
	struct list_head segs;		/* linked segments this port owns */
	struct list_head holders;	/* floe_hold.owner_node */
	struct list_head held;		/* floe_hold.holder_node */
	struct floe_file *ff;		/* NULL once unregistered or dead */
	atomic_t nr_holders;		/* entries on @holders */
	u64 id;
	u64 node_id;
	u64 created_ns;
	pid_t pid;
	u32 role;
	u32 slot;
	char service[FLOE_SERVICE_MAX];
};

/* @holder keeps @owner's segments linked after @owner is gone. */
struct floe_hold {
	struct floe_port *owner;
	struct floe_port *holder;
	struct list_head owner_node;	/* on owner->holders */
	struct list_head holder_node;	/* on holder->held */
};

struct floe_user;

struct floe_seg {
	struct kobject kobj;		/* the segment's refcount */
	struct hlist_node hnode;	/* name index; hashed iff linked */
	struct list_head owner_node;	/* on the owner's segs list */
	struct floe_port *owner;	/* owning port while linked, or NULL */
	struct file *shmem;
	struct floe_user *user;		/* set iff charged */
	u64 size;
	u64 owner_port;
	kuid_t uid;
	kgid_t gid;
	umode_t mode;
	bool persist;			/* FLOE_SEG_PERSIST: no owner */
	atomic_t mappings;		/* live VMAs */
	char name[FLOE_NAME_MAX];
};

extern struct mutex floe_lock;

/* floe_segment.c; the caps are module parameters */
extern unsigned int floe_max_segments;
extern unsigned long long floe_max_total_bytes;
extern unsigned long long floe_max_user_bytes;
extern atomic_t floe_nr_segs;
extern atomic64_t floe_seg_bytes;

int floe_seg_create(struct floe_file *ff, const struct floe_seg_create *req,
		    struct floe_seg **segp);
int floe_seg_open(struct floe_seg_open *req, struct floe_seg **segp);
int floe_seg_unlink(const struct floe_seg_unlink *req);
void floe_seg_remove(struct floe_seg *seg);
void floe_seg_exit(void);
void floe_seg_unlink_all(struct list_head *segs);
struct file *floe_seg_file(struct floe_seg *seg, u32 access);
void floe_seg_put(struct floe_seg *seg);
void floe_seg_release(struct kobject *kobj);

/* floe_port.c */
extern unsigned int floe_max_ports;
extern size_t floe_live_size;
extern atomic_t floe_nr_ports;
extern struct wait_queue_head floe_death_wq;

int floe_live_init(unsigned int max_ports);
void floe_live_exit(void);
int floe_live_mmap(struct vm_area_struct *vma);
u64 floe_deaths(void);
void floe_file_init(struct floe_file *ff);
void floe_file_release(struct floe_file *ff);
int floe_port_register(struct floe_file *ff, struct floe_port_register *req);
int floe_port_unregister(struct floe_file *ff,
			 const struct floe_port_unregister *req);
struct floe_port *floe_port_find(struct floe_file *ff, u64 id);
struct floe_port *floe_port_lookup(u64 id);

/* floe_hold.c */
extern unsigned int floe_max_holders;
extern atomic_t floe_nr_holds;

int floe_seg_hold(struct floe_file *ff, const struct floe_seg_hold *req);
void floe_hold_port_gone(struct floe_port *port);
void floe_hold_seg_unlinked(struct floe_port *owner);

/* floe_sysfs.c */
extern const struct kobj_type floe_port_ktype;
extern const struct kobj_type floe_seg_ktype;

int floe_sysfs_init(const char *name);
void floe_sysfs_exit(void);
int floe_sysfs_add_port(struct floe_port *port);
int floe_sysfs_add_seg(struct floe_seg *seg);

#endif /* _FLOE_INTERNAL_H */
