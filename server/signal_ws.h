/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * signal_ws.h - optional WebSocket (RFC 6455) signaling rooms.
 *
 * A client opens ws://HOST:PORT/ROOM[?token=T]. The URL path names the room;
 * a room holds at most two peers. Every text or binary message one peer sends
 * is forwarded, unparsed, to the other; messages sent while alone in the room
 * are queued (bounded) and delivered when the second peer joins. The listener
 * enforces frame and message size limits, a handshake timeout, an idle timeout
 * (any frame, pongs included, counts as activity), sends pings, and performs
 * the close handshake. At most max_conns connections, max_conns_per_ip of them
 * from one source address. With a token set, the query must carry
 * ?token=<token> (compared in constant time) or the upgrade is answered 403.
 *
 * Runs on the caller's event_base; single-threaded.
 */
#ifndef TP_SIGNAL_WS_H
#define TP_SIGNAL_WS_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "proto.h"

struct tp_ws_opts {
	size_t max_frame;             /* payload bytes per frame; 0: 65536 */
	size_t max_message;           /* bytes per reassembled message; 0: 262144 */
	size_t max_queue;             /* bytes queued for an absent or not reading
	                                 peer; beyond, the sender is closed (1008);
	                                 a connection's own output (pongs, pings)
	                                 stays under it too: pongs are dropped;
	                                 0: 262144 */
	unsigned handshake_timeout_s; /* 0: 10 */
	unsigned idle_timeout_s;      /* no frame for this long closes; 0: 120 */
	unsigned ping_interval_s;     /* 0: 30 */
	unsigned max_conns;           /* 0: 1024 */
	unsigned max_conns_per_ip;    /* from one source address; 0: 64 */
	const char *token;            /* NULL or "": no check; copied */
};

struct tp_ws;

/* Listens on addr (port 0: any free port, see tp_ws_port). 0 or -errno. */
int tp_ws_listen(struct event_base *base, const struct tp_addr *addr,
                 const struct tp_ws_opts *o, struct tp_ws **out);
/* Closes the listener and every connection; NULL is allowed. */
void tp_ws_free(struct tp_ws *ws);
/* The bound port (host order). */
uint16_t tp_ws_port(const struct tp_ws *ws);

struct tp_ws_stats {
	uint64_t conns, upgrades, rejected, forwarded, queued, closed_proto,
	         closed_idle, closed_size;
	uint64_t pongs_dropped;       /* the client did not read: see max_queue */
};
void tp_ws_get_stats(const struct tp_ws *ws, struct tp_ws_stats *st);

#endif
