/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dtls_cookie.c - stateless DTLS cookies with a rotating secret.
 */
#include <string.h>

#include <sodium.h>

#include "dtls_cookie.h"

void tp_cookie_init(struct tp_cookie_keys *k, time_t now)
{
	randombytes_buf(k->cur, sizeof(k->cur));
	randombytes_buf(k->prev, sizeof(k->prev));
	k->since = now;
}

void tp_cookie_wipe(struct tp_cookie_keys *k)
{
	sodium_memzero(k, sizeof(*k));
}

static void rotate(struct tp_cookie_keys *k, time_t now)
{
	if (now - k->since < TP_COOKIE_ROTATE_S)
		return;
	if (now - k->since >= 2 * TP_COOKIE_ROTATE_S) {
		/* two periods passed: the current secret is past its time too */
		tp_cookie_init(k, now);
		return;
	}
	memcpy(k->prev, k->cur, sizeof(k->prev));
	randombytes_buf(k->cur, sizeof(k->cur));
	k->since = now;
}

static void mac(const uint8_t key[32], const struct tp_addr *a, uint8_t out[TP_COOKIE_LEN])
{
	uint8_t in[4 + 16], h[crypto_auth_hmacsha256_BYTES];

	/* field by field: no padding bytes of the struct in the MAC */
	in[0] = (uint8_t)(a->family >> 8);
	in[1] = (uint8_t)a->family;
	in[2] = (uint8_t)(a->port >> 8);
	in[3] = (uint8_t)a->port;
	memcpy(in + 4, a->ip, 16);
	crypto_auth_hmacsha256(h, in, sizeof(in), key);
	memcpy(out, h, TP_COOKIE_LEN);
}

void tp_cookie_make(struct tp_cookie_keys *k, time_t now, const struct tp_addr *client,
                    uint8_t out[TP_COOKIE_LEN])
{
	rotate(k, now);
	mac(k->cur, client, out);
}

bool tp_cookie_check(struct tp_cookie_keys *k, time_t now, const struct tp_addr *client,
                     const uint8_t *cookie, size_t len)
{
	uint8_t want[TP_COOKIE_LEN];
	bool ok;

	if (len != TP_COOKIE_LEN)
		return false;
	rotate(k, now);
	mac(k->cur, client, want);
	ok = sodium_memcmp(cookie, want, TP_COOKIE_LEN) == 0;
	mac(k->prev, client, want);
	ok |= sodium_memcmp(cookie, want, TP_COOKIE_LEN) == 0;
	return ok;
}
