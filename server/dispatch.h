/*
 * dispatch.h - one request in flight, and the one way to answer it.
 */
#ifndef TP_DISPATCH_H
#define TP_DISPATCH_H

#include "auth.h"
#include "server.h"

struct tp_req {
	struct tp_srv *s;
	struct tp_sink *sink;
	const struct tp_5tuple *ft;
	const struct tp_stun_msg *m;
	bool authed;
	struct tp_auth auth;
	struct tp_logctx log;
	struct tp_stun_wr w;
	uint8_t out[TP_REPLY_MAX];
};

/* Start a success response (class TP_CLASS_SUCCESS) in rq->w. */
void tp_req_begin(struct tp_req *rq);
/* Finish rq->w (SOFTWARE for authenticated replies, integrity when
 * authenticated, FINGERPRINT when the request had one) and send it. */
int tp_req_send(struct tp_req *rq);
/*
 * Answer with an error: ERROR-CODE with the standard reason, the challenge for
 * 401/438, UNKNOWN-ATTRIBUTES for 420, integrity when authenticated. Counts it
 * and logs it once with why. Returns code.
 */
int tp_req_fail(struct tp_req *rq, uint16_t code, const char *why);

/* turn.c */
void tp_turn_request(struct tp_req *rq);
void tp_turn_send_indication(struct tp_srv *s, const struct tp_5tuple *ft,
                             const struct tp_stun_msg *m);
void tp_turn_chandata(struct tp_srv *s, const struct tp_5tuple *ft, const uint8_t *b, size_t n);

/* An allocation's lifetime ran out (logged; the state layer frees it). */
struct tp_alloc;
void tp_turn_expired(struct tp_alloc *a);
/* After a reload: permissions, channels and RFC 6062 connections the new
 * peer policy refuses go. */
void tp_turn_recheck_policy(struct tp_srv *s);

/* The address to advertise for a relay socket (external-ip mapping). */
void tp_public_addr(const struct tp_srv *s, const struct tp_addr *in, struct tp_addr *out);

#endif
