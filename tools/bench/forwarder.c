/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * forwarder.c - tp-forwarder: the bare UDP relay used as the physical-limit row.
 *
 * What a TURN server's ChannelData fast path must do at least, and nothing
 * more: a "client" port receives ChannelData; channel 0x4000+i selects relay
 * socket i, which sends the payload (header stripped) to peer i % npeers;
 * what the peer answers goes back to the client that last used channel i with
 * the 4-byte header added. recvmmsg in batches of 64; sends grouped per
 * destination and, where the kernel has it, as one UDP GSO (UDP_SEGMENT)
 * sendmsg per run of equal-sized datagrams, sendmmsg otherwise. No
 * authentication, no permissions, no lookups beyond an array index.
 * Anything that is not ChannelData is echoed to its sender (a liveness ping).
 * It stops on SIGTERM/SIGINT or after -t seconds (default 900).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/udp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"

#define BATCH 64
#define MAX_PAIRS 1024
#define MAX_PEERS 16
#define CLIENT_KEY UINT32_MAX
#define GSO_MAX_BYTES 65000

struct pair {
	int fd;                       /* relay socket, connected to its peer */
	struct sockaddr_in client;    /* last client seen on this channel */
	bool have_client;
	unsigned nq;                  /* queued payloads (client -> peer) */
	struct iovec q[BATCH];
};

struct fwd {
	int cfd;
	unsigned npairs;
	struct pair *p;
	bool gso;
	unsigned long long relayed, gso_sends;
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in from[BATCH];
	uint8_t buf[BATCH][2048];
	uint8_t hdr[BATCH][TP_CHAN_HDR_LEN];
	struct iovec out[2 * BATCH];
	struct mmsghdr omsg[BATCH];
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void big_buffers(int fd)
{
	int sz = 4 << 20;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
}

static int parse_sa(const char *s, struct sockaddr_in *sa)
{
	struct tp_addr a;

	if (tp_addr_parse(&a, s, 0) != 0 || a.family != AF_INET || a.port == 0)
		return -EINVAL;
	tp_addr_to_sa(&a, sa);
	return 0;
}

static void rx_prepare(struct fwd *f, bool names)
{
	for (int i = 0; i < BATCH; i++) {
		f->iov[i].iov_base = f->buf[i];
		f->iov[i].iov_len = sizeof(f->buf[i]);
		memset(&f->msg[i].msg_hdr, 0, sizeof(f->msg[i].msg_hdr));
		f->msg[i].msg_hdr.msg_iov = &f->iov[i];
		f->msg[i].msg_hdr.msg_iovlen = 1;
		if (names) {
			f->msg[i].msg_hdr.msg_name = &f->from[i];
			f->msg[i].msg_hdr.msg_namelen = sizeof(f->from[i]);
		}
	}
}

/*
 * Send n datagrams of seg bytes each, laid out in iov[0..niov) (iov_per entries
 * per datagram), to dst (NULL: the connected peer), as GSO runs when possible.
 */
static void send_run(struct fwd *f, int fd, const struct sockaddr_in *dst, struct iovec *iov,
                     unsigned n, unsigned iov_per, size_t seg)
{
	unsigned max = (unsigned)(GSO_MAX_BYTES / seg), done = 0;

	if (max > BATCH)
		max = BATCH;
	while (f->gso && n - done > 1 && max > 1) {
		unsigned k = n - done < max ? n - done : max;
		union {
			struct cmsghdr align;
			uint8_t b[CMSG_SPACE(sizeof(uint16_t))];
		} ctl;
		struct msghdr mh = { .msg_name = (void *)dst, .msg_namelen = dst ? sizeof(*dst) : 0,
		                     .msg_iov = iov + done * iov_per, .msg_iovlen = k * iov_per,
		                     .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		uint16_t gs = (uint16_t)seg;

		memset(&ctl, 0, sizeof(ctl));
		cm->cmsg_level = SOL_UDP;
		cm->cmsg_type = UDP_SEGMENT;
		cm->cmsg_len = CMSG_LEN(sizeof(gs));
		memcpy(CMSG_DATA(cm), &gs, sizeof(gs));
		if (sendmsg(fd, &mh, MSG_DONTWAIT) < 0) {
			if (errno == EAGAIN || errno == ENOBUFS)
				return;   /* dropped, as a full socket drops */
			f->gso = false;   /* no GSO here: fall back for good */
			fprintf(stderr, "tp-forwarder: UDP GSO unavailable (%s)\n", strerror(errno));
			break;
		}
		f->gso_sends++;
		f->relayed += k;
		done += k;
	}
	if (done == n)
		return;
	for (unsigned i = done; i < n; i++) {
		memset(&f->omsg[i - done].msg_hdr, 0, sizeof(f->omsg[0].msg_hdr));
		f->omsg[i - done].msg_hdr.msg_name = (void *)dst;
		f->omsg[i - done].msg_hdr.msg_namelen = dst ? sizeof(*dst) : 0;
		f->omsg[i - done].msg_hdr.msg_iov = iov + i * iov_per;
		f->omsg[i - done].msg_hdr.msg_iovlen = iov_per;
	}
	int sent = sendmmsg(fd, f->omsg, n - done, MSG_DONTWAIT);

	if (sent > 0)
		f->relayed += (unsigned)sent;
}

/* Send a pair's queue: runs of equal-sized payloads. */
static void flush_pair(struct fwd *f, struct pair *p)
{
	unsigned s = 0;

	while (s < p->nq) {
		unsigned e = s + 1;

		while (e < p->nq && p->q[e].iov_len == p->q[s].iov_len)
			e++;
		send_run(f, p->fd, NULL, p->q + s, e - s, 1, p->q[s].iov_len);
		s = e;
	}
	p->nq = 0;
}

static void from_clients(struct fwd *f)
{
	unsigned touched[BATCH], nt = 0;
	int n;

	rx_prepare(f, true);
	n = recvmmsg(f->cfd, f->msg, BATCH, MSG_DONTWAIT, NULL);
	for (int i = 0; i < n; i++) {
		const uint8_t *b = f->buf[i];
		size_t len = f->msg[i].msg_len;
		unsigned idx;
		uint16_t dlen;
		struct pair *p;

		if (len < TP_CHAN_HDR_LEN ||
		    tp_demux(b[0], false, TP_CHAN_MAX) != TP_DEMUX_CHANDATA) {
			(void)sendto(f->cfd, b, len, MSG_DONTWAIT, (struct sockaddr *)&f->from[i],
			             sizeof(f->from[i]));
			continue;
		}
		idx = (((unsigned)b[0] << 8) | b[1]) - TP_CHAN_MIN;
		dlen = (uint16_t)((b[2] << 8) | b[3]);
		if (idx >= f->npairs || dlen > len - TP_CHAN_HDR_LEN)
			continue;
		p = &f->p[idx];
		p->client = f->from[i];
		p->have_client = true;
		if (p->nq == 0)
			touched[nt++] = idx;
		p->q[p->nq].iov_base = f->buf[i] + TP_CHAN_HDR_LEN;
		p->q[p->nq].iov_len = dlen;
		p->nq++;
	}
	for (unsigned i = 0; i < nt; i++)
		flush_pair(f, &f->p[touched[i]]);
}

static void from_peer(struct fwd *f, unsigned idx)
{
	struct pair *p = &f->p[idx];
	unsigned s = 0;
	int n;

	rx_prepare(f, false);
	n = recvmmsg(p->fd, f->msg, BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0 || !p->have_client)
		return;
	for (int i = 0; i < n; i++) {
		tp_chan_put_header(f->hdr[i], (uint16_t)(TP_CHAN_MIN + idx),
		                   (uint16_t)f->msg[i].msg_len);
		f->out[2 * i] = (struct iovec){ f->hdr[i], TP_CHAN_HDR_LEN };
		f->out[2 * i + 1] = (struct iovec){ f->buf[i], f->msg[i].msg_len };
	}
	/* runs of equal size; GSO segments must all be seg bytes (but the last) */
	while (s < (unsigned)n) {
		unsigned e = s + 1;

		while (e < (unsigned)n && f->msg[e].msg_len == f->msg[s].msg_len)
			e++;
		send_run(f, f->cfd, &p->client, f->out + 2 * s, e - s, 2,
		         TP_CHAN_HDR_LEN + f->msg[s].msg_len);
		s = e;
	}
}

static int setup(struct fwd *f, const struct sockaddr_in *listen_sa,
                 const struct sockaddr_in *peers, unsigned npeers, int ep)
{
	struct epoll_event ev = { .events = EPOLLIN };

	f->cfd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (f->cfd < 0 || bind(f->cfd, (const struct sockaddr *)listen_sa, sizeof(*listen_sa)))
		return -errno;
	big_buffers(f->cfd);
	ev.data.u32 = CLIENT_KEY;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, f->cfd, &ev) != 0)
		return -errno;
	for (unsigned i = 0; i < f->npairs; i++) {
		struct sockaddr_in any = { .sin_family = AF_INET,
		                           .sin_addr.s_addr = listen_sa->sin_addr.s_addr };
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		f->p[i].fd = fd;
		if (fd < 0 || bind(fd, (struct sockaddr *)&any, sizeof(any)) != 0 ||
		    connect(fd, (const struct sockaddr *)&peers[i % npeers], sizeof(peers[0])) != 0)
			return -errno;
		big_buffers(fd);
		ev.data.u32 = i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
			return -errno;
	}
	return 0;
}

static void usage(FILE *f)
{
	fputs("usage: tp-forwarder -l IP:PORT -p PEER_IP:PORT [-p ...] [-n PAIRS] [-t SECS] [-G]\n"
	      "The bare recvmmsg/sendmmsg relay tp-bench measures as the physical limit.\n"
	      "  -l IP:PORT   where clients send\n"
	      "  -p IP:PORT   a peer (repeatable)\n"
	      "  -n PAIRS     client/peer socket pairs\n"
	      "  -t SECS      stop after SECS seconds (default 900)\n"
	      "  -G           no UDP GSO\n"
	      "  -h, --help   this help\n", f);
}

int main(int argc, char **argv)
{
	struct sockaddr_in listen_sa = { 0 }, peers[MAX_PEERS];
	unsigned npeers = 0, secs = 900;
	struct epoll_event evs[64];
	struct fwd *f;
	time_t until;
	int c, ep, err;

	f = calloc(1, sizeof(*f));
	if (!f)
		return 1;
	f->npairs = 1;
	f->gso = true;
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		}
	}
	while ((c = getopt(argc, argv, "l:n:p:t:G")) != -1) {
		switch (c) {
		case 'l':
			if (parse_sa(optarg, &listen_sa) != 0)
				goto usage;
			break;
		case 'n': f->npairs = (unsigned)atoi(optarg); break;
		case 'p':
			if (npeers == MAX_PEERS || parse_sa(optarg, &peers[npeers++]) != 0)
				goto usage;
			break;
		case 't': secs = (unsigned)atoi(optarg); break;
		case 'G': f->gso = false; break;
		default: goto usage;
		}
	}
	if (!listen_sa.sin_port || !npeers || f->npairs == 0 || f->npairs > MAX_PAIRS)
		goto usage;
	f->p = calloc(f->npairs, sizeof(*f->p));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!f->p || ep < 0)
		return 1;
	err = setup(f, &listen_sa, peers, npeers, ep);
	if (err) {
		fprintf(stderr, "tp-forwarder: %s\n", strerror(-err));
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	until = time(NULL) + secs;
	while (!stop && time(NULL) < until) {
		int n = epoll_wait(ep, evs, 64, 100);

		for (int i = 0; i < n; i++) {
			if (evs[i].data.u32 == CLIENT_KEY)
				from_clients(f);
			else
				from_peer(f, evs[i].data.u32);
		}
	}
	fprintf(stderr, "tp-forwarder: relayed %llu datagrams, %llu GSO sends, GSO %s\n",
	        f->relayed, f->gso_sends, f->gso ? "on" : "off");
	return 0;
usage:
	usage(stderr);
	return 2;
}
