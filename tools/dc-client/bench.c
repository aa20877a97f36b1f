/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench.c - what runs on the open channel: RTT pings, bulk throughput, and the
 * "done" exchange that lets both peers finish together.
 *
 * Text messages: "ping SEQ" -> "pong SEQ"; "bulk N" announces N bytes of
 * binary messages, answered "bulk-ok N" once all arrived; "done" says the
 * sender's own measurements are over. When both sides are done, the SCTP
 * association is shut down gracefully and the run ends.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dc.h"

#define CHUNK 16384
#define PONG_WAIT_MS 3000
#define SHUTDOWN_WAIT_MS 2000

struct bench {
	gint64 *sent_at;       /* per seq, us */
	double *rtt;           /* ms, in arrival order */
	unsigned sent, pongs;
	guint timer;
	bool pings_done, my_done, shutting_down;
	guint shutdown_timer;
	/* sending bulk */
	bool bulk_sending;
	unsigned long bulk_sent;
	gint64 bulk_t0;
	double bulk_secs;
	/* receiving bulk */
	unsigned long rx_expect, rx_got;
	bool got_message;              /* the first message from the peer came */
};

static struct bench *B(struct dc *dc)
{
	if (!dc->bench)
		dc->bench = g_new0(struct bench, 1);
	return dc->bench;
}

static void send_text(struct dc *dc, const char *s)
{
	if (dc_sctp_send(dc, DC_PPID_STRING, s, strlen(s)) != 0)
		dc_progress(dc, "warning: could not send \"%s\"", s);
}

static gboolean shutdown_timeout(gpointer p)
{
	struct dc *dc = p;

	B(dc)->shutdown_timer = 0;
	dc_progress(dc, "warning: no SCTP SHUTDOWN-COMPLETE within %u ms", SHUTDOWN_WAIT_MS);
	dc_finish(dc);
	return G_SOURCE_REMOVE;
}

/*
 * Both sides are done. Our own "done" (or "bulk-ok", a pong) may still sit in
 * the SCTP send queue, behind a full congestion window after a bulk transfer,
 * and the peer's last message may not be acknowledged yet: tearing DTLS down
 * now would lose them and leave the peer waiting. So the association is shut
 * down gracefully and the run ends when it is down (sctp.c calls dc_finish on
 * that event), or after SHUTDOWN_WAIT_MS.
 */
static void maybe_finish(struct dc *dc)
{
	struct bench *b = B(dc);

	if (!b->my_done || !dc->peer_done || b->shutting_down)
		return;
	b->shutting_down = true;
	dc->stage = "the SCTP shutdown";
	if (dc_sctp_shutdown(dc) == 0) {
		b->shutdown_timer = g_timeout_add(SHUTDOWN_WAIT_MS, shutdown_timeout, dc);
		return;
	}
	dc_finish(dc);
}

static void my_done(struct dc *dc)
{
	struct bench *b = B(dc);

	if (b->my_done)
		return;
	b->my_done = true;
	dc->stage = "the peer to finish";
	send_text(dc, "done");
	dc_event(dc, "done-sent", dc_event_data_path(dc, true), false,
	         "\"done\": our measurements are over");
	maybe_finish(dc);
}

static void bulk_pump(struct dc *dc)
{
	struct bench *b = B(dc);
	static uint8_t chunk[CHUNK];
	size_t csz = CHUNK;

	if (dc->max_msg && csz > dc->max_msg)
		csz = dc->max_msg;
	while (b->bulk_sending && b->bulk_sent < dc->o.bulk) {
		size_t n = dc->o.bulk - b->bulk_sent < csz ? dc->o.bulk - b->bulk_sent : csz;
		int rc = dc_sctp_send(dc, DC_PPID_BINARY, chunk, n);

		if (rc == -EAGAIN)
			return; /* dc_bench_writable resumes */
		if (rc != 0) {
			dc_fail(dc, "bulk: send failed (%s)", strerror(-rc));
			return;
		}
		b->bulk_sent += n;
	}
	b->bulk_sending = false;
}

static void start_bulk(struct dc *dc)
{
	struct bench *b = B(dc);
	char msg[64];

	if (!dc->o.bulk) {
		my_done(dc);
		return;
	}
	dc->stage = "the bulk transfer";
	snprintf(msg, sizeof(msg), "bulk %lu", dc->o.bulk);
	send_text(dc, msg);
	dc_event(dc, "bulk-start", dc_event_data_path(dc, true), false,
	         "bulk transfer starts: %lu bytes in binary messages", dc->o.bulk);
	b->bulk_t0 = g_get_monotonic_time();
	b->bulk_sending = true;
	bulk_pump(dc);
}

static void pings_over(struct dc *dc)
{
	struct bench *b = B(dc);

	if (b->pings_done)
		return;
	b->pings_done = true;
	if (b->timer) {
		g_source_remove(b->timer);
		b->timer = 0;
	}
	if (b->pongs < b->sent)
		dc_progress(dc, "warning: %u of %u pings unanswered", b->sent - b->pongs, b->sent);
	else
		dc_progress(dc, "%u pings answered", b->pongs);
	dc_event(dc, "pings-done", "A", false, "%u of %u pings answered", b->pongs, b->sent);
	start_bulk(dc);
}

static gboolean pong_wait_cb(gpointer p)
{
	struct dc *dc = p;

	B(dc)->timer = 0;
	pings_over(dc);
	return G_SOURCE_REMOVE;
}

static gboolean ping_cb(gpointer p)
{
	struct dc *dc = p;
	struct bench *b = B(dc);
	char msg[64];

	if (b->sent >= dc->o.pings) {
		b->timer = g_timeout_add(PONG_WAIT_MS, pong_wait_cb, dc);
		return G_SOURCE_REMOVE;
	}
	snprintf(msg, sizeof(msg), "ping %u", b->sent);
	b->sent_at[b->sent++] = g_get_monotonic_time();
	send_text(dc, msg);
	if (b->sent == 1)
		dc_event(dc, "first-message", dc_event_data_path(dc, true), false,
		         "first message sent: \"%s\"", msg);
	return G_SOURCE_CONTINUE;
}

static gboolean pause_cb(gpointer p)
{
	struct dc *dc = p;
	struct bench *b = B(dc);

	b->timer = 0;
	if (!dc->o.pings) {
		pings_over(dc);
		return G_SOURCE_REMOVE;
	}
	ping_cb(dc);
	b->timer = g_timeout_add(dc->o.ping_interval_ms ? dc->o.ping_interval_ms : 1, ping_cb, dc);
	return G_SOURCE_REMOVE;
}

void dc_bench_start(struct dc *dc)
{
	struct bench *b = B(dc);

	b->sent_at = g_new0(gint64, dc->o.pings + 1);
	b->rtt = g_new0(double, dc->o.pings + 1);
	b->timer = g_timeout_add(dc->o.pause_ms, pause_cb, dc);
}

void dc_bench_message(struct dc *dc, bool text, const uint8_t *buf, size_t len)
{
	struct bench *b = B(dc);
	char msg[128];

	if (!text) {
		b->rx_got += len;
		if (b->rx_expect && b->rx_got >= b->rx_expect) {
			snprintf(msg, sizeof(msg), "bulk-ok %lu", b->rx_got);
			send_text(dc, msg);
			dc_progress(dc, "received %lu bulk bytes", b->rx_got);
			dc_event(dc, "bulk-received", dc_event_data_path(dc, true), false,
			         "all %lu bulk bytes received: \"bulk-ok\" sent", b->rx_got);
			b->rx_expect = 0;
		}
		return;
	}
	if (len >= sizeof(msg))
		return;
	memcpy(msg, buf, len);
	msg[len] = 0;
	if (!b->got_message) {
		b->got_message = true;
		dc_event(dc, "first-message-received", dc_event_data_path(dc, false), true,
		         "first message from the peer: \"%s\"", msg);
	}
	if (strncmp(msg, "ping ", 5) == 0) {
		msg[1] = 'o';
		send_text(dc, msg);
	} else if (strncmp(msg, "pong ", 5) == 0) {
		unsigned seq = (unsigned)strtoul(msg + 5, NULL, 10);

		if (seq < b->sent && b->sent_at[seq] && b->sent_at && !b->pings_done) {
			b->rtt[b->pongs++] = (double)(g_get_monotonic_time() - b->sent_at[seq]) / 1000.0;
			b->sent_at[seq] = 0;
			if (b->pongs == dc->o.pings)
				pings_over(dc);
		}
	} else if (strncmp(msg, "bulk ", 5) == 0) {
		b->rx_expect = strtoul(msg + 5, NULL, 10);
		b->rx_got = 0;
		dc_event(dc, "bulk-start", dc_event_data_path(dc, false), true,
		         "the peer's bulk transfer starts: %lu bytes", b->rx_expect);
	} else if (strncmp(msg, "bulk-ok ", 8) == 0) {
		if (b->bulk_t0 && !b->bulk_secs) {
			b->bulk_secs = (double)(g_get_monotonic_time() - b->bulk_t0) / 1e6;
			dc_progress(dc, "bulk: %lu bytes in %.3f s (%.1f Mbit/s)", dc->o.bulk,
			            b->bulk_secs, (double)dc->o.bulk * 8 / b->bulk_secs / 1e6);
			dc_event(dc, "bulk-done", dc_event_data_path(dc, false), true,
			         "\"bulk-ok\": the peer has all %lu bytes, %.3f s = %.1f Mbit/s",
			         dc->o.bulk, b->bulk_secs,
			         (double)dc->o.bulk * 8 / b->bulk_secs / 1e6);
			my_done(dc);
		}
	} else if (strcmp(msg, "done") == 0) {
		dc->peer_done = true;
		dc_event(dc, "done-received", dc_event_data_path(dc, false), true,
		         "\"done\" from the peer");
		maybe_finish(dc);
	}
}

void dc_bench_writable(struct dc *dc)
{
	if (dc->bench && B(dc)->bulk_sending)
		bulk_pump(dc);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void dc_bench_stats(struct dc *dc, struct dc_bench_stats *st)
{
	struct bench *b = dc->bench;
	double sum = 0, *s;

	memset(st, 0, sizeof(*st));
	if (!b)
		return;
	st->pings_sent = b->sent;
	st->pongs = b->pongs;
	st->bulk_bytes = b->bulk_secs ? dc->o.bulk : 0;
	st->bulk_secs = b->bulk_secs;
	if (!b->pongs)
		return;
	s = g_memdup2(b->rtt, sizeof(double) * b->pongs);
	qsort(s, b->pongs, sizeof(double), cmp_double);
	for (unsigned i = 0; i < b->pongs; i++)
		sum += s[i];
	st->rtt_min = s[0];
	st->rtt_avg = sum / b->pongs;
	{
		unsigned k = (unsigned)((95 * b->pongs + 99) / 100);

		st->rtt_p95 = s[k ? k - 1 : 0];
	}
	g_free(s);
}

void dc_bench_free(struct dc *dc)
{
	struct bench *b = dc->bench;

	if (!b)
		return;
	if (b->timer)
		g_source_remove(b->timer);
	if (b->shutdown_timer)
		g_source_remove(b->shutdown_timer);
	g_free(b->sent_at);
	g_free(b->rtt);
	g_free(b);
	dc->bench = NULL;
}
