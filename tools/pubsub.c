// SPDX-License-Identifier: MIT
/*
 * floe publish / floe subscribe: send and watch samples of any service
 * from the shell. The payload type defaults to "floe.bytes" (size 1,
 * align 1), a byte slice, so that both commands talk to each other; for
 * another service give its type with --type/--size/--align.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Bytes of a sample printed at most: a debugging view, not a dump. */
#define SAMPLE_PRINT_MAX 4096
/* Largest payload publish --file reads (a sample is one allocation in
 * the publisher's shared memory). */
#define FILE_PAYLOAD_MAX (1UL << 30)

/*
 * Not floe_service_open_or_create: for an opener, QoS values are demands,
 * so the configured ones go only to a service this creates.
 */
int cli_open_pubsub(struct cli *cli, const char *name,
		    const struct floe_type *type, uint32_t user_header_size,
		    floe_service **svc)
{
	struct floe_pubsub_qos demand = { .user_header_size = user_header_size };
	struct floe_pubsub_qos create = cli->config.pubsub;
	struct floe_service_opts opts = {
		.type = *type, .qos = user_header_size ? &demand : NULL,
		.attributes = cli->attrs, .num_attributes = cli->nattrs,
	};
	char what[FLOE_NAME_LEN + 16];
	int ret;

	ret = floe_service_open(cli->node, name, &opts, svc);
	if (ret == FLOE_E_NOT_FOUND) {
		create.user_header_size = user_header_size;
		opts.qos = &create;
		ret = floe_service_create(cli->node, name, &opts, svc);
		if (ret == FLOE_E_EXISTS) { /* somebody was faster */
			opts.qos = user_header_size ? &demand : NULL;
			ret = floe_service_open(cli->node, name, &opts, svc);
		}
	}
	if (!ret)
		return EXIT_OK;
	snprintf(what, sizeof(what), "service '%s'", name);
	return cli_fail(cli, ret, what);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "68 65 6c" or "68656c" (spaces and colons between bytes) to bytes. */
static bool parse_hex(const char *text, unsigned char *out, size_t *len)
{
	*len = 0;
	while (*text) {
		int hi, lo;

		if (isspace((unsigned char)*text) || *text == ':') {
			text++;
			continue;
		}
		hi = hex_digit(text[0]);
		lo = hi < 0 ? -1 : hex_digit(text[1]);
		if (lo < 0)
			return false;
		out[(*len)++] = (unsigned char)(hi << 4 | lo);
		text += 2;
	}
	return true;
}

/* The bytes of --file (a path, or "-" for standard input). */
static unsigned char *payload_from_file(struct cli *cli, size_t *len)
{
	bool is_stdin = !strcmp(cli->file, "-");
	FILE *f = is_stdin ? stdin : fopen(cli->file, "rbe");
	unsigned char *data = NULL;
	size_t cap = 0;

	*len = 0;
	if (!f) {
		cli_error(cli, "--file %s: %s", cli->file, strerror(errno));
		return NULL;
	}
	for (;;) {
		unsigned char *more;
		size_t n;

		if (*len == cap) {
			cap = cap ? cap * 2 : 65536;
			more = *len < FILE_PAYLOAD_MAX ? realloc(data, cap) : NULL;
			if (!more) {
				cli_error(cli, *len < FILE_PAYLOAD_MAX
					  ? "--file %s: out of memory"
					  : "--file %s: larger than 1 GiB",
					  cli->file);
				free(data);
				data = NULL;
				break;
			}
			data = more;
		}
		n = fread(data + *len, 1, cap - *len, f);
		*len += n;
		if (n)
			continue;
		if (ferror(f)) {
			cli_error(cli, "--file %s: %s", cli->file,
				  strerror(errno));
			free(data);
			data = NULL;
		}
		break;
	}
	if (!is_stdin)
		fclose(f);
	return data;
}

/* The payload from --file, --hex or the text arguments (joined by
 * spaces). */
static unsigned char *payload_from_args(struct cli *cli, int argc,
					char **argv, size_t *len)
{
	unsigned char *data;
	size_t cap = cli->hex ? strlen(cli->hex) / 2 + 1 : 1;

	if ((cli->hex != NULL) + (cli->file != NULL) + (argc > 0) != 1) {
		cli_error(cli, "give the payload as text, with --hex or with "
			       "--file (one of them)");
		return NULL;
	}
	if (cli->file)
		return payload_from_file(cli, len);
	for (int i = 0; i < argc; i++)
		cap += strlen(argv[i]) + 1;
	data = malloc(cap);
	if (!data) {
		cli_error(cli, "out of memory");
		return NULL;
	}
	if (cli->hex) {
		if (!parse_hex(cli->hex, data, len)) {
			cli_error(cli, "--hex: '%s' is not pairs of hex digits",
				  cli->hex);
			free(data);
			return NULL;
		}
		return data;
	}
	*len = 0;
	for (int i = 0; i < argc; i++) {
		if (i)
			data[(*len)++] = ' ';
		memcpy(data + *len, argv[i], strlen(argv[i]));
		*len += strlen(argv[i]);
	}
	return data;
}

int cmd_publish(struct cli *cli, int argc, char **argv)
{
	struct floe_publisher_opts pub_opts;
	floe_publisher *pub = NULL;
	floe_service *svc = NULL;
	unsigned char *data;
	size_t len;
	long interval = cli->interval_ms < 0 ? 100 : cli->interval_ms;
	long count = cli->count < 0 ? 1 : cli->count;
	long linger = cli->linger_ms < 0 ? DEFAULT_LINGER_MS : cli->linger_ms;
	int ret;

	data = payload_from_args(cli, argc - 1, argv + 1, &len);
	if (!data)
		return EXIT_USAGE;
	if (!len || len % cli->type.size) {
		cli_error(cli, "the payload (%zu bytes) must be a non-zero "
			       "multiple of the type's size (%llu)", len,
			  (unsigned long long)cli->type.size);
		ret = EXIT_USAGE;
		goto out;
	}
	ret = cli_open_pubsub(cli, argv[0], &cli->type, 0, &svc);
	if (ret)
		goto out;
	floe_publisher_opts_init(&pub_opts);
	pub_opts.initial_max_slice_len = len / cli->type.size;
	ret = floe_publisher_create(svc, &pub_opts, &pub);
	if (ret) {
		ret = cli_fail(cli, ret, "creating a publisher");
		goto out;
	}
	for (long i = 0; i < count && !cli_stop; i++) {
		int reached = floe_publisher_send_copy(pub, data, len);
		json_object *obj;

		if (reached < 0) {
			ret = cli_fail(cli, reached, "sending");
			goto out;
		}
		obj = json_object_new_object();
		json_object_object_add(obj, "publisher",
				       json_object_new_uint64(floe_publisher_id(pub)));
		json_object_object_add(obj, "size", json_object_new_uint64(len));
		json_object_object_add(obj, "subscribers",
				       json_object_new_int(reached));
		if (cli->json)
			print_json(obj, true);
		else
			printf("sent %zu bytes to %d subscriber%s\n", len,
			       reached, reached == 1 ? "" : "s");
		cli_flush();
		json_object_put(obj);
		cli_sleep_ms(i + 1 < count ? interval : linger);
	}
out:
	floe_publisher_destroy(pub);
	floe_service_close(svc);
	free(data);
	return ret;
}

static void print_sample(struct cli *cli, const floe_sample *sample)
{
	uint64_t size = floe_sample_payload_size(sample);
	size_t shown = size < SAMPLE_PRINT_MAX ? size : SAMPLE_PRINT_MAX;
	const char *payload = floe_sample_payload(sample);
	char *hex = hex_string(payload, shown, cli->json ? "" : " ");
	char *text = malloc(shown + 1);
	json_object *obj = json_object_new_object();

	for (size_t i = 0; text && i < shown; i++)
		text[i] = isprint((unsigned char)payload[i]) ? payload[i] : '.';
	if (text)
		text[shown] = '\0';
	json_object_object_add(obj, "publisher",
			       json_object_new_uint64(floe_sample_publisher_id(sample)));
	json_object_object_add(obj, "sequence",
			       json_object_new_uint64(floe_sample_sequence(sample)));
	json_object_object_add(obj, "size", json_object_new_uint64(size));
	json_object_object_add(obj, "hex", json_object_new_string(hex ? hex : ""));
	json_object_object_add(obj, "text", json_object_new_string(text ? text : ""));
	if (cli->json) {
		print_json(obj, true);
	} else {
		printf("sample %llu from publisher %llu: %llu bytes%s\n"
		       "  hex:  %s\n  text: %s\n",
		       (unsigned long long)floe_sample_sequence(sample),
		       (unsigned long long)floe_sample_publisher_id(sample),
		       (unsigned long long)size,
		       shown < size ? " (the first shown)" : "",
		       hex ? hex : "", text ? text : "");
		cli_flush();
	}
	json_object_put(obj);
	free(text);
	free(hex);
}

/* The payload alone, for a pipe to another program. */
static bool write_raw(const floe_sample *sample)
{
	uint64_t size = floe_sample_payload_size(sample);

	if (fwrite(floe_sample_payload(sample), 1, size, stdout) != size) {
		cli_stop = 1; /* the reader left (EPIPE), or a full disk */
		return false;
	}
	cli_flush();
	return true;
}

int cmd_subscribe(struct cli *cli, int argc, char **argv)
{
	uint64_t deadline = cli->timeout_ms < 0 ? 0
				: cli_now_ms() + (uint64_t)cli->timeout_ms;
	floe_subscriber *sub = NULL;
	floe_service *svc = NULL;
	long received = 0;
	int ret;

	(void)argc;
	if (cli->raw && cli->json) {
		cli_error(cli, "--raw and --json exclude each other");
		return EXIT_USAGE;
	}
	ret = cli_open_pubsub(cli, argv[0], &cli->type, 0, &svc);
	if (ret)
		return ret;
	ret = floe_subscriber_create(svc, NULL, &sub);
	if (ret) {
		ret = cli_fail(cli, ret, "creating a subscriber");
		goto out;
	}
	while (!cli_stop && (cli->count < 0 || received < cli->count)) {
		const floe_sample *sample;
		int got = floe_subscriber_receive(sub, &sample);

		if (got < 0) {
			ret = cli_fail(cli, got, "receiving");
			goto out;
		}
		if (got) {
			if (cli->raw)
				write_raw(sample);
			else
				print_sample(cli, sample);
			floe_sample_release(sample);
			received++;
			continue;
		}
		if (deadline && cli_now_ms() >= deadline) {
			/* without --count, the timeout just ends the watch */
			if (cli->count >= 0) {
				cli_error(cli, "timed out after %ld ms with "
					       "%ld of %ld samples",
					  cli->timeout_ms, received,
					  cli->count);
				ret = EXIT_TIMEOUT;
			}
			goto out;
		}
		cli_sleep_ms(POLL_MS);
	}
out:
	floe_subscriber_destroy(sub);
	floe_service_close(svc);
	return ret;
}
