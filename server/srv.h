/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * srv.h - creating, reloading and freeing a server instance.
 */
#ifndef TP_SRV_H
#define TP_SRV_H

#include "server.h"

/* Once, before the workers: relay addresses and port pools into sh. */
int tp_srv_shared_setup(struct tp_shared *sh, const struct tp_conf *c, char *err, size_t errlen);
/* A worker on base: opens its listeners (worker 0 first: the others reuse its
 * addresses) for conf c (borrowed until replaced by tp_srv_reload). The caller
 * registers it in sh->workers. NULL with a message in err. */
struct tp_srv *tp_srv_create(struct event_base *base, const struct tp_conf *c,
                             struct tp_shared *sh, unsigned worker, char *err, size_t errlen);
/* Swap in a new configuration (users, secrets, peer policy, quotas, lifetimes);
 * allocations stay. The caller frees the old one after this returns. */
int tp_srv_reload(struct tp_srv *s, const struct tp_conf *c);
/* Rebuild the TLS/DTLS contexts from the configuration's certificate files
 * (SIGUSR2; part of every reload). New sessions get the new certificate. */
void tp_srv_reload_tls(struct tp_srv *s);
/* Frees every allocation, closes every socket. */
void tp_srv_free(struct tp_srv *s);
/* Log the listeners, buffer sizes and the demo credential (NULL: none); the
 * relay addresses, realm and auth mode are check.c's tp_check_describe. */
void tp_srv_describe(const struct tp_srv *s, const char *demo_pass);

/* This worker's counters with its gauges filled in. Run on its own loop. */
void tp_srv_snapshot(struct tp_srv *s, struct tp_stats *out);
/*
 * Every worker's snapshot, summed: done(sum, arg) runs on from's loop once
 * all workers have taken theirs (tp_worker_each). 0 or -ENOMEM.
 */
int tp_srv_collect(struct tp_srv *from, void (*done)(const struct tp_stats *sum, void *arg),
                   void *arg);

/* With kernel-offload: open the kernel datapath for the whole server (s is
 * worker 0; call once, before the workers run). tp_offload_srv_close after
 * the workers are freed. */
void tp_srv_offload_open(struct tp_srv *s);

#endif
