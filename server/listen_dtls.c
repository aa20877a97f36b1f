/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * listen_dtls.c - TURN over DTLS 1.2 (RFC 7350) on a UDP socket.
 *
 * One UDP socket serves every DTLS client; each client address gets a session
 * with its own SSL object over memory BIOs (OpenSSL 3.0 has no datagram
 * memory BIO, so each received datagram is written whole into the read BIO and
 * everything OpenSSL writes is sent as one datagram). Each decrypted record is
 * one STUN or ChannelData message for tp_dispatch.
 *
 * A datagram from an address without a session goes, within the
 * unauthenticated-request cap, to the listener's one "hello" SSL object:
 * DTLSv1_listen answers a ClientHello without a valid cookie with a
 * HelloVerifyRequest (smaller than the ClientHello: no amplification) and
 * keeps nothing, so spoofed ClientHellos cost no state. Only a ClientHello
 * carrying the cookie made for its address (dtls_cookie.c: rotating secret)
 * creates a session, which takes the hello object over, within
 * max-dtls-sessions and max-connections-per-ip (DTLS sessions of every
 * worker, counted apart from TCP/TLS connections).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sodium.h>

#include "alloc.h"
#include "dtls_cookie.h"
#include "shared.h"
#include "listen_dtls.h"
#include "sock.h"

#define READ_BUDGET 64
#define DTLS_MTU 1200
#define SESS_TAB 1024   /* buckets; chains grow past it */

/* The SSL app data, for the cookie callbacks: whose cookie is made or checked. */
struct ck_ref {
	struct tp_dtls_listener *l;   /* borrowed */
	struct tp_addr client;
};

struct tp_dtls_sess {
	struct tp_sink sink;          /* first: the session is the client's sink */
	struct tp_dtls_sess *next;    /* bucket chain */
	struct tp_dtls_listener *l;   /* borrowed */
	struct ck_ref ref;            /* the SSL's app data */
	SSL *ssl;                     /* owned */
	BIO *rbio, *wbio;             /* owned by ssl */
	struct event timer;           /* handshake retransmits and idle */
	struct tp_5tuple ft;
	time_t created, last_rx;
	unsigned ipslot;              /* in sh->dtls_per_ip */
	bool established;
};

struct tp_dtls_listener {
	struct tp_srv *s;             /* borrowed */
	SSL_CTX *const *ctx;          /* borrowed slot: the current DTLS context */
	struct event ev;
	struct tp_addr addr;
	int fd;
	bool attached;                /* fd is a UDP listener's (RFC 7983 sharing) */
	size_t nsess;
	struct tp_dtls_sess *tab[SESS_TAB];
	/* answering ClientHellos without state (DTLSv1_listen) */
	SSL *hello;                   /* owned; NULL until needed */
	BIO *hello_rbio, *hello_wbio; /* owned by hello */
	struct ck_ref hello_ref;      /* hello's app data: the datagram's sender */
	BIO_ADDR *hello_peer;         /* owned: DTLSv1_listen's output, unused */
	struct tp_cookie_keys keys;
	uint8_t rx[TP_MAX_DGRAM];     /* receive buffer */
};

static void sess_free(struct tp_dtls_sess *d);

static size_t bucket(const struct tp_dtls_listener *l, const struct tp_addr *a)
{
	uint8_t h[crypto_shorthash_BYTES];

	crypto_shorthash(h, (const uint8_t *)a, sizeof(*a), l->s->sh->hash_key);
	return ((size_t)h[0] << 8 | h[1]) % SESS_TAB;
}

static struct tp_dtls_sess *find(struct tp_dtls_listener *l, const struct tp_addr *a)
{
	for (struct tp_dtls_sess *d = l->tab[bucket(l, a)]; d; d = d->next)
		if (tp_addr_eq(&d->ft.client, a))
			return d;
	return NULL;
}

/* Send what OpenSSL wrote into wbio to client, one datagram per flush. */
static void flush_bio(struct tp_dtls_listener *l, BIO *wbio, const struct tp_addr *client)
{
	struct sockaddr_storage ss;
	unsigned sl = tp_addr_to_sa(client, &ss);
	uint8_t buf[4096];
	int n;

	while ((n = BIO_read(wbio, buf, sizeof(buf))) > 0)
		(void)sendto(l->fd, buf, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&ss, sl);
}

static void flush(struct tp_dtls_sess *d)
{
	flush_bio(d->l, d->wbio, &d->ft.client);
}

static void arm_timer(struct tp_dtls_sess *d)
{
	struct timeval tv;

	if (!d->established && DTLSv1_get_timeout(d->ssl, &tv) == 1) {
		evtimer_add(&d->timer, &tv);
		return;
	}
	tv.tv_sec = d->established ? d->l->s->conf->idle_timeout : d->l->s->conf->handshake_timeout;
	tv.tv_usec = 0;
	evtimer_add(&d->timer, &tv);
}

static void timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct tp_dtls_sess *d = arg;
	struct tp_srv *s = d->l->s;
	time_t now = tp_now(s);

	(void)fd;
	(void)ev;
	/* the handshake has an absolute deadline (no trickling it out); an
	 * established session ends after idle-timeout of silence */
	/* a session carrying an allocation lives as long as the allocation does (a
	 * client may only receive for long stretches) */
	if (d->established ? now - d->last_rx >= (time_t)s->conf->idle_timeout &&
	                             !tp_alloc_find(s->allocs, &d->ft)
	                   : now - d->created >= (time_t)s->conf->handshake_timeout) {
		s->stats.conn_timeouts++;
		sess_free(d);
		return;
	}
	if (!d->established && DTLSv1_handle_timeout(d->ssl) < 0) {
		sess_free(d);
		return;
	}
	flush(d);
	arm_timer(d);
}

static void dtls_kill(struct tp_sink *sink)
{
	sess_free((struct tp_dtls_sess *)sink);
}

static int dtls_send(struct tp_sink *sink, const struct tp_addr *local, const struct tp_addr *to,
                     const uint8_t *buf, size_t len)
{
	struct tp_dtls_sess *d = (struct tp_dtls_sess *)sink;

	(void)local;
	(void)to;
	if (!d->established)
		return -ENOTCONN;
	if (SSL_write(d->ssl, buf, (int)len) <= 0) {
		ERR_clear_error();
		return -EIO;
	}
	flush(d);
	return 0;
}

/* Cookies (dtls_cookie.c) for the address in the SSL's app data. */
static int cookie_make(SSL *ssl, unsigned char *cookie, unsigned int *len)
{
	struct ck_ref *r = SSL_get_app_data(ssl);

	tp_cookie_make(&r->l->keys, tp_now(r->l->s), &r->client, cookie);
	*len = TP_COOKIE_LEN;
	return 1;
}

static int cookie_check(SSL *ssl, const unsigned char *cookie, unsigned int len)
{
	struct ck_ref *r = SSL_get_app_data(ssl);

	return tp_cookie_check(&r->l->keys, tp_now(r->l->s), &r->client, cookie, len);
}

static void hello_free(struct tp_dtls_listener *l)
{
	SSL_free(l->hello); /* and its BIOs */
	l->hello = NULL;
	l->hello_rbio = l->hello_wbio = NULL;
}

static int hello_new(struct tp_dtls_listener *l)
{
	BIO *rbio = BIO_new(BIO_s_mem()), *wbio = BIO_new(BIO_s_mem());
	SSL *ssl = SSL_new(*l->ctx);

	if (!ssl || !rbio || !wbio) {
		SSL_free(ssl);
		BIO_free(rbio);
		BIO_free(wbio);
		return -ENOMEM;
	}
	BIO_set_mem_eof_return(rbio, -1);
	SSL_set_bio(ssl, rbio, wbio);
	SSL_set_app_data(ssl, &l->hello_ref);
	SSL_set_options(ssl, SSL_OP_COOKIE_EXCHANGE | SSL_OP_NO_QUERY_MTU);
	SSL_set_mtu(ssl, DTLS_MTU);
	SSL_set_accept_state(ssl);
	l->hello = ssl;
	l->hello_rbio = rbio;
	l->hello_wbio = wbio;
	return 0;
}

static unsigned ip_slot(const struct tp_srv *s, const struct tp_addr *a)
{
	return (unsigned)(tp_shared_hash(s->sh, a->ip, a->family == AF_INET6 ? 16 : 4) %
	                  TP_RATE_SLOTS);
}

/* A place among max-dtls-sessions and, for the source IP (hash slot),
 * max-connections-per-ip, every worker's together (0: unlimited). */
static bool sess_take(struct tp_srv *s, unsigned slot)
{
	uint32_t max = s->conf->max_dtls_sessions, per_ip = s->conf->max_connections_per_ip;
	unsigned total = atomic_fetch_add(&s->sh->dtls_sessions, 1);
	unsigned mine = atomic_fetch_add(&s->sh->dtls_per_ip[slot], 1);

	if ((!max || total < max) && (!per_ip || mine < per_ip))
		return true;
	atomic_fetch_sub(&s->sh->dtls_sessions, 1);
	atomic_fetch_sub(&s->sh->dtls_per_ip[slot], 1);
	return false;
}

/* A session for ft->client, taking over l->hello (which verified its cookie). */
static struct tp_dtls_sess *sess_new(struct tp_dtls_listener *l, const struct tp_5tuple *ft)
{
	struct tp_srv *s = l->s;
	struct tp_dtls_sess *d;
	unsigned slot = ip_slot(s, &ft->client);
	size_t b;

	if (!sess_take(s, slot))
		return NULL;
	d = calloc(1, sizeof(*d));
	if (!d) {
		atomic_fetch_sub(&s->sh->dtls_sessions, 1);
		atomic_fetch_sub(&s->sh->dtls_per_ip[slot], 1);
		return NULL;
	}
	d->ipslot = slot;
	d->ssl = l->hello;
	d->rbio = l->hello_rbio;
	d->wbio = l->hello_wbio;
	l->hello = NULL;
	l->hello_rbio = l->hello_wbio = NULL;
	d->ref.l = l;
	d->ref.client = ft->client;
	SSL_set_app_data(d->ssl, &d->ref);
	d->sink.send = dtls_send;
	d->sink.kill = dtls_kill;
	d->sink.transport = TP_LISTEN_DTLS;
	d->l = l;
	d->ft = *ft;
	d->created = d->last_rx = tp_now(s);
	evtimer_assign(&d->timer, s->base, timer_cb, d);
	b = bucket(l, &ft->client);
	d->next = l->tab[b];
	l->tab[b] = d;
	l->nsess++;
	return d;
}

/*
 * The first datagram from an address without a session. Returns the new
 * session when it is a ClientHello with this address's cookie; otherwise NULL
 * and nothing kept (a HelloVerifyRequest went out, or the datagram was not a
 * usable ClientHello, or max-dtls-sessions is reached).
 */
static struct tp_dtls_sess *hello(struct tp_dtls_listener *l, const struct tp_5tuple *ft,
                                  const uint8_t *b, size_t n)
{
	struct tp_srv *s = l->s;
	struct tp_dtls_sess *d;
	int r;

	if (l->hello && SSL_get_SSL_CTX(l->hello) != *l->ctx)
		hello_free(l); /* a reload brought a new certificate */
	if (!l->hello && hello_new(l) != 0)
		return NULL;
	l->hello_ref.client = ft->client;
	(void)BIO_reset(l->hello_rbio);
	if (BIO_write(l->hello_rbio, b, (int)n) != (int)n)
		return NULL;
	r = DTLSv1_listen(l->hello, l->hello_peer);
	flush_bio(l, l->hello_wbio, &ft->client);
	ERR_clear_error();
	if (r < 0)
		hello_free(l); /* unusable now: a fresh one next time */
	if (r <= 0)
		return NULL;
	d = sess_new(l, ft);
	if (!d) {
		uint64_t more;

		s->stats.conn_refused++;
		if (tp_refusal_log(s, TP_REFUSE_CONN, &ft->client, &more)) {
			struct tp_logctx ctx = { .transport = "dtls", .client = &ft->client };
			char t[64];

			tp_warn(&ctx, "session refused: max-dtls-sessions %u or max-connections-per-ip "
			        "%u reached (logged once a minute per source%s)",
			        s->conf->max_dtls_sessions, s->conf->max_connections_per_ip,
			        tp_refusal_more(t, sizeof(t), more));
		}
		hello_free(l); /* it is in mid-handshake: start clean */
		return NULL;
	}
	/* DTLSv1_listen has read the ClientHello out of the memory BIO (it leaves
	 * it in place only on a datagram BIO that can peek): the caller writes
	 * the datagram into the session's BIO again and the handshake goes on
	 * from it */
	return d;
}

/* A session ending deletes the allocation it carried. */
static void sess_free(struct tp_dtls_sess *d)
{
	struct tp_dtls_listener *l = d->l;
	struct tp_alloc *a = tp_alloc_find(l->s->allocs, &d->ft);
	struct tp_dtls_sess **pp = &l->tab[bucket(l, &d->ft.client)];

	if (a && a->sink == &d->sink)
		tp_alloc_free(a);
	for (; *pp; pp = &(*pp)->next)
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	evtimer_del(&d->timer);
	SSL_free(d->ssl);
	l->nsess--;
	atomic_fetch_sub(&l->s->sh->dtls_sessions, 1);
	atomic_fetch_sub(&l->s->sh->dtls_per_ip[d->ipslot], 1);
	free(d);
}

static void datagram(struct tp_dtls_listener *l, const struct tp_5tuple *ft, uint8_t *b, size_t n)
{
	struct tp_srv *s = l->s;
	struct tp_dtls_sess *d = find(l, &ft->client);
	uint8_t plain[TP_MAX_DGRAM];
	int r;

	if (!d) {
		/* only a handshake record starts a session (RFC 7983: 20..63 is DTLS) */
		if (n < 13 || b[0] != 22 || !tp_rate_allow(s, &ft->client))
			return;
		d = hello(l, ft, b, n);
		if (!d)
			return;
	}
	d->last_rx = tp_now(s);
	if (BIO_write(d->rbio, b, (int)n) != (int)n)
		return;
	if (!d->established) {
		r = SSL_do_handshake(d->ssl);
		flush(d);
		if (r == 1) {
			d->established = true;
		} else {
			int e = SSL_get_error(d->ssl, r);

			ERR_clear_error();
			if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
				sess_free(d);
				return;
			}
			arm_timer(d);
			return;
		}
		arm_timer(d);
	}
	while ((r = SSL_read(d->ssl, plain, sizeof(plain))) > 0) {
		tp_dispatch(s, &d->sink, &d->ft, plain, (size_t)r);
		if (find(l, &ft->client) != d)
			return; /* the session went away while dispatching */
	}
	int e = SSL_get_error(d->ssl, r);

	ERR_clear_error();
	flush(d);
	if (e == SSL_ERROR_ZERO_RETURN || (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE))
		sess_free(d); /* close_notify or a fatal alert */
}

static void readable(evutil_socket_t fd, short ev, void *arg)
{
	struct tp_dtls_listener *l = arg;

	(void)ev;
	for (int i = 0; i < READ_BUDGET; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct tp_5tuple ft = { .transport = TP_LISTEN_DTLS, .local = l->addr };
		ssize_t n = recvfrom(fd, l->rx, sizeof(l->rx), MSG_DONTWAIT,
		                     (struct sockaddr *)&ss, &sl);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (tp_addr_from_sa(&ft.client, (struct sockaddr *)&ss) != 0)
			continue;
		datagram(l, &ft, l->rx, (size_t)n);
	}
}

/* A listener over fd (owned unless attached). NULL: out of memory. */
static struct tp_dtls_listener *listener_new(struct tp_srv *s, int fd, const struct tp_addr *addr,
                                             bool attached, SSL_CTX *const *ctx)
{
	struct tp_dtls_listener *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->s = s;
	l->ctx = ctx;
	l->fd = fd;
	l->attached = attached;
	l->addr = *addr;
	l->hello_ref.l = l;
	l->hello_peer = BIO_ADDR_new();
	if (!l->hello_peer) {
		free(l);
		return NULL;
	}
	tp_cookie_init(&l->keys, tp_now(s));
	return l;
}

int tp_dtls_listen(struct tp_srv *s, const struct tp_addr *addr, bool reuseport,
                   SSL_CTX *const *ctx, struct tp_dtls_listener **out)
{
	struct tp_dtls_listener *l;
	struct tp_addr bound;
	int fd;

	if (!*ctx)
		return -ENOKEY;
	fd = tp_sock_bind(addr, SOCK_DGRAM,
	                  TP_SOCK_REUSEADDR | (reuseport ? TP_SOCK_REUSEPORT : 0), &bound);
	if (fd < 0)
		return fd;
	tp_sock_buffers(fd, (int)s->conf->udp_rcvbuf, (int)s->conf->udp_sndbuf, NULL, NULL);
	l = listener_new(s, fd, &bound, false, ctx);
	if (!l) {
		close(fd);
		return -ENOMEM;
	}
	event_assign(&l->ev, s->base, fd, EV_READ | EV_PERSIST, readable, l);
	event_add(&l->ev, NULL);
	*out = l;
	return 0;
}

int tp_dtls_attach(struct tp_srv *s, int fd, const struct tp_addr *addr, SSL_CTX *const *ctx,
                   struct tp_dtls_listener **out)
{
	if (!*ctx)
		return -ENOKEY;
	*out = listener_new(s, fd, addr, true, ctx);
	return *out ? 0 : -ENOMEM;
}

void tp_dtls_input(struct tp_dtls_listener *l, const struct tp_addr *client,
                   const struct tp_addr *local, uint8_t *b, size_t n)
{
	struct tp_5tuple ft = { .transport = TP_LISTEN_DTLS, .client = *client, .local = *local };

	datagram(l, &ft, b, n);
}

void tp_dtls_close(struct tp_dtls_listener *l)
{
	if (!l)
		return;
	for (size_t b = 0; b < SESS_TAB; b++)
		while (l->tab[b])
			sess_free(l->tab[b]);
	if (!l->attached) {
		event_del(&l->ev);
		close(l->fd);
	}
	hello_free(l);
	BIO_ADDR_free(l->hello_peer);
	tp_cookie_wipe(&l->keys);
	free(l);
}

const struct tp_addr *tp_dtls_addr(const struct tp_dtls_listener *l)
{
	return &l->addr;
}

void tp_dtls_ctx_setup(SSL_CTX *ctx)
{
	SSL_CTX_set_cookie_generate_cb(ctx, cookie_make);
	SSL_CTX_set_cookie_verify_cb(ctx, cookie_check);
	SSL_CTX_set_read_ahead(ctx, 1);
}
