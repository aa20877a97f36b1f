/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_roundtrip.c - every attribute of proto.h written with the writer, read
 * back with the decoder and the typed getters, field by field; every address
 * attribute in IPv4 and IPv6; integrity and fingerprint over the lot.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>

#include "proto.h"
#include "tp_test.h"

static const uint8_t tid[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

static const struct tp_stun_attr *one(const struct tp_stun_msg *m, uint16_t type)
{
	const struct tp_stun_attr *a = tp_stun_find(m, type);

	if (!a) {
		fprintf(stderr, "attribute %s missing\n", tp_attr_name(type));
		CHECK(a != NULL);
	}
	return a;
}

static void addr_roundtrip(uint16_t type, const char *text, bool classic)
{
	uint8_t buf[128];
	uint8_t tid16[16] = { 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	struct tp_stun_wr w;
	struct tp_stun_msg m;
	struct tp_addr in, out;
	long n;

	CHECK_EQ(tp_addr_parse(&in, text, 0), 0);
	if (classic)
		tp_stun_wr_init_classic(&w, buf, sizeof(buf), TP_METHOD_BINDING, TP_CLASS_SUCCESS, tid16);
	else
		tp_stun_wr_init(&w, buf, sizeof(buf), TP_METHOD_BINDING, TP_CLASS_SUCCESS, tid);
	CHECK_EQ(tp_stun_put_addr(&w, type, &in), 0);
	n = tp_stun_wr_finish(&w);
	CHECK_EQ(n, 20 + 4 + (in.family == AF_INET ? 8 : 20));
	CHECK_EQ(tp_stun_decode(&m, buf, (size_t)n, NULL), TP_P_OK);
	CHECK_EQ(m.classic, classic);
	const struct tp_stun_attr *a = one(&m, type);
	if (!a)
		return;
	CHECK_EQ(tp_attr_addr(&m, a, &out), TP_P_OK);
	if (!tp_addr_eq(&in, &out))
		fprintf(stderr, "%s %s differs\n", tp_attr_name(type), text);
	CHECK(tp_addr_eq(&in, &out));
	CHECK_EQ(out.family, in.family);
	CHECK_EQ(out.port, in.port);
	/* XOR attributes must not carry the address in clear */
	if (type == TP_ATTR_XOR_MAPPED_ADDRESS || type == TP_ATTR_XOR_PEER_ADDRESS ||
	    type == TP_ATTR_XOR_RELAYED_ADDRESS)
		CHECK(memcmp(a->val + 4, in.ip, 4) != 0);
	else
		CHECK_MEM(a->val + 4, in.ip, in.family == AF_INET ? 4 : 16);
}

static void test_addresses(void)
{
	static const uint16_t types[] = {
		TP_ATTR_MAPPED_ADDRESS, TP_ATTR_XOR_MAPPED_ADDRESS, TP_ATTR_XOR_PEER_ADDRESS,
		TP_ATTR_XOR_RELAYED_ADDRESS, TP_ATTR_ALTERNATE_SERVER, TP_ATTR_RESPONSE_ORIGIN,
		TP_ATTR_OTHER_ADDRESS,
	};
	static const char *const addrs[] = {
		"192.0.2.1:32853", "203.0.113.200:1", "0.0.0.0:0", "255.255.255.255:65535",
		"[2001:db8:1234:5678:11:2233:4455:6677]:32853", "[::1]:3478",
		"[fe80::1:2:3:4]:65535", "[::ffff:192.0.2.9]:9",
	};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		for (size_t j = 0; j < sizeof(addrs) / sizeof(addrs[0]); j++)
			addr_roundtrip(types[i], addrs[j], false);
	/* classic (RFC 3489) replies carry MAPPED-ADDRESS & co. in clear */
	addr_roundtrip(TP_ATTR_MAPPED_ADDRESS, "198.51.100.7:4242", true);
	addr_roundtrip(TP_ATTR_MAPPED_ADDRESS, "[2001:db8::7]:4242", true);
	addr_roundtrip(TP_ATTR_OTHER_ADDRESS, "198.51.100.8:4243", true);
}

static void check_text(const struct tp_stun_msg *m, uint16_t type, const char *want, size_t n)
{
	const struct tp_stun_attr *a = one(m, type);
	const char *s;
	size_t len;

	if (!a)
		return;
	tp_attr_str(a, &s, &len);
	CHECK_EQ(len, n);
	CHECK(len == n && memcmp(s, want, n) == 0);
}

static void test_all_attributes(void)
{
	static const uint8_t data[5] = { 'h', 'e', 'l', 'l', 'o' };
	static const uint8_t userhash[32] = { 0xaa, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	                                      15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
	                                      28, 29, 30, 0xbb };
	static const uint8_t ticket[24] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8,
	                                    9, 10, 11, 12, 13, 14 };
	static const uint16_t unknown[3] = { 0x0002, 0x0031, 0x7fff };
	static const uint16_t algs[2] = { TP_PWALG_MD5, TP_PWALG_SHA256 };
	static const char user[] = "alice\xc3\xa9";  /* UTF-8 */
	static const uint8_t key[16] = "0123456789abcdef";
	struct tp_icmp icmp = { .type = 3, .code = 13, .data = 0xdeadbeef }, icmp2;
	uint8_t buf[2048];
	struct tp_stun_wr w;
	struct tp_stun_msg m;
	const struct tp_stun_attr *a;
	struct tp_error_code ec;
	struct tp_addr_error_code aec;
	uint16_t got[8];
	long n;

	tp_stun_wr_init(&w, buf, sizeof(buf), TP_METHOD_ALLOCATE, TP_CLASS_ERROR, tid);
	tp_stun_put_change(&w, TP_CHANGE_IP | TP_CHANGE_PORT);
	tp_stun_put_str(&w, TP_ATTR_USERNAME, user, strlen(user));
	tp_stun_put_error(&w, 438, "Stale Nonce");
	tp_stun_put_unknown(&w, unknown, 3);
	tp_stun_put_channel(&w, 0x4ffe);
	tp_stun_put_u32(&w, TP_ATTR_LIFETIME, 600);
	tp_stun_put(&w, TP_ATTR_DATA, data, sizeof(data));
	tp_stun_put_str(&w, TP_ATTR_REALM, "example.org", 11);
	tp_stun_put_str(&w, TP_ATTR_NONCE, "obMatJos2AAACnonce", 18);
	tp_stun_put_family(&w, TP_ATTR_REQUESTED_ADDRESS_FAMILY, TP_STUN_FAMILY_IPV6);
	tp_stun_put_even_port(&w, true);
	tp_stun_put_transport(&w, TP_TRANSPORT_TCP);
	tp_stun_put_empty(&w, TP_ATTR_DONT_FRAGMENT);
	tp_stun_put_pw_alg(&w, TP_PWALG_SHA256);
	tp_stun_put(&w, TP_ATTR_USERHASH, userhash, 32);
	tp_stun_put_u64(&w, TP_ATTR_RESERVATION_TOKEN, 0x0102030405060708ull);
	tp_stun_put_u32(&w, TP_ATTR_PRIORITY, 0x6e0001ff);
	tp_stun_put_empty(&w, TP_ATTR_USE_CANDIDATE);
	tp_stun_put_padding(&w, 12);
	tp_stun_put_response_port(&w, 4242);
	tp_stun_put_u32(&w, TP_ATTR_CONNECTION_ID, 0xcafef00d);
	tp_stun_put_family(&w, TP_ATTR_ADDITIONAL_ADDRESS_FAMILY, TP_STUN_FAMILY_IPV6);
	tp_stun_put_addr_error(&w, TP_STUN_FAMILY_IPV4, 440, "Address Family not Supported");
	tp_stun_put_pw_algs(&w, algs, 2);
	tp_stun_put_str(&w, TP_ATTR_ALTERNATE_DOMAIN, "turn.example.org", 16);
	tp_stun_put_icmp(&w, &icmp);
	tp_stun_put_str(&w, TP_ATTR_SOFTWARE, "turnpike", 8);
	tp_stun_put_u64(&w, TP_ATTR_ICE_CONTROLLED, 0x1122334455667788ull);
	tp_stun_put_u64(&w, TP_ATTR_ICE_CONTROLLING, 0x8877665544332211ull);
	tp_stun_put(&w, TP_ATTR_MOBILITY_TICKET, ticket, sizeof(ticket));
	tp_stun_put_mi(&w, key, sizeof(key));
	tp_stun_put_mi256(&w, key, sizeof(key), 24);
	tp_stun_put_fingerprint(&w);
	n = tp_stun_wr_finish(&w);
	CHECK(n > 0);
	if (n <= 0)
		return;

	CHECK_EQ(tp_stun_decode(&m, buf, (size_t)n, NULL), TP_P_OK);
	CHECK_EQ(m.method, TP_METHOD_ALLOCATE);
	CHECK_EQ(m.cls, TP_CLASS_ERROR);
	CHECK_MEM(m.tid, tid, 12);
	CHECK_EQ(m.nattrs, 33);
	CHECK_EQ(m.nunknown, 0);
	CHECK(m.has_fingerprint);

	if ((a = one(&m, TP_ATTR_CHANGE_REQUEST)))
		CHECK_EQ(tp_attr_change_flags(a), TP_CHANGE_IP | TP_CHANGE_PORT);
	check_text(&m, TP_ATTR_USERNAME, user, strlen(user));
	if ((a = one(&m, TP_ATTR_ERROR_CODE))) {
		tp_attr_error_code(a, &ec);
		CHECK_EQ(ec.code, 438);
		CHECK(ec.reason_len == 11 && memcmp(ec.reason, "Stale Nonce", 11) == 0);
	}
	if ((a = one(&m, TP_ATTR_UNKNOWN_ATTRIBUTES))) {
		CHECK_EQ(tp_attr_unknown_list(a, got, 8), 3);
		CHECK_MEM(got, unknown, sizeof(unknown));
		CHECK_EQ(tp_attr_unknown_list(a, got, 1), 3);
	}
	if ((a = one(&m, TP_ATTR_CHANNEL_NUMBER)))
		CHECK_EQ(tp_attr_channel(a), 0x4ffe);
	if ((a = one(&m, TP_ATTR_LIFETIME)))
		CHECK_EQ(tp_attr_u32(a), 600);
	if ((a = one(&m, TP_ATTR_DATA)))
		CHECK(a->len == 5 && memcmp(a->val, data, 5) == 0);
	check_text(&m, TP_ATTR_REALM, "example.org", 11);
	check_text(&m, TP_ATTR_NONCE, "obMatJos2AAACnonce", 18);
	if ((a = one(&m, TP_ATTR_REQUESTED_ADDRESS_FAMILY)))
		CHECK_EQ(tp_attr_family(a), TP_STUN_FAMILY_IPV6);
	if ((a = one(&m, TP_ATTR_EVEN_PORT)))
		CHECK(tp_attr_even_port_r(a));
	if ((a = one(&m, TP_ATTR_REQUESTED_TRANSPORT)))
		CHECK_EQ(tp_attr_transport(a), TP_TRANSPORT_TCP);
	if ((a = one(&m, TP_ATTR_DONT_FRAGMENT)))
		CHECK_EQ(a->len, 0);
	if ((a = one(&m, TP_ATTR_PASSWORD_ALGORITHM)))
		CHECK_EQ(tp_attr_pw_alg(a), TP_PWALG_SHA256);
	if ((a = one(&m, TP_ATTR_USERHASH)))
		CHECK(a->len == 32 && memcmp(a->val, userhash, 32) == 0);
	if ((a = one(&m, TP_ATTR_RESERVATION_TOKEN)))
		CHECK(tp_attr_u64(a) == 0x0102030405060708ull);
	if ((a = one(&m, TP_ATTR_PRIORITY)))
		CHECK_EQ(tp_attr_u32(a), 0x6e0001ff);
	if ((a = one(&m, TP_ATTR_USE_CANDIDATE)))
		CHECK_EQ(a->len, 0);
	if ((a = one(&m, TP_ATTR_PADDING))) {
		static const uint8_t zero[12];

		CHECK(a->len == 12 && memcmp(a->val, zero, 12) == 0);
	}
	if ((a = one(&m, TP_ATTR_RESPONSE_PORT)))
		CHECK_EQ(tp_attr_response_port(a), 4242);
	if ((a = one(&m, TP_ATTR_CONNECTION_ID)))
		CHECK_EQ(tp_attr_u32(a), 0xcafef00d);
	if ((a = one(&m, TP_ATTR_ADDITIONAL_ADDRESS_FAMILY)))
		CHECK_EQ(tp_attr_family(a), TP_STUN_FAMILY_IPV6);
	if ((a = one(&m, TP_ATTR_ADDRESS_ERROR_CODE))) {
		tp_attr_addr_error_code(a, &aec);
		CHECK_EQ(aec.family, TP_STUN_FAMILY_IPV4);
		CHECK_EQ(aec.code, 440);
		CHECK(aec.reason_len == 28 &&
		      memcmp(aec.reason, "Address Family not Supported", 28) == 0);
	}
	if ((a = one(&m, TP_ATTR_PASSWORD_ALGORITHMS))) {
		CHECK_EQ(tp_attr_pw_algs(a, got, 8), 2);
		CHECK(got[0] == TP_PWALG_MD5 && got[1] == TP_PWALG_SHA256);
	}
	check_text(&m, TP_ATTR_ALTERNATE_DOMAIN, "turn.example.org", 16);
	if ((a = one(&m, TP_ATTR_ICMP))) {
		tp_attr_icmp(a, &icmp2);
		CHECK_EQ(icmp2.type, 3);
		CHECK_EQ(icmp2.code, 13);
		CHECK_EQ(icmp2.data, 0xdeadbeef);
	}
	check_text(&m, TP_ATTR_SOFTWARE, "turnpike", 8);
	if ((a = one(&m, TP_ATTR_ICE_CONTROLLED)))
		CHECK(tp_attr_u64(a) == 0x1122334455667788ull);
	if ((a = one(&m, TP_ATTR_ICE_CONTROLLING)))
		CHECK(tp_attr_u64(a) == 0x8877665544332211ull);
	if ((a = one(&m, TP_ATTR_MOBILITY_TICKET)))
		CHECK(a->len == sizeof(ticket) && memcmp(a->val, ticket, sizeof(ticket)) == 0);
	CHECK_EQ(m.mi, 30);
	CHECK_EQ(m.mi256, 31);
	CHECK_EQ(m.attrs[32].type, TP_ATTR_FINGERPRINT);
	CHECK_EQ(tp_stun_verify_mi(&m, key, sizeof(key)), TP_P_OK);
	CHECK_EQ(tp_stun_verify_mi256(&m, key, sizeof(key)), TP_P_OK);
	CHECK_EQ(tp_stun_verify_mi(&m, key, 15), TP_P_INTEGRITY_BAD);
	CHECK_EQ(tp_stun_verify_mi256(&m, key, 15), TP_P_INTEGRITY_BAD);
	CHECK_EQ(m.attrs[31].len, 24);

	/* every attribute has a name */
	for (unsigned i = 0; i < m.nattrs; i++)
		CHECK(strcmp(tp_attr_name(m.attrs[i].type), "?") != 0);
}

/* The remaining value variants: EVEN-PORT without R, a zero-length
 * MOBILITY-TICKET, ERROR-CODE without a reason, each MI-SHA256 truncation,
 * an empty key, a single CHANGE-REQUEST flag, IPv4 ADDRESS-ERROR-CODE family 2. */
static void test_variants(void)
{
	static const uint8_t key[32] = "0123456789abcdef0123456789abcdef";
	uint8_t buf[512];
	struct tp_stun_wr w;
	struct tp_stun_msg m;
	const struct tp_stun_attr *a;
	struct tp_error_code ec;
	long n;

	tp_stun_wr_init(&w, buf, sizeof(buf), TP_METHOD_REFRESH, TP_CLASS_REQUEST, tid);
	tp_stun_put_even_port(&w, false);
	tp_stun_put_empty(&w, TP_ATTR_MOBILITY_TICKET);
	tp_stun_put_error(&w, 699, NULL);
	tp_stun_put_change(&w, TP_CHANGE_PORT);
	tp_stun_put_transport(&w, TP_TRANSPORT_UDP);
	tp_stun_put_family(&w, TP_ATTR_REQUESTED_ADDRESS_FAMILY, TP_STUN_FAMILY_IPV4);
	tp_stun_put_channel(&w, 0x4000);
	tp_stun_put_mi(&w, NULL, 0);
	n = tp_stun_wr_finish(&w);
	CHECK_EQ(tp_stun_decode(&m, buf, (size_t)n, NULL), TP_P_OK);
	if ((a = one(&m, TP_ATTR_EVEN_PORT)))
		CHECK(!tp_attr_even_port_r(a));
	if ((a = one(&m, TP_ATTR_MOBILITY_TICKET)))
		CHECK_EQ(a->len, 0);
	if ((a = one(&m, TP_ATTR_ERROR_CODE))) {
		tp_attr_error_code(a, &ec);
		CHECK_EQ(ec.code, 699);
		CHECK_EQ(ec.reason_len, 0);
	}
	if ((a = one(&m, TP_ATTR_CHANGE_REQUEST)))
		CHECK_EQ(tp_attr_change_flags(a), TP_CHANGE_PORT);
	if ((a = one(&m, TP_ATTR_REQUESTED_TRANSPORT)))
		CHECK_EQ(tp_attr_transport(a), TP_TRANSPORT_UDP);
	if ((a = one(&m, TP_ATTR_REQUESTED_ADDRESS_FAMILY)))
		CHECK_EQ(tp_attr_family(a), TP_STUN_FAMILY_IPV4);
	if ((a = one(&m, TP_ATTR_CHANNEL_NUMBER)))
		CHECK_EQ(tp_attr_channel(a), 0x4000);
	CHECK_EQ(tp_stun_verify_mi(&m, NULL, 0), TP_P_OK);
	CHECK_EQ(tp_stun_verify_mi(&m, (const uint8_t *)"", 0), TP_P_OK);

	for (size_t t = 16; t <= 32; t += 4) {
		tp_stun_wr_init(&w, buf, sizeof(buf), TP_METHOD_BINDING, TP_CLASS_REQUEST, tid);
		tp_stun_put_str(&w, TP_ATTR_USERNAME, "bob", 3);
		tp_stun_put_mi256(&w, key, sizeof(key), t);
		tp_stun_put_fingerprint(&w);
		n = tp_stun_wr_finish(&w);
		CHECK_EQ(n, 20 + 8 + 4 + (long)t + 8);
		CHECK_EQ(tp_stun_decode(&m, buf, (size_t)n, NULL), TP_P_OK);
		CHECK_EQ(m.attrs[m.mi256].len, t);
		CHECK_EQ(tp_stun_verify_mi256(&m, key, sizeof(key)), TP_P_OK);
		buf[21] ^= 0x40; /* a flipped bit: FINGERPRINT first */
		CHECK_EQ(tp_stun_decode(&m, buf, (size_t)n, NULL), TP_P_FINGERPRINT_BAD);
	}
	for (size_t t = 0; t <= 40; t++) {
		if (t >= 16 && t <= 32 && t % 4 == 0)
			continue;
		tp_stun_wr_init(&w, buf, sizeof(buf), TP_METHOD_BINDING, TP_CLASS_REQUEST, tid);
		CHECK_EQ(tp_stun_put_mi256(&w, key, sizeof(key), t), -EINVAL);
	}
}

/* Each message type round-trips through the type encoding. */
static void test_types(void)
{
	static const uint16_t methods[] = {
		TP_METHOD_BINDING, TP_METHOD_ALLOCATE, TP_METHOD_REFRESH, TP_METHOD_SEND,
		TP_METHOD_DATA, TP_METHOD_CREATE_PERMISSION, TP_METHOD_CHANNEL_BIND,
		TP_METHOD_CONNECT, TP_METHOD_CONNECTION_BIND, TP_METHOD_CONNECTION_ATTEMPT,
	};
	uint8_t buf[64];
	struct tp_stun_wr w;
	struct tp_stun_msg m;

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		uint8_t cls = (methods[i] == TP_METHOD_SEND || methods[i] == TP_METHOD_DATA) ?
		              TP_CLASS_INDICATION : TP_CLASS_REQUEST;

		CHECK(strcmp(tp_method_name(methods[i]), "?") != 0);
		tp_stun_wr_init(&w, buf, sizeof(buf), methods[i], cls, tid);
		CHECK_EQ(tp_stun_wr_finish(&w), 20);
		CHECK(tp_stun_is_stun(buf, 20));
		CHECK_EQ(tp_stun_decode(&m, buf, 20, NULL), TP_P_OK);
		CHECK_EQ(m.method, methods[i]);
		CHECK_EQ(m.cls, cls);
	}
	CHECK_EQ(tp_stun_type(TP_METHOD_ALLOCATE, TP_CLASS_ERROR), 0x0113);
	CHECK_EQ(tp_stun_type(0xFFF, TP_CLASS_ERROR), 0x3FFF);
	CHECK_EQ(tp_stun_type_method(0x3FFF), 0xFFF);
	CHECK_EQ(tp_stun_type_class(0x0113), TP_CLASS_ERROR);
	CHECK_EQ(tp_stun_type(TP_METHOD_SEND, TP_CLASS_INDICATION), 0x0016);
	/* an unknown method decodes (the server answers it with 400) */
	tp_stun_wr_init(&w, buf, sizeof(buf), 0x123, TP_CLASS_REQUEST, tid);
	CHECK_EQ(tp_stun_decode(&m, buf, (size_t)tp_stun_wr_finish(&w), NULL), TP_P_OK);
	CHECK_EQ(m.method, 0x123);
	CHECK(strcmp(tp_method_name(0x123), "?") == 0);
}

int main(void)
{
	test_addresses();
	test_all_attributes();
	test_variants();
	test_types();
	TP_TEST_END();
}
