// SPDX-License-Identifier: MIT
/*
 * SIGKILL of a port owner: the parent watches the liveness slot, sysfs, the
 * segment name, poll()/read() of its own /dev/floe fd and segment_bytes, and
 * measures how long each takes to reflect the death. Plus: a blocking
 * poll() is woken by a death, clean exits with ports count as deaths, files
 * without ports (or whose ports were unregistered) do not.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <sys/epoll.h>

#include "floe_test.h"

#define SEG_BYTES	(1 << 20)
#define BOUND_NS	1000000000LL	/* every effect within 1 s */

struct info {
	uint64_t node_id, port_id;
	uint32_t node_slot, port_slot;
	int ok;
};

static int readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

static uint64_t read_deaths(int fd)
{
	uint64_t d = ~0ULL;

	if (read(fd, &d, sizeof(d)) != sizeof(d))
		return ~0ULL;
	return d;
}

static uint64_t slot_id(const struct floe_live_header *h, uint32_t slot)
{
	return __atomic_load_n(&fl_slot(h, slot)->id, __ATOMIC_ACQUIRE);
}

/* Child: a node port and a publisher port owning a 1 MiB segment. */
static void port_owner(int wfd, const char *seg)
{
	struct info in = { 0 };
	int dev = fl_dev(), fd;
	void *m;

	alarm(30);
	if (dev < 0 ||
	    fl_register(dev, FLOE_ROLE_NODE, "death-node", 0, &in.node_id, &in.node_slot) ||
	    fl_register(dev, FLOE_ROLE_PUBLISHER, "death publisher", in.node_id,
			&in.port_id, &in.port_slot))
		goto out;
	fd = fl_create(dev, seg, SEG_BYTES, 0644, in.port_id, 0);
	if (fd < 0)
		goto out;
	m = mmap(NULL, SEG_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		goto out;
	memset(m, 0xab, SEG_BYTES);
	if (!fl_map_live(dev, NULL))
		goto out;
	in.ok = 1;
out:
	if (write(wfd, &in, sizeof(in)) != sizeof(in))
		_exit(1);
	for (;;)
		pause();
}

/* Run fn in a child and return whether it counted as a death. */
static void no_death_case(int dev, const struct floe_live_header *live,
			  int with_port, int unregister, const char *what)
{
	uint64_t d0 = read_deaths(dev);
	pid_t pid = tap_fork(10);

	if (pid == 0) {
		int d = fl_dev();
		uint64_t id = 0;

		tap_require(d >= 0, "child: open");
		if (with_port) {
			tap_require(fl_register(d, FLOE_ROLE_CLIENT, "nodeath", 0, &id, NULL) == 0,
				    "child: register");
			if (unregister)
				tap_require(fl_unregister(d, id) == 0, "child: unregister");
		}
		tap_require(fl_create(d, fl_name("nodeath"), PAGE, 0600, 0, 0) >= 0,
			    "child: create a segment");
		tap_child_exit();
	}
	tap_wait(pid, 10000, what);
	if (with_port && !unregister) {
		tap_ok(readable(dev, 1000), "%s: POLLIN", what);
		tap_eq(read_deaths(dev), d0 + 1, "%s: counts as one death", what);
	} else {
		tap_ok(!readable(dev, 50), "%s: no POLLIN", what);
		tap_eq(read_deaths(dev), d0, "%s: no death counted", what);
	}
	tap_eq(live->deaths, read_deaths(dev), "%s: table deaths == read() value", what);
}

int main(void)
{
	const struct floe_live_header *live;
	long long t0, t_slot = 0, t_node = 0, t_sysfs = 0, t_name = 0, t_poll = 0,
		  t_bytes = 0, now;
	long long s0, s1;
	uint64_t d0, regs0;
	const char *seg;
	struct info in;
	int dev, p[2], rofd;
	void *rom;
	pid_t pid;

	tap_init(60);
	dev = fl_dev_or_bail();
	live = fl_map_live(dev, NULL);
	tap_require(live != NULL, "map the liveness table");
	d0 = read_deaths(dev);
	tap_ok(d0 != ~0ULL, "read() of 8 bytes gives deaths (%llu)", (unsigned long long)d0);
	tap_ok(!readable(dev, 0), "no POLLIN after read()");
	{
		uint64_t small;

		tap_errno(read(dev, &small, 4), EINVAL, "read() of 4 bytes: EINVAL");
	}
	s0 = sys_num(SYS_FLOE "/segment_bytes");
	tap_ok(s0 >= 0, "segment_bytes readable (%lld)", s0);
	regs0 = live->registrations;

	seg = fl_name("death");
	if (pipe(p))
		return 1;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		port_owner(p[1], seg);
	}
	close(p[1]);
	tap_require(readable(p[0], 10000) && read(p[0], &in, sizeof(in)) == sizeof(in) && in.ok,
		    "child registered node + publisher, created and mapped %s", seg);
	tap_diag("node %llu slot %u, publisher %llu slot %u",
		 (unsigned long long)in.node_id, in.node_slot,
		 (unsigned long long)in.port_id, in.port_slot);

	tap_eq(slot_id(live, in.port_slot), in.port_id, "publisher slot holds its id");
	tap_eq(slot_id(live, in.node_slot), in.node_id, "node slot holds its id");
	tap_eq(fl_slot(live, in.port_slot)->pid, pid, "slot pid is the child's");
	tap_eq(fl_slot(live, in.port_slot)->role, FLOE_ROLE_PUBLISHER, "slot role");
	tap_eq(fl_slot(live, in.port_slot)->node_id, in.node_id, "slot node_id");
	tap_eq(live->registrations - regs0, 2, "registrations went up by 2");
	tap_ok(sys_exists(SYS_FLOE "/ports/%llu", (unsigned long long)in.port_id),
	       "sysfs ports/%llu exists", (unsigned long long)in.port_id);
	tap_ok(sys_exists(SYS_FLOE "/segments/%s", seg), "sysfs segments/%s exists", seg);
	tap_eq(sys_num(SYS_FLOE "/segments/%s/owner", seg), in.port_id, "segment owner is the port");
	s1 = sys_num(SYS_FLOE "/segment_bytes");
	tap_eq(s1 - s0, SEG_BYTES, "segment_bytes up by 1 MiB");

	rofd = fl_open_seg(dev, seg, FLOE_ACCESS_RO, 0, NULL);
	tap_require(rofd >= 0, "parent opens the segment RO");
	rom = mmap(NULL, SEG_BYTES, PROT_READ, MAP_SHARED, rofd, 0);
	tap_require(rom != MAP_FAILED, "parent maps it");

	t0 = tap_now_ns();
	kill(pid, SIGKILL);
	for (;;) {
		now = tap_now_ns();
		if (!t_slot && slot_id(live, in.port_slot) == 0)
			t_slot = now - t0;
		if (!t_node && slot_id(live, in.node_slot) == 0)
			t_node = now - t0;
		if (!t_sysfs && !sys_exists(SYS_FLOE "/ports/%llu", (unsigned long long)in.port_id))
			t_sysfs = now - t0;
		if (!t_name) {
			int f = fl_open_seg(dev, seg, FLOE_ACCESS_RO, 0, NULL);

			if (f >= 0)
				close(f);
			else if (errno == ENOENT)
				t_name = now - t0;
		}
		if (!t_poll && readable(dev, 0))
			t_poll = now - t0;
		if ((t_slot && t_node && t_sysfs && t_name && t_poll) || now - t0 > 3 * BOUND_NS)
			break;
		readable(dev, 1);	/* sleep up to 1 ms, or until the death */
	}
	waitpid(pid, NULL, 0);
	tap_diag("death noticed in %lld us (liveness slot cleared)", t_slot / 1000);
	tap_diag("node slot %lld us, sysfs port dir %lld us, name %lld us, POLLIN %lld us",
		 t_node / 1000, t_sysfs / 1000, t_name / 1000, t_poll / 1000);
	tap_ok(t_slot && t_slot < BOUND_NS, "publisher slot id cleared within 1 s");
	tap_ok(t_node && t_node < BOUND_NS, "node slot id cleared within 1 s");
	tap_ok(t_sysfs && t_sysfs < BOUND_NS, "sysfs port dir gone within 1 s");
	tap_ok(t_name && t_name < BOUND_NS, "segment name gone (ENOENT) within 1 s");
	tap_ok(t_poll && t_poll < BOUND_NS, "POLLIN on the parent's fd within 1 s");
	tap_ok(!sys_exists(SYS_FLOE "/ports/%llu", (unsigned long long)in.node_id),
	       "sysfs node port dir gone");
	tap_ok(!sys_exists(SYS_FLOE "/segments/%s", seg), "sysfs segment dir gone");
	tap_eq(read_deaths(dev), d0 + 1, "read() gives deaths + 1 (one file died)");
	tap_eq(live->deaths, d0 + 1, "table header deaths + 1");
	tap_ok(!readable(dev, 0), "no POLLIN once read");

	tap_eq(sys_num(SYS_FLOE "/segment_bytes") - s0, SEG_BYTES,
	       "segment_bytes still counts the segment while the parent maps it");
	tap_ok(((unsigned char *)rom)[SEG_BYTES - 1] == 0xab,
	       "parent's mapping still reads the dead child's data");
	t0 = tap_now_ns();
	munmap(rom, SEG_BYTES);
	close(rofd);
	while (sys_num(SYS_FLOE "/segment_bytes") != s0 && tap_now_ns() - t0 < 3 * BOUND_NS)
		usleep(1000);
	t_bytes = tap_now_ns() - t0;
	tap_eq(sys_num(SYS_FLOE "/segment_bytes"), s0,
	       "segment_bytes back to its previous value after the last munmap");
	tap_diag("segment_bytes back in %lld us after munmap+close", t_bytes / 1000);
	tap_ok(t_bytes < BOUND_NS, "  ...within 1 s");

	/* A blocked poll() is woken by a death (a clean exit with a port). */
	{
		struct pollfd pf = { .fd = dev, .events = POLLIN };
		int r;

		d0 = read_deaths(dev);
		pid = fork();
		if (pid == 0) {
			int d = fl_dev();

			if (d < 0 || fl_register(d, FLOE_ROLE_LISTENER, "waker", 0, NULL, NULL))
				_exit(1);
			usleep(200 * 1000);
			_exit(0);
		}
		t0 = tap_now_ns();
		r = poll(&pf, 1, 5000);
		now = tap_now_ns() - t0;
		tap_ok(r == 1 && (pf.revents & POLLIN), "blocking poll() woken by a death");
		tap_diag("poll returned after %lld us (child exits after ~200000 us)", now / 1000);
		tap_ok(now < 200 * 1000000LL + BOUND_NS, "  ...within 1 s of the exit");
		tap_eq(read_deaths(dev), d0 + 1, "  ...deaths + 1");
		waitpid(pid, NULL, 0);
	}

	/* epoll (level-triggered) reports a death too. */
	{
		struct epoll_event ev = { .events = EPOLLIN }, got;
		int ep = epoll_create1(EPOLL_CLOEXEC), r;

		d0 = read_deaths(dev);
		tap_ok(ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, dev, &ev) == 0,
		       "epoll_ctl ADD of the /dev/floe fd");
		tap_eq(epoll_wait(ep, &got, 1, 0), 0, "epoll: nothing pending");
		pid = fork();
		if (pid == 0) {
			int d = fl_dev();

			if (d < 0 || fl_register(d, FLOE_ROLE_SERVER, "epoll", 0, NULL, NULL))
				_exit(1);
			usleep(100 * 1000);
			_exit(0);
		}
		r = epoll_wait(ep, &got, 1, 5000);
		tap_ok(r == 1 && (got.events & EPOLLIN), "epoll_wait woken by a death");
		tap_eq(read_deaths(dev), d0 + 1, "  ...deaths + 1");
		tap_eq(epoll_wait(ep, &got, 1, 0), 0, "  ...and nothing pending once read");
		waitpid(pid, NULL, 0);
		close(ep);
	}

	/* A file opened after a death has nothing to report. */
	{
		int d2 = fl_dev();

		tap_ok(d2 >= 0 && !readable(d2, 0), "a new /dev/floe fd has no POLLIN");
		close(d2);
	}

	no_death_case(dev, live, 0, 0, "exit without ports");
	no_death_case(dev, live, 1, 1, "exit after unregistering");
	no_death_case(dev, live, 1, 0, "clean exit with a port");

	close(dev);
	return tap_done();
}
