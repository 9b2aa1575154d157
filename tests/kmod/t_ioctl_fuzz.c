// SPDX-License-Identifier: MIT
/*
 * Randomized sequences against /dev/floe: every ioctl with random,
 * boundary and garbage arguments (bad sizes and commands, non-zero
 * reserved fields, unterminated, overlong and escaping names, huge sizes,
 * unknown roles, foreign ids, holds on and for any port, wrong fds,
 * unmapped argument pointers),
 * mmap/mprotect/mremap/munmap of the returned fds and of the device with
 * random offsets, lengths and protections, forked children that hold ports
 * and segments (some held by our ports, so they outlive the child) and are
 * SIGKILLed at random moments, and random closes.
 *
 * Checked: nothing the module must refuse succeeds (each call's verdict is
 * predicted from the uapi rules), no mapping of a read-only fd becomes
 * writable, valid operations still work afterwards, and the totals in
 * /sys/kernel/floe return to where they started once everything is closed.
 * On the debug kernel a KASAN, lockdep or kmemleak report fails the run.
 *
 * $FLOE_FUZZ_SEED replays a run (the seed is printed); $FLOE_FUZZ_ITERS
 * sets the number of operations (default 2000).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "floe_test.h"

#define MAX_FDS		24
#define MAX_MAPS	24
#define MAX_PORTS	16
#define MAX_KIDS	6
#define NAME_POOL	12
#define TOUCH_MAX	(16 * PAGE)

struct seg_fd {
	int fd;
	uint64_t size;
	int writable;
};

struct map {
	void *addr;
	size_t len;
	int writable_fd; /* the fd it came from allowed writing */
};

static struct seg_fd fds[MAX_FDS];
static struct map maps[MAX_MAPS];
static uint64_t ports[MAX_PORTS];
static pid_t kids[MAX_KIDS];
static int dev, nfds, nmaps, nports, nkids;
static unsigned long unexpected, ops_ok, ops_refused;
static uint64_t rng;
static void *bad_ptr; /* a PROT_NONE page: argument pointers that fault */

static uint64_t rnd(void)
{
	/* xorshift64*: small, fast, and replayable from the printed seed */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ull;
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static int chance(int percent)
{
	return (int)below(100) < percent;
}

/* Sizes at and around the interesting boundaries, or anything. */
static uint64_t rnd_size(void)
{
	static const uint64_t edges[] = {
		0, 1, PAGE - 1, PAGE, PAGE + 1, 2 * PAGE, 16 * PAGE,
		1ull << 20, 1ull << 32, 1ull << 40, UINT64_MAX - PAGE + 2,
		UINT64_MAX,
	};

	if (chance(70))
		return PAGE * (1 + below(8));
	if (chance(60))
		return edges[below(sizeof(edges) / sizeof(edges[0]))];
	return rnd();
}

/*
 * A segment name into @buf (FLOE_NAME_MAX bytes, zeroed first); returns
 * whether the module must accept it. Valid names come from a small pool so
 * that creates collide and opens find something.
 */
static int rnd_seg_name(char *buf, int index)
{
	memset(buf, 0, FLOE_NAME_MAX);
	snprintf(buf, FLOE_NAME_MAX, "fz-%d-%d", (int)getpid(),
		 index >= 0 ? index : (int)below(NAME_POOL));
	if (chance(80))
		return 1;
	switch (below(8)) {
	case 0: /* empty */
		memset(buf, 0, FLOE_NAME_MAX);
		break;
	case 1: /* hidden, or escaping upwards */
		memcpy(buf, chance(50) ? ".x" : "..", 2);
		break;
	case 2: /* a directory separator */
		buf[1 + below(4)] = '/';
		break;
	case 3: /* unterminated: all FLOE_NAME_MAX bytes used */
		memset(buf, 'a', FLOE_NAME_MAX);
		break;
	case 4: /* garbage after the terminator */
		buf[FLOE_NAME_MAX - 1 - below(8)] = (char)(1 + below(255));
		break;
	case 5: /* bytes outside [A-Za-z0-9._-] */
		buf[below(4)] = (char)(chance(50) ? 0xe9 : below(32) + 1);
		break;
	case 6: /* control character or space */
		buf[2] = chance(50) ? ' ' : '\n';
		break;
	default: /* NUL in the middle, garbage behind it */
		buf[2] = 0;
		buf[3] = 'x';
		break;
	}
	return 0;
}

static void reserved_garbage(__u64 *reserved, size_t n, int *bad)
{
	if (chance(90))
		return;
	reserved[below(n)] = 1 + below(UINT64_MAX - 1);
	*bad = 1;
}

/* A call the module had to refuse succeeded. */
static void unexpected_success(const char *what, uint64_t detail)
{
	unexpected++;
	tap_diag("unexpected success: %s (%#llx)", what,
		 (unsigned long long)detail);
}

static void verdict(int ret, int must_fail, const char *what, uint64_t detail)
{
	if (ret >= 0 && must_fail)
		unexpected_success(what, detail);
	if (ret >= 0)
		ops_ok++;
	else
		ops_refused++;
}

static void keep_fd(int fd, uint64_t size, int writable)
{
	if (nfds == MAX_FDS) {
		close(fd);
		return;
	}
	fds[nfds++] = (struct seg_fd){ fd, size, writable };
}

static void op_version(void)
{
	struct floe_version v;
	int r;

	if (chance(20)) {
		r = ioctl(dev, FLOE_IOC_VERSION, bad_ptr);
		verdict(r, 1, "VERSION into an unmapped page", 0);
		return;
	}
	r = fl_version(dev, &v);
	verdict(r, 0, "VERSION", 0);
	if (r == 0 && v.abi != FLOE_ABI_VERSION)
		unexpected_success("VERSION reports another ABI", v.abi);
}

static void op_create(void)
{
	struct floe_seg_create c;
	int bad = 0, r;

	memset(&c, 0, sizeof(c));
	bad |= !rnd_seg_name(c.name, -1);
	c.size = rnd_size();
	bad |= c.size == 0;
	c.mode = chance(80) ? (chance(50) ? 0600 : 0644) : (uint32_t)below(0x10000);
	bad |= c.mode > 0777;
	c.flags = chance(80) ? (uint32_t)below(2) : (uint32_t)rnd();
	bad |= (c.flags & ~FLOE_SEG_FLAGS_ALL) != 0;
	if (chance(30) && nports)
		c.owner_port = ports[below(nports)];
	else if (chance(10))
		c.owner_port = rnd();
	bad |= (c.flags & FLOE_SEG_PERSIST) && c.owner_port;
	if (chance(5)) {
		c.pad = 1 + (uint32_t)below(UINT32_MAX - 1);
		bad = 1;
	}
	reserved_garbage(c.reserved, 4, &bad);
	c.fd = (int)rnd();
	if (chance(3)) {
		r = ioctl(dev, FLOE_IOC_SEG_CREATE, bad_ptr);
		verdict(r, 1, "SEG_CREATE from an unmapped page", 0);
		return;
	}
	r = ioctl(dev, FLOE_IOC_SEG_CREATE, &c);
	verdict(r, bad, "SEG_CREATE", c.size);
	if (r == 0)
		keep_fd(c.fd, (c.size + PAGE - 1) & ~(PAGE - 1), 1);
}

static void op_open(void)
{
	struct floe_seg_open o;
	int bad = 0, r;

	memset(&o, 0, sizeof(o));
	bad |= !rnd_seg_name(o.name, -1);
	o.access = chance(85) ? 1 + (uint32_t)below(2) : (uint32_t)rnd();
	bad |= o.access != FLOE_ACCESS_RO && o.access != FLOE_ACCESS_RW;
	o.flags = chance(90) ? (uint32_t)below(2) : (uint32_t)rnd();
	bad |= (o.flags & ~FLOE_SEG_CLOEXEC) != 0;
	if (chance(5)) {
		o.pad = 1;
		bad = 1;
	}
	reserved_garbage(o.reserved, 4, &bad);
	o.size = rnd();
	o.fd = (int)rnd();
	r = ioctl(dev, FLOE_IOC_SEG_OPEN, &o);
	verdict(r, bad, "SEG_OPEN", o.access);
	if (r == 0) {
		if (o.size == 0 || o.size % PAGE)
			unexpected_success("SEG_OPEN reports an odd size", o.size);
		keep_fd(o.fd, o.size, o.access == FLOE_ACCESS_RW);
	}
}

static void op_unlink(void)
{
	struct floe_seg_unlink u;
	int bad = 0, r;

	memset(&u, 0, sizeof(u));
	bad |= !rnd_seg_name(u.name, -1);
	reserved_garbage(u.reserved, 2, &bad);
	r = ioctl(dev, FLOE_IOC_SEG_UNLINK, &u);
	verdict(r, bad, "SEG_UNLINK", 0);
}

static void op_register(void)
{
	struct floe_port_register p;
	int bad = 0, r;

	memset(&p, 0, sizeof(p));
	snprintf(p.service, sizeof(p.service), "fuzz/svc%d", (int)below(4));
	if (chance(15)) {
		switch (below(4)) {
		case 0:
			memset(p.service, 0, sizeof(p.service));
			break;
		case 1:
			memset(p.service, 'x', sizeof(p.service));
			break;
		case 2:
			p.service[1] = (char)(chance(50) ? 0x7f : 0x1f);
			break;
		default:
			p.service[sizeof(p.service) - 1] = 'z';
			break;
		}
		bad = 1;
	}
	p.role = chance(85) ? 1 + (uint32_t)below(FLOE_ROLE_MAX)
			    : (uint32_t)rnd();
	bad |= !p.role || p.role > FLOE_ROLE_MAX;
	p.node_id = chance(50) ? 0 : rnd();
	if (chance(5)) {
		p.flags = 1 + (uint32_t)below(UINT32_MAX - 1);
		bad = 1;
	}
	if (chance(5)) {
		p.pad = 1;
		bad = 1;
	}
	reserved_garbage(p.reserved, 4, &bad);
	p.id = rnd();
	r = ioctl(dev, FLOE_IOC_PORT_REGISTER, &p);
	verdict(r, bad, "PORT_REGISTER", p.role);
	if (r == 0 && nports < MAX_PORTS)
		ports[nports++] = p.id;
}

static void op_unregister(void)
{
	struct floe_port_unregister u;
	int bad = 0, known = 0, r;

	memset(&u, 0, sizeof(u));
	if (nports && chance(60)) {
		uint32_t i = (uint32_t)below(nports);

		u.id = ports[i];
		known = 1;
		ports[i] = ports[--nports];
	} else {
		/* 0, or a random id: not a port of this fd */
		u.id = chance(50) ? 0 : rnd();
		bad = 1;
	}
	reserved_garbage(u.reserved, 3, &bad);
	r = ioctl(dev, FLOE_IOC_PORT_UNREGISTER, &u);
	verdict(r, bad, "PORT_UNREGISTER", u.id);
	if (known && !bad && r < 0)
		tap_diag("unregister of own port %llu: %s",
			 (unsigned long long)u.id, strerror(errno));
}

static int is_ours(uint64_t id)
{
	for (int i = 0; i < nports; i++)
		if (ports[i] == id)
			return 1;
	return 0;
}

/* A port id: one of ours, 0, or anything. */
static uint64_t rnd_port(void)
{
	if (nports && chance(75))
		return ports[below(nports)];
	return chance(30) ? 0 : rnd();
}

static void op_hold(void)
{
	struct floe_seg_hold h;
	int bad = 0, r;

	memset(&h, 0, sizeof(h));
	h.owner_port = rnd_port();
	h.holder_port = rnd_port();
	h.flags = chance(90) ? (uint32_t)below(2) : (uint32_t)rnd();
	bad |= (h.flags & ~FLOE_HOLD_FLAGS_ALL) != 0;
	if (chance(5)) {
		h.pad = 1 + (uint32_t)below(UINT32_MAX - 1);
		bad = 1;
	}
	reserved_garbage(h.reserved, 4, &bad);
	bad |= h.owner_port == h.holder_port;
	/* adding needs an owner of this file; releasing, either port */
	if (h.flags & FLOE_HOLD_RELEASE)
		bad |= !is_ours(h.owner_port) && !is_ours(h.holder_port);
	else
		bad |= !is_ours(h.owner_port);
	r = ioctl(dev, FLOE_IOC_SEG_HOLD, &h);
	verdict(r, bad, "SEG_HOLD", h.flags);
}

/* Commands the module does not know, or known ones with the wrong size. */
static void op_bad_command(void)
{
	static const unsigned int dirs[] = {
		_IOC_NONE, _IOC_READ, _IOC_WRITE, _IOC_READ | _IOC_WRITE
	};
	unsigned long cmd;
	char buf[512] = { 0 };
	int r, target = dev;

	/* only floe's magic: other magics reach the VFS's generic ioctls
	 * (FIGETBSZ and friends), which rightly work on any file */
	cmd = _IOC(dirs[below(4)], FLOE_IOC_MAGIC,
		   (unsigned int)below(0x20), (unsigned int)below(sizeof(buf)));
	switch (cmd) {
	case FLOE_IOC_VERSION:
	case FLOE_IOC_SEG_CREATE:
	case FLOE_IOC_SEG_OPEN:
	case FLOE_IOC_SEG_UNLINK:
	case FLOE_IOC_SEG_HOLD:
	case FLOE_IOC_PORT_REGISTER:
	case FLOE_IOC_PORT_UNREGISTER:
		return; /* a valid command by chance: covered elsewhere */
	}
	/* a segment fd takes no ioctls at all */
	if (nfds && chance(30))
		target = fds[below(nfds)].fd;
	r = ioctl(target, cmd, buf);
	verdict(r, 1, "unknown ioctl", cmd);
}

static void op_mmap(void)
{
	static const int prots[] = {
		PROT_READ, PROT_READ | PROT_WRITE, PROT_WRITE, PROT_NONE,
		PROT_READ | PROT_EXEC,
	};
	struct seg_fd *s;
	uint64_t pages, off, len;
	int prot, flags, bad;
	void *p;

	if (!nfds || nmaps == MAX_MAPS)
		return;
	s = &fds[below(nfds)];
	pages = s->size / PAGE;
	off = chance(80) ? below(pages + 1) * PAGE : rnd_size();
	len = chance(80) ? (1 + below(pages + 1)) * PAGE : rnd_size();
	prot = prots[below(sizeof(prots) / sizeof(prots[0]))];
	flags = chance(85) ? MAP_SHARED : MAP_PRIVATE;
	bad = flags != MAP_SHARED || off % PAGE || !len ||
	      off / PAGE >= pages ||
	      len > (pages - off / PAGE) * PAGE ||
	      ((prot & PROT_WRITE) && !s->writable);
	p = mmap(NULL, len, prot, flags, s->fd, (off_t)off);
	verdict(p == MAP_FAILED ? -1 : 0, bad, "mmap of a segment", off);
	if (p == MAP_FAILED)
		return;
	if (bad) {
		/* keep the machine sane: never touch such a mapping */
		munmap(p, len);
		return;
	}
	/* touch a little: segments may be gigabytes of untouched memory */
	if (prot & PROT_WRITE)
		memset(p, 0x5a, len < TOUCH_MAX ? len : TOUCH_MAX);
	else if (prot & PROT_READ)
		(void)*(volatile char *)p;
	/* a read-only fd's mapping can never be made writable */
	if (!s->writable &&
	    mprotect(p, len, PROT_READ | PROT_WRITE) == 0)
		unexpected_success("mprotect(PROT_WRITE) of a read-only fd",
				   off);
	if (chance(30)) {
		/* grow past the segment or shrink; never touched again */
		size_t nlen = chance(50) ? PAGE : len + PAGE;
		void *q = mremap(p, len, nlen, MREMAP_MAYMOVE);

		if (q != MAP_FAILED) {
			p = q;
			len = nlen;
		}
	}
	maps[nmaps++] = (struct map){ p, len, s->writable };
}

static void op_mmap_device(void)
{
	size_t len = chance(70) ? PAGE * (1 + below(4)) : (size_t)rnd_size();
	off_t off = chance(70) ? 0 : (off_t)(below(8) * PAGE);
	int prot = chance(70) ? PROT_READ : PROT_READ | PROT_WRITE;
	void *p = mmap(NULL, len, prot, MAP_SHARED, dev, off);

	if (p == MAP_FAILED) {
		ops_refused++;
		return;
	}
	ops_ok++;
	if (prot & PROT_WRITE)
		unexpected_success("writable mapping of the liveness table", len);
	else if (mprotect(p, len, PROT_READ | PROT_WRITE) == 0)
		unexpected_success("mprotect(PROT_WRITE) of the liveness table",
				   len);
	munmap(p, len);
}

static void op_munmap(void)
{
	uint32_t i;

	if (!nmaps)
		return;
	i = (uint32_t)below(nmaps);
	munmap(maps[i].addr, maps[i].len);
	maps[i] = maps[--nmaps];
}

static void op_close(void)
{
	uint32_t i;

	if (!nfds)
		return;
	i = (uint32_t)below(nfds);
	/* mappings outlive their fd; both orders must work */
	close(fds[i].fd);
	fds[i] = fds[--nfds];
}

/*
 * A child with its own device fd, ports and segments (owned by the fd, by
 * a port, or persistent), mapped and written; SIGKILLed by the parent at a
 * random moment, perhaps half-way through.
 */
static void op_fork(void)
{
	pid_t pid;

	if (nkids == MAX_KIDS)
		return;
	pid = fork();
	if (pid < 0)
		return;
	if (pid == 0) {
		int d = fl_dev();
		uint64_t id = 0;

		if (d < 0)
			_exit(1);
		for (int round = 0; round < 50; round++) {
			int fd;
			void *p;

			fl_register(d, 1 + (uint32_t)below(FLOE_ROLE_MAX),
				    "fuzz/child", 0, &id, NULL);
			fd = fl_create(d, fl_name("fzk"), PAGE * (1 + below(4)),
				       0600, chance(50) ? id : 0,
				       chance(20) ? FLOE_SEG_PERSIST : 0);
			/* the parent's ports keep our segments after we die */
			if (nports && chance(30))
				fl_hold(d, id, ports[below(nports)], 0);
			if (fd >= 0) {
				p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
					 MAP_SHARED, fd, 0);
				if (p != MAP_FAILED)
					memset(p, 0xc3, PAGE);
			}
			usleep((useconds_t)below(2000));
		}
		pause();
		_exit(0);
	}
	kids[nkids++] = pid;
}

static void op_kill(void)
{
	uint32_t i;

	if (!nkids)
		return;
	i = (uint32_t)below(nkids);
	kill(kids[i], SIGKILL);
	waitpid(kids[i], NULL, 0);
	kids[i] = kids[--nkids];
}

/* Persistent segments of the children outlive them: find and unlink. */
static void unlink_leftovers(void)
{
	char prefix[32];
	struct dirent *de;
	DIR *d = opendir(SYS_FLOE "/segments");

	if (!d)
		return;
	snprintf(prefix, sizeof(prefix), "fzk-");
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, prefix, strlen(prefix)) ||
		    !strncmp(de->d_name, "fz-", 3))
			fl_unlink(dev, de->d_name);
	closedir(d);
}

static void cleanup(void)
{
	while (nkids)
		op_kill();
	while (nmaps)
		op_munmap();
	while (nfds)
		op_close();
	nports = 0;
	close(dev);
	dev = fl_dev();
	unlink_leftovers();
}

/* Totals are updated by the last put, which may be deferred a little. */
static int totals_back(long long ports0, long long segs0, long long bytes0,
		       long long holds0)
{
	long long t0 = tap_now_ns();

	for (;;) {
		long long p = sys_num(SYS_FLOE "/nr_ports");
		long long s = sys_num(SYS_FLOE "/nr_segments");
		long long b = sys_num(SYS_FLOE "/segment_bytes");
		long long h = sys_num(SYS_FLOE "/nr_holds");

		if (p == ports0 && s == segs0 && b == bytes0 && h == holds0)
			return 1;
		if (tap_now_ns() - t0 > 5000000000LL) {
			tap_diag("totals: ports %lld (was %lld), segments %lld "
				 "(was %lld), bytes %lld (was %lld), holds %lld "
				 "(was %lld)", p, ports0, s, segs0, b, bytes0,
				 h, holds0);
			return 0;
		}
		usleep(10000);
	}
}

static void valid_ops_still_work(void)
{
	char name[FLOE_NAME_MAX];
	uint64_t id, size = 0;
	int fd, rofd;
	char *w, *r;

	snprintf(name, sizeof(name), "fz-%d-after", (int)getpid());
	fd = fl_create(dev, name, 2 * PAGE, 0600, 0, 0);
	tap_ok(fd >= 0, "afterwards: create a segment (%s)",
	       fd < 0 ? strerror(errno) : "ok");
	rofd = fl_open_seg(dev, name, FLOE_ACCESS_RO, 0, &size);
	tap_ok(rofd >= 0 && size == 2 * PAGE, "afterwards: open it read-only");
	w = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	r = mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED, rofd, 0);
	tap_require(w != MAP_FAILED && r != MAP_FAILED, "afterwards: map both");
	strcpy(w + PAGE, "still works");
	tap_ok(!strcmp(r + PAGE, "still works"),
	       "afterwards: writes show through the read-only mapping");
	tap_ok(mprotect(r, 2 * PAGE, PROT_READ | PROT_WRITE) < 0,
	       "afterwards: the read-only mapping cannot be made writable");
	tap_ok(fl_register(dev, FLOE_ROLE_NODE, "fuzz/after", 0, &id, NULL) == 0 &&
		       fl_unregister(dev, id) == 0,
	       "afterwards: register and unregister a port");
	tap_ok(fl_unlink(dev, name) == 0, "afterwards: unlink the segment");
	munmap(w, 2 * PAGE);
	munmap(r, 2 * PAGE);
	close(fd);
	close(rofd);
}

int main(void)
{
	const char *seed_env = getenv("FLOE_FUZZ_SEED");
	const char *iters_env = getenv("FLOE_FUZZ_ITERS");
	long iters = iters_env && *iters_env ? atol(iters_env) : 2000;
	long long ports0, segs0, bytes0, holds0;
	uint64_t seed;

	tap_init(240);
	dev = fl_dev_or_bail();
	seed = seed_env && *seed_env ? strtoull(seed_env, NULL, 0)
				     : (uint64_t)tap_now_ns() ^ (uint64_t)getpid();
	rng = seed ? seed : 1;
	tap_diag("seed %llu (FLOE_FUZZ_SEED), %ld operations (FLOE_FUZZ_ITERS)",
		 (unsigned long long)seed, iters);
	signal(SIGPIPE, SIG_IGN);
	bad_ptr = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	tap_require(bad_ptr != MAP_FAILED, "a PROT_NONE page");
	ports0 = sys_num(SYS_FLOE "/nr_ports");
	segs0 = sys_num(SYS_FLOE "/nr_segments");
	bytes0 = sys_num(SYS_FLOE "/segment_bytes");
	holds0 = sys_num(SYS_FLOE "/nr_holds");
	tap_require(ports0 >= 0 && segs0 >= 0 && bytes0 >= 0 && holds0 >= 0,
		    "totals readable in " SYS_FLOE);

	for (long i = 0; i < iters; i++) {
		switch (below(17)) {
		case 0: op_version(); break;
		case 16: op_hold(); break;
		case 1: case 2: case 3: op_create(); break;
		case 4: case 5: op_open(); break;
		case 6: op_unlink(); break;
		case 7: case 8: op_register(); break;
		case 9: op_unregister(); break;
		case 10: op_bad_command(); break;
		case 11: case 12: op_mmap(); break;
		case 13: chance(50) ? op_munmap() : op_close(); break;
		case 14: chance(70) ? op_mmap_device() : op_fork(); break;
		default: chance(60) ? op_kill() : op_fork(); break;
		}
	}
	tap_diag("%lu calls succeeded, %lu refused", ops_ok, ops_refused);
	tap_ok(unexpected == 0,
	       "no call the module must refuse succeeded (%lu did)", unexpected);
	cleanup();
	tap_require(dev >= 0, "the device opens again");
	valid_ops_still_work();
	close(dev);
	dev = -1;
	tap_ok(totals_back(ports0, segs0, bytes0, holds0),
	       "sysfs totals back to where they started");
	return tap_done();
}
