/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * turn_client.h - a STUN/TURN client without I/O: requests in, responses out
 * (RFC 8489 §6.3 and §9.2, RFC 8656). Included by proto.h.
 *
 * The client builds requests of any method into the caller's buffer, adds the
 * long-term credential attributes once a challenge has named the realm and
 * nonce, remembers each pending transaction (its ID, method and the key it was
 * signed with) and reads every message the caller receives: it matches
 * responses to pending transactions, checks their integrity, and absorbs 401
 * and 438 challenges, telling the caller to send the request again. The caller
 * keeps the transport, the clock and the retransmissions (RFC 8489 §6.2.1 on
 * UDP; none on streams) and bounds the number of rounds. Like the rest of
 * proto/ it allocates nothing, logs nothing and keeps no globals; libcrypto
 * derives the keys, signs and, when the caller gives no transaction ID, draws
 * one (RAND_bytes).
 *
 * One request:
 *
 *	struct tp_tc c;
 *	tp_tc_init(&c, NULL);
 *	tp_tc_set_password(&c, "alice", 5, "pw", 2);
 *	again:
 *	tp_tc_begin(&c, &w, buf, sizeof(buf), TP_METHOD_ALLOCATE, NULL);
 *	tp_stun_put_transport(&w, TP_TRANSPORT_UDP);      (the caller's attributes)
 *	n = tp_tc_finish(&c, &w, 0);                      (credentials, integrity)
 *	send buf[0..n); for each message received until the timeout:
 *	switch (tp_tc_recv(&c, in, len, &r)) {
 *	case TP_TC_SUCCESS: r.relayed[0], r.lifetime, r.m ...; break;
 *	case TP_TC_RETRY: goto again;                     (a new transaction)
 *	case TP_TC_NOT_RESPONSE: a Data indication, ...   (not the client's)
 *	...
 *	}
 *	on a timeout: tp_tc_cancel(&c, tid).
 *
 * Which results end the transaction, and which leave it pending (the response
 * is discarded as if never received: RFC 8489 §9.2.5), is said per value.
 */
#ifndef TP_TURN_CLIENT_H
#define TP_TURN_CLIENT_H

#include "proto.h"

#define TP_TC_PENDING   4    /* transactions in flight at once, per client */
#define TP_TC_PASS_MAX  256  /* bytes of password kept (before OpaqueString) */
#define TP_TC_ALGS_MAX  64   /* bytes of PASSWORD-ALGORITHMS kept for the echo */

/* tp_tc_opts.alg: which password algorithm (RFC 8489 §18.5) signs requests. */
#define TP_TC_ALG_AUTO    0       /* RFC 8489 §9.2.5: the first one of the server's
                                   * PASSWORD-ALGORITHMS the client supports; MD5
                                   * and no algorithm attributes when it sent none */
#define TP_TC_ALG_RFC5389 0xFFFFu /* an RFC 5389 client: MD5, never PASSWORD-ALGORITHM(S) */
/* TP_PWALG_MD5, TP_PWALG_SHA256: that one, whatever the server offered (tests
 * use this to see the server refuse); PASSWORD-ALGORITHMS is still echoed. */

/* tp_tc_opts.mi: which integrity attribute a signed request carries. */
enum tp_tc_mi {
	TP_TC_MI_AUTO = 0,   /* MESSAGE-INTEGRITY-SHA256 once the server sent
	                      * PASSWORD-ALGORITHMS (RFC 8489 §9.2.5), else MESSAGE-INTEGRITY */
	TP_TC_MI_SHA1,       /* MESSAGE-INTEGRITY (HMAC-SHA1) */
	TP_TC_MI_SHA256,     /* MESSAGE-INTEGRITY-SHA256, 32 bytes */
};

struct tp_tc_opts {
	uint16_t alg;        /* TP_TC_ALG_* or TP_PWALG_*; 0 = auto */
	uint8_t mi;          /* enum tp_tc_mi */
	bool userhash;       /* USERHASH instead of USERNAME (RFC 8489 §14.4) */
	bool fingerprint;    /* FINGERPRINT on every request */
	struct tp_crypto *crypto; /* optional HMAC cache for signing and checking
	                      * (borrowed, one per thread: tp_crypto_new); NULL: none */
};

/* tp_tc_finish flags */
#define TP_TC_NOAUTH 1u      /* no credentials even when they are known */

/* What tp_tc_recv made of one received message. */
enum tp_tc_res {
	/* the transaction is over */
	TP_TC_SUCCESS = 0,   /* a success response (authenticated if the request was signed) */
	TP_TC_ERROR,         /* an error response the client does not act on: r->code */
	TP_TC_RETRY,         /* a 401 or 438 challenge was absorbed: build and send the
	                      * request again (a new transaction) */
	TP_TC_AUTH_REJECTED, /* 401 to a request signed with the same user, realm and
	                      * password the client still has: wrong credentials */
	TP_TC_AUTH_UNUSABLE, /* a challenge the client cannot answer: no credentials,
	                      * REALM or NONCE missing or too long, no supported algorithm
	                      * in PASSWORD-ALGORITHMS, or a list too long to echo */
	TP_TC_DOWNGRADE,     /* a 401/438 whose nonce cookie says the server offers
	                      * password algorithms, without PASSWORD-ALGORITHMS (a
	                      * bid-down, RFC 8489 §9.2.5): not retried */
	/* the transaction stays pending: the response is to be discarded as if it
	 * had never been received (over UDP keep retransmitting; over a stream, RFC
	 * 8489 §9.2.5 ends the transaction: tp_tc_cancel) */
	TP_TC_INTEGRITY_BAD, /* MESSAGE-INTEGRITY(-SHA256) present and wrong */
	TP_TC_UNAUTHENTICATED, /* a response to a signed request with neither integrity
	                      * attribute, other than a 401/438 challenge (a 400, say):
	                      * r is filled, for callers that want to show it */
	/* not a response to any transaction of this client: ignore it */
	TP_TC_NOT_RESPONSE,  /* a request or an indication (a Data indication, ...) */
	TP_TC_NOT_OURS,      /* a response with no pending transaction of its ID and
	                      * method (a late duplicate, another client's, RFC 3489) */
	TP_TC_MALFORMED,     /* the bytes do not decode: r->perr, r->why */
};

const char *tp_tc_res_str(enum tp_tc_res r);

/* A decoded response. Everything points into the bytes given to tp_tc_recv. */
struct tp_tc_resp {
	struct tp_stun_msg m;      /* the whole message, for any other attribute */
	enum tp_perr perr;         /* TP_TC_MALFORMED: why it did not decode */
	const char *why;           /* its detail, or NULL */
	uint16_t method;
	uint16_t code;             /* 0 for a success response, else ERROR-CODE (600 if absent) */
	const char *reason;        /* ERROR-CODE reason phrase, not NUL-terminated */
	size_t reason_len;
	bool authenticated;        /* integrity present and verified with the request's key */
	uint8_t nrelayed;          /* XOR-RELAYED-ADDRESS (two with ADDITIONAL-ADDRESS-FAMILY) */
	struct tp_addr relayed[2];
	bool has_mapped;           /* XOR-MAPPED-ADDRESS (MAPPED-ADDRESS if there is none) */
	struct tp_addr mapped;
	bool has_lifetime;
	uint32_t lifetime;         /* LIFETIME, seconds */
};

/* One transaction in flight. */
struct tp_tc_pending {
	bool used;
	bool signed_;              /* it carried credentials */
	uint16_t method;
	uint8_t tid[TP_STUN_TID_LEN];
	uint8_t key[TP_KEY_MAX];   /* the key it was signed with: its response is checked
	                            * with it, whatever challenges came since */
	uint8_t key_len;
	uint32_t cred_gen;         /* c->cred_gen when it was signed */
};

/*
 * The client. Embed it and reach it only through the functions below: the
 * fields are declared here so that it needs no allocation. Secrets (password,
 * keys) live in it: tp_tc_clear() wipes them.
 */
struct tp_tc {
	struct tp_tc_opts o;
	char user[TP_MAX_USERNAME];
	uint16_t user_len;
	char pass[TP_TC_PASS_MAX];
	uint16_t pass_len;
	bool have_user;
	bool fixed_key;            /* a precomputed key (tp_tc_set_key), not a password */
	uint16_t key_alg;          /* the algorithm of key[] */
	bool key_ready;            /* key[] is derived for user, realm, pass and key_alg */
	uint8_t key[TP_KEY_MAX];
	uint8_t key_len;
	char realm[TP_MAX_REALM];
	uint16_t realm_len;
	char nonce[TP_MAX_NONCE];
	uint16_t nonce_len;        /* 0: no challenge yet, requests go unsigned */
	uint8_t algs[TP_TC_ALGS_MAX]; /* PASSWORD-ALGORITHMS as received */
	uint8_t algs_len;
	uint32_t cred_gen;         /* bumped when the user, password, key or realm changes */
	struct tp_tc_pending pend[TP_TC_PENDING];
};

/* Options NULL: all zero (automatic algorithm and integrity, USERNAME, no FINGERPRINT). */
void tp_tc_init(struct tp_tc *c, const struct tp_tc_opts *o);
/* Wipes the password and keys and forgets everything (tp_tc_init to reuse). */
void tp_tc_clear(struct tp_tc *c);

/*
 * Long-term credentials: the user name (as it goes in USERNAME, already
 * prepared by the caller, RFC 8489 §14.3) and the password (prepared with
 * OpaqueString when the key is derived). 0, -EINVAL (empty name or password),
 * -ENAMETOOLONG (name over 513 bytes, password over TP_TC_PASS_MAX).
 */
int tp_tc_set_password(struct tp_tc *c, const char *user, size_t user_len, const char *pass,
                       size_t pass_len);
/* The same with a key computed elsewhere for algorithm alg (TP_PWALG_MD5: 16
 * bytes, TP_PWALG_SHA256: 32), e.g. from a key file; requests then use alg.
 * 0, -EINVAL (empty name, unknown alg or a key of the wrong length), -ENAMETOOLONG. */
int tp_tc_set_key(struct tp_tc *c, const char *user, size_t user_len, uint16_t alg,
                  const uint8_t *key, size_t key_len);

/*
 * A challenge known beforehand (RFC 8489 §9.2.3.2: a client may cache the realm
 * and nonce of an earlier exchange): requests are signed from the first one.
 * algs is the PASSWORD-ALGORITHMS value, byte for byte (NULL, 0: none).
 * 0, -EINVAL (empty realm or nonce, malformed algs), -ENAMETOOLONG (over the
 * RFC 8489 §14 bounds, or algs over TP_TC_ALGS_MAX).
 */
int tp_tc_set_challenge(struct tp_tc *c, const char *realm, size_t realm_len,
                        const char *nonce, size_t nonce_len, const uint8_t *algs,
                        size_t algs_len);
/* The realm, nonce and PASSWORD-ALGORITHMS the client holds (lengths 0: none);
 * any of the out pointers may be NULL. Valid until the next call on c. */
void tp_tc_challenge(const struct tp_tc *c, const char **realm, size_t *realm_len,
                     const char **nonce, size_t *nonce_len, const uint8_t **algs,
                     size_t *algs_len);

/*
 * Start a request of any method in buf: the header only, with tid (12 bytes)
 * or, when tid is NULL, a random one. The caller then puts its own attributes
 * with the tp_stun_put_* writer and ends with tp_tc_finish. 0, or the writer's
 * error (-ENOBUFS, -EINVAL), or -EIO (no randomness).
 */
int tp_tc_begin(struct tp_tc *c, struct tp_stun_wr *w, uint8_t *buf, size_t cap,
                uint16_t method, const uint8_t *tid);
/*
 * End the request begun in w: once a challenge is known (and unless flags has
 * TP_TC_NOAUTH), USERNAME or USERHASH, NONCE, REALM, PASSWORD-ALGORITHMS (echoed
 * as received) and PASSWORD-ALGORITHM, MESSAGE-INTEGRITY or -SHA256; then
 * FINGERPRINT if asked. Records the transaction as pending (a transaction ID
 * already pending is replaced: a retransmission built anew). Returns the
 * message length, or the writer's error, -EBUSY (TP_TC_PENDING transactions in
 * flight), -ENOTSUP (the server's PASSWORD-ALGORITHMS holds none the client
 * supports), or an OpaqueString refusal of the password as -EINVAL.
 */
long tp_tc_finish(struct tp_tc *c, struct tp_stun_wr *w, unsigned flags);

/*
 * Read one received message (a datagram, or one frame from tp_framer_next):
 * fills *r (views into b) and says what it is; see enum tp_tc_res. A 401 or 438
 * updates the realm, nonce and PASSWORD-ALGORITHMS the client holds.
 */
enum tp_tc_res tp_tc_recv(struct tp_tc *c, const uint8_t *b, size_t n, struct tp_tc_resp *r);

/* Forget a pending transaction (it timed out, or the caller gave up on it).
 * true if it was pending. */
bool tp_tc_cancel(struct tp_tc *c, const uint8_t tid[TP_STUN_TID_LEN]);
/* How many transactions are pending. */
size_t tp_tc_pending(const struct tp_tc *c);

#endif
