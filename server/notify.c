/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * notify.c - sd_notify(3) without libsystemd (see notify.h).
 *
 * The protocol is one SOCK_DGRAM datagram per state change to the socket
 * $NOTIFY_SOCKET names: "/path" is a filesystem socket, "@name" the Linux
 * abstract namespace (the '@' becomes the leading NUL, and the address length
 * covers the name only, without a trailing NUL). systemd identifies the sender
 * by the datagram's peer credentials, so nothing else needs to be attached.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "notify.h"

/* $NOTIFY_SOCKET as an address. 1: filled in; 0: unset; or -errno. */
static int notify_addr(struct sockaddr_un *sun, socklen_t *len)
{
	const char *e = getenv("NOTIFY_SOCKET");
	size_t n;

	if (!e || !*e)
		return 0;
	if (e[0] != '/' && e[0] != '@')
		return strchr(e, ':') ? -EAFNOSUPPORT : -EINVAL;
	n = strlen(e);
	if (n < 2)
		return -EINVAL;
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (e[0] == '/') {
		if (n >= sizeof(sun->sun_path))   /* room for the NUL */
			return -ENAMETOOLONG;
		memcpy(sun->sun_path, e, n + 1);
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	} else {
		if (n > sizeof(sun->sun_path))
			return -ENAMETOOLONG;
		sun->sun_path[0] = '\0';
		memcpy(sun->sun_path + 1, e + 1, n - 1);
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	}
	return 1;
}

int tp_notify(const char *state)
{
	struct sockaddr_un sun;
	socklen_t len = 0;
	size_t n = state ? strlen(state) : 0;
	int fd = -1, r;

	r = notify_addr(&sun, &len);
	if (r <= 0)
		return r;
	if (n == 0)
		return -EINVAL;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = 0;
	if (sendto(fd, state, n, MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *)&sun, len) < 0)
		r = -errno;
	close(fd);
	return r;
}

int tp_notifyf(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -EINVAL;
	return tp_notify(buf);
}

int tp_notify_reloading(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return -errno;
	return tp_notifyf("RELOADING=1\nMONOTONIC_USEC=%llu",
	                  (unsigned long long)ts.tv_sec * 1000000ull +
	                  (unsigned long long)ts.tv_nsec / 1000ull);
}
