/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * chandata.c - ChannelData messages (RFC 8656 §12.4, §12.5).
 */
#include <errno.h>
#include <string.h>

#include "proto.h"
#include "rd.h"

enum tp_perr tp_chan_decode(const uint8_t *b, size_t n, uint16_t *chan,
                            const uint8_t **data, size_t *len)
{
	return tp_chan_decode_max(b, n, TP_CHAN_MAX, chan, data, len);
}

enum tp_perr tp_chan_decode_max(const uint8_t *b, size_t n, uint16_t max, uint16_t *chan,
                                const uint8_t **data, size_t *len)
{
	uint16_t c;
	size_t l;

	if (n < TP_CHAN_HDR_LEN)
		return TP_P_CHAN_TRUNCATED;
	c = rd_u16(b);
	if (c < TP_CHAN_MIN || c > max)
		return TP_P_CHAN_RANGE;
	l = rd_u16(b + 2);
	if (n - TP_CHAN_HDR_LEN < l)
		return TP_P_CHAN_TRUNCATED;
	*chan = c;
	*data = b + TP_CHAN_HDR_LEN;
	*len = l;
	return TP_P_OK;
}

void tp_chan_put_header(uint8_t hdr[TP_CHAN_HDR_LEN], uint16_t chan, uint16_t len)
{
	wr_u16(hdr, chan);
	wr_u16(hdr + 2, len);
}

/* data may already sit at buf + 4 (or overlap it): it is moved, not copied. */
long tp_chan_encode(uint8_t *buf, size_t cap, uint16_t chan, const uint8_t *data,
                    size_t len, bool pad)
{
	size_t total;

	if (!tp_chan_valid(chan) || len > 0xFFFF)
		return -EINVAL;
	total = TP_CHAN_HDR_LEN + (pad ? pad4(len) : len);
	if (cap < total)
		return -ENOBUFS;
	if (len && data != buf + TP_CHAN_HDR_LEN)
		memmove(buf + TP_CHAN_HDR_LEN, data, len);
	tp_chan_put_header(buf, chan, (uint16_t)len);
	memset(buf + TP_CHAN_HDR_LEN + len, 0, total - TP_CHAN_HDR_LEN - len);
	return (long)total;
}
