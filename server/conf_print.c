/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * conf_print.c - the configuration as text: --print-config (libconfig that
 * loads again, secrets as "<hidden>" unless asked for), the diff a reload
 * logs, the auth mode of the start-up lines, and turnpike.conf(5) from the
 * table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <sodium.h>

#include "conf_priv.h"
#include "log.h"
#include "redis_url.h"

/* ---- printing -------------------------------------------------------- */

/* A libconfig string literal. */
static void print_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

void tp_cfg_fmt_ip(const struct tp_addr *a, char *b, size_t cap)
{
	if (!inet_ntop(a->family == AF_INET ? AF_INET : AF_INET6, a->ip, b, (socklen_t)cap))
		snprintf(b, cap, "?");
}

static void print_elem(FILE *f, const struct tp_conf *c, const struct opt *o, size_t i,
                       unsigned flags)
{
	static const char *const pnames[] = { "?", "udp", "tcp", "tls", "dtls", "ws" };
	char ip[INET6_ADDRSTRLEN], ip2[INET6_ADDRSTRLEN], b[160];
	const void *v = (const char *)c + o->off;

	switch (o->type) {
	case T_LISTEN: {
		const struct tp_listen *l = &((const struct tp_listen *)v)[i];
		tp_cfg_fmt_ip(&l->addr, ip, sizeof(ip));
		snprintf(b, sizeof(b), l->addr.family == AF_INET6 ? "%s:[%s]:%u%s" : "%s:%s:%u%s",
		         pnames[l->proto <= TP_LISTEN_WS ? l->proto : 0], ip, l->addr.port,
		         l->proxy ? " proxy-protocol" : "");
		break;
	}
	case T_EXTERNAL: {
		const struct tp_external_ip *e = &((const struct tp_external_ip *)v)[i];
		tp_cfg_fmt_ip(&e->pub, ip, sizeof(ip));
		if (e->priv.family) {
			tp_cfg_fmt_ip(&e->priv, ip2, sizeof(ip2));
			snprintf(b, sizeof(b), "%s/%s", ip, ip2);
		} else {
			snprintf(b, sizeof(b), "%s", ip);
		}
		break;
	}
	case T_ADDRS:
		tp_cfg_fmt_ip(&((const struct tp_addr *)v)[i], b, sizeof(b));
		break;
	case T_HOSTPORTS:
		tp_addr_fmt(&((const struct tp_addr *)v)[i], b, sizeof(b));
		break;
	case T_CIDRS: {
		const struct tp_cidr *r = &((const struct tp_cidr *)v)[i];
		tp_cfg_fmt_ip(&r->net, ip, sizeof(ip));
		snprintf(b, sizeof(b), "%s/%u", ip, r->prefix);
		break;
	}
	case T_SECRETS:
		print_str(f, flags & TP_CONF_SHOW_SECRETS ? ((char *const *)v)[i] : HIDDEN);
		return;
	default:
		snprintf(b, sizeof(b), "?");
	}
	print_str(f, b);
}

static void print_users(FILE *f, const struct tp_conf *c, unsigned flags)
{
	if (c->nusers == 0) {
		fputs("( )", f);
		return;
	}
	fputs("(\n", f);
	for (size_t i = 0; i < c->nusers; i++) {
		const struct tp_user *u = &c->users[i];
		fputs("\t{ name = ", f);
		print_str(f, u->name);
		if (u->password) {
			fputs("; password = ", f);
			print_str(f, flags & TP_CONF_SHOW_SECRETS ? u->password : HIDDEN);
		} else {
			char hex[35] = "0x";
			for (int k = 0; k < 16; k++)
				snprintf(hex + 2 + 2 * k, 3, "%02x", u->key_md5[k]);
			fputs("; key = ", f);
			print_str(f, flags & TP_CONF_SHOW_SECRETS ? hex : HIDDEN);
		}
		fprintf(f, "; }%s\n", i + 1 < c->nusers ? "," : "");
	}
	fputs(")", f);
}

static void print_value(FILE *f, const struct tp_conf *c, const struct opt *o, unsigned flags)
{
	const void *v = (const char *)c + o->off;

	switch (o->type) {
	case T_U32:
		fprintf(f, "%u", *(const uint32_t *)v);
		return;
	case T_PORT:
		fprintf(f, "%u", *(const uint16_t *)v);
		return;
	case T_BOOL:
		fputs(*(const bool *)v ? "true" : "false", f);
		return;
	case T_STR:
	case T_FILE_OF: {
		const char *s = *(char *const *)v ? *(char *const *)v : "";

		/* the admin token is a password: never in a printed configuration */
		if (s[0] && !(flags & TP_CONF_SHOW_SECRETS) && strcmp(o->name, "admin-token") == 0)
			s = HIDDEN;
		print_str(f, s);
		return;
	}
	case T_URL: {
		const char *u = *(char *const *)v ? *(char *const *)v : "";
		char masked[1100];
		if (!(flags & TP_CONF_SHOW_SECRETS)) {
			tp_redis_url_mask(u, masked, sizeof(masked));
			u = masked;
		}
		print_str(f, u);
		return;
	}
	case T_LOGLEVEL:
		print_str(f, tp_log_level_name(*(const int *)v));
		return;
	case T_LOGFORMAT:
		print_str(f, *(const bool *)v ? "json" : "text");
		return;
	case T_USERS:
		print_users(f, c, flags);
		return;
	default:
		break;
	}
	size_t n = *(const size_t *)(const void *)((const char *)c + o->cnt_off);
	if (n == 0) {
		fputs("[ ]", f);
		return;
	}
	fputs("[ ", f);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputs(", ", f);
		print_elem(f, c, o, i, flags);
	}
	fputs(" ]", f);
}

void tp_conf_write(const struct tp_conf *c, FILE *f, unsigned flags)
{
	fprintf(f, "# turnpike %s configuration%s%s\n", TP_VERSION,
	        c->path ? " loaded from " : " (built-in defaults)", c->path ? c->path : "");
	if (!(flags & TP_CONF_SHOW_SECRETS))
		fputs("# Passwords, keys and secrets are shown as \"" HIDDEN "\": replace them "
		      "before loading this file.\n", f);
	for (size_t i = 0; i < tp_cfg_nopts; i++) {
		const struct opt *o = &tp_cfg_opts[i];
		fprintf(f, "\n# %s\n# default: %s", o->doc, o->def);
		if (o->type == T_U32 || o->type == T_PORT)
			fprintf(f, " (range %lld..%lld)", o->min, o->max);
		fprintf(f, "\n%s = ", o->name);
		print_value(f, c, o, flags);
		fputs(";\n", f);
	}
}

void tp_conf_print(const struct tp_conf *c, FILE *f)
{
	tp_conf_write(c, f, 0);
}

/* Passwords, keys, secrets and tokens: a diff says only "changed". */
static bool is_secret(const struct opt *o)
{
	return o->type == T_SECRETS || o->type == T_USERS || strcmp(o->name, "admin-token") == 0 ||
	       strcmp(o->name, "signal-token") == 0;
}

static char *value_text(const struct tp_conf *c, const struct opt *o, unsigned flags)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	print_value(f, c, o, flags);
	fclose(f);
	return buf;
}

size_t tp_conf_diff(const struct tp_conf *a, const struct tp_conf *b,
                    void (*fn)(void *arg, const char *line), void *arg)
{
	size_t changed = 0;

	for (size_t i = 0; i < tp_cfg_nopts; i++) {
		const struct opt *o = &tp_cfg_opts[i];
		char *fa = value_text(a, o, TP_CONF_SHOW_SECRETS), *fb = value_text(b, o,
		                                                                     TP_CONF_SHOW_SECRETS);
		char *pa = NULL, *pb = NULL, line[600];

		if (fa && fb && strcmp(fa, fb) != 0) {
			changed++;
			pa = is_secret(o) ? NULL : value_text(a, o, 0);
			pb = is_secret(o) ? NULL : value_text(b, o, 0);
			/* a URL whose password alone changed prints the same both times */
			if (pa && pb && strcmp(pa, pb) != 0)
				snprintf(line, sizeof(line), "%s: %.280s -> %.280s", o->name, pa, pb);
			else
				snprintf(line, sizeof(line), "%s: changed", o->name);
			fn(arg, line);
		}
		if (fa)
			sodium_memzero(fa, strlen(fa));
		if (fb)
			sodium_memzero(fb, strlen(fb));
		free(fa);
		free(fb);
		free(pa);
		free(pb);
	}
	return changed;
}

void tp_conf_auth_mode(const struct tp_conf *c, bool demo, char *out, size_t cap)
{
	if (demo)
		snprintf(out, cap, "demo user (no users or static-auth-secret: for trying out only)");
	else if (c->nusers && c->nsecrets)
		snprintf(out, cap, "static users (%zu) and TURN REST secrets (%zu)", c->nusers,
		         c->nsecrets);
	else if (c->nusers)
		snprintf(out, cap, "static users (%zu)", c->nusers);
	else if (c->nsecrets)
		snprintf(out, cap, "TURN REST secrets (%zu)", c->nsecrets);
	else if (c->redis && c->redis[0])
		snprintf(out, cap, "users and secrets from Redis only");
	else
		snprintf(out, cap, "none: every allocation is refused (set users or "
		         "static-auth-secret)");
}

/* ---- the manual page ------------------------------------------------- */

/* Text for roff: backslash as \e, '-' as \- (a minus to copy and paste), and
 * a zero-width \& before a leading '.' or '\'' so no line becomes a request. */
static void man_text(FILE *f, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else if (*s == '\n')
			fputs("\n.br\n", f);
		else
			fputc(*s, f);
	}
}

/* What an option's value is, from its type and bounds. */
static void man_type(FILE *f, const struct opt *o)
{
	switch (o->type) {
	case T_U32:
		fprintf(f, "integer, %lld to %lld", o->min, o->max);
		break;
	case T_PORT:
		fprintf(f, "port number, %lld to %lld", o->min, o->max);
		break;
	case T_BOOL:
		fputs("boolean (true or false)", f);
		break;
	case T_STR:
		if (o->min > 0)
			fprintf(f, "string, %lld to %lld bytes", o->min, o->max);
		else
			fprintf(f, "string, at most %lld bytes", o->max);
		break;
	case T_LOGLEVEL:
		fputs("string: \"error\", \"warn\", \"info\" or \"debug\"", f);
		break;
	case T_URL:
		fprintf(f, "URL string, at most %lld bytes", o->max);
		break;
	case T_FILE_OF:
		fprintf(f, "file name, at most %lld bytes", o->max);
		break;
	case T_LISTEN:
		fprintf(f, "list of \"PROTO:ADDR:PORT\" strings, %lld to %lld entries", o->min,
		        o->max);
		break;
	case T_EXTERNAL:
		fprintf(f, "list of \"PUBLIC\" or \"PUBLIC/PRIVATE\" addresses, at most %lld", o->max);
		break;
	case T_ADDRS:
		fprintf(f, "list of IP addresses, at most %lld", o->max);
		break;
	case T_CIDRS:
		fprintf(f, "list of address ranges (\"ADDR/PREFIX\"), at most %lld", o->max);
		break;
	case T_SECRETS:
		fprintf(f, "list of strings, at most %lld", o->max);
		break;
	case T_USERS:
		fprintf(f, "list of groups, at most %lld", o->max);
		break;
	default:
		fputs("see the description", f);
		break;
	}
}

void tp_conf_man(FILE *f)
{
	fputs(".\\\" turnpike.conf(5): generated from the option table in server/conf.c\n"
	      ".\\\" by tp_conf_man() at build time; edit the table, not this page.\n", f);
	fprintf(f, ".TH TURNPIKE.CONF 5 \"\" \"turnpike %s\" \"File Formats\"\n", TP_VERSION);
	fputs(".SH NAME\n"
	      "turnpike.conf \\- configuration of the turnpike STUN/TURN server\n"
	      ".SH SYNOPSIS\n"
	      ".B /etc/turnpike/turnpike.conf\n"
	      ".SH DESCRIPTION\n"
	      "The configuration file of\n.BR turnpike (8),\n"
	      "in libconfig syntax: one \\fIname\\fR \\fB=\\fR \\fIvalue\\fR\\fB;\\fR per option,\n"
	      "\\fB#\\fR comments, strings in double quotes, lists as\n"
	      "\\fB[ \"a\", \"b\" ]\\fR and groups as \\fB{ key = value; }\\fR.\n"
	      "Every option is optional: a missing option has the default shown below.\n"
	      ".PP\n"
	      "An unknown option, a value of the wrong type or out of range, and the options\n"
	      "that contradict each other stop the server at start with a message naming the\n"
	      "file, the line and the option, e.g.\n"
	      ".RS\n.EX\n"
	      "turnpike.conf:12: max\\-port: 70000 is out of range (expected 1024..65535)\n"
	      ".EE\n.RE\n"
	      ".PP\n"
	      "An unknown option is answered with the closest known one (\\(lqdid you mean\\(rq),\n"
	      "or, for an option of coturn, with turnpike's equivalent; a coturn\n"
	      ".I turnserver.conf\n"
	      "is recognised and refused (see MIGRATING\\-FROM\\-COTURN.md).\n"
	      ".PP\n"
	      "Every option can also be given in the environment as\n"
	      ".BI TURNPIKE_ OPTION\n"
	      "(upper case, \\- as _) or on the command line as\n"
	      ".BI \\-\\-set \" option\" = value\\fR;\n"
	      "see\n.BR turnpike (8).\n"
	      "An option named \\fIX\\fB\\-file\\fR gives a file whose content is the value of\n"
	      "\\fIX\\fR (secrets kept out of this file, the environment and the process list).\n"
	      ".PP\n"
	      "A reload (SIGHUP) reads the file again (and applies the environment and\n"
	      "the command line over it) and logs every option that changed, secrets only as\n"
	      "changed; a file that does not load is logged and the running configuration is\n"
	      "kept.\n"
	      ".B turnpike \\-\\-check\\-config\n"
	      "loads everything a start loads and prints what would be served.\n"
	      ".B turnpike \\-\\-print\\-config\n"
	      "prints the effective configuration with every option, its description and its\n"
	      "default; passwords, keys and secrets are shown as \\(lq<hidden>\\(rq.\n"
	      ".SH OPTIONS\n", f);
	for (size_t i = 0; i < tp_cfg_nopts; i++) {
		const struct opt *o = &tp_cfg_opts[i];

		fputs(".TP\n.B ", f);
		man_text(f, o->name);
		fputs("\n", f);
		man_text(f, o->doc);
		fputs(".\n.br\n", f);
		fputs("Value: ", f);
		man_type(f, o);
		fputs(". Default: \\fB", f);
		man_text(f, o->def);
		fputs("\\fR\n", f);
	}
	fputs(".SH FILES\n"
	      ".TP\n.I /etc/turnpike/turnpike.conf\n"
	      "The configuration the packaged systemd unit starts the server with.\n"
	      ".SH EXAMPLES\n"
	      "A TURN server on UDP and TCP 3478 and TLS on 443, with TURN REST credentials:\n"
	      ".RS\n.EX\n"
	      "listen = [ \"udp:0.0.0.0:3478\", \"tcp:0.0.0.0:3478\", \"tls:0.0.0.0:443\" ];\n"
	      "realm = \"turn.example.com\";\n"
	      "static\\-auth\\-secret = [ \"a long random string\" ];\n"
	      "tls\\-cert = \"/etc/turnpike/fullchain.pem\";\n"
	      "tls\\-key = \"/etc/turnpike/privkey.pem\";\n"
	      ".EE\n.RE\n"
	      ".SH SEE ALSO\n"
	      ".BR turnpike (8),\n"
	      ".BR turnpikectl (1)\n", f);
}
