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
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	        "  --max-time S          stop everything after S seconds (default 1800)\n");
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
	       O_MD, O_MAXT, O_BURST, O_TPEXTRA, O_HELP };
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
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct tp_bench_opts o = {
		.secs = 5, .bind_rate = 10000, .relay_rate = 10000, .relay_allocs = 16,
		.window = 32, .conc = 64, .burst_allocs = 64, .mem_allocs = { 1000, 10000 }, .nmem_allocs = 2,
		.unauth = 10000, .coturn_threads = 2,
		.what = TP_M_BINDING | TP_M_ALLOC | TP_M_RELAY | TP_M_MEM | TP_M_FWD | TP_M_BURST,
	};
	const char *server = TP_BENCH_TURNPIKE, *coturn = "turnserver", *fwd = TP_BENCH_FORWARDER;
	const char *target = NULL;
	pid_t pid = 0;
	bool compare = false;
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
		case O_MAXT: maxt = (unsigned)atoi(optarg); break;
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
	signal(SIGINT, on_fatal);
	signal(SIGTERM, on_fatal);
	signal(SIGALRM, on_fatal);
	signal(SIGPIPE, SIG_IGN);
	alarm(maxt);
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
