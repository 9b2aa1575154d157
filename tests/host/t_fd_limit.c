// SPDX-License-Identifier: MIT
/*
 * File descriptors: a node keeps one, services and ports none (their
 * mappings keep the memory), so hundreds of ports fit under a small
 * `ulimit -n`; a process that has run out of descriptors gets
 * FLOE_E_FD_LIMIT (not "shared memory exhausted") from whatever needs one,
 * and works again once some are free.
 */
#include <dirent.h>
#include <sys/resource.h>

#include "helpers.h"

#define SERVICES 20
#define PUBS_PER_SERVICE 4
#define SUBS_PER_SERVICE 8
#define NOFILE 64

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the directory's own */
}

int main(void)
{
	const char *domain = th_setup("fdlimit");
	struct rlimit lim = { NOFILE, NOFILE };
	struct floe_pubsub_qos q;
	struct floe_service_opts o = { .type = th_type("t_fd.U64", 8, 8),
				       .qos = &q };
	floe_service *svc[SERVICES];
	floe_publisher *pub[SERVICES][PUBS_PER_SERVICE];
	floe_subscriber *sub[SERVICES][SUBS_PER_SERVICE];
	floe_node *node = NULL, *other = NULL;
	floe_service *esvc = NULL;
	floe_listener *listener = NULL;
	int base, fds, r = 0, spare[NOFILE], nspare = 0, made = 0;

	tap_plan(9);
	tap_require(setrlimit(RLIMIT_NOFILE, &lim) == 0, "ulimit -n %d",
		    NOFILE);
	base = open_fds();
	tap_require(floe_node_create("t_fd", NULL, &node) == 0, "node");
	floe_pubsub_qos_init(&q);
	q.max_publishers = PUBS_PER_SERVICE;
	q.max_subscribers = SUBS_PER_SERVICE;
	for (int i = 0; !r && i < SERVICES; i++) {
		char name[32];

		snprintf(name, sizeof(name), "t/fd/%d", i);
		r = floe_service_create(node, name, &o, &svc[i]);
		for (int k = 0; !r && k < PUBS_PER_SERVICE; k++)
			if (!(r = floe_publisher_create(svc[i], NULL, &pub[i][k])))
				made++;
		for (int k = 0; !r && k < SUBS_PER_SERVICE; k++)
			if (!(r = floe_subscriber_create(svc[i], NULL,
							 &sub[i][k])))
				made++;
	}
	tap_eq(r, 0, "%d ports on %d services under ulimit -n %d (%s)", made,
	       SERVICES, NOFILE, floe_strerror(r));
	/* subscribers map every publisher's data on their next update */
	for (int i = 0; !r && i < SERVICES; i++)
		for (int k = 0; k < SUBS_PER_SERVICE; k++)
			floe_subscriber_has_samples(sub[i][k]);
	fds = open_fds();
	tap_ok(fds - base <= 2,
	       "the node holds at most 2 descriptors, the ports none (%d)",
	       fds - base);

	/* Use up every descriptor. */
	while (nspare < NOFILE && (spare[nspare] = dup(0)) >= 0)
		nspare++;
	tap_eq(floe_node_create("t_fd2", NULL, &other), FLOE_E_FD_LIMIT,
	       "out of descriptors: floe_node_create says FLOE_E_FD_LIMIT");
	r = floe_event_open_or_create(node, "t/fd/event", NULL, &esvc);
	if (!r)
		r = floe_listener_create(esvc, &listener);
	tap_eq(r ? r : floe_listener_fd(listener), FLOE_E_FD_LIMIT,
	       "a listener's descriptor: FLOE_E_FD_LIMIT");
	tap_eq(floe_strerror(FLOE_E_FD_LIMIT)[0] != '\0' &&
		       strcmp(floe_strerror(FLOE_E_FD_LIMIT),
			      floe_strerror(FLOE_E_NO_SPACE)),
	       1, "a message of its own: %s", floe_strerror(FLOE_E_FD_LIMIT));
	while (nspare)
		close(spare[--nspare]);
	r = floe_node_create("t_fd2", NULL, &other);
	tap_eq(r, 0, "with descriptors free again it works");

	if (!r)
		floe_node_destroy(other);
	if (listener)
		floe_listener_destroy(listener);
	if (esvc)
		floe_service_close(esvc);
	for (int i = 0; i < SERVICES; i++) {
		for (int k = 0; k < PUBS_PER_SERVICE; k++)
			floe_publisher_destroy(pub[i][k]);
		for (int k = 0; k < SUBS_PER_SERVICE; k++)
			floe_subscriber_destroy(sub[i][k]);
		floe_service_close(svc[i]);
	}
	floe_node_destroy(node);
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
