/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * html.c - turnpike-probe --report FILE.html: the run as one self-contained
 * page (inline CSS and SVG; no script runs, nothing is fetched).
 *
 *   - the verdict, as in the text report's last line;
 *   - the NAT picture: this host, the NAT, and the server's two addresses
 *     (RFC 5780), with the mapping tests I-III (where each went and the
 *     mapped address it got) and the filtering tests II and III (did the
 *     answer from the other address come back), and the behaviours they decide;
 *   - TURN per transport and port, with the Allocate time drawn to scale; the
 *     relay check's RTT min/avg/p95 and throughput;
 *   - the audit's verdict per address;
 *   - the JSON document (the source of truth) embedded as a data block.
 *
 * Drawn from struct probe_result, which the JSON is written from too; elements
 * carry data-* attributes with the JSON's values so a test can compare them.
 */
#include <stdio.h>
#include <string.h>

#include "probe.h"

#define W 1040

static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

static const char *afmt(const struct tp_addr *a, bool have, char *buf, size_t cap)
{
	if (!have || !a->family)
		snprintf(buf, cap, "-");
	else
		tp_addr_fmt(a, buf, cap);
	return buf;
}

static const char css[] =
	"body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d1d1f;max-width:1080px}"
	"h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:26px 0 8px}"
	".sub{color:#555}.verdict{font-size:16px;font-weight:600;padding:8px 12px;"
	"border-radius:6px}.v-ok{background:#eaf6ee;color:#0a5d26}.v-insecure,.v-stun-failed,"
	".v-turn-failed{background:#fdecec;color:#a11d23}"
	"table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;"
	"padding:3px 7px;text-align:left;vertical-align:top}th{background:#f4f4f6}"
	".yes{color:#0a7d32}.no{color:#c0262d}.na{color:#777}"
	"svg text{font:12px system-ui,sans-serif}svg .s{font-size:11px;fill:#555}"
	"svg .b{font-weight:600}code,pre{font:12px ui-monospace,monospace}"
	"pre{background:#f6f6f8;padding:10px;overflow:auto;white-space:pre-wrap;"
	"word-break:break-all}";

/* ---- the NAT picture ------------------------------------------------------ */

static void box(FILE *f, int x, int y, int w, int h, const char *fill)
{
	fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"6\" "
	        "style=\"fill:%s;stroke:#999\"/>", x, y, w, h, fill);
}

static void text(FILE *f, int x, int y, const char *cls, const char *anchor, const char *s)
{
	fprintf(f, "<text x=\"%d\" y=\"%d\"%s%s%s text-anchor=\"%s\">", x, y, cls ? " class=\"" : "",
	        cls ? cls : "", cls ? "\"" : "", anchor);
	esc(f, s);
	fputs("</text>", f);
}

/* One mapping test: the probe -> NAT -> a server address, and what came back.
 * run: the test was needed (RFC 5780 §4.3 stops once a test decides). */
static void map_test(FILE *f, int i, int y, const char *to, const char *mapped, bool have,
                     bool run)
{
	static const char *const names[3] = { "test I", "test II", "test III" };
	const char *col = have ? "#2563eb" : run ? "#c0262d" : "#999";
	char lbl[160];

	fprintf(f, "<g class=\"map-test\" data-test=\"test%d\" data-run=\"%s\" data-to=\"",
	        i + 1, run ? "true" : "false");
	esc(f, to);
	fputs("\" data-mapped=\"", f);
	esc(f, have ? mapped : "");
	fputs("\">", f);
	fprintf(f, "<line x1=\"170\" y1=\"%d\" x2=\"742\" y2=\"%d\" style=\"stroke:%s;"
	        "stroke-width:1.6%s\"/><path d=\"M750,%d l-8,-4 v8 z\" style=\"fill:%s\"/>", y, y,
	        col, run ? "" : ";stroke-dasharray:5 4", y, col);
	snprintf(lbl, sizeof(lbl), "%s to %s", names[i], to);
	text(f, 180, y - 5, "b", "start", lbl);
	if (have)
		snprintf(lbl, sizeof(lbl), "mapped to %s", mapped);
	else
		snprintf(lbl, sizeof(lbl), "%s", run ? "no answer" : "not needed: decided already");
	text(f, 740, y - 5, NULL, "end", lbl);
	fputs("</g>\n", f);
}

/* One filtering test: asked for an answer from another address: did it come? */
static void filt_test(FILE *f, const char *name, const char *data, int y, const char *from,
                      int answered, const char *not_run)
{
	const char *col = answered > 0 ? "#0a7d32" : answered == 0 ? "#c0262d" : "#999";
	char lbl[200];

	fprintf(f, "<g class=\"filt-test\" data-test=\"%s\" data-answered=\"%s\">", data,
	        answered > 0 ? "true" : answered == 0 ? "false" : "null");
	fprintf(f, "<line x1=\"750\" y1=\"%d\" x2=\"178\" y2=\"%d\" style=\"stroke:%s;"
	        "stroke-width:1.6;stroke-dasharray:%s\"/><path d=\"M170,%d l8,-4 v8 z\" "
	        "style=\"fill:%s\"/>", y, y, col, answered > 0 ? "none" : "5 4", y, col);
	text(f, 180, y - 5, "b", "start", name);
	if (answered >= 0)
		snprintf(lbl, sizeof(lbl), "the answer from %s %s", from,
		         answered > 0 ? "came through" : "was filtered");
	else
		snprintf(lbl, sizeof(lbl), "from %s: %s", from, not_run);
	text(f, 740, y - 5, NULL, "end", lbl);
	fputs("</g>\n", f);
}

static void nat_picture(FILE *f, const struct probe_result *r)
{
	const struct r_nat *n = &r->nat;
	char a[64], b[64], c[64], lbl[300];
	struct tp_addr to2 = n->other;
	struct tp_addr from3 = r->srv[0];
	bool run2, run3;

	fputs("<h2>NAT behaviour (RFC 5780)</h2>\n", f);
	if (!n->rfc5780) {
		fputs("<p id=\"nat-note\">", f);
		esc(f, n->why_not[0] ? n->why_not : "not measured");
		fputs("</p>\n", f);
		return;
	}
	to2.port = r->srv[0].port;
	from3.port = n->other.port;
	/* what nat.c ran: test II unless test I showed no NAT, test III unless II matched I */
	run2 = n->has_m[0] && !tp_addr_eq(&n->m[0], &n->local);
	run3 = run2 && n->has_m[1] && !tp_addr_eq(&n->m[0], &n->m[1]);
	fprintf(f, "<svg id=\"nat\" width=\"%d\" height=\"330\" viewBox=\"0 0 %d 330\" role=\"img\" "
	        "aria-label=\"NAT behaviour\" data-mapping=\"%s\" data-filtering=\"%s\">\n", W, W,
	        nat_map_name(n->mapping), nat_filter_name(n->filtering));
	box(f, 10, 40, 160, 250, "#f4f4f6");
	text(f, 90, 62, "b", "middle", "this host");
	text(f, 90, 80, "s", "middle", afmt(&n->local, true, a, sizeof(a)));
	box(f, 400, 20, 130, 290, n->mapping == MAP_NONE ? "#f6fbf7" : "#fff7e6");
	text(f, 465, 42, "b", "middle", n->mapping == MAP_NONE ? "no NAT" : "NAT");
	fprintf(f, "<g id=\"nat-verdict\"><text x=\"465\" y=\"60\" text-anchor=\"middle\" "
	        "class=\"s\">mapping: %s</text><text x=\"465\" y=\"76\" text-anchor=\"middle\" "
	        "class=\"s\">filtering: %s</text></g>", nat_map_name(n->mapping),
	        nat_filter_name(n->filtering));
	box(f, 750, 40, 280, 250, "#f4f4f6");
	text(f, 890, 62, "b", "middle", "STUN server");
	snprintf(lbl, sizeof(lbl), "primary %s", afmt(&r->srv[0], true, a, sizeof(a)));
	text(f, 890, 80, "s", "middle", lbl);
	snprintf(lbl, sizeof(lbl), "other %s (OTHER-ADDRESS)", afmt(&n->other, true, a, sizeof(a)));
	text(f, 890, 96, "s", "middle", lbl);
	map_test(f, 0, 125, afmt(&r->srv[0], true, a, sizeof(a)),
	         afmt(&n->m[0], n->has_m[0], b, sizeof(b)), n->has_m[0], true);
	map_test(f, 1, 160, afmt(&to2, true, a, sizeof(a)), afmt(&n->m[1], n->has_m[1], b, sizeof(b)),
	         n->has_m[1], run2);
	map_test(f, 2, 195, afmt(&n->other, true, a, sizeof(a)),
	         afmt(&n->m[2], n->has_m[2], c, sizeof(c)), n->has_m[2], run3);
	filt_test(f, "filtering test II (other IP and port)", "test2", 240,
	          afmt(&n->other, true, a, sizeof(a)), n->filt_t2, "not run");
	filt_test(f, "filtering test III (other port)", "test3", 275,
	          afmt(&from3, true, a, sizeof(a)), n->filt_t3,
	          n->filt_t2 > 0 ? "not needed: test II came through" : "not run");
	fputs("</svg>\n<table id=\"nat-table\"><tr><th></th><th>behaviour</th><th>evidence</th>"
	      "</tr>\n", f);
	fprintf(f, "<tr><td>mapping (§4.3)</td><td id=\"mapping\">%s</td><td>",
	        nat_map_name(n->mapping));
	esc(f, n->map_evidence);
	fprintf(f, "</td></tr>\n<tr><td>filtering (§4.4)</td><td id=\"filtering\">%s</td><td>",
	        nat_filter_name(n->filtering));
	esc(f, n->filt_evidence);
	fprintf(f, "</td></tr>\n<tr><td>hairpinning (§4.5)</td><td>%s</td><td>",
	        n->hairpin > 0 ? "yes" : n->hairpin == 0 ? "no" : "unknown");
	esc(f, n->hairpin_evidence);
	fputs("</td></tr>\n<tr><td>binding lifetime (§4.6)</td><td>", f);
	fputs(r->o->skip_lifetime ? "skipped" : n->lifetime_state > 0 ? "measured" : "not measured",
	      f);
	fputs("</td><td>", f);
	esc(f, n->lifetime_evidence);
	fputs("</td></tr>\n</table>\n", f);
}

/* ---- TURN and the relay --------------------------------------------------- */

static void turn_chart(FILE *f, const struct probe_result *r)
{
	double max = 1;
	int h = 30 + 30 * (int)r->nturn;
	char a[64];

	for (size_t i = 0; i < r->nturn; i++)
		if (r->turn[i].ok && r->turn[i].ms > max)
			max = r->turn[i].ms;
	fputs("<h2>TURN per transport</h2>\n", f);
	fprintf(f, "<svg id=\"turn\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
	        "aria-label=\"TURN per transport\">\n", W, h, W, h);
	text(f, 10, 16, "s", "start", "transport, port: time to a successful Allocate (to scale), "
	     "or why it failed");
	for (size_t i = 0; i < r->nturn; i++) {
		const struct r_turn *t = &r->turn[i];
		int y = 40 + 30 * (int)i;
		char lbl[400];

		fprintf(f, "<g class=\"turn-row\" data-transport=\"%s\" data-port=\"%u\" data-ok=\"%s\"",
		        probe_xport_name(t->xport), t->port, t->ok ? "true" : "false");
		if (t->ok)
			fprintf(f, " data-allocate-ms=\"%.3f\"", t->ms);
		fputs(">", f);
		snprintf(lbl, sizeof(lbl), "%s %u", probe_xport_name(t->xport), t->port);
		text(f, 10, y + 4, "b", "start", lbl);
		if (t->ok) {
			double w = 560.0 * t->ms / max;

			fprintf(f, "<rect x=\"110\" y=\"%d\" width=\"%.1f\" height=\"14\" "
			        "style=\"fill:#2563eb\"/>", y - 8, w < 2 ? 2 : w);
			snprintf(lbl, sizeof(lbl), "%.3f ms, relayed %s", t->ms,
			         afmt(&t->relayed, true, a, sizeof(a)));
			text(f, (int)(118 + (w < 2 ? 2 : w)), y + 4, NULL, "start", lbl);
		} else {
			snprintf(lbl, sizeof(lbl), "%s%s%s", t->error, t->hint ? " - hint: " : "",
			         t->hint ? t->hint : "");
			fprintf(f, "<text x=\"110\" y=\"%d\" style=\"fill:#c0262d\">", y + 4);
			esc(f, lbl);
			fputs("</text>", f);
		}
		fputs("</g>\n", f);
	}
	fputs("</svg>\n", f);
}

static void relay(FILE *f, const struct r_relay *rr)
{
	char a[64], b[64];

	fprintf(f, "<h2>Relay round trip</h2>\n<p id=\"relay\" data-status=\"%s\">status <b>%s</b>",
	        rr->status ? rr->status : "skipped", rr->status ? rr->status : "skipped");
	if (rr->note[0]) {
		fputs(": ", f);
		esc(f, rr->note);
	}
	fputs("</p>\n", f);
	if (!rr->status || strcmp(rr->status, "ok") != 0)
		return;
	fprintf(f, "<table id=\"relay-numbers\"><tr><th>path</th><td>through %s to %s</td></tr>"
	        "<tr><th>RTT</th><td id=\"relay-rtt\" data-min=\"%.3f\" data-avg=\"%.3f\" "
	        "data-p95=\"%.3f\">min %.3f / avg %.3f / p95 %.3f ms (%zu of %zu answered)</td></tr>"
	        "<tr><th>throughput</th><td id=\"relay-throughput\" data-mbit-per-s=\"%.3f\">"
	        "%.1f Mbit/s (%zu of %zu packets of 1000 bytes in %.1f ms)</td></tr></table>\n",
	        afmt(&rr->relayed, true, a, sizeof(a)), afmt(&rr->peer, true, b, sizeof(b)), rr->min,
	        rr->avg, rr->p95, rr->min, rr->avg, rr->p95, rr->received, rr->sent, rr->tput_mbps,
	        rr->tput_mbps, rr->tput_received, rr->tput_sent, rr->tput_ms);
}

static void bindings(FILE *f, const struct probe_result *r)
{
	char a[64], b[64];

	fputs("<h2>Public (server-reflexive) addresses</h2>\n<table id=\"bindings\"><tr>"
	      "<th>interface</th><th>local</th><th>public</th><th>RTT</th></tr>\n", f);
	for (size_t i = 0; i < r->nbind; i++) {
		const struct r_binding *x = &r->bind[i];

		fputs("<tr><td>", f);
		esc(f, x->ifname);
		fprintf(f, " %s</td><td><code>%s</code></td>", probe_family_name(x->family),
		        afmt(&x->local, true, a, sizeof(a)));
		if (x->ok) {
			fprintf(f, "<td><code>%s</code>%s</td><td class=\"rtt\" data-rtt-ms=\"%.3f\">"
			        "%.3f ms</td></tr>\n", afmt(&x->mapped, true, b, sizeof(b)),
			        tp_addr_eq(&x->mapped, &x->local) ? " (no NAT)" : " (behind NAT)",
			        x->rtt_ms, x->rtt_ms);
		} else {
			fputs("<td colspan=\"2\" class=\"no\">", f);
			esc(f, x->error);
			fputs("</td></tr>\n", f);
		}
	}
	fputs("</table>\n", f);
}

static void audit(FILE *f, const struct probe_result *r)
{
	const struct r_audit *a = &r->audit;

	fputs("<h2>Peer-policy audit</h2>\n", f);
	if (!r->o->audit) {
		fputs("<p id=\"audit\" data-verdict=\"not-requested\">not requested (--audit)</p>\n", f);
		return;
	}
	fprintf(f, "<p id=\"audit\" data-verdict=\"%s\">verdict <b class=\"%s\">%s</b>",
	        a->ran ? a->verdict : "not-run",
	        a->ran && !strcmp(a->verdict, "insecure") ? "no" : "yes", a->ran ? a->verdict
	                                                                        : "not run");
	if (a->note[0]) {
		fputs(": ", f);
		esc(f, a->note);
	}
	fputs("</p>\n<table id=\"audit-cases\"><tr><th>peer</th><th>what it is</th><th>answer</th>"
	      "</tr>\n", f);
	for (size_t i = 0; i < a->n; i++) {
		const struct r_audit_case *c = &a->cases[i];

		fprintf(f, "<tr class=\"audit-case\" data-peer=\"%s\" data-accepted=\"%s\"><td><code>",
		        c->c->addr, c->accepted > 0 ? "true" : c->accepted == 0 ? "false" : "null");
		esc(f, c->c->addr);
		fputs("</code></td><td>", f);
		esc(f, c->c->category);
		fprintf(f, "</td><td class=\"%s\">", c->accepted > 0 ? "no" : c->accepted == 0 ? "yes"
		                                                                             : "na");
		esc(f, c->note);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

int report_html(const struct probe_result *r, const char *json, FILE *f)
{
	const char *key;
	char v[512];
	int rc;

	report_verdict(r, &key, v, sizeof(v));
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta name=\"schema\" content=\"" PROBE_SCHEMA "\">\n<title>turnpike-probe ", f);
	esc(f, r->o->server);
	fprintf(f, "</title>\n<style>%s</style></head><body>\n<h1>turnpike-probe: ", css);
	esc(f, r->o->server);
	if (r->software[0]) {
		fputs(" <span class=\"sub\">(", f);
		esc(f, r->software);
		fputs(")</span>", f);
	}
	fprintf(f, "</h1>\n<p class=\"sub\">What NAT this host is behind, whether relay works "
	        "from here, and whether the server's peer policy is safe. Schema <code>"
	        PROBE_SCHEMA "</code>; %.1f s.</p>\n", (double)r->duration_ms / 1000.0);
	fprintf(f, "<p class=\"verdict v-%s\" id=\"verdict\" data-verdict=\"%s\" "
	        "data-exit-code=\"%d\">", key, key, r->exit_code);
	esc(f, v);
	fputs("</p>\n", f);
	if (!r->resolve_error[0]) {
		nat_picture(f, r);
		bindings(f, r);
		turn_chart(f, r);
		relay(f, &r->relay);
		audit(f, r);
	}
	fputs("<h2>The JSON report</h2>\n<details><summary>the same data as <code>--json</code> ("
	      PROBE_SCHEMA ")</summary><pre id=\"json-text\">", f);
	esc(f, json);
	fputs("</pre></details>\n<script type=\"application/json\" id=\"report-json\">", f);
	for (const char *p = json; *p; p++) {
		if (*p == '<')
			fputs("\\u003c", f);
		else
			fputc(*p, f);
	}
	fputs("</script>\n</body></html>\n", f);
	rc = ferror(f) ? -1 : 0;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}
