/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cluster.c - a worker's part in a cluster (see cluster.h).
 */
#include <errno.h>
#include <pthread.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "alloc.h"
#include "cluster.h"
#include "dispatch.h"
#include "log.h"
#include "shared.h"

#define REFRESH_S 10                  /* each allocation's records, rewritten */
#define RECORD_TTL (3 * REFRESH_S)    /* ... and how long they outlive a dead node */
#define LOAD_EVERY_S 2                /* worker 0: the node's load */

struct tp_cluster {
	struct tp_redis *r;               /* owned */
	char node[TP_REDIS_NODE_MAX + 1];
	char advertise[64];               /* "IP:PORT" clients are sent to */
	unsigned ticks;
	bool was_up;
};

/* An Allocate waiting for the cluster-wide count. Owned by the callback:
 * freed when Redis answers (or the deadline passes), whatever became of a. */
struct tp_qwait {
	struct tp_srv *s;
	struct tp_alloc *a;               /* NULL once a has been freed */
	struct tp_reply rp;
	char user[TP_MAX_USERNAME + 1];
	size_t user_len;
	char key[17];
};

static void alloc_key(const struct tp_alloc *a, char out[17])
{
	snprintf(out, 17, "%016" PRIx64, a->id);
}

/* The name user-quota counts (a REST name's part after the ':'): the one the
 * allocation's local count is kept under. */
static const char *quota_user(const struct tp_alloc *a, size_t *len)
{
	return tp_shared_user_name(a->uc, len);
}

static void kill_order(void *arg, const char *user, uint64_t id)
{
	struct tp_srv *s = arg;
	unsigned n = tp_turn_kill(s, user, id);

	if (n)
		tp_info(NULL, "cluster: kill order for %s%s%s: %u session(s) ended on worker %u",
		        user ? "user " : "", user ? user : "", id ? " (one session)" : "", n,
		        s->worker);
}

int tp_cluster_create(struct tp_srv *s, const struct tp_addr *advertise, char *err,
                      size_t errlen)
{
	struct tp_redis_opts o;
	struct tp_cluster *cl;
	int rc;

	s->cluster = NULL;
	tp_redis_opts_default(&o);
	rc = tp_redis_opts_from_conf(s->conf, &o, err, errlen);
	if (rc == 1)
		return 0;
	if (rc != 0)
		return -1;
	snprintf(o.name, sizeof(o.name), "worker %u", s->worker);
	o.loads_refresh_ms = LOAD_EVERY_S * 1000;  /* every worker may answer 300 */
	cl = calloc(1, sizeof(*cl));
	if (!cl) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	cl->r = tp_redis_create(s->base, &o, err, errlen);
	if (!cl->r) {
		free(cl);
		return -1;
	}
	snprintf(cl->node, sizeof(cl->node), "%s", o.node);
	if (advertise && tp_addr_fmt(advertise, cl->advertise, sizeof(cl->advertise)) < 0)
		cl->advertise[0] = '\0';
	tp_redis_on_kill(cl->r, kill_order, s);
	s->cluster = cl;
	return 0;
}

void tp_cluster_free(struct tp_srv *s)
{
	struct tp_cluster *cl = s->cluster;

	if (!cl)
		return;
	s->cluster = NULL;      /* callbacks cancelled below see no store */
	tp_redis_free(cl->r);
	free(cl);
}

bool tp_cluster_is_up(const struct tp_srv *s)
{
	return s->cluster && tp_redis_is_up(s->cluster->r);
}

const char *tp_cluster_node(const struct tp_srv *s)
{
	return s->cluster ? s->cluster->node : "";
}

/* ---- the records of one allocation ---- */

static void put_session(struct tp_cluster *cl, struct tp_srv *s, struct tp_alloc *a)
{
	static const char *const tn[] = { "?", "udp", "tcp", "tls", "dtls" };
	char client[64], server[64], relay[2][64] = { "", "" };
	time_t now = tp_now(s);
	struct tp_redis_session rs = { 0 };

	tp_addr_fmt(&a->ft.client, client, sizeof(client));
	tp_addr_fmt(&a->ft.local, server, sizeof(server));
	for (int i = 0; i < a->nrelay; i++) {
		struct tp_addr pub;

		tp_public_addr(s, &a->relay[i].addr, &pub);
		tp_addr_fmt(&pub, relay[pub.family == AF_INET6], sizeof(relay[0]));
	}
	rs.id = a->id;
	rs.user = a->user;
	rs.transport = tn[a->ft.transport % 5];
	rs.client = client;
	rs.server = server;
	rs.relay4 = relay[0];
	rs.relay6 = relay[1];
	rs.started = (int64_t)(s->io->wall() - (now - a->created));
	rs.bytes_in = a->tx_bytes;
	rs.bytes_out = a->rx_bytes;
	rs.pkts_in = a->tx_pkts;
	rs.pkts_out = a->rx_pkts;
	(void)tp_redis_session_put(cl->r, &rs, RECORD_TTL);
}

static void refresh_one(void *arg, struct tp_alloc *a)
{
	struct tp_srv *s = arg;
	struct tp_cluster *cl = s->cluster;
	char key[17];
	size_t ulen;
	const char *u;

	if (a->qwait || a->id % REFRESH_S != cl->ticks % REFRESH_S)
		return;
	alloc_key(a, key);
	u = quota_user(a, &ulen);
	/* also enters allocations admitted while the store was down */
	if (s->conf->user_quota)
		(void)tp_redis_quota_refresh(cl->r, u, ulen, key, RECORD_TTL);
	put_session(cl, s, a);
}

void tp_cluster_tick(struct tp_srv *s)
{
	struct tp_cluster *cl = s->cluster;
	bool up;

	if (!cl)
		return;
	cl->ticks++;
	up = tp_redis_is_up(cl->r);
	if (s->worker == 0)
		atomic_store(&s->sh->redis_up, up);
	if (!up) {
		cl->was_up = false;
		return;
	}
	if (!cl->was_up) {
		/* back (or first up): everything at once, the store may have lost it */
		unsigned t = cl->ticks;

		for (unsigned k = 0; k < REFRESH_S; k++) {
			cl->ticks = t + k;
			tp_allocs_foreach(s->allocs, refresh_one, s);
		}
		cl->ticks = t;
		cl->was_up = true;
	} else {
		tp_allocs_foreach(s->allocs, refresh_one, s);
	}
	if (s->worker == 0 && cl->advertise[0] && cl->ticks % LOAD_EVERY_S == 0) {
		uint64_t n;

		pthread_mutex_lock(&s->sh->mu);
		n = s->sh->nallocs;
		pthread_mutex_unlock(&s->sh->mu);
		(void)tp_redis_load_publish(cl->r, cl->advertise, n, atomic_load(&s->sh->relay_bps),
		                            3 * LOAD_EVERY_S);
	}
}

void tp_cluster_released(struct tp_srv *s, struct tp_alloc *a)
{
	struct tp_cluster *cl = s->cluster;
	char key[17];
	size_t ulen;
	const char *u;

	if (a->qwait) {
		a->qwait->a = NULL;  /* its callback releases the entry */
		a->qwait = NULL;
		return;
	}
	if (!cl)
		return;
	alloc_key(a, key);
	u = quota_user(a, &ulen);
	if (s->conf->user_quota)
		(void)tp_redis_quota_release(cl->r, u, ulen, key);
	(void)tp_redis_session_del(cl->r, a->id);
}

/* ---- the core's hooks ---- */

static void quota_answer(void *arg, int rc)
{
	struct tp_qwait *w = arg;
	struct tp_srv *s = w->s;
	struct tp_alloc *a = w->a;
	struct tp_cluster *cl = s->cluster;

	if (!a) {
		/* gone while we waited (its connection closed): whatever Redis did */
		if (cl && rc != -ECANCELED)
			(void)tp_redis_quota_release(cl->r, w->user, w->user_len, w->key);
		free(w);
		return;
	}
	a->qwait = NULL;
	if (rc < 0) {
		struct tp_logctx ctx;

		tp_alloc_logctx(a, &ctx);
		tp_debug(&ctx, "cluster: quota count unavailable (%s): the local user-quota decided",
		         strerror(-rc));
	}
	if (rc == 0) {
		/* over: the entry was not added, nothing to release */
		tp_turn_quota_done(s, a, &w->rp, false);
	} else {
		if (cl)
			put_session(cl, s, a);
		tp_turn_quota_done(s, a, &w->rp, true);
	}
	free(w);
}

int tp_cluster_quota_take(struct tp_alloc *a, uint32_t quota, const struct tp_reply *rp)
{
	struct tp_srv *s = a->s;
	struct tp_cluster *cl = s->cluster;
	struct tp_qwait *w;
	const char *u;

	if (!cl)
		return 0;
	if (!tp_redis_is_up(cl->r)) {
		/* counted once the store is back (refresh_one) */
		return 0;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return 0;
	w->s = s;
	w->a = a;
	w->rp = *rp;
	u = quota_user(a, &w->user_len);
	memcpy(w->user, u, w->user_len);
	alloc_key(a, w->key);
	a->qwait = w;
	tp_redis_quota_take(cl->r, w->user, w->user_len, w->key, quota, RECORD_TTL, quota_answer,
	                    w);
	return 1;
}

int tp_cluster_user_key(struct tp_srv *s, const char *name, size_t len, uint16_t alg,
                        uint8_t *key, size_t *key_len)
{
	struct tp_cluster *cl = s->cluster;
	int rc;

	if (!cl)
		return -ENOENT;
	if (alg == TP_PWALG_SHA256) {
		rc = tp_redis_user_key_sha256(cl->r, name, len, key);
		*key_len = 32;
	} else {
		rc = tp_redis_user_key(cl->r, name, len, key);
		*key_len = 16;
	}
	return rc;
}

int tp_cluster_user_by_hash(struct tp_srv *s, const uint8_t hash[32], const char **name,
                            size_t *len)
{
	return s->cluster ? tp_redis_user_by_hash(s->cluster->r, hash, name, len) : -ENOENT;
}

size_t tp_cluster_secrets(struct tp_srv *s, const char *const **out)
{
	if (!s->cluster) {
		*out = NULL;
		return 0;
	}
	return tp_redis_secrets(s->cluster->r, out);
}

int tp_cluster_alternate(struct tp_srv *s, struct tp_addr *out)
{
	char addr[64];

	if (!s->cluster || tp_redis_least_loaded(s->cluster->r, addr, sizeof(addr)) != 0)
		return -ENOENT;
	return tp_addr_parse(out, addr, 3478) == 0 ? 0 : -ENOENT;
}

/* ---- admin ---- */

int tp_cluster_sessions(struct tp_srv *s, const char *user, tp_redis_list_fn cb, void *arg)
{
	if (!s->cluster)
		return -ENOTCONN;
	tp_redis_sessions_list(s->cluster->r, user, cb, arg);
	return 0;
}

int tp_cluster_kill(struct tp_srv *s, const char *node, const char *user, uint64_t id,
                    tp_redis_rc_fn cb, void *arg)
{
	if (!s->cluster)
		return -ENOTCONN;
	tp_redis_kill_publish(s->cluster->r, node, user, id, cb, arg);
	return 0;
}
