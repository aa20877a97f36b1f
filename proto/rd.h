/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rd.h - internal helpers of the codec: big-endian loads and stores, padding.
 * Not part of the API (proto.h is); included by the .c files of proto/ only.
 */
#ifndef TP_RD_H
#define TP_RD_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/*
 * Writer internals (stun_wr.c): reserves a whole attribute of value length len
 * (plus zero padding), writes its header and updates the message length;
 * returns a pointer to the value, or NULL with w->err set (sticky).
 */
uint8_t *tp_stun_wr_reserve(struct tp_stun_wr *w, uint16_t type, size_t len);

static inline uint16_t rd_u16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t rd_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t rd_u64(const uint8_t *p)
{
	return (uint64_t)rd_u32(p) << 32 | rd_u32(p + 4);
}

static inline void wr_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wr_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void wr_u64(uint8_t *p, uint64_t v)
{
	wr_u32(p, (uint32_t)(v >> 32));
	wr_u32(p + 4, (uint32_t)v);
}

/* n rounded up to a multiple of 4 */
static inline size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* True for an XOR-encoded address attribute. */
static inline int is_xor_addr(uint16_t type)
{
	return type == 0x0020 || type == 0x0012 || type == 0x0016;
}

#endif
