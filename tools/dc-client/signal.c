/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * signal.c - the WebSocket signaling client (libsoup-3.0) and its JSON.
 *
 * Messages: {"type":"offer"|"answer","sdp":"..."},
 * {"type":"candidate","candidate":"candidate:...","sdpMid":"0","sdpMLineIndex":0}
 * (an empty candidate means end-of-candidates), {"type":"bye"}.
 * Once the data channel is open, losing signaling is reported, not fatal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libsoup/soup.h>

#include "dc.h"

struct sig {
	SoupSession *sess;
	SoupWebsocketConnection *ws;
	GPtrArray *outq;       /* struct out: sent before the connection is up */
	bool closed;
};

struct out {                   /* a message, and the event its sending is */
	char *text;
	char kind[24];
	char label[300];
};

static void out_free(gpointer p)
{
	struct out *o = p;

	g_free(o->text);
	g_free(o);
}

/* ---- the connection ---------------------------------------------------- */

const char *dc_signal_url_public(const struct dc *dc)
{
	static char buf[1024];
	const char *q = strchr(dc->o.signal_url, '?');

	snprintf(buf, sizeof(buf), "%.*s%s", q ? (int)(q - dc->o.signal_url)
	                                       : (int)strlen(dc->o.signal_url),
	         dc->o.signal_url, q ? "?..." : "");
	return buf;
}

/* Sends now, or queues until the connection is up; the event is recorded when
 * the message really goes out. */
static void send_text(struct dc *dc, const char *text, const char *kind, const char *label)
{
	struct sig *s = dc->sig;

	if (!s || s->closed)
		return;
	if (!s->ws) {
		struct out *o = g_new0(struct out, 1);

		o->text = g_strdup(text);
		snprintf(o->kind, sizeof(o->kind), "%s", kind);
		snprintf(o->label, sizeof(o->label), "%s", label);
		g_ptr_array_add(s->outq, o);
		return;
	}
	if (g_getenv("DC_DEBUG_SIGNAL"))
		dc_progress(dc, "signaling >> %s", text);
	if (soup_websocket_connection_get_state(s->ws) == SOUP_WEBSOCKET_STATE_OPEN) {
		soup_websocket_connection_send_text(s->ws, text);
		dc_event(dc, kind, "A>signaling>B", false, "%s", label);
	}
}

/* "host udp 10.0.1.2:40000" from "candidate:1 1 UDP 2015363327 10.0.1.2 40000 typ host". */
static void cand_label(const char *cand, char *buf, size_t cap)
{
	char **f = g_strsplit(cand, " ", 10);

	if (g_strv_length(f) >= 8) {
		char *tr = g_ascii_strdown(f[2], -1);
		bool v6 = strchr(f[4], ':') != NULL;

		snprintf(buf, cap, "%s %s %s%s%s:%s", f[7], tr, v6 ? "[" : "", f[4], v6 ? "]" : "",
		         f[5]);
		g_free(tr);
	} else
		snprintf(buf, cap, "%s", cand);
	g_strfreev(f);
}

void dc_signal_send(struct dc *dc, const char *type, const char *key, const char *val)
{
	GString *s = g_string_new("{\"type\":");

	dc_json_str(s, type);
	if (key) {
		g_string_append_c(s, ',');
		dc_json_str(s, key);
		g_string_append_c(s, ':');
		dc_json_str(s, val);
	}
	g_string_append_c(s, '}');
	if (strcmp(type, "offer") == 0 || strcmp(type, "answer") == 0) {
		char label[64];

		snprintf(label, sizeof(label), "%s sent (SDP)", type);
		send_text(dc, s->str, strcmp(type, "offer") == 0 ? "offer-sent" : "answer-sent",
		          label);
	} else {
		send_text(dc, s->str, "signal-sent", type);
	}
	g_string_free(s, TRUE);
}

void dc_signal_send_candidate(struct dc *dc, const char *cand)
{
	GString *s = g_string_new("{\"type\":\"candidate\",\"candidate\":");

	dc_json_str(s, cand);
	g_string_append(s, ",\"sdpMid\":\"0\",\"sdpMLineIndex\":0}");
	if (cand[0]) {
		char what[200], label[240];

		cand_label(cand, what, sizeof(what));
		snprintf(label, sizeof(label), "our candidate sent: %s", what);
		send_text(dc, s->str, "candidate-sent", label);
	} else {
		send_text(dc, s->str, "candidate-sent", "end of our candidates sent");
	}
	g_string_free(s, TRUE);
}

static void on_message(SoupWebsocketConnection *ws, gint type, GBytes *msg, gpointer p)
{
	struct dc *dc = p;
	gsize n;
	const char *data = g_bytes_get_data(msg, &n);
	char *text = g_strndup(data, n), *t;

	(void)ws;
	(void)type;
	if (g_getenv("DC_DEBUG_SIGNAL"))
		dc_progress(dc, "signaling << %s", text);
	t = dc_json_get(text, "type");
	if (!t) {
		dc_progress(dc, "signaling: ignoring a message without \"type\"");
	} else if (strcmp(t, "offer") == 0 || strcmp(t, "answer") == 0) {
		char *sdp = dc_json_get(text, "sdp");

		if (strcmp(t, dc->o.offer ? "answer" : "offer") != 0 || !sdp) {
			dc_progress(dc, "signaling: unexpected %s", t);
		} else if (dc->remote_set) {
			dc_progress(dc, "signaling: ignoring a second %s", t);
		} else if (dc_sdp_parse(&dc->remote, sdp) != 0) {
			dc_fail(dc, "signaling: the remote %s is not usable SDP for a data channel "
			        "(needs ice-ufrag, ice-pwd, a sha-256 fingerprint and "
			        "m=application ... webrtc-datachannel)", t);
		} else {
			dc_progress(dc, "signaling: got %s", t);
			dc_event(dc, strcmp(t, "offer") == 0 ? "offer-received" : "answer-received",
			         "B>signaling>A", true, "the peer's %s (SDP), relayed by signaling", t);
			dc_ice_remote_description(dc);
		}
		g_free(sdp);
	} else if (strcmp(t, "candidate") == 0) {
		char *c = dc_json_get(text, "candidate");

		dc_ice_remote_candidate(dc, c ? c : "");
		g_free(c);
	} else if (strcmp(t, "bye") == 0) {
		dc_progress(dc, "signaling: peer said bye");
		dc_event(dc, "bye-received", "B>signaling>A", true, "the peer said bye");
		if (!dc->chan_open && dc->remote_set && !dc->dtls_started) {
			GString *s = g_string_new("the peer left (bye) during the ICE connectivity "
			                          "checks, none had worked here ");

			dc_ice_explain(dc, s);
			dc_fail(dc, "%s", s->str);
			g_string_free(s, TRUE);
		} else if (!dc->chan_open) {
			dc_fail(dc, "the peer left (bye) before the data channel opened, while "
			        "waiting for %s — see the peer's error", dc->stage);
		}
	}
	g_free(t);
	g_free(text);
}

static void on_closed(SoupWebsocketConnection *ws, gpointer p)
{
	struct dc *dc = p;
	struct sig *s = dc->sig;

	(void)ws;
	s->closed = true;
	if (dc->finished)
		return;
	dc_event(dc, "signaling-closed", "A>signaling", false, "signaling connection closed");
	if (dc->chan_open) {
		dc->sig_lost_after_open = true;
		dc_progress(dc, "signaling connection lost after the channel opened; carrying on");
		return;
	}
	dc_fail(dc, "signaling connection to %s closed before the data channel opened "
	        "(while waiting for %s)", dc_signal_url_public(dc), dc->stage);
}

static void on_connected(GObject *src, GAsyncResult *res, gpointer p)
{
	struct dc *dc = p;
	struct sig *s = dc->sig;
	GError *err = NULL;

	s->ws = soup_session_websocket_connect_finish(SOUP_SESSION(src), res, &err);
	if (!s->ws) {
		dc_fail(dc, "signaling: cannot connect to %s: %s — check the URL, that the "
		        "signaling server runs, and the room token", dc_signal_url_public(dc),
		        err->message);
		g_error_free(err);
		return;
	}
	soup_websocket_connection_set_keepalive_interval(s->ws, 15);
	soup_websocket_connection_set_max_incoming_payload_size(s->ws, 1 << 20);
	g_signal_connect(s->ws, "message", G_CALLBACK(on_message), dc);
	g_signal_connect(s->ws, "closed", G_CALLBACK(on_closed), dc);
	dc_progress(dc, "signaling connected to %s", dc_signal_url_public(dc));
	dc_event(dc, "signaling-connected", "A>signaling", false, "WebSocket to %s open",
	         dc_signal_url_public(dc));
	if (dc->stage && strcmp(dc->stage, "signaling connection") == 0)
		dc->stage = dc->o.offer ? "the answer" : "the offer";
	for (guint i = 0; i < s->outq->len; i++) {
		struct out *o = g_ptr_array_index(s->outq, i);

		send_text(dc, o->text, o->kind, o->label);
	}
	g_ptr_array_set_size(s->outq, 0);
}

int dc_signal_start(struct dc *dc)
{
	struct sig *s = g_new0(struct sig, 1);
	SoupMessage *msg;

	dc->sig = s;
	s->outq = g_ptr_array_new_with_free_func(out_free);
	s->sess = soup_session_new();
	msg = soup_message_new("GET", dc->o.signal_url);
	if (!msg) {
		dc_fail(dc, "signaling: bad URL %s (expected ws://HOST:PORT/ROOM)",
		        dc->o.signal_url);
		return -1;
	}
	soup_session_websocket_connect_async(s->sess, msg, NULL, NULL, G_PRIORITY_DEFAULT,
	                                     NULL, on_connected, dc);
	g_object_unref(msg);
	return 0;
}

void dc_signal_close(struct dc *dc)
{
	struct sig *s = dc->sig;

	if (s && s->ws && !s->closed &&
	    soup_websocket_connection_get_state(s->ws) == SOUP_WEBSOCKET_STATE_OPEN)
		soup_websocket_connection_close(s->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
}
