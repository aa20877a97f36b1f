/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * conf_hints.c - what an unknown option is answered with: the closest
 * option name (a typo), or turnpike's equivalent of a coturn option; and the
 * recognition of a coturn turnserver.conf handed to turnpike.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "conf_priv.h"

/* ---- unknown options ------------------------------------------------- */

/* coturn's options operators carry over, with turnpike's equivalent (NULL: none
 * needed or not supported); docs/MIGRATING-FROM-COTURN.md has the whole table
 * and the reasons. */
static const struct {
	const char *coturn, *tp;
} coturn_opts[] = {
	{ "listening-port", "listen" }, { "tls-listening-port", "listen" },
	{ "alt-listening-port", "other-port" }, { "alt-tls-listening-port", NULL },
	{ "listening-ip", "listen" }, { "relay-ip", "relay-ip" },
	{ "external-ip", "external-ip" }, { "min-port", "min-port" }, { "max-port", "max-port" },
	{ "realm", "realm" }, { "use-auth-secret", NULL },
	{ "static-auth-secret", "static-auth-secret" }, { "lt-cred-mech", NULL },
	{ "user", "users" }, { "userdb", "users-file" }, { "redis-userdb", "redis" },
	{ "redis-statsdb", NULL }, { "total-quota", "total-quota" },
	{ "user-quota", "user-quota" }, { "max-bps", "max-bps" },
	{ "bps-capacity", "bps-capacity" }, { "cert", "tls-cert" }, { "pkey", "tls-key" },
	{ "cipher-list", NULL }, { "no-tls", "listen" }, { "no-dtls", "listen" },
	{ "no-udp", "listen" }, { "no-tcp", "listen" }, { "denied-peer-ip", "denied-peer" },
	{ "allowed-peer-ip", "allowed-peer" }, { "no-multicast-peers", NULL },
	{ "no-loopback-peers", NULL }, { "fingerprint", NULL }, { "stale-nonce", "nonce-lifetime" },
	{ "alternate-server", "alternate-server" }, { "cli-password", "admin-token" },
	{ "prometheus", "metrics" }, { "log-file", NULL }, { "syslog", NULL },
	{ "no-stdout-log", NULL }, { "pidfile", NULL }, { "proc-user", NULL },
	{ "proc-group", NULL }, { "mobility", "mobility" }, { "verbose", "log-level" },
	{ "Verbose", "log-level" }, { "no-cli", "admin" }, { "cli-ip", "admin" },
	{ "cli-port", "admin" }, { "server-name", NULL }, { "relay-threads", "workers" },
	{ "dh2066", NULL }, { "no-tlsv1", NULL }, { "no-tlsv1_1", NULL },
	{ "channel-lifetime", NULL }, { "permission-lifetime", NULL },
	{ "max-allocate-lifetime", "max-lifetime" }, { "no-rfc5780", "nat-discovery" },
	{ "secure-stun", NULL }, { "no-software-attribute", "software" },
	{ "web-admin", NULL }, { "simple-log", "log-format" }, { "new-log-timestamp", NULL },
	{ "no-auth", NULL }, { "stun-only", NULL }, { "no-stun", NULL },
	{ "rest-api-separator", NULL }, { "check-origin-consistency", NULL },
};

/* The coturn option of that name, or NULL. */
static const char *coturn_name(const char *name, const char **tp)
{
	for (size_t i = 0; i < sizeof(coturn_opts) / sizeof(coturn_opts[0]); i++)
		if (strcmp(coturn_opts[i].coturn, name) == 0) {
			*tp = coturn_opts[i].tp;
			return coturn_opts[i].coturn;
		}
	return NULL;
}

/* Edit distance (insertions, deletions, substitutions), for names < 64 bytes. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64];

	if (la >= 64 || lb >= 64)
		return 64;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

/* The option closest to name, if close enough to be a typo; else NULL. */
const char *tp_cfg_closest_opt(const char *name)
{
	size_t best = 64, limit = strlen(name) / 3 + 1;
	const char *who = NULL;

	if (limit > 3)
		limit = 3;
	for (size_t i = 0; i < tp_cfg_nopts; i++) {
		size_t d = edit_distance(name, tp_cfg_opts[i].name);

		if (d < best) {
			best = d;
			who = tp_cfg_opts[i].name;
		}
	}
	return best <= limit ? who : NULL;
}

/* "unknown option; did you mean 'listen'?" (or the coturn equivalent) in buf. */
const char *tp_cfg_unknown_why(const char *name, char *buf, size_t cap)
{
	const char *tp = NULL, *near = tp_cfg_closest_opt(name);

	if (coturn_name(name, &tp) && tp)
		snprintf(buf, cap, "unknown option: this is coturn's '%s'; turnpike's is '%s' (see "
		         "docs/MIGRATING-FROM-COTURN.md)", name, tp);
	else if (coturn_name(name, &tp))
		snprintf(buf, cap, "unknown option: this is coturn's '%s', which turnpike does not "
		         "need or have (see docs/MIGRATING-FROM-COTURN.md)", name);
	else if (near)
		snprintf(buf, cap, "unknown option; did you mean '%s'?", near);
	else
		snprintf(buf, cap, "unknown option (turnpike --print-config lists them all)");
	return buf;
}

/*
 * A file libconfig could not parse: if a line reads like coturn's
 * turnserver.conf ("name" or "name=value" without ';', name one of coturn's
 * options), its line number and name; else 0.
 */
int tp_cfg_coturn_line(const char *path, char *name, size_t cap)
{
	FILE *fp = fopen(path, "r");
	char line[1024];
	int no = 0, found = 0;
	bool semicolons = false;

	if (!fp)
		return 0;
	while (no < 100000 && fgets(line, sizeof(line), fp)) {
		char *p = line, *e, *v;
		const char *tp;

		no++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#' || *p == '\n' || *p == '\0')
			continue;
		if (strchr(p, ';')) {
			semicolons = true; /* libconfig's terminator: a turnpike file with a typo */
			break;
		}
		for (e = p; (*e >= 'a' && *e <= 'z') || (*e >= 'A' && *e <= 'Z') ||
		            (*e >= '0' && *e <= '9') || *e == '-' || *e == '_'; e++)
			;
		if (e == p || (*e != '=' && *e != ' ' && *e != '\t' && *e != '\n' && *e != '\r' &&
		               *e != '\0'))
			continue;
		for (v = e; *v == ' ' || *v == '\t'; v++)
			;
		if (*v == '=') /* a libconfig value ("...", [ ], ( ), { }) is no coturn line */
			for (v++; *v == ' ' || *v == '\t'; v++)
				;
		if (*v == '"' || *v == '[' || *v == '(' || *v == '{')
			continue;
		*e = '\0';
		if (!found && coturn_name(p, &tp)) {
			snprintf(name, cap, "%s", p);
			found = no;
		}
	}
	fclose(fp);
	return semicolons ? 0 : found;
}
