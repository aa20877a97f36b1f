/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * auth.c - long-term credential mechanism and stateless nonces.
 */
#include <errno.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include "auth.h"
#include "buckets.h"
#include "shared.h"

#define NONCE_COOKIE "obMatJos2"
/* Security features (RFC 8489 §18.1): password algorithms (bit 0) | username
 * anonymity (bit 1), numbered from the right as verified erratum 6290 says
 * (and the Appendix B.1 vector shows): the 24 bits 0x000003 in base64. */
#define NONCE_FEATURES "AAAD"
#define NONCE_PREFIX_LEN 13
#define NONCE_MAC_LEN 12
#define NONCE_BIN_LEN (4 + NONCE_MAC_LEN)

static const uint16_t server_algs[] = { TP_PWALG_MD5, TP_PWALG_SHA256 };
/* PASSWORD-ALGORITHMS as tp_auth_put_challenge writes it: each algorithm with
 * an empty parameter list */
static const uint8_t server_algs_wire[] = { 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00 };

/*
 * The nonce's tag: SipHash-2-4 with 128-bit output (a keyed PRF, libsodium's
 * crypto_shorthash_siphashx24) over expiry, transport, address family and
 * client IP, truncated to 96 bits. Forging one is a 2^-96 guess per try, and
 * tries are rate-limited per source; it costs ~50 ns where HMAC-SHA256 costs
 * ~1 us on every authenticated request.
 *
 * The client's port is deliberately left out. A client legitimately talks
 * from several ports of one address with the credentials it learnt once: RFC
 * 6062 data connections (turnutils_uclient and others send ConnectionBind on
 * a new TCP connection with the control connection's NONCE), a new TCP
 * connection after a drop, and mobility (RFC 8016) after a NAT rebinding. What
 * the binding to the address buys is that a nonce observed elsewhere is no
 * use from another host; the port would add nothing an on-path observer could
 * not copy. The nonce stays stateless: nothing is stored per client.
 */
static void nonce_mac(const struct tp_srv *s, const struct tp_5tuple *ft, uint32_t expiry,
                      uint8_t mac[NONCE_MAC_LEN])
{
	uint8_t in[4 + 1 + 1 + 16], full[crypto_shorthash_siphashx24_BYTES];
	size_t iplen = ft->client.family == AF_INET6 ? 16 : 4;

	in[0] = (uint8_t)(expiry >> 24);
	in[1] = (uint8_t)(expiry >> 16);
	in[2] = (uint8_t)(expiry >> 8);
	in[3] = (uint8_t)expiry;
	in[4] = ft->transport;
	in[5] = (uint8_t)ft->client.family;
	memcpy(in + 6, ft->client.ip, iplen);
	crypto_shorthash_siphashx24(full, in, 6 + iplen, s->sh->nonce_key);
	memcpy(mac, full, NONCE_MAC_LEN);
}

/* Writes a NUL-terminated nonce of at most 64 bytes. */
static void nonce_make(const struct tp_srv *s, const struct tp_5tuple *ft, char out[64])
{
	uint8_t bin[NONCE_BIN_LEN];
	uint32_t expiry = (uint32_t)s->io->wall() + s->conf->nonce_lifetime;

	bin[0] = (uint8_t)(expiry >> 24);
	bin[1] = (uint8_t)(expiry >> 16);
	bin[2] = (uint8_t)(expiry >> 8);
	bin[3] = (uint8_t)expiry;
	nonce_mac(s, ft, expiry, bin + 4);
	memcpy(out, NONCE_COOKIE NONCE_FEATURES, NONCE_PREFIX_LEN);
	sodium_bin2base64(out + NONCE_PREFIX_LEN, 64 - NONCE_PREFIX_LEN, bin, sizeof(bin),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* 0: valid; 1: ours but expired (438); -1: not ours or forged (438 as well). */
static int nonce_check(const struct tp_srv *s, const struct tp_5tuple *ft, const char *n,
                       size_t len)
{
	uint8_t bin[NONCE_BIN_LEN], mac[NONCE_MAC_LEN];
	size_t blen;
	uint32_t expiry;

	if (len <= NONCE_PREFIX_LEN || len > 64 ||
	    memcmp(n, NONCE_COOKIE NONCE_FEATURES, NONCE_PREFIX_LEN) != 0)
		return -1;
	if (sodium_base642bin(bin, sizeof(bin), n + NONCE_PREFIX_LEN, len - NONCE_PREFIX_LEN,
	                      NULL, &blen, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    blen != sizeof(bin))
		return -1;
	expiry = (uint32_t)bin[0] << 24 | (uint32_t)bin[1] << 16 | (uint32_t)bin[2] << 8 | bin[3];
	nonce_mac(s, ft, expiry, mac);
	if (sodium_memcmp(mac, bin + 4, NONCE_MAC_LEN) != 0)
		return -1;
	return (uint64_t)s->io->wall() > expiry ? 1 : 0;
}

int tp_auth_put_challenge(struct tp_srv *s, const struct tp_5tuple *ft, struct tp_stun_wr *w)
{
	char nonce[64];

	nonce_make(s, ft, nonce);
	tp_stun_put_str(w, TP_ATTR_REALM, s->conf->realm, strlen(s->conf->realm));
	tp_stun_put_str(w, TP_ATTR_NONCE, nonce, strlen(nonce));
	return tp_stun_put_pw_algs(w, server_algs, 2);
}

int tp_auth_put_integrity(const struct tp_auth *a, struct tp_stun_wr *w)
{
	if (a->mi256)
		return tp_stun_put_mi256(w, a->key, a->key_len, a->mi256_len);
	return tp_stun_put_mi(w, a->key, a->key_len);
}

/* RFC 8489 §9.2.4: PASSWORD-ALGORITHMS must repeat the value we sent byte
 * for byte (parameters included: a downgrade cannot strip one), and
 * PASSWORD-ALGORITHM must be one of them; neither means MD5; one without the
 * other is an error. */
static int pick_alg(const struct tp_stun_msg *m, uint16_t *alg)
{
	const struct tp_stun_attr *algs = tp_stun_find(m, TP_ATTR_PASSWORD_ALGORITHMS);
	const struct tp_stun_attr *one = tp_stun_find(m, TP_ATTR_PASSWORD_ALGORITHM);

	if (!algs && !one) {
		*alg = TP_PWALG_MD5;
		return 0;
	}
	if (!algs || !one)
		return -1;
	if (algs->len != sizeof(server_algs_wire) ||
	    memcmp(algs->val, server_algs_wire, sizeof(server_algs_wire)) != 0)
		return -1;
	if (one->len != 4 || one->val[2] != 0 || one->val[3] != 0)
		return -1; /* MD5 and SHA-256 take no parameters */
	*alg = tp_attr_pw_alg(one);
	return *alg == TP_PWALG_MD5 || *alg == TP_PWALG_SHA256 ? 0 : -1;
}

static bool user_key(const struct tp_user *u, uint16_t alg, struct tp_auth *a)
{
	if (alg == TP_PWALG_SHA256) {
		if (!u->has_sha256)
			return false;
		memcpy(a->key, u->key_sha256, 32);
		a->key_len = 32;
	} else {
		memcpy(a->key, u->key_md5, 16);
		a->key_len = 16;
	}
	return true;
}

/* A static user (the demo user among them) by name or by USERHASH. */
static const struct tp_user *find_static(struct tp_srv *s, const struct tp_stun_msg *m)
{
	const struct tp_conf *c = s->conf;
	const struct tp_stun_attr *un = tp_stun_find(m, TP_ATTR_USERNAME);
	const struct tp_stun_attr *uh = tp_stun_find(m, TP_ATTR_USERHASH);

	if (un) {
		const char *name;
		size_t len;

		tp_attr_str(un, &name, &len);
		return tp_conf_user(c, name, len);
	}
	if (!uh || uh->len != 32)
		return NULL;
	return tp_conf_user_by_hash(c, uh->val);
}

static enum tp_perr verify(struct tp_srv *s, const struct tp_stun_msg *m,
                           const struct tp_auth *a)
{
	return a->mi256 ? tp_stun_verify_mi256_with(s->crypto, m, a->key, a->key_len)
	                : tp_stun_verify_mi_with(s->crypto, m, a->key, a->key_len);
}

/* TURN REST API: "<expiry>[:<user>]", password base64(HMAC-SHA1(secret, username)). */
static int rest_auth(struct tp_srv *s, const struct tp_stun_msg *m, const char *name,
                     size_t len, uint16_t alg, struct tp_auth *a, const char **why)
{
	const struct tp_conf *c = s->conf;
	unsigned long long expiry = 0;
	size_t i = 0;

	for (; i < len && name[i] >= '0' && name[i] <= '9'; i++) {
		if (expiry > 100000000000ULL)
			return 401;
		expiry = expiry * 10 + (unsigned)(name[i] - '0');
	}
	if (i == 0 || (i < len && name[i] != ':')) {
		*why = "unknown user";
		return 401;
	}
	if (expiry < (unsigned long long)s->io->wall()) {
		s->stats.auth_fail_expired++;
		*why = "REST credential expired (check the client's clock and the TTL)";
		return 401;
	}
	if (c->max_credential_lifetime &&
	    expiry > (unsigned long long)s->io->wall() + c->max_credential_lifetime) {
		s->stats.auth_fail_expired++;
		*why = "REST credential valid for longer than max-credential-lifetime";
		return 401;
	}
	const char *const *extra;
	size_t nextra = s->io->secrets(s, &extra);

	for (size_t k = 0; k < c->nsecrets + nextra; k++) {
		const char *secret = k < c->nsecrets ? c->secrets[k] : extra[k - c->nsecrets];
		uint8_t mac[EVP_MAX_MD_SIZE];
		unsigned maclen = 0;
		char pass[64];

		if (!HMAC(EVP_sha1(), secret, (int)strlen(secret), (const uint8_t *)name, len, mac,
		          &maclen))
			continue;
		sodium_bin2base64(pass, sizeof(pass), mac, maclen, sodium_base64_VARIANT_ORIGINAL);
		if (tp_key_long_term(alg, name, len, c->realm, strlen(c->realm), pass, strlen(pass),
		                     a->key, &a->key_len) != TP_P_OK)
			continue;
		if (verify(s, m, a) == TP_P_OK)
			return 0;
	}
	*why = "wrong credentials (REST)";
	return TP_AUTH_BAD_INTEGRITY;
}

/* USERNAME is UTF-8 after OpaqueString (RFC 8265): no control characters. A
 * NUL in it would also cut the name short where it is kept as a C string. */
static bool name_clean(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return false;
	return true;
}

/*
 * Online password guessing: every failed check is charged to the source
 * (IPv6 per prefix) and to the user name it was for, in budgets the workers
 * share (auth-fail-burst at once, then auth-fail-rate per minute). A request
 * carrying MESSAGE-INTEGRITY whose source or name has spent its budget is not
 * checked at all until the budget refills. A client that mistyped a password
 * once never meets this; a guesser gets auth-fail-rate tries a minute.
 */
static uint64_t fail_key_user(const struct tp_srv *s, const struct tp_stun_msg *m)
{
	const struct tp_stun_attr *un = tp_stun_find(m, TP_ATTR_USERNAME);
	const struct tp_stun_attr *uh = tp_stun_find(m, TP_ATTR_USERHASH);
	const struct tp_stun_attr *a = un ? un : uh;

	return a ? tp_shared_hash(s->sh, a->val, a->len) ^ (un ? 0 : 1) : 0;
}

static bool guard_allows(struct tp_srv *s, const struct tp_5tuple *ft, const struct tp_stun_msg *m)
{
	const struct tp_conf *c = s->conf;
	uint64_t now = tp_now_ms(s), ku = fail_key_user(s, m);
	uint32_t per_min = c->auth_fail_rate, burst = c->auth_fail_burst;

	if (per_min == 0)
		return true;
	return tp_buckets_has(s->sh->fail_src, tp_shared_source_key(s->sh, c, &ft->client, 'F'),
	                      per_min, burst, now) &&
	       (!ku || tp_buckets_has(s->sh->fail_user, ku, per_min, burst, now));
}

static void guard_charge(struct tp_srv *s, const struct tp_5tuple *ft, const struct tp_stun_msg *m)
{
	const struct tp_conf *c = s->conf;
	uint64_t now = tp_now_ms(s), ku = fail_key_user(s, m);

	if (c->auth_fail_rate == 0)
		return;
	tp_buckets_take(s->sh->fail_src, tp_shared_source_key(s->sh, c, &ft->client, 'F'),
	                c->auth_fail_rate, c->auth_fail_burst, 1, now);
	if (ku)
		tp_buckets_take(s->sh->fail_user, ku, c->auth_fail_rate, c->auth_fail_burst, 1, now);
}

int tp_auth_request(struct tp_srv *s, const struct tp_5tuple *ft, const struct tp_stun_msg *m,
                    struct tp_auth *a, const char **why)
{
	const struct tp_conf *c = s->conf;
	const struct tp_stun_attr *un = tp_stun_find(m, TP_ATTR_USERNAME);
	const struct tp_stun_attr *uh = tp_stun_find(m, TP_ATTR_USERHASH);
	const struct tp_stun_attr *realm = tp_stun_find(m, TP_ATTR_REALM);
	const struct tp_stun_attr *nonce = tp_stun_find(m, TP_ATTR_NONCE);
	const struct tp_user *u;
	const char *str;
	size_t len;
	int rc;

	memset(a, 0, sizeof(*a));
	if (m->mi < 0 && m->mi256 < 0) {
		*why = "no credentials";
		return 401;
	}
	if ((!un && !uh) || !realm || !nonce) {
		*why = "USERNAME/USERHASH, REALM or NONCE missing";
		return 400;
	}
	if (un && !name_clean((const char *)un->val, un->len)) {
		*why = "USERNAME contains control characters";
		return 400;
	}
	if (pick_alg(m, &a->alg) != 0) {
		*why = "PASSWORD-ALGORITHM(S) inconsistent with ours";
		return 400;
	}
	tp_attr_str(nonce, &str, &len);
	rc = nonce_check(s, ft, str, len);
	if (rc != 0) {
		s->stats.auth_fail_nonce++;
		*why = rc > 0 ? "nonce expired" : "nonce not ours";
		return 438;
	}
	tp_attr_str(realm, &str, &len);
	if (len != strlen(c->realm) || memcmp(str, c->realm, len) != 0) {
		*why = "wrong realm";
		return 401;
	}
	a->mi256 = m->mi256 >= 0;
	if (a->mi256)
		a->mi256_len = m->attrs[m->mi256].len;
	if (!guard_allows(s, ft, m)) {
		s->stats.auth_throttled++;
		*why = "too many failed password checks from this source or for this user";
		return TP_AUTH_THROTTLED;
	}

	u = find_static(s, m);
	if (u) {
		if (!user_key(u, a->alg, a)) {
			*why = "user has only an MD5 key but SHA-256 was chosen";
			return 401;
		}
		if (verify(s, m, a) != TP_P_OK) {
			s->stats.auth_fail_integrity++;
			guard_charge(s, ft, m);
			*why = "wrong password";
			return 401;
		}
		a->user_len = strlen(u->name);
		memcpy(a->user, u->name, a->user_len + 1);
	} else {
		const char *name = NULL;
		const char *const *extra;
		size_t nlen = 0, nextra;

		/* the cluster store's users (coturn's userdb), by name or USERHASH */
		if (un)
			tp_attr_str(un, &name, &nlen);
		else if (uh && uh->len == 32 && s->io->user_by_hash(s, uh->val, &name, &nlen) != 0)
			name = NULL;
		rc = name && nlen <= TP_MAX_USERNAME
		             ? s->io->user_key(s, name, nlen, a->alg, a->key, &a->key_len)
		             : -ENOENT;
		if (rc == -ENOKEY) {
			*why = "user has only an MD5 key but SHA-256 was chosen";
			return 401;
		}
		if (rc == 0) {
			if (verify(s, m, a) != TP_P_OK) {
				s->stats.auth_fail_integrity++;
				guard_charge(s, ft, m);
				*why = "wrong password";
				return 401;
			}
			memcpy(a->user, name, nlen);
			a->user[nlen] = '\0';
			a->user_len = nlen;
			a->quota_user = a->user;
			a->quota_len = nlen;
			return 0;
		}
		nextra = s->io->secrets(s, &extra);
		if (!un || (c->nsecrets == 0 && nextra == 0)) {
			s->stats.auth_fail_unknown++;
			guard_charge(s, ft, m);
			*why = "unknown user";
			return 401;
		}
		tp_attr_str(un, &str, &len);
		rc = rest_auth(s, m, str, len, a->alg, a, why);
		if (rc == TP_AUTH_BAD_INTEGRITY) {
			s->stats.auth_fail_integrity++;
			guard_charge(s, ft, m);
			return 401;
		}
		if (rc)
			return rc;
		memcpy(a->user, str, len);
		a->user[len] = '\0';
		a->user_len = len;
	}
	/* quotas count the person: for REST names, the part after the ':' */
	const char *colon = memchr(a->user, ':', a->user_len);

	a->quota_user = colon && !u ? colon + 1 : a->user;
	a->quota_len = a->user_len - (size_t)(a->quota_user - a->user);
	return 0;
}
