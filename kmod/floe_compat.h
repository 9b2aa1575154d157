/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * What differs between the kernels floe builds on, 6.1 to 6.12, keyed on
 * LINUX_VERSION_CODE: the rest of the module is written for the newest
 * API and this header provides it on older kernels. In-tree (Kconfig)
 * builds always take the newest branch.
 */
#ifndef _FLOE_COMPAT_H
#define _FLOE_COMPAT_H

#include <linux/mm.h>
#include <linux/version.h>

/* 6.3 made vma->vm_flags read-only behind these helpers. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
static inline void vm_flags_clear(struct vm_area_struct *vma,
				  vm_flags_t flags)
{
	vma->vm_flags &= ~flags;
}
#endif

/*
 * 6.7 gave vm_operations_struct.get_policy the interleave index. This
 * defines @prefix_get_policy, forwarding to (*@ops)->get_policy.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
#define DEFINE_FLOE_VM_GET_POLICY(prefix, ops)				\
static struct mempolicy *prefix##_get_policy(struct vm_area_struct *vma, \
					     unsigned long addr,	\
					     pgoff_t *ilx)		\
{									\
	return (*(ops))->get_policy(vma, addr, ilx);			\
}
#else
#define DEFINE_FLOE_VM_GET_POLICY(prefix, ops)				\
static struct mempolicy *prefix##_get_policy(struct vm_area_struct *vma, \
					     unsigned long addr)	\
{									\
	return (*(ops))->get_policy(vma, addr);				\
}
#endif

/* 6.10 dropped the source argument of __assign_str() (__string has it). */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define floe_assign_str(dst, src)	__assign_str(dst)
#else
#define floe_assign_str(dst, src)	__assign_str(dst, src)
#endif

#endif /* _FLOE_COMPAT_H */
