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

struct tp_shared {
	pthread_mutex_t mu;
	struct tp_portpool *pool4, *pool6;          /* owned; NULL: no relay of the family */
	struct tp_addr relay4, relay6;
	struct tp_reservation resv[TP_MAX_RESERVATIONS];
	struct tp_user_count **utab;                /* owned, utab_size buckets */
	size_t utab_size;
	uint64_t nallocs;                           /* every worker's, for total-quota */
	struct tp_ticket_ref **tickets;             /* owned, TICKET_BUCKETS */
	uint8_t hash_key[16];                       /* crypto_shorthash */
	uint8_t nonce_key[32];                      /* nonces (DTLS cookies: dtls_cookie.c) */
	struct tp_slab *alloc_slab;                 /* owned: struct tp_alloc (own lock) */
	struct tp_srv *workers[TP_MAX_WORKERS];     /* borrowed */
	size_t nworkers;
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

/* Mobility tickets: owner worker index and a keyed hash of the user. */
int tp_shared_ticket_add(struct tp_shared *sh, const uint8_t *t, size_t len, unsigned worker,
                         uint64_t user_hash);
void tp_shared_ticket_del(struct tp_shared *sh, const uint8_t *t, size_t len);
/* 0 and the owner, or -ENOENT. */
int tp_shared_ticket_find(struct tp_shared *sh, const uint8_t *t, size_t len, unsigned *worker,
                          uint64_t *user_hash);

/* Keyed hash of a byte string (no lock needed). */
uint64_t tp_shared_hash(const struct tp_shared *sh, const void *b, size_t n);

#endif
