// SPDX-License-Identifier: MIT
/*
 * Events: notifiers signal event ids, listeners learn which ids fired.
 *
 * An event service is a service segment of the event pattern (namespace
 * "<domain>.e.<hash>"): notifiers take the 'p' slots, listeners the 's'
 * slots, and listener slot j owns the cell at conns_off + j * conn_stride,
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

#include "internal.h"

#define EVENT_TYPE_NAME "floe.event"

/* A listener slot as this notifier last saw it. */
struct listener_target {
	uint64_t owner; /* listener port id; 0: slot free or being claimed */
	struct sockaddr_un addr;
	socklen_t addr_len;
};

struct floe_notifier {
	floe_service *svc;
	struct floe_port_ref ref;
	uint32_t slot;
	uint32_t words; /* bit words per cell */
	uint64_t seen_changes;
	uint64_t seen_deaths;
	struct listener_target *targets; /* by listener slot */
	uint32_t *active;                /* slots with an owner */
	uint32_t nactive;
	int sock; /* unbound datagram socket for fd wake-ups; -1: none yet */
};

struct floe_listener {
	floe_service *svc;
	struct floe_port_ref ref;
	uint32_t slot;
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

static void event_qos_to_shm(const struct floe_event_qos *q,
			     struct floe_shm_qos *s)
{
	/* The pub-sub fields stay 0: the event layout ignores them and a
	 * demand of 0 asks for nothing. */
	*s = (struct floe_shm_qos){
		.max_publishers = q->max_notifiers,
		.max_subscribers = q->max_listeners,
		.max_nodes = q->max_nodes,
		.pattern = FLOE_PATTERN_EVENT,
		.event_id_max = q->event_id_max,
	};
}

/* What floe_svc_* needs for an event service; the type is fixed. QoS
 * bounds are checked by floe_svc_layout when the service is created. */
static void event_spec(const struct floe_event_opts *opts, bool creating,
		       struct floe_svc_spec *spec, struct floe_shm_qos *demand)
{
	const struct floe_event_qos *qos = opts ? opts->qos : NULL;
	struct floe_event_qos defaults;

	floe_event_qos_init(&defaults);
	*spec = (struct floe_svc_spec){
		.type = { .name = EVENT_TYPE_NAME, .size = 8, .align = 8 },
		.attributes = opts ? opts->attributes : NULL,
		.num_attributes = opts ? opts->num_attributes : 0,
		.mode = opts ? opts->mode : 0,
	};
	event_qos_to_shm(creating && qos ? qos : &defaults, &spec->qos);
	if (qos) {
		event_qos_to_shm(qos, demand);
		spec->demand = demand;
	}
}

FLOE_EXPORT int floe_event_open(floe_node *node, const char *name,
				const struct floe_event_opts *opts,
				floe_service **out)
{
	struct floe_svc_spec spec;
	struct floe_shm_qos demand;

	event_spec(opts, false, &spec, &demand);
	return floe_svc_open(node, name, &spec, out);
}

FLOE_EXPORT int floe_event_create(floe_node *node, const char *name,
				  const struct floe_event_opts *opts,
				  floe_service **out)
{
	struct floe_svc_spec spec;
	struct floe_shm_qos demand;

	event_spec(opts, true, &spec, &demand);
	return floe_svc_create(node, name, &spec, out);
}

FLOE_EXPORT int floe_event_open_or_create(floe_node *node, const char *name,
					  const struct floe_event_opts *opts,
					  floe_service **out)
{
	struct floe_svc_spec spec;
	struct floe_shm_qos demand;

	event_spec(opts, true, &spec, &demand);
	return floe_svc_open_or_create(node, name, &spec, out);
}

FLOE_EXPORT void floe_event_qos(const floe_service *svc,
				struct floe_event_qos *qos)
{
	if (!svc || !qos)
		return;
	*qos = (struct floe_event_qos){
		.max_notifiers = svc->qos.max_publishers,
		.max_listeners = svc->qos.max_subscribers,
		.max_nodes = svc->qos.max_nodes,
		.event_id_max = svc->qos.event_id_max,
	};
}

/* ------------------------------------------------------------------ */
/* Cells and wake-up primitives                                       */
/* ------------------------------------------------------------------ */

/* Cell of listener slot @j (< max_subscribers; the layout was validated
 * against the mapping's size when the service was attached). */
static struct floe_event_cell *cell_at(floe_service *svc, uint32_t j)
{
	return (struct floe_event_cell *)((char *)svc->seg.addr +
					  svc->lay.conns_off +
					  (uint64_t)j * svc->lay.conn_stride);
}

static _Atomic uint64_t *cell_bits(struct floe_event_cell *cell)
{
	return (_Atomic uint64_t *)(cell + 1);
}

static uint32_t bit_words(floe_service *svc)
{
	return svc->qos.event_id_max / 64 + 1;
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
	floe_service *svc = n->svc;
	struct floe_backend *be = svc->node->be;

	/* Read the counters first: a change during the scan is seen next
	 * time. */
	n->seen_changes = floe_svc_changes(svc);
	n->seen_deaths = be->ops->death_epoch(be);
	n->nactive = 0;
	for (uint32_t j = 0; j < svc->qos.max_subscribers; j++) {
		struct listener_target *t = &n->targets[j];
		struct floe_port_ref ref;
		uint64_t owner = floe_svc_slot_owner(svc, 's', j, &ref);

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
	floe_service *svc = n->svc;
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
	struct floe_backend *be;
	floe_notifier *n;
	int ret;

	if (!svc || !out)
		return FLOE_E_INVALID;
	if (svc->qos.pattern != FLOE_PATTERN_EVENT)
		return FLOE_E_PATTERN;
	be = svc->node->be;
	n = calloc(1, sizeof(*n));
	if (!n)
		return FLOE_E_NOMEM;
	n->svc = svc;
	n->sock = -1;
	n->words = bit_words(svc);
	n->targets = calloc(svc->qos.max_subscribers, sizeof(*n->targets));
	n->active = calloc(svc->qos.max_subscribers, sizeof(*n->active));
	if (!n->targets || !n->active) {
		notifier_free(n);
		return FLOE_E_NOMEM;
	}
	ret = be->ops->port_register(be, FLOE_ROLE_NOTIFIER, svc->name,
				     svc->node->ref.id, &n->ref);
	if (ret) {
		notifier_free(n);
		return ret;
	}
	ret = floe_svc_claim(svc, 'p', &n->ref, 0);
	if (ret < 0) {
		be->ops->port_unregister(be, &n->ref);
		notifier_free(n);
		return ret;
	}
	n->slot = (uint32_t)ret;
	atomic_fetch_add(&svc->ports, 1);
	rescan(n);
	*out = n;
	return 0;
}

FLOE_EXPORT void floe_notifier_destroy(floe_notifier *n)
{
	struct floe_backend *be;

	if (!n)
		return;
	be = n->svc->node->be;
	floe_svc_release(n->svc, 'p', n->slot, n->ref.id);
	be->ops->port_unregister(be, &n->ref);
	atomic_fetch_sub(&n->svc->ports, 1);
	notifier_free(n);
}

FLOE_EXPORT uint64_t floe_notifier_id(const floe_notifier *n)
{
	return n ? n->ref.id : 0;
}

FLOE_EXPORT int floe_notifier_notify(floe_notifier *n, uint64_t event_id)
{
	uint64_t mask;
	uint32_t word;
	int signalled = 0;

	if (!n)
		return FLOE_E_INVALID;
	if (event_id > n->svc->qos.event_id_max)
		return FLOE_E_INVALID;
	word = (uint32_t)(event_id / 64);
	mask = 1ULL << (event_id % 64);
	rescan_if_changed(n);
	for (uint32_t k = 0; k < n->nactive; k++) {
		uint32_t j = n->active[k];
		struct listener_target *t = &n->targets[j];
		struct floe_event_cell *cell = cell_at(n->svc, j);

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
	atomic_store_explicit(&cell->listener_id, l->ref.id,
			      memory_order_release);
}

FLOE_EXPORT int floe_listener_create(floe_service *svc, floe_listener **out)
{
	struct floe_backend *be;
	floe_listener *l;
	int ret;

	if (!svc || !out)
		return FLOE_E_INVALID;
	if (svc->qos.pattern != FLOE_PATTERN_EVENT)
		return FLOE_E_PATTERN;
	be = svc->node->be;
	l = calloc(1, sizeof(*l));
	if (!l)
		return FLOE_E_NOMEM;
	l->svc = svc;
	l->sock = -1;
	l->words = bit_words(svc);
	l->id_max = svc->qos.event_id_max;
	ret = be->ops->port_register(be, FLOE_ROLE_LISTENER, svc->name,
				     svc->node->ref.id, &l->ref);
	if (ret) {
		free(l);
		return ret;
	}
	/* Notifiers see the slot before its cell is ours; they skip a cell
	 * whose listener_id is not the slot's owner until cell_init is done. */
	ret = floe_svc_claim(svc, 's', &l->ref, 0);
	if (ret < 0) {
		be->ops->port_unregister(be, &l->ref);
		free(l);
		return ret;
	}
	l->slot = (uint32_t)ret;
	l->cell = cell_at(svc, l->slot);
	l->bits = cell_bits(l->cell);
	cell_init(l);
	atomic_fetch_add(&svc->ports, 1);
	*out = l;
	return 0;
}

FLOE_EXPORT void floe_listener_destroy(floe_listener *l)
{
	struct floe_backend *be;
	uint64_t mine;

	if (!l)
		return;
	be = l->svc->node->be;
	/* Still our slot: retire the cell before the slot can be re-taken,
	 * so notifiers stop signalling it. */
	mine = l->ref.id;
	atomic_compare_exchange_strong(&l->cell->listener_id, &mine, 0);
	atomic_store(&l->cell->fd_armed, 0);
	floe_svc_release(l->svc, 's', l->slot, l->ref.id);
	if (l->sock >= 0)
		close(l->sock);
	be->ops->port_unregister(be, &l->ref);
	atomic_fetch_sub(&l->svc->ports, 1);
	free(l);
}

FLOE_EXPORT uint64_t floe_listener_id(const floe_listener *l)
{
	return l ? l->ref.id : 0;
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
	l->addr_len = listener_addr(l->svc->node->be->domain, l->ref.id,
				    &l->addr);
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
