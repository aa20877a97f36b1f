/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_rand.c - server/rand.c: values stay in range, every value of a small
 * range comes up about as often as the others (no modulo bias), consecutive
 * draws differ, buffer refills (more than a pool's worth) and large requests
 * work.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rand.h"
#include "tp_test.h"

int main(void)
{
	unsigned hist[6] = { 0 };
	uint8_t a[32], b[32], big[4096], zero[4096] = { 0 };

	if (sodium_init() < 0)
		return 1;
	CHECK_EQ(tp_rand_uniform(0), 0);
	CHECK_EQ(tp_rand_uniform(1), 0);
	for (int i = 0; i < 60000; i++) {
		uint32_t v = tp_rand_uniform(6);

		CHECK(v < 6);
		if (v < 6)
			hist[v]++;
	}
	for (int k = 0; k < 6; k++)   /* 10,000 expected each; 5 sigma is ~460 */
		CHECK(hist[k] > 9400 && hist[k] < 10600);
	for (int i = 0; i < 100; i++) {   /* crosses many refills */
		tp_rand_buf(a, sizeof(a));
		tp_rand_buf(b, sizeof(b));
		CHECK(memcmp(a, b, sizeof(a)) != 0);
	}
	tp_rand_buf(big, sizeof(big));
	CHECK(memcmp(big, zero, sizeof(big)) != 0);
	CHECK(tp_rand_uniform(0xFFFFFFFFu) < 0xFFFFFFFFu);
	TP_TEST_END();
}
