/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * listen_tcp.c - TURN over TCP and TLS on one listener.
 *
 * A new connection is watched with MSG_PEEK until its first byte arrives
 * (within the handshake timeout): 0x16 makes it TLS (an OpenSSL socket
 * bufferevent, ALPN "stun.turn"/"stun.nat-discovery" when offered), a STUN or
 * ChannelData first byte makes it plain TURN, anything else closes it. Frames
 * are cut with tp_frame_peek on the input evbuffer; a framing error closes
 * that connection only.
 *
 * On a proxy-protocol listener a connection is taken only from a
 * proxy-trusted source, and its first bytes must be a PROXY header (v1 or v2,
 * proto/proxy.h), read before the first-byte detection and TLS, within the
 * same handshake deadline: bytes are peeked, and only those the parser says
 * belong to the header are consumed, so TLS or STUN starts on the next byte.
 * The client address in it replaces the proxy's in the 5-tuple (so
 * XOR-MAPPED-ADDRESS, peer policy, rate limits, logs and sessions see the
 * client), and the connection is counted again under it for
 * max-connections-per-ip (a proxy's own source is not capped per address).
 * LOCAL (health checks) and UNKNOWN keep the proxy's address. Everywhere else
 * a connection that starts with a PROXY signature is refused: a client must
 * not choose the address the server believes.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <sodium.h>

#include "alloc.h"
#include "shared.h"
#include "listen_tcp.h"
#include "sock.h"
#include "relay_tcp.h"
#include "log.h"
#include "tls_cert.h"

#define FRAME_MAX (TP_MAX_DGRAM + TP_STUN_HDR_LEN)
/*
 * Input is bounded twice. A read callback consumes up to BYTES_PER_WAKEUP of
 * frames, more than one wakeup of either bufferevent adds (socket reads of at
 * most 16 KB; OpenSSL's bufferevent reads a whole TLS record, at most 16 KB of
 * plaintext, plus a second one through SSL_pending), so input does not pile up
 * across wakeups however small the frames are (a frame budget did: 4-byte
 * frames were consumed 256 bytes a wakeup while TLS read 16 KB). And a read
 * high watermark stops reading the socket once READ_HIGH bytes wait (room for
 * a largest frame and as much again), so TCP flow control pushes back on the
 * client whatever the reads do; OpenSSL can add one record past it.
 * (libevent 2.1 resumes reading below the watermark only when the socket is
 * readable, not for plaintext OpenSSL already holds: the budget keeps input
 * below the watermark, so a quiet client is never left waiting on that.)
 */
#define BYTES_PER_WAKEUP (64u << 10)
#define READ_HIGH (2 * FRAME_MAX)

struct tp_tcp_listener {
	struct tp_srv *s;             /* borrowed */
	struct evconnlistener *lev;
	struct tp_addr addr;
	bool tls;                     /* tls: listener (plain TURN still detected) */
	bool proxy;                   /* proxy-protocol: a PROXY header comes first */
	SSL_CTX *const *ctx;          /* borrowed slot: the current TLS context */
	struct tp_conn *conns;        /* owned: its connections */
};

struct tp_conn {
	struct tp_sink sink;          /* first: the sink is the connection */
	struct tp_srv *s;             /* borrowed */
	struct tp_conn *prev, *next;  /* l->conns */
	struct tp_tcp_listener *l;    /* borrowed */
	struct bufferevent *bev;      /* NULL while detecting */
	struct event *detect;         /* first-byte wait */
	struct event *deadline;       /* handshake + first frame, absolute (slowloris) */
	struct tp_5tuple ft;
	uint32_t ipslot;
	bool established;             /* a first frame arrived: idle timeout applies */
	bool has_alloc;               /* carries an allocation: its lifetime governs */
	struct tp_peer_conn *pipe;    /* borrowed: becomes this pipe's client side (6062) */
	struct tp_framer framer;      /* proto/'s stream framer (sticky errors) */
	uint8_t *pbuf;                /* owned: the PROXY header so far (proxy listeners) */
	size_t plen;
	int fd;
};

static void conn_close(struct tp_conn *c);
static void proxy_refuse(struct tp_conn *c, const char *what, const char *why);

static uint32_t ip_slot(const struct tp_srv *s, const struct tp_addr *a)
{
	uint8_t h[crypto_shorthash_BYTES];

	crypto_shorthash(h, a->ip, a->family == AF_INET6 ? 16 : 4, s->sh->hash_key);
	return ((uint32_t)h[0] << 8 | h[1]) % TP_RATE_SLOTS;
}

struct tp_conn *tp_conn_from_sink(struct tp_sink *sink)
{
	return sink && sink->stream ? (struct tp_conn *)sink : NULL;
}

/* ---- TLS context ---- */

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned inlen, void *arg)
{
	static const char *ours[] = { "stun.turn", "stun.nat-discovery" };

	(void)ssl;
	(void)arg;
	for (size_t k = 0; k < 2; k++)
		for (unsigned i = 0; i < inlen;) {
			unsigned n = in[i];

			if (i + 1 + n > inlen)
				break;
			if (n == strlen(ours[k]) && memcmp(in + i + 1, ours[k], n) == 0) {
				*out = in + i + 1;
				*outlen = (unsigned char)n;
				return SSL_TLSEXT_ERR_OK;
			}
			i += 1 + n;
		}
	/* a client offering other protocols (or none) is still served */
	return SSL_TLSEXT_ERR_NOACK;
}

SSL_CTX *tp_tls_ctx_new(const struct tp_conf *c, bool dtls, char *err, size_t errlen)
{
	SSL_CTX *ctx;

	if (!c->tls_cert || !c->tls_cert[0])
		return NULL;
	ctx = SSL_CTX_new(dtls ? DTLS_server_method() : TLS_server_method());
	if (!ctx)
		goto fail;
	if (dtls) {
		SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION);
	} else {
		SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	                             SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (!SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL"))
		goto fail;
	if (tp_tls_load(ctx, c, err, errlen) != 0) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
	return ctx;
fail:
	snprintf(err, errlen, "TLS: cannot create the %s context: %s", dtls ? "DTLS" : "TLS",
	         ERR_peek_last_error() ? ERR_reason_error_string(ERR_peek_last_error())
	                               : "out of memory");
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return NULL;
}

/* ---- sending ---- */

static int conn_send(struct tp_sink *sink, const struct tp_addr *local, const struct tp_addr *to,
                     const uint8_t *buf, size_t len)
{
	struct tp_conn *c = (struct tp_conn *)sink;

	(void)local;
	(void)to;
	if (!c->bev)
		return -ENOTCONN;
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) > c->s->conf->stream_buffer) {
		/* a slow reader: drop instead of growing server memory */
		c->s->stats.drop_slow++;
		return -ENOBUFS;
	}
	return bufferevent_write(c->bev, buf, len) == 0 ? 0 : -ENOMEM;
}

/* ---- reading ---- */

static void conn_read(struct bufferevent *bev, void *arg)
{
	struct tp_conn *c = arg;
	struct tp_srv *s = c->s;
	struct evbuffer *in = bufferevent_get_input(bev);

	for (size_t done = 0; done < BYTES_PER_WAKEUP;) {
		size_t avail = evbuffer_get_length(in), flen = 4;
		enum tp_frame_kind kind;
		enum tp_perr e;
		uint8_t *p;

		/* the pull framer over the evbuffer: first the header, then the
		 * whole frame, contiguous */
		for (;;) {
			if (avail < flen)
				return;
			p = evbuffer_pullup(in, (ssize_t)flen);
			if (!p) {
				conn_close(c);
				return;
			}
			e = tp_framer_next(&c->framer, p, flen, &flen, &kind);
			if (e != TP_P_NEED_MORE)
				break;
		}
		if (e != TP_P_OK) {
			struct tp_logctx ctx = { .transport = c->ft.transport == TP_LISTEN_TLS ? "tls" : "tcp",
			                         .client = &c->ft.client };

			s->stats.drop_malformed++;
			tp_info(&ctx, "stream: framing error (%s): closing", tp_perr_str(e));
			conn_close(c);
			return;
		}
		if (!c->established) {
			struct timeval idle = { .tv_sec = s->conf->idle_timeout };

			c->established = true;
			event_del(c->deadline);
			bufferevent_set_timeouts(bev, &idle, NULL);
		}
		tp_dispatch(s, &c->sink, &c->ft, p, flen);
		evbuffer_drain(in, flen);
		done += flen;
		if (kind == TP_FRAME_STUN && !c->has_alloc && tp_alloc_find(s->allocs, &c->ft)) {
			/* a client that only receives relayed data sends nothing for
			 * long stretches: no idle timeout while the allocation lives */
			c->has_alloc = true;
			bufferevent_set_timeouts(bev, NULL, NULL);
		}
		if (c->pipe) {
			/* ConnectionBind succeeded: the rest is raw data for the peer */
			struct tp_peer_conn *pc = c->pipe;
			struct bufferevent *b = tp_conn_detach(c);

			tp_tcp_pipe_start(pc, b);
			return;
		}
	}
	/* budget spent with data left: come back on the next loop iteration */
	if (evbuffer_get_length(in) >= 4)
		bufferevent_trigger(bev, EV_READ, BEV_TRIG_DEFER_CALLBACKS);
}

static void conn_to_pipe(struct tp_sink *sink, struct tp_peer_conn *pc)
{
	((struct tp_conn *)sink)->pipe = pc;
}

static void conn_kill(struct tp_sink *sink)
{
	conn_close((struct tp_conn *)sink);
}

static void conn_alloc_gone(struct tp_sink *sink)
{
	struct tp_conn *c = (struct tp_conn *)sink;
	struct timeval idle = { .tv_sec = c->s->conf->idle_timeout };

	c->has_alloc = false;
	if (c->bev)
		bufferevent_set_timeouts(c->bev, &idle, NULL);
}

static void conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct tp_conn *c = arg;

	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		if (what & BEV_EVENT_TIMEOUT)
			c->s->stats.conn_timeouts++;
		conn_close(c);
	}
}

static void start_stream(struct tp_conn *c, bool tls)
{
	struct tp_srv *s = c->s;

	if (tls) {
		SSL *ssl = SSL_new(*c->l->ctx);

		if (!ssl) {
			conn_close(c);
			return;
		}
		c->bev = bufferevent_openssl_socket_new(s->base, c->fd, ssl,
		                                        BUFFEREVENT_SSL_ACCEPTING,
		                                        BEV_OPT_CLOSE_ON_FREE);
		c->ft.transport = TP_LISTEN_TLS;
		c->sink.transport = TP_LISTEN_TLS;
	} else {
		c->bev = bufferevent_socket_new(s->base, c->fd, BEV_OPT_CLOSE_ON_FREE);
	}
	if (!c->bev) {
		conn_close(c);
		return;
	}
	c->fd = -1; /* owned by the bufferevent now */
	tp_framer_init(&c->framer, FRAME_MAX,
	               s->conf->legacy_channels ? TP_CHAN_MAX_RFC5766 : TP_CHAN_MAX);
	bufferevent_setcb(c->bev, conn_read, NULL, conn_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, READ_HIGH);
	/* the deadline armed at accept still runs: the handshake must finish and a
	 * first frame arrive before it, however slowly bytes trickle in; the idle
	 * timeout takes over after the first frame */
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void deadline_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct tp_conn *c = arg;

	(void)fd;
	(void)ev;
	c->s->stats.conn_timeouts++;
	conn_close(c);
}

static void detect_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct tp_conn *c = arg;
	struct tp_proxy_hdr h;
	uint8_t buf[16], b;
	ssize_t n;

	(void)ev;
	n = recv(fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		event_add(c->detect, NULL);
		return;
	}
	event_free(c->detect);
	c->detect = NULL;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	if (tp_proxy_parse(&h, buf, (size_t)n, NULL) != TP_P_NOT_PROXY) {
		proxy_refuse(c, c->l->proxy ? "a second PROXY header" :
		                "PROXY header on a listener without proxy-protocol", NULL);
		return;
	}
	b = buf[0];
	switch (tp_demux(b, true, c->s->conf->legacy_channels ? TP_CHAN_MAX_RFC5766 : TP_CHAN_MAX)) {
	case TP_DEMUX_TLS:
		if (!c->l->tls || !*c->l->ctx)
			goto refuse;
		start_stream(c, true);
		break;
	case TP_DEMUX_STUN:
	case TP_DEMUX_CHANDATA:
		start_stream(c, false);
		break;
	default:
	refuse:
		c->s->stats.drop_not_stun++;
		conn_close(c);
		break;
	}
}

/* ---- PROXY protocol ---- */

/* One refusal from client: counted, and logged like the other refusals,
 * once per source and minute (tp_refusal_log), so a scan cannot flood the log;
 * the next line logged says how many were not. */
static void proxy_log(struct tp_tcp_listener *l, const struct tp_addr *client,
                      const char *what, const char *why)
{
	uint64_t more;

	l->s->stats.drop_proxy++;
	if (tp_refusal_log(l->s, TP_REFUSE_PROXY, client, &more)) {
		struct tp_logctx ctx = { .transport = l->tls ? "tls" : "tcp", .client = client };
		char t[64];

		tp_warn(&ctx, "proxy-protocol: %s%s%s: closing (logged once a minute per source%s)",
		        what, why ? ": " : "", why ? why : "", tp_refusal_more(t, sizeof(t), more));
	}
}

static void proxy_refuse(struct tp_conn *c, const char *what, const char *why)
{
	proxy_log(c->l, &c->ft.client, what, why);
	conn_close(c);
}

static bool proxy_trusted(const struct tp_conf *cf, const struct tp_addr *a)
{
	for (size_t i = 0; i < cf->nproxy_trusted; i++)
		if (tp_cidr_match(&cf->proxy_trusted[i], a))
			return true;
	return false;
}

static void proxy_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct tp_conn *c = arg;
	struct tp_srv *s = c->s;
	struct tp_proxy_hdr h;
	const char *why = NULL;
	enum tp_perr e;
	ssize_t n;
	size_t take;
	int rc;

	(void)ev;
	n = recv(fd, c->pbuf + c->plen, TP_PROXY_MAX - c->plen, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		event_add(c->detect, NULL);
		return;
	}
	if (n <= 0) {
		proxy_refuse(c, "connection ended before a PROXY header", NULL);
		return;
	}
	e = tp_proxy_parse(&h, c->pbuf, c->plen + (size_t)n, &why);
	if (e == TP_P_NOT_PROXY) {
		proxy_refuse(c, "no PROXY header from a trusted source", NULL);
		return;
	}
	if (e != TP_P_OK && e != TP_P_NEED_MORE) {
		proxy_refuse(c, "malformed PROXY header", why);
		return;
	}
	/* NEED_MORE: every byte peeked is header; OK: up to its end only */
	take = e == TP_P_OK ? h.len - c->plen : (size_t)n;
	if (recv(fd, c->pbuf + c->plen, take, MSG_DONTWAIT) != (ssize_t)take) {
		conn_close(c);
		return;
	}
	c->plen += take;
	if (e == TP_P_NEED_MORE) {
		if (c->plen >= TP_PROXY_MAX) /* the parser never asks for that much */
			conn_close(c);
		else
			event_add(c->detect, NULL);
		return;
	}
	free(c->pbuf);
	c->pbuf = NULL;
	if (h.family) {
		struct tp_logctx ctx = { .transport = c->l->tls ? "tls" : "tcp", .client = &h.src };
		char via[64];

		tp_addr_fmt(&c->ft.client, via, sizeof(via));
		tp_debug(&ctx, "proxy-protocol: v%u header from %s", h.version, via);
		c->ft.client = h.src;
		/* the kernel keeps real 5-tuples unique; headers must not share one
		 * (the later connection would reach the other's allocation) */
		if (tp_alloc_find(s->allocs, &c->ft)) {
			proxy_refuse(c, "a PROXY header naming a client that is already connected",
			             NULL);
			return;
		}
	}
	/* counted under the client's address from now on; a LOCAL or UNKNOWN
	 * header leaves the proxy's own address, which is not capped */
	rc = 0;
	if (h.family) {
		tp_limits_release(s->limits, c->ipslot);
		c->ipslot = ip_slot(s, &c->ft.client);
		rc = tp_limits_admit(s->limits, s->conf, c->ipslot);
	}
	if (rc != 0) {
		uint64_t more;

		c->ipslot = TP_LIMITS_NOSLOT;
		tp_limits_hold(s->limits); /* what conn_close gives back */
		s->stats.conn_refused++;
		if (tp_refusal_log(s, TP_REFUSE_CONN, &c->ft.client, &more)) {
			struct tp_logctx ctx = { .transport = c->l->tls ? "tls" : "tcp",
			                         .client = &c->ft.client };
			char t[64];

			tp_warn(&ctx, "connection refused: %s %u reached (logged once a minute per "
			        "source%s)", rc == -EMFILE ? "max-connections-per-ip" : "max-connections",
			        rc == -EMFILE ? s->conf->max_connections_per_ip : s->conf->max_connections,
			        tp_refusal_more(t, sizeof(t), more));
		}
		conn_close(c);
		return;
	}
	event_free(c->detect);
	c->detect = event_new(s->base, fd, EV_READ, detect_cb, c);
	if (!c->detect || event_add(c->detect, NULL) != 0)
		conn_close(c);
}

static void accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
	struct tp_tcp_listener *l = arg;
	struct tp_srv *s = l->s;
	const struct tp_conf *cf = s->conf;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct tp_conn *c;
	struct tp_addr client;
	struct timeval hs = { .tv_sec = cf->handshake_timeout };
	uint32_t slot;
	int rc;

	(void)lev;
	(void)salen;
	if (tp_addr_from_sa(&client, sa) != 0) {
		close(fd);
		return;
	}
	if (l->proxy && !proxy_trusted(cf, &client)) {
		proxy_log(l, &client, "source not in proxy-trusted", NULL);
		close(fd);
		return;
	}
	/* a proxy's connections count in the total only until the header names
	 * the client */
	slot = l->proxy ? TP_LIMITS_NOSLOT : ip_slot(s, &client);
	rc = tp_limits_admit(s->limits, cf, slot);
	if (rc != 0) {
		uint64_t more;

		s->stats.conn_refused++;
		if (tp_refusal_log(s, TP_REFUSE_CONN, &client, &more)) {
			struct tp_logctx ctx = { .transport = l->tls ? "tls" : "tcp", .client = &client };
			char t[64];

			tp_warn(&ctx, "connection refused: %s %u reached (logged once a minute per "
			        "source%s)", rc == -EMFILE ? "max-connections-per-ip" : "max-connections",
			        rc == -EMFILE ? cf->max_connections_per_ip : cf->max_connections,
			        tp_refusal_more(t, sizeof(t), more));
		}
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		tp_limits_release(s->limits, slot);
		close(fd);
		return;
	}
	c->sink.send = conn_send;
	c->sink.alloc_gone = conn_alloc_gone;
	c->sink.kill = conn_kill;
	c->sink.to_pipe = conn_to_pipe;
	c->sink.transport = TP_LISTEN_TCP;
	c->sink.stream = true;
	c->s = s;
	c->l = l;
	c->fd = fd;
	c->ipslot = slot;
	c->ft.transport = TP_LISTEN_TCP;
	c->ft.client = client;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 ||
	    tp_addr_from_sa(&c->ft.local, (struct sockaddr *)&ss) != 0)
		c->ft.local = l->addr;
	evutil_make_socket_nonblocking(fd);
	{
		int one = 1;

		/* TURN messages are small and latency-bound: no Nagle delay */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	c->next = l->conns;
	if (l->conns)
		l->conns->prev = c;
	l->conns = c;
	if (l->proxy)
		c->pbuf = malloc(TP_PROXY_MAX);
	c->detect = event_new(s->base, fd, EV_READ, l->proxy ? proxy_cb : detect_cb, c);
	c->deadline = evtimer_new(s->base, deadline_cb, c);
	if ((l->proxy && !c->pbuf) || !c->detect || !c->deadline || event_add(c->detect, NULL) != 0 ||
	    evtimer_add(c->deadline, &hs) != 0)
		conn_close(c);
}

static void unlink_conn(struct tp_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		c->l->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	tp_limits_release(c->s->limits, c->ipslot);
}

/* Closing a control connection deletes its allocation (RFC 8656 §3.1). */
static void conn_close(struct tp_conn *c)
{
	struct tp_alloc *a = tp_alloc_find(c->s->allocs, &c->ft);

	if (a && a->sink == &c->sink)
		tp_alloc_free(a);
	if (c->pipe)
		tp_tcp_pipe_cancel(c->pipe);
	unlink_conn(c);
	if (c->detect)
		event_free(c->detect);
	if (c->deadline)
		event_free(c->deadline);
	if (c->bev)
		bufferevent_free(c->bev);
	else if (c->fd >= 0)
		close(c->fd);
	free(c->pbuf);
	free(c);
}

struct bufferevent *tp_conn_detach(struct tp_conn *c)
{
	struct bufferevent *b = c->bev;

	c->bev = NULL;
	c->fd = -1;
	bufferevent_setcb(b, NULL, NULL, NULL, NULL);
	unlink_conn(c);
	if (c->detect)
		event_free(c->detect);
	if (c->deadline)
		event_free(c->deadline);
	free(c);
	return b;
}

void tp_tcp_close_conns(struct tp_tcp_listener *l)
{
	while (l && l->conns)
		conn_close(l->conns);
}

/* ---- listeners ---- */

int tp_tcp_listen(struct tp_srv *s, const struct tp_addr *addr, bool tls, bool proxy,
                  SSL_CTX *const *ctx, struct tp_tcp_listener **out)
{
	struct tp_tcp_listener *l = calloc(1, sizeof(*l));
	int fd;

	if (!l)
		return -ENOMEM;
	fd = tp_sock_bind(addr, SOCK_STREAM, TP_SOCK_REUSEADDR | TP_SOCK_LISTEN, &l->addr);
	if (fd < 0) {
		free(l);
		return fd;
	}
	l->lev = evconnlistener_new(s->base, accept_cb, l, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (!l->lev) {
		close(fd);
		free(l);
		return -ENOMEM;
	}
	l->s = s;
	l->tls = tls;
	l->proxy = proxy;
	l->ctx = ctx;
	*out = l;
	return 0;
}

void tp_tcp_close(struct tp_tcp_listener *l)
{
	if (!l)
		return;
	tp_tcp_close_conns(l);
	evconnlistener_free(l->lev);
	free(l);
}

const struct tp_addr *tp_tcp_addr(const struct tp_tcp_listener *l)
{
	return &l->addr;
}
