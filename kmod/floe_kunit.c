// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * KUnit tests of floe's internals, built as floe_kunit.ko. The core files
 * are #included rather than linked (an object cannot be in two modules),
 * which also gives the tests their static helpers. Each test gets a fresh
 * core (a 4-slot table, /sys/kernel/floe_kunit) and three floe_files; no
 * device is registered.
 */
#include <kunit/test.h>
#include <linux/cred.h>
#include <linux/file.h>

/* Trace events in events/floe_kunit/, apart from floe.ko's. */
#define FLOE_TRACE_SYSTEM floe_kunit

#include "floe_segment.c"
#include "floe_port.c"
#include "floe_hold.c"
#include "floe_sysfs.c"

#define CREATE_TRACE_POINTS
#include "floe_trace.h"

#define TEST_PORTS	4

struct floe_test {
	struct floe_file ff[3];
};

static int floe_test_init(struct kunit *test)
{
	struct floe_test *t;
	int ret;

	floe_max_segments = 4096;
	floe_max_total_bytes = 8ULL << 30;
	floe_max_user_bytes = 4ULL << 30;
	floe_max_holders = 1024;
	ret = floe_live_init(TEST_PORTS);
	if (ret)
		return ret;
	ret = floe_sysfs_init("floe_kunit");
	if (ret) {
		floe_live_exit();
		return ret;
	}
	t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	if (!t) {
		floe_sysfs_exit();
		floe_live_exit();
		return -ENOMEM;
	}
	floe_file_init(&t->ff[0]);
	floe_file_init(&t->ff[1]);
	floe_file_init(&t->ff[2]);
	test->priv = t;
	return 0;
}

static void floe_test_exit(struct kunit *test)
{
	struct floe_test *t = test->priv;

	if (!t)		/* init failed and cleaned up */
		return;
	floe_file_release(&t->ff[0]);
	floe_file_release(&t->ff[1]);
	floe_file_release(&t->ff[2]);
	/* no port, hold or orphan outlives the files */
	KUNIT_EXPECT_TRUE(test, hash_empty(floe_port_index));
	KUNIT_EXPECT_EQ(test, atomic_read(&floe_nr_holds), 0);
	floe_seg_exit();
	floe_sysfs_exit();
	floe_live_exit();
}

static int create(struct floe_file *ff, const char *name, u64 size,
		  u64 owner, struct floe_seg **segp)
{
	struct floe_seg_create req = {
		.size = size, .mode = 0600, .owner_port = owner,
	};

	strscpy(req.name, name, sizeof(req.name));
	return floe_seg_create(ff, &req, segp);
}

static int seg_open(const char *name, u32 access, struct floe_seg **segp)
{
	struct floe_seg_open req = { .access = access };

	strscpy(req.name, name, sizeof(req.name));
	return floe_seg_open(&req, segp);
}

static int seg_unlink(const char *name)
{
	struct floe_seg_unlink req = {};

	strscpy(req.name, name, sizeof(req.name));
	return floe_seg_unlink(&req);
}

static bool seg_linked(const char *name)
{
	bool linked;

	mutex_lock(&floe_lock);
	linked = floe_seg_find(name);
	mutex_unlock(&floe_lock);
	return linked;
}

/* Register a port; returns its id, or 0 with *@err set. */
static u64 reg(struct floe_file *ff, u32 role, u32 *slot, int *err)
{
	struct floe_port_register req = { .role = role, .node_id = 7 };
	int ret;

	strscpy(req.service, "svc/test", sizeof(req.service));
	ret = floe_port_register(ff, &req);
	if (err)
		*err = ret;
	if (slot)
		*slot = req.slot;
	return ret ? 0 : req.id;
}

static int unreg(struct floe_file *ff, u64 id)
{
	struct floe_port_unregister req = { .id = id };

	return floe_port_unregister(ff, &req);
}

/* FLOE_IOC_SEG_HOLD from @ff: add, or release with FLOE_HOLD_RELEASE. */
static int hold(struct floe_file *ff, u64 owner, u64 holder, u32 flags)
{
	struct floe_seg_hold req = {
		.owner_port = owner, .holder_port = holder, .flags = flags,
	};

	return floe_seg_hold(ff, &req);
}

static struct floe_port *port_of(u64 id)
{
	struct floe_port *port;

	mutex_lock(&floe_lock);
	port = floe_port_lookup(id);
	mutex_unlock(&floe_lock);
	return port;
}

/* Create a segment owned by port @owner of @ff and drop our reference. */
static void create_owned(struct kunit *test, struct floe_file *ff,
			 const char *name, u64 owner)
{
	struct floe_seg *seg;

	KUNIT_ASSERT_EQ(test, create(ff, name, 1, owner, &seg), 0);
	floe_seg_put(seg);
}

static void expect_no_segments(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, atomic_read(&floe_nr_segs), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&floe_seg_bytes), 0);
	KUNIT_EXPECT_TRUE(test, hash_empty(floe_users));
	KUNIT_EXPECT_TRUE(test, hash_empty(floe_seg_index));
}

/* Run as fsuid @uid without capabilities; returns the creds to revert. */
static const struct cred *become_user(struct kunit *test, uid_t uid)
{
	struct cred *cred = prepare_creds();
	const struct cred *old;

	KUNIT_ASSERT_NOT_NULL(test, cred);
	cred->fsuid = KUIDT_INIT(uid);
	cred->fsgid = KGIDT_INIT(uid);
	cap_clear(cred->cap_effective);
	old = override_creds(cred);
	put_cred(cred);
	return old;
}

static void floe_test_name_valid(struct kunit *test)
{
	static const char * const bad[] = {
		".hidden", ".", "..", "a/b", "a b", "a\tb", "a:b", "\xc3\xa9",
		"a*",
	};
	char name[FLOE_NAME_MAX] = {};
	int i;

	KUNIT_EXPECT_FALSE(test, floe_name_valid(name));
	strscpy(name, "a", sizeof(name));
	KUNIT_EXPECT_TRUE(test, floe_name_valid(name));
	strscpy(name, "Ab9._-x", sizeof(name));
	KUNIT_EXPECT_TRUE(test, floe_name_valid(name));
	strscpy(name, "x.", sizeof(name));
	KUNIT_EXPECT_TRUE(test, floe_name_valid(name));

	memset(name, 'n', FLOE_NAME_MAX - 1);
	KUNIT_EXPECT_TRUE(test, floe_name_valid(name));	/* 63 chars */
	memset(name, 'n', FLOE_NAME_MAX);
	KUNIT_EXPECT_FALSE(test, floe_name_valid(name));	/* no NUL */

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(name, 0, sizeof(name));
		strscpy(name, bad[i], sizeof(name));
		KUNIT_EXPECT_FALSE_MSG(test, floe_name_valid(name), "%s", bad[i]);
	}

	memset(name, 0, sizeof(name));
	strscpy(name, "ok", sizeof(name));
	name[FLOE_NAME_MAX - 1] = 'x';		/* garbage after the NUL */
	KUNIT_EXPECT_FALSE(test, floe_name_valid(name));
	name[FLOE_NAME_MAX - 1] = 0;
	name[3] = 'x';
	KUNIT_EXPECT_FALSE(test, floe_name_valid(name));
}

static void floe_test_service_valid(struct kunit *test)
{
	char s[FLOE_SERVICE_MAX] = {};

	KUNIT_EXPECT_FALSE(test, floe_service_valid(s));
	strscpy(s, " /svc name~ ", sizeof(s));
	KUNIT_EXPECT_TRUE(test, floe_service_valid(s));
	memset(s, 'z', FLOE_SERVICE_MAX - 1);
	KUNIT_EXPECT_TRUE(test, floe_service_valid(s));	/* 255 chars */
	s[FLOE_SERVICE_MAX - 1] = 'z';
	KUNIT_EXPECT_FALSE(test, floe_service_valid(s));	/* no NUL */

	memset(s, 0, sizeof(s));
	strscpy(s, "tab\there", sizeof(s));
	KUNIT_EXPECT_FALSE(test, floe_service_valid(s));
	s[3] = 0x7f;
	KUNIT_EXPECT_FALSE(test, floe_service_valid(s));
	s[3] = (char)0x80;
	KUNIT_EXPECT_FALSE(test, floe_service_valid(s));

	memset(s, 0, sizeof(s));
	strscpy(s, "svc", sizeof(s));
	s[200] = 'x';
	KUNIT_EXPECT_FALSE(test, floe_service_valid(s));
}

static void floe_test_mode_allows(struct kunit *test)
{
	const u32 ro = FLOE_ACCESS_RO, rw = FLOE_ACCESS_RW;

	/* owner */
	KUNIT_EXPECT_TRUE(test, floe_mode_allows(0600, true, false, rw));
	KUNIT_EXPECT_TRUE(test, floe_mode_allows(0400, true, false, ro));
	KUNIT_EXPECT_FALSE(test, floe_mode_allows(0400, true, false, rw));
	KUNIT_EXPECT_FALSE(test, floe_mode_allows(0200, true, false, rw));
	/* the owner class decides even when group/other would allow */
	KUNIT_EXPECT_FALSE(test, floe_mode_allows(0066, true, true, ro));
	/* group */
	KUNIT_EXPECT_FALSE(test, floe_mode_allows(0600, false, true, ro));
	KUNIT_EXPECT_TRUE(test, floe_mode_allows(0640, false, true, ro));
	KUNIT_EXPECT_FALSE(test, floe_mode_allows(0640, false, true, rw));
	KUNIT_EXPECT_TRUE(test, floe_mode_allows(0660, false, true, rw));
	KUNIT_EXPECT_FALSE(test, floe_mode_allows(0606, false, true, ro));
	/* other */
	KUNIT_EXPECT_FALSE(test, floe_mode_allows(0660, false, false, ro));
	KUNIT_EXPECT_TRUE(test, floe_mode_allows(0604, false, false, ro));
	KUNIT_EXPECT_FALSE(test, floe_mode_allows(0604, false, false, rw));
	KUNIT_EXPECT_TRUE(test, floe_mode_allows(0777, false, false, rw));
	KUNIT_EXPECT_FALSE(test, floe_mode_allows(0, true, true, ro));
}

static void floe_test_seg_size(struct kunit *test)
{
	u64 out = 0;

	KUNIT_EXPECT_EQ(test, floe_seg_size(0, U64_MAX, &out), -EINVAL);
	KUNIT_EXPECT_EQ(test, floe_seg_size(1, U64_MAX, &out), 0);
	KUNIT_EXPECT_EQ(test, out, (u64)PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, floe_seg_size(PAGE_SIZE, U64_MAX, &out), 0);
	KUNIT_EXPECT_EQ(test, out, (u64)PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, floe_seg_size(PAGE_SIZE + 1, U64_MAX, &out), 0);
	KUNIT_EXPECT_EQ(test, out, 2 * (u64)PAGE_SIZE);
	/* rounding overflows */
	KUNIT_EXPECT_EQ(test, floe_seg_size(U64_MAX, U64_MAX, &out), -EFBIG);
	KUNIT_EXPECT_EQ(test, floe_seg_size(U64_MAX - PAGE_SIZE + 2, U64_MAX, &out),
			-EFBIG);
	/* beyond a file's size */
	KUNIT_EXPECT_EQ(test, floe_seg_size((u64)MAX_LFS_FILESIZE + 1, U64_MAX,
					    &out), -EFBIG);
	/* the cap applies to the rounded size */
	KUNIT_EXPECT_EQ(test, floe_seg_size(4 * PAGE_SIZE, 4 * PAGE_SIZE, &out), 0);
	KUNIT_EXPECT_EQ(test, floe_seg_size(4 * PAGE_SIZE + 1, 5 * PAGE_SIZE - 1,
					    &out), -EFBIG);
}

static void floe_test_create_validation(struct kunit *test)
{
	struct floe_test *t = test->priv;
	struct floe_seg_create req = { .name = "v", .size = 1, .mode = 0600 };
	struct floe_seg_open o = { .name = "v", .access = 3 };
	struct floe_seg_unlink u = { .name = "v", .reserved = { 0, 1 } };
	struct floe_seg *seg;

	req.mode = 01000;
	KUNIT_EXPECT_EQ(test, floe_seg_create(&t->ff[0], &req, &seg), -EINVAL);
	req.mode = 0600;
	req.flags = ~FLOE_SEG_FLAGS_ALL;
	KUNIT_EXPECT_EQ(test, floe_seg_create(&t->ff[0], &req, &seg), -EINVAL);
	req.flags = 0;
	req.pad = 1;
	KUNIT_EXPECT_EQ(test, floe_seg_create(&t->ff[0], &req, &seg), -EINVAL);
	req.pad = 0;
	req.reserved[3] = 1;
	KUNIT_EXPECT_EQ(test, floe_seg_create(&t->ff[0], &req, &seg), -EINVAL);
	req.reserved[3] = 0;
	req.size = 0;
	KUNIT_EXPECT_EQ(test, floe_seg_create(&t->ff[0], &req, &seg), -EINVAL);
	req.size = 1;
	req.name[0] = '.';
	KUNIT_EXPECT_EQ(test, floe_seg_create(&t->ff[0], &req, &seg), -EINVAL);

	KUNIT_EXPECT_EQ(test, floe_seg_open(&o, &seg), -EINVAL);
	o.access = 0;
	KUNIT_EXPECT_EQ(test, floe_seg_open(&o, &seg), -EINVAL);
	o.access = FLOE_ACCESS_RO;
	o.flags = 2;
	KUNIT_EXPECT_EQ(test, floe_seg_open(&o, &seg), -EINVAL);
	o.flags = FLOE_SEG_CLOEXEC;
	o.reserved[0] = 1;
	KUNIT_EXPECT_EQ(test, floe_seg_open(&o, &seg), -EINVAL);
	o.reserved[0] = 0;
	KUNIT_EXPECT_EQ(test, floe_seg_open(&o, &seg), -ENOENT);

	KUNIT_EXPECT_EQ(test, floe_seg_unlink(&u), -EINVAL);
	expect_no_segments(test);
}

static void floe_test_caps(struct kunit *test)
{
	struct floe_test *t = test->priv;
	struct floe_seg *a, *b, *c;
	const struct cred *old;

	floe_max_segments = 2;
	KUNIT_ASSERT_EQ(test, create(&t->ff[0], "a", 1, 0, &a), 0);
	KUNIT_ASSERT_EQ(test, create(&t->ff[0], "b", 3 * PAGE_SIZE, 0, &b), 0);
	KUNIT_EXPECT_EQ(test, create(&t->ff[0], "c", 1, 0, &c), -ENFILE);
	KUNIT_EXPECT_EQ(test, atomic_read(&floe_nr_segs), 2);
	KUNIT_EXPECT_EQ(test, atomic64_read(&floe_seg_bytes), 4 * PAGE_SIZE);
	floe_max_segments = 4096;

	floe_max_total_bytes = 5 * PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, create(&t->ff[0], "c", PAGE_SIZE + 1, 0, &c),
			-ENOSPC);
	KUNIT_ASSERT_EQ(test, create(&t->ff[0], "c", PAGE_SIZE, 0, &c), 0);
	KUNIT_EXPECT_EQ(test, seg_unlink("c"), 0);
	floe_seg_put(c);
	/* lowered below current use: nothing fits, nothing underflows */
	floe_max_total_bytes = PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, create(&t->ff[0], "c", 1, 0, &c), -ENOSPC);
	floe_max_total_bytes = 8ULL << 30;

	/* the per-user cap is per creator uid */
	floe_max_user_bytes = 6 * PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, create(&t->ff[0], "c", 3 * PAGE_SIZE, 0, &c),
			-EDQUOT);
	KUNIT_EXPECT_EQ(test, create(&t->ff[0], "c", 7 * PAGE_SIZE, 0, &c),
			-EFBIG);
	old = become_user(test, 1000);
	KUNIT_EXPECT_EQ(test, create(&t->ff[0], "c", 6 * PAGE_SIZE, 0, &c), 0);
	revert_creds(old);
	KUNIT_EXPECT_EQ(test, c->size, 6 * (u64)PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, atomic64_read(&floe_seg_bytes), 10 * PAGE_SIZE);

	/* unlinking keeps the charge while references remain */
	KUNIT_EXPECT_EQ(test, seg_unlink("a"), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&floe_nr_segs), 3);
	floe_seg_put(a);
	floe_seg_put(b);
	floe_seg_put(c);
	KUNIT_EXPECT_EQ(test, atomic_read(&floe_nr_segs), 2);
	floe_file_release(&t->ff[0]);
	expect_no_segments(test);
}

static void floe_test_seg_lifecycle(struct kunit *test)
{
	struct floe_test *t = test->priv;
	struct floe_seg *seg, *o, *again;
	struct floe_seg_open req = { .name = "life", .access = FLOE_ACCESS_RW };

	KUNIT_ASSERT_EQ(test, create(&t->ff[0], "life", 10, 0, &seg), 0);
	KUNIT_EXPECT_EQ(test, kref_read(&seg->kobj.kref), 2);	/* index + ours */
	KUNIT_EXPECT_TRUE(test, seg->kobj.state_in_sysfs);
	KUNIT_EXPECT_EQ(test, create(&t->ff[1], "life", 10, 0, &o), -EEXIST);

	KUNIT_ASSERT_EQ(test, floe_seg_open(&req, &o), 0);
	KUNIT_EXPECT_PTR_EQ(test, o, seg);
	KUNIT_EXPECT_EQ(test, req.size, (u64)PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, kref_read(&seg->kobj.kref), 3);
	floe_seg_put(o);

	KUNIT_EXPECT_EQ(test, seg_unlink("life"), 0);
	KUNIT_EXPECT_FALSE(test, seg->kobj.state_in_sysfs);
	KUNIT_EXPECT_EQ(test, kref_read(&seg->kobj.kref), 1);
	KUNIT_EXPECT_EQ(test, seg_open("life", FLOE_ACCESS_RO, &o), -ENOENT);
	KUNIT_EXPECT_EQ(test, seg_unlink("life"), -ENOENT);

	/* the name is free while the old memory lives on */
	KUNIT_ASSERT_EQ(test, create(&t->ff[1], "life", 1, 0, &again), 0);
	KUNIT_EXPECT_PTR_NE(test, again, seg);
	KUNIT_EXPECT_EQ(test, atomic_read(&floe_nr_segs), 2);
	floe_seg_put(seg);
	KUNIT_EXPECT_EQ(test, atomic_read(&floe_nr_segs), 1);

	/* the owning file's release unlinks */
	floe_seg_put(again);
	KUNIT_EXPECT_TRUE(test, seg_linked("life"));
	floe_file_release(&t->ff[1]);
	KUNIT_EXPECT_FALSE(test, seg_linked("life"));
	expect_no_segments(test);
}

static void floe_test_persist(struct kunit *test)
{
	struct floe_test *t = test->priv;
	struct floe_seg_create req = {
		.name = "shared", .size = 1, .mode = 0644,
		.flags = FLOE_SEG_PERSIST, .owner_port = 1,
	};
	struct floe_seg_open o = { .name = "shared", .access = FLOE_ACCESS_RO,
				   .flags = FLOE_SEG_PERSIST };
	struct floe_seg *seg;

	KUNIT_ASSERT_NE(test, reg(&t->ff[0], FLOE_ROLE_NODE, NULL, NULL), 0);
	/* persistent names have no owner */
	KUNIT_EXPECT_EQ(test, floe_seg_create(&t->ff[0], &req, &seg), -EINVAL);
	req.owner_port = 0;
	KUNIT_ASSERT_EQ(test, floe_seg_create(&t->ff[0], &req, &seg), 0);
	floe_seg_put(seg);
	KUNIT_EXPECT_EQ(test, floe_seg_open(&o, &seg), -EINVAL);	/* create only */

	floe_file_release(&t->ff[0]);
	KUNIT_EXPECT_TRUE(test, seg_linked("shared"));
	KUNIT_EXPECT_EQ(test, seg_unlink("shared"), 0);
	KUNIT_EXPECT_FALSE(test, seg_linked("shared"));
	expect_no_segments(test);

	/* module exit frees what is left */
	KUNIT_ASSERT_EQ(test, floe_seg_create(&t->ff[1], &req, &seg), 0);
	floe_seg_put(seg);
	floe_file_release(&t->ff[1]);
	floe_seg_exit();
	expect_no_segments(test);
}

static void floe_test_seg_file(struct kunit *test)
{
	struct floe_test *t = test->priv;
	struct floe_seg *seg;
	struct file *ro, *rw;

	KUNIT_ASSERT_EQ(test, create(&t->ff[0], "file", 1, 0, &seg), 0);
	ro = floe_seg_file(seg, FLOE_ACCESS_RO);
	KUNIT_ASSERT_FALSE(test, IS_ERR(ro));
	rw = floe_seg_file(seg, FLOE_ACCESS_RW);
	KUNIT_ASSERT_FALSE(test, IS_ERR(rw));
	KUNIT_EXPECT_TRUE(test, ro->f_mode & FMODE_READ);
	KUNIT_EXPECT_FALSE(test, ro->f_mode & FMODE_WRITE);
	KUNIT_EXPECT_TRUE(test, rw->f_mode & FMODE_WRITE);
	KUNIT_EXPECT_PTR_EQ(test, ro->private_data, (void *)seg);
	KUNIT_EXPECT_EQ(test, kref_read(&seg->kobj.kref), 4);

	KUNIT_EXPECT_EQ(test, seg_unlink("file"), 0);
	floe_seg_put(seg);
	__fput_sync(rw);
	KUNIT_EXPECT_EQ(test, atomic_read(&floe_nr_segs), 1);
	__fput_sync(ro);	/* the last reference */
	expect_no_segments(test);
}

static void floe_test_permissions(struct kunit *test)
{
	struct floe_test *t = test->priv;
	struct floe_seg_create req = { .name = "perm", .size = 1, .mode = 0604 };
	struct floe_seg *seg, *o;
	const struct cred *old;

	KUNIT_ASSERT_EQ(test, floe_seg_create(&t->ff[0], &req, &seg), 0);
	KUNIT_EXPECT_EQ(test, seg->mode, 0604);

	old = become_user(test, 1000);
	KUNIT_EXPECT_EQ(test, seg_open("perm", FLOE_ACCESS_RW, &o), -EACCES);
	KUNIT_ASSERT_EQ(test, seg_open("perm", FLOE_ACCESS_RO, &o), 0);
	floe_seg_put(o);
	KUNIT_EXPECT_EQ(test, seg_unlink("perm"), -EPERM);
	revert_creds(old);

	/* root: owner bits, and CAP_DAC_OVERRIDE anyway */
	KUNIT_EXPECT_EQ(test, seg_open("perm", FLOE_ACCESS_RW, &o), 0);
	floe_seg_put(o);
	KUNIT_EXPECT_EQ(test, seg_unlink("perm"), 0);
	floe_seg_put(seg);

	/* a segment created by uid 1000 with mode 0600 */
	old = become_user(test, 1000);
	req.mode = 0600;
	KUNIT_ASSERT_EQ(test, floe_seg_create(&t->ff[0], &req, &seg), 0);
	revert_creds(old);
	old = become_user(test, 1001);
	KUNIT_EXPECT_EQ(test, seg_open("perm", FLOE_ACCESS_RO, &o), -EACCES);
	KUNIT_EXPECT_EQ(test, seg_unlink("perm"), -EPERM);
	revert_creds(old);
	old = become_user(test, 1000);
	KUNIT_EXPECT_EQ(test, seg_unlink("perm"), 0);
	revert_creds(old);
	floe_seg_put(seg);
	expect_no_segments(test);
}

static void floe_test_port_ids_slots(struct kunit *test)
{
	struct floe_test *t = test->priv;
	struct floe_live_slot *s;
	u64 id[TEST_PORTS];
	u32 slot;
	int i, err;

	for (i = 0; i < TEST_PORTS; i++) {
		id[i] = reg(&t->ff[i & 1], FLOE_ROLE_PUBLISHER, &slot, &err);
		KUNIT_EXPECT_EQ(test, err, 0);
		KUNIT_EXPECT_EQ(test, id[i], (u64)i + 1);
		KUNIT_EXPECT_EQ(test, slot, (u32)i);
	}
	KUNIT_EXPECT_EQ(test, atomic_read(&floe_nr_ports), TEST_PORTS);
	KUNIT_EXPECT_EQ(test, reg(&t->ff[0], FLOE_ROLE_NODE, NULL, &err), 0);
	KUNIT_EXPECT_EQ(test, err, -ENOSPC);

	s = floe_slot(1);
	KUNIT_EXPECT_EQ(test, s->id, id[1]);
	KUNIT_EXPECT_EQ(test, s->node_id, 7);
	KUNIT_EXPECT_EQ(test, s->role, FLOE_ROLE_PUBLISHER);
	KUNIT_EXPECT_EQ(test, s->pid, task_tgid_nr(current));

	/* only the owning file can unregister */
	KUNIT_EXPECT_EQ(test, unreg(&t->ff[0], id[1]), -ENOENT);
	KUNIT_EXPECT_EQ(test, unreg(&t->ff[1], id[1]), 0);
	KUNIT_EXPECT_EQ(test, s->id, 0);
	KUNIT_EXPECT_EQ(test, unreg(&t->ff[1], id[1]), -ENOENT);
	KUNIT_EXPECT_EQ(test, floe_deaths(), 0);	/* not a death */

	/* the slot is reused, the id is not */
	KUNIT_EXPECT_EQ(test, reg(&t->ff[0], FLOE_ROLE_READER, &slot, &err),
			(u64)TEST_PORTS + 1);
	KUNIT_EXPECT_EQ(test, slot, 1);
	KUNIT_EXPECT_EQ(test, s->id, (u64)TEST_PORTS + 1);
	KUNIT_EXPECT_EQ(test, s->role, FLOE_ROLE_READER);
	KUNIT_EXPECT_EQ(test, floe_live->registrations, TEST_PORTS + 1);

	floe_file_release(&t->ff[0]);
	floe_file_release(&t->ff[1]);
	KUNIT_EXPECT_EQ(test, reg(&t->ff[0], FLOE_ROLE_NODE, &slot, &err),
			(u64)TEST_PORTS + 2);
	KUNIT_EXPECT_EQ(test, slot, 0);
}

static void floe_test_port_validation(struct kunit *test)
{
	struct floe_test *t = test->priv;
	struct floe_port_register req = { .service = "s", .role = 0 };
	struct floe_port_unregister un = { .reserved = { 1 } };

	KUNIT_EXPECT_EQ(test, floe_port_register(&t->ff[0], &req), -EINVAL);
	req.role = FLOE_ROLE_MAX + 1;
	KUNIT_EXPECT_EQ(test, floe_port_register(&t->ff[0], &req), -EINVAL);
	req.role = FLOE_ROLE_MAX;
	req.flags = 1;
	KUNIT_EXPECT_EQ(test, floe_port_register(&t->ff[0], &req), -EINVAL);
	req.flags = 0;
	req.pad = 1;
	KUNIT_EXPECT_EQ(test, floe_port_register(&t->ff[0], &req), -EINVAL);
	req.pad = 0;
	req.reserved[2] = 1;
	KUNIT_EXPECT_EQ(test, floe_port_register(&t->ff[0], &req), -EINVAL);
	req.reserved[2] = 0;
	req.service[0] = 0;
	KUNIT_EXPECT_EQ(test, floe_port_register(&t->ff[0], &req), -EINVAL);
	req.service[0] = 's';
	KUNIT_EXPECT_EQ(test, floe_port_register(&t->ff[0], &req), 0);
	KUNIT_EXPECT_EQ(test, req.id, 1);

	un.id = req.id;
	KUNIT_EXPECT_EQ(test, floe_port_unregister(&t->ff[0], &un), -EINVAL);
	un.reserved[0] = 0;
	un.id = 0;
	KUNIT_EXPECT_EQ(test, floe_port_unregister(&t->ff[0], &un), -ENOENT);
	un.id = req.id;
	KUNIT_EXPECT_EQ(test, floe_port_unregister(&t->ff[0], &un), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&floe_nr_ports), 0);
}

static void floe_test_owner_port(struct kunit *test)
{
	struct floe_test *t = test->priv;
	struct floe_seg *seg;
	u64 mine, other;
	u32 slot;

	mine = reg(&t->ff[0], FLOE_ROLE_SERVER, &slot, NULL);
	other = reg(&t->ff[1], FLOE_ROLE_CLIENT, NULL, NULL);
	KUNIT_ASSERT_NE(test, mine, 0);
	KUNIT_ASSERT_NE(test, other, 0);
	KUNIT_EXPECT_EQ(test, create(&t->ff[0], "owned", 1, 99, &seg), -ENOENT);
	KUNIT_EXPECT_EQ(test, create(&t->ff[0], "owned", 1, other, &seg),
			-ENOENT);
	expect_no_segments(test);

	KUNIT_ASSERT_EQ(test, create(&t->ff[0], "owned", 1, mine, &seg), 0);
	KUNIT_EXPECT_EQ(test, seg->owner_port, mine);
	floe_seg_put(seg);
	KUNIT_EXPECT_EQ(test, unreg(&t->ff[0], mine), 0);
	KUNIT_EXPECT_FALSE(test, seg_linked("owned"));
	KUNIT_EXPECT_EQ(test, floe_slot(slot)->id, 0);
	expect_no_segments(test);
}

static void floe_test_death(struct kunit *test)
{
	struct floe_test *t = test->priv;
	struct floe_seg *a, *b, *c, *held;
	u64 p1, p2, deaths = floe_deaths();
	u32 s1, s2;

	p1 = reg(&t->ff[0], FLOE_ROLE_PUBLISHER, &s1, NULL);
	p2 = reg(&t->ff[0], FLOE_ROLE_SUBSCRIBER, &s2, NULL);
	KUNIT_ASSERT_NE(test, p1, 0);
	KUNIT_ASSERT_NE(test, p2, 0);
	KUNIT_ASSERT_EQ(test, create(&t->ff[0], "a", 1, p1, &a), 0);
	KUNIT_ASSERT_EQ(test, create(&t->ff[0], "b", 1, 0, &b), 0);
	KUNIT_ASSERT_EQ(test, create(&t->ff[1], "c", 1, 0, &c), 0);
	floe_seg_put(a);
	floe_seg_put(b);
	floe_seg_put(c);
	KUNIT_ASSERT_EQ(test, seg_open("a", FLOE_ACCESS_RO, &held), 0);

	floe_file_release(&t->ff[0]);
	KUNIT_EXPECT_EQ(test, floe_slot(s1)->id, 0);
	KUNIT_EXPECT_EQ(test, floe_slot(s2)->id, 0);
	KUNIT_EXPECT_EQ(test, floe_deaths(), deaths + 1);
	KUNIT_EXPECT_NE(test, floe_deaths(), t->ff[1].seen_deaths);
	KUNIT_EXPECT_EQ(test, atomic_read(&floe_nr_ports), 0);
	KUNIT_EXPECT_FALSE(test, seg_linked("a"));
	KUNIT_EXPECT_FALSE(test, seg_linked("b"));
	KUNIT_EXPECT_TRUE(test, seg_linked("c"));
	/* the unlinked segment lives on for its holder */
	KUNIT_EXPECT_EQ(test, held->size, (u64)PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, atomic_read(&floe_nr_segs), 2);
	floe_seg_put(held);

	/* releasing a file without ports is no death */
	floe_file_release(&t->ff[1]);
	KUNIT_EXPECT_EQ(test, floe_deaths(), deaths + 1);
	expect_no_segments(test);
}

static void floe_test_live_header(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, floe_live->magic, FLOE_LIVE_MAGIC);
	KUNIT_EXPECT_EQ(test, floe_live->abi, FLOE_ABI_VERSION);
	KUNIT_EXPECT_EQ(test, floe_live->max_ports, TEST_PORTS);
	KUNIT_EXPECT_EQ(test, floe_live->slot_size, sizeof(struct floe_live_slot));
	KUNIT_EXPECT_EQ(test, floe_live_size, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, sizeof(struct floe_live_header), 64);
	KUNIT_EXPECT_EQ(test, sizeof(struct floe_live_slot), 32);
}

static void floe_test_sysfs(struct kunit *test)
{
	struct floe_test *t = test->priv;
	struct floe_seg_create req = { .name = "sys", .size = 1, .mode = 0640 };
	struct floe_port *port;
	struct floe_seg *seg;
	char *buf = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	u64 id, val;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	id = reg(&t->ff[0], FLOE_ROLE_NOTIFIER, NULL, NULL);
	KUNIT_ASSERT_NE(test, id, 0);
	req.owner_port = id;
	KUNIT_ASSERT_EQ(test, floe_seg_create(&t->ff[0], &req, &seg), 0);
	mutex_lock(&floe_lock);
	port = floe_port_find(&t->ff[0], id);
	mutex_unlock(&floe_lock);
	KUNIT_ASSERT_NOT_NULL(test, port);
	KUNIT_EXPECT_TRUE(test, port->kobj.state_in_sysfs);

	port_role_show(&port->kobj, NULL, buf);
	KUNIT_EXPECT_STREQ(test, buf, "notifier\n");
	port_service_show(&port->kobj, NULL, buf);
	KUNIT_EXPECT_STREQ(test, buf, "svc/test\n");
	seg_mode_show(&seg->kobj, NULL, buf);
	KUNIT_EXPECT_STREQ(test, buf, "0640\n");
	seg_size_show(&seg->kobj, NULL, buf);
	KUNIT_EXPECT_EQ(test, kstrtoull(buf, 10, &val), 0);
	KUNIT_EXPECT_EQ(test, val, (u64)PAGE_SIZE);
	seg_owner_show(&seg->kobj, NULL, buf);
	KUNIT_EXPECT_EQ(test, kstrtoull(buf, 10, &val), 0);
	KUNIT_EXPECT_EQ(test, val, id);
	floe_nr_ports_show(NULL, NULL, buf);
	KUNIT_EXPECT_STREQ(test, buf, "1\n");

	KUNIT_EXPECT_EQ(test, unreg(&t->ff[0], id), 0);
	KUNIT_EXPECT_FALSE(test, seg->kobj.state_in_sysfs);
	floe_seg_put(seg);
	expect_no_segments(test);
}

/* Holds change nothing while the owner lives; then they keep its names. */
static void floe_test_hold_orphan(struct kunit *test)
{
	struct floe_test *t = test->priv;
	struct floe_seg *seg, *o;
	char *buf = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	u64 owner, holder, deaths = floe_deaths();
	u32 slot;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	owner = reg(&t->ff[0], FLOE_ROLE_PUBLISHER, &slot, NULL);
	holder = reg(&t->ff[1], FLOE_ROLE_SUBSCRIBER, NULL, NULL);
	KUNIT_ASSERT_NE(test, owner, 0);
	KUNIT_ASSERT_NE(test, holder, 0);
	KUNIT_ASSERT_EQ(test, create(&t->ff[0], "before", 1, owner, &seg), 0);
	seg_holders_show(&seg->kobj, NULL, buf);
	KUNIT_EXPECT_STREQ(test, buf, "0\n");

	KUNIT_EXPECT_EQ(test, hold(&t->ff[0], owner, holder, 0), 0);
	KUNIT_EXPECT_EQ(test, hold(&t->ff[0], owner, holder, 0), 0);	/* one hold */
	KUNIT_EXPECT_EQ(test, atomic_read(&floe_nr_holds), 1);
	seg_holders_show(&seg->kobj, NULL, buf);
	KUNIT_EXPECT_STREQ(test, buf, "1\n");
	floe_nr_holds_show(NULL, NULL, buf);
	KUNIT_EXPECT_STREQ(test, buf, "1\n");
	/* segments created after the hold are covered too */
	create_owned(test, &t->ff[0], "after", owner);

	/* the owner dies: its names stay, with their owner id, in sysfs */
	floe_file_release(&t->ff[0]);
	KUNIT_EXPECT_EQ(test, floe_deaths(), deaths + 1);
	KUNIT_EXPECT_EQ(test, floe_slot(slot)->id, 0);
	KUNIT_EXPECT_NULL(test, port_of(owner));
	KUNIT_EXPECT_EQ(test, atomic_read(&floe_nr_ports), 1);
	KUNIT_EXPECT_TRUE(test, seg_linked("before"));
	KUNIT_EXPECT_TRUE(test, seg_linked("after"));
	KUNIT_EXPECT_TRUE(test, seg->kobj.state_in_sysfs);
	KUNIT_EXPECT_EQ(test, seg->owner_port, owner);
	seg_holders_show(&seg->kobj, NULL, buf);
	KUNIT_EXPECT_STREQ(test, buf, "1\n");
	KUNIT_ASSERT_EQ(test, seg_open("before", FLOE_ACCESS_RO, &o), 0);
	KUNIT_EXPECT_PTR_EQ(test, o, seg);
	floe_seg_put(o);
	/* an orphan cannot own anything new, nor be held again */
	KUNIT_EXPECT_EQ(test, create(&t->ff[0], "new", 1, owner, &o), -ENOENT);
	KUNIT_EXPECT_EQ(test, hold(&t->ff[0], owner, holder, 0), -ENOENT);

	/* the last hold goes: so do the names */
	KUNIT_EXPECT_EQ(test, hold(&t->ff[1], owner, holder, FLOE_HOLD_RELEASE), 0);
	KUNIT_EXPECT_FALSE(test, seg_linked("before"));
	KUNIT_EXPECT_FALSE(test, seg_linked("after"));
	KUNIT_EXPECT_FALSE(test, seg->kobj.state_in_sysfs);
	KUNIT_EXPECT_EQ(test, atomic_read(&floe_nr_holds), 0);
	KUNIT_EXPECT_EQ(test, hold(&t->ff[1], owner, holder, FLOE_HOLD_RELEASE),
			-ENOENT);
	floe_seg_put(seg);
	expect_no_segments(test);
}

/* Who may release, and what releasing while the owner lives does. */
static void floe_test_hold_release(struct kunit *test)
{
	struct floe_test *t = test->priv;
	u64 owner, holder, other;

	owner = reg(&t->ff[0], FLOE_ROLE_PUBLISHER, NULL, NULL);
	holder = reg(&t->ff[1], FLOE_ROLE_SUBSCRIBER, NULL, NULL);
	other = reg(&t->ff[2], FLOE_ROLE_SUBSCRIBER, NULL, NULL);
	KUNIT_ASSERT_NE(test, other, 0);
	create_owned(test, &t->ff[0], "rel", owner);
	KUNIT_ASSERT_EQ(test, hold(&t->ff[0], owner, holder, 0), 0);

	/* a third file has neither port */
	KUNIT_EXPECT_EQ(test, hold(&t->ff[2], owner, holder, FLOE_HOLD_RELEASE),
			-EPERM);
	KUNIT_EXPECT_EQ(test, hold(&t->ff[2], owner, other, FLOE_HOLD_RELEASE),
			-ENOENT);	/* its own holder port, no such hold */
	KUNIT_EXPECT_EQ(test, atomic_read(&floe_nr_holds), 1);
	/* the owner withdraws the hold while it lives */
	KUNIT_EXPECT_EQ(test, hold(&t->ff[0], owner, holder, FLOE_HOLD_RELEASE), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&floe_nr_holds), 0);
	KUNIT_EXPECT_TRUE(test, seg_linked("rel"));
	KUNIT_EXPECT_EQ(test, hold(&t->ff[0], owner, holder, FLOE_HOLD_RELEASE),
			-ENOENT);
	/* unheld, the owner's unregistration unlinks as before */
	KUNIT_EXPECT_EQ(test, unreg(&t->ff[0], owner), 0);
	KUNIT_EXPECT_FALSE(test, seg_linked("rel"));
	expect_no_segments(test);
}

/* A holder that unregisters or dies drops its holds; orphans go with them. */
static void floe_test_hold_holder_gone(struct kunit *test)
{
	struct floe_test *t = test->priv;
	struct floe_port *port;
	u64 owner, h1, h2;

	owner = reg(&t->ff[0], FLOE_ROLE_PUBLISHER, NULL, NULL);
	h1 = reg(&t->ff[1], FLOE_ROLE_SUBSCRIBER, NULL, NULL);
	h2 = reg(&t->ff[2], FLOE_ROLE_SUBSCRIBER, NULL, NULL);
	KUNIT_ASSERT_NE(test, h2, 0);
	create_owned(test, &t->ff[0], "hg", owner);
	KUNIT_ASSERT_EQ(test, hold(&t->ff[0], owner, h1, 0), 0);
	KUNIT_ASSERT_EQ(test, hold(&t->ff[0], owner, h2, 0), 0);

	/* a holder gone while the owner lives: one hold less */
	KUNIT_EXPECT_EQ(test, unreg(&t->ff[1], h1), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&floe_nr_holds), 1);
	port = port_of(owner);
	KUNIT_ASSERT_NOT_NULL(test, port);
	KUNIT_EXPECT_EQ(test, atomic_read(&port->nr_holders), 1);
	KUNIT_EXPECT_EQ(test, hold(&t->ff[0], owner, h1, 0), -ESRCH);

	KUNIT_EXPECT_EQ(test, unreg(&t->ff[0], owner), 0);
	KUNIT_EXPECT_TRUE(test, seg_linked("hg"));
	/* the last holder dies: the orphan's names go */
	floe_file_release(&t->ff[2]);
	KUNIT_EXPECT_FALSE(test, seg_linked("hg"));
	KUNIT_EXPECT_EQ(test, atomic_read(&floe_nr_holds), 0);
	expect_no_segments(test);
}

/* Unlinking by name works regardless; an orphan without names goes. */
static void floe_test_hold_unlink(struct kunit *test)
{
	struct floe_test *t = test->priv;
	struct floe_port *holder_port;
	u64 owner, holder, bare;

	owner = reg(&t->ff[0], FLOE_ROLE_PUBLISHER, NULL, NULL);
	bare = reg(&t->ff[0], FLOE_ROLE_SERVER, NULL, NULL);
	holder = reg(&t->ff[1], FLOE_ROLE_SUBSCRIBER, NULL, NULL);
	KUNIT_ASSERT_NE(test, holder, 0);
	create_owned(test, &t->ff[0], "u1", owner);
	create_owned(test, &t->ff[0], "u2", owner);
	create_owned(test, &t->ff[0], "u3", owner);
	KUNIT_ASSERT_EQ(test, hold(&t->ff[0], owner, holder, 0), 0);
	KUNIT_ASSERT_EQ(test, hold(&t->ff[0], bare, holder, 0), 0);

	/* while the owner lives */
	KUNIT_EXPECT_EQ(test, seg_unlink("u1"), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&floe_nr_holds), 2);
	/* an owner without segments is not kept for its holds */
	KUNIT_EXPECT_EQ(test, unreg(&t->ff[0], bare), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&floe_nr_holds), 1);

	KUNIT_EXPECT_EQ(test, unreg(&t->ff[0], owner), 0);
	KUNIT_EXPECT_EQ(test, seg_unlink("u2"), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&floe_nr_holds), 1);
	KUNIT_EXPECT_TRUE(test, seg_linked("u3"));
	/* the orphan's last name: its hold goes, the holder keeps no record */
	KUNIT_EXPECT_EQ(test, seg_unlink("u3"), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&floe_nr_holds), 0);
	holder_port = port_of(holder);
	KUNIT_ASSERT_NOT_NULL(test, holder_port);
	KUNIT_EXPECT_TRUE(test, list_empty(&holder_port->held));
	KUNIT_EXPECT_EQ(test, hold(&t->ff[1], owner, holder, FLOE_HOLD_RELEASE),
			-ENOENT);
	expect_no_segments(test);
}

/* Holds among the ports of one file, and both ways: one release ends all. */
static void floe_test_hold_mutual(struct kunit *test)
{
	struct floe_test *t = test->priv;
	u64 a, b;

	a = reg(&t->ff[0], FLOE_ROLE_CLIENT, NULL, NULL);
	b = reg(&t->ff[0], FLOE_ROLE_SERVER, NULL, NULL);
	KUNIT_ASSERT_NE(test, b, 0);
	create_owned(test, &t->ff[0], "ma", a);
	create_owned(test, &t->ff[0], "mb", b);
	KUNIT_ASSERT_EQ(test, hold(&t->ff[0], a, b, 0), 0);
	KUNIT_ASSERT_EQ(test, hold(&t->ff[0], b, a, 0), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&floe_nr_holds), 2);
	floe_file_release(&t->ff[0]);
	KUNIT_EXPECT_FALSE(test, seg_linked("ma"));
	KUNIT_EXPECT_FALSE(test, seg_linked("mb"));
	KUNIT_EXPECT_EQ(test, atomic_read(&floe_nr_holds), 0);
	expect_no_segments(test);
}

static void floe_test_hold_limit(struct kunit *test)
{
	struct floe_test *t = test->priv;
	u64 owner, h[3];
	int i;

	floe_max_holders = 2;
	owner = reg(&t->ff[0], FLOE_ROLE_PUBLISHER, NULL, NULL);
	for (i = 0; i < 3; i++) {
		h[i] = reg(&t->ff[1], FLOE_ROLE_SUBSCRIBER, NULL, NULL);
		KUNIT_ASSERT_NE(test, h[i], 0);
	}
	KUNIT_EXPECT_EQ(test, hold(&t->ff[0], owner, h[0], 0), 0);
	KUNIT_EXPECT_EQ(test, hold(&t->ff[0], owner, h[1], 0), 0);
	KUNIT_EXPECT_EQ(test, hold(&t->ff[0], owner, h[2], 0), -ENOSPC);
	KUNIT_EXPECT_EQ(test, hold(&t->ff[0], owner, h[1], 0), 0);	/* held */
	KUNIT_EXPECT_EQ(test, atomic_read(&floe_nr_holds), 2);
	KUNIT_EXPECT_EQ(test, hold(&t->ff[1], owner, h[0], FLOE_HOLD_RELEASE), 0);
	KUNIT_EXPECT_EQ(test, hold(&t->ff[0], owner, h[2], 0), 0);
	/* a lowered cap keeps what exists */
	floe_max_holders = 1;
	KUNIT_EXPECT_EQ(test, atomic_read(&floe_nr_holds), 2);
	KUNIT_EXPECT_EQ(test, hold(&t->ff[0], owner, h[0], 0), -ENOSPC);
}

static void floe_test_hold_validation(struct kunit *test)
{
	struct floe_test *t = test->priv;
	struct floe_seg_hold req = {};
	u64 owner, holder, foreign;
	int i;

	owner = reg(&t->ff[0], FLOE_ROLE_PUBLISHER, NULL, NULL);
	holder = reg(&t->ff[1], FLOE_ROLE_SUBSCRIBER, NULL, NULL);
	foreign = reg(&t->ff[1], FLOE_ROLE_PUBLISHER, NULL, NULL);
	KUNIT_ASSERT_NE(test, foreign, 0);
	create_owned(test, &t->ff[0], "val", owner);

	req.owner_port = owner;
	req.holder_port = holder;
	req.flags = 2;
	KUNIT_EXPECT_EQ(test, floe_seg_hold(&t->ff[0], &req), -EINVAL);
	req.flags = ~FLOE_HOLD_RELEASE;
	KUNIT_EXPECT_EQ(test, floe_seg_hold(&t->ff[0], &req), -EINVAL);
	req.flags = 0;
	req.pad = 1;
	KUNIT_EXPECT_EQ(test, floe_seg_hold(&t->ff[0], &req), -EINVAL);
	req.pad = 0;
	for (i = 0; i < ARRAY_SIZE(req.reserved); i++) {
		req.reserved[i] = 1;
		KUNIT_EXPECT_EQ(test, floe_seg_hold(&t->ff[0], &req), -EINVAL);
		req.reserved[i] = 0;
	}
	KUNIT_EXPECT_EQ(test, hold(&t->ff[0], owner, owner, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, hold(&t->ff[0], 0, 0, FLOE_HOLD_RELEASE), -EINVAL);
	/* the owner must be this file's, the holder alive */
	KUNIT_EXPECT_EQ(test, hold(&t->ff[0], foreign, holder, 0), -ENOENT);
	KUNIT_EXPECT_EQ(test, hold(&t->ff[0], 0, holder, 0), -ENOENT);
	KUNIT_EXPECT_EQ(test, hold(&t->ff[0], owner, 0, 0), -ESRCH);
	KUNIT_EXPECT_EQ(test, hold(&t->ff[0], owner, 99, 0), -ESRCH);
	KUNIT_EXPECT_EQ(test, hold(&t->ff[0], owner, holder, FLOE_HOLD_RELEASE),
			-ENOENT);
	/* nothing changed: the owner's unregistration unlinks */
	KUNIT_EXPECT_EQ(test, atomic_read(&floe_nr_holds), 0);
	KUNIT_EXPECT_EQ(test, unreg(&t->ff[0], owner), 0);
	KUNIT_EXPECT_FALSE(test, seg_linked("val"));
	expect_no_segments(test);
}

static struct kunit_case floe_test_cases[] = {
	KUNIT_CASE(floe_test_name_valid),
	KUNIT_CASE(floe_test_service_valid),
	KUNIT_CASE(floe_test_mode_allows),
	KUNIT_CASE(floe_test_seg_size),
	KUNIT_CASE(floe_test_create_validation),
	KUNIT_CASE(floe_test_caps),
	KUNIT_CASE(floe_test_seg_lifecycle),
	KUNIT_CASE(floe_test_persist),
	KUNIT_CASE(floe_test_seg_file),
	KUNIT_CASE(floe_test_permissions),
	KUNIT_CASE(floe_test_port_ids_slots),
	KUNIT_CASE(floe_test_port_validation),
	KUNIT_CASE(floe_test_owner_port),
	KUNIT_CASE(floe_test_death),
	KUNIT_CASE(floe_test_live_header),
	KUNIT_CASE(floe_test_sysfs),
	KUNIT_CASE(floe_test_hold_orphan),
	KUNIT_CASE(floe_test_hold_release),
	KUNIT_CASE(floe_test_hold_holder_gone),
	KUNIT_CASE(floe_test_hold_unlink),
	KUNIT_CASE(floe_test_hold_mutual),
	KUNIT_CASE(floe_test_hold_limit),
	KUNIT_CASE(floe_test_hold_validation),
	{}
};

static struct kunit_suite floe_test_suite = {
	.name = "floe",
	.init = floe_test_init,
	.exit = floe_test_exit,
	.test_cases = floe_test_cases,
};

kunit_test_suites(&floe_test_suite);

MODULE_DESCRIPTION("KUnit tests for floe");
MODULE_LICENSE("Dual MIT/GPL");
