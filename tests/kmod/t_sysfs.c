// SPDX-License-Identifier: MIT
/*
 * /sys/kernel/floe: per port id/role/service/node/pid/state/created_ns, per
 * segment name/size/owner/mode/uid/gid/mappings (which follows mmap, fork,
 * munmap), the totals, read-only attributes, and cleanup on unregister.
 */
#define _GNU_SOURCE
#include "floe_test.h"

static long long clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int ro_attrs(const char *dir)
{
	char path[512];
	struct dirent *d;
	struct stat st;
	DIR *dh = opendir(dir);
	int ok = dh != NULL, n = 0;

	while (dh && (d = readdir(dh))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (stat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		n++;
		if (st.st_mode & 0222) {
			tap_diag("  %s is writable (%o)", path, (unsigned int)(st.st_mode & 0777));
			ok = 0;
		}
	}
	if (dh)
		closedir(dh);
	return ok && n > 0;
}

int main(void)
{
	long long ports0, segs0, bytes0, before[3], after[3], created;
	const clockid_t clocks[3] = { CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME };
	char buf[512], dir[256];
	struct floe_version v;
	uint64_t node = 0, pub = 0;
	uint32_t slot;
	const char *seg;
	void *m1, *m2;
	int dev, fd;

	tap_init(60);
	dev = fl_dev_or_bail();
	tap_require(fl_version(dev, &v) == 0, "VERSION");

	tap_eq(sys_num(SYS_FLOE "/abi_version"), FLOE_ABI_VERSION, "abi_version");
	tap_eq(sys_num(SYS_FLOE "/max_ports"), v.max_ports, "max_ports matches VERSION");
	tap_ok(sys_num(SYS_FLOE "/deaths") >= 0, "deaths readable");
	tap_ok(ro_attrs(SYS_FLOE), "top-level attributes are read-only");
	ports0 = sys_count(SYS_FLOE "/ports");
	segs0 = sys_count(SYS_FLOE "/segments");
	tap_eq(sys_num(SYS_FLOE "/nr_ports"), ports0, "nr_ports matches ports/");
	tap_eq(sys_num(SYS_FLOE "/nr_segments"), segs0, "nr_segments matches segments/");
	bytes0 = sys_num(SYS_FLOE "/segment_bytes");
	tap_require(ports0 >= 0 && segs0 >= 0 && bytes0 >= 0,
		    "ports/ and segments/ listable, segment_bytes readable");

	for (int i = 0; i < 3; i++)
		before[i] = clock_ns(clocks[i]);
	tap_require(fl_register(dev, FLOE_ROLE_NODE, "sysfs-node", 0, &node, NULL) == 0,
		    "register node");
	tap_require(fl_register(dev, FLOE_ROLE_PUBLISHER, "sysfs service/with spaces", node,
				&pub, &slot) == 0, "register publisher");
	for (int i = 0; i < 3; i++)
		after[i] = clock_ns(clocks[i]);
	tap_eq(sys_count(SYS_FLOE "/ports"), ports0 + 2, "two more port directories");
	tap_eq(sys_num(SYS_FLOE "/nr_ports"), ports0 + 2, "nr_ports + 2");

	snprintf(dir, sizeof(dir), SYS_FLOE "/ports/%llu", (unsigned long long)pub);
	tap_eq(sys_num("%s/id", dir), pub, "port id");
	sys_read(buf, sizeof(buf), "%s/role", dir);
	tap_ok(!strcmp(buf, "publisher"), "port role is 'publisher' (%s)", buf);
	sys_read(buf, sizeof(buf), "%s/service", dir);
	tap_ok(!strcmp(buf, "sysfs service/with spaces"), "port service (%s)", buf);
	tap_eq(sys_num("%s/node", dir), node, "port node is the node's id");
	tap_eq(sys_num("%s/pid", dir), getpid(), "port pid");
	sys_read(buf, sizeof(buf), "%s/state", dir);
	tap_ok(!strcmp(buf, "alive"), "port state is 'alive' (%s)", buf);
	created = sys_num("%s/created_ns", dir);
	{
		int in = 0;

		for (int i = 0; i < 3; i++)
			if (created >= before[i] && created <= after[i]) {
				in = 1;
				tap_diag("created_ns is clock %d (0 realtime, 1 monotonic, 2 boottime)", i);
			}
		tap_ok(in, "port created_ns (%lld) taken at registration", created);
	}
	tap_ok(ro_attrs(dir), "port attributes are read-only");
	snprintf(dir, sizeof(dir), SYS_FLOE "/ports/%llu", (unsigned long long)node);
	sys_read(buf, sizeof(buf), "%s/role", dir);
	tap_ok(!strcmp(buf, "node"), "node's role is 'node' (%s)", buf);
	tap_eq(sys_num("%s/node", dir), 0, "node's node is 0");

	seg = fl_name("sysfs");
	fd = fl_create(dev, seg, 3 * PAGE - 100, 0640, pub, 0);
	tap_require(fd >= 0, "create %s owned by the publisher", seg);
	snprintf(dir, sizeof(dir), SYS_FLOE "/segments/%s", seg);
	sys_read(buf, sizeof(buf), "%s/name", dir);
	tap_ok(!strcmp(buf, seg), "segment name");
	tap_eq(sys_num("%s/size", dir), 3 * PAGE, "segment size (rounded to pages)");
	tap_eq(sys_num("%s/owner", dir), pub, "segment owner");
	sys_read(buf, sizeof(buf), "%s/mode", dir);
	tap_ok(strtol(buf, NULL, 8) == 0640 && buf[0] == '0', "segment mode is octal 0640 (%s)", buf);
	tap_eq(sys_num("%s/uid", dir), 0, "segment uid");
	tap_eq(sys_num("%s/gid", dir), 0, "segment gid");
	tap_eq(sys_num("%s/mappings", dir), 0, "mappings 0");
	tap_ok(ro_attrs(dir), "segment attributes are read-only");
	tap_eq(sys_count(SYS_FLOE "/segments"), segs0 + 1, "one more segment directory");
	tap_eq(sys_num(SYS_FLOE "/segment_bytes"), bytes0 + 3 * PAGE, "segment_bytes + 3 pages");

	m1 = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	tap_eq(sys_num("%s/mappings", dir), 1, "mappings 1 after mmap");
	m2 = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, PAGE);
	tap_eq(sys_num("%s/mappings", dir), 2, "mappings 2 after a second mmap");
	{
		int p[2], q[2];
		char c;
		pid_t pid;

		if (pipe(p) || pipe(q))
			return 1;
		pid = fork();
		if (pid == 0) {
			/* Holds both inherited mappings until told. */
			close(p[0]);
			close(q[1]);
			alarm(10);
			if (write(p[1], "r", 1) != 1 || read(q[0], &c, 1) < 0)
				_exit(1);
			_exit(0);
		}
		close(p[1]);
		close(q[0]);
		if (read(p[0], &c, 1) != 1)
			tap_diag("child did not start");
		tap_eq(sys_num("%s/mappings", dir), 4, "mappings 4 with a forked child holding both");
		if (write(q[1], "g", 1) != 1)
			tap_diag("cannot release the child");
		waitpid(pid, NULL, 0);
		tap_eq(sys_num("%s/mappings", dir), 2, "mappings 2 after the child exits");
	}
	munmap(m2, PAGE);
	tap_eq(sys_num("%s/mappings", dir), 1, "mappings 1 after munmap");
	munmap(m1, 3 * PAGE);
	tap_eq(sys_num("%s/mappings", dir), 0, "mappings 0 after the last munmap");
	m1 = mmap(NULL, 3 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	munmap((char *)m1 + PAGE, PAGE);	/* split into two VMAs */
	tap_diag("after splitting one mapping in two, mappings = %lld",
		 sys_num("%s/mappings", dir));
	munmap(m1, 3 * PAGE);
	tap_eq(sys_num("%s/mappings", dir), 0, "mappings 0 after unmapping both halves");

	/* mremap keeps the count right (the VMA moves or grows, not doubles). */
	m1 = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	m2 = m1 == MAP_FAILED ? MAP_FAILED : mremap(m1, PAGE, 2 * PAGE, MREMAP_MAYMOVE);
	tap_ok(m2 != MAP_FAILED, "mremap a segment mapping to 2 pages");
	tap_eq(sys_num("%s/mappings", dir), 1, "mappings 1 after mremap");
	if (m2 != MAP_FAILED)
		munmap(m2, 2 * PAGE);
	tap_eq(sys_num("%s/mappings", dir), 0, "mappings 0 after unmapping it");

	/* Unregistering the owner port removes the segment's name and dir. */
	tap_call(fl_unregister(dev, pub), "unregister the publisher");
	tap_ok(!sys_exists(SYS_FLOE "/ports/%llu", (unsigned long long)pub),
	       "publisher's port directory gone");
	tap_ok(!sys_exists("%s", dir), "its segment's directory gone");
	tap_errno(fl_open_seg(dev, seg, FLOE_ACCESS_RO, 0, NULL), ENOENT, "its segment's name gone");
	tap_eq(sys_num(SYS_FLOE "/segment_bytes"), bytes0 + 3 * PAGE,
	       "segment_bytes still counts it while its fd is open");
	tap_eq(sys_num(SYS_FLOE "/nr_segments"), segs0 + 1, "  ...and so does nr_segments");
	close(fd);
	tap_eq(sys_num(SYS_FLOE "/nr_segments"), segs0, "nr_segments back after close");
	tap_eq(sys_num(SYS_FLOE "/segment_bytes"), bytes0, "segment_bytes back after close");
	tap_eq(sys_count(SYS_FLOE "/ports"), ports0 + 1, "one port directory left");
	close(dev);
	tap_eq(sys_count(SYS_FLOE "/ports"), ports0, "none after closing the file");
	tap_eq(sys_num(SYS_FLOE "/nr_ports"), ports0, "nr_ports back");
	tap_eq(sys_count(SYS_FLOE "/segments"), segs0, "segments back to %lld", segs0);
	return tap_done();
}
