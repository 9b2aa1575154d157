// SPDX-License-Identifier: MIT
#include "names.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "floe.h"

bool floe_domain_valid(const char *domain)
{
	size_t n = 0;

	for (; domain[n]; n++) {
		char c = domain[n];

		if (n >= FLOE_DOMAIN_MAX ||
		    !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return n > 0;
}

bool floe_user_name_valid(const char *name, size_t max_len)
{
	size_t n = 0;

	if (!name)
		return false;
	for (; name[n]; n++)
		if (n >= max_len || name[n] < 0x20 || name[n] > 0x7e)
			return false;
	return n > 0;
}

bool floe_seg_name_valid(const char *name)
{
	size_t n = 0;

	if (name[0] == '.')
		return false;
	for (; name[n]; n++) {
		char c = name[n];

		if (n >= FLOE_SEG_NAME_MAX - 1 ||
		    !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		      c == '.'))
			return false;
	}
	return n > 0;
}

uint64_t floe_name_hash(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *name; name++) {
		h ^= (unsigned char)*name;
		h *= 0x100000001b3ULL;
	}
	return h;
}

void floe_seg_name(char out[FLOE_SEG_NAME_MAX], const char *domain,
		   enum floe_seg_kind kind, uint64_t id, uint32_t generation)
{
	if (generation)
		snprintf(out, FLOE_SEG_NAME_MAX, "%s.%c.%016" PRIx64 ".%" PRIu32,
			 domain, (char)kind, id, generation);
	else
		snprintf(out, FLOE_SEG_NAME_MAX, "%s.%c.%016" PRIx64, domain,
			 (char)kind, id);
}

void floe_seg_prefix(char out[FLOE_SEG_NAME_MAX], const char *domain,
		     enum floe_seg_kind kind)
{
	snprintf(out, FLOE_SEG_NAME_MAX, "%s.%c.", domain, (char)kind);
}

bool floe_seg_name_id(const char *name, size_t prefix_len, uint64_t *id)
{
	const char *p = name + prefix_len;
	char *end;

	if (strlen(p) < 16)
		return false;
	*id = strtoull(p, &end, 16);
	return end == p + 16 && (*end == '\0' || *end == '.');
}
