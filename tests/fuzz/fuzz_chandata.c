/*
 * fuzz_chandata.c - libFuzzer target for ChannelData and the stream framer.
 *
 * Input layout: byte 0 and 1 choose how the stream is split (see below); the
 * rest is the datagram / stream under test.
 *  1. tp_chan_decode on the datagram; if it decodes, tp_chan_encode (with and
 *     without padding) must give back a message that decodes to the same
 *     channel and bytes, and the RFC 5766 range must accept whatever the RFC 8656
 *     range does.
 *  2. The same bytes as a TURN-over-TCP stream: fed to tp_framer whole, and fed
 *     again in pieces whose sizes the fuzzer chooses; both must deliver the same
 *     frames in the same order and end in the same state. Every frame must be
 *     what tp_frame_peek says it is.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

#define FAIL(...)                                                      \
	do {                                                           \
		fprintf(stderr, "fuzz_chandata: " __VA_ARGS__);        \
		fputc('\n', stderr);                                   \
		abort();                                               \
	} while (0)
#define ASSERT(c)                                                      \
	do {                                                           \
		if (!(c))                                              \
			FAIL("%s:%d: %s", __FILE__, __LINE__, #c);     \
	} while (0)

#define FRAMER_CAP 1500      /* small enough that long frames are refused */
#define MAX_FRAMES 4096

struct frames {
	size_t n;
	size_t bytes;
	enum tp_frame_kind kind[MAX_FRAMES];
	size_t len[MAX_FRAMES];
	uint8_t data[1 << 17];
};

static struct frames whole, pieces;

static int on_frame(void *ctx, enum tp_frame_kind kind, const uint8_t *frame, size_t len)
{
	struct frames *f = ctx;
	enum tp_frame_kind k2;
	size_t flen;

	ASSERT(len <= FRAMER_CAP);
	ASSERT(tp_frame_peek(frame, len, FRAMER_CAP, &flen, &k2) == TP_P_OK);
	ASSERT(flen == len && k2 == kind);
	if (kind == TP_FRAME_STUN) {
		struct tp_stun_msg m;

		ASSERT(len >= TP_STUN_HDR_LEN);
		(void)tp_stun_decode(&m, frame, len, NULL);
	} else {
		uint16_t chan;
		const uint8_t *data;
		size_t dlen;

		ASSERT(kind == TP_FRAME_CHANDATA);
		ASSERT(tp_chan_decode(frame, len, &chan, &data, &dlen) == TP_P_OK);
		ASSERT(TP_CHAN_HDR_LEN + dlen <= len && len - (TP_CHAN_HDR_LEN + dlen) < 4);
	}
	ASSERT(f->n < MAX_FRAMES && sizeof(f->data) - f->bytes >= len);
	f->kind[f->n] = kind;
	f->len[f->n] = len;
	f->n++;
	memcpy(f->data + f->bytes, frame, len);
	f->bytes += len;
	return 0;
}

static void check_chan(const uint8_t *b, size_t n)
{
	static uint8_t buf[TP_CHAN_HDR_LEN + 0x10000 + 3];
	const uint8_t *data, *data2;
	size_t len, len2;
	uint16_t chan, chan2;
	enum tp_perr e;

	e = tp_chan_decode(b, n, &chan, &data, &len);
	ASSERT(tp_perr_str(e) != NULL);
	if (e != TP_P_OK) {
		/* the wider range may still take it, but never crashes */
		(void)tp_chan_decode_max(b, n, TP_CHAN_MAX_RFC5766, &chan, &data, &len);
		return;
	}
	ASSERT(tp_chan_valid(chan));
	ASSERT(data == b + TP_CHAN_HDR_LEN && TP_CHAN_HDR_LEN + len <= n);
	e = tp_chan_decode_max(b, n, TP_CHAN_MAX_RFC5766, &chan2, &data2, &len2);
	ASSERT(e == TP_P_OK && chan2 == chan && data2 == data && len2 == len);

	for (int pad = 0; pad <= 1; pad++) {
		long out = tp_chan_encode(buf, sizeof(buf), chan, data, len, pad);

		ASSERT(out == (long)(TP_CHAN_HDR_LEN + (pad ? (len + 3) / 4 * 4 : len)));
		e = tp_chan_decode(buf, (size_t)out, &chan2, &data2, &len2);
		ASSERT(e == TP_P_OK);
		ASSERT(chan2 == chan && len2 == len && memcmp(data2, data, len) == 0);
		/* too small a buffer is refused, not overrun */
		ASSERT(tp_chan_encode(buf, (size_t)out - 1, chan, data, len, pad) == -ENOBUFS);
	}
}

static enum tp_perr feed_all(struct frames *f, const uint8_t *b, size_t n,
                             uint8_t s0, uint8_t s1)
{
	static uint8_t fbuf[FRAMER_CAP];
	struct tp_framer fr;
	enum tp_perr e = TP_P_OK;
	size_t off = 0;
	unsigned step = 0;

	f->n = 0;
	f->bytes = 0;
	tp_framer_init(&fr, fbuf, sizeof(fbuf));
	if (s0 == 0 && s1 == 0)
		return tp_framer_feed(&fr, b, n, on_frame, f);
	while (off < n) {
		/* piece sizes cycle through 1..s0+1 and 1..s1+1, so both tiny and
		 * header-straddling cuts occur */
		size_t want = 1 + (step & 1 ? s1 : s0) % (unsigned)(1 + (step % 7) * 37);
		size_t take = n - off < want ? n - off : want;

		e = tp_framer_feed(&fr, b + off, take, on_frame, f);
		off += take;
		step++;
		if (e != TP_P_OK)
			break;
	}
	/* a broken stream stays broken */
	if (e != TP_P_OK)
		ASSERT(tp_framer_feed(&fr, b, n, on_frame, f) == e);
	return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum tp_perr e1, e2;
	uint8_t s0, s1;

	if (size < 2)
		return 0;
	s0 = data[0];
	s1 = data[1];
	data += 2;
	size -= 2;

	check_chan(data, size);

	e1 = feed_all(&whole, data, size, 0, 0);
	e2 = feed_all(&pieces, data, size, s0 | 1, s1);
	if (e1 != e2)
		FAIL("whole feed ended in %s, piecewise in %s", tp_perr_str(e1), tp_perr_str(e2));
	ASSERT(whole.n == pieces.n);
	for (size_t i = 0; i < whole.n; i++)
		ASSERT(whole.kind[i] == pieces.kind[i] && whole.len[i] == pieces.len[i]);
	ASSERT(whole.bytes == pieces.bytes);
	ASSERT(memcmp(whole.data, pieces.data, whole.bytes) == 0);
	return 0;
}
