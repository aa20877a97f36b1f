/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * classify.c - the probe's decisions, kept pure (no I/O) so they are tested on
 * canned answers: RFC 5780 §4.3 mapping and §4.4 filtering classification, the
 * hint for each TURN failure, the audit cases and verdict, percentiles.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "probe.h"

static bool same(const struct tp_addr *a, const struct tp_addr *b)
{
	size_t n = a->family == AF_INET6 ? 16 : 4;

	return a->family == b->family && a->port == b->port && memcmp(a->ip, b->ip, n) == 0;
}

static const char *fmt(const struct tp_addr *a, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	inet_ntop(a->family == AF_INET6 ? AF_INET6 : AF_INET, a->ip, ip, sizeof(ip));
	snprintf(buf, cap, a->family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, a->port);
	return buf;
}

const char *nat_map_name(enum nat_map m)
{
	static const char *const n[] = { "unknown", "none", "endpoint-independent",
		                         "address-dependent", "address-and-port-dependent" };

	return (unsigned)m <= MAP_APD ? n[m] : "unknown";
}

const char *nat_filter_name(enum nat_filter f)
{
	static const char *const n[] = { "unknown", "endpoint-independent", "address-dependent",
		                         "address-and-port-dependent" };

	return (unsigned)f <= FILT_APD ? n[f] : "unknown";
}

enum nat_map classify_mapping(const struct tp_addr *local, const struct tp_addr *m1,
                              const struct tp_addr *m2, const struct tp_addr *m3,
                              char *ev, size_t cap)
{
	char a[64], b[64], c[64];

	if (!m1) {
		snprintf(ev, cap, "test I (Binding to the primary address) got no answer");
		return MAP_UNKNOWN;
	}
	if (local && same(local, m1)) {
		snprintf(ev, cap, "test I: mapped address %s equals the local address: no NAT",
		         fmt(m1, a, sizeof(a)));
		return MAP_NONE;
	}
	if (!m2) {
		snprintf(ev, cap, "test I mapped %s; test II (other IP, primary port) got no "
		                  "answer", fmt(m1, a, sizeof(a)));
		return MAP_UNKNOWN;
	}
	if (same(m1, m2)) {
		snprintf(ev, cap, "test I and test II (other IP) both mapped to %s: the mapping "
		                  "does not depend on the destination", fmt(m1, a, sizeof(a)));
		return MAP_EI;
	}
	if (!m3) {
		snprintf(ev, cap, "test I mapped %s, test II %s; test III (other IP and port) got "
		                  "no answer", fmt(m1, a, sizeof(a)), fmt(m2, b, sizeof(b)));
		return MAP_UNKNOWN;
	}
	if (same(m2, m3)) {
		snprintf(ev, cap, "test I mapped %s but test II (other IP) %s; test III (same IP, "
		                  "other port) kept %s: the mapping depends on the destination "
		                  "address only", fmt(m1, a, sizeof(a)), fmt(m2, b, sizeof(b)),
		         fmt(m3, c, sizeof(c)));
		return MAP_AD;
	}
	snprintf(ev, cap, "test I mapped %s, test II (other IP) %s, test III (other port) %s: a "
	                  "new mapping for every destination address and port",
	         fmt(m1, a, sizeof(a)), fmt(m2, b, sizeof(b)), fmt(m3, c, sizeof(c)));
	return MAP_APD;
}

enum nat_filter classify_filtering(bool t1, int t2, int t3, char *ev, size_t cap)
{
	if (!t1) {
		snprintf(ev, cap, "test I (Binding to the primary address) got no answer");
		return FILT_UNKNOWN;
	}
	if (t2 < 0) {
		snprintf(ev, cap, "test II (answer from the other IP and port) was not run");
		return FILT_UNKNOWN;
	}
	if (t2 > 0) {
		snprintf(ev, cap, "test II: an answer from the other IP and port got through: any "
		                  "host may send to the mapping");
		return FILT_EI;
	}
	if (t3 < 0) {
		snprintf(ev, cap, "test II got no answer from the other IP and port; test III "
		                  "(other port) was not run");
		return FILT_UNKNOWN;
	}
	if (t3 > 0) {
		snprintf(ev, cap, "test II: no answer from the other IP; test III: the answer from "
		                  "the same IP, other port got through: filtered by address");
		return FILT_AD;
	}
	snprintf(ev, cap, "test II: no answer from the other IP; test III: no answer from the "
	                  "same IP on another port: filtered by address and port");
	return FILT_APD;
}

const char *turn_hint(const struct turn_fail *f)
{
	if (f->errno_ == -ETIMEDOUT) {
		switch (f->xport) {
		case PX_UDP:
			return "no answer: UDP blocked on the way, or no TURN server on this port";
		case PX_DTLS:
			return "no answer: UDP blocked, or no DTLS listener on this port";
		default:
			return "timed out: the port is filtered (a firewall drops the packets)";
		}
	}
	if (f->errno_ == -ECONNREFUSED)
		return "not reachable: nothing listens on this port for this transport";
	if (f->errno_ == -EPROTO)
		return f->xport == PX_TLS || f->xport == PX_DTLS
		       ? "the handshake failed: not a TLS/DTLS listener, or no common protocol"
		       : "the answer was not STUN: another service is on this port";
	if (f->errno_ == -EPIPE || f->errno_ == -ECONNRESET)
		return "the server closed the connection";
	if (f->errno_ && !f->code)
		return "network error";
	switch (f->code) {
	case 0:
		return NULL;
	case 300:
		return "300: the server redirects to an ALTERNATE-SERVER";
	case 400:
		return "400: the server found the request malformed";
	case 401:
		if (!f->had_realm)
			return "401 with no REALM: the server is STUN-only (no TURN service)";
		if (!f->had_creds)
			return "401: credentials needed (--user/--pass or --secret)";
		if (f->rest)
			return "401 with REST credentials: wrong shared secret, or the username "
			       "expired (clock skew?)";
		return "401 with credentials: wrong user, password or realm";
	case 403:
		if (f->method == TP_METHOD_CREATE_PERMISSION || f->method == TP_METHOD_CHANNEL_BIND)
			return "403 on CreatePermission: the server's peer policy refuses this "
			       "address";
		return "403: forbidden by the server's policy";
	case 420:
		return "420: the server does not understand a comprehension-required attribute";
	case 437:
		return "437: allocation mismatch (an allocation already exists for this 5-tuple)";
	case 438:
		if (f->n438 > 1)
			return f->rest ? "438 repeatedly: clock skew on REST credentials (check NTP on "
			                 "both sides)"
			               : "438 repeatedly: the server keeps rejecting its own nonces "
			                 "(clock skew or a load balancer between servers?)";
		return "438: stale nonce";
	case 440:
		return "440: the server cannot relay this address family";
	case 441:
		return "441: wrong credentials for this allocation";
	case 442:
		return "442: server does not offer that relay transport";
	case 443:
		return "443: peer address family does not match the relayed address";
	case 486:
		return "486: allocation quota reached for this user";
	case 508:
		return "508: the server has no relay ports left (insufficient capacity)";
	default:
		return f->code >= 500 ? "server error" : "the server refused the request";
	}
}

const struct audit_case probe_audit_cases[] = {
	{ "127.0.0.1", "loopback" },
	{ "127.1.2.3", "loopback" },
	{ "0.0.0.0", "unspecified" },
	{ "10.0.0.1", "private (RFC 1918)" },
	{ "172.16.0.1", "private (RFC 1918)" },
	{ "192.168.0.1", "private (RFC 1918)" },
	{ "100.64.0.1", "shared address space (CGNAT, RFC 6598)" },
	{ "169.254.0.1", "link-local" },
	{ "169.254.169.254", "cloud metadata" },
	{ "224.0.0.1", "multicast" },
	{ "::1", "loopback" },
	{ "::", "unspecified" },
	{ "fe80::1", "link-local" },
	{ "fc00::1", "unique local (private)" },
	{ "fd00:ec2::254", "cloud metadata (IPv6)" },
	{ "::ffff:127.0.0.1", "IPv4-mapped loopback" },
	{ "::ffff:169.254.169.254", "IPv4-mapped metadata" },
	{ "::ffff:10.0.0.1", "IPv4-mapped private" },
	{ "::127.0.0.1", "IPv4-compatible loopback" },
	{ "64:ff9b::a9fe:a9fe", "NAT64 of metadata" },
	{ "2002:7f00:1::1", "6to4 of loopback" },
	{ "2002:a9fe:a9fe::1", "6to4 of metadata" },
};
const size_t probe_audit_ncases = sizeof(probe_audit_cases) / sizeof(probe_audit_cases[0]);

const char *audit_verdict(const int *accepted, size_t n)
{
	bool any_tested = false;

	for (size_t i = 0; i < n; i++)
		if (accepted[i] > 0)
			return "insecure";
	for (size_t i = 0; i < n; i++)
		any_tested |= accepted[i] == 0;
	return any_tested ? "secure" : "incomplete";
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double probe_p95(double *v, size_t n)
{
	size_t k;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	/* nearest rank: ceil(0.95 n) */
	k = (95 * n + 99) / 100;
	return v[k ? k - 1 : 0];
}
