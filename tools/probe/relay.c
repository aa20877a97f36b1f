/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * relay.c - relay round-trip time and throughput through the server, to the
 * probe's own second socket: Allocate over UDP, CreatePermission for the
 * second socket's address, learn the address the relay sees from the first
 * packet it relays (a NAT may map the second socket differently towards the
 * relay), ChannelBind, then ChannelData pings echoed by the second socket and a
 * bounded one-way burst. A 403 on the permission is the server's peer policy
 * refusing an address on the probe's host (a secure default), not a failure.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe.h"

#define CHAN 0x4001
#define PINGS 20
#define PING_WAIT_MS 500
#define BURST_PKTS 2000
#define BURST_SIZE 1000
#define BURST_MS 1000
#define WINDOW 64
#define STALL_MS 20

/* Wait for a datagram on the peer socket: its length, or 0. */
static long peer_wait(int fd, uint8_t *b, size_t cap, struct tp_addr *from, int ms)
{
	int64_t end = probe_now_ms() + ms;

	for (;;) {
		long n = probe_recvfrom(fd, b, cap, from, probe_left(end));

		if (n > 0 || n == 0 || n != -EAGAIN)
			return n > 0 ? n : 0;
	}
}

/* The Data indication from the peer's hello: the peer address as the relay saw it. */
static bool learn_peer(struct px *x, struct tp_addr *peer, int ms)
{
	int64_t end = probe_now_ms() + ms;
	uint8_t b[2048];

	while (probe_left(end)) {
		long n = px_recv(x, b, sizeof(b), probe_left(end));
		struct tp_stun_msg m;
		const struct tp_stun_attr *a;

		if (n <= 0)
			return false;
		if (tp_stun_decode(&m, b, (size_t)n, NULL) != TP_P_OK ||
		    m.method != TP_METHOD_DATA || m.cls != TP_CLASS_INDICATION)
			continue;
		a = tp_stun_find(&m, TP_ATTR_XOR_PEER_ADDRESS);
		if (a && tp_attr_addr(&m, a, peer) == TP_P_OK)
			return true;
	}
	return false;
}

/* ChannelData back on our channel within ms: 1, or 0. */
static int chan_wait(struct px *x, int ms, uint32_t seq)
{
	int64_t end = probe_now_ms() + ms;
	uint8_t b[2048];

	while (probe_left(end)) {
		long n = px_recv(x, b, sizeof(b), probe_left(end));
		const uint8_t *data;
		uint16_t chan;
		size_t len;
		uint32_t got;

		if (n <= 0)
			return 0;
		if (tp_chan_decode(b, (size_t)n, &chan, &data, &len) != TP_P_OK || chan != CHAN ||
		    len < 4)
			continue;
		got = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 |
		      data[3];
		if (got == seq)
			return 1;
	}
	return 0;
}

static void pings(struct r_relay *rr, struct px *x, int peer_fd, int64_t deadline)
{
	double rtt[PINGS], sum = 0;
	uint8_t pkt[64], b[2048];

	for (uint32_t i = 0; i < PINGS && probe_left(deadline) > PING_WAIT_MS; i++) {
		uint8_t payload[32] = { (uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8),
			                (uint8_t)i };
		struct tp_addr from;
		double t0 = probe_now_msf();
		long n = tp_chan_encode(pkt, sizeof(pkt), CHAN, payload, sizeof(payload), true);

		if (n < 0 || px_send(x, pkt, (size_t)n) != 0)
			break;
		rr->sent++;
		n = peer_wait(peer_fd, b, sizeof(b), &from, PING_WAIT_MS);
		if (n <= 0)
			continue;
		probe_sendto(peer_fd, &from, b, (size_t)n);     /* echo through the relay */
		if (!chan_wait(x, PING_WAIT_MS, i))
			continue;
		rtt[rr->received++] = probe_now_msf() - t0;
	}
	if (!rr->received)
		return;
	rr->min = rtt[0];
	for (size_t i = 0; i < rr->received; i++) {
		sum += rtt[i];
		if (rtt[i] < rr->min)
			rr->min = rtt[i];
	}
	rr->avg = sum / (double)rr->received;
	rr->p95 = probe_p95(rtt, rr->received);
}

static void drain(struct r_relay *rr, int fd, int ms, double *last)
{
	uint8_t b[2048];

	for (;;) {
		long n = probe_recvfrom(fd, b, sizeof(b), NULL, ms);

		if (n == -EAGAIN)
			continue;
		if (n <= 0)
			return;
		rr->tput_received++;
		rr->tput_bytes += (size_t)n;
		*last = probe_now_msf();
	}
}

/* One packet within STALL_MS: true, or false on a stall. */
static bool drain_one(struct r_relay *rr, int fd, double *last)
{
	uint8_t b[2048];
	long n = probe_recvfrom(fd, b, sizeof(b), NULL, STALL_MS);

	if (n <= 0)
		return n == -EAGAIN;
	rr->tput_received++;
	rr->tput_bytes += (size_t)n;
	*last = probe_now_msf();
	return true;
}

static void burst(struct r_relay *rr, struct px *x, int peer_fd, int64_t deadline)
{
	static uint8_t payload[BURST_SIZE];
	uint8_t pkt[BURST_SIZE + 8];
	int64_t end = probe_now_ms() + BURST_MS;
	double t0 = probe_now_msf(), last = t0;
	size_t written_off = 0;
	long n = tp_chan_encode(pkt, sizeof(pkt), CHAN, payload, sizeof(payload), true);

	if (end > deadline - 300)
		end = deadline - 300;
	while (n > 0 && rr->tput_sent < BURST_PKTS && probe_now_ms() < end) {
		if (px_send(x, pkt, (size_t)n) != 0)
			break;
		rr->tput_sent++;
		drain(rr, peer_fd, 0, &last);
		/* A window of packets in flight, so the probe's own socket buffers do not
		 * drop what the path delivered; a stall (real loss) does not stop it. */
		while (rr->tput_sent - rr->tput_received - written_off > WINDOW)
			if (!drain_one(rr, peer_fd, &last))
				written_off = rr->tput_sent - rr->tput_received;  /* lost */
	}
	drain(rr, peer_fd, 300, &last);
	rr->tput_ms = last - t0;
	if (rr->tput_ms > 0)
		rr->tput_mbps = (double)rr->tput_bytes * 8.0 / (rr->tput_ms * 1000.0);
}

void relay_run(struct probe_result *r, const struct probe_creds *cr, const struct tp_addr *srv,
               int64_t deadline)
{
	struct r_relay *rr = &r->relay;
	struct turn_cli *t = NULL;
	struct px *x = NULL;
	struct tp_addr local, peer_srflx;
	struct bind_res res;
	char why[PROBE_TEXT], a[64];
	uint8_t hello[4] = { 'h', 'e', 'l', 'o' };
	int peer_fd = -1;

	rr->status = "failed";
	if (px_open(&x, PX_UDP, srv, NULL, probe_left(deadline), why, sizeof(why)) != 0) {
		snprintf(rr->note, sizeof(rr->note), "%s", why);
		return;
	}
	t = turn_new(x, cr);
	/* A relay of the probe's own family (RFC 8656 defaults to IPv4). */
	if (!t || turn_allocate_follow(&t, &x, PX_UDP, srv, NULL,
	                               srv->family == AF_INET6 ? TP_STUN_FAMILY_IPV6 : 0,
	                               probe_left(deadline), rr->via, &rr->nvia) != 0) {
		snprintf(rr->note, sizeof(rr->note), "Allocate failed: %s",
		         t ? turn_last_reason(t) : "out of memory");
		goto out;
	}
	rr->relayed = *turn_relayed(t);
	px_local(x, &local);
	local.port = 0;
	peer_fd = probe_udp_socket(&local);
	if (peer_fd < 0 || stun_binding(peer_fd, srv, NULL, 1500, &res) != 0 || !res.has_mapped) {
		snprintf(rr->note, sizeof(rr->note), "the second socket got no reflexive address");
		goto out;
	}
	peer_srflx = res.mapped;
	rr->peer = peer_srflx;
	tp_addr_fmt(&peer_srflx, a, sizeof(a));
	if (turn_permission(t, &peer_srflx, probe_left(deadline)) != 0) {
		if (turn_last(t)->code == 403) {
			rr->status = "refused";
			snprintf(rr->note, sizeof(rr->note),
			         "the server refuses %s as a peer (403): its peer policy denies "
			         "addresses like the probe's own host (a secure default, not a "
			         "failure); relay RTT and throughput not measured", a);
		} else {
			snprintf(rr->note, sizeof(rr->note), "CreatePermission for %s failed: %s", a,
			         turn_last_reason(t));
		}
		goto out;
	}
	/* The hello also opens the second socket's NAT towards the relay. */
	probe_sendto(peer_fd, &rr->relayed, hello, sizeof(hello));
	if (learn_peer(x, &rr->peer, 1500))
		tp_addr_fmt(&rr->peer, a, sizeof(a));
	if (turn_channel(t, CHAN, &rr->peer, probe_left(deadline)) != 0) {
		snprintf(rr->note, sizeof(rr->note), "ChannelBind to %s failed: %s", a,
		         turn_last_reason(t));
		goto out;
	}
	pings(rr, x, peer_fd, deadline);
	if (!rr->received) {
		snprintf(rr->note, sizeof(rr->note), "no ping came back through the relay to %s", a);
		goto out;
	}
	burst(rr, x, peer_fd, deadline);
	rr->status = "ok";
	{
		char rel[64];

		tp_addr_fmt(&rr->relayed, rel, sizeof(rel));
		snprintf(rr->note, sizeof(rr->note),
		         "through relay %s to the probe's second socket %s", rel, a);
	}
out:
	if (t) {
		turn_release(t, 1000);
		turn_free(t);
	}
	px_close(x);
	if (peer_fd >= 0)
		close(peer_fd);
}
