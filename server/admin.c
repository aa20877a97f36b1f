/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * admin.c - the admin socket (see admin.h).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/crypto.h>

#include "admin.h"
#include "alloc.h"
#include "cluster.h"
#include "dispatch.h"
#include "shared.h"
#include "sock.h"
#include "srv.h"
#include "worker.h"

#define LINE_MAX_LEN 4096
#define MAX_ARGS 8
#define MAX_CONNS 16
#define TIMEOUT 10

struct conn;

struct tp_admin {
	struct tp_srv *s;               /* borrowed: worker 0 */
	struct tp_control ctl;
	struct evconnlistener *lev;
	struct tp_endpoint ep;
	struct conn *conns;
	unsigned nconns;
	time_t started;                 /* monotonic */
};

/* A command waiting for every worker (sessions, kill). */
struct job {
	struct conn *c;                 /* NULL once the client has gone */
	bool kill;
	char user[TP_MAX_USERNAME + 1];
	bool by_user;
	uint64_t id;
	bool by_id;
	size_t nworkers;
	struct evbuffer *out[TP_MAX_WORKERS]; /* each worker writes its own */
	unsigned count[TP_MAX_WORKERS];
};

struct conn {
	struct conn *next;
	struct tp_admin *a;
	struct bufferevent *bev;
	struct job *job;                /* in flight, or NULL */
	bool authed;                    /* tcp: token seen; unix: always */
	bool closing;                   /* answer written: close when flushed */
};

struct args {
	char *key[MAX_ARGS], *val[MAX_ARGS];
	size_t n;
};

/* ---- helpers ---- */

long tp_admin_unescape(const char *in, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)in[i];

		if (ch == '%') {
			unsigned v = 0;

			if (n - i < 3)
				return -1;
			for (int k = 1; k <= 2; k++) {
				char h = in[i + (size_t)k];

				v <<= 4;
				if (h >= '0' && h <= '9')
					v |= (unsigned)(h - '0');
				else if (h >= 'a' && h <= 'f')
					v |= (unsigned)(h - 'a' + 10);
				else if (h >= 'A' && h <= 'F')
					v |= (unsigned)(h - 'A' + 10);
				else
					return -1;
			}
			ch = (unsigned char)v;
			i += 2;
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = (char)ch;
	}
	out[o] = '\0';
	return (long)o;
}

static const char *arg(const struct args *a, const char *key)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->key[i], key) == 0)
			return a->val[i];
	return NULL;
}

/* A JSON string: UTF-8 passes through (user names are UTF-8, RFC 8265); a
 * byte that is not valid UTF-8 becomes U+FFFD, control characters \u00XX. */
static void jstr(struct evbuffer *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	evbuffer_add(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\') {
			char e[2] = { '\\', (char)ch };
			evbuffer_add(b, e, 2);
		} else if (ch < 0x20 || ch == 0x7f) {
			char e[6] = { '\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15] };
			evbuffer_add(b, e, 6);
		} else if (ch < 0x80) {
			evbuffer_add(b, &s[i], 1);
		} else {
			size_t len = tp_utf8_len((const unsigned char *)s + i, n - i);

			if (len) {
				evbuffer_add(b, &s[i], len);
				i += len - 1;
			} else {
				evbuffer_add(b, "\\ufffd", 6);
			}
		}
	}
	evbuffer_add(b, "\"", 1);
}

static void jaddr(struct evbuffer *b, const struct tp_addr *a)
{
	char s[64];

	if (tp_addr_fmt(a, s, sizeof(s)) < 0)
		snprintf(s, sizeof(s), "?");
	jstr(b, s, strlen(s));
}

/* ---- connections ---- */

static void conn_free(struct conn *c)
{
	struct tp_admin *a = c->a;

	for (struct conn **pp = &a->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	a->nconns--;
	if (c->job)
		c->job->c = NULL;       /* the job finishes without us */
	bufferevent_free(c->bev);
	free(c);
}

static void on_drained(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (c->closing)
		conn_free(c);
}

/* Send the answer (a JSON object) and close once it is out. */
static void answer(struct conn *c, struct evbuffer *json)
{
	evbuffer_add(json, "\n", 1);
	bufferevent_write_buffer(c->bev, json);
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_free(c);
}

static void answer_error(struct conn *c, const char *msg)
{
	struct evbuffer *b = evbuffer_new();

	if (!b) {
		conn_free(c);
		return;
	}
	evbuffer_add_printf(b, "{\"error\":");
	jstr(b, msg, strlen(msg));
	evbuffer_add(b, "}", 1);
	answer(c, b);
	evbuffer_free(b);
}

static void answer_ok(struct conn *c, const char *msg)
{
	struct evbuffer *b = evbuffer_new();

	if (!b) {
		conn_free(c);
		return;
	}
	evbuffer_add_printf(b, "{\"ok\":true,\"message\":");
	jstr(b, msg, strlen(msg));
	evbuffer_add(b, "}", 1);
	answer(c, b);
	evbuffer_free(b);
}

/* ---- status, stats ---- */

static void cmd_status(struct conn *c)
{
	struct tp_srv *s = c->a->s;
	struct tp_shared *sh = s->sh;
	struct evbuffer *b = evbuffer_new();
	int64_t deadline = atomic_load(&sh->drain_deadline);
	uint64_t n;

	if (!b) {
		conn_free(c);
		return;
	}
	pthread_mutex_lock(&sh->mu);
	n = sh->nallocs;
	pthread_mutex_unlock(&sh->mu);
	evbuffer_add_printf(b, "{\"version\":\"%s\",\"uptime\":%lld,\"workers\":%zu,"
	                       "\"realm\":", TP_VERSION, (long long)(tp_now(s) - c->a->started),
	                    sh->nworkers);
	jstr(b, s->conf->realm, strlen(s->conf->realm));
	evbuffer_add_printf(b, ",\"allocations\":%llu,\"draining\":%s", (unsigned long long)n,
	                    atomic_load(&sh->draining) ? "true" : "false");
	if (atomic_load(&sh->draining))
		evbuffer_add_printf(b, ",\"drain_seconds_left\":%lld",
		                    (long long)(deadline > tp_now(s) ? deadline - tp_now(s) : 0));
	if (s->cluster) {
		const char *node = tp_cluster_node(s);

		evbuffer_add_printf(b, ",\"cluster\":{\"node\":");
		jstr(b, node, strlen(node));
		evbuffer_add_printf(b, ",\"redis_up\":%s}", tp_cluster_is_up(s) ? "true" : "false");
	}
	evbuffer_add_printf(b, ",\"relay_bytes_per_second\":%llu,\"listeners\":[",
	                    (unsigned long long)atomic_load(&sh->relay_bps));
	for (size_t i = 0; i < s->self.nlisten; i++) {
		static const char *pn[] = { "?", "udp", "tcp", "tls", "dtls", "ws" };
		const struct tp_listen *l = &s->self.listen[i];
		char a[64], t[80];

		tp_addr_fmt(&l->addr, a, sizeof(a));
		snprintf(t, sizeof(t), "%s:%s", pn[l->proto <= TP_LISTEN_WS ? l->proto : 0], a);
		if (i)
			evbuffer_add(b, ",", 1);
		jstr(b, t, strlen(t));
	}
	evbuffer_add(b, "]}", 2);
	answer(c, b);
	evbuffer_free(b);
}

static void cmd_stats(struct conn *c)
{
	struct tp_stats st;
	struct evbuffer *b = evbuffer_new();

	if (!b) {
		conn_free(c);
		return;
	}
	tp_shared_sum(c->a->s->sh, &st);
	evbuffer_add_printf(b, "{\"requests\":{");
	for (int m = 0; m < TP_SM_COUNT; m++) {
		evbuffer_add_printf(b, "%s\"%s\":{", m ? "," : "", tp_stats_method_name(m));
		bool first = true;

		for (unsigned r = 0; r < TP_SR_COUNT; r++) {
			if (!st.req[m][r])
				continue;
			if (r)
				evbuffer_add_printf(b, "%s\"%u\":%llu", first ? "" : ",", tp_stats_code(r),
				                    (unsigned long long)st.req[m][r]);
			else
				evbuffer_add_printf(b, "%s\"success\":%llu", first ? "" : ",",
				                    (unsigned long long)st.req[m][r]);
			first = false;
		}
		evbuffer_add(b, "}", 1);
	}
	uint64_t pk[2] = { 0 }, by[2] = { 0 };

	for (int d = 0; d < 2; d++)
		for (int t = 0; t < TP_ST_COUNT; t++) {
			pk[d] += st.relay_pkts[d][t];
			by[d] += st.relay_bytes[d][t];
		}
	evbuffer_add_printf(b,
	        "},\"allocations\":%llu,\"allocations_created\":%llu,\"permissions\":%llu,"
	        "\"channels\":%llu,\"stream_connections\":%llu,"
	        "\"relayed\":{\"to_peer\":{\"packets\":%llu,\"bytes\":%llu},"
	        "\"to_client\":{\"packets\":%llu,\"bytes\":%llu}},"
	        "\"auth_failures\":{\"unknown_user\":%llu,\"bad_integrity\":%llu,"
	        "\"expired_credential\":%llu,\"stale_nonce\":%llu,\"throttled\":%llu},"
	        "\"dropped\":{\"no_permission\":%llu,\"slow_reader\":%llu,\"rate_limit\":%llu,"
	        "\"peer_policy\":%llu,\"send_error\":%llu,\"bandwidth\":%llu,\"malformed\":%llu,"
	        "\"too_big\":%llu,\"kernel\":%llu},\"connections_refused\":%llu}",
	        (unsigned long long)st.allocations, (unsigned long long)st.allocs_created,
	        (unsigned long long)st.permissions, (unsigned long long)st.channels,
	        (unsigned long long)st.stream_conns, (unsigned long long)pk[0],
	        (unsigned long long)by[0], (unsigned long long)pk[1], (unsigned long long)by[1],
	        (unsigned long long)st.auth_fail_unknown, (unsigned long long)st.auth_fail_integrity,
	        (unsigned long long)st.auth_fail_expired, (unsigned long long)st.auth_fail_nonce,
	        (unsigned long long)st.auth_throttled, (unsigned long long)st.drop_no_perm,
	        (unsigned long long)st.drop_slow, (unsigned long long)st.drop_rate,
	        (unsigned long long)st.drop_policy, (unsigned long long)st.send_errors,
	        (unsigned long long)st.drop_bandwidth, (unsigned long long)st.drop_malformed,
	        (unsigned long long)st.drop_too_big, (unsigned long long)st.kernel_drops,
	        (unsigned long long)st.conn_refused);
	answer(c, b);
	evbuffer_free(b);
}

/* ---- sessions and kill: on every worker ---- */

static bool matches(const struct job *j, const struct tp_alloc *a)
{
	if (j->by_id && a->id != j->id)
		return false;
	if (j->by_user && strcmp(a->user, j->user) != 0)
		return false;
	return true;
}

struct walk {
	struct job *j;
	struct tp_srv *s;
};

static void session_json(struct evbuffer *b, struct tp_srv *s, const struct tp_alloc *a)
{
	static const char *tn[] = { "?", "udp", "tcp", "tls", "dtls" };
	time_t now = tp_now(s);

	evbuffer_add_printf(b, "{\"id\":\"%016llx\",\"user\":", (unsigned long long)a->id);
	jstr(b, a->user, strlen(a->user));
	evbuffer_add_printf(b, ",\"transport\":\"%s\",\"client\":", tn[a->ft.transport % 5]);
	jaddr(b, &a->ft.client);
	evbuffer_add_printf(b, ",\"server\":");
	jaddr(b, &a->ft.local);
	evbuffer_add_printf(b, ",\"relay\":[");
	for (int i = 0; i < a->nrelay; i++) {
		struct tp_addr pub;

		tp_conf_public_addr(s->conf, &a->relay[i].addr, &pub);
		if (i)
			evbuffer_add(b, ",", 1);
		jaddr(b, &pub);
	}
	evbuffer_add_printf(b, "],\"relay_transport\":\"%s\",\"age\":%lld,\"lifetime_left\":%lld,"
	                       "\"permissions\":%u,\"channels\":%u,\"worker\":%u,"
	                       "\"to_peer\":{\"packets\":%llu,\"bytes\":%llu},"
	                       "\"to_client\":{\"packets\":%llu,\"bytes\":%llu}}",
	                    a->is_tcp ? "tcp" : "udp", (long long)(now - a->created),
	                    (long long)(a->expires > now ? a->expires - now : 0),
	                    tp_perms_count(&a->perms, now), tp_chans_count(&a->chans, now), s->worker,
	                    (unsigned long long)a->tx_pkts, (unsigned long long)a->tx_bytes,
	                    (unsigned long long)a->rx_pkts, (unsigned long long)a->rx_bytes);
}

static void walk_one(void *arg, struct tp_alloc *a)
{
	struct walk *w = arg;
	struct evbuffer *b = w->j->out[w->s->worker];

	if (!matches(w->j, a))
		return;
	if (w->j->count[w->s->worker]++)
		evbuffer_add(b, ",", 1);
	session_json(b, w->s, a);
}

/* On each worker: list or end the matching allocations. A stream client's
 * connection (and a DTLS session) is closed with it; the allocation goes
 * with its connection. */
static void job_run(struct tp_srv *s, void *arg)
{
	struct job *j = arg;
	struct walk w = { .j = j, .s = s };

	if (j->kill) {
		j->count[s->worker] = tp_turn_kill(s, j->by_user ? j->user : NULL,
		                                  j->by_id ? j->id : 0);
		return;
	}
	tp_allocs_foreach(s->allocs, walk_one, &w);
}

static void job_done(void *arg)
{
	struct job *j = arg;
	struct evbuffer *b = evbuffer_new();
	unsigned total = 0;

	for (size_t i = 0; i < j->nworkers; i++)
		total += j->count[i];
	if (j->c && b) {
		j->c->job = NULL;
		if (j->kill) {
			evbuffer_add_printf(b, "{\"ok\":true,\"killed\":%u}", total);
		} else {
			bool first = true;

			evbuffer_add_printf(b, "{\"count\":%u,\"sessions\":[", total);
			for (size_t i = 0; i < j->nworkers; i++) {
				if (!j->count[i])
					continue;
				if (!first)
					evbuffer_add(b, ",", 1);
				first = false;
				evbuffer_add_buffer(b, j->out[i]);
			}
			evbuffer_add(b, "]}", 2);
		}
		answer(j->c, b);
	}
	if (b)
		evbuffer_free(b);
	for (size_t i = 0; i < j->nworkers; i++)
		evbuffer_free(j->out[i]);
	free(j);
}

/* ---- sessions and kill across the cluster (the store's registry) ---- */

static void cluster_list_done(void *arg, const struct tp_redis_session *list, size_t n, int rc)
{
	struct job *j = arg;
	struct evbuffer *b = j->c ? evbuffer_new() : NULL;

	if (b) {
		j->c->job = NULL;
		if (rc < 0) {
			evbuffer_add_printf(b, "{\"ok\":false,\"error\":\"cluster store: %s\"}",
			                    strerror(-rc));
		} else {
			evbuffer_add_printf(b, "{\"count\":%zu,\"complete\":%s,\"sessions\":[", n,
			                    rc == 0 ? "true" : "false");
			for (size_t i = 0; i < n; i++) {
				const struct tp_redis_session *x = &list[i];

				evbuffer_add_printf(b, "%s{\"id\":\"%016llx\",\"node\":", i ? "," : "",
				                    (unsigned long long)x->id);
				jstr(b, x->node, strlen(x->node));
				evbuffer_add_printf(b, ",\"user\":");
				jstr(b, x->user, strlen(x->user));
				evbuffer_add_printf(b, ",\"transport\":");
				jstr(b, x->transport, strlen(x->transport));
				evbuffer_add_printf(b, ",\"client\":");
				jstr(b, x->client, strlen(x->client));
				evbuffer_add_printf(b, ",\"server\":");
				jstr(b, x->server, strlen(x->server));
				evbuffer_add_printf(b, ",\"relay\":[");
				if (x->relay4[0])
					jstr(b, x->relay4, strlen(x->relay4));
				if (x->relay6[0]) {
					if (x->relay4[0])
						evbuffer_add(b, ",", 1);
					jstr(b, x->relay6, strlen(x->relay6));
				}
				evbuffer_add_printf(b, "],\"started\":%lld,"
				                       "\"to_peer\":{\"packets\":%llu,\"bytes\":%llu},"
				                       "\"to_client\":{\"packets\":%llu,\"bytes\":%llu}}",
				                    (long long)x->started, (unsigned long long)x->pkts_in,
				                    (unsigned long long)x->bytes_in,
				                    (unsigned long long)x->pkts_out,
				                    (unsigned long long)x->bytes_out);
			}
			evbuffer_add(b, "]}", 2);
		}
		answer(j->c, b);
		evbuffer_free(b);
	} else if (j->c) {
		j->c->job = NULL;
		answer_error(j->c, "out of memory");
	}
	free(j);
}

static void cluster_kill_done(void *arg, int rc)
{
	struct job *j = arg;

	if (j->c) {
		struct evbuffer *b = evbuffer_new();

		j->c->job = NULL;
		if (!b) {
			answer_error(j->c, "out of memory");
		} else {
			if (rc < 0)
				evbuffer_add_printf(b, "{\"ok\":false,\"error\":\"cluster store: %s\"}",
				                    strerror(-rc));
			else
				/* instances: every subscribed worker of every node got it */
				evbuffer_add_printf(b, "{\"ok\":true,\"cluster\":true,\"instances\":%d}",
				                    rc);
			answer(j->c, b);
			evbuffer_free(b);
		}
	}
	free(j);
}

static void cmd_cluster(struct conn *c, struct job *j, const char *node)
{
	struct tp_srv *s = c->a->s;
	int rc;

	c->job = j;
	if (j->kill)
		rc = tp_cluster_kill(s, node, j->by_user ? j->user : NULL, j->by_id ? j->id : 0,
		                     cluster_kill_done, j);
	else
		rc = tp_cluster_sessions(s, j->by_user ? j->user : NULL, cluster_list_done, j);
	if (rc != 0) {
		c->job = NULL;
		free(j);
		answer_error(c, "no cluster store: set redis in the configuration");
	}
}

static void cmd_sessions(struct conn *c, const struct args *av, bool kill)
{
	const char *user = arg(av, "user"), *id = arg(av, "id");
	struct job *j;

	if (kill && !user && !id) {
		answer_error(c, "kill needs user=NAME or id=ID");
		return;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		answer_error(c, "out of memory");
		return;
	}
	j->c = c;
	j->kill = kill;
	j->nworkers = c->a->s->sh->nworkers;
	if (user) {
		j->by_user = true;
		snprintf(j->user, sizeof(j->user), "%s", user);
	}
	if (id) {
		char *end;

		j->by_id = true;
		j->id = strtoull(id, &end, 16);
		if (!*id || *end) {
			free(j);
			answer_error(c, "id: expected the hexadecimal session id (turnpikectl sessions)");
			return;
		}
	}
	if (arg(av, "cluster")) {
		cmd_cluster(c, j, arg(av, "node"));
		return;
	}
	for (size_t i = 0; i < j->nworkers; i++)
		if (!(j->out[i] = evbuffer_new())) {
			while (i-- > 0)
				evbuffer_free(j->out[i]);
			free(j);
			answer_error(c, "out of memory");
			return;
		}
	c->job = j;
	if (tp_worker_each(c->a->s, job_run, job_done, j) != 0) {
		c->job = NULL;
		for (size_t i = 0; i < j->nworkers; i++)
			evbuffer_free(j->out[i]);
		free(j);
		answer_error(c, "out of memory");
	}
}

/* ---- the command line ---- */

static void run(struct conn *c, char *line)
{
	struct tp_admin *a = c->a;
	struct args av = { .n = 0 };
	char *save = NULL, *cmd = strtok_r(line, " ", &save), *tok;

	if (!cmd) {
		answer_error(c, "empty command");
		return;
	}
	while ((tok = strtok_r(NULL, " ", &save)) != NULL) {
		char *eq = strchr(tok, '=');

		if (!eq || av.n == MAX_ARGS ||
		    tp_admin_unescape(eq + 1, strlen(eq + 1), eq + 1, strlen(eq + 1) + 1) < 0) {
			answer_error(c, "bad argument (expected key=value, the value percent-encoded)");
			return;
		}
		*eq = '\0';
		av.key[av.n] = tok;
		av.val[av.n++] = eq + 1;
	}
	if (strcmp(cmd, "status") == 0) {
		cmd_status(c);
	} else if (strcmp(cmd, "stats") == 0) {
		cmd_stats(c);
	} else if (strcmp(cmd, "sessions") == 0) {
		cmd_sessions(c, &av, false);
	} else if (strcmp(cmd, "kill") == 0) {
		cmd_sessions(c, &av, true);
	} else if (strcmp(cmd, "drain") == 0) {
		const char *d = arg(&av, "deadline");
		char *end = NULL;
		unsigned long secs = d ? strtoul(d, &end, 10) : a->s->conf->drain_deadline;

		if (d && (!*d || *end || secs == 0 || secs > 604800)) {
			answer_error(c, "deadline: expected seconds, 1..604800");
			return;
		}
		a->ctl.drain(a->ctl.arg, (uint32_t)secs);
		answer_ok(c, "draining");
	} else if (strcmp(cmd, "undrain") == 0) {
		a->ctl.undrain(a->ctl.arg);
		answer_ok(c, "serving");
	} else if (strcmp(cmd, "reload") == 0) {
		a->ctl.reload(a->ctl.arg);
		answer_ok(c, "reload done (see the log for its outcome)");
	} else if (strcmp(cmd, "log-level") == 0) {
		const char *l = arg(&av, "level");
		int lv = tp_log_level_parse(l);

		if (lv < 0) {
			answer_error(c, "level: expected error, warn, info or debug");
			return;
		}
		atomic_store(&tp_log_level, lv);
		tp_warn(NULL, "admin: log level set to %s", tp_log_level_name(lv));
		answer_ok(c, tp_log_level_name(lv));
	} else {
		answer_error(c, "unknown command (status, sessions, kill, drain, undrain, reload, "
		                "log-level, stats)");
	}
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t n;
	char *line;

	if (c->job || c->closing)
		return;
	line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF);
	if (!line) {
		if (evbuffer_get_length(in) > LINE_MAX_LEN)
			answer_error(c, "line too long");
		return;
	}
	if (n && line[n - 1] == '\r')
		line[--n] = '\0';
	if (!c->authed) {
		const char *tok = c->a->s->conf->admin_token;
		size_t tl = tok ? strlen(tok) : 0;

		/* "auth TOKEN", compared in constant time */
		c->authed = n == 5 + tl && tl && strncmp(line, "auth ", 5) == 0 &&
		            CRYPTO_memcmp(line + 5, tok, tl) == 0;
		free(line);
		if (!c->authed) {
			tp_warn(NULL, "admin: a tcp connection with a wrong token: closed");
			answer_error(c, "not authorised");
		}
		return;
	}
	run(c, line);
	free(line);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		conn_free(arg);
}

/* Unix sockets: the peer must be root or the server's own user. */
static bool peer_allowed(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0)
		return false;
	return cr.uid == 0 || cr.uid == geteuid();
}

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
	struct tp_admin *a = arg;
	struct timeval tv = { .tv_sec = TIMEOUT };
	struct conn *c;

	(void)lev;
	(void)sa;
	(void)salen;
	if (a->nconns >= MAX_CONNS || (a->ep.kind == TP_EP_UNIX && !peer_allowed(fd))) {
		if (a->ep.kind == TP_EP_UNIX)
			tp_warn(NULL, "admin: a connection refused (not root or the server's user, "
			              "or %d connections open)", MAX_CONNS);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->bev = bufferevent_socket_new(a->s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev) {
		free(c);
		close(fd);
		return;
	}
	c->a = a;
	c->authed = a->ep.kind == TP_EP_UNIX;
	c->next = a->conns;
	a->conns = c;
	a->nconns++;
	bufferevent_setcb(c->bev, on_read, on_drained, on_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, LINE_MAX_LEN + 2);
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* A unix listener at path: a stale socket file is replaced, a live one (a
 * server already running) is not; the file is 0600. */
static int listen_unix(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, err;
	mode_t old;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		close(fd);
		return -EADDRINUSE;
	}
	if (errno == ECONNREFUSED)
		unlink(path);
	close(fd);
	{
		/* the directory (e.g. /run/turnpike), if missing */
		char dir[sizeof(sun.sun_path)];
		char *slash;

		snprintf(dir, sizeof(dir), "%s", path);
		slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			(void)mkdir(dir, 0750);
		}
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	old = umask(077);
	err = bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 ? 0 : -errno;
	umask(old);
	if (!err && (chmod(path, 0600) != 0 || listen(fd, 16) != 0))
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

struct tp_admin *tp_admin_open(struct tp_srv *s, const struct tp_control *ctl, char *err,
                               size_t errlen)
{
	struct tp_admin *a;
	const char *why;
	int fd;

	a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "admin: out of memory");
		return NULL;
	}
	if (tp_endpoint_parse(s->conf->admin, &a->ep, &why) != 0 || a->ep.kind == TP_EP_NONE) {
		free(a);
		err[0] = '\0';
		return NULL;
	}
	fd = a->ep.kind == TP_EP_UNIX
	             ? listen_unix(a->ep.path)
	             : tp_sock_bind(&a->ep.addr, SOCK_STREAM, TP_SOCK_REUSEADDR | TP_SOCK_LISTEN,
	                            NULL);
	if (fd < 0) {
		snprintf(err, errlen, "admin socket %s: %s (set admin = \"\" to run without one)",
		         s->conf->admin, strerror(-fd));
		free(a);
		return NULL;
	}
	a->lev = evconnlistener_new(s->base, on_accept, a, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (!a->lev) {
		close(fd);
		free(a);
		snprintf(err, errlen, "admin: out of memory");
		return NULL;
	}
	a->s = s;
	a->ctl = *ctl;
	a->started = tp_now(s);
	tp_info(NULL, "admin socket %s", s->conf->admin);
	return a;
}

void tp_admin_free(struct tp_admin *a)
{
	if (!a)
		return;
	while (a->conns)
		conn_free(a->conns);
	evconnlistener_free(a->lev);
	if (a->ep.kind == TP_EP_UNIX)
		unlink(a->ep.path);
	free(a);
}
