/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_peerpol.c - secure by default: with no allowed-peer, CreatePermission
 * (and ChannelBind) to every special-purpose range of server/peerpol.c and
 * every IPv4-in-IPv6 form of a denied IPv4 address gets 403; a config that
 * allows loopback relays to it; denied-peer beats allowed-peer; the server's
 * own listening ip:port is refused even with loopback allowed.
 */
#include <arpa/inet.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "tp_test.h"

static const char *denied4[] = {
	"0.0.0.0", "0.1.2.3",                          /* 0/8 this network */
	"10.0.0.1", "10.255.255.254",                  /* RFC 1918 */
	"172.16.0.1", "172.31.255.254",
	"192.168.0.1", "192.168.255.254",
	"100.64.0.1", "100.127.255.254",               /* CGNAT 100.64/10 */
	"127.0.0.1", "127.1.2.3",                      /* loopback */
	"169.254.0.1", "169.254.169.254",              /* link-local, cloud metadata */
	"192.0.0.1", "192.0.0.9", "192.0.0.10",        /* IETF assignments */
	"192.0.2.1", "198.51.100.7", "203.0.113.200",  /* documentation */
	"192.88.99.1",                                 /* 6to4 relay anycast */
	"198.18.0.1", "198.19.255.254",                /* benchmarking */
	"224.0.0.1", "239.255.255.250",                /* multicast */
	"240.0.0.1", "255.255.255.255",                /* reserved, broadcast */
};

static const char *denied6[] = {
	"::1", "::",                                   /* loopback, unspecified */
	"fe80::1", "febf::1",                          /* link-local fe80::/10 */
	"fec0::1",                                     /* site-local */
	"fc00::1", "fd12:3456:789a::1",                /* ULA fc00::/7 */
	"ff02::1", "ff0e::1", "ff05::1:3",             /* multicast */
	"2001:db8::1", "3fff::1",                      /* documentation */
	"100::1",                                      /* discard */
	"2001:2::1", "2001:10::1",                     /* benchmarking, ORCHID */
	"::ffff:127.0.0.1", "::ffff:10.0.0.1",         /* IPv4-mapped */
	"::ffff:169.254.169.254", "::ffff:8.8.8.8",    /* (mapped refused outright) */
	"::127.0.0.1", "::10.1.2.3",                   /* IPv4-compatible */
	"64:ff9b::7f00:1", "64:ff9b::a00:1",           /* NAT64 127.0.0.1, 10.0.0.1 */
	"64:ff9b::a9fe:a9fe",                          /* NAT64 169.254.169.254 */
	"64:ff9b:1::7f00:1",                           /* local-use NAT64 */
	"2002:7f00:1::", "2002:7f00:1::1",             /* 6to4 of 127.0.0.1 */
	"2002:a00:1::1", "2002:c0a8:101::1",           /* 6to4 of 10.0.0.1, 192.168.1.1 */
	"2001:0:7f00:1::f7f7:f7f7",                    /* Teredo, server 127.0.0.1 */
	"2001:0:4136:e378:8000:63bf:80ff:fffe",        /* Teredo, client 127.0.0.1 */
	"2001:0:4136:e378:8000:63bf:f5ff:fffe",        /* Teredo, client 10.0.0.1 */
};

/* globally reachable: CreatePermission succeeds (no packet is sent by it) */
static const char *allowed[] = {
	"8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "64:ff9b::808:808",
};

static int permit_one(struct th_client *c, const char *ip, struct th_resp *r)
{
	struct tp_addr a = th_addr(ip);

	a.port = 3478;
	return th_permit(c, &a, 1, r);
}

static void test_default_policy(void)
{
	struct th_server s;
	struct th_client c;
	struct th_resp r;
	struct th_attrs at = { .n = 0 };

	CHECK(th_server_start(&s, "relay-ip = [\"127.0.0.1\", \"::1\"];\n", 0) == 0);
	if (s.pid <= 0)
		return;
	CHECK(th_client_open(&c, &s, NULL, "alice", "alicepw") == 0);
	/* one allocation with both families, so IPv6 peers get 403 and not 443 */
	th_a_family(&at, TP_ATTR_ADDITIONAL_ADDRESS_FAMILY, TP_STUN_FAMILY_IPV6);
	CHECK_EQ(th_allocate(&c, &at, &r, NULL), 0);
	CHECK(th_get_addr(&r, TP_ATTR_XOR_RELAYED_ADDRESS, 1, &(struct tp_addr){ 0 }));

	for (size_t i = 0; i < sizeof(denied4) / sizeof(denied4[0]); i++) {
		int code = permit_one(&c, denied4[i], &r);

		if (code != 403)
			fprintf(stderr, "peer %s: got %d, want 403\n", denied4[i], code);
		CHECK_EQ(code, 403);
	}
	for (size_t i = 0; i < sizeof(denied6) / sizeof(denied6[0]); i++) {
		int code = permit_one(&c, denied6[i], &r);

		if (code != 403)
			fprintf(stderr, "peer %s: got %d, want 403\n", denied6[i], code);
		CHECK_EQ(code, 403);
	}
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		int code = permit_one(&c, allowed[i], &r);

		if (code != 0)
			fprintf(stderr, "peer %s: got %d, want success\n", allowed[i], code);
		CHECK_EQ(code, 0);
	}
	/* one denied address among allowed ones: the whole request fails */
	struct tp_addr mix[3] = { th_addr("1.1.1.1:1"), th_addr("127.0.0.1:1"),
	                          th_addr("8.8.4.4:1") };

	CHECK_EQ(th_permit(&c, mix, 3, &r), 403);
	/* ChannelBind is checked the same way */
	struct tp_addr lo = th_addr("127.0.0.1:5000"), m6 = th_addr("[::ffff:127.0.0.1]:5000");

	CHECK_EQ(th_chanbind(&c, 0x4000, &lo, &r), 403);
	CHECK_EQ(th_chanbind(&c, 0x4001, &m6, &r), 403);

	/* the default refuses loopback: nothing reaches a local peer */
	struct tp_addr peer, relay;
	int pfd = th_udp_open("127.0.0.2", &peer);
	uint8_t buf[64];

	th_get_addr(&r, TP_ATTR_XOR_RELAYED_ADDRESS, 0, &relay);
	CHECK_EQ(th_permit(&c, &peer, 1, &r), 403);
	CHECK(th_send_ind(&c, &peer, "x", 1) == 0);
	CHECK_EQ(th_udp_recv(pfd, buf, sizeof(buf), 300, NULL), 0);
	close(pfd);
	CHECK_EQ(th_refresh(&c, 0, &r), 0);
	th_client_close(&c);
	CHECK(th_server_stop(&s) == 0);
}

static void test_loopback_allowed(void)
{
	struct th_server s;
	struct th_client c;
	struct th_resp r;
	struct th_data d;
	struct tp_addr peer, relay, denied;
	uint8_t buf[64];
	struct tp_addr from;
	int pfd, dfd;

	CHECK(th_server_start(&s,
	                      "allowed-peer = [\"127.0.0.0/8\"];\n"
	                      "denied-peer = [\"127.0.0.3\"];\n",
	                      0) == 0);
	if (s.pid <= 0)
		return;
	pfd = th_udp_open("127.0.0.2", &peer);
	dfd = th_udp_open("127.0.0.3", &denied);
	CHECK(th_client_open(&c, &s, NULL, "alice", "alicepw") == 0);
	CHECK_EQ(th_allocate(&c, NULL, &r, &relay), 0);
	CHECK_EQ(th_permit(&c, &peer, 1, &r), 0);
	CHECK(th_send_ind(&c, &peer, "allowed", 7) == 0);
	CHECK_EQ(th_udp_recv(pfd, buf, sizeof(buf), 1000, &from), 7);
	CHECK(tp_addr_eq(&from, &relay));
	CHECK(th_udp_send(pfd, &relay, "back", 4) == 0);
	CHECK_EQ(th_recv_data(&c, &d, 1000), 1);
	/* denied-peer beats allowed-peer */
	CHECK_EQ(th_permit(&c, &denied, 1, &r), 403);
	CHECK_EQ(th_chanbind(&c, 0x4003, &denied, &r), 403);
	/* the IPv4-mapped form of an allowed loopback address is still refused */
	struct tp_addr mapped = th_addr("[::ffff:127.0.0.2]:5000");

	CHECK(th_permit(&c, &mapped, 1, &r) != 0);

	/* the server's own listening ip:port, even with loopback allowed */
	CHECK_EQ(th_permit(&c, &s.addr, 1, &r), 0); /* the IP alone is allowed */
	CHECK_EQ(th_chanbind(&c, 0x4000, &s.addr, &r), 403);
	/* a Send indication carrying a Binding request to our own listener is not
	 * relayed: no answer can come back from the listener */
	{
		struct tp_stun_wr w;
		uint8_t req[32], tid[TP_STUN_TID_LEN];
		long n;

		tp_stun_new_tid(tid);
		tp_stun_wr_init(&w, req, sizeof(req), TP_METHOD_BINDING, TP_CLASS_REQUEST, tid);
		n = tp_stun_wr_finish(&w);
		CHECK(th_send_ind(&c, &s.addr, req, (size_t)n) == 0);
		CHECK_EQ(th_recv_data(&c, &d, 500), 0);
	}
	/* other ports on 127.0.0.1 are fine */
	CHECK_EQ(th_chanbind(&c, 0x4001, &peer, &r), 0);
	CHECK(th_chandata(&c, 0x4001, "chan", 4) == 0);
	CHECK_EQ(th_udp_recv(pfd, buf, sizeof(buf), 1000, &from), 4);
	CHECK_EQ(th_refresh(&c, 0, &r), 0);
	th_client_close(&c);
	close(pfd);
	close(dfd);
	CHECK(th_server_stop(&s) == 0);
}

/*
 * Two relay-only clients of one server: each allocation's peer is the other's
 * relay address, which the default policy (loopback relay, no allowed-peer)
 * opens because, and only while, an allocation holds that port. Several pairs
 * on two workers, so some pairs cross worker threads.
 */
#define NPAIRS 6

static void test_relay_to_relay(void)
{
	struct th_server s;
	struct th_client a[NPAIRS], b[NPAIRS];
	struct tp_addr ra[NPAIRS], rb[NPAIRS];
	struct th_resp r;
	struct th_data d;

	CHECK(th_server_start(&s, "workers = 2;\n", 0) == 0);
	if (s.pid <= 0)
		return;
	for (int i = 0; i < NPAIRS; i++) {
		CHECK(th_client_open(&a[i], &s, NULL, "alice", "alicepw") == 0);
		CHECK(th_client_open(&b[i], &s, NULL, "bob", "bobpw") == 0);
		CHECK_EQ(th_allocate(&a[i], NULL, &r, &ra[i]), 0);
		CHECK_EQ(th_allocate(&b[i], NULL, &r, &rb[i]), 0);
	}
	for (int i = 0; i < NPAIRS; i++) {
		/* a: CreatePermission + Send indication; b: ChannelBind + ChannelData */
		CHECK_EQ(th_permit(&a[i], &rb[i], 1, &r), 0);
		CHECK_EQ(th_chanbind(&b[i], 0x4001, &ra[i], &r), 0);
		CHECK(th_send_ind(&a[i], &rb[i], "a->b", 4) == 0);
		CHECK_EQ(th_recv_data(&b[i], &d, 1000), 1);
		CHECK(d.is_chan && d.chan == 0x4001 && d.len == 4 && memcmp(d.data, "a->b", 4) == 0);
		CHECK(th_chandata(&b[i], 0x4001, "b->a", 4) == 0);
		CHECK_EQ(th_recv_data(&a[i], &d, 1000), 1);
		CHECK(!d.is_chan && tp_addr_eq(&d.peer, &rb[i]) && d.len == 4 &&
		      memcmp(d.data, "b->a", 4) == 0);
	}
	/* the relay address on a port no allocation holds: refused */
	struct tp_addr other = rb[0];

	other.port = (uint16_t)(s.max_port + 1);
	CHECK_EQ(th_permit(&a[0], &other, 1, &r), 403);
	CHECK_EQ(th_chanbind(&a[0], 0x4002, &other, &r), 403);
	other.port = 22;
	CHECK_EQ(th_permit(&a[0], &other, 1, &r), 403);
	/* the server's own listener on that address: refused */
	CHECK_EQ(th_chanbind(&a[0], 0x4002, &s.addr, &r), 403);

	/* b[0] releases its allocation: its port is refused again, and what a[0]
	 * sends there (permission still installed) goes nowhere */
	struct tp_addr gone = rb[0];
	int pfd;

	CHECK_EQ(th_refresh(&b[0], 0, &r), 0);
	CHECK_EQ(th_permit(&a[0], &gone, 1, &r), 403);
	CHECK_EQ(th_chanbind(&a[0], 0x4003, &gone, &r), 403);
	/* something else binds the released port: nothing reaches it */
	pfd = th_udp_open_port("127.0.0.1", gone.port);
	if (pfd >= 0) {
		uint8_t buf[64];

		CHECK(th_send_ind(&a[0], &gone, "leak", 4) == 0);
		CHECK_EQ(th_udp_recv(pfd, buf, sizeof(buf), 300, NULL), 0);
		close(pfd);
	}
	/* a channel bound to another allocation stops with it (each ChannelData
	 * checks that the port is still held) */
	CHECK_EQ(th_chanbind(&a[1], 0x4004, &rb[1], &r), 0);
	CHECK(th_chandata(&a[1], 0x4004, "x", 1) == 0);
	CHECK_EQ(th_recv_data(&b[1], &d, 1000), 1);
	CHECK_EQ(th_refresh(&b[1], 0, &r), 0);
	pfd = th_udp_open_port("127.0.0.1", rb[1].port);
	if (pfd >= 0) {
		uint8_t buf[64];

		CHECK(th_chandata(&a[1], 0x4004, "leak", 4) == 0);
		CHECK_EQ(th_udp_recv(pfd, buf, sizeof(buf), 300, NULL), 0);
		close(pfd);
	}
	for (int i = 0; i < NPAIRS; i++) {
		CHECK_EQ(th_refresh(&a[i], 0, &r), 0);
		if (i > 1)
			CHECK_EQ(th_refresh(&b[i], 0, &r), 0);
		th_client_close(&a[i]);
		th_client_close(&b[i]);
	}
	CHECK(th_server_stop(&s) == 0);
}

int main(int argc, char **argv)
{
	th_init(argc, argv);
	test_default_policy();
	test_loopback_allowed();
	test_relay_to_relay();
	TP_TEST_END();
}
