/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stun_wr.c - the STUN message writer (RFC 8489 §5, §14).
 *
 * Every put either writes a whole attribute (header, value, zero padding) and
 * updates the header's length field, or writes nothing and records its error
 * in w->err; later puts then return that error at once (sticky), so callers
 * check once at tp_stun_wr_finish(). The writer never stores past cap.
 *
 * Values are checked where the RFCs bound them (error codes, text lengths,
 * channel numbers, ...) so that whatever the writer produces also decodes.
 * Ordering (MESSAGE-INTEGRITY, -SHA256, FINGERPRINT last) is the caller's job.
 * MESSAGE-INTEGRITY, -SHA256 and FINGERPRINT are in stun_integrity.c.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "proto.h"
#include "rd.h"

#define MAX_BODY 0xFFFCu  /* largest message length that is a multiple of 4 */

static int fail(struct tp_stun_wr *w, int err)
{
	w->err = err;
	return err;
}

static int init(struct tp_stun_wr *w, uint8_t *buf, size_t cap, uint16_t method,
                uint8_t cls, const uint8_t *id, size_t id_len)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->err = 0;
	w->classic = id_len == 16;
	w->crypto = NULL;
	if (method > 0xFFF || cls > 3)
		return fail(w, -EINVAL);
	if (cap < TP_STUN_HDR_LEN)
		return fail(w, -ENOBUFS);
	wr_u16(buf, tp_stun_type(method, cls));
	wr_u16(buf + 2, 0);
	if (id_len == TP_STUN_TID_LEN) {
		wr_u32(buf + 4, TP_STUN_MAGIC);
		memcpy(buf + 8, id, TP_STUN_TID_LEN);
	} else {
		memcpy(buf + 4, id, 16);
	}
	w->len = TP_STUN_HDR_LEN;
	return 0;
}

int tp_stun_wr_init(struct tp_stun_wr *w, uint8_t *buf, size_t cap, uint16_t method,
                    uint8_t cls, const uint8_t *tid)
{
	return init(w, buf, cap, method, cls, tid, TP_STUN_TID_LEN);
}

int tp_stun_wr_init_classic(struct tp_stun_wr *w, uint8_t *buf, size_t cap,
                            uint16_t method, uint8_t cls, const uint8_t tid16[16])
{
	return init(w, buf, cap, method, cls, tid16, 16);
}

int tp_stun_wr_reply(struct tp_stun_wr *w, uint8_t *buf, size_t cap,
                     const struct tp_stun_msg *req, uint8_t cls)
{
	return init(w, buf, cap, req->method, cls, req->tid,
	            req->classic ? 16 : TP_STUN_TID_LEN);
}

/* Declared in rd.h: used by stun_integrity.c too. */
uint8_t *tp_stun_wr_reserve(struct tp_stun_wr *w, uint16_t type, size_t len)
{
	size_t total;
	uint8_t *p;

	if (w->err)
		return NULL;
	if (len > MAX_BODY - 4 || w->len - TP_STUN_HDR_LEN > MAX_BODY - 4 - pad4(len)) {
		fail(w, -EMSGSIZE);
		return NULL;
	}
	total = 4 + pad4(len);
	if (w->cap - w->len < total) {
		fail(w, -ENOBUFS);
		return NULL;
	}
	p = w->buf + w->len;
	wr_u16(p, type);
	wr_u16(p + 2, (uint16_t)len);
	/* zero padding; the value itself is written by the caller */
	memset(p + 4 + len, 0, pad4(len) - len);
	w->len += total;
	wr_u16(w->buf + 2, (uint16_t)(w->len - TP_STUN_HDR_LEN));
	return p + 4;
}

int tp_stun_put(struct tp_stun_wr *w, uint16_t type, const void *val, size_t len)
{
	uint8_t *p = tp_stun_wr_reserve(w, type, len);

	if (!p)
		return w->err;
	if (len)
		memcpy(p, val, len);
	return 0;
}

int tp_stun_put_empty(struct tp_stun_wr *w, uint16_t type)
{
	return tp_stun_put(w, type, NULL, 0);
}

int tp_stun_put_u32(struct tp_stun_wr *w, uint16_t type, uint32_t v)
{
	uint8_t *p = tp_stun_wr_reserve(w, type, 4);

	if (!p)
		return w->err;
	wr_u32(p, v);
	return 0;
}

int tp_stun_put_u64(struct tp_stun_wr *w, uint16_t type, uint64_t v)
{
	uint8_t *p = tp_stun_wr_reserve(w, type, 8);

	if (!p)
		return w->err;
	wr_u64(p, v);
	return 0;
}

static size_t text_max(uint16_t type)
{
	switch (type) {
	case TP_ATTR_USERNAME:
		return TP_MAX_USERNAME;
	case TP_ATTR_REALM:
		return TP_MAX_REALM;
	case TP_ATTR_NONCE:
		return TP_MAX_NONCE;
	case TP_ATTR_SOFTWARE:
		return TP_MAX_SOFTWARE;
	case TP_ATTR_ALTERNATE_DOMAIN:
		return TP_MAX_DOMAIN;
	default:
		return MAX_BODY;
	}
}

int tp_stun_put_str(struct tp_stun_wr *w, uint16_t type, const char *s, size_t len)
{
	if (w->err)
		return w->err;
	if (len > text_max(type))
		return fail(w, -EINVAL);
	return tp_stun_put(w, type, s, len);
}

int tp_stun_put_addr(struct tp_stun_wr *w, uint16_t type, const struct tp_addr *a)
{
	size_t n;
	uint8_t *p;
	const uint8_t *x;

	if (w->err)
		return w->err;
	if (a->family == AF_INET)
		n = 4;
	else if (a->family == AF_INET6)
		n = 16;
	else
		return fail(w, -EAFNOSUPPORT);
	if (w->classic && is_xor_addr(type))
		return fail(w, -EINVAL);
	p = tp_stun_wr_reserve(w, type, 4 + n);
	if (!p)
		return w->err;
	p[0] = 0;
	p[1] = n == 4 ? TP_STUN_FAMILY_IPV4 : TP_STUN_FAMILY_IPV6;
	wr_u16(p + 2, a->port);
	memcpy(p + 4, a->ip, n);
	if (is_xor_addr(type)) {
		x = w->buf + 4;  /* cookie, then transaction ID */
		p[2] ^= x[0];
		p[3] ^= x[1];
		for (size_t i = 0; i < n; i++)
			p[4 + i] ^= x[i];
	}
	return 0;
}

/* In a classic (RFC 3489) message the reason phrase's length must be a
 * multiple of 4 (RFC 3489 §11.2.9): it is padded with spaces. */
static int put_code(struct tp_stun_wr *w, uint16_t type, uint8_t family, uint16_t code,
                    const char *reason)
{
	size_t rlen = reason ? strlen(reason) : 0;
	size_t vlen = w->classic ? (rlen + 3) & ~(size_t)3 : rlen;
	uint8_t *p;

	if (w->err)
		return w->err;
	if (code < 300 || code > 699 || rlen > TP_MAX_REASON)
		return fail(w, -EINVAL);
	p = tp_stun_wr_reserve(w, type, 4 + vlen);
	if (!p)
		return w->err;
	p[0] = family;
	p[1] = 0;
	p[2] = (uint8_t)(code / 100);
	p[3] = (uint8_t)(code % 100);
	if (rlen)
		memcpy(p + 4, reason, rlen);
	memset(p + 4 + rlen, ' ', vlen - rlen);
	return 0;
}

int tp_stun_put_error(struct tp_stun_wr *w, uint16_t code, const char *reason)
{
	return put_code(w, TP_ATTR_ERROR_CODE, 0, code, reason);
}

int tp_stun_put_addr_error(struct tp_stun_wr *w, uint8_t family, uint16_t code,
                           const char *reason)
{
	if (!w->err && family != TP_STUN_FAMILY_IPV4 && family != TP_STUN_FAMILY_IPV6)
		return fail(w, -EINVAL);
	return put_code(w, TP_ATTR_ADDRESS_ERROR_CODE, family, code, reason);
}

int tp_stun_put_unknown(struct tp_stun_wr *w, const uint16_t *types, size_t n)
{
	uint8_t *p;

	if (w->err)
		return w->err;
	if (n > MAX_BODY / 2)
		return fail(w, -EINVAL);
	p = tp_stun_wr_reserve(w, TP_ATTR_UNKNOWN_ATTRIBUTES, 2 * n);
	if (!p)
		return w->err;
	for (size_t i = 0; i < n; i++)
		wr_u16(p + 2 * i, types[i]);
	return 0;
}

int tp_stun_put_pw_algs(struct tp_stun_wr *w, const uint16_t *algs, size_t n)
{
	uint8_t *p;

	if (w->err)
		return w->err;
	if (n == 0 || n > MAX_BODY / 4)
		return fail(w, -EINVAL);
	p = tp_stun_wr_reserve(w, TP_ATTR_PASSWORD_ALGORITHMS, 4 * n);
	if (!p)
		return w->err;
	for (size_t i = 0; i < n; i++) {
		wr_u16(p + 4 * i, algs[i]);
		wr_u16(p + 4 * i + 2, 0);  /* MD5 and SHA-256 take no parameters */
	}
	return 0;
}

int tp_stun_put_pw_alg(struct tp_stun_wr *w, uint16_t alg)
{
	return tp_stun_put_u32(w, TP_ATTR_PASSWORD_ALGORITHM, (uint32_t)alg << 16);
}

int tp_stun_put_channel(struct tp_stun_wr *w, uint16_t chan)
{
	if (w->err)
		return w->err;
	if (!tp_chan_valid(chan))
		return fail(w, -EINVAL);
	return tp_stun_put_u32(w, TP_ATTR_CHANNEL_NUMBER, (uint32_t)chan << 16);
}

int tp_stun_put_transport(struct tp_stun_wr *w, uint8_t proto)
{
	return tp_stun_put_u32(w, TP_ATTR_REQUESTED_TRANSPORT, (uint32_t)proto << 24);
}

int tp_stun_put_family(struct tp_stun_wr *w, uint16_t type, uint8_t family)
{
	if (w->err)
		return w->err;
	if ((type != TP_ATTR_REQUESTED_ADDRESS_FAMILY &&
	     type != TP_ATTR_ADDITIONAL_ADDRESS_FAMILY) ||
	    (family != TP_STUN_FAMILY_IPV4 && family != TP_STUN_FAMILY_IPV6))
		return fail(w, -EINVAL);
	return tp_stun_put_u32(w, type, (uint32_t)family << 24);
}

int tp_stun_put_even_port(struct tp_stun_wr *w, bool r)
{
	uint8_t v = r ? 0x80 : 0;

	return tp_stun_put(w, TP_ATTR_EVEN_PORT, &v, 1);
}

int tp_stun_put_change(struct tp_stun_wr *w, uint32_t flags)
{
	return tp_stun_put_u32(w, TP_ATTR_CHANGE_REQUEST, flags);
}

int tp_stun_put_response_port(struct tp_stun_wr *w, uint16_t port)
{
	return tp_stun_put_u32(w, TP_ATTR_RESPONSE_PORT, (uint32_t)port << 16);
}

int tp_stun_put_icmp(struct tp_stun_wr *w, const struct tp_icmp *icmp)
{
	uint8_t *p = tp_stun_wr_reserve(w, TP_ATTR_ICMP, 8);

	if (!p)
		return w->err;
	p[0] = p[1] = 0;
	p[2] = icmp->type;
	p[3] = icmp->code;
	wr_u32(p + 4, icmp->data);
	return 0;
}

int tp_stun_put_padding(struct tp_stun_wr *w, size_t n)
{
	uint8_t *p = tp_stun_wr_reserve(w, TP_ATTR_PADDING, n);

	if (!p)
		return w->err;
	memset(p, 0, n);
	return 0;
}

long tp_stun_wr_finish(struct tp_stun_wr *w)
{
	if (w->err)
		return w->err;
	return (long)w->len;
}
