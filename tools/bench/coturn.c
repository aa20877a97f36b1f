/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * coturn.c - coturn's turnserver started by hand for --compare coturn, with a
 * configuration equivalent to the one turnpike gets: same realm and user,
 * long-term credentials, a relay range on 127.0.0.1, loopback peers allowed,
 * quotas off, no TLS/DTLS, no CLI, relay threads as asked (default 2), logging
 * to a file in the bench's temp dir.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

int tp_target_coturn(struct tp_target *t, const char *path, const struct tp_bench_opts *o)
{
	char conf[128], log[128], clog[128];
	char *argv[] = { (char *)path, "-c", conf, NULL };
	int port = tp_bench_free_port(), err;
	FILE *f;

	memset(t, 0, sizeof(*t));
	t->kind = TP_T_COTURN;
	t->name = "coturn";
	if (port < 0)
		return port;
	err = tp_target_mkdir(t);
	if (err)
		return err;
	t->addr.sin_family = AF_INET;
	t->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	t->addr.sin_port = htons((uint16_t)port);
	snprintf(conf, sizeof(conf), "%s/turnserver.conf", t->dir);
	snprintf(log, sizeof(log), "%s/coturn.stdout", t->dir);
	snprintf(clog, sizeof(clog), "%s/coturn.log", t->dir);
	f = fopen(conf, "w");
	if (!f)
		return -errno;
	fprintf(f,
	        "listening-ip=127.0.0.1\n"
	        "listening-port=%d\n"
	        "relay-ip=127.0.0.1\nrelay-ip=127.0.0.2\nrelay-ip=127.0.0.3\nrelay-ip=127.0.0.4\n"
	        "min-port=20000\nmax-port=23999\n"
	        "relay-threads=%u\n"
	        "realm=bench\nserver-name=bench\n"
	        "lt-cred-mech\nuser=%s:%s\n"
	        "userdb=%s/turndb\n"
	        "user-quota=0\ntotal-quota=0\n"
	        "allow-loopback-peers\n"
	        "no-tls\nno-dtls\nno-cli\nno-tcp-relay\n"
	        "log-file=%s\nsimple-log\nno-stdout-log\n"
	        "pidfile=%s/turnserver.pid\n"
	        "max-allocate-lifetime=3600\n",
	        port, o->coturn_threads ? o->coturn_threads : 2, tp_bench_user, tp_bench_pass,
	        t->dir, clog, t->dir);
	fclose(f);
	err = tp_target_spawn(t, argv, log);
	if (err)
		return err;
	err = tp_target_wait_ready(t, 10000);
	if (err)
		fprintf(stderr, "tp-bench: turnserver did not answer; see %s and %s\n", log, clog);
	return err;
}
