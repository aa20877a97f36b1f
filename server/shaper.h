/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * shaper.h - byte-rate token buckets for bandwidth caps (max-bps,
 * user-max-bps).
 *
 * A bucket holds up to a quarter of a second of its rate and refills
 * continuously. A datagram passes while the bucket is not empty and is then
 * debited in full, so the bucket may go into debt by one datagram: any size
 * passes at any rate, and the long-run rate is the cap. Tokens are kept in
 * milli-bytes, so slow rates and millisecond clocks lose nothing to rounding.
 * Pure: the caller gives the time; one thread per bucket (tp_shared's user
 * buckets add their own lock).
 */
#ifndef TP_SHAPER_H
#define TP_SHAPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TP_SHAPER_BURST_MS 250

struct tp_tbucket {
	int64_t mtokens;     /* milli-bytes; negative: in debt */
	uint64_t at_ms;      /* last refill; 0: never used (starts full) */
};

/* Whether n bytes may pass at rate bytes/s now (and debit them if so). rate 0
 * is no cap. */
bool tp_tb_take(struct tp_tbucket *b, uint32_t rate, size_t n, uint64_t now_ms);
/* The same, but only while the bucket holds more than pct percent of its
 * burst (0: tp_tb_take). */
bool tp_tb_take_above(struct tp_tbucket *b, uint32_t rate, size_t n, uint64_t now_ms,
                      unsigned pct);

#endif
