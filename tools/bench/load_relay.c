/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * load_relay.c - relayed packets/s, Mbit/s, round trips and the server's CPU
 * per relayed packet: N allocations, each with a permission and a channel to
 * one of the bench's echo peers; ChannelData and Send/Data indications, 100 B
 * and 1200 B payloads, at maximum (closed loop) and at a fixed rate.
 * A packet is counted each time the server forwards it: a round trip
 * (client -> server -> peer -> server -> client) is two relayed packets.
 * Against the bare forwarder only ChannelData applies; its channels are fixed.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

int tp_relay_set_open(struct tp_relay_set *rs, struct tp_target *t, struct tp_echo *e,
                      unsigned n, uint8_t block)
{
	rs->t = t;
	rs->e = e;
	rs->n = n > TP_RELAY_SET_MAX ? TP_RELAY_SET_MAX : n;
	for (unsigned i = 0; i < TP_RELAY_SET_MAX; i++)
		rs->fd[i] = -1;
	for (unsigned i = 0; i < rs->n; i++) {
		const struct tp_addr *peer = &e->addr[i % e->n];
		struct tp_req alloc = { .method = TP_METHOD_ALLOCATE, .lifetime = 3600, .auth = true };
		struct tp_req perm = { .method = TP_METHOD_CREATE_PERMISSION, .lifetime = -1,
		                       .peer = peer, .auth = true };
		struct sockaddr_in src;
		int rc;

		tp_sess_init(&rs->sess[i]);
		tp_bench_src_addr(&src, block, i, 0);
		rs->fd[i] = tp_bench_udp(&src, &t->addr);
		if (rs->fd[i] < 0)
			return rs->fd[i];
		if (t->kind == TP_T_FORWARDER) {
			rs->chan[i] = (uint16_t)(TP_CHAN_MIN + i);
			continue;
		}
		rs->chan[i] = TP_CHAN_MIN;
		if ((rc = tp_transact(rs->fd[i], &rs->sess[i], &alloc, NULL)) != 0 ||
		    (rc = tp_transact(rs->fd[i], &rs->sess[i], &perm, NULL)) != 0) {
			fprintf(stderr, "tp-bench: %s: relay setup %u failed: %d\n", t->name, i, rc);
			close(rs->fd[i]);
			rs->fd[i] = -1;
			return rc < 0 ? rc : -EPROTO;
		}
	}
	return 0;
}

/* Channels come after the Send runs: with a channel bound, the server answers
 * with ChannelData instead of Data indications (RFC 8656 §11.5). */
int tp_relay_set_channels(struct tp_relay_set *rs)
{
	for (unsigned i = 0; i < rs->n && rs->t->kind != TP_T_FORWARDER; i++) {
		struct tp_req bind = { .method = TP_METHOD_CHANNEL_BIND, .lifetime = -1,
		                       .peer = &rs->e->addr[i % rs->e->n], .chan = TP_CHAN_MIN,
		                       .auth = true };
		int rc = tp_transact(rs->fd[i], &rs->sess[i], &bind, NULL);

		if (rc != 0)
			return rc < 0 ? rc : -EPROTO;
	}
	return 0;
}

void tp_relay_set_close(struct tp_relay_set *rs)
{
	struct tp_req r0 = { .method = TP_METHOD_REFRESH, .lifetime = 0, .auth = true };

	for (unsigned i = 0; i < rs->n; i++) {
		if (rs->fd[i] < 0)
			continue;
		if (rs->t->kind != TP_T_FORWARDER)
			(void)tp_transact(rs->fd[i], &rs->sess[i], &r0, NULL);
		close(rs->fd[i]);
		rs->fd[i] = -1;
	}
}

static void run(struct tp_relay_set *rl, const struct tp_bench_opts *o, enum tp_flow_kind kind,
                size_t size, double rate)
{
	struct tp_flow *f = calloc(rl->n, sizeof(*f));
	struct tp_eng_cfg c = { .rate = rate / 2, .window = o->window, .secs = o->secs };
	struct tp_eng_res r = { 0 };
	struct tp_procstat a, b;
	enum tp_target_kind k = rl->t->kind;
	char label[96], m[160];
	double pkts;

	if (!f)
		return;
	snprintf(label, sizeof(label), "Relay %s %zu B %s", kind == TP_F_SEND ? "Send" : "ChanData",
	         size, rate > 0 ? "" : "max");
	if (rate > 0)
		snprintf(label + strlen(label), sizeof(label) - strlen(label), "@%.0f/s", rate);
	for (unsigned i = 0; i < rl->n; i++) {
		f[i].fd = rl->fd[i];
		f[i].kind = kind;
		if (kind == TP_F_CHANDATA) {
			tp_chan_put_header(f[i].tmpl, rl->chan[i], (uint16_t)size);
			f[i].len = TP_CHAN_HDR_LEN + ((size + 3) & ~(size_t)3);
			f[i].ts_off = TP_CHAN_HDR_LEN;
		} else {
			long len = tp_send_ind_build(f[i].tmpl, sizeof(f[i].tmpl),
			                             &rl->e->addr[i % rl->e->n], size, &f[i].ts_off);

			if (len < 0)
				goto out;
			f[i].len = (size_t)len;
		}
	}
	tp_procstat_read(rl->t->pid, &a);
	if (tp_engine_run(f, rl->n, &c, &r) != 0)
		goto out;
	tp_procstat_read(rl->t->pid, &b);
	pkts = 2.0 * (double)r.recv;
	if (rate <= 0) {
		snprintf(m, sizeof(m), "%s: relayed packets/s", label);
		tp_report_set(m, "/s", TP_R_HIGHER | TP_R_INT, k, pkts / r.secs);
		snprintf(m, sizeof(m), "%s: payload Mbit/s", label);
		tp_report_set(m, "Mb/s", TP_R_HIGHER, k, pkts * (double)size * 8 / r.secs / 1e6);
	} else {
		snprintf(m, sizeof(m), "%s: answered", label);
		tp_report_set(m, "%", TP_R_HIGHER, k,
		              r.sent ? 100.0 * (double)r.recv / (double)r.sent : NAN);
	}
	if (a.ok && b.ok && r.recv) {
		snprintf(m, sizeof(m), "%s: server CPU per packet", label);
		tp_report_set(m, "us", TP_R_LOWER, k, (double)(b.cpu_ns - a.cpu_ns) / 1e3 / pkts);
	}
	snprintf(m, sizeof(m), "%s: round trip p50", label);
	tp_report_set(m, "us", TP_R_LOWER, k, tp_lat_us(&r.lat, 0.5));
	snprintf(m, sizeof(m), "%s: round trip p99", label);
	tp_report_set(m, "us", TP_R_LOWER, k, tp_lat_us(&r.lat, 0.99));
out:
	tp_lat_free(&r.lat);
	free(f);
}

void tp_load_relay(struct tp_target *t, const struct tp_bench_opts *o, struct tp_echo *e)
{
	static const size_t sizes[] = { 100, 1200 };
	struct tp_relay_set *rl = calloc(1, sizeof(*rl));
	int err;

	if (!rl)
		return;
	err = tp_relay_set_open(rl, t, e, o->relay_allocs, 48);
	if (err) {
		tp_report_note("%s: relay setup failed (%d): no relay figures", t->name, err);
		goto out;
	}
	for (int kind = TP_F_SEND; kind >= TP_F_CHANDATA; kind--) {
		if (kind == TP_F_SEND && t->kind == TP_T_FORWARDER)
			continue;
		if (kind == TP_F_CHANDATA && (err = tp_relay_set_channels(rl)) != 0) {
			tp_report_note("%s: ChannelBind failed (%d)", t->name, err);
			break;
		}
		for (size_t s = 0; s < 2; s++) {
			run(rl, o, (enum tp_flow_kind)kind, sizes[s], 0);
			if (o->relay_rate > 0)
				run(rl, o, (enum tp_flow_kind)kind, sizes[s], o->relay_rate);
		}
	}
out:
	tp_relay_set_close(rl);
	free(rl);
}
