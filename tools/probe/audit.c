/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * audit.c - --audit: does the server accept CreatePermission for addresses a
 * TURN server must refuse (loopback, private, link-local, metadata, IPv4 hidden
 * in IPv6)? Permission requests only: no data is ever sent to these addresses.
 * IPv6 cases need an IPv6 relay (REQUESTED-ADDRESS-FAMILY); when the server has
 * none they are reported as not tested.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "probe.h"

/* Allocate with a relay of this family. NULL (and a note) on failure. */
static struct turn_cli *alloc(struct px **x, const struct probe_creds *cr,
                              const struct tp_addr *srv, uint8_t family, int ms,
                              char *note, size_t cap)
{
	struct turn_cli *t;
	char why[PROBE_TEXT];

	if (px_open(x, PX_UDP, srv, NULL, ms, why, sizeof(why)) != 0) {
		snprintf(note, cap, "%s", why);
		return NULL;
	}
	t = turn_new(*x, cr);
	if (t && turn_allocate(t, family, ms) == 0)
		return t;
	snprintf(note, cap, "Allocate (%s relay) failed: %s", family == TP_STUN_FAMILY_IPV6 ?
	         "IPv6" : "IPv4", t ? turn_last_reason(t) : "out of memory");
	turn_free(t);
	px_close(*x);
	*x = NULL;
	return NULL;
}

static void run_family(struct r_audit *au, const struct probe_creds *cr,
                       const struct tp_addr *srv, uint16_t family, int64_t deadline)
{
	struct px *x = NULL;
	char note[PROBE_TEXT] = "";
	struct turn_cli *t = alloc(&x, cr, srv, family == AF_INET6 ? TP_STUN_FAMILY_IPV6
	                                                           : TP_STUN_FAMILY_IPV4,
	                           probe_left(deadline), note, sizeof(note));

	for (size_t i = 0; i < au->n; i++) {
		struct r_audit_case *c = &au->cases[i];
		struct tp_addr peer;

		if (tp_addr_parse(&peer, c->c->addr, 9) != 0 || peer.family != family)
			continue;
		if (!t || !probe_left(deadline)) {
			snprintf(c->note, sizeof(c->note), "not tested: %.200s",
			         t ? "time budget exhausted" : note);
			continue;
		}
		if (turn_permission(t, &peer, probe_left(deadline) < 2000 ? probe_left(deadline)
		                                                          : 2000) == 0) {
			c->accepted = 1;
			snprintf(c->note, sizeof(c->note), "ACCEPTED: the relay could reach %s (%s)",
			         c->c->addr, c->c->category);
		} else if (turn_last(t)->code) {
			c->accepted = 0;
			c->code = turn_last(t)->code;
			snprintf(c->note, sizeof(c->note), "refused: %s", turn_last_reason(t));
		} else {
			snprintf(c->note, sizeof(c->note), "not tested: %.200s", turn_last_reason(t));
		}
	}
	if (t) {
		turn_release(t, 1000);
		turn_free(t);
	}
	px_close(x);
}

void audit_run(struct probe_result *r, const struct probe_creds *cr, const struct tp_addr *srv,
               int64_t deadline)
{
	struct r_audit *au = &r->audit;
	int acc[PROBE_MAX_AUDIT];

	au->ran = true;
	au->n = probe_audit_ncases < PROBE_MAX_AUDIT ? probe_audit_ncases : PROBE_MAX_AUDIT;
	for (size_t i = 0; i < au->n; i++) {
		au->cases[i].c = &probe_audit_cases[i];
		au->cases[i].accepted = -1;
	}
	run_family(au, cr, srv, AF_INET, deadline);
	run_family(au, cr, srv, AF_INET6, deadline);
	for (size_t i = 0; i < au->n; i++)
		acc[i] = au->cases[i].accepted;
	au->verdict = audit_verdict(acc, au->n);
	snprintf(au->note, sizeof(au->note), "%s",
	         !strcmp(au->verdict, "insecure")
	         ? "the server relays to addresses inside its own network: anyone with "
	           "credentials can reach them through it (SSRF)"
	         : !strcmp(au->verdict, "secure") ? "every tested address was refused"
	                                          : "no address could be tested");
}
