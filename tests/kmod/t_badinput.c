// SPDX-License-Identifier: MIT
/*
 * Bad input on every ioctl, each with its exact errno: wrong sizes and
 * directions, unknown commands, bad pointers, malformed names and service
 * names, sizes, modes, flags, access values, roles, non-zero reserved/pad
 * fields, foreign, unknown or equal ports (holds). Faults while copying results back must
 * leave nothing behind (no segment, fd or port).
 */
#define _GNU_SOURCE
#include <termios.h>

#include "floe_test.h"

static int dev;

static int create_raw(struct floe_seg_create *c)
{
	return ioctl(dev, FLOE_IOC_SEG_CREATE, c);
}

static void base_create(struct floe_seg_create *c, const char *name)
{
	memset(c, 0, sizeof(*c));
	strncpy(c->name, name, sizeof(c->name) - 1);
	c->size = PAGE;
	c->mode = 0600;
}

static void base_open(struct floe_seg_open *o, const char *name)
{
	memset(o, 0, sizeof(*o));
	strncpy(o->name, name, sizeof(o->name) - 1);
	o->access = FLOE_ACCESS_RO;
}

static void base_reg(struct floe_port_register *r)
{
	memset(r, 0, sizeof(*r));
	strcpy(r->service, "badinput");
	r->role = FLOE_ROLE_CLIENT;
}

static int seg_dirs(void)
{
	return sys_count(SYS_FLOE "/segments");
}

static int port_dirs(void)
{
	return sys_count(SYS_FLOE "/ports");
}

/* The lowest free fd: a leaked fd would shift it. */
static int next_fd(void)
{
	int fd = dup(0);

	close(fd);
	return fd;
}

/* Malformed segment names, as whole 64-byte arrays. */
struct badname {
	const char *what;
	char name[FLOE_NAME_MAX];
};

static struct badname badnames[32];
static int nbad;

static void add_bad(const char *what, const char *bytes, size_t len)
{
	struct badname *b = &badnames[nbad++];

	b->what = what;
	memset(b->name, 0, sizeof(b->name));
	memcpy(b->name, bytes, len);
}

static void make_badnames(void)
{
	char a64[FLOE_NAME_MAX];

	memset(a64, 'a', sizeof(a64));
	add_bad("unterminated (64 non-NUL bytes)", a64, sizeof(a64));
	add_bad("empty", "", 0);
	add_bad("garbage after the NUL", "abc\0x", 5);
	add_bad("garbage in the last byte", "abc", 3);
	badnames[nbad - 1].name[FLOE_NAME_MAX - 1] = 'z';
	add_bad("'/'", "a/b", 3);
	add_bad("space", "a b", 3);
	add_bad("':'", "a:b", 3);
	add_bad("newline", "ab\n", 3);
	add_bad("'*'", "a*", 2);
	add_bad("byte 0xff", "a\xff", 2);
	add_bad("byte 0xe9 (Latin-1 letter)", "caf\xe9", 4);
	add_bad("'.'", ".", 1);
	add_bad("'..'", "..", 2);
	add_bad("leading '.'", ".hidden", 7);
}

static void names(void)
{
	struct floe_seg_create c;
	struct floe_seg_open o;
	struct floe_seg_unlink u;
	char n63[FLOE_NAME_MAX];
	int fd;

	for (int i = 0; i < nbad; i++) {
		base_create(&c, "x");
		memcpy(c.name, badnames[i].name, FLOE_NAME_MAX);
		tap_errno(create_raw(&c), EINVAL, "SEG_CREATE name %s: EINVAL", badnames[i].what);
		base_open(&o, "x");
		memcpy(o.name, badnames[i].name, FLOE_NAME_MAX);
		tap_errno(ioctl(dev, FLOE_IOC_SEG_OPEN, &o), EINVAL,
			  "SEG_OPEN name %s: EINVAL", badnames[i].what);
		memset(&u, 0, sizeof(u));
		memcpy(u.name, badnames[i].name, FLOE_NAME_MAX);
		tap_errno(ioctl(dev, FLOE_IOC_SEG_UNLINK, &u), EINVAL,
			  "SEG_UNLINK name %s: EINVAL", badnames[i].what);
	}

	/* The boundaries that must work. */
	memset(n63, 0, sizeof(n63));
	memset(n63, 'N', 63);
	fd = fl_create(dev, n63, PAGE, 0600, 0, 0);
	tap_ok(fd >= 0, "SEG_CREATE with a 63-character name works");
	close(fd);
	tap_ok(fl_unlink(dev, n63) == 0, "  ...and unlinks");
	fd = fl_create(dev, "a.b_c-D9.", PAGE, 0600, 0, 0);
	tap_ok(fd >= 0, "SEG_CREATE with every allowed character class works");
	close(fd);
	fl_unlink(dev, "a.b_c-D9.");
	tap_errno(fl_open_seg(dev, fl_name("absent"), FLOE_ACCESS_RO, 0, NULL), ENOENT,
		  "SEG_OPEN of a valid unknown name: ENOENT");
	tap_errno(fl_unlink(dev, fl_name("absent")), ENOENT,
		  "SEG_UNLINK of a valid unknown name: ENOENT");
}

static void create_fields(void)
{
	struct floe_seg_create c;
	const char *n = fl_name("fields");
	int before = seg_dirs();
	struct {
		const char *what;
		uint64_t size;
		int err;
	} sizes[] = {
		{ "0", 0, EINVAL },
		{ "~0ULL", ~0ULL, EFBIG },
		{ "~0ULL - 4095", ~0ULL - 4095, EFBIG },
		{ "1 << 62", 1ULL << 62, EFBIG },
		{ "1 << 63", 1ULL << 63, EFBIG },
	};

	for (unsigned int i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		base_create(&c, n);
		c.size = sizes[i].size;
		tap_errno(create_raw(&c), sizes[i].err, "SEG_CREATE size %s: %s",
			  sizes[i].what, strerror(sizes[i].err));
	}
	{
		long long cap = sys_num(SYS_PARAM "/max_user_bytes");

		base_create(&c, n);
		c.size = (uint64_t)cap + 1;
		tap_errno(create_raw(&c), EFBIG,
			  "SEG_CREATE size max_user_bytes + 1 (%lld): EFBIG", cap + 1);
	}
	{
		uint32_t modes[] = { 01000, 02000, 04755, 0x1ff | 0x10000, ~0U };

		for (unsigned int i = 0; i < 5; i++) {
			base_create(&c, n);
			c.mode = modes[i];
			tap_errno(create_raw(&c), EINVAL, "SEG_CREATE mode %#o: EINVAL", modes[i]);
		}
	}
	{
		uint32_t flags[] = { 1U << 2, 1U << 31, ~0U };

		for (unsigned int i = 0; i < 3; i++) {
			base_create(&c, n);
			c.flags = flags[i];
			tap_errno(create_raw(&c), EINVAL, "SEG_CREATE flags %#x: EINVAL", flags[i]);
		}
	}
	base_create(&c, n);
	c.flags = FLOE_SEG_PERSIST;
	c.owner_port = 1;
	tap_errno(create_raw(&c), EINVAL, "SEG_CREATE FLOE_SEG_PERSIST with an owner_port: EINVAL");
	base_create(&c, n);
	c.pad = 1;
	tap_errno(create_raw(&c), EINVAL, "SEG_CREATE pad != 0: EINVAL");
	for (int i = 0; i < 4; i++) {
		base_create(&c, n);
		c.reserved[i] = 1ULL << 40;
		tap_errno(create_raw(&c), EINVAL, "SEG_CREATE reserved[%d] != 0: EINVAL", i);
	}
	base_create(&c, n);
	c.owner_port = 0xdeadbeefULL;
	tap_errno(create_raw(&c), ENOENT, "SEG_CREATE owner_port unknown: ENOENT");
	{
		int d2 = fl_dev();
		uint64_t foreign = 0;

		tap_require(d2 >= 0 && fl_register(d2, FLOE_ROLE_NODE, "foreign", 0, &foreign,
						   NULL) == 0, "register a port on another file");
		base_create(&c, n);
		c.owner_port = foreign;
		tap_errno(create_raw(&c), ENOENT,
			  "SEG_CREATE owner_port of another file's port: ENOENT");
		tap_errno(fl_unregister(dev, foreign), ENOENT,
			  "PORT_UNREGISTER of another file's port: ENOENT");
		tap_ok(sys_exists(SYS_FLOE "/ports/%llu", (unsigned long long)foreign),
		       "  ...which is still registered");
		close(d2);
	}
	tap_eq(seg_dirs(), before, "no segment left behind by the failures");
	tap_errno(fl_open_seg(dev, n, FLOE_ACCESS_RO, 0, NULL), ENOENT, "  ...name %s absent", n);

	/* Output fields are ignored on input. */
	base_create(&c, n);
	c.fd = 12345;
	tap_ok(create_raw(&c) == 0 && c.fd >= 0 && c.fd != 12345,
	       "SEG_CREATE ignores the input value of fd");
	close(c.fd);
	fl_unlink(dev, n);
}

static void open_fields(void)
{
	struct floe_seg_open o;
	const char *n = fl_name("ofields");
	int fd = fl_create(dev, n, PAGE, 0644, 0, 0);
	uint32_t access[] = { 0, 3, 4, 0x100, ~0U };

	tap_require(fd >= 0, "create %s", n);
	for (unsigned int i = 0; i < 5; i++) {
		base_open(&o, n);
		o.access = access[i];
		tap_errno(ioctl(dev, FLOE_IOC_SEG_OPEN, &o), EINVAL,
			  "SEG_OPEN access %#x: EINVAL", access[i]);
	}
	{
		uint32_t flags[] = { FLOE_SEG_PERSIST, 1U << 2, 1U << 31 };

		for (unsigned int i = 0; i < 3; i++) {
			base_open(&o, n);
			o.flags = flags[i];
			tap_errno(ioctl(dev, FLOE_IOC_SEG_OPEN, &o), EINVAL,
				  "SEG_OPEN flags %#x: EINVAL", flags[i]);
		}
	}
	base_open(&o, n);
	o.pad = 1;
	tap_errno(ioctl(dev, FLOE_IOC_SEG_OPEN, &o), EINVAL, "SEG_OPEN pad != 0: EINVAL");
	for (int i = 0; i < 4; i++) {
		base_open(&o, n);
		o.reserved[i] = 1;
		tap_errno(ioctl(dev, FLOE_IOC_SEG_OPEN, &o), EINVAL,
			  "SEG_OPEN reserved[%d] != 0: EINVAL", i);
	}
	base_open(&o, n);
	o.size = 77;
	o.fd = 999;
	tap_ok(ioctl(dev, FLOE_IOC_SEG_OPEN, &o) == 0 && o.size == PAGE && o.fd != 999,
	       "SEG_OPEN ignores the input values of size and fd");
	close(o.fd);
	{
		struct floe_seg_unlink u;

		for (int i = 0; i < 2; i++) {
			memset(&u, 0, sizeof(u));
			strcpy(u.name, n);
			u.reserved[i] = 1;
			tap_errno(ioctl(dev, FLOE_IOC_SEG_UNLINK, &u), EINVAL,
				  "SEG_UNLINK reserved[%d] != 0: EINVAL", i);
		}
	}
	{
		int f = fl_open_seg(dev, n, FLOE_ACCESS_RO, 0, NULL);

		tap_ok(f >= 0, "  ...segment still there");
		close(f);
	}
	close(fd);
	fl_unlink(dev, n);
}

static void port_fields(void)
{
	struct floe_port_register r;
	struct floe_port_unregister u;
	int before = port_dirs();
	struct {
		const char *what;
		const char *bytes;
		size_t len;
	} bad[] = {
		{ "empty", "", 0 },
		{ "garbage after the NUL", "svc\0x", 5 },
		{ "control byte 0x1f", "a\x1f", 2 },
		{ "newline", "a\n", 2 },
		{ "DEL 0x7f", "a\x7f", 2 },
		{ "byte 0x80", "a\x80", 2 },
		{ "byte 0xff", "\xff", 1 },
	};
	uint32_t roles[] = { 0, FLOE_ROLE_MAX + 1, 0x100, ~0U };
	uint64_t id = 0;

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		base_reg(&r);
		memset(r.service, 0, sizeof(r.service));
		memcpy(r.service, bad[i].bytes, bad[i].len);
		tap_errno(ioctl(dev, FLOE_IOC_PORT_REGISTER, &r), EINVAL,
			  "PORT_REGISTER service %s: EINVAL", bad[i].what);
	}
	base_reg(&r);
	memset(r.service, 'x', sizeof(r.service));
	tap_errno(ioctl(dev, FLOE_IOC_PORT_REGISTER, &r), EINVAL,
		  "PORT_REGISTER service unterminated (256 bytes): EINVAL");
	for (unsigned int i = 0; i < 4; i++) {
		base_reg(&r);
		r.role = roles[i];
		tap_errno(ioctl(dev, FLOE_IOC_PORT_REGISTER, &r), EINVAL,
			  "PORT_REGISTER role %u: EINVAL", roles[i]);
	}
	base_reg(&r);
	r.flags = 1;
	tap_errno(ioctl(dev, FLOE_IOC_PORT_REGISTER, &r), EINVAL, "PORT_REGISTER flags 1: EINVAL");
	base_reg(&r);
	r.pad = 1;
	tap_errno(ioctl(dev, FLOE_IOC_PORT_REGISTER, &r), EINVAL, "PORT_REGISTER pad != 0: EINVAL");
	for (int i = 0; i < 4; i++) {
		base_reg(&r);
		r.reserved[i] = 1;
		tap_errno(ioctl(dev, FLOE_IOC_PORT_REGISTER, &r), EINVAL,
			  "PORT_REGISTER reserved[%d] != 0: EINVAL", i);
	}
	tap_eq(port_dirs(), before, "no port left behind by the failures");

	/* Boundaries that must work: 255 printable characters incl. space and '~'. */
	base_reg(&r);
	memset(r.service, ' ', 255);
	r.service[0] = '~';
	r.service[254] = '!';
	r.service[255] = 0;
	r.id = 5;
	r.slot = 7;
	tap_ok(ioctl(dev, FLOE_IOC_PORT_REGISTER, &r) == 0 && r.id != 5,
	       "PORT_REGISTER with a 255-character service and junk in id/slot works");
	id = r.id;
	for (int i = 0; i < 3; i++) {
		memset(&u, 0, sizeof(u));
		u.id = id;
		u.reserved[i] = 1;
		tap_errno(ioctl(dev, FLOE_IOC_PORT_UNREGISTER, &u), EINVAL,
			  "PORT_UNREGISTER reserved[%d] != 0: EINVAL", i);
	}
	tap_ok(fl_unregister(dev, id) == 0, "PORT_UNREGISTER of our port works");
	tap_errno(fl_unregister(dev, id), ENOENT, "PORT_UNREGISTER twice: ENOENT");
	tap_errno(fl_unregister(dev, 0), ENOENT, "PORT_UNREGISTER id 0: ENOENT");
	tap_errno(fl_unregister(dev, ~0ULL), ENOENT, "PORT_UNREGISTER id ~0: ENOENT");
}

static void hold_fields(void)
{
	struct floe_seg_hold h;
	long long holds = sys_num(SYS_FLOE "/nr_holds");
	uint64_t mine = 0, other = 0;
	int d2 = fl_dev();

	tap_require(fl_register(dev, FLOE_ROLE_PUBLISHER, "badinput", 0, &mine, NULL) == 0 &&
		    d2 >= 0 && fl_register(d2, FLOE_ROLE_SUBSCRIBER, "badinput", 0, &other,
					   NULL) == 0, "a port here and one on another file");
	{
		uint32_t flags[] = { 1U << 1, 1U << 31, ~0U };

		for (unsigned int i = 0; i < 3; i++)
			tap_errno(fl_hold(dev, mine, other, flags[i]), EINVAL,
				  "SEG_HOLD flags %#x: EINVAL", flags[i]);
	}
	memset(&h, 0, sizeof(h));
	h.owner_port = mine;
	h.holder_port = other;
	h.pad = 1;
	tap_errno(ioctl(dev, FLOE_IOC_SEG_HOLD, &h), EINVAL, "SEG_HOLD pad != 0: EINVAL");
	for (int i = 0; i < 4; i++) {
		memset(&h, 0, sizeof(h));
		h.owner_port = mine;
		h.holder_port = other;
		h.reserved[i] = 1;
		tap_errno(ioctl(dev, FLOE_IOC_SEG_HOLD, &h), EINVAL,
			  "SEG_HOLD reserved[%d] != 0: EINVAL", i);
	}
	tap_errno(fl_hold(dev, mine, mine, 0), EINVAL, "SEG_HOLD owner == holder: EINVAL");
	tap_errno(fl_hold(dev, 0, 0, FLOE_HOLD_RELEASE), EINVAL,
		  "SEG_HOLD release owner == holder == 0: EINVAL");
	tap_errno(fl_hold(dev, 0xdeadbeefULL, other, 0), ENOENT, "SEG_HOLD owner unknown: ENOENT");
	tap_errno(fl_hold(dev, other, mine, 0), ENOENT,
		  "SEG_HOLD owner of another file: ENOENT");
	tap_errno(fl_hold(dev, mine, 0xdeadbeefULL, 0), ESRCH, "SEG_HOLD holder unknown: ESRCH");
	tap_errno(fl_hold(dev, mine, 0, 0), ESRCH, "SEG_HOLD holder 0: ESRCH");
	tap_errno(fl_hold(dev, 0xdeadbeefULL, 0xfeedULL, FLOE_HOLD_RELEASE), EPERM,
		  "SEG_HOLD release with neither port on this file: EPERM");
	tap_errno(fl_hold(dev, mine, other, FLOE_HOLD_RELEASE), ENOENT,
		  "SEG_HOLD release of a hold that does not exist: ENOENT");
	tap_eq(sys_num(SYS_FLOE "/nr_holds"), holds, "no hold made by the failures");
	tap_ok(fl_hold(dev, mine, other, 0) == 0 && fl_hold(d2, mine, other, FLOE_HOLD_RELEASE) == 0,
	       "SEG_HOLD and its release by the holder's file work");
	tap_eq(sys_num(SYS_FLOE "/nr_holds"), holds, "  ...no hold left");
	fl_unregister(dev, mine);
	close(d2);
}

struct cmd {
	const char *name;
	unsigned long nr;
	unsigned long dir;
	size_t size;
};

static const struct cmd cmds[] = {
	{ "VERSION", 0x00, _IOC_READ, sizeof(struct floe_version) },
	{ "SEG_CREATE", 0x01, _IOC_READ | _IOC_WRITE, sizeof(struct floe_seg_create) },
	{ "SEG_OPEN", 0x02, _IOC_READ | _IOC_WRITE, sizeof(struct floe_seg_open) },
	{ "SEG_UNLINK", 0x03, _IOC_WRITE, sizeof(struct floe_seg_unlink) },
	{ "SEG_HOLD", 0x04, _IOC_WRITE, sizeof(struct floe_seg_hold) },
	{ "PORT_REGISTER", 0x10, _IOC_READ | _IOC_WRITE, sizeof(struct floe_port_register) },
	{ "PORT_UNREGISTER", 0x11, _IOC_WRITE, sizeof(struct floe_port_unregister) },
};

static void commands(void)
{
	/* Big enough for any struct, all zero: valid-looking but wrong-sized. */
	static char buf[4096];
	unsigned long bogus[] = {
		_IO(FLOE_IOC_MAGIC, 0x05),
		_IOWR(FLOE_IOC_MAGIC, 0x05, struct floe_seg_create),
		_IOWR(FLOE_IOC_MAGIC, 0x04, struct floe_seg_create),
		_IOWR(FLOE_IOC_MAGIC, 0x12, struct floe_port_register),
		_IOR(FLOE_IOC_MAGIC, 0xff, uint64_t),
		_IOR(FLOE_IOC_MAGIC + 1, 0x00, struct floe_version),
		TCGETS,
		0,
		~0UL,
	};

	for (unsigned int i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const struct cmd *c = &cmds[i];
		unsigned long good = _IOC(c->dir, FLOE_IOC_MAGIC, c->nr, c->size);
		size_t sizes[] = { c->size - 8, c->size + 8, 0, c->size * 2 };
		unsigned long dirs[] = { _IOC_NONE, _IOC_READ, _IOC_WRITE,
					 _IOC_READ | _IOC_WRITE };

		for (unsigned int s = 0; s < 4; s++)
			tap_errno(ioctl(dev, _IOC(c->dir, FLOE_IOC_MAGIC, c->nr, sizes[s]), buf),
				  ENOTTY, "%s with size %zu instead of %zu: ENOTTY", c->name,
				  sizes[s], c->size);
		for (unsigned int d = 0; d < 4; d++)
			if (dirs[d] != c->dir)
				tap_errno(ioctl(dev, _IOC(dirs[d], FLOE_IOC_MAGIC, c->nr, c->size),
						buf), ENOTTY, "%s with direction %lu: ENOTTY",
					  c->name, dirs[d]);
		tap_errno(ioctl(dev, good, NULL), EFAULT, "%s with NULL: EFAULT", c->name);
		tap_errno(ioctl(dev, good, (void *)1), EFAULT, "%s with (void *)1: EFAULT", c->name);
		tap_errno(ioctl(dev, good, (void *)0xffffffffff600000UL), EFAULT,
			  "%s with a kernel address: EFAULT", c->name);
	}
	for (unsigned int i = 0; i < sizeof(bogus) / sizeof(bogus[0]); i++)
		tap_errno(ioctl(dev, bogus[i], buf), ENOTTY, "unknown command %#lx: ENOTTY",
			  bogus[i]);
	{
		struct floe_version v;

		memset(&v, 0, sizeof(v));
		v.reserved[1] = 1;
		tap_errno(ioctl(dev, FLOE_IOC_VERSION, &v), EINVAL, "VERSION reserved[1] != 0: EINVAL");
		memset(&v, 0, sizeof(v));
		v.abi = 77;
		v.max_ports = 88;
		tap_ok(ioctl(dev, FLOE_IOC_VERSION, &v) == 0 && v.abi == FLOE_ABI_VERSION,
		       "VERSION ignores input values of its output fields");
	}
	{
		void *volatile null = NULL;

		tap_errno(read(dev, null, 8), EFAULT, "read() into NULL: EFAULT");
	}
	tap_errno(write(dev, buf, 8), EINVAL, "write() on /dev/floe: EINVAL");
	tap_errno(lseek(dev, 0, SEEK_SET), ESPIPE, "lseek() on /dev/floe: ESPIPE");
}

/* Arguments in a read-only page: the copy back faults after the work. */
static void fault_on_reply(void)
{
	char *ro = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	const char *n = fl_name("efault");
	int segs = seg_dirs(), ports = port_dirs(), fd0 = next_fd();
	long long nsegs = sys_num(SYS_FLOE "/nr_segments"), nports = sys_num(SYS_FLOE "/nr_ports");
	long long bytes = sys_num(SYS_FLOE "/segment_bytes");

	tap_require(ro != MAP_FAILED, "anon page for the read-only arguments");
	base_create((struct floe_seg_create *)ro, n);
	mprotect(ro, PAGE, PROT_READ);
	tap_errno(ioctl(dev, FLOE_IOC_SEG_CREATE, ro), EFAULT,
		  "SEG_CREATE with the reply in a read-only page: EFAULT");
	tap_errno(fl_open_seg(dev, n, FLOE_ACCESS_RO, 0, NULL), ENOENT,
		  "  ...no segment named %s left", n);
	tap_eq(seg_dirs(), segs, "  ...segments in sysfs unchanged");
	tap_eq(sys_num(SYS_FLOE "/nr_segments"), nsegs, "  ...nr_segments unchanged");
	tap_eq(sys_num(SYS_FLOE "/segment_bytes"), bytes, "  ...segment_bytes unchanged");
	tap_eq(next_fd(), fd0, "  ...no fd leaked");

	{
		int fd = fl_create(dev, n, PAGE, 0644, 0, 0);

		tap_require(fd >= 0, "create %s", n);
		mprotect(ro, PAGE, PROT_READ | PROT_WRITE);
		base_open((struct floe_seg_open *)ro, n);
		mprotect(ro, PAGE, PROT_READ);
		fd0 = next_fd();
		tap_errno(ioctl(dev, FLOE_IOC_SEG_OPEN, ro), EFAULT,
			  "SEG_OPEN with the reply in a read-only page: EFAULT");
		tap_eq(next_fd(), fd0, "  ...no fd leaked");
		close(fd);
		fl_unlink(dev, n);
	}

	mprotect(ro, PAGE, PROT_READ | PROT_WRITE);
	base_reg((struct floe_port_register *)ro);
	mprotect(ro, PAGE, PROT_READ);
	tap_errno(ioctl(dev, FLOE_IOC_PORT_REGISTER, ro), EFAULT,
		  "PORT_REGISTER with the reply in a read-only page: EFAULT");
	tap_eq(port_dirs(), ports, "  ...no port left in sysfs");
	tap_eq(sys_num(SYS_FLOE "/nr_ports"), nports, "  ...nr_ports unchanged");

	mprotect(ro, PAGE, PROT_READ | PROT_WRITE);
	memset(ro, 0, PAGE);
	mprotect(ro, PAGE, PROT_READ);
	tap_errno(ioctl(dev, FLOE_IOC_VERSION, ro), EFAULT,
		  "VERSION with the reply in a read-only page: EFAULT");
	/* A struct straddling the end of the mapping. */
	munmap(ro, PAGE);
	{
		char *two = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct floe_seg_create *c = (void *)(two + PAGE - 8);

		munmap(two + PAGE, PAGE);
		tap_errno(ioctl(dev, FLOE_IOC_SEG_CREATE, c), EFAULT,
			  "SEG_CREATE struct running off the mapping: EFAULT");
		munmap(two, PAGE);
	}
}

int main(void)
{
	tap_init(60);
	dev = fl_dev_or_bail();
	make_badnames();
	names();
	create_fields();
	open_fields();
	port_fields();
	hold_fields();
	commands();
	fault_on_reply();
	close(dev);
	return tap_done();
}
