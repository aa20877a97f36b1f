/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ratelog.c - once per source per minute (ratelog.h).
 */
#include <string.h>

#include "ratelog.h"

bool tp_ratelog_hit(struct tp_ratelog *r, uint64_t key, uint64_t now_s, uint64_t *more)
{
	uint64_t minute = now_s / 60 + 1;
	unsigned free_slot = TP_RATELOG_SLOTS;

	for (unsigned i = 0; i < TP_RATELOG_PROBE; i++) {
		unsigned k = (unsigned)((key + i) % TP_RATELOG_SLOTS);

		if (r->slot[k].minute == minute && r->slot[k].key == key) {
			r->more++;
			return false; /* logged this minute */
		}
		if (r->slot[k].minute != minute && free_slot == TP_RATELOG_SLOTS)
			free_slot = k; /* empty, or a source from an earlier minute */
	}
	if (free_slot == TP_RATELOG_SLOTS) {
		r->more++;
		return false; /* this minute's lines for this part of the table are spent */
	}
	r->slot[free_slot].key = key;
	r->slot[free_slot].minute = minute;
	*more = r->more;
	r->more = 0;
	return true;
}
