/*
 * soak_probe.c - what the soak reads of the server between samples: its open
 * descriptors (/proc/PID/fd) and its live allocations (the turnpike_allocations
 * gauges of its /metrics listener, summed over transport and family).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "bench.h"

#define METRICS_MAX (512 * 1024)

long tp_soak_fds(pid_t pid)
{
	char path[64];
	struct dirent *d;
	long n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	/* bounded by the directory: the server's descriptors, at most its ulimit */
	while ((d = readdir(dir)) != NULL)
		if (d->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

/* Sum the values of every "turnpike_allocations{...} V" line. */
static long sum_allocs(const char *body)
{
	static const char key[] = "\nturnpike_allocations{";
	const char *p = body;
	long sum = -1;

	while ((p = strstr(p, key)) != NULL) {
		const char *e = strchr(p + 1, '}');
		char *end;
		unsigned long long v;

		if (!e)
			break;
		v = strtoull(e + 1, &end, 10);
		if (end == e + 1)
			break;
		sum = (sum < 0 ? 0 : sum) + (long)v;
		p = end;
	}
	return sum;
}

long tp_soak_metric_allocs(const struct sockaddr_in *m)
{
	static const char req[] = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
	struct timeval tv = { 2, 0 };
	size_t n = 0;
	char *buf;
	long v = -EIO;
	int fd;

	if (!m || m->sin_port == 0)
		return -ENOENT;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	buf = malloc(METRICS_MAX + 1);
	if (!buf || connect(fd, (const struct sockaddr *)m, sizeof(*m)) != 0 ||
	    send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof(req) - 1))
		goto out;
	/* HTTP/1.0: the server closes after the body; bounded by size and timeout */
	while (n < METRICS_MAX) {
		ssize_t r = recv(fd, buf + n, METRICS_MAX - n, 0);

		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	if (strncmp(buf, "HTTP/1.", 7) == 0 && strstr(buf, " 200 "))
		v = sum_allocs(buf);
out:
	free(buf);
	close(fd);
	return v;
}
