// SPDX-License-Identifier: MIT
/*
 * Shared memory runs out. shm backend: a child unshares its mount
 * namespace and mounts a 256 KiB tmpfs over /dev/shm; kmod backend: the
 * module's segment-count and byte caps are lowered to what exists. Either
 * way, creating a service or a publisher that does not fit fails with
 * FLOE_E_NO_SPACE, leaves no segment behind, and the process carries on:
 * what fits still works. Both need root; without it the test skips.
 * (Test of internals: it asks the node which backend it got.)
 */
#include <sched.h>
#include <sys/mount.h>

#include "helpers.h"
#include "internal.h"

#define SHM_SIZE "256k"
#define PARAM "/sys/module/floe/parameters/"

static const struct floe_type small_type = {
	.name = "t_no_space.Small", .size = 64, .align = 8
};
/* a data segment of many of these cannot fit in 256 KiB */
static const struct floe_type big_type = {
	.name = "t_no_space.Big", .size = 64 << 10, .align = 8
};

/* A service whose own segment is bigger than 256 KiB. */
static struct floe_pubsub_qos big_qos(void)
{
	struct floe_pubsub_qos q;

	floe_pubsub_qos_init(&q);
	q.max_publishers = 16;
	q.max_subscribers = 64;
	q.subscriber_max_buffer_size = 64;
	return q;
}

/* A service that does not fit: refused, and nothing left behind. */
static void service_short(floe_node *node, const char *what)
{
	struct floe_pubsub_qos q = big_qos();
	struct floe_service_opts big = { .type = small_type, .qos = &q };
	floe_service *svc = NULL;
	int before = th_count_objects(th_domain, 0), r;

	r = floe_service_create(node, "t/no_space/big", &big, &svc);
	tap_eq(r, FLOE_E_NO_SPACE, "%s: service too big -> NO_SPACE", what);
	tap_eq(th_count_objects(th_domain, 0), before,
	       "%s: and no segment left behind", what);
	if (r == 0)
		floe_service_close(svc);
}

/* A publisher whose pool does not fit: refused, nothing left behind. */
static void publisher_short(floe_service *svc, const char *what)
{
	floe_publisher *pub = NULL;
	int before = th_count_objects(th_domain, 0), r;

	r = floe_publisher_create(svc, NULL, &pub);
	tap_eq(r, FLOE_E_NO_SPACE,
		       "%s: publisher whose pool does not fit -> NO_SPACE", what);
	tap_eq(th_count_objects(th_domain, 0), before,
	       "%s: and no data segment left behind", what);
	if (r == 0)
		floe_publisher_destroy(pub);
}

/* What fits still works: a small service, publisher and subscriber. */
static void still_works(floe_node *node, const char *what)
{
	struct floe_service_opts o = { .type = small_type };
	const floe_sample *s = NULL;
	floe_subscriber *sub;
	floe_publisher *pub;
	floe_service *svc;
	char msg[64] = "fits";
	int ok;

	ok = floe_service_create(node, "t/no_space/small", &o, &svc) == 0;
	ok = ok && floe_publisher_create(svc, NULL, &pub) == 0;
	ok = ok && floe_subscriber_create(svc, NULL, &sub) == 0;
	ok = ok && floe_publisher_send_copy(pub, msg, sizeof(msg)) == 1 &&
	     th_receive(sub, &s, 1000) == 1 &&
	     !strcmp(floe_sample_payload(s), "fits");
	tap_ok(ok, "%s: a service that fits still works", what);
	if (!ok)
		return;
	floe_sample_release(s);
	floe_subscriber_destroy(sub);
	floe_publisher_destroy(pub);
	floe_service_close(svc);
}

static void shm_case(void)
{
	struct floe_service_opts o = { .type = big_type };
	floe_service *svc;
	floe_node *node;

	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV,
		  "size=" SHM_SIZE ",mode=1777")) {
		tap_ok(0, "a %s tmpfs over /dev/shm: %s", SHM_SIZE,
		       strerror(errno));
		return;
	}
	node = th_node("no_space");
	tap_require(node != NULL, "node on a %s /dev/shm", SHM_SIZE);
	service_short(node, "full /dev/shm");
	tap_require(floe_service_create(node, "t/no_space/pool", &o, &svc) == 0,
		    "a service of 64 KiB samples (its own segment fits)");
	publisher_short(svc, "full /dev/shm");
	floe_service_close(svc);
	still_works(node, "full /dev/shm");
	floe_node_destroy(node);
	tap_eq(th_count_objects(th_domain, 1), 0,
	       "full /dev/shm: nothing left at all");
}

static long long read_param(const char *name)
{
	char path[128], buf[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), PARAM "%s", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return buf[0] ? strtoll(buf, NULL, 10) : -1;
}

static int write_param(const char *name, long long v)
{
	char path[128];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), PARAM "%s", name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	ok = fprintf(f, "%lld\n", v) > 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static long long sys_total(const char *name)
{
	char path[128];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/floe/%s", name);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%lld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static void kmod_case(floe_node *node)
{
	struct floe_service_opts o = { .type = big_type };
	long long max_segs = read_param("max_segments");
	long long max_bytes = read_param("max_total_bytes");
	floe_service *svc;

	tap_require(max_segs > 0 && max_bytes > 0, "module caps readable");
	/* no room for one more segment */
	tap_require(write_param("max_segments", sys_total("nr_segments")) == 0,
		    "cap segments at what exists");
	service_short(node, "segment cap");
	write_param("max_segments", max_segs);

	tap_require(floe_service_create(node, "t/no_space/pool", &o, &svc) == 0,
		    "a service of 64 KiB samples");
	/* room for 128 KiB more: not a pool of 64 KiB samples */
	tap_require(write_param("max_total_bytes",
				sys_total("segment_bytes") + (128 << 10)) == 0,
		    "cap bytes at what exists + 128 KiB");
	publisher_short(svc, "byte cap");
	write_param("max_total_bytes", max_bytes);
	floe_service_close(svc);
	tap_eq(read_param("max_segments"), max_segs, "segment cap restored");
	tap_eq(read_param("max_total_bytes"), max_bytes, "byte cap restored");
	still_works(node, "caps restored");
}

int main(void)
{
	enum floe_backend_kind kind;
	floe_node *node;
	pid_t pid;

	th_setup("nospace");
	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root (a tmpfs mount, or the module's "
		       "caps)\n");
		return 0;
	}
	node = th_node("no_space");
	if (!node)
		return 1;
	kind = node->be->ops->kind;
	if (kind == FLOE_BACKEND_KMOD) {
		tap_plan(11);
		kmod_case(node);
		floe_node_destroy(node);
		return tap_done();
	}
	floe_node_destroy(node);
	/* the mount namespace is the child's: the host's /dev/shm stays */
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		tap_plan(8);
		shm_case();
		exit(tap_done());
	}
	{
		int status = th_wait(pid, 60000);

		if (status)
			tap_diag("the child on a full /dev/shm ended with %d "
				 "(128 + signal if killed)", status);
		return status ? 1 : 0;
	}
}
