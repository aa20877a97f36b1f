/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cli.c - turnpike-probe: options, the order of the checks inside one time
 * budget, and the exit code (0 when STUN and TURN over UDP work, 3 when they do
 * but --audit found the server insecure).
 *
 *   turnpike-probe [--json] [--user U --pass P | --secret S] [--realm R]
 *                  [--ports 3478,5349,443] [--skip-lifetime] [--lifetime-max S]
 *                  [--audit] [--timeout S] SERVER[:PORT]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe.h"

#define BIND_MS     1500
#define TURN_MS     1500
#define PRIMARY_MS  3000

static void usage(FILE *f)
{
	fputs("usage: turnpike-probe [--json] [--user U --pass P | --secret S] [--realm R]\n"
	      "                      [--ports 3478,5349,443] [--skip-lifetime] [--lifetime-max S]\n"
	      "                      [--audit] [--timeout S] [--report FILE.html] SERVER[:PORT]\n"
	      "Checks STUN, NAT behaviour (RFC 5780), TURN over UDP/TCP/TLS/DTLS, relay RTT and\n"
	      "throughput, and with --audit the server's peer policy; --report also draws the\n"
	      "run as one self-contained HTML page. Exit 0 when STUN and\n"
	      "TURN over UDP work, 1 when not, 3 when they do but --audit found the server\n"
	      "insecure, 2 for a usage error. The JSON schema is in docs/PROBE.md.\n", f);
}

static int parse_ports(struct probe_opts *o, const char *s)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", s);
	o->nports = 0;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		unsigned long p = strtoul(tok, &end, 10);

		if (*end || p == 0 || p > 65535 || o->nports == PROBE_MAX_PORTS)
			return -EINVAL;
		o->ports[o->nports++] = (uint16_t)p;
	}
	return o->nports ? 0 : -EINVAL;
}

static int parse_opts(struct probe_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "user", required_argument, NULL, 'u' },
		{ "pass", required_argument, NULL, 'p' },
		{ "secret", required_argument, NULL, 's' },
		{ "realm", required_argument, NULL, 'r' },
		{ "ports", required_argument, NULL, 'P' },
		{ "skip-lifetime", no_argument, NULL, 'L' },
		{ "lifetime-max", required_argument, NULL, 'M' },
		{ "audit", no_argument, NULL, 'a' },
		{ "timeout", required_argument, NULL, 't' },
		{ "report", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	o->timeout = 20;
	o->lifetime_max = 60;
	parse_ports(o, "3478,5349,443");
	while ((c = getopt_long(argc, argv, "ju:p:s:r:P:LM:at:h", lo, NULL)) != -1) {
		switch (c) {
		case 'j': o->json = true; break;
		case 'u': o->user = optarg; break;
		case 'p': o->pass = optarg; break;
		case 's': o->secret = optarg; break;
		case 'r': o->realm = optarg; break;
		case 'P':
			if (parse_ports(o, optarg) != 0) {
				fprintf(stderr, "turnpike-probe: --ports: a comma-separated list of "
				                "1..%d ports expected\n", PROBE_MAX_PORTS);
				return -1;
			}
			break;
		case 'L': o->skip_lifetime = true; break;
		case 'M': o->lifetime_max = atoi(optarg); break;
		case 'a': o->audit = true; break;
		case 't': o->timeout = atoi(optarg); break;
		case 'R': o->report = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return -1;
	}
	o->server = argv[optind];
	if ((o->user && !o->pass && !o->secret) || (o->pass && !o->user) ||
	    (o->secret && o->pass)) {
		fputs("turnpike-probe: give --user with --pass, or --secret (optionally with "
		      "--user as the REST name)\n", stderr);
		return -1;
	}
	if (o->timeout < 2 || o->timeout > 600 || o->lifetime_max < 5 || o->lifetime_max > 3600) {
		fputs("turnpike-probe: --timeout 2..600, --lifetime-max 5..3600\n", stderr);
		return -1;
	}
	return 0;
}

static void bindings(struct probe_result *r, int64_t deadline)
{
	for (size_t s = 0; s < r->nsrv; s++) {
		struct probe_if ifs[PROBE_MAX_IFS];
		size_t nif = probe_ifaces(r->srv[s].family, probe_is_loopback(&r->srv[s]), ifs,
		                          PROBE_MAX_IFS);

		if (!nif) {
			snprintf(ifs[0].name, sizeof(ifs[0].name), "default");
			memset(&ifs[0].addr, 0, sizeof(ifs[0].addr));
			ifs[0].addr.family = r->srv[s].family;
			nif = 1;
		}
		for (size_t i = 0; i < nif && r->nbind < PROBE_MAX_IFS * 2; i++) {
			struct r_binding *b = &r->bind[r->nbind++];
			struct bind_res res;
			int fd = probe_udp_socket(&ifs[i].addr), rc;
			int ms = probe_left(deadline) < BIND_MS ? probe_left(deadline) : BIND_MS;

			memcpy(b->ifname, ifs[i].name, sizeof(b->ifname));
			b->family = r->srv[s].family;
			b->server = r->srv[s];
			if (fd < 0) {
				snprintf(b->error, sizeof(b->error), "socket: %s", strerror(-fd));
				continue;
			}
			probe_sockname(fd, &b->local);
			rc = stun_binding(fd, &r->srv[s], NULL, ms, &res);
			close(fd);
			if (rc == 0 && res.code == 0 && res.has_mapped) {
				b->ok = true;
				b->mapped = res.mapped;
				b->rtt_ms = res.rtt_ms;
				if (!r->software[0])
					snprintf(r->software, sizeof(r->software), "%s", res.software);
			} else if (rc == 0) {
				snprintf(b->error, sizeof(b->error), "error %d %s", res.code, res.reason);
			} else {
				snprintf(b->error, sizeof(b->error), "%s", rc == -ETIMEDOUT
				         ? "no answer (UDP blocked, or no STUN server there?)"
				         : strerror(-rc));
			}
			r->stun_ok |= b->ok;
		}
	}
}

/* A name for SNI and certificate checks; none for an address literal. */
static const char *sni_of(const char *host)
{
	struct tp_addr a;

	return tp_addr_parse(&a, host, 0) == 0 ? NULL : host;
}

static void turn_one(struct probe_result *r, const struct probe_creds *cr, enum probe_xport k,
                     uint16_t port, int ms)
{
	struct r_turn *rt;
	struct turn_cli *t = NULL;
	struct px *x = NULL;
	double t0 = probe_now_msf();
	int rc;

	if (r->nturn == PROBE_MAX_TURN)
		return;
	rt = &r->turn[r->nturn++];
	rt->xport = k;
	rt->port = port;
	rt->server = r->srv[0];
	rt->server.port = port;
	if (ms <= 0) {
		snprintf(rt->error, sizeof(rt->error), "not tested: time budget exhausted");
		r->budget_exhausted = true;
		return;
	}
	rc = px_open(&x, k, &rt->server, sni_of(r->host), ms, rt->error, sizeof(rt->error));
	if (rc) {
		struct turn_fail f = { .errno_ = rc, .xport = k };

		rt->hint = turn_hint(&f);
		return;
	}
	rt->reachable = true;
	snprintf(rt->tls, sizeof(rt->tls), "%s", px_tls_info(x));
	t = turn_new(x, cr);
	if (!t)
		goto out;
	if (turn_allocate_follow(&t, &x, k, &rt->server, sni_of(r->host), 0, ms, rt->via,
	                         &rt->nvia) == 0) {
		rt->ok = true;
		rt->ms = probe_now_msf() - t0;
		rt->relayed = *turn_relayed(t);
		rt->mapped = *turn_mapped(t);
		rt->lifetime = turn_lifetime(t);
		turn_release(t, 1000);
	} else {
		struct turn_fail f = *turn_last(t);

		f.xport = k;
		rt->code = f.code;
		snprintf(rt->reason, sizeof(rt->reason), "%s", turn_last_reason(t));
		snprintf(rt->error, sizeof(rt->error), "Allocate failed: %s", turn_last_reason(t));
		rt->hint = turn_hint(&f);
		if (f.errno_ && !f.code)
			rt->reachable = f.errno_ != -ECONNREFUSED && f.errno_ != -ETIMEDOUT;
	}
	if (cr->realm && turn_realm(t)[0] && strcmp(cr->realm, turn_realm(t)) != 0 && !rt->ok)
		snprintf(rt->error + strlen(rt->error), sizeof(rt->error) - strlen(rt->error),
		         " (the server's realm is \"%s\", not \"%s\")", turn_realm(t), cr->realm);
out:
	turn_free(t);
	px_close(x);
}

int main(int argc, char **argv)
{
	static struct probe_opts o;
	static struct probe_result r;
	struct probe_creds cr;
	FILE *html = NULL;
	int64_t deadline;
	const struct tp_addr *nat_local = NULL;
	uint16_t ports[PROBE_MAX_PORTS + 1];
	size_t nports = 0;
	int n;

	if (parse_opts(&o, argc, argv) != 0)
		return 2;
	if (o.report) {
		/* opened now, so a path that cannot be written fails before the run */
		html = fopen(o.report, "w");
		if (!html) {
			fprintf(stderr, "turnpike-probe: --report %s: %s\n", o.report, strerror(errno));
			return 2;
		}
	}
	cr = (struct probe_creds){ .user = o.user, .pass = o.pass, .secret = o.secret,
		                   .realm = o.realm };
	r.o = &o;
	r.started_ms = probe_now_ms();
	deadline = r.started_ms + (int64_t)o.timeout * 1000;
	n = probe_resolve(o.server, 3478, r.srv, PROBE_MAX_SRV, r.host, sizeof(r.host));
	if (n < 0) {
		snprintf(r.resolve_error, sizeof(r.resolve_error), "cannot resolve %s: %s", o.server,
		         strerror(-n));
		goto done;
	}
	r.nsrv = (size_t)n;

	/* 1. reflexive addresses per interface and family */
	bindings(&r, deadline);

	/* 2. TURN over UDP on the primary port first: it decides the exit code */
	ports[nports++] = r.srv[0].port;
	for (size_t i = 0; i < o.nports; i++) {
		bool dup = false;

		for (size_t k = 0; k < nports; k++)
			dup |= ports[k] == o.ports[i];
		if (!dup)
			ports[nports++] = o.ports[i];
	}
	turn_one(&r, &cr, PX_UDP, ports[0],
	         probe_left(deadline) < PRIMARY_MS ? probe_left(deadline) : PRIMARY_MS);
	r.turn_udp_ok = r.turn[0].ok;

	/* 3. relay RTT and throughput, 4. the audit */
	if (r.turn_udp_ok) {
		relay_run(&r, &cr, &r.turn[0].server, deadline);
		if (o.audit)
			audit_run(&r, &cr, &r.turn[0].server, deadline);
	} else {
		r.relay.status = "skipped";
		snprintf(r.relay.note, sizeof(r.relay.note), "TURN over UDP does not work");
		if (o.audit) {
			r.audit.ran = false;
			snprintf(r.audit.note, sizeof(r.audit.note),
			         "not run: no allocation over UDP (needs working credentials)");
		}
	}

	/* 5. NAT behaviour from the first interface that got an answer */
	for (size_t i = 0; i < r.nbind && !nat_local; i++)
		if (r.bind[i].ok && tp_addr_ip_eq(&r.bind[i].server, &r.srv[0]))
			nat_local = &r.bind[i].local;
	if (nat_local)
		nat_run(&r, &r.srv[0], nat_local, deadline);
	else
		snprintf(r.nat.why_not, sizeof(r.nat.why_not), "no Binding answer: nothing to measure");

	/* 6. the other transports and ports */
	for (size_t p = 0; p < nports; p++) {
		for (int k = 0; k < PX__COUNT; k++) {
			int left = probe_left(deadline);

			if (p == 0 && k == PX_UDP)
				continue;
			turn_one(&r, &cr, (enum probe_xport)k, ports[p], left < TURN_MS ? left : TURN_MS);
		}
	}

	/* 7. binding lifetime: outside the budget, bounded on its own */
	if (!o.skip_lifetime && nat_local)
		nat_lifetime(&r, &r.srv[0], nat_local, o.lifetime_max);
done:
	r.duration_ms = probe_now_ms() - r.started_ms;
	r.exit_code = !r.stun_ok || !r.turn_udp_ok ? 1
	              : o.audit && r.audit.ran && !strcmp(r.audit.verdict, "insecure") ? 3 : 0;
	if (o.json)
		report_json(&r, stdout);
	else
		report_text(&r);
	if (html) {
		char *json = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&json, &len);
		int rc = -1;

		if (m) {
			report_json(&r, m);
			if (fclose(m) == 0)
				rc = report_html(&r, json, html);
			else
				fclose(html);
		} else {
			fclose(html);
		}
		if (rc != 0)
			fprintf(stderr, "turnpike-probe: --report %s: could not write it\n", o.report);
		free(json);
	}
	return r.exit_code;
}
