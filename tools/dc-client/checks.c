/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * checks.c - the ICE connectivity checks of a run, per candidate pair, as the
 * tap (tap.c) saw them on the wire: when the first check went out, how many
 * transactions and datagrams (retransmissions included), the first answer
 * and its time, or none; and the checks the peer sent us on the same pair.
 *
 * Called from the tap on any thread; own lock. A pair is our candidate (host:
 * the socket's address; relay: its allocation's relayed address) and the
 * peer's address. Checks on a pair after its first success are consent and
 * keepalive traffic: they do not change its record.
 */
#include <string.h>

#include "dc.h"
#include "proto.h"

#define MAX_TIDS 1024

struct tid {
	uint8_t tid[TP_STUN_TID_LEN];
	int pair;
	gint64 t_sent;                     /* its last transmission */
};

static GMutex lock;
static struct dc_check pairs[DC_MAX_CHECKS];
static size_t npairs;
static struct tid tids[MAX_TIDS];      /* a ring: the oldest are forgotten */
static size_t ntids, tid_next;

static bool same(const struct dc_pair_id *a, const struct dc_pair_id *b)
{
	return strcmp(a->ltype, b->ltype) == 0 && strcmp(a->laddr, b->laddr) == 0 &&
	       strcmp(a->raddr, b->raddr) == 0 && strcmp(a->via, b->via) == 0;
}

/* Called with lock held. -1 when the table is full. */
static int pair_of(const struct dc_pair_id *id)
{
	for (size_t i = 0; i < npairs; i++)
		if (same(&pairs[i].id, id))
			return (int)i;
	if (npairs == DC_MAX_CHECKS)
		return -1;
	memset(&pairs[npairs], 0, sizeof(pairs[0]));
	pairs[npairs].id = *id;
	pairs[npairs].code = -1;
	return (int)npairs++;
}

static struct tid *tid_find(const uint8_t *tid)
{
	for (size_t i = 0; i < ntids; i++)
		if (memcmp(tids[i].tid, tid, TP_STUN_TID_LEN) == 0)
			return &tids[i];
	return NULL;
}

void dc_checks_sent(const struct dc_pair_id *id, const uint8_t *tid, bool nominate, gint64 t)
{
	struct dc_check *c;
	struct tid *x;
	int p;

	g_mutex_lock(&lock);
	p = pair_of(id);
	if (p < 0)
		goto out;
	c = &pairs[p];
	if (c->code == 0)
		goto out;                     /* consent/keepalive on a working pair */
	x = tid_find(tid);
	c->sent++;
	c->nominated |= nominate;
	if (!c->t_first)
		c->t_first = t;
	c->t_last = t;
	if (x) {
		x->t_sent = t;                /* a retransmission */
		goto out;
	}
	c->requests++;
	x = &tids[tid_next];
	tid_next = (tid_next + 1) % MAX_TIDS;
	if (ntids < MAX_TIDS)
		ntids++;
	memcpy(x->tid, tid, TP_STUN_TID_LEN);
	x->pair = p;
	x->t_sent = t;
out:
	g_mutex_unlock(&lock);
}

void dc_checks_answer(const uint8_t *tid, const char *from, int code, const char *reason,
                      gint64 t)
{
	struct dc_check *c;
	struct tid *x;

	g_mutex_lock(&lock);
	x = tid_find(tid);
	if (!x)
		goto out;                     /* not a check of ours */
	c = &pairs[x->pair];
	if (c->code == 0)
		goto out;                     /* answered already */
	c->answers++;
	if (strcmp(from, c->id.raddr) != 0 && code == 0) {
		/* RFC 8445 §7.2.5.2.1: the answer must come from where the check went */
		snprintf(c->answer_from, sizeof(c->answer_from), "%s", from);
		c->code = -2;
		c->t_answer = t;
		goto out;
	}
	c->code = code;
	c->t_answer = t;
	c->rtt_ms = (double)(t - x->t_sent) / 1000.0;
	snprintf(c->reason, sizeof(c->reason), "%s", reason);
out:
	g_mutex_unlock(&lock);
}

void dc_checks_peer(const struct dc_pair_id *id, bool nominate, gint64 t)
{
	int p;

	g_mutex_lock(&lock);
	p = pair_of(id);
	if (p >= 0) {
		pairs[p].peer_checks++;
		pairs[p].peer_nominated |= nominate;
		if (!pairs[p].t_peer)
			pairs[p].t_peer = t;
	}
	g_mutex_unlock(&lock);
}

size_t dc_checks_get(struct dc_check *out, size_t cap)
{
	size_t n;

	g_mutex_lock(&lock);
	n = MIN(npairs, cap);
	memcpy(out, pairs, n * sizeof(pairs[0]));
	g_mutex_unlock(&lock);
	return n;
}
