/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * floe trace events: the control path (ports registered, unregistered or
 * dead; segments created, opened, unlinked; holds added and dropped), in
 * tracefs under events/floe/. Emitted under floe_lock where the object could otherwise
 * go away, so each event shows a consistent object.
 */
/*
 * floe_kunit.ko builds the core files again with their own copy of the
 * events: a system of its own keeps it loadable beside floe.ko.
 */
#ifndef FLOE_TRACE_SYSTEM
#define FLOE_TRACE_SYSTEM floe
#endif
#undef TRACE_SYSTEM
#define TRACE_SYSTEM FLOE_TRACE_SYSTEM

#if !defined(_FLOE_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _FLOE_TRACE_H

#include <linux/cred.h>
#include <linux/sched.h>
#include <linux/tracepoint.h>

#include "floe_internal.h"

#define floe_show_role(role)						\
	__print_symbolic(role,						\
			 { FLOE_ROLE_NODE,	 "node" },		\
			 { FLOE_ROLE_PUBLISHER,	 "publisher" },		\
			 { FLOE_ROLE_SUBSCRIBER, "subscriber" },	\
			 { FLOE_ROLE_NOTIFIER,	 "notifier" },		\
			 { FLOE_ROLE_LISTENER,	 "listener" },		\
			 { FLOE_ROLE_CLIENT,	 "client" },		\
			 { FLOE_ROLE_SERVER,	 "server" },		\
			 { FLOE_ROLE_WRITER,	 "writer" },		\
			 { FLOE_ROLE_READER,	 "reader" })

DECLARE_EVENT_CLASS(floe_port_class,
		    TP_PROTO(const struct floe_port *port),
		    TP_ARGS(port),
		    TP_STRUCT__entry(__field(u64, id)
				     __field(u64, node_id)
				     __field(pid_t, pid)
				     __field(u32, role)
				     __field(u32, slot)
				     __field(int, holders)
				     __string(service, port->service)),
		    TP_fast_assign(__entry->id = port->id;
				   __entry->node_id = port->node_id;
				   __entry->pid = port->pid;
				   __entry->role = port->role;
				   __entry->slot = port->slot;
				   __entry->holders = atomic_read(&port->nr_holders);
				   floe_assign_str(service, port->service)),
		    TP_printk("id=%llu node=%llu pid=%d role=%s slot=%u holders=%d service=\"%s\"",
			      __entry->id, __entry->node_id, __entry->pid,
			      floe_show_role(__entry->role), __entry->slot,
			      __entry->holders, __get_str(service)));

/* A port was registered on a /dev/floe file (pid: its registrant). */
DEFINE_EVENT(floe_port_class, floe_port_register,
	     TP_PROTO(const struct floe_port *port),
	     TP_ARGS(port));

/*
 * Its file unregistered it: not a death. With holders, its segments stay
 * linked for them.
 */
DEFINE_EVENT(floe_port_class, floe_port_unregister,
	     TP_PROTO(const struct floe_port *port),
	     TP_ARGS(port));

/*
 * Its file was released (close, exit, SIGKILL) with the port registered.
 * With holders, its segments stay linked for them.
 */
DEFINE_EVENT(floe_port_class, floe_port_death,
	     TP_PROTO(const struct floe_port *port),
	     TP_ARGS(port));

DECLARE_EVENT_CLASS(floe_seg_class,
		    TP_PROTO(const struct floe_seg *seg),
		    TP_ARGS(seg),
		    TP_STRUCT__entry(__string(name, seg->name)
				     __field(u64, size)
				     __field(u64, owner)
				     __field(uid_t, uid)
				     __field(pid_t, pid)
				     __field(u16, mode)
				     __field(bool, persist)),
		    TP_fast_assign(floe_assign_str(name, seg->name);
				   __entry->size = seg->size;
				   __entry->owner = seg->owner_port;
				   __entry->uid = from_kuid(&init_user_ns, seg->uid);
				   __entry->pid = task_tgid_nr(current);
				   __entry->mode = seg->mode;
				   __entry->persist = seg->persist),
		    TP_printk("name=%s size=%llu owner=%llu uid=%u mode=%04o%s pid=%d",
			      __get_str(name), __entry->size, __entry->owner,
			      __entry->uid, __entry->mode,
			      __entry->persist ? " persist" : "", __entry->pid));

/* A segment was created and linked under its name (pid: the creator). */
DEFINE_EVENT(floe_seg_class, floe_seg_create,
	     TP_PROTO(const struct floe_seg *seg),
	     TP_ARGS(seg));

/*
 * Its name was removed: by FLOE_IOC_SEG_UNLINK, or with its owning port
 * or file (pid: the process that caused it).
 */
DEFINE_EVENT(floe_seg_class, floe_seg_unlink,
	     TP_PROTO(const struct floe_seg *seg),
	     TP_ARGS(seg));

/* A segment was opened by name (pid: the opener). */
TRACE_EVENT(floe_seg_open,
	    TP_PROTO(const struct floe_seg *seg, u32 access),
	    TP_ARGS(seg, access),
	    TP_STRUCT__entry(__string(name, seg->name)
			     __field(u64, size)
			     __field(u64, owner)
			     __field(pid_t, pid)
			     __field(u32, access)),
	    TP_fast_assign(floe_assign_str(name, seg->name);
			   __entry->size = seg->size;
			   __entry->owner = seg->owner_port;
			   __entry->pid = task_tgid_nr(current);
			   __entry->access = access),
	    TP_printk("name=%s size=%llu owner=%llu access=%s pid=%d",
		      __get_str(name), __entry->size, __entry->owner,
		      __entry->access == FLOE_ACCESS_RW ? "rw" : "ro",
		      __entry->pid));

DECLARE_EVENT_CLASS(floe_hold_class,
		    TP_PROTO(const struct floe_hold *h),
		    TP_ARGS(h),
		    TP_STRUCT__entry(__field(u64, owner)
				     __field(u64, holder)
				     __field(int, holders)
				     __field(pid_t, pid)),
		    TP_fast_assign(__entry->owner = h->owner->id;
				   __entry->holder = h->holder->id;
				   __entry->holders = atomic_read(&h->owner->nr_holders);
				   __entry->pid = task_tgid_nr(current)),
		    TP_printk("owner=%llu holder=%llu holders=%d pid=%d",
			      __entry->owner, __entry->holder, __entry->holders,
			      __entry->pid));

/* @holder now keeps @owner's segments (holders: the owner's count now). */
DEFINE_EVENT(floe_hold_class, floe_hold_add,
	     TP_PROTO(const struct floe_hold *h),
	     TP_ARGS(h));

/*
 * The hold went: released, its holder gone, or its orphaned owner out of
 * segments.
 */
DEFINE_EVENT(floe_hold_class, floe_hold_drop,
	     TP_PROTO(const struct floe_hold *h),
	     TP_ARGS(h));

#endif /* _FLOE_TRACE_H */

/* Out of tree and in tree alike, this header is found through -I$(src). */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE floe_trace
#include <trace/define_trace.h>
