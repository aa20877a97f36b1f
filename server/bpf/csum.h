/* SPDX-License-Identifier: BSD-3-Clause OR GPL-2.0-only */
/*
 * csum.h - Internet checksum arithmetic (RFC 1071, incremental update RFC 1624)
 * for the kernel datapath. Shared by relay.bpf.c (clang -target bpf) and the
 * host unit test (tests/unit/server/test_offload_csum.c), so it uses only
 * fixed-width types, no libc and no loops the verifier could not bound.
 *
 * Every 16-bit value here is a "raw" word: two bytes as they lie in the
 * packet, loaded as a native integer (never ntohs'd). The ones' complement sum
 * is byte-order independent (RFC 1071 §2(B)), so sums over raw words, folded
 * and stored back raw, are correct checksums on either endianness. Values the
 * caller builds (lengths, the protocol number) must be converted to network
 * order first (htons) to become raw words.
 */
#ifndef TP_BPF_CSUM_H
#define TP_BPF_CSUM_H

#ifdef __bpf__
#include <linux/types.h>
typedef __u8 tp_u8;
typedef __u16 tp_u16;
typedef __u32 tp_u32;
typedef __u64 tp_u64;
#define TP_CSUM_INLINE static __always_inline
#else
#include <stdint.h>
typedef uint8_t tp_u8;
typedef uint16_t tp_u16;
typedef uint32_t tp_u32;
typedef uint64_t tp_u64;
#define TP_CSUM_INLINE static inline __attribute__((always_inline))
#endif

/* Fold a 64-bit accumulator of raw words to 16 bits (end-around carries).
 * Four folds suffice for any 64-bit value. */
TP_CSUM_INLINE tp_u16 tp_csum_fold(tp_u64 s)
{
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffu) + (s >> 16);
	s = (s & 0xffffu) + (s >> 16);
	s = (s & 0xffffu) + (s >> 16);
	return (tp_u16)s;
}

/* The raw word holding byte b at an even (odd = 0) or odd (odd = 1) offset
 * from the start of the checksummed area, the other byte zero. */
TP_CSUM_INLINE tp_u16 tp_csum_byte(tp_u8 b, int odd)
{
	union {
		tp_u8 c[2];
		tp_u16 w;
	} u;

	u.c[0] = odd ? 0 : b;
	u.c[1] = odd ? b : 0;
	return u.w;
}

/* Raw words of a 32-bit raw value (an IPv4 address as it lies in memory). */
TP_CSUM_INLINE tp_u64 tp_csum_add32(tp_u64 s, tp_u32 v)
{
	return s + (v & 0xffffu) + (v >> 16);
}

/* s + ~v for every raw word of a 32-bit value: "subtract" it (RFC 1624). */
TP_CSUM_INLINE tp_u64 tp_csum_sub32(tp_u64 s, tp_u32 v)
{
	return s + (~v & 0xffffu) + ((~v >> 16) & 0xffffu);
}

TP_CSUM_INLINE tp_u64 tp_csum_sub16(tp_u64 s, tp_u16 v)
{
	return s + (tp_u16)~v;
}

/* The sum of 16 bytes (an IPv6 address) given as four raw 32-bit words. */
TP_CSUM_INLINE tp_u64 tp_csum_add128(tp_u64 s, const tp_u32 *a)
{
	return tp_csum_add32(tp_csum_add32(tp_csum_add32(tp_csum_add32(s, a[0]), a[1]), a[2]),
	                     a[3]);
}

TP_CSUM_INLINE tp_u64 tp_csum_sub128(tp_u64 s, const tp_u32 *a)
{
	return tp_csum_sub32(tp_csum_sub32(tp_csum_sub32(tp_csum_sub32(s, a[0]), a[1]), a[2]),
	                     a[3]);
}

/*
 * Incremental update, RFC 1624 eqn. 3: start from the old checksum field
 * (tp_csum_start), add every new raw word and tp_csum_sub* every old one, then
 * tp_csum_finish. For UDP a result of 0 is sent as 0xffff (0 means "no
 * checksum" on IPv4, RFC 768), which tp_csum_finish_udp does.
 */
TP_CSUM_INLINE tp_u64 tp_csum_start(tp_u16 old_field)
{
	return (tp_u16)~old_field;
}

TP_CSUM_INLINE tp_u16 tp_csum_finish(tp_u64 s)
{
	return (tp_u16)~tp_csum_fold(s);
}

TP_CSUM_INLINE tp_u16 tp_csum_finish_udp(tp_u64 s)
{
	tp_u16 c = tp_csum_finish(s);

	return c ? c : 0xffff;
}

/*
 * The 20-byte IPv4 header without options, as ten raw words with the checksum
 * field (word 5) included: a header is intact when this folds to 0xffff, and a
 * new header's checksum is ~fold of the words with word 5 zero.
 */
TP_CSUM_INLINE tp_u16 tp_csum_ip4_words(const tp_u16 *w)
{
	tp_u64 s = (tp_u64)w[0] + w[1] + w[2] + w[3] + w[4] + w[5] + w[6] + w[7] + w[8] + w[9];

	return tp_csum_fold(s);
}

/*
 * The folded (not inverted) pseudo-header sum for UDP: what Linux seeds the
 * checksum field with when the checksum is left to the device
 * (CHECKSUM_PARTIAL: ~csum_tcpudp_magic(), ~csum_ipv6_magic()). A datagram
 * whose field equals this may not carry its real checksum yet.
 * len_raw is the UDP length as it lies in the header; proto_raw is
 * htons(IPPROTO_UDP).
 */
TP_CSUM_INLINE tp_u16 tp_csum_pseudo4(tp_u32 saddr, tp_u32 daddr, tp_u16 len_raw,
                                      tp_u16 proto_raw)
{
	return tp_csum_fold(tp_csum_add32(tp_csum_add32(0, saddr), daddr) + len_raw + proto_raw);
}

TP_CSUM_INLINE tp_u16 tp_csum_pseudo6(const tp_u32 *saddr, const tp_u32 *daddr, tp_u16 len_raw,
                                      tp_u16 proto_raw)
{
	return tp_csum_fold(tp_csum_add128(tp_csum_add128(0, saddr), daddr) + len_raw + proto_raw);
}

#endif
