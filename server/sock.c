/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sock.c - bound sockets for listeners and relays.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sock.h"

int tp_sock_bind(const struct tp_addr *addr, int type, unsigned flags, struct tp_addr *bound)
{
	struct sockaddr_storage ss;
	unsigned sl = tp_addr_to_sa(addr, &ss);
	int one = 1, fd, err;

	fd = socket(addr->family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (flags & TP_SOCK_REUSEADDR)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (flags & TP_SOCK_REUSEPORT)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (addr->family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 ||
	    ((flags & TP_SOCK_LISTEN) && listen(fd, 1024) != 0))
		goto fail;
	if (bound) {
		socklen_t len = sizeof(ss);

		*bound = *addr;
		if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
			tp_addr_from_sa(bound, (struct sockaddr *)&ss);
	}
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

int tp_sock_probe(const struct tp_addr *addr, int type)
{
	struct sockaddr_storage ss;
	unsigned sl = tp_addr_to_sa(addr, &ss);
	int one = 1, fd, err = 0;

	fd = socket(addr->family, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* no SO_REUSEADDR, no SO_REUSEPORT: any socket on the port is a conflict */
	if (addr->family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0)
		err = -errno;
	close(fd);
	return err;
}

/* ---- buffers and drop counts ---- */

static void one_buffer(int fd, int force_opt, int opt, int size, int *got)
{
	socklen_t len = sizeof(*got);

	if (size > 0 && setsockopt(fd, SOL_SOCKET, force_opt, &size, sizeof(size)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, opt, &size, sizeof(size));
	if (got && getsockopt(fd, SOL_SOCKET, opt, got, &len) != 0)
		*got = -1;
}

void tp_sock_buffers(int fd, int rcv, int snd, int *got_rcv, int *got_snd)
{
	int one = 1;

	one_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, rcv, got_rcv);
	one_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, snd, got_snd);
	(void)setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
}

long tp_sock_sysctl_max(bool rcv)
{
	FILE *f = fopen(rcv ? "/proc/sys/net/core/rmem_max" : "/proc/sys/net/core/wmem_max", "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

long tp_sock_drops(struct msghdr *mh)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(uint32_t))) {
			uint32_t v;

			memcpy(&v, CMSG_DATA(cm), sizeof(v));
			return v;
		}
	return -1;
}

/* ---- batched sends with UDP GSO ---- */

/*
 * The largest segment coalesced: what fits an IPv6 minimum-MTU (1280) packet,
 * so a GSO send is never refused for a segment larger than the path's MTU on
 * ordinary links (WebRTC media and data stay below it); larger datagrams go
 * one by one as before.
 */
#define GSO_MAX_SEG 1232
#define GSO_MAX_SEGS 64           /* UDP_MAX_SEGMENTS of older kernels */
#define GSO_MAX_BYTES 60000       /* below the 64 KB datagram limit with headers */
#define CTL_MAX (CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(uint16_t)))

static _Atomic bool gso_off;

static bool same_target(const struct msghdr *a, const struct msghdr *b)
{
	return a->msg_namelen == b->msg_namelen &&
	       memcmp(a->msg_name, b->msg_name, a->msg_namelen) == 0 &&
	       a->msg_controllen == b->msg_controllen &&
	       (a->msg_controllen == 0 ||
	        memcmp(a->msg_control, b->msg_control, a->msg_controllen) == 0);
}

/* How many datagrams from msg[i] on can leave as one GSO send (1: none). */
static unsigned gso_run(const struct mmsghdr *msg, unsigned i, unsigned n)
{
	const struct msghdr *h = &msg[i].msg_hdr;
	size_t seg = h->msg_iov[0].iov_len, total = seg;
	unsigned k = 1;

	if (gso_off || seg == 0 || seg > GSO_MAX_SEG || h->msg_iovlen != 1 ||
	    h->msg_controllen > CTL_MAX - CMSG_SPACE(sizeof(uint16_t)))
		return 1;
	while (i + k < n && k < GSO_MAX_SEGS) {
		const struct msghdr *o = &msg[i + k].msg_hdr;
		size_t len = o->msg_iov[0].iov_len;

		if (o->msg_iovlen != 1 || o->msg_iov != h->msg_iov + k || len == 0 || len > seg ||
		    total + len > GSO_MAX_BYTES || !same_target(h, o))
			break;
		total += len;
		k++;
		if (len < seg)
			break; /* only the last segment may be shorter */
	}
	return k;
}

static void count(struct tp_sendv_res *r, const struct mmsghdr *msg, unsigned first, unsigned k)
{
	r->sent += k;
	for (unsigned j = first; j < first + k; j++)
		r->bytes += msg[j].msg_hdr.msg_iov[0].iov_len;
}

/* A refused GSO send: its datagrams one by one. */
static void send_each(int fd, struct mmsghdr *msg, unsigned first, unsigned k,
                      struct tp_sendv_res *r)
{
	for (unsigned j = first; j < first + k; j++) {
		ssize_t w;

		do
			w = sendmsg(fd, &msg[j].msg_hdr, MSG_DONTWAIT);
		while (w < 0 && errno == EINTR);
		if (w < 0) {
			r->failed++;
			r->err = errno;
		} else {
			count(r, msg, j, 1);
		}
	}
}

struct tp_sendv_res tp_sock_sendv(int fd, struct mmsghdr *msg, unsigned n)
{
	struct tp_sendv_res r = { 0 };
	struct mmsghdr out[TP_SENDV_MAX];
	unsigned first[TP_SENDV_MAX], segs[TP_SENDV_MAX], nout = 0, done = 0;
	union {
		struct cmsghdr align;
		uint8_t b[CTL_MAX];
	} ctl[TP_SENDV_MAX];

	if (n > TP_SENDV_MAX)
		n = TP_SENDV_MAX;
	for (unsigned i = 0; i < n; i += segs[nout++]) {
		unsigned k = gso_run(msg, i, n);
		struct msghdr *h = &out[nout].msg_hdr;

		first[nout] = i;
		segs[nout] = k;
		*h = msg[i].msg_hdr;
		if (k > 1) {
			struct cmsghdr *cm;
			uint16_t seg = (uint16_t)msg[i].msg_hdr.msg_iov[0].iov_len;

			h->msg_iovlen = k;
			memset(ctl[nout].b, 0, sizeof(ctl[nout].b));
			if (h->msg_controllen)
				memcpy(ctl[nout].b, msg[i].msg_hdr.msg_control, h->msg_controllen);
			cm = (struct cmsghdr *)(ctl[nout].b + h->msg_controllen);
			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof(seg));
			memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
			h->msg_control = ctl[nout].b;
			h->msg_controllen += CMSG_SPACE(sizeof(seg));
		}
	}
	while (done < nout) {
		int m = sendmmsg(fd, out + done, nout - done, MSG_DONTWAIT);

		if (m < 0) {
			int err = errno;

			if (err == EINTR)
				continue;
			if (segs[done] > 1 && err != EAGAIN && err != EWOULDBLOCK && err != ENOBUFS) {
				/* refused as a GSO send (EINVAL: a segment over the path MTU;
				 * EIO: a path that cannot segment, IPsec; ENOPROTOOPT: no
				 * kernel support) or a peer error: one by one decides */
				if (err == ENOPROTOOPT || err == EOPNOTSUPP)
					gso_off = true;
				send_each(fd, msg, first[done], segs[done], &r);
			} else {
				r.failed += segs[done];
				r.err = err;
			}
			done++;
			continue;
		}
		for (int j = 0; j < m; j++) {
			count(&r, msg, first[done + (unsigned)j], segs[done + (unsigned)j]);
			r.gso += segs[done + (unsigned)j] > 1;
		}
		done += (unsigned)m;
	}
	return r;
}
