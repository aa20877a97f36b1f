/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * auth.h - long-term credentials (RFC 8489 §9.2) for TURN requests.
 *
 * Nonces are stateless: "obMatJos2" + the security-feature bits + base64url of
 * (expiry, a keyed MAC of expiry | transport | client IP; see auth.c for why
 * not the port). Nothing is stored for a client before it authenticates.
 *
 * Credentials: static users (password or precomputed MD5 key), the demo user,
 * and TURN REST API usernames "<unix-expiry>[:<user>]" whose password is
 * base64(HMAC-SHA1(secret, username)), tried against every configured secret.
 */
#ifndef TP_AUTH_H
#define TP_AUTH_H

#include "server.h"

struct tp_auth {
	uint8_t key[TP_KEY_MAX];
	size_t key_len;
	uint16_t alg;               /* TP_PWALG_* */
	bool mi256;                 /* request (and so reply) used MESSAGE-INTEGRITY-SHA256 */
	size_t mi256_len;           /* its length, reused for the reply */
	char user[TP_MAX_USERNAME + 1];  /* authenticated username */
	size_t user_len;
	const char *quota_user;     /* into user: what quotas count */
	size_t quota_len;
};

/* tp_auth_request's "drop it unanswered" (not a STUN code), and rest_auth's
 * internal "integrity check failed". */
#define TP_AUTH_THROTTLED 1
#define TP_AUTH_BAD_INTEGRITY 2

/*
 * Authenticate request m from ft. Returns 0 with *a filled, or the STUN error
 * to answer with: 400 (attributes missing or inconsistent), 401 (no or wrong
 * credentials: answer with the challenge), 438 (stale nonce: answer with the
 * challenge); or TP_AUTH_THROTTLED: the source or user name has used up its
 * budget of failed checks, drop the request unanswered. *why gets a static
 * reason for the log.
 */
int tp_auth_request(struct tp_srv *s, const struct tp_5tuple *ft, const struct tp_stun_msg *m,
                    struct tp_auth *a, const char **why);

/* REALM, NONCE and PASSWORD-ALGORITHMS for a 401/438 answer. */
int tp_auth_put_challenge(struct tp_srv *s, const struct tp_5tuple *ft, struct tp_stun_wr *w);

/* Integrity for a reply to an authenticated request (MI or MI-SHA256 like the
 * request). */
int tp_auth_put_integrity(const struct tp_auth *a, struct tp_stun_wr *w);

#endif
