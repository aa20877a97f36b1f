/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dispatch.h - one request in flight, and the one way to answer it.
 *
 * Every answer goes out through a struct tp_reply: what an answer needs,
 * copied out of the request (where it goes, the transaction, whether it was
 * classic, the key and integrity kind, FINGERPRINT). It is a plain value, so
 * an answer given later (RFC 6062 Connect) keeps a copy and answers the same
 * way as an immediate one; tp_reply_send counts every answer by method and
 * result, in one place.
 */
#ifndef TP_DISPATCH_H
#define TP_DISPATCH_H

#include "auth.h"
#include "server.h"

struct tp_reply {
	struct tp_sink *sink;        /* borrowed: where it goes (sinks outlive requests) */
	struct tp_5tuple ft;         /* from ft.local to ft.client */
	uint16_t method;
	bool classic;                /* RFC 3489 framing: 16-byte transaction ID */
	bool fingerprint;            /* the request had one */
	bool authed;                 /* integrity with the key below */
	bool mi256;                  /* MESSAGE-INTEGRITY-SHA256 of mi256_len bytes */
	uint8_t mi256_len, key_len;
	uint8_t tid[16];
	uint8_t key[TP_KEY_MAX];
};

struct tp_req {
	struct tp_srv *s;
	struct tp_sink *sink;
	const struct tp_5tuple *ft;
	const struct tp_stun_msg *m;
	bool authed;
	struct tp_auth auth;
	struct tp_reply rp;
	struct tp_logctx log;
	struct tp_stun_wr w;
	uint8_t out[TP_REPLY_MAX];
};

/* A reply to request m from ft on sink; tp_reply_auth adds the credentials
 * an authenticated request's answers are signed with. */
void tp_reply_init(struct tp_reply *rp, struct tp_sink *sink, const struct tp_5tuple *ft,
                   const struct tp_stun_msg *m);
void tp_reply_auth(struct tp_reply *rp, const struct tp_auth *a);
/* Start an answer of class cls in w over buf. */
void tp_reply_start(const struct tp_reply *rp, struct tp_stun_wr *w, uint8_t *buf, size_t cap,
                    uint8_t cls);
/* Finish w (SOFTWARE if software, integrity when authenticated, FINGERPRINT
 * when asked), count it as an answer with code (0: success), send it. 0 or
 * a negative errno (a reply that does not fit is counted and dropped). */
int tp_reply_send(struct tp_srv *s, const struct tp_reply *rp, struct tp_stun_wr *w,
                  uint16_t code, bool software);
/* An error answer: ERROR-CODE with the standard reason, the challenge for
 * 401/438 (then no integrity), UNKNOWN-ATTRIBUTES for 420. */
int tp_reply_error(struct tp_srv *s, const struct tp_reply *rp, uint16_t code,
                   const uint16_t *unknown, size_t nunknown);
/* ... with why after the standard reason (not for 401/438). */
int tp_reply_error_why(struct tp_srv *s, const struct tp_reply *rp, uint16_t code,
                       const char *why, const uint16_t *unknown, size_t nunknown);

/* The request's answers. Start a success response in rq->w: */
void tp_req_begin(struct tp_req *rq);
/* ... finish and send it (SOFTWARE for authenticated replies): */
int tp_req_send(struct tp_req *rq);
/*
 * Answer with an error (tp_reply_error, UNKNOWN-ATTRIBUTES from the request
 * for 420), logged once with why. Returns code.
 */
int tp_req_fail(struct tp_req *rq, uint16_t code, const char *why);
/* The request is now authenticated: its answers carry integrity. */
void tp_req_authed(struct tp_req *rq);

/* turn.c */
void tp_turn_request(struct tp_req *rq);
void tp_turn_send_indication(struct tp_srv *s, const struct tp_5tuple *ft,
                             const struct tp_stun_msg *m);
void tp_turn_chandata(struct tp_srv *s, const struct tp_5tuple *ft, const uint8_t *b, size_t n);

/* The cluster-wide user-quota for a's Allocate is decided (tp_io
 * quota_take): answer it with rp, success or 486 (then a is freed). */
struct tp_alloc;
void tp_turn_quota_done(struct tp_srv *s, struct tp_alloc *a, const struct tp_reply *rp,
                        bool admitted);
/* End worker s's allocations of user (NULL: any) with id (0: any; not both
 * any): an operator's kill, here or from another node. Their stream
 * connections and DTLS sessions close with them. How many ended. */
unsigned tp_turn_kill(struct tp_srv *s, const char *user, uint64_t id);
/* An allocation is about to be freed: logged and counted. */
struct tp_alloc;
void tp_turn_released(struct tp_srv *s, struct tp_alloc *a);
/* After a reload: permissions, channels and RFC 6062 connections the new
 * peer policy refuses go. */
void tp_turn_recheck_policy(struct tp_srv *s);

/* The address to advertise for a relay socket (external-ip mapping). */
void tp_public_addr(const struct tp_srv *s, const struct tp_addr *in, struct tp_addr *out);

#endif
