/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cli.c - dc-client's command line, main loop, overall timeout and exit codes.
 *
 *   dc-client offer|answer --signal ws://HOST:PORT/ROOM [options]
 *
 * Exit 0 on success, 2 when the channel worked on another path than --expect,
 * 1 on failure (the error names the stage that failed).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dc.h"

static struct dc *the_dc;

gint64 dc_now(const struct dc *dc)
{
	return g_get_monotonic_time() - dc->t0;
}

void dc_progress(struct dc *dc, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "dc-client[%s] %6.1f ms: ", dc->o.offer ? "offer" : "answer",
	        (double)dc_now(dc) / 1000.0);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The first failure wins; it ends the run. */
void dc_fail(struct dc *dc, const char *fmt, ...)
{
	va_list ap;

	if (dc->finished)
		return;
	va_start(ap, fmt);
	vsnprintf(dc->err, sizeof(dc->err), fmt, ap);
	va_end(ap);
	dc->exit_code = 1;
	dc_progress(dc, "error: %s", dc->err);
	dc_event(dc, "error", "A", false, "error (waiting for %s): %s", dc->stage ? dc->stage : "?",
	         dc->err);
	dc_finish(dc);
}

static gboolean quit_cb(gpointer p)
{
	struct dc *dc = p;

	g_main_loop_quit(dc->loop);
	return G_SOURCE_REMOVE;
}

/* Ends the run: report, say bye, tear down, quit shortly after. */
void dc_finish(struct dc *dc)
{
	if (dc->finished)
		return;
	dc->finished = true;
	if (dc->exit_code == 0 && dc->o.expect != DC_PATH_NONE && dc->path != dc->o.expect)
		dc->exit_code = 2;
	dc_event(dc, "finish", "A", false, "the run ends: %s", dc->exit_code == 0 ? "OK"
	         : dc->exit_code == 2 ? "connected on another path than expected" : "FAILED");
	dc_report(dc);
	dc_signal_send(dc, "bye", NULL, NULL);
	dc_signal_close(dc);
	dc_sctp_close(dc);
	dc_dtls_close(dc);
	dc_ice_close(dc);
	/* Leave time for the SCTP ABORT/DTLS alert and TURN deallocation to go out. */
	g_timeout_add(300, quit_cb, dc);
}

static gboolean timeout_cb(gpointer p)
{
	struct dc *dc = p;

	dc_fail(dc, "timed out after %u s while waiting for %s", dc->o.timeout_s, dc->stage);
	return G_SOURCE_REMOVE;
}

/* --help: the usage on stdout, exit 0; a usage error: on stderr, exit 1. */
static void usage(FILE *f, int code)
{
	fprintf(f,
	        "usage: dc-client offer|answer --signal ws://HOST:PORT/ROOM [options]\n"
	        "  --stun H:P                 STUN server (leave unset with --turn)\n"
	        "  --turn H:P                 TURN server\n"
	        "  --turn-transport udp|tcp|tls\n"
	        "  --user U --pass P          long-term TURN credentials\n"
	        "  --turn-secret S            TURN REST API shared secret instead\n"
	        "  --turn-ca FILE             CA certificates for TURN over TLS\n"
	        "  --turn-insecure            do not check the TURN server's certificate\n"
	        "  --force-relay              use relayed candidates only\n"
	        "  --expect direct|relay      exit 2 when connected on another path\n"
	        "  --pings N                  RTT samples (default 10)\n"
	        "  --ping-interval MS         between pings (default 50)\n"
	        "  --bulk BYTES               measure throughput sending BYTES\n"
	        "  --pause MS                 wait after the channel opens\n"
	        "  --timeout S                overall limit (default 30)\n"
	        "  --bind IP                  gather host candidates on IP only\n"
	        "  --label L                  data channel label (default \"dc-client\")\n"
	        "  --json                     the report as JSON on stdout\n"
	        "  --report FILE.html         also the run as a picture: one self-contained\n"
	        "                             HTML file (sequence diagram, why the path won)\n"
	        "  --help                     this help\n"
	        "Exit 0 on success, 2 when connected on another path than --expect, 1 on\n"
	        "failure or a usage error. docs/DC-CLIENT.md has the JSON schema.\n");
	exit(code);
}

static int host_port(const char *s, char **host, unsigned *port, unsigned def)
{
	const char *c = strrchr(s, ':');
	char *end;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb)
			return -1;
		*host = g_strndup(s + 1, (gsize)(rb - s - 1));
		c = rb[1] == ':' ? rb + 1 : NULL;
	} else {
		*host = c ? g_strndup(s, (gsize)(c - s)) : g_strdup(s);
	}
	*port = def;
	if (c) {
		unsigned long v = strtoul(c + 1, &end, 10);

		if (*end || v == 0 || v > 65535)
			return -1;
		*port = (unsigned)v;
	}
	return 0;
}

/* A whole number in [lo, hi] for option opt, or a usage error naming it. */
static unsigned long number(const char *opt, const char *v, unsigned long lo, unsigned long hi)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (!g_ascii_isdigit(v[0]) || *end || errno || n < lo || n > hi) {
		fprintf(stderr, "dc-client: --%s %s: a whole number from %lu to %lu expected\n", opt,
		        v, lo, hi);
		exit(1);
	}
	return n;
}

static void parse_args(struct dc_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "signal", required_argument, NULL, 's' },
		{ "stun", required_argument, NULL, 'S' },
		{ "turn", required_argument, NULL, 'T' },
		{ "turn-transport", required_argument, NULL, 'x' },
		{ "user", required_argument, NULL, 'u' },
		{ "pass", required_argument, NULL, 'p' },
		{ "turn-secret", required_argument, NULL, 'k' },
		{ "turn-ca", required_argument, NULL, 'C' },
		{ "turn-insecure", no_argument, NULL, 'I' },
		{ "force-relay", no_argument, NULL, 'r' },
		{ "expect", required_argument, NULL, 'e' },
		{ "pings", required_argument, NULL, 'n' },
		{ "ping-interval", required_argument, NULL, 'i' },
		{ "bulk", required_argument, NULL, 'b' },
		{ "pause", required_argument, NULL, 'P' },
		{ "timeout", required_argument, NULL, 't' },
		{ "bind", required_argument, NULL, 'B' },
		{ "label", required_argument, NULL, 'L' },
		{ "json", no_argument, NULL, 'j' },
		{ "report", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			usage(stdout, 0);
	if (argc < 2)
		usage(stderr, 1);
	if (strcmp(argv[1], "offer") == 0)
		o->offer = true;
	else if (strcmp(argv[1], "answer") != 0)
		usage(stderr, 1);
	o->turn_transport = "udp";
	o->pings = 10;
	o->ping_interval_ms = 50;
	o->timeout_s = 30;
	o->label = "dc-client";
	optind = 2;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's': o->signal_url = optarg; break;
		case 'S':
			if (host_port(optarg, &o->stun_host, &o->stun_port, 3478))
				usage(stderr, 1);
			break;
		case 'T':
			if (host_port(optarg, &o->turn_host, &o->turn_port, 3478))
				usage(stderr, 1);
			break;
		case 'x':
			if (strcmp(optarg, "udp") && strcmp(optarg, "tcp") && strcmp(optarg, "tls"))
				usage(stderr, 1);
			o->turn_transport = optarg;
			break;
		case 'u': o->user = optarg; break;
		case 'p': o->pass = optarg; break;
		case 'k': o->turn_secret = optarg; break;
		case 'C': o->turn_ca = optarg; break;
		case 'I': o->turn_insecure = true; break;
		case 'r': o->force_relay = true; break;
		case 'e':
			if (strcmp(optarg, "direct") == 0)
				o->expect = DC_PATH_DIRECT;
			else if (strcmp(optarg, "relay") == 0)
				o->expect = DC_PATH_RELAY;
			else
				usage(stderr, 1);
			break;
		case 'n': o->pings = (unsigned)number("pings", optarg, 0, 100000); break;
		case 'i':
			o->ping_interval_ms = (unsigned)number("ping-interval", optarg, 0, 60000);
			break;
		case 'b': o->bulk = number("bulk", optarg, 0, ULONG_MAX); break;
		case 'P': o->pause_ms = (unsigned)number("pause", optarg, 0, 600000); break;
		case 't': o->timeout_s = (unsigned)number("timeout", optarg, 1, 86400); break;
		case 'B': o->bind_ip = optarg; break;
		case 'L': o->label = optarg; break;
		case 'j': o->json = true; break;
		case 'R': o->report_path = optarg; break;
		default: usage(stderr, 1);
		}
	}
	if (!o->signal_url || optind != argc || o->timeout_s == 0)
		usage(stderr, 1);
	if (o->turn_host && !o->turn_secret && (!o->user || !o->pass)) {
		fprintf(stderr, "dc-client: --turn needs --user and --pass, or --turn-secret\n");
		exit(1);
	}
	if (o->force_relay && !o->turn_host) {
		fprintf(stderr, "dc-client: --force-relay needs --turn\n");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	struct dc *dc = g_new0(struct dc, 1);
	int rc;

	the_dc = dc;
	parse_args(&dc->o, argc, argv);
	if (dc->o.report_path) {
		/* opened now, so a path that cannot be written fails before the run */
		dc->report_html = fopen(dc->o.report_path, "w");
		if (!dc->report_html) {
			fprintf(stderr, "dc-client: --report %s: %s\n", dc->o.report_path,
			        strerror(errno));
			return 1;
		}
	}
	dc->t0 = g_get_monotonic_time();
	dc->loop = g_main_loop_new(NULL, FALSE);
	dc->stage = "signaling connection";
	g_rec_mutex_init(&dc->ssl_lock);
	g_mutex_init(&dc->inbox_lock);
	g_queue_init(&dc->rx_dgrams);
	g_queue_init(&dc->inbox);
	dc->pending_cands = g_ptr_array_new_with_free_func(g_free);
	dc_trace_init(dc);
	dc_tap_start(dc);
	g_timeout_add_seconds(dc->o.timeout_s, timeout_cb, dc);

	/* Signaling first: the offer and candidates queue until it is up. */
	if (dc_signal_start(dc) == 0 && dc_dtls_init(dc) == 0)
		dc_ice_start(dc);
	g_main_loop_run(dc->loop);
	rc = dc->exit_code;
	/* Process exit frees the rest; usrsctp's thread may still hold pointers. */
	fflush(stdout);
	_exit(rc);
}
