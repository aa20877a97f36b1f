/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * report.c - the result table: one row per metric, one column per target,
 * and the ratios turnpike/coturn and turnpike/bare forwarder.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

#define MAX_ROWS 160
#define MAX_NOTES 32

struct row {
	char metric[96];
	const char *unit;
	unsigned flags;
	double v[TP_T__COUNT];
};

static struct row rows[MAX_ROWS];
static size_t nrows;
static char notes[MAX_NOTES][200];
static size_t nnotes;

void tp_report_set(const char *metric, const char *unit, unsigned flags,
                   enum tp_target_kind k, double v)
{
	struct row *r = NULL;

	for (size_t i = 0; i < nrows; i++)
		if (strcmp(rows[i].metric, metric) == 0)
			r = &rows[i];
	if (!r) {
		if (nrows == MAX_ROWS)
			return;
		r = &rows[nrows++];
		snprintf(r->metric, sizeof(r->metric), "%s", metric);
		r->unit = unit;
		r->flags = flags;
		for (int j = 0; j < TP_T__COUNT; j++)
			r->v[j] = NAN;
	}
	r->v[k] = v;
}

void tp_report_note(const char *fmt, ...)
{
	va_list ap;

	if (nnotes == MAX_NOTES)
		return;
	va_start(ap, fmt);
	vsnprintf(notes[nnotes++], sizeof(notes[0]), fmt, ap);
	va_end(ap);
}

static void fmt_val(char *b, size_t cap, double v, unsigned flags)
{
	if (isnan(v) || v < 0)
		snprintf(b, cap, "-");
	else if (flags & TP_R_INT)
		snprintf(b, cap, "%.0f", v);
	else if (v < 10)
		snprintf(b, cap, "%.2f", v);
	else
		snprintf(b, cap, "%.1f", v);
}

static void fmt_ratio(char *b, size_t cap, double x, double y)
{
	if (isnan(x) || isnan(y) || y <= 0 || x < 0)
		snprintf(b, cap, "-");
	else
		snprintf(b, cap, "%.2fx", x / y);
}

void tp_report_print(bool md)
{
	bool cot = false, fwd = false;
	char tp[32], co[32], rc[32], fw[32], rf[32];

	for (size_t i = 0; i < nrows; i++) {
		cot |= !isnan(rows[i].v[TP_T_COTURN]);
		fwd |= !isnan(rows[i].v[TP_T_FORWARDER]);
	}
	if (md) {
		printf("| metric | unit | turnpike |%s%s\n", cot ? " coturn | tp/coturn |" : "",
		       fwd ? " bare fwd | tp/fwd |" : "");
		printf("|---|---|--:|%s%s\n", cot ? "--:|--:|" : "", fwd ? "--:|--:|" : "");
	} else {
		printf("%-58s %-5s %11s", "metric", "unit", "turnpike");
		if (cot)
			printf(" %11s %10s", "coturn", "tp/coturn");
		if (fwd)
			printf(" %11s %8s", "bare fwd", "tp/fwd");
		printf("\n");
	}
	for (size_t i = 0; i < nrows; i++) {
		const struct row *r = &rows[i];

		fmt_val(tp, sizeof(tp), r->v[TP_T_TURNPIKE], r->flags);
		fmt_val(co, sizeof(co), r->v[TP_T_COTURN], r->flags);
		fmt_val(fw, sizeof(fw), r->v[TP_T_FORWARDER], r->flags);
		fmt_ratio(rc, sizeof(rc), r->v[TP_T_TURNPIKE], r->v[TP_T_COTURN]);
		fmt_ratio(rf, sizeof(rf), r->v[TP_T_TURNPIKE], r->v[TP_T_FORWARDER]);
		if (md) {
			printf("| %s | %s | %s |", r->metric, r->unit, tp);
			if (cot)
				printf(" %s | %s |", co, rc);
			if (fwd)
				printf(" %s | %s |", fw, rf);
			printf("\n");
			continue;
		}
		printf("%-58s %-5s %11s", r->metric, r->unit, tp);
		if (cot)
			printf(" %11s %10s", co, rc);
		if (fwd)
			printf(" %11s %8s", fw, rf);
		printf("\n");
	}
	printf("%sratio = turnpike / other; us = microseconds; CPU = utime+stime from "
	       "/proc/PID/stat over the run, divided by the operations answered.\n",
	       md ? "\n" : "");
	for (size_t i = 0; i < nnotes; i++)
		printf("%snote: %s\n", md ? "- " : "", notes[i]);
	fflush(stdout);
}
