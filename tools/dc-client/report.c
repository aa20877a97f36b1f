/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * report.c - the result: text lines, or one JSON object with --json, on stdout;
 * with --report also the HTML picture (html.c), drawn from the same JSON
 * document and event list. The schema is DC_SCHEMA (docs/DC-CLIENT.md):
 * within a version fields are only added, never renamed, removed or retyped.
 */
#include <stdio.h>

#include "dc.h"

static const char *path_name(enum dc_path p)
{
	return p == DC_PATH_DIRECT ? "direct" : p == DC_PATH_RELAY ? "relay" : "none";
}

static void ms(GString *s, const char *key, gint64 us, bool comma)
{
	if (us)
		g_string_append_printf(s, "\"%s\":%.1f", key, (double)us / 1000.0);
	else
		g_string_append_printf(s, "\"%s\":null", key);
	if (comma)
		g_string_append_c(s, ',');
}

static void side_json(GString *s, const struct dc_side *d)
{
	g_string_append(s, "{\"type\":");
	dc_json_str(s, d->type);
	g_string_append(s, ",\"transport\":");
	dc_json_str(s, d->transport);
	g_string_append(s, ",\"addr\":");
	dc_json_str(s, d->addr);
	g_string_append_c(s, '}');
}

static void turn_errors_json(struct dc *dc, GString *s)
{
	struct dc_turn_err e[32];
	size_t n = dc_trace_turn_errors(dc, e, G_N_ELEMENTS(e));

	g_string_append(s, "\"turn_errors\":[");
	for (size_t i = 0; i < n; i++) {
		g_string_append_printf(s, "%s{\"method\":", i ? "," : "");
		dc_json_str(s, dc_stun_method_name(e[i].tx.method));
		g_string_append(s, ",\"server\":");
		dc_json_str(s, e[i].tx.server);
		g_string_append_printf(s, ",\"code\":%d,\"reason\":", e[i].tx.code);
		dc_json_str(s, e[i].tx.reason);
		g_string_append(s, ",\"peer\":");
		if (e[i].tx.peer[0])
			dc_json_str(s, e[i].tx.peer);
		else
			g_string_append(s, "null");
		g_string_append(s, ",\"candidate\":");
		if (e[i].candidate[0])
			dc_json_str(s, e[i].candidate);
		else
			g_string_append(s, "null");
		g_string_append_printf(s, ",\"t_ms\":%.1f,\"count\":%u}",
		                       (double)e[i].tx.t_res / 1000.0, e[i].count);
	}
	g_string_append(s, "],");
}

static struct dc_pair_view pairs[DC_MAX_CHECKS];
static size_t npairs;
static char why[2048];

static void ms_or_null(GString *s, const char *key, gint64 us)
{
	if (us)
		g_string_append_printf(s, ",\"%s\":%.1f", key, (double)us / 1000.0);
	else
		g_string_append_printf(s, ",\"%s\":null", key);
}

static void str_or_null(GString *s, const char *key, const char *v)
{
	g_string_append_printf(s, ",\"%s\":", key);
	if (v && v[0])
		dc_json_str(s, v);
	else
		g_string_append(s, "null");
}

static void checks_json(GString *s)
{
	g_string_append(s, "\"checks\":[");
	for (size_t i = 0; i < npairs; i++) {
		const struct dc_pair_view *v = &pairs[i];
		const struct dc_check *c = &v->c;

		g_string_append_printf(s, "%s{\"local\":{\"type\":", i ? "," : "");
		dc_json_str(s, c->id.ltype);
		g_string_append(s, ",\"addr\":");
		dc_json_str(s, c->id.laddr);
		g_string_append(s, "},\"remote\":{\"type\":");
		dc_json_str(s, v->rtype);
		g_string_append(s, ",\"addr\":");
		dc_json_str(s, c->id.raddr);
		g_string_append(s, "}");
		str_or_null(s, "via", c->id.via);
		g_string_append_printf(s, ",\"priority\":%" G_GUINT64_FORMAT ",\"outcome\":\"%s\"",
		                       v->priority, v->outcome);
		if (c->code > 0)
			g_string_append_printf(s, ",\"code\":%d", c->code);
		else
			g_string_append(s, ",\"code\":null");
		str_or_null(s, "reason", c->reason);
		str_or_null(s, "answer_from", c->answer_from);
		g_string_append_printf(s, ",\"requests\":%u,\"sent\":%u", c->requests, c->sent);
		ms_or_null(s, "first_ms", c->t_first);
		ms_or_null(s, "last_ms", c->t_last);
		ms_or_null(s, "answer_ms", c->t_answer);
		if (c->code == 0)
			g_string_append_printf(s, ",\"rtt_ms\":%.3f", c->rtt_ms);
		else
			g_string_append(s, ",\"rtt_ms\":null");
		g_string_append_printf(s, ",\"nominated\":%s,\"peer_checks\":%u",
		                       c->nominated ? "true" : "false", c->peer_checks);
		ms_or_null(s, "peer_first_ms", c->t_peer);
		g_string_append_printf(s, ",\"selected\":%s,\"how\":", v->selected ? "true" : "false");
		dc_json_str(s, v->how);
		g_string_append_c(s, '}');
	}
	g_string_append(s, "],\"why\":");
	dc_json_str(s, why);
	g_string_append_c(s, ',');
}

static void cands_json(GString *s, const char *key, GArray *c, bool local)
{
	g_string_append_printf(s, "\"%s\":[", key);
	for (guint i = 0; c && i < c->len; i++) {
		const struct dc_candidate *x = &g_array_index(c, struct dc_candidate, i);

		g_string_append_printf(s, "%s{\"type\":", i ? "," : "");
		dc_json_str(s, x->type);
		g_string_append(s, ",\"transport\":");
		dc_json_str(s, x->transport);
		g_string_append(s, ",\"addr\":");
		dc_json_str(s, x->addr);
		g_string_append_printf(s, ",\"priority\":%u,\"t_ms\":%.1f", x->priority,
		                       (double)x->t / 1000.0);
		str_or_null(s, local ? "server" : "origin", x->origin);
		g_string_append_c(s, '}');
	}
	g_string_append(s, "],");
}

static void lanes_json(struct dc *dc, GString *s)
{
	char name[400];

	g_string_append(s, "\"lanes\":[");
	for (int i = 0; i < 4; i++) {
		dc_lane_name(dc, i, name, sizeof(name));
		g_string_append_printf(s, "%s{\"id\":\"%s\",\"name\":", i ? "," : "",
		                       dc_lane_id(i));
		dc_json_str(s, name);
		g_string_append_c(s, '}');
	}
	g_string_append(s, "],");
}

static void events_json(GString *s, GArray *ev)
{
	g_string_append(s, "\"events\":[");
	for (guint i = 0; i < ev->len; i++) {
		const struct dc_ev *e = &g_array_index(ev, struct dc_ev, i);
		char **lanes = g_strsplit(e->path, ">", 4);

		g_string_append_printf(s, "%s{\"t_ms\":%.1f,\"kind\":\"%s\",\"path\":[",
		                       i ? "," : "", (double)e->t / 1000.0, e->kind);
		for (int k = 0; lanes[k]; k++)
			g_string_append_printf(s, "%s\"%s\"", k ? "," : "", lanes[k]);
		g_string_append_printf(s, "],\"remote\":%s,\"label\":", e->remote ? "true" : "false");
		dc_json_str(s, e->label);
		g_string_append_c(s, '}');
		g_strfreev(lanes);
	}
	g_string_append(s, "],");
}

static GString *json(struct dc *dc, const struct dc_bench_stats *b, GArray *events)
{
	GString *s = g_string_new("{\"schema\":\"" DC_SCHEMA "\",");

	g_string_append_printf(s, "\"ok\":%s,\"exit\":%d,\"role\":\"%s\",",
	                       dc->exit_code == 1 ? "false" : "true", dc->exit_code,
	                       dc->o.offer ? "offer" : "answer");
	g_string_append_printf(s, "\"path\":\"%s\",\"expect\":%s%s%s,", path_name(dc->path),
	                       dc->o.expect ? "\"" : "",
	                       dc->o.expect ? path_name(dc->o.expect) : "null",
	                       dc->o.expect ? "\"" : "");
	g_string_append(s, "\"error\":");
	if (dc->exit_code == 1) {
		dc_json_str(s, dc->err);
		g_string_append(s, ",\"stage\":");
		dc_json_str(s, dc->stage ? dc->stage : "");
	} else {
		g_string_append(s, "null,\"stage\":null");
	}
	g_string_append_printf(s, ",\"candidates\":{\"host\":%u,\"srflx\":%u,\"prflx\":%u,"
	                       "\"relay\":%u},", dc->ncand[DC_HOST], dc->ncand[DC_SRFLX],
	                       dc->ncand[DC_PRFLX], dc->ncand[DC_RELAY]);
	g_string_append_printf(s, "\"remote_candidates\":{\"host\":%u,\"srflx\":%u,"
	                       "\"prflx\":%u,\"relay\":%u,\"total\":%u,\"from_sdp\":%u,"
	                       "\"trickled\":%u,\"unusable\":%u,\"end_of_candidates\":%s},",
	                       dc->rcand[DC_HOST], dc->rcand[DC_SRFLX], dc->rcand[DC_PRFLX],
	                       dc->rcand[DC_RELAY], dc_trace_remote_total(dc), dc->r_sdp,
	                       dc->r_trickle, dc->r_unusable, dc->r_end ? "true" : "false");
	cands_json(s, "local_candidates", dc->lcands, true);
	cands_json(s, "peer_candidates", dc->rcands, false);
	turn_errors_json(dc, s);
	checks_json(s);
	g_string_append(s, "\"selected\":");
	if (dc->sel_local.type[0]) {
		g_string_append(s, "{\"local\":");
		side_json(s, &dc->sel_local);
		g_string_append(s, ",\"remote\":");
		side_json(s, &dc->sel_remote);
		g_string_append(s, "},");
	} else {
		g_string_append(s, "null,");
	}
	g_string_append(s, "\"times_ms\":{");
	ms(s, "gather", dc->t_gathered, true);
	ms(s, "connect", dc->t_connected, true);
	ms(s, "dtls", dc->t_dtls, true);
	ms(s, "sctp", dc->t_sctp, true);
	ms(s, "open", dc->t_open, true);
	ms(s, "selected", dc->t_selected, true);
	ms(s, "dtls_start", dc->t_dtls_start, false);
	g_string_append(s, "},");
	if (b->pongs)
		g_string_append_printf(s, "\"rtt_ms\":{\"sent\":%u,\"received\":%u,\"min\":%.3f,"
		                       "\"avg\":%.3f,\"p95\":%.3f},", b->pings_sent, b->pongs,
		                       b->rtt_min, b->rtt_avg, b->rtt_p95);
	else
		g_string_append_printf(s, "\"rtt_ms\":{\"sent\":%u,\"received\":0},",
		                       b->pings_sent);
	if (b->bulk_secs)
		g_string_append_printf(s, "\"bulk\":{\"bytes\":%lu,\"seconds\":%.4f,"
		                       "\"mbit_s\":%.2f},", b->bulk_bytes, b->bulk_secs,
		                       (double)b->bulk_bytes * 8 / b->bulk_secs / 1e6);
	else
		g_string_append(s, "\"bulk\":null,");
	g_string_append_printf(s, "\"signaling_lost_after_open\":%s,",
	                       dc->sig_lost_after_open ? "true" : "false");
	lanes_json(dc, s);
	events_json(s, events);
	g_string_truncate(s, s->len - 1);
	g_string_append_c(s, '}');
	return s;
}

static void t(const char *what, gint64 us)
{
	if (us)
		printf("  %-22s %8.1f ms\n", what, (double)us / 1000.0);
	else
		printf("  %-22s        -\n", what);
}

static void text(struct dc *dc, const struct dc_bench_stats *b)
{
	printf("dc-client %s: %s\n", dc->o.offer ? "offer" : "answer",
	       dc->exit_code == 0 ? "OK" : dc->exit_code == 2 ? "CONNECTED ON ANOTHER PATH"
	                                                      : "FAILED");
	if (dc->exit_code == 1)
		printf("  error (waiting for %s): %s\n", dc->stage ? dc->stage : "?", dc->err);
	printf("  candidates             host %u, srflx %u, prflx %u, relay %u\n",
	       dc->ncand[DC_HOST], dc->ncand[DC_SRFLX], dc->ncand[DC_PRFLX], dc->ncand[DC_RELAY]);
	printf("  peer's candidates      host %u, srflx %u, prflx %u, relay %u (%u from the SDP, "
	       "%u trickled%s%s)\n", dc->rcand[DC_HOST], dc->rcand[DC_SRFLX], dc->rcand[DC_PRFLX],
	       dc->rcand[DC_RELAY], dc->r_sdp, dc->r_trickle, dc->r_unusable ? ", unusable " : "",
	       dc->r_unusable ? "some" : "");
	{
		struct dc_turn_err e[32];
		size_t n = dc_trace_turn_errors(dc, e, G_N_ELEMENTS(e));

		for (size_t i = 0; i < n; i++) {
			char line[700];

			dc_trace_turn_error_text(&e[i], line, sizeof(line));
			printf("  TURN error             %s%s\n", line,
			       e[i].count > 1 ? " (repeated)" : "");
		}
	}
	if (dc->sel_local.type[0])
		printf("  selected pair          local %s/%s %s <-> remote %s/%s %s\n",
		       dc->sel_local.type, dc->sel_local.transport, dc->sel_local.addr,
		       dc->sel_remote.type, dc->sel_remote.transport, dc->sel_remote.addr);
	printf("  path                   %s%s%s\n", path_name(dc->path),
	       dc->o.expect ? ", expected " : "", dc->o.expect ? path_name(dc->o.expect) : "");
	printf("  why                    %s\n", why);
	for (size_t i = 0; i < npairs; i++) {
		const struct dc_pair_view *v = &pairs[i];

		printf("  pair %-17s %s %s -> %s %s%s%s: %s%s\n", v->outcome, v->c.id.ltype,
		       v->c.id.laddr, v->rtype, v->c.id.raddr, v->c.id.via[0] ? " via " : "",
		       v->c.id.via, v->how, v->selected ? " [selected]" : "");
	}
	t("gathered", dc->t_gathered);
	t("ICE connected", dc->t_connected);
	t("DTLS done", dc->t_dtls);
	t("SCTP up", dc->t_sctp);
	t("channel open", dc->t_open);
	if (b->pongs)
		printf("  RTT                    min %.3f / avg %.3f / p95 %.3f ms (%u/%u)\n",
		       b->rtt_min, b->rtt_avg, b->rtt_p95, b->pongs, b->pings_sent);
	if (b->bulk_secs)
		printf("  throughput             %lu bytes in %.3f s = %.2f Mbit/s\n",
		       b->bulk_bytes, b->bulk_secs,
		       (double)b->bulk_bytes * 8 / b->bulk_secs / 1e6);
	if (dc->sig_lost_after_open)
		printf("  signaling              lost after the channel opened (channel kept working)\n");
}

void dc_report(struct dc *dc)
{
	struct dc_bench_stats b;

	GArray *events;
	GString *j;

	dc_bench_stats(dc, &b);
	npairs = dc_trace_pairs(dc, pairs, G_N_ELEMENTS(pairs));
	dc_trace_why(dc, pairs, npairs, why, sizeof(why));
	events = dc_timeline(dc, pairs, npairs);
	j = json(dc, &b, events);
	if (dc->o.json)
		printf("%s\n", j->str);
	else
		text(dc, &b);
	fflush(stdout);
	if (dc->report_html) {
		struct dc_report_data r = { .json = j->str, .events = events, .pairs = pairs,
		                            .npairs = npairs, .why = why, .bench = &b };

		if (dc_html_write(dc, dc->report_html, &r) != 0)
			dc_progress(dc, "warning: could not write the --report file %s",
			            dc->o.report_path);
		else
			dc_progress(dc, "report written to %s", dc->o.report_path);
		dc->report_html = NULL;
	}
	g_string_free(j, TRUE);
	g_array_free(events, TRUE);
	dc_bench_free(dc);
}
