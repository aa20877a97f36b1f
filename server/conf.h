/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * conf.h - the server configuration.
 *
 * One table (conf.c) drives libconfig parsing, bounds, defaults, the
 * command-line overrides and --print-config. A loaded struct tp_conf is
 * immutable: the server holds a const pointer; SIGHUP builds a new one and swaps
 * it in. Errors name the file and line and stop the start (or the reload).
 */
#ifndef TP_CONF_H
#define TP_CONF_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define TP_CONF_MAX_LISTEN   32
#define TP_CONF_MAX_ADDRS    16
#define TP_CONF_MAX_CIDRS    128
#define TP_CONF_MAX_SECRETS  8
#define TP_CONF_MAX_OPTS     128  /* options in the table, at most */

enum tp_listen_proto {
	TP_LISTEN_UDP = 1, TP_LISTEN_TCP, TP_LISTEN_TLS, TP_LISTEN_DTLS,
	TP_LISTEN_WS,             /* WebSocket signaling rooms (signal_ws.c) */
};

struct tp_listen {
	uint8_t proto;            /* enum tp_listen_proto */
	struct tp_addr addr;      /* may be a wildcard (0.0.0.0 / ::) */
	bool proxy;               /* tcp:/tls: "... proxy-protocol": a PROXY header
	                             (v1/v2) from a proxy-trusted source comes first */
};

/* external-ip = "PUBLIC" or "PUBLIC/PRIVATE" (1:1 NAT, one per family). */
struct tp_external_ip {
	struct tp_addr pub;
	struct tp_addr priv;      /* family 0 when not given: applies to the whole family */
};

struct tp_cidr {
	struct tp_addr net;       /* port unused */
	uint8_t prefix;
};

struct tp_user {
	char *name;
	char *password;           /* NULL when only a key was given */
	uint8_t key_md5[16];      /* MD5(name:realm:OpaqueString(password)) or the given key */
	uint8_t key_sha256[32];   /* only when password != NULL */
	bool has_sha256;
};

/* USERHASH (RFC 8489 §14.4) of a static user, precomputed at load. */
struct tp_userhash {
	uint8_t hash[32];
	uint32_t user;                            /* index in users */
};

struct tp_conf {
	char *path;                               /* NULL: the embedded default */
	atomic_int refs;                          /* holders (main and workers): the last
	                                             release frees it */
	uint32_t workers;                         /* event loops; 0 = one per CPU */

	struct tp_listen listen[TP_CONF_MAX_LISTEN];
	size_t nlisten;
	struct tp_external_ip external[TP_CONF_MAX_ADDRS];
	size_t nexternal;
	struct tp_addr relay_ip[TP_CONF_MAX_ADDRS]; /* empty: chosen at start (see server) */
	size_t nrelay_ip;
	uint16_t min_port, max_port;

	char *realm;
	char *software;                           /* "" disables SOFTWARE */
	int log_level;

	struct tp_user *users;                    /* sorted by name (tp_conf_user) */
	size_t nusers;
	struct tp_userhash *userhash;             /* nusers entries sorted by hash */
	char *secrets[TP_CONF_MAX_SECRETS];       /* TURN REST API shared secrets */
	size_t nsecrets;
	char *static_auth_secret_file;            /* read into secrets at load */
	bool demo_user;                           /* no users/secrets: make one at start */

	uint32_t nonce_lifetime;                  /* s */
	uint32_t default_lifetime, max_lifetime;  /* s */
	uint32_t user_quota, total_quota;         /* allocations; 0 = unlimited */
	uint32_t max_permissions, max_channels;   /* per allocation */
	uint32_t unauth_rate, unauth_burst;       /* unauthenticated requests/s per source */
	uint32_t source_ipv6_prefix;              /* per-source limits count IPv6 per prefix */
	uint32_t auth_fail_burst, auth_fail_rate; /* failed password checks (per minute) per
	                                             source and per user name */
	uint32_t max_credential_lifetime;         /* s a REST credential may still be valid */

	struct tp_cidr allowed_peers[TP_CONF_MAX_CIDRS];
	size_t nallowed_peers;
	struct tp_cidr denied_peers[TP_CONF_MAX_CIDRS];
	size_t ndenied_peers;
	struct tp_cidr proxy_trusted[TP_CONF_MAX_CIDRS]; /* who may send a PROXY header */
	size_t nproxy_trusted;

	bool mobility;                            /* RFC 8016 */
	bool legacy_channels;                     /* accept RFC 5766's 0x4000-0x7FFF */
	bool kernel_offload;                      /* eBPF datapath for UDP channels (issue 15) */

	/* streams: TCP, TLS, DTLS (issue 4) */
	char *tls_cert;                           /* PEM, chain included; NULL/"": no TLS */
	char *tls_key;                            /* PEM; NULL/"": in tls_cert */
	bool tls_allow_expired;                   /* serve a certificate past notAfter */
	uint32_t max_connections;                 /* total stream clients (and RFC 6062 peer
	                                             connections); 0 = unlimited */
	uint32_t max_connections_per_ip;          /* per source address (TCP/TLS; DTLS
	                                             apart); 0 = unlimited */
	uint32_t handshake_timeout;               /* s: TLS/DTLS handshake and first frame */
	uint32_t idle_timeout;                    /* s: silence that ends a connection */
	uint32_t stream_buffer;                   /* bytes queued per connection before
	                                             reading pauses / data is dropped */

	/* operations (issue 13) */
	bool log_json;                            /* log-format = "json" */
	char *metrics;                            /* "http:ADDR:PORT" or "" */
	uint32_t metrics_users;                   /* per-user series, at most */
	char *admin;                              /* "unix:PATH", "tcp:ADDR:PORT" or "" */
	char *admin_token;
	char *admin_token_file;                   /* read into admin_token at load */
	struct tp_addr alternate[TP_CONF_MAX_ADDRS]; /* alternate-server, with ports */
	size_t nalternate;
	char *alternate_domain;
	uint32_t drain_deadline;                  /* s */
	uint32_t max_bps, user_max_bps, bps_capacity; /* bytes/s; 0 = unlimited */
	char *users_file;

	/* UDP socket buffers (bytes; 0 = the kernel default) */
	uint32_t udp_rcvbuf, udp_sndbuf;          /* listeners (UDP and DTLS) */
	uint32_t relay_rcvbuf, relay_sndbuf;      /* relay sockets */

	/* RFC 5780 NAT behaviour discovery (issue 6) */
	bool nat_discovery;
	struct tp_addr other_ip[1];               /* the second address (nother_ip 0: unset) */
	size_t nother_ip;
	uint16_t other_port;                      /* 0: primary port + 1 */

	/* WebSocket signaling (ws: listeners) */
	char *signal_token;                       /* "": no check */
	char *signal_token_file;                  /* read into signal_token at load */

	/* issue 16: bounds */
	uint32_t max_peer_connections;            /* RFC 6062, per TCP allocation */
	uint32_t max_dtls_sessions;               /* in all; 0 = unlimited */

	/* issue 14: the cluster store (redis.h) */
	char *redis;                              /* URL; "" = none */
	char *redis_password_file;
	char *redis_tls_ca, *redis_tls_cert, *redis_tls_key; /* must be "" (no TLS) */
	char *node_id;                            /* "": the host name */
	uint32_t redis_timeout_ms;                /* request-path wait */

	/* where each option was set (tp_conf_where), by table index */
	uint32_t opt_line[TP_CONF_MAX_OPTS];      /* 0: no line */
	uint8_t opt_from[TP_CONF_MAX_OPTS];       /* default, file, command line */
};

/* A listener given as a string: "http:ADDR:PORT", "tcp:ADDR:PORT", "unix:PATH". */
enum tp_endpoint_kind { TP_EP_NONE, TP_EP_HTTP, TP_EP_TCP, TP_EP_UNIX };
struct tp_endpoint {
	enum tp_endpoint_kind kind;
	struct tp_addr addr;       /* HTTP, TCP */
	char path[108];            /* UNIX (sun_path) */
};
/* Parse s ("" is TP_EP_NONE). 0, or -EINVAL with *why set. */
int tp_endpoint_parse(const char *s, struct tp_endpoint *e, const char **why);

#define TP_CONF_MAX_SETS 128

/*
 * What overrides the file (NULL / 0 = not given), in this order of precedence:
 * the file < the environment < the short options (-l -r -e -L -a) < --set.
 *
 * env: "NAME=value" strings (environ): TURNPIKE_<OPTION> (the option's name
 * upper-cased, '-' as '_') sets that option; an unknown TURNPIKE_ name is
 * warned about. set: "option=value" from --set, in order; a list option given
 * twice appends the second value to the first (both replace the file's).
 *
 * A value in the environment or --set is text, turned into the setting the
 * file would hold and checked by the same code: a string option takes the text
 * as it is ("..." is a libconfig literal); a number a libconfig integer; a
 * boolean true/false (yes/no, on/off, 1/0); a list "a,b,c" (or a libconfig
 * [ ... ]); users "NAME:PASSWORD,..." (or a libconfig ( { ... } )).
 */
struct tp_conf_overrides {
	const char *listen[TP_CONF_MAX_LISTEN];
	size_t nlisten;
	const char *realm;
	const char *external_ip[TP_CONF_MAX_ADDRS];
	size_t nexternal_ip;
	const char *log_level;
	const char *allowed_peer[TP_CONF_MAX_CIDRS];
	size_t nallowed_peer;
	char *const *env;
	const char *set[TP_CONF_MAX_SETS];
	size_t nset;
};

/*
 * Load path (NULL: the embedded defaults only), apply overrides, validate.
 * Returns 0 and a new conf in *out, or -1 with a message naming file and line in
 * err ("turnpike.conf:12: max-port: 70000 is out of range 1024..65535"), or
 * the variable ("environment TURNPIKE_MAX_BPS: ...") or "--set max-bps: ...".
 */
int tp_conf_load(const char *path, const struct tp_conf_overrides *ov, struct tp_conf **out,
                 char *err, size_t errlen);
void tp_conf_free(struct tp_conf *c);

/* Write the effective configuration in libconfig syntax, every option with its
 * documentation, default and value. tp_conf_print shows passwords, keys and
 * shared secrets as "<hidden>"; tp_conf_load refuses that placeholder (a printed
 * config with credentials must be edited before it loads again, rather than
 * loading with "<hidden>" as a password). With TP_CONF_SHOW_SECRETS,
 * tp_conf_write prints them (keys as "0x..."), and the output loads back to an
 * identical configuration. */
#define TP_CONF_SHOW_SECRETS 1u
void tp_conf_print(const struct tp_conf *c, FILE *f);
void tp_conf_write(const struct tp_conf *c, FILE *f, unsigned flags);

/* What changed from a to b, one call of fn per option ("realm: \"a\" -> \"b\"";
 * passwords, keys, secrets and tokens only as "static-auth-secret: changed").
 * Returns the number of options that changed. */
size_t tp_conf_diff(const struct tp_conf *a, const struct tp_conf *b,
                    void (*fn)(void *arg, const char *line), void *arg);

/* The auth mode in words: "static users (2)", "TURN REST secrets (1)", "static users
 * (1) and TURN REST secrets (2)", "demo user", "none (every allocation refused)". */
void tp_conf_auth_mode(const struct tp_conf *c, bool demo, char *out, size_t cap);

/* Add a user with a password (keys derived with the conf's realm): the server
 * adds its generated demo user this way. 0, -EEXIST or -ENOMEM/-EINVAL. */
int tp_conf_add_user(struct tp_conf *c, const char *name, const char *password);

/* The address to advertise for a local (relay or listener) address: its
 * external-ip mapping, or itself. Port kept. */
void tp_conf_public_addr(const struct tp_conf *c, const struct tp_addr *in, struct tp_addr *out);

/* Where option name got its value, for messages about it: "FILE:LINE",
 * "command line" or "built-in default". Returns buf. */
const char *tp_conf_where(const struct tp_conf *c, const char *name, char *buf, size_t n);

/* Find a static user by name (length-delimited); NULL if none. */
const struct tp_user *tp_conf_user(const struct tp_conf *c, const char *name, size_t len);
/* ... by USERHASH (32 bytes), in O(log n): no hashing per request. */
const struct tp_user *tp_conf_user_by_hash(const struct tp_conf *c, const uint8_t hash[32]);

/* Implemented in peerpol.c. tp_cidr_match compares within one family only (an
 * IPv4 range never matches an IPv6 address; peerpol handles embedded IPv4). */
bool tp_cidr_match(const struct tp_cidr *c, const struct tp_addr *a);
/* "10.0.0.0/8", "::1" (a /128), "fc00::/7". 0, -EINVAL (syntax) or -ERANGE (bits
 * set past the prefix, e.g. "10.0.0.1/8"). */
int tp_cidr_parse(struct tp_cidr *c, const char *s);

/* Write the manual page turnpike.conf(5) in roff (man macros): every option of
 * the table with its type, bounds, default and description, so the page cannot
 * drift from the code. tools/gen-man runs it at build time. */
void tp_conf_man(FILE *f);

#endif
