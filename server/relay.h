/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * relay.h - UDP relay sockets: open/close, client-to-peer sends, and the
 * peer-to-client path (permission check, ChannelData or Data indication, ICMP
 * errors reported in Data indications per RFC 8656 §11.5).
 */
#ifndef TP_RELAY_H
#define TP_RELAY_H

#include "alloc.h"

/* The UDP side of struct tp_alloc_ops: a's relay endpoint i on addr. 0, or a
 * negative errno (-EADDRINUSE: try another port). */
int tp_relay_open(struct tp_alloc *a, unsigned i, const struct tp_addr *addr);
void tp_relay_close(struct tp_alloc *a, unsigned i);
/* The size of a UDP relay socket object (for its slab). */
size_t tp_relay_io_size(void);
/* Stop watching endpoint i on its loop (queued datagrams leave first), or
 * start watching it on a->s's loop. */
void tp_relay_move(struct tp_alloc *a, unsigned i, bool attach);

/* Send application data to a peer from the relay. Errors are counted on the
 * allocation, never fatal to it. Returns 0 or a negative errno. */
int tp_relay_send(struct tp_alloc *a, const struct tp_addr *peer, const uint8_t *data,
                  size_t len, bool df);

/* Bytes reserved in front of received peer data, so ChannelData and Data
 * indication headers can be written in place. */
#define TP_RELAY_HEADROOM 64

/* The per-loop queue of datagrams to peers: create, free, and send now. */
int tp_relay_init(struct tp_srv *s);
void tp_relay_fini(struct tp_srv *s);
void tp_relay_flush(struct tp_srv *s);

#endif
