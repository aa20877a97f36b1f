/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * peerpol.h - which peer addresses a relay may reach (RFC 8656 §21.x,
 * secure by default).
 *
 * Denied unless allowed by allowed-peer: the IANA special-purpose ranges
 * (loopback, 0.0.0.0/8, ::, RFC 1918, 100.64/10, link-local, multicast,
 * broadcast, documentation, benchmarking, 240/4, ULA fc00::/7, fec0::/10,
 * discard, ORCHID, ...), every IPv4-in-IPv6 form of a denied IPv4 address
 * (mapped ::ffff:0:0/96, compatible ::/96, NAT64 64:ff9b::/96 and
 * 64:ff9b:1::/48, 6to4 2002::/16, Teredo 2001::/32 server and client), and the
 * server's own addresses. IPv4-mapped and IPv4-compatible peers are refused
 * outright, even for a public IPv4 address (the relay has an IPv4 socket for
 * that), and so is every IPv6 address outside 2000::/3 but 64:ff9b::/96.
 * allowed-peer matches mapped, compatible and NAT64 peers by their embedded
 * IPv4 too; denied-peer also matches 6to4 and Teredo embedded addresses.
 * denied-peer beats allowed-peer beats the built-in list. The server's own
 * listening transport addresses (ip and port) are always refused: relaying
 * into our own listener would loop.
 *
 * One exception opens a path the lists above would close: a peer transport
 * address that is one of our relay addresses (as bound or as advertised
 * through external-ip) on a port where a relay socket of the same transport
 * is bound right now, i.e. another allocation of this server. Two relay-only
 * WebRTC peers on one server reach each other that way. It is decided per
 * port and per moment (self->relay_port), so every other port of our own
 * addresses (SSH, admin, metrics, released relay ports) stays refused;
 * denied-peer still beats it.
 */
#ifndef TP_PEERPOL_H
#define TP_PEERPOL_H

#include "conf.h"

enum tp_peer_verdict {
	TP_PEER_OK = 0,
	TP_PEER_DENIED_CONFIG,     /* denied-peer */
	TP_PEER_DENIED_SPECIAL,    /* a built-in special-purpose range */
	TP_PEER_DENIED_EMBEDDED,   /* an IPv4-in-IPv6 form of a denied IPv4 address */
	TP_PEER_DENIED_SELF,       /* one of the server's own addresses */
	TP_PEER_DENIED_LISTENER,   /* exactly a listening address and port of ours */
	TP_PEER_DENIED_RELAY_PORT, /* our relay address, but no allocation holds the port */
};

/* What self->relay_port says about a peer transport address. */
enum tp_relay_port { TP_RELAY_NOT_OURS, TP_RELAY_LIVE, TP_RELAY_IDLE };

/* tp_peer_check flags */
#define TP_PEER_PORT 1u   /* also refuse our listening transport addresses */
#define TP_PEER_TCP  2u   /* the peer is reached over TCP (RFC 6062): live TCP relays */
#define TP_PEER_IP   4u   /* a permission (IP only): our relay addresses pass whatever
                             the port, which each send checks again */

struct tp_peerpol_self {
	const struct tp_addr *addrs;   /* own IPs (interfaces, relay, external) */
	size_t naddrs;
	const struct tp_listen *listen;/* own listeners (wildcards match every own IP) */
	size_t nlisten;
	/* optional: is peer (ip and port) one of our relay transport addresses, and
	 * is a relay socket bound there now (tcp: a TCP relay, else UDP)? */
	enum tp_relay_port (*relay_port)(const void *arg, const struct tp_addr *peer, bool tcp);
	const void *relay_arg;
};

/* Checks the peer's IP, and its port where the port matters: against our
 * listeners with TP_PEER_PORT, and always for our relay addresses. */
enum tp_peer_verdict tp_peer_check(const struct tp_conf *c, const struct tp_peerpol_self *self,
                                   const struct tp_addr *peer, unsigned flags);
const char *tp_peer_verdict_str(enum tp_peer_verdict v);

#endif
