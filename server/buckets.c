/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * buckets.c - token buckets by key in a fixed, shared table (see buckets.h).
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "buckets.h"

struct slot {
	atomic_flag lock;
	uint32_t tag;              /* 0: unused */
	uint64_t last_ms;
	uint64_t units;            /* tokens x 60000 at last_ms (exact refill per ms) */
};

struct tp_buckets {
	size_t mask;
	_Atomic uint64_t shared;
	struct slot slots[];
};

struct tp_buckets *tp_buckets_create(size_t slots)
{
	size_t n = 64;
	struct tp_buckets *t;

	while (n < slots && n < ((size_t)1 << 24))
		n <<= 1;
	t = calloc(1, sizeof(*t) + n * sizeof(struct slot));
	if (!t)
		return NULL;
	t->mask = n - 1;
	for (size_t i = 0; i < n; i++)
		atomic_flag_clear(&t->slots[i].lock);
	return t;
}

void tp_buckets_free(struct tp_buckets *t)
{
	free(t);
}

static void lock(struct slot *s)
{
	while (atomic_flag_test_and_set_explicit(&s->lock, memory_order_acquire))
		;
}

static void unlock(struct slot *s)
{
	atomic_flag_clear_explicit(&s->lock, memory_order_release);
}

/* A token is 60000 units: a bucket refilling per_min tokens a minute gains
 * exactly per_min units a millisecond, so no refill is lost to rounding. */
#define UNIT 60000u

/* The slot's level in units now, refilled (lock held). */
static uint64_t level(const struct slot *s, uint32_t per_min, uint32_t burst, uint64_t now_ms)
{
	uint64_t cap = (uint64_t)burst * UNIT, elapsed, add;

	if (!s->tag)
		return cap;
	elapsed = now_ms > s->last_ms ? now_ms - s->last_ms : 0;
	if (elapsed >= cap / (per_min ? per_min : 1))
		return cap;                 /* long idle: full (and no overflow) */
	add = elapsed * per_min;
	return s->units + add > cap ? cap : s->units + add;
}

/*
 * Lock and return the slot for key: its own, else the candidate that has
 * refilled the most (claimed if full). Both candidates are locked in address
 * order so two workers never wait on each other in a cycle.
 */
static struct slot *acquire(struct tp_buckets *t, uint64_t key, uint32_t per_min, uint32_t burst,
                            uint64_t now_ms)
{
	uint32_t tag = (uint32_t)(key >> 32) | 1u;
	struct slot *a = &t->slots[key & t->mask];
	struct slot *b = &t->slots[(key >> 20 ^ key >> 44) & t->mask];
	struct slot *lo = a < b ? a : b, *hi = a < b ? b : a, *pick, *other;
	uint64_t cap = (uint64_t)burst * UNIT, la, lb;

	lock(lo);
	if (hi != lo)
		lock(hi);
	if (a->tag == tag || b->tag == tag) {
		pick = a->tag == tag ? a : b;
	} else {
		la = level(a, per_min, burst, now_ms);
		lb = level(b, per_min, burst, now_ms);
		pick = la >= lb ? a : b;
		if ((pick == a ? la : lb) >= cap) {
			pick->tag = tag;          /* idle or unused: ours now */
			pick->units = cap;
			pick->last_ms = now_ms;
		} else {
			atomic_fetch_add_explicit(&t->shared, 1, memory_order_relaxed);
		}
	}
	other = pick == a ? b : a;
	if (other != pick)
		unlock(other);
	return pick;
}

bool tp_buckets_take(struct tp_buckets *t, uint64_t key, uint32_t per_min, uint32_t burst,
                     uint32_t cost, uint64_t now_ms)
{
	struct slot *s;
	uint64_t have;
	bool ok;

	if (per_min == 0)
		return true;
	s = acquire(t, key, per_min, burst, now_ms);
	have = level(s, per_min, burst, now_ms);
	ok = have >= (uint64_t)cost * UNIT;
	s->units = ok ? have - (uint64_t)cost * UNIT : have;
	s->last_ms = now_ms;
	unlock(s);
	return ok;
}

bool tp_buckets_has(struct tp_buckets *t, uint64_t key, uint32_t per_min, uint32_t burst,
                    uint64_t now_ms)
{
	struct slot *s;
	bool ok;

	if (per_min == 0)
		return true;
	s = acquire(t, key, per_min, burst, now_ms);
	ok = level(s, per_min, burst, now_ms) >= UNIT;
	unlock(s);
	return ok;
}

uint64_t tp_buckets_shared(const struct tp_buckets *t)
{
	return atomic_load_explicit(&t->shared, memory_order_relaxed);
}
