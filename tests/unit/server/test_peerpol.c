/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_peerpol.c - the peer policy as pure functions: tp_cidr_parse/match and
 * tp_peer_check against every built-in range, the IPv4-in-IPv6 forms,
 * allowed-peer / denied-peer, own addresses and own listeners. No traffic.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "tp_test.h"
#include "peerpol.h"

#define OK  TP_PEER_OK
#define CFG TP_PEER_DENIED_CONFIG
#define SP  TP_PEER_DENIED_SPECIAL
#define EMB TP_PEER_DENIED_EMBEDDED
#define SLF TP_PEER_DENIED_SELF
#define LIS TP_PEER_DENIED_LISTENER

static struct tp_addr addr(const char *s, uint16_t port)
{
	struct tp_addr a = { 0 };

	if (inet_pton(AF_INET, s, a.ip) == 1) {
		a.family = AF_INET;
	} else if (inet_pton(AF_INET6, s, a.ip) == 1) {
		a.family = AF_INET6;
	} else {
		fprintf(stderr, "test bug: bad address %s\n", s);
		exit(2);
	}
	a.port = port;
	return a;
}

struct tcase {
	const char *ip;
	enum tp_peer_verdict want;
};

static void run(const char *what, const struct tp_conf *c, const struct tp_peerpol_self *self,
                const struct tcase *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct tp_addr a = addr(t[i].ip, 40000);
		enum tp_peer_verdict v = tp_peer_check(c, self, &a, TP_PEER_PORT);
		tp_test_checks++;
		if (v != t[i].want) {
			tp_test_fails++;
			fprintf(stderr, "%s: %s: got %s, want %s\n", what, t[i].ip,
			        tp_peer_verdict_str(v), tp_peer_verdict_str(t[i].want));
		}
	}
}

#define RUN(what, c, self, cases) run(what, c, self, cases, sizeof(cases) / sizeof(cases[0]))

/* Every built-in range: a sample inside, and just outside where meaningful. */
static const struct tcase builtin[] = {
	/* IPv4 */
	{ "0.0.0.0", SP }, { "0.255.255.255", SP }, { "1.0.0.0", OK },
	{ "10.0.0.1", SP }, { "10.255.255.255", SP }, { "9.255.255.255", OK }, { "11.0.0.0", OK },
	{ "100.64.0.1", SP }, { "100.127.255.255", SP }, { "100.63.255.255", OK },
	{ "100.128.0.0", OK },
	{ "127.0.0.1", SP }, { "127.255.255.254", SP }, { "126.255.255.255", OK },
	{ "128.0.0.1", OK },
	{ "169.254.1.1", SP }, { "169.253.255.255", OK }, { "169.255.0.0", OK },
	{ "172.16.0.1", SP }, { "172.31.255.255", SP }, { "172.15.255.255", OK },
	{ "172.32.0.0", OK },
	{ "192.0.0.1", SP }, { "192.0.0.9", SP }, { "192.0.0.10", SP }, { "192.0.0.170", SP },
	{ "192.0.1.1", OK },
	{ "192.0.2.1", SP }, { "192.0.3.0", OK },
	{ "192.31.196.1", OK },         /* AS112: globally reachable */
	{ "192.52.193.1", OK },         /* AMT: globally reachable */
	{ "192.88.99.1", SP }, { "192.88.99.2", SP }, { "192.88.98.255", OK },
	{ "192.88.100.0", OK },
	{ "192.168.1.1", SP }, { "192.167.255.255", OK }, { "192.169.0.0", OK },
	{ "192.175.48.1", OK },         /* AS112 direct delegation */
	{ "198.18.0.1", SP }, { "198.19.255.255", SP }, { "198.17.255.255", OK },
	{ "198.20.0.0", OK },
	{ "198.51.100.1", SP }, { "198.51.99.255", OK }, { "198.51.101.0", OK },
	{ "203.0.113.1", SP }, { "203.0.112.255", OK }, { "203.0.114.0", OK },
	{ "224.0.0.1", SP }, { "239.255.255.255", SP }, { "223.255.255.255", OK },
	{ "240.0.0.1", SP }, { "255.255.255.254", SP }, { "255.255.255.255", SP },
	{ "8.8.8.8", OK }, { "1.1.1.1", OK },
	/* IPv6 */
	{ "::", SP }, { "::1", SP }, { "::2", SP },
	{ "::ffff:127.0.0.1", SP }, { "::ffff:10.0.0.1", SP },
	{ "::ffff:8.8.8.8", SP },       /* mapped: refused outright, even public */
	{ "::127.0.0.1", SP }, { "::10.0.0.1", SP }, { "::8.8.8.8", SP },
	{ "::ffff:0:8.8.8.8", SP },     /* SIIT IPv4-translated */
	{ "64:ff9b::7f00:1", EMB }, { "64:ff9b::a00:1", EMB }, { "64:ff9b::c0a8:101", EMB },
	{ "64:ff9b::808:808", OK }, { "64:ff9b::1:808:808", SP },
	{ "64:ff9b:1::1", SP }, { "64:ff9b:1:ffff:ffff:ffff:ffff:ffff", SP },
	{ "100::1", SP }, { "100::ffff:ffff:ffff:ffff", SP }, { "100:0:0:1::1", SP },
	{ "2001:1::1", SP }, { "2001:1::2", SP }, { "2001:2::1", SP }, { "2001:2:0:ffff::1", SP },
	{ "2001:10::1", SP }, { "2001:1f::1", SP }, { "2001:40::1", SP },
	{ "2001:1ff:ffff::1", SP }, { "2001:200::1", OK },
	{ "2001:3::1", OK }, { "2001:3:ffff::1", OK },
	{ "2001:4:112::1", OK }, { "2001:4:113::1", SP },
	{ "2001:20::1", OK }, { "2001:2f:ffff::1", OK }, { "2001:30::1", OK },
	{ "2001:3f:ffff::1", OK },
	{ "2001:db8::1", SP }, { "2001:db8:ffff::1", SP }, { "2001:db7:ffff::1", OK },
	{ "2001:db9::1", OK },
	{ "3fff::1", SP }, { "3fff:fff:ffff::1", SP }, { "3fff:1000::1", OK },
	{ "3ffe:ffff::1", OK },
	{ "5f00::1", SP }, { "5f00:ffff::1", SP },
	{ "fc00::1", SP }, { "fd12:3456::1", SP }, { "fbff::1", SP },
	{ "fe80::1", SP }, { "febf::1", SP }, { "fec0::1", SP }, { "feff::1", SP },
	{ "ff02::1", SP }, { "ff0e::1", SP },
	{ "1fff:ffff::1", SP }, { "4000::1", SP },   /* outside 2000::/3 */
	{ "2606:4700::1111", OK }, { "2a00:1450:4001::1", OK }, { "2000::1", OK },
	{ "3fef:ffff::1", OK },
	/* 6to4: the embedded IPv4 address (bits 16-47) */
	{ "2002:7f00:1::1", EMB }, { "2002:c0a8:101::1", EMB }, { "2002:a00:1::1", EMB },
	{ "2002:808:808::1", OK },
	/* Teredo: server (bits 32-63) and client (last 32 bits, inverted) */
	{ "2001:0:808:808::80ff:fffe", EMB },       /* client 127.0.0.1 */
	{ "2001:0:a00:1::fefd:fcfb", EMB },         /* server 10.0.0.1 */
	{ "2001:0:808:808::f5ff:fffe", EMB },       /* client 10.0.0.1 */
	{ "2001:0:808:808::fefd:fcfb", OK },        /* server 8.8.8.8, client 1.2.3.4 */
};

static void test_builtin(void)
{
	RUN("built-in", NULL, NULL, builtin);

	struct tp_conf *c = calloc(1, sizeof(*c));
	CHECK(c != NULL);
	RUN("built-in, empty conf", c, NULL, builtin);
	free(c);
}

static void add(struct tp_cidr *l, size_t *n, const char *s)
{
	CHECK_EQ(tp_cidr_parse(&l[*n], s), 0);
	(*n)++;
}

static void test_allowed_denied(void)
{
	struct tp_conf *c = calloc(1, sizeof(*c));

	add(c->allowed_peers, &c->nallowed_peers, "127.0.0.0/8");
	add(c->allowed_peers, &c->nallowed_peers, "fd00::/8");
	static const struct tcase allowed[] = {
		{ "127.0.0.1", OK }, { "127.1.2.3", OK },
		{ "::ffff:127.0.0.1", OK },     /* mapped, by its embedded IPv4 */
		{ "::127.0.0.1", OK },          /* compatible */
		{ "64:ff9b::7f00:1", OK },      /* NAT64 */
		{ "2002:7f00:1::1", EMB },      /* tunnel forms are not opened */
		{ "2001:0:808:808::80ff:fffe", EMB },
		{ "fd00::1", OK }, { "fc00::1", SP },
		{ "10.0.0.1", SP }, { "::1", SP }, { "8.8.8.8", OK },
	};
	RUN("allowed-peer", c, NULL, allowed);

	/* denied-peer beats allowed-peer, and catches the embedded forms too. */
	add(c->denied_peers, &c->ndenied_peers, "127.0.0.1");
	add(c->denied_peers, &c->ndenied_peers, "8.8.8.0/24");
	add(c->denied_peers, &c->ndenied_peers, "2606:4700::/32");
	static const struct tcase denied[] = {
		{ "127.0.0.1", CFG }, { "127.0.0.2", OK }, { "::ffff:127.0.0.1", CFG },
		{ "8.8.8.8", CFG }, { "8.8.9.8", OK }, { "64:ff9b::808:808", CFG },
		{ "2002:808:808::1", CFG }, { "2001:0:808:808::fefd:fcfb", CFG },
		{ "2606:4700::1111", CFG }, { "2606:4701::1", OK },
	};
	RUN("denied-peer", c, NULL, denied);
	free(c);
}

static void test_self(void)
{
	struct tp_conf *c = calloc(1, sizeof(*c));
	struct tp_addr own[] = { addr("8.8.4.4", 0), addr("2606:4700::1", 0) };
	struct tp_listen lis[] = {
		{ TP_LISTEN_UDP, addr("8.8.4.4", 3478), false },
		{ TP_LISTEN_UDP, addr("0.0.0.0", 3479), false },
		{ TP_LISTEN_TLS, addr("::", 5349), false },
	};
	struct tp_peerpol_self self = { own, 2, lis, 3, NULL, NULL };
	struct tp_addr a;

	static const struct tcase selfc[] = {
		{ "8.8.4.4", SLF }, { "2606:4700::1", SLF }, { "64:ff9b::808:404", SLF },
		{ "2002:808:404::1", SLF }, { "8.8.4.5", OK }, { "2606:4700::2", OK },
	};
	RUN("own addresses", c, &self, selfc);

	/* Listeners: exact ip:port, and wildcards on every own address. */
	a = addr("8.8.4.4", 3478);
	CHECK_EQ(tp_peer_check(c, &self, &a, TP_PEER_PORT), LIS);
	CHECK_EQ(tp_peer_check(c, &self, &a, 0), SLF);
	a = addr("8.8.4.4", 3479);               /* 0.0.0.0:3479 */
	CHECK_EQ(tp_peer_check(c, &self, &a, TP_PEER_PORT), LIS);
	a = addr("8.8.4.4", 5349);               /* [::]:5349, possibly dual-stack */
	CHECK_EQ(tp_peer_check(c, &self, &a, TP_PEER_PORT), LIS);
	a = addr("2606:4700::1", 5349);
	CHECK_EQ(tp_peer_check(c, &self, &a, TP_PEER_PORT), LIS);
	a = addr("8.8.4.4", 3480);
	CHECK_EQ(tp_peer_check(c, &self, &a, TP_PEER_PORT), SLF);
	a = addr("8.8.8.8", 3479);               /* not ours */
	CHECK_EQ(tp_peer_check(c, &self, &a, TP_PEER_PORT), OK);

	/* allowed-peer opens an own address, but never a listener. */
	add(c->allowed_peers, &c->nallowed_peers, "8.8.4.4/32");
	add(c->allowed_peers, &c->nallowed_peers, "127.0.0.0/8");
	add(c->allowed_peers, &c->nallowed_peers, "0.0.0.0/8");
	a = addr("8.8.4.4", 3480);
	CHECK_EQ(tp_peer_check(c, &self, &a, TP_PEER_PORT), OK);
	a = addr("8.8.4.4", 3478);
	CHECK_EQ(tp_peer_check(c, &self, &a, TP_PEER_PORT), LIS);
	a = addr("::ffff:8.8.4.4", 3478);
	CHECK_EQ(tp_peer_check(c, &self, &a, TP_PEER_PORT), LIS);
	a = addr("::ffff:8.8.4.4", 3480);
	CHECK_EQ(tp_peer_check(c, &self, &a, TP_PEER_PORT), OK);
	a = addr("127.0.0.1", 3479);             /* loopback reaches 0.0.0.0:3479 */
	CHECK_EQ(tp_peer_check(c, &self, &a, TP_PEER_PORT), LIS);
	CHECK_EQ(tp_peer_check(c, &self, &a, 0), OK);
	a = addr("127.0.0.1", 3480);
	CHECK_EQ(tp_peer_check(c, &self, &a, TP_PEER_PORT), OK);
	a = addr("0.0.0.0", 3479);               /* Linux delivers 0.0.0.0 locally */
	CHECK_EQ(tp_peer_check(c, &self, &a, TP_PEER_PORT), LIS);
	a = addr("::1", 5349);
	CHECK_EQ(tp_peer_check(c, &self, &a, TP_PEER_PORT), LIS);
	free(c);
}

/* A fake view of our relay sockets: relay addresses 127.0.0.1 and 203.0.113.5,
 * a UDP relay bound on port 50000, a TCP relay on 50002. */
static enum tp_relay_port fake_relay_port(const void *arg, const struct tp_addr *peer, bool tcp)
{
	struct tp_addr r1 = addr("127.0.0.1", 0), r2 = addr("203.0.113.5", 0);

	(void)arg;
	if (!tp_addr_ip_eq(peer, &r1) && !tp_addr_ip_eq(peer, &r2))
		return TP_RELAY_NOT_OURS;
	return peer->port == (tcp ? 50002 : 50000) ? TP_RELAY_LIVE : TP_RELAY_IDLE;
}

/* Relaying to another allocation of ours: our relay address on a live port
 * only, whatever special range it is in; denied-peer still wins. */
static void test_relay_ports(void)
{
	struct tp_conf *c = calloc(1, sizeof(*c));
	struct tp_addr own[] = { addr("127.0.0.1", 0), addr("203.0.113.5", 0) };
	struct tp_listen lis[] = { { TP_LISTEN_UDP, addr("0.0.0.0", 3478), false } };
	struct tp_peerpol_self self = { own, 2, lis, 1, fake_relay_port, NULL };
	struct tp_addr a;

	a = addr("127.0.0.1", 50000);
	CHECK_EQ(tp_peer_check(c, &self, &a, TP_PEER_PORT), OK);
	CHECK_EQ(tp_peer_check(c, &self, &a, 0), OK);
	CHECK_EQ(tp_peer_check(c, &self, &a, TP_PEER_PORT | TP_PEER_TCP), TP_PEER_DENIED_RELAY_PORT);
	a = addr("203.0.113.5", 50000);
	CHECK_EQ(tp_peer_check(c, &self, &a, TP_PEER_PORT), OK);
	a = addr("203.0.113.5", 50002);
	CHECK_EQ(tp_peer_check(c, &self, &a, TP_PEER_PORT | TP_PEER_TCP), OK);
	CHECK_EQ(tp_peer_check(c, &self, &a, TP_PEER_PORT), TP_PEER_DENIED_RELAY_PORT);
	/* another port of a relay address: refused, but a permission (IP only)
	 * passes, as every send checks the port again */
	a = addr("127.0.0.1", 22);
	CHECK_EQ(tp_peer_check(c, &self, &a, TP_PEER_PORT), TP_PEER_DENIED_RELAY_PORT);
	CHECK_EQ(tp_peer_check(c, &self, &a, TP_PEER_IP), OK);
	/* a listener is never a relay */
	a = addr("127.0.0.1", 3478);
	CHECK_EQ(tp_peer_check(c, &self, &a, TP_PEER_PORT), LIS);
	/* other loopback addresses stay special */
	a = addr("127.0.0.2", 50000);
	CHECK_EQ(tp_peer_check(c, &self, &a, TP_PEER_PORT), SP);
	/* IPv4-in-IPv6 forms of a relay address get no exemption */
	a = addr("::ffff:127.0.0.1", 50000);
	CHECK(tp_peer_check(c, &self, &a, TP_PEER_PORT) != OK);
	/* denied-peer beats it */
	add(c->denied_peers, &c->ndenied_peers, "203.0.113.0/24");
	a = addr("203.0.113.5", 50000);
	CHECK_EQ(tp_peer_check(c, &self, &a, TP_PEER_PORT), CFG);
	free(c);
}

/* RFC 4291 §2.5.5.1: :: and ::1 are not IPv4-compatible addresses. */
static void test_compat_excludes(void)
{
	struct tp_conf *c = calloc(1, sizeof(*c));
	struct tp_addr a;

	add(c->denied_peers, &c->ndenied_peers, "0.0.0.0/8");
	add(c->allowed_peers, &c->nallowed_peers, "::1/128");
	a = addr("::1", 5000);
	CHECK_EQ(tp_peer_check(c, NULL, &a, TP_PEER_PORT), OK);
	a = addr("::", 5000);
	CHECK_EQ(tp_peer_check(c, NULL, &a, TP_PEER_PORT), SP);
	a = addr("::0.0.0.2", 5000);             /* a real compatible form */
	CHECK_EQ(tp_peer_check(c, NULL, &a, TP_PEER_PORT), CFG);
	free(c);
}

static void test_cidr(void)
{
	struct tp_cidr r;
	struct tp_addr a;

	CHECK_EQ(tp_cidr_parse(&r, "10.0.0.0/8"), 0);
	CHECK_EQ(r.net.family, AF_INET);
	CHECK_EQ(r.prefix, 8);
	a = addr("10.255.0.1", 0);
	CHECK(tp_cidr_match(&r, &a));
	a = addr("11.0.0.0", 0);
	CHECK(!tp_cidr_match(&r, &a));
	a = addr("::ffff:10.0.0.1", 0);          /* plain match: families differ */
	CHECK(!tp_cidr_match(&r, &a));

	CHECK_EQ(tp_cidr_parse(&r, "::1"), 0);
	CHECK_EQ(r.prefix, 128);
	a = addr("::1", 0);
	CHECK(tp_cidr_match(&r, &a));
	a = addr("::2", 0);
	CHECK(!tp_cidr_match(&r, &a));

	CHECK_EQ(tp_cidr_parse(&r, "fc00::/7"), 0);
	a = addr("fdff::1", 0);
	CHECK(tp_cidr_match(&r, &a));
	a = addr("fe00::1", 0);
	CHECK(!tp_cidr_match(&r, &a));

	CHECK_EQ(tp_cidr_parse(&r, "0.0.0.0/0"), 0);
	a = addr("8.8.8.8", 0);
	CHECK(tp_cidr_match(&r, &a));
	CHECK_EQ(tp_cidr_parse(&r, "198.18.0.0/15"), 0);
	a = addr("198.19.1.1", 0);
	CHECK(tp_cidr_match(&r, &a));

	CHECK_EQ(tp_cidr_parse(&r, "10.0.0.1/8"), -ERANGE);
	CHECK_EQ(tp_cidr_parse(&r, "fc00::1/7"), -ERANGE);
	static const char *const bad[] = {
		"", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8",
		"10.0.0.0/08", "10.0.0.0/8x", "10/8", "10.0.0.0/8/8", "::/129", "host",
		"1.2.3.4:5", "[::1]", "10.0.0.0 /8",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = tp_cidr_parse(&r, bad[i]);
		if (rc != -EINVAL)
			fprintf(stderr, "tp_cidr_parse(\"%s\") = %d\n", bad[i], rc);
		CHECK_EQ(rc, -EINVAL);
	}
}

int main(void)
{
	test_cidr();
	test_builtin();
	test_allowed_denied();
	test_self();
	test_relay_ports();
	test_compat_excludes();
	TP_TEST_END();
}
