/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_alloc.c - the allocation state layer (server/alloc.c) with fake edges
 * and a fake clock: no sockets, no event loop. The fake relay_open refuses
 * chosen ports with -EADDRINUSE (another process holds them) or fails
 * outright, and records what is open, so the tests see exactly which
 * endpoints the state layer opened and closed.
 *
 * Covered: lifetimes and expiry by the timer wheel (also past a turn of the
 * wheel and after a stall), refresh, quotas per user and in all (-EDQUOT,
 * -EUSERS), ports given back on bind failure and on free, a port in use
 * elsewhere skipped, every relay address used (least used first), dual-stack
 * and a family without an address (-EAFNOSUPPORT), EVEN-PORT with the R bit
 * and RESERVATION-TOKEN (redeemed once, expired after 30 s), mobility tickets
 * and the move between tables (workers), the Refresh(0) replay memory, and
 * the live-port bits the peer policy reads.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "alloc.h"
#include "conf.h"
#include "ports.h"
#include "shared.h"
#include "tp_test.h"

/* ---- fake edges ---- */

#define MAXOPEN 1024

struct fake {
	int opens, closes, moves_in, moves_out, expired, moved;
	uint16_t busy[8];                /* ports that answer -EADDRINUSE */
	int nbusy;
	int fail_all;                    /* -errno for every open, or 0 */
};

/* Endpoints open now, whichever worker (fake) opened them: an endpoint moves
 * with its allocation and is closed by its new owner. */
static struct tp_addr open_eps[MAXOPEN];
static int nopen;

static int f_open(void *env, struct tp_alloc *a, unsigned i, const struct tp_addr *addr)
{
	struct fake *f = env;

	(void)a;
	(void)i;
	if (f->fail_all)
		return f->fail_all;
	for (int k = 0; k < f->nbusy; k++)
		if (f->busy[k] == addr->port)
			return -EADDRINUSE;
	for (int k = 0; k < nopen; k++)
		if (tp_addr_eq(&open_eps[k], addr))
			return -EADDRINUSE;  /* the state layer gave out a port twice */
	f->opens++;
	open_eps[nopen++] = *addr;
	return 0;
}

static void f_close(void *env, struct tp_alloc *a, unsigned i)
{
	struct fake *f = env;

	f->closes++;
	for (int k = 0; k < nopen; k++)
		if (tp_addr_eq(&open_eps[k], &a->relay[i].addr)) {
			open_eps[k] = open_eps[--nopen];
			return;
		}
	CHECK(!"closed an endpoint that was not open");
}

static void f_move(void *env, struct tp_alloc *a, unsigned i, bool attach)
{
	struct fake *f = env;

	(void)a;
	(void)i;
	if (attach)
		f->moves_in++;
	else
		f->moves_out++;
}

static void f_released(void *env, struct tp_alloc *a)
{
	if (a->end == TP_END_EXPIRED)
		((struct fake *)env)->expired++;
}

static void f_moved(void *env, struct tp_alloc *a)
{
	(void)a;
	((struct fake *)env)->moved++;
}

static const struct tp_alloc_ops ops = { f_open, f_close, f_move, f_released, f_moved };

/* ---- set-up ---- */

static struct tp_conf conf;
static struct tp_shared *sh;

static struct tp_addr addr(const char *ip, uint16_t port)
{
	struct tp_addr a = { 0 };

	a.family = strchr(ip, ':') ? AF_INET6 : AF_INET;
	inet_pton(a.family, ip, a.ip);
	a.port = port;
	return a;
}

static void setup(const char *const *relays, size_t n, uint16_t minp, uint16_t maxp)
{
	if (sh)
		tp_shared_free(sh);
	sh = tp_shared_create();
	for (size_t i = 0; i < n; i++) {
		struct tp_addr a = addr(relays[i], 0);

		sh->pools[sh->npools++] = tp_portpool_create(&a);
	}
	memset(&conf, 0, sizeof(conf));
	conf.min_port = minp;
	conf.max_port = maxp;
	conf.max_permissions = 10;
	conf.max_channels = 10;
}

struct client {
	struct tp_5tuple ft;
	struct tp_alloc_req r;
	uint8_t tid[TP_STUN_TID_LEN];
};

static void client(struct client *c, const char *user, uint16_t port)
{
	memset(c, 0, sizeof(*c));
	c->ft.transport = TP_LISTEN_UDP;
	c->ft.client = addr("198.51.100.7", port);
	c->ft.local = addr("192.0.2.1", 3478);
	randombytes_buf(c->tid, sizeof(c->tid));
	c->r.ft = &c->ft;
	c->r.tid = c->tid;
	c->r.user = c->r.quota_user = user;
	c->r.user_len = c->r.quota_user_len = strlen(user);
	c->r.lifetime = 600;
	c->r.want4 = true;
}

/* ---- tests ---- */

static void test_lifetime(void)
{
	static const char *const relays[] = { "192.0.2.10" };
	struct fake f = { 0 };
	struct tp_allocs *t;
	struct client c;
	struct tp_alloc *a;
	struct tp_alloc_res res;
	time_t now = 1000;

	setup(relays, 1, 50000, 50009);
	t = tp_allocs_create(sh, NULL, 0, &ops, &f, now);
	client(&c, "alice", 40000);
	CHECK_EQ(tp_alloc_create(t, &conf, &c.r, now, &a, &res), 0);
	CHECK_EQ(f.opens, 1);
	CHECK_EQ(a->nrelay, 1);
	CHECK(a->relay[0].addr.port >= 50000 && a->relay[0].addr.port <= 50009);
	CHECK(tp_port_live(a->relay[0].pool, a->relay[0].addr.port, false));
	CHECK(!tp_port_live(a->relay[0].pool, a->relay[0].addr.port, true));
	CHECK(tp_alloc_find(t, &c.ft) == a);
	CHECK_EQ(tp_allocs_count(t), 1);
	CHECK_EQ(sh->nallocs, 1);
	CHECK_EQ(tp_shared_user_count(sh, "alice", 5), 1);

	/* expires at 1600, not before */
	tp_allocs_tick(t, now + 599);
	CHECK_EQ(f.expired, 0);
	/* a refresh at 1500 for 100 s moves it to 1600 ... then to 2100 */
	tp_alloc_set_lifetime(a, 600, now + 500);
	tp_allocs_tick(t, now + 600);
	CHECK_EQ(f.expired, 0);
	CHECK(tp_alloc_find(t, &c.ft) == a);
	tp_allocs_tick(t, now + 1099);
	CHECK_EQ(f.expired, 0);
	uint16_t port = a->relay[0].addr.port;
	struct tp_portpool *pool = a->relay[0].pool;

	tp_allocs_tick(t, now + 1100);
	CHECK_EQ(f.expired, 1);
	CHECK_EQ(f.closes, 1);
	CHECK(tp_alloc_find(t, &c.ft) == NULL);
	CHECK_EQ(tp_allocs_count(t), 0);
	CHECK_EQ(sh->nallocs, 0);
	CHECK_EQ(tp_shared_user_count(sh, "alice", 5), 0);
	CHECK(!tp_port_used(pool, port));
	CHECK(!tp_port_live(pool, port, false));

	/* a lifetime longer than the wheel: survives its turns, then goes */
	client(&c, "alice", 40001);
	CHECK_EQ(tp_alloc_create(t, &conf, &c.r, 3000, &a, &res), 0);
	tp_alloc_set_lifetime(a, 9000, 3000);
	tp_allocs_tick(t, 3000 + 4096);
	tp_allocs_tick(t, 3000 + 8192);
	CHECK_EQ(f.expired, 1);
	tp_allocs_tick(t, 3000 + 9000);
	CHECK_EQ(f.expired, 2);

	/* a stall longer than the wheel (the clock jumps): still expired */
	client(&c, "alice", 40002);
	CHECK_EQ(tp_alloc_create(t, &conf, &c.r, 20000, &a, &res), 0);
	tp_allocs_tick(t, 30000);
	CHECK_EQ(f.expired, 3);
	tp_allocs_free(t);
	CHECK_EQ(nopen, 0);
}

static void test_quotas_and_ports(void)
{
	static const char *const relays[] = { "192.0.2.10" };
	struct fake f = { 0 };
	struct tp_allocs *t;
	struct client c[6];
	struct tp_alloc *a[6];
	struct tp_alloc_res res;

	setup(relays, 1, 50000, 50003);  /* four ports */
	t = tp_allocs_create(sh, NULL, 0, &ops, &f, 0);
	conf.user_quota = 2;
	conf.total_quota = 3;
	for (int i = 0; i < 6; i++)
		client(&c[i], i < 3 ? "alice" : "bob", (uint16_t)(41000 + i));
	CHECK_EQ(tp_alloc_create(t, &conf, &c[0].r, 0, &a[0], &res), 0);
	CHECK_EQ(tp_alloc_create(t, &conf, &c[1].r, 0, &a[1], &res), 0);
	CHECK_EQ(tp_alloc_create(t, &conf, &c[2].r, 0, &a[2], &res), -EDQUOT);
	CHECK_EQ(tp_alloc_create(t, &conf, &c[3].r, 0, &a[3], &res), 0);
	CHECK_EQ(tp_alloc_create(t, &conf, &c[4].r, 0, &a[4], &res), -EUSERS);
	CHECK_EQ(f.opens, 3);

	/* no quotas; one port left, and it is held by another process */
	conf.user_quota = conf.total_quota = 0;
	for (uint16_t p = 50000; p <= 50003; p++)
		if (p != a[0]->relay[0].addr.port && p != a[1]->relay[0].addr.port &&
		    p != a[3]->relay[0].addr.port)
			f.busy[f.nbusy++] = p;
	CHECK_EQ(f.nbusy, 1);
	CHECK_EQ(tp_alloc_create(t, &conf, &c[4].r, 0, &a[4], &res), -ENOSPC);
	CHECK_EQ(res.err4, -ENOSPC);
	CHECK_EQ(sh->nallocs, 3);       /* the failed one left no count behind */
	CHECK_EQ(tp_shared_user_count(sh, "bob", 3), 1);
	/* ... and its port was given back: free, with the busy one skipped */
	f.nbusy = 0;
	CHECK_EQ(tp_alloc_create(t, &conf, &c[4].r, 0, &a[4], &res), 0);
	CHECK_EQ(sh->pools[0]->nused, 4);
	CHECK_EQ(tp_alloc_create(t, &conf, &c[5].r, 0, &a[5], &res), -ENOSPC);
	/* a freed allocation gives its port back */
	tp_alloc_free(a[0]);
	CHECK_EQ(sh->pools[0]->nused, 3);
	CHECK_EQ(tp_alloc_create(t, &conf, &c[5].r, 0, &a[5], &res), 0);
	/* an open that fails for good: -ENOSPC, nothing held */
	tp_alloc_free(a[5]);
	f.fail_all = -EACCES;
	CHECK_EQ(tp_alloc_create(t, &conf, &c[5].r, 0, &a[5], &res), -ENOSPC);
	CHECK_EQ(sh->pools[0]->nused, 3);
	f.fail_all = 0;
	tp_allocs_free(t);
	CHECK_EQ(sh->pools[0]->nused, 0);
	CHECK_EQ(sh->nallocs, 0);
	CHECK_EQ(nopen, 0);
}

static void test_spread_and_families(void)
{
	static const char *const relays[] = { "192.0.2.10", "192.0.2.11", "192.0.2.12",
		                              "2001:db8::10" };
	struct fake f = { 0 };
	struct tp_allocs *t;
	struct client c;
	struct tp_alloc *a;
	struct tp_alloc_res res;
	unsigned per[3] = { 0 };

	setup(relays, 4, 50000, 50099);
	t = tp_allocs_create(sh, NULL, 0, &ops, &f, 0);
	for (int i = 0; i < 30; i++) {
		client(&c, "alice", (uint16_t)(42000 + i));
		CHECK_EQ(tp_alloc_create(t, &conf, &c.r, 0, &a, &res), 0);
		per[a->relay[0].addr.ip[3] - 10]++;
	}
	CHECK(per[0] == 10 && per[1] == 10 && per[2] == 10);
	/* dual-stack: one of each family */
	client(&c, "alice", 43000);
	c.r.want6 = true;
	CHECK_EQ(tp_alloc_create(t, &conf, &c.r, 0, &a, &res), 0);
	CHECK_EQ(a->nrelay, 2);
	CHECK(tp_alloc_has_family(a, AF_INET) && tp_alloc_has_family(a, AF_INET6));
	struct tp_addr p6 = addr("2001:db8::99", 1);

	CHECK(tp_alloc_relay_for(a, &p6) == &a->relay[1]);
	tp_allocs_free(t);

	/* IPv4 only: an IPv6 request gets -EAFNOSUPPORT, a dual one its IPv4 */
	static const char *const v4[] = { "192.0.2.10" };

	setup(v4, 1, 50000, 50099);
	t = tp_allocs_create(sh, NULL, 0, &ops, &f, 0);
	client(&c, "alice", 43001);
	c.r.want4 = false;
	c.r.want6 = true;
	CHECK_EQ(tp_alloc_create(t, &conf, &c.r, 0, &a, &res), -EAFNOSUPPORT);
	c.r.want4 = true;
	CHECK_EQ(tp_alloc_create(t, &conf, &c.r, 0, &a, &res), 0);
	CHECK_EQ(a->nrelay, 1);
	CHECK_EQ(res.err4, 0);
	CHECK_EQ(res.err6, -EAFNOSUPPORT);
	tp_allocs_free(t);
}

static void test_even_port_and_tokens(void)
{
	static const char *const relays[] = { "192.0.2.10", "192.0.2.11" };
	struct fake f = { 0 };
	struct tp_allocs *t;
	struct client c, d, e;
	struct tp_alloc *a, *b;
	struct tp_alloc_res res, res2;

	setup(relays, 2, 50000, 50099);
	t = tp_allocs_create(sh, NULL, 0, &ops, &f, 100);
	client(&c, "alice", 44000);
	c.r.even_port = true;
	c.r.reserve_next = true;
	CHECK_EQ(tp_alloc_create(t, &conf, &c.r, 100, &a, &res), 0);
	CHECK_EQ(a->relay[0].addr.port % 2, 0);
	CHECK(res.reserved && res.token != 0);
	CHECK(tp_port_used(a->relay[0].pool, (uint16_t)(a->relay[0].addr.port + 1)));
	/* the token gets exactly the next port on the same address, once */
	client(&d, "alice", 44001);
	d.r.has_token = true;
	d.r.token = res.token;
	CHECK_EQ(tp_alloc_create(t, &conf, &d.r, 110, &b, &res2), 0);
	CHECK(tp_addr_ip_eq(&b->relay[0].addr, &a->relay[0].addr));
	CHECK_EQ(b->relay[0].addr.port, a->relay[0].addr.port + 1);
	client(&e, "alice", 44002);
	e.r.has_token = true;
	e.r.token = res.token;
	CHECK_EQ(tp_alloc_create(t, &conf, &e.r, 110, &b, &res2), -ENOENT);
	/* a reservation not redeemed within 30 s is gone, its port back */
	client(&c, "alice", 44003);
	c.r.even_port = c.r.reserve_next = true;
	CHECK_EQ(tp_alloc_create(t, &conf, &c.r, 200, &a, &res), 0);
	uint16_t next = (uint16_t)(a->relay[0].addr.port + 1);
	struct tp_portpool *pool = a->relay[0].pool;

	CHECK(tp_port_used(pool, next));
	e.r.token = res.token;
	client(&d, "alice", 44004);
	CHECK_EQ(tp_alloc_create(t, &conf, &d.r, 231, &b, &res2), 0); /* sweeps */
	CHECK(!tp_port_used(pool, next) || b->relay[0].addr.port == next);
	e.ft.client.port = 44005;
	CHECK_EQ(tp_alloc_create(t, &conf, &e.r, 231, &b, &res2), -ENOENT);
	tp_allocs_free(t);
}

static void test_mobility_and_replay(void)
{
	static const char *const relays[] = { "192.0.2.10" };
	struct fake f0 = { 0 }, f1 = { 0 };
	struct tp_allocs *t0, *t1;
	struct client c;
	struct tp_alloc *a;
	struct tp_alloc_res res;
	uint8_t old[TP_TICKET_LEN];
	unsigned worker;
	uint64_t uh;

	setup(relays, 1, 50000, 50099);
	t0 = tp_allocs_create(sh, NULL, 0, &ops, &f0, 0);
	t1 = tp_allocs_create(sh, NULL, 1, &ops, &f1, 0);
	client(&c, "alice", 45000);
	c.r.mobility = true;
	CHECK_EQ(tp_alloc_create(t0, &conf, &c.r, 0, &a, &res), 0);
	CHECK(a->has_ticket);
	CHECK(tp_alloc_find_ticket(t0, a->ticket, TP_TICKET_LEN) == a);
	CHECK_EQ(tp_shared_ticket_find(sh, a->ticket, TP_TICKET_LEN, &worker, &uh), 0);
	CHECK_EQ(worker, 0);
	/* a move within the worker: found by the new 5-tuple only */
	struct tp_5tuple nft = c.ft;

	nft.client.port = 45001;
	tp_alloc_move(a, &nft, NULL);
	CHECK_EQ(f0.moved, 1);
	CHECK(tp_alloc_find(t0, &nft) == a);
	CHECK(tp_alloc_find(t0, &c.ft) == NULL);
	/* across workers: detach from worker 0, adopt on worker 1 */
	memcpy(old, a->ticket, TP_TICKET_LEN);
	tp_alloc_detach(a);
	CHECK_EQ(f0.moves_out, 1);
	CHECK_EQ(f0.moved, 2);
	CHECK_EQ(tp_allocs_count(t0), 0);
	nft.client.port = 45002;
	tp_alloc_adopt(t1, a, &nft, NULL, 10);
	CHECK_EQ(f1.moves_in, 1);
	CHECK(tp_alloc_find(t1, &nft) == a);
	CHECK(memcmp(old, a->ticket, TP_TICKET_LEN) != 0);  /* a new ticket */
	CHECK(tp_alloc_find_ticket(t1, old, TP_TICKET_LEN) == NULL);
	CHECK(tp_alloc_find_ticket(t1, a->ticket, TP_TICKET_LEN) == a);
	CHECK_EQ(tp_shared_ticket_find(sh, old, TP_TICKET_LEN, &worker, &uh), -ENOENT);
	CHECK_EQ(tp_shared_ticket_find(sh, a->ticket, TP_TICKET_LEN, &worker, &uh), 0);
	CHECK_EQ(worker, 1);
	/* its lifetime travelled with it: it expires on worker 1 */
	tp_allocs_tick(t1, 600);
	CHECK_EQ(f1.expired, 1);
	CHECK_EQ(f1.closes, 1);
	CHECK_EQ(f0.closes, 0);
	CHECK_EQ(sh->nallocs, 0);

	/* Refresh(0) replay: remembered for 30 s, per 5-tuple and transaction */
	uint8_t tid[TP_STUN_TID_LEN] = { 1, 2, 3 }, other[TP_STUN_TID_LEN] = { 9 };

	tp_allocs_remember_deleted(t0, &c.ft, tid, 100);
	CHECK(tp_allocs_recently_deleted(t0, &c.ft, tid, 130));
	CHECK(!tp_allocs_recently_deleted(t0, &c.ft, tid, 131));
	CHECK(!tp_allocs_recently_deleted(t0, &c.ft, other, 110));
	CHECK(!tp_allocs_recently_deleted(t0, &nft, tid, 110));
	tp_allocs_free(t0);
	tp_allocs_free(t1);
}

/* max-bps per allocation and direction; user-max-bps across a user's
 * allocations; a refusal by the user's budget does not spend the
 * allocation's. */
static void test_bandwidth(void)
{
	static const char *const relays[] = { "192.0.2.10" };
	struct fake f = { 0 };
	struct tp_allocs *t;
	struct client c[3];
	struct tp_alloc *a[3];
	struct tp_alloc_res res;
	uint64_t sent[3] = { 0 }, back = 0;

	setup(relays, 1, 50000, 50009);
	t = tp_allocs_create(sh, NULL, 0, &ops, &f, 0);
	for (int i = 0; i < 3; i++) {
		client(&c[i], i < 2 ? "alice" : "bob", (uint16_t)(42000 + i));
		CHECK_EQ(tp_alloc_create(t, &conf, &c[i].r, 0, &a[i], &res), 0);
	}
	conf.max_bps = 10000;
	conf.user_max_bps = 15000;
	/* 10 s of each allocation offering 100 B every ms (100 kB/s) to peers */
	for (uint64_t ms = 1000; ms < 11000; ms++)
		for (int i = 0; i < 3; i++)
			if (tp_alloc_bw_take(a[i], &conf, TP_SD_TO_PEER, 100, ms))
				sent[i] += 100;
	/* bob alone: his max-bps, plus the quarter-second burst */
	CHECK(sent[2] >= 100000 && sent[2] <= 100000 + 2500 + 100);
	/* alice's two share her user-max-bps */
	CHECK(sent[0] + sent[1] >= 150000 && sent[0] + sent[1] <= 150000 + 3750 + 200);
	/* ... fairly: each about half */
	CHECK(sent[0] > 70000 && sent[1] > 70000);
	/* the other direction has budgets of its own, untouched so far */
	for (uint64_t ms = 11000; ms < 12000; ms++)
		if (tp_alloc_bw_take(a[2], &conf, TP_SD_TO_CLIENT, 100, ms))
			back += 100;
	CHECK(back >= 10000 && back <= 10000 + 2500 + 100);
	/* no caps: everything passes */
	conf.max_bps = conf.user_max_bps = 0;
	for (int i = 0; i < 1000; i++)
		CHECK(tp_alloc_bw_take(a[0], &conf, TP_SD_TO_PEER, 60000, 12000));
	for (int i = 0; i < 3; i++)
		tp_alloc_free(a[i]);
	tp_allocs_free(t);
}

/* tp_allocs_check: quiet through creates, moves, mobility, refreshes and
 * expiry; each breakage named. */
static void test_check(void)
{
	static const char *const relays[] = { "192.0.2.10", "2001:db8::10" };
	struct fake f = { 0 };
	struct tp_allocs *t;
	struct client c[300];
	struct tp_alloc *a[300];
	struct tp_alloc_res res;

	setup(relays, 2, 50000, 50999);
	t = tp_allocs_create(sh, NULL, 0, &ops, &f, 0);
	CHECK(tp_allocs_check(t) == NULL);
	/* past TAB_MIN (256): the tables grow */
	for (int i = 0; i < 300; i++) {
		client(&c[i], i % 2 ? "alice" : "bob", (uint16_t)(20000 + i));
		c[i].r.want6 = i % 3 == 0;
		c[i].r.mobility = i % 5 == 0;
		c[i].r.lifetime = 600 + (uint32_t)i;
		CHECK_EQ(tp_alloc_create(t, &conf, &c[i].r, 0, &a[i], &res), 0);
	}
	CHECK(tp_allocs_check(t) == NULL);
	struct tp_5tuple nft = c[5].ft;

	nft.client.port = 1;
	tp_alloc_move(a[5], &nft, NULL);
	tp_alloc_new_ticket(a[5]);
	tp_alloc_set_lifetime(a[7], 3600, 10);
	tp_perms_install(&a[7]->perms, &c[7].ft.client, 10, 10);
	tp_chans_bind(&a[7]->chans, 0x4001, &c[7].ft.client, false, 10, 10);
	CHECK(tp_allocs_check(t) == NULL);

	/* breakages: wrong wheel slot, a 5-tuple changed in place, a port not
	 * live, a ticket gone from the shared map, a broken permission table */
	time_t exp = a[7]->expires;

	a[7]->expires = exp + 1;
	CHECK(tp_allocs_check(t) != NULL);
	a[7]->expires = exp;
	CHECK(tp_allocs_check(t) == NULL);
	a[8]->ft.client.port++;
	CHECK(tp_allocs_check(t) != NULL);
	a[8]->ft.client.port--;
	tp_port_set_live(a[9]->relay[0].pool, a[9]->relay[0].addr.port, false, false);
	CHECK(tp_allocs_check(t) != NULL);
	tp_port_set_live(a[9]->relay[0].pool, a[9]->relay[0].addr.port, false, true);
	CHECK(tp_allocs_check(t) == NULL);
	CHECK(a[10]->has_ticket);
	pthread_mutex_lock(&sh->mu);
	tp_shared_ticket_del(sh, a[10]->ticket, TP_TICKET_LEN);
	pthread_mutex_unlock(&sh->mu);
	CHECK(tp_allocs_check(t) != NULL);
	pthread_mutex_lock(&sh->mu);
	tp_shared_ticket_add(sh, a[10]->ticket, TP_TICKET_LEN, 1,
	                     tp_shared_hash(sh, a[10]->user, strlen(a[10]->user)));
	pthread_mutex_unlock(&sh->mu);
	CHECK(tp_allocs_check(t) != NULL);   /* another worker's */
	pthread_mutex_lock(&sh->mu);
	tp_shared_ticket_del(sh, a[10]->ticket, TP_TICKET_LEN);
	tp_shared_ticket_add(sh, a[10]->ticket, TP_TICKET_LEN, 0,
	                     tp_shared_hash(sh, a[10]->user, strlen(a[10]->user)));
	pthread_mutex_unlock(&sh->mu);
	CHECK(tp_allocs_check(t) == NULL);
	a[7]->perms.v[0].ip.port = 5;
	CHECK(tp_allocs_check(t) != NULL);
	a[7]->perms.v[0].ip.port = 0;
	CHECK(tp_allocs_check(t) == NULL);

	/* frees and expiry keep it whole */
	for (int i = 0; i < 300; i += 7)
		tp_alloc_free(a[i]);
	CHECK(tp_allocs_check(t) == NULL);
	tp_allocs_tick(t, 700);
	CHECK(tp_allocs_check(t) == NULL);
	CHECK(tp_allocs_count(t) > 0);
	tp_allocs_tick(t, 4000);
	CHECK(tp_allocs_check(t) == NULL);
	CHECK_EQ(tp_allocs_count(t), 0);
	tp_allocs_free(t);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_lifetime();
	test_quotas_and_ports();
	test_spread_and_families();
	test_even_port_and_tokens();
	test_mobility_and_replay();
	test_bandwidth();
	test_check();
	tp_shared_free(sh);
	TP_TEST_END();
}
