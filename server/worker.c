/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * worker.c - inboxes between worker loops (see worker.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "alloc.h"
#include "shared.h"
#include "worker.h"

enum msg_type { MSG_RELOAD, MSG_MIGRATE, MSG_ADOPT, MSG_CALL, MSG_CALLED };

/* A tp_worker_each in flight. */
struct gather {
	unsigned left;                              /* workers yet to answer (the asker's
	                                               loop only touches it) */
	void (*fn)(struct tp_srv *s, void *arg);
	void (*done)(void *arg);
	void *arg;
};

struct tp_msg {
	struct tp_msg *next;
	enum msg_type type;
	const struct tp_conf *conf;                 /* RELOAD */
	void (*release)(const struct tp_conf *);
	int (*apply)(struct tp_srv *, const struct tp_conf *); /* RELOAD */
	struct tp_srv *from;                        /* MIGRATE: who asks */
	struct tp_alloc *alloc;                     /* ADOPT: detached, now the receiver's */
	struct gather *gather;                      /* CALL/CALLED */
	struct tp_5tuple ft;                        /* MIGRATE/ADOPT: the new 5-tuple */
	struct tp_sink *sink;                       /* ... and its sink (the asker's) */
	uint8_t ticket[TP_TICKET_LEN];
	size_t ticket_len;
	size_t len;                                 /* the Refresh to dispatch again */
	uint8_t data[];
};

struct tp_inbox {
	pthread_mutex_t mu;
	struct tp_msg *head, **tail;
	struct event ev;
	int efd;
	atomic_bool stop;           /* a flag, not a message: asking to stop cannot fail */
};

static void wake(struct tp_inbox *in)
{
	uint64_t one = 1;

	if (write(in->efd, &one, sizeof(one)) < 0) {
		/* the counter is saturated: a wakeup is pending anyway */
	}
}

static void post(struct tp_srv *s, struct tp_msg *m)
{
	struct tp_inbox *in = s->inbox;

	m->next = NULL;
	pthread_mutex_lock(&in->mu);
	*in->tail = m;
	in->tail = &m->next;
	pthread_mutex_unlock(&in->mu);
	wake(in);
}

static struct tp_msg *msg_new(enum msg_type type, size_t len)
{
	struct tp_msg *m = calloc(1, sizeof(*m) + len);

	if (m) {
		m->type = type;
		m->len = len;
	}
	return m;
}

static void handle(struct tp_srv *s, struct tp_msg *m)
{
	struct tp_alloc *a;

	switch (m->type) {
	case MSG_RELOAD: {
		const struct tp_conf *old = s->conf;

		m->apply(s, m->conf);
		m->release(old);
		break;
	}
	case MSG_MIGRATE:
		/* gone meanwhile (expired, deleted, already moved): the client's
		 * retransmission gets 405 from the asker */
		a = tp_alloc_find_ticket(s->allocs, m->ticket, m->ticket_len);
		if (!a || a->ft.transport != m->ft.transport)
			break;
		tp_alloc_detach(a);
		m->type = MSG_ADOPT;
		m->alloc = a;
		post(m->from, m);
		return; /* the message travels on */
	case MSG_ADOPT:
		tp_alloc_adopt(s->allocs, m->alloc, &m->ft, m->sink, tp_now(s));
		tp_dispatch(s, m->sink, &m->ft, m->data, m->len);
		break;
	case MSG_CALL:
		m->gather->fn(s, m->gather->arg);
		m->type = MSG_CALLED;
		post(m->from, m);
		return; /* back to the asker */
	case MSG_CALLED:
		if (--m->gather->left == 0) {
			m->gather->done(m->gather->arg);
			free(m->gather);
		}
		break;
	}
	free(m);
}

static void inbox_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct tp_srv *s = arg;
	struct tp_inbox *in = s->inbox;
	struct tp_msg *list;
	uint64_t n;

	(void)ev;
	if (read(fd, &n, sizeof(n)) < 0) {
		/* EAGAIN: another wakeup already drained it */
	}
	pthread_mutex_lock(&in->mu);
	list = in->head;
	in->head = NULL;
	in->tail = &in->head;
	pthread_mutex_unlock(&in->mu);
	while (list) {
		struct tp_msg *next = list->next;

		handle(s, list);
		list = next;
	}
	if (atomic_load(&in->stop))
		event_base_loopexit(s->base, NULL);
}

int tp_inbox_init(struct tp_srv *s)
{
	struct tp_inbox *in = calloc(1, sizeof(*in));

	if (!in)
		return -ENOMEM;
	in->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (in->efd < 0) {
		free(in);
		return -errno;
	}
	pthread_mutex_init(&in->mu, NULL);
	in->tail = &in->head;
	event_assign(&in->ev, s->base, in->efd, EV_READ | EV_PERSIST, inbox_cb, s);
	event_add(&in->ev, NULL);
	s->inbox = in;
	return 0;
}

void tp_inbox_fini(struct tp_srv *s)
{
	struct tp_inbox *in = s->inbox;

	if (!in)
		return;
	event_del(&in->ev);
	close(in->efd);
	while (in->head) {
		struct tp_msg *m = in->head;

		in->head = m->next;
		if (m->type == MSG_ADOPT && m->alloc) {
			/* a detached allocation on its way here at shutdown: take it
			 * onto this loop so it is released like any other */
			tp_alloc_adopt(s->allocs, m->alloc, &m->ft, m->sink, tp_now(s));
			m->alloc->end = TP_END_SHUTDOWN;
			tp_alloc_free(m->alloc);
		}
		if (m->type == MSG_RELOAD)
			m->release(m->conf);
		/* a tp_worker_each in flight at shutdown (every loop has stopped:
		 * one thread runs this) never completes: its done is not called */
		if ((m->type == MSG_CALL || m->type == MSG_CALLED) && --m->gather->left == 0)
			free(m->gather);
		free(m);
	}
	pthread_mutex_destroy(&in->mu);
	free(in);
	s->inbox = NULL;
}

void tp_worker_post_stop(struct tp_srv *s)
{
	atomic_store(&s->inbox->stop, true);
	wake(s->inbox);
}

void tp_worker_post_reload(struct tp_srv *s, const struct tp_conf *c,
                           int (*apply)(struct tp_srv *, const struct tp_conf *),
                           void (*release)(const struct tp_conf *))
{
	struct tp_msg *m = msg_new(MSG_RELOAD, 0);

	if (!m) {
		release(c); /* that worker keeps its configuration */
		return;
	}
	m->conf = c;
	m->apply = apply;
	m->release = release;
	post(s, m);
}

void tp_worker_post_migrate(struct tp_srv *owner, struct tp_srv *from, const uint8_t *ticket,
                            size_t ticket_len, const struct tp_5tuple *ft, struct tp_sink *sink,
                            const uint8_t *req, size_t req_len)
{
	struct tp_msg *m;

	if (ticket_len != TP_TICKET_LEN)
		return;
	m = msg_new(MSG_MIGRATE, req_len);
	if (!m)
		return;
	m->from = from;
	m->ft = *ft;
	m->sink = sink;
	memcpy(m->ticket, ticket, ticket_len);
	m->ticket_len = ticket_len;
	memcpy(m->data, req, req_len);
	post(owner, m);
}

int tp_worker_each(struct tp_srv *from, void (*fn)(struct tp_srv *s, void *arg),
                   void (*done)(void *arg), void *arg)
{
	struct tp_shared *sh = from->sh;
	struct gather *g = calloc(1, sizeof(*g));
	struct tp_msg *msgs[TP_MAX_WORKERS];
	size_t n = sh->nworkers;

	if (!g)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		msgs[i] = msg_new(MSG_CALL, 0);
		if (!msgs[i]) {
			while (i-- > 0)
				free(msgs[i]);
			free(g);
			return -ENOMEM;
		}
	}
	g->left = (unsigned)n;
	g->fn = fn;
	g->done = done;
	g->arg = arg;
	for (size_t i = 0; i < n; i++) {
		msgs[i]->gather = g;
		msgs[i]->from = from;
		post(sh->workers[i], msgs[i]);
	}
	return 0;
}
