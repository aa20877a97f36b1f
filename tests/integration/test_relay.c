/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_relay.c - Refresh, CreatePermission, ChannelBind, Send and Data
 * indications, ChannelData, permissions enforced both ways, ICMP reporting
 * without tearing the allocation down (RFC 8656 §7.3, §9-§12, §11.5).
 */
#include <arpa/inet.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "tp_test.h"

static const char conf[] =
	"relay-ip = [\"127.0.0.1\", \"::1\"];\n"
	"allowed-peer = [\"127.0.0.0/8\", \"::1\"];\n"
	"max-lifetime = 3600;\n";

struct peer {
	int fd;
	struct tp_addr addr;
};

static void peer_open(struct peer *p, const char *ip)
{
	p->fd = th_udp_open(ip, &p->addr);
	CHECK(p->fd >= 0);
}

/* peer receives exactly msg, from the relay */
static bool peer_gets(struct peer *p, const struct tp_addr *relay, const char *msg)
{
	uint8_t buf[2048];
	struct tp_addr from;
	long n = th_udp_recv(p->fd, buf, sizeof(buf), 1000, &from);

	return n == (long)strlen(msg) && memcmp(buf, msg, (size_t)n) == 0 &&
	       tp_addr_eq(&from, relay);
}

static bool peer_silent(struct peer *p, int ms)
{
	uint8_t buf[2048];

	return th_udp_recv(p->fd, buf, sizeof(buf), ms, NULL) == 0;
}

static void test_refresh(const struct th_server *s)
{
	struct th_client c;
	struct th_resp r;
	struct tp_addr peer = th_addr("127.0.0.2:5000");

	CHECK(th_client_open(&c, s, NULL, "alice", "alicepw") == 0);
	CHECK_EQ(th_allocate(&c, NULL, &r, NULL), 0);
	CHECK_EQ(th_refresh(&c, 100000, &r), 0);
	CHECK_EQ(th_get_u32(&r, TP_ATTR_LIFETIME), 3600);
	CHECK_EQ(th_refresh(&c, -1, &r), 0);
	CHECK_EQ(th_get_u32(&r, TP_ATTR_LIFETIME), 600);
	CHECK_EQ(th_refresh(&c, 1200, &r), 0);
	CHECK_EQ(th_get_u32(&r, TP_ATTR_LIFETIME), 1200);
	/* Refresh(0) deletes; its answer may be lost on UDP, so a retransmission
	 * (same transaction ID, within 30 s) gets success again (RFC 8656 §7.3),
	 * while a new Refresh(0) gets 437 */
	uint8_t tid[TP_STUN_TID_LEN];

	tp_stun_new_tid(tid);
	c.tid = tid;
	CHECK_EQ(th_refresh(&c, 0, &r), 0);
	CHECK_EQ(th_get_u32(&r, TP_ATTR_LIFETIME), 0);
	CHECK_EQ(th_refresh(&c, 0, &r), 0);
	CHECK_EQ(th_get_u32(&r, TP_ATTR_LIFETIME), 0);
	c.tid = NULL;
	CHECK_EQ(th_refresh(&c, 0, &r), 437);
	/* deleted at once */
	CHECK_EQ(th_refresh(&c, 600, &r), 437);
	CHECK_EQ(th_permit(&c, &peer, 1, &r), 437);
	CHECK_EQ(th_chanbind(&c, 0x4000, &peer, &r), 437);
	/* and the 5-tuple can allocate again */
	CHECK_EQ(th_allocate(&c, NULL, &r, NULL), 0);
	CHECK_EQ(th_refresh(&c, 0, &r), 0);
	th_client_close(&c);
}

static void test_data(const struct th_server *s)
{
	struct th_client c;
	struct th_resp r;
	struct th_data d;
	struct tp_addr relay;
	struct peer p1, p2, p3, p4;

	peer_open(&p1, "127.0.0.2");
	peer_open(&p2, "127.0.0.3");
	peer_open(&p3, "127.0.0.4");
	peer_open(&p4, "127.0.0.5"); /* never permitted */
	CHECK(th_client_open(&c, s, NULL, "alice", "alicepw") == 0);
	CHECK_EQ(th_allocate(&c, NULL, &r, &relay), 0);

	/* several XOR-PEER-ADDRESS at once */
	struct tp_addr peers[3] = { p1.addr, p2.addr, p3.addr };

	CHECK_EQ(th_permit(&c, peers, 3, &r), 0);
	CHECK(th_has(&r, TP_ATTR_MESSAGE_INTEGRITY));
	CHECK_EQ(th_permit(&c, NULL, 0, &r), 400);
	/* an IPv6 peer on an IPv4-only allocation: 443 */
	struct tp_addr v6 = th_addr("[::1]:5000");

	CHECK_EQ(th_permit(&c, &v6, 1, &r), 443);
	CHECK_EQ(th_chanbind(&c, 0x4005, &v6, &r), 443);

	/* Send indication -> peer; peer -> Data indication */
	CHECK(th_send_ind(&c, &p1.addr, "hello p1", 8) == 0);
	CHECK(peer_gets(&p1, &relay, "hello p1"));
	CHECK(th_send_ind(&c, &p2.addr, "hello p2", 8) == 0);
	CHECK(peer_gets(&p2, &relay, "hello p2"));
	CHECK(th_udp_send(p1.fd, &relay, "from p1", 7) == 0);
	CHECK_EQ(th_recv_data(&c, &d, 1000), 1);
	CHECK(!d.is_chan);
	CHECK(tp_addr_eq(&d.peer, &p1.addr));
	CHECK(d.len == 7 && memcmp(d.data, "from p1", 7) == 0);

	/* permissions are enforced both ways */
	CHECK(th_udp_send(p4.fd, &relay, "intruder", 8) == 0);
	CHECK_EQ(th_recv_data(&c, &d, 300), 0);
	CHECK(th_send_ind(&c, &p4.addr, "leak", 4) == 0);
	CHECK(peer_silent(&p4, 300));

	/* ChannelBind: range, conflicts, refresh */
	CHECK_EQ(th_chanbind(&c, 0x4000, &p1.addr, &r), 0);
	CHECK_EQ(th_chanbind(&c, 0x3FFF, &p2.addr, &r), 400);
	CHECK_EQ(th_chanbind(&c, 0x5000, &p2.addr, &r), 400);
	{
		/* the reason names the option that accepts RFC 5766's range */
		const struct tp_stun_attr *ec = tp_stun_find(&r.m, TP_ATTR_ERROR_CODE);
		struct tp_error_code e;

		CHECK(ec != NULL);
		if (ec) {
			tp_attr_error_code(ec, &e);
			CHECK(e.reason_len > 0 && memmem(e.reason, e.reason_len, "legacy-channels",
			                                 15) != NULL);
		}
	}
	CHECK_EQ(th_chanbind(&c, 0x4000, &p2.addr, &r), 400); /* number bound to p1 */
	CHECK_EQ(th_chanbind(&c, 0x4001, &p1.addr, &r), 400); /* p1 bound to 0x4000 */
	CHECK_EQ(th_chanbind(&c, 0x4000, &p1.addr, &r), 0);   /* refresh */
	CHECK_EQ(th_chanbind(&c, 0x4FFF, &p2.addr, &r), 0);

	/* ChannelData both ways */
	CHECK(th_chandata(&c, 0x4000, "chan to p1", 10) == 0);
	CHECK(peer_gets(&p1, &relay, "chan to p1"));
	CHECK(th_chandata(&c, 0x4FFF, "chan to p2!", 11) == 0);
	CHECK(peer_gets(&p2, &relay, "chan to p2!"));
	CHECK(th_udp_send(p1.fd, &relay, "p1 on chan", 10) == 0);
	CHECK_EQ(th_recv_data(&c, &d, 1000), 1);
	CHECK(d.is_chan);
	CHECK_EQ(d.chan, 0x4000);
	CHECK(d.len == 10 && memcmp(d.data, "p1 on chan", 10) == 0);
	/* an unbound channel number relays nothing */
	CHECK(th_chandata(&c, 0x4002, "nowhere", 7) == 0);
	CHECK(peer_silent(&p3, 200));
	/* p3 has a permission but no channel: Data indication */
	CHECK(th_udp_send(p3.fd, &relay, "p3", 2) == 0);
	CHECK_EQ(th_recv_data(&c, &d, 1000), 1);
	CHECK(!d.is_chan && tp_addr_eq(&d.peer, &p3.addr));

	/* a peer port with nothing listening: ICMP port unreachable comes back as a
	 * Data indication with an ICMP attribute, and the allocation lives on */
	struct tp_addr dead = p1.addr;
	bool icmp = false;

	dead.port = th_free_port();
	for (int i = 0; i < 3 && !icmp; i++) {
		CHECK(th_send_ind(&c, &dead, "void", 4) == 0);
		while (th_recv_data(&c, &d, 500) == 1) {
			if (d.has_icmp) {
				icmp = true;
				CHECK(tp_addr_eq(&d.peer, &dead));
				CHECK_EQ(d.icmp.type, 3);
				CHECK_EQ(d.icmp.code, 3);
				CHECK_EQ(d.len, 0);
			}
		}
	}
	CHECK(icmp);
	CHECK(th_send_ind(&c, &p1.addr, "still here", 10) == 0);
	CHECK(peer_gets(&p1, &relay, "still here"));
	CHECK(th_chandata(&c, 0x4000, "chan alive", 10) == 0);
	CHECK(peer_gets(&p1, &relay, "chan alive"));
	CHECK(th_udp_send(p2.fd, &relay, "back", 4) == 0);
	CHECK_EQ(th_recv_data(&c, &d, 1000), 1);
	CHECK(d.is_chan && d.chan == 0x4FFF);
	CHECK_EQ(th_refresh(&c, 600, &r), 0);

	CHECK_EQ(th_refresh(&c, 0, &r), 0);
	/* after deletion nothing is relayed */
	CHECK(th_udp_send(p1.fd, &relay, "late", 4) == 0);
	CHECK_EQ(th_recv_data(&c, &d, 300), 0);
	th_client_close(&c);
	close(p1.fd);
	close(p2.fd);
	close(p3.fd);
	close(p4.fd);
}

/* IPv6 relay to an IPv6 peer, and an ICMPv6 error on it */
static void test_v6(const struct th_server *s)
{
	struct th_client c;
	struct th_resp r;
	struct th_attrs at = { .n = 0 };
	struct th_data d;
	struct tp_addr relay, r4;
	struct peer p;

	peer_open(&p, "::1");
	CHECK(th_client_open(&c, s, NULL, "alice", "alicepw") == 0);
	th_a_family(&at, TP_ATTR_ADDITIONAL_ADDRESS_FAMILY, TP_STUN_FAMILY_IPV6);
	CHECK_EQ(th_allocate(&c, &at, &r, &r4), 0);
	CHECK(th_get_addr(&r, TP_ATTR_XOR_RELAYED_ADDRESS, 1, &relay));
	CHECK_EQ(relay.family, AF_INET6);
	CHECK_EQ(th_permit(&c, &p.addr, 1, &r), 0);
	CHECK(th_send_ind(&c, &p.addr, "v6 hello", 8) == 0);
	CHECK(peer_gets(&p, &relay, "v6 hello"));
	CHECK(th_udp_send(p.fd, &relay, "v6 back", 7) == 0);
	CHECK_EQ(th_recv_data(&c, &d, 1000), 1);
	CHECK(tp_addr_eq(&d.peer, &p.addr));
	CHECK(d.len == 7 && memcmp(d.data, "v6 back", 7) == 0);

	struct tp_addr dead = p.addr;
	bool icmp = false;
	struct peer tmp;

	peer_open(&tmp, "::1");
	dead.port = tmp.addr.port;
	close(tmp.fd);
	for (int i = 0; i < 3 && !icmp; i++) {
		CHECK(th_send_ind(&c, &dead, "void", 4) == 0);
		while (th_recv_data(&c, &d, 500) == 1)
			if (d.has_icmp) {
				icmp = true;
				CHECK_EQ(d.icmp.type, 1); /* ICMPv6 destination unreachable */
				CHECK_EQ(d.icmp.code, 4); /* port unreachable */
			}
	}
	CHECK(icmp);
	CHECK(th_send_ind(&c, &p.addr, "v6 alive", 8) == 0);
	CHECK(peer_gets(&p, &relay, "v6 alive"));
	CHECK_EQ(th_refresh(&c, 0, &r), 0);
	th_client_close(&c);
	close(p.fd);
}

/* max-permissions and max-channels per allocation */
static void test_limits(void)
{
	struct th_server s;
	struct th_client c;
	struct th_resp r;
	struct tp_addr p[3] = { th_addr("127.0.0.2:7000"), th_addr("127.0.0.3:7000"),
	                        th_addr("127.0.0.4:7000") };

	CHECK(th_server_start(&s,
	                      "allowed-peer = [\"127.0.0.0/8\"];\n"
	                      "max-permissions = 2;\nmax-channels = 1;\n",
	                      0) == 0);
	if (s.pid <= 0)
		return;
	CHECK(th_client_open(&c, &s, NULL, "alice", "alicepw") == 0);
	CHECK_EQ(th_allocate(&c, NULL, &r, NULL), 0);
	CHECK_EQ(th_permit(&c, p, 2, &r), 0);
	CHECK_EQ(th_permit(&c, p, 2, &r), 0); /* refreshing is not adding */
	CHECK_EQ(th_permit(&c, &p[2], 1, &r), 508);
	CHECK_EQ(th_chanbind(&c, 0x4000, &p[0], &r), 0);
	CHECK_EQ(th_chanbind(&c, 0x4001, &p[1], &r), 508);
	CHECK_EQ(th_refresh(&c, 0, &r), 0);
	th_client_close(&c);
	CHECK(th_server_stop(&s) == 0);
}

int main(int argc, char **argv)
{
	struct th_server s;

	th_init(argc, argv);
	CHECK(th_server_start(&s, conf, 0) == 0);
	if (s.pid > 0) {
		test_refresh(&s);
		test_data(&s);
		test_v6(&s);
		CHECK(th_server_stop(&s) == 0);
	}
	test_limits();
	TP_TEST_END();
}
