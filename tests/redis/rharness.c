/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rharness.c - see rharness.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "rharness.h"

uint64_t rh_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool in_path(const char *name)
{
	const char *path = getenv("PATH");
	char buf[4096], full[4200];

	snprintf(buf, sizeof(buf), "%s", path ? path : "/usr/bin:/bin");
	for (char *save = NULL, *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(full, sizeof(full), "%s/%s", d, name);
		if (access(full, X_OK) == 0)
			return true;
	}
	return false;
}

bool rh_available(void)
{
	return in_path("redis-server") && in_path("redis-cli");
}

static uint16_t free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint16_t port = 0;

	if (fd < 0)
		return 0;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static int write_conf(struct rh_redis *r)
{
	FILE *f = fopen(r->conf, "w");

	if (!f)
		return -1;
	fprintf(f,
	        "port %u\n"
	        "bind 127.0.0.1\n"
	        "unixsocket %s\n"
	        "unixsocketperm 700\n"
	        "save \"\"\n"
	        "appendonly no\n"
	        "daemonize no\n"
	        "dir %s\n"
	        "logfile %s\n"
	        "requirepass %s\n"
	        "notify-keyspace-events K$gs\n",
	        r->port, r->sock, r->dir, r->log, r->password);
	return fclose(f);
}

int rh_init(struct rh_redis *r, const char *password)
{
	const char *t = getenv("TMPDIR");

	memset(r, 0, sizeof(*r));
	snprintf(r->dir, sizeof(r->dir), "%s/tp_redis_XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(r->dir))
		return -1;
	snprintf(r->conf, sizeof(r->conf), "%s/redis.conf", r->dir);
	snprintf(r->sock, sizeof(r->sock), "%s/redis.sock", r->dir);
	snprintf(r->log, sizeof(r->log), "%s/redis.log", r->dir);
	snprintf(r->password, sizeof(r->password), "%s", password);
	return 0;
}

/* AUTH + PING over a fresh connection: +OK +PONG within 300 ms. */
static bool answers(const struct rh_redis *r)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(r->port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char req[256], buf[256];
	size_t got = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok = false;
	uint64_t end = rh_now_ms() + 300;

	if (fd < 0)
		return false;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		goto out;
	snprintf(req, sizeof(req), "*2\r\n$4\r\nAUTH\r\n$%zu\r\n%s\r\n*1\r\n$4\r\nPING\r\n",
	         strlen(r->password), r->password);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		goto out;
	while (!ok && rh_now_ms() < end && got < sizeof(buf) - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;
		if (poll(&p, 1, 50) != 1)
			continue;
		if ((n = read(fd, buf + got, sizeof(buf) - 1 - got)) <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
		ok = strstr(buf, "+PONG") != NULL;
	}
out:
	close(fd);
	return ok;
}

int rh_start(struct rh_redis *r)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		uint64_t end;
		int st;

		if (!r->port || attempt > 0)
			r->port = free_port();
		if (!r->port || write_conf(r) != 0)
			return -1;
		pid_t pid = fork();
		if (pid < 0)
			return -1;
		if (pid == 0) {
			int null = open("/dev/null", O_RDWR);
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (null >= 0) {
				dup2(null, 0);
				dup2(null, 1);
				dup2(null, 2);
			}
			execlp("redis-server", "redis-server", r->conf, (char *)NULL);
			_exit(127);
		}
		r->pid = pid;
		for (end = rh_now_ms() + 5000; rh_now_ms() < end;) {
			if (waitpid(pid, &st, WNOHANG) == pid) {
				r->pid = 0;     /* the port was taken meanwhile? try another */
				break;
			}
			if (answers(r))
				return 0;
			usleep(20000);
		}
		if (r->pid)
			rh_kill(r);
	}
	return -1;
}

void rh_kill(struct rh_redis *r)
{
	if (!r->pid)
		return;
	kill(r->pid, SIGCONT);
	kill(r->pid, SIGKILL);
	waitpid(r->pid, NULL, 0);
	r->pid = 0;
}

void rh_freeze(struct rh_redis *r, bool frozen)
{
	if (r->pid)
		kill(r->pid, frozen ? SIGSTOP : SIGCONT);
}

void rh_fini(struct rh_redis *r)
{
	DIR *d;
	struct dirent *e;
	char p[600];

	rh_kill(r);
	if (!r->dir[0] || !(d = opendir(r->dir)))
		return;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", r->dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(r->dir);
}

int rh_cli(const struct rh_redis *r, unsigned db, char *out, size_t cap, ...)
{
	const char *argv[64];
	char port[8], dbs[8];
	int n = 0, pfd[2], st = -1;
	va_list ap;
	const char *a;
	pid_t pid;

	snprintf(port, sizeof(port), "%u", r->port);
	snprintf(dbs, sizeof(dbs), "%u", db);
	argv[n++] = "redis-cli";
	argv[n++] = "-h";
	argv[n++] = "127.0.0.1";
	argv[n++] = "-p";
	argv[n++] = port;
	argv[n++] = "-n";
	argv[n++] = dbs;
	va_start(ap, cap);
	while ((a = va_arg(ap, const char *)) != NULL && n < 63)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	if (pipe(pfd) != 0)
		return -1;
	if ((pid = fork()) == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(pfd[1], 1);
		if (null >= 0)
			dup2(null, 2);
		close(pfd[0]);
		setenv("REDISCLI_AUTH", r->password, 1);
		execvp("redis-cli", (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	size_t got = 0;
	char sink[256];
	for (;;) {
		char *dst = out && got + 1 < cap ? out + got : sink;
		size_t room = out && got + 1 < cap ? cap - 1 - got : sizeof(sink);
		ssize_t k = read(pfd[0], dst, room);
		if (k <= 0)
			break;
		if (dst != sink)
			got += (size_t)k;
	}
	close(pfd[0]);
	if (out && cap) {
		while (got && (out[got - 1] == '\n' || out[got - 1] == '\r'))
			got--;
		out[got] = '\0';
	}
	if (pid > 0)
		waitpid(pid, &st, 0);
	return pid > 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
