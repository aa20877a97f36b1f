/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_writer.c - the writer's bounds: for a message using every kind of put,
 * every buffer size smaller than needed gives -ENOBUFS and never a byte
 * stored past cap (a canary follows the buffer); errors are sticky; values
 * the RFCs forbid are refused with -EINVAL; classic mode refuses XOR-*.
 */
#include <errno.h>
#include <sys/socket.h>

#include "proto.h"
#include "tp_test.h"

#define CANARY 0xC5

static const uint8_t tid[12] = { 0xa, 0xb, 0xc };
static const uint8_t key[20] = "01234567890123456789";

/* Writes a message with every put into buf[0..cap); returns finish(). */
static long build(uint8_t *buf, size_t cap)
{
	static const uint16_t unknown[2] = { 0x0002, 0x0004 };
	static const uint16_t algs[2] = { TP_PWALG_MD5, TP_PWALG_SHA256 };
	static const struct tp_icmp icmp = { 3, 3, 7 };
	struct tp_addr a4, a6;
	struct tp_stun_wr w;

	tp_addr_parse(&a4, "192.0.2.1:3478", 0);
	tp_addr_parse(&a6, "[2001:db8::1]:3478", 0);
	tp_stun_wr_init(&w, buf, cap, TP_METHOD_ALLOCATE, TP_CLASS_SUCCESS, tid);
	tp_stun_put_addr(&w, TP_ATTR_XOR_RELAYED_ADDRESS, &a4);
	tp_stun_put_addr(&w, TP_ATTR_XOR_RELAYED_ADDRESS, &a6);
	tp_stun_put_addr(&w, TP_ATTR_MAPPED_ADDRESS, &a6);
	tp_stun_put_u32(&w, TP_ATTR_LIFETIME, 600);
	tp_stun_put_u64(&w, TP_ATTR_RESERVATION_TOKEN, 42);
	tp_stun_put_str(&w, TP_ATTR_SOFTWARE, "turnpike 0.1", 12);
	tp_stun_put_error(&w, 401, "Unauthenticated");
	tp_stun_put_addr_error(&w, TP_STUN_FAMILY_IPV6, 440, "no");
	tp_stun_put_unknown(&w, unknown, 2);
	tp_stun_put_pw_algs(&w, algs, 2);
	tp_stun_put_pw_alg(&w, TP_PWALG_MD5);
	tp_stun_put_channel(&w, 0x4001);
	tp_stun_put_transport(&w, TP_TRANSPORT_UDP);
	tp_stun_put_family(&w, TP_ATTR_REQUESTED_ADDRESS_FAMILY, TP_STUN_FAMILY_IPV4);
	tp_stun_put_even_port(&w, true);
	tp_stun_put_change(&w, TP_CHANGE_IP);
	tp_stun_put_response_port(&w, 9);
	tp_stun_put_icmp(&w, &icmp);
	tp_stun_put_padding(&w, 5);
	tp_stun_put_empty(&w, TP_ATTR_DONT_FRAGMENT);
	tp_stun_put(&w, TP_ATTR_DATA, "xyz", 3);
	tp_stun_put_mi(&w, key, sizeof(key));
	tp_stun_put_mi256(&w, key, sizeof(key), 16);
	tp_stun_put_fingerprint(&w);
	return tp_stun_wr_finish(&w);
}

static void test_overflow(void)
{
	static uint8_t ref[1024], buf[1024 + 64];
	long need = build(ref, sizeof(ref));
	struct tp_stun_msg m;

	CHECK(need > 200);
	CHECK_EQ(tp_stun_decode(&m, ref, (size_t)need, NULL), TP_P_OK);
	for (long cap = 0; cap <= need; cap++) {
		memset(buf, CANARY, sizeof(buf));
		long r = build(buf, (size_t)cap);
		size_t bad = 0;

		for (size_t i = (size_t)cap; i < sizeof(buf); i++)
			bad += buf[i] != CANARY;
		if (bad)
			fprintf(stderr, "cap %ld: %zu bytes written past cap\n", cap, bad);
		CHECK_EQ(bad, 0);
		if (cap < need) {
			CHECK_EQ(r, -ENOBUFS);
		} else {
			CHECK_EQ(r, need);
			CHECK_MEM(buf, ref, (size_t)need);
		}
	}
}

static void test_sticky(void)
{
	uint8_t buf[64];
	struct tp_stun_wr w;

	tp_stun_wr_init(&w, buf, 28, TP_METHOD_BINDING, TP_CLASS_REQUEST, tid);
	CHECK_EQ(tp_stun_put_u32(&w, TP_ATTR_PRIORITY, 1), 0);
	CHECK_EQ(tp_stun_put_u32(&w, TP_ATTR_PRIORITY, 2), -ENOBUFS);
	CHECK_EQ(w.len, 28);
	/* a later put that would fit is not written: the error sticks */
	CHECK_EQ(tp_stun_put_empty(&w, TP_ATTR_USE_CANDIDATE), -ENOBUFS);
	CHECK_EQ(tp_stun_put_fingerprint(&w), -ENOBUFS);
	CHECK_EQ(w.len, 28);
	CHECK_EQ(tp_stun_wr_finish(&w), -ENOBUFS);
	CHECK_EQ(buf[2] << 8 | buf[3], 8);

	CHECK_EQ(tp_stun_wr_init(&w, buf, 19, TP_METHOD_BINDING, TP_CLASS_REQUEST, tid), -ENOBUFS);
	CHECK_EQ(tp_stun_put_u32(&w, TP_ATTR_PRIORITY, 1), -ENOBUFS);
	CHECK_EQ(tp_stun_wr_finish(&w), -ENOBUFS);
	CHECK_EQ(tp_stun_wr_init(&w, buf, sizeof(buf), 0x1000, TP_CLASS_REQUEST, tid), -EINVAL);
	CHECK_EQ(tp_stun_wr_init(&w, buf, sizeof(buf), 1, 4, tid), -EINVAL);
}

static void expect_einval(const char *what, int r, struct tp_stun_wr *w)
{
	if (r != -EINVAL)
		fprintf(stderr, "%s: %d\n", what, r);
	CHECK_EQ(r, -EINVAL);
	CHECK_EQ(tp_stun_wr_finish(w), -EINVAL);
	CHECK_EQ(w->len, 20);
}

static void test_invalid(void)
{
	static char big[800];
	uint8_t buf[2048];
	struct tp_stun_wr w;
	struct tp_addr a;
	uint16_t none[1] = { 0 };

	memset(big, 'x', sizeof(big) - 1);
	memset(&a, 0, sizeof(a));
	a.family = AF_UNIX;
#define FRESH() tp_stun_wr_init(&w, buf, sizeof(buf), TP_METHOD_BINDING, TP_CLASS_REQUEST, tid)
	FRESH();
	expect_einval("error 299", tp_stun_put_error(&w, 299, NULL), &w);
	FRESH();
	expect_einval("error 700", tp_stun_put_error(&w, 700, "x"), &w);
	FRESH();
	expect_einval("reason 764", tp_stun_put_error(&w, 400, big), &w);
	FRESH();
	expect_einval("addr error family 3", tp_stun_put_addr_error(&w, 3, 440, NULL), &w);
	FRESH();
	expect_einval("channel 0x3fff", tp_stun_put_channel(&w, 0x3fff), &w);
	FRESH();
	expect_einval("channel 0x5000", tp_stun_put_channel(&w, 0x5000), &w);
	FRESH();
	expect_einval("family 3", tp_stun_put_family(&w, TP_ATTR_REQUESTED_ADDRESS_FAMILY, 3), &w);
	FRESH();
	expect_einval("family on LIFETIME", tp_stun_put_family(&w, TP_ATTR_LIFETIME, 1), &w);
	FRESH();
	expect_einval("username 514", tp_stun_put_str(&w, TP_ATTR_USERNAME, big, 514), &w);
	FRESH();
	expect_einval("realm 764", tp_stun_put_str(&w, TP_ATTR_REALM, big, 764), &w);
	FRESH();
	expect_einval("no algorithms", tp_stun_put_pw_algs(&w, none, 0), &w);
	FRESH();
	expect_einval("mi256 trunc 20+2", tp_stun_put_mi256(&w, key, 20, 22), &w);
	FRESH();
	CHECK_EQ(tp_stun_put_addr(&w, TP_ATTR_MAPPED_ADDRESS, &a), -EAFNOSUPPORT);
	CHECK_EQ(w.len, 20);
	FRESH();
	CHECK_EQ(tp_stun_put(&w, TP_ATTR_DATA, big, 0x10000), -EMSGSIZE);
	CHECK_EQ(w.len, 20);
#undef FRESH
}

static void test_classic(void)
{
	static const uint8_t tid16[16] = { 0x11, 0x22, 0x33, 0x44, 5, 6, 7, 8,
	                                   9, 10, 11, 12, 13, 14, 15, 16 };
	uint8_t req[20], buf[128];
	struct tp_stun_wr w;
	struct tp_stun_msg m, r;
	struct tp_addr a, b;
	long n;

	/* a libnice-style classic Binding request: no cookie */
	tp_stun_wr_init_classic(&w, req, sizeof(req), TP_METHOD_BINDING, TP_CLASS_REQUEST, tid16);
	CHECK(w.classic);
	CHECK_EQ(tp_stun_wr_finish(&w), 20);
	CHECK_MEM(req + 4, tid16, 16);
	CHECK(!tp_stun_is_stun(req, 20));
	CHECK_EQ(tp_stun_decode(&m, req, 20, NULL), TP_P_OK);
	CHECK(m.classic);
	CHECK(m.tid == req + 4);

	/* the reply is classic too and refuses XOR attributes */
	tp_addr_parse(&a, "198.51.100.1:5000", 0);
	CHECK_EQ(tp_stun_wr_reply(&w, buf, sizeof(buf), &m, TP_CLASS_SUCCESS), 0);
	CHECK(w.classic);
	CHECK_EQ(tp_stun_put_addr(&w, TP_ATTR_XOR_MAPPED_ADDRESS, &a), -EINVAL);
	CHECK_EQ(tp_stun_wr_finish(&w), -EINVAL);
	CHECK_EQ(tp_stun_wr_reply(&w, buf, sizeof(buf), &m, TP_CLASS_SUCCESS), 0);
	CHECK_EQ(tp_stun_put_addr(&w, TP_ATTR_MAPPED_ADDRESS, &a), 0);
	n = tp_stun_wr_finish(&w);
	CHECK_EQ(n, 32);
	CHECK_MEM(buf + 4, tid16, 16);
	CHECK_EQ(tp_stun_decode(&r, buf, (size_t)n, NULL), TP_P_OK);
	CHECK(r.classic);
	CHECK_EQ(r.cls, TP_CLASS_SUCCESS);
	CHECK_EQ(tp_attr_addr(&r, tp_stun_find(&r, TP_ATTR_MAPPED_ADDRESS), &b), TP_P_OK);
	CHECK(tp_addr_eq(&a, &b));

	/* a classic error: the reason phrase is space-padded to a multiple of 4
	 * (RFC 3489 §11.2.9), so the attribute length is one too */
	CHECK_EQ(tp_stun_wr_reply(&w, buf, sizeof(buf), &m, TP_CLASS_ERROR), 0);
	CHECK_EQ(tp_stun_put_error(&w, 400, "Bad Request"), 0);
	n = tp_stun_wr_finish(&w);
	CHECK_EQ(n, 20 + 4 + 4 + 12);
	CHECK_EQ(buf[22] << 8 | buf[23], 16);
	CHECK_MEM(buf + 28, "Bad Request ", 12);

	/* a modern request gets a modern reply with the same tid */
	tp_stun_wr_init(&w, req, sizeof(req), TP_METHOD_BINDING, TP_CLASS_REQUEST, tid);
	CHECK_EQ(tp_stun_decode(&m, req, 20, NULL), TP_P_OK);
	CHECK(!m.classic);
	CHECK_EQ(tp_stun_wr_reply(&w, buf, sizeof(buf), &m, TP_CLASS_ERROR), 0);
	CHECK(!w.classic);
	CHECK_EQ(tp_stun_put_error(&w, 400, "Bad Request"), 0);
	n = tp_stun_wr_finish(&w);
	CHECK(tp_stun_is_stun(buf, (size_t)n));
	CHECK_MEM(buf + 8, tid, 12);
	CHECK_EQ(buf[0] << 8 | buf[1], 0x0111);
}

int main(void)
{
	test_overflow();
	test_sticky();
	test_invalid();
	test_classic();
	TP_TEST_END();
}
