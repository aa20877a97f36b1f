/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_decode.c - the decoder's rules on well-formed input: attributes after
 * MESSAGE-INTEGRITY / -SHA256 ignored (RFC 8489 §14.5, §14.6), duplicates kept
 * in order with the first one read, unknown comprehension-required types
 * collected for a 420, classic (RFC 3489) messages, padding bytes ignored,
 * tp_stun_is_stun; and struct tp_addr helpers.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "proto.h"
#include "tp_test.h"

static const uint8_t tid[12] = { 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 1 };
static const uint8_t key[8] = "sesame!!";

/* Appends a raw attribute (with zero padding) and updates the length. */
static size_t raw(uint8_t *b, size_t n, uint16_t type, const void *v, size_t len)
{
	b[n] = (uint8_t)(type >> 8);
	b[n + 1] = (uint8_t)type;
	b[n + 2] = (uint8_t)(len >> 8);
	b[n + 3] = (uint8_t)len;
	memcpy(b + n + 4, v, len);
	memset(b + n + 4 + len, 0, (4 - len % 4) % 4);
	n += 4 + ((len + 3) & ~(size_t)3);
	b[2] = (uint8_t)((n - 20) >> 8);
	b[3] = (uint8_t)(n - 20);
	return n;
}

static void test_after_mi(void)
{
	uint8_t b[256];
	struct tp_stun_wr w;
	struct tp_stun_msg m;
	size_t n;

	tp_stun_wr_init(&w, b, sizeof(b), TP_METHOD_ALLOCATE, TP_CLASS_REQUEST, tid);
	tp_stun_put_u32(&w, TP_ATTR_LIFETIME, 600);
	tp_stun_put_mi(&w, key, sizeof(key));
	n = (size_t)tp_stun_wr_finish(&w);
	/* attributes after MI are ignored, even malformed ones or a second MI */
	n = raw(b, n, TP_ATTR_DATA, "abcd", 4);
	n = raw(b, n, TP_ATTR_LIFETIME, "12345678", 8);   /* bad length, ignored */
	n = raw(b, n, 0x0055, "u", 1);                     /* unknown, ignored */
	n = raw(b, n, TP_ATTR_MESSAGE_INTEGRITY, "01234567890123456789", 20);
	CHECK_EQ(tp_stun_decode(&m, b, n, NULL), TP_P_OK);
	CHECK_EQ(m.nattrs, 2);
	CHECK_EQ(m.mi, 1);
	CHECK_EQ(m.nunknown, 0);
	CHECK(tp_stun_find(&m, TP_ATTR_DATA) == NULL);
	CHECK_EQ(tp_stun_verify_mi(&m, key, sizeof(key)), TP_P_OK);

	/* MI256 and FINGERPRINT after MI are kept; FINGERPRINT covers all */
	tp_stun_wr_init(&w, b, sizeof(b), TP_METHOD_ALLOCATE, TP_CLASS_REQUEST, tid);
	tp_stun_put_u32(&w, TP_ATTR_LIFETIME, 600);
	tp_stun_put_mi(&w, key, sizeof(key));
	tp_stun_put_mi256(&w, key, sizeof(key), 32);
	tp_stun_put_fingerprint(&w);
	n = (size_t)tp_stun_wr_finish(&w);
	CHECK_EQ(tp_stun_decode(&m, b, n, NULL), TP_P_OK);
	CHECK_EQ(m.nattrs, 4);
	CHECK_EQ(m.mi, 1);
	CHECK_EQ(m.mi256, 2);
	CHECK(m.has_fingerprint);
	CHECK_EQ(tp_stun_verify_mi(&m, key, sizeof(key)), TP_P_OK);
	CHECK_EQ(tp_stun_verify_mi256(&m, key, sizeof(key)), TP_P_OK);

	/* after MI256 only FINGERPRINT counts; a second MI256 is ignored */
	tp_stun_wr_init(&w, b, sizeof(b), TP_METHOD_ALLOCATE, TP_CLASS_REQUEST, tid);
	tp_stun_put_u32(&w, TP_ATTR_LIFETIME, 600);
	tp_stun_put_mi256(&w, key, sizeof(key), 16);
	n = (size_t)tp_stun_wr_finish(&w);
	n = raw(b, n, TP_ATTR_SOFTWARE, "late", 4);
	n = raw(b, n, TP_ATTR_MESSAGE_INTEGRITY_SHA256, "0123456789abcdef", 16);
	CHECK_EQ(tp_stun_decode(&m, b, n, NULL), TP_P_OK);
	CHECK_EQ(m.nattrs, 2);
	CHECK_EQ(m.mi256, 1);
	CHECK_EQ(m.mi, -1);
	CHECK_EQ(tp_stun_verify_mi256(&m, key, sizeof(key)), TP_P_OK);
}

static void test_duplicates_unknown(void)
{
	uint8_t b[512];
	struct tp_stun_msg m;
	struct tp_stun_wr w;
	struct tp_addr p1, p2, p3, out;
	const struct tp_stun_attr *a;
	size_t n;

	tp_addr_parse(&p1, "192.0.2.10:1000", 0);
	tp_addr_parse(&p2, "[2001:db8::10]:2000", 0);
	tp_addr_parse(&p3, "192.0.2.11:3000", 0);
	tp_stun_wr_init(&w, b, sizeof(b), TP_METHOD_CREATE_PERMISSION, TP_CLASS_REQUEST, tid);
	tp_stun_put_addr(&w, TP_ATTR_XOR_PEER_ADDRESS, &p1);
	tp_stun_put_str(&w, TP_ATTR_USERNAME, "first", 5);
	tp_stun_put_addr(&w, TP_ATTR_XOR_PEER_ADDRESS, &p2);
	tp_stun_put_str(&w, TP_ATTR_USERNAME, "second", 6);
	tp_stun_put_addr(&w, TP_ATTR_XOR_PEER_ADDRESS, &p3);
	n = (size_t)tp_stun_wr_finish(&w);
	for (uint16_t t = 0x0040; t < 0x0040 + TP_STUN_MAX_UNKNOWN + 2; t++)
		n = raw(b, n, t, "zz", 2);        /* comprehension-required, unknown */
	n = raw(b, n, 0x0002, "", 0);         /* RESPONSE-ADDRESS (RFC 3489): unknown */
	n = raw(b, n, 0xC001, "opt", 3);      /* comprehension-optional: not collected */
	CHECK_EQ(tp_stun_decode(&m, b, n, NULL), TP_P_OK);
	CHECK_EQ(m.nunknown, TP_STUN_MAX_UNKNOWN);
	for (unsigned i = 0; i < m.nunknown; i++)
		CHECK_EQ(m.unknown[i], 0x0040 + i);
	CHECK_EQ(m.nattrs, 5 + TP_STUN_MAX_UNKNOWN + 2 + 2);

	a = tp_stun_find(&m, TP_ATTR_USERNAME);
	CHECK(a && a->len == 5 && memcmp(a->val, "first", 5) == 0);
	a = tp_stun_find_next(&m, TP_ATTR_USERNAME, a);
	CHECK(a && a->len == 6);
	CHECK(tp_stun_find_next(&m, TP_ATTR_USERNAME, a) == NULL);

	a = tp_stun_find_next(&m, TP_ATTR_XOR_PEER_ADDRESS, NULL);
	CHECK(a == tp_stun_find(&m, TP_ATTR_XOR_PEER_ADDRESS));
	CHECK(a && tp_attr_addr(&m, a, &out) == TP_P_OK && tp_addr_eq(&out, &p1));
	a = tp_stun_find_next(&m, TP_ATTR_XOR_PEER_ADDRESS, a);
	CHECK(a && tp_attr_addr(&m, a, &out) == TP_P_OK && tp_addr_eq(&out, &p2));
	a = tp_stun_find_next(&m, TP_ATTR_XOR_PEER_ADDRESS, a);
	CHECK(a && tp_attr_addr(&m, a, &out) == TP_P_OK && tp_addr_eq(&out, &p3));
	CHECK(tp_stun_find_next(&m, TP_ATTR_XOR_PEER_ADDRESS, a) == NULL);
	CHECK(tp_stun_find(&m, TP_ATTR_LIFETIME) == NULL);
	CHECK_EQ(m.attrs[1].off, 20 + 12);
	CHECK(m.attrs[1].val == b + 20 + 12 + 4);
}

static void test_padding_ignored(void)
{
	uint8_t b[64];
	struct tp_stun_wr w;
	struct tp_stun_msg m;
	size_t n;

	tp_stun_wr_init(&w, b, sizeof(b), TP_METHOD_BINDING, TP_CLASS_REQUEST, tid);
	tp_stun_put_str(&w, TP_ATTR_USERNAME, "a", 1);
	n = (size_t)tp_stun_wr_finish(&w);
	b[25] = 0xff;  /* padding bytes may hold anything */
	b[26] = 0x20;
	b[27] = 0x00;
	CHECK_EQ(tp_stun_decode(&m, b, n, NULL), TP_P_OK);
	CHECK_EQ(m.attrs[0].len, 1);
}

static void test_classic(void)
{
	/* a classic Binding request with an RFC 3489 CHANGE-REQUEST */
	uint8_t b[64] = { 0x00, 0x01, 0x00, 0x08, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5,
	                  6, 7, 8, 9, 10, 11, 12, 0x00, 0x03, 0x00, 0x04, 0, 0, 0, 6 };
	struct tp_stun_msg m;

	CHECK_EQ(tp_stun_decode(&m, b, 28, NULL), TP_P_OK);
	CHECK(m.classic);
	CHECK(m.tid == b + 4);
	CHECK_EQ(m.method, TP_METHOD_BINDING);
	CHECK_EQ(tp_attr_change_flags(tp_stun_find(&m, TP_ATTR_CHANGE_REQUEST)), 6);
	CHECK(!tp_stun_is_stun(b, 28));
	b[4] = 0x21; b[5] = 0x12; b[6] = 0xa4; b[7] = 0x42;
	CHECK(tp_stun_is_stun(b, 28));
	CHECK(!tp_stun_is_stun(b, 27));
	CHECK(!tp_stun_is_stun(b, 32));
	CHECK(!tp_stun_is_stun(b, 19));
	b[0] = 0x40;
	CHECK(!tp_stun_is_stun(b, 28));
}

static void test_addr(void)
{
	struct tp_addr a, b;
	struct sockaddr_storage ss;
	char s[64];

	CHECK_EQ(tp_addr_parse(&a, "192.0.2.1", 3478), 0);
	CHECK_EQ(a.family, AF_INET);
	CHECK_EQ(a.port, 3478);
	CHECK_EQ(tp_addr_fmt(&a, s, sizeof(s)), 14);
	CHECK(strcmp(s, "192.0.2.1:3478") == 0);
	CHECK_EQ(tp_addr_parse(&a, "192.0.2.1:5", 3478), 0);
	CHECK_EQ(a.port, 5);
	CHECK_EQ(tp_addr_parse(&a, "::1", 7), 0);
	CHECK_EQ(a.family, AF_INET6);
	CHECK_EQ(a.port, 7);
	CHECK_EQ(a.ip[15], 1);
	CHECK_EQ(tp_addr_parse(&a, "[2001:db8::1]:65535", 0), 0);
	CHECK_EQ(a.port, 65535);
	tp_addr_fmt(&a, s, sizeof(s));
	CHECK(strcmp(s, "[2001:db8::1]:65535") == 0);
	CHECK(tp_addr_parse(&a, "[2001:db8::1]:65536", 0) < 0);
	CHECK(tp_addr_parse(&a, "[2001:db8::1", 0) < 0);
	CHECK(tp_addr_parse(&a, "1.2.3.4:", 0) < 0);
	CHECK(tp_addr_parse(&a, "1.2.3.4:x", 0) < 0);
	CHECK(tp_addr_parse(&a, "1.2.3", 0) < 0);
	CHECK(tp_addr_parse(&a, "", 0) < 0);
	CHECK(tp_addr_parse(&a, "example.org", 0) < 0);

	tp_addr_parse(&a, "[fe80::2]:9", 0);
	CHECK_EQ(tp_addr_to_sa(&a, &ss), sizeof(struct sockaddr_in6));
	CHECK_EQ(tp_addr_from_sa(&b, (struct sockaddr *)&ss), 0);
	CHECK(tp_addr_eq(&a, &b));
	tp_addr_parse(&a, "10.1.2.3:4", 0);
	CHECK_EQ(tp_addr_to_sa(&a, &ss), sizeof(struct sockaddr_in));
	CHECK_EQ(((struct sockaddr_in *)&ss)->sin_port, htons(4));
	CHECK_EQ(tp_addr_from_sa(&b, (struct sockaddr *)&ss), 0);
	CHECK(tp_addr_eq(&a, &b));
	b.port = 5;
	CHECK(!tp_addr_eq(&a, &b));
	CHECK(tp_addr_ip_eq(&a, &b));
	b.ip[3] = 4;
	CHECK(!tp_addr_ip_eq(&a, &b));
	ss.ss_family = AF_UNIX;
	CHECK(tp_addr_from_sa(&b, (struct sockaddr *)&ss) < 0);
}

int main(void)
{
	test_after_mi();
	test_duplicates_unknown();
	test_padding_ignored();
	test_classic();
	test_addr();
	TP_TEST_END();
}
