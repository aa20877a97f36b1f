/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_demux.c - RFC 7983 first-byte demultiplexing (proto/demux.c): every
 * byte value on datagrams and streams, both channel ranges, against the
 * RFC's table written out here as ranges; and the framer's agreement with it.
 */
#include "proto.h"
#include "tp_test.h"

struct range {
	unsigned lo, hi;
	enum tp_demux d;
};

/* RFC 7983 §7, with TURN channels as RFC 8656 has them */
static const struct range datagram[] = {
	{ 0, 3, TP_DEMUX_STUN },      { 16, 19, TP_DEMUX_ZRTP },
	{ 20, 63, TP_DEMUX_DTLS },    { 64, 79, TP_DEMUX_CHANDATA },
	{ 128, 191, TP_DEMUX_RTP },
};
static const struct range datagram_5766[] = {
	{ 0, 3, TP_DEMUX_STUN },      { 16, 19, TP_DEMUX_ZRTP },
	{ 20, 63, TP_DEMUX_DTLS },    { 64, 127, TP_DEMUX_CHANDATA },
	{ 128, 191, TP_DEMUX_RTP },
};
/* a TURN stream: STUN, ChannelData, and a TLS handshake to open a connection */
static const struct range stream[] = {
	{ 0, 3, TP_DEMUX_STUN }, { 22, 22, TP_DEMUX_TLS }, { 64, 79, TP_DEMUX_CHANDATA },
};
static const struct range stream_5766[] = {
	{ 0, 3, TP_DEMUX_STUN }, { 22, 22, TP_DEMUX_TLS }, { 64, 127, TP_DEMUX_CHANDATA },
};

static enum tp_demux expect(const struct range *r, size_t n, unsigned b)
{
	for (size_t i = 0; i < n; i++)
		if (b >= r[i].lo && b <= r[i].hi)
			return r[i].d;
	return TP_DEMUX_OTHER;
}

#define N(a) (sizeof(a) / sizeof(a[0]))

static void test_table(void)
{
	for (unsigned b = 0; b < 256; b++) {
		CHECK_EQ(tp_demux((uint8_t)b, false, TP_CHAN_MAX),
		         expect(datagram, N(datagram), b));
		CHECK_EQ(tp_demux((uint8_t)b, false, TP_CHAN_MAX_RFC5766),
		         expect(datagram_5766, N(datagram_5766), b));
		CHECK_EQ(tp_demux((uint8_t)b, true, TP_CHAN_MAX), expect(stream, N(stream), b));
		CHECK_EQ(tp_demux((uint8_t)b, true, TP_CHAN_MAX_RFC5766),
		         expect(stream_5766, N(stream_5766), b));
		/* a maximum above 0x7FFF never takes RTP's bytes; none below 0x4000
		 * means no ChannelData */
		CHECK_EQ(tp_demux((uint8_t)b, false, 0xFFFF),
		         expect(datagram_5766, N(datagram_5766), b));
		CHECK(tp_demux((uint8_t)b, false, 0x3FFF) != TP_DEMUX_CHANDATA);
	}
	/* the edges by name */
	CHECK_EQ(tp_demux(0x00, false, TP_CHAN_MAX), TP_DEMUX_STUN);
	CHECK_EQ(tp_demux(0x04, false, TP_CHAN_MAX), TP_DEMUX_OTHER);
	CHECK_EQ(tp_demux(0x16, false, TP_CHAN_MAX), TP_DEMUX_DTLS);
	CHECK_EQ(tp_demux(0x16, true, TP_CHAN_MAX), TP_DEMUX_TLS);
	CHECK_EQ(tp_demux(0x17, true, TP_CHAN_MAX), TP_DEMUX_OTHER);  /* no ApplicationData first */
	CHECK_EQ(tp_demux(0x4F, false, TP_CHAN_MAX), TP_DEMUX_CHANDATA);
	CHECK_EQ(tp_demux(0x50, false, TP_CHAN_MAX), TP_DEMUX_OTHER);
	CHECK_EQ(tp_demux(0x7F, false, TP_CHAN_MAX_RFC5766), TP_DEMUX_CHANDATA);
	CHECK_EQ(tp_demux(0x80, false, TP_CHAN_MAX_RFC5766), TP_DEMUX_RTP);
	CHECK_EQ(tp_demux(0x80, true, TP_CHAN_MAX_RFC5766), TP_DEMUX_OTHER);
	CHECK_EQ(tp_demux(0xBF, false, TP_CHAN_MAX), TP_DEMUX_RTP);
	CHECK_EQ(tp_demux(0xC0, false, TP_CHAN_MAX), TP_DEMUX_OTHER);
	CHECK_EQ(tp_demux(0xFF, false, TP_CHAN_MAX), TP_DEMUX_OTHER);
}

/* The stream framer takes what the demultiplexer calls STUN or ChannelData,
 * and nothing else. */
static void test_framer_agrees(void)
{
	static const uint16_t maxes[2] = { TP_CHAN_MAX, TP_CHAN_MAX_RFC5766 };

	for (int i = 0; i < 2; i++) {
		for (unsigned b = 0; b < 256; b++) {
			uint8_t h[4] = { (uint8_t)b, 0, 0, 4 };
			enum tp_frame_kind kind;
			size_t flen;
			enum tp_perr e = tp_frame_peek_max(h, 4, 64, maxes[i], &flen, &kind);
			enum tp_demux d = tp_demux((uint8_t)b, true, maxes[i]);

			if (d == TP_DEMUX_STUN)
				CHECK(e == TP_P_OK && kind == TP_FRAME_STUN);
			else if (d == TP_DEMUX_CHANDATA)
				CHECK(e == TP_P_OK && kind == TP_FRAME_CHANDATA);
			else
				CHECK_EQ(e, TP_P_NOT_STUN);
		}
	}
}

static void test_names(void)
{
	static const char *const want[] = { "other", "stun", "zrtp", "dtls", "tls", "chandata",
		                            "rtp" };

	for (int d = TP_DEMUX_OTHER; d <= TP_DEMUX_RTP; d++)
		CHECK(strcmp(tp_demux_name((enum tp_demux)d), want[d]) == 0);
	CHECK(strcmp(tp_demux_name((enum tp_demux)42), "?") == 0);
}

int main(void)
{
	test_table();
	test_framer_agrees();
	test_names();
	TP_TEST_END();
}
