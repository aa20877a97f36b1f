/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * proxy.c - the PROXY protocol header, v1 and v2 (see proxy.h). A pointer
 * pair walks the bytes; every length is checked against what is left.
 */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "proto.h"
#include "rd.h"

static const uint8_t v2sig[12] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
	                           0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A };
static const char v1sig[6] = { 'P', 'R', 'O', 'X', 'Y', ' ' };

#define FAIL(e, w)                      \
	do {                            \
		if (why)                \
			*why = (w);     \
		return (e);             \
	} while (0)

static size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* ---- v1 --------------------------------------------------------------- */

struct tok {
	const char *p;
	size_t n;
};

/* The next space-separated token of [*p, end); one space between tokens. */
static int next_tok(const char **p, const char *end, struct tok *t)
{
	const char *q = *p;

	while (q < end && *q != ' ')
		q++;
	t->p = *p;
	t->n = (size_t)(q - *p);
	if (t->n == 0)
		return -1;
	*p = q < end ? q + 1 : q;
	return 0;
}

static int tok_is(const struct tok *t, const char *s)
{
	return t->n == strlen(s) && memcmp(t->p, s, t->n) == 0;
}

/* A decimal port 0..65535: digits only, no leading zero. */
static int v1_port(const struct tok *t, uint16_t *out)
{
	unsigned v = 0;

	if (t->n > 5 || (t->n > 1 && t->p[0] == '0'))
		return -1;
	for (size_t i = 0; i < t->n; i++) {
		if (t->p[i] < '0' || t->p[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(t->p[i] - '0');
	}
	if (v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/* An address literal of family fam (inet_pton: dotted quad, or RFC 4291 text). */
static int v1_addr(struct tp_addr *a, int fam, const struct tok *t)
{
	char tmp[INET6_ADDRSTRLEN];

	if (t->n >= sizeof(tmp))
		return -1;
	memcpy(tmp, t->p, t->n);
	tmp[t->n] = '\0';
	memset(a, 0, sizeof(*a));
	if (inet_pton(fam, tmp, a->ip) != 1)
		return -1;
	a->family = (uint16_t)fam;
	return 0;
}

static enum tp_perr parse_v1(struct tp_proxy_hdr *h, const uint8_t *b, size_t n,
                             const char **why)
{
	size_t lim = min_sz(n, TP_PROXY_V1_MAX), i;
	const char *p, *end;
	struct tok proto, t[4];
	int fam;

	for (i = sizeof(v1sig); i < lim; i++) {
		if (b[i] == '\n')
			break;
		if (b[i] == '\r') {
			if (i + 1 < lim && b[i + 1] != '\n')
				FAIL(TP_P_BAD_VALUE, "v1: CR not followed by LF");
		} else if (b[i] < 0x20 || b[i] > 0x7E) {
			FAIL(TP_P_BAD_VALUE, "v1: a control or non-ASCII byte in the line");
		}
	}
	if (i == lim) {
		if (lim == TP_PROXY_V1_MAX)
			FAIL(TP_P_FRAME_TOO_LONG, "v1: no CRLF within 107 bytes");
		return TP_P_NEED_MORE;
	}
	if (b[i - 1] != '\r')
		FAIL(TP_P_BAD_VALUE, "v1: the line ends in LF without CR");
	p = (const char *)b + sizeof(v1sig);
	end = (const char *)b + i - 1;
	if (next_tok(&p, end, &proto) != 0)
		FAIL(TP_P_BAD_VALUE, "v1: no protocol after \"PROXY \"");
	memset(h, 0, sizeof(*h));
	h->version = 1;
	h->command = TP_PROXY_PROXY;
	h->len = i + 1;
	if (tok_is(&proto, "UNKNOWN"))
		return TP_P_OK; /* the rest of the line is ignored (spec 2.1) */
	if (tok_is(&proto, "TCP4"))
		fam = AF_INET;
	else if (tok_is(&proto, "TCP6"))
		fam = AF_INET6;
	else
		FAIL(TP_P_BAD_FAMILY, "v1: protocol is not TCP4, TCP6 or UNKNOWN");
	if (end[-1] == ' ')
		FAIL(TP_P_BAD_VALUE, "v1: a space before CRLF");
	for (int k = 0; k < 4; k++)
		if (p >= end || next_tok(&p, end, &t[k]) != 0)
			FAIL(TP_P_BAD_VALUE, "v1: expected \"SRC DST SPORT DPORT\" separated by single spaces");
	if (p != end)
		FAIL(TP_P_BAD_VALUE, "v1: more than four fields after the protocol");
	if (v1_addr(&h->src, fam, &t[0]) != 0 || v1_addr(&h->dst, fam, &t[1]) != 0)
		FAIL(TP_P_BAD_VALUE, fam == AF_INET ? "v1: not an IPv4 address after TCP4"
		                                   : "v1: not an IPv6 address after TCP6");
	if (v1_port(&t[2], &h->src.port) != 0 || v1_port(&t[3], &h->dst.port) != 0)
		FAIL(TP_P_BAD_VALUE, "v1: a port is not a decimal 0-65535 without leading zeros");
	h->family = (uint16_t)fam;
	return TP_P_OK;
}

/* ---- v2 --------------------------------------------------------------- */

static enum tp_perr parse_v2(struct tp_proxy_hdr *h, const uint8_t *b, size_t n,
                             const char **why)
{
	uint8_t cmd, fam;
	size_t len, alen = 0;
	const uint8_t *p, *end;

	if (n < sizeof(v2sig) + 1)
		return TP_P_NEED_MORE;
	if (b[12] >> 4 != 2)
		FAIL(TP_P_BAD_VALUE, "v2: version is not 2");
	cmd = b[12] & 0x0F;
	if (cmd != TP_PROXY_LOCAL && cmd != TP_PROXY_PROXY)
		FAIL(TP_P_BAD_VALUE, "v2: command is neither LOCAL nor PROXY");
	if (n < TP_PROXY_V2_HDR - 2)
		return TP_P_NEED_MORE;
	fam = b[13];
	if (cmd == TP_PROXY_PROXY) {
		/* refused as soon as the byte is there, before the body arrives */
		if (fam == 0x11)
			alen = 12;
		else if (fam == 0x21)
			alen = 36;
		else if (fam >> 4 == 3)
			FAIL(TP_P_BAD_FAMILY, "v2: a UNIX socket address (expected TCP over IPv4 or IPv6)");
		else if ((fam & 0x0F) == 2)
			FAIL(TP_P_BAD_FAMILY, "v2: UDP (DGRAM) is not a TURN stream");
		else if (fam != 0x00)
			FAIL(TP_P_BAD_FAMILY, "v2: unknown address family or transport protocol");
	}
	if (n < TP_PROXY_V2_HDR)
		return TP_P_NEED_MORE;
	len = rd_u16(b + 14);
	if (len > TP_PROXY_V2_MAX - TP_PROXY_V2_HDR)
		FAIL(TP_P_FRAME_TOO_LONG, "v2: header longer than 536 bytes");
	if (len < alen)
		FAIL(TP_P_BAD_LENGTH, "v2: length shorter than the addresses");
	if (n - TP_PROXY_V2_HDR < len)
		return TP_P_NEED_MORE;
	memset(h, 0, sizeof(*h));
	h->version = 2;
	h->command = cmd;
	h->len = TP_PROXY_V2_HDR + len;
	if (cmd == TP_PROXY_LOCAL)
		return TP_P_OK; /* the block is discarded, family included (spec 2.2) */
	p = b + TP_PROXY_V2_HDR;
	end = p + len;
	if (alen == 12) {
		h->src.family = h->dst.family = AF_INET;
		memcpy(h->src.ip, p, 4);
		memcpy(h->dst.ip, p + 4, 4);
		h->src.port = rd_u16(p + 8);
		h->dst.port = rd_u16(p + 10);
		h->family = AF_INET;
	} else if (alen == 36) {
		h->src.family = h->dst.family = AF_INET6;
		memcpy(h->src.ip, p, 16);
		memcpy(h->dst.ip, p + 16, 16);
		h->src.port = rd_u16(p + 32);
		h->dst.port = rd_u16(p + 34);
		h->family = AF_INET6;
	}
	p += alen;
	/* TLVs: skipped, but each must fit */
	while (p < end) {
		size_t tl;

		if ((size_t)(end - p) < 3)
			FAIL(TP_P_ATTR_TRUNCATED, "v2: TLV header truncated");
		tl = rd_u16(p + 1);
		if ((size_t)(end - p) - 3 < tl)
			FAIL(TP_P_ATTR_OVERRUN, "v2: TLV overruns the header");
		p += 3 + tl;
	}
	return TP_P_OK;
}

/* ---- either ----------------------------------------------------------- */

enum tp_perr tp_proxy_parse(struct tp_proxy_hdr *h, const uint8_t *b, size_t n,
                            const char **why)
{
	if (why)
		*why = NULL;
	if (n == 0)
		return TP_P_NEED_MORE;
	if (b[0] == v1sig[0]) {
		if (memcmp(b, v1sig, min_sz(n, sizeof(v1sig))) != 0)
			FAIL(TP_P_NOT_PROXY, "not a PROXY protocol signature");
		if (n < sizeof(v1sig))
			return TP_P_NEED_MORE;
		return parse_v1(h, b, n, why);
	}
	if (b[0] == v2sig[0]) {
		if (memcmp(b, v2sig, min_sz(n, sizeof(v2sig))) != 0)
			FAIL(TP_P_NOT_PROXY, "not a PROXY protocol signature");
		return parse_v2(h, b, n, why);
	}
	FAIL(TP_P_NOT_PROXY, "not a PROXY protocol signature");
}
