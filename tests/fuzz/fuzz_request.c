/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_request.c - libFuzzer over the whole request path: datagrams and
 * stream bytes from several clients, clock steps, deferred answers and
 * operator events (request_world.h gives the input format) into tp_dispatch
 * with the real authentication, TURN handlers and state layer, and fake
 * edges. request_world.c aborts when an invariant breaks: replies that do
 * not decode or answer another transaction, state or amplification without
 * authentication, inconsistent tables.
 *
 * TP_FUZZ_LOG=error|warn|info|debug sets the server's log level (default
 * error: quiet); TP_FUZZ_REPORT=1 prints what the inputs reached at exit
 * (allocations made, answers by method and code) for the coverage check.
 */
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "request_world.h"

static void report(void)
{
	const struct rw_totals *t = rw_totals();

	printf("fuzz_request: %llu inputs, %llu messages (%llu signed with a known key), "
	       "%llu replies, %llu allocations created (at most %llu at once), "
	       "%llu permissions and %llu channels at most, %llu relayed, "
	       "largest unauthenticated reply %ld bytes over its request\n",
	       (unsigned long long)t->worlds, (unsigned long long)t->messages,
	       (unsigned long long)t->authed_msgs, (unsigned long long)t->replies,
	       (unsigned long long)t->allocs_created, (unsigned long long)t->allocs_max,
	       (unsigned long long)t->perms_max, (unsigned long long)t->chans_max,
	       (unsigned long long)t->relayed, t->unauth_excess_max);
	for (int m = 0; m < TP_SM_COUNT; m++)
		for (unsigned r = 0; r < TP_SR_COUNT; r++)
			if (t->answers[m][r])
				printf("fuzz_request: answers %s %u: %llu\n",
				       tp_stats_method_name((enum tp_stat_method)m), tp_stats_code(r),
				       (unsigned long long)t->answers[m][r]);
	fflush(stdout);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (getenv("TP_FUZZ_REPORT"))
		atexit(report);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct rw_world *w = rw_create();
	const char *lvl = getenv("TP_FUZZ_LOG");

	if (lvl && tp_log_level_parse(lvl) >= 0)
		tp_log_level = tp_log_level_parse(lvl);
	rw_run(w, d, n);
	rw_free(w);
	return 0;
}
