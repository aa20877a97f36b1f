/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stats.c - counters: indexes and sums (see stats.h).
 */
#include <stddef.h>

#include "proto.h"
#include "stats.h"

static const uint16_t codes[TP_SR_COUNT] = TP_STAT_CODES;

enum tp_stat_method tp_stats_method(uint16_t method)
{
	switch (method) {
	case TP_METHOD_BINDING: return TP_SM_BINDING;
	case TP_METHOD_ALLOCATE: return TP_SM_ALLOCATE;
	case TP_METHOD_REFRESH: return TP_SM_REFRESH;
	case TP_METHOD_CREATE_PERMISSION: return TP_SM_CREATE_PERMISSION;
	case TP_METHOD_CHANNEL_BIND: return TP_SM_CHANNEL_BIND;
	case TP_METHOD_CONNECT: return TP_SM_CONNECT;
	case TP_METHOD_CONNECTION_BIND: return TP_SM_CONNECTION_BIND;
	}
	return TP_SM_OTHER;
}

const char *tp_stats_method_name(enum tp_stat_method m)
{
	static const char *names[TP_SM_COUNT] = { "binding", "allocate", "refresh",
		"create_permission", "channel_bind", "connect", "connection_bind", "other" };

	return m < TP_SM_COUNT ? names[m] : "other";
}

unsigned tp_stats_result(uint16_t code)
{
	for (unsigned i = 0; i < TP_SR_COUNT - 1; i++)
		if (codes[i] == code)
			return i;
	return TP_SR_COUNT - 1;   /* any other code */
}

uint16_t tp_stats_code(unsigned i)
{
	return i < TP_SR_COUNT ? codes[i] : 999;
}

void tp_stats_answer(struct tp_stats *st, uint16_t method, uint16_t code)
{
	st->req[tp_stats_method(method)][tp_stats_result(code)]++;
}

/* struct tp_stats is uint64_t fields only: summed as an array. */
_Static_assert(sizeof(struct tp_stats) % sizeof(uint64_t) == 0, "tp_stats holds uint64_t only");

void tp_stats_add(struct tp_stats *dst, const struct tp_stats *src)
{
	uint64_t *d = (uint64_t *)dst;
	const uint64_t *s = (const uint64_t *)src;

	for (size_t i = 0; i < sizeof(*dst) / sizeof(uint64_t); i++)
		d[i] += s[i];
}
