/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * turn_client.c - the STUN/TURN client state machine (see turn_client.h).
 *
 * A request goes unsigned until a challenge names the realm and nonce
 * (RFC 8489 §9.2.3.1); from then on it carries, after the caller's own
 * attributes: USERNAME or USERHASH, NONCE, REALM, PASSWORD-ALGORITHMS and
 * PASSWORD-ALGORITHM (when the server offered algorithms), then
 * MESSAGE-INTEGRITY or MESSAGE-INTEGRITY-SHA256 - the order of the RFC 5769
 * §2.4 and RFC 8489 Appendix B.1 vectors, which this client reproduces byte
 * for byte. Responses are read in the order of RFC 8489 §9.2.5: match,
 * bid-down check, integrity with the key the request was signed with, then
 * the challenge rules (retry a 401 only when something changed, always a
 * 438).
 */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "proto.h"
#include "rd.h"

#define COOKIE     "obMatJos2"
#define COOKIE_LEN 9

const char *tp_tc_res_str(enum tp_tc_res r)
{
	static const char *const names[] = {
		[TP_TC_SUCCESS] = "success",
		[TP_TC_ERROR] = "error response",
		[TP_TC_RETRY] = "challenge absorbed: send again",
		[TP_TC_AUTH_REJECTED] = "credentials rejected",
		[TP_TC_AUTH_UNUSABLE] = "challenge the client cannot answer",
		[TP_TC_DOWNGRADE] = "PASSWORD-ALGORITHMS stripped (bid-down)",
		[TP_TC_INTEGRITY_BAD] = "wrong MESSAGE-INTEGRITY",
		[TP_TC_UNAUTHENTICATED] = "response without MESSAGE-INTEGRITY",
		[TP_TC_NOT_RESPONSE] = "not a response",
		[TP_TC_NOT_OURS] = "response to no pending transaction",
		[TP_TC_MALFORMED] = "malformed message",
	};

	return (unsigned)r < sizeof(names) / sizeof(names[0]) && names[r] ? names[r] : "?";
}

void tp_tc_init(struct tp_tc *c, const struct tp_tc_opts *o)
{
	memset(c, 0, sizeof(*c));
	if (o)
		c->o = *o;
}

void tp_tc_clear(struct tp_tc *c)
{
	OPENSSL_cleanse(c, sizeof(*c));
}

static int set_user(struct tp_tc *c, const char *user, size_t len)
{
	if (len == 0)
		return -EINVAL;
	if (len > sizeof(c->user))
		return -ENAMETOOLONG;
	if (c->have_user && len == c->user_len && memcmp(user, c->user, len) == 0)
		return 0;
	memcpy(c->user, user, len);
	c->user_len = (uint16_t)len;
	c->have_user = true;
	c->key_ready = false;
	c->cred_gen++;
	return 0;
}

int tp_tc_set_password(struct tp_tc *c, const char *user, size_t user_len, const char *pass,
                       size_t pass_len)
{
	int rc;

	if (pass_len == 0)
		return -EINVAL;
	if (pass_len > sizeof(c->pass))
		return -ENAMETOOLONG;
	rc = set_user(c, user, user_len);
	if (rc)
		return rc;
	if (c->fixed_key || pass_len != c->pass_len || memcmp(pass, c->pass, pass_len) != 0) {
		OPENSSL_cleanse(c->pass, sizeof(c->pass));
		memcpy(c->pass, pass, pass_len);
		c->pass_len = (uint16_t)pass_len;
		c->fixed_key = false;
		c->key_ready = false;
		c->cred_gen++;
	}
	return 0;
}

int tp_tc_set_key(struct tp_tc *c, const char *user, size_t user_len, uint16_t alg,
                  const uint8_t *key, size_t key_len)
{
	int rc;

	if (!((alg == TP_PWALG_MD5 && key_len == 16) || (alg == TP_PWALG_SHA256 && key_len == 32)))
		return -EINVAL;
	rc = set_user(c, user, user_len);
	if (rc)
		return rc;
	if (c->fixed_key && c->key_alg == alg && c->key_len == key_len &&
	    memcmp(c->key, key, key_len) == 0)
		return 0;
	OPENSSL_cleanse(c->pass, sizeof(c->pass));
	c->pass_len = 0;
	memcpy(c->key, key, key_len);
	c->key_len = (uint8_t)key_len;
	c->key_alg = alg;
	c->key_ready = true;
	c->fixed_key = true;
	c->cred_gen++;
	return 0;
}

/* A PASSWORD-ALGORITHMS value as RFC 8489 §14.11 lays it out: entries of
 * algorithm, parameter length, parameters padded to 4 (the attribute's own
 * padding may stand in for the last). *first: the first one this client
 * supports (MD5 or SHA-256 without parameters), 0 if none. -EINVAL if
 * malformed. */
static int algs_scan(const uint8_t *v, size_t len, uint16_t *first)
{
	size_t off = 0;

	*first = 0;
	if (len == 0)
		return -EINVAL;
	while (off < len) {
		uint16_t alg;
		size_t plen;

		if (len - off < 4)
			return -EINVAL;
		alg = rd_u16(v + off);
		plen = rd_u16(v + off + 2);
		off += 4;
		if (len - off < plen)
			return -EINVAL;
		off += len - off < pad4(plen) ? len - off : pad4(plen);
		if (!*first && plen == 0 && (alg == TP_PWALG_MD5 || alg == TP_PWALG_SHA256))
			*first = alg;
	}
	return 0;
}

/* Takes realm (if given), nonce and the algorithm list; a new realm means a
 * new key and counts as changed credentials (a 401 may then be retried). */
static void take_challenge(struct tp_tc *c, const char *realm, size_t realm_len,
                           const char *nonce, size_t nonce_len, const uint8_t *algs,
                           size_t algs_len)
{
	if (realm && (realm_len != c->realm_len || memcmp(realm, c->realm, realm_len) != 0)) {
		memcpy(c->realm, realm, realm_len);
		c->realm_len = (uint16_t)realm_len;
		c->cred_gen++;
		if (!c->fixed_key)
			c->key_ready = false;
	}
	memcpy(c->nonce, nonce, nonce_len);
	c->nonce_len = (uint16_t)nonce_len;
	if (algs_len)
		memcpy(c->algs, algs, algs_len);
	c->algs_len = (uint8_t)algs_len;
}

int tp_tc_set_challenge(struct tp_tc *c, const char *realm, size_t realm_len,
                        const char *nonce, size_t nonce_len, const uint8_t *algs,
                        size_t algs_len)
{
	uint16_t first;

	if (realm_len == 0 || nonce_len == 0)
		return -EINVAL;
	if (realm_len > sizeof(c->realm) || nonce_len > sizeof(c->nonce) ||
	    algs_len > sizeof(c->algs))
		return -ENAMETOOLONG;
	if (algs_len && algs_scan(algs, algs_len, &first) != 0)
		return -EINVAL;
	take_challenge(c, realm, realm_len, nonce, nonce_len, algs, algs_len);
	return 0;
}

void tp_tc_challenge(const struct tp_tc *c, const char **realm, size_t *realm_len,
                     const char **nonce, size_t *nonce_len, const uint8_t **algs,
                     size_t *algs_len)
{
	if (realm)
		*realm = c->realm;
	if (realm_len)
		*realm_len = c->realm_len;
	if (nonce)
		*nonce = c->nonce;
	if (nonce_len)
		*nonce_len = c->nonce_len;
	if (algs)
		*algs = c->algs;
	if (algs_len)
		*algs_len = c->algs_len;
}

/* ---- requests ---- */

static struct tp_tc_pending *find(struct tp_tc *c, const uint8_t *tid)
{
	for (size_t i = 0; i < TP_TC_PENDING; i++)
		if (c->pend[i].used && memcmp(c->pend[i].tid, tid, TP_STUN_TID_LEN) == 0)
			return &c->pend[i];
	return NULL;
}

/* The slot for tid: the one it already has, or a free one; NULL when full. */
static struct tp_tc_pending *slot_for(struct tp_tc *c, const uint8_t *tid)
{
	struct tp_tc_pending *p = find(c, tid);

	for (size_t i = 0; !p && i < TP_TC_PENDING; i++)
		if (!c->pend[i].used)
			p = &c->pend[i];
	return p;
}

int tp_tc_begin(struct tp_tc *c, struct tp_stun_wr *w, uint8_t *buf, size_t cap,
                uint16_t method, const uint8_t *tid)
{
	uint8_t fresh[TP_STUN_TID_LEN];

	if (!tid) {
		if (tp_stun_new_tid(fresh) != 0)
			return -EIO;
		tid = fresh;
	}
	if (!slot_for(c, tid))
		return -EBUSY;
	return tp_stun_wr_init(w, buf, cap, method, TP_CLASS_REQUEST, tid);
}

/*
 * The algorithm to sign with, and whether PASSWORD-ALGORITHM names it (then
 * PASSWORD-ALGORITHMS is echoed too, if the server sent one). Unnamed means
 * MD5 to the server. A precomputed key brings its own algorithm.
 */
static int choose_alg(const struct tp_tc *c, uint16_t *alg, bool *named)
{
	uint16_t want = c->fixed_key ? c->key_alg : c->o.alg;
	bool legacy = c->o.alg == TP_TC_ALG_RFC5389;

	if (want == TP_TC_ALG_AUTO) {
		*alg = TP_PWALG_MD5;
		if (c->algs_len && (algs_scan(c->algs, c->algs_len, alg) != 0 || *alg == 0))
			return -ENOTSUP;
	} else if (want == TP_TC_ALG_RFC5389) {
		*alg = TP_PWALG_MD5;
	} else if (want == TP_PWALG_MD5 || want == TP_PWALG_SHA256) {
		*alg = want;
	} else {
		return -EINVAL;
	}
	*named = (c->algs_len && !legacy) || *alg != TP_PWALG_MD5;
	return 0;
}

static int derive_key(struct tp_tc *c, uint16_t alg)
{
	size_t len = 0;

	if (c->key_ready && c->key_alg == alg)
		return 0;
	if (c->fixed_key)
		return -EINVAL;
	if (tp_key_long_term((enum tp_pw_alg)alg, c->user, c->user_len, c->realm, c->realm_len,
	                     c->pass, c->pass_len, c->key, &len) != TP_P_OK)
		return -EINVAL;
	c->key_len = (uint8_t)len;
	c->key_alg = alg;
	c->key_ready = true;
	return 0;
}

static int put_credentials(struct tp_tc *c, struct tp_stun_wr *w)
{
	uint16_t alg;
	bool named, mi256;
	int rc = choose_alg(c, &alg, &named);

	if (rc == 0)
		rc = derive_key(c, alg);
	if (rc)
		return rc;
	if (c->o.userhash) {
		uint8_t h[32];

		tp_userhash(c->user, c->user_len, c->realm, c->realm_len, h);
		tp_stun_put(w, TP_ATTR_USERHASH, h, sizeof(h));
	} else {
		tp_stun_put_str(w, TP_ATTR_USERNAME, c->user, c->user_len);
	}
	tp_stun_put_str(w, TP_ATTR_NONCE, c->nonce, c->nonce_len);
	tp_stun_put_str(w, TP_ATTR_REALM, c->realm, c->realm_len);
	if (named && c->algs_len)
		tp_stun_put(w, TP_ATTR_PASSWORD_ALGORITHMS, c->algs, c->algs_len);
	if (named)
		tp_stun_put_pw_alg(w, alg);
	w->crypto = c->o.crypto;
	mi256 = c->o.mi == TP_TC_MI_SHA256 ||
	        (c->o.mi == TP_TC_MI_AUTO && c->algs_len && c->o.alg != TP_TC_ALG_RFC5389);
	if (mi256)
		return tp_stun_put_mi256(w, c->key, c->key_len, 32);
	return tp_stun_put_mi(w, c->key, c->key_len);
}

long tp_tc_finish(struct tp_tc *c, struct tp_stun_wr *w, unsigned flags)
{
	bool sign = !(flags & TP_TC_NOAUTH) && c->have_user && c->nonce_len > 0;
	struct tp_tc_pending *p;
	const uint8_t *tid;
	long n;
	int rc;

	if (w->err)
		return w->err;
	if (w->classic || w->len < TP_STUN_HDR_LEN)
		return -EINVAL;
	tid = w->buf + 8;
	p = slot_for(c, tid);
	if (!p)
		return -EBUSY;
	if (sign) {
		rc = put_credentials(c, w);
		if (rc)
			return rc;
	}
	if (c->o.fingerprint)
		tp_stun_put_fingerprint(w);
	n = tp_stun_wr_finish(w);
	if (n < 0)
		return n;
	memset(p, 0, sizeof(*p));
	p->used = true;
	p->signed_ = sign;
	p->method = tp_stun_type_method(rd_u16(w->buf));
	memcpy(p->tid, tid, TP_STUN_TID_LEN);
	if (sign) {
		memcpy(p->key, c->key, c->key_len);
		p->key_len = c->key_len;
		p->cred_gen = c->cred_gen;
	}
	return n;
}

/* ---- responses ---- */

static void end(struct tp_tc_pending *p)
{
	OPENSSL_cleanse(p, sizeof(*p));
}

bool tp_tc_cancel(struct tp_tc *c, const uint8_t tid[TP_STUN_TID_LEN])
{
	struct tp_tc_pending *p = find(c, tid);

	if (p)
		end(p);
	return p != NULL;
}

size_t tp_tc_pending(const struct tp_tc *c)
{
	size_t n = 0;

	for (size_t i = 0; i < TP_TC_PENDING; i++)
		n += c->pend[i].used;
	return n;
}

static int b64val(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+' || ch == '-')
		return 62;
	if (ch == '/' || ch == '_')
		return 63;
	return -1;
}

/*
 * Does the nonce cookie (RFC 8489 §9.2: "obMatJos2" + the 24 security-feature
 * bits in 4 base64 characters) say "Password algorithms"? That is bit 0 of
 * §18.1, which the RFC's prose counts from the left and verified erratum 6290
 * (with the Appendix B.1 vector) from the right: either position counts, so
 * that a server of either reading is held to the list it advertised.
 */
static bool cookie_offers_algs(const char *nonce, size_t len)
{
	uint32_t bits = 0;

	if (len < COOKIE_LEN + 4 || memcmp(nonce, COOKIE, COOKIE_LEN) != 0)
		return false;
	for (size_t i = 0; i < 4; i++) {
		int v = b64val(nonce[COOKIE_LEN + i]);

		if (v < 0)
			return false;
		bits = bits << 6 | (uint32_t)v;
	}
	return (bits & 0x800001u) != 0;
}

static void fill(struct tp_tc_resp *r)
{
	const struct tp_stun_msg *m = &r->m;
	const struct tp_stun_attr *a = NULL;

	r->method = m->method;
	if (m->cls == TP_CLASS_ERROR) {
		struct tp_error_code ec = { .code = 600 };

		a = tp_stun_find(m, TP_ATTR_ERROR_CODE);
		if (a)
			tp_attr_error_code(a, &ec);
		r->code = ec.code;
		r->reason = ec.reason;
		r->reason_len = ec.reason_len;
	}
	a = NULL;
	while (r->nrelayed < 2 && (a = tp_stun_find_next(m, TP_ATTR_XOR_RELAYED_ADDRESS, a)))
		if (tp_attr_addr(m, a, &r->relayed[r->nrelayed]) == TP_P_OK)
			r->nrelayed++;
	a = tp_stun_find(m, TP_ATTR_XOR_MAPPED_ADDRESS);
	if (!a)
		a = tp_stun_find(m, TP_ATTR_MAPPED_ADDRESS);
	r->has_mapped = a && tp_attr_addr(m, a, &r->mapped) == TP_P_OK;
	a = tp_stun_find(m, TP_ATTR_LIFETIME);
	if (a) {
		r->has_lifetime = true;
		r->lifetime = tp_attr_u32(a);
	}
}

/* RFC 8489 §9.2.5 for a 401 or 438 to transaction p. */
static enum tp_tc_res challenge(struct tp_tc *c, const struct tp_tc_pending *p,
                                const struct tp_tc_resp *r)
{
	const struct tp_stun_attr *realm = tp_stun_find(&r->m, TP_ATTR_REALM);
	const struct tp_stun_attr *nonce = tp_stun_find(&r->m, TP_ATTR_NONCE);
	const struct tp_stun_attr *algs = tp_stun_find(&r->m, TP_ATTR_PASSWORD_ALGORITHMS);
	const char *rs = NULL, *ns;
	size_t rlen = 0, nlen;
	uint16_t first;

	if (!nonce || (!realm && (r->code == 401 || c->realm_len == 0)))
		return TP_TC_AUTH_UNUSABLE;
	tp_attr_str(nonce, &ns, &nlen);
	if (realm)
		tp_attr_str(realm, &rs, &rlen);
	if (nlen == 0 || nlen > sizeof(c->nonce) ||
	    (realm && (rlen == 0 || rlen > sizeof(c->realm))) ||
	    (algs && algs->len > sizeof(c->algs)))
		return TP_TC_AUTH_UNUSABLE;
	take_challenge(c, rs, rlen, ns, nlen, algs ? algs->val : NULL, algs ? algs->len : 0);
	if (!c->have_user)
		return TP_TC_AUTH_UNUSABLE;
	if (c->o.alg == TP_TC_ALG_AUTO && !c->fixed_key && algs &&
	    (algs_scan(algs->val, algs->len, &first) != 0 || first == 0))
		return TP_TC_AUTH_UNUSABLE;
	/* a 401 to signed credentials is retried only if they changed since */
	if (r->code == 401 && p->signed_ && p->cred_gen == c->cred_gen)
		return TP_TC_AUTH_REJECTED;
	return TP_TC_RETRY;
}

enum tp_tc_res tp_tc_recv(struct tp_tc *c, const uint8_t *b, size_t n, struct tp_tc_resp *r)
{
	struct tp_tc_pending *p;
	const struct tp_stun_attr *nonce;
	enum tp_tc_res res;
	bool is_challenge;

	memset(r, 0, sizeof(*r));
	r->perr = tp_stun_decode(&r->m, b, n, &r->why);
	if (r->perr != TP_P_OK)
		return TP_TC_MALFORMED;
	if (r->m.cls != TP_CLASS_SUCCESS && r->m.cls != TP_CLASS_ERROR)
		return TP_TC_NOT_RESPONSE;
	p = r->m.classic ? NULL : find(c, r->m.tid);
	if (!p || p->method != r->m.method)
		return TP_TC_NOT_OURS;
	fill(r);
	is_challenge = r->m.cls == TP_CLASS_ERROR && (r->code == 401 || r->code == 438);
	nonce = tp_stun_find(&r->m, TP_ATTR_NONCE);
	if (is_challenge && nonce && !tp_stun_find(&r->m, TP_ATTR_PASSWORD_ALGORITHMS)) {
		const char *s;
		size_t len;

		tp_attr_str(nonce, &s, &len);
		if (cookie_offers_algs(s, len)) {
			end(p);
			return TP_TC_DOWNGRADE;
		}
	}
	/* a challenge is unauthenticated by nature: it is not checked; any other
	 * answer to a signed request must carry the request key's MAC */
	if (p->signed_ && !is_challenge) {
		enum tp_perr e = TP_P_NO_INTEGRITY;

		if (r->m.mi256 >= 0)
			e = tp_stun_verify_mi256_with(c->o.crypto, &r->m, p->key, p->key_len);
		else if (r->m.mi >= 0)
			e = tp_stun_verify_mi_with(c->o.crypto, &r->m, p->key, p->key_len);
		if (e == TP_P_INTEGRITY_BAD)
			return TP_TC_INTEGRITY_BAD;
		if (e != TP_P_OK)
			return TP_TC_UNAUTHENTICATED;
		r->authenticated = true;
	}
	if (is_challenge)
		res = challenge(c, p, r);
	else
		res = r->m.cls == TP_CLASS_SUCCESS ? TP_TC_SUCCESS : TP_TC_ERROR;
	end(p);
	return res;
}
