/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * signal_ws.c - WebSocket signaling rooms (RFC 6455) on libevent bufferevents.
 *
 * One struct conn per TCP connection: first the HTTP/1.1 upgrade, then frames.
 * Frames from clients must be masked. Data messages (text/binary, possibly
 * fragmented) are reassembled up to max_message and re-framed unmasked to the
 * room's other peer, or queued for it while it is absent. Pings are answered;
 * the server pings on its own every ping_interval; the read timeout is the idle
 * timeout. Protocol errors close with 1002, oversize with 1009, policy with 1008.
 *
 * The other phases end at absolute deadlines (one timer per connection), which
 * no byte from the client pushes back: the upgrade must be complete within
 * handshake_timeout; a closing connection has CLOSE_S to flush what it has to
 * say and then LINGER_S to drain the peer.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/listener.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "log.h"
#include "signal_ws.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define MAX_HEADER 8192
#define MAX_ROOM_NAME 256

enum { OP_CONT = 0, OP_TEXT = 1, OP_BIN = 2, OP_CLOSE = 8, OP_PING = 9, OP_PONG = 10 };
enum cstate { ST_HTTP, ST_OPEN, ST_CLOSING };

struct room;

struct conn {
	struct tp_ws *ws;        /* borrowed */
	struct conn *next;       /* all-connections list */
	struct bufferevent *bev; /* owned */
	struct room *room;       /* borrowed; NULL until joined */
	struct tp_addr from;     /* the client's address */
	struct event ping;
	struct event deadline;   /* ST_HTTP: the handshake; ST_CLOSING: flush, linger */
	enum cstate st;
	bool shut;               /* closing: our side shut down, draining theirs */
	uint8_t msg_op;          /* opcode of the message being reassembled, 0: none */
	struct evbuffer *msg;    /* owned: reassembly */
};

struct room {
	struct room *next;
	struct conn *peer[2];
	struct evbuffer *queue[2]; /* frames waiting for peer[i] to join */
	char name[MAX_ROOM_NAME + 1];
};

struct tp_ws {
	struct event_base *base;       /* borrowed */
	struct evconnlistener *lis;    /* owned */
	struct tp_ws_opts o;
	char *token;                   /* owned; NULL: no check */
	struct conn *conns;
	struct room *rooms;
	unsigned nconns;
	uint16_t port;
	struct tp_ws_stats st;
};

static void conn_free(struct conn *c);

/* ---- rooms ------------------------------------------------------------- */

static struct room *room_get(struct tp_ws *ws, const char *name, bool create)
{
	struct room *r;

	for (r = ws->rooms; r; r = r->next)
		if (strcmp(r->name, name) == 0)
			return r;
	if (!create)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->queue[0] = evbuffer_new();
	r->queue[1] = evbuffer_new();
	if (!r->queue[0] || !r->queue[1]) {
		if (r->queue[0])
			evbuffer_free(r->queue[0]);
		if (r->queue[1])
			evbuffer_free(r->queue[1]);
		free(r);
		return NULL;
	}
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->next = ws->rooms;
	ws->rooms = r;
	return r;
}

static void room_free(struct tp_ws *ws, struct room *r)
{
	struct room **pp;

	for (pp = &ws->rooms; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	evbuffer_free(r->queue[0]);
	evbuffer_free(r->queue[1]);
	free(r);
}

static void room_leave(struct conn *c)
{
	struct room *r = c->room;
	int i;

	if (!r)
		return;
	for (i = 0; i < 2; i++)
		if (r->peer[i] == c)
			r->peer[i] = NULL;
	c->room = NULL;
	if (!r->peer[0] && !r->peer[1])
		room_free(c->ws, r);
}

/* ---- frames ------------------------------------------------------------ */

static void frame_put(struct evbuffer *out, uint8_t op, const void *data, size_t n)
{
	uint8_t h[10];
	size_t hl;

	h[0] = 0x80 | op;
	if (n < 126) {
		h[1] = (uint8_t)n;
		hl = 2;
	} else if (n <= 0xffff) {
		h[1] = 126;
		h[2] = (uint8_t)(n >> 8);
		h[3] = (uint8_t)n;
		hl = 4;
	} else {
		h[1] = 127;
		for (int i = 0; i < 8; i++)
			h[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
		hl = 10;
	}
	evbuffer_add(out, h, hl);
	if (n)
		evbuffer_add(out, data, n);
}

/* Everything we had to say is out: shut our side and drain theirs until EOF
 * (at most LINGER_S), so that closing with unread input does not reset the
 * connection and destroy our close frame or HTTP error in flight. A peer that
 * does not read what we still have to say gets CLOSE_S before that. */
#define LINGER_S 2
#define CLOSE_S 5

static void linger(struct conn *c)
{
	struct timeval tv = { LINGER_S, 0 };

	if (c->shut)
		return;
	c->shut = true;
	shutdown(bufferevent_getfd(c->bev), SHUT_WR);
	evbuffer_drain(bufferevent_get_input(c->bev),
	               evbuffer_get_length(bufferevent_get_input(c->bev)));
	evtimer_add(&c->deadline, &tv);
	bufferevent_enable(c->bev, EV_READ);
}

/* Enter ST_CLOSING (whatever goes out last is in the output already): no more
 * frames are read, and the connection ends by CLOSE_S + LINGER_S at most. */
static void closing(struct conn *c)
{
	struct timeval tv = { CLOSE_S, 0 };

	c->st = ST_CLOSING;
	room_leave(c);
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_set_timeouts(c->bev, NULL, NULL);
	evtimer_add(&c->deadline, &tv);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		linger(c);
	/* else: write_cb lingers once flushed */
}

static void conn_close(struct conn *c, uint16_t code)
{
	uint8_t p[2] = { (uint8_t)(code >> 8), (uint8_t)code };

	if (c->st == ST_CLOSING)
		return;
	if (c->st == ST_OPEN)
		frame_put(bufferevent_get_output(c->bev), OP_CLOSE, p, sizeof(p));
	closing(c);
}

static void http_reply(struct conn *c, const char *status)
{
	evbuffer_add_printf(bufferevent_get_output(c->bev),
	                    "HTTP/1.1 %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
	                    status);
	c->ws->st.rejected++;
	conn_close(c, 0);
}

/* The message just reassembled in c->msg goes to the other peer (or its queue). */
static void deliver(struct conn *c)
{
	struct room *r = c->room;
	struct tp_ws *ws = c->ws;
	size_t n = evbuffer_get_length(c->msg);
	int me = r->peer[0] == c ? 0 : 1, other = 1 - me;
	uint8_t *data = evbuffer_pullup(c->msg, -1);
	struct evbuffer *dst;

	if (r->peer[other]) {
		dst = bufferevent_get_output(r->peer[other]->bev);
		/* A peer that does not read: stop the sender rather than buffer on. */
		if (evbuffer_get_length(dst) + n > ws->o.max_queue) {
			ws->st.closed_size++;
			conn_close(c, 1008);
			return;
		}
		ws->st.forwarded++;
	} else {
		dst = r->queue[other];
		if (evbuffer_get_length(dst) + n > ws->o.max_queue) {
			ws->st.closed_size++;
			conn_close(c, 1009);
			return;
		}
		ws->st.queued++;
	}
	frame_put(dst, c->msg_op, data, n);
	evbuffer_drain(c->msg, n);
	c->msg_op = 0;
}

/* Would a control frame with n payload bytes take c's output past max_queue? */
static bool output_full(const struct conn *c, size_t n)
{
	return evbuffer_get_length(bufferevent_get_output(c->bev)) + 2 + n > c->ws->o.max_queue;
}

/* Handles one complete frame. Returns false if c was closed. */
static bool frame_handle(struct conn *c, uint8_t op, bool fin, uint8_t *pl, size_t n)
{
	struct tp_ws *ws = c->ws;

	switch (op) {
	case OP_PING:
		/* The connection's own output respects max_queue too: a client
		 * that pings and does not read gets no pong while its output
		 * holds that much. Dropping rather than closing (1008): RFC 6455
		 * §5.5.3 lets an endpoint answer only the latest of several
		 * pings, a close frame would queue behind the same unread bytes,
		 * and a slow reader that pings keeps its room. */
		if (output_full(c, n)) {
			ws->st.pongs_dropped++;
			return true;
		}
		frame_put(bufferevent_get_output(c->bev), OP_PONG, pl, n);
		return true;
	case OP_PONG:
		return true;
	case OP_CLOSE:
		if (n == 1) {
			conn_close(c, 1002);
			return false;
		}
		/* Echo the status code (RFC 6455 §5.5.1), then close. */
		frame_put(bufferevent_get_output(c->bev), OP_CLOSE, pl, n >= 2 ? 2 : 0);
		closing(c);
		return false;
	case OP_TEXT:
	case OP_BIN:
		if (c->msg_op) {
			ws->st.closed_proto++;
			conn_close(c, 1002);
			return false;
		}
		c->msg_op = op;
		break;
	case OP_CONT:
		if (!c->msg_op) {
			ws->st.closed_proto++;
			conn_close(c, 1002);
			return false;
		}
		break;
	default:
		ws->st.closed_proto++;
		conn_close(c, 1002);
		return false;
	}
	if (evbuffer_get_length(c->msg) + n > ws->o.max_message) {
		ws->st.closed_size++;
		conn_close(c, 1009);
		return false;
	}
	evbuffer_add(c->msg, pl, n);
	if (fin) {
		deliver(c);
		if (c->st == ST_CLOSING)
			return false;
	}
	return true;
}

/* Parses as many complete frames as the input holds. */
static void frames_read(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct tp_ws *ws = c->ws;

	while (c->st == ST_OPEN) {
		size_t avail = evbuffer_get_length(in), hl = 2;
		uint8_t h[14], *pl;
		uint64_t len;
		bool fin;
		uint8_t op;

		if (avail < 2)
			return;
		evbuffer_copyout(in, h, avail < sizeof(h) ? avail : sizeof(h));
		fin = h[0] & 0x80;
		op = h[0] & 0x0f;
		if ((h[0] & 0x70) || !(h[1] & 0x80)) { /* RSV bits, unmasked client frame */
			ws->st.closed_proto++;
			conn_close(c, 1002);
			return;
		}
		len = h[1] & 0x7f;
		if (len == 126) {
			hl = 4;
		} else if (len == 127) {
			hl = 10;
		}
		if (avail < hl + 4)
			return;
		if (len == 126) {
			len = (uint64_t)h[2] << 8 | h[3];
		} else if (len == 127) {
			len = 0;
			for (int i = 0; i < 8; i++)
				len = len << 8 | h[2 + i];
		}
		if ((op & 0x8) && (len > 125 || !fin)) {
			ws->st.closed_proto++;
			conn_close(c, 1002);
			return;
		}
		if (len > ws->o.max_frame) {
			ws->st.closed_size++;
			conn_close(c, 1009);
			return;
		}
		if ((uint64_t)(avail - hl - 4) < len)
			return;
		pl = evbuffer_pullup(in, (ssize_t)(hl + 4 + len));
		if (!pl) {
			conn_close(c, 1011);
			return;
		}
		{
			uint8_t *mask = pl + hl, *d = pl + hl + 4;

			for (uint64_t i = 0; i < len; i++)
				d[i] ^= mask[i & 3];
			/* frame_handle may close c; drain first, copying nothing */
			if (!frame_handle(c, op, fin, d, (size_t)len)) {
				return;
			}
		}
		evbuffer_drain(in, hl + 4 + len);
	}
}

/* ---- HTTP upgrade ------------------------------------------------------ */

/* Case-insensitive header lookup in the NUL-terminated request head. */
static bool header_get(const char *head, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);
	const char *p = strstr(head, "\r\n");

	while (p && p[2]) {
		const char *line = p + 2, *eol = strstr(line, "\r\n"), *v;
		size_t vl;

		if (!eol)
			break;
		if ((size_t)(eol - line) > nl && strncasecmp(line, name, nl) == 0 &&
		    line[nl] == ':') {
			v = line + nl + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			vl = (size_t)(eol - v);
			while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
			if (vl >= cap)
				return false;
			memcpy(out, v, vl);
			out[vl] = 0;
			return true;
		}
		p = eol;
	}
	return false;
}

static bool has_token(const char *list, const char *tok)
{
	size_t tl = strlen(tok);
	const char *p = list;

	while (*p) {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		if (strncasecmp(p, tok, tl) == 0 &&
		    (p[tl] == 0 || p[tl] == ',' || p[tl] == ' ' || p[tl] == '\t'))
			return true;
		while (*p && *p != ',')
			p++;
	}
	return false;
}

static bool token_ok(const struct tp_ws *ws, const char *query)
{
	const char *p = query;
	size_t want = ws->token ? strlen(ws->token) : 0;

	if (!ws->token)
		return true;
	while (p && *p) {
		const char *end = strchr(p, '&');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n == 6 + want && strncmp(p, "token=", 6) == 0 &&
		    CRYPTO_memcmp(p + 6, ws->token, want) == 0)
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

static void upgrade(struct conn *c, char *head)
{
	struct tp_ws *ws = c->ws;
	char key[64], val[256], acc_in[128], *path, *sp, *query;
	unsigned char md[SHA_DIGEST_LENGTH];
	unsigned char acc[64];
	struct room *r;
	int slot;

	if (strncmp(head, "GET ", 4) != 0)
		return http_reply(c, "405 Method Not Allowed");
	path = head + 4;
	sp = strchr(path, ' ');
	if (!sp || strncmp(sp, " HTTP/1.1\r\n", 11) != 0)
		return http_reply(c, "400 Bad Request");
	*sp = 0;
	if (!header_get(sp + 1, "Upgrade", val, sizeof(val)) || strcasecmp(val, "websocket") != 0 ||
	    !header_get(sp + 1, "Connection", val, sizeof(val)) || !has_token(val, "upgrade") ||
	    !header_get(sp + 1, "Sec-WebSocket-Version", val, sizeof(val)) ||
	    strcmp(val, "13") != 0 ||
	    !header_get(sp + 1, "Sec-WebSocket-Key", key, sizeof(key)) || strlen(key) != 24)
		return http_reply(c, "400 Bad Request");
	query = strchr(path, '?');
	if (query)
		*query++ = 0;
	if (path[0] != '/' || strlen(path) > MAX_ROOM_NAME)
		return http_reply(c, "404 Not Found");
	if (!token_ok(ws, query))
		return http_reply(c, "403 Forbidden");
	r = room_get(ws, path, true);
	if (!r)
		return http_reply(c, "503 Service Unavailable");
	slot = !r->peer[0] ? 0 : !r->peer[1] ? 1 : -1;
	if (slot < 0)
		return http_reply(c, "409 Conflict");
	snprintf(acc_in, sizeof(acc_in), "%s%s", key, WS_GUID);
	SHA1((const unsigned char *)acc_in, strlen(acc_in), md);
	EVP_EncodeBlock(acc, md, sizeof(md));
	evbuffer_add_printf(bufferevent_get_output(c->bev),
	                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	                    "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", acc);
	r->peer[slot] = c;
	c->room = r;
	c->st = ST_OPEN;
	ws->st.upgrades++;
	/* Whatever the other peer sent while we were absent. */
	evbuffer_add_buffer(bufferevent_get_output(c->bev), r->queue[slot]);
	{
		struct timeval idle = { ws->o.idle_timeout_s, 0 };
		struct timeval pi = { ws->o.ping_interval_s, 0 };

		evtimer_del(&c->deadline);
		bufferevent_set_timeouts(c->bev, &idle, NULL);
		evtimer_add(&c->ping, &pi);
	}
	tp_debug(NULL, "signal: peer %d joined room %s", slot, r->name);
}

static void http_read(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	char *head;
	size_t n;

	if (end.pos < 0) {
		if (evbuffer_get_length(in) > MAX_HEADER)
			http_reply(c, "431 Request Header Fields Too Large");
		return;
	}
	n = (size_t)end.pos + 4;
	if (n > MAX_HEADER)
		return http_reply(c, "431 Request Header Fields Too Large");
	head = malloc(n + 1);
	if (!head)
		return http_reply(c, "503 Service Unavailable");
	evbuffer_remove(in, head, n);
	head[n] = 0;
	upgrade(c, head);
	free(head);
	if (c->st == ST_OPEN)
		frames_read(c);
}

/* ---- connection callbacks ---------------------------------------------- */

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (c->st == ST_HTTP)
		http_read(c);
	else if (c->st == ST_OPEN)
		frames_read(c);
	else
		evbuffer_drain(bufferevent_get_input(c->bev),
		               evbuffer_get_length(bufferevent_get_input(c->bev)));
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (c->st == ST_CLOSING)
		linger(c);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	/* the read timeout is set in ST_OPEN only: the idle timeout */
	if ((what & BEV_EVENT_TIMEOUT) && c->st == ST_OPEN) {
		c->ws->st.closed_idle++;
		conn_close(c, 1001);
		return;
	}
	conn_free(c);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	if (c->st == ST_HTTP)
		c->ws->st.closed_idle++; /* no complete upgrade in time */
	conn_free(c);
}

static void ping_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct timeval pi = { c->ws->o.ping_interval_s, 0 };

	(void)fd;
	(void)what;
	if (c->st != ST_OPEN)
		return;
	/* a peer that has max_queue unread already needs no more pings */
	if (!output_full(c, 2))
		frame_put(bufferevent_get_output(c->bev), OP_PING, "tp", 2);
	evtimer_add(&c->ping, &pi);
}

static void conn_free(struct conn *c)
{
	struct tp_ws *ws = c->ws;
	struct conn **pp;

	room_leave(c);
	for (pp = &ws->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	ws->nconns--;
	evtimer_del(&c->ping);
	evtimer_del(&c->deadline);
	bufferevent_free(c->bev);
	evbuffer_free(c->msg);
	free(c);
}

/* Connections from a's IP address (any port), closing ones included. */
static unsigned conns_from(const struct tp_ws *ws, const struct tp_addr *a)
{
	unsigned n = 0;

	for (const struct conn *c = ws->conns; c; c = c->next)
		n += c->from.family == a->family && memcmp(c->from.ip, a->ip, sizeof(a->ip)) == 0;
	return n;
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
	struct tp_ws *ws = arg;
	struct timeval hs = { ws->o.handshake_timeout_s, 0 };
	struct tp_addr from;
	struct conn *c;

	(void)l;
	(void)salen;
	ws->st.conns++;
	/* one source address cannot take every connection (a linear count:
	 * there are at most max_conns) */
	if (ws->nconns >= ws->o.max_conns || tp_addr_from_sa(&from, sa) != 0 ||
	    conns_from(ws, &from) >= ws->o.max_conns_per_ip) {
		evutil_closesocket(fd);
		ws->st.rejected++;
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		evutil_closesocket(fd);
		return;
	}
	c->ws = ws;
	c->from = from;
	c->msg = evbuffer_new();
	c->bev = bufferevent_socket_new(ws->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->msg || !c->bev) {
		if (c->msg)
			evbuffer_free(c->msg);
		if (c->bev)
			bufferevent_free(c->bev);
		else
			evutil_closesocket(fd);
		free(c);
		return;
	}
	evtimer_assign(&c->ping, ws->base, ping_cb, c);
	/* absolute: a request head dripped byte by byte does not push it back */
	evtimer_assign(&c->deadline, ws->base, deadline_cb, c);
	evtimer_add(&c->deadline, &hs);
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->next = ws->conns;
	ws->conns = c;
	ws->nconns++;
}

/* ---- API --------------------------------------------------------------- */

int tp_ws_listen(struct event_base *base, const struct tp_addr *addr,
                 const struct tp_ws_opts *o, struct tp_ws **out)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct tp_ws *ws;
	int err;

	ws = calloc(1, sizeof(*ws));
	if (!ws)
		return -ENOMEM;
	ws->base = base;
	if (o)
		ws->o = *o;
	ws->o.token = NULL;
	if (!ws->o.max_frame)
		ws->o.max_frame = 65536;
	if (!ws->o.max_message)
		ws->o.max_message = 262144;
	if (!ws->o.max_queue)
		ws->o.max_queue = 262144;
	if (!ws->o.handshake_timeout_s)
		ws->o.handshake_timeout_s = 10;
	if (!ws->o.idle_timeout_s)
		ws->o.idle_timeout_s = 120;
	if (!ws->o.ping_interval_s)
		ws->o.ping_interval_s = 30;
	if (!ws->o.max_conns)
		ws->o.max_conns = 1024;
	if (!ws->o.max_conns_per_ip)
		ws->o.max_conns_per_ip = 64;
	if (o && o->token && o->token[0]) {
		ws->token = strdup(o->token);
		if (!ws->token) {
			err = -ENOMEM;
			goto out;
		}
	}
	sl = tp_addr_to_sa(addr, &ss);
	ws->lis = evconnlistener_new_bind(base, accept_cb, ws,
	                                  LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
	                                  LEV_OPT_CLOSE_ON_EXEC, 64, (struct sockaddr *)&ss,
	                                  (int)sl);
	if (!ws->lis) {
		err = errno ? -errno : -EADDRINUSE;
		goto out;
	}
	sl = sizeof(ss);
	if (getsockname(evconnlistener_get_fd(ws->lis), (struct sockaddr *)&ss, &sl) == 0) {
		struct tp_addr a;

		if (tp_addr_from_sa(&a, (struct sockaddr *)&ss) == 0)
			ws->port = a.port;
	}
	*out = ws;
	return 0;
out:
	free(ws->token);
	free(ws);
	return err;
}

void tp_ws_free(struct tp_ws *ws)
{
	if (!ws)
		return;
	while (ws->conns)
		conn_free(ws->conns);
	while (ws->rooms)
		room_free(ws, ws->rooms);
	if (ws->lis)
		evconnlistener_free(ws->lis);
	free(ws->token);
	free(ws);
}

uint16_t tp_ws_port(const struct tp_ws *ws)
{
	return ws->port;
}

void tp_ws_get_stats(const struct tp_ws *ws, struct tp_ws_stats *st)
{
	*st = ws->st;
}
