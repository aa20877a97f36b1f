/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * timeline.c - the run as a sequence of events, each at its measured time, for
 * the JSON report and the HTML picture (html.c) alike.
 *
 * Lanes: "A" (this dc-client), "signaling", "server" (the STUN/TURN server)
 * and "B" (the peer). An event's path is the lanes a message crosses, in
 * order ("A>signaling>B"); a single lane is a note. dc-client sees only its own
 * side: the time is when the event happened here (sent, received, decided);
 * "remote" marks what the peer did, seen when it reached us (its own send
 * time is not known).
 *
 * Some events are recorded as they happen (dc_event: signaling, DTLS, SCTP,
 * DCEP, the bench); the rest are derived when the report is made from what was
 * kept anyway: candidates both ways (trace.c), the server transactions and the
 * connectivity checks the tap read (tap.c, checks.c). Main loop only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dc.h"
#include "proto.h"

/* Labels may carry the peer's text, and vsnprintf may cut a character in two:
 * keep them valid UTF-8 for the JSON and the page. */
static void valid_utf8(char *s, size_t cap)
{
	gchar *v;

	if (g_utf8_validate(s, -1, NULL))
		return;
	v = g_utf8_make_valid(s, -1);
	snprintf(s, cap, "%s", v);
	g_free(v);
	while (!g_utf8_validate(s, -1, NULL))   /* the copy may have cut one again */
		s[strlen(s) - 1] = 0;
}

void dc_event(struct dc *dc, const char *kind, const char *path, bool remote,
              const char *fmt, ...)
{
	struct dc_ev e;
	va_list ap;

	if (!dc->events)
		dc->events = g_array_new(FALSE, TRUE, sizeof(struct dc_ev));
	memset(&e, 0, sizeof(e));
	e.t = dc_now(dc);
	snprintf(e.kind, sizeof(e.kind), "%s", kind);
	snprintf(e.path, sizeof(e.path), "%s", path);
	e.remote = remote;
	va_start(ap, fmt);
	vsnprintf(e.label, sizeof(e.label), fmt, ap);
	va_end(ap);
	valid_utf8(e.label, sizeof(e.label));
	g_array_append_val(dc->events, e);
}

/* The path of what goes over the selected pair: through the server if relayed. */
const char *dc_event_data_path(const struct dc *dc, bool to_peer)
{
	if (dc->path == DC_PATH_RELAY)
		return to_peer ? "A>server>B" : "B>server>A";
	return to_peer ? "A>B" : "B>A";
}

static void add(GArray *out, gint64 t, const char *kind, const char *path, bool remote,
                const char *fmt, ...) G_GNUC_PRINTF(6, 7);

static void add(GArray *out, gint64 t, const char *kind, const char *path, bool remote,
                const char *fmt, ...)
{
	struct dc_ev e;
	va_list ap;

	memset(&e, 0, sizeof(e));
	e.t = t;
	snprintf(e.kind, sizeof(e.kind), "%s", kind);
	snprintf(e.path, sizeof(e.path), "%s", path);
	e.remote = remote;
	va_start(ap, fmt);
	vsnprintf(e.label, sizeof(e.label), fmt, ap);
	va_end(ap);
	valid_utf8(e.label, sizeof(e.label));
	g_array_append_val(out, e);
}

static void candidates(const struct dc *dc, GArray *out)
{
	for (guint i = 0; i < dc->lcands->len; i++) {
		const struct dc_candidate *c = &g_array_index(dc->lcands, struct dc_candidate, i);

		if (c->origin[0])
			add(out, c->t, "candidate", "server>A", false, "%s candidate %s %s from %s",
			    c->type, c->transport, c->addr, c->origin);
		else
			add(out, c->t, "candidate", "A", false, "%s candidate %s %s", c->type,
			    c->transport, c->addr);
	}
	for (guint i = 0; i < dc->rcands->len; i++) {
		const struct dc_candidate *c = &g_array_index(dc->rcands, struct dc_candidate, i);

		if (strcmp(c->origin, "check") == 0)
			add(out, c->t, "peer-candidate", "B>A", true, "the peer's prflx candidate %s "
			    "%s, learned from its check", c->transport, c->addr);
		else
			add(out, c->t, "peer-candidate", "B>signaling>A", true, "the peer's %s "
			    "candidate %s %s (%s)", c->type, c->transport, c->addr,
			    strcmp(c->origin, "sdp") == 0 ? "in its SDP" : "trickled");
	}
}

static void turn_txs(const struct dc *dc, GArray *out)
{
	static struct dc_turn_tx tx[DC_MAX_TX];
	size_t n = dc_tap_turn(tx, DC_MAX_TX);

	for (size_t i = 0; i < n; i++) {
		const struct dc_turn_tx *t = &tx[i];
		const char *m = dc_stun_method_name(t->method);
		char peer[160] = "", again[32] = "";

		if (t->peer[0])
			dc_trace_peer_name(dc, t->peer, peer, sizeof(peer));
		if (t->sent > 1)
			snprintf(again, sizeof(again), " (sent %u times)", t->sent);
		add(out, t->t_req, "server-request", "A>server", false, "%s%s%s%s%s", m,
		    peer[0] ? " for " : "", peer, t->auth ? "" : " without credentials", again);
		if (!t->t_res)
			continue;
		if (t->code == 0)
			add(out, t->t_res, "server-answer", "server>A", false, "%s: success%s%s", m,
			    !t->result[0] ? "" : t->method == TP_METHOD_ALLOCATE ? ", relayed address "
			                                                          : ", mapped address ",
			    t->result);
		else if (!dc_turn_tx_is_error(t))
			add(out, t->t_res, "server-answer", "server>A", false, "%s: %d %s (%s)", m,
			    t->code, t->reason, t->code == 401 ? "the challenge: realm and nonce"
			                                       : "a fresh nonce");
		else
			add(out, t->t_res, "server-error", "server>A", false, "%s: %d %s", m, t->code,
			    t->reason);
	}
}

static void checks(const struct dc_pair_view *v, size_t n, GArray *out)
{
	for (size_t i = 0; i < n; i++) {
		const struct dc_check *c = &v[i].c;
		bool relay = c->id.via[0] != 0;
		char name[200];

		snprintf(name, sizeof(name), "%s %s -> %s %s", c->id.ltype, c->id.laddr, v[i].rtype,
		         c->id.raddr);
		if (c->requests)
			add(out, c->t_first, "check", relay ? "A>server>B" : "A>B", false,
			    "check %s (%u check%s, %u datagram%s)", name, c->requests,
			    c->requests == 1 ? "" : "s", c->sent, c->sent == 1 ? "" : "s");
		if (c->peer_checks)
			add(out, c->t_peer, "peer-check", relay ? "B>server>A" : "B>A", true,
			    "the peer's check on %s (%u)", name, c->peer_checks);
		if (c->t_answer)
			add(out, c->t_answer, "check-answer", relay ? "B>server>A" : "B>A", true,
			    "%s: %s", name, v[i].how);
		else if (c->requests)
			add(out, c->t_last, "check-unanswered", "A", false, "the last check on %s went "
			    "out; none was answered", name);
	}
}

static gint by_time(gconstpointer a, gconstpointer b)
{
	const struct dc_ev *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

GArray *dc_timeline(struct dc *dc, const struct dc_pair_view *pairs, size_t npairs)
{
	GArray *out = g_array_new(FALSE, TRUE, sizeof(struct dc_ev));

	if (dc->events)
		g_array_append_vals(out, dc->events->data, dc->events->len);
	candidates(dc, out);
	turn_txs(dc, out);
	checks(pairs, npairs, out);
	for (guint i = 0; i < out->len; i++)
		g_array_index(out, struct dc_ev, i).seq = i;
	g_array_sort(out, by_time);
	return out;
}
