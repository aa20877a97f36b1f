/* SPDX-License-Identifier: BSD-3-Clause OR GPL-2.0-only */
/*
 * relay.bpf.c - the kernel datapath of Turnpike's UDP relay (issue 15).
 *
 * A TC ingress program (clsact / tcx, direct action) on the interfaces that
 * carry the listener and relay addresses. For channels that user space has
 * installed in the maps (relay_maps.h) it does in the kernel what the server
 * does for ChannelData on an established channel, UDP on both legs:
 *
 *   client -> listener  ChannelData  =>  relay -> peer    payload (header and
 *                                                          padding stripped)
 *   peer   -> relay     payload      =>  listener -> client  ChannelData
 *                                                          (no padding: UDP)
 *
 * and redirects the rewritten packet with bpf_redirect_neigh() out of the
 * interface that carries the new source address. Everything it is not sure
 * about goes on to the stack unchanged (TC_ACT_UNSPEC, so later filters still
 * run): STUN, indications, unknown channels and peers, fragments, IPv4
 * options, IPv6 extension headers, bad lengths, TTL <= 1, GSO aggregates,
 * datagrams whose checksum is not final yet, datagrams that would outgrow the
 * MTU, and everything once the owner's lease has run out or the relay socket
 * is gone. The reasons map counts each decision.
 *
 * Why TC and not XDP: TC sees every skb on every driver (veth included) with
 * its checksum state, so the program can tell a finished checksum from one
 * the sender left to the device and keep CHECKSUM_COMPLETE consistent; it can
 * grow the packet at the network header (bpf_skb_adjust_room) without driver
 * headroom guarantees; and bpf_redirect_neigh() resolves the next hop on any
 * egress interface with the kernel's routing and neighbour tables, without
 * requiring IP forwarding to be enabled (bpf_fib_lookup does).
 *
 * Checksums: the IPv4 header checksum is recomputed over the new header (the
 * old one is verified first); the UDP checksum is updated incrementally
 * (RFC 1624) for the new addresses, ports and length, the removed or added
 * 4-byte ChannelData header and the removed padding bytes; the payload keeps
 * its 16-bit alignment (it moves by 4 bytes), so its sum does not change. A
 * zero IPv4 UDP checksum ("none") stays zero. For CHECKSUM_COMPLETE skbs the
 * rewritten bytes' difference is folded into skb->csum (bpf_csum_update).
 * A datagram whose UDP checksum field holds only the pseudo-header seed is
 * left alone: it is, or may be, CHECKSUM_PARTIAL, and moving its headers
 * would leave csum_start pointing at the wrong bytes (adjust_room does not
 * move it).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "csum.h"
#include "relay_maps.h"

/* No GPL-only helper is used; set this to match the project licence. */
char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define CD_HDR 4
#define IP4_HDR 20
#define IP6_HDR 40
#define UDP_HDR 8

/* Sizes are placeholders: offload.c sets max_entries before loading. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct tp_ofl_c2p_key);
	__type(value, struct tp_ofl_c2p_val);
} tp_c2p SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct tp_ofl_p2c_key);
	__type(value, struct tp_ofl_p2c_val);
} tp_p2c SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tp_ofl_counts);
} tp_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TP_OFL_R_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} tp_reasons SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tp_ofl_conf);
} tp_conf SEC(".maps");

static __always_inline void count(__u32 reason)
{
	__u64 *c = bpf_map_lookup_elem(&tp_reasons, &reason);

	if (c)
		(*c)++;
}

/* Leave the packet to the stack (and to any later filter), unchanged. */
static __always_inline int pass(__u32 reason)
{
	count(reason);
	return TC_ACT_UNSPEC;
}

/* After the packet was changed, a helper failed: it cannot go on. */
static __always_inline int drop_changed(void)
{
	count(TP_OFL_R_ERROR);
	return TC_ACT_SHOT;
}

static __always_inline void account(__u32 slot, int c2p, __u32 bytes)
{
	struct tp_ofl_counts *c = bpf_map_lookup_elem(&tp_counts, &slot);

	if (!c)
		return;
	if (c2p) {
		c->c2p_pkts++;
		c->c2p_bytes += bytes;
	} else {
		c->p2c_pkts++;
		c->p2c_bytes += bytes;
	}
}

/* The owner renews the lease every second; past it, relay nothing. */
static __always_inline int lease_ok(void)
{
	__u32 k = 0;
	struct tp_ofl_conf *c = bpf_map_lookup_elem(&tp_conf, &k);

	return c && bpf_ktime_get_ns() < c->lease_ns;
}

/* Is a socket still bound to the relay address (the allocation alive)? The
 * tuple is the one a datagram from the peer to the relay carries. */
static __always_inline int relay_socket_ok(struct __sk_buff *skb, struct bpf_sock_tuple *t,
                                           __u32 tlen)
{
	struct bpf_sock *sk = bpf_sk_lookup_udp(skb, t, tlen, BPF_F_CURRENT_NETNS, 0);

	if (!sk)
		return 0;
	bpf_sk_release(sk);
	return 1;
}

/* For CHECKSUM_COMPLETE skbs, skb->csum covers the bytes just rewritten: add
 * their difference (a no-op returning -ENOTSUPP for the other states). */
static __always_inline void fold_into_skb_csum(struct __sk_buff *skb, __u32 *old, __u32 olen,
                                               __u32 *new, __u32 nlen)
{
	__s64 d = bpf_csum_diff(old, olen, new, nlen, 0);

	if (d >= 0)
		bpf_csum_update(skb, (__u32)d);
}

/* Make at least want bytes (or the whole packet) linear for direct access. */
static __always_inline void pull(struct __sk_buff *skb, __u32 want)
{
	__u32 linear = skb->data_end - skb->data;

	if (linear < want && skb->len > linear)
		bpf_skb_pull_data(skb, skb->len < want ? skb->len : want);
}

/* Checks common to both directions, after the entry matched. Returns a
 * TP_OFL_R_* reason to pass the packet on, or -1 to relay it. */
static __always_inline int vet(struct __sk_buff *skb, __u8 ttl, __u16 check, __u16 seed,
                               int v6)
{
	if (ttl <= 1)
		return TP_OFL_R_TTL;
	if (skb->gso_size)
		return TP_OFL_R_GSO;
	if (v6 && check == 0)
		return TP_OFL_R_NO_CSUM;
	if (check == seed)
		return TP_OFL_R_CSUM_PARTIAL;
	if (!lease_ok())
		return TP_OFL_R_LEASE;
	return -1;
}

/*
 * ChannelData length check: the UDP payload (n bytes) is the 4-byte header,
 * dlen data bytes and either no padding or the padding to a multiple of 4.
 * Returns the padding (0..3) or -1.
 */
static __always_inline int cd_padding(__u32 n, __u32 dlen)
{
	__u32 pad;

	if (n < CD_HDR || dlen > n - CD_HDR)
		return -1;
	pad = n - CD_HDR - dlen;
	if (pad > 3 || (pad && ((dlen + pad) & 3)))
		return -1;
	return (int)pad;
}

/* Subtract the padding bytes (the last pad bytes of the packet; padding
 * follows dlen bytes of data after the 12 header bytes, so its byte i sits at
 * an odd offset when dlen + i is odd) from an incremental UDP sum. Constant
 * indices only: 6.1's verifier rejects variable-offset stack reads. */
static __always_inline int sub_padding(struct __sk_buff *skb, __u32 pad, __u32 dlen, __u64 *s)
{
	__u8 tail[4];

	if (!pad)
		return 0;
	if (bpf_skb_load_bytes(skb, skb->len - 4, tail, 4) < 0)
		return -1;
	if (pad == 3)
		*s = tp_csum_sub16(*s, tp_csum_byte(tail[1], dlen & 1));
	if (pad >= 2)
		*s = tp_csum_sub16(*s, tp_csum_byte(tail[2], (dlen + pad - 2) & 1));
	*s = tp_csum_sub16(*s, tp_csum_byte(tail[3], (dlen + pad - 1) & 1));
	return 0;
}

/* The UDP checksum terms both families and directions share: the length in
 * the pseudo-header and in the header, and the two ports. */
static __always_inline __u64 csum_len_ports(__u64 s, __u16 old_len, __u16 new_len, __u16 old_sport,
                                            __u16 old_dport, __u16 new_sport, __u16 new_dport)
{
	s = tp_csum_sub16(s, old_len);   /* pseudo-header */
	s = tp_csum_sub16(s, old_len);   /* UDP header */
	s += new_len;
	s += new_len;
	s = tp_csum_sub16(s, old_sport);
	s = tp_csum_sub16(s, old_dport);
	return s + new_sport + new_dport;
}

/* The ChannelData header after the UDP header at cd: its data length and the
 * padding (0..3), or -1 when the datagram is not a consistent ChannelData
 * message (the caller checked that cd + 4 bytes are in the packet). */
static __always_inline int cd_lengths(const struct udphdr *udp, const __u16 *cd, __u32 *dlen)
{
	*dlen = bpf_ntohs(cd[1]);
	return cd_padding(bpf_ntohs(udp->len) - UDP_HDR, *dlen);
}

/* ------------------------------------------------------------------ */
/* IPv4                                                                */
/* ------------------------------------------------------------------ */

static __always_inline __u16 ip4_check(struct iphdr *ip)
{
	ip->check = 0;
	return tp_csum_finish(tp_csum_ip4_words((const __u16 *)ip));
}

static __always_inline int c2p4(struct __sk_buff *skb, const struct tp_ofl_c2p_val *v)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + ETH_HLEN;
	struct udphdr *udp = (void *)(ip + 1);
	__u16 *cd = (void *)(udp + 1);
	struct bpf_sock_tuple t = {};
	__u32 old[7], new[7];
	__u32 dlen, pad, saddr, daddr;
	__u16 sport, dport, ulen_raw, check, cd_chan, cd_len, nlen_raw;
	__u64 s;
	int r, p;

	if ((void *)(cd + 2) > end || (p = cd_lengths(udp, cd, &dlen)) < 0)
		return pass(TP_OFL_R_CD_LEN);
	pad = (__u32)p;
	if (tp_csum_fold(tp_csum_ip4_words((const __u16 *)ip)) != 0xffff)
		return pass(TP_OFL_R_IP_CSUM);
	saddr = ip->saddr;
	daddr = ip->daddr;
	r = vet(skb, ip->ttl, udp->check, tp_csum_pseudo4(saddr, daddr, udp->len,
	                                                  bpf_htons(IPPROTO_UDP)), 0);
	if (r >= 0)
		return pass(r);
	__builtin_memcpy(&t.ipv4.saddr, v->peer, 4);
	__builtin_memcpy(&t.ipv4.daddr, v->relay, 4);
	t.ipv4.sport = v->peer_port;
	t.ipv4.dport = v->relay_port;
	if (!relay_socket_ok(skb, &t, sizeof(t.ipv4)))
		return pass(TP_OFL_R_NO_SOCKET);

	/* Everything the new headers need, before the packet changes. */
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	ip = data + ETH_HLEN;
	udp = (void *)(ip + 1);
	cd = (void *)(udp + 1);
	if ((void *)(cd + 2) > end)
		return pass(TP_OFL_R_CD_LEN);
	sport = udp->source;
	dport = udp->dest;
	ulen_raw = udp->len;
	check = udp->check;
	cd_chan = cd[0];
	cd_len = cd[1];
	nlen_raw = bpf_htons(UDP_HDR + dlen);

	if (check) {
		__u32 nsaddr, ndaddr;

		__builtin_memcpy(&nsaddr, v->relay, 4);
		__builtin_memcpy(&ndaddr, v->peer, 4);
		s = tp_csum_start(check);
		s = tp_csum_sub32(s, saddr);
		s = tp_csum_sub32(s, daddr);
		s = tp_csum_add32(s, nsaddr);
		s = tp_csum_add32(s, ndaddr);
		s = csum_len_ports(s, ulen_raw, nlen_raw, sport, dport, v->relay_port, v->peer_port);
		s = tp_csum_sub16(s, cd_chan);
		s = tp_csum_sub16(s, cd_len);
		if (sub_padding(skb, pad, dlen, &s) < 0)
			return pass(TP_OFL_R_CD_LEN);
		check = tp_csum_finish_udp(s);
	}

	/* Padding off the tail, then 4 bytes out between IP and UDP: the old
	 * source and destination ports go, and the bytes that were the old UDP
	 * length and checksum and the ChannelData header become the new UDP
	 * header. */
	if (pad && bpf_skb_change_tail(skb, skb->len - pad, 0) < 0)
		return pass(TP_OFL_R_ERROR);
	if (bpf_skb_adjust_room(skb, -CD_HDR, BPF_ADJ_ROOM_NET, 0) < 0)
		return pad ? drop_changed() : pass(TP_OFL_R_ERROR);

	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	if (data + ETH_HLEN + sizeof(old) > end)
		return drop_changed();
	__builtin_memcpy(old, data + ETH_HLEN, sizeof(old));
	__builtin_memcpy(new, old, sizeof(new));
	{
		struct iphdr *nip = (struct iphdr *)new;
		struct udphdr *nudp = (struct udphdr *)(nip + 1);

		nip->tot_len = bpf_htons(IP4_HDR + UDP_HDR + dlen);
		nip->ttl--;
		__builtin_memcpy(&nip->saddr, v->relay, 4);
		__builtin_memcpy(&nip->daddr, v->peer, 4);
		nip->check = ip4_check(nip);
		nudp->source = v->relay_port;
		nudp->dest = v->peer_port;
		nudp->len = nlen_raw;
		nudp->check = check;
	}
	fold_into_skb_csum(skb, old, sizeof(old), new, sizeof(new));
	__builtin_memcpy(data + ETH_HLEN, new, sizeof(new));

	account(v->slot, 1, dlen);
	count(TP_OFL_R_C2P);
	return bpf_redirect_neigh(v->ifindex, NULL, 0, 0);
}

static __always_inline int p2c4(struct __sk_buff *skb, const struct tp_ofl_p2c_val *v)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + ETH_HLEN;
	struct udphdr *udp = (void *)(ip + 1);
	struct bpf_sock_tuple t = {};
	__u32 old[8], new[8];
	__u32 n, tot, saddr, daddr;
	__u16 ulen_raw, nlen_raw, check;
	__u64 s;
	int r;

	if ((void *)(udp + 1) > end)
		return pass(TP_OFL_R_IP_LEN);
	n = bpf_ntohs(udp->len) - UDP_HDR;
	tot = bpf_ntohs(ip->tot_len);
	if (tot + CD_HDR > v->mtu)
		return pass(TP_OFL_R_MTU);
	if (tp_csum_fold(tp_csum_ip4_words((const __u16 *)ip)) != 0xffff)
		return pass(TP_OFL_R_IP_CSUM);
	saddr = ip->saddr;
	daddr = ip->daddr;
	r = vet(skb, ip->ttl, udp->check, tp_csum_pseudo4(saddr, daddr, udp->len,
	                                                  bpf_htons(IPPROTO_UDP)), 0);
	if (r >= 0)
		return pass(r);
	t.ipv4.saddr = saddr;
	t.ipv4.daddr = daddr;
	t.ipv4.sport = udp->source;
	t.ipv4.dport = udp->dest;
	if (!relay_socket_ok(skb, &t, sizeof(t.ipv4)))
		return pass(TP_OFL_R_NO_SOCKET);

	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	ip = data + ETH_HLEN;
	udp = (void *)(ip + 1);
	if ((void *)(udp + 1) > end)
		return pass(TP_OFL_R_IP_LEN);
	ulen_raw = udp->len;
	nlen_raw = bpf_htons(UDP_HDR + CD_HDR + n);
	check = udp->check;
	if (check) {
		__u32 nsaddr, ndaddr;

		__builtin_memcpy(&nsaddr, v->listener, 4);
		__builtin_memcpy(&ndaddr, v->client, 4);
		s = tp_csum_start(check);
		s = tp_csum_sub32(s, saddr);
		s = tp_csum_sub32(s, daddr);
		s = tp_csum_add32(s, nsaddr);
		s = tp_csum_add32(s, ndaddr);
		s = csum_len_ports(s, ulen_raw, nlen_raw, udp->source, udp->dest, v->listener_port,
		                   v->client_port);
		s += v->chan;
		s += bpf_htons(n);
		check = tp_csum_finish_udp(s);
	}

	/* 4 zero bytes in between IP and UDP: with the old UDP header behind
	 * them they become the new UDP header and the ChannelData header. */
	if (bpf_skb_adjust_room(skb, CD_HDR, BPF_ADJ_ROOM_NET, 0) < 0)
		return pass(TP_OFL_R_ERROR);

	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	if (data + ETH_HLEN + sizeof(old) > end)
		return drop_changed();
	__builtin_memcpy(old, data + ETH_HLEN, sizeof(old));
	__builtin_memcpy(new, old, IP4_HDR);
	{
		struct iphdr *nip = (struct iphdr *)new;
		struct udphdr *nudp = (struct udphdr *)(nip + 1);
		__u16 *ncd = (__u16 *)(nudp + 1);

		nip->tot_len = bpf_htons(tot + CD_HDR);
		nip->ttl--;
		__builtin_memcpy(&nip->saddr, v->listener, 4);
		__builtin_memcpy(&nip->daddr, v->client, 4);
		nip->check = ip4_check(nip);
		nudp->source = v->listener_port;
		nudp->dest = v->client_port;
		nudp->len = nlen_raw;
		nudp->check = check;
		ncd[0] = v->chan;
		ncd[1] = bpf_htons(n);
	}
	fold_into_skb_csum(skb, old, sizeof(old), new, sizeof(new));
	__builtin_memcpy(data + ETH_HLEN, new, sizeof(new));

	account(v->slot, 0, n);
	count(TP_OFL_R_P2C);
	return bpf_redirect_neigh(v->ifindex, NULL, 0, 0);
}

static __always_inline int relay4(struct __sk_buff *skb)
{
	void *data, *end;
	struct iphdr *ip;
	struct udphdr *udp;
	__u8 *pl;
	__u32 tot;

	pull(skb, ETH_HLEN + IP4_HDR + UDP_HDR + CD_HDR);
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	ip = data + ETH_HLEN;
	if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_UDP)
		return TC_ACT_UNSPEC;
	if (ip->version != 4 || ip->ihl != 5)
		return pass(TP_OFL_R_IP_OPTS);
	if (ip->frag_off & bpf_htons(0x3fff))   /* MF or an offset */
		return pass(TP_OFL_R_FRAG);
	udp = (void *)(ip + 1);
	if ((void *)(udp + 1) > end)
		return pass(TP_OFL_R_IP_LEN);
	if (skb->pkt_type != PACKET_HOST || skb->vlan_present)
		return pass(TP_OFL_R_NOT_HOST);
	tot = bpf_ntohs(ip->tot_len);
	if (tot + ETH_HLEN != skb->len || bpf_ntohs(udp->len) + IP4_HDR != tot ||
	    bpf_ntohs(udp->len) < UDP_HDR)
		return pass(TP_OFL_R_IP_LEN);

	pl = (void *)(udp + 1);
	if ((void *)(pl + CD_HDR) <= end && (pl[0] & 0xc0) == 0x40) {
		struct tp_ofl_c2p_key k = {};
		struct tp_ofl_c2p_val *v;

		__builtin_memcpy(k.client, &ip->saddr, 4);
		__builtin_memcpy(k.listener, &ip->daddr, 4);
		k.client_port = udp->source;
		k.listener_port = udp->dest;
		__builtin_memcpy(&k.chan, pl, 2);
		k.family = TP_OFL_FAMILY_V4;
		v = bpf_map_lookup_elem(&tp_c2p, &k);
		if (v)
			return c2p4(skb, v);
	}
	{
		struct tp_ofl_p2c_key k = {};
		struct tp_ofl_p2c_val *v;

		__builtin_memcpy(k.peer, &ip->saddr, 4);
		__builtin_memcpy(k.relay, &ip->daddr, 4);
		k.peer_port = udp->source;
		k.relay_port = udp->dest;
		k.family = TP_OFL_FAMILY_V4;
		v = bpf_map_lookup_elem(&tp_p2c, &k);
		if (v)
			return p2c4(skb, v);
	}
	return pass(TP_OFL_R_NO_ENTRY);
}

/* ------------------------------------------------------------------ */
/* IPv6                                                                */
/* ------------------------------------------------------------------ */

static __always_inline int c2p6(struct __sk_buff *skb, const struct tp_ofl_c2p_val *v)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ipv6hdr *ip = data + ETH_HLEN;
	struct udphdr *udp = (void *)(ip + 1);
	__u16 *cd = (void *)(udp + 1);
	struct bpf_sock_tuple t = {};
	__u32 old[12], new[12], saddr[4], daddr[4], nsaddr[4], ndaddr[4];
	__u32 dlen, pad;
	__u16 sport, dport, ulen_raw, check, cd_chan, cd_len, nlen_raw;
	__u64 s;
	int r, p;

	if ((void *)(cd + 2) > end || (p = cd_lengths(udp, cd, &dlen)) < 0)
		return pass(TP_OFL_R_CD_LEN);
	pad = (__u32)p;
	__builtin_memcpy(saddr, &ip->saddr, 16);
	__builtin_memcpy(daddr, &ip->daddr, 16);
	r = vet(skb, ip->hop_limit, udp->check,
	        tp_csum_pseudo6(saddr, daddr, udp->len, bpf_htons(IPPROTO_UDP)), 1);
	if (r >= 0)
		return pass(r);
	__builtin_memcpy(t.ipv6.saddr, v->peer, 16);
	__builtin_memcpy(t.ipv6.daddr, v->relay, 16);
	t.ipv6.sport = v->peer_port;
	t.ipv6.dport = v->relay_port;
	if (!relay_socket_ok(skb, &t, sizeof(t.ipv6)))
		return pass(TP_OFL_R_NO_SOCKET);

	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	ip = data + ETH_HLEN;
	udp = (void *)(ip + 1);
	cd = (void *)(udp + 1);
	if ((void *)(cd + 2) > end)
		return pass(TP_OFL_R_CD_LEN);
	sport = udp->source;
	dport = udp->dest;
	ulen_raw = udp->len;
	check = udp->check;
	cd_chan = cd[0];
	cd_len = cd[1];
	nlen_raw = bpf_htons(UDP_HDR + dlen);
	__builtin_memcpy(nsaddr, v->relay, 16);
	__builtin_memcpy(ndaddr, v->peer, 16);

	s = tp_csum_start(check);
	s = tp_csum_sub128(s, saddr);
	s = tp_csum_sub128(s, daddr);
	s = tp_csum_add128(s, nsaddr);
	s = tp_csum_add128(s, ndaddr);
	s = csum_len_ports(s, ulen_raw, nlen_raw, sport, dport, v->relay_port, v->peer_port);
	s = tp_csum_sub16(s, cd_chan);
	s = tp_csum_sub16(s, cd_len);
	if (sub_padding(skb, pad, dlen, &s) < 0)
		return pass(TP_OFL_R_CD_LEN);
	check = tp_csum_finish_udp(s);

	if (pad && bpf_skb_change_tail(skb, skb->len - pad, 0) < 0)
		return pass(TP_OFL_R_ERROR);
	if (bpf_skb_adjust_room(skb, -CD_HDR, BPF_ADJ_ROOM_NET, 0) < 0)
		return pad ? drop_changed() : pass(TP_OFL_R_ERROR);

	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	if (data + ETH_HLEN + sizeof(old) > end)
		return drop_changed();
	__builtin_memcpy(old, data + ETH_HLEN, sizeof(old));
	__builtin_memcpy(new, old, sizeof(new));
	{
		struct ipv6hdr *nip = (struct ipv6hdr *)new;
		struct udphdr *nudp = (struct udphdr *)(nip + 1);

		nip->payload_len = nlen_raw;
		nip->hop_limit--;
		__builtin_memcpy(&nip->saddr, nsaddr, 16);
		__builtin_memcpy(&nip->daddr, ndaddr, 16);
		nudp->source = v->relay_port;
		nudp->dest = v->peer_port;
		nudp->len = nlen_raw;
		nudp->check = check;
	}
	fold_into_skb_csum(skb, old, sizeof(old), new, sizeof(new));
	__builtin_memcpy(data + ETH_HLEN, new, sizeof(new));

	account(v->slot, 1, dlen);
	count(TP_OFL_R_C2P);
	return bpf_redirect_neigh(v->ifindex, NULL, 0, 0);
}

static __always_inline int p2c6(struct __sk_buff *skb, const struct tp_ofl_p2c_val *v)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ipv6hdr *ip = data + ETH_HLEN;
	struct udphdr *udp = (void *)(ip + 1);
	struct bpf_sock_tuple t = {};
	__u32 old[13], new[13], saddr[4], daddr[4], nsaddr[4], ndaddr[4];
	__u32 n;
	__u16 sport, dport, ulen_raw, nlen_raw, check;
	__u64 s;
	int r;

	if ((void *)(udp + 1) > end)
		return pass(TP_OFL_R_IP_LEN);
	n = bpf_ntohs(udp->len) - UDP_HDR;
	if (IP6_HDR + UDP_HDR + CD_HDR + n > v->mtu)
		return pass(TP_OFL_R_MTU);
	__builtin_memcpy(saddr, &ip->saddr, 16);
	__builtin_memcpy(daddr, &ip->daddr, 16);
	r = vet(skb, ip->hop_limit, udp->check,
	        tp_csum_pseudo6(saddr, daddr, udp->len, bpf_htons(IPPROTO_UDP)), 1);
	if (r >= 0)
		return pass(r);
	__builtin_memcpy(t.ipv6.saddr, saddr, 16);
	__builtin_memcpy(t.ipv6.daddr, daddr, 16);
	t.ipv6.sport = udp->source;
	t.ipv6.dport = udp->dest;
	if (!relay_socket_ok(skb, &t, sizeof(t.ipv6)))
		return pass(TP_OFL_R_NO_SOCKET);

	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	ip = data + ETH_HLEN;
	udp = (void *)(ip + 1);
	if ((void *)(udp + 1) > end)
		return pass(TP_OFL_R_IP_LEN);
	sport = udp->source;
	dport = udp->dest;
	ulen_raw = udp->len;
	check = udp->check;
	nlen_raw = bpf_htons(UDP_HDR + CD_HDR + n);
	__builtin_memcpy(nsaddr, v->listener, 16);
	__builtin_memcpy(ndaddr, v->client, 16);

	s = tp_csum_start(check);
	s = tp_csum_sub128(s, saddr);
	s = tp_csum_sub128(s, daddr);
	s = tp_csum_add128(s, nsaddr);
	s = tp_csum_add128(s, ndaddr);
	s = csum_len_ports(s, ulen_raw, nlen_raw, sport, dport, v->listener_port, v->client_port);
	s += v->chan;
	s += bpf_htons(n);
	check = tp_csum_finish_udp(s);

	if (bpf_skb_adjust_room(skb, CD_HDR, BPF_ADJ_ROOM_NET, 0) < 0)
		return pass(TP_OFL_R_ERROR);

	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	if (data + ETH_HLEN + sizeof(old) > end)
		return drop_changed();
	__builtin_memcpy(old, data + ETH_HLEN, sizeof(old));
	__builtin_memcpy(new, old, IP6_HDR);
	{
		struct ipv6hdr *nip = (struct ipv6hdr *)new;
		struct udphdr *nudp = (struct udphdr *)(nip + 1);
		__u16 *ncd = (__u16 *)(nudp + 1);

		nip->payload_len = nlen_raw;
		nip->hop_limit--;
		__builtin_memcpy(&nip->saddr, nsaddr, 16);
		__builtin_memcpy(&nip->daddr, ndaddr, 16);
		nudp->source = v->listener_port;
		nudp->dest = v->client_port;
		nudp->len = nlen_raw;
		nudp->check = check;
		ncd[0] = v->chan;
		ncd[1] = bpf_htons(n);
	}
	fold_into_skb_csum(skb, old, sizeof(old), new, sizeof(new));
	__builtin_memcpy(data + ETH_HLEN, new, sizeof(new));

	account(v->slot, 0, n);
	count(TP_OFL_R_P2C);
	return bpf_redirect_neigh(v->ifindex, NULL, 0, 0);
}

static __always_inline int relay6(struct __sk_buff *skb)
{
	void *data, *end;
	struct ipv6hdr *ip;
	struct udphdr *udp;
	__u8 *pl;
	__u32 plen;

	pull(skb, ETH_HLEN + IP6_HDR + UDP_HDR + CD_HDR);
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	ip = data + ETH_HLEN;
	if ((void *)(ip + 1) > end || ip->version != 6)
		return TC_ACT_UNSPEC;
	if (ip->nexthdr != IPPROTO_UDP) {
		/* Extension headers (a fragment header among them): not ours. Count
		 * them only when the next header is UDP (not for MLD and the like). */
		__u8 *x = (void *)(ip + 1);

		if (x + 1 > (__u8 *)end || x[0] != IPPROTO_UDP)
			return TC_ACT_UNSPEC;
		if (ip->nexthdr == IPPROTO_FRAGMENT)
			return pass(TP_OFL_R_FRAG);
		if (ip->nexthdr == IPPROTO_HOPOPTS || ip->nexthdr == IPPROTO_ROUTING ||
		    ip->nexthdr == IPPROTO_DSTOPTS)
			return pass(TP_OFL_R_IP_OPTS);
		return TC_ACT_UNSPEC;
	}
	udp = (void *)(ip + 1);
	if ((void *)(udp + 1) > end)
		return pass(TP_OFL_R_IP_LEN);
	if (skb->pkt_type != PACKET_HOST || skb->vlan_present)
		return pass(TP_OFL_R_NOT_HOST);
	plen = bpf_ntohs(ip->payload_len);
	if (plen + IP6_HDR + ETH_HLEN != skb->len || bpf_ntohs(udp->len) != plen ||
	    plen < UDP_HDR)
		return pass(TP_OFL_R_IP_LEN);

	pl = (void *)(udp + 1);
	if ((void *)(pl + CD_HDR) <= end && (pl[0] & 0xc0) == 0x40) {
		struct tp_ofl_c2p_key k = {};
		struct tp_ofl_c2p_val *v;

		__builtin_memcpy(k.client, &ip->saddr, 16);
		__builtin_memcpy(k.listener, &ip->daddr, 16);
		k.client_port = udp->source;
		k.listener_port = udp->dest;
		__builtin_memcpy(&k.chan, pl, 2);
		k.family = TP_OFL_FAMILY_V6;
		v = bpf_map_lookup_elem(&tp_c2p, &k);
		if (v)
			return c2p6(skb, v);
	}
	{
		struct tp_ofl_p2c_key k = {};
		struct tp_ofl_p2c_val *v;

		__builtin_memcpy(k.peer, &ip->saddr, 16);
		__builtin_memcpy(k.relay, &ip->daddr, 16);
		k.peer_port = udp->source;
		k.relay_port = udp->dest;
		k.family = TP_OFL_FAMILY_V6;
		v = bpf_map_lookup_elem(&tp_p2c, &k);
		if (v)
			return p2c6(skb, v);
	}
	return pass(TP_OFL_R_NO_ENTRY);
}

SEC("tc")
int tp_relay(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return TC_ACT_UNSPEC;
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		return relay4(skb);
	if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		return relay6(skb);
	return TC_ACT_UNSPEC;
}
