// SPDX-License-Identifier: MIT
/*
 * Events: notifiers signal event ids, listeners learn which ids fired.
 *
 * An event service is a service segment of the event pattern (namespace
 * "<domain>.e.<hash>"): notifiers take the source slots, listeners the
 * sink slots, and listener slot j owns the cell at body_off + j * stride,
 * a struct floe_event_cell followed by one bit per event id.
 *
 * Notify (no lock, no system call unless someone sleeps):
 *   set the id's bit; bump futex_seq; if the listener declared itself
 *   asleep (waiters), FUTEX_WAKE; if it asked for a descriptor (fd_armed),
 *   one datagram to its socket.
 * Wait: the classic futex protocol without lost wake-ups:
 *   seq = futex_seq; collect bits; none: waiters++, look again, then
 *   FUTEX_WAIT(futex_seq, seq). All of it sequentially consistent: a
 *   notifier that read waiters == 0 bumped futex_seq before the listener
 *   announced itself, so the listener's second look sees the bit (and its
 *   FUTEX_WAIT would fail on the changed sequence anyway); one that read
 *   waiters != 0 wakes it, or the kernel's compare of futex_seq does.
 *
 * The futex is shared (not FUTEX_PRIVATE): the word lives in a segment
 * every process maps from the same file (/dev/shm, or the module's shmem),
 * so the kernel keys it by inode and offset.
 *
 * The descriptor (floe_listener_fd) is an abstract AF_UNIX datagram socket
 * named after the domain and the listener's port id, so notifiers can reach
 * it by name on either backend without passing descriptors around. Its
 * readiness is level-triggered by pending datagrams: try_wait drains them
 * before it takes the bits, so a bit set after the drain always has its
 * datagram still queued.
 *
 * Everything read from the segment comes from processes we do not trust:
 * the cell and word counts are computed locally from the validated QoS
 * copy; a cell whose listener_id does not match its slot's owner is
 * skipped; bits beyond event_id_max are ignored.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <linux/floe.h>

#include "base/bounds.h"
#include "internal.h"

#define EVENT_TYPE_NAME "floe.event"

/* A listener slot as this notifier last saw it. */
struct listener_target {
	uint64_t owner; /* listener port id; 0: slot free or being claimed */
	struct sockaddr_un addr;
	socklen_t addr_len;
};

struct floe_notifier {
	struct floe_port port;
	uint32_t words; /* bit words per cell */
	uint64_t seen_changes;
	uint64_t seen_deaths;
	struct listener_target *targets; /* by listener slot */
	uint32_t *active;                /* slots with an owner */
	uint32_t nactive;
	int sock; /* unbound datagram socket for fd wake-ups; -1: none yet */
};

struct floe_listener {
	struct floe_port port;
	uint32_t words;
	uint64_t id_max;
	struct floe_event_cell *cell;
	_Atomic uint64_t *bits;
	int sock; /* -1 until floe_listener_fd */
	struct sockaddr_un addr;
	socklen_t addr_len;
};

/* ------------------------------------------------------------------ */
/* Services                                                           */
/* ------------------------------------------------------------------ */

FLOE_EXPORT void floe_event_qos_init(struct floe_event_qos *qos)
{
	if (!qos)
		return;
	*qos = (struct floe_event_qos){
		.max_notifiers = 16,
		.max_listeners = 16,
		.max_nodes = 36,
		.event_id_max = 4095,
	};
}

static uint32_t bit_words_of(const struct floe_shm_qos *q)
{
	return q->event.event_id_max / 64 + 1;
}

/* Bytes of a listener's cell: its header and its bits. */
static uint64_t cell_stride(const struct floe_shm_qos *q)
{
	return floe_align_up(sizeof(struct floe_event_cell) +
				     (uint64_t)bit_words_of(q) * sizeof(uint64_t),
			     FLOE_CACHELINE);
}

static int layout(const struct floe_shm_qos *q, struct floe_svc_layout *l)
{
	const uint32_t counts[FLOE_SLOT_KINDS] = {
		q->max_nodes, q->event.max_notifiers, q->event.max_listeners
	};

	if (!floe_slot_counts_valid(counts) ||
	    q->event.event_id_max > FLOE_LIMIT_EVENT_ID)
		return FLOE_E_INVALID;
	l->size = floe_slots_layout(counts, l) +
		  (uint64_t)q->event.max_listeners * cell_stride(q);
	return 0;
}

static bool satisfies(const struct floe_shm_qos *have,
		      const struct floe_shm_qos *want)
{
	const struct floe_event_shm_qos *h = &have->event, *w = &want->event;

	return w->max_notifiers <= h->max_notifiers &&
	       w->max_listeners <= h->max_listeners &&
	       w->event_id_max <= h->event_id_max;
}

/* Events move no data: no directions. */
static uint32_t directions(const struct floe_shm_qos *q,
			   const struct floe_svc_layout *l,
			   const struct floe_shm_type *types,
			   struct floe_dir dirs[FLOE_MAX_DIRS])
{
	(void)q;
	(void)l;
	(void)types;
	(void)dirs;
	return 0;
}

static void qos_from_shm(const struct floe_shm_qos *s,
			 struct floe_event_qos *q)
{
	*q = (struct floe_event_qos){
		.max_notifiers = s->event.max_notifiers,
		.max_listeners = s->event.max_listeners,
		.max_nodes = s->max_nodes,
		.event_id_max = s->event.event_id_max,
	};
}

static void describe(const struct floe_shm_qos *q,
		     struct floe_service_info *info)
{
	qos_from_shm(q, &info->event_qos);
}

const struct floe_pattern floe_event_pattern = {
	.kind = FLOE_PATTERN_KIND_EVENT,
	.seg_kind = FLOE_KIND_EVENT,
	.roles = { FLOE_ROLE_NODE, FLOE_ROLE_NOTIFIER, FLOE_ROLE_LISTENER },
	.types = 1,
	.layout = layout,
	.satisfies = satisfies,
	.directions = directions,
	.describe = describe,
};

static void qos_to_shm(const struct floe_event_qos *q, struct floe_shm_qos *s)
{
	*s = (struct floe_shm_qos){
		.pattern = FLOE_PATTERN_KIND_EVENT,
		.max_nodes = q->max_nodes,
		.event = {
			.max_notifiers = q->max_notifiers,
			.max_listeners = q->max_listeners,
			.event_id_max = q->event_id_max,
		},
	};
}

/* The type of an event service is fixed; QoS bounds are checked by the
 * layout when the service is created. */
static int get_service(floe_node *node, const char *name,
		       const struct floe_event_opts *opts,
		       enum floe_svc_how how, floe_service **out)
{
	const struct floe_event_qos *qos = opts ? opts->qos : NULL;
	struct floe_event_qos defaults;
	struct floe_shm_qos demand;
	struct floe_svc_spec spec = {
		.pattern = &floe_event_pattern,
		.types = { { .name = EVENT_TYPE_NAME, .size = 8, .align = 8 } },
		.attributes = opts ? opts->attributes : NULL,
		.num_attributes = opts ? opts->num_attributes : 0,
		.mode = opts ? opts->mode : 0,
	};

	floe_event_qos_init(&defaults);
	qos_to_shm(how != FLOE_SVC_OPEN && qos ? qos : &defaults, &spec.qos);
	if (qos) {
		qos_to_shm(qos, &demand);
		spec.demand = &demand;
	}
	return floe_svc_get(node, name, &spec, how, out);
}

FLOE_EXPORT int floe_event_open(floe_node *node, const char *name,
				const struct floe_event_opts *opts,
				floe_service **out)
{
	return get_service(node, name, opts, FLOE_SVC_OPEN, out);
}

FLOE_EXPORT int floe_event_create(floe_node *node, const char *name,
				  const struct floe_event_opts *opts,
				  floe_service **out)
{
	return get_service(node, name, opts, FLOE_SVC_CREATE, out);
}

FLOE_EXPORT int floe_event_open_or_create(floe_node *node, const char *name,
					  const struct floe_event_opts *opts,
					  floe_service **out)
{
	return get_service(node, name, opts, FLOE_SVC_OPEN_OR_CREATE, out);
}

FLOE_EXPORT void floe_event_qos(const floe_service *svc,
				struct floe_event_qos *qos)
{
	if (!svc || !qos)
		return;
	qos_from_shm(&svc->qos, qos);
}

/* ------------------------------------------------------------------ */
/* Cells and wake-up primitives                                       */
/* ------------------------------------------------------------------ */

/* Cell of listener slot @j (< max_listeners; the layout was validated
 * against the mapping's size when the service was attached). */
static struct floe_event_cell *cell_at(floe_service *svc, uint32_t j)
{
	return (struct floe_event_cell *)((char *)svc->seg.addr +
					  svc->lay.body_off +
					  (uint64_t)j * cell_stride(&svc->qos));
}

static _Atomic uint64_t *cell_bits(struct floe_event_cell *cell)
{
	return (_Atomic uint64_t *)(cell + 1);
}

static void futex_wake_all(_Atomic uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* Sleep while *@word == @expected, until @deadline (absolute
 * CLOCK_MONOTONIC; NULL: forever). Any return is a reason to look again. */
static void futex_wait_until(_Atomic uint32_t *word, uint32_t expected,
			     const struct timespec *deadline)
{
	/* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline, so
	 * an EINTR needs no recomputation of the time left. */
	syscall(SYS_futex, word, FUTEX_WAIT_BITSET, expected, deadline, NULL,
		FUTEX_BITSET_MATCH_ANY);
}

/* The abstract socket name of listener @id: "\0floe.<domain>.l.<id>". */
static socklen_t listener_addr(const char *domain, uint64_t id,
			       struct sockaddr_un *addr)
{
	int n;

	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	n = snprintf(addr->sun_path + 1, sizeof(addr->sun_path) - 1,
		     "floe.%s.l.%016" PRIx64, domain, id);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			   (size_t)n);
}

static int dgram_socket(void)
{
	return socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

/* One byte to a listener's socket. Failures need no handling: EAGAIN
 * means its queue is full (so it is readable already), ECONNREFUSED that
 * the listener is gone or has no descriptor yet. */
static void poke(int sock, const struct sockaddr_un *addr, socklen_t len)
{
	static const char byte = 1;

	sendto(sock, &byte, 1, MSG_DONTWAIT | MSG_NOSIGNAL,
	       (const struct sockaddr *)addr, len);
}

/* ------------------------------------------------------------------ */
/* Notifier                                                           */
/* ------------------------------------------------------------------ */

/* Bring the cached listener slots in line with the service. */
static void rescan(floe_notifier *n)
{
	floe_service *svc = n->port.svc;
	struct floe_backend *be = svc->node->be;

	/* Read the counters first: a change during the scan is seen next
	 * time. */
	n->seen_changes = floe_svc_changes(svc);
	n->seen_deaths = be->ops->death_epoch(be);
	n->nactive = 0;
	for (uint32_t j = 0; j < svc->qos.event.max_listeners; j++) {
		struct listener_target *t = &n->targets[j];
		struct floe_port_ref ref;
		uint64_t owner = floe_svc_slot_owner(svc, FLOE_SLOT_SINK, j,
						     &ref);

		if (owner != t->owner) {
			t->owner = owner;
			if (owner)
				t->addr_len = listener_addr(be->domain, owner,
							    &t->addr);
		}
		if (owner)
			n->active[n->nactive++] = j;
	}
}

static void rescan_if_changed(floe_notifier *n)
{
	floe_service *svc = n->port.svc;
	struct floe_backend *be = svc->node->be;
	uint64_t deaths = be->ops->death_epoch(be);

	if (deaths != n->seen_deaths) {
		/* kmod: some port died somewhere; free our service's dead
		 * slots so that dead listeners stop being counted */
		floe_svc_reclaim_dead(svc);
		rescan(n);
	} else if (floe_svc_changes(svc) != n->seen_changes) {
		rescan(n);
	}
}

static void notifier_free(floe_notifier *n)
{
	if (n->sock >= 0)
		close(n->sock);
	free(n->targets);
	free(n->active);
	free(n);
}

FLOE_EXPORT int floe_notifier_create(floe_service *svc, floe_notifier **out)
{
	floe_notifier *n;
	int ret;

	if (!svc || !out)
		return FLOE_E_INVALID;
	if (svc->pattern != &floe_event_pattern)
		return FLOE_E_PATTERN;
	n = calloc(1, sizeof(*n));
	if (!n)
		return FLOE_E_NOMEM;
	n->sock = -1;
	n->words = bit_words_of(&svc->qos);
	n->targets = calloc(svc->qos.event.max_listeners, sizeof(*n->targets));
	n->active = calloc(svc->qos.event.max_listeners, sizeof(*n->active));
	ret = n->targets && n->active
		      ? floe_port_join(svc, FLOE_SLOT_SOURCE, 0, &n->port)
		      : FLOE_E_NOMEM;
	if (ret) {
		notifier_free(n);
		return ret;
	}
	rescan(n);
	*out = n;
	return 0;
}

FLOE_EXPORT void floe_notifier_destroy(floe_notifier *n)
{
	if (!n)
		return;
	floe_port_leave(&n->port);
	notifier_free(n);
}

FLOE_EXPORT uint64_t floe_notifier_id(const floe_notifier *n)
{
	return n ? n->port.ref.id : 0;
}

FLOE_EXPORT int floe_notifier_notify(floe_notifier *n, uint64_t event_id)
{
	uint64_t mask;
	uint32_t word;
	int signalled = 0;

	if (!n)
		return FLOE_E_INVALID;
	if (event_id > n->port.svc->qos.event.event_id_max)
		return FLOE_E_INVALID;
	word = (uint32_t)(event_id / 64);
	mask = 1ULL << (event_id % 64);
	rescan_if_changed(n);
	for (uint32_t k = 0; k < n->nactive; k++) {
		uint32_t j = n->active[k];
		struct listener_target *t = &n->targets[j];
		struct floe_event_cell *cell = cell_at(n->port.svc, j);

		/* Not (yet, or any more) the cell of the slot's owner: a
		 * listener still setting up, or a stale or forged id. */
		if (atomic_load_explicit(&cell->listener_id,
					 memory_order_acquire) != t->owner)
			continue;
		atomic_fetch_or(&cell_bits(cell)[word], mask);
		atomic_fetch_add(&cell->futex_seq, 1);
		if (atomic_load(&cell->waiters))
			futex_wake_all(&cell->futex_seq);
		if (atomic_load(&cell->fd_armed)) {
			if (n->sock < 0)
				n->sock = dgram_socket();
			if (n->sock >= 0)
				poke(n->sock, &t->addr, t->addr_len);
		}
		signalled++;
	}
	return signalled;
}

/* ------------------------------------------------------------------ */
/* Listener                                                           */
/* ------------------------------------------------------------------ */

/* A fresh cell for a newly claimed slot; the id goes in last, so a
 * notifier that sees it also sees the rest cleared. */
static void cell_init(floe_listener *l)
{
	struct floe_event_cell *cell = l->cell;

	atomic_store(&cell->listener_id, 0);
	for (uint32_t w = 0; w < l->words; w++)
		atomic_store_explicit(&l->bits[w], 0, memory_order_relaxed);
	atomic_store_explicit(&cell->waiters, 0, memory_order_relaxed);
	atomic_store_explicit(&cell->fd_armed, 0, memory_order_relaxed);
	atomic_store_explicit(&cell->listener_id, l->port.ref.id,
			      memory_order_release);
}

FLOE_EXPORT int floe_listener_create(floe_service *svc, floe_listener **out)
{
	floe_listener *l;
	int ret;

	if (!svc || !out)
		return FLOE_E_INVALID;
	if (svc->pattern != &floe_event_pattern)
		return FLOE_E_PATTERN;
	l = calloc(1, sizeof(*l));
	if (!l)
		return FLOE_E_NOMEM;
	l->sock = -1;
	l->words = bit_words_of(&svc->qos);
	l->id_max = svc->qos.event.event_id_max;
	/* Notifiers see the slot before its cell is ours; they skip a cell
	 * whose listener_id is not the slot's owner until cell_init is done. */
	ret = floe_port_join(svc, FLOE_SLOT_SINK, 0, &l->port);
	if (ret) {
		free(l);
		return ret;
	}
	l->cell = cell_at(svc, l->port.slot);
	l->bits = cell_bits(l->cell);
	cell_init(l);
	*out = l;
	return 0;
}

FLOE_EXPORT void floe_listener_destroy(floe_listener *l)
{
	uint64_t mine;

	if (!l)
		return;
	/* Still our slot: retire the cell before the slot can be re-taken,
	 * so notifiers stop signalling it. */
	mine = l->port.ref.id;
	atomic_compare_exchange_strong(&l->cell->listener_id, &mine, 0);
	atomic_store(&l->cell->fd_armed, 0);
	if (l->sock >= 0)
		close(l->sock);
	floe_port_leave(&l->port);
	free(l);
}

FLOE_EXPORT uint64_t floe_listener_id(const floe_listener *l)
{
	return l ? l->port.ref.id : 0;
}

static bool bits_pending(floe_listener *l)
{
	for (uint32_t w = 0; w < l->words; w++)
		if (atomic_load(&l->bits[w]))
			return true;
	return false;
}

/* Empty the socket's queue: the readiness it carried is about to be
 * answered by taking the bits. */
static void drain(floe_listener *l)
{
	char buf[64];

	while (recv(l->sock, buf, sizeof(buf), MSG_DONTWAIT) >= 0 ||
	       errno == EINTR)
		;
}

/* Take the pending ids and report them in increasing order. */
static int collect(floe_listener *l, floe_event_cb cb, void *ctx)
{
	int count = 0;

	if (l->sock >= 0)
		drain(l);
	for (uint32_t w = 0; w < l->words; w++) {
		uint64_t v;

		/* a load first: most words are empty, and an exchange
		 * would take the cache line from the notifiers each time */
		if (!atomic_load_explicit(&l->bits[w], memory_order_relaxed))
			continue;
		v = atomic_exchange(&l->bits[w], 0);
		while (v) {
			uint64_t id = (uint64_t)w * 64 +
				      (uint64_t)__builtin_ctzll(v);

			v &= v - 1;
			if (id > l->id_max)
				break; /* bits no notifier may set */
			count++;
			if (cb)
				cb(id, ctx);
		}
	}
	return count;
}

FLOE_EXPORT int floe_listener_try_wait(floe_listener *l, floe_event_cb cb,
				       void *ctx)
{
	if (!l)
		return FLOE_E_INVALID;
	return collect(l, cb, ctx);
}

/* Wait for events until @deadline (NULL: forever). */
static int wait_until(floe_listener *l, const struct timespec *deadline,
		      floe_event_cb cb, void *ctx)
{
	struct floe_event_cell *cell = l->cell;

	for (;;) {
		uint32_t seq = atomic_load(&cell->futex_seq);
		int count = collect(l, cb, ctx);
		struct timespec now;

		if (count)
			return count;
		if (deadline) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec > deadline->tv_sec ||
			    (now.tv_sec == deadline->tv_sec &&
			     now.tv_nsec >= deadline->tv_nsec))
				return 0;
		}
		atomic_fetch_add(&cell->waiters, 1);
		/* A notifier that saw waiters == 0 set its bit before: look
		 * once more before sleeping. */
		if (!bits_pending(l))
			futex_wait_until(&cell->futex_seq, seq, deadline);
		atomic_fetch_sub(&cell->waiters, 1);
	}
}

FLOE_EXPORT int floe_listener_timed_wait(floe_listener *l,
					 uint64_t timeout_ns, floe_event_cb cb,
					 void *ctx)
{
	struct timespec deadline;
	uint64_t ns;

	if (!l)
		return FLOE_E_INVALID;
	if (!timeout_ns)
		return collect(l, cb, ctx);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	/* Saturate: a timeout of centuries is forever. */
	if (timeout_ns / 1000000000ULL >
	    (uint64_t)(INT64_MAX / 2) - (uint64_t)deadline.tv_sec)
		return wait_until(l, NULL, cb, ctx);
	ns = (uint64_t)deadline.tv_nsec + timeout_ns % 1000000000ULL;
	deadline.tv_sec += (time_t)(timeout_ns / 1000000000ULL +
				    ns / 1000000000ULL);
	deadline.tv_nsec = (long)(ns % 1000000000ULL);
	return wait_until(l, &deadline, cb, ctx);
}

FLOE_EXPORT int floe_listener_blocking_wait(floe_listener *l,
					    floe_event_cb cb, void *ctx)
{
	if (!l)
		return FLOE_E_INVALID;
	return wait_until(l, NULL, cb, ctx);
}

FLOE_EXPORT int floe_listener_fd(floe_listener *l)
{
	int sock;

	if (!l)
		return FLOE_E_INVALID;
	if (l->sock >= 0)
		return l->sock;
	sock = dgram_socket();
	if (sock < 0)
		return floe_fd_errno(errno);
	l->addr_len = listener_addr(l->port.svc->node->be->domain,
				    l->port.ref.id, &l->addr);
	/* EADDRINUSE: someone else holds our name (abstract names are
	 * global to the network namespace). */
	if (bind(sock, (struct sockaddr *)&l->addr, l->addr_len)) {
		close(sock);
		return FLOE_E_SYSTEM;
	}
	l->sock = sock;
	atomic_store(&l->cell->fd_armed, 1);
	/* Events that fired before notifiers could see fd_armed: make the
	 * descriptor readable for them ourselves. */
	if (bits_pending(l))
		poke(sock, &l->addr, l->addr_len);
	return sock;
}
