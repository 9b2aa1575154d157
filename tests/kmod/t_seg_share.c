// SPDX-License-Identifier: MIT
/*
 * Segments shared across processes: create, open by name in a forked child
 * (its own /dev/floe), mmap (MAP_POPULATE included), data both ways, size
 * rounding, EEXIST/ENOENT, unlink, name lifetime tied to the /dev/floe file,
 * FLOE_SEG_CLOEXEC.
 */
#define _GNU_SOURCE
#include "floe_test.h"

#define SEG_SIZE	(64 * 1024)

static void fill(unsigned char *p, size_t n, unsigned int seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 31 + seed);
}

static int check(const unsigned char *p, size_t n, unsigned int seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (unsigned char)(i * 31 + seed))
			return 0;
	return 1;
}

int main(void)
{
	struct floe_version v;
	const char *name, *big;
	unsigned char *map;
	uint64_t size = 0;
	int dev, fd, fd2;
	pid_t pid;

	tap_init(60);
	dev = fl_dev_or_bail();

	tap_require(fl_version(dev, &v) == 0, "FLOE_IOC_VERSION");
	tap_eq(v.abi, FLOE_ABI_VERSION, "abi is FLOE_ABI_VERSION");
	tap_ok(v.max_ports > 0, "max_ports > 0 (%u)", v.max_ports);
	tap_ok(v.live_size >= sizeof(struct floe_live_header) +
				   (uint64_t)v.max_ports * sizeof(struct floe_live_slot),
	       "live_size %llu holds header + max_ports slots",
	       (unsigned long long)v.live_size);
	tap_ok(v.live_size % PAGE == 0, "live_size is page-aligned");

	name = fl_name("share");
	fd = fl_create(dev, name, SEG_SIZE, 0600, 0, 0);
	tap_require(fd >= 0, "create %s (64 KiB, 0600)", name);
	map = mmap(NULL, SEG_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	tap_require(map != MAP_FAILED, "mmap RW of the creator's fd");
	fill(map, SEG_SIZE, 7);
	tap_errno(fl_create(dev, name, SEG_SIZE, 0600, 0, 0), EEXIST,
		  "create of a taken name: EEXIST");
	tap_errno(mmap(NULL, SEG_SIZE, PROT_READ, MAP_PRIVATE, fd, 0), EINVAL,
		  "MAP_PRIVATE mapping refused (EINVAL)");
	tap_errno(mmap(NULL, SEG_SIZE + PAGE, PROT_READ, MAP_SHARED, fd, 0), EINVAL,
		  "mapping past the end refused (EINVAL)");
	tap_errno(mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, SEG_SIZE), EINVAL,
		  "mapping at offset == size refused (EINVAL)");
	{
		void *p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, SEG_SIZE - PAGE);

		tap_ok(p != MAP_FAILED && check(p, PAGE, 7 + (SEG_SIZE - PAGE) * 31),
		       "mapping of the last page at its offset sees the data");
		if (p != MAP_FAILED)
			munmap(p, PAGE);
	}

	pid = tap_fork(20);
	if (pid == 0) {
		int cdev = fl_dev(), rfd, wfd;
		unsigned char *r, *w;
		uint64_t sz = 0;

		tap_require(cdev >= 0, "child: open /dev/floe");
		tap_errno(fl_open_seg(cdev, fl_name("nosuch"), FLOE_ACCESS_RO, 0, NULL),
			  ENOENT, "child: open of an unknown name: ENOENT");
		tap_errno(fl_create(cdev, name, PAGE, 0600, 0, 0), EEXIST,
			  "child: create of the parent's name: EEXIST");
		rfd = fl_open_seg(cdev, name, FLOE_ACCESS_RO, 0, &sz);
		tap_require(rfd >= 0, "child: open RO by name");
		tap_eq(sz, SEG_SIZE, "child: open reports the size");
		r = mmap(NULL, SEG_SIZE, PROT_READ, MAP_SHARED | MAP_POPULATE, rfd, 0);
		tap_require(r != MAP_FAILED, "child: mmap RO with MAP_POPULATE");
		tap_ok(check(r, SEG_SIZE, 7), "child: reads what the parent wrote");
		wfd = fl_open_seg(cdev, name, FLOE_ACCESS_RW, 0, NULL);
		tap_require(wfd >= 0, "child: open RW by name");
		w = mmap(NULL, SEG_SIZE, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_POPULATE, wfd, 0);
		tap_require(w != MAP_FAILED, "child: mmap RW with MAP_POPULATE");
		fill(w + SEG_SIZE / 2, SEG_SIZE / 2, 99);
		tap_ok(check(r + SEG_SIZE / 2, SEG_SIZE / 2, 99),
		       "child: own RW write visible through own RO mapping");
		tap_child_exit();
	}
	tap_wait(pid, 20000, "open/mmap by name");
	tap_ok(check(map, SEG_SIZE / 2, 7) && check(map + SEG_SIZE / 2, SEG_SIZE / 2, 99),
	       "parent sees the child's writes");

	/* MAP_POPULATE of a fresh segment in another process allocates it. */
	big = fl_name("populate");
	fd2 = fl_create(dev, big, 1 << 20, 0600, 0, 0);
	tap_require(fd2 >= 0, "create %s (1 MiB)", big);
	pid = tap_fork(20);
	if (pid == 0) {
		int cdev = fl_dev(), sfd;
		unsigned char vec[256], *m;
		int resident = 0;

		sfd = fl_open_seg(cdev, big, FLOE_ACCESS_RW, 0, NULL);
		tap_require(sfd >= 0, "child: open RW");
		m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_POPULATE, sfd, 0);
		tap_require(m != MAP_FAILED, "child: mmap 1 MiB MAP_POPULATE");
		tap_require(mincore(m, 1 << 20, vec) == 0, "child: mincore");
		for (int i = 0; i < 256; i++)
			resident += vec[i] & 1;
		tap_eq(resident, 256, "child: MAP_POPULATE made all 256 pages resident");
		memset(m, 0x5a, 1 << 20);
		tap_child_exit();
	}
	tap_wait(pid, 20000, "MAP_POPULATE");
	{
		unsigned char *m = mmap(NULL, 1 << 20, PROT_READ, MAP_SHARED, fd2, 0);
		int good = m != MAP_FAILED;

		for (size_t i = 0; good && i < (1 << 20); i += 4093)
			good = m[i] == 0x5a;
		tap_ok(good, "parent sees the child's 1 MiB of writes");
		if (m != MAP_FAILED)
			munmap(m, 1 << 20);
	}
	close(fd2);

	/* Sizes are rounded up to pages. */
	{
		const char *n = fl_name("round");
		int f = fl_create(dev, n, 5000, 0600, 0, 0);

		tap_call(f, "create with size 5000");
		tap_call(fd2 = fl_open_seg(dev, n, FLOE_ACCESS_RO, 0, &size), "open it");
		tap_eq(size, 8192, "size 5000 rounded up to 8192");
		{
			void *p = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd2, 0);

			tap_ok(p != MAP_FAILED, "the rounded-up size can be mapped");
			if (p != MAP_FAILED)
				munmap(p, 8192);
		}
		close(fd2);
		close(f);
		tap_call(fl_unlink(dev, n), "unlink it");
	}

	/* CLOEXEC. */
	{
		const char *n = fl_name("cloexec");
		int f1 = fl_create(dev, n, PAGE, 0600, 0, FLOE_SEG_CLOEXEC);
		int f2 = fl_open_seg(dev, n, FLOE_ACCESS_RO, 0, NULL);
		int f3 = fl_open_seg(dev, n, FLOE_ACCESS_RO, FLOE_SEG_CLOEXEC, NULL);

		tap_ok(f1 >= 0 && (fcntl(f1, F_GETFD) & FD_CLOEXEC),
		       "create with FLOE_SEG_CLOEXEC: fd has FD_CLOEXEC");
		tap_ok(f2 >= 0 && !(fcntl(f2, F_GETFD) & FD_CLOEXEC),
		       "open without the flag: no FD_CLOEXEC");
		tap_ok(f3 >= 0 && (fcntl(f3, F_GETFD) & FD_CLOEXEC),
		       "open with FLOE_SEG_CLOEXEC: fd has FD_CLOEXEC");
		tap_ok(fd >= 0 && !(fcntl(fd, F_GETFD) & FD_CLOEXEC),
		       "create without the flag: no FD_CLOEXEC");
		tap_errno(read(f2, &size, 1), EINVAL, "read() on a segment fd: EINVAL");
		tap_errno(write(f2, &size, 1), EBADF, "write() on a RO segment fd: EBADF");
		close(f1);
		close(f2);
		close(f3);
		fl_unlink(dev, n);
	}

	/* Unlink: the name goes, the memory stays while mapped. */
	tap_call(fl_unlink(dev, name), "unlink %s", name);
	tap_errno(fl_open_seg(dev, name, FLOE_ACCESS_RO, 0, NULL), ENOENT,
		  "open after unlink: ENOENT");
	tap_errno(fl_unlink(dev, name), ENOENT, "second unlink: ENOENT");
	tap_ok(check(map, SEG_SIZE / 2, 7), "mapping still valid after unlink");
	fd2 = fl_create(dev, name, PAGE, 0600, 0, 0);
	tap_ok(fd2 >= 0, "the unlinked name can be created again");
	{
		unsigned char *m = fd2 >= 0 ? mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd2, 0)
					    : MAP_FAILED;

		tap_ok(m != MAP_FAILED && m[0] == 0 && m[PAGE - 1] == 0,
		       "new segment under the old name is fresh (zeroed)");
		if (m != MAP_FAILED)
			munmap(m, PAGE);
	}
	close(fd2);
	munmap(map, SEG_SIZE);
	close(fd);

	/* A segment without owner port lives as long as its /dev/floe file. */
	{
		int d2 = fl_dev();
		const char *n = fl_name("filelife");
		int f = fl_create(d2, n, PAGE, 0600, 0, 0);
		unsigned char *m = f >= 0 ? mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
						  MAP_SHARED, f, 0) : MAP_FAILED;

		tap_ok(m != MAP_FAILED, "create + map on a second /dev/floe file");
		if (m != MAP_FAILED)
			m[0] = 42;
		fd2 = fl_open_seg(dev, n, FLOE_ACCESS_RO, 0, NULL);
		tap_ok(fd2 >= 0, "visible from the first file");
		close(fd2);
		close(d2);
		tap_errno(fl_open_seg(dev, n, FLOE_ACCESS_RO, 0, NULL), ENOENT,
			  "closing its /dev/floe file unlinks the name");
		tap_ok(m != MAP_FAILED && m[0] == 42, "the mapping survives the name");
		if (m != MAP_FAILED)
			munmap(m, PAGE);
		close(f);
		/* The name is free again after that. */
		f = fl_create(dev, n, PAGE, 0600, 0, 0);
		tap_ok(f >= 0, "name reusable after its file closed");
		close(f);
	}
	/* FLOE_SEG_PERSIST: no owner; the name stays until unlinked. */
	{
		int d2 = fl_dev();
		const char *n = fl_name("persist");
		int f = fl_create(d2, n, PAGE, 0644, 0, FLOE_SEG_PERSIST);
		unsigned char *m = f >= 0 ? mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
						  MAP_SHARED, f, 0) : MAP_FAILED;

		tap_ok(m != MAP_FAILED, "create + map a FLOE_SEG_PERSIST segment");
		if (m != MAP_FAILED) {
			m[1] = 77;
			munmap(m, PAGE);
		}
		close(f);
		close(d2);
		tap_eq(sys_num(SYS_FLOE "/segments/%s/owner", n), 0, "persistent segment has owner 0");
		f = fl_open_seg(dev, n, FLOE_ACCESS_RO, 0, NULL);
		tap_ok(f >= 0, "persistent name survives its creator's file, fds and mappings");
		m = f >= 0 ? mmap(NULL, PAGE, PROT_READ, MAP_SHARED, f, 0) : MAP_FAILED;
		tap_ok(m != MAP_FAILED && m[1] == 77, "  ...and so does its data");
		if (m != MAP_FAILED)
			munmap(m, PAGE);
		close(f);
		tap_call(fl_unlink(dev, n), "unlink the persistent segment");
		tap_errno(fl_open_seg(dev, n, FLOE_ACCESS_RO, 0, NULL), ENOENT, "  ...then it is gone");
		tap_ok(!sys_exists(SYS_FLOE "/segments/%s", n), "  ...from sysfs too");
	}
	close(dev);
	return tap_done();
}
