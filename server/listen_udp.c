/*
 * listen_udp.c - UDP listeners.
 *
 * A wildcard listener learns each datagram's destination address (IP_PKTINFO /
 * IPV6_RECVPKTINFO) so the 5-tuple is exact and replies leave from the address
 * the client used. Reads are bounded per wakeup.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "listen_udp.h"

#define READ_BUDGET 64

struct tp_udp_listener {
	struct tp_sink sink;       /* first: the sink is the listener */
	struct tp_srv *s;          /* borrowed */
	struct event ev;
	struct tp_addr addr;
	bool wildcard;
	int fd;
};

static bool is_wildcard(const struct tp_addr *a)
{
	static const uint8_t zero[16];

	return memcmp(a->ip, zero, a->family == AF_INET6 ? 16 : 4) == 0;
}

static int udp_send(struct tp_sink *sink, const struct tp_addr *local, const struct tp_addr *to,
                    const uint8_t *buf, size_t len)
{
	struct tp_udp_listener *l = (struct tp_udp_listener *)sink;
	struct sockaddr_storage ss;
	union {
		struct cmsghdr align;
		uint8_t b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} ctl;
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_name = &ss, .msg_iov = &iov, .msg_iovlen = 1 };

	mh.msg_namelen = tp_addr_to_sa(to, &ss);
	if (l->wildcard && local && local->family == l->addr.family) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.b;
		struct cmsghdr *cm;

		if (local->family == AF_INET) {
			struct in_pktinfo pi = { 0 };

			mh.msg_controllen = CMSG_SPACE(sizeof(pi));
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = IPPROTO_IP;
			cm->cmsg_type = IP_PKTINFO;
			cm->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(&pi.ipi_spec_dst, local->ip, 4);
			memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		} else {
			struct in6_pktinfo pi = { 0 };

			mh.msg_controllen = CMSG_SPACE(sizeof(pi));
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = IPPROTO_IPV6;
			cm->cmsg_type = IPV6_PKTINFO;
			cm->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(&pi.ipi6_addr, local->ip, 16);
			memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		}
	}
	if (sendmsg(l->fd, &mh, MSG_DONTWAIT) < 0)
		return -errno;
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

	(void)ev;
	for (int i = 0; i < READ_BUDGET; i++) {
		struct sockaddr_storage ss;
		uint8_t ctl[CMSG_SPACE(sizeof(struct in6_pktinfo)) + 64];
		struct iovec iov = { s->rxbuf, sizeof(s->rxbuf) };
		struct msghdr mh = { .msg_name = &ss, .msg_namelen = sizeof(ss), .msg_iov = &iov,
		                     .msg_iovlen = 1, .msg_control = ctl,
		                     .msg_controllen = sizeof(ctl) };
		struct tp_5tuple ft = { .transport = TP_LISTEN_UDP };
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (mh.msg_flags & MSG_TRUNC) {
			s->stats.drop_too_big++;
			continue;
		}
		if (tp_addr_from_sa(&ft.client, (struct sockaddr *)&ss) != 0)
			continue;
		local_from_cmsg(l, &mh, &ft.local);
		tp_dispatch(s, &l->sink, &ft, s->rxbuf, (size_t)n);
	}
}

int tp_udp_listen(struct tp_srv *s, const struct tp_addr *addr, struct tp_udp_listener **out)
{
	struct tp_udp_listener *l;
	struct sockaddr_storage ss;
	int one = 1, fd, err;
	unsigned sl;

	fd = socket(addr->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (addr->family == AF_INET6) {
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	} else {
		(void)setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	}
	sl = tp_addr_to_sa(addr, &ss);
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0) {
		err = -errno;
		close(fd);
		return err;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		close(fd);
		return -ENOMEM;
	}
	l->sink.send = udp_send;
	l->sink.transport = TP_LISTEN_UDP;
	l->s = s;
	l->fd = fd;
	l->addr = *addr;
	l->wildcard = is_wildcard(addr);
	if (addr->port == 0) {
		/* report the port the kernel chose (tests listen on port 0) */
		socklen_t len = sizeof(ss);

		if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
			tp_addr_from_sa(&l->addr, (struct sockaddr *)&ss);
	}
	event_assign(&l->ev, s->base, fd, EV_READ | EV_PERSIST, udp_readable, l);
	event_add(&l->ev, NULL);
	*out = l;
	return 0;
}

void tp_udp_close(struct tp_udp_listener *l)
{
	if (!l)
		return;
	event_del(&l->ev);
	close(l->fd);
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
