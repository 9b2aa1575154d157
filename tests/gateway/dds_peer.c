// SPDX-License-Identifier: MIT
/*
 * A plain Eclipse Cyclone DDS program (no floe) on a gateway's topic, with
 * the envelope type idlc compiled from tools/gateway/envelope.idl: what a
 * foreign DDS application needs to talk to floe services.
 *
 *   dds_peer sub TOPIC     print each envelope received:
 *                          "service S type T/SIZE/ALIGN seq Q len L text X"
 *   dds_peer pub TOPIC SERVICE   publish --count envelopes of --text
 *   dds_peer garbage TOPIC SERVICE   envelopes a gateway must drop, then
 *                          a valid one with the text "after-garbage"
 *
 * Options: --count N (default 1), --timeout-ms T (default 60000),
 * --dds-domain N (default 0), --text X, --reliable, --transient-local,
 * --depth D (the reader's or writer's QoS, which must match the
 * gateway's), --show-qos (sub: print
 * the matched writer's QoS: "qos reliable|best-effort
 * transient-local|volatile keep-last D|keep-all").
 * pub and garbage wait for --readers N matched readers (default 1) first.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dds/dds.h>

#include "envelope.h"

struct args {
	const char *mode, *topic, *service, *text;
	long count, timeout_ms, dds_domain, readers;
	bool reliable, transient_local, show_qos;
	int depth;
};

static dds_entity_t make_topic(dds_entity_t pp, const struct args *a,
			       dds_qos_t **qos)
{
	*qos = dds_create_qos();
	dds_qset_reliability(*qos, a->reliable ? DDS_RELIABILITY_RELIABLE :
					       DDS_RELIABILITY_BEST_EFFORT,
			     DDS_MSECS(100));
	dds_qset_durability(*qos, a->transient_local ?
					  DDS_DURABILITY_TRANSIENT_LOCAL :
					  DDS_DURABILITY_VOLATILE);
	dds_qset_history(*qos, DDS_HISTORY_KEEP_LAST, a->depth);
	return dds_create_topic(pp, &floe_gw_Envelope_desc, a->topic, *qos,
				NULL);
}

static void print_qos(dds_entity_t reader)
{
	dds_instance_handle_t h;
	dds_builtintopic_endpoint_t *ep;
	dds_reliability_kind_t rel;
	dds_durability_kind_t dur;
	dds_history_kind_t hist;
	dds_duration_t block;
	int32_t depth;

	if (dds_get_matched_publications(reader, &h, 1) < 1)
		return;
	ep = dds_get_matched_publication_data(reader, h);
	if (!ep)
		return;
	dds_qget_reliability(ep->qos, &rel, &block);
	dds_qget_durability(ep->qos, &dur);
	dds_qget_history(ep->qos, &hist, &depth);
	printf("qos %s %s ",
	       rel == DDS_RELIABILITY_RELIABLE ? "reliable" : "best-effort",
	       dur == DDS_DURABILITY_TRANSIENT_LOCAL ? "transient-local" :
						       "volatile");
	if (hist == DDS_HISTORY_KEEP_LAST)
		printf("keep-last %d\n", depth);
	else
		printf("keep-all\n");
	dds_builtintopic_free_endpoint(ep);
}

static int subscribe(dds_entity_t pp, const struct args *a)
{
	dds_time_t deadline = dds_time() + DDS_MSECS(a->timeout_ms);
	dds_qos_t *qos;
	dds_entity_t topic = make_topic(pp, a, &qos);
	dds_entity_t reader = dds_create_reader(pp, topic, qos, NULL);
	dds_entity_t ws = dds_create_waitset(pp);
	bool qos_shown = !a->show_qos;
	long got = 0;

	dds_delete_qos(qos);
	if (reader < 0)
		return 1;
	dds_waitset_attach(ws, reader, 0);
	/* the waitset wakes for data only (other statuses stay set) */
	dds_set_status_mask(reader, DDS_DATA_AVAILABLE_STATUS);
	while (got < a->count && dds_time() < deadline) {
		void *samples[1] = { NULL };
		dds_sample_info_t info;
		const floe_gw_Envelope *e;

		if (!qos_shown && dds_get_matched_publications(reader, NULL,
							       0) > 0) {
			print_qos(reader);
			qos_shown = true;
		}
		if (dds_take(reader, samples, &info, 1, 1) < 1) {
			dds_waitset_wait(ws, NULL, 0, DDS_MSECS(50));
			continue;
		}
		e = samples[0];
		if (info.valid_data) {
			int shown = (int)(e->payload._length < 64 ?
						  e->payload._length : 64);

			printf("service %s type %s/%llu/%llu seq %llu len %u "
			       "text %.*s\n", e->service, e->type_name,
			       (unsigned long long)e->type_size,
			       (unsigned long long)e->type_align,
			       (unsigned long long)e->seq, e->payload._length,
			       shown, (const char *)e->payload._buffer);
			fflush(stdout);
			got++;
		}
		dds_return_loan(reader, samples, 1);
	}
	return got == a->count ? 0 : 1;
}

static bool wait_reader(dds_entity_t writer, const struct args *a)
{
	dds_time_t deadline = dds_time() + DDS_MSECS(a->timeout_ms);
	dds_publication_matched_status_t st;

	while (dds_time() < deadline) {
		if (dds_get_publication_matched_status(writer, &st) == 0 &&
		    st.current_count >= a->readers)
			return true;
		dds_sleepfor(DDS_MSECS(20));
	}
	fprintf(stderr, "dds_peer: no reader matched\n");
	return false;
}

static void envelope(floe_gw_Envelope *e, const struct args *a,
		     const char *service, const char *type, uint64_t size,
		     uint64_t align, const void *payload, uint32_t len)
{
	static uint64_t seq;

	memset(e, 0, sizeof(*e));
	snprintf(e->service, sizeof(e->service), "%s", service);
	snprintf(e->type_name, sizeof(e->type_name), "%s", type);
	e->type_size = size;
	e->type_align = align;
	e->gateway_id = 0xd5d5d5d5d5d5d5d5ull; /* this program */
	e->publisher_id = 1;
	e->seq = seq++;
	e->payload._buffer = (uint8_t *)payload;
	e->payload._length = e->payload._maximum = len;
	(void)a;
}

static int publish(dds_entity_t pp, const struct args *a, bool garbage)
{
	static uint8_t big_header[5000];
	dds_qos_t *qos;
	dds_entity_t topic = make_topic(pp, a, &qos);
	dds_entity_t writer = dds_create_writer(pp, topic, qos, NULL);
	const char *s = a->service, *t = "floe.bytes";
	floe_gw_Envelope e;
	int ret = 0;

	dds_delete_qos(qos);
	if (writer < 0 || !wait_reader(writer, a))
		return 1;
	if (garbage) {
		/* each wrong in one way; the gateway logs and drops them */
		envelope(&e, a, "no/such/service", t, 1, 1, "x", 1);
		ret |= dds_write(writer, &e);
		envelope(&e, a, s, "u32", 4, 4, "abc", 3);   /* not whole */
		ret |= dds_write(writer, &e);
		envelope(&e, a, s, t, 1, 3, "abc", 3);       /* alignment */
		ret |= dds_write(writer, &e);
		envelope(&e, a, s, t, 0, 1, "abc", 3);       /* size 0 */
		ret |= dds_write(writer, &e);
		envelope(&e, a, s, t, 1, 1, "", 0);          /* empty */
		ret |= dds_write(writer, &e);
		envelope(&e, a, s, "", 1, 1, "abc", 3);      /* no type */
		ret |= dds_write(writer, &e);
		envelope(&e, a, s, "other", 2, 2, "abcd", 4); /* mismatch */
		ret |= dds_write(writer, &e);
		envelope(&e, a, s, t, 1, 1, "abc", 3);
		e.user_header._buffer = big_header;
		e.user_header._length = e.user_header._maximum =
			sizeof(big_header);
		ret |= dds_write(writer, &e);
		envelope(&e, a, s, t, 1, 1, "after-garbage", 13);
		ret |= dds_write(writer, &e);
	}
	for (long i = 0; !garbage && i < a->count; i++) {
		envelope(&e, a, s, t, 1, 1, a->text, (uint32_t)strlen(a->text));
		ret |= dds_write(writer, &e);
		dds_sleepfor(DDS_MSECS(10));
	}
	/* best-effort or not, let the last samples leave before exiting */
	dds_sleepfor(DDS_MSECS(500));
	return ret ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "text", required_argument, NULL, 'x' },
		{ "depth", required_argument, NULL, 'd' },
		{ "reliable", no_argument, NULL, 'r' },
		{ "transient-local", no_argument, NULL, 'l' },
		{ "show-qos", no_argument, NULL, 'q' },
		{ "dds-domain", required_argument, NULL, 'D' },
		{ "readers", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	struct args a = { .count = 1, .timeout_ms = 60000, .text = "hello",
			  .depth = 16, .readers = 1 };
	dds_entity_t pp;
	int c, ret;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': a.count = atol(optarg); break;
		case 't': a.timeout_ms = atol(optarg); break;
		case 'x': a.text = optarg; break;
		case 'd': a.depth = atoi(optarg); break;
		case 'r': a.reliable = true; break;
		case 'l': a.transient_local = true; break;
		case 'q': a.show_qos = true; break;
		case 'D': a.dds_domain = atol(optarg); break;
		case 'R': a.readers = atol(optarg); break;
		default: return 2;
		}
	}
	if (argc - optind < 2 ||
	    (strcmp(argv[optind], "sub") && argc - optind < 3)) {
		fprintf(stderr, "usage: dds_peer sub TOPIC | pub|garbage "
				"TOPIC SERVICE [options]\n");
		return 2;
	}
	a.mode = argv[optind];
	a.topic = argv[optind + 1];
	a.service = argv[optind + 2];
	pp = dds_create_participant((dds_domainid_t)a.dds_domain, NULL,
				    NULL);
	if (pp < 0) {
		fprintf(stderr, "dds_peer: participant: %s\n",
			dds_strretcode(pp));
		return 1;
	}
	if (!strcmp(a.mode, "sub"))
		ret = subscribe(pp, &a);
	else if (!strcmp(a.mode, "pub"))
		ret = publish(pp, &a, false);
	else if (!strcmp(a.mode, "garbage"))
		ret = publish(pp, &a, true);
	else
		ret = 2;
	dds_delete(pp);
	return ret;
}
