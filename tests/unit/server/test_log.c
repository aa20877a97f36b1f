/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_log.c - server/log.c: one line per event, and nothing a client sends
 * can forge a line or reach a terminal as a control sequence: the message's
 * and the user name's bytes outside printable ASCII become \xNN, and the user
 * name (network input) also has space, ']' and '\' escaped so it cannot fake
 * the context block. Lines are captured by pointing stderr at a file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "tp_test.h"

static char out[16384];

/* Run one tp_log_write with stderr on a temporary file; the output in out. */
static size_t capture(int level, const struct tp_logctx *ctx, const char *msg)
{
	char path[] = "/tmp/tp-test-log-XXXXXX";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	FILE *f;
	size_t n = 0;

	if (fd < 0 || saved < 0)
		return 0;
	dup2(fd, STDERR_FILENO);
	tp_log_write(level, ctx, "%s", msg);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
	f = fopen(path, "r");
	if (f) {
		n = fread(out, 1, sizeof(out) - 1, f);
		fclose(f);
	}
	out[n] = '\0';
	unlink(path);
	return n;
}

static int evaluated;

static const char *side_effect(void)
{
	evaluated++;
	return "x";
}

static size_t count(const char *s, char ch)
{
	size_t k = 0;

	for (; *s; s++)
		k += *s == ch;
	return k;
}

int main(void)
{
	struct tp_addr client;
	size_t n;

	tp_addr_parse(&client, "203.0.113.7:5100", 0);

	/* a plain line: time, level letter, message, context */
	struct tp_logctx ctx = { .transport = "udp", .client = &client, .user = "alice" };

	n = capture(TP_LOG_INFO, &ctx, "turn: allocation created");
	CHECK(n > 0 && out[n - 1] == '\n');
	CHECK_EQ(count(out, '\n'), 1);
	CHECK(strstr(out, " I turn: allocation created [udp 203.0.113.7:5100 user=alice]\n") != NULL);

	/* control characters in the message: escaped, still one line */
	n = capture(TP_LOG_WARN, NULL, "a\nb\rc\x1b[31md\x7f");
	CHECK_EQ(count(out, '\n'), 1);
	CHECK(strstr(out, " W a\\x0ab\\x0dc\\x1b[31md\\x7f\n") != NULL);
	CHECK(strchr(out, '\x1b') == NULL);

	/* a user name that tries to close the block and start a new line, given
	 * with its length (not NUL-terminated: it points into a datagram) */
	static const char evil[] = "eve] 2026-01-01T00:00:00.000Z E forged\\\n\0tail";

	ctx.user = evil;
	ctx.user_len = sizeof(evil) - 1;
	n = capture(TP_LOG_INFO, &ctx, "stun: 401");
	CHECK_EQ(count(out, '\n'), 1);
	CHECK_EQ(count(out, ']'), 1);               /* only the block's own */
	CHECK(strstr(out, "user=eve\\x5d\\x202026-01-01T00:00:00.000Z\\x20E\\x20forged"
	                  "\\x5c\\x0a\\x00tail]\n") != NULL);

	/* a very long user name is cut and the block still closes */
	static char longname[4000];

	memset(longname, 'x', sizeof(longname) - 1);
	ctx.user = longname;
	ctx.user_len = 0;
	n = capture(TP_LOG_INFO, &ctx, "m");
	CHECK_EQ(count(out, '\n'), 1);
	CHECK(n < 1024);
	CHECK(strstr(out, "...]\n") != NULL);

	/* log-format = "json": one object per line, context fields as keys,
	 * everything a client sent escaped */
	atomic_store(&tp_log_json, true);
	ctx.user = "eve\"\n\xff";
	ctx.user_len = 0;
	ctx.relay = &client;
	n = capture(TP_LOG_WARN, &ctx, "turn: x\ty \"q\" \\");
	CHECK_EQ(count(out, '\n'), 1);
	CHECK(strncmp(out, "{\"ts\":\"", 7) == 0);
	CHECK(strstr(out, "\"level\":\"warn\",\"msg\":\"turn: x\\u0009y \\\"q\\\" \\\\\","
	                  "\"transport\":\"udp\",\"client\":\"203.0.113.7:5100\","
	                  "\"relay\":\"203.0.113.7:5100\",\"user\":\"eve\\\"\\u000a\\u00ff\"}\n") != NULL);
	for (size_t i = 0; i < n; i++)
		CHECK((unsigned char)out[i] < 0x7f);
	/* the longest message, every byte escaped: still one whole object */
	static char big[2000];

	memset(big, '\n', sizeof(big) - 1);
	n = capture(TP_LOG_INFO, NULL, big);
	CHECK_EQ(count(out, '\n'), 1);
	CHECK(n > 6 * 1500 && out[n - 2] == '}');
	atomic_store(&tp_log_json, false);

	/* the level is checked before the arguments are evaluated */
	atomic_store(&tp_log_level, TP_LOG_WARN);
	tp_info(NULL, "%s", side_effect());
	CHECK_EQ(evaluated, 0);
	atomic_store(&tp_log_level, TP_LOG_INFO);
	tp_info(NULL, "%s", side_effect());
	CHECK_EQ(evaluated, 1);
	TP_TEST_END();
}
