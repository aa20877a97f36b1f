/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * offload_srv.c - the kernel offload's control plane from the server's side
 * (see offload_srv.h): install a channel after its ChannelBind, fold its
 * counters, remove it when the kernel may no longer relay it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "conf.h"
#include "log.h"
#include "offload.h"
#include "offload_srv.h"
#include "peerpol.h"
#include "ports.h"
#include "shared.h"

struct ent {
	struct tp_offload_chan c;
	struct tp_offload_counts seen;      /* already folded into the counters */
};

/* The installed channels of one allocation (a->ofl). */
struct tp_ofl_alloc {
	size_t n, cap;
	struct ent v[];
};

void tp_offload_srv_open(struct tp_shared *sh, const struct tp_conf *c,
                         const struct tp_addr *local, size_t nlocal)
{
	struct tp_offload_opts opts = { .attach = TP_OFFLOAD_ATTACH_AUTO };
	char err[256] = "";
	int rc;

	sh->offload = NULL;
	if (!c->kernel_offload)
		return;
	rc = tp_offload_open(local, nlocal, &opts, &sh->offload, err, sizeof(err));
	if (rc) {
		sh->offload = NULL;
		tp_warn(NULL, "offload: kernel datapath disabled, relaying in user space: %s", err);
		return;
	}
	tp_info(NULL, "offload: kernel datapath on (%s attachment, up to %u channels)",
	        tp_offload_attach_name(sh->offload), TP_OFFLOAD_DEFAULT_CHANS);
}

void tp_offload_srv_close(struct tp_shared *sh)
{
	tp_offload_close(sh->offload);
	sh->offload = NULL;
}

size_t tp_offload_srv_count(const struct tp_alloc *a)
{
	return a->ofl ? a->ofl->n : 0;
}

/* What the kernel relayed for e since the last fold, into a's and its
 * worker's counters (the same ones user space counts into). */
static void fold(struct tp_alloc *a, struct ent *e, const struct tp_offload_counts *now)
{
	uint64_t cp = now->c2p_pkts - e->seen.c2p_pkts, cb = now->c2p_bytes - e->seen.c2p_bytes;
	uint64_t pp = now->p2c_pkts - e->seen.p2c_pkts, pb = now->p2c_bytes - e->seen.p2c_bytes;
	struct tp_stats *st = &a->s->stats;
	unsigned t = a->ft.transport % TP_ST_COUNT;

	e->seen = *now;
	a->from_client_pkts += cp;
	a->from_client_bytes += cb;
	a->tx_pkts += cp;
	a->tx_bytes += cb;
	a->from_peer_pkts += pp;
	a->from_peer_bytes += pb;
	a->rx_pkts += pp;
	a->rx_bytes += pb;
	st->relay_pkts[TP_SD_TO_PEER][t] += cp;
	st->relay_bytes[TP_SD_TO_PEER][t] += cb;
	st->relay_pkts[TP_SD_TO_CLIENT][t] += pp;
	st->relay_bytes[TP_SD_TO_CLIENT][t] += pb;
	st->offload_pkts[TP_SD_TO_PEER] += cp;
	st->offload_bytes[TP_SD_TO_PEER] += cb;
	st->offload_pkts[TP_SD_TO_CLIENT] += pp;
	st->offload_bytes[TP_SD_TO_CLIENT] += pb;
}

static bool is_relay_ip(const struct tp_shared *sh, const struct tp_addr *ip)
{
	for (size_t i = 0; i < sh->npools; i++)
		if (tp_addr_ip_eq(&sh->pools[i]->ip, ip))
			return true;
	return false;
}

const char *tp_offload_srv_refused(struct tp_alloc *a, uint16_t num, const struct tp_addr *peer)
{
	struct tp_srv *s = a->s;
	const struct tp_conf *c = s->conf;
	time_t soon = tp_now(s) + TP_OFL_MARGIN;
	const struct tp_chan *ch;

	if (a->ft.transport != TP_LISTEN_UDP)
		return "client not on UDP";
	if (a->is_tcp)
		return "TCP relay";
	if (c->max_bps || c->user_max_bps)
		return "bandwidth cap (max-bps, user-max-bps)";
	if (peer->family != a->ft.client.family || peer->family != a->ft.local.family)
		return "client and peer of different families";
	ch = tp_chans_by_num(&a->chans, num, soon);
	if (!ch || !tp_addr_eq(&ch->peer, peer))
		return "channel expires";
	if (!tp_perms_ok(&a->perms, peer, soon))
		return "permission expires";
	if (ch->self_relay || is_relay_ip(s->sh, peer))
		return "peer is one of our relay addresses";
	if (tp_peer_check(c, &s->self, peer, TP_PEER_PORT) != TP_PEER_OK)
		return "peer policy";
	return NULL;
}

/* Remove entry i of a: the kernel stops relaying it; its last counts are
 * folded in. */
static void remove_ent(struct tp_alloc *a, size_t i, const char *why)
{
	struct tp_ofl_alloc *t = a->ofl;
	struct tp_offload_counts last;
	struct tp_logctx ctx;

	if (tp_offload_chan_del(a->s->sh->offload, &t->v[i].c, &last) == 0)
		fold(a, &t->v[i], &last);
	tp_alloc_logctx(a, &ctx);
	tp_debug(&ctx, "offload: channel 0x%04x back to user space: %s", t->v[i].c.chan, why);
	t->v[i] = t->v[--t->n];
	if (t->n == 0) {
		free(t);
		a->ofl = NULL;
	}
}

static void remove_all(struct tp_alloc *a, const char *why)
{
	while (a->ofl)
		remove_ent(a, a->ofl->n - 1, why);
}

void tp_offload_srv_chan_bound(struct tp_alloc *a, const struct tp_chan *ch)
{
	struct tp_srv *s = a->s;
	struct tp_offload *o = s->sh->offload;
	const struct tp_relay *r;
	struct tp_logctx ctx;
	const char *why;
	struct ent e;
	int rc;

	if (!o || !ch)
		return;
	for (size_t i = 0; a->ofl && i < a->ofl->n; i++)
		if (a->ofl->v[i].c.chan == ch->num) {
			if (tp_addr_eq(&a->ofl->v[i].c.peer, &ch->peer))
				return;             /* a refresh of an installed channel */
			remove_ent(a, i, "rebound");
			break;
		}
	tp_alloc_logctx(a, &ctx);
	why = tp_offload_srv_refused(a, ch->num, &ch->peer);
	r = why ? NULL : tp_alloc_relay_for(a, &ch->peer);
	if (!r) {
		tp_debug(&ctx, "offload: channel 0x%04x stays in user space: %s", ch->num,
		         why ? why : "no relay of the peer's family");
		return;
	}
	if (!a->ofl || a->ofl->n == a->ofl->cap) {
		size_t cap = a->ofl ? 2 * a->ofl->cap : 2;
		struct tp_ofl_alloc *t = realloc(a->ofl, sizeof(*t) + cap * sizeof(t->v[0]));

		if (!t)
			return;
		if (!a->ofl)
			t->n = 0;
		t->cap = cap;
		a->ofl = t;
	}
	memset(&e, 0, sizeof(e));
	e.c.client = a->ft.client;
	e.c.listener = a->ft.local;
	e.c.relay = r->addr;
	e.c.peer = ch->peer;
	e.c.chan = ch->num;
	rc = tp_offload_chan_add(o, &e.c);
	if (rc) {
		s->stats.offload_install_failures++;
		tp_debug(&ctx, "offload: channel 0x%04x stays in user space: %s", ch->num,
		         strerror(-rc));
		if (a->ofl->n == 0) {
			free(a->ofl);
			a->ofl = NULL;
		}
		return;
	}
	s->stats.offload_installed++;
	a->ofl->v[a->ofl->n++] = e;
	tp_debug(&ctx, "offload: channel 0x%04x relayed by the kernel", ch->num);
}

void tp_offload_srv_moved(struct tp_alloc *a)
{
	remove_all(a, "allocation moves (mobility)");
}

void tp_offload_srv_released(struct tp_alloc *a)
{
	remove_all(a, "allocation ended");
}

static void tick_one(void *arg, struct tp_alloc *a)
{
	(void)arg;
	for (size_t i = a->ofl ? a->ofl->n : 0; i-- > 0;) {
		struct ent *e = &a->ofl->v[i];
		const char *why = tp_offload_srv_refused(a, e->c.chan, &e->c.peer);
		struct tp_offload_counts now;

		if (why)
			remove_ent(a, i, why);
		else if (tp_offload_chan_counts(a->s->sh->offload, &e->c, &now) == 0)
			fold(a, e, &now);
	}
}

void tp_offload_srv_tick(struct tp_srv *s)
{
	if (s->sh->offload)
		tp_allocs_foreach(s->allocs, tick_one, NULL);
}
