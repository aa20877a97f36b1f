/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * chan.h - the channels of one allocation (RFC 8656 §11, §12): channel
 * number <-> peer transport address bindings with an expiry, and the rules
 * for binding: a number or a peer bound otherwise cannot be rebound until
 * five minutes after its binding expired (quarantine). A pure table: the
 * caller passes the time; no I/O.
 *
 * Like perm.h: an array scanned while small, a hash index (by number and by
 * peer) past TP_CHAN_LINEAR entries, so each relayed packet costs O(1).
 */
#ifndef TP_CHAN_H
#define TP_CHAN_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "proto.h"

#define TP_CHAN_LIFETIME 600     /* RFC 8656 §12 */
#define TP_CHAN_QUARANTINE 300   /* a number is not rebound to another peer for 5 min */
#define TP_CHAN_LINEAR 8

struct tp_chan {
	struct tp_addr peer;
	time_t expires;          /* binding valid until; unusable after */
	uint16_t num;
	bool self_relay;         /* peer is one of our relay addresses: each packet
	                            checks that an allocation still holds the port */
};

struct tp_chans {
	struct tp_chan *v;       /* owned */
	uint32_t n, cap;
	uint32_t *by_num, *by_peer; /* owned indexes: positions + 1, idx_cap slots each */
	uint32_t idx_cap;
};

void tp_chans_init(struct tp_chans *c);
void tp_chans_free(struct tp_chans *c);

/*
 * Bind num to peer, or refresh that same binding (now + TP_CHAN_LIFETIME).
 * 0; -EEXIST when num or peer is bound (or quarantined) otherwise (a 400);
 * -ENOSPC when max live-or-quarantined channels are bound; -ENOMEM.
 */
int tp_chans_bind(struct tp_chans *c, uint16_t num, const struct tp_addr *peer, bool self_relay,
                  uint32_t max, time_t now);
/* The live binding of num / of peer (ip and port), or NULL. */
const struct tp_chan *tp_chans_by_num(const struct tp_chans *c, uint16_t num, time_t now);
const struct tp_chan *tp_chans_by_peer(const struct tp_chans *c, const struct tp_addr *peer,
                                       time_t now);
/* Live channels. */
uint32_t tp_chans_count(const struct tp_chans *c, time_t now);
/* Drop the bindings keep() refuses (quarantined entries stay). */
void tp_chans_filter(struct tp_chans *c, time_t now,
                     bool (*keep)(void *arg, const struct tp_chan *ch), void *arg);

/* Consistency of the table's own structure (for tests and the request
 * fuzzer): NULL, or what is wrong. O(n + index size). */
const char *tp_chans_check(const struct tp_chans *c);

#endif
