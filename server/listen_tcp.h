/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * listen_tcp.h - stream listeners: TURN over TCP and TLS (RFC 8656 §3.1, RFC
 * 7350), told apart by the first byte on one listener (0x16 starts a TLS
 * handshake; 0x00-0x03 STUN and 0x40-0x4F ChannelData start plain TURN), so a
 * single port 443 serves every client a firewall lets through.
 *
 * Each connection is a struct tp_sink of its own. Memory per connection is
 * bounded: input frames are capped and input waiting to be processed stops
 * reading at a high watermark (about two largest frames), output beyond the
 * configured limit is dropped (relayed UDP data) and counted. Handshake and idle timeouts end
 * slow or silent connections; per-source and total caps bound their number.
 */
#ifndef TP_LISTEN_TCP_H
#define TP_LISTEN_TCP_H

#include <openssl/ssl.h>

#include "server.h"

struct tp_tcp_listener;
struct tp_conn;

/* ctx: the slot holding the current TLS context (borrowed; NULL inside
 * without a certificate). tls: a tls: listener, which also serves plain TURN when the first byte says
 * so (one port for everything); a tcp: listener is plain only. proxy: each
 * connection must come from a proxy-trusted source (the configuration's, read
 * at accept) and start with a PROXY protocol header naming the client. */
int tp_tcp_listen(struct tp_srv *s, const struct tp_addr *addr, bool tls, bool proxy,
                  SSL_CTX *const *ctx, struct tp_tcp_listener **out);
/* Closes its connections too. */
void tp_tcp_close(struct tp_tcp_listener *l);
const struct tp_addr *tp_tcp_addr(const struct tp_tcp_listener *l);

/* Close every connection of l (shutdown: before the allocation tables go). */
void tp_tcp_close_conns(struct tp_tcp_listener *l);

/* The TLS context (certificate, key, chain, ALPN); NULL without a certificate.
 * Reload builds a new one and swaps it; live sessions keep theirs. */
SSL_CTX *tp_tls_ctx_new(const struct tp_conf *c, bool dtls, char *err, size_t errlen);

/* For RFC 6062: a connection that has become a raw data pipe hands its
 * bufferevent over; the conn object is freed. */
struct bufferevent *tp_conn_detach(struct tp_conn *c);
struct tp_conn *tp_conn_from_sink(struct tp_sink *sink);

#endif
