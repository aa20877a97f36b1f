/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * redis.h - the cluster store (issue 14): a node's link to Redis for the small
 * state the nodes of a cluster share.
 *
 *   - a cluster-wide per-user allocation quota (expiring entries, so a crashed
 *     node's allocations age out);
 *   - a session registry (each node's allocations with a TTL) and kill orders
 *     to whichever node owns a session (pub/sub);
 *   - users and REST secrets read from coturn's redis userdb layout into an
 *     in-memory snapshot, looked up synchronously;
 *   - node loads, to pick the least loaded alternate server.
 *
 * One instance per event loop (each worker's event_base): an instance, its
 * callbacks and its snapshot belong to that loop and are used from it only. It
 * holds two connections (commands, and a subscriber for kill orders and userdb
 * change notifications), made asynchronously with hiredis' libevent adapter.
 * Host names are resolved with evdns, never with a blocking getaddrinfo.
 *
 * Deadlines. Every operation that reports a result has one, enforced here:
 * its callback is called exactly once, never from inside the call that
 * started it (a failure known at once is reported on the next loop turn; out
 * of memory for the operation itself aside, which calls back at once), and at
 * the latest when the deadline passes:
 *   - request-path operations (quota_take): opts.timeout_ms (redis-timeout-ms,
 *     default 5 ms);
 *   - admin and background operations (sessions_list, kill_publish, sync,
 *     quota_count, node-load reads): opts.admin_timeout_ms (default 2 s); a
 *     userdb read, many round trips: five times that.
 * rc < 0 is one of: -ENOTCONN (the link is down or went down meanwhile),
 * -ETIMEDOUT (no answer within the deadline), -ENOBUFS (too many operations in
 * flight: a stalled link), -EPROTO (Redis answered with an error or something
 * unexpected), -ENOMEM, -ECANCELED (tp_redis_free ran first). Fire-and-forget
 * operations return 0 (sent) or one of those at once, and never call back.
 *
 * Failure behaviour (also docs/CLUSTER.md, "Redis down"):
 *   - Redis unreachable at start or later: the node keeps serving. The link is
 *     "down" (tp_redis_is_up false): operations fail at once with -ENOTCONN,
 *     so the caller applies its local quota; user lookups answer from the last
 *     snapshot (empty if Redis was never reached); kill orders from other nodes
 *     and registry writes are lost until the link is back.
 *   - Reconnection: with exponential backoff (opts.backoff_min_ms 100 ms
 *     doubling to opts.backoff_max_ms 10 s, with jitter), reset to the minimum
 *     once up. One log line per state change: "up" (info), "down: REASON"
 *     (warn); failed attempts while down are logged at debug only.
 *   - A Redis that accepts connections but stops answering: commands time out
 *     (-ETIMEDOUT) within their deadline; a command or heartbeat PING
 *     unanswered for opts.stall_ms (2 s) takes the link down (then -ENOTCONN
 *     at once) and reconnection starts. The heartbeat runs every
 *     opts.heartbeat_ms (1 s), so a dead peer is noticed without traffic.
 *   - Back up: the userdb snapshot is re-read in full; quota entries and
 *     sessions come back with the callers' next refresh / put (a Redis that
 *     lost its data is refilled by the nodes within one refresh interval).
 *   - A timed-out quota_take may still have been applied by Redis: the caller
 *     must release (or refresh) the alloc_key whatever it decided (release of
 *     an absent entry is harmless; an entry nobody refreshes expires).
 *
 * Key layout (prefix "turnpike/"; coturn's userdb keys are its own):
 *   turnpike/quota/<user>           zset: "<node>/<alloc_key>" scored by expiry
 *                                   (ms, Redis' clock); expires with its last
 *                                   member
 *   turnpike/session/<node>/<id>    hash: the session's fields; EXPIRE ttl
 *   turnpike/loads                  hash: <node> -> "<expiry_ms> <allocs> <bps>
 *                                   <addr>"; stale fields dropped by readers
 *   turnpike/kill                   channel: "<node>\n<user>\n<id>" ("" = any)
 *   turnpike/userdb                 channel: any message = re-read the userdb
 *   turn/realm/<realm>/user/<name>/key       coturn: hex MD5 long-term key
 *   turn/realm/<realm>/user/<name>/password  older coturn: the password
 *   turn/realm/<realm>/secret                coturn: set of REST secrets
 *   turn/realm/<realm>/secret/<n>            older coturn: one secret a key
 *   turn/realm/<realm>/{user-quota,total-quota,max-bps}  coturn realm options
 */
#ifndef TP_REDIS_H
#define TP_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "redis_url.h"

struct event_base;
struct tp_conf;
struct tp_redis;

struct tp_redis_opts {
	struct tp_redis_url url;
	char node[TP_REDIS_NODE_MAX + 1]; /* this node's id: [A-Za-z0-9._-], 1..64 */
	char realm[TP_MAX_REALM + 1];     /* whose coturn userdb to mirror; "" = none */
	char name[32];                    /* in log lines, e.g. "worker 0"; may be "" */
	uint32_t timeout_ms;              /* request path (quota_take), default 5 */
	uint32_t admin_timeout_ms;        /* lists, publish, background reads: 2000 */
	uint32_t backoff_min_ms, backoff_max_ms; /* reconnection: 100 .. 10000 */
	uint32_t heartbeat_ms;            /* PING while up: 1000 */
	uint32_t stall_ms;                /* unanswered this long = link down: 2000 */
	uint32_t userdb_refresh_ms;       /* full re-read besides notifications:
	                                     10000; 0 = only on notifications */
	uint32_t loads_refresh_ms;        /* read other nodes' loads: 0 = never */
	uint32_t list_max;                /* sessions a list returns at most: 10000 */
	uint32_t max_inflight;            /* commands awaiting replies: 10000 */
};

/* The defaults above; url, node and realm empty. */
void tp_redis_opts_default(struct tp_redis_opts *o);

/*
 * Options from a loaded configuration: redis (parsed), redis-password-file
 * (read now: its first line, which replaces a password in the URL),
 * redis-timeout-ms, node-id (the host name when ""), realm. 0; 1 when redis
 * is "" (no cluster store: do not create an instance); -1 with a message in
 * err (file unreadable, host name unusable as a node id, TLS options set).
 */
int tp_redis_opts_from_conf(const struct tp_conf *c, struct tp_redis_opts *o, char *err,
                            size_t errlen);

/*
 * Create an instance on base and start connecting (asynchronously: this
 * returns before anything is sent). NULL with a message in err only for bad
 * options or out of memory; an unreachable Redis is not an error here (the
 * instance is down and retries). Log lines carry opts->name.
 */
struct tp_redis *tp_redis_create(struct event_base *base, const struct tp_redis_opts *o,
                                 char *err, size_t errlen);
/*
 * Close both connections and free everything. Callbacks still pending are
 * called with -ECANCELED before it returns. Must not be called from one of
 * the instance's own callbacks (it aborts if it is).
 */
void tp_redis_free(struct tp_redis *r);

/* Connected, authenticated, database selected, subscribed: what /metrics
 * exports as turnpike_redis_up. */
bool tp_redis_is_up(const struct tp_redis *r);

/* Counters for metrics and tests (monotonic since create). */
struct tp_redis_stats {
	uint64_t ups, downs;          /* state changes */
	uint64_t sent, timeouts, errors, notconn;
	uint64_t kills_received;
	uint64_t userdb_reads;        /* complete reads of the userdb (changed or not) */
};
void tp_redis_get_stats(const struct tp_redis *r, struct tp_redis_stats *st);

typedef void (*tp_redis_rc_fn)(void *arg, int rc);

/*
 * A PING behind everything sent so far: cb(arg, 0) once every earlier command
 * has been answered (admin deadline). For tests and orderly shutdowns.
 */
void tp_redis_sync(struct tp_redis *r, tp_redis_rc_fn cb, void *arg);

/* ---- cluster-wide user quota ------------------------------------------ */

/*
 * Atomically (a Lua script, EVALSHA with EVAL on NOSCRIPT): drop the user's
 * expired entries, count the rest, and add "<node>/<alloc_key>" expiring in
 * ttl_s if fewer than quota (0 = no limit) are left. An entry already present
 * (a retry) is refreshed and admitted. cb(arg, rc): 1 admitted, 0 over quota,
 * < 0 error (request-path deadline). user: user_len bytes, any but NUL;
 * alloc_key: a NUL-terminated id unique on this node (e.g. the relayed
 * address "198.51.100.2:49170").
 */
void tp_redis_quota_take(struct tp_redis *r, const char *user, size_t user_len,
                         const char *alloc_key, uint32_t quota, uint32_t ttl_s,
                         tp_redis_rc_fn cb, void *arg);
/* Set the entry's expiry to now + ttl_s, adding it if absent (an allocation
 * admitted while Redis was down enters the count this way). Fire and forget. */
int tp_redis_quota_refresh(struct tp_redis *r, const char *user, size_t user_len,
                           const char *alloc_key, uint32_t ttl_s);
/* Remove the entry. Fire and forget. */
int tp_redis_quota_release(struct tp_redis *r, const char *user, size_t user_len,
                           const char *alloc_key);
/* The user's live entries, all nodes (admin deadline): cb(arg, count or < 0). */
void tp_redis_quota_count(struct tp_redis *r, const char *user, size_t user_len,
                          tp_redis_rc_fn cb, void *arg);

/* ---- session registry ------------------------------------------------- */

/* A session as put (strings NUL-terminated, NULL = "") and as listed (every
 * string set; borrowed for the duration of the callback). */
struct tp_redis_session {
	uint64_t id;                  /* unique on its node, non-zero */
	const char *node;             /* listed: the owner; put: ignored (ours) */
	const char *user;
	const char *transport;        /* "udp", "tcp", "tls", "dtls" */
	const char *client;           /* "203.0.113.7:5100" (5-tuple: transport, */
	const char *server;           /*  client, server = the listener address) */
	const char *relay4, *relay6;  /* relayed addresses, "" if none */
	int64_t started;              /* unix time, s */
	uint64_t bytes_in, bytes_out; /* client->peers, peers->client */
	uint64_t pkts_in, pkts_out;
};

/* Write the session under turnpike/session/<node>/<id> expiring in ttl_s
 * (HSET + EXPIRE, atomic). Call again to update counters and the TTL. Fire
 * and forget. -EINVAL for id 0. */
int tp_redis_session_put(struct tp_redis *r, const struct tp_redis_session *s, uint32_t ttl_s);
/* Delete this node's session id. Fire and forget. */
int tp_redis_session_del(struct tp_redis *r, uint64_t id);

typedef void (*tp_redis_list_fn)(void *arg, const struct tp_redis_session *list, size_t n,
                                 int rc);
/*
 * Every node's sessions (SCAN in batches, so Redis is never blocked), those of
 * user only unless user is NULL: cb(arg, list, n, rc) with rc 0 (complete), 1
 * (cut at opts.list_max) or < 0 (list NULL, n 0). Admin deadline for the
 * whole list. Order: unspecified.
 */
void tp_redis_sessions_list(struct tp_redis *r, const char *user, tp_redis_list_fn cb,
                            void *arg);

/* ---- kill orders -------------------------------------------------------- */

/* A kill order for this node: user (NULL = any) and session id (0 = any). */
typedef void (*tp_redis_kill_fn)(void *arg, const char *user, uint64_t session);
/* Where kill orders go (NULL: dropped). Every instance subscribed to the
 * channel gets each order: on a node with several workers, each worker's
 * instance kills its own sessions. */
void tp_redis_on_kill(struct tp_redis *r, tp_redis_kill_fn fn, void *arg);
/*
 * Publish a kill order to node (NULL = every node, this one included), for
 * user (NULL = any) and session (0 = any); not all three "any". cb (may be
 * NULL): the number of subscribed instances that received it, or < 0 (admin
 * deadline). -EINVAL through cb for a bad argument.
 */
void tp_redis_kill_publish(struct tp_redis *r, const char *node, const char *user,
                           uint64_t session, tp_redis_rc_fn cb, void *arg);

/* ---- users and secrets (coturn's userdb), synchronous ------------------- */

/*
 * The snapshot of the realm's users and secrets: read in full once the link
 * is up, again on a keyspace notification for turn/realm/<realm>/... (if
 * Redis has notify-keyspace-events with K and the $, g, s classes), on any
 * message on turnpike/userdb, and every opts.userdb_refresh_ms. A read that
 * fails keeps the previous snapshot. Never waits on Redis.
 */
/* MD5 long-term key of user name (len bytes): 0, or -ENOENT. */
int tp_redis_user_key(const struct tp_redis *r, const char *name, size_t len, uint8_t key[16]);
/* SHA-256 long-term key: 0; -ENOKEY when only the MD5 key is known (coturn
 * stores only that); -ENOENT. */
int tp_redis_user_key_sha256(const struct tp_redis *r, const char *name, size_t len,
                             uint8_t key[32]);
/* USERHASH (RFC 8489 §14.4) lookup: 0 with the user's name (borrowed until
 * control returns to the loop), or -ENOENT. */
int tp_redis_user_by_hash(const struct tp_redis *r, const uint8_t hash[32], const char **name,
                          size_t *len);
/* The REST shared secrets: their number, and *out (borrowed until control
 * returns to the loop; at most 64). */
size_t tp_redis_secrets(const struct tp_redis *r, const char *const **out);
/* coturn's realm options. 0 with *v, or -ENOENT (not set). */
enum tp_redis_realm_opt { TP_REDIS_USER_QUOTA, TP_REDIS_TOTAL_QUOTA, TP_REDIS_MAX_BPS };
int tp_redis_realm_opt(const struct tp_redis *r, enum tp_redis_realm_opt which, uint64_t *v);
/* Users in the snapshot, and how many different snapshots were swapped in so
 * far (0: Redis never read; a re-read that found no change leaves it). */
size_t tp_redis_users_count(const struct tp_redis *r);
uint64_t tp_redis_userdb_version(const struct tp_redis *r);

/* ---- node loads ------------------------------------------------------- */

/*
 * Publish this node's load: the address clients should be sent to
 * ("IP:PORT", for ALTERNATE-SERVER), its allocations and relayed bytes/s,
 * valid for ttl_s. One instance per node should do it (with the node's
 * totals). Fire and forget.
 */
int tp_redis_load_publish(struct tp_redis *r, const char *addr, uint64_t allocs, uint64_t bps,
                          uint32_t ttl_s);
/*
 * The least loaded other node (fewest allocations, then fewest bytes/s) among
 * those whose load is fresh, from the cache read every opts.loads_refresh_ms:
 * 0 with its address in addr, -ENOENT (none known), -ENOSPC (cap too small).
 */
int tp_redis_least_loaded(const struct tp_redis *r, char *addr, size_t cap);

#endif
