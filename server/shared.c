/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * shared.c - state shared by the worker loops (see shared.h).
 */
#include <errno.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buckets.h"
#include "ports.h"
#include "rand.h"
#include "shaper.h"
#include "shared.h"
#include "slab.h"

#define USER_BUCKETS 1024
#define TICKET_BUCKETS 1024

struct tp_user_count {
	struct tp_user_count *next;
	atomic_flag lock;                  /* for tb: held a few instructions */
	struct tp_tbucket tb[2];           /* user-max-bps, by enum tp_stat_dir */
	_Atomic uint64_t pkts[2], bytes[2]; /* relayed, folded in by the workers' ticks */
	_Atomic uint32_t count;            /* changed under the shared lock; read anywhere */
	uint16_t len;
	char name[];
};

struct tp_ticket_ref {
	struct tp_ticket_ref *next;
	uint8_t ticket[32];
	uint8_t len;
	unsigned worker;
	uint64_t user_hash;
};

uint64_t tp_shared_hash(const struct tp_shared *sh, const void *b, size_t n)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, b, n, sh->hash_key);
	memcpy(&v, h, sizeof(v));
	return v;
}

uint64_t tp_shared_source_key(const struct tp_shared *sh, const struct tp_conf *c,
                              const struct tp_addr *a, uint8_t domain)
{
	uint8_t k[1 + 1 + 16] = { domain, (uint8_t)a->family };
	size_t n = 2;

	if (a->family == AF_INET6) {
		unsigned bits = c->source_ipv6_prefix ? c->source_ipv6_prefix : 128;

		for (unsigned i = 0; i < 16; i++) {
			unsigned keep = bits >= 8 * (i + 1) ? 8 : bits > 8 * i ? bits - 8 * i : 0;

			k[n++] = (uint8_t)(a->ip[i] & (0xFF00u >> keep));
		}
	} else {
		memcpy(k + n, a->ip, 4);
		n += 4;
	}
	return tp_shared_hash(sh, k, n);
}

struct tp_shared *tp_shared_create(void)
{
	struct tp_shared *sh = calloc(1, sizeof(*sh));

	if (!sh)
		return NULL;
	pthread_mutex_init(&sh->mu, NULL);
	for (size_t i = 0; i < TP_MAX_WORKERS; i++)
		pthread_mutex_init(&sh->snap[i].mu, NULL);
	randombytes_buf(sh->hash_key, sizeof(sh->hash_key));
	randombytes_buf(sh->nonce_key, sizeof(sh->nonce_key));
	sh->utab_size = USER_BUCKETS;
	sh->utab = calloc(sh->utab_size, sizeof(*sh->utab));
	sh->tickets = calloc(TICKET_BUCKETS, sizeof(*sh->tickets));
	sh->unauth = tp_buckets_create(65536);
	sh->fail_src = tp_buckets_create(16384);
	sh->fail_user = tp_buckets_create(16384);
	if (!sh->utab || !sh->tickets || !sh->unauth || !sh->fail_src ||
	    !sh->fail_user) {
		tp_shared_free(sh);
		return NULL;
	}
	return sh;
}

void tp_shared_free(struct tp_shared *sh)
{
	if (!sh)
		return;
	for (size_t i = 0; sh->utab && i < sh->utab_size; i++)
		while (sh->utab[i]) {
			struct tp_user_count *n = sh->utab[i]->next;

			free(sh->utab[i]);
			sh->utab[i] = n;
		}
	for (size_t i = 0; sh->tickets && i < TICKET_BUCKETS; i++)
		while (sh->tickets[i]) {
			struct tp_ticket_ref *n = sh->tickets[i]->next;

			free(sh->tickets[i]);
			sh->tickets[i] = n;
		}
	free(sh->utab);
	free(sh->tickets);
	tp_slab_destroy(sh->alloc_slab);
	tp_slab_destroy(sh->relay_slab);
	tp_buckets_free(sh->unauth);
	tp_buckets_free(sh->fail_src);
	tp_buckets_free(sh->fail_user);
	for (size_t i = 0; i < sh->npools; i++)
		tp_portpool_free(sh->pools[i]);
	pthread_mutex_destroy(&sh->mu);
	for (size_t i = 0; i < TP_MAX_WORKERS; i++)
		pthread_mutex_destroy(&sh->snap[i].mu);
	sodium_memzero(sh->nonce_key, sizeof(sh->nonce_key));
	free(sh);
}

/* ---- per-user counts ---- */

static struct tp_user_count **uc_slot(struct tp_shared *sh, const char *u, size_t len)
{
	struct tp_user_count **pp = &sh->utab[tp_shared_hash(sh, u, len) % sh->utab_size];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->len == len && memcmp((*pp)->name, u, len) == 0)
			break;
	return pp;
}

uint32_t tp_shared_user_count(struct tp_shared *sh, const char *u, size_t len)
{
	struct tp_user_count *uc = *uc_slot(sh, u, len);

	return uc ? uc->count : 0;
}

struct tp_user_count *tp_shared_user_get(struct tp_shared *sh, const char *u, size_t len)
{
	struct tp_user_count **pp = uc_slot(sh, u, len);

	if (!*pp) {
		struct tp_user_count *uc = calloc(1, sizeof(*uc) + len + 1);

		if (!uc)
			return NULL;
		uc->len = (uint16_t)len;
		atomic_flag_clear(&uc->lock);
		memcpy(uc->name, u, len);
		*pp = uc;
	}
	(*pp)->count++;
	return *pp;
}

void tp_shared_user_put(struct tp_shared *sh, struct tp_user_count *uc)
{
	if (!uc || --uc->count > 0)
		return;
	struct tp_user_count **pp = uc_slot(sh, uc->name, uc->len);

	*pp = uc->next;
	free(uc);
}

uint32_t tp_shared_user_allocs(const struct tp_user_count *uc)
{
	return uc ? atomic_load_explicit(&uc->count, memory_order_relaxed) : 0;
}

const char *tp_shared_user_name(const struct tp_user_count *uc, size_t *len)
{
	*len = uc ? uc->len : 0;
	return uc ? uc->name : "";
}

void tp_shared_user_add(struct tp_user_count *uc, unsigned dir, uint64_t pkts, uint64_t bytes)
{
	if (!uc || dir > 1)
		return;
	atomic_fetch_add_explicit(&uc->pkts[dir], pkts, memory_order_relaxed);
	atomic_fetch_add_explicit(&uc->bytes[dir], bytes, memory_order_relaxed);
}

static int by_bytes(const void *x, const void *y)
{
	const struct tp_user_stat *a = x, *b = y;
	uint64_t ta = a->bytes[0] + a->bytes[1], tb = b->bytes[0] + b->bytes[1];

	return ta < tb ? 1 : ta > tb ? -1 : 0;
}

long tp_shared_users_top(struct tp_shared *sh, size_t n, struct tp_user_stat *out,
                         struct tp_user_stat *other)
{
	struct tp_user_stat *all = NULL;
	size_t cnt = 0, cap = 0;

	memset(other, 0, sizeof(*other));
	pthread_mutex_lock(&sh->mu);
	for (size_t i = 0; i < sh->utab_size; i++)
		for (struct tp_user_count *uc = sh->utab[i]; uc; uc = uc->next) {
			struct tp_user_stat *st;

			if (cnt == cap) {
				size_t ncap = cap ? 2 * cap : 256;
				struct tp_user_stat *na = realloc(all, ncap * sizeof(*all));

				if (!na) {
					pthread_mutex_unlock(&sh->mu);
					free(all);
					return -ENOMEM;
				}
				all = na;
				cap = ncap;
			}
			st = &all[cnt++];
			snprintf(st->name, sizeof(st->name), "%.*s", (int)uc->len, uc->name);
			st->allocations = uc->count;
			for (int d = 0; d < 2; d++) {
				st->pkts[d] = atomic_load_explicit(&uc->pkts[d], memory_order_relaxed);
				st->bytes[d] = atomic_load_explicit(&uc->bytes[d], memory_order_relaxed);
			}
		}
	pthread_mutex_unlock(&sh->mu);
	if (cnt)
		qsort(all, cnt, sizeof(*all), by_bytes);
	for (size_t i = n; i < cnt; i++) {
		other->allocations += all[i].allocations;
		other->users++;
	}
	if (cnt < n)
		n = cnt;
	if (n)
		memcpy(out, all, n * sizeof(*out));
	free(all);
	return (long)n;
}

bool tp_shared_user_take(struct tp_user_count *uc, unsigned dir, uint32_t rate, size_t n,
                         uint64_t now_ms, bool spare_only)
{
	bool ok;

	if (!uc || !rate || dir > 1)
		return true;
	while (atomic_flag_test_and_set_explicit(&uc->lock, memory_order_acquire))
		;
	ok = tp_tb_take_above(&uc->tb[dir], rate, n, now_ms, spare_only ? 50 : 0);
	atomic_flag_clear_explicit(&uc->lock, memory_order_release);
	return ok;
}

/* ---- mobility tickets ---- */

static struct tp_ticket_ref **ticket_slot(struct tp_shared *sh, const uint8_t *t, size_t len)
{
	struct tp_ticket_ref **pp = &sh->tickets[tp_shared_hash(sh, t, len) % TICKET_BUCKETS];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->len == len && sodium_memcmp((*pp)->ticket, t, len) == 0)
			break;
	return pp;
}

int tp_shared_ticket_add(struct tp_shared *sh, const uint8_t *t, size_t len, unsigned worker,
                         uint64_t user_hash)
{
	struct tp_ticket_ref **pp, *r;

	if (len > sizeof(r->ticket))
		return -EINVAL;
	pp = ticket_slot(sh, t, len);
	r = *pp ? *pp : calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	if (!*pp) {
		memcpy(r->ticket, t, len);
		r->len = (uint8_t)len;
		*pp = r;
	}
	r->worker = worker;
	r->user_hash = user_hash;
	return 0;
}

void tp_shared_ticket_del(struct tp_shared *sh, const uint8_t *t, size_t len)
{
	struct tp_ticket_ref **pp = ticket_slot(sh, t, len), *r = *pp;

	if (r) {
		*pp = r->next;
		free(r);
	}
}

int tp_shared_ticket_find(struct tp_shared *sh, const uint8_t *t, size_t len, unsigned *worker,
                          uint64_t *user_hash)
{
	struct tp_ticket_ref *r = *ticket_slot(sh, t, len);

	if (!r)
		return -ENOENT;
	*worker = r->worker;
	*user_hash = r->user_hash;
	return 0;
}

/* ---- snapshots ---- */

void tp_shared_publish(struct tp_shared *sh, unsigned worker, const struct tp_stats *st)
{
	pthread_mutex_lock(&sh->snap[worker].mu);
	sh->snap[worker].st = *st;
	pthread_mutex_unlock(&sh->snap[worker].mu);
}

void tp_shared_sum(struct tp_shared *sh, struct tp_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sh->nworkers; i++) {
		pthread_mutex_lock(&sh->snap[i].mu);
		tp_stats_add(out, &sh->snap[i].st);
		pthread_mutex_unlock(&sh->snap[i].mu);
	}
}

/* ---- relay pools ---- */

size_t tp_shared_pools_by_load(struct tp_shared *sh, int family, struct tp_portpool **out,
                               size_t max)
{
	size_t n = 0;
	uint32_t start = tp_rand_uniform((uint32_t)sh->npools);

	/* rotated from a random start, then a stable insertion sort by load:
	 * equal loads keep the random rotation */
	for (size_t k = 0; k < sh->npools && n < max; k++) {
		struct tp_portpool *p = sh->pools[(start + k) % sh->npools];
		size_t j;

		if (p->ip.family != family)
			continue;
		j = n++;
		while (j > 0 && out[j - 1]->nused > p->nused) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = p;
	}
	return n;
}

bool tp_shared_has_family(const struct tp_shared *sh, int family)
{
	for (size_t i = 0; i < sh->npools; i++)
		if (sh->pools[i]->ip.family == family)
			return true;
	return false;
}

enum tp_relay_port tp_shared_relay_port(const struct tp_shared *sh, const struct tp_conf *c,
                                        const struct tp_addr *peer, bool tcp)
{
	enum tp_relay_port r = TP_RELAY_NOT_OURS;

	for (size_t i = 0; i < sh->npools; i++) {
		const struct tp_portpool *p = sh->pools[i];
		struct tp_addr pub;

		if (p->ip.family != peer->family)
			continue;
		tp_conf_public_addr(c, &p->ip, &pub);
		if (!tp_addr_ip_eq(&p->ip, peer) && !tp_addr_ip_eq(&pub, peer))
			continue;
		if (tp_port_live(p, peer->port, tcp))
			return TP_RELAY_LIVE;
		r = TP_RELAY_IDLE;
	}
	return r;
}
