/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tp_test.h - the smallest test harness that reports well: each CHECK prints
 * file:line and the expression on failure and counts; TP_TEST_END returns the
 * exit status (0 only if every check passed and at least one ran).
 */
#ifndef TP_TEST_H
#define TP_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int tp_test_checks, tp_test_fails;

#define CHECK(cond)                                                               \
	do {                                                                      \
		tp_test_checks++;                                                 \
		if (!(cond)) {                                                    \
			tp_test_fails++;                                          \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__,    \
			        __LINE__, #cond);                                 \
		}                                                                 \
	} while (0)

#define CHECK_EQ(a, b)                                                            \
	do {                                                                      \
		long long va_ = (long long)(a), vb_ = (long long)(b);             \
		tp_test_checks++;                                                 \
		if (va_ != vb_) {                                                 \
			tp_test_fails++;                                          \
			fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (%lld != %lld)\n", \
			        __FILE__, __LINE__, #a, #b, va_, vb_);            \
		}                                                                 \
	} while (0)

#define CHECK_MEM(a, b, n)                                                        \
	do {                                                                      \
		tp_test_checks++;                                                 \
		if (memcmp((a), (b), (n)) != 0) {                                 \
			tp_test_fails++;                                          \
			fprintf(stderr, "%s:%d: CHECK_MEM failed: %s vs %s (%zu bytes)\n", \
			        __FILE__, __LINE__, #a, #b, (size_t)(n));         \
		}                                                                 \
	} while (0)

#define TP_TEST_END()                                                             \
	do {                                                                      \
		printf("%d checks, %d failed\n", tp_test_checks, tp_test_fails); \
		return (tp_test_fails == 0 && tp_test_checks > 0) ? 0 : 1;        \
	} while (0)

#endif
