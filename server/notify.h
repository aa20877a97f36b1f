/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * notify.h - the systemd service-manager notification protocol (sd_notify),
 * without libsystemd: one datagram of "KEY=VALUE\n..." lines to the unix
 * socket named by $NOTIFY_SOCKET, which systemd sets for Type=notify units.
 *
 * What the server sends (conf/turnpike.service relies on it):
 *   READY=1                 once every listener is bound and the workers run
 *   RELOADING=1 ...         when a SIGHUP (or `turnpikectl reload`) starts a
 *                           reload (tp_notify_reloading), then READY=1 when done
 *   STOPPING=1              when SIGTERM/SIGINT (or the end of a drain) starts
 *                           the shutdown
 *   STATUS=...              a line for `systemctl status` (tp_notifyf)
 */
#ifndef TP_NOTIFY_H
#define TP_NOTIFY_H

/*
 * Send state (e.g. "READY=1" or "STATUS=draining\nREADY=1") as one datagram to
 * $NOTIFY_SOCKET: an absolute path, or an abstract-namespace name written with
 * a leading '@'. Returns 0 when sent, and 0 without sending anything when
 * NOTIFY_SOCKET is unset or empty (not started by systemd). Otherwise a
 * negative errno: -EINVAL (state empty, or NOTIFY_SOCKET neither absolute nor
 * '@'), -ENAMETOOLONG (the name does not fit a sockaddr_un), -EAFNOSUPPORT
 * (another address form, e.g. systemd 254's "vsock:"), or what socket() and
 * sendto() returned (-ENOENT, -ECONNREFUSED ...). Never blocks: the datagram
 * is sent MSG_DONTWAIT. Safe from any thread; opens and closes its own socket.
 */
int tp_notify(const char *state);

/* printf-style tp_notify (the message is cut at 1024 bytes; -EINVAL if that
 * would cut it). */
int tp_notifyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "RELOADING=1\nMONOTONIC_USEC=<CLOCK_MONOTONIC now>": systemd 253's
 * Type=notify-reload wants the timestamp with RELOADING=1; older versions
 * ignore the field. Follow it with tp_notify("READY=1") when the reload ends
 * (whether it succeeded or not). */
int tp_notify_reloading(void);

#endif
