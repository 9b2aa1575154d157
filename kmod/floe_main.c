// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * floe: kernel-assisted zero-copy IPC, /dev/floe.
 *
 * The control path only: named shmem segments to mmap, ports whose death
 * (release of their /dev/floe file) is published in a read-only liveness
 * table. The ABI is include/uapi/linux/floe.h; locking and lifetime rules
 * are in floe_internal.h.
 */
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "floe_internal.h"

#define CREATE_TRACE_POINTS
#include "floe_trace.h"

static unsigned int max_ports = 1024;
module_param(max_ports, uint, 0444);
MODULE_PARM_DESC(max_ports, "Slots in the liveness table (1..65536)");

module_param_named(max_segments, floe_max_segments, uint, 0644);
MODULE_PARM_DESC(max_segments, "Most segments in existence (ENFILE)");
module_param_named(max_total_bytes, floe_max_total_bytes, ullong, 0644);
MODULE_PARM_DESC(max_total_bytes, "Most segment bytes in total (ENOSPC)");
module_param_named(max_user_bytes, floe_max_user_bytes, ullong, 0644);
MODULE_PARM_DESC(max_user_bytes,
		 "Most segment bytes per creator uid (EDQUOT; EFBIG for one segment)");
module_param_named(max_holders, floe_max_holders, uint, 0644);
MODULE_PARM_DESC(max_holders, "Most holder ports per owner port (ENOSPC)");

static int floe_open(struct inode *inode, struct file *file)
{
	struct floe_file *ff = kzalloc(sizeof(*ff), GFP_KERNEL);

	if (!ff)
		return -ENOMEM;
	floe_file_init(ff);
	file->private_data = ff;
	return stream_open(inode, file);
}

static int floe_release(struct inode *inode, struct file *file)
{
	struct floe_file *ff = file->private_data;

	floe_file_release(ff);
	kfree(ff);
	return 0;
}

static long floe_ioc_version(void __user *argp)
{
	struct floe_version v;

	if (copy_from_user(&v, argp, sizeof(v)))
		return -EFAULT;
	if (memchr_inv(v.reserved, 0, sizeof(v.reserved)))
		return -EINVAL;
	v.abi = FLOE_ABI_VERSION;
	v.max_ports = floe_max_ports;
	v.live_size = floe_live_size;
	return copy_to_user(argp, &v, sizeof(v)) ? -EFAULT : 0;
}

/*
 * Reserve an fd and make a file of @seg for it. The caller installs the fd
 * once the reply has reached userspace, so a fault leaves no fd behind.
 */
static int floe_seg_fd(struct floe_seg *seg, u32 access, u32 flags,
		       struct file **filep)
{
	struct file *file;
	int fd;

	fd = get_unused_fd_flags(flags & FLOE_SEG_CLOEXEC ? O_CLOEXEC : 0);
	if (fd < 0)
		return fd;
	file = floe_seg_file(seg, access);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		return PTR_ERR(file);
	}
	*filep = file;
	return fd;
}

static long floe_ioc_seg_create(struct floe_file *ff, void __user *argp)
{
	struct floe_seg_create req;
	struct floe_seg *seg;
	struct file *file;
	int ret;

	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	ret = floe_seg_create(ff, &req, &seg);
	if (ret)
		return ret;
	ret = floe_seg_fd(seg, FLOE_ACCESS_RW, req.flags, &file);
	if (ret < 0)
		goto unlink;
	req.fd = ret;
	if (copy_to_user(argp, &req, sizeof(req))) {
		fput(file);
		put_unused_fd(req.fd);
		ret = -EFAULT;
		goto unlink;
	}
	fd_install(req.fd, file);
	floe_seg_put(seg);
	return 0;
unlink:
	floe_seg_remove(seg);
	floe_seg_put(seg);
	return ret;
}

static long floe_ioc_seg_open(void __user *argp)
{
	struct floe_seg_open req;
	struct floe_seg *seg;
	struct file *file;
	int ret;

	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	ret = floe_seg_open(&req, &seg);
	if (ret)
		return ret;
	ret = floe_seg_fd(seg, req.access, req.flags, &file);
	floe_seg_put(seg);
	if (ret < 0)
		return ret;
	req.fd = ret;
	if (copy_to_user(argp, &req, sizeof(req))) {
		fput(file);
		put_unused_fd(req.fd);
		return -EFAULT;
	}
	fd_install(req.fd, file);
	return 0;
}

static long floe_ioc_seg_unlink(void __user *argp)
{
	struct floe_seg_unlink req;

	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	return floe_seg_unlink(&req);
}

static long floe_ioc_seg_hold(struct floe_file *ff, void __user *argp)
{
	struct floe_seg_hold req;

	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	return floe_seg_hold(ff, &req);
}

static long floe_ioc_port_register(struct floe_file *ff, void __user *argp)
{
	struct floe_port_register req;
	int ret;

	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	ret = floe_port_register(ff, &req);
	if (ret)
		return ret;
	if (copy_to_user(argp, &req, sizeof(req))) {
		struct floe_port_unregister un = { .id = req.id };

		floe_port_unregister(ff, &un);
		return -EFAULT;
	}
	return 0;
}

static long floe_ioc_port_unregister(struct floe_file *ff, void __user *argp)
{
	struct floe_port_unregister req;

	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	return floe_port_unregister(ff, &req);
}

/* Each command's _IOC_SIZE is the size of its struct: matched exactly. */
static long floe_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct floe_file *ff = file->private_data;
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case FLOE_IOC_VERSION:
		return floe_ioc_version(argp);
	case FLOE_IOC_SEG_CREATE:
		return floe_ioc_seg_create(ff, argp);
	case FLOE_IOC_SEG_OPEN:
		return floe_ioc_seg_open(argp);
	case FLOE_IOC_SEG_UNLINK:
		return floe_ioc_seg_unlink(argp);
	case FLOE_IOC_SEG_HOLD:
		return floe_ioc_seg_hold(ff, argp);
	case FLOE_IOC_PORT_REGISTER:
		return floe_ioc_port_register(ff, argp);
	case FLOE_IOC_PORT_UNREGISTER:
		return floe_ioc_port_unregister(ff, argp);
	default:
		return -ENOTTY;
	}
}

static int floe_mmap(struct file *file, struct vm_area_struct *vma)
{
	return floe_live_mmap(vma);
}

static __poll_t floe_poll(struct file *file, poll_table *wait)
{
	struct floe_file *ff = file->private_data;

	poll_wait(file, &floe_death_wq, wait);
	return floe_deaths() != READ_ONCE(ff->seen_deaths) ?
	       EPOLLIN | EPOLLRDNORM : 0;
}

/* Never blocks: returns the current deaths count and marks it seen. */
static ssize_t floe_read(struct file *file, char __user *buf, size_t count,
			 loff_t *ppos)
{
	struct floe_file *ff = file->private_data;
	u64 deaths = floe_deaths();

	if (count < sizeof(deaths))
		return -EINVAL;
	if (copy_to_user(buf, &deaths, sizeof(deaths)))
		return -EFAULT;
	WRITE_ONCE(ff->seen_deaths, deaths);
	return sizeof(deaths);
}

static const struct file_operations floe_fops = {
	.owner		= THIS_MODULE,
	.open		= floe_open,
	.release	= floe_release,
	.unlocked_ioctl	= floe_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= floe_mmap,
	.poll		= floe_poll,
	.read		= floe_read,
};

static struct miscdevice floe_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "floe",
	.fops	= &floe_fops,
	.mode	= 0666,
};

static int __init floe_init(void)
{
	int ret;

	if (!max_ports || max_ports > FLOE_MAX_PORTS_LIMIT)
		return -EINVAL;
	ret = floe_live_init(max_ports);
	if (ret)
		return ret;
	ret = floe_sysfs_init("floe");
	if (ret)
		goto err_live;
	ret = misc_register(&floe_misc);
	if (ret)
		goto err_sysfs;
	return 0;
err_sysfs:
	floe_sysfs_exit();
err_live:
	floe_live_exit();
	return ret;
}

static void __exit floe_exit(void)
{
	misc_deregister(&floe_misc);
	floe_seg_exit();
	floe_sysfs_exit();
	floe_live_exit();
}

module_init(floe_init);
module_exit(floe_exit);

MODULE_DESCRIPTION("floe zero-copy IPC: shmem segments and port liveness");
MODULE_LICENSE("Dual MIT/GPL");
