// SPDX-License-Identifier: MIT
/*
 * Port ids are never 0 and never reused (register/unregister cycles, across
 * files); slots are published and cleared; a full table gives ENOSPC. The
 * liveness table header is right and its mapping can never become writable.
 */
#define _GNU_SOURCE
#include "floe_test.h"

#define CYCLES	200

static long poke_mem(const void *addr)
{
	int fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	unsigned char v = 0x55;
	long r;

	if (fd < 0)
		return -2;
	r = pwrite(fd, &v, 1, (off_t)(uintptr_t)addr);
	close(fd);
	return r;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(void)
{
	static uint64_t ids[3 * CYCLES + 65536];
	const struct floe_live_header *live;
	struct floe_version v;
	int dev, nids = 0, ok;
	uint64_t regs0, last = 0;
	size_t len;

	tap_init(120);
	dev = fl_dev_or_bail();
	tap_require(fl_version(dev, &v) == 0, "VERSION");
	live = fl_map_live(dev, &len);
	tap_require(live != NULL, "mmap the liveness table PROT_READ MAP_SHARED");

	/* Header. */
	tap_eq(live->magic, FLOE_LIVE_MAGIC, "header magic");
	tap_eq(live->abi, FLOE_ABI_VERSION, "header abi");
	tap_eq(live->max_ports, v.max_ports, "header max_ports == VERSION max_ports");
	tap_eq(live->slot_size, sizeof(struct floe_live_slot), "header slot_size");
	tap_ok(len >= sizeof(*live) + (size_t)live->max_ports * live->slot_size,
	       "live_size covers every slot");
	ok = 1;
	for (int i = 0; i < 4; i++)
		ok &= live->reserved[i] == 0;
	tap_ok(ok, "header reserved words are zero");

	/* The mapping can never be writable. */
	tap_errno(mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, dev, 0), EACCES,
		  "mmap PROT_READ|PROT_WRITE MAP_SHARED: EACCES");
	tap_errno(mmap(NULL, len, PROT_WRITE, MAP_SHARED, dev, 0), EACCES,
		  "mmap PROT_WRITE MAP_SHARED: EACCES");
	{
		void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, dev, 0);

		tap_ok(p == MAP_FAILED, "mmap PROT_READ|PROT_WRITE MAP_PRIVATE fails");
		if (p != MAP_FAILED)
			munmap(p, len);
	}
	tap_errno(mprotect((void *)live, len, PROT_READ | PROT_WRITE), EACCES,
		  "mprotect(PROT_WRITE) of the table: EACCES");
	tap_ok(poke_mem(live) < 0 && live->magic == FLOE_LIVE_MAGIC,
	       "write through /proc/self/mem fails");
	{
		void *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, dev, 0);

		if (p != MAP_FAILED) {
			tap_ok(mprotect(p, len, PROT_READ | PROT_WRITE) < 0,
			       "MAP_PRIVATE mapping cannot be mprotect()ed writable");
			tap_ok(poke_mem(p) < 0 && live->magic == FLOE_LIVE_MAGIC,
			       "MAP_PRIVATE mapping: /proc/self/mem write fails or stays private");
			munmap(p, len);
		} else {
			tap_ok(1, "MAP_PRIVATE read-only mapping refused (%s)", strerror(errno));
		}
	}
	{
		pid_t pid = fork();
		int st = 0;

		if (pid == 0) {
			alarm(10);
			((volatile uint32_t *)live)[0] = 0;
			_exit(0);
		}
		waitpid(pid, &st, 0);
		tap_ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "a store into the table: SIGSEGV");
	}
	tap_ok(mmap(NULL, len + PAGE, PROT_READ, MAP_SHARED, dev, 0) == MAP_FAILED,
	       "mapping more than live_size fails");
	tap_ok(mmap(NULL, PAGE, PROT_READ, MAP_SHARED, dev, len) == MAP_FAILED,
	       "mapping at offset live_size fails");
	{
		/* A second file's mapping shows the same table. */
		int d2 = fl_dev();
		const struct floe_live_header *l2 = fl_map_live(d2, NULL);
		uint64_t id = 0;
		uint32_t slot = 0;

		tap_ok(l2 && fl_register(dev, FLOE_ROLE_READER, "probe", 0, &id, &slot) == 0 &&
			       fl_slot(l2, slot)->id == id,
		       "another file's mapping sees a new port's slot");
		fl_unregister(dev, id);
		tap_ok(l2 && fl_slot(l2, slot)->id == 0, "  ...and its clearing");
		close(d2);
	}

	/* Register/unregister cycles: ids increase, never 0, never reused. */
	regs0 = live->registrations;
	ok = 1;
	for (int i = 0; i < CYCLES; i++) {
		uint64_t id = 0;
		uint32_t slot = 0;

		if (fl_register(dev, 1 + i % FLOE_ROLE_MAX, "cycle", 0, &id, &slot)) {
			tap_diag("register %d: %s", i, strerror(errno));
			ok = 0;
			break;
		}
		ids[nids++] = id;
		if (id == 0 || id <= last || slot >= live->max_ports ||
		    fl_slot(live, slot)->id != id || fl_slot(live, slot)->role != 1U + i % FLOE_ROLE_MAX ||
		    fl_slot(live, slot)->pid != getpid()) {
			tap_diag("cycle %d: id %llu (last %llu) slot %u slot.id %llu", i,
				 (unsigned long long)id, (unsigned long long)last, slot,
				 (unsigned long long)fl_slot(live, slot)->id);
			ok = 0;
		}
		last = id;
		if (fl_unregister(dev, id) || fl_slot(live, slot)->id != 0) {
			tap_diag("cycle %d: unregister or slot clear failed", i);
			ok = 0;
		}
	}
	tap_ok(ok, "%d register/unregister cycles: ids increase, slots set and cleared", CYCLES);
	tap_eq(live->registrations - regs0, CYCLES, "registrations counted every cycle");

	/* Across files, including files closed with ports registered. */
	ok = 1;
	for (int i = 0; i < CYCLES; i++) {
		int d = fl_dev();
		uint64_t a = 0, b = 0;

		if (d < 0 || fl_register(d, FLOE_ROLE_NODE, "f", 0, &a, NULL) ||
		    fl_register(d, FLOE_ROLE_CLIENT, "f", a, &b, NULL)) {
			ok = 0;
			close(d);
			break;
		}
		ids[nids++] = a;
		ids[nids++] = b;
		close(d);
	}
	tap_ok(ok, "%d files each registering 2 ports and closing", CYCLES);

	/* Fill the table: ENOSPC, then every slot frees up again. */
	if (v.max_ports <= 65536) {
		int d = fl_dev(), n = 0, ports_before = sys_count(SYS_FLOE "/ports");
		uint64_t id;
		uint32_t slot;

		while (n < (int)v.max_ports + 1 &&
		       fl_register(d, FLOE_ROLE_SUBSCRIBER, "fill", 0, &id, &slot) == 0) {
			ids[nids++] = id;
			n++;
		}
		tap_errno(fl_register(d, FLOE_ROLE_SUBSCRIBER, "fill", 0, &id, &slot), ENOSPC,
			  "table full: ENOSPC");
		tap_diag("registered %d ports (max_ports %u; %d were already registered)", n,
			 v.max_ports, ports_before);
		tap_eq(n + ports_before, v.max_ports, "exactly max_ports ports fit");
		close(d);
		ok = 1;
		for (uint32_t s = 0; s < live->max_ports; s++)
			if (fl_slot(live, s)->id) {
				ok = 0;
				tap_diag("slot %u still holds %llu", s,
					 (unsigned long long)fl_slot(live, s)->id);
				break;
			}
		tap_ok(ok || ports_before, "closing the file cleared every slot");
		d = fl_dev();
		tap_ok(fl_register(d, FLOE_ROLE_SUBSCRIBER, "after", 0, &id, &slot) == 0,
		       "registering works again");
		ids[nids++] = id;
		close(d);
	}

	qsort(ids, nids, sizeof(ids[0]), cmp_u64);
	ok = ids[0] != 0;
	for (int i = 1; i < nids; i++)
		if (ids[i] == ids[i - 1])
			ok = 0;
	tap_ok(ok, "all %d ids seen are distinct and non-zero", nids);

	munmap((void *)live, len);
	close(dev);
	return tap_done();
}
