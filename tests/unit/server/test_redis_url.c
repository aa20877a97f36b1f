/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_redis_url.c - server/redis_url.c and the redis options of conf.c,
 * without a Redis: every URL form and every refusal (rediss:// above all,
 * which Debian 12's hiredis 0.14 cannot do), the password hidden by
 * --print-config and its placeholder refused, redis-password-file, node-id
 * (given, or the host name), and the options' errors naming file and line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "redis.h"
#include "tp_test.h"

static char tmpdir[256];

static void ok(const char *s, const char *host, unsigned port, const char *path,
               const char *user, const char *pw, unsigned db)
{
	struct tp_redis_url u;
	const char *why = NULL;
	int rc = tp_redis_url_parse(s, &u, &why);

	if (rc != 0)
		fprintf(stderr, "%s: %s\n", s, why);
	CHECK_EQ(rc, 0);
	CHECK(strcmp(u.host, host) == 0);
	CHECK_EQ(u.port, port);
	CHECK(strcmp(u.path, path) == 0);
	CHECK_EQ(u.is_unix, path[0] != '\0');
	CHECK(strcmp(u.user, user) == 0);
	CHECK(strcmp(u.password, pw) == 0);
	CHECK_EQ(u.db, db);
}

static void bad(const char *s, int want, const char *why_part)
{
	struct tp_redis_url u;
	const char *why = NULL;

	CHECK_EQ(tp_redis_url_parse(s, &u, &why), want);
	CHECK(why && strstr(why, why_part));
	if (!why || !strstr(why, why_part))
		fprintf(stderr, "%s: \"%s\" lacks \"%s\"\n", s, why ? why : "(null)", why_part);
}

static void test_parse(void)
{
	ok("redis://127.0.0.1", "127.0.0.1", 6379, "", "", "", 0);
	ok("redis://127.0.0.1:6390/", "127.0.0.1", 6390, "", "", "", 0);
	ok("redis://redis.example.org:7000/15", "redis.example.org", 7000, "", "", "", 15);
	ok("redis://[::1]:6380/2", "::1", 6380, "", "", "", 2);
	ok("redis://:s3cret@10.0.0.5:6379/0", "10.0.0.5", 6379, "", "", "s3cret", 0);
	ok("redis://turn:p%40ss%3Aw@h:1/1", "h", 1, "", "turn", "p@ss:w", 1);
	ok("redis://:a@b@h/3", "h", 6379, "", "", "a@b", 3);     /* the last '@' ends it */
	ok("unix:///run/redis.sock", "", 0, "/run/redis.sock", "", "", 0);
	ok("unix:///run/redis.sock?db=4", "", 0, "/run/redis.sock", "", "", 4);
	ok("unix://:pw@/run/redis.sock?db=65535", "", 0, "/run/redis.sock", "", "pw", 65535);

	bad("rediss://127.0.0.1:6379", -ENOTSUP, "hiredis 0.14.1");
	bad("http://127.0.0.1", -EINVAL, "not a Redis URL");
	bad("127.0.0.1:6379", -EINVAL, "not a Redis URL");
	bad("redis://", -EINVAL, "bad host");
	bad("redis://h:0", -EINVAL, "bad port");
	bad("redis://h:65536", -EINVAL, "bad port");
	bad("redis://h:x", -EINVAL, "bad port");
	bad("redis://h/65536", -EINVAL, "bad database");
	bad("redis://h/1/2", -EINVAL, "bad database");
	bad("redis://h/?db=1", -EINVAL, "bad database");
	bad("redis://h o/", -EINVAL, "bad host");
	bad("redis://[::1/", -EINVAL, "bad host");
	bad("redis://[nothex]/", -EINVAL, "bad host");
	bad("redis://pw@h", -EINVAL, "without ':'");
	bad("redis://user:@h", -EINVAL, "empty password");
	bad("redis://:p%4@h", -EINVAL, "%-escape");
	bad("redis://:p%00@h", -EINVAL, "%-escape");
	bad("redis://:<hidden>@h", -EINVAL, "placeholder");
	bad("unix://", -EINVAL, "no socket path");
	bad("unix://host/run/x.sock", -EINVAL, "a host");
	bad("unix:///", -EINVAL, "socket path");
	bad("unix:///x?db=a", -EINVAL, "bad query");
	bad("unix:///x?database=1", -EINVAL, "bad query");
	char longp[200] = "unix:///";
	memset(longp + 8, 'a', 150);
	bad(longp, -EINVAL, "longer than 107");
}

static void test_mask_node(void)
{
	char out[256];

	tp_redis_url_mask("redis://:s3cret@h:1/2", out, sizeof(out));
	CHECK(strcmp(out, "redis://:<hidden>@h:1/2") == 0);
	tp_redis_url_mask("redis://turn:s3cret@h", out, sizeof(out));
	CHECK(strcmp(out, "redis://turn:<hidden>@h") == 0);
	tp_redis_url_mask("unix://:pw@/run/r.sock?db=1", out, sizeof(out));
	CHECK(strcmp(out, "unix://:<hidden>@/run/r.sock?db=1") == 0);
	tp_redis_url_mask("redis://h:1/2", out, sizeof(out));
	CHECK(strcmp(out, "redis://h:1/2") == 0);
	tp_redis_url_mask("", out, sizeof(out));
	CHECK(strcmp(out, "") == 0);

	CHECK(tp_redis_node_ok("node-1.eu_west"));
	CHECK(!tp_redis_node_ok(""));
	CHECK(!tp_redis_node_ok("a b"));
	CHECK(!tp_redis_node_ok("a/b"));
	char n65[66];
	memset(n65, 'n', 65);
	n65[65] = '\0';
	CHECK(!tp_redis_node_ok(n65));
	n65[64] = '\0';
	CHECK(tp_redis_node_ok(n65));
}

static struct tp_conf *load(const char *text, char *err, size_t errlen)
{
	char path[300];
	struct tp_conf *c = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/t.conf", tmpdir);
	if (!(f = fopen(path, "w")))
		return NULL;
	fputs(text, f);
	fclose(f);
	tp_conf_load(path, NULL, &c, err, errlen);
	unlink(path);
	return c;
}

static void test_conf(void)
{
	char err[512], pwpath[300], text[1024];
	static char out[131072];
	struct tp_redis_opts o;
	struct tp_conf *c;
	FILE *f;

	/* the defaults: no Redis */
	c = load("", err, sizeof(err));
	CHECK(c && c->redis && !c->redis[0] && c->redis_timeout_ms == 5);
	if (c)
		CHECK_EQ(tp_redis_opts_from_conf(c, &o, err, sizeof(err)), 1);
	tp_conf_free(c);

	/* errors name the file, the line and the option */
	c = load("realm = \"r\";\nredis = \"rediss://10.0.0.5\";\n", err, sizeof(err));
	CHECK(!c && strstr(err, "t.conf:2: redis: TLS to Redis"));
	c = load("redis = \"redis://h:99999\";\n", err, sizeof(err));
	CHECK(!c && strstr(err, "t.conf:1: redis: bad port"));
	c = load("\nredis-tls-cert = \"/etc/c.pem\";\n", err, sizeof(err));
	CHECK(!c && strstr(err, "t.conf:2: redis-tls-cert: TLS to Redis is not available"));
	c = load("node-id = \"no/slash\";\n", err, sizeof(err));
	CHECK(!c && strstr(err, "t.conf:1: node-id:"));
	c = load("redis-timeout-ms = 0;\n", err, sizeof(err));
	CHECK(!c && strstr(err, "redis-timeout-ms: 0 is out of range"));

	/* a password in the URL: hidden by --print-config, shown with the flag */
	c = load("redis = \"redis://:s3cret@127.0.0.1:6390/2\";\nnode-id = \"n1\";\n"
	         "redis-timeout-ms = 20;\n", err, sizeof(err));
	CHECK(c != NULL);
	if (c) {
		f = fmemopen(out, sizeof(out), "w");
		tp_conf_print(c, f);
		fclose(f);
		CHECK(strstr(out, "\nredis = \"redis://:<hidden>@127.0.0.1:6390/2\";") &&
		      !strstr(out, "s3cret"));
		f = fmemopen(out, sizeof(out), "w");
		tp_conf_write(c, f, TP_CONF_SHOW_SECRETS);
		fclose(f);
		CHECK(strstr(out, "\nredis = \"redis://:s3cret@127.0.0.1:6390/2\";") != NULL);
		CHECK_EQ(tp_redis_opts_from_conf(c, &o, err, sizeof(err)), 0);
		CHECK(strcmp(o.url.host, "127.0.0.1") == 0 && o.url.port == 6390 && o.url.db == 2 &&
		      strcmp(o.url.password, "s3cret") == 0 && strcmp(o.node, "n1") == 0 &&
		      o.timeout_ms == 20 && strcmp(o.realm, "turnpike") == 0);
	}
	tp_conf_free(c);

	/* redis-password-file replaces the URL's; node-id defaults to the host name */
	snprintf(pwpath, sizeof(pwpath), "%s/pw", tmpdir);
	f = fopen(pwpath, "w");
	fputs("from-file\nsecond line ignored\n", f);
	fclose(f);
	snprintf(text, sizeof(text), "redis = \"unix://:url@/run/r.sock\";\n"
	         "redis-password-file = \"%s\";\n", pwpath);
	c = load(text, err, sizeof(err));
	CHECK(c != NULL);
	if (c) {
		char host[256] = "";
		gethostname(host, sizeof(host) - 1);
		int rc = tp_redis_opts_from_conf(c, &o, err, sizeof(err));
		if (tp_redis_node_ok(host)) {
			CHECK_EQ(rc, 0);
			CHECK(strcmp(o.url.password, "from-file") == 0 && strcmp(o.node, host) == 0 &&
			      o.url.is_unix && o.timeout_ms == 5);
		} else {
			CHECK(rc == -1 && strstr(err, "node-id"));
		}
	}
	tp_conf_free(c);
	/* an empty or missing password file */
	f = fopen(pwpath, "w");
	fputs("\n", f);
	fclose(f);
	snprintf(text, sizeof(text), "redis = \"redis://h\";\nnode-id = \"n\";\n"
	         "redis-password-file = \"%s\";\n", pwpath);
	c = load(text, err, sizeof(err));
	CHECK(c && tp_redis_opts_from_conf(c, &o, err, sizeof(err)) == -1 &&
	      strstr(err, "empty first line"));
	tp_conf_free(c);
	unlink(pwpath);
	c = load(text, err, sizeof(err));
	CHECK(c && tp_redis_opts_from_conf(c, &o, err, sizeof(err)) == -1 &&
	      strstr(err, "No such file"));
	tp_conf_free(c);
}

int main(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/tp_redis_url_XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	test_parse();
	test_mask_node();
	test_conf();
	rmdir(tmpdir);
	TP_TEST_END();
}
