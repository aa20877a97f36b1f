/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * redis_userdb.c - coturn's redis userdb, mirrored into a snapshot that the
 * request path reads without ever waiting on Redis.
 *
 * What coturn (src/apps/relay/dbdrivers/dbd_redis.c) keeps for a realm, and
 * what is read here:
 *   turn/realm/<realm>/user/<name>/key       hex of the 16-byte MD5 long-term
 *                                            key MD5(name:realm:password)
 *   turn/realm/<realm>/user/<name>/password  older coturn: the password itself
 *                                            (MD5 and SHA-256 keys derived)
 *   turn/realm/<realm>/secret                set: TURN REST shared secrets
 *   turn/realm/<realm>/secret/<n>            older coturn: one secret a key
 *   turn/realm/<realm>/user-quota, total-quota, max-bps   realm options
 * Not applied (logged when present): turn/realm/<realm>/allowed-peer-ip and
 * denied-peer-ip (coturn's "A-B" ranges; turnpike's are allowed-peer and
 * denied-peer in its configuration). Not read: turn/origin/... (one realm
 * here), turn/oauth/kid/... (no OAuth), turn/admin_user/... (no web admin).
 *
 * A read is one job: SCAN MATCH "turn/realm/<realm>/" + '*' in batches (Redis is
 * never blocked, unlike coturn's KEYS), MGET of each batch's string keys,
 * SMEMBERS of the secret set; the new snapshot replaces the old one only
 * when all of it arrived. A digest of what was read (a sum of keyed hashes,
 * so the order SCAN returns keys in does not matter) tells an unchanged
 * userdb apart: then nothing is rebuilt (at 100,000 users the sorting alone
 * would hold the worker's loop for ~70 ms on each periodic re-read). With a key and a password for one user the key
 * wins; SHA-256 is offered only if the password gives the same MD5 key.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "redis_priv.h"

enum kind { K_NONE, K_KEY, K_PASSWORD, K_SECRET, K_OPT, K_IGNORED };

struct ukv {
	char *name;
	size_t len;
	char *key_hex;
	char *password;
};

struct udb_job {
	struct rjob j;
	char cursor[24];
	char prefix[TP_MAX_REALM + 16];   /* "turn/realm/<realm>/" */
	size_t plen;
	unsigned pending;                 /* MGETs in flight */
	bool scan_done, smembers_sent;
	struct ukv *u;
	size_t nu, capu;
	char *secrets[TP_RDS_MAX_SECRETS];
	size_t nsec;
	uint64_t opt[3];
	bool has_opt[3];
	size_t bad, ignored, over;
	uint64_t digest;
};

/* What one MGET asked for, element by element. */
struct batch {
	size_t n;
	struct {
		uint8_t kind;
		uint8_t opt;
		char *name;
		size_t len;
	} e[];
};

static const char *const opt_names[3] = { "user-quota", "total-quota", "max-bps" };

/* Add one entry read (kind, name or option, value) to the digest. */
static void digest_add(struct udb_job *uj, int kind, const char *name, size_t nlen,
                       const char *v, size_t vlen)
{
	const struct tp_redis *r = uj->j.r;
	uint8_t head[TP_MAX_USERNAME + 2], h1[8], h2[8];
	uint64_t a, b;

	head[0] = (uint8_t)kind;
	if (nlen > TP_MAX_USERNAME)
		nlen = TP_MAX_USERNAME;
	if (nlen)
		memcpy(head + 1, name, nlen);
	crypto_shorthash(h1, head, nlen + 1, r->udb_key);
	crypto_shorthash(h2, (const uint8_t *)v, vlen, r->udb_key);
	memcpy(&a, h1, 8);
	memcpy(&b, h2, 8);
	uj->digest += a ^ (b * 0x9E3779B97F4A7C15ull);
}

static void batch_free(void *p)
{
	struct batch *b = p;

	for (size_t i = 0; b && i < b->n; i++)
		free(b->e[i].name);
	free(b);
}

/* A key of the realm: its kind, and the user name or option in it. */
static enum kind classify(const struct udb_job *uj, const char *k, size_t len, const char **name,
                          size_t *nlen, int *opt)
{
	const char *rest = k + uj->plen;
	size_t rl;

	if (len <= uj->plen || memcmp(k, uj->prefix, uj->plen) != 0)
		return K_NONE;
	rl = len - uj->plen;
	if (rl > 5 && memcmp(rest, "user/", 5) == 0) {
		static const struct { const char *sfx; enum kind k; } sfx[] = {
			{ "/key", K_KEY }, { "/password", K_PASSWORD },
		};
		for (size_t i = 0; i < 2; i++) {
			size_t sl = strlen(sfx[i].sfx);
			if (rl > 5 + sl && memcmp(rest + rl - sl, sfx[i].sfx, sl) == 0) {
				*name = rest + 5;
				*nlen = rl - 5 - sl;
				return sfx[i].k;
			}
		}
		return K_NONE;
	}
	if (rl > 7 && memcmp(rest, "secret/", 7) == 0)
		return K_SECRET;
	for (int i = 0; i < 3; i++)
		if (rl == strlen(opt_names[i]) && memcmp(rest, opt_names[i], rl) == 0) {
			*opt = i;
			return K_OPT;
		}
	if ((rl == 15 && memcmp(rest, "allowed-peer-ip", 15) == 0) ||
	    (rl == 14 && memcmp(rest, "denied-peer-ip", 14) == 0))
		return K_IGNORED;
	return K_NONE;
}

static bool name_ok(const char *n, size_t len)
{
	if (len == 0 || len > TP_MAX_USERNAME)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)n[i] < 0x20 || n[i] == 0x7f)
			return false;
	return true;
}

static int add_secret(struct udb_job *uj, const char *s, size_t len)
{
	if (len == 0 || memchr(s, '\0', len)) {
		uj->bad++;
		return 0;
	}
	for (size_t i = 0; i < uj->nsec; i++)
		if (strlen(uj->secrets[i]) == len && memcmp(uj->secrets[i], s, len) == 0)
			return 0;
	if (uj->nsec == TP_RDS_MAX_SECRETS) {
		uj->over++;
		return 0;
	}
	if (!(uj->secrets[uj->nsec] = strndup(s, len)))
		return -ENOMEM;
	uj->nsec++;
	return 0;
}

static int add_user_value(struct udb_job *uj, enum kind k, const char *name, size_t len,
                          const char *v, size_t vlen)
{
	struct ukv *e;

	if (uj->nu == 2 * TP_RDS_MAX_USERS) {
		uj->over++;
		return 0;
	}
	if (uj->nu == uj->capu) {
		size_t cap = uj->capu ? uj->capu * 2 : 256;
		struct ukv *u = realloc(uj->u, cap * sizeof(*u));
		if (!u)
			return -ENOMEM;
		uj->u = u;
		uj->capu = cap;
	}
	e = &uj->u[uj->nu];
	memset(e, 0, sizeof(*e));
	if (!(e->name = strndup(name, len)) ||
	    !(*(k == K_KEY ? &e->key_hex : &e->password) = strndup(v, vlen))) {
		free(e->name);
		return -ENOMEM;
	}
	e->len = len;
	uj->nu++;
	return 0;
}

static void udb_step(struct udb_job *uj);

static void mget_reply(struct rop *op, const redisReply *rep)
{
	struct udb_job *uj = (struct udb_job *)op->job;
	struct batch *b = op->data;
	int rc = 0;

	uj->pending--;
	if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != b->n) {
		tp_rds_job_done(&uj->j, !rep ? -ENOTCONN : -EPROTO);
		return;
	}
	for (size_t i = 0; i < b->n && rc == 0; i++) {
		const redisReply *v = rep->element[i];
		if (v->type != REDIS_REPLY_STRING)
			continue;       /* deleted meanwhile, or not a string */
		digest_add(uj, b->e[i].kind == K_OPT ? 16 + b->e[i].opt : b->e[i].kind,
		           b->e[i].name, b->e[i].name ? b->e[i].len : 0, v->str, v->len);
		switch (b->e[i].kind) {
		case K_KEY:
		case K_PASSWORD:
			rc = add_user_value(uj, (enum kind)b->e[i].kind, b->e[i].name, b->e[i].len,
			                    v->str, v->len);
			break;
		case K_SECRET:
			rc = add_secret(uj, v->str, v->len);
			break;
		case K_OPT: {
			char *end;
			unsigned long long x = strtoull(v->str, &end, 10);
			if (end == v->str || *end) {
				uj->bad++;
			} else {
				uj->opt[b->e[i].opt] = x;
				uj->has_opt[b->e[i].opt] = true;
			}
			break;
		}
		default:
			break;
		}
	}
	if (rc)
		tp_rds_job_done(&uj->j, rc);
	else
		udb_step(uj);
}

/* MGET the string keys of one SCAN batch. */
static int mget_batch(struct udb_job *uj, const redisReply *keys)
{
	struct tp_redis *r = uj->j.r;
	struct batch *b = calloc(1, sizeof(*b) + keys->elements * sizeof(b->e[0]));
	const char **argv = malloc((keys->elements + 1) * sizeof(*argv));
	size_t *lens = malloc((keys->elements + 1) * sizeof(*lens));
	int rc = -ENOMEM;

	if (!b || !argv || !lens)
		goto out;
	argv[0] = "MGET";
	lens[0] = 4;
	for (size_t i = 0; i < keys->elements; i++) {
		const redisReply *k = keys->element[i];
		const char *name = NULL;
		size_t nlen = 0;
		int opt = 0;
		enum kind kd;

		if (k->type != REDIS_REPLY_STRING)
			continue;
		kd = classify(uj, k->str, k->len, &name, &nlen, &opt);
		if (kd == K_IGNORED)
			uj->ignored++;
		if (kd == K_NONE || kd == K_IGNORED)
			continue;
		if ((kd == K_KEY || kd == K_PASSWORD) && !name_ok(name, nlen)) {
			uj->bad++;
			continue;
		}
		b->e[b->n].kind = (uint8_t)kd;
		b->e[b->n].opt = (uint8_t)opt;
		if (name && !(b->e[b->n].name = strndup(name, nlen)))
			goto out;
		b->e[b->n].len = nlen;
		argv[1 + b->n] = k->str;
		lens[1 + b->n] = k->len;
		b->n++;
	}
	rc = 0;
	if (b->n == 0)
		goto out;
	if ((rc = tp_rds_cmd_owned(r, &uj->j, mget_reply, b, batch_free, (int)b->n + 1,
	                           argv, lens)) == 0) {
		b = NULL;
		uj->pending++;
	}
out:
	batch_free(b);
	free(argv);
	free(lens);
	return rc;
}

static void smembers_reply(struct rop *op, const redisReply *rep)
{
	struct udb_job *uj = (struct udb_job *)op->job;
	int rc = 0;

	if (!rep) {
		tp_rds_job_done(&uj->j, -ENOTCONN);
		return;
	}
	if (rep->type == REDIS_REPLY_ARRAY) {
		for (size_t i = 0; i < rep->elements && rc == 0; i++)
			if (rep->element[i]->type == REDIS_REPLY_STRING) {
				digest_add(uj, K_SECRET, NULL, 0, rep->element[i]->str,
				           rep->element[i]->len);
				rc = add_secret(uj, rep->element[i]->str, rep->element[i]->len);
			}
	} else if (rep->type == REDIS_REPLY_ERROR) {
		uj->bad++;          /* e.g. WRONGTYPE: not coturn's set */
	}
	tp_rds_job_done(&uj->j, rc);
}

static void scan_reply(struct rop *op, const redisReply *rep)
{
	struct udb_job *uj = (struct udb_job *)op->job;
	int rc;

	if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
	    rep->element[0]->type != REDIS_REPLY_STRING ||
	    rep->element[1]->type != REDIS_REPLY_ARRAY) {
		tp_rds_job_done(&uj->j, !rep ? -ENOTCONN : -EPROTO);
		return;
	}
	snprintf(uj->cursor, sizeof(uj->cursor), "%s", rep->element[0]->str);
	uj->scan_done = strcmp(uj->cursor, "0") == 0;
	if ((rc = mget_batch(uj, rep->element[1])) != 0) {
		tp_rds_job_done(&uj->j, rc);
		return;
	}
	udb_step(uj);
}

/* The pattern for SCAN MATCH: "turn/realm/<realm>/" escaped, then '*'. */
static size_t match_pattern(const struct udb_job *uj, char *buf, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < uj->plen && o + 3 < cap; i++) {
		if (strchr("*?[]\\", uj->prefix[i]))
			buf[o++] = '\\';
		buf[o++] = uj->prefix[i];
	}
	if (o + 2 > cap)
		return 0;
	buf[o++] = '*';
	buf[o] = '\0';
	return o;
}

/* Next: another SCAN, or the secret set once the scan and its MGETs are done. */
static void udb_step(struct udb_job *uj)
{
	struct tp_redis *r = uj->j.r;
	char pat[2 * sizeof(uj->prefix) + 2], set[sizeof(uj->prefix) + 8];
	int rc;

	if (uj->pending)
		return;
	if (!uj->scan_done) {
		size_t pl = match_pattern(uj, pat, sizeof(pat));
		const char *argv[6] = { "SCAN", uj->cursor, "MATCH", pat, "COUNT", "1000" };
		size_t lens[6] = { 4, strlen(uj->cursor), 5, pl, 5, 4 };
		rc = pl ? tp_rds_cmd(r, &uj->j, scan_reply, NULL, 6, argv, lens) : -EINVAL;
	} else if (!uj->smembers_sent) {
		int n = snprintf(set, sizeof(set), "%ssecret", uj->prefix);
		const char *argv[2] = { "SMEMBERS", set };
		size_t lens[2] = { 8, (size_t)n };
		uj->smembers_sent = true;
		rc = tp_rds_cmd(r, &uj->j, smembers_reply, NULL, 2, argv, lens);
	} else {
		return;
	}
	if (rc)
		tp_rds_job_done(&uj->j, rc);
}

/* ---- the snapshot ---------------------------------------------------------- */

static const struct tp_rds_user *snap_find(const struct tp_rds_snapshot *s, const char *name,
                                           size_t len);

static int ukv_cmp(const void *a, const void *b)
{
	const struct ukv *x = a, *y = b;
	int c = memcmp(x->name, y->name, x->len < y->len ? x->len : y->len);

	return c ? c : x->len < y->len ? -1 : x->len > y->len;
}

static int hash_cmp(const void *a, const void *b)
{
	return memcmp((*(struct tp_rds_user *const *)a)->hash,
	              (*(struct tp_rds_user *const *)b)->hash, 32);
}

static int hex16(const char *s, uint8_t out[16])
{
	if (strlen(s) != 32)
		return -1;
	for (int i = 0; i < 32; i++) {
		char c = s[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
		        c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (v < 0)
			return -1;
		out[i / 2] = (uint8_t)(i % 2 ? out[i / 2] | v : v << 4);
	}
	return 0;
}

/* One user from its merged key and password: 0, or -1 (unusable). The
 * USERHASH (a SHA-256, most of the cost of a re-read) is taken from the
 * previous snapshot when the user was in it. */
static int make_user(const char *realm, const char *name, size_t len, const char *key_hex,
                     const char *password, const struct tp_rds_snapshot *old,
                     struct tp_rds_user *u)
{
	const struct tp_rds_user *prev;
	uint8_t k[TP_KEY_MAX];
	size_t kl = 0;
	bool has_key;

	memset(u, 0, sizeof(*u));
	has_key = key_hex && hex16(key_hex, u->md5) == 0;

	if (password && tp_key_long_term(TP_PWALG_MD5, name, len, realm, strlen(realm), password,
	                                 strlen(password), k, &kl) == TP_P_OK && kl == 16) {
		if (!has_key) {
			memcpy(u->md5, k, 16);
			has_key = true;
		}
		if (memcmp(u->md5, k, 16) == 0 &&
		    tp_key_long_term(TP_PWALG_SHA256, name, len, realm, strlen(realm), password,
		                     strlen(password), u->sha256, &kl) == TP_P_OK && kl == 32)
			u->has_sha256 = true;
	}
	memset(k, 0, sizeof(k));
	if (!has_key)
		return -1;
	if ((prev = snap_find(old, name, len)) != NULL)
		memcpy(u->hash, prev->hash, 32);
	else
		tp_userhash(name, len, realm, strlen(realm), u->hash);
	return 0;
}

static void snap_free(struct tp_rds_snapshot *s)
{
	for (size_t i = 0; i < s->nusers; i++) {
		free(s->users[i].name);
		memset(&s->users[i], 0, sizeof(s->users[i]));
	}
	free(s->users);
	free(s->by_hash);
	for (size_t i = 0; i < s->nsecrets; i++) {
		memset(s->secrets[i], 0, strlen(s->secrets[i]));
		free(s->secrets[i]);
	}
	memset(s, 0, sizeof(*s));
}

static int build(struct udb_job *uj, const char *realm, const struct tp_rds_snapshot *old,
                 struct tp_rds_snapshot *s)
{
	size_t n = 0;

	memset(s, 0, sizeof(*s));
	if (uj->nu)
		qsort(uj->u, uj->nu, sizeof(*uj->u), ukv_cmp);
	if (uj->nu && !(s->users = calloc(uj->nu, sizeof(*s->users))))
		return -ENOMEM;
	for (size_t i = 0; i < uj->nu;) {
		const char *key = NULL, *pw = NULL;
		size_t k = i;
		for (; k < uj->nu && ukv_cmp(&uj->u[i], &uj->u[k]) == 0; k++) {
			key = uj->u[k].key_hex ? uj->u[k].key_hex : key;
			pw = uj->u[k].password ? uj->u[k].password : pw;
		}
		if (n == TP_RDS_MAX_USERS) {
			uj->over++;
		} else if (make_user(realm, uj->u[i].name, uj->u[i].len, key, pw, old,
		                     &s->users[n]) != 0) {
			uj->bad++;
		} else {
			s->users[n].name = uj->u[i].name;   /* taken over */
			s->users[n].len = uj->u[i].len;
			uj->u[i].name = NULL;
			n++;
		}
		i = k;
	}
	s->nusers = n;
	if (n && !(s->by_hash = malloc(n * sizeof(*s->by_hash)))) {
		snap_free(s);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		s->by_hash[i] = &s->users[i];
	if (n)
		qsort(s->by_hash, n, sizeof(*s->by_hash), hash_cmp);
	for (size_t i = 0; i < uj->nsec; i++) {
		s->secrets[i] = uj->secrets[i];
		uj->secrets[i] = NULL;
	}
	s->nsecrets = uj->nsec;
	uj->nsec = 0;
	memcpy(s->opt, uj->opt, sizeof(s->opt));
	memcpy(s->has_opt, uj->has_opt, sizeof(s->has_opt));
	return 0;
}

static void swap_in(struct tp_redis *r, struct udb_job *uj)
{
	struct tp_rds_snapshot s;

	/* the counts too: entries skipped change nothing built but are logged */
	uj->digest += uj->bad * 0x100000001B3ull + uj->ignored * 0xC2B2AE3D27D4EB4Full +
	              uj->over * 0x165667B19E3779F9ull;
	r->st.userdb_reads++;
	if (r->snap_version && uj->digest == r->udb_digest)
		return;             /* unchanged */

	if (build(uj, r->o.realm, &r->snap, &s) != 0) {
		tp_warn(NULL, "%s: userdb: out of memory; keeping the last snapshot", r->label);
		return;
	}
	snap_free(&r->snap);
	r->snap = s;
	r->snap_version++;
	r->udb_digest = uj->digest;
	if (!r->udb_logged || s.nusers != r->udb_logged_users ||
	    s.nsecrets != r->udb_logged_secrets)
		tp_info(NULL, "%s: userdb: %zu users, %zu secrets in turn/realm/%s/", r->label,
		        s.nusers, s.nsecrets, r->o.realm);
	if (uj->bad + uj->over != r->udb_logged_bad && uj->bad + uj->over)
		tp_warn(NULL, "%s: userdb: %zu entries skipped (malformed keys or names, unusable "
		        "passwords, beyond %d users or %d secrets)", r->label, uj->bad + uj->over,
		        TP_RDS_MAX_USERS, TP_RDS_MAX_SECRETS);
	if (uj->ignored && uj->ignored != r->udb_logged_ignored)
		tp_warn(NULL, "%s: userdb: coturn's allowed-peer-ip/denied-peer-ip in "
		        "turn/realm/%s/ are not applied (use allowed-peer and denied-peer in the "
		        "configuration)", r->label, r->o.realm);
	r->udb_logged = true;
	r->udb_logged_users = s.nusers;
	r->udb_logged_secrets = s.nsecrets;
	r->udb_logged_bad = uj->bad + uj->over;
	r->udb_logged_ignored = uj->ignored;
}

static void udb_finish(struct rjob *j, int rc)
{
	struct udb_job *uj = (struct udb_job *)j;
	struct tp_redis *r = j->r;
	struct timeval tv = { .tv_sec = r->o.userdb_refresh_ms / 1000,
	                      .tv_usec = (r->o.userdb_refresh_ms % 1000) * 1000 };

	r->udb_job = NULL;
	if (rc == 0)
		swap_in(r, uj);
	else if (rc != -ECANCELED)
		tp_debug(NULL, "%s: userdb read failed (%s); keeping the last snapshot (%zu users)",
		         r->label, strerror(-rc), r->snap.nusers);
	if (r->closing)
		return;
	if (r->udb_dirty) {
		r->udb_dirty = false;
		tv.tv_sec = 0;
		tv.tv_usec = 50000;
		event_add(&r->ev_udb, &tv);
	} else if (r->o.userdb_refresh_ms) {
		event_add(&r->ev_udb, &tv);
	}
}

static void udb_destroy(struct rjob *j)
{
	struct udb_job *uj = (struct udb_job *)j;

	for (size_t i = 0; i < uj->nu; i++) {
		free(uj->u[i].name);
		if (uj->u[i].password)
			memset(uj->u[i].password, 0, strlen(uj->u[i].password));
		free(uj->u[i].password);
		free(uj->u[i].key_hex);
	}
	free(uj->u);
	for (size_t i = 0; i < uj->nsec; i++) {
		memset(uj->secrets[i], 0, strlen(uj->secrets[i]));
		free(uj->secrets[i]);
	}
}

static void udb_timer(evutil_socket_t fd, short what, void *arg)
{
	struct tp_redis *r = arg;
	struct udb_job *uj;

	(void)fd;
	(void)what;
	if (r->udb_job || !tp_redis_is_up(r))
		return;                 /* link_up kicks again */
	/* a big userdb takes many round trips: five admin deadlines for all */
	uj = (struct udb_job *)tp_rds_job_new(r, sizeof(*uj), r->o.admin_timeout_ms * 5,
	                                      udb_finish, udb_destroy);
	if (!uj)
		return;
	r->udb_job = &uj->j;
	snprintf(uj->cursor, sizeof(uj->cursor), "0");
	uj->plen = (size_t)snprintf(uj->prefix, sizeof(uj->prefix), "turn/realm/%s/", r->o.realm);
	udb_step(uj);
}

void tp_rds_userdb_init(struct tp_redis *r)
{
	randombytes_buf(r->udb_key, sizeof(r->udb_key));
	event_assign(&r->ev_udb, r->base, -1, 0, udb_timer, r);
}

void tp_rds_userdb_kick(struct tp_redis *r, uint32_t delay_ms)
{
	struct timeval tv = { .tv_sec = delay_ms / 1000, .tv_usec = (delay_ms % 1000) * 1000 };

	if (!r->o.realm[0] || r->closing)
		return;
	if (r->udb_job) {
		r->udb_dirty = true;
		return;
	}
	event_add(&r->ev_udb, &tv);
}

void tp_rds_userdb_fini(struct tp_redis *r)
{
	event_del(&r->ev_udb);
	snap_free(&r->snap);
}

/* ---- lookups ------------------------------------------------------------------ */

static const struct tp_rds_user *find(const struct tp_redis *r, const char *name, size_t len)
{
	return snap_find(&r->snap, name, len);
}

static const struct tp_rds_user *snap_find(const struct tp_rds_snapshot *s, const char *name,
                                           size_t len)
{
	size_t lo = 0, hi = s->nusers;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct tp_rds_user *u = &s->users[mid];
		int c = memcmp(name, u->name, len < u->len ? len : u->len);
		if (!c)
			c = len < u->len ? -1 : len > u->len;
		if (!c)
			return u;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

int tp_redis_user_key(const struct tp_redis *r, const char *name, size_t len, uint8_t key[16])
{
	const struct tp_rds_user *u = find(r, name, len);

	if (!u)
		return -ENOENT;
	memcpy(key, u->md5, 16);
	return 0;
}

int tp_redis_user_key_sha256(const struct tp_redis *r, const char *name, size_t len,
                             uint8_t key[32])
{
	const struct tp_rds_user *u = find(r, name, len);

	if (!u)
		return -ENOENT;
	if (!u->has_sha256)
		return -ENOKEY;
	memcpy(key, u->sha256, 32);
	return 0;
}

int tp_redis_user_by_hash(const struct tp_redis *r, const uint8_t hash[32], const char **name,
                          size_t *len)
{
	size_t lo = 0, hi = r->snap.nusers;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(hash, r->snap.by_hash[mid]->hash, 32);
		if (!c) {
			*name = r->snap.by_hash[mid]->name;
			*len = r->snap.by_hash[mid]->len;
			return 0;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -ENOENT;
}

size_t tp_redis_secrets(const struct tp_redis *r, const char *const **out)
{
	*out = (const char *const *)r->snap.secrets;
	return r->snap.nsecrets;
}

int tp_redis_realm_opt(const struct tp_redis *r, enum tp_redis_realm_opt which, uint64_t *v)
{
	if ((unsigned)which > 2 || !r->snap.has_opt[which])
		return -ENOENT;
	*v = r->snap.opt[which];
	return 0;
}

size_t tp_redis_users_count(const struct tp_redis *r)
{
	return r->snap.nusers;
}

uint64_t tp_redis_userdb_version(const struct tp_redis *r)
{
	return r->snap_version;
}
