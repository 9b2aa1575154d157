// SPDX-License-Identifier: MIT
/*
 * Blackboard ports: the one writer (its slot and a notifier of the
 * blackboard's event service) and the readers (a slot and a listener
 * each). The lock-free value protocol is described in lib/blackboard.c.
 */
#include <stdlib.h>
#include <string.h>

#include "bb.h"

/* A read gives up (FLOE_E_BUSY) after this many overwritten copies; with
 * floe_backoff's growing pauses, that is about a second. */
#define READ_ATTEMPTS 4096

/* What the writer and a reader are both: a slot of the blackboard, state
 * per entry, and a port of its change-event service (the writer's
 * notifier, a reader's listener). */
struct bb_port {
	floe_blackboard *bb;
	struct floe_port port;
	void *state;
	void *events;
};

/* The writer: per entry, whether its unpublished slot is loaned out. */
struct floe_writer {
	struct bb_port p;
};

/* A reader: per entry, the generation last read. */
struct floe_reader {
	struct bb_port p;
};

static uint8_t *loaned(floe_writer *w)
{
	return w->p.state;
}

static uint64_t *seen(floe_reader *r)
{
	return r->p.state;
}

/* A new port of @kind (the writer's one slot: a dead writer's is reclaimed
 * by the join) with @bytes of zeroed state per entry, and its event port. */
static int bb_port_new(floe_blackboard *bb, enum floe_slot_kind kind,
		       size_t bytes, struct bb_port **out)
{
	struct bb_port *p;
	int ret;

	if (!bb || !out)
		return FLOE_E_INVALID;
	p = calloc(1, sizeof(*p));
	if (!p)
		return FLOE_E_NOMEM;
	p->bb = bb;
	p->state = calloc(bb->n, bytes);
	ret = p->state ? floe_port_join(bb->svc, kind, 0, &p->port)
		       : FLOE_E_NOMEM;
	if (!ret) {
		ret = kind == FLOE_SLOT_SOURCE
			      ? floe_notifier_create(bb->events,
						     (floe_notifier **)&p->events)
			      : floe_listener_create(bb->events,
						     (floe_listener **)&p->events);
		if (ret)
			floe_port_leave(&p->port);
	}
	if (ret) {
		free(p->state);
		free(p);
		return ret;
	}
	*out = p;
	return 0;
}

static void bb_port_free(struct bb_port *p)
{
	if (!p)
		return;
	if (p->port.kind == FLOE_SLOT_SOURCE)
		floe_notifier_destroy(p->events);
	else
		floe_listener_destroy(p->events);
	floe_port_leave(&p->port);
	free(p->state);
	free(p);
}

/* ------------------------------------------------------------------ */
/* Writer                                                             */
/* ------------------------------------------------------------------ */

_Static_assert(__builtin_offsetof(struct floe_writer, p) == 0 &&
		       __builtin_offsetof(struct floe_reader, p) == 0,
	       "a writer and a reader are their bb_port");

FLOE_EXPORT int floe_writer_create(floe_blackboard *bb, floe_writer **out)
{
	return bb_port_new(bb, FLOE_SLOT_SOURCE, sizeof(uint8_t),
			   (struct bb_port **)out);
}

FLOE_EXPORT void floe_writer_destroy(floe_writer *w)
{
	bb_port_free(w ? &w->p : NULL);
}

/* The unpublished slot of entry @i, announced to readers. */
static void *begin_write(floe_writer *w, uint32_t i)
{
	struct floe_bb_cell *cell = floe_bb_cell(w->p.bb, i);
	uint64_t s = atomic_load_explicit(&cell->state, memory_order_relaxed);

	if (!loaned(w)[i]) {
		atomic_store_explicit(&cell->state, s | STATE_WRITING,
				      memory_order_relaxed);
		/* the announcement before any byte of the value */
		atomic_thread_fence(memory_order_release);
		loaned(w)[i] = 1;
	}
	return floe_bb_value(w->p.bb, i, STATE_SLOT(s) ^ 1);
}

static void publish(floe_writer *w, uint32_t i)
{
	struct floe_bb_cell *cell = floe_bb_cell(w->p.bb, i);
	uint64_t s = atomic_load_explicit(&cell->state, memory_order_relaxed);

	atomic_store_explicit(&cell->state,
			      (STATE_GEN(s) + 1) << 2 | (STATE_SLOT(s) ^ 1),
			      memory_order_release);
	loaned(w)[i] = 0;
	floe_notifier_notify(w->p.events, i);
}

FLOE_EXPORT int floe_writer_write(floe_writer *w, uint64_t key,
				  const void *value, size_t size)
{
	int64_t i;

	if (!w || !value)
		return FLOE_E_INVALID;
	i = floe_bb_find(w->p.bb, key);
	if (i < 0)
		return FLOE_E_NO_KEY;
	if (size != w->p.bb->entries[i].size)
		return FLOE_E_TYPE_MISMATCH;
	memcpy(begin_write(w, (uint32_t)i), value, size);
	publish(w, (uint32_t)i);
	return 0;
}

FLOE_EXPORT int floe_writer_loan(floe_writer *w, uint64_t key, void **value)
{
	int64_t i;

	if (!w || !value)
		return FLOE_E_INVALID;
	i = floe_bb_find(w->p.bb, key);
	if (i < 0)
		return FLOE_E_NO_KEY;
	*value = begin_write(w, (uint32_t)i);
	return 0;
}

FLOE_EXPORT int floe_writer_publish(floe_writer *w, uint64_t key)
{
	int64_t i;

	if (!w)
		return FLOE_E_INVALID;
	i = floe_bb_find(w->p.bb, key);
	if (i < 0)
		return FLOE_E_NO_KEY;
	if (!loaned(w)[i])
		return FLOE_E_INVALID;
	publish(w, (uint32_t)i);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Reader                                                             */
/* ------------------------------------------------------------------ */

FLOE_EXPORT int floe_reader_create(floe_blackboard *bb, floe_reader **out)
{
	return bb_port_new(bb, FLOE_SLOT_SINK, sizeof(uint64_t),
			   (struct bb_port **)out);
}

FLOE_EXPORT void floe_reader_destroy(floe_reader *r)
{
	bb_port_free(r ? &r->p : NULL);
}

/* Was the copy taken under state @s1 intact, given the state @s2 seen
 * after it? Intact unless the writer began overwriting s1's slot: that
 * takes a publish of another generation and then a new announcement. */
static bool copy_intact(uint64_t s1, uint64_t s2)
{
	if (STATE_GEN(s2) == STATE_GEN(s1))
		return STATE_SLOT(s2) == STATE_SLOT(s1);
	return STATE_GEN(s2) == STATE_GEN(s1) + 1 &&
	       STATE_SLOT(s2) != STATE_SLOT(s1) && !(s2 & STATE_WRITING);
}

FLOE_EXPORT int floe_reader_read(floe_reader *r, uint64_t key, void *buf,
				 size_t size, uint64_t *generation)
{
	struct floe_bb_cell *cell;
	int64_t i;

	if (!r || !buf)
		return FLOE_E_INVALID;
	i = floe_bb_find(r->p.bb, key);
	if (i < 0)
		return FLOE_E_NO_KEY;
	if (size != r->p.bb->entries[i].size)
		return FLOE_E_TYPE_MISMATCH;
	cell = floe_bb_cell(r->p.bb, (uint32_t)i);
	for (uint32_t round = 0; round < READ_ATTEMPTS; round++) {
		uint64_t s1, s2;

		s1 = atomic_load_explicit(&cell->state, memory_order_acquire);
		memcpy(buf, floe_bb_value(r->p.bb, (uint32_t)i, STATE_SLOT(s1)), size);
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&cell->state, memory_order_relaxed);
		if (copy_intact(s1, s2)) {
			seen(r)[i] = STATE_GEN(s1);
			if (generation)
				*generation = STATE_GEN(s1);
			return 0;
		}
		floe_backoff(round);
	}
	return FLOE_E_BUSY;
}

FLOE_EXPORT int floe_reader_generation(floe_reader *r, uint64_t key,
				       uint64_t *generation)
{
	int64_t i;

	if (!r || !generation)
		return FLOE_E_INVALID;
	i = floe_bb_find(r->p.bb, key);
	if (i < 0)
		return FLOE_E_NO_KEY;
	*generation = STATE_GEN(atomic_load_explicit(
		&floe_bb_cell(r->p.bb, (uint32_t)i)->state, memory_order_acquire));
	return 0;
}

FLOE_EXPORT int floe_reader_changed(floe_reader *r, uint64_t key)
{
	uint64_t gen;
	int ret = floe_reader_generation(r, key, &gen);

	if (ret)
		return ret;
	return gen != seen(r)[floe_bb_find(r->p.bb, key)];
}

struct wait_ctx {
	const floe_blackboard *bb;
	floe_blackboard_cb cb;
	void *ctx;
	int count;
};

/* Event id → key; ids beyond the entries (a foreign notifier) are
 * dropped. */
static void on_event(uint64_t id, void *ctx)
{
	struct wait_ctx *w = ctx;

	if (id >= w->bb->n)
		return;
	w->count++;
	if (w->cb)
		w->cb(w->bb->entries[id].key, w->ctx);
}

FLOE_EXPORT int floe_reader_wait(floe_reader *r, uint64_t timeout_ns,
				 floe_blackboard_cb cb, void *ctx)
{
	struct wait_ctx w = { .cb = cb, .ctx = ctx };
	int ret;

	if (!r)
		return FLOE_E_INVALID;
	w.bb = r->p.bb;
	/* (a timeout of centuries, such as UINT64_MAX, is forever) */
	ret = floe_listener_timed_wait(r->p.events, timeout_ns, on_event, &w);
	return ret < 0 ? ret : w.count;
}

FLOE_EXPORT floe_listener *floe_reader_listener(floe_reader *r)
{
	return r ? r->p.events : NULL;
}
