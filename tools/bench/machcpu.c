/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * machcpu.c - tp-machcpu: machine CPU per relayed packet (issue 15 "Benchmark").
 *
 * A load generator for the namespace topology of tools/bench/machcpu.sh: N
 * client sockets in the client namespace send ChannelData (channel 0x4000+i,
 * SIZE data bytes) to the relay's listener at a fixed total rate; N peer
 * sockets in the peer namespace echo every datagram back to where it came
 * from (the relay address), so the relay forwards each one twice, once each
 * way; the client sockets count what comes back as ChannelData and take the
 * round-trip time from a timestamp in the payload. Single-threaded (setns
 * creates the sockets in their namespaces), optionally pinned to one CPU.
 *
 * Figures, over the measured window (after a warm-up):
 *   machine   busy time of all CPUs (elapsed minus /proc/stat idle and
 *             iowait; see stat_idle) during the loaded slices, minus the
 *             background busy rate measured in the unloaded slices between
 *             them (the window alternates 500 ms with and 500 ms without
 *             load: other tenants), minus this process's own CPU
 *             (CLOCK_PROCESS_CPUTIME_ID), per relayed datagram: what the
 *             issue calls machine CPU per relayed packet;
 *   relay cpu the busy time of --relay-cpu alone (minus its background), per
 *             relayed datagram: when the driver steers the server's receive
 *             processing there (RPS) and pins the server process there, this
 *             is the relay's cost without the tick-accounting caveat below;
 *   server    the server process's own CPU per relayed datagram (--server-pid;
 *             near zero for the kernel path, which is why it flatters it);
 *   loss, p50/p99 round trip.
 * Caveat: without CONFIG_IRQ_TIME_ACCOUNTING, softirq work that runs inside
 * this process's system calls (on veth, the whole receive path of the other
 * end can) is charged to it and subtracted from "machine"; the driver's RPS
 * steering keeps the relay's part off the generator's CPU.
 *
 *   tp-machcpu --cli-ns NS --peer-ns NS --listen IP:PORT --client-ip IP
 *              --peer-ip IP [--pairs N] [--rate PPS] [--size B] [--time S]
 *              [--warmup S] [--gen-cpu C] [--relay-cpu C] [--server-pid PID]
 *              [--label TEXT] [--turn] [--header]
 * --turn: the relay is a TURN server (turnpike): each client socket first
 * allocates (the bench's user, tools/bench/client.c) and binds channel
 * 0x4000+i to its peer, which then echoes to the relayed address.
 * Traffic goes only to the addresses given, which the driver puts inside
 * namespaces it created. Bounded: --time (max 60 s) and rate (max 200k/s).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "proto.h"

#define MAX_PAIRS 64
#define BATCH 64
#define MAX_SIZE 1400
#define MAX_RTT 2000000

struct opts {
	const char *cli_ns, *peer_ns, *label;
	struct tp_addr listen, client_ip, peer_ip;
	unsigned pairs, rate, size, secs, warmup;
	int gen_cpu, relay_cpu, server_pid;
	bool header, turn;
};

struct cpu_sample {
	uint64_t idle, idle1;          /* idle + iowait, all CPUs / the relay CPU, USER_HZ */
	uint64_t wall_ns;              /* when */
	uint64_t self_ns;              /* this process */
	uint64_t server_ticks;         /* the server process (utime + stime) */
};

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Idle time of a /proc/stat cpu line (idle + iowait). Busy time is taken as
 * elapsed time minus this, not as the sum of the user/system/softirq fields:
 * those are sampled at the tick and miss most of a relay's short bursts of
 * work, while idle time on a tickless (NO_HZ) kernel is measured exactly.
 */
static uint64_t stat_idle(const char *line)
{
	unsigned long long v[5] = { 0 };
	const char *p = strchr(line, ' ');

	if (!p || sscanf(p, "%llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4]) != 5)
		return 0;
	return v[3] + v[4];
}

static uint64_t proc_ticks(int pid)
{
	char path[64], buf[1024];
	unsigned long long ut = 0, st = 0;
	const char *p;
	FILE *f;
	size_t n;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (p)
		sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st);
	return ut + st;
}

static void sample(const struct opts *o, struct cpu_sample *s)
{
	char line[512], name[16];
	FILE *f = fopen("/proc/stat", "r");

	memset(s, 0, sizeof(*s));
	snprintf(name, sizeof(name), "cpu%d ", o->relay_cpu);
	s->wall_ns = now_ns(CLOCK_MONOTONIC);
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "cpu ", 4) == 0)
			s->idle = stat_idle(line);
		else if (o->relay_cpu >= 0 && strncmp(line, name, strlen(name)) == 0)
			s->idle1 = stat_idle(line);
	}
	if (f)
		fclose(f);
	s->self_ns = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	s->server_ticks = proc_ticks(o->server_pid);
}

/* ------------------------------------------------------------------ */
/* Sockets in namespaces                                               */
/* ------------------------------------------------------------------ */

static int ns_fd(const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fprintf(stderr, "tp-machcpu: %s: %s\n", path, strerror(errno));
	return fd;
}

static int udp_in(int ns, int home, const struct tp_addr *a, uint16_t port)
{
	struct sockaddr_storage ss;
	struct tp_addr b = *a;
	int fd, buf = 4 << 20;
	unsigned len;

	b.port = port;
	len = tp_addr_to_sa(&b, &ss);
	if (setns(ns, CLONE_NEWNET) != 0)
		return -1;
	fd = socket(b.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
		setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf));
		if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
			close(fd);
			fd = -1;
		}
	}
	if (setns(home, CLONE_NEWNET) != 0)
		return -1;
	return fd;
}

/* The senders compute final checksums, as a real network delivers them (the
 * kernel path leaves datagrams whose checksum is still the device's job). */
static void tx_csum_off(int ns, int home, const char *ifname)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_STXCSUM, .data = 0 };
	struct ifreq ifr;
	int fd;

	if (setns(ns, CLONE_NEWNET) != 0)
		return;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	if (fd < 0 || ioctl(fd, SIOCETHTOOL, &ifr) != 0)
		fprintf(stderr, "tp-machcpu: tx checksum off on %s: %s\n", ifname, strerror(errno));
	if (fd >= 0)
		close(fd);
	(void)setns(home, CLONE_NEWNET);
}

/* ------------------------------------------------------------------ */
/* The load                                                            */
/* ------------------------------------------------------------------ */

struct run {
	int cli[MAX_PAIRS], peer[MAX_PAIRS];
	struct sockaddr_storage lsa;
	socklen_t lsalen;
	uint64_t sent, echoed, back, bad, late;
	uint64_t *rtt;
	size_t nrtt;
	bool measuring;
	uint64_t seq;
};

static void send_batch(const struct opts *o, struct run *r, unsigned n)
{
	static uint8_t buf[BATCH][4 + MAX_SIZE];
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];

	while (n) {
		unsigned p = (unsigned)(r->seq % o->pairs), k = n < BATCH ? n : BATCH;

		for (unsigned i = 0; i < k; i++) {
			uint64_t t = now_ns(CLOCK_MONOTONIC);

			tp_chan_put_header(buf[i], (uint16_t)(TP_CHAN_MIN + p), (uint16_t)o->size);
			memset(buf[i] + 4, 0x5a, o->size);
			if (o->size >= 8)
				memcpy(buf[i] + 4, &t, 8);
			iov[i] = (struct iovec){ buf[i], 4 + o->size };
			mm[i].msg_hdr = (struct msghdr){ .msg_name = &r->lsa, .msg_namelen = r->lsalen,
			                                 .msg_iov = &iov[i], .msg_iovlen = 1 };
		}
		int s = sendmmsg(r->cli[p], mm, k, MSG_DONTWAIT);

		if (s > 0)
			r->sent += (unsigned)s;
		r->seq++;
		n -= k;
	}
}

/* Echo what the peers received back to its source; count what the clients
 * got back. */
static void drain(const struct opts *o, struct run *r)
{
	static uint8_t buf[BATCH][2048];
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_storage from[BATCH];

	for (unsigned p = 0; p < o->pairs; p++) {
		for (int rounds = 0; rounds < 8; rounds++) {
			for (int i = 0; i < BATCH; i++) {
				iov[i] = (struct iovec){ buf[i], sizeof(buf[i]) };
				mm[i].msg_hdr = (struct msghdr){ .msg_name = &from[i],
				                                 .msg_namelen = sizeof(from[i]),
				                                 .msg_iov = &iov[i], .msg_iovlen = 1 };
			}
			int n = recvmmsg(r->peer[p], mm, BATCH, MSG_DONTWAIT, NULL);

			if (n <= 0)
				break;
			for (int i = 0; i < n; i++)
				iov[i].iov_len = mm[i].msg_len;
			int s = sendmmsg(r->peer[p], mm, (unsigned)n, MSG_DONTWAIT);

			if (s > 0)
				r->echoed += (unsigned)s;
		}
		for (int rounds = 0; rounds < 8; rounds++) {
			for (int i = 0; i < BATCH; i++) {
				iov[i] = (struct iovec){ buf[i], sizeof(buf[i]) };
				mm[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1 };
			}
			int n = recvmmsg(r->cli[p], mm, BATCH, MSG_DONTWAIT, NULL);

			if (n <= 0)
				break;
			uint64_t t = now_ns(CLOCK_MONOTONIC);

			for (int i = 0; i < n; i++) {
				const uint8_t *b = buf[i];
				uint64_t ts;

				if (mm[i].msg_len != 4 + o->size ||
				    (((unsigned)b[0] << 8) | b[1]) != TP_CHAN_MIN + p) {
					r->bad++;
					continue;
				}
				r->back++;
				if (o->size >= 8 && r->measuring && r->nrtt < MAX_RTT) {
					memcpy(&ts, b + 4, 8);
					r->rtt[r->nrtt++] = t - ts;
				}
			}
		}
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Run at the configured rate for ms milliseconds: each 1 ms tick sends its
 * share, and until the next tick every arriving datagram is handled as soon
 * as poll reports it (so the round trip is not quantised by the tick). */
static void load(const struct opts *o, struct run *r, unsigned ms)
{
	uint64_t start = now_ns(CLOCK_MONOTONIC), due = 0;
	struct pollfd pf[2 * MAX_PAIRS];

	for (unsigned i = 0; i < o->pairs; i++) {
		pf[2 * i] = (struct pollfd){ .fd = r->cli[i], .events = POLLIN };
		pf[2 * i + 1] = (struct pollfd){ .fd = r->peer[i], .events = POLLIN };
	}
	for (unsigned tick = 0; tick < ms; tick++) {
		uint64_t want = (uint64_t)o->rate * (tick + 1) / 1000;
		uint64_t at = start + (uint64_t)(tick + 1) * 1000000ull, t;

		send_batch(o, r, (unsigned)(want - due));
		due = want;
		drain(o, r);
		if (now_ns(CLOCK_MONOTONIC) >= at)
			r->late++;
		while ((t = now_ns(CLOCK_MONOTONIC)) < at) {
			struct timespec ts = { 0, (long)(at - t) };

			if (ppoll(pf, 2 * o->pairs, &ts, NULL) > 0)
				drain(o, r);
		}
	}
}

/* ms milliseconds without load: stragglers are drained in the first 20 ms. */
static void quiet(const struct opts *o, struct run *r, unsigned ms)
{
	uint64_t end = now_ns(CLOCK_MONOTONIC) + (uint64_t)ms * 1000000ull;

	for (int i = 0; i < 20; i++) {
		drain(o, r);
		usleep(1000);
	}
	uint64_t t = now_ns(CLOCK_MONOTONIC);

	if (t < end)
		usleep((useconds_t)((end - t) / 1000));
}

/* --turn: Allocate and ChannelBind 0x4000+i to peer i on each client socket
 * (connected to the listener for the transactions; sendmmsg still names it). */
static int turn_setup(const struct opts *o, struct run *r)
{
	for (unsigned i = 0; i < o->pairs; i++) {
		struct tp_addr peer = o->peer_ip, relayed;
		struct tp_tc s;
		int rc;

		peer.port = (uint16_t)(9000 + i);
		if (connect(r->cli[i], (struct sockaddr *)&r->lsa, r->lsalen) != 0)
			return -errno;
		tp_sess_init(&s);
		rc = tp_transact(r->cli[i], &s, &(struct tp_req){ .method = TP_METHOD_ALLOCATE,
		                                                  .lifetime = 600, .auth = true },
		                 &relayed);
		if (rc == 0)
			rc = tp_transact(r->cli[i], &s,
			                 &(struct tp_req){ .method = TP_METHOD_CHANNEL_BIND, .lifetime = -1,
			                                   .peer = &peer,
			                                   .chan = (uint16_t)(TP_CHAN_MIN + i),
			                                   .auth = true },
			                 NULL);
		if (rc) {
			fprintf(stderr, "tp-machcpu: TURN set-up of pair %u: %d\n", i, rc);
			return rc < 0 ? rc : -EPROTO;
		}
	}
	return 0;
}

static int parse_addr(struct tp_addr *a, const char *s, bool port)
{
	if (tp_addr_parse(a, s, 0) != 0 || (port && !a->port))
		return -1;
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: tp-machcpu --cli-ns NS --peer-ns NS --listen IP:PORT "
	                "--client-ip IP --peer-ip IP [--pairs N] [--rate PPS] [--size B] "
	                "[--time S] [--warmup S] [--gen-cpu C] [--relay-cpu C] "
	                "[--server-pid PID] [--label TEXT] [--turn] [--header]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "cli-ns", 1, 0, 'c' }, { "peer-ns", 1, 0, 'p' }, { "listen", 1, 0, 'l' },
		{ "client-ip", 1, 0, 'C' }, { "peer-ip", 1, 0, 'P' }, { "pairs", 1, 0, 'n' },
		{ "rate", 1, 0, 'r' }, { "size", 1, 0, 's' }, { "time", 1, 0, 't' },
		{ "warmup", 1, 0, 'w' }, { "gen-cpu", 1, 0, 'g' }, { "relay-cpu", 1, 0, 'R' },
		{ "server-pid", 1, 0, 'S' }, { "label", 1, 0, 'L' }, { "header", 0, 0, 'H' },
		{ "turn", 0, 0, 'T' },
		{ 0, 0, 0, 0 }
	};
	struct opts o = { .pairs = 4, .rate = 20000, .size = 100, .secs = 4, .warmup = 1,
	                  .gen_cpu = -1, .relay_cpu = -1, .label = "" };
	struct run *r;
	int ch, home, cns, pns;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': o.cli_ns = optarg; break;
		case 'p': o.peer_ns = optarg; break;
		case 'l': if (parse_addr(&o.listen, optarg, true)) usage(); break;
		case 'C': if (parse_addr(&o.client_ip, optarg, false)) usage(); break;
		case 'P': if (parse_addr(&o.peer_ip, optarg, false)) usage(); break;
		case 'n': o.pairs = (unsigned)atoi(optarg); break;
		case 'r': o.rate = (unsigned)atoi(optarg); break;
		case 's': o.size = (unsigned)atoi(optarg); break;
		case 't': o.secs = (unsigned)atoi(optarg); break;
		case 'w': o.warmup = (unsigned)atoi(optarg); break;
		case 'g': o.gen_cpu = atoi(optarg); break;
		case 'R': o.relay_cpu = atoi(optarg); break;
		case 'S': o.server_pid = atoi(optarg); break;
		case 'L': o.label = optarg; break;
		case 'H': o.header = true; break;
		case 'T': o.turn = true; break;
		default: usage();
		}
	}
	if (o.header) {
		printf("%-26s %5s %7s %8s %11s %11s %10s %9s %6s %8s %8s\n", "row", "size", "rate",
		       "relayed", "machine/pkt", "relaycpu/pkt", "server/pkt", "gen/pkt", "loss",
		       "p50 rtt", "p99 rtt");
		return 0;
	}
	if (!o.cli_ns || !o.peer_ns || !o.listen.family || !o.client_ip.family ||
	    !o.peer_ip.family || o.pairs == 0 || o.pairs > MAX_PAIRS || o.rate == 0 ||
	    o.rate > 200000 || o.size > MAX_SIZE || o.secs == 0 || o.secs > 60 || o.warmup > 10)
		usage();
	if (o.gen_cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(o.gen_cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) != 0)
			perror("tp-machcpu: sched_setaffinity");
	}
	r = calloc(1, sizeof(*r));
	if (!r || !(r->rtt = calloc(MAX_RTT, sizeof(uint64_t))))
		return 1;
	home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	cns = ns_fd(o.cli_ns);
	pns = ns_fd(o.peer_ns);
	if (home < 0 || cns < 0 || pns < 0)
		return 1;
	tx_csum_off(cns, home, "c0");
	tx_csum_off(pns, home, "p0");
	r->lsalen = tp_addr_to_sa(&o.listen, &r->lsa);
	for (unsigned i = 0; i < o.pairs; i++) {
		r->cli[i] = udp_in(cns, home, &o.client_ip, (uint16_t)(40000 + i));
		r->peer[i] = udp_in(pns, home, &o.peer_ip, (uint16_t)(9000 + i));
		if (r->cli[i] < 0 || r->peer[i] < 0) {
			fprintf(stderr, "tp-machcpu: sockets: %s\n", strerror(errno));
			return 1;
		}
	}

	if (o.turn && turn_setup(&o, r) != 0)
		return 1;

	/*
	 * Warm-up, then the window: slices of 500 ms with the load alternating
	 * with 500 ms without, so that the background (other tenants) is
	 * measured at the same time as the load and subtracted per run.
	 */
	double hz = (double)sysconf(_SC_CLK_TCK), ncpu = (double)sysconf(_SC_NPROCESSORS_ONLN);
#define WALL(x, y) ((double)((y).wall_ns - (x).wall_ns) / 1e9)
#define BUSY(x, y) (ncpu * WALL(x, y) - (double)((y).idle - (x).idle) / hz)
#define BUSY1(x, y) (WALL(x, y) - (double)((y).idle1 - (x).idle1) / hz)
	double bl = 0, bl1 = 0, tl = 0, bi = 0, bi1 = 0, ti = 0, self_l = 0, self_i = 0;
	double server = 0;
	struct cpu_sample s0, s1, s2;

	load(&o, r, o.warmup * 1000);
	quiet(&o, r, 300);
	uint64_t sent0 = r->sent, back0 = r->back, echo0 = r->echoed;

	for (unsigned k = 0; k < 2 * o.secs; k++) {
		sample(&o, &s0);
		r->measuring = true;
		load(&o, r, 500);
		r->measuring = false;
		sample(&o, &s1);
		quiet(&o, r, 500);
		sample(&o, &s2);
		bl += BUSY(s0, s1);
		bl1 += BUSY1(s0, s1);
		tl += WALL(s0, s1);
		bi += BUSY(s1, s2);
		bi1 += BUSY1(s1, s2);
		ti += WALL(s1, s2);
		self_l += (double)(s1.self_ns - s0.self_ns) / 1e9;
		self_i += (double)(s2.self_ns - s1.self_ns) / 1e9;
		server += (double)(s2.server_ticks - s0.server_ticks) / hz;
	}
	double win = tl;
	/* busy seconds per second without our load: other tenants */
	double idle_rate = ti > 0 ? (bi - self_i) / ti : 0, idle_rate1 = ti > 0 ? bi1 / ti : 0;
	double busy = bl - idle_rate * tl;          /* the generator's own CPU still in */
	double busy1 = bl1 - idle_rate1 * tl;
	double self = self_l;
	uint64_t sent = r->sent - sent0, back = r->back - back0, echoed = r->echoed - echo0;
	double relayed = (double)(sent + echoed);   /* each way once */
	double loss = sent ? 1.0 - (double)back / (double)sent : 0;

	qsort(r->rtt, r->nrtt, sizeof(uint64_t), cmp_u64);
	double p50 = r->nrtt ? (double)r->rtt[r->nrtt / 2] / 1000 : 0;
	double p99 = r->nrtt ? (double)r->rtt[r->nrtt * 99 / 100] / 1000 : 0;

	printf("%-26s %5u %7u %8.0f %8.2f us %8.2f us %7.2f us %6.2f us %5.2f%% %5.0f us %5.0f us\n",
	       o.label, o.size, o.rate, relayed, relayed ? (busy - self) / relayed * 1e6 : 0,
	       o.relay_cpu >= 0 && relayed ? busy1 / relayed * 1e6 : 0,
	       o.server_pid && relayed ? server / relayed * 1e6 : 0,
	       relayed ? self / relayed * 1e6 : 0, loss * 100, p50, p99);
	/* the same, tab-separated, for the driver's medians */
	/* ... and the relayed datagrams per second of the loaded slices last */
	fprintf(stderr, "RESULT\t%s\t%u\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.0f\t%.0f\t%.3f\t%.3f"
	                "\t%.0f\n",
	        o.label, o.size, relayed ? (busy - self) / relayed * 1e6 : 0,
	        o.relay_cpu >= 0 && relayed ? busy1 / relayed * 1e6 : 0,
	        o.server_pid && relayed ? server / relayed * 1e6 : 0,
	        relayed ? self / relayed * 1e6 : 0, loss * 100, p50, p99, idle_rate, idle_rate1,
	        win > 0 ? relayed / win : 0);
	fprintf(stderr, "tp-machcpu: %s: %.2f s loaded, sent %llu, echoed %llu, back %llu, bad %llu, "
	                "late ticks %llu, background busy %.3f (cpu%d %.3f) s/s\n",
	        o.label, win, (unsigned long long)sent, (unsigned long long)echoed,
	        (unsigned long long)back, (unsigned long long)r->bad, (unsigned long long)r->late,
	        idle_rate, o.relay_cpu, idle_rate1);
	if (back == 0) {
		fprintf(stderr, "tp-machcpu: %s: nothing came back through the relay\n", o.label);
		return 1;
	}
	return 0;
}
