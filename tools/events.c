// SPDX-License-Identifier: MIT
/*
 * floe notify / floe listen: signal and watch the events of an event
 * service from the shell (the service is created with the configured
 * [event] QoS if it does not exist).
 */
#include <errno.h>
#include <stdlib.h>

#include "cli.h"

static int open_event(struct cli *cli, const char *name, floe_service **svc)
{
	struct floe_event_opts opts = { .qos = NULL };
	char what[FLOE_NAME_LEN + 24];
	/* created with the configured [event] QoS; an opener demands none */
	int ret = floe_event_open(cli->node, name, &opts, svc);

	if (ret == FLOE_E_NOT_FOUND) {
		opts.qos = &cli->config.event;
		ret = floe_event_create(cli->node, name, &opts, svc);
		if (ret == FLOE_E_EXISTS) { /* somebody was faster */
			opts.qos = NULL;
			ret = floe_event_open(cli->node, name, &opts, svc);
		}
	}
	if (!ret)
		return EXIT_OK;
	snprintf(what, sizeof(what), "event service '%s'", name);
	return cli_fail(cli, ret, what);
}

int cmd_notify(struct cli *cli, int argc, char **argv)
{
	struct floe_event_qos qos;
	floe_notifier *notifier = NULL;
	floe_service *svc = NULL;
	unsigned long long id;
	char *end;
	int ret;

	(void)argc;
	errno = 0;
	id = strtoull(argv[1], &end, 10);
	if (argv[1][0] < '0' || argv[1][0] > '9' || *end || errno) {
		cli_error(cli, "'%s' is not an event id (a number)", argv[1]);
		return EXIT_USAGE;
	}
	ret = open_event(cli, argv[0], &svc);
	if (ret)
		return ret;
	floe_event_qos(svc, &qos);
	if (id > qos.event_id_max) {
		cli_error(cli, "event id %llu: the service's ids go up to %u",
			  id, qos.event_id_max);
		ret = EXIT_USAGE;
		goto out;
	}
	ret = floe_notifier_create(svc, &notifier);
	if (ret) {
		ret = cli_fail(cli, ret, "creating a notifier");
		goto out;
	}
	ret = floe_notifier_notify(notifier, id);
	if (ret < 0) {
		ret = cli_fail(cli, ret, "notifying");
		goto out;
	}
	if (cli->json) {
		json_object *obj = json_object_new_object();

		json_object_object_add(obj, "event", json_object_new_uint64(id));
		json_object_object_add(obj, "listeners", json_object_new_int(ret));
		print_json(obj, true);
		json_object_put(obj);
	} else {
		printf("notified %d listener%s of event %llu\n", ret,
		       ret == 1 ? "" : "s", id);
	}
	ret = EXIT_OK;
out:
	floe_notifier_destroy(notifier);
	floe_service_close(svc);
	return ret;
}

struct listen_ctx {
	struct cli *cli;
	long received;
};

static void on_event(uint64_t event_id, void *ctx)
{
	struct listen_ctx *lc = ctx;
	struct cli *cli = lc->cli;

	/* ids that fired together arrive together: stop at --count */
	if (cli->count >= 0 && lc->received >= cli->count)
		return;
	lc->received++;
	if (cli->json) {
		json_object *obj = json_object_new_object();

		json_object_object_add(obj, "event",
				       json_object_new_uint64(event_id));
		print_json(obj, true);
		json_object_put(obj);
	} else {
		printf("event %llu\n", (unsigned long long)event_id);
		cli_flush();
	}
}

struct listen_wait {
	floe_listener *listener;
	struct listen_ctx *lc;
};

static int listen_slice(void *ctx, uint64_t slice_ns)
{
	struct listen_wait *lw = ctx;

	return floe_listener_timed_wait(lw->listener, slice_ns, on_event,
					lw->lc);
}

int cmd_listen(struct cli *cli, int argc, char **argv)
{
	struct listen_ctx lc = { cli, 0 };
	struct listen_wait lw = { NULL, &lc };
	floe_service *svc = NULL;
	int ret;

	(void)argc;
	ret = open_event(cli, argv[0], &svc);
	if (ret)
		return ret;
	ret = floe_listener_create(svc, &lw.listener);
	if (ret)
		ret = cli_fail(cli, ret, "creating a listener");
	else
		ret = cli_wait_for(cli, "events", &lc.received, "waiting",
				   listen_slice, &lw);
	floe_listener_destroy(lw.listener);
	floe_service_close(svc);
	return ret;
}
