/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_chandata.c - libFuzzer target for ChannelData and the stream framer.
 *
 * Input layout: byte 0 and 1 choose how the stream is split (see below); the
 * rest is the datagram / stream under test.
 *  1. tp_chan_decode on the datagram; if it decodes, tp_chan_encode (with and
 *     without padding) must give back a message that decodes to the same
 *     channel and bytes, and the RFC 5766 range must accept whatever the RFC 8656
 *     range does.
 *  2. The same bytes as a TURN-over-TCP stream, cut by the pull framer: once
 *     straight from the input (all bytes there), and once as a connection
 *     reads it, in pieces whose sizes the fuzzer chooses, into a buffer of
 *     the framer's max from which whole frames are consumed. Both must give
 *     the same frames in the same order and end in the same state (the same
 *     error, or NEED_MORE with the same bytes held and the same request); a
 *     NEED_MORE never asks for more than the buffer holds; an error is sticky.
 *     Every frame must be what tp_frame_peek and tp_demux say it is.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_assert.h"
#include "proto.h"


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

/* How a cut ended. */
struct end {
	enum tp_perr e;
	size_t held;         /* bytes after the last frame */
	size_t need;         /* NEED_MORE: what the framer asked for */
};

static void on_frame(struct frames *f, enum tp_frame_kind kind, const uint8_t *frame,
                     size_t len)
{
	enum tp_frame_kind k2;
	size_t flen;

	ASSERT(len <= FRAMER_CAP);
	ASSERT(tp_frame_peek(frame, len, FRAMER_CAP, &flen, &k2) == TP_P_OK);
	ASSERT(flen == len && k2 == kind);
	ASSERT(tp_demux(frame[0], true, TP_CHAN_MAX) ==
	       (kind == TP_FRAME_STUN ? TP_DEMUX_STUN : TP_DEMUX_CHANDATA));
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

/* All bytes there: frames are taken straight from the input. */
static struct end cut_whole(struct frames *f, const uint8_t *b, size_t n)
{
	struct tp_framer fr;
	struct end r;
	enum tp_frame_kind kind;
	size_t off = 0, flen = 0;

	f->n = 0;
	f->bytes = 0;
	tp_framer_init(&fr, FRAMER_CAP, TP_CHAN_MAX);
	while ((r.e = tp_framer_next(&fr, b + off, n - off, &flen, &kind)) == TP_P_OK) {
		on_frame(f, kind, b + off, flen);
		off += flen;
	}
	r.held = n - off;
	r.need = r.e == TP_P_NEED_MORE ? flen : 0;
	if (r.e != TP_P_NEED_MORE)  /* a broken stream stays broken */
		ASSERT(tp_framer_next(&fr, b, n, &flen, &kind) == r.e);
	return r;
}

/* As a connection reads: pieces into a buffer of FRAMER_CAP bytes. */
static struct end cut_pieces(struct frames *f, const uint8_t *b, size_t n, uint8_t s0,
                             uint8_t s1)
{
	static uint8_t rx[FRAMER_CAP];
	struct tp_framer fr;
	struct end r = { .e = TP_P_NEED_MORE, .need = TP_CHAN_HDR_LEN };
	enum tp_frame_kind kind;
	size_t off = 0, have = 0, flen = 0;
	unsigned step = 0;

	f->n = 0;
	f->bytes = 0;
	tp_framer_init(&fr, FRAMER_CAP, TP_CHAN_MAX);
	while (off < n && r.e == TP_P_NEED_MORE) {
		/* piece sizes cycle through 1..s0+1 and 1..s1+1, so both tiny and
		 * header-straddling cuts occur */
		size_t want = 1 + (step & 1 ? s1 : s0) % (unsigned)(1 + (step % 7) * 37);
		size_t take = n - off < want ? n - off : want;

		if (take > sizeof(rx) - have)
			take = sizeof(rx) - have;
		ASSERT(take > 0);  /* the framer's max always suffices as a buffer */
		memcpy(rx + have, b + off, take);
		have += take;
		off += take;
		step++;
		while ((r.e = tp_framer_next(&fr, rx, have, &flen, &kind)) == TP_P_OK) {
			on_frame(f, kind, rx, flen);
			memmove(rx, rx + flen, have - flen);
			have -= flen;
		}
		if (r.e == TP_P_NEED_MORE)
			ASSERT(flen > have && flen <= FRAMER_CAP);
	}
	r.held = have + (n - off);  /* bytes not framed: held, or not read yet */
	r.need = r.e == TP_P_NEED_MORE ? (n ? flen : TP_CHAN_HDR_LEN) : 0;
	if (r.e != TP_P_NEED_MORE)
		ASSERT(tp_framer_next(&fr, b, n, &flen, &kind) == r.e);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct end e1, e2;
	uint8_t s0, s1;

	if (size < 2)
		return 0;
	s0 = data[0];
	s1 = data[1];
	data += 2;
	size -= 2;

	check_chan(data, size);

	e1 = cut_whole(&whole, data, size);
	e2 = cut_pieces(&pieces, data, size, s0 | 1, s1);
	if (e1.e != e2.e)
		FAIL("whole cut ended in %s, piecewise in %s", tp_perr_str(e1.e),
		     tp_perr_str(e2.e));
	ASSERT(e1.held == e2.held && e1.need == e2.need);
	ASSERT(whole.n == pieces.n);
	for (size_t i = 0; i < whole.n; i++)
		ASSERT(whole.kind[i] == pieces.kind[i] && whole.len[i] == pieces.len[i]);
	ASSERT(whole.bytes == pieces.bytes);
	ASSERT(memcmp(whole.data, pieces.data, whole.bytes) == 0);
	return 0;
}
