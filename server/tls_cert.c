/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tls_cert.c - the certificate, key and chain of a TLS/DTLS context, loaded
 * with messages an operator can act on: the option and where it was set, the
 * file, errno or OpenSSL's reason; the chain's order; the expiry.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "tls_cert.h"

#define WARN_DAYS 14

/* OpenSSL's reason for the last failure (and the queue emptied). */
static const char *ssl_reason(char *buf, size_t n)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	if (r)
		snprintf(buf, n, "%s", r);
	else if (e)
		snprintf(buf, n, "OpenSSL error %#lx", e);
	else
		snprintf(buf, n, "no reason given");
	ERR_clear_error();
	return buf;
}

/* 0, or a negative errno: the file opens and a first byte reads
 * (a directory, an unreadable or an empty file are refused here). */
static int readable(const char *path)
{
	char b;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, &b, 1);
	if (n < 0)
		rc = -errno;
	else if (n == 0)
		rc = -ENODATA;
	close(fd);
	return rc;
}

/* "tls-cert \"PATH\" (FILE:LINE)" */
static void name_opt(const struct tp_conf *c, const char *opt, const char *path, char *buf,
                     size_t n)
{
	char where[300];

	snprintf(buf, n, "%s \"%s\" (%s)", opt, path, tp_conf_where(c, opt, where, sizeof(where)));
}

static int file_fail(const struct tp_conf *c, const char *opt, const char *path, int rc,
                     char *err, size_t errlen)
{
	char what[400];

	name_opt(c, opt, path, what, sizeof(what));
	if (rc == -ENODATA)
		snprintf(err, errlen, "%s: the file is empty", what);
	else
		snprintf(err, errlen, "%s: cannot read: %s (errno %d)", what, strerror(-rc), -rc);
	return -1;
}

void tp_tls_subject(X509 *x, char *buf, size_t n)
{
	X509_NAME *nm = x ? X509_get_subject_name(x) : NULL;
	char *s = nm ? X509_NAME_oneline(nm, NULL, 0) : NULL;

	snprintf(buf, n, "%s", s ? s : "?");
	OPENSSL_free(s);
}

void tp_tls_time(const ASN1_TIME *t, char *buf, size_t n)
{
	struct tm tm;

	if (!t || ASN1_TIME_to_tm(t, &tm) != 1) {
		snprintf(buf, n, "?");
		return;
	}
	strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* Seconds from now to the certificate's notAfter (negative: expired). */
static long long left(X509 *x)
{
	int days = 0, secs = 0;

	if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)) != 1)
		return 0;
	return (long long)days * 86400 + secs;
}

/* Each certificate after the leaf must have issued the one before it. */
static int check_chain(SSL_CTX *ctx, X509 *leaf, const char *what, char *err, size_t errlen)
{
	STACK_OF(X509) *chain = NULL;
	X509 *prev = leaf;

	if (SSL_CTX_get0_chain_certs(ctx, &chain) != 1 || !chain)
		return 0;
	for (int i = 0; i < sk_X509_num(chain); i++) {
		X509 *x = sk_X509_value(chain, i);
		char a[256], b[256];

		if (X509_check_issued(x, prev) != X509_V_OK) {
			tp_tls_subject(x, a, sizeof(a));
			tp_tls_subject(prev, b, sizeof(b));
			snprintf(err, errlen, "%s: bad chain: certificate %d (%s) did not issue "
			         "certificate %d (%s) (expected the leaf first, then each issuer in "
			         "turn)", what, i + 2, a, i + 1, b);
			return -1;
		}
		prev = x;
	}
	return 0;
}

int tp_tls_load(SSL_CTX *ctx, const struct tp_conf *c, char *err, size_t errlen)
{
	const char *cert = c->tls_cert;
	bool own_key = c->tls_key && c->tls_key[0];
	const char *key = own_key ? c->tls_key : cert;
	const char *key_opt = own_key ? "tls-key" : "tls-cert";
	char what[400], kwhat[400], why[256];
	X509 *leaf;
	EVP_PKEY *pkey;
	BIO *bio;
	int rc;

	name_opt(c, "tls-cert", cert, what, sizeof(what));
	name_opt(c, key_opt, key, kwhat, sizeof(kwhat));
	if ((rc = readable(cert)) != 0)
		return file_fail(c, "tls-cert", cert, rc, err, errlen);
	if (own_key && (rc = readable(key)) != 0)
		return file_fail(c, "tls-key", key, rc, err, errlen);
	ERR_clear_error();
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		snprintf(err, errlen, "%s: no usable PEM certificate chain: %s", what,
		         ssl_reason(why, sizeof(why)));
		return -1;
	}
	leaf = SSL_CTX_get0_certificate(ctx);
	/* read apart from the context, so a key of another certificate is
	 * reported as that rather than as an unusable key */
	bio = BIO_new_file(key, "r");
	pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	if (!pkey) {
		snprintf(err, errlen, "%s: no usable PEM private key%s: %s", kwhat,
		         own_key ? "" : " in it (set tls-key to the key's file)",
		         ssl_reason(why, sizeof(why)));
		return -1;
	}
	if (leaf && X509_check_private_key(leaf, pkey) != 1) {
		EVP_PKEY_free(pkey);
		snprintf(err, errlen, "%s: the private key does not match the certificate of %s: %s",
		         kwhat, what, ssl_reason(why, sizeof(why)));
		return -1;
	}
	rc = SSL_CTX_use_PrivateKey(ctx, pkey);
	EVP_PKEY_free(pkey);
	if (rc != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "%s: the private key is not usable with the certificate of "
		         "%s: %s", kwhat, what, ssl_reason(why, sizeof(why)));
		return -1;
	}
	if (check_chain(ctx, leaf, what, err, errlen))
		return -1;
	if (leaf && left(leaf) <= 0 && !c->tls_allow_expired) {
		char subj[256], na[64];

		tp_tls_subject(leaf, subj, sizeof(subj));
		tp_tls_time(X509_get0_notAfter(leaf), na, sizeof(na));
		snprintf(err, errlen, "%s: the certificate %s expired on %s (renew it, or set "
		         "tls-allow-expired = true to serve it anyway)", what, subj, na);
		return -1;
	}
	return 0;
}

void tp_tls_describe(SSL_CTX *ctx, const struct tp_conf *c, const char *when, bool always)
{
	X509 *leaf = ctx ? SSL_CTX_get0_certificate(ctx) : NULL;
	char subj[256], na[64];
	long long s;

	if (!leaf)
		return;
	tp_tls_subject(leaf, subj, sizeof(subj));
	tp_tls_time(X509_get0_notAfter(leaf), na, sizeof(na));
	s = left(leaf);
	if (s <= 0)
		tp_warn(NULL, "%sTLS certificate %s (%s) expired on %s: served because "
		        "tls-allow-expired = true", when, subj, c->tls_cert, na);
	else if (s < (long long)WARN_DAYS * 86400)
		tp_warn(NULL, "%sTLS certificate %s (%s) expires on %s, in %lld days %lld hours: "
		        "renew it", when, subj, c->tls_cert, na, s / 86400, s % 86400 / 3600);
	else if (always)
		tp_info(NULL, "%sTLS certificate %s (%s), expires on %s", when, subj, c->tls_cert,
		        na);
}
