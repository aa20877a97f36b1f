/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dc_parse.c - dc-client's parsers: the signaling JSON (escapes, member
 * order, non-string members, malformed input) and the SDP reader (RFC 8841
 * and the older DTLS/SCTP form, candidates, defaults, what makes SDP unusable),
 * and that our own offer reads back.
 */
#include <stdlib.h>

#include "dc.h"
#include "tp_test.h"

static bool str_is(char *got, const char *want)
{
	bool ok = got && strcmp(got, want) == 0;

	g_free(got);
	return ok;
}

static const char chrome_answer[] =
	"v=0\r\no=- 4611 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
	"a=msid-semantic: WMS\r\n"
	"m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
	"a=candidate:1 1 udp 2122260223 10.0.0.5 50000 typ host generation 0 network-id 1\r\n"
	"a=ice-ufrag:Ab12\r\na=ice-pwd:0123456789abcdefghijklmn\r\n"
	"a=ice-options:trickle\r\n"
	"a=fingerprint:sha-256 0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9:0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9\r\n"
	"a=setup:active\r\na=mid:0\r\na=sctp-port:5001\r\na=max-message-size:262144\r\n";

static const char aiortc_offer[] =
	"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
	"m=application 9 DTLS/SCTP 5000\r\nc=IN IP4 0.0.0.0\r\n"
	"a=mid:0\r\na=sctpmap:5000 webrtc-datachannel 65535\r\na=max-message-size:65536\r\n"
	"a=candidate:abc 1 udp 2130706431 127.0.0.1 40000 typ host\r\n"
	"a=end-of-candidates\r\na=ice-ufrag:u\r\na=ice-pwd:p\r\n"
	"a=fingerprint:sha-256 AA:BB\r\na=fingerprint:sha-512 CC:DD\r\na=setup:actpass\r\n";

int main(void)
{
	struct dc_sdp s = { 0 };
	struct dc dc = { 0 };
	GString *j;
	char *sdp;

	/* JSON */
	CHECK(str_is(dc_json_get("{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\"}", "type"), "offer"));
	CHECK(str_is(dc_json_get("{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\"}", "sdp"), "v=0\r\n"));
	CHECK(str_is(dc_json_get(" { \"sdpMLineIndex\" : 0 , \"candidate\" : \"c\\\"q\\\\\\/\" ,"
	                         " \"x\": null, \"type\":\"candidate\" } ", "type"), "candidate"));
	CHECK(str_is(dc_json_get("{\"sdpMLineIndex\":0,\"candidate\":\"c\\\"q\\\\\\/\"}",
	                         "candidate"), "c\"q\\/"));
	CHECK(str_is(dc_json_get("{\"a\":\"\\u00e9\\u0041\"}", "a"), "\xc3\xa9" "A"));
	CHECK(str_is(dc_json_get("{\"candidate\":\"\"}", "candidate"), ""));
	CHECK(dc_json_get("{\"type\":\"bye\"}", "sdp") == NULL);
	CHECK(dc_json_get("{\"type\":\"unterminated}", "type") == NULL);
	CHECK(dc_json_get("[\"type\"]", "type") == NULL);
	CHECK(dc_json_get("{\"type\":\"x\\q\"}", "type") == NULL);
	CHECK(dc_json_get("{\"type\":\"x\\u12\"}", "type") == NULL);
	CHECK(dc_json_get("", "type") == NULL);
	j = g_string_new(NULL);
	dc_json_str(j, "a\"b\\c\r\n\t\x01");
	CHECK(strcmp(j->str, "\"a\\\"b\\\\c\\r\\n\\t\\u0001\"") == 0);
	g_string_free(j, TRUE);
	/* invalid UTF-8 (a peer's text, a cut string) becomes U+FFFD: JSON stays valid */
	j = g_string_new(NULL);
	dc_json_str(j, "ok\xff\xe2\x82");
	CHECK(g_utf8_validate(j->str, -1, NULL) && strncmp(j->str, "\"ok\xef\xbf\xbd", 6) == 0);
	g_string_free(j, TRUE);

	/* SDP: a browser's answer */
	CHECK_EQ(dc_sdp_parse(&s, chrome_answer), 0);
	CHECK(strcmp(s.ufrag, "Ab12") == 0);
	CHECK(strcmp(s.pwd, "0123456789abcdefghijklmn") == 0);
	CHECK(strncmp(s.fingerprint, "0A:1B:", 6) == 0 && strlen(s.fingerprint) == 95);
	CHECK(strcmp(s.setup, "active") == 0);
	CHECK_EQ(s.sctp_port, 5001);
	CHECK_EQ(s.max_message_size, 262144);
	CHECK_EQ(s.candidates->len, 1);
	CHECK(strncmp(g_ptr_array_index(s.candidates, 0), "candidate:1 1 udp", 17) == 0);
	CHECK(!s.end_of_candidates);

	/* SDP: aiortc's older form; the first (sha-256) fingerprint */
	CHECK_EQ(dc_sdp_parse(&s, aiortc_offer), 0);
	CHECK_EQ(s.sctp_port, 5000);
	CHECK_EQ(s.max_message_size, 65536);
	CHECK(strcmp(s.fingerprint, "AA:BB") == 0);
	CHECK(s.end_of_candidates);
	CHECK(strcmp(s.setup, "actpass") == 0);

	/* Unusable: no data channel, no credentials, no fingerprint */
	CHECK(dc_sdp_parse(&s, "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ice-ufrag:u\r\n"
	                   "a=ice-pwd:p\r\na=fingerprint:sha-256 AA\r\n") != 0);
	CHECK(dc_sdp_parse(&s, "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\n"
	                   "a=ice-pwd:p\na=fingerprint:sha-256 AA\n") != 0);
	CHECK(dc_sdp_parse(&s, "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\n"
	                   "a=ice-ufrag:u\na=ice-pwd:p\na=fingerprint:sha-1 AA\n") != 0);
	/* Defaults; LF line ends */
	CHECK_EQ(dc_sdp_parse(&s, "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\n"
	                      "a=ice-ufrag:u\na=ice-pwd:p\na=fingerprint:SHA-256 AB\n"), 0);
	CHECK_EQ(s.sctp_port, 5000);
	CHECK_EQ(s.max_message_size, 65536);

	/* Our own offer reads back */
	snprintf(dc.fingerprint, sizeof(dc.fingerprint), "01:02");
	dc.o.offer = true;
	sdp = dc_sdp_build(&dc, "uf", "pw0123456789012345678901");
	CHECK_EQ(dc_sdp_parse(&s, sdp), 0);
	CHECK(strcmp(s.ufrag, "uf") == 0 && strcmp(s.setup, "actpass") == 0);
	CHECK(strcmp(s.fingerprint, "01:02") == 0 && s.sctp_port == 5000);
	CHECK(strstr(sdp, "\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n") != NULL);
	g_free(sdp);
	dc.o.offer = false;
	sdp = dc_sdp_build(&dc, "uf", "pw");
	CHECK(strstr(sdp, "a=setup:active\r\n") != NULL);
	g_free(sdp);
	dc_sdp_clear(&s);
	TP_TEST_END();
}
