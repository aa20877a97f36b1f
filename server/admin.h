/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * admin.h - the admin socket turnpikectl talks to.
 *
 * admin = "unix:PATH" (default /run/turnpike/admin.sock): a stream socket of
 * mode 0600, and each peer's credentials are checked (SO_PEERCRED: root or
 * the server's own user). admin = "tcp:ADDR:PORT" on loopback needs the
 * admin-token as the first line. Runs on worker 0's loop.
 *
 * The protocol: the client sends one line, a command and its arguments
 * separated by spaces, each argument key=value with the value
 * percent-encoded; the server answers with one JSON object and closes. An
 * error is {"error": "..."}. Commands: status, sessions [user=U],
 * kill user=U | kill id=ID, drain [deadline=S], undrain, reload,
 * log-level level=L, stats.
 */
#ifndef TP_ADMIN_H
#define TP_ADMIN_H

#include "server.h"

/* What the admin socket asks of the process (main.c). */
struct tp_control {
	void (*reload)(void *arg);
	void (*drain)(void *arg, uint32_t deadline);   /* seconds */
	void (*undrain)(void *arg);
	void *arg;
};

struct tp_admin;

/* Open the listener of s->conf->admin (s is worker 0). NULL when not
 * configured or on failure (err says why; the server runs without it). */
struct tp_admin *tp_admin_open(struct tp_srv *s, const struct tp_control *ctl, char *err,
                               size_t errlen);
void tp_admin_free(struct tp_admin *a);

/* Percent-decoding of an argument value (pure; exposed for tests). Returns
 * the decoded length, or -1 for a bad escape or a value too long for cap. */
long tp_admin_unescape(const char *in, size_t n, char *out, size_t cap);

#endif
