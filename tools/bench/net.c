/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net.c - clock, loopback sockets and source addresses for the bench.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define SOCK_BUF (4 << 20)

uint64_t tp_bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void tp_bench_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void tp_bench_src_addr(struct sockaddr_in *sa, uint8_t block, uint32_t i, uint16_t port)
{
	uint32_t y = 1 + i % 254, x = (i / 254) % 256, b = block + i / (254 * 256);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port);
	sa->sin_addr.s_addr = htonl(0x7f000000u | ((b & 0xff) << 16) | (x << 8) | y);
}

static void big_buffers(int fd)
{
	int sz = SOCK_BUF;

	/* root may exceed rmem_max; otherwise take what the kernel allows */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
}

int tp_bench_udp(const struct sockaddr_in *src, const struct sockaddr_in *dst)
{
	struct sockaddr_in any = { .sin_family = AF_INET };
	int fd, err;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (!src) {
		any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		src = &any;
	}
	if (bind(fd, (const struct sockaddr *)src, sizeof(*src)) != 0)
		goto fail;
	if (dst && connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) != 0)
		goto fail;
	big_buffers(fd);
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

int tp_bench_local_port(int fd)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);

	if (getsockname(fd, (struct sockaddr *)&sa, &sl) != 0)
		return -errno;
	return ntohs(sa.sin_port);
}

int tp_bench_free_port(void)
{
	int fd = tp_bench_udp(NULL, NULL), port;

	if (fd < 0)
		return fd;
	port = tp_bench_local_port(fd);
	close(fd);
	return port;
}
