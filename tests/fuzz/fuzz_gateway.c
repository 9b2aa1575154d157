// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness of floe-gateway's envelope decoder
 * (tools/gateway/decode.c): what a hostile DDS peer can put in an
 * envelope once Cyclone DDS has deserialised it. The input is the
 * envelope's fixed part byte for byte (names need not be terminated),
 * then the user header's and the payload's lengths and bytes; buffers are
 * exactly as long as the lengths say, as the deserialiser makes them, so
 * AddressSanitizer catches any read past them. An envelope the decoder
 * accepts is then used as the gateway would use it.
 *
 *   char service[256], type_name[128]; u64 type_size, type_align,
 *   gateway_id, publisher_id, seq; u16 header_len, u32 payload_len
 *   (both little-endian, bounded); u8 flags; then bytes (reused cyclically)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"

#define SERVICE "fuzz/svc"
#define MAX_PAYLOAD (1u << 16)

static size_t take(void *out, size_t n, const uint8_t **data, size_t *size)
{
	size_t k = n < *size ? n : *size;

	memset(out, 0, n);
	memcpy(out, *data, k);
	*data += k;
	*size -= k;
	return k;
}

static uint8_t *buffer(uint32_t len, const uint8_t *data, size_t size)
{
	uint8_t *b = malloc(len ? len : 1);

	for (uint32_t i = 0; b && i < len; i++)
		b[i] = size ? data[i % size] : (uint8_t)i;
	return b;
}

static struct gw_seen seen;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	floe_gw_Envelope env;
	uint16_t header_len;
	uint32_t payload_len;
	uint8_t flags, copy[MAX_PAYLOAD], header[GW_MAX_USER_HEADER];
	char why[160], topic[GW_TOPIC_LEN];

	memset(&env, 0, sizeof(env));
	take(env.service, sizeof(env.service), &data, &size);
	take(env.type_name, sizeof(env.type_name), &data, &size);
	take(&env.type_size, 8, &data, &size);
	take(&env.type_align, 8, &data, &size);
	take(&env.gateway_id, 8, &data, &size);
	take(&env.publisher_id, 8, &data, &size);
	take(&env.seq, 8, &data, &size);
	take(&header_len, 2, &data, &size);
	take(&payload_len, 4, &data, &size);
	take(&flags, 1, &data, &size);
	header_len %= 2 * GW_MAX_USER_HEADER;
	payload_len %= 2 * MAX_PAYLOAD;
	env.user_header._length = env.user_header._maximum = header_len;
	env.payload._length = env.payload._maximum = payload_len;
	/* what a broken deserialiser could hand over: no buffer, or a
	 * maximum below the length */
	if (!(flags & 1))
		env.user_header._buffer = buffer(header_len, data, size);
	if (!(flags & 2))
		env.payload._buffer = buffer(payload_len, data, size);
	if (flags & 4)
		env.payload._maximum = payload_len / 2;

	if (!gw_envelope_check(&env, SERVICE, MAX_PAYLOAD, why, sizeof(why))) {
		/* as the importer uses an accepted envelope */
		if (!env.payload._length ||
		    env.payload._length % env.type_size ||
		    env.payload._length > MAX_PAYLOAD ||
		    env.user_header._length > GW_MAX_USER_HEADER ||
		    strcmp(env.service, SERVICE))
			abort();
		memcpy(copy, env.payload._buffer, env.payload._length);
		if (env.user_header._length)
			memcpy(header, env.user_header._buffer,
			       env.user_header._length);
		gw_seen_is_new(&seen, env.gateway_id, env.publisher_id,
			       env.seq);
	} else if (!memchr(why, '\0', sizeof(why))) {
		abort();
	}
	if (memchr(env.service, '\0', sizeof(env.service)))
		gw_topic_name(topic, "floe/", env.service);
	free(env.user_header._buffer);
	free(env.payload._buffer);
	return 0;
}
