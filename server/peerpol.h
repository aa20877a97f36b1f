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
 * denied-peer beats allowed-peer beats the built-in list. The server's own listening transport addresses (ip and port) are always
 * refused: relaying into our own listener would loop.
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
};

struct tp_peerpol_self {
	const struct tp_addr *addrs;   /* own IPs (interfaces, relay, external) */
	size_t naddrs;
	const struct tp_listen *listen;/* own listeners (wildcards match every own IP) */
	size_t nlisten;
};

/* Checks the peer's IP; if check_port, also its port against our listeners. */
enum tp_peer_verdict tp_peer_check(const struct tp_conf *c, const struct tp_peerpol_self *self,
                                   const struct tp_addr *peer, bool check_port);
const char *tp_peer_verdict_str(enum tp_peer_verdict v);

#endif
