/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * floe: kernel-assisted zero-copy IPC — the /dev/floe ABI.
 *
 * The module is on the control path only: it creates named shmem segments
 * that processes mmap, and tracks the lifetime of ports so that a port whose
 * /dev/floe file is released (close, exit, SIGKILL) is reported dead and the
 * segments it owns are unlinked. Messages never cross this interface.
 *
 * Rules for every ioctl argument:
 *  - all fields have explicit widths; padding is spelled out;
 *  - every field named reserved/pad must be zero, or the call fails with
 *    EINVAL (so they can be given a meaning later);
 *  - names are NUL-terminated inside their array and every byte after the
 *    NUL is zero;
 *  - output fields are ignored on input.
 */
#ifndef _UAPI_LINUX_FLOE_H
#define _UAPI_LINUX_FLOE_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define FLOE_ABI_VERSION	1
#define FLOE_DEVICE_PATH	"/dev/floe"

/*
 * Segment names: 1..63 characters of [A-Za-z0-9._-], not starting with '.'.
 * The array holds the terminating NUL.
 */
#define FLOE_NAME_MAX		64
/*
 * Service names recorded with a port (for monitoring): 1..255 printable
 * ASCII characters (0x20..0x7e).
 */
#define FLOE_SERVICE_MAX	256

/* Port roles. */
enum floe_role {
	FLOE_ROLE_NODE		= 1,
	FLOE_ROLE_PUBLISHER	= 2,
	FLOE_ROLE_SUBSCRIBER	= 3,
	FLOE_ROLE_NOTIFIER	= 4,
	FLOE_ROLE_LISTENER	= 5,
	FLOE_ROLE_CLIENT	= 6,
	FLOE_ROLE_SERVER	= 7,
	FLOE_ROLE_WRITER	= 8,
	FLOE_ROLE_READER	= 9,
	FLOE_ROLE_MAX		= FLOE_ROLE_READER,
};

/* floe_seg_open.access */
#define FLOE_ACCESS_RO		1
#define FLOE_ACCESS_RW		2

/* floe_seg_create.flags / floe_seg_open.flags */
#define FLOE_SEG_CLOEXEC	(1U << 0)	/* returned fd gets FD_CLOEXEC */
/*
 * create only: the name has no owner and stays until FLOE_IOC_SEG_UNLINK
 * (like shm_open); owner_port must then be 0. Used for state shared by
 * many processes that must outlive its creator, e.g. a service's registry.
 */
#define FLOE_SEG_PERSIST	(1U << 1)
#define FLOE_SEG_FLAGS_ALL	(FLOE_SEG_CLOEXEC | FLOE_SEG_PERSIST)

/**
 * struct floe_version - FLOE_IOC_VERSION
 * @abi:	out: FLOE_ABI_VERSION of the running module
 * @max_ports:	out: slots in the liveness table
 * @live_size:	out: bytes to mmap at offset 0 for the liveness table
 * @reserved:	must be zero
 */
struct floe_version {
	__u32 abi;
	__u32 max_ports;
	__u64 live_size;
	__u64 reserved[2];
};

/**
 * struct floe_seg_create - FLOE_IOC_SEG_CREATE
 * @name:	segment name (see FLOE_NAME_MAX)
 * @size:	bytes, > 0; rounded up to the page size
 * @mode:	permission bits (0..0777) checked on open against the creator's
 *		fsuid/fsgid, like a file's
 * @flags:	FLOE_SEG_*
 * @owner_port:	0: the segment's name lives as long as this /dev/floe file
 *		(or until unlinked, with FLOE_SEG_PERSIST); else a port
 *		registered on this file: the name goes when the port is
 *		unregistered or dies
 * @fd:		out: read-write fd of the segment, to mmap
 * @pad:	must be zero
 * @reserved:	must be zero
 *
 * Fails with EEXIST if the name is taken, ENFILE past the segment count cap,
 * ENOSPC past the total byte cap, EDQUOT past the per-user byte cap,
 * EFBIG if @size exceeds the largest segment allowed.
 */
struct floe_seg_create {
	char  name[FLOE_NAME_MAX];
	__u64 size;
	__u32 mode;
	__u32 flags;
	__u64 owner_port;
	__s32 fd;
	__u32 pad;
	__u64 reserved[4];
};

/**
 * struct floe_seg_open - FLOE_IOC_SEG_OPEN
 * @name:	segment name
 * @access:	FLOE_ACCESS_RO or FLOE_ACCESS_RW
 * @flags:	FLOE_SEG_*
 * @size:	out: the segment's size in bytes
 * @fd:		out: fd of the segment; a read-only one can never be mapped
 *		writable (mprotect included)
 * @pad:	must be zero
 * @reserved:	must be zero
 *
 * Fails with ENOENT if no such name, EACCES if the mode denies access.
 */
struct floe_seg_open {
	char  name[FLOE_NAME_MAX];
	__u32 access;
	__u32 flags;
	__u64 size;
	__s32 fd;
	__u32 pad;
	__u64 reserved[4];
};

/**
 * struct floe_seg_unlink - FLOE_IOC_SEG_UNLINK
 * @name:	segment name; only its creator's uid (or CAP_DAC_OVERRIDE)
 *		may unlink it. Memory is freed once the last fd and mapping
 *		are gone.
 * @reserved:	must be zero
 */
struct floe_seg_unlink {
	char  name[FLOE_NAME_MAX];
	__u64 reserved[2];
};

/* floe_seg_hold.flags */
#define FLOE_HOLD_RELEASE	(1U << 0)	/* drop the hold instead */
#define FLOE_HOLD_FLAGS_ALL	FLOE_HOLD_RELEASE

/**
 * struct floe_seg_hold - FLOE_IOC_SEG_HOLD
 * @owner_port:	a port; the hold covers its segments, those it owns now
 *		and those it creates later
 * @holder_port: a live port, of any file; not @owner_port (EINVAL)
 * @flags:	0 to add the hold, FLOE_HOLD_RELEASE to drop it
 * @pad:	must be zero
 * @reserved:	must be zero
 *
 * While @owner_port lives a hold changes nothing. When it is unregistered
 * or dies, its segments that still have a holder stay linked (openable by
 * name with the usual permission check, in sysfs with their owner id)
 * instead of being unlinked, until the last hold goes: released, or its
 * holder port unregistered or dead. Then the remaining segments are
 * unlinked. An owner whose segments were all unlinked by name loses its
 * holds too. FLOE_IOC_SEG_UNLINK works regardless of holds.
 *
 * Adding: @owner_port must be registered on this file (else ENOENT),
 * @holder_port must be alive (else ESRCH); holding twice is one hold; an
 * owner has at most max_holders holders (module parameter; else ENOSPC).
 * Releasing: this file must have @holder_port or @owner_port registered
 * (else EPERM); ENOENT if there is no such hold.
 */
struct floe_seg_hold {
	__u64 owner_port;
	__u64 holder_port;
	__u32 flags;
	__u32 pad;
	__u64 reserved[4];
};

/**
 * struct floe_port_register - FLOE_IOC_PORT_REGISTER
 * @service:	service (or node) name, for monitoring
 * @node_id:	id of the node port this port belongs to, 0 for a node
 * @role:	enum floe_role
 * @flags:	must be zero
 * @id:		out: port id, unique for the module's lifetime, never 0
 * @slot:	out: index of the port's slot in the liveness table
 * @pad:	must be zero
 * @reserved:	must be zero
 *
 * Fails with ENOSPC when the liveness table is full.
 */
struct floe_port_register {
	char  service[FLOE_SERVICE_MAX];
	__u64 node_id;
	__u32 role;
	__u32 flags;
	__u64 id;
	__u32 slot;
	__u32 pad;
	__u64 reserved[4];
};

/**
 * struct floe_port_unregister - FLOE_IOC_PORT_UNREGISTER
 * @id:		a port registered on this file (else ENOENT)
 * @reserved:	must be zero
 */
struct floe_port_unregister {
	__u64 id;
	__u64 reserved[3];
};

/*
 * The liveness table: mmap the /dev/floe fd read-only (PROT_READ,
 * MAP_SHARED) at offset 0 for floe_version.live_size bytes. A header is
 * followed by max_ports slots.
 *
 * A port is alive exactly while slots[slot].id equals its id: the kernel
 * writes the id last (release) when a port registers and clears it when the
 * port is unregistered or its file released. Peers keep (slot, id) and
 * compare with an acquire load: no syscall on the hot path. Every
 * death (release of a file holding ports) increments @deaths.
 *
 * poll() on the /dev/floe fd reports POLLIN while @deaths differs from the
 * value this file last read(); read() of 8 bytes returns @deaths and marks
 * it seen.
 */
#define FLOE_LIVE_MAGIC		0x666c6f65U	/* "floe" */

struct floe_live_header {
	__u32 magic;
	__u32 abi;
	__u32 max_ports;
	__u32 slot_size;
	__u64 deaths;
	__u64 registrations;
	__u64 reserved[4];
};

struct floe_live_slot {
	__u64 id;
	__u64 node_id;
	__s32 pid;
	__u32 role;
	__u64 reserved;
};

#define FLOE_IOC_MAGIC		0xF1

#define FLOE_IOC_VERSION	_IOR(FLOE_IOC_MAGIC, 0x00, struct floe_version)
#define FLOE_IOC_SEG_CREATE	_IOWR(FLOE_IOC_MAGIC, 0x01, struct floe_seg_create)
#define FLOE_IOC_SEG_OPEN	_IOWR(FLOE_IOC_MAGIC, 0x02, struct floe_seg_open)
#define FLOE_IOC_SEG_UNLINK	_IOW(FLOE_IOC_MAGIC, 0x03, struct floe_seg_unlink)
#define FLOE_IOC_SEG_HOLD	_IOW(FLOE_IOC_MAGIC, 0x04, struct floe_seg_hold)
#define FLOE_IOC_PORT_REGISTER	_IOWR(FLOE_IOC_MAGIC, 0x10, struct floe_port_register)
#define FLOE_IOC_PORT_UNREGISTER _IOW(FLOE_IOC_MAGIC, 0x11, struct floe_port_unregister)

#endif /* _UAPI_LINUX_FLOE_H */
