/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * precis.c - the OpaqueString profile of PRECIS (RFC 8265 §4.2 on the
 * FreeformClass of RFC 8264), used to prepare passwords before long-term key
 * derivation (RFC 8489 §9.2.2).
 *
 * Steps, in RFC 8264 §7 order: width mapping (none), additional mapping
 * (non-ASCII spaces -> U+0020), case mapping (none), normalization (NFC),
 * directionality (none); then every code point of the result must be allowed
 * by the FreeformClass (RFC 8264 §8, §9), and the result must not be empty.
 *
 * Context rules (RFC 5892 appendix A, which RFC 8264 §9.6 and §9.8 use):
 * ZWNJ/ZWJ (CONTEXTJ) are allowed after a virama, and ZWNJ also between
 * joining characters; MIDDLE DOT, GREEK KERAIA, HEBREW GERESH/GERSHAYIM,
 * KATAKANA MIDDLE DOT and the two Arabic-Indic digit sets (CONTEXTO) follow
 * their rules over the whole string.  Private-use, unassigned, surrogate,
 * noncharacter, default-ignorable, control and old Hangul jamo code points are
 * DISALLOWED.
 *
 * Bounded memory, no heap: the input is capped at PRECIS_MAX_IN bytes (longer
 * input is TP_P_FRAME_TOO_LONG) and is normalized in a fixed stack buffer.
 * The tables come from tools/gen-precis-tables.py (Unicode version in
 * precis_tables.h).
 */
#include "proto.h"
#include "precis_tables.h"

#define PRECIS_MAX_IN 1024 /* bytes of input; passwords, realms, usernames */
/* A full canonical decomposition never has more code points than twice the
 * UTF-8 length of its source (the generator asserts it). */
#define PRECIS_MAX_CP (2 * PRECIS_MAX_IN)

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Hangul (Unicode §3.12) */
#define S_BASE 0xAC00u
#define L_BASE 0x1100u
#define V_BASE 0x1161u
#define T_BASE 0x11A7u
#define L_COUNT 19u
#define V_COUNT 21u
#define T_COUNT 28u
#define N_COUNT (V_COUNT * T_COUNT)
#define S_COUNT (L_COUNT * N_COUNT)

#define CCC_VIRAMA 9

struct nbuf {
	uint32_t cp[PRECIS_MAX_CP];
	uint8_t cc[PRECIS_MAX_CP];
	size_t n;
};

/* Decodes one UTF-8 scalar value at *pp; returns it, or -1 when malformed
 * (overlong, surrogate, above U+10FFFF, truncated, stray continuation). */
static long utf8_next(const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *p = *pp;
	unsigned long c, min;
	size_t n, i;

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

size_t tp_utf8_len(const unsigned char *s, size_t n)
{
	const unsigned char *p = s;

	if (n == 0 || utf8_next(&p, s + n) < 0)
		return 0;
	return (size_t)(p - s);
}

/* Value of the range holding cp, 0 if none (tables are sorted, disjoint). */
static unsigned range_val(const struct precis_range *t, size_t n, uint32_t cp)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cp < t[mid].lo)
			hi = mid;
		else if (cp > t[mid].hi)
			lo = mid + 1;
		else
			return t[mid].val;
	}
	return 0;
}

static unsigned ccc_of(uint32_t cp)
{
	if (cp < 0x300)
		return 0;
	return range_val(precis_ccc, NELEM(precis_ccc), cp);
}

static const struct precis_decomp *decomp_find(uint32_t cp)
{
	size_t lo = 0, hi = NELEM(precis_decomp);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cp < precis_decomp[mid].cp)
			hi = mid;
		else if (cp > precis_decomp[mid].cp)
			lo = mid + 1;
		else
			return &precis_decomp[mid];
	}
	return NULL;
}

static int push(struct nbuf *b, uint32_t cp)
{
	if (b->n == PRECIS_MAX_CP)
		return -1;
	b->cp[b->n] = cp;
	b->cc[b->n] = (uint8_t)ccc_of(cp);
	b->n++;
	return 0;
}

/* Appends the full canonical decomposition of cp. */
static int decompose(struct nbuf *b, uint32_t cp)
{
	const struct precis_decomp *d;
	uint32_t s;
	unsigned i;

	if (cp >= S_BASE && cp < S_BASE + S_COUNT) {
		s = cp - S_BASE;
		if (push(b, L_BASE + s / N_COUNT) < 0 ||
		    push(b, V_BASE + (s % N_COUNT) / T_COUNT) < 0)
			return -1;
		return s % T_COUNT ? push(b, T_BASE + s % T_COUNT) : 0;
	}
	d = cp < 0xC0 ? NULL : decomp_find(cp);
	if (!d)
		return push(b, cp);
	for (i = 0; i < d->len; i++)
		if (push(b, precis_decomp_pool[d->off + i]) < 0)
			return -1;
	return 0;
}

/* Canonical ordering: a stable insertion sort of each run of non-starters. */
static void reorder(struct nbuf *b)
{
	size_t i, j;

	for (i = 1; i < b->n; i++) {
		uint32_t cp = b->cp[i];
		uint8_t cc = b->cc[i];

		if (cc == 0)
			continue;
		for (j = i; j > 0 && b->cc[j - 1] > cc; j--) {
			b->cp[j] = b->cp[j - 1];
			b->cc[j] = b->cc[j - 1];
		}
		b->cp[j] = cp;
		b->cc[j] = cc;
	}
}

/* The primary composite of a + b, or 0. */
static uint32_t compose_pair(uint32_t a, uint32_t b)
{
	size_t lo = 0, hi = NELEM(precis_comp);

	if (a - L_BASE < L_COUNT && b - V_BASE < V_COUNT)
		return S_BASE + ((a - L_BASE) * V_COUNT + (b - V_BASE)) * T_COUNT;
	if (a - S_BASE < S_COUNT && (a - S_BASE) % T_COUNT == 0 &&
	    b - T_BASE - 1 < T_COUNT - 1)
		return a + (b - T_BASE);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct precis_comp *c = &precis_comp[mid];

		if (a < c->a || (a == c->a && b < c->b))
			hi = mid;
		else if (a > c->a || b > c->b)
			lo = mid + 1;
		else
			return c->c;
	}
	return 0;
}

/* Canonical composition in place (UAX #15 §1.3 / Unicode §3.11 D117). */
static void compose(struct nbuf *b)
{
	size_t i, out = 0, starter = SIZE_MAX;
	unsigned last = 0;

	for (i = 0; i < b->n; i++) {
		uint32_t cp = b->cp[i], c;
		unsigned cc = b->cc[i];

		if (starter != SIZE_MAX && (out == starter + 1 || last < cc)) {
			c = compose_pair(b->cp[starter], cp);
			if (c) {
				b->cp[starter] = c;
				continue;
			}
		}
		if (cc == 0)
			starter = out;
		last = cc;
		b->cp[out] = cp;
		b->cc[out] = (uint8_t)cc;
		out++;
	}
	b->n = out;
}

static unsigned script_of(uint32_t cp)
{
	return range_val(precis_script, NELEM(precis_script), cp);
}

static unsigned jt_of(uint32_t cp)
{
	return range_val(precis_jt, NELEM(precis_jt), cp);
}

/* RFC 5892 A.1: ZWNJ between (L|D) T* and T* (R|D). */
static bool zwnj_joining(const struct nbuf *b, size_t i)
{
	size_t j;
	unsigned t = 0;

	for (j = i; j > 0; j--) {
		t = jt_of(b->cp[j - 1]);
		if (t != PRECIS_JT_T)
			break;
	}
	if (j == 0 || (t != PRECIS_JT_L && t != PRECIS_JT_D))
		return false;
	for (j = i + 1; j < b->n; j++) {
		t = jt_of(b->cp[j]);
		if (t != PRECIS_JT_T)
			return t == PRECIS_JT_R || t == PRECIS_JT_D;
	}
	return false;
}

static bool any_in(const struct nbuf *b, uint32_t lo, uint32_t hi)
{
	for (size_t j = 0; j < b->n; j++)
		if (b->cp[j] >= lo && b->cp[j] <= hi)
			return true;
	return false;
}

static bool kana_or_han(const struct nbuf *b)
{
	for (size_t j = 0; j < b->n; j++) {
		unsigned s = script_of(b->cp[j]);

		if (s == PRECIS_SC_HIRAGANA || s == PRECIS_SC_KATAKANA ||
		    s == PRECIS_SC_HAN)
			return true;
	}
	return false;
}

/* The context rules of RFC 5892 appendix A for the code point at i. */
static bool context_ok(const struct nbuf *b, size_t i)
{
	uint32_t cp = b->cp[i];
	uint32_t before = i > 0 ? b->cp[i - 1] : 0;
	uint32_t after = i + 1 < b->n ? b->cp[i + 1] : 0;

	switch (cp) {
	case 0x200C: /* ZERO WIDTH NON-JOINER */
		return (i > 0 && b->cc[i - 1] == CCC_VIRAMA) || zwnj_joining(b, i);
	case 0x200D: /* ZERO WIDTH JOINER */
		return i > 0 && b->cc[i - 1] == CCC_VIRAMA;
	case 0x00B7: /* MIDDLE DOT */
		return before == 'l' && after == 'l';
	case 0x0375: /* GREEK LOWER NUMERAL SIGN */
		return i + 1 < b->n && script_of(after) == PRECIS_SC_GREEK;
	case 0x05F3: /* HEBREW PUNCTUATION GERESH */
	case 0x05F4: /* HEBREW PUNCTUATION GERSHAYIM */
		return i > 0 && script_of(before) == PRECIS_SC_HEBREW;
	case 0x30FB: /* KATAKANA MIDDLE DOT */
		return kana_or_han(b);
	}
	if (cp >= 0x0660 && cp <= 0x0669)
		return !any_in(b, 0x06F0, 0x06F9);
	if (cp >= 0x06F0 && cp <= 0x06F9)
		return !any_in(b, 0x0660, 0x0669);
	return false; /* no rule: not allowed */
}

static bool allowed(const struct nbuf *b)
{
	for (size_t i = 0; i < b->n; i++) {
		unsigned cls = range_val(precis_class, NELEM(precis_class), b->cp[i]);

		if (cls == PRECIS_PVALID)
			continue;
		if (cls == PRECIS_CONTEXTJ || cls == PRECIS_CONTEXTO) {
			if (context_ok(b, i))
				continue;
		}
		return false;
	}
	return true;
}

static enum tp_perr encode(const struct nbuf *b, char *out, size_t cap, size_t *out_len)
{
	unsigned char *p = (unsigned char *)out;
	unsigned char *end = p + cap;

	for (size_t i = 0; i < b->n; i++) {
		uint32_t c = b->cp[i];
		size_t len = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;

		if ((size_t)(end - p) < len)
			return TP_P_FRAME_TOO_LONG;
		switch (len) {
		case 1:
			*p++ = (unsigned char)c;
			break;
		case 2:
			*p++ = (unsigned char)(0xC0 | c >> 6);
			*p++ = (unsigned char)(0x80 | (c & 0x3F));
			break;
		case 3:
			*p++ = (unsigned char)(0xE0 | c >> 12);
			*p++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
			*p++ = (unsigned char)(0x80 | (c & 0x3F));
			break;
		default:
			*p++ = (unsigned char)(0xF0 | c >> 18);
			*p++ = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
			*p++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
			*p++ = (unsigned char)(0x80 | (c & 0x3F));
			break;
		}
	}
	*out_len = (size_t)(p - (unsigned char *)out);
	return TP_P_OK;
}

/* Printable ASCII is already NFC and PVALID: the common case, copied as is. */
static bool printable_ascii(const char *in, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)in[i] < 0x20 || (unsigned char)in[i] > 0x7E)
			return false;
	return true;
}

/*
 * Error precedence: TP_P_FRAME_TOO_LONG for input over PRECIS_MAX_IN bytes,
 * then TP_P_BAD_UTF8 anywhere in the input, TP_P_EMPTY, TP_P_PRECIS_DISALLOWED,
 * and TP_P_FRAME_TOO_LONG when the result does not fit in cap.
 */
enum tp_perr tp_precis_opaque(const char *in, size_t in_len, char *out, size_t cap,
                              size_t *out_len)
{
	const unsigned char *p = (const unsigned char *)in;
	const unsigned char *end = p + in_len;
	struct nbuf b;
	long c;

	*out_len = 0;
	if (in_len > PRECIS_MAX_IN)
		return TP_P_FRAME_TOO_LONG;
	if (in_len == 0)
		return TP_P_EMPTY;
	if (printable_ascii(in, in_len)) {
		if (cap < in_len)
			return TP_P_FRAME_TOO_LONG;
		for (size_t i = 0; i < in_len; i++)
			out[i] = in[i];
		*out_len = in_len;
		return TP_P_OK;
	}
	b.n = 0;
	while (p < end) {
		c = utf8_next(&p, end);
		if (c < 0)
			return TP_P_BAD_UTF8;
		if (c >= 0xA0 && range_val(precis_space, NELEM(precis_space), (uint32_t)c))
			c = 0x20; /* RFC 8265 §4.2.1: additional mapping rule */
		if (decompose(&b, (uint32_t)c) < 0)
			return TP_P_FRAME_TOO_LONG; /* cannot happen: see PRECIS_MAX_CP */
	}
	reorder(&b);
	compose(&b);
	if (!allowed(&b))
		return TP_P_PRECIS_DISALLOWED;
	return encode(&b, out, cap, out_len);
}
