// SPDX-License-Identifier: MIT
/*
 * Choosing the implementation, and the same behaviour whichever runs.
 *
 * One scripted scenario (pipes, an interval, a listener with a deadline,
 * a signal) runs in a child process per configuration and writes down
 * what every run_once reported; each transcript must equal the expected
 * one, character for character. Configurations: io_uring and epoll asked
 * for by opts.impl and by $FLOE_WAITSET, AUTO (io_uring where it works),
 * and AUTO with io_uring_setup refused by a seccomp filter (EPERM, as
 * with kernel.io_uring_disabled, and ENOSYS, as on a kernel without it):
 * then AUTO falls back to epoll, and io_uring asked for by name fails
 * with FLOE_E_BACKEND. floe_waitset_impl must say what is in use, and the
 * fallback is logged (at info).
 */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/syscall.h>

#include "helpers.h"

#define SERVICE "t/ws/fallback"
#define MS UINT64_C(1000000)

/* What the scenario must report, run by run: the triggers of one
 * run_once, sorted ("<id><R|T|M|N<ids>>"), then "=" and its result. */
static const char expected[] =
	"1R=1 "			/* p1 written */
	"0R,1R=2 "		/* both */
	"0R=1 0R=1 0R=1 "	/* not read: again, again; then read */
	"=0 0R=1 "		/* detached: nothing; attached again: at once */
	"2T=1 2T=1 "		/* an interval; periods missed: one tick */
	"[1]=5 [1]=1 "		/* a callback stops the run; the rest later */
	"2N1=1 2M=1 "		/* a listener with a deadline */
	"1R=-26";		/* a callback raises SIGTERM */

enum config {
	OPTS_IO_URING,
	ENV_IO_URING,
	AUTO,
	OPTS_EPOLL,
	ENV_EPOLL,
	AUTO_EPERM,
	AUTO_ENOSYS,
	NCONFIGS,
};

static const char *const config_names[] = {
	"opts.impl = IO_URING", "FLOE_WAITSET=io_uring", "AUTO",
	"opts.impl = EPOLL", "FLOE_WAITSET=epoll",
	"AUTO, io_uring_setup refused (EPERM)",
	"AUTO, io_uring_setup missing (ENOSYS)",
};

struct child_arg {
	enum config config;
	struct th_pipe result;
};

/* ---- the scenario (in the child) ---- */

static int p[2][2];
static floe_listener *listener;
static bool consume = true, raise_term;
static int stop_with;
static char transcript[1024], run_entries[16][16];
static int nentries;

static int on_trigger(floe_waitset *ws, int id, enum floe_trigger trigger,
		      void *user)
{
	char *e = run_entries[nentries < 16 ? nentries++ : 15];
	uint64_t ids = 0;

	(void)ws;
	(void)user;
	switch (trigger) {
	case FLOE_TRIGGER_READABLE:
		snprintf(e, 16, "%dR", id);
		if (consume)
			while (read(p[id][0], (char[16]){ 0 }, 16) > 0)
				;
		break;
	case FLOE_TRIGGER_TICK:
		snprintf(e, 16, "%dT", id);
		break;
	case FLOE_TRIGGER_MISSED_DEADLINE:
		snprintf(e, 16, "%dM", id);
		break;
	case FLOE_TRIGGER_DATA:
	case FLOE_TRIGGER_CHANGED:
		/* no port or watch attached: a failure */
		snprintf(e, 16, "%d?", id);
		break;
	case FLOE_TRIGGER_NOTIFIED:
		floe_listener_try_wait(listener, NULL, NULL);
		ids = 1; /* the scenario fires id 1 only */
		snprintf(e, 16, "%dN%" PRIu64, id, ids);
		break;
	}
	if (raise_term)
		raise(SIGTERM); /* blocked while the waitset runs */
	return stop_with;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* One run_once, written down. @counted: just how many triggers. */
static void run(floe_waitset *ws, uint64_t timeout_ms, bool counted)
{
	size_t len = strlen(transcript);
	int r;

	nentries = 0;
	r = floe_waitset_run_once(ws, timeout_ms * MS, on_trigger);
	qsort(run_entries, (size_t)nentries, sizeof(run_entries[0]),
	      cmp_entry);
	if (len)
		transcript[len++] = ' ';
	if (counted)
		len += (size_t)snprintf(transcript + len,
					sizeof(transcript) - len, "[%d]",
					nentries);
	for (int i = 0; !counted && i < nentries; i++)
		len += (size_t)snprintf(transcript + len,
					sizeof(transcript) - len, "%s%s",
					i ? "," : "", run_entries[i]);
	snprintf(transcript + len, sizeof(transcript) - len, "=%d", r);
}

static void put(int which)
{
	th_check(write(p[which][1], "x", 1) == 1, "write pipe %d", which);
}

static int scenario(floe_waitset *ws)
{
	floe_node *node = th_node("fallback");
	floe_service *svc = NULL;
	floe_notifier *notifier = NULL;
	int r;

	if (!node)
		return -1;
	r = floe_event_create(node, SERVICE, NULL, &svc);
	if (!r)
		r = floe_notifier_create(svc, &notifier);
	if (!r)
		r = floe_listener_create(svc, &listener);
	if (!th_check(r == 0, "event service: %s", floe_strerror(r)))
		return -1;
	for (int i = 0; i < 2; i++)
		if (!th_check(pipe2(p[i], O_CLOEXEC | O_NONBLOCK) == 0, "pipe"))
			return -1;
	th_check_eq(floe_waitset_attach_fd(ws, p[0][0], NULL), 0, "attach p0");
	th_check_eq(floe_waitset_attach_fd(ws, p[1][0], NULL), 1, "attach p1");

	put(1);
	run(ws, 1000, false);
	put(0);
	put(1);
	run(ws, 1000, false);

	consume = false;
	put(0);
	run(ws, 1000, false);
	run(ws, 1000, false);
	consume = true;
	run(ws, 1000, false);

	floe_waitset_detach(ws, 0);
	put(0);
	run(ws, 50, false);
	th_check_eq(floe_waitset_attach_fd(ws, p[0][0], NULL), 0,
		    "attach p0 again");
	run(ws, 1000, false);

	th_check_eq(floe_waitset_attach_interval(ws, 10 * MS, NULL), 2,
		    "attach the interval");
	run(ws, 1000, false);
	th_sleep_ms(35);
	run(ws, 0, false);
	floe_waitset_detach(ws, 2);

	put(0);
	put(1);
	stop_with = 5;
	run(ws, 1000, true);
	stop_with = 0;
	run(ws, 1000, true);

	th_check_eq(floe_waitset_attach_listener(ws, listener, 60 * MS, NULL),
		    2, "attach the listener");
	floe_notifier_notify(notifier, 1);
	run(ws, 1000, false);
	run(ws, 1000, false);
	floe_waitset_detach(ws, 2);

	raise_term = true;
	put(1);
	run(ws, 1000, false);

	floe_listener_destroy(listener);
	floe_notifier_destroy(notifier);
	floe_service_close(svc);
	floe_node_destroy(node);
	for (int i = 0; i < 2; i++) {
		close(p[i][0]);
		close(p[i][1]);
	}
	return 0;
}

/* ---- configurations (in the child) ---- */

/* Make io_uring_setup fail with @err in this process. */
static int refuse_io_uring(int err)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO |
					  ((unsigned)err & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = sizeof(filter) / sizeof(filter[0]),
		.filter = filter,
	};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		return -1;
	return 0;
}

static char last_log[512];

static void note_log(enum floe_log_level level, const char *message,
		     void *ctx)
{
	(void)level, (void)ctx;
	snprintf(last_log, sizeof(last_log), "%s", message);
}

static int config_process(void *arg)
{
	struct child_arg *ca = arg;
	struct floe_waitset_opts opts = { .handle_signals = true };
	floe_waitset *ws = NULL;
	uint64_t impl;
	int r;

	unsetenv("FLOE_WAITSET");
	switch (ca->config) {
	case OPTS_IO_URING:
		opts.impl = FLOE_WAITSET_IO_URING;
		break;
	case ENV_IO_URING:
		setenv("FLOE_WAITSET", "io_uring", 1);
		break;
	case OPTS_EPOLL:
		opts.impl = FLOE_WAITSET_EPOLL;
		break;
	case ENV_EPOLL:
		setenv("FLOE_WAITSET", "epoll", 1);
		break;
	case AUTO_EPERM:
	case AUTO_ENOSYS:
		if (!th_check(refuse_io_uring(ca->config == AUTO_EPERM ? EPERM
								      : ENOSYS)
			      == 0, "seccomp: %s", strerror(errno)))
			return 1;
		opts.impl = FLOE_WAITSET_IO_URING;
		th_check_eq(floe_waitset_create(&opts, &ws), FLOE_E_BACKEND,
			    "io_uring asked for by name, but refused");
		opts.impl = FLOE_WAITSET_AUTO;
		floe_set_log(FLOE_LOG_INFO, note_log, NULL);
		break;
	default:
		break;
	}
	r = floe_waitset_create(&opts, &ws);
	if (ca->config == AUTO_EPERM || ca->config == AUTO_ENOSYS)
		th_check(strstr(last_log, "io_uring unavailable") &&
			 strstr(last_log, "the waitset uses epoll"),
			 "the fallback is logged, not '%s'", last_log);
	/* io_uring unavailable on this machine: report it, no scenario */
	impl = r == FLOE_E_BACKEND ? (uint64_t)-1 : (uint64_t)r;
	if (r == 0) {
		impl = (uint64_t)floe_waitset_impl(ws);
		scenario(ws);
		floe_waitset_destroy(ws);
	}
	th_send_u64(&ca->result, impl);
	th_send(&ca->result, transcript, sizeof(transcript));
	return th_child_result();
}

/* ---- the parent ---- */

static bool io_uring_works(void)
{
	struct floe_waitset_opts opts = { .impl = FLOE_WAITSET_IO_URING };
	floe_waitset *ws = NULL;

	if (floe_waitset_create(&opts, &ws))
		return false;
	floe_waitset_destroy(ws);
	return true;
}

/* Whether this kernel has seccomp filters (small debug kernels may not). */
static bool seccomp_filters_work(void)
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(refuse_io_uring(ENOSYS) ? 1 : 0);
	return pid > 0 && waitpid(pid, &status, 0) == pid &&
	       WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int main(void)
{
	const char *domain = th_setup("wsfall");
	bool uring = io_uring_works();
	bool seccomp = seccomp_filters_work();

	tap_plan(4 * NCONFIGS + 1);
	tap_diag("io_uring %s here", uring ? "works" : "is unavailable");
	if (!seccomp)
		tap_diag("seccomp filters unavailable: io_uring cannot be refused");
	for (int c = 0; c < NCONFIGS; c++) {
		struct child_arg ca = { .config = (enum config)c };
		static char got[1024];
		enum floe_waitset_impl want = FLOE_WAITSET_EPOLL;
		bool wants_uring = c == OPTS_IO_URING || c == ENV_IO_URING;
		uint64_t impl = 0;
		pid_t pid;
		int r;

		if (wants_uring || (c == AUTO && uring))
			want = FLOE_WAITSET_IO_URING;
		if (!seccomp && (c == AUTO_EPERM || c == AUTO_ENOSYS)) {
			for (int i = 0; i < 4; i++)
				tap_ok(1, "%s # SKIP no seccomp filters in this kernel",
				       config_names[c]);
			continue;
		}
		tap_require(th_pipe_init(&ca.result) == 0, "pipe");
		pid = th_fork(config_process, &ca);
		memset(got, 0, sizeof(got));
		r = th_recv_u64(&ca.result, &impl, 30000);
		if (!r)
			r = th_recv(&ca.result, got, sizeof(got), 30000);
		if (wants_uring && !uring) {
			tap_ok(!r && impl == (uint64_t)-1,
			       "%s: FLOE_E_BACKEND # SKIP io_uring unavailable",
			       config_names[c]);
			tap_ok(1, "# SKIP io_uring unavailable");
		} else {
			tap_ok(!r && impl == (uint64_t)want, "%s: uses %s",
			       config_names[c], floe_waitset_impl_name(want));
			if (!tap_ok(!strcmp(got, expected),
				    "%s: the expected transcript",
				    config_names[c])) {
				tap_diag("  got:  %s", got);
				tap_diag("  want: %s", expected);
			}
		}
		tap_eq(th_wait(pid, 30000), 0, "%s: child's checks passed",
		       config_names[c]);
		th_pipe_close(&ca.result);
	}
	tap_eq(th_count_objects(domain, 1), 0, "no shared objects remain");
	return tap_done();
}
