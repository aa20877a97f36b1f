/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_frame.c - ChannelData encode/decode, tp_frame_peek, and the pull
 * framer: a caller buffer filled byte by byte or in any chunking, several
 * frames in one read, mixed STUN and ChannelData, what NEED_MORE asks for,
 * frames over the cap, bad first bytes, sticky errors, the RFC 5766 range.
 */
#include <errno.h>

#include "proto.h"
#include "tp_test.h"

struct seen {
	int n;
	enum tp_frame_kind kind[16];
	size_t len[16];
	uint8_t data[16][128];
};

static void seen_add(struct seen *s, enum tp_frame_kind kind, const uint8_t *frame, size_t len)
{
	if (s->n < 16) {
		s->kind[s->n] = kind;
		s->len[s->n] = len;
		memcpy(s->data[s->n], frame, len < 128 ? len : 128);
	}
	s->n++;
}

/* A stream of: STUN Binding (28 bytes), ChannelData 5 bytes padded (12),
 * ChannelData empty (4), STUN Refresh with LIFETIME (28). */
static size_t make_stream(uint8_t *b, size_t cap, size_t *lens)
{
	static const uint8_t tid[12] = { 3 };
	static const uint8_t hello[5] = { 'h', 'e', 'l', 'l', 'o' };
	struct tp_stun_wr w;
	size_t n = 0;
	long r;

	tp_stun_wr_init(&w, b, cap, TP_METHOD_BINDING, TP_CLASS_REQUEST, tid);
	tp_stun_put_str(&w, TP_ATTR_SOFTWARE, "tp", 2);
	r = tp_stun_wr_finish(&w);
	lens[0] = (size_t)r;
	n += (size_t)r;
	r = tp_chan_encode(b + n, cap - n, 0x4001, hello, 5, true);
	lens[1] = (size_t)r;
	n += (size_t)r;
	r = tp_chan_encode(b + n, cap - n, 0x4fff, NULL, 0, true);
	lens[2] = (size_t)r;
	n += (size_t)r;
	tp_stun_wr_init(&w, b + n, cap - n, TP_METHOD_REFRESH, TP_CLASS_REQUEST, tid);
	tp_stun_put_u32(&w, TP_ATTR_LIFETIME, 0);
	r = tp_stun_wr_finish(&w);
	lens[3] = (size_t)r;
	n += (size_t)r;
	return n;
}

static void check_stream(const struct seen *s, const uint8_t *stream, const size_t *lens)
{
	static const enum tp_frame_kind kinds[4] = { TP_FRAME_STUN, TP_FRAME_CHANDATA,
	                                             TP_FRAME_CHANDATA, TP_FRAME_STUN };
	size_t off = 0;

	CHECK_EQ(s->n, 4);
	for (int i = 0; i < 4 && i < s->n; i++) {
		CHECK_EQ(s->kind[i], kinds[i]);
		CHECK_EQ(s->len[i], lens[i]);
		CHECK_MEM(s->data[i], stream + off, lens[i]);
		off += lens[i];
	}
}

static void test_chandata(void)
{
	static const uint8_t hello[5] = { 'h', 'e', 'l', 'l', 'o' };
	uint8_t b[32];
	uint16_t chan;
	const uint8_t *data;
	size_t len;

	memset(b, 0xAA, sizeof(b));
	CHECK_EQ(tp_chan_encode(b, sizeof(b), 0x4001, hello, 5, false), 9);
	CHECK_EQ(b[9], 0xAA);
	CHECK_EQ(tp_chan_decode(b, 9, &chan, &data, &len), TP_P_OK);
	CHECK_EQ(chan, 0x4001);
	CHECK_EQ(len, 5);
	CHECK(data == b + 4 && memcmp(data, hello, 5) == 0);
	CHECK_EQ(tp_chan_encode(b, sizeof(b), 0x4fff, hello, 5, true), 12);
	CHECK(b[9] == 0 && b[10] == 0 && b[11] == 0);
	CHECK_EQ(tp_chan_decode(b, 12, &chan, &data, &len), TP_P_OK);  /* padding ignored */
	CHECK_EQ(len, 5);
	CHECK_EQ(tp_chan_decode(b, 8, &chan, &data, &len), TP_P_CHAN_TRUNCATED);
	/* in place: the data already sits after the header */
	memcpy(b + 4, "abcdefg", 7);
	CHECK_EQ(tp_chan_encode(b, sizeof(b), 0x4002, b + 4, 7, true), 12);
	CHECK_MEM(b + 4, "abcdefg", 7);
	CHECK_EQ(b[11], 0);
	CHECK_EQ(tp_chan_encode(b, sizeof(b), 0x3fff, hello, 5, false), -EINVAL);
	CHECK_EQ(tp_chan_encode(b, sizeof(b), 0x5000, hello, 5, false), -EINVAL);
	CHECK_EQ(tp_chan_encode(b, 8, 0x4000, hello, 5, false), -ENOBUFS);
	CHECK_EQ(tp_chan_encode(b, 11, 0x4000, hello, 5, true), -ENOBUFS);
	CHECK_EQ(tp_chan_encode(b, sizeof(b), 0x4000, hello, 70000, false), -EINVAL);
	tp_chan_put_header(b, 0x4abc, 0x1234);
	CHECK(b[0] == 0x4a && b[1] == 0xbc && b[2] == 0x12 && b[3] == 0x34);
	CHECK(tp_chan_valid(0x4000) && tp_chan_valid(0x4FFF) && !tp_chan_valid(0x3FFF) &&
	      !tp_chan_valid(0x5000));

	/* the RFC 5766 range, as an option */
	memcpy(b, "\x7f\xfe\x00\x01x", 5);
	CHECK_EQ(tp_chan_decode(b, 5, &chan, &data, &len), TP_P_CHAN_RANGE);
	CHECK_EQ(tp_chan_decode_max(b, 5, TP_CHAN_MAX_RFC5766, &chan, &data, &len), TP_P_OK);
	CHECK_EQ(chan, 0x7ffe);
	CHECK_EQ(len, 1);
	b[0] = 0x80;
	CHECK_EQ(tp_chan_decode_max(b, 5, TP_CHAN_MAX_RFC5766, &chan, &data, &len),
	         TP_P_CHAN_RANGE);
}

static void test_peek(void)
{
	uint8_t b[128];
	size_t lens[4], n = make_stream(b, sizeof(b), lens), flen = 0;
	enum tp_frame_kind kind;

	CHECK_EQ(tp_frame_peek(b, n, 1500, &flen, &kind), TP_P_OK);
	CHECK_EQ(kind, TP_FRAME_STUN);
	CHECK_EQ(flen, lens[0]);
	CHECK_EQ(tp_frame_peek(b, 4, 1500, &flen, &kind), TP_P_OK);  /* header is enough */
	CHECK_EQ(flen, lens[0]);
	CHECK_EQ(tp_frame_peek(b + lens[0], 4, 1500, &flen, &kind), TP_P_OK);
	CHECK_EQ(kind, TP_FRAME_CHANDATA);
	CHECK_EQ(flen, 12);  /* 4 + 5 padded */
	CHECK_EQ(tp_frame_peek(b, n, lens[0], &flen, &kind), TP_P_OK);   /* exactly the cap */
	CHECK_EQ(tp_frame_peek(b, n, lens[0] - 1, &flen, &kind), TP_P_FRAME_TOO_LONG);
	CHECK_EQ(tp_frame_peek(b, 1, 1500, &flen, &kind), TP_P_NEED_MORE);

	/* 0x5000-0x7FFF only with the RFC 5766 maximum */
	memcpy(b, "\x6a\x00\x00\x05", 4);
	CHECK_EQ(tp_frame_peek(b, 4, 1500, &flen, &kind), TP_P_NOT_STUN);
	CHECK_EQ(tp_frame_peek_max(b, 4, 1500, TP_CHAN_MAX_RFC5766, &flen, &kind), TP_P_OK);
	CHECK_EQ(kind, TP_FRAME_CHANDATA);
	CHECK_EQ(flen, 12);
	b[0] = 0x80;
	CHECK_EQ(tp_frame_peek_max(b, 4, 1500, TP_CHAN_MAX_RFC5766, &flen, &kind), TP_P_NOT_STUN);
}

/*
 * A reader as a connection would be: bytes arrive chunk by chunk into a
 * buffer of cap bytes; whole frames are taken from its start and consumed.
 * Returns the last result; *held: bytes left in the buffer.
 */
static enum tp_perr read_in_chunks(struct tp_framer *f, const uint8_t *stream, size_t n,
                                   size_t chunk, size_t cap, struct seen *s, size_t *held)
{
	uint8_t buf[256];
	size_t have = 0, off = 0, flen = 0;
	enum tp_frame_kind kind;
	enum tp_perr e = TP_P_NEED_MORE;

	CHECK(cap <= sizeof(buf));
	while (off < n) {
		size_t k = n - off < chunk ? n - off : chunk;

		if (k > cap - have)
			k = cap - have;
		CHECK(k > 0);  /* a buffer of the framer's max never fills up */
		if (k == 0)
			break;
		memcpy(buf + have, stream + off, k);
		have += k;
		off += k;
		while ((e = tp_framer_next(f, buf, have, &flen, &kind)) == TP_P_OK) {
			seen_add(s, kind, buf, flen);
			memmove(buf, buf + flen, have - flen);
			have -= flen;
		}
		if (e != TP_P_NEED_MORE)
			break;
		CHECK(flen > have && flen <= cap);
	}
	*held = have;
	return e;
}

static void test_framer(void)
{
	uint8_t stream[256];
	size_t lens[4], n = make_stream(stream, sizeof(stream), lens), flen = 0, held;
	struct tp_framer f;
	struct seen s = { 0 };
	enum tp_frame_kind kind;

	/* all at once, from the caller's buffer without copying */
	tp_framer_init(&f, 64, TP_CHAN_MAX);
	for (size_t off = 0; tp_framer_next(&f, stream + off, n - off, &flen, &kind) == TP_P_OK;
	     off += flen)
		seen_add(&s, kind, stream + off, flen);
	check_stream(&s, stream, lens);

	/* every chunk size, from byte by byte to all at once, into a buffer of
	 * exactly the cap (the longest frame here is 28 bytes) */
	for (size_t chunk = 1; chunk <= n; chunk++) {
		memset(&s, 0, sizeof(s));
		tp_framer_init(&f, 28, TP_CHAN_MAX);
		CHECK_EQ(read_in_chunks(&f, stream, n, chunk, 28, &s, &held), TP_P_NEED_MORE);
		check_stream(&s, stream, lens);
		CHECK_EQ(held, 0);
	}

	/* what NEED_MORE asks for: the header, then the whole frame */
	tp_framer_init(&f, 64, TP_CHAN_MAX);
	for (size_t k = 0; k < 4; k++) {
		CHECK_EQ(tp_framer_next(&f, stream, k, &flen, &kind), TP_P_NEED_MORE);
		CHECK_EQ(flen, 4);
	}
	for (size_t k = 4; k < lens[0]; k++) {
		CHECK_EQ(tp_framer_next(&f, stream, k, &flen, &kind), TP_P_NEED_MORE);
		CHECK_EQ(flen, lens[0]);
	}
	CHECK_EQ(tp_framer_next(&f, stream, lens[0], &flen, &kind), TP_P_OK);
	CHECK_EQ(flen, lens[0]);
	CHECK_EQ(kind, TP_FRAME_STUN);
	/* the ChannelData after it: padded length */
	CHECK_EQ(tp_framer_next(&f, stream + lens[0], 5, &flen, &kind), TP_P_NEED_MORE);
	CHECK_EQ(flen, 12);
	CHECK_EQ(tp_framer_next(&f, stream + lens[0], 12, &flen, &kind), TP_P_OK);
	CHECK_EQ(kind, TP_FRAME_CHANDATA);
	/* an empty ChannelData is a whole frame of 4 bytes */
	CHECK_EQ(tp_framer_next(&f, stream + lens[0] + lens[1], 4, &flen, &kind), TP_P_OK);
	CHECK_EQ(flen, 4);
	CHECK_EQ(f.err, TP_P_OK);

	/* a frame over the cap: sticky, even for good bytes afterwards */
	tp_framer_init(&f, 24, TP_CHAN_MAX);
	CHECK_EQ(tp_framer_next(&f, stream, n, &flen, &kind), TP_P_FRAME_TOO_LONG);
	CHECK_EQ(tp_framer_next(&f, stream + lens[0], 12, &flen, &kind), TP_P_FRAME_TOO_LONG);
	CHECK_EQ(f.err, TP_P_FRAME_TOO_LONG);
	/* the same, discovered once the header is in */
	tp_framer_init(&f, 24, TP_CHAN_MAX);
	CHECK_EQ(tp_framer_next(&f, stream, 2, &flen, &kind), TP_P_NEED_MORE);
	CHECK_EQ(tp_framer_next(&f, stream, 4, &flen, &kind), TP_P_FRAME_TOO_LONG);
	/* a huge declared length */
	tp_framer_init(&f, 1500, TP_CHAN_MAX);
	CHECK_EQ(tp_framer_next(&f, (const uint8_t *)"\x40\x00\xff\xff", 4, &flen, &kind),
	         TP_P_FRAME_TOO_LONG);
	tp_framer_init(&f, 0xFFFF + 4 + 1, TP_CHAN_MAX);
	CHECK_EQ(tp_framer_next(&f, (const uint8_t *)"\x40\x00\xff\xff", 4, &flen, &kind),
	         TP_P_NEED_MORE);
	CHECK_EQ(flen, 4 + 0x10000);

	/* a bad first byte after good frames: those are delivered, then the error */
	memset(&s, 0, sizeof(s));
	memcpy(stream + n, "\x16\x03\x01\x00", 4);
	tp_framer_init(&f, 64, TP_CHAN_MAX);
	CHECK_EQ(read_in_chunks(&f, stream, n + 4, 7, 64, &s, &held), TP_P_NOT_STUN);
	check_stream(&s, stream, lens);
	CHECK_EQ(f.err, TP_P_NOT_STUN);
	CHECK_EQ(tp_framer_next(&f, stream, lens[0], &flen, &kind), TP_P_NOT_STUN);
	/* a bad first byte on its own is seen at once */
	tp_framer_init(&f, 64, TP_CHAN_MAX);
	CHECK_EQ(tp_framer_next(&f, (const uint8_t *)"\x80", 1, &flen, &kind), TP_P_NOT_STUN);
	/* a STUN length not a multiple of 4, the header arriving in two parts */
	tp_framer_init(&f, 64, TP_CHAN_MAX);
	CHECK_EQ(tp_framer_next(&f, (const uint8_t *)"\x00\x01", 2, &flen, &kind), TP_P_NEED_MORE);
	CHECK_EQ(tp_framer_next(&f, (const uint8_t *)"\x00\x01\x00\x05", 4, &flen, &kind),
	         TP_P_BAD_LENGTH);
	/* nothing yet */
	tp_framer_init(&f, 64, TP_CHAN_MAX);
	CHECK_EQ(tp_framer_next(&f, stream, 0, &flen, &kind), TP_P_NEED_MORE);
	CHECK_EQ(flen, 4);
	CHECK_EQ(f.err, TP_P_OK);

	/* channels 0x5000-0x7FFF only with the RFC 5766 maximum */
	tp_framer_init(&f, 64, TP_CHAN_MAX);
	CHECK_EQ(tp_framer_next(&f, (const uint8_t *)"\x6a\x00\x00\x00", 4, &flen, &kind),
	         TP_P_NOT_STUN);
	tp_framer_init(&f, 64, TP_CHAN_MAX_RFC5766);
	CHECK_EQ(tp_framer_next(&f, (const uint8_t *)"\x6a\x00\x00\x00", 4, &flen, &kind),
	         TP_P_OK);
	CHECK_EQ(kind, TP_FRAME_CHANDATA);
	CHECK_EQ(tp_framer_next(&f, (const uint8_t *)"\x80\x00\x00\x00", 4, &flen, &kind),
	         TP_P_NOT_STUN);
}

/* Frames handed out by the framer decode. */
static void test_decode_frames(void)
{
	uint8_t stream[128];
	size_t lens[4], n = make_stream(stream, sizeof(stream), lens), held;
	struct tp_framer f;
	struct seen s = { 0 };
	int ok = 0;

	tp_framer_init(&f, 64, TP_CHAN_MAX);
	CHECK_EQ(read_in_chunks(&f, stream, n, 1, 64, &s, &held), TP_P_NEED_MORE);
	for (int i = 0; i < s.n && i < 16; i++) {
		struct tp_stun_msg m;
		uint16_t chan;
		const uint8_t *data;
		size_t dlen;

		if (s.kind[i] == TP_FRAME_STUN)
			ok += tp_stun_decode(&m, s.data[i], s.len[i], NULL) == TP_P_OK;
		else
			ok += tp_chan_decode(s.data[i], s.len[i], &chan, &data, &dlen) == TP_P_OK;
	}
	CHECK_EQ(ok, 4);
}

int main(void)
{
	test_chandata();
	test_peek();
	test_framer();
	test_decode_frames();
	TP_TEST_END();
}
