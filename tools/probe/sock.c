/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sock.c - UDP sockets, local interfaces and name resolution for the probe.
 */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe.h"

const char *probe_family_name(uint16_t family)
{
	return family == AF_INET6 ? "ipv6" : "ipv4";
}

bool probe_is_loopback(const struct tp_addr *a)
{
	static const uint8_t v6lo[16] = { [15] = 1 };

	if (a->family == AF_INET)
		return a->ip[0] == 127;
	return a->family == AF_INET6 && memcmp(a->ip, v6lo, 16) == 0;
}

static bool is_v6_linklocal(const struct tp_addr *a)
{
	return a->family == AF_INET6 && a->ip[0] == 0xfe && (a->ip[1] & 0xc0) == 0x80;
}

size_t probe_ifaces(uint16_t family, bool server_loopback, struct probe_if *out, size_t cap)
{
	struct ifaddrs *ifa = NULL;
	size_t n = 0;

	if (getifaddrs(&ifa) != 0)
		return 0;
	for (struct ifaddrs *i = ifa; i && n < cap; i = i->ifa_next) {
		struct tp_addr a;

		if (!i->ifa_addr || i->ifa_addr->sa_family != family || !(i->ifa_flags & IFF_UP))
			continue;
		if (tp_addr_from_sa(&a, i->ifa_addr) != 0)
			continue;
		a.port = 0;
		if (probe_is_loopback(&a) != server_loopback || is_v6_linklocal(&a))
			continue;
		snprintf(out[n].name, sizeof(out[n].name), "%s", i->ifa_name);
		out[n++].addr = a;
	}
	freeifaddrs(ifa);
	return n;
}

int probe_resolve(const char *spec, uint16_t def_port, struct tp_addr *out, size_t cap,
                  char *host, size_t hostcap)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res = NULL;
	char h[256], *colon;
	unsigned long port = def_port;
	size_t n = 0;
	int rc;

	/* A literal first: "1.2.3.4[:p]", "::1", "[::1]:p". */
	if (tp_addr_parse(&out[0], spec, def_port) == 0) {
		tp_addr_fmt(&out[0], host, hostcap);
		if (strrchr(host, ':'))
			*strrchr(host, ':') = '\0';
		return 1;
	}
	snprintf(h, sizeof(h), "%s", spec);
	colon = strchr(h, ':');
	if (colon) {
		char *end;

		*colon = '\0';
		port = strtoul(colon + 1, &end, 10);
		if (*end || port == 0 || port > 65535)
			return -EINVAL;
	}
	snprintf(host, hostcap, "%s", h);
	rc = getaddrinfo(h, NULL, &hints, &res);
	if (rc != 0)
		return -EHOSTUNREACH;
	for (int fam = 0; fam < 2; fam++) {
		for (struct addrinfo *ai = res; ai && n < cap; ai = ai->ai_next) {
			struct tp_addr a;
			bool dup = false;

			if (ai->ai_family != (fam ? AF_INET6 : AF_INET) ||
			    tp_addr_from_sa(&a, ai->ai_addr) != 0)
				continue;
			a.port = (uint16_t)port;
			for (size_t k = 0; k < n; k++)
				dup |= tp_addr_eq(&out[k], &a);
			if (!dup)
				out[n++] = a;
		}
	}
	freeaddrinfo(res);
	return n ? (int)n : -EHOSTUNREACH;
}

int probe_udp_socket(const struct tp_addr *local)
{
	struct sockaddr_storage ss;
	unsigned len = tp_addr_to_sa(local, &ss);
	int fd = socket(local->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

int probe_sockname(int fd, struct tp_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return -errno;
	return tp_addr_from_sa(a, (struct sockaddr *)&ss);
}

int probe_sendto(int fd, const struct tp_addr *to, const void *b, size_t n)
{
	struct sockaddr_storage ss;
	unsigned len = tp_addr_to_sa(to, &ss);

	if (sendto(fd, b, n, 0, (struct sockaddr *)&ss, len) < 0)
		return -errno;
	return 0;
}

long probe_recvfrom(int fd, void *b, size_t cap, struct tp_addr *from, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	ssize_t n;
	int rc;

	rc = poll(&p, 1, ms);
	if (rc < 0)
		return errno == EINTR ? 0 : -errno;
	if (rc == 0)
		return 0;
	n = recvfrom(fd, b, cap, 0, (struct sockaddr *)&ss, &len);
	if (n < 0)
		return (errno == EAGAIN || errno == EINTR) ? 0 : -errno;
	if (from && tp_addr_from_sa(from, (struct sockaddr *)&ss) != 0)
		memset(from, 0, sizeof(*from));
	return n == 0 ? -EAGAIN : (long)n;
}
