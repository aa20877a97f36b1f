/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * clock.c - monotonic time and deadlines for the probe's bounded phases.
 */
#include <time.h>

#include "probe.h"

int64_t probe_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double probe_now_msf(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

int probe_left(int64_t deadline)
{
	int64_t left = deadline - probe_now_ms();

	if (left < 0)
		return 0;
	return left > 0x7fffffff ? 0x7fffffff : (int)left;
}
