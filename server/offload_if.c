/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * offload_if.c - interfaces and routes for the kernel offload: getifaddrs for
 * the interfaces and their addresses, SIOCGIFMTU for MTUs, one rtnetlink
 * RTM_GETROUTE per lookup for the egress interface of a destination.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "offload_if.h"

static size_t ip_len(uint16_t family)
{
	return family == AF_INET ? 4 : 16;
}

void tp_ofl_addr_normalize(struct tp_addr *a)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (a->family == AF_INET6 && memcmp(a->ip, mapped, 12) == 0) {
		memmove(a->ip, a->ip + 12, 4);
		memset(a->ip + 4, 0, 12);
		a->family = AF_INET;
	}
}

bool tp_ofl_addr_is_any(const struct tp_addr *a)
{
	static const uint8_t zero[16];

	return memcmp(a->ip, zero, ip_len(a->family)) == 0;
}

static unsigned if_mtu(int sock, const char *name)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (sock < 0 || ioctl(sock, SIOCGIFMTU, &ifr) != 0 || ifr.ifr_mtu <= 0)
		return 1500;
	return (unsigned)ifr.ifr_mtu;
}

static struct tp_ofl_iface *slot(struct tp_ofl_ifs *t, int ifindex, const char *name)
{
	struct tp_ofl_iface *f;

	for (size_t i = 0; i < t->nifs; i++)
		if (t->ifs[i].ifindex == ifindex)
			return &t->ifs[i];
	if (t->nifs == TP_OFL_MAX_IFACES)
		return NULL;
	f = &t->ifs[t->nifs++];
	memset(f, 0, sizeof(*f));
	f->ifindex = ifindex;
	f->mtu = 1500;
	snprintf(f->name, sizeof(f->name), "%s", name);
	return f;
}

int tp_ofl_if_scan(struct tp_ofl_ifs *t)
{
	struct ifaddrs *ifa = NULL;
	int sock;

	if (getifaddrs(&ifa) != 0)
		return -errno;
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	t->nifs = 0;
	t->naddrs = 0;
	for (struct ifaddrs *p = ifa; p; p = p->ifa_next) {
		struct tp_ofl_iface *f;
		int idx;

		if (!p->ifa_addr || !p->ifa_name)
			continue;
		idx = (int)if_nametoindex(p->ifa_name);
		if (idx <= 0 || !(f = slot(t, idx, p->ifa_name)))
			continue;
		f->up = p->ifa_flags & IFF_UP;
		f->loopback = p->ifa_flags & IFF_LOOPBACK;
		if (p->ifa_addr->sa_family == AF_PACKET) {
			const struct sockaddr_ll *ll = (const void *)p->ifa_addr;

			f->ether = ll->sll_hatype == ARPHRD_ETHER;
			f->mtu = if_mtu(sock, p->ifa_name);
			continue;
		}
		if ((p->ifa_addr->sa_family != AF_INET && p->ifa_addr->sa_family != AF_INET6) ||
		    t->naddrs == TP_OFL_MAX_ADDRS)
			continue;
		struct tp_ofl_ifaddr *ia = &t->addrs[t->naddrs++];
		struct tp_addr a;

		tp_addr_from_sa(&a, p->ifa_addr);
		ia->family = a.family;
		memcpy(ia->ip, a.ip, 16);
		ia->ifindex = idx;
	}
	if (sock >= 0)
		close(sock);
	freeifaddrs(ifa);
	return 0;
}

const struct tp_ofl_iface *tp_ofl_if_get(const struct tp_ofl_ifs *t, int ifindex)
{
	for (size_t i = 0; i < t->nifs; i++)
		if (t->ifs[i].ifindex == ifindex)
			return &t->ifs[i];
	return NULL;
}

int tp_ofl_if_of_addr(const struct tp_ofl_ifs *t, const struct tp_addr *a)
{
	for (size_t i = 0; i < t->naddrs; i++)
		if (t->addrs[i].family == a->family &&
		    memcmp(t->addrs[i].ip, a->ip, ip_len(a->family)) == 0)
			return t->addrs[i].ifindex;
	return 0;
}

static void put_attr(struct nlmsghdr *nh, size_t cap, unsigned short type, const void *v,
                     size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));

	if (NLMSG_ALIGN(nh->nlmsg_len) + RTA_SPACE(len) > cap)
		return;
	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), v, len);
	nh->nlmsg_len = (unsigned)(NLMSG_ALIGN(nh->nlmsg_len) + RTA_SPACE(len));
}

int tp_ofl_route_oif(const struct tp_addr *src, const struct tp_addr *dst)
{
	struct {
		struct nlmsghdr nh;
		struct rtmsg rt;
		char attrs[64];
	} req;
	union {
		struct nlmsghdr nh;
		char b[4096];
	} resp;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { 1, 0 };
	size_t al = ip_len(dst->family);
	int fd, oif = -ENETUNREACH;
	ssize_t n;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	req.nh.nlmsg_type = RTM_GETROUTE;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.nh.nlmsg_seq = 1;
	req.rt.rtm_family = (unsigned char)dst->family;
	req.rt.rtm_dst_len = (unsigned char)(8 * al);
	put_attr(&req.nh, sizeof(req), RTA_DST, dst->ip, al);
	if (src && src->family == dst->family && !tp_ofl_addr_is_any(src)) {
		req.rt.rtm_src_len = (unsigned char)(8 * al);
		put_attr(&req.nh, sizeof(req), RTA_SRC, src->ip, al);
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		oif = -errno;
		goto out;
	}
	n = recv(fd, &resp, sizeof(resp), 0);
	if (n < 0) {
		oif = -errno;
		goto out;
	}
	for (struct nlmsghdr *h = &resp.nh; NLMSG_OK(h, (unsigned)n); h = NLMSG_NEXT(h, n)) {
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			oif = e->error ? e->error : -ENETUNREACH;
			break;
		}
		if (h->nlmsg_type != RTM_NEWROUTE)
			continue;
		struct rtmsg *rt = NLMSG_DATA(h);
		int len = (int)RTM_PAYLOAD(h);

		for (struct rtattr *a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len))
			if (a->rta_type == RTA_OIF && RTA_PAYLOAD(a) >= sizeof(int))
				memcpy(&oif, RTA_DATA(a), sizeof(int));
		break;
	}
out:
	close(fd);
	return oif;
}
