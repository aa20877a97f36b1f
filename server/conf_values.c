/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * conf_values.c - one setting into struct tp_conf, as the option table says:
 * the type, the bounds, the string forms of addresses, listeners, ranges and
 * endpoints, the lists (a list replaces the one before it). Every error names
 * the option and where it was set (fail(), conf_priv.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conf_priv.h"
#include "log.h"

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
	static const char flag[] = " proxy-protocol";
	uint16_t port = 3478;
	char a[80];
	size_t n = strlen(s);

	memset(l, 0, sizeof(*l));
	if (n > sizeof(flag) - 1 && strcmp(s + n - (sizeof(flag) - 1), flag) == 0) {
		n -= sizeof(flag) - 1;
		if (n >= sizeof(a))
			return "not a listening address (expected \"PROTO:ADDR:PORT\")";
		memcpy(a, s, n);
		a[n] = '\0';
		s = a;
		l->proxy = true;
	}
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
	if (l->proxy && l->proto != TP_LISTEN_TCP && l->proto != TP_LISTEN_TLS)
		return "proxy-protocol is for tcp: and tls: listeners only";
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

void tp_cfg_clear_list(struct tp_conf *c, const struct opt *o)
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
int tp_cfg_add_list_elem(struct ld *ld, const struct opt *o, const char *v,
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

int tp_cfg_apply_string(struct ld *ld, const struct opt *o, const config_setting_t *s,
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
int tp_cfg_apply(struct ld *ld, const struct opt *o, const config_setting_t *s)
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
		return tp_cfg_apply_string(ld, o, s, config_setting_get_string(s));
	case T_USERS:
		return tp_cfg_apply_users(ld, o, s);
	default:
		break;
	}

	/* The lists of strings. */
	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST)
		return fail(ld, s, o->name, "wrong type: %s (expected a list of strings "
		            "[ \"...\", ... ])", type_name(s));
	tp_cfg_clear_list(ld->c, o);
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return fail(ld, e, o->name, "wrong type: %s in the list (expected a string)",
			            type_name(e));
		if (tp_cfg_add_list_elem(ld, o, config_setting_get_string(e), e))
			return -1;
	}
	if (*count(ld->c, o) < (size_t)o->min)
		return fail(ld, s, o->name, "empty (expected at least %lld entries)", o->min);
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
