/*
 * precis.c - OpaqueString profile of PRECIS (RFC 8265 §4.2, RFC 8264).
 *
 * Interim version: exact for ASCII; any non-ASCII code point in valid UTF-8 is
 * reported as TP_P_PRECIS_DISALLOWED until the Unicode tables land.
 */
#include "proto.h"

#define PRECIS_MAX_IN 1024 /* bytes; longer input is TP_P_FRAME_TOO_LONG */

/* Decodes one UTF-8 scalar value at *pp; returns it, or -1 when malformed
 * (overlong, surrogate, above U+10FFFF, truncated, stray continuation). */
static long utf8_next(const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *p = *pp;
	unsigned long c;
	size_t n, i;
	unsigned long min;

	c = *p;
	if (c < 0x80) {
		*pp = p + 1;
		return (long)c;
	} else if (c >= 0xC2 && c <= 0xDF) {
		n = 1; c &= 0x1F; min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 2; c &= 0x0F; min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 3; c &= 0x07; min = 0x10000;
	} else {
		return -1;
	}
	if ((size_t)(end - p) < n + 1)
		return -1;
	for (i = 1; i <= n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return -1;
		c = (c << 6) | (p[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return -1;
	*pp = p + n + 1;
	return (long)c;
}

enum tp_perr tp_precis_opaque(const char *in, size_t in_len, char *out, size_t cap,
                              size_t *out_len)
{
	const unsigned char *p = (const unsigned char *)in;
	const unsigned char *end = p + in_len;
	enum tp_perr bad = TP_P_OK;
	size_t n = 0;
	long c;

	*out_len = 0;
	if (in_len > PRECIS_MAX_IN)
		return TP_P_FRAME_TOO_LONG;
	while (p < end) {
		c = utf8_next(&p, end);
		if (c < 0)
			return TP_P_BAD_UTF8;
		if ((c < 0x20 || c >= 0x7F) && bad == TP_P_OK)
			bad = TP_P_PRECIS_DISALLOWED;
	}
	if (bad != TP_P_OK)
		return bad;
	n = in_len;
	if (n == 0)
		return TP_P_EMPTY;
	if (cap < n)
		return TP_P_FRAME_TOO_LONG;
	for (size_t i = 0; i < n; i++)
		out[i] = in[i];
	*out_len = n;
	return TP_P_OK;
}
