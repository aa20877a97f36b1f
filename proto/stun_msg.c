/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stun_msg.c - decode and validate one STUN message (RFC 8489 §5, §14; classic
 * RFC 3489 messages without the magic cookie are recognised too).
 *
 * One pass over the attributes: the TLV framing and padding are checked, every
 * attribute the codec knows is validated by a table rule (length bounds plus a
 * kind-specific value check), and the ordering rules of §14.5/§14.6 and the
 * FINGERPRINT rule of §14.7 are applied. Afterwards the getters in stun_attr.c
 * read values without further checks.
 *
 * Duplicates: every occurrence is kept in attrs[], in order; tp_stun_find()
 * returns the first one, which is the one the getters and the server use
 * (RFC 8489 §14: "only the first occurrence needs to be processed").
 * Padding bytes are not checked (RFC 8489 §14: ignored on receipt).
 * Text attributes USERNAME, REALM, NONCE and ALTERNATE-DOMAIN must be valid
 * UTF-8 (they feed key derivation and logs); SOFTWARE and reason phrases are
 * only bounded in length.
 * MOBILITY-TICKET: 0..1024 bytes (RFC 8016 gives no bound; a zero-length ticket
 * is how a client asks for mobility; our own tickets are far shorter).
 */
#include <string.h>

#include "proto.h"
#include "rd.h"

#define MAX_TICKET 1024

enum rule_kind {
	K_NONE = 0,    /* not known to the codec */
	K_LEN,         /* only a length range */
	K_ADDR,        /* MAPPED-ADDRESS style, plain or XOR */
	K_TEXT,        /* UTF-8, length range */
	K_ERROR,       /* ERROR-CODE */
	K_ADDR_ERROR,  /* ADDRESS-ERROR-CODE */
	K_UNKNOWN,     /* UNKNOWN-ATTRIBUTES: even length */
	K_REQ_FAMILY,  /* REQUESTED-ADDRESS-FAMILY: 1 or 2 */
	K_ADD_FAMILY,  /* ADDITIONAL-ADDRESS-FAMILY: 2 only */
	K_PW_ALG,      /* PASSWORD-ALGORITHM */
	K_PW_ALGS,     /* PASSWORD-ALGORITHMS */
	K_MI256,       /* 16..32, multiple of 4 */
};

struct rule {
	uint8_t kind;
	uint16_t min, max;
};

#define R(k, lo, hi) { (k), (lo), (hi) }

/* Comprehension-required range 0x0000-0x002F, indexed by type. */
static const struct rule rules_lo[0x30] = {
	[0x0001] = R(K_ADDR, 8, 20),                 /* MAPPED-ADDRESS */
	[0x0003] = R(K_LEN, 4, 4),                   /* CHANGE-REQUEST */
	[0x0006] = R(K_TEXT, 0, TP_MAX_USERNAME),    /* USERNAME */
	[0x0008] = R(K_LEN, 20, 20),                 /* MESSAGE-INTEGRITY */
	[0x0009] = R(K_ERROR, 4, 4 + TP_MAX_REASON), /* ERROR-CODE */
	[0x000A] = R(K_UNKNOWN, 0, 0xFFFF),          /* UNKNOWN-ATTRIBUTES */
	[0x000C] = R(K_LEN, 4, 4),                   /* CHANNEL-NUMBER */
	[0x000D] = R(K_LEN, 4, 4),                   /* LIFETIME */
	[0x0012] = R(K_ADDR, 8, 20),                 /* XOR-PEER-ADDRESS */
	[0x0013] = R(K_LEN, 0, 0xFFFF),              /* DATA */
	[0x0014] = R(K_TEXT, 0, TP_MAX_REALM),       /* REALM */
	[0x0015] = R(K_TEXT, 0, TP_MAX_NONCE),       /* NONCE */
	[0x0016] = R(K_ADDR, 8, 20),                 /* XOR-RELAYED-ADDRESS */
	[0x0017] = R(K_REQ_FAMILY, 4, 4),            /* REQUESTED-ADDRESS-FAMILY */
	[0x0018] = R(K_LEN, 1, 1),                   /* EVEN-PORT */
	[0x0019] = R(K_LEN, 4, 4),                   /* REQUESTED-TRANSPORT */
	[0x001A] = R(K_LEN, 0, 0),                   /* DONT-FRAGMENT */
	[0x001C] = R(K_MI256, 16, 32),               /* MESSAGE-INTEGRITY-SHA256 */
	[0x001D] = R(K_PW_ALG, 4, 0xFFFF),           /* PASSWORD-ALGORITHM */
	[0x001E] = R(K_LEN, 32, 32),                 /* USERHASH */
	[0x0020] = R(K_ADDR, 8, 20),                 /* XOR-MAPPED-ADDRESS */
	[0x0022] = R(K_LEN, 8, 8),                   /* RESERVATION-TOKEN */
	[0x0024] = R(K_LEN, 4, 4),                   /* PRIORITY */
	[0x0025] = R(K_LEN, 0, 0),                   /* USE-CANDIDATE */
	[0x0026] = R(K_LEN, 0, 0xFFFF),              /* PADDING */
	[0x0027] = R(K_LEN, 4, 4),                   /* RESPONSE-PORT */
	[0x002A] = R(K_LEN, 4, 4),                   /* CONNECTION-ID */
};

/* Comprehension-optional range 0x8000-0x8030, indexed by type - 0x8000. */
static const struct rule rules_hi[0x31] = {
	[0x00] = R(K_ADD_FAMILY, 4, 4),              /* ADDITIONAL-ADDRESS-FAMILY */
	[0x01] = R(K_ADDR_ERROR, 4, 4 + TP_MAX_REASON), /* ADDRESS-ERROR-CODE */
	[0x02] = R(K_PW_ALGS, 4, 0xFFFF),            /* PASSWORD-ALGORITHMS */
	[0x03] = R(K_TEXT, 1, TP_MAX_DOMAIN),        /* ALTERNATE-DOMAIN */
	[0x04] = R(K_LEN, 8, 8),                     /* ICMP */
	[0x22] = R(K_LEN, 0, TP_MAX_SOFTWARE),       /* SOFTWARE */
	[0x23] = R(K_ADDR, 8, 20),                   /* ALTERNATE-SERVER */
	[0x28] = R(K_LEN, 4, 4),                     /* FINGERPRINT */
	[0x29] = R(K_LEN, 8, 8),                     /* ICE-CONTROLLED */
	[0x2A] = R(K_LEN, 8, 8),                     /* ICE-CONTROLLING */
	[0x2B] = R(K_ADDR, 8, 20),                   /* RESPONSE-ORIGIN */
	[0x2C] = R(K_ADDR, 8, 20),                   /* OTHER-ADDRESS */
	[0x30] = R(K_LEN, 0, MAX_TICKET),            /* MOBILITY-TICKET */
};

static const struct rule *rule_for(uint16_t t)
{
	const struct rule *r;

	if (t < 0x30)
		r = &rules_lo[t];
	else if (t >= 0x8000 && t <= 0x8030)
		r = &rules_hi[t - 0x8000];
	else
		return NULL;
	return r->kind == K_NONE ? NULL : r;
}

/* Classes each known method may carry: bit (1 << class). */
static const uint8_t method_classes[0x0D] = {
	[TP_METHOD_BINDING] = 0x0F,
	[TP_METHOD_ALLOCATE] = 0x0D,
	[TP_METHOD_REFRESH] = 0x0D,
	[TP_METHOD_SEND] = 0x02,
	[TP_METHOD_DATA] = 0x02,
	[TP_METHOD_CREATE_PERMISSION] = 0x0D,
	[TP_METHOD_CHANNEL_BIND] = 0x0D,
	[TP_METHOD_CONNECT] = 0x0D,
	[TP_METHOD_CONNECTION_BIND] = 0x0D,
	[TP_METHOD_CONNECTION_ATTEMPT] = 0x0F,
};

/* Strict UTF-8 (no overlongs, surrogates or code points above U+10FFFF). */
static bool utf8_ok(const uint8_t *p, size_t n)
{
	const uint8_t *end = p + n;

	while (p < end) {
		uint8_t c = *p;
		size_t k;

		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			k = 1;
		else if (c >= 0xE0 && c <= 0xEF)
			k = 2;
		else if (c >= 0xF0 && c <= 0xF4)
			k = 3;
		else
			return false;
		if ((size_t)(end - p) < k + 1)
			return false;
		for (size_t i = 1; i <= k; i++)
			if ((p[i] & 0xC0) != 0x80)
				return false;
		if (c == 0xE0 && p[1] < 0xA0)
			return false;  /* overlong */
		if (c == 0xED && p[1] >= 0xA0)
			return false;  /* surrogate */
		if (c == 0xF0 && p[1] < 0x90)
			return false;  /* overlong */
		if (c == 0xF4 && p[1] >= 0x90)
			return false;  /* > U+10FFFF */
		p += k + 1;
	}
	return true;
}

static enum tp_perr check_addr(const uint8_t *v, size_t len, const char **why)
{
	if (len < 4) {
		*why = "address attribute shorter than 4 bytes";
		return TP_P_BAD_ATTR_LEN;
	}
	if (v[1] == TP_STUN_FAMILY_IPV4) {
		if (len == 8)
			return TP_P_OK;
	} else if (v[1] == TP_STUN_FAMILY_IPV6) {
		if (len == 20)
			return TP_P_OK;
	} else {
		*why = "address family neither 1 nor 2";
		return TP_P_BAD_FAMILY;
	}
	*why = "address length does not match its family";
	return TP_P_BAD_ATTR_LEN;
}

static enum tp_perr check_code(const uint8_t *v, const char **why)
{
	if ((v[2] & 7) < 3 || (v[2] & 7) > 6 || v[3] > 99) {
		*why = "error class outside 3..6 or number above 99";
		return TP_P_BAD_VALUE;
	}
	return TP_P_OK;
}

static enum tp_perr check_pw_algs(const uint8_t *v, size_t len, bool one, const char **why)
{
	size_t off = 0;

	while (off < len) {
		size_t plen;

		if (len - off < 4)
			goto bad;
		plen = rd_u16(v + off + 2);
		off += 4;
		if (len - off < plen)
			goto bad;
		/* The parameters are padded to 4 inside the attribute, except that
		 * the attribute's own padding may stand in for the last one. */
		off += len - off < pad4(plen) ? len - off : pad4(plen);
		if (one && off != len)
			goto bad;
	}
	return TP_P_OK;
bad:
	*why = "password algorithm parameters overrun the attribute";
	return TP_P_BAD_ATTR_LEN;
}

/* Validates one known attribute's value. */
static enum tp_perr check_value(const struct rule *r, const uint8_t *v, size_t len,
                                const char **why)
{
	if (len < r->min || len > r->max) {
		*why = "attribute length outside what its RFC allows";
		return TP_P_BAD_ATTR_LEN;
	}
	switch (r->kind) {
	case K_ADDR:
		return check_addr(v, len, why);
	case K_TEXT:
		if (!utf8_ok(v, len)) {
			*why = "text attribute is not valid UTF-8";
			return TP_P_BAD_UTF8;
		}
		return TP_P_OK;
	case K_ERROR:
		return check_code(v, why);
	case K_ADDR_ERROR:
		if (v[0] != TP_STUN_FAMILY_IPV4 && v[0] != TP_STUN_FAMILY_IPV6) {
			*why = "ADDRESS-ERROR-CODE family neither 1 nor 2";
			return TP_P_BAD_FAMILY;
		}
		return check_code(v, why);
	case K_UNKNOWN:
		if (len & 1) {
			*why = "UNKNOWN-ATTRIBUTES of odd length";
			return TP_P_BAD_ATTR_LEN;
		}
		return TP_P_OK;
	case K_REQ_FAMILY:
		if (v[0] != TP_STUN_FAMILY_IPV4 && v[0] != TP_STUN_FAMILY_IPV6) {
			*why = "REQUESTED-ADDRESS-FAMILY neither 1 nor 2";
			return TP_P_BAD_FAMILY;
		}
		return TP_P_OK;
	case K_ADD_FAMILY:
		if (v[0] == TP_STUN_FAMILY_IPV4) {
			*why = "ADDITIONAL-ADDRESS-FAMILY must be IPv6";
			return TP_P_BAD_VALUE;
		}
		if (v[0] != TP_STUN_FAMILY_IPV6) {
			*why = "ADDITIONAL-ADDRESS-FAMILY neither 1 nor 2";
			return TP_P_BAD_FAMILY;
		}
		return TP_P_OK;
	case K_PW_ALG:
		return check_pw_algs(v, len, true, why);
	case K_PW_ALGS:
		return check_pw_algs(v, len, false, why);
	case K_MI256:
		if (len & 3) {
			*why = "MESSAGE-INTEGRITY-SHA256 length not a multiple of 4";
			return TP_P_BAD_ATTR_LEN;
		}
		return TP_P_OK;
	default:
		return TP_P_OK;
	}
}

static enum tp_perr check_header(const uint8_t *b, size_t n, const char **why)
{
	size_t len;

	if (n < TP_STUN_HDR_LEN) {
		*why = "fewer than 20 bytes";
		return TP_P_SHORT_HEADER;
	}
	if (b[0] & 0xC0) {
		*why = "top two bits of the type are not zero";
		return TP_P_NOT_STUN;
	}
	len = rd_u16(b + 2);
	if (len & 3) {
		*why = "message length not a multiple of 4";
		return TP_P_BAD_LENGTH;
	}
	if (len != n - TP_STUN_HDR_LEN) {
		*why = "message length does not match the datagram";
		return TP_P_LENGTH_MISMATCH;
	}
	return TP_P_OK;
}

enum tp_perr tp_stun_decode(struct tp_stun_msg *m, const uint8_t *b, size_t n,
                            const char **why)
{
	const char *dummy;
	const uint8_t *p, *end;
	enum tp_perr e;
	uint16_t type;
	bool after_mi = false, after_mi256 = false;

	if (!why)
		why = &dummy;
	e = check_header(b, n, why);
	if (e != TP_P_OK)
		return e;

	type = rd_u16(b);
	m->buf = b;
	m->len = n;
	m->method = tp_stun_type_method(type);
	m->cls = tp_stun_type_class(type);
	m->classic = rd_u32(b + 4) != TP_STUN_MAGIC;
	m->tid = m->classic ? b + 4 : b + 8;
	m->has_fingerprint = false;
	m->mi = m->mi256 = -1;
	m->nattrs = 0;
	m->nunknown = 0;

	if (m->method < sizeof(method_classes) && method_classes[m->method] &&
	    !(method_classes[m->method] & (1u << m->cls))) {
		*why = "class not defined for this method";
		return TP_P_BAD_CLASS;
	}

	p = b + TP_STUN_HDR_LEN;
	end = b + n;
	while (p != end) {
		const struct rule *r;
		struct tp_stun_attr *a;
		size_t alen;
		uint16_t at;

		if ((size_t)(end - p) < 4) {
			*why = "fewer than 4 bytes left for an attribute header";
			return TP_P_ATTR_TRUNCATED;
		}
		at = rd_u16(p);
		alen = rd_u16(p + 2);
		if ((size_t)(end - p) - 4 < pad4(alen)) {
			*why = "attribute runs past the end of the message";
			return TP_P_ATTR_OVERRUN;
		}
		if (m->has_fingerprint) {
			*why = "attribute after FINGERPRINT";
			return TP_P_FINGERPRINT_NOT_LAST;
		}
		if (at == TP_ATTR_FINGERPRINT) {
			/* must be last; it covers everything before it */
			if (alen != 4) {
				*why = "FINGERPRINT length is not 4";
				return TP_P_BAD_ATTR_LEN;
			}
			if ((size_t)(end - p) != 8) {
				*why = "attribute after FINGERPRINT";
				return TP_P_FINGERPRINT_NOT_LAST;
			}
			if ((tp_crc32(b, (size_t)(p - b)) ^ TP_FINGERPRINT_XOR) != rd_u32(p + 4)) {
				*why = "FINGERPRINT CRC mismatch";
				return TP_P_FINGERPRINT_BAD;
			}
			m->has_fingerprint = true;
		} else if (after_mi256) {
			/* §14.6: only FINGERPRINT may follow MESSAGE-INTEGRITY-SHA256 */
			if (at == TP_ATTR_MESSAGE_INTEGRITY) {
				*why = "MESSAGE-INTEGRITY after MESSAGE-INTEGRITY-SHA256";
				return TP_P_INTEGRITY_ORDER;
			}
			goto next;
		} else if (after_mi && at != TP_ATTR_MESSAGE_INTEGRITY_SHA256) {
			goto next;  /* §14.5: ignored */
		}

		r = rule_for(at);
		if (r) {
			e = check_value(r, p + 4, alen, why);
			if (e != TP_P_OK)
				return e;
		} else if (at < 0x8000 && m->nunknown < TP_STUN_MAX_UNKNOWN) {
			m->unknown[m->nunknown++] = at;
		}
		if (m->nattrs == TP_STUN_MAX_ATTRS) {
			*why = "more attributes than the codec keeps";
			return TP_P_TOO_MANY_ATTRS;
		}
		if (at == TP_ATTR_MESSAGE_INTEGRITY) {
			m->mi = (int16_t)m->nattrs;
			after_mi = true;
		} else if (at == TP_ATTR_MESSAGE_INTEGRITY_SHA256) {
			m->mi256 = (int16_t)m->nattrs;
			after_mi256 = true;
		}
		a = &m->attrs[m->nattrs++];
		a->type = at;
		a->len = (uint16_t)alen;
		a->off = (uint16_t)(p - b);
		a->val = p + 4;
next:
		p += 4 + pad4(alen);
	}
	return TP_P_OK;
}

bool tp_stun_is_stun(const uint8_t *b, size_t n)
{
	return n >= TP_STUN_HDR_LEN && b[0] < 0x40 && rd_u32(b + 4) == TP_STUN_MAGIC &&
	       (rd_u16(b + 2) & 3) == 0 && (size_t)rd_u16(b + 2) == n - TP_STUN_HDR_LEN;
}

const struct tp_stun_attr *tp_stun_find(const struct tp_stun_msg *m, uint16_t type)
{
	for (unsigned i = 0; i < m->nattrs; i++)
		if (m->attrs[i].type == type)
			return &m->attrs[i];
	return NULL;
}

const struct tp_stun_attr *tp_stun_find_next(const struct tp_stun_msg *m, uint16_t type,
                                             const struct tp_stun_attr *prev)
{
	size_t i = prev ? (size_t)(prev - m->attrs) + 1 : 0;

	for (; i < m->nattrs; i++)
		if (m->attrs[i].type == type)
			return &m->attrs[i];
	return NULL;
}
