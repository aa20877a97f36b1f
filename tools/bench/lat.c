/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lat.c - latency samples and their quantiles.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "bench.h"

int tp_lat_init(struct tp_lat *l, size_t cap)
{
	l->ns = malloc(cap * sizeof(*l->ns));
	l->n = 0;
	l->cap = l->ns ? cap : 0;
	l->sorted = false;
	return l->ns ? 0 : -ENOMEM;
}

void tp_lat_free(struct tp_lat *l)
{
	free(l->ns);
	l->ns = NULL;
	l->n = l->cap = 0;
}

void tp_lat_add(struct tp_lat *l, uint64_t ns)
{
	if (l->n >= l->cap)
		return;   /* bounded: later samples are not kept */
	l->ns[l->n++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
	l->sorted = false;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

double tp_lat_us(struct tp_lat *l, double q)
{
	size_t i;

	if (l->n == 0)
		return NAN;
	if (!l->sorted) {
		qsort(l->ns, l->n, sizeof(*l->ns), cmp_u32);
		l->sorted = true;
	}
	i = (size_t)(q * (double)(l->n - 1) + 0.5);
	if (i >= l->n)
		i = l->n - 1;
	return l->ns[i] / 1000.0;
}
