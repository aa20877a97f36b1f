/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_redis.c - server/redis*.c against a real redis-server (Debian's),
 * started and stopped by this test by PID (rharness.c), every instance on one
 * event_base as the nodes of a cluster would be on theirs:
 *
 *   - AUTH with a password over TCP (node A) and a unix socket URL with ?db=
 *     (node B) into the same database; a wrong password stays down with one
 *     log line; a host name (localhost) resolved off the loop;
 *   - the cluster-wide quota holds across A and B, a retry is admitted,
 *     release frees a slot, expired entries age out (and the key with them),
 *     refresh keeps an entry, NOSCRIPT after SCRIPT FLUSH falls back to EVAL;
 *   - the session registry: put, list (all / one user / cut at list_max),
 *     del, TTL expiry;
 *   - kill orders reach the instance of the named node only, or every node;
 *   - coturn's userdb written with redis-cli (key, old password layout,
 *     secret set and old secret keys, realm options, another realm, a
 *     malformed key, peer-ip lists): read at connect, then changes picked up
 *     without a restart through keyspace notifications, through the
 *     periodic re-read with notifications off, and through a PUBLISH on
 *     turnpike/userdb; an unchanged userdb re-read without a rebuild;
 *   - node loads and the least loaded other node;
 *   - Redis frozen (SIGSTOP): a quota_take times out at its deadline, the
 *     link goes down after stall_ms, comes back after SIGCONT;
 *   - Redis killed: callbacks within the deadline with -ENOTCONN/-ETIMEDOUT,
 *     is_up false, one "down" line per instance despite the retries, the
 *     users still answered from the snapshot; restarted: reconnects (one "up"
 *     line), the registry refills, the quota works;
 *   - tp_redis_free with a pending operation calls it back with -ECANCELED.
 * Last, a benchmark (printed, never asserted): quota_take latency on
 * loopback over 1,000 calls with the default 5 ms deadline.
 *
 * Exit 77 when redis-server or redis-cli is not installed. ~12 s.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/evp.h>

#include "log.h"
#include "proto.h"
#include "redis.h"
#include "rharness.h"
#include "tp_test.h"

#define PASSWORD "t0p-secret"
#define REALM "example.org"
#define DB 3
#define DB_S "3"

static struct event_base *base;
static struct rh_redis rs;
static char logpath[300];

/* ---- loop helpers ------------------------------------------------------- */

static void spin(unsigned ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/* Run the loop until cond holds or ms pass. */
#define WAIT_UNTIL(cond, ms) \
	for (uint64_t d_ = rh_now_ms() + (ms); !(cond) && rh_now_ms() < d_;) spin(5)

struct res {
	int calls, rc;
	uint64_t at;
};

static void rc_cb(void *arg, int rc)
{
	struct res *x = arg;

	x->calls++;
	x->rc = rc;
	x->at = rh_now_ms();
}

/* One quota_take, waited for: its rc (or -999 if no callback within 3 s). */
static int take(struct tp_redis *r, const char *user, const char *key, uint32_t quota,
                uint32_t ttl)
{
	struct res x = { 0 };

	tp_redis_quota_take(r, user, strlen(user), key, quota, ttl, rc_cb, &x);
	WAIT_UNTIL(x.calls, 3000);
	return x.calls == 1 ? x.rc : -999;
}

static int count(struct tp_redis *r, const char *user)
{
	struct res x = { 0 };

	tp_redis_quota_count(r, user, strlen(user), rc_cb, &x);
	WAIT_UNTIL(x.calls, 3000);
	return x.calls == 1 ? x.rc : -999;
}

static int sync_(struct tp_redis *r)
{
	struct res x = { 0 };

	tp_redis_sync(r, rc_cb, &x);
	WAIT_UNTIL(x.calls, 3000);
	return x.calls == 1 ? x.rc : -999;
}

/* The log (our stderr) so far: how many lines contain needle. */
static int log_count(const char *needle)
{
	FILE *f = fopen(logpath, "r");
	char line[4096];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			n++;
	fclose(f);
	return n;
}

static struct tp_redis *make(const char *name, const char *node, const char *url, bool realm,
                             void (*tweak)(struct tp_redis_opts *))
{
	struct tp_redis_opts o;
	const char *why;
	char err[256];
	struct tp_redis *r;

	tp_redis_opts_default(&o);
	if (tp_redis_url_parse(url, &o.url, &why) != 0) {
		fprintf(stderr, "url %s: %s\n", url, why);
		return NULL;
	}
	snprintf(o.node, sizeof(o.node), "%s", node);
	snprintf(o.name, sizeof(o.name), "%s", name);
	if (realm)
		snprintf(o.realm, sizeof(o.realm), "%s", REALM);
	o.timeout_ms = 1000;            /* functional checks: room for ASan and a busy CI */
	o.backoff_max_ms = 800;         /* a restarted Redis is found again quickly */
	if (tweak)
		tweak(&o);
	r = tp_redis_create(base, &o, err, sizeof(err));
	if (!r)
		fprintf(stderr, "create %s: %s\n", name, err);
	return r;
}

/* ---- the cases ---------------------------------------------------------------- */

static void test_quota(struct tp_redis *a, struct tp_redis *b)
{
	struct res x = { 0 };

	/* quota 3 for alice across two nodes */
	CHECK_EQ(take(a, "alice", "a1", 3, 60), 1);
	CHECK_EQ(take(b, "alice", "b1", 3, 60), 1);
	CHECK_EQ(take(a, "alice", "a2", 3, 60), 1);
	CHECK_EQ(take(b, "alice", "b2", 3, 60), 0);     /* a third node's view: full */
	CHECK_EQ(take(a, "alice", "a1", 3, 60), 1);     /* a retry: still admitted */
	CHECK_EQ(count(b, "alice"), 3);
	CHECK_EQ(tp_redis_quota_release(a, "alice", 5, "a2"), 0);
	CHECK_EQ(take(b, "alice", "b2", 3, 60), 1);     /* the released slot */
	CHECK_EQ(take(a, "alice", "a3", 3, 60), 0);
	CHECK_EQ(count(a, "alice"), 3);
	/* the members are "<node>/<alloc_key>" */
	char out[512];
	rh_cli(&rs, DB, out, sizeof(out), "ZRANGE", "turnpike/quota/alice", "0", "-1", NULL);
	CHECK(strstr(out, "nodeA/a1") && strstr(out, "nodeB/b1") && strstr(out, "nodeB/b2") &&
	      !strstr(out, "nodeA/a2"));
	CHECK_EQ(take(a, "erin", "e1", 0, 60), 1);       /* quota 0: no limit */
	CHECK_EQ(take(a, "erin", "e2", 0, 60), 1);

	/* bad arguments: reported through the callback, never synchronously */
	tp_redis_quota_take(a, "alice", 5, NULL, 3, 60, rc_cb, &x);
	CHECK_EQ(x.calls, 0);
	WAIT_UNTIL(x.calls, 1000);
	CHECK_EQ(x.calls, 1);
	CHECK_EQ(x.rc, -EINVAL);
	CHECK_EQ(tp_redis_quota_refresh(a, "alice", 5, "a1", 0), -EINVAL);

	/* NOSCRIPT (scripts flushed, e.g. a failover): EVAL takes over */
	CHECK_EQ(rh_cli(&rs, DB, out, sizeof(out), "SCRIPT", "FLUSH", NULL), 0);
	CHECK_EQ(take(a, "frank", "f1", 1, 60), 1);
	CHECK_EQ(take(b, "frank", "f2", 1, 60), 0);
}

static uint64_t expiry_t0;

/* Entries set to expire in 1 s, checked after the shared wait. */
static void quota_expiry_start(struct tp_redis *a, struct tp_redis *b)
{
	expiry_t0 = rh_now_ms();
	CHECK_EQ(take(a, "bob", "x", 1, 1), 1);
	CHECK_EQ(take(b, "bob", "y", 1, 1), 0);
	CHECK_EQ(take(a, "carol", "c1", 5, 1), 1);
	CHECK_EQ(take(a, "dave", "d1", 1, 1), 1);
	CHECK_EQ(tp_redis_quota_refresh(a, "dave", 4, "d1", 30), 0);   /* kept */
}

static void quota_expiry_check(struct tp_redis *a, struct tp_redis *b)
{
	char out[64];

	CHECK_EQ(take(b, "bob", "y", 1, 60), 1);        /* bob's x aged out */
	CHECK_EQ(count(a, "carol"), 0);
	rh_cli(&rs, DB, out, sizeof(out), "EXISTS", "turnpike/quota/carol", NULL);
	CHECK(strcmp(out, "0") == 0);                   /* the key went with its member */
	CHECK_EQ(take(b, "dave", "d2", 1, 60), 0);      /* refreshed: still counted */
	(void)a;
}

struct listed {
	int calls, rc;
	size_t n;
	struct tp_redis_session s[16];
	char strs[16][7][64];
};

static void list_cb(void *arg, const struct tp_redis_session *v, size_t n, int rc)
{
	struct listed *l = arg;

	l->calls++;
	l->rc = rc;
	l->n = n;
	for (size_t i = 0; i < n && i < 16; i++) {
		const char *src[7] = { v[i].node, v[i].user, v[i].transport, v[i].client,
		                       v[i].server, v[i].relay4, v[i].relay6 };
		l->s[i] = v[i];
		for (int k = 0; k < 7; k++)
			snprintf(l->strs[i][k], 64, "%s", src[k]);
	}
}

static void list(struct tp_redis *r, const char *user, struct listed *l)
{
	memset(l, 0, sizeof(*l));
	tp_redis_sessions_list(r, user, list_cb, l);
	WAIT_UNTIL(l->calls, 3000);
}

/* The index in l of node's session id, or -1. */
static int find_sess(const struct listed *l, const char *node, uint64_t id)
{
	for (size_t i = 0; i < l->n && i < 16; i++)
		if (l->s[i].id == id && strcmp(l->strs[i][0], node) == 0)
			return (int)i;
	return -1;
}

static struct tp_redis_session sess(uint64_t id, const char *user)
{
	struct tp_redis_session s = {
		.id = id, .user = user, .transport = "udp", .client = "203.0.113.7:5100",
		.server = "198.51.100.2:3478", .relay4 = "198.51.100.2:49170", .relay6 = NULL,
		.started = 1700000000, .bytes_in = 1000 + id, .bytes_out = 2000, .pkts_in = 10,
		.pkts_out = 20,
	};
	return s;
}

static void test_registry(struct tp_redis *a, struct tp_redis *b)
{
	struct listed l;
	struct tp_redis_session s7 = sess(7, "alice"), s8 = sess(8, "bob"), s9 = sess(9, "alice");
	int i;

	CHECK_EQ(tp_redis_session_put(a, &s7, 60), 0);
	CHECK_EQ(tp_redis_session_put(a, &s8, 60), 0);
	CHECK_EQ(tp_redis_session_put(b, &s7, 60), 0);     /* the same id on another node */
	CHECK_EQ(tp_redis_session_put(a, &s9, 1), 0);      /* expires in 1 s */
	s7.id = 0;
	CHECK_EQ(tp_redis_session_put(a, &s7, 60), -EINVAL);
	s7.id = 7;
	CHECK_EQ(sync_(a), 0);
	list(b, NULL, &l);
	CHECK_EQ(l.calls, 1);
	CHECK_EQ(l.rc, 0);
	CHECK_EQ(l.n, 4);
	CHECK((i = find_sess(&l, "nodeA", 7)) >= 0);
	if (i >= 0) {
		CHECK(strcmp(l.strs[i][1], "alice") == 0 && strcmp(l.strs[i][2], "udp") == 0 &&
		      strcmp(l.strs[i][3], "203.0.113.7:5100") == 0 &&
		      strcmp(l.strs[i][4], "198.51.100.2:3478") == 0 &&
		      strcmp(l.strs[i][5], "198.51.100.2:49170") == 0 && l.strs[i][6][0] == '\0');
		CHECK(l.s[i].started == 1700000000 && l.s[i].bytes_in == 1007 &&
		      l.s[i].bytes_out == 2000 && l.s[i].pkts_in == 10 && l.s[i].pkts_out == 20);
	}
	CHECK(find_sess(&l, "nodeB", 7) >= 0 && find_sess(&l, "nodeA", 8) >= 0);
	list(a, "alice", &l);
	CHECK_EQ(l.n, 3);
	CHECK(find_sess(&l, "nodeA", 8) < 0);
	/* updated counters and TTL: put again */
	s8.bytes_out = 99999;
	CHECK_EQ(tp_redis_session_put(a, &s8, 60), 0);
	CHECK_EQ(tp_redis_session_del(b, 7), 0);           /* B's own 7 only */
	list(a, NULL, &l);
	CHECK_EQ(l.n, 3);
	CHECK(find_sess(&l, "nodeB", 7) < 0 && find_sess(&l, "nodeA", 7) >= 0);
	CHECK((i = find_sess(&l, "nodeA", 8)) >= 0 && i >= 0 && l.s[i].bytes_out == 99999);
}

static void registry_check_expiry(struct tp_redis *a, struct tp_redis *t)
{
	struct listed l;

	list(a, NULL, &l);
	CHECK_EQ(l.rc, 0);
	CHECK(find_sess(&l, "nodeA", 9) < 0);              /* its TTL passed */
	CHECK_EQ(l.n, 2);
	list(t, NULL, &l);                                 /* t: list_max 1 */
	CHECK_EQ(l.rc, 1);
	CHECK_EQ(l.n, 1);
}

struct kills {
	int n;
	char user[64];
	uint64_t id;
};

static void kill_cb(void *arg, const char *user, uint64_t id)
{
	struct kills *k = arg;

	k->n++;
	snprintf(k->user, sizeof(k->user), "%s", user ? user : "(any)");
	k->id = id;
}

static void test_kill(struct tp_redis *a, struct tp_redis *b, int subscribers)
{
	struct kills ka = { 0 }, kb = { 0 };
	struct res x = { 0 };

	tp_redis_on_kill(a, kill_cb, &ka);
	tp_redis_on_kill(b, kill_cb, &kb);
	tp_redis_kill_publish(b, "nodeA", "alice", 0, rc_cb, &x);
	WAIT_UNTIL(x.calls && ka.n, 3000);
	CHECK_EQ(x.rc, subscribers);                  /* every instance heard it... */
	CHECK_EQ(ka.n, 1);                            /* ...nodeA's acted */
	CHECK(strcmp(ka.user, "alice") == 0 && ka.id == 0);
	CHECK_EQ(sync_(b), 0);
	CHECK_EQ(kb.n, 0);
	memset(&x, 0, sizeof(x));
	tp_redis_kill_publish(a, NULL, NULL, 42, rc_cb, &x);     /* any node, session 42 */
	WAIT_UNTIL(x.calls && ka.n == 2 && kb.n == 1, 3000);
	CHECK(ka.n == 2 && kb.n == 1 && ka.id == 42 && kb.id == 42 &&
	      strcmp(kb.user, "(any)") == 0);
	memset(&x, 0, sizeof(x));
	tp_redis_kill_publish(a, NULL, NULL, 0, rc_cb, &x);      /* nothing to kill: refused */
	WAIT_UNTIL(x.calls, 1000);
	CHECK_EQ(x.rc, -EINVAL);
	/* a malformed order on the channel is ignored */
	rh_cli(&rs, DB, NULL, 0, "PUBLISH", "turnpike/kill", "garbage", NULL);
	CHECK_EQ(sync_(a), 0);
	spin(50);
	CHECK(ka.n == 2 && kb.n == 1);
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static void digest(const EVP_MD *md, const char *s, uint8_t *out)
{
	unsigned n = 0;

	EVP_Digest(s, strlen(s), out, &n, md, NULL);
}

/* coturn's layout, as turnadmin or a provisioning script writes it. */
static void write_userdb(void)
{
	uint8_t k[16];
	char h[33];

	digest(EVP_md5(), "alice:" REALM ":alicepw", k);
	hex(k, 16, h);
	rh_cli(&rs, DB, NULL, 0, "SET", "turn/realm/" REALM "/user/alice/key", h, NULL);
	rh_cli(&rs, DB, NULL, 0, "SET", "turn/realm/" REALM "/user/bob/password", "bobpw", NULL);
	rh_cli(&rs, DB, NULL, 0, "SADD", "turn/realm/" REALM "/secret", "s1", "s2", NULL);
	rh_cli(&rs, DB, NULL, 0, "SET", "turn/realm/" REALM "/secret/1600000000", "s3", NULL);
	rh_cli(&rs, DB, NULL, 0, "SET", "turn/realm/" REALM "/user-quota", "7", NULL);
	rh_cli(&rs, DB, NULL, 0, "SET", "turn/realm/other.org/user/zed/key", h, NULL);
	rh_cli(&rs, DB, NULL, 0, "SET", "turn/realm/" REALM "/user/mal/key", "nothex", NULL);
	rh_cli(&rs, DB, NULL, 0, "SADD", "turn/realm/" REALM "/denied-peer-ip",
	       "10.0.0.0-10.0.0.255", NULL);
	/* the same in another database: must not be seen */
	rh_cli(&rs, 0, NULL, 0, "SET", "turn/realm/" REALM "/user/other-db/key", h, NULL);
}

static bool has_secret(struct tp_redis *r, const char *s)
{
	const char *const *v;
	size_t n = tp_redis_secrets(r, &v);

	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

static void check_userdb(struct tp_redis *r)
{
	uint8_t k[32], want[32], uh[32];
	const char *name = NULL;
	size_t len = 0;
	uint64_t v = 0;

	CHECK_EQ(tp_redis_users_count(r), 2);
	digest(EVP_md5(), "alice:" REALM ":alicepw", want);
	CHECK_EQ(tp_redis_user_key(r, "alice", 5, k), 0);
	CHECK_MEM(k, want, 16);
	CHECK_EQ(tp_redis_user_key_sha256(r, "alice", 5, k), -ENOKEY);
	digest(EVP_md5(), "bob:" REALM ":bobpw", want);
	CHECK_EQ(tp_redis_user_key(r, "bob", 3, k), 0);
	CHECK_MEM(k, want, 16);
	digest(EVP_sha256(), "bob:" REALM ":bobpw", want);
	CHECK_EQ(tp_redis_user_key_sha256(r, "bob", 3, k), 0);
	CHECK_MEM(k, want, 32);
	digest(EVP_sha256(), "bob:" REALM, uh);
	CHECK_EQ(tp_redis_user_by_hash(r, uh, &name, &len), 0);
	CHECK(len == 3 && name && memcmp(name, "bob", 3) == 0);
	CHECK_EQ(tp_redis_user_key(r, "bo", 2, k), -ENOENT);
	CHECK_EQ(tp_redis_user_key(r, "zed", 3, k), -ENOENT);       /* another realm */
	CHECK_EQ(tp_redis_user_key(r, "mal", 3, k), -ENOENT);       /* malformed key */
	CHECK_EQ(tp_redis_user_key(r, "other-db", 8, k), -ENOENT);
	const char *const *sv;
	CHECK_EQ(tp_redis_secrets(r, &sv), 3);
	CHECK(has_secret(r, "s1") && has_secret(r, "s2") && has_secret(r, "s3"));
	CHECK_EQ(tp_redis_realm_opt(r, TP_REDIS_USER_QUOTA, &v), 0);
	CHECK_EQ(v, 7);
	CHECK_EQ(tp_redis_realm_opt(r, TP_REDIS_MAX_BPS, &v), -ENOENT);
}

static bool has_user(struct tp_redis *r, const char *name)
{
	uint8_t k[16];

	return tp_redis_user_key(r, name, strlen(name), k) == 0;
}

/* a: notifications only (no periodic re-read); b: re-read every 300 ms. */
static void test_userdb_changes(struct tp_redis *a, struct tp_redis *b)
{
	uint8_t k[16];
	char h[33];
	uint64_t va, t0;

	struct tp_redis_stats st0, st1;
	uint64_t vb = tp_redis_userdb_version(b);

	/* b re-reads every 300 ms; nothing changed: no new snapshot is built */
	tp_redis_get_stats(b, &st0);
	spin(700);
	tp_redis_get_stats(b, &st1);
	CHECK(st1.userdb_reads >= st0.userdb_reads + 2);
	CHECK_EQ(tp_redis_userdb_version(b), vb);

	digest(EVP_md5(), "carol:" REALM ":c", k);
	hex(k, 16, h);
	/* keyspace notification */
	va = tp_redis_userdb_version(a);
	t0 = rh_now_ms();
	rh_cli(&rs, DB, NULL, 0, "SET", "turn/realm/" REALM "/user/carol/key", h, NULL);
	WAIT_UNTIL(has_user(a, "carol") && has_user(b, "carol"), 5000);
	CHECK(has_user(a, "carol"));
	CHECK(has_user(b, "carol"));
	CHECK(tp_redis_userdb_version(a) > va);
	printf("userdb change seen by a notified instance after %llu ms\n",
	       (unsigned long long)(rh_now_ms() - t0));
	rh_cli(&rs, DB, NULL, 0, "SREM", "turn/realm/" REALM "/secret", "s2", NULL);
	WAIT_UNTIL(!has_secret(a, "s2"), 5000);
	CHECK(!has_secret(a, "s2") && has_secret(a, "s1"));
	rh_cli(&rs, DB, NULL, 0, "DEL", "turn/realm/" REALM "/user/alice/key", NULL);
	WAIT_UNTIL(!has_user(a, "alice"), 5000);
	CHECK(!has_user(a, "alice"));

	/* no notifications: b's periodic re-read sees a change, a does not */
	CHECK_EQ(rh_cli(&rs, DB, NULL, 0, "CONFIG", "SET", "notify-keyspace-events", "", NULL), 0);
	rh_cli(&rs, DB, NULL, 0, "SET", "turn/realm/" REALM "/user/dan/password", "d", NULL);
	WAIT_UNTIL(has_user(b, "dan"), 5000);
	CHECK(has_user(b, "dan"));
	spin(400);
	CHECK(!has_user(a, "dan"));
	/* an explicit nudge on turnpike/userdb */
	rh_cli(&rs, DB, NULL, 0, "PUBLISH", "turnpike/userdb", "reload", NULL);
	WAIT_UNTIL(has_user(a, "dan"), 5000);
	CHECK(has_user(a, "dan"));
	rh_cli(&rs, DB, NULL, 0, "CONFIG", "SET", "notify-keyspace-events", "K$gs", NULL);
	CHECK_EQ(log_count("userdb: 1 entries skipped"), 5);    /* once per instance */
	CHECK(log_count("denied-peer-ip in turn/realm/" REALM "/ are not applied") >= 2);
}

static void test_loads(struct tp_redis *a, struct tp_redis *b, struct tp_redis *c)
{
	char addr[64] = "";

	CHECK_EQ(tp_redis_least_loaded(a, addr, sizeof(addr)), -ENOENT);
	CHECK_EQ(tp_redis_load_publish(a, "192.0.2.1:3478", 10, 5000, 30), 0);
	CHECK_EQ(tp_redis_load_publish(b, "192.0.2.2:3478", 5, 9000, 30), 0);
	CHECK_EQ(tp_redis_load_publish(c, "192.0.2.3:3478", 5, 1000, 1), 0);  /* 1 s */
	CHECK_EQ(tp_redis_load_publish(a, "bad addr", 1, 1, 30), -EINVAL);
	WAIT_UNTIL(tp_redis_least_loaded(a, addr, sizeof(addr)) == 0 &&
	           strcmp(addr, "192.0.2.3:3478") == 0, 3000);
	CHECK(strcmp(addr, "192.0.2.3:3478") == 0);      /* fewest allocations, then bytes/s */
	CHECK_EQ(tp_redis_least_loaded(a, addr, 4), -ENOSPC);
}

static void loads_check_expiry(struct tp_redis *a)
{
	char addr[64] = "";

	WAIT_UNTIL(tp_redis_least_loaded(a, addr, sizeof(addr)) == 0 &&
	           strcmp(addr, "192.0.2.2:3478") == 0, 3000);
	CHECK(strcmp(addr, "192.0.2.2:3478") == 0);      /* c's load expired */
}

static void tweak_poll(struct tp_redis_opts *o)
{
	o->userdb_refresh_ms = 300;
}

static void tweak_notify_only(struct tp_redis_opts *o)
{
	o->userdb_refresh_ms = 0;
	o->loads_refresh_ms = 100;
}

static void tweak_list1(struct tp_redis_opts *o)
{
	o->list_max = 1;
}

static void tweak_stall(struct tp_redis_opts *o)
{
	o->timeout_ms = 50;
	o->stall_ms = 600;
	o->heartbeat_ms = 100;
}

/* SIGSTOP: a take times out at its deadline; the link is declared down
 * after stall_ms; SIGCONT: up again. */
static void test_frozen(struct tp_redis *s)
{
	struct res x = { 0 };
	uint64_t t0;
	int downs = log_count("redis (S): down");

	CHECK(tp_redis_is_up(s));
	rh_freeze(&rs, true);
	t0 = rh_now_ms();
	tp_redis_quota_take(s, "gina", 4, "g1", 1, 60, rc_cb, &x);
	WAIT_UNTIL(x.calls, 3000);
	CHECK_EQ(x.calls, 1);
	CHECK_EQ(x.rc, -ETIMEDOUT);
	CHECK(x.at - t0 >= 45 && x.at - t0 < 50 + 1000);  /* the deadline, not the stall */
	printf("frozen Redis: quota_take answered -ETIMEDOUT after %llu ms (deadline 50)\n",
	       (unsigned long long)(x.at - t0));
	WAIT_UNTIL(!tp_redis_is_up(s), 3000);
	CHECK(!tp_redis_is_up(s));
	printf("frozen Redis: link down after %llu ms (stall_ms 600)\n",
	       (unsigned long long)(rh_now_ms() - t0));
	memset(&x, 0, sizeof(x));
	tp_redis_quota_take(s, "gina", 4, "g1", 1, 60, rc_cb, &x);
	WAIT_UNTIL(x.calls, 1000);
	CHECK_EQ(x.rc, -ENOTCONN);
	rh_freeze(&rs, false);
	WAIT_UNTIL(tp_redis_is_up(s), 5000);
	CHECK(tp_redis_is_up(s));
	CHECK_EQ(log_count("redis (S): down"), downs + 1);
	CHECK_EQ(take(s, "gina", "g1", 1, 60), 1);
}

/* Redis killed, then restarted on the same port and socket. */
static void test_outage(struct tp_redis *a, struct tp_redis *b)
{
	struct res x = { 0 }, y = { 0 };
	struct listed l;
	uint64_t t0;
	int up_a = log_count("redis (A): up"), up_b = log_count("redis (B): up");
	struct tp_redis_session s = sess(11, "alice");

	CHECK_EQ(log_count("redis (A): down"), 0);
	rh_kill(&rs);
	t0 = rh_now_ms();
	tp_redis_quota_take(a, "alice", 5, "k1", 3, 60, rc_cb, &x);
	tp_redis_quota_take(b, "alice", 5, "k2", 3, 60, rc_cb, &y);
	WAIT_UNTIL(x.calls && y.calls, 3000);
	CHECK(x.calls == 1 && y.calls == 1);
	CHECK(x.rc == -ENOTCONN || x.rc == -ETIMEDOUT);
	CHECK(y.rc == -ENOTCONN || y.rc == -ETIMEDOUT);
	CHECK(x.at - t0 <= 1000 + 500 && y.at - t0 <= 1000 + 500);  /* within the deadline */
	WAIT_UNTIL(!tp_redis_is_up(a) && !tp_redis_is_up(b), 3000);
	CHECK(!tp_redis_is_up(a) && !tp_redis_is_up(b));
	/* now everything fails at once (on the next loop turn) */
	memset(&x, 0, sizeof(x));
	t0 = rh_now_ms();
	tp_redis_quota_take(a, "alice", 5, "k1", 3, 60, rc_cb, &x);
	CHECK_EQ(x.calls, 0);
	WAIT_UNTIL(x.calls, 1000);
	CHECK_EQ(x.rc, -ENOTCONN);
	printf("Redis down: quota_take answered -ENOTCONN after %llu ms\n",
	       (unsigned long long)(x.at - t0));
	CHECK_EQ(tp_redis_quota_refresh(a, "alice", 5, "a1", 60), -ENOTCONN);
	CHECK_EQ(tp_redis_session_put(a, &s, 60), -ENOTCONN);
	list(a, NULL, &l);
	CHECK_EQ(l.rc, -ENOTCONN);
	/* the users stay served from the snapshot */
	CHECK(has_user(a, "bob") && has_user(b, "bob"));
	spin(1500);                                 /* several reconnection attempts */
	CHECK_EQ(log_count("redis (A): down"), 1);
	CHECK_EQ(log_count("redis (B): down"), 1);
	CHECK(has_user(a, "bob"));

	CHECK_EQ(rh_start(&rs), 0);
	t0 = rh_now_ms();
	WAIT_UNTIL(tp_redis_is_up(a) && tp_redis_is_up(b), 5000);
	CHECK(tp_redis_is_up(a) && tp_redis_is_up(b));
	printf("Redis back: both instances up after %llu ms\n",
	       (unsigned long long)(rh_now_ms() - t0));
	CHECK_EQ(log_count("redis (A): up"), up_a + 1);
	CHECK_EQ(log_count("redis (B): up"), up_b + 1);
	/* an empty Redis (no persistence here): the registry refills with puts */
	CHECK_EQ(tp_redis_session_put(a, &s, 60), 0);
	CHECK_EQ(tp_redis_quota_refresh(a, "alice", 5, "a1", 60), 0);  /* re-enters the count */
	CHECK_EQ(sync_(a), 0);
	list(b, NULL, &l);
	CHECK_EQ(l.n, 1);
	CHECK(find_sess(&l, "nodeA", 11) >= 0);
	CHECK_EQ(count(b, "alice"), 1);
	CHECK_EQ(take(b, "alice", "b9", 2, 60), 1);
	CHECK_EQ(take(a, "alice", "a9", 2, 60), 0);
	/* the empty userdb is the truth now */
	WAIT_UNTIL(tp_redis_users_count(a) == 0, 3000);
	CHECK_EQ(tp_redis_users_count(a), 0);
}

static void test_bad_password(void)
{
	char url[400];
	struct tp_redis *w;

	snprintf(url, sizeof(url), "redis://:wrong@127.0.0.1:%u/0", rs.port);
	w = make("W", "nodeW", url, false, NULL);
	CHECK(w != NULL);
	if (!w)
		return;
	spin(800);
	CHECK(!tp_redis_is_up(w));
	CHECK_EQ(log_count("redis (W): down: AUTH refused"), 1);
	CHECK_EQ(take(w, "x", "y", 1, 1), -ENOTCONN);
	tp_redis_free(w);
}

static void test_hostname(void)
{
	char url[400];
	struct tp_redis *h;

	snprintf(url, sizeof(url), "redis://:%s@localhost:%u/" DB_S, PASSWORD, rs.port);
	h = make("H", "nodeH", url, false, NULL);
	CHECK(h != NULL);
	if (!h)
		return;
	WAIT_UNTIL(tp_redis_is_up(h), 3000);
	CHECK(tp_redis_is_up(h));
	CHECK_EQ(take(h, "hank", "h1", 1, 60), 1);
	tp_redis_free(h);
}

static void test_free_pending(struct tp_redis *a)
{
	struct res x = { 0 };
	struct tp_redis_opts o;
	char err[128];
	struct tp_redis *r;

	(void)a;
	tp_redis_opts_default(&o);
	snprintf(o.url.host, sizeof(o.url.host), "127.0.0.1");
	o.url.port = rs.port;
	snprintf(o.url.password, sizeof(o.url.password), PASSWORD);
	snprintf(o.node, sizeof(o.node), "nodeF");
	r = tp_redis_create(base, &o, err, sizeof(err));
	CHECK(r != NULL);
	if (!r)
		return;
	tp_redis_quota_take(r, "x", 1, "y", 1, 60, rc_cb, &x);
	tp_redis_free(r);
	CHECK_EQ(x.calls, 1);
	CHECK_EQ(x.rc, -ECANCELED);
	/* bad options */
	o.node[0] = '\0';
	CHECK(tp_redis_create(base, &o, err, sizeof(err)) == NULL && strstr(err, "node"));
}

/* ---- the benchmark ---------------------------------------------------------------- */

static int u64cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void bench(void)
{
	char url[400];
	struct tp_redis *p;
	enum { N = 1000 };
	static uint64_t us[N];
	size_t n = 0, timeouts = 0, other = 0;
	struct timespec t0, t1;

	/* the defaults: the 5 ms deadline of redis-timeout-ms */
	snprintf(url, sizeof(url), "redis://:%s@127.0.0.1:%u/" DB_S, PASSWORD, rs.port);
	struct tp_redis_opts o;
	const char *why;
	char err[128];
	tp_redis_opts_default(&o);
	tp_redis_url_parse(url, &o.url, &why);
	snprintf(o.node, sizeof(o.node), "nodeP");
	snprintf(o.name, sizeof(o.name), "P");
	p = tp_redis_create(base, &o, err, sizeof(err));
	if (!p)
		return;
	WAIT_UNTIL(tp_redis_is_up(p), 3000);
	for (int i = 0; i < N; i++) {
		struct res x = { 0 };
		char key[16];
		snprintf(key, sizeof(key), "k%d", i);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		tp_redis_quota_take(p, "bench", 5, key, 0, 60, rc_cb, &x);
		while (!x.calls)
			event_base_loop(base, EVLOOP_ONCE);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (x.rc == 1)
			us[n++] = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000 +
			          (uint64_t)(t1.tv_nsec - t0.tv_nsec) / 1000;
		else if (x.rc == -ETIMEDOUT)
			timeouts++;
		else
			other++;
	}
	qsort(us, n, sizeof(us[0]), u64cmp);
	if (n)
		printf("bench: quota_take on loopback, %d calls one after the other, deadline 5 ms: "
		       "p50 %llu us, p99 %llu us, max %llu us; %zu timed out, %zu other errors\n",
		       N, (unsigned long long)us[n / 2], (unsigned long long)us[n * 99 / 100],
		       (unsigned long long)us[n - 1], timeouts, other);
	rh_cli(&rs, DB, NULL, 0, "DEL", "turnpike/quota/bench", NULL);
	tp_redis_free(p);
}

/* ---- main ------------------------------------------------------------------------ */

int main(void)
{
	struct tp_redis *a = NULL, *b = NULL, *c = NULL, *s = NULL, *t = NULL;
	char url_a[400], url_b[400];
	int logfd, orig_err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!rh_available()) {
		printf("redis-server or redis-cli not installed: skipped\n");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	if (rh_init(&rs, PASSWORD) != 0 || rh_start(&rs) != 0) {
		printf("cannot start redis-server\n");
		rh_fini(&rs);
		return 1;
	}
	/* our stderr (the log, and CHECK failures) into a file we can read back */
	snprintf(logpath, sizeof(logpath), "%s/test.log", rs.dir);
	orig_err = dup(2);
	logfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
	if (logfd < 0 || orig_err < 0)
		return 1;
	dup2(logfd, 2);
	close(logfd);
	atomic_store(&tp_log_level, TP_LOG_INFO);
	base = event_base_new();

	write_userdb();
	snprintf(url_a, sizeof(url_a), "redis://:%s@127.0.0.1:%u/" DB_S, PASSWORD, rs.port);
	snprintf(url_b, sizeof(url_b), "unix://:%s@%s?db=" DB_S, PASSWORD, rs.sock);
	a = make("A", "nodeA", url_a, true, tweak_notify_only);
	b = make("B", "nodeB", url_b, true, tweak_poll);
	c = make("C", "nodeC", url_a, true, NULL);
	s = make("S", "nodeS", url_a, true, tweak_stall);
	t = make("T", "nodeT", url_b, true, tweak_list1);
	CHECK(a && b && c && s && t);
	if (!(a && b && c && s && t))
		goto out;
	WAIT_UNTIL(tp_redis_is_up(a) && tp_redis_is_up(b) && tp_redis_is_up(c) &&
	           tp_redis_is_up(s) && tp_redis_is_up(t) && tp_redis_userdb_version(a) &&
	           tp_redis_userdb_version(b) && tp_redis_userdb_version(c) &&
	           tp_redis_userdb_version(s) && tp_redis_userdb_version(t), 5000);
	CHECK(tp_redis_is_up(a) && tp_redis_is_up(b) && tp_redis_is_up(c) && tp_redis_is_up(s) &&
	      tp_redis_is_up(t));
	CHECK_EQ(log_count("redis (A): up: 127.0.0.1:"), 1);
	CHECK_EQ(log_count("redis (B): up: unix:"), 1);

	check_userdb(a);                /* read at connect */
	check_userdb(b);
	test_quota(a, b);
	quota_expiry_start(a, b);
	test_registry(a, b);
	test_loads(a, b, c);
	test_kill(a, b, 5);
	test_bad_password();
	test_hostname();
	while (rh_now_ms() < expiry_t0 + 1300)  /* the 1 s entries are gone */
		spin(20);
	quota_expiry_check(a, b);
	registry_check_expiry(a, t);
	loads_check_expiry(a);
	test_userdb_changes(a, b);
	test_frozen(s);
	tp_redis_free(c);
	c = NULL;
	tp_redis_free(t);
	t = NULL;
	tp_redis_free(s);
	s = NULL;
	test_outage(a, b);
	test_free_pending(a);
	bench();
out:
	tp_redis_free(a);
	tp_redis_free(b);
	tp_redis_free(c);
	tp_redis_free(s);
	tp_redis_free(t);
	event_base_free(base);
	/* the log, then the verdict, on the original stderr/stdout */
	fflush(stderr);
	dup2(orig_err, 2);
	{
		FILE *f = fopen(logpath, "r");
		char line[4096];
		while (f && fgets(line, sizeof(line), f))
			fputs(line, stdout);
		if (f)
			fclose(f);
	}
	rh_fini(&rs);
	TP_TEST_END();
}
