/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_offload_csum.c - server/bpf/csum.h, the checksum arithmetic of the
 * kernel datapath, on the host: against a plain big-endian RFC 1071
 * reference, over the RFC's own example, random headers with words and
 * single bytes (both parities) removed, replaced and added, the pseudo-header
 * seeds Linux writes for CHECKSUM_PARTIAL, and the UDP "0 is 0xffff" rule.
 * The program's use of these primitives is tested with real packets in
 * tests/netns/offload_test.c.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/csum.h"
#include "tp_test.h"

/* The reference: 16-bit big-endian words, odd byte padded with zero. */
static uint16_t ref_sum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* The raw-word sum of a buffer (as the BPF program forms it), folded. */
static uint16_t raw_sum(const uint8_t *p, size_t n)
{
	uint64_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2) {
		uint16_t w;

		memcpy(&w, p + i, 2);
		s += w;
	}
	if (n & 1)
		s += tp_csum_byte(p[n - 1], 0);
	return tp_csum_fold(s);
}

/* A folded raw sum, stored as it would be into the packet, read big-endian. */
static uint16_t as_be(uint16_t raw)
{
	uint8_t b[2];

	memcpy(b, &raw, 2);
	return (uint16_t)(b[0] << 8 | b[1]);
}

static void rfc1071_example(void)
{
	/* RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 */
	static const uint8_t b[8] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	CHECK_EQ(ref_sum(b, 8), 0xddf2);
	CHECK_EQ(as_be(raw_sum(b, 8)), 0xddf2);
	CHECK_EQ(tp_csum_fold(0x1ffffull), 1);
	CHECK_EQ(tp_csum_fold(0xffffull), 0xffff);
	CHECK_EQ(tp_csum_fold(0xffffffffffffffffull), 0xffff);
	CHECK_EQ(tp_csum_fold(0x0001000000000000ull), 1);
}

/* The checksum field value over a buffer whose field (at off) is zero. */
static uint16_t field_for(uint8_t *b, size_t n, size_t off)
{
	uint16_t c;

	b[off] = b[off + 1] = 0;
	c = (uint16_t)~ref_sum(b, n);
	return htons(c);   /* raw, as stored */
}

static void incremental(void)
{
	srand(7);
	for (int round = 0; round < 2000; round++) {
		uint8_t b[64], before[64];
		size_t n = 20 + (size_t)(rand() % 40), off = 6, tail;
		uint16_t field, w_old, w_new;
		uint64_t s;

		for (size_t i = 0; i < n; i++)
			b[i] = (uint8_t)rand();
		field = field_for(b, n, off);
		memcpy(b + off, &field, 2);
		CHECK_EQ(ref_sum(b, n), 0xffff);   /* a valid buffer sums to -0 */
		memcpy(before, b, n);

		/* replace an aligned word (not the field) */
		size_t wi = 2 * (size_t)(rand() % (int)(n / 2));

		if (wi == off)
			wi = 0;
		memcpy(&w_old, b + wi, 2);
		w_new = (uint16_t)rand();
		memcpy(b + wi, &w_new, 2);
		s = tp_csum_start(field);
		s = tp_csum_sub16(s, w_old);
		s += w_new;
		/* and drop 1..3 trailing bytes, whatever their parity */
		tail = 1 + (size_t)(rand() % 3);
		for (size_t i = n - tail; i < n; i++)
			s = tp_csum_sub16(s, tp_csum_byte(b[i], (int)(i & 1)));
		n -= tail;
		if (wi + 2 > n)
			continue;   /* the replaced word went with the tail */
		field = tp_csum_finish(s);
		memcpy(b + off, &field, 2);
		uint8_t check[64];

		memcpy(check, b, n);
		CHECK_EQ(ref_sum(check, n), 0xffff);
		CHECK_EQ(field, field_for(check, n, off));
	}
}

static void pseudo_and_words(void)
{
	uint8_t a4[8] = { 198, 51, 100, 2, 203, 0, 113, 1 };
	uint32_t s4, d4, s6[4], d6[4];
	uint16_t len = htons(108), proto = htons(17);
	uint8_t ph[12], ph6[40];

	memcpy(&s4, a4, 4);
	memcpy(&d4, a4 + 4, 4);
	memcpy(ph, a4, 8);
	ph[8] = 0;
	ph[9] = 17;
	memcpy(ph + 10, &len, 2);
	CHECK_EQ(as_be(tp_csum_pseudo4(s4, d4, len, proto)), ref_sum(ph, 12));

	for (int i = 0; i < 32; i++)
		ph6[i] = (uint8_t)(0x20 + i * 3);
	memcpy(s6, ph6, 16);
	memcpy(d6, ph6 + 16, 16);
	memset(ph6 + 32, 0, 8);
	memcpy(ph6 + 34, &len, 2);
	ph6[39] = 17;
	CHECK_EQ(as_be(tp_csum_pseudo6(s6, d6, len, proto)), ref_sum(ph6, 40));

	/* 128-bit add and sub cancel; add32 splits a value into its two words */
	uint64_t x = tp_csum_sub128(tp_csum_add128(12345, s6), s6);

	CHECK_EQ(tp_csum_fold(x), tp_csum_fold(12345 + 0xffffull * 8));
	CHECK_EQ(as_be(tp_csum_fold(tp_csum_add32(0, s4))), ref_sum(a4, 4));

	/* an IPv4 header: valid ones fold to 0xffff, and the field is ~fold */
	uint8_t ip[20] = { 0x45, 0x28, 0x00, 0x80, 0x12, 0x34, 0x40, 0x00, 64, 17, 0, 0,
	                   198, 51, 100, 2, 203, 0, 113, 1 };
	uint16_t w[10], c;

	memcpy(w, ip, 20);
	c = tp_csum_finish(tp_csum_ip4_words(w));
	memcpy(ip + 10, &c, 2);
	memcpy(w, ip, 20);
	CHECK_EQ(tp_csum_ip4_words(w), 0xffff);
	CHECK_EQ(ref_sum(ip, 20), 0xffff);

	/* UDP: a computed 0 goes out as 0xffff; other values unchanged */
	CHECK_EQ(tp_csum_finish_udp(0xffff), 0xffff);
	CHECK_EQ(tp_csum_finish(0xffff), 0);
	CHECK_EQ(tp_csum_finish_udp(0x1234), (uint16_t)~0x1234);
	/* two bytes placed by parity make the raw word of the pair */
	uint8_t pair[2] = { 0xab, 0xcd };
	uint16_t raw;

	memcpy(&raw, pair, 2);
	CHECK_EQ((uint16_t)(tp_csum_byte(0xab, 0) + tp_csum_byte(0xcd, 1)), raw);
}

int main(void)
{
	rfc1071_example();
	incremental();
	pseudo_and_words();
	TP_TEST_END();
}
