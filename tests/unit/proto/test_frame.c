/*
 * test_frame.c - ChannelData encode/decode and the stream framer: byte-by-byte
 * feeding, several frames in one read, mixed STUN and ChannelData, frames
 * over the cap, bad first bytes, sticky errors, stopping from the callback.
 */
#include <errno.h>

#include "proto.h"
#include "tp_test.h"

struct seen {
	int n;
	enum tp_frame_kind kind[16];
	size_t len[16];
	uint8_t data[16][128];
	int stop_after;   /* return non-zero after this many frames (0: never) */
};

static int on_frame(void *ctx, enum tp_frame_kind kind, const uint8_t *frame, size_t len)
{
	struct seen *s = ctx;

	if (s->n < 16) {
		s->kind[s->n] = kind;
		s->len[s->n] = len;
		memcpy(s->data[s->n], frame, len < 128 ? len : 128);
	}
	s->n++;
	return s->stop_after && s->n >= s->stop_after;
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

static void feed_in_chunks(size_t chunk)
{
	uint8_t stream[128], fbuf[64];
	size_t lens[4], n = make_stream(stream, sizeof(stream), lens);
	struct tp_framer f;
	struct seen s = { 0 };

	tp_framer_init(&f, fbuf, sizeof(fbuf));
	for (size_t off = 0; off < n; off += chunk) {
		size_t k = n - off < chunk ? n - off : chunk;

		CHECK_EQ(tp_framer_feed(&f, stream + off, k, on_frame, &s), TP_P_OK);
	}
	check_stream(&s, stream, lens);
	CHECK_EQ(f.len, 0);
}

static void test_framer(void)
{
	uint8_t stream[256], fbuf[64];
	size_t lens[4], n = make_stream(stream, sizeof(stream), lens);
	struct tp_framer f;
	struct seen s = { 0 };

	/* every chunk size, from byte by byte to all at once */
	for (size_t chunk = 1; chunk <= n; chunk++)
		feed_in_chunks(chunk);

	/* a split right after a frame leaves nothing held */
	tp_framer_init(&f, fbuf, sizeof(fbuf));
	CHECK_EQ(tp_framer_feed(&f, stream, lens[0], on_frame, &s), TP_P_OK);
	CHECK_EQ(s.n, 1);
	CHECK_EQ(f.len, 0);
	CHECK_EQ(tp_framer_feed(&f, stream + lens[0], n - lens[0] - 3, on_frame, &s), TP_P_OK);
	CHECK_EQ(s.n, 3);
	CHECK_EQ(f.len, lens[3] - 3);
	CHECK_EQ(tp_framer_feed(&f, stream + n - 3, 3, on_frame, &s), TP_P_OK);
	check_stream(&s, stream, lens);

	/* the callback stops the feed: the rest of that read is dropped */
	memset(&s, 0, sizeof(s));
	s.stop_after = 2;
	tp_framer_init(&f, fbuf, sizeof(fbuf));
	CHECK_EQ(tp_framer_feed(&f, stream, n, on_frame, &s), TP_P_OK);
	CHECK_EQ(s.n, 2);
	CHECK_EQ(f.len, 0);

	/* a frame over the cap (the framer's buffer): sticky error */
	memset(&s, 0, sizeof(s));
	tp_framer_init(&f, fbuf, 24);
	CHECK_EQ(tp_framer_feed(&f, stream, n, on_frame, &s), TP_P_FRAME_TOO_LONG);
	CHECK_EQ(s.n, 0);
	CHECK_EQ(tp_framer_feed(&f, stream + lens[0], 12, on_frame, &s), TP_P_FRAME_TOO_LONG);
	CHECK_EQ(s.n, 0);

	/* the same, discovered on a partial frame */
	tp_framer_init(&f, fbuf, 24);
	CHECK_EQ(tp_framer_feed(&f, stream, 2, on_frame, &s), TP_P_OK);
	CHECK_EQ(tp_framer_feed(&f, stream + 2, 2, on_frame, &s), TP_P_FRAME_TOO_LONG);

	/* a huge declared length on a big buffer */
	{
		static const uint8_t huge[4] = { 0x40, 0x00, 0xff, 0xff };

		tp_framer_init(&f, fbuf, sizeof(fbuf));
		CHECK_EQ(tp_framer_feed(&f, huge, 4, on_frame, &s), TP_P_FRAME_TOO_LONG);
	}

	/* a bad first byte after good frames: the good ones are delivered */
	memset(&s, 0, sizeof(s));
	memcpy(stream + n, "\x16\x03\x01\x00", 4);
	tp_framer_init(&f, fbuf, sizeof(fbuf));
	CHECK_EQ(tp_framer_feed(&f, stream, n + 4, on_frame, &s), TP_P_NOT_STUN);
	check_stream(&s, stream, lens);
	CHECK_EQ(f.err, TP_P_NOT_STUN);
	CHECK_EQ(tp_framer_feed(&f, stream, lens[0], on_frame, &s), TP_P_NOT_STUN);
	CHECK_EQ(s.n, 4);

	/* a bad first byte on its own, one byte at a time */
	memset(&s, 0, sizeof(s));
	tp_framer_init(&f, fbuf, sizeof(fbuf));
	CHECK_EQ(tp_framer_feed(&f, (const uint8_t *)"\x80", 1, on_frame, &s), TP_P_NOT_STUN);
	CHECK_EQ(s.n, 0);

	/* a STUN length that is not a multiple of 4, fed in two parts */
	tp_framer_init(&f, fbuf, sizeof(fbuf));
	CHECK_EQ(tp_framer_feed(&f, (const uint8_t *)"\x00\x01", 2, on_frame, &s), TP_P_OK);
	CHECK_EQ(tp_framer_feed(&f, (const uint8_t *)"\x00\x05", 2, on_frame, &s), TP_P_BAD_LENGTH);

	/* an empty feed does nothing */
	tp_framer_init(&f, fbuf, sizeof(fbuf));
	CHECK_EQ(tp_framer_feed(&f, stream, 0, on_frame, &s), TP_P_OK);
	CHECK_EQ(f.len, 0);
}

/* Frames handed out by the framer decode. */
static int decode_frame(void *ctx, enum tp_frame_kind kind, const uint8_t *frame, size_t len)
{
	int *ok = ctx;
	struct tp_stun_msg m;
	uint16_t chan;
	const uint8_t *data;
	size_t dlen;

	if (kind == TP_FRAME_STUN)
		*ok += tp_stun_decode(&m, frame, len, NULL) == TP_P_OK;
	else
		*ok += tp_chan_decode(frame, len, &chan, &data, &dlen) == TP_P_OK;
	return 0;
}

static void test_decode_frames(void)
{
	uint8_t stream[128], fbuf[64];
	size_t lens[4], n = make_stream(stream, sizeof(stream), lens);
	struct tp_framer f;
	int ok = 0;

	tp_framer_init(&f, fbuf, sizeof(fbuf));
	for (size_t i = 0; i < n; i++)
		tp_framer_feed(&f, stream + i, 1, decode_frame, &ok);
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
