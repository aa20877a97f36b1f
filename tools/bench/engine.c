/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * engine.c - the packet engine: timestamped probes through a server and back.
 *
 * Each flow is a connected UDP socket with a message template; the send time
 * (CLOCK_MONOTONIC ns) is written into the template at ts_off and comes back in
 * the answer (a Binding response's transaction ID, an echoed ChannelData
 * payload, a Data indication's DATA), so no per-probe state is kept.
 * Closed loop: each flow keeps `window` probes in flight and sends one for each
 * answer. Open loop: probes leave at a fixed rate, spread over the flows.
 * recvmmsg/sendmmsg in batches of 64 keep the generator off the critical path.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bench.h"

#define BATCH 64
#define MAX_FLOWS 1024
#define IDLE_NS 50000000ull    /* closed loop: refill after 50 ms without an answer */
#define DRAIN_NS 200000000ull

struct io {
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	uint8_t buf[BATCH][2048];
};

/* Where an answer carries the send time; 0 if the datagram is not an answer. */
static uint64_t answer_ts(const struct tp_flow *f, const uint8_t *b, size_t n)
{
	struct tp_stun_msg m;
	const struct tp_stun_attr *a;
	uint64_t ts = 0;

	switch (f->kind) {
	case TP_F_BINDING:
		/* Binding success (0x0101) with our tid: time in the tid's first 8 bytes */
		if (n >= TP_STUN_HDR_LEN && b[0] == 0x01 && b[1] == 0x01)
			memcpy(&ts, b + 8, 8);
		break;
	case TP_F_CHANDATA:
		if (n >= TP_CHAN_HDR_LEN + 8 &&
		    tp_demux(b[0], false, TP_CHAN_MAX) == TP_DEMUX_CHANDATA)
			memcpy(&ts, b + TP_CHAN_HDR_LEN, 8);
		break;
	case TP_F_SEND:
		if (tp_stun_decode(&m, b, n, NULL) != TP_P_OK || m.method != TP_METHOD_DATA)
			break;
		a = tp_stun_find(&m, TP_ATTR_DATA);
		if (a && a->len >= 8)
			memcpy(&ts, a->val, 8);
		break;
	}
	return ts;
}

static unsigned send_some(struct tp_flow *f, struct io *io, unsigned k, uint64_t *seq)
{
	unsigned i;
	int n;

	if (k > BATCH)
		k = BATCH;
	for (i = 0; i < k; i++) {
		uint64_t now = tp_bench_now();

		memcpy(io->buf[i], f->tmpl, f->len);
		memcpy(io->buf[i] + f->ts_off, &now, 8);
		if (f->kind == TP_F_BINDING)   /* keep tids distinct */
			memcpy(io->buf[i] + 16, seq, 4);
		(*seq)++;
		io->iov[i].iov_base = io->buf[i];
		io->iov[i].iov_len = f->len;
		memset(&io->msg[i].msg_hdr, 0, sizeof(io->msg[i].msg_hdr));
		io->msg[i].msg_hdr.msg_iov = &io->iov[i];
		io->msg[i].msg_hdr.msg_iovlen = 1;
	}
	n = sendmmsg(f->fd, io->msg, k, MSG_DONTWAIT);
	if (n <= 0)
		return 0;
	f->out += (unsigned)n;
	return (unsigned)n;
}

static unsigned recv_some(struct tp_flow *f, struct io *io, struct tp_eng_res *r)
{
	unsigned got = 0;
	int n;

	for (int i = 0; i < BATCH; i++) {
		io->iov[i].iov_base = io->buf[i];
		io->iov[i].iov_len = sizeof(io->buf[i]);
		memset(&io->msg[i].msg_hdr, 0, sizeof(io->msg[i].msg_hdr));
		io->msg[i].msg_hdr.msg_iov = &io->iov[i];
		io->msg[i].msg_hdr.msg_iovlen = 1;
	}
	n = recvmmsg(f->fd, io->msg, BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return 0;
	uint64_t now = tp_bench_now();

	for (int i = 0; i < n; i++) {
		uint64_t ts = answer_ts(f, io->buf[i], io->msg[i].msg_len);

		if (ts == 0 || ts > now)
			continue;
		tp_lat_add(&r->lat, now - ts);
		got++;
	}
	r->recv += got;
	f->out = f->out > got ? f->out - got : 0;
	f->last_rx = now;
	return got;
}

int tp_engine_run(struct tp_flow *f, size_t n, const struct tp_eng_cfg *c,
                  struct tp_eng_res *r)
{
	struct pollfd *pfd;
	struct io *io;
	uint64_t start, end, now, seq = 1;
	size_t rr = 0;
	bool closed = c->rate <= 0;
	int err = 0;

	if (n == 0 || n > MAX_FLOWS)
		return -EINVAL;
	pfd = calloc(n, sizeof(*pfd));
	io = malloc(sizeof(*io));
	r->sent = r->recv = 0;
	if (!pfd || !io || tp_lat_init(&r->lat, 4u << 20) != 0) {
		err = -ENOMEM;
		goto out;
	}
	start = now = tp_bench_now();
	end = start + (uint64_t)(c->secs * 1e9);
	for (size_t i = 0; i < n; i++) {
		pfd[i].fd = f[i].fd;
		pfd[i].events = POLLIN;
		f[i].out = 0;
		f[i].last_rx = start;
		if (closed)
			r->sent += send_some(&f[i], io, c->window, &seq);
	}
	while (now < end + DRAIN_NS) {
		bool sending = now < end;

		if (sending && !closed) {
			uint64_t due = (uint64_t)(c->rate * (double)(now - start) / 1e9);

			/* bounded: at most n batches per turn, the rest on the next one */
			for (size_t k = 0; k < n && r->sent < due; k++) {
				r->sent += send_some(&f[rr], io, (unsigned)(due - r->sent), &seq);
				rr = (rr + 1) % n;
			}
		}
		if (poll(pfd, n, closed ? 10 : 1) < 0 && errno != EINTR) {
			err = -errno;
			goto out;
		}
		now = tp_bench_now();
		for (size_t i = 0; i < n; i++) {
			unsigned got = 0;

			if (pfd[i].revents & POLLIN)
				got = recv_some(&f[i], io, r);
			if (!closed || !sending)
				continue;
			if (got)
				r->sent += send_some(&f[i], io, got, &seq);
			else if (now - f[i].last_rx > IDLE_NS) {
				/* answers lost: start the window again */
				f[i].out = 0;
				f[i].last_rx = now;
				r->sent += send_some(&f[i], io, c->window, &seq);
			}
		}
	}
	r->secs = (double)(end - start) / 1e9;
out:
	free(pfd);
	free(io);
	return err;
}
