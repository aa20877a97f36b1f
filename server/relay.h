/*
 * relay.h - UDP relay sockets: open/close, client-to-peer sends, and the
 * peer-to-client path (permission check, ChannelData or Data indication, ICMP
 * errors reported in Data indications per RFC 8656 §11.5).
 */
#ifndef TP_RELAY_H
#define TP_RELAY_H

#include "alloc.h"

/* 0, or a negative errno (-EADDRINUSE: try another port). */
int tp_relay_open(struct tp_alloc *a, struct tp_relay *r, const struct tp_addr *ip,
                  uint16_t port);
void tp_relay_close(struct tp_relay *r);
/* Register an open relay socket on its allocation's (new) loop. */
void tp_relay_rearm(struct tp_relay *r);

/* Bytes reserved in front of received peer data, so ChannelData and Data
 * indication headers can be written in place. */
#define TP_RELAY_HEADROOM 64

/* The per-loop queue of datagrams to peers: create, free, and send now. */
int tp_relay_init(struct tp_srv *s);
void tp_relay_fini(struct tp_srv *s);
void tp_relay_flush(struct tp_srv *s);

#endif
