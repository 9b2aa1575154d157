/* SPDX-License-Identifier: MIT */
/*
 * Platform backends: where shared memory comes from and how the death of a
 * port is noticed. Everything above this interface is identical on both.
 *
 *  kmod  segments and ports from /dev/floe; a port is alive while its slot
 *        in the kernel's read-only liveness table holds its id — one load.
 *  shm   segments are files in /dev/shm; a port lives as long as its node,
 *        and a node holds an exclusive flock() on its own registration
 *        file, which the kernel drops when the process dies.
 *
 * Segment names are "<domain>.<kind>.<hex>" (see names.h), identical on both.
 */
#ifndef FLOE_BACKEND_H
#define FLOE_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "floe.h"

/** A mapped segment. */
struct floe_seg {
	void *addr;
	uint64_t size;
	int fd;
	bool writable;
};

/**
 * What identifies a port in shared memory, enough for any process to tell
 * whether it is alive. Written once when a slot is taken, then read-only.
 */
struct floe_port_ref {
	uint64_t id;      /* unique in the domain, never 0 */
	uint64_t node_id; /* owning node (the node's own id for a node) */
	uint32_t slot;    /* kmod: liveness table slot, or FLOE_SLOT_UNKNOWN */
	uint32_t role;    /* enum floe_role of the uapi header */
};

#define FLOE_SLOT_UNKNOWN UINT32_MAX

/* Port ids and claim keys stay below this: slots use the top two bits. */
#define FLOE_CLAIM_KEY_LIMIT (1ULL << 62)

enum floe_liveness {
	FLOE_PORT_ALIVE = 1,
	FLOE_PORT_DEAD = 2,
	FLOE_PORT_UNKNOWN = 3, /* cannot tell (e.g. no access) */
};

/* create flags */
#define FLOE_SEG_OWNED_BY_PORT 0 /* name goes with @owner's death */
#define FLOE_SEG_SHARED 1        /* name stays until unlinked */

struct floe_backend;

struct floe_backend_ops {
	enum floe_backend_kind kind;
	/**
	 * Create and map a segment whose first @init_len bytes are @init.
	 * With shm they are in place before the name appears, so no process
	 * ever sees a named segment without its header, even if the creator
	 * dies half-way. With the module the name appears first, and the
	 * first 8 bytes (a magic) are stored last, with release: a reader
	 * that loads them with acquire and finds the magic sees the rest.
	 */
	int (*seg_create)(struct floe_backend *be, const char *name,
			  uint64_t size, uint32_t mode, unsigned int flags,
			  const struct floe_port_ref *owner, const void *init,
			  size_t init_len, struct floe_seg *out);
	int (*seg_open)(struct floe_backend *be, const char *name, bool rw,
			struct floe_seg *out);
	int (*seg_unlink)(struct floe_backend *be, const char *name);
	/**
	 * Call @cb with the name of every segment whose name starts with
	 * @prefix; stop when @cb returns non-zero. Returns count or error.
	 */
	int (*seg_list)(struct floe_backend *be, const char *prefix,
			int (*cb)(const char *name, void *ctx), void *ctx);
	/** Register a port; @node_id 0 registers a node. Fills @ref. */
	int (*port_register)(struct floe_backend *be, uint32_t role,
			     const char *service, uint64_t node_id,
			     struct floe_port_ref *ref);
	void (*port_unregister)(struct floe_backend *be,
				const struct floe_port_ref *ref);
	enum floe_liveness (*port_liveness)(struct floe_backend *be,
					    const struct floe_port_ref *ref);
	/**
	 * Keep the segments @owner (a port of this backend) owns, now and
	 * later, reachable by name after @owner is unregistered or dies, for
	 * as long as @holder (a live port of any process) holds them: until
	 * port_release or @holder's own end. Holding twice is one hold.
	 * kmod: FLOE_IOC_SEG_HOLD; FLOE_E_NOT_FOUND if @owner is not ours,
	 * FLOE_E_DEAD if @holder is not alive, FLOE_E_NO_SPACE past the
	 * module's holders per owner, FLOE_E_BACKEND if the module predates
	 * holds. shm: 0, nothing to do: there a dead or departed port's
	 * names stay until userspace cleans them up lazily.
	 */
	int (*port_hold)(struct floe_backend *be,
			 const struct floe_port_ref *owner,
			 const struct floe_port_ref *holder);
	/**
	 * Drop @holder's hold on the segments of port @owner_id; @holder or
	 * @owner_id must be a port of this backend (else FLOE_E_PERMISSION).
	 * kmod: FLOE_E_NOT_FOUND if there is no such hold. shm: 0.
	 */
	int (*port_release)(struct floe_backend *be, uint64_t owner_id,
			    const struct floe_port_ref *holder);
	/**
	 * A value below FLOE_CLAIM_KEY_LIMIT from which claim_liveness tells
	 * whether @ref's port lives: a slot holds it while the port claims
	 * it, before the full ref is written, so that a claimer killed in
	 * between can be recognised as dead.
	 */
	uint64_t (*claim_key)(struct floe_backend *be,
			      const struct floe_port_ref *ref);
	enum floe_liveness (*claim_liveness)(struct floe_backend *be,
					     uint64_t key);
	/**
	 * A descriptor of its own that becomes readable when something in
	 * the domain may have changed (for floe_watch), or a negative floe
	 * error. *@complete: it covers segments appearing and going as well
	 * as deaths (shm: inotify on /dev/shm); false if only deaths (kmod:
	 * /dev/floe's death counter), then watchers also look periodically.
	 */
	int (*changes_open)(struct floe_backend *be, bool *complete);
	/** Take what made @fd readable; true if it may concern the domain. */
	bool (*changes_take)(struct floe_backend *be, int fd);
	void (*destroy)(struct floe_backend *be);
};

struct floe_backend {
	const struct floe_backend_ops *ops;
	/*
	 * A counter that moves whenever a port may have died (kmod: the
	 * table's death counter, read-only shared memory), or NULL when the
	 * backend cannot tell cheaply (shm), so callers check liveness on
	 * their slow paths instead. Read on every send and receive: a word,
	 * not a call.
	 */
	const uint64_t *deaths;
	char domain[17];
};

/* floe_backend.deaths as a number that changes with it; 0 without one
 * (never 0 with one). */
static inline uint64_t floe_backend_deaths(const uint64_t *deaths)
{
	return deaths ? __atomic_load_n(deaths, __ATOMIC_ACQUIRE) + 1 : 0;
}

/**
 * Pick and open a backend: @kind AUTO consults $FLOE_BACKEND, then uses
 * kmod when /dev/floe opens and speaks our ABI, else shm.
 */
int floe_backend_open(enum floe_backend_kind kind, const char *domain,
		      struct floe_backend **out);

int floe_backend_kmod_open(const char *domain, struct floe_backend **out);
int floe_backend_shm_open(const char *domain, struct floe_backend **out);

/** Unmap and close. */
void floe_seg_close(struct floe_seg *seg);
/** mmap @fd of @size bytes; fills @out (which keeps @fd). */
int floe_seg_map(int fd, uint64_t size, bool rw, struct floe_seg *out);
/** Close a mapped segment's descriptor: the mapping keeps the memory, and
 * a process with many segments must not run out of descriptors. */
void floe_seg_drop_fd(struct floe_seg *seg);

/** List the segment names in @dir_path (one entry per segment) that start
 * with @prefix; as floe_backend_ops.seg_list. */
int floe_list_segments(const char *dir_path, const char *prefix,
		       int (*cb)(const char *name, void *ctx), void *ctx);

/** errno → floe error for segment operations. */
int floe_errno_to_error(int err);

#endif
