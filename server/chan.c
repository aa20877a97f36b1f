/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * chan.c - channel tables (see chan.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "chan.h"

static uint32_t mix(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x45d9f3bu;
	h ^= h >> 16;
	return h;
}

static uint32_t hash_peer(const struct tp_addr *a)
{
	uint32_t h = 2166136261u ^ (uint32_t)a->family ^ ((uint32_t)a->port << 8);
	size_t n = a->family == AF_INET6 ? 16 : 4;

	for (size_t i = 0; i < n; i++)
		h = (h ^ a->ip[i]) * 16777619u;
	return mix(h);
}

void tp_chans_init(struct tp_chans *c)
{
	memset(c, 0, sizeof(*c));
}

void tp_chans_free(struct tp_chans *c)
{
	free(c->v);
	free(c->by_num);
	free(c->by_peer);
	memset(c, 0, sizeof(*c));
}

static uint32_t slot_num(const struct tp_chans *c, uint16_t num)
{
	uint32_t mask = c->idx_cap - 1, i = mix(num) & mask;

	while (c->by_num[i] && c->v[c->by_num[i] - 1].num != num)
		i = (i + 1) & mask;
	return i;
}

static uint32_t slot_peer(const struct tp_chans *c, const struct tp_addr *peer)
{
	uint32_t mask = c->idx_cap - 1, i = hash_peer(peer) & mask;

	while (c->by_peer[i] && !tp_addr_eq(&c->v[c->by_peer[i] - 1].peer, peer))
		i = (i + 1) & mask;
	return i;
}

static void reindex(struct tp_chans *c)
{
	if (!c->by_num)
		return;
	memset(c->by_num, 0, (size_t)c->idx_cap * sizeof(uint32_t));
	memset(c->by_peer, 0, (size_t)c->idx_cap * sizeof(uint32_t));
	for (uint32_t k = 0; k < c->n; k++) {
		c->by_num[slot_num(c, c->v[k].num)] = k + 1;
		c->by_peer[slot_peer(c, &c->v[k].peer)] = k + 1;
	}
}

static int find_num(const struct tp_chans *c, uint16_t num)
{
	if (c->by_num) {
		uint32_t k = c->by_num[slot_num(c, num)];

		return k ? (int)(k - 1) : -1;
	}
	for (uint32_t k = 0; k < c->n; k++)
		if (c->v[k].num == num)
			return (int)k;
	return -1;
}

static int find_peer(const struct tp_chans *c, const struct tp_addr *peer)
{
	if (c->by_peer) {
		uint32_t k = c->by_peer[slot_peer(c, peer)];

		return k ? (int)(k - 1) : -1;
	}
	for (uint32_t k = 0; k < c->n; k++)
		if (tp_addr_eq(&c->v[k].peer, peer))
			return (int)k;
	return -1;
}

/* Entries stay until their quarantine ends; then they go. */
static void compact(struct tp_chans *c, time_t now)
{
	uint32_t j = 0;

	for (uint32_t k = 0; k < c->n; k++)
		if (c->v[k].expires + TP_CHAN_QUARANTINE > now)
			c->v[j++] = c->v[k];
	if (j != c->n) {
		c->n = j;
		reindex(c);
	}
}

static int grow(struct tp_chans *c, uint32_t max)
{
	uint32_t cap = c->cap ? (c->cap > max / 2 ? max : c->cap * 2) : (max < 4 ? max : 4);
	struct tp_chan *v;

	if (cap <= c->cap || (uint64_t)cap * sizeof(*v) > SIZE_MAX)
		return -ENOMEM;
	v = realloc(c->v, (size_t)cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	c->v = v;
	c->cap = cap;
	if (cap > TP_CHAN_LINEAR) {
		uint32_t ic = 16, *bn, *bp;

		while (ic < 2 * cap)
			ic *= 2;
		if (ic != c->idx_cap) {
			bn = calloc(ic, sizeof(*bn));
			bp = calloc(ic, sizeof(*bp));
			if (!bn || !bp) {
				free(bn);
				free(bp);
				return -ENOMEM;
			}
			free(c->by_num);
			free(c->by_peer);
			c->by_num = bn;
			c->by_peer = bp;
			c->idx_cap = ic;
			reindex(c);
		}
	}
	return 0;
}

int tp_chans_bind(struct tp_chans *c, uint16_t num, const struct tp_addr *peer, bool self_relay,
                  uint32_t max, time_t now)
{
	int kn, kp;

	compact(c, now);
	kn = find_num(c, num);
	kp = find_peer(c, peer);
	if (kn >= 0 && kn == kp) {
		c->v[kn].expires = now + TP_CHAN_LIFETIME;
		c->v[kn].self_relay = self_relay;
		return 0;
	}
	if (kn >= 0 || kp >= 0)
		return -EEXIST;        /* bound (or quarantined) to something else */
	if (c->n >= max)
		return -ENOSPC;
	if (c->n == c->cap) {
		int rc = grow(c, max);

		if (rc)
			return rc;
	}
	c->v[c->n] = (struct tp_chan){ .peer = *peer, .expires = now + TP_CHAN_LIFETIME,
	                               .num = num, .self_relay = self_relay };
	if (c->by_num) {
		c->by_num[slot_num(c, num)] = c->n + 1;
		c->by_peer[slot_peer(c, peer)] = c->n + 1;
	}
	c->n++;
	return 0;
}

const struct tp_chan *tp_chans_by_num(const struct tp_chans *c, uint16_t num, time_t now)
{
	int k = find_num(c, num);

	return k >= 0 && c->v[k].expires > now ? &c->v[k] : NULL;
}

const struct tp_chan *tp_chans_by_peer(const struct tp_chans *c, const struct tp_addr *peer,
                                       time_t now)
{
	int k = find_peer(c, peer);

	return k >= 0 && c->v[k].expires > now ? &c->v[k] : NULL;
}

uint32_t tp_chans_count(const struct tp_chans *c, time_t now)
{
	uint32_t live = 0;

	for (uint32_t k = 0; k < c->n; k++)
		live += c->v[k].expires > now;
	return live;
}

void tp_chans_filter(struct tp_chans *c, time_t now,
                     bool (*keep)(void *arg, const struct tp_chan *ch), void *arg)
{
	uint32_t j = 0;

	for (uint32_t k = 0; k < c->n; k++)
		if (c->v[k].expires <= now || keep(arg, &c->v[k]))
			c->v[j++] = c->v[k];
	c->n = j;
	reindex(c);
}

/*
 * Every entry is where both lookups look for it (so no number and no peer is
 * there twice) and a channel number; the array fits its capacity; the two
 * indexes (only past TP_CHAN_LINEAR, both or neither) are a power of two at
 * least twice the capacity and each holds every entry once and nothing else.
 */
const char *tp_chans_check(const struct tp_chans *c)
{
	uint32_t used_num = 0, used_peer = 0;

	if (c->n > c->cap)
		return "more entries than capacity";
	if (c->cap && !c->v)
		return "capacity without an array";
	if ((c->by_num != NULL) != (c->by_peer != NULL))
		return "one index without the other";
	if (c->by_num && c->cap <= TP_CHAN_LINEAR)
		return "indexes below the linear size";
	if (c->by_num) {
		if (c->idx_cap < 2 * c->cap || (c->idx_cap & (c->idx_cap - 1)))
			return "index size not a power of two >= 2 * capacity";
		for (uint32_t i = 0; i < c->idx_cap; i++) {
			if (c->by_num[i] > c->n || c->by_peer[i] > c->n)
				return "index slot points past the entries";
			used_num += c->by_num[i] != 0;
			used_peer += c->by_peer[i] != 0;
		}
		if (used_num != c->n || used_peer != c->n)
			return "an index does not hold every entry exactly once";
	}
	for (uint32_t k = 0; k < c->n; k++) {
		const struct tp_chan *ch = &c->v[k];

		if (ch->num < TP_CHAN_MIN || ch->num > TP_CHAN_MAX_RFC5766)
			return "entry with a number outside 0x4000-0x7FFF";
		if (ch->peer.family != AF_INET && ch->peer.family != AF_INET6)
			return "entry of no address family";
		if (find_num(c, ch->num) != (int)k)
			return "number not found where it is (duplicate or misindexed)";
		if (find_peer(c, &ch->peer) != (int)k)
			return "peer not found where it is (duplicate or misindexed)";
	}
	return NULL;
}
