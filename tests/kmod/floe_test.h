/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the /dev/floe tests: thin ioctl wrappers (return -1 and set
 * errno like the syscall), sysfs readers, and privilege dropping.
 */
#ifndef FLOE_TESTS_KMOD_FLOE_TEST_H
#define FLOE_TESTS_KMOD_FLOE_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/floe.h>

#include "tap.h"

#define SYS_FLOE	"/sys/kernel/floe"
#define SYS_PARAM	"/sys/module/floe/parameters"
#define PAGE		4096UL

/* A segment name unique to this process: "<tag>-<pid>-<n>". */
static inline const char *fl_name(const char *tag)
{
	static char buf[8][FLOE_NAME_MAX];
	static int n;
	char *b = buf[n % 8];

	snprintf(b, FLOE_NAME_MAX, "%s-%d-%d", tag, (int)getpid(), n);
	n++;
	return b;
}

/* Copy a C string into a zeroed fixed array, truncating, NUL kept. */
static inline void fl_copy(char *dst, size_t size, const char *src)
{
	memcpy(dst, src, strnlen(src, size - 1));
}

static inline int fl_dev(void)
{
	return open(FLOE_DEVICE_PATH, O_RDWR | O_CLOEXEC);
}

static inline int fl_version(int dev, struct floe_version *v)
{
	memset(v, 0, sizeof(*v));
	return ioctl(dev, FLOE_IOC_VERSION, v);
}

/* Returns the segment fd, or -1 with errno. */
static inline int fl_create(int dev, const char *name, uint64_t size,
			    uint32_t mode, uint64_t owner_port, uint32_t flags)
{
	struct floe_seg_create c;

	memset(&c, 0, sizeof(c));
	fl_copy(c.name, sizeof(c.name), name);
	c.size = size;
	c.mode = mode;
	c.flags = flags;
	c.owner_port = owner_port;
	c.fd = -1;
	if (ioctl(dev, FLOE_IOC_SEG_CREATE, &c) < 0)
		return -1;
	return c.fd;
}

/* Returns the segment fd, or -1 with errno; *size gets the segment size. */
static inline int fl_open_seg(int dev, const char *name, uint32_t access,
			      uint32_t flags, uint64_t *size)
{
	struct floe_seg_open o;

	memset(&o, 0, sizeof(o));
	fl_copy(o.name, sizeof(o.name), name);
	o.access = access;
	o.flags = flags;
	o.fd = -1;
	if (ioctl(dev, FLOE_IOC_SEG_OPEN, &o) < 0)
		return -1;
	if (size)
		*size = o.size;
	return o.fd;
}

static inline int fl_unlink(int dev, const char *name)
{
	struct floe_seg_unlink u;

	memset(&u, 0, sizeof(u));
	fl_copy(u.name, sizeof(u.name), name);
	return ioctl(dev, FLOE_IOC_SEG_UNLINK, &u);
}

/* Returns 0 or -1 with errno; *id and *slot get the port's id and slot. */
static inline int fl_register(int dev, uint32_t role, const char *service,
			      uint64_t node_id, uint64_t *id, uint32_t *slot)
{
	struct floe_port_register r;

	memset(&r, 0, sizeof(r));
	fl_copy(r.service, sizeof(r.service), service);
	r.role = role;
	r.node_id = node_id;
	if (ioctl(dev, FLOE_IOC_PORT_REGISTER, &r) < 0)
		return -1;
	if (id)
		*id = r.id;
	if (slot)
		*slot = r.slot;
	return 0;
}

static inline int fl_unregister(int dev, uint64_t id)
{
	struct floe_port_unregister u;

	memset(&u, 0, sizeof(u));
	u.id = id;
	return ioctl(dev, FLOE_IOC_PORT_UNREGISTER, &u);
}

/* FLOE_IOC_SEG_HOLD: add (flags 0) or FLOE_HOLD_RELEASE; 0 or -1 with errno. */
static inline int fl_hold(int dev, uint64_t owner, uint64_t holder, uint32_t flags)
{
	struct floe_seg_hold h;

	memset(&h, 0, sizeof(h));
	h.owner_port = owner;
	h.holder_port = holder;
	h.flags = flags;
	return ioctl(dev, FLOE_IOC_SEG_HOLD, &h);
}

/* Map the liveness table read-only; NULL on failure. */
static inline const struct floe_live_header *fl_map_live(int dev, size_t *len)
{
	struct floe_version v;
	void *p;

	if (fl_version(dev, &v) < 0)
		return NULL;
	p = mmap(NULL, v.live_size, PROT_READ, MAP_SHARED, dev, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (len)
		*len = v.live_size;
	return p;
}

static inline const struct floe_live_slot *
fl_slot(const struct floe_live_header *h, uint32_t slot)
{
	return (const struct floe_live_slot *)((const char *)h + sizeof(*h) +
					       (size_t)slot * h->slot_size);
}

/* Read a sysfs attribute into buf without the trailing newline. */
static inline int sys_read(char *buf, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline int sys_read(char *buf, size_t n, const char *fmt, ...)
{
	char path[512];
	va_list ap;
	ssize_t r;
	int fd;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	buf[0] = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = read(fd, buf, n - 1);
	close(fd);
	if (r < 0)
		return -1;
	buf[r] = 0;
	while (r > 0 && (buf[r - 1] == '\n' || buf[r - 1] == ' '))
		buf[--r] = 0;
	return 0;
}

/* Numeric sysfs attribute (decimal, or 0x/0-prefixed); -1 if unreadable. */
static inline long long sys_num(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline long long sys_num(const char *fmt, ...)
{
	char path[512], buf[64], *end;
	long long v;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (sys_read(buf, sizeof(buf), "%s", path) < 0 || !buf[0])
		return -1;
	errno = 0;
	v = strtoll(buf, &end, 0);
	if (errno || *end)
		return -1;
	return v;
}

static inline int sys_write(const char *val, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline int sys_write(const char *val, const char *fmt, ...)
{
	char path[512];
	va_list ap;
	ssize_t r;
	int fd;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = write(fd, val, strlen(val));
	close(fd);
	return r == (ssize_t)strlen(val) ? 0 : -1;
}

static inline int sys_exists(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline int sys_exists(const char *fmt, ...)
{
	char path[512];
	struct stat st;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return stat(path, &st) == 0;
}

/* Entries in a directory (without . and ..); -1 if it cannot be read. */
static inline int sys_count(const char *path)
{
	struct dirent *d;
	DIR *dir = opendir(path);
	int n = 0;

	if (!dir)
		return -1;
	while ((d = readdir(dir)))
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
			n++;
	closedir(dir);
	return n;
}

/* Drop to uid/gid with no supplementary groups (or just `groups`). */
static inline int become(uid_t uid, gid_t gid, int ngroups, const gid_t *groups)
{
	if (setgroups(ngroups, groups) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0)
		return -1;
	return (getuid() == uid && geteuid() == uid && getgid() == gid) ? 0 : -1;
}

/* Every test needs the device: bail out early with a clear message. */
static inline int fl_dev_or_bail(void)
{
	int fd = fl_dev();

	if (fd < 0) {
		printf("Bail out! open %s: %s (module loaded?)\n",
		       FLOE_DEVICE_PATH, strerror(errno));
		exit(1);
	}
	return fd;
}

#endif
