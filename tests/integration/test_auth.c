/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_auth.c - long-term credentials (RFC 8489 §9.2): wrong password, forged
 * and foreign nonces (438), MD5/SHA-256 with PASSWORD-ALGORITHM(S),
 * MESSAGE-INTEGRITY-SHA256, USERHASH, a precomputed key, TURN REST credentials
 * with two secrets and expiry, 441 for another user's 5-tuple, and mobility
 * (RFC 8016: move, replay 405, another user 441).
 */
#include <arpa/inet.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "harness.h"
#include "tp_test.h"

static void md5_key_hex(const char *user, const char *realm, const char *pass, char *out)
{
	uint8_t k[TP_KEY_MAX];
	size_t kl = 0;

	tp_key_long_term(TP_PWALG_MD5, user, strlen(user), realm, strlen(realm), pass,
	                 strlen(pass), k, &kl);
	out += sprintf(out, "0x");
	for (size_t i = 0; i < kl; i++)
		out += sprintf(out, "%02x", k[i]);
}

static void rest_pass(const char *secret, const char *user, char *out, size_t cap)
{
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned ml = 0;

	HMAC(EVP_sha1(), secret, (int)strlen(secret), (const uint8_t *)user, strlen(user), mac,
	     &ml);
	EVP_EncodeBlock((uint8_t *)out, mac, (int)ml);
	(void)cap;
}

static void test_passwords(const struct th_server *s)
{
	struct th_client c;
	struct th_resp r;

	/* wrong password: 401 with a fresh challenge */
	CHECK(th_client_open(&c, s, NULL, "alice", "wrong") == 0);
	CHECK_EQ(th_allocate(&c, NULL, &r, NULL), 401);
	CHECK(th_has(&r, TP_ATTR_NONCE) && th_has(&r, TP_ATTR_REALM));
	CHECK(!th_has(&r, TP_ATTR_MESSAGE_INTEGRITY));
	/* the same socket with the right password */
	snprintf(c.pass, sizeof(c.pass), "alicepw");
	CHECK_EQ(th_allocate(&c, NULL, &r, NULL), 0);

	/* a forged nonce: 438 with a new NONCE */
	char good[800];

	snprintf(good, sizeof(good), "%s", c.nonce);
	/* the nonce cookie (RFC 8489 §9.2) with the two features we have, bits 0
	 * and 1 numbered from the right (erratum 6290): 0x000003 */
	CHECK(strncmp(good, "obMatJos2AAAD", 13) == 0);
	size_t nl = strlen(c.nonce);

	CHECK(nl > 4);
	c.nonce[nl - 2] = c.nonce[nl - 2] == 'A' ? 'B' : 'A';
	c.no_retry = true;
	CHECK_EQ(th_refresh(&c, 600, &r), 438);
	CHECK(th_has(&r, TP_ATTR_NONCE));
	CHECK(th_has(&r, TP_ATTR_REALM));
	/* a nonce that is not ours at all */
	snprintf(c.nonce, sizeof(c.nonce), "obMatJos2wAAAnotanonceofoursatall");
	CHECK_EQ(th_refresh(&c, 600, &r), 438);
	snprintf(c.nonce, sizeof(c.nonce), "random-nonce-1234");
	CHECK_EQ(th_refresh(&c, 600, &r), 438);
	/* retrying with the nonce a 438 gives works */
	c.no_retry = false;
	CHECK_EQ(th_refresh(&c, 600, &r), 0);
	/* a nonce given to another client IP is refused there; from another port
	 * of the same IP it is good (RFC 6062 data connections, reconnects and
	 * mobility reuse it: the nonce is bound to the IP, not the port) */
	struct th_client o;
	struct th_attrs at = { .n = 0 };

	th_a_transport(&at, TP_TRANSPORT_UDP);
	CHECK(th_client_open(&o, s, "127.0.0.2", "alice", "alicepw") == 0);
	snprintf(o.nonce, sizeof(o.nonce), "%s", good);
	snprintf(o.realm, sizeof(o.realm), "test");
	o.no_retry = true;
	CHECK_EQ(th_request(&o, TP_METHOD_ALLOCATE, &at, &r), 438);
	th_client_close(&o);
	CHECK(th_client_open(&o, s, NULL, "alice", "alicepw") == 0);
	snprintf(o.nonce, sizeof(o.nonce), "%s", c.nonce);
	snprintf(o.realm, sizeof(o.realm), "test");
	o.no_retry = true;
	CHECK_EQ(th_request(&o, TP_METHOD_ALLOCATE, &at, &r), 0);
	CHECK_EQ(th_refresh(&o, 0, &r), 0);
	th_client_close(&o);
	/* wrong realm: 401 */
	snprintf(good, sizeof(good), "%s", c.realm);
	snprintf(c.realm, sizeof(c.realm), "other");
	c.no_retry = true;
	CHECK_EQ(th_refresh(&c, 600, &r), 401);
	snprintf(c.realm, sizeof(c.realm), "%s", good);
	c.no_retry = false;
	CHECK_EQ(th_refresh(&c, 0, &r), 0);
	th_client_close(&c);
}

static void test_algorithms(const struct th_server *s)
{
	struct th_client c;
	struct th_resp r;

	/* SHA-256 key + MESSAGE-INTEGRITY-SHA256 */
	CHECK(th_client_open(&c, s, NULL, "alice", "alicepw") == 0);
	c.alg = TP_PWALG_SHA256;
	c.use_mi256 = true;
	CHECK_EQ(th_allocate(&c, NULL, &r, NULL), 0);
	CHECK(th_has(&r, TP_ATTR_MESSAGE_INTEGRITY_SHA256));
	if (r.code == 0) {
		uint8_t k[TP_KEY_MAX];
		size_t kl;

		tp_key_long_term(TP_PWALG_SHA256, "alice", 5, "test", 4, "alicepw", 7, k, &kl);
		CHECK_EQ(kl, 32);
		CHECK_EQ(tp_stun_verify_mi256(&r.m, k, kl), TP_P_OK);
	}
	CHECK_EQ(th_refresh(&c, 0, &r), 0);
	/* SHA-256 key with the SHA-1 MESSAGE-INTEGRITY */
	c.use_mi256 = false;
	CHECK_EQ(th_allocate(&c, NULL, &r, NULL), 0);
	CHECK(th_has(&r, TP_ATTR_MESSAGE_INTEGRITY));
	CHECK_EQ(th_refresh(&c, 0, &r), 0);
	/* explicit MD5 */
	c.alg = TP_PWALG_MD5;
	CHECK_EQ(th_allocate(&c, NULL, &r, NULL), 0);
	CHECK_EQ(th_refresh(&c, 0, &r), 0);
	/* PASSWORD-ALGORITHMS that do not repeat the server's: 400 */
	c.pw_algs[1] = 0x03; /* algorithm 3 instead of MD5 */
	c.no_retry = true;
	CHECK_EQ(th_allocate(&c, NULL, &r, NULL), 400);
	th_client_close(&c);

	/* USERHASH instead of USERNAME, with SHA-256 */
	CHECK(th_client_open(&c, s, NULL, "alice", "alicepw") == 0);
	struct th_resp ch;

	CHECK_EQ(th_allocate(&c, NULL, &ch, NULL), 0); /* learns realm and nonce */
	CHECK_EQ(th_refresh(&c, 0, &r), 0);
	c.userhash = true;
	c.alg = TP_PWALG_SHA256;
	c.use_mi256 = true;
	CHECK_EQ(th_allocate(&c, NULL, &r, NULL), 0);
	CHECK_EQ(th_refresh(&c, 0, &r), 0);
	th_client_close(&c);

	/* a user configured with a precomputed MD5 key */
	CHECK(th_client_open(&c, s, NULL, "kim", "kimpw") == 0);
	CHECK_EQ(th_allocate(&c, NULL, &r, NULL), 0);
	CHECK_EQ(th_refresh(&c, 0, &r), 0);
	/* ... has no SHA-256 key: 401 */
	c.alg = TP_PWALG_SHA256;
	c.no_retry = true;
	CHECK_EQ(th_allocate(&c, NULL, &r, NULL), 401);
	th_client_close(&c);
}

static void test_rest(const struct th_server *s)
{
	struct th_client c;
	struct th_resp r;
	char user[64], pass[64];
	long now = (long)time(NULL);

	/* the first secret */
	snprintf(user, sizeof(user), "%ld:dave", now + 3600);
	rest_pass("s3cret-one", user, pass, sizeof(pass));
	CHECK(th_client_open(&c, s, NULL, user, pass) == 0);
	CHECK_EQ(th_allocate(&c, NULL, &r, NULL), 0);
	CHECK_EQ(th_refresh(&c, 0, &r), 0);
	th_client_close(&c);
	/* the second (rotation), without a user part */
	snprintf(user, sizeof(user), "%ld", now + 600);
	rest_pass("s3cret-two", user, pass, sizeof(pass));
	CHECK(th_client_open(&c, s, NULL, user, pass) == 0);
	CHECK_EQ(th_allocate(&c, NULL, &r, NULL), 0);
	CHECK_EQ(th_refresh(&c, 0, &r), 0);
	th_client_close(&c);
	/* a secret the server does not have */
	snprintf(user, sizeof(user), "%ld:dave", now + 3600);
	rest_pass("not-a-secret", user, pass, sizeof(pass));
	CHECK(th_client_open(&c, s, NULL, user, pass) == 0);
	CHECK_EQ(th_allocate(&c, NULL, &r, NULL), 401);
	th_client_close(&c);
	/* expired */
	snprintf(user, sizeof(user), "%ld:dave", now - 10);
	rest_pass("s3cret-one", user, pass, sizeof(pass));
	CHECK(th_client_open(&c, s, NULL, user, pass) == 0);
	CHECK_EQ(th_allocate(&c, NULL, &r, NULL), 401);
	th_client_close(&c);
}

/* 441: the allocation's 5-tuple used with another user's credentials */
static void test_wrong_user(const struct th_server *s)
{
	struct th_client c;
	struct th_resp r;
	struct tp_addr peer = th_addr("127.0.0.2:4000");

	CHECK(th_client_open(&c, s, NULL, "alice", "alicepw") == 0);
	CHECK_EQ(th_allocate(&c, NULL, &r, NULL), 0);
	snprintf(c.user, sizeof(c.user), "bob");
	snprintf(c.pass, sizeof(c.pass), "bobpw");
	CHECK_EQ(th_refresh(&c, 600, &r), 441);
	CHECK_EQ(th_permit(&c, &peer, 1, &r), 441);
	CHECK_EQ(th_chanbind(&c, 0x4000, &peer, &r), 441);
	CHECK_EQ(th_refresh(&c, 0, &r), 441);
	snprintf(c.user, sizeof(c.user), "alice");
	snprintf(c.pass, sizeof(c.pass), "alicepw");
	CHECK_EQ(th_refresh(&c, 0, &r), 0);
	th_client_close(&c);
}

/* A refused user name is named in the log line, escaped: a newline or a ']'
 * in it cannot forge a log line or the context block. (Control characters
 * make it a 400: USERNAME is an OpaqueString, RFC 8265.) */
static void test_log_escaping(const struct th_server *s)
{
	struct th_client c;
	struct th_resp r;

	CHECK(th_client_open(&c, s, NULL, "mallory\n2026-01-01T00:00:00.000Z E forged]",
	                     "nopw") == 0);
	CHECK_EQ(th_allocate(&c, NULL, &r, NULL), 400);
	th_client_close(&c);
	usleep(100 * 1000);
	CHECK(th_server_log_has(s, "user=mallory\\x0a2026-01-01T00:00:00.000Z\\x20E\\x20forged\\x5d]"));
	CHECK(!th_server_log_has(s, "\n2026-01-01T00:00:00.000Z E forged"));
}

static void test_mobility(const struct th_server *s)
{
	struct th_client c1, c2, c3, c4;
	struct th_resp r;
	struct th_attrs at = { .n = 0 };
	struct th_data d;
	struct tp_addr relay, peer, r2;
	uint8_t t1[64], t2[64];
	size_t t1len = 0, t2len = 0;
	int pfd = th_udp_open("127.0.0.2", &peer);

	CHECK(th_client_open(&c1, s, NULL, "alice", "alicepw") == 0);
	th_a_empty(&at, TP_ATTR_MOBILITY_TICKET);
	CHECK_EQ(th_allocate(&c1, &at, &r, &relay), 0);
	CHECK(th_has(&r, TP_ATTR_MOBILITY_TICKET));
	if (th_has(&r, TP_ATTR_MOBILITY_TICKET)) {
		const struct tp_stun_attr *a = tp_stun_find(&r.m, TP_ATTR_MOBILITY_TICKET);

		t1len = a->len < sizeof(t1) ? a->len : sizeof(t1);
		memcpy(t1, a->val, t1len);
	}
	CHECK_EQ(th_permit(&c1, &peer, 1, &r), 0);
	CHECK(th_udp_send(pfd, &relay, "to c1", 5) == 0);
	CHECK_EQ(th_recv_data(&c1, &d, 1000), 1);

	/* the client's address changes: a Refresh with the ticket from a new socket */
	CHECK(th_client_open(&c2, s, NULL, "alice", "alicepw") == 0);
	at.n = 0;
	th_a_raw(&at, TP_ATTR_MOBILITY_TICKET, t1, t1len);
	CHECK_EQ(th_request(&c2, TP_METHOD_REFRESH, &at, &r), 0);
	CHECK(th_has(&r, TP_ATTR_MOBILITY_TICKET));
	if (th_has(&r, TP_ATTR_MOBILITY_TICKET)) {
		const struct tp_stun_attr *a = tp_stun_find(&r.m, TP_ATTR_MOBILITY_TICKET);

		t2len = a->len < sizeof(t2) ? a->len : sizeof(t2);
		memcpy(t2, a->val, t2len);
		CHECK(t2len != t1len || memcmp(t1, t2, t1len) != 0);
	}
	/* data now flows to the new socket, in both directions */
	CHECK(th_udp_send(pfd, &relay, "to c2", 5) == 0);
	CHECK_EQ(th_recv_data(&c2, &d, 1000), 1);
	CHECK(d.len == 5 && memcmp(d.data, "to c2", 5) == 0);
	CHECK_EQ(th_recv_data(&c1, &d, 200), 0);
	CHECK(th_send_ind(&c2, &peer, "from c2", 7) == 0);
	{
		uint8_t buf[64];
		struct tp_addr from;

		CHECK_EQ(th_udp_recv(pfd, buf, sizeof(buf), 1000, &from), 7);
		CHECK(tp_addr_eq(&from, &relay));
	}
	/* the old 5-tuple has no allocation any more */
	CHECK_EQ(th_refresh(&c1, 600, &r), 437);

	/* the old ticket cannot be replayed */
	CHECK(th_client_open(&c3, s, NULL, "alice", "alicepw") == 0);
	CHECK_EQ(th_request(&c3, TP_METHOD_REFRESH, &at, &r), 405);
	/* the current ticket with another user's credentials: 441 */
	CHECK(th_client_open(&c4, s, NULL, "bob", "bobpw") == 0);
	at.n = 0;
	th_a_raw(&at, TP_ATTR_MOBILITY_TICKET, t2, t2len);
	CHECK_EQ(th_request(&c4, TP_METHOD_REFRESH, &at, &r), 441);
	/* and the allocation is still with c2 */
	CHECK(th_udp_send(pfd, &relay, "still c2", 8) == 0);
	CHECK_EQ(th_recv_data(&c2, &d, 1000), 1);
	CHECK(th_get_addr(&r, TP_ATTR_XOR_RELAYED_ADDRESS, 0, &r2) == false);
	CHECK_EQ(th_refresh(&c2, 0, &r), 0);
	th_client_close(&c1);
	th_client_close(&c2);
	th_client_close(&c3);
	th_client_close(&c4);
	close(pfd);
}

int main(int argc, char **argv)
{
	struct th_server s;
	char conf[2048], kimkey[80];

	th_init(argc, argv);
	md5_key_hex("kim", "test", "kimpw", kimkey);
	snprintf(conf, sizeof(conf),
	         "users = ( { name = \"alice\"; password = \"alicepw\"; },\n"
	         "          { name = \"bob\"; password = \"bobpw\"; },\n"
	         "          { name = \"kim\"; key = \"%s\"; } );\n"
	         "static-auth-secret = [\"s3cret-one\", \"s3cret-two\"];\n"
	         "allowed-peer = [\"127.0.0.0/8\"];\n"
	         "mobility = true;\n",
	         kimkey);
	CHECK(th_server_start(&s, conf, 0) == 0);
	if (s.pid > 0) {
		test_passwords(&s);
		test_algorithms(&s);
		test_rest(&s);
		test_wrong_user(&s);
		test_log_escaping(&s);
		test_mobility(&s);
		CHECK(th_server_stop(&s) == 0);
	}
	TP_TEST_END();
}
