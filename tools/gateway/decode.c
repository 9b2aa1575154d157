// SPDX-License-Identifier: MIT
/*
 * What arrives from the network is never trusted: Cyclone DDS checks that
 * the bytes are a well-formed Envelope, this checks that the envelope
 * makes sense as a floe sample of the service whose topic it came on.
 */
#include <stdio.h>
#include <string.h>

#include "gateway.h"

/* Length of @s if a NUL ends it within @cap bytes, else -1. */
static long bounded_len(const char *s, size_t cap)
{
	const char *nul = memchr(s, '\0', cap);

	return nul ? nul - s : -1;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

static bool sequence_sane(const dds_sequence_octet *seq)
{
	return seq->_length == 0 ||
	       (seq->_buffer && seq->_length <= seq->_maximum);
}

int gw_envelope_check(const floe_gw_Envelope *env, const char *service,
		      uint64_t max_payload, char *why, size_t why_len)
{
	long type_len = bounded_len(env->type_name, sizeof(env->type_name));

	if (bounded_len(env->service, sizeof(env->service)) < 0) {
		snprintf(why, why_len, "service name not terminated");
		return -1;
	}
	if (strcmp(env->service, service) != 0) {
		/* printable or not, show at most a bounded, escaped prefix */
		snprintf(why, why_len, "unknown service '%.64s'",
			 printable(env->service) ? env->service : "(binary)");
		return -1;
	}
	if (type_len <= 0 || !printable(env->type_name)) {
		snprintf(why, why_len, "bad type name");
		return -1;
	}
	if (!env->type_size || !env->type_align || env->type_align > 4096 ||
	    (env->type_align & (env->type_align - 1))) {
		snprintf(why, why_len, "bad type size %llu or alignment %llu",
			 (unsigned long long)env->type_size,
			 (unsigned long long)env->type_align);
		return -1;
	}
	if (!sequence_sane(&env->payload) ||
	    !sequence_sane(&env->user_header)) {
		snprintf(why, why_len, "inconsistent sequence lengths");
		return -1;
	}
	if (!env->payload._length || env->payload._length > max_payload ||
	    env->payload._length % env->type_size) {
		snprintf(why, why_len,
			 "payload of %u bytes is not 1..%llu bytes in whole "
			 "elements of %llu",
			 env->payload._length, (unsigned long long)max_payload,
			 (unsigned long long)env->type_size);
		return -1;
	}
	if (env->user_header._length > GW_MAX_USER_HEADER) {
		snprintf(why, why_len, "user header of %u bytes (at most %u)",
			 env->user_header._length, GW_MAX_USER_HEADER);
		return -1;
	}
	return 0;
}

bool gw_seen_is_new(struct gw_seen *seen, uint64_t gateway_id,
		    uint64_t publisher_id, uint64_t seq)
{
	unsigned i;

	for (i = 0; i < seen->used; i++) {
		if (seen->entry[i].gateway_id != gateway_id ||
		    seen->entry[i].publisher_id != publisher_id)
			continue;
		if (seq <= seen->entry[i].seq)
			return false;
		seen->entry[i].seq = seq;
		return true;
	}
	/* a new origin: a free entry, else the oldest one goes (its
	 * publisher most likely went) */
	if (seen->used < GW_SEEN_MAX) {
		i = seen->used++;
	} else {
		i = seen->next_victim;
		seen->next_victim = (seen->next_victim + 1) % GW_SEEN_MAX;
	}
	seen->entry[i].gateway_id = gateway_id;
	seen->entry[i].publisher_id = publisher_id;
	seen->entry[i].seq = seq;
	return true;
}

void gw_topic_name(char out[GW_TOPIC_LEN], const char *prefix,
		   const char *service)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = strlen(prefix);

	memcpy(out, prefix, n);
	/* 3 bytes per character at most: FLOE_NAME_LEN fits */
	for (; *service && n + 4 < GW_TOPIC_LEN; service++) {
		unsigned char c = (unsigned char)*service;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '/' || c == '_') {
			out[n++] = (char)c;
		} else {
			out[n++] = '_';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
}
