/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stun_attr.c - typed getters over attribute views that tp_stun_decode has
 * already validated: no bounds checks are repeated here beyond what a wrong
 * attribute type could need.
 */
#include <string.h>
#include <sys/socket.h>

#include "proto.h"
#include "rd.h"

/*
 * XOR-* addresses are XORed with the 16 bytes that follow the length field:
 * the cookie and the transaction ID (RFC 8489 §14.2). For a classic message the
 * same bytes are the first part of its 16-byte ID, which is what the pre-RFC
 * 5389 XOR-MAPPED-ADDRESS used too.
 */
enum tp_perr tp_attr_addr(const struct tp_stun_msg *m, const struct tp_stun_attr *a,
                          struct tp_addr *out)
{
	const uint8_t *v = a->val;
	const uint8_t *x = m->buf + 4;
	bool xor = is_xor_addr(a->type);
	size_t n;

	memset(out, 0, sizeof(*out));
	if (a->len == 8 && v[1] == TP_STUN_FAMILY_IPV4) {
		out->family = AF_INET;
		n = 4;
	} else if (a->len == 20 && v[1] == TP_STUN_FAMILY_IPV6) {
		out->family = AF_INET6;
		n = 16;
	} else {
		return TP_P_BAD_FAMILY;
	}
	out->port = rd_u16(v + 2);
	memcpy(out->ip, v + 4, n);
	if (xor) {
		out->port ^= rd_u16(x);
		for (size_t i = 0; i < n; i++)
			out->ip[i] ^= x[i];
	}
	return TP_P_OK;
}

void tp_attr_str(const struct tp_stun_attr *a, const char **s, size_t *len)
{
	*s = (const char *)a->val;
	*len = a->len;
}

uint32_t tp_attr_u32(const struct tp_stun_attr *a)
{
	return a->len >= 4 ? rd_u32(a->val) : 0;
}

uint64_t tp_attr_u64(const struct tp_stun_attr *a)
{
	return a->len >= 8 ? rd_u64(a->val) : 0;
}

void tp_attr_error_code(const struct tp_stun_attr *a, struct tp_error_code *e)
{
	e->code = (uint16_t)((a->val[2] & 7) * 100 + a->val[3]);
	e->reason = (const char *)a->val + 4;
	e->reason_len = a->len - 4u;
}

void tp_attr_addr_error_code(const struct tp_stun_attr *a, struct tp_addr_error_code *e)
{
	e->family = a->val[0];
	e->code = (uint16_t)((a->val[2] & 7) * 100 + a->val[3]);
	e->reason = (const char *)a->val + 4;
	e->reason_len = a->len - 4u;
}

size_t tp_attr_unknown_list(const struct tp_stun_attr *a, uint16_t *types, size_t cap)
{
	size_t n = a->len / 2;

	for (size_t i = 0; i < n && i < cap; i++)
		types[i] = rd_u16(a->val + 2 * i);
	return n;
}

/* Walks the (algorithm, parameter length, parameters) list the same way the
 * decoder validated it. */
size_t tp_attr_pw_algs(const struct tp_stun_attr *a, uint16_t *algs, size_t cap)
{
	size_t off = 0, n = 0, len = a->len;

	while (len - off >= 4) {
		size_t plen = rd_u16(a->val + off + 2);

		if (n < cap)
			algs[n] = rd_u16(a->val + off);
		n++;
		off += 4;
		if (len - off < plen)
			break;
		off += len - off < pad4(plen) ? len - off : pad4(plen);
	}
	return n;
}

uint16_t tp_attr_pw_alg(const struct tp_stun_attr *a)
{
	return rd_u16(a->val);
}

uint16_t tp_attr_channel(const struct tp_stun_attr *a)
{
	return rd_u16(a->val);
}

uint8_t tp_attr_transport(const struct tp_stun_attr *a)
{
	return a->val[0];
}

uint8_t tp_attr_family(const struct tp_stun_attr *a)
{
	return a->val[0];
}

bool tp_attr_even_port_r(const struct tp_stun_attr *a)
{
	return (a->val[0] & 0x80) != 0;
}

/* Only the two flags RFC 5780 defines; the other bits are ignored. */
uint32_t tp_attr_change_flags(const struct tp_stun_attr *a)
{
	return rd_u32(a->val) & (TP_CHANGE_IP | TP_CHANGE_PORT);
}

uint16_t tp_attr_response_port(const struct tp_stun_attr *a)
{
	return rd_u16(a->val);
}

void tp_attr_icmp(const struct tp_stun_attr *a, struct tp_icmp *out)
{
	out->type = a->val[2];
	out->code = a->val[3];
	out->data = rd_u32(a->val + 4);
}
