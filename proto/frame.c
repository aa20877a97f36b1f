/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * frame.c - cutting a byte stream (TURN over TCP/TLS, RFC 8656 §12.5) into
 * STUN messages and ChannelData frames, demultiplexed by their first byte as
 * in RFC 7983 (tp_demux): 0..3 STUN, 64..79 ChannelData, anything else is an
 * error.
 * On a stream ChannelData is padded to 4, so its frame is 4 + pad4(length).
 * tp_frame_peek* read one header; tp_framer_next is the pull framer on top:
 * it says when a whole frame is in the caller's buffer and makes a framing
 * error sticky. It holds no bytes, so the stream is never copied here.
 */
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
	switch (tp_demux(b[0], true, chan_max)) {
	case TP_DEMUX_STUN:
		*kind = TP_FRAME_STUN;
		break;
	case TP_DEMUX_CHANDATA:
		*kind = TP_FRAME_CHANDATA;
		break;
	default:
		return TP_P_NOT_STUN;  /* a TLS record inside a TURN stream too */
	}
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

void tp_framer_init(struct tp_framer *f, size_t max, uint16_t chan_max)
{
	f->max = max;
	f->chan_max = chan_max;
	f->err = TP_P_OK;
}

enum tp_perr tp_framer_next(struct tp_framer *f, const uint8_t *b, size_t n, size_t *frame_len,
                            enum tp_frame_kind *kind)
{
	enum tp_frame_kind k;
	size_t flen = 0;
	enum tp_perr e;

	if (f->err != TP_P_OK)
		return f->err;
	e = tp_frame_peek_max(b, n, f->max, f->chan_max, &flen, &k);
	if (e == TP_P_NEED_MORE) {
		*frame_len = TP_CHAN_HDR_LEN;  /* the header: 4 bytes for both kinds */
		return e;
	}
	if (e != TP_P_OK) {
		f->err = e;
		return e;
	}
	*frame_len = flen;
	if (n < flen)
		return TP_P_NEED_MORE;
	*kind = k;
	return TP_P_OK;
}
