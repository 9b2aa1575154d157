// SPDX-License-Identifier: MIT
/*
 * floe record: subscribe to services and write what arrives to an MCAP
 * file (the layout is in cli.h), each sample with the time it was
 * received as its log time. The file is complete when the command stops
 * on --count, --timeout, SIGINT or SIGTERM; chunks are written at least
 * once a second, so a recorder that is killed leaves what it wrote before
 * (a file floe replay refuses, with the offset where it ends).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "mcap.h"

/* Longest a received sample waits in memory before it is written. */
#define FLUSH_MS 1000
/* Longest the recorder goes on taking queued samples after a signal. */
#define DRAIN_MS 1000

struct recorded {
	const char *name;
	floe_service *svc;
	floe_subscriber *sub;
	uint16_t channel;
	char type_name[FLOE_TYPE_NAME_LEN + 1];
	uint64_t type_size, type_align;
	uint32_t user_header_size;
};

struct lookup {
	const char *name;
	struct floe_service_info info;
	bool found;
};

static int on_service(const struct floe_service_info *info, void *ctx)
{
	struct lookup *l = ctx;

	if (strcmp(info->name, l->name))
		return 0;
	l->info = *info;
	l->found = true;
	return 1;
}

/* Open @rec's service with its own type (or create it with the one given)
 * and subscribe. Returns an exit status. */
static int subscribe(struct cli *cli, struct recorded *rec)
{
	struct lookup *l = calloc(1, sizeof(*l)); /* (large: attributes) */
	struct floe_type type = cli->type;
	struct floe_pubsub_qos qos;
	int ret;

	if (!l)
		return cli_fail(cli, FLOE_E_NOMEM, "looking services up");
	l->name = rec->name;
	ret = floe_service_list(cli->node, on_service, l);
	if (ret >= 0 && l->found && l->info.pattern != FLOE_PATTERN_KIND_PUBSUB)
		ret = FLOE_E_PATTERN;
	if (ret >= 0 && l->found)
		type = (struct floe_type){ l->info.type_name,
					   l->info.type_size,
					   l->info.type_align };
	if (ret >= 0) {
		snprintf(rec->type_name, sizeof(rec->type_name), "%s",
			 type.name);
		rec->type_size = type.size;
		rec->type_align = type.align;
		type.name = rec->type_name;
	}
	free(l);
	if (ret < 0)
		return cli_fail(cli, ret, rec->name);
	ret = cli_open_pubsub(cli, rec->name, &type, 0, &rec->svc);
	if (ret)
		return ret;
	floe_service_qos(rec->svc, &qos);
	rec->user_header_size = qos.user_header_size;
	ret = floe_subscriber_create(rec->svc, NULL, &rec->sub);
	return ret ? cli_fail(cli, ret, "creating a subscriber") : EXIT_OK;
}

/* The channel of @rec, with the service's type in its metadata. */
static int add_channel(mcap_writer *w, struct recorded *rec)
{
	char size[24], align[24], user_header[24];
	struct mcap_kv meta[] = {
		{ META_TYPE, rec->type_name },
		{ META_TYPE_SIZE, size },
		{ META_TYPE_ALIGN, align },
		{ META_USER_HEADER, user_header },
	};

	snprintf(size, sizeof(size), "%" PRIu64, rec->type_size);
	snprintf(align, sizeof(align), "%" PRIu64, rec->type_align);
	snprintf(user_header, sizeof(user_header), "%" PRIu32,
		 rec->user_header_size);
	return mcap_writer_add_channel(w, rec->name, SAMPLE_ENCODING, meta,
				       sizeof(meta) / sizeof(meta[0]),
				       &rec->channel);
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Write @sample of @rec: header, user header, payload. */
static int write_sample(mcap_writer *w, const struct recorded *rec,
			const floe_sample *sample)
{
	uint64_t seq = floe_sample_sequence(sample);
	uint64_t header[2] = { floe_sample_publisher_id(sample), seq };
	uint8_t le[SAMPLE_HEADER_LEN];
	struct mcap_message msg = {
		.channel_id = rec->channel,
		.sequence = (uint32_t)seq, /* MCAP's is 32 bits wide */
	};
	struct iovec data[] = {
		{ le, sizeof(le) },
		{ (void *)floe_sample_user_header(sample),
		  rec->user_header_size },
		{ (void *)floe_sample_payload(sample),
		  floe_sample_payload_size(sample) },
	};

	for (int i = 0; i < SAMPLE_HEADER_LEN; i++)
		le[i] = (uint8_t)(header[i / 8] >> (8 * (i % 8)));
	msg.log_time = msg.publish_time = realtime_ns();
	return mcap_writer_write(w, &msg, data, 3);
}

struct progress {
	long samples;
	int ret; /* exit status */
};

/*
 * Receive and write until --count, --timeout or a signal; after a signal,
 * what is queued for the recorder already is written too (for at most
 * DRAIN_MS, should publishers go on sending).
 */
static void record_loop(struct cli *cli, mcap_writer *w,
			struct recorded *recs, int n, struct progress *p)
{
	uint64_t deadline = cli->timeout_ms < 0 ? 0
				: cli_now_ms() + (uint64_t)cli->timeout_ms;
	uint64_t flushed = cli_now_ms(), stopped = 0;

	while (cli->count < 0 || p->samples < cli->count) {
		bool idle = true;

		if (cli_stop && !stopped)
			stopped = cli_now_ms();
		if (stopped && cli_now_ms() - stopped >= DRAIN_MS)
			return;
		for (int i = 0; i < n && !p->ret; i++) {
			const floe_sample *sample;
			int got = floe_subscriber_receive(recs[i].sub, &sample);
			int err;

			if (got < 0) {
				p->ret = cli_fail(cli, got, "receiving");
				break;
			}
			if (!got)
				continue;
			idle = false;
			err = write_sample(w, &recs[i], sample);
			floe_sample_release(sample);
			if (err) {
				cli_error(cli, "writing '%s': %s", cli->output,
					  err == MCAP_E_IO ? strerror(errno)
							   : mcap_strerror(err));
				p->ret = EXIT_FAIL;
			}
			if (++p->samples == cli->count)
				break;
		}
		if (p->ret || (stopped && idle))
			return;
		if (cli_now_ms() - flushed >= FLUSH_MS) {
			mcap_writer_flush(w); /* an error sticks: seen at close */
			flushed = cli_now_ms();
		}
		if (!idle || stopped)
			continue;
		if (deadline && cli_now_ms() >= deadline) {
			if (cli->count >= 0) {
				cli_error(cli, "timed out after %ld ms with "
					       "%ld of %ld samples",
					  cli->timeout_ms, p->samples,
					  cli->count);
				p->ret = EXIT_TIMEOUT;
			}
			return;
		}
		cli_sleep_ms(POLL_MS);
	}
}

static void print_summary(struct cli *cli, int n, long samples, int fd)
{
	json_object *obj = json_object_new_object();
	struct stat st;
	uint64_t bytes = fstat(fd, &st) ? 0 : (uint64_t)st.st_size;

	json_object_object_add(obj, "file", json_object_new_string(cli->output));
	json_object_object_add(obj, "services", json_object_new_int(n));
	json_object_object_add(obj, "samples", json_object_new_int64(samples));
	json_object_object_add(obj, "bytes", json_object_new_uint64(bytes));
	if (cli->json)
		print_json(obj, false);
	else
		printf("recorded %ld sample%s of %d service%s to %s "
		       "(%" PRIu64 " bytes)\n", samples,
		       samples == 1 ? "" : "s", n, n == 1 ? "" : "s",
		       cli->output, bytes);
	cli_flush();
	json_object_put(obj);
}

int cmd_record(struct cli *cli, int argc, char **argv)
{
	struct mcap_writer_opts opts = {
		.library = cli_version, .compress = true,
	};
	struct recorded *recs = calloc((size_t)argc, sizeof(*recs));
	struct progress p = { 0 };
	mcap_writer *w = NULL;
	int fd = -1, err;

	if (!recs)
		return cli_fail(cli, FLOE_E_NOMEM, "recording");
	if (!cli->output) {
		cli_error(cli, "give the file to write with -o FILE");
		p.ret = EXIT_USAGE;
	}
	for (int i = 0; i < argc && !p.ret; i++) {
		for (int j = 0; j < i; j++)
			if (!strcmp(argv[i], argv[j])) {
				cli_error(cli, "service '%s' given twice",
					  argv[i]);
				p.ret = EXIT_USAGE;
			}
		recs[i].name = argv[i];
		if (!p.ret)
			p.ret = subscribe(cli, &recs[i]);
	}
	if (!p.ret) {
		fd = open(cli->output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			  0644);
		if (fd < 0) {
			cli_error(cli, "cannot create '%s': %s", cli->output,
				  strerror(errno));
			p.ret = EXIT_FAIL;
		}
	}
	err = p.ret ? MCAP_OK : mcap_writer_open(fd, &opts, &w);
	for (int i = 0; i < argc && w && !err; i++)
		err = add_channel(w, &recs[i]);
	if (!err && w)
		record_loop(cli, w, recs, argc, &p);
	if (w) {
		int closed = mcap_writer_close(w);

		err = err ? err : closed;
	}
	if (err && !p.ret) {
		cli_error(cli, "writing '%s': %s", cli->output,
			  err == MCAP_E_IO ? strerror(errno)
					   : mcap_strerror(err));
		p.ret = EXIT_FAIL;
	}
	if (!p.ret || p.ret == EXIT_TIMEOUT)
		print_summary(cli, argc, p.samples, fd);
	if (fd >= 0)
		close(fd);
	for (int i = 0; i < argc; i++) {
		floe_subscriber_destroy(recs[i].sub);
		floe_service_close(recs[i].svc);
	}
	free(recs);
	return p.ret;
}
