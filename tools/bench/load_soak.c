/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * load_soak.c - the soak (tp-bench --soak): N allocations held for a given
 * time with traffic, churn and refreshes, sampling the server as it goes.
 *
 * Every allocation has a permission to one of the echo peers; the even ones
 * also a channel (ChannelData both ways), the odd ones send Send indications
 * and get Data indications back. Traffic runs at a fixed total rate over the
 * ready allocations. Every allocation refreshes itself, its permission and its
 * channel once a period (at most 240 s, before the 300 s of a permission);
 * every sample interval a fraction of them is churned: deleted (Refresh 0) and
 * allocated again from a new source address. At the end everything is deleted
 * and the server must give back its descriptors and count 0 allocations.
 *
 * All allocations share one UDP socket bound to 0.0.0.0: each has its own
 * source address 127.48.x.y, set per datagram with IP_PKTINFO, and answers are
 * told apart by their destination address. 10,000 allocations cost the bench
 * one descriptor (the server still needs one relay socket each).
 *
 * Figures only are printed; the exit status is nonzero only for a leak:
 * descriptors not back to idle, allocations not back to 0, or datagrams
 * relayed back far below those sent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "soak.h"

#define BLOCK 48                 /* source addresses 127.48.x.y */
#define BLOCK_ADDRS (254 * 256)  /* of them: x 0-255, y 1-254 */
#define RTO_NS 500000000ull
#define MAX_TX 5
#define MAX_ROUNDS 3
#define LIFETIME 600
#define SETTLE_S 15              /* after the deletes: wait for fds and count */

enum op { OP_ALLOC, OP_PERM, OP_CHAN, OP_REFRESH, OP_DELETE };

static void src_of(const struct tp_soak *k, uint32_t i, struct sockaddr_in *sa)
{
	tp_bench_src_addr(sa, BLOCK, i + (uint32_t)k->s[i].gen * k->n, 0);
}

/* Send from allocation i's source address. */
static int send_from(struct tp_soak *k, uint32_t i, const void *b, size_t len)
{
	struct sockaddr_in src;
	union { char buf[CMSG_SPACE(sizeof(struct in_pktinfo))]; struct cmsghdr a; } c;
	struct iovec iov = { (void *)b, len };
	struct msghdr mh = { .msg_name = (void *)&k->t->addr, .msg_namelen = sizeof(k->t->addr),
	                     .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf,
	                     .msg_controllen = sizeof(c.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	struct in_pktinfo pi = { 0 };

	src_of(k, i, &src);
	pi.ipi_spec_dst = src.sin_addr;
	memset(c.buf, 0, sizeof(c.buf));
	cm->cmsg_level = IPPROTO_IP;
	cm->cmsg_type = IP_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	if (sendmsg(k->fd, &mh, 0) < 0)
		return errno == EAGAIN ? 0 : -errno;
	return 0;
}

/* ---- transactions ---------------------------------------------------- */

static int op_send(struct tp_soak *k, uint32_t i)
{
	static uint32_t seq;
	struct tp_soak_slot *sl = &k->s[i];
	const struct tp_addr *peer = &k->e->addr[i % k->e->n];
	struct tp_req r = { .lifetime = -1, .auth = true };
	long len;

	switch ((enum op)sl->ops[sl->step]) {
	case OP_ALLOC:
		if (sl->ever) {   /* a new 5-tuple: what the server kept of the old one stays */
			/* two addresses per slot in turn, or (--soak-fresh) every
			 * address of the block before one comes back */
			if (k->o->soak_fresh)
				sl->gen = (uint16_t)((sl->gen + 1) % (BLOCK_ADDRS / k->n));
			else
				sl->gen ^= 1;
			tp_sess_init(&sl->sess);
		}
		sl->ever = true;
		r.method = TP_METHOD_ALLOCATE;
		r.lifetime = LIFETIME;
		break;
	case OP_PERM:
		r.method = TP_METHOD_CREATE_PERMISSION;
		r.peer = peer;
		break;
	case OP_CHAN:
		r.method = TP_METHOD_CHANNEL_BIND;
		r.peer = peer;
		r.chan = TP_CHAN_MIN;
		break;
	case OP_REFRESH:
		r.method = TP_METHOD_REFRESH;
		r.lifetime = LIFETIME;
		break;
	case OP_DELETE:
		r.method = TP_METHOD_REFRESH;
		r.lifetime = 0;
		break;
	}
	tp_tid_make(sl->tid, tp_bench_now(), ++seq);
	len = tp_req_build(sl->req, sizeof(sl->req), &r, sl->tid, &sl->sess);
	if (len < 0)
		return (int)len;
	sl->len = (uint16_t)len;
	sl->tx = 1;
	sl->deadline = tp_bench_now() + RTO_NS;
	k->trans++;
	return send_from(k, i, sl->req, sl->len);
}

static void done(struct tp_soak *k, uint32_t i, bool ok)
{
	struct tp_soak_slot *sl = &k->s[i];

	for (uint32_t j = 0; j < k->nbusy; j++) {
		if (k->busy[j] == i) {
			k->busy[j] = k->busy[--k->nbusy];
			break;
		}
	}
	sl->busy = false;
	if (!ok) {
		k->failed++;
		tp_tc_cancel(&sl->sess, sl->tid);
		/* a setup that failed halfway: churn sets it up again later */
		if (sl->ops[0] != OP_REFRESH || !sl->allocated)
			sl->ready = false;
		return;
	}
	sl->ready = sl->allocated;
}

/* Start a sequence of operations on slot i (not busy; k->nbusy < TP_SOAK_CONC). */
static void start(struct tp_soak *k, uint32_t i, const uint8_t *ops, uint8_t nops)
{
	struct tp_soak_slot *sl = &k->s[i];

	memcpy(sl->ops, ops, nops);
	sl->nops = nops;
	sl->step = 0;
	sl->rounds = 0;
	sl->busy = true;
	k->busy[k->nbusy++] = i;
	if (op_send(k, i) != 0)
		done(k, i, false);
}

static void start_setup(struct tp_soak *k, uint32_t i)
{
	static const uint8_t setup[] = { OP_ALLOC, OP_PERM, OP_CHAN };
	static const uint8_t churn[] = { OP_DELETE, OP_ALLOC, OP_PERM, OP_CHAN };
	bool chan = (i & 1) == 0;

	k->s[i].ready = false;
	if (k->s[i].allocated) {
		k->churns++;
		start(k, i, churn, chan ? 4 : 3);
	}
	else
		start(k, i, setup, chan ? 3 : 2);
}

static void start_refresh(struct tp_soak *k, uint32_t i)
{
	static const uint8_t ops[] = { OP_REFRESH, OP_PERM, OP_CHAN };

	k->refreshes++;
	start(k, i, ops, (i & 1) == 0 ? 3 : 2);
}

static void start_delete(struct tp_soak *k, uint32_t i)
{
	static const uint8_t ops[] = { OP_DELETE };

	k->s[i].ready = false;
	start(k, i, ops, 1);
}

static void answer(struct tp_soak *k, uint32_t i, enum tp_tc_res res, uint16_t code)
{
	struct tp_soak_slot *sl = &k->s[i];
	enum op op = (enum op)sl->ops[sl->step];
	/* 437: the allocation is already gone (a retransmitted delete) */
	bool ok = code == 0 || (op == OP_DELETE && code == 437);

	if (!ok && res == TP_TC_RETRY && ++sl->rounds < MAX_ROUNDS) {
		if (op == OP_ALLOC)
			sl->ever = false;   /* the same 5-tuple again */
		if (op_send(k, i) != 0)
			done(k, i, false);
		return;
	}
	if (!ok) {
		k->last_err = code;
		done(k, i, false);
		return;
	}
	if (op == OP_ALLOC)
		sl->allocated = true;
	else if (op == OP_DELETE)
		sl->allocated = false;
	sl->rounds = 0;
	if (++sl->step == sl->nops) {
		done(k, i, true);
		return;
	}
	if (op_send(k, i) != 0)
		done(k, i, false);
}

static void retransmit(struct tp_soak *k, uint64_t now)
{
	for (uint32_t j = 0; j < k->nbusy; j++) {
		uint32_t i = k->busy[j];
		struct tp_soak_slot *sl = &k->s[i];

		if (now < sl->deadline)
			continue;
		if (sl->tx >= MAX_TX) {
			done(k, i, false);
			j--;   /* done() moved the last entry here */
			continue;
		}
		sl->tx++;
		sl->deadline = now + RTO_NS;
		(void)send_from(k, i, sl->req, sl->len);
	}
}

/* ---- receiving ------------------------------------------------------- */

/* The slot whose current source address is dst, or -1. */
static long slot_of(const struct tp_soak *k, struct in_addr dst)
{
	uint32_t h = ntohl(dst.s_addr), idx, i;

	if (((h >> 16) & 0xff) != BLOCK || (h & 0xff) == 0 || (h & 0xff) == 255)
		return -1;
	idx = ((h >> 8) & 0xff) * 254 + (h & 0xff) - 1;
	i = idx % k->n;
	if (idx / k->n != k->s[i].gen)
		return -1;
	return (long)i;
}

static void on_datagram(struct tp_soak *k, uint32_t i, const uint8_t *b, size_t n)
{
	struct tp_soak_slot *sl = &k->s[i];
	enum tp_tc_res res;
	uint16_t code = 0;

	if (n >= 4 && b[0] >= 0x40 && b[0] <= 0x4f) {
		k->relayed++;
		return;
	}
	if (n >= TP_STUN_HDR_LEN && b[0] == 0x00 && b[1] == 0x17) {   /* Data indication */
		k->relayed++;
		return;
	}
	if (!sl->busy)
		return;   /* a late duplicate */
	res = tp_resp_read(b, n, &sl->sess, &code, NULL);
	if (tp_resp_is_answer(res))
		answer(k, i, res, code);
}

static void drain(struct tp_soak *k)
{
	uint8_t buf[2048];
	union { char b[CMSG_SPACE(sizeof(struct in_pktinfo))]; struct cmsghdr a; } c;

	for (int budget = 0; budget < 512; budget++) {
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.b,
		                     .msg_controllen = sizeof(c.b) };
		struct cmsghdr *cm;
		ssize_t n = recvmsg(k->fd, &mh, MSG_DONTWAIT);
		long i = -1;

		if (n < 0)
			return;
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pi;

				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				i = slot_of(k, pi.ipi_addr);
			}
		}
		if (i < 0)
			k->stale++;
		else
			on_datagram(k, (uint32_t)i, buf, (size_t)n);
	}
}

/* ---- traffic --------------------------------------------------------- */

static int templates(struct tp_soak *k)
{
	tp_chan_put_header(k->chandata, TP_CHAN_MIN, TP_SOAK_PAYLOAD);
	memset(k->chandata + 4, 0x5a, TP_SOAK_PAYLOAD);
	for (unsigned p = 0; p < k->e->n; p++) {
		size_t off;
		long len = tp_send_ind_build(k->sendind[p], sizeof(k->sendind[p]), &k->e->addr[p],
		                             TP_SOAK_PAYLOAD, &off);

		if (len < 0)
			return (int)len;
		k->sendind_len[p] = (size_t)len;
	}
	return 0;
}

/* One datagram from the next ready allocation after *rr; false if none is. */
static bool send_one(struct tp_soak *k, uint32_t *rr)
{
	for (uint32_t tries = 0; tries < k->n; tries++) {
		uint32_t i = (*rr)++ % k->n;

		if (!k->s[i].ready)
			continue;
		if ((i & 1) == 0)
			(void)send_from(k, i, k->chandata, sizeof(k->chandata));
		else
			(void)send_from(k, i, k->sendind[i % k->e->n], k->sendind_len[i % k->e->n]);
		k->sent++;
		return true;
	}
	return false;
}

/* ---- the run --------------------------------------------------------- */

static void step_loop(struct tp_soak *k, int poll_ms)
{
	struct pollfd pfd = { k->fd, POLLIN, 0 };

	if (poll(&pfd, 1, poll_ms) > 0)
		drain(k);
	retransmit(k, tp_bench_now());
}

/* Run until every slot is set up (or failed once) or the deadline. */
static void phase_setup(struct tp_soak *k, const struct sockaddr_in *metrics, double every)
{
	uint64_t until = tp_bench_now() + (uint64_t)(60 + k->n / 50) * 1000000000ull;
	uint64_t next_smp = tp_bench_now() + (uint64_t)(every * 1e9);
	uint32_t next = 0;

	while (tp_bench_now() < until && (next < k->n || k->nbusy)) {
		while (next < k->n && k->nbusy < TP_SOAK_CONC)
			start_setup(k, next++);
		step_loop(k, 1);
		if (tp_bench_now() >= next_smp) {
			tp_soak_sample(k, 'S', metrics);
			next_smp += (uint64_t)(every * 1e9);
		}
	}
}

static void phase_run(struct tp_soak *k, const struct sockaddr_in *metrics, double secs,
                      double every)
{
	const struct tp_bench_opts *o = k->o;
	double period = secs / 4 < 5 ? 5 : secs / 4 > 240 ? 240 : secs / 4;
	uint64_t now = tp_bench_now(), start_ns = now, until = now + (uint64_t)(secs * 1e9);
	uint64_t next_smp = now + (uint64_t)(every * 1e9), last = now;
	uint32_t churn_each = (uint32_t)((double)k->n * o->soak_churn / 100 + 0.5);
	uint32_t rr = 0, churn_rr = 0, refresh_rr = 0, churn_due = 0;
	double tokens = 0;

	for (uint32_t i = 0; i < k->n; i++)
		k->s[i].next_refresh = start_ns + (uint64_t)(period * 1e9 * (i + 0.5) / k->n);
	while ((now = tp_bench_now()) < until) {
		/* refreshes that are due, round robin, under the in-flight cap */
		for (uint32_t c = 0; c < 64 && k->nbusy < TP_SOAK_CONC; c++) {
			struct tp_soak_slot *sl = &k->s[refresh_rr % k->n];

			if (sl->busy || now < sl->next_refresh)
				break;
			sl->next_refresh += (uint64_t)(period * 1e9);
			if (sl->ready)
				start_refresh(k, refresh_rr % k->n);
			refresh_rr++;
		}
		/* churn: delete and allocate again, from a new source address */
		for (uint32_t c = 0; churn_due && c < k->n && k->nbusy < TP_SOAK_CONC; c++) {
			uint32_t i = churn_rr++ % k->n;

			if (k->s[i].busy)
				continue;
			start_setup(k, i);
			churn_due--;
		}
		tokens += o->soak_rate * (double)(now - last) / 1e9;
		last = now;
		if (tokens > 256)
			tokens = 256;
		while (tokens >= 1) {
			tokens--;
			if (!send_one(k, &rr))
				tokens = 0;
		}
		step_loop(k, 1);
		if (tp_bench_now() >= next_smp) {
			tp_soak_sample(k, 'R', metrics);
			next_smp += (uint64_t)(every * 1e9);
			churn_due += churn_each;
		}
	}
}

/* Delete every allocation; then wait for the server to give everything back. */
static void phase_end(struct tp_soak *k, const struct sockaddr_in *metrics, long idle_fds)
{
	uint64_t until = tp_bench_now() + (uint64_t)(60 + k->n / 50) * 1000000000ull;
	uint32_t next = 0;

	/* the last datagrams come back first */
	for (int j = 0; j < 1000; j++)
		step_loop(k, 1);
	while (tp_bench_now() < until && (next < k->n || k->nbusy)) {
		while (next < k->n && k->nbusy < TP_SOAK_CONC) {
			struct tp_soak_slot *sl = &k->s[next];

			if (sl->busy)
				break;
			/* --soak-leave: the last ones stay, to see the check fire */
			if (sl->allocated && next + k->o->soak_leave < k->n)
				start_delete(k, next);
			next++;
		}
		step_loop(k, 1);
	}
	tp_soak_sample(k, 'E', metrics);
	for (int j = 0; j < SETTLE_S; j++) {
		const struct tp_soak_sample *m = &k->smp[k->nsmp - 1];

		if ((idle_fds < 0 || (m->fds >= 0 && m->fds <= idle_fds + TP_SOAK_FD_SLACK)) &&
		    (m->allocs == 0 || m->allocs == -ENOENT))
			break;
		tp_bench_sleep_ms(1000);
		tp_soak_sample(k, 'E', metrics);
	}
}

static int open_socket(void)
{
	struct sockaddr_in any = { .sin_family = AF_INET };
	int fd = tp_bench_udp(&any, NULL), on = 1;

	if (fd >= 0 && setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)) != 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int tp_load_soak(struct tp_target *t, const struct tp_bench_opts *o, struct tp_echo *e,
                 const struct sockaddr_in *metrics)
{
	struct tp_soak k = { .t = t, .e = e, .o = o, .n = o->soak_allocs };
	long idle_rss = -1, idle_fds = -1;
	double every = o->soak_every;
	uint64_t run0, run1;
	int leak = -ENOMEM;

	if (k.n == 0 || k.n > TP_SOAK_MAX || e->n == 0)
		return -EINVAL;
	k.s = calloc(k.n, sizeof(*k.s));
	k.smp = calloc(TP_SOAK_MAX_SAMPLES, sizeof(*k.smp));
	k.fd = open_socket();
	if (!k.s || !k.smp || k.fd < 0 || templates(&k) != 0) {
		if (k.fd < 0)
			leak = k.fd;
		goto out;
	}
	for (uint32_t i = 0; i < k.n; i++)
		tp_sess_init(&k.s[i].sess);
	k.t0 = tp_bench_now();
	tp_soak_sample(&k, 'I', metrics);
	idle_rss = k.smp[0].rss_kb;
	idle_fds = k.smp[0].fds;
	if (metrics && metrics->sin_port && k.smp[0].allocs < 0)
		fprintf(stderr, "tp-bench: soak: no allocation count from the metrics listener\n");
	phase_setup(&k, metrics, every);
	tp_soak_sample(&k, 'S', metrics);
	run0 = tp_bench_now();
	phase_run(&k, metrics, o->secs, every);
	run1 = tp_bench_now();
	tp_soak_sample(&k, 'R', metrics);
	phase_end(&k, metrics, idle_fds);
	tp_soak_print(&k);
	leak = tp_soak_summary(&k, idle_rss, idle_fds, (double)(run1 - run0) / 1e9);
	fflush(stdout);
out:
	if (k.fd >= 0)
		close(k.fd);
	free(k.s);
	free(k.smp);
	return leak;
}
