/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * load_alloc.c - authenticated Allocate -> CreatePermission -> ChannelBind ->
 * Refresh(0) cycles/s, each cycle from a fresh source transport address (so it
 * starts, as a real client does, with the Allocate that draws the 401).
 */
#include <stdio.h>

#include "bench.h"

void tp_load_alloc(struct tp_target *t, const struct tp_bench_opts *o)
{
	static const enum tp_step steps[] = { TP_S_ALLOC, TP_S_PERM, TP_S_CHAN, TP_S_REFRESH0 };
	struct tp_script s = {
		.steps = steps, .nsteps = 4, .block = 64, .count = 1000000, .secs = o->secs,
		.conc = o->conc,
	};
	struct tp_script_res r;
	struct tp_procstat a, b;

	tp_addr_parse(&s.peer, "127.0.0.2:9", 9);
	tp_procstat_read(t->pid, &a);
	if (tp_script_run(t, &s, &r) != 0)
		return;
	tp_procstat_read(t->pid, &b);
	tp_report_set("Allocate cycle: cycles/s", "/s", TP_R_HIGHER | TP_R_INT, t->kind,
	              (double)r.done / r.secs);
	if (a.ok && b.ok && r.done)
		tp_report_set("Allocate cycle: server CPU per cycle", "us", TP_R_LOWER, t->kind,
		              (double)(b.cpu_ns - a.cpu_ns) / 1e3 / (double)r.done);
	if (r.failed)
		tp_report_note("%s: %llu of %llu Allocate cycles failed (last error %u)", t->name,
		               (unsigned long long)r.failed,
		               (unsigned long long)(r.failed + r.done), r.last_err);
}
