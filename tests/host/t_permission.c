// SPDX-License-Identifier: MIT
/*
 * Who may reach what. A private service (mode 0600) and its publisher's
 * data cannot be opened or mapped by another uid, while a service shared
 * with mode 0666 can (the control: the refusal is about the mode); a
 * subscriber can never write a publisher's data (its mapping is read-only
 * and cannot be made writable); names cannot escape their directory or
 * domain, and one domain never sees another's services. The two-uid part
 * needs root (it forks and drops to uid 65534) and skips otherwise.
 * (Test of internals: it opens data segments through the node's backend.)
 */
#include <grp.h>
#include <sys/mman.h>

#include "helpers.h"
#include "internal.h"

#define NOBODY 65534

static const struct floe_type msg_type = {
	.name = "t_permission.Msg", .size = 64, .align = 8
};

struct ids {
	uint64_t private_pub, shared_pub;
};

/* Open every data segment of publisher @pub_id as @rw; 0 or the error. */
static int open_data(floe_node *node, uint64_t pub_id, bool rw, int *found)
{
	struct floe_name_list list = { 0 };
	char prefix[FLOE_SEG_NAME_MAX];
	int ret = 0;

	snprintf(prefix, sizeof(prefix), "%s.%c.%016" PRIx64, th_domain,
		 (char)FLOE_KIND_DATA, pub_id);
	*found = 0;
	if (floe_list_kind(node, FLOE_KIND_DATA, &list) < 0)
		return FLOE_E_SYSTEM;
	for (size_t i = 0; i < list.count; i++) {
		struct floe_seg seg = { .fd = -1 };
		int r;

		if (strncmp(list.names[i], prefix, strlen(prefix)))
			continue;
		(*found)++;
		r = node->be->ops->seg_open(node->be, list.names[i], rw, &seg);
		if (r == 0)
			floe_seg_close(&seg);
		else if (!ret)
			ret = r;
	}
	free(list.names);
	return ret;
}

static int as_nobody(void *arg)
{
	const struct ids *ids = arg;
	struct floe_service_opts o = { .type = msg_type };
	floe_subscriber *sub;
	floe_service *svc;
	floe_node *node;
	int found, r;

	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY) || geteuid() != NOBODY) {
		th_child_diag("cannot become uid %d: %s", NOBODY,
			      strerror(errno));
		return 1;
	}
	/* root's configuration files are no business of this uid's */
	setenv("HOME", "/nonexistent", 1);
	unsetenv("XDG_CONFIG_HOME");
	r = floe_node_create("nobody", NULL, &node);
	if (r) {
		th_child_diag("uid %d cannot create a node: %s", NOBODY,
			      floe_strerror(r));
		return 1;
	}
	th_check_eq(floe_service_open(node, "t/perm/private", &o, &svc),
		    FLOE_E_PERMISSION, "private service opened by another uid");
	th_check_eq(open_data(node, ids->private_pub, false, &found),
		    FLOE_E_PERMISSION, "private data mapped read-only");
	th_check(found > 0, "private publisher's data segment listed");
	th_check_eq(open_data(node, ids->private_pub, true, &found),
		    FLOE_E_PERMISSION, "private data mapped writable");

	/* control: the same operations on the shared service work */
	if (th_check_eq(floe_service_open(node, "t/perm/shared", &o, &svc), 0,
			"shared service opened by another uid")) {
		if (th_check_eq(floe_subscriber_create(svc, NULL, &sub), 0,
				"subscriber on the shared service"))
			floe_subscriber_destroy(sub);
		floe_service_close(svc);
	}
	th_check_eq(open_data(node, ids->shared_pub, false, &found), 0,
		    "shared data mapped read-only");
	th_check(found > 0, "shared publisher's data segment listed");
	/* data is 0644 at most: only its publisher writes it */
	th_check_eq(open_data(node, ids->shared_pub, true, &found),
		    FLOE_E_PERMISSION, "shared data mapped writable");
	floe_node_destroy(node);
	return th_child_result();
}

static void two_uids(floe_node *node)
{
	struct floe_service_opts priv = { .type = msg_type, .mode = 0600 };
	struct floe_service_opts shared = { .type = msg_type, .mode = 0666 };
	floe_service *psvc, *ssvc;
	floe_publisher *ppub, *spub;
	struct ids ids;
	pid_t pid;

	if (geteuid() != 0) {
		tap_ok(1, "# SKIP not root: no second uid");
		tap_ok(1, "# SKIP another uid cannot open a private service");
		return;
	}
	tap_require(floe_service_create(node, "t/perm/private", &priv, &psvc) == 0 &&
			    floe_publisher_create(psvc, NULL, &ppub) == 0 &&
			    floe_service_create(node, "t/perm/shared", &shared,
						&ssvc) == 0 &&
			    floe_publisher_create(ssvc, NULL, &spub) == 0,
		    "private (0600) and shared (0666) services with publishers");
	ids.private_pub = floe_publisher_id(ppub);
	ids.shared_pub = floe_publisher_id(spub);
	pid = th_fork(as_nobody, &ids);
	tap_eq(th_wait(pid, 30000), 0,
	       "uid %d: private service and data refused, shared ones not",
	       NOBODY);
	floe_publisher_destroy(ppub);
	floe_publisher_destroy(spub);
	floe_service_close(psvc);
	floe_service_close(ssvc);
}

static void read_only_data(floe_node *node)
{
	struct floe_service_opts o = { .type = msg_type };
	const floe_sample *s = NULL;
	floe_subscriber *sub;
	floe_publisher *pub;
	floe_service *svc;
	char msg[64] = "the publisher's";
	uintptr_t page;
	int fds[2], r;

	tap_require(floe_service_create(node, "t/perm/data", &o, &svc) == 0 &&
			    floe_publisher_create(svc, NULL, &pub) == 0 &&
			    floe_subscriber_create(svc, NULL, &sub) == 0 &&
			    floe_publisher_send_copy(pub, msg, sizeof(msg)) == 1 &&
			    th_receive(sub, &s, 1000) == 1,
		    "a sample received");
	page = (uintptr_t)floe_sample_payload(s) & ~(uintptr_t)4095;
	errno = 0;
	r = mprotect((void *)page, 4096, PROT_READ | PROT_WRITE);
	tap_ok(r < 0 && errno == EACCES,
	       "subscriber: mprotect(PROT_WRITE) of the payload: %s",
	       r < 0 ? strerror(errno) : "succeeded");
	/* the kernel writing into it for read() fails the same way a store
	 * would fault, without a signal that sanitizers would catch */
	r = pipe(fds) == 0 && write(fds[1], "x", 1) == 1 ? 0 : -1;
	errno = 0;
	r = r ? r : (int)read(fds[0], (void *)floe_sample_payload(s), 1);
	tap_ok(r < 0 && errno == EFAULT,
	       "subscriber: read() into the payload: %s",
	       r < 0 ? strerror(errno) : "succeeded");
	close(fds[0]);
	close(fds[1]);
	tap_ok(!strcmp(floe_sample_payload(s), "the publisher's"),
	       "the payload is unchanged");
	floe_sample_release(s);
	floe_subscriber_destroy(sub);
	floe_publisher_destroy(pub);
	floe_service_close(svc);
}

static void names(floe_node *node)
{
	static const char *const bad_domains[] = {
		"", "..", "../x", "a/b", "/", "a.b", "a b", "x\n",
		"seventeen-chars-x",
	};
	static const char *const escaping[] = {
		"../../../../tmp/floe-escape", "/etc/floe-escape", "..", ".",
		"a/../../b",
	};
	struct floe_service_opts o = { .type = msg_type };
	char long_name[FLOE_NAME_LEN + 2];
	int ok = 1, before;
	floe_service *svc;

	for (size_t i = 0; i < sizeof(bad_domains) / sizeof(bad_domains[0]); i++) {
		struct floe_node_opts no;
		floe_node *tmp = NULL;
		int r;

		floe_node_opts_init(&no);
		no.domain = bad_domains[i];
		r = floe_node_create("names", &no, &tmp);
		/* "" means the default domain: not an error */
		if (!bad_domains[i][0]) {
			if (r == 0)
				floe_node_destroy(tmp);
			continue;
		}
		if (r != FLOE_E_NAME) {
			tap_diag("domain '%s': %d", bad_domains[i], r);
			ok = 0;
			if (r == 0)
				floe_node_destroy(tmp);
		}
	}
	tap_ok(ok, "domains with '/', '.', '..', blanks or 17 characters: "
		   "FLOE_E_NAME");

	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	tap_eq(floe_service_create(node, long_name, &o, &svc), FLOE_E_NAME,
	       "service name of FLOE_NAME_LEN+1 characters: FLOE_E_NAME");
	tap_eq(floe_service_create(node, "tab\there", &o, &svc), FLOE_E_NAME,
	       "service name with a control character: FLOE_E_NAME");

	/* Service names are hashed into segment names: whatever they
	 * contain, the segment is <domain>.s.<hash> in the domain. */
	ok = 1;
	for (size_t i = 0; i < sizeof(escaping) / sizeof(escaping[0]); i++) {
		before = th_count_objects(th_domain, 0);
		if (floe_service_create(node, escaping[i], &o, &svc)) {
			tap_diag("'%s' refused", escaping[i]);
			ok = 0;
			continue;
		}
		ok &= !strcmp(floe_service_name(svc), escaping[i]) &&
		      th_count_objects(th_domain, 0) == before + 1;
		floe_service_close(svc);
	}
	ok &= access("/tmp/floe-escape", F_OK) && access("/etc/floe-escape", F_OK);
	tap_ok(ok, "service names with '/' and '..' stay inside the domain");
}

static void domains(floe_node *node)
{
	struct floe_service_opts o = { .type = msg_type };
	struct floe_node_opts no;
	floe_service *a, *b, *tmp;
	floe_publisher *pub;
	floe_subscriber *sub;
	const floe_sample *s = NULL;
	char other[sizeof(th_domain)];
	floe_node *node_b;
	char msg[64] = "a";

	/* same length, last character changed: a different domain */
	snprintf(other, sizeof(other), "%s", th_domain);
	other[strlen(other) - 1] = other[strlen(other) - 1] == 'Z' ? 'Y' : 'Z';
	floe_node_opts_init(&no);
	no.domain = other;
	tap_require(floe_node_create("other", &no, &node_b) == 0,
		    "a node in domain %s", other);
	tap_require(floe_service_create(node, "t/perm/iso", &o, &a) == 0,
		    "service in domain %s", th_domain);
	tap_eq(floe_service_open(node_b, "t/perm/iso", &o, &tmp),
	       FLOE_E_NOT_FOUND, "another domain does not see it");
	tap_require(floe_service_create(node_b, "t/perm/iso", &o, &b) == 0,
		    "the same name in the other domain is another service");
	tap_require(floe_publisher_create(a, NULL, &pub) == 0 &&
			    floe_subscriber_create(b, NULL, &sub) == 0,
		    "publisher in one, subscriber in the other");
	floe_publisher_send_copy(pub, msg, sizeof(msg));
	tap_eq(th_receive(sub, &s, 100), 0, "nothing crosses domains");
	floe_subscriber_destroy(sub);
	floe_publisher_destroy(pub);
	floe_service_close(a);
	floe_service_close(b);
	floe_node_destroy(node_b);
	tap_eq(th_count_objects(other, 1), 0, "the other domain is left empty");
}

int main(void)
{
	floe_node *node;

	th_setup("perm");
	tap_plan(19);
	node = th_node("perm");
	tap_require(node != NULL, "node");
	two_uids(node);
	read_only_data(node);
	names(node);
	domains(node);
	floe_node_destroy(node);
	tap_eq(th_count_objects(th_domain, 1), 0, "nothing left behind");
	return tap_done();
}
