/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * conn_limits.h - one worker's connection counts, against max-connections and
 * max-connections-per-ip.
 *
 * Every stream connection (TCP, TLS) counts once, in the total and in its
 * source's slot; every RFC 6062 peer connection, and the data connection bound
 * to it, counts in the total only. Pure: no I/O, no clock. The edges
 * (listen_tcp.c, relay_tcp.c) admit and release; srv.c reads the gauge.
 */
#ifndef TP_CONN_LIMITS_H
#define TP_CONN_LIMITS_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"

/* Slots of the per-source counters (keyed hash of the source IP). */
#define TP_RATE_SLOTS 4096
#define TP_LIMITS_NOSLOT UINT32_MAX  /* counted in the total only */

struct tp_limits;

struct tp_limits *tp_limits_new(void);
void tp_limits_free(struct tp_limits *l);

/*
 * Count one connection from source slot (a keyed hash of its IP, below
 * TP_RATE_SLOTS, or TP_LIMITS_NOSLOT), if c's caps allow it. 0: counted;
 * -ENFILE: the server's max-connections is reached; -EMFILE: this source's
 * max-connections-per-ip is. A zero cap is no cap.
 */
int tp_limits_admit(struct tp_limits *l, const struct tp_conf *c, uint32_t slot);
/* Count one without checking (a connection that changes hands). */
void tp_limits_hold(struct tp_limits *l);
/* Give back what tp_limits_admit or tp_limits_hold counted. */
void tp_limits_release(struct tp_limits *l, uint32_t slot);
/* Whether one more connection fits under max-connections. */
bool tp_limits_room(const struct tp_limits *l, const struct tp_conf *c);
uint32_t tp_limits_conns(const struct tp_limits *l);
uint32_t tp_limits_conns_from(const struct tp_limits *l, uint32_t slot);

#endif
