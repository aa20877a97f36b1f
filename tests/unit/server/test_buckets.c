/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_buckets.c - server/buckets.c with a fake clock: burst then refill per
 * minute, per key; a flood on one key does not empty another key's bucket
 * even when they share a slot (two choices, tags); a full table degrades to
 * sharing and counts it; the budget of one key holds when two threads spend
 * it at once.
 */
#include <pthread.h>
#include <stdlib.h>

#include "buckets.h"
#include "tp_test.h"

/* A key whose first slot is slot and whose second choice is derived from hi. */
static uint64_t key_for(uint64_t slot, uint64_t hi)
{
	return hi << 32 | slot;
}

static void test_burst_refill(void)
{
	struct tp_buckets *t = tp_buckets_create(64);
	uint64_t now = 1000, k = 0x123456789abcdefull;
	int got = 0;

	for (int i = 0; i < 20; i++)
		got += tp_buckets_take(t, k, 600, 5, 1, now);   /* 10/s, burst 5 */
	CHECK_EQ(got, 5);
	CHECK(!tp_buckets_has(t, k, 600, 5, now));
	CHECK(!tp_buckets_take(t, k, 600, 5, 1, now + 99));
	CHECK(tp_buckets_take(t, k, 600, 5, 1, now + 100));  /* 100 ms: one token */
	CHECK(!tp_buckets_take(t, k, 600, 5, 1, now + 100));
	/* a long idle refills to the burst, never past it */
	got = 0;
	for (int i = 0; i < 20; i++)
		got += tp_buckets_take(t, k, 600, 5, 1, now + 3600 * 1000);
	CHECK_EQ(got, 5);
	/* per_min 0: unlimited */
	for (int i = 0; i < 100; i++)
		CHECK(tp_buckets_take(t, k, 0, 1, 1, now));
	/* cost larger than one */
	CHECK(tp_buckets_take(t, 77, 60, 10, 10, now));
	CHECK(!tp_buckets_take(t, 77, 60, 10, 1, now));
	/* slow rates: 20 a minute is one every 3 s */
	CHECK(tp_buckets_take(t, 99, 20, 1, 1, now));
	CHECK(!tp_buckets_take(t, 99, 20, 1, 1, now + 2999));
	CHECK(tp_buckets_take(t, 99, 20, 1, 1, now + 3000));
	tp_buckets_free(t);
}

static void test_collisions(void)
{
	struct tp_buckets *t = tp_buckets_create(64);
	uint64_t now = 5000;
	/* same first slot (5), different tags and second choices */
	uint64_t a = key_for(5, 0x1111), b = key_for(5, 0x2222), c = key_for(5, 0x3333);

	for (int i = 0; i < 100; i++)
		tp_buckets_take(t, a, 60, 3, 1, now);        /* a floods */
	CHECK(tp_buckets_take(t, b, 60, 3, 1, now));     /* b is not silenced */
	CHECK(tp_buckets_take(t, b, 60, 3, 1, now));
	CHECK(tp_buckets_take(t, b, 60, 3, 1, now));
	CHECK(!tp_buckets_take(t, b, 60, 3, 1, now));    /* ... and has its own budget */
	CHECK(!tp_buckets_take(t, a, 60, 3, 1, now));
	CHECK_EQ(tp_buckets_shared(t), 0);
	/* c's candidates are both busy now only if its second choice is a's or
	 * b's slot; either way it never gets more than a bucket's worth */
	int got = 0;

	for (int i = 0; i < 10; i++)
		got += tp_buckets_take(t, c, 60, 3, 1, now);
	CHECK(got <= 3);

	/* a table full of busy keys: new keys share, and that is counted */
	struct tp_buckets *s = tp_buckets_create(64);

	for (uint64_t k = 0; k < 1000; k++)
		tp_buckets_take(s, k * 0x9E3779B97F4A7C15ull, 60, 2, 2, now);
	CHECK(tp_buckets_shared(s) > 0);
	tp_buckets_free(s);
	tp_buckets_free(t);
}

struct spend {
	struct tp_buckets *t;
	int got;
};

static void *spender(void *arg)
{
	struct spend *sp = arg;

	for (int i = 0; i < 100000; i++)
		sp->got += tp_buckets_take(sp->t, 42, 60, 1000, 1, 7000);
	return NULL;
}

static void test_threads(void)
{
	struct spend a = { tp_buckets_create(64), 0 }, b = { a.t, 0 };
	pthread_t ta, tb;

	pthread_create(&ta, NULL, spender, &a);
	pthread_create(&tb, NULL, spender, &b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	CHECK_EQ(a.got + b.got, 1000);  /* one budget, not one per thread */
	tp_buckets_free(a.t);
}

int main(void)
{
	test_burst_refill();
	test_collisions();
	test_threads();
	TP_TEST_END();
}
