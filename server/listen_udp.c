/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * listen_udp.c - UDP listeners.
 *
 * A wildcard listener learns each datagram's destination address (IP_PKTINFO /
 * IPV6_RECVPKTINFO) so the 5-tuple is exact and replies leave from the address
 * the client used.
 *
 * Fast path: datagrams come in with recvmmsg, RX_BATCH at a time (a bounded
 * number of batches per wakeup); everything sent to clients — replies and
 * relayed peer data — is copied into a transmit queue and leaves with one
 * sendmmsg when the loop has run the callbacks that are ready (a low-priority
 * flush event), or earlier when the queue is full.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "listen_dtls.h"
#include "listen_udp.h"
#include "sock.h"

#define RX_BATCH 32
#define RX_BATCHES 4               /* per wakeup: at most 128 datagrams */
#define RX_SLOT (TP_MAX_DGRAM)
#define TX_BATCH 64
#define TX_ARENA (256 * 1024)
_Static_assert(TX_BATCH <= TP_SENDV_MAX, "one tp_sock_sendv per flush");
#define CTL_LEN CMSG_SPACE(sizeof(struct in6_pktinfo))

struct tp_udp_listener {
	struct tp_sink sink;       /* first: the sink is the listener */
	struct tp_srv *s;          /* borrowed */
	struct event ev;
	struct event flush_ev;
	struct tp_addr addr;
	struct tp_dtls_listener *dtls; /* borrowed: takes the DTLS datagrams (RFC 7983) */
	bool wildcard;
	bool flush_pending;
	int fd;
	uint32_t ovfl;             /* the kernel's drop count last seen (SO_RXQ_OVFL) */
	/* transmit queue */
	unsigned ntx;
	size_t arena_used;
	struct mmsghdr txm[TX_BATCH];
	struct iovec txiov[TX_BATCH];
	struct sockaddr_storage txaddr[TX_BATCH];
	union {
		struct cmsghdr align;
		uint8_t b[CTL_LEN];
	} txctl[TX_BATCH];
	uint8_t *arena;            /* owned, TX_ARENA bytes */
	/* receive batch */
	uint8_t *rx;               /* owned, RX_BATCH * RX_SLOT bytes (touched as used) */
};

static bool is_wildcard(const struct tp_addr *a)
{
	static const uint8_t zero[16];

	return memcmp(a->ip, zero, a->family == AF_INET6 ? 16 : 4) == 0;
}

/* Send everything queued, in as few system calls as the kernel allows
 * (sendmmsg, runs to one client as UDP GSO sends). */
static void flush(struct tp_udp_listener *l)
{
	struct tp_sendv_res r = tp_sock_sendv(l->fd, l->txm, l->ntx);

	/* EAGAIN (socket buffer full) or a per-datagram error: those are lost and
	 * counted, the rest of the batch went */
	l->s->stats.send_errors += r.failed;
	l->ntx = 0;
	l->arena_used = 0;
}

static void flush_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct tp_udp_listener *l = arg;

	(void)fd;
	(void)ev;
	l->flush_pending = false;
	flush(l);
}

static int udp_send(struct tp_sink *sink, const struct tp_addr *local, const struct tp_addr *to,
                    const uint8_t *buf, size_t len)
{
	struct tp_udp_listener *l = (struct tp_udp_listener *)sink;
	struct sockaddr_storage *ss;
	struct msghdr *mh;
	unsigned i;

	if (len > TX_ARENA)
		return -EMSGSIZE;
	if (l->ntx == TX_BATCH || l->arena_used + len > TX_ARENA)
		flush(l);
	i = l->ntx++;
	memcpy(l->arena + l->arena_used, buf, len);
	l->txiov[i].iov_base = l->arena + l->arena_used;
	l->txiov[i].iov_len = len;
	l->arena_used += (len + 15) & ~(size_t)15;
	ss = &l->txaddr[i];
	mh = &l->txm[i].msg_hdr;
	memset(mh, 0, sizeof(*mh));
	mh->msg_name = ss;
	mh->msg_namelen = tp_addr_to_sa(to, ss);
	mh->msg_iov = &l->txiov[i];
	mh->msg_iovlen = 1;
	if (!l->flush_pending) {
		l->flush_pending = true;
		event_active(&l->flush_ev, EV_TIMEOUT, 0);
	}
	if (l->wildcard && local && local->family == l->addr.family) {
		memset(l->txctl[i].b, 0, CTL_LEN);
		mh->msg_control = l->txctl[i].b;
		struct cmsghdr *cm;

		if (local->family == AF_INET) {
			struct in_pktinfo pi = { 0 };

			mh->msg_controllen = CMSG_SPACE(sizeof(pi));
			cm = CMSG_FIRSTHDR(mh);
			cm->cmsg_level = IPPROTO_IP;
			cm->cmsg_type = IP_PKTINFO;
			cm->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(&pi.ipi_spec_dst, local->ip, 4);
			memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		} else {
			struct in6_pktinfo pi = { 0 };

			mh->msg_controllen = CMSG_SPACE(sizeof(pi));
			cm = CMSG_FIRSTHDR(mh);
			cm->cmsg_level = IPPROTO_IPV6;
			cm->cmsg_type = IPV6_PKTINFO;
			cm->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(&pi.ipi6_addr, local->ip, 16);
			memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		}
	}
	return 0;
}

static void local_from_cmsg(const struct tp_udp_listener *l, struct msghdr *mh,
                            struct tp_addr *local)
{
	*local = l->addr;
	if (!l->wildcard)
		return;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			memcpy(local->ip, &pi.ipi_addr, 4);
		} else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			memcpy(local->ip, &pi.ipi6_addr, 16);
		}
	}
}

static void udp_readable(evutil_socket_t fd, short ev, void *arg)
{
	struct tp_udp_listener *l = arg;
	struct tp_srv *s = l->s;
	struct mmsghdr mm[RX_BATCH];
	struct iovec iov[RX_BATCH];
	struct sockaddr_storage ss[RX_BATCH];
	union {
		struct cmsghdr align;
		uint8_t b[CTL_LEN + TP_SOCK_OVFL_SPACE + 64];
	} ctl[RX_BATCH];

	(void)ev;
	for (int b = 0; b < RX_BATCHES; b++) {
		int n;

		for (int i = 0; i < RX_BATCH; i++) {
			iov[i].iov_base = l->rx + (size_t)i * RX_SLOT;
			iov[i].iov_len = RX_SLOT;
			mm[i].msg_hdr = (struct msghdr){ .msg_name = &ss[i], .msg_namelen = sizeof(ss[i]),
			                                 .msg_iov = &iov[i], .msg_iovlen = 1,
			                                 .msg_control = ctl[i].b,
			                                 .msg_controllen = sizeof(ctl[i].b) };
		}
		n = recvmmsg(fd, mm, RX_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < n; i++) {
			struct tp_5tuple ft = { .transport = TP_LISTEN_UDP };
			long drops = tp_sock_drops(&mm[i].msg_hdr);

			if (drops >= 0) {
				/* datagrams the kernel dropped since the last count,
				 * for a full receive buffer (udp-rcvbuf) */
				s->stats.kernel_drops += (uint32_t)((uint32_t)drops - l->ovfl);
				l->ovfl = (uint32_t)drops;
			}
			if (mm[i].msg_hdr.msg_flags & MSG_TRUNC) {
				s->stats.drop_too_big++;
				continue;
			}
			if (tp_addr_from_sa(&ft.client, (struct sockaddr *)&ss[i]) != 0)
				continue;
			local_from_cmsg(l, &mm[i].msg_hdr, &ft.local);
			if (l->dtls && mm[i].msg_len > 0 &&
			    tp_demux(*(uint8_t *)iov[i].iov_base, false, 0) == TP_DEMUX_DTLS) {
				tp_dtls_input(l->dtls, &ft.client, &ft.local, iov[i].iov_base,
				              mm[i].msg_len);
				continue;
			}
			tp_dispatch(s, &l->sink, &ft, iov[i].iov_base, mm[i].msg_len);
		}
		if (n < RX_BATCH)
			break;
	}
}

int tp_udp_listen(struct tp_srv *s, const struct tp_addr *addr, bool reuseport,
                  struct tp_udp_listener **out)
{
	struct tp_udp_listener *l;
	struct tp_addr bound;
	int one = 1, fd;

	fd = tp_sock_bind(addr, SOCK_DGRAM,
	                  TP_SOCK_REUSEADDR | (reuseport ? TP_SOCK_REUSEPORT : 0), &bound);
	if (fd < 0)
		return fd;
	if (addr->family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	else
		(void)setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	tp_sock_buffers(fd, (int)s->conf->udp_rcvbuf, (int)s->conf->udp_sndbuf, NULL, NULL);
	l = calloc(1, sizeof(*l));
	if (l) {
		l->arena = malloc(TX_ARENA);
		l->rx = malloc((size_t)RX_BATCH * RX_SLOT);
	}
	if (!l || !l->arena || !l->rx) {
		if (l) {
			free(l->arena);
			free(l->rx);
		}
		free(l);
		close(fd);
		return -ENOMEM;
	}
	l->sink.send = udp_send;
	l->sink.transport = TP_LISTEN_UDP;
	l->s = s;
	l->fd = fd;
	l->addr = bound; /* with the kernel's port when 0 was asked */
	l->wildcard = is_wildcard(addr);
	event_assign(&l->ev, s->base, fd, EV_READ | EV_PERSIST, udp_readable, l);
	event_add(&l->ev, NULL);
	event_assign(&l->flush_ev, s->base, -1, 0, flush_cb, l);
	*out = l;
	return 0;
}

void tp_udp_close(struct tp_udp_listener *l)
{
	if (!l)
		return;
	flush(l);
	event_del(&l->ev);
	event_del(&l->flush_ev);
	close(l->fd);
	free(l->arena);
	free(l->rx);
	free(l);
}

struct tp_sink *tp_udp_sink(struct tp_udp_listener *l)
{
	return &l->sink;
}

const struct tp_addr *tp_udp_addr(const struct tp_udp_listener *l)
{
	return &l->addr;
}

int tp_udp_fd(const struct tp_udp_listener *l)
{
	return l->fd;
}

void tp_udp_set_dtls(struct tp_udp_listener *l, struct tp_dtls_listener *d)
{
	l->dtls = d;
}
