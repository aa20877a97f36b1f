/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * html.c - --report FILE.html: the run as one self-contained page. Inline CSS
 * and SVG only: no script runs, nothing is fetched, it reads offline.
 *
 *   - a strip with the phases at their real scale (gathering, checks, DTLS,
 *     SCTP and DCEP, data), from times_ms;
 *   - a sequence diagram with four lanes (peer A = this dc-client, the
 *     signaling server, the STUN/TURN server, peer B), one row per event of
 *     the timeline at its measured time: solid where the message met this
 *     peer, dashed for the rest of its way, which this peer cannot see;
 *   - the path that won and why, each pair's outcome, RTT and throughput,
 *     TURN errors, the candidates both ways;
 *   - the JSON document itself (the source of truth), in a <details> and as a
 *     data block (<script type="application/json">, never executed).
 *
 * Everything is drawn from struct dc_report_data, the same data the JSON is
 * written from. Elements carry data-* attributes with the JSON's values (event
 * times in ms as in "t_ms") so a test can compare picture and document.
 */
#include <stdio.h>
#include <string.h>

#include "dc.h"

#define W        1120
#define LANE_X0  215
#define LANE_DX  255
#define HEAD_H   74
#define ROW_H    24
#define LABEL_CH 6.1    /* px per character at 11px, for truncation */

static const char *const lane_ids[4] = { "A", "signaling", "server", "B" };

const char *dc_lane_id(int i)
{
	return lane_ids[i];
}

void dc_lane_name(const struct dc *dc, int i, char *buf, size_t cap)
{
	switch (i) {
	case 0:
		snprintf(buf, cap, "peer A: this dc-client (%s)", dc->o.offer ? "offer" : "answer");
		break;
	case 1:
		snprintf(buf, cap, "signaling: %s", dc_signal_url_public(dc));
		break;
	case 2:
		if (dc->o.turn_host)
			snprintf(buf, cap, "STUN/TURN server: %s:%u (%s)", dc->o.turn_host,
			         dc->o.turn_port, dc->o.turn_transport);
		else if (dc->o.stun_host)
			snprintf(buf, cap, "STUN server: %s:%u", dc->o.stun_host, dc->o.stun_port);
		else
			snprintf(buf, cap, "STUN/TURN server: none configured");
		break;
	default:
		snprintf(buf, cap, "peer B: the remote peer (%s)", dc->o.offer ? "answer" : "offer");
		break;
	}
}

/* ---- output helpers ---------------------------------------------------- */

static void esc(FILE *f, const char *s)
{
	for (; *s; s++) {
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

/* At most max characters (UTF-8 aware), with an ellipsis when cut. */
static void esc_cut(FILE *f, const char *s, long max)
{
	char *v = g_utf8_make_valid(s, -1);   /* text from the command line, too */
	long n = (long)g_utf8_strlen(v, -1);
	char *cut;

	if (max < 4)
		max = 4;
	if (n <= max) {
		esc(f, v);
		g_free(v);
		return;
	}
	cut = g_utf8_substring(v, 0, max - 1);
	esc(f, cut);
	fputs("\xe2\x80\xa6", f);
	g_free(cut);
	g_free(v);
}

static int lane_index(const char *id)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(id, lane_ids[i]) == 0)
			return i;
	return 0;
}

static int lane_x(int i)
{
	return LANE_X0 + i * LANE_DX;
}

static double ms(gint64 us)
{
	return (double)us / 1000.0;
}

/* The colour class of an event kind. */
static const char *kind_class(const char *k)
{
	if (!strcmp(k, "error") || !strcmp(k, "server-error") || !strcmp(k, "check-unanswered"))
		return "k-bad";
	if (g_str_has_prefix(k, "offer") || g_str_has_prefix(k, "answer") ||
	    g_str_has_prefix(k, "signal") || g_str_has_prefix(k, "candidate-sent") ||
	    g_str_has_prefix(k, "peer-candidate") || !strcmp(k, "peer-end-of-candidates") ||
	    !strcmp(k, "bye-received"))
		return "k-sig";
	if (g_str_has_prefix(k, "server") || !strcmp(k, "candidate") ||
	    !strcmp(k, "gathering-done"))
		return "k-srv";
	if (g_str_has_prefix(k, "check") || !strcmp(k, "peer-check") ||
	    !strcmp(k, "selected-pair") || !strcmp(k, "ice-connected"))
		return "k-ice";
	if (g_str_has_prefix(k, "dtls") || g_str_has_prefix(k, "sctp") ||
	    g_str_has_prefix(k, "dcep") || !strcmp(k, "channel-open"))
		return "k-sec";
	return "k-data";
}

/* ---- the pieces ---------------------------------------------------------- */

static const char css[] =
	"body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d1d1f;max-width:1160px}"
	"h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:26px 0 8px}"
	".sub{color:#555;margin:0 0 14px}"
	".ok{color:#0a7d32;font-weight:600}.bad{color:#c0262d;font-weight:600}"
	"table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;"
	"padding:3px 7px;text-align:left;vertical-align:top}th{background:#f4f4f6}"
	"tr.sel td{background:#eaf6ee}"
	".o-succeeded{color:#0a7d32}.o-no-answer,.o-error,.o-wrong-source{color:#c0262d}"
	"svg text{font:11px system-ui,sans-serif;stroke:none}svg .t{fill:#555;font-variant-numeric:"
	"tabular-nums}svg .lt{font-weight:600;font-size:12px}svg .remote text.l{"
	"font-style:italic}"
	".k-sig{stroke:#2563eb;fill:#2563eb}.k-srv{stroke:#7c3aed;fill:#7c3aed}"
	".k-ice{stroke:#d97706;fill:#d97706}.k-sec{stroke:#0f766e;fill:#0f766e}"
	".k-data{stroke:#4b5563;fill:#4b5563}.k-bad{stroke:#c0262d;fill:#c0262d}"
	"svg text.l{stroke:none}svg line{stroke-width:1.6}svg .dash{stroke-dasharray:5 4}"
	"code,pre{font:12px ui-monospace,monospace}pre{background:#f6f6f8;padding:10px;"
	"overflow:auto;white-space:pre-wrap;word-break:break-all}"
	".legend{color:#555;font-size:12px}";

static void head(FILE *f, const struct dc *dc)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta name=\"schema\" content=\"" DC_SCHEMA "\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width\">\n<title>dc-client ", f);
	fputs(dc->o.offer ? "offer" : "answer", f);
	fputs(" report</title>\n<style>", f);
	fputs(css, f);
	fputs("</style></head><body>\n", f);
}

static void summary(FILE *f, const struct dc *dc)
{
	fprintf(f, "<h1>dc-client %s: <span class=\"%s\" id=\"result\">%s</span></h1>\n",
	        dc->o.offer ? "offer" : "answer", dc->exit_code == 0 ? "ok" : "bad",
	        dc->exit_code == 0 ? "OK" : dc->exit_code == 2 ? "CONNECTED ON ANOTHER PATH"
	                                                      : "FAILED");
	fputs("<p class=\"sub\">One WebRTC data-channel run, as this peer saw it. Times are "
	      "milliseconds since dc-client started. Schema <code>" DC_SCHEMA "</code>.</p>\n", f);
	if (dc->exit_code == 1) {
		fputs("<p class=\"bad\" id=\"error\">", f);
		esc(f, dc->err);
		fputs("</p>\n", f);
	}
}

/* Phases at their real scale, from times_ms: bars on one axis, and a legend
 * with each phase's start and end below (bars can be too thin for a name). */
static void phases(FILE *f, const struct dc *dc, gint64 end, gint64 first_check)
{
	struct { const char *name, *cls; gint64 t0, t1; } p[] = {
		{ "gathering", "k-srv", 1, dc->t_gathered },
		{ "ICE checks", "k-ice", first_check, dc->t_connected },
		{ "DTLS", "k-sec", dc->t_dtls_start, dc->t_dtls },
		{ "SCTP + DCEP", "k-sec", dc->t_dtls, dc->t_open },
		{ "data", "k-data", dc->t_open, end },
	};
	const int x0 = 100, w = W - 130;
	double scale = end > 0 ? (double)w / (double)end : 0;
	int lx = x0;

	fprintf(f, "<svg id=\"phases\" width=\"%d\" height=\"62\" viewBox=\"0 0 %d 62\" "
	        "role=\"img\" aria-label=\"phases at their real scale\">\n", W, W);
	fprintf(f, "<text x=\"0\" y=\"16\" class=\"lt\">phases</text>\n"
	        "<line x1=\"%d\" y1=\"24\" x2=\"%d\" y2=\"24\" style=\"stroke:#999\"/>\n"
	        "<text x=\"%d\" y=\"36\" class=\"t\">0 ms</text><text x=\"%d\" y=\"36\" "
	        "class=\"t\" text-anchor=\"end\">%.1f ms</text>\n", x0, x0 + w, x0, x0 + w, ms(end));
	for (size_t i = 0; i < G_N_ELEMENTS(p); i++) {
		double a, b;
		char lbl[96];

		if (!p[i].t0 || !p[i].t1 || p[i].t1 < p[i].t0)
			continue;
		a = x0 + scale * (double)p[i].t0;
		b = x0 + scale * (double)p[i].t1;
		snprintf(lbl, sizeof(lbl), "%s %.1f-%.1f ms", p[i].name, ms(p[i].t0), ms(p[i].t1));
		fprintf(f, "<g class=\"phase\" data-name=\"%s\" data-t0-ms=\"%.1f\" "
		        "data-t1-ms=\"%.1f\"><title>%s</title><rect x=\"%.1f\" y=\"6\" "
		        "width=\"%.1f\" height=\"14\" class=\"%s\" style=\"opacity:.85;stroke:none\"/>"
		        "<rect x=\"%d\" y=\"47\" width=\"10\" height=\"10\" class=\"%s\" "
		        "style=\"stroke:none\"/><text x=\"%d\" y=\"56\" class=\"l\">%s</text></g>\n",
		        p[i].name, ms(p[i].t0), ms(p[i].t1), lbl, a, b - a < 2 ? 2 : b - a, p[i].cls,
		        lx, p[i].cls, lx + 14, lbl);
		lx += 14 + (int)(strlen(lbl) * LABEL_CH) + 22;
	}
	fputs("</svg>\n", f);
}

static void event_row(FILE *f, const struct dc_ev *e, int i, int y)
{
	char **lanes = g_strsplit(e->path, ">", 4);
	int n = (int)g_strv_length(lanes), xs[4];
	const char *cls = kind_class(e->kind);
	int lo, hi;

	for (int k = 0; k < n; k++)
		xs[k] = lane_x(lane_index(lanes[k]));
	fprintf(f, "<g class=\"ev %s%s\" id=\"ev-%d\" data-i=\"%d\" data-kind=\"%s\" "
	        "data-t-ms=\"%.1f\" data-path=\"", cls, e->remote ? " remote" : "", i, i, e->kind,
	        ms(e->t));
	esc(f, e->path);
	fputs("\"><title>", f);
	esc(f, e->label);
	fprintf(f, "</title><text x=\"88\" y=\"%d\" class=\"t\" text-anchor=\"end\">%.1f ms"
	        "</text>", y + 4, ms(e->t));
	if (n <= 1) {
		int x = xs[0];
		long room = (long)((W - x - 20) / LABEL_CH);

		fprintf(f, "<circle cx=\"%d\" cy=\"%d\" r=\"4\" class=\"%s\"/>", x, y, cls);
		fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"l %s\">", x + 9, y + 4, cls);
		esc_cut(f, e->label, room);
		fputs("</text>", f);
	} else {
		lo = MIN(xs[0], xs[n - 1]);
		hi = MAX(xs[0], xs[n - 1]);
		for (int k = 0; k + 1 < n; k++) {
			bool here = !strcmp(lanes[k], "A") || !strcmp(lanes[k + 1], "A");
			int dir = xs[k + 1] > xs[k] ? -1 : 1;   /* stop short of the lane line */

			fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"%s%s\"%s/>",
			        xs[k], y, xs[k + 1] + (k + 2 == n ? dir * 3 : 0), y, cls,
			        here ? "" : " dash", "");
			if (k + 2 == n)
				fprintf(f, "<path d=\"M%d,%d l%d,-4 v8 z\" class=\"%s\" "
				        "style=\"stroke:none\"/>", xs[k + 1], y, dir * 8, cls);
		}
		fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"l %s\" text-anchor=\"middle\">",
		        (lo + hi) / 2, y - 4, cls);
		esc_cut(f, e->label, (long)((hi - lo + 2 * LANE_DX / 3) / LABEL_CH));
		fputs("</text>", f);
	}
	fputs("</g>\n", f);
	g_strfreev(lanes);
}

static void diagram(FILE *f, const struct dc *dc, GArray *ev)
{
	int h = HEAD_H + ROW_H * (int)ev->len + 30;
	char name[400];

	fputs("<h2>The handshake, event by event</h2>\n<p class=\"legend\">One row per event "
	      "at the time it happened here. Solid: where the message left or reached this "
	      "peer (A), at that time. Dashed: the rest of its way, which A cannot see "
	      "(the signaling relay, the TURN relay, the peer). Italic: the peer's doing, "
	      "seen when it arrived. Hover a row for its full text.</p>\n", f);
	fprintf(f, "<svg id=\"sequence\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
	        "role=\"img\" aria-label=\"sequence diagram\">\n", W, h, W, h);
	for (int i = 0; i < 4; i++) {
		int x = lane_x(i);

		dc_lane_name(dc, i, name, sizeof(name));
		fprintf(f, "<g class=\"lane\" id=\"lane-%s\" data-lane=\"%s\"><title>", lane_ids[i],
		        lane_ids[i]);
		esc(f, name);
		fprintf(f, "</title><rect x=\"%d\" y=\"4\" width=\"%d\" height=\"46\" rx=\"6\" "
		        "style=\"fill:#f4f4f6;stroke:#bbb\"/>", x - LANE_DX / 2 + 8, LANE_DX - 16);
		fprintf(f, "<text x=\"%d\" y=\"22\" class=\"lt\" text-anchor=\"middle\">", x);
		esc_cut(f, i == 0 ? "peer A (this dc-client)" : i == 1 ? "signaling server"
		        : i == 2 ? "STUN/TURN server" : "peer B (the remote peer)", 40);
		fprintf(f, "</text><text x=\"%d\" y=\"40\" text-anchor=\"middle\" class=\"t\">", x);
		esc_cut(f, strchr(name, ':') ? strchr(name, ':') + 2 : name, 40);
		fprintf(f, "</text><line x1=\"%d\" y1=\"50\" x2=\"%d\" y2=\"%d\" "
		        "style=\"stroke:#bbb;stroke-width:1\"/></g>\n", x, x, h - 8);
	}
	fputs("<text x=\"88\" y=\"64\" class=\"t\" text-anchor=\"end\">time</text>\n", f);
	for (guint i = 0; i < ev->len; i++)
		event_row(f, &g_array_index(ev, struct dc_ev, i), (int)i, HEAD_H + ROW_H * (int)i + 8);
	fputs("</svg>\n", f);
}

static void why_section(FILE *f, const struct dc *dc, const struct dc_report_data *r)
{
	fputs("<h2>The path that won, and why</h2>\n", f);
	fputs("<p id=\"selected-pair\" data-local=\"", f);
	esc(f, dc->sel_local.addr);
	fputs("\" data-remote=\"", f);
	esc(f, dc->sel_remote.addr);
	fputs("\">", f);
	if (dc->sel_local.type[0]) {
		fprintf(f, "<b>selected pair</b>: local %s/%s <code>", dc->sel_local.type,
		        dc->sel_local.transport);
		esc(f, dc->sel_local.addr);
		fprintf(f, "</code> &harr; remote %s/%s <code>", dc->sel_remote.type,
		        dc->sel_remote.transport);
		esc(f, dc->sel_remote.addr);
		fprintf(f, "</code>: the path is <b>%s</b>",
		        dc->path == DC_PATH_RELAY ? "relayed" : "direct");
	} else {
		fputs("<b>no pair was selected</b>", f);
	}
	fputs("</p>\n<p id=\"why\">", f);
	esc(f, r->why);
	fputs("</p>\n<table id=\"pairs\"><tr><th>our side</th><th>the peer's</th><th>via</th>"
	      "<th>priority</th><th>outcome</th><th>first check</th><th>how</th></tr>\n", f);
	for (size_t i = 0; i < r->npairs; i++) {
		const struct dc_pair_view *v = &r->pairs[i];

		fprintf(f, "<tr class=\"pair%s\" data-outcome=\"%s\"><td>%s <code>", v->selected
		        ? " sel" : "", v->outcome, v->c.id.ltype);
		esc(f, v->c.id.laddr);
		fprintf(f, "</code></td><td>%s <code>", v->rtype);
		esc(f, v->c.id.raddr);
		fputs("</code></td><td>", f);
		esc(f, v->c.id.via[0] ? v->c.id.via : "-");
		fprintf(f, "</td><td>%" G_GUINT64_FORMAT "</td><td class=\"o-%s\">%s%s</td><td>",
		        v->priority, v->outcome, v->outcome, v->selected ? " (selected)" : "");
		if (v->c.t_first)
			fprintf(f, "%.1f ms", ms(v->c.t_first));
		else
			fputs("-", f);
		fputs("</td><td>", f);
		esc(f, v->how);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void numbers(FILE *f, const struct dc_bench_stats *b)
{
	fputs("<h2>Round-trip time and throughput</h2>\n<table id=\"numbers\">", f);
	if (b->pongs)
		fprintf(f, "<tr><th>RTT</th><td id=\"rtt\" data-min=\"%.3f\" data-avg=\"%.3f\" "
		        "data-p95=\"%.3f\">min %.3f / avg %.3f / p95 %.3f ms (%u of %u pings "
		        "answered)</td></tr>", b->rtt_min, b->rtt_avg, b->rtt_p95, b->rtt_min,
		        b->rtt_avg, b->rtt_p95, b->pongs, b->pings_sent);
	else
		fprintf(f, "<tr><th>RTT</th><td id=\"rtt\">none measured (%u pings sent)</td></tr>",
		        b->pings_sent);
	if (b->bulk_secs)
		fprintf(f, "<tr><th>throughput</th><td id=\"throughput\" data-mbit-s=\"%.2f\">%lu "
		        "bytes in %.3f s = %.2f Mbit/s</td></tr>",
		        (double)b->bulk_bytes * 8 / b->bulk_secs / 1e6, b->bulk_bytes, b->bulk_secs,
		        (double)b->bulk_bytes * 8 / b->bulk_secs / 1e6);
	else
		fputs("<tr><th>throughput</th><td id=\"throughput\">not measured here (--bulk "
		      "sends; the receiver reports none)</td></tr>", f);
	fputs("</table>\n", f);
}

static void turn_errors(FILE *f, const struct dc *dc)
{
	struct dc_turn_err e[32];
	size_t n = dc_trace_turn_errors(dc, e, G_N_ELEMENTS(e));

	if (!n)
		return;
	fputs("<h2>What the STUN/TURN server refused</h2>\n<table id=\"turn-errors\"><tr>"
	      "<th>at</th><th>request</th><th>for</th><th>answer</th><th>times</th></tr>\n", f);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "<tr><td>%.1f ms</td><td>%s to ", ms(e[i].tx.t_res),
		        dc_stun_method_name(e[i].tx.method));
		esc(f, e[i].tx.server);
		fputs("</td><td>", f);
		esc(f, e[i].candidate[0] ? e[i].candidate : "-");
		fprintf(f, "</td><td class=\"bad\">%d ", e[i].tx.code);
		esc(f, e[i].tx.reason);
		fprintf(f, "</td><td>%u</td></tr>\n", e[i].count);
	}
	fputs("</table>\n", f);
}

static void cand_table(FILE *f, const char *title, const char *id, GArray *c, bool local)
{
	fprintf(f, "<h2>%s</h2>\n<table id=\"%s\"><tr><th>at</th><th>type</th><th>transport</th>"
	        "<th>address</th><th>priority</th><th>%s</th></tr>\n", title, id,
	        local ? "from server" : "came");
	for (guint i = 0; c && i < c->len; i++) {
		const struct dc_candidate *x = &g_array_index(c, struct dc_candidate, i);

		fprintf(f, "<tr><td>%.1f ms</td><td>%s</td><td>%s</td><td><code>", ms(x->t), x->type,
		        x->transport);
		esc(f, x->addr);
		fprintf(f, "</code></td><td>%u</td><td>", x->priority);
		esc(f, x->origin[0] ? x->origin : "-");
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

/* The JSON as a data block: "<" escaped so no text can close the element. */
static void json_block(FILE *f, const char *json)
{
	fputs("<h2>The JSON report</h2>\n<details><summary>the same data as <code>--json</code> "
	      "(" DC_SCHEMA ")</summary><pre id=\"json-text\">", f);
	esc(f, json);
	fputs("</pre></details>\n<script type=\"application/json\" id=\"report-json\">", f);
	for (const char *p = json; *p; p++) {
		if (*p == '<')
			fputs("\\u003c", f);
		else
			fputc(*p, f);
	}
	fputs("</script>\n", f);
}

int dc_html_write(struct dc *dc, FILE *f, const struct dc_report_data *r)
{
	gint64 end = 0, first_check = 0;
	int rc;

	for (guint i = 0; i < r->events->len; i++) {
		const struct dc_ev *e = &g_array_index(r->events, struct dc_ev, i);

		end = MAX(end, e->t);
		if (!first_check && strcmp(e->kind, "check") == 0)
			first_check = e->t;
	}
	head(f, dc);
	summary(f, dc);
	phases(f, dc, end, first_check);
	diagram(f, dc, r->events);
	why_section(f, dc, r);
	numbers(f, r->bench);
	turn_errors(f, dc);
	cand_table(f, "Our candidates", "local-candidates", dc->lcands, true);
	cand_table(f, "The peer's candidates", "peer-candidates", dc->rcands, false);
	json_block(f, r->json);
	fputs("</body></html>\n", f);
	rc = ferror(f) ? -1 : 0;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}
