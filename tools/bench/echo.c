/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * echo.c - UDP echo peers on 127.0.0.2, 127.0.0.3, ...: one thread answers
 * every datagram to its source (the server's relay address), in batches.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#define BATCH 64

struct tp_echo_priv {
	pthread_t th;
	atomic_bool stop;
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in from[BATCH];
	uint8_t buf[BATCH][2048];
};

static void echo_once(struct tp_echo_priv *p, int fd)
{
	int n;

	for (int i = 0; i < BATCH; i++) {
		p->iov[i].iov_base = p->buf[i];
		p->iov[i].iov_len = sizeof(p->buf[i]);
		memset(&p->msg[i].msg_hdr, 0, sizeof(p->msg[i].msg_hdr));
		p->msg[i].msg_hdr.msg_iov = &p->iov[i];
		p->msg[i].msg_hdr.msg_iovlen = 1;
		p->msg[i].msg_hdr.msg_name = &p->from[i];
		p->msg[i].msg_hdr.msg_namelen = sizeof(p->from[i]);
	}
	n = recvmmsg(fd, p->msg, BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return;
	for (int i = 0; i < n; i++)
		p->iov[i].iov_len = p->msg[i].msg_len;
	(void)sendmmsg(fd, p->msg, (unsigned)n, MSG_DONTWAIT);
}

static void *echo_main(void *arg)
{
	struct tp_echo *e = arg;
	struct tp_echo_priv *p = e->priv;
	struct pollfd pfd[16];

	for (unsigned i = 0; i < e->n; i++)
		pfd[i] = (struct pollfd){ e->fd[i], POLLIN, 0 };
	while (!atomic_load(&p->stop)) {
		if (poll(pfd, e->n, 50) <= 0)
			continue;
		for (unsigned i = 0; i < e->n; i++)
			if (pfd[i].revents & POLLIN)
				echo_once(p, e->fd[i]);
	}
	return NULL;
}

int tp_echo_start(struct tp_echo *e, unsigned n)
{
	int err;

	memset(e, 0, sizeof(*e));
	if (n == 0 || n > 16)
		return -EINVAL;
	e->priv = calloc(1, sizeof(*e->priv));
	if (!e->priv)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET };

		sa.sin_addr.s_addr = htonl(0x7f000002u + i);
		e->fd[i] = tp_bench_udp(&sa, NULL);
		if (e->fd[i] < 0) {
			err = e->fd[i];
			goto fail;
		}
		e->n++;
		sa.sin_port = htons((uint16_t)tp_bench_local_port(e->fd[i]));
		tp_addr_from_sa(&e->addr[i], (struct sockaddr *)&sa);
	}
	err = -pthread_create(&e->priv->th, NULL, echo_main, e);
	if (err == 0)
		return 0;
fail:
	for (unsigned i = 0; i < e->n; i++)
		close(e->fd[i]);
	free(e->priv);
	e->priv = NULL;
	e->n = 0;
	return err;
}

void tp_echo_stop(struct tp_echo *e)
{
	if (!e->priv)
		return;
	atomic_store(&e->priv->stop, true);
	pthread_join(e->priv->th, NULL);
	for (unsigned i = 0; i < e->n; i++)
		close(e->fd[i]);
	free(e->priv);
	e->priv = NULL;
}
