/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_slab.c - the object pool behind struct tp_alloc: objects are distinct,
 * zeroed and writable; pages fill, and a mass release gives every page back but
 * one (the point of the pool: RSS returns after allocations go); freeing in a
 * random order and reusing keep the counts right; threads can share it.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tp_test.h"
#include "slab.h"

#define N 20000
#define OBJ 744

static void *objs[N];

static size_t pages(struct tp_slab *sl)
{
	size_t p, l;

	tp_slab_stats(sl, &p, &l);
	return p;
}

static size_t live(struct tp_slab *sl)
{
	size_t p, l;

	tp_slab_stats(sl, &p, &l);
	return l;
}

static void test_fill_and_release(void)
{
	struct tp_slab *sl = tp_slab_create(OBJ);
	size_t peak;
	int zero = 1;

	CHECK(sl != NULL);
	CHECK(tp_slab_create(0) == NULL);
	CHECK(tp_slab_create(1 << 20) == NULL);
	for (int i = 0; i < N; i++) {
		uint8_t *p = tp_slab_alloc(sl);

		CHECK(p != NULL);
		for (int k = 0; k < OBJ; k++)
			zero &= p[k] == 0;
		memset(p, i & 0xff, OBJ);
		objs[i] = p;
	}
	CHECK(zero);
	CHECK_EQ(live(sl), N);
	peak = pages(sl);
	/* 64 KB pages of 16-byte-rounded slots, nothing else on them */
	CHECK(peak * ((64 << 10) / 752) >= N && peak <= N / ((64 << 10) / 752 - 1) + 1);
	for (int i = 0; i < N; i++) {
		const uint8_t *p = objs[i];
		int same = 1;

		for (int k = 0; k < OBJ; k++)
			same &= p[k] == (uint8_t)(i & 0xff);
		if (!same) {
			CHECK(same); /* overlapping objects */
			break;
		}
	}
	/* random order, as clients leave */
	srand(7);
	for (int i = N - 1; i > 0; i--) {
		int j = rand() % (i + 1);
		void *t = objs[i];

		objs[i] = objs[j];
		objs[j] = t;
	}
	for (int i = 0; i < N / 2; i++)
		tp_slab_free(sl, objs[i]);
	CHECK_EQ(live(sl), N / 2);
	/* reuse fills the holes before mapping more */
	for (int i = 0; i < N / 2; i++) {
		objs[i] = tp_slab_alloc(sl);
		CHECK(objs[i] != NULL);
	}
	CHECK_EQ(pages(sl), peak);
	for (int i = 0; i < N; i++)
		tp_slab_free(sl, objs[i]);
	CHECK_EQ(live(sl), 0);
	CHECK_EQ(pages(sl), 1);
	/* create/free churn on the kept page maps nothing */
	for (int i = 0; i < 1000; i++)
		tp_slab_free(sl, tp_slab_alloc(sl));
	CHECK_EQ(pages(sl), 1);
	tp_slab_free(sl, NULL);
	tp_slab_destroy(sl);
}

static struct tp_slab *shared;

static void *worker(void *arg)
{
	void *mine[500];

	(void)arg;
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 500; i++) {
			mine[i] = tp_slab_alloc(shared);
			if (mine[i])
				memset(mine[i], 0xa5, OBJ);
		}
		for (int i = 0; i < 500; i++)
			tp_slab_free(shared, mine[i]);
	}
	return NULL;
}

static void test_threads(void)
{
	pthread_t th[4];

	shared = tp_slab_create(OBJ);
	CHECK(shared != NULL);
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ(live(shared), 0);
	CHECK_EQ(pages(shared), 1);
	tp_slab_destroy(shared);
}

int main(void)
{
	test_fill_and_release();
	test_threads();
	TP_TEST_END();
}
