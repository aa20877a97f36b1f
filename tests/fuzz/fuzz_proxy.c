/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_proxy.c - libFuzzer target for the PROXY protocol parser (proxy.c).
 *
 * Input: byte 0 picks a prefix length; the rest is the start of a connection.
 *  1. The whole input: a header, when parsed, lies within the input and within
 *     the bounds (107 bytes for v1, TP_PROXY_V2_MAX for v2); NEED_MORE is
 *     never asked with TP_PROXY_MAX bytes or more in hand; every error has a
 *     reason.
 *  2. Prefixes (the chosen one, the one a byte short of the header, the header
 *     alone): a prefix gives NEED_MORE or the whole input's result, and one
 *     that holds the whole header gives the same header. This is the contract
 *     a reader relies on to consume every byte of a NEED_MORE.
 *  3. A parsed PROXY header with addresses, encoded again as v2 and as a
 *     canonical v1 line, parses back to the same addresses.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz_assert.h"
#include "proto.h"


static int same_hdr(const struct tp_proxy_hdr *a, const struct tp_proxy_hdr *b)
{
	return a->version == b->version && a->command == b->command && a->family == b->family &&
	       a->len == b->len && memcmp(&a->src, &b->src, sizeof(a->src)) == 0 &&
	       memcmp(&a->dst, &b->dst, sizeof(a->dst)) == 0;
}

static int same_addrs(const struct tp_proxy_hdr *a, const struct tp_proxy_hdr *b)
{
	return a->family == b->family && memcmp(&a->src, &b->src, sizeof(a->src)) == 0 &&
	       memcmp(&a->dst, &b->dst, sizeof(a->dst)) == 0;
}

static void check_prefix(const uint8_t *b, size_t k, enum tp_perr whole,
                         const struct tp_proxy_hdr *h)
{
	struct tp_proxy_hdr h2;
	enum tp_perr e = tp_proxy_parse(&h2, b, k, NULL);

	if (whole == TP_P_OK) {
		if (k < h->len)
			ASSERT(e == TP_P_NEED_MORE);    /* never a shorter, other header */
		else
			ASSERT(e == TP_P_OK && same_hdr(&h2, h));
		return;
	}
	if (e != TP_P_NEED_MORE && e != whole)
		FAIL("prefix of %zu bytes: %s, whole input: %s", k, tp_perr_str(e),
		     tp_perr_str(whole));
}

static void roundtrip(const struct tp_proxy_hdr *h)
{
	uint8_t b[TP_PROXY_MAX];
	char s1[INET6_ADDRSTRLEN], s2[INET6_ADDRSTRLEN], line[TP_PROXY_V1_MAX + 1];
	size_t alen = h->family == AF_INET ? 4 : 16, n;
	struct tp_proxy_hdr h2;
	int ln;

	memcpy(b, "\r\n\r\n\0\r\nQUIT\n", 12);
	b[12] = 0x21;
	b[13] = h->family == AF_INET ? 0x11 : 0x21;
	b[14] = 0;
	b[15] = (uint8_t)(2 * alen + 4);
	memcpy(b + 16, h->src.ip, alen);
	memcpy(b + 16 + alen, h->dst.ip, alen);
	n = 16 + 2 * alen;
	b[n++] = (uint8_t)(h->src.port >> 8);
	b[n++] = (uint8_t)h->src.port;
	b[n++] = (uint8_t)(h->dst.port >> 8);
	b[n++] = (uint8_t)h->dst.port;
	ASSERT(tp_proxy_parse(&h2, b, n, NULL) == TP_P_OK);
	ASSERT(h2.version == 2 && h2.len == n && same_addrs(&h2, h));

	ASSERT(inet_ntop(h->family, h->src.ip, s1, sizeof(s1)));
	ASSERT(inet_ntop(h->family, h->dst.ip, s2, sizeof(s2)));
	ln = snprintf(line, sizeof(line), "PROXY %s %s %s %u %u\r\n",
	              h->family == AF_INET ? "TCP4" : "TCP6", s1, s2, h->src.port, h->dst.port);
	ASSERT(ln > 0 && (size_t)ln < sizeof(line));
	ASSERT(tp_proxy_parse(&h2, (uint8_t *)line, (size_t)ln, NULL) == TP_P_OK);
	ASSERT(h2.version == 1 && h2.len == (size_t)ln && same_addrs(&h2, h));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tp_proxy_hdr h;
	const char *why = NULL;
	enum tp_perr e;
	size_t cut;

	if (size < 1)
		return 0;
	cut = data[0];
	data++;
	size--;

	e = tp_proxy_parse(&h, data, size, &why);
	switch (e) {
	case TP_P_OK:
		ASSERT(h.len > 0 && h.len <= size);
		ASSERT(h.version == 1 || h.version == 2);
		ASSERT(h.len <= (h.version == 1 ? TP_PROXY_V1_MAX : TP_PROXY_V2_MAX));
		ASSERT(h.command == TP_PROXY_LOCAL || h.command == TP_PROXY_PROXY);
		ASSERT(h.family == 0 || h.family == AF_INET || h.family == AF_INET6);
		if (h.family)
			ASSERT(h.src.family == h.family && h.dst.family == h.family);
		ASSERT(h.command == TP_PROXY_PROXY || h.family == 0);
		check_prefix(data, h.len - 1, e, &h);
		check_prefix(data, h.len, e, &h);
		if (h.family)
			roundtrip(&h);
		break;
	case TP_P_NEED_MORE:
		ASSERT(size < TP_PROXY_MAX);
		break;
	default:
		ASSERT(why != NULL && strcmp(tp_perr_str(e), "?") != 0);
		break;
	}
	if (cut < size)
		check_prefix(data, cut, e, &h);
	check_prefix(data, size / 2, e, &h);
	return 0;
}
