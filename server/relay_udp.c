/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * relay_udp.c - UDP relay sockets (RFC 8656 §10, §11).
 *
 * Peer data is received TP_RELAY_HEADROOM bytes into the server's receive
 * buffer, so the ChannelData header or the Data indication prefix is written in
 * front of it and the whole goes to the client in one send, without a copy.
 * ICMP errors (IP_RECVERR) for peers with a permission become Data indications
 * with an ICMP attribute. Nothing here ever tears an allocation down: a send
 * error towards one peer is counted and the allocation carries on.
 *
 * Fast path: peer data comes in with recvmmsg; client data for peers is
 * queued (copied) and leaves with one sendmmsg per relay socket when the loop
 * has run the ready callbacks. A relay socket is never closed with packets
 * queued for it: closing flushes first, so a reused descriptor cannot send
 * another allocation's data.
 */
#include <errno.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <linux/errqueue.h>
#include <sodium.h>

#include "relay.h"
#include "slab.h"
#include "shared.h"
#include "sock.h"

#define READ_BUDGET 64
#define RX_BATCH 16
#define RX_SLOT (TP_RELAY_HEADROOM + TP_MAX_DGRAM)
#define TXQ_LEN 64
#define TXQ_ARENA (256 * 1024)
_Static_assert(TXQ_LEN <= TP_SENDV_MAX, "one tp_sock_sendv per socket and flush");

/* A UDP relay socket: the edge's half of struct tp_relay. */
struct tp_relay_io {
	struct tp_alloc *a;            /* borrowed back-pointer */
	struct event ev;
	struct tp_addr addr;           /* bound local address */
	int fd;
	bool df;                       /* IP_PMTUDISC_DO currently set */
	uint32_t ovfl;                 /* the kernel's drop count last seen (SO_RXQ_OVFL) */
};

/* The server's queue of datagrams to peers (one per event loop). */
struct tp_relay_txq {
	struct event ev;
	bool pending;
	unsigned n;
	size_t used;
	struct tp_relay_io *r[TXQ_LEN]; /* borrowed: flushed before any is closed */
	struct iovec iov[TXQ_LEN];
	struct sockaddr_storage to[TXQ_LEN];
	socklen_t tolen[TXQ_LEN];
	uint8_t *arena;                /* TXQ_ARENA bytes */
	uint8_t *rx;                   /* RX_BATCH * RX_SLOT bytes for recvmmsg */
	uint8_t icmp[TP_RELAY_HEADROOM]; /* a Data indication with ICMP is built here */
};

static void relay_readable(evutil_socket_t fd, short ev, void *arg);

/* Send everything queued: one sendmmsg per relay socket, in queue order per
 * socket. */
void tp_relay_flush(struct tp_srv *s)
{
	struct tp_relay_txq *q = s->txq;
	struct mmsghdr mm[TXQ_LEN];
	struct iovec iov[TXQ_LEN];
	bool done[TXQ_LEN] = { false };

	if (!q || q->n == 0)
		return;
	for (unsigned i = 0; i < q->n; i++) {
		struct tp_relay_io *r = q->r[i];
		struct tp_sendv_res res;
		unsigned k = 0;

		if (done[i])
			continue;
		/* this socket's datagrams, in queue order, their iovecs adjacent so
		 * runs to one peer can leave as one GSO send */
		for (unsigned j = i; j < q->n; j++) {
			if (done[j] || q->r[j] != r)
				continue;
			done[j] = true;
			iov[k] = q->iov[j];
			mm[k].msg_hdr = (struct msghdr){ .msg_name = &q->to[j], .msg_namelen = q->tolen[j],
			                                 .msg_iov = &iov[k], .msg_iovlen = 1 };
			k++;
		}
		res = tp_sock_sendv(r->fd, mm, k);
		/* ENETUNREACH, ECONNREFUSED (an earlier ICMP), EAGAIN: those datagrams
		 * are lost and counted; the allocation carries on */
		r->a->send_errors += res.failed;
		s->stats.send_errors += res.failed;
		r->a->tx_pkts += res.sent;
		r->a->tx_bytes += res.bytes;
		s->stats.relay_pkts[TP_SD_TO_PEER][r->a->ft.transport] += res.sent;
		s->stats.relay_bytes[TP_SD_TO_PEER][r->a->ft.transport] += res.bytes;
	}
	q->n = 0;
	q->used = 0;
}

static void flush_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct tp_srv *s = arg;

	(void)fd;
	(void)ev;
	s->txq->pending = false;
	tp_relay_flush(s);
}

int tp_relay_init(struct tp_srv *s)
{
	struct tp_relay_txq *q = calloc(1, sizeof(*q));

	if (!q)
		return -ENOMEM;
	q->arena = malloc(TXQ_ARENA);
	q->rx = malloc((size_t)RX_BATCH * RX_SLOT);
	if (!q->arena || !q->rx) {
		free(q->arena);
		free(q->rx);
		free(q);
		return -ENOMEM;
	}
	event_assign(&q->ev, s->base, -1, 0, flush_cb, s);
	s->txq = q;
	return 0;
}

void tp_relay_fini(struct tp_srv *s)
{
	struct tp_relay_txq *q = s->txq;

	if (!q)
		return;
	tp_relay_flush(s);
	event_del(&q->ev);
	free(q->arena);
	free(q->rx);
	free(q);
	s->txq = NULL;
}

size_t tp_relay_io_size(void)
{
	return sizeof(struct tp_relay_io);
}

int tp_relay_open(struct tp_alloc *a, unsigned i, const struct tp_addr *addr)
{
	struct tp_relay_io *r;
	int one = 1, fd;

	fd = tp_sock_bind(addr, SOCK_DGRAM, 0, NULL);
	if (fd < 0)
		return fd;
	r = tp_slab_alloc(a->s->sh->relay_slab);
	if (!r) {
		close(fd);
		return -ENOMEM;
	}
	tp_sock_buffers(fd, (int)a->s->conf->relay_rcvbuf, (int)a->s->conf->relay_sndbuf, NULL,
	                NULL);
	/* ICMP errors from peers are read from the error queue (RFC 8656 §11.5) */
	if (addr->family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one));
	else
		(void)setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	r->a = a;
	r->fd = fd;
	r->addr = *addr;
	r->df = false;
	r->ovfl = 0;
	event_assign(&r->ev, a->s->base, fd, EV_READ | EV_PERSIST, relay_readable, r);
	event_add(&r->ev, NULL);
	a->relay[i].io = r;
	return 0;
}

void tp_relay_move(struct tp_alloc *a, unsigned i, bool attach)
{
	struct tp_relay_io *r = a->relay[i].io;

	if (!r)
		return;
	if (attach) {
		event_assign(&r->ev, a->s->base, r->fd, EV_READ | EV_PERSIST, relay_readable, r);
		event_add(&r->ev, NULL);
	} else {
		tp_relay_flush(a->s);   /* what is queued leaves from the old loop */
		event_del(&r->ev);
	}
}

void tp_relay_close(struct tp_alloc *a, unsigned i)
{
	struct tp_relay_io *r = a->relay[i].io;

	if (!r)
		return;
	tp_relay_flush(a->s);
	event_del(&r->ev);
	close(r->fd);
	tp_slab_free(a->s->sh->relay_slab, r);
	a->relay[i].io = NULL;
}

/* Toggle the DF bit only when it changes (RFC 8656 §11: DONT-FRAGMENT). */
static void set_df(struct tp_relay_io *r, bool df)
{
	int v;

	if (r->df == df)
		return;
	if (r->addr.family == AF_INET6) {
		v = df ? 1 : 0;
		(void)setsockopt(r->fd, IPPROTO_IPV6, IPV6_DONTFRAG, &v, sizeof(v));
	} else {
		v = df ? IP_PMTUDISC_DO : IP_PMTUDISC_DONT;
		(void)setsockopt(r->fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v));
	}
	r->df = df;
}

int tp_relay_send(struct tp_alloc *a, const struct tp_addr *peer, const uint8_t *data,
                  size_t len, bool df)
{
	struct tp_relay *rl = tp_alloc_relay_for(a, peer);
	struct tp_relay_io *r = rl ? rl->io : NULL;
	struct tp_relay_txq *q = a->s->txq;
	struct sockaddr_storage ss;
	unsigned sl;

	if (!r)
		return -EAFNOSUPPORT; /* no UDP socket of that family (or a TCP allocation) */
	if (!df && !r->df && len <= TXQ_ARENA) {
		unsigned i;

		if (q->n == TXQ_LEN || q->used + len > TXQ_ARENA)
			tp_relay_flush(a->s);
		i = q->n++;
		q->r[i] = r;
		memcpy(q->arena + q->used, data, len);
		q->iov[i].iov_base = q->arena + q->used;
		q->iov[i].iov_len = len;
		q->used += (len + 15) & ~(size_t)15;
		q->tolen[i] = tp_addr_to_sa(peer, &q->to[i]);
		if (!q->pending) {
			q->pending = true;
			event_active(&q->ev, EV_TIMEOUT, 0);
		}
		return 0;
	}
	/* DONT-FRAGMENT (or a socket still in DF mode): the socket option applies
	 * to what the socket sends next, so send what is queued first */
	tp_relay_flush(a->s);
	set_df(r, df);
	sl = tp_addr_to_sa(peer, &ss);
	if (sendto(r->fd, data, len, 0, (struct sockaddr *)&ss, sl) < 0) {
		int err = errno;

		/* ENETUNREACH, EHOSTUNREACH, ECONNREFUSED (an earlier ICMP), EMSGSIZE:
		 * count it; the allocation and its other peers carry on. */
		a->send_errors++;
		a->s->stats.send_errors++;
		if (err == EAGAIN || err == ENOBUFS)
			a->s->stats.drop_too_big++;
		return -err;
	}
	a->tx_pkts++;
	a->tx_bytes += len;
	a->s->stats.relay_pkts[TP_SD_TO_PEER][a->ft.transport]++;
	a->s->stats.relay_bytes[TP_SD_TO_PEER][a->ft.transport] += len;
	return 0;
}

/*
 * Transaction IDs for Data indications: random (RFC 8489 §6), drawn from a
 * per-thread pool refilled from libsodium 4 KB at a time, rather than one
 * getrandom() system call per relayed datagram.
 */
static void random_tid(uint8_t tid[TP_STUN_TID_LEN])
{
	static _Thread_local uint8_t pool[4092];
	static _Thread_local size_t pos = sizeof(pool);

	if (pos + TP_STUN_TID_LEN > sizeof(pool)) {
		randombytes_buf(pool, sizeof(pool));
		pos = 0;
	}
	memcpy(tid, pool + pos, TP_STUN_TID_LEN);
	pos += TP_STUN_TID_LEN;
}

/*
 * Write a Data indication prefix (header, XOR-PEER-ADDRESS, DATA header) that
 * ends exactly at data, pad the data, and return where the message starts and
 * its length. With icmp, no DATA attribute: an ICMP attribute instead.
 */
static uint8_t *data_indication(const struct tp_addr *peer, uint8_t *data, size_t len,
                                const struct tp_icmp *icmp, size_t *out_len)
{
	uint8_t pre[TP_RELAY_HEADROOM];
	uint8_t tid[TP_STUN_TID_LEN];
	struct tp_stun_wr w;
	size_t plen, pad = (4 - (len & 3)) & 3, total;
	uint8_t *start;

	random_tid(tid);
	tp_stun_wr_init(&w, pre, sizeof(pre), TP_METHOD_DATA, TP_CLASS_INDICATION, tid);
	tp_stun_put_addr(&w, TP_ATTR_XOR_PEER_ADDRESS, peer);
	if (icmp) {
		tp_stun_put_icmp(&w, icmp);
		long n = tp_stun_wr_finish(&w);

		if (n < 0)
			return NULL;
		start = data - n;
		memcpy(start, pre, (size_t)n);
		*out_len = (size_t)n;
		return start;
	}
	if (tp_stun_wr_finish(&w) < 0 || w.len + 4 > sizeof(pre))
		return NULL;
	plen = w.len + 4;
	/* the message length is 16 bits: a peer datagram near 64 KB (legal over
	 * IPv6 and with fragmentation) cannot be framed; letting the length wrap
	 * would hand a stream client attacker-chosen frames */
	if (len > 0xFFFF || plen + len + pad - TP_STUN_HDR_LEN > 0xFFFF)
		return NULL;
	pre[w.len] = (uint8_t)(TP_ATTR_DATA >> 8);
	pre[w.len + 1] = (uint8_t)TP_ATTR_DATA;
	pre[w.len + 2] = (uint8_t)(len >> 8);
	pre[w.len + 3] = (uint8_t)len;
	total = plen + len + pad;
	pre[2] = (uint8_t)((total - TP_STUN_HDR_LEN) >> 8);
	pre[3] = (uint8_t)(total - TP_STUN_HDR_LEN);
	start = data - plen;
	memcpy(start, pre, plen);
	memset(data + len, 0, pad);
	*out_len = total;
	return start;
}

static void to_client(struct tp_alloc *a, const struct tp_addr *peer, uint8_t *data,
                      size_t len)
{
	const struct tp_chan *ch = tp_chans_by_peer(&a->chans, peer, tp_now(a->s));
	struct tp_sink *sink = a->sink;
	uint8_t *msg;
	size_t mlen;

	if (ch) {
		size_t pad = sink->stream ? (4 - (len & 3)) & 3 : 0;

		if (len > 0xFFFF) {             /* the ChannelData length is 16 bits */
			a->s->stats.drop_too_big++;
			return;
		}
		msg = data - TP_CHAN_HDR_LEN;
		tp_chan_put_header(msg, ch->num, (uint16_t)len);
		memset(data + len, 0, pad);
		mlen = TP_CHAN_HDR_LEN + len + pad;
	} else {
		msg = data_indication(peer, data, len, NULL, &mlen);
		if (!msg) {
			a->s->stats.drop_too_big++;
			return;
		}
	}
	if (sink->send(sink, &a->ft.local, &a->ft.client, msg, mlen) == 0) {
		a->rx_pkts++;
		a->rx_bytes += len;
		a->s->stats.relay_pkts[TP_SD_TO_CLIENT][a->ft.transport]++;
		a->s->stats.relay_bytes[TP_SD_TO_CLIENT][a->ft.transport] += len;
	}
}

/* RFC 8656 §11.5: ICMPv4 types 3 and 11, ICMPv6 types 1, 2 and 3 are passed on. */
static void drain_errors(struct tp_relay_io *r)
{
	struct tp_alloc *a = r->a;
	uint8_t ctl[512], dummy[64];

	for (int i = 0; i < READ_BUDGET; i++) {
		struct sockaddr_storage ss;
		struct iovec iov = { dummy, sizeof(dummy) };
		struct msghdr mh = { .msg_name = &ss, .msg_namelen = sizeof(ss),
		                     .msg_iov = &iov, .msg_iovlen = 1,
		                     .msg_control = ctl, .msg_controllen = sizeof(ctl) };

		if (recvmsg(r->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			struct sock_extended_err ee;
			struct tp_addr peer;
			struct tp_icmp icmp;
			bool v6 = cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_RECVERR;
			bool v4 = cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_RECVERR;

			if (!v4 && !v6)
				continue;
			memcpy(&ee, CMSG_DATA(cm), sizeof(ee));
			if (ee.ee_origin != SO_EE_ORIGIN_ICMP && ee.ee_origin != SO_EE_ORIGIN_ICMP6)
				continue;
			if (tp_addr_from_sa(&peer, (struct sockaddr *)&ss) != 0)
				continue;
			a->icmp_rx++;
			a->s->stats.icmp_rx++;
			if (v4 ? (ee.ee_type != 3 && ee.ee_type != 11)
			       : (ee.ee_type < 1 || ee.ee_type > 3))
				continue;
			if (!tp_perms_ok(&a->perms, &peer, tp_now(a->s)))
				continue;
			icmp.type = ee.ee_type;
			icmp.code = ee.ee_code;
			/* error data: the next-hop MTU for "fragmentation needed" and
			 * "packet too big", else zero (RFC 8656 §18.13) */
			icmp.data = ((v4 && ee.ee_type == 3 && ee.ee_code == 4) ||
			             (v6 && ee.ee_type == 2)) ? ee.ee_info : 0;

			uint8_t *data = a->s->txq->icmp + TP_RELAY_HEADROOM;
			size_t mlen;
			uint8_t *msg = data_indication(&peer, data, 0, &icmp, &mlen);

			if (msg)
				a->sink->send(a->sink, &a->ft.local, &a->ft.client, msg, mlen);
		}
	}
}

static void relay_readable(evutil_socket_t fd, short ev, void *arg)
{
	struct tp_relay_io *r = arg;
	struct tp_alloc *a = r->a;
	struct tp_srv *s = a->s;
	uint8_t *rx = s->txq->rx;
	struct mmsghdr mm[RX_BATCH];
	struct iovec iov[RX_BATCH];
	struct sockaddr_storage ss[RX_BATCH];
	union {
		struct cmsghdr align;
		uint8_t b[TP_SOCK_OVFL_SPACE];
	} ctl[RX_BATCH];

	(void)ev;
	for (int b = 0; b < READ_BUDGET / RX_BATCH; b++) {
		int n;

		for (int i = 0; i < RX_BATCH; i++) {
			/* room in front for the headers, and 3 bytes of padding after */
			iov[i].iov_base = rx + (size_t)i * RX_SLOT + TP_RELAY_HEADROOM;
			iov[i].iov_len = RX_SLOT - TP_RELAY_HEADROOM - 4;
			mm[i].msg_hdr = (struct msghdr){ .msg_name = &ss[i],
			                                 .msg_namelen = sizeof(ss[i]),
			                                 .msg_iov = &iov[i], .msg_iovlen = 1,
			                                 .msg_control = ctl[i].b,
			                                 .msg_controllen = sizeof(ctl[i].b) };
		}
		n = recvmmsg(fd, mm, RX_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			/* a pending ICMP error surfaced as ECONNREFUSED & co */
			drain_errors(r);
			continue;
		}
		for (int i = 0; i < n; i++) {
			struct tp_addr peer;
			long drops = mm[i].msg_hdr.msg_controllen ? tp_sock_drops(&mm[i].msg_hdr) : -1;

			if (drops >= 0) {
				/* peer datagrams the kernel dropped (relay-rcvbuf full) */
				s->stats.kernel_drops += (uint32_t)((uint32_t)drops - r->ovfl);
				r->ovfl = (uint32_t)drops;
			}
			if (tp_addr_from_sa(&peer, (struct sockaddr *)&ss[i]) != 0)
				continue;
			if (!tp_perms_ok(&a->perms, &peer, tp_now(s))) {
				s->stats.drop_no_perm++;
				continue;
			}
			if (!tp_alloc_bw_take(a, s->conf, TP_SD_TO_CLIENT, mm[i].msg_len,
			                      tp_now_ms(s))) {
				s->stats.drop_bandwidth++;
				continue;
			}
			a->from_peer_pkts++;
			a->from_peer_bytes += mm[i].msg_len;
			to_client(a, &peer, iov[i].iov_base, mm[i].msg_len);
		}
		if (n < RX_BATCH)
			break;
	}
}
