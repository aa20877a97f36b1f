/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * redis_url.h - the cluster store's connection URL and node id (issue 14):
 * parsing and checking only, no I/O, so the configuration can check them at
 * load time (conf.c) without depending on the store itself (redis.h).
 */
#ifndef TP_REDIS_URL_H
#define TP_REDIS_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TP_REDIS_NODE_MAX 64          /* bytes of a node id */

/* A parsed connection URL:
 *   redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]    (PORT 6379, DB 0)
 *   unix://[[USER]:PASSWORD@]/PATH[?db=N]
 *   rediss://...                                   (TLS: refused, see below)
 * HOST is a name, an IPv4 address or [IPv6]. Percent-escapes (%40 ...) are
 * decoded in USER and PASSWORD. */
struct tp_redis_url {
	bool is_unix;
	char host[256];
	uint16_t port;
	char path[108];               /* sun_path */
	char user[128];               /* "" = the default user (AUTH PASSWORD) */
	char password[256];           /* "" = no AUTH */
	uint32_t db;                  /* SELECT (0..65535) */
};

/*
 * Parse s into u. 0, or -EINVAL with *why a static reason. "rediss://" is
 * -ENOTSUP: TLS needs hiredis >= 1.0 (hiredis_ssl); Debian 12 ships hiredis
 * 0.14.1, which has no TLS. Use a unix socket or a TLS tunnel (stunnel,
 * spiped) on loopback instead.
 */
int tp_redis_url_parse(const char *s, struct tp_redis_url *u, const char **why);
/* url with its password replaced by "<hidden>" (--print-config), in out. */
void tp_redis_url_mask(const char *url, char *out, size_t cap);
/* A node id: 1..64 bytes of A-Z a-z 0-9 . - _ (a host name fits). */
bool tp_redis_node_ok(const char *node);

#endif
