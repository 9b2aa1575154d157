// SPDX-License-Identifier: MIT
/*
 * The kmod backend: /dev/floe. Each node opens the device once; its ports
 * are registered on that file, so the kernel marks them dead and unlinks
 * their segments when the process goes, however it goes. Liveness is read
 * from the kernel's table mapped read-only: one load, no system call.
 */
#include "backend/backend.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/floe.h>

#include "names.h"

#define SYSFS_SEGMENTS "/sys/kernel/floe/segments"

struct kmod_backend {
	struct floe_backend be;
	int dev;
	const struct floe_live_header *live;
	const struct floe_live_slot *slots;
	uint64_t live_size;
	uint32_t max_ports;
};

static struct kmod_backend *to_kmod(struct floe_backend *be)
{
	return (struct kmod_backend *)be;
}

static int copy_seg_name(char dst[FLOE_NAME_MAX], const char *name)
{
	size_t n = strlen(name);

	if (n >= FLOE_NAME_MAX)
		return FLOE_E_NAME;
	memset(dst, 0, FLOE_NAME_MAX);
	memcpy(dst, name, n);
	return 0;
}

static int kmod_seg_unlink(struct floe_backend *be, const char *name)
{
	struct floe_seg_unlink arg = { 0 };
	int ret = copy_seg_name(arg.name, name);

	if (ret)
		return ret;
	return ioctl(to_kmod(be)->dev, FLOE_IOC_SEG_UNLINK, &arg)
		       ? floe_errno_to_error(errno)
		       : 0;
}

/*
 * Write what is not zero of @len bytes at @src to the new segment at @dst,
 * which is all zeroes already. Its name is visible before this: a peer may
 * take a segment whose header is late for abandoned and mark it so (a
 * service's state word, lib/service.c), and a copy of the zero it had
 * would erase that mark.
 */
static void copy_nonzero(void *dst, const void *src, size_t len)
{
	size_t off = 0;

	for (; off + sizeof(uint64_t) <= len; off += sizeof(uint64_t)) {
		uint64_t w;

		memcpy(&w, (const char *)src + off, sizeof(w));
		if (w)
			memcpy((char *)dst + off, &w, sizeof(w));
	}
	for (; off < len; off++)
		if (((const char *)src)[off])
			((char *)dst)[off] = ((const char *)src)[off];
}

static int kmod_seg_create(struct floe_backend *be, const char *name,
			   uint64_t size, uint32_t mode, unsigned int flags,
			   const struct floe_port_ref *owner, const void *init,
			   size_t init_len, struct floe_seg *out)
{
	struct floe_seg_create arg = {
		.size = size,
		.mode = mode,
		.flags = FLOE_SEG_CLOEXEC,
	};
	int ret = copy_seg_name(arg.name, name);

	if (ret)
		return ret;
	if (flags == FLOE_SEG_SHARED)
		arg.flags |= FLOE_SEG_PERSIST;
	else if (owner)
		arg.owner_port = owner->id;
	if (ioctl(to_kmod(be)->dev, FLOE_IOC_SEG_CREATE, &arg))
		return floe_errno_to_error(errno);
	ret = floe_seg_map(arg.fd, size, true, out);
	if (!ret)
		floe_seg_drop_fd(out);
	if (ret) {
		close(arg.fd);
		kmod_seg_unlink(be, name);
		return ret;
	}
	/* The name is visible already (the module unlinks it if the owner
	 * dies): the first word, a magic, goes last, so that a reader that
	 * sees it sees the rest. */
	if (init_len > sizeof(uint64_t)) {
		uint64_t magic;

		copy_nonzero((char *)out->addr + sizeof(magic),
			     (const char *)init + sizeof(magic),
			     init_len - sizeof(magic));
		memcpy(&magic, init, sizeof(magic));
		__atomic_store_n((uint64_t *)out->addr, magic,
				 __ATOMIC_RELEASE);
	} else if (init_len) {
		copy_nonzero(out->addr, init, init_len);
	}
	return 0;
}

static int kmod_seg_open(struct floe_backend *be, const char *name, bool rw,
			 struct floe_seg *out)
{
	struct floe_seg_open arg = {
		.access = rw ? FLOE_ACCESS_RW : FLOE_ACCESS_RO,
		.flags = FLOE_SEG_CLOEXEC,
	};
	int ret = copy_seg_name(arg.name, name);

	if (ret)
		return ret;
	if (ioctl(to_kmod(be)->dev, FLOE_IOC_SEG_OPEN, &arg))
		return floe_errno_to_error(errno);
	ret = floe_seg_map(arg.fd, arg.size, rw, out);
	if (ret)
		close(arg.fd);
	else
		floe_seg_drop_fd(out);
	return ret;
}

static int kmod_seg_list(struct floe_backend *be, const char *prefix,
			int (*cb)(const char *name, void *ctx), void *ctx)
{
	(void)be;
	return floe_list_segments(SYSFS_SEGMENTS, prefix, cb, ctx);
}

static int kmod_port_register(struct floe_backend *be, uint32_t role,
			      const char *service, uint64_t node_id,
			      struct floe_port_ref *ref)
{
	struct floe_port_register arg = {
		.node_id = node_id,
		.role = role,
	};
	size_t n = strlen(service);

	if (n >= FLOE_SERVICE_MAX)
		n = FLOE_SERVICE_MAX - 1;
	memcpy(arg.service, service, n);
	if (ioctl(to_kmod(be)->dev, FLOE_IOC_PORT_REGISTER, &arg))
		return errno == ENOSPC ? FLOE_E_NO_SPACE
				       : floe_errno_to_error(errno);
	ref->id = arg.id;
	ref->node_id = node_id ? node_id : arg.id;
	ref->slot = arg.slot;
	ref->role = role;
	return 0;
}

static void kmod_port_unregister(struct floe_backend *be,
				 const struct floe_port_ref *ref)
{
	struct floe_port_unregister arg = { .id = ref->id };

	ioctl(to_kmod(be)->dev, FLOE_IOC_PORT_UNREGISTER, &arg);
}

static int kmod_hold_ioctl(struct floe_backend *be, uint64_t owner_id,
			   uint64_t holder_id, uint32_t flags)
{
	struct floe_seg_hold arg = {
		.owner_port = owner_id,
		.holder_port = holder_id,
		.flags = flags,
	};

	return ioctl(to_kmod(be)->dev, FLOE_IOC_SEG_HOLD, &arg)
		       ? floe_errno_to_error(errno)
		       : 0;
}

static int kmod_port_hold(struct floe_backend *be,
			  const struct floe_port_ref *owner,
			  const struct floe_port_ref *holder)
{
	return kmod_hold_ioctl(be, owner->id, holder->id, 0);
}

static int kmod_port_release(struct floe_backend *be, uint64_t owner_id,
			     const struct floe_port_ref *holder)
{
	return kmod_hold_ioctl(be, owner_id, holder->id, FLOE_HOLD_RELEASE);
}

static enum floe_liveness kmod_port_liveness(struct floe_backend *be,
					     const struct floe_port_ref *ref)
{
	struct kmod_backend *kb = to_kmod(be);

	if (ref->slot == FLOE_SLOT_UNKNOWN)
		return FLOE_PORT_UNKNOWN;
	/* ref came from shared memory: the slot index is checked. */
	if (ref->slot >= kb->max_ports)
		return FLOE_PORT_DEAD;
	return __atomic_load_n(&kb->slots[ref->slot].id, __ATOMIC_ACQUIRE) ==
			       ref->id
		       ? FLOE_PORT_ALIVE
		       : FLOE_PORT_DEAD;
}

/*
 * The port's table slot and the low bits of its id: ids count up from 1,
 * so the bits kept tell a port from every other of its slot for 2^40
 * registrations, and a slot whose id differs belongs to a dead port.
 */
#define CLAIM_ID_BITS 40
#define CLAIM_ID_MASK ((1ULL << CLAIM_ID_BITS) - 1)

static uint64_t kmod_claim_key(struct floe_backend *be,
			       const struct floe_port_ref *ref)
{
	(void)be;
	return (uint64_t)ref->slot << CLAIM_ID_BITS | (ref->id & CLAIM_ID_MASK);
}

static enum floe_liveness kmod_claim_liveness(struct floe_backend *be,
					      uint64_t key)
{
	struct kmod_backend *kb = to_kmod(be);
	uint64_t slot = key >> CLAIM_ID_BITS, id;

	/* the key came from shared memory: the slot index is checked */
	if (slot >= kb->max_ports)
		return FLOE_PORT_DEAD;
	id = __atomic_load_n(&kb->slots[slot].id, __ATOMIC_ACQUIRE);
	/* an empty table slot (id 0) is no port */
	return id && (id & CLAIM_ID_MASK) == (key & CLAIM_ID_MASK)
		       ? FLOE_PORT_ALIVE
		       : FLOE_PORT_DEAD;
}

/* A descriptor of our own: each file has its own "last read" count. */
static int kmod_changes_open(struct floe_backend *be, bool *complete)
{
	int fd = open(FLOE_DEVICE_PATH, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	(void)be;
	if (fd < 0)
		return floe_errno_to_error(errno);
	*complete = false; /* segments come and go unannounced */
	return fd;
}

static bool kmod_changes_take(struct floe_backend *be, int fd)
{
	uint64_t deaths;

	(void)be;
	/* marks the count read: POLLIN again only at the next death */
	return read(fd, &deaths, sizeof(deaths)) == sizeof(deaths);
}

static void kmod_destroy(struct floe_backend *be)
{
	struct kmod_backend *kb = to_kmod(be);

	munmap((void *)kb->live, kb->live_size);
	close(kb->dev);
	free(kb);
}

static const struct floe_backend_ops kmod_ops = {
	.kind = FLOE_BACKEND_KMOD,
	.seg_create = kmod_seg_create,
	.seg_open = kmod_seg_open,
	.seg_unlink = kmod_seg_unlink,
	.seg_list = kmod_seg_list,
	.port_register = kmod_port_register,
	.port_unregister = kmod_port_unregister,
	.port_liveness = kmod_port_liveness,
	.port_hold = kmod_port_hold,
	.port_release = kmod_port_release,
	.claim_key = kmod_claim_key,
	.claim_liveness = kmod_claim_liveness,
	.changes_open = kmod_changes_open,
	.changes_take = kmod_changes_take,
	.destroy = kmod_destroy,
};

int floe_backend_kmod_open(const char *domain, struct floe_backend **out)
{
	struct floe_version ver = { 0 };
	struct kmod_backend *kb;
	void *live;
	int dev;

	dev = open(FLOE_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return FLOE_E_BACKEND;
	if (ioctl(dev, FLOE_IOC_VERSION, &ver) || ver.abi != FLOE_ABI_VERSION ||
	    ver.live_size < sizeof(struct floe_live_header) +
				    (uint64_t)ver.max_ports *
					    sizeof(struct floe_live_slot)) {
		close(dev);
		return FLOE_E_VERSION;
	}
	live = mmap(NULL, ver.live_size, PROT_READ, MAP_SHARED, dev, 0);
	if (live == MAP_FAILED) {
		close(dev);
		return FLOE_E_BACKEND;
	}
	kb = calloc(1, sizeof(*kb));
	if (!kb) {
		munmap(live, ver.live_size);
		close(dev);
		return FLOE_E_NOMEM;
	}
	kb->be.ops = &kmod_ops;
	snprintf(kb->be.domain, sizeof(kb->be.domain), "%s", domain);
	kb->dev = dev;
	kb->live = live;
	kb->be.deaths = (const uint64_t *)&kb->live->deaths;
	kb->slots = (const struct floe_live_slot *)(kb->live + 1);
	kb->live_size = ver.live_size;
	kb->max_ports = ver.max_ports;
	if (kb->live->magic != FLOE_LIVE_MAGIC) {
		kmod_destroy(&kb->be);
		return FLOE_E_VERSION;
	}
	*out = &kb->be;
	return 0;
}
