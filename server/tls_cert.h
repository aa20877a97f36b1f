/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tls_cert.h - loading and describing the server certificate (tls-cert,
 * tls-key, tls-allow-expired).
 */
#ifndef TP_TLS_CERT_H
#define TP_TLS_CERT_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "conf.h"

/*
 * Load c's certificate chain and key into ctx. 0, or -1 with err naming the
 * option, where it was set (tp_conf_where), the file and errno or OpenSSL's
 * reason: a missing or unreadable file, no PEM certificate or key in it, a
 * key that is not the certificate's, a chain out of order, an expired
 * certificate (unless tls-allow-expired).
 */
int tp_tls_load(SSL_CTX *ctx, const struct tp_conf *c, char *err, size_t errlen);

/* Log the subject and notAfter of ctx's certificate: a warning when it
 * expires within 14 days or has expired, else (with always) an info line.
 * when: a prefix ("", "reload: "). */
void tp_tls_describe(SSL_CTX *ctx, const struct tp_conf *c, const char *when, bool always);

/* The subject in one line ("/CN=..."), the time as "YYYY-MM-DD HH:MM:SS UTC". */
void tp_tls_subject(X509 *x, char *buf, size_t n);
void tp_tls_time(const ASN1_TIME *t, char *buf, size_t n);

#endif
