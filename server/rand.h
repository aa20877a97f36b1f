/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rand.h - cryptographic randomness for the per-allocation hot path.
 *
 * libsodium's randombytes_buf is one getrandom() system call per call; an
 * Allocate needs several small random values (relay port start, session
 * id, mobility ticket, reservation token). These come from a per-thread
 * buffer refilled 512 bytes at a time from randombytes_buf, so an Allocate
 * costs a fraction of a system call. Same quality: the bytes are the
 * kernel's CSPRNG output, used once each.
 */
#ifndef TP_RAND_H
#define TP_RAND_H

#include <stddef.h>
#include <stdint.h>

void tp_rand_buf(void *out, size_t n);
/* Drop this thread's buffered bytes: what follows comes from a fresh
 * randombytes_buf (tests that install a deterministic libsodium generator
 * replay the same values). */
void tp_rand_reset(void);
/* Uniform in [0, upper) (0 for upper 0 or 1), without modulo bias. */
uint32_t tp_rand_uniform(uint32_t upper);

#endif
