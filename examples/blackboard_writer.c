// SPDX-License-Identifier: MIT
/*
 * Blackboard: the writer.
 *
 *   blackboard_writer [COUNT]
 *
 * Updates the blackboard "My/Blackboard" COUNT times (default 10), 100 ms
 * apart: the counter by copy (floe_writer_write), the position in place
 * (floe_writer_loan, fill, floe_writer_publish). Readers always see whole
 * values, never half of one, whenever they look. Each update wakes the
 * readers that wait for changes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "blackboard_data.h"

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	int count = argc > 1 ? atoi(argv[1]) : 10;
	floe_node *node;
	floe_blackboard *bb;
	floe_writer *writer;
	int err;

	err = floe_node_create("blackboard_writer", NULL, &node);
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
	/* One writer per blackboard: a second one gets FLOE_E_PORT_LIMIT. */
	err = floe_writer_create(bb, &writer);
	if (err) {
		fprintf(stderr, "writer: %s\n", floe_strerror(err));
		floe_blackboard_close(bb);
		floe_node_destroy(node);
		return 1;
	}
	for (uint64_t n = 1; n <= (uint64_t)count && !err; n++) {
		struct position *pos;
		void *slot;

		err = floe_writer_write(writer, KEY_COUNTER, &n, sizeof(n));
		if (!err)
			err = floe_writer_loan(writer, KEY_POSITION, &slot);
		if (!err) {
			pos = slot;
			*pos = (struct position){ n, 2.0 * n, 3.0 * n, n };
			err = floe_writer_publish(writer, KEY_POSITION);
		}
		if (err)
			fprintf(stderr, "update %llu: %s\n",
				(unsigned long long)n, floe_strerror(err));
		else
			printf("wrote: counter %llu, position (%g, %g, %g)\n",
			       (unsigned long long)n, pos->x, pos->y, pos->z);
		fflush(stdout);
		sleep_ms(100);
	}
	floe_writer_destroy(writer);
	floe_blackboard_close(bb);
	floe_node_destroy(node);
	return err ? 1 : 0;
}
