/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * load_binding.c - Binding requests/s and latency, at maximum (closed loop)
 * and at a fixed rate (open loop), with the server's CPU per request.
 */
#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "bench.h"

#define FLOWS 4

static void run(struct tp_target *t, const struct tp_bench_opts *o, double rate)
{
	struct tp_flow f[FLOWS] = { 0 };
	struct tp_eng_cfg c = { .rate = rate, .window = 64, .secs = o->secs };
	struct tp_eng_res r = { 0 };
	struct tp_procstat a, b;
	char label[64], m[128];
	size_t n = 0;

	if (rate > 0)
		snprintf(label, sizeof(label), "Binding @%.0f/s", rate);
	else
		snprintf(label, sizeof(label), "Binding max");
	for (; n < FLOWS; n++) {
		f[n].fd = tp_bench_udp(NULL, &t->addr);
		if (f[n].fd < 0)
			break;
		f[n].kind = TP_F_BINDING;
		f[n].len = TP_STUN_HDR_LEN;
		f[n].tmpl[1] = 0x01;   /* Binding request, no attributes */
		f[n].tmpl[4] = 0x21;
		f[n].tmpl[5] = 0x12;
		f[n].tmpl[6] = 0xA4;
		f[n].tmpl[7] = 0x42;
		f[n].ts_off = 8;
	}
	tp_procstat_read(t->pid, &a);
	if (n == 0 || tp_engine_run(f, n, &c, &r) != 0)
		goto out;
	tp_procstat_read(t->pid, &b);
	if (rate <= 0) {
		snprintf(m, sizeof(m), "%s: requests/s", label);
		tp_report_set(m, "/s", TP_R_HIGHER | TP_R_INT, t->kind, (double)r.recv / r.secs);
	} else {
		snprintf(m, sizeof(m), "%s: answered", label);
		tp_report_set(m, "%", TP_R_HIGHER, t->kind,
		              r.sent ? 100.0 * (double)r.recv / (double)r.sent : NAN);
	}
	snprintf(m, sizeof(m), "%s: latency p50", label);
	tp_report_set(m, "us", TP_R_LOWER, t->kind, tp_lat_us(&r.lat, 0.5));
	snprintf(m, sizeof(m), "%s: latency p99", label);
	tp_report_set(m, "us", TP_R_LOWER, t->kind, tp_lat_us(&r.lat, 0.99));
	snprintf(m, sizeof(m), "%s: latency p99.9", label);
	tp_report_set(m, "us", TP_R_LOWER, t->kind, tp_lat_us(&r.lat, 0.999));
	if (a.ok && b.ok && r.recv) {
		snprintf(m, sizeof(m), "%s: server CPU per request", label);
		tp_report_set(m, "us", TP_R_LOWER, t->kind,
		              (double)(b.cpu_ns - a.cpu_ns) / 1e3 / (double)r.recv);
	}
out:
	tp_lat_free(&r.lat);
	for (size_t i = 0; i < n; i++)
		close(f[i].fd);
}

void tp_load_binding(struct tp_target *t, const struct tp_bench_opts *o)
{
	run(t, o, 0);
	if (o->bind_rate > 0)
		run(t, o, o->bind_rate);
}
