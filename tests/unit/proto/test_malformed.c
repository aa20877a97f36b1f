/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_malformed.c - a table of malformed inputs, each rejected with its own
 * specific enum tp_perr: STUN headers and attributes (tp_stun_decode),
 * integrity checks, ChannelData (tp_chan_decode) and stream frames
 * (tp_frame_peek). The -san variant runs the same table under ASan/UBSan;
 * every input sits at the very end of a heap block so that a read past it
 * is caught.
 */
#include <stdlib.h>

#include "proto.h"
#include "tp_test.h"

enum target { T_STUN, T_STUN_HDR, T_CHAN, T_PEEK };

struct mcase {
	const char *name;
	enum target target;
	uint16_t type;      /* T_STUN: message type; the header is built around body */
	const char *hex;    /* T_STUN: body; others: whole input */
	enum tp_perr want;
};

#define BREQ 0x0001
#define S(name, body, want) { name, T_STUN, BREQ, body, want }
#define ST(name, type, body, want) { name, T_STUN, type, body, want }
#define H(name, hex, want) { name, T_STUN_HDR, 0, hex, want }
#define C(name, hex, want) { name, T_CHAN, 0, hex, want }
#define P(name, hex, want) { name, T_PEEK, 0, hex, want }

static const struct mcase cases[] = {
	H("empty input", "", TP_P_SHORT_HEADER),
	H("19-byte header", "00 01 00 00 21 12 a4 42 00 00 00 00 00 00 00 00 00 00 00", TP_P_SHORT_HEADER),
	H("top bit set", "80 01 00 00 21 12 a4 42 00 00 00 00 00 00 00 00 00 00 00 00", TP_P_NOT_STUN),
	H("second bit set", "40 01 00 00 21 12 a4 42 00 00 00 00 00 00 00 00 00 00 00 00", TP_P_NOT_STUN),
	H("length not a multiple of 4", "00 01 00 02 21 12 a4 42 00 00 00 00 00 00 00 00 00 00 00 00 00 00", TP_P_BAD_LENGTH),
	H("length beyond the datagram", "00 01 00 08 21 12 a4 42 00 00 00 00 00 00 00 00 00 00 00 00 00 0d 00 00", TP_P_LENGTH_MISMATCH),
	H("length short of the datagram", "00 01 00 00 21 12 a4 42 00 00 00 00 00 00 00 00 00 00 00 00 00 0d 00 00", TP_P_LENGTH_MISMATCH),
	H("datagram cut inside the header's promise", "00 01 00 04 21 12 a4 42 00 00 00 00 00 00 00 00 00 00 00 00", TP_P_LENGTH_MISMATCH),
	S("attribute value overruns the message", "80 22 00 08 41 41 41 41", TP_P_ATTR_OVERRUN),
	S("attribute length 0xffff", "00 13 ff ff 41 41 41 41", TP_P_ATTR_OVERRUN),
	S("second attribute overruns", "00 25 00 00 00 13 00 05 41 41 41 41", TP_P_ATTR_OVERRUN),
	S("MAPPED-ADDRESS zero length", "00 01 00 00", TP_P_BAD_ATTR_LEN),
	S("MAPPED-ADDRESS 3 bytes", "00 01 00 03 00 01 00 00", TP_P_BAD_ATTR_LEN),
	S("XOR-MAPPED-ADDRESS family 3", "00 20 00 08 00 03 12 34 01 02 03 04", TP_P_BAD_FAMILY),
	S("XOR-PEER-ADDRESS family 0", "00 12 00 08 00 00 12 34 01 02 03 04", TP_P_BAD_FAMILY),
	S("XOR-MAPPED-ADDRESS v4 with 20 bytes", "00 20 00 14 00 01 12 34 01 02 03 04 00 00 00 00 00 00 00 00 00 00 00 00", TP_P_BAD_ATTR_LEN),
	S("XOR-RELAYED-ADDRESS v6 with 8 bytes", "00 16 00 08 00 02 12 34 01 02 03 04", TP_P_BAD_ATTR_LEN),
	S("ALTERNATE-SERVER family 2 len 12", "80 23 00 0c 00 02 12 34 01 02 03 04 05 06 07 08", TP_P_BAD_ATTR_LEN),
	S("OTHER-ADDRESS family 4", "80 2c 00 08 00 04 12 34 01 02 03 04", TP_P_BAD_FAMILY),
	S("LIFETIME 8 bytes", "00 0d 00 08 00 00 00 00 00 00 02 58", TP_P_BAD_ATTR_LEN),
	S("LIFETIME empty", "00 0d 00 00", TP_P_BAD_ATTR_LEN),
	S("CHANNEL-NUMBER 2 bytes", "00 0c 00 02 40 00 00 00", TP_P_BAD_ATTR_LEN),
	S("NONCE not UTF-8", "00 15 00 04 61 ff 62 63", TP_P_BAD_UTF8),
	S("USERNAME overlong UTF-8", "00 06 00 02 c0 80 00 00", TP_P_BAD_UTF8),
	S("USERNAME surrogate", "00 06 00 03 ed a0 80 00", TP_P_BAD_UTF8),
	S("REALM truncated UTF-8", "00 14 00 02 61 e3 00 00", TP_P_BAD_UTF8),
	ST("ERROR-CODE class 2", 0x0111, "00 09 00 04 00 00 02 00", TP_P_BAD_VALUE),
	ST("ERROR-CODE class 7", 0x0111, "00 09 00 04 00 00 07 00", TP_P_BAD_VALUE),
	ST("ERROR-CODE number 100", 0x0111, "00 09 00 04 00 00 04 64", TP_P_BAD_VALUE),
	ST("ERROR-CODE 3 bytes", 0x0111, "00 09 00 03 00 00 04 00", TP_P_BAD_ATTR_LEN),
	S("MESSAGE-INTEGRITY 16 bytes", "00 08 00 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", TP_P_BAD_ATTR_LEN),
	S("MESSAGE-INTEGRITY-SHA256 12 bytes", "00 1c 00 0c 00 00 00 00 00 00 00 00 00 00 00 00", TP_P_BAD_ATTR_LEN),
	S("MESSAGE-INTEGRITY-SHA256 18 bytes", "00 1c 00 12 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", TP_P_BAD_ATTR_LEN),
	S("MESSAGE-INTEGRITY-SHA256 36 bytes", "00 1c 00 24 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", TP_P_BAD_ATTR_LEN),
	S("FINGERPRINT 8 bytes", "80 28 00 08 00 00 00 00 00 00 00 00", TP_P_BAD_ATTR_LEN),
	S("FINGERPRINT not last", "80 28 00 04 00 00 00 00 80 22 00 00", TP_P_FINGERPRINT_NOT_LAST),
	S("REQUESTED-TRANSPORT 1 byte", "00 19 00 01 11 00 00 00", TP_P_BAD_ATTR_LEN),
	S("EVEN-PORT 4 bytes", "00 18 00 04 80 00 00 00", TP_P_BAD_ATTR_LEN),
	S("RESERVATION-TOKEN 4 bytes", "00 22 00 04 01 02 03 04", TP_P_BAD_ATTR_LEN),
	S("DONT-FRAGMENT with a value", "00 1a 00 04 00 00 00 00", TP_P_BAD_ATTR_LEN),
	S("USE-CANDIDATE with a value", "00 25 00 01 00 00 00 00", TP_P_BAD_ATTR_LEN),
	S("PRIORITY 8 bytes", "00 24 00 08 00 00 00 00 00 00 00 00", TP_P_BAD_ATTR_LEN),
	S("ICE-CONTROLLING 4 bytes", "80 2a 00 04 00 00 00 00", TP_P_BAD_ATTR_LEN),
	S("ICE-CONTROLLED 12 bytes", "80 29 00 0c 00 00 00 00 00 00 00 00 00 00 00 00", TP_P_BAD_ATTR_LEN),
	S("CHANGE-REQUEST 8 bytes", "00 03 00 08 00 00 00 06 00 00 00 00", TP_P_BAD_ATTR_LEN),
	S("RESPONSE-PORT 2 bytes", "00 27 00 02 12 34 00 00", TP_P_BAD_ATTR_LEN),
	S("REQUESTED-ADDRESS-FAMILY 3", "00 17 00 04 03 00 00 00", TP_P_BAD_FAMILY),
	S("REQUESTED-ADDRESS-FAMILY 1 byte", "00 17 00 01 01 00 00 00", TP_P_BAD_ATTR_LEN),
	S("ADDITIONAL-ADDRESS-FAMILY IPv4", "80 00 00 04 01 00 00 00", TP_P_BAD_VALUE),
	S("ADDITIONAL-ADDRESS-FAMILY 0", "80 00 00 04 00 00 00 00", TP_P_BAD_FAMILY),
	ST("ADDRESS-ERROR-CODE family 9", 0x0113, "80 01 00 04 09 00 04 08", TP_P_BAD_FAMILY),
	ST("ADDRESS-ERROR-CODE class 1", 0x0113, "80 01 00 04 01 00 01 00", TP_P_BAD_VALUE),
	S("ICMP 4 bytes", "80 04 00 04 00 00 03 0d", TP_P_BAD_ATTR_LEN),
	S("CONNECTION-ID 8 bytes", "00 2a 00 08 00 00 00 01 00 00 00 02", TP_P_BAD_ATTR_LEN),
	S("USERHASH 16 bytes", "00 1e 00 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", TP_P_BAD_ATTR_LEN),
	S("PASSWORD-ALGORITHM parameters overrun", "00 1d 00 04 00 02 00 08", TP_P_BAD_ATTR_LEN),
	S("PASSWORD-ALGORITHM 2 bytes", "00 1d 00 02 00 02 00 00", TP_P_BAD_ATTR_LEN),
	S("PASSWORD-ALGORITHM trailing entry", "00 1d 00 08 00 02 00 00 00 01 00 00", TP_P_BAD_ATTR_LEN),
	S("PASSWORD-ALGORITHMS cut entry", "80 02 00 06 00 01 00 00 00 02 00 00", TP_P_BAD_ATTR_LEN),
	S("PASSWORD-ALGORITHMS empty", "80 02 00 00", TP_P_BAD_ATTR_LEN),
	S("PASSWORD-ALGORITHMS parameters overrun", "80 02 00 08 00 01 00 00 00 02 00 10", TP_P_BAD_ATTR_LEN),
	ST("UNKNOWN-ATTRIBUTES odd length", 0x0111, "00 0a 00 03 00 02 00 00", TP_P_BAD_ATTR_LEN),
	S("ALTERNATE-DOMAIN empty", "80 03 00 00", TP_P_BAD_ATTR_LEN),
	S("MESSAGE-INTEGRITY after MESSAGE-INTEGRITY-SHA256",
	  "00 1c 00 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
	  "00 08 00 14 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", TP_P_INTEGRITY_ORDER),
	ST("Allocate indication", 0x0013, "", TP_P_BAD_CLASS),
	ST("CreatePermission indication", 0x0018, "", TP_P_BAD_CLASS),
	ST("Send request", 0x0006, "", TP_P_BAD_CLASS),
	ST("Data success response", 0x0107, "", TP_P_BAD_CLASS),
	C("ChannelData channel 0x3fff", "3f ff 00 00", TP_P_CHAN_RANGE),
	C("ChannelData channel 0x5000", "50 00 00 00", TP_P_CHAN_RANGE),
	C("ChannelData channel 0", "00 00 00 00", TP_P_CHAN_RANGE),
	C("ChannelData 3-byte header", "40 00 00", TP_P_CHAN_TRUNCATED),
	C("ChannelData empty", "", TP_P_CHAN_TRUNCATED),
	C("ChannelData declares 8, has 4", "40 01 00 08 01 02 03 04", TP_P_CHAN_TRUNCATED),
	C("ChannelData declares 65535", "4f ff ff ff 01 02 03 04", TP_P_CHAN_TRUNCATED),
	P("stream: huge STUN length", "00 01 ff fc", TP_P_FRAME_TOO_LONG),
	P("stream: huge ChannelData length", "40 00 ff ff", TP_P_FRAME_TOO_LONG),
	P("stream: ChannelData one over the cap", "40 00 05 d9", TP_P_FRAME_TOO_LONG),
	P("stream: STUN length not a multiple of 4", "00 01 00 03", TP_P_BAD_LENGTH),
	P("stream: first byte 0x80 (RTP)", "80 01 00 00", TP_P_NOT_STUN),
	P("stream: first byte 0x16 (TLS)", "16 03 01 00", TP_P_NOT_STUN),
	P("stream: first byte 0x50", "50 00 00 00", TP_P_NOT_STUN),
	P("stream: first byte 4", "04 00 00 00", TP_P_NOT_STUN),
	P("stream: 3 bytes", "00 01 00", TP_P_NEED_MORE),
	P("stream: nothing", "", TP_P_NEED_MORE),
};

static size_t parse_hex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (*s) {
		char *end;
		unsigned long v;

		if (*s == ' ') {
			s++;
			continue;
		}
		v = strtoul(s, &end, 16);
		if (end != s + 2 || n == cap) {
			fprintf(stderr, "bad hex in table\n");
			exit(1);
		}
		out[n++] = (uint8_t)v;
		s = end;
	}
	return n;
}

/* Copies b to the end of a fresh heap block and runs the target on it. */
static enum tp_perr run(enum target t, const uint8_t *b, size_t n, const char **why)
{
	uint8_t *h = malloc(n ? n : 1);
	struct tp_stun_msg m;
	enum tp_perr e = TP_P_OK;
	uint16_t chan;
	const uint8_t *data;
	size_t len;
	enum tp_frame_kind kind;

	memcpy(h, b, n);
	*why = NULL;
	switch (t) {
	case T_STUN:
	case T_STUN_HDR:
		e = tp_stun_decode(&m, h, n, why);
		break;
	case T_CHAN:
		e = tp_chan_decode(h, n, &chan, &data, &len);
		break;
	case T_PEEK:
		e = tp_frame_peek(h, n, 1500, &len, &kind);
		break;
	}
	free(h);
	return e;
}

static void check_case(const char *name, enum target t, const uint8_t *b, size_t n,
                       enum tp_perr want)
{
	const char *why;
	enum tp_perr got = run(t, b, n, &why);

	if (got != want)
		fprintf(stderr, "case \"%s\": got %s, want %s\n", name, tp_perr_str(got),
		        tp_perr_str(want));
	CHECK_EQ(got, want);
	if ((t == T_STUN || t == T_STUN_HDR) && want != TP_P_OK)
		CHECK(why != NULL);
}

static size_t build(uint8_t *buf, uint16_t type, const uint8_t *body, size_t blen)
{
	static const uint8_t tid[12] = { 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7 };

	buf[0] = (uint8_t)(type >> 8);
	buf[1] = (uint8_t)type;
	buf[2] = (uint8_t)(blen >> 8);
	buf[3] = (uint8_t)blen;
	buf[4] = 0x21; buf[5] = 0x12; buf[6] = 0xa4; buf[7] = 0x42;
	memcpy(buf + 8, tid, 12);
	memcpy(buf + 20, body, blen);
	return 20 + blen;
}

static void test_table(void)
{
	uint8_t body[1024], msg[1100];
	size_t ncases = sizeof(cases) / sizeof(cases[0]);

	CHECK(ncases >= 40);
	for (size_t i = 0; i < ncases; i++) {
		const struct mcase *c = &cases[i];
		size_t n = parse_hex(c->hex, body, sizeof(body));

		if (c->target == T_STUN) {
			n = build(msg, c->type, body, n);
			check_case(c->name, c->target, msg, n, c->want);
		} else {
			check_case(c->name, c->target, body, n, c->want);
		}
	}
}

/* Length bounds that need long values. */
static void long_value(const char *name, uint16_t type, size_t len, enum tp_perr want)
{
	static uint8_t body[4 + 1100], msg[20 + sizeof(body)];
	size_t n;

	body[0] = (uint8_t)(type >> 8);
	body[1] = (uint8_t)type;
	body[2] = (uint8_t)(len >> 8);
	body[3] = (uint8_t)len;
	memset(body + 4, 'a', len);
	memset(body + 4 + len, 0, (4 - len % 4) % 4);
	n = build(msg, BREQ, body, 4 + ((len + 3) & ~(size_t)3));
	check_case(name, T_STUN, msg, n, want);
}

static void test_lengths(void)
{
	long_value("USERNAME 513 bytes", TP_ATTR_USERNAME, 513, TP_P_OK);
	long_value("USERNAME 514 bytes", TP_ATTR_USERNAME, 514, TP_P_BAD_ATTR_LEN);
	long_value("REALM 763 bytes", TP_ATTR_REALM, 763, TP_P_OK);
	long_value("REALM 764 bytes", TP_ATTR_REALM, 764, TP_P_BAD_ATTR_LEN);
	long_value("NONCE 764 bytes", TP_ATTR_NONCE, 764, TP_P_BAD_ATTR_LEN);
	long_value("SOFTWARE 764 bytes", TP_ATTR_SOFTWARE, 764, TP_P_BAD_ATTR_LEN);
	long_value("ALTERNATE-DOMAIN 256 bytes", TP_ATTR_ALTERNATE_DOMAIN, 256, TP_P_BAD_ATTR_LEN);
	long_value("MOBILITY-TICKET 1024 bytes", TP_ATTR_MOBILITY_TICKET, 1024, TP_P_OK);
	long_value("MOBILITY-TICKET 1025 bytes", TP_ATTR_MOBILITY_TICKET, 1025, TP_P_BAD_ATTR_LEN);
	long_value("ERROR-CODE reason 764 bytes", TP_ATTR_ERROR_CODE, 4 + 764, TP_P_BAD_ATTR_LEN);
}

static void test_too_many(void)
{
	uint8_t body[4 * (TP_STUN_MAX_ATTRS + 1)], msg[20 + sizeof(body)];

	for (size_t i = 0; i <= TP_STUN_MAX_ATTRS; i++) {
		body[4 * i] = 0x80;
		body[4 * i + 1] = 0x22;  /* empty SOFTWARE */
		body[4 * i + 2] = body[4 * i + 3] = 0;
	}
	check_case("64 attributes", T_STUN, msg, build(msg, BREQ, body, 4 * TP_STUN_MAX_ATTRS),
	           TP_P_OK);
	check_case("65 attributes", T_STUN, msg, build(msg, BREQ, body, sizeof(body)),
	           TP_P_TOO_MANY_ATTRS);
}

/* FINGERPRINT and integrity failures need real CRCs and HMACs. */
static void test_integrity(void)
{
	static const uint8_t tid[12] = { 1 };
	static const uint8_t key[4] = "key!";
	uint8_t buf[256];
	struct tp_stun_wr w;
	struct tp_stun_msg m;
	long n;

	tp_stun_wr_init(&w, buf, sizeof(buf), TP_METHOD_BINDING, TP_CLASS_REQUEST, tid);
	tp_stun_put_str(&w, TP_ATTR_USERNAME, "user", 4);
	tp_stun_put_mi(&w, key, sizeof(key));
	tp_stun_put_fingerprint(&w);
	n = tp_stun_wr_finish(&w);
	CHECK_EQ(tp_stun_decode(&m, buf, (size_t)n, NULL), TP_P_OK);
	CHECK_EQ(tp_stun_verify_mi(&m, key, sizeof(key)), TP_P_OK);
	CHECK_EQ(tp_stun_verify_mi(&m, key, 3), TP_P_INTEGRITY_BAD);
	CHECK_EQ(tp_stun_verify_mi256(&m, key, sizeof(key)), TP_P_NO_INTEGRITY);

	buf[n - 1] ^= 1;  /* the CRC itself */
	check_case("FINGERPRINT wrong CRC", T_STUN, buf, (size_t)n, TP_P_FINGERPRINT_BAD);
	buf[n - 1] ^= 1;
	buf[24] ^= 1;     /* a byte of USERNAME */
	check_case("FINGERPRINT over changed bytes", T_STUN, buf, (size_t)n, TP_P_FINGERPRINT_BAD);
	buf[24] ^= 1;

	/* without FINGERPRINT a changed USERNAME decodes but fails integrity */
	tp_stun_wr_init(&w, buf, sizeof(buf), TP_METHOD_BINDING, TP_CLASS_REQUEST, tid);
	tp_stun_put_str(&w, TP_ATTR_USERNAME, "user", 4);
	tp_stun_put_mi(&w, key, sizeof(key));
	n = tp_stun_wr_finish(&w);
	buf[24] = 'U';
	CHECK_EQ(tp_stun_decode(&m, buf, (size_t)n, NULL), TP_P_OK);
	CHECK_EQ(tp_stun_verify_mi(&m, key, sizeof(key)), TP_P_INTEGRITY_BAD);

	/* no integrity at all */
	tp_stun_wr_init(&w, buf, sizeof(buf), TP_METHOD_BINDING, TP_CLASS_REQUEST, tid);
	n = tp_stun_wr_finish(&w);
	CHECK_EQ(tp_stun_decode(&m, buf, (size_t)n, NULL), TP_P_OK);
	CHECK_EQ(tp_stun_verify_mi(&m, key, sizeof(key)), TP_P_NO_INTEGRITY);
	CHECK_EQ(tp_stun_verify_mi256(&m, key, sizeof(key)), TP_P_NO_INTEGRITY);
}

static void test_names(void)
{
	for (int e = 0; e < TP_P__COUNT; e++)
		CHECK(strcmp(tp_perr_str((enum tp_perr)e), "?") != 0);
	CHECK(strcmp(tp_perr_str(TP_P__COUNT), "?") == 0);
	CHECK(strcmp(tp_attr_name(0x7777), "?") == 0);
	CHECK(strcmp(tp_error_reason(438), "Stale Nonce") == 0);
	CHECK(strcmp(tp_error_reason(420), "Unknown Attribute") == 0);
	CHECK(strcmp(tp_error_reason(299), "?") == 0);
}

int main(void)
{
	test_table();
	test_lengths();
	test_too_many();
	test_integrity();
	test_names();
	TP_TEST_END();
}
