/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * request_world.h - a whole server request path without I/O, for the request
 * fuzzer (fuzz_request.c) and its seed generator (make_request_seeds.c).
 *
 * One worker (struct tp_srv) with the real dispatch.c, turn.c, auth.c and the
 * state layer (alloc.c, perm.c, chan.c, shared.c, ports.c) behind fakes of
 * every edge: a sink per client transport that captures replies, relay ops
 * that open nothing, every struct tp_io hook, and a clock the input advances.
 * Everything that would be random and matters to a client is fixed, so a seed
 * recorded once replays: the nonce key (so the nonce a challenge gives at a
 * time is always the same), the hashing key.
 *
 * Clients talk from RW_TUPLES fixed 5-tuples (rw_tuples[]): UDP from three
 * sources (two sharing an address; the third on an RFC 5780 listener, whose
 * Binding answers may come from its three other sockets) and IPv6, TCP and
 * TLS streams (bytes go
 * through proto/'s tp_framer as in listen_tcp.c; a framing error closes the
 * connection, and the allocation it carries), and DTLS.
 *
 * After every message given to tp_dispatch, rw checks (abort() with a
 * message on violation; see request_world.c):
 *   - every reply decodes with proto/, is a response of the request's method
 *     and transaction ID, to the 5-tuple it came from; nothing answers an
 *     indication or ChannelData;
 *   - a message that no known key signs (a static user, a store user, a REST
 *     credential) changes no allocation, permission, channel or reservation,
 *     gets no signed answer, and gets no answer larger than itself plus the
 *     fixed attributes (RW_UNAUTH_EXTRA: ERROR-CODE, REALM, NONCE,
 *     PASSWORD-ALGORITHMS, UNKNOWN-ATTRIBUTES); a Binding success outgrows
 *     its request by at most the mapped address (README);
 *   - the tables are consistent (tp_allocs_check) and agree with the shared
 *     counts and the fake relay's open endpoints.
 */
#ifndef TP_REQUEST_WORLD_H
#define TP_REQUEST_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server.h"

#define RW_TUPLES 8
#define RW_REPLIES 2               /* kept per message (more is a failure) */
#define RW_START_WALL 1800000000   /* wall clock = this + the monotonic clock (which
                                      starts at 1000 s) in seconds */
#define RW_CONFS 2                 /* configurations rw_set_conf chooses from */

/* The credentials the world knows. */
#define RW_REALM "fuzz.turnpike.test"
#define RW_USER "alice"            /* static user (conf) */
#define RW_PASS "alice-pw"
#define RW_STORE_USER "bob"        /* the fake cluster store's user (MD5 key only) */
#define RW_STORE_PASS "bob-pw"
#define RW_SECRET "fuzz-rest-secret" /* the store's REST secret */

struct rw_reply {
	uint8_t buf[TP_MAX_DGRAM];     /* RFC 5780 replies may be as large as their
	                                  request; any other must fit TP_REPLY_MAX */
	size_t len;
	unsigned tuple;
};

struct rw_world;

/* The 5-tuples (fixed; index < RW_TUPLES). */
extern const struct tp_5tuple rw_tuples[RW_TUPLES];
bool rw_tuple_stream(unsigned tuple);

/* A fresh world at its start time with configuration 0 (the process's one
 * world, reset). Aborts on failure. rw_free ends every allocation and checks
 * that nothing is left: endpoints, counts, ports, per-user entries. */
struct rw_world *rw_create(void);
void rw_free(struct rw_world *w);

/* Input. A datagram on a stream tuple goes in as stream bytes. */
void rw_datagram(struct rw_world *w, unsigned tuple, const uint8_t *b, size_t n);
void rw_stream(struct rw_world *w, unsigned tuple, const uint8_t *b, size_t n);
/* The clock moves on by ms (expiries run). */
void rw_advance(struct rw_world *w, uint64_t ms);
/* Answer the oldest deferred answer: a cluster user-quota wait (admitted or
 * not) or an RFC 6062 Connect (connected or 447). */
void rw_settle(struct rw_world *w, bool yes);
/* Operator and reload events: kill the user's (0: alice, 1: bob, 2: any id of
 * an allocation) sessions; re-check the peer policy; switch configuration;
 * drain on or off. */
void rw_kill(struct rw_world *w, unsigned which);
void rw_recheck(struct rw_world *w);
void rw_set_conf(struct rw_world *w, unsigned i);
void rw_drain(struct rw_world *w, bool on);

/*
 * The fuzz input: records, each a header byte h (op = h >> 5, tuple = h & 7)
 * and what the op takes:
 *   RW_OP_DGRAM, RW_OP_DGRAM2: a 2-byte length L and L bytes, a datagram (as
 *     stream bytes on a stream tuple); RW_OP_STREAM: the same as stream bytes;
 *   RW_OP_ADVANCE: 2 bytes v, the clock moves on v ms (top bit set: the low
 *     15 bits in seconds);
 *   RW_OP_SETTLE: rw_settle(tuple & 1);
 *   RW_OP_EVENT: tuple 0-2 rw_kill, 3 rw_recheck, 4-5 rw_set_conf(0/1),
 *     6-7 rw_drain(on/off);
 *   RW_OP_SIGNED: a 2-byte length L and L bytes: a credential selector byte
 *     and a request template, which the world signs with the nonce the
 *     server gives now (request_world.c: signed_request) and sends, so that
 *     mutations of authenticated requests are not all stopped by the check
 *     of their integrity.
 * At most RW_MAX_RECORDS records run; a length past the end takes the rest.
 */
enum { RW_OP_DGRAM, RW_OP_STREAM, RW_OP_DGRAM2, RW_OP_ADVANCE, RW_OP_SETTLE, RW_OP_EVENT,
       RW_OP_SIGNED };
#define RW_MAX_RECORDS 512
#define RW_HDR(op, tuple) ((uint8_t)((op) << 5 | ((tuple) & 7)))
/* One record from d (the bytes it used), or all of them. */
size_t rw_run_record(struct rw_world *w, const uint8_t *d, size_t n);
void rw_run(struct rw_world *w, const uint8_t *d, size_t n);

/* Replies to the last message given (for the seed generator). */
size_t rw_nreplies(const struct rw_world *w);
const struct rw_reply *rw_reply(const struct rw_world *w, size_t i);
struct tp_srv *rw_srv(struct rw_world *w);
uint64_t rw_wall(const struct rw_world *w);

/* Figures over the process's worlds (fuzz_request prints them when
 * TP_FUZZ_REPORT is set). */
struct rw_totals {
	uint64_t worlds, messages, replies, authed_msgs;
	uint64_t allocs_created, allocs_max, perms_max, chans_max;
	uint64_t relayed;           /* relay_send calls */
	uint64_t answers[TP_SM_COUNT][TP_SR_COUNT];
	long unauth_excess_max;     /* largest unauthenticated reply minus its request */
};
const struct rw_totals *rw_totals(void);

#endif
