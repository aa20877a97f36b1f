/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_stun.c - libFuzzer target for tp_stun_decode.
 *
 * For every input that decodes:
 *  - every typed getter runs on the attributes it applies to, and what it
 *    returns is checked against the view (lengths, ranges the decoder promised);
 *  - MESSAGE-INTEGRITY(-SHA256) is verified with a fixed key (any answer but a
 *    crash is fine; absent must say TP_P_NO_INTEGRITY);
 *  - the kept attributes are written again with the writer into a message of the
 *    same method, class and transaction ID (MI, MI-SHA256 and FINGERPRINT are
 *    recomputed with the fixed key), which must decode to the same method,
 *    class, attribute types, lengths and bytes, and whose integrity must verify.
 * Any mismatch aborts, which libFuzzer reports as a crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz_assert.h"
#include "proto.h"


static const uint8_t key[32] = {
	0x6b, 0x65, 0x79, 0x2d, 0x66, 0x6f, 0x72, 0x2d, 0x66, 0x75, 0x7a, 0x7a,
	0x69, 0x6e, 0x67, 0x2d, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
	0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66,
};

static volatile uint64_t sink;

static bool is_addr_type(uint16_t t)
{
	switch (t) {
	case TP_ATTR_MAPPED_ADDRESS:
	case TP_ATTR_XOR_PEER_ADDRESS:
	case TP_ATTR_XOR_RELAYED_ADDRESS:
	case TP_ATTR_XOR_MAPPED_ADDRESS:
	case TP_ATTR_ALTERNATE_SERVER:
	case TP_ATTR_RESPONSE_ORIGIN:
	case TP_ATTR_OTHER_ADDRESS:
		return true;
	default:
		return false;
	}
}

static bool is_xor_type(uint16_t t)
{
	return t == TP_ATTR_XOR_PEER_ADDRESS || t == TP_ATTR_XOR_RELAYED_ADDRESS ||
	       t == TP_ATTR_XOR_MAPPED_ADDRESS;
}

/* An address decoded and encoded again gives the same value bytes (the first,
 * reserved byte aside). */
static void check_addr(const struct tp_stun_msg *m, const struct tp_stun_attr *a)
{
	struct tp_addr ad;
	struct tp_stun_wr w;
	uint8_t buf[TP_STUN_HDR_LEN + 4 + 20];
	char txt[64];
	long n;

	ASSERT(tp_attr_addr(m, a, &ad) == TP_P_OK);
	ASSERT(ad.family == AF_INET || ad.family == AF_INET6);
	ASSERT(a->len == (ad.family == AF_INET ? 8 : 20));
	n = tp_addr_fmt(&ad, txt, sizeof(txt));
	ASSERT(n > 0 && (size_t)n < sizeof(txt));
	ASSERT(tp_addr_eq(&ad, &ad) && tp_addr_ip_eq(&ad, &ad));

	if (m->classic && is_xor_type(a->type))
		return; /* the writer refuses XOR attributes without a cookie */
	if (m->classic)
		tp_stun_wr_init_classic(&w, buf, sizeof(buf), m->method, m->cls, m->tid);
	else
		tp_stun_wr_init(&w, buf, sizeof(buf), m->method, m->cls, m->tid);
	tp_stun_put_addr(&w, a->type, &ad);
	n = tp_stun_wr_finish(&w);
	ASSERT(n == TP_STUN_HDR_LEN + 4 + a->len);
	ASSERT(memcmp(buf + TP_STUN_HDR_LEN + 5, a->val + 1, a->len - 1u) == 0);
}

static void check_getters(const struct tp_stun_msg *m, const struct tp_stun_attr *a)
{
	const char *s;
	size_t len, n;
	uint16_t types[8];
	struct tp_error_code ec;
	struct tp_addr_error_code aec;
	struct tp_icmp icmp;

	ASSERT(tp_attr_name(a->type) != NULL);
	ASSERT(a->val == m->buf + a->off + 4);
	ASSERT((size_t)a->off + 4 + a->len <= m->len);
	if (is_addr_type(a->type)) {
		check_addr(m, a);
		return;
	}
	switch (a->type) {
	case TP_ATTR_USERNAME:
	case TP_ATTR_REALM:
	case TP_ATTR_NONCE:
	case TP_ATTR_SOFTWARE:
	case TP_ATTR_ALTERNATE_DOMAIN:
		tp_attr_str(a, &s, &len);
		ASSERT((const uint8_t *)s == a->val && len == a->len);
		break;
	case TP_ATTR_ERROR_CODE:
		tp_attr_error_code(a, &ec);
		ASSERT(ec.code >= 300 && ec.code <= 699);
		ASSERT(ec.reason_len == a->len - 4u);
		ASSERT(tp_error_reason(ec.code) != NULL);
		break;
	case TP_ATTR_ADDRESS_ERROR_CODE:
		tp_attr_addr_error_code(a, &aec);
		ASSERT(aec.family == TP_STUN_FAMILY_IPV4 || aec.family == TP_STUN_FAMILY_IPV6);
		ASSERT(aec.code >= 300 && aec.code <= 699);
		ASSERT(aec.reason_len == a->len - 4u);
		break;
	case TP_ATTR_UNKNOWN_ATTRIBUTES:
		n = tp_attr_unknown_list(a, types, 8);
		ASSERT(n == a->len / 2u);
		break;
	case TP_ATTR_PASSWORD_ALGORITHMS:
		n = tp_attr_pw_algs(a, types, 8);
		ASSERT(n >= 1 && n <= a->len / 4u);
		break;
	case TP_ATTR_PASSWORD_ALGORITHM:
		sink += tp_attr_pw_alg(a);
		ASSERT(tp_attr_pw_algs(a, types, 8) == 1);
		break;
	case TP_ATTR_CHANNEL_NUMBER:
		sink += tp_attr_channel(a);
		break;
	case TP_ATTR_REQUESTED_TRANSPORT:
		sink += tp_attr_transport(a);
		break;
	case TP_ATTR_REQUESTED_ADDRESS_FAMILY:
	case TP_ATTR_ADDITIONAL_ADDRESS_FAMILY:
		n = tp_attr_family(a);
		ASSERT(n == TP_STUN_FAMILY_IPV4 || n == TP_STUN_FAMILY_IPV6);
		break;
	case TP_ATTR_EVEN_PORT:
		sink += tp_attr_even_port_r(a);
		break;
	case TP_ATTR_CHANGE_REQUEST:
		ASSERT((tp_attr_change_flags(a) & ~(TP_CHANGE_IP | TP_CHANGE_PORT)) == 0);
		break;
	case TP_ATTR_RESPONSE_PORT:
		sink += tp_attr_response_port(a);
		break;
	case TP_ATTR_ICMP:
		tp_attr_icmp(a, &icmp);
		sink += icmp.type + icmp.code + icmp.data;
		break;
	case TP_ATTR_LIFETIME:
	case TP_ATTR_PRIORITY:
	case TP_ATTR_CONNECTION_ID:
	case TP_ATTR_FINGERPRINT:
		ASSERT(a->len == 4);
		sink += tp_attr_u32(a);
		break;
	case TP_ATTR_ICE_CONTROLLED:
	case TP_ATTR_ICE_CONTROLLING:
	case TP_ATTR_RESERVATION_TOKEN:
		ASSERT(a->len == 8);
		sink += tp_attr_u64(a);
		break;
	case TP_ATTR_MESSAGE_INTEGRITY:
		ASSERT(a->len == 20);
		break;
	case TP_ATTR_MESSAGE_INTEGRITY_SHA256:
		ASSERT(a->len >= 16 && a->len <= 32 && a->len % 4 == 0);
		break;
	default:
		/* u32/u64 guard short values themselves */
		sink += tp_attr_u32(a) + tp_attr_u64(a);
		break;
	}
}

static void check_find(const struct tp_stun_msg *m)
{
	for (unsigned i = 0; i < m->nattrs; i++) {
		const struct tp_stun_attr *a = NULL;
		unsigned count = 0, expect = 0;

		for (unsigned j = 0; j < m->nattrs; j++)
			expect += m->attrs[j].type == m->attrs[i].type;
		ASSERT(tp_stun_find(m, m->attrs[i].type) != NULL);
		while ((a = tp_stun_find_next(m, m->attrs[i].type, a)) != NULL)
			count++;
		ASSERT(count == expect);
	}
}

static void check_integrity(const struct tp_stun_msg *m)
{
	enum tp_perr e;

	e = tp_stun_verify_mi(m, key, 16);
	ASSERT(m->mi >= 0 ? (e == TP_P_OK || e == TP_P_INTEGRITY_BAD) : e == TP_P_NO_INTEGRITY);
	e = tp_stun_verify_mi256(m, key, 32);
	ASSERT(m->mi256 >= 0 ? (e == TP_P_OK || e == TP_P_INTEGRITY_BAD)
	                     : e == TP_P_NO_INTEGRITY);
}

/* Encode the kept attributes again and decode the result. */
static void check_roundtrip(const struct tp_stun_msg *m)
{
	static uint8_t buf[TP_STUN_HDR_LEN + 0x10000];
	static struct tp_stun_msg m2;
	struct tp_stun_wr w;
	const char *why = "";
	enum tp_perr e;
	long n;

	if (m->classic)
		tp_stun_wr_init_classic(&w, buf, sizeof(buf), m->method, m->cls, m->tid);
	else
		tp_stun_wr_init(&w, buf, sizeof(buf), m->method, m->cls, m->tid);
	for (unsigned i = 0; i < m->nattrs; i++) {
		const struct tp_stun_attr *a = &m->attrs[i];

		if (a->type == TP_ATTR_MESSAGE_INTEGRITY)
			tp_stun_put_mi(&w, key, 16);
		else if (a->type == TP_ATTR_MESSAGE_INTEGRITY_SHA256)
			tp_stun_put_mi256(&w, key, 32, a->len);
		else if (a->type == TP_ATTR_FINGERPRINT)
			tp_stun_put_fingerprint(&w);
		else
			tp_stun_put(&w, a->type, a->val, a->len);
	}
	n = tp_stun_wr_finish(&w);
	if (n < 0)
		FAIL("re-encoding failed: %ld", n);
	ASSERT((size_t)n <= m->len);

	e = tp_stun_decode(&m2, buf, (size_t)n, &why);
	if (e != TP_P_OK)
		FAIL("re-encoded message does not decode: %s (%s)", tp_perr_str(e), why);
	ASSERT(m2.method == m->method);
	ASSERT(m2.cls == m->cls);
	ASSERT(m2.classic == m->classic);
	ASSERT(memcmp(m2.tid, m->tid, m->classic ? 16 : TP_STUN_TID_LEN) == 0);
	ASSERT(m2.nattrs == m->nattrs);
	ASSERT(m2.has_fingerprint == m->has_fingerprint);
	ASSERT(m2.mi == m->mi && m2.mi256 == m->mi256);
	ASSERT(m2.nunknown == m->nunknown);
	ASSERT(memcmp(m2.unknown, m->unknown, m->nunknown * sizeof(m->unknown[0])) == 0);
	for (unsigned i = 0; i < m->nattrs; i++) {
		const struct tp_stun_attr *a = &m->attrs[i], *b = &m2.attrs[i];

		ASSERT(a->type == b->type);
		ASSERT(a->len == b->len);
		if (a->type != TP_ATTR_MESSAGE_INTEGRITY &&
		    a->type != TP_ATTR_MESSAGE_INTEGRITY_SHA256 &&
		    a->type != TP_ATTR_FINGERPRINT)
			ASSERT(memcmp(a->val, b->val, a->len) == 0);
	}
	if (m2.mi >= 0)
		ASSERT(tp_stun_verify_mi(&m2, key, 16) == TP_P_OK);
	if (m2.mi256 >= 0)
		ASSERT(tp_stun_verify_mi256(&m2, key, 32) == TP_P_OK);
	if (!m->classic)
		ASSERT(tp_stun_is_stun(buf, (size_t)n));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tp_stun_msg m;
	const char *why = NULL;
	enum tp_perr e;

	e = tp_stun_decode(&m, data, size, &why);
	ASSERT(tp_perr_str(e) != NULL);
	if (e != TP_P_OK) {
		ASSERT(why != NULL);
		return 0;
	}
	ASSERT(m.buf == data && m.len == size);
	ASSERT(m.nattrs <= TP_STUN_MAX_ATTRS && m.nunknown <= TP_STUN_MAX_UNKNOWN);
	ASSERT(tp_method_name(m.method) != NULL);
	if (!m.classic)
		ASSERT(tp_stun_is_stun(data, size));
	for (unsigned i = 0; i < m.nattrs; i++)
		check_getters(&m, &m.attrs[i]);
	check_find(&m);
	check_integrity(&m);
	check_roundtrip(&m);
	return 0;
}
