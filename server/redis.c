/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * redis.c - what the nodes share through the link (redis_link.c): the
 * cluster-wide user quota, the session registry, kill orders and node loads.
 * Key layout and failure behaviour: redis.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "redis_priv.h"

#define KEY_MAX (TP_MAX_USERNAME + 128)
#define KEY_LOADS TP_RDS_PREFIX "loads"
#define SCAN_COUNT "1000"

/* ---- quota ------------------------------------------------------------------ */

struct rc_job {
	struct rjob j;
	tp_redis_rc_fn cb;
	void *arg;
};

static void rc_finish(struct rjob *j, int rc)
{
	struct rc_job *rj = (struct rc_job *)j;

	if (rj->cb)
		rj->cb(rj->arg, rc);
}

static struct rc_job *rc_job_new(struct tp_redis *r, uint32_t deadline_ms, tp_redis_rc_fn cb,
                                 void *arg)
{
	struct rc_job *rj = (struct rc_job *)tp_rds_job_new(r, sizeof(*rj), deadline_ms,
	                                                     rc_finish, NULL);

	if (!rj) {
		if (cb)
			cb(arg, -ENOMEM);
		return NULL;
	}
	rj->cb = cb;
	rj->arg = arg;
	return rj;
}

/* An integer reply as rc; errors and other types -EPROTO. */
static void int_reply(struct rop *op, const redisReply *rep)
{
	int rc = !rep ? -ENOTCONN : rep->type != REDIS_REPLY_INTEGER ? -EPROTO :
	         rep->integer > INT32_MAX ? INT32_MAX : (int)rep->integer;

	if (rep && rep->type == REDIS_REPLY_ERROR)
		tp_debug(NULL, "redis: %s", rep->str);
	tp_rds_job_done(op->job, rc);
}

/* The quota script for user's key: mode, "<node>/<alloc_key>", quota, ttl. */
static int quota_eval(struct tp_redis *r, struct rjob *j, tp_rds_reply_fn fn, const char *mode,
                      const char *user, size_t user_len, const char *alloc_key,
                      uint32_t quota, uint32_t ttl_s)
{
	char key[KEY_MAX], member[TP_REDIS_NODE_MAX + 256], q[16], ttl[24];
	size_t kl = tp_rds_key(key, sizeof(key), "quota", user, user_len, NULL);
	int ml = snprintf(member, sizeof(member), "%s/%s", r->o.node, alloc_key ? alloc_key : "");
	const char *argv[5] = { key, mode, member, q, ttl };
	size_t lens[5];

	if (!kl || !user_len || memchr(user, '\0', user_len) || ml < 0 ||
	    (size_t)ml >= sizeof(member) || (alloc_key && !alloc_key[0]))
		return -EINVAL;
	snprintf(q, sizeof(q), "%u", quota);
	snprintf(ttl, sizeof(ttl), "%" PRIu64, (uint64_t)ttl_s * 1000);
	lens[0] = kl;
	lens[1] = strlen(mode);
	lens[2] = (size_t)ml;
	lens[3] = strlen(q);
	lens[4] = strlen(ttl);
	return tp_rds_eval(r, j, fn, NULL, TP_RDS_QUOTA, 1, 5, argv, lens);
}

void tp_redis_quota_take(struct tp_redis *r, const char *user, size_t user_len,
                         const char *alloc_key, uint32_t quota, uint32_t ttl_s,
                         tp_redis_rc_fn cb, void *arg)
{
	struct rc_job *rj = rc_job_new(r, r->o.timeout_ms, cb, arg);
	int rc;

	if (!rj)
		return;
	if (!alloc_key || !ttl_s)
		rc = -EINVAL;
	else
		rc = quota_eval(r, &rj->j, int_reply, "take", user, user_len, alloc_key, quota,
		                ttl_s);
	if (rc)
		tp_rds_job_fail(&rj->j, rc);
}

int tp_redis_quota_refresh(struct tp_redis *r, const char *user, size_t user_len,
                           const char *alloc_key, uint32_t ttl_s)
{
	if (!alloc_key || !ttl_s)
		return -EINVAL;
	return quota_eval(r, NULL, NULL, "refresh", user, user_len, alloc_key, 0, ttl_s);
}

int tp_redis_quota_release(struct tp_redis *r, const char *user, size_t user_len,
                           const char *alloc_key)
{
	char key[KEY_MAX], member[TP_REDIS_NODE_MAX + 256];
	size_t kl = tp_rds_key(key, sizeof(key), "quota", user, user_len, NULL);
	int ml = alloc_key ? snprintf(member, sizeof(member), "%s/%s", r->o.node, alloc_key) : -1;
	const char *argv[3] = { "ZREM", key, member };
	size_t lens[3] = { 4, kl, (size_t)ml };

	if (!kl || !user_len || ml <= 0 || (size_t)ml >= sizeof(member) || !alloc_key[0])
		return -EINVAL;
	return tp_rds_cmd(r, NULL, NULL, NULL, 3, argv, lens);
}

void tp_redis_quota_count(struct tp_redis *r, const char *user, size_t user_len,
                          tp_redis_rc_fn cb, void *arg)
{
	struct rc_job *rj = rc_job_new(r, r->o.admin_timeout_ms, cb, arg);
	int rc;

	if (!rj)
		return;
	rc = quota_eval(r, &rj->j, int_reply, "count", user, user_len, NULL, 0, 0);
	if (rc)
		tp_rds_job_fail(&rj->j, rc);
}

/* ---- session registry --------------------------------------------------- */

static size_t session_key(char *buf, size_t cap, const char *node, uint64_t id)
{
	char ids[24];

	snprintf(ids, sizeof(ids), "%" PRIu64, id);
	return tp_rds_key(buf, cap, "session", node, strlen(node), ids);
}

/* The hash's fields: the strings first (as in struct tp_redis_session), then
 * the numbers. */
static const char *const sess_fields[] = {
	"node", "user", "transport", "client", "server", "relay4", "relay6", "id", "started",
	"bytes_in", "bytes_out", "pkts_in", "pkts_out",
};
#define NSTRINGS 7
#define NFIELDS (sizeof(sess_fields) / sizeof(sess_fields[0]))

int tp_redis_session_put(struct tp_redis *r, const struct tp_redis_session *s, uint32_t ttl_s)
{
	char key[KEY_MAX], ttl[16], nums[6][24];
	const char *argv[2 + 2 * NFIELDS];
	const char *vals[NFIELDS];
	size_t kl;

	if (!s->id || !ttl_s)
		return -EINVAL;
	kl = session_key(key, sizeof(key), r->o.node, s->id);
	snprintf(ttl, sizeof(ttl), "%u", ttl_s);
	snprintf(nums[0], sizeof(nums[0]), "%" PRIu64, s->id);
	snprintf(nums[1], sizeof(nums[1]), "%" PRId64, s->started);
	snprintf(nums[2], sizeof(nums[2]), "%" PRIu64, s->bytes_in);
	snprintf(nums[3], sizeof(nums[3]), "%" PRIu64, s->bytes_out);
	snprintf(nums[4], sizeof(nums[4]), "%" PRIu64, s->pkts_in);
	snprintf(nums[5], sizeof(nums[5]), "%" PRIu64, s->pkts_out);
	vals[0] = r->o.node;
	vals[1] = s->user;
	vals[2] = s->transport;
	vals[3] = s->client;
	vals[4] = s->server;
	vals[5] = s->relay4;
	vals[6] = s->relay6;
	for (size_t i = 0; i < 6; i++)
		vals[NSTRINGS + i] = nums[i];
	argv[0] = key;
	argv[1] = ttl;
	for (size_t i = 0; i < NFIELDS; i++) {
		argv[2 + 2 * i] = sess_fields[i];
		argv[3 + 2 * i] = vals[i] ? vals[i] : "";
	}
	if (!kl)
		return -EINVAL;
	size_t lens[2 + 2 * NFIELDS];
	for (size_t i = 0; i < 2 + 2 * NFIELDS; i++)
		lens[i] = i == 0 ? kl : strlen(argv[i]);
	return tp_rds_eval(r, NULL, NULL, NULL, TP_RDS_HPUT, 1, (int)(2 + 2 * NFIELDS), argv, lens);
}

int tp_redis_session_del(struct tp_redis *r, uint64_t id)
{
	char key[KEY_MAX];
	size_t kl = session_key(key, sizeof(key), r->o.node, id);
	const char *argv[2] = { "DEL", key };
	size_t lens[2] = { 3, kl };

	if (!id || !kl)
		return -EINVAL;
	return tp_rds_cmd(r, NULL, NULL, NULL, 2, argv, lens);
}

/* A listed session: the view, and the one block its strings live in. */
struct sess_own {
	struct tp_redis_session s;
	char *buf;
};

struct list_job {
	struct rjob j;
	tp_redis_list_fn cb;
	void *arg;
	char *user;                   /* the filter, or NULL */
	char cursor[24];
	struct sess_own *v;
	size_t n, cap;
	unsigned pending;             /* HGETALLs in flight */
	bool scan_done, truncated;
};

static int sess_cmp(const void *a, const void *b)
{
	const struct tp_redis_session *x = a, *y = b;
	int c = strcmp(x->node, y->node);

	return c ? c : x->id < y->id ? -1 : x->id > y->id;
}

static void list_finish(struct rjob *j, int rc)
{
	struct list_job *lj = (struct list_job *)j;
	struct tp_redis_session *out = NULL;
	size_t n = 0;

	if (rc >= 0 && lj->n) {
		if (!(out = malloc(lj->n * sizeof(*out)))) {
			rc = -ENOMEM;
		} else {
			for (size_t i = 0; i < lj->n; i++)
				out[i] = lj->v[i].s;
			qsort(out, lj->n, sizeof(*out), sess_cmp);
			/* SCAN may return a key twice */
			for (size_t i = 0; i < lj->n; i++)
				if (!n || sess_cmp(&out[n - 1], &out[i]) != 0)
					out[n++] = out[i];
		}
	}
	if (rc >= 0)
		rc = lj->truncated ? 1 : 0;
	lj->cb(lj->arg, rc >= 0 ? out : NULL, rc >= 0 ? n : 0, rc);
	free(out);
}

static void list_destroy(struct rjob *j)
{
	struct list_job *lj = (struct list_job *)j;

	for (size_t i = 0; i < lj->n; i++)
		free(lj->v[i].buf);
	free(lj->v);
	free(lj->user);
}

static const char *field_of(const redisReply *rep, const char *name)
{
	for (size_t i = 0; i + 1 < rep->elements; i += 2)
		if (rep->element[i]->type == REDIS_REPLY_STRING &&
		    rep->element[i + 1]->type == REDIS_REPLY_STRING &&
		    strcmp(rep->element[i]->str, name) == 0)
			return rep->element[i + 1]->str;
	return NULL;
}

/* One HGETALL into the list (if it is a session and passes the filter). */
static int add_session(struct list_job *lj, const redisReply *rep)
{
	const char *vals[NFIELDS];
	size_t bytes = 0, o = 0;
	struct sess_own *e;

	if (rep->type != REDIS_REPLY_ARRAY || rep->elements == 0)
		return 0;           /* gone meanwhile */
	for (size_t i = 0; i < NFIELDS; i++) {
		vals[i] = field_of(rep, sess_fields[i]);
		bytes += (vals[i] ? strlen(vals[i]) : 0) + 1;
	}
	if (!vals[0] || !vals[1] || !vals[7] || (lj->user && strcmp(vals[1], lj->user) != 0))
		return 0;
	if (lj->n == lj->cap) {
		size_t cap = lj->cap ? lj->cap * 2 : 64;
		struct sess_own *v = realloc(lj->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		lj->v = v;
		lj->cap = cap;
	}
	e = &lj->v[lj->n];
	memset(e, 0, sizeof(*e));
	if (!(e->buf = malloc(bytes)))
		return -ENOMEM;
	const char **dst[NSTRINGS] = { &e->s.node, &e->s.user, &e->s.transport, &e->s.client,
	                               &e->s.server, &e->s.relay4, &e->s.relay6 };
	for (size_t i = 0; i < NSTRINGS; i++) {
		size_t l = vals[i] ? strlen(vals[i]) : 0;
		memcpy(e->buf + o, vals[i] ? vals[i] : "", l + 1);
		*dst[i] = e->buf + o;
		o += l + 1;
	}
	e->s.id = strtoull(vals[7], NULL, 10);
	e->s.started = vals[8] ? strtoll(vals[8], NULL, 10) : 0;
	e->s.bytes_in = vals[9] ? strtoull(vals[9], NULL, 10) : 0;
	e->s.bytes_out = vals[10] ? strtoull(vals[10], NULL, 10) : 0;
	e->s.pkts_in = vals[11] ? strtoull(vals[11], NULL, 10) : 0;
	e->s.pkts_out = vals[12] ? strtoull(vals[12], NULL, 10) : 0;
	lj->n++;
	return 0;
}

static void list_scan(struct list_job *lj);

static void list_next(struct list_job *lj)
{
	if (lj->pending)
		return;
	if (lj->scan_done || lj->truncated)
		tp_rds_job_done(&lj->j, 0);
	else
		list_scan(lj);
}

static void hgetall_reply(struct rop *op, const redisReply *rep)
{
	struct list_job *lj = (struct list_job *)op->job;
	int rc;

	lj->pending--;
	if (!rep) {
		tp_rds_job_done(&lj->j, -ENOTCONN);
		return;
	}
	if ((rc = add_session(lj, rep)) != 0) {
		tp_rds_job_done(&lj->j, rc);
		return;
	}
	list_next(lj);
}

static void scan_reply(struct rop *op, const redisReply *rep)
{
	struct list_job *lj = (struct list_job *)op->job;
	struct tp_redis *r = op->r;
	const redisReply *keys;

	if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
	    rep->element[0]->type != REDIS_REPLY_STRING ||
	    rep->element[1]->type != REDIS_REPLY_ARRAY) {
		tp_rds_job_done(&lj->j, !rep ? -ENOTCONN : -EPROTO);
		return;
	}
	snprintf(lj->cursor, sizeof(lj->cursor), "%s", rep->element[0]->str);
	lj->scan_done = strcmp(lj->cursor, "0") == 0;
	keys = rep->element[1];
	for (size_t i = 0; i < keys->elements; i++) {
		const redisReply *k = keys->element[i];
		const char *argv[2] = { "HGETALL", k->str };
		size_t lens[2] = { 7, k->len };
		int rc;

		if (k->type != REDIS_REPLY_STRING)
			continue;
		if (lj->n + lj->pending >= r->o.list_max) {
			lj->truncated = true;
			break;
		}
		if ((rc = tp_rds_cmd(r, &lj->j, hgetall_reply, NULL, 2, argv, lens)) != 0) {
			tp_rds_job_done(&lj->j, rc);
			return;
		}
		lj->pending++;
	}
	list_next(lj);
}

static void list_scan(struct list_job *lj)
{
	const char *argv[6] = { "SCAN", lj->cursor, "MATCH", TP_RDS_PREFIX "session/*", "COUNT",
	                        SCAN_COUNT };
	int rc = tp_rds_cmd(lj->j.r, &lj->j, scan_reply, NULL, 6, argv, NULL);

	if (rc)
		tp_rds_job_done(&lj->j, rc);
}

void tp_redis_sessions_list(struct tp_redis *r, const char *user, tp_redis_list_fn cb,
                            void *arg)
{
	struct list_job *lj = (struct list_job *)tp_rds_job_new(r, sizeof(*lj),
	                                                        r->o.admin_timeout_ms,
	                                                        list_finish, list_destroy);
	const char *argv[6] = { "SCAN", "0", "MATCH", TP_RDS_PREFIX "session/*", "COUNT",
	                        SCAN_COUNT };
	int rc;

	if (!lj) {
		cb(arg, NULL, 0, -ENOMEM);
		return;
	}
	lj->cb = cb;
	lj->arg = arg;
	snprintf(lj->cursor, sizeof(lj->cursor), "0");
	if (user && !(lj->user = strdup(user)))
		rc = -ENOMEM;
	else
		rc = tp_rds_cmd(r, &lj->j, scan_reply, NULL, 6, argv, NULL);
	if (rc)
		tp_rds_job_fail(&lj->j, rc);
}

/* ---- kill orders ------------------------------------------------------------ */

void tp_redis_on_kill(struct tp_redis *r, tp_redis_kill_fn fn, void *arg)
{
	r->kill_fn = fn;
	r->kill_arg = arg;
}

void tp_redis_kill_publish(struct tp_redis *r, const char *node, const char *user,
                           uint64_t session, tp_redis_rc_fn cb, void *arg)
{
	struct rc_job *rj = rc_job_new(r, r->o.admin_timeout_ms, cb, arg);
	char msg[TP_REDIS_NODE_MAX + TP_MAX_USERNAME + 48];
	const char *argv[3] = { "PUBLISH", TP_RDS_CHAN_KILL, msg };
	int n, rc;

	if (!rj)
		return;
	if ((node && node[0] && !tp_redis_node_ok(node)) || (user && strchr(user, '\n')) ||
	    ((!user || !user[0]) && !session))
		rc = -EINVAL;
	else if ((n = snprintf(msg, sizeof(msg), "%s\n%s\n%" PRIu64, node ? node : "",
	                       user ? user : "", session)) < 0 || (size_t)n >= sizeof(msg))
		rc = -EINVAL;
	else
		rc = tp_rds_cmd(r, &rj->j, int_reply, NULL, 3, argv, NULL);
	if (rc)
		tp_rds_job_fail(&rj->j, rc);
}

/* "<node>\n<user>\n<id>": ours (or any node's), with a user or an id. */
static void on_kill_msg(struct tp_redis *r, const char *msg, size_t len)
{
	const char *nl1 = memchr(msg, '\n', len), *nl2;
	char user[TP_MAX_USERNAME + 1];
	size_t nl, ul;
	uint64_t id = 0;

	if (!nl1 || !(nl2 = memchr(nl1 + 1, '\n', len - (size_t)(nl1 + 1 - msg))))
		goto bad;
	nl = (size_t)(nl1 - msg);
	ul = (size_t)(nl2 - nl1 - 1);
	if (nl && (nl != strlen(r->o.node) || memcmp(msg, r->o.node, nl) != 0))
		return;             /* another node's */
	if (ul > TP_MAX_USERNAME || memchr(nl1 + 1, '\0', ul))
		goto bad;
	memcpy(user, nl1 + 1, ul);
	user[ul] = '\0';
	for (const char *p = nl2 + 1; p < msg + len; p++) {
		if (*p < '0' || *p > '9' || id > UINT64_MAX / 10)
			goto bad;
		id = id * 10 + (uint64_t)(*p - '0');
	}
	if (!ul && !id)
		goto bad;
	r->st.kills_received++;
	if (r->kill_fn) {
		tp_rds_cb_enter(r);
		r->kill_fn(r->kill_arg, ul ? user : NULL, id);
		tp_rds_cb_leave(r);
	}
	return;
bad:
	tp_debug(NULL, "%s: a malformed kill order ignored", r->label);
}

void tp_rds_on_message(struct tp_redis *r, const char *chan, size_t chan_len, const char *msg,
                       size_t msg_len)
{
	if (chan_len == strlen(TP_RDS_CHAN_KILL) && memcmp(chan, TP_RDS_CHAN_KILL, chan_len) == 0)
		on_kill_msg(r, msg, msg_len);
	else                    /* turnpike/userdb, or a keyspace notification */
		tp_rds_userdb_kick(r, 50);
}

/* ---- node loads ----------------------------------------------------------- */

int tp_redis_load_publish(struct tp_redis *r, const char *addr, uint64_t allocs, uint64_t bps,
                          uint32_t ttl_s)
{
	char ttl[24], val[128];
	const char *argv[5] = { KEY_LOADS, "put", r->o.node, ttl, val };
	int n;

	if (!addr || !addr[0] || strchr(addr, ' ') || strlen(addr) >= sizeof(r->loads->addr) ||
	    !ttl_s)
		return -EINVAL;
	snprintf(ttl, sizeof(ttl), "%" PRIu64, (uint64_t)ttl_s * 1000);
	n = snprintf(val, sizeof(val), "%" PRIu64 " %" PRIu64 " %s", allocs, bps, addr);
	if (n < 0 || (size_t)n >= sizeof(val))
		return -EINVAL;
	return tp_rds_eval(r, NULL, NULL, NULL, TP_RDS_LOADS, 1, 5, argv, NULL);
}

struct loads_job {
	struct rjob j;
	struct tp_rds_load *v;
	size_t n;
};

static void loads_schedule(struct tp_redis *r)
{
	struct timeval tv = { .tv_sec = r->o.loads_refresh_ms / 1000,
	                      .tv_usec = (r->o.loads_refresh_ms % 1000) * 1000 };

	if (r->o.loads_refresh_ms && !r->closing)
		event_add(&r->ev_loads, &tv);
}

static void loads_finish(struct rjob *j, int rc)
{
	struct loads_job *lj = (struct loads_job *)j;
	struct tp_redis *r = j->r;

	r->loads_busy = false;
	if (rc == 0) {
		free(r->loads);
		r->loads = lj->v;
		r->nloads = lj->n;
		lj->v = NULL;
	}
	loads_schedule(r);
}

static void loads_destroy(struct rjob *j)
{
	free(((struct loads_job *)j)->v);
}

static void loads_reply(struct rop *op, const redisReply *rep)
{
	struct loads_job *lj = (struct loads_job *)op->job;

	if (!rep || rep->type != REDIS_REPLY_ARRAY) {
		tp_rds_job_done(&lj->j, !rep ? -ENOTCONN : -EPROTO);
		return;
	}
	lj->v = calloc(rep->elements / 2 + 1, sizeof(*lj->v));
	if (!lj->v) {
		tp_rds_job_done(&lj->j, -ENOMEM);
		return;
	}
	for (size_t i = 0; i + 1 < rep->elements; i += 2) {
		const redisReply *k = rep->element[i], *v = rep->element[i + 1];
		struct tp_rds_load *e = &lj->v[lj->n];
		unsigned long long exp, allocs, bps;
		char addr[64];

		if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
		    k->len > TP_REDIS_NODE_MAX ||
		    sscanf(v->str, "%llu %llu %llu %63s", &exp, &allocs, &bps, addr) != 4)
			continue;
		snprintf(e->node, sizeof(e->node), "%s", k->str);
		snprintf(e->addr, sizeof(e->addr), "%s", addr);
		e->allocs = allocs;
		e->bps = bps;
		lj->n++;
	}
	tp_rds_job_done(&lj->j, 0);
}

static void loads_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tp_redis *r = arg;
	struct loads_job *lj;
	const char *argv[2] = { KEY_LOADS, "get" };
	int rc;

	(void)fd;
	(void)what;
	if (r->loads_busy || !tp_redis_is_up(r))
		return;     /* the next up starts again */
	lj = (struct loads_job *)tp_rds_job_new(r, sizeof(*lj), r->o.admin_timeout_ms,
	                                       loads_finish, loads_destroy);
	if (!lj) {
		loads_schedule(r);
		return;
	}
	r->loads_busy = true;
	if ((rc = tp_rds_eval(r, &lj->j, loads_reply, NULL, TP_RDS_LOADS, 1, 2, argv, NULL)))
		tp_rds_job_fail(&lj->j, rc);
}

void tp_rds_loads_init(struct tp_redis *r)
{
	event_assign(&r->ev_loads, r->base, -1, 0, loads_cb, r);
}

void tp_rds_loads_on_up(struct tp_redis *r)
{
	if (r->o.loads_refresh_ms && !r->loads_busy)
		event_active(&r->ev_loads, EV_TIMEOUT, 1);
}

void tp_rds_loads_fini(struct tp_redis *r)
{
	event_del(&r->ev_loads);
	free(r->loads);
	r->loads = NULL;
	r->nloads = 0;
}

int tp_redis_least_loaded(const struct tp_redis *r, char *addr, size_t cap)
{
	const struct tp_rds_load *best = NULL;

	if (!tp_redis_is_up(r))
		return -ENOENT;     /* the cache may describe nodes gone meanwhile */
	for (size_t i = 0; i < r->nloads; i++) {
		const struct tp_rds_load *e = &r->loads[i];
		if (strcmp(e->node, r->o.node) == 0)
			continue;
		if (!best || e->allocs < best->allocs ||
		    (e->allocs == best->allocs && e->bps < best->bps))
			best = e;
	}
	if (!best)
		return -ENOENT;
	if (strlen(best->addr) >= cap)
		return -ENOSPC;
	memcpy(addr, best->addr, strlen(best->addr) + 1);
	return 0;
}
