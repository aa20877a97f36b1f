/*
 * sock.c - bound sockets for listeners and relays.
 */
#include <errno.h>
#include <netinet/in.h>
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
