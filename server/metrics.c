/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * metrics.c - /metrics and the health endpoints (see metrics.h).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "metrics.h"
#include "offload.h"
#include "shared.h"
#include "sock.h"

struct tp_metrics {
	struct tp_srv *s;             /* borrowed: worker 0 */
	struct evhttp *http;
	time_t started;               /* wall clock */
	uint64_t reloads;
	time_t reloaded;              /* wall clock of the last reload, 0: none */
};

static const char *transport_label[TP_ST_COUNT] = { "?", "udp", "tcp", "tls", "dtls" };
/* coturn's socket type names for turn_total_allocations */
static const char *coturn_type[TP_ST_COUNT] = { "?", "UDP", "TCP", "TLS/TCP", "DTLS" };

static void head(struct evbuffer *b, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value, escaped per the exposition format (\\, \", \n). */
static void label_value(struct evbuffer *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			evbuffer_add_printf(b, "\\%c", *v);
		else if (*v == '\n')
			evbuffer_add(b, "\\n", 2);
		else
			evbuffer_add(b, v, 1);
	}
}

static void render_turnpike(struct tp_metrics *m, const struct tp_stats *st, struct evbuffer *b)
{
	struct tp_shared *sh = m->s->sh;
	static const struct {
		const char *cause;
		size_t off;
	} drops[] = {
		{ "no_permission", offsetof(struct tp_stats, drop_no_perm) },
		{ "slow_reader", offsetof(struct tp_stats, drop_slow) },
		{ "rate_limit", offsetof(struct tp_stats, drop_rate) },
		{ "peer_policy", offsetof(struct tp_stats, drop_policy) },
		{ "send_error", offsetof(struct tp_stats, send_errors) },
		{ "bandwidth", offsetof(struct tp_stats, drop_bandwidth) },
		{ "malformed", offsetof(struct tp_stats, drop_malformed) },
		{ "not_stun", offsetof(struct tp_stats, drop_not_stun) },
		{ "no_allocation", offsetof(struct tp_stats, drop_no_alloc) },
		{ "too_big", offsetof(struct tp_stats, drop_too_big) },
		{ "reply_too_big", offsetof(struct tp_stats, drop_reply) },
		{ "kernel", offsetof(struct tp_stats, kernel_drops) },
		{ "proxy_protocol", offsetof(struct tp_stats, drop_proxy) },
	};

	head(b, "turnpike_build_info", "gauge", "Build information");
	evbuffer_add_printf(b, "turnpike_build_info{version=\"%s\"} 1\n", TP_VERSION);
	head(b, "turnpike_start_time_seconds", "gauge", "When the process started (Unix time)");
	evbuffer_add_printf(b, "turnpike_start_time_seconds %lld\n", (long long)m->started);
	head(b, "turnpike_config_reloads_total", "counter", "Configuration reloads");
	evbuffer_add_printf(b, "turnpike_config_reloads_total %llu\n",
	                    (unsigned long long)m->reloads);
	head(b, "turnpike_config_reload_timestamp_seconds", "gauge",
	     "When the configuration was last reloaded (Unix time; 0: never)");
	evbuffer_add_printf(b, "turnpike_config_reload_timestamp_seconds %lld\n",
	                    (long long)m->reloaded);
	head(b, "turnpike_draining", "gauge", "1 while new allocations are sent elsewhere");
	evbuffer_add_printf(b, "turnpike_draining %d\n", atomic_load(&sh->draining) ? 1 : 0);
	head(b, "turnpike_redis_up", "gauge",
	     "1 while the configured Redis is reachable (0 without one, or while it is not)");
	evbuffer_add_printf(b, "turnpike_redis_up %d\n", atomic_load(&sh->redis_up) ? 1 : 0);
	head(b, "turnpike_workers", "gauge", "Event loops");
	evbuffer_add_printf(b, "turnpike_workers %zu\n", sh->nworkers);

	head(b, "turnpike_allocations", "gauge", "Relay endpoints of live allocations, by client "
	     "transport and relay address family");
	for (int t = 1; t < TP_ST_COUNT; t++)
		for (int f = 0; f < 2; f++)
			evbuffer_add_printf(b, "turnpike_allocations{transport=\"%s\",family=\"%s\"} %llu\n",
			                    transport_label[t], f ? "ipv6" : "ipv4",
			                    (unsigned long long)st->allocs[t][f]);
	head(b, "turnpike_stream_connections", "gauge", "TCP and TLS client connections");
	evbuffer_add_printf(b, "turnpike_stream_connections %llu\n",
	                    (unsigned long long)st->stream_conns);
	head(b, "turnpike_permissions", "gauge", "Live permissions");
	evbuffer_add_printf(b, "turnpike_permissions %llu\n", (unsigned long long)st->permissions);
	head(b, "turnpike_channels", "gauge", "Live channel bindings");
	evbuffer_add_printf(b, "turnpike_channels %llu\n", (unsigned long long)st->channels);
	head(b, "turnpike_allocations_created_total", "counter", "Allocations made");
	evbuffer_add_printf(b, "turnpike_allocations_created_total %llu\n",
	                    (unsigned long long)st->allocs_created);

	head(b, "turnpike_requests_total", "counter", "Answered requests by method and result");
	for (int me = 0; me < TP_SM_COUNT; me++)
		for (unsigned r = 0; r < TP_SR_COUNT; r++) {
			if (!st->req[me][r] && r)
				continue;   /* every method's success line, and errors seen */
			if (r)
				evbuffer_add_printf(b, "turnpike_requests_total{method=\"%s\",result=\"%u\"} "
				                    "%llu\n", tp_stats_method_name(me), tp_stats_code(r),
				                    (unsigned long long)st->req[me][r]);
			else
				evbuffer_add_printf(b, "turnpike_requests_total{method=\"%s\",result=\"success\"} "
				                    "%llu\n", tp_stats_method_name(me),
				                    (unsigned long long)st->req[me][r]);
		}
	head(b, "turnpike_challenges_total", "counter", "401 and 438 answers (nonce challenges)");
	for (int k = 0; k < 2; k++) {
		uint16_t code = k ? 438 : 401;
		uint64_t n = 0;

		for (int me = 0; me < TP_SM_COUNT; me++)
			n += st->req[me][tp_stats_result(code)];
		evbuffer_add_printf(b, "turnpike_challenges_total{code=\"%u\"} %llu\n", code,
		                    (unsigned long long)n);
	}
	head(b, "turnpike_auth_failures_total", "counter", "Failed authentications by reason");
	evbuffer_add_printf(b, "turnpike_auth_failures_total{reason=\"unknown_user\"} %llu\n"
	                       "turnpike_auth_failures_total{reason=\"bad_integrity\"} %llu\n"
	                       "turnpike_auth_failures_total{reason=\"expired_credential\"} %llu\n"
	                       "turnpike_auth_failures_total{reason=\"stale_nonce\"} %llu\n",
	                    (unsigned long long)st->auth_fail_unknown,
	                    (unsigned long long)st->auth_fail_integrity,
	                    (unsigned long long)st->auth_fail_expired,
	                    (unsigned long long)st->auth_fail_nonce);
	head(b, "turnpike_auth_throttled_total", "counter",
	     "Requests dropped unchecked: too many failed password checks (source or user)");
	evbuffer_add_printf(b, "turnpike_auth_throttled_total %llu\n",
	                    (unsigned long long)st->auth_throttled);
	head(b, "turnpike_unauth_rate_limited_total", "counter",
	     "Unauthenticated requests dropped by unauth-rate");
	evbuffer_add_printf(b, "turnpike_unauth_rate_limited_total %llu\n",
	                    (unsigned long long)st->drop_rate);

	head(b, "turnpike_relayed_packets_total", "counter",
	     "Relayed datagrams by direction and client transport (live)");
	for (int d = 0; d < 2; d++)
		for (int t = 1; t < TP_ST_COUNT; t++)
			evbuffer_add_printf(b, "turnpike_relayed_packets_total{direction=\"%s\","
			                    "transport=\"%s\"} %llu\n", d ? "to_client" : "to_peer",
			                    transport_label[t], (unsigned long long)st->relay_pkts[d][t]);
	head(b, "turnpike_relayed_bytes_total", "counter",
	     "Relayed application bytes by direction and client transport (live)");
	for (int d = 0; d < 2; d++)
		for (int t = 1; t < TP_ST_COUNT; t++)
			evbuffer_add_printf(b, "turnpike_relayed_bytes_total{direction=\"%s\","
			                    "transport=\"%s\"} %llu\n", d ? "to_client" : "to_peer",
			                    transport_label[t], (unsigned long long)st->relay_bytes[d][t]);
	head(b, "turnpike_offload_enabled", "gauge",
	     "1 while the kernel datapath relays channels (kernel-offload loaded)");
	evbuffer_add_printf(b, "turnpike_offload_enabled %d\n", sh->offload ? 1 : 0);
	head(b, "turnpike_offload_channels", "gauge", "Channels the kernel relays now");
	evbuffer_add_printf(b, "turnpike_offload_channels %llu\n",
	                    (unsigned long long)st->offload_channels);
	head(b, "turnpike_offload_installed_total", "counter", "Channels handed to the kernel");
	evbuffer_add_printf(b, "turnpike_offload_installed_total %llu\n",
	                    (unsigned long long)st->offload_installed);
	head(b, "turnpike_offload_install_failures_total", "counter",
	     "Channels the kernel refused (relayed in user space)");
	evbuffer_add_printf(b, "turnpike_offload_install_failures_total %llu\n",
	                    (unsigned long long)st->offload_install_failures);
	head(b, "turnpike_offload_packets_total", "counter",
	     "Datagrams relayed by the kernel, by direction (also in turnpike_relayed_packets_total)");
	head(b, "turnpike_offload_bytes_total", "counter",
	     "Application bytes relayed by the kernel, by direction (also in "
	     "turnpike_relayed_bytes_total)");
	for (int d = 0; d < 2; d++)
		evbuffer_add_printf(b, "turnpike_offload_packets_total{direction=\"%s\"} %llu\n"
		                       "turnpike_offload_bytes_total{direction=\"%s\"} %llu\n",
		                    d ? "to_client" : "to_peer", (unsigned long long)st->offload_pkts[d],
		                    d ? "to_client" : "to_peer", (unsigned long long)st->offload_bytes[d]);
	if (sh->offload) {
		uint64_t why[TP_OFFLOAD_NREASONS];

		if (tp_offload_reasons(sh->offload, why) == 0) {
			head(b, "turnpike_offload_datagrams_total", "counter",
			     "UDP datagrams the kernel program saw: relayed (c2p, p2c) or left to user "
			     "space, by reason (docs/OFFLOAD.md)");
			for (int r = 0; r < TP_OFFLOAD_NREASONS; r++)
				evbuffer_add_printf(b, "turnpike_offload_datagrams_total{reason=\"%s\"} "
				                    "%llu\n", tp_offload_reason_name(r),
				                    (unsigned long long)why[r]);
		}
	}
	head(b, "turnpike_relay_bytes_per_second", "gauge", "Bytes relayed in the last second");
	evbuffer_add_printf(b, "turnpike_relay_bytes_per_second %llu\n",
	                    (unsigned long long)atomic_load(&sh->relay_bps));
	head(b, "turnpike_dropped_total", "counter", "Datagrams and messages dropped, by cause");
	for (size_t i = 0; i < sizeof(drops) / sizeof(drops[0]); i++)
		evbuffer_add_printf(b, "turnpike_dropped_total{cause=\"%s\"} %llu\n", drops[i].cause,
		                    (unsigned long long)*(const uint64_t *)(const void *)
		                            ((const char *)st + drops[i].off));
	head(b, "turnpike_connections_refused_total", "counter",
	     "Stream and DTLS clients refused by the connection limits");
	evbuffer_add_printf(b, "turnpike_connections_refused_total %llu\n",
	                    (unsigned long long)st->conn_refused);
}

/* coturn's names with coturn's meaning (src/apps/relay/prom_server.c): the
 * traffic of allocations that ended, per realm and in all, and the live
 * allocations by socket type. */
static void render_coturn(struct tp_metrics *m, const struct tp_stats *st, struct evbuffer *b)
{
	const char *realm = m->s->conf->realm;
	static const struct {
		const char *name, *help;
		size_t off;
	} traffic[] = {
		{ "rcvp", "received packets", offsetof(struct tp_stats, fin_rcvp) },
		{ "rcvb", "received bytes", offsetof(struct tp_stats, fin_rcvb) },
		{ "sentp", "sent packets", offsetof(struct tp_stats, fin_sentp) },
		{ "sentb", "sent bytes", offsetof(struct tp_stats, fin_sentb) },
		{ "peer_rcvp", "peer received packets", offsetof(struct tp_stats, fin_peer_rcvp) },
		{ "peer_rcvb", "peer received bytes", offsetof(struct tp_stats, fin_peer_rcvb) },
		{ "peer_sentp", "peer sent packets", offsetof(struct tp_stats, fin_peer_sentp) },
		{ "peer_sentb", "peer sent bytes", offsetof(struct tp_stats, fin_peer_sentb) },
	};

	for (size_t i = 0; i < sizeof(traffic) / sizeof(traffic[0]); i++) {
		uint64_t v = *(const uint64_t *)(const void *)((const char *)st + traffic[i].off);
		char name[64], help[96];

		snprintf(name, sizeof(name), "turn_traffic_%s", traffic[i].name);
		snprintf(help, sizeof(help), "Represents finished sessions %s", traffic[i].help);
		head(b, name, "counter", help);
		evbuffer_add_printf(b, "%s{realm=\"", name);
		label_value(b, realm);
		evbuffer_add_printf(b, "\"} %llu\n", (unsigned long long)v);
		snprintf(name, sizeof(name), "turn_total_traffic_%s", traffic[i].name);
		snprintf(help, sizeof(help), "Represents total finished sessions %s", traffic[i].help);
		head(b, name, "counter", help);
		evbuffer_add_printf(b, "%s %llu\n", name, (unsigned long long)v);
	}
	head(b, "turn_total_allocations", "gauge", "Represents current allocations number");
	for (int t = 1; t < TP_ST_COUNT; t++)
		evbuffer_add_printf(b, "turn_total_allocations{type=\"%s\"} %llu\n", coturn_type[t],
		                    (unsigned long long)(st->allocs[t][0] + st->allocs[t][1]));
}

/*
 * metrics-users: series for the users relaying the most, never more than
 * configured (coturn's per-user series grew with every user ever seen). The
 * others' allocations are one gauge, user="other"; their bytes are not
 * summed into a counter, which would go down whenever a user moved into the
 * top. A user's counters start with its first live allocation and go when
 * its last one ends.
 */
static void render_users(struct tp_metrics *m, struct evbuffer *b)
{
	static const char *dir[2] = { "to_peer", "to_client" };
	size_t n = m->s->conf->metrics_users;
	struct tp_user_stat *top, other;
	long got;

	if (!n)
		return;
	top = calloc(n, sizeof(*top));
	if (!top)
		return;
	got = tp_shared_users_top(m->s->sh, n, top, &other);
	if (got < 0) {
		free(top);
		return;
	}
	head(b, "turnpike_user_allocations", "gauge",
	     "Allocations of the users relaying the most (metrics-users), and of the others");
	for (long i = 0; i < got; i++) {
		evbuffer_add_printf(b, "turnpike_user_allocations{user=\"");
		label_value(b, top[i].name);
		evbuffer_add_printf(b, "\"} %llu\n", (unsigned long long)top[i].allocations);
	}
	evbuffer_add_printf(b, "turnpike_user_allocations{user=\"other\"} %llu\n",
	                    (unsigned long long)other.allocations);
	head(b, "turnpike_user_relayed_bytes_total", "counter",
	     "Bytes relayed for each of the users relaying the most, by direction");
	for (long i = 0; i < got; i++)
		for (int d = 0; d < 2; d++) {
			evbuffer_add_printf(b, "turnpike_user_relayed_bytes_total{user=\"");
			label_value(b, top[i].name);
			evbuffer_add_printf(b, "\",direction=\"%s\"} %llu\n", dir[d],
			                    (unsigned long long)top[i].bytes[d]);
		}
	head(b, "turnpike_user_relayed_packets_total", "counter",
	     "Packets relayed for each of the users relaying the most, by direction");
	for (long i = 0; i < got; i++)
		for (int d = 0; d < 2; d++) {
			evbuffer_add_printf(b, "turnpike_user_relayed_packets_total{user=\"");
			label_value(b, top[i].name);
			evbuffer_add_printf(b, "\",direction=\"%s\"} %llu\n", dir[d],
			                    (unsigned long long)top[i].pkts[d]);
		}
	head(b, "turnpike_users_not_shown", "gauge",
	     "Users with allocations beyond metrics-users (summed as user=\"other\")");
	evbuffer_add_printf(b, "turnpike_users_not_shown %llu\n", (unsigned long long)other.users);
	free(top);
}

void tp_metrics_render(struct tp_metrics *m, struct evbuffer *out)
{
	struct tp_stats st;

	tp_shared_sum(m->s->sh, &st);
	render_turnpike(m, &st, out);
	render_users(m, out);
	render_coturn(m, &st, out);
}

static void reply_text(struct evhttp_request *req, int code, const char *reason, const char *text)
{
	struct evbuffer *b = evbuffer_new();

	if (!b) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evbuffer_add(b, text, strlen(text));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	                  "text/plain; charset=utf-8");
	evhttp_send_reply(req, code, reason, b);
	evbuffer_free(b);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct tp_metrics *m = arg;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET &&
	    evhttp_request_get_command(req) != EVHTTP_REQ_HEAD) {
		evhttp_send_error(req, 405, "Method Not Allowed");
		return;
	}
	if (!path || strcmp(path, "/") == 0 || strcmp(path, "/live") == 0) {
		reply_text(req, 200, "OK", "ok\n");
	} else if (strcmp(path, "/ready") == 0) {
		if (atomic_load(&m->s->sh->draining))
			reply_text(req, 503, "Service Unavailable", "draining\n");
		else
			reply_text(req, 200, "OK", "ready\n");
	} else if (strcmp(path, "/metrics") == 0) {
		struct evbuffer *b = evbuffer_new();

		if (!b) {
			evhttp_send_error(req, 500, NULL);
			return;
		}
		tp_metrics_render(m, b);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
		                  "text/plain; version=0.0.4; charset=utf-8");
		evhttp_send_reply(req, 200, "OK", b);
		evbuffer_free(b);
	} else {
		evhttp_send_error(req, 404, NULL);
	}
}

struct tp_metrics *tp_metrics_open(struct tp_srv *s, char *err, size_t errlen)
{
	struct tp_endpoint ep;
	const char *why;
	struct tp_metrics *m;
	int fd;

	if (tp_endpoint_parse(s->conf->metrics, &ep, &why) != 0 || ep.kind != TP_EP_HTTP)
		return NULL; /* none (checked at load) */
	m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, errlen, "metrics: out of memory");
		return NULL;
	}
	m->s = s;
	m->started = time(NULL);
	fd = tp_sock_bind(&ep.addr, SOCK_STREAM, TP_SOCK_REUSEADDR | TP_SOCK_LISTEN, NULL);
	if (fd < 0) {
		snprintf(err, errlen, "metrics %s: %s", s->conf->metrics, strerror(-fd));
		free(m);
		return NULL;
	}
	m->http = evhttp_new(s->base);
	if (!m->http || !evhttp_accept_socket_with_handle(m->http, fd)) {
		snprintf(err, errlen, "metrics %s: cannot serve HTTP", s->conf->metrics);
		if (m->http)
			evhttp_free(m->http);
		close(fd);
		free(m);
		return NULL;
	}
	/* bounded: small requests, a few seconds, GET only */
	evhttp_set_max_headers_size(m->http, 8192);
	evhttp_set_max_body_size(m->http, 0);
	evhttp_set_timeout(m->http, 10);
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_gencb(m->http, on_request, m);
	tp_info(NULL, "metrics on http://%s/metrics", s->conf->metrics + 5);
	return m;
}

void tp_metrics_reloaded(struct tp_metrics *m)
{
	if (!m)
		return;
	m->reloads++;
	m->reloaded = time(NULL);
}

void tp_metrics_free(struct tp_metrics *m)
{
	if (!m)
		return;
	evhttp_free(m->http);
	free(m);
}
