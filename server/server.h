/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * server.h - the server's shared internal types.
 *
 * One struct tp_srv per event loop. It owns the listeners, the allocation
 * tables and the relay port pool; it borrows the configuration (const, swapped
 * whole on reload). Nothing here is global: a second loop (issue: fast path)
 * is a second struct tp_srv with SO_REUSEPORT listeners.
 */
#ifndef TP_SERVER_H
#define TP_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "conf.h"
#include "conn_limits.h"
#include "log.h"
#include "peerpol.h"
#include "proto.h"
#include "ratelog.h"
#include "stats.h"

#define TP_MAX_DGRAM 65536     /* receive buffer for one datagram */
#define TP_REPLY_MAX 1500      /* every reply we build fits in one MTU */

struct tp_srv;
struct event_base;
struct event;
struct tp_listeners;
struct tp_tcp_peers;
struct tp_cluster;
struct tp_alloc;
struct tp_udp_listener;
struct tp_tcp_listener;
struct tp_dtls_listener;
struct tp_ws;
struct tp_relay_txq;
struct tp_shared;
struct tp_inbox;
struct tp_conn;
struct tp_peer_conn;
struct tp_user_count;
struct tp_chan;

/*
 * Where replies and relayed data for a client go. A UDP listener is one sink
 * for all its clients; a stream connection (TCP/TLS) is a sink of its own.
 * The local address is the server address the client talks to (the 5-tuple's
 * server side), so wildcard UDP listeners reply from the right address.
 */
struct tp_sink {
	/* returns 0 or a negative errno */
	int (*send)(struct tp_sink *s, const struct tp_addr *local, const struct tp_addr *to,
	            const uint8_t *buf, size_t len);
	uint8_t transport;         /* TP_LISTEN_* */
	bool stream;               /* ChannelData must be padded */
	uint8_t nat_role;          /* RFC 5780: 0 none, else 1 + index in tp_srv.nat */
	/* optional: the allocation carried by this sink was freed or moved away */
	void (*alloc_gone)(struct tp_sink *s);
	/* optional (stream connections, DTLS sessions): close it, and with it the
	 * allocation it carries (an operator's kill) */
	void (*kill)(struct tp_sink *s);
	/* optional (stream connections): after the answer to this ConnectionBind
	 * has gone into the connection, it becomes a raw byte pipe to pipe (RFC
	 * 6062 §5.4): the edge hands its connection over when the request returns */
	void (*to_pipe)(struct tp_sink *s, struct tp_peer_conn *pipe);
};

struct tp_reply;
struct tp_5tuple;

/*
 * What the protocol core (dispatch.c, turn.c, auth.c) needs from the edges,
 * and nothing else: srv.c fills it in with the real sockets, the request
 * fuzzer and unit tests with fakes. Every function runs on the worker's own
 * loop.
 */
struct tp_io {
	/* Client data to peer from a's relay endpoint of the peer's family
	 * (DONT-FRAGMENT: df). 0 or -errno; counted either way, never fatal. */
	int (*relay_send)(struct tp_alloc *a, const struct tp_addr *peer, const uint8_t *data,
	                  size_t len, bool df);
	/* RFC 6062 Connect from a's relayed address to peer (checked by the
	 * caller); the answer goes out later through rp: success with
	 * CONNECTION-ID, or 447. 0: pending; -EEXIST: a connection to peer
	 * exists (446); -EMFILE: max-peer-connections reached (508); else (447). */
	int (*tcp_connect)(struct tp_alloc *a, const struct tp_addr *peer, const struct tp_reply *rp);
	/* RFC 6062 ConnectionBind: peer connection cid of user becomes sink's
	 * pipe once this request's answer is out (sink->to_pipe). 0; -ENOENT:
	 * unknown, bound or still connecting (400); -EACCES: another user's (441). */
	int (*tcp_bind)(struct tp_srv *s, struct tp_sink *sink, uint32_t cid, const char *user);
	/* Optional: a ChannelBind of a to channel ch succeeded (new or refreshed),
	 * with its permission installed; the kernel offload may take it over. */
	void (*chan_bound)(struct tp_alloc *a, const struct tp_chan *ch);
	/* After a reload: close a's peer connections the new policy refuses. */
	void (*tcp_recheck)(struct tp_alloc *a);
	/* Mobility across workers: ask worker owner to hand over the allocation
	 * with ticket to s; req (the Refresh) is dispatched again once adopted. */
	void (*migrate)(struct tp_srv *s, unsigned owner, const uint8_t *ticket, size_t ticket_len,
	                const struct tp_5tuple *ft, struct tp_sink *sink, const uint8_t *req,
	                size_t req_len);
	/* The cluster store (issue 14; cluster.c). Without one they answer
	 * "nothing here" at once. */
	/* Allocation a was just made for a user with a user-quota: 0, the local
	 * quota decided (no store, or it is down); 1, its answer waits for the
	 * cluster-wide count: tp_turn_quota_done(s, a, rp, admitted) runs later on
	 * this loop (within redis-timeout-ms), unless a is freed first. */
	int (*quota_take)(struct tp_alloc *a, uint32_t quota, const struct tp_reply *rp);
	/* Users and REST secrets from the store's snapshot, after the static ones:
	 * the long-term key of alg (TP_PWALG_*) in key (key_len); 0, -ENOENT, or
	 * -ENOKEY (only an MD5 key is known). */
	int (*user_key)(struct tp_srv *s, const char *name, size_t len, uint16_t alg,
	                uint8_t *key, size_t *key_len);
	/* USERHASH lookup: 0 with the name (borrowed until the request returns). */
	int (*user_by_hash)(struct tp_srv *s, const uint8_t hash[32], const char **name,
	                    size_t *len);
	/* REST secrets from the store: their count, the array in *out (borrowed). */
	size_t (*secrets)(struct tp_srv *s, const char *const **out);
	/* The least loaded other node for 300 Try Alternate: 0 with its address,
	 * or -ENOENT (then alternate-server decides). */
	int (*alternate)(struct tp_srv *s, struct tp_addr *out);
	/* Clocks: monotonic milliseconds, and wall-clock seconds (nonces, REST
	 * credentials). */
	uint64_t (*mono_ms)(void);
	time_t (*wall)(void);
};

/* The 5-tuple of a client (transport, client address, server address). */
struct tp_5tuple {
	struct tp_addr client;
	struct tp_addr local;
	uint8_t transport;
};

struct tp_portpool;

/* A reservation made by EVEN-PORT with the R bit (RFC 8656 §7.2). */
struct tp_reservation {
	uint64_t token;
	uint16_t port;
	struct tp_portpool *pool;     /* borrowed: the relay address it is on */
	time_t expires;
};
#define TP_MAX_RESERVATIONS 256

struct tp_srv {
	struct event_base *base;
	const struct tp_conf *conf;           /* borrowed; swapped on reload */
	const struct tp_io *io;               /* borrowed: the edges (static) */

	/* own addresses for the peer policy (interfaces, relay, external, listeners) */
	struct tp_addr self_addrs[64];
	struct tp_peerpol_self self;

	struct tp_shared *sh;                 /* borrowed: what the workers share */
	unsigned worker;                      /* index among the workers */

	struct tp_allocs *allocs;             /* owned: the allocations (alloc.h) */
	struct event *tick;                   /* owned: one-second tick (expiry) */
	uint64_t trimmed_at;                  /* allocs_deleted at the last malloc_trim */
	uint64_t bytes_at_tick;               /* relayed bytes at the last tick */

	struct tp_relay_txq *txq;             /* owned: datagrams queued to peers */
	struct tp_crypto *crypto;             /* owned: HMAC contexts of this loop */
	struct tp_stats stats;

	struct tp_listeners *lsn;             /* owned (srv.c): listeners, TLS contexts */
	struct tp_inbox *inbox;               /* owned: messages from other workers */
	struct tp_limits *limits;             /* owned: connection counts (conn_limits.h) */
	struct tp_ratelog *refusals;          /* owned: TP_REFUSE_KINDS tables (ratelog.h) */
	struct tp_tcp_peers *tcp_peers;       /* owned (relay_tcp.c): RFC 6062 peer
	                                         connections, by CONNECTION-ID */
	struct tp_cluster *cluster;           /* owned (cluster.c); NULL without redis */
	/* RFC 5780: the four UDP sockets (A:P1, A:P2, B:P1, B:P2) when nat-discovery */
	struct tp_sink *nat[4];
	struct tp_addr nat_addr[4];

	uint8_t bigout[TP_MAX_DGRAM];         /* replies as large as their request
	                                         (RFC 5780 PADDING) */
};

/* Current time in seconds (monotonic) and milliseconds, from the loop's cache. */
time_t tp_now(const struct tp_srv *s);
uint64_t tp_now_ms(const struct tp_srv *s);

/* --- dispatch.c --- */
/* One datagram (or stream frame) from a client. */
void tp_dispatch(struct tp_srv *s, struct tp_sink *sink, const struct tp_5tuple *ft,
                 const uint8_t *b, size_t n);

/* --- ratelimit (dispatch.c) --- */
bool tp_rate_allow(struct tp_srv *s, const struct tp_addr *src);

/* Refusals are logged once per source (IPv6 per prefix) and minute, per
 * worker (ratelog.h): true when this one is to be logged, with *more the
 * refusals of that kind not logged since the previous line. */
enum tp_refusal {
	TP_REFUSE_CONN, TP_REFUSE_UNAUTH, TP_REFUSE_QUOTA,
	TP_REFUSE_PROXY,   /* PROXY protocol (listen_tcp.c) */
	TP_REFUSE_KINDS
};
bool tp_refusal_log(struct tp_srv *s, enum tp_refusal kind, const struct tp_addr *src,
                    uint64_t *more);
/* "" or "; N more not logged since the last such line", in buf (>= 64 bytes). */
const char *tp_refusal_more(char *buf, size_t n, uint64_t more);

#endif
