/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dcep.c - the Data Channel Establishment Protocol (RFC 8832).
 *
 * The offerer opens one reliable, ordered channel once SCTP is up, on an even
 * stream id as DTLS client and an odd one as DTLS server; the other side
 * answers DATA_CHANNEL_OPEN with DATA_CHANNEL_ACK. User messages are handed
 * to bench.c.
 */
#include <string.h>

#include "dc.h"

#define DCEP_OPEN 0x03
#define DCEP_ACK 0x02
#define CHAN_RELIABLE 0x00

static void opened(struct dc *dc)
{
	if (dc->chan_open)
		return;
	dc->chan_open = true;
	dc->t_open = dc_now(dc);
	dc->stage = "the pings";
	dc_progress(dc, "channel open (stream %u)", dc->sid);
	dc_event(dc, "channel-open", "A", false, "data channel \"%s\" open (stream %u)",
	         dc->o.label, dc->sid);
	dc_bench_start(dc);
}

void dc_dcep_sctp_up(struct dc *dc)
{
	size_t ll = strlen(dc->o.label);
	uint8_t *m;

	dc->stage = "the data channel to open";
	if (!dc->o.offer)
		return; /* the offerer opens */
	dc->sid = dc->dtls_client ? 0 : 1;
	m = g_malloc0(12 + ll);
	m[0] = DCEP_OPEN;
	m[1] = CHAN_RELIABLE;
	/* priority 0, reliability parameter 0 */
	m[8] = (uint8_t)(ll >> 8);
	m[9] = (uint8_t)ll;
	/* protocol length 0 */
	memcpy(m + 12, dc->o.label, ll);
	if (dc_sctp_send(dc, DC_PPID_DCEP, m, 12 + ll) != 0)
		dc_fail(dc, "DCEP: cannot send DATA_CHANNEL_OPEN");
	else
		dc_event(dc, "dcep-open", dc_event_data_path(dc, true), false,
		         "DATA_CHANNEL_OPEN \"%s\" (stream %u, reliable, ordered)", dc->o.label,
		         dc->sid);
	g_free(m);
}

void dc_dcep_input(struct dc *dc, const struct dc_msg *m)
{
	switch (m->ppid) {
	case DC_PPID_DCEP:
		if (m->len >= 12 && m->data[0] == DCEP_OPEN) {
			size_t ll = (size_t)m->data[8] << 8 | m->data[9];
			size_t pl = (size_t)m->data[10] << 8 | m->data[11];

			if (m->len - 12 < ll + pl) {
				dc_progress(dc, "DCEP: malformed DATA_CHANNEL_OPEN ignored");
				return;
			}
			if (dc->chan_open) {
				dc_progress(dc, "DCEP: ignoring a second channel (stream %u)",
				            m->sid);
				return;
			}
			dc->sid = m->sid;
			{
				uint8_t ack = DCEP_ACK;

				dc_event(dc, "dcep-open", dc_event_data_path(dc, false), true,
				         "the peer's DATA_CHANNEL_OPEN \"%.*s\" (stream %u)", (int)ll,
				         m->data + 12, m->sid);
				dc_sctp_send(dc, DC_PPID_DCEP, &ack, 1);
				dc_event(dc, "dcep-ack", dc_event_data_path(dc, true), false,
				         "DATA_CHANNEL_ACK");
			}
			dc_progress(dc, "DCEP: peer opened \"%.*s\"", (int)ll, m->data + 12);
			opened(dc);
		} else if (m->len >= 1 && m->data[0] == DCEP_ACK) {
			if (m->sid == dc->sid && !dc->chan_open)
				dc_event(dc, "dcep-ack", dc_event_data_path(dc, false), true,
				         "the peer's DATA_CHANNEL_ACK");
			if (m->sid == dc->sid)
				opened(dc);
		}
		return;
	case DC_PPID_STRING:
	case DC_PPID_STRING_EMPTY:
	case DC_PPID_BINARY:
	case DC_PPID_BINARY_EMPTY:
		if (m->sid != dc->sid)
			return;
		opened(dc); /* RFC 8832 §6: data may arrive before the ACK */
		{
			bool empty = m->ppid == DC_PPID_STRING_EMPTY || m->ppid == DC_PPID_BINARY_EMPTY;

			dc_bench_message(dc, m->ppid == DC_PPID_STRING ||
			                 m->ppid == DC_PPID_STRING_EMPTY,
			                 m->data, empty ? 0 : m->len);
		}
		return;
	}
}
