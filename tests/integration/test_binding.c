/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_binding.c - STUN Binding over UDP (RFC 8489, RFC 3489 classic clients,
 * RFC 5780 CHANGE-REQUEST without a second address) and the unauthenticated
 * request cap.
 */
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "tp_test.h"

static void test_basic(const struct th_server *s)
{
	struct th_client c;
	struct th_resp r;
	struct tp_addr mapped;

	CHECK(th_client_open(&c, s, NULL, NULL, NULL) == 0);
	/* a bare 20-byte request */
	CHECK_EQ(th_transact(&c, TP_METHOD_BINDING, NULL, false, &r), 0);
	CHECK(th_get_addr(&r, TP_ATTR_XOR_MAPPED_ADDRESS, 0, &mapped));
	CHECK(tp_addr_eq(&mapped, &c.local));
	CHECK(!th_has(&r, TP_ATTR_FINGERPRINT));
	CHECK(!th_has(&r, TP_ATTR_MAPPED_ADDRESS));
	/* no amplification: 20 bytes in, at most the mapped address (12) more out */
	CHECK(r.len <= 20 + 12);
	CHECK(!r.m.classic);

	/* FINGERPRINT in the request: FINGERPRINT in the response */
	c.fingerprint = true;
	CHECK_EQ(th_transact(&c, TP_METHOD_BINDING, NULL, false, &r), 0);
	CHECK(r.m.has_fingerprint);
	CHECK(th_get_addr(&r, TP_ATTR_XOR_MAPPED_ADDRESS, 0, &mapped));
	CHECK(tp_addr_eq(&mapped, &c.local));
	CHECK(r.len <= 28 + 12);
	c.fingerprint = false;

	/* a request large enough to carry it gets SOFTWARE */
	static const char sw[] = "turnpike-integration-test-client/1.0 (a long SOFTWARE value)";
	struct th_attrs at = { .n = 0 };
	size_t reqlen = 20 + 4 + ((sizeof(sw) - 1 + 3) & ~3u);

	th_a_raw(&at, TP_ATTR_SOFTWARE, sw, sizeof(sw) - 1);
	CHECK_EQ(th_transact(&c, TP_METHOD_BINDING, &at, false, &r), 0);
	CHECK(th_has(&r, TP_ATTR_SOFTWARE));
	CHECK(r.len <= reqlen + 12);
	th_client_close(&c);
}

static void test_classic(const struct th_server *s)
{
	struct th_client c;
	uint8_t req[20] = { 0x00, 0x01, 0x00, 0x00 }, buf[512];
	struct tp_stun_msg m;
	struct tp_addr from, mapped;
	const struct tp_stun_attr *a;
	long n = 0;

	CHECK(th_client_open(&c, s, NULL, NULL, NULL) == 0);
	for (int i = 4; i < 20; i++)
		req[i] = (uint8_t)(0x30 + i); /* no magic cookie */
	for (int t = 0; t < 4 && n <= 0; t++) {
		th_udp_send(c.fd, &s->addr, req, sizeof(req));
		n = th_udp_recv(c.fd, buf, sizeof(buf), 300, &from);
	}
	CHECK(n >= 20);
	if (n < 20)
		goto out;
	CHECK_EQ(tp_stun_decode(&m, buf, (size_t)n, NULL), TP_P_OK);
	CHECK(m.classic);
	CHECK_EQ(m.cls, TP_CLASS_SUCCESS);
	CHECK_MEM(buf + 4, req + 4, 16);
	a = tp_stun_find(&m, TP_ATTR_MAPPED_ADDRESS);
	CHECK(a != NULL);
	CHECK(tp_stun_find(&m, TP_ATTR_XOR_MAPPED_ADDRESS) == NULL);
	if (a) {
		CHECK_EQ(tp_attr_addr(&m, a, &mapped), TP_P_OK);
		CHECK(tp_addr_eq(&mapped, &c.local));
	}

	/* a classic Binding that does not parse: 400 in the classic form, its
	 * reason padded to a multiple of 4 as RFC 3489 parsers require */
	uint8_t bad[28] = { 0x00, 0x01, 0x00, 0x08 };
	uint8_t cls[28] = { 0x00, 0x03, 0x00, 0x08 };

	memcpy(bad + 4, req + 4, 16);
	bad[20] = 0x00, bad[21] = 0x19, bad[22] = 0x00, bad[23] = 0x09; /* overruns */
	memcpy(cls, bad, sizeof(cls));
	cls[1] = 0x03; /* the same as an Allocate */
	th_udp_send(c.fd, &s->addr, bad, sizeof(bad));
	n = th_udp_recv(c.fd, buf, sizeof(buf), 500, &from);
	CHECK(n >= 28);
	if (n >= 28) {
		const uint8_t *p = buf + 20;

		CHECK_EQ(buf[0] << 8 | buf[1], 0x0111);
		CHECK_MEM(buf + 4, req + 4, 16);
		CHECK_EQ(p[0] << 8 | p[1], TP_ATTR_ERROR_CODE);
		CHECK_EQ((p[2] << 8 | p[3]) % 4, 0);
		CHECK_EQ(p[6] * 100 + p[7], 400);
	}
	/* a TURN request in RFC 3489 framing: silently discarded, whether it
	 * parses or not (TURN needs RFC 8489 framing) */
	cls[3] = 0x00;
	th_udp_send(c.fd, &s->addr, cls, 20);
	CHECK_EQ(th_udp_recv(c.fd, buf, sizeof(buf), 300, &from), 0);
	cls[3] = 0x08;
	th_udp_send(c.fd, &s->addr, cls, sizeof(cls));
	CHECK_EQ(th_udp_recv(c.fd, buf, sizeof(buf), 300, &from), 0);
out:
	th_client_close(&c);
}

static void test_unknown(const struct th_server *s)
{
	struct th_client c;
	struct th_resp r;
	struct th_attrs at = { .n = 0 };
	uint8_t v[4] = { 1, 2, 3, 4 };
	uint16_t types[4];

	CHECK(th_client_open(&c, s, NULL, NULL, NULL) == 0);
	th_a_raw(&at, 0x7FF1, v, sizeof(v)); /* unassigned, comprehension-required */
	CHECK_EQ(th_transact(&c, TP_METHOD_BINDING, &at, false, &r), 420);
	const struct tp_stun_attr *u = r.code == 420 ? tp_stun_find(&r.m, TP_ATTR_UNKNOWN_ATTRIBUTES)
	                                             : NULL;
	CHECK(u != NULL);
	if (u) {
		CHECK_EQ(tp_attr_unknown_list(u, types, 4), 1);
		CHECK_EQ(types[0], 0x7FF1);
	}

	/* an unknown comprehension-optional one is ignored */
	at.n = 0;
	th_a_raw(&at, 0xC0F1, v, sizeof(v));
	CHECK_EQ(th_transact(&c, TP_METHOD_BINDING, &at, false, &r), 0);

	/* CHANGE-REQUEST with a flag, no second address: 420 naming it */
	at.n = 0;
	th_a_u32(&at, TP_ATTR_CHANGE_REQUEST, TP_CHANGE_IP | TP_CHANGE_PORT);
	CHECK_EQ(th_transact(&c, TP_METHOD_BINDING, &at, false, &r), 420);
	u = r.code == 420 ? tp_stun_find(&r.m, TP_ATTR_UNKNOWN_ATTRIBUTES) : NULL;
	CHECK(u != NULL);
	if (u) {
		size_t k = tp_attr_unknown_list(u, types, 4);
		bool found = false;

		for (size_t i = 0; i < k && i < 4; i++)
			found |= types[i] == TP_ATTR_CHANGE_REQUEST;
		CHECK(found);
	}
	th_client_close(&c);
}

/* unauth-rate 5/s, burst 5: 50 Bindings at once get about 5 answers */
static void test_rate_cap(void)
{
	struct th_server s;
	struct th_client c;
	uint8_t buf[512];
	int answers = 0;

	CHECK(th_server_start(&s, "unauth-rate = 5;\nunauth-burst = 5;\n", 0) == 0);
	if (s.pid <= 0)
		return;
	CHECK(th_client_open(&c, &s, NULL, NULL, NULL) == 0);
	for (int i = 0; i < 50; i++) {
		struct tp_stun_wr w;
		uint8_t req[32], tid[TP_STUN_TID_LEN];
		long n;

		tp_stun_new_tid(tid);
		tp_stun_wr_init(&w, req, sizeof(req), TP_METHOD_BINDING, TP_CLASS_REQUEST, tid);
		n = tp_stun_wr_finish(&w);
		th_udp_send(c.fd, &s.addr, req, (size_t)n);
	}
	while (th_udp_recv(c.fd, buf, sizeof(buf), 300, NULL) > 0)
		answers++;
	printf("rate cap: %d of 50 answered\n", answers);
	CHECK(answers >= 3);
	CHECK(answers <= 10);
	/* a while later the bucket has refilled */
	usleep(1100 * 1000);
	struct th_resp r;

	CHECK_EQ(th_transact(&c, TP_METHOD_BINDING, NULL, false, &r), 0);
	th_client_close(&c);
	CHECK(th_server_stop(&s) == 0);
}

/*
 * RFC 5780 §7.6: PADDING up to the request's own size, even past an MTU
 * (turnutils_stunclient -f sends CHANGE-REQUEST with 1,500 bytes of it). The
 * reply is never larger than the request.
 */
static void test_nat_padding(void)
{
	struct th_server s;
	struct th_client c;
	struct th_resp r;
	static uint8_t pad[1500];

	CHECK(th_server_start(&s, "nat-discovery = true;\nother-ip = [\"127.0.0.2\"];\n", 0) == 0);
	if (s.pid <= 0)
		return;
	CHECK(th_client_open(&c, &s, NULL, NULL, NULL) == 0);
	for (size_t len = 100; len <= sizeof(pad); len += 700) {
		struct th_attrs at = { .n = 0 };
		size_t reqlen = 20 + 8 + 4 + len;

		th_a_u32(&at, TP_ATTR_CHANGE_REQUEST, 0);
		th_a_raw(&at, TP_ATTR_PADDING, pad, len);
		CHECK_EQ(th_transact(&c, TP_METHOD_BINDING, &at, false, &r), 0);
		CHECK(th_has(&r, TP_ATTR_PADDING));
		CHECK(r.len <= reqlen);
		CHECK(r.len + 64 >= reqlen); /* padded up to about the request's size */
	}
	th_client_close(&c);
	CHECK(th_server_stop(&s) == 0);
}

int main(int argc, char **argv)
{
	struct th_server s;

	th_init(argc, argv);
	CHECK(th_server_start(&s, "", 0) == 0);
	if (s.pid > 0) {
		test_basic(&s);
		test_classic(&s);
		test_unknown(&s);
		CHECK(th_server_stop(&s) == 0);
	}
	test_rate_cap();
	test_nat_padding();
	TP_TEST_END();
}
