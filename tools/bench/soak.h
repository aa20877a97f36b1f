/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * soak.h - the soak's state, shared by load_soak.c (the clients, traffic and
 * phases) and soak_report.c (the samples of the server and the summary).
 */
#ifndef TP_BENCH_SOAK_H
#define TP_BENCH_SOAK_H

#include "bench.h"

#define TP_SOAK_MAX_SAMPLES 8192
#define TP_SOAK_CONC 256                 /* transactions in flight at once */
#define TP_SOAK_PAYLOAD 100              /* bytes of each datagram's data */
#define TP_SOAK_FD_SLACK 4               /* descriptors the server may open lazily */
#define TP_SOAK_RELAYED_MIN 0.5          /* below this share of sent: a leak of datagrams */

struct tp_soak_slot {
	struct tp_tc sess;
	uint64_t deadline, next_refresh;
	uint8_t req[512];
	uint16_t len;
	uint8_t tid[12];
	uint8_t ops[4], nops, step, tx, rounds; /* ops: load_soak.c's enum op */
	uint16_t gen;                /* source address: index + gen * N */
	bool busy, allocated, ready, ever;
};

struct tp_soak_sample {
	double t;
	char phase;
	long rss_kb, fds, allocs;
	double cpu_s;
	uint64_t sent, relayed, trans, failed;
};

struct tp_soak {
	const struct tp_target *t;
	const struct tp_echo *e;
	const struct tp_bench_opts *o;
	struct tp_soak_slot *s;
	uint32_t n;
	int fd;
	uint32_t busy[TP_SOAK_CONC], nbusy;     /* the slots with a transaction */
	uint64_t sent, relayed, trans, failed, stale, churns, refreshes;
	uint16_t last_err;
	uint8_t chandata[4 + TP_SOAK_PAYLOAD];
	uint8_t sendind[16][256];
	size_t sendind_len[16];
	struct tp_soak_sample *smp;
	size_t nsmp;
	uint64_t t0;
};

/* A sample of the server now (phase: I idle, S setup, R run, E end). */
void tp_soak_sample(struct tp_soak *k, char phase, const struct sockaddr_in *metrics);
/* The samples as a table: every one of a short run, every n-th of a long one. */
void tp_soak_print(const struct tp_soak *k);
/* The figures, and the leak checks: 1 for a leak, else 0. */
int tp_soak_summary(const struct tp_soak *k, long idle_rss, long idle_fds, double run_s);
/* The number of open descriptors of pid, or -errno; the sum of the
 * turnpike_allocations gauges at metrics, or -errno (-ENOENT: no metrics). */
long tp_soak_fds(pid_t pid);
long tp_soak_metric_allocs(const struct sockaddr_in *metrics);

#endif
