// SPDX-License-Identifier: MIT
/*
 * Read-only segment fds can never be mapped writable: mmap(PROT_WRITE),
 * mprotect(PROT_WRITE), writes through /proc/self/mem, re-opening the fd
 * read-write through /proc/self/fd, write()/fallocate() on the fd, and
 * madvise(MADV_REMOVE) all fail; writes through a RW mapping are visible
 * through the RO one.
 */
#define _GNU_SOURCE
#include <linux/falloc.h>

#include "floe_test.h"

#define SZ	(4 * PAGE)

/* Try to write one byte at addr through /proc/self/mem (FOLL_FORCE). */
static long poke_mem(void *addr, unsigned char val)
{
	int fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	long r;

	if (fd < 0)
		return -2;
	r = pwrite(fd, &val, 1, (off_t)(uintptr_t)addr);
	close(fd);
	return r;
}

int main(void)
{
	volatile unsigned char *rw, *ro;
	char path[64];
	const char *name;
	int dev, fd, rofd, r;
	void *p;

	tap_init(60);
	dev = fl_dev_or_bail();
	name = fl_name("ro");
	fd = fl_create(dev, name, SZ, 0644, 0, 0);
	tap_require(fd >= 0, "create %s", name);
	rw = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	tap_require(rw != MAP_FAILED, "mmap RW of the creator's fd");
	rw[0] = 1;

	rofd = fl_open_seg(dev, name, FLOE_ACCESS_RO, 0, NULL);
	tap_require(rofd >= 0, "open RO");
	tap_eq(fcntl(rofd, F_GETFL) & O_ACCMODE, O_RDONLY, "RO fd is O_RDONLY");

	tap_errno(mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, rofd, 0), EACCES,
		  "RO fd: mmap PROT_READ|PROT_WRITE MAP_SHARED: EACCES");
	tap_errno(mmap(NULL, SZ, PROT_WRITE, MAP_SHARED, rofd, 0), EACCES,
		  "RO fd: mmap PROT_WRITE MAP_SHARED: EACCES");
	p = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE, rofd, 0);
	tap_ok(p == MAP_FAILED, "RO fd: writable MAP_PRIVATE mapping refused");
	if (p != MAP_FAILED)
		munmap(p, SZ);

	ro = mmap(NULL, SZ, PROT_READ, MAP_SHARED, rofd, 0);
	tap_require(ro != MAP_FAILED, "RO fd: mmap PROT_READ MAP_SHARED");
	tap_eq(ro[0], 1, "RO mapping sees the data");
	tap_errno(mprotect((void *)ro, SZ, PROT_READ | PROT_WRITE), EACCES,
		  "RO mapping: mprotect(PROT_READ|PROT_WRITE): EACCES");
	tap_errno(mprotect((void *)ro, PAGE, PROT_WRITE), EACCES,
		  "RO mapping: mprotect(PROT_WRITE) of one page: EACCES");
	tap_call(mprotect((void *)ro, SZ, PROT_NONE), "RO mapping: mprotect(PROT_NONE) ok");
	tap_call(mprotect((void *)ro, SZ, PROT_READ), "RO mapping: back to PROT_READ ok");
	r = poke_mem((void *)ro, 0x77);
	tap_ok(r < 0 && ro[0] == 1, "write via /proc/self/mem into the RO mapping fails");
	r = madvise((void *)ro, SZ, MADV_REMOVE);
	if (r < 0 && errno == ENOSYS)	/* kernels without ADVISE_SYSCALLS */
		tap_ok(1, "MADV_REMOVE on the RO mapping # madvise() not built in");
	else
		tap_errno(madvise((void *)ro, SZ, MADV_REMOVE), EACCES,
			  "MADV_REMOVE on the RO mapping: EACCES");
	tap_eq(ro[0], 1, "  ...and the data is still there");

	/* A write through the RO mapping must fault (SIGSEGV) in a child. */
	{
		pid_t pid = fork();
		int status = 0;

		if (pid == 0) {
			alarm(10);
			ro[1] = 9;
			_exit(0);
		}
		waitpid(pid, &status, 0);
		tap_ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
		       "store through the RO mapping: SIGSEGV");
		tap_eq(rw[1], 0, "  ...and nothing was written");
	}

	/* Other ways to get a writable handle from the RO fd. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", rofd);
	r = open(path, O_RDWR | O_CLOEXEC);
	if (!tap_ok(r < 0, "re-open of the RO fd O_RDWR via /proc/self/fd fails")) {
		void *w = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, r, 0);

		tap_diag("  got fd %d; writable mapping of it %s", r,
			 w == MAP_FAILED ? "refused" : "SUCCEEDED");
		close(r);
	} else {
		tap_diag("  errno %d (%s)", errno, strerror(errno));
	}
	tap_errno(write(rofd, "x", 1), EBADF, "write() on the RO fd: EBADF");
	/* The fd is not seekable: ESPIPE comes before the access check. */
	tap_ok(pwrite(rofd, "x", 1, 0) < 0, "pwrite() on the RO fd fails");
	r = fallocate(rofd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, SZ);
	tap_ok(r < 0, "fallocate(PUNCH_HOLE) on the RO fd fails");
	r = ftruncate(rofd, 0);
	tap_ok(r < 0, "ftruncate() on the RO fd fails");
	tap_eq(ro[0], 1, "  ...data intact");

	/* Writes through the RW mapping show through the RO one. */
	for (size_t i = 0; i < SZ; i += 512)
		rw[i] = (unsigned char)(i / 512 + 3);
	{
		int good = 1;

		for (size_t i = 0; i < SZ; i += 512)
			good &= ro[i] == (unsigned char)(i / 512 + 3);
		tap_ok(good, "RW writes visible through the RO mapping");
	}

	/* A second RO open, mapped after the writes, sees them too. */
	{
		int f = fl_open_seg(dev, name, FLOE_ACCESS_RO, 0, NULL);
		volatile unsigned char *m = f >= 0 ? mmap(NULL, SZ, PROT_READ, MAP_SHARED, f, 0)
						    : MAP_FAILED;

		tap_ok(m != MAP_FAILED && m[SZ - 512] == (unsigned char)((SZ - 512) / 512 + 3),
		       "a fresh RO mapping sees the RW writes");
		if (m != MAP_FAILED)
			munmap((void *)m, SZ);
		close(f);
	}

	/* The RW fd, by contrast, can be mprotect()ed writable. */
	{
		volatile unsigned char *m = mmap(NULL, SZ, PROT_READ, MAP_SHARED, fd, 0);

		tap_ok(m != MAP_FAILED && mprotect((void *)m, SZ, PROT_READ | PROT_WRITE) == 0,
		       "RW fd: PROT_READ mapping can be mprotect()ed writable");
		if (m != MAP_FAILED) {
			m[2] = 5;
			tap_eq(ro[2], 5, "  ...and its writes show through the RO mapping");
			munmap((void *)m, SZ);
		}
	}

	munmap((void *)ro, SZ);
	munmap((void *)rw, SZ);
	close(rofd);
	close(fd);
	fl_unlink(dev, name);
	close(dev);
	return tap_done();
}
