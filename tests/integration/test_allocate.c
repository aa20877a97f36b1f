/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_allocate.c - Allocate (RFC 8656 §7.2, RFC 6156): the challenge, the
 * success response, retransmissions, 437, EVEN-PORT and RESERVATION-TOKEN,
 * DONT-FRAGMENT, address families (440, ADDRESS-ERROR-CODE), 442, 400, 486, 508.
 */
#include <arpa/inet.h>
#include <string.h>

#include "harness.h"
#include "tp_test.h"

static bool in_range(const struct th_server *s, const struct tp_addr *a)
{
	return a->port >= s->min_port && a->port <= s->max_port;
}

static void test_challenge(const struct th_server *s)
{
	struct th_client c;
	struct th_resp r;
	struct th_attrs at = { .n = 0 };
	uint16_t algs[4];

	CHECK(th_client_open(&c, s, NULL, NULL, NULL) == 0);
	th_a_transport(&at, TP_TRANSPORT_UDP);
	CHECK_EQ(th_transact(&c, TP_METHOD_ALLOCATE, &at, false, &r), 401);
	CHECK(th_has(&r, TP_ATTR_REALM));
	CHECK(th_has(&r, TP_ATTR_NONCE));
	CHECK(th_has(&r, TP_ATTR_PASSWORD_ALGORITHMS));
	CHECK(!th_has(&r, TP_ATTR_MESSAGE_INTEGRITY));
	CHECK(!th_has(&r, TP_ATTR_XOR_RELAYED_ADDRESS));
	if (r.code == 401 && th_has(&r, TP_ATTR_PASSWORD_ALGORITHMS)) {
		size_t n = tp_attr_pw_algs(tp_stun_find(&r.m, TP_ATTR_PASSWORD_ALGORITHMS), algs, 4);
		bool md5 = false, sha = false;

		for (size_t i = 0; i < n && i < 4; i++) {
			md5 |= algs[i] == TP_PWALG_MD5;
			sha |= algs[i] == TP_PWALG_SHA256;
		}
		CHECK(md5 && sha);
	}
	if (r.code == 401) {
		const char *str;
		size_t len;

		tp_attr_str(tp_stun_find(&r.m, TP_ATTR_REALM), &str, &len);
		CHECK(len == 4 && memcmp(str, "test", 4) == 0);
	}
	/* the same Allocate from an unknown user: 401 again, never a relay */
	snprintf(c.user, sizeof(c.user), "mallory");
	snprintf(c.pass, sizeof(c.pass), "x");
	CHECK_EQ(th_allocate(&c, NULL, &r, NULL), 401);
	th_client_close(&c);
}

static void test_success(const struct th_server *s)
{
	struct th_client c;
	struct th_resp r, r2;
	struct tp_addr relay, relay2, mapped;
	uint32_t lt;

	CHECK(th_client_open(&c, s, NULL, "alice", "alicepw") == 0);
	CHECK_EQ(th_allocate(&c, NULL, &r, &relay), 0);
	CHECK(th_has(&r, TP_ATTR_MESSAGE_INTEGRITY));
	CHECK_EQ(relay.family, AF_INET);
	CHECK(tp_addr_ip_eq(&relay, &s->addr));
	CHECK(in_range(s, &relay));
	lt = th_get_u32(&r, TP_ATTR_LIFETIME);
	CHECK(lt >= 595 && lt <= 600);
	CHECK(th_get_addr(&r, TP_ATTR_XOR_MAPPED_ADDRESS, 0, &mapped));
	CHECK(tp_addr_eq(&mapped, &c.local));
	/* the response is protected with the user's key */
	if (r.code == 0) {
		uint8_t key[TP_KEY_MAX];
		size_t kl;

		tp_key_long_term(TP_PWALG_MD5, "alice", 5, "test", 4, "alicepw", 7, key, &kl);
		CHECK_EQ(tp_stun_verify_mi(&r.m, key, kl), TP_P_OK);
	}

	/* a retransmission (same transaction ID) gets the same answer */
	uint8_t tid[TP_STUN_TID_LEN];
	struct th_attrs at = { .n = 0 };

	memcpy(tid, c.last_tid, sizeof(tid));
	c.tid = tid;
	th_a_transport(&at, TP_TRANSPORT_UDP);
	CHECK_EQ(th_transact(&c, TP_METHOD_ALLOCATE, &at, true, &r2), 0);
	CHECK(th_get_addr(&r2, TP_ATTR_XOR_RELAYED_ADDRESS, 0, &relay2));
	CHECK(tp_addr_eq(&relay, &relay2));
	c.tid = NULL;
	/* a new Allocate on the same 5-tuple: 437 */
	CHECK_EQ(th_allocate(&c, NULL, &r2, NULL), 437);
	CHECK_EQ(th_refresh(&c, 0, &r2), 0);
	th_client_close(&c);
}

static void test_even_port(const struct th_server *s)
{
	struct th_client c, c2, c3;
	struct th_resp r;
	struct th_attrs at = { .n = 0 };
	struct tp_addr relay, relay2;
	uint64_t token = 0;

	CHECK(th_client_open(&c, s, NULL, "alice", "alicepw") == 0);
	th_a_even(&at, true);
	CHECK_EQ(th_allocate(&c, &at, &r, &relay), 0);
	CHECK_EQ(relay.port % 2, 0);
	CHECK(in_range(s, &relay));
	CHECK(th_has(&r, TP_ATTR_RESERVATION_TOKEN));
	if (th_has(&r, TP_ATTR_RESERVATION_TOKEN))
		token = tp_attr_u64(tp_stun_find(&r.m, TP_ATTR_RESERVATION_TOKEN));

	/* another client redeems the token: port + 1 */
	CHECK(th_client_open(&c2, s, NULL, "bob", "bobpw") == 0);
	at.n = 0;
	th_a_u64(&at, TP_ATTR_RESERVATION_TOKEN, token);
	CHECK_EQ(th_allocate(&c2, &at, &r, &relay2), 0);
	CHECK_EQ(relay2.port, relay.port + 1);
	CHECK(tp_addr_ip_eq(&relay, &relay2));
	/* a token is used once: 508 (RFC 8656 §7.2: insufficient capacity) */
	CHECK(th_client_open(&c3, s, NULL, "bob", "bobpw") == 0);
	CHECK(th_allocate(&c3, &at, &r, NULL) != 0);
	/* RESERVATION-TOKEN with EVEN-PORT: 400 */
	th_a_even(&at, false);
	CHECK_EQ(th_allocate(&c3, &at, &r, NULL), 400);
	/* EVEN-PORT without R: even port, no token */
	at.n = 0;
	th_a_even(&at, false);
	CHECK_EQ(th_allocate(&c3, &at, &r, &relay), 0);
	CHECK_EQ(relay.port % 2, 0);
	CHECK(!th_has(&r, TP_ATTR_RESERVATION_TOKEN));
	CHECK_EQ(th_refresh(&c, 0, &r), 0);
	CHECK_EQ(th_refresh(&c2, 0, &r), 0);
	CHECK_EQ(th_refresh(&c3, 0, &r), 0);
	th_client_close(&c);
	th_client_close(&c2);
	th_client_close(&c3);
}

static void test_misc(const struct th_server *s)
{
	struct th_client c;
	struct th_resp r;
	struct th_attrs at = { .n = 0 };
	struct tp_addr relay, r6;

	CHECK(th_client_open(&c, s, NULL, "alice", "alicepw") == 0);
	/* DONT-FRAGMENT is understood */
	th_a_empty(&at, TP_ATTR_DONT_FRAGMENT);
	CHECK_EQ(th_allocate(&c, &at, &r, &relay), 0);
	CHECK_EQ(th_refresh(&c, 0, &r), 0);

	/* REQUESTED-ADDRESS-FAMILY IPv6 */
	at.n = 0;
	th_a_family(&at, TP_ATTR_REQUESTED_ADDRESS_FAMILY, TP_STUN_FAMILY_IPV6);
	CHECK_EQ(th_allocate(&c, &at, &r, &relay), 0);
	CHECK_EQ(relay.family, AF_INET6);
	CHECK(tp_addr_ip_eq(&relay, &(struct tp_addr){ .family = AF_INET6,
	                                                .ip = { [15] = 1 } }));
	CHECK(in_range(s, &relay));
	CHECK(!th_get_addr(&r, TP_ATTR_XOR_RELAYED_ADDRESS, 1, &r6));
	CHECK_EQ(th_refresh(&c, 0, &r), 0);

	/* ADDITIONAL-ADDRESS-FAMILY IPv6: dual stack, two relayed addresses */
	at.n = 0;
	th_a_family(&at, TP_ATTR_ADDITIONAL_ADDRESS_FAMILY, TP_STUN_FAMILY_IPV6);
	CHECK_EQ(th_allocate(&c, &at, &r, &relay), 0);
	CHECK(th_get_addr(&r, TP_ATTR_XOR_RELAYED_ADDRESS, 1, &r6));
	CHECK_EQ(relay.family, AF_INET);
	CHECK_EQ(r6.family, AF_INET6);
	CHECK(!th_has(&r, TP_ATTR_ADDRESS_ERROR_CODE));
	CHECK_EQ(th_refresh(&c, 0, &r), 0);

	/* ADDITIONAL-ADDRESS-FAMILY IPv4: 400 (RFC 8656 §7.2) */
	at.n = 0;
	th_a_family(&at, TP_ATTR_ADDITIONAL_ADDRESS_FAMILY, TP_STUN_FAMILY_IPV4);
	CHECK_EQ(th_allocate(&c, &at, &r, &relay), 400);
	if (r.code == 0)
		th_refresh(&c, 0, &r);

	/* both family attributes: 400 */
	at.n = 0;
	th_a_family(&at, TP_ATTR_REQUESTED_ADDRESS_FAMILY, TP_STUN_FAMILY_IPV4);
	th_a_family(&at, TP_ATTR_ADDITIONAL_ADDRESS_FAMILY, TP_STUN_FAMILY_IPV6);
	CHECK_EQ(th_allocate(&c, &at, &r, NULL), 400);

	/* REQUESTED-TRANSPORT other than UDP/TCP: 442 */
	at.n = 0;
	th_a_transport(&at, 0x88);
	CHECK_EQ(th_request(&c, TP_METHOD_ALLOCATE, &at, &r), 442);
	/* TCP over a UDP control connection: 442 (RFC 6062 §5.1) */
	at.n = 0;
	th_a_transport(&at, TP_TRANSPORT_TCP);
	CHECK_EQ(th_request(&c, TP_METHOD_ALLOCATE, &at, &r), 442);
	/* no REQUESTED-TRANSPORT: 400 */
	CHECK_EQ(th_request(&c, TP_METHOD_ALLOCATE, NULL, &r), 400);
	/* an unknown comprehension-required attribute in an authenticated request: 420 */
	uint8_t v[4] = { 0 };

	at.n = 0;
	th_a_transport(&at, TP_TRANSPORT_UDP);
	th_a_raw(&at, 0x7FF2, v, 4);
	CHECK_EQ(th_request(&c, TP_METHOD_ALLOCATE, &at, &r), 420);
	CHECK(th_has(&r, TP_ATTR_UNKNOWN_ATTRIBUTES));
	th_client_close(&c);
}

static void test_user_quota(const struct th_server *s)
{
	struct th_client c[4];
	struct th_resp r;

	for (int i = 0; i < 4; i++)
		CHECK(th_client_open(&c[i], s, NULL, "carol", "carolpw") == 0);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(th_allocate(&c[i], NULL, &r, NULL), 0);
	CHECK_EQ(th_allocate(&c[3], NULL, &r, NULL), 486);
	/* another user is not affected */
	struct th_client d;

	CHECK(th_client_open(&d, s, NULL, "bob", "bobpw") == 0);
	CHECK_EQ(th_allocate(&d, NULL, &r, NULL), 0);
	CHECK_EQ(th_refresh(&d, 0, &r), 0);
	th_client_close(&d);
	/* freeing one makes room */
	CHECK_EQ(th_refresh(&c[0], 0, &r), 0);
	CHECK_EQ(th_allocate(&c[3], NULL, &r, NULL), 0);
	for (int i = 1; i < 4; i++) {
		CHECK_EQ(th_refresh(&c[i], 0, &r), 0);
		th_client_close(&c[i]);
	}
	th_client_close(&c[0]);
}

/* total-quota 2 and a relay range of 2 ports */
static void test_total_quota_and_ports(void)
{
	struct th_server s;
	struct th_client c[3];
	struct th_resp r;

	CHECK(th_server_start(&s, "total-quota = 2;\n", 0) == 0);
	if (s.pid > 0) {
		for (int i = 0; i < 3; i++)
			CHECK(th_client_open(&c[i], &s, NULL, i ? "bob" : "alice",
			                     i ? "bobpw" : "alicepw") == 0);
		CHECK_EQ(th_allocate(&c[0], NULL, &r, NULL), 0);
		CHECK_EQ(th_allocate(&c[1], NULL, &r, NULL), 0);
		CHECK_EQ(th_allocate(&c[2], NULL, &r, NULL), 486);
		for (int i = 0; i < 3; i++)
			th_client_close(&c[i]);
		CHECK(th_server_stop(&s) == 0);
	}

	CHECK(th_server_start(&s, "", 2) == 0);
	if (s.pid > 0) {
		struct tp_addr a0, a1;

		for (int i = 0; i < 3; i++)
			CHECK(th_client_open(&c[i], &s, NULL, "alice", "alicepw") == 0);
		CHECK_EQ(th_allocate(&c[0], NULL, &r, &a0), 0);
		CHECK_EQ(th_allocate(&c[1], NULL, &r, &a1), 0);
		CHECK(a0.port != a1.port);
		CHECK(in_range(&s, &a0) && in_range(&s, &a1));
		CHECK_EQ(th_allocate(&c[2], NULL, &r, NULL), 508);
		/* a deleted allocation gives its port back */
		CHECK_EQ(th_refresh(&c[0], 0, &r), 0);
		CHECK_EQ(th_allocate(&c[2], NULL, &r, &a0), 0);
		for (int i = 0; i < 3; i++)
			th_client_close(&c[i]);
		CHECK(th_server_stop(&s) == 0);
	}
}

/* relay-ip IPv6 only: an IPv4 Allocate gets 440; relay-ip IPv4 only: a dual
 * request succeeds with ADDRESS-ERROR-CODE 440 for IPv6 */
static void test_families(void)
{
	struct th_server s;
	struct th_client c;
	struct th_resp r;
	struct th_attrs at = { .n = 0 };
	struct tp_addr relay;

	CHECK(th_server_start(&s, "relay-ip = [\"::1\"];\n", 0) == 0);
	if (s.pid > 0) {
		CHECK(th_client_open(&c, &s, NULL, "alice", "alicepw") == 0);
		CHECK_EQ(th_allocate(&c, NULL, &r, NULL), 440);
		th_a_family(&at, TP_ATTR_REQUESTED_ADDRESS_FAMILY, TP_STUN_FAMILY_IPV4);
		CHECK_EQ(th_allocate(&c, &at, &r, NULL), 440);
		at.n = 0;
		th_a_family(&at, TP_ATTR_REQUESTED_ADDRESS_FAMILY, TP_STUN_FAMILY_IPV6);
		CHECK_EQ(th_allocate(&c, &at, &r, &relay), 0);
		CHECK_EQ(relay.family, AF_INET6);
		th_client_close(&c);
		CHECK(th_server_stop(&s) == 0);
	}

	CHECK(th_server_start(&s, "", 0) == 0);
	if (s.pid > 0) {
		CHECK(th_client_open(&c, &s, NULL, "alice", "alicepw") == 0);
		at.n = 0;
		th_a_family(&at, TP_ATTR_REQUESTED_ADDRESS_FAMILY, TP_STUN_FAMILY_IPV6);
		CHECK_EQ(th_allocate(&c, &at, &r, NULL), 440);
		at.n = 0;
		th_a_family(&at, TP_ATTR_ADDITIONAL_ADDRESS_FAMILY, TP_STUN_FAMILY_IPV6);
		CHECK_EQ(th_allocate(&c, &at, &r, &relay), 0);
		CHECK_EQ(relay.family, AF_INET);
		CHECK(!th_get_addr(&r, TP_ATTR_XOR_RELAYED_ADDRESS, 1, &relay));
		const struct tp_stun_attr *ae = r.code == 0
		        ? tp_stun_find(&r.m, TP_ATTR_ADDRESS_ERROR_CODE) : NULL;
		CHECK(ae != NULL);
		if (ae) {
			struct tp_addr_error_code e;

			tp_attr_addr_error_code(ae, &e);
			CHECK_EQ(e.family, TP_STUN_FAMILY_IPV6);
			CHECK_EQ(e.code, 440);
		}
		/* 443: a Refresh asking for a family the allocation lacks */
		at.n = 0;
		th_a_family(&at, TP_ATTR_REQUESTED_ADDRESS_FAMILY, TP_STUN_FAMILY_IPV6);
		CHECK_EQ(th_request(&c, TP_METHOD_REFRESH, &at, &r), 443);
		th_client_close(&c);
		CHECK(th_server_stop(&s) == 0);
	}
}

/*
 * Every relay-ip is used: 16 loopback addresses x 100 ports hold 1,600
 * allocations, spread evenly (the least used address first), and the 1,601st
 * gets 508. The spread is checked at 1,000.
 */
#define NRELAY 16
#define NPORTS 100

static void test_many_relay_ips(void)
{
	static struct th_client c[NRELAY * NPORTS + 1];
	unsigned per_ip[NRELAY] = { 0 };
	char conf[1024];
	size_t off;
	struct th_server s;
	struct th_resp r;

	off = (size_t)snprintf(conf, sizeof(conf), "user-quota = 0;\ntotal-quota = 0;\nrelay-ip = [");
	for (int i = 0; i < NRELAY; i++)
		off += (size_t)snprintf(conf + off, sizeof(conf) - off, "%s\"127.0.1.%d\"",
		                        i ? ", " : "", i + 1);
	snprintf(conf + off, sizeof(conf) - off, "];\n");
	CHECK(th_server_start(&s, conf, NPORTS) == 0);
	if (s.pid <= 0)
		return;
	for (int i = 0; i <= NRELAY * NPORTS; i++) {
		struct tp_addr relay;
		int code;

		CHECK(th_client_open(&c[i], &s, NULL, "alice", "alicepw") == 0);
		code = th_allocate(&c[i], NULL, &r, &relay);
		if (i == NRELAY * NPORTS) {
			CHECK_EQ(code, 508);
			break;
		}
		CHECK_EQ(code, 0);
		if (code != 0)
			break;
		CHECK(relay.ip[0] == 127 && relay.ip[1] == 0 && relay.ip[2] == 1 && relay.ip[3] >= 1 &&
		      relay.ip[3] <= NRELAY && in_range(&s, &relay));
		per_ip[(relay.ip[3] - 1) % NRELAY]++;
		if (i + 1 == 1000) {
			unsigned lo = per_ip[0], hi = per_ip[0];

			for (int k = 1; k < NRELAY; k++) {
				lo = per_ip[k] < lo ? per_ip[k] : lo;
				hi = per_ip[k] > hi ? per_ip[k] : hi;
			}
			fprintf(stderr, "1000 allocations over %d relay addresses: %u..%u each\n",
			        NRELAY, lo, hi);
			CHECK(hi - lo <= 1);
		}
	}
	for (int k = 0; k < NRELAY; k++)
		CHECK_EQ(per_ip[k], NPORTS);
	for (int i = 0; i <= NRELAY * NPORTS; i++) {
		if (i < NRELAY * NPORTS)
			th_refresh(&c[i], 0, &r);
		th_client_close(&c[i]);
	}
	CHECK(th_server_stop(&s) == 0);
}

int main(int argc, char **argv)
{
	struct th_server s;

	th_init(argc, argv);
	CHECK(th_server_start(&s,
	                      "relay-ip = [\"127.0.0.1\", \"::1\"];\n"
	                      "user-quota = 3;\n"
	                      "users = ( { name = \"alice\"; password = \"alicepw\"; },\n"
	                      "          { name = \"bob\"; password = \"bobpw\"; },\n"
	                      "          { name = \"carol\"; password = \"carolpw\"; } );\n",
	                      0) == 0);
	if (s.pid > 0) {
		test_challenge(&s);
		test_success(&s);
		test_even_port(&s);
		test_misc(&s);
		test_user_quota(&s);
		CHECK(th_server_stop(&s) == 0);
	}
	test_total_quota_and_ports();
	test_families();
	test_many_relay_ips();
	TP_TEST_END();
}
