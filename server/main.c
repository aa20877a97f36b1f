/*
 * main.c - turnpike: command line, configuration, signals, the event loop.
 *
 * SIGTERM/SIGINT stop gracefully (allocations released, sockets closed);
 * SIGHUP reloads the configuration file (users, secrets, peer policy, quotas)
 * without dropping allocations; a bad file on reload is logged and ignored.
 *
 * Worker 0 runs on the main thread (and takes the signals); workers 1..N-1 run
 * on threads of their own. A configuration is shared by reference: each worker
 * holds one until it switches to the next, and the last holder frees it.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <sodium.h>

#include "conf.h"
#include "log.h"
#include "shared.h"
#include "srv.h"
#include "worker.h"

struct app {
	struct tp_shared *sh;
	size_t nworkers;
	struct event_base *bases[TP_MAX_WORKERS];
	struct tp_srv *srv[TP_MAX_WORKERS];
	pthread_t threads[TP_MAX_WORKERS];
	struct tp_conf *conf;              /* the current one; main holds a reference */
	const char *path;
	struct tp_conf_overrides ov;
	char demo_pass[24];                /* generated once; "" when not in use */
};

static void conf_release(const struct tp_conf *c)
{
	if (c && atomic_fetch_sub(&((struct tp_conf *)c)->refs, 1) == 1)
		tp_conf_free((struct tp_conf *)c);
}

/*
 * Make a loaded configuration ready to run: with no users and no shared
 * secrets (and demo-user on), add the demo user, whose password is made once
 * and kept across reloads; refs is set for main and every worker. Frees c on
 * failure.
 */
static int prepare(struct app *app, struct tp_conf *c, char *err, size_t errlen)
{
	if (c->demo_user && c->nusers == 0 && c->nsecrets == 0) {
		if (!app->demo_pass[0]) {
			uint8_t rnd[12];

			randombytes_buf(rnd, sizeof(rnd));
			sodium_bin2base64(app->demo_pass, sizeof(app->demo_pass), rnd, sizeof(rnd),
			                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		}
		if (tp_conf_add_user(c, "demo", app->demo_pass) != 0) {
			snprintf(err, errlen, "cannot derive the demo credential");
			tp_conf_free(c);
			return -1;
		}
	} else {
		app->demo_pass[0] = '\0';
	}
	atomic_store(&c->refs, (int)app->nworkers + 1);
	return 0;
}

static void *run_worker(void *arg)
{
	struct tp_srv *s = arg;

	event_base_dispatch(s->base);
	return NULL;
}

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
	event_base_loopexit(app->bases[0], NULL);
}

static void on_reload(evutil_socket_t sig, short ev, void *arg)
{
	struct app *app = arg;
	const struct tp_conf *old;
	struct tp_conf *c;
	char err[512];

	(void)sig;
	(void)ev;
	if (tp_conf_load(app->path, &app->ov, &c, err, sizeof(err)) != 0 ||
	    prepare(app, c, err, sizeof(err)) != 0) {
		tp_err(NULL, "reload failed, keeping the running configuration: %s", err);
		return;
	}
	atomic_store(&tp_log_level, c->log_level);
	if (c->workers != app->conf->workers)
		tp_warn(NULL, "reload: a change of workers takes effect at the next restart");
	for (size_t i = 1; i < app->nworkers; i++)
		tp_worker_post_reload(app->srv[i], c, conf_release);
	old = app->srv[0]->conf;
	tp_srv_reload(app->srv[0], c);
	conf_release(old);
	conf_release(app->conf); /* main's reference */
	app->conf = c;
	tp_info(NULL, "configuration reloaded from %s", app->path ? app->path : "(defaults)");
}

static size_t worker_count(const struct tp_conf *c)
{
	long n = c->workers ? (long)c->workers : sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	return n > TP_MAX_WORKERS ? TP_MAX_WORKERS : (size_t)n;
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
	static struct app app; /* large; its address goes to the signal callbacks */
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
	app.nworkers = worker_count(app.conf);
	if (prepare(&app, app.conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "turnpike: %s\n", err);
		return 2;
	}
	atomic_store(&tp_log_level, app.conf->log_level);
	signal(SIGPIPE, SIG_IGN);

	app.sh = tp_shared_create();
	if (!app.sh || tp_srv_shared_setup(app.sh, app.conf, err, sizeof(err)) != 0) {
		tp_err(NULL, "cannot start: %s", app.sh ? err : "out of memory");
		goto out;
	}
	app.sh->nworkers = app.nworkers;
	/* worker 0 first: the others listen on the addresses it bound */
	for (size_t i = 0; i < app.nworkers; i++) {
		app.bases[i] = event_base_new();
		if (!app.bases[i]) {
			tp_err(NULL, "cannot create an event loop");
			goto out;
		}
		app.srv[i] = tp_srv_create(app.bases[i], app.conf, app.sh, (unsigned)i, err,
		                           sizeof(err));
		if (!app.srv[i]) {
			tp_err(NULL, "cannot start: %s", err);
			goto out;
		}
		app.sh->workers[i] = app.srv[i];
	}
	sig_term = evsignal_new(app.bases[0], SIGTERM, on_stop, &app);
	sig_int = evsignal_new(app.bases[0], SIGINT, on_stop, &app);
	sig_hup = evsignal_new(app.bases[0], SIGHUP, on_reload, &app);
	if (!sig_term || !sig_int || !sig_hup || evsignal_add(sig_term, NULL) ||
	    evsignal_add(sig_int, NULL) || evsignal_add(sig_hup, NULL)) {
		tp_err(NULL, "cannot install signal handlers");
		goto out;
	}
	/* before any worker runs: once a request can be answered, the start-up
	 * lines are in the log (tests and operators read them as "ready") */
	tp_srv_describe(app.srv[0], app.demo_pass);
	for (size_t i = 1; i < app.nworkers; i++)
		if (pthread_create(&app.threads[i], NULL, run_worker, app.srv[i]) != 0) {
			tp_err(NULL, "cannot start worker %zu", i);
			app.threads[i] = 0;
			goto stop;
		}
	event_base_dispatch(app.bases[0]);
	rc = 0;
stop:
	for (size_t i = 1; i < app.nworkers; i++)
		if (app.threads[i]) {
			tp_worker_post_stop(app.srv[i]);
			pthread_join(app.threads[i], NULL);
		}
	tp_info(NULL, "stopped");
out:
	if (sig_term)
		event_free(sig_term);
	if (sig_int)
		event_free(sig_int);
	if (sig_hup)
		event_free(sig_hup);
	for (size_t i = app.nworkers; i-- > 0;) {
		if (app.srv[i]) {
			const struct tp_conf *c = app.srv[i]->conf;

			tp_srv_free(app.srv[i]);
			conf_release(c);
		} else if (app.conf) {
			conf_release(app.conf); /* the reference this worker never took */
		}
		if (app.bases[i])
			event_base_free(app.bases[i]);
	}
	tp_shared_free(app.sh);
	conf_release(app.conf);
	return rc;
}
