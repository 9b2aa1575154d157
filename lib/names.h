/* SPDX-License-Identifier: MIT */
/*
 * Names of shared objects: "<domain>.<kind>.<16 hex digits>[.<generation>]".
 * Short, fixed-alphabet names fit the module's 63-character limit and can
 * never escape /dev/shm or another domain, whatever the user's service name
 * (which is hashed, and stored in full inside the segment to be compared).
 */
#ifndef FLOE_NAMES_H
#define FLOE_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLOE_SEG_NAME_MAX 64
#define FLOE_DOMAIN_MAX 16

enum floe_seg_kind {
	FLOE_KIND_NODE = 'n',
	FLOE_KIND_SERVICE = 's',
	FLOE_KIND_EVENT = 'e',
	FLOE_KIND_REQUEST_RESPONSE = 'r',
	FLOE_KIND_BLACKBOARD = 'b',
	FLOE_KIND_DATA = 'd',
};

/** Domain names: 1..16 of [A-Za-z0-9_-]. */
bool floe_domain_valid(const char *domain);
/** Node and service names: 1..FLOE_NAME_LEN printable ASCII characters. */
bool floe_user_name_valid(const char *name, size_t max_len);
/** Segment names as the module accepts them. */
bool floe_seg_name_valid(const char *name);
/** 64-bit FNV-1a of a string. */
uint64_t floe_name_hash(const char *name);
/** Build "<domain>.<kind>.<id>" (generation 0) or "...<id>.<gen>". */
void floe_seg_name(char out[FLOE_SEG_NAME_MAX], const char *domain,
		   enum floe_seg_kind kind, uint64_t id, uint32_t generation);
/** Prefix "<domain>.<kind>." for listing. */
void floe_seg_prefix(char out[FLOE_SEG_NAME_MAX], const char *domain,
		     enum floe_seg_kind kind);
/** Parse the id out of a name built by floe_seg_name; false if malformed. */
bool floe_seg_name_id(const char *name, size_t prefix_len, uint64_t *id);

#endif
