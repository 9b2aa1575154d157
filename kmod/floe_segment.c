// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * floe segments: named shmem files, handed out as fds of anon-inode files
 * whose mmap() maps the shmem file itself (as udmabuf and ashmem back their
 * memory with shmem), so page cache sharing, MAP_POPULATE and cross-process
 * futexes behave as on tmpfs.
 */
#include <linux/anon_inodes.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/stringhash.h>

#include "floe_internal.h"
#include "floe_trace.h"

/* The indexes and owner lists; see floe_internal.h for the lock order. */
DEFINE_MUTEX(floe_lock);

unsigned int floe_max_segments = 4096;
unsigned long long floe_max_total_bytes = 8ULL << 30;
unsigned long long floe_max_user_bytes = 4ULL << 30;

/* Segments whose memory exists (linked or not), and their bytes. */
atomic_t floe_nr_segs;
atomic64_t floe_seg_bytes;

/* Linked segments by name, under floe_lock. */
static DEFINE_HASHTABLE(floe_seg_index, 8);

/*
 * Bytes held per creator uid. Charged at creation, uncharged by the last
 * put, which may run under mmap_lock: hence a spinlock of its own.
 */
struct floe_user {
	struct hlist_node node;
	kuid_t uid;
	u64 bytes;
};

static DEFINE_HASHTABLE(floe_users, 6);
static DEFINE_SPINLOCK(floe_acct_lock);

static bool floe_name_char(char c)
{
	/* Not isalnum(): the kernel's ctype classifies Latin-1 letters too. */
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* 1..63 of [A-Za-z0-9._-], not starting with '.', zero after the NUL. */
static bool floe_name_valid(const char *name)
{
	size_t len = strnlen(name, FLOE_NAME_MAX);
	size_t i;

	if (!len || len == FLOE_NAME_MAX || name[0] == '.')
		return false;
	for (i = 0; i < len; i++)
		if (!floe_name_char(name[i]))
			return false;
	return !memchr_inv(name + len, 0, FLOE_NAME_MAX - len);
}

/* Round @size up to whole pages; no segment may exceed one user's cap. */
static int floe_seg_size(u64 size, u64 max, u64 *out)
{
	u64 r;

	if (!size)
		return -EINVAL;
	if (check_add_overflow(size, (u64)PAGE_SIZE - 1, &r))
		return -EFBIG;
	r &= ~((u64)PAGE_SIZE - 1);
	if (r > max || r > MAX_LFS_FILESIZE)
		return -EFBIG;
	*out = r;
	return 0;
}

/* Like generic_permission(): owner bits, else group bits, else other. */
static bool floe_mode_allows(umode_t mode, bool owner, bool group, u32 access)
{
	unsigned int need = access == FLOE_ACCESS_RW ? 06 : 04;

	if (owner)
		mode >>= 6;
	else if (group)
		mode >>= 3;
	return (mode & need) == need;
}

static bool floe_may_open(const struct floe_seg *seg, u32 access)
{
	bool owner = uid_eq(current_fsuid(), seg->uid);

	return floe_mode_allows(seg->mode, owner, !owner && in_group_p(seg->gid),
				access) ||
	       capable(CAP_DAC_OVERRIDE);
}

/* @used + @add <= @cap, without overflow; @cap may have been lowered. */
static bool floe_fits(u64 used, u64 add, u64 cap)
{
	return used <= cap && add <= cap - used;
}

static struct floe_user *floe_user_find(kuid_t uid)
{
	struct floe_user *u;

	hash_for_each_possible(floe_users, u, node, __kuid_val(uid))
		if (uid_eq(u->uid, uid))
			return u;
	return NULL;
}

static int floe_charge(struct floe_seg *seg)
{
	struct floe_user *spare, *u;
	int ret = 0;

	spare = kzalloc(sizeof(*spare), GFP_KERNEL);
	if (!spare)
		return -ENOMEM;

	spin_lock(&floe_acct_lock);
	u = floe_user_find(seg->uid);
	if (atomic_read(&floe_nr_segs) >= READ_ONCE(floe_max_segments)) {
		ret = -ENFILE;
	} else if (!floe_fits(atomic64_read(&floe_seg_bytes), seg->size,
			      READ_ONCE(floe_max_total_bytes))) {
		ret = -ENOSPC;
	} else if (!floe_fits(u ? u->bytes : 0, seg->size,
			      READ_ONCE(floe_max_user_bytes))) {
		ret = -EDQUOT;
	} else {
		if (!u) {
			u = spare;
			spare = NULL;
			u->uid = seg->uid;
			hash_add(floe_users, &u->node, __kuid_val(u->uid));
		}
		u->bytes += seg->size;
		atomic_inc(&floe_nr_segs);
		atomic64_add(seg->size, &floe_seg_bytes);
		seg->user = u;
	}
	spin_unlock(&floe_acct_lock);
	kfree(spare);
	return ret;
}

static void floe_uncharge(struct floe_seg *seg)
{
	struct floe_user *u = seg->user;

	spin_lock(&floe_acct_lock);
	u->bytes -= seg->size;
	if (!u->bytes) {
		hash_del(&u->node);
		kfree(u);
	}
	atomic_dec(&floe_nr_segs);
	atomic64_sub(seg->size, &floe_seg_bytes);
	spin_unlock(&floe_acct_lock);
}

/* kobject release: the last reference (index, fd or VMA) is gone. */
void floe_seg_release(struct kobject *kobj)
{
	struct floe_seg *seg = container_of(kobj, struct floe_seg, kobj);

	if (seg->user)
		floe_uncharge(seg);
	if (seg->shmem)
		fput(seg->shmem);
	kfree(seg);
}

void floe_seg_put(struct floe_seg *seg)
{
	kobject_put(&seg->kobj);
}

static struct floe_seg *floe_seg_find(const char *name)
{
	struct floe_seg *seg;
	u32 hash = full_name_hash(NULL, name, strlen(name));

	lockdep_assert_held(&floe_lock);
	hash_for_each_possible(floe_seg_index, seg, hnode, hash)
		if (!strcmp(seg->name, name))
			return seg;
	return NULL;
}

/*
 * Make @seg visible under its name, owned by @ff, by one of its ports, or,
 * persistent, by nobody.
 */
static int floe_seg_link(struct floe_file *ff, struct floe_seg *seg)
{
	struct list_head *list = &ff->segs;
	int ret;

	lockdep_assert_held(&floe_lock);
	if (seg->persist) {
		list = NULL;
	} else if (seg->owner_port) {
		seg->owner = floe_port_find(ff, seg->owner_port);
		if (!seg->owner)
			return -ENOENT;
		list = &seg->owner->segs;
	}
	if (floe_seg_find(seg->name))
		return -EEXIST;
	ret = floe_sysfs_add_seg(seg);
	if (ret)
		return ret;
	kobject_get(&seg->kobj);
	hash_add(floe_seg_index, &seg->hnode,
		 full_name_hash(NULL, seg->name, strlen(seg->name)));
	if (list)
		list_add_tail(&seg->owner_node, list);
	trace_floe_seg_create(seg);
	return 0;
}

/* Remove the name; the memory stays while fds or mappings remain. */
static void floe_seg_unlink_locked(struct floe_seg *seg)
{
	lockdep_assert_held(&floe_lock);
	if (!hash_hashed(&seg->hnode))
		return;
	trace_floe_seg_unlink(seg);
	hash_del(&seg->hnode);
	list_del_init(&seg->owner_node);
	kobject_del(&seg->kobj);
	/* No show() runs now: the owner may go. */
	seg->owner = NULL;
	kobject_put(&seg->kobj);
}

/* Unlink every segment of an owner's list (a port or file going). */
void floe_seg_unlink_all(struct list_head *segs)
{
	struct floe_seg *seg, *tmp;

	list_for_each_entry_safe(seg, tmp, segs, owner_node)
		floe_seg_unlink_locked(seg);
}

/* Unlink one segment; an orphaned owner may go with its last one. */
static void floe_seg_unlink_one(struct floe_seg *seg)
{
	struct floe_port *owner = seg->owner;

	lockdep_assert_held(&floe_lock);
	if (!hash_hashed(&seg->hnode))
		return;
	floe_seg_unlink_locked(seg);
	if (owner)
		floe_hold_seg_unlinked(owner);
}

/*
 * Module exit: only persistent names can remain (any other has an owner
 * file, which pins the module), and no fd or mapping: this frees them.
 */
void floe_seg_exit(void)
{
	struct hlist_node *tmp;
	struct floe_seg *seg;
	int bkt;

	mutex_lock(&floe_lock);
	hash_for_each_safe(floe_seg_index, bkt, tmp, seg, hnode)
		floe_seg_unlink_locked(seg);
	mutex_unlock(&floe_lock);
	WARN_ON(atomic_read(&floe_nr_segs));
}

/* Undo a creation whose reply could not reach userspace. */
void floe_seg_remove(struct floe_seg *seg)
{
	mutex_lock(&floe_lock);
	floe_seg_unlink_one(seg);
	mutex_unlock(&floe_lock);
}

/*
 * Validate @req, allocate and link a segment. On success *@segp holds a
 * reference for the caller, besides the name index's.
 */
int floe_seg_create(struct floe_file *ff, const struct floe_seg_create *req,
		    struct floe_seg **segp)
{
	char shmem_name[FLOE_NAME_MAX + 5];
	struct floe_seg *seg;
	struct file *shmem;
	u64 size;
	int ret;

	if (!floe_name_valid(req->name) || req->mode > 0777 ||
	    req->flags & ~FLOE_SEG_FLAGS_ALL || req->pad ||
	    (req->flags & FLOE_SEG_PERSIST && req->owner_port) ||
	    memchr_inv(req->reserved, 0, sizeof(req->reserved)))
		return -EINVAL;
	ret = floe_seg_size(req->size, READ_ONCE(floe_max_user_bytes), &size);
	if (ret)
		return ret;

	seg = kzalloc(sizeof(*seg), GFP_KERNEL);
	if (!seg)
		return -ENOMEM;
	kobject_init(&seg->kobj, &floe_seg_ktype);
	INIT_HLIST_NODE(&seg->hnode);
	INIT_LIST_HEAD(&seg->owner_node);
	memcpy(seg->name, req->name, FLOE_NAME_MAX);
	seg->size = size;
	seg->mode = req->mode;
	seg->owner_port = req->owner_port;
	seg->persist = req->flags & FLOE_SEG_PERSIST;
	seg->uid = current_fsuid();
	seg->gid = current_fsgid();

	ret = floe_charge(seg);
	if (ret)
		goto put;
	/* The name shows in /proc/<pid>/maps. */
	snprintf(shmem_name, sizeof(shmem_name), "floe:%s", seg->name);
	shmem = shmem_file_setup(shmem_name, size, VM_NORESERVE);
	if (IS_ERR(shmem)) {
		ret = PTR_ERR(shmem);
		goto put;
	}
	seg->shmem = shmem;

	mutex_lock(&floe_lock);
	ret = floe_seg_link(ff, seg);
	mutex_unlock(&floe_lock);
	if (ret)
		goto put;
	*segp = seg;
	return 0;
put:
	floe_seg_put(seg);
	return ret;
}

/* Look up @req->name for @req->access; *@segp gets a reference. */
int floe_seg_open(struct floe_seg_open *req, struct floe_seg **segp)
{
	struct floe_seg *seg;

	if (!floe_name_valid(req->name) ||
	    (req->access != FLOE_ACCESS_RO && req->access != FLOE_ACCESS_RW) ||
	    req->flags & ~FLOE_SEG_CLOEXEC || req->pad ||
	    memchr_inv(req->reserved, 0, sizeof(req->reserved)))
		return -EINVAL;

	mutex_lock(&floe_lock);
	seg = floe_seg_find(req->name);
	if (seg)
		kobject_get(&seg->kobj);
	mutex_unlock(&floe_lock);
	if (!seg)
		return -ENOENT;

	if (!floe_may_open(seg, req->access)) {
		floe_seg_put(seg);
		return -EACCES;
	}
	req->size = seg->size;
	trace_floe_seg_open(seg, req->access);
	*segp = seg;
	return 0;
}

int floe_seg_unlink(const struct floe_seg_unlink *req)
{
	struct floe_seg *seg;
	int ret = 0;

	if (!floe_name_valid(req->name) ||
	    memchr_inv(req->reserved, 0, sizeof(req->reserved)))
		return -EINVAL;

	mutex_lock(&floe_lock);
	seg = floe_seg_find(req->name);
	if (!seg)
		ret = -ENOENT;
	else if (!uid_eq(current_fsuid(), seg->uid) &&
		 !capable(CAP_DAC_OVERRIDE))
		ret = -EPERM;
	else
		floe_seg_unlink_one(seg);
	mutex_unlock(&floe_lock);
	return ret;
}

/*
 * Mappings of a segment are mappings of its shmem file, served by shmem's
 * own handlers, so page cache sharing, MAP_POPULATE and cross-process
 * futexes behave as on tmpfs. floe_vm_ops forwards to them and adds
 * open/close, which count the mappings and hold a segment and a module
 * reference per VMA. shmem_vm_ops is static in mm/shmem.c: its address is
 * learnt from the first mapping (every shmem file uses the same table).
 * Side effect: vma_is_shmem() is false for these VMAs, so userfaultfd
 * refuses them.
 */
static const struct vm_operations_struct *floe_shmem_vm_ops;

static void floe_vma_open(struct vm_area_struct *vma)
{
	struct floe_seg *seg = vma->vm_private_data;

	__module_get(THIS_MODULE);
	kobject_get(&seg->kobj);
	atomic_inc(&seg->mappings);
}

static void floe_vma_close(struct vm_area_struct *vma)
{
	struct floe_seg *seg = vma->vm_private_data;

	atomic_dec(&seg->mappings);
	floe_seg_put(seg);
	module_put(THIS_MODULE);
}

static vm_fault_t floe_vma_fault(struct vm_fault *vmf)
{
	return floe_shmem_vm_ops->fault(vmf);
}

static vm_fault_t floe_vma_map_pages(struct vm_fault *vmf, pgoff_t start,
				     pgoff_t end)
{
	return floe_shmem_vm_ops->map_pages(vmf, start, end);
}

#ifdef CONFIG_NUMA
static int floe_vma_set_policy(struct vm_area_struct *vma,
			       struct mempolicy *new)
{
	return floe_shmem_vm_ops->set_policy(vma, new);
}

DEFINE_FLOE_VM_GET_POLICY(floe_vma, &floe_shmem_vm_ops)
#endif

static const struct vm_operations_struct floe_vm_ops = {
	.open		= floe_vma_open,
	.close		= floe_vma_close,
	.fault		= floe_vma_fault,
	.map_pages	= floe_vma_map_pages,
#ifdef CONFIG_NUMA
	.set_policy	= floe_vma_set_policy,
	.get_policy	= floe_vma_get_policy,
#endif
};

/*
 * Check that @ops, which shmem gave a mapping, has exactly the handlers
 * floe_vm_ops forwards to (as from 6.1 to 6.12), so that none is lost.
 */
static int floe_vm_ops_check(const struct vm_operations_struct *ops)
{
	const struct vm_operations_struct want = {
		.fault		= ops->fault,
		.map_pages	= ops->map_pages,
#ifdef CONFIG_NUMA
		.set_policy	= ops->set_policy,
		.get_policy	= ops->get_policy,
#endif
	};
	bool ok = ops->fault && ops->map_pages;

#ifdef CONFIG_NUMA
	ok = ok && ops->set_policy && ops->get_policy;
#endif
	if (WARN_ON_ONCE(!ok || memcmp(ops, &want, sizeof(want))))
		return -ENODEV;
	/* All shmem files share one table; a different one is news too. */
	if (cmpxchg(&floe_shmem_vm_ops, NULL, ops) &&
	    WARN_ON_ONCE(READ_ONCE(floe_shmem_vm_ops) != ops))
		return -ENODEV;
	return 0;
}

static int floe_segf_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct floe_seg *seg = file->private_data;
	unsigned long pages = seg->size >> PAGE_SHIFT;
	int ret;

	/*
	 * MAP_SHARED only: a private mapping would silently stop sharing at
	 * the first write. VM_MAYSHARE, as mmap() clears VM_SHARED of a
	 * shared mapping of a read-only file.
	 */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma->vm_pgoff >= pages || vma_pages(vma) > pages - vma->vm_pgoff)
		return -EINVAL;
	if (!(file->f_mode & FMODE_WRITE)) {
		if (vma->vm_flags & VM_WRITE)
			return -EACCES;
		/* mprotect(PROT_WRITE) must fail too. */
		vm_flags_clear(vma, VM_MAYWRITE);
	}

	vma_set_file(vma, seg->shmem);
	ret = call_mmap(vma->vm_file, vma);
	if (!ret)
		ret = floe_vm_ops_check(vma->vm_ops);
	if (ret)
		return ret;
	vma->vm_ops = &floe_vm_ops;
	vma->vm_private_data = seg;
	floe_vma_open(vma);
	return 0;
}

static int floe_segf_release(struct inode *inode, struct file *file)
{
	floe_seg_put(file->private_data);
	return 0;
}

static const struct file_operations floe_seg_fops = {
	.owner		= THIS_MODULE,
	.mmap		= floe_segf_mmap,
	.release	= floe_segf_release,
	.llseek		= noop_llseek,
};

/* A new file of @seg, holding its own reference, read-only unless RW. */
struct file *floe_seg_file(struct floe_seg *seg, u32 access)
{
	struct file *file;

	kobject_get(&seg->kobj);
	file = anon_inode_getfile("[floe-segment]", &floe_seg_fops, seg,
				  access == FLOE_ACCESS_RW ? O_RDWR : O_RDONLY);
	if (IS_ERR(file)) {
		floe_seg_put(seg);
		return file;
	}
	/* pread/pwrite fail like read/write (EINVAL, EBADF), not ESPIPE. */
	file->f_mode |= FMODE_PREAD | FMODE_PWRITE;
	return file;
}
