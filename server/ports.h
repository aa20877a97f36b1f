/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ports.h - relay port pools: one per relay IP address.
 *
 * A pool marks the ports of its address that our allocations use or that a
 * reservation holds (under the shared lock, see shared.h), and, separately,
 * which ports currently have a bound relay socket, per transport. The second
 * map is read without the lock by every worker's peer policy: a peer address
 * that is one of our relay addresses is allowed only on a live port (relaying
 * between two allocations of this server, issue: relay-to-relay).
 */
#ifndef TP_PORTS_H
#define TP_PORTS_H

#include <stdatomic.h>

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"

struct tp_portpool {
	struct tp_addr ip;
	uint32_t nused;                     /* ports marked in used[] (shared lock) */
	uint8_t used[8192];                 /* in use or reserved (shared lock) */
	_Atomic uint64_t live[2][1024];     /* [0] UDP, [1] TCP: a relay socket is bound */
};

struct tp_portpool *tp_portpool_create(const struct tp_addr *ip);
void tp_portpool_free(struct tp_portpool *p);
/*
 * Take a free port in [min, max] (even if asked; with pair, port+1 too), starting
 * at a random place. 0 or -ENOSPC.
 */
int tp_port_take(struct tp_portpool *p, uint16_t min, uint16_t max, bool even, bool pair,
                 uint16_t *out);
void tp_port_release(struct tp_portpool *p, uint16_t port);
bool tp_port_used(const struct tp_portpool *p, uint16_t port);

/* Live relay sockets (no lock: atomic bit operations). */
void tp_port_set_live(struct tp_portpool *p, uint16_t port, bool tcp, bool on);
bool tp_port_live(const struct tp_portpool *p, uint16_t port, bool tcp);

#endif
