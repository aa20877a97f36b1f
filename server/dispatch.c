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
	return false;
}

/* ---- replies ---- */

void tp_req_begin(struct tp_req *rq)
{
	tp_stun_wr_reply(&rq->w, rq->out, sizeof(rq->out), rq->m, TP_CLASS_SUCCESS);
}

static int finish_and_send(struct tp_req *rq, bool software)
{
	const struct tp_conf *c = rq->s->conf;
	long n;

	if (software && c->software[0])
		tp_stun_put_str(&rq->w, TP_ATTR_SOFTWARE, c->software, strlen(c->software));
	if (rq->authed) {
		rq->w.crypto = rq->s->crypto;
		tp_auth_put_integrity(&rq->auth, &rq->w);
	}
	if (rq->m->has_fingerprint)
		tp_stun_put_fingerprint(&rq->w);
	n = tp_stun_wr_finish(&rq->w);
	if (n < 0) {
		rq->s->stats.drop_reply++;
		tp_debug(&rq->log, "stun: reply to %s does not fit: dropped",
		         tp_method_name(rq->m->method));
		return -1;
	}
	rq->s->stats.tx_msgs++;
	return rq->sink->send(rq->sink, &rq->ft->local, &rq->ft->client, rq->out, (size_t)n);
}

int tp_req_send(struct tp_req *rq)
{
	return finish_and_send(rq, rq->authed);
}

int tp_req_fail(struct tp_req *rq, uint16_t code, const char *why)
{
	struct tp_srv *s = rq->s;

	if (code < 700)
		s->stats.err[code]++;
	if (code == 401 || code == 438)
		tp_debug(&rq->log, "stun: %s: %u %s: %s", tp_method_name(rq->m->method), code,
		         tp_error_reason(code), why);
	else
		tp_info(&rq->log, "stun: %s: %u %s: %s", tp_method_name(rq->m->method), code,
		        tp_error_reason(code), why);
	tp_stun_wr_reply(&rq->w, rq->out, sizeof(rq->out), rq->m, TP_CLASS_ERROR);
	tp_stun_put_error(&rq->w, code, tp_error_reason(code));
	if (code == 401 || code == 438) {
		rq->authed = false; /* a challenge carries no integrity */
		tp_auth_put_challenge(s, rq->ft, &rq->w);
	}
	if (code == 420)
		tp_stun_put_unknown(&rq->w, rq->m->unknown, rq->m->nunknown);
	finish_and_send(rq, false);
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
	rq->s->stats.err[420]++;
	tp_stun_wr_reply(&rq->w, rq->out, sizeof(rq->out), rq->m, TP_CLASS_ERROR);
	tp_stun_put_error(&rq->w, 420, tp_error_reason(420));
	tp_stun_put_unknown(&rq->w, t, n);
	finish_and_send(rq, false);
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
	struct tp_addr to = rq->ft->client, origin, other;
	long n;

	if (flags & TP_CHANGE_IP)
		out_role ^= 2u;
	if (flags & TP_CHANGE_PORT)
		out_role ^= 1u;
	if (rp)
		to.port = tp_attr_response_port(rp);
	tp_public_addr(s, &s->nat_addr[out_role], &origin);
	tp_public_addr(s, &s->nat_addr[role ^ 3u], &other);
	tp_stun_wr_reply(&rq->w, s->bigout, sizeof(s->bigout), m, TP_CLASS_SUCCESS);
	tp_stun_put_addr(&rq->w, TP_ATTR_XOR_MAPPED_ADDRESS, &rq->ft->client);
	tp_stun_put_addr(&rq->w, TP_ATTR_RESPONSE_ORIGIN, &origin);
	tp_stun_put_addr(&rq->w, TP_ATTR_OTHER_ADDRESS, &other);
	if (pad && !rp) {
		size_t fixed = rq->w.len + 4 + (m->has_fingerprint ? 8 : 0);
		size_t room = m->len > fixed ? m->len - fixed : 0;

		tp_stun_put_padding(&rq->w, (pad->len < room ? pad->len : room) & ~3u);
	}
	if (m->has_fingerprint)
		tp_stun_put_fingerprint(&rq->w);
	n = tp_stun_wr_finish(&rq->w);
	if (n < 0) {
		s->stats.drop_reply++;
		tp_debug(&rq->log, "stun: RFC 5780 Binding reply does not fit: dropped");
		return;
	}
	s->stats.tx_msgs++;
	s->nat[out_role]->send(s->nat[out_role], &s->nat_addr[out_role], &to, s->bigout, (size_t)n);
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
	finish_and_send(rq, swlen && before + 4 + ((swlen + 3) & ~3u) <= m->len);
}

/* ---- entry ---- */

static void request(struct tp_srv *s, struct tp_sink *sink, const struct tp_5tuple *ft,
                    const struct tp_stun_msg *m)
{
	struct tp_req rq = { .s = s, .sink = sink, .ft = ft, .m = m };

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
 * is sound, so the client learns why; anything else is dropped. */
static void malformed(struct tp_srv *s, struct tp_sink *sink, const struct tp_5tuple *ft,
                      const uint8_t *b, size_t n, enum tp_perr e, const char *why)
{
	struct tp_stun_msg hdr;
	struct tp_req rq = { .s = s, .sink = sink, .ft = ft, .m = &hdr };

	s->stats.drop_malformed++;
	if (n < TP_STUN_HDR_LEN || e == TP_P_NOT_STUN || e == TP_P_FINGERPRINT_BAD ||
	    e == TP_P_SHORT_HEADER || e == TP_P_BAD_LENGTH || e == TP_P_LENGTH_MISMATCH)
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
	if (b[0] >= 0x40 && b[0] <= (s->conf->legacy_channels ? 0x7F : 0x4F)) {
		tp_turn_chandata(s, ft, b, n);
		return;
	}
	if (b[0] > 3) {
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
