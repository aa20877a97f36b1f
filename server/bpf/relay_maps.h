/* SPDX-License-Identifier: BSD-3-Clause OR GPL-2.0-only */
/*
 * relay_maps.h - the layout of the maps shared by the kernel datapath
 * (relay.bpf.c) and its control plane (server/offload.c). Both sides include
 * this file; nothing else may define these structs.
 *
 * All addresses and ports are in network byte order, exactly as they appear
 * in the packet, so the program compares and copies them without conversion.
 * An IPv4 address occupies the first 4 bytes of its 16-byte field and the
 * other 12 are zero. Both legs of one channel have the same family (a client
 * on IPv4 with a relay on IPv6 stays in user space). Keys are padded
 * explicitly and the padding is zero: the hash covers every byte.
 *
 *   c2p: client -> listener ChannelData
 *        key   (client ip, listener ip, client port, listener port, channel, family)
 *        value (relay ip, peer ip, relay port, peer port, egress ifindex, slot)
 *   p2c: peer -> relay UDP
 *        key   (peer ip, relay ip, peer port, relay port, family)
 *        value (listener ip, client ip, listener port, client port, channel,
 *               egress MTU, egress ifindex, slot)
 *   counts: per-CPU array indexed by slot, one tp_ofl_counts per channel
 *           (both directions), zeroed by user space when a slot is taken
 *   reasons: per-CPU array of packet counts by TP_OFL_R_* (what the program
 *            did with each UDP datagram it saw, and why)
 *   conf:   array of one tp_ofl_conf (the owner's lease)
 */
#ifndef TP_BPF_RELAY_MAPS_H
#define TP_BPF_RELAY_MAPS_H

#include <linux/types.h>

#define TP_OFL_FAMILY_V4 4
#define TP_OFL_FAMILY_V6 6

struct tp_ofl_c2p_key {
	__u8 client[16];
	__u8 listener[16];
	__u16 client_port;
	__u16 listener_port;
	__u16 chan;
	__u8 family;
	__u8 pad0;
};

struct tp_ofl_c2p_val {
	__u8 relay[16];
	__u8 peer[16];
	__u16 relay_port;
	__u16 peer_port;
	__u32 ifindex;      /* egress: the interface that carries the relay address */
	__u32 slot;         /* index into the counts map */
	__u32 pad0;
};

struct tp_ofl_p2c_key {
	__u8 peer[16];
	__u8 relay[16];
	__u16 peer_port;
	__u16 relay_port;
	__u8 family;
	__u8 pad0[3];
};

struct tp_ofl_p2c_val {
	__u8 listener[16];
	__u8 client[16];
	__u16 listener_port;
	__u16 client_port;
	__u16 chan;
	__u16 mtu;          /* egress MTU: a datagram that outgrows it goes to user space */
	__u32 ifindex;      /* egress: the interface that carries the listener address */
	__u32 slot;
};

/* Application data relayed by the kernel path for one channel (ChannelData
 * payload without header and padding; the peer datagram's payload). */
struct tp_ofl_counts {
	__u64 c2p_pkts;
	__u64 c2p_bytes;
	__u64 p2c_pkts;
	__u64 p2c_bytes;
};

/* The program relays only while now (bpf_ktime_get_ns, CLOCK_MONOTONIC) is
 * before lease_ns: the owning process renews it every second, so a filter
 * left attached by a process that died stops relaying within a few seconds. */
struct tp_ofl_conf {
	__u64 lease_ns;
};

/* What happened to a UDP datagram (index into the reasons map). Everything but
 * C2P and P2C (relayed) and ERROR (dropped) went on to user space unchanged. */
enum {
	TP_OFL_R_C2P,          /* ChannelData relayed to the peer */
	TP_OFL_R_P2C,          /* peer datagram relayed to the client */
	TP_OFL_R_NO_ENTRY,     /* no channel for this 5-tuple (STUN, unknown channel, ...) */
	TP_OFL_R_NOT_HOST,     /* not addressed to this host (broadcast, multicast, other) */
	TP_OFL_R_IP_OPTS,      /* IPv4 options or IPv6 extension headers */
	TP_OFL_R_FRAG,         /* a fragment */
	TP_OFL_R_IP_LEN,       /* IP/UDP lengths and frame length disagree (or Ethernet padding) */
	TP_OFL_R_IP_CSUM,      /* IPv4 header checksum wrong */
	TP_OFL_R_CD_LEN,       /* ChannelData length inconsistent with the datagram */
	TP_OFL_R_TTL,          /* TTL / hop limit <= 1 */
	TP_OFL_R_CSUM_PARTIAL, /* UDP checksum not final yet (local sender, offload) */
	TP_OFL_R_NO_CSUM,      /* IPv6 datagram with a zero UDP checksum */
	TP_OFL_R_GSO,          /* a GSO/GRO aggregate of several datagrams */
	TP_OFL_R_MTU,          /* peer datagram + 4 would exceed the egress MTU */
	TP_OFL_R_NO_SOCKET,    /* no socket owns the relay address any more */
	TP_OFL_R_LEASE,        /* the owner's lease ran out */
	TP_OFL_R_ERROR,        /* a helper failed after the packet was changed: dropped */
	TP_OFL_R_COUNT
};

#endif
