/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * procstat.c - CPU time and resident memory of a process, from /proc.
 *
 * utime and stime (fields 14 and 15 of /proc/PID/stat) cover every thread of
 * the process; they tick at sysconf(_SC_CLK_TCK), usually 100 Hz, so a
 * measurement needs a few hundred milliseconds of server CPU to be exact to 1%.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

static int read_file(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
	return 0;
}

static int cpu_of(pid_t pid, uint64_t *ns)
{
	char path[64], buf[1024];
	unsigned long long ut, st;
	const char *p;
	long hz = sysconf(_SC_CLK_TCK);

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_file(path, buf, sizeof(buf)) != 0)
		return -ESRCH;
	/* the command name may hold spaces and parentheses: skip past the last ')' */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
	                 &st) != 2)
		return -EINVAL;
	if (hz <= 0)
		hz = 100;
	*ns = (uint64_t)(ut + st) * (1000000000ull / (uint64_t)hz);
	return 0;
}

static int rss_of(pid_t pid, uint64_t *kb)
{
	char path[64], buf[4096];
	unsigned long long v;
	const char *p;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (read_file(path, buf, sizeof(buf)) != 0)
		return -ESRCH;
	p = strstr(buf, "VmRSS:");
	if (!p || sscanf(p + 6, "%llu", &v) != 1)
		return -EINVAL;
	*kb = v;
	return 0;
}

int tp_procstat_read(pid_t pid, struct tp_procstat *ps)
{
	memset(ps, 0, sizeof(*ps));
	if (pid <= 0)
		return -ESRCH;
	if (cpu_of(pid, &ps->cpu_ns) != 0 || rss_of(pid, &ps->rss_kb) != 0)
		return -ESRCH;
	ps->ok = true;
	return 0;
}
