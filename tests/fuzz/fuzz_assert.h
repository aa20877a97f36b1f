/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_assert.h - the fuzz targets' checks: FAIL prints the target and the
 * message and aborts (libFuzzer then saves the input); ASSERT names the
 * expression and where it failed.
 */
#ifndef TP_FUZZ_ASSERT_H
#define TP_FUZZ_ASSERT_H

#include <stdio.h>
#include <stdlib.h>

#define FAIL(...)                                                   \
	do {                                                        \
		fprintf(stderr, "%s: ", __FILE__);                  \
		fprintf(stderr, __VA_ARGS__);                       \
		fputc('\n', stderr);                                \
		abort();                                            \
	} while (0)
#define ASSERT(c)                                                   \
	do {                                                        \
		if (!(c))                                           \
			FAIL("line %d: %s", __LINE__, #c);          \
	} while (0)

#endif
