// SPDX-License-Identifier: MIT
/*
 * Module caps (writable parameters): max_segments -> ENFILE, max_total_bytes
 * -> ENOSPC, max_user_bytes -> EDQUOT (per creator uid). A refused creation
 * leaves no state; freeing brings the room back. Parameters are restored.
 */
#define _GNU_SOURCE
#include "floe_test.h"

static char saved[3][64];
static const char *params[3] = { "max_segments", "max_total_bytes", "max_user_bytes" };

static void restore(void)
{
	for (int i = 0; i < 3; i++)
		if (saved[i][0])
			sys_write(saved[i], SYS_PARAM "/%s", params[i]);
}

static int set_param(const char *name, long long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", v);
	return sys_write(buf, SYS_PARAM "/%s", name);
}

static int segs(void)
{
	return sys_count(SYS_FLOE "/segments");
}

static long long bytes(void)
{
	return sys_num(SYS_FLOE "/segment_bytes");
}

int main(void)
{
	const char *n[4];
	int dev, fd[4], s0;
	long long b0;

	tap_init(60);
	dev = fl_dev_or_bail();
	for (int i = 0; i < 3; i++)
		tap_require(sys_read(saved[i], sizeof(saved[i]), SYS_PARAM "/%s", params[i]) == 0 &&
				    saved[i][0], "read parameter %s (%s)", params[i], saved[i]);
	atexit(restore);

	/* max_segments */
	s0 = segs();
	b0 = bytes();
	tap_require(s0 >= 0 && b0 >= 0, "sysfs counts readable (%d segments, %lld bytes)", s0, b0);
	tap_require(set_param("max_segments", s0 + 2) == 0, "set max_segments = %d", s0 + 2);
	for (int i = 0; i < 3; i++)
		n[i] = fl_name("cap");
	fd[0] = fl_create(dev, n[0], PAGE, 0600, 0, 0);
	fd[1] = fl_create(dev, n[1], PAGE, 0600, 0, 0);
	tap_ok(fd[0] >= 0 && fd[1] >= 0, "two segments fit");
	tap_errno(fl_create(dev, n[2], PAGE, 0600, 0, 0), ENFILE, "the third: ENFILE");
	tap_eq(segs(), s0 + 2, "  ...sysfs shows 2 more segments, not 3");
	tap_eq(sys_num(SYS_FLOE "/nr_segments"), s0 + 2, "  ...nr_segments + 2");
	tap_eq(bytes(), b0 + 2 * PAGE, "  ...segment_bytes counts 2 pages");
	tap_errno(fl_open_seg(dev, n[2], FLOE_ACCESS_RO, 0, NULL), ENOENT,
		  "  ...the refused name does not exist");
	/* An unlinked segment still holds its memory (fd open): still full. */
	fl_unlink(dev, n[1]);
	tap_errno(fl_create(dev, n[2], PAGE, 0600, 0, 0), ENFILE,
		  "unlinked but still open segment still counts: ENFILE");
	close(fd[1]);
	fd[2] = fl_create(dev, n[2], PAGE, 0600, 0, 0);
	tap_ok(fd[2] >= 0, "after the last fd closes there is room again");
	close(fd[2]);
	fl_unlink(dev, n[2]);
	close(fd[0]);
	fl_unlink(dev, n[0]);
	tap_eq(segs(), s0, "segments back to %d", s0);
	tap_require(sys_write(saved[0], SYS_PARAM "/max_segments") == 0, "restore max_segments");

	/* max_total_bytes */
	tap_require(set_param("max_total_bytes", b0 + 64 * 1024) == 0,
		    "set max_total_bytes = current + 64 KiB");
	n[0] = fl_name("total");
	n[1] = fl_name("total");
	fd[0] = fl_create(dev, n[0], 64 * 1024, 0600, 0, 0);
	tap_ok(fd[0] >= 0, "64 KiB fits");
	tap_errno(fl_create(dev, n[1], PAGE, 0600, 0, 0), ENOSPC, "one more page: ENOSPC");
	tap_eq(segs(), s0 + 1, "  ...one segment more in sysfs");
	tap_eq(sys_num(SYS_FLOE "/nr_segments"), s0 + 1, "  ...nr_segments + 1");
	tap_eq(bytes(), b0 + 64 * 1024, "  ...segment_bytes up by 64 KiB only");
	{
		void *m = mmap(NULL, 64 * 1024, PROT_READ | PROT_WRITE, MAP_SHARED, fd[0], 0);

		fl_unlink(dev, n[0]);
		close(fd[0]);
		tap_errno(fl_create(dev, n[1], PAGE, 0600, 0, 0), ENOSPC,
			  "unlinked, closed but still mapped: still ENOSPC");
		if (m != MAP_FAILED)
			munmap(m, 64 * 1024);
	}
	fd[1] = fl_create(dev, n[1], 64 * 1024, 0600, 0, 0);
	tap_ok(fd[1] >= 0, "after munmap 64 KiB fit again");
	close(fd[1]);
	fl_unlink(dev, n[1]);
	tap_require(set_param("max_total_bytes", b0) == 0, "set max_total_bytes = current usage");
	tap_errno(fl_create(dev, fl_name("total"), PAGE, 0600, 0, 0), ENOSPC,
		  "cap equal to usage: ENOSPC");
	if (b0 > 0) {
		tap_require(set_param("max_total_bytes", b0 - PAGE) == 0,
			    "set max_total_bytes below current usage");
		tap_errno(fl_create(dev, fl_name("total"), PAGE, 0600, 0, 0), ENOSPC,
			  "cap below usage: ENOSPC (no underflow)");
	}
	tap_require(sys_write(saved[1], SYS_PARAM "/max_total_bytes") == 0, "restore max_total_bytes");
	tap_eq(segs(), s0, "segments back to %d", s0);

	/* max_user_bytes, per creator uid (in children: a fresh uid each). */
	tap_require(set_param("max_user_bytes", 64 * 1024) == 0, "set max_user_bytes = 64 KiB");
	for (int u = 1000; u <= 1001; u++) {
		pid_t pid = tap_fork(20);

		if (pid == 0) {
			int d, f;

			tap_require(become(u, u, 0, NULL) == 0, "uid %d: setuid", u);
			d = fl_dev();
			tap_require(d >= 0, "uid %d: open /dev/floe", u);
			f = fl_create(d, fl_name("user"), 64 * 1024, 0600, 0, 0);
			tap_ok(f >= 0, "uid %d: 64 KiB fits", u);
			tap_errno(fl_create(d, fl_name("user"), PAGE, 0600, 0, 0), EDQUOT,
				  "uid %d: one more page: EDQUOT", u);
			tap_errno(fl_create(d, fl_name("user"), 128 * 1024, 0600, 0, 0), EFBIG,
				  "uid %d: one segment above the per-user cap: EFBIG", u);
			tap_child_exit();
		}
		tap_wait(pid, 20000, u == 1000 ? "uid 1000" : "uid 1001");
	}
	/* Both users at the cap simultaneously (a shared counter would refuse). */
	{
		int go[2], ready[2];
		pid_t a, b;
		char c;

		if (pipe(go) || pipe(ready))
			return 1;
		a = tap_fork(20);
		if (a == 0) {
			int d;

			close(go[1]);
			tap_require(become(1000, 1000, 0, NULL) == 0, "uid 1000: setuid");
			d = fl_dev();
			tap_ok(fl_create(d, fl_name("quota"), 64 * 1024, 0600, 0, 0) >= 0,
			       "uid 1000 holds 64 KiB");
			if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) < 0)
				_exit(1);
			tap_child_exit();
		}
		close(go[0]);
		tap_require(read(ready[0], &c, 1) == 1, "uid 1000 ready");
		b = tap_fork(20);
		if (b == 0) {
			int d;

			tap_require(become(1001, 1001, 0, NULL) == 0, "uid 1001: setuid");
			d = fl_dev();
			tap_ok(fl_create(d, fl_name("quota"), 64 * 1024, 0600, 0, 0) >= 0,
			       "uid 1001 gets its own 64 KiB meanwhile");
			tap_child_exit();
		}
		tap_wait(b, 20000, "uid 1001 alongside");
		if (write(go[1], "g", 1) != 1)
			tap_ok(0, "release uid 1000");
		tap_wait(a, 20000, "uid 1000 holder");
	}
	tap_require(sys_write(saved[2], SYS_PARAM "/max_user_bytes") == 0, "restore max_user_bytes");
	tap_eq(segs(), s0, "segments back to %d", s0);
	tap_eq(bytes(), b0, "segment_bytes back to %lld", b0);
	for (int i = 0; i < 3; i++) {
		char now[64];

		sys_read(now, sizeof(now), SYS_PARAM "/%s", params[i]);
		tap_ok(!strcmp(now, saved[i]), "%s restored (%s)", params[i], now);
	}
	close(dev);
	return tap_done();
}
