// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * floe sysfs: /sys/kernel/floe/{ports,segments}/ and global counters. The
 * counters are nr_ports, nr_segments and nr_holds, as the directories take
 * the plain names.
 *
 * Every show() reads immutable fields or atomics and never takes floe_lock:
 * kobject_del() runs under floe_lock and waits for active show() calls,
 * so whatever a segment's directory points at lives while show() runs.
 */
#include <linux/cred.h>
#include <linux/kobject.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include "floe_internal.h"

#define to_port(k)	container_of(k, struct floe_port, kobj)
#define to_seg(k)	container_of(k, struct floe_seg, kobj)

/* A read-only attribute <prefix>_attr_<name> showing @expr of @kobj. */
#define FLOE_ATTR(prefix, name, fmt, expr)				\
static ssize_t prefix##_##name##_show(struct kobject *kobj,		\
				      struct kobj_attribute *attr,	\
				      char *buf)			\
{									\
	return sysfs_emit(buf, fmt "\n", expr);				\
}									\
static struct kobj_attribute prefix##_attr_##name =			\
	__ATTR(name, 0444, prefix##_##name##_show, NULL)

static struct kobject *floe_kobj, *floe_ports_kobj, *floe_segs_kobj;

/* A linked segment's owner outlives its sysfs directory. */
static int floe_seg_holders(const struct floe_seg *seg)
{
	const struct floe_port *owner = READ_ONCE(seg->owner);

	return owner ? atomic_read(&owner->nr_holders) : 0;
}

FLOE_ATTR(floe, abi_version, "%u", FLOE_ABI_VERSION);
FLOE_ATTR(floe, nr_ports, "%d", atomic_read(&floe_nr_ports));
FLOE_ATTR(floe, nr_segments, "%d", atomic_read(&floe_nr_segs));
FLOE_ATTR(floe, segment_bytes, "%lld", atomic64_read(&floe_seg_bytes));
FLOE_ATTR(floe, deaths, "%llu", floe_deaths());
FLOE_ATTR(floe, max_ports, "%u", floe_max_ports);
FLOE_ATTR(floe, nr_holds, "%d", atomic_read(&floe_nr_holds));

static struct attribute *floe_attrs[] = {
	&floe_attr_abi_version.attr,
	&floe_attr_nr_ports.attr,
	&floe_attr_nr_segments.attr,
	&floe_attr_segment_bytes.attr,
	&floe_attr_deaths.attr,
	&floe_attr_max_ports.attr,
	&floe_attr_nr_holds.attr,
	NULL
};
ATTRIBUTE_GROUPS(floe);

static const char * const floe_role_names[FLOE_ROLE_MAX + 1] = {
	[FLOE_ROLE_NODE]	= "node",
	[FLOE_ROLE_PUBLISHER]	= "publisher",
	[FLOE_ROLE_SUBSCRIBER]	= "subscriber",
	[FLOE_ROLE_NOTIFIER]	= "notifier",
	[FLOE_ROLE_LISTENER]	= "listener",
	[FLOE_ROLE_CLIENT]	= "client",
	[FLOE_ROLE_SERVER]	= "server",
	[FLOE_ROLE_WRITER]	= "writer",
	[FLOE_ROLE_READER]	= "reader",
};

FLOE_ATTR(port, id, "%llu", to_port(kobj)->id);
FLOE_ATTR(port, role, "%s", floe_role_names[to_port(kobj)->role]);
FLOE_ATTR(port, service, "%s", to_port(kobj)->service);
FLOE_ATTR(port, node, "%llu", to_port(kobj)->node_id);
FLOE_ATTR(port, pid, "%d", to_port(kobj)->pid);
/* The directory exists exactly while the port is alive. */
FLOE_ATTR(port, state, "%s", "alive");
FLOE_ATTR(port, created_ns, "%llu", to_port(kobj)->created_ns);

static struct attribute *floe_port_attrs[] = {
	&port_attr_id.attr,
	&port_attr_role.attr,
	&port_attr_service.attr,
	&port_attr_node.attr,
	&port_attr_pid.attr,
	&port_attr_state.attr,
	&port_attr_created_ns.attr,
	NULL
};
ATTRIBUTE_GROUPS(floe_port);

static void floe_port_release(struct kobject *kobj)
{
	kfree(to_port(kobj));
}

const struct kobj_type floe_port_ktype = {
	.release	= floe_port_release,
	.sysfs_ops	= &kobj_sysfs_ops,
	.default_groups	= floe_port_groups,
};

FLOE_ATTR(seg, name, "%s", to_seg(kobj)->name);
FLOE_ATTR(seg, size, "%llu", to_seg(kobj)->size);
FLOE_ATTR(seg, owner, "%llu", to_seg(kobj)->owner_port);
FLOE_ATTR(seg, mode, "%04o", to_seg(kobj)->mode);
FLOE_ATTR(seg, uid, "%u", from_kuid_munged(&init_user_ns, to_seg(kobj)->uid));
FLOE_ATTR(seg, gid, "%u", from_kgid_munged(&init_user_ns, to_seg(kobj)->gid));
FLOE_ATTR(seg, mappings, "%d", atomic_read(&to_seg(kobj)->mappings));
FLOE_ATTR(seg, holders, "%d", floe_seg_holders(to_seg(kobj)));

static struct attribute *floe_seg_attrs[] = {
	&seg_attr_name.attr,
	&seg_attr_size.attr,
	&seg_attr_owner.attr,
	&seg_attr_mode.attr,
	&seg_attr_uid.attr,
	&seg_attr_gid.attr,
	&seg_attr_mappings.attr,
	&seg_attr_holders.attr,
	NULL
};
ATTRIBUTE_GROUPS(floe_seg);

/* The segment's release is its lifetime's end: see floe_segment.c. */
const struct kobj_type floe_seg_ktype = {
	.release	= floe_seg_release,
	.sysfs_ops	= &kobj_sysfs_ops,
	.default_groups	= floe_seg_groups,
};

int floe_sysfs_add_port(struct floe_port *port)
{
	return kobject_add(&port->kobj, floe_ports_kobj, "%llu", port->id);
}

int floe_sysfs_add_seg(struct floe_seg *seg)
{
	return kobject_add(&seg->kobj, floe_segs_kobj, "%s", seg->name);
}

/* @name: "floe" for the driver; the KUnit module uses its own. */
int floe_sysfs_init(const char *name)
{
	int ret = -ENOMEM;

	floe_kobj = kobject_create_and_add(name, kernel_kobj);
	if (!floe_kobj)
		return ret;
	ret = sysfs_create_groups(floe_kobj, floe_groups);
	if (ret)
		goto err;
	ret = -ENOMEM;
	floe_ports_kobj = kobject_create_and_add("ports", floe_kobj);
	floe_segs_kobj = kobject_create_and_add("segments", floe_kobj);
	if (floe_ports_kobj && floe_segs_kobj)
		return 0;
err:
	floe_sysfs_exit();
	return ret;
}

void floe_sysfs_exit(void)
{
	kobject_put(floe_segs_kobj);
	kobject_put(floe_ports_kobj);
	kobject_put(floe_kobj);
	floe_segs_kobj = NULL;
	floe_ports_kobj = NULL;
	floe_kobj = NULL;
}
