/*
 * sock.h - the one way the server makes a bound socket.
 */
#ifndef TP_SOCK_H
#define TP_SOCK_H

#include <sys/socket.h>

#include "proto.h"

#define TP_SOCK_REUSEADDR 0x1u   /* SO_REUSEADDR */
#define TP_SOCK_REUSEPORT 0x2u   /* SO_REUSEPORT: one of several sockets on the address */
#define TP_SOCK_LISTEN    0x4u   /* stream: listen() after bind() */

/*
 * A non-blocking, close-on-exec socket of type (SOCK_DGRAM/SOCK_STREAM) bound to
 * addr, IPv6 sockets IPv6-only. With bound != NULL, the address it got (the
 * kernel's port when addr's is 0). Returns the descriptor or a negative errno.
 */
int tp_sock_bind(const struct tp_addr *addr, int type, unsigned flags, struct tp_addr *bound);

#endif
