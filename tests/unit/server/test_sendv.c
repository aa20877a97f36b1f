/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_sendv.c - tp_sock_sendv over real loopback sockets: runs of equal-size
 * datagrams to one destination leave as UDP GSO sends and still arrive as the
 * separate datagrams they were (sizes, contents, order, the shorter last one);
 * a change of destination, of size, or non-adjacent iovecs ends a run; a
 * datagram that cannot be sent is counted and the rest still go.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tp_test.h"
#include "sock.h"

static int udp_bound(struct sockaddr_in *sa)
{
	socklen_t l = sizeof(*sa);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int rcv = 4 << 20;
	struct timeval tv = { 2, 0 };

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(fd, (struct sockaddr *)sa, sizeof(*sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *)sa, &l) != 0)
		return -1;
	return fd;
}

#define N 40

static uint8_t data[N][1300];
static struct iovec iov[N];
static struct mmsghdr mm[N];

static void put(unsigned i, struct sockaddr_in *to, size_t len)
{
	for (size_t k = 0; k < len; k++)
		data[i][k] = (uint8_t)(i * 7 + k);
	iov[i].iov_base = data[i];
	iov[i].iov_len = len;
	mm[i].msg_hdr = (struct msghdr){ .msg_name = to, .msg_namelen = sizeof(*to),
	                                 .msg_iov = &iov[i], .msg_iovlen = 1 };
}

/* Each of want[] arrives at fd as its own datagram, intact, in order. */
static void expect(int fd, const unsigned *want, unsigned n)
{
	uint8_t buf[2000];

	for (unsigned j = 0; j < n; j++) {
		ssize_t r = recv(fd, buf, sizeof(buf), 0);
		unsigned i = want[j];

		CHECK_EQ(r, (ssize_t)iov[i].iov_len);
		if (r != (ssize_t)iov[i].iov_len || memcmp(buf, data[i], (size_t)r) != 0) {
			CHECK(!"datagram intact");
			return;
		}
	}
}

int main(void)
{
	struct sockaddr_in a, b, s;
	int fa = udp_bound(&a), fb = udp_bound(&b), fs = udp_bound(&s);
	struct tp_sendv_res r;
	unsigned wa[N], wb[N], na = 0, nb = 0;

	CHECK(fa >= 0 && fb >= 0 && fs >= 0);

	/* 20 x 1000 B and a shorter last one to a, then 3 x 1200 B to b, then a
	 * run to a broken by a size change, 2 over the cap (1300 B: one by one) */
	for (unsigned i = 0; i < 20; i++)
		put(i, &a, 1000), wa[na++] = i;
	put(20, &a, 333), wa[na++] = 20;
	for (unsigned i = 21; i < 24; i++)
		put(i, &b, 1200), wb[nb++] = i;
	put(24, &a, 500), wa[na++] = 24;
	put(25, &a, 600), wa[na++] = 25; /* larger than the run's size: a new run */
	put(26, &a, 600), wa[na++] = 26;
	put(27, &b, 1300), wb[nb++] = 27;
	put(28, &b, 1300), wb[nb++] = 28;
	r = tp_sock_sendv(fs, mm, 29);
	CHECK_EQ(r.sent, 29);
	CHECK_EQ(r.failed, 0);
	CHECK_EQ(r.bytes, (size_t)(20 * 1000 + 333 + 3 * 1200 + 500 + 2 * 600 + 2 * 1300));
	CHECK(r.gso >= 3); /* a: 21 in one, b: 3 in one, a: 600+600 */
	expect(fa, wa, na);
	expect(fb, wb, nb);

	/* iovecs that are not adjacent do not coalesce, and still arrive */
	{
		struct iovec sep[6];
		struct mmsghdr m3[3];
		unsigned w3[3] = { 30, 31, 32 };

		for (unsigned i = 0; i < 3; i++) {
			put(30 + i, &a, 800);
			sep[2 * i] = iov[30 + i];
			m3[i] = mm[30 + i];
			m3[i].msg_hdr.msg_iov = &sep[2 * i];
		}
		r = tp_sock_sendv(fs, m3, 3);
		CHECK_EQ(r.sent, 3);
		CHECK_EQ(r.gso, 0);
		expect(fa, w3, 3);
	}

	/* a destination that cannot be reached: counted, the others still go */
	{
		struct sockaddr_in bad = a;
		unsigned w2[2] = { 33, 35 };

		bad.sin_port = 0; /* UDP to port 0: EINVAL */
		put(33, &a, 100);
		put(34, &bad, 100);
		put(35, &a, 100);
		r = tp_sock_sendv(fs, mm + 33, 3);
		CHECK_EQ(r.sent, 2);
		CHECK_EQ(r.failed, 1);
		expect(fa, w2, 2);
	}
	close(fa);
	close(fb);
	close(fs);
	TP_TEST_END();
}
