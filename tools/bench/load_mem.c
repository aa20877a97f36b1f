/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * load_mem.c - the server's resident memory: idle, holding 1k and 10k
 * allocations (each from its own 127.16.x.y source) and after releasing them
 * (Refresh 0 from the same source transport addresses). Unauthenticated Binding
 * and Allocate(401) requests from distinct sources (127.32.x.y) come first, on
 * the idle server: a server that never returns memory would otherwise hide
 * their cost in the pages the released allocations left behind.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

#define SETTLE_MS 500

static double rss_kb(const struct tp_target *t)
{
	struct tp_procstat ps;

	tp_bench_sleep_ms(SETTLE_MS);
	return tp_procstat_read(t->pid, &ps) == 0 ? (double)ps.rss_kb : -1;
}

static void note_fail(const struct tp_target *t, const char *what, const struct tp_script_res *r)
{
	if (r->failed)
		tp_report_note("%s: %s: %llu of %llu failed (last error %u)", t->name, what,
		               (unsigned long long)r->failed,
		               (unsigned long long)(r->failed + r->done), r->last_err);
}

void tp_load_mem(struct tp_target *t, const struct tp_bench_opts *o)
{
	static const enum tp_step alloc[] = { TP_S_ALLOC };
	static const enum tp_step rel[] = { TP_S_REFRESH0 };
	static const enum tp_step unauth[] = { TP_S_BINDING, TP_S_ALLOC_401 };
	struct tp_script s = { .block = 16, .conc = o->conc, .secs = 120 };
	struct tp_script_res r;
	uint32_t have = 0, max = 0;
	uint64_t held = 0;
	double idle, base, v = 0;
	char m[96];

	if (t->pid <= 0)
		return;
	for (unsigned i = 0; i < o->nmem_allocs; i++)
		if (o->mem_allocs[i] > max)
			max = o->mem_allocs[i];
	s.ports = calloc(max ? max : 1, sizeof(*s.ports));
	if (!s.ports)
		return;
	idle = base = rss_kb(t);
	tp_report_set("RSS idle", "KB", TP_R_LOWER | TP_R_INT, t->kind, idle);
	if (o->unauth) {
		struct tp_script u = { .steps = unauth, .nsteps = 2, .block = 32, .count = o->unauth,
		                       .secs = 120, .conc = o->conc };

		tp_script_run(t, &u, &r);
		note_fail(t, "unauthenticated requests", &r);
		v = rss_kb(t);
		snprintf(m, sizeof(m), "RSS after %u unauthenticated sources", o->unauth);
		tp_report_set(m, "KB", TP_R_LOWER | TP_R_INT, t->kind, v);
		tp_report_set("memory per unauthenticated source", "B", TP_R_LOWER | TP_R_INT,
		              t->kind, (v - idle) * 1024 / (double)o->unauth);
		base = v;
	}
	for (unsigned i = 0; i < o->nmem_allocs; i++) {
		uint32_t want = o->mem_allocs[i];

		if (want <= have)
			continue;
		s.steps = alloc;
		s.nsteps = 1;
		s.first = have;
		s.count = want - have;
		{
			/* the script indexes ports from 0: hand it the slice for these sources */
			struct tp_script part = s;

			part.ports = s.ports + have;
			tp_script_run(t, &part, &r);
		}
		held += r.done;
		note_fail(t, "allocations", &r);
		have = want;
		v = rss_kb(t);
		snprintf(m, sizeof(m), "RSS with %u allocations", want);
		tp_report_set(m, "KB", TP_R_LOWER | TP_R_INT, t->kind, v);
		if (held)
			tp_report_set("memory per allocation (at the largest count)", "B",
			              TP_R_LOWER | TP_R_INT, t->kind, (v - base) * 1024 / (double)held);
	}
	if (have) {
		s.steps = rel;
		s.nsteps = 1;
		s.first = 0;
		s.count = have;
		tp_script_run(t, &s, &r);
		note_fail(t, "releases", &r);
		tp_bench_sleep_ms(1000);
		tp_report_set("RSS after releasing them", "KB", TP_R_LOWER | TP_R_INT, t->kind,
		              rss_kb(t));
	}
	free(s.ports);
}
