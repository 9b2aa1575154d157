// SPDX-License-Identifier: MIT
/*
 * The lock-free ring: FIFO order, full/empty limits, safe-overflow
 * eviction racing a consumer in another process (every entry is consumed
 * or evicted exactly once, and only what was oldest when the ring was
 * full is evicted), a sole consumer taking batches with one store
 * while a producer process fills the ring (every entry once, in order),
 * and corrupt indices reported, not trusted.
 */
#include <sys/mman.h>

#include "base/ring.h"
#include "helpers.h"

#define CAP 8u
#define STORM 200000u

/* Take the oldest entry, as a receiver does: peek, then take unless an
 * evicting producer took it first. */
static enum floe_ring_result pop(struct floe_ring *r, uint32_t cap,
				 uint64_t *v)
{
	enum floe_ring_result res;
	uint64_t h;

	while ((res = floe_ring_peek(r, cap, cap, v, &h)) == FLOE_RING_OK &&
	       !floe_ring_take(r, h))
		;
	return res;
}

static struct floe_ring *ring_map(uint32_t cap)
{
	void *p = mmap(NULL, floe_ring_bytes(cap), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

int main(void)
{
	struct floe_ring *r = ring_map(CAP);
	struct floe_ring_producer prod = { 0 }, sprod = { 0 };
	uint64_t v = 0, got[CAP];
	int ok = 1;

	th_setup("ring");
	tap_plan(27);
	tap_require(r != NULL, "ring mapped");

	for (uint64_t i = 0; i < 5; i++)
		ok &= floe_ring_push(r, CAP, 5, &prod, 100 + i) == FLOE_RING_OK;
	tap_ok(ok, "five pushes fit a limit of five");
	tap_eq(floe_ring_push(r, CAP, 5, &prod, 7), FLOE_RING_FULL,
	       "sixth push is refused at the limit");
	ok = 1;
	for (uint64_t i = 0; i < 5; i++)
		ok &= pop(r, CAP, &got[i]) == FLOE_RING_OK &&
		      got[i] == 100 + i;
	tap_ok(ok, "entries come out in order");
	tap_eq(pop(r, CAP, &v), FLOE_RING_EMPTY, "then empty");

	/* wrap around many times */
	ok = 1;
	for (uint64_t i = 0; i < 1000; i++) {
		ok &= floe_ring_push(r, CAP, CAP, &prod, i) == FLOE_RING_OK;
		ok &= pop(r, CAP, &v) == FLOE_RING_OK && v == i;
	}
	tap_ok(ok, "1000 wrap-arounds keep order");

	/* a hostile peer moves tail far ahead: reported, never trusted */
	atomic_store(&r->tail, atomic_load(&r->head) + 1000000);
	tap_eq(pop(r, CAP, &v), FLOE_RING_CORRUPT,
	       "consumer reports tail beyond capacity as corrupt");
	atomic_store(&r->head, prod.tail + 5000);
	{
		/* the producer re-reads head no later than when it would
		 * otherwise consider the ring full */
		enum floe_ring_result res = FLOE_RING_OK;

		for (uint32_t i = 0; i <= CAP && res == FLOE_RING_OK; i++)
			res = floe_ring_push(r, CAP, CAP, &prod, 1);
		tap_eq(res, FLOE_RING_CORRUPT,
		       "producer reports head beyond tail as corrupt");
	}

	/* Safe overflow storm: producer (this process) evicts when full while
	 * a consumer process pops. Each value must be seen exactly once, and
	 * an eviction takes only what was oldest when the ring was full:
	 * pushing i into a ring of CAP, never anything newer than i - CAP
	 * (which the consumer is owed once it took the oldest). */
	{
		struct floe_ring *s = ring_map(CAP);
		uint8_t *seen = mmap(NULL, STORM, PROT_READ | PROT_WRITE,
				     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		uint64_t dup = 0, lost = 0, early = 0, evicted = 0;
		pid_t child;

		tap_require(s && seen != MAP_FAILED, "storm ring mapped");
		child = fork();
		if (child == 0) {
			uint64_t x;

			for (;;) {
				if (pop(s, CAP, &x) != FLOE_RING_OK)
					continue;
				if (x == UINT64_MAX)
					_exit(0);
				seen[x]++;
			}
		}
		for (uint64_t i = 0; i <= STORM; i++) {
			uint64_t value = i < STORM ? i : UINT64_MAX;

			while (floe_ring_push(s, CAP, CAP, &sprod, value) ==
			       FLOE_RING_FULL) {
				if (!floe_ring_evict(s, CAP, &sprod, &v))
					continue;
				evicted++;
				early += v + CAP > i;
				seen[v]++;
			}
		}
		th_wait(child, 30000);
		for (uint64_t i = 0; i < STORM; i++) {
			dup += seen[i] > 1;
			lost += seen[i] == 0;
		}
		tap_diag("storm: %u values, %" PRIu64 " evicted, %" PRIu64
			 " duplicated, %" PRIu64 " lost", STORM, evicted, dup,
			 lost);
		tap_ok(dup == 0 && lost == 0,
		       "eviction racing a consumer: every entry taken exactly once");
		tap_ok(early == 0, "an eviction takes only the entry that was "
				   "oldest when the ring was full (%" PRIu64
				   " newer ones taken)", early);
	}
	/* The interleaving the storm looks for, step by step: the ring is
	 * found full, then the consumer takes the oldest; the eviction that
	 * follows must leave the next one, which the consumer is owed. */
	{
		struct floe_ring *e = ring_map(CAP);
		struct floe_ring_producer p = { 0 };
		uint64_t x;
		int good = 1;

		tap_require(e != NULL, "eviction ring mapped");
		for (uint64_t i = 0; i < 2; i++)
			good &= floe_ring_push(e, CAP, 2, &p, 10 + i) ==
				FLOE_RING_OK;
		good &= floe_ring_push(e, CAP, 2, &p, 12) == FLOE_RING_FULL;
		good &= pop(e, CAP, &x) == FLOE_RING_OK && x == 10;
		tap_ok(good && !floe_ring_evict(e, CAP, &p, &x),
		       "full, then the consumer takes the oldest: the eviction "
		       "takes nothing");
		good = floe_ring_push(e, CAP, 2, &p, 12) == FLOE_RING_OK;
		good &= pop(e, CAP, &x) == FLOE_RING_OK && x == 11;
		good &= pop(e, CAP, &x) == FLOE_RING_OK && x == 12;
		tap_ok(good, "and the push goes in behind the entry the consumer "
			     "is owed");
		good = floe_ring_push(e, CAP, 2, &p, 13) == FLOE_RING_OK &&
		       floe_ring_push(e, CAP, 2, &p, 14) == FLOE_RING_OK &&
		       floe_ring_push(e, CAP, 2, &p, 15) == FLOE_RING_FULL &&
		       floe_ring_evict(e, CAP, &p, &x) && x == 13 &&
		       floe_ring_push(e, CAP, 2, &p, 15) == FLOE_RING_OK;
		good &= pop(e, CAP, &x) == FLOE_RING_OK && x == 14;
		good &= pop(e, CAP, &x) == FLOE_RING_OK && x == 15;
		tap_ok(good, "with nobody racing it, the eviction takes the oldest "
			     "and makes room");
	}
	/* head_seen: the producer's copy of head, which may lag */
	{
		struct floe_ring *c = ring_map(CAP);
		struct floe_ring_producer p = { 0 };
		uint64_t x;
		int good = 1;

		tap_require(c != NULL, "copy ring mapped");
		for (uint64_t i = 0; i < CAP; i++)
			good &= floe_ring_push(c, CAP, CAP, &p, i) == FLOE_RING_OK;
		for (uint64_t i = 0; i < CAP; i++)
			good &= pop(c, CAP, &x) == FLOE_RING_OK && x == i;
		tap_ok(good && atomic_load(&c->head_seen) == CAP,
		       "each take moves the producer's copy of head along");
		/* a copy that lags (its store not seen yet) costs a look at
		 * head, never a refusal or an entry overwritten */
		atomic_store(&c->head_seen, 0);
		for (uint64_t i = 0; i < CAP; i++)
			good &= floe_ring_push(c, CAP, CAP, &p, 100 + i) ==
				FLOE_RING_OK;
		good &= floe_ring_push(c, CAP, CAP, &p, 7) == FLOE_RING_FULL;
		for (uint64_t i = 0; i < CAP; i++)
			good &= pop(c, CAP, &x) == FLOE_RING_OK && x == 100 + i;
		tap_ok(good, "a lagging copy: the producer asks head itself, "
			     "fills the ring exactly, order kept");
	}

	/* A consumer that remembers the tail it saw (floe_ring_peek_known)
	 * against a producer process: every entry once, in order; and a
	 * ring emptied under it (a new producer taking over) does not make
	 * it read what was dropped. */
	{
		struct floe_ring *k = ring_map(CAP);
		struct floe_ring_consumer cons = { 0 };
		struct floe_ring_producer p = { 0 };
		uint64_t expect = 0, x, h, tail_reads = 0, last_seen = 0;
		uint64_t wrong = 0;
		pid_t child;

		tap_require(k != NULL, "known ring mapped");
		child = fork();
		if (child == 0) {
			struct floe_ring_producer cp = { 0 };

			for (uint64_t i = 0; i < STORM; i++)
				while (floe_ring_push(k, CAP, CAP, &cp, i) ==
				       FLOE_RING_FULL)
					;
			_exit(0);
		}
		while (expect < STORM) {
			if (floe_ring_peek_known(k, CAP, CAP, &cons, &x, &h) !=
			    FLOE_RING_OK)
				continue;
			if (!floe_ring_take_known(k, &cons, h))
				continue;
			wrong += x != expect++;
			tail_reads += cons.tail_seen != last_seen;
			last_seen = cons.tail_seen;
		}
		th_wait(child, 30000);
		tap_diag("known: %u values, the tail read %" PRIu64 " times",
			 STORM, tail_reads);
		tap_ok(!wrong, "a consumer that remembers the tail: every entry "
			       "once, in order");
		/* queue three, take one, then a new producer empties it and
		 * queues one of its own */
		floe_ring_producer_resume(k, &p);
		for (uint64_t i = 0; i < 3; i++)
			floe_ring_push(k, CAP, CAP, &p, 500 + i);
		floe_ring_peek_known(k, CAP, CAP, &cons, &x, &h);
		floe_ring_take_known(k, &cons, h);
		floe_ring_reset(k);
		floe_ring_producer_resume(k, &p);
		floe_ring_push(k, CAP, CAP, &p, 900);
		tap_ok(floe_ring_peek_known(k, CAP, CAP, &cons, &x, &h) ==
			       FLOE_RING_OK && x == 900,
		       "emptied under it, it sees the new producer's entry, "
		       "not what was dropped");
		tap_ok(floe_ring_take_known(k, &cons, h) &&
			       floe_ring_peek_known(k, CAP, CAP, &cons, &x, &h) ==
				       FLOE_RING_EMPTY,
		       "then nothing");
	}

	/* floe_ring_append: a producer that cannot overfill */
	{
		struct floe_ring *a = ring_map(CAP);
		uint64_t head, tail;
		int good = 1;

		for (uint64_t round = 0; round < 100; round++) {
			uint64_t n = 1 + round % CAP;

			for (uint64_t i = 0; i < n; i++)
				floe_ring_append(a, CAP, round * 100 + i);
			good &= floe_ring_queued(a, CAP, &head, &tail) ==
					FLOE_RING_OK &&
				tail - head == n;
			for (uint64_t i = head; good && i != tail; i++)
				good &= floe_ring_entry(a, CAP, i) ==
					round * 100 + (i - head);
			floe_ring_consumed(a, tail);
		}
		tap_ok(good, "appended batches of 1..capacity come out whole, "
			     "in order");
	}

	/* A sole consumer (a sender reading its completion queue) takes
	 * whole batches with plain loads and one store of head, while a
	 * producer process pushes as fast as the limit lets it. */
	{
		struct floe_ring *s = ring_map(CAP);
		uint64_t expect = 0, head, tail, bad = 0, batches = 0;
		pid_t child;

		tap_require(s != NULL, "batch ring mapped");
		child = fork();
		if (child == 0) {
			struct floe_ring_producer p = { 0 };

			for (uint64_t i = 0; i < STORM; i++)
				while (floe_ring_push(s, CAP, CAP, &p, i) ==
				       FLOE_RING_FULL)
					;
			_exit(0);
		}
		while (expect < STORM) {
			enum floe_ring_result res =
				floe_ring_queued(s, CAP, &head, &tail);

			if (res == FLOE_RING_CORRUPT) {
				bad++;
				break;
			}
			if (res == FLOE_RING_EMPTY)
				continue;
			for (uint64_t i = head; i != tail; i++)
				bad += floe_ring_entry(s, CAP, i) != expect++;
			floe_ring_consumed(s, tail);
			batches++;
		}
		th_wait(child, 30000);
		tap_diag("batches: %" PRIu64 " values in %" PRIu64 " batches",
			 expect, batches);
		tap_ok(bad == 0 && expect == STORM,
		       "a sole consumer's batches: every entry once, in order");
		tap_eq(floe_ring_queued(s, CAP, &head, &tail), FLOE_RING_EMPTY,
		       "then nothing is queued");
		atomic_store(&s->tail, atomic_load(&s->head) + CAP + 1);
		tap_eq(floe_ring_queued(s, CAP, &head, &tail), FLOE_RING_CORRUPT,
		       "a tail beyond capacity is corrupt for the sole consumer too");
	}
	return tap_done();
}
