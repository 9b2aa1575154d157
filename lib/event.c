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
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bounds.h"
#include "base/futex.h"
#include "doorbell.h"
#include "event.h"

#define EVENT_TYPE_NAME "floe.event"

/* A listener slot as this notifier last saw it. */
struct listener_target {
	uint64_t owner; /* listener port id; 0: slot free or being claimed */
	struct floe_doorbell bell;
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
	uint64_t deadline_ns; /* the service's; 0: none */
	uint64_t last_ns;     /* when it last notified (or was created) */
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

uint32_t floe_event_words(const struct floe_shm_qos *q)
{
	return q->event.event_id_max / 64 + 1;
}

/* Bytes of a listener's cell: its header and its bits. */
static uint64_t cell_stride(const struct floe_shm_qos *q)
{
	return floe_align_up(sizeof(struct floe_event_cell) +
				     (uint64_t)floe_event_words(q) * sizeof(uint64_t),
			     FLOE_CACHELINE);
}

static bool lifecycle_id_valid(const struct floe_event_shm_qos *e,
			       uint32_t id)
{
	return id == FLOE_EVENT_ID_NONE || id <= e->event_id_max;
}

static int layout(const struct floe_shm_qos *q, struct floe_svc_layout *l)
{
	const uint32_t counts[FLOE_SLOT_KINDS] = {
		q->max_nodes, q->event.max_notifiers, q->event.max_listeners
	};

	const struct floe_event_shm_qos *e = &q->event;

	if (!floe_slot_counts_valid(counts) ||
	    e->event_id_max > FLOE_LIMIT_EVENT_ID ||
	    !lifecycle_id_valid(e, e->notifier_created) ||
	    !lifecycle_id_valid(e, e->notifier_dropped) ||
	    !lifecycle_id_valid(e, e->notifier_dead))
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

/* In shared memory a lifecycle event off is FLOE_EVENT_ID_NONE. */
static void lifecycle_from_shm(uint32_t id, uint32_t flag,
			       struct floe_event_qos *q, uint32_t *field)
{
	if (id == FLOE_EVENT_ID_NONE)
		return;
	q->lifecycle |= flag;
	*field = id;
}

static uint32_t lifecycle_to_shm(const struct floe_event_qos *q,
				 uint32_t flag, uint32_t id)
{
	return q->lifecycle & flag ? id : FLOE_EVENT_ID_NONE;
}

static void qos_from_shm(const struct floe_shm_qos *s,
			 struct floe_event_qos *q)
{
	*q = (struct floe_event_qos){
		.max_notifiers = s->event.max_notifiers,
		.max_listeners = s->event.max_listeners,
		.max_nodes = s->max_nodes,
		.event_id_max = s->event.event_id_max,
		.deadline_ns = s->event.deadline_ns,
	};

	lifecycle_from_shm(s->event.notifier_created,
			   FLOE_EVENT_NOTIFIER_CREATED, q,
			   &q->notifier_created_event);
	lifecycle_from_shm(s->event.notifier_dropped,
			   FLOE_EVENT_NOTIFIER_DROPPED, q,
			   &q->notifier_dropped_event);
	lifecycle_from_shm(s->event.notifier_dead, FLOE_EVENT_NOTIFIER_DEAD, q,
			   &q->notifier_dead_event);
}

static void describe(const struct floe_shm_qos *q,
		     struct floe_service_info *info)
{
	qos_from_shm(q, &info->event_qos);
}

static void signal_all(floe_service *svc, uint32_t event_id);

/* A notifier found dead: its lifecycle event, if the service has one. */
static void port_gone(floe_service *svc, enum floe_slot_kind kind,
		      uint32_t slot)
{
	(void)slot;
	if (kind == FLOE_SLOT_SOURCE &&
	    svc->qos.event.notifier_dead != FLOE_EVENT_ID_NONE)
		signal_all(svc, svc->qos.event.notifier_dead);
}

const struct floe_pattern floe_event_pattern = {
	.kind = FLOE_PATTERN_KIND_EVENT,
	.seg_kind = FLOE_KIND_EVENT,
	.roles = { FLOE_ROLE_NODE, FLOE_ROLE_NOTIFIER, FLOE_ROLE_LISTENER },
	.types = 1,
	.layout = layout,
	.satisfies = satisfies,
	.directions = NULL, /* events move no data */
	.describe = describe,
	.port_gone = port_gone,
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
			.notifier_created = lifecycle_to_shm(
				q, FLOE_EVENT_NOTIFIER_CREATED,
				q->notifier_created_event),
			.notifier_dropped = lifecycle_to_shm(
				q, FLOE_EVENT_NOTIFIER_DROPPED,
				q->notifier_dropped_event),
			.notifier_dead = lifecycle_to_shm(
				q, FLOE_EVENT_NOTIFIER_DEAD,
				q->notifier_dead_event),
			.deadline_ns = q->deadline_ns,
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

struct floe_event_cell *floe_event_cell(floe_service *svc, uint32_t j)
{
	return (struct floe_event_cell *)((char *)svc->seg.addr +
					  svc->lay.body_off +
					  (uint64_t)j * cell_stride(&svc->qos));
}

/*
 * Set @event_id in listener slot @j's cell if its owner is @owner, and
 * wake it (FUTEX_WAKE if it sleeps; its doorbell @bell through *@sock,
 * made on first use, if it armed a descriptor). 1 if signalled.
 */
static int signal_cell(floe_service *svc, uint32_t j, uint64_t owner,
		       uint32_t event_id, int *sock,
		       const struct floe_doorbell *bell)
{
	struct floe_event_cell *cell = floe_event_cell(svc, j);

	/* Not (yet, or any more) the cell of the slot's owner: a listener
	 * still setting up, or a stale or forged id. */
	if (!owner || atomic_load_explicit(&cell->listener_id,
					   memory_order_acquire) != owner)
		return 0;
	atomic_fetch_or(&floe_event_bits(cell)[event_id / 64],
			1ULL << (event_id % 64));
	atomic_fetch_add(&cell->futex_seq, 1);
	if (atomic_load(&cell->waiters))
		floe_futex_wake_all(&cell->futex_seq);
	if (atomic_load(&cell->fd_armed))
		floe_doorbell_ring_peer(sock, bell);
	return 1;
}

/* @event_id to every listener, from no notifier (lifecycle events). */
static void signal_all(floe_service *svc, uint32_t event_id)
{
	struct floe_backend *be = svc->node->be;
	int sock = -1;

	for (uint32_t j = 0; j < svc->qos.event.max_listeners; j++) {
		struct floe_port_ref ref;
		uint64_t owner = floe_svc_slot_owner(svc, FLOE_SLOT_SINK, j,
						     &ref);
		struct floe_doorbell bell;

		floe_doorbell_name(&bell, be->domain, FLOE_DOORBELL_LISTENER,
				   owner);
		signal_cell(svc, j, owner, event_id, &sock, &bell);
	}
	if (sock >= 0)
		close(sock);
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
	n->seen_deaths = floe_backend_deaths(be->deaths);
	n->nactive = 0;
	for (uint32_t j = 0; j < svc->qos.event.max_listeners; j++) {
		struct listener_target *t = &n->targets[j];
		struct floe_port_ref ref;
		uint64_t owner = floe_svc_slot_owner(svc, FLOE_SLOT_SINK, j,
						     &ref);

		if (owner != t->owner) {
			t->owner = owner;
			if (owner)
				floe_doorbell_name(&t->bell, be->domain,
						   FLOE_DOORBELL_LISTENER,
						   owner);
		}
		if (owner)
			n->active[n->nactive++] = j;
	}
}

static void rescan_if_changed(floe_notifier *n)
{
	floe_service *svc = n->port.svc;
	struct floe_backend *be = svc->node->be;
	uint64_t deaths = floe_backend_deaths(be->deaths);

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
	n->words = floe_event_words(&svc->qos);
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
	n->deadline_ns = svc->qos.event.deadline_ns;
	n->last_ns = floe_now_ns();
	if (svc->qos.event.notifier_created != FLOE_EVENT_ID_NONE)
		signal_all(svc, svc->qos.event.notifier_created);
	*out = n;
	return 0;
}

FLOE_EXPORT void floe_notifier_destroy(floe_notifier *n)
{
	floe_service *svc;

	if (!n)
		return;
	svc = n->port.svc;
	floe_port_leave(&n->port);
	if (svc->qos.event.notifier_dropped != FLOE_EVENT_ID_NONE)
		signal_all(svc, svc->qos.event.notifier_dropped);
	notifier_free(n);
}

FLOE_EXPORT uint64_t floe_notifier_id(const floe_notifier *n)
{
	return n ? n->port.ref.id : 0;
}

FLOE_EXPORT int floe_notifier_notify(floe_notifier *n, uint64_t event_id)
{
	int signalled = 0;

	if (!n)
		return FLOE_E_INVALID;
	if (event_id > n->port.svc->qos.event.event_id_max)
		return FLOE_E_INVALID;
	rescan_if_changed(n);
	for (uint32_t k = 0; k < n->nactive; k++) {
		uint32_t j = n->active[k];

		signalled += signal_cell(n->port.svc, j, n->targets[j].owner,
					 event_id, &n->sock,
					 &n->targets[j].bell);
	}
	if (n->deadline_ns) {
		uint64_t now = floe_now_ns(), last = n->last_ns;

		n->last_ns = now;
		if (now - last > n->deadline_ns)
			return FLOE_E_MISSED_DEADLINE;
	}
	/* an event is a message without payload, for floe top */
	floe_stat_add(&floe_svc_stats(n->port.svc, FLOE_SLOT_SOURCE,
				      n->port.slot)->sent, 1);
	return signalled;
}
