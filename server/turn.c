/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * turn.c - the TURN methods (RFC 8656 §7-§12, RFC 6156, RFC 8016 mobility):
 * Allocate, Refresh, CreatePermission, ChannelBind, Send indications and
 * ChannelData from clients. Policy and protocol only: sockets are in
 * relay_udp.c, state in alloc.c, credentials in auth.c.
 */
#include <errno.h>
#include <sys/socket.h>
#include <stdatomic.h>
#include <string.h>

#include "alloc.h"
#include "dispatch.h"
#include "shared.h"

void tp_public_addr(const struct tp_srv *s, const struct tp_addr *in, struct tp_addr *out)
{
	tp_conf_public_addr(s->conf, in, out);
}

/*
 * The one place where the state layer's errno values become STUN errors: per
 * operation, the code and the reason sent (and logged). Anything not listed
 * is a 500 (a bug: the state layer returned something new).
 */
enum op { OP_ALLOC, OP_PERM, OP_CHAN };

static const struct fail {
	enum op op;
	int err;
	uint16_t code;
	const char *why;
} fails[] = {
	{ OP_ALLOC, -EDQUOT, 486, "allocation quota reached (user-quota)" },
	{ OP_ALLOC, -EUSERS, 486, "allocation quota reached (total-quota)" },
	{ OP_ALLOC, -EAFNOSUPPORT, 440, "no relay address of that family" },
	{ OP_ALLOC, -ENOENT, 508, "RESERVATION-TOKEN unknown or expired" },
	{ OP_ALLOC, -ENOSPC, 508, "no relay port free" },
	{ OP_ALLOC, -ENOMEM, 508, "out of memory" },
	{ OP_PERM, -ENOSPC, 508, "too many permissions on this allocation (max-permissions)" },
	{ OP_PERM, -ENOMEM, 508, "out of memory" },
	{ OP_CHAN, -EEXIST, 400, "channel or peer already bound otherwise" },
	{ OP_CHAN, -ENOSPC, 508, "too many channels on this allocation (max-channels)" },
	{ OP_CHAN, -ENOMEM, 508, "out of memory" },
};

static const struct fail *fail_of(enum op op, int err)
{
	static const struct fail other = { OP_ALLOC, 0, 500, "internal error" };

	for (size_t i = 0; i < sizeof(fails) / sizeof(fails[0]); i++)
		if (fails[i].op == op && fails[i].err == err)
			return &fails[i];
	return &other;
}

static int fail_with(struct tp_req *rq, enum op op, int err)
{
	const struct fail *f = fail_of(op, err);

	return tp_req_fail(rq, f->code, f->why);
}

static uint16_t chan_max(const struct tp_conf *c)
{
	return c->legacy_channels ? TP_CHAN_MAX_RFC5766 : TP_CHAN_MAX;
}

static uint32_t clamp_lifetime(const struct tp_conf *c, const struct tp_stun_msg *m)
{
	const struct tp_stun_attr *lt = tp_stun_find(m, TP_ATTR_LIFETIME);
	uint32_t v;

	if (!lt)
		return c->default_lifetime;
	v = tp_attr_u32(lt);
	if (v == 0)
		return 0;
	if (v < c->default_lifetime)
		return c->default_lifetime;
	return v > c->max_lifetime ? c->max_lifetime : v;
}

static uint32_t remaining(const struct tp_srv *s, const struct tp_alloc *a)
{
	time_t now = tp_now(s);

	return a->expires > now ? (uint32_t)(a->expires - now) : 0;
}

/* The success answer to the Allocate that made a (also for its
 * retransmissions, and once a cluster-wide quota admitted it). */
static void allocate_answer(struct tp_srv *s, const struct tp_reply *rp, struct tp_alloc *a)
{
	struct tp_stun_wr w;
	uint8_t buf[TP_REPLY_MAX];

	tp_reply_start(rp, &w, buf, sizeof(buf), TP_CLASS_SUCCESS);
	for (int i = 0; i < a->nrelay; i++) {
		struct tp_addr pub;

		tp_public_addr(s, &a->relay[i].addr, &pub);
		tp_stun_put_addr(&w, TP_ATTR_XOR_RELAYED_ADDRESS, &pub);
	}
	tp_stun_put_u32(&w, TP_ATTR_LIFETIME, remaining(s, a));
	if (a->resv_token)
		tp_stun_put_u64(&w, TP_ATTR_RESERVATION_TOKEN, a->resv_token);
	tp_stun_put_addr(&w, TP_ATTR_XOR_MAPPED_ADDRESS, &a->mapped);
	if (a->addr_err4)
		tp_stun_put_addr_error(&w, TP_STUN_FAMILY_IPV4, a->addr_err4,
		                       tp_error_reason(a->addr_err4));
	if (a->addr_err6)
		tp_stun_put_addr_error(&w, TP_STUN_FAMILY_IPV6, a->addr_err6,
		                       tp_error_reason(a->addr_err6));
	if (a->has_ticket)
		tp_stun_put(&w, TP_ATTR_MOBILITY_TICKET, a->ticket, TP_TICKET_LEN);
	tp_reply_send(s, rp, &w, 0, rp->authed);
}

static void allocate_reply(struct tp_req *rq, struct tp_alloc *a)
{
	allocate_answer(rq->s, &rq->rp, a);
}

static bool same_user(const struct tp_req *rq, const struct tp_alloc *a)
{
	return strlen(a->user) == rq->auth.user_len &&
	       memcmp(a->user, rq->auth.user, rq->auth.user_len) == 0;
}

/* Where to send a new allocation: the least loaded node the cluster store
 * knows of, else the next alternate-server; false when there is none. */
static bool pick_alternate(struct tp_srv *s, struct tp_addr *out)
{
	const struct tp_conf *c = s->conf;

	if (s->io->alternate(s, out) == 0)
		return true;
	if (c->nalternate == 0)
		return false;
	*out = c->alternate[atomic_fetch_add(&s->sh->alternate_next, 1) % c->nalternate];
	return true;
}

/* 300 Try Alternate (RFC 8489 §10; over TLS and DTLS with ALTERNATE-DOMAIN,
 * §14.16), signed when the request was authenticated (rq->rp.authed). */
static void try_alternate(struct tp_req *rq, const struct tp_addr *alt, const char *why)
{
	const struct tp_conf *c = rq->s->conf;
	struct tp_stun_wr w;
	uint8_t buf[TP_REPLY_MAX];
	char a[64];

	tp_addr_fmt(alt, a, sizeof(a));
	tp_info(&rq->log, "stun: ALLOCATE: 300 Try Alternate %s%s: %s", a,
	        rq->rp.authed ? "" : " (before authentication)", why);
	tp_reply_start(&rq->rp, &w, buf, sizeof(buf), TP_CLASS_ERROR);
	tp_stun_put_error(&w, 300, tp_error_reason(300));
	tp_stun_put_addr(&w, TP_ATTR_ALTERNATE_SERVER, alt);
	if (c->alternate_domain && c->alternate_domain[0] &&
	    (rq->ft->transport == TP_LISTEN_TLS || rq->ft->transport == TP_LISTEN_DTLS))
		tp_stun_put_str(&w, TP_ATTR_ALTERNATE_DOMAIN, c->alternate_domain,
		                strlen(c->alternate_domain));
	tp_reply_send(rq->s, &rq->rp, &w, 300, false);
}

/*
 * This server does not take new allocations (draining, total-quota or
 * bps-capacity reached): 300 Try Alternate when there is an alternate, else
 * the given code.
 */
static int redirect(struct tp_req *rq, uint16_t code, const char *why)
{
	struct tp_addr alt;

	if (!pick_alternate(rq->s, &alt))
		return tp_req_fail(rq, code, why);
	try_alternate(rq, &alt, why);
	return 300;
}

/* Should this node send a new allocation elsewhere? (why, or NULL) */
static const char *shedding(const struct tp_srv *s)
{
	const struct tp_conf *c = s->conf;
	struct tp_shared *sh = s->sh;

	if (atomic_load_explicit(&sh->draining, memory_order_relaxed))
		return "draining";
	if (c->bps_capacity && atomic_load_explicit(&sh->relay_bps, memory_order_relaxed) >=
	                               c->bps_capacity)
		return "relaying at bps-capacity";
	return NULL;
}

/* shedding(), or total-quota reached now (the exact check stays at create) */
static const char *node_full(const struct tp_srv *s)
{
	const char *why = shedding(s);
	uint64_t n;

	if (why || !s->conf->total_quota)
		return why;
	pthread_mutex_lock(&s->sh->mu);
	n = s->sh->nallocs;
	pthread_mutex_unlock(&s->sh->mu);
	return n >= s->conf->total_quota ? "allocation quota reached (total-quota)" : NULL;
}

/*
 * The node-level reasons to send an Allocate elsewhere (draining,
 * bps-capacity, total-quota) depend on no user, so they are decided before
 * authentication: a new Allocate gets its 300 at once, without a 401, and the
 * client authenticates at the alternate with that node's own nonce (nonce
 * keys are per process). RFC 8489 §10 allows the 300 unauthenticated; it is
 * signed when the request carried valid MESSAGE-INTEGRITY. Without an
 * alternate the request goes on as before (authentication, then 508 or 486).
 * True when answered (or dropped).
 */
static bool redirect_early(struct tp_req *rq)
{
	struct tp_srv *s = rq->s;
	const struct tp_stun_msg *m = rq->m;
	const char *why, *awhy = "";
	struct tp_addr alt;
	int rc;

	/* an unknown comprehension-required attribute is answered 420 first (RFC
	 * 8489 §6.3.1); a 5-tuple's own allocation by allocate() (retransmit,
	 * 437); the cheap tests first, the shared lock (total-quota) and the
	 * alternate's pick (round robin, cluster store) last */
	if (m->nunknown || tp_alloc_find(s->allocs, rq->ft) || !(why = node_full(s)) ||
	    !pick_alternate(s, &alt))
		return false;
	if (m->mi >= 0 || m->mi256 >= 0) {
		rc = tp_auth_request(s, rq->ft, m, &rq->auth, &awhy);
		if (rc == TP_AUTH_THROTTLED) {
			tp_debug(&rq->log, "stun: %s dropped: %s", tp_method_name(m->method), awhy);
			return true;
		}
		if (rc == 0) {
			tp_req_authed(rq);
			rq->log.user = rq->auth.user;
		} else if (!tp_rate_allow(s, &rq->ft->client)) {
			return true;
		}
	}
	try_alternate(rq, &alt, why);
	return true;
}

/* RFC 8656 §7.2 and RFC 6156 §4.2. */
static int allocate(struct tp_req *rq, struct tp_alloc *a)
{
	struct tp_srv *s = rq->s;
	const struct tp_stun_msg *m = rq->m;
	const struct tp_stun_attr *rt = tp_stun_find(m, TP_ATTR_REQUESTED_TRANSPORT);
	const struct tp_stun_attr *rf = tp_stun_find(m, TP_ATTR_REQUESTED_ADDRESS_FAMILY);
	const struct tp_stun_attr *af = tp_stun_find(m, TP_ATTR_ADDITIONAL_ADDRESS_FAMILY);
	const struct tp_stun_attr *ep = tp_stun_find(m, TP_ATTR_EVEN_PORT);
	const struct tp_stun_attr *tok = tp_stun_find(m, TP_ATTR_RESERVATION_TOKEN);
	struct tp_alloc_req r = { .ft = rq->ft, .sink = rq->sink, .tid = m->tid };
	struct tp_alloc_res res;
	int rc;

	if (a) {
		/* a retransmission of the Allocate that made it gets the same answer */
		if (memcmp(a->alloc_tid, m->tid, TP_STUN_TID_LEN) == 0 && same_user(rq, a)) {
			if (a->qwait)
				return 0; /* once the cluster has counted it */
			allocate_reply(rq, a);
			return 0;
		}
		return tp_req_fail(rq, 437, "5-tuple already has an allocation");
	}
	if (!rt)
		return tp_req_fail(rq, 400, "REQUESTED-TRANSPORT missing");
	/* became so since redirect_early(), or no alternate: 508 */
	if (shedding(s))
		return redirect(rq, 508, shedding(s));
	if (tp_attr_transport(rt) == TP_TRANSPORT_TCP) {
		/* RFC 6062 §5.1 */
		if (!rq->sink->stream)
			return tp_req_fail(rq, 442, "TCP relays need a TCP or TLS control connection");
		if (ep || tok || tp_stun_find(m, TP_ATTR_DONT_FRAGMENT) || af)
			return tp_req_fail(rq, 400, "EVEN-PORT, RESERVATION-TOKEN, DONT-FRAGMENT or "
			                            "two families with a TCP relay");
		r.tcp = true;
	} else if (tp_attr_transport(rt) != TP_TRANSPORT_UDP) {
		return tp_req_fail(rq, 442, "only UDP and TCP relays exist");
	}
	if (tok && ep)
		return tp_req_fail(rq, 400, "RESERVATION-TOKEN with EVEN-PORT");
	if (tok && (rf || af))
		return tp_req_fail(rq, 400, "RESERVATION-TOKEN with an address family");
	if (rf && af)
		return tp_req_fail(rq, 400, "REQUESTED- and ADDITIONAL-ADDRESS-FAMILY together");

	if (rf) {
		r.want4 = tp_attr_family(rf) == TP_STUN_FAMILY_IPV4;
		r.want6 = !r.want4;
		if (!tp_shared_has_family(s->sh, r.want4 ? AF_INET : AF_INET6))
			return tp_req_fail(rq, 440, "no relay address of that family");
	} else {
		r.want4 = true;
		r.want6 = af != NULL;
		if (!tp_shared_has_family(s->sh, AF_INET) && !r.want6)
			return tp_req_fail(rq, 440, "no IPv4 relay address");
	}
	if (ep) {
		r.even_port = true;
		r.reserve_next = tp_attr_even_port_r(ep);
	}
	if (tok) {
		r.has_token = true;
		r.token = tp_attr_u64(tok);
	}
	r.user = rq->auth.user;
	r.user_len = rq->auth.user_len;
	r.quota_user = rq->auth.quota_user;
	r.quota_user_len = rq->auth.quota_len;
	r.lifetime = clamp_lifetime(s->conf, m);
	if (r.lifetime == 0)
		r.lifetime = s->conf->default_lifetime;
	r.mobility = s->conf->mobility && tp_stun_find(m, TP_ATTR_MOBILITY_TICKET);

	rc = tp_alloc_create(s->allocs, s->conf, &r, tp_now(s), &a, &res);
	if (rc == -EUSERS)
		return redirect(rq, 486, "allocation quota reached (total-quota)");
	if (rc)
		return fail_with(rq, OP_ALLOC, rc);
	a->resv_token = res.reserved ? res.token : 0;
	a->addr_err4 = r.want4 && res.err4 ? fail_of(OP_ALLOC, res.err4)->code : 0;
	a->addr_err6 = r.want6 && res.err6 ? fail_of(OP_ALLOC, res.err6)->code : 0;
	tp_alloc_logctx(a, &rq->log);
	tp_info(&rq->log, "turn: allocation created, lifetime %u s%s%s", r.lifetime,
	        a->nrelay == 2 ? ", dual-stack" : "", a->has_ticket ? ", mobile" : "");
	/* user-quota across the cluster: the answer may wait for the count
	 * (bounded by redis-timeout-ms; tp_turn_quota_done) */
	if (s->conf->user_quota && s->io->quota_take(a, s->conf->user_quota, &rq->rp) == 1)
		return 0;
	allocate_reply(rq, a);
	return 0;
}

void tp_turn_quota_done(struct tp_srv *s, struct tp_alloc *a, const struct tp_reply *rp,
                        bool admitted)
{
	struct tp_logctx ctx;

	if (admitted) {
		allocate_answer(s, rp, a);
		return;
	}
	tp_alloc_logctx(a, &ctx);
	uint64_t more = 0;
	char t[64];

	if (!ctx.client || tp_refusal_log(s, TP_REFUSE_QUOTA, ctx.client, &more))
		tp_warn(&ctx, "turn: allocation refused: the user has %u allocations across the "
		        "cluster (user-quota; logged once a minute per source%s)", s->conf->user_quota,
		        tp_refusal_more(t, sizeof(t), more));
	tp_reply_error_why(s, rp, 486, "allocation quota reached (user-quota, across the cluster)",
	                   NULL, 0);
	a->end = TP_END_REFUSED;
	tp_alloc_free(a);
}

/*
 * The ticket is not this worker's: the shared map names its owner. The owner
 * detaches the allocation and this worker adopts it, then dispatches this
 * Refresh again, and answers it then (worker.c).
 */
static int move_from_worker(struct tp_req *rq, const struct tp_stun_attr *tk)
{
	struct tp_srv *s = rq->s;
	unsigned owner;
	uint64_t user_hash;
	int rc;

	pthread_mutex_lock(&s->sh->mu);
	rc = tp_shared_ticket_find(s->sh, tk->val, tk->len, &owner, &user_hash);
	pthread_mutex_unlock(&s->sh->mu);
	if (rc != 0 || owner == s->worker || owner >= s->sh->nworkers)
		return tp_req_fail(rq, 405, "mobility ticket unknown or already used");
	if (user_hash != tp_shared_hash(s->sh, rq->auth.user, rq->auth.user_len))
		return tp_req_fail(rq, 441, "mobility ticket belongs to another user");
	if (rq->ft->transport != TP_LISTEN_UDP)
		return tp_req_fail(rq, 405, "mobility across transports");
	s->io->migrate(s, owner, tk->val, tk->len, rq->ft, rq->sink, rq->m->buf, rq->m->len);
	return 0;
}

/* RFC 8656 §7.3; RFC 8016 §3.2 for a Refresh that moves a mobile allocation. */
static int refresh(struct tp_req *rq, struct tp_alloc *a)
{
	struct tp_srv *s = rq->s;
	const struct tp_stun_msg *m = rq->m;
	const struct tp_stun_attr *rf = tp_stun_find(m, TP_ATTR_REQUESTED_ADDRESS_FAMILY);
	const struct tp_stun_attr *tk = tp_stun_find(m, TP_ATTR_MOBILITY_TICKET);
	uint32_t lifetime;

	if (!a && tk && s->conf->mobility) {
		a = tp_alloc_find_ticket(s->allocs, tk->val, tk->len);
		if (!a)
			return move_from_worker(rq, tk);
		if (!same_user(rq, a))
			return tp_req_fail(rq, 441, "mobility ticket belongs to another user");
		if (a->ft.transport != rq->ft->transport)
			return tp_req_fail(rq, 405, "mobility across transports");
		struct tp_logctx old;

		tp_alloc_logctx(a, &old);
		tp_info(&old, "turn: allocation moves (mobility)");
		tp_alloc_move(a, rq->ft, rq->sink);
		tp_alloc_new_ticket(a); /* the used ticket cannot be replayed */
	}
	lifetime = clamp_lifetime(s->conf, m);
	if (!a && lifetime == 0 && tp_allocs_recently_deleted(s->allocs, rq->ft, m->tid, tp_now(s))) {
		/* the answer to this Refresh(0) was lost: it succeeded */
		tp_req_begin(rq);
		tp_stun_put_u32(&rq->w, TP_ATTR_LIFETIME, 0);
		tp_req_send(rq);
		return 0;
	}
	if (!a)
		return tp_req_fail(rq, 437, "no allocation for this 5-tuple");
	if (!same_user(rq, a))
		return tp_req_fail(rq, 441, "allocation belongs to another user");
	tp_alloc_logctx(a, &rq->log);
	if (rf) {
		int fam = tp_attr_family(rf) == TP_STUN_FAMILY_IPV6 ? AF_INET6 : AF_INET;

		if (!tp_alloc_has_family(a, fam))
			return tp_req_fail(rq, 443, "allocation has no relay of that family");
	}
	tp_req_begin(rq);
	tp_stun_put_u32(&rq->w, TP_ATTR_LIFETIME, lifetime);
	if (a->has_ticket && lifetime)
		tp_stun_put(&rq->w, TP_ATTR_MOBILITY_TICKET, a->ticket, TP_TICKET_LEN);
	if (lifetime == 0) {
		rq->log.relay = NULL;
		rq->log.user = NULL;
		tp_allocs_remember_deleted(s->allocs, rq->ft, m->tid, tp_now(s));
		a->end = TP_END_DELETED;
		tp_alloc_free(a);
	} else {
		tp_alloc_set_lifetime(a, lifetime, tp_now(s));
		tp_debug(&rq->log, "turn: refreshed for %u s", lifetime);
	}
	tp_req_send(rq);
	return 0;
}

/* 0 if the peer may be relayed to from a, else the error (443 or 403). */
static int peer_allowed(struct tp_req *rq, struct tp_alloc *a, const struct tp_addr *peer,
                        bool check_port, const char **why)
{
	enum tp_peer_verdict v;

	if (!tp_alloc_relay_for(a, peer)) {
		*why = "peer address family differs from the relay's";
		return 443;
	}
	v = tp_peer_check(rq->s->conf, &rq->s->self, peer,
	                  (check_port ? TP_PEER_PORT : 0) | (a->is_tcp ? TP_PEER_TCP : 0));
	if (v != TP_PEER_OK) {
		*why = tp_peer_verdict_str(v);
		return 403;
	}
	return 0;
}

/* RFC 8656 §9: all addresses are checked before any permission is installed. */
static int create_permission(struct tp_req *rq, struct tp_alloc *a)
{
	const struct tp_stun_attr *pa = NULL;
	struct tp_addr peers[TP_STUN_MAX_ATTRS];
	size_t n = 0;
	const char *why;
	int rc;

	while ((pa = tp_stun_find_next(rq->m, TP_ATTR_XOR_PEER_ADDRESS, pa)) != NULL) {
		tp_attr_addr(rq->m, pa, &peers[n]);
		rc = peer_allowed(rq, a, &peers[n], false, &why);
		if (rc) {
			char buf[64];

			tp_addr_fmt(&peers[n], buf, sizeof(buf));
			tp_info(&rq->log, "turn: permission for %s refused: %s", buf, why);
			return tp_req_fail(rq, (uint16_t)rc, why);
		}
		n++;
	}
	if (n == 0)
		return tp_req_fail(rq, 400, "XOR-PEER-ADDRESS missing");
	for (size_t i = 0; i < n; i++) {
		rc = tp_perms_install(&a->perms, &peers[i], rq->s->conf->max_permissions,
		                      tp_now(rq->s));
		if (rc)
			return fail_with(rq, OP_PERM, rc);
	}
	tp_req_begin(rq);
	tp_req_send(rq);
	return 0;
}

/* RFC 6062 §5.2: Connect on a TCP allocation; answered when the connection
 * to the peer is made (or fails), through a copy of the reply context. */
static int tcp_connect(struct tp_req *rq, struct tp_alloc *a)
{
	struct tp_srv *s = rq->s;
	const struct tp_stun_attr *pa = tp_stun_find(rq->m, TP_ATTR_XOR_PEER_ADDRESS);
	struct tp_addr peer;
	enum tp_peer_verdict v;
	int rc;

	if (!a->is_tcp)
		return tp_req_fail(rq, 400, "Connect on a UDP allocation");
	if (!pa)
		return tp_req_fail(rq, 400, "XOR-PEER-ADDRESS missing");
	tp_attr_addr(rq->m, pa, &peer);
	if (peer.family != a->relay[0].addr.family)
		return tp_req_fail(rq, 443, "peer address family differs from the relay's");
	v = tp_peer_check(s->conf, &s->self, &peer, TP_PEER_PORT | TP_PEER_TCP);
	if (v != TP_PEER_OK)
		return tp_req_fail(rq, 403, tp_peer_verdict_str(v));
	rc = s->io->tcp_connect(a, &peer, &rq->rp);
	if (rc == -EEXIST)
		return tp_req_fail(rq, 446, "a connection to this peer exists");
	if (rc == -EMFILE) {
		s->stats.conn_refused++;
		return tp_req_fail(rq, 508, "too many peer connections (max-peer-connections)");
	}
	if (rc)
		return tp_req_fail(rq, 447, "cannot connect from the relayed address");
	return 0; /* answered later */
}

/* RFC 6062 §5.4: ConnectionBind on a new data connection. */
static int connection_bind(struct tp_req *rq)
{
	struct tp_srv *s = rq->s;
	const struct tp_stun_attr *ci = tp_stun_find(rq->m, TP_ATTR_CONNECTION_ID);
	int rc;

	if (!rq->sink->stream || !rq->sink->to_pipe)
		return tp_req_fail(rq, 400, "ConnectionBind needs a TCP or TLS connection");
	if (!ci)
		return tp_req_fail(rq, 400, "CONNECTION-ID missing");
	if (tp_alloc_find(s->allocs, rq->ft))
		return tp_req_fail(rq, 400, "this connection carries an allocation");
	rc = s->io->tcp_bind(s, rq->sink, tp_attr_u32(ci), rq->auth.user);
	if (rc == -EACCES)
		return tp_req_fail(rq, 441, "CONNECTION-ID belongs to another user");
	if (rc)
		return tp_req_fail(rq, 400, "unknown or already bound CONNECTION-ID");
	tp_req_begin(rq);
	tp_req_send(rq);   /* the connection becomes the pipe after this */
	return 0;
}

/* RFC 8656 §11. */
static int channel_bind(struct tp_req *rq, struct tp_alloc *a)
{
	const struct tp_stun_attr *cn = tp_stun_find(rq->m, TP_ATTR_CHANNEL_NUMBER);
	const struct tp_stun_attr *pa = tp_stun_find(rq->m, TP_ATTR_XOR_PEER_ADDRESS);
	struct tp_addr peer;
	const char *why;
	uint16_t num;
	int rc;

	if (!cn || !pa)
		return tp_req_fail(rq, 400, "CHANNEL-NUMBER or XOR-PEER-ADDRESS missing");
	num = tp_attr_channel(cn);
	if (num < TP_CHAN_MIN || num > chan_max(rq->s->conf))
		return tp_req_fail(rq, 400,
		                   rq->s->conf->legacy_channels
		                           ? "channel number outside 0x4000-0x7FFF"
		                           : num > TP_CHAN_MAX && num <= TP_CHAN_MAX_RFC5766
		                                     ? "channel number outside 0x4000-0x4FFF (RFC "
		                                       "5766's 0x5000-0x7FFF needs legacy-channels = "
		                                       "true)"
		                                     : "channel number outside 0x4000-0x4FFF");
	tp_attr_addr(rq->m, pa, &peer);
	rc = peer_allowed(rq, a, &peer, true, &why);
	if (rc)
		return tp_req_fail(rq, (uint16_t)rc, why);
	rc = tp_chans_bind(&a->chans, num, &peer,
	                   tp_shared_relay_port(rq->s->sh, rq->s->conf, &peer, false) ==
	                           TP_RELAY_LIVE,
	                   rq->s->conf->max_channels, tp_now(rq->s));
	if (rc)
		return fail_with(rq, OP_CHAN, rc);
	rc = tp_perms_install(&a->perms, &peer, rq->s->conf->max_permissions, tp_now(rq->s));
	if (rc)
		return fail_with(rq, OP_PERM, rc);
	tp_req_begin(rq);
	tp_req_send(rq);
	if (rq->s->io->chan_bound)
		rq->s->io->chan_bound(a, tp_chans_by_num(&a->chans, num, tp_now(rq->s)));
	return 0;
}

void tp_turn_request(struct tp_req *rq)
{
	struct tp_srv *s = rq->s;
	const struct tp_stun_msg *m = rq->m;
	struct tp_alloc *a;
	const char *why = "";
	int rc;

	/* unauthenticated answers are capped per source (no reflection) */
	if (m->mi < 0 && m->mi256 < 0 && !tp_rate_allow(s, &rq->ft->client))
		return;
	if (m->method == TP_METHOD_ALLOCATE && redirect_early(rq))
		return;
	rc = tp_auth_request(s, rq->ft, m, &rq->auth, &why);
	if (rc) {
		/* the name the client gave, for the log line (escaped there) */
		const struct tp_stun_attr *un = tp_stun_find(m, TP_ATTR_USERNAME);

		if (un && un->len) {
			rq->log.user = (const char *)un->val;
			rq->log.user_len = un->len;
		}
		if (rc == TP_AUTH_THROTTLED)
			tp_debug(&rq->log, "stun: %s dropped: %s", tp_method_name(m->method), why);
		else if (m->mi < 0 && m->mi256 < 0)
			tp_req_fail(rq, (uint16_t)rc, why);
		else if (tp_rate_allow(s, &rq->ft->client))
			tp_req_fail(rq, (uint16_t)rc, why);
		return;
	}
	tp_req_authed(rq);
	rq->log.user = rq->auth.user;
	if (m->nunknown) {
		tp_req_fail(rq, 420, "unknown comprehension-required attribute");
		return;
	}
	a = tp_alloc_find(s->allocs, rq->ft);
	if (a && a->qwait && m->method != TP_METHOD_ALLOCATE) {
		/* not answered yet: the client cannot know of it */
		s->stats.drop_no_alloc++;
		return;
	}
	switch (m->method) {
	case TP_METHOD_ALLOCATE:
		allocate(rq, a);
		return;
	case TP_METHOD_REFRESH:
		refresh(rq, a);
		return;
	case TP_METHOD_CONNECTION_BIND:
		connection_bind(rq);
		return;
	}
	if (!a) {
		tp_req_fail(rq, 437, "no allocation for this 5-tuple");
		return;
	}
	if (!same_user(rq, a)) {
		tp_req_fail(rq, 441, "allocation belongs to another user");
		return;
	}
	tp_alloc_logctx(a, &rq->log);
	if (m->method == TP_METHOD_CREATE_PERMISSION)
		create_permission(rq, a);
	else if (m->method == TP_METHOD_CONNECT)
		tcp_connect(rq, a);
	else if (a->is_tcp)
		tp_req_fail(rq, 400, "ChannelBind on a TCP allocation");
	else
		channel_bind(rq, a);
}

/* RFC 8656 §10.2: anything wrong with a Send indication drops it silently. */
void tp_turn_send_indication(struct tp_srv *s, const struct tp_5tuple *ft,
                             const struct tp_stun_msg *m)
{
	struct tp_alloc *a = tp_alloc_find(s->allocs, ft);
	const struct tp_stun_attr *pa, *data;
	struct tp_addr peer;

	if (!a) {
		s->stats.drop_no_alloc++;
		return;
	}
	pa = tp_stun_find(m, TP_ATTR_XOR_PEER_ADDRESS);
	data = tp_stun_find(m, TP_ATTR_DATA);
	if (!pa || !data || m->nunknown) {
		s->stats.drop_malformed++;
		return;
	}
	tp_attr_addr(m, pa, &peer);
	if (!tp_perms_ok(&a->perms, &peer, tp_now(s))) {
		s->stats.drop_no_perm++;
		return;
	}
	/* checked again on every Send: a reload may have changed the policy, and
	 * the port matters here (never into our own listeners) */
	if (tp_peer_check(s->conf, &s->self, &peer, TP_PEER_PORT) != TP_PEER_OK) {
		s->stats.drop_policy++;
		return;
	}
	if (!tp_alloc_bw_take(a, s->conf, TP_SD_TO_PEER, data->len, tp_now_ms(s))) {
		s->stats.drop_bandwidth++;
		return;
	}
	a->from_client_pkts++;
	a->from_client_bytes += data->len;
	s->io->relay_send(a, &peer, data->val, data->len,
	              tp_stun_find(m, TP_ATTR_DONT_FRAGMENT) != NULL);
}

/* RFC 8656 §12.4. */
void tp_turn_chandata(struct tp_srv *s, const struct tp_5tuple *ft, const uint8_t *b, size_t n)
{
	struct tp_alloc *a = tp_alloc_find(s->allocs, ft);
	const struct tp_chan *ch;
	const uint8_t *data;
	uint16_t num;
	size_t len;

	if (!a) {
		s->stats.drop_no_alloc++;
		return;
	}
	if (tp_chan_decode_max(b, n, chan_max(s->conf), &num, &data, &len) != TP_P_OK) {
		s->stats.drop_malformed++;
		return;
	}
	ch = tp_chans_by_num(&a->chans, num, tp_now(s));
	if (!ch || !tp_perms_ok(&a->perms, &ch->peer, tp_now(s))) {
		s->stats.drop_no_perm++;
		return;
	}
	/* another allocation of ours: only while it still holds the port */
	if (ch->self_relay &&
	    tp_shared_relay_port(s->sh, s->conf, &ch->peer, false) != TP_RELAY_LIVE) {
		s->stats.drop_policy++;
		return;
	}
	if (!tp_alloc_bw_take(a, s->conf, TP_SD_TO_PEER, len, tp_now_ms(s))) {
		s->stats.drop_bandwidth++;
		return;
	}
	a->from_client_pkts++;
	a->from_client_bytes += len;
	s->io->relay_send(a, &ch->peer, data, len, false);
}

/* ---- the state layer's events ---- */

/*
 * An allocation ends: one log line with what operators look for (how long,
 * what it relayed each way, why it ended), and its traffic into the
 * finished-session counters (coturn's turn_traffic_*).
 */
void tp_turn_released(struct tp_srv *s, struct tp_alloc *a)
{
	struct tp_stats *st = &s->stats;
	struct tp_logctx ctx;

	tp_alloc_logctx(a, &ctx);
	tp_info(&ctx, "turn: allocation ended: %s after %lld s; client->peer %llu pkts %llu B, "
	              "peer->client %llu pkts %llu B; %u send errors",
	        tp_alloc_end_str(a->end), (long long)(tp_now(s) - a->created),
	        (unsigned long long)a->tx_pkts, (unsigned long long)a->tx_bytes,
	        (unsigned long long)a->rx_pkts, (unsigned long long)a->rx_bytes, a->send_errors);
	st->fin_rcvp += a->from_client_pkts;
	st->fin_rcvb += a->from_client_bytes;
	st->fin_sentp += a->rx_pkts;
	st->fin_sentb += a->rx_bytes;
	st->fin_peer_rcvp += a->from_peer_pkts;
	st->fin_peer_rcvb += a->from_peer_bytes;
	st->fin_peer_sentp += a->tx_pkts;
	st->fin_peer_sentb += a->tx_bytes;
}

/* After a reload: drop the permissions and channels the new peer policy
 * refuses (both directions stop: the relay checks permissions on what comes
 * in), and close RFC 6062 peer connections it refuses. */
struct recheck {
	struct tp_srv *s;
	struct tp_alloc *a;
};

static bool perm_still_ok(void *arg, const struct tp_addr *ip)
{
	const struct recheck *r = arg;

	return tp_peer_check(r->s->conf, &r->s->self, ip,
	                     TP_PEER_IP | (r->a->is_tcp ? TP_PEER_TCP : 0)) == TP_PEER_OK;
}

static bool chan_still_ok(void *arg, const struct tp_chan *ch)
{
	const struct recheck *r = arg;

	return tp_peer_check(r->s->conf, &r->s->self, &ch->peer, TP_PEER_PORT) == TP_PEER_OK;
}

static void recheck_one(void *arg, struct tp_alloc *a)
{
	struct recheck r = { arg, a };
	time_t now = tp_now(r.s);

	tp_perms_filter(&a->perms, now, perm_still_ok, &r);
	tp_chans_filter(&a->chans, now, chan_still_ok, &r);
	r.s->io->tcp_recheck(a);
}

void tp_turn_recheck_policy(struct tp_srv *s)
{
	tp_allocs_foreach(s->allocs, recheck_one, s);
}

/* Worker s's allocations matching user (NULL: any) and id (0: any) end
 * (an operator's kill). Their stream connections and DTLS sessions close. */
struct kill_walk {
	const char *user;
	uint64_t id;
	struct tp_alloc *victims[256];
	size_t n;
	bool more;
};

static void kill_match(void *arg, struct tp_alloc *a)
{
	struct kill_walk *w = arg;

	if ((w->id && a->id != w->id) || (w->user && strcmp(a->user, w->user) != 0) || a->qwait)
		return;
	if (w->n < sizeof(w->victims) / sizeof(w->victims[0]))
		w->victims[w->n++] = a;
	else
		w->more = true;
}

unsigned tp_turn_kill(struct tp_srv *s, const char *user, uint64_t id)
{
	struct kill_walk w = { .user = user, .id = id };
	unsigned total = 0;

	if (!user && !id)
		return 0;
	do {
		w.n = 0;
		w.more = false;
		tp_allocs_foreach(s->allocs, kill_match, &w);
		for (size_t i = 0; i < w.n; i++) {
			struct tp_alloc *a = w.victims[i];
			struct tp_logctx ctx;

			tp_alloc_logctx(a, &ctx);
			tp_info(&ctx, "admin: session %016llx killed", (unsigned long long)a->id);
			total++;
			a->end = TP_END_KILLED;
			if (a->sink && a->sink->kill)
				a->sink->kill(a->sink);   /* frees the allocation too */
			else
				tp_alloc_free(a);
		}
	} while (w.more);
	return total;
}
