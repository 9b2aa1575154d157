// SPDX-License-Identifier: MIT
/*
 * A publisher that could not reach a subscriber (four gone publishers'
 * leftovers queued for it, docs/reliability.md) and is killed leaves
 * nothing behind: with the module, at once (it asked the subscriber to
 * hold its data before it found it must wait, and that hold used to stay,
 * keeping its data segments until the subscriber ended); with shm, once
 * the dead are cleaned up. Counted by the domain's shared-memory objects
 * and the module's holds and segments (named or not:
 * /sys/kernel/floe/nr_holds, nr_segments).
 */
#include "helpers.h"

/* What the module counts, or 0 without it. */
static long module_count(const char *name)
{
	char path[64];
	long n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/floe/%s", name);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%ld", &n) != 1)
		n = -1;
	fclose(f);
	return n;
}

/* Objects, the module's holds and its segments, in one number each. */
struct census {
	long objects, holds, segments;
};

static struct census census(const char *domain)
{
	return (struct census){ th_count_objects(domain, 0),
				module_count("nr_holds"),
				module_count("nr_segments") };
}

#define SERVICE "t/leftovers/hold"
#define GONE 4 /* publishers leaving samples in the only slot */

/* A publisher that reaches nobody, killed: exit 128 + SIGKILL, or what
 * went wrong. */
static int send_and_die(void *opts)
{
	floe_node *node = th_node("doomed");
	floe_service *svc;
	floe_publisher *pub;
	uint64_t tag = 99;

	if (!node || floe_service_open(node, SERVICE, opts, &svc) ||
	    floe_publisher_create(svc, NULL, &pub))
		return 1;
	if (floe_publisher_send_copy(pub, &tag, sizeof(tag)) != 0)
		return 2;
	raise(SIGKILL);
	return 3;
}

int main(void)
{
	const char *domain = th_setup("leftovers_hold");
	struct floe_pubsub_qos q;
	struct floe_service_opts o = th_one_slot_opts(&q, "t_leftovers_hold.Tag");
	floe_node *node = NULL;
	floe_service *svc = NULL;
	floe_subscriber *sub = NULL;
	uint64_t gone_tags;
	struct census before, after;
	int r;

	tap_plan(5);
	r = floe_node_create("leftovers_hold", NULL, &node);
	if (!r)
		r = floe_service_create(node, SERVICE, &o, &svc);
	if (!r)
		r = floe_subscriber_create(svc, NULL, &sub);
	tap_require(r == 0, "node, service, subscriber (%s)", floe_strerror(r));
	gone_tags = th_leave_leftovers(svc, GONE);
	tap_ok(gone_tags != 0, "%d publishers in turn reached the subscriber, "
	       "then left", GONE);

	before = census(domain);
	r = th_wait(th_fork(send_and_die, &o), 10000);
	/* (with the module that would unlink its data, hold or not) */
	if (floe_node_backend(node) != FLOE_BACKEND_KMOD)
		floe_node_cleanup_dead(node);
	after = census(domain);
	tap_ok(r == 128 + SIGKILL && after.objects == before.objects &&
	       after.holds == before.holds &&
	       after.segments == before.segments,
	       "one that reached nobody and was killed (%d) left nothing "
	       "behind: objects "
	       "%ld -> %ld, holds %ld -> %ld, segments %ld -> %ld", r,
	       before.objects, after.objects, before.holds, after.holds,
	       before.segments, after.segments);
	tap_eq(th_receive_tags(sub), gone_tags,
	       "the subscriber receives everything the gone ones sent");

	floe_subscriber_destroy(sub);
	floe_service_close(svc);
	floe_node_destroy(node);
	tap_ok(th_count_objects(domain, 1) == 0, "no shared objects remain");
	return tap_done();
}
