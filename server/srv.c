/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * srv.c - a server instance on one event loop: listeners, relay addresses, the
 * server's own addresses (for the peer policy), keys, and reload.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <malloc.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "alloc.h"
#include "shared.h"
#include "auth.h"
#include "cluster.h"
#include "dispatch.h"
#include "listen_dtls.h"
#include "listen_tcp.h"
#include "listen_udp.h"
#include "offload_srv.h"
#include "ports.h"
#include "relay.h"
#include "relay_tcp.h"
#include "signal_ws.h"
#include "slab.h"
#include "sock.h"
#include "srv.h"
#include "tls_cert.h"
#include "worker.h"

/*
 * The listeners of one worker, and the TLS and DTLS contexts they borrow (a
 * listener holds a pointer to the slot, so a certificate reload swaps the
 * context under every listener at once; live sessions keep theirs).
 */
struct tp_listeners {
	struct tp_udp_listener *udp[TP_CONF_MAX_LISTEN];
	size_t nudp;
	struct tp_tcp_listener *tcp[TP_CONF_MAX_LISTEN];
	size_t ntcp;
	struct tp_dtls_listener *dtls[TP_CONF_MAX_LISTEN];
	size_t ndtls;
	struct tp_ws *ws[TP_CONF_MAX_LISTEN];  /* signaling rooms */
	size_t nws;
	struct tp_listen listen[TP_CONF_MAX_LISTEN]; /* bound addresses (ports resolved) */
	size_t nlisten;
	size_t nbase_listen;                  /* of them, from the configuration */
	SSL_CTX *tls_ctx;                     /* NULL without a certificate */
	SSL_CTX *dtls_ctx;
};

/* ---- the edges as the core sees them (struct tp_io) ---- */

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static time_t wall(void)
{
	return time(NULL);
}

static void migrate(struct tp_srv *s, unsigned owner, const uint8_t *ticket, size_t ticket_len,
                    const struct tp_5tuple *ft, struct tp_sink *sink, const uint8_t *req,
                    size_t req_len)
{
	tp_worker_post_migrate(s->sh->workers[owner], s, ticket, ticket_len, ft, sink, req, req_len);
}

static const struct tp_io io = {
	.relay_send = tp_relay_send,
	.tcp_connect = tp_tcp_connect,
	.tcp_bind = tp_tcp_bind,
	.chan_bound = tp_offload_srv_chan_bound,
	.tcp_recheck = tp_tcp_relay_recheck,
	.migrate = migrate,
	.quota_take = tp_cluster_quota_take,
	.user_key = tp_cluster_user_key,
	.user_by_hash = tp_cluster_user_by_hash,
	.secrets = tp_cluster_secrets,
	.alternate = tp_cluster_alternate,
	.mono_ms = mono_ms,
	.wall = wall,
};

static bool is_zero(const struct tp_addr *a)
{
	static const uint8_t zero[16];

	return memcmp(a->ip, zero, a->family == AF_INET6 ? 16 : 4) == 0;
}

static void add_self(struct tp_srv *s, const struct tp_addr *a)
{
	size_t max = sizeof(s->self_addrs) / sizeof(s->self_addrs[0]);

	if (is_zero(a))
		return;
	for (size_t i = 0; i < s->self.naddrs; i++)
		if (tp_addr_ip_eq(&s->self_addrs[i], a))
			return;
	if (s->self.naddrs < max) {
		s->self_addrs[s->self.naddrs] = *a;
		s->self_addrs[s->self.naddrs++].port = 0;
	}
}

/* Rank an interface address as a relay address: global 3, private 2, loopback 1. */
static int rank(const struct tp_addr *a)
{
	if (a->family == AF_INET) {
		if (a->ip[0] == 127)
			return 1;
		if (a->ip[0] == 169 && a->ip[1] == 254)
			return 0;
		if (a->ip[0] == 10 || (a->ip[0] == 172 && (a->ip[1] & 0xF0) == 16) ||
		    (a->ip[0] == 192 && a->ip[1] == 168))
			return 2;
		return 3;
	}
	static const uint8_t lo6[16] = { [15] = 1 };

	if (memcmp(a->ip, lo6, 16) == 0)
		return 1;
	if (a->ip[0] == 0xfe && (a->ip[1] & 0xC0) == 0x80)
		return 0;
	if ((a->ip[0] & 0xFE) == 0xfc)
		return 2;
	return 3;
}

/*
 * Without relay-ip: one relay address per family, a specific listener address
 * of that family, else the best interface address (global, then private, then
 * loopback).
 */
static void choose_relay(const struct tp_conf *c, int family, struct tp_addr *out)
{
	struct ifaddrs *ifs, *i;
	int best = 0;

	memset(out, 0, sizeof(*out));
	for (size_t k = 0; k < c->nlisten; k++)
		if (c->listen[k].addr.family == family && !is_zero(&c->listen[k].addr)) {
			*out = c->listen[k].addr;
			out->port = 0;
			return;
		}
	if (getifaddrs(&ifs) != 0)
		return;
	for (i = ifs; i; i = i->ifa_next) {
		struct tp_addr a;
		int r;

		if (!i->ifa_addr || i->ifa_addr->sa_family != family || !(i->ifa_flags & IFF_UP))
			continue;
		if (tp_addr_from_sa(&a, i->ifa_addr) != 0)
			continue;
		r = rank(&a);
		if (r > best) {
			best = r;
			*out = a;
			out->port = 0;
		}
	}
	freeifaddrs(ifs);
}

/* The peer policy's view of our relay ports (lock-free, see ports.h). */
static enum tp_relay_port relay_port(const void *arg, const struct tp_addr *peer, bool tcp)
{
	const struct tp_srv *s = arg;

	return tp_shared_relay_port(s->sh, s->conf, peer, tcp);
}

static void collect_self(struct tp_srv *s)
{
	const struct tp_conf *c = s->conf;
	struct ifaddrs *ifs;

	s->self.naddrs = 0;
	s->self.addrs = s->self_addrs;
	if (getifaddrs(&ifs) == 0) {
		for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
			struct tp_addr a;

			if (i->ifa_addr && tp_addr_from_sa(&a, i->ifa_addr) == 0)
				add_self(s, &a);
		}
		freeifaddrs(ifs);
	}
	for (size_t i = 0; i < c->nexternal; i++) {
		add_self(s, &c->external[i].pub);
		if (c->external[i].priv.family)
			add_self(s, &c->external[i].priv);
	}
	if (c->nother_ip)
		add_self(s, &c->other_ip[0]);
	for (size_t i = 0; i < s->sh->npools; i++)
		add_self(s, &s->sh->pools[i]->ip);
	s->self.relay_port = relay_port;
	s->self.relay_arg = s;
}

static const char *proto_names[] = { "?", "udp", "tcp", "tls", "dtls", "ws" };

/* A dtls: listener that shares its address and port with a udp: one (the
 * configuration allows one of each): one socket, demuxed by first byte. */
static bool shares_udp(const struct tp_listen *list, size_t n, const struct tp_listen *l)
{
	if (l->proto != TP_LISTEN_DTLS)
		return false;
	for (size_t i = 0; i < n; i++)
		if (list[i].proto == TP_LISTEN_UDP && tp_addr_eq(&list[i].addr, &l->addr))
			return true;
	return false;
}

/*
 * Before the first socket: a UDP port held by anyone else fails the start.
 * The listeners bind with SO_REUSEADDR and (several workers) SO_REUSEPORT, so
 * a second turnpike on the same port would join the group (or shadow it) and
 * take part of the traffic silently; a bind without either flag tells.
 */
static int probe_ports(const struct tp_conf *c, char *err, size_t errlen)
{
	for (size_t i = 0; i < c->nlisten; i++) {
		const struct tp_listen *l = &c->listen[i];
		char a[64], where[300];

		if ((l->proto != TP_LISTEN_UDP && l->proto != TP_LISTEN_DTLS) ||
		    tp_sock_probe(&l->addr, SOCK_DGRAM) != -EADDRINUSE)
			continue; /* other errors: the bind itself reports them */
		tp_addr_fmt(&l->addr, a, sizeof(a));
		snprintf(err, errlen, "listen %s %s (listen, %s): address in use by another process "
		         "(another turnpike or TURN server on this port?)", proto_names[l->proto], a,
		         tp_conf_where(c, "listen", where, sizeof(where)));
		return -EADDRINUSE;
	}
	return 0;
}

/*
 * Worker 0 opens every listener of the configuration; the other workers open
 * their own SO_REUSEPORT sockets for the UDP and DTLS ones, on the addresses
 * worker 0 bound (its resolved ports), so the kernel spreads clients by
 * 5-tuple. TCP, TLS and signaling stay on worker 0: RFC 6062 data connections
 * must meet their peer connection, and both peers of a room must meet. A
 * dtls: listener on a udp: listener's address and port opens no socket: it
 * rides on the UDP one (second pass, once the UDP sockets exist).
 */
static int open_listeners(struct tp_srv *s, char *err, size_t errlen)
{
	const struct tp_conf *c = s->conf;
	const struct tp_srv *first = s->worker ? s->sh->workers[0] : NULL;
	bool reuse = s->sh->nworkers > 1;
	size_t n = first ? first->lsn->nbase_listen : c->nlisten;
	const struct tp_listen *list = first ? first->lsn->listen : c->listen;
	int rc;

	if (!first && (rc = probe_ports(c, err, errlen)) != 0)
		return rc;
	for (size_t k = 0; k < 2 * n; k++) {
		const struct tp_listen *l = &list[k % n];
		bool shared = shares_udp(list, n, l);
		const struct tp_addr *bound = NULL;
		struct tp_addr ws_addr;
		char a[64];

		if (shared != (k >= n))
			continue;
		if (first && l->proto != TP_LISTEN_UDP && l->proto != TP_LISTEN_DTLS)
			continue;
		tp_addr_fmt(&l->addr, a, sizeof(a));
		switch (l->proto) {
		case TP_LISTEN_UDP:
			rc = tp_udp_listen(s, &l->addr, reuse, &s->lsn->udp[s->lsn->nudp]);
			bound = rc ? NULL : tp_udp_addr(s->lsn->udp[s->lsn->nudp++]);
			break;
		case TP_LISTEN_TLS:
			if (!s->lsn->tls_ctx) {
				snprintf(err, errlen, "listen tls %s: set tls-cert (and tls-key)", a);
				return -EINVAL;
			}
			/* fall through */
		case TP_LISTEN_TCP:
			rc = tp_tcp_listen(s, &l->addr, l->proto == TP_LISTEN_TLS, l->proxy,
			                   &s->lsn->tls_ctx, &s->lsn->tcp[s->lsn->ntcp]);
			bound = rc ? NULL : tp_tcp_addr(s->lsn->tcp[s->lsn->ntcp++]);
			break;
		case TP_LISTEN_DTLS:
			if (!s->lsn->dtls_ctx) {
				snprintf(err, errlen, "listen dtls %s: set tls-cert (and tls-key)", a);
				return -EINVAL;
			}
			if (shared) {
				struct tp_udp_listener *u = NULL;

				for (size_t j = 0; j < s->lsn->nudp && !u; j++)
					if (tp_addr_eq(tp_udp_addr(s->lsn->udp[j]), &l->addr))
						u = s->lsn->udp[j];
				if (!u)
					continue; /* its udp: one was skipped (no IPv6 here) */
				rc = tp_dtls_attach(s, tp_udp_fd(u), tp_udp_addr(u), &s->lsn->dtls_ctx,
				                    &s->lsn->dtls[s->lsn->ndtls]);
				if (!rc)
					tp_udp_set_dtls(u, s->lsn->dtls[s->lsn->ndtls]);
			} else {
				rc = tp_dtls_listen(s, &l->addr, reuse, &s->lsn->dtls_ctx,
				                    &s->lsn->dtls[s->lsn->ndtls]);
			}
			bound = rc ? NULL : tp_dtls_addr(s->lsn->dtls[s->lsn->ndtls++]);
			break;
		case TP_LISTEN_WS: {
			/* max-connections-per-ip 0 (unlimited) is "as many as in all" here */
			struct tp_ws_opts o = { .token = c->signal_token,
			                        .max_conns = c->max_connections,
			                        .max_conns_per_ip = c->max_connections_per_ip
			                                                    ? c->max_connections_per_ip
			                                                    : UINT32_MAX };

			rc = tp_ws_listen(s->base, &l->addr, &o, &s->lsn->ws[s->lsn->nws]);
			if (!rc) {
				ws_addr = l->addr;
				ws_addr.port = tp_ws_port(s->lsn->ws[s->lsn->nws++]);
				bound = &ws_addr;
			}
			break;
		}
		default:
			snprintf(err, errlen, "listen %s: unknown transport", a);
			return -EINVAL;
		}
		if (rc == -EAFNOSUPPORT && is_zero(&l->addr)) {
			/* the default listens on [::] too: a host without IPv6 skips it */
			tp_warn(NULL, "listen %s %s: %s: skipped", proto_names[l->proto], a,
			        strerror(-rc));
			continue;
		}
		if (rc == -EADDRINUSE) {
			char where[300];

			snprintf(err, errlen, "listen %s %s (listen, %s): address in use by another "
			         "process (another turnpike or TURN server on this port?)",
			         proto_names[l->proto], a,
			         tp_conf_where(c, "listen", where, sizeof(where)));
			return rc;
		}
		if (rc) {
			snprintf(err, errlen, "listen %s %s: %s", proto_names[l->proto], a,
			         strerror(-rc));
			return rc;
		}
		if (shared && !first)
			tp_info(NULL, "listen dtls %s: on the udp socket of that port (RFC 7983 "
			        "demultiplexing)", a);
		s->lsn->listen[s->lsn->nlisten].proto = l->proto;
		s->lsn->listen[s->lsn->nlisten].addr = *bound;
		s->lsn->nlisten++;
	}
	if (s->lsn->nlisten == 0 && !first) {
		snprintf(err, errlen, "no listener could be opened");
		return -EINVAL;
	}
	s->lsn->nbase_listen = s->lsn->nlisten;
	/* the peer policy refuses every listener of the process, wherever it runs */
	s->self.listen = first ? first->lsn->listen : s->lsn->listen;
	s->self.nlisten = first ? first->lsn->nlisten : s->lsn->nlisten;
	return 0;
}

/*
 * RFC 5780: the primary address A:P1 is the first UDP listener on a specific
 * address; other-ip B (same family) and other-port P2 give the three more
 * sockets A:P2, B:P1 and B:P2.
 */
static int open_nat(struct tp_srv *s, char *err, size_t errlen)
{
	const struct tp_conf *c = s->conf;
	struct tp_udp_listener *prim = NULL;
	struct tp_addr addrs[4];
	char a[64];

	if (!c->nat_discovery)
		return 0;
	for (size_t i = 0; i < s->lsn->nudp && !prim; i++)
		if (!is_zero(tp_udp_addr(s->lsn->udp[i])))
			prim = s->lsn->udp[i];
	if (!prim) {
		snprintf(err, errlen, "nat-discovery needs a udp listener on a specific address "
		                      "(not 0.0.0.0 or ::)");
		return -EINVAL;
	}
	addrs[0] = *tp_udp_addr(prim);
	tp_addr_fmt(&addrs[0], a, sizeof(a));
	if (!c->nother_ip || c->other_ip[0].family != addrs[0].family ||
	    tp_addr_ip_eq(&c->other_ip[0], &addrs[0])) {
		snprintf(err, errlen, "nat-discovery needs other-ip: a second address of the same "
		                      "family as %s (RFC 5780 behaviour discovery needs two)", a);
		return -EINVAL;
	}
	addrs[1] = addrs[0];
	addrs[1].port = c->other_port ? c->other_port : (uint16_t)(addrs[0].port + 1);
	if (addrs[1].port == addrs[0].port) {
		snprintf(err, errlen, "nat-discovery: other-port must differ from %u", addrs[0].port);
		return -EINVAL;
	}
	addrs[2] = c->other_ip[0];
	addrs[2].port = addrs[0].port;
	addrs[3] = c->other_ip[0];
	addrs[3].port = addrs[1].port;
	s->nat[0] = tp_udp_sink(prim);
	for (int k = 1; k < 4; k++) {
		int rc = s->worker ? 0 : tp_sock_probe(&addrs[k], SOCK_DGRAM);

		if (rc == -EADDRINUSE) {
			tp_addr_fmt(&addrs[k], a, sizeof(a));
			snprintf(err, errlen, "nat-discovery: listen udp %s: address in use by another "
			         "process", a);
			return rc;
		}
		rc = tp_udp_listen(s, &addrs[k], s->sh->nworkers > 1, &s->lsn->udp[s->lsn->nudp]);

		if (rc) {
			tp_addr_fmt(&addrs[k], a, sizeof(a));
			snprintf(err, errlen, "nat-discovery: listen udp %s: %s", a, strerror(-rc));
			return rc;
		}
		s->nat[k] = tp_udp_sink(s->lsn->udp[s->lsn->nudp]);
		s->lsn->listen[s->lsn->nlisten].proto = TP_LISTEN_UDP;
		s->lsn->listen[s->lsn->nlisten++].addr = addrs[k];
		s->lsn->nudp++;
	}
	for (int k = 0; k < 4; k++) {
		s->nat[k]->nat_role = (uint8_t)(k + 1);
		s->nat_addr[k] = addrs[k];
	}
	if (!s->worker)
		s->self.nlisten = s->lsn->nlisten;
	return 0;
}

/* Every relay-ip gets a port pool; without relay-ip, one address per family. */
int tp_srv_shared_setup(struct tp_shared *sh, const struct tp_conf *c, char *err, size_t errlen)
{
	struct tp_addr chosen[2];
	const struct tp_addr *ips = c->relay_ip;
	size_t n = c->nrelay_ip;

	if (n == 0) {
		choose_relay(c, AF_INET, &chosen[n]);
		n += chosen[n].family != 0;
		choose_relay(c, AF_INET6, &chosen[n]);
		n += chosen[n].family != 0;
		ips = chosen;
	}
	for (size_t i = 0; i < n; i++) {
		sh->pools[sh->npools] = tp_portpool_create(&ips[i]);
		if (!sh->pools[sh->npools]) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		sh->npools++;
	}
	if (sh->npools == 0) {
		snprintf(err, errlen, "no relay address: set relay-ip");
		return -EINVAL;
	}
	sh->relay_slab = tp_slab_create(tp_relay_io_size());
	if (!sh->relay_slab) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int make_tls(struct tp_srv *s, char *err, size_t errlen)
{
	const struct tp_conf *c = s->conf;

	if (!c->tls_cert || !c->tls_cert[0])
		return 0;
	s->lsn->tls_ctx = tp_tls_ctx_new(c, false, err, errlen);
	if (!s->lsn->tls_ctx)
		return -EINVAL;
	if (s->worker == 0)
		tp_tls_describe(s->lsn->tls_ctx, c, "", false); /* the info line: check.c's */
	s->lsn->dtls_ctx = tp_tls_ctx_new(c, true, err, errlen);
	if (!s->lsn->dtls_ctx)
		return -EINVAL;
	tp_dtls_ctx_setup(s->lsn->dtls_ctx);
	return 0;
}

static bool same_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

/* The address this node's load is published with, for other nodes' 300s: the
 * first UDP listener on a specific address, else the first relay address
 * with the first UDP listener's port; through the external-ip mapping. */
static void advertised(const struct tp_srv *s, struct tp_addr *out)
{
	const struct tp_srv *first = s->worker ? s->sh->workers[0] : s;
	const struct tp_listeners *l = first->lsn;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < l->nlisten; i++) {
		if (l->listen[i].proto != TP_LISTEN_UDP)
			continue;
		if (!is_zero(&l->listen[i].addr)) {
			tp_conf_public_addr(s->conf, &l->listen[i].addr, out);
			return;
		}
		if (!out->family && s->sh->npools) {
			struct tp_addr a = s->sh->pools[0]->ip;

			a.port = l->listen[i].addr.port;
			tp_conf_public_addr(s->conf, &a, out);
		}
	}
}

/* ---- the state layer's edges (struct tp_alloc_ops) ---- */

static int ops_open(void *env, struct tp_alloc *a, unsigned i, const struct tp_addr *addr)
{
	(void)env;
	return a->is_tcp ? tp_tcp_relay_open(a, addr) : tp_relay_open(a, i, addr);
}

static void ops_close(void *env, struct tp_alloc *a, unsigned i)
{
	(void)env;
	if (a->is_tcp)
		tp_tcp_relay_close(a);
	else
		tp_relay_close(a, i);
}

static void ops_move(void *env, struct tp_alloc *a, unsigned i, bool attach)
{
	(void)env;
	if (!a->is_tcp)             /* TCP allocations never move (RFC 8016 is UDP here) */
		tp_relay_move(a, i, attach);
}

/* metrics-users: what a relayed since the last fold, into its user's count */
static void fold_user(void *arg, struct tp_alloc *a)
{
	uint64_t now[2][2] = { { a->tx_pkts, a->tx_bytes }, { a->rx_pkts, a->rx_bytes } };

	(void)arg;
	for (int d = 0; d < 2; d++) {
		if (now[d][1] == a->folded[d][1] && now[d][0] == a->folded[d][0])
			continue;
		tp_shared_user_add(a->uc, (unsigned)d, now[d][0] - a->folded[d][0],
		                   now[d][1] - a->folded[d][1]);
		a->folded[d][0] = now[d][0];
		a->folded[d][1] = now[d][1];
	}
}

static void ops_released(void *env, struct tp_alloc *a)
{
	struct tp_srv *s = env;

	tp_offload_srv_released(a);     /* first: the kernel's last counts */
	if (s->conf->metrics_users)
		fold_user(NULL, a);
	tp_turn_released(env, a);
	tp_cluster_released(env, a);
}

static void ops_moved(void *env, struct tp_alloc *a)
{
	(void)env;
	tp_offload_srv_moved(a);
}

static const struct tp_alloc_ops alloc_ops = {
	.relay_open = ops_open,
	.relay_close = ops_close,
	.relay_move = ops_move,
	.released = ops_released,
	.moved = ops_moved,
};

/* Once a second: expiries, and memory back to the system after mass releases
 * (when the last allocation went, and every 1024 releases). */
/* Bytes relayed by this worker so far, both ways. */
static uint64_t relayed_bytes(const struct tp_stats *st)
{
	uint64_t n = 0;

	for (int d = 0; d < 2; d++)
		for (int t = 0; t < TP_ST_COUNT; t++)
			n += st->relay_bytes[d][t];
	return n;
}

static void tick_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct tp_srv *s = arg;
	struct tp_shared *sh = s->sh;
	struct tp_stats snap;
	uint64_t freed, bytes;

	(void)fd;
	(void)ev;
	tp_allocs_tick(s->allocs, tp_now(s));
	tp_offload_srv_tick(s);         /* before the snapshot: the kernel's counts */
	tp_cluster_tick(s);
	if (s->conf->metrics_users)
		tp_allocs_foreach(s->allocs, fold_user, NULL);
	/* the live counters for /metrics, and this worker's relay rate */
	tp_srv_snapshot(s, &snap);
	tp_shared_publish(sh, s->worker, &snap);
	bytes = relayed_bytes(&s->stats);
	atomic_store_explicit(&sh->worker_bps[s->worker], bytes - s->bytes_at_tick,
	                      memory_order_relaxed);
	s->bytes_at_tick = bytes;
	if (s->worker == 0) {
		uint64_t bps = 0;

		for (size_t i = 0; i < sh->nworkers; i++)
			bps += atomic_load_explicit(&sh->worker_bps[i], memory_order_relaxed);
		atomic_store_explicit(&sh->relay_bps, bps, memory_order_relaxed);
	}
	freed = tp_allocs_freed(s->allocs);
	if (freed != s->trimmed_at &&
	    (tp_allocs_count(s->allocs) == 0 || freed - s->trimmed_at >= 1024)) {
		s->trimmed_at = freed;
		malloc_trim(0);
	}
}

struct tp_srv *tp_srv_create(struct event_base *base, const struct tp_conf *c,
                             struct tp_shared *sh, unsigned worker, char *err, size_t errlen)
{
	struct timeval second = { .tv_sec = 1 };
	struct tp_srv *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->base = base;
	s->conf = c;
	s->io = &io;
	s->sh = sh;
	s->worker = worker;
	s->crypto = tp_crypto_new();
	s->lsn = calloc(1, sizeof(*s->lsn));
	s->limits = tp_limits_new();
	s->refusals = calloc(TP_REFUSE_KINDS, sizeof(*s->refusals));
	s->tcp_peers = tp_tcp_peers_new();
	s->allocs = tp_allocs_create(sh, s, worker, &alloc_ops, s, tp_now(s));
	s->tick = event_new(base, -1, EV_PERSIST, tick_cb, s);
	if (!s->crypto || !s->lsn || !s->limits || !s->refusals || !s->tcp_peers || !s->allocs || !s->tick || event_add(s->tick, &second) != 0 ||
	    tp_relay_init(s) != 0 || tp_inbox_init(s) != 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (make_tls(s, err, errlen) != 0 || open_listeners(s, err, errlen) != 0 ||
	    open_nat(s, err, errlen) != 0)
		goto fail;
	collect_self(s);
	{
		struct tp_addr adv;

		advertised(s, &adv);
		if (tp_cluster_create(s, adv.family ? &adv : NULL, err, errlen) != 0)
			goto fail;
	}
	return s;
fail:
	tp_srv_free(s);
	return NULL;
}

void tp_srv_free(struct tp_srv *s)
{
	if (!s)
		return;
	/* sessions and connections first: closing them frees their allocations,
	 * which needs the allocation tables */
	for (size_t i = 0; s->lsn && i < s->lsn->ntcp; i++)
		tp_tcp_close_conns(s->lsn->tcp[i]);
	for (size_t i = 0; s->lsn && i < s->lsn->ndtls; i++)
		tp_dtls_close(s->lsn->dtls[i]);
	tp_inbox_fini(s);           /* may adopt (and free) an allocation in transit */
	tp_allocs_free(s->allocs);
	tp_cluster_free(s);     /* after the allocations: they deregister on the way */
	tp_tcp_peers_free(s->tcp_peers);
	tp_limits_free(s->limits);
	free(s->refusals);
	if (s->tick)
		event_free(s->tick);
	tp_relay_fini(s);
	tp_crypto_free(s->crypto);
	if (!s->lsn) {
		free(s);
		return;
	}
	for (size_t i = 0; i < s->lsn->nudp; i++)
		tp_udp_close(s->lsn->udp[i]);
	for (size_t i = 0; i < s->lsn->ntcp; i++)
		tp_tcp_close(s->lsn->tcp[i]);
	for (size_t i = 0; i < s->lsn->nws; i++)
		tp_ws_free(s->lsn->ws[i]);
	SSL_CTX_free(s->lsn->tls_ctx);
	SSL_CTX_free(s->lsn->dtls_ctx);
	free(s->lsn);
	free(s);
}

void tp_srv_reload_tls(struct tp_srv *s)
{
	const struct tp_conf *c = s->conf;
	char err[256];
	SSL_CTX *ctx, *dctx;

	if (!c->tls_cert || !c->tls_cert[0])
		return;
	ctx = tp_tls_ctx_new(c, false, err, sizeof(err));
	dctx = ctx ? tp_tls_ctx_new(c, true, err, sizeof(err)) : NULL;
	/* live sessions keep the context they started with */
	if (ctx && dctx) {
		tp_dtls_ctx_setup(dctx);
		SSL_CTX_free(s->lsn->tls_ctx);
		SSL_CTX_free(s->lsn->dtls_ctx);
		s->lsn->tls_ctx = ctx;
		s->lsn->dtls_ctx = dctx;
		if (s->worker == 0) {
			tp_info(NULL, "reload: TLS certificate reloaded from %s", c->tls_cert);
			tp_tls_describe(ctx, c, "reload: ", true);
		}
	} else {
		SSL_CTX_free(ctx);
		if (s->worker == 0)
			tp_err(NULL, "reload: keeping the old certificate: %s", err);
	}
}

int tp_srv_reload(struct tp_srv *s, const struct tp_conf *c)
{
	const struct tp_conf *old = s->conf;

	s->conf = c;
	if (s->worker == 0 &&
	    (c->nlisten != old->nlisten || memcmp(c->listen, old->listen, sizeof(c->listen)) != 0))
		tp_warn(NULL, "reload: listener changes take effect at the next restart");
	if (s->worker == 0 && (c->min_port != old->min_port || c->max_port != old->max_port ||
	                       c->nrelay_ip != old->nrelay_ip))
		tp_warn(NULL, "reload: relay address and port changes take effect at the next restart");
	if (s->worker == 0 && c->kernel_offload != old->kernel_offload)
		tp_warn(NULL, "reload: kernel-offload changes take effect at the next restart");
	tp_srv_reload_tls(s);
	collect_self(s);
	tp_turn_recheck_policy(s);
	tp_offload_srv_tick(s);         /* the new peer policy and caps, at once */
	if (!same_str(c->redis, old->redis) || !same_str(c->node_id, old->node_id) ||
	    !same_str(c->realm, old->realm) ||
	    !same_str(c->redis_password_file, old->redis_password_file) ||
	    c->redis_timeout_ms != old->redis_timeout_ms) {
		struct tp_addr adv;
		char err[256];

		tp_cluster_free(s);
		advertised(s, &adv);
		if (tp_cluster_create(s, adv.family ? &adv : NULL, err, sizeof(err)) != 0)
			tp_err(NULL, "reload: cluster store: %s: running without it", err);
		else if (s->worker == 0)
			tp_info(NULL, "reload: cluster store settings changed: reconnecting");
	}
	return 0;
}


/*
 * The UDP buffer sizes the kernel grants, probed on a scratch socket with the
 * configured sizes: logged, and a warning when less than asked (not
 * privileged and above net.core.rmem_max/wmem_max).
 */
static void describe_buffers(const struct tp_conf *c)
{
	static const char *what[2] = { "listeners", "relays" };
	int want[2][2] = { { (int)c->udp_rcvbuf, (int)c->udp_sndbuf },
	                   { (int)c->relay_rcvbuf, (int)c->relay_sndbuf } };

	for (int k = 0; k < 2; k++) {
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rcv = -1, snd = -1;
		bool short_rcv, short_snd;

		if (fd < 0)
			return;
		tp_sock_buffers(fd, want[k][0], want[k][1], &rcv, &snd);
		close(fd);
		/* the kernel reports twice what it grants */
		short_rcv = want[k][0] && rcv / 2 < want[k][0];
		short_snd = want[k][1] && snd / 2 < want[k][1];
		if (short_rcv || short_snd)
			tp_warn(NULL, "UDP %s: asked for rcvbuf %d, sndbuf %d bytes, got %d, %d "
			              "(net.core.rmem_max %ld, wmem_max %ld): raise those sysctls or "
			              "give turnpike CAP_NET_ADMIN, or bursts will be dropped",
			        what[k], want[k][0], want[k][1], rcv / 2, snd / 2,
			        tp_sock_sysctl_max(true), tp_sock_sysctl_max(false));
		else
			tp_info(NULL, "UDP %s: rcvbuf %d, sndbuf %d bytes%s", what[k], rcv / 2, snd / 2,
			        want[k][0] || want[k][1] ? "" : " (kernel defaults)");
	}
}

void tp_srv_describe(const struct tp_srv *s, const char *demo_pass)
{
	char a[64], b[1024] = "";
	size_t off = 0;

	for (size_t i = 0; i < s->lsn->nlisten && off < sizeof(b) - 70; i++) {
		tp_addr_fmt(&s->lsn->listen[i].addr, a, sizeof(a));
		off += (size_t)snprintf(b + off, sizeof(b) - off, "%s%s %s", i ? ", " : "",
		                        proto_names[s->lsn->listen[i].proto], a);
	}
	tp_info(NULL, "turnpike %s listening on %s (%zu worker%s)", TP_VERSION, b,
	        s->sh->nworkers, s->sh->nworkers == 1 ? "" : "s");
	/* realm, auth mode, relay addresses, certificate: check.c's tp_check_describe */
	describe_buffers(s->conf);
	if (demo_pass && demo_pass[0])
		tp_warn(NULL, "no users or static-auth-secret configured: demo credential "
		              "user=demo password=%s realm=%s (for trying out; configure users "
		              "before real use)", demo_pass, s->conf->realm);
}

/* The kernel offload (offload_srv.h) for the whole server, on worker 0's
 * UDP listeners and the relay addresses; before the workers run. */
void tp_srv_offload_open(struct tp_srv *s)
{
	struct tp_addr local[TP_CONF_MAX_LISTEN + TP_CONF_MAX_ADDRS];
	size_t n = 0;

	for (size_t i = 0; i < s->lsn->nlisten; i++)
		if (s->lsn->listen[i].proto == TP_LISTEN_UDP)
			local[n++] = s->lsn->listen[i].addr;
	for (size_t i = 0; i < s->sh->npools; i++)
		local[n++] = s->sh->pools[i]->ip;
	tp_offload_srv_open(s->sh, s->conf, local, n);
}

/* ---- counters ---- */

struct gauge_walk {
	struct tp_stats *st;
	time_t now;
};

static void gauge_one(void *arg, struct tp_alloc *a)
{
	struct gauge_walk *g = arg;

	g->st->allocations++;
	for (int i = 0; i < a->nrelay; i++)
		g->st->allocs[a->ft.transport % TP_ST_COUNT][a->relay[i].addr.family == AF_INET6]++;
	g->st->permissions += tp_perms_count(&a->perms, g->now);
	g->st->channels += tp_chans_count(&a->chans, g->now);
	g->st->offload_channels += tp_offload_srv_count(a);
}

void tp_srv_snapshot(struct tp_srv *s, struct tp_stats *out)
{
	struct gauge_walk g = { out, tp_now(s) };

	*out = s->stats;
	out->allocs_created = tp_allocs_created(s->allocs);
	out->allocs_deleted = tp_allocs_freed(s->allocs);
	tp_allocs_foreach(s->allocs, gauge_one, &g);
	out->stream_conns = tp_limits_conns(s->limits);
}

struct collect {
	void (*done)(const struct tp_stats *sum, void *arg);
	void *arg;
	size_t n;
	struct tp_stats per[];          /* one per worker: each writes its own */
};

static void collect_one(struct tp_srv *s, void *arg)
{
	struct collect *c = arg;

	tp_srv_snapshot(s, &c->per[s->worker]);
}

static void collect_done(void *arg)
{
	struct collect *c = arg;
	struct tp_stats sum;

	memset(&sum, 0, sizeof(sum));
	for (size_t i = 0; i < c->n; i++)
		tp_stats_add(&sum, &c->per[i]);
	c->done(&sum, c->arg);
	free(c);
}

int tp_srv_collect(struct tp_srv *from, void (*done)(const struct tp_stats *sum, void *arg),
                   void *arg)
{
	size_t n = from->sh->nworkers;
	struct collect *c = calloc(1, sizeof(*c) + n * sizeof(c->per[0]));
	int rc;

	if (!c)
		return -ENOMEM;
	c->done = done;
	c->arg = arg;
	c->n = n;
	rc = tp_worker_each(from, collect_one, collect_done, c);
	if (rc)
		free(c);
	return rc;
}
