/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_fuzz.c - a deterministic mutation run over valid messages (bit flips,
 * truncation, random TLV soup after a valid header, random stream chunks).
 * Properties: nothing reads or writes out of bounds (the -san variant checks),
 * every accepted message survives decode -> re-encode -> decode with the same
 * attribute views, every getter runs on every accepted attribute, and the
 * framer hands out exactly the bytes it was given.
 */
#include <stdlib.h>

#include "proto.h"
#include "tp_test.h"

#define ITERS 60000

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static size_t seed(uint8_t *b, size_t cap, int which)
{
	static const uint8_t tid[12] = { 5, 4, 3, 2, 1 };
	static const uint16_t algs[2] = { 1, 2 };
	static const uint16_t unk[2] = { 0x0002, 0x0031 };
	struct tp_stun_wr w;
	struct tp_addr a;
	struct tp_icmp ic = { 1, 2, 3 };

	tp_stun_wr_init(&w, b, cap, which & 1 ? TP_METHOD_ALLOCATE : TP_METHOD_BINDING,
	                TP_CLASS_REQUEST, tid);
	tp_addr_parse(&a, which & 2 ? "[2001:db8::5]:77" : "192.0.2.5:77", 0);
	tp_stun_put_addr(&w, TP_ATTR_XOR_PEER_ADDRESS, &a);
	tp_stun_put_addr(&w, TP_ATTR_MAPPED_ADDRESS, &a);
	tp_stun_put_str(&w, TP_ATTR_USERNAME, "user", 4);
	tp_stun_put_str(&w, TP_ATTR_REALM, "realm", 5);
	tp_stun_put_error(&w, 401, "x");
	tp_stun_put_addr_error(&w, 1, 440, "y");
	tp_stun_put_pw_algs(&w, algs, 2);
	tp_stun_put_pw_alg(&w, 2);
	tp_stun_put_unknown(&w, unk, 2);
	tp_stun_put_icmp(&w, &ic);
	tp_stun_put_channel(&w, 0x4001);
	tp_stun_put_even_port(&w, true);
	tp_stun_put_family(&w, TP_ATTR_ADDITIONAL_ADDRESS_FAMILY, 2);
	tp_stun_put_u32(&w, 0x7777, 1);
	if (which & 4)
		tp_stun_put_mi(&w, (const uint8_t *)"k", 1);
	if (which & 8)
		tp_stun_put_mi256(&w, (const uint8_t *)"k", 1, 20);
	tp_stun_put_fingerprint(&w);
	return (size_t)tp_stun_wr_finish(&w);
}

static void exercise(const struct tp_stun_msg *m)
{
	uint8_t out[2048];
	struct tp_stun_wr w;
	struct tp_stun_msg m2;
	long n;
	int ok = 1;

	for (unsigned i = 0; i < m->nattrs; i++) {
		const struct tp_stun_attr *a = &m->attrs[i];
		struct tp_addr ad;
		struct tp_error_code ec;
		struct tp_addr_error_code aec;
		struct tp_icmp ic;
		uint16_t list[4];
		const char *s;
		size_t sl;

		switch (a->type) {
		case TP_ATTR_MAPPED_ADDRESS: case TP_ATTR_XOR_MAPPED_ADDRESS:
		case TP_ATTR_XOR_PEER_ADDRESS: case TP_ATTR_XOR_RELAYED_ADDRESS:
		case TP_ATTR_ALTERNATE_SERVER: case TP_ATTR_RESPONSE_ORIGIN:
		case TP_ATTR_OTHER_ADDRESS:
			ok &= tp_attr_addr(m, a, &ad) == TP_P_OK;
			break;
		case TP_ATTR_ERROR_CODE:
			tp_attr_error_code(a, &ec);
			ok &= ec.code >= 300 && ec.code <= 699;
			break;
		case TP_ATTR_ADDRESS_ERROR_CODE:
			tp_attr_addr_error_code(a, &aec);
			ok &= aec.code >= 300 && aec.code <= 699;
			break;
		case TP_ATTR_PASSWORD_ALGORITHMS:
			ok &= tp_attr_pw_algs(a, list, 4) >= 1;
			break;
		case TP_ATTR_PASSWORD_ALGORITHM:
			ok &= tp_attr_pw_algs(a, list, 4) == 1;
			(void)tp_attr_pw_alg(a);
			break;
		case TP_ATTR_UNKNOWN_ATTRIBUTES:
			ok &= tp_attr_unknown_list(a, list, 4) == a->len / 2u;
			break;
		case TP_ATTR_ICMP:
			tp_attr_icmp(a, &ic);
			break;
		case TP_ATTR_USERNAME: case TP_ATTR_REALM:
			tp_attr_str(a, &s, &sl);
			break;
		default:
			(void)tp_attr_u32(a);
			(void)tp_attr_u64(a);
			break;
		}
	}
	CHECK(ok);

	/* re-encode the views and decode again: same types, lengths, values */
	tp_stun_wr_init(&w, out, sizeof(out), m->method, m->cls, m->tid);
	if (m->classic)
		tp_stun_wr_init_classic(&w, out, sizeof(out), m->method, m->cls, m->tid);
	for (unsigned i = 0; i < m->nattrs; i++) {
		const struct tp_stun_attr *a = &m->attrs[i];

		if (a->type == TP_ATTR_FINGERPRINT)
			tp_stun_put_fingerprint(&w);
		else
			tp_stun_put(&w, a->type, a->val, a->len);
	}
	n = tp_stun_wr_finish(&w);
	CHECK(n > 0);
	if (n <= 0)
		return;
	CHECK_EQ(tp_stun_decode(&m2, out, (size_t)n, NULL), TP_P_OK);
	CHECK_EQ(m2.nattrs, m->nattrs);
	for (unsigned i = 0; i < m->nattrs && i < m2.nattrs; i++) {
		if (m->attrs[i].type == TP_ATTR_FINGERPRINT)
			continue;
		if (m2.attrs[i].type != m->attrs[i].type || m2.attrs[i].len != m->attrs[i].len ||
		    memcmp(m2.attrs[i].val, m->attrs[i].val, m->attrs[i].len) != 0) {
			CHECK(!"attribute changed in a round trip");
			break;
		}
	}
}

int main(void)
{
	static uint8_t seeds[16][1024];
	static size_t seed_len[16];
	uint8_t *b = malloc(2048);
	size_t accepted = 0;

	for (int i = 0; i < 16; i++)
		seed_len[i] = seed(seeds[i], sizeof(seeds[i]), i);
	for (long it = 0; it < ITERS; it++) {
		int s = (int)(it % 16);
		size_t n = seed_len[s];
		struct tp_stun_msg m;
		uint8_t *p;

		switch (it % 4) {
		case 0:  /* bit flips */
			memcpy(b, seeds[s], n);
			for (uint32_t k = 0, f = 1 + rnd() % 4; k < f; k++)
				b[rnd() % n] ^= (uint8_t)(1u << (rnd() % 8));
			break;
		case 1:  /* truncation, header patched to the new length */
			memcpy(b, seeds[s], n);
			n = 20 + 4 * (rnd() % ((n - 20) / 4 + 1));
			b[2] = (uint8_t)((n - 20) >> 8);
			b[3] = (uint8_t)(n - 20);
			break;
		case 2:  /* valid header, random TLV soup */
			memcpy(b, seeds[s], 20);
			n = 20 + 4 * (rnd() % 64);
			for (size_t k = 20; k < n; k++)
				b[k] = (uint8_t)rnd();
			for (size_t k = 20; k + 4 <= n; k += 4 + 4 * (rnd() % 4)) {
				b[k] = rnd() % 2 ? 0x80 : 0;
				b[k + 1] = (uint8_t)(rnd() % 0x31);
				b[k + 2] = 0;
				b[k + 3] = (uint8_t)(rnd() % 40);
			}
			b[2] = (uint8_t)((n - 20) >> 8);
			b[3] = (uint8_t)(n - 20);
			break;
		default: /* random bytes */
			n = rnd() % 128;
			for (size_t k = 0; k < n; k++)
				b[k] = (uint8_t)rnd();
			break;
		}
		/* place the input at the end of a heap block for ASan */
		p = malloc(n ? n : 1);
		memcpy(p, b, n);
		if (tp_stun_decode(&m, p, n, NULL) == TP_P_OK) {
			accepted++;
			exercise(&m);
			(void)tp_stun_verify_mi(&m, (const uint8_t *)"k", 1);
			(void)tp_stun_verify_mi256(&m, (const uint8_t *)"k", 1);
		}
		{
			uint16_t chan;
			const uint8_t *data;
			size_t dlen, flen, have = 0, fed = 0, total = 0;
			enum tp_frame_kind kind;
			uint8_t rx[512];
			struct tp_framer fr;
			enum tp_perr fe = TP_P_NEED_MORE;

			(void)tp_chan_decode(p, n, &chan, &data, &dlen);
			(void)tp_frame_peek(p, n, 512, &flen, &kind);
			(void)tp_stun_is_stun(p, n);
			/* the bytes as a stream, read in random pieces into a buffer
			 * of the framer's max; frames are consumed as they complete */
			tp_framer_init(&fr, sizeof(rx), TP_CHAN_MAX);
			while (fed < n && fe == TP_P_NEED_MORE) {
				size_t k = 1 + rnd() % 40;

				if (k > n - fed)
					k = n - fed;
				if (k > sizeof(rx) - have)
					k = sizeof(rx) - have;
				CHECK(k > 0);
				memcpy(rx + have, p + fed, k);
				have += k;
				fed += k;
				while ((fe = tp_framer_next(&fr, rx, have, &flen, &kind)) == TP_P_OK) {
					total += flen;
					memmove(rx, rx + flen, have - flen);
					have -= flen;
				}
			}
			if (fe == TP_P_NEED_MORE)
				CHECK_EQ(total + have, n);
			else
				CHECK_EQ(fr.err, fe);
		}
		free(p);
	}
	free(b);
	printf("%zu of %d mutated inputs accepted\n", accepted, ITERS);
	CHECK(accepted > 100);
	TP_TEST_END();
}
