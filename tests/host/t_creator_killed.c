// SPDX-License-Identifier: MIT
/*
 * A creator killed before its service was READY leaves a name that no
 * port ever joined; nobody waits for it: listing the domain skips it at
 * once, open reports FLOE_E_BUSY at once, floe_node_cleanup_dead removes
 * it, and open_or_create of the name works. (Waiting out the creator
 * makes sense only while it lives; every one of these used to wait 2 s.)
 * The child creates the service and sets its state back to CREATING
 * before it is SIGKILLed. (Test of internals: it sets the state.)
 */
#include "helpers.h"
#include "internal.h"

#define SERVICE "t/creator_killed"

static const struct floe_type u64_type = {
	.name = "t_creator_killed.u64",
	.size = 8,
	.align = 8,
};

static struct floe_service_opts opts(struct floe_pubsub_qos *q)
{
	floe_pubsub_qos_init(q);
	return (struct floe_service_opts){ .type = u64_type, .qos = q };
}

static int create_and_die(void *unused)
{
	struct floe_pubsub_qos q;
	struct floe_service_opts o = opts(&q);
	floe_node *node = th_node("creator");
	floe_service *svc;

	(void)unused;
	if (!node || floe_service_create(node, SERVICE, &o, &svc))
		return 1;
	atomic_store(&svc->hdr->state, FLOE_SVC_CREATING);
	raise(SIGKILL);
	return 2;
}

static int on_service(const struct floe_service_info *info, void *ctx)
{
	*(int *)ctx += !strcmp(info->name, SERVICE);
	return 0;
}

static uint64_t ms_since(uint64_t t0)
{
	return (th_now_ns() - t0) / 1000000;
}

int main(void)
{
	const char *domain = th_setup("creator_killed");
	struct floe_pubsub_qos q;
	struct floe_service_opts o = opts(&q);
	floe_node *node;
	floe_service *svc;
	uint64_t t0, ms;
	int r, seen = 0;

	tap_plan(6);
	node = th_node("main");
	tap_require(th_wait(th_fork(create_and_die, NULL), 10000) ==
			    128 + SIGKILL,
		    "a creator was killed before its service was ready");
	t0 = th_now_ns();
	r = floe_service_list(node, on_service, &seen);
	ms = ms_since(t0);
	tap_ok(r >= 0 && !seen && ms < 1000,
	       "listing skips it (%d, seen %d, %" PRIu64 " ms)", r, seen, ms);
	t0 = th_now_ns();
	r = floe_service_open(node, SERVICE, &o, &svc);
	ms = ms_since(t0);
	tap_ok(r == FLOE_E_BUSY && ms < 1000, "open: %s (%" PRIu64 " ms)",
	       floe_strerror(r), ms);
	t0 = th_now_ns();
	r = floe_node_cleanup_dead(node);
	ms = ms_since(t0);
	tap_ok(r >= 0 && ms < 1000 && floe_service_open(node, SERVICE, &o,
						      &svc) == FLOE_E_NOT_FOUND,
	       "cleanup removes it (%d, %" PRIu64 " ms)", r, ms);
	r = floe_service_open_or_create(node, SERVICE, &o, &svc);
	tap_ok(r == 0, "open_or_create: %s", floe_strerror(r));
	if (!r)
		floe_service_close(svc);
	floe_node_destroy(node);
	tap_ok(th_count_objects(domain, 1) == 0, "no shared objects remain");
	return tap_done();
}
