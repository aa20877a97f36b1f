/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_precis.c - the OpaqueString profile (RFC 8265 §4.2 on RFC 8264).
 *
 * Optional full NFC conformance run against the Unicode NormalizationTest
 * (needs the unicode-data package, so CI does not do it):
 *     bzcat /usr/share/unicode/NormalizationTest.txt.bz2 > /tmp/nt.txt
 *     TP_NORMTEST=/tmp/nt.txt ./test_precis
 * Every line whose source strings OpaqueString accepts must normalize to the
 * NFC column.  The tables themselves are checked with
 *     python3 tools/gen-precis-tables.py --check
 */
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "../../tp_test.h"

static char out[4096];
static size_t out_n;

static enum tp_perr prep(const char *s)
{
	return tp_precis_opaque(s, strlen(s), out, sizeof(out), &out_n);
}

/* s must be accepted and prepare to want. */
#define OK_AS(s, want)                                                    \
	do {                                                              \
		CHECK_EQ(prep(s), TP_P_OK);                               \
		CHECK_EQ(out_n, strlen(want));                            \
		CHECK_MEM(out, want, strlen(want) < out_n ? strlen(want) : out_n); \
	} while (0)
#define OK_SAME(s) OK_AS(s, s)
#define FAILS(s, err) CHECK_EQ(prep(s), err)

static void test_rfc8265_examples(void)
{
	/* RFC 8265 §5.3 (valid) */
	OK_SAME("correct horse battery staple");
	OK_SAME("Correct Horse Battery Staple");
	CHECK(memcmp("correct horse battery staple", out, 28) != 0); /* case kept */
	OK_SAME("\xcf\x80\xc3\x9f\xc3\xa5");                  /* πßå */
	OK_SAME("Jack of \xe2\x99\xa6s");                    /* Jack of ♦s */
	/* "foo bar" with U+1680 OGHAM SPACE MARK: mapped to an ordinary space */
	OK_AS("foo\xe1\x9a\x80" "bar", "foo bar");
	/* other non-ASCII spaces: NBSP, EM SPACE, IDEOGRAPHIC SPACE */
	OK_AS("a\xc2\xa0" "b\xe2\x80\x83" "c\xe3\x80\x80", "a b c ");
	/* RFC 8265 §5.3 (invalid): "my cat is a \t by" (TAB is a control) */
	FAILS("my cat is a \tby", TP_P_PRECIS_DISALLOWED);
	/* printable ASCII edges */
	OK_SAME(" ~!");
	FAILS("\x7f", TP_P_PRECIS_DISALLOWED);
	FAILS("a\x1f", TP_P_PRECIS_DISALLOWED);
	CHECK_EQ(tp_precis_opaque("a\0b", 3, out, sizeof(out), &out_n),
	         TP_P_PRECIS_DISALLOWED);
}

static void test_nfc(void)
{
	/* e + COMBINING ACUTE -> U+00E9 */
	OK_AS("e\xcc\x81", "\xc3\xa9");
	/* U+00E9 stays */
	OK_SAME("caf\xc3\xa9");
	/* Hangul L + V + T -> U+AC01; L + V -> U+AC00; LV syllable + T -> LVT */
	OK_AS("\xe1\x84\x80\xe1\x85\xa1\xe1\x86\xa8", "\xea\xb0\x81");
	OK_AS("\xe1\x84\x80\xe1\x85\xa1", "\xea\xb0\x80");
	OK_AS("\xea\xb0\x80\xe1\x86\xa8", "\xea\xb0\x81");
	/* a precomposed syllable round-trips */
	OK_SAME("\xed\x95\x9c\xea\xb8\x80");                 /* 한글 */
	/* composition exclusion: U+0958 DEVANAGARI QA decomposes to KA + NUKTA
	 * and is not recomposed */
	OK_AS("\xe0\xa5\x98", "\xe0\xa4\x95\xe0\xa4\xbc");
	/* singleton: U+212B ANGSTROM SIGN -> U+00C5 */
	OK_AS("\xe2\x84\xab", "\xc3\x85");
	/* canonical reordering: a + dot below (220) + acute (230) in either
	 * order gives the same result; the dot below composes first: U+1EA1 + U+0301 */
	OK_AS("a\xcc\x81\xcc\xa3", "\xe1\xba\xa1\xcc\x81");
	OK_AS("a\xcc\xa3\xcc\x81", "\xe1\xba\xa1\xcc\x81");
	/* two marks of the same class keep their order: q + acute + grave */
	OK_AS("q\xcc\x81\xcc\x80", "q\xcc\x81\xcc\x80");
	/* blocked: a + grave(230) + acute(230): only the first composes */
	OK_AS("a\xcc\x80\xcc\x81", "\xc3\xa0\xcc\x81");
	/* decompose-then-recompose: U+1E69 (s, dot below, dot above) from
	 * U+1E61 (s + dot above) + dot below */
	OK_AS("\xe1\xb9\xa1\xcc\xa3", "\xe1\xb9\xa9");
	/* a leading combining mark has no starter: kept as is */
	OK_SAME("\xcc\x81" "a");
	/* supplementary plane: U+1D15E MUSICAL SYMBOL HALF NOTE decomposes
	 * (it is a composition exclusion) into U+1D157 U+1D165 */
	OK_AS("\xf0\x9d\x85\x9e", "\xf0\x9d\x85\x97\xf0\x9d\x85\xa5");
	/* HasCompat characters are allowed and not mapped (NFC, not NFKC) */
	OK_SAME("\xef\xac\x81");                             /* U+FB01 ﬁ */
	OK_SAME("\xef\xbc\xa1");                             /* U+FF21 fullwidth A */
}

static void test_disallowed(void)
{
	FAILS("soft\xc2\xadhyphen", TP_P_PRECIS_DISALLOWED);  /* U+00AD ignorable */
	FAILS("x\xef\xbf\xbe", TP_P_PRECIS_DISALLOWED);       /* U+FFFE nonchar */
	FAILS("\xef\xb7\x90", TP_P_PRECIS_DISALLOWED);        /* U+FDD0 nonchar */
	FAILS("\xf4\x8f\xbf\xbf", TP_P_PRECIS_DISALLOWED);    /* U+10FFFF nonchar */
	FAILS("\xcd\xb8", TP_P_PRECIS_DISALLOWED);            /* U+0378 unassigned */
	FAILS("\xf3\xa0\x80\x80", TP_P_PRECIS_DISALLOWED);    /* U+E0000 unassigned */
	FAILS("nel\xc2\x85", TP_P_PRECIS_DISALLOWED);         /* U+0085 C1 control */
	FAILS("\xee\x80\x80", TP_P_PRECIS_DISALLOWED);        /* U+E000 private use */
	FAILS("\xf3\xb0\x80\x80", TP_P_PRECIS_DISALLOWED);    /* U+F0000 private use */
	FAILS("\xe2\x80\xa8", TP_P_PRECIS_DISALLOWED);        /* U+2028 LINE SEP (Zl) */
	FAILS("\xe2\x81\xa0", TP_P_PRECIS_DISALLOWED);        /* U+2060 WORD JOINER */
	FAILS("\xef\xbb\xbf" "abc", TP_P_PRECIS_DISALLOWED);  /* U+FEFF BOM */
	FAILS("\xe1\x84\x80", TP_P_PRECIS_DISALLOWED);        /* lone L jamo U+1100 */
	FAILS("\xea\xb0\x80\xe1\x85\xa1", TP_P_PRECIS_DISALLOWED); /* LV + V */
	FAILS("\xd9\x80", TP_P_PRECIS_DISALLOWED);            /* U+0640 exception */
	FAILS("\xe3\x80\xae", TP_P_PRECIS_DISALLOWED);        /* U+302E exception */
	OK_SAME("\xe3\x80\x87");                              /* U+3007 exception PVALID */
}

static void test_context(void)
{
	/* ZWJ / ZWNJ: only after a virama (or ZWNJ between joining letters) */
	FAILS("a\xe2\x80\x8d" "b", TP_P_PRECIS_DISALLOWED);
	FAILS("a\xe2\x80\x8c" "b", TP_P_PRECIS_DISALLOWED);
	FAILS("\xe2\x80\x8c", TP_P_PRECIS_DISALLOWED);
	/* DEVANAGARI KA + VIRAMA + ZWJ + SSA */
	OK_SAME("\xe0\xa4\x95\xe0\xa5\x8d\xe2\x80\x8d\xe0\xa4\xb7");
	OK_SAME("\xe0\xa4\x95\xe0\xa5\x8d\xe2\x80\x8c\xe0\xa4\xb7");
	/* Persian: BEH (D) + ZWNJ + ALEF (R) */
	OK_SAME("\xd8\xa8\xe2\x80\x8c\xd8\xa7");
	/* ALEF (R) + ZWNJ + BEH: the left side does not join */
	FAILS("\xd8\xa7\xe2\x80\x8c\xd8\xa8", TP_P_PRECIS_DISALLOWED);
	/* MIDDLE DOT between two 'l' only */
	OK_SAME("l\xc2\xb7l");
	FAILS("a\xc2\xb7" "b", TP_P_PRECIS_DISALLOWED);
	/* GREEK KERAIA before Greek */
	OK_SAME("\xcd\xb5\xce\xb1");
	FAILS("\xcd\xb5" "a", TP_P_PRECIS_DISALLOWED);
	/* HEBREW GERESH after Hebrew */
	OK_SAME("\xd7\x90\xd7\xb3");
	FAILS("a\xd7\xb3", TP_P_PRECIS_DISALLOWED);
	/* KATAKANA MIDDLE DOT with kana in the string */
	OK_SAME("\xe3\x82\xa2\xe3\x83\xbb\xe3\x82\xa4");
	FAILS("a\xe3\x83\xbb" "b", TP_P_PRECIS_DISALLOWED);
	/* Arabic-Indic digits may not mix with the extended ones */
	OK_SAME("\xd9\xa1\xd9\xa2");
	OK_SAME("\xdb\xb1\xdb\xb2");
	FAILS("\xd9\xa1\xdb\xb2", TP_P_PRECIS_DISALLOWED);
}

static void test_bad_utf8(void)
{
	FAILS("\xc0\xaf", TP_P_BAD_UTF8);             /* overlong '/' */
	FAILS("\xe0\x80\xaf", TP_P_BAD_UTF8);         /* overlong, 3 bytes */
	FAILS("\xf0\x82\x82\xac", TP_P_BAD_UTF8);     /* overlong, 4 bytes */
	FAILS("\xed\xa0\x80", TP_P_BAD_UTF8);         /* U+D800 encoded */
	FAILS("\xed\xbf\xbf", TP_P_BAD_UTF8);         /* U+DFFF encoded */
	FAILS("\xf4\x90\x80\x80", TP_P_BAD_UTF8);     /* U+110000 */
	FAILS("\xf5\x80\x80\x80", TP_P_BAD_UTF8);
	FAILS("ab\xe2\x82", TP_P_BAD_UTF8);           /* truncated */
	FAILS("\xc3", TP_P_BAD_UTF8);
	FAILS("\x80" "abc", TP_P_BAD_UTF8);           /* stray continuation */
	FAILS("\xc3\x28", TP_P_BAD_UTF8);             /* bad continuation */
	FAILS("\xfe", TP_P_BAD_UTF8);
	FAILS("\xff", TP_P_BAD_UTF8);
	/* bad UTF-8 wins over a disallowed code point earlier in the string */
	FAILS("\t\xc3", TP_P_BAD_UTF8);
}

static void test_bounds(void)
{
	char big[1100];
	char small[8];
	size_t n = 99;

	FAILS("", TP_P_EMPTY);
	CHECK_EQ(tp_precis_opaque("abcd", 4, small, 3, &n), TP_P_FRAME_TOO_LONG);
	CHECK_EQ(n, 0);
	CHECK_EQ(tp_precis_opaque("abcd", 4, small, 4, &n), TP_P_OK);
	CHECK_EQ(n, 4);
	/* non-ASCII path: U+00E9 needs 2 bytes; U+1D15E grows from 4 to 8 */
	CHECK_EQ(tp_precis_opaque("e\xcc\x81", 3, small, 1, &n), TP_P_FRAME_TOO_LONG);
	CHECK_EQ(tp_precis_opaque("e\xcc\x81", 3, small, 2, &n), TP_P_OK);
	CHECK_EQ(n, 2);
	CHECK_EQ(tp_precis_opaque("\xf0\x9d\x85\x9e", 4, small, 7, &n),
	         TP_P_FRAME_TOO_LONG);
	CHECK_EQ(tp_precis_opaque("\xf0\x9d\x85\x9e", 4, small, 8, &n), TP_P_OK);
	CHECK_EQ(n, 8);
	/* input cap: 1024 bytes accepted, 1025 refused */
	memset(big, 'x', sizeof(big));
	CHECK_EQ(tp_precis_opaque(big, 1024, out, sizeof(out), &n), TP_P_OK);
	CHECK_EQ(n, 1024);
	CHECK_EQ(tp_precis_opaque(big, 1025, out, sizeof(out), &n), TP_P_FRAME_TOO_LONG);
	/* worst case expansion at the cap: 512 x U+01D5 (2 bytes, 3 code points
	 * decomposed, recomposed to 1) */
	for (int i = 0; i < 512; i++) {
		big[2 * i] = (char)0xC7;
		big[2 * i + 1] = (char)0x95;
	}
	CHECK_EQ(tp_precis_opaque(big, 1024, out, sizeof(out), &n), TP_P_OK);
	CHECK_EQ(n, 1024);
	CHECK_MEM(out, big, 1024);
	/* 256 x U+1D160 (4 bytes -> 3 code points, 12 bytes): 3x growth */
	for (int i = 0; i < 256; i++)
		memcpy(big + 4 * i, "\xf0\x9d\x85\xa0", 4);
	CHECK_EQ(tp_precis_opaque(big, 1024, out, sizeof(out), &n), TP_P_OK);
	CHECK_EQ(n, 3072);
}

static size_t put_utf8(char *p, unsigned long c)
{
	if (c < 0x80) {
		p[0] = (char)c;
		return 1;
	} else if (c < 0x800) {
		p[0] = (char)(0xC0 | c >> 6);
		p[1] = (char)(0x80 | (c & 0x3F));
		return 2;
	} else if (c < 0x10000) {
		p[0] = (char)(0xE0 | c >> 12);
		p[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		p[2] = (char)(0x80 | (c & 0x3F));
		return 3;
	}
	p[0] = (char)(0xF0 | c >> 18);
	p[1] = (char)(0x80 | ((c >> 12) & 0x3F));
	p[2] = (char)(0x80 | ((c >> 6) & 0x3F));
	p[3] = (char)(0x80 | (c & 0x3F));
	return 4;
}

/*
 * Deterministic random strings over code points picked to exercise composition,
 * reordering, Hangul and context rules (plus random bytes): the function must
 * not fail on its own output, and preparing twice must give the same bytes
 * (NFC and the space mapping are idempotent).
 */
static void test_idempotent(void)
{
	static const uint32_t pool[] = {
		'a', 'e', 'l', 's', ' ', 0x00A0, 0x00C5, 0x00E9, 0x01D5, 0x0301, 0x0308,
		0x0323, 0x0304, 0x0345, 0x0958, 0x093C, 0x094D, 0x0915, 0x1100, 0x1161,
		0x11A8, 0x11C3, 0xAC00, 0x200C, 0x200D, 0x0628, 0x0627, 0x064B, 0x00B7,
		0x0375, 0x03B1, 0x1F80, 0x0F73, 0x0F71, 0x0F72, 0x1D15E, 0x1D165,
		0x1D16E, 0x2126, 0x212B, 0x3099, 0x304B, 0x30FB, 0x05D0, 0x05F3,
	};
	uint32_t seed = 12345;
	char in[64], res[256], res2[256];
	size_t n, n2, len;
	int ok = 0, same = 0;

	for (int it = 0; it < 20000; it++) {
		len = 0;
		for (int k = 0; k < 10; k++) {
			seed = seed * 1103515245u + 12345u;
			if ((seed >> 16) % 50 == 0)
				in[len++] = (char)(seed >> 8); /* a random byte */
			else
				len += put_utf8(in + len, pool[(seed >> 16) % (sizeof(pool) / sizeof(pool[0]))]);
		}
		if (tp_precis_opaque(in, len, res, sizeof(res), &n) != TP_P_OK)
			continue;
		ok++;
		if (tp_precis_opaque(res, n, res2, sizeof(res2), &n2) == TP_P_OK &&
		    n2 == n && memcmp(res, res2, n) == 0)
			same++;
	}
	CHECK(ok > 1000);
	CHECK_EQ(same, ok);
}

/* ---- optional: Unicode NormalizationTest.txt (see the top comment) ---- */

/* Parses one ';'-terminated field of hex code points into UTF-8. */
static const char *field(const char *s, char *buf, size_t *len)
{
	char *e;

	*len = 0;
	while (*s && *s != ';') {
		unsigned long c = strtoul(s, &e, 16);

		if (e == s) {
			s++;
			continue;
		}
		*len += put_utf8(buf + *len, c);
		s = e;
	}
	return *s == ';' ? s + 1 : s;
}

static void test_normalization_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024], col[5][256], res[1024];
	size_t len[5], n;
	int lines = 0, checked = 0, bad = 0;

	CHECK(f != NULL);
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		const char *s = line;

		if (line[0] == '#' || line[0] == '@' || line[0] == '\n')
			continue;
		lines++;
		for (int i = 0; i < 5; i++)
			s = field(s, col[i], &len[i]);
		/* columns 1-3 must prepare to column 2 (NFC) when accepted;
		 * skip lines the space mapping changes (NFC column not a fixed point) */
		if (tp_precis_opaque(col[1], len[1], res, sizeof(res), &n) != TP_P_OK ||
		    n != len[1] || memcmp(res, col[1], n) != 0)
			continue;
		for (int i = 0; i < 3; i++) {
			if (tp_precis_opaque(col[i], len[i], res, sizeof(res), &n) != TP_P_OK)
				continue;
			checked++;
			if (n != len[1] || memcmp(res, col[1], n) != 0) {
				if (bad++ < 10)
					fprintf(stderr, "NFC mismatch: %s", line);
			}
		}
	}
	fclose(f);
	printf("NormalizationTest: %d lines, %d strings checked, %d mismatches\n",
	       lines, checked, bad);
	CHECK(checked > 10000);
	CHECK_EQ(bad, 0);
}

/* tp_utf8_len: well-formed sequences pass, every malformed form is 0. */
static void test_utf8_len(void)
{
	static const struct { const char *s; size_t n, want; } v[] = {
		{ "a", 1, 1 },
		{ "\xc3\xa9", 2, 2 },                 /* U+00E9 */
		{ "\xe2\x82\xac", 3, 3 },             /* U+20AC */
		{ "\xf0\x9f\x98\x80", 4, 4 },         /* U+1F600 */
		{ "\xf4\x8f\xbf\xbf", 4, 4 },         /* U+10FFFF */
		{ "\xc3", 1, 0 },                     /* truncated */
		{ "\xe2\x82", 2, 0 },
		{ "\x80", 1, 0 },                     /* stray continuation */
		{ "\xc0\xaf", 2, 0 },                 /* overlong '/' */
		{ "\xe0\x80\xaf", 3, 0 },
		{ "\xed\xa0\x80", 3, 0 },             /* surrogate U+D800 */
		{ "\xf4\x90\x80\x80", 4, 0 },         /* above U+10FFFF */
		{ "\xff", 1, 0 },
		{ "\xc3\x28", 2, 0 },                 /* bad continuation */
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		CHECK_EQ(tp_utf8_len((const unsigned char *)v[i].s, v[i].n), v[i].want);
	CHECK_EQ(tp_utf8_len((const unsigned char *)"", 0), 0);
}

int main(void)
{
	const char *nt = getenv("TP_NORMTEST");

	test_rfc8265_examples();
	test_nfc();
	test_disallowed();
	test_context();
	test_bad_utf8();
	test_bounds();
	test_idempotent();
	test_utf8_len();
	if (nt && *nt)
		test_normalization_file(nt);
	TP_TEST_END();
}
