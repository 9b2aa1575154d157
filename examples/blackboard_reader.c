// SPDX-License-Identifier: MIT
/*
 * Blackboard: a reader.
 *
 *   blackboard_reader [COUNT [TIMEOUT_S]]
 *
 * Sleeps until entries of the blackboard "My/Blackboard" change and prints
 * each new position it reads (with the counter beside it); exits once it
 * has read update number COUNT (default 10), or after TIMEOUT_S seconds
 * (default 10 + COUNT / 10). Exit status 0 only if it got there. Any
 * number of readers may run at once; they never slow the writer down.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "blackboard_data.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct seen {
	floe_reader *reader;
	uint64_t last_update;
	int inconsistent;
};

/* Called once per key written since the last wait. */
static void on_change(uint64_t key, void *ctx)
{
	struct seen *s = ctx;
	struct position pos;
	uint64_t counter, generation;

	if (key != KEY_POSITION)
		return;
	if (floe_reader_read(s->reader, KEY_POSITION, &pos, sizeof(pos),
			     &generation) ||
	    floe_reader_read(s->reader, KEY_COUNTER, &counter,
			     sizeof(counter), NULL))
		return;
	/* a whole value: its fields always belong together */
	if (pos.y != 2 * pos.x || pos.z != 3 * pos.x)
		s->inconsistent++;
	printf("read: position (%g, %g, %g) of update %llu, counter %llu\n",
	       pos.x, pos.y, pos.z, (unsigned long long)pos.update,
	       (unsigned long long)counter);
	fflush(stdout);
	s->last_update = pos.update;
}

int main(int argc, char **argv)
{
	int count = argc > 1 ? atoi(argv[1]) : 10;
	double timeout = argc > 2 ? atof(argv[2]) : 10 + count / 10.0;
	floe_node *node;
	floe_blackboard *bb;
	struct seen seen = { 0 };
	double deadline, left;
	int err;

	err = floe_node_create("blackboard_reader", NULL, &node);
	if (err) {
		fprintf(stderr, "node: %s\n", floe_strerror(err));
		return 1;
	}
	err = example_blackboard(node, &bb);
	if (err) {
		fprintf(stderr, "blackboard: %s\n", floe_strerror(err));
		floe_node_destroy(node);
		return 1;
	}
	err = floe_reader_create(bb, &seen.reader);
	if (err) {
		fprintf(stderr, "reader: %s\n", floe_strerror(err));
		floe_blackboard_close(bb);
		floe_node_destroy(node);
		return 1;
	}
	printf("reader ready: waiting for %d updates of %s\n", count,
	       EXAMPLE_BLACKBOARD_NAME);
	fflush(stdout);

	deadline = now_s() + timeout;
	while (seen.last_update < (uint64_t)count &&
	       (left = deadline - now_s()) > 0) {
		/* sleep until the writer changes something, or time is up */
		err = floe_reader_wait(seen.reader, (uint64_t)(left * 1e9),
				       on_change, &seen);
		if (err < 0) {
			fprintf(stderr, "wait: %s\n", floe_strerror(err));
			break;
		}
	}
	printf("last update read: %llu of %d, %d inconsistent\n",
	       (unsigned long long)seen.last_update, count, seen.inconsistent);

	floe_reader_destroy(seen.reader);
	floe_blackboard_close(bb);
	floe_node_destroy(node);
	return seen.last_update >= (uint64_t)count && !seen.inconsistent ? 0
									 : 1;
}
