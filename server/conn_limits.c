/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * conn_limits.c - connection counts of one worker (see conn_limits.h).
 */
#include <errno.h>
#include <stdlib.h>

#include "conn_limits.h"

struct tp_limits {
	uint32_t conns;
	uint32_t per_ip[TP_RATE_SLOTS];
};

struct tp_limits *tp_limits_new(void)
{
	return calloc(1, sizeof(struct tp_limits));
}

void tp_limits_free(struct tp_limits *l)
{
	free(l);
}

bool tp_limits_room(const struct tp_limits *l, const struct tp_conf *c)
{
	return !c->max_connections || l->conns < c->max_connections;
}

int tp_limits_admit(struct tp_limits *l, const struct tp_conf *c, uint32_t slot)
{
	if (!tp_limits_room(l, c))
		return -ENFILE;
	if (slot != TP_LIMITS_NOSLOT) {
		if (slot >= TP_RATE_SLOTS)
			return -EINVAL;
		if (c->max_connections_per_ip && l->per_ip[slot] >= c->max_connections_per_ip)
			return -EMFILE;
		l->per_ip[slot]++;
	}
	l->conns++;
	return 0;
}

void tp_limits_hold(struct tp_limits *l)
{
	l->conns++;
}

void tp_limits_release(struct tp_limits *l, uint32_t slot)
{
	if (l->conns)
		l->conns--;
	if (slot < TP_RATE_SLOTS && l->per_ip[slot])
		l->per_ip[slot]--;
}

uint32_t tp_limits_conns(const struct tp_limits *l)
{
	return l->conns;
}

uint32_t tp_limits_conns_from(const struct tp_limits *l, uint32_t slot)
{
	return slot < TP_RATE_SLOTS ? l->per_ip[slot] : 0;
}
