/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * script.c - scripted clients: many sessions at once, each from its own source
 * address (127.<block>.x.y), each stepping through a list of requests and
 * closing its socket at the end. A session holds a socket only while it runs,
 * so 10k allocations cost the bench `conc` descriptors, not 10k.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#define MAX_CONC 256
#define RTO_NS 500000000ull
#define MAX_TX 4
#define MAX_ROUNDS 3
#define GRACE_NS 2000000000ull

struct slot {
	int fd;
	uint32_t idx;
	size_t step;
	unsigned tx, rounds;
	uint64_t deadline;
	uint8_t tid[12];
	uint8_t req[1024];
	size_t len;
	struct tp_tc sess;
};

static void slot_close(struct slot *sl)
{
	if (sl->fd >= 0)
		close(sl->fd);
	sl->fd = -1;
}

static int slot_send(struct slot *sl, const struct tp_script *s, bool fresh)
{
	static uint32_t seq;
	enum tp_step st = s->steps[sl->step];
	struct tp_req r = { .lifetime = -1, .auth = true };
	long len;

	if (fresh) {
		switch (st) {
		case TP_S_BINDING:
			r.method = TP_METHOD_BINDING;
			r.auth = false;
			break;
		case TP_S_ALLOC_401:
			r.auth = false;
			/* fall through */
		case TP_S_ALLOC:
			r.method = TP_METHOD_ALLOCATE;
			r.lifetime = 3600;
			break;
		case TP_S_PERM:
			r.method = TP_METHOD_CREATE_PERMISSION;
			r.peer = &s->peer;
			break;
		case TP_S_CHAN:
			r.method = TP_METHOD_CHANNEL_BIND;
			r.peer = &s->peer;
			r.chan = TP_CHAN_MIN;
			break;
		case TP_S_REFRESH0:
			r.method = TP_METHOD_REFRESH;
			r.lifetime = 0;
			break;
		}
		tp_tid_make(sl->tid, tp_bench_now(), ++seq);
		len = tp_req_build(sl->req, sizeof(sl->req), &r, sl->tid, &sl->sess);
		if (len < 0)
			return (int)len;
		sl->len = (size_t)len;
		sl->tx = 0;
	}
	sl->tx++;
	sl->deadline = tp_bench_now() + RTO_NS;
	if (send(sl->fd, sl->req, sl->len, 0) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

static int slot_start(struct slot *sl, const struct tp_target *t, const struct tp_script *s,
                      uint32_t idx)
{
	struct sockaddr_in src;
	uint16_t port = s->ports ? s->ports[idx] : 0;
	int fd;

	memset(sl, 0, sizeof(*sl));
	tp_sess_init(&sl->sess);
	sl->fd = -1;
	sl->idx = idx;
	tp_bench_src_addr(&src, s->block, s->first + idx, port);
	fd = tp_bench_udp(&src, &t->addr);
	if (fd < 0)
		return fd;
	sl->fd = fd;
	if (s->ports && port == 0)
		s->ports[idx] = (uint16_t)tp_bench_local_port(fd);
	return slot_send(sl, s, true);
}

/* An answer for this slot: 1 script done, 0 continuing, -1 failed. */
static int slot_answer(struct slot *sl, const struct tp_script *s, enum tp_tc_res res,
                       uint16_t code)
{
	enum tp_step st = s->steps[sl->step];
	bool ok = st == TP_S_ALLOC_401 ? code == 401 : code == 0;

	/* TP_TC_RETRY: a 401/438 gave the session what it needs to sign */
	if (!ok && res == TP_TC_RETRY && st != TP_S_ALLOC_401 && ++sl->rounds < MAX_ROUNDS)
		return slot_send(sl, s, true) == 0 ? 0 : -1;
	if (!ok)
		return -1;
	sl->rounds = 0;
	if (++sl->step == s->nsteps)
		return 1;
	return slot_send(sl, s, true) == 0 ? 0 : -1;
}

int tp_script_run(const struct tp_target *t, const struct tp_script *s, struct tp_script_res *r)
{
	struct slot *sl;
	struct pollfd pfd[MAX_CONC];
	unsigned conc = s->conc ? s->conc : 32, active = 0;
	uint64_t start, stop_at, next = 0;
	uint8_t buf[2048];

	memset(r, 0, sizeof(*r));
	if (conc > MAX_CONC)
		conc = MAX_CONC;
	sl = calloc(conc, sizeof(*sl));
	if (!sl)
		return -ENOMEM;
	for (unsigned i = 0; i < conc; i++)
		sl[i].fd = -1;
	start = tp_bench_now();
	stop_at = start + (uint64_t)(s->secs * 1e9);
	for (;;) {
		uint64_t now = tp_bench_now();
		bool starting = now < stop_at && next < s->count;

		if (!starting && (active == 0 || now > stop_at + GRACE_NS))
			break;
		for (unsigned i = 0; i < conc; i++) {
			if (sl[i].fd >= 0 || !starting || next >= s->count)
				continue;
			if (slot_start(&sl[i], t, s, (uint32_t)next++) != 0) {
				slot_close(&sl[i]);
				r->failed++;
				continue;
			}
			active++;
		}
		for (unsigned i = 0; i < conc; i++)
			pfd[i] = (struct pollfd){ sl[i].fd, POLLIN, 0 };
		if (poll(pfd, conc, 10) < 0 && errno != EINTR)
			break;
		now = tp_bench_now();
		for (unsigned i = 0; i < conc; i++) {
			int v = 0;

			if (sl[i].fd < 0)
				continue;
			if (pfd[i].revents & POLLIN) {
				ssize_t n = recv(sl[i].fd, buf, sizeof(buf), 0);
				uint16_t code = 0;
				enum tp_tc_res res = TP_TC_MALFORMED;

				if (n > 0)
					res = tp_resp_read(buf, (size_t)n, &sl[i].sess, &code, NULL);
				if (tp_resp_is_answer(res)) {
					if (code != 0 && code != 401)
						r->last_err = code;
					v = slot_answer(&sl[i], s, res, code);
				}
			} else if (now > sl[i].deadline) {
				v = sl[i].tx < MAX_TX && slot_send(&sl[i], s, false) == 0 ? 0 : -1;
			}
			if (v == 0)
				continue;
			if (v > 0)
				r->done++;
			else
				r->failed++;
			slot_close(&sl[i]);
			active--;
		}
	}
	for (unsigned i = 0; i < conc; i++) {
		if (sl[i].fd >= 0) {
			r->failed++;
			slot_close(&sl[i]);
		}
	}
	r->secs = (double)(tp_bench_now() - start) / 1e9;
	free(sl);
	return 0;
}
