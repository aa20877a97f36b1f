/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * conf.c - the configuration: one table (opts[] below) drives libconfig
 * parsing, type and bound checks, the defaults, the command-line overrides and
 * --print-config. This file holds the table and the load; conf_priv.h lists
 * the other parts of the module.
 *
 * Loading: the defaults (each option's libconfig literal from the table) are
 * parsed and applied through the same code as a file, then the file, then the
 * command-line overrides; a final pass checks what spans options (min-port <=
 * max-port, default-lifetime <= max-lifetime) and computes the users' keys with
 * the final realm. Every error is fatal and names file and line:
 *   turnpike.conf:12: max-port: 70000 is out of range (expected 1024..65535)
 *
 * Printing (conf_print.c) writes libconfig that loads again. Passwords, keys
 * and shared secrets are printed as "<hidden>" unless TP_CONF_SHOW_SECRETS is
 * given, and the loader refuses that placeholder, so a printed config with
 * credentials cannot be loaded back by mistake with the placeholder as a
 * password.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libconfig.h>

#include "conf_priv.h"
#include "redis_url.h"

#define MAX_USERS 100000

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
	  "first-byte demultiplexing); a tls: listener also serves plain TCP. A tcp: or tls: "
	  "listener followed by \" proxy-protocol\" (\"tls:0.0.0.0:443 proxy-protocol\") takes "
	  "connections only from proxy-trusted sources, each starting with a PROXY protocol v1 "
	  "or v2 header (HAProxy send-proxy, send-proxy-v2): the client address in it is the one "
	  "the server uses" },
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
	{ "proxy-trusted", T_CIDRS, F(proxy_trusted), F(nproxy_trusted), 0, TP_CONF_MAX_CIDRS,
	  "[ ]",
	  "source ranges of the load balancers (e.g. \"10.0.0.0/8\") that connect to "
	  "proxy-protocol listeners; others are closed there, and a PROXY header on any other "
	  "listener is refused. Needed by a proxy-protocol listener" },
	{ "mobility", T_BOOL, F(mobility), 0, 0, 0, "false",
	  "RFC 8016 mobility (MOBILITY-TICKET)" },
	{ "legacy-channels", T_BOOL, F(legacy_channels), 0, 0, 0, "false",
	  "accept channel numbers 0x5000-0x7FFF (RFC 5766's range, which RFC 8656 withdrew; "
	  "coturn's turnutils_uclient still uses it)" },
	{ "kernel-offload", T_BOOL, F(kernel_offload), 0, 0, 0, "false",
	  "relay ChannelData of UDP clients with UDP relays in the kernel (eBPF at TC ingress; "
	  "needs root or CAP_BPF + CAP_NET_ADMIN; allocations under max-bps or user-max-bps "
	  "stay in user space; docs/OFFLOAD.md); changed by a restart only" },
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

const struct opt *const tp_cfg_opts = opts;
const size_t tp_cfg_nopts = NOPTS;

/* fail() (conf_priv.h): "FILE:LINE: OPTION: message". Always returns -1. */
int tp_cfg_vfail(struct ld *ld, const config_setting_t *s, const char *opt, const char *fmt,
                 va_list ap)
{
	const char *file = s ? config_setting_source_file(s) : NULL;
	size_t n = 0;
	int r;

	if (!ld->err || ld->errlen == 0)
		return -1;
	if (ld->label) {
		r = snprintf(ld->err, ld->errlen, "%s: ", ld->label);
		n = r < 0 ? 0 : (size_t)r;
		if (n < ld->errlen) {
			vsnprintf(ld->err + n, ld->errlen - n, fmt, ap);
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
		vsnprintf(ld->err + n, ld->errlen - n, fmt, ap);
	}
	return -1;
}

/* ---- loading -------------------------------------------------------- */

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
			return fail(ld, s, name, "%s", tp_cfg_unknown_why(name, why, sizeof(why)));
		if (tp_cfg_apply(ld, o, s))
			return -1;
		ld->from[o - opts] = from;
		ld->src[o - opts] = from == FROM_FILE ? s : NULL;
	}
	return 0;
}

int tp_cfg_read_doc(struct ld *ld, config_t *cfg, const char *path)
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
		int at = path ? tp_cfg_coturn_line(path, name, sizeof(name)) : 0;

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
		tp_cfg_clear_list(ld->c, o);
		for (size_t j = 0; j < n; j++)
			if (tp_cfg_add_list_elem(ld, o, v[j], NULL))
				return -1;
		ld->from[o - opts] = FROM_CMDLINE;
		ld->src[o - opts] = NULL;
	}
	if (ov->realm) {
		const struct opt *o = find_opt("realm");
		if (tp_cfg_apply_string(ld, o, NULL, ov->realm))
			return -1;
		ld->from[o - opts] = FROM_CMDLINE;
		ld->src[o - opts] = NULL;
	}
	if (ov->log_level) {
		const struct opt *o = find_opt("log-level");
		if (tp_cfg_apply_string(ld, o, NULL, ov->log_level))
			return -1;
		ld->from[o - opts] = FROM_CMDLINE;
		ld->src[o - opts] = NULL;
	}
	return 0;
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
	tp_cfg_set_origin(ld, o);
	return fail(ld, ld->src[i], o->name, "%s", msg);
}

/* Of two options, the one a user set (file or command line), preferring b. */
static const struct opt *blame(const struct ld *ld, const char *a, const char *b)
{
	const struct opt *oa = find_opt(a), *ob = find_opt(b);

	return ld->from[ob - opts] != FROM_DEFAULT || ld->from[oa - opts] == FROM_DEFAULT ? ob : oa;
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
			tp_cfg_clear_list(ld->c, t);
			for (char *p = buf, *e; !rc && p && *p; p = e) {
				e = strchr(p, '\n');
				if (e)
					*e++ = '\0';
				if (*p && p[strlen(p) - 1] == '\r')
					p[strlen(p) - 1] = '\0';
				if (*p)
					rc = tp_cfg_add_list_elem(ld, t, p, NULL);
			}
			if (!rc && *count(ld->c, t) == 0)
				rc = fail(ld, NULL, NULL, "no secret in it (expected one per line)");
		} else if (strchr(buf, '\n')) {
			rc = fail(ld, NULL, NULL, "more than one line (expected the %s only)", t->name);
		} else if (!buf[0]) {
			rc = fail(ld, NULL, NULL, "empty (expected the %s)", t->name);
		} else {
			rc = tp_cfg_apply_string(ld, t, NULL, buf);
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
		tp_cfg_fmt_ip(&e->pub, pub, sizeof(pub));
		tp_cfg_fmt_ip(&e->priv, priv, sizeof(priv));
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
	if (tp_cfg_load_users_file(ld))
		return -1;
	if (check_redis(ld) || check_listeners(ld))
		return -1;
	for (size_t i = 0; i < c->nlisten; i++)
		if (c->listen[i].proxy && !c->nproxy_trusted)
			return fail_at(ld, find_opt("listen"), "a proxy-protocol listener needs "
			               "proxy-trusted (the load balancers' source ranges)");

	if (c->min_port > c->max_port)
		return fail_at(ld, blame(ld, "min-port", "max-port"),
		               "min-port %u > max-port %u (expected min-port <= max-port)",
		               c->min_port, c->max_port);
	if (c->default_lifetime > c->max_lifetime)
		return fail_at(ld, blame(ld, "default-lifetime", "max-lifetime"),
		               "default-lifetime %u > max-lifetime %u (expected default-lifetime "
		               "<= max-lifetime)", c->default_lifetime, c->max_lifetime);
	return tp_cfg_finish_users(ld);
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
	if (tp_cfg_read_doc(&ld, &defs, NULL) || apply_root(&ld, &defs, FROM_DEFAULT))
		goto out;
	if (path) {
		ld.origin = path;
		if (!(ld.c->path = strdup(path))) {
			fail(&ld, NULL, NULL, "out of memory");
			goto out;
		}
		if (tp_cfg_read_doc(&ld, &file, path) || apply_root(&ld, &file, FROM_FILE))
			goto out;
	}
	if (ov && ov->env && tp_cfg_apply_env(&ld, ov->env))
		goto out;
	if (ov && apply_overrides(&ld, ov))
		goto out;
	if (ov && tp_cfg_apply_sets(&ld, ov->set, ov->nset))
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
	tp_cfg_free_users(c);
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
			tp_cfg_clear_list(c, o);
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
	else if (c->opt_from[i] == FROM_ENV)
		snprintf(buf, n, "environment");
	else if (c->opt_from[i] == FROM_SET)
		snprintf(buf, n, "--set");
	else if (c->opt_line[i])
		snprintf(buf, n, "%s:%u", c->path ? c->path : "?", c->opt_line[i]);
	else
		snprintf(buf, n, "%s", c->path ? c->path : "?");
	return buf;
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
