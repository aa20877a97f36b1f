/*
 * alloc.h - TURN allocations (RFC 8656 §7), their permissions (§9), channels
 * (§12) and UDP relay sockets, owned by one struct tp_srv.
 *
 * An allocation is found by its 5-tuple (keyed SipHash table) or by its
 * mobility ticket (RFC 8016). It owns its relay sockets, its timer, its
 * permissions and channels; tp_alloc_free() releases all of it. Permissions and
 * channels expire lazily: they are checked against the clock where used and
 * compacted when the tables change.
 */
#ifndef TP_ALLOC_H
#define TP_ALLOC_H

#include <event2/event_struct.h>

#include "server.h"

#define TP_PERM_LIFETIME 300     /* RFC 8656 §9 */
#define TP_CHAN_LIFETIME 600     /* RFC 8656 §12 */
#define TP_CHAN_QUARANTINE 300   /* a number is not rebound to another peer for 5 min */
#define TP_TICKET_LEN 24

struct tp_perm {
	struct tp_addr ip;       /* port 0 */
	time_t expires;
};

struct tp_chan {
	struct tp_addr peer;
	time_t expires;          /* binding valid until; unusable after */
	uint16_t num;
	bool self_relay;         /* peer is one of our relay addresses: each packet
	                            checks that an allocation still holds the port */
};

struct tp_relay {
	struct tp_alloc *a;      /* borrowed back-pointer */
	struct tp_portpool *pool;/* borrowed: the relay address's pool (port, live bit) */
	struct event ev;
	struct tp_addr addr;     /* bound local address */
	int fd;
	bool df;                 /* IP_PMTUDISC_DO currently set */
	uint32_t ovfl;           /* the kernel's drop count last seen (SO_RXQ_OVFL) */
};

struct tp_user_count;
struct tp_tcp_relay;

struct tp_alloc {
	struct tp_alloc *next;   /* 5-tuple table chain */
	struct tp_alloc *tnext;  /* ticket table chain */
	struct tp_srv *s;        /* borrowed */
	struct tp_sink *sink;    /* borrowed: the listener or connection */
	struct tp_5tuple ft;
	struct tp_relay relay[2];
	uint8_t nrelay;
	struct tp_tcp_relay *tcp;  /* owned: RFC 6062 relay (then relay[0].fd is -1) */
	bool has_ticket;
	uint8_t ticket[TP_TICKET_LEN];
	uint8_t alloc_tid[TP_STUN_TID_LEN]; /* the Allocate transaction, for retransmits */
	struct tp_addr mapped;   /* XOR-MAPPED-ADDRESS given at Allocate */
	uint64_t resv_token;     /* RESERVATION-TOKEN given at Allocate (0: none) */
	uint16_t addr_err4, addr_err6; /* ADDRESS-ERROR-CODEs given at Allocate */
	time_t created, expires;
	struct event timer;
	struct tp_user_count *uc;   /* owned share of the per-user count */
	char *user;              /* owned, NUL-terminated (authenticated username) */

	struct tp_perm *perms;   /* owned */
	uint32_t nperms, cap_perms;
	struct tp_chan *chans;   /* owned */
	uint32_t nchans, cap_chans;

	uint64_t tx_pkts, tx_bytes, rx_pkts, rx_bytes;
	uint32_t send_errors, icmp_rx;
};

/* What the Allocate handler asks for. */
struct tp_alloc_req {
	const struct tp_5tuple *ft;
	struct tp_sink *sink;
	const uint8_t *tid;
	const char *user;
	size_t user_len;
	const char *quota_user;  /* the part quotas count (REST: after the ':') */
	size_t quota_user_len;
	uint32_t lifetime;
	bool want4, want6;       /* families to allocate */
	bool even_port, reserve_next;
	bool has_token;
	uint64_t token;          /* RESERVATION-TOKEN to redeem */
	bool mobility;
	bool tcp;                /* REQUESTED-TRANSPORT TCP (RFC 6062) */
};

/* Result of a create: per family, 0 or the error for that family (440, 508). */
struct tp_alloc_res {
	uint16_t err4, err6;
	bool reserved;           /* a RESERVATION-TOKEN was made */
	uint64_t token;
};

/* Returns 0 and the new allocation, or a STUN error code (486, 508, 440, 508). */
int tp_alloc_create(struct tp_srv *s, const struct tp_alloc_req *r, struct tp_alloc **out,
                    struct tp_alloc_res *res);
void tp_alloc_free(struct tp_alloc *a);
void tp_alloc_free_all(struct tp_srv *s);
int tp_alloc_tables_init(struct tp_srv *s);
void tp_alloc_tables_free(struct tp_srv *s);

struct tp_alloc *tp_alloc_find(struct tp_srv *s, const struct tp_5tuple *ft);
struct tp_alloc *tp_alloc_find_ticket(struct tp_srv *s, const uint8_t *t, size_t len);
void tp_alloc_set_lifetime(struct tp_alloc *a, uint32_t lifetime);
/* New ticket (RFC 8016), re-keyed in the ticket table. */
void tp_alloc_new_ticket(struct tp_alloc *a);
/* Mobility across worker loops: the owner detaches, the new worker adopts
 * (re-registering sockets and timer on its loop, issuing a new ticket). */
void tp_alloc_detach(struct tp_alloc *a);
void tp_alloc_adopt(struct tp_srv *s, struct tp_alloc *a, const struct tp_5tuple *ft,
                    struct tp_sink *sink);
/* Move to a new 5-tuple (mobility). */
void tp_alloc_move(struct tp_alloc *a, const struct tp_5tuple *ft, struct tp_sink *sink);
/* Keyed 64-bit hash of a 5-tuple. */
uint64_t tp_5tuple_key(const struct tp_srv *s, const struct tp_5tuple *ft);
/* How many allocations the (quota) user holds. */
uint32_t tp_alloc_user_count(struct tp_srv *s, const char *user, size_t len);

/* Permissions: install or refresh (0, or 508 when the table is full). */
int tp_perm_install(struct tp_alloc *a, const struct tp_addr *peer);
bool tp_perm_ok(struct tp_alloc *a, const struct tp_addr *peer);

/* Channels: RFC 8656 §12 rules. Returns 0 or 400 (number or peer bound
 * otherwise) or 508 (table full). */
int tp_chan_bind(struct tp_alloc *a, uint16_t num, const struct tp_addr *peer, bool self_relay);
const struct tp_chan *tp_chan_by_num(struct tp_alloc *a, uint16_t num);
const struct tp_chan *tp_chan_by_peer(struct tp_alloc *a, const struct tp_addr *peer);

/* The relay socket of the peer's family, or NULL (443). */
struct tp_relay *tp_alloc_relay_for(struct tp_alloc *a, const struct tp_addr *peer);

/* Send application data to a peer from the relay. Errors are counted on the
 * allocation, never fatal to it. Returns 0 or a negative errno. */
int tp_relay_send(struct tp_alloc *a, const struct tp_addr *peer, const uint8_t *data,
                  size_t len, bool df);

/* Drop permissions and channels the (new) peer policy refuses. */
void tp_alloc_recheck_policy(struct tp_srv *s);

void tp_alloc_logctx(const struct tp_alloc *a, struct tp_logctx *ctx);

#endif
