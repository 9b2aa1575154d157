// SPDX-License-Identifier: MIT
/*
 * A port killed between claiming its slot and completing it, and a
 * reclaimer killed half-way, must not leak the slot or keep the service
 * alive. Killing a process inside that window is a matter of luck, so the
 * children here leave their slots exactly as a process killed there would
 * (through the library's private headers), and are then SIGKILLed:
 *  1. a live claimer keeps its slot; once it is dead the slot is reclaimed;
 *  2. a tombstone left by a dead reclaimer is finished by the next port,
 *     including unlinking the dead publisher's data segment, but a forged
 *     one naming a live publisher (of another service) unlinks nothing;
 *  3. a node killed while claiming its node slot does not keep the service
 *     from being removed when the last live node leaves (and dead nodes'
 *     records go with floe_node_cleanup_dead).
 */
#include "helpers.h"
#include "internal.h"
#include "names.h"

#include <linux/floe.h>

#define SERVICE "t/claim_window"

static const struct floe_type u64_type = {
	.name = "t_claim_window.u64",
	.size = 8,
	.align = 8,
};

struct child_args {
	struct th_pipe to_parent;
	int claim_node_slot; /* else claim subscriber slot 0 */
};

/* Put @slot into the state its claimer leaves when killed right after the
 * compare-and-swap of the claim. */
static int leave_claiming(struct floe_backend *be, struct floe_slot *slot,
			  uint64_t expected, const struct floe_port_ref *ref)
{
	uint64_t claim = FLOE_SLOT_CLAIMING | be->ops->claim_key(be, ref);

	return atomic_compare_exchange_strong(&slot->owner, &expected, claim)
		       ? 0
		       : -1;
}

static int claimer(void *arg)
{
	struct child_args *a = arg;
	floe_node *node = th_node("claimer");
	struct floe_service_opts o = { .type = u64_type };
	struct floe_backend *be;
	struct floe_port_ref ref;
	floe_service *svc;
	int r;

	if (!node)
		return 1;
	be = node->be;
	r = th_service_open_retry(node, SERVICE, &o, &svc, 5000);
	if (!th_check(r == 0, "open: %s", floe_strerror(r)))
		return 1;
	if (a->claim_node_slot) {
		/* our node's slot: from owned back to half-claimed */
		r = leave_claiming(be, floe_svc_slot(svc, FLOE_SLOT_NODE, svc->node_slot),
				   node->ref.id, &node->ref);
	} else {
		r = be->ops->port_register(be, FLOE_ROLE_SUBSCRIBER, svc->name,
					   node->ref.id, &ref);
		if (!th_check(r == 0, "register: %s", floe_strerror(r)))
			return 1;
		r = leave_claiming(be, floe_svc_slot(svc, FLOE_SLOT_SINK, 0), 0, &ref);
	}
	th_check(r == 0, "slot left half-claimed");
	th_send_u64(&a->to_parent, (uint64_t)(r == 0));
	for (;;)
		pause();
}

/* Fork a claimer and wait until its slot is half-claimed; 0 on failure. */
static pid_t start_claimer(struct child_args *a)
{
	uint64_t ok = 0;
	pid_t pid = th_fork(claimer, a);

	if (pid < 0 || th_recv_u64(&a->to_parent, &ok, 10000) || !ok) {
		if (pid > 0)
			th_kill(pid);
		return 0;
	}
	return pid;
}

static int data_segment_exists(floe_node *node, uint64_t pub_id)
{
	char name[FLOE_SEG_NAME_MAX];
	struct floe_seg seg;

	floe_seg_name(name, node->be->domain, FLOE_KIND_DATA, pub_id, 1);
	if (node->be->ops->seg_open(node->be, name, false, &seg))
		return 0;
	floe_seg_close(&seg);
	return 1;
}

/* A publisher on its own service; returns its id (its data segment is the
 * domain's only one now), 0 on failure. */
static uint64_t start_victim(floe_node *node, floe_service **svc,
			     floe_publisher **pub)
{
	struct floe_service_opts o = { .type = u64_type };
	struct floe_name_list list;
	uint64_t id = 0;

	if (floe_service_create(node, SERVICE "_victim", &o, svc) ||
	    floe_publisher_create(*svc, NULL, pub))
		return 0;
	if (floe_list_kind(node, FLOE_KIND_DATA, &list) == 0 &&
	    list.count == 1 &&
	    !floe_seg_name_id(list.names[0], strlen(node->be->domain) + 3,
			      &id))
		id = 0;
	free(list.names);
	return id;
}

int main(void)
{
	struct floe_pubsub_qos qos;
	struct floe_service_opts o = { .type = u64_type, .qos = &qos };
	struct child_args a = { 0 };
	floe_subscriber *sub = NULL;
	floe_publisher *pub = NULL;
	struct floe_seg seg;
	char name[FLOE_SEG_NAME_MAX];
	const char *domain = th_setup("claimw");
	uint64_t dead_pub = 0x123456789abcull, victim_id;
	/* owned by a port no node or module slot knows: dead on both backends */
	const struct floe_data_header dead_hdr = {
		.magic = FLOE_DATA_MAGIC,
		.owner = { .id = dead_pub, .node_id = dead_pub, .slot = 0 },
		.publisher_id = dead_pub,
	};
	floe_service *victim_svc;
	floe_publisher *victim;
	floe_service *svc;
	floe_node *node;
	pid_t pid;
	int r;

	tap_plan(14);
	floe_pubsub_qos_init(&qos);
	qos.max_publishers = 1;
	qos.max_subscribers = 1;
	qos.max_nodes = 3;
	node = th_node("owner");
	tap_require(node && floe_service_create(node, SERVICE, &o, &svc) == 0,
		    "node and service");
	tap_require(th_pipe_init(&a.to_parent) == 0, "pipe");

	/* 1. a half-claimed subscriber slot */
	pid = start_claimer(&a);
	tap_require(pid > 0, "a child leaves subscriber slot 0 half-claimed");
	r = floe_subscriber_create(svc, NULL, &sub);
	tap_eq(r, FLOE_E_PORT_LIMIT,
	       "while its claimer lives, the slot stays taken");
	tap_eq(th_kill(pid), 128 + SIGKILL, "claimer SIGKILLed");
	r = floe_subscriber_create(svc, NULL, &sub);
	tap_eq(r, 0, "then the slot is reclaimed: a subscriber gets it");

	/* 2a. a forged tombstone naming a live publisher of another service */
	victim_id = start_victim(node, &victim_svc, &victim);
	tap_require(victim_id, "a live publisher of another service");
	atomic_store(&floe_svc_slot(svc, FLOE_SLOT_SOURCE, 0)->owner,
		     FLOE_SLOT_TOMBSTONE | victim_id);
	r = floe_publisher_create(svc, NULL, &pub);
	floe_publisher_destroy(pub);
	pub = NULL;
	tap_ok(r == 0 && data_segment_exists(node, victim_id),
	       "finishing it leaves the live publisher's data alone");

	/* 2b. a tombstone of a dead publisher whose reclaimer died too */
	floe_seg_name(name, domain, FLOE_KIND_DATA, dead_pub, 1);
	r = node->be->ops->seg_create(node->be, name, 4096, 0600,
				      FLOE_SEG_SHARED, &node->ref, &dead_hdr,
				      sizeof(dead_hdr), &seg);
	tap_require(r == 0, "a data segment of the dead publisher: %s",
		    floe_strerror(r));
	floe_seg_close(&seg);
	atomic_store(&floe_svc_slot(svc, FLOE_SLOT_SOURCE, 0)->owner,
		     FLOE_SLOT_TOMBSTONE | dead_pub);
	r = floe_publisher_create(svc, NULL, &pub);
	tap_eq(r, 0, "a tombstone is finished: a publisher gets the slot");
	tap_ok(!data_segment_exists(node, dead_pub),
	       "and the dead publisher's data segment is unlinked");
	if (pub && sub) {
		const floe_sample *s;
		uint64_t v = 42;

		r = floe_publisher_send_copy(pub, &v, sizeof(v));
		r = r == 1 ? floe_subscriber_receive(sub, &s) : -1;
		tap_ok(r == 1 && *(const uint64_t *)floe_sample_payload(s) == 42,
		       "the new publisher reaches the new subscriber");
		if (r == 1)
			floe_sample_release(s);
	} else {
		tap_ok(0, "the new publisher reaches the new subscriber");
	}
	floe_publisher_destroy(pub);
	floe_subscriber_destroy(sub);
	floe_publisher_destroy(victim);
	floe_service_close(victim_svc);

	/* 3. a node killed while claiming its node slot */
	a.claim_node_slot = 1;
	pid = start_claimer(&a);
	tap_require(pid > 0, "a child leaves its node slot half-claimed");
	th_kill(pid);
	floe_service_close(svc);
	/* the dead claimers' node records go with the cleanup */
	floe_node_cleanup_dead(node);
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0,
	       "the last live node leaving removes the service: nothing left");
	th_pipe_close(&a.to_parent);
	return tap_done();
}
