/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * demux.c - RFC 7983 §7 first-byte demultiplexing (updating RFC 5764 §5.1.2),
 * with TURN ChannelData as RFC 8656 §12 narrows it (64..79) or RFC 5766 had it
 * (64..127), and the one thing a TCP/TLS listener also meets on a stream: a
 * TLS ClientHello (a handshake record, 22).
 *
 *	  0..3    STUN            RFC 8489
 *	 16..19   ZRTP            RFC 6189
 *	 20..63   DTLS            RFC 6347 (datagrams)
 *	 64..79   TURN channel    RFC 8656 (..127 with the legacy range)
 *	128..191  RTP/RTCP        RFC 3550
 *	anything else: no one's.
 */
#include "proto.h"

enum tp_demux tp_demux(uint8_t first, bool stream, uint16_t chan_max)
{
	unsigned top = chan_max >> 8;

	if (top > 0x7F)
		top = 0x7F;  /* 128 and up are RTP's */
	if (first <= 3)
		return TP_DEMUX_STUN;
	if (first >= 64 && first <= top)
		return TP_DEMUX_CHANDATA;
	if (stream)
		return first == 22 ? TP_DEMUX_TLS : TP_DEMUX_OTHER;
	if (first >= 16 && first <= 19)
		return TP_DEMUX_ZRTP;
	if (first >= 20 && first <= 63)
		return TP_DEMUX_DTLS;
	if (first >= 128 && first <= 191)
		return TP_DEMUX_RTP;
	return TP_DEMUX_OTHER;
}

const char *tp_demux_name(enum tp_demux d)
{
	static const char *const names[] = {
		[TP_DEMUX_OTHER] = "other", [TP_DEMUX_STUN] = "stun",
		[TP_DEMUX_ZRTP] = "zrtp",   [TP_DEMUX_DTLS] = "dtls",
		[TP_DEMUX_TLS] = "tls",     [TP_DEMUX_CHANDATA] = "chandata",
		[TP_DEMUX_RTP] = "rtp",
	};

	return (unsigned)d < sizeof(names) / sizeof(names[0]) ? names[d] : "?";
}
