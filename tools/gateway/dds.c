// SPDX-License-Identifier: MIT
/* The DDS entities of a bridge, and taking what arrived. */
#include "gateway.h"

/* Said in the log: whether anything on the network listens (tests and
 * operators wait for this line). */
static void on_matched(dds_entity_t writer,
		       const dds_publication_matched_status_t status, void *arg)
{
	(void)writer;
	gw_log("topic '%s': %d DDS reader%s matched", (const char *)arg,
	       status.current_count, status.current_count == 1 ? "" : "s");
}

int gw_dds_endpoints(struct gw_ctx *ctx, const char *topic_name,
		     const struct gw_dds_qos *map, dds_entity_t *writer,
		     dds_entity_t *reader)
{
	dds_qos_t *wq = gw_qos_create(map, false);
	dds_qos_t *rq = gw_qos_create(map, true);
	dds_listener_t *l = dds_create_listener((void *)topic_name);
	dds_entity_t topic;
	int ret = 0;

	topic = dds_create_topic(ctx->participant, &floe_gw_Envelope_desc,
				 topic_name, wq, NULL);
	if (topic < 0) {
		gw_log("topic '%s': %s", topic_name, dds_strretcode(topic));
		ret = -1;
		goto out;
	}
	dds_lset_publication_matched(l, on_matched);
	*writer = dds_create_writer(ctx->participant, topic, wq, l);
	*reader = dds_create_reader(ctx->participant, topic, rq, NULL);
	if (*writer < 0 || *reader < 0) {
		gw_log("topic '%s': creating the writer or reader: %s",
		       topic_name,
		       dds_strretcode(*writer < 0 ? *writer : *reader));
		ret = -1;
	}
out:
	dds_delete_listener(l);
	dds_delete_qos(wq);
	dds_delete_qos(rq);
	return ret;
}

int gw_take_each(dds_entity_t reader,
		 void (*fn)(void *arg, const floe_gw_Envelope *env), void *arg)
{
	void *samples[GW_TAKE_BATCH] = { NULL };
	dds_sample_info_t infos[GW_TAKE_BATCH];
	int n = dds_take(reader, samples, infos, GW_TAKE_BATCH, GW_TAKE_BATCH);

	if (n <= 0)
		return 0;
	for (int i = 0; i < n; i++)
		if (infos[i].valid_data)
			fn(arg, samples[i]);
	dds_return_loan(reader, samples, n);
	return n;
}
