/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * buckets.h - token buckets by key, in a fixed table shared by the workers.
 *
 * One mechanism for every per-source and per-name budget: unauthenticated
 * requests per source address (no reflection), and failed password checks
 * per source and per user name (no online guessing). The table never grows
 * and stores nothing but a keyed-hash tag per bucket, so a flood of new keys
 * costs no memory; the caller gives the key as a 64-bit keyed hash.
 *
 * Collisions are handled with two choices: a key may live in either of two
 * slots. A key that finds its tag uses that slot; a new key takes the
 * candidate that has refilled the most, fresh if that one is full (idle
 * buckets are as good as empty ones). Only when both candidates are busy with
 * other keys does a new key share one, so one source's flood no longer
 * silences unrelated sources unless the table is saturated with active keys.
 *
 * Each slot has its own spinlock (a few instructions are held under it, no
 * system call), so the budget of a key holds across workers. No I/O, no
 * clock: the caller passes the time.
 */
#ifndef TP_BUCKETS_H
#define TP_BUCKETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tp_buckets;

/* slots: rounded up to a power of two (at least 64). NULL on out of memory. */
struct tp_buckets *tp_buckets_create(size_t slots);
void tp_buckets_free(struct tp_buckets *t);

/*
 * Take cost tokens (whole tokens) from key's bucket if it has them. Buckets
 * refill at per_min tokens per minute up to burst, and start full. per_min 0
 * means unlimited (always true). now_ms: any monotonic millisecond clock.
 */
bool tp_buckets_take(struct tp_buckets *t, uint64_t key, uint32_t per_min, uint32_t burst,
                     uint32_t cost, uint64_t now_ms);

/* Would key's bucket give one token now (without taking it)? */
bool tp_buckets_has(struct tp_buckets *t, uint64_t key, uint32_t per_min, uint32_t burst,
                    uint64_t now_ms);

/* Slots whose keys had to share (both candidates busy): a saturation gauge. */
uint64_t tp_buckets_shared(const struct tp_buckets *t);

#endif
