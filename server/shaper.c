/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * shaper.c - byte-rate token buckets (see shaper.h).
 */
#include "shaper.h"

bool tp_tb_take(struct tp_tbucket *b, uint32_t rate, size_t n, uint64_t now_ms)
{
	return tp_tb_take_above(b, rate, n, now_ms, 0);
}

bool tp_tb_take_above(struct tp_tbucket *b, uint32_t rate, size_t n, uint64_t now_ms,
                      unsigned pct)
{
	int64_t cap = (int64_t)rate * TP_SHAPER_BURST_MS; /* milli-bytes in burst ms */

	if (rate == 0)
		return true;
	if (b->at_ms == 0 || now_ms < b->at_ms) {
		b->mtokens = cap;
	} else {
		uint64_t dt = now_ms - b->at_ms;

		/* rate bytes/s is rate milli-bytes per ms; a day idle fills any
		 * bucket (and keeps dt * rate far from overflowing) */
		b->mtokens = dt >= 86400000u ? cap : b->mtokens + (int64_t)dt * rate;
		if (b->mtokens > cap)
			b->mtokens = cap;
	}
	b->at_ms = now_ms ? now_ms : 1;
	if (b->mtokens <= (pct ? cap / 100 * (int64_t)pct : 0))
		return false;
	b->mtokens -= (int64_t)n * 1000;
	return true;
}
