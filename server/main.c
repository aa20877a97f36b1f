/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * main.c - turnpike: command line, configuration, signals, the event loop.
 *
 * SIGTERM/SIGINT/SIGQUIT stop gracefully (allocations released, sockets
 * closed); SIGHUP reloads the configuration file (users, secrets, peer
 * policy, quotas, certificates) without dropping allocations, a bad file on
 * reload is logged and ignored; SIGUSR1 drains (new allocations go elsewhere,
 * the process exits when the last one ends or drain-deadline passes);
 * SIGUSR2 reloads the TLS certificates only (what coturn's certbot hooks
 * send). Every other signal that would end the process by default is logged
 * and ignored: none ends it silently.
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
#include <stdatomic.h>

#include <event2/event.h>
#include <sodium.h>

#include "admin.h"
#include "check.h"
#include "conf.h"
#include "log.h"
#include "metrics.h"
#include "offload_srv.h"
#include "notify.h"
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
	struct tp_metrics *metrics;        /* owned, or NULL */
	struct tp_admin *admin;            /* owned, or NULL */
	struct event *sigs[16];            /* owned */
	size_t nsigs;
	struct event *drain_check;         /* owned: once a second while draining */
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
	        "  -s, --set OPTION=VALUE  any option of the configuration file (repeatable;\n"
	        "                        a list given twice appends: --set listen=udp:[::]:3478\n"
	        "                        --set listen=tcp:0.0.0.0:3478; users as NAME:PASSWORD,...)\n"
	        "                        Also TURNPIKE_<OPTION> in the environment, e.g.\n"
	        "                        TURNPIKE_MAX_BPS=125000. Precedence: file < environment\n"
	        "                        < the options above < --set\n"
	        "  -C, --check-config    load everything a start loads (certificates, users,\n"
	        "                        secret files), print what would be served, exit 0 or 1\n"
	        "  -p, --print-config    print the effective configuration and exit\n"
	        "  -V, --version         print the version and exit\n"
	        "  -h, --help            this help\n");
}

static void on_stop(evutil_socket_t sig, short ev, void *arg)
{
	struct app *app = arg;

	(void)ev;
	tp_info(NULL, "signal %d (%s): stopping", (int)sig, strsignal((int)sig));
	tp_notify("STOPPING=1");
	event_base_loopexit(app->bases[0], NULL);
}

static void log_change(void *arg, const char *line)
{
	(void)arg;
	tp_info(NULL, "reload: %s", line);
}

static void log_line(void *arg, const char *line)
{
	(void)arg;
	tp_info(NULL, "%s", line);
}

static void reload(void *arg)
{
	struct app *app = arg;
	const struct tp_conf *old;
	struct tp_conf *c;
	char err[512];

	tp_notify_reloading();
	if (tp_conf_load(app->path, &app->ov, &c, err, sizeof(err)) != 0 ||
	    prepare(app, c, err, sizeof(err)) != 0) {
		tp_err(NULL, "reload failed, keeping the running configuration: %s", err);
		tp_notify("READY=1");
		return;
	}
	if (tp_conf_diff(app->conf, c, log_change, NULL) == 0)
		tp_info(NULL, "reload: no option changed");
	atomic_store(&tp_log_level, c->log_level);
	atomic_store(&tp_log_json, c->log_json);
	if (c->workers != app->conf->workers)
		tp_warn(NULL, "reload: a change of workers takes effect at the next restart");
	for (size_t i = 1; i < app->nworkers; i++)
		tp_worker_post_reload(app->srv[i], c, tp_srv_reload, conf_release);
	old = app->srv[0]->conf;
	tp_srv_reload(app->srv[0], c);
	conf_release(old);
	conf_release(app->conf); /* main's reference */
	app->conf = c;
	tp_metrics_reloaded(app->metrics);
	tp_info(NULL, "configuration reloaded from %s", app->path ? app->path : "(defaults)");
	tp_notify("READY=1");
}

static void on_reload(evutil_socket_t sig, short ev, void *arg)
{
	(void)sig;
	(void)ev;
	reload(arg);
}

/* ---- drain ---- */

static uint64_t nallocs(struct app *app)
{
	uint64_t n;

	pthread_mutex_lock(&app->sh->mu);
	n = app->sh->nallocs;
	pthread_mutex_unlock(&app->sh->mu);
	return n;
}

static void drain_check(evutil_socket_t fd, short ev, void *arg)
{
	struct app *app = arg;
	struct tp_shared *sh = app->sh;
	uint64_t n;

	(void)fd;
	(void)ev;
	if (!atomic_load(&sh->draining))
		return;
	n = nallocs(app);
	if (n == 0) {
		tp_info(NULL, "drain: the last allocation has ended: stopping");
	} else if (tp_now(app->srv[0]) >= atomic_load(&sh->drain_deadline)) {
		tp_warn(NULL, "drain: deadline reached with %llu allocations: stopping",
		        (unsigned long long)n);
	} else {
		return;
	}
	tp_notify("STOPPING=1");
	event_base_loopexit(app->bases[0], NULL);
}

static void drain(void *arg, uint32_t deadline)
{
	struct app *app = arg;
	struct timeval second = { .tv_sec = 1 };

	atomic_store(&app->sh->drain_deadline, (int64_t)tp_now(app->srv[0]) + deadline);
	tp_notifyf("STATUS=draining: %llu allocations left", (unsigned long long)nallocs(app));
	if (!atomic_exchange(&app->sh->draining, true))
		tp_warn(NULL, "draining: new allocations go %s; %llu allocations left, exit when they "
		              "end or in %u s", app->conf->nalternate ? "to alternate-server (300)"
		                                                       : "nowhere (508)",
		        (unsigned long long)nallocs(app), deadline);
	else
		tp_info(NULL, "drain: deadline now in %u s", deadline);
	evtimer_add(app->drain_check, &second);
	drain_check(-1, 0, app);
}

static void undrain(void *arg)
{
	struct app *app = arg;

	if (atomic_exchange(&app->sh->draining, false))
		tp_warn(NULL, "drain cancelled: taking new allocations again");
	tp_notify("STATUS=serving");
	evtimer_del(app->drain_check);
}

static void on_drain(evutil_socket_t sig, short ev, void *arg)
{
	struct app *app = arg;

	(void)ev;
	tp_info(NULL, "signal %d (%s): drain", (int)sig, strsignal((int)sig));
	drain(app, app->conf->drain_deadline);
}

/* ---- SIGUSR2: certificates ---- */

static void tls_one(struct tp_srv *s, void *arg)
{
	(void)arg;
	tp_srv_reload_tls(s);
}

static void tls_done(void *arg)
{
	(void)arg;
}

static void on_tls(evutil_socket_t sig, short ev, void *arg)
{
	struct app *app = arg;

	(void)ev;
	tp_info(NULL, "signal %d (%s): reloading the TLS certificates", (int)sig,
	        strsignal((int)sig));
	if (tp_worker_each(app->srv[0], tls_one, tls_done, NULL) != 0)
		tp_err(NULL, "certificate reload: out of memory");
}

static void on_ignored(evutil_socket_t sig, short ev, void *arg)
{
	(void)ev;
	(void)arg;
	tp_warn(NULL, "signal %d (%s) ignored (TERM/INT/QUIT stop, HUP reloads, USR1 drains, "
	              "USR2 reloads certificates)", (int)sig, strsignal((int)sig));
}

static int add_signal(struct app *app, int sig, event_callback_fn fn)
{
	struct event *e;

	if (app->nsigs == sizeof(app->sigs) / sizeof(app->sigs[0]))
		return -1;
	e = evsignal_new(app->bases[0], sig, fn, app);
	if (!e || evsignal_add(e, NULL) != 0) {
		if (e)
			event_free(e);
		return -1;
	}
	app->sigs[app->nsigs++] = e;
	return 0;
}

static int install_signals(struct app *app)
{
	static const int ignored[] = { SIGALRM, SIGVTALRM, SIGPROF, SIGIO, SIGPWR, SIGXCPU,
		                       SIGXFSZ, SIGSTKFLT };
	int rc = add_signal(app, SIGTERM, on_stop) | add_signal(app, SIGINT, on_stop) |
	         add_signal(app, SIGQUIT, on_stop) | add_signal(app, SIGHUP, on_reload) |
	         add_signal(app, SIGUSR1, on_drain) | add_signal(app, SIGUSR2, on_tls);

	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		rc |= add_signal(app, ignored[i], on_ignored);
	return rc;
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
		{ "set", required_argument, NULL, 's' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "print-config", no_argument, NULL, 'p' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct app app; /* large; its address goes to the signal callbacks */
	bool print = false, check = false;
	char err[512];
	int opt, rc = 1;

	while ((opt = getopt_long(argc, argv, "c:l:r:e:L:a:s:CpVh", opts, NULL)) != -1) {
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
		case 's':
			if (app.ov.nset == TP_CONF_MAX_SETS) {
				fprintf(stderr, "turnpike: at most %d --set\n", TP_CONF_MAX_SETS);
				return 2;
			}
			app.ov.set[app.ov.nset++] = optarg;
			break;
		case 'C':
			check = true;
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
	app.ov.env = environ;
	if (tp_conf_load(app.path, &app.ov, &app.conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "turnpike: %s\n", err);
		return check ? 1 : 2;
	}
	if (check) {
		bool demo = app.conf->demo_user && app.conf->nusers == 0 && app.conf->nsecrets == 0;

		rc = tp_check_config(app.conf, demo, stdout, err, sizeof(err));
		if (rc)
			fprintf(stderr, "turnpike: %s\n", err);
		tp_conf_free(app.conf);
		return rc ? 1 : 0;
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
	atomic_store(&tp_log_json, app.conf->log_json);
	signal(SIGPIPE, SIG_IGN);

	app.sh = tp_shared_create();
	if (!app.sh || tp_srv_shared_setup(app.sh, app.conf, err, sizeof(err)) != 0 ||
	    tp_check_external(app.conf, app.sh, err, sizeof(err)) != 0) {
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
	tp_srv_offload_open(app.srv[0]);
	app.drain_check = event_new(app.bases[0], -1, EV_PERSIST, drain_check, &app);
	if (!app.drain_check || install_signals(&app) != 0) {
		tp_err(NULL, "cannot install signal handlers");
		goto out;
	}
	{
		static const struct tp_control ctl = { reload, drain, undrain, &app };

		app.metrics = tp_metrics_open(app.srv[0], err, sizeof(err));
		if (!app.metrics && app.conf->metrics[0]) {
			tp_err(NULL, "cannot start: %s", err);
			goto out;
		}
		app.admin = tp_admin_open(app.srv[0], &ctl, err, sizeof(err));
		if (!app.admin && err[0])
			tp_warn(NULL, "%s", err);
	}
	/* before any worker runs: once a request can be answered, the start-up
	 * lines are in the log (tests and operators read them as "ready") */
	tp_check_describe(app.conf, app.sh, app.demo_pass[0] != '\0', log_line, NULL);
	tp_srv_describe(app.srv[0], app.demo_pass);
	for (size_t i = 1; i < app.nworkers; i++)
		if (pthread_create(&app.threads[i], NULL, run_worker, app.srv[i]) != 0) {
			tp_err(NULL, "cannot start worker %zu", i);
			app.threads[i] = 0;
			goto stop;
		}
	tp_notify("READY=1");
	tp_notify("STATUS=serving");
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
	tp_admin_free(app.admin);
	tp_metrics_free(app.metrics);
	/* Freeing a signal event puts back the default action, and a second
	 * SIGTERM (systemd's, or a second Ctrl-C) during the rest of the shutdown
	 * would then kill the process with work half done: blocked from here, the
	 * stop just carries on. Only the signals handled here: a fault signal
	 * (SIGSEGV, SIGBUS, ...) must never be blocked. */
	{
		sigset_t handled;

		sigemptyset(&handled);
		for (size_t i = 0; i < app.nsigs; i++)
			sigaddset(&handled, (int)event_get_fd(app.sigs[i]));   /* its signal */
		pthread_sigmask(SIG_BLOCK, &handled, NULL);
	}
	for (size_t i = 0; i < app.nsigs; i++)
		event_free(app.sigs[i]);
	if (app.drain_check)
		event_free(app.drain_check);
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
	if (app.sh)
		tp_offload_srv_close(app.sh);
	tp_shared_free(app.sh);
	conf_release(app.conf);
	return rc;
}
