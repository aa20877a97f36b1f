/*
 * conf.c - the configuration: one table (opts[] below) drives libconfig
 * parsing, type and bound checks, the defaults, the command-line overrides and
 * --print-config.
 *
 * Loading: the defaults (each option's libconfig literal from the table) are
 * parsed and applied through the same code as a file, then the file, then the
 * command-line overrides; a final pass checks what spans options (min-port <=
 * max-port, default-lifetime <= max-lifetime) and computes the users' keys with
 * the final realm. Every error is fatal and names file and line:
 *   turnpike.conf:12: max-port: 70000 is out of range (expected 1024..65535)
 *
 * Printing writes libconfig that loads again. Passwords, keys and shared
 * secrets are printed as "<hidden>" unless TP_CONF_SHOW_SECRETS is given, and
 * the loader refuses that placeholder, so a printed config with credentials
 * cannot be loaded back by mistake with the placeholder as a password.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <libconfig.h>

#include "conf.h"
#include "log.h"
#include "redis_url.h"

#ifndef TP_VERSION
#define TP_VERSION "0.0.0"
#endif

#define MAX_USERS 100000
#define HIDDEN "<hidden>"

enum opt_type {
	T_U32,          /* uint32_t, bounds min..max */
	T_PORT,         /* uint16_t, bounds min..max */
	T_BOOL,
	T_STR,          /* char *, length min..max bytes */
	T_LOGLEVEL,     /* int, from "error" "warn" "info" "debug" */
	T_LISTEN,       /* struct tp_listen[], min..max entries */
	T_EXTERNAL,     /* struct tp_external_ip[] */
	T_ADDRS,        /* struct tp_addr[] (IP only) */
	T_CIDRS,        /* struct tp_cidr[] */
	T_SECRETS,      /* char *[] */
	T_USERS,        /* struct tp_user * (malloc'd), a list of groups */
	T_HOSTPORTS,    /* struct tp_addr[] with a port (3478 when omitted) */
	T_LOGFORMAT,    /* bool log_json, from "text" "json" */
	T_URL,          /* char *, like T_STR; a password in it is printed hidden */
	T_FILE_OF,      /* char *, a file name: "X-file" whose content is option X's value
	                   (a secret kept out of the file, the environment and ps) */
};

struct opt {
	const char *name;
	enum opt_type type;
	size_t off;             /* the value (lists: the array) */
	size_t cnt_off;         /* lists: the size_t count */
	long long min, max;     /* see enum opt_type */
	const char *def;        /* the default, in libconfig syntax */
	const char *doc;
};

#define F(field) offsetof(struct tp_conf, field)

static const struct opt opts[] = {
	{ "workers", T_U32, F(workers), 0, 0, 64, "0",
	  "event loops (threads), each with its own SO_REUSEPORT UDP/DTLS sockets; "
	  "0 = one per CPU" },
	{ "listen", T_LISTEN, F(listen), F(nlisten), 1, TP_CONF_MAX_LISTEN,
	  "[ \"udp:0.0.0.0:3478\", \"udp:[::]:3478\" ]",
	  "listening transport addresses, \"PROTO:ADDR:PORT\": PROTO udp (when omitted), tcp, "
	  "tls, dtls, or ws (WebSocket signaling rooms); PORT 3478 (5349 for tls and dtls, "
	  "8080 for ws) when omitted. Two of one kind (udp, dtls; tcp, tls, ws) on one address "
	  "and port are refused, except one udp: and one dtls:, which share a socket (RFC 7983 "
	  "first-byte demultiplexing); a tls: listener also serves plain TCP" },
	{ "external-ip", T_EXTERNAL, F(external), F(nexternal), 0, TP_CONF_MAX_ADDRS, "[ ]",
	  "public addresses behind a 1:1 NAT: \"PUBLIC\" (at most one per family) or "
	  "\"PUBLIC/PRIVATE\"" },
	{ "relay-ip", T_ADDRS, F(relay_ip), F(nrelay_ip), 0, TP_CONF_MAX_ADDRS, "[ ]",
	  "addresses relay sockets bind to; empty: chosen by the server at start" },
	{ "min-port", T_PORT, F(min_port), 0, 1024, 65535, "49152",
	  "lower end of the relay port range" },
	{ "max-port", T_PORT, F(max_port), 0, 1024, 65535, "65535",
	  "upper end of the relay port range (>= min-port)" },
	{ "realm", T_STR, F(realm), 0, 1, TP_MAX_REALM, "\"turnpike\"",
	  "the REALM of long-term credentials" },
	{ "software", T_STR, F(software), 0, 0, TP_MAX_SOFTWARE, "\"turnpike/" TP_VERSION "\"",
	  "the SOFTWARE attribute sent; \"\" sends none" },
	{ "log-level", T_LOGLEVEL, F(log_level), 0, 0, 0, "\"info\"",
	  "error, warn, info or debug" },
	{ "users", T_USERS, F(users), F(nusers), 0, MAX_USERS, "( )",
	  "static users: ( { name = \"alice\"; password = \"secret\"; }, "
	  "{ name = \"bob\"; key = \"0x<32 hex digits: MD5(name:realm:password)>\"; } )" },
	{ "static-auth-secret", T_SECRETS, F(secrets), F(nsecrets), 0, TP_CONF_MAX_SECRETS, "[ ]",
	  "TURN REST API shared secrets; several allow rotation" },
	{ "static-auth-secret-file", T_FILE_OF, F(static_auth_secret_file), 0, 0, 4096, "\"\"",
	  "a file with the TURN REST API shared secrets, one per line (instead of "
	  "static-auth-secret, never both): keeps them out of the configuration, the "
	  "environment and the process list; re-read on reload" },
	{ "demo-user", T_BOOL, F(demo_user), 0, 0, 0, "true",
	  "with no users and no secrets, make a demo credential at start (and log it)" },
	{ "nonce-lifetime", T_U32, F(nonce_lifetime), 0, 60, 86400, "600",
	  "seconds a NONCE stays valid" },
	{ "default-lifetime", T_U32, F(default_lifetime), 0, 60, 86400, "600",
	  "allocation lifetime (s) when the client asks for none (<= max-lifetime)" },
	{ "max-lifetime", T_U32, F(max_lifetime), 0, 60, 86400, "3600",
	  "longest allocation lifetime (s) granted" },
	{ "user-quota", T_U32, F(user_quota), 0, 0, 1000000, "100",
	  "allocations per user; 0 = unlimited" },
	{ "total-quota", T_U32, F(total_quota), 0, 0, 1000000, "10000",
	  "allocations in all; 0 = unlimited" },
	{ "max-permissions", T_U32, F(max_permissions), 0, 1, 65535, "128",
	  "permissions per allocation" },
	{ "max-channels", T_U32, F(max_channels), 0, 1, 4096, "128",
	  "channels per allocation" },
	{ "unauth-rate", T_U32, F(unauth_rate), 0, 0, 1000000, "50",
	  "unauthenticated requests per second per source address; 0 = unlimited" },
	{ "unauth-burst", T_U32, F(unauth_burst), 0, 1, 1000000, "100",
	  "burst of unauthenticated requests per source address" },
	{ "source-ipv6-prefix", T_U32, F(source_ipv6_prefix), 0, 32, 128, "64",
	  "IPv6 sources are counted per prefix of this length by the per-source limits "
	  "(unauth-rate, auth-fail-rate): one end site holds a whole /64 (or more)" },
	{ "auth-fail-burst", T_U32, F(auth_fail_burst), 0, 1, 1000, "5",
	  "failed password checks allowed at once per source address and per user name; "
	  "past it, requests carrying MESSAGE-INTEGRITY from there are dropped unchecked "
	  "until the budget refills" },
	{ "auth-fail-rate", T_U32, F(auth_fail_rate), 0, 0, 100000, "10",
	  "failed password checks per minute per source address and per user name after "
	  "auth-fail-burst; 0 = no limit (online password guessing unthrottled)" },
	{ "max-credential-lifetime", T_U32, F(max_credential_lifetime), 0, 0, 315360000, "86400",
	  "seconds into the future a TURN REST username's expiry may lie (a credential "
	  "valid for longer is refused with 401); 0 = no limit" },
	{ "allowed-peer", T_CIDRS, F(allowed_peers), F(nallowed_peers), 0, TP_CONF_MAX_CIDRS, "[ ]",
	  "peer ranges opened despite the built-in deny list (e.g. \"10.0.0.0/8\")" },
	{ "denied-peer", T_CIDRS, F(denied_peers), F(ndenied_peers), 0, TP_CONF_MAX_CIDRS, "[ ]",
	  "peer ranges refused; beats allowed-peer" },
	{ "mobility", T_BOOL, F(mobility), 0, 0, 0, "false",
	  "RFC 8016 mobility (MOBILITY-TICKET)" },
	{ "legacy-channels", T_BOOL, F(legacy_channels), 0, 0, 0, "false",
	  "accept channel numbers 0x5000-0x7FFF (RFC 5766's range, which RFC 8656 withdrew; "
	  "coturn's turnutils_uclient still uses it)" },
	{ "tls-cert", T_STR, F(tls_cert), 0, 0, 4096, "\"\"",
	  "PEM certificate file (chain included) for tls: and dtls: listeners; \"\": no TLS" },
	{ "tls-key", T_STR, F(tls_key), 0, 0, 4096, "\"\"",
	  "PEM private key file; \"\": the key is in tls-cert" },
	{ "tls-allow-expired", T_BOOL, F(tls_allow_expired), 0, 0, 0, "false",
	  "serve a certificate past its notAfter date (refused at start and on reload "
	  "otherwise; one expiring within 14 days is a warning)" },
	{ "max-connections", T_U32, F(max_connections), 0, 0, 1000000, "10000",
	  "TCP and TLS clients (and RFC 6062 peer connections) in all; 0 = unlimited" },
	{ "max-connections-per-ip", T_U32, F(max_connections_per_ip), 0, 0, 1000000, "1000",
	  "TCP and TLS connections per source address, and DTLS sessions per source address "
	  "(counted apart); 0 = unlimited (coturn has no cap). 1000 serves a large office "
	  "behind one NAT address on 443. The first refusal per source and minute is logged" },
	{ "handshake-timeout", T_U32, F(handshake_timeout), 0, 1, 300, "10",
	  "seconds for a TLS/DTLS handshake and a first message (against slowloris)" },
	{ "idle-timeout", T_U32, F(idle_timeout), 0, 10, 86400, "660",
	  "seconds of silence that end a TCP/TLS/DTLS connection" },
	{ "stream-buffer", T_U32, F(stream_buffer), 0, 4096, 16777216, "262144",
	  "bytes queued towards a slow stream reader before relayed UDP data is dropped "
	  "(and, on TCP relays, reading from the other side pauses)" },
	{ "udp-rcvbuf", T_U32, F(udp_rcvbuf), 0, 0, 268435456, "4194304",
	  "receive buffer (bytes) of each UDP and DTLS listener socket, which takes every "
	  "client's datagrams: a burst (a video keyframe from many clients at once) must fit "
	  "until the worker reads it; 0 = the kernel default (net.core.rmem_default). Above "
	  "net.core.rmem_max it needs CAP_NET_ADMIN; the size granted is logged at start" },
	{ "udp-sndbuf", T_U32, F(udp_sndbuf), 0, 0, 268435456, "4194304",
	  "send buffer (bytes) of each UDP and DTLS listener socket; 0 = the kernel default" },
	{ "relay-rcvbuf", T_U32, F(relay_rcvbuf), 0, 0, 268435456, "524288",
	  "receive buffer (bytes) of each UDP relay socket (one per allocation and family: "
	  "kernel memory is only used while datagrams wait in it); 0 = the kernel default" },
	{ "relay-sndbuf", T_U32, F(relay_sndbuf), 0, 0, 268435456, "0",
	  "send buffer (bytes) of each UDP relay socket; 0 = the kernel default" },
	{ "log-format", T_LOGFORMAT, F(log_json), 0, 0, 0, "\"text\"",
	  "text (one line per event, context in [...]) or json (one JSON object per line, "
	  "the context fields as keys)" },
	{ "metrics", T_STR, F(metrics), 0, 0, 256, "\"\"",
	  "Prometheus metrics listener \"http:ADDR:PORT\" (/metrics; / and /live answer 200, "
	  "/ready 503 while draining); \"\": none. Keep it on loopback or a private network" },
	{ "metrics-users", T_U32, F(metrics_users), 0, 0, 1000, "0",
	  "per-user series in /metrics for at most this many users with allocations (those "
	  "that relayed the most bytes); the others' allocations are one user=\"other\" gauge; "
	  "updated every second; 0 = no per-user series" },
	{ "admin", T_STR, F(admin), 0, 0, 256, "\"unix:/run/turnpike/admin.sock\"",
	  "admin socket for turnpikectl: \"unix:PATH\" (mode 0600, the server's own user or "
	  "root only) or \"tcp:ADDR:PORT\" on loopback (needs admin-token); \"\": none" },
	{ "admin-token", T_STR, F(admin_token), 0, 0, 256, "\"\"",
	  "shared secret a tcp: admin connection must send first" },
	{ "admin-token-file", T_FILE_OF, F(admin_token_file), 0, 0, 4096, "\"\"",
	  "a file whose content (a trailing newline stripped) is the admin-token (never "
	  "both)" },
	{ "alternate-server", T_HOSTPORTS, F(alternate), F(nalternate), 0, TP_CONF_MAX_ADDRS, "[ ]",
	  "other TURN servers (\"IP:PORT\") a draining or full server sends new allocations to "
	  "with 300 Try Alternate (RFC 8489 §10), one after the other" },
	{ "alternate-domain", T_STR, F(alternate_domain), 0, 0, 255, "\"\"",
	  "the name in ALTERNATE-DOMAIN sent with ALTERNATE-SERVER over TLS (the alternate's "
	  "certificate name, RFC 8489 §14.16)" },
	{ "drain-deadline", T_U32, F(drain_deadline), 0, 1, 604800, "3600",
	  "seconds a drain (SIGUSR1, turnpikectl drain) waits for the last allocation before "
	  "the process exits anyway" },
	{ "max-bps", T_U32, F(max_bps), 0, 0, 4000000000u, "0",
	  "bytes per second each allocation may relay in each direction (token bucket, a "
	  "quarter second of burst); excess datagrams are dropped and counted, RFC 6062 "
	  "pipes are slowed by TCP flow control; allocations with a cap are never kernel "
	  "offloaded; 0 = unlimited" },
	{ "user-max-bps", T_U32, F(user_max_bps), 0, 0, 4000000000u, "0",
	  "bytes per second all of one user's allocations (on every worker) may relay in "
	  "each direction, for datagrams (UDP relays), each allocation held to an equal share "
	  "when they all want more; REST users count by the name after "
	  "the ':'; 0 = unlimited" },
	{ "bps-capacity", T_U32, F(bps_capacity), 0, 0, 4000000000u, "0",
	  "bytes per second the whole server relays before new allocations are refused "
	  "(300 to an alternate-server, else 508); 0 = unlimited" },
	{ "users-file", T_STR, F(users_file), 0, 0, 4096, "\"\"",
	  "a libconfig file with users = ( ... ) added to the users above, managed with "
	  "turnpikectl users add|remove|list and re-read on reload" },
	{ "nat-discovery", T_BOOL, F(nat_discovery), 0, 0, 0, "false",
	  "RFC 5780 NAT behaviour discovery: answer CHANGE-REQUEST from a second address and "
	  "port (needs other-ip and a udp listener on a specific address)" },
	{ "other-ip", T_ADDRS, F(other_ip), F(nother_ip), 0, 1, "[ ]",
	  "RFC 5780: the server's second IP address (same family as the first udp listener)" },
	{ "other-port", T_PORT, F(other_port), 0, 0, 65535, "0",
	  "RFC 5780: the second port; 0 = the first udp listener's port + 1" },
	{ "signal-token", T_STR, F(signal_token), 0, 0, 256, "\"\"",
	  "ws: listeners: a peer must join with ?token=<this> (\"\": anyone may join a room)" },
	{ "signal-token-file", T_FILE_OF, F(signal_token_file), 0, 0, 4096, "\"\"",
	  "a file whose content (a trailing newline stripped) is the signal-token (never both)" },
	/* issue 16 */
	{ "max-peer-connections", T_U32, F(max_peer_connections), 0, 1, 65535, "32",
	  "RFC 6062: peer connections per TCP allocation, incoming and Connect together (each "
	  "also counts in max-connections); past it an incoming one is closed at once and "
	  "Connect is answered 508" },
	{ "max-dtls-sessions", T_U32, F(max_dtls_sessions), 0, 0, 1000000, "10000",
	  "DTLS sessions in all (each made for a ClientHello with a valid cookie; counted apart "
	  "from max-connections); 0 = unlimited" },
	/* issue 14: the cluster store (server/redis.h, docs/CLUSTER.md) */
	{ "redis", T_URL, F(redis), 0, 0, 1024, "\"\"",
	  "Redis shared by the nodes of a cluster (cluster-wide user-quota, session registry, "
	  "kill orders, users and secrets in coturn's userdb layout, node loads): "
	  "\"redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]\" or \"unix:///PATH[?db=N]\"; "
	  "\"rediss://\" (TLS) is refused: Debian 12's hiredis 0.14 has no TLS. \"\": none, "
	  "the node stands alone" },
	{ "redis-password-file", T_STR, F(redis_password_file), 0, 0, 4096, "\"\"",
	  "a file whose first line is the Redis password (AUTH), instead of one in the URL" },
	{ "redis-tls-ca", T_STR, F(redis_tls_ca), 0, 0, 4096, "\"\"",
	  "reserved for TLS to Redis (CA file); must stay \"\" with hiredis 0.14" },
	{ "redis-tls-cert", T_STR, F(redis_tls_cert), 0, 0, 4096, "\"\"",
	  "reserved for TLS to Redis (client certificate); must stay \"\" with hiredis 0.14" },
	{ "redis-tls-key", T_STR, F(redis_tls_key), 0, 0, 4096, "\"\"",
	  "reserved for TLS to Redis (client key); must stay \"\" with hiredis 0.14" },
	{ "node-id", T_STR, F(node_id), 0, 0, TP_REDIS_NODE_MAX, "\"\"",
	  "this node's name in the cluster (1..64 of A-Z a-z 0-9 . - _), unique per node; "
	  "\"\": the host name" },
	{ "redis-timeout-ms", T_U32, F(redis_timeout_ms), 0, 1, 10000, "5",
	  "milliseconds a request (an Allocate's cluster-wide quota check) waits for Redis "
	  "before it goes on with the local quota" },
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))
_Static_assert(NOPTS <= TP_CONF_MAX_OPTS, "raise TP_CONF_MAX_OPTS");

enum { FROM_DEFAULT, FROM_FILE, FROM_ENV, FROM_CMDLINE, FROM_SET };

/* The state of one load. */
struct ld {
	struct tp_conf *c;
	char *err;
	size_t errlen;
	const char *origin;                     /* the file, or "command line" ... */
	const char *label;                      /* set: the whole prefix of an error
	                                           ("--set max-bps"), no file or line */
	char labelbuf[96];
	const config_setting_t *src[NOPTS];     /* where a file set the option */
	uint8_t from[NOPTS];
};

static void *field(struct tp_conf *c, const struct opt *o)
{
	return (char *)c + o->off;
}

static size_t *count(struct tp_conf *c, const struct opt *o)
{
	return (size_t *)(void *)((char *)c + o->cnt_off);
}

static const struct opt *find_opt(const char *name)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (strcmp(opts[i].name, name) == 0)
			return &opts[i];
	return NULL;
}

/* "FILE:LINE: OPTION: message". Always returns -1. */
__attribute__((format(printf, 4, 5)))
static int fail(struct ld *ld, const config_setting_t *s, const char *opt, const char *fmt, ...)
{
	const char *file = s ? config_setting_source_file(s) : NULL;
	size_t n = 0;
	int r;
	va_list ap;

	if (!ld->err || ld->errlen == 0)
		return -1;
	if (ld->label) {
		r = snprintf(ld->err, ld->errlen, "%s: ", ld->label);
		n = r < 0 ? 0 : (size_t)r;
		if (n < ld->errlen) {
			va_start(ap, fmt);
			vsnprintf(ld->err + n, ld->errlen - n, fmt, ap);
			va_end(ap);
		}
		return -1;
	}
	if (!file)
		file = ld->origin;
	if (s && config_setting_source_line(s) > 0)
		r = snprintf(ld->err, ld->errlen, "%s:%u: ", file, config_setting_source_line(s));
	else
		r = snprintf(ld->err, ld->errlen, "%s: ", file);
	n = r < 0 ? 0 : (size_t)r;
	if (opt && n < ld->errlen) {
		r = snprintf(ld->err + n, ld->errlen - n, "%s: ", opt);
		n += r < 0 ? 0 : (size_t)r;
	}
	if (n < ld->errlen) {
		va_start(ap, fmt);
		vsnprintf(ld->err + n, ld->errlen - n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static const char *type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a float";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array";
	case CONFIG_TYPE_LIST:
		return "a list";
	}
	return "nothing";
}

/* ---- addresses ------------------------------------------------------ */

/* An IP address with no port. */
static const char *parse_ip(struct tp_addr *a, const char *s)
{
	memset(a, 0, sizeof(*a));
	if (tp_addr_parse(a, s, 0) != 0)
		return "not an IP address";
	if (a->port != 0)
		return "a port is not expected here";
	return NULL;
}

static const char *parse_listen(struct tp_listen *l, const char *s)
{
	static const struct {
		const char *prefix;
		uint8_t proto;
		uint16_t port;
	} protos[] = {
		{ "udp:", TP_LISTEN_UDP, 3478 },
		{ "tcp:", TP_LISTEN_TCP, 3478 },
		{ "tls:", TP_LISTEN_TLS, 5349 },
		{ "dtls:", TP_LISTEN_DTLS, 5349 },
		{ "ws:", TP_LISTEN_WS, 8080 },
	};
	uint16_t port = 3478;

	memset(l, 0, sizeof(*l));
	l->proto = TP_LISTEN_UDP;
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		size_t n = strlen(protos[i].prefix);
		if (strncmp(s, protos[i].prefix, n) == 0) {
			l->proto = protos[i].proto;
			port = protos[i].port;
			s += n;
			break;
		}
	}
	if (tp_addr_parse(&l->addr, s, port) != 0 || l->addr.port == 0)
		return "not a listening address (expected \"PROTO:ADDR:PORT\", PROTO one of "
		       "udp tcp tls dtls ws)";
	return NULL;
}

static const char *parse_external(struct tp_external_ip *e, const char *s)
{
	char pub[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	const char *why;

	memset(e, 0, sizeof(*e));
	if (n >= sizeof(pub))
		return "not an IP address (expected \"PUBLIC\" or \"PUBLIC/PRIVATE\")";
	memcpy(pub, s, n);
	pub[n] = '\0';
	if ((why = parse_ip(&e->pub, pub)) != NULL)
		return "not an IP address (expected \"PUBLIC\" or \"PUBLIC/PRIVATE\")";
	if (!slash)
		return NULL;
	if ((why = parse_ip(&e->priv, slash + 1)) != NULL)
		return "bad private address (expected \"PUBLIC\" or \"PUBLIC/PRIVATE\")";
	if (e->priv.family != e->pub.family)
		return "public and private addresses of different families";
	return NULL;
}

/* ---- applying one value ------------------------------------------- */

static void clear_list(struct tp_conf *c, const struct opt *o)
{
	size_t *n = count(c, o);

	if (o->type == T_SECRETS) {
		char **v = field(c, o);
		for (size_t i = 0; i < *n; i++) {
			free(v[i]);
			v[i] = NULL;
		}
	}
	*n = 0;
}

static int hidden_check(struct ld *ld, const config_setting_t *s, const char *opt,
                        const char *what, const char *v)
{
	if (strcmp(v, HIDDEN) == 0)
		return fail(ld, s, opt, "%s is the \"" HIDDEN "\" placeholder that --print-config "
		            "writes (expected the real value)", what);
	return 0;
}

/*
 * Listener n against the ones before it: two sockets of one kind (datagram:
 * udp, dtls; stream: tcp, tls, ws) on one address and port would split the
 * traffic between them (or fail to bind). The one sharing designed in: a udp:
 * and a dtls: listener on the same address and port are one socket, demuxed
 * by the first byte (RFC 7983). A tls: listener already serves plain TCP too.
 * s: listener n's setting (NULL from the command line). Fails with both
 * places named.
 */
static int listen_collides(struct ld *ld, const struct opt *o, const config_setting_t *s,
                           size_t n)
{
	static const char *const pn[] = { "?", "udp", "tcp", "tls", "dtls", "ws" };
	const struct tp_listen *l = field(ld->c, o);
	bool dgram = l[n].proto == TP_LISTEN_UDP || l[n].proto == TP_LISTEN_DTLS;
	size_t partners = 0;

	for (size_t i = 0; i < n; i++) {
		bool idgram = l[i].proto == TP_LISTEN_UDP || l[i].proto == TP_LISTEN_DTLS;
		const config_setting_t *first = s && config_setting_parent(s)
		                                ? config_setting_get_elem(config_setting_parent(s),
		                                                          (unsigned)i) : NULL;
		const char *hint;
		char a[64], where[300];

		if (idgram != dgram || !tp_addr_eq(&l[i].addr, &l[n].addr))
			continue;
		if (dgram && l[i].proto != l[n].proto && partners++ == 0)
			continue; /* udp: + dtls: */
		if (first && config_setting_source_line(first) > 0)
			snprintf(where, sizeof(where), "%s:%u",
			         config_setting_source_file(first) ? config_setting_source_file(first)
			                                           : ld->origin,
			         config_setting_source_line(first));
		else
			snprintf(where, sizeof(where), "%s", ld->origin);
		hint = l[i].proto == l[n].proto ? "a duplicate: remove one" :
		       dgram ? "a udp: and a dtls: listener may share a port, once each" :
		       l[i].proto == TP_LISTEN_WS || l[n].proto == TP_LISTEN_WS
		           ? "ws: needs a TCP port of its own"
		           : "a tls: listener also serves plain TURN over TCP on its port: keep "
		             "only the tls: one";
		tp_addr_fmt(&l[n].addr, a, sizeof(a));
		return fail(ld, s, o->name, "\"%s:%s\": address and port already taken by the "
		            "%s: listener at %s (%s)", pn[l[n].proto], a, pn[l[i].proto], where, hint);
	}
	return 0;
}

/* Parse string v into the next slot of list option o. s: where, for errors. */
static int add_list_elem(struct ld *ld, const struct opt *o, const char *v,
                         const config_setting_t *s)
{
	struct tp_conf *c = ld->c;
	size_t *n = count(c, o);
	const char *why = NULL;

	if (*n >= (size_t)o->max)
		return fail(ld, s, o->name, "too many entries (expected at most %lld)", o->max);

	switch (o->type) {
	case T_LISTEN:
		why = parse_listen(&((struct tp_listen *)field(c, o))[*n], v);
		if (!why && listen_collides(ld, o, s, *n))
			return -1;
		break;
	case T_ADDRS:
		why = parse_ip(&((struct tp_addr *)field(c, o))[*n], v);
		if (why)
			why = "not an IP address (expected e.g. \"192.0.2.1\" or \"2001:db8::1\")";
		break;
	case T_HOSTPORTS: {
		struct tp_addr *a = &((struct tp_addr *)field(c, o))[*n];

		memset(a, 0, sizeof(*a));
		if (tp_addr_parse(a, v, 3478) != 0 || a->port == 0)
			why = "not an address (expected \"IP:PORT\", e.g. \"192.0.2.1:3478\" or "
			      "\"[2001:db8::1]:3478\")";
		break;
	}
	case T_CIDRS: {
		int r = tp_cidr_parse(&((struct tp_cidr *)field(c, o))[*n], v);
		if (r == -ERANGE)
			why = "bits set past the prefix length (expected a network address, "
			      "e.g. \"10.0.0.0/8\")";
		else if (r)
			why = "not an address range (expected e.g. \"10.0.0.0/8\" or \"fc00::/7\")";
		break;
	}
	case T_EXTERNAL: {
		struct tp_external_ip *e = field(c, o);
		why = parse_external(&e[*n], v);
		for (size_t i = 0; !why && i < *n; i++) {
			if (e[i].pub.family != e[*n].pub.family)
				continue;
			if (!e[i].priv.family && !e[*n].priv.family)
				why = "a second address of this family without a private part "
				      "(expected at most one per family)";
			else if (e[i].priv.family && e[*n].priv.family &&
			         memcmp(e[i].priv.ip, e[*n].priv.ip, 16) == 0)
				why = "this private address is already mapped";
		}
		break;
	}
	case T_SECRETS: {
		char **sv = field(c, o);
		if (*v == '\0')
			why = "an empty secret (expected a non-empty string)";
		else if (hidden_check(ld, s, o->name, "the secret", v))
			return -1;
		else if (!(sv[*n] = strdup(v)))
			return fail(ld, s, o->name, "out of memory");
		break;
	}
	default:
		why = "internal error: not a list";
	}
	if (why)
		return fail(ld, s, o->name, "\"%s\": %s", v, why);
	(*n)++;
	return 0;
}

static int parse_key(uint8_t key[16], const char *s)
{
	if (strncmp(s, "0x", 2) != 0 && strncmp(s, "0X", 2) != 0)
		return -1;
	s += 2;
	if (strlen(s) != 32)
		return -1;
	for (int i = 0; i < 16; i++) {
		unsigned v = 0;
		for (int j = 0; j < 2; j++) {
			char ch = s[2 * i + j];
			v <<= 4;
			if (ch >= '0' && ch <= '9')
				v |= (unsigned)(ch - '0');
			else if (ch >= 'a' && ch <= 'f')
				v |= (unsigned)(ch - 'a' + 10);
			else if (ch >= 'A' && ch <= 'F')
				v |= (unsigned)(ch - 'A' + 10);
			else
				return -1;
		}
		key[i] = (uint8_t)v;
	}
	return 0;
}

/* One { name = ...; password = ... | key = ...; } group into u. */
static int apply_user(struct ld *ld, const struct opt *o, const config_setting_t *g,
                      struct tp_user *u)
{
	const config_setting_t *name = NULL, *pass = NULL, *key = NULL;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return fail(ld, g, o->name, "wrong type: %s (expected a group { name = ...; "
		            "password = ...; })", type_name(g));
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *mn = config_setting_name(m);
		const config_setting_t **slot = !strcmp(mn, "name") ? &name :
		                                !strcmp(mn, "password") ? &pass :
		                                !strcmp(mn, "key") ? &key : NULL;
		if (!slot)
			return fail(ld, m, o->name, "unknown option \"%s\" in a user (expected "
			            "name, password or key)", mn);
		if (config_setting_type(m) != CONFIG_TYPE_STRING)
			return fail(ld, m, o->name, "%s: wrong type: %s (expected a string)", mn,
			            type_name(m));
		*slot = m;
	}
	if (!name || !*config_setting_get_string(name))
		return fail(ld, g, o->name, "a user without a name (expected name = \"...\")");
	const char *nm = config_setting_get_string(name);
	if (strlen(nm) > TP_MAX_USERNAME)
		return fail(ld, name, o->name, "\"%.32s...\": name too long (expected at most %d "
		            "bytes)", nm, TP_MAX_USERNAME);
	if (pass && key)
		return fail(ld, key, o->name, "\"%s\": key and password are exclusive (expected "
		            "one of them)", nm);
	if (!pass && !key)
		return fail(ld, g, o->name, "\"%s\": no password and no key (expected one of "
		            "them)", nm);
	if (!(u->name = strdup(nm)))
		return fail(ld, g, o->name, "out of memory");
	if (pass) {
		const char *pw = config_setting_get_string(pass);
		if (!*pw)
			return fail(ld, pass, o->name, "\"%s\": empty password", nm);
		if (hidden_check(ld, pass, o->name, "the password", pw))
			return -1;
		if (!(u->password = strdup(pw)))
			return fail(ld, g, o->name, "out of memory");
	} else {
		const char *k = config_setting_get_string(key);
		if (hidden_check(ld, key, o->name, "the key", k))
			return -1;
		if (parse_key(u->key_md5, k))
			return fail(ld, key, o->name, "\"%s\": bad key (expected \"0x\" and 32 hex "
			            "digits: MD5(name:realm:password))", nm);
	}
	return 0;
}

static void free_users(struct tp_conf *c)
{
	for (size_t i = 0; i < c->nusers; i++) {
		free(c->users[i].name);
		if (c->users[i].password) {
			size_t n = strlen(c->users[i].password);
			memset(c->users[i].password, 0, n);
			free(c->users[i].password);
		}
	}
	if (c->users)
		memset(c->users, 0, c->nusers * sizeof(*c->users));
	free(c->users);
	c->users = NULL;
	c->nusers = 0;
}

static int apply_users(struct ld *ld, const struct opt *o, const config_setting_t *s)
{
	struct tp_conf *c = ld->c;
	int n = config_setting_length(s);

	if (config_setting_type(s) != CONFIG_TYPE_LIST &&
	    !(config_setting_type(s) == CONFIG_TYPE_ARRAY && n == 0))
		return fail(ld, s, o->name, "wrong type: %s (expected a list of groups: "
		            "( { name = ...; password = ...; }, ... ))", type_name(s));
	if (n > o->max)
		return fail(ld, s, o->name, "too many entries (expected at most %lld)", o->max);
	free_users(c);
	if (n == 0)
		return 0;
	if (!(c->users = calloc((size_t)n, sizeof(*c->users))))
		return fail(ld, s, o->name, "out of memory");
	for (int i = 0; i < n; i++) {
		/* Counted first, so that tp_conf_free frees a half-made entry. */
		c->nusers++;
		if (apply_user(ld, o, config_setting_get_elem(s, (unsigned)i), &c->users[i]))
			return -1;
	}
	return 0;
}

static int apply_string(struct ld *ld, const struct opt *o, const config_setting_t *s,
                        const char *v)
{
	char **dst = field(ld->c, o);
	size_t n = strlen(v);

	if (o->type == T_LOGFORMAT) {
		if (strcmp(v, "text") != 0 && strcmp(v, "json") != 0)
			return fail(ld, s, o->name, "\"%s\" is not a log format (expected text or json)",
			            v);
		*(bool *)field(ld->c, o) = strcmp(v, "json") == 0;
		return 0;
	}
	if (o->type == T_LOGLEVEL) {
		int lv = tp_log_level_parse(v);
		if (lv < 0)
			return fail(ld, s, o->name, "\"%s\" is not a log level (expected error, "
			            "warn, info or debug)", v);
		*(int *)field(ld->c, o) = lv;
		return 0;
	}
	if (n < (size_t)o->min)
		return fail(ld, s, o->name, "empty (expected a non-empty string)");
	if (n > (size_t)o->max)
		return fail(ld, s, o->name, "%zu bytes long (expected at most %lld)", n, o->max);
	if (strcmp(o->name, "admin-token") == 0 && strcmp(v, HIDDEN) == 0)
		return fail(ld, s, o->name, "the \"%s\" placeholder of a printed configuration "
		            "(put the token itself here)", HIDDEN);
	free(*dst);
	if (!(*dst = strdup(v)))
		return fail(ld, s, o->name, "out of memory");
	return 0;
}

/* Apply setting s to option o. */
static int apply(struct ld *ld, const struct opt *o, const config_setting_t *s)
{
	int t = config_setting_type(s);
	void *f = field(ld->c, o);

	switch (o->type) {
	case T_U32:
	case T_PORT: {
		if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
			return fail(ld, s, o->name, "wrong type: %s (expected an integer %lld..%lld)",
			            type_name(s), o->min, o->max);
		long long v = config_setting_get_int64(s);
		if (v < o->min || v > o->max)
			return fail(ld, s, o->name, "%lld is out of range (expected %lld..%lld)", v,
			            o->min, o->max);
		if (o->type == T_PORT)
			*(uint16_t *)f = (uint16_t)v;
		else
			*(uint32_t *)f = (uint32_t)v;
		return 0;
	}
	case T_BOOL:
		if (t != CONFIG_TYPE_BOOL)
			return fail(ld, s, o->name, "wrong type: %s (expected true or false)",
			            type_name(s));
		*(bool *)f = config_setting_get_bool(s) != 0;
		return 0;
	case T_STR:
	case T_URL:
	case T_FILE_OF:
	case T_LOGLEVEL:
	case T_LOGFORMAT:
		if (t != CONFIG_TYPE_STRING)
			return fail(ld, s, o->name, "wrong type: %s (expected a string)", type_name(s));
		return apply_string(ld, o, s, config_setting_get_string(s));
	case T_USERS:
		return apply_users(ld, o, s);
	default:
		break;
	}

	/* The lists of strings. */
	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST)
		return fail(ld, s, o->name, "wrong type: %s (expected a list of strings "
		            "[ \"...\", ... ])", type_name(s));
	clear_list(ld->c, o);
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return fail(ld, e, o->name, "wrong type: %s in the list (expected a string)",
			            type_name(e));
		if (add_list_elem(ld, o, config_setting_get_string(e), e))
			return -1;
	}
	if (*count(ld->c, o) < (size_t)o->min)
		return fail(ld, s, o->name, "empty (expected at least %lld entries)", o->min);
	return 0;
}

/* ---- unknown options ------------------------------------------------- */

/* coturn's options operators carry over, with turnpike's equivalent (NULL: none
 * needed or not supported); docs/MIGRATING-FROM-COTURN.md has the whole table
 * and the reasons. */
static const struct {
	const char *coturn, *tp;
} coturn_opts[] = {
	{ "listening-port", "listen" }, { "tls-listening-port", "listen" },
	{ "alt-listening-port", "other-port" }, { "alt-tls-listening-port", NULL },
	{ "listening-ip", "listen" }, { "relay-ip", "relay-ip" },
	{ "external-ip", "external-ip" }, { "min-port", "min-port" }, { "max-port", "max-port" },
	{ "realm", "realm" }, { "use-auth-secret", NULL },
	{ "static-auth-secret", "static-auth-secret" }, { "lt-cred-mech", NULL },
	{ "user", "users" }, { "userdb", "users-file" }, { "redis-userdb", "redis" },
	{ "redis-statsdb", NULL }, { "total-quota", "total-quota" },
	{ "user-quota", "user-quota" }, { "max-bps", "max-bps" },
	{ "bps-capacity", "bps-capacity" }, { "cert", "tls-cert" }, { "pkey", "tls-key" },
	{ "cipher-list", NULL }, { "no-tls", "listen" }, { "no-dtls", "listen" },
	{ "no-udp", "listen" }, { "no-tcp", "listen" }, { "denied-peer-ip", "denied-peer" },
	{ "allowed-peer-ip", "allowed-peer" }, { "no-multicast-peers", NULL },
	{ "no-loopback-peers", NULL }, { "fingerprint", NULL }, { "stale-nonce", "nonce-lifetime" },
	{ "alternate-server", "alternate-server" }, { "cli-password", "admin-token" },
	{ "prometheus", "metrics" }, { "log-file", NULL }, { "syslog", NULL },
	{ "no-stdout-log", NULL }, { "pidfile", NULL }, { "proc-user", NULL },
	{ "proc-group", NULL }, { "mobility", "mobility" }, { "verbose", "log-level" },
	{ "Verbose", "log-level" }, { "no-cli", "admin" }, { "cli-ip", "admin" },
	{ "cli-port", "admin" }, { "server-name", NULL }, { "relay-threads", "workers" },
	{ "dh2066", NULL }, { "no-tlsv1", NULL }, { "no-tlsv1_1", NULL },
	{ "channel-lifetime", NULL }, { "permission-lifetime", NULL },
	{ "max-allocate-lifetime", "max-lifetime" }, { "no-rfc5780", "nat-discovery" },
	{ "secure-stun", NULL }, { "no-software-attribute", "software" },
	{ "web-admin", NULL }, { "simple-log", "log-format" }, { "new-log-timestamp", NULL },
	{ "no-auth", NULL }, { "stun-only", NULL }, { "no-stun", NULL },
	{ "rest-api-separator", NULL }, { "check-origin-consistency", NULL },
};

/* The coturn option of that name, or NULL. */
static const char *coturn_name(const char *name, const char **tp)
{
	for (size_t i = 0; i < sizeof(coturn_opts) / sizeof(coturn_opts[0]); i++)
		if (strcmp(coturn_opts[i].coturn, name) == 0) {
			*tp = coturn_opts[i].tp;
			return coturn_opts[i].coturn;
		}
	return NULL;
}

/* Edit distance (insertions, deletions, substitutions), for names < 64 bytes. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64];

	if (la >= 64 || lb >= 64)
		return 64;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

/* The option closest to name, if close enough to be a typo; else NULL. */
static const char *closest_opt(const char *name)
{
	size_t best = 64, limit = strlen(name) / 3 + 1;
	const char *who = NULL;

	if (limit > 3)
		limit = 3;
	for (size_t i = 0; i < NOPTS; i++) {
		size_t d = edit_distance(name, opts[i].name);

		if (d < best) {
			best = d;
			who = opts[i].name;
		}
	}
	return best <= limit ? who : NULL;
}

/* "unknown option; did you mean 'listen'?" (or the coturn equivalent) in buf. */
static const char *unknown_why(const char *name, char *buf, size_t cap)
{
	const char *tp = NULL, *near = closest_opt(name);

	if (coturn_name(name, &tp) && tp)
		snprintf(buf, cap, "unknown option: this is coturn's '%s'; turnpike's is '%s' (see "
		         "docs/MIGRATING-FROM-COTURN.md)", name, tp);
	else if (coturn_name(name, &tp))
		snprintf(buf, cap, "unknown option: this is coturn's '%s', which turnpike does not "
		         "need or have (see docs/MIGRATING-FROM-COTURN.md)", name);
	else if (near)
		snprintf(buf, cap, "unknown option; did you mean '%s'?", near);
	else
		snprintf(buf, cap, "unknown option (turnpike --print-config lists them all)");
	return buf;
}

/* Apply every setting of a parsed document; unknown names are errors. */
static int apply_root(struct ld *ld, const config_t *cfg, uint8_t from)
{
	const config_setting_t *root = config_root_setting(cfg);

	for (int i = 0; i < config_setting_length(root); i++) {
		const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
		const char *name = config_setting_name(s);
		const struct opt *o = find_opt(name);
		char why[200];

		if (!o)
			return fail(ld, s, name, "%s", unknown_why(name, why, sizeof(why)));
		if (apply(ld, o, s))
			return -1;
		ld->from[o - opts] = from;
		ld->src[o - opts] = from == FROM_FILE ? s : NULL;
	}
	return 0;
}

/* ---- loading -------------------------------------------------------- */

/*
 * A file libconfig could not parse: if a line reads like coturn's
 * turnserver.conf ("name" or "name=value" without ';', name one of coturn's
 * options), its line number and name; else 0.
 */
static int coturn_line(const char *path, char *name, size_t cap)
{
	FILE *fp = fopen(path, "r");
	char line[1024];
	int no = 0, found = 0;
	bool semicolons = false;

	if (!fp)
		return 0;
	while (no < 100000 && fgets(line, sizeof(line), fp)) {
		char *p = line, *e, *v;
		const char *tp;

		no++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#' || *p == '\n' || *p == '\0')
			continue;
		if (strchr(p, ';')) {
			semicolons = true; /* libconfig's terminator: a turnpike file with a typo */
			break;
		}
		for (e = p; (*e >= 'a' && *e <= 'z') || (*e >= 'A' && *e <= 'Z') ||
		            (*e >= '0' && *e <= '9') || *e == '-' || *e == '_'; e++)
			;
		if (e == p || (*e != '=' && *e != ' ' && *e != '\t' && *e != '\n' && *e != '\r' &&
		               *e != '\0'))
			continue;
		for (v = e; *v == ' ' || *v == '\t'; v++)
			;
		if (*v == '=') /* a libconfig value ("...", [ ], ( ), { }) is no coturn line */
			for (v++; *v == ' ' || *v == '\t'; v++)
				;
		if (*v == '"' || *v == '[' || *v == '(' || *v == '{')
			continue;
		*e = '\0';
		if (!found && coturn_name(p, &tp)) {
			snprintf(name, cap, "%s", p);
			found = no;
		}
	}
	fclose(fp);
	return semicolons ? 0 : found;
}

static int read_doc(struct ld *ld, config_t *cfg, const char *path)
{
	FILE *fp;
	int ok;
	struct stat st;

	config_set_options(cfg, config_get_options(cfg) & ~CONFIG_OPTION_AUTOCONVERT);
	if (!path) {
		/* The defaults: "name = literal;" for every option. */
		char doc[8192];
		size_t n = 0;
		for (size_t i = 0; i < NOPTS; i++) {
			int r = snprintf(doc + n, sizeof(doc) - n, "%s = %s;\n", opts[i].name,
			                 opts[i].def);
			if (r < 0 || (size_t)r >= sizeof(doc) - n)
				return fail(ld, NULL, NULL, "internal error: defaults too long");
			n += (size_t)r;
		}
		ok = config_read_string(cfg, doc);
	} else {
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			return fail(ld, NULL, NULL, "is a directory (expected a configuration file, "
			            "e.g. %s%sturnpike.conf)", path,
			            path[0] && path[strlen(path) - 1] == '/' ? "" : "/");
		if (!(fp = fopen(path, "r")))
			return fail(ld, NULL, NULL, "%s", strerror(errno));
		char dir[4096];
		const char *slash = strrchr(path, '/');
		if (slash && (size_t)(slash - path) < sizeof(dir)) {
			memcpy(dir, path, (size_t)(slash - path));
			dir[slash - path] = '\0';
			config_set_include_dir(cfg, dir[0] ? dir : "/");
		}
		ok = config_read(cfg, fp);
		fclose(fp);
	}
	if (!ok) {
		const char *file = config_error_file(cfg) ? config_error_file(cfg) : ld->origin;
		char name[64];
		int at = path ? coturn_line(path, name, sizeof(name)) : 0;

		if (ld->err && ld->errlen && at)
			snprintf(ld->err, ld->errlen, "%s:%d: '%s': this looks like a coturn "
			         "turnserver.conf (name=value lines without ';'); turnpike reads libconfig "
			         "(name = value;): docs/MIGRATING-FROM-COTURN.md maps coturn's options "
			         "to turnpike's (libconfig: %s at line %d)", path, at, name,
			         config_error_text(cfg), config_error_line(cfg));
		else if (ld->err && ld->errlen)
			snprintf(ld->err, ld->errlen, "%s:%d: %s", file, config_error_line(cfg),
			         config_error_text(cfg));
		return -1;
	}
	return 0;
}

static int apply_overrides(struct ld *ld, const struct tp_conf_overrides *ov)
{
	static const struct {
		const char *name;
		size_t list_off, n_off, str_off;
	} lists[] = {
		{ "listen", offsetof(struct tp_conf_overrides, listen),
		  offsetof(struct tp_conf_overrides, nlisten), 0 },
		{ "external-ip", offsetof(struct tp_conf_overrides, external_ip),
		  offsetof(struct tp_conf_overrides, nexternal_ip), 0 },
		{ "allowed-peer", offsetof(struct tp_conf_overrides, allowed_peer),
		  offsetof(struct tp_conf_overrides, nallowed_peer), 0 },
	};

	ld->origin = "command line";
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		const struct opt *o = find_opt(lists[i].name);
		const char *const *v = (const char *const *)(const void *)
		                       ((const char *)ov + lists[i].list_off);
		size_t n = *(const size_t *)(const void *)((const char *)ov + lists[i].n_off);
		if (n == 0)
			continue;
		clear_list(ld->c, o);
		for (size_t j = 0; j < n; j++)
			if (add_list_elem(ld, o, v[j], NULL))
				return -1;
		ld->from[o - opts] = FROM_CMDLINE;
		ld->src[o - opts] = NULL;
	}
	if (ov->realm) {
		const struct opt *o = find_opt("realm");
		if (apply_string(ld, o, NULL, ov->realm))
			return -1;
		ld->from[o - opts] = FROM_CMDLINE;
		ld->src[o - opts] = NULL;
	}
	if (ov->log_level) {
		const struct opt *o = find_opt("log-level");
		if (apply_string(ld, o, NULL, ov->log_level))
			return -1;
		ld->from[o - opts] = FROM_CMDLINE;
		ld->src[o - opts] = NULL;
	}
	return 0;
}

/* ---- values as text: the environment and --set ------------------------ */

static bool is_list(const struct opt *o)
{
	return o->type == T_LISTEN || o->type == T_EXTERNAL || o->type == T_ADDRS ||
	       o->type == T_CIDRS || o->type == T_SECRETS || o->type == T_USERS ||
	       o->type == T_HOSTPORTS;
}

/* "--set max-bps" / "environment TURNPIKE_MAX_BPS" in ld->labelbuf. */
static const char *label_of(struct ld *ld, const struct opt *o, uint8_t from)
{
	if (from == FROM_SET) {
		snprintf(ld->labelbuf, sizeof(ld->labelbuf), "--set %s", o->name);
	} else {
		size_t n = (size_t)snprintf(ld->labelbuf, sizeof(ld->labelbuf),
		                            "environment TURNPIKE_");
		for (const char *p = o->name; *p && n + 1 < sizeof(ld->labelbuf); p++)
			ld->labelbuf[n++] = *p == '-' ? '_' : (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
		ld->labelbuf[n] = '\0';
	}
	return ld->labelbuf;
}

/* Deep copy of setting s into parent (a group, list or array) as name. */
static config_setting_t *copy_setting(config_setting_t *parent, const char *name,
                                      const config_setting_t *s)
{
	int t = config_setting_type(s);
	config_setting_t *d = config_setting_add(parent, name,
	                                         t == CONFIG_TYPE_ARRAY ? CONFIG_TYPE_LIST : t);

	if (!d)
		return NULL;
	switch (t) {
	case CONFIG_TYPE_GROUP:
	case CONFIG_TYPE_LIST:
	case CONFIG_TYPE_ARRAY:
		for (int i = 0; i < config_setting_length(s); i++) {
			const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
			if (!copy_setting(d, t == CONFIG_TYPE_GROUP ? config_setting_name(e) : NULL, e))
				return NULL;
		}
		return d;
	case CONFIG_TYPE_INT:
		return config_setting_set_int(d, config_setting_get_int(s)) ? d : NULL;
	case CONFIG_TYPE_INT64:
		return config_setting_set_int64(d, config_setting_get_int64(s)) ? d : NULL;
	case CONFIG_TYPE_FLOAT:
		return config_setting_set_float(d, config_setting_get_float(s)) ? d : NULL;
	case CONFIG_TYPE_BOOL:
		return config_setting_set_bool(d, config_setting_get_bool(s)) ? d : NULL;
	case CONFIG_TYPE_STRING:
		return config_setting_set_string(d, config_setting_get_string(s)) ? d : NULL;
	}
	return NULL;
}

/* A libconfig literal ("v = TEXT;"): its one setting in tmp, or NULL. */
static const config_setting_t *literal(config_t *tmp, const char *v)
{
	size_t n = strlen(v) + 16;
	char *doc = malloc(n);
	const config_setting_t *root;
	int ok;

	if (!doc)
		return NULL;
	snprintf(doc, n, "v = %s;\n", v);
	config_set_options(tmp, config_get_options(tmp) & ~CONFIG_OPTION_AUTOCONVERT);
	ok = config_read_string(tmp, doc);
	free(doc);
	root = config_root_setting(tmp);
	if (!ok || config_setting_length(root) != 1)
		return NULL;
	return config_setting_get_member(root, "v");
}

static void trim(const char **p, const char **e)
{
	while (*p < *e && (**p == ' ' || **p == '\t'))
		(*p)++;
	while (*e > *p && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
}

/* Add "a,b,c" to list d: strings, or (users) { name; password; } groups. */
static int add_raw_list(struct ld *ld, const struct opt *o, config_setting_t *d, const char *v)
{
	for (const char *p = v; *p;) {
		const char *e = strchr(p, ','), *next;
		char item[1024];

		next = e ? e + 1 : p + strlen(p);
		if (!e)
			e = next;
		trim(&p, &e);
		if ((size_t)(e - p) >= sizeof(item))
			return fail(ld, NULL, NULL, "an entry of %zu bytes (expected at most %zu)",
			            (size_t)(e - p), sizeof(item) - 1);
		memcpy(item, p, (size_t)(e - p));
		item[e - p] = '\0';
		p = next;
		if (!item[0])
			continue;
		if (o->type != T_USERS) {
			config_setting_t *s = config_setting_add(d, NULL, CONFIG_TYPE_STRING);
			if (!s || !config_setting_set_string(s, item))
				return fail(ld, NULL, NULL, "out of memory");
			continue;
		}
		char *colon = strchr(item, ':');
		config_setting_t *g = config_setting_add(d, NULL, CONFIG_TYPE_GROUP), *m;

		if (!colon)
			return fail(ld, NULL, NULL, "\"%s\": expected NAME:PASSWORD (several separated "
			            "by ',')", item);
		*colon = '\0';
		if (!g || !(m = config_setting_add(g, "name", CONFIG_TYPE_STRING)) ||
		    !config_setting_set_string(m, item) ||
		    !(m = config_setting_add(g, "password", CONFIG_TYPE_STRING)) ||
		    !config_setting_set_string(m, colon + 1))
			return fail(ld, NULL, NULL, "out of memory");
		memset(colon + 1, 0, strlen(colon + 1));
	}
	return 0;
}

static int word_bool(const char *v)
{
	static const char *const yes[] = { "true", "yes", "on", "1" }, *const no[] = {
		"false", "no", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return 1;
		if (strcasecmp(v, no[i]) == 0)
			return 0;
	}
	return -1;
}

/*
 * Put the value text v of option o into the staging document root, as the
 * setting a file would hold (apply() checks it later). A list already staged
 * from this source gets v's entries appended; any other option is replaced.
 */
static int stage(struct ld *ld, config_setting_t *root, const struct opt *o, const char *v)
{
	config_setting_t *have = config_setting_get_member(root, o->name), *d;
	const config_setting_t *lit = NULL;
	config_t tmp;
	int rc = -1;

	config_init(&tmp);
	if (is_list(o)) {
		if (have && config_setting_type(have) != CONFIG_TYPE_LIST) {
			config_setting_remove(root, o->name);
			have = NULL;
		}
		d = have ? have : config_setting_add(root, o->name, CONFIG_TYPE_LIST);
		if (!d) {
			fail(ld, NULL, NULL, "out of memory");
			goto out;
		}
		if (v[0] == '[' || v[0] == '(') {
			if (!(lit = literal(&tmp, v))) {
				fail(ld, NULL, NULL, "%s at line %d of the value (a libconfig list: %s)",
				     config_error_text(&tmp) ? config_error_text(&tmp) : "not one value",
				     config_error_line(&tmp), o->type == T_USERS ?
				     "( { name = \"...\"; password = \"...\"; }, ... )" : "[ \"...\", ... ]");
				goto out;
			}
			if (config_setting_type(lit) != CONFIG_TYPE_LIST &&
			    config_setting_type(lit) != CONFIG_TYPE_ARRAY) {
				if (!copy_setting(d, NULL, lit))
					goto oom;
			} else {
				for (int i = 0; i < config_setting_length(lit); i++)
					if (!copy_setting(d, NULL, config_setting_get_elem(lit, (unsigned)i)))
						goto oom;
			}
		} else if (add_raw_list(ld, o, d, v)) {
			goto out;
		}
		rc = 0;
		goto out;
	}
	if (have)
		config_setting_remove(root, o->name);
	if (o->type == T_U32 || o->type == T_PORT) {
		lit = literal(&tmp, v);
		if (!lit || (config_setting_type(lit) != CONFIG_TYPE_INT &&
		             config_setting_type(lit) != CONFIG_TYPE_INT64)) {
			fail(ld, NULL, NULL, "\"%s\": not an integer (expected %lld..%lld)", v, o->min,
			     o->max);
			goto out;
		}
	} else if (o->type == T_BOOL) {
		int b = word_bool(v);

		if (b < 0) {
			fail(ld, NULL, NULL, "\"%s\": not a boolean (expected true or false)", v);
			goto out;
		}
		if (!(d = config_setting_add(root, o->name, CONFIG_TYPE_BOOL)) ||
		    !config_setting_set_bool(d, b))
			goto oom;
		rc = 0;
		goto out;
	} else if (v[0] == '"') {
		if (!(lit = literal(&tmp, v))) {
			fail(ld, NULL, NULL, "%s (a quoted value is a libconfig string: \"...\")",
			     config_error_text(&tmp) ? config_error_text(&tmp) : "not one value");
			goto out;
		}
	} else {
		if (!(d = config_setting_add(root, o->name, CONFIG_TYPE_STRING)) ||
		    !config_setting_set_string(d, v))
			goto oom;
		rc = 0;
		goto out;
	}
	if (!copy_setting(root, o->name, lit))
		goto oom;
	rc = 0;
	goto out;
oom:
	fail(ld, NULL, NULL, "out of memory");
out:
	config_destroy(&tmp);
	return rc;
}

/* Apply what was staged from one source, in the table's order. */
static int apply_staged(struct ld *ld, const config_t *stg, uint8_t from)
{
	const config_setting_t *root = config_root_setting(stg);

	for (size_t i = 0; i < NOPTS; i++) {
		const config_setting_t *s = config_setting_get_member(root, opts[i].name);

		if (!s)
			continue;
		ld->label = label_of(ld, &opts[i], from);
		if (apply(ld, &opts[i], s))
			return -1;
		if (is_list(&opts[i]) && opts[i].type != T_USERS &&
		    *count(ld->c, &opts[i]) < (size_t)opts[i].min)
			return fail(ld, NULL, NULL, "empty (expected at least %lld entries)",
			            opts[i].min);
		ld->from[i] = from;
		ld->src[i] = NULL;
	}
	ld->label = NULL;
	return 0;
}

/* TURNPIKE_<OPTION>=value from env. */
static int apply_env(struct ld *ld, char *const *env)
{
	config_t stg;
	int rc = -1;

	config_init(&stg);
	for (size_t k = 0; env && env[k]; k++) {
		const char *e = env[k], *eq = strchr(e, '=');
		char name[80];
		const struct opt *o;
		size_t n;

		if (strncmp(e, "TURNPIKE_", 9) != 0 || !eq)
			continue;
		n = (size_t)(eq - e) - 9;
		if (n == 0 || n >= sizeof(name))
			continue;
		for (size_t j = 0; j < n; j++) {
			char ch = e[9 + j];
			name[j] = ch == '_' ? '-' : (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
		}
		name[n] = '\0';
		if (!(o = find_opt(name))) {
			const struct opt *near = closest_opt(name) ? find_opt(closest_opt(name)) : NULL;

			/* "environment " is 12 bytes: the label past it is the variable */
			tp_warn(NULL, "environment %.*s: not an option, ignored%s%s%s", (int)(eq - e), e,
			        near ? "; did you mean " : "",
			        near ? label_of(ld, near, FROM_ENV) + 12 : "", near ? "?" : "");
			continue;
		}
		ld->label = label_of(ld, o, FROM_ENV);
		if (stage(ld, config_root_setting(&stg), o, eq + 1))
			goto out;
		ld->label = NULL;
	}
	rc = apply_staged(ld, &stg, FROM_ENV);
out:
	config_destroy(&stg);
	return rc;
}

/* --set option=value, in order. */
static int apply_sets(struct ld *ld, const char *const *set, size_t nset)
{
	config_t stg;
	int rc = -1;

	config_init(&stg);
	for (size_t k = 0; k < nset; k++) {
		const char *eq = strchr(set[k], '=');
		char name[80], why[200];
		const struct opt *o;
		size_t n = eq ? (size_t)(eq - set[k]) : strlen(set[k]);

		snprintf(name, sizeof(name), "%.*s", (int)n, set[k]);
		if (!eq) {
			snprintf(ld->labelbuf, sizeof(ld->labelbuf), "--set %s", name);
			ld->label = ld->labelbuf;
			fail(ld, NULL, NULL, "expected OPTION=VALUE");
			goto out;
		}
		if (!(o = find_opt(name))) {
			snprintf(ld->labelbuf, sizeof(ld->labelbuf), "--set %s", name);
			ld->label = ld->labelbuf;
			fail(ld, NULL, NULL, "%s", unknown_why(name, why, sizeof(why)));
			goto out;
		}
		ld->label = label_of(ld, o, FROM_SET);
		if (stage(ld, config_root_setting(&stg), o, eq + 1))
			goto out;
		ld->label = NULL;
	}
	rc = apply_staged(ld, &stg, FROM_SET);
out:
	config_destroy(&stg);
	return rc;
}

/* Errors from now on name where option o was set. */
static void set_origin(struct ld *ld, const struct opt *o)
{
	uint8_t from = ld->from[o - opts];

	ld->label = from == FROM_ENV || from == FROM_SET ? label_of(ld, o, from) : NULL;
	ld->origin = from == FROM_CMDLINE ? "command line" :
	             from == FROM_DEFAULT ? "built-in default" : ld->c->path;
}

/* Error at option o's origin (its line in the file, or the command line). */
__attribute__((format(printf, 3, 4)))
static int fail_at(struct ld *ld, const struct opt *o, const char *fmt, ...)
{
	size_t i = (size_t)(o - opts);
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	set_origin(ld, o);
	return fail(ld, ld->src[i], o->name, "%s", msg);
}

/* Of two options, the one a user set (file or command line), preferring b. */
static const struct opt *blame(const struct ld *ld, const char *a, const char *b)
{
	const struct opt *oa = find_opt(a), *ob = find_opt(b);

	return ld->from[ob - opts] != FROM_DEFAULT || ld->from[oa - opts] == FROM_DEFAULT ? ob : oa;
}

static int user_cmp(const void *a, const void *b)
{
	return strcmp(((const struct tp_user *)a)->name, ((const struct tp_user *)b)->name);
}

static int uhash_cmp(const void *a, const void *b)
{
	return memcmp(((const struct tp_userhash *)a)->hash, ((const struct tp_userhash *)b)->hash,
	              32);
}

/* USERHASH of every user, sorted, so a request's USERHASH costs a binary
 * search instead of one SHA-256 per configured user. Users sorted first. */
static int build_userhash(struct tp_conf *c)
{
	struct tp_userhash *h = c->nusers ? calloc(c->nusers, sizeof(*h)) : NULL;

	if (c->nusers && !h)
		return -ENOMEM;
	for (size_t i = 0; i < c->nusers; i++) {
		tp_userhash(c->users[i].name, strlen(c->users[i].name), c->realm, strlen(c->realm),
		            h[i].hash);
		h[i].user = (uint32_t)i;
	}
	if (c->nusers > 1)
		qsort(h, c->nusers, sizeof(*h), uhash_cmp);
	free(c->userhash);
	c->userhash = h;
	return 0;
}

static int finish_users(struct ld *ld)
{
	struct tp_conf *c = ld->c;
	const struct opt *o = find_opt("users");
	const config_setting_t *list = ld->src[o - opts];

	for (size_t i = 0; i < c->nusers; i++) {
		struct tp_user *u = &c->users[i];
		const config_setting_t *where = list ? config_setting_get_elem(list, (unsigned)i)
		                                     : NULL;
		uint8_t key[TP_KEY_MAX];
		size_t klen;
		enum tp_perr e;

		if (!u->password)
			continue;
		e = tp_key_long_term(TP_PWALG_MD5, u->name, strlen(u->name), c->realm,
		                     strlen(c->realm), u->password, strlen(u->password), key, &klen);
		if (e == TP_P_OK && klen == sizeof(u->key_md5))
			memcpy(u->key_md5, key, sizeof(u->key_md5));
		if (e == TP_P_OK)
			e = tp_key_long_term(TP_PWALG_SHA256, u->name, strlen(u->name), c->realm,
			                     strlen(c->realm), u->password, strlen(u->password),
			                     key, &klen);
		if (e != TP_P_OK || klen != sizeof(u->key_sha256)) {
			set_origin(ld, o);
			return fail(ld, where, o->name, "\"%s\": unusable password or realm: %s",
			            u->name, e != TP_P_OK ? tp_perr_str(e) : "bad key length");
		}
		memcpy(u->key_sha256, key, sizeof(u->key_sha256));
		u->has_sha256 = true;
		memset(key, 0, sizeof(key));
	}
	if (c->nusers > 1)
		qsort(c->users, c->nusers, sizeof(*c->users), user_cmp);
	for (size_t i = 1; i < c->nusers; i++) {
		if (strcmp(c->users[i - 1].name, c->users[i].name) != 0)
			continue;
		/* Find the second occurrence in the file for the line. */
		const config_setting_t *where = NULL;
		int seen = 0;
		for (int j = 0; list && j < config_setting_length(list) && !where; j++) {
			const config_setting_t *g = config_setting_get_elem(list, (unsigned)j);
			const char *nm = NULL;
			if (config_setting_lookup_string(g, "name", &nm) &&
			    strcmp(nm, c->users[i].name) == 0 && seen++)
				where = g;
		}
		set_origin(ld, o);
		return fail(ld, where, o->name, "\"%s\": a second user of this name",
		            c->users[i].name);
	}
	if (build_userhash(c) != 0)
		return fail(ld, NULL, o->name, "out of memory");
	return 0;
}

int tp_endpoint_parse(const char *s, struct tp_endpoint *e, const char **why)
{
	memset(e, 0, sizeof(*e));
	*why = NULL;
	if (!s || !*s)
		return 0;
	if (strncmp(s, "unix:", 5) == 0) {
		if (s[5] != '/' || strlen(s + 5) >= sizeof(e->path)) {
			*why = "expected unix:/ABSOLUTE/PATH (at most 107 bytes)";
			return -EINVAL;
		}
		e->kind = TP_EP_UNIX;
		snprintf(e->path, sizeof(e->path), "%s", s + 5);
		return 0;
	}
	if (strncmp(s, "http:", 5) == 0 || strncmp(s, "tcp:", 4) == 0) {
		e->kind = s[0] == 'h' ? TP_EP_HTTP : TP_EP_TCP;
		if (tp_addr_parse(&e->addr, s + (s[0] == 'h' ? 5 : 4), 0) != 0 || e->addr.port == 0) {
			*why = "expected PROTO:ADDR:PORT, e.g. http:127.0.0.1:9641 or tcp:[::1]:9642";
			return -EINVAL;
		}
		return 0;
	}
	*why = "expected http:ADDR:PORT, tcp:ADDR:PORT or unix:PATH";
	return -EINVAL;
}

/* users-file: its users = ( ... ) are added to the main file's. */
static int load_users_file(struct ld *ld)
{
	struct tp_conf *c = ld->c;
	const struct opt *o = find_opt("users");
	const config_setting_t *list, *root;
	const char *saved = ld->origin;
	config_t doc;
	int rc = -1;

	if (!c->users_file || !c->users_file[0])
		return 0;
	config_init(&doc);
	ld->origin = c->users_file;
	if (read_doc(ld, &doc, c->users_file))
		goto out;
	root = config_root_setting(&doc);
	for (int i = 0; i < config_setting_length(root); i++) {
		const config_setting_t *e = config_setting_get_elem(root, (unsigned)i);

		if (strcmp(config_setting_name(e), "users") != 0) {
			fail(ld, e, config_setting_name(e), "unknown option in a users-file (expected "
			     "only users = ( ... ))");
			goto out;
		}
	}
	list = config_lookup(&doc, "users");
	if (list && config_setting_type(list) != CONFIG_TYPE_LIST &&
	    !(config_setting_type(list) == CONFIG_TYPE_ARRAY && config_setting_length(list) == 0)) {
		fail(ld, list, o->name, "wrong type: %s (expected a list of groups)", type_name(list));
		goto out;
	}
	for (int i = 0; list && i < config_setting_length(list); i++) {
		struct tp_user *u;

		if (c->nusers >= (size_t)o->max) {
			fail(ld, list, o->name, "too many users (expected at most %lld in all)", o->max);
			goto out;
		}
		u = realloc(c->users, (c->nusers + 1) * sizeof(*u));
		if (!u) {
			fail(ld, list, o->name, "out of memory");
			goto out;
		}
		c->users = u;
		memset(&c->users[c->nusers], 0, sizeof(c->users[0]));
		c->nusers++;
		if (apply_user(ld, o, config_setting_get_elem(list, (unsigned)i),
		               &c->users[c->nusers - 1]))
			goto out;
	}
	rc = 0;
out:
	config_destroy(&doc);
	ld->origin = saved;
	return rc;
}

/* The cluster store's options (issue 14): the URL parses, no TLS options
 * (hiredis 0.14 has none), a node-id that can name a key. */
static int check_redis(struct ld *ld)
{
	struct tp_conf *c = ld->c;
	struct tp_redis_url u;
	const char *why;
	static const char *const tls[] = { "redis-tls-ca", "redis-tls-cert", "redis-tls-key" };

	if (c->redis && c->redis[0] && tp_redis_url_parse(c->redis, &u, &why) != 0)
		return fail_at(ld, find_opt("redis"), "%s", why);
	memset(&u, 0, sizeof(u));
	for (size_t i = 0; i < 3; i++) {
		const struct opt *o = find_opt(tls[i]);
		const char *v = *(char **)field(c, o);
		if (v && v[0])
			return fail_at(ld, o, "TLS to Redis is not available (hiredis 0.14 has no "
			               "TLS; use unix:// or a TLS tunnel on loopback)");
	}
	if (c->node_id && c->node_id[0] && !tp_redis_node_ok(c->node_id))
		return fail_at(ld, find_opt("node-id"), "\"%s\": expected 1..64 of A-Z a-z 0-9 "
		               ". - _", c->node_id);
	return 0;
}

static void fmt_ip(const struct tp_addr *a, char *b, size_t cap);

/* Wipe a printed value that may hold a secret. */
static void sodium_memzero_like(char *s)
{
	volatile char *p = s;

	while (*p)
		*p++ = '\0';
}

/*
 * The *-file options: the file's content (a trailing newline stripped) is the
 * value of the option named without "-file"; for a list (static-auth-secret)
 * each non-empty line is one entry. Giving both forms is an error.
 */
static int read_secret_files(struct ld *ld)
{
	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt *o = &opts[i], *t;
		const char *path = o->type == T_FILE_OF ? *(char **)field(ld->c, o) : NULL;
		char name[64], buf[8192];
		size_t n;
		FILE *fp;
		int rc;

		if (!path || !path[0])
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(strlen(o->name) - 5), o->name);
		t = find_opt(name);
		if (!t)
			return fail_at(ld, o, "internal error: no option %s", name);
		if (ld->from[t - opts] != FROM_DEFAULT &&
		    (t->type == T_SECRETS ? *count(ld->c, t) > 0 : (*(char **)field(ld->c, t) &&
		                                                     (*(char **)field(ld->c, t))[0])))
			return fail_at(ld, o, "%s is given too (expected one of %s and %s)", t->name,
			               t->name, o->name);
		if (!(fp = fopen(path, "r")))
			return fail_at(ld, o, "%s: %s", path, strerror(errno));
		n = fread(buf, 1, sizeof(buf), fp);
		rc = ferror(fp);
		fclose(fp);
		if (rc)
			return fail_at(ld, o, "%s: cannot read", path);
		if (n == sizeof(buf))
			return fail_at(ld, o, "%s: larger than %zu bytes", path, sizeof(buf) - 1);
		buf[n] = '\0';
		if (memchr(buf, '\0', n)) {
			memset(buf, 0, sizeof(buf));
			return fail_at(ld, o, "%s: a NUL byte in it (expected text)", path);
		}
		while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			buf[--n] = '\0';
		ld->label = path; /* errors of the value name the file; fail_at adds the option */
		rc = 0;
		if (t->type == T_SECRETS) {
			clear_list(ld->c, t);
			for (char *p = buf, *e; !rc && p && *p; p = e) {
				e = strchr(p, '\n');
				if (e)
					*e++ = '\0';
				if (*p && p[strlen(p) - 1] == '\r')
					p[strlen(p) - 1] = '\0';
				if (*p)
					rc = add_list_elem(ld, t, p, NULL);
			}
			if (!rc && *count(ld->c, t) == 0)
				rc = fail(ld, NULL, NULL, "no secret in it (expected one per line)");
		} else if (strchr(buf, '\n')) {
			rc = fail(ld, NULL, NULL, "more than one line (expected the %s only)", t->name);
		} else if (!buf[0]) {
			rc = fail(ld, NULL, NULL, "empty (expected the %s)", t->name);
		} else {
			rc = apply_string(ld, t, NULL, buf);
		}
		memset(buf, 0, sizeof(buf));
		ld->label = NULL;
		if (rc) {
			char msg[256];

			snprintf(msg, sizeof(msg), "%s", ld->err ? ld->err : "");
			return fail_at(ld, o, "%s", msg);
		}
		ld->label = NULL;
		ld->from[t - opts] = ld->from[i];
	}
	return 0;
}

/* What would silently do nothing: a tls: or dtls: listener without a
 * certificate, an external-ip whose private part is none of the relay-ip. */
static int check_listeners(struct ld *ld)
{
	const struct tp_conf *c = ld->c;

	for (size_t i = 0; i < c->nlisten; i++) {
		char a[64];

		if (c->listen[i].proto != TP_LISTEN_TLS && c->listen[i].proto != TP_LISTEN_DTLS)
			continue;
		if (c->tls_cert && c->tls_cert[0])
			break;
		tp_addr_fmt(&c->listen[i].addr, a, sizeof(a));
		return fail_at(ld, find_opt("listen"), "%s:%s needs a certificate: set tls-cert (and "
		               "tls-key), or remove the listener",
		               c->listen[i].proto == TP_LISTEN_TLS ? "tls" : "dtls", a);
	}
	for (size_t i = 0; c->nrelay_ip && i < c->nexternal; i++) {
		const struct tp_external_ip *e = &c->external[i];
		bool found = !e->priv.family;
		char pub[64], priv[64];

		for (size_t k = 0; !found && k < c->nrelay_ip; k++)
			found = tp_addr_ip_eq(&c->relay_ip[k], &e->priv);
		if (found)
			continue;
		fmt_ip(&e->pub, pub, sizeof(pub));
		fmt_ip(&e->priv, priv, sizeof(priv));
		return fail_at(ld, blame(ld, "relay-ip", "external-ip"), "\"%s/%s\": %s is none of "
		               "the relay-ip addresses, so the mapping would never apply (expected "
		               "PUBLIC/PRIVATE with PRIVATE in relay-ip)", pub, priv, priv);
	}
	return 0;
}

static int finish(struct ld *ld)
{
	struct tp_conf *c = ld->c;
	struct tp_endpoint ep;
	const char *why;

	if (read_secret_files(ld))
		return -1;
	if (tp_endpoint_parse(c->metrics, &ep, &why) != 0 || ep.kind == TP_EP_TCP ||
	    ep.kind == TP_EP_UNIX)
		return fail_at(ld, find_opt("metrics"), "\"%s\": %s", c->metrics,
		               why ? why : "expected http:ADDR:PORT");
	if (tp_endpoint_parse(c->admin, &ep, &why) != 0 || ep.kind == TP_EP_HTTP)
		return fail_at(ld, find_opt("admin"), "\"%s\": %s", c->admin,
		               why ? why : "expected unix:PATH or tcp:ADDR:PORT");
	if (ep.kind == TP_EP_TCP && (!c->admin_token || strlen(c->admin_token) < 16))
		return fail_at(ld, find_opt("admin"), "a tcp: admin listener needs admin-token "
		               "(at least 16 bytes)");
	if (load_users_file(ld))
		return -1;
	if (check_redis(ld) || check_listeners(ld))
		return -1;

	if (c->min_port > c->max_port)
		return fail_at(ld, blame(ld, "min-port", "max-port"),
		               "min-port %u > max-port %u (expected min-port <= max-port)",
		               c->min_port, c->max_port);
	if (c->default_lifetime > c->max_lifetime)
		return fail_at(ld, blame(ld, "default-lifetime", "max-lifetime"),
		               "default-lifetime %u > max-lifetime %u (expected default-lifetime "
		               "<= max-lifetime)", c->default_lifetime, c->max_lifetime);
	return finish_users(ld);
}

int tp_conf_load(const char *path, const struct tp_conf_overrides *ov, struct tp_conf **out,
                 char *err, size_t errlen)
{
	struct ld ld = { .err = err, .errlen = errlen, .origin = "built-in default" };
	config_t defs, file;
	int ret = -1;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	config_init(&defs);
	config_init(&file);
	if (!(ld.c = calloc(1, sizeof(*ld.c)))) {
		fail(&ld, NULL, NULL, "out of memory");
		goto out;
	}
	if (read_doc(&ld, &defs, NULL) || apply_root(&ld, &defs, FROM_DEFAULT))
		goto out;
	if (path) {
		ld.origin = path;
		if (!(ld.c->path = strdup(path))) {
			fail(&ld, NULL, NULL, "out of memory");
			goto out;
		}
		if (read_doc(&ld, &file, path) || apply_root(&ld, &file, FROM_FILE))
			goto out;
	}
	if (ov && ov->env && apply_env(&ld, ov->env))
		goto out;
	if (ov && apply_overrides(&ld, ov))
		goto out;
	if (ov && apply_sets(&ld, ov->set, ov->nset))
		goto out;
	ld.origin = path ? path : "built-in default";
	if (finish(&ld))
		goto out;
	for (size_t i = 0; i < NOPTS; i++) {
		ld.c->opt_from[i] = ld.from[i];
		ld.c->opt_line[i] = ld.src[i] && config_setting_source_line(ld.src[i]) > 0
		                    ? (uint32_t)config_setting_source_line(ld.src[i]) : 0;
	}
	*out = ld.c;
	ld.c = NULL;
	ret = 0;
out:
	tp_conf_free(ld.c);
	config_destroy(&file);
	config_destroy(&defs);
	return ret;
}

/* Frees what the table says the conf owns, so a new option needs no code here. */
void tp_conf_free(struct tp_conf *c)
{
	if (!c)
		return;
	free_users(c);
	free(c->userhash);
	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt *o = &opts[i];
		if (o->type == T_STR || o->type == T_URL || o->type == T_FILE_OF) {
			free(*(char **)field(c, o));
		} else if (o->type == T_SECRETS) {
			char **v = field(c, o);
			for (size_t j = 0; j < *count(c, o); j++)
				if (v[j])
					memset(v[j], 0, strlen(v[j]));
			clear_list(c, o);
		}
	}
	free(c->path);
	free(c);
}

/* ---- lookup ---------------------------------------------------------- */

const char *tp_conf_where(const struct tp_conf *c, const char *name, char *buf, size_t n)
{
	const struct opt *o = find_opt(name);
	size_t i = o ? (size_t)(o - opts) : 0;

	if (!o || c->opt_from[i] == FROM_DEFAULT)
		snprintf(buf, n, "built-in default");
	else if (c->opt_from[i] == FROM_CMDLINE)
		snprintf(buf, n, "command line");
	else if (c->opt_line[i])
		snprintf(buf, n, "%s:%u", c->path ? c->path : "?", c->opt_line[i]);
	else
		snprintf(buf, n, "%s", c->path ? c->path : "?");
	return buf;
}

static int name_cmp(const char *name, size_t len, const char *s)
{
	size_t sl = strlen(s);
	int r = memcmp(name, s, len < sl ? len : sl);

	if (r)
		return r;
	return len < sl ? -1 : len > sl ? 1 : 0;
}

const struct tp_user *tp_conf_user(const struct tp_conf *c, const char *name, size_t len)
{
	size_t lo = 0, hi = c->nusers;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = name_cmp(name, len, c->users[mid].name);
		if (r == 0)
			return &c->users[mid];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

int tp_conf_add_user(struct tp_conf *c, const char *name, const char *password)
{
	struct tp_user *users, *u;
	uint8_t md5[TP_KEY_MAX], sha[TP_KEY_MAX];
	size_t klen;

	if (tp_conf_user(c, name, strlen(name)))
		return -EEXIST;
	users = realloc(c->users, (c->nusers + 1) * sizeof(*users));
	if (!users)
		return -ENOMEM;
	c->users = users;
	u = &users[c->nusers];
	memset(u, 0, sizeof(*u));
	u->name = strdup(name);
	u->password = strdup(password);
	if (!u->name || !u->password ||
	    tp_key_long_term(TP_PWALG_MD5, name, strlen(name), c->realm, strlen(c->realm), password,
	                     strlen(password), md5, &klen) != TP_P_OK ||
	    tp_key_long_term(TP_PWALG_SHA256, name, strlen(name), c->realm, strlen(c->realm),
	                     password, strlen(password), sha, &klen) != TP_P_OK) {
		free(u->name);
		free(u->password);
		return -EINVAL;
	}
	memcpy(u->key_md5, md5, sizeof(u->key_md5));
	memcpy(u->key_sha256, sha, sizeof(u->key_sha256));
	u->has_sha256 = true;
	c->nusers++;
	qsort(c->users, c->nusers, sizeof(*c->users), user_cmp);
	return build_userhash(c);
}

const struct tp_user *tp_conf_user_by_hash(const struct tp_conf *c, const uint8_t hash[32])
{
	size_t lo = 0, hi = c->userhash ? c->nusers : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = memcmp(hash, c->userhash[mid].hash, 32);

		if (r == 0)
			return &c->users[c->userhash[mid].user];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* ---- printing -------------------------------------------------------- */

/* A libconfig string literal. */
static void print_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void fmt_ip(const struct tp_addr *a, char *b, size_t cap)
{
	if (!inet_ntop(a->family == AF_INET ? AF_INET : AF_INET6, a->ip, b, (socklen_t)cap))
		snprintf(b, cap, "?");
}

static void print_elem(FILE *f, const struct tp_conf *c, const struct opt *o, size_t i,
                       unsigned flags)
{
	static const char *const pnames[] = { "?", "udp", "tcp", "tls", "dtls", "ws" };
	char ip[INET6_ADDRSTRLEN], ip2[INET6_ADDRSTRLEN], b[160];
	const void *v = (const char *)c + o->off;

	switch (o->type) {
	case T_LISTEN: {
		const struct tp_listen *l = &((const struct tp_listen *)v)[i];
		fmt_ip(&l->addr, ip, sizeof(ip));
		snprintf(b, sizeof(b), l->addr.family == AF_INET6 ? "%s:[%s]:%u" : "%s:%s:%u",
		         pnames[l->proto <= TP_LISTEN_WS ? l->proto : 0], ip, l->addr.port);
		break;
	}
	case T_EXTERNAL: {
		const struct tp_external_ip *e = &((const struct tp_external_ip *)v)[i];
		fmt_ip(&e->pub, ip, sizeof(ip));
		if (e->priv.family) {
			fmt_ip(&e->priv, ip2, sizeof(ip2));
			snprintf(b, sizeof(b), "%s/%s", ip, ip2);
		} else {
			snprintf(b, sizeof(b), "%s", ip);
		}
		break;
	}
	case T_ADDRS:
		fmt_ip(&((const struct tp_addr *)v)[i], b, sizeof(b));
		break;
	case T_HOSTPORTS:
		tp_addr_fmt(&((const struct tp_addr *)v)[i], b, sizeof(b));
		break;
	case T_CIDRS: {
		const struct tp_cidr *r = &((const struct tp_cidr *)v)[i];
		fmt_ip(&r->net, ip, sizeof(ip));
		snprintf(b, sizeof(b), "%s/%u", ip, r->prefix);
		break;
	}
	case T_SECRETS:
		print_str(f, flags & TP_CONF_SHOW_SECRETS ? ((char *const *)v)[i] : HIDDEN);
		return;
	default:
		snprintf(b, sizeof(b), "?");
	}
	print_str(f, b);
}

static void print_users(FILE *f, const struct tp_conf *c, unsigned flags)
{
	if (c->nusers == 0) {
		fputs("( )", f);
		return;
	}
	fputs("(\n", f);
	for (size_t i = 0; i < c->nusers; i++) {
		const struct tp_user *u = &c->users[i];
		fputs("\t{ name = ", f);
		print_str(f, u->name);
		if (u->password) {
			fputs("; password = ", f);
			print_str(f, flags & TP_CONF_SHOW_SECRETS ? u->password : HIDDEN);
		} else {
			char hex[35] = "0x";
			for (int k = 0; k < 16; k++)
				snprintf(hex + 2 + 2 * k, 3, "%02x", u->key_md5[k]);
			fputs("; key = ", f);
			print_str(f, flags & TP_CONF_SHOW_SECRETS ? hex : HIDDEN);
		}
		fprintf(f, "; }%s\n", i + 1 < c->nusers ? "," : "");
	}
	fputs(")", f);
}

static void print_value(FILE *f, const struct tp_conf *c, const struct opt *o, unsigned flags)
{
	const void *v = (const char *)c + o->off;

	switch (o->type) {
	case T_U32:
		fprintf(f, "%u", *(const uint32_t *)v);
		return;
	case T_PORT:
		fprintf(f, "%u", *(const uint16_t *)v);
		return;
	case T_BOOL:
		fputs(*(const bool *)v ? "true" : "false", f);
		return;
	case T_STR:
	case T_FILE_OF: {
		const char *s = *(char *const *)v ? *(char *const *)v : "";

		/* the admin token is a password: never in a printed configuration */
		if (s[0] && !(flags & TP_CONF_SHOW_SECRETS) && strcmp(o->name, "admin-token") == 0)
			s = HIDDEN;
		print_str(f, s);
		return;
	}
	case T_URL: {
		const char *u = *(char *const *)v ? *(char *const *)v : "";
		char masked[1100];
		if (!(flags & TP_CONF_SHOW_SECRETS)) {
			tp_redis_url_mask(u, masked, sizeof(masked));
			u = masked;
		}
		print_str(f, u);
		return;
	}
	case T_LOGLEVEL:
		print_str(f, tp_log_level_name(*(const int *)v));
		return;
	case T_LOGFORMAT:
		print_str(f, *(const bool *)v ? "json" : "text");
		return;
	case T_USERS:
		print_users(f, c, flags);
		return;
	default:
		break;
	}
	size_t n = *(const size_t *)(const void *)((const char *)c + o->cnt_off);
	if (n == 0) {
		fputs("[ ]", f);
		return;
	}
	fputs("[ ", f);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputs(", ", f);
		print_elem(f, c, o, i, flags);
	}
	fputs(" ]", f);
}

void tp_conf_write(const struct tp_conf *c, FILE *f, unsigned flags)
{
	fprintf(f, "# turnpike %s configuration%s%s\n", TP_VERSION,
	        c->path ? " loaded from " : " (built-in defaults)", c->path ? c->path : "");
	if (!(flags & TP_CONF_SHOW_SECRETS))
		fputs("# Passwords, keys and secrets are shown as \"" HIDDEN "\": replace them "
		      "before loading this file.\n", f);
	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt *o = &opts[i];
		fprintf(f, "\n# %s\n# default: %s", o->doc, o->def);
		if (o->type == T_U32 || o->type == T_PORT)
			fprintf(f, " (range %lld..%lld)", o->min, o->max);
		fprintf(f, "\n%s = ", o->name);
		print_value(f, c, o, flags);
		fputs(";\n", f);
	}
}

void tp_conf_print(const struct tp_conf *c, FILE *f)
{
	tp_conf_write(c, f, 0);
}

/* Passwords, keys, secrets and tokens: a diff says only "changed". */
static bool is_secret(const struct opt *o)
{
	return o->type == T_SECRETS || o->type == T_USERS || strcmp(o->name, "admin-token") == 0 ||
	       strcmp(o->name, "signal-token") == 0;
}

static char *value_text(const struct tp_conf *c, const struct opt *o, unsigned flags)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	print_value(f, c, o, flags);
	fclose(f);
	return buf;
}

size_t tp_conf_diff(const struct tp_conf *a, const struct tp_conf *b,
                    void (*fn)(void *arg, const char *line), void *arg)
{
	size_t changed = 0;

	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt *o = &opts[i];
		char *fa = value_text(a, o, TP_CONF_SHOW_SECRETS), *fb = value_text(b, o,
		                                                                     TP_CONF_SHOW_SECRETS);
		char *pa = NULL, *pb = NULL, line[600];

		if (fa && fb && strcmp(fa, fb) != 0) {
			changed++;
			pa = is_secret(o) ? NULL : value_text(a, o, 0);
			pb = is_secret(o) ? NULL : value_text(b, o, 0);
			/* a URL whose password alone changed prints the same both times */
			if (pa && pb && strcmp(pa, pb) != 0)
				snprintf(line, sizeof(line), "%s: %.280s -> %.280s", o->name, pa, pb);
			else
				snprintf(line, sizeof(line), "%s: changed", o->name);
			fn(arg, line);
		}
		if (fa)
			sodium_memzero_like(fa);
		if (fb)
			sodium_memzero_like(fb);
		free(fa);
		free(fb);
		free(pa);
		free(pb);
	}
	return changed;
}

void tp_conf_auth_mode(const struct tp_conf *c, bool demo, char *out, size_t cap)
{
	if (demo)
		snprintf(out, cap, "demo user (no users or static-auth-secret: for trying out only)");
	else if (c->nusers && c->nsecrets)
		snprintf(out, cap, "static users (%zu) and TURN REST secrets (%zu)", c->nusers,
		         c->nsecrets);
	else if (c->nusers)
		snprintf(out, cap, "static users (%zu)", c->nusers);
	else if (c->nsecrets)
		snprintf(out, cap, "TURN REST secrets (%zu)", c->nsecrets);
	else if (c->redis && c->redis[0])
		snprintf(out, cap, "users and secrets from Redis only");
	else
		snprintf(out, cap, "none: every allocation is refused (set users or "
		         "static-auth-secret)");
}

void tp_conf_public_addr(const struct tp_conf *c, const struct tp_addr *in, struct tp_addr *out)
{
	*out = *in;
	for (size_t i = 0; i < c->nexternal; i++) {
		const struct tp_external_ip *e = &c->external[i];

		if (e->pub.family != in->family)
			continue;
		if (e->priv.family && !tp_addr_ip_eq(&e->priv, in))
			continue;
		memcpy(out->ip, e->pub.ip, sizeof(out->ip));
		return;
	}
}

/* ---- the manual page ------------------------------------------------- */

/* Text for roff: backslash as \e, '-' as \- (a minus to copy and paste), and
 * a zero-width \& before a leading '.' or '\'' so no line becomes a request. */
static void man_text(FILE *f, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else if (*s == '\n')
			fputs("\n.br\n", f);
		else
			fputc(*s, f);
	}
}

/* What an option's value is, from its type and bounds. */
static void man_type(FILE *f, const struct opt *o)
{
	switch (o->type) {
	case T_U32:
		fprintf(f, "integer, %lld to %lld", o->min, o->max);
		break;
	case T_PORT:
		fprintf(f, "port number, %lld to %lld", o->min, o->max);
		break;
	case T_BOOL:
		fputs("boolean (true or false)", f);
		break;
	case T_STR:
		if (o->min > 0)
			fprintf(f, "string, %lld to %lld bytes", o->min, o->max);
		else
			fprintf(f, "string, at most %lld bytes", o->max);
		break;
	case T_LOGLEVEL:
		fputs("string: \"error\", \"warn\", \"info\" or \"debug\"", f);
		break;
	case T_URL:
		fprintf(f, "URL string, at most %lld bytes", o->max);
		break;
	case T_FILE_OF:
		fprintf(f, "file name, at most %lld bytes", o->max);
		break;
	case T_LISTEN:
		fprintf(f, "list of \"PROTO:ADDR:PORT\" strings, %lld to %lld entries", o->min,
		        o->max);
		break;
	case T_EXTERNAL:
		fprintf(f, "list of \"PUBLIC\" or \"PUBLIC/PRIVATE\" addresses, at most %lld", o->max);
		break;
	case T_ADDRS:
		fprintf(f, "list of IP addresses, at most %lld", o->max);
		break;
	case T_CIDRS:
		fprintf(f, "list of address ranges (\"ADDR/PREFIX\"), at most %lld", o->max);
		break;
	case T_SECRETS:
		fprintf(f, "list of strings, at most %lld", o->max);
		break;
	case T_USERS:
		fprintf(f, "list of groups, at most %lld", o->max);
		break;
	default:
		fputs("see the description", f);
		break;
	}
}

void tp_conf_man(FILE *f)
{
	fputs(".\\\" turnpike.conf(5): generated from the option table in server/conf.c\n"
	      ".\\\" by tp_conf_man() at build time; edit the table, not this page.\n", f);
	fprintf(f, ".TH TURNPIKE.CONF 5 \"\" \"turnpike %s\" \"File Formats\"\n", TP_VERSION);
	fputs(".SH NAME\n"
	      "turnpike.conf \\- configuration of the turnpike STUN/TURN server\n"
	      ".SH SYNOPSIS\n"
	      ".B /etc/turnpike/turnpike.conf\n"
	      ".SH DESCRIPTION\n"
	      "The configuration file of\n.BR turnpike (8),\n"
	      "in libconfig syntax: one \\fIname\\fR \\fB=\\fR \\fIvalue\\fR\\fB;\\fR per option,\n"
	      "\\fB#\\fR comments, strings in double quotes, lists as\n"
	      "\\fB[ \"a\", \"b\" ]\\fR and groups as \\fB{ key = value; }\\fR.\n"
	      "Every option is optional: a missing option has the default shown below.\n"
	      ".PP\n"
	      "An unknown option, a value of the wrong type or out of range, and the options\n"
	      "that contradict each other stop the server at start with a message naming the\n"
	      "file, the line and the option, e.g.\n"
	      ".RS\n.EX\n"
	      "turnpike.conf:12: max\\-port: 70000 is out of range (expected 1024..65535)\n"
	      ".EE\n.RE\n"
	      ".PP\n"
	      "An unknown option is answered with the closest known one (\\(lqdid you mean\\(rq),\n"
	      "or, for an option of coturn, with turnpike's equivalent; a coturn\n"
	      ".I turnserver.conf\n"
	      "is recognised and refused (see MIGRATING\\-FROM\\-COTURN.md).\n"
	      ".PP\n"
	      "Every option can also be given in the environment as\n"
	      ".BI TURNPIKE_ OPTION\n"
	      "(upper case, \\- as _) or on the command line as\n"
	      ".BI \\-\\-set \" option\" = value\\fR;\n"
	      "see\n.BR turnpike (8).\n"
	      "An option named \\fIX\\fB\\-file\\fR gives a file whose content is the value of\n"
	      "\\fIX\\fR (secrets kept out of this file, the environment and the process list).\n"
	      ".PP\n"
	      "A reload (SIGHUP) reads the file again (and applies the environment and\n"
	      "the command line over it) and logs every option that changed, secrets only as\n"
	      "changed; a file that does not load is logged and the running configuration is\n"
	      "kept.\n"
	      ".B turnpike \\-\\-check\\-config\n"
	      "loads everything a start loads and prints what would be served.\n"
	      ".B turnpike \\-\\-print\\-config\n"
	      "prints the effective configuration with every option, its description and its\n"
	      "default; passwords, keys and secrets are shown as \\(lq<hidden>\\(rq.\n"
	      ".SH OPTIONS\n", f);
	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt *o = &opts[i];

		fputs(".TP\n.B ", f);
		man_text(f, o->name);
		fputs("\n", f);
		man_text(f, o->doc);
		fputs(".\n.br\n", f);
		fputs("Value: ", f);
		man_type(f, o);
		fputs(". Default: \\fB", f);
		man_text(f, o->def);
		fputs("\\fR\n", f);
	}
	fputs(".SH FILES\n"
	      ".TP\n.I /etc/turnpike/turnpike.conf\n"
	      "The configuration the packaged systemd unit starts the server with.\n"
	      ".SH EXAMPLES\n"
	      "A TURN server on UDP and TCP 3478 and TLS on 443, with TURN REST credentials:\n"
	      ".RS\n.EX\n"
	      "listen = [ \"udp:0.0.0.0:3478\", \"tcp:0.0.0.0:3478\", \"tls:0.0.0.0:443\" ];\n"
	      "realm = \"turn.example.com\";\n"
	      "static\\-auth\\-secret = [ \"a long random string\" ];\n"
	      "tls\\-cert = \"/etc/turnpike/fullchain.pem\";\n"
	      "tls\\-key = \"/etc/turnpike/privkey.pem\";\n"
	      ".EE\n.RE\n"
	      ".SH SEE ALSO\n"
	      ".BR turnpike (8),\n"
	      ".BR turnpikectl (1)\n", f);
}
