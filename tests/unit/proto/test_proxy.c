/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_proxy.c - the PROXY protocol parser (proto/proxy.c): the examples of
 * HAProxy's proxy-protocol.txt (v1 lines, the longest of each kind; v2 blocks
 * built as section 2.2 lays them out), every prefix of a valid header giving
 * NEED_MORE, and one case per reason a header is refused.
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "proto.h"
#include "tp_test.h"

static enum tp_perr parse_s(struct tp_proxy_hdr *h, const char *s, const char **why)
{
	return tp_proxy_parse(h, (const uint8_t *)s, strlen(s), why);
}

static int ip4_is(const struct tp_addr *a, const char *s, uint16_t port)
{
	uint8_t ip[4];

	return inet_pton(AF_INET, s, ip) == 1 && a->family == AF_INET && a->port == port &&
	       memcmp(a->ip, ip, 4) == 0;
}

static int ip6_is(const struct tp_addr *a, const char *s, uint16_t port)
{
	uint8_t ip[16];

	return inet_pton(AF_INET6, s, ip) == 1 && a->family == AF_INET6 && a->port == port &&
	       memcmp(a->ip, ip, 16) == 0;
}

/* Every strict prefix of a valid header asks for more. */
static void check_prefixes(const uint8_t *b, size_t n)
{
	struct tp_proxy_hdr h;

	for (size_t k = 0; k < n; k++)
		CHECK_EQ(tp_proxy_parse(&h, b, k, NULL), TP_P_NEED_MORE);
}

static void test_v1_spec(void)
{
	static const char tcp4[] = "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n";
	static const char max4[] = "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n";
	static const char max6[] = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	                           "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
	static const char unk[] = "PROXY UNKNOWN\r\n";
	static const char unkmax[] = "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	                             "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
	struct tp_proxy_hdr h;
	const char *why = "x";
	char buf[256];

	CHECK_EQ(parse_s(&h, tcp4, &why), TP_P_OK);
	CHECK(why == NULL);
	CHECK_EQ(h.version, 1);
	CHECK_EQ(h.command, TP_PROXY_PROXY);
	CHECK_EQ(h.family, AF_INET);
	CHECK_EQ(h.len, strlen(tcp4));
	CHECK(ip4_is(&h.src, "192.168.0.1", 56324));
	CHECK(ip4_is(&h.dst, "192.168.0.11", 443));
	check_prefixes((const uint8_t *)tcp4, strlen(tcp4));

	/* the stream follows: only the line is the header */
	snprintf(buf, sizeof(buf), "%s%s", tcp4, "\x16\x03\x01 TLS...");
	CHECK_EQ(parse_s(&h, buf, NULL), TP_P_OK);
	CHECK_EQ(h.len, strlen(tcp4));

	CHECK_EQ(strlen(max4), 56);
	CHECK_EQ(parse_s(&h, max4, NULL), TP_P_OK);
	CHECK(ip4_is(&h.src, "255.255.255.255", 65535));

	CHECK_EQ(strlen(max6), 104);
	CHECK_EQ(parse_s(&h, max6, NULL), TP_P_OK);
	CHECK_EQ(h.family, AF_INET6);
	CHECK(ip6_is(&h.src, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535));
	check_prefixes((const uint8_t *)max6, strlen(max6));

	CHECK_EQ(parse_s(&h, "PROXY TCP6 2001:db8::1 ::ffff:192.0.2.1 0 3478\r\n", NULL), TP_P_OK);
	CHECK(ip6_is(&h.src, "2001:db8::1", 0));
	CHECK(ip6_is(&h.dst, "::ffff:192.0.2.1", 3478));

	CHECK_EQ(parse_s(&h, unk, NULL), TP_P_OK);
	CHECK_EQ(h.family, 0);
	CHECK_EQ(h.len, 15);
	CHECK_EQ(strlen(unkmax), 107);
	CHECK_EQ(parse_s(&h, unkmax, NULL), TP_P_OK);
	CHECK_EQ(h.family, 0);
	CHECK_EQ(h.len, 107);
	check_prefixes((const uint8_t *)unkmax, strlen(unkmax));
}

static void test_v1_bad(void)
{
	static const struct {
		const char *s;
		enum tp_perr e;
	} bad[] = {
		{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", TP_P_BAD_VALUE },           /* LF only */
		{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX\n", TP_P_BAD_VALUE },        /* stray CR */
		{ "PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", TP_P_BAD_VALUE },        /* two spaces */
		{ "PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", TP_P_BAD_VALUE },
		{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", TP_P_BAD_VALUE },        /* trailing space */
		{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", TP_P_BAD_VALUE },       /* five fields */
		{ "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", TP_P_BAD_VALUE },           /* three */
		{ "PROXY TCP4\r\n", TP_P_BAD_VALUE },
		{ "PROXY \r\n", TP_P_BAD_VALUE },
		{ "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", TP_P_BAD_VALUE },        /* leading zero */
		{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n", TP_P_BAD_VALUE },
		{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 +2\r\n", TP_P_BAD_VALUE },
		{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 123456\r\n", TP_P_BAD_VALUE },
		{ "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n", TP_P_BAD_VALUE },
		{ "PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n", TP_P_BAD_VALUE },        /* octal-looking */
		{ "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", TP_P_BAD_VALUE },
		{ "PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n", TP_P_BAD_VALUE },
		{ "PROXY TCP4 ::1 5.6.7.8 1 2\r\n", TP_P_BAD_VALUE },             /* wrong family */
		{ "PROXY TCP6 1.2.3.4 ::1 1 2\r\n", TP_P_BAD_VALUE },
		{ "PROXY TCP6 ::1 ::1%eth0 1 2\r\n", TP_P_BAD_VALUE },
		{ "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", TP_P_BAD_FAMILY },
		{ "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", TP_P_BAD_FAMILY },
		{ "PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", TP_P_BAD_FAMILY },
		{ "PROXY UNKNOWNX\r\n", TP_P_BAD_FAMILY },
		{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\x01\r\n", TP_P_BAD_VALUE },     /* control byte */
		{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 \xc3\xa9\r\n", TP_P_BAD_VALUE },  /* non-ASCII */
	};
	struct tp_proxy_hdr h;
	const char *why;
	char longl[200];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		enum tp_perr e = parse_s(&h, bad[i].s, &why);

		if (e != bad[i].e)
			fprintf(stderr, "case %zu: %s -> %s\n", i, bad[i].s, tp_perr_str(e));
		CHECK_EQ(e, bad[i].e);
		CHECK(why != NULL && strncmp(why, "v1: ", 4) == 0);
	}
	/* 107 bytes without a CRLF: too long; 106 of a valid prefix: wait */
	memset(longl, 'A', sizeof(longl));
	memcpy(longl, "PROXY UNKNOWN ", 14);
	CHECK_EQ(tp_proxy_parse(&h, (uint8_t *)longl, 106, NULL), TP_P_NEED_MORE);
	CHECK_EQ(tp_proxy_parse(&h, (uint8_t *)longl, 107, &why), TP_P_FRAME_TOO_LONG);
	CHECK_EQ(tp_proxy_parse(&h, (uint8_t *)longl, sizeof(longl), &why), TP_P_FRAME_TOO_LONG);
	/* a CRLF at bytes 107-108 is one byte too far */
	memcpy(longl + 106, "\r\n", 2);
	CHECK_EQ(tp_proxy_parse(&h, (uint8_t *)longl, 108, &why), TP_P_FRAME_TOO_LONG);
	memcpy(longl + 105, "\r\n", 2);
	CHECK_EQ(tp_proxy_parse(&h, (uint8_t *)longl, 108, &why), TP_P_OK);
	CHECK_EQ(h.len, 107);
	/* a refused byte is refused before the line is complete */
	CHECK_EQ(parse_s(&h, "PROXY TCP4 1.2\x01", NULL), TP_P_BAD_VALUE);
	CHECK_EQ(parse_s(&h, "PROXY TCP4 1.2\rx", NULL), TP_P_BAD_VALUE);
}

static void test_not_proxy(void)
{
	static const uint8_t stun[] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42 };
	static const uint8_t tls[] = { 0x16, 0x03, 0x01, 0x00, 0xf4 };
	static const uint8_t v2bad[] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 'Q', 'U', 'I', 'X' };
	struct tp_proxy_hdr h;
	const char *why = NULL;

	CHECK_EQ(tp_proxy_parse(&h, stun, sizeof(stun), &why), TP_P_NOT_PROXY);
	CHECK(why != NULL);
	CHECK_EQ(tp_proxy_parse(&h, stun, 1, NULL), TP_P_NOT_PROXY);
	CHECK_EQ(tp_proxy_parse(&h, tls, sizeof(tls), NULL), TP_P_NOT_PROXY);
	CHECK_EQ(tp_proxy_parse(&h, v2bad, sizeof(v2bad), NULL), TP_P_NOT_PROXY);
	CHECK_EQ(tp_proxy_parse(&h, v2bad, 10, NULL), TP_P_NEED_MORE);
	CHECK_EQ(parse_s(&h, "PROXZ", NULL), TP_P_NOT_PROXY);
	CHECK_EQ(parse_s(&h, "PROX", NULL), TP_P_NEED_MORE);
	CHECK_EQ(parse_s(&h, "GET / HTTP/1.1\r\n", NULL), TP_P_NOT_PROXY);
	CHECK_EQ(tp_proxy_parse(&h, NULL, 0, NULL), TP_P_NEED_MORE);
	CHECK(strcmp(tp_perr_str(TP_P_NOT_PROXY), "?") != 0);
}

/* A v2 block as section 2.2 lays it out: signature, ver/cmd, fam, length. */
static size_t v2(uint8_t *b, uint8_t vc, uint8_t fam, const uint8_t *body, size_t len)
{
	static const uint8_t sig[12] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
		                         0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A };

	memcpy(b, sig, 12);
	b[12] = vc;
	b[13] = fam;
	b[14] = (uint8_t)(len >> 8);
	b[15] = (uint8_t)len;
	if (len)
		memcpy(b + 16, body, len);
	return 16 + len;
}

static void test_v2(void)
{
	/* 192.0.2.7:50000 -> 198.51.100.1:443 */
	static const uint8_t a4[12] = { 192, 0, 2, 7, 198, 51, 100, 1, 0xC3, 0x50, 0x01, 0xBB };
	uint8_t a6[36] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1, [16] = 0x20, 0x01, 0x0d, 0xb8,
		           [31] = 2, [32] = 0x12, 0x34, 0x0D, 0x96 };
	uint8_t body[600], b[700];
	struct tp_proxy_hdr h;
	const char *why;
	size_t n;

	n = v2(b, 0x21, 0x11, a4, sizeof(a4));
	CHECK_EQ(n, 28);
	b[n] = 0x16; /* TLS after it */
	CHECK_EQ(tp_proxy_parse(&h, b, n + 1, NULL), TP_P_OK);
	CHECK_EQ(h.version, 2);
	CHECK_EQ(h.command, TP_PROXY_PROXY);
	CHECK_EQ(h.family, AF_INET);
	CHECK_EQ(h.len, 28);
	CHECK(ip4_is(&h.src, "192.0.2.7", 50000));
	CHECK(ip4_is(&h.dst, "198.51.100.1", 443));
	check_prefixes(b, n);

	n = v2(b, 0x21, 0x21, a6, sizeof(a6));
	CHECK_EQ(tp_proxy_parse(&h, b, n, NULL), TP_P_OK);
	CHECK_EQ(h.family, AF_INET6);
	CHECK_EQ(h.len, 52);
	CHECK(ip6_is(&h.src, "2001:db8::1", 0x1234));
	CHECK(ip6_is(&h.dst, "2001:db8::2", 3478));
	check_prefixes(b, n);

	/* LOCAL (a health check): the block is skipped, whatever family it says */
	n = v2(b, 0x20, 0x00, NULL, 0);
	CHECK_EQ(tp_proxy_parse(&h, b, n, NULL), TP_P_OK);
	CHECK_EQ(h.command, TP_PROXY_LOCAL);
	CHECK_EQ(h.family, 0);
	CHECK_EQ(h.len, 16);
	n = v2(b, 0x20, 0x31, a4, 5);
	CHECK_EQ(tp_proxy_parse(&h, b, n, NULL), TP_P_OK);
	CHECK_EQ(h.family, 0);
	CHECK_EQ(h.len, 21);
	/* PROXY with UNSPEC: the connection's own addresses */
	n = v2(b, 0x21, 0x00, NULL, 0);
	CHECK_EQ(tp_proxy_parse(&h, b, n, NULL), TP_P_OK);
	CHECK_EQ(h.command, TP_PROXY_PROXY);
	CHECK_EQ(h.family, 0);

	/* TLVs after the addresses are skipped: ALPN "h2", a NOOP of 3 */
	memcpy(body, a4, 12);
	memcpy(body + 12, "\x01\x00\x02h2\x04\x00\x03\0\0\0", 11);
	n = v2(b, 0x21, 0x11, body, 23);
	CHECK_EQ(tp_proxy_parse(&h, b, n, NULL), TP_P_OK);
	CHECK_EQ(h.len, 39);
	CHECK(ip4_is(&h.src, "192.0.2.7", 50000));
	/* a TLV one byte too long, a TLV header cut short */
	body[14] = 3;
	n = v2(b, 0x21, 0x11, body, 23);
	CHECK_EQ(tp_proxy_parse(&h, b, n, &why), TP_P_ATTR_OVERRUN);
	body[14] = 2;
	n = v2(b, 0x21, 0x11, body, 13);
	CHECK_EQ(tp_proxy_parse(&h, b, n, &why), TP_P_ATTR_TRUNCATED);

	/* the largest accepted: 536 bytes in all, with a NOOP TLV of 505 */
	memset(body, 0, sizeof(body));
	memcpy(body, a4, 12);
	body[12] = 0x04;
	body[13] = 505 >> 8;
	body[14] = 505 & 0xFF;
	n = v2(b, 0x21, 0x11, body, 520);
	CHECK_EQ(n, TP_PROXY_V2_MAX);
	CHECK_EQ(tp_proxy_parse(&h, b, n, NULL), TP_P_OK);
	/* one more byte is refused as soon as the length is there */
	n = v2(b, 0x21, 0x11, body, 521);
	CHECK_EQ(tp_proxy_parse(&h, b, 16, &why), TP_P_FRAME_TOO_LONG);
	b[14] = 0xFF;
	b[15] = 0xFF;
	CHECK_EQ(tp_proxy_parse(&h, b, 16, &why), TP_P_FRAME_TOO_LONG);

	/* refused headers, each as early as its byte arrives */
	n = v2(b, 0x11, 0x11, a4, 12);
	CHECK_EQ(tp_proxy_parse(&h, b, 13, &why), TP_P_BAD_VALUE);  /* version 1 */
	n = v2(b, 0x22, 0x11, a4, 12);
	CHECK_EQ(tp_proxy_parse(&h, b, 13, &why), TP_P_BAD_VALUE);  /* command 2 */
	n = v2(b, 0x21, 0x12, a4, 12);
	CHECK_EQ(tp_proxy_parse(&h, b, 14, &why), TP_P_BAD_FAMILY); /* UDP */
	CHECK(why && strstr(why, "UDP"));
	n = v2(b, 0x21, 0x31, body, 216);
	CHECK_EQ(tp_proxy_parse(&h, b, n, &why), TP_P_BAD_FAMILY);  /* UNIX */
	n = v2(b, 0x21, 0x41, a4, 12);
	CHECK_EQ(tp_proxy_parse(&h, b, n, &why), TP_P_BAD_FAMILY);
	n = v2(b, 0x21, 0x10, a4, 12);
	CHECK_EQ(tp_proxy_parse(&h, b, n, &why), TP_P_BAD_FAMILY);  /* INET, UNSPEC proto */
	n = v2(b, 0x21, 0x11, a4, 11);
	CHECK_EQ(tp_proxy_parse(&h, b, 16, &why), TP_P_BAD_LENGTH); /* short addresses */
	n = v2(b, 0x21, 0x21, a6, 35);
	CHECK_EQ(tp_proxy_parse(&h, b, n, &why), TP_P_BAD_LENGTH);
	CHECK(why && strncmp(why, "v2: ", 4) == 0);
}

int main(void)
{
	test_v1_spec();
	test_v1_bad();
	test_not_proxy();
	test_v2();
	TP_TEST_END();
}
