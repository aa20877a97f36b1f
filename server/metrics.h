/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * metrics.h - the Prometheus endpoint (metrics = "http:ADDR:PORT").
 *
 * Served by libevent's evhttp on worker 0's loop: /metrics in the text
 * exposition format (turnpike_* series and coturn's turn_* names with
 * coturn's meaning), / and /live answering 200, /ready answering 503 while
 * the node drains. The counters are each worker's snapshot of its last
 * one-second tick (shared.h), so they move while sessions run.
 */
#ifndef TP_METRICS_H
#define TP_METRICS_H

#include "server.h"

struct tp_metrics;

/* Listen on the endpoint in s->conf->metrics (s is worker 0). NULL when not
 * configured; sets err (and returns NULL) when it cannot listen. */
struct tp_metrics *tp_metrics_open(struct tp_srv *s, char *err, size_t errlen);
void tp_metrics_free(struct tp_metrics *m);
/* A configuration reload happened (counted, with its wall-clock time). */
void tp_metrics_reloaded(struct tp_metrics *m);
/* The text of /metrics into buf (for tests and turnpikectl stats). */
struct evbuffer;
void tp_metrics_render(struct tp_metrics *m, struct evbuffer *out);

#endif
