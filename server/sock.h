/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sock.h - the one way the server makes a bound socket.
 */
#ifndef TP_SOCK_H
#define TP_SOCK_H

#include <stdbool.h>
#include <stdint.h>
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

/*
 * Whether addr is free for a socket of type: bound once without SO_REUSEADDR
 * or SO_REUSEPORT, then closed. -EADDRINUSE when any socket holds the port,
 * including one of another process that would otherwise join (or, for UDP
 * with SO_REUSEADDR, shadow) an SO_REUSEPORT group and take part of its
 * traffic. 0 or a negative errno. Before binding, never while ours are open.
 */
int tp_sock_probe(const struct tp_addr *addr, int type);

/*
 * UDP socket buffers. A size of 0 leaves the kernel default. Otherwise
 * SO_RCVBUFFORCE/SO_SNDBUFFORCE first (they pass net.core.rmem_max/wmem_max
 * with CAP_NET_ADMIN), then SO_RCVBUF/SO_SNDBUF, which the kernel caps at those
 * sysctls. got_rcv, got_snd: the sizes the kernel reports back (it doubles
 * what it grants, for its bookkeeping), so the caller can log a shortfall.
 * SO_RXQ_OVFL is switched on too, so each received datagram after a drop
 * carries the socket's count of datagrams the kernel dropped for a full
 * receive buffer (tp_sock_drops reads it).
 */
void tp_sock_buffers(int fd, int rcv, int snd, int *got_rcv, int *got_snd);
/* net.core.rmem_max / wmem_max, or -1. */
long tp_sock_sysctl_max(bool rcv);
/* The SO_RXQ_OVFL count in a received message's ancillary data, or -1 if none. */
long tp_sock_drops(struct msghdr *mh);
#define TP_SOCK_OVFL_SPACE CMSG_SPACE(sizeof(uint32_t))

/* Most datagrams one tp_sock_sendv call takes. */
#define TP_SENDV_MAX 64

struct tp_sendv_res {
	unsigned sent, failed;  /* datagrams */
	size_t bytes;           /* payload bytes of those sent */
	int err;                /* the last errno of a failed one */
	unsigned gso;           /* GSO sends among the system calls */
};

/*
 * Send n <= TP_SENDV_MAX datagrams on the UDP socket fd, each described by one
 * msghdr of msg[] (one iovec, optional ancillary data such as IP_PKTINFO), in
 * order, with as few system calls as the kernel allows: runs of datagrams to
 * the same destination with the same ancillary data, equal in size (the last
 * may be shorter) and whose iovecs are adjacent in memory leave as one UDP GSO
 * send (UDP_SEGMENT, Linux 4.18+); everything goes in sendmmsg batches. A
 * datagram that cannot be sent (EAGAIN, ENETUNREACH, an earlier ICMP error) is
 * counted as failed and the rest still go. When a GSO send is refused (no
 * kernel support, a path that cannot segment) its datagrams are sent one by
 * one, and GSO is off from then on if the kernel lacks it.
 */
struct tp_sendv_res tp_sock_sendv(int fd, struct mmsghdr *msg, unsigned n);

#endif
