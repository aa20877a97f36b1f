/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * soak_report.c - what the soak reads of the server and what it makes of it:
 * samples of its RSS and CPU (/proc/PID/status, /proc/PID/stat), its open
 * descriptors (/proc/PID/fd) and its live allocations (the
 * turnpike_allocations gauges of its /metrics listener, summed over transport
 * and family); the table of samples, the least-squares slopes and the leak
 * checks.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "soak.h"

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

/* ---- samples --------------------------------------------------------- */

void tp_soak_sample(struct tp_soak *k, char phase, const struct sockaddr_in *metrics)
{
	struct tp_procstat ps;
	struct tp_soak_sample *m;

	if (k->nsmp == TP_SOAK_MAX_SAMPLES)
		return;
	m = &k->smp[k->nsmp++];
	memset(m, 0, sizeof(*m));
	m->t = (double)(tp_bench_now() - k->t0) / 1e9;
	m->phase = phase;
	m->rss_kb = -1;
	m->cpu_s = NAN;
	if (tp_procstat_read(k->t->pid, &ps) == 0) {
		m->rss_kb = (long)ps.rss_kb;
		m->cpu_s = (double)ps.cpu_ns / 1e9;
	}
	/* descriptors first: the scrape's own connection is closed by then */
	m->fds = k->t->pid > 0 ? tp_soak_fds(k->t->pid) : -1;
	m->allocs = tp_soak_metric_allocs(metrics);
	m->sent = k->sent;
	m->relayed = k->relayed;
	m->trans = k->trans;
	m->failed = k->failed;
}

static void print_row(const struct tp_soak *k, size_t j)
{
	const struct tp_soak_sample *m = &k->smp[j], *p = j ? &k->smp[j - 1] : m;
	double dt = m->t - p->t;
	double cpu = dt > 0 ? 100 * (m->cpu_s - p->cpu_s) / dt : NAN;

	printf("%8.1f %c %7ld %9ld %6ld %6.1f %11llu %11llu %9llu %6llu\n", m->t, m->phase,
	       m->allocs, m->rss_kb, m->fds, cpu, (unsigned long long)m->sent,
	       (unsigned long long)m->relayed, (unsigned long long)m->trans,
	       (unsigned long long)m->failed);
}

/* Least-squares slope of y over t (per hour) for the run-phase samples from
 * time from on (seconds since the start). */
static double slope_per_hour(const struct tp_soak *k, bool fds, double from)
{
	double n = 0, st = 0, sy = 0, stt = 0, sty = 0;

	for (size_t j = 0; j < k->nsmp; j++) {
		const struct tp_soak_sample *m = &k->smp[j];
		double t = m->t / 3600, y = fds ? (double)m->fds : (double)m->rss_kb;

		if (m->phase != 'R' || y < 0 || m->t < from)
			continue;
		n++;
		st += t;
		sy += y;
		stt += t * t;
		sty += t * y;
	}
	if (n < 2 || n * stt - st * st <= 0)
		return NAN;
	return (n * sty - st * sy) / (n * stt - st * st);
}

void tp_soak_print(const struct tp_soak *k)
{
	size_t stride = k->nsmp / 80 + 1;   /* at most ~80 rows of the run */

	printf("  time(s) phase allocs  RSS(KB)    fds  CPU%%        sent     relayed     "
	       "trans failed\n");
	for (size_t j = 0; j < k->nsmp; j++)
		if (j % stride == 0 || j + 1 == k->nsmp || k->smp[j].phase != 'R')
			print_row(k, j);
}

/* The checks: 1 if anything leaked. */
static int leaks(const struct tp_soak *k, long idle_fds)
{
	const struct tp_soak_sample *end = &k->smp[k->nsmp - 1];
	int leak = 0;

	if (k->t->pid <= 0 || idle_fds < 0) {
		printf("  (no server PID or no /proc/PID/fd: descriptors not checked)\n");
	} else if (end->fds < 0 || end->fds > idle_fds + TP_SOAK_FD_SLACK) {
		printf("LEAK: the server holds %ld descriptors, %ld at idle\n", end->fds, idle_fds);
		leak = 1;
	}
	if (end->allocs == -ENOENT) {
		printf("  (no metrics listener: the allocation count not checked)\n");
	} else if (end->allocs < 0) {
		printf("LEAK: the allocation count cannot be read at the end (%s)\n",
		       strerror((int)-end->allocs));
		leak = 1;
	} else if (end->allocs > 0) {
		printf("LEAK: the server counts %ld allocations after every delete\n", end->allocs);
		leak = 1;
	}
	if (k->sent && (double)k->relayed < TP_SOAK_RELAYED_MIN * (double)k->sent) {
		printf("LEAK: %llu datagrams relayed back of %llu sent\n",
		       (unsigned long long)k->relayed, (unsigned long long)k->sent);
		leak = 1;
	}
	if (!leak)
		printf("soak: no leak\n");
	return leak;
}

int tp_soak_summary(const struct tp_soak *k, long idle_rss, long idle_fds, double run_s)
{
	const struct tp_soak_sample *end = &k->smp[k->nsmp - 1];
	long peak_rss = idle_rss, peak_fds = idle_fds, peak_allocs = 0;
	double cpu0 = NAN, cpu1 = NAN, t0 = 0, t1 = 0;
	uint64_t sent0 = 0, sent1 = 0;

	for (size_t j = 0; j < k->nsmp; j++) {
		const struct tp_soak_sample *m = &k->smp[j];

		peak_rss = m->rss_kb > peak_rss ? m->rss_kb : peak_rss;
		peak_fds = m->fds > peak_fds ? m->fds : peak_fds;
		peak_allocs = m->allocs > peak_allocs ? m->allocs : peak_allocs;
		if (m->phase != 'R')
			continue;
		if (isnan(cpu0)) {
			cpu0 = m->cpu_s;
			t0 = m->t;
			sent0 = m->sent;
		}
		cpu1 = m->cpu_s;
		t1 = m->t;
		sent1 = m->sent;
	}
	printf("\nsoak: %u allocations, %.0f s of traffic at %.0f datagrams/s, churn %.1f%% "
	       "every %.0f s\n", k->n, run_s, k->o->soak_rate, k->o->soak_churn,
	       k->o->soak_every);
	printf("  datagrams sent %llu, relayed back %llu (%.2f%%)\n",
	       (unsigned long long)k->sent, (unsigned long long)k->relayed,
	       k->sent ? 100.0 * (double)k->relayed / (double)k->sent : 0.0);
	printf("  churned (deleted and allocated again) %llu, refreshed (allocation, "
	       "permission, channel) %llu\n", (unsigned long long)k->churns,
	       (unsigned long long)k->refreshes);
	printf("  transactions %llu, failed %llu (last error %u), stale datagrams %llu\n",
	       (unsigned long long)k->trans, (unsigned long long)k->failed, k->last_err,
	       (unsigned long long)k->stale);
	if (t1 > t0)
		printf("  server CPU during traffic: %.1f s over %.0f s = %.1f%% of one core "
		       "(all its work, %.1f us per datagram sent)\n", cpu1 - cpu0, t1 - t0,
		       100 * (cpu1 - cpu0) / (t1 - t0),
		       sent1 > sent0 ? 1e6 * (cpu1 - cpu0) / (double)(sent1 - sent0) : NAN);
	printf("  server CPU in all: %.1f s\n", end->cpu_s);
	printf("  RSS KB: idle %ld, peak %ld, end %ld; slope %.0f KB/h (second half %.0f KB/h)\n",
	       idle_rss, peak_rss, end->rss_kb, slope_per_hour(k, false, 0),
	       slope_per_hour(k, false, (t0 + t1) / 2));
	printf("  fds: idle %ld, peak %ld, end %ld; slope %.1f /h (second half %.1f /h)\n",
	       idle_fds, peak_fds, end->fds, slope_per_hour(k, true, 0),
	       slope_per_hour(k, true, (t0 + t1) / 2));
	if (end->allocs >= 0)
		printf("  allocations: peak %ld, end %ld\n", peak_allocs, end->allocs);
	return leaks(k, idle_fds);
}
