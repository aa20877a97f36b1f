/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * redis_priv.h - the state of a tp_redis, shared by redis_link.c (the link:
 * connections, handshake, backoff, commands with deadlines), redis.c (quota,
 * registry, kill orders, node loads) and redis_userdb.c (coturn's userdb
 * snapshot). Private to them.
 *
 * Two units carry every exchange:
 *   - a rop is one command hiredis holds (its privdata) until it calls back,
 *     with the reply or with NULL when the connection goes; it sits in the
 *     instance's in-flight list, oldest first, which is how a stalled Redis is
 *     noticed;
 *   - a rjob is what a caller waits for: a deadline timer, the result
 *     delivered once (finish), and the number of its rops still in hiredis. It
 *     is freed when it is done and the last of them came back, so a late reply
 *     never touches freed memory.
 */
#ifndef TP_REDIS_PRIV_H
#define TP_REDIS_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>

#include "redis.h"

#define TP_RDS_PREFIX "turnpike/"
#define TP_RDS_CHAN_KILL TP_RDS_PREFIX "kill"
#define TP_RDS_CHAN_USERDB TP_RDS_PREFIX "userdb"
#define TP_RDS_MAX_SECRETS 64
#define TP_RDS_MAX_USERS 100000

enum tp_rds_state {
	TP_RDS_IDLE,        /* down: waiting for the backoff timer */
	TP_RDS_RESOLVING,   /* a resolver thread looks the host up */
	TP_RDS_HANDSHAKE,   /* connected: AUTH, SELECT, SCRIPT LOAD, SUBSCRIBE sent */
	TP_RDS_UP,
};

enum tp_rds_script { TP_RDS_QUOTA, TP_RDS_HPUT, TP_RDS_LOADS, TP_RDS_NSCRIPTS };

struct tp_redis;
struct rjob;
struct rop;

/* A reply, or NULL: the connection went before one came. */
typedef void (*tp_rds_reply_fn)(struct rop *op, const redisReply *rep);

struct rop {
	struct tp_redis *r;
	struct rop *prev, *next;      /* r's in-flight list */
	struct rjob *job;             /* NULL: fire and forget */
	tp_rds_reply_fn fn;           /* NULL: nothing to do with the reply */
	void *data;                   /* for fn */
	void (*data_free)(void *);    /* frees data once back, fn called or not */
	uint64_t gen;                 /* the link it was sent on */
	uint64_t sent_ms;
	int script;                   /* enum tp_rds_script for the EVAL fallback, or -1 */
	int argc;                     /* scripts: the EVALSHA argv, one block */
	char **argv;
	size_t *argvlen;
};

struct rjob {
	struct tp_redis *r;
	struct event timer;           /* the deadline, or the deferred early failure */
	struct rjob *prev, *next;     /* r's jobs */
	void (*finish)(struct rjob *j, int rc);   /* once: hand the result over */
	void (*destroy)(struct rjob *j);          /* free what the kind owns; may be NULL */
	unsigned ops;                 /* its rops still in hiredis */
	int early_rc;                 /* a failure known at the start */
	bool done;
};

struct tp_rds_user {
	char *name;
	size_t len;
	uint8_t md5[16];
	uint8_t sha256[32];
	uint8_t hash[32];             /* USERHASH */
	bool has_sha256;
};

struct tp_rds_snapshot {
	struct tp_rds_user *users;    /* sorted by name */
	size_t nusers;
	struct tp_rds_user **by_hash; /* sorted by hash */
	char *secrets[TP_RDS_MAX_SECRETS];
	size_t nsecrets;
	uint64_t opt[3];              /* enum tp_redis_realm_opt */
	bool has_opt[3];
};

struct tp_rds_load {
	char node[TP_REDIS_NODE_MAX + 1];
	char addr[64];
	uint64_t allocs, bps;
};

struct tp_rds_dns;

struct tp_redis {
	struct event_base *base;
	struct tp_redis_opts o;
	char label[48];               /* "redis: worker 0" */
	char where[300];              /* "127.0.0.1:6379 db 0" for log lines */

	enum tp_rds_state state;
	uint64_t gen;                 /* bumped when a link ends */
	redisAsyncContext *main, *sub;
	unsigned hs_pending;          /* handshake replies still expected */
	uint64_t since_ms;            /* the current attempt started */
	uint32_t backoff_ms;
	bool logged_down;             /* "down" logged since the last "up" */
	bool closing;
	int in_cb;                    /* depth of callbacks into the caller */
	uint64_t last_ping_ms;
	struct event ev_tick, ev_retry, ev_teardown;

	struct tp_rds_dns *dns;       /* a lookup in flight */
	int dns_fd;
	struct event ev_dns;

	struct rop *ops_head, *ops_tail;
	unsigned inflight;
	struct rjob *jobs;

	char sha[TP_RDS_NSCRIPTS][41];
	tp_redis_kill_fn kill_fn;
	void *kill_arg;
	struct tp_redis_stats st;

	/* userdb (redis_userdb.c) */
	struct tp_rds_snapshot snap;
	uint64_t snap_version;
	struct rjob *udb_job;         /* a read in flight */
	bool udb_dirty;               /* changed while it ran */
	struct event ev_udb;
	uint8_t udb_key[16];          /* keys the digest (crypto_shorthash) */
	uint64_t udb_digest;          /* of what the snapshot was built from */
	size_t udb_logged_users, udb_logged_secrets, udb_logged_bad, udb_logged_ignored;
	bool udb_logged;

	/* node loads (redis.c) */
	struct tp_rds_load *loads;
	size_t nloads;
	struct event ev_loads;
	bool loads_busy;
};

uint64_t tp_rds_now_ms(void);
const char *tp_rds_script_text(enum tp_rds_script s);

/* Send a command on the command connection: 0, -ENOTCONN (not up), -ENOBUFS
 * (max_inflight reached), -ENOMEM. j may be NULL (fire and forget); fn may be
 * NULL. */
int tp_rds_cmd(struct tp_redis *r, struct rjob *j, tp_rds_reply_fn fn, void *data, int argc,
               const char **argv, const size_t *lens);
/* The same, handing data over: data_free(data) once the command is back (fn
 * called or not, e.g. after the job's deadline). On failure the caller still
 * owns it. */
int tp_rds_cmd_owned(struct tp_redis *r, struct rjob *j, tp_rds_reply_fn fn, void *data,
                     void (*data_free)(void *), int argc, const char **argv,
                     const size_t *lens);
/* EVALSHA of script s with nkeys keys then args (argv without "EVALSHA", sha
 * and numkeys), falling back to EVAL on NOSCRIPT. */
int tp_rds_eval(struct tp_redis *r, struct rjob *j, tp_rds_reply_fn fn, void *data,
                enum tp_rds_script s, int nkeys, int argc, const char **argv,
                const size_t *lens);

/* A job of size bytes (a struct that starts with struct rjob) with a deadline
 * in ms. NULL on out of memory. */
struct rjob *tp_rds_job_new(struct tp_redis *r, size_t size, uint32_t deadline_ms,
                            void (*finish)(struct rjob *, int), void (*destroy)(struct rjob *));
/* Deliver rc now (if not done yet). */
void tp_rds_job_done(struct rjob *j, int rc);
/* Deliver rc on the next loop turn: for failures known at the start. */
void tp_rds_job_fail(struct rjob *j, int rc);

/* Around calls into the caller's callbacks (tp_redis_free refuses to run
 * inside one). */
void tp_rds_cb_enter(struct tp_redis *r);
void tp_rds_cb_leave(struct tp_redis *r);

/* redis.c: a message on the subscriber connection. */
void tp_rds_on_message(struct tp_redis *r, const char *chan, size_t chan_len, const char *msg,
                       size_t msg_len);
/* redis.c: node loads */
void tp_rds_loads_init(struct tp_redis *r);
void tp_rds_loads_on_up(struct tp_redis *r);
void tp_rds_loads_fini(struct tp_redis *r);

/* redis_userdb.c */
void tp_rds_userdb_init(struct tp_redis *r);
/* Read the userdb again in delay_ms (or after the read in flight). */
void tp_rds_userdb_kick(struct tp_redis *r, uint32_t delay_ms);
void tp_rds_userdb_fini(struct tp_redis *r);

/* A key "turnpike/<what>/<a>[/<b>]" in buf (binary-safe: a has alen bytes).
 * Its length, or 0 if it does not fit. */
size_t tp_rds_key(char *buf, size_t cap, const char *what, const char *a, size_t alen,
                  const char *b);

#endif
