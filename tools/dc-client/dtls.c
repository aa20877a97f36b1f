/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dtls.c - DTLS 1.2 over the ICE path (OpenSSL 3.0).
 *
 * A fresh ECDSA P-256 certificate per run; its SHA-256 fingerprint goes into
 * our SDP and the peer's certificate must match the fingerprint in theirs.
 * OpenSSL 3.0 has no datagram memory BIO, so a small BIO sends each record
 * through nice_agent_send and reads datagrams queued by dc_dtls_input.
 * The SSL object is shared with usrsctp's thread (dc_dtls_write): every use
 * holds dc->ssl_lock.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "dc.h"

#define DTLS_MTU 1200

static BIO_METHOD *nice_bio_meth;

/* ---- the BIO ----------------------------------------------------------- */

static int bio_write(BIO *b, const char *buf, int len)
{
	struct dc *dc = BIO_get_data(b);

	dc_ice_send(dc, buf, (size_t)len);
	return len;
}

static int bio_read(BIO *b, char *buf, int cap)
{
	struct dc *dc = BIO_get_data(b);
	GBytes *d = g_queue_pop_head(&dc->rx_dgrams);
	gsize n;
	const void *p;

	BIO_clear_retry_flags(b);
	if (!d) {
		BIO_set_retry_read(b);
		return -1;
	}
	p = g_bytes_get_data(d, &n);
	if (n > (gsize)cap)
		n = (gsize)cap; /* datagram semantics: the rest is lost */
	memcpy(buf, p, n);
	g_bytes_unref(d);
	return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_DGRAM_QUERY_MTU:
	case BIO_CTRL_DGRAM_GET_MTU:
		return DTLS_MTU;
	case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
		return DTLS_MTU;
	case BIO_CTRL_WPENDING:
	case BIO_CTRL_PENDING:
		return 0;
	case BIO_CTRL_DGRAM_MTU_EXCEEDED:
		return 0;
	}
	return 0;
}

static int bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

/* ---- certificate ------------------------------------------------------- */

static int make_cert(struct dc *dc)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	int rc = -1;

	if (!key || !x)
		goto out;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)g_random_int_range(1, G_MAXINT32));
	X509_gmtime_adj(X509_getm_notBefore(x), -86400);
	X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"dc-client",
	                           -1, -1, 0);
	X509_set_issuer_name(x, name);
	if (!X509_sign(x, key, EVP_sha256()))
		goto out;
	if (SSL_CTX_use_certificate(dc->ctx, x) != 1 || SSL_CTX_use_PrivateKey(dc->ctx, key) != 1)
		goto out;
	X509_digest(x, EVP_sha256(), md, &mdlen);
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(dc->fingerprint + 3 * i, sizeof(dc->fingerprint) - 3 * i,
		         i + 1 < mdlen ? "%02X:" : "%02X", md[i]);
	rc = 0;
out:
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

static int verify_any(int ok, X509_STORE_CTX *ctx)
{
	(void)ok;
	(void)ctx;
	return 1; /* self-signed: checked against the SDP fingerprint afterwards */
}

int dc_dtls_init(struct dc *dc)
{
	dc->ctx = SSL_CTX_new(DTLS_method());
	if (!dc->ctx)
		goto fail;
	SSL_CTX_set_min_proto_version(dc->ctx, DTLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(dc->ctx, DTLS1_2_VERSION);
	SSL_CTX_set_verify(dc->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_any);
	SSL_CTX_set_options(dc->ctx, SSL_OP_NO_QUERY_MTU);
	if (SSL_CTX_set_cipher_list(dc->ctx, "ECDHE-ECDSA-AES128-GCM-SHA256:"
	                            "ECDHE-ECDSA-AES256-GCM-SHA384:"
	                            "ECDHE-ECDSA-CHACHA20-POLY1305:"
	                            "ECDHE-RSA-AES128-GCM-SHA256:"
	                            "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA") != 1)
		goto fail;
	if (make_cert(dc) != 0)
		goto fail;
	nice_bio_meth = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "nice");
	BIO_meth_set_write(nice_bio_meth, bio_write);
	BIO_meth_set_read(nice_bio_meth, bio_read);
	BIO_meth_set_ctrl(nice_bio_meth, bio_ctrl);
	BIO_meth_set_create(nice_bio_meth, bio_create);
	return 0;
fail:
	dc_fail(dc, "DTLS setup failed: %s", ERR_error_string(ERR_get_error(), NULL));
	return -1;
}

/* ---- handshake and records --------------------------------------------- */

static bool fingerprint_ok(struct dc *dc)
{
	X509 *peer = SSL_get1_peer_certificate(dc->ssl);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	char fp[200] = "";

	if (!peer)
		return false;
	X509_digest(peer, EVP_sha256(), md, &mdlen);
	X509_free(peer);
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(fp + 3 * i, sizeof(fp) - 3 * i, i + 1 < mdlen ? "%02X:" : "%02X", md[i]);
	return g_ascii_strcasecmp(fp, dc->remote.fingerprint) == 0;
}

static void ssl_fail(struct dc *dc, const char *what, int err)
{
	unsigned long e = ERR_get_error();

	dc_fail(dc, "DTLS %s failed (SSL error %d: %s) — the peer's fingerprint/setup role "
	        "may not match its SDP", what, err, e ? ERR_error_string(e, NULL) : "none");
}

/* Reads whatever application data the queued records hold; SCTP gets it
 * outside the lock (usrsctp may call back into dc_dtls_write). */
static void pump(struct dc *dc)
{
	GPtrArray *records = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	char buf[65536];
	int n, err = 0;

	g_rec_mutex_lock(&dc->ssl_lock);
	if (!dc->ssl) {
		g_rec_mutex_unlock(&dc->ssl_lock);
		g_ptr_array_free(records, TRUE);
		return;
	}
	if (!dc->dtls_done) {
		n = SSL_do_handshake(dc->ssl);
		if (n == 1) {
			dc->dtls_done = true;
		} else {
			err = SSL_get_error(dc->ssl, n);
			if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
				g_rec_mutex_unlock(&dc->ssl_lock);
				g_ptr_array_free(records, TRUE);
				ssl_fail(dc, "handshake", err);
				return;
			}
			err = 0;
		}
		if (dc->dtls_done) {
			g_rec_mutex_unlock(&dc->ssl_lock);
			if (!fingerprint_ok(dc)) {
				g_ptr_array_free(records, TRUE);
				dc_fail(dc, "DTLS: the peer's certificate does not match the "
				        "fingerprint in its SDP");
				return;
			}
			dc->t_dtls = dc_now(dc);
			dc_progress(dc, "DTLS done (%s, %s)", dc->dtls_client ? "client" : "server",
			            SSL_get_cipher(dc->ssl));
			dc_event(dc, "dtls-done", dc->dtls_client ? dc_event_data_path(dc, false)
			                                          : dc_event_data_path(dc, true),
			         false, "DTLS 1.2 handshake done in %.1f ms (%s); the peer's "
			         "certificate matches its SDP fingerprint",
			         (double)(dc->t_dtls - dc->t_dtls_start) / 1000.0,
			         SSL_get_cipher(dc->ssl));
			dc->stage = "the SCTP association";
			if (dc->dtls_timer) {
				g_source_remove(dc->dtls_timer);
				dc->dtls_timer = 0;
			}
			if (dc_sctp_start(dc) != 0) {
				g_ptr_array_free(records, TRUE);
				return;
			}
			g_rec_mutex_lock(&dc->ssl_lock);
		}
	}
	while (dc->dtls_done && dc->ssl) {
		n = SSL_read(dc->ssl, buf, sizeof(buf));
		if (n > 0) {
			g_ptr_array_add(records, g_bytes_new(buf, (gsize)n));
			continue;
		}
		err = SSL_get_error(dc->ssl, n);
		break;
	}
	g_rec_mutex_unlock(&dc->ssl_lock);
	for (guint i = 0; i < records->len; i++) {
		gsize len;
		const void *d = g_bytes_get_data(g_ptr_array_index(records, i), &len);

		dc_sctp_input(dc, d, len);
	}
	g_ptr_array_free(records, TRUE);
	if (err == SSL_ERROR_ZERO_RETURN && !dc->finished) {
		dc_progress(dc, "DTLS: the peer closed the connection");
		dc_event(dc, "dtls-closed", dc_event_data_path(dc, false), true,
		         "the peer closed DTLS (close_notify)");
	}
}

static gboolean dtls_timer_cb(gpointer p)
{
	struct dc *dc = p;

	g_rec_mutex_lock(&dc->ssl_lock);
	if (dc->ssl && !dc->dtls_done)
		DTLSv1_handle_timeout(dc->ssl);
	g_rec_mutex_unlock(&dc->ssl_lock);
	return G_SOURCE_CONTINUE;
}

void dc_dtls_start(struct dc *dc)
{
	BIO *b;

	/* Our answer is always active; as offerer, the answer's setup decides. */
	if (dc->o.offer)
		dc->dtls_client = strcmp(dc->remote.setup, "passive") == 0;
	else
		dc->dtls_client = true;
	dc->stage = "the DTLS handshake";
	g_rec_mutex_lock(&dc->ssl_lock);
	dc->ssl = SSL_new(dc->ctx);
	b = BIO_new(nice_bio_meth);
	BIO_set_data(b, dc);
	SSL_set_bio(dc->ssl, b, b);
	SSL_set_mtu(dc->ssl, DTLS_MTU);
	DTLS_set_link_mtu(dc->ssl, DTLS_MTU);
	if (dc->dtls_client)
		SSL_set_connect_state(dc->ssl);
	else
		SSL_set_accept_state(dc->ssl);
	g_rec_mutex_unlock(&dc->ssl_lock);
	dc->dtls_timer = g_timeout_add(50, dtls_timer_cb, dc);
	dc_progress(dc, "DTLS starting as %s", dc->dtls_client ? "client" : "server");
	dc->t_dtls_start = dc_now(dc);
	dc_event(dc, "dtls-start", dc->dtls_client ? dc_event_data_path(dc, true) : "A", false,
	         dc->dtls_client ? "DTLS handshake starts: ClientHello (we are the DTLS client)"
	                         : "DTLS handshake: waiting for the peer's ClientHello (we are "
	                           "the DTLS server)");
	pump(dc);
}

void dc_dtls_input(struct dc *dc, const void *buf, size_t len)
{
	const uint8_t *b = buf;

	/* RFC 7983: DTLS records start with 20..63. */
	if (len == 0 || b[0] < 20 || b[0] > 63)
		return;
	g_rec_mutex_lock(&dc->ssl_lock);
	g_queue_push_tail(&dc->rx_dgrams, g_bytes_new(buf, len));
	g_rec_mutex_unlock(&dc->ssl_lock);
	if (dc->ssl)
		pump(dc);
}

int dc_dtls_write(struct dc *dc, const void *buf, size_t len)
{
	int n = -1;

	g_rec_mutex_lock(&dc->ssl_lock);
	if (dc->ssl && dc->dtls_done)
		n = SSL_write(dc->ssl, buf, (int)len);
	g_rec_mutex_unlock(&dc->ssl_lock);
	return n > 0 ? 0 : -EIO;
}

void dc_dtls_close(struct dc *dc)
{
	g_rec_mutex_lock(&dc->ssl_lock);
	if (dc->ssl && dc->dtls_done)
		SSL_shutdown(dc->ssl); /* close_notify; the SSL object stays for stray calls */
	g_rec_mutex_unlock(&dc->ssl_lock);
	if (dc->dtls_timer) {
		g_source_remove(dc->dtls_timer);
		dc->dtls_timer = 0;
	}
}
