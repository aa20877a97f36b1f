/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * trace.c - what a run observed, for the reports: the candidates both ways
 * (with when and where from), and the TURN errors the tap read, each named
 * after the candidate it was for. Main loop only.
 */
#include <stdio.h>
#include <string.h>

#include "dc.h"
#include "proto.h"

void dc_trace_init(struct dc *dc)
{
	dc->lcands = g_array_new(FALSE, TRUE, sizeof(struct dc_candidate));
	dc->rcands = g_array_new(FALSE, TRUE, sizeof(struct dc_candidate));
}

static enum dc_cand cand_kind(const char *type)
{
	if (strcmp(type, "host") == 0)
		return DC_HOST;
	if (strcmp(type, "srflx") == 0)
		return DC_SRFLX;
	if (strcmp(type, "prflx") == 0)
		return DC_PRFLX;
	return DC_RELAY;
}

void dc_trace_local(struct dc *dc, const struct dc_candidate *c)
{
	struct dc_candidate x = *c;

	x.t = dc_now(dc);
	g_array_append_val(dc->lcands, x);
	dc->ncand[cand_kind(c->type)]++;
}

void dc_trace_remote(struct dc *dc, const struct dc_candidate *c)
{
	struct dc_candidate x = *c;

	x.t = dc_now(dc);
	g_array_append_val(dc->rcands, x);
	dc->rcand[cand_kind(c->type)]++;
	if (strcmp(c->origin, "sdp") == 0)
		dc->r_sdp++;
	else if (strcmp(c->origin, "trickle") == 0)
		dc->r_trickle++;
}

unsigned dc_trace_remote_total(const struct dc *dc)
{
	return dc->rcand[DC_HOST] + dc->rcand[DC_SRFLX] + dc->rcand[DC_PRFLX] +
	       dc->rcand[DC_RELAY];
}

const struct dc_candidate *dc_trace_find(GArray *cands, const char *addr)
{
	for (guint i = 0; cands && i < cands->len; i++) {
		const struct dc_candidate *c = &g_array_index(cands, struct dc_candidate, i);

		if (strcmp(c->addr, addr) == 0)
			return c;
	}
	return NULL;
}

/* "the peer's relay candidate 127.0.0.1:49620" for a request's peer address. */
void dc_trace_peer_name(const struct dc *dc, const char *peer, char *buf, size_t cap)
{
	const struct dc_candidate *c = dc_trace_find(dc->rcands, peer);

	if (!peer[0])
		snprintf(buf, cap, "%s", "");
	else if (c)
		snprintf(buf, cap, "the peer's %s candidate %s", c->type, peer);
	else
		snprintf(buf, cap, "peer %s (not a candidate the peer signalled)", peer);
}

size_t dc_trace_turn_errors(const struct dc *dc, struct dc_turn_err *out, size_t cap)
{
	static struct dc_turn_tx tx[DC_MAX_TX];
	size_t n = dc_tap_turn(tx, DC_MAX_TX), k = 0;

	for (size_t i = 0; i < n; i++) {
		const struct dc_turn_tx *t = &tx[i];
		bool dup = false;

		if (!dc_turn_tx_is_error(t))
			continue;
		for (size_t j = 0; j < k && !dup; j++) {
			struct dc_turn_err *e = &out[j];

			if (e->tx.method == t->method && e->tx.code == t->code &&
			    strcmp(e->tx.peer, t->peer) == 0 && strcmp(e->tx.reason, t->reason) == 0 &&
			    strcmp(e->tx.server, t->server) == 0) {
				e->count++;
				dup = true;
			}
		}
		if (dup || k == cap)
			continue;
		out[k].tx = *t;
		out[k].count = 1;
		dc_trace_peer_name(dc, t->peer, out[k].candidate, sizeof(out[k].candidate));
		k++;
	}
	return k;
}

void dc_trace_turn_error_text(const struct dc_turn_err *e, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s%s%s refused by %s: %d%s%s", dc_stun_method_name(e->tx.method),
	         e->candidate[0] ? " for " : "", e->candidate, e->tx.server, e->tx.code,
	         e->tx.reason[0] ? " " : "", e->tx.reason);
}

/* ---- candidate pairs, and why the path won ------------------------------- */

/* "1.2.3.4" of "1.2.3.4:5" or "[::1]" of "[::1]:5" (the IP part, as written). */
static void ip_part(const char *addr, char *buf, size_t cap)
{
	const char *c = strrchr(addr, ':');

	snprintf(buf, cap, "%.*s", c ? (int)(c - addr) : (int)strlen(addr), addr);
}

static guint32 prio_of(GArray *cands, const char *type, const char *addr)
{
	for (guint i = 0; cands && i < cands->len; i++) {
		const struct dc_candidate *c = &g_array_index(cands, struct dc_candidate, i);

		if (strcmp(c->addr, addr) == 0 && (!type || strcmp(c->type, type) == 0))
			return c->priority;
	}
	return 0;
}

/* RFC 8445 §6.1.2.3: G is the controlling agent's (the offerer's) candidate. */
static guint64 pair_priority(bool controlling, guint32 local, guint32 remote)
{
	guint64 g = controlling ? local : remote, d = controlling ? remote : local;

	if (!local || !remote)
		return 0;
	return ((guint64)1 << 32) * MIN(g, d) + 2 * MAX(g, d) + (g > d ? 1 : 0);
}

/* A TURN refusal that explains a relayed pair's silence, or NULL. */
static const struct dc_turn_err *refusal_for(const struct dc_check *c, const struct dc_turn_err *e,
                                             size_t ne)
{
	char ip[64], pip[64];

	if (!c->id.via[0])
		return NULL;
	ip_part(c->id.raddr, ip, sizeof(ip));
	for (size_t i = 0; i < ne; i++) {
		if ((e[i].tx.method != TP_METHOD_CREATE_PERMISSION &&
		     e[i].tx.method != TP_METHOD_CHANNEL_BIND) ||
		    strcmp(e[i].tx.server, c->id.via) != 0)
			continue;
		ip_part(e[i].tx.peer, pip, sizeof(pip));
		if (strcmp(ip, pip) == 0)   /* permissions are per IP (RFC 8656 §9) */
			return &e[i];
	}
	return NULL;
}

static const char *plural(unsigned n)
{
	return n == 1 ? "" : "s";
}

static void describe(const struct dc *dc, struct dc_pair_view *v, const struct dc_turn_err *e,
                     size_t ne)
{
	const struct dc_check *c = &v->c;
	const struct dc_turn_err *r = refusal_for(c, e, ne);
	size_t k;

	if (c->code == 0) {
		snprintf(v->outcome, sizeof(v->outcome), "succeeded");
		snprintf(v->how, sizeof(v->how), "answered %.1f ms after the check went out (%u "
		         "check%s, %u datagram%s)", c->rtt_ms, c->requests, plural(c->requests),
		         c->sent, plural(c->sent));
		return;
	}
	if (c->code == -2) {
		snprintf(v->outcome, sizeof(v->outcome), "wrong-source");
		snprintf(v->how, sizeof(v->how), "answered from %s instead, which does not make "
		         "the pair valid", c->answer_from);
		return;
	}
	if (c->code > 0) {
		snprintf(v->outcome, sizeof(v->outcome), "error");
		snprintf(v->how, sizeof(v->how), "the peer answered error %d%s%s", c->code,
		         c->reason[0] ? " " : "", c->reason);
		return;
	}
	if (!c->requests) {
		snprintf(v->outcome, sizeof(v->outcome), "peer-only");
		snprintf(v->how, sizeof(v->how), "not checked from here; %u of the peer's checks "
		         "arrived on it", c->peer_checks);
		return;
	}
	snprintf(v->outcome, sizeof(v->outcome), "no-answer");
	k = (size_t)snprintf(v->how, sizeof(v->how), "no answer to %u check%s (%u datagram%s, "
	                     "the last at %.1f ms)", c->requests, plural(c->requests), c->sent,
	                     plural(c->sent), (double)c->t_last / 1000.0);
	if (k < sizeof(v->how) && r)
		k += (size_t)snprintf(v->how + k, sizeof(v->how) - k, ": the TURN server refused "
		                      "%s for it (%d %s)", dc_stun_method_name(r->tx.method),
		                      r->tx.code, r->tx.reason);
	else if (k < sizeof(v->how) && c->peer_checks)
		k += (size_t)snprintf(v->how + k, sizeof(v->how) - k, "; %u of the peer's checks "
		                      "arrived on it, so ours or their answers were lost",
		                      c->peer_checks);
	else if (k < sizeof(v->how))
		k += (size_t)snprintf(v->how + k, sizeof(v->how) - k, "; none of the peer's checks "
		                      "arrived on it either");
	(void)dc;
}

/* The selected pair: libnice names its candidates; the local one is matched
 * on its address, or (a reflexive local candidate is checked from its base)
 * on the peer's address and whether it is relayed. */
static void mark_selected(const struct dc *dc, struct dc_pair_view *v, size_t n)
{
	bool relay = strcmp(dc->sel_local.type, "relay") == 0;

	if (!dc->sel_local.type[0])
		return;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].c.id.laddr, dc->sel_local.addr) == 0 &&
		    strcmp(v[i].c.id.raddr, dc->sel_remote.addr) == 0) {
			v[i].selected = true;
			return;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].c.id.raddr, dc->sel_remote.addr) == 0 &&
		    (v[i].c.id.via[0] != 0) == relay && v[i].c.code == 0) {
			v[i].selected = true;
			return;
		}
	}
}

size_t dc_trace_pairs(const struct dc *dc, struct dc_pair_view *out, size_t cap)
{
	static struct dc_check c[DC_MAX_CHECKS];
	struct dc_turn_err e[32];
	size_t n = dc_checks_get(c, MIN(cap, (size_t)DC_MAX_CHECKS));
	size_t ne = dc_trace_turn_errors(dc, e, G_N_ELEMENTS(e));

	for (size_t i = 0; i < n; i++) {
		struct dc_pair_view *v = &out[i];
		const struct dc_candidate *rc = dc_trace_find(dc->rcands, c[i].id.raddr);

		memset(v, 0, sizeof(*v));
		v->c = c[i];
		snprintf(v->rtype, sizeof(v->rtype), "%s", rc ? rc->type : "prflx");
		v->priority = pair_priority(dc->o.offer, prio_of(dc->lcands, c[i].id.ltype,
		                                                 c[i].id.laddr),
		                            rc ? rc->priority : 0);
		describe(dc, v, e, ne);
	}
	mark_selected(dc, out, n);
	return n;
}

static void pair_name(const struct dc_pair_view *v, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s %s -> %s %s%s%s", v->c.id.ltype, v->c.id.laddr, v->rtype,
	         v->c.id.raddr, v->c.id.via[0] ? " via TURN " : "", v->c.id.via);
}

void dc_trace_why(const struct dc *dc, const struct dc_pair_view *v, size_t n, char *buf,
                  size_t cap)
{
	const struct dc_pair_view *sel = NULL;
	unsigned answered = 0, failed = 0, higher = 0;
	GString *s = g_string_new(NULL);
	char name[512];

	for (size_t i = 0; i < n; i++) {
		if (v[i].selected)
			sel = &v[i];
		if (v[i].c.code == 0)
			answered++;
		else if (v[i].c.requests)
			failed++;
	}
	if (!n) {
		g_string_assign(s, "no connectivity check was seen");
	} else if (!sel) {
		g_string_printf(s, "no pair won: %zu pair%s seen, %u answered", n, n == 1 ? "" : "s",
		                answered);
	} else {
		for (size_t i = 0; i < n; i++)
			if (v[i].c.code == 0 && &v[i] != sel && v[i].priority > sel->priority)
				higher++;
		pair_name(sel, name, sizeof(name));
		g_string_printf(s, "%s won: it answered (%.1f ms); ", name, sel->c.rtt_ms);
		if (answered == 1)
			g_string_append(s, "the only pair that answered");
		else if (!higher)
			g_string_append_printf(s, "the highest priority of the %u pairs that answered",
			                       answered);
		else
			g_string_append_printf(s, "%u pairs answered and %s nominated this one, "
			                       "though %u of them had a higher priority", answered,
			                       dc->o.offer ? "our agent (controlling)"
			                                   : "the offerer (controlling)", higher);
	}
	if (failed) {
		unsigned k = 0;

		g_string_append_printf(s, ". %u pair%s failed: ", failed, failed == 1 ? "" : "s");
		for (size_t i = 0; i < n && k < 4; i++) {
			if (v[i].c.code == 0 || !v[i].c.requests)
				continue;
			pair_name(&v[i], name, sizeof(name));
			g_string_append_printf(s, "%s%s: %s", k++ ? "; " : "", name, v[i].how);
		}
		if (failed > k)
			g_string_append_printf(s, "; and %u more", failed - k);
		if (sel)
			g_string_append_printf(s, " (ICE selected its pair at %.1f ms)",
			                       (double)dc->t_selected / 1000.0);
	}
	snprintf(buf, cap, "%s", s->str);
	g_string_free(s, TRUE);
}
