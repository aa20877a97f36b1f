/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * relay_tcp.c - TCP relays (RFC 6062).
 *
 * Peer connections are bounded: at most max-peer-connections per allocation,
 * and each counts in the server's connections (conn_limits.h, max-connections),
 * as does the client's data connection once bound to it (the stream listener
 * stops counting it when it hands it over).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <sodium.h>

#include "alloc.h"
#include "relay_tcp.h"
#include "sock.h"

#define BIND_TIMEOUT 30        /* RFC 6062 §5.3/§5.4 */
#define CONNECT_TIMEOUT 30

struct tp_peer_conn {
	struct tp_peer_conn *next;    /* the allocation's list */
	struct tp_peer_conn *snext;   /* the server's list (CONNECTION-ID lookup) */
	struct tp_srv *s;             /* borrowed */
	struct tp_alloc *a;           /* borrowed: the allocation outlives its conns */
	struct bufferevent *peer;     /* owned */
	struct bufferevent *client;   /* owned once bound */
	struct event *timer;          /* owned: connect / bind deadline */
	struct tp_addr peer_addr;
	uint32_t id;
	bool connecting;              /* a Connect is waiting for the outcome */
	bool binding;                 /* a ConnectionBind succeeded: its connection
	                                 becomes the pipe when its request returns */
	bool closing;                 /* one side closed: flushing to the other */
	struct tp_reply rp;           /* how to answer that Connect */
};

struct tp_tcp_relay {
	struct evconnlistener *lev;
	struct tp_peer_conn *conns;
	uint32_t nconns;              /* of conns */
	/* max-bps over all its pipes, per direction (by enum tp_stat_dir): reads
	 * from the clients' side (to peers) and from the peers' side */
	struct bufferevent_rate_limit_group *bw[2];
};

/* libevent's buckets refill every tick: 100 ms, a tenth of the rate each */
#define BW_TICK_MS 100

/* One worker's peer connections, by CONNECTION-ID. */
struct tp_tcp_peers {
	struct tp_peer_conn *all;
};

struct tp_tcp_peers *tp_tcp_peers_new(void)
{
	return calloc(1, sizeof(struct tp_tcp_peers));
}

void tp_tcp_peers_free(struct tp_tcp_peers *p)
{
	free(p); /* empty: every allocation (and its connections) is gone first */
}

/* ---- bookkeeping ---- */

static struct tp_peer_conn *find_id(struct tp_srv *s, uint32_t id)
{
	for (struct tp_peer_conn *pc = s->tcp_peers->all; pc; pc = pc->snext)
		if (pc->id == id)
			return pc;
	return NULL;
}

static void pc_free(struct tp_peer_conn *pc)
{
	struct tp_srv *s = pc->s;
	struct tp_peer_conn **pp;

	for (pp = &pc->a->tcp->conns; *pp; pp = &(*pp)->next)
		if (*pp == pc) {
			*pp = pc->next;
			break;
		}
	for (pp = &s->tcp_peers->all; *pp; pp = &(*pp)->snext)
		if (*pp == pc) {
			*pp = pc->snext;
			break;
		}
	pc->a->tcp->nconns--;
	tp_limits_release(s->limits, TP_LIMITS_NOSLOT);
	if (pc->client)
		tp_limits_release(s->limits, TP_LIMITS_NOSLOT);
	if (pc->timer)
		event_free(pc->timer);
	if (pc->peer)
		bufferevent_free(pc->peer);
	if (pc->client)
		bufferevent_free(pc->client);
	free(pc);
}

/* Room for one more peer connection on a: the per-allocation cap and the
 * server's connection limit. */
static bool pc_room(const struct tp_alloc *a)
{
	const struct tp_srv *s = a->s;
	const struct tp_conf *c = s->conf;

	return a->tcp->nconns < c->max_peer_connections && tp_limits_room(s->limits, c);
}

static void deadline_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct tp_peer_conn *pc = arg;
	struct tp_logctx ctx;

	(void)fd;
	(void)ev;
	tp_alloc_logctx(pc->a, &ctx);
	tp_info(&ctx, "tcp relay: connection %u not bound within %d s: closed", pc->id,
	        BIND_TIMEOUT);
	pc_free(pc);
}

static struct tp_peer_conn *pc_new(struct tp_alloc *a, struct bufferevent *peer,
                                   const struct tp_addr *addr)
{
	struct tp_srv *s = a->s;
	struct tp_peer_conn *pc = calloc(1, sizeof(*pc));
	struct timeval tv = { .tv_sec = BIND_TIMEOUT };

	if (!pc)
		return NULL;
	pc->s = s;
	pc->a = a;
	pc->peer = peer;
	pc->peer_addr = *addr;
	do
		pc->id = randombytes_random();
	while (pc->id == 0 || find_id(s, pc->id));
	pc->timer = evtimer_new(s->base, deadline_cb, pc);
	if (!pc->timer) {
		free(pc);
		return NULL;
	}
	evtimer_add(pc->timer, &tv);
	pc->next = a->tcp->conns;
	a->tcp->conns = pc;
	a->tcp->nconns++;
	pc->snext = s->tcp_peers->all;
	s->tcp_peers->all = pc;
	tp_limits_hold(s->limits);
	return pc;
}

/* ---- the pipe ---- */

static void pipe_read(struct bufferevent *from, void *arg);

static void pipe_drained(struct bufferevent *to, void *arg)
{
	struct tp_peer_conn *pc = arg;
	struct bufferevent *from = to == pc->peer ? pc->client : pc->peer;

	bufferevent_setwatermark(to, EV_WRITE, 0, 0);
	bufferevent_enable(from, EV_READ);
}

#define FLUSH_TIMEOUT 30            /* seconds to hand over what is left */

/* The last bytes for the side still open are out: close the pipe. */
static void pipe_flushed(struct bufferevent *to, void *arg)
{
	(void)to;
	pc_free(arg);
}

/*
 * One side closed (or failed): what it sent before is already in the other
 * side's output, and is delivered before the pipe closes (within
 * FLUSH_TIMEOUT), so a client that writes and closes loses nothing. An error
 * or timeout on the side being flushed closes at once.
 */
static void pipe_event(struct bufferevent *bev, short what, void *arg)
{
	struct tp_peer_conn *pc = arg;
	struct bufferevent *other = bev == pc->peer ? pc->client : pc->peer;
	struct timeval tv = { .tv_sec = FLUSH_TIMEOUT };

	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)))
		return;
	if (pc->closing || !(what & BEV_EVENT_EOF) ||
	    evbuffer_get_length(bufferevent_get_output(other)) == 0) {
		pc_free(pc);
		return;
	}
	pc->closing = true;
	bufferevent_disable(bev, EV_READ | EV_WRITE);
	bufferevent_disable(other, EV_READ);
	bufferevent_setwatermark(other, EV_WRITE, 0, 0);
	bufferevent_setcb(other, NULL, pipe_flushed, pipe_event, pc);
	bufferevent_set_timeouts(other, NULL, &tv);
	bufferevent_enable(other, EV_WRITE);
}

static void pipe_read(struct bufferevent *from, void *arg)
{
	struct tp_peer_conn *pc = arg;
	struct bufferevent *to = from == pc->peer ? pc->client : pc->peer;
	struct evbuffer *in = bufferevent_get_input(from);
	struct evbuffer *out = bufferevent_get_output(to);
	size_t limit = pc->s->conf->stream_buffer;
	size_t n = evbuffer_get_length(in);

	if (from == pc->peer) {
		pc->a->rx_bytes += n;
		pc->a->from_peer_bytes += n;
		pc->s->stats.relay_bytes[TP_SD_TO_CLIENT][pc->a->ft.transport] += n;
	} else {
		pc->a->tx_bytes += n;
		pc->a->from_client_bytes += n;
		pc->s->stats.relay_bytes[TP_SD_TO_PEER][pc->a->ft.transport] += n;
	}
	evbuffer_add_buffer(out, in);
	if (evbuffer_get_length(out) >= limit) {
		/* a slow reader on 'to': stop reading 'from' until it drains */
		bufferevent_disable(from, EV_READ);
		bufferevent_setwatermark(to, EV_WRITE, limit / 2, 0);
	}
}

/*
 * max-bps for RFC 6062 pipes: every pipe of the allocation joins its two rate
 * limit groups, so the cap holds for all of them together; TCP flow control
 * then slows the sender instead of bytes being dropped. (user-max-bps applies
 * to datagrams only.)
 */
static void pipe_shape(struct tp_peer_conn *pc)
{
	struct tp_tcp_relay *r = pc->a->tcp;
	uint32_t rate = pc->s->conf->max_bps;
	struct timeval tick = { .tv_usec = BW_TICK_MS * 1000 };

	if (!rate)
		return;
	for (int d = 0; d < 2; d++) {
		if (!r->bw[d]) {
			size_t per_tick = rate / (1000 / BW_TICK_MS);
			size_t burst = (size_t)rate * TP_SHAPER_BURST_MS / 1000;
			struct ev_token_bucket_cfg *cfg;

			if (per_tick == 0)
				per_tick = 1;
			if (burst < per_tick)
				burst = per_tick;
			cfg = ev_token_bucket_cfg_new(per_tick, burst, EV_RATE_LIMIT_MAX,
			                              EV_RATE_LIMIT_MAX, &tick);
			if (!cfg)
				continue;
			r->bw[d] = bufferevent_rate_limit_group_new(pc->s->base, cfg);
			ev_token_bucket_cfg_free(cfg);
			if (!r->bw[d])
				continue;
		}
		bufferevent_add_to_rate_limit_group(d == TP_SD_TO_PEER ? pc->client : pc->peer,
		                                    r->bw[d]);
	}
}

static void pipe_setup(struct tp_peer_conn *pc)
{
	size_t limit = pc->s->conf->stream_buffer;

	pipe_shape(pc);
	bufferevent_setcb(pc->peer, pipe_read, pipe_drained, pipe_event, pc);
	bufferevent_setcb(pc->client, pipe_read, pipe_drained, pipe_event, pc);
	bufferevent_setwatermark(pc->peer, EV_READ, 0, limit);
	bufferevent_setwatermark(pc->client, EV_READ, 0, limit);
	bufferevent_set_timeouts(pc->peer, NULL, NULL);
	bufferevent_set_timeouts(pc->client, NULL, NULL);
	bufferevent_enable(pc->peer, EV_READ | EV_WRITE);
	bufferevent_enable(pc->client, EV_READ | EV_WRITE);
	/* bytes that came with or after ConnectionBind, and peer bytes held back */
	if (evbuffer_get_length(bufferevent_get_input(pc->client)))
		pipe_read(pc->client, pc);
	if (evbuffer_get_length(bufferevent_get_input(pc->peer)))
		pipe_read(pc->peer, pc);
}


/* ---- incoming peer connections ---- */

static void held_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		pc_free(arg);
}

static void send_attempt(struct tp_peer_conn *pc)
{
	struct tp_alloc *a = pc->a;
	uint8_t buf[128], tid[TP_STUN_TID_LEN];
	struct tp_stun_wr w;
	long n;

	randombytes_buf(tid, sizeof(tid));
	tp_stun_wr_init(&w, buf, sizeof(buf), TP_METHOD_CONNECTION_ATTEMPT, TP_CLASS_INDICATION,
	                tid);
	tp_stun_put_u32(&w, TP_ATTR_CONNECTION_ID, pc->id);
	tp_stun_put_addr(&w, TP_ATTR_XOR_PEER_ADDRESS, &pc->peer_addr);
	n = tp_stun_wr_finish(&w);
	if (n > 0)
		a->sink->send(a->sink, &a->ft.local, &a->ft.client, buf, (size_t)n);
}

static void relay_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
                         int salen, void *arg)
{
	struct tp_alloc *a = arg;
	struct tp_srv *s = a->s;
	struct tp_addr peer;
	struct bufferevent *bev;
	struct tp_peer_conn *pc;

	(void)lev;
	(void)salen;
	if (tp_addr_from_sa(&peer, sa) != 0 || !tp_perms_ok(&a->perms, &peer, tp_now(s)) ||
	    tp_peer_check(s->conf, &s->self, &peer, TP_PEER_TCP) != TP_PEER_OK) {
		s->stats.drop_no_perm++;
		close(fd);
		return;
	}
	if (!pc_room(a)) {
		/* no descriptor held, no ConnectionAttempt sent */
		s->stats.conn_refused++;
		close(fd);
		return;
	}
	evutil_make_socket_nonblocking(fd);
	bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		close(fd);
		return;
	}
	pc = pc_new(a, bev, &peer);
	if (!pc) {
		bufferevent_free(bev);
		return;
	}
	/* hold the peer's bytes until the client binds (no reading yet) */
	bufferevent_setcb(bev, NULL, NULL, held_event, pc);
	bufferevent_enable(bev, EV_WRITE);
	send_attempt(pc);
}

int tp_tcp_relay_open(struct tp_alloc *a, const struct tp_addr *addr)
{
	int fd;

	a->tcp = calloc(1, sizeof(*a->tcp));
	if (!a->tcp)
		return -ENOMEM;
	/* SO_REUSEPORT: outgoing Connects bind the same relayed address */
	fd = tp_sock_bind(addr, SOCK_STREAM,
	                  TP_SOCK_REUSEADDR | TP_SOCK_REUSEPORT | TP_SOCK_LISTEN, NULL);
	if (fd >= 0) {
		a->tcp->lev = evconnlistener_new(a->s->base, relay_accept, a,
		                                 LEV_OPT_CLOSE_ON_FREE, -1, fd);
		if (a->tcp->lev)
			return 0;
		close(fd);
		fd = -ENOMEM;
	}
	free(a->tcp);
	a->tcp = NULL;
	return fd;
}

void tp_tcp_relay_close(struct tp_alloc *a)
{
	if (!a->tcp)
		return;
	while (a->tcp->conns)
		pc_free(a->tcp->conns);
	for (int d = 0; d < 2; d++)
		if (a->tcp->bw[d])
			bufferevent_rate_limit_group_free(a->tcp->bw[d]);
	evconnlistener_free(a->tcp->lev);
	free(a->tcp);
	a->tcp = NULL;
}

/* ---- Connect (RFC 6062 §5.2) ---- */

/* The answer to a Connect, once the connection is made or has failed. */
static void connect_reply(struct tp_peer_conn *pc, uint16_t code)
{
	struct tp_stun_wr w;
	uint8_t buf[256];

	if (code) {
		tp_reply_error(pc->s, &pc->rp, code, NULL, 0);
		return;
	}
	tp_reply_start(&pc->rp, &w, buf, sizeof(buf), TP_CLASS_SUCCESS);
	tp_stun_put_u32(&w, TP_ATTR_CONNECTION_ID, pc->id);
	tp_reply_send(pc->s, &pc->rp, &w, 0, true);
}

static void connect_event(struct bufferevent *bev, short what, void *arg)
{
	struct tp_peer_conn *pc = arg;
	struct tp_logctx ctx;
	char pa[64];

	tp_alloc_logctx(pc->a, &ctx);
	tp_addr_fmt(&pc->peer_addr, pa, sizeof(pa));
	if (what & BEV_EVENT_CONNECTED) {
		struct timeval tv = { .tv_sec = BIND_TIMEOUT };

		pc->connecting = false;
		bufferevent_set_timeouts(bev, NULL, NULL);
		bufferevent_setcb(bev, NULL, NULL, held_event, pc);
		bufferevent_disable(bev, EV_READ);
		evtimer_add(pc->timer, &tv);
		(void)tp_perms_install(&pc->a->perms, &pc->peer_addr, pc->s->conf->max_permissions,
		                       tp_now(pc->s));
		tp_info(&ctx, "tcp relay: connected to %s (connection %u)", pa, pc->id);
		connect_reply(pc, 0);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		tp_info(&ctx, "tcp relay: connect to %s failed", pa);
		connect_reply(pc, 447);
		pc_free(pc);
	}
}

int tp_tcp_connect(struct tp_alloc *a, const struct tp_addr *peer, const struct tp_reply *rp)
{
	struct tp_srv *s = a->s;
	struct sockaddr_storage ss;
	struct bufferevent *bev;
	struct tp_peer_conn *pc;
	struct timeval tv = { .tv_sec = CONNECT_TIMEOUT };
	int fd;
	unsigned sl;

	if (!a->tcp)
		return -EINVAL;
	for (struct tp_peer_conn *c = a->tcp->conns; c; c = c->next)
		if (tp_addr_eq(&c->peer_addr, peer))
			return -EEXIST;
	if (!pc_room(a))
		return -EMFILE;
	/* from the relayed address (RFC 6062 §5.2), beside its listener */
	fd = tp_sock_bind(&a->relay[0].addr, SOCK_STREAM, TP_SOCK_REUSEADDR | TP_SOCK_REUSEPORT,
	                  NULL);
	if (fd < 0)
		return fd;
	bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		close(fd);
		return -ENOMEM;
	}
	pc = pc_new(a, bev, peer);
	if (!pc) {
		bufferevent_free(bev);
		return -ENOMEM;
	}
	pc->connecting = true;
	pc->rp = *rp;
	evtimer_del(pc->timer); /* the connect timeout applies until connected */
	bufferevent_setcb(bev, NULL, NULL, connect_event, pc);
	bufferevent_set_timeouts(bev, NULL, &tv);
	sl = tp_addr_to_sa(peer, &ss);
	if (bufferevent_socket_connect(bev, (struct sockaddr *)&ss, (int)sl) != 0) {
		pc_free(pc);
		return -ECONNREFUSED;
	}
	return 0; /* answered when the connection completes */
}

/* ---- ConnectionBind (RFC 6062 §5.4) ---- */

int tp_tcp_bind(struct tp_srv *s, struct tp_sink *sink, uint32_t cid, const char *user)
{
	struct tp_peer_conn *pc = find_id(s, cid);

	if (!pc || pc->client || pc->connecting || pc->binding)
		return -ENOENT;
	if (strcmp(pc->a->user, user) != 0)
		return -EACCES;
	pc->binding = true;
	sink->to_pipe(sink, pc);
	return 0;
}

void tp_tcp_pipe_start(struct tp_peer_conn *pc, struct bufferevent *client)
{
	struct tp_logctx ctx;

	pc->binding = false;
	pc->client = client;
	tp_limits_hold(pc->s->limits); /* the data connection, no longer the listener's */
	evtimer_del(pc->timer);
	tp_alloc_logctx(pc->a, &ctx);
	tp_info(&ctx, "tcp relay: connection %u bound", pc->id);
	pipe_setup(pc);
}

void tp_tcp_pipe_cancel(struct tp_peer_conn *pc)
{
	pc->binding = false;
}

/* ---- reload ---- */

void tp_tcp_relay_recheck(struct tp_alloc *a)
{
	struct tp_srv *s = a->s;
	struct tp_peer_conn *pc, *next;

	if (!a->tcp)
		return;
	for (pc = a->tcp->conns; pc; pc = next) {
		next = pc->next;
		if (tp_peer_check(s->conf, &s->self, &pc->peer_addr, TP_PEER_TCP) != TP_PEER_OK) {
			struct tp_logctx ctx;
			char pa[64];

			tp_alloc_logctx(a, &ctx);
			tp_addr_fmt(&pc->peer_addr, pa, sizeof(pa));
			tp_info(&ctx, "tcp relay: connection %u to %s closed: the new peer policy "
			              "refuses it", pc->id, pa);
			pc_free(pc);
		}
	}
}
