/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * turnpikectl - operate a running turnpike through its admin socket.
 *
 *   turnpikectl [-s SOCKET | -t ADDR:PORT -T TOKEN-FILE] COMMAND [options]
 *
 * Commands go to the server as one line (key=value arguments, values
 * percent-encoded); its answer is one JSON object, printed as is with --json
 * or as a table for people. `credential` and `users` work on files here and
 * need no server (users asks it to reload afterwards).
 *
 * Exit status: 0 done; 1 the server (or a file) refused; 2 usage; 3 the
 * admin socket cannot be reached.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <libconfig.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "json.h"
#include "proto.h"

#define EX_OK 0
#define EX_REFUSED 1
#define EX_USAGE 2
#define EX_CONNECT 3

struct opts {
	const char *socket, *tcp, *token_file;
	bool json;
};

static void usage(FILE *f)
{
	/* continuation lines start with '(' or a capital: a line starting with a
	 * lowercase word is a command (tests/packaging/test_man.py reads them) */
	fprintf(f,
	        "usage: turnpikectl [-s SOCKET | -t ADDR:PORT -T TOKEN-FILE] [--json] COMMAND ...\n"
	        "  status                       version, uptime, workers, listeners, allocations, drain\n"
	        "  sessions [--user U] [--cluster]  every allocation: 5-tuple, user, relay, age,\n"
	        "                               (lifetime left, permissions, channels, packets, bytes\n"
	        "                               (each way; --cluster: every node's, from Redis)\n"
	        "  kill (--user U | --id ID) [--cluster] [--node N]  end sessions (stream clients\n"
	        "                               (are disconnected); --cluster: on whichever node has\n"
	        "                               (them, through Redis; --node N: only on node N)\n"
	        "  drain [--deadline S] [--wait]  refuse new allocations; the server exits when the\n"
	        "                               (last one ends, or after S s); --wait: until it has\n"
	        "  undrain                      take new allocations again\n"
	        "  reload                       re-read the configuration (as SIGHUP)\n"
	        "  log-level error|warn|info|debug\n"
	        "  stats                        request, relay, auth and drop counters\n"
	        "  credential --secret-file F --user U [--ttl S]\n"
	        "                               (a TURN REST username and password; no server needed)\n"
	        "  users add NAME (--password P | --password-file F | --key 0xHEX)\n"
	        "  users remove NAME | users list   [--file F] [--no-reload]\n"
	        "options:\n"
	        "  -s, --socket PATH   admin socket (default /run/turnpike/admin.sock)\n"
	        "  -t, --tcp ADDR:PORT a tcp: admin listener, with -T, --token-file FILE\n"
	        "  -j, --json          print the server's JSON answer\n"
	        "  -h, --help          this help\n"
	        "exit status: 0 ok, 1 refused, 2 usage, 3 cannot reach the server\n");
}

/* ---- talking to the server ---- */

static void append_escaped(char *out, size_t cap, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(out);

	for (; *v && n + 4 < cap; v++) {
		unsigned char c = (unsigned char)*v;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~:@", c)) {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
}

static void add_arg(char *line, size_t cap, const char *key, const char *value)
{
	if (!value)
		return;
	snprintf(line + strlen(line), cap - strlen(line), " %s=", key);
	append_escaped(line, cap, value);
}

static int connect_admin(const struct opts *o)
{
	int fd;

	if (o->tcp) {
		struct tp_addr a;
		struct sockaddr_storage ss;
		unsigned sl;

		if (tp_addr_parse(&a, o->tcp, 0) != 0 || !a.port) {
			fprintf(stderr, "turnpikectl: --tcp: expected ADDR:PORT\n");
			return -EINVAL;
		}
		sl = tp_addr_to_sa(&a, &ss);
		fd = socket(a.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sl) != 0)
			goto fail;
		return fd;
	}
	{
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", o->socket);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
			goto fail;
		return fd;
	}
fail:
	{
		int e = errno;

		if (fd >= 0)
			close(fd);
		return -e;
	}
}

/* Send line, read the answer (until the server closes). NULL on failure
 * (*rc: the exit status to use). */
static char *ask(const struct opts *o, const char *line, int *rc, bool quiet)
{
	int fd = connect_admin(o);
	size_t cap = 65536, n = 0;
	char *buf;
	struct timeval tv = { .tv_sec = 15 };

	if (fd < 0) {
		if (!quiet)
			fprintf(stderr, "turnpikectl: cannot reach the admin socket %s: %s\n",
			        o->tcp ? o->tcp : o->socket, strerror(-fd));
		*rc = EX_CONNECT;
		return NULL;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (o->tcp) {
		char tok[512] = "", auth[600];
		FILE *f = o->token_file ? fopen(o->token_file, "r") : NULL;

		if (!f || !fgets(tok, sizeof(tok), f)) {
			fprintf(stderr, "turnpikectl: --tcp needs -T TOKEN-FILE (readable)\n");
			if (f)
				fclose(f);
			close(fd);
			*rc = EX_USAGE;
			return NULL;
		}
		fclose(f);
		tok[strcspn(tok, "\r\n")] = '\0';
		snprintf(auth, sizeof(auth), "auth %s\n", tok);
		if (write(fd, auth, strlen(auth)) < 0) {
			close(fd);
			*rc = EX_CONNECT;
			return NULL;
		}
	}
	if (write(fd, line, strlen(line)) < 0 || write(fd, "\n", 1) < 0) {
		fprintf(stderr, "turnpikectl: write: %s\n", strerror(errno));
		close(fd);
		*rc = EX_CONNECT;
		return NULL;
	}
	buf = malloc(cap);
	for (;;) {
		ssize_t r;

		if (!buf) {
			close(fd);
			*rc = EX_REFUSED;
			return NULL;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n + 1 == cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				buf = NULL;
				continue;
			}
			buf = nb;
			cap *= 2;
		}
	}
	close(fd);
	buf[n] = '\0';
	if (n == 0) {
		fprintf(stderr, "turnpikectl: no answer from the server\n");
		free(buf);
		*rc = EX_CONNECT;
		return NULL;
	}
	*rc = EX_OK;
	return buf;
}

/* Ask, parse, print the error if any. */
static struct jnode *ask_json(const struct opts *o, const char *line, int *rc, char **raw)
{
	const char *err;
	char *text = ask(o, line, rc, false);
	struct jnode *j;

	*raw = text;
	if (!text)
		return NULL;
	j = json_parse(text, strlen(text), &err);
	if (!j) {
		fprintf(stderr, "turnpikectl: a malformed answer (%s)\n", err);
		*rc = EX_REFUSED;
		return NULL;
	}
	if (json_get(j, "error")) {
		fprintf(stderr, "turnpikectl: %s\n", json_str(j, "error"));
		*rc = EX_REFUSED;
	}
	return j;
}

/* ---- printing ---- */

static void human_bytes(double v, char *b, size_t cap)
{
	static const char *u[] = { "B", "KB", "MB", "GB", "TB" };
	int k = 0;

	while (v >= 1000 && k < 4) {
		v /= 1000;
		k++;
	}
	snprintf(b, cap, k ? "%.1f %s" : "%.0f %s", v, u[k]);
}

static void print_status(const struct jnode *j)
{
	const struct jnode *l = json_get(j, "listeners");

	printf("version     %s\n", json_str(j, "version"));
	printf("uptime      %.0f s\n", json_num(j, "uptime"));
	printf("workers     %.0f\n", json_num(j, "workers"));
	printf("realm       %s\n", json_str(j, "realm"));
	printf("allocations %.0f\n", json_num(j, "allocations"));
	printf("relaying    %.0f B/s\n", json_num(j, "relay_bytes_per_second"));
	if (json_bool(j, "draining"))
		printf("state       draining (%.0f s left)\n", json_num(j, "drain_seconds_left"));
	else
		printf("state       serving\n");
	printf("listeners  ");
	for (const struct jnode *c = l ? l->child : NULL; c; c = c->next)
		printf(" %s", c->str ? c->str : "?");
	printf("\n");
}

/* sessions --cluster: the registry's records, every node's */
static void print_cluster_sessions(const struct jnode *j)
{
	const struct jnode *list = json_get(j, "sessions");

	printf("%-16s %-16s %-16s %-4s %-22s %-22s %10s %10s\n", "ID", "NODE", "USER", "TR",
	       "CLIENT", "RELAY", "TO PEER", "TO CLIENT");
	for (const struct jnode *s = list ? list->child : NULL; s; s = s->next) {
		const struct jnode *r = json_get(s, "relay");
		char tp[32], tc[32];

		human_bytes(json_num(json_get(s, "to_peer"), "bytes"), tp, sizeof(tp));
		human_bytes(json_num(json_get(s, "to_client"), "bytes"), tc, sizeof(tc));
		printf("%-16s %-16.16s %-16.16s %-4s %-22s %-22s %10s %10s\n", json_str(s, "id"),
		       json_str(s, "node"), json_str(s, "user"), json_str(s, "transport"),
		       json_str(s, "client"), r && r->child && r->child->str ? r->child->str : "-",
		       tp, tc);
	}
	printf("%.0f session(s) in the cluster%s\n", json_num(j, "count"),
	       json_get(j, "complete") && !json_get(j, "complete")->b ? " (list cut short)" : "");
}

static void print_sessions(const struct jnode *j)
{
	const struct jnode *list = json_get(j, "sessions");

	printf("%-16s %-16s %-4s %-22s %-22s %7s %6s %5s %5s %10s %10s\n", "ID", "USER", "TR",
	       "CLIENT", "RELAY", "AGE", "LEFT", "PERMS", "CHANS", "TO PEER", "TO CLIENT");
	for (const struct jnode *s = list ? list->child : NULL; s; s = s->next) {
		const struct jnode *r = json_get(s, "relay");
		char tp[32], tc[32];

		human_bytes(json_num(json_get(s, "to_peer"), "bytes"), tp, sizeof(tp));
		human_bytes(json_num(json_get(s, "to_client"), "bytes"), tc, sizeof(tc));
		printf("%-16s %-16.16s %-4s %-22s %-22s %6.0fs %5.0fs %5.0f %5.0f %10s %10s\n",
		       json_str(s, "id"), json_str(s, "user"), json_str(s, "transport"),
		       json_str(s, "client"), r && r->child && r->child->str ? r->child->str : "-",
		       json_num(s, "age"), json_num(s, "lifetime_left"), json_num(s, "permissions"),
		       json_num(s, "channels"), tp, tc);
	}
	printf("%.0f session(s)\n", json_num(j, "count"));
}

static void print_tree(const struct jnode *j, int depth)
{
	for (const struct jnode *c = j->child; c; c = c->next) {
		printf("%*s%-24s", depth * 2, "", c->key ? c->key : "");
		if (c->type == J_OBJ) {
			printf("\n");
			print_tree(c, depth + 1);
		} else if (c->type == J_NUM || c->type == J_STR) {
			printf(" %s\n", c->str);
		} else {
			printf(" %s\n", c->type == J_BOOL ? (c->b ? "true" : "false") : "null");
		}
	}
}

/* ---- local commands ---- */

static int read_secret(const char *path, char *out, size_t cap)
{
	FILE *f = fopen(path, "r");

	if (!f || !fgets(out, (int)cap, f)) {
		fprintf(stderr, "turnpikectl: cannot read %s: %s\n", path, f ? "empty" : strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	out[strcspn(out, "\r\n")] = '\0';
	return out[0] ? 0 : -1;
}

/* TURN REST API credentials (draft-uberti-behave-turn-rest): username
 * "<expiry>:<user>", password base64(HMAC-SHA1(secret, username)). */
static int cmd_credential(const struct opts *o, const char *secret_file, const char *user,
                          long ttl)
{
	char secret[1024], name[600], pass[64];
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned maclen = 0;

	if (!secret_file || !user || ttl <= 0) {
		fprintf(stderr, "turnpikectl: credential needs --secret-file F --user U [--ttl S > 0]\n");
		return EX_USAGE;
	}
	if (read_secret(secret_file, secret, sizeof(secret)) != 0)
		return EX_REFUSED;
	snprintf(name, sizeof(name), "%lld:%s", (long long)time(NULL) + ttl, user);
	if (!HMAC(EVP_sha1(), secret, (int)strlen(secret), (const unsigned char *)name, strlen(name),
	          mac, &maclen))
		return EX_REFUSED;
	EVP_EncodeBlock((unsigned char *)pass, mac, (int)maclen);
	memset(secret, 0, sizeof(secret));
	if (o->json)
		printf("{\"username\":\"%s\",\"password\":\"%s\",\"ttl\":%ld}\n", name, pass, ttl);
	else
		printf("username: %s\npassword: %s\n", name, pass);
	return EX_OK;
}

static int users_file(const struct opts *o, int argc, char **argv, const char *file,
                      const char *password, const char *password_file, const char *key,
                      bool reload)
{
	const char *verb = argc > 0 ? argv[0] : NULL, *name = argc > 1 ? argv[1] : NULL;
	config_t cfg;
	config_setting_t *list;
	char pw[1024];
	int rc = EX_OK;

	if (!verb || (strcmp(verb, "list") && !name)) {
		fprintf(stderr, "turnpikectl: users add|remove NAME, or users list\n");
		return EX_USAGE;
	}
	config_init(&cfg);
	if (access(file, F_OK) == 0 && config_read_file(&cfg, file) != CONFIG_TRUE) {
		fprintf(stderr, "turnpikectl: %s:%d: %s\n", file, config_error_line(&cfg),
		        config_error_text(&cfg));
		config_destroy(&cfg);
		return EX_REFUSED;
	}
	list = config_lookup(&cfg, "users");
	if (!list)
		list = config_setting_add(config_root_setting(&cfg), "users", CONFIG_TYPE_LIST);
	if (!list || config_setting_type(list) != CONFIG_TYPE_LIST) {
		fprintf(stderr, "turnpikectl: %s: users is not a list\n", file);
		config_destroy(&cfg);
		return EX_REFUSED;
	}
	if (!strcmp(verb, "list")) {
		for (int i = 0; i < config_setting_length(list); i++) {
			const char *nm = NULL;

			config_setting_lookup_string(config_setting_get_elem(list, (unsigned)i), "name",
			                             &nm);
			printf("%s\n", nm ? nm : "?");
		}
		config_destroy(&cfg);
		return EX_OK;
	}
	int found = -1;

	for (int i = 0; i < config_setting_length(list); i++) {
		const char *nm = NULL;

		if (config_setting_lookup_string(config_setting_get_elem(list, (unsigned)i), "name",
		                                 &nm) && !strcmp(nm, name))
			found = i;
	}
	if (!strcmp(verb, "remove")) {
		if (found < 0) {
			fprintf(stderr, "turnpikectl: no user %s in %s\n", name, file);
			rc = EX_REFUSED;
			goto out;
		}
		config_setting_remove_elem(list, (unsigned)found);
	} else if (!strcmp(verb, "add")) {
		config_setting_t *g;

		if (found >= 0) {
			fprintf(stderr, "turnpikectl: user %s exists in %s (remove it first)\n", name,
			        file);
			rc = EX_REFUSED;
			goto out;
		}
		if (password_file && read_secret(password_file, pw, sizeof(pw)) == 0)
			password = pw;
		if (!!password + !!key != 1) {
			fprintf(stderr, "turnpikectl: users add needs one of --password, "
			                "--password-file, --key\n");
			rc = EX_USAGE;
			goto out;
		}
		g = config_setting_add(list, NULL, CONFIG_TYPE_GROUP);
		config_setting_set_string(config_setting_add(g, "name", CONFIG_TYPE_STRING), name);
		config_setting_set_string(config_setting_add(g, password ? "password" : "key",
		                                             CONFIG_TYPE_STRING),
		                          password ? password : key);
	} else {
		fprintf(stderr, "turnpikectl: users add|remove|list\n");
		rc = EX_USAGE;
		goto out;
	}
	{
		/* written next to it, then renamed: never half a file; 0600 (passwords) */
		char tmp[4096];
		mode_t old = umask(077);

		snprintf(tmp, sizeof(tmp), "%s.tmp", file);
		if (config_write_file(&cfg, tmp) != CONFIG_TRUE || rename(tmp, file) != 0) {
			fprintf(stderr, "turnpikectl: cannot write %s: %s\n", file, strerror(errno));
			unlink(tmp);
			rc = EX_REFUSED;
		}
		umask(old);
	}
	if (rc == EX_OK && reload) {
		char *ans = ask(o, "reload", &rc, false);

		free(ans);
		if (rc == EX_OK)
			printf("%s %s; the server reloaded\n", verb, name);
	}
out:
	memset(pw, 0, sizeof(pw));
	config_destroy(&cfg);
	return rc;
}

/* ---- main ---- */

int main(int argc, char **argv)
{
	enum { O_USER = 256, O_ID, O_DEADLINE, O_WAIT, O_SECRET, O_TTL, O_PASS, O_PASSFILE,
	       O_KEY, O_FILE, O_NORELOAD, O_CLUSTER, O_NODE };
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "tcp", required_argument, NULL, 't' },
		{ "token-file", required_argument, NULL, 'T' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "user", required_argument, NULL, O_USER },
		{ "id", required_argument, NULL, O_ID },
		{ "deadline", required_argument, NULL, O_DEADLINE },
		{ "wait", no_argument, NULL, O_WAIT },
		{ "secret-file", required_argument, NULL, O_SECRET },
		{ "ttl", required_argument, NULL, O_TTL },
		{ "password", required_argument, NULL, O_PASS },
		{ "password-file", required_argument, NULL, O_PASSFILE },
		{ "key", required_argument, NULL, O_KEY },
		{ "file", required_argument, NULL, O_FILE },
		{ "no-reload", no_argument, NULL, O_NORELOAD },
		{ "cluster", no_argument, NULL, O_CLUSTER },
		{ "node", required_argument, NULL, O_NODE },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .socket = "/run/turnpike/admin.sock" };
	const char *user = NULL, *id = NULL, *deadline = NULL, *secret = NULL, *pass = NULL,
	           *passfile = NULL, *key = NULL, *file = "/etc/turnpike/users.conf";
	long ttl = 86400;
	bool wait = false, reload = true, cluster = false;
	const char *node = NULL;
	char line[2048], *raw = NULL;
	struct jnode *j = NULL;
	const char *cmd;
	int c, rc = EX_OK;

	/* options before the command ("+": stop at the first non-option) */
	while ((c = getopt_long(argc, argv, "+s:t:T:jh", lo, NULL)) != -1) {
		switch (c) {
		case 's': o.socket = optarg; break;
		case 't': o.tcp = optarg; break;
		case 'T': o.token_file = optarg; break;
		case 'j': o.json = true; break;
		case 'h': usage(stdout); return EX_OK;
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EX_USAGE;
	}
	cmd = argv[optind];
	/* the command's own options (after it) */
	optind++;
	{
		int sub_argc = argc - optind + 1;
		char **sub_argv = argv + optind - 1;

		optind = 0; /* 0: glibc reinitialises getopt entirely */
		while ((c = getopt_long(sub_argc, sub_argv, "jh", lo, NULL)) != -1) {
			switch (c) {
			case 'j': o.json = true; break;
			case 'h': usage(stdout); return EX_OK;
			case O_USER: user = optarg; break;
			case O_ID: id = optarg; break;
			case O_DEADLINE: deadline = optarg; break;
			case O_WAIT: wait = true; break;
			case O_SECRET: secret = optarg; break;
			case O_TTL: ttl = strtol(optarg, NULL, 10); break;
			case O_PASS: pass = optarg; break;
			case O_PASSFILE: passfile = optarg; break;
			case O_KEY: key = optarg; break;
			case O_FILE: file = optarg; break;
			case O_NORELOAD: reload = false; break;
			case O_CLUSTER: cluster = true; break;
			case O_NODE: node = optarg; cluster = true; break;
			default: usage(stderr); return EX_USAGE;
			}
		}
		argc = sub_argc - optind;
		argv = sub_argv + optind;
	}

	if (!strcmp(cmd, "credential"))
		return cmd_credential(&o, secret, user, ttl);
	if (!strcmp(cmd, "users"))
		return users_file(&o, argc, argv, file, pass, passfile, key, reload);

	snprintf(line, sizeof(line), "%s", cmd);
	if (!strcmp(cmd, "sessions") || !strcmp(cmd, "kill")) {
		add_arg(line, sizeof(line), "user", user);
		add_arg(line, sizeof(line), "id", id);
		if (cluster)
			add_arg(line, sizeof(line), "cluster", "1");
		add_arg(line, sizeof(line), "node", node);
	} else if (!strcmp(cmd, "drain")) {
		add_arg(line, sizeof(line), "deadline", deadline);
	} else if (!strcmp(cmd, "log-level")) {
		if (argc < 1) {
			fprintf(stderr, "turnpikectl: log-level error|warn|info|debug\n");
			return EX_USAGE;
		}
		add_arg(line, sizeof(line), "level", argv[0]);
	} else if (strcmp(cmd, "status") && strcmp(cmd, "stats") && strcmp(cmd, "undrain") &&
	           strcmp(cmd, "reload")) {
		fprintf(stderr, "turnpikectl: unknown command %s\n", cmd);
		usage(stderr);
		return EX_USAGE;
	}
	j = ask_json(&o, line, &rc, &raw);
	if (j && rc == EX_OK) {
		if (o.json)
			fputs(raw, stdout);
		else if (!strcmp(cmd, "status"))
			print_status(j);
		else if (!strcmp(cmd, "sessions") && cluster)
			print_cluster_sessions(j);
		else if (!strcmp(cmd, "sessions"))
			print_sessions(j);
		else if (!strcmp(cmd, "stats"))
			print_tree(j, 0);
		else if (!strcmp(cmd, "kill") && cluster)
			printf("kill order delivered to %.0f worker(s) of the cluster's nodes\n",
			       json_num(j, "instances"));
		else if (!strcmp(cmd, "kill"))
			printf("%.0f session(s) killed\n", json_num(j, "killed"));
		else
			printf("%s\n", json_str(j, "message"));
	}
	if (rc == EX_OK && !strcmp(cmd, "drain") && wait) {
		/* until the server has exited (the socket goes away) */
		long limit = deadline ? strtol(deadline, NULL, 10) + 30 : 604800;

		for (long t = 0; t < limit * 10; t++) {
			char *a = ask(&o, "status", &rc, true);

			free(a);
			if (rc == EX_CONNECT) {
				rc = EX_OK;
				printf("the server has exited\n");
				break;
			}
			usleep(100 * 1000);
		}
	}
	json_free(j);
	free(raw);
	return rc;
}
