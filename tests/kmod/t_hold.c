// SPDX-License-Identifier: MIT
/*
 * FLOE_IOC_SEG_HOLD across processes. An owner process creates a segment,
 * writes it and holds it for a port of another process:
 *  - owner SIGKILLed: the name stays (openable, contents intact, the usual
 *    permission check, sysfs owner and holders), until the holder releases
 *    it, or until the holder is SIGKILLed too;
 *  - holder SIGKILLed while the owner lives: the hold goes, and the owner's
 *    death then unlinks as without holds;
 *  - an orphan's names unlinked by name: its hold goes with the last one;
 *  - the owner withdraws its hold; max_holders gives ENOSPC;
 *  - bad input gets its documented errno and changes nothing.
 * The sysfs totals (nr_ports, nr_segments, nr_holds, segment_bytes) return
 * to where they started.
 */
#define _GNU_SOURCE
#include "floe_test.h"

#define SEG_SIZE	(4 * PAGE)

static int dev;

/* A port in a child process that pauses until SIGKILLed. */
struct kid {
	pid_t pid;
	uint64_t port;
	int ok;
};

/*
 * Fork a child that registers a port; with @seg, it also creates @seg
 * (mode 0600, owned by the port), fills it with its port id and holds it
 * for @holder. The parent gets the child's pid and port id.
 */
static struct kid spawn(uint32_t role, const char *seg, uint64_t holder)
{
	struct kid k = { .pid = -1 }, got = { 0 };
	int p[2];

	fflush(stdout);
	if (pipe(p) == 0)
		k.pid = fork();
	if (k.pid == 0) {
		int d = fl_dev(), fd;
		uint64_t *m;

		alarm(60);
		if (d < 0 || fl_register(d, role, "hold/test", 0, &got.port, NULL))
			goto out;
		if (seg) {
			fd = fl_create(d, seg, SEG_SIZE, 0600, got.port, 0);
			m = fd < 0 ? MAP_FAILED : mmap(NULL, SEG_SIZE, PROT_READ | PROT_WRITE,
						       MAP_SHARED, fd, 0);
			if (m == MAP_FAILED)
				goto out;
			for (size_t i = 0; i < SEG_SIZE / sizeof(*m); i++)
				m[i] = got.port ^ i;
			if (fl_hold(d, got.port, holder, 0))
				goto out;
		}
		got.ok = 1;
out:
		if (write(p[1], &got, sizeof(got)) != sizeof(got))
			_exit(1);
		for (;;)
			pause();
	}
	if (k.pid > 0) {
		close(p[1]);
		if (read(p[0], &got, sizeof(got)) != sizeof(got))
			got.ok = 0;
		close(p[0]);
	}
	tap_require(k.pid > 0 && got.ok, "child %d: port %llu%s%s", (int)k.pid,
		    (unsigned long long)got.port, seg ? ", created and held " : "",
		    seg ? seg : "");
	k.port = got.port;
	return k;
}

static void kill_kid(struct kid *k)
{
	kill(k->pid, SIGKILL);
	waitpid(k->pid, NULL, 0);
}

static long long holders(const char *seg)
{
	return sys_num(SYS_FLOE "/segments/%s/holders", seg);
}

static long long nr_holds(void)
{
	return sys_num(SYS_FLOE "/nr_holds");
}

/* @seg is openable read-only and holds what its owner @port wrote. */
static int intact(const char *seg, uint64_t port)
{
	uint64_t size = 0, *m;
	int fd = fl_open_seg(dev, seg, FLOE_ACCESS_RO, 0, &size), ok = 1;

	if (fd < 0 || size != SEG_SIZE)
		return 0;
	m = mmap(NULL, SEG_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return 0;
	for (size_t i = 0; i < SEG_SIZE / sizeof(*m); i++)
		ok &= m[i] == (port ^ i);
	munmap(m, SEG_SIZE);
	return ok;
}

/* Owner dies, the holder keeps the name, then releases it. */
static void owner_dies(uint64_t me, long long holds0)
{
	const char *seg = fl_name("held");
	struct kid owner = spawn(FLOE_ROLE_PUBLISHER, seg, me);
	long long ports = sys_num(SYS_FLOE "/nr_ports");

	tap_eq(holders(seg), 1, "sysfs holders of %s: 1", seg);
	tap_eq(nr_holds(), holds0 + 1, "nr_holds + 1");
	tap_errno(fl_hold(dev, owner.port, me, 0), ENOENT,
		  "another process cannot add holds on the owner's segments: ENOENT");
	kill_kid(&owner);
	tap_eq(sys_num(SYS_FLOE "/nr_ports"), ports - 1, "owner SIGKILLed: its port is gone");
	tap_ok(!sys_exists(SYS_FLOE "/ports/%llu", (unsigned long long)owner.port),
	       "  ...and its sysfs directory");
	tap_ok(intact(seg, owner.port), "  ...but %s is still openable, contents intact", seg);
	tap_eq(sys_num(SYS_FLOE "/segments/%s/owner", seg), owner.port,
	       "  ...and in sysfs with its owner id");
	tap_eq(holders(seg), 1, "  ...and 1 holder");
	tap_eq(nr_holds(), holds0 + 1, "  ...the hold stays");
	{
		pid_t pid = tap_fork(10);

		if (pid == 0) {
			tap_require(become(1000, 1000, 0, NULL) == 0, "child: become uid 1000");
			tap_errno(fl_open_seg(fl_dev(), seg, FLOE_ACCESS_RO, 0, NULL), EACCES,
				  "uid 1000 may not open the orphaned 0600 segment: EACCES");
			tap_child_exit();
		}
		tap_wait(pid, 10000, "uid 1000");
	}
	tap_errno(fl_hold(dev, owner.port, me, 0), ENOENT,
		  "the dead owner cannot be held again: ENOENT");
	tap_call(fl_hold(dev, owner.port, me, FLOE_HOLD_RELEASE), "the holder releases");
	tap_errno(fl_open_seg(dev, seg, FLOE_ACCESS_RO, 0, NULL), ENOENT, "  ...the name is gone");
	tap_ok(!sys_exists(SYS_FLOE "/segments/%s", seg), "  ...and its sysfs directory");
	tap_eq(nr_holds(), holds0, "  ...and the hold");
	tap_errno(fl_hold(dev, owner.port, me, FLOE_HOLD_RELEASE), ENOENT,
		  "releasing again: ENOENT");
}

/* Owner dies, then the holder is SIGKILLed: the name goes with it. */
static void holder_dies_after(long long holds0)
{
	const char *seg = fl_name("orphan");
	struct kid holder = spawn(FLOE_ROLE_SUBSCRIBER, NULL, 0);
	struct kid owner = spawn(FLOE_ROLE_PUBLISHER, seg, holder.port);

	kill_kid(&owner);
	tap_ok(intact(seg, owner.port), "owner SIGKILLed: %s stays for the holder", seg);
	kill_kid(&holder);
	tap_errno(fl_open_seg(dev, seg, FLOE_ACCESS_RO, 0, NULL), ENOENT,
		  "holder SIGKILLed too: the name is gone");
	tap_eq(nr_holds(), holds0, "  ...and the hold");
}

/* The holder is SIGKILLed first: the owner's death then unlinks at once. */
static void holder_dies_first(long long holds0)
{
	const char *seg = fl_name("unheld");
	struct kid holder = spawn(FLOE_ROLE_SUBSCRIBER, NULL, 0);
	struct kid owner = spawn(FLOE_ROLE_PUBLISHER, seg, holder.port);

	kill_kid(&holder);
	tap_eq(holders(seg), 0, "holder SIGKILLed while the owner lives: 0 holders");
	tap_eq(nr_holds(), holds0, "  ...the hold is gone");
	kill_kid(&owner);
	tap_errno(fl_open_seg(dev, seg, FLOE_ACCESS_RO, 0, NULL), ENOENT,
		  "owner SIGKILLed then: its name goes at once");
}

/* Unlinking an orphan's segment by name works, and frees its hold. */
static void unlink_orphan(uint64_t me, long long holds0)
{
	const char *seg = fl_name("byname");
	struct kid owner = spawn(FLOE_ROLE_PUBLISHER, seg, me);

	kill_kid(&owner);
	tap_call(fl_unlink(dev, seg), "FLOE_IOC_SEG_UNLINK of a held orphan's segment");
	tap_eq(nr_holds(), holds0, "  ...its last name gone, so is its hold");
	tap_errno(fl_hold(dev, owner.port, me, FLOE_HOLD_RELEASE), ENOENT,
		  "  ...nothing left to release: ENOENT");
}

/* This process owns; it withdraws a hold; max_holders caps holders. */
static void owner_side(uint64_t me, long long holds0)
{
	const char *seg = fl_name("mine");
	struct kid h1 = spawn(FLOE_ROLE_SUBSCRIBER, NULL, 0);
	struct kid h2 = spawn(FLOE_ROLE_SUBSCRIBER, NULL, 0);
	char old[32];
	int fd = fl_create(dev, seg, PAGE, 0600, me, 0);

	tap_require(fd >= 0, "create %s owned by our port", seg);
	close(fd);
	tap_require(sys_read(old, sizeof(old), SYS_PARAM "/max_holders") == 0 &&
		    sys_write("1", SYS_PARAM "/max_holders") == 0, "max_holders=1 (was %s)", old);
	tap_call(fl_hold(dev, me, h1.port, 0), "hold for one holder");
	tap_call(fl_hold(dev, me, h1.port, 0), "  ...twice is one hold");
	tap_errno(fl_hold(dev, me, h2.port, 0), ENOSPC, "a second holder past max_holders: ENOSPC");
	tap_eq(holders(seg), 1, "  ...1 holder");
	tap_eq(nr_holds(), holds0 + 1, "  ...one hold in all");
	tap_ok(sys_write(old, SYS_PARAM "/max_holders") == 0, "max_holders back to %s", old);
	tap_call(fl_hold(dev, me, h2.port, 0), "a second holder");
	tap_eq(holders(seg), 2, "  ...2 holders");
	tap_call(fl_hold(dev, me, h1.port, FLOE_HOLD_RELEASE), "the owner withdraws one hold");
	tap_eq(holders(seg), 1, "  ...1 holder");
	tap_call(fl_unlink(dev, seg), "FLOE_IOC_SEG_UNLINK of a held segment of a live owner");
	tap_eq(nr_holds(), holds0 + 1, "  ...the live owner keeps its hold");
	kill_kid(&h1);
	kill_kid(&h2);
	tap_eq(nr_holds(), holds0, "both holders SIGKILLed: no hold left");
}

/* Bad input: the documented errno, and nothing changes. */
static void bad_input(uint64_t me, long long holds0)
{
	const char *seg = fl_name("bad");
	struct kid other = spawn(FLOE_ROLE_SUBSCRIBER, NULL, 0);
	struct floe_seg_hold h;
	int fd = fl_create(dev, seg, PAGE, 0600, me, 0);

	tap_require(fd >= 0, "create %s owned by our port", seg);
	close(fd);
	tap_call(fl_hold(dev, me, other.port, 0), "hold for another process's port");
	for (int i = 0; i < 7; i++) {
		memset(&h, 0, sizeof(h));
		h.owner_port = me;
		h.holder_port = other.port;
		h.flags = FLOE_HOLD_RELEASE;
		if (i < 4)
			h.reserved[i] = 1;
		else if (i == 4)
			h.pad = 1;
		else
			h.flags = i == 5 ? 2 : ~0U;
		tap_errno(ioctl(dev, FLOE_IOC_SEG_HOLD, &h), EINVAL,
			  "RELEASE with %s: EINVAL", i < 4 ? "reserved != 0" :
			  i == 4 ? "pad != 0" : "unknown flags");
	}
	tap_errno(fl_hold(dev, me, me, 0), EINVAL, "owner == holder: EINVAL");
	tap_errno(fl_hold(dev, other.port, me, 0), ENOENT,
		  "owner not on this file (another process's port): ENOENT");
	tap_errno(fl_hold(dev, 0, me, 0), ENOENT, "owner 0: ENOENT");
	tap_errno(fl_hold(dev, me, ~0ULL, 0), ESRCH, "holder unknown: ESRCH");
	tap_errno(fl_hold(dev, me, 0, 0), ESRCH, "holder 0: ESRCH");
	{
		int d2 = fl_dev();

		tap_errno(fl_hold(d2, me, other.port, FLOE_HOLD_RELEASE), EPERM,
			  "RELEASE from a file with neither port: EPERM");
		close(d2);
	}
	tap_errno(fl_hold(dev, me, ~0ULL, FLOE_HOLD_RELEASE), ENOENT,
		  "RELEASE of a hold that does not exist: ENOENT");
	tap_eq(holders(seg), 1, "nothing changed: 1 holder");
	tap_eq(nr_holds(), holds0 + 1, "  ...nr_holds");
	kill_kid(&other);
	tap_eq(nr_holds(), holds0, "the holder SIGKILLed: no hold left");
	tap_call(fl_unlink(dev, seg), "unlink %s", seg);
}

int main(void)
{
	long long ports0, segs0, holds0, bytes0;
	uint64_t me;

	tap_init(120);
	dev = fl_dev_or_bail();
	ports0 = sys_num(SYS_FLOE "/nr_ports");
	segs0 = sys_num(SYS_FLOE "/nr_segments");
	holds0 = nr_holds();
	bytes0 = sys_num(SYS_FLOE "/segment_bytes");
	tap_require(ports0 >= 0 && segs0 >= 0 && holds0 >= 0 && bytes0 >= 0,
		    "totals readable (nr_holds %lld)", holds0);
	tap_require(fl_register(dev, FLOE_ROLE_SUBSCRIBER, "hold/me", 0, &me, NULL) == 0,
		    "register our port");

	owner_dies(me, holds0);
	holder_dies_after(holds0);
	holder_dies_first(holds0);
	unlink_orphan(me, holds0);
	owner_side(me, holds0);
	bad_input(me, holds0);

	close(dev);
	tap_eq(sys_num(SYS_FLOE "/nr_ports"), ports0, "nr_ports back to %lld", ports0);
	tap_eq(sys_num(SYS_FLOE "/nr_segments"), segs0, "nr_segments back to %lld", segs0);
	tap_eq(nr_holds(), holds0, "nr_holds back to %lld", holds0);
	tap_eq(sys_num(SYS_FLOE "/segment_bytes"), bytes0, "segment_bytes back to %lld", bytes0);
	return tap_done();
}
