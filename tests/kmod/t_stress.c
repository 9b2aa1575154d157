// SPDX-License-Identifier: MIT
/*
 * Concurrency: workers create/open/map/unlink a small pool of names,
 * register/unregister ports and reopen /dev/floe, while a reader walks
 * sysfs and the parent SIGKILLs and respawns workers. Every errno must be
 * one the ABI allows; afterwards the module must be back to its starting
 * state (counts, bytes, slots). Run on the debug kernel, races show up as
 * KASAN/lockdep reports on the console. FLOE_STRESS_SECS (default 3).
 */
#define _GNU_SOURCE
#include "floe_test.h"

#define WORKERS	3
#define NAMES	6

struct shared {
	unsigned long ops, kills, sysfs_reads;
	int bad;
	char what[160];
};

static struct shared *sh;

static void bad(const char *op, int err)
{
	if (__atomic_fetch_add(&sh->bad, 1, __ATOMIC_RELAXED) == 0)
		snprintf(sh->what, sizeof(sh->what), "%s: unexpected %s", op, strerror(err));
}

static unsigned int rnd(unsigned int *s)
{
	*s = *s * 1103515245 + 12345;
	return *s >> 8;
}

static void name_of(char *buf, unsigned int i)
{
	snprintf(buf, FLOE_NAME_MAX, "stress-%u", i % NAMES);
}

static void touch(int fd, int prot, size_t len)
{
	volatile unsigned char *m = mmap(NULL, len, prot, MAP_SHARED, fd, 0);

	if (m == MAP_FAILED) {
		bad("mmap", errno);
		return;
	}
	if (prot & PROT_WRITE)
		m[len - 1] = 1;
	(void)m[0];
	munmap((void *)m, len);
}

static void worker(unsigned int seed)
{
	uint64_t ports[8] = { 0 };
	char name[FLOE_NAME_MAX];
	int dev = fl_dev();

	for (;;) {
		unsigned int op = rnd(&seed) % 10, i = rnd(&seed);
		uint64_t size = 0;
		int fd;

		if (dev < 0) {
			bad("open /dev/floe", errno);
			_exit(1);
		}
		name_of(name, i);
		switch (op) {
		case 0:
		case 1: {
			uint64_t owner = 0;
			uint32_t flags = 0;

			if (i % 3 == 1)
				owner = ports[i % 8];
			else if (i % 3 == 2)
				flags = FLOE_SEG_PERSIST;
			fd = fl_create(dev, name, (1 + i % 4) * PAGE, 0600, owner, flags);
			if (fd >= 0) {
				touch(fd, PROT_READ | PROT_WRITE, PAGE);
				close(fd);
			} else if (errno != EEXIST) {
				bad("create", errno);
			}
			break;
		}
		case 2:
		case 3:
			fd = fl_open_seg(dev, name, i & 1 ? FLOE_ACCESS_RW : FLOE_ACCESS_RO, 0, &size);
			if (fd >= 0) {
				touch(fd, i & 1 ? PROT_READ | PROT_WRITE : PROT_READ, size);
				close(fd);
			} else if (errno != ENOENT) {
				bad("open", errno);
			}
			break;
		case 4:
			if (fl_unlink(dev, name) && errno != ENOENT)
				bad("unlink", errno);
			break;
		case 5:
		case 6:
			if (ports[i % 8]) {
				if (fl_unregister(dev, ports[i % 8]))
					bad("unregister", errno);
				ports[i % 8] = 0;
			} else if (fl_register(dev, 1 + i % FLOE_ROLE_MAX, "stress", 0,
					       &ports[i % 8], NULL)) {
				bad("register", errno);
			}
			break;
		case 7:
			if (i % 16 == 0) {
				close(dev);
				dev = fl_dev();
				memset(ports, 0, sizeof(ports));
			}
			break;
		default: {
			struct floe_version v;

			if (fl_version(dev, &v))
				bad("version", errno);
			break;
		}
		}
		__atomic_fetch_add(&sh->ops, 1, __ATOMIC_RELAXED);
	}
}

static void sysfs_reader(void)
{
	static const char *seg_attrs[] = { "name", "size", "owner", "mode", "uid", "gid", "mappings" };
	static const char *port_attrs[] = { "id", "role", "service", "node", "pid", "state", "created_ns" };
	char buf[300];

	for (;;) {
		const char *dirs[2] = { SYS_FLOE "/segments", SYS_FLOE "/ports" };

		for (int k = 0; k < 2; k++) {
			DIR *d = opendir(dirs[k]);
			struct dirent *e;

			while (d && (e = readdir(d))) {
				if (e->d_name[0] == '.')
					continue;
				for (int a = 0; a < 7; a++)
					sys_read(buf, sizeof(buf), "%s/%s/%s", dirs[k], e->d_name,
						 k ? port_attrs[a] : seg_attrs[a]);
			}
			if (d)
				closedir(d);
		}
		__atomic_fetch_add(&sh->sysfs_reads, 1, __ATOMIC_RELAXED);
	}
}

static pid_t spawn(unsigned int seed)
{
	pid_t pid = fork();

	if (pid == 0) {
		alarm(120);
		if (seed)
			worker(seed);
		sysfs_reader();
	}
	return pid;
}

int main(void)
{
	const char *env = getenv("FLOE_STRESS_SECS");
	long long secs = env ? atoll(env) : 3, deadline;
	long long segs0, bytes0, ports0;
	pid_t w[WORKERS], reader;
	unsigned int seed = (unsigned int)getpid();
	const struct floe_live_header *live;
	int dev, ok;

	tap_init(180);
	dev = fl_dev_or_bail();
	live = fl_map_live(dev, NULL);
	tap_require(live != NULL, "map the liveness table");
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	tap_require(sh != MAP_FAILED, "shared counters");
	segs0 = sys_num(SYS_FLOE "/nr_segments");
	bytes0 = sys_num(SYS_FLOE "/segment_bytes");
	ports0 = sys_num(SYS_FLOE "/nr_ports");
	tap_require(segs0 >= 0 && bytes0 >= 0 && ports0 >= 0, "counters readable");

	for (int i = 0; i < WORKERS; i++)
		w[i] = spawn(rnd(&seed) | 1);
	reader = spawn(0);
	deadline = tap_now_ns() + secs * 1000000000LL;
	while (tap_now_ns() < deadline) {
		int i = rnd(&seed) % WORKERS;

		usleep(20000 + rnd(&seed) % 30000);
		kill(w[i], SIGKILL);
		waitpid(w[i], NULL, 0);
		sh->kills++;
		w[i] = spawn(rnd(&seed) | 1);
	}
	for (int i = 0; i < WORKERS; i++) {
		kill(w[i], SIGKILL);
		waitpid(w[i], NULL, 0);
	}
	kill(reader, SIGKILL);
	waitpid(reader, NULL, 0);

	tap_diag("%lu operations, %lu kills, %lu sysfs sweeps in %lld s", sh->ops, sh->kills,
		 sh->sysfs_reads, secs);
	tap_ok(sh->ops > 100, "workers made progress");
	if (!tap_eq(sh->bad, 0, "no unexpected errno"))
		tap_diag("  first: %s", sh->what);

	/* Only persistent names can outlive their (dead) creators. */
	for (int i = 0; i < NAMES; i++) {
		char name[FLOE_NAME_MAX];

		name_of(name, i);
		fl_unlink(dev, name);
	}
	tap_eq(sys_count(SYS_FLOE "/segments"), segs0, "no segment directories left");
	tap_eq(sys_num(SYS_FLOE "/nr_segments"), segs0, "nr_segments back to %lld", segs0);
	tap_eq(sys_num(SYS_FLOE "/segment_bytes"), bytes0, "segment_bytes back to %lld", bytes0);
	tap_eq(sys_num(SYS_FLOE "/nr_ports"), ports0, "nr_ports back to %lld", ports0);
	tap_eq(sys_count(SYS_FLOE "/ports"), ports0, "no port directories left");
	ok = 1;
	for (uint32_t s = 0; s < live->max_ports; s++)
		if (fl_slot(live, s)->id)
			ok = 0;
	tap_ok(ok || ports0, "every liveness slot is clear");
	tap_ok(live->deaths > 0, "deaths were counted (%llu)", (unsigned long long)live->deaths);
	close(dev);
	return tap_done();
}
