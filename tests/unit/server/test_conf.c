/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_conf.c - configuration loading: defaults, a file with every option,
 * each kind of error with its "file:line: option:" message, command-line
 * overrides, print -> load round trips, users' keys, and the shipped
 * conf/turnpike.conf. Files are written to a temporary directory.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tp_test.h"
#include "conf.h"
#include "log.h"

#ifndef TP_VECTORS_DIR
#define TP_VECTORS_DIR "tests/vectors"
#endif

static char tmpdir[256];
static int nfiles;

/* Write text to a new file in tmpdir; returns its path (static buffer ring). */
static const char *write_file(const char *text)
{
	static char paths[4][300];
	char *p = paths[nfiles % 4];
	FILE *f;

	snprintf(p, sizeof(paths[0]), "%s/t%d.conf", tmpdir, nfiles++);
	f = fopen(p, "w");
	if (!f) {
		perror(p);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
	return p;
}

static struct tp_conf *load_text(const char *text, const struct tp_conf_overrides *ov,
                                 char *err, size_t errlen)
{
	struct tp_conf *c = NULL;
	const char *path = write_file(text);

	if (tp_conf_load(path, ov, &c, err, errlen) != 0)
		return NULL;
	return c;
}

static struct tp_addr ip(const char *s, uint16_t port)
{
	struct tp_addr a = { 0 };

	if (inet_pton(AF_INET, s, a.ip) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, s, a.ip) == 1)
		a.family = AF_INET6;
	a.port = port;
	return a;
}

static bool addr_is(const struct tp_addr *a, const char *s, uint16_t port)
{
	struct tp_addr b = ip(s, port);

	return a->family == b.family && a->port == b.port && memcmp(a->ip, b.ip, 16) == 0;
}

static bool same_addr(const struct tp_addr *a, const struct tp_addr *b)
{
	return a->family == b->family && a->port == b->port && memcmp(a->ip, b->ip, 16) == 0;
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Every field but path. */
static bool conf_eq(const struct tp_conf *a, const struct tp_conf *b)
{
	bool eq = a->nlisten == b->nlisten && a->nexternal == b->nexternal &&
	          a->nrelay_ip == b->nrelay_ip && a->min_port == b->min_port &&
	          a->max_port == b->max_port && str_eq(a->realm, b->realm) &&
	          str_eq(a->software, b->software) && a->log_level == b->log_level &&
	          a->nusers == b->nusers && a->nsecrets == b->nsecrets &&
	          a->demo_user == b->demo_user && a->nonce_lifetime == b->nonce_lifetime &&
	          a->default_lifetime == b->default_lifetime &&
	          a->max_lifetime == b->max_lifetime && a->user_quota == b->user_quota &&
	          a->total_quota == b->total_quota && a->max_permissions == b->max_permissions &&
	          a->max_channels == b->max_channels && a->unauth_rate == b->unauth_rate &&
	          a->unauth_burst == b->unauth_burst &&
	          a->nallowed_peers == b->nallowed_peers &&
	          a->ndenied_peers == b->ndenied_peers && a->mobility == b->mobility &&
	          str_eq(a->tls_cert, b->tls_cert) && str_eq(a->tls_key, b->tls_key) &&
	          a->max_connections == b->max_connections &&
	          a->max_connections_per_ip == b->max_connections_per_ip &&
	          a->handshake_timeout == b->handshake_timeout &&
	          a->idle_timeout == b->idle_timeout && a->stream_buffer == b->stream_buffer &&
	          a->nat_discovery == b->nat_discovery && a->nother_ip == b->nother_ip &&
	          a->other_port == b->other_port &&
	          a->max_peer_connections == b->max_peer_connections &&
	          a->max_dtls_sessions == b->max_dtls_sessions &&
	          (a->nother_ip == 0 || same_addr(&a->other_ip[0], &b->other_ip[0]));

	for (size_t i = 0; eq && i < a->nlisten; i++)
		eq = a->listen[i].proto == b->listen[i].proto &&
		     a->listen[i].proxy == b->listen[i].proxy &&
		     same_addr(&a->listen[i].addr, &b->listen[i].addr);
	eq = eq && a->nproxy_trusted == b->nproxy_trusted;
	for (size_t i = 0; eq && i < a->nproxy_trusted; i++)
		eq = same_addr(&a->proxy_trusted[i].net, &b->proxy_trusted[i].net) &&
		     a->proxy_trusted[i].prefix == b->proxy_trusted[i].prefix;
	for (size_t i = 0; eq && i < a->nexternal; i++)
		eq = same_addr(&a->external[i].pub, &b->external[i].pub) &&
		     same_addr(&a->external[i].priv, &b->external[i].priv);
	for (size_t i = 0; eq && i < a->nrelay_ip; i++)
		eq = same_addr(&a->relay_ip[i], &b->relay_ip[i]);
	for (size_t i = 0; eq && i < a->nsecrets; i++)
		eq = str_eq(a->secrets[i], b->secrets[i]);
	for (size_t i = 0; eq && i < a->nallowed_peers; i++)
		eq = same_addr(&a->allowed_peers[i].net, &b->allowed_peers[i].net) &&
		     a->allowed_peers[i].prefix == b->allowed_peers[i].prefix;
	for (size_t i = 0; eq && i < a->ndenied_peers; i++)
		eq = same_addr(&a->denied_peers[i].net, &b->denied_peers[i].net) &&
		     a->denied_peers[i].prefix == b->denied_peers[i].prefix;
	for (size_t i = 0; eq && i < a->nusers; i++)
		eq = str_eq(a->users[i].name, b->users[i].name) &&
		     str_eq(a->users[i].password, b->users[i].password) &&
		     memcmp(a->users[i].key_md5, b->users[i].key_md5, 16) == 0 &&
		     a->users[i].has_sha256 == b->users[i].has_sha256 &&
		     memcmp(a->users[i].key_sha256, b->users[i].key_sha256, 32) == 0;
	return eq;
}

static void test_defaults(void)
{
	struct tp_conf *c = NULL;
	char err[512];

	CHECK_EQ(tp_conf_load(NULL, NULL, &c, err, sizeof(err)), 0);
	if (!c) {
		fprintf(stderr, "defaults: %s\n", err);
		tp_test_fails++;
		return;
	}
	CHECK(c->path == NULL);
	CHECK_EQ(c->nlisten, 2);
	CHECK_EQ(c->listen[0].proto, TP_LISTEN_UDP);
	CHECK(addr_is(&c->listen[0].addr, "0.0.0.0", 3478));
	CHECK_EQ(c->listen[1].proto, TP_LISTEN_UDP);
	CHECK(addr_is(&c->listen[1].addr, "::", 3478));
	CHECK_EQ(c->nexternal, 0);
	CHECK_EQ(c->nrelay_ip, 0);
	CHECK_EQ(c->min_port, 49152);
	CHECK_EQ(c->max_port, 65535);
	CHECK(str_eq(c->realm, "turnpike"));
	CHECK(c->software && strncmp(c->software, "turnpike/", 9) == 0);
	CHECK_EQ(c->log_level, TP_LOG_INFO);
	CHECK_EQ(c->nusers, 0);
	CHECK_EQ(c->nsecrets, 0);
	CHECK(c->demo_user);
	CHECK_EQ(c->nonce_lifetime, 600);
	CHECK_EQ(c->default_lifetime, 600);
	CHECK_EQ(c->max_lifetime, 3600);
	CHECK_EQ(c->user_quota, 100);
	CHECK_EQ(c->total_quota, 10000);
	CHECK_EQ(c->max_permissions, 128);
	CHECK_EQ(c->max_channels, 128);
	CHECK_EQ(c->unauth_rate, 50);
	CHECK_EQ(c->unauth_burst, 100);
	CHECK_EQ(c->nallowed_peers, 0);
	CHECK_EQ(c->ndenied_peers, 0);
	CHECK(!c->mobility);
	CHECK(tp_conf_user(c, "alice", 5) == NULL);
	tp_conf_free(c);

	/* An empty file is the defaults too. */
	c = load_text("# nothing\n", NULL, err, sizeof(err));
	CHECK(c != NULL);
	if (c) {
		struct tp_conf *d = NULL;
		CHECK_EQ(tp_conf_load(NULL, NULL, &d, err, sizeof(err)), 0);
		CHECK(d && conf_eq(c, d));
		CHECK(c->path && strstr(c->path, ".conf"));
		tp_conf_free(d);
	}
	tp_conf_free(c);
}

static const char full_conf[] =
	"listen = [ \"udp:127.0.0.1:3478\", \"tcp:[::1]:3479\", \"tls:127.0.0.1\",\n"
	"           \"dtls:[::1]\", \"127.0.0.2\", \"[::1]:4000\" ];\n"
	"external-ip = [ \"203.0.113.5\", \"2001:db8::5\", \"198.51.100.7/10.0.0.5\" ];\n"
	"relay-ip = [ \"10.0.0.5\", \"fd00::5\" ];\n"
	"min-port = 40000;\n"
	"max-port = 40999;\n"
	"realm = \"example.org\";\n"
	"software = \"\";\n"
	"log-level = \"debug\";\n"
	"users = (\n"
	"  { name = \"alice\"; password = \"secret\"; },\n"
	"  { name = \"bob\"; key = \"0x000102030405060708090A0B0C0D0E0f\"; },\n"
	"  { name = \"carol\"; password = \"p\\\"w\\\\x\"; }\n"
	");\n"
	"static-auth-secret = [ \"s1\", \"s2\" ];\n"
	"demo-user = false;\n"
	"nonce-lifetime = 300;\n"
	"default-lifetime = 120;\n"
	"max-lifetime = 7200;\n"
	"user-quota = 0;\n"
	"total-quota = 500;\n"
	"max-permissions = 10;\n"
	"max-channels = 4096;\n"
	"unauth-rate = 0;\n"
	"unauth-burst = 7;\n"
	"allowed-peer = [ \"127.0.0.0/8\", \"fd00::/8\", \"10.1.2.3\" ];\n"
	"denied-peer = [ \"10.9.0.0/16\" ];\n"
	"mobility = true;\n"
	"tls-cert = \"/etc/turnpike/cert.pem\";\n"
	"tls-key = \"/etc/turnpike/key.pem\";\n"
	"max-connections = 20;\n"
	"max-connections-per-ip = 0;\n"
	"handshake-timeout = 5;\n"
	"idle-timeout = 100;\n"
	"stream-buffer = 65536;\n"
	"nat-discovery = true;\n"
	"other-ip = [ \"192.0.2.2\" ];\n"
	"other-port = 3479;\n";

static void check_key(const struct tp_user *u, const char *realm)
{
	uint8_t k[TP_KEY_MAX];
	size_t n = 0;

	CHECK_EQ(tp_key_long_term(TP_PWALG_MD5, u->name, strlen(u->name), realm, strlen(realm),
	                          u->password, strlen(u->password), k, &n), TP_P_OK);
	CHECK_EQ(n, 16);
	CHECK_MEM(u->key_md5, k, 16);
	CHECK_EQ(tp_key_long_term(TP_PWALG_SHA256, u->name, strlen(u->name), realm,
	                          strlen(realm), u->password, strlen(u->password), k, &n),
	         TP_P_OK);
	CHECK_EQ(n, 32);
	CHECK(u->has_sha256);
	CHECK_MEM(u->key_sha256, k, 32);
}

static void test_full(void)
{
	char err[512] = "";
	struct tp_conf *c = load_text(full_conf, NULL, err, sizeof(err));
	const struct tp_user *u;

	CHECK(c != NULL);
	if (!c) {
		fprintf(stderr, "full: %s\n", err);
		return;
	}
	CHECK_EQ(c->nlisten, 6);
	CHECK_EQ(c->listen[0].proto, TP_LISTEN_UDP);
	CHECK(addr_is(&c->listen[0].addr, "127.0.0.1", 3478));
	CHECK_EQ(c->listen[1].proto, TP_LISTEN_TCP);
	CHECK(addr_is(&c->listen[1].addr, "::1", 3479));
	CHECK_EQ(c->listen[2].proto, TP_LISTEN_TLS);
	CHECK(addr_is(&c->listen[2].addr, "127.0.0.1", 5349));
	CHECK_EQ(c->listen[3].proto, TP_LISTEN_DTLS);
	CHECK(addr_is(&c->listen[3].addr, "::1", 5349));
	CHECK_EQ(c->listen[4].proto, TP_LISTEN_UDP);
	CHECK(addr_is(&c->listen[4].addr, "127.0.0.2", 3478));
	CHECK_EQ(c->listen[5].proto, TP_LISTEN_UDP);
	CHECK(addr_is(&c->listen[5].addr, "::1", 4000));

	CHECK_EQ(c->nexternal, 3);
	CHECK(addr_is(&c->external[0].pub, "203.0.113.5", 0));
	CHECK_EQ(c->external[0].priv.family, 0);
	CHECK(addr_is(&c->external[1].pub, "2001:db8::5", 0));
	CHECK(addr_is(&c->external[2].pub, "198.51.100.7", 0));
	CHECK(addr_is(&c->external[2].priv, "10.0.0.5", 0));
	CHECK_EQ(c->nrelay_ip, 2);
	CHECK(addr_is(&c->relay_ip[0], "10.0.0.5", 0));
	CHECK(addr_is(&c->relay_ip[1], "fd00::5", 0));
	CHECK_EQ(c->min_port, 40000);
	CHECK_EQ(c->max_port, 40999);
	CHECK(str_eq(c->realm, "example.org"));
	CHECK(str_eq(c->software, ""));
	CHECK_EQ(c->log_level, TP_LOG_DEBUG);

	CHECK_EQ(c->nusers, 3);
	u = tp_conf_user(c, "alice", 5);
	CHECK(u && str_eq(u->password, "secret"));
	if (u)
		check_key(u, "example.org");
	u = tp_conf_user(c, "bobby", 3);         /* length-delimited */
	CHECK(u && str_eq(u->name, "bob") && u->password == NULL && !u->has_sha256);
	if (u) {
		static const uint8_t k[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
		CHECK_MEM(u->key_md5, k, 16);
	}
	u = tp_conf_user(c, "carol", 5);
	CHECK(u && str_eq(u->password, "p\"w\\x"));
	if (u)
		check_key(u, "example.org");
	CHECK(tp_conf_user(c, "al", 2) == NULL);
	CHECK(tp_conf_user(c, "alice2", 6) == NULL);
	CHECK(tp_conf_user(c, "", 0) == NULL);

	CHECK_EQ(c->nsecrets, 2);
	CHECK(str_eq(c->secrets[0], "s1") && str_eq(c->secrets[1], "s2"));
	CHECK(!c->demo_user);
	CHECK_EQ(c->nonce_lifetime, 300);
	CHECK_EQ(c->default_lifetime, 120);
	CHECK_EQ(c->max_lifetime, 7200);
	CHECK_EQ(c->user_quota, 0);
	CHECK_EQ(c->total_quota, 500);
	CHECK_EQ(c->max_permissions, 10);
	CHECK_EQ(c->max_channels, 4096);
	CHECK_EQ(c->unauth_rate, 0);
	CHECK_EQ(c->unauth_burst, 7);
	CHECK_EQ(c->nallowed_peers, 3);
	CHECK(addr_is(&c->allowed_peers[0].net, "127.0.0.0", 0));
	CHECK_EQ(c->allowed_peers[0].prefix, 8);
	CHECK(addr_is(&c->allowed_peers[1].net, "fd00::", 0));
	CHECK_EQ(c->allowed_peers[1].prefix, 8);
	CHECK_EQ(c->allowed_peers[2].prefix, 32);
	CHECK_EQ(c->ndenied_peers, 1);
	CHECK_EQ(c->denied_peers[0].prefix, 16);
	CHECK(c->mobility);
	CHECK(str_eq(c->tls_cert, "/etc/turnpike/cert.pem"));
	CHECK(str_eq(c->tls_key, "/etc/turnpike/key.pem"));
	CHECK_EQ(c->max_connections, 20);
	CHECK_EQ(c->max_connections_per_ip, 0);
	CHECK_EQ(c->handshake_timeout, 5);
	CHECK_EQ(c->idle_timeout, 100);
	CHECK_EQ(c->stream_buffer, 65536);
	CHECK(c->nat_discovery);
	CHECK_EQ(c->nother_ip, 1);
	CHECK(addr_is(&c->other_ip[0], "192.0.2.2", 0));
	CHECK_EQ(c->other_port, 3479);
	tp_conf_free(c);
}

struct ecase {
	const char *text;
	const char *want;   /* expected after the file name: ":LINE: option: ..." */
};

static const struct ecase errors[] = {
	/* unknown options */
	{ "realm = \"x\";\nfoo = 1;\n", ":2: foo: unknown option" },
	{ "relay = { min-port = 1; };\n", ":1: relay: unknown option" },
	{ "users = (\n { name = \"a\";\n   pass = \"x\"; }\n);\n",
	  ":3: users: unknown option \"pass\" in a user" },
	/* wrong types */
	{ "\nmax-port = \"65535\";\n", ":2: max-port: wrong type: a string (expected an integer" },
	{ "max-port = 6e4;\n", ":1: max-port: wrong type: a float" },
	{ "mobility = 1;\n", ":1: mobility: wrong type: an integer (expected true or false)" },
	{ "realm = 5;\n", ":1: realm: wrong type: an integer (expected a string)" },
	{ "listen = \"udp:127.0.0.1\";\n", ":1: listen: wrong type: a string (expected a list" },
	{ "relay-ip = ( \"10.0.0.1\",\n 5 );\n", ":2: relay-ip: wrong type: an integer in the list" },
	{ "users = { name = \"a\"; };\n", ":1: users: wrong type: a group (expected a list" },
	{ "users = ( \"alice\" );\n", ":1: users: wrong type: a string (expected a group" },
	{ "users = ( { name = \"a\"; password = 5; } );\n", ":1: users: password: wrong type" },
	/* out of range */
	{ "\n\nmax-port = 70000;\n", ":3: max-port: 70000 is out of range (expected 1024..65535)" },
	{ "min-port = 80;\n", ":1: min-port: 80 is out of range (expected 1024..65535)" },
	{ "max-lifetime = 10;\n", ":1: max-lifetime: 10 is out of range (expected 60..86400)" },
	{ "max-channels = 5000;\n", ":1: max-channels: 5000 is out of range" },
	{ "unauth-burst = 0;\n", ":1: unauth-burst: 0 is out of range" },
	{ "other-ip = [ \"192.0.2.2\", \"192.0.2.3\" ];\n",
	  ":1: other-ip: too many entries (expected at most 1)" },
	{ "user-quota = -1;\n", ":1: user-quota: -1 is out of range" },
	{ "log-level = \"verbose\";\n", ":1: log-level: \"verbose\" is not a log level" },
	{ "realm = \"\";\n", ":1: realm: empty" },
	{ "listen = [ ];\n", ":1: listen: empty (expected at least 1 entries)" },
	{ "static-auth-secret = [ \"1\", \"2\", \"3\", \"4\", \"5\", \"6\", \"7\", \"8\", \"9\" ];\n",
	  ":1: static-auth-secret: too many entries (expected at most 8)" },
	{ "static-auth-secret = [ \"\" ];\n", ":1: static-auth-secret: \"\": an empty secret" },
	/* cross-option */
	{ "min-port = 60000;\nmax-port = 50000;\n",
	  ":2: max-port: min-port 60000 > max-port 50000 (expected min-port <= max-port)" },
	{ "max-port = 2000;\n", ":1: max-port: min-port 49152 > max-port 2000" },
	{ "default-lifetime = 4000;\n",
	  ":1: default-lifetime: default-lifetime 4000 > max-lifetime 3600" },
	/* bad ranges and addresses */
	{ "allowed-peer = [ \"10.0.0.0/8\",\n  \"10.0.0.0/33\" ];\n",
	  ":2: allowed-peer: \"10.0.0.0/33\": not an address range" },
	{ "denied-peer = [ \"10.0.0.1/8\" ];\n",
	  ":1: denied-peer: \"10.0.0.1/8\": bits set past the prefix length" },
	{ "denied-peer = [ \"example.com\" ];\n", ":1: denied-peer: \"example.com\": not an" },
	{ "relay-ip = [ \"1.2.3\" ];\n", ":1: relay-ip: \"1.2.3\": not an IP address" },
	{ "relay-ip = [ \"1.2.3.4:5\" ];\n", ":1: relay-ip: \"1.2.3.4:5\": not an IP address" },
	{ "listen = [ \"udp:127.0.0.1:99999\" ];\n", ":1: listen: \"udp:127.0.0.1:99999\": not a" },
	{ "listen = [ \"sctp:127.0.0.1\" ];\n", ":1: listen: \"sctp:127.0.0.1\": not a" },
	{ "listen = [ \"udp:127.0.0.1:0\" ];\n", ":1: listen: \"udp:127.0.0.1:0\": not a" },
	/* listeners that collide (issue 17): both places named */
	{ "listen = [ \"udp:127.0.0.1:3478\",\n \"tcp:127.0.0.1:3478\",\n \"udp:127.0.0.1:3478\" ];\n",
	  ":3: listen: \"udp:127.0.0.1:3478\": address and port already taken by the udp: listener "
	  "at %s:1 (a duplicate: remove one)" },
	{ "listen = [ \"tcp:[::1]:443\", \"tls:[::1]:443\" ];\n",
	  ":1: listen: \"tls:[::1]:443\": address and port already taken by the tcp: listener at "
	  "%s:1 (a tls: listener also serves plain TURN over TCP on its port: keep only the tls: "
	  "one)" },
	{ "listen = [ \"ws:127.0.0.1:8080\",\n\n \"tcp:127.0.0.1:8080\" ];\n",
	  ":3: listen: \"tcp:127.0.0.1:8080\": address and port already taken by the ws: listener "
	  "at %s:1 (ws: needs a TCP port of its own)" },
	{ "listen = [ \"dtls:127.0.0.1:5349\", \"udp:127.0.0.1:5349\",\n \"dtls:127.0.0.1:5349\" ];\n",
	  ":2: listen: \"dtls:127.0.0.1:5349\": address and port already taken by the dtls: listener "
	  "at %s:1 (a duplicate: remove one)" },
	{ "external-ip = [ \"203.0.113.5\",\n \"198.51.100.1\" ];\n",
	  ":2: external-ip: \"198.51.100.1\": a second address of this family" },
	{ "external-ip = [ \"203.0.113.5/10.0.0.1\", \"198.51.100.1/10.0.0.1\" ];\n",
	  ":1: external-ip: \"198.51.100.1/10.0.0.1\": this private address is already mapped" },
	{ "external-ip = [ \"203.0.113.5/fd00::1\" ];\n", ":1: external-ip: \"203.0.113.5/fd00::1\": "
	  "public and private addresses of different families" },
	{ "external-ip = [ \"nat\" ];\n", ":1: external-ip: \"nat\": not an IP address" },
	/* users */
	{ "users = (\n { name = \"a\"; password = \"x\";\n   key = \"0x000102030405060708090a0b0c0d0e0f\"; }\n);\n",
	  ":3: users: \"a\": key and password are exclusive" },
	{ "users = ( { name = \"a\"; } );\n", ":1: users: \"a\": no password and no key" },
	{ "users = ( { password = \"x\"; } );\n", ":1: users: a user without a name" },
	{ "users = ( { name = \"a\"; key = \"0x0001\"; } );\n", ":1: users: \"a\": bad key" },
	{ "users = ( { name = \"a\"; key = \"000102030405060708090a0b0c0d0e0f\"; } );\n",
	  ":1: users: \"a\": bad key" },
	{ "users = ( { name = \"a\"; key = \"0x000102030405060708090a0b0c0d0e0g\"; } );\n",
	  ":1: users: \"a\": bad key" },
	{ "users = ( { name = \"a\"; password = \"\"; } );\n", ":1: users: \"a\": empty password" },
	{ "users = (\n { name = \"a\"; password = \"x\"; },\n { name = \"b\"; password = \"x\"; },\n"
	  " { name = \"a\"; password = \"y\"; }\n);\n", ":4: users: \"a\": a second user of this name" },
	{ "users = ( { name = \"a\"; password = \"<hidden>\"; } );\n",
	  ":1: users: the password is the \"<hidden>\" placeholder" },
	{ "static-auth-secret = [ \"<hidden>\" ];\n",
	  ":1: static-auth-secret: the secret is the \"<hidden>\" placeholder" },
	/* PROXY protocol */
	{ "listen = [ \"udp:127.0.0.1 proxy-protocol\" ];\nproxy-trusted = [ \"10.0.0.0/8\" ];\n",
	  ":1: listen: \"udp:127.0.0.1 proxy-protocol\": proxy-protocol is for tcp: and tls: "
	  "listeners only" },
	{ "listen = [ \"dtls:127.0.0.1 proxy-protocol\" ];\n", ":1: listen: \"dtls:127.0.0.1 "
	  "proxy-protocol\": proxy-protocol is for" },
	{ "listen = [ \"tcp:127.0.0.1 proxy\" ];\n", ":1: listen: \"tcp:127.0.0.1 proxy\": not a" },
	{ "listen = [ \"tcp:127.0.0.1  proxy-protocol\" ];\n", ":1: listen: \"tcp:127.0.0.1  "
	  "proxy-protocol\": not a" },
	{ "\nlisten = [ \"tcp:127.0.0.1 proxy-protocol\" ];\n",
	  ":2: listen: a proxy-protocol listener needs proxy-trusted" },
	{ "proxy-trusted = [ \"10.0.0.1/8\" ];\n",
	  ":1: proxy-trusted: \"10.0.0.1/8\": bits set past the prefix length" },
	/* syntax */
	{ "realm = \"x\";\nmax-port = ;\n", ":2: syntax error" },
	{ "realm = \"x\";\nrealm = \"y\";\n", ":2: duplicate setting name" },
};

static void test_errors(void)
{
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		char err[512] = "";
		char want[600];
		const char *path = write_file(errors[i].text);
		struct tp_conf *c = (struct tp_conf *)1;
		int rc = tp_conf_load(path, NULL, &c, err, sizeof(err));

		char tail[400];

		/* a %s in the expected text is the file's name again */
		snprintf(tail, sizeof(tail), errors[i].want, path);
		snprintf(want, sizeof(want), "%s%s", path, tail);
		CHECK_EQ(rc, -1);
		CHECK(c == NULL);
		if (rc == 0)
			tp_conf_free(c);
		tp_test_checks++;
		if (strncmp(err, want, strlen(want)) != 0) {
			tp_test_fails++;
			fprintf(stderr, "error case %zu:\n  got:  %s\n  want: %s...\n", i, err, want);
		}
	}

	/* A missing file. */
	char err[512] = "";
	struct tp_conf *c = NULL;
	char path[300];
	snprintf(path, sizeof(path), "%s/does-not-exist.conf", tmpdir);
	CHECK_EQ(tp_conf_load(path, NULL, &c, err, sizeof(err)), -1);
	CHECK(strstr(err, path) == err && strstr(err, "No such file"));

	/* A tiny error buffer is truncated safely; no buffer at all is fine. */
	char small[8];
	memset(small, 'x', sizeof(small));
	CHECK_EQ(tp_conf_load(write_file("foo = 1;\n"), NULL, &c, small, sizeof(small)), -1);
	CHECK(memchr(small, '\0', sizeof(small)) != NULL);
	CHECK_EQ(tp_conf_load(write_file("foo = 1;\n"), NULL, &c, NULL, 0), -1);

	/* What may share a port: udp: and tcp: (two sockets of different kinds),
	 * udp: and dtls: once each (one socket, RFC 7983), the same port on two
	 * addresses or families. */
	c = load_text("listen = [ \"udp:127.0.0.1:3478\", \"tcp:127.0.0.1:3478\", "
	              "\"dtls:127.0.0.1:3478\", \"tls:127.0.0.2:3478\", \"udp:[::1]:3478\", "
	              "\"dtls:127.0.0.2:3478\" ];\ntls-cert = \"/unused.pem\";\n", NULL, err,
	              sizeof(err));
	CHECK(c != NULL);
	if (!c)
		fprintf(stderr, "sharing: %s\n", err);
	tp_conf_free(c);
	/* From the command line, the place is the command line. */
	struct tp_conf_overrides ov = { .listen = { "udp:127.0.0.1", "udp:127.0.0.1:3478" },
	                                .nlisten = 2 };
	c = load_text("", &ov, err, sizeof(err));
	CHECK(c == NULL);
	CHECK(strstr(err, "command line: listen: \"udp:127.0.0.1:3478\": address and port "
	                  "already taken by the udp: listener at command line") != NULL);
	tp_conf_free(c);
}

static void test_overrides(void)
{
	struct tp_conf_overrides ov = { 0 };
	char err[512] = "";
	struct tp_conf *c;
	const char *text = "listen = [ \"udp:127.0.0.1:3478\" ];\nrealm = \"file\";\n"
	                   "log-level = \"error\";\nexternal-ip = [ \"203.0.113.5\" ];\n"
	                   "users = ( { name = \"alice\"; password = \"secret\"; } );\n"
	                   "tls-cert = \"/etc/turnpike/cert.pem\";\n";

	ov.listen[0] = "tls:[::1]";
	ov.listen[1] = "tcp:127.0.0.1:4000";
	ov.nlisten = 2;
	ov.realm = "cli.example";
	ov.external_ip[0] = "198.51.100.9/10.0.0.9";
	ov.nexternal_ip = 1;
	ov.log_level = "debug";
	c = load_text(text, &ov, err, sizeof(err));
	CHECK(c != NULL);
	if (!c) {
		fprintf(stderr, "overrides: %s\n", err);
		return;
	}
	CHECK_EQ(c->nlisten, 2);
	CHECK_EQ(c->listen[0].proto, TP_LISTEN_TLS);
	CHECK(addr_is(&c->listen[0].addr, "::1", 5349));
	CHECK_EQ(c->listen[1].proto, TP_LISTEN_TCP);
	CHECK(addr_is(&c->listen[1].addr, "127.0.0.1", 4000));
	CHECK(str_eq(c->realm, "cli.example"));
	CHECK_EQ(c->log_level, TP_LOG_DEBUG);
	CHECK_EQ(c->nexternal, 1);
	CHECK(addr_is(&c->external[0].pub, "198.51.100.9", 0));
	CHECK(addr_is(&c->external[0].priv, "10.0.0.9", 0));
	/* The key uses the final (overridden) realm. */
	const struct tp_user *u = tp_conf_user(c, "alice", 5);
	CHECK(u != NULL);
	if (u)
		check_key(u, "cli.example");
	tp_conf_free(c);

	/* Overrides on the defaults. */
	struct tp_conf_overrides ov2 = { .realm = "r2" };
	CHECK_EQ(tp_conf_load(NULL, &ov2, &c, err, sizeof(err)), 0);
	CHECK(c && str_eq(c->realm, "r2") && c->nlisten == 2);
	tp_conf_free(c);

	/* Bad overrides name the command line. */
	struct tp_conf_overrides bad = { .listen = { "udp:nowhere" }, .nlisten = 1 };
	CHECK_EQ(tp_conf_load(NULL, &bad, &c, err, sizeof(err)), -1);
	CHECK(strncmp(err, "command line: listen: \"udp:nowhere\": not a", 42) == 0);
	struct tp_conf_overrides bad2 = { .log_level = "loud" };
	CHECK_EQ(tp_conf_load(NULL, &bad2, &c, err, sizeof(err)), -1);
	CHECK(strncmp(err, "command line: log-level: \"loud\" is not a log level", 50) == 0);
	struct tp_conf_overrides bad3 = { .realm = "" };
	CHECK_EQ(tp_conf_load(NULL, &bad3, &c, err, sizeof(err)), -1);
	CHECK(strncmp(err, "command line: realm: empty", 26) == 0);
	struct tp_conf_overrides bad4 = { .external_ip = { "203.0.113.5", "203.0.113.6" },
	                                  .nexternal_ip = 2 };
	CHECK_EQ(tp_conf_load(NULL, &bad4, &c, err, sizeof(err)), -1);
	CHECK(strncmp(err, "command line: external-ip: \"203.0.113.6\": a second", 50) == 0);
	if (strncmp(err, "command line: external-ip:", 26) != 0)
		fprintf(stderr, "bad4: %s\n", err);
}

/* Print c (with flags) to a file and load it back. */
static struct tp_conf *reload(const struct tp_conf *c, unsigned flags, char *err, size_t errlen)
{
	char path[300];
	struct tp_conf *d = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/printed%d.conf", tmpdir, nfiles++);
	f = fopen(path, "w");
	if (!f)
		return NULL;
	tp_conf_write(c, f, flags);
	fclose(f);
	if (tp_conf_load(path, NULL, &d, err, errlen) != 0)
		return NULL;
	return d;
}

/* proxy-protocol on listeners, proxy-trusted, and both through --print-config */
static void test_proxy(void)
{
	char err[512] = "";
	struct tp_conf *c = load_text(
		"listen = [ \"tcp:127.0.0.1:3478 proxy-protocol\", \"tcp:[::1]:443 proxy-protocol\",\n"
		"           \"tcp:127.0.0.1:3479\" ];\n"
		"proxy-trusted = [ \"127.0.0.1/32\", \"10.0.0.0/8\", \"fd00::/8\" ];\n", NULL, err,
		sizeof(err));
	struct tp_conf *d;

	CHECK(c != NULL);
	if (!c) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	CHECK_EQ(c->nlisten, 3);
	CHECK(c->listen[0].proto == TP_LISTEN_TCP && c->listen[0].proxy);
	CHECK(addr_is(&c->listen[0].addr, "127.0.0.1", 3478));
	CHECK(c->listen[1].proto == TP_LISTEN_TCP && c->listen[1].proxy);
	CHECK(addr_is(&c->listen[1].addr, "::1", 443));
	CHECK(c->listen[2].proto == TP_LISTEN_TCP && !c->listen[2].proxy);
	CHECK_EQ(c->nproxy_trusted, 3);
	CHECK(addr_is(&c->proxy_trusted[1].net, "10.0.0.0", 0) && c->proxy_trusted[1].prefix == 8);
	d = reload(c, 0, err, sizeof(err));
	CHECK(d != NULL && conf_eq(c, d));
	if (d)
		tp_conf_free(d);
	tp_conf_free(c);
}

static void test_round_trip(void)
{
	char err[512] = "";
	struct tp_conf *c = NULL, *d;

	/* The defaults, printed the ordinary way (no secrets to hide). */
	CHECK_EQ(tp_conf_load(NULL, NULL, &c, err, sizeof(err)), 0);
	d = reload(c, 0, err, sizeof(err));
	CHECK(d != NULL);
	CHECK(d && conf_eq(c, d));
	if (!d)
		fprintf(stderr, "round trip (defaults): %s\n", err);
	tp_conf_free(d);
	tp_conf_free(c);

	/* Every option set, secrets shown. */
	c = load_text(full_conf, NULL, err, sizeof(err));
	CHECK(c != NULL);
	if (!c)
		return;
	d = reload(c, TP_CONF_SHOW_SECRETS, err, sizeof(err));
	CHECK(d != NULL);
	CHECK(d && conf_eq(c, d));
	if (!d)
		fprintf(stderr, "round trip (full): %s\n", err);
	/* ... and once more, printed from the reloaded copy. */
	struct tp_conf *e = d ? reload(d, TP_CONF_SHOW_SECRETS, err, sizeof(err)) : NULL;
	CHECK(e && conf_eq(c, e));
	tp_conf_free(e);
	tp_conf_free(d);

	/* tp_conf_print hides credentials, and the placeholder does not load. */
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	CHECK(m != NULL);
	if (m) {
		tp_conf_print(c, m);
		fclose(m);
		CHECK(strstr(buf, "{ name = \"alice\"; password = \"<hidden>\"; }") != NULL);
		CHECK(strstr(buf, "{ name = \"bob\"; key = \"<hidden>\"; }") != NULL);
		CHECK(strstr(buf, "\"s1\"") == NULL);
		CHECK(strstr(buf, "0x000102") == NULL);
		CHECK(strstr(buf, "<hidden>") != NULL);
		CHECK(strstr(buf, "\nmax-port = 40999;\n") != NULL);
		CHECK(strstr(buf, "\"tcp:[::1]:3479\"") != NULL);
		CHECK(strstr(buf, "\"198.51.100.7/10.0.0.5\"") != NULL);
		CHECK(strstr(buf, "\"127.0.0.0/8\"") != NULL);
		free(buf);
	}
	d = reload(c, 0, err, sizeof(err));
	CHECK(d == NULL);
	CHECK(strstr(err, "\"<hidden>\" placeholder") != NULL);
	tp_conf_free(d);
	tp_conf_free(c);

	/* The admin token is never printed, and its placeholder does not load. */
	c = load_text("admin-token = \"0123456789abcdef-token\";\n", NULL, err, sizeof(err));
	CHECK(c != NULL);
	if (c) {
		buf = NULL;
		len = 0;
		m = open_memstream(&buf, &len);
		if (m) {
			tp_conf_print(c, m);
			fclose(m);
			CHECK(strstr(buf, "0123456789abcdef-token") == NULL);
			CHECK(strstr(buf, "\nadmin-token = \"<hidden>\";\n") != NULL);
			free(buf);
		}
		d = reload(c, 0, err, sizeof(err));
		CHECK(d == NULL && strstr(err, "admin-token") && strstr(err, "placeholder"));
		tp_conf_free(d);
		tp_conf_free(c);
	}

	/* Strings with control characters survive the round trip. */
	c = load_text("realm = \"a\\tb\\x01\\\"c\";\nsoftware = \"x\\\\y\";\n", NULL, err,
	              sizeof(err));
	CHECK(c && str_eq(c->realm, "a\tb\x01\"c") && str_eq(c->software, "x\\y"));
	if (c) {
		d = reload(c, 0, err, sizeof(err));
		CHECK(d && conf_eq(c, d));
		tp_conf_free(d);
	}
	tp_conf_free(c);
}

/* The shipped conf/turnpike.conf loads to exactly the defaults and names every
 * option. */
static void test_shipped(void)
{
	static const char *const names[] = {
		"listen", "external-ip", "relay-ip", "min-port", "max-port", "realm", "software",
		"log-level", "users", "static-auth-secret", "demo-user", "nonce-lifetime",
		"default-lifetime", "max-lifetime", "user-quota", "total-quota", "max-permissions",
		"max-channels", "unauth-rate", "unauth-burst", "allowed-peer", "denied-peer",
		"mobility", "tls-cert", "tls-key", "tls-allow-expired", "max-connections", "max-connections-per-ip",
		"handshake-timeout", "idle-timeout", "stream-buffer", "nat-discovery", "other-ip",
		"other-port", "source-ipv6-prefix", "auth-fail-burst", "auth-fail-rate",
		"max-credential-lifetime", "udp-rcvbuf", "udp-sndbuf", "relay-rcvbuf", "relay-sndbuf",
		"max-peer-connections", "max-dtls-sessions", "redis", "redis-password-file",
		"redis-tls-ca", "redis-tls-cert", "redis-tls-key", "node-id", "redis-timeout-ms",
		"static-auth-secret-file", "signal-token-file",
	};
	const char *path = TP_VECTORS_DIR "/../../conf/turnpike.conf";
	char err[512] = "";
	struct tp_conf *c = NULL, *d = NULL;

	CHECK_EQ(tp_conf_load(path, NULL, &c, err, sizeof(err)), 0);
	if (!c) {
		fprintf(stderr, "shipped: %s\n", err);
		return;
	}
	CHECK_EQ(tp_conf_load(NULL, NULL, &d, err, sizeof(err)), 0);
	CHECK(d && conf_eq(c, d));
	tp_conf_free(c);
	tp_conf_free(d);

	FILE *f = fopen(path, "r");
	char text[32768];
	size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
	if (f)
		fclose(f);
	text[n] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char pat[64];
		snprintf(pat, sizeof(pat), "\n%s = ", names[i]);
		char pat2[64];
		snprintf(pat2, sizeof(pat2), "\n# %s = ", names[i]);
		if (!strstr(text, pat) && !strstr(text, pat2))
			fprintf(stderr, "conf/turnpike.conf lacks %s\n", names[i]);
		CHECK(strstr(text, pat) || strstr(text, pat2));
	}
}

static void rm_tmpdir(void)
{
	char p[300];

	for (int i = 0; i < nfiles; i++) {
		snprintf(p, sizeof(p), "%s/t%d.conf", tmpdir, i);
		unlink(p);
		snprintf(p, sizeof(p), "%s/printed%d.conf", tmpdir, i);
		unlink(p);
	}
	rmdir(tmpdir);
}

/* err must start with want; printed when it does not. */
static bool starts(const char *err, const char *want)
{
	if (strncmp(err, want, strlen(want)) == 0)
		return true;
	fprintf(stderr, "got:  %s\nwant: %s...\n", err, want);
	return false;
}

/* Issue 17 item 8: TURNPIKE_* and --set through the file's parser. */
static void test_sources(void)
{
	char err[512] = "";
	struct tp_conf *c;
	const char *file = "realm = \"file\";\nmax-bps = 1;\nlisten = [ \"udp:127.0.0.1:3478\" ];\n"
	                   "users = ( { name = \"alice\"; password = \"a\"; } );\n";
	char *env[] = { "TURNPIKE_REALM=env", "TURNPIKE_MAX_BPS=2", "PATH=/bin",
		        "TURNPIKE_MOBILITY=yes", "TURNPIKE_NO_SUCH=1",
		        "TURNPIKE_ALLOWED_PEER=10.0.0.0/8, 192.168.0.0/16", NULL };
	struct tp_conf_overrides ov = { .env = env };

	/* file < env; unknown TURNPIKE_ names are only warned about */
	c = load_text(file, &ov, err, sizeof(err));
	CHECK(c != NULL);
	if (c) {
		CHECK(str_eq(c->realm, "env"));
		CHECK_EQ(c->max_bps, 2);
		CHECK(c->mobility);
		CHECK_EQ(c->nallowed_peers, 2);
		CHECK_EQ(c->nlisten, 1);
		tp_conf_free(c);
	}
	/* env < --set; a list given twice appends, and replaces the file's */
	ov.set[0] = "realm=set";
	ov.set[1] = "listen=tcp:127.0.0.1:4000";
	ov.set[2] = "listen=udp:127.0.0.1:4001,udp:[::1]:4002";
	ov.set[3] = "users=bob:pw1,carol:pw:2";
	ov.set[4] = "max-bps=0x10";
	ov.set[5] = "software=\"quoted \\\"x\\\"\"";
	ov.set[6] = "denied-peer=[ \"198.51.100.0/24\" ]";
	ov.set[7] = "users=( { name = \"dave\"; password = \"pd\"; } )";
	ov.nset = 8;
	c = load_text(file, &ov, err, sizeof(err));
	CHECK(c != NULL);
	if (!c) {
		fprintf(stderr, "sources: %s\n", err);
	} else {
		CHECK(str_eq(c->realm, "set"));
		CHECK_EQ(c->max_bps, 16);
		CHECK_EQ(c->nlisten, 3);
		CHECK(addr_is(&c->listen[0].addr, "127.0.0.1", 4000));
		CHECK(addr_is(&c->listen[2].addr, "::1", 4002));
		CHECK(str_eq(c->software, "quoted \"x\""));
		CHECK_EQ(c->ndenied_peers, 1);
		CHECK_EQ(c->nusers, 3);
		CHECK(tp_conf_user(c, "alice", 5) == NULL);
		const struct tp_user *u = tp_conf_user(c, "carol", 5);
		CHECK(u && str_eq(u->password, "pw:2"));     /* split at the first ':' */
		if (u)
			check_key(u, "set");                 /* keys with the final realm */
		CHECK(tp_conf_user(c, "dave", 4) != NULL);
		tp_conf_free(c);
	}

	/* errors name the source */
	static const struct {
		const char *set, *env, *want;
	} bad[] = {
		{ "min-port=70000", NULL, "--set min-port: 70000 is out of range (expected 1024..65535)" },
		{ "min-port=many", NULL, "--set min-port: \"many\": not an integer (expected" },
		{ "realm=", NULL, "--set realm: empty (expected a non-empty string)" },
		{ "realm=\"open", NULL, "--set realm: syntax error (a quoted value" },
		{ "listen=", NULL, "--set listen: empty (expected at least 1 entries)" },
		{ "listen=[ \"x\"", NULL, "--set listen: syntax error at line 1 of the value" },
		{ "users=( { name = \"a\"; } )", NULL, "--set users: \"a\": no password and no key" },
		{ "reaml=1", NULL, "--set reaml: unknown option; did you mean 'realm'?" },
		{ "listening-port=3478", NULL, "--set listening-port: unknown option: this is "
		  "coturn's 'listening-port'; turnpike's is 'listen'" },
		{ NULL, "TURNPIKE_MIN_PORT=2000", "built-in default: min-port: min-port 2000 > "
		  "max-port" },
		{ NULL, "TURNPIKE_MAX_PORT=1500", "environment TURNPIKE_MAX_PORT: min-port 49152 > "
		  "max-port 1500" },
		{ NULL, "TURNPIKE_EXTERNAL_IP=203.0.113.1,203.0.113.2", "environment "
		  "TURNPIKE_EXTERNAL_IP: \"203.0.113.2\": a second address" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *e1[] = { (char *)bad[i].env, NULL };
		struct tp_conf_overrides o = { .env = bad[i].env ? e1 : NULL };

		if (bad[i].set) {
			o.set[0] = bad[i].set;
			o.nset = 1;
		}
		if (bad[i].env && strstr(bad[i].env, "MIN_PORT")) {
			/* both ends changed: blamed on the one set (max-port: default here) */
			o.set[0] = "max-port=1999";
			o.nset = 1;
			CHECK_EQ(tp_conf_load(NULL, &o, &c, err, sizeof(err)), -1);
			CHECK(starts(err, "--set max-port: min-port 2000 > max-port 1999"));
			continue;
		}
		CHECK_EQ(tp_conf_load(NULL, &o, &c, err, sizeof(err)), -1);
		CHECK(starts(err, bad[i].want));
	}
}

/* *-file options: the content is the value; both forms refused. */
static void test_secret_files(void)
{
	char err[512] = "", text[512], sf[300], tf[300];
	struct tp_conf *c;

	snprintf(sf, sizeof(sf), "%s", write_file("one\r\n\ntwo\n"));
	snprintf(tf, sizeof(tf), "%s", write_file("token-token-token-1\n"));
	snprintf(text, sizeof(text), "static-auth-secret-file = \"%s\";\nadmin-token-file = \"%s\";\n"
	         "admin = \"tcp:127.0.0.1:5766\";\n", sf, tf);
	c = load_text(text, NULL, err, sizeof(err));
	CHECK(c != NULL);
	if (c) {
		CHECK_EQ(c->nsecrets, 2);
		CHECK(c->nsecrets == 2 && str_eq(c->secrets[0], "one") && str_eq(c->secrets[1], "two"));
		CHECK(str_eq(c->admin_token, "token-token-token-1")); /* and admin tcp: accepts it */
		tp_conf_free(c);
	} else {
		fprintf(stderr, "secret files: %s\n", err);
	}
	snprintf(text, sizeof(text), "static-auth-secret = [ \"x\" ];\n\nstatic-auth-secret-file = "
	         "\"%s\";\n", sf);
	CHECK(load_text(text, NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, ":3: static-auth-secret-file: static-auth-secret is given too") != NULL);
	snprintf(text, sizeof(text), "admin-token-file = \"%s\";\n", write_file("a\nb\n"));
	CHECK(load_text(text, NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, ":1: admin-token-file: ") && strstr(err, ": more than one line"));
	snprintf(text, sizeof(text), "static-auth-secret-file = \"%s\";\n", write_file("\n\n"));
	CHECK(load_text(text, NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, ": no secret in it (expected one per line)") != NULL);
	snprintf(text, sizeof(text), "signal-token-file = \"%s/none\";\n", tmpdir);
	CHECK(load_text(text, NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, ":1: signal-token-file: ") && strstr(err, "No such file or directory"));
}

/* Unknown options, coturn files, -c DIRECTORY (item 9). */
static void test_unknown(void)
{
	char err[512] = "";
	struct tp_conf *c;

	CHECK(load_text("realm = \"x\";\nmax-bsp = 1;\n", NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, ":2: max-bsp: unknown option; did you mean 'max-bps'?") != NULL);
	CHECK(load_text("zzzzzz = 1;\n", NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, ":1: zzzzzz: unknown option (turnpike --print-config") != NULL);
	CHECK(load_text("cert = \"/x.pem\";\n", NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, ":1: cert: unknown option: this is coturn's 'cert'; turnpike's is "
	              "'tls-cert'") != NULL);
	CHECK(load_text("fingerprint = true;\n", NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "which turnpike does not need or have") != NULL);
	CHECK(load_text("# coturn\n\nrealm=example.com\nfingerprint\n", NULL, err,
	                sizeof(err)) == NULL);
	CHECK(strstr(err, ":3: 'realm': this looks like a coturn turnserver.conf") &&
	      strstr(err, "docs/MIGRATING-FROM-COTURN.md"));
	/* a plain syntax error stays one */
	CHECK(load_text("realm = \"x\";\nmin-port = = 1;\n", NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "coturn") == NULL && strstr(err, "syntax error") != NULL);
	CHECK_EQ(tp_conf_load(tmpdir, NULL, &c, err, sizeof(err)), -1);
	CHECK(strstr(err, ": is a directory (expected a configuration file") != NULL);
}

static void collect(void *arg, const char *line)
{
	char *b = arg;

	strncat(b, line, 2047 - strlen(b));
	strncat(b, "\n", 2047 - strlen(b));
}

/* What a reload logs (item 11). */
static void test_diff(void)
{
	char err[512] = "", out[2048] = "";
	struct tp_conf *a, *b;

	a = load_text("realm = \"one\";\nstatic-auth-secret = [ \"s1\" ];\nmax-bps = 5;\n"
	              "redis = \"redis://:pw1@127.0.0.1/0\";\n", NULL, err, sizeof(err));
	b = load_text("realm = \"two\";\nstatic-auth-secret = [ \"s2\" ];\nmax-bps = 5;\n"
	              "redis = \"redis://:pw2@127.0.0.1/0\";\n"
	              "allowed-peer = [ \"10.0.0.0/8\" ];\n", NULL, err, sizeof(err));
	CHECK(a && b);
	if (!a || !b)
		return;
	CHECK_EQ(tp_conf_diff(a, b, collect, out), 4);
	CHECK(strstr(out, "realm: \"one\" -> \"two\"\n") != NULL);
	CHECK(strstr(out, "static-auth-secret: changed\n") != NULL);
	CHECK(strstr(out, "redis: changed\n") != NULL);              /* the password only */
	CHECK(strstr(out, "allowed-peer: [ ] -> [ \"10.0.0.0/8\" ]\n") != NULL);
	CHECK(strstr(out, "s1") == NULL && strstr(out, "s2") == NULL && strstr(out, "pw") == NULL);
	CHECK(strstr(out, "max-bps") == NULL);
	out[0] = '\0';
	CHECK_EQ(tp_conf_diff(a, a, collect, out), 0);
	CHECK_EQ(out[0], '\0');
	tp_conf_free(a);
	tp_conf_free(b);
}

/* Item 4: what would silently do nothing is refused at load. */
static void test_silent(void)
{
	char err[512] = "";

	CHECK(load_text("listen = [ \"udp:127.0.0.1\",\n \"dtls:127.0.0.1\" ];\n", NULL, err,
	                sizeof(err)) == NULL);
	CHECK(strstr(err, ":1: listen: dtls:127.0.0.1:5349 needs a certificate") != NULL);
	CHECK(load_text("relay-ip = [ \"10.0.0.5\" ];\nexternal-ip = [ \"203.0.113.5/10.0.0.6\" ];\n",
	                NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, ":2: external-ip: \"203.0.113.5/10.0.0.6\": 10.0.0.6 is none of the "
	              "relay-ip addresses") != NULL);
	/* PUBLIC alone, or PRIVATE among relay-ip, is fine */
	struct tp_conf *c = load_text("relay-ip = [ \"10.0.0.5\" ];\nexternal-ip = [ \"203.0.113.5/"
	                              "10.0.0.5\", \"2001:db8::1\" ];\n", NULL, err, sizeof(err));
	CHECK(c != NULL);
	tp_conf_free(c);
}

int main(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/tp_conf_XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	test_defaults();
	test_full();
	test_errors();
	test_overrides();
	test_round_trip();
	test_proxy();
	test_shipped();
	test_sources();
	test_secret_files();
	test_unknown();
	test_diff();
	test_silent();
	rm_tmpdir();
	TP_TEST_END();
}
