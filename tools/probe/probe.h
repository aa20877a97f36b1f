/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * probe.h - turnpike-probe: one-shot connectivity and NAT diagnostics.
 *
 * Module map (one concern per file):
 *   cli.c       options, the run's order and time budget, exit code
 *   clock.c     monotonic time and deadlines
 *   sock.c      UDP sockets, local interfaces, name resolution
 *   xport.c     client transports to the server: UDP, TCP, TLS, DTLS
 *   stun.c      Binding transactions (RFC 8489, RFC 5780 attributes)
 *   nat.c       RFC 5780 mapping, filtering, hairpinning, binding lifetime
 *   classify.c  pure decisions on canned answers (unit-tested) and the hints
 *   turn.c      the TURN client: authentication, Allocate, permissions, channels
 *   relay.c     relay round-trip time and throughput to the probe's own socket
 *   audit.c     --audit: CreatePermission for addresses a server must refuse
 *   report.c    the plain-language report and the JSON document (docs/PROBE.md)
 *   html.c      --report: the same run as one self-contained HTML page
 */
#ifndef TP_PROBE_H
#define TP_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "proto.h"

#define PROBE_MAX_PORTS   8
#define PROBE_MAX_IFS     16
#define PROBE_MAX_SRV     4     /* server addresses kept (one per family is used) */
#define PROBE_MAX_TURN    (4 * PROBE_MAX_PORTS * 2)
#define PROBE_MAX_AUDIT   24
#define PROBE_TEXT        256

/* ---- clock.c ---- */
int64_t probe_now_ms(void);
double probe_now_msf(void);     /* fractional, for RTTs */
/* Milliseconds left until deadline, never below 0. */
int probe_left(int64_t deadline);

/* ---- options ---- */
struct probe_opts {
	bool json;
	const char *user, *pass, *secret, *realm;
	const char *server;          /* SERVER[:PORT] as given */
	uint16_t ports[PROBE_MAX_PORTS];
	size_t nports;
	bool skip_lifetime;
	int lifetime_max;            /* s */
	bool audit;
	int timeout;                 /* s, the whole run except the lifetime test */
	const char *report;          /* --report FILE.html */
};

/* ---- sock.c ---- */
struct probe_if {
	char name[32];
	struct tp_addr addr;         /* port 0 */
};
/* Up interfaces' addresses usable towards a server of this family (loopback
 * only for a loopback server, no IPv6 link-local). Returns how many. */
size_t probe_ifaces(uint16_t family, bool server_loopback, struct probe_if *out, size_t cap);
/* Resolve host[:port]; at most cap addresses, IPv4 first. Returns the count or a
 * negative errno; *err_text explains. */
int probe_resolve(const char *spec, uint16_t def_port, struct tp_addr *out, size_t cap,
                  char *host, size_t hostcap);
/* A UDP socket bound to local (port 0 when local->port is 0); non-blocking. */
int probe_udp_socket(const struct tp_addr *local);
int probe_sockname(int fd, struct tp_addr *a);
int probe_sendto(int fd, const struct tp_addr *to, const void *b, size_t n);
/* Wait up to ms for one datagram: its length, 0 on timeout, or a negative errno. */
long probe_recvfrom(int fd, void *b, size_t cap, struct tp_addr *from, int ms);
bool probe_is_loopback(const struct tp_addr *a);
/* "ipv4" / "ipv6". */
const char *probe_family_name(uint16_t family);

/* ---- xport.c ---- */
enum probe_xport { PX_UDP = 0, PX_TCP, PX_TLS, PX_DTLS, PX__COUNT };
const char *probe_xport_name(enum probe_xport k);

struct px;  /* opaque */
/* Connect (and handshake) within ms. 0, or a negative errno with a reason in why. */
int px_open(struct px **out, enum probe_xport kind, const struct tp_addr *server,
            const char *sni, int ms, char *why, size_t whycap);
int px_send(struct px *x, const uint8_t *b, size_t n);
/* One message (a datagram, or one STUN/ChannelData frame on a stream): its length,
 * 0 on timeout, or a negative errno (-EPIPE: closed). */
long px_recv(struct px *x, uint8_t *b, size_t cap, int ms);
int px_local(const struct px *x, struct tp_addr *a);
bool px_is_stream(const struct px *x);
/* TLS/DTLS: cipher, protocol and certificate verdict, for the report. */
const char *px_tls_info(const struct px *x);
void px_close(struct px *x);

/* ---- stun.c ---- */
struct bind_req {
	uint32_t change;             /* TP_CHANGE_* */
	uint16_t response_port;      /* 0: none */
	uint16_t padding;            /* bytes of PADDING, 0: none */
};
struct bind_res {
	int code;                    /* 0 success, else the error code */
	char reason[128];
	struct tp_addr from;         /* where the answer came from */
	struct tp_addr mapped, other, origin;
	bool has_mapped, has_other, has_origin;
	char software[96];
	double rtt_ms;
	uint16_t unknown[4];         /* UNKNOWN-ATTRIBUTES of a 420 */
	size_t nunknown;
};
/* A Binding transaction on an unconnected UDP socket, retransmitting (RFC 8489
 * §6.2.1, shortened) within ms. 0 with *res, -ETIMEDOUT, or a negative errno. */
int stun_binding(int fd, const struct tp_addr *to, const struct bind_req *rq, int ms,
                 struct bind_res *res);
/* The same, sent from fd and answered on fd_rx (RESPONSE-PORT tests). */
int stun_binding_via(int fd, int fd_rx, const struct tp_addr *to, const struct bind_req *rq,
                     int ms, struct bind_res *res);
/* Send a Binding request with tid to 'to' once (hairpinning); then wait for a
 * message with that tid on fd_rx. 1 if it arrived, 0 if not. */
int stun_hairpin(int fd_tx, int fd_rx, const struct tp_addr *to, int ms);
/* Parse the fields of a Binding answer into res (used on canned bytes by tests). */
int stun_parse_binding(const uint8_t *b, size_t n, struct bind_res *res);

/* ---- classify.c (pure: no I/O) ---- */
enum nat_map {
	MAP_UNKNOWN = 0,
	MAP_NONE,                    /* no NAT: mapped == local */
	MAP_EI,                      /* endpoint-independent */
	MAP_AD,                      /* address-dependent */
	MAP_APD,                     /* address-and-port-dependent */
};
enum nat_filter {
	FILT_UNKNOWN = 0,
	FILT_EI,
	FILT_AD,
	FILT_APD,
};
const char *nat_map_name(enum nat_map m);
const char *nat_filter_name(enum nat_filter f);
/*
 * RFC 5780 §4.3. local: the socket's address; m1: Test I (primary address),
 * m2: Test II (other IP, primary port), m3: Test III (other IP and port).
 * NULL for a test that got no answer. *evidence receives a sentence.
 */
enum nat_map classify_mapping(const struct tp_addr *local, const struct tp_addr *m1,
                              const struct tp_addr *m2, const struct tp_addr *m3,
                              char *evidence, size_t cap);
/* RFC 5780 §4.4. t1: Test I answered; t2: change IP+port answered (from the other
 * address); t3: change port answered; -1 = not run. */
enum nat_filter classify_filtering(bool t1, int t2, int t3, char *evidence, size_t cap);

/* The hint for a failed TURN step, in plain language. */
struct turn_fail {
	int code;                    /* STUN error code; 0: none (see errno_) */
	int errno_;                  /* transport error (-ETIMEDOUT, -ECONNREFUSED, ...) */
	bool had_realm;              /* the 401 carried REALM */
	bool had_creds;              /* we sent credentials */
	bool rest;                   /* REST (shared-secret) credentials */
	int n438;                    /* 438 answers in a row */
	enum tp_stun_method method;
	enum probe_xport xport;
};
const char *turn_hint(const struct turn_fail *f);

/* Audit: an address a TURN server must refuse, and its category. */
struct audit_case {
	const char *addr;
	const char *category;
};
extern const struct audit_case probe_audit_cases[];
extern const size_t probe_audit_ncases;
/* Verdict from the per-case answers: accepted[i] = 1 accepted, 0 refused, -1 not
 * tested. "insecure" if any accepted, "secure" if every tested one was refused,
 * "incomplete" if none could be tested. */
const char *audit_verdict(const int *accepted, size_t n);

/* p95 of n values (sorts v). */
double probe_p95(double *v, size_t n);

/* ---- turn.c ---- */
struct probe_creds {
	const char *user, *pass, *secret, *realm;
};
struct turn_cli;  /* opaque */
struct turn_cli *turn_new(struct px *x, const struct probe_creds *cr);
void turn_free(struct turn_cli *t);  /* does not close x */
/* Allocate (UDP relay; family TP_STUN_FAMILY_* or 0 for the default). 0 or -1;
 * turn_last() tells the failure. */
int turn_allocate(struct turn_cli *t, uint8_t family, int ms);
/*
 * turn_allocate on *t (a client on *x, connected to server), following 300 Try
 * Alternate (RFC 8489 §10): an authenticated 300's ALTERNATE-SERVER is
 * connected to over the same transport k (sni kept) and asked again, at most
 * TURN_MAX_REDIRECTS times and never back to a server already tried. *t and *x
 * become the last server's (the caller frees them as before); via[] receives
 * the servers redirected to (room for TURN_MAX_REDIRECTS), *nvia their count.
 */
#define TURN_MAX_REDIRECTS 2
int turn_allocate_follow(struct turn_cli **t, struct px **x, enum probe_xport k,
                         const struct tp_addr *server, const char *sni, uint8_t family,
                         int ms, struct tp_addr *via, size_t *nvia);
int turn_permission(struct turn_cli *t, const struct tp_addr *peer, int ms);
int turn_channel(struct turn_cli *t, uint16_t chan, const struct tp_addr *peer, int ms);
int turn_release(struct turn_cli *t, int ms);
const struct turn_fail *turn_last(const struct turn_cli *t);
const char *turn_last_reason(const struct turn_cli *t);
const struct tp_addr *turn_relayed(const struct turn_cli *t);
const struct tp_addr *turn_mapped(const struct turn_cli *t);
uint32_t turn_lifetime(const struct turn_cli *t);
const char *turn_realm(const struct turn_cli *t);
struct px *turn_px(const struct turn_cli *t);

/* ---- results (filled by the phases, printed by report.c) ---- */
struct r_binding {
	char ifname[32];
	uint16_t family;
	struct tp_addr local, server, mapped;
	bool ok;
	double rtt_ms;
	char error[PROBE_TEXT];
};

struct r_nat {
	bool ran;
	bool rfc5780;                /* the server gave OTHER-ADDRESS */
	char why_not[PROBE_TEXT];
	struct tp_addr local, other;
	enum nat_map mapping;
	char map_evidence[PROBE_TEXT * 2];
	struct tp_addr m[3];
	bool has_m[3];
	enum nat_filter filtering;
	char filt_evidence[PROBE_TEXT * 2];
	int filt_t2, filt_t3;        /* 1 answered, 0 not, -1 not run */
	int hairpin;                 /* 1 yes, 0 no, -1 unknown */
	char hairpin_evidence[PROBE_TEXT];
	/* lifetime */
	int lifetime_state;          /* 0 skipped, 1 measured, -1 not possible */
	int alive_s, expired_s;      /* expired_s 0: not seen expiring within the bound */
	char lifetime_evidence[PROBE_TEXT];
};

struct r_turn {
	enum probe_xport xport;
	uint16_t port;
	struct tp_addr server;
	bool ok;
	bool reachable;
	struct tp_addr relayed, mapped;
	struct tp_addr via[TURN_MAX_REDIRECTS]; /* 300 Try Alternate followed to */
	size_t nvia;
	uint32_t lifetime;
	double ms;                   /* time to a successful Allocate */
	int code;
	char reason[128];
	char error[PROBE_TEXT];
	const char *hint;
	char tls[PROBE_TEXT];
};

struct r_relay {
	/* "ok", "refused" (secure default), "failed", "skipped" */
	const char *status;
	char note[PROBE_TEXT * 2];
	struct tp_addr relayed, peer;
	struct tp_addr via[TURN_MAX_REDIRECTS]; /* 300 Try Alternate followed to */
	size_t nvia;
	size_t sent, received;
	double min, avg, p95;
	size_t tput_sent, tput_received, tput_bytes;
	double tput_ms, tput_mbps;
};

struct r_audit_case {
	const struct audit_case *c;
	int accepted;                /* 1, 0, -1 not tested */
	int code;
	char note[PROBE_TEXT];
};
struct r_audit {
	bool ran;
	const char *verdict;
	char note[PROBE_TEXT];
	struct r_audit_case cases[PROBE_MAX_AUDIT];
	size_t n;
};

struct probe_result {
	const struct probe_opts *o;
	char host[256];
	struct tp_addr srv[PROBE_MAX_SRV];
	size_t nsrv;
	char resolve_error[PROBE_TEXT];
	char software[96];
	struct r_binding bind[PROBE_MAX_IFS * 2];
	size_t nbind;
	bool stun_ok;
	struct r_nat nat;
	struct r_turn turn[PROBE_MAX_TURN];
	size_t nturn;
	bool turn_udp_ok;
	struct r_relay relay;
	struct r_audit audit;
	int64_t started_ms, duration_ms;
	bool budget_exhausted;
	int exit_code;
};

/* ---- phases ---- */
void nat_run(struct probe_result *r, const struct tp_addr *srv, const struct tp_addr *local_ip,
             int64_t deadline);
void nat_lifetime(struct probe_result *r, const struct tp_addr *srv,
                  const struct tp_addr *local_ip, int max_s);
void relay_run(struct probe_result *r, const struct probe_creds *cr, const struct tp_addr *srv,
               int64_t deadline);
void audit_run(struct probe_result *r, const struct probe_creds *cr, const struct tp_addr *srv,
               int64_t deadline);

/* ---- report.c ---- */
/* The overall verdict, from the exit code and the audit: *key is "ok",
 * "stun-failed", "turn-failed" or "insecure"; the sentence goes to buf. */
void report_verdict(const struct probe_result *r, const char **key, char *buf, size_t cap);
#define PROBE_SCHEMA "turnpike-probe/1"
void report_text(const struct probe_result *r);
void report_json(const struct probe_result *r, FILE *f);

/* ---- html.c ---- */
/* --report: one self-contained HTML page drawn from r, with json (the same
 * run's JSON document) embedded. Writes and closes f; 0 or -1. */
int report_html(const struct probe_result *r, const char *json, FILE *f);

#endif
