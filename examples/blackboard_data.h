/* SPDX-License-Identifier: MIT */
/*
 * The blackboard shared by the blackboard_writer and blackboard_reader
 * examples: two entries, a counter and a position. Both sides describe
 * them with the same keys, type names, sizes and alignments; whichever
 * starts first creates the blackboard, the other opens it (and could not,
 * were the descriptions to differ).
 */
#ifndef FLOE_EXAMPLE_BLACKBOARD_DATA_H
#define FLOE_EXAMPLE_BLACKBOARD_DATA_H

#include <stdint.h>
#include <time.h>

#include "floe.h"

#define EXAMPLE_BLACKBOARD_NAME "My/Blackboard"

enum { KEY_COUNTER = 1, KEY_POSITION = 2 };

struct position {
	double x, y, z; /* always (n, 2n, 3n) for update number n */
	uint64_t update;
};

static const uint64_t counter_initial = 0;
static const struct position position_initial = { 0, 0, 0, 0 };

static const struct floe_blackboard_entry example_entries[] = {
	{ .key = KEY_COUNTER, .type_name = "u64", .size = sizeof(uint64_t),
	  .align = _Alignof(uint64_t), .initial = &counter_initial },
	{ .key = KEY_POSITION, .type_name = "Position",
	  .size = sizeof(struct position), .align = _Alignof(struct position),
	  .initial = &position_initial },
};

/* Open the blackboard, or create it if it does not exist yet (the other
 * example may be doing the same at this moment: retry briefly). */
static inline int example_blackboard(floe_node *node, floe_blackboard **bb)
{
	struct floe_blackboard_opts opts = {
		.entries = example_entries,
		.num_entries = 2,
	};
	struct timespec pause = { 0, 10000000 };
	int err = FLOE_E_BUSY;

	for (int attempt = 0; attempt < 200; attempt++) {
		err = floe_blackboard_open(node, EXAMPLE_BLACKBOARD_NAME, &opts,
					   bb);
		if (err == FLOE_E_NOT_FOUND)
			err = floe_blackboard_create(node,
						     EXAMPLE_BLACKBOARD_NAME,
						     &opts, bb);
		if (err != FLOE_E_EXISTS && err != FLOE_E_NOT_FOUND &&
		    err != FLOE_E_BUSY)
			return err;
		nanosleep(&pause, NULL);
	}
	return err;
}

#endif
