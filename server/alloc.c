/*
 * alloc.c - allocation objects and their tables, permissions, channels.
 *
 * The relay sockets and the peer-to-client data path are in relay_udp.c.
 */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "alloc.h"
#include "shared.h"
#include "ports.h"
#include "relay.h"
#include "relay_tcp.h"
#include "slab.h"

/* ---- keyed hashing ---- */

static uint64_t hash64(const struct tp_srv *s, const void *b, size_t n)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, b, n, s->sh->hash_key);
	memcpy(&v, h, sizeof(v));
	return v;
}

/* A bucket of a power-of-two table. */
static size_t hash_bytes(const struct tp_srv *s, const void *b, size_t n, size_t size)
{
	return (size_t)(hash64(s, b, n) & (size - 1));
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

uint64_t tp_5tuple_key(const struct tp_srv *s, const struct tp_5tuple *ft)
{
	uint8_t k[1 + 2 * 19];
	size_t n = 0;

	k[n++] = ft->transport;
	n += put_addr_key(k + n, &ft->client);
	n += put_addr_key(k + n, &ft->local);
	return hash64(s, k, n);
}

static size_t hash_5tuple(const struct tp_srv *s, const struct tp_5tuple *ft, size_t size)
{
	return (size_t)(tp_5tuple_key(s, ft) & (size - 1));
}

static bool ft_eq(const struct tp_5tuple *a, const struct tp_5tuple *b)
{
	return a->transport == b->transport && tp_addr_eq(&a->client, &b->client) &&
	       tp_addr_eq(&a->local, &b->local);
}

/* ---- tables ---- */

#define TP_TAB_MIN 256

int tp_alloc_tables_init(struct tp_srv *s)
{
	s->tab_size = TP_TAB_MIN;
	s->tab = calloc(s->tab_size, sizeof(*s->tab));
	s->ttab = calloc(s->tab_size, sizeof(*s->ttab));
	if (!s->tab || !s->ttab)
		return -ENOMEM;
	return 0;
}

void tp_alloc_tables_free(struct tp_srv *s)
{
	tp_alloc_free_all(s);
	free(s->tab);
	free(s->ttab);
	s->tab = s->ttab = NULL;
}

static void tab_insert(struct tp_srv *s, struct tp_alloc *a)
{
	size_t i = hash_5tuple(s, &a->ft, s->tab_size);

	a->next = s->tab[i];
	s->tab[i] = a;
}

static void tab_remove(struct tp_srv *s, struct tp_alloc *a)
{
	struct tp_alloc **pp = &s->tab[hash_5tuple(s, &a->ft, s->tab_size)];

	for (; *pp; pp = &(*pp)->next)
		if (*pp == a) {
			*pp = a->next;
			return;
		}
}

static void ttab_insert(struct tp_srv *s, struct tp_alloc *a)
{
	size_t i = hash_bytes(s, a->ticket, TP_TICKET_LEN, s->tab_size);

	a->tnext = s->ttab[i];
	s->ttab[i] = a;
}

static void ttab_remove(struct tp_srv *s, struct tp_alloc *a)
{
	struct tp_alloc **pp = &s->ttab[hash_bytes(s, a->ticket, TP_TICKET_LEN, s->tab_size)];

	for (; *pp; pp = &(*pp)->tnext)
		if (*pp == a) {
			*pp = a->tnext;
			return;
		}
}

/* Double both allocation tables when they get full (load factor 1). */
static void tab_grow(struct tp_srv *s)
{
	size_t old = s->tab_size, size = old * 2;
	struct tp_alloc **tab = calloc(size, sizeof(*tab));
	struct tp_alloc **ttab = calloc(size, sizeof(*ttab));
	struct tp_alloc **otab = s->tab, **ottab = s->ttab;

	if (!tab || !ttab) {
		free(tab);
		free(ttab);
		return; /* keep the old tables: longer chains, still correct */
	}
	s->tab = tab;
	s->ttab = ttab;
	s->tab_size = size;
	for (size_t i = 0; i < old; i++) {
		for (struct tp_alloc *a = otab[i], *n; a; a = n) {
			n = a->next;
			tab_insert(s, a);
		}
		for (struct tp_alloc *a = ottab[i], *n; a; a = n) {
			n = a->tnext;
			ttab_insert(s, a);
		}
	}
	free(otab);
	free(ottab);
}

struct tp_alloc *tp_alloc_find(struct tp_srv *s, const struct tp_5tuple *ft)
{
	for (struct tp_alloc *a = s->tab[hash_5tuple(s, ft, s->tab_size)]; a; a = a->next)
		if (ft_eq(&a->ft, ft))
			return a;
	return NULL;
}

struct tp_alloc *tp_alloc_find_ticket(struct tp_srv *s, const uint8_t *t, size_t len)
{
	if (len != TP_TICKET_LEN)
		return NULL;
	for (struct tp_alloc *a = s->ttab[hash_bytes(s, t, len, s->tab_size)]; a; a = a->tnext)
		if (a->has_ticket && sodium_memcmp(a->ticket, t, TP_TICKET_LEN) == 0)
			return a;
	return NULL;
}

uint32_t tp_alloc_user_count(struct tp_srv *s, const char *user, size_t len)
{
	uint32_t n;

	pthread_mutex_lock(&s->sh->mu);
	n = tp_shared_user_count(s->sh, user, len);
	pthread_mutex_unlock(&s->sh->mu);
	return n;
}

/* The shared ticket map says which worker owns a mobile allocation. */
static void publish_ticket(struct tp_alloc *a)
{
	struct tp_srv *s = a->s;

	pthread_mutex_lock(&s->sh->mu);
	tp_shared_ticket_add(s->sh, a->ticket, TP_TICKET_LEN, s->worker,
	                     tp_shared_hash(s->sh, a->user, strlen(a->user)));
	pthread_mutex_unlock(&s->sh->mu);
}

static void unpublish_ticket(struct tp_alloc *a)
{
	pthread_mutex_lock(&a->s->sh->mu);
	tp_shared_ticket_del(a->s->sh, a->ticket, TP_TICKET_LEN);
	pthread_mutex_unlock(&a->s->sh->mu);
}

/* ---- lifecycle ---- */

static void expired_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct tp_alloc *a = arg;
	struct tp_logctx ctx;

	(void)fd;
	(void)ev;
	tp_alloc_logctx(a, &ctx);
	tp_info(&ctx, "turn: allocation expired (%llu pkts out, %llu in, %u send errors)",
	        (unsigned long long)a->tx_pkts, (unsigned long long)a->rx_pkts, a->send_errors);
	tp_alloc_free(a);
}

void tp_alloc_set_lifetime(struct tp_alloc *a, uint32_t lifetime)
{
	struct timeval tv = { .tv_sec = lifetime, .tv_usec = 0 };

	a->expires = tp_now(a->s) + lifetime;
	evtimer_add(&a->timer, &tv);
}

/* Find a reservation by token; returns its port and pool (and consumes it) or 0. */
static uint16_t take_reservation(struct tp_srv *s, uint64_t token, struct tp_portpool **pool)
{
	time_t now = tp_now(s);

	for (size_t i = 0; i < TP_MAX_RESERVATIONS; i++) {
		struct tp_reservation *r = &s->sh->resv[i];

		if (r->token != token || !token)
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

/* Release reservations whose time is up, giving their ports back. */
static void sweep_reservations(struct tp_srv *s)
{
	time_t now = tp_now(s);

	for (size_t i = 0; i < TP_MAX_RESERVATIONS; i++) {
		struct tp_reservation *r = &s->sh->resv[i];

		if (!r->token || r->expires >= now)
			continue;
		tp_port_release(r->pool, r->port);
		r->token = 0;
	}
}

static int add_reservation(struct tp_srv *s, struct tp_portpool *pool, uint16_t port,
                           uint64_t *token)
{
	for (size_t i = 0; i < TP_MAX_RESERVATIONS; i++) {
		struct tp_reservation *r = &s->sh->resv[i];

		if (r->token)
			continue;
		do
			randombytes_buf(&r->token, sizeof(r->token));
		while (!r->token);
		r->port = port;
		r->pool = pool;
		r->expires = tp_now(s) + 30; /* RFC 8656 §7.2: about 30 s */
		*token = r->token;
		return 0;
	}
	return -ENOSPC;
}

/* One relay endpoint: a UDP socket, or a TCP listener for RFC 6062. */
static int open_one(struct tp_alloc *a, const struct tp_alloc_req *r, struct tp_portpool *pool,
                    uint16_t port)
{
	struct tp_relay *rl = &a->relay[a->nrelay];
	int rc;

	if (r->tcp) {
		struct tp_addr addr = pool->ip;

		addr.port = port;
		rc = tp_tcp_relay_open(a, &addr);
		if (rc == 0) {
			rl->a = a;
			rl->addr = addr;
			rl->fd = -1;
		}
	} else {
		rc = tp_relay_open(a, rl, &pool->ip, port);
	}
	if (rc == 0) {
		rl->pool = pool;
		tp_port_set_live(pool, port, r->tcp, true);
		a->nrelay++;
	}
	return rc;
}

/* Close relay endpoint i; its port stays taken until release_one. */
static void unbind_one(struct tp_alloc *a, int i)
{
	struct tp_relay *rl = &a->relay[i];

	tp_port_set_live(rl->pool, rl->addr.port, a->tcp != NULL, false);
	if (i == 0)
		tp_tcp_relay_close(a);
	tp_relay_close(rl);
}

/* Give relay endpoint i's port back (shared lock held). */
static void release_one(struct tp_alloc *a, int i)
{
	tp_port_release(a->relay[i].pool, a->relay[i].addr.port);
}

/*
 * Open the relay socket of one family. With a reserved port, bind exactly it;
 * otherwise take ports until one binds (another process may hold some), at
 * most a few dozen tries, from the least used relay address of the family
 * first, then the next.
 */
static int open_family(struct tp_srv *s, struct tp_alloc *a, const struct tp_alloc_req *r,
                       int family, struct tp_alloc_res *res)
{
	const struct tp_conf *c = s->conf;
	struct tp_portpool *pools[TP_CONF_MAX_ADDRS];
	size_t npools = tp_shared_pools_by_load(s->sh, family, pools, TP_CONF_MAX_ADDRS);
	uint16_t failed[32];
	size_t nfailed = 0;
	int rc = -ENOSPC;

	if (npools == 0)
		return 440;
	for (size_t k = 0; k < npools && rc != 0; k++) {
		struct tp_portpool *pool = pools[k];

		nfailed = 0;
		while (nfailed < sizeof(failed) / sizeof(failed[0])) {
			uint16_t port;

			if (tp_port_take(pool, c->min_port, c->max_port, r->even_port,
			                 r->reserve_next, &port) != 0) {
				rc = -ENOSPC;
				break;
			}
			rc = open_one(a, r, pool, port);
			if (rc == 0) {
				if (r->reserve_next) {
					if (add_reservation(s, pool, (uint16_t)(port + 1),
					                    &res->token) == 0)
						res->reserved = true;
					else
						tp_port_release(pool, (uint16_t)(port + 1));
				}
				break;
			}
			failed[nfailed++] = port;
			if (r->reserve_next)
				tp_port_release(pool, (uint16_t)(port + 1));
			if (rc != -EADDRINUSE)
				break;
		}
		for (size_t i = 0; i < nfailed; i++)
			tp_port_release(pool, failed[i]);
	}
	return rc == 0 ? 0 : 508;
}

/* With the shared lock held: quotas, ports, reservations and counts are
 * shared by the workers. */
static int create_locked(struct tp_srv *s, const struct tp_alloc_req *r, struct tp_alloc **out,
                         struct tp_alloc_res *res)
{
	const struct tp_conf *c = s->conf;
	struct tp_shared *sh = s->sh;
	struct tp_alloc *a;
	uint16_t reserved = 0;
	struct tp_portpool *rpool = NULL;

	memset(res, 0, sizeof(*res));
	if (c->total_quota && sh->nallocs >= c->total_quota)
		return 486;
	if (c->user_quota &&
	    tp_shared_user_count(sh, r->quota_user, r->quota_user_len) >= c->user_quota)
		return 486;
	sweep_reservations(s);
	if (r->has_token) {
		reserved = take_reservation(s, r->token, &rpool);
		if (!reserved)
			return 508; /* RFC 8656 §7.2: an unknown token is "insufficient capacity" */
	}

	a = tp_slab_alloc(sh->alloc_slab);
	if (!a)
		return 508;
	a->s = s;
	a->sink = r->sink;
	a->ft = *r->ft;
	a->mapped = r->ft->client;
	a->created = tp_now(s);
	memcpy(a->alloc_tid, r->tid, TP_STUN_TID_LEN);
	for (int i = 0; i < 2; i++)
		a->relay[i].fd = -1;
	a->user = strndup(r->user, r->user_len);
	if (!a->user)
		goto fail;

	if (reserved) {
		if (open_one(a, r, rpool, reserved) != 0) {
			tp_port_release(rpool, reserved);
			goto fail;
		}
	} else {
		if (r->want4)
			res->err4 = (uint16_t)open_family(s, a, r, AF_INET, res);
		if (r->want6)
			res->err6 = (uint16_t)open_family(s, a, r, AF_INET6, res);
		if (a->nrelay == 0) {
			int e = r->want4 ? res->err4 : res->err6;

			free(a->user);
			tp_slab_free(sh->alloc_slab, a);
			return e ? e : 508;
		}
	}

	a->uc = tp_shared_user_get(sh, r->quota_user, r->quota_user_len);
	if (!a->uc)
		goto fail;
	evtimer_assign(&a->timer, s->base, expired_cb, a);
	tp_alloc_set_lifetime(a, r->lifetime);
	if (s->nallocs >= s->tab_size)
		tab_grow(s);
	tab_insert(s, a);
	if (r->mobility) {
		a->has_ticket = true;
		randombytes_buf(a->ticket, TP_TICKET_LEN);
		ttab_insert(s, a);
		tp_shared_ticket_add(sh, a->ticket, TP_TICKET_LEN, s->worker,
		                     tp_shared_hash(sh, a->user, strlen(a->user)));
	}
	s->nallocs++;
	sh->nallocs++;
	s->stats.allocs_created++;
	s->stats.allocs_live = s->nallocs;
	*out = a;
	return 0;

fail:
	for (int i = 0; i < a->nrelay; i++) {
		unbind_one(a, i);
		release_one(a, i);
	}
	tp_shared_user_put(sh, a->uc);
	free(a->user);
	tp_slab_free(sh->alloc_slab, a);
	return 508;
}

int tp_alloc_create(struct tp_srv *s, const struct tp_alloc_req *r, struct tp_alloc **out,
                    struct tp_alloc_res *res)
{
	int rc;

	pthread_mutex_lock(&s->sh->mu);
	rc = create_locked(s, r, out, res);
	pthread_mutex_unlock(&s->sh->mu);
	return rc;
}

void tp_alloc_free(struct tp_alloc *a)
{
	struct tp_srv *s = a->s;

	if (a->sink && a->sink->alloc_gone)
		a->sink->alloc_gone(a->sink);
	tab_remove(s, a);
	if (a->has_ticket)
		ttab_remove(s, a);
	evtimer_del(&a->timer);
	for (int i = 0; i < a->nrelay; i++)
		unbind_one(a, i);
	pthread_mutex_lock(&s->sh->mu);
	for (int i = 0; i < a->nrelay; i++)
		release_one(a, i);
	if (a->has_ticket)
		tp_shared_ticket_del(s->sh, a->ticket, TP_TICKET_LEN);
	tp_shared_user_put(s->sh, a->uc);
	s->sh->nallocs--;
	pthread_mutex_unlock(&s->sh->mu);
	free(a->perms);
	free(a->chans);
	free(a->user);
	tp_slab_free(s->sh->alloc_slab, a);
	s->nallocs--;
	s->stats.allocs_deleted++;
	s->stats.allocs_live = s->nallocs;
	/* give freed memory back to the system after mass releases: when the last
	 * allocation goes, and every 1024 releases */
	if (s->nallocs == 0 || (s->stats.allocs_deleted & 1023) == 0)
		malloc_trim(0);
}

void tp_alloc_free_all(struct tp_srv *s)
{
	if (!s->tab)
		return;
	for (size_t i = 0; i < s->tab_size; i++)
		while (s->tab[i])
			tp_alloc_free(s->tab[i]);
}

void tp_alloc_new_ticket(struct tp_alloc *a)
{
	if (a->has_ticket) {
		ttab_remove(a->s, a);
		unpublish_ticket(a);
	}
	randombytes_buf(a->ticket, TP_TICKET_LEN);
	a->has_ticket = true;
	ttab_insert(a->s, a);
	publish_ticket(a);
}

/*
 * Mobility across workers: the owner detaches the allocation from its loop
 * (tables, timer, relay socket events; queued datagrams leave first), the
 * worker that got the client's new 5-tuple adopts it onto its own loop.
 */
void tp_alloc_detach(struct tp_alloc *a)
{
	struct tp_srv *s = a->s;

	tp_relay_flush(s);
	tab_remove(s, a);
	if (a->has_ticket)
		ttab_remove(s, a);
	evtimer_del(&a->timer);
	for (int i = 0; i < a->nrelay; i++)
		if (a->relay[i].fd >= 0)
			event_del(&a->relay[i].ev);
	s->nallocs--;
	s->stats.allocs_live = s->nallocs;
}

void tp_alloc_adopt(struct tp_srv *s, struct tp_alloc *a, const struct tp_5tuple *ft,
                    struct tp_sink *sink)
{
	a->s = s;
	a->ft = *ft;
	a->sink = sink;
	for (int i = 0; i < a->nrelay; i++)
		if (a->relay[i].fd >= 0)
			tp_relay_rearm(&a->relay[i]);
	evtimer_assign(&a->timer, s->base, expired_cb, a);
	tp_alloc_set_lifetime(a, a->expires > tp_now(s) ? (uint32_t)(a->expires - tp_now(s)) : 1);
	if (s->nallocs >= s->tab_size)
		tab_grow(s);
	tab_insert(s, a);
	s->nallocs++;
	s->stats.allocs_live = s->nallocs;
	tp_alloc_new_ticket(a); /* the used ticket cannot be replayed */
}

void tp_alloc_move(struct tp_alloc *a, const struct tp_5tuple *ft, struct tp_sink *sink)
{
	if (a->sink && a->sink != sink && a->sink->alloc_gone)
		a->sink->alloc_gone(a->sink);
	tab_remove(a->s, a);
	a->ft = *ft;
	a->sink = sink;
	tab_insert(a->s, a);
}

/* ---- permissions ---- */

/*
 * Grow an entry table of *cap entries of size sz to hold one more, doubling
 * but never past max entries, with the size computed without overflow.
 * 0 or -ENOMEM (the table is untouched then).
 */
static int grow(void **tab, uint32_t *cap, size_t sz, uint32_t max)
{
	uint32_t want = *cap ? (*cap > max / 2 ? max : *cap * 2) : (max < 4 ? max : 4);
	void *p;

	if (want <= *cap || want > SIZE_MAX / sz)
		return -ENOMEM;
	p = realloc(*tab, (size_t)want * sz);
	if (!p)
		return -ENOMEM;
	*tab = p;
	*cap = want;
	return 0;
}

static void perms_compact(struct tp_alloc *a, time_t now)
{
	uint32_t j = 0;

	for (uint32_t i = 0; i < a->nperms; i++)
		if (a->perms[i].expires > now)
			a->perms[j++] = a->perms[i];
	a->nperms = j;
}

int tp_perm_install(struct tp_alloc *a, const struct tp_addr *peer)
{
	time_t now = tp_now(a->s);

	for (uint32_t i = 0; i < a->nperms; i++)
		if (tp_addr_ip_eq(&a->perms[i].ip, peer)) {
			a->perms[i].expires = now + TP_PERM_LIFETIME;
			return 0;
		}
	perms_compact(a, now);
	if (a->nperms >= a->s->conf->max_permissions)
		return 508;
	if (a->nperms == a->cap_perms &&
	    grow((void **)&a->perms, &a->cap_perms, sizeof(*a->perms),
	         a->s->conf->max_permissions) != 0)
		return 508;
	a->perms[a->nperms].ip = *peer;
	a->perms[a->nperms].ip.port = 0;
	a->perms[a->nperms].expires = now + TP_PERM_LIFETIME;
	a->nperms++;
	return 0;
}

bool tp_perm_ok(struct tp_alloc *a, const struct tp_addr *peer)
{
	time_t now = tp_now(a->s);

	for (uint32_t i = 0; i < a->nperms; i++)
		if (tp_addr_ip_eq(&a->perms[i].ip, peer))
			return a->perms[i].expires > now;
	return false;
}

/* ---- channels ---- */

int tp_chan_bind(struct tp_alloc *a, uint16_t num, const struct tp_addr *peer, bool self_relay)
{
	time_t now = tp_now(a->s);
	struct tp_chan *same = NULL;

	/* An entry stays (in quarantine) for 5 minutes after it expires: during that
	 * time neither its number nor its peer may be bound to anything else. */
	uint32_t j = 0;

	for (uint32_t i = 0; i < a->nchans; i++)
		if (a->chans[i].expires + TP_CHAN_QUARANTINE > now)
			a->chans[j++] = a->chans[i];
	a->nchans = j;

	for (uint32_t i = 0; i < a->nchans; i++) {
		struct tp_chan *ch = &a->chans[i];
		bool num_eq = ch->num == num, peer_eq = tp_addr_eq(&ch->peer, peer);

		if (num_eq && peer_eq)
			same = ch;
		else if (num_eq || peer_eq)
			return 400;
	}
	if (same) {
		same->expires = now + TP_CHAN_LIFETIME;
		return 0;
	}
	if (a->nchans >= a->s->conf->max_channels)
		return 508;
	if (a->nchans == a->cap_chans &&
	    grow((void **)&a->chans, &a->cap_chans, sizeof(*a->chans), a->s->conf->max_channels) != 0)
		return 508;
	a->chans[a->nchans].num = num;
	a->chans[a->nchans].peer = *peer;
	a->chans[a->nchans].expires = now + TP_CHAN_LIFETIME;
	a->chans[a->nchans].self_relay = self_relay;
	a->nchans++;
	return 0;
}

const struct tp_chan *tp_chan_by_num(struct tp_alloc *a, uint16_t num)
{
	for (uint32_t i = 0; i < a->nchans; i++)
		if (a->chans[i].num == num)
			return a->chans[i].expires > tp_now(a->s) ? &a->chans[i] : NULL;
	return NULL;
}

const struct tp_chan *tp_chan_by_peer(struct tp_alloc *a, const struct tp_addr *peer)
{
	for (uint32_t i = 0; i < a->nchans; i++)
		if (tp_addr_eq(&a->chans[i].peer, peer))
			return a->chans[i].expires > tp_now(a->s) ? &a->chans[i] : NULL;
	return NULL;
}

struct tp_relay *tp_alloc_relay_for(struct tp_alloc *a, const struct tp_addr *peer)
{
	for (int i = 0; i < a->nrelay; i++)
		if (a->relay[i].addr.family == peer->family)
			return &a->relay[i];
	return NULL;
}

void tp_alloc_recheck_policy(struct tp_srv *s)
{
	for (size_t b = 0; b < s->tab_size; b++)
		for (struct tp_alloc *a = s->tab[b]; a; a = a->next) {
			uint32_t j = 0;

			for (uint32_t i = 0; i < a->nperms; i++)
				if (tp_peer_check(s->conf, &s->self, &a->perms[i].ip,
				                  TP_PEER_IP | (a->tcp ? TP_PEER_TCP : 0)) ==
				    TP_PEER_OK)
					a->perms[j++] = a->perms[i];
			a->nperms = j;
			j = 0;
			for (uint32_t i = 0; i < a->nchans; i++)
				if (tp_peer_check(s->conf, &s->self, &a->chans[i].peer, TP_PEER_PORT) ==
				    TP_PEER_OK)
					a->chans[j++] = a->chans[i];
			a->nchans = j;
			tp_tcp_relay_recheck(a);
		}
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
