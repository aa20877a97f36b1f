/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ice.c - ICE with libnice: gathering (host, STUN, TURN over udp/tcp/tls),
 * trickled candidates both ways, connectivity checks, the selected pair.
 * DTLS starts on CONNECTED (READY can come seconds later).
 */
#include <netdb.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <nice/debug.h>

#include "dc.h"
#include "proto.h"

static GPtrArray *local_out;    /* candidates waiting for our description to go out */
static int turn_err;           /* last STUN error code libnice logged while gathering */
static bool desc_sent, local_done_pending;
static char turn_name[300], stun_name[300];  /* "HOST:PORT" as given */

static const char *type_name(NiceCandidateType t)
{
	switch (t) {
	case NICE_CANDIDATE_TYPE_HOST: return "host";
	case NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE: return "srflx";
	case NICE_CANDIDATE_TYPE_PEER_REFLEXIVE: return "prflx";
	case NICE_CANDIDATE_TYPE_RELAYED: return "relay";
	}
	return "?";
}

static void addr_fmt(const NiceAddress *a, char *buf, size_t cap)
{
	char ip[NICE_ADDRESS_STRING_LEN];

	nice_address_to_string(a, ip);
	snprintf(buf, cap, strchr(ip, ':') ? "[%s]:%u" : "%s:%u", ip, nice_address_get_port(a));
}

static void cand_fill(struct dc *dc, struct dc_candidate *d, const NiceCandidate *c, bool local)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->type, sizeof(d->type), "%s", type_name(c->type));
	if (local && c->type == NICE_CANDIDATE_TYPE_RELAYED)
		snprintf(d->transport, sizeof(d->transport), "%s", dc->o.turn_transport);
	else
		snprintf(d->transport, sizeof(d->transport), "%s",
		         c->transport == NICE_CANDIDATE_TRANSPORT_UDP ? "udp" : "tcp");
	addr_fmt(&c->addr, d->addr, sizeof(d->addr));
	d->priority = c->priority;
}

static void side_fill(struct dc *dc, struct dc_side *s, const NiceCandidate *c, bool local)
{
	struct dc_candidate d;

	cand_fill(dc, &d, c, local);
	snprintf(s->type, sizeof(s->type), "%s", d.type);
	snprintf(s->transport, sizeof(s->transport), "%s", d.transport);
	snprintf(s->addr, sizeof(s->addr), "%s", d.addr);
}

/* libnice reports TURN error responses only in its debug output: while
 * gathering with TURN, we listen to that and keep the last error code. */
static void stun_log(const gchar *domain, GLogLevelFlags lvl, const gchar *msg, gpointer p)
{
	const char *c = strstr(msg, "error message received (code: ");

	(void)domain;
	(void)lvl;
	(void)p;
	if (c)
		turn_err = atoi(c + strlen("error message received (code: "));
}

static void quiet_log(const gchar *domain, GLogLevelFlags lvl, const gchar *msg, gpointer p)
{
	(void)domain;
	(void)lvl;
	(void)msg;
	(void)p;
}

static const char *turn_reason(int code)
{
	switch (code) {
	case 400: return "400 Bad Request";
	case 401: return "401 Unauthorized — check user/secret and realm";
	case 403: return "403 Forbidden — the server refuses this user or address";
	case 437: return "437 Allocation Mismatch";
	case 438: return "438 Stale Nonce";
	case 440: return "440 Address Family not Supported";
	case 441: return "441 Wrong Credentials";
	case 442: return "442 Unsupported Transport Protocol";
	case 486: return "486 Allocation Quota Reached — too many allocations for this user";
	case 508: return "508 Insufficient Capacity — the server has no relay ports left";
	}
	return NULL;
}

/* The last Allocate that failed for real (the tap read its answer), or NULL. */
static const struct dc_turn_tx *allocate_error(struct dc *dc)
{
	static struct dc_turn_tx tx[DC_MAX_TX];
	size_t n = dc_tap_turn(tx, DC_MAX_TX);

	(void)dc;
	for (size_t i = n; i-- > 0;)
		if (tx[i].method == TP_METHOD_ALLOCATE && dc_turn_tx_is_error(&tx[i]))
			return &tx[i];
	return NULL;
}

static void send_description(struct dc *dc)
{
	gchar *ufrag = NULL, *pwd = NULL;
	char *sdp;

	nice_agent_get_local_credentials(dc->agent, dc->stream, &ufrag, &pwd);
	sdp = dc_sdp_build(dc, ufrag, pwd);
	dc_signal_send(dc, dc->o.offer ? "offer" : "answer", "sdp", sdp);
	dc_progress(dc, "sent %s", dc->o.offer ? "offer" : "answer");
	g_free(sdp);
	g_free(ufrag);
	g_free(pwd);
	desc_sent = true;
	for (guint i = 0; i < local_out->len; i++)
		dc_signal_send_candidate(dc, g_ptr_array_index(local_out, i));
	g_ptr_array_set_size(local_out, 0);
	if (local_done_pending)
		dc_signal_send_candidate(dc, "");
}

static void on_new_candidate(NiceAgent *agent, NiceCandidate *c, gpointer p)
{
	struct dc *dc = p;
	gchar *sdp = nice_agent_generate_local_candidate_sdp(agent, c);
	const char *line = g_str_has_prefix(sdp, "a=") ? sdp + 2 : sdp;
	struct dc_candidate rec;

	cand_fill(dc, &rec, c, true);
	if (c->type == NICE_CANDIDATE_TYPE_RELAYED ||
	    (c->type == NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE && turn_name[0]))
		snprintf(rec.origin, sizeof(rec.origin), "%s", turn_name);
	else if (c->type == NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE)
		snprintf(rec.origin, sizeof(rec.origin), "%s", stun_name);
	dc_trace_local(dc, &rec);
	if (desc_sent)
		dc_signal_send_candidate(dc, line);
	else
		g_ptr_array_add(local_out, g_strdup(line));
	g_free(sdp);
}

/* A peer-reflexive candidate of the peer, learned from its checks. */
static void on_new_remote_candidate(NiceAgent *agent, NiceCandidate *c, gpointer p)
{
	struct dc *dc = p;
	struct dc_candidate rec;

	(void)agent;
	cand_fill(dc, &rec, c, false);
	if (c->type != NICE_CANDIDATE_TYPE_PEER_REFLEXIVE || dc_trace_find(dc->rcands, rec.addr))
		return;
	snprintf(rec.origin, sizeof(rec.origin), "check");
	dc_trace_remote(dc, &rec);
}

static void on_gathering_done(NiceAgent *agent, guint stream, gpointer p)
{
	struct dc *dc = p;

	(void)agent;
	(void)stream;
	if (dc->gathering_done)
		return;
	dc->t_gathered = dc_now(dc);
	dc->gathering_done = true;
	dc_progress(dc, "gathering done: host %u srflx %u relay %u", dc->ncand[DC_HOST],
	            dc->ncand[DC_SRFLX], dc->ncand[DC_RELAY]);
	dc_event(dc, "gathering-done", "A", false, "gathering done: host %u, srflx %u, relay %u",
	         dc->ncand[DC_HOST], dc->ncand[DC_SRFLX], dc->ncand[DC_RELAY]);
	nice_debug_disable(TRUE);
	if (dc->o.turn_host && dc->ncand[DC_RELAY] == 0) {
		const struct dc_turn_tx *alloc = allocate_error(dc);
		int code = alloc ? alloc->code : turn_err;
		const char *why = turn_reason(code);

		dc->stage = "candidate gathering (TURN allocation)";
		if (dc->o.force_relay || dc->o.expect == DC_PATH_RELAY) {
			if (dc_tls_error())
				dc_fail(dc, "%s", dc_tls_error());
			else if (why && alloc && alloc->reason[0])
				dc_fail(dc, "TURN allocation refused by %s:%u (%s): %s (the server said "
				        "\"%s\")", dc->o.turn_host, dc->o.turn_port, dc->o.turn_transport,
				        why, alloc->reason);
			else if (alloc)
				dc_fail(dc, "TURN allocation refused by %s:%u (%s): error %d %s",
				        dc->o.turn_host, dc->o.turn_port, dc->o.turn_transport,
				        alloc->code, alloc->reason);
			else if (why)
				dc_fail(dc, "TURN allocation refused by %s:%u (%s): %s",
				        dc->o.turn_host, dc->o.turn_port, dc->o.turn_transport, why);
			else if (code)
				dc_fail(dc, "TURN allocation refused by %s:%u (%s): error %d",
				        dc->o.turn_host, dc->o.turn_port, dc->o.turn_transport, code);
			else
				dc_fail(dc, "TURN allocation failed: no answer from %s:%u over %s "
				        "— check the address, port and transport, and firewalls",
				        dc->o.turn_host, dc->o.turn_port, dc->o.turn_transport);
			return;
		}
		dc_progress(dc, "warning: no relayed candidate from TURN %s:%u (%s); trying "
		            "without", dc->o.turn_host, dc->o.turn_port, dc->o.turn_transport);
	}
	if (dc->ncand[DC_HOST] + dc->ncand[DC_SRFLX] + dc->ncand[DC_RELAY] == 0) {
		dc_fail(dc, "gathering produced no candidates (check --bind and the network)");
		return;
	}
	if (desc_sent)
		dc_signal_send_candidate(dc, "");
	else
		local_done_pending = true;
}

/* libnice may never signal the end of gathering with TURN over TCP: after
 * GATHER_WAIT_MS, judge the TURN allocation anyway. */
#define GATHER_WAIT_MS 4000

static gboolean gather_wait_cb(gpointer p)
{
	struct dc *dc = p;

	if (!dc->gathering_done && !dc->finished && dc->o.turn_host &&
	    dc->ncand[DC_RELAY] == 0) {
		dc_progress(dc, "no relayed candidate after %d ms", GATHER_WAIT_MS);
		on_gathering_done(dc->agent, dc->stream, dc);
	}
	return G_SOURCE_REMOVE;
}

static void on_selected_pair(NiceAgent *agent, guint stream, guint comp, NiceCandidate *l,
                             NiceCandidate *r, gpointer p)
{
	struct dc *dc = p;

	(void)agent;
	(void)stream;
	(void)comp;
	if (!dc->t_selected)
		dc->t_selected = dc_now(dc);
	side_fill(dc, &dc->sel_local, l, true);
	side_fill(dc, &dc->sel_remote, r, false);
	dc->path = (l->type == NICE_CANDIDATE_TYPE_RELAYED ||
	            r->type == NICE_CANDIDATE_TYPE_RELAYED) ? DC_PATH_RELAY : DC_PATH_DIRECT;
	dc_progress(dc, "selected pair: local %s %s %s, remote %s %s %s",
	            dc->sel_local.type, dc->sel_local.transport, dc->sel_local.addr,
	            dc->sel_remote.type, dc->sel_remote.transport, dc->sel_remote.addr);
	dc_event(dc, "selected-pair", "A", false, "selected pair: local %s %s %s, remote %s %s %s",
	         dc->sel_local.type, dc->sel_local.transport, dc->sel_local.addr,
	         dc->sel_remote.type, dc->sel_remote.transport, dc->sel_remote.addr);
}

/* What both sides had, and what the TURN server refused; ends with a hint. */
void dc_ice_explain(struct dc *dc, GString *s)
{
	struct dc_turn_err errs[8];
	size_t n = dc_trace_turn_errors(dc, errs, G_N_ELEMENTS(errs));
	bool policy = false;

	g_string_append_printf(s, "(local: host %u, srflx %u, relay %u; remote: host %u, "
	                       "srflx %u, relay %u, %u from the SDP and %u trickled%s)",
	                       dc->ncand[DC_HOST], dc->ncand[DC_SRFLX], dc->ncand[DC_RELAY],
	                       dc->rcand[DC_HOST], dc->rcand[DC_SRFLX], dc->rcand[DC_RELAY],
	                       dc->r_sdp, dc->r_trickle, dc->r_end ? ", end-of-candidates" : "");
	for (size_t i = 0; i < n && i < 3; i++) {
		char t[700];

		dc_trace_turn_error_text(&errs[i], t, sizeof(t));
		g_string_append_printf(s, "%s%s", i ? "; " : "; TURN: ", t);
		policy |= errs[i].tx.code == 403 &&
		          (errs[i].tx.method == TP_METHOD_CREATE_PERMISSION ||
		           errs[i].tx.method == TP_METHOD_CHANNEL_BIND);
	}
	if (n > 3)
		g_string_append_printf(s, "; and %zu more TURN errors", n - 3);
	if (policy)
		g_string_append(s, " — the TURN server's peer policy refuses the peer's address "
		                "(on turnpike: allowed-peer, denied-peer)");
	else if (dc_trace_remote_total(dc) == 0)
		g_string_append(s, " — the peer sent no candidates: see its error");
	else
		g_string_append(s, " — check the TURN server (--turn, credentials), NAT/firewall "
		                "filtering, or try --force-relay");
}

static void ice_failed(struct dc *dc)
{
	GString *s = g_string_new("ICE connectivity checks failed: no candidate pair worked ");

	dc_ice_explain(dc, s);
	dc_fail(dc, "%s", s->str);
	g_string_free(s, TRUE);
}

static void on_state(NiceAgent *agent, guint stream, guint comp, guint state, gpointer p)
{
	struct dc *dc = p;

	(void)comp;
	if (state == NICE_COMPONENT_STATE_CONNECTED && !dc->dtls_started) {
		NiceCandidate *l = NULL, *r = NULL;

		if (!dc->sel_local.type[0] &&
		    nice_agent_get_selected_pair(agent, stream, 1, &l, &r))
			on_selected_pair(agent, stream, 1, l, r, dc);
		dc->t_connected = dc_now(dc);
		dc_progress(dc, "ICE connected");
		dc_event(dc, "ice-connected", "A", false, "ICE connected (%s path)",
		         dc->path == DC_PATH_RELAY ? "relayed" : "direct");
		dc->dtls_started = true;
		dc_dtls_start(dc);
	} else if (state == NICE_COMPONENT_STATE_FAILED && !dc->dtls_done) {
		ice_failed(dc);
	} else if (state == NICE_COMPONENT_STATE_FAILED) {
		dc_fail(dc, "ICE: the path failed after the channel was up (consent lost)");
	}
}

static void on_recv(NiceAgent *agent, guint stream, guint comp, guint len, gchar *buf,
                    gpointer p)
{
	(void)agent;
	(void)stream;
	(void)comp;
	dc_dtls_input(p, buf, len);
}

static int resolve(const char *host, char *ip, size_t cap)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM }, *res;

	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return -1;
	getnameinfo(res->ai_addr, res->ai_addrlen, ip, (socklen_t)cap, NULL, 0, NI_NUMERICHOST);
	freeaddrinfo(res);
	return 0;
}

static void server_name(const char *host, unsigned port, char *buf, size_t cap)
{
	snprintf(buf, cap, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
}

/* TURN REST API credentials: "EXPIRY:dc-client", base64(HMAC-SHA1(secret, user)). */
static void rest_creds(const char *secret, char **user, char **pass)
{
	GHmac *h;
	guint8 dig[20];
	gsize dl = sizeof(dig);

	*user = g_strdup_printf("%lld:dc-client", (long long)time(NULL) + 86400);
	h = g_hmac_new(G_CHECKSUM_SHA1, (const guchar *)secret, strlen(secret));
	g_hmac_update(h, (const guchar *)*user, -1);
	g_hmac_get_digest(h, dig, &dl);
	g_hmac_unref(h);
	*pass = g_base64_encode(dig, dl);
}

int dc_ice_start(struct dc *dc)
{
	struct dc_opts *o = &dc->o;
	char ip[NI_MAXHOST];

	local_out = g_ptr_array_new_with_free_func(g_free);
	dc->agent = nice_agent_new_full(NULL, NICE_COMPATIBILITY_RFC5245,
	                                NICE_AGENT_OPTION_ICE_TRICKLE);
	g_object_set(dc->agent, "controlling-mode", o->offer, "force-relay", o->force_relay,
	             "upnp", FALSE, NULL);
	if (o->bind_ip) {
		NiceAddress a;

		if (!nice_address_set_from_string(&a, o->bind_ip)) {
			dc_fail(dc, "--bind %s: not an IP address", o->bind_ip);
			return -1;
		}
		nice_agent_add_local_address(dc->agent, &a);
	}
	if (o->stun_host) {
		if (o->turn_host) {
			dc_progress(dc, "note: with --turn, the reflexive address comes from the "
			            "TURN server; --stun is ignored");
		} else if (resolve(o->stun_host, ip, sizeof(ip)) != 0) {
			dc_fail(dc, "STUN server %s: cannot resolve", o->stun_host);
			return -1;
		} else {
			g_object_set(dc->agent, "stun-server", ip, "stun-server-port", o->stun_port,
			             NULL);
			server_name(o->stun_host, o->stun_port, stun_name, sizeof(stun_name));
			dc_tap_server(ip, o->stun_port, stun_name);
		}
	}
	g_signal_connect(dc->agent, "new-candidate-full", G_CALLBACK(on_new_candidate), dc);
	g_signal_connect(dc->agent, "candidate-gathering-done", G_CALLBACK(on_gathering_done),
	                 dc);
	g_signal_connect(dc->agent, "component-state-changed", G_CALLBACK(on_state), dc);
	g_signal_connect(dc->agent, "new-selected-pair-full", G_CALLBACK(on_selected_pair), dc);
	g_signal_connect(dc->agent, "new-remote-candidate-full",
	                 G_CALLBACK(on_new_remote_candidate), dc);
	dc->stream = nice_agent_add_stream(dc->agent, 1);
	if (o->turn_host) {
		NiceRelayType rt = NICE_RELAY_TYPE_TURN_UDP;
		unsigned turn_port = o->turn_port;
		char *user, *pass;

		if (strcmp(o->turn_transport, "tcp") == 0)
			rt = NICE_RELAY_TYPE_TURN_TCP;
		else if (strcmp(o->turn_transport, "tls") == 0)
			rt = NICE_RELAY_TYPE_TURN_TLS;
		if (resolve(o->turn_host, ip, sizeof(ip)) != 0) {
			dc_fail(dc, "TURN server %s: cannot resolve", o->turn_host);
			return -1;
		}
		if (rt == NICE_RELAY_TYPE_TURN_TLS) {
			unsigned lport;

			/* libnice's TLS is plain TCP here: TCP to our local TLS bridge */
			if (dc_tls_bridge_start(dc, o->turn_host, ip, o->turn_port, &lport) != 0)
				return -1;
			snprintf(ip, sizeof(ip), "127.0.0.1");
			turn_port = lport;
			rt = NICE_RELAY_TYPE_TURN_TCP;
		}
		if (o->turn_secret) {
			rest_creds(o->turn_secret, &user, &pass);
		} else {
			user = g_strdup(o->user);
			pass = g_strdup(o->pass);
		}
		server_name(o->turn_host, o->turn_port, turn_name, sizeof(turn_name));
		dc_tap_server(ip, turn_port, turn_name);
		g_log_set_handler("libnice-stun", G_LOG_LEVEL_DEBUG, stun_log, NULL);
		g_log_set_handler("libnice", G_LOG_LEVEL_DEBUG, quiet_log, NULL);
		nice_debug_enable(TRUE);
		nice_agent_set_relay_info(dc->agent, dc->stream, 1, ip, turn_port, user, pass, rt);
		g_free(user);
		g_free(pass);
	}
	nice_agent_attach_recv(dc->agent, dc->stream, 1, g_main_context_default(), on_recv, dc);
	if (!nice_agent_gather_candidates(dc->agent, dc->stream)) {
		dc_fail(dc, "gathering could not start (no usable local address%s%s)",
		        o->bind_ip ? " for --bind " : "", o->bind_ip ? o->bind_ip : "");
		return -1;
	}
	g_timeout_add(GATHER_WAIT_MS, gather_wait_cb, dc);
	if (o->offer)
		send_description(dc);
	return 0;
}

/* origin: "sdp" or "trickle" */
static void add_remote(struct dc *dc, const char *cand, const char *origin)
{
	gchar *line = g_str_has_prefix(cand, "a=") ? g_strdup(cand)
	                                           : g_strdup_printf("a=%s", cand);
	NiceCandidate *c = nice_agent_parse_remote_candidate_sdp(dc->agent, dc->stream, line);

	if (!c) {
		dc->r_unusable++;
		dc_progress(dc, "ignoring a remote candidate libnice cannot use: %s", cand);
	} else {
		GSList l = { .data = c, .next = NULL };
		struct dc_candidate rec;

		cand_fill(dc, &rec, c, false);
		snprintf(rec.origin, sizeof(rec.origin), "%s", origin);
		dc_trace_remote(dc, &rec);
		c->component_id = 1;
		nice_agent_set_remote_candidates(dc->agent, dc->stream, 1, &l);
		nice_candidate_free(c);
	}
	g_free(line);
}

static void remote_done(struct dc *dc)
{
	if (!dc->r_end)
		dc_event(dc, "peer-end-of-candidates", "B>signaling>A", true,
		         "the peer's end of candidates");
	dc->r_end = true;
	nice_agent_peer_candidate_gathering_done(dc->agent, dc->stream);
}

void dc_ice_remote_description(struct dc *dc)
{
	struct dc_sdp *s = &dc->remote;

	dc->remote_set = true;
	nice_agent_set_remote_credentials(dc->agent, dc->stream, s->ufrag, s->pwd);
	if (!dc->o.offer)
		send_description(dc);
	dc->stage = "ICE connectivity checks";
	for (guint i = 0; i < s->candidates->len; i++)
		add_remote(dc, g_ptr_array_index(s->candidates, i), "sdp");
	for (guint i = 0; i < dc->pending_cands->len; i++)
		dc_ice_remote_candidate(dc, g_ptr_array_index(dc->pending_cands, i));
	g_ptr_array_set_size(dc->pending_cands, 0);
	if (s->end_of_candidates)
		remote_done(dc);
}

void dc_ice_remote_candidate(struct dc *dc, const char *cand)
{
	if (!dc->remote_set) {
		g_ptr_array_add(dc->pending_cands, g_strdup(cand));
		return;
	}
	if (!cand[0]) {
		remote_done(dc);
		return;
	}
	add_remote(dc, cand, "trickle");
}

void dc_ice_send(struct dc *dc, const void *buf, size_t len)
{
	if (dc->agent)
		nice_agent_send(dc->agent, dc->stream, 1, (guint)len, buf);
}

void dc_ice_close(struct dc *dc)
{
	if (dc->agent)
		nice_agent_close_async(dc->agent, NULL, NULL);
}
