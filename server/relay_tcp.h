/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * relay_tcp.h - TCP relays (RFC 6062).
 *
 * A TCP allocation listens on its relay address. Connect opens a connection to
 * a peer and answers with a CONNECTION-ID; a permitted peer connecting in is
 * announced with a ConnectionAttempt indication. The client then opens a data
 * connection and sends ConnectionBind with the CONNECTION-ID; after the
 * success response that connection is a raw byte pipe to the peer. Unbound
 * peer connections are closed after 30 s; an allocation has at most
 * max-peer-connections, each counted in max-connections. Pipes are flow controlled: when one
 * side's output passes the stream buffer limit, reading from the other side
 * pauses until it drains.
 */
#ifndef TP_RELAY_TCP_H
#define TP_RELAY_TCP_H

#include <event2/bufferevent.h>

#include "dispatch.h"

struct tp_tcp_relay;

/* A worker's registry of peer connections (CONNECTION-IDs are unique in it). */
struct tp_tcp_peers *tp_tcp_peers_new(void);
void tp_tcp_peers_free(struct tp_tcp_peers *p);

/* Listen on the relay address of a TCP allocation. 0 or a negative errno. */
int tp_tcp_relay_open(struct tp_alloc *a, const struct tp_addr *addr);
/* Close the listener and every peer connection and pipe of the allocation. */
void tp_tcp_relay_close(struct tp_alloc *a);

/* The edge of struct tp_io's tcp_connect and tcp_bind (RFC 6062 §5.2, §5.4;
 * the protocol checks are turn.c's). */
int tp_tcp_connect(struct tp_alloc *a, const struct tp_addr *peer, const struct tp_reply *rp);
int tp_tcp_bind(struct tp_srv *s, struct tp_sink *sink, uint32_t cid, const char *user);

/* The stream listener's side of ConnectionBind: once the request that bound
 * pc has returned (its answer in the connection's output), the connection is
 * handed over as pc's client side; a connection that closes first cancels. */
void tp_tcp_pipe_start(struct tp_peer_conn *pc, struct bufferevent *client);
void tp_tcp_pipe_cancel(struct tp_peer_conn *pc);
/* After a reload: close the peer connections (bound or not) whose peer the
 * new policy refuses. */
void tp_tcp_relay_recheck(struct tp_alloc *a);

#endif
