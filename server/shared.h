/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * shared.h - what the worker loops share, behind one mutex.
 *
 * Only allocation create/free/move touch it (never the packet path): relay
 * port pools and reservations, per-user and total allocation counts for the
 * quotas, and the map from mobility tickets to the worker that owns the
 * allocation. The keys (hashing, nonces) are written once at
 * start and read by everyone without the lock.
 */
#ifndef TP_SHARED_H
#define TP_SHARED_H

#include <pthread.h>
#include <stdatomic.h>

#include "server.h"

#define TP_MAX_WORKERS 64

struct tp_ticket_ref;
struct tp_offload;

struct tp_shared {
	pthread_mutex_t mu;
	struct tp_portpool *pools[TP_CONF_MAX_ADDRS]; /* owned: one per relay address,
	                                               written before the workers start */
	size_t npools;
	struct tp_reservation resv[TP_MAX_RESERVATIONS];
	struct tp_user_count **utab;                /* owned, utab_size buckets */
	size_t utab_size;
	uint64_t nallocs;                           /* every worker's, for total-quota */
	struct tp_ticket_ref **tickets;             /* owned, TICKET_BUCKETS */
	uint8_t hash_key[16];                       /* crypto_shorthash */
	uint8_t nonce_key[32];                      /* nonces (DTLS cookies: dtls_cookie.c) */
	struct tp_slab *alloc_slab;                 /* owned: struct tp_alloc (own lock;
	                                               made by the first tp_allocs_create) */
	struct tp_slab *relay_slab;                 /* owned: UDP relay sockets (made by
	                                               tp_srv_shared_setup for relay_udp.c) */
	/* per-source and per-name budgets, lock-free across workers (buckets.h) */
	struct tp_buckets *unauth;                  /* owned: unauthenticated requests */
	struct tp_buckets *fail_src, *fail_user;    /* owned: failed password checks */
	struct tp_srv *workers[TP_MAX_WORKERS];     /* borrowed */
	struct tp_offload *offload;                 /* owned by offload_srv.c: the kernel
	                                               datapath (NULL: off); set before
	                                               the workers run */
	size_t nworkers;

	/* operations, read lock-free by every worker */
	atomic_bool draining;                       /* new Allocates are redirected/refused */
	_Atomic int64_t drain_deadline;             /* monotonic s; the process exits then */
	_Atomic uint64_t relay_bps;                 /* bytes/s relayed by all workers (last s) */
	_Atomic uint64_t worker_bps[TP_MAX_WORKERS];/* each worker's share of it */
	atomic_uint alternate_next;                 /* round robin over alternate-server */
	atomic_bool redis_up;                       /* the cluster store is reachable */
	/* each worker's counters as of its last tick (for /metrics; own lock) */
	struct tp_snap_slot {
		pthread_mutex_t mu;
		struct tp_stats st;
	} snap[TP_MAX_WORKERS];
	atomic_uint dtls_sessions;                  /* every worker's, for max-dtls-sessions
	                                               (atomic: not under mu) */
	atomic_uint dtls_per_ip[TP_RATE_SLOTS];     /* the same by keyed hash of the source
	                                               IP, for max-connections-per-ip */
};

struct tp_shared *tp_shared_create(void);
void tp_shared_free(struct tp_shared *sh);

/* Everything below: call with sh->mu held. */

/* Per-user counts: take a share (NULL on out of memory) / give it back. */
struct tp_user_count *tp_shared_user_get(struct tp_shared *sh, const char *u, size_t len);
void tp_shared_user_put(struct tp_shared *sh, struct tp_user_count *uc);
uint32_t tp_shared_user_count(struct tp_shared *sh, const char *u, size_t len);
/* Per-user traffic for metrics-users: the workers fold in what their
 * allocations relayed (direction: enum tp_stat_dir). */
void tp_shared_user_add(struct tp_user_count *uc, unsigned dir, uint64_t pkts, uint64_t bytes);
struct tp_user_stat {
	char name[TP_MAX_USERNAME + 1];
	uint64_t allocations, users;      /* users: in "other" only */
	uint64_t pkts[2], bytes[2];
};
/* The n users with allocations that relayed the most bytes (out, sorted),
 * and the rest's allocations and number in other. How many went into out,
 * or -ENOMEM. Takes the shared lock while it copies. */
long tp_shared_users_top(struct tp_shared *sh, size_t n, struct tp_user_stat *out,
                         struct tp_user_stat *other);
/* The name uc counts (not NUL-terminated: len bytes). */
const char *tp_shared_user_name(const struct tp_user_count *uc, size_t *len);
/* user-max-bps: whether n bytes of uc's traffic in direction dir (enum
 * tp_stat_dir) may pass at rate bytes/s now; one budget across workers
 * (no shared lock: the count's own spinlock). spare_only: only while the
 * budget is more than half full (an allocation past its fair share). */
bool tp_shared_user_take(struct tp_user_count *uc, unsigned dir, uint32_t rate, size_t n,
                         uint64_t now_ms, bool spare_only);
/* How many allocations uc counts now (any thread). */
uint32_t tp_shared_user_allocs(const struct tp_user_count *uc);

/* Mobility tickets: owner worker index and a keyed hash of the user. */
int tp_shared_ticket_add(struct tp_shared *sh, const uint8_t *t, size_t len, unsigned worker,
                         uint64_t user_hash);
void tp_shared_ticket_del(struct tp_shared *sh, const uint8_t *t, size_t len);
/* 0 and the owner, or -ENOENT. */
int tp_shared_ticket_find(struct tp_shared *sh, const uint8_t *t, size_t len, unsigned *worker,
                          uint64_t *user_hash);

/* Relay pools of a family, least used first (ties in random order): the order
 * in which an allocation tries them, so allocations spread over every relay
 * address. Returns how many (at most max). */
size_t tp_shared_pools_by_load(struct tp_shared *sh, int family, struct tp_portpool **out,
                               size_t max);

/* No lock needed below (the pool list is fixed once the workers run). */

bool tp_shared_has_family(const struct tp_shared *sh, int family);

/* Is peer one of our relay transport addresses (the bound address or its
 * external-ip mapping), and is a relay socket of that transport bound on its
 * port? */
enum tp_relay_port tp_shared_relay_port(const struct tp_shared *sh, const struct tp_conf *c,
                                        const struct tp_addr *peer, bool tcp);

/* Publish a worker's snapshot (its tick, once a second) / sum every
 * worker's last one (any thread; each slot has its own lock). */
void tp_shared_publish(struct tp_shared *sh, unsigned worker, const struct tp_stats *st);
void tp_shared_sum(struct tp_shared *sh, struct tp_stats *out);

/* The key of a source address for the per-source budgets: IPv4 per address,
 * IPv6 per c->source_ipv6_prefix; domain keeps the budgets' keys apart. */
uint64_t tp_shared_source_key(const struct tp_shared *sh, const struct tp_conf *c,
                              const struct tp_addr *a, uint8_t domain);

/* Keyed hash of a byte string (no lock needed). */
uint64_t tp_shared_hash(const struct tp_shared *sh, const void *b, size_t n);

#endif
