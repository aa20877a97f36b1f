/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * offload_if.h - interfaces and routes for the kernel offload (private to
 * offload.c): which interfaces exist, which addresses they carry, and which
 * interface the routing table sends a given destination out of.
 */
#ifndef TP_OFFLOAD_IF_H
#define TP_OFFLOAD_IF_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define TP_OFL_MAX_IFACES 64
#define TP_OFL_MAX_ADDRS 256

struct tp_ofl_iface {
	int ifindex;
	char name[IF_NAMESIZE];
	bool ether, up, loopback;
	unsigned mtu;
};

struct tp_ofl_ifaddr {
	uint16_t family;
	uint8_t ip[16];
	int ifindex;
};

struct tp_ofl_ifs {
	struct tp_ofl_iface ifs[TP_OFL_MAX_IFACES];
	size_t nifs;
	struct tp_ofl_ifaddr addrs[TP_OFL_MAX_ADDRS];
	size_t naddrs;
};

/* (Re)read the interfaces of the current network namespace: link type, MTU,
 * flags, addresses. 0 or -errno. */
int tp_ofl_if_scan(struct tp_ofl_ifs *t);

const struct tp_ofl_iface *tp_ofl_if_get(const struct tp_ofl_ifs *t, int ifindex);

/* The interface carrying this address, or 0. */
int tp_ofl_if_of_addr(const struct tp_ofl_ifs *t, const struct tp_addr *a);

/* The interface the routing table picks for dst with source src (RTM_GETROUTE,
 * as a socket bound to src and sending to dst would get): >0, or -errno
 * (-ENETUNREACH: no route). */
int tp_ofl_route_oif(const struct tp_addr *src, const struct tp_addr *dst);

/* IPv4-mapped IPv6 becomes IPv4; true for an all-zero address. */
void tp_ofl_addr_normalize(struct tp_addr *a);
bool tp_ofl_addr_is_any(const struct tp_addr *a);

#endif
