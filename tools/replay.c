// SPDX-License-Identifier: MIT
/*
 * floe replay: publish the samples of a recording (floe record, layout in
 * cli.h) again, each service's through one publisher, at the original
 * pace: a sample goes out when as much time has passed since the first
 * as had passed between their log times, divided by --rate.
 *
 * The whole file is read and checked first: a damaged or truncated file
 * is reported with the offset where it fails and nothing is published
 * (a streaming pass alone could publish samples from a region that a
 * later checksum proves wrong).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "mcap.h"

/* What one channel of the file is replayed to. */
struct target {
	uint16_t channel;
	char name[FLOE_NAME_LEN + 1];
	char type_name[FLOE_TYPE_NAME_LEN + 1];
	uint64_t type_size, type_align;
	uint32_t user_header_size;
	floe_service *svc;
	floe_publisher *pub;
};

struct replay {
	struct cli *cli;
	const char *file;
	int fd;
	struct target *targets;
	size_t n_targets;
	uint64_t samples, first_log, last_log;
	uint64_t sent;
	long loops;
	/* the first reason the file cannot be replayed, if any */
	char problem[320];
};

static const char *meta_value(const struct mcap_channel *ch, const char *key)
{
	for (size_t i = 0; i < ch->n_metadata; i++)
		if (!strcmp(ch->metadata[i].key, key))
			return ch->metadata[i].value;
	return NULL;
}

static bool meta_number(const struct mcap_channel *ch, const char *key,
			uint64_t max, uint64_t *out)
{
	const char *text = meta_value(ch, key);
	char *end;

	if (!text || *text < '0' || *text > '9')
		return false;
	errno = 0;
	*out = strtoull(text, &end, 10);
	return !*end && !errno && *out <= max;
}

static struct target *find_target(struct replay *rp, uint16_t channel)
{
	for (size_t i = 0; i < rp->n_targets; i++)
		if (rp->targets[i].channel == channel)
			return &rp->targets[i];
	return NULL;
}

/* A target for channel @ch, from its metadata; NULL (and the problem
 * noted) if the channel is not a floe recording's. */
static struct target *add_target(struct replay *rp,
				 const struct mcap_channel *ch)
{
	const char *type = meta_value(ch, META_TYPE);
	struct target *t;
	uint64_t user_header;

	t = realloc(rp->targets, (rp->n_targets + 1) * sizeof(*t));
	if (!t) {
		snprintf(rp->problem, sizeof(rp->problem), "out of memory");
		return NULL;
	}
	rp->targets = t;
	t = &t[rp->n_targets];
	memset(t, 0, sizeof(*t));
	if (strcmp(ch->message_encoding, SAMPLE_ENCODING) || !type ||
	    strlen(type) > FLOE_TYPE_NAME_LEN ||
	    strlen(ch->topic) > FLOE_NAME_LEN ||
	    !meta_number(ch, META_TYPE_SIZE, UINT32_MAX, &t->type_size) ||
	    !meta_number(ch, META_TYPE_ALIGN, 4096, &t->type_align) ||
	    !meta_number(ch, META_USER_HEADER, UINT32_MAX, &user_header) ||
	    !t->type_size) {
		snprintf(rp->problem, sizeof(rp->problem),
			 "channel %u ('%.64s', encoding '%.32s') is not a floe "
			 "recording's (see floe(1))", ch->id, ch->topic,
			 ch->message_encoding);
		return NULL;
	}
	t->channel = ch->id;
	strcpy(t->name, ch->topic);
	strcpy(t->type_name, type);
	t->user_header_size = (uint32_t)user_header;
	rp->n_targets++;
	return t;
}

static int file_error(struct replay *rp, const struct mcap_read_error *err)
{
	cli_error(rp->cli, "%s: offset %" PRIu64 ": %s: %s", rp->file,
		  err->offset, mcap_strerror(err->code), err->detail);
	return EXIT_FAIL;
}

/* The payload of a message of @t: after the sample header and the user
 * header, a non-zero multiple of the type's size. */
static bool payload_fits(const struct target *t, uint64_t len)
{
	uint64_t head = SAMPLE_HEADER_LEN + (uint64_t)t->user_header_size;

	return len > head && (len - head) % t->type_size == 0;
}

/* Read the whole file: every message belongs to a floe channel and fits
 * its type; learn the channels and the time span. Damage to the file is
 * what is reported first: it may be why a channel looks foreign. */
static int check_file(struct replay *rp)
{
	struct mcap_read_error err;
	struct mcap_message msg;
	const uint8_t *data;
	uint64_t len;
	mcap_reader *r;
	int ret = mcap_reader_open(rp->fd, 0, &r, &err);

	if (ret)
		return file_error(rp, &err);
	while ((ret = mcap_reader_next(r, &msg, &data, &len)) == 1) {
		struct target *t = find_target(rp, msg.channel_id);

		if (!t)
			t = add_target(rp, mcap_reader_channel(r, msg.channel_id));
		if (t && !payload_fits(t, len) && !rp->problem[0])
			snprintf(rp->problem, sizeof(rp->problem),
				 "sample %" PRIu64 " of '%.64s' has %" PRIu64
				 " bytes: not %d + %u + a multiple of %" PRIu64,
				 rp->samples, t->name, len, SAMPLE_HEADER_LEN,
				 t->user_header_size, t->type_size);
		if (!rp->samples)
			rp->first_log = msg.log_time;
		rp->last_log = msg.log_time;
		rp->samples++;
	}
	if (ret < 0) {
		ret = file_error(rp, mcap_reader_error(r));
	} else if (rp->problem[0]) {
		cli_error(rp->cli, "%s: %s", rp->file, rp->problem);
		ret = EXIT_FAIL;
	}
	mcap_reader_close(r);
	return ret;
}

static int open_targets(struct replay *rp)
{
	struct floe_publisher_opts opts;

	for (size_t i = 0; i < rp->n_targets; i++) {
		struct target *t = &rp->targets[i];
		struct floe_type type = { t->type_name, t->type_size,
					  t->type_align };
		int ret = cli_open_pubsub(rp->cli, t->name, &type,
					  t->user_header_size, &t->svc);

		if (ret)
			return ret;
		floe_publisher_opts_init(&opts);
		/* the recorded sizes vary: grow as needed */
		opts.allocation = FLOE_ALLOC_POWER_OF_TWO;
		ret = floe_publisher_create(t->svc, &opts, &t->pub);
		if (ret)
			return cli_fail(rp->cli, ret, "creating a publisher");
	}
	return EXIT_OK;
}

static int send_sample(struct replay *rp, const struct target *t,
		       const uint8_t *data, uint64_t len)
{
	uint64_t payload = len - SAMPLE_HEADER_LEN - t->user_header_size;
	floe_sample_mut *sample;
	int ret = floe_publisher_loan(t->pub, payload / t->type_size, &sample);

	if (ret)
		return cli_fail(rp->cli, ret, "loaning a sample");
	data += SAMPLE_HEADER_LEN;
	if (t->user_header_size)
		memcpy(floe_sample_mut_user_header(sample), data,
		       t->user_header_size);
	memcpy(floe_sample_mut_payload(sample), data + t->user_header_size,
	       payload);
	ret = floe_sample_mut_send(sample);
	if (ret < 0)
		return cli_fail(rp->cli, ret, "sending");
	rp->sent++;
	return EXIT_OK;
}

/* One pass over the file, each sample at its time. */
static int play(struct replay *rp)
{
	struct mcap_read_error err;
	struct mcap_message msg;
	const uint8_t *data;
	uint64_t len, start = cli_now_ms();
	mcap_reader *r;
	int got = mcap_reader_open(rp->fd, 0, &r, &err), status = EXIT_OK;

	if (got)
		return file_error(rp, &err);
	while (!status && !cli_stop &&
	       (got = mcap_reader_next(r, &msg, &data, &len)) == 1) {
		/* a clock stepped back while recording: no wait */
		uint64_t since = msg.log_time > rp->first_log
					 ? msg.log_time - rp->first_log : 0;
		uint64_t due = start + (uint64_t)((double)since / 1e6 /
						  rp->cli->rate);
		uint64_t now = cli_now_ms();
		struct target *t = find_target(rp, msg.channel_id);

		/* (the file changed since it was checked) */
		if (!t || !payload_fits(t, len)) {
			cli_error(rp->cli, "%s: changed since it was checked",
				  rp->file);
			status = EXIT_FAIL;
			break;
		}
		if (due > now && !cli_sleep_ms((long)(due - now)))
			break;
		status = send_sample(rp, t, data, len);
	}
	/* (damage that came since the check) */
	if (!status && got < 0)
		status = file_error(rp, mcap_reader_error(r));
	mcap_reader_close(r);
	return status;
}

static void print_summary(struct replay *rp, uint64_t elapsed_ms)
{
	json_object *obj = json_object_new_object();
	uint64_t span_ms = (rp->last_log - rp->first_log) / 1000000;

	json_object_object_add(obj, "file", json_object_new_string(rp->file));
	json_object_object_add(obj, "services",
			       json_object_new_uint64(rp->n_targets));
	json_object_object_add(obj, "samples", json_object_new_uint64(rp->sent));
	json_object_object_add(obj, "loops", json_object_new_int64(rp->loops));
	json_object_object_add(obj, "recorded_ms",
			       json_object_new_uint64(span_ms));
	json_object_object_add(obj, "elapsed_ms",
			       json_object_new_uint64(elapsed_ms));
	if (rp->cli->json)
		print_json(obj, false);
	else
		printf("replayed %" PRIu64 " sample%s to %zu service%s "
		       "(%ld pass%s, %" PRIu64 " ms recorded, %" PRIu64
		       " ms taken)\n", rp->sent, rp->sent == 1 ? "" : "s",
		       rp->n_targets, rp->n_targets == 1 ? "" : "s", rp->loops,
		       rp->loops == 1 ? "" : "es", span_ms, elapsed_ms);
	cli_flush();
	json_object_put(obj);
}

int cmd_replay(struct cli *cli, int argc, char **argv)
{
	struct replay rp = { .cli = cli, .file = argv[0] };
	long linger = cli->linger_ms < 0 ? DEFAULT_LINGER_MS : cli->linger_ms;
	uint64_t start;
	int ret;

	(void)argc;
	rp.fd = open(rp.file, O_RDONLY | O_CLOEXEC);
	if (rp.fd < 0) {
		cli_error(cli, "cannot open '%s': %s", rp.file, strerror(errno));
		return errno == ENOENT ? EXIT_NOT_FOUND : EXIT_FAIL;
	}
	ret = check_file(&rp);
	if (!ret)
		ret = open_targets(&rp);
	start = cli_now_ms();
	/* (an empty file is played once, not in a busy loop) */
	while (!ret && !cli_stop && (!rp.loops || (cli->loop && rp.samples))) {
		ret = play(&rp);
		rp.loops++;
	}
	if (!ret) {
		uint64_t elapsed = cli_now_ms() - start;

		cli_sleep_ms(linger);
		print_summary(&rp, elapsed);
	}
	for (size_t i = 0; i < rp.n_targets; i++) {
		floe_publisher_destroy(rp.targets[i].pub);
		floe_service_close(rp.targets[i].svc);
	}
	free(rp.targets);
	close(rp.fd);
	return ret;
}
