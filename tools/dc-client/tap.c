/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tap.c - the STUN messages on libnice's sockets, decoded as they pass.
 *
 * libnice 0.1.21 keeps the answers of a TURN server to itself: a
 * CreatePermission error is logged as "unauthorized" whatever its code and
 * then treated as a success (socket/udp-turn.c), a ChannelBind error is not
 * logged at all, and no signal carries either. To report them, dc-client reads
 * the messages itself: gio.c hands the tap every datagram or stream chunk
 * libnice's sockets send or receive (dc_tap_bytes), after the fact. Nothing
 * is changed, delayed or sent: the tap only reads.
 *
 * What it keeps (under tap_lock: sends also happen on usrsctp's thread):
 *   - every request to a configured STUN/TURN server (Allocate, Refresh,
 *     CreatePermission, ChannelBind, Binding) with its XOR-PEER-ADDRESS, and
 *     its answer: success, or the ERROR-CODE with the server's reason phrase;
 *   - the ICE connectivity checks both ways, directly or inside Send/Data
 *     indications and ChannelData through the relay, and their answers
 *     (checks.c keeps them per candidate pair);
 *   - per socket, the relayed address of its allocation and its channels.
 * TURN over TCP (and TLS, through the local bridge in tls.c) is a stream: the
 * tap frames it with proto/'s tp_framer, one framer per direction and socket,
 * from the connection's first byte.
 *
 * Cost: one first-byte test per datagram that is not STUN or ChannelData
 * carrying STUN (DTLS, SCTP data), unlocked; a decode only for STUN.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <gio/gio.h>

#include "dc.h"
#include "proto.h"

#define TAP_MAX_SERVERS 4
#define TAP_MAX_TX DC_MAX_TX
#define TAP_MAX_CHANS 16
#define TAP_FRAME_CAP (65535 + TP_STUN_HDR_LEN + 4)

struct tap_server {
	struct tp_addr addr;           /* as libnice sees it (may be the TLS bridge) */
	char name[300];                /* as the user gave it */
};

struct tap_tx {
	uint8_t tid[TP_STUN_TID_LEN];
	struct dc_turn_tx t;
};

/* Per GSocket, attached as qdata (freed with the socket). */
struct tap_sock {
	bool classified, stream;
	int server;                    /* stream: index of the server it is connected to, -1 */
	struct tp_addr local;
	struct tp_addr relay;          /* the allocation's relayed address (family 0: none) */
	struct { uint16_t num; struct tp_addr peer; } chans[TAP_MAX_CHANS];
	size_t nchans;
	struct tp_framer fin, fout;    /* stream only */
	uint8_t *bin, *bout;           /* stream only: bytes not yet framed, TAP_FRAME_CAP */
	size_t nin, nout;
};

static GMutex tap_lock;
static struct dc *tap_dc;          /* borrowed; NULL: not recording */
static struct tap_server servers[TAP_MAX_SERVERS];
static size_t nservers;
static struct tap_tx txs[TAP_MAX_TX];
static size_t ntx;
static unsigned long seen;         /* STUN messages decoded */
static GQuark sock_quark;

/* ---- what a message means ------------------------------------------------ */

static gint64 now_us(void)
{
	return tap_dc ? dc_now(tap_dc) : 0;
}

static void fmt_addr(const struct tp_addr *a, char *buf, size_t cap)
{
	if (!a->family || tp_addr_fmt(a, buf, cap) < 0)
		snprintf(buf, cap, "%s", "");
}

static struct tap_tx *tx_find(const uint8_t *tid)
{
	for (size_t i = 0; i < ntx; i++)
		if (memcmp(txs[i].tid, tid, TP_STUN_TID_LEN) == 0)
			return &txs[i];
	return NULL;
}

static void request_out(struct tap_sock *ts, int srv, const struct tp_stun_msg *m)
{
	struct tap_tx *x = tx_find(m->tid);
	const struct tp_stun_attr *a;

	if (x) {
		x->t.sent++;             /* a retransmission */
		return;
	}
	if (ntx == TAP_MAX_TX)
		return;
	x = &txs[ntx++];
	memset(x, 0, sizeof(*x));
	memcpy(x->tid, m->tid, TP_STUN_TID_LEN);
	x->t.method = m->method;
	x->t.auth = m->mi >= 0 || m->mi256 >= 0;
	x->t.sent = 1;
	x->t.t_req = now_us();
	x->t.code = -1;
	snprintf(x->t.server, sizeof(x->t.server), "%s", servers[srv].name);
	a = tp_stun_find(m, TP_ATTR_XOR_PEER_ADDRESS);
	if (a) {
		struct tp_addr peer;

		if (tp_attr_addr(m, a, &peer) == TP_P_OK) {
			fmt_addr(&peer, x->t.peer, sizeof(x->t.peer));
			a = tp_stun_find(m, TP_ATTR_CHANNEL_NUMBER);
			if (m->method == TP_METHOD_CHANNEL_BIND && a && ts->nchans < TAP_MAX_CHANS) {
				ts->chans[ts->nchans].num = tp_attr_channel(a);
				ts->chans[ts->nchans++].peer = peer;
			}
		}
	}
}

static void response_in(struct tap_sock *ts, const struct tp_stun_msg *m)
{
	struct tap_tx *x = tx_find(m->tid);
	const struct tp_stun_attr *a;
	struct tp_addr addr;

	if (!x || x->t.t_res)
		return;                  /* not ours, or a duplicate answer */
	x->t.t_res = now_us();
	if (m->cls == TP_CLASS_ERROR) {
		struct tp_error_code e = { 0 };

		a = tp_stun_find(m, TP_ATTR_ERROR_CODE);
		if (a)
			tp_attr_error_code(a, &e);
		x->t.code = e.code ? e.code : 600;     /* an error without ERROR-CODE */
		snprintf(x->t.reason, sizeof(x->t.reason), "%.*s", (int)e.reason_len,
		         e.reason ? e.reason : "");
		return;
	}
	x->t.code = 0;
	a = tp_stun_find(m, m->method == TP_METHOD_ALLOCATE ? TP_ATTR_XOR_RELAYED_ADDRESS
	                                                    : TP_ATTR_XOR_MAPPED_ADDRESS);
	if (a && tp_attr_addr(m, a, &addr) == TP_P_OK) {
		fmt_addr(&addr, x->t.result, sizeof(x->t.result));
		if (m->method == TP_METHOD_ALLOCATE)
			ts->relay = addr;
	}
}

/*
 * An ICE connectivity check (a Binding request with PRIORITY, RFC 8445 §7.1)
 * or its answer, between our candidate (the socket's address, or its
 * allocation's relayed address when it went through server srv) and the
 * peer's address: handed to checks.c.
 */
static void ice_msg(struct tap_sock *ts, int srv, const struct tp_addr *peer, bool out,
                    const uint8_t *b, size_t n)
{
	struct tp_stun_msg m;
	struct dc_pair_id id;
	const struct tp_stun_attr *a;

	if (n < TP_STUN_HDR_LEN || b[0] > 3 || tp_stun_decode(&m, b, n, NULL) != TP_P_OK ||
	    m.classic || m.method != TP_METHOD_BINDING)
		return;
	seen++;
	memset(&id, 0, sizeof(id));
	snprintf(id.ltype, sizeof(id.ltype), "%s", srv >= 0 ? "relay" : "host");
	fmt_addr(srv >= 0 ? &ts->relay : &ts->local, id.laddr, sizeof(id.laddr));
	fmt_addr(peer, id.raddr, sizeof(id.raddr));
	if (srv >= 0)
		snprintf(id.via, sizeof(id.via), "%s", servers[srv].name);
	if (m.cls == TP_CLASS_REQUEST) {
		if (!tp_stun_find(&m, TP_ATTR_PRIORITY))
			return;      /* a plain Binding (a STUN server's), not a check */
		if (out)
			dc_checks_sent(&id, m.tid, tp_stun_find(&m, TP_ATTR_USE_CANDIDATE) != NULL,
			               now_us());
		else
			dc_checks_peer(&id, tp_stun_find(&m, TP_ATTR_USE_CANDIDATE) != NULL,
			               now_us());
	} else if (!out && (m.cls == TP_CLASS_SUCCESS || m.cls == TP_CLASS_ERROR)) {
		struct tp_error_code e = { 0 };
		char reason[128] = "";

		if (m.cls == TP_CLASS_ERROR) {
			a = tp_stun_find(&m, TP_ATTR_ERROR_CODE);
			if (a)
				tp_attr_error_code(a, &e);
			if (!e.code)
				e.code = 600;
			snprintf(reason, sizeof(reason), "%.*s", (int)e.reason_len,
			         e.reason ? e.reason : "");
		}
		dc_checks_answer(m.tid, id.raddr, e.code, reason, now_us());
	}
}

/* The peer address of channel num on this socket, or NULL. */
static const struct tp_addr *chan_peer(const struct tap_sock *ts, uint16_t num)
{
	for (size_t i = 0; i < ts->nchans; i++)
		if (ts->chans[i].num == num)
			return &ts->chans[i].peer;
	return NULL;
}

/* ChannelData between this socket and server srv: a check inside, maybe. */
static void chandata_msg(struct tap_sock *ts, int srv, bool out, const uint8_t *b, size_t n)
{
	const struct tp_addr *peer;
	size_t len;

	if (n < TP_CHAN_HDR_LEN)
		return;
	len = (size_t)b[2] << 8 | b[3];
	peer = chan_peer(ts, (uint16_t)(b[0] << 8 | b[1]));
	if (peer && len <= n - TP_CHAN_HDR_LEN)
		ice_msg(ts, srv, peer, out, b + TP_CHAN_HDR_LEN, len);
}

/* One STUN message between this socket and server srv. */
static void server_msg(struct tap_sock *ts, int srv, bool out, const uint8_t *b, size_t n)
{
	struct tp_stun_msg m;
	const struct tp_stun_attr *pa, *da;
	struct tp_addr peer;

	if (tp_stun_decode(&m, b, n, NULL) != TP_P_OK || m.classic)
		return;
	seen++;
	if (m.cls == TP_CLASS_INDICATION &&
	    m.method == (out ? TP_METHOD_SEND : TP_METHOD_DATA)) {
		/* what we send to, or receive from, a peer through the relay */
		pa = tp_stun_find(&m, TP_ATTR_XOR_PEER_ADDRESS);
		da = tp_stun_find(&m, TP_ATTR_DATA);
		if (pa && da && tp_attr_addr(&m, pa, &peer) == TP_P_OK)
			ice_msg(ts, srv, &peer, out, da->val, da->len);
	} else if (out && m.cls == TP_CLASS_REQUEST) {
		request_out(ts, srv, &m);
	} else if (!out && (m.cls == TP_CLASS_SUCCESS || m.cls == TP_CLASS_ERROR)) {
		response_in(ts, &m);
	}
}

/* Stream bytes one direction saw: kept until whole frames are there (the
 * pull framer over this direction's buffer), each frame then decoded. After a
 * framing error the direction's sync is lost and nothing more is read. */
static void stream_bytes(struct tap_sock *ts, bool out, const uint8_t *b, size_t n)
{
	struct tp_framer *f = out ? &ts->fout : &ts->fin;
	uint8_t *buf = out ? ts->bout : ts->bin;
	size_t *held = out ? &ts->nout : &ts->nin, off = 0;

	if (f->err != TP_P_OK)
		return;
	while (n > 0) {
		size_t take = TAP_FRAME_CAP - *held < n ? TAP_FRAME_CAP - *held : n;
		size_t flen;
		enum tp_frame_kind kind;

		memcpy(buf + *held, b, take);
		*held += take;
		b += take;
		n -= take;
		off = 0;
		while (tp_framer_next(f, buf + off, *held - off, &flen, &kind) == TP_P_OK) {
			if (kind == TP_FRAME_STUN)
				server_msg(ts, ts->server, out, buf + off, flen);
			else
				chandata_msg(ts, ts->server, out, buf + off, flen);
			off += flen;
		}
		if (f->err != TP_P_OK)
			return;
		memmove(buf, buf + off, *held - off);
		*held -= off;
	}
}

/* ---- sockets --------------------------------------------------------------- */

static void sock_free(gpointer p)
{
	struct tap_sock *ts = p;

	g_free(ts->bin);
	g_free(ts->bout);
	g_free(ts);
}

static int server_index(const struct tp_addr *a)
{
	for (size_t i = 0; i < nservers; i++)
		if (tp_addr_eq(&servers[i].addr, a))
			return (int)i;
	return -1;
}

static int sa_to_addr(const struct sockaddr *sa, struct tp_addr *a)
{
	return tp_addr_from_sa(a, sa);
}

static int gaddr_to_addr(GSocketAddress *ga, struct tp_addr *a)
{
	struct sockaddr_storage ss;

	if (!ga || !g_socket_address_to_native(ga, &ss, sizeof(ss), NULL))
		return -1;
	return sa_to_addr((struct sockaddr *)&ss, a);
}

/* The tap's state of a socket, created on first sight. Called with tap_lock. */
static struct tap_sock *sock_get(GSocket *s)
{
	struct tap_sock *ts = g_object_get_qdata(G_OBJECT(s), sock_quark);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (ts)
		return ts;
	ts = g_new0(struct tap_sock, 1);
	ts->server = -1;
	ts->stream = g_socket_get_socket_type(s) == G_SOCKET_TYPE_STREAM;
	if (getsockname(g_socket_get_fd(s), (struct sockaddr *)&ss, &sl) == 0)
		sa_to_addr((struct sockaddr *)&ss, &ts->local);
	if (ts->stream) {
		struct tp_addr peer;

		sl = sizeof(ss);
		if (getpeername(g_socket_get_fd(s), (struct sockaddr *)&ss, &sl) == 0 &&
		    sa_to_addr((struct sockaddr *)&ss, &peer) == 0)
			ts->server = server_index(&peer);
		if (ts->server >= 0) {
			ts->bin = g_malloc(TAP_FRAME_CAP);
			ts->bout = g_malloc(TAP_FRAME_CAP);
			tp_framer_init(&ts->fin, TAP_FRAME_CAP, TP_CHAN_MAX_RFC5766);
			tp_framer_init(&ts->fout, TAP_FRAME_CAP, TP_CHAN_MAX_RFC5766);
		}
	}
	/* A stream socket not yet connected cannot be classified: ask again later. */
	if (!ts->stream || ts->server >= 0 || g_socket_is_connected(s))
		g_object_set_qdata_full(G_OBJECT(s), sock_quark, ts, sock_free);
	else {
		sock_free(ts);
		return NULL;
	}
	return ts;
}

/* A datagram's worth of bytes, or a chunk of a stream. */
void dc_tap_bytes(GSocket *s, GSocketAddress *peer_ga, bool out, const uint8_t *b, size_t n)
{
	struct tap_sock *ts;
	struct tp_addr peer;
	int srv;

	g_mutex_lock(&tap_lock);
	if (!tap_dc)
		goto out;
	ts = sock_get(s);
	if (!ts)
		goto out;
	if (ts->stream) {
		if (ts->server >= 0)
			stream_bytes(ts, out, b, n);
		goto out;
	}
	if (gaddr_to_addr(peer_ga, &peer) != 0)
		goto out;
	srv = server_index(&peer);
	if (srv >= 0 && n >= TP_STUN_HDR_LEN && b[0] < 4)
		server_msg(ts, srv, out, b, n);
	else if (srv >= 0)
		chandata_msg(ts, srv, out, b, n);
	else
		ice_msg(ts, -1, &peer, out, b, n);   /* directly with the peer */
out:
	g_mutex_unlock(&tap_lock);
}

/* Could these bytes interest the tap? Datagrams: STUN, or ChannelData that
 * carries STUN (the data channel's DTLS records are skipped here, unlocked). */
bool dc_tap_wanted(GSocket *s, const uint8_t *b, size_t n)
{
	if (!tap_dc || n == 0)
		return false;
	if (g_socket_get_socket_type(s) == G_SOCKET_TYPE_STREAM)
		return true;
	return b[0] < 4 || (b[0] >= 0x40 && b[0] <= 0x4F && n > TP_CHAN_HDR_LEN && b[4] < 4);
}

/* ---- the interface ---------------------------------------------------------- */

void dc_tap_start(struct dc *dc)
{
	g_mutex_lock(&tap_lock);
	sock_quark = g_quark_from_static_string("dc-client-tap");
	tap_dc = dc;
	g_mutex_unlock(&tap_lock);
}

int dc_tap_server(const char *ip, unsigned port, const char *name)
{
	struct tp_addr a;
	int rc = -ENOSPC;

	if (tp_addr_parse(&a, ip, (uint16_t)port) != 0)
		return -EINVAL;
	a.port = (uint16_t)port;
	g_mutex_lock(&tap_lock);
	if (nservers < TAP_MAX_SERVERS) {
		servers[nservers].addr = a;
		snprintf(servers[nservers].name, sizeof(servers[nservers].name), "%s", name);
		nservers++;
		rc = 0;
	}
	g_mutex_unlock(&tap_lock);
	return rc;
}

size_t dc_tap_turn(struct dc_turn_tx *out, size_t cap)
{
	size_t n;

	g_mutex_lock(&tap_lock);
	n = MIN(ntx, cap);
	for (size_t i = 0; i < n; i++)
		out[i] = txs[i].t;
	g_mutex_unlock(&tap_lock);
	return n;
}

unsigned long dc_tap_seen(void)
{
	unsigned long n;

	g_mutex_lock(&tap_lock);
	n = seen;
	g_mutex_unlock(&tap_lock);
	return n;
}

const char *dc_stun_method_name(unsigned method)
{
	switch (method) {
	case TP_METHOD_BINDING: return "Binding";
	case TP_METHOD_ALLOCATE: return "Allocate";
	case TP_METHOD_REFRESH: return "Refresh";
	case TP_METHOD_CREATE_PERMISSION: return "CreatePermission";
	case TP_METHOD_CHANNEL_BIND: return "ChannelBind";
	case TP_METHOD_CONNECT: return "Connect";
	}
	return "request";
}

bool dc_turn_tx_is_error(const struct dc_turn_tx *t)
{
	/* A 401 to a request without credentials is the challenge that starts
	 * every authenticated exchange, and a 438 makes libnice retry with the new
	 * NONCE: neither is a failure by itself. */
	if (t->code <= 0)
		return false;
	if (t->code == 401 && !t->auth)
		return false;
	return t->code != 438;
}
