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

/* Listen on the relay address of a TCP allocation. 0 or a negative errno. */
int tp_tcp_relay_open(struct tp_alloc *a, const struct tp_addr *addr);
/* Close the listener and every peer connection and pipe of the allocation. */
void tp_tcp_relay_close(struct tp_alloc *a);

/* Connect (RFC 6062 §5.2) and ConnectionBind (§5.4) requests. */
int tp_tcp_connect(struct tp_req *rq, struct tp_alloc *a);
int tp_tcp_connection_bind(struct tp_req *rq);

/* The stream listener's side of ConnectionBind: after the reply to a successful
 * ConnectionBind went into this connection's output, the connection is handed
 * over as a pipe. */
bool tp_tcp_pipe_pending(const struct tp_srv *s, const struct tp_sink *sink);
void tp_tcp_pipe_start(struct tp_srv *s, struct bufferevent *client);
/* After a reload: close the peer connections (bound or not) whose peer the
 * new policy refuses. */
void tp_tcp_relay_recheck(struct tp_alloc *a);
/* A client connection closed: forget any pending bind on it. */
void tp_tcp_conn_gone(struct tp_srv *s, struct tp_sink *sink);

#endif
