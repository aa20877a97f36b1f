/* test_precis.c - OpaqueString (RFC 8265 §4.2). */
#include <string.h>

#include "proto.h"
#include "../../tp_test.h"

static enum tp_perr prep(const char *s, char *out, size_t cap, size_t *n)
{
	return tp_precis_opaque(s, strlen(s), out, cap, n);
}

int main(void)
{
	char out[256];
	size_t n;

	CHECK_EQ(prep("correct horse battery staple", out, sizeof(out), &n), TP_P_OK);
	CHECK_EQ(n, 28);
	CHECK_MEM(out, "correct horse battery staple", 28);
	CHECK_EQ(prep("Correct Horse Battery Staple", out, sizeof(out), &n), TP_P_OK);
	CHECK_MEM(out, "Correct Horse Battery Staple", 28);
	CHECK_EQ(prep("tab\there", out, sizeof(out), &n), TP_P_PRECIS_DISALLOWED);
	CHECK_EQ(prep("del\x7f", out, sizeof(out), &n), TP_P_PRECIS_DISALLOWED);
	CHECK_EQ(prep("", out, sizeof(out), &n), TP_P_EMPTY);
	CHECK_EQ(prep("abcd", out, 3, &n), TP_P_FRAME_TOO_LONG);
	CHECK_EQ(prep("\xc0\xaf", out, sizeof(out), &n), TP_P_BAD_UTF8);
	CHECK_EQ(prep("\xed\xa0\x80", out, sizeof(out), &n), TP_P_BAD_UTF8);
	CHECK_EQ(prep("\xf4\x90\x80\x80", out, sizeof(out), &n), TP_P_BAD_UTF8);
	CHECK_EQ(prep("ab\xe2\x82", out, sizeof(out), &n), TP_P_BAD_UTF8);
	TP_TEST_END();
}
