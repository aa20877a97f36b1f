/*
 * trace.c - what a run observed, for the reports: the candidates both ways
 * (with when and where from), and the TURN errors the tap read, each named
 * after the candidate it was for. Main loop only.
 */
#include <stdio.h>
#include <string.h>

#include "dc.h"

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
