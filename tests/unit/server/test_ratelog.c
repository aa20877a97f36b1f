/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ratelog.c - server/ratelog.c with a fake clock: one line per source
 * per minute, the rest counted and reported with the next line ("and N more
 * refused"), a new minute logs each source again, and a flood of sources
 * logs at most TP_RATELOG_SLOTS lines a minute (bounded table).
 */
#include <stdlib.h>

#include "ratelog.h"
#include "tp_test.h"

int main(void)
{
	struct tp_ratelog *r = calloc(1, sizeof(*r));
	uint64_t more = 99;
	unsigned logged = 0;

	CHECK(r != NULL);
	if (!r)
		TP_TEST_END();
	/* source 7: the first refusal at t=120 s logs, nothing before it */
	CHECK(tp_ratelog_hit(r, 7, 120, &more));
	CHECK_EQ(more, 0);
	/* 100 more from it within the minute: none logged */
	for (int i = 0; i < 100; i++)
		logged += tp_ratelog_hit(r, 7, 120 + (uint64_t)i % 60, &more);
	CHECK_EQ(logged, 0);
	/* another source in the same minute logs, and reports the 100 */
	CHECK(tp_ratelog_hit(r, 8, 150, &more));
	CHECK_EQ(more, 100);
	CHECK(!tp_ratelog_hit(r, 8, 179, &more));
	/* the next minute: source 7 logs again, with source 8's one suppressed */
	CHECK(tp_ratelog_hit(r, 7, 180, &more));
	CHECK_EQ(more, 1);
	CHECK(!tp_ratelog_hit(r, 7, 239, &more));
	CHECK(tp_ratelog_hit(r, 8, 240, &more));
	CHECK_EQ(more, 1);
	/* keys that share slots (k, k + SLOTS, ...) still get their own line */
	CHECK(tp_ratelog_hit(r, 1000, 240, &more));
	CHECK(tp_ratelog_hit(r, 1000 + TP_RATELOG_SLOTS, 240, &more));
	CHECK(!tp_ratelog_hit(r, 1000 + TP_RATELOG_SLOTS, 241, &more));
	/* a flood of 100,000 sources in one minute: at most SLOTS lines, each
	 * later source counted; the next minute logs again */
	logged = 0;
	uint64_t since = 1, reported = 0; /* the one suppressed just above */
	for (uint64_t k = 0; k < 100000; k++) {
		if (tp_ratelog_hit(r, k * 2654435761u, 600, &more)) {
			logged++;
			CHECK_EQ(more, since);
			reported += more;
			since = 0;
		} else {
			since++;
		}
	}
	CHECK(logged >= TP_RATELOG_SLOTS / 2 && logged <= TP_RATELOG_SLOTS);
	CHECK(tp_ratelog_hit(r, 3, 660, &more));
	CHECK_EQ(more, since);
	/* every refusal is either a line or counted in one */
	CHECK_EQ(logged + reported + more, 100000 + 1);
	free(r);
	TP_TEST_END();
}
