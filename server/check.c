/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * check.c - what a configuration will serve, in words, and the checks that
 * need more than the file: certificates loaded into an SSL_CTX, the Redis
 * password file, the relay addresses chosen at start against external-ip.
 *
 * turnpike --check-config prints these lines and exits 0 or 1; a start logs
 * the same lines (the start-up lines of issue 17 item 5), so what the check
 * says is what the server then does.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "check.h"
#include "listen_tcp.h"
#include "ports.h"
#include "redis.h"
#include "shared.h"
#include "srv.h"

static const char *const proto_names[] = { "?", "udp", "tcp", "tls", "dtls", "ws" };

static void ip_str(const struct tp_addr *a, char *b, size_t cap)
{
	if (!inet_ntop(a->family == AF_INET6 ? AF_INET6 : AF_INET, a->ip, b, (socklen_t)cap))
		snprintf(b, cap, "?");
}

int tp_check_external(const struct tp_conf *c, const struct tp_shared *sh, char *err,
                      size_t errlen)
{
	for (size_t i = 0; i < c->nexternal; i++) {
		const struct tp_external_ip *e = &c->external[i];
		char pub[64], priv[64], have[256] = "";
		size_t off = 0;
		bool found = !e->priv.family;

		for (size_t k = 0; k < sh->npools; k++) {
			char a[64];

			if (sh->pools[k]->ip.family != e->priv.family)
				continue;
			found |= tp_addr_ip_eq(&sh->pools[k]->ip, &e->priv);
			ip_str(&sh->pools[k]->ip, a, sizeof(a));
			if (off < sizeof(have))
				off += (size_t)snprintf(have + off, sizeof(have) - off, "%s%s",
				                        off ? ", " : "", a);
		}
		if (!have[0])
			snprintf(have, sizeof(have), "none of this family");
		if (found)
			continue;
		ip_str(&e->pub, pub, sizeof(pub));
		ip_str(&e->priv, priv, sizeof(priv));
		snprintf(err, errlen, "external-ip \"%s/%s\": %s is none of the relay addresses "
		         "(%s%s), so relayed addresses would never be mapped to %s: set relay-ip = "
		         "[ \"%s\" ] or correct the private part", pub, priv, priv,
		         c->nrelay_ip ? "relay-ip " : "chosen at start: ", have, pub, priv);
		return -EINVAL;
	}
	return 0;
}

/* "subject CN=turn.example.com, expires 2027-03-01 12:00:00 UTC (in 88 days)". */
static int describe_cert(const char *path, char *out, size_t cap)
{
	FILE *fp = fopen(path, "r");
	X509 *x;
	char subj[256] = "?", when[64] = "?";
	struct tm tm;
	int days = 0, secs = 0;

	if (!fp) {
		snprintf(out, cap, "%s: %s", path, strerror(errno));
		return -1;
	}
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	if (!x) {
		snprintf(out, cap, "%s: no PEM certificate in it", path);
		ERR_clear_error();
		return -1;
	}
	X509_NAME_oneline(X509_get_subject_name(x), subj, sizeof(subj));
	if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x));
	snprintf(out, cap, "subject %s, expires %s (%s %d days)", subj, when,
	         days < 0 || (days == 0 && secs < 0) ? "EXPIRED" : "in", days < 0 ? -days : days);
	X509_free(x);
	return 0;
}

void tp_check_describe(const struct tp_conf *c, const struct tp_shared *sh, bool demo,
                       void (*line)(void *arg, const char *text), void *arg)
{
	char b[1024], a[160], p[64];

	tp_conf_auth_mode(c, demo, a, sizeof(a));
	snprintf(b, sizeof(b), "realm \"%s\", auth: %s%s%s", c->realm, a,
	         c->users_file && c->users_file[0] ? ", users-file " : "",
	         c->users_file && c->users_file[0] ? c->users_file : "");
	line(arg, b);
	for (size_t i = 0; sh && i < sh->npools; i++) {
		struct tp_addr pub;
		const struct tp_addr *ip = &sh->pools[i]->ip;

		tp_conf_public_addr(c, ip, &pub);
		ip_str(ip, a, sizeof(a));
		ip_str(&pub, p, sizeof(p));
		snprintf(b, sizeof(b), "relay IPv%c %s%s%s ports %u-%u%s",
		         ip->family == AF_INET6 ? '6' : '4', a,
		         tp_addr_ip_eq(ip, &pub) ? "" : " -> external ",
		         tp_addr_ip_eq(ip, &pub) ? "" : p, c->min_port, c->max_port,
		         c->nrelay_ip ? "" : " (chosen at start: no relay-ip)");
		line(arg, b);
	}
	if (c->tls_cert && c->tls_cert[0]) {
		char d[512];

		describe_cert(c->tls_cert, d, sizeof(d));
		snprintf(b, sizeof(b), "certificate %s: %s", c->tls_cert, d);
		line(arg, b);
	}
}

static void print_line(void *arg, const char *text)
{
	fprintf(arg, "  %s\n", text);
}

int tp_check_config(const struct tp_conf *c, bool demo, FILE *out, char *err, size_t errlen)
{
	struct tp_shared *sh = NULL;
	struct tp_redis_opts ro;
	SSL_CTX *ctx = NULL;
	bool redis_ok;
	int rc = -1;

	if (c->tls_cert && c->tls_cert[0]) {
		if (!(ctx = tp_tls_ctx_new(c, false, err, errlen)))
			goto out;
		SSL_CTX_free(ctx);
		if (!(ctx = tp_tls_ctx_new(c, true, err, errlen)))
			goto out;
		SSL_CTX_free(ctx);
		ctx = NULL;
	}
	redis_ok = tp_redis_opts_from_conf(c, &ro, err, errlen) >= 0; /* 1: no redis */
	sodium_memzero(&ro, sizeof(ro));   /* a Redis password, on either path */
	if (!redis_ok)
		goto out;
	if (!(sh = tp_shared_create())) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (tp_srv_shared_setup(sh, c, err, errlen) != 0 || tp_check_external(c, sh, err, errlen))
		goto out;

	fprintf(out, "configuration %s: OK\n", c->path ? c->path : "(built-in defaults)");
	fputs("would serve:\n", out);
	for (size_t i = 0; i < c->nlisten; i++) {
		char a[64];

		tp_addr_fmt(&c->listen[i].addr, a, sizeof(a));
		fprintf(out, "  listen %s %s%s\n", proto_names[c->listen[i].proto <= TP_LISTEN_WS ?
		                                              c->listen[i].proto : 0], a,
		        c->listen[i].proxy ? " (PROXY protocol header required, from proxy-trusted "
		                             "sources only)" : "");
	}
	tp_check_describe(c, sh, demo, print_line, out);
	if (c->metrics && c->metrics[0])
		fprintf(out, "  metrics %s\n", c->metrics);
	if (c->admin && c->admin[0])
		fprintf(out, "  admin %s\n", c->admin);
	if (c->redis && c->redis[0])
		fprintf(out, "  cluster store: Redis (node-id %s)\n",
		        c->node_id && c->node_id[0] ? c->node_id : "the host name");
	rc = 0;
out:
	tp_shared_free(sh);
	return rc;
}
