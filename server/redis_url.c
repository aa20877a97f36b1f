/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * redis_url.c - the redis = "..." URL and the options an instance is made
 * with. No hiredis here: the configuration loader checks the URL with
 * tp_redis_url_parse without pulling the connection code in.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "conf.h"
#include "redis.h"

#define HIDDEN "<hidden>"

/* Decode %XX escapes of s[0..n) into out (cap bytes, NUL-terminated).
 * -1 for a bad escape, a NUL, or no room. */
static int pct_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int ch = (unsigned char)s[i];
		if (ch == '%') {
			char hex[3] = { 0, 0, 0 };
			char *end;
			if (n - i < 3 || !isxdigit((unsigned char)s[i + 1]) ||
			    !isxdigit((unsigned char)s[i + 2]))
				return -1;
			hex[0] = s[i + 1];
			hex[1] = s[i + 2];
			ch = (int)strtol(hex, &end, 16);
			i += 2;
		}
		if (ch == 0 || o + 1 >= cap)
			return -1;
		out[o++] = (char)ch;
	}
	out[o] = '\0';
	return 0;
}

/* A decimal in s[0..n), at most max. -1 if not. */
static long long parse_dec(const char *s, size_t n, long long max)
{
	long long v = 0;

	if (n == 0 || n > 10)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

/* "[USER]:PASSWORD" of s[0..n). */
static int parse_userinfo(const char *s, size_t n, struct tp_redis_url *u, const char **why)
{
	const char *colon = memchr(s, ':', n);

	if (!colon) {
		*why = "credentials without ':' (expected [USER]:PASSWORD@)";
		return -EINVAL;
	}
	if (pct_decode(s, (size_t)(colon - s), u->user, sizeof(u->user)) ||
	    pct_decode(colon + 1, n - (size_t)(colon + 1 - s), u->password, sizeof(u->password))) {
		*why = "bad user or password (a bad %-escape, a NUL, or too long)";
		return -EINVAL;
	}
	if (!u->password[0]) {
		*why = "empty password after ':'";
		return -EINVAL;
	}
	if (strcmp(u->password, HIDDEN) == 0) {
		*why = "the password is the \"" HIDDEN "\" placeholder that --print-config writes "
		       "(expected the real value)";
		return -EINVAL;
	}
	return 0;
}

static bool host_ok(const char *h)
{
	struct in6_addr a6;

	if (h[0] == '[') {
		size_t n = strlen(h);
		char ip[INET6_ADDRSTRLEN];
		if (n < 3 || h[n - 1] != ']' || n - 2 >= sizeof(ip))
			return false;
		memcpy(ip, h + 1, n - 2);
		ip[n - 2] = '\0';
		return inet_pton(AF_INET6, ip, &a6) == 1;
	}
	if (!h[0])
		return false;
	for (const char *p = h; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '_')
			return false;
	return true;
}

/* redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] from after the scheme. */
static int parse_tcp(const char *s, struct tp_redis_url *u, const char **why)
{
	size_t alen = strcspn(s, "/?#");
	const char *at = NULL, *hp, *rest = s + alen;
	size_t hlen;

	for (const char *p = s; p < s + alen; p++)
		if (*p == '@')
			at = p;
	if (at && parse_userinfo(s, (size_t)(at - s), u, why))
		return -EINVAL;
	hp = at ? at + 1 : s;
	hlen = (size_t)(s + alen - hp);
	/* the port: after the last ':' outside brackets */
	const char *colon = NULL;
	for (const char *p = hp; p < hp + hlen; p++) {
		if (*p == ']')
			colon = NULL;
		else if (*p == ':')
			colon = p;
	}
	u->port = 6379;
	if (colon) {
		long long port = parse_dec(colon + 1, (size_t)(hp + hlen - colon - 1), 65535);
		if (port <= 0) {
			*why = "bad port (expected 1..65535)";
			return -EINVAL;
		}
		u->port = (uint16_t)port;
		hlen = (size_t)(colon - hp);
	}
	if (hlen >= sizeof(u->host)) {
		*why = "host name too long";
		return -EINVAL;
	}
	memcpy(u->host, hp, hlen);
	u->host[hlen] = '\0';
	if (!host_ok(u->host)) {
		*why = "bad host (expected a name, an IPv4 address or [IPv6])";
		return -EINVAL;
	}
	if (u->host[0] == '[') {          /* keep the address without brackets */
		memmove(u->host, u->host + 1, hlen - 2);
		u->host[hlen - 2] = '\0';
	}
	if (*rest == '\0' || strcmp(rest, "/") == 0)
		return 0;
	long long db = rest[0] == '/' ? parse_dec(rest + 1, strlen(rest + 1), 65535) : -1;
	if (db < 0) {
		*why = "bad database (expected /N, N 0..65535, and nothing after it)";
		return -EINVAL;
	}
	u->db = (uint32_t)db;
	return 0;
}

/* unix://[[USER]:PASSWORD@]/PATH[?db=N] from after the scheme. */
static int parse_unix(const char *s, struct tp_redis_url *u, const char **why)
{
	const char *slash = strchr(s, '/');
	const char *q;
	size_t plen;

	u->is_unix = true;
	if (!slash) {
		*why = "no socket path (expected unix:///PATH)";
		return -EINVAL;
	}
	if (slash != s) {
		if (slash[-1] != '@') {
			*why = "a host in a unix:// URL (expected unix:///PATH or "
			       "unix://:PASSWORD@/PATH)";
			return -EINVAL;
		}
		if (parse_userinfo(s, (size_t)(slash - 1 - s), u, why))
			return -EINVAL;
	}
	q = strchr(slash, '?');
	plen = q ? (size_t)(q - slash) : strlen(slash);
	if (plen < 2 || plen >= sizeof(u->path)) {
		*why = "socket path empty or longer than 107 bytes";
		return -EINVAL;
	}
	memcpy(u->path, slash, plen);
	u->path[plen] = '\0';
	if (!q)
		return 0;
	long long db = strncmp(q, "?db=", 4) == 0 ? parse_dec(q + 4, strlen(q + 4), 65535) : -1;
	if (db < 0) {
		*why = "bad query (expected ?db=N, N 0..65535)";
		return -EINVAL;
	}
	u->db = (uint32_t)db;
	return 0;
}

int tp_redis_url_parse(const char *s, struct tp_redis_url *u, const char **why)
{
	memset(u, 0, sizeof(*u));
	*why = NULL;
	if (strncmp(s, "rediss://", 9) == 0) {
		*why = "TLS to Redis (rediss://) needs hiredis >= 1.0 with hiredis_ssl; Debian 12 "
		       "ships hiredis 0.14.1, which has none (use unix:// or a TLS tunnel on "
		       "loopback)";
		return -ENOTSUP;
	}
	if (strncmp(s, "redis://", 8) == 0)
		return parse_tcp(s + 8, u, why);
	if (strncmp(s, "unix://", 7) == 0)
		return parse_unix(s + 7, u, why);
	*why = "not a Redis URL (expected redis://[:PASSWORD@]HOST:PORT/DB or "
	       "unix:///PATH?db=N)";
	return -EINVAL;
}

void tp_redis_opts_default(struct tp_redis_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->timeout_ms = 5;
	o->admin_timeout_ms = 2000;
	o->backoff_min_ms = 100;
	o->backoff_max_ms = 10000;
	o->heartbeat_ms = 1000;
	o->stall_ms = 2000;
	o->userdb_refresh_ms = 10000;
	o->loads_refresh_ms = 0;
	o->list_max = 10000;
	o->max_inflight = 10000;
}

static bool node_ok(const char *n)
{
	size_t len = strlen(n);

	if (len == 0 || len > TP_REDIS_NODE_MAX)
		return false;
	for (const char *p = n; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '_')
			return false;
	return true;
}

/* The first line of path into buf, without its line end. */
static int read_first_line(const char *path, char *buf, size_t cap, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f) {
		snprintf(err, errlen, "redis-password-file: %s: %s", path, strerror(errno));
		return -1;
	}
	if (!fgets(buf, (int)cap, f))
		buf[0] = '\0';
	fclose(f);
	n = strcspn(buf, "\r\n");
	if (n + 2 > cap) {    /* cap - 2 bytes at most: longer ones fill buf */
		snprintf(err, errlen, "redis-password-file: %s: the password is longer than %zu "
		         "bytes", path, cap - 2);
		return -1;
	}
	buf[n] = '\0';
	if (!buf[0]) {
		snprintf(err, errlen, "redis-password-file: %s: empty first line (expected the "
		         "password)", path);
		return -1;
	}
	return 0;
}

int tp_redis_opts_from_conf(const struct tp_conf *c, struct tp_redis_opts *o, char *err,
                            size_t errlen)
{
	const char *why = NULL;
	char pw[sizeof(o->url.password) + 1];

	tp_redis_opts_default(o);
	if (!c->redis || !c->redis[0])
		return 1;
	if (tp_redis_url_parse(c->redis, &o->url, &why) != 0) {
		snprintf(err, errlen, "redis: %s", why);
		return -1;
	}
	const char *tls[] = { c->redis_tls_ca, c->redis_tls_cert, c->redis_tls_key };
	const char *tls_names[] = { "redis-tls-ca", "redis-tls-cert", "redis-tls-key" };
	for (size_t i = 0; i < 3; i++)
		if (tls[i] && tls[i][0]) {
			snprintf(err, errlen, "%s: TLS to Redis is not available (hiredis 0.14 has no "
			         "TLS; use unix:// or a TLS tunnel on loopback)", tls_names[i]);
			return -1;
		}
	if (c->redis_password_file && c->redis_password_file[0]) {
		if (read_first_line(c->redis_password_file, pw, sizeof(pw), err, errlen))
			return -1;
		snprintf(o->url.password, sizeof(o->url.password), "%s", pw);
		memset(pw, 0, sizeof(pw));
	}
	if (c->node_id && c->node_id[0]) {
		snprintf(o->node, sizeof(o->node), "%s", c->node_id);
	} else {
		char host[256] = "";
		if (gethostname(host, sizeof(host) - 1) != 0 || !node_ok(host)) {
			snprintf(err, errlen, "node-id: the host name \"%s\" is not usable as a node "
			         "id (expected 1..64 of A-Z a-z 0-9 . - _): set node-id", host);
			return -1;
		}
		snprintf(o->node, sizeof(o->node), "%s", host);
	}
	if (!node_ok(o->node)) {
		snprintf(err, errlen, "node-id: \"%s\": expected 1..64 of A-Z a-z 0-9 . - _",
		         o->node);
		return -1;
	}
	snprintf(o->realm, sizeof(o->realm), "%s", c->realm ? c->realm : "");
	o->timeout_ms = c->redis_timeout_ms ? c->redis_timeout_ms : o->timeout_ms;
	return 0;
}

bool tp_redis_node_ok(const char *node)
{
	return node_ok(node);
}

void tp_redis_url_mask(const char *url, char *out, size_t cap)
{
	const char *s = strstr(url, "://");
	const char *end, *at = NULL;

	if (!s) {
		snprintf(out, cap, "%s", url);
		return;
	}
	s += 3;
	end = s + strcspn(s, "/?#");
	for (const char *p = s; p < end; p++)
		if (*p == '@')
			at = p;
	if (!at) {
		snprintf(out, cap, "%s", url);
		return;
	}
	/* keep the user: "redis://USER:<hidden>@HOST..." */
	const char *colon = memchr(s, ':', (size_t)(at - s));
	size_t keep = (size_t)((colon ? colon : s) - url);
	snprintf(out, cap, "%.*s:" HIDDEN "%s", (int)keep, url, at);
}
