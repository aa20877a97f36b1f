/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * alloc.c - the allocation tables, lifecycle and timer wheel (see alloc.h).
 */
#include <errno.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "alloc.h"
#include "ports.h"
#include "rand.h"
#include "shared.h"
#include "slab.h"

#define TAB_MIN 256
#define WHEEL 4096               /* one-second slots; longer lifetimes go round */
#define GONE 64                  /* remembered Refresh(0) deletions */
#define GONE_SECONDS 30          /* longer than a client's retransmissions (RFC 8489 Rc*Rto) */
#define BIND_TRIES 32            /* ports tried per family when others hold some */

struct gone {
	uint64_t key;                /* keyed hash of the 5-tuple */
	uint8_t tid[TP_STUN_TID_LEN];
	time_t at;
};

struct tp_allocs {
	struct tp_shared *sh;        /* borrowed */
	struct tp_srv *s;            /* borrowed (given to each allocation) */
	unsigned worker;
	const struct tp_alloc_ops *ops;
	void *env;
	struct tp_alloc **tab, **ttab; /* by 5-tuple, by ticket: tab_size buckets each */
	size_t tab_size, n;
	struct tp_alloc *wheel[WHEEL];
	time_t ticked;               /* the last second tick handled */
	struct gone gone[GONE];
	unsigned gone_next;
	uint64_t created, freed;
};

/* ---- keyed hashing ---- */

static uint64_t hash64(const struct tp_allocs *t, const void *b, size_t n)
{
	return tp_shared_hash(t->sh, b, n);
}

static size_t put_addr_key(uint8_t *k, const struct tp_addr *a)
{
	size_t iplen = a->family == AF_INET6 ? 16 : 4;

	k[0] = (uint8_t)a->family;
	k[1] = (uint8_t)(a->port >> 8);
	k[2] = (uint8_t)a->port;
	memcpy(k + 3, a->ip, iplen);
	return 3 + iplen;
}

static uint64_t key_5tuple(const struct tp_allocs *t, const struct tp_5tuple *ft)
{
	uint8_t k[1 + 2 * 19];
	size_t n = 0;

	k[n++] = ft->transport;
	n += put_addr_key(k + n, &ft->client);
	n += put_addr_key(k + n, &ft->local);
	return hash64(t, k, n);
}

static bool ft_eq(const struct tp_5tuple *a, const struct tp_5tuple *b)
{
	return a->transport == b->transport && tp_addr_eq(&a->client, &b->client) &&
	       tp_addr_eq(&a->local, &b->local);
}

/* ---- the tables ---- */

static size_t bucket(const struct tp_allocs *t, uint64_t key)
{
	return (size_t)(key & (t->tab_size - 1));
}

static void tab_insert(struct tp_allocs *t, struct tp_alloc *a)
{
	size_t i = bucket(t, key_5tuple(t, &a->ft));

	a->next = t->tab[i];
	t->tab[i] = a;
}

static void tab_remove(struct tp_allocs *t, struct tp_alloc *a)
{
	for (struct tp_alloc **pp = &t->tab[bucket(t, key_5tuple(t, &a->ft))]; *pp;
	     pp = &(*pp)->next)
		if (*pp == a) {
			*pp = a->next;
			return;
		}
}

static void ttab_insert(struct tp_allocs *t, struct tp_alloc *a)
{
	size_t i = bucket(t, hash64(t, a->ticket, TP_TICKET_LEN));

	a->tnext = t->ttab[i];
	t->ttab[i] = a;
}

static void ttab_remove(struct tp_allocs *t, struct tp_alloc *a)
{
	for (struct tp_alloc **pp = &t->ttab[bucket(t, hash64(t, a->ticket, TP_TICKET_LEN))]; *pp;
	     pp = &(*pp)->tnext)
		if (*pp == a) {
			*pp = a->tnext;
			return;
		}
}

/* Double both tables when they get full (load factor 1); on out of memory
 * keep the old ones: longer chains, still correct. */
static void tab_grow(struct tp_allocs *t)
{
	size_t old = t->tab_size;
	struct tp_alloc **tab = calloc(old * 2, sizeof(*tab));
	struct tp_alloc **ttab = calloc(old * 2, sizeof(*ttab));
	struct tp_alloc **otab = t->tab, **ottab = t->ttab;

	if (!tab || !ttab) {
		free(tab);
		free(ttab);
		return;
	}
	t->tab = tab;
	t->ttab = ttab;
	t->tab_size = old * 2;
	for (size_t i = 0; i < old; i++) {
		for (struct tp_alloc *a = otab[i], *n; a; a = n) {
			n = a->next;
			tab_insert(t, a);
		}
		for (struct tp_alloc *a = ottab[i], *n; a; a = n) {
			n = a->tnext;
			ttab_insert(t, a);
		}
	}
	free(otab);
	free(ottab);
}

static void insert(struct tp_allocs *t, struct tp_alloc *a)
{
	if (t->n >= t->tab_size)
		tab_grow(t);
	tab_insert(t, a);
	if (a->has_ticket)
		ttab_insert(t, a);
	t->n++;
}

/* ---- the timer wheel ---- */

static void wheel_remove(struct tp_alloc *a)
{
	if (!a->wprev)
		return;
	*a->wprev = a->wnext;
	if (a->wnext)
		a->wnext->wprev = a->wprev;
	a->wnext = NULL;
	a->wprev = NULL;
}

static void wheel_insert(struct tp_allocs *t, struct tp_alloc *a)
{
	struct tp_alloc **head = &t->wheel[(size_t)a->expires % WHEEL];

	wheel_remove(a);
	a->wnext = *head;
	if (*head)
		(*head)->wprev = &a->wnext;
	a->wprev = head;
	*head = a;
}

void tp_alloc_set_lifetime(struct tp_alloc *a, uint32_t lifetime, time_t now)
{
	a->expires = now + lifetime;
	wheel_insert(a->t, a);
}

void tp_allocs_tick(struct tp_allocs *t, time_t now)
{
	time_t from = t->ticked + 1;

	if (now < from)
		return;
	if (now - from >= WHEEL)
		from = now - WHEEL + 1;   /* a long stall: every slot once */
	for (time_t sec = from; sec <= now; sec++) {
		struct tp_alloc *a = t->wheel[(size_t)sec % WHEEL], *next;

		for (; a; a = next) {
			next = a->wnext;
			if (a->expires > now)
				continue;     /* a later turn of the wheel */
			a->end = TP_END_EXPIRED;
			tp_alloc_free(a);
		}
	}
	t->ticked = now;
}

/* ---- tables: create, free ---- */

struct tp_allocs *tp_allocs_create(struct tp_shared *sh, struct tp_srv *s, unsigned worker,
                                   const struct tp_alloc_ops *ops, void *env, time_t now)
{
	struct tp_allocs *t;

	pthread_mutex_lock(&sh->mu);
	if (!sh->alloc_slab)
		sh->alloc_slab = tp_slab_create(sizeof(struct tp_alloc));
	pthread_mutex_unlock(&sh->mu);
	if (!sh->alloc_slab)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->sh = sh;
	t->s = s;
	t->worker = worker;
	t->ops = ops;
	t->env = env;
	t->ticked = now;
	t->tab_size = TAB_MIN;
	t->tab = calloc(t->tab_size, sizeof(*t->tab));
	t->ttab = calloc(t->tab_size, sizeof(*t->ttab));
	if (!t->tab || !t->ttab) {
		free(t->tab);
		free(t->ttab);
		free(t);
		return NULL;
	}
	return t;
}

void tp_allocs_free(struct tp_allocs *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->tab_size; i++)
		while (t->tab[i]) {
			t->tab[i]->end = TP_END_SHUTDOWN;
			tp_alloc_free(t->tab[i]);
		}
	free(t->tab);
	free(t->ttab);
	free(t);
}

size_t tp_allocs_count(const struct tp_allocs *t)
{
	return t->n;
}

uint64_t tp_allocs_created(const struct tp_allocs *t)
{
	return t->created;
}

uint64_t tp_allocs_freed(const struct tp_allocs *t)
{
	return t->freed;
}

void tp_allocs_foreach(struct tp_allocs *t, void (*fn)(void *arg, struct tp_alloc *a), void *arg)
{
	for (size_t i = 0; i < t->tab_size; i++)
		for (struct tp_alloc *a = t->tab[i]; a; a = a->next)
			fn(arg, a);
}

/* ---- lookups ---- */

struct tp_alloc *tp_alloc_find(struct tp_allocs *t, const struct tp_5tuple *ft)
{
	for (struct tp_alloc *a = t->tab[bucket(t, key_5tuple(t, ft))]; a; a = a->next)
		if (ft_eq(&a->ft, ft))
			return a;
	return NULL;
}

struct tp_alloc *tp_alloc_find_ticket(struct tp_allocs *t, const uint8_t *ticket, size_t len)
{
	if (len != TP_TICKET_LEN)
		return NULL;
	for (struct tp_alloc *a = t->ttab[bucket(t, hash64(t, ticket, len))]; a; a = a->tnext)
		if (a->has_ticket && sodium_memcmp(a->ticket, ticket, TP_TICKET_LEN) == 0)
			return a;
	return NULL;
}

struct tp_relay *tp_alloc_relay_for(struct tp_alloc *a, const struct tp_addr *peer)
{
	for (int i = 0; i < a->nrelay; i++)
		if (a->relay[i].addr.family == peer->family)
			return &a->relay[i];
	return NULL;
}

bool tp_alloc_has_family(const struct tp_alloc *a, int family)
{
	for (int i = 0; i < a->nrelay; i++)
		if (a->relay[i].addr.family == family)
			return true;
	return false;
}

/* ---- reservations (shared lock held) ---- */

/* Redeem a token: its pool and port (the port stays taken), or 0. */
static uint16_t take_reservation(struct tp_shared *sh, uint64_t token, time_t now,
                                 struct tp_portpool **pool)
{
	for (size_t i = 0; token && i < TP_MAX_RESERVATIONS; i++) {
		struct tp_reservation *r = &sh->resv[i];

		if (r->token != token)
			continue;
		r->token = 0;
		if (r->expires < now) {
			tp_port_release(r->pool, r->port);
			return 0;
		}
		*pool = r->pool;
		return r->port;
	}
	return 0;
}

/* Give the ports of expired reservations back. */
static void sweep_reservations(struct tp_shared *sh, time_t now)
{
	for (size_t i = 0; i < TP_MAX_RESERVATIONS; i++) {
		struct tp_reservation *r = &sh->resv[i];

		if (r->token && r->expires < now) {
			tp_port_release(r->pool, r->port);
			r->token = 0;
		}
	}
}

static int add_reservation(struct tp_shared *sh, struct tp_portpool *pool, uint16_t port,
                           time_t now, uint64_t *token)
{
	for (size_t i = 0; i < TP_MAX_RESERVATIONS; i++) {
		struct tp_reservation *r = &sh->resv[i];

		if (r->token)
			continue;
		do
			tp_rand_buf(&r->token, sizeof(r->token));
		while (!r->token);
		r->port = port;
		r->pool = pool;
		r->expires = now + 30; /* RFC 8656 §7.2: about 30 s */
		*token = r->token;
		return 0;
	}
	return -ENOSPC;
}

/* ---- create ---- */

/* One family's relay endpoint being set up: ports are taken (and counted in
 * the pool) under the lock, bound outside it. */
struct plan {
	int family;
	struct tp_portpool *pools[TP_CONF_MAX_ADDRS];
	size_t npools, k;           /* candidate pools, least used first; current */
	uint16_t port;              /* taken, to be bound (0: none) */
	uint16_t held[BIND_TRIES];  /* taken but in use elsewhere: released at the end */
	struct tp_portpool *held_pool[BIND_TRIES];
	size_t nheld;
	int err;
};

/* Take the next port for p (lock held). 0 or -ENOSPC. */
static int plan_take(struct plan *p, const struct tp_conf *c, const struct tp_alloc_req *r)
{
	for (; p->k < p->npools; p->k++)
		if (tp_port_take(p->pools[p->k], c->min_port, c->max_port, r->even_port,
		                 r->reserve_next, &p->port) == 0)
			return 0;
	p->port = 0;
	return -ENOSPC;
}

/* Give a taken port (and its reserved neighbour) back (lock held). */
static void plan_release(const struct tp_alloc_req *r, struct tp_portpool *pool, uint16_t port)
{
	tp_port_release(pool, port);
	if (r->reserve_next)
		tp_port_release(pool, (uint16_t)(port + 1));
}

/* Quotas, reservation and ports, all under the shared lock. */
static int reserve_locked(struct tp_allocs *t, const struct tp_conf *c,
                          const struct tp_alloc_req *r, time_t now, struct plan plans[2],
                          size_t *nplans, struct tp_alloc *a)
{
	struct tp_shared *sh = t->sh;

	if (c->total_quota && sh->nallocs >= c->total_quota)
		return -EUSERS;
	if (c->user_quota &&
	    tp_shared_user_count(sh, r->quota_user, r->quota_user_len) >= c->user_quota)
		return -EDQUOT;
	sweep_reservations(sh, now);
	*nplans = 0;
	if (r->has_token) {
		struct tp_portpool *pool = NULL;
		uint16_t port = take_reservation(sh, r->token, now, &pool);

		if (!port)
			return -ENOENT; /* RFC 8656 §7.2: "insufficient capacity", 508 */
		plans[0] = (struct plan){ .family = pool->ip.family, .pools = { pool }, .npools = 1,
		                          .port = port };
		*nplans = 1;
	} else {
		int fams[2] = { r->want4 ? AF_INET : 0, r->want6 ? AF_INET6 : 0 };

		for (int f = 0; f < 2; f++) {
			struct plan *p = &plans[*nplans];

			if (!fams[f])
				continue;
			memset(p, 0, sizeof(*p));
			p->family = fams[f];
			p->npools = tp_shared_pools_by_load(sh, fams[f], p->pools, TP_CONF_MAX_ADDRS);
			p->err = p->npools ? plan_take(p, c, r) : -EAFNOSUPPORT;
			(*nplans)++;
		}
	}
	if (!(plans[0].port || (*nplans > 1 && plans[1].port)))
		return 0;  /* nothing to bind: the caller reports the families' errors */
	a->uc = tp_shared_user_get(sh, r->quota_user, r->quota_user_len);
	if (!a->uc) {
		for (size_t i = 0; i < *nplans; i++)
			if (plans[i].port)
				plan_release(r, plans[i].pools[plans[i].k], plans[i].port);
		return -ENOMEM;
	}
	sh->nallocs++;
	return 0;
}

/* Bind each planned endpoint, taking another port (under the lock) while
 * the one taken is in use by another process. */
static void bind_plans(struct tp_allocs *t, const struct tp_conf *c, const struct tp_alloc_req *r,
                       struct plan *plans, size_t nplans, struct tp_alloc *a)
{
	for (size_t i = 0; i < nplans; i++) {
		struct plan *p = &plans[i];

		while (p->port) {
			struct tp_relay *rl = &a->relay[a->nrelay];
			struct tp_portpool *pool = p->pools[p->k];
			int rc;

			rl->addr = pool->ip;
			rl->addr.port = p->port;
			rl->pool = pool;
			rl->io = NULL;
			rc = t->ops->relay_open(t->env, a, a->nrelay, &rl->addr);
			if (rc == 0) {
				tp_port_set_live(pool, p->port, r->tcp, true);
				a->nrelay++;
				break;
			}
			pthread_mutex_lock(&t->sh->mu);
			if (rc == -EADDRINUSE && p->nheld < BIND_TRIES && !r->has_token) {
				p->held[p->nheld] = p->port;
				p->held_pool[p->nheld++] = pool;
				p->err = plan_take(p, c, r);
			} else {
				plan_release(r, pool, p->port);
				p->port = 0;
				p->err = -ENOSPC;
			}
			pthread_mutex_unlock(&t->sh->mu);
		}
	}
}

/* After binding (lock held): ports that were in use elsewhere go back, the
 * reserved neighbours of bound ports become reservations. */
static void settle_locked(struct tp_allocs *t, const struct tp_alloc_req *r, time_t now,
                          struct plan *plans, size_t nplans, struct tp_alloc_res *res)
{
	for (size_t i = 0; i < nplans; i++) {
		struct plan *p = &plans[i];

		for (size_t h = 0; h < p->nheld; h++)
			plan_release(r, p->held_pool[h], p->held[h]);
		if (!p->port || !r->reserve_next)
			continue;
		if (add_reservation(t->sh, p->pools[p->k], (uint16_t)(p->port + 1), now,
		                    &res->token) == 0)
			res->reserved = true;
		else
			tp_port_release(p->pools[p->k], (uint16_t)(p->port + 1));
	}
}

int tp_alloc_create(struct tp_allocs *t, const struct tp_conf *c, const struct tp_alloc_req *r,
                    time_t now, struct tp_alloc **out, struct tp_alloc_res *res)
{
	struct tp_shared *sh = t->sh;
	struct plan plans[2];
	size_t nplans = 0;
	struct tp_alloc *a;
	int rc;

	memset(res, 0, sizeof(*res));
	a = tp_slab_alloc(sh->alloc_slab);
	if (!a)
		return -ENOMEM;
	a->user = strndup(r->user, r->user_len);
	if (!a->user) {
		tp_slab_free(sh->alloc_slab, a);
		return -ENOMEM;
	}
	a->t = t;
	a->s = t->s;
	a->sink = r->sink;
	a->ft = *r->ft;
	a->mapped = r->ft->client;
	a->created = now;
	a->is_tcp = r->tcp;
	tp_rand_buf(&a->id, sizeof(a->id));
	memcpy(a->alloc_tid, r->tid, TP_STUN_TID_LEN);
	tp_perms_init(&a->perms);
	tp_chans_init(&a->chans);

	pthread_mutex_lock(&sh->mu);
	rc = reserve_locked(t, c, r, now, plans, &nplans, a);
	pthread_mutex_unlock(&sh->mu);
	if (rc == 0 && a->uc)
		bind_plans(t, c, r, plans, nplans, a);
	pthread_mutex_lock(&sh->mu);
	if (a->uc)
		settle_locked(t, r, now, plans, nplans, res);
	if (a->uc && a->nrelay == 0) {
		tp_shared_user_put(sh, a->uc);
		sh->nallocs--;
		a->uc = NULL;
	}
	if (a->nrelay && r->mobility) {
		a->has_ticket = true;
		tp_rand_buf(a->ticket, TP_TICKET_LEN);
		tp_shared_ticket_add(sh, a->ticket, TP_TICKET_LEN, t->worker,
		                     tp_shared_hash(sh, a->user, strlen(a->user)));
	}
	pthread_mutex_unlock(&sh->mu);

	for (size_t i = 0; i < nplans; i++) {
		int *e = plans[i].family == AF_INET6 ? &res->err6 : &res->err4;

		*e = plans[i].port ? 0 : plans[i].err ? plans[i].err : -ENOSPC;
	}
	if (rc == 0 && a->nrelay == 0)
		rc = r->has_token ? -ENOSPC : (r->want4 ? res->err4 : res->err6);
	if (rc) {
		free(a->user);
		tp_slab_free(sh->alloc_slab, a);
		return rc;
	}
	insert(t, a);
	tp_alloc_set_lifetime(a, r->lifetime, now);
	t->created++;
	*out = a;
	return 0;
}

/* ---- free, move ---- */

void tp_alloc_free(struct tp_alloc *a)
{
	struct tp_allocs *t = a->t;
	struct tp_shared *sh = t->sh;

	if (t->ops->released)
		t->ops->released(t->env, a);
	if (a->sink && a->sink->alloc_gone)
		a->sink->alloc_gone(a->sink);
	tab_remove(t, a);
	if (a->has_ticket)
		ttab_remove(t, a);
	wheel_remove(a);
	t->n--;
	t->freed++;
	for (int i = 0; i < a->nrelay; i++) {
		tp_port_set_live(a->relay[i].pool, a->relay[i].addr.port, a->is_tcp, false);
		t->ops->relay_close(t->env, a, (unsigned)i);
	}
	pthread_mutex_lock(&sh->mu);
	for (int i = 0; i < a->nrelay; i++)
		tp_port_release(a->relay[i].pool, a->relay[i].addr.port);
	if (a->has_ticket)
		tp_shared_ticket_del(sh, a->ticket, TP_TICKET_LEN);
	tp_shared_user_put(sh, a->uc);
	sh->nallocs--;
	pthread_mutex_unlock(&sh->mu);
	tp_perms_free(&a->perms);
	tp_chans_free(&a->chans);
	free(a->user);
	tp_slab_free(sh->alloc_slab, a);
}

void tp_alloc_new_ticket(struct tp_alloc *a)
{
	struct tp_allocs *t = a->t;
	struct tp_shared *sh = t->sh;

	if (a->has_ticket)
		ttab_remove(t, a);
	pthread_mutex_lock(&sh->mu);
	if (a->has_ticket)
		tp_shared_ticket_del(sh, a->ticket, TP_TICKET_LEN);
	tp_rand_buf(a->ticket, TP_TICKET_LEN);
	a->has_ticket = true;
	tp_shared_ticket_add(sh, a->ticket, TP_TICKET_LEN, t->worker,
	                     tp_shared_hash(sh, a->user, strlen(a->user)));
	pthread_mutex_unlock(&sh->mu);
	ttab_insert(t, a);
}

void tp_alloc_move(struct tp_alloc *a, const struct tp_5tuple *ft, struct tp_sink *sink)
{
	if (a->t->ops->moved)
		a->t->ops->moved(a->t->env, a);
	if (a->sink && a->sink != sink && a->sink->alloc_gone)
		a->sink->alloc_gone(a->sink);
	tab_remove(a->t, a);
	a->ft = *ft;
	a->sink = sink;
	tab_insert(a->t, a);
}

void tp_alloc_detach(struct tp_alloc *a)
{
	struct tp_allocs *t = a->t;

	if (t->ops->moved)
		t->ops->moved(t->env, a);
	tab_remove(t, a);
	if (a->has_ticket)
		ttab_remove(t, a);
	wheel_remove(a);
	t->n--;
	for (int i = 0; i < a->nrelay; i++)
		t->ops->relay_move(t->env, a, (unsigned)i, false);
	a->t = NULL;
}

void tp_alloc_adopt(struct tp_allocs *t, struct tp_alloc *a, const struct tp_5tuple *ft,
                    struct tp_sink *sink, time_t now)
{
	a->t = t;
	a->s = t->s;
	a->ft = *ft;
	a->sink = sink;
	bool ticket = a->has_ticket;

	for (int i = 0; i < a->nrelay; i++)
		t->ops->relay_move(t->env, a, (unsigned)i, true);
	a->has_ticket = false;      /* the old ticket is not indexed here ... */
	insert(t, a);
	a->has_ticket = ticket;     /* ... and is replaced in the shared map below */
	a->expires = a->expires > now ? a->expires : now + 1;
	wheel_insert(t, a);
	tp_alloc_new_ticket(a);     /* the used ticket cannot be replayed */
}

/* ---- Refresh(0) replay ---- */

void tp_allocs_remember_deleted(struct tp_allocs *t, const struct tp_5tuple *ft,
                                const uint8_t *tid, time_t now)
{
	struct gone *g = &t->gone[t->gone_next++ % GONE];

	g->key = key_5tuple(t, ft);
	memcpy(g->tid, tid, TP_STUN_TID_LEN);
	g->at = now;
}

bool tp_allocs_recently_deleted(struct tp_allocs *t, const struct tp_5tuple *ft,
                                const uint8_t *tid, time_t now)
{
	uint64_t key = key_5tuple(t, ft);

	for (size_t i = 0; i < GONE; i++) {
		const struct gone *g = &t->gone[i];

		if (g->at && now - g->at <= GONE_SECONDS && g->key == key &&
		    memcmp(g->tid, tid, TP_STUN_TID_LEN) == 0)
			return true;
	}
	return false;
}

const char *tp_alloc_end_str(uint8_t end)
{
	static const char *names[] = { "connection closed", "expired", "deleted by client",
		                        "killed by an operator", "server stopped",
		                        "refused by the cluster's user-quota" };

	return end < sizeof(names) / sizeof(names[0]) ? names[end] : "?";
}

bool tp_alloc_bw_take(struct tp_alloc *a, const struct tp_conf *c, unsigned dir, size_t n,
                      uint64_t now_ms)
{
	if (dir > 1)
		return false;
	if (!tp_tb_take(&a->bw[dir], c->max_bps, n, now_ms))
		return false;
	/* user-max-bps is one budget for all of the user's allocations; within
	 * its fair share (an equal part) an allocation takes from it freely,
	 * past it only from the half that others leave unused, so one busy
	 * allocation cannot starve the user's others */
	bool fair = true;

	if (c->user_max_bps) {
		uint32_t k = tp_shared_user_allocs(a->uc);

		fair = tp_tb_take(&a->ushare[dir], c->user_max_bps / (k ? k : 1), n, now_ms);
	}
	if (!tp_shared_user_take(a->uc, dir, c->user_max_bps, n, now_ms, !fair)) {
		if (c->max_bps)
			a->bw[dir].mtokens += (int64_t)n * 1000; /* not relayed after all */
		return false;
	}
	return true;
}

void tp_alloc_logctx(const struct tp_alloc *a, struct tp_logctx *ctx)
{
	static const char *names[] = { "?", "udp", "tcp", "tls", "dtls" };

	ctx->transport = names[a->ft.transport < 5 ? a->ft.transport : 0];
	ctx->client = &a->ft.client;
	ctx->relay = a->nrelay ? &a->relay[0].addr : NULL;
	ctx->user = a->user;
	ctx->user_len = 0;
}

/* ---- consistency (tests, the request fuzzer) ---- */

static const char *check_one(struct tp_allocs *t, const struct tp_alloc *a)
{
	const char *why;
	unsigned owner;
	uint64_t uh;

	if (a->t != t)
		return "allocation of another table";
	if (tp_alloc_find(t, &a->ft) != a)
		return "allocation not found by its 5-tuple (duplicate 5-tuple?)";
	if (!a->user || !a->uc)
		return "allocation without a user or its count";
	if (a->nrelay < 1 || a->nrelay > 2)
		return "allocation with no or too many relay endpoints";
	for (int i = 0; i < a->nrelay; i++) {
		const struct tp_relay *rl = &a->relay[i];

		if (!rl->pool || !tp_port_used(rl->pool, rl->addr.port))
			return "relay endpoint's port not taken in its pool";
		if (!tp_port_live(rl->pool, rl->addr.port, a->is_tcp))
			return "relay endpoint's port not live";
		if (!tp_addr_ip_eq(&rl->pool->ip, &rl->addr))
			return "relay endpoint not on its pool's address";
	}
	if (a->nrelay == 2 && a->relay[0].addr.family == a->relay[1].addr.family)
		return "two relay endpoints of one family";
	if (a->has_ticket) {
		if (tp_alloc_find_ticket(t, a->ticket, TP_TICKET_LEN) != a)
			return "ticket not found in the ticket table";
		if (tp_shared_ticket_find(t->sh, a->ticket, TP_TICKET_LEN, &owner, &uh) != 0 ||
		    owner != t->worker)
			return "ticket not in the shared map under this worker";
	}
	if (!a->wprev || *a->wprev != a)
		return "allocation not linked into the timer wheel";
	if ((why = tp_perms_check(&a->perms)) != NULL)
		return why;
	return tp_chans_check(&a->chans);
}

const char *tp_allocs_check(struct tp_allocs *t)
{
	const char *why = NULL;
	size_t n = 0, nticket = 0, nwheel = 0;

	if (t->tab_size < TAB_MIN || (t->tab_size & (t->tab_size - 1)))
		return "table size not a power of two";
	pthread_mutex_lock(&t->sh->mu);
	for (size_t i = 0; i < t->tab_size && !why; i++)
		for (struct tp_alloc *a = t->tab[i]; a && !why; a = a->next) {
			n++;
			if (n > t->n)
				why = "more allocations in the table than counted (a loop?)";
			else if (bucket(t, key_5tuple(t, &a->ft)) != i)
				why = "allocation in the wrong bucket";
			else
				why = check_one(t, a);
		}
	pthread_mutex_unlock(&t->sh->mu);
	if (why)
		return why;
	if (n != t->n)
		return "count differs from the allocations in the table";
	for (size_t i = 0; i < t->tab_size; i++)
		for (struct tp_alloc *a = t->ttab[i]; a; a = a->tnext) {
			if (++nticket > t->n)
				return "more allocations in the ticket table than in all";
			if (!a->has_ticket || a->t != t)
				return "ticket table holds an allocation without a ticket";
			if (bucket(t, hash64(t, a->ticket, TP_TICKET_LEN)) != i)
				return "ticket in the wrong bucket";
		}
	for (size_t i = 0; i < t->tab_size; i++)
		for (struct tp_alloc *a = t->tab[i]; a; a = a->next)
			nticket -= a->has_ticket;
	if (nticket != 0)
		return "ticket table and tickets differ";
	for (size_t s = 0; s < WHEEL; s++)
		for (struct tp_alloc *a = t->wheel[s], **pp = &t->wheel[s]; a;
		     pp = &a->wnext, a = a->wnext) {
			if (++nwheel > t->n)
				return "more allocations on the wheel than in the table";
			if (a->wprev != pp)
				return "wheel back link broken";
			if ((size_t)a->expires % WHEEL != s)
				return "allocation in the wrong wheel slot";
			if (a->t != t)
				return "wheel holds an allocation of another table";
		}
	if (nwheel != t->n)
		return "wheel and table differ";
	return NULL;
}
