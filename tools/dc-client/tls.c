/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tls.c - TURN over TLS (RFC 8656 §3.1) for libnice.
 *
 * libnice 0.1.21 speaks "TLS" TURN as plain TCP in RFC 5245 mode, so for
 * --turn-transport tls dc-client points libnice's TURN-over-TCP at a local
 * bridge on 127.0.0.1 that carries each connection over TLS (OpenSSL, ALPN
 * "stun.turn", SNI, certificate checked against --turn-ca or the system
 * store unless --turn-insecure) to the real server. One thread per bridged
 * connection shuttles bytes with poll(); the main loop never blocks.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "dc.h"

struct bridge {
	struct dc *dc;              /* borrowed */
	SSL_CTX *ctx;
	char host[256];             /* for SNI and the name check */
	char ip[64];
	unsigned port;
	int lfd;
};

static struct bridge br;
static GMutex err_lock;
static char *last_err;         /* owned; kept until exit once set */

static void set_err(const char *fmt, const char *detail)
{
	char *e = g_strdup_printf(fmt, br.host, br.port, detail);

	g_mutex_lock(&err_lock);
	if (!last_err)
		last_err = e;
	else
		g_free(e);
	g_mutex_unlock(&err_lock);
}

const char *dc_tls_error(void)
{
	const char *e;

	g_mutex_lock(&err_lock);
	e = last_err;
	g_mutex_unlock(&err_lock);
	return e;
}

static int dial(void)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	char port[8];
	int fd;

	snprintf(port, sizeof(port), "%u", br.port);
	if (getaddrinfo(br.ip, port, &hints, &res) != 0)
		return -1;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		struct timeval tv = { 5, 0 };

		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	return fd;
}

/* Writes all of buf over TLS on the non-blocking rfd. */
static bool tls_write_all(SSL *ssl, int rfd, const char *buf, int n)
{
	for (;;) {
		int w = SSL_write(ssl, buf, n), e;
		struct pollfd p = { rfd, 0, 0 };

		if (w > 0)
			return true;
		e = SSL_get_error(ssl, w);
		if (e == SSL_ERROR_WANT_WRITE)
			p.events = POLLOUT;
		else if (e == SSL_ERROR_WANT_READ)
			p.events = POLLIN;
		else
			return false;
		if (poll(&p, 1, 5000) <= 0)
			return false;
	}
}

/* Copies local <-> TLS until either side closes. rfd is non-blocking and
 * SSL_MODE_AUTO_RETRY is off, so a record that carries no data (a TLS 1.3
 * session ticket) does not block SSL_read. */
static void shuttle(int lfd, int rfd, SSL *ssl)
{
	char buf[16384];

	for (;;) {
		struct pollfd p[2] = { { lfd, POLLIN, 0 }, { rfd, POLLIN, 0 } };

		if (SSL_pending(ssl) == 0 && poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (SSL_pending(ssl) > 0 || (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			for (;;) {
				int n = SSL_read(ssl, buf, sizeof(buf)), e;

				if (n <= 0) {
					e = SSL_get_error(ssl, n);
					if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
						break;
					return;
				}
				for (int off = 0; off < n;) {
					ssize_t w = write(lfd, buf + off, (size_t)(n - off));

					if (w <= 0)
						return;
					off += (int)w;
				}
			}
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = read(lfd, buf, sizeof(buf));

			if (r <= 0 || !tls_write_all(ssl, rfd, buf, (int)r))
				return;
		}
	}
}

static gpointer conn_thread(gpointer p)
{
	int lfd = GPOINTER_TO_INT(p), rfd, on = 1;
	SSL *ssl = NULL;

	setsockopt(lfd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	rfd = dial();
	if (rfd >= 0)
		setsockopt(rfd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (rfd < 0) {
		set_err("TURN over TLS: cannot connect to %s:%u: %s", strerror(errno));
		goto out;
	}
	ssl = SSL_new(br.ctx);
	SSL_set_fd(ssl, rfd);
	SSL_set_tlsext_host_name(ssl, br.host);
	{
		X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);

		if (X509_VERIFY_PARAM_set1_ip_asc(vp, br.host) != 1)
			X509_VERIFY_PARAM_set1_host(vp, br.host, 0);
	}
	if (SSL_connect(ssl) != 1) {
		long v = SSL_get_verify_result(ssl);
		unsigned long e = ERR_get_error();

		if (v != X509_V_OK)
			set_err("TURN over TLS to %s:%u: the server's certificate is not trusted "
			        "(%s) — give its CA with --turn-ca, or --turn-insecure for tests",
			        X509_verify_cert_error_string(v));
		else
			set_err("TURN over TLS to %s:%u: handshake failed (%s)",
			        e ? ERR_reason_error_string(e) : "connection closed");
		goto out;
	}
	fcntl(rfd, F_SETFL, fcntl(rfd, F_GETFL) | O_NONBLOCK);
	SSL_clear_mode(ssl, SSL_MODE_AUTO_RETRY);
	shuttle(lfd, rfd, ssl);
out:
	if (ssl) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	if (rfd >= 0)
		close(rfd);
	close(lfd);
	return NULL;
}

static gboolean on_accept(gint fd, GIOCondition cond, gpointer p)
{
	int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

	(void)cond;
	(void)p;
	if (c >= 0)
		g_thread_unref(g_thread_new("turn-tls", conn_thread, GINT_TO_POINTER(c)));
	return G_SOURCE_CONTINUE;
}

int dc_tls_bridge_start(struct dc *dc, const char *host, const char *ip, unsigned port,
                        unsigned *local_port)
{
	static const unsigned char alpn[] = "\x09stun.turn";
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);

	br.dc = dc;
	snprintf(br.host, sizeof(br.host), "%s", host);
	snprintf(br.ip, sizeof(br.ip), "%s", ip);
	br.port = port;
	br.ctx = SSL_CTX_new(TLS_client_method());
	if (!br.ctx)
		return -ENOMEM;
	SSL_CTX_set_min_proto_version(br.ctx, TLS1_2_VERSION);
	SSL_CTX_set_alpn_protos(br.ctx, alpn, sizeof(alpn) - 1);
	if (dc->o.turn_insecure) {
		SSL_CTX_set_verify(br.ctx, SSL_VERIFY_NONE, NULL);
	} else {
		SSL_CTX_set_verify(br.ctx, SSL_VERIFY_PEER, NULL);
		if (dc->o.turn_ca ? SSL_CTX_load_verify_locations(br.ctx, dc->o.turn_ca, NULL) != 1
		                  : SSL_CTX_set_default_verify_paths(br.ctx) != 1) {
			dc_fail(dc, "TURN over TLS: cannot load CA certificates%s%s",
			        dc->o.turn_ca ? " from " : "", dc->o.turn_ca ? dc->o.turn_ca : "");
			return -EINVAL;
		}
	}
	br.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (br.lfd < 0 || bind(br.lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(br.lfd, 8) != 0 || getsockname(br.lfd, (struct sockaddr *)&sin, &sl) != 0) {
		dc_fail(dc, "TURN over TLS: cannot open the local bridge: %s", strerror(errno));
		return -errno;
	}
	*local_port = ntohs(sin.sin_port);
	g_unix_fd_add(br.lfd, G_IO_IN, on_accept, NULL);
	return 0;
}
