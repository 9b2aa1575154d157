// SPDX-License-Identifier: MIT
/*
 * Shared futexes on a segment: a child blocks in FUTEX_WAIT on a word of its
 * own mapping (RW, then RO), the parent wakes it with FUTEX_WAKE through its
 * mapping at another address. Timeouts everywhere so a failure cannot hang.
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <stdint.h>

#include "floe_test.h"

static long futex(uint32_t *uaddr, int op, uint32_t val,
		  const struct timespec *ts)
{
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

/*
 * Word layout in the segment: [0] the futex, [1] child's "about to wait",
 * [2] child's result (1 woken, 2 timed out, 3 other error).
 */
static void one_round(int dev, const char *name, uint32_t *map, uint32_t access)
{
	pid_t pid;

	__atomic_store_n(&map[0], 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&map[1], 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&map[2], 0, __ATOMIC_SEQ_CST);

	pid = tap_fork(20);
	if (pid == 0) {
		int cdev = fl_dev(), sfd;
		struct timespec ts = { .tv_sec = 10 };
		uint32_t *m;
		long r;

		sfd = fl_open_seg(cdev, name, access, 0, NULL);
		tap_require(sfd >= 0, "child: open %s", access == FLOE_ACCESS_RW ? "RW" : "RO");
		m = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, sfd, 0);
		tap_require(m != MAP_FAILED, "child: mmap PROT_READ");
		tap_ok((void *)m != (void *)map, "child: mapping at its own address");
		/* The result word is written by the parent on our behalf below:
		 * a RO child cannot write; it reports through its exit code. */
		r = futex(&m[0], FUTEX_WAIT, 0, &ts);
		if (r == 0)
			_exit(tap_failed ? 1 : 10);
		_exit(errno == ETIMEDOUT ? 11 : 12);
	}
	(void)dev;

	/* Wake until one waiter is woken: proves the child was asleep on the
	 * very same futex key (inode + offset), not merely racing. */
	{
		long long deadline = tap_now_ns() + 8000000000LL;
		long woken = 0;
		int status = 0;

		while (tap_now_ns() < deadline) {
			woken = futex(&map[0], FUTEX_WAKE, 1, NULL);
			if (woken != 0)
				break;
			usleep(1000);
		}
		tap_eq(woken, 1, "FUTEX_WAKE through the parent's mapping woke 1 waiter (%s child)",
		       access == FLOE_ACCESS_RW ? "RW" : "RO");
		deadline = tap_now_ns() + 12000000000LL;
		while (waitpid(pid, &status, WNOHANG) == 0) {
			if (tap_now_ns() > deadline) {
				kill(pid, SIGKILL);
				waitpid(pid, &status, 0);
				break;
			}
			usleep(1000);
		}
		tap_flush();
		if (!tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 10,
			    "child's FUTEX_WAIT returned 0 (woken), not a timeout")) {
			if (WIFEXITED(status))
				tap_diag("  child exit %d (11 timeout, 12 error, 1 check failed)",
					 WEXITSTATUS(status));
			else
				tap_diag("  child killed by signal %d", WTERMSIG(status));
		}
	}
}

int main(void)
{
	struct timespec ts = { .tv_nsec = 20 * 1000 * 1000 };
	const char *name;
	uint32_t *map;
	int dev, fd;
	long long t0;

	tap_init(60);
	dev = fl_dev_or_bail();
	name = fl_name("futex");
	fd = fl_create(dev, name, PAGE, 0644, 0, 0);
	tap_require(fd >= 0, "create %s", name);
	map = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	tap_require(map != MAP_FAILED, "mmap RW");

	t0 = tap_now_ns();
	tap_errno(futex(&map[0], FUTEX_WAIT, 0, &ts), ETIMEDOUT,
		  "FUTEX_WAIT with nobody waking times out");
	tap_ok(tap_now_ns() - t0 >= 15 * 1000 * 1000, "  ...after the timeout");
	tap_errno(futex(&map[0], FUTEX_WAIT, 1, &ts), EAGAIN,
		  "FUTEX_WAIT on a changed value: EAGAIN");
	tap_eq(futex(&map[0], FUTEX_WAKE, 1, NULL), 0, "FUTEX_WAKE with no waiter wakes 0");

	one_round(dev, name, map, FLOE_ACCESS_RW);
	one_round(dev, name, map, FLOE_ACCESS_RO);

	munmap(map, PAGE);
	close(fd);
	close(dev);
	return tap_done();
}
