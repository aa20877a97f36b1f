/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ratelog.h - "log the first refusal per source and minute": a bounded table
 * of source key -> the minute it was last logged, so a flood of refusals
 * costs at most TP_RATELOG_SLOTS log lines a minute and no memory per source.
 * Pure: the caller gives the key (a keyed hash of the source) and the time.
 */
#ifndef TP_RATELOG_H
#define TP_RATELOG_H

#include <stdbool.h>
#include <stdint.h>

#define TP_RATELOG_SLOTS 256   /* sources logged per minute, at most */
#define TP_RATELOG_PROBE 8     /* slots looked at per key */

struct tp_ratelog {
	struct {
		uint64_t key;
		uint64_t minute;       /* + 1: 0 is an empty slot */
	} slot[TP_RATELOG_SLOTS];
	uint64_t more;             /* events not logged since the last logged one */
};

/*
 * One refusal from key at now_s (seconds on any clock). True: log it (the
 * first from key in this minute), and *more is the number not logged since
 * the previous logged line (to say "and N more refused"); the count starts
 * again. False: counted, not to be logged (key was logged this minute, or
 * every slot it may use holds another source logged this minute).
 */
bool tp_ratelog_hit(struct tp_ratelog *r, uint64_t key, uint64_t now_s, uint64_t *more);

#endif
