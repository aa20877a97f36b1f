/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dtls_cookie.h - DTLS cookies (RFC 6347 §4.2.1): an HMAC-SHA256 of the
 * client's address (family, port, IP) under a secret that rotates every
 * TP_COOKIE_ROTATE_S. A cookie is accepted under the current or the previous
 * secret, so one handed out just before a rotation still works: a cookie stays
 * valid for at least TP_COOKIE_ROTATE_S and at most twice that.
 *
 * Pure computation on the caller's clock (rotation happens lazily, on the
 * first use at or after its time): no timer, nothing per client.
 */
#ifndef TP_DTLS_COOKIE_H
#define TP_DTLS_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "proto.h"

#define TP_COOKIE_LEN 16
#define TP_COOKIE_ROTATE_S 300

struct tp_cookie_keys {
	uint8_t cur[32], prev[32];
	time_t since;                 /* when cur was made */
};

/* Fresh random secrets (neither accepts any cookie made before). */
void tp_cookie_init(struct tp_cookie_keys *k, time_t now);
void tp_cookie_wipe(struct tp_cookie_keys *k);
void tp_cookie_make(struct tp_cookie_keys *k, time_t now, const struct tp_addr *client,
                    uint8_t out[TP_COOKIE_LEN]);
/* Constant time; false for any length but TP_COOKIE_LEN. */
bool tp_cookie_check(struct tp_cookie_keys *k, time_t now, const struct tp_addr *client,
                     const uint8_t *cookie, size_t len);

#endif
