/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * check.h - turnpike --check-config, and the start-up lines it shares with a
 * real start (check.c).
 */
#ifndef TP_CHECK_H
#define TP_CHECK_H

#include <stdbool.h>
#include <stdio.h>

#include "conf.h"

struct tp_shared;

/* An external-ip whose private part is none of the relay addresses (those of
 * sh, chosen at start without relay-ip) would never apply: -EINVAL and why. */
int tp_check_external(const struct tp_conf *c, const struct tp_shared *sh, char *err,
                      size_t errlen);

/* One line each: the realm and auth mode (demo: the demo user is made), every
 * relay address with its external mapping, the certificate's subject and
 * expiry. sh: the relay addresses (NULL: none yet). */
void tp_check_describe(const struct tp_conf *c, const struct tp_shared *sh, bool demo,
                       void (*line)(void *arg, const char *text), void *arg);

/*
 * Everything a start loads beyond the file, without binding a socket: the
 * TLS and DTLS contexts (certificate, key, their match), the Redis password
 * file, the relay addresses against external-ip. Prints what would be served
 * on out; 0, or -1 with the error in err.
 */
int tp_check_config(const struct tp_conf *c, bool demo, FILE *out, char *err, size_t errlen);

#endif
