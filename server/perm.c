/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * perm.c - permission tables (see perm.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "perm.h"

static size_t ip_len(const struct tp_addr *a)
{
	return a->family == AF_INET6 ? 16 : 4;
}

static bool same_ip(const struct tp_addr *a, const struct tp_addr *b)
{
	return a->family == b->family && memcmp(a->ip, b->ip, ip_len(a)) == 0;
}

/* FNV-1a over family and address, mixed: not keyed, but a client choosing
 * colliding addresses only slows its own allocation's probes, and the probe
 * count is bounded by the table's load factor of 1/2. */
static uint32_t hash_ip(const struct tp_addr *a)
{
	uint32_t h = 2166136261u ^ (uint32_t)a->family;

	for (size_t i = 0; i < ip_len(a); i++)
		h = (h ^ a->ip[i]) * 16777619u;
	h ^= h >> 16;
	return h * 0x45d9f3bu;
}

void tp_perms_init(struct tp_perms *p)
{
	memset(p, 0, sizeof(*p));
}

void tp_perms_free(struct tp_perms *p)
{
	free(p->v);
	free(p->idx);
	memset(p, 0, sizeof(*p));
}

/* The index slot of ip, or of the empty slot where it would go. */
static uint32_t slot(const struct tp_perms *p, const struct tp_addr *ip)
{
	uint32_t mask = p->idx_cap - 1, i = hash_ip(ip) & mask;

	while (p->idx[i] && !same_ip(&p->v[p->idx[i] - 1].ip, ip))
		i = (i + 1) & mask;
	return i;
}

static void reindex(struct tp_perms *p)
{
	if (!p->idx)
		return;
	memset(p->idx, 0, (size_t)p->idx_cap * sizeof(*p->idx));
	for (uint32_t k = 0; k < p->n; k++)
		p->idx[slot(p, &p->v[k].ip)] = k + 1;
}

static int find(const struct tp_perms *p, const struct tp_addr *ip)
{
	if (p->idx) {
		uint32_t k = p->idx[slot(p, ip)];

		return k ? (int)(k - 1) : -1;
	}
	for (uint32_t k = 0; k < p->n; k++)
		if (same_ip(&p->v[k].ip, ip))
			return (int)k;
	return -1;
}

static void compact(struct tp_perms *p, time_t now)
{
	uint32_t j = 0;

	for (uint32_t k = 0; k < p->n; k++)
		if (p->v[k].expires > now)
			p->v[j++] = p->v[k];
	if (j != p->n) {
		p->n = j;
		reindex(p);
	}
}

/* Room for one more entry: the array doubles (never past max), the index
 * follows once past TP_PERM_LINEAR. */
static int grow(struct tp_perms *p, uint32_t max)
{
	uint32_t cap = p->cap ? (p->cap > max / 2 ? max : p->cap * 2) : (max < 4 ? max : 4);
	struct tp_perm *v;

	if (cap <= p->cap || (uint64_t)cap * sizeof(*v) > SIZE_MAX)
		return -ENOMEM;
	v = realloc(p->v, (size_t)cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	p->v = v;
	p->cap = cap;
	if (cap > TP_PERM_LINEAR) {
		uint32_t ic = 16;
		uint32_t *idx;

		while (ic < 2 * cap)
			ic *= 2;
		if (ic != p->idx_cap) {
			idx = calloc(ic, sizeof(*idx));
			if (!idx)
				return -ENOMEM;
			free(p->idx);
			p->idx = idx;
			p->idx_cap = ic;
			reindex(p);
		}
	}
	return 0;
}

int tp_perms_install(struct tp_perms *p, const struct tp_addr *ip, uint32_t max, time_t now)
{
	int k = find(p, ip);

	if (k >= 0) {
		p->v[k].expires = now + TP_PERM_LIFETIME;
		return 0;
	}
	if (p->n == p->cap || p->n >= max)
		compact(p, now);
	if (p->n >= max)
		return -ENOSPC;
	if (p->n == p->cap) {
		int rc = grow(p, max);

		if (rc)
			return rc;
	}
	memset(&p->v[p->n].ip, 0, sizeof(p->v[p->n].ip));
	p->v[p->n].ip.family = ip->family;
	memcpy(p->v[p->n].ip.ip, ip->ip, ip_len(ip));
	p->v[p->n].expires = now + TP_PERM_LIFETIME;
	if (p->idx)
		p->idx[slot(p, ip)] = p->n + 1;
	p->n++;
	return 0;
}

bool tp_perms_ok(const struct tp_perms *p, const struct tp_addr *ip, time_t now)
{
	int k = find(p, ip);

	return k >= 0 && p->v[k].expires > now;
}

uint32_t tp_perms_count(const struct tp_perms *p, time_t now)
{
	uint32_t live = 0;

	for (uint32_t k = 0; k < p->n; k++)
		live += p->v[k].expires > now;
	return live;
}

void tp_perms_filter(struct tp_perms *p, time_t now, bool (*keep)(void *arg, const struct tp_addr *ip),
                     void *arg)
{
	uint32_t j = 0;

	for (uint32_t k = 0; k < p->n; k++)
		if (p->v[k].expires > now && keep(arg, &p->v[k].ip))
			p->v[j++] = p->v[k];
	p->n = j;
	reindex(p);
}

/*
 * Every entry is where find() looks for it (so no address is there twice),
 * has port 0 and a known family; the array fits its capacity; an index (only
 * past TP_PERM_LINEAR; an out-of-memory may leave it out, and lookups then
 * scan) is a power of two at least twice the capacity and holds each entry
 * once and nothing else.
 */
const char *tp_perms_check(const struct tp_perms *p)
{
	uint32_t used = 0;

	if (p->n > p->cap)
		return "more entries than capacity";
	if (p->cap && !p->v)
		return "capacity without an array";
	if (p->idx && p->cap <= TP_PERM_LINEAR)
		return "index below the linear size";
	if (p->idx) {
		if (p->idx_cap < 2 * p->cap || (p->idx_cap & (p->idx_cap - 1)))
			return "index size not a power of two >= 2 * capacity";
		for (uint32_t i = 0; i < p->idx_cap; i++) {
			if (!p->idx[i])
				continue;
			if (p->idx[i] > p->n)
				return "index slot points past the entries";
			used++;
		}
		if (used != p->n)
			return "index does not hold every entry exactly once";
	}
	for (uint32_t k = 0; k < p->n; k++) {
		const struct tp_addr *ip = &p->v[k].ip;

		if (ip->family != AF_INET && ip->family != AF_INET6)
			return "entry of no address family";
		if (ip->port != 0)
			return "entry with a port";
		if (find(p, ip) != (int)k)
			return "entry not found where it is (duplicate or misindexed)";
	}
	return NULL;
}
