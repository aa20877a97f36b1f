/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xport.c - the probe's transports to the server: UDP, TCP (RFC 8656 §12.5
 * framing), TLS over TCP and DTLS 1.2 over UDP (OpenSSL). One message in, one
 * message out: streams are cut into STUN / ChannelData frames by proto's pull
 * framer over the receive buffer (the framing the server runs), datagrams are
 * taken whole.
 *
 * Certificates are not required to verify (test servers are self-signed): the
 * verdict is reported instead (px_tls_info).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "probe.h"

#define RX_CAP 65536

struct px {
	enum probe_xport kind;
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	struct tp_framer fr;    /* streams: frames of at most RX_CAP bytes */
	size_t rxlen;
	char info[PROBE_TEXT];
	uint8_t rx[RX_CAP];     /* streams: bytes not yet framed */
};

const char *probe_xport_name(enum probe_xport k)
{
	static const char *const names[] = { "udp", "tcp", "tls", "dtls" };

	return (unsigned)k < PX__COUNT ? names[k] : "?";
}

static bool is_stream(enum probe_xport k)
{
	return k == PX_TCP || k == PX_TLS;
}

static int wait_fd(int fd, short ev, int ms)
{
	struct pollfd p = { .fd = fd, .events = ev };
	int rc = poll(&p, 1, ms);

	if (rc < 0)
		return errno == EINTR ? 0 : -errno;
	return rc;
}

static int connect_fd(enum probe_xport kind, const struct tp_addr *srv, int64_t deadline)
{
	struct sockaddr_storage ss;
	unsigned len = tp_addr_to_sa(srv, &ss);
	int type = is_stream(kind) ? SOCK_STREAM : SOCK_DGRAM;
	int fd = socket(srv->family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int err = 0, one = 1;
	socklen_t elen = sizeof(err);

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&ss, len) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		err = -errno;
		goto fail;
	}
	if (wait_fd(fd, POLLOUT, probe_left(deadline)) <= 0) {
		err = -ETIMEDOUT;
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err) {
		err = err ? -err : -errno;
		goto fail;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
fail:
	close(fd);
	return err;
}

/* The SSL error as errno plus a reason; -EAGAIN means "wait for ev". */
static int ssl_step(struct px *x, int rc, short *ev)
{
	switch (SSL_get_error(x->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		*ev = POLLIN;
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		*ev = POLLOUT;
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return -EPIPE;
	case SSL_ERROR_SYSCALL:
		return errno ? -errno : -EPIPE;
	default:
		return -EPROTO;
	}
}

static int handshake(struct px *x, const char *sni, int64_t deadline, char *why, size_t whycap)
{
	const bool dtls = x->kind == PX_DTLS;
	long v;

	x->ctx = SSL_CTX_new(dtls ? DTLS_client_method() : TLS_client_method());
	if (!x->ctx)
		return -ENOMEM;
	SSL_CTX_set_min_proto_version(x->ctx, dtls ? DTLS1_2_VERSION : TLS1_2_VERSION);
	SSL_CTX_set_default_verify_paths(x->ctx);
	SSL_CTX_set_verify(x->ctx, SSL_VERIFY_NONE, NULL);
	x->ssl = SSL_new(x->ctx);
	if (!x->ssl)
		return -ENOMEM;
	if (sni && *sni) {
		SSL_set_tlsext_host_name(x->ssl, sni);
		SSL_set1_host(x->ssl, sni);
	}
	if (dtls) {
		BIO *bio = BIO_new_dgram(x->fd, BIO_NOCLOSE);
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);

		if (!bio)
			return -ENOMEM;
		getpeername(x->fd, (struct sockaddr *)&ss, &len);
		BIO_ctrl(bio, BIO_CTRL_DGRAM_SET_CONNECTED, 0, &ss);
		SSL_set_bio(x->ssl, bio, bio);
		SSL_set_mtu(x->ssl, 1200);
		SSL_set_options(x->ssl, SSL_OP_NO_QUERY_MTU);
	} else {
		SSL_set_fd(x->ssl, x->fd);
	}
	for (;;) {
		int rc = SSL_connect(x->ssl), e, wait;
		short ev = POLLIN;
		struct timeval tv;

		if (rc == 1)
			break;
		e = ssl_step(x, rc, &ev);
		if (e != -EAGAIN) {
			unsigned long le = ERR_peek_last_error();

			snprintf(why, whycap, "%s handshake failed: %s", dtls ? "DTLS" : "TLS",
			         le ? ERR_reason_error_string(le) : strerror(-e));
			ERR_clear_error();
			return e == -EPROTO ? -EPROTO : e;
		}
		wait = probe_left(deadline);
		if (wait == 0) {
			snprintf(why, whycap, "%s handshake timed out", dtls ? "DTLS" : "TLS");
			return -ETIMEDOUT;
		}
		if (dtls && DTLSv1_get_timeout(x->ssl, &tv)) {
			int t = (int)(tv.tv_sec * 1000 + tv.tv_usec / 1000);

			if (t < wait)
				wait = t;
		}
		rc = wait_fd(x->fd, ev, wait);
		if (rc < 0)
			return rc;
		if (rc == 0 && dtls)
			DTLSv1_handle_timeout(x->ssl);
	}
	v = SSL_get_verify_result(x->ssl);
	snprintf(x->info, sizeof(x->info), "%s %s, certificate %s%s", SSL_get_version(x->ssl),
	         SSL_get_cipher_name(x->ssl),
	         v == X509_V_OK ? "verified" : "NOT verified: ",
	         v == X509_V_OK ? "" : X509_verify_cert_error_string(v));
	return 0;
}

int px_open(struct px **out, enum probe_xport kind, const struct tp_addr *server,
            const char *sni, int ms, char *why, size_t whycap)
{
	int64_t deadline = probe_now_ms() + ms;
	struct px *x = calloc(1, sizeof(*x));
	int rc;

	*out = NULL;
	why[0] = '\0';
	if (!x)
		return -ENOMEM;
	x->kind = kind;
	tp_framer_init(&x->fr, RX_CAP, TP_CHAN_MAX);
	x->fd = connect_fd(kind, server, deadline);
	if (x->fd < 0) {
		rc = x->fd;
		snprintf(why, whycap, "%s connect: %s", probe_xport_name(kind),
		         rc == -ETIMEDOUT ? "timed out" : strerror(-rc));
		goto fail;
	}
	if (kind == PX_TLS || kind == PX_DTLS) {
		rc = handshake(x, sni, deadline, why, whycap);
		if (rc)
			goto fail;
	}
	*out = x;
	return 0;
fail:
	px_close(x);
	return rc;
}

int px_send(struct px *x, const uint8_t *b, size_t n)
{
	int64_t deadline = probe_now_ms() + 2000;
	size_t off = 0;

	while (off < n) {
		short ev = POLLOUT;
		ssize_t w;
		int rc;

		if (x->ssl) {
			rc = SSL_write(x->ssl, b + off, (int)(n - off));
			if (rc > 0) {
				off += (size_t)rc;
				continue;
			}
			rc = ssl_step(x, rc, &ev);
			if (rc != -EAGAIN)
				return rc;
		} else {
			w = send(x->fd, b + off, n - off, MSG_NOSIGNAL);
			if (w >= 0) {
				off += (size_t)w;
				continue;
			}
			if (errno != EAGAIN && errno != EINTR)
				return -errno;
		}
		if (probe_left(deadline) == 0)
			return -ETIMEDOUT;
		wait_fd(x->fd, ev, probe_left(deadline));
	}
	return 0;
}

/* A whole frame in rx? Move it to b. Its length, 0 need more, -EPROTO a
 * framing error (sticky: the stream lost sync), -ENOBUFS a frame longer than
 * cap (dropped). rx never fills up: a frame is at most RX_CAP bytes. */
static long take_frame(struct px *x, uint8_t *b, size_t cap)
{
	enum tp_frame_kind kind;
	size_t flen;
	enum tp_perr e = tp_framer_next(&x->fr, x->rx, x->rxlen, &flen, &kind);
	long rc = (long)flen;

	if (e == TP_P_NEED_MORE)
		return 0;
	if (e != TP_P_OK)
		return -EPROTO;
	if (flen > cap)
		rc = -ENOBUFS;
	else
		memcpy(b, x->rx, flen);
	memmove(x->rx, x->rx + flen, x->rxlen - flen);
	x->rxlen -= flen;
	return rc;
}

long px_recv(struct px *x, uint8_t *b, size_t cap, int ms)
{
	int64_t deadline = probe_now_ms() + ms;

	for (;;) {
		short ev = POLLIN;
		ssize_t n;
		int rc;

		if (is_stream(x->kind)) {
			long f = take_frame(x, b, cap);

			if (f != 0)
				return f;
		}
		if (x->ssl) {
			uint8_t *dst = x->kind == PX_DTLS ? b : x->rx + x->rxlen;
			size_t room = x->kind == PX_DTLS ? cap : RX_CAP - x->rxlen;

			rc = SSL_read(x->ssl, dst, (int)room);
			if (rc > 0) {
				if (x->kind == PX_DTLS)
					return rc;
				x->rxlen += (size_t)rc;
				continue;
			}
			rc = ssl_step(x, rc, &ev);
			if (rc != -EAGAIN)
				return rc;
		} else if (is_stream(x->kind)) {
			n = recv(x->fd, x->rx + x->rxlen, RX_CAP - x->rxlen, 0);
			if (n == 0)
				return -EPIPE;
			if (n > 0) {
				x->rxlen += (size_t)n;
				continue;
			}
			if (errno != EAGAIN && errno != EINTR)
				return -errno;
		} else {
			n = recv(x->fd, b, cap, 0);
			if (n > 0)
				return (long)n;
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				return -errno;
		}
		if (probe_left(deadline) == 0)
			return 0;
		rc = wait_fd(x->fd, ev, probe_left(deadline));
		if (rc < 0)
			return rc;
		if (rc == 0 && x->kind == PX_DTLS)
			DTLSv1_handle_timeout(x->ssl);
	}
}

int px_local(const struct px *x, struct tp_addr *a)
{
	return probe_sockname(x->fd, a);
}

bool px_is_stream(const struct px *x)
{
	return is_stream(x->kind);
}

const char *px_tls_info(const struct px *x)
{
	return x->info;
}

void px_close(struct px *x)
{
	if (!x)
		return;
	if (x->ssl) {
		SSL_shutdown(x->ssl);
		SSL_free(x->ssl);
	}
	SSL_CTX_free(x->ctx);
	if (x->fd >= 0)
		close(x->fd);
	free(x);
}
