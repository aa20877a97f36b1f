/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * peerpol.c - which peer addresses a relay may reach (see peerpol.h).
 *
 * Order of the checks, first verdict wins:
 *   1. denied-peer (the address, and every IPv4 address embedded in it)
 *   2. our own listeners, ip and port (if check_port) - even when allowed-peer
 *      matches: relaying into our own listener would loop
 *   3. allowed-peer (the address; for IPv4-mapped, IPv4-compatible and NAT64
 *      64:ff9b::/96 addresses also the embedded IPv4 address)
 *   3b. our relay addresses: allowed on a port with a live relay socket of
 *      the same transport (another allocation), refused on any other port
 *   4. the built-in special-purpose table below
 *   5. IPv4 addresses embedded in IPv6 (NAT64, 6to4, Teredo server and client)
 *      checked against the IPv4 table
 *   6. our own addresses (and the IPv4 ones embedded in the peer)
 *
 * The built-in table follows the IANA IPv4 and IPv6 Special-Purpose Address
 * Registries ("Globally Reachable" = False entries), plus multicast, with these
 * deliberate choices (all on the side of refusing):
 *   - 192.0.0.0/24 and 192.88.99.0/24 are refused whole, including the anycast
 *     /32s the registry marks reachable (PCP 192.0.0.9, TURN 192.0.0.10,
 *     6a44 192.88.99.2): anycast service addresses may well resolve inside our
 *     own network. Likewise the 2001:1::1..3 anycast addresses in 2001::/23.
 *   - Every IPv6 address outside 2000::/3 (the only block IANA allocates as
 *     global unicast) is refused, except the NAT64 well-known prefix
 *     64:ff9b::/96. This covers ::ffff:0:0/96 (IPv4-mapped: refused outright,
 *     even for a public IPv4 - a mapped address makes sense only on a dual-stack
 *     socket, and the relay has an IPv4 family of its own), ::/96
 *     (IPv4-compatible), ::ffff:0:0:0/96 (SIIT), 100::/64, 5f00::/16,
 *     fc00::/7, fe80::/10, fec0::/10, ff00::/8 and all reserved space.
 *   - Globally reachable blocks inside 2001::/23 stay open: 2001:3::/32 (AMT),
 *     2001:4:112::/48 (AS112), 2001:20::/28 (ORCHIDv2), 2001:30::/28 (DRIP);
 *     Teredo 2001::/32 is judged by the IPv4 addresses it embeds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "peerpol.h"

/* ---- CIDR ---------------------------------------------------------- */

static unsigned ip_len(uint16_t family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

/* Do the first 'bits' bits of a and b agree? */
static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return ((a[whole] ^ b[whole]) & mask) == 0;
}

bool tp_cidr_match(const struct tp_cidr *c, const struct tp_addr *a)
{
	unsigned len = ip_len(a->family);

	if (len == 0 || c->net.family != a->family || c->prefix > len * 8)
		return false;
	return prefix_eq(c->net.ip, a->ip, c->prefix);
}

/*
 * "10.0.0.0/8", "fc00::/7", or a bare address (a /32 or /128).
 * Returns 0, -EINVAL for bad syntax, -ERANGE for host bits set past the prefix.
 */
int tp_cidr_parse(struct tp_cidr *c, const char *s)
{
	char ip[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	long prefix = -1;

	memset(c, 0, sizeof(*c));
	if (n == 0 || n >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, s, n);
	ip[n] = '\0';
	if (inet_pton(AF_INET, ip, c->net.ip) == 1)
		c->net.family = AF_INET;
	else if (inet_pton(AF_INET6, ip, c->net.ip) == 1)
		c->net.family = AF_INET6;
	else
		return -EINVAL;

	unsigned max = ip_len(c->net.family) * 8;
	if (slash) {
		const char *p = slash + 1;
		char *end;
		if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] != '\0'))
			return -EINVAL;
		errno = 0;
		prefix = strtol(p, &end, 10);
		if (errno || *end != '\0' || prefix > (long)max)
			return -EINVAL;
	}
	c->prefix = (uint8_t)(prefix < 0 ? (long)max : prefix);

	/* No bits set past the prefix. */
	for (unsigned bit = c->prefix; bit < max; bit++)
		if (c->net.ip[bit / 8] & (0x80 >> (bit % 8)))
			return -ERANGE;
	return 0;
}

/* ---- the built-in table ------------------------------------------- */

enum rule { DENY, PASS };

struct range {
	uint8_t ip[16];
	uint8_t prefix;
	uint8_t rule;
};

/* IPv4: every entry denies. */
static const struct range special4[] = {
	{ { 0 }, 8, DENY },                          /* 0.0.0.0/8 "this network" */
	{ { 10 }, 8, DENY },                         /* 10/8 private */
	{ { 100, 64 }, 10, DENY },                   /* 100.64/10 shared (CGN) */
	{ { 127 }, 8, DENY },                        /* 127/8 loopback */
	{ { 169, 254 }, 16, DENY },                  /* 169.254/16 link-local */
	{ { 172, 16 }, 12, DENY },                   /* 172.16/12 private */
	{ { 192, 0, 0 }, 24, DENY },                 /* 192.0.0/24 IETF assignments */
	{ { 192, 0, 2 }, 24, DENY },                 /* TEST-NET-1 */
	{ { 192, 88, 99 }, 24, DENY },               /* deprecated 6to4 relay anycast */
	{ { 192, 168 }, 16, DENY },                  /* 192.168/16 private */
	{ { 198, 18 }, 15, DENY },                   /* benchmarking */
	{ { 198, 51, 100 }, 24, DENY },              /* TEST-NET-2 */
	{ { 203, 0, 113 }, 24, DENY },               /* TEST-NET-3 */
	{ { 224 }, 4, DENY },                        /* multicast */
	{ { 240 }, 4, DENY },                        /* reserved, incl. 255.255.255.255 */
};

/* IPv6: the first matching entry decides; no match means DENY. */
static const struct range special6[] = {
	{ { 0x00, 0x64, 0xff, 0x9b }, 96, PASS },    /* 64:ff9b::/96 NAT64 (embedded) */
	{ { 0x20, 0x01, 0x00, 0x00 }, 32, PASS },    /* 2001::/32 Teredo (embedded) */
	{ { 0x20, 0x01, 0x00, 0x03 }, 32, PASS },    /* 2001:3::/32 AMT */
	{ { 0x20, 0x01, 0x00, 0x04, 0x01, 0x12 }, 48, PASS }, /* 2001:4:112::/48 AS112 */
	{ { 0x20, 0x01, 0x00, 0x20 }, 28, PASS },    /* 2001:20::/28 ORCHIDv2 */
	{ { 0x20, 0x01, 0x00, 0x30 }, 28, PASS },    /* 2001:30::/28 DRIP */
	{ { 0x20, 0x01, 0x00, 0x00 }, 23, DENY },    /* 2001::/23 IETF protocol assignments,
	                                                incl. 2001:2::/48, 2001:10::/28 */
	{ { 0x20, 0x01, 0x0d, 0xb8 }, 32, DENY },    /* 2001:db8::/32 documentation */
	{ { 0x3f, 0xff, 0x00 }, 20, DENY },          /* 3fff::/20 documentation */
	{ { 0x20 }, 3, PASS },                       /* 2000::/3 global unicast */
};

static bool in_table(const struct range *t, size_t n, const uint8_t *ip, enum rule *rule)
{
	for (size_t i = 0; i < n; i++) {
		if (prefix_eq(t[i].ip, ip, t[i].prefix)) {
			*rule = (enum rule)t[i].rule;
			return true;
		}
	}
	return false;
}

static bool special(const struct tp_addr *a)
{
	enum rule r = PASS;

	if (a->family == AF_INET)
		return in_table(special4, sizeof(special4) / sizeof(special4[0]), a->ip, &r);
	if (a->family == AF_INET6)
		return !in_table(special6, sizeof(special6) / sizeof(special6[0]), a->ip, &r) ||
		       r == DENY;
	return true;
}

/* ---- IPv4 embedded in IPv6 ---------------------------------------- */

/* ::/96 less ::/127: RFC 4291 §2.5.5.1 leaves the unspecified (::) and
 * loopback (::1) addresses out of the IPv4-compatible form; they are judged
 * as the IPv6 addresses they are. */
static bool v4_compat(const uint8_t *ip)
{
	static const uint8_t zero[15];

	return memcmp(ip, zero, 12) == 0 && !(memcmp(ip + 12, zero, 3) == 0 && ip[15] <= 1);
}

static const uint8_t pfx_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
static const uint8_t pfx_nat64[12] = { 0x00, 0x64, 0xff, 0x9b };
static const uint8_t pfx_6to4[2] = { 0x20, 0x02 };
static const uint8_t pfx_teredo[4] = { 0x20, 0x01, 0x00, 0x00 };

#define MAX_EMBEDDED 2

static void v4(struct tp_addr *out, const uint8_t *ip, bool invert)
{
	memset(out, 0, sizeof(*out));
	out->family = AF_INET;
	for (int i = 0; i < 4; i++)
		out->ip[i] = invert ? (uint8_t)~ip[i] : ip[i];
}

/*
 * The IPv4 addresses an IPv6 address carries. translated: only the forms where
 * the IPv6 address stands for the IPv4 host itself (mapped, compatible, NAT64),
 * not the tunnel forms (6to4, Teredo). Returns how many (0..MAX_EMBEDDED).
 */
static size_t embedded(const struct tp_addr *a, struct tp_addr out[MAX_EMBEDDED],
                       bool translated)
{
	const uint8_t *ip = a->ip;

	if (a->family != AF_INET6)
		return 0;
	if (memcmp(ip, pfx_mapped, 12) == 0 || v4_compat(ip) ||
	    memcmp(ip, pfx_nat64, 12) == 0) {
		v4(&out[0], ip + 12, false);
		return 1;
	}
	if (translated)
		return 0;
	if (memcmp(ip, pfx_6to4, 2) == 0) {
		v4(&out[0], ip + 2, false);
		return 1;
	}
	if (memcmp(ip, pfx_teredo, 4) == 0) {
		v4(&out[0], ip + 4, false);             /* Teredo server */
		v4(&out[1], ip + 12, true);             /* client, obfuscated */
		return 2;
	}
	return 0;
}

/* ---- the policy ---------------------------------------------------- */

static bool in_cidrs(const struct tp_cidr *l, size_t n, const struct tp_addr *a)
{
	for (size_t i = 0; i < n; i++)
		if (tp_cidr_match(&l[i], a))
			return true;
	return false;
}

static bool ip_eq(const struct tp_addr *a, const struct tp_addr *b)
{
	unsigned len = ip_len(a->family);

	return len && a->family == b->family && memcmp(a->ip, b->ip, len) == 0;
}

static bool is_unspecified(const struct tp_addr *a)
{
	static const uint8_t zero[16];

	return ip_len(a->family) && memcmp(a->ip, zero, ip_len(a->family)) == 0;
}

static bool is_loopback(const struct tp_addr *a)
{
	static const uint8_t lo6[16] = { [15] = 1 };

	if (a->family == AF_INET)
		return a->ip[0] == 127;
	return a->family == AF_INET6 && memcmp(a->ip, lo6, 16) == 0;
}

static bool is_self(const struct tp_peerpol_self *self, const struct tp_addr *ip)
{
	for (size_t i = 0; self && i < self->naddrs; i++)
		if (ip_eq(&self->addrs[i], ip))
			return true;
	return false;
}

/* Would ip:port reach one of our listeners? A wildcard listener (of either
 * family: a [::] socket may be dual-stack) answers on every own address, on
 * loopback and on the unspecified address (which Linux delivers locally). */
static bool hits_listener(const struct tp_peerpol_self *self, const struct tp_addr *ip,
                          uint16_t port)
{
	for (size_t i = 0; self && i < self->nlisten; i++) {
		const struct tp_addr *l = &self->listen[i].addr;
		if (l->port != port)
			continue;
		if (ip_eq(l, ip))
			return true;
		if (is_unspecified(l) &&
		    (is_self(self, ip) || is_loopback(ip) || is_unspecified(ip)))
			return true;
	}
	return false;
}

enum tp_peer_verdict tp_peer_check(const struct tp_conf *c, const struct tp_peerpol_self *self,
                                   const struct tp_addr *peer, unsigned flags)
{
	bool check_port = flags & TP_PEER_PORT;
	struct tp_addr emb[MAX_EMBEDDED];
	size_t nemb = embedded(peer, emb, false);

	if (peer->family != AF_INET && peer->family != AF_INET6)
		return TP_PEER_DENIED_SPECIAL;

	if (c && in_cidrs(c->denied_peers, c->ndenied_peers, peer))
		return TP_PEER_DENIED_CONFIG;
	for (size_t i = 0; c && i < nemb; i++)
		if (in_cidrs(c->denied_peers, c->ndenied_peers, &emb[i]))
			return TP_PEER_DENIED_CONFIG;

	if (check_port) {
		if (hits_listener(self, peer, peer->port))
			return TP_PEER_DENIED_LISTENER;
		for (size_t i = 0; i < nemb; i++)
			if (hits_listener(self, &emb[i], peer->port))
				return TP_PEER_DENIED_LISTENER;
	}

	if (c && in_cidrs(c->allowed_peers, c->nallowed_peers, peer))
		return TP_PEER_OK;
	struct tp_addr tr[MAX_EMBEDDED];
	if (c && embedded(peer, tr, true) == 1 &&
	    in_cidrs(c->allowed_peers, c->nallowed_peers, &tr[0]))
		return TP_PEER_OK;

	if (self && self->relay_port) {
		switch (self->relay_port(self->relay_arg, peer, flags & TP_PEER_TCP)) {
		case TP_RELAY_LIVE:
			return TP_PEER_OK;
		case TP_RELAY_IDLE:
			return flags & TP_PEER_IP ? TP_PEER_OK : TP_PEER_DENIED_RELAY_PORT;
		case TP_RELAY_NOT_OURS:
			break;
		}
	}

	if (special(peer))
		return TP_PEER_DENIED_SPECIAL;
	for (size_t i = 0; i < nemb; i++)
		if (special(&emb[i]))
			return TP_PEER_DENIED_EMBEDDED;

	if (is_self(self, peer))
		return TP_PEER_DENIED_SELF;
	for (size_t i = 0; i < nemb; i++)
		if (is_self(self, &emb[i]))
			return TP_PEER_DENIED_SELF;
	return TP_PEER_OK;
}

const char *tp_peer_verdict_str(enum tp_peer_verdict v)
{
	switch (v) {
	case TP_PEER_OK:
		return "allowed";
	case TP_PEER_DENIED_CONFIG:
		return "denied by denied-peer";
	case TP_PEER_DENIED_SPECIAL:
		return "special-purpose address";
	case TP_PEER_DENIED_EMBEDDED:
		return "embeds a special-purpose IPv4 address";
	case TP_PEER_DENIED_SELF:
		return "one of the server's own addresses";
	case TP_PEER_DENIED_LISTENER:
		return "one of the server's listening ports";
	case TP_PEER_DENIED_RELAY_PORT:
		return "the server's relay address, but no allocation holds that port";
	}
	return "?";
}
