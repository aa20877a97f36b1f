/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_shaper.c - server/shaper.c with a fake clock: an offered load above
 * the rate passes at the rate (plus the burst), a load under it passes
 * whole, slow rates lose nothing to rounding, a datagram larger than the
 * bucket still passes (then waits), idle refills only up to the burst, and
 * rate 0 is no cap.
 */
#include "shaper.h"
#include "tp_test.h"

static uint64_t offer(struct tp_tbucket *b, uint32_t rate, size_t n, uint64_t every_ms,
                      uint64_t from, uint64_t to)
{
	uint64_t passed = 0;

	for (uint64_t t = from; t < to; t += every_ms)
		if (tp_tb_take(b, rate, n, t))
			passed += n;
	return passed;
}

int main(void)
{
	struct tp_tbucket b = { 0 };
	uint64_t got;

	/* 1 MB/s offered at 100 kB/s for 10 s: 1 MB + a quarter second */
	got = offer(&b, 100000, 1000, 1, 1, 10001);
	CHECK(got >= 1000000 && got <= 1000000 + 25000 + 1000);
	/* under the cap: all of it */
	b = (struct tp_tbucket){ 0 };
	CHECK_EQ(offer(&b, 100000, 1000, 20, 1, 10001), 500 * 1000);
	/* 500 B/s in 100 B datagrams every 10 ms over 20 s: 10 kB (+125 B burst) */
	b = (struct tp_tbucket){ 0 };
	got = offer(&b, 500, 100, 10, 1, 20001);
	CHECK(got >= 10000 && got <= 10000 + 125 + 100);
	/* a 1200 B datagram at 100 B/s: passes, then the bucket is in debt for
	 * about 12 s */
	b = (struct tp_tbucket){ 0 };
	CHECK(tp_tb_take(&b, 100, 1200, 1000));
	CHECK(!tp_tb_take(&b, 100, 1, 1000));
	CHECK(!tp_tb_take(&b, 100, 1, 12000));
	CHECK(tp_tb_take(&b, 100, 1, 13500));
	/* a long idle gives back one burst, not the whole idle time */
	b = (struct tp_tbucket){ 0 };
	(void)offer(&b, 10000, 1000, 1, 1, 2001);
	got = offer(&b, 10000, 1000, 1, 3600 * 1000, 3600 * 1000 + 10);
	CHECK_EQ(got, 3000);   /* 2500 B of burst: three datagrams start in it */
	/* rate 0: no cap */
	for (int i = 0; i < 1000; i++)
		CHECK(tp_tb_take(&b, 0, 65535, 5));
	/* take_above: only while more than half of the burst (2,500 B) is left */
	b = (struct tp_tbucket){ 0 };
	CHECK(tp_tb_take_above(&b, 10000, 1000, 100, 50));   /* 2500 -> 1500 */
	CHECK(tp_tb_take_above(&b, 10000, 1000, 100, 50));   /* 1500 > 1250 -> 500 */
	CHECK(!tp_tb_take_above(&b, 10000, 1000, 100, 50));  /* 500: not above half */
	CHECK(tp_tb_take(&b, 10000, 1000, 100));             /* plain: not empty, passes */
	/* a clock that goes back restarts the bucket full */
	b = (struct tp_tbucket){ 0 };
	(void)offer(&b, 1000, 1000, 1, 5000, 5010);
	CHECK(tp_tb_take(&b, 1000, 100, 10));
	TP_TEST_END();
}
