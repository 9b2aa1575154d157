// SPDX-License-Identifier: MIT
/*
 * Unload/reload cycles of floe.ko (run last; leaves the module loaded):
 * rmmod is refused while a /dev/floe fd, a liveness mapping, a segment fd or
 * a segment mapping exists; after everything is released it succeeds and
 * removes /dev/floe and /sys/kernel/floe; a reload starts clean.
 * Module path: $FLOE_KO, default /modules/floe.ko.
 */
#define _GNU_SOURCE
#include "floe_test.h"

static const char *ko;

static int rmmod(void)
{
	return syscall(SYS_delete_module, "floe", O_NONBLOCK);
}

static int insmod(void)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -1;
	r = syscall(SYS_finit_module, fd, "", 0);
	close(fd);
	return r;
}

/* devtmpfs removes the node asynchronously-ish: give it a moment. */
static int wait_gone(const char *path, int want_gone)
{
	for (int i = 0; i < 1000; i++) {
		if ((access(path, F_OK) != 0) == want_gone)
			return 1;
		usleep(1000);
	}
	return 0;
}

static void use_once(int cycle)
{
	int dev = fl_dev(), fd;
	uint64_t id = 0;

	if (!tap_ok(dev >= 0, "cycle %d: /dev/floe opens", cycle))
		return;
	tap_ok(fl_register(dev, FLOE_ROLE_NODE, "cycle", 0, &id, NULL) == 0 && id != 0,
	       "cycle %d: register a port", cycle);
	fd = fl_create(dev, "modcycle", PAGE, 0600, id, 0);
	tap_ok(fd >= 0, "cycle %d: create a segment", cycle);
	close(fd);
	/* A persistent name outlives the file; rmmod must free it. */
	fd = fl_create(dev, "modcycle-persist", 3 * PAGE, 0600, 0, FLOE_SEG_PERSIST);
	tap_ok(fd >= 0, "cycle %d: create a persistent segment", cycle);
	close(fd);
	close(dev);
	tap_ok(sys_exists(SYS_FLOE "/segments/modcycle-persist"),
	       "cycle %d: it stays after its file closed", cycle);
}

int main(void)
{
	const struct floe_live_header *live;
	int dev, fd, r;
	size_t len = 0;
	void *m;

	tap_init(120);
	ko = getenv("FLOE_KO") ? getenv("FLOE_KO") : "/modules/floe.ko";
	tap_require(access(ko, R_OK) == 0, "module file %s readable", ko);
	dev = fl_dev_or_bail();

	tap_errno(insmod(), EEXIST, "insmod while loaded: EEXIST");

	/* Each kind of reference pins the module. */
	tap_errno(rmmod(), EAGAIN, "rmmod with /dev/floe open: EAGAIN (busy)");
	live = fl_map_live(dev, &len);
	tap_require(live != NULL, "map the liveness table");
	fd = fl_create(dev, "pin", PAGE, 0600, 0, 0);
	tap_require(fd >= 0, "create a segment");
	m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	tap_require(m != MAP_FAILED, "map it");
	close(dev);
	tap_errno(rmmod(), EAGAIN, "rmmod with the liveness table mapped: EAGAIN");
	munmap((void *)live, len);
	tap_errno(rmmod(), EAGAIN, "rmmod with a segment fd and mapping: EAGAIN");
	close(fd);
	tap_errno(rmmod(), EAGAIN, "rmmod with a segment mapping only: EAGAIN");
	memset(m, 0x11, PAGE);
	munmap(m, PAGE);

	for (int cycle = 1; cycle <= 5; cycle++) {
		r = rmmod();
		if (!tap_ok(r == 0, "cycle %d: rmmod", cycle)) {
			tap_diag("  %s", strerror(errno));
			break;
		}
		tap_ok(wait_gone(FLOE_DEVICE_PATH, 1), "cycle %d: /dev/floe gone", cycle);
		tap_ok(access(SYS_FLOE, F_OK) != 0, "cycle %d: %s gone", cycle, SYS_FLOE);
		r = insmod();
		if (!tap_ok(r == 0, "cycle %d: insmod", cycle)) {
			tap_diag("  %s", strerror(errno));
			break;
		}
		tap_ok(wait_gone(FLOE_DEVICE_PATH, 0), "cycle %d: /dev/floe back", cycle);
		tap_eq(sys_num(SYS_FLOE "/segment_bytes"), 0, "cycle %d: segment_bytes 0", cycle);
		tap_eq(sys_count(SYS_FLOE "/ports"), 0, "cycle %d: no ports", cycle);
		tap_eq(sys_count(SYS_FLOE "/segments"), 0, "cycle %d: no segments", cycle);
		tap_eq(sys_num(SYS_FLOE "/deaths"), 0, "cycle %d: deaths 0", cycle);
		use_once(cycle);
	}
	/* Leave it loaded for the runner's final rmmod. */
	if (access(FLOE_DEVICE_PATH, F_OK) != 0)
		tap_ok(insmod() == 0, "reload for the runner");
	/* and as clean as found: the last persistent name goes by unlink */
	dev = fl_dev();
	tap_ok(dev >= 0 && fl_unlink(dev, "modcycle-persist") == 0 &&
	       !sys_exists(SYS_FLOE "/segments/modcycle-persist"),
	       "unlink frees the last cycle's persistent segment");
	if (dev >= 0)
		close(dev);
	return tap_done();
}
