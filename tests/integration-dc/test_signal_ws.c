/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_signal_ws.c - server/signal_ws.c on its own event_base (in a thread),
 * driven by blocking client sockets on 127.0.0.1: the upgrade (RFC 6455 §1.3
 * example key), forwarding and queueing between the two peers of a room,
 * fragmentation, a third peer refused, the token check, protocol and size
 * errors, ping/pong, the close handshake and the idle timeout; and the bounds
 * of issue 16: pongs to a client that does not read, and deadlines (the
 * handshake, lingering, closing) that a client's bytes do not push back.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "signal_ws.h"
#include "tp_test.h"

static struct event_base *base;

static void *loop(void *arg)
{
	(void)arg;
	event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

/* A connection to 127.0.0.1:port from src (an address on lo; NULL: any). */
static int dial_from(uint16_t port, const char *src)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timeval tv = { 3, 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (src) {
		struct sockaddr_in me = { .sin_family = AF_INET };

		inet_pton(AF_INET, src, &me.sin_addr);
		if (bind(fd, (struct sockaddr *)&me, sizeof(me)) != 0) {
			close(fd);
			return -1;
		}
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int dial(uint16_t port)
{
	return dial_from(port, NULL);
}

/* Sends the upgrade for path; returns the HTTP status and the head in buf. */
static int upgrade(int fd, const char *path, char *buf, size_t cap)
{
	char req[512];
	size_t n = 0;
	int len;

	len = snprintf(req, sizeof(req),
	               "GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
	               "Connection: keep-alive, Upgrade\r\n"
	               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	               "Sec-WebSocket-Version: 13\r\n\r\n", path);
	if (write(fd, req, (size_t)len) != len)
		return -1;
	/* Read byte by byte up to the end of the head, so frames stay unread. */
	while (n + 1 < cap) {
		if (read(fd, buf + n, 1) != 1)
			break;
		n++;
		if (n >= 4 && memcmp(buf + n - 4, "\r\n\r\n", 4) == 0)
			break;
	}
	buf[n] = 0;
	if (n < 12)
		return -1;
	return atoi(buf + 9);
}

static void send_frame(int fd, uint8_t b0, const void *data, size_t n, bool masked)
{
	uint8_t h[14], m[4] = { 0x11, 0x22, 0x33, 0x44 }, *p = malloc(n + 1);
	size_t hl = 2;

	h[0] = b0;
	if (n < 126) {
		h[1] = (uint8_t)n;
	} else {
		h[1] = 126;
		h[2] = (uint8_t)(n >> 8);
		h[3] = (uint8_t)n;
		hl = 4;
	}
	if (masked) {
		h[1] |= 0x80;
		memcpy(h + hl, m, 4);
		hl += 4;
	}
	for (size_t i = 0; i < n; i++)
		p[i] = ((const uint8_t *)data)[i] ^ (masked ? m[i & 3] : 0);
	/* A failed write means the server closed: the test then reads why. */
	if (write(fd, h, hl) == (ssize_t)hl && write(fd, p, n) == (ssize_t)n) {
		/* sent */
	}
	free(p);
}

static bool read_full(int fd, uint8_t *b, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, b + got, n - got);

		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return true;
}

/* Reads one server frame: returns the opcode (or -1), payload into buf. */
static int recv_frame(int fd, uint8_t *buf, size_t cap, size_t *len)
{
	uint8_t h[8];
	size_t n;

	if (!read_full(fd, h, 2))
		return -1;
	if (h[1] & 0x80)
		return -2; /* servers never mask */
	n = h[1] & 0x7f;
	if (n == 126) {
		if (!read_full(fd, h, 2))
			return -1;
		n = (size_t)h[0] << 8 | h[1];
	} else if (n == 127) {
		return -3;
	}
	if (n > cap || !read_full(fd, buf, n))
		return -1;
	*len = n;
	return h[0] & 0x0f;
}

/* What VmRSS may grow by in the memory bounds: allocator slack; ASan also
 * keeps freed chunks in its quarantine (8 MB, set by CMakeLists.txt) and adds
 * shadow memory. */
#if defined(__SANITIZE_ADDRESS__)
#define RSS_SLACK_KB (32 * 1024)
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RSS_SLACK_KB (32 * 1024)
#endif
#endif
#ifndef RSS_SLACK_KB
#define RSS_SLACK_KB (16 * 1024)
#endif

/* This process's resident memory (the server runs in it), in kB; -1 if unknown. */
static long rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kb = atol(line + 6);
			break;
		}
	fclose(f);
	return kb;
}

/* Open descriptors of this process (the server's connections among them). */
static int nfds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own */
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * With client fd open, waits until the server closed its side of the
 * connection (this process is back to base_fds + 1 descriptors), writing one
 * byte of drip every 250 ms meanwhile (nothing when drip is ""). Returns the
 * seconds it took, or -1 if still open after limit_s.
 */
static double drip_until_closed(int fd, int base_fds, const char *drip, double limit_s)
{
	double t0 = now_s();
	size_t i = 0, dn = strlen(drip);

	/* the server's descriptor appears once it accepted */
	while (nfds() <= base_fds + 1 && now_s() - t0 < 1)
		usleep(10000);
	while (now_s() - t0 < limit_s) {
		if (nfds() <= base_fds + 1)
			return now_s() - t0;
		if (dn && send(fd, drip + i++ % dn, 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			/* a reset tells us before the count does */
		}
		usleep(250000);
	}
	return -1;
}

/* Next non-ping frame. */
static int recv_data(int fd, uint8_t *buf, size_t cap, size_t *len)
{
	int op;

	do
		op = recv_frame(fd, buf, cap, len);
	while (op == 9);
	return op;
}

int main(void)
{
	struct tp_ws_opts o = { .max_frame = 1024, .max_message = 4096, .idle_timeout_s = 1 };
	struct tp_ws_opts ot = { .token = "s3cret" };
	struct tp_ws *ws, *wt;
	struct tp_addr a;
	pthread_t th;
	char head[2048];
	uint8_t buf[8192];
	size_t n;
	int fa, fb, fc;
	uint16_t port, tport;

	signal(SIGPIPE, SIG_IGN);
	evthread_use_pthreads();
	base = event_base_new();
	CHECK(base != NULL);
	CHECK_EQ(tp_addr_parse(&a, "127.0.0.1:0", 0), 0);
	CHECK_EQ(tp_ws_listen(base, &a, &o, &ws), 0);
	CHECK_EQ(tp_ws_listen(base, &a, &ot, &wt), 0);
	port = tp_ws_port(ws);
	tport = tp_ws_port(wt);
	CHECK(port != 0 && tport != 0);
	pthread_create(&th, NULL, loop, NULL);

	/* Upgrade, with the RFC 6455 example accept value. */
	fa = dial(port);
	CHECK_EQ(upgrade(fa, "/room1", head, sizeof(head)), 101);
	CHECK(strstr(head, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") != NULL);

	/* Queued until the second peer joins, then delivered in order. */
	send_frame(fa, 0x81, "hello", 5, true);
	send_frame(fa, 0x01, "ab", 2, true);      /* fragmented text */
	send_frame(fa, 0x89, "pp", 2, true);      /* ping between fragments */
	CHECK_EQ(recv_data(fa, buf, sizeof(buf), &n), 10);
	CHECK(n == 2 && memcmp(buf, "pp", 2) == 0);
	send_frame(fa, 0x80, "cd", 2, true);
	usleep(100000);
	fb = dial(port);
	CHECK_EQ(upgrade(fb, "/room1", head, sizeof(head)), 101);
	CHECK_EQ(recv_data(fb, buf, sizeof(buf), &n), 1);
	CHECK(n == 5 && memcmp(buf, "hello", 5) == 0);
	CHECK_EQ(recv_data(fb, buf, sizeof(buf), &n), 1);
	CHECK(n == 4 && memcmp(buf, "abcd", 4) == 0);

	/* Forwarded live, binary, the other way; medium length header. */
	memset(head, 'x', 600);
	send_frame(fb, 0x82, head, 600, true);
	CHECK_EQ(recv_data(fa, buf, sizeof(buf), &n), 2);
	CHECK_EQ(n, 600);

	/* A third peer is refused; another room is independent. */
	fc = dial(port);
	CHECK_EQ(upgrade(fc, "/room1", head, sizeof(head)), 409);
	close(fc);
	fc = dial(port);
	CHECK_EQ(upgrade(fc, "/room2", head, sizeof(head)), 101);

	/* Unmasked client frame: close 1002. */
	send_frame(fc, 0x81, "x", 1, false);
	CHECK_EQ(recv_data(fc, buf, sizeof(buf), &n), 8);
	CHECK(n == 2 && buf[0] == 0x03 && buf[1] == 0xea);
	close(fc);

	/* Oversized frame: close 1009. */
	fc = dial(port);
	CHECK_EQ(upgrade(fc, "/room3", head, sizeof(head)), 101);
	memset(buf, 'y', 2000);
	send_frame(fc, 0x82, buf, 2000, true);
	CHECK_EQ(recv_data(fc, buf, sizeof(buf), &n), 8);
	CHECK(n == 2 && buf[0] == 0x03 && buf[1] == 0xf1);
	close(fc);

	/* Close handshake: 1000 echoed, then EOF. */
	send_frame(fa, 0x88, "\x03\xe8", 2, true);
	CHECK_EQ(recv_data(fa, buf, sizeof(buf), &n), 8);
	CHECK(n == 2 && buf[0] == 0x03 && buf[1] == 0xe8);
	CHECK_EQ(read(fa, buf, 1), 0);
	close(fa);

	/* Idle timeout (1 s): close 1001 for a silent peer. */
	CHECK_EQ(recv_data(fb, buf, sizeof(buf), &n), 8);
	CHECK(n == 2 && buf[0] == 0x03 && buf[1] == 0xe9);
	close(fb);

	/* A peer that does not read: the sender is closed (1008) once the
	 * reader's backlog passes max_queue, instead of buffering without end. */
	{
		struct tp_ws_opts oq = { .max_queue = 8192, .idle_timeout_s = 30 };
		struct tp_ws *wq;
		int fs, fr, rcv = 4096, got_close = 0;

		/* the listener is created while the loop runs: fine with evthread */
		CHECK_EQ(tp_ws_listen(base, &a, &oq, &wq), 0);
		fr = dial(tp_ws_port(wq));
		setsockopt(fr, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
		CHECK_EQ(upgrade(fr, "/slow", head, sizeof(head)), 101);
		fs = dial(tp_ws_port(wq));
		CHECK_EQ(upgrade(fs, "/slow", head, sizeof(head)), 101);
		{
			/* a server that stopped reading instead of closing fails the
			 * check below rather than hanging the test */
			struct timeval sto = { 5, 0 };

			setsockopt(fs, SOL_SOCKET, SO_SNDTIMEO, &sto, sizeof(sto));
		}
		memset(buf, 'z', 1000);
		/* The server's kernel send buffer towards the reader absorbs the
		 * first megabytes (autotuning can grow it to tcp_wmem's maximum),
		 * so keep sending, up to 32 MB, until the close arrives; the last
		 * frames wait for it up to 5 s. */
		for (int i = 0; i < 32768; i++) {
			struct timeval tv = { i == 32767 ? 5 : 0, 0 };
			fd_set rs;

			send_frame(fs, 0x82, buf, 1000, true);
			FD_ZERO(&rs);
			FD_SET(fs, &rs);
			if (select(fs + 1, &rs, NULL, NULL, &tv) > 0) {
				got_close = recv_data(fs, buf + 2000, 4096, &n) == 8 && n == 2 &&
				            buf[2000] == 0x03 && buf[2001] == 0xf0;
				break;
			}
		}
		CHECK(got_close);
		close(fs);
		close(fr);
		usleep(100000);
		event_base_loopbreak(base);
		pthread_join(th, NULL);
		tp_ws_free(wq);
		pthread_create(&th, NULL, loop, NULL);
	}

	/* A client that pings and never reads what it is sent (issue 16, item
	 * 4): its pongs must not queue without end. 64 MB of pings (the largest
	 * control frame, 125 bytes) would queue 62 MB of pongs; the server's
	 * memory (this process's VmRSS) may grow by less than RSS_SLACK_KB
	 * (max_queue is 64 KB). Then the
	 * client reads: what arrives are whole pongs, and a last ping is
	 * answered. */
	{
		struct tp_ws_opts op = { .max_queue = 65536, .idle_timeout_s = 30 };
		struct tp_ws *wp;
		struct timeval sto = { 5, 0 }, quiet = { 0, 500000 }, rto = { 3, 0 };
		static uint8_t pings[131 * 500];
		uint8_t mk[4] = { 0x5a, 0xa5, 0x3c, 0xc3 };
		size_t total = 0, pongs = 0, bad = 0;
		long rss0, rss1;
		int fp, rcv = 4096, op_, last = 0;

		for (size_t f = 0; f < 500; f++) {
			uint8_t *q = pings + 131 * f;

			q[0] = 0x89;
			q[1] = 0x80 | 125;
			memcpy(q + 2, mk, 4);
			for (size_t i = 0; i < 125; i++)
				q[6 + i] = (uint8_t)('p' ^ mk[i & 3]);
		}
		CHECK_EQ(tp_ws_listen(base, &a, &op, &wp), 0);
		fp = dial(tp_ws_port(wp));
		setsockopt(fp, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
		CHECK_EQ(upgrade(fp, "/pinger", head, sizeof(head)), 101);
		setsockopt(fp, SOL_SOCKET, SO_SNDTIMEO, &sto, sizeof(sto));
		usleep(100000);
		rss0 = rss_kb();
		while (total < (64u << 20)) {
			ssize_t w = write(fp, pings, sizeof(pings));

			if (w <= 0)
				break;
			total += (size_t)w;
		}
		usleep(300000);
		rss1 = rss_kb();
		printf("pinger: %zu MB of pings sent without reading: VmRSS %ld -> %ld kB "
		       "(+%ld kB)\n", total >> 20, rss0, rss1, rss1 - rss0);
		CHECK(total >= (64u << 20));
		CHECK(rss0 > 0 && rss1 - rss0 < RSS_SLACK_KB);
		/* read what was queued: whole pongs only. A larger receive buffer
		 * first: with 4 KB, loopback TCP can fall into 200 ms window probes
		 * (see tests/stream/test_slow_reader.py); at most 10 s. */
		rcv = 1 << 20;
		setsockopt(fp, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
		setsockopt(fp, SOL_SOCKET, SO_RCVTIMEO, &quiet, sizeof(quiet));
		for (time_t t0 = time(NULL); time(NULL) - t0 < 10 &&
		                             (op_ = recv_frame(fp, buf, sizeof(buf), &n)) >= 0;) {
			if (op_ == 10 && n == 125 && buf[0] == 'p' && buf[124] == 'p')
				pongs++;
			else if (op_ != 9)
				bad++;
		}
		printf("pinger: then read %zu pongs\n", pongs);
		CHECK(pongs > 0 && bad == 0);
		setsockopt(fp, SOL_SOCKET, SO_RCVTIMEO, &rto, sizeof(rto));
		send_frame(fp, 0x89, "last", 4, true);
		while ((op_ = recv_frame(fp, buf, sizeof(buf), &n)) >= 0)
			if (op_ == 10 && n == 4 && memcmp(buf, "last", 4) == 0) {
				last = 1;
				break;
			}
		CHECK(last);
		close(fp);
		usleep(100000);
		event_base_loopbreak(base);
		pthread_join(th, NULL);
		{
			struct tp_ws_stats st;

			tp_ws_get_stats(wp, &st);
			printf("pinger: %llu pongs not sent\n", (unsigned long long)st.pongs_dropped);
			CHECK(st.pongs_dropped > 0);
		}
		tp_ws_free(wp);
		pthread_create(&th, NULL, loop, NULL);
	}

	/* Deadlines that bytes do not push back (issue 16, item 6), on a
	 * listener with a 1 s handshake timeout; "closed" is the server's
	 * descriptor gone (this process's fd count). */
	{
		struct tp_ws_opts od = { .handshake_timeout_s = 1, .max_queue = 65536,
		                         .idle_timeout_s = 30 };
		struct tp_ws *wd;
		static uint8_t pings[131 * 500];
		struct timeval sto = { 2, 0 };
		double took;
		int fd, base_fds, rcv = 4096;

		CHECK_EQ(tp_ws_listen(base, &a, &od, &wd), 0);
		base_fds = nfds();

		/* A request head dripped one byte every 250 ms: closed at the
		 * handshake deadline (1 s), not kept open by the bytes. */
		fd = dial(tp_ws_port(wd));
		took = drip_until_closed(fd, base_fds, "GET /drip HTTP/1.1\r\nHost: x\r\n", 5);
		printf("deadline: a dripped upgrade closed after %.1f s\n", took);
		CHECK(took > 0.5 && took < 2.5);
		close(fd);

		/* Closing, the server lingers to drain the peer: a peer that keeps
		 * sending does not keep it there (linger: 2 s). */
		fd = dial(tp_ws_port(wd));
		CHECK_EQ(upgrade(fd, "/linger", head, sizeof(head)), 101);
		send_frame(fd, 0x81, "x", 1, false);      /* unmasked: 1002 */
		took = drip_until_closed(fd, base_fds, "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", 6);
		printf("deadline: a peer sending while the server lingers closed after %.1f s\n",
		       took);
		CHECK(took > 0 && took < 3.5);
		close(fd);

		/* Closing with output the peer never reads: the close frame can
		 * never leave, the connection still ends (flush: 5 s). */
		fd = dial(tp_ws_port(wd));
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
		CHECK_EQ(upgrade(fd, "/stuck", head, sizeof(head)), 101);
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &sto, sizeof(sto));
		for (size_t f = 0; f < 500; f++) {
			uint8_t *q = pings + 131 * f;

			q[0] = 0x89;
			q[1] = 0x80 | 125;
			memset(q + 2, 0, 129);
		}
		/* pongs fill the kernel buffers and the server's output */
		for (int i = 0; i < 128; i++)
			if (write(fd, pings, sizeof(pings)) <= 0)
				break;
		send_frame(fd, 0x81, "x", 1, false);      /* unmasked: 1002 */
		took = drip_until_closed(fd, base_fds, "", 9);
		printf("deadline: a close towards a peer that does not read ended after %.1f s\n",
		       took);
		CHECK(took > 0 && took < 7);
		close(fd);

		usleep(100000);
		event_base_loopbreak(base);
		pthread_join(th, NULL);
		tp_ws_free(wd);
		pthread_create(&th, NULL, loop, NULL);
	}

	/* Connections per source address (issue 16, beside item 6): the
	 * fourth from one address is refused, another address still gets in. */
	{
		struct tp_ws_opts oi = { .max_conns_per_ip = 3 };
		struct tp_ws *wi;
		int f[4], g;

		CHECK_EQ(tp_ws_listen(base, &a, &oi, &wi), 0);
		for (int i = 0; i < 3; i++) {
			f[i] = dial_from(tp_ws_port(wi), "127.0.7.1");
			CHECK_EQ(upgrade(f[i], "/ip", head, sizeof(head)), i < 2 ? 101 : 409);
		}
		f[3] = dial_from(tp_ws_port(wi), "127.0.7.1");
		CHECK(upgrade(f[3], "/ip2", head, sizeof(head)) < 0); /* closed, no answer */
		g = dial_from(tp_ws_port(wi), "127.0.7.2");
		CHECK_EQ(upgrade(g, "/ip2", head, sizeof(head)), 101);
		for (int i = 0; i < 4; i++)
			close(f[i]);
		close(g);
		usleep(100000);
		event_base_loopbreak(base);
		pthread_join(th, NULL);
		tp_ws_free(wi);
		pthread_create(&th, NULL, loop, NULL);
	}

	/* Token check. */
	fc = dial(tport);
	CHECK_EQ(upgrade(fc, "/r", head, sizeof(head)), 403);
	close(fc);
	fc = dial(tport);
	CHECK_EQ(upgrade(fc, "/r?token=wrong!", head, sizeof(head)), 403);
	close(fc);
	fc = dial(tport);
	CHECK_EQ(upgrade(fc, "/r?x=1&token=s3cret", head, sizeof(head)), 101);
	close(fc);

	/* Not a WebSocket upgrade. */
	fc = dial(port);
	CHECK(write(fc, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27) == 27);
	n = (size_t)read(fc, head, sizeof(head) - 1);
	CHECK(n > 12 && memcmp(head, "HTTP/1.1 400", 12) == 0);
	close(fc);

	usleep(100000);
	event_base_loopbreak(base);
	pthread_join(th, NULL);
	{
		struct tp_ws_stats st;

		tp_ws_get_stats(ws, &st);
		CHECK(st.forwarded >= 1 && st.queued >= 2);
		CHECK(st.closed_proto >= 1 && st.closed_size >= 1 && st.closed_idle >= 1);
	}
	tp_ws_free(ws);
	tp_ws_free(wt);
	event_base_free(base);
	TP_TEST_END();
}
