/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cluster.h - a worker's part in a cluster of turnpike nodes (issue 14): the
 * edge between the protocol core and the cluster store (redis.h).
 *
 * Each worker with `redis` configured owns one tp_cluster and, through it,
 * one Redis instance on its own loop. It implements struct tp_io's cluster
 * hooks (quota_take, user_key, user_by_hash, secrets, alternate) and, on the
 * worker's one-second tick, keeps the cluster's view of this worker's
 * allocations fresh:
 *
 *   - every allocation's entry in its user's cluster-wide quota and its
 *     session record are rewritten every REFRESH_S seconds (a tenth of the
 *     allocations each tick) with a TTL of three refreshes, so a node that
 *     dies leaves nothing behind for longer than that;
 *   - worker 0 publishes the node's load (allocations, bytes/s and the
 *     address clients should be sent to) and reports whether the store is
 *     reachable (turnpike_redis_up);
 *   - kill orders for this node end the matching allocations of the worker.
 *
 * Without `redis` there is no tp_cluster and every hook answers "nothing here"
 * at once: a single node never waits for anything.
 */
#ifndef TP_CLUSTER_H
#define TP_CLUSTER_H

#include "redis.h"
#include "server.h"

/* s->cluster for s's configuration: NULL without `redis`. 0, or -1 with a
 * message in err (bad options: the start fails). advertise: the address
 * this node's load is published with (what other nodes send clients to). */
int tp_cluster_create(struct tp_srv *s, const struct tp_addr *advertise, char *err,
                      size_t errlen);
void tp_cluster_free(struct tp_srv *s);
/* Once a second on the worker's loop. */
void tp_cluster_tick(struct tp_srv *s);
/* a is about to be freed: its quota entry and session record go (and an
 * Allocate still waiting for the count is forgotten). */
void tp_cluster_released(struct tp_srv *s, struct tp_alloc *a);

/* struct tp_io's cluster hooks (server.h). */
int tp_cluster_quota_take(struct tp_alloc *a, uint32_t quota, const struct tp_reply *rp);
int tp_cluster_user_key(struct tp_srv *s, const char *name, size_t len, uint16_t alg,
                        uint8_t *key, size_t *key_len);
int tp_cluster_user_by_hash(struct tp_srv *s, const uint8_t hash[32], const char **name,
                            size_t *len);
size_t tp_cluster_secrets(struct tp_srv *s, const char *const **out);
int tp_cluster_alternate(struct tp_srv *s, struct tp_addr *out);

/* For the admin socket (worker 0): every node's sessions (user NULL: all),
 * and kill orders to one node (NULL: every node). -ENOTCONN at once without
 * a cluster store; else the callbacks of redis.h. */
int tp_cluster_sessions(struct tp_srv *s, const char *user, tp_redis_list_fn cb, void *arg);
int tp_cluster_kill(struct tp_srv *s, const char *node, const char *user, uint64_t id,
                    tp_redis_rc_fn cb, void *arg);
/* Whether the store is reachable (false without one). */
bool tp_cluster_is_up(const struct tp_srv *s);
/* This node's id ("" without a cluster store). */
const char *tp_cluster_node(const struct tp_srv *s);

#endif
