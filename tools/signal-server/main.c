/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tp-signal - standalone WebSocket signaling relay (server/signal_ws.c).
 *
 *   tp-signal [--listen ADDR:PORT] [--token T] [--port-file F] [--idle S]
 *             [--log-level L]
 *
 * Port 0 picks a free port; --port-file writes it (then renames, so readers see
 * it whole). Exits on SIGINT/SIGTERM.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "log.h"
#include "signal_ws.h"

static void on_signal(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopexit(arg, NULL);
}

static int write_port(const char *path, uint16_t port)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "%u\n", port);
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}

static void usage(FILE *f)
{
	fputs("usage: tp-signal [--listen ADDR:PORT] [--token T] [--port-file F] [--idle S]\n"
	      "                 [--log-level L]\n"
	      "A WebSocket signaling relay: two peers a room (ws://HOST:PORT/ROOM[?token=T]).\n"
	      "  --listen ADDR:PORT   where to listen (default 127.0.0.1:8080; port 0: any)\n"
	      "  --token T            rooms need ?token=T\n"
	      "  --port-file F        write the port listened on to F\n"
	      "  --idle S             close connections idle for S seconds\n"
	      "  --log-level L        error, warn, info or debug\n"
	      "  --help               this help\n"
	      "Exits on SIGINT/SIGTERM; 2 for a usage error.\n", f);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "token", required_argument, NULL, 't' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "idle", required_argument, NULL, 'i' },
		{ "log-level", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen = "127.0.0.1:8080", *port_file = NULL;
	struct tp_ws_opts o = { 0 };
	struct event_base *base;
	struct event *sint, *sterm;
	struct tp_addr a;
	struct tp_ws *ws;
	int c, err;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'l': listen = optarg; break;
		case 't': o.token = optarg; break;
		case 'p': port_file = optarg; break;
		case 'i': o.idle_timeout_s = (unsigned)atoi(optarg); break;
		case 'v':
			if (tp_log_level_parse(optarg) < 0) {
				fprintf(stderr, "tp-signal: bad log level %s\n", optarg);
				return 2;
			}
			atomic_store(&tp_log_level, tp_log_level_parse(optarg));
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "tp-signal: unexpected argument %s\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (tp_addr_parse(&a, listen, 8080) != 0) {
		fprintf(stderr, "tp-signal: bad listen address %s\n", listen);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	if (!base)
		return 1;
	err = tp_ws_listen(base, &a, &o, &ws);
	if (err) {
		fprintf(stderr, "tp-signal: listen %s: %s\n", listen, strerror(-err));
		return 1;
	}
	if (port_file && write_port(port_file, tp_ws_port(ws)) != 0) {
		fprintf(stderr, "tp-signal: cannot write %s\n", port_file);
		return 1;
	}
	fprintf(stderr, "tp-signal: listening on port %u\n", tp_ws_port(ws));
	sint = evsignal_new(base, SIGINT, on_signal, base);
	sterm = evsignal_new(base, SIGTERM, on_signal, base);
	evsignal_add(sint, NULL);
	evsignal_add(sterm, NULL);
	event_base_dispatch(base);
	tp_ws_free(ws);
	event_free(sint);
	event_free(sterm);
	event_base_free(base);
	return 0;
}
