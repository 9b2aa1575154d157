/* SPDX-License-Identifier: MIT */
/*
 * The service lifecycle tests (creators and removers killed, stale
 * mappings, listings): a publish-subscribe service SERVICE (each test
 * defines its own) of one uint64_t with room for 4 nodes, and the
 * children that create, mark or remove it.
 */
#ifndef FLOE_TESTS_HOST_LIFECYCLE_H
#define FLOE_TESTS_HOST_LIFECYCLE_H

#include "helpers.h"
#include "internal.h"

static inline struct floe_service_opts lc_opts(struct floe_pubsub_qos *q)
{
	floe_pubsub_qos_init(q);
	q->max_nodes = 4;
	return (struct floe_service_opts){
		.type = th_type("t_lifecycle.u64", sizeof(uint64_t),
				_Alignof(uint64_t)),
		.qos = q,
	};
}

/* Child: create the service, set it back to CREATING, die (a creator
 * killed before its service was ready). */
static inline int lc_create_and_die(void *unused)
{
	struct floe_pubsub_qos q;
	struct floe_service_opts o = lc_opts(&q);
	floe_node *node = th_node("creator");
	floe_service *svc;

	(void)unused;
	if (!node || floe_service_create(node, SERVICE, &o, &svc))
		return 1;
	atomic_store(&svc->hdr->state, FLOE_SVC_CREATING);
	raise(SIGKILL);
	return 2;
}

/* Child: open the service and close it (the last user removes it). */
static inline int lc_open_close(void *unused)
{
	struct floe_pubsub_qos q;
	struct floe_service_opts o = lc_opts(&q);
	floe_node *node = th_node("remover");
	floe_service *svc;

	(void)unused;
	if (!node || floe_service_open(node, SERVICE, &o, &svc))
		return 1;
	floe_service_close(svc);
	floe_node_destroy(node);
	return 0;
}

/* floe_service_list callback: counts SERVICE in *(int *)@ctx. */
static inline int lc_count_service(const struct floe_service_info *info,
				   void *ctx)
{
	*(int *)ctx += !strcmp(info->name, SERVICE);
	return 0;
}

#endif
