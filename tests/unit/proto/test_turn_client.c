/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_turn_client.c - the TURN client state machine (proto/turn_client.c)
 * against responses built with the writer, as a server would send them: the
 * RFC 5769 §2.4 and RFC 8489 B.1 requests byte for byte, 401 then success,
 * 438 with a new nonce, the choice of the password algorithm, USERHASH,
 * wrong or missing integrity, responses to other transactions, the bid-down
 * check of the nonce cookie, and the limits of the API.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "proto.h"
#include "tp_test.h"

/* U+30DE U+30C8 U+30EA U+30C3 U+30AF U+30B9 */
static const char matrix_user[] = "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9";
/* the server's nonce: the cookie with "password algorithms" and "username
 * anonymity" (as server/auth.c writes it), then opaque bytes */
static const char nonce1[] = "obMatJos2AAADfirstnonce";
static const char nonce2[] = "obMatJos2AAADsecondnonce";
static const uint8_t algs_md5_sha[] = { 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00 };

static size_t load_hex(const char *name, uint8_t *out, size_t cap)
{
	char path[512], line[1024];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", TP_VECTORS_DIR, name);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		exit(1);
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = line;

		if (*p == '#')
			continue;
		for (;;) {
			char *end;
			unsigned long v;

			while (*p == ' ' || *p == '\t')
				p++;
			if (*p == '\n' || *p == '\0')
				break;
			v = strtoul(p, &end, 16);
			if (end != p + 2 || n == cap) {
				fprintf(stderr, "bad fixture %s\n", path);
				exit(1);
			}
			out[n++] = (uint8_t)v;
			p = end;
		}
	}
	fclose(f);
	return n;
}

/* ---- a pretend server ---- */

struct answer {
	uint8_t cls;
	uint16_t code;               /* error responses */
	const char *realm, *nonce;   /* challenges */
	const uint8_t *algs;
	size_t algs_len;
	const uint8_t *key;          /* sign with this key (NULL: unsigned) */
	size_t key_len;
	bool mi256;
	bool relayed;                /* XOR-RELAYED-ADDRESS x2, XOR-MAPPED, LIFETIME */
	const uint8_t *tid;          /* instead of the request's */
	uint16_t method;             /* instead of the request's (0: same) */
};

static size_t answer(uint8_t *out, size_t cap, const uint8_t *req, size_t req_len,
                     const struct answer *a)
{
	struct tp_stun_msg m;
	struct tp_stun_wr w;
	long n;

	CHECK_EQ(tp_stun_decode(&m, req, req_len, NULL), TP_P_OK);
	tp_stun_wr_init(&w, out, cap, a->method ? a->method : m.method, a->cls,
	                a->tid ? a->tid : m.tid);
	if (a->cls == TP_CLASS_ERROR)
		tp_stun_put_error(&w, a->code, tp_error_reason(a->code));
	if (a->realm)
		tp_stun_put_str(&w, TP_ATTR_REALM, a->realm, strlen(a->realm));
	if (a->nonce)
		tp_stun_put_str(&w, TP_ATTR_NONCE, a->nonce, strlen(a->nonce));
	if (a->algs)
		tp_stun_put(&w, TP_ATTR_PASSWORD_ALGORITHMS, a->algs, a->algs_len);
	if (a->relayed) {
		struct tp_addr r4, r6, mapped;

		tp_addr_parse(&r4, "192.0.2.1:49152", 0);
		tp_addr_parse(&r6, "[2001:db8::1]:49153", 0);
		tp_addr_parse(&mapped, "198.51.100.7:5000", 0);
		tp_stun_put_addr(&w, TP_ATTR_XOR_RELAYED_ADDRESS, &r4);
		tp_stun_put_addr(&w, TP_ATTR_XOR_RELAYED_ADDRESS, &r6);
		tp_stun_put_addr(&w, TP_ATTR_XOR_MAPPED_ADDRESS, &mapped);
		tp_stun_put_u32(&w, TP_ATTR_LIFETIME, 600);
	}
	if (a->key && a->mi256)
		tp_stun_put_mi256(&w, a->key, a->key_len, 32);
	else if (a->key)
		tp_stun_put_mi(&w, a->key, a->key_len);
	n = tp_stun_wr_finish(&w);
	CHECK(n > 0);
	return n > 0 ? (size_t)n : 0;
}

static long request(struct tp_tc *c, uint8_t *buf, size_t cap, uint16_t method,
                    const uint8_t *tid, unsigned flags)
{
	struct tp_stun_wr w;
	int rc = tp_tc_begin(c, &w, buf, cap, method, tid);

	if (rc)
		return rc;
	if (method == TP_METHOD_ALLOCATE)
		tp_stun_put_transport(&w, TP_TRANSPORT_UDP);
	return tp_tc_finish(c, &w, flags);
}

static void key_of(uint16_t alg, const char *user, const char *realm, const char *pass,
                   uint8_t key[TP_KEY_MAX], size_t *len)
{
	CHECK_EQ(tp_key_long_term(alg, user, strlen(user), realm, strlen(realm), pass,
	                          strlen(pass), key, len), TP_P_OK);
}

static bool has_str(const struct tp_stun_msg *m, uint16_t type, const char *want)
{
	const struct tp_stun_attr *a = tp_stun_find(m, type);
	const char *s;
	size_t len;

	if (!a)
		return false;
	tp_attr_str(a, &s, &len);
	return len == strlen(want) && memcmp(s, want, len) == 0;
}

/* ---- the vectors ---- */

static void test_vectors(void)
{
	uint8_t v[256], out[256];
	size_t n = load_hex("rfc5769-2.4-long-term.hex", v, sizeof(v));
	struct tp_tc_opts o = { .alg = TP_TC_ALG_RFC5389 };
	struct tp_tc c;

	/* RFC 5769 §2.4: USERNAME, NONCE, REALM, MESSAGE-INTEGRITY */
	tp_tc_init(&c, &o);
	CHECK_EQ(tp_tc_set_password(&c, matrix_user, strlen(matrix_user), "TheMatrIX", 9), 0);
	CHECK_EQ(tp_tc_set_challenge(&c, "example.org", 11, "f//499k954d6OL34oL9FSTvy64sA", 28,
	                             NULL, 0), 0);
	CHECK_EQ(request(&c, out, sizeof(out), TP_METHOD_BINDING, v + 8, 0), (long)n);
	CHECK_MEM(out, v, n);
	/* the automatic choice is the same when the server named no algorithm */
	tp_tc_init(&c, NULL);
	tp_tc_set_password(&c, matrix_user, strlen(matrix_user), "TheMatrIX", 9);
	tp_tc_set_challenge(&c, "example.org", 11, "f//499k954d6OL34oL9FSTvy64sA", 28, NULL, 0);
	CHECK_EQ(request(&c, out, sizeof(out), TP_METHOD_BINDING, v + 8, 0), (long)n);
	CHECK_MEM(out, v, n);

	/* RFC 8489 B.1 (erratum 6268): USERHASH, NONCE, REALM, PASSWORD-ALGORITHM
	 * SHA-256, MESSAGE-INTEGRITY-SHA256; the nonce's cookie offers username
	 * anonymity only, so no PASSWORD-ALGORITHMS is expected */
	n = load_hex("rfc8489-b1-sha256.hex", v, sizeof(v));
	o = (struct tp_tc_opts){ .alg = TP_PWALG_SHA256, .mi = TP_TC_MI_SHA256, .userhash = true };
	tp_tc_init(&c, &o);
	tp_tc_set_password(&c, matrix_user, strlen(matrix_user), "TheMatrIX", 9);
	CHECK_EQ(tp_tc_set_challenge(&c, "example.org", 11,
	                             "obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA", 41, NULL, 0), 0);
	CHECK_EQ(request(&c, out, sizeof(out), TP_METHOD_BINDING, v + 8, 0), (long)n);
	CHECK_MEM(out, v, n);
}

/* ---- 401, then success ---- */

static void test_challenge_then_success(void)
{
	uint8_t req[512], resp[512], key[TP_KEY_MAX];
	size_t klen, rlen;
	long n;
	struct tp_tc c;
	struct tp_tc_resp r;
	struct tp_stun_msg m;
	const struct tp_stun_attr *a;
	const char *realm, *nonce;
	const uint8_t *algs;
	size_t realm_len, nonce_len, algs_len;

	tp_tc_init(&c, NULL);
	CHECK_EQ(tp_tc_set_password(&c, "alice", 5, "alicepw", 7), 0);
	/* no challenge yet: unsigned */
	n = request(&c, req, sizeof(req), TP_METHOD_ALLOCATE, NULL, 0);
	CHECK(n > 0);
	CHECK_EQ(tp_tc_pending(&c), 1);
	CHECK_EQ(tp_stun_decode(&m, req, (size_t)n, NULL), TP_P_OK);
	CHECK(tp_stun_find(&m, TP_ATTR_REQUESTED_TRANSPORT) != NULL);
	CHECK(!tp_stun_find(&m, TP_ATTR_USERNAME) && m.mi < 0 && m.mi256 < 0);
	CHECK(!m.has_fingerprint);

	rlen = answer(resp, sizeof(resp), req, (size_t)n,
	              &(struct answer){ .cls = TP_CLASS_ERROR, .code = 401, .realm = "test",
	                                .nonce = nonce1, .algs = algs_md5_sha,
	                                .algs_len = sizeof(algs_md5_sha) });
	CHECK_EQ(tp_tc_recv(&c, resp, rlen, &r), TP_TC_RETRY);
	CHECK_EQ(r.code, 401);
	CHECK(!r.authenticated);
	CHECK_EQ(tp_tc_pending(&c), 0);
	tp_tc_challenge(&c, &realm, &realm_len, &nonce, &nonce_len, &algs, &algs_len);
	CHECK(realm_len == 4 && memcmp(realm, "test", 4) == 0);
	CHECK(nonce_len == strlen(nonce1) && memcmp(nonce, nonce1, nonce_len) == 0);
	CHECK(algs_len == sizeof(algs_md5_sha) && memcmp(algs, algs_md5_sha, algs_len) == 0);
	/* the same answer again (a retransmission's): nobody waits for it */
	CHECK_EQ(tp_tc_recv(&c, resp, rlen, &r), TP_TC_NOT_OURS);

	/* signed: the server's first algorithm (MD5), the list echoed byte for
	 * byte, MESSAGE-INTEGRITY-SHA256 since the server sent the list */
	n = request(&c, req, sizeof(req), TP_METHOD_ALLOCATE, NULL, 0);
	CHECK(n > 0);
	CHECK_EQ(tp_stun_decode(&m, req, (size_t)n, NULL), TP_P_OK);
	CHECK(tp_stun_find(&m, TP_ATTR_REQUESTED_TRANSPORT) != NULL);
	CHECK(has_str(&m, TP_ATTR_USERNAME, "alice"));
	CHECK(has_str(&m, TP_ATTR_REALM, "test"));
	CHECK(has_str(&m, TP_ATTR_NONCE, nonce1));
	a = tp_stun_find(&m, TP_ATTR_PASSWORD_ALGORITHMS);
	CHECK(a && a->len == sizeof(algs_md5_sha) && memcmp(a->val, algs_md5_sha, a->len) == 0);
	a = tp_stun_find(&m, TP_ATTR_PASSWORD_ALGORITHM);
	CHECK(a && tp_attr_pw_alg(a) == TP_PWALG_MD5);
	CHECK(m.mi < 0 && m.mi256 >= 0);
	key_of(TP_PWALG_MD5, "alice", "test", "alicepw", key, &klen);
	CHECK_EQ(tp_stun_verify_mi256(&m, key, klen), TP_P_OK);

	rlen = answer(resp, sizeof(resp), req, (size_t)n,
	              &(struct answer){ .cls = TP_CLASS_SUCCESS, .relayed = true, .key = key,
	                                .key_len = klen, .mi256 = true });
	CHECK_EQ(tp_tc_recv(&c, resp, rlen, &r), TP_TC_SUCCESS);
	CHECK(r.authenticated);
	CHECK_EQ(r.code, 0);
	CHECK_EQ(r.method, TP_METHOD_ALLOCATE);
	CHECK_EQ(r.nrelayed, 2);
	CHECK_EQ(r.relayed[0].family, AF_INET);
	CHECK_EQ(r.relayed[0].port, 49152);
	CHECK_EQ(r.relayed[1].family, AF_INET6);
	CHECK(r.has_mapped && r.mapped.port == 5000);
	CHECK(r.has_lifetime && r.lifetime == 600);
	CHECK(tp_stun_find(&r.m, TP_ATTR_LIFETIME) != NULL);
	CHECK_EQ(tp_tc_pending(&c), 0);

	/* an authenticated error response is just that */
	n = request(&c, req, sizeof(req), TP_METHOD_ALLOCATE, NULL, 0);
	rlen = answer(resp, sizeof(resp), req, (size_t)n,
	              &(struct answer){ .cls = TP_CLASS_ERROR, .code = 437, .key = key,
	                                .key_len = klen });
	CHECK_EQ(tp_tc_recv(&c, resp, rlen, &r), TP_TC_ERROR);
	CHECK_EQ(r.code, 437);
	CHECK(r.authenticated);
	CHECK(r.reason_len == strlen(tp_error_reason(437)) &&
	      memcmp(r.reason, tp_error_reason(437), r.reason_len) == 0);
	tp_tc_clear(&c);
}

/* ---- 438 and 401 after credentials ---- */

static void test_stale_and_rejected(void)
{
	uint8_t req[512], resp[512], key[TP_KEY_MAX];
	size_t klen, rlen;
	long n;
	struct tp_tc c;
	struct tp_tc_resp r;
	struct tp_stun_msg m;

	tp_tc_init(&c, &(struct tp_tc_opts){ .mi = TP_TC_MI_SHA1 });
	tp_tc_set_password(&c, "alice", 5, "alicepw", 7);
	tp_tc_set_challenge(&c, "test", 4, nonce1, strlen(nonce1), algs_md5_sha,
	                    sizeof(algs_md5_sha));
	key_of(TP_PWALG_MD5, "alice", "test", "alicepw", key, &klen);

	/* 438 with a new nonce: retried with it, three times in a row (the caller
	 * bounds the rounds) */
	for (int i = 0; i < 3; i++) {
		const char *nn = i & 1 ? nonce1 : nonce2;

		n = request(&c, req, sizeof(req), TP_METHOD_REFRESH, NULL, 0);
		rlen = answer(resp, sizeof(resp), req, (size_t)n,
		              &(struct answer){ .cls = TP_CLASS_ERROR, .code = 438, .realm = "test",
		                                .nonce = nn, .algs = algs_md5_sha,
		                                .algs_len = sizeof(algs_md5_sha) });
		CHECK_EQ(tp_tc_recv(&c, resp, rlen, &r), TP_TC_RETRY);
		CHECK_EQ(r.code, 438);
		n = request(&c, req, sizeof(req), TP_METHOD_REFRESH, NULL, 0);
		CHECK_EQ(tp_stun_decode(&m, req, (size_t)n, NULL), TP_P_OK);
		CHECK(has_str(&m, TP_ATTR_NONCE, nn));
		CHECK(m.mi >= 0 && m.mi256 < 0);   /* MESSAGE-INTEGRITY as asked */
		CHECK_EQ(tp_stun_verify_mi(&m, key, klen), TP_P_OK);
		CHECK(tp_tc_cancel(&c, m.tid));
	}
	/* a 438 without REALM keeps the realm held */
	n = request(&c, req, sizeof(req), TP_METHOD_REFRESH, NULL, 0);
	rlen = answer(resp, sizeof(resp), req, (size_t)n,
	              &(struct answer){ .cls = TP_CLASS_ERROR, .code = 438, .nonce = nonce1,
	                                .algs = algs_md5_sha, .algs_len = sizeof(algs_md5_sha) });
	CHECK_EQ(tp_tc_recv(&c, resp, rlen, &r), TP_TC_RETRY);

	/* 401 to a signed request, nothing changed since: rejected, but the new
	 * nonce is kept for the next try */
	n = request(&c, req, sizeof(req), TP_METHOD_REFRESH, NULL, 0);
	rlen = answer(resp, sizeof(resp), req, (size_t)n,
	              &(struct answer){ .cls = TP_CLASS_ERROR, .code = 401, .realm = "test",
	                                .nonce = nonce2, .algs = algs_md5_sha,
	                                .algs_len = sizeof(algs_md5_sha) });
	CHECK_EQ(tp_tc_recv(&c, resp, rlen, &r), TP_TC_AUTH_REJECTED);
	CHECK_EQ(r.code, 401);
	CHECK_EQ(tp_tc_pending(&c), 0);
	n = request(&c, req, sizeof(req), TP_METHOD_REFRESH, NULL, 0);
	CHECK_EQ(tp_stun_decode(&m, req, (size_t)n, NULL), TP_P_OK);
	CHECK(has_str(&m, TP_ATTR_NONCE, nonce2));
	/* the password changes while that request is out: its 401 is retried */
	tp_tc_set_password(&c, "alice", 5, "other", 5);
	rlen = answer(resp, sizeof(resp), req, (size_t)n,
	              &(struct answer){ .cls = TP_CLASS_ERROR, .code = 401, .realm = "test",
	                                .nonce = nonce2, .algs = algs_md5_sha,
	                                .algs_len = sizeof(algs_md5_sha) });
	CHECK_EQ(tp_tc_recv(&c, resp, rlen, &r), TP_TC_RETRY);
	/* setting the same password again changes nothing */
	tp_tc_set_password(&c, "alice", 5, "other", 5);
	n = request(&c, req, sizeof(req), TP_METHOD_REFRESH, NULL, 0);
	rlen = answer(resp, sizeof(resp), req, (size_t)n,
	              &(struct answer){ .cls = TP_CLASS_ERROR, .code = 401, .realm = "test",
	                                .nonce = nonce2, .algs = algs_md5_sha,
	                                .algs_len = sizeof(algs_md5_sha) });
	CHECK_EQ(tp_tc_recv(&c, resp, rlen, &r), TP_TC_AUTH_REJECTED);
	/* a 401 naming another realm is retried, with a key for that realm */
	n = request(&c, req, sizeof(req), TP_METHOD_REFRESH, NULL, 0);
	rlen = answer(resp, sizeof(resp), req, (size_t)n,
	              &(struct answer){ .cls = TP_CLASS_ERROR, .code = 401, .realm = "elsewhere",
	                                .nonce = nonce1, .algs = algs_md5_sha,
	                                .algs_len = sizeof(algs_md5_sha) });
	CHECK_EQ(tp_tc_recv(&c, resp, rlen, &r), TP_TC_RETRY);
	n = request(&c, req, sizeof(req), TP_METHOD_REFRESH, NULL, 0);
	CHECK_EQ(tp_stun_decode(&m, req, (size_t)n, NULL), TP_P_OK);
	CHECK(has_str(&m, TP_ATTR_REALM, "elsewhere"));
	key_of(TP_PWALG_MD5, "alice", "elsewhere", "other", key, &klen);
	CHECK_EQ(tp_stun_verify_mi(&m, key, klen), TP_P_OK);
	tp_tc_clear(&c);
}

/* ---- which algorithm ---- */

static uint16_t signed_alg(const uint8_t *algs, size_t algs_len, struct tp_tc_opts *o,
                           enum tp_tc_res *res, long *fin)
{
	uint8_t req[512], resp[512];
	size_t rlen;
	long n;
	struct tp_tc c;
	struct tp_tc_resp r;
	struct tp_stun_msg m;
	const struct tp_stun_attr *a;
	uint16_t alg = 0;

	tp_tc_init(&c, o);
	tp_tc_set_password(&c, "alice", 5, "alicepw", 7);
	n = request(&c, req, sizeof(req), TP_METHOD_ALLOCATE, NULL, 0);
	rlen = answer(resp, sizeof(resp), req, (size_t)n,
	              &(struct answer){ .cls = TP_CLASS_ERROR, .code = 401, .realm = "test",
	                                .nonce = "plain-nonce", .algs = algs,
	                                .algs_len = algs_len });
	*res = tp_tc_recv(&c, resp, rlen, &r);
	*fin = n = request(&c, req, sizeof(req), TP_METHOD_ALLOCATE, NULL, 0);
	if (n > 0 && tp_stun_decode(&m, req, (size_t)n, NULL) == TP_P_OK) {
		uint8_t key[TP_KEY_MAX];
		size_t klen;

		a = tp_stun_find(&m, TP_ATTR_PASSWORD_ALGORITHM);
		alg = a ? tp_attr_pw_alg(a) : 0xFFFF;
		key_of(a ? alg : TP_PWALG_MD5, "alice", "test", "alicepw", key, &klen);
		CHECK_EQ(m.mi256 >= 0 ? tp_stun_verify_mi256(&m, key, klen)
		                      : tp_stun_verify_mi(&m, key, klen), TP_P_OK);
		a = tp_stun_find(&m, TP_ATTR_PASSWORD_ALGORITHMS);
		if (algs && alg != 0xFFFF)
			CHECK(a && a->len == algs_len && memcmp(a->val, algs, algs_len) == 0);
		else
			CHECK(a == NULL);
	}
	tp_tc_clear(&c);
	return alg;
}

static void test_algorithms(void)
{
	static const uint8_t sha_md5[] = { 0, 2, 0, 0, 0, 1, 0, 0 };
	/* an unknown algorithm 3 with 2 bytes of parameters, padded, then SHA-256 */
	static const uint8_t x_sha[] = { 0, 3, 0, 2, 0xAB, 0xCD, 0, 0, 0, 2, 0, 0 };
	/* SHA-256 with parameters (unsupported as such), then MD5 */
	static const uint8_t shap_md5[] = { 0, 2, 0, 4, 1, 2, 3, 4, 0, 1, 0, 0 };
	static const uint8_t only_x[] = { 0, 3, 0, 0 };
	struct tp_tc_opts o = { 0 };
	enum tp_tc_res res;
	long fin;

	/* automatic: the first the client supports, in the server's order */
	CHECK_EQ(signed_alg(sha_md5, sizeof(sha_md5), &o, &res, &fin), TP_PWALG_SHA256);
	CHECK_EQ(res, TP_TC_RETRY);
	CHECK_EQ(signed_alg(algs_md5_sha, sizeof(algs_md5_sha), &o, &res, &fin), TP_PWALG_MD5);
	CHECK_EQ(signed_alg(x_sha, sizeof(x_sha), &o, &res, &fin), TP_PWALG_SHA256);
	CHECK_EQ(signed_alg(shap_md5, sizeof(shap_md5), &o, &res, &fin), TP_PWALG_MD5);
	/* nothing supported: the challenge cannot be answered, nor signed */
	signed_alg(only_x, sizeof(only_x), &o, &res, &fin);
	CHECK_EQ(res, TP_TC_AUTH_UNUSABLE);
	CHECK_EQ(fin, -ENOTSUP);
	/* no list: MD5 without PASSWORD-ALGORITHM(S) */
	CHECK_EQ(signed_alg(NULL, 0, &o, &res, &fin), 0xFFFF);
	CHECK_EQ(res, TP_TC_RETRY);
	/* forced: SHA-256 even if listed second; MD5 named even without a list */
	o.alg = TP_PWALG_SHA256;
	CHECK_EQ(signed_alg(algs_md5_sha, sizeof(algs_md5_sha), &o, &res, &fin), TP_PWALG_SHA256);
	o.alg = TP_PWALG_MD5;
	CHECK_EQ(signed_alg(sha_md5, sizeof(sha_md5), &o, &res, &fin), TP_PWALG_MD5);
	/* an RFC 5389 client ignores the list */
	o.alg = TP_TC_ALG_RFC5389;
	CHECK_EQ(signed_alg(sha_md5, sizeof(sha_md5), &o, &res, &fin), 0xFFFF);
	CHECK_EQ(res, TP_TC_RETRY);
}

/* ---- USERHASH, a precomputed key, FINGERPRINT, NOAUTH ---- */

static void test_variants(void)
{
	uint8_t req[512], resp[512], key[TP_KEY_MAX], uh[32];
	size_t klen, rlen;
	long n;
	struct tp_tc c;
	struct tp_tc_resp r;
	struct tp_stun_msg m;
	const struct tp_stun_attr *a;

	tp_tc_init(&c, &(struct tp_tc_opts){ .alg = TP_PWALG_SHA256, .userhash = true,
	                                     .fingerprint = true });
	tp_tc_set_password(&c, "alice", 5, "alicepw", 7);
	tp_tc_set_challenge(&c, "test", 4, nonce1, strlen(nonce1), algs_md5_sha,
	                    sizeof(algs_md5_sha));
	n = request(&c, req, sizeof(req), TP_METHOD_ALLOCATE, NULL, 0);
	CHECK_EQ(tp_stun_decode(&m, req, (size_t)n, NULL), TP_P_OK);
	CHECK(!tp_stun_find(&m, TP_ATTR_USERNAME));
	a = tp_stun_find(&m, TP_ATTR_USERHASH);
	tp_userhash("alice", 5, "test", 4, uh);
	CHECK(a && a->len == 32 && memcmp(a->val, uh, 32) == 0);
	CHECK(m.has_fingerprint);
	key_of(TP_PWALG_SHA256, "alice", "test", "alicepw", key, &klen);
	CHECK_EQ(klen, 32);
	CHECK_EQ(tp_stun_verify_mi256(&m, key, klen), TP_P_OK);
	rlen = answer(resp, sizeof(resp), req, (size_t)n,
	              &(struct answer){ .cls = TP_CLASS_SUCCESS, .key = key, .key_len = klen,
	                                .mi256 = true });
	CHECK_EQ(tp_tc_recv(&c, resp, rlen, &r), TP_TC_SUCCESS);
	CHECK(r.authenticated);
	/* NOAUTH: the same client, no credentials; its response is not checked */
	n = request(&c, req, sizeof(req), TP_METHOD_BINDING, NULL, TP_TC_NOAUTH);
	CHECK_EQ(tp_stun_decode(&m, req, (size_t)n, NULL), TP_P_OK);
	CHECK(!tp_stun_find(&m, TP_ATTR_USERHASH) && m.mi256 < 0 && m.has_fingerprint);
	rlen = answer(resp, sizeof(resp), req, (size_t)n,
	              &(struct answer){ .cls = TP_CLASS_SUCCESS, .relayed = true });
	CHECK_EQ(tp_tc_recv(&c, resp, rlen, &r), TP_TC_SUCCESS);
	CHECK(!r.authenticated);
	tp_tc_clear(&c);

	/* a key computed elsewhere (MD5): used as it is, for its algorithm */
	key_of(TP_PWALG_MD5, "kim", "test", "kimpw", key, &klen);
	tp_tc_init(&c, &(struct tp_tc_opts){ .alg = TP_TC_ALG_RFC5389 });
	CHECK_EQ(tp_tc_set_key(&c, "kim", 3, TP_PWALG_MD5, key, klen), 0);
	tp_tc_set_challenge(&c, "test", 4, nonce1, strlen(nonce1), algs_md5_sha,
	                    sizeof(algs_md5_sha));
	n = request(&c, req, sizeof(req), TP_METHOD_ALLOCATE, NULL, 0);
	CHECK_EQ(tp_stun_decode(&m, req, (size_t)n, NULL), TP_P_OK);
	CHECK(!tp_stun_find(&m, TP_ATTR_PASSWORD_ALGORITHM));
	CHECK(!tp_stun_find(&m, TP_ATTR_PASSWORD_ALGORITHMS));
	CHECK_EQ(tp_stun_verify_mi(&m, key, klen), TP_P_OK);
	CHECK(has_str(&m, TP_ATTR_USERNAME, "kim"));
	/* a 401 to it with the same realm: the key cannot be wrong in another way */
	rlen = answer(resp, sizeof(resp), req, (size_t)n,
	              &(struct answer){ .cls = TP_CLASS_ERROR, .code = 401, .realm = "test",
	                                .nonce = nonce2, .algs = algs_md5_sha,
	                                .algs_len = sizeof(algs_md5_sha) });
	CHECK_EQ(tp_tc_recv(&c, resp, rlen, &r), TP_TC_AUTH_REJECTED);
	CHECK_EQ(tp_tc_set_key(&c, "kim", 3, TP_PWALG_SHA256, key, 16), -EINVAL);
	CHECK_EQ(tp_tc_set_key(&c, "kim", 3, 7, key, 16), -EINVAL);
	tp_tc_clear(&c);
	/* with an HMAC cache: the same bytes signed, the same answers checked */
	{
		struct tp_crypto *cc = tp_crypto_new();
		uint8_t req2[512];
		long n2;

		CHECK(cc != NULL);
		key_of(TP_PWALG_SHA256, "alice", "test", "alicepw", key, &klen);
		for (int i = 0; i < 2; i++) {
			tp_tc_init(&c, &(struct tp_tc_opts){ .alg = TP_PWALG_SHA256,
			                                     .crypto = i ? cc : NULL });
			tp_tc_set_password(&c, "alice", 5, "alicepw", 7);
			tp_tc_set_challenge(&c, "test", 4, nonce1, strlen(nonce1), algs_md5_sha,
			                    sizeof(algs_md5_sha));
			if (i == 0) {
				n2 = request(&c, req2, sizeof(req2), TP_METHOD_REFRESH,
				             (const uint8_t *)"fixed-tid-12", 0);
				continue;
			}
			n = request(&c, req, sizeof(req), TP_METHOD_REFRESH,
			            (const uint8_t *)"fixed-tid-12", 0);
			CHECK(n == n2 && n > 0 && memcmp(req, req2, (size_t)n) == 0);
			key[0] ^= 1;
			rlen = answer(resp, sizeof(resp), req, (size_t)n,
			              &(struct answer){ .cls = TP_CLASS_SUCCESS, .key = key,
			                                .key_len = klen, .mi256 = true });
			CHECK_EQ(tp_tc_recv(&c, resp, rlen, &r), TP_TC_INTEGRITY_BAD);
			key[0] ^= 1;
			rlen = answer(resp, sizeof(resp), req, (size_t)n,
			              &(struct answer){ .cls = TP_CLASS_SUCCESS, .key = key,
			                                .key_len = klen, .mi256 = true });
			CHECK_EQ(tp_tc_recv(&c, resp, rlen, &r), TP_TC_SUCCESS);
			CHECK(r.authenticated);
		}
		tp_tc_clear(&c);
		tp_crypto_free(cc);
	}
	/* tp_tc_clear wipes the secrets */
	{
		static const uint8_t zero[sizeof(c.pass)];

		tp_tc_init(&c, NULL);
		tp_tc_set_password(&c, "u", 1, "secret", 6);
		tp_tc_clear(&c);
		CHECK_MEM(c.pass, zero, sizeof(c.pass));
	}
}

/* ---- responses that are not to be trusted or are not ours ---- */

static void test_integrity_and_matching(void)
{
	uint8_t req[512], resp[512], key[TP_KEY_MAX], bad[TP_KEY_MAX], other[TP_STUN_TID_LEN];
	size_t klen, rlen;
	long n;
	struct tp_tc c;
	struct tp_tc_resp r;
	struct tp_stun_msg m;
	struct tp_stun_wr w;

	tp_tc_init(&c, NULL);
	tp_tc_set_password(&c, "alice", 5, "alicepw", 7);
	tp_tc_set_challenge(&c, "test", 4, nonce1, strlen(nonce1), algs_md5_sha,
	                    sizeof(algs_md5_sha));
	key_of(TP_PWALG_MD5, "alice", "test", "alicepw", key, &klen);
	memcpy(bad, key, klen);
	bad[0] ^= 1;
	n = request(&c, req, sizeof(req), TP_METHOD_ALLOCATE, NULL, 0);
	CHECK_EQ(tp_stun_decode(&m, req, (size_t)n, NULL), TP_P_OK);

	/* signed with the wrong key (either attribute): discarded, still pending */
	rlen = answer(resp, sizeof(resp), req, (size_t)n,
	              &(struct answer){ .cls = TP_CLASS_SUCCESS, .relayed = true, .key = bad,
	                                .key_len = klen, .mi256 = true });
	CHECK_EQ(tp_tc_recv(&c, resp, rlen, &r), TP_TC_INTEGRITY_BAD);
	CHECK(!r.authenticated);
	rlen = answer(resp, sizeof(resp), req, (size_t)n,
	              &(struct answer){ .cls = TP_CLASS_ERROR, .code = 486, .key = bad,
	                                .key_len = klen });
	CHECK_EQ(tp_tc_recv(&c, resp, rlen, &r), TP_TC_INTEGRITY_BAD);
	/* unsigned: discarded too, but shown (the code of a 400, say) */
	rlen = answer(resp, sizeof(resp), req, (size_t)n,
	              &(struct answer){ .cls = TP_CLASS_ERROR, .code = 400 });
	CHECK_EQ(tp_tc_recv(&c, resp, rlen, &r), TP_TC_UNAUTHENTICATED);
	CHECK_EQ(r.code, 400);
	rlen = answer(resp, sizeof(resp), req, (size_t)n,
	              &(struct answer){ .cls = TP_CLASS_SUCCESS, .relayed = true });
	CHECK_EQ(tp_tc_recv(&c, resp, rlen, &r), TP_TC_UNAUTHENTICATED);
	CHECK_EQ(tp_tc_pending(&c), 1);

	/* another transaction ID, or the right one with another method: not ours */
	memcpy(other, m.tid, sizeof(other));
	other[11] ^= 0x55;
	rlen = answer(resp, sizeof(resp), req, (size_t)n,
	              &(struct answer){ .cls = TP_CLASS_SUCCESS, .key = key, .key_len = klen,
	                                .tid = other });
	CHECK_EQ(tp_tc_recv(&c, resp, rlen, &r), TP_TC_NOT_OURS);
	rlen = answer(resp, sizeof(resp), req, (size_t)n,
	              &(struct answer){ .cls = TP_CLASS_SUCCESS, .key = key, .key_len = klen,
	                                .method = TP_METHOD_REFRESH });
	CHECK_EQ(tp_tc_recv(&c, resp, rlen, &r), TP_TC_NOT_OURS);
	/* a request or an indication is not a response; garbage does not decode */
	CHECK_EQ(tp_tc_recv(&c, req, (size_t)n, &r), TP_TC_NOT_RESPONSE);
	tp_stun_wr_init(&w, resp, sizeof(resp), TP_METHOD_DATA, TP_CLASS_INDICATION, m.tid);
	tp_stun_put(&w, TP_ATTR_DATA, "x", 1);
	CHECK_EQ(tp_tc_recv(&c, resp, (size_t)tp_stun_wr_finish(&w), &r), TP_TC_NOT_RESPONSE);
	CHECK_EQ(tp_tc_recv(&c, (const uint8_t *)"\x40\x00\x00\x00", 4, &r), TP_TC_MALFORMED);
	CHECK_EQ(r.perr, TP_P_SHORT_HEADER);
	req[3] ^= 4; /* a length that no longer matches */
	CHECK_EQ(tp_tc_recv(&c, req, (size_t)n, &r), TP_TC_MALFORMED);
	CHECK_EQ(r.perr, TP_P_LENGTH_MISMATCH);
	req[3] ^= 4;
	CHECK_EQ(tp_tc_pending(&c), 1);

	/* the genuine answer still ends it */
	rlen = answer(resp, sizeof(resp), req, (size_t)n,
	              &(struct answer){ .cls = TP_CLASS_SUCCESS, .relayed = true, .key = key,
	                                .key_len = klen });
	CHECK_EQ(tp_tc_recv(&c, resp, rlen, &r), TP_TC_SUCCESS);
	CHECK(r.authenticated);
	CHECK_EQ(tp_tc_pending(&c), 0);

	/* a transaction given up */
	n = request(&c, req, sizeof(req), TP_METHOD_REFRESH, NULL, 0);
	CHECK_EQ(tp_stun_decode(&m, req, (size_t)n, NULL), TP_P_OK);
	CHECK(tp_tc_cancel(&c, m.tid));
	CHECK(!tp_tc_cancel(&c, m.tid));
	rlen = answer(resp, sizeof(resp), req, (size_t)n,
	              &(struct answer){ .cls = TP_CLASS_SUCCESS, .key = key, .key_len = klen });
	CHECK_EQ(tp_tc_recv(&c, resp, rlen, &r), TP_TC_NOT_OURS);
	tp_tc_clear(&c);
}

/* ---- the bid-down check and challenges that cannot be answered ---- */

static enum tp_tc_res challenge_with(const char *realm, const char *nonce, const uint8_t *algs,
                                     size_t algs_len, bool creds)
{
	uint8_t req[512], resp[512];
	size_t rlen;
	long n;
	struct tp_tc c;
	struct tp_tc_resp r;
	enum tp_tc_res res;

	tp_tc_init(&c, NULL);
	if (creds)
		tp_tc_set_password(&c, "alice", 5, "alicepw", 7);
	n = request(&c, req, sizeof(req), TP_METHOD_ALLOCATE, NULL, 0);
	rlen = answer(resp, sizeof(resp), req, (size_t)n,
	              &(struct answer){ .cls = TP_CLASS_ERROR, .code = 401, .realm = realm,
	                                .nonce = nonce, .algs = algs, .algs_len = algs_len });
	res = tp_tc_recv(&c, resp, rlen, &r);
	CHECK_EQ(tp_tc_pending(&c), 0);
	tp_tc_clear(&c);
	return res;
}

static void test_downgrade_and_unusable(void)
{
	static uint8_t long_algs[TP_TC_ALGS_MAX + 4];

	/* password algorithms advertised (bit 0 counted from the right, as
	 * erratum 6290 reads it and our server writes it, or from the left, as
	 * the RFC's prose did) and the list stripped: a bid-down */
	CHECK_EQ(challenge_with("test", "obMatJos2gAAAx", NULL, 0, true), TP_TC_DOWNGRADE);
	CHECK_EQ(challenge_with("test", "obMatJos2AAABx", NULL, 0, true), TP_TC_DOWNGRADE);
	CHECK_EQ(challenge_with("test", nonce1, NULL, 0, true), TP_TC_DOWNGRADE);
	/* username anonymity alone, or no cookie: fine without a list */
	CHECK_EQ(challenge_with("test", "obMatJos2AAACx", NULL, 0, true), TP_TC_RETRY);
	CHECK_EQ(challenge_with("test", "obMatJos2", NULL, 0, true), TP_TC_RETRY);
	CHECK_EQ(challenge_with("test", "obMatJos2!!!!", NULL, 0, true), TP_TC_RETRY);
	CHECK_EQ(challenge_with("test", "plain", NULL, 0, true), TP_TC_RETRY);
	/* with the list, the cookie is satisfied */
	CHECK_EQ(challenge_with("test", nonce1, algs_md5_sha, sizeof(algs_md5_sha), true),
	         TP_TC_RETRY);
	/* nothing to answer with, or nothing to answer */
	CHECK_EQ(challenge_with("test", "plain", NULL, 0, false), TP_TC_AUTH_UNUSABLE);
	CHECK_EQ(challenge_with(NULL, "plain", NULL, 0, true), TP_TC_AUTH_UNUSABLE);
	CHECK_EQ(challenge_with("test", NULL, NULL, 0, true), TP_TC_AUTH_UNUSABLE);
	/* a list longer than the client keeps for the echo */
	for (size_t i = 0; i < sizeof(long_algs); i += 4)
		long_algs[i + 1] = 1;
	CHECK_EQ(challenge_with("test", "plain", long_algs, sizeof(long_algs), true),
	         TP_TC_AUTH_UNUSABLE);
}

/* ---- the API's limits ---- */

static void test_limits(void)
{
	static char big[1024];
	uint8_t req[512], tids[TP_TC_PENDING + 1][TP_STUN_TID_LEN];
	struct tp_tc c;
	struct tp_stun_wr w;
	struct tp_stun_msg m;

	memset(big, 'a', sizeof(big));
	tp_tc_init(&c, NULL);
	CHECK_EQ(tp_tc_set_password(&c, "", 0, "pw", 2), -EINVAL);
	CHECK_EQ(tp_tc_set_password(&c, "u", 1, "", 0), -EINVAL);
	CHECK_EQ(tp_tc_set_password(&c, big, TP_MAX_USERNAME + 1, "pw", 2), -ENAMETOOLONG);
	CHECK_EQ(tp_tc_set_password(&c, "u", 1, big, TP_TC_PASS_MAX + 1), -ENAMETOOLONG);
	CHECK_EQ(tp_tc_set_password(&c, big, TP_MAX_USERNAME, big, TP_TC_PASS_MAX), 0);
	CHECK_EQ(tp_tc_set_challenge(&c, "", 0, "n", 1, NULL, 0), -EINVAL);
	CHECK_EQ(tp_tc_set_challenge(&c, "r", 1, "", 0, NULL, 0), -EINVAL);
	CHECK_EQ(tp_tc_set_challenge(&c, big, TP_MAX_REALM + 1, "n", 1, NULL, 0), -ENAMETOOLONG);
	CHECK_EQ(tp_tc_set_challenge(&c, "r", 1, big, TP_MAX_NONCE + 1, NULL, 0), -ENAMETOOLONG);
	CHECK_EQ(tp_tc_set_challenge(&c, "r", 1, "n", 1, (const uint8_t *)"\0\1\0\4", 4), -EINVAL);
	CHECK_EQ(tp_tc_set_challenge(&c, "r", 1, "n", 1, (const uint8_t *)"\0\1\0", 3), -EINVAL);
	/* a password OpaqueString refuses (a control character) */
	CHECK_EQ(tp_tc_set_password(&c, "u", 1, "a\x01", 2), 0);
	CHECK_EQ(tp_tc_set_challenge(&c, "r", 1, "n", 1, NULL, 0), 0);
	CHECK_EQ(request(&c, req, sizeof(req), TP_METHOD_REFRESH, NULL, 0), -EINVAL);
	CHECK_EQ(tp_tc_pending(&c), 0);
	/* a buffer too small */
	tp_tc_set_password(&c, "u", 1, "pw", 2);
	CHECK_EQ(request(&c, req, 10, TP_METHOD_REFRESH, NULL, 0), -ENOBUFS);
	CHECK_EQ(request(&c, req, 40, TP_METHOD_REFRESH, NULL, 0), -ENOBUFS);
	CHECK_EQ(tp_tc_pending(&c), 0);

	/* TP_TC_PENDING in flight, then -EBUSY; the same ID again replaces its entry */
	for (int i = 0; i <= TP_TC_PENDING; i++) {
		memset(tids[i], i + 1, TP_STUN_TID_LEN);
		CHECK_EQ(request(&c, req, sizeof(req), TP_METHOD_REFRESH, tids[i], 0) > 0,
		         i < TP_TC_PENDING);
	}
	CHECK_EQ(tp_tc_begin(&c, &w, req, sizeof(req), TP_METHOD_REFRESH, tids[TP_TC_PENDING]),
	         -EBUSY);
	CHECK_EQ(tp_tc_begin(&c, &w, req, sizeof(req), TP_METHOD_REFRESH, NULL), -EBUSY);
	CHECK(request(&c, req, sizeof(req), TP_METHOD_REFRESH, tids[0], 0) > 0);
	CHECK_EQ(tp_tc_pending(&c), TP_TC_PENDING);
	CHECK(tp_tc_cancel(&c, tids[2]));
	CHECK(request(&c, req, sizeof(req), TP_METHOD_REFRESH, tids[TP_TC_PENDING], 0) > 0);
	CHECK_EQ(tp_stun_decode(&m, req, 20 + (size_t)(req[2] << 8 | req[3]), NULL), TP_P_OK);
	CHECK_MEM(m.tid, tids[TP_TC_PENDING], TP_STUN_TID_LEN);
	/* random IDs differ */
	tp_tc_init(&c, NULL);
	{
		uint8_t a[TP_STUN_TID_LEN];

		CHECK(request(&c, req, sizeof(req), TP_METHOD_BINDING, NULL, 0) > 0);
		memcpy(a, req + 8, sizeof(a));
		CHECK(request(&c, req, sizeof(req), TP_METHOD_BINDING, NULL, 0) > 0);
		CHECK(memcmp(a, req + 8, sizeof(a)) != 0);
	}
	/* every result has a name */
	for (int i = TP_TC_SUCCESS; i <= TP_TC_MALFORMED; i++)
		CHECK(strcmp(tp_tc_res_str((enum tp_tc_res)i), "?") != 0);
	CHECK(strcmp(tp_tc_res_str((enum tp_tc_res)99), "?") == 0);
	tp_tc_clear(&c);
}

int main(void)
{
	test_vectors();
	test_challenge_then_success();
	test_stale_and_rejected();
	test_algorithms();
	test_variants();
	test_integrity_and_matching();
	test_downgrade_and_unusable();
	test_limits();
	TP_TEST_END();
}
