/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kpath.c - tp-kpath: the bare kernel datapath as a relay, for
 * tools/bench/machcpu.sh (issue 15 "Benchmark"), until the server itself
 * installs channels.
 *
 * Opens the offload module (server/offload.c) in the current namespace, binds
 * the listener socket and one relay socket per pair (so that the relay
 * addresses are owned, as the program requires, and anything it does not
 * take lands in a socket), and installs channel 0x4000+i between client
 * CLIENT_IP:40000+i and peer PEER_IP:9000+i through relay RELAY_IP:49152+i:
 * the same numbering as tp-machcpu and tp-forwarder. Then it sleeps; the
 * kernel relays. On SIGTERM/SIGINT or after --time it prints what the
 * kernel path counted and exits.
 *
 *   tp-kpath --listen IP:PORT --relay-ip IP --client-ip IP --peer-ip IP
 *            [--pairs N] [--time S] [--attach auto|tcx|tc] [--prog-stats]
 *
 * --prog-stats turns on the kernel's run-time statistics for BPF programs
 * (BPF_ENABLE_STATS: for as long as this process holds the fd, for every
 * program on the machine; adds two clock reads per run) and prints the
 * program's own time per invocation at the end.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "offload.h"
#include "proto.h"

#define MAX_PAIRS 64

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int bound(const struct tp_addr *a)
{
	struct sockaddr_storage ss;
	unsigned len = tp_addr_to_sa(a, &ss);
	int fd = socket(a->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void usage(void)
{
	fprintf(stderr, "usage: tp-kpath --listen IP:PORT --relay-ip IP --client-ip IP "
	                "--peer-ip IP [--pairs N] [--time S] [--attach auto|tcx|tc] "
	                "[--prog-stats]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "listen", 1, 0, 'l' }, { "relay-ip", 1, 0, 'r' }, { "client-ip", 1, 0, 'c' },
		{ "peer-ip", 1, 0, 'p' }, { "pairs", 1, 0, 'n' }, { "time", 1, 0, 't' },
		{ "attach", 1, 0, 'a' }, { "prog-stats", 0, 0, 'S' }, { 0, 0, 0, 0 }
	};
	struct tp_addr listen = { 0 }, relay_ip = { 0 }, client_ip = { 0 }, peer_ip = { 0 };
	struct tp_offload_opts op = { .max_chans = MAX_PAIRS };
	struct tp_offload_chan ch[MAX_PAIRS];
	struct tp_addr local[MAX_PAIRS + 1];
	struct tp_offload *o;
	unsigned pairs = 4, secs = 300;
	int fds[MAX_PAIRS + 1], c, e, stats_fd = -1;
	bool prog_stats = false;
	char err[256];
	time_t until;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'l': if (tp_addr_parse(&listen, optarg, 0) || !listen.port) usage(); break;
		case 'r': if (tp_addr_parse(&relay_ip, optarg, 0)) usage(); break;
		case 'c': if (tp_addr_parse(&client_ip, optarg, 0)) usage(); break;
		case 'p': if (tp_addr_parse(&peer_ip, optarg, 0)) usage(); break;
		case 'n': pairs = (unsigned)atoi(optarg); break;
		case 't': secs = (unsigned)atoi(optarg); break;
		case 'a':
			if (strcmp(optarg, "tcx") == 0)
				op.attach = TP_OFFLOAD_ATTACH_TCX;
			else if (strcmp(optarg, "tc") == 0)
				op.attach = TP_OFFLOAD_ATTACH_TC;
			else if (strcmp(optarg, "auto") != 0)
				usage();
			break;
		case 'S': prog_stats = true; break;
		default: usage();
		}
	}
	if (!listen.family || !relay_ip.family || !client_ip.family || !peer_ip.family ||
	    pairs == 0 || pairs > MAX_PAIRS || secs == 0 || secs > 3600)
		usage();

	local[0] = listen;
	fds[0] = bound(&listen);
	for (unsigned i = 0; i < pairs; i++) {
		local[i + 1] = relay_ip;
		local[i + 1].port = (uint16_t)(49152 + i);
		fds[i + 1] = bound(&local[i + 1]);
		if (fds[i + 1] < 0)
			break;
	}
	if (fds[0] < 0 || fds[pairs] < 0) {
		fprintf(stderr, "tp-kpath: bind: %s\n", strerror(errno));
		return 1;
	}
	e = tp_offload_open(local, pairs + 1, &op, &o, err, sizeof(err));
	if (e) {
		fprintf(stderr, "tp-kpath: %s\n", err);
		return e == -EPERM || e == -ENOTSUP ? 77 : 1;
	}
	for (unsigned i = 0; i < pairs; i++) {
		ch[i] = (struct tp_offload_chan){ .client = client_ip, .listener = listen,
		                                  .relay = local[i + 1], .peer = peer_ip,
		                                  .chan = (uint16_t)(TP_CHAN_MIN + i) };
		ch[i].client.port = (uint16_t)(40000 + i);
		ch[i].peer.port = (uint16_t)(9000 + i);
		e = tp_offload_chan_add(o, &ch[i]);
		if (e) {
			fprintf(stderr, "tp-kpath: channel %u: %s\n", i, strerror(-e));
			tp_offload_close(o);
			return 1;
		}
	}
	if (prog_stats) {
		stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (stats_fd < 0)
			fprintf(stderr, "tp-kpath: BPF_ENABLE_STATS: %s\n", strerror(-stats_fd));
	}
	fprintf(stderr, "tp-kpath: %u channels in the kernel (%s)\n", pairs,
	        tp_offload_attach_name(o));
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	until = time(NULL) + (time_t)secs;
	while (!stop && time(NULL) < until)
		usleep(100000);

	struct tp_offload_counts t = { 0 };
	uint64_t r[TP_OFFLOAD_NREASONS];

	for (unsigned i = 0; i < pairs; i++) {
		struct tp_offload_counts k;

		if (tp_offload_chan_counts(o, &ch[i], &k) == 0) {
			t.c2p_pkts += k.c2p_pkts;
			t.c2p_bytes += k.c2p_bytes;
			t.p2c_pkts += k.p2c_pkts;
			t.p2c_bytes += k.p2c_bytes;
		}
	}
	fprintf(stderr, "tp-kpath: relayed c2p %llu pkts %llu B, p2c %llu pkts %llu B; passed:",
	        (unsigned long long)t.c2p_pkts, (unsigned long long)t.c2p_bytes,
	        (unsigned long long)t.p2c_pkts, (unsigned long long)t.p2c_bytes);
	tp_offload_reasons(o, r);
	for (int i = TP_OFFLOAD_NO_ENTRY; i < TP_OFFLOAD_NREASONS; i++)
		if (r[i])
			fprintf(stderr, " %s %llu", tp_offload_reason_name((enum tp_offload_reason)i),
			        (unsigned long long)r[i]);
	fprintf(stderr, "\n");
	if (stats_fd >= 0) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);

		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(tp_offload_prog_fd(o), &info, &len) == 0 && info.run_cnt)
			fprintf(stderr, "tp-kpath: the program ran %llu times, %.0f ns each on average\n",
			        (unsigned long long)info.run_cnt,
			        (double)info.run_time_ns / (double)info.run_cnt);
		close(stats_fd);
	}
	tp_offload_close(o);
	return 0;
}
