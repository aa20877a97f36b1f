/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * report.c - the probe's output: a plain-language report, or one JSON document
 * (schema "turnpike-probe/1", documented in docs/PROBE.md; fields are only ever
 * added, never renamed or removed, within a schema version).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "probe.h"

/* ---- a minimal JSON writer: commas and escaping ---- */

struct jw {
	FILE *f;
	int depth;
	bool first[16];
};

static void jsep(struct jw *j)
{
	if (j->depth && !j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
}

static void jesc(struct jw *j, const char *s)
{
	fputc('"', j->f);
	for (size_t n = s ? strlen(s) : 0; n; s++, n--) {
		unsigned char c = (unsigned char)*s;
		size_t len;

		if (c == '"' || c == '\\') {
			fprintf(j->f, "\\%c", c);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(j->f, "\\u%04x", c);
		} else if (c < 0x80) {
			fputc(c, j->f);
		} else if ((len = tp_utf8_len((const unsigned char *)s, n)) != 0) {
			fwrite(s, 1, len, j->f);        /* UTF-8 passes through */
			s += len - 1;
			n -= len - 1;
		} else {
			fputs("\\ufffd", j->f);       /* not UTF-8: U+FFFD */
		}
	}
	fputc('"', j->f);
}

static void jkey(struct jw *j, const char *k)
{
	jsep(j);
	if (k) {
		jesc(j, k);
		fputc(':', j->f);
	}
}

static void jopen(struct jw *j, const char *k, char c)
{
	jkey(j, k);
	fputc(c, j->f);
	j->first[++j->depth] = true;
}

static void jclose(struct jw *j, char c)
{
	j->depth--;
	fputc(c, j->f);
}

static void jstr(struct jw *j, const char *k, const char *v)
{
	jkey(j, k);
	if (v)
		jesc(j, v);
	else
		fputs("null", j->f);
}

/* Empty strings as null: absent evidence. */
static void jstrn(struct jw *j, const char *k, const char *v)
{
	jstr(j, k, v && *v ? v : NULL);
}

static void jint(struct jw *j, const char *k, long long v)
{
	jkey(j, k);
	fprintf(j->f, "%lld", v);
}

static void jnum(struct jw *j, const char *k, double v)
{
	jkey(j, k);
	fprintf(j->f, "%.3f", v);
}

static void jbool(struct jw *j, const char *k, bool v)
{
	jkey(j, k);
	fputs(v ? "true" : "false", j->f);
}

static void jtri(struct jw *j, const char *k, int v)
{
	jkey(j, k);
	fputs(v > 0 ? "true" : v == 0 ? "false" : "null", j->f);
}

static void jaddr(struct jw *j, const char *k, const struct tp_addr *a, bool have)
{
	char s[64];

	if (!have || !a->family) {
		jstr(j, k, NULL);
		return;
	}
	tp_addr_fmt(a, s, sizeof(s));
	jstr(j, k, s);
}

/* "redirected_to": the servers a 300 Try Alternate sent the probe to, in order. */
static void jvia(struct jw *j, const struct tp_addr *via, size_t n)
{
	jopen(j, "redirected_to", '[');
	for (size_t i = 0; i < n; i++)
		jaddr(j, NULL, &via[i], true);
	jclose(j, ']');
}

static void json_nat(struct jw *j, const struct r_nat *n, const struct probe_result *r)
{
	static const char *const tests[3] = { "test1", "test2", "test3" };

	jopen(j, "nat", '{');
	jbool(j, "ran", n->ran);
	jbool(j, "rfc5780", n->rfc5780);
	jstrn(j, "note", n->why_not);
	jaddr(j, "local", &n->local, n->rfc5780);
	jaddr(j, "other_address", &n->other, n->rfc5780);
	jopen(j, "mapping", '{');
	jstr(j, "behavior", nat_map_name(n->mapping));
	jstrn(j, "evidence", n->map_evidence);
	for (int i = 0; i < 3; i++)
		jaddr(j, tests[i], &n->m[i], n->has_m[i]);
	jclose(j, '}');
	jopen(j, "filtering", '{');
	jstr(j, "behavior", nat_filter_name(n->filtering));
	jstrn(j, "evidence", n->filt_evidence);
	jtri(j, "test2_other_ip_port_answered", n->filt_t2);
	jtri(j, "test3_other_port_answered", n->filt_t3);
	jclose(j, '}');
	jopen(j, "hairpinning", '{');
	jtri(j, "works", n->hairpin);
	jstrn(j, "evidence", n->hairpin_evidence);
	jclose(j, '}');
	jopen(j, "lifetime", '{');
	jstr(j, "status", r->o->skip_lifetime ? "skipped" : n->lifetime_state > 0 ? "measured"
	                                                                            : "not-measured");
	if (n->lifetime_state > 0) {
		jint(j, "alive_s", n->alive_s);
		if (n->expired_s)
			jint(j, "expired_s", n->expired_s);
		else
			jstr(j, "expired_s", NULL);
	}
	jstrn(j, "evidence", n->lifetime_evidence);
	jclose(j, '}');
	jclose(j, '}');
}

static void json_turn(struct jw *j, const struct probe_result *r)
{
	jopen(j, "turn", '[');
	for (size_t i = 0; i < r->nturn; i++) {
		const struct r_turn *t = &r->turn[i];

		jopen(j, NULL, '{');
		jstr(j, "transport", probe_xport_name(t->xport));
		jint(j, "port", t->port);
		jaddr(j, "server", &t->server, true);
		jbool(j, "ok", t->ok);
		jbool(j, "reachable", t->reachable);
		jaddr(j, "relayed", &t->relayed, t->ok);
		jaddr(j, "mapped", &t->mapped, t->ok);
		jvia(j, t->via, t->nvia);
		if (t->ok) {
			jint(j, "lifetime_s", t->lifetime);
			jnum(j, "allocate_ms", t->ms);
		}
		if (t->code)
			jint(j, "error_code", t->code);
		else
			jstr(j, "error_code", NULL);
		jstrn(j, "error", t->error);
		jstrn(j, "hint", t->hint);
		jstrn(j, "tls", t->tls);
		jclose(j, '}');
	}
	jclose(j, ']');
}

static void json_relay(struct jw *j, const struct r_relay *rr)
{
	jopen(j, "relay", '{');
	jstr(j, "status", rr->status ? rr->status : "skipped");
	jstrn(j, "note", rr->note);
	jaddr(j, "relayed", &rr->relayed, true);
	jaddr(j, "peer", &rr->peer, true);
	jvia(j, rr->via, rr->nvia);
	if (rr->status && !strcmp(rr->status, "ok")) {
		jopen(j, "rtt_ms", '{');
		jint(j, "sent", (long long)rr->sent);
		jint(j, "received", (long long)rr->received);
		jnum(j, "min", rr->min);
		jnum(j, "avg", rr->avg);
		jnum(j, "p95", rr->p95);
		jclose(j, '}');
		jopen(j, "throughput", '{');
		jint(j, "packets_sent", (long long)rr->tput_sent);
		jint(j, "packets_received", (long long)rr->tput_received);
		jint(j, "bytes_received", (long long)rr->tput_bytes);
		jnum(j, "duration_ms", rr->tput_ms);
		jnum(j, "mbit_per_s", rr->tput_mbps);
		jclose(j, '}');
	}
	jclose(j, '}');
}

static void json_audit(struct jw *j, const struct r_audit *a, bool asked)
{
	jopen(j, "audit", '{');
	jbool(j, "ran", a->ran);
	jstr(j, "verdict", a->ran ? a->verdict : asked ? "not-run" : "not-requested");
	jstrn(j, "note", a->note);
	jopen(j, "checks", '[');
	for (size_t i = 0; i < a->n; i++) {
		const struct r_audit_case *c = &a->cases[i];

		jopen(j, NULL, '{');
		jstr(j, "peer", c->c->addr);
		jstr(j, "category", c->c->category);
		jtri(j, "accepted", c->accepted);
		if (c->code)
			jint(j, "error_code", c->code);
		else
			jstr(j, "error_code", NULL);
		jstrn(j, "note", c->note);
		jclose(j, '}');
	}
	jclose(j, ']');
	jclose(j, '}');
}

void report_verdict(const struct probe_result *r, const char **key, char *buf, size_t cap)
{
	const struct r_audit *a = &r->audit;
	size_t k = 0, used;

	if (r->resolve_error[0] || !r->stun_ok) {
		*key = "stun-failed";
		snprintf(buf, cap, "%s", r->resolve_error[0] ? r->resolve_error : "STUN does not work");
		return;
	}
	if (!r->turn_udp_ok) {
		*key = "turn-failed";
		snprintf(buf, cap, "TURN over UDP does not work");
		return;
	}
	if (r->exit_code != 3) {
		*key = "ok";
		snprintf(buf, cap, "STUN and TURN over UDP work%s",
		         !r->o->audit ? ""
		         : !a->ran ? "; the audit did not run"
		         : !strcmp(a->verdict, "secure") ? "; the peer-policy audit found it secure"
		                                         : "; the audit could not test any address");
		return;
	}
	*key = "insecure";
	used = (size_t)snprintf(buf, cap, "INSECURE: STUN and TURN over UDP work, but the server "
	                        "accepted permissions for addresses it must refuse:");
	for (size_t i = 0; i < a->n && used < cap; i++) {
		if (a->cases[i].accepted != 1)
			continue;
		if (k++ < 4)
			used += (size_t)snprintf(buf + used, cap - used, "%s %s", k > 1 ? "," : "",
			                         a->cases[i].c->addr);
	}
	if (k > 4 && used < cap)
		snprintf(buf + used, cap - used, " and %zu more", k - 4);
}

void report_json(const struct probe_result *r, FILE *f)
{
	struct jw j = { .f = f };
	const char *vkey;
	char vtext[512];

	jopen(&j, NULL, '{');
	jstr(&j, "schema", PROBE_SCHEMA);
	jopen(&j, "server", '{');
	jstr(&j, "spec", r->o->server);
	jstr(&j, "host", r->host);
	jopen(&j, "addresses", '[');
	for (size_t i = 0; i < r->nsrv; i++)
		jaddr(&j, NULL, &r->srv[i], true);
	jclose(&j, ']');
	jstrn(&j, "software", r->software);
	jstrn(&j, "error", r->resolve_error);
	jclose(&j, '}');
	jbool(&j, "ok", r->exit_code == 0);
	jint(&j, "exit_code", r->exit_code);
	report_verdict(r, &vkey, vtext, sizeof(vtext));
	jstr(&j, "verdict", vkey);
	jstr(&j, "verdict_text", vtext);
	jint(&j, "duration_ms", r->duration_ms);
	jbool(&j, "budget_exhausted", r->budget_exhausted);
	jopen(&j, "stun", '{');
	jbool(&j, "ok", r->stun_ok);
	jopen(&j, "bindings", '[');
	for (size_t i = 0; i < r->nbind; i++) {
		const struct r_binding *b = &r->bind[i];

		jopen(&j, NULL, '{');
		jstr(&j, "interface", b->ifname);
		jstr(&j, "family", probe_family_name(b->family));
		jaddr(&j, "local", &b->local, true);
		jaddr(&j, "server", &b->server, true);
		jbool(&j, "ok", b->ok);
		jaddr(&j, "mapped", &b->mapped, b->ok);
		if (b->ok) {
			jbool(&j, "behind_nat", !tp_addr_eq(&b->mapped, &b->local));
			jnum(&j, "rtt_ms", b->rtt_ms);
		}
		jstrn(&j, "error", b->error);
		jclose(&j, '}');
	}
	jclose(&j, ']');
	jclose(&j, '}');
	json_nat(&j, &r->nat, r);
	json_turn(&j, r);
	json_relay(&j, &r->relay);
	json_audit(&j, &r->audit, r->o->audit);
	jclose(&j, '}');
	fputc('\n', f);
}

/* ---- plain language ---- */

static const char *afmt(const struct tp_addr *a, char *buf, size_t cap)
{
	tp_addr_fmt(a, buf, cap);
	return buf;
}

static void print_via(const struct tp_addr *via, size_t n)
{
	char a[64];

	if (!n)
		return;
	printf("              after 300 Try Alternate to");
	for (size_t i = 0; i < n; i++)
		printf(" %s", afmt(&via[i], a, sizeof(a)));
	printf("\n");
}

void report_text(const struct probe_result *r)
{
	const struct r_nat *n = &r->nat;
	char a[64], b[64];

	printf("turnpike-probe: %s", r->o->server);
	if (r->software[0])
		printf(" (%s)", r->software);
	printf("\n");
	if (r->resolve_error[0]) {
		printf("  %s\n", r->resolve_error);
		goto verdict;
	}
	printf("\nPublic (server-reflexive) addresses:\n");
	for (size_t i = 0; i < r->nbind; i++) {
		const struct r_binding *x = &r->bind[i];

		if (x->ok)
			printf("  %-8s %s  local %s -> public %s%s (%.1f ms)\n", x->ifname,
			       probe_family_name(x->family), afmt(&x->local, a, sizeof(a)),
			       afmt(&x->mapped, b, sizeof(b)),
			       tp_addr_eq(&x->mapped, &x->local) ? " (no NAT)" : " (behind NAT)",
			       x->rtt_ms);
		else
			printf("  %-8s %s  local %s: %s\n", x->ifname, probe_family_name(x->family),
			       afmt(&x->local, a, sizeof(a)), x->error);
	}
	printf("\nNAT behaviour (RFC 5780):\n");
	if (!n->rfc5780) {
		printf("  %s\n", n->why_not);
	} else {
		printf("  mapping:     %s\n               %s\n", nat_map_name(n->mapping),
		       n->map_evidence);
		printf("  filtering:   %s\n               %s\n", nat_filter_name(n->filtering),
		       n->filt_evidence);
		printf("  hairpinning: %s\n               %s\n",
		       n->hairpin > 0 ? "yes" : n->hairpin == 0 ? "no" : "unknown",
		       n->hairpin_evidence);
	}
	printf("  lifetime:    %s\n", r->o->skip_lifetime ? "skipped (--skip-lifetime)"
	                                                    : n->lifetime_evidence);
	printf("\nTURN allocation:\n");
	for (size_t i = 0; i < r->nturn; i++) {
		const struct r_turn *t = &r->turn[i];

		printf("  %-4s %5u  ", probe_xport_name(t->xport), t->port);
		if (t->ok)
			printf("works: relayed %s, lifetime %u s (%.1f ms)\n",
			       afmt(&t->relayed, a, sizeof(a)), t->lifetime, t->ms);
		else
			printf("%s\n", t->error);
		print_via(t->via, t->nvia);
		if (t->hint && !t->ok)
			printf("              hint: %s\n", t->hint);
		if (t->tls[0])
			printf("              %s\n", t->tls);
	}
	printf("\nRelay to the probe's own second socket: %s\n", r->relay.status);
	if (r->relay.note[0])
		printf("  %s\n", r->relay.note);
	print_via(r->relay.via, r->relay.nvia);
	if (r->relay.status && !strcmp(r->relay.status, "ok"))
		printf("  RTT min %.2f / avg %.2f / p95 %.2f ms (%zu of %zu answered)\n"
		       "  throughput %.1f Mbit/s (%zu of %zu packets of 1000 bytes arrived)\n",
		       r->relay.min, r->relay.avg, r->relay.p95, r->relay.received, r->relay.sent,
		       r->relay.tput_mbps, r->relay.tput_received, r->relay.tput_sent);
	if (r->o->audit) {
		printf("\nPeer policy audit: %s\n", r->audit.ran ? r->audit.verdict : "not run");
		if (r->audit.note[0])
			printf("  %s\n", r->audit.note);
		for (size_t i = 0; i < r->audit.n; i++)
			printf("  %-24s %-40s %s\n", r->audit.cases[i].c->addr,
			       r->audit.cases[i].c->category, r->audit.cases[i].note);
	}
verdict:
	{
		const char *key;
		char v[512];

		report_verdict(r, &key, v, sizeof(v));
		printf("\nVerdict: %s (%.1f s)\n", v, (double)r->duration_ms / 1000.0);
	}
}
