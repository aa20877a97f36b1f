/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_notify.c - server/notify.c over real unix datagram sockets: the test
 * binds the socket systemd would (a filesystem path, then an abstract name),
 * points NOTIFY_SOCKET at it and reads back exactly what tp_notify sent, one
 * datagram per call. Also: unset NOTIFY_SOCKET is a silent no-op, bad values
 * give the documented errors, a socket nobody listens on gives -ECONNREFUSED
 * or -ENOENT instead of blocking, and RELOADING carries a monotonic timestamp
 * taken at the call.
 */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "notify.h"
#include "tp_test.h"

static char got[2048];

/* Receive one datagram within 2 s into got; its length, or -1. */
static ssize_t recv_one(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, 2000) != 1)
		return -1;
	n = recv(fd, got, sizeof(got) - 1, 0);
	if (n >= 0)
		got[n] = '\0';
	return n;
}

/* Nothing waiting on fd (within 100 ms). */
static int nothing_pending(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 100) == 0;
}

static unsigned long long mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000ull;
}

/* The same sequence through whichever socket NOTIFY_SOCKET names. */
static void exchange(int fd)
{
	unsigned long long before, after, usec = 0;

	CHECK_EQ(tp_notify("READY=1"), 0);
	CHECK_EQ(recv_one(fd), 7);
	CHECK(strcmp(got, "READY=1") == 0);

	/* two calls, two datagrams, in order */
	CHECK_EQ(tp_notify("STATUS=serving 3 listeners"), 0);
	CHECK_EQ(tp_notifyf("STATUS=draining, %d allocations left", 42), 0);
	CHECK(recv_one(fd) > 0);
	CHECK(strcmp(got, "STATUS=serving 3 listeners") == 0);
	CHECK(recv_one(fd) > 0);
	CHECK(strcmp(got, "STATUS=draining, 42 allocations left") == 0);

	before = mono_usec();
	CHECK_EQ(tp_notify_reloading(), 0);
	after = mono_usec();
	CHECK(recv_one(fd) > 0);
	CHECK(sscanf(got, "RELOADING=1\nMONOTONIC_USEC=%llu", &usec) == 1);
	CHECK(usec >= before && usec <= after);

	CHECK_EQ(tp_notify("STOPPING=1"), 0);
	CHECK(recv_one(fd) > 0);
	CHECK(strcmp(got, "STOPPING=1") == 0);

	/* an empty state is refused and sends nothing */
	CHECK_EQ(tp_notify(""), -EINVAL);
	CHECK_EQ(tp_notify(NULL), -EINVAL);
	CHECK(nothing_pending(fd));
}

int main(void)
{
	char dir[] = "/tmp/tp-test-notify-XXXXXX", path[128], abstract[64];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd;

	/* unset or empty: nothing to do, success */
	unsetenv("NOTIFY_SOCKET");
	CHECK_EQ(tp_notify("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "", 1);
	CHECK_EQ(tp_notify("READY=1"), 0);

	/* a filesystem socket */
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	setenv("NOTIFY_SOCKET", path, 1);
	exchange(fd);
	close(fd);
	/* the socket file left behind with no one bound: refused, not blocked */
	CHECK_EQ(tp_notify("READY=1"), -ECONNREFUSED);
	unlink(path);
	CHECK_EQ(tp_notify("READY=1"), -ENOENT);
	rmdir(dir);

	/* an abstract name: "@name" in the variable, a leading NUL in the address,
	 * and the length covering the name only (bound here the same way) */
	snprintf(abstract, sizeof(abstract), "@tp-test-notify-%ld", (long)getpid());
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path + 1, abstract + 1, strlen(abstract) - 1);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(abstract));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sun, len) == 0);
	setenv("NOTIFY_SOCKET", abstract, 1);
	exchange(fd);
	/* a longer abstract name is another socket: nothing arrives here */
	strcat(abstract, "x");
	setenv("NOTIFY_SOCKET", abstract, 1);
	CHECK_EQ(tp_notify("READY=1"), -ECONNREFUSED);
	CHECK(nothing_pending(fd));
	close(fd);

	/* values that are not a socket address */
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	CHECK_EQ(tp_notify("READY=1"), -EINVAL);
	setenv("NOTIFY_SOCKET", "@", 1);
	CHECK_EQ(tp_notify("READY=1"), -EINVAL);
	setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
	CHECK_EQ(tp_notify("READY=1"), -EAFNOSUPPORT);
	{
		char longp[200];
		memset(longp, 'a', sizeof(longp) - 1);
		longp[0] = '/';
		longp[sizeof(longp) - 1] = '\0';
		setenv("NOTIFY_SOCKET", longp, 1);
		CHECK_EQ(tp_notify("READY=1"), -ENAMETOOLONG);
		longp[0] = '@';
		setenv("NOTIFY_SOCKET", longp, 1);
		CHECK_EQ(tp_notify("READY=1"), -ENAMETOOLONG);
	}
	{
		/* tp_notifyf refuses what it would have to cut */
		char big[1500];
		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		unsetenv("NOTIFY_SOCKET");
		CHECK_EQ(tp_notifyf("STATUS=%s", big), -EINVAL);
	}
	unsetenv("NOTIFY_SOCKET");
	TP_TEST_END();
}
