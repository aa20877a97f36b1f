/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dtls_cookie.c - server/dtls_cookie.c on a synthetic clock: a cookie is
 * bound to the address (family, IP, port) and to the secret set; it is still
 * accepted across one rotation (the previous secret) and refused after two,
 * or after a long idle stretch; the length must be exact.
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "tp_test.h"
#include "dtls_cookie.h"

#define R TP_COOKIE_ROTATE_S

static struct tp_addr addr(const char *s)
{
	struct tp_addr a;

	if (tp_addr_parse(&a, s, 0) != 0)
		memset(&a, 0, sizeof(a));
	return a;
}

int main(void)
{
	struct tp_cookie_keys k, other;
	struct tp_addr a = addr("192.0.2.1:5000"), b = addr("192.0.2.1:5001"),
	               c = addr("192.0.2.2:5000"), v6 = addr("[2001:db8::1]:5000");
	uint8_t ck[TP_COOKIE_LEN], ck2[TP_COOKIE_LEN], bad[TP_COOKIE_LEN];
	const time_t t0 = 1000;

	CHECK(a.family == AF_INET && v6.family == AF_INET6);
	tp_cookie_init(&k, t0);
	tp_cookie_init(&other, t0);

	/* bound to the address and to the secret set */
	tp_cookie_make(&k, t0, &a, ck);
	CHECK(tp_cookie_check(&k, t0, &a, ck, sizeof(ck)));
	CHECK(!tp_cookie_check(&k, t0, &b, ck, sizeof(ck)));   /* another port */
	CHECK(!tp_cookie_check(&k, t0, &c, ck, sizeof(ck)));   /* another IP */
	CHECK(!tp_cookie_check(&k, t0, &v6, ck, sizeof(ck)));
	CHECK(!tp_cookie_check(&other, t0, &a, ck, sizeof(ck)));
	memcpy(bad, ck, sizeof(bad));
	bad[TP_COOKIE_LEN - 1] ^= 0x80;
	CHECK(!tp_cookie_check(&k, t0, &a, bad, sizeof(bad)));
	CHECK(!tp_cookie_check(&k, t0, &a, ck, sizeof(ck) - 1));
	tp_cookie_make(&k, t0 + 5, &a, ck2);
	CHECK_MEM(ck, ck2, sizeof(ck));                     /* no rotation yet: the same */

	/* one rotation: still accepted (the previous secret), new cookies differ */
	CHECK(tp_cookie_check(&k, t0 + R, &a, ck, sizeof(ck)));
	tp_cookie_make(&k, t0 + R, &a, ck2);
	CHECK(memcmp(ck, ck2, sizeof(ck)) != 0);
	CHECK(tp_cookie_check(&k, t0 + R + 1, &a, ck2, sizeof(ck2)));

	/* a cookie made just before a rotation works just after it */
	tp_cookie_make(&k, t0 + 2 * R - 1, &a, ck2);
	CHECK(tp_cookie_check(&k, t0 + 2 * R, &a, ck2, sizeof(ck2)));

	/* two rotations: the first cookie is refused */
	CHECK(!tp_cookie_check(&k, t0 + 2 * R, &a, ck, sizeof(ck)));

	/* a long idle stretch replaces both secrets at the next use */
	tp_cookie_make(&k, t0 + 2 * R + 1, &a, ck);
	CHECK(tp_cookie_check(&k, t0 + 3 * R - 1, &a, ck, sizeof(ck)));
	CHECK(!tp_cookie_check(&k, t0 + 10 * R, &a, ck, sizeof(ck)));

	tp_cookie_wipe(&k);
	tp_cookie_wipe(&other);
	TP_TEST_END();
}
