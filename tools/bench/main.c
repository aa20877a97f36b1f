/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * main.c - tp-bench: measure a STUN/TURN server on loopback and print a table.
 *
 * The bench starts turnpike itself (--server, default: this build's) or measures
 * one already running (--target HOST:PORT --pid PID); with --compare coturn it
 * also starts coturn's turnserver with an equivalent configuration, and it runs
 * tp-forwarder, the bare recvmmsg/sendmmsg relay, as the physical-limit row.
 * The servers run one after the other, each alone; all are stopped by PID.
 * Everything is bounded: each measurement by --secs and a count, the whole run
 * by --max-time (a watchdog stops the servers and exits).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#ifndef TP_BENCH_TURNPIKE
#define TP_BENCH_TURNPIKE "turnpike"
#endif
#ifndef TP_BENCH_FORWARDER
#define TP_BENCH_FORWARDER "tp-forwarder"
#endif

static volatile pid_t running = 0;   /* the server started last, for the watchdog */

static void on_fatal(int sig)
{
	if (running > 0)
		kill(running, SIGTERM);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: tp-bench [options]\n"
	        "  --server PATH         turnpike binary to start (default: this build's)\n"
	        "  --target HOST:PORT    measure a running server on 127.0.0.0/8 instead\n"
	        "  --pid PID             its PID, for CPU and memory figures\n"
	        "  --compare coturn      also start coturn's turnserver and compare\n"
	        "  --coturn PATH         turnserver binary (default: turnserver)\n"
	        "  --coturn-threads N    coturn relay-threads (default 2)\n"
	        "  --forwarder PATH      tp-forwarder binary (default: this build's)\n"
	        "  --only LIST           binding,alloc,relay,mem,fwd,burst (default: all)\n"
	        "  --secs S              seconds per throughput measurement (default 5)\n"
	        "  --bind-rate R         fixed Binding rate, requests/s (default 10000; 0: skip)\n"
	        "  --relay-rate R        fixed relay rate, packets/s through the server\n"
	        "                        (default 10000; 0: skip)\n"
	        "  --allocs N            allocations carrying relay traffic (default 16)\n"
	        "  --window W            packets in flight per allocation at maximum (default 32)\n"
	        "  --conc N              concurrent sessions for Allocate/memory (default 64)\n"
	        "  --mem-allocs A,B      allocation counts for memory (default 1000,10000)\n"
	        "  --turnpike-conf TEXT  configuration lines added to turnpike's (e.g.\n"
	        "                        'udp-rcvbuf = 1048576;')\n"
	        "  --burst-allocs N      allocations sending a 100-datagram burst at once\n"
	        "                        (default 64; also run against kernel-default buffers)\n"
	        "  --unauth N            unauthenticated sources for memory (default 10000)\n"
	        "  --quick               small and short (the smoke test)\n"
	        "  --markdown            print the table in Markdown\n"
	        "  --max-time S          stop everything after S seconds (default 1800; with\n"
	        "                        --soak: the duration plus the setup and teardown)\n"
	        "  --soak                the soak instead of the table: allocations held with\n"
	        "                        traffic, churn and refreshes; samples the server's\n"
	        "                        RSS, fds, CPU and allocation count; exit status 1\n"
	        "                        only for a leak (fds or allocations not back to\n"
	        "                        idle, datagrams relayed back far below those sent)\n"
	        "  --soak-allocs N       allocations held (default 10000, at most 30000)\n"
	        "  --duration S          seconds of soak traffic (default 60)\n"
	        "  --soak-rate R         soak datagrams/s over all allocations (default 2000)\n"
	        "  --soak-churn P        %% of the allocations deleted and made again per\n"
	        "                        sample interval (default 1)\n"
	        "  --soak-every S        seconds between samples (default 5)\n"
	        "  --soak-leave N        do not delete the last N allocations at the end\n"
	        "                        (shows that the leak check fires)\n"
	        "  --soak-fresh          churn from a new source address every time (all of\n"
	        "                        127.48.0.0/16 before one is used again), not\n"
	        "                        between two addresses per allocation\n"
	        "  --metrics HOST:PORT   with --target: the server's metrics listener, for\n"
	        "                        its allocation count\n");
}

static unsigned parse_only(const char *s)
{
	static const struct { const char *name; unsigned bit; } m[] = {
		{ "binding", TP_M_BINDING }, { "alloc", TP_M_ALLOC }, { "relay", TP_M_RELAY },
		{ "mem", TP_M_MEM }, { "fwd", TP_M_FWD }, { "burst", TP_M_BURST },
	};
	unsigned bits = 0;
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", s);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		unsigned found = 0;

		for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
			if (strcmp(t, m[i].name) == 0)
				found = m[i].bit;
		if (!found)
			return 0;
		bits |= found;
	}
	return bits;
}

static unsigned parse_list(const char *s, uint32_t *out, unsigned cap)
{
	unsigned n = 0;
	char *end;

	while (*s && n < cap) {
		unsigned long v = strtoul(s, &end, 10);

		if (end == s || v > 100000)
			return 0;
		out[n++] = (uint32_t)v;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return 0;
	}
	return n;
}

static void measure(struct tp_target *t, const struct tp_bench_opts *o, struct tp_echo *e)
{
	fprintf(stderr, "tp-bench: measuring %s (pid %d)\n", t->name, (int)t->pid);
	if (o->what & TP_M_MEM)
		tp_load_mem(t, o);
	if (o->what & TP_M_BINDING)
		tp_load_binding(t, o);
	if (o->what & TP_M_ALLOC)
		tp_load_alloc(t, o);
	if (o->what & TP_M_RELAY)
		tp_load_relay(t, o, e);
	if (o->what & TP_M_BURST)
		tp_load_burst(t, o, e, "");
}

/* A TCP port on 127.0.0.1 that was free a moment ago (for the metrics listener). */
static int free_tcp_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -EIO;

	if (fd < 0)
		return -errno;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* --soak: start turnpike with a metrics listener (or use the target given),
 * soak it, stop it. 0, 1 for a leak, 2 if the soak could not run. */
static int soak(const char *server, const char *target, pid_t pid, const char *metrics,
                const struct tp_bench_opts *o)
{
	struct tp_bench_opts so = *o;
	struct sockaddr_in maddr = { .sin_family = AF_INET };
	char extra[1024];
	struct tp_echo echo;
	struct tp_target t;
	int err, rc;

	err = tp_echo_start(&echo, 4);
	if (err) {
		fprintf(stderr, "tp-bench: echo peers: %s\n", strerror(-err));
		return 2;
	}
	if (target) {
		struct tp_addr a;

		if (metrics && (tp_addr_parse(&a, metrics, 0) != 0 || a.family != AF_INET)) {
			fprintf(stderr, "tp-bench: bad --metrics %s\n", metrics);
			tp_echo_stop(&echo);
			return 2;
		}
		if (metrics)
			tp_addr_to_sa(&a, &maddr);
		err = tp_target_external(&t, target, pid);
	} else {
		int port = free_tcp_port();

		if (port < 0) {
			tp_echo_stop(&echo);
			return 2;
		}
		maddr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		maddr.sin_port = htons((uint16_t)port);
		snprintf(extra, sizeof(extra), "metrics = \"http:127.0.0.1:%d\";\n%s", port,
		         o->turnpike_extra ? o->turnpike_extra : "");
		so.turnpike_extra = extra;
		err = tp_target_turnpike(&t, server, &so);
	}
	running = t.pid;
	if (err) {
		fprintf(stderr, "tp-bench: %s: %s\n", target ? target : server, strerror(-err));
		tp_target_stop(&t);
		tp_echo_stop(&echo);
		return 2;
	}
	if ((ntohl(maddr.sin_addr.s_addr) >> 24) != 127)
		maddr.sin_port = 0;   /* the bench only ever talks to loopback */
	fprintf(stderr, "tp-bench: soaking %s (pid %d): %u allocations for %.0f s\n", t.name,
	        (int)t.pid, so.soak_allocs, so.secs);
	rc = tp_load_soak(&t, &so, &echo, &maddr);
	tp_target_stop(&t);
	running = 0;
	tp_echo_stop(&echo);
	if (rc < 0) {
		fprintf(stderr, "tp-bench: soak: %s\n", strerror(-rc));
		return 2;
	}
	return rc;
}

/* The burst again against turnpike with the kernel's default UDP buffers, to
 * show what udp-rcvbuf and relay-rcvbuf buy. */
static void burst_kernel_defaults(const char *server, const struct tp_bench_opts *o,
                                  struct tp_echo *e)
{
	struct tp_bench_opts k = *o;
	struct tp_target t;

	k.turnpike_extra = "udp-rcvbuf = 0;\nudp-sndbuf = 0;\nrelay-rcvbuf = 0;\n"
	                   "relay-sndbuf = 0;\n";
	if (tp_target_turnpike(&t, server, &k) == 0) {
		running = t.pid;
		tp_load_burst(&t, &k, e, "kernel-default buffers");
	}
	tp_target_stop(&t);
}

int main(int argc, char **argv)
{
	enum { O_SERVER = 256, O_TARGET, O_PID, O_COMPARE, O_COTURN, O_CTHREADS, O_FWD, O_ONLY,
	       O_SECS, O_BRATE, O_RRATE, O_ALLOCS, O_WINDOW, O_CONC, O_MEM, O_UNAUTH, O_QUICK,
	       O_MD, O_MAXT, O_BURST, O_TPEXTRA, O_SOAK, O_SALLOCS, O_DUR, O_SRATE, O_SCHURN,
	       O_SEVERY, O_SLEAVE, O_SFRESH, O_METRICS, O_HELP };
	static const struct option lo[] = {
		{ "server", required_argument, NULL, O_SERVER },
		{ "target", required_argument, NULL, O_TARGET },
		{ "pid", required_argument, NULL, O_PID },
		{ "compare", required_argument, NULL, O_COMPARE },
		{ "coturn", required_argument, NULL, O_COTURN },
		{ "coturn-threads", required_argument, NULL, O_CTHREADS },
		{ "forwarder", required_argument, NULL, O_FWD },
		{ "only", required_argument, NULL, O_ONLY },
		{ "secs", required_argument, NULL, O_SECS },
		{ "bind-rate", required_argument, NULL, O_BRATE },
		{ "relay-rate", required_argument, NULL, O_RRATE },
		{ "allocs", required_argument, NULL, O_ALLOCS },
		{ "window", required_argument, NULL, O_WINDOW },
		{ "conc", required_argument, NULL, O_CONC },
		{ "mem-allocs", required_argument, NULL, O_MEM },
		{ "unauth", required_argument, NULL, O_UNAUTH },
		{ "quick", no_argument, NULL, O_QUICK },
		{ "markdown", no_argument, NULL, O_MD },
		{ "max-time", required_argument, NULL, O_MAXT },
		{ "burst-allocs", required_argument, NULL, O_BURST },
		{ "turnpike-conf", required_argument, NULL, O_TPEXTRA },
		{ "soak", no_argument, NULL, O_SOAK },
		{ "soak-allocs", required_argument, NULL, O_SALLOCS },
		{ "duration", required_argument, NULL, O_DUR },
		{ "soak-rate", required_argument, NULL, O_SRATE },
		{ "soak-churn", required_argument, NULL, O_SCHURN },
		{ "soak-every", required_argument, NULL, O_SEVERY },
		{ "soak-leave", required_argument, NULL, O_SLEAVE },
		{ "soak-fresh", no_argument, NULL, O_SFRESH },
		{ "metrics", required_argument, NULL, O_METRICS },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct tp_bench_opts o = {
		.secs = 5, .bind_rate = 10000, .relay_rate = 10000, .relay_allocs = 16,
		.window = 32, .conc = 64, .burst_allocs = 64, .mem_allocs = { 1000, 10000 }, .nmem_allocs = 2,
		.unauth = 10000, .coturn_threads = 2,
		.soak_allocs = 10000, .soak_rate = 2000, .soak_churn = 1, .soak_every = 5,
		.what = TP_M_BINDING | TP_M_ALLOC | TP_M_RELAY | TP_M_MEM | TP_M_FWD | TP_M_BURST,
	};
	const char *server = TP_BENCH_TURNPIKE, *coturn = "turnserver", *fwd = TP_BENCH_FORWARDER;
	const char *target = NULL, *metrics = NULL;
	pid_t pid = 0;
	bool compare = false, is_soak = false, maxt_set = false;
	double duration = 60;
	unsigned maxt = 1800;
	struct tp_echo echo;
	struct tp_target t;
	int c, err;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case O_SERVER: server = optarg; break;
		case O_TARGET: target = optarg; break;
		case O_PID: pid = (pid_t)atoi(optarg); break;
		case O_COMPARE:
			if (strcmp(optarg, "coturn") != 0) {
				fprintf(stderr, "tp-bench: only --compare coturn is known\n");
				return 2;
			}
			compare = true;
			break;
		case O_COTURN: coturn = optarg; break;
		case O_CTHREADS: o.coturn_threads = (unsigned)atoi(optarg); break;
		case O_FWD: fwd = optarg; break;
		case O_ONLY:
			o.what = parse_only(optarg);
			if (!o.what) {
				fprintf(stderr, "tp-bench: bad --only list\n");
				return 2;
			}
			break;
		case O_SECS: o.secs = atof(optarg); break;
		case O_BRATE: o.bind_rate = atof(optarg); break;
		case O_RRATE: o.relay_rate = atof(optarg); break;
		case O_ALLOCS: o.relay_allocs = (unsigned)atoi(optarg); break;
		case O_WINDOW: o.window = (unsigned)atoi(optarg); break;
		case O_CONC: o.conc = (unsigned)atoi(optarg); break;
		case O_MEM:
			o.nmem_allocs = parse_list(optarg, o.mem_allocs, 4);
			if (!o.nmem_allocs) {
				fprintf(stderr, "tp-bench: bad --mem-allocs (counts up to 100000)\n");
				return 2;
			}
			break;
		case O_UNAUTH: o.unauth = (uint32_t)strtoul(optarg, NULL, 10); break;
		case O_QUICK:
			o.quick = true;
			o.secs = 0.5;
			o.bind_rate = 2000;
			o.relay_rate = 2000;
			o.relay_allocs = 4;
			o.mem_allocs[0] = 100;
			o.mem_allocs[1] = 300;
			o.nmem_allocs = 2;
			o.unauth = 300;
			o.burst_allocs = 4;
			break;
		case O_MD: o.markdown = true; break;
		case O_MAXT: maxt = (unsigned)atoi(optarg); maxt_set = true; break;
		case O_SOAK: is_soak = true; break;
		case O_SALLOCS: o.soak_allocs = (uint32_t)strtoul(optarg, NULL, 10); break;
		case O_DUR: duration = atof(optarg); break;
		case O_SRATE: o.soak_rate = atof(optarg); break;
		case O_SCHURN: o.soak_churn = atof(optarg); break;
		case O_SEVERY: o.soak_every = atof(optarg); break;
		case O_SLEAVE: o.soak_leave = (uint32_t)strtoul(optarg, NULL, 10); break;
		case O_SFRESH: o.soak_fresh = true; break;
		case O_METRICS: metrics = optarg; break;
		case O_BURST: o.burst_allocs = (unsigned)atoi(optarg); break;
		case O_TPEXTRA: o.turnpike_extra = optarg; break;
		case O_HELP: case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (o.secs <= 0 || o.secs > 600 || o.relay_allocs == 0 || o.window == 0 ||
	    o.unauth > 100000) {
		fprintf(stderr, "tp-bench: --secs must be in (0, 600], --allocs and --window > 0, "
		                "--unauth <= 100000\n");
		return 2;
	}
	if (is_soak) {
		if (!(duration > 0 && duration <= 86400) || o.soak_allocs == 0 ||
		    o.soak_allocs > TP_SOAK_MAX || !(o.soak_rate >= 0 && o.soak_rate <= 1e6) ||
		    !(o.soak_churn >= 0 && o.soak_churn <= 100) ||
		    !(o.soak_every >= 1 && o.soak_every <= 600)) {
			fprintf(stderr, "tp-bench: --duration must be in (0, 86400], --soak-allocs "
			                "in [1, %u], --soak-rate in [0, 1e6], --soak-churn in "
			                "[0, 100], --soak-every in [1, 600]\n", TP_SOAK_MAX);
			return 2;
		}
		o.secs = duration;
		if (!maxt_set)
			maxt = (unsigned)duration + 600 + o.soak_allocs / 20;
	}
	signal(SIGINT, on_fatal);
	signal(SIGTERM, on_fatal);
	signal(SIGALRM, on_fatal);
	signal(SIGPIPE, SIG_IGN);
	alarm(maxt);
	if (is_soak)
		return soak(server, target, pid, metrics, &o);
	err = tp_echo_start(&echo, 4);
	if (err) {
		fprintf(stderr, "tp-bench: echo peers: %s\n", strerror(-err));
		return 1;
	}
	err = target ? tp_target_external(&t, target, pid) : tp_target_turnpike(&t, server, &o);
	running = t.pid;
	if (err) {
		fprintf(stderr, "tp-bench: %s: %s\n", target ? target : server, strerror(-err));
		tp_target_stop(&t);
		tp_echo_stop(&echo);
		return 1;
	}
	measure(&t, &o, &echo);
	tp_target_stop(&t);
	if ((o.what & TP_M_BURST) && !target)
		burst_kernel_defaults(server, &o, &echo);
	if (compare) {
		if (tp_target_coturn(&t, coturn, &o) == 0) {
			running = t.pid;
			measure(&t, &o, &echo);
		} else {
			tp_report_note("coturn (%s) did not start: no coturn column", coturn);
		}
		tp_target_stop(&t);
	}
	if ((o.what & TP_M_FWD) && (o.what & TP_M_RELAY)) {
		if (tp_target_forwarder(&t, fwd, &echo, o.relay_allocs) == 0) {
			running = t.pid;
			fprintf(stderr, "tp-bench: measuring %s (pid %d)\n", t.name, (int)t.pid);
			tp_load_relay(&t, &o, &echo);
		} else {
			tp_report_note("tp-forwarder (%s) did not start", fwd);
		}
		tp_target_stop(&t);
	}
	running = 0;
	tp_echo_stop(&echo);
	tp_report_print(o.markdown);
	return 0;
}
