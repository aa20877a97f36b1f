/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dispatch.c - from bytes to handlers: RFC 7983 first-byte demultiplexing, the
 * STUN Binding method, the unauthenticated-request cap, and the single place
 * that builds and sends replies.
 */
#include <string.h>

#include <sodium.h>

#include "buckets.h"
#include "dispatch.h"
#include "shared.h"

static const char *transport_names[] = { "?", "udp", "tcp", "tls", "dtls" };

/* ---- clocks (the edges' through struct tp_io) ---- */

time_t tp_now(const struct tp_srv *s)
{
	return (time_t)(s->io->mono_ms() / 1000);
}

uint64_t tp_now_ms(const struct tp_srv *s)
{
	return s->io->mono_ms();
}

/* ---- the unauthenticated-request cap ---- */

/* One budget per source (IPv6 per prefix), shared by the workers, so the
 * figure in unauth-rate/unauth-burst is the source's whole budget. */
bool tp_rate_allow(struct tp_srv *s, const struct tp_addr *src)
{
	const struct tp_conf *c = s->conf;

	if (c->unauth_rate == 0)
		return true;
	if (tp_buckets_take(s->sh->unauth, tp_shared_source_key(s->sh, c, src, 'R'),
	                    c->unauth_rate * 60, c->unauth_burst, 1, tp_now_ms(s)))
		return true;
	s->stats.drop_rate++;
	uint64_t more;

	if (tp_refusal_log(s, TP_REFUSE_UNAUTH, src, &more)) {
		struct tp_logctx ctx = { .client = src };

		char t[64];

		tp_warn(&ctx, "stun: unauthenticated requests over unauth-rate %u/s (burst %u): "
		        "dropped (logged once a minute per source%s)", c->unauth_rate,
		        c->unauth_burst, tp_refusal_more(t, sizeof(t), more));
	}
	return false;
}

const char *tp_refusal_more(char *buf, size_t n, uint64_t more)
{
	if (!more)
		return "";
	snprintf(buf, n, "; %llu more not logged since the last such line",
	         (unsigned long long)more);
	return buf;
}

bool tp_refusal_log(struct tp_srv *s, enum tp_refusal kind, const struct tp_addr *src,
                    uint64_t *more)
{
	*more = 0;
	if (!s->refusals || (unsigned)kind >= TP_REFUSE_KINDS)
		return true;
	return tp_ratelog_hit(&s->refusals[kind],
	                      tp_shared_source_key(s->sh, s->conf, src, 'L'), tp_now(s), more);
}

/* ---- replies ---- */

void tp_reply_init(struct tp_reply *rp, struct tp_sink *sink, const struct tp_5tuple *ft,
                   const struct tp_stun_msg *m)
{
	memset(rp, 0, sizeof(*rp));
	rp->sink = sink;
	rp->ft = *ft;
	rp->method = m->method;
	rp->classic = m->classic;
	rp->fingerprint = m->has_fingerprint;
	memcpy(rp->tid, m->tid, m->classic ? 16 : TP_STUN_TID_LEN);
}

void tp_reply_auth(struct tp_reply *rp, const struct tp_auth *a)
{
	rp->authed = true;
	rp->mi256 = a->mi256;
	rp->mi256_len = (uint8_t)a->mi256_len;
	rp->key_len = (uint8_t)a->key_len;
	memcpy(rp->key, a->key, a->key_len);
}

void tp_reply_start(const struct tp_reply *rp, struct tp_stun_wr *w, uint8_t *buf, size_t cap,
                    uint8_t cls)
{
	if (rp->classic)
		tp_stun_wr_init_classic(w, buf, cap, rp->method, cls, rp->tid);
	else
		tp_stun_wr_init(w, buf, cap, rp->method, cls, rp->tid);
}

int tp_reply_send(struct tp_srv *s, const struct tp_reply *rp, struct tp_stun_wr *w,
                  uint16_t code, bool software)
{
	const struct tp_conf *c = s->conf;
	long n;

	if (software && c->software[0])
		tp_stun_put_str(w, TP_ATTR_SOFTWARE, c->software, strlen(c->software));
	if (rp->authed) {
		w->crypto = s->crypto;
		if (rp->mi256)
			tp_stun_put_mi256(w, rp->key, rp->key_len, rp->mi256_len);
		else
			tp_stun_put_mi(w, rp->key, rp->key_len);
	}
	if (rp->fingerprint)
		tp_stun_put_fingerprint(w);
	n = tp_stun_wr_finish(w);
	if (n < 0) {
		s->stats.drop_reply++;
		tp_debug(NULL, "stun: reply to %s does not fit: dropped", tp_method_name(rp->method));
		return (int)n;
	}
	s->stats.tx_msgs++;
	tp_stats_answer(&s->stats, rp->method, code);
	return rp->sink->send(rp->sink, &rp->ft.local, &rp->ft.client, w->buf, (size_t)n);
}

int tp_reply_error(struct tp_srv *s, const struct tp_reply *rp, uint16_t code,
                   const uint16_t *unknown, size_t nunknown)
{
	return tp_reply_error_why(s, rp, code, NULL, unknown, nunknown);
}

/*
 * The reason phrase is the standard one followed by why ("Forbidden: denied
 * by denied-peer"), so a client's diagnostics can say what to change; not for
 * 401 and 438, whose why would tell a guesser whether a user exists.
 */
int tp_reply_error_why(struct tp_srv *s, const struct tp_reply *rp, uint16_t code,
                       const char *why, const uint16_t *unknown, size_t nunknown)
{
	struct tp_reply e = *rp;
	struct tp_stun_wr w;
	uint8_t buf[TP_REPLY_MAX];
	char reason[256];

	if (why && *why && code != 401 && code != 438)
		snprintf(reason, sizeof(reason), "%s: %s", tp_error_reason(code), why);
	else
		snprintf(reason, sizeof(reason), "%s", tp_error_reason(code));
	tp_reply_start(&e, &w, buf, sizeof(buf), TP_CLASS_ERROR);
	tp_stun_put_error(&w, code, reason);
	if (code == 401 || code == 438) {
		e.authed = false; /* a challenge carries no integrity */
		tp_auth_put_challenge(s, &e.ft, &w);
	}
	if (code == 420)
		tp_stun_put_unknown(&w, unknown, nunknown);
	return tp_reply_send(s, &e, &w, code, false);
}

void tp_req_begin(struct tp_req *rq)
{
	tp_reply_start(&rq->rp, &rq->w, rq->out, sizeof(rq->out), TP_CLASS_SUCCESS);
}

int tp_req_send(struct tp_req *rq)
{
	return tp_reply_send(rq->s, &rq->rp, &rq->w, 0, rq->authed);
}

void tp_req_authed(struct tp_req *rq)
{
	rq->authed = true;
	tp_reply_auth(&rq->rp, &rq->auth);
}

int tp_req_fail(struct tp_req *rq, uint16_t code, const char *why)
{
	uint64_t more;

	if (code == 486 || code == 508) {
		/* quotas and capacity: a line per source and minute */
		char t[64];

		if (tp_refusal_log(rq->s, TP_REFUSE_QUOTA, &rq->ft->client, &more))
			tp_warn(&rq->log, "stun: %s: %u %s: %s (logged once a minute per source%s)",
			        tp_method_name(rq->m->method), code, tp_error_reason(code), why,
			        tp_refusal_more(t, sizeof(t), more));
		else
			tp_debug(&rq->log, "stun: %s: %u %s: %s", tp_method_name(rq->m->method), code,
			         tp_error_reason(code), why);
	} else if (code == 401 || code == 438)
		tp_debug(&rq->log, "stun: %s: %u %s: %s", tp_method_name(rq->m->method), code,
		         tp_error_reason(code), why);
	else
		tp_info(&rq->log, "stun: %s: %u %s: %s", tp_method_name(rq->m->method), code,
		        tp_error_reason(code), why);
	tp_reply_error_why(rq->s, &rq->rp, code, why, rq->m->unknown, rq->m->nunknown);
	return code;
}

/* ---- Binding (RFC 8489 §3, RFC 3489 for classic clients, RFC 5780) ---- */

/* RFC 5780 §6.1: a server without a second address does not understand
 * CHANGE-REQUEST (with a flag set) or RESPONSE-PORT: 420. */
static bool nat_unsupported(struct tp_req *rq, const struct tp_stun_attr *cr,
                            const struct tp_stun_attr *rp)
{
	uint16_t t[2];
	size_t n = 0;

	if (cr && tp_attr_change_flags(cr) & (TP_CHANGE_IP | TP_CHANGE_PORT))
		t[n++] = TP_ATTR_CHANGE_REQUEST;
	if (rp)
		t[n++] = TP_ATTR_RESPONSE_PORT;
	if (!n)
		return false;
	tp_reply_error(rq->s, &rq->rp, 420, t, n);
	return true;
}

/*
 * RFC 5780 §6.1 on one of the four sockets: answer from the socket the
 * CHANGE-REQUEST flags select, to RESPONSE-PORT on the client's own IP (never
 * another host), with OTHER-ADDRESS and RESPONSE-ORIGIN, and PADDING (RFC
 * 5780 §7.6, for probing fragmentation) as long as the reply stays within the
 * request's own size, so none of this amplifies. Such a reply may be larger
 * than an MTU, so it is built in the loop's datagram-sized buffer.
 */
static void binding_nat(struct tp_req *rq, const struct tp_stun_attr *cr,
                        const struct tp_stun_attr *rp)
{
	struct tp_srv *s = rq->s;
	const struct tp_stun_msg *m = rq->m;
	const struct tp_stun_attr *pad = tp_stun_find(m, TP_ATTR_PADDING);
	unsigned role = rq->sink->nat_role - 1u, out_role = role;
	uint32_t flags = cr ? tp_attr_change_flags(cr) : 0;
	struct tp_reply out = rq->rp;   /* the same answer, maybe from elsewhere */
	struct tp_addr origin, other;

	if (flags & TP_CHANGE_IP)
		out_role ^= 2u;
	if (flags & TP_CHANGE_PORT)
		out_role ^= 1u;
	if (rp)
		out.ft.client.port = tp_attr_response_port(rp); /* never another host */
	out.sink = s->nat[out_role];
	out.ft.local = s->nat_addr[out_role];
	tp_public_addr(s, &s->nat_addr[out_role], &origin);
	tp_public_addr(s, &s->nat_addr[role ^ 3u], &other);
	tp_reply_start(&out, &rq->w, s->bigout, sizeof(s->bigout), TP_CLASS_SUCCESS);
	tp_stun_put_addr(&rq->w, TP_ATTR_XOR_MAPPED_ADDRESS, &rq->ft->client);
	tp_stun_put_addr(&rq->w, TP_ATTR_RESPONSE_ORIGIN, &origin);
	tp_stun_put_addr(&rq->w, TP_ATTR_OTHER_ADDRESS, &other);
	if (pad && !rp) {
		size_t fixed = rq->w.len + 4 + (m->has_fingerprint ? 8 : 0);
		size_t room = m->len > fixed ? m->len - fixed : 0;

		tp_stun_put_padding(&rq->w, (pad->len < room ? pad->len : room) & ~3u);
	}
	tp_reply_send(s, &out, &rq->w, 0, false);
}

static void binding(struct tp_req *rq)
{
	const struct tp_stun_msg *m = rq->m;
	const struct tp_conf *c = rq->s->conf;
	const struct tp_stun_attr *cr = tp_stun_find(m, TP_ATTR_CHANGE_REQUEST);
	const struct tp_stun_attr *rp = tp_stun_find(m, TP_ATTR_RESPONSE_PORT);
	size_t swlen = strlen(c->software), before;

	if (!tp_rate_allow(rq->s, &rq->ft->client))
		return;
	/* classic RFC 3489 clients may carry RESPONSE-ADDRESS & co: they get their
	 * MAPPED-ADDRESS all the same, as an RFC 3489 server without those
	 * features would answer */
	if (m->nunknown && !m->classic) {
		tp_req_fail(rq, 420, "unknown comprehension-required attribute");
		return;
	}
	if (rq->sink->nat_role && !m->classic) {
		binding_nat(rq, cr, rp);
		return;
	}
	if (nat_unsupported(rq, cr, rp))
		return;
	tp_req_begin(rq);
	tp_stun_put_addr(&rq->w, m->classic ? TP_ATTR_MAPPED_ADDRESS : TP_ATTR_XOR_MAPPED_ADDRESS,
	                 &rq->ft->client);
	/* No amplification: SOFTWARE only if the reply stays within the request's size. */
	before = rq->w.len + (m->has_fingerprint ? 8 : 0);
	tp_reply_send(rq->s, &rq->rp, &rq->w, 0, swlen && before + 4 + ((swlen + 3) & ~3u) <= m->len);
}

/* ---- entry ---- */

static void request(struct tp_srv *s, struct tp_sink *sink, const struct tp_5tuple *ft,
                    const struct tp_stun_msg *m)
{
	struct tp_req rq = { .s = s, .sink = sink, .ft = ft, .m = m };

	tp_reply_init(&rq.rp, sink, ft, m);
	rq.log.transport = transport_names[ft->transport < 5 ? ft->transport : 0];
	rq.log.client = &ft->client;
	if (m->classic) {
		/* RFC 3489 clients only ever get Binding answered */
		if (m->method == TP_METHOD_BINDING)
			binding(&rq);
		return;
	}
	switch (m->method) {
	case TP_METHOD_BINDING:
		binding(&rq);
		break;
	case TP_METHOD_ALLOCATE:
	case TP_METHOD_REFRESH:
	case TP_METHOD_CREATE_PERMISSION:
	case TP_METHOD_CHANNEL_BIND:
	case TP_METHOD_CONNECT:
	case TP_METHOD_CONNECTION_BIND:
		tp_turn_request(&rq);
		break;
	default:
		if (tp_rate_allow(s, &ft->client))
			tp_req_fail(&rq, 400, "unknown method");
		break;
	}
}

/* A request whose attributes did not validate still gets a 400 when its header
 * is sound, so the client learns why; anything else is dropped. So is a
 * "request" of a method that only has indications (Send, Data:
 * TP_P_BAD_CLASS): no response of that method exists, and an error response
 * of it would not decode at the client either. */
static void malformed(struct tp_srv *s, struct tp_sink *sink, const struct tp_5tuple *ft,
                      const uint8_t *b, size_t n, enum tp_perr e, const char *why)
{
	struct tp_stun_msg hdr;
	struct tp_req rq = { .s = s, .sink = sink, .ft = ft, .m = &hdr };

	s->stats.drop_malformed++;
	if (n < TP_STUN_HDR_LEN || e == TP_P_NOT_STUN || e == TP_P_FINGERPRINT_BAD ||
	    e == TP_P_SHORT_HEADER || e == TP_P_BAD_LENGTH || e == TP_P_LENGTH_MISMATCH ||
	    e == TP_P_BAD_CLASS)
		return;
	uint16_t type = (uint16_t)(b[0] << 8 | b[1]);

	if (tp_stun_type_class(type) != TP_CLASS_REQUEST)
		return;
	memset(&hdr, 0, sizeof(hdr));
	hdr.classic = !(b[4] == 0x21 && b[5] == 0x12 && b[6] == 0xA4 && b[7] == 0x42);
	hdr.method = tp_stun_type_method(type);
	/* RFC 3489 framing: only a Binding is answered (in the classic form) */
	if (hdr.classic && hdr.method != TP_METHOD_BINDING)
		return;
	if (!tp_rate_allow(s, &ft->client))
		return;
	hdr.buf = b;
	hdr.len = n;
	hdr.cls = TP_CLASS_REQUEST;
	hdr.tid = hdr.classic ? b + 4 : b + 8;
	hdr.mi = hdr.mi256 = -1;
	tp_reply_init(&rq.rp, sink, ft, &hdr);
	rq.log.transport = transport_names[ft->transport < 5 ? ft->transport : 0];
	rq.log.client = &ft->client;
	tp_debug(&rq.log, "stun: malformed %s request: %s (%s)", tp_method_name(hdr.method),
	         tp_perr_str(e), why ? why : "");
	tp_req_fail(&rq, 400, tp_perr_str(e));
}

void tp_dispatch(struct tp_srv *s, struct tp_sink *sink, const struct tp_5tuple *ft,
                 const uint8_t *b, size_t n)
{
	struct tp_stun_msg m;
	const char *why = NULL;
	enum tp_perr e;

	s->stats.rx_msgs++;
	if (n == 0) {
		s->stats.drop_not_stun++;
		return;
	}
	/* RFC 7983 (DTLS is the DTLS listener's, before this) */
	switch (tp_demux(b[0], false, s->conf->legacy_channels ? TP_CHAN_MAX_RFC5766 : TP_CHAN_MAX)) {
	case TP_DEMUX_CHANDATA:
		tp_turn_chandata(s, ft, b, n);
		return;
	case TP_DEMUX_STUN:
		break;
	default:
		s->stats.drop_not_stun++;
		return;
	}
	e = tp_stun_decode(&m, b, n, &why);
	if (e != TP_P_OK) {
		malformed(s, sink, ft, b, n, e, why);
		return;
	}
	switch (m.cls) {
	case TP_CLASS_REQUEST:
		request(s, sink, ft, &m);
		break;
	case TP_CLASS_INDICATION:
		if (m.method == TP_METHOD_SEND && !m.classic)
			tp_turn_send_indication(s, ft, &m);
		break;
	default:
		break; /* responses are not expected by a server */
	}
}
