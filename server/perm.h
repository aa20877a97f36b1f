/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * perm.h - the permissions of one allocation (RFC 8656 §9): peer IP
 * addresses (no port) with an expiry. A pure table: no clock of its own (the
 * caller passes the time), no I/O.
 *
 * Small tables (the usual one to four peers of a WebRTC session) are a plain
 * array scanned in order; past TP_PERM_LINEAR entries a hash index over the
 * array keeps every lookup O(1), so a client with thousands of permissions
 * costs each relayed packet one probe, not a scan. Expired entries are
 * removed when the array is full (before it grows), so the table never holds
 * more than the configured maximum of live entries plus what expired since.
 */
#ifndef TP_PERM_H
#define TP_PERM_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "proto.h"

#define TP_PERM_LIFETIME 300     /* RFC 8656 §9 */
#define TP_PERM_LINEAR 8         /* entries scanned without an index */

struct tp_perm {
	struct tp_addr ip;       /* port 0 */
	time_t expires;
};

struct tp_perms {
	struct tp_perm *v;       /* owned */
	uint32_t n, cap;
	uint32_t *idx;           /* owned: positions + 1 (0: empty slot), idx_cap slots */
	uint32_t idx_cap;        /* 0 or a power of two >= 2 * cap */
};

void tp_perms_init(struct tp_perms *p);
void tp_perms_free(struct tp_perms *p);

/* Install or refresh (now + TP_PERM_LIFETIME). 0, -ENOSPC (max live
 * permissions reached) or -ENOMEM. */
int tp_perms_install(struct tp_perms *p, const struct tp_addr *ip, uint32_t max, time_t now);
/* Is there a live permission for ip's address (port ignored)? */
bool tp_perms_ok(const struct tp_perms *p, const struct tp_addr *ip, time_t now);
/* Live permissions. */
uint32_t tp_perms_count(const struct tp_perms *p, time_t now);
/* Keep only the entries keep() accepts (and that are live). */
void tp_perms_filter(struct tp_perms *p, time_t now, bool (*keep)(void *arg, const struct tp_addr *ip),
                     void *arg);

/* Consistency of the table's own structure (for tests and the request
 * fuzzer): NULL, or what is wrong. O(n + index size). */
const char *tp_perms_check(const struct tp_perms *p);

#endif
