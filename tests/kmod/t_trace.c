// SPDX-License-Identifier: MIT
/*
 * The module's trace events in tracefs (events/floe/): with them enabled,
 * a child registers a node and a publisher, creates a segment owned by the
 * publisher and is SIGKILLed after the parent opened the segment and the
 * child unregistered a third port. The trace must show each step with the
 * right ids, pid, role, service and size: register, seg_create, seg_open,
 * unregister (not a death), then floe_port_death for both remaining ports
 * followed by the segment's seg_unlink. tracefs is mounted at
 * /sys/kernel/tracing if it is not yet; the events are disabled again and
 * the buffer cleared at the end.
 *
 * The trace option record-cmd is off while the events are on. With it on,
 * enabling any event also hooks the scheduler's own tracepoints, patching
 * their call sites in __schedule() (text_poke_bp) while the other CPU may be
 * running there with interrupts off; under qemu's TCG that hangs the guest
 * now and then (the patching CPU waits forever for its sync IPI: seen on
 * 6.1, about once in a hundred runs). The floe events' own call sites
 * run only when this test calls the module.
 */
#define _GNU_SOURCE
#include <sys/mount.h>

#include "floe_test.h"

#define TRACEFS	"/sys/kernel/tracing"

static const char * const events[] = {
	"floe_port_register", "floe_port_unregister", "floe_port_death",
	"floe_seg_create", "floe_seg_open", "floe_seg_unlink",
};

struct ids {
	uint64_t node, pub, gone;
	int ok;
};

static char trace[1 << 20];

/* The whole trace buffer (non-consuming read) into trace[]. */
static int read_trace(void)
{
	size_t n = 0;
	ssize_t r;
	int fd = open(TRACEFS "/trace", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while (n < sizeof(trace) - 1 &&
	       (r = read(fd, trace + n, sizeof(trace) - 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	trace[n] = 0;
	return 0;
}

/*
 * The first trace line at or after @from holding "<event>: " followed by
 * @fields (a prefix of the event's fields); NULL if none.
 */
static const char *find_event(const char *from, const char *event,
			      const char *fields)
{
	char pat[512];

	snprintf(pat, sizeof(pat), " %s: %s", event, fields);
	return strstr(from, pat);
}

/* The child: two ports and a segment, then one port unregistered. */
static void child(int wfd, const char *seg)
{
	struct ids in = { 0 };
	int dev = fl_dev();

	if (dev >= 0 &&
	    !fl_register(dev, FLOE_ROLE_NODE, "trace/node", 0, &in.node, NULL) &&
	    !fl_register(dev, FLOE_ROLE_PUBLISHER, "trace/svc", in.node, &in.pub, NULL) &&
	    !fl_register(dev, FLOE_ROLE_LISTENER, "trace/gone", in.node, &in.gone, NULL) &&
	    fl_create(dev, seg, 3 * PAGE, 0640, in.pub, 0) >= 0 &&
	    !fl_unregister(dev, in.gone))
		in.ok = 1;
	if (write(wfd, &in, sizeof(in)) != sizeof(in))
		_exit(1);
	for (;;)
		pause();
}

int main(void)
{
	char fields[512];
	const char *seg, *at, *reg_pub, *death_pub;
	struct ids in;
	int dev, p[2], fd;
	long long record_cmd;
	pid_t pid;

	tap_init(60);
	dev = fl_dev_or_bail();
	if (access(TRACEFS "/events", F_OK))
		tap_require(mount("tracefs", TRACEFS, "tracefs", 0, NULL) == 0,
			    "mount tracefs on " TRACEFS);
	for (unsigned int i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		tap_ok(sys_exists(TRACEFS "/events/floe/%s/format", events[i]),
		       "event floe:%s is registered", events[i]);
	record_cmd = sys_num(TRACEFS "/options/record-cmd");
	tap_require(sys_write("0", TRACEFS "/options/record-cmd") == 0,
		    "record-cmd off (was %lld)", record_cmd);
	tap_require(sys_write("1", TRACEFS "/events/floe/enable") == 0,
		    "enable the floe events");
	tap_require(sys_write("1", TRACEFS "/tracing_on") == 0, "tracing on");
	fd = open(TRACEFS "/trace", O_WRONLY | O_TRUNC | O_CLOEXEC);
	tap_require(fd >= 0, "clear the trace buffer");
	close(fd);

	seg = fl_name("trace");
	tap_require(pipe(p) == 0, "pipe");
	pid = fork();
	if (pid == 0)
		child(p[1], seg);
	tap_require(pid > 0, "fork");
	tap_require(read(p[0], &in, sizeof(in)) == sizeof(in) && in.ok,
		    "child registered its ports and created %s", seg);
	fd = fl_open_seg(dev, seg, FLOE_ACCESS_RO, 0, NULL);
	tap_ok(fd >= 0, "open the child's segment read-only");
	close(fd);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	tap_errno(fl_open_seg(dev, seg, FLOE_ACCESS_RO, 0, NULL), ENOENT,
		  "the segment is gone with its owner");
	tap_require(read_trace() == 0, "read " TRACEFS "/trace");

	snprintf(fields, sizeof(fields), "id=%llu node=%llu pid=%d role=publisher ",
		 (unsigned long long)in.pub, (unsigned long long)in.node, (int)pid);
	reg_pub = find_event(trace, "floe_port_register", fields);
	tap_ok(reg_pub != NULL, "floe_port_register: %s", fields);
	tap_ok(reg_pub && strstr(reg_pub, "service=\"trace/svc\""),
	       "  ...with the service name");
	snprintf(fields, sizeof(fields), "name=%s size=%lu owner=%llu uid=0 mode=0640 pid=%d",
		 seg, 3 * PAGE, (unsigned long long)in.pub, (int)pid);
	at = find_event(trace, "floe_seg_create", fields);
	tap_ok(at && reg_pub && at > reg_pub, "floe_seg_create after it: %s", fields);
	snprintf(fields, sizeof(fields), "name=%s size=%lu owner=%llu access=ro pid=%d",
		 seg, 3 * PAGE, (unsigned long long)in.pub, (int)getpid());
	tap_ok(!!find_event(trace, "floe_seg_open", fields), "floe_seg_open: %s", fields);
	snprintf(fields, sizeof(fields), "id=%llu node=%llu pid=%d role=listener ",
		 (unsigned long long)in.gone, (unsigned long long)in.node, (int)pid);
	tap_ok(!!find_event(trace, "floe_port_unregister", fields),
	       "floe_port_unregister: %s", fields);
	tap_ok(!find_event(trace, "floe_port_death", fields),
	       "  ...and no death of that port");

	snprintf(fields, sizeof(fields), "id=%llu node=%llu pid=%d role=publisher ",
		 (unsigned long long)in.pub, (unsigned long long)in.node, (int)pid);
	death_pub = find_event(trace, "floe_port_death", fields);
	tap_ok(death_pub != NULL, "floe_port_death of the SIGKILLed publisher: %s", fields);
	snprintf(fields, sizeof(fields), "id=%llu node=0 pid=%d role=node ",
		 (unsigned long long)in.node, (int)pid);
	tap_ok(!!find_event(trace, "floe_port_death", fields),
	       "floe_port_death of its node port: %s", fields);
	snprintf(fields, sizeof(fields), "name=%s size=%lu owner=%llu ",
		 seg, 3 * PAGE, (unsigned long long)in.pub);
	at = find_event(trace, "floe_seg_unlink", fields);
	tap_ok(at && death_pub && at > death_pub,
	       "floe_seg_unlink of its segment after the death: %s", fields);
	if (tap_failed)
		tap_diag("trace:\n%s", trace);

	tap_ok(sys_write("0", TRACEFS "/events/floe/enable") == 0,
	       "disable the floe events");
	fd = open(TRACEFS "/trace", O_WRONLY | O_TRUNC | O_CLOEXEC);
	tap_ok(fd >= 0, "clear the trace buffer");
	close(fd);
	if (record_cmd == 1)
		tap_ok(sys_write("1", TRACEFS "/options/record-cmd") == 0,
		       "record-cmd back on");
	close(dev);
	return tap_done();
}
