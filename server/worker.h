/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * worker.h - worker loops and the messages between them.
 *
 * Each worker is a struct tp_srv on its own event_base and thread; worker 0
 * runs on the main thread, which also takes the signals. Workers talk only
 * through their inboxes (a mutex-protected list, a stop flag and an eventfd
 * registered on the loop): stop, a new configuration, and the two steps of
 * moving a mobile allocation (RFC 8016) whose client's new 5-tuple landed on
 * another worker.
 */
#ifndef TP_WORKER_H
#define TP_WORKER_H

#include "server.h"

int tp_inbox_init(struct tp_srv *s);
void tp_inbox_fini(struct tp_srv *s);

/* Ask worker s to leave its loop. */
void tp_worker_post_stop(struct tp_srv *s);
/* Hand worker s a new configuration: apply(s, c) runs on its loop (srv.c's
 * tp_srv_reload), then release(conf) with the old one. */
void tp_worker_post_reload(struct tp_srv *s, const struct tp_conf *c,
                           int (*apply)(struct tp_srv *, const struct tp_conf *),
                           void (*release)(const struct tp_conf *));
/*
 * Mobility across workers, from the worker that received the Refresh (from):
 * ask the owner to hand the allocation with this ticket over. The request
 * (raw bytes) is dispatched again by 'from' once it has adopted it.
 */
void tp_worker_post_migrate(struct tp_srv *owner, struct tp_srv *from, const uint8_t *ticket,
                            size_t ticket_len, const struct tp_5tuple *ft, struct tp_sink *sink,
                            const uint8_t *req, size_t req_len);

/*
 * Run fn(s, arg) once on every worker's own loop (the asker's included, also
 * through its inbox), then done(arg) on the asker's loop when all have run:
 * how one thread reads another's state (counters, sessions) without racing
 * its writer. 0, or -ENOMEM (then nothing runs). At shutdown a call still in
 * flight may never complete: arg must not own resources done alone frees.
 */
int tp_worker_each(struct tp_srv *from, void (*fn)(struct tp_srv *s, void *arg),
                   void (*done)(void *arg), void *arg);

#endif
