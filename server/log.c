/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * log.c - one line per event on stderr, written with a single write(2):
 *   2026-11-24T12:00:00.123Z I turn: message [udp 1.2.3.4:5 relay 5.6.7.8:9 user=alice]
 *
 * The line is built in a stack buffer and truncated (marked "...") if too long.
 * The message and the user name are sanitised: bytes outside printable ASCII
 * become \xNN, so nothing a peer sends can forge a line or reach a terminal as a
 * control sequence. The user name (network input) also has its space, ']' and
 * '\' escaped so it cannot fake the context block.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

atomic_int tp_log_level = TP_LOG_INFO;
atomic_bool tp_log_json = false;

#define LINE_MAX_LEN 2048
#define MSG_MAX_LEN  1536
#define CTX_MAX_LEN  768     /* the [...] block; a long user name is cut */
#define USER_MAX_LEN 128     /* bytes of a user name shown */

static const char *const level_names[] = { "error", "warn", "info", "debug" };
static const char level_letters[] = "EWID";

int tp_log_level_parse(const char *s)
{
	if (!s)
		return -1;
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(s, level_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *tp_log_level_name(int level)
{
	if (level < TP_LOG_ERROR || level > TP_LOG_DEBUG)
		return "?";
	return level_names[level];
}

/* A bounded line under construction; 'len' never exceeds 'cap'. */
struct line {
	char *buf;
	size_t cap;
	size_t len;
	bool full;
};

static void put(struct line *l, const char *s, size_t n)
{
	if (l->cap - l->len < n) {
		n = l->cap - l->len;
		l->full = true;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void puts_(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

/* Copy s[0..n), escaping what is not safe. strict: also space, ']' and '\'. */
static void put_clean(struct line *l, const char *s, size_t n, bool strict)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		bool esc = ch < 0x20 || ch >= 0x7f ||
		           (strict && (ch == ' ' || ch == ']' || ch == '\\'));
		if (!esc) {
			put(l, (const char *)&s[i], 1);
			continue;
		}
		char e[4] = { '\\', 'x', hex[ch >> 4], hex[ch & 15] };
		put(l, e, sizeof(e));
	}
}

static void put_time(struct line *l)
{
	struct timespec ts;
	struct tm tm;
	char b[40];

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || !gmtime_r(&ts.tv_sec, &tm)) {
		puts_(l, "0000-00-00T00:00:00.000Z");
		return;
	}
	size_t n = strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(b + n, sizeof(b) - n, ".%03ldZ", ts.tv_nsec / 1000000);
	puts_(l, b);
}

static void put_addr(struct line *l, const struct tp_addr *a)
{
	char b[64];

	if (tp_addr_fmt(a, b, sizeof(b)) < 0)
		snprintf(b, sizeof(b), "?");
	puts_(l, b);
}

static void put_ctx(struct line *l, const struct tp_logctx *c)
{
	bool any = false;

	if (!c || !(c->transport || c->client || c->relay || c->user))
		return;
	puts_(l, " [");
	if (c->transport) {
		put_clean(l, c->transport, strlen(c->transport), true);
		any = true;
	}
	if (c->client) {
		if (any)
			puts_(l, " ");
		put_addr(l, c->client);
		any = true;
	}
	if (c->relay) {
		puts_(l, any ? " relay " : "relay ");
		put_addr(l, c->relay);
		any = true;
	}
	if (c->user) {
		puts_(l, any ? " user=" : "user=");
		size_t n = c->user_len ? c->user_len : strnlen(c->user, USER_MAX_LEN + 1);
		put_clean(l, c->user, n > USER_MAX_LEN ? USER_MAX_LEN : n, true);
		if (n > USER_MAX_LEN)
			puts_(l, "...");
	}
	if (l->full && l->len > l->cap - 4)
		l->len = l->cap - 4;    /* cut: close the block all the same */
	puts_(l, l->full ? "...]" : "]");
}

/* A JSON string value: quotes, backslash, control characters and every byte
 * outside printable ASCII escaped (\u00XX), so the line is valid JSON and
 * valid UTF-8 whatever a client sent. */
static void put_json_str(struct line *l, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	puts_(l, "\"");
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\') {
			char e[2] = { '\\', (char)ch };

			put(l, e, 2);
		} else if (ch < 0x20 || ch >= 0x7f) {
			char e[6] = { '\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15] };

			put(l, e, 6);
		} else {
			put(l, (const char *)&s[i], 1);
		}
	}
	puts_(l, "\"");
}

static void put_json_field(struct line *l, const char *key, const char *v, size_t n)
{
	puts_(l, ",\"");
	puts_(l, key);
	puts_(l, "\":");
	put_json_str(l, v, n);
}

static void put_json_addr(struct line *l, const char *key, const struct tp_addr *a)
{
	char b[64];

	if (tp_addr_fmt(a, b, sizeof(b)) < 0)
		snprintf(b, sizeof(b), "?");
	put_json_field(l, key, b, strlen(b));
}

/* {"ts":...,"level":...,"msg":...,"transport":...,"client":...,"relay":...,"user":...}
 * into buf of JSON_MAX, which holds the longest message and user name even
 * with every byte escaped (6 bytes each): a JSON line is never cut. */
#define JSON_MAX (64 + 6 * MSG_MAX_LEN + 6 * USER_MAX_LEN + 256)
static size_t json_line(char *buf, size_t cap, int level, const struct tp_logctx *c,
                        const char *msg, size_t mlen)
{
	struct line l = { buf, cap - 2, 0, false };
	char ts[40];
	struct line tl = { ts, sizeof(ts) - 1, 0, false };

	put_time(&tl);
	puts_(&l, "{\"ts\":");
	put_json_str(&l, ts, tl.len);
	put_json_field(&l, "level", level_names[level], strlen(level_names[level]));
	put_json_field(&l, "msg", msg, mlen);
	if (c && c->transport)
		put_json_field(&l, "transport", c->transport, strlen(c->transport));
	if (c && c->client)
		put_json_addr(&l, "client", c->client);
	if (c && c->relay)
		put_json_addr(&l, "relay", c->relay);
	if (c && c->user) {
		size_t n = c->user_len ? c->user_len : strnlen(c->user, USER_MAX_LEN + 1);

		put_json_field(&l, "user", c->user, n > USER_MAX_LEN ? USER_MAX_LEN : n);
	}
	puts_(&l, "}");
	buf[l.len++] = '\n';
	return l.len;
}

static void write_all(const char *p, size_t left)
{
	while (left > 0) {
		ssize_t w = write(STDERR_FILENO, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;          /* nowhere to report a failing stderr */
		p += w;
		left -= (size_t)w;
	}
}

void tp_log_write(int level, const struct tp_logctx *ctx, const char *fmt, ...)
{
	char buf[LINE_MAX_LEN];
	char msg[MSG_MAX_LEN];
	char cbuf[CTX_MAX_LEN];
	struct line cl = { cbuf, sizeof(cbuf), 0, false };
	struct line l;
	va_list ap;
	int n;

	if (level < TP_LOG_ERROR)
		level = TP_LOG_ERROR;
	if (level > TP_LOG_DEBUG)
		level = TP_LOG_DEBUG;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = snprintf(msg, sizeof(msg), "(bad log format)");
	if (atomic_load_explicit(&tp_log_json, memory_order_relaxed)) {
		size_t mlen = (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1;
		char jb[JSON_MAX];

		write_all(jb, json_line(jb, sizeof(jb), level, ctx, msg, mlen));
		return;
	}

	/* The context first, so that a long message is what gets cut. */
	put_ctx(&cl, ctx);
	l = (struct line){ buf, sizeof(buf) - 4 - cl.len, 0, false };
	put_time(&l);
	char lv[3] = { ' ', level_letters[level], ' ' };
	put(&l, lv, sizeof(lv));
	put_clean(&l, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1, false);
	if ((size_t)n >= sizeof(msg) || l.full) {
		memcpy(buf + l.len, "...", 3);
		l.len += 3;
	}
	memcpy(buf + l.len, cbuf, cl.len);
	l.len += cl.len;
	buf[l.len++] = '\n';
	write_all(buf, l.len);
}
