// SPDX-License-Identifier: MIT
/*
 * Segment modes are checked like a file's against the creator's fsuid/fsgid.
 * Root has CAP_DAC_OVERRIDE, so every check runs in children that dropped to
 * uid 1000 (the creator) or 1001 (someone else).
 */
#define _GNU_SOURCE
#include "floe_test.h"

#define OWNER	1000
#define OTHER	1001

static const char *n600, *n644, *n640, *n660, *n400, *n000;

/* One access attempt; returns 0 or the errno. */
static int try_open(int dev, const char *name, uint32_t access)
{
	int fd = fl_open_seg(dev, name, access, 0, NULL);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

#define expect_open(dev, name, access, want, who)                            \
	({                                                                   \
		int e_ = try_open(dev, name, access);                        \
		if (!tap_ok(e_ == (want), "%s: open %s %s -> %s", who, name, \
			    (access) == FLOE_ACCESS_RW ? "RW" : "RO",        \
			    (want) ? strerror(want) : "ok"))                 \
			tap_diag("  got %s", e_ ? strerror(e_) : "success"); \
	})

int main(void)
{
	int to_owner[2], from_owner[2];
	char c = 0;
	pid_t owner, pid;
	int dev;

	tap_init(60);
	dev = fl_dev_or_bail();
	{
		struct stat st;

		tap_ok(stat(FLOE_DEVICE_PATH, &st) == 0 && (st.st_mode & 0666) == 0666,
		       "%s is rw for everybody (mode %o)", FLOE_DEVICE_PATH,
		       (unsigned int)(st.st_mode & 07777));
	}
	n600 = fl_name("p600");
	n644 = fl_name("p644");
	n640 = fl_name("p640");
	n660 = fl_name("p660");
	n400 = fl_name("p400");
	n000 = fl_name("p000");
	if (pipe(to_owner) || pipe(from_owner))
		return 1;

	/* The owner (uid/gid 1000) creates the segments and keeps them alive. */
	owner = tap_fork(40);
	if (owner == 0) {
		int odev, ok;

		close(to_owner[1]);
		close(from_owner[0]);
		tap_require(become(OWNER, OWNER, 0, NULL) == 0, "owner: setuid %d", OWNER);
		odev = fl_dev();
		tap_require(odev >= 0, "owner: open /dev/floe as uid %d", OWNER);
		ok = fl_create(odev, n600, PAGE, 0600, 0, 0) >= 0 &&
		     fl_create(odev, n644, PAGE, 0644, 0, 0) >= 0 &&
		     fl_create(odev, n640, PAGE, 0640, 0, 0) >= 0 &&
		     fl_create(odev, n660, PAGE, 0660, 0, 0) >= 0 &&
		     fl_create(odev, n400, PAGE, 0400, 0, 0) >= 0 &&
		     fl_create(odev, n000, PAGE, 0000, 0, 0) >= 0;
		tap_require(ok, "owner: create segments with modes 600 644 640 660 400 000");
		expect_open(odev, n600, FLOE_ACCESS_RW, 0, "owner");
		expect_open(odev, n400, FLOE_ACCESS_RO, 0, "owner");
		expect_open(odev, n400, FLOE_ACCESS_RW, EACCES, "owner");
		expect_open(odev, n000, FLOE_ACCESS_RO, EACCES, "owner");
		expect_open(odev, n000, FLOE_ACCESS_RW, EACCES, "owner");
		if (write(from_owner[1], "r", 1) != 1)
			_exit(1);
		/* Hold the /dev/floe file (and so the names) until told. */
		if (read(to_owner[0], &c, 1) != 1)
			_exit(1);
		tap_child_exit();
	}
	close(to_owner[0]);
	close(from_owner[1]);
	tap_require(read(from_owner[0], &c, 1) == 1, "owner created its segments");

	{
		char buf[32];

		tap_ok(sys_read(buf, sizeof(buf), SYS_FLOE "/segments/%s/uid", n600) == 0 &&
			       atoi(buf) == OWNER,
		       "sysfs uid of %s is %d (%s)", n600, OWNER, buf);
		tap_ok(sys_read(buf, sizeof(buf), SYS_FLOE "/segments/%s/gid", n600) == 0 &&
			       atoi(buf) == OWNER,
		       "sysfs gid of %s is %d (%s)", n600, OWNER, buf);
	}

	/* Another uid, no common group. */
	pid = tap_fork(20);
	if (pid == 0) {
		int d, fd;
		char path[64];

		tap_require(become(OTHER, OTHER, 0, NULL) == 0, "other: setuid %d", OTHER);
		d = fl_dev();
		tap_require(d >= 0, "other: open /dev/floe as uid %d", OTHER);
		expect_open(d, n600, FLOE_ACCESS_RO, EACCES, "other");
		expect_open(d, n600, FLOE_ACCESS_RW, EACCES, "other");
		expect_open(d, n644, FLOE_ACCESS_RO, 0, "other");
		expect_open(d, n644, FLOE_ACCESS_RW, EACCES, "other");
		expect_open(d, n640, FLOE_ACCESS_RO, EACCES, "other");
		expect_open(d, n660, FLOE_ACCESS_RW, EACCES, "other");
		tap_errno(fl_unlink(d, n644), EPERM, "other: unlink %s: EPERM", n644);
		tap_errno(fl_unlink(d, n600), EPERM, "other: unlink %s: EPERM", n600);
		tap_errno(fl_create(d, n644, PAGE, 0644, 0, 0), EEXIST,
			  "other: create over the owner's name: EEXIST");

		fd = fl_open_seg(d, n644, FLOE_ACCESS_RO, 0, NULL);
		tap_require(fd >= 0, "other: open %s RO", n644);
		tap_errno(mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
			  EACCES, "other: writable mmap of the RO fd: EACCES");
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		{
			int r = open(path, O_RDWR);

			tap_ok(r < 0, "other: re-open of the RO fd O_RDWR via /proc fails");
			if (r >= 0)
				close(r);
		}
		tap_child_exit();
	}
	tap_wait(pid, 20000, "uid 1001");

	/* Another uid in the owner's group: the group bits apply. */
	pid = tap_fork(20);
	if (pid == 0) {
		gid_t g = OWNER;
		int d;

		tap_require(become(OTHER, OTHER, 1, &g) == 0,
			    "group: setuid %d with supplementary group %d", OTHER, OWNER);
		d = fl_dev();
		tap_require(d >= 0, "group: open /dev/floe");
		expect_open(d, n640, FLOE_ACCESS_RO, 0, "group");
		expect_open(d, n640, FLOE_ACCESS_RW, EACCES, "group");
		expect_open(d, n660, FLOE_ACCESS_RW, 0, "group");
		expect_open(d, n600, FLOE_ACCESS_RO, EACCES, "group");
		tap_child_exit();
	}
	tap_wait(pid, 20000, "uid 1001 in group 1000");

	/* Same uid as the owner, another process: owner bits; may unlink. */
	pid = tap_fork(20);
	if (pid == 0) {
		int d;

		tap_require(become(OWNER, OWNER, 0, NULL) == 0, "same uid: setuid %d", OWNER);
		d = fl_dev();
		tap_require(d >= 0, "same uid: open /dev/floe");
		expect_open(d, n600, FLOE_ACCESS_RW, 0, "same uid");
		expect_open(d, n000, FLOE_ACCESS_RO, EACCES, "same uid");
		tap_ok(fl_unlink(d, n660) == 0, "same uid: unlink %s", n660);
		expect_open(d, n660, FLOE_ACCESS_RO, ENOENT, "same uid");
		tap_child_exit();
	}
	tap_wait(pid, 20000, "uid 1000 (same as owner)");

	/* Root overrides (CAP_DAC_OVERRIDE), as the ABI says. */
	expect_open(dev, n000, FLOE_ACCESS_RW, 0, "root");
	expect_open(dev, n600, FLOE_ACCESS_RW, 0, "root");
	tap_ok(fl_unlink(dev, n400) == 0, "root: unlink of uid %d's segment", OWNER);

	if (write(to_owner[1], "x", 1) != 1)
		tap_ok(0, "release the owner");
	tap_wait(owner, 20000, "owner (uid 1000)");
	expect_open(dev, n600, FLOE_ACCESS_RO, ENOENT, "root after owner exit");
	close(dev);
	return tap_done();
}
