/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * load_burst.c - datagrams lost to a burst: N allocations, each with a
 * channel to an echo peer, send BURST ChannelData datagrams of 1200 B all at
 * once (every allocation in turn, no pause), as a video keyframe from many
 * clients would; the peers echo each one back through the server. What does
 * not come back within a second was dropped somewhere: in practice by a full
 * UDP receive buffer on the server's listener (client -> server) or relay
 * socket (peer -> server), since the bench's own sockets have 4 MB buffers.
 * Three bursts per run, the figure is their total.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#define BURST 100
#define SIZE 1200
#define ROUNDS 3

/* Receive everything that arrives on the set's sockets for up to ms after the
 * last arrival; returns how many datagrams. */
static uint64_t drain(struct tp_relay_set *rs, unsigned ms)
{
	struct pollfd *p = calloc(rs->n, sizeof(*p));
	uint8_t buf[2048];
	uint64_t got = 0;

	if (!p)
		return 0;
	for (unsigned i = 0; i < rs->n; i++)
		p[i] = (struct pollfd){ .fd = rs->fd[i], .events = POLLIN };
	for (;;) {
		int r = poll(p, rs->n, (int)ms);

		if (r <= 0)
			break;
		for (unsigned i = 0; i < rs->n; i++)
			if (p[i].revents & POLLIN)
				while (recv(p[i].fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
					got++;
	}
	free(p);
	return got;
}

void tp_load_burst(struct tp_target *t, const struct tp_bench_opts *o, struct tp_echo *e,
                   const char *label)
{
	struct tp_relay_set *rs = calloc(1, sizeof(*rs));
	uint8_t dg[TP_CHAN_HDR_LEN + SIZE];
	uint64_t sent = 0, recv = 0;
	char m[160];
	int err;

	if (!rs)
		return;
	err = tp_relay_set_open(rs, t, e, o->burst_allocs, 64);
	if (!err)
		err = tp_relay_set_channels(rs);
	if (err) {
		tp_report_note("%s: burst setup failed (%d)", t->name, err);
		goto out;
	}
	memset(dg, 0xB5, sizeof(dg));
	for (int round = 0; round < ROUNDS; round++) {
		for (unsigned i = 0; i < rs->n; i++) {
			tp_chan_put_header(dg, rs->chan[i], SIZE);
			for (int k = 0; k < BURST; k++)
				if (send(rs->fd[i], dg, sizeof(dg), 0) == (ssize_t)sizeof(dg))
					sent++;
		}
		recv += drain(rs, 1000);
	}
	snprintf(m, sizeof(m), "Burst %u allocs x %d x %d B: datagrams lost%s%s", rs->n, BURST, SIZE,
	         label[0] ? ", " : "", label);
	tp_report_set(m, "%", TP_R_LOWER, t->kind,
	              sent ? 100.0 * (double)(sent - (recv < sent ? recv : sent)) / (double)sent
	                   : NAN);
	fprintf(stderr, "tp-bench: %s burst%s%s: sent %llu, back %llu\n", t->name,
	        label[0] ? " " : "", label, (unsigned long long)sent, (unsigned long long)recv);
out:
	tp_relay_set_close(rs);
	free(rs);
}
