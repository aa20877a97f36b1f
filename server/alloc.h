/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * alloc.h - TURN allocations (RFC 8656 §7): the state layer.
 *
 * One struct tp_allocs per worker holds its allocations: found by 5-tuple
 * (keyed SipHash table) or by mobility ticket (RFC 8016), expired by a timer
 * wheel of one-second slots that the owner advances (tp_allocs_tick), created
 * against the quotas, relay port pools and reservations the workers share
 * (shared.h). Permissions and channels are tables of their own (perm.h,
 * chan.h) inside each allocation.
 *
 * No I/O here: relay endpoints are opened and closed, and moved between
 * event loops, through struct tp_alloc_ops, which the edges implement
 * (relay_udp.c, relay_tcp.c, wired in srv.c) and unit tests fake; the clock
 * is the caller's. Ports are taken from the pools under the shared lock, the
 * endpoint is bound outside it, and the port is given back if binding fails.
 *
 * Errors are 0 or a negative errno; turn.c maps them to STUN codes.
 */
#ifndef TP_ALLOC_H
#define TP_ALLOC_H

#include "chan.h"
#include "perm.h"
#include "server.h"
#include "shaper.h"

#define TP_TICKET_LEN 24

struct tp_portpool;
struct tp_user_count;
struct tp_tcp_relay;
struct tp_relay_io;
struct tp_allocs;
struct tp_qwait;
struct tp_ofl_alloc;

/* One relay endpoint: its address, the pool its port came from, and the
 * edge's object for it (a UDP socket, or nothing for a TCP relay, whose
 * listener is a->tcp). */
struct tp_relay {
	struct tp_addr addr;        /* bound local address */
	struct tp_portpool *pool;   /* borrowed */
	struct tp_relay_io *io;     /* owned by the edge (relay_udp.c) */
};

struct tp_alloc {
	struct tp_alloc *next;      /* 5-tuple table chain */
	struct tp_alloc *tnext;     /* ticket table chain */
	struct tp_alloc *wnext, **wprev; /* timer wheel slot list */
	struct tp_allocs *t;        /* borrowed: the table holding it */
	struct tp_srv *s;           /* borrowed: its worker (for the edges) */
	struct tp_sink *sink;       /* borrowed: the listener or connection */
	struct tp_5tuple ft;
	struct tp_relay relay[2];
	uint8_t nrelay;
	struct tp_tcp_relay *tcp;   /* owned by relay_tcp.c: an RFC 6062 relay */
	bool is_tcp;                /* REQUESTED-TRANSPORT TCP */
	bool has_ticket;
	uint8_t ticket[TP_TICKET_LEN];
	uint8_t alloc_tid[TP_STUN_TID_LEN]; /* the Allocate transaction, for retransmits */
	struct tp_addr mapped;      /* XOR-MAPPED-ADDRESS given at Allocate */
	uint64_t resv_token;        /* RESERVATION-TOKEN given at Allocate (0: none) */
	uint16_t addr_err4, addr_err6; /* ADDRESS-ERROR-CODEs given at Allocate */
	time_t created, expires;
	struct tp_user_count *uc;   /* owned share of the per-user count */
	char *user;                 /* owned, NUL-terminated (authenticated username) */
	struct tp_perms perms;
	struct tp_chans chans;
	/* relayed application data: from the client / peers (accepted for
	 * relaying), and sent on to peers (tx) / to the client (rx) */
	uint64_t from_client_pkts, from_client_bytes, from_peer_pkts, from_peer_bytes;
	uint64_t tx_pkts, tx_bytes, rx_pkts, rx_bytes;
	uint32_t send_errors, icmp_rx;
	struct tp_tbucket bw[2];    /* max-bps, by enum tp_stat_dir */
	struct tp_tbucket ushare[2]; /* its fair share of user-max-bps */
	uint64_t folded[2][2];      /* [dir][pkts, bytes] already in the user's counters */
	struct tp_qwait *qwait;     /* owned by the cluster edge: the Allocate's answer
	                               waits for the cluster-wide quota (issue 14) */
	struct tp_ofl_alloc *ofl;   /* owned by offload_srv.c: its channels the kernel
	                               relays (NULL: none) */
	uint64_t id;                /* random: how operators name a session */
	uint8_t end;                /* enum tp_alloc_end, set before tp_alloc_free */
};

/* Why an allocation ended (for the log line and the operator). */
enum tp_alloc_end {
	TP_END_CLOSED,              /* its connection or DTLS session closed */
	TP_END_EXPIRED,             /* its lifetime ran out */
	TP_END_DELETED,             /* Refresh with LIFETIME 0 */
	TP_END_KILLED,              /* an operator (turnpikectl kill) */
	TP_END_SHUTDOWN,            /* the server stopped */
	TP_END_REFUSED,             /* the cluster's user-quota refused it (never answered) */
};
const char *tp_alloc_end_str(uint8_t end);

/* What the state layer asks of the edges. env is tp_allocs_create's. */
struct tp_alloc_ops {
	/* Open relay endpoint i of a on addr (a->is_tcp: an RFC 6062 listener).
	 * 0, or -errno (-EADDRINUSE: the port is taken elsewhere, try another). */
	int (*relay_open)(void *env, struct tp_alloc *a, unsigned i, const struct tp_addr *addr);
	/* Close endpoint i (and, for a TCP relay, its peer connections). */
	void (*relay_close)(void *env, struct tp_alloc *a, unsigned i);
	/* Mobility across workers: stop watching endpoint i on the old loop
	 * (attach false, env the old owner's) / start on the new one (true). */
	void (*relay_move)(void *env, struct tp_alloc *a, unsigned i, bool attach);
	/* The allocation is about to be freed (a->end says why): the last look at
	 * its counters. */
	void (*released)(void *env, struct tp_alloc *a);
	/* Optional: a's 5-tuple is about to change or it leaves this worker
	 * (mobility: tp_alloc_move, tp_alloc_detach); a->ft is still the old one. */
	void (*moved)(void *env, struct tp_alloc *a);
};

/* What the Allocate handler asks for. */
struct tp_alloc_req {
	const struct tp_5tuple *ft;
	struct tp_sink *sink;
	const uint8_t *tid;
	const char *user;
	size_t user_len;
	const char *quota_user;     /* the part quotas count (REST: after the ':') */
	size_t quota_user_len;
	uint32_t lifetime;
	bool want4, want6;          /* families to allocate */
	bool even_port, reserve_next;
	bool has_token;
	uint64_t token;             /* RESERVATION-TOKEN to redeem */
	bool mobility;
	bool tcp;                   /* REQUESTED-TRANSPORT TCP (RFC 6062) */
};

/* Result of a create: per family, 0 or the error for that family
 * (-EAFNOSUPPORT: no relay address of it; -ENOSPC: no port could be had). */
struct tp_alloc_res {
	int err4, err6;
	bool reserved;              /* a RESERVATION-TOKEN was made */
	uint64_t token;
};

/* A table for worker s (borrowed; may be NULL in tests) over the shared
 * state sh. NULL on out of memory. */
struct tp_allocs *tp_allocs_create(struct tp_shared *sh, struct tp_srv *s, unsigned worker,
                                   const struct tp_alloc_ops *ops, void *env, time_t now);
/* Frees every allocation (closing its endpoints), then the table. */
void tp_allocs_free(struct tp_allocs *t);
size_t tp_allocs_count(const struct tp_allocs *t);
/* Allocations made and freed by this table since it was created. */
uint64_t tp_allocs_created(const struct tp_allocs *t);
uint64_t tp_allocs_freed(const struct tp_allocs *t);
/* Advance the clock: allocations whose lifetime is over are freed (a->end
 * TP_END_EXPIRED). Call at least once a second. */
void tp_allocs_tick(struct tp_allocs *t, time_t now);
/*
 * Consistency of the table (for tests and the request fuzzer): every
 * allocation once in the 5-tuple table, in its bucket, found by its 5-tuple;
 * the count; the ticket table holding exactly the allocations with a ticket,
 * each also in the shared map under this worker; the timer wheel holding
 * exactly the table's allocations, each in its expiry's slot with sound
 * links; each relay endpoint's port taken and live in its pool; and each
 * allocation's permissions and channels (tp_perms_check, tp_chans_check).
 * NULL, or what is wrong. Takes the shared lock; O(allocations + table).
 */
const char *tp_allocs_check(struct tp_allocs *t);
/* Visit every allocation; fn may not free it. */
void tp_allocs_foreach(struct tp_allocs *t, void (*fn)(void *arg, struct tp_alloc *a), void *arg);

/*
 * Create an allocation under configuration c at time now. 0 and *out, or:
 * -EDQUOT (user-quota), -EUSERS (total-quota), -ENOENT (RESERVATION-TOKEN
 * unknown or expired), -EAFNOSUPPORT (no relay address of the family asked
 * for), -ENOSPC (no port could be taken and bound), -ENOMEM. res says per
 * family what happened (a dual-stack request may get one family).
 */
int tp_alloc_create(struct tp_allocs *t, const struct tp_conf *c, const struct tp_alloc_req *r,
                    time_t now, struct tp_alloc **out, struct tp_alloc_res *res);
void tp_alloc_free(struct tp_alloc *a);

struct tp_alloc *tp_alloc_find(struct tp_allocs *t, const struct tp_5tuple *ft);
struct tp_alloc *tp_alloc_find_ticket(struct tp_allocs *t, const uint8_t *ticket, size_t len);
void tp_alloc_set_lifetime(struct tp_alloc *a, uint32_t lifetime, time_t now);
/* A new mobility ticket (RFC 8016), re-keyed here and in the shared map. */
void tp_alloc_new_ticket(struct tp_alloc *a);
/* Move to a new 5-tuple of the same worker (mobility). */
void tp_alloc_move(struct tp_alloc *a, const struct tp_5tuple *ft, struct tp_sink *sink);
/* Mobility across workers: the owner detaches, the new worker adopts (its
 * endpoints move to the new loop, a new ticket is issued). */
void tp_alloc_detach(struct tp_alloc *a);
void tp_alloc_adopt(struct tp_allocs *t, struct tp_alloc *a, const struct tp_5tuple *ft,
                    struct tp_sink *sink, time_t now);

/* Remember that a Refresh(0) deleted ft's allocation, and ask about it: a
 * retransmission of that transaction (its answer lost on UDP) gets success,
 * not 437 (RFC 8656 §7.3), for 30 s. */
void tp_allocs_remember_deleted(struct tp_allocs *t, const struct tp_5tuple *ft,
                                const uint8_t *tid, time_t now);
bool tp_allocs_recently_deleted(struct tp_allocs *t, const struct tp_5tuple *ft,
                                const uint8_t *tid, time_t now);

/* The relay endpoint of the peer's family, or NULL (443). */
struct tp_relay *tp_alloc_relay_for(struct tp_alloc *a, const struct tp_addr *peer);
bool tp_alloc_has_family(const struct tp_alloc *a, int family);

void tp_alloc_logctx(const struct tp_alloc *a, struct tp_logctx *ctx);
/*
 * Bandwidth caps (max-bps for the allocation, user-max-bps for all of its
 * user's, each per direction, enum tp_stat_dir): whether n bytes may be
 * relayed now. false: drop them (the caller counts it).
 */
bool tp_alloc_bw_take(struct tp_alloc *a, const struct tp_conf *c, unsigned dir, size_t n,
                      uint64_t now_ms);

#endif
