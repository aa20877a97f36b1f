/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * listen_udp.h - UDP listeners: each is a struct tp_sink for its clients.
 */
#ifndef TP_LISTEN_UDP_H
#define TP_LISTEN_UDP_H

#include "server.h"

struct tp_udp_listener;

/* Bind and start reading; 0 or a negative errno. */
/* reuseport: one of several workers' sockets on the same address (SO_REUSEPORT). */
int tp_udp_listen(struct tp_srv *s, const struct tp_addr *addr, bool reuseport,
                  struct tp_udp_listener **out);
void tp_udp_close(struct tp_udp_listener *l);
struct tp_sink *tp_udp_sink(struct tp_udp_listener *l);
/* The bound address (with the kernel's port when 0 was asked). */
const struct tp_addr *tp_udp_addr(const struct tp_udp_listener *l);

/* RFC 7983 sharing: datagrams whose first byte is DTLS's (20..63) go to d
 * (attached to tp_udp_fd(l) with tp_dtls_attach), the rest to dispatch as
 * before. d is borrowed and must be closed before l. */
struct tp_dtls_listener;
int tp_udp_fd(const struct tp_udp_listener *l);
void tp_udp_set_dtls(struct tp_udp_listener *l, struct tp_dtls_listener *d);

#endif
