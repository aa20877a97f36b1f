/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rand.c - buffered randomness (see rand.h).
 */
#include <string.h>

#include <sodium.h>

#include "rand.h"

#define POOL 512

static _Thread_local uint8_t pool[POOL];
static _Thread_local size_t left;

void tp_rand_buf(void *out, size_t n)
{
	uint8_t *o = out;

	if (n > POOL / 8) {
		randombytes_buf(out, n);
		return;
	}
	if (left < n) {
		randombytes_buf(pool, POOL);
		left = POOL;
	}
	memcpy(o, pool + POOL - left, n);
	sodium_memzero(pool + POOL - left, n);   /* used once */
	left -= n;
}

void tp_rand_reset(void)
{
	sodium_memzero(pool, sizeof(pool));
	left = 0;
}

uint32_t tp_rand_uniform(uint32_t upper)
{
	uint32_t r, min;

	if (upper < 2)
		return 0;
	min = (uint32_t)(-upper) % upper;   /* 2^32 mod upper: reject below it */
	do
		tp_rand_buf(&r, sizeof(r));
	while (r < min);
	return r % upper;
}
