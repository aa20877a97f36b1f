/*
 * frame.c - cutting a byte stream (TURN over TCP/TLS, RFC 8656 §12.5) into
 * STUN messages and ChannelData frames, demultiplexed by their first byte as
 * in RFC 7983: 0..3 STUN, 64..79 ChannelData, anything else is an error.
 * On a stream ChannelData is padded to 4, so its frame is 4 + pad4(length).
 */
#include <string.h>

#include "proto.h"
#include "rd.h"

enum tp_perr tp_frame_peek(const uint8_t *b, size_t n, size_t max, size_t *frame_len,
                           enum tp_frame_kind *kind)
{
	return tp_frame_peek_max(b, n, max, TP_CHAN_MAX, frame_len, kind);
}

enum tp_perr tp_frame_peek_max(const uint8_t *b, size_t n, size_t max, uint16_t chan_max,
                               size_t *frame_len, enum tp_frame_kind *kind)
{
	size_t len, flen;

	if (n == 0)
		return TP_P_NEED_MORE;
	if (b[0] <= 3)
		*kind = TP_FRAME_STUN;
	else if (b[0] >= 64 && b[0] <= (chan_max >> 8))
		*kind = TP_FRAME_CHANDATA;
	else
		return TP_P_NOT_STUN;
	if (n < 4)
		return TP_P_NEED_MORE;
	len = rd_u16(b + 2);
	if (*kind == TP_FRAME_STUN) {
		if (len & 3)
			return TP_P_BAD_LENGTH;
		flen = TP_STUN_HDR_LEN + len;
	} else {
		flen = TP_CHAN_HDR_LEN + pad4(len);
	}
	if (flen > max)
		return TP_P_FRAME_TOO_LONG;
	*frame_len = flen;
	return TP_P_OK;
}

void tp_framer_init(struct tp_framer *f, uint8_t *buf, size_t cap)
{
	f->buf = buf;
	f->cap = cap;
	f->len = 0;
	f->err = TP_P_OK;
}

/*
 * Completes the frame held in f->buf from the input; returns the bytes taken.
 * *done is set when a whole frame is held (its length in *flen).
 */
static size_t fill(struct tp_framer *f, const uint8_t *b, size_t n, size_t *flen,
                   enum tp_frame_kind *kind, bool *done)
{
	size_t take = 0, want;
	enum tp_perr e;

	*done = false;
	if (f->len < 4) {
		want = 4 - f->len;
		take = n < want ? n : want;
		memcpy(f->buf + f->len, b, take);
		f->len += take;
	}
	e = tp_frame_peek(f->buf, f->len, f->cap, flen, kind);
	if (e == TP_P_NEED_MORE)
		return take;
	if (e != TP_P_OK) {
		f->err = e;
		return take;
	}
	want = *flen - f->len;
	if (n - take < want) {
		memcpy(f->buf + f->len, b + take, n - take);
		f->len += n - take;
		return n;
	}
	memcpy(f->buf + f->len, b + take, want);
	f->len += want;
	*done = true;
	return take + want;
}

enum tp_perr tp_framer_feed(struct tp_framer *f, const uint8_t *b, size_t n,
                            tp_frame_fn fn, void *ctx)
{
	const uint8_t *p = b, *end = b + n;
	enum tp_frame_kind kind;
	size_t flen;
	enum tp_perr e;

	if (f->err != TP_P_OK)
		return f->err;
	if (f->cap < TP_STUN_HDR_LEN) {
		f->err = TP_P_FRAME_TOO_LONG;
		return f->err;
	}
	/* first finish a frame begun by an earlier read */
	if (f->len > 0) {
		bool done;

		p += fill(f, p, n, &flen, &kind, &done);
		if (f->err != TP_P_OK)
			return f->err;
		if (!done)
			return TP_P_OK;
		f->len = 0;
		if (fn(ctx, kind, f->buf, flen) != 0)
			return TP_P_OK;
	}
	/* then whole frames straight from the input, without copying */
	while (p != end) {
		e = tp_frame_peek(p, (size_t)(end - p), f->cap, &flen, &kind);
		if (e == TP_P_NEED_MORE || (e == TP_P_OK && (size_t)(end - p) < flen)) {
			/* keep the partial frame; it fits since flen <= cap */
			memcpy(f->buf, p, (size_t)(end - p));
			f->len = (size_t)(end - p);
			return TP_P_OK;
		}
		if (e != TP_P_OK) {
			f->err = e;
			return e;
		}
		if (fn(ctx, kind, p, flen) != 0)
			return TP_P_OK;
		p += flen;
	}
	return TP_P_OK;
}
