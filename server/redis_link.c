/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * redis_link.c - the link to Redis: two hiredis connections on the
 * instance's event_base (commands; a subscriber), the handshake (AUTH,
 * SELECT, SCRIPT LOAD, SUBSCRIBE), reconnection with backoff, stall
 * detection, host names resolved off the loop, and the rop/rjob machinery
 * that gives every command a deadline (redis_priv.h).
 *
 * States: IDLE (down, backoff timer armed) -> RESOLVING (names only) ->
 * HANDSHAKE -> UP. Anything that fails calls link_down(), which logs once per
 * state change and defers the teardown of the hiredis contexts to the next
 * loop turn (it may run inside a hiredis callback, where a context must not be
 * freed). hiredis calls back every command of a freed context with a NULL
 * reply: jobs waiting on them finish with -ENOTCONN.
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <hiredis/adapters/libevent.h>
#include <openssl/evp.h>

#include "log.h"
#include "redis_priv.h"

/*
 * The scripts. Times are Redis' own clock (TIME), so nodes with skewed clocks
 * agree on what has expired. replicate_commands: Redis < 5 refuses writes
 * after TIME without it; 7 ignores it.
 *
 * QUOTA: KEYS[1] the user's zset; ARGV mode ("take", "refresh", "count"),
 * member, quota (0 = none), ttl in ms. Drops expired members; "take" adds the
 * member unless quota are left already (a member present is a retry:
 * refreshed, admitted); the key expires with its last member.
 */
static const char script_quota[] =
	"if redis.replicate_commands then redis.replicate_commands() end\n"
	"local t = redis.call('TIME')\n"
	"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
	"redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)\n"
	"if ARGV[1] == 'count' then return redis.call('ZCARD', KEYS[1]) end\n"
	"if ARGV[1] == 'take' and not redis.call('ZSCORE', KEYS[1], ARGV[2]) then\n"
	"  local q = tonumber(ARGV[3])\n"
	"  if q > 0 and redis.call('ZCARD', KEYS[1]) >= q then return 0 end\n"
	"end\n"
	"redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[2])\n"
	"local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')\n"
	"redis.call('PEXPIREAT', KEYS[1], last[2])\n"
	"return 1\n";

/* HPUT: KEYS[1] a hash; ARGV ttl in s, then field, value, ... */
static const char script_hput[] =
	"redis.call('HSET', KEYS[1], unpack(ARGV, 2))\n"
	"redis.call('EXPIRE', KEYS[1], ARGV[1])\n"
	"return 1\n";

/* LOADS: KEYS[1] turnpike/loads. "put" node ttl_ms "allocs bps addr": the
 * field gets "<expiry_ms> allocs bps addr". "get": the fresh fields as a flat
 * array (node, value, ...); stale ones are deleted. */
static const char script_loads[] =
	"if redis.replicate_commands then redis.replicate_commands() end\n"
	"local t = redis.call('TIME')\n"
	"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
	"if ARGV[1] == 'put' then\n"
	"  local ttl = tonumber(ARGV[3])\n"
	"  redis.call('HSET', KEYS[1], ARGV[2], string.format('%.0f', now + ttl) .. ' ' .. ARGV[4])\n"
	"  if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end\n"
	"  return 1\n"
	"end\n"
	"local all = redis.call('HGETALL', KEYS[1])\n"
	"local out = {}\n"
	"for i = 1, #all, 2 do\n"
	"  local exp = tonumber(string.match(all[i + 1], '^(%d+) '))\n"
	"  if exp and exp > now then\n"
	"    out[#out + 1] = all[i]\n"
	"    out[#out + 1] = all[i + 1]\n"
	"  else\n"
	"    redis.call('HDEL', KEYS[1], all[i])\n"
	"  end\n"
	"end\n"
	"return out\n";

const char *tp_rds_script_text(enum tp_rds_script s)
{
	switch (s) {
	case TP_RDS_QUOTA:
		return script_quota;
	case TP_RDS_HPUT:
		return script_hput;
	case TP_RDS_LOADS:
		return script_loads;
	default:
		return NULL;
	}
}

uint64_t tp_rds_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct timeval ms_tv(uint32_t ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
	return tv;
}

__attribute__((format(printf, 3, 4)))
static void rlog(struct tp_redis *r, int level, const char *fmt, ...)
{
	char msg[640];
	va_list ap;

	if (level > atomic_load_explicit(&tp_log_level, memory_order_relaxed))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tp_log_write(level, NULL, "%s: %s", r->label, msg);
}

void tp_rds_cb_enter(struct tp_redis *r)
{
	r->in_cb++;
}

void tp_rds_cb_leave(struct tp_redis *r)
{
	r->in_cb--;
}

size_t tp_rds_key(char *buf, size_t cap, const char *what, const char *a, size_t alen,
                  const char *b)
{
	size_t pl = strlen(TP_RDS_PREFIX), wl = strlen(what), bl = b ? strlen(b) : 0;
	size_t n = pl + wl + 1 + alen + (b ? 1 + bl : 0), o = 0;

	if (n > cap)
		return 0;
	memcpy(buf + o, TP_RDS_PREFIX, pl);
	o += pl;
	memcpy(buf + o, what, wl);
	o += wl;
	buf[o++] = '/';
	memcpy(buf + o, a, alen);
	o += alen;
	if (b) {
		buf[o++] = '/';
		memcpy(buf + o, b, bl);
		o += bl;
	}
	return o;
}

/* ---- jobs --------------------------------------------------------------- */

static void job_maybe_free(struct rjob *j)
{
	struct tp_redis *r = j->r;

	if (!j->done || j->ops > 0)
		return;
	if (j->prev)
		j->prev->next = j->next;
	else
		r->jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	if (j->destroy)
		j->destroy(j);
	free(j);
}

void tp_rds_job_done(struct rjob *j, int rc)
{
	struct tp_redis *r = j->r;

	if (j->done)
		return;
	j->done = true;
	event_del(&j->timer);
	if (rc == -ENOTCONN)
		r->st.notconn++;
	tp_rds_cb_enter(r);
	j->finish(j, rc);
	tp_rds_cb_leave(r);
	job_maybe_free(j);
}

static void job_timer(evutil_socket_t fd, short what, void *arg)
{
	struct rjob *j = arg;

	(void)fd;
	(void)what;
	if (!j->early_rc)
		j->r->st.timeouts++;
	tp_rds_job_done(j, j->early_rc ? j->early_rc : -ETIMEDOUT);
}

struct rjob *tp_rds_job_new(struct tp_redis *r, size_t size, uint32_t deadline_ms,
                            void (*finish)(struct rjob *, int), void (*destroy)(struct rjob *))
{
	struct rjob *j = calloc(1, size);
	struct timeval tv = ms_tv(deadline_ms);

	if (!j)
		return NULL;
	j->r = r;
	j->finish = finish;
	j->destroy = destroy;
	j->next = r->jobs;
	if (r->jobs)
		r->jobs->prev = j;
	r->jobs = j;
	event_assign(&j->timer, r->base, -1, 0, job_timer, j);
	event_add(&j->timer, &tv);
	return j;
}

void tp_rds_job_fail(struct rjob *j, int rc)
{
	if (j->done)
		return;
	j->early_rc = rc;
	event_del(&j->timer);
	event_active(&j->timer, EV_TIMEOUT, 1);
}

/* ---- commands ------------------------------------------------------------ */

static void op_unlink(struct tp_redis *r, struct rop *op)
{
	if (op->prev)
		op->prev->next = op->next;
	else
		r->ops_head = op->next;
	if (op->next)
		op->next->prev = op->prev;
	else
		r->ops_tail = op->prev;
	op->prev = op->next = NULL;
	r->inflight--;
}

static int send_on(struct tp_redis *r, redisAsyncContext *ac, struct rjob *j, tp_rds_reply_fn fn,
                   void *data, int script, int argc, const char **argv, const size_t *lens);

/* EVALSHA answered NOSCRIPT (a SCRIPT FLUSH, a failover to a fresh
 * replica): the same command as EVAL with the script's text. */
static bool resend_eval(struct rop *op)
{
	struct tp_redis *r = op->r;
	const char *argv[64];
	size_t lens[64];

	if (op->argc > 64 || op->data_free || r->state != TP_RDS_UP || op->gen != r->gen)
		return false;
	for (int i = 0; i < op->argc; i++) {
		argv[i] = op->argv[i];
		lens[i] = op->argvlen[i];
	}
	argv[0] = "EVAL";
	lens[0] = 4;
	argv[1] = tp_rds_script_text((enum tp_rds_script)op->script);
	lens[1] = strlen(argv[1]);
	return send_on(r, r->main, op->job, op->fn, op->data, -1, op->argc, argv, lens) == 0;
}

static void on_reply(redisAsyncContext *ac, void *reply, void *priv)
{
	struct rop *op = priv;
	struct tp_redis *r = op->r;
	const redisReply *rep = reply;
	struct rjob *j = op->job;
	bool live = !(j && j->done);

	(void)ac;
	op_unlink(r, op);
	if (rep && rep->type == REDIS_REPLY_ERROR) {
		if (op->script >= 0 && live && strncmp(rep->str, "NOSCRIPT", 8) == 0 &&
		    resend_eval(op))
			live = false;           /* the EVAL carries on for it */
		else
			r->st.errors++;
	}
	if (live && op->fn)
		op->fn(op, rep);
	if (j) {
		j->ops--;
		job_maybe_free(j);
	}
	if (op->data_free)
		op->data_free(op->data);
	free(op->argv);
	free(op);
}

/* Keep a copy of a script command's argv for the EVAL fallback. */
static int keep_argv(struct rop *op, int argc, const char **argv, const size_t *lens)
{
	size_t bytes = 0;
	char *p;

	for (int i = 0; i < argc; i++)
		bytes += lens ? lens[i] : strlen(argv[i]);
	op->argv = malloc((size_t)argc * (sizeof(char *) + sizeof(size_t)) + bytes);
	if (!op->argv)
		return -ENOMEM;
	op->argvlen = (size_t *)(void *)(op->argv + argc);
	p = (char *)(op->argvlen + argc);
	for (int i = 0; i < argc; i++) {
		size_t n = lens ? lens[i] : strlen(argv[i]);
		memcpy(p, argv[i], n);
		op->argv[i] = p;
		op->argvlen[i] = n;
		p += n;
	}
	op->argc = argc;
	return 0;
}

static int send_on(struct tp_redis *r, redisAsyncContext *ac, struct rjob *j, tp_rds_reply_fn fn,
                   void *data, int script, int argc, const char **argv, const size_t *lens)
{
	struct rop *op;

	if (!ac)
		return -ENOTCONN;
	if (r->inflight >= r->o.max_inflight)
		return -ENOBUFS;
	if (!(op = calloc(1, sizeof(*op))))
		return -ENOMEM;
	op->r = r;
	op->job = j;
	op->fn = fn;
	op->data = data;
	op->gen = r->gen;
	op->sent_ms = tp_rds_now_ms();
	op->script = script;
	if (script >= 0 && keep_argv(op, argc, argv, lens) != 0) {
		free(op);
		return -ENOMEM;
	}
	if (redisAsyncCommandArgv(ac, on_reply, op, argc, argv, lens) != REDIS_OK) {
		free(op->argv);
		free(op);
		return -ENOTCONN;
	}
	op->prev = r->ops_tail;
	if (r->ops_tail)
		r->ops_tail->next = op;
	else
		r->ops_head = op;
	r->ops_tail = op;
	r->inflight++;
	if (j)
		j->ops++;
	r->st.sent++;
	return 0;
}

int tp_rds_cmd(struct tp_redis *r, struct rjob *j, tp_rds_reply_fn fn, void *data, int argc,
               const char **argv, const size_t *lens)
{
	if (r->state != TP_RDS_UP)
		return -ENOTCONN;
	return send_on(r, r->main, j, fn, data, -1, argc, argv, lens);
}

int tp_rds_cmd_owned(struct tp_redis *r, struct rjob *j, tp_rds_reply_fn fn, void *data,
                     void (*data_free)(void *), int argc, const char **argv,
                     const size_t *lens)
{
	int rc = tp_rds_cmd(r, j, fn, data, argc, argv, lens);

	if (rc == 0)
		r->ops_tail->data_free = data_free;
	return rc;
}

int tp_rds_eval(struct tp_redis *r, struct rjob *j, tp_rds_reply_fn fn, void *data,
                enum tp_rds_script s, int nkeys, int argc, const char **argv,
                const size_t *lens)
{
	const char *av[64];
	size_t lv[64];
	char nk[16];

	if (r->state != TP_RDS_UP)
		return -ENOTCONN;
	if (argc + 3 > 64)
		return -E2BIG;
	snprintf(nk, sizeof(nk), "%d", nkeys);
	av[0] = "EVALSHA";
	lv[0] = 7;
	av[1] = r->sha[s];
	lv[1] = 40;
	av[2] = nk;
	lv[2] = strlen(nk);
	for (int i = 0; i < argc; i++) {
		av[3 + i] = argv[i];
		lv[3 + i] = lens ? lens[i] : strlen(argv[i]);
	}
	return send_on(r, r->main, j, fn, data, (int)s, argc + 3, av, lv);
}

/* ---- the link ------------------------------------------------------------- */

static void link_start(struct tp_redis *r);

__attribute__((format(printf, 2, 3)))
static void link_down(struct tp_redis *r, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	if (r->state == TP_RDS_IDLE)
		return;
	r->state = TP_RDS_IDLE;
	r->gen++;
	r->hs_pending = 0;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (!r->logged_down) {
		rlog(r, TP_LOG_WARN, "down: %s; reconnecting with backoff (%u ms to %u ms)", why,
		     r->o.backoff_min_ms, r->o.backoff_max_ms);
		r->logged_down = true;
		r->st.downs++;
	} else {
		rlog(r, TP_LOG_DEBUG, "still down: %s", why);
	}
	event_active(&r->ev_teardown, EV_TIMEOUT, 1);
}

static void link_up(struct tp_redis *r)
{
	r->state = TP_RDS_UP;
	r->backoff_ms = r->o.backoff_min_ms;
	r->last_ping_ms = tp_rds_now_ms();
	r->logged_down = false;
	r->st.ups++;
	rlog(r, TP_LOG_INFO, "up: %s, node %s", r->where, r->o.node);
	tp_rds_userdb_kick(r, 0);
	tp_rds_loads_on_up(r);
}

static void hs_step(struct tp_redis *r)
{
	if (r->state == TP_RDS_HANDSHAKE && r->hs_pending > 0 && --r->hs_pending == 0)
		link_up(r);
}

enum { HS_AUTH = 100, HS_SELECT, HS_SCRIPT = 200 };

static void hs_reply(struct rop *op, const redisReply *rep)
{
	struct tp_redis *r = op->r;
	int step = (int)(intptr_t)op->data;

	if (op->gen != r->gen || r->state != TP_RDS_HANDSHAKE || !rep)
		return;     /* a NULL reply: the disconnect callback says why */
	if (rep->type == REDIS_REPLY_ERROR) {
		link_down(r, "%s refused: %s", step == HS_AUTH ? "AUTH" :
		          step == HS_SELECT ? "SELECT" : "SCRIPT LOAD", rep->str);
		return;
	}
	if (step >= HS_SCRIPT && (rep->type != REDIS_REPLY_STRING ||
	                          strcmp(rep->str, r->sha[step - HS_SCRIPT]) != 0)) {
		link_down(r, "SCRIPT LOAD answered something else than the script's SHA-1");
		return;
	}
	hs_step(r);
}

static int hs_send(struct tp_redis *r, redisAsyncContext *ac, int step, int argc,
                   const char **argv, const size_t *lens)
{
	int rc = send_on(r, ac, NULL, hs_reply, (void *)(intptr_t)step, -1, argc, argv, lens);

	if (rc == 0)
		r->hs_pending++;
	return rc;
}

static int hs_auth(struct tp_redis *r, redisAsyncContext *ac)
{
	const struct tp_redis_url *u = &r->o.url;
	const char *argv[3] = { "AUTH", u->user, u->password };

	if (!u->password[0])
		return 0;
	if (u->user[0])
		return hs_send(r, ac, HS_AUTH, 3, argv, NULL);
	argv[1] = u->password;
	return hs_send(r, ac, HS_AUTH, 2, argv, NULL);
}

/* Subscriber messages; also the (p)subscribe confirmations of the handshake. */
static void sub_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct tp_redis *r = priv;
	const redisReply *rep = reply;

	if (!rep || ac != r->sub || rep->type != REDIS_REPLY_ARRAY || rep->elements < 3)
		return;
	for (size_t i = 0; i < rep->elements; i++)
		if (rep->element[i]->type != REDIS_REPLY_STRING &&
		    rep->element[i]->type != REDIS_REPLY_INTEGER)
			return;
	const char *kind = rep->element[0]->str;
	if (!kind)
		return;
	if (strcmp(kind, "subscribe") == 0 || strcmp(kind, "psubscribe") == 0)
		hs_step(r);
	else if (strcmp(kind, "message") == 0 && rep->elements == 3 && rep->element[2]->str)
		tp_rds_on_message(r, rep->element[1]->str, rep->element[1]->len,
		                  rep->element[2]->str, rep->element[2]->len);
	else if (strcmp(kind, "pmessage") == 0 && rep->elements == 4 && rep->element[3]->str)
		tp_rds_on_message(r, rep->element[2]->str, rep->element[2]->len,
		                  rep->element[3]->str, rep->element[3]->len);
}

/* The pattern of keyspace notifications for the realm's userdb keys: the
 * realm with the glob characters escaped. */
static size_t keyspace_pattern(const struct tp_redis *r, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "__keyspace@%u__:turn/realm/", r->o.url.db);
	size_t o = n > 0 ? (size_t)n : 0;

	for (const char *p = r->o.realm; *p && o + 4 < cap; p++) {
		if (strchr("*?[]\\", *p))
			buf[o++] = '\\';
		buf[o++] = *p;
	}
	if (o + 3 > cap)
		return 0;
	buf[o++] = '/';
	buf[o++] = '*';
	buf[o] = '\0';
	return o;
}

static int handshake(struct tp_redis *r)
{
	char db[16], pat[TP_MAX_REALM * 2 + 64];
	const char *sel[2] = { "SELECT", db };
	int rc;

	snprintf(db, sizeof(db), "%u", r->o.url.db);
	if ((rc = hs_auth(r, r->main)) || (r->o.url.db && (rc = hs_send(r, r->main, HS_SELECT, 2,
	                                                                  sel, NULL))))
		return rc;
	for (int s = 0; s < TP_RDS_NSCRIPTS; s++) {
		const char *argv[3] = { "SCRIPT", "LOAD", tp_rds_script_text((enum tp_rds_script)s) };
		if ((rc = hs_send(r, r->main, HS_SCRIPT + s, 3, argv, NULL)))
			return rc;
	}
	if ((rc = hs_auth(r, r->sub)))
		return rc;
	const char *subv[3] = { "SUBSCRIBE", TP_RDS_CHAN_KILL, TP_RDS_CHAN_USERDB };
	if (redisAsyncCommandArgv(r->sub, sub_cb, r, 3, subv, NULL) != REDIS_OK)
		return -ENOTCONN;
	r->hs_pending += 2;
	if (r->o.realm[0]) {
		size_t n = keyspace_pattern(r, pat, sizeof(pat));
		const char *pv[2] = { "PSUBSCRIBE", pat };
		size_t pl[2] = { 10, n };
		if (n == 0 || redisAsyncCommandArgv(r->sub, sub_cb, r, 2, pv, pl) != REDIS_OK)
			return -ENOTCONN;
		r->hs_pending++;
	}
	return 0;
}

static void on_connect(const redisAsyncContext *ac, int status)
{
	struct tp_redis *r = ac->data;

	if (status == REDIS_OK)
		return;
	if (ac == r->main)
		r->main = NULL;         /* hiredis frees it after this returns */
	else if (ac == r->sub)
		r->sub = NULL;
	else
		return;
	link_down(r, "cannot connect to %s: %s", r->where, ac->errstr);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
	struct tp_redis *r = ac->data;

	if (ac == r->main)
		r->main = NULL;
	else if (ac == r->sub)
		r->sub = NULL;
	else
		return;                 /* one we freed ourselves */
	if (status == REDIS_OK)
		link_down(r, "connection to %s closed", r->where);
	else
		link_down(r, "connection to %s lost: %s", r->where, ac->errstr);
}

static redisAsyncContext *open_ctx(struct tp_redis *r, const char *ip, char *why, size_t cap)
{
	redisAsyncContext *ac = r->o.url.is_unix ? redisAsyncConnectUnix(r->o.url.path)
	                                         : redisAsyncConnect(ip, r->o.url.port);

	if (!ac) {
		snprintf(why, cap, "out of memory");
		return NULL;
	}
	if (ac->err) {
		snprintf(why, cap, "cannot connect to %s: %s", r->where, ac->errstr);
		redisAsyncFree(ac);
		return NULL;
	}
	if (!r->o.url.is_unix)
		redisEnableKeepAlive(&ac->c);
	ac->data = r;
	if (redisLibeventAttach(ac, r->base) != REDIS_OK) {
		snprintf(why, cap, "cannot attach to the event loop");
		redisAsyncFree(ac);
		return NULL;
	}
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	return ac;
}

static void link_connect(struct tp_redis *r, const char *ip)
{
	char why[400];

	r->state = TP_RDS_HANDSHAKE;
	r->since_ms = tp_rds_now_ms();
	r->hs_pending = 0;
	if (!(r->main = open_ctx(r, ip, why, sizeof(why))) ||
	    !(r->sub = open_ctx(r, ip, why, sizeof(why)))) {
		link_down(r, "%s", why);
		return;
	}
	if (handshake(r) != 0)
		link_down(r, "cannot queue the handshake");
}

/* ---- host names, resolved by a short-lived thread ------------------------ */

/* Shared by the instance and the resolver thread; the last to let go frees
 * it. The thread writes one byte to its end of a socketpair when done; an
 * instance that gave up has closed the other end (MSG_NOSIGNAL: no SIGPIPE). */
struct tp_rds_dns {
	pthread_mutex_t mu;
	int refs;
	int fd;
	char host[256];
	int rc;
	char ip[INET6_ADDRSTRLEN];
};

static void dns_unref(struct tp_rds_dns *d)
{
	int n;

	pthread_mutex_lock(&d->mu);
	n = --d->refs;
	pthread_mutex_unlock(&d->mu);
	if (n)
		return;
	close(d->fd);
	pthread_mutex_destroy(&d->mu);
	free(d);
}

static void *dns_thread(void *arg)
{
	struct tp_rds_dns *d = arg;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
	char ip[INET6_ADDRSTRLEN] = "";
	int rc = getaddrinfo(d->host, NULL, &hints, &res);

	if (rc == 0) {
		const struct addrinfo *pick = NULL;
		for (const struct addrinfo *a = res; a; a = a->ai_next)
			if (!pick || (a->ai_family == AF_INET && pick->ai_family != AF_INET))
				pick = a;
		if (pick && pick->ai_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)pick->ai_addr)
			          ->sin_addr, ip, sizeof(ip));
		else if (pick)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)pick->ai_addr)
			          ->sin6_addr, ip, sizeof(ip));
		freeaddrinfo(res);
		if (!ip[0])
			rc = EAI_NONAME;
	}
	pthread_mutex_lock(&d->mu);
	d->rc = rc;
	memcpy(d->ip, ip, sizeof(ip));
	pthread_mutex_unlock(&d->mu);
	(void)send(d->fd, "x", 1, MSG_NOSIGNAL);
	dns_unref(d);
	return NULL;
}

static void dns_cancel(struct tp_redis *r)
{
	if (!r->dns)
		return;
	event_del(&r->ev_dns);
	close(r->dns_fd);
	r->dns_fd = -1;
	dns_unref(r->dns);
	r->dns = NULL;
}

static void dns_done(evutil_socket_t fd, short what, void *arg)
{
	struct tp_redis *r = arg;
	struct tp_rds_dns *d = r->dns;
	char ip[INET6_ADDRSTRLEN];
	int rc;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&d->mu);
	rc = d->rc;
	memcpy(ip, d->ip, sizeof(ip));
	pthread_mutex_unlock(&d->mu);
	dns_cancel(r);
	if (r->state != TP_RDS_RESOLVING)
		return;
	if (rc)
		link_down(r, "cannot resolve %s: %s", r->o.url.host, gai_strerror(rc));
	else
		link_connect(r, ip);
}

static void dns_start(struct tp_redis *r)
{
	struct tp_rds_dns *d;
	pthread_attr_t at;
	pthread_t th;
	int sv[2];

	r->state = TP_RDS_RESOLVING;
	r->since_ms = tp_rds_now_ms();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) {
		link_down(r, "cannot resolve %s: socketpair: %s", r->o.url.host, strerror(errno));
		return;
	}
	if (!(d = calloc(1, sizeof(*d)))) {
		close(sv[0]);
		close(sv[1]);
		link_down(r, "cannot resolve %s: out of memory", r->o.url.host);
		return;
	}
	pthread_mutex_init(&d->mu, NULL);
	d->refs = 2;
	d->fd = sv[1];
	snprintf(d->host, sizeof(d->host), "%s", r->o.url.host);
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	int e = pthread_create(&th, &at, dns_thread, d);
	pthread_attr_destroy(&at);
	if (e != 0) {
		d->refs = 1;
		dns_unref(d);
		close(sv[0]);
		link_down(r, "cannot resolve %s: no thread: %s", r->o.url.host, strerror(e));
		return;
	}
	r->dns = d;
	r->dns_fd = sv[0];
	event_assign(&r->ev_dns, r->base, sv[0], EV_READ, dns_done, r);
	event_add(&r->ev_dns, NULL);
}

static void link_start(struct tp_redis *r)
{
	struct in6_addr a;

	if (r->closing)
		return;
	r->since_ms = tp_rds_now_ms();
	if (r->o.url.is_unix || inet_pton(AF_INET, r->o.url.host, &a) == 1 ||
	    inet_pton(AF_INET6, r->o.url.host, &a) == 1)
		link_connect(r, r->o.url.host);
	else
		dns_start(r);
}

/* ---- timers ---------------------------------------------------------------- */

static uint32_t jitter(struct tp_redis *r, uint32_t ms)
{
	/* 75% .. 125%, so nodes that lost Redis together do not come back in step */
	uint64_t x = (uint64_t)(uintptr_t)r ^ tp_rds_now_ms() * 0x9E3779B97F4A7C15ull;

	x ^= x >> 29;
	return (uint32_t)(ms * 3 / 4 + x % (ms / 2 + 1));
}

static void teardown_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tp_redis *r = arg;
	redisAsyncContext *m = r->main, *s = r->sub;
	struct timeval tv;

	(void)fd;
	(void)what;
	r->main = r->sub = NULL;
	dns_cancel(r);
	if (m)
		redisAsyncFree(m);
	if (s)
		redisAsyncFree(s);
	if (r->closing || r->state != TP_RDS_IDLE)
		return;
	tv = ms_tv(jitter(r, r->backoff_ms));
	event_add(&r->ev_retry, &tv);
	r->backoff_ms = r->backoff_ms > r->o.backoff_max_ms / 2 ? r->o.backoff_max_ms
	                                                       : r->backoff_ms * 2;
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tp_redis *r = arg;

	(void)fd;
	(void)what;
	if (r->state == TP_RDS_IDLE)
		link_start(r);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tp_redis *r = arg;
	uint64_t now = tp_rds_now_ms();
	const char *ping[1] = { "PING" };

	(void)fd;
	(void)what;
	if ((r->state == TP_RDS_RESOLVING || r->state == TP_RDS_HANDSHAKE) &&
	    now - r->since_ms > r->o.stall_ms) {
		link_down(r, "%s did not answer within %u ms of connecting", r->where,
		          r->o.stall_ms);
		return;
	}
	if (r->state != TP_RDS_UP)
		return;
	if (r->ops_head && now - r->ops_head->sent_ms > r->o.stall_ms) {
		link_down(r, "no reply from %s for %u ms", r->where, r->o.stall_ms);
		return;
	}
	if (now - r->last_ping_ms >= r->o.heartbeat_ms) {
		r->last_ping_ms = now;
		tp_rds_cmd(r, NULL, NULL, NULL, 1, ping, NULL);
	}
}

/* ---- the instance ----------------------------------------------------------- */

static int check_opts(const struct tp_redis_opts *o, const char **why)
{
	if (o->url.is_unix ? !o->url.path[0] : !o->url.host[0] || !o->url.port)
		*why = "no Redis address";
	else if (!tp_redis_node_ok(o->node))
		*why = "bad node id (expected 1..64 of A-Z a-z 0-9 . - _)";
	else if (!o->timeout_ms || !o->admin_timeout_ms || !o->heartbeat_ms || !o->stall_ms)
		*why = "a zero timeout";
	else if (!o->backoff_min_ms || o->backoff_min_ms > o->backoff_max_ms)
		*why = "bad backoff (expected 0 < min <= max)";
	else if (!o->max_inflight || !o->list_max)
		*why = "zero max_inflight or list_max";
	else
		return 0;
	return -EINVAL;
}

struct tp_redis *tp_redis_create(struct event_base *base, const struct tp_redis_opts *o,
                                 char *err, size_t errlen)
{
	struct tp_redis *r;
	const char *why = NULL;
	uint32_t tick;
	struct timeval tv;

	if (!base || check_opts(o, &why) != 0) {
		snprintf(err, errlen, "redis: %s", why ? why : "no event loop");
		return NULL;
	}
	if (!(r = calloc(1, sizeof(*r)))) {
		snprintf(err, errlen, "redis: out of memory");
		return NULL;
	}
	r->base = base;
	r->o = *o;
	r->dns_fd = -1;
	r->backoff_ms = o->backoff_min_ms;
	snprintf(r->label, sizeof(r->label), "redis%s%.30s%s", o->name[0] ? " (" : "", o->name,
	         o->name[0] ? ")" : "");
	if (o->url.is_unix)
		snprintf(r->where, sizeof(r->where), "unix:%s db %u", o->url.path, o->url.db);
	else
		snprintf(r->where, sizeof(r->where), strchr(o->url.host, ':') ? "[%s]:%u db %u"
		         : "%s:%u db %u", o->url.host, o->url.port, o->url.db);
	for (int s = 0; s < TP_RDS_NSCRIPTS; s++) {
		const char *t = tp_rds_script_text((enum tp_rds_script)s);
		uint8_t md[EVP_MAX_MD_SIZE];
		unsigned mdlen = 0;
		EVP_Digest(t, strlen(t), md, &mdlen, EVP_sha1(), NULL);
		for (unsigned i = 0; i < 20 && i < mdlen; i++)
			snprintf(r->sha[s] + 2 * i, 3, "%02x", md[i]);
	}
	event_assign(&r->ev_tick, base, -1, EV_PERSIST, tick_cb, r);
	event_assign(&r->ev_retry, base, -1, 0, retry_cb, r);
	event_assign(&r->ev_teardown, base, -1, 0, teardown_cb, r);
	tick = o->heartbeat_ms < o->stall_ms / 4 ? o->heartbeat_ms : o->stall_ms / 4;
	tick = tick > 250 ? 250 : tick < 10 ? 10 : tick;
	tv = ms_tv(tick);
	event_add(&r->ev_tick, &tv);
	tp_rds_userdb_init(r);
	tp_rds_loads_init(r);
	rlog(r, TP_LOG_INFO, "connecting to %s as node %s", r->where, o->node);
	link_start(r);
	return r;
}

void tp_redis_free(struct tp_redis *r)
{
	redisAsyncContext *m, *s;

	if (!r)
		return;
	if (r->in_cb) {
		tp_err(NULL, "redis: tp_redis_free called from one of its callbacks");
		abort();
	}
	r->closing = true;
	r->state = TP_RDS_IDLE;
	r->gen++;
	event_del(&r->ev_tick);
	event_del(&r->ev_retry);
	event_del(&r->ev_teardown);
	/* every result still owed: -ECANCELED (callbacks may start new ones,
	 * which fail and are cancelled in turn) */
	for (;;) {
		struct rjob *j = r->jobs;
		while (j && j->done)
			j = j->next;
		if (!j)
			break;
		tp_rds_job_done(j, -ECANCELED);
	}
	dns_cancel(r);
	m = r->main;
	s = r->sub;
	r->main = r->sub = NULL;
	if (m)
		redisAsyncFree(m);  /* calls back its commands with NULL: they go */
	if (s)
		redisAsyncFree(s);
	while (r->jobs) {           /* none should be left; be safe */
		struct rjob *j = r->jobs;
		r->jobs = j->next;
		event_del(&j->timer);
		if (j->destroy)
			j->destroy(j);
		free(j);
	}
	tp_rds_userdb_fini(r);
	tp_rds_loads_fini(r);
	memset(r->o.url.password, 0, sizeof(r->o.url.password));
	free(r);
}

bool tp_redis_is_up(const struct tp_redis *r)
{
	return r && r->state == TP_RDS_UP;
}

void tp_redis_get_stats(const struct tp_redis *r, struct tp_redis_stats *st)
{
	*st = r->st;
}

/* ---- sync ------------------------------------------------------------------- */

struct sync_job {
	struct rjob j;
	tp_redis_rc_fn cb;
	void *arg;
};

static void sync_finish(struct rjob *j, int rc)
{
	struct sync_job *sj = (struct sync_job *)j;

	sj->cb(sj->arg, rc);
}

static void sync_reply(struct rop *op, const redisReply *rep)
{
	tp_rds_job_done(op->job, !rep ? -ENOTCONN : rep->type == REDIS_REPLY_ERROR ? -EPROTO : 0);
}

void tp_redis_sync(struct tp_redis *r, tp_redis_rc_fn cb, void *arg)
{
	struct sync_job *sj = (struct sync_job *)tp_rds_job_new(r, sizeof(*sj),
	                                                        r->o.admin_timeout_ms,
	                                                        sync_finish, NULL);
	const char *ping[1] = { "PING" };
	int rc;

	if (!sj) {
		cb(arg, -ENOMEM);
		return;
	}
	sj->cb = cb;
	sj->arg = arg;
	if ((rc = tp_rds_cmd(r, &sj->j, sync_reply, NULL, 1, ping, NULL)) != 0)
		tp_rds_job_fail(&sj->j, rc);
}
