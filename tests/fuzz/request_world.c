/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * request_world.c - the fake edges around the real request path, and the
 * invariants checked after every message (see request_world.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include "alloc.h"
#include "auth.h"
#include "buckets.h"
#include "dispatch.h"
#include "ports.h"
#include "rand.h"
#include "request_world.h"
#include "shared.h"

#define STREAM_MAX (TP_MAX_DGRAM + TP_STUN_HDR_LEN)   /* listen_tcp.c's FRAME_MAX */
#define PENDING 32
#define BUSY_PORT 49153            /* relay_open says -EADDRINUSE on it */

/* ERROR-CODE with a reason of at most 128 bytes, REALM, NONCE (at most 64),
 * PASSWORD-ALGORITHMS (two), UNKNOWN-ATTRIBUTES (at most TP_STUN_MAX_UNKNOWN) */
#define REASON_MAX 128
#define UNAUTH_EXTRA(realm_len)                                                  \
	((8 + REASON_MAX) + (4 + (((realm_len) + 3) & ~3u)) + (4 + 64) + (4 + 8) + \
	 (4 + ((2 * TP_STUN_MAX_UNKNOWN + 3) & ~3u)))
/* a 300 Try Alternate, answered before authentication: ERROR-CODE,
 * ALTERNATE-SERVER (IPv6 at most), ALTERNATE-DOMAIN (RW_ALT_DOMAIN, over TLS
 * and DTLS); no REALM or NONCE */
#define RW_ALT_DOMAIN "turn2.example.net"
#define UNAUTH_300_EXTRA                                                          \
	((8 + REASON_MAX) + (4 + 20) + (4 + ((sizeof(RW_ALT_DOMAIN) - 1 + 3) & ~3u)))

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "request_world: invariant violated: %s%s%s\n", what, detail ? ": " : "",
	        detail ? detail : "");
	abort();
}

#define ENSURE(cond, what)                                                       \
	do {                                                                      \
		if (!(cond))                                                      \
			fail(what, #cond);                                        \
	} while (0)

/* ---- the fixed 5-tuples ---- */

/* An address initializer left open for its port: V4(192, 0, 2, 1), .port = 3478 } */
#define V4(a, b, c, d) { .family = AF_INET, .ip = { a, b, c, d }
#define V6(last) { .family = AF_INET6, .ip = { 0x20, 0x01, 0x0d, 0xb8, [15] = last }

const struct tp_5tuple rw_tuples[RW_TUPLES] = {
	{ V4(203, 0, 113, 10), .port = 40000 }, V4(192, 0, 2, 1), .port = 3478 }, TP_LISTEN_UDP },
	{ V4(203, 0, 113, 10), .port = 40001 }, V4(192, 0, 2, 1), .port = 3478 }, TP_LISTEN_UDP },
	{ V4(203, 0, 113, 20), .port = 40000 }, V4(192, 0, 2, 3), .port = 3478 }, TP_LISTEN_UDP },
	{ V6(0x20), .port = 40000 }, V6(1), .port = 3478 }, TP_LISTEN_UDP },
	{ V4(203, 0, 113, 10), .port = 50000 }, V4(192, 0, 2, 1), .port = 3478 }, TP_LISTEN_TCP },
	{ V4(203, 0, 113, 30), .port = 50001 }, V4(192, 0, 2, 1), .port = 5349 }, TP_LISTEN_TLS },
	{ V4(203, 0, 113, 10), .port = 50002 }, V4(192, 0, 2, 1), .port = 3478 }, TP_LISTEN_TCP },
	{ V4(203, 0, 113, 40), .port = 40000 }, V4(192, 0, 2, 1), .port = 5349 }, TP_LISTEN_DTLS },
};

bool rw_tuple_stream(unsigned tuple)
{
	uint8_t t = rw_tuples[tuple % RW_TUPLES].transport;

	return t == TP_LISTEN_TCP || t == TP_LISTEN_TLS;
}

static const struct tp_listen listeners[] = {
	{ TP_LISTEN_UDP, V4(192, 0, 2, 1), .port = 3478 }, false },
	{ TP_LISTEN_TCP, V4(192, 0, 2, 1), .port = 3478 }, false },
	{ TP_LISTEN_TLS, V4(192, 0, 2, 1), .port = 5349 }, false },
	{ TP_LISTEN_DTLS, V4(192, 0, 2, 1), .port = 5349 }, false },
	{ TP_LISTEN_UDP, V6(1), .port = 3478 }, false },
	{ TP_LISTEN_UDP, V4(192, 0, 2, 3), .port = 3478 }, false },
	{ TP_LISTEN_UDP, V4(192, 0, 2, 3), .port = 3479 }, false },
	{ TP_LISTEN_UDP, V4(192, 0, 2, 4), .port = 3478 }, false },
	{ TP_LISTEN_UDP, V4(192, 0, 2, 4), .port = 3479 }, false },
};

/* RFC 5780: the four sockets (A:P1 A:P2 B:P1 B:P2) of the listener tuple 2
 * talks to (listeners[5..8]) */
#define NAT_TUPLE 2
#define NAT_FIRST 5

/* ---- the world ---- */

struct rw_sink {
	struct tp_sink sink;
	struct rw_world *w;
	int tuple;                 /* -1: the UDP listener (tuples 0, 1, 3);
	                              -2 - k: RFC 5780 socket k (tuple 2) */
};

struct stream {
	uint8_t buf[STREAM_MAX];
	size_t len;
	struct tp_framer f;
	bool piped;                /* ConnectionBind made it a raw pipe */
};

struct tp_qwait {
	int unused;
};

enum pend_kind { PEND_NONE, PEND_QUOTA, PEND_CONNECT };

struct pending {
	enum pend_kind kind;
	struct tp_alloc *a;
	struct tp_reply rp;
	struct tp_qwait qw;
};

struct conn {                      /* RFC 6062 peer connections the fake made */
	uint32_t cid;
	char user[TP_MAX_USERNAME + 1];
	bool bound;
};

struct rw_world {
	struct tp_srv *s;
	struct tp_shared *sh;
	unsigned conf;
	uint64_t mono_ms;
	struct rw_sink udp, nat[4], per[RW_TUPLES];
	unsigned gone;             /* alloc_gone calls */
	struct stream *st[RW_TUPLES];
	struct pending pend[PENDING];
	struct conn conns[PENDING];
	size_t nconns;
	uint32_t next_cid;
	long open_eps;             /* relay endpoints open */
	/* the message being dispatched, and its answers */
	struct rw_reply rep[RW_REPLIES];
	size_t nrep;
	int expect_tuple;          /* -1: no answer may go out now */
};

static struct tp_conf *confs[RW_CONFS];
static struct rw_world *cur;      /* the hooks without an argument (clocks) */
static struct rw_totals totals;
static uint8_t bob_md5[16];
static size_t realm_len;

const struct rw_totals *rw_totals(void)
{
	return &totals;
}

struct tp_srv *rw_srv(struct rw_world *w)
{
	return w->s;
}

uint64_t rw_wall(const struct rw_world *w)
{
	return RW_START_WALL + w->mono_ms / 1000;
}

size_t rw_nreplies(const struct rw_world *w)
{
	return w->nrep;
}

const struct rw_reply *rw_reply(const struct rw_world *w, size_t i)
{
	return i < w->nrep ? &w->rep[i] : NULL;
}

/* ---- configurations ---- */

static struct tp_conf *make_conf(unsigned variant)
{
	struct tp_conf_overrides ov = { .realm = RW_REALM };
	struct tp_conf *c;
	char err[256];

	ov.allowed_peer[ov.nallowed_peer++] = "198.51.100.0/24";
	ov.allowed_peer[ov.nallowed_peer++] = "2001:db8:77::/48";
	if (tp_conf_load(NULL, &ov, &c, err, sizeof(err)) != 0) {
		fprintf(stderr, "request_world: configuration: %s\n", err);
		abort();
	}
	if (tp_conf_add_user(c, RW_USER, RW_PASS) != 0)
		abort();
	c->demo_user = false;
	c->mobility = true;
	if (variant == 1) {
		/* tight limits, the cluster's user-quota, alternates, legacy channels */
		c->user_quota = 2;
		c->total_quota = 3;
		c->max_permissions = 3;
		c->max_channels = 2;
		c->min_port = 49152;
		c->max_port = 49157;
		c->legacy_channels = true;
		c->mobility = false;
		c->nalternate = 1;
		c->alternate[0] = (struct tp_addr)V4(192, 0, 2, 99), .port = 3478 };
		free(c->alternate_domain);
		c->alternate_domain = strdup(RW_ALT_DOMAIN);
		if (!c->alternate_domain)
			abort();
		c->ndenied_peers = 1;
		c->denied_peers[0] = (struct tp_cidr){ V4(198, 51, 100, 128) }, 25 };
		c->max_bps = 2000;
		c->user_max_bps = 3000;
	}
	return c;
}

/* libsodium's randomness, made deterministic and restarted for each world:
 * relay ports, session ids, mobility tickets and reservation tokens come out
 * the same on every replay, so a recorded seed that carries a ticket or a
 * token still works (xorshift64*; no secrets here). */
static uint64_t rng;

static uint32_t rng_u32(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 2685821657736338717ull) >> 32);
}

static void rng_buf(void *buf, size_t n)
{
	uint8_t *b = buf;

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)rng_u32();
}

static const char *rng_name(void)
{
	return "request_world";
}

static struct randombytes_implementation rng_impl = {
	.implementation_name = rng_name,
	.random = rng_u32,
	.buf = rng_buf,
};

static void rng_restart(void)
{
	rng = 0x9e3779b97f4a7c15ull;
	tp_rand_reset();
}

static void init_once(void)
{
	size_t klen;

	if (confs[0])
		return;
	rng_restart();
	if (randombytes_set_implementation(&rng_impl) != 0 || sodium_init() < 0)
		abort();
	tp_log_level = TP_LOG_ERROR;
	for (unsigned i = 0; i < RW_CONFS; i++)
		confs[i] = make_conf(i);
	realm_len = strlen(RW_REALM);
	if (tp_key_long_term(TP_PWALG_MD5, RW_STORE_USER, strlen(RW_STORE_USER), RW_REALM,
	                     realm_len, RW_STORE_PASS, strlen(RW_STORE_PASS), bob_md5,
	                     &klen) != TP_P_OK)
		abort();
}

/* ---- struct tp_io ---- */

static uint64_t io_mono_ms(void)
{
	return cur->mono_ms;
}

static time_t io_wall(void)
{
	return (time_t)rw_wall(cur);
}

static struct tp_alloc *live(struct rw_world *w, struct tp_alloc *a)
{
	return tp_alloc_find(w->s->allocs, &a->ft) == a ? a : NULL;
}

/* The kernel offload's hook: only after a ChannelBind that left the channel
 * live, its permission installed and the peer allowed. */
static void io_chan_bound(struct tp_alloc *a, const struct tp_chan *ch)
{
	time_t now = tp_now(cur->s);

	ENSURE(live(cur, a), "chan_bound for an allocation not in the table");
	ENSURE(ch && tp_chans_by_num(&a->chans, ch->num, now) == ch,
	       "chan_bound for a channel that is not live");
	ENSURE(tp_perms_ok(&a->perms, &ch->peer, now), "chan_bound without a permission");
	ENSURE(tp_peer_check(cur->s->conf, &cur->s->self, &ch->peer, TP_PEER_PORT) == TP_PEER_OK,
	       "chan_bound for a peer the policy refuses");
}

static int io_relay_send(struct tp_alloc *a, const struct tp_addr *peer, const uint8_t *data,
                         size_t len, bool df)
{
	(void)data;
	(void)df;
	ENSURE(live(cur, a), "relay_send for an allocation not in the table");
	ENSURE(tp_alloc_relay_for(a, peer) != NULL, "relay_send to a family without a relay");
	ENSURE(len <= TP_MAX_DGRAM, "relay_send longer than a datagram");
	/* data goes only where a permission is and the policy allows, port included */
	ENSURE(tp_perms_ok(&a->perms, peer, tp_now(cur->s)), "relay_send to a peer without permission");
	ENSURE(tp_peer_check(cur->s->conf, &cur->s->self, peer, TP_PEER_PORT) == TP_PEER_OK,
	       "relay_send to a peer the policy refuses");
	totals.relayed++;
	a->tx_pkts++;
	a->tx_bytes += len;
	return 0;
}

static struct pending *pend_new(struct rw_world *w, enum pend_kind k, struct tp_alloc *a,
                                const struct tp_reply *rp)
{
	for (size_t i = 0; i < PENDING; i++)
		if (w->pend[i].kind == PEND_NONE) {
			w->pend[i].kind = k;
			w->pend[i].a = a;
			w->pend[i].rp = *rp;
			return &w->pend[i];
		}
	return NULL;
}

/* Peer port 1: a connection exists (446); port 2: max-peer-connections
 * (508); else pending until rw_settle. */
static int io_tcp_connect(struct tp_alloc *a, const struct tp_addr *peer, const struct tp_reply *rp)
{
	ENSURE(live(cur, a) && a->is_tcp, "Connect on a non-TCP or dead allocation");
	if (peer->port == 1)
		return -EEXIST;
	if (peer->port == 2)
		return -EMFILE;
	return pend_new(cur, PEND_CONNECT, a, rp) ? 0 : -ENOMEM;
}

static void sink_to_pipe(struct tp_sink *sk, struct tp_peer_conn *pipe)
{
	struct rw_sink *rs = (struct rw_sink *)sk;

	(void)pipe;
	ENSURE(rs->tuple >= 0 && rw_tuple_stream((unsigned)rs->tuple), "to_pipe on a datagram sink");
	rs->w->st[rs->tuple]->piped = true;
}

static int io_tcp_bind(struct tp_srv *s, struct tp_sink *sink, uint32_t cid, const char *user)
{
	struct rw_world *w = cur;

	(void)s;
	for (size_t i = 0; i < w->nconns; i++) {
		struct conn *c = &w->conns[i];

		if (c->cid != cid || c->bound)
			continue;
		if (strcmp(c->user, user) != 0)
			return -EACCES;
		c->bound = true;
		sink->to_pipe(sink, (struct tp_peer_conn *)c);
		return 0;
	}
	return -ENOENT;
}

static void io_tcp_recheck(struct tp_alloc *a)
{
	ENSURE(live(cur, a), "tcp_recheck for a dead allocation");
}

static void io_migrate(struct tp_srv *s, unsigned owner, const uint8_t *ticket, size_t ticket_len,
                       const struct tp_5tuple *ft, struct tp_sink *sink, const uint8_t *req,
                       size_t req_len)
{
	(void)s, (void)owner, (void)ticket, (void)ticket_len, (void)ft, (void)sink, (void)req;
	(void)req_len;
	fail("migrate called with one worker", NULL);
}

/* Under configuration 1 the cluster decides every user-quota later. */
static int io_quota_take(struct tp_alloc *a, uint32_t quota, const struct tp_reply *rp)
{
	struct pending *p;

	ENSURE(live(cur, a) && quota, "quota_take for a dead allocation");
	if (cur->conf != 1)
		return 0;
	p = pend_new(cur, PEND_QUOTA, a, rp);
	if (!p)
		return 0;
	a->qwait = &p->qw;
	return 1;
}

static int io_user_key(struct tp_srv *s, const char *name, size_t len, uint16_t alg,
                       uint8_t *key, size_t *key_len)
{
	(void)s;
	if (len != strlen(RW_STORE_USER) || memcmp(name, RW_STORE_USER, len) != 0)
		return -ENOENT;
	if (alg != TP_PWALG_MD5)
		return -ENOKEY;
	memcpy(key, bob_md5, 16);
	*key_len = 16;
	return 0;
}

static int io_user_by_hash(struct tp_srv *s, const uint8_t hash[32], const char **name,
                           size_t *len)
{
	uint8_t h[32];

	(void)s;
	tp_userhash(RW_STORE_USER, strlen(RW_STORE_USER), RW_REALM, realm_len, h);
	if (memcmp(h, hash, 32) != 0)
		return -ENOENT;
	*name = RW_STORE_USER;
	*len = strlen(RW_STORE_USER);
	return 0;
}

static size_t io_secrets(struct tp_srv *s, const char *const **out)
{
	static const char *const secrets[] = { RW_SECRET };

	(void)s;
	*out = secrets;
	return 1;
}

static int io_alternate(struct tp_srv *s, struct tp_addr *out)
{
	(void)s;
	(void)out;
	return -ENOENT;
}

static const struct tp_io io = {
	.relay_send = io_relay_send,
	.tcp_connect = io_tcp_connect,
	.tcp_bind = io_tcp_bind,
	.chan_bound = io_chan_bound,
	.tcp_recheck = io_tcp_recheck,
	.migrate = io_migrate,
	.quota_take = io_quota_take,
	.user_key = io_user_key,
	.user_by_hash = io_user_by_hash,
	.secrets = io_secrets,
	.alternate = io_alternate,
	.mono_ms = io_mono_ms,
	.wall = io_wall,
};

/* ---- struct tp_alloc_ops ---- */

static int ops_open(void *env, struct tp_alloc *a, unsigned i, const struct tp_addr *addr)
{
	struct rw_world *w = env;

	ENSURE(i < 2 && i == a->nrelay, "relay_open out of order");
	if (addr->port == BUSY_PORT)
		return -EADDRINUSE;
	w->open_eps++;
	return 0;
}

static void ops_close(void *env, struct tp_alloc *a, unsigned i)
{
	struct rw_world *w = env;

	ENSURE(i < a->nrelay, "relay_close of an endpoint not open");
	w->open_eps--;
}

static void ops_move(void *env, struct tp_alloc *a, unsigned i, bool attach)
{
	(void)env, (void)a, (void)i, (void)attach;
	fail("relay_move with one worker", NULL);
}

static void ops_released(void *env, struct tp_alloc *a)
{
	struct rw_world *w = env;

	tp_turn_released(w->s, a);
	for (size_t i = 0; i < PENDING; i++)
		if (w->pend[i].kind != PEND_NONE && w->pend[i].a == a)
			w->pend[i].kind = PEND_NONE;
	a->qwait = NULL;
}

static void ops_moved(void *env, struct tp_alloc *a)
{
	ENSURE(live(env, a), "moved an allocation not in the table");
}

static const struct tp_alloc_ops ops = { ops_open, ops_close, ops_move, ops_released,
                                         ops_moved };

/* ---- sinks ---- */

static int sink_send(struct tp_sink *sk, const struct tp_addr *local, const struct tp_addr *to,
                     const uint8_t *buf, size_t len)
{
	struct rw_sink *rs = (struct rw_sink *)sk;
	struct rw_world *w = rs->w;
	int t = -1;

	if (rs->tuple <= -2) {
		/* RFC 5780: from any of the four sockets (its own address), to the
		 * client's IP; the port may be RESPONSE-PORT's */
		const struct tp_addr *mine = &listeners[NAT_FIRST + (unsigned)(-2 - rs->tuple)].addr;

		ENSURE(tp_addr_eq(local, mine), "an RFC 5780 socket replies from another address");
		if (tp_addr_ip_eq(&rw_tuples[NAT_TUPLE].client, to))
			t = NAT_TUPLE;
		ENSURE(t >= 0, "an RFC 5780 reply to another host");
	} else {
		for (unsigned i = 0; i < RW_TUPLES; i++)
			if ((rs->tuple == -1 ? rw_tuples[i].transport == TP_LISTEN_UDP && i != NAT_TUPLE
			                     : (int)i == rs->tuple) &&
			    tp_addr_eq(&rw_tuples[i].client, to) && tp_addr_eq(&rw_tuples[i].local, local))
				t = (int)i;
		ENSURE(t >= 0, "reply to an address that is no client of this sink");
		ENSURE(len <= TP_REPLY_MAX, "a reply longer than TP_REPLY_MAX");
	}
	ENSURE(w->expect_tuple >= 0, "reply when no request is being answered");
	ENSURE(t == w->expect_tuple, "reply to another client than the one asking");
	ENSURE(w->nrep < RW_REPLIES, "too many replies to one message");
	ENSURE(len <= sizeof(w->rep[0].buf), "a reply longer than a datagram");
	memcpy(w->rep[w->nrep].buf, buf, len);
	w->rep[w->nrep].len = len;
	w->rep[w->nrep].tuple = (unsigned)t;
	w->nrep++;
	totals.replies++;
	return 0;
}

/* The connection (or DTLS session) of tuple t closes, and the allocation it
 * carries goes with it (why: enum tp_alloc_end); a new one may follow. */
static void close_conn(struct rw_world *w, unsigned t, uint8_t why)
{
	struct tp_alloc *a = tp_alloc_find(w->s->allocs, &rw_tuples[t]);

	if (a) {
		a->end = why;
		tp_alloc_free(a);
	}
	if (w->st[t]) {
		w->st[t]->len = 0;
		w->st[t]->piped = false;
		tp_framer_init(&w->st[t]->f, STREAM_MAX,
		               w->s->conf->legacy_channels ? TP_CHAN_MAX_RFC5766 : TP_CHAN_MAX);
	}
}

static void sink_gone(struct tp_sink *sk)
{
	struct rw_sink *rs = (struct rw_sink *)sk;

	rs->w->gone++;
}

static void sink_kill(struct tp_sink *sk)
{
	struct rw_sink *rs = (struct rw_sink *)sk;

	ENSURE(rs->tuple >= 0, "kill on the UDP listener");
	close_conn(rs->w, (unsigned)rs->tuple, TP_END_KILLED);
}

/* ---- create, free ---- */

static struct tp_addr pool_ip(int v6)
{
	return v6 ? (struct tp_addr)V6(1) } : (struct tp_addr)V4(192, 0, 2, 1) };
}

static enum tp_relay_port self_relay_port(const void *arg, const struct tp_addr *peer, bool tcp)
{
	const struct tp_srv *s = arg;

	return tp_shared_relay_port(s->sh, s->conf, peer, tcp);
}

static struct tp_addr self_addrs[2];

/* One world per process, reset for each input: making the shared state,
 * the server and the buffers anew each time would cost most of the run.
 * rw_free checks that everything came back (endpoints, counts, ports). */
static struct rw_world *the;

static void build_once(void)
{
	struct rw_world *w = calloc(1, sizeof(*w));
	struct tp_srv *s = calloc(1, sizeof(*s));

	if (!w || !s)
		abort();
	w->s = s;
	w->sh = tp_shared_create();
	if (!w->sh)
		abort();
	/* fixed keys: the same nonce for the same time and source, always */
	memset(w->sh->nonce_key, 0x4e, sizeof(w->sh->nonce_key));
	memset(w->sh->hash_key, 0x48, sizeof(w->sh->hash_key));
	for (int v6 = 0; v6 < 2; v6++) {
		struct tp_addr ip = pool_ip(v6);

		w->sh->pools[w->sh->npools++] = tp_portpool_create(&ip);
		self_addrs[v6] = ip;
	}
	w->sh->workers[0] = s;
	w->sh->nworkers = 1;
	s->io = &io;
	s->sh = w->sh;
	s->worker = 0;
	s->crypto = tp_crypto_new();
	if (!s->crypto)
		abort();
	s->self.addrs = self_addrs;
	s->self.naddrs = 2;
	s->self.listen = listeners;
	s->self.nlisten = sizeof(listeners) / sizeof(listeners[0]);
	s->self.relay_port = self_relay_port;
	s->self.relay_arg = s;
	w->udp = (struct rw_sink){ .sink = { .send = sink_send, .transport = TP_LISTEN_UDP },
	                           .w = w, .tuple = -1 };
	for (int k = 0; k < 4; k++) {
		w->nat[k] = (struct rw_sink){ .sink = { .send = sink_send, .transport = TP_LISTEN_UDP,
		                                        .nat_role = (uint8_t)(k + 1) },
		                              .w = w, .tuple = -2 - k };
		s->nat[k] = &w->nat[k].sink;
		s->nat_addr[k] = listeners[NAT_FIRST + k].addr;
	}
	for (unsigned t = 0; t < RW_TUPLES; t++) {
		struct rw_sink *rs = &w->per[t];

		*rs = (struct rw_sink){ .sink = { .send = sink_send,
		                                  .transport = rw_tuples[t].transport,
		                                  .alloc_gone = sink_gone },
		                        .w = w, .tuple = (int)t };
		if (rw_tuples[t].transport == TP_LISTEN_DTLS)
			rs->sink.kill = sink_kill;
		if (rw_tuple_stream(t)) {
			rs->sink.stream = true;
			rs->sink.kill = sink_kill;
			rs->sink.to_pipe = sink_to_pipe;
			w->st[t] = calloc(1, sizeof(*w->st[t]));
			if (!w->st[t])
				abort();
		}
	}
	the = w;
}

/* The per-source and per-name budgets start full for each input. */
static void fresh_buckets(struct tp_shared *sh)
{
	tp_buckets_free(sh->unauth);
	tp_buckets_free(sh->fail_src);
	tp_buckets_free(sh->fail_user);
	sh->unauth = tp_buckets_create(64);
	sh->fail_src = tp_buckets_create(64);
	sh->fail_user = tp_buckets_create(64);
	if (!sh->unauth || !sh->fail_src || !sh->fail_user)
		abort();
}

struct rw_world *rw_create(void)
{
	struct rw_world *w;
	struct tp_srv *s;

	init_once();
	if (!the)
		build_once();
	w = cur = the;
	s = w->s;
	rng_restart();
	w->conf = 0;
	s->conf = confs[0];
	w->mono_ms = 1000000;
	w->expect_tuple = -1;
	w->next_cid = 0x1000;
	w->nconns = 0;
	w->nrep = 0;
	memset(w->pend, 0, sizeof(w->pend));
	memset(&s->stats, 0, sizeof(s->stats));
	fresh_buckets(w->sh);
	atomic_store(&w->sh->draining, false);
	atomic_store(&w->sh->alternate_next, 0);
	s->allocs = tp_allocs_create(w->sh, s, 0, &ops, w, tp_now(s));
	if (!s->allocs)
		abort();
	for (unsigned t = 0; t < RW_TUPLES; t++)
		if (w->st[t]) {
			w->st[t]->len = 0;
			w->st[t]->piped = false;
			tp_framer_init(&w->st[t]->f, STREAM_MAX, TP_CHAN_MAX);
		}
	totals.worlds++;
	return w;
}

void rw_free(struct rw_world *w)
{
	cur = w;
	totals.allocs_created += tp_allocs_created(w->s->allocs);
	tp_allocs_free(w->s->allocs);
	w->s->allocs = NULL;
	ENSURE(w->open_eps == 0, "relay endpoints left open after every allocation went");
	ENSURE(w->sh->nallocs == 0, "shared allocation count not back to 0");
	/* reservations hold their ports until they expire: give them back */
	for (size_t i = 0; i < TP_MAX_RESERVATIONS; i++) {
		struct tp_reservation *r = &w->sh->resv[i];

		if (r->token)
			tp_port_release(r->pool, r->port);
		memset(r, 0, sizeof(*r));
	}
	for (size_t i = 0; i < w->sh->npools; i++)
		ENSURE(w->sh->pools[i]->nused == 0, "relay ports still taken after every allocation went");
	for (size_t i = 0; i < w->sh->utab_size; i++)
		ENSURE(w->sh->utab[i] == NULL, "per-user counts left after every allocation went");
	cur = NULL;
}

static struct tp_sink *sink_of(struct rw_world *w, unsigned t)
{
	if (t == NAT_TUPLE)
		return &w->nat[0].sink;
	return rw_tuples[t].transport == TP_LISTEN_UDP ? &w->udp.sink : &w->per[t].sink;
}

/* ---- the invariants ---- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

struct digest {
	uint64_t h, perms, chans;
	size_t n;
};

static void digest_one(void *arg, struct tp_alloc *a)
{
	struct digest *d = arg;

	d->n++;
	d->h = fnv(d->h, &a->ft, sizeof(a->ft));
	d->h = fnv(d->h, &a->expires, sizeof(a->expires));
	d->h = fnv(d->h, &a->nrelay, sizeof(a->nrelay));
	for (int i = 0; i < a->nrelay; i++)
		d->h = fnv(d->h, &a->relay[i].addr, sizeof(a->relay[i].addr));
	d->h = fnv(d->h, a->user, strlen(a->user));
	d->h = fnv(d->h, &a->has_ticket, 1);
	if (a->has_ticket)
		d->h = fnv(d->h, a->ticket, TP_TICKET_LEN);
	for (uint32_t k = 0; k < a->perms.n; k++) {
		d->h = fnv(d->h, &a->perms.v[k].ip, sizeof(a->perms.v[k].ip));
		d->h = fnv(d->h, &a->perms.v[k].expires, sizeof(a->perms.v[k].expires));
	}
	for (uint32_t k = 0; k < a->chans.n; k++) {
		const struct tp_chan *c = &a->chans.v[k];

		d->h = fnv(d->h, &c->peer, sizeof(c->peer));
		d->h = fnv(d->h, &c->expires, sizeof(c->expires));
		d->h = fnv(d->h, &c->num, sizeof(c->num));
	}
	d->perms += a->perms.n;
	d->chans += a->chans.n;
}

/* Everything a request may create or change: allocations, their endpoints,
 * permissions, channels and tickets, the reservations and quota counts. */
static uint64_t digest(struct rw_world *w)
{
	struct digest d = { .h = 14695981039346656037ull };

	tp_allocs_foreach(w->s->allocs, digest_one, &d);
	for (size_t i = 0; i < TP_MAX_RESERVATIONS; i++)
		if (w->sh->resv[i].token)
			d.h = fnv(d.h, &w->sh->resv[i], sizeof(w->sh->resv[i]));
	d.h = fnv(d.h, &w->sh->nallocs, sizeof(w->sh->nallocs));
	d.h = fnv(d.h, &d.n, sizeof(d.n));
	if (d.perms > totals.perms_max)
		totals.perms_max = d.perms;
	if (d.chans > totals.chans_max)
		totals.chans_max = d.chans;
	return d.h;
}

struct count {
	long eps;
};

static void count_eps(void *arg, struct tp_alloc *a)
{
	((struct count *)arg)->eps += a->nrelay;
}

/* Every permission and live channel is one the peer policy allows (a reload
 * re-checks them; a channel to one of our relay ports may outlive the
 * allocation there, each packet checks it). */
static void policy_one(void *arg, struct tp_alloc *a)
{
	struct rw_world *w = arg;
	const struct tp_srv *s = w->s;
	time_t now = tp_now(s);

	for (uint32_t k = 0; k < a->perms.n; k++)
		if (a->perms.v[k].expires > now)
			ENSURE(tp_peer_check(s->conf, &s->self, &a->perms.v[k].ip,
			                     TP_PEER_IP | (a->is_tcp ? TP_PEER_TCP : 0)) == TP_PEER_OK,
			       "a permission for a peer the policy refuses");
	for (uint32_t k = 0; k < a->chans.n; k++) {
		const struct tp_chan *c = &a->chans.v[k];
		enum tp_peer_verdict v;

		if (c->expires <= now)
			continue;
		v = tp_peer_check(s->conf, &s->self, &c->peer, TP_PEER_PORT);
		ENSURE(v == TP_PEER_OK || (c->self_relay && v == TP_PEER_DENIED_RELAY_PORT),
		       "a channel to a peer the policy refuses");
		ENSURE(tp_alloc_relay_for(a, &c->peer) != NULL, "a channel to a family without a relay");
	}
}

static void check_tables(struct rw_world *w)
{
	const char *why = tp_allocs_check(w->s->allocs);
	struct count c = { 0 };

	if (why)
		fail("allocation tables inconsistent", why);
	ENSURE(w->sh->nallocs == tp_allocs_count(w->s->allocs),
	       "shared allocation count differs from the table");
	tp_allocs_foreach(w->s->allocs, count_eps, &c);
	tp_allocs_foreach(w->s->allocs, policy_one, w);
	ENSURE(c.eps == w->open_eps, "open relay endpoints differ from the allocations'");
	if (tp_allocs_count(w->s->allocs) > totals.allocs_max)
		totals.allocs_max = tp_allocs_count(w->s->allocs);
}

static bool verify_any(const struct tp_stun_msg *m, const uint8_t *key, size_t len)
{
	if (m->mi >= 0 && tp_stun_verify_mi(m, key, len) == TP_P_OK)
		return true;
	return m->mi256 >= 0 && tp_stun_verify_mi256(m, key, len) == TP_P_OK;
}

/* The keys a message could be signed with: the static user's two, the store
 * user's, and the REST keys of its USERNAME under the store's secret. */
static bool signed_by_known_key(struct rw_world *w, const struct tp_stun_msg *m)
{
	const struct tp_user *u = tp_conf_user(w->s->conf, RW_USER, strlen(RW_USER));
	const struct tp_stun_attr *un = tp_stun_find(m, TP_ATTR_USERNAME);

	if (m->mi < 0 && m->mi256 < 0)
		return false;
	if (verify_any(m, u->key_md5, 16) || verify_any(m, u->key_sha256, 32) ||
	    verify_any(m, bob_md5, 16))
		return true;
	if (un) {
		uint8_t mac[EVP_MAX_MD_SIZE], key[TP_KEY_MAX];
		unsigned maclen = 0;
		size_t klen;
		char pass[64];

		if (!HMAC(EVP_sha1(), RW_SECRET, (int)strlen(RW_SECRET), un->val, un->len, mac,
		          &maclen))
			abort();
		sodium_bin2base64(pass, sizeof(pass), mac, maclen, sodium_base64_VARIANT_ORIGINAL);
		for (int alg = TP_PWALG_MD5; alg <= TP_PWALG_SHA256; alg++)
			if (tp_key_long_term((enum tp_pw_alg)alg, (const char *)un->val, un->len,
			                     RW_REALM, realm_len, pass, strlen(pass), key,
			                     &klen) == TP_P_OK &&
			    verify_any(m, key, klen))
				return true;
	}
	return false;
}

/* The reply r answers the request whose transaction ID is tid (classic: 16
 * bytes) and method is method. */
static void check_reply(const struct rw_reply *r, uint16_t method, bool classic,
                        const uint8_t *tid, struct tp_stun_msg *out)
{
	const char *why = NULL;

	if (tp_stun_decode(out, r->buf, r->len, &why) != TP_P_OK)
		fail("a reply does not decode", why);
	ENSURE(out->cls == TP_CLASS_SUCCESS || out->cls == TP_CLASS_ERROR, "a reply that is no response");
	ENSURE(out->method == method, "a reply of another method");
	ENSURE(out->classic == classic, "a reply framed otherwise than its request");
	ENSURE(memcmp(out->tid, tid, classic ? 16 : TP_STUN_TID_LEN) == 0,
	       "a reply with another transaction ID");
}

static void count_answer(const struct tp_stun_msg *m)
{
	const struct tp_stun_attr *e = tp_stun_find(m, TP_ATTR_ERROR_CODE);
	uint16_t code = 0;

	if (m->cls == TP_CLASS_ERROR) {
		struct tp_error_code ec = { .code = 999 };

		if (e)
			tp_attr_error_code(e, &ec);
		code = ec.code;
		if (e)
			ENSURE(ec.reason_len <= REASON_MAX, "an error reason longer than REASON_MAX");
	}
	totals.answers[tp_stats_method(m->method)][tp_stats_result(code)]++;
}

static bool is_300(const struct tp_stun_msg *m)
{
	const struct tp_stun_attr *e = tp_stun_find(m, TP_ATTR_ERROR_CODE);
	struct tp_error_code ec = { .code = 0 };

	if (m->cls != TP_CLASS_ERROR || !e)
		return false;
	tp_attr_error_code(e, &ec);
	return ec.code == 300;
}

/* One message (a datagram or a stream frame) into tp_dispatch, checked. */
static void deliver(struct rw_world *w, unsigned t, const uint8_t *b, size_t n)
{
	struct tp_stun_msg req;
	const char *why = NULL;
	bool decoded, is_req, authable = false, hdr_req = false;
	uint64_t before;

	totals.messages++;
	decoded = n && b[0] < 0x40 && tp_stun_decode(&req, b, n, &why) == TP_P_OK;
	is_req = decoded && req.cls == TP_CLASS_REQUEST;
	if (decoded)
		authable = signed_by_known_key(w, &req);
	totals.authed_msgs += authable;
	/* what the malformed path may answer: a request by its header */
	if (n >= TP_STUN_HDR_LEN && b[0] < 0x40)
		hdr_req = tp_stun_type_class((uint16_t)(b[0] << 8 | b[1])) == TP_CLASS_REQUEST;
	before = digest(w);
	w->nrep = 0;
	w->expect_tuple = (int)t;
	tp_dispatch(w->s, sink_of(w, t), &rw_tuples[t], b, n);
	w->expect_tuple = -1;

	ENSURE(w->nrep <= 1, "more than one reply to one message");
	if (w->nrep) {
		const struct rw_reply *r = &w->rep[0];
		bool classic;
		uint16_t method;
		struct tp_stun_msg rm;
		long excess = (long)r->len - (long)n;

		ENSURE(is_req || (!decoded && hdr_req), "a reply to something that is no request");
		classic = !(b[4] == 0x21 && b[5] == 0x12 && b[6] == 0xA4 && b[7] == 0x42);
		method = tp_stun_type_method((uint16_t)(b[0] << 8 | b[1]));
		check_reply(r, method, classic, classic ? b + 4 : b + 8, &rm);
		count_answer(&rm);
		if (rm.mi >= 0 || rm.mi256 >= 0)
			ENSURE(authable, "a signed reply to a request no known key signed");
		if (!authable) {
			if (excess > totals.unauth_excess_max)
				totals.unauth_excess_max = excess;
			ENSURE(r->len <= n + UNAUTH_EXTRA(realm_len),
			       "an unauthenticated reply outgrows its request by more than the fixed "
			       "attributes");
			if (is_300(&rm)) {
				ENSURE(r->len <= n + UNAUTH_300_EXTRA,
				       "an unauthenticated 300 outgrows its request by more than "
				       "ERROR-CODE, ALTERNATE-SERVER and ALTERNATE-DOMAIN");
				ENSURE(!tp_stun_find(&rm, TP_ATTR_NONCE) && !tp_stun_find(&rm, TP_ATTR_REALM),
				       "an unauthenticated 300 with a challenge");
				ENSURE(tp_stun_find(&rm, TP_ATTR_ALTERNATE_SERVER),
				       "a 300 without ALTERNATE-SERVER");
			}
		}
		/* the mapped address; RFC 5780 adds RESPONSE-ORIGIN and OTHER-ADDRESS
		 * (and PADDING only within the request's size) */
		if (rm.method == TP_METHOD_BINDING && rm.cls == TP_CLASS_SUCCESS)
			ENSURE(r->len <= n + (t == NAT_TUPLE ? 3 * 12
			                      : rw_tuples[t].client.family == AF_INET6 ? 24 : 12),
			       "a Binding reply outgrows its request by more than its addresses");
	}
	if (!authable)
		ENSURE(digest(w) == before, "state changed by a message no known key signed");
	check_tables(w);
}

/* ---- input ---- */

void rw_datagram(struct rw_world *w, unsigned tuple, const uint8_t *b, size_t n)
{
	unsigned t = tuple % RW_TUPLES;

	cur = w;
	if (rw_tuple_stream(t)) {
		rw_stream(w, t, b, n);
		return;
	}
	deliver(w, t, b, n);
}

void rw_stream(struct rw_world *w, unsigned tuple, const uint8_t *b, size_t n)
{
	unsigned t = tuple % RW_TUPLES;
	struct stream *st = w->st[t];

	cur = w;
	if (!st) {
		deliver(w, t, b, n);
		return;
	}
	if (st->piped)
		return;             /* raw bytes for the peer */
	if (n > sizeof(st->buf) - st->len)
		n = sizeof(st->buf) - st->len;   /* the edge stops reading */
	memcpy(st->buf + st->len, b, n);
	st->len += n;
	for (;;) {
		size_t flen;
		enum tp_frame_kind kind;
		enum tp_perr e = tp_framer_next(&st->f, st->buf, st->len, &flen, &kind);

		if (e == TP_P_NEED_MORE)
			return;
		if (e != TP_P_OK) {
			close_conn(w, t, TP_END_CLOSED);   /* framing error: it closes */
			check_tables(w);
			return;
		}
		ENSURE(flen >= 4 && flen <= st->len, "framer gave a frame outside the buffer");
		deliver(w, t, st->buf, flen);
		memmove(st->buf, st->buf + flen, st->len - flen);
		st->len -= flen;
		if (st->piped) {
			st->len = 0;
			return;
		}
	}
}

void rw_advance(struct rw_world *w, uint64_t ms)
{
	cur = w;
	w->mono_ms += ms;
	tp_allocs_tick(w->s->allocs, tp_now(w->s));
	check_tables(w);
}

void rw_settle(struct rw_world *w, bool yes)
{
	struct pending *p = NULL;

	cur = w;
	for (size_t i = 0; i < PENDING && !p; i++)
		if (w->pend[i].kind != PEND_NONE)
			p = &w->pend[i];
	if (!p)
		return;
	struct pending q = *p;
	struct tp_stun_msg rm;
	int t = -1;

	p->kind = PEND_NONE;
	for (unsigned i = 0; i < RW_TUPLES; i++)
		if (tp_addr_eq(&rw_tuples[i].client, &q.rp.ft.client) &&
		    tp_addr_eq(&rw_tuples[i].local, &q.rp.ft.local) &&
		    rw_tuples[i].transport == q.rp.ft.transport)
			t = (int)i;
	ENSURE(t >= 0, "a deferred answer for no client");
	ENSURE(live(w, q.a), "a deferred answer for a dead allocation");
	w->nrep = 0;
	w->expect_tuple = t;
	if (q.kind == PEND_QUOTA) {
		q.a->qwait = NULL;
		tp_turn_quota_done(w->s, q.a, &q.rp, yes);
	} else if (yes && w->nconns < PENDING) {
		struct tp_stun_wr wr;
		uint8_t buf[TP_REPLY_MAX];
		struct conn *c = &w->conns[w->nconns++];

		c->cid = w->next_cid++;
		snprintf(c->user, sizeof(c->user), "%s", q.a->user);
		c->bound = false;
		tp_reply_start(&q.rp, &wr, buf, sizeof(buf), TP_CLASS_SUCCESS);
		tp_stun_put_u32(&wr, TP_ATTR_CONNECTION_ID, c->cid);
		tp_reply_send(w->s, &q.rp, &wr, 0, true);
	} else {
		tp_reply_error(w->s, &q.rp, 447, NULL, 0);
	}
	w->expect_tuple = -1;
	ENSURE(w->nrep == 1, "a deferred answer did not go out once");
	check_reply(&w->rep[0], q.rp.method, q.rp.classic, q.rp.tid, &rm);
	count_answer(&rm);
	ENSURE((rm.mi >= 0 || rm.mi256 >= 0) == q.rp.authed, "a deferred answer signed otherwise");
	check_tables(w);
}

void rw_kill(struct rw_world *w, unsigned which)
{
	cur = w;
	which %= 3;
	if (which < 2) {
		tp_turn_kill(w->s, which ? RW_STORE_USER : RW_USER, 0);
	} else {
		struct tp_alloc *a = NULL;

		for (unsigned t = 0; t < RW_TUPLES && !a; t++)
			a = tp_alloc_find(w->s->allocs, &rw_tuples[t]);
		if (a) {
			unsigned want = a->qwait ? 0u : 1u;   /* a waiting one is not killed */

			ENSURE(tp_turn_kill(w->s, NULL, a->id) == want,
			       "kill by id did not end exactly that allocation");
		}
	}
	check_tables(w);
}

void rw_recheck(struct rw_world *w)
{
	cur = w;
	tp_turn_recheck_policy(w->s);
	check_tables(w);
}

void rw_set_conf(struct rw_world *w, unsigned i)
{
	cur = w;
	w->conf = i % RW_CONFS;
	w->s->conf = confs[w->conf];
	/* what tp_srv_reload does with the new peer policy */
	tp_turn_recheck_policy(w->s);
	check_tables(w);
}

void rw_drain(struct rw_world *w, bool on)
{
	atomic_store(&w->sh->draining, on);
}

/* ---- signed requests: the world signs what the fuzzer wrote ---- */

/* Attributes the client's credentials bring (never copied from the template). */
static bool credential_attr(uint16_t t)
{
	return t == TP_ATTR_USERNAME || t == TP_ATTR_REALM || t == TP_ATTR_NONCE ||
	       t == TP_ATTR_MESSAGE_INTEGRITY || t == TP_ATTR_MESSAGE_INTEGRITY_SHA256 ||
	       t == TP_ATTR_FINGERPRINT || t == TP_ATTR_PASSWORD_ALGORITHM ||
	       t == TP_ATTR_PASSWORD_ALGORITHMS || t == TP_ATTR_USERHASH;
}

/* The REST credential of the store's secret for name (a "<expiry>:<user>"). */
static void rest_pass(const char *name, char pass[64])
{
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned maclen = 0;

	if (!HMAC(EVP_sha1(), RW_SECRET, (int)strlen(RW_SECRET), (const uint8_t *)name, strlen(name),
	          mac, &maclen))
		abort();
	sodium_bin2base64(pass, 64, mac, maclen, sodium_base64_VARIANT_ORIGINAL);
}

/* The challenge the server would give tuple t now, into c. */
static void learn_challenge(struct rw_world *w, unsigned t, struct tp_tc *c)
{
	static const uint8_t tid[TP_STUN_TID_LEN];
	uint8_t buf[512];
	struct tp_stun_wr wr;
	struct tp_stun_msg m;
	const struct tp_stun_attr *realm, *nonce, *algs;
	long n;

	tp_stun_wr_init(&wr, buf, sizeof(buf), TP_METHOD_ALLOCATE, TP_CLASS_ERROR, tid);
	tp_stun_put_error(&wr, 401, "Unauthorized");
	tp_auth_put_challenge(w->s, &rw_tuples[t], &wr);
	n = tp_stun_wr_finish(&wr);
	ENSURE(n > 0 && tp_stun_decode(&m, buf, (size_t)n, NULL) == TP_P_OK,
	       "the server's challenge does not decode");
	realm = tp_stun_find(&m, TP_ATTR_REALM);
	nonce = tp_stun_find(&m, TP_ATTR_NONCE);
	algs = tp_stun_find(&m, TP_ATTR_PASSWORD_ALGORITHMS);
	ENSURE(realm && nonce && algs, "the server's challenge lacks REALM, NONCE or algorithms");
	ENSURE(tp_tc_set_challenge(c, (const char *)realm->val, realm->len,
	                           (const char *)nonce->val, nonce->len, algs->val, algs->len) == 0,
	       "the TURN client refuses the server's challenge");
}

/*
 * RW_OP_SIGNED: sel picks the credentials (bits 0-1: alice, alice with
 * SHA-256, bob from the store, a REST user; bit 2: MESSAGE-INTEGRITY instead
 * of -SHA256; bit 3: USERHASH; bit 4: FINGERPRINT), tmpl is a request
 * template: its type and transaction ID and its attributes (read loosely,
 * cut where they stop making sense) but the credential ones. The world signs
 * it with the nonce the server gives now, as a client that knows it would,
 * so mutated requests still get past authentication.
 */
static void signed_request(struct rw_world *w, unsigned t, uint8_t sel, const uint8_t *tmpl,
                           size_t n)
{
	static const char *const users[] = { RW_USER, RW_USER, RW_STORE_USER,
	                                     "1800086400:carol" };
	static const char *const pws[] = { RW_PASS, RW_PASS, RW_STORE_PASS, NULL };
	struct tp_tc_opts o = { .mi = sel & 4 ? TP_TC_MI_SHA1 : TP_TC_MI_SHA256,
	                        .userhash = (sel & 8) != 0, .fingerprint = (sel & 16) != 0,
	                        .alg = (sel & 3) == 1 ? TP_PWALG_SHA256 : TP_PWALG_MD5 };
	static uint8_t out[TP_MAX_DGRAM];
	struct tp_tc c;
	struct tp_stun_wr wr;
	const char *user = users[sel & 3], *pass = pws[sel & 3];
	char rest[64];
	uint16_t type;
	long len;

	if (n < TP_STUN_HDR_LEN)
		return;
	if (!pass) {
		rest_pass(user, rest);
		pass = rest;
	}
	tp_tc_init(&c, &o);
	if (tp_tc_set_password(&c, user, strlen(user), pass, strlen(pass)) != 0)
		abort();
	learn_challenge(w, t, &c);
	type = (uint16_t)((tmpl[0] & 0x3f) << 8 | tmpl[1]);
	if (tp_tc_begin(&c, &wr, out, sizeof(out), tp_stun_type_method(type), tmpl + 8) != 0)
		return;
	for (const uint8_t *p = tmpl + TP_STUN_HDR_LEN, *end = tmpl + n; end - p >= 4;) {
		uint16_t at = (uint16_t)(p[0] << 8 | p[1]);
		size_t alen = (size_t)(p[2] << 8 | p[3]);

		p += 4;
		if (alen > (size_t)(end - p))
			alen = (size_t)(end - p);
		if (!credential_attr(at))
			tp_stun_put(&wr, at, p, alen);
		{
			size_t padded = (alen + 3) & ~(size_t)3;

			p += padded < (size_t)(end - p) ? padded : (size_t)(end - p);
		}
	}
	len = tp_tc_finish(&c, &wr, 0);
	tp_tc_clear(&c);
	if (len <= 0)
		return;
	if (rw_tuple_stream(t))
		rw_stream(w, t, out, (size_t)len);
	else
		deliver(w, t, out, (size_t)len);
}

/* ---- the input format ---- */

size_t rw_run_record(struct rw_world *w, const uint8_t *d, size_t n)
{
	uint8_t h;
	unsigned t, op;
	size_t len;

	if (n == 0)
		return 0;
	h = d[0];
	t = h & 7u;
	op = h >> 5;
	switch (op) {
	case RW_OP_DGRAM:
	case RW_OP_STREAM:
	case RW_OP_DGRAM2:
		if (n < 3)
			return n;
		len = (size_t)d[1] << 8 | d[2];
		if (len > n - 3)
			len = n - 3;
		if (op == RW_OP_STREAM)
			rw_stream(w, t, d + 3, len);
		else
			rw_datagram(w, t, d + 3, len);
		return 3 + len;
	case RW_OP_ADVANCE:
		if (n < 3)
			return n;
		len = (size_t)d[1] << 8 | d[2];
		rw_advance(w, len & 0x8000 ? (uint64_t)(len & 0x7fff) * 1000 : len);
		return 3;
	case RW_OP_SETTLE:
		rw_settle(w, t & 1);
		return 1;
	case RW_OP_SIGNED:
		if (n < 4)
			return n;
		len = (size_t)d[1] << 8 | d[2];
		if (len > n - 3)
			len = n - 3;
		if (len >= 1)
			signed_request(w, t, d[3], d + 4, len - 1);
		return 3 + len;
	case RW_OP_EVENT:
		if (t < 3)
			rw_kill(w, t);
		else if (t == 3)
			rw_recheck(w);
		else if (t < 6)
			rw_set_conf(w, t - 4);
		else
			rw_drain(w, t == 6);
		return 1;
	default:
		return 1;
	}
}

void rw_run(struct rw_world *w, const uint8_t *d, size_t n)
{
	for (unsigned k = 0; n && k < RW_MAX_RECORDS; k++) {
		size_t used = rw_run_record(w, d, n);

		d += used;
		n -= used;
	}
}
