/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sctp.c - SCTP over DTLS with usrsctp in AF_CONN mode (RFC 8261).
 *
 * usrsctp sends packets through conn_output (any thread) into DTLS, and gets
 * decrypted packets through dc_sctp_input. Its receive and send-space upcalls
 * run on its own thread: they only queue work for the GLib loop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <usrsctp.h>

#include "dc.h"

#define SCTP_PORT 5000
#define SNDBUF (1024 * 1024)

static bool sctp_inited;

static int conn_output(void *addr, void *buf, size_t len, uint8_t tos, uint8_t set_df)
{
	(void)tos;
	(void)set_df;
	return dc_dtls_write(addr, buf, len) == 0 ? 0 : -1;
}

/* ---- from usrsctp's thread to the loop ---------------------------------- */

static gboolean drain_inbox(gpointer p)
{
	struct dc *dc = p;
	bool writable;

	for (;;) {
		struct dc_msg *m;

		g_mutex_lock(&dc->inbox_lock);
		m = g_queue_pop_head(&dc->inbox);
		if (!m)
			dc->inbox_scheduled = false;
		writable = dc->writable_scheduled;
		dc->writable_scheduled = false;
		g_mutex_unlock(&dc->inbox_lock);
		if (writable)
			dc_bench_writable(dc);
		if (!m)
			break;
		if (m->ppid == 0xffffffffu) {          /* association event */
			if (m->sid == 1 && !dc->sctp_up) {
				dc->sctp_up = true;
				dc->t_sctp = dc_now(dc);
				dc_progress(dc, "SCTP association up");
				dc_event(dc, "sctp-up", dc_event_data_path(dc, false), false,
				         "SCTP association up (over DTLS)");
				dc_dcep_sctp_up(dc);
			} else if (m->sid == 0 && !dc->finished) {
				if (dc->peer_done) {
					dc_progress(dc, "SCTP association shut down");
					dc_event(dc, "sctp-shutdown", dc_event_data_path(dc, false),
					         false, "SCTP association shut down");
					dc_finish(dc);
				} else if (dc->chan_open) {
					dc_fail(dc, "SCTP: the association went down (peer closed "
					        "or aborted)");
				} else {
					dc_fail(dc, "SCTP association failed — the peer's "
					        "sctp-port or DTLS setup may be wrong");
				}
			}
		} else {
			dc_dcep_input(dc, m);
		}
		g_free(m);
	}
	return G_SOURCE_REMOVE;
}

static void post(struct dc *dc, struct dc_msg *m, bool writable)
{
	bool schedule;

	g_mutex_lock(&dc->inbox_lock);
	if (m)
		g_queue_push_tail(&dc->inbox, m);
	if (writable)
		dc->writable_scheduled = true;
	schedule = !dc->inbox_scheduled;
	dc->inbox_scheduled = true;
	g_mutex_unlock(&dc->inbox_lock);
	if (schedule)
		g_idle_add(drain_inbox, dc);
}

static void notification(struct dc *dc, const union sctp_notification *n, size_t len)
{
	struct dc_msg *m;

	if (len < sizeof(n->sn_header) || n->sn_header.sn_type != SCTP_ASSOC_CHANGE)
		return;
	m = g_malloc0(sizeof(*m));
	m->ppid = 0xffffffffu;
	switch (n->sn_assoc_change.sac_state) {
	case SCTP_COMM_UP:
	case SCTP_RESTART:
		m->sid = 1;
		break;
	case SCTP_COMM_LOST:
	case SCTP_SHUTDOWN_COMP:
	case SCTP_CANT_STR_ASSOC:
		m->sid = 0;
		break;
	default:
		g_free(m);
		return;
	}
	post(dc, m, false);
}

static int receive_cb(struct socket *sock, union sctp_sockstore addr, void *data,
                      size_t len, struct sctp_rcvinfo rcv, int flags, void *ulp)
{
	struct dc *dc = ulp;

	(void)sock;
	(void)addr;
	if (!data)
		return 1;
	if (flags & MSG_NOTIFICATION) {
		notification(dc, data, len);
	} else {
		/* Partial deliveries are joined until MSG_EOR. */
		if (!dc->partial)
			dc->partial = g_byte_array_new();
		g_byte_array_append(dc->partial, data, (guint)len);
		if (flags & MSG_EOR) {
			struct dc_msg *m = g_malloc(sizeof(*m) + dc->partial->len);

			m->sid = rcv.rcv_sid;
			m->ppid = ntohl(rcv.rcv_ppid);
			m->len = dc->partial->len;
			memcpy(m->data, dc->partial->data, m->len);
			g_byte_array_set_size(dc->partial, 0);
			post(dc, m, false);
		}
	}
	free(data);
	return 1;
}

static int send_cb(struct socket *sock, uint32_t sb_free, void *ulp)
{
	(void)sock;
	(void)sb_free;
	post(ulp, NULL, true);
	return 0;
}

/* ---- API --------------------------------------------------------------- */

int dc_sctp_start(struct dc *dc)
{
	struct sockaddr_conn sconn = { .sconn_family = AF_CONN };
	struct linger lin = { 1, 0 };
	const int on = 1, sndbuf = SNDBUF;
	struct sctp_initmsg init = { .sinit_num_ostreams = 1024, .sinit_max_instreams = 1024 };
	struct sctp_event ev = { .se_assoc_id = SCTP_ALL_ASSOC, .se_on = 1 };
	struct sctp_assoc_value av = { .assoc_id = SCTP_ALL_ASSOC,
	                               .assoc_value = SCTP_ENABLE_RESET_STREAM_REQ };
	int rc;

	if (!sctp_inited) {
		usrsctp_init(0, conn_output, NULL);
		usrsctp_sysctl_set_sctp_ecn_enable(0);
		usrsctp_sysctl_set_sctp_blackhole(2);
		usrsctp_sysctl_set_sctp_no_csum_on_loopback(0);
		sctp_inited = true;
	}
	usrsctp_register_address(dc);
	dc->sock = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, receive_cb, send_cb,
	                          SNDBUF / 2, dc);
	if (!dc->sock) {
		dc_fail(dc, "SCTP: cannot create a socket: %s", strerror(errno));
		return -1;
	}
	usrsctp_set_non_blocking(dc->sock, 1);
	usrsctp_setsockopt(dc->sock, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
	usrsctp_setsockopt(dc->sock, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	usrsctp_setsockopt(dc->sock, IPPROTO_SCTP, SCTP_NODELAY, &on, sizeof(on));
	usrsctp_setsockopt(dc->sock, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof(on));
	usrsctp_setsockopt(dc->sock, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, &av, sizeof(av));
	usrsctp_setsockopt(dc->sock, IPPROTO_SCTP, SCTP_INITMSG, &init, sizeof(init));
	ev.se_type = SCTP_ASSOC_CHANGE;
	usrsctp_setsockopt(dc->sock, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof(ev));
	sconn.sconn_port = htons(SCTP_PORT);
	sconn.sconn_addr = dc;
	if (usrsctp_bind(dc->sock, (struct sockaddr *)&sconn, sizeof(sconn)) != 0) {
		dc_fail(dc, "SCTP: bind failed: %s", strerror(errno));
		return -1;
	}
	sconn.sconn_port = htons((uint16_t)(dc->remote.sctp_port ? dc->remote.sctp_port
	                                                        : SCTP_PORT));
	rc = usrsctp_connect(dc->sock, (struct sockaddr *)&sconn, sizeof(sconn));
	if (rc != 0 && errno != EINPROGRESS) {
		dc_fail(dc, "SCTP: connect failed: %s", strerror(errno));
		return -1;
	}
	dc->max_msg = dc->remote.max_message_size;
	dc_event(dc, "sctp-start", dc_event_data_path(dc, true), false,
	         "SCTP INIT to the peer's port %u (over DTLS)", ntohs(sconn.sconn_port));
	return 0;
}

void dc_sctp_input(struct dc *dc, const void *buf, size_t len)
{
	if (dc->sock)
		usrsctp_conninput(dc, buf, len, 0);
}

int dc_sctp_send(struct dc *dc, uint32_t ppid, const void *buf, size_t len)
{
	struct sctp_sndinfo si = { .snd_sid = dc->sid, .snd_ppid = htonl(ppid) };
	static const uint8_t zero;

	if (!dc->sock)
		return -EIO;
	if (len == 0) { /* empty messages go as one byte with the "empty" PPID */
		buf = &zero;
		len = 1;
	}
	if (usrsctp_sendv(dc->sock, buf, len, NULL, 0, &si, sizeof(si), SCTP_SENDV_SNDINFO,
	                  0) < 0)
		return errno == EWOULDBLOCK || errno == EAGAIN ? -EAGAIN : -errno;
	return 0;
}

/*
 * Graceful SCTP shutdown (RFC 9260 section 9.2): the SHUTDOWN chunk goes out
 * once everything we queued is acknowledged, and it acknowledges what the peer
 * sent, so neither side's last message is lost; SCTP_SHUTDOWN_COMP then comes
 * as an association event on both sides.
 */
int dc_sctp_shutdown(struct dc *dc)
{
	if (!dc->sock)
		return -EIO;
	return usrsctp_shutdown(dc->sock, SHUT_WR) == 0 ? 0 : -errno;
}

void dc_sctp_close(struct dc *dc)
{
	if (dc->sock) {
		usrsctp_shutdown(dc->sock, SHUT_RDWR);
	}
}
