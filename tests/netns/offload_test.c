/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * offload_test.c - the kernel datapath (server/offload.c + bpf/relay.bpf.c)
 * with real packets across three network namespaces (offload_test.sh builds
 * them):
 *
 *   [cli] c0 198.51.100.2 2001:db8:1::2 --- s0 198.51.100.1 2001:db8:1::1 [srv]
 *   [srv] s1 203.0.113.1 2001:db8:2::1  --- p0 203.0.113.2 2001:db8:2::2 [peer]
 *
 * The server namespace has no IP forwarding: the only way from the client to
 * the peer is the relay. The program runs in [srv], opens the module there,
 * binds real listener (:3478) and relay (:49152) sockets, and creates the
 * client's and peer's sockets inside their namespaces with setns(). So a
 * datagram the kernel path does not take reaches a socket this program reads:
 * every "goes to user space" case is observed, not assumed.
 *
 * Per family (IPv4, IPv6) and per attach mode (tcx where the kernel has it,
 * then cls_bpf):
 *   - ChannelData from the client arrives at the peer as plain UDP from the
 *     relay address with the right payload; a raw capture on the peer's
 *     interface verifies IP and UDP checksums, TTL - 1 and the TOS byte;
 *     padding (non-zero bytes, odd data length) is stripped; a zero IPv4 UDP
 *     checksum stays zero;
 *   - the peer's datagrams arrive at the client as ChannelData from the
 *     listener address, checksums verified the same way, also when the payload
 *     itself starts like ChannelData;
 *   - unknown channel, STUN, ChannelData longer than its datagram, bad
 *     padding, TTL 1, fragments, IP options / IPv6 extension headers, a
 *     checksum left to the device (tx offload on), a peer datagram that would
 *     outgrow the MTU, a peer without an entry: each reaches the listener or
 *     relay socket byte for byte, with its reason counted;
 *   - frames injected with a corrupt UDP checksum are relayed still corrupt
 *     (the peer's stack drops them: never laundered into valid ones); a
 *     corrupt IPv4 header checksum is left to the stack;
 *   - the relay socket closed, or the lease held: user space again;
 *   - counters equal what was sent; after chan_del everything goes to user
 *     space and the last counters are reported;
 *   - a server killed with SIGKILL leaves nothing that relays, and after close
 *     no filter or link is left on the interfaces.
 *
 *   offload_test SRV_NS CLI_NS PEER_NS    (exit 0 pass, 1 fail, 77 skip)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "offload.h"
#include "tp_test.h"

#define LISTEN_PORT 3478
#define RELAY_PORT 49152
#define PEER_PORT 9000
#define PEER2_PORT 9001
#define PEER3_PORT 9002   /* the peer of the per-test client variants' channels */
#define CHAN 0x4001
#define TOS 0x28
#define WAIT_MS 1000
#define QUIET_MS 150

struct fam {
	int af;
	const char *name;
	const char *cli, *lis, *rel, *peer;
};

static const struct fam fams[] = {
	{ AF_INET, "ipv4", "198.51.100.2", "198.51.100.1", "203.0.113.1", "203.0.113.2" },
	{ AF_INET6, "ipv6", "2001:db8:1::2", "2001:db8:1::1", "2001:db8:2::1", "2001:db8:2::2" },
};

static int ns_srv = -1, ns_cli = -1, ns_peer = -1;

static void in_ns(int fd)
{
	if (setns(fd, CLONE_NEWNET) != 0) {
		perror("setns");
		exit(1);
	}
}

/* ------------------------------------------------------------------ */
/* Sockets                                                             */
/* ------------------------------------------------------------------ */

struct ep {
	int fd;
	struct sockaddr_storage sa;
	socklen_t salen;
	struct tp_addr a;
};

static void sa_make(int af, const char *ip, uint16_t port, struct sockaddr_storage *ss,
                    socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (af == AF_INET) {
		struct sockaddr_in *s = (void *)ss;

		s->sin_family = AF_INET;
		s->sin_port = htons(port);
		inet_pton(AF_INET, ip, &s->sin_addr);
		*len = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (void *)ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons(port);
		inet_pton(AF_INET6, ip, &s->sin6_addr);
		*len = sizeof(*s);
	}
}

/* A UDP socket bound in namespace ns (port 0: any). */
static struct ep udp_ep(int ns, int af, const char *ip, uint16_t port)
{
	struct ep e;
	int one = 1, buf = 1 << 20;

	in_ns(ns);
	memset(&e, 0, sizeof(e));
	sa_make(af, ip, port, &e.sa, &e.salen);
	e.fd = socket(af, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (e.fd < 0)
		goto fail;
	if (af == AF_INET6)
		setsockopt(e.fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	setsockopt(e.fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (bind(e.fd, (struct sockaddr *)&e.sa, e.salen) != 0 ||
	    getsockname(e.fd, (struct sockaddr *)&e.sa, &e.salen) != 0)
		goto fail;
	tp_addr_from_sa(&e.a, (struct sockaddr *)&e.sa);
	in_ns(ns_srv);
	return e;
fail:
	fprintf(stderr, "socket %s:%u: %s\n", ip, port, strerror(errno));
	exit(1);
}

static void send_to(const struct ep *from, const struct ep *to, const void *b, size_t n)
{
	if (sendto(from->fd, b, n, 0, (const struct sockaddr *)&to->sa, to->salen) != (ssize_t)n)
		fprintf(stderr, "sendto: %s\n", strerror(errno));
}

/* Wait up to ms for one datagram; its length, or -1. */
static ssize_t recv_wait(int fd, void *b, size_t cap, struct tp_addr *from, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	ssize_t n;

	if (poll(&p, 1, ms) != 1)
		return -1;
	n = recvfrom(fd, b, cap, MSG_DONTWAIT, (struct sockaddr *)&ss, &sl);
	if (n >= 0 && from)
		tp_addr_from_sa(from, (struct sockaddr *)&ss);
	return n;
}

/* How many datagrams are waiting (drained). */
static int drain(int fd, int ms)
{
	uint8_t b[4096];
	int k = 0;

	while (recv_wait(fd, b, sizeof(b), NULL, ms) >= 0) {
		k++;
		ms = 0;
	}
	return k;
}

/* ------------------------------------------------------------------ */
/* Raw capture and independent checksum verification                  */
/* ------------------------------------------------------------------ */

/* RFC 1071, written plainly (independent of server/bpf/csum.h). */
static uint32_t sum_bytes(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Does this UDP datagram (header + payload) carry a correct checksum? */
static bool udp_csum_ok(int af, const uint8_t *src, const uint8_t *dst, const uint8_t *udp,
                        size_t len)
{
	size_t al = af == AF_INET ? 4 : 16;
	uint32_t s = 0;

	s = sum_bytes(s, src, al);
	s = sum_bytes(s, dst, al);
	s += IPPROTO_UDP + (uint32_t)len;
	s = sum_bytes(s, udp, len);
	return fold(s) == 0xffff;
}

struct frame {
	uint8_t b[4096];
	size_t len;
	unsigned status;    /* tp_status of PACKET_AUXDATA */
};

static int capture_open(int ns, const char *ifname)
{
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int one = 1, fd;

	in_ns(ns);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));
	ll.sll_ifindex = (int)if_nametoindex(ifname);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ll, sizeof(ll)) != 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) != 0) {
		perror("capture");
		exit(1);
	}
	in_ns(ns_srv);
	return fd;
}

/* The next incoming frame on the capture socket, or false. */
static bool capture_next(int fd, struct frame *f)
{
	union {
		struct cmsghdr c;
		uint8_t b[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	} ctl;
	struct sockaddr_ll ll;
	struct iovec iov = { f->b, sizeof(f->b) };
	struct msghdr mh = { .msg_name = &ll, .msg_namelen = sizeof(ll), .msg_iov = &iov,
	                     .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof(ctl) };

	for (;;) {
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);

		if (n < 0)
			return false;
		if (ll.sll_pkttype == PACKET_OUTGOING)
			continue;
		f->len = (size_t)n;
		f->status = 0;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA)
				f->status = ((struct tpacket_auxdata *)CMSG_DATA(c))->tp_status;
		return true;
	}
}

struct seen {
	bool found, ip_ok, udp_ok, csum_final;
	unsigned ttl, tos;
	uint16_t check;
};

/*
 * Find, among the captured frames, the UDP datagram from -> to whose payload is
 * want[0..n), and verify it: IPv4 header checksum, UDP checksum (when the
 * frame carries a final one), TTL / hop limit and TOS / traffic class.
 */
static struct seen capture_find(int fd, int af, const struct tp_addr *from,
                                const struct tp_addr *to, const uint8_t *want, size_t n)
{
	struct seen r = { 0 };
	struct frame f;

	while (capture_next(fd, &f)) {
		const uint8_t *ip = f.b + 14, *udp, *src, *dst;
		size_t iplen, hl;
		uint16_t et = (uint16_t)(f.b[12] << 8 | f.b[13]);

		if (f.len < 14 + 28)
			continue;
		if (af == AF_INET) {
			if (et != ETH_P_IP || (ip[0] >> 4) != 4 || ip[9] != IPPROTO_UDP)
				continue;
			hl = (size_t)(ip[0] & 15) * 4;
			iplen = (size_t)(ip[2] << 8 | ip[3]);
			src = ip + 12;
			dst = ip + 16;
		} else {
			if (et != ETH_P_IPV6 || f.len < 14 + 48 || ip[6] != IPPROTO_UDP)
				continue;
			hl = 40;
			iplen = 40 + (size_t)(ip[4] << 8 | ip[5]);
			src = ip + 8;
			dst = ip + 24;
		}
		udp = ip + hl;
		if (iplen + 14 > f.len || iplen < hl + 8)
			continue;
		size_t ulen = (size_t)(udp[4] << 8 | udp[5]);

		if (memcmp(src, from->ip, af == AF_INET ? 4 : 16) != 0 ||
		    memcmp(dst, to->ip, af == AF_INET ? 4 : 16) != 0 ||
		    (udp[0] << 8 | udp[1]) != from->port || (udp[2] << 8 | udp[3]) != to->port ||
		    ulen != n + 8 || memcmp(udp + 8, want, n) != 0)
			continue;
		r.found = true;
		r.check = (uint16_t)(udp[6] << 8 | udp[7]);
		r.csum_final = !(f.status & TP_STATUS_CSUMNOTREADY);
		if (af == AF_INET) {
			r.ip_ok = fold(sum_bytes(0, ip, hl)) == 0xffff;
			r.ttl = ip[8];
			r.tos = ip[1];
			r.udp_ok = r.check == 0 || udp_csum_ok(af, src, dst, udp, ulen);
		} else {
			r.ip_ok = true;
			r.ttl = ip[7];
			r.tos = (unsigned)((ip[0] & 15) << 4 | ip[1] >> 4);
			r.udp_ok = udp_csum_ok(af, src, dst, udp, ulen);
		}
		return r;
	}
	return r;
}

/* ------------------------------------------------------------------ */
/* Namespace plumbing: tx checksum offload, counters, frame injection  */
/* ------------------------------------------------------------------ */

/* Checksum offload on transmit: on, a local sender leaves the UDP checksum to
 * the device (CHECKSUM_PARTIAL); off, it computes the final one. */
static void tx_csum(int ns, const char *ifname, bool on)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_STXCSUM, .data = on };
	struct ifreq ifr;
	int fd;

	in_ns(ns);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	if (fd < 0 || ioctl(fd, SIOCETHTOOL, &ifr) != 0) {
		fprintf(stderr, "ETHTOOL_STXCSUM %s: %s\n", ifname, strerror(errno));
		exit(1);
	}
	close(fd);
	in_ns(ns_srv);
}

/* UDP InCsumErrors of a namespace (IPv4 and IPv6 together). */
static unsigned long csum_errors(int ns)
{
	unsigned long total = 0;
	char line[1024];
	FILE *f;

	in_ns(ns);
	f = fopen("/proc/net/snmp", "r");
	if (f) {
		char hdr[1024] = "";

		while (fgets(line, sizeof(line), f)) {
			if (strncmp(line, "Udp:", 4) != 0)
				continue;
			if (!hdr[0]) {
				snprintf(hdr, sizeof(hdr), "%s", line);
				continue;
			}
			/* find the InCsumErrors column */
			char *h = hdr, *v = line, *hs, *vs;
			char *ht = strtok_r(h, " \n", &hs), *vt = strtok_r(v, " \n", &vs);

			while (ht && vt) {
				if (strcmp(ht, "InCsumErrors") == 0)
					total += strtoul(vt, NULL, 10);
				ht = strtok_r(NULL, " \n", &hs);
				vt = strtok_r(NULL, " \n", &vs);
			}
		}
		fclose(f);
	}
	f = fopen("/proc/net/snmp6", "r");
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (strncmp(line, "Udp6InCsumErrors", 16) == 0)
				total += strtoul(line + 16, NULL, 10);
		fclose(f);
	}
	in_ns(ns_srv);
	return total;
}

static bool mac_of(int ns, const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr;
	int fd;
	bool ok;

	in_ns(ns);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ok = fd >= 0 && ioctl(fd, SIOCGIFHWADDR, &ifr) == 0;
	if (ok)
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	if (fd >= 0)
		close(fd);
	in_ns(ns_srv);
	return ok;
}

/* Send a hand-made IPv4 frame client -> listener from c0 (AF_PACKET), with a
 * correct or deliberately broken IP or UDP checksum. */
static void inject4(const struct ep *cli, const struct ep *lis, const uint8_t *pl, size_t n,
                    bool bad_ip, bool bad_udp)
{
	uint8_t f[1600], smac[6], dmac[6];
	uint8_t *ip = f + 14, *udp = ip + 20;
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_halen = 6 };
	uint32_t s;
	int fd;

	if (!mac_of(ns_cli, "c0", smac) || !mac_of(ns_srv, "s0", dmac))
		exit(1);
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[2] = (uint8_t)((28 + n) >> 8);
	ip[3] = (uint8_t)(28 + n);
	ip[6] = 0x40;   /* DF */
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	memcpy(ip + 12, cli->a.ip, 4);
	memcpy(ip + 16, lis->a.ip, 4);
	s = fold(sum_bytes(0, ip, 20)) ^ 0xffff;
	if (bad_ip)
		s ^= 0x0101;
	ip[10] = (uint8_t)(s >> 8);
	ip[11] = (uint8_t)s;
	udp[0] = (uint8_t)(cli->a.port >> 8);
	udp[1] = (uint8_t)cli->a.port;
	udp[2] = (uint8_t)(lis->a.port >> 8);
	udp[3] = (uint8_t)lis->a.port;
	udp[4] = (uint8_t)((8 + n) >> 8);
	udp[5] = (uint8_t)(8 + n);
	udp[6] = udp[7] = 0;
	memcpy(udp + 8, pl, n);
	s = sum_bytes(0, ip + 12, 8) + IPPROTO_UDP + (uint32_t)(8 + n);
	s = fold(sum_bytes(s, udp, 8 + n)) ^ 0xffff;
	if (s == 0)
		s = 0xffff;
	if (bad_udp)
		s ^= 0x0110;
	udp[6] = (uint8_t)(s >> 8);
	udp[7] = (uint8_t)s;

	in_ns(ns_cli);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_IP));
	ll.sll_ifindex = (int)if_nametoindex("c0");
	memcpy(ll.sll_addr, dmac, 6);
	if (fd < 0 || sendto(fd, f, 34 + 8 + n, 0, (struct sockaddr *)&ll, sizeof(ll)) < 0)
		perror("inject");
	if (fd >= 0)
		close(fd);
	in_ns(ns_srv);
}

/* ------------------------------------------------------------------ */
/* ChannelData and the scenarios                                       */
/* ------------------------------------------------------------------ */

static size_t cd_make(uint8_t *b, uint16_t chan, uint16_t len_field, const uint8_t *data,
                      size_t n, size_t pad)
{
	static const uint8_t padb[3] = { 0xa5, 0x5a, 0xff };

	b[0] = (uint8_t)(chan >> 8);
	b[1] = (uint8_t)chan;
	b[2] = (uint8_t)(len_field >> 8);
	b[3] = (uint8_t)len_field;
	memcpy(b + 4, data, n);
	memcpy(b + 4 + n, padb, pad);
	return 4 + n + pad;
}

static void fill(uint8_t *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed * 31 + i * 7 + 1);
}

struct world {
	const struct fam *f;
	struct tp_offload *o;
	struct ep lis, rel, cli, peer, peer2, peer3;
	int cap_cli, cap_peer;
	struct tp_offload_chan ch;
	struct tp_offload_counts want;       /* what the kernel path should have counted */
	uint64_t r0[TP_OFFLOAD_NREASONS];    /* reasons at the start */
	uint64_t rw[TP_OFFLOAD_NREASONS];    /* expected increments */
};

static void reasons_check(struct world *w, const char *when)
{
	uint64_t now[TP_OFFLOAD_NREASONS];

	CHECK(tp_offload_reasons(w->o, now) == 0);
	for (int r = 0; r < TP_OFFLOAD_NREASONS; r++) {
		uint64_t d = now[r] - w->r0[r];

		if (d != w->rw[r]) {
			fprintf(stderr, "%s %s: reason %s counted %llu, expected %llu\n", w->f->name,
			        when, tp_offload_reason_name((enum tp_offload_reason)r),
			        (unsigned long long)d, (unsigned long long)w->rw[r]);
			CHECK(d == w->rw[r]);
		}
	}
}

/* A relayed datagram as the raw capture saw it: final, valid checksums, TTL
 * one less than the sender's 64, the sender's TOS kept. */
static void seen_ok(const struct seen *s)
{
	CHECK(s->found);
	CHECK(s->csum_final);
	CHECK(s->ip_ok);
	CHECK(s->udp_ok);
	CHECK_EQ(s->ttl, 63);
	CHECK_EQ(s->tos, TOS);
}

/* Client ChannelData that the kernel must relay: the peer gets data from the
 * relay address, and the capture proves the checksums. */
static void c2p_relayed(struct world *w, const uint8_t *data, size_t n, size_t pad,
                        bool zero_csum)
{
	uint8_t b[2048], got[2048];
	struct tp_addr from;
	ssize_t k;
	size_t len = cd_make(b, CHAN, (uint16_t)n, data, n, pad);

	send_to(&w->cli, &w->lis, b, len);
	k = recv_wait(w->peer.fd, got, sizeof(got), &from, WAIT_MS);
	CHECK_EQ(k, (ssize_t)n);
	CHECK(k == (ssize_t)n && memcmp(got, data, n) == 0);
	CHECK(tp_addr_eq(&from, &w->rel.a));
	struct seen s = capture_find(w->cap_peer, w->f->af, &w->rel.a, &w->peer.a, data, n);

	seen_ok(&s);
	if (zero_csum)
		CHECK_EQ(s.check, 0);
	else
		CHECK(s.check != 0);
	w->want.c2p_pkts++;
	w->want.c2p_bytes += n;
	w->rw[TP_OFFLOAD_C2P]++;
}

static void p2c_relayed(struct world *w, const uint8_t *data, size_t n)
{
	uint8_t got[2048], cd[2048];
	struct tp_addr from;
	ssize_t k;
	size_t cdlen = cd_make(cd, CHAN, (uint16_t)n, data, n, 0);

	send_to(&w->peer, &w->rel, data, n);
	k = recv_wait(w->cli.fd, got, sizeof(got), &from, WAIT_MS);
	CHECK_EQ(k, (ssize_t)cdlen);
	CHECK(k == (ssize_t)cdlen && memcmp(got, cd, cdlen) == 0);
	CHECK(tp_addr_eq(&from, &w->lis.a));
	struct seen s = capture_find(w->cap_cli, w->f->af, &w->lis.a, &w->cli.a, cd, cdlen);

	seen_ok(&s);
	w->want.p2c_pkts++;
	w->want.p2c_bytes += n;
	w->rw[TP_OFFLOAD_P2C]++;
}

/* A datagram the kernel path must leave alone: it arrives at the user-space
 * socket `at` exactly as sent. */
static void to_user(struct world *w, const struct ep *from, const struct ep *to,
                    const uint8_t *b, size_t n, int reason, const char *what)
{
	uint8_t got[8192];
	struct tp_addr src;
	ssize_t k;

	send_to(from, to, b, n);
	k = recv_wait(to->fd, got, sizeof(got), &src, WAIT_MS);
	if (k != (ssize_t)n || memcmp(got, b, n) != 0 || !tp_addr_eq(&src, &from->a)) {
		fprintf(stderr, "%s %s: not delivered to user space unchanged (%zd of %zu)\n",
		        w->f->name, what, k, n);
		CHECK(false);
	} else {
		CHECK(true);
	}
	if (reason >= 0)
		w->rw[reason]++;
}

/* A socket option on a fresh client socket bound to the client's address. */
static struct ep cli_variant(struct world *w, int level, int opt, const void *v, socklen_t vl)
{
	struct ep e = udp_ep(ns_cli, w->f->af, w->f->cli, w->cli.a.port + 1);
	int tos = TOS;

	if (w->f->af == AF_INET)
		setsockopt(e.fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	else
		setsockopt(e.fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
	if (setsockopt(e.fd, level, opt, v, vl) != 0)
		fprintf(stderr, "setsockopt %d/%d: %s\n", level, opt, strerror(errno));
	return e;
}

/* A channel of its own for a client variant socket: same listener and relay,
 * the third peer (a relay/peer pair belongs to one channel). */
static struct tp_offload_chan variant_chan(struct world *w, const struct ep *cli, uint16_t chan)
{
	struct tp_offload_chan c = w->ch;

	c.client = cli->a;
	c.peer = w->peer3.a;
	c.chan = chan;
	CHECK_EQ(tp_offload_chan_add(w->o, &c), 0);
	return c;
}

static void family_scenarios(struct world *w)
{
	const struct fam *f = w->f;
	uint8_t data[3000], b[4096];
	struct tp_offload_counts c;
	size_t n;

	/* --- relayed by the kernel ------------------------------------ */
	CHECK_EQ(tp_offload_chan_add(w->o, &w->ch), 0);
	CHECK_EQ(tp_offload_chan_add(w->o, &w->ch), -EEXIST);
	CHECK_EQ(tp_offload_chan_counts(w->o, &w->ch, &c), 0);
	CHECK_EQ(c.c2p_pkts + c.p2c_pkts + c.c2p_bytes + c.p2c_bytes, 0);
	for (unsigned i = 0; i < 20; i++) {
		fill(data, 100, i);
		c2p_relayed(w, data, 100, 0, false);
	}
	fill(data, 5, 99);
	c2p_relayed(w, data, 5, 3, false);     /* odd length, 3 non-zero padding bytes */
	fill(data, 6, 98);
	c2p_relayed(w, data, 6, 2, false);
	c2p_relayed(w, data, 0, 0, false);     /* empty ChannelData */
	if (f->af == AF_INET) {
		int one = 1;
		struct ep nock = cli_variant(w, SOL_SOCKET, SO_NO_CHECK, &one, sizeof(one));
		/* a client that sends no UDP checksum (its own 5-tuple's entry) */
		struct tp_offload_chan ch2 = variant_chan(w, &nock, CHAN + 1);
		uint8_t cd[64], got[64];
		struct tp_addr from;

		fill(data, 40, 7);
		send_to(&nock, &w->lis, cd, cd_make(cd, CHAN + 1, 40, data, 40, 0));
		CHECK_EQ(recv_wait(w->peer3.fd, got, sizeof(got), &from, WAIT_MS), 40);
		CHECK(memcmp(got, data, 40) == 0);
		struct seen s = capture_find(w->cap_peer, AF_INET, &w->rel.a, &w->peer3.a, data, 40);

		CHECK(s.found && s.check == 0 && s.ip_ok);
		w->rw[TP_OFFLOAD_C2P]++;
		CHECK_EQ(tp_offload_chan_del(w->o, &ch2, &c), 0);
		CHECK_EQ(c.c2p_pkts, 1);
		CHECK_EQ(c.c2p_bytes, 40);
		close(nock.fd);
	}
	for (unsigned i = 0; i < 20; i++) {
		fill(data, 100, 50 + i);
		p2c_relayed(w, data, 100);
	}
	{
		static const char cdlike[] = "\x40\x01\x00\x10 looks like ChannelData";

		memcpy(data, cdlike, sizeof(cdlike) - 1);
		p2c_relayed(w, data, sizeof(cdlike) - 1);
	}
	p2c_relayed(w, data, 1);

	/* --- left to user space ----------------------------------------- */
	fill(data, 64, 3);
	n = cd_make(b, CHAN + 1, 64, data, 64, 0);
	to_user(w, &w->cli, &w->lis, b, n, TP_OFFLOAD_NO_ENTRY, "unknown channel");
	{
		static const uint8_t stun[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42,
		                                  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

		to_user(w, &w->cli, &w->lis, stun, sizeof(stun), TP_OFFLOAD_NO_ENTRY, "STUN");
	}
	n = cd_make(b, CHAN, 200, data, 50, 0);
	to_user(w, &w->cli, &w->lis, b, n, TP_OFFLOAD_CD_LEN, "length > payload");
	n = cd_make(b, CHAN, 4, data, 4, 2);
	to_user(w, &w->cli, &w->lis, b, n, TP_OFFLOAD_CD_LEN, "padding not to 4");
	n = cd_make(b, CHAN, 3, data, 3, 0);
	b[n++] = 0;   /* 3 data + 1 pad = 8: fine */
	b[n++] = 0;   /* one more: not fine */
	to_user(w, &w->cli, &w->lis, b, n, TP_OFFLOAD_CD_LEN, "padding too long");
	to_user(w, &w->peer2, &w->rel, data, 64, TP_OFFLOAD_NO_ENTRY, "peer without entry");
	{
		int one = 1;
		struct ep t = f->af == AF_INET
		                  ? cli_variant(w, IPPROTO_IP, IP_TTL, &one, sizeof(one))
		                  : cli_variant(w, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &one, sizeof(one));
		struct tp_offload_chan ch2 = variant_chan(w, &t, CHAN);

		n = cd_make(b, CHAN, 64, data, 64, 0);
		to_user(w, &t, &w->lis, b, n, TP_OFFLOAD_TTL, "TTL 1");
		/* the same client socket with TTL 64 is relayed: the entry is right */
		int ttl = 64;

		setsockopt(t.fd, f->af == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
		           f->af == AF_INET ? IP_TTL : IPV6_UNICAST_HOPS, &ttl, sizeof(ttl));
		struct ep keep = w->cli, keep_peer = w->peer;

		w->cli = t;
		w->peer = w->peer3;
		c2p_relayed(w, data, 64, 0, false);
		w->cli = keep;
		w->peer = keep_peer;
		CHECK_EQ(tp_offload_chan_del(w->o, &ch2, &c), 0);
		CHECK_EQ(c.c2p_pkts, 1);
		w->want.c2p_pkts--;
		w->want.c2p_bytes -= 64;
		close(t.fd);
	}
	fill(data, 3000, 4);
	n = cd_make(b, CHAN, 3000, data, 3000, 0);
	to_user(w, &w->cli, &w->lis, b, n, TP_OFFLOAD_FRAG, "fragmented");
	w->rw[TP_OFFLOAD_FRAG] += 2;   /* 3012 bytes of UDP: three fragments */
	if (f->af == AF_INET) {
		static const uint8_t opts[4] = { 1, 1, 1, 0 };   /* NOP NOP NOP EOL */
		struct ep t = cli_variant(w, IPPROTO_IP, IP_OPTIONS, opts, sizeof(opts));
		struct tp_offload_chan ch2 = variant_chan(w, &t, CHAN);

		n = cd_make(b, CHAN, 64, data, 64, 0);
		to_user(w, &t, &w->lis, b, n, TP_OFFLOAD_IP_OPTS, "IP options");
		CHECK_EQ(tp_offload_chan_del(w->o, &ch2, NULL), 0);
		close(t.fd);
	} else {
		/* hop-by-hop options: one PadN filling the 8-byte header */
		static const uint8_t hbh[8] = { 0, 0, 1, 4, 0, 0, 0, 0 };
		struct ep t = cli_variant(w, IPPROTO_IPV6, IPV6_HOPOPTS, hbh, sizeof(hbh));
		struct tp_offload_chan ch2 = variant_chan(w, &t, CHAN);

		n = cd_make(b, CHAN, 64, data, 64, 0);
		to_user(w, &t, &w->lis, b, n, TP_OFFLOAD_IP_OPTS, "hop-by-hop options");
		CHECK_EQ(tp_offload_chan_del(w->o, &ch2, NULL), 0);
		close(t.fd);
	}
	/* the client's stack leaves the checksum to the device */
	tx_csum(ns_cli, "c0", true);
	n = cd_make(b, CHAN, 64, data, 64, 0);
	to_user(w, &w->cli, &w->lis, b, n, TP_OFFLOAD_CSUM_PARTIAL, "checksum offloaded");
	tx_csum(ns_cli, "c0", false);
	/* 4 bytes more would not fit the client link's MTU (1500) */
	n = f->af == AF_INET ? 1500 - 28 : 1500 - 48;
	to_user(w, &w->peer, &w->rel, data, n, TP_OFFLOAD_MTU, "outgrows the MTU");
	p2c_relayed(w, data, n - 4);   /* just fits */

	/* --- corrupt frames (IPv4: injected on the client's link) -------- */
	if (f->af == AF_INET) {
		unsigned long e0 = csum_errors(ns_peer);
		uint8_t got[256];

		fill(data, 48, 11);
		n = cd_make(b, CHAN, 48, data, 48, 0);
		inject4(&w->cli, &w->lis, b, n, false, true);   /* bad UDP checksum */
		CHECK(recv_wait(w->peer.fd, got, sizeof(got), NULL, 300) < 0);
		CHECK_EQ(csum_errors(ns_peer) - e0, 1);   /* relayed still broken, dropped there */
		w->rw[TP_OFFLOAD_C2P]++;
		w->want.c2p_pkts++;
		w->want.c2p_bytes += 48;
		inject4(&w->cli, &w->lis, b, n, true, false);   /* bad IP header checksum */
		CHECK(recv_wait(w->peer.fd, got, sizeof(got), NULL, 300) < 0);
		CHECK(recv_wait(w->lis.fd, got, sizeof(got), NULL, 10) < 0);   /* stack drops it */
		w->rw[TP_OFFLOAD_IP_CSUM]++;
		inject4(&w->cli, &w->lis, b, n, false, false);  /* the same, intact: relayed */
		CHECK_EQ(recv_wait(w->peer.fd, got, sizeof(got), NULL, WAIT_MS), 48);
		w->rw[TP_OFFLOAD_C2P]++;
		w->want.c2p_pkts++;
		w->want.c2p_bytes += 48;
		while (capture_next(w->cap_peer, &(struct frame){ 0 }))
			;
	}

	CHECK_EQ(tp_offload_chan_counts(w->o, &w->ch, &c), 0);
	CHECK_EQ(c.c2p_pkts, w->want.c2p_pkts);
	CHECK_EQ(c.c2p_bytes, w->want.c2p_bytes);
	CHECK_EQ(c.p2c_pkts, w->want.p2c_pkts);
	CHECK_EQ(c.p2c_bytes, w->want.p2c_bytes);
	reasons_check(w, "after the relay cases");

	/* --- the owner lets go --------------------------------------------- */
	fill(data, 64, 5);
	n = cd_make(b, CHAN, 64, data, 64, 0);
	tp_offload_lease_hold(w->o, true);
	to_user(w, &w->cli, &w->lis, b, n, TP_OFFLOAD_LEASE, "lease held");
	tp_offload_lease_hold(w->o, false);
	c2p_relayed(w, data, 64, 0, false);
	close(w->rel.fd);   /* the allocation's relay socket is gone */
	to_user(w, &w->cli, &w->lis, b, n, TP_OFFLOAD_NO_SOCKET, "relay socket closed");
	{
		uint8_t got[256];

		send_to(&w->peer, &w->rel, data, 64);   /* nobody relays it, nobody gets it */
		CHECK(recv_wait(w->cli.fd, got, sizeof(got), NULL, 300) < 0);
		w->rw[TP_OFFLOAD_NO_SOCKET]++;
	}
	w->rel = udp_ep(ns_srv, f->af, f->rel, RELAY_PORT);
	p2c_relayed(w, data, 64);

	/* --- the channel is removed -------------------------------------- */
	struct tp_offload_counts last;

	CHECK_EQ(tp_offload_chan_del(w->o, &w->ch, &last), 0);
	CHECK_EQ(last.c2p_pkts, w->want.c2p_pkts);
	CHECK_EQ(last.c2p_bytes, w->want.c2p_bytes);
	CHECK_EQ(last.p2c_pkts, w->want.p2c_pkts);
	CHECK_EQ(last.p2c_bytes, w->want.p2c_bytes);
	CHECK_EQ(tp_offload_chan_del(w->o, &w->ch, NULL), -ENOENT);
	CHECK_EQ(tp_offload_chan_counts(w->o, &w->ch, &c), -ENOENT);
	to_user(w, &w->cli, &w->lis, b, n, TP_OFFLOAD_NO_ENTRY, "after chan_del (client)");
	to_user(w, &w->peer, &w->rel, data, 64, TP_OFFLOAD_NO_ENTRY, "after chan_del (peer)");
	reasons_check(w, "at the end");

	/* nothing arrived anywhere that was not accounted for */
	CHECK_EQ(drain(w->lis.fd, QUIET_MS), 0);
	CHECK_EQ(drain(w->rel.fd, 0), 0);
	CHECK_EQ(drain(w->peer.fd, 0), 0);
	CHECK_EQ(drain(w->peer2.fd, 0), 0);
	CHECK_EQ(drain(w->peer3.fd, 0), 0);
	CHECK_EQ(drain(w->cli.fd, 0), 0);
}

static void run_family(struct tp_offload *o, const struct fam *f)
{
	struct world w;
	int tos = TOS;
	unsigned long ecli, epeer;

	memset(&w, 0, sizeof(w));
	w.f = f;
	w.o = o;
	w.lis = udp_ep(ns_srv, f->af, f->lis, LISTEN_PORT);
	w.rel = udp_ep(ns_srv, f->af, f->rel, RELAY_PORT);
	w.cli = udp_ep(ns_cli, f->af, f->cli, 40000);
	w.peer = udp_ep(ns_peer, f->af, f->peer, PEER_PORT);
	w.peer2 = udp_ep(ns_peer, f->af, f->peer, PEER2_PORT);
	w.peer3 = udp_ep(ns_peer, f->af, f->peer, PEER3_PORT);
	if (f->af == AF_INET) {
		setsockopt(w.cli.fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
		setsockopt(w.peer.fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	} else {
		setsockopt(w.cli.fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
		setsockopt(w.peer.fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
	}
	w.cap_cli = capture_open(ns_cli, "c0");
	w.cap_peer = capture_open(ns_peer, "p0");
	w.ch = (struct tp_offload_chan){ .client = w.cli.a, .listener = w.lis.a,
	                                 .relay = w.rel.a, .peer = w.peer.a, .chan = CHAN };
	tp_offload_reasons(o, w.r0);
	ecli = csum_errors(ns_cli);
	epeer = csum_errors(ns_peer);

	family_scenarios(&w);

	CHECK_EQ(csum_errors(ns_cli) - ecli, 0);
	CHECK_EQ(csum_errors(ns_peer) - epeer, f->af == AF_INET ? 1 : 0);   /* the injected one */
	close(w.lis.fd);
	close(w.rel.fd);
	close(w.cli.fd);
	close(w.peer.fd);
	close(w.peer2.fd);
	close(w.peer3.fd);
	close(w.cap_cli);
	close(w.cap_peer);
	printf("%s: %d checks so far, %d failed\n", f->name, tp_test_checks, tp_test_fails);
}

/* ------------------------------------------------------------------ */
/* Argument checks, crash, leftovers                                   */
/* ------------------------------------------------------------------ */

static bool nothing_attached(const char *ifname);
static bool detached_within(const char *ifname, int ms);

static void bad_arguments(struct tp_offload *o)
{
	struct tp_offload_chan c = { 0 };
	struct tp_addr v4, v6;

	tp_addr_parse(&v4, "203.0.113.1:49152", 0);
	tp_addr_parse(&v6, "[2001:db8:2::1]:49152", 0);
	c.client = c.listener = c.relay = c.peer = v4;
	c.chan = 0x3fff;
	CHECK_EQ(tp_offload_chan_add(o, &c), -EINVAL);
	c.chan = 0x8000;
	CHECK_EQ(tp_offload_chan_add(o, &c), -EINVAL);
	c.chan = CHAN;
	c.peer = v6;
	CHECK_EQ(tp_offload_chan_add(o, &c), -EAFNOSUPPORT);
	c.peer = v4;
	c.relay.port = 0;
	CHECK_EQ(tp_offload_chan_add(o, &c), -EINVAL);
	c.relay = v4;
	tp_addr_parse(&c.relay, "192.0.2.77:5000", 0);   /* on no interface */
	CHECK_EQ(tp_offload_chan_add(o, &c), -EADDRNOTAVAIL);
	tp_addr_parse(&c.relay, "0.0.0.0:5000", 0);
	CHECK_EQ(tp_offload_chan_add(o, &c), -EINVAL);
	c.relay = v4;
	tp_addr_parse(&c.peer, "192.0.2.99:5000", 0);     /* no route from the server */
	tp_addr_parse(&c.client, "198.51.100.2:40000", 0);
	tp_addr_parse(&c.listener, "198.51.100.1:3478", 0);
	CHECK_EQ(tp_offload_chan_add(o, &c), -ENETUNREACH);
	tp_addr_parse(&c.peer, "127.0.0.5:5000", 0);      /* through lo: no Ethernet */
	tp_addr_parse(&c.relay, "127.0.0.1:5000", 0);
	CHECK_EQ(tp_offload_chan_add(o, &c), -ENODEV);
}

static void open_errors(void)
{
	struct tp_offload *o = (void *)1;
	struct tp_addr a;
	char err[256] = "";
	int e;

	tp_addr_parse(&a, "192.0.2.77:3478", 0);
	e = tp_offload_open(&a, 1, NULL, &o, err, sizeof(err));
	CHECK_EQ(e, -EADDRNOTAVAIL);
	CHECK(o == NULL && strstr(err, "192.0.2.77") != NULL);
	printf("open errors: %s\n", err);
}

/*
 * The listener on lo, as in tests/netns/lib.sh's lab (the driver puts
 * 192.0.2.1 there and routes the client to it through s0): nothing to attach
 * to at open; the first channel attaches the program to the interfaces the
 * routing table uses towards the client (s0) and the peer (s1), and both
 * directions are relayed, the client's answer coming from 192.0.2.1.
 */
static void lo_listener(enum tp_offload_attach mode)
{
	const struct fam *f = &fams[0];
	struct tp_offload_opts op = { .attach = mode };
	struct tp_offload *o;
	struct tp_addr loc;
	char err[256];
	uint8_t data[64], b[128], got[128];
	struct tp_addr from;

	tp_addr_parse(&loc, "192.0.2.1:3478", 0);
	CHECK_EQ(tp_offload_open(&loc, 1, &op, &o, err, sizeof(err)), 0);
	CHECK(strcmp(tp_offload_attach_name(o), "none") == 0);
	CHECK(detached_within("s0", 0) && detached_within("s1", 0));

	struct ep lis = udp_ep(ns_srv, AF_INET, "192.0.2.1", 3478);
	struct ep rel = udp_ep(ns_srv, AF_INET, f->rel, RELAY_PORT);
	struct ep cli = udp_ep(ns_cli, AF_INET, f->cli, 40200);
	struct ep peer = udp_ep(ns_peer, AF_INET, f->peer, PEER_PORT);
	struct tp_offload_chan ch = { .client = cli.a, .listener = lis.a, .relay = rel.a,
	                              .peer = peer.a, .chan = CHAN };

	CHECK_EQ(tp_offload_chan_add(o, &ch), 0);
	CHECK(strcmp(tp_offload_attach_name(o), mode == TP_OFFLOAD_ATTACH_TCX ? "tcx" : "tc") == 0);
	CHECK(!nothing_attached("s0") && !nothing_attached("s1"));
	fill(data, 64, 21);
	send_to(&cli, &lis, b, cd_make(b, CHAN, 64, data, 64, 0));
	CHECK_EQ(recv_wait(peer.fd, got, sizeof(got), &from, WAIT_MS), 64);
	CHECK(memcmp(got, data, 64) == 0 && tp_addr_eq(&from, &rel.a));
	send_to(&peer, &rel, data, 64);
	CHECK_EQ(recv_wait(cli.fd, got, sizeof(got), &from, WAIT_MS), 68);
	CHECK(memcmp(got, b, 68) == 0 && tp_addr_eq(&from, &lis.a));
	CHECK_EQ(drain(lis.fd, QUIET_MS), 0);
	CHECK_EQ(drain(rel.fd, 0), 0);
	struct tp_offload_counts c;

	CHECK_EQ(tp_offload_chan_del(o, &ch, &c), 0);
	CHECK_EQ(c.c2p_pkts, 1);
	CHECK_EQ(c.p2c_pkts, 1);
	tp_offload_close(o);
	CHECK(detached_within("s0", 1000) && detached_within("s1", 1000));
	close(lis.fd);
	close(rel.fd);
	close(cli.fd);
	close(peer.fd);
}

/* Nothing of ours is attached to the interface any more. */
static bool nothing_attached(const char *ifname)
{
	int ifindex = (int)if_nametoindex(ifname);
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, q, .handle = 0x7470, .priority = 0x7470);
	__u32 ids[8], cnt = 8, flags = 0;
	int e = bpf_tc_query(&hook, &q);
	bool ok = e != 0;   /* no cls_bpf filter at our handle */

	if (bpf_prog_query(ifindex, (enum bpf_attach_type)46, 0, &flags, ids, &cnt) == 0 &&
	    cnt != 0)
		ok = false;     /* a tcx program */
	return ok;
}

/* The same, allowing the kernel a moment: a link is released from a
 * workqueue after its last fd closed. */
static bool detached_within(const char *ifname, int ms)
{
	for (; ms > 0; ms -= 20) {
		if (nothing_attached(ifname))
			return true;
		usleep(20000);
	}
	return nothing_attached(ifname);
}

/*
 * A server that dies by SIGKILL with a channel installed: once it is gone, a
 * new owner of the same ports (a restarted server in user space) receives the
 * client's datagrams; nothing relays them behind its back.
 */
static void crash(enum tp_offload_attach mode)
{
	const struct fam *f = &fams[0];
	int pfd[2];
	pid_t pid;
	char c;

	if (pipe(pfd) != 0)
		return;
	pid = fork();
	if (pid == 0) {
		struct tp_offload_opts op = { .attach = mode };
		struct tp_offload *o;
		struct tp_addr loc[2];
		char err[256];
		struct ep lis = udp_ep(ns_srv, f->af, f->lis, LISTEN_PORT + 1);
		struct ep rel = udp_ep(ns_srv, f->af, f->rel, RELAY_PORT + 1);
		struct tp_offload_chan ch;

		loc[0] = lis.a;
		loc[1] = rel.a;
		if (tp_offload_open(loc, 2, &op, &o, err, sizeof(err)) != 0)
			_exit(3);
		tp_addr_parse(&ch.client, "198.51.100.2:40100", 0);
		ch.listener = lis.a;
		ch.relay = rel.a;
		tp_addr_parse(&ch.peer, "203.0.113.2:9100", 0);
		ch.chan = CHAN;
		if (tp_offload_chan_add(o, &ch) != 0)
			_exit(4);
		(void)!write(pfd[1], "r", 1);
		pause();
		_exit(0);
	}
	close(pfd[1]);
	CHECK(read(pfd[0], &c, 1) == 1);
	close(pfd[0]);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);

	struct ep lis = udp_ep(ns_srv, f->af, f->lis, LISTEN_PORT + 1);
	struct ep cli = udp_ep(ns_cli, f->af, f->cli, 40100);
	struct ep peer = udp_ep(ns_peer, f->af, f->peer, 9100);
	uint8_t b[128], got[128], data[64];
	size_t n;

	fill(data, 64, 9);
	n = cd_make(b, CHAN, 64, data, 64, 0);
	/* at once: the dead server's relay socket is gone */
	send_to(&cli, &lis, b, n);
	CHECK_EQ(recv_wait(lis.fd, got, sizeof(got), NULL, WAIT_MS), (ssize_t)n);
	if (mode == TP_OFFLOAD_ATTACH_TC) {
		/* a cls_bpf filter outlives its process: its lease has to run out
		 * before the ports are safe to bind again */
		CHECK(!nothing_attached("s0"));
		usleep((TP_OFFLOAD_LEASE_MS + 200) * 1000);
	} else {
		CHECK(detached_within("s0", 1000));   /* the tcx link died with the process */
		CHECK(detached_within("s1", 1000));
	}
	struct ep rel = udp_ep(ns_srv, f->af, f->rel, RELAY_PORT + 1);

	send_to(&cli, &lis, b, n);
	CHECK_EQ(recv_wait(lis.fd, got, sizeof(got), NULL, WAIT_MS), (ssize_t)n);
	CHECK(recv_wait(peer.fd, got, sizeof(got), NULL, QUIET_MS) < 0);
	close(lis.fd);
	close(rel.fd);
	close(cli.fd);
	close(peer.fd);
}

static int open_ns(const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

static int run_mode(enum tp_offload_attach mode)
{
	struct tp_offload_opts op = { .attach = mode, .max_chans = 64,
	                              .verbose = getenv("TP_OFFLOAD_VERBOSE") != NULL };
	struct tp_addr loc[4];
	struct tp_offload *o;
	char err[256];
	int e;

	for (int i = 0; i < 2; i++) {
		tp_addr_parse(&loc[2 * i], fams[i].lis, LISTEN_PORT);
		tp_addr_parse(&loc[2 * i + 1], fams[i].rel, RELAY_PORT);
	}
	e = tp_offload_open(loc, 4, &op, &o, err, sizeof(err));
	if (e) {
		printf("%s: %s (%s)\n", mode == TP_OFFLOAD_ATTACH_TCX ? "tcx" : "tc", err,
		       strerror(-e));
		return e;
	}
	tp_offload_close(o);

	crash(mode);   /* before our own filter: in tc mode the child replaces it */
	e = tp_offload_open(loc, 4, &op, &o, err, sizeof(err));
	CHECK_EQ(e, 0);
	if (e)
		return e;
	printf("attached: %s\n", tp_offload_attach_name(o));
	CHECK(!nothing_attached("s0"));
	CHECK(!nothing_attached("s1"));
	bad_arguments(o);
	for (size_t i = 0; i < 2; i++)
		run_family(o, &fams[i]);
	tp_offload_close(o);
	CHECK(detached_within("s0", 1000));
	CHECK(detached_within("s1", 1000));
	lo_listener(mode);
	return 0;
}

int main(int argc, char **argv)
{
	int e;

	if (argc != 4) {
		fprintf(stderr, "usage: offload_test SRV_NS CLI_NS PEER_NS\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	ns_srv = open_ns(argv[1]);
	ns_cli = open_ns(argv[2]);
	ns_peer = open_ns(argv[3]);
	in_ns(ns_srv);
	/* The senders compute final checksums (a real network delivers those);
	 * the CHECKSUM_PARTIAL case turns the client's offload on for one datagram. */
	tx_csum(ns_cli, "c0", false);
	tx_csum(ns_peer, "p0", false);

	open_errors();
	e = run_mode(TP_OFFLOAD_ATTACH_TCX);
	if (e == -EPERM || e == -ENOTSUP) {
		printf("SKIP: kernel offload cannot be loaded here\n");
		return 77;
	}
	if (e)
		printf("tcx not available on this kernel: cls_bpf only\n");
	e = run_mode(TP_OFFLOAD_ATTACH_TC);
	CHECK_EQ(e, 0);
	TP_TEST_END();
}
