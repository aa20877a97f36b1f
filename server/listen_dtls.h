/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * listen_dtls.h - TURN over DTLS 1.2 (RFC 7350).
 */
#ifndef TP_LISTEN_DTLS_H
#define TP_LISTEN_DTLS_H

#include <openssl/ssl.h>

#include "server.h"

struct tp_dtls_listener;

/* ctx: the slot holding the current DTLS context (borrowed; a reload swaps
 * it). -ENOKEY without one (tls-cert unset). */
int tp_dtls_listen(struct tp_srv *s, const struct tp_addr *addr, bool reuseport,
                   SSL_CTX *const *ctx, struct tp_dtls_listener **out);
/* A DTLS listener without a socket of its own, on a UDP listener's fd
 * (borrowed, not closed), which hands it the DTLS datagrams (RFC 7983 first
 * byte 20..63) with tp_dtls_input: udp: and dtls: on one address and port. */
int tp_dtls_attach(struct tp_srv *s, int fd, const struct tp_addr *addr, SSL_CTX *const *ctx,
                   struct tp_dtls_listener **out);
/* One datagram for an attached listener (b is scratch: may be written over). */
void tp_dtls_input(struct tp_dtls_listener *l, const struct tp_addr *client,
                   const struct tp_addr *local, uint8_t *b, size_t n);
/* Ends every session (and the allocations they carry). */
void tp_dtls_close(struct tp_dtls_listener *l);
const struct tp_addr *tp_dtls_addr(const struct tp_dtls_listener *l);
/* Cookie callbacks and options on a context made by tp_tls_ctx_new(..., true, ...). */
void tp_dtls_ctx_setup(SSL_CTX *ctx);

#endif
