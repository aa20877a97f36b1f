/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * target.c - the servers under test: turnpike and the bare forwarder started
 * by the bench (and stopped by PID at the end), or a server already running.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

int tp_target_mkdir(struct tp_target *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/tp-bench-XXXXXX");
	return mkdtemp(t->dir) ? 0 : -errno;
}

int tp_target_spawn(struct tp_target *t, char *const argv[], const char *log)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	t->pid = pid;
	t->started = true;
	return 0;
}

int tp_target_wait_ready(struct tp_target *t, unsigned ms)
{
	uint64_t until = tp_bench_now() + (uint64_t)ms * 1000000u;
	uint8_t req[TP_STUN_HDR_LEN] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42 };
	uint8_t buf[2048];
	int fd = tp_bench_udp(NULL, &t->addr), rc = -ETIMEDOUT;

	if (fd < 0)
		return fd;
	while (rc != 0 && tp_bench_now() < until) {
		struct pollfd pfd = { fd, POLLIN, 0 };

		if (t->pid > 0 && waitpid(t->pid, NULL, WNOHANG) == t->pid) {
			t->started = false;
			rc = -ECHILD;
			break;
		}
		(void)send(fd, req, sizeof(req), 0);
		if (poll(&pfd, 1, 100) > 0 && recv(fd, buf, sizeof(buf), 0) > 0)
			rc = 0;
	}
	close(fd);
	return rc;
}

static void set_addr(struct tp_target *t, int port)
{
	memset(&t->addr, 0, sizeof(t->addr));
	t->addr.sin_family = AF_INET;
	t->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	t->addr.sin_port = htons((uint16_t)port);
}

int tp_target_turnpike(struct tp_target *t, const char *path, const struct tp_bench_opts *o)
{
	char conf[128], log[128];
	char *argv[] = { (char *)path, "-c", conf, NULL };
	int port = tp_bench_free_port(), err;
	FILE *f;

	memset(t, 0, sizeof(*t));
	t->kind = TP_T_TURNPIKE;
	t->name = "turnpike";
	if (port < 0)
		return port;
	err = tp_target_mkdir(t);
	if (err)
		return err;
	set_addr(t, port);
	snprintf(conf, sizeof(conf), "%s/turnpike.conf", t->dir);
	snprintf(log, sizeof(log), "%s/turnpike.log", t->dir);
	f = fopen(conf, "w");
	if (!f)
		return -errno;
	fprintf(f,
	        "listen = [ \"udp:127.0.0.1:%d\" ];\n"
	        /* four relay addresses with 4,000 ports each hold 16,000
	         * allocations (--mem-allocs 10000 and the soak): every
	         * relay-ip is used */
	        "relay-ip = [ \"127.0.0.1\", \"127.0.0.2\", \"127.0.0.3\", \"127.0.0.4\" ];\n"
	        "min-port = 40000;\nmax-port = 43999;\n"
	        "realm = \"bench\";\n"
	        "users = ( { name = \"%s\"; password = \"%s\"; } );\n"
	        "allowed-peer = [ \"127.0.0.0/8\" ];\n"
	        "user-quota = 0;\ntotal-quota = 0;\nunauth-rate = 0;\n"
	        "max-lifetime = 3600;\nlog-level = \"warn\";\n%s",
	        port, tp_bench_user, tp_bench_pass, o && o->turnpike_extra ? o->turnpike_extra : "");
	fclose(f);
	err = tp_target_spawn(t, argv, log);
	if (err)
		return err;
	err = tp_target_wait_ready(t, 5000);
	if (err)
		fprintf(stderr, "tp-bench: turnpike did not answer; see %s\n", log);
	return err;
}

int tp_target_forwarder(struct tp_target *t, const char *path, const struct tp_echo *e,
                        unsigned pairs)
{
	char log[128], sport[32], spairs[16], peers[16][64];
	char *argv[8 + 2 * 16];
	int port = tp_bench_free_port(), err, ac = 0;

	memset(t, 0, sizeof(*t));
	t->kind = TP_T_FORWARDER;
	t->name = "bare forwarder";
	t->fwd_pairs = pairs;
	if (port < 0)
		return port;
	err = tp_target_mkdir(t);
	if (err)
		return err;
	set_addr(t, port);
	snprintf(log, sizeof(log), "%s/forwarder.log", t->dir);
	snprintf(sport, sizeof(sport), "127.0.0.1:%d", port);
	snprintf(spairs, sizeof(spairs), "%u", pairs);
	argv[ac++] = (char *)path;
	argv[ac++] = "-l";
	argv[ac++] = sport;
	argv[ac++] = "-n";
	argv[ac++] = spairs;
	for (unsigned i = 0; i < e->n && i < 16; i++) {
		tp_addr_fmt(&e->addr[i], peers[i], sizeof(peers[i]));
		argv[ac++] = "-p";
		argv[ac++] = peers[i];
	}
	argv[ac] = NULL;
	err = tp_target_spawn(t, argv, log);
	if (err)
		return err;
	err = tp_target_wait_ready(t, 5000);
	if (err)
		fprintf(stderr, "tp-bench: tp-forwarder did not answer; see %s\n", log);
	return err;
}

int tp_target_external(struct tp_target *t, const char *hostport, pid_t pid)
{
	struct tp_addr a;

	memset(t, 0, sizeof(*t));
	t->kind = TP_T_TURNPIKE;
	t->name = "target";
	if (tp_addr_parse(&a, hostport, 3478) != 0 || a.family != AF_INET)
		return -EINVAL;
	tp_addr_to_sa(&a, &t->addr);
	if ((ntohl(t->addr.sin_addr.s_addr) >> 24) != 127)
		return -EPERM;   /* the bench only ever sends to loopback */
	t->pid = pid;
	return tp_target_wait_ready(t, 3000);
}

/* The temp dir holds only files the bench or the server wrote: remove them,
 * unless TP_BENCH_KEEP is set (to read the servers' logs). */
static void clean_dir(struct tp_target *t)
{
	static const char *const names[] = { "turnpike.conf", "turnpike.log", "turnserver.conf",
		                             "turnserver.pid", "coturn.log", "coturn.stdout",
		                             "turndb", "forwarder.log" };
	char path[160];

	if (!t->dir[0] || getenv("TP_BENCH_KEEP"))
		return;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", t->dir, names[i]);
		(void)unlink(path);
	}
	if (rmdir(t->dir) != 0)
		fprintf(stderr, "tp-bench: left %s behind\n", t->dir);
	t->dir[0] = '\0';
}

void tp_target_stop(struct tp_target *t)
{
	if (!t->started || t->pid <= 0) {
		clean_dir(t);
		return;
	}
	kill(t->pid, SIGTERM);
	for (int i = 0; i < 50; i++) {
		if (waitpid(t->pid, NULL, WNOHANG) == t->pid)
			goto out;
		tp_bench_sleep_ms(100);
	}
	kill(t->pid, SIGKILL);
	waitpid(t->pid, NULL, 0);
out:
	t->started = false;
	clean_dir(t);
}
