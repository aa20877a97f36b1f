/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sdp.c - the WebRTC SDP of a data-channel-only session (RFC 8841, JSEP):
 * building our offer/answer and reading the peer's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dc.h"

char *dc_sdp_build(struct dc *dc, const char *ufrag, const char *pwd)
{
	GString *s = g_string_new(NULL);

	g_string_append_printf(s,
	        "v=0\r\n"
	        "o=- %" G_GUINT64_FORMAT " 2 IN IP4 127.0.0.1\r\n"
	        "s=-\r\n"
	        "t=0 0\r\n"
	        "a=group:BUNDLE 0\r\n"
	        "a=msid-semantic: WMS\r\n"
	        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
	        "c=IN IP4 0.0.0.0\r\n"
	        "a=ice-ufrag:%s\r\n"
	        "a=ice-pwd:%s\r\n"
	        "a=ice-options:trickle\r\n"
	        "a=fingerprint:sha-256 %s\r\n"
	        "a=setup:%s\r\n"
	        "a=mid:0\r\n"
	        "a=sctp-port:5000\r\n"
	        "a=max-message-size:262144\r\n",
	        (guint64)g_random_int() << 20 | g_random_int_range(0, 1 << 20),
	        ufrag, pwd, dc->fingerprint, dc->o.offer ? "actpass" : "active");
	return g_string_free(s, FALSE);
}

void dc_sdp_clear(struct dc_sdp *s)
{
	if (s->candidates)
		g_ptr_array_free(s->candidates, TRUE);
	memset(s, 0, sizeof(*s));
}

static void copy_val(char *dst, size_t cap, const char *v)
{
	snprintf(dst, cap, "%s", v);
}

int dc_sdp_parse(struct dc_sdp *s, const char *sdp)
{
	char **lines = g_strsplit(sdp, "\n", -1);
	bool have_app = false;

	dc_sdp_clear(s);
	s->candidates = g_ptr_array_new_with_free_func(g_free);
	s->sctp_port = 5000;
	s->max_message_size = 65536;
	for (char **l = lines; *l; l++) {
		char *line = g_strchomp(*l); /* drops the \r */

		if (g_str_has_prefix(line, "m=application ") &&
		    strstr(line, "webrtc-datachannel")) {
			have_app = true;
		} else if (g_str_has_prefix(line, "m=application ") && strstr(line, "DTLS/SCTP ")) {
			/* the pre-RFC 8841 form (aiortc's offers): the format is the port */
			have_app = true;
			s->sctp_port = (unsigned)strtoul(strstr(line, "DTLS/SCTP ") + 10, NULL, 10);
		}
		else if (g_str_has_prefix(line, "a=ice-ufrag:"))
			copy_val(s->ufrag, sizeof(s->ufrag), line + 12);
		else if (g_str_has_prefix(line, "a=ice-pwd:"))
			copy_val(s->pwd, sizeof(s->pwd), line + 10);
		else if (g_ascii_strncasecmp(line, "a=fingerprint:sha-256 ", 22) == 0)
			copy_val(s->fingerprint, sizeof(s->fingerprint), line + 22);
		else if (g_str_has_prefix(line, "a=setup:"))
			copy_val(s->setup, sizeof(s->setup), line + 8);
		else if (g_str_has_prefix(line, "a=sctp-port:"))
			s->sctp_port = (unsigned)strtoul(line + 12, NULL, 10);
		else if (g_str_has_prefix(line, "a=max-message-size:"))
			s->max_message_size = strtoul(line + 19, NULL, 10);
		else if (g_str_has_prefix(line, "a=candidate:"))
			g_ptr_array_add(s->candidates, g_strdup(line + 2));
		else if (strcmp(line, "a=end-of-candidates") == 0)
			s->end_of_candidates = true;
	}
	g_strfreev(lines);
	if (!have_app || !s->ufrag[0] || !s->pwd[0] || !s->fingerprint[0])
		return -1;
	if (s->sctp_port == 0 || s->sctp_port > 65535)
		s->sctp_port = 5000;
	if (s->max_message_size == 0) /* 0: no limit announced */
		s->max_message_size = 1 << 30;
	return 0;
}
