/*
 * main.c - turnpike: command line, configuration, signals, the event loop.
 *
 * SIGTERM/SIGINT stop gracefully (allocations released, sockets closed);
 * SIGHUP reloads the configuration file (users, secrets, peer policy, quotas)
 * without dropping allocations; a bad file on reload is logged and ignored.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <sodium.h>

#include "conf.h"
#include "log.h"
#include "srv.h"

struct app {
	struct event_base *base;
	struct tp_srv *srv;
	struct tp_conf *conf;              /* owned; the server borrows it */
	const char *path;
	struct tp_conf_overrides ov;
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: turnpike [options]\n"
	        "  -c, --config FILE     configuration file (default: the embedded defaults)\n"
	        "  -l, --listen SPEC     listener, e.g. udp:0.0.0.0:3478 (repeatable; replaces the file's)\n"
	        "  -r, --realm REALM     authentication realm\n"
	        "  -e, --external-ip IP  public address, or PUBLIC/PRIVATE for 1:1 NAT (repeatable)\n"
	        "  -L, --log-level LVL   error, warn, info or debug\n"
	        "  -a, --allowed-peer CIDR  open a peer range the secure default refuses\n"
	        "                        (repeatable; replaces the file's allowed-peer)\n"
	        "  -p, --print-config    print the effective configuration and exit\n"
	        "  -V, --version         print the version and exit\n"
	        "  -h, --help            this help\n");
}

static void on_stop(evutil_socket_t sig, short ev, void *arg)
{
	struct app *app = arg;

	(void)ev;
	tp_info(NULL, "signal %d: stopping", (int)sig);
	event_base_loopexit(app->base, NULL);
}

static void on_reload(evutil_socket_t sig, short ev, void *arg)
{
	struct app *app = arg;
	struct tp_conf *c;
	char err[512];

	(void)sig;
	(void)ev;
	if (tp_conf_load(app->path, &app->ov, &c, err, sizeof(err)) != 0) {
		tp_err(NULL, "reload failed, keeping the running configuration: %s", err);
		return;
	}
	atomic_store(&tp_log_level, c->log_level);
	tp_srv_reload(app->srv, c);
	tp_conf_free(app->conf);
	app->conf = c;
	tp_info(NULL, "configuration reloaded from %s", app->path ? app->path : "(defaults)");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "realm", required_argument, NULL, 'r' },
		{ "external-ip", required_argument, NULL, 'e' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "allowed-peer", required_argument, NULL, 'a' },
		{ "print-config", no_argument, NULL, 'p' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct app app = { 0 };
	struct event *sig_term = NULL, *sig_int = NULL, *sig_hup = NULL;
	bool print = false;
	char err[512];
	int opt, rc = 1;

	while ((opt = getopt_long(argc, argv, "c:l:r:e:L:a:pVh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			app.path = optarg;
			break;
		case 'l':
			if (app.ov.nlisten == TP_CONF_MAX_LISTEN) {
				fprintf(stderr, "turnpike: at most %d --listen\n", TP_CONF_MAX_LISTEN);
				return 2;
			}
			app.ov.listen[app.ov.nlisten++] = optarg;
			break;
		case 'r':
			app.ov.realm = optarg;
			break;
		case 'e':
			if (app.ov.nexternal_ip == TP_CONF_MAX_ADDRS) {
				fprintf(stderr, "turnpike: at most %d --external-ip\n", TP_CONF_MAX_ADDRS);
				return 2;
			}
			app.ov.external_ip[app.ov.nexternal_ip++] = optarg;
			break;
		case 'L':
			app.ov.log_level = optarg;
			break;
		case 'a':
			if (app.ov.nallowed_peer == TP_CONF_MAX_CIDRS) {
				fprintf(stderr, "turnpike: at most %d --allowed-peer\n", TP_CONF_MAX_CIDRS);
				return 2;
			}
			app.ov.allowed_peer[app.ov.nallowed_peer++] = optarg;
			break;
		case 'p':
			print = true;
			break;
		case 'V':
			printf("turnpike %s\n", TP_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "turnpike: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "turnpike: libsodium failed to initialise\n");
		return 1;
	}
	if (tp_conf_load(app.path, &app.ov, &app.conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "turnpike: %s\n", err);
		return 2;
	}
	if (print) {
		tp_conf_print(app.conf, stdout);
		tp_conf_free(app.conf);
		return 0;
	}
	atomic_store(&tp_log_level, app.conf->log_level);
	signal(SIGPIPE, SIG_IGN);

	app.base = event_base_new();
	if (!app.base) {
		fprintf(stderr, "turnpike: cannot create the event loop\n");
		goto out;
	}
	app.srv = tp_srv_create(app.base, app.conf, err, sizeof(err));
	if (!app.srv) {
		tp_err(NULL, "cannot start: %s", err);
		goto out;
	}
	sig_term = evsignal_new(app.base, SIGTERM, on_stop, &app);
	sig_int = evsignal_new(app.base, SIGINT, on_stop, &app);
	sig_hup = evsignal_new(app.base, SIGHUP, on_reload, &app);
	if (!sig_term || !sig_int || !sig_hup || evsignal_add(sig_term, NULL) ||
	    evsignal_add(sig_int, NULL) || evsignal_add(sig_hup, NULL)) {
		tp_err(NULL, "cannot install signal handlers");
		goto out;
	}
	tp_srv_describe(app.srv);
	event_base_dispatch(app.base);
	tp_info(NULL, "stopped");
	rc = 0;
out:
	if (sig_term)
		event_free(sig_term);
	if (sig_int)
		event_free(sig_int);
	if (sig_hup)
		event_free(sig_hup);
	tp_srv_free(app.srv);
	if (app.base)
		event_base_free(app.base);
	tp_conf_free(app.conf);
	return rc;
}
