/*
 * srv.c - a server instance on one event loop: listeners, relay addresses, the
 * server's own addresses (for the peer policy), keys, and reload.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "alloc.h"
#include "auth.h"
#include "listen_udp.h"
#include "ports.h"
#include "srv.h"

time_t tp_now(const struct tp_srv *s)
{
	struct timespec ts;

	(void)s;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec;
}

uint64_t tp_now_ms(const struct tp_srv *s)
{
	struct timespec ts;

	(void)s;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool is_zero(const struct tp_addr *a)
{
	static const uint8_t zero[16];

	return memcmp(a->ip, zero, a->family == AF_INET6 ? 16 : 4) == 0;
}

static void add_self(struct tp_srv *s, const struct tp_addr *a)
{
	size_t max = sizeof(s->self_addrs) / sizeof(s->self_addrs[0]);

	if (is_zero(a))
		return;
	for (size_t i = 0; i < s->self.naddrs; i++)
		if (tp_addr_ip_eq(&s->self_addrs[i], a))
			return;
	if (s->self.naddrs < max) {
		s->self_addrs[s->self.naddrs] = *a;
		s->self_addrs[s->self.naddrs++].port = 0;
	}
}

/* Rank an interface address as a relay address: global 3, private 2, loopback 1. */
static int rank(const struct tp_addr *a)
{
	if (a->family == AF_INET) {
		if (a->ip[0] == 127)
			return 1;
		if (a->ip[0] == 169 && a->ip[1] == 254)
			return 0;
		if (a->ip[0] == 10 || (a->ip[0] == 172 && (a->ip[1] & 0xF0) == 16) ||
		    (a->ip[0] == 192 && a->ip[1] == 168))
			return 2;
		return 3;
	}
	static const uint8_t lo6[16] = { [15] = 1 };

	if (memcmp(a->ip, lo6, 16) == 0)
		return 1;
	if (a->ip[0] == 0xfe && (a->ip[1] & 0xC0) == 0x80)
		return 0;
	if ((a->ip[0] & 0xFE) == 0xfc)
		return 2;
	return 3;
}

/*
 * Relay address per family: relay-ip if configured; else a specific listener
 * address of that family; else the best interface address (global, then
 * private, then loopback).
 */
static void choose_relay(struct tp_srv *s, int family, struct tp_addr *out)
{
	const struct tp_conf *c = s->conf;
	struct ifaddrs *ifs, *i;
	int best = 0;

	memset(out, 0, sizeof(*out));
	for (size_t k = 0; k < c->nrelay_ip; k++)
		if (c->relay_ip[k].family == family) {
			*out = c->relay_ip[k];
			return;
		}
	if (c->nrelay_ip)
		return; /* relay-ip given, none of this family: no relay of this family */
	for (size_t k = 0; k < c->nlisten; k++)
		if (c->listen[k].addr.family == family && !is_zero(&c->listen[k].addr)) {
			*out = c->listen[k].addr;
			out->port = 0;
			return;
		}
	if (getifaddrs(&ifs) != 0)
		return;
	for (i = ifs; i; i = i->ifa_next) {
		struct tp_addr a;
		int r;

		if (!i->ifa_addr || i->ifa_addr->sa_family != family || !(i->ifa_flags & IFF_UP))
			continue;
		if (tp_addr_from_sa(&a, i->ifa_addr) != 0)
			continue;
		r = rank(&a);
		if (r > best) {
			best = r;
			*out = a;
			out->port = 0;
		}
	}
	freeifaddrs(ifs);
}

static void collect_self(struct tp_srv *s)
{
	const struct tp_conf *c = s->conf;
	struct ifaddrs *ifs;

	s->self.naddrs = 0;
	s->self.addrs = s->self_addrs;
	if (getifaddrs(&ifs) == 0) {
		for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
			struct tp_addr a;

			if (i->ifa_addr && tp_addr_from_sa(&a, i->ifa_addr) == 0)
				add_self(s, &a);
		}
		freeifaddrs(ifs);
	}
	for (size_t i = 0; i < c->nexternal; i++) {
		add_self(s, &c->external[i].pub);
		if (c->external[i].priv.family)
			add_self(s, &c->external[i].priv);
	}
	if (s->relay4.family)
		add_self(s, &s->relay4);
	if (s->relay6.family)
		add_self(s, &s->relay6);
}

static int open_listeners(struct tp_srv *s, char *err, size_t errlen)
{
	const struct tp_conf *c = s->conf;

	for (size_t i = 0; i < c->nlisten; i++) {
		const struct tp_listen *l = &c->listen[i];
		char a[64];
		int rc;

		tp_addr_fmt(&l->addr, a, sizeof(a));
		if (l->proto != TP_LISTEN_UDP) {
			snprintf(err, errlen, "listen %s: only udp listeners exist in this version", a);
			return -EINVAL;
		}
		rc = tp_udp_listen(s, &l->addr, &s->udp[s->nudp]);
		if (rc) {
			snprintf(err, errlen, "listen udp %s: %s", a, strerror(-rc));
			return rc;
		}
		s->listen[s->nudp].proto = l->proto;
		s->listen[s->nudp].addr = *tp_udp_addr(s->udp[s->nudp]);
		s->nudp++;
	}
	s->self.listen = s->listen;
	s->self.nlisten = s->nudp;
	return 0;
}

static void make_pools(struct tp_srv *s)
{
	choose_relay(s, AF_INET, &s->relay4);
	choose_relay(s, AF_INET6, &s->relay6);
	if (s->relay4.family)
		s->pool4 = tp_portpool_create(&s->relay4);
	if (s->relay6.family)
		s->pool6 = tp_portpool_create(&s->relay6);
}

static bool needs_demo(const struct tp_conf *c)
{
	return c->demo_user && c->nusers == 0 && c->nsecrets == 0;
}

struct tp_srv *tp_srv_create(struct event_base *base, const struct tp_conf *c, char *err,
                             size_t errlen)
{
	struct tp_srv *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->base = base;
	s->conf = c;
	randombytes_buf(s->hash_key, sizeof(s->hash_key));
	randombytes_buf(s->nonce_key, sizeof(s->nonce_key));
	randombytes_buf(s->ticket_key, sizeof(s->ticket_key));
	if (tp_alloc_tables_init(s) != 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (open_listeners(s, err, errlen) != 0)
		goto fail;
	make_pools(s);
	if (!s->pool4 && !s->pool6) {
		snprintf(err, errlen, "no relay address: set relay-ip");
		goto fail;
	}
	collect_self(s);
	if (needs_demo(c) && tp_auth_make_demo(s) != 0) {
		snprintf(err, errlen, "cannot derive the demo credential");
		goto fail;
	}
	return s;
fail:
	tp_srv_free(s);
	return NULL;
}

void tp_srv_free(struct tp_srv *s)
{
	if (!s)
		return;
	tp_alloc_tables_free(s);
	for (size_t i = 0; i < s->nudp; i++)
		tp_udp_close(s->udp[i]);
	tp_portpool_free(s->pool4);
	tp_portpool_free(s->pool6);
	sodium_memzero(s->nonce_key, sizeof(s->nonce_key));
	free(s);
}

int tp_srv_reload(struct tp_srv *s, const struct tp_conf *c)
{
	const struct tp_conf *old = s->conf;
	bool demo_before = s->demo.name != NULL;

	s->conf = c;
	if (c->nlisten != old->nlisten || memcmp(c->listen, old->listen, sizeof(c->listen)) != 0)
		tp_warn(NULL, "reload: listener changes take effect at the next restart");
	if (c->min_port != old->min_port || c->max_port != old->max_port ||
	    c->nrelay_ip != old->nrelay_ip)
		tp_warn(NULL, "reload: relay address and port changes take effect at the next restart");
	if (needs_demo(c)) {
		if (!demo_before || strcmp(c->realm, old->realm) != 0)
			tp_auth_make_demo(s);
	} else {
		memset(&s->demo, 0, sizeof(s->demo));
		s->demo_pass[0] = '\0';
	}
	collect_self(s);
	tp_alloc_recheck_policy(s);
	return 0;
}

void tp_srv_describe(const struct tp_srv *s)
{
	char a[64], b[256] = "";
	size_t off = 0;

	for (size_t i = 0; i < s->nudp && off < sizeof(b) - 70; i++) {
		tp_addr_fmt(&s->listen[i].addr, a, sizeof(a));
		off += (size_t)snprintf(b + off, sizeof(b) - off, "%sudp %s", i ? ", " : "", a);
	}
	tp_info(NULL, "turnpike %s listening on %s", TP_VERSION, b);
	if (s->pool4) {
		tp_addr_fmt(&s->relay4, a, sizeof(a));
		tp_info(NULL, "relay IPv4 %s ports %u-%u", a, s->conf->min_port, s->conf->max_port);
	}
	if (s->pool6) {
		tp_addr_fmt(&s->relay6, a, sizeof(a));
		tp_info(NULL, "relay IPv6 %s ports %u-%u", a, s->conf->min_port, s->conf->max_port);
	}
	if (s->demo.name)
		tp_warn(NULL, "no users or static-auth-secret configured: demo credential "
		              "user=demo password=%s realm=%s (for trying out; configure users "
		              "before real use)", s->demo_pass, s->conf->realm);
}
