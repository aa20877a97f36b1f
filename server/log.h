/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * log.h - levelled logging, one line per event, with the event's context
 * appended nginx-style:
 *   W turn: refresh rejected: allocation expired [udp 203.0.113.7:5100 relay 198.51.100.2:49170 user=alice]
 * The level is checked before arguments are evaluated. Nothing per packet above
 * debug. The level is the one process-wide setting (an atomic, set at start and
 * on reload); everything else travels in structs.
 */
#ifndef TP_LOG_H
#define TP_LOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "proto.h"

enum tp_log_level { TP_LOG_ERROR = 0, TP_LOG_WARN, TP_LOG_INFO, TP_LOG_DEBUG };

extern atomic_int tp_log_level;
/* log-format = "json": one JSON object per line instead of text. */
extern atomic_bool tp_log_json;

/* Context appended to a line; any field may be NULL/zero. */
struct tp_logctx {
	const char *transport;          /* "udp", "tcp", "tls", "dtls" */
	const struct tp_addr *client;
	const struct tp_addr *relay;
	const char *user;
	size_t user_len;                /* 0: user is NUL-terminated */
};

void tp_log_write(int level, const struct tp_logctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define tp_log(level, ctx, ...)                                                     \
	do {                                                                        \
		if ((level) <= atomic_load_explicit(&tp_log_level, memory_order_relaxed)) \
			tp_log_write((level), (ctx), __VA_ARGS__);                  \
	} while (0)

#define tp_err(ctx, ...)   tp_log(TP_LOG_ERROR, ctx, __VA_ARGS__)
#define tp_warn(ctx, ...)  tp_log(TP_LOG_WARN, ctx, __VA_ARGS__)
#define tp_info(ctx, ...)  tp_log(TP_LOG_INFO, ctx, __VA_ARGS__)
#define tp_debug(ctx, ...) tp_log(TP_LOG_DEBUG, ctx, __VA_ARGS__)

/* "error", "warn", "info", "debug" -> level, or -1. */
int tp_log_level_parse(const char *s);
const char *tp_log_level_name(int level);

#endif
