/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gio.c - where the tap (tap.c) gets its bytes: the three GIO calls through
 * which libnice's sockets send and receive (udp-bsd.c, tcp-bsd.c, socket.c
 * in libnice 0.1.21 and upstream), defined here so that the dynamic linker
 * binds libnice's calls to them (an executable's symbols come first; the
 * link keeps them exported, see CMakeLists.txt). Each calls GIO's own
 * (dlsym RTLD_NEXT), then hands the bytes that really went out or came in to
 * the tap, unchanged. Nothing is delayed, altered or sent.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>

#include "dc.h"

/* Large enough for a whole TURN frame (65535 + headers). */
#define SCRATCH (65535 + 24)

/* The first n bytes of a vector list, contiguous: the first vector itself when
 * it holds them, else a copy into buf (at most cap). Returns the length. */
static size_t gather_in(const GInputVector *v, gint nv, size_t n, const uint8_t **out,
                        uint8_t *buf, size_t cap)
{
	size_t got = 0;

	if (nv != 0 && v[0].size >= n) {
		*out = v[0].buffer;
		return n;
	}
	for (gint i = 0; (nv < 0 ? v[i].buffer != NULL : i < nv) && got < n && got < cap; i++) {
		size_t k = MIN(v[i].size, MIN(n, cap) - got);

		memcpy(buf + got, v[i].buffer, k);
		got += k;
	}
	*out = buf;
	return got;
}

static size_t gather_out(const GOutputVector *v, gint nv, size_t n, const uint8_t **out,
                         uint8_t *buf, size_t cap)
{
	size_t got = 0;

	if (nv != 0 && v[0].size >= n) {
		*out = v[0].buffer;
		return n;
	}
	for (gint i = 0; (nv < 0 ? v[i].buffer != NULL : i < nv) && got < n && got < cap; i++) {
		size_t k = MIN(v[i].size, MIN(n, cap) - got);

		memcpy(buf + got, v[i].buffer, k);
		got += k;
	}
	*out = buf;
	return got;
}

/* ---- the GIO calls libnice makes ------------------------------------------- */

typedef gssize (*recv_msg_fn)(GSocket *, GSocketAddress **, GInputVector *, gint,
                              GSocketControlMessage ***, gint *, gint *, GCancellable *,
                              GError **);
typedef gssize (*send_msg_fn)(GSocket *, GSocketAddress *, GOutputVector *, gint,
                              GSocketControlMessage **, gint, gint, GCancellable *,
                              GError **);
typedef gint (*send_msgs_fn)(GSocket *, GOutputMessage *, guint, gint, GCancellable *,
                             GError **);

static void *real(const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);

	if (!f) {
		/* cannot happen with a GIO libnice links against: nothing can work */
		fprintf(stderr, "dc-client: %s not found in GIO: %s\n", name, dlerror());
		exit(1);
	}
	return f;
}

static _Thread_local uint8_t scratch[SCRATCH];

gssize g_socket_receive_message(GSocket *socket, GSocketAddress **address,
                                GInputVector *vectors, gint num_vectors,
                                GSocketControlMessage ***messages, gint *num_messages,
                                gint *flags, GCancellable *cancellable, GError **error)
{
	static recv_msg_fn fn;
	const uint8_t *b;
	gssize n;
	size_t len;

	if (!g_atomic_pointer_get(&fn))
		g_atomic_pointer_set(&fn, (recv_msg_fn)real("g_socket_receive_message"));
	n = fn(socket, address, vectors, num_vectors, messages, num_messages, flags,
	       cancellable, error);
	if (n <= 0 || !vectors || (flags && (*flags & G_SOCKET_MSG_PEEK)))
		return n;
	len = gather_in(vectors, num_vectors, (size_t)n, &b, scratch, sizeof(scratch));
	if (dc_tap_wanted(socket, b, len))
		dc_tap_bytes(socket, address ? *address : NULL, false, b, len);
	return n;
}

gssize g_socket_send_message(GSocket *socket, GSocketAddress *address, GOutputVector *vectors,
                             gint num_vectors, GSocketControlMessage **messages,
                             gint num_messages, gint flags, GCancellable *cancellable,
                             GError **error)
{
	static send_msg_fn fn;
	const uint8_t *b;
	gssize n;
	size_t len;

	if (!g_atomic_pointer_get(&fn))
		g_atomic_pointer_set(&fn, (send_msg_fn)real("g_socket_send_message"));
	n = fn(socket, address, vectors, num_vectors, messages, num_messages, flags,
	       cancellable, error);
	if (n <= 0 || !vectors)
		return n;
	len = gather_out(vectors, num_vectors, (size_t)n, &b, scratch, sizeof(scratch));
	if (dc_tap_wanted(socket, b, len))
		dc_tap_bytes(socket, address, true, b, len);
	return n;
}

gint g_socket_send_messages(GSocket *socket, GOutputMessage *messages, guint num_messages,
                            gint flags, GCancellable *cancellable, GError **error)
{
	static send_msgs_fn fn;
	gint n;

	if (!g_atomic_pointer_get(&fn))
		g_atomic_pointer_set(&fn, (send_msgs_fn)real("g_socket_send_messages"));
	n = fn(socket, messages, num_messages, flags, cancellable, error);
	for (gint i = 0; i < n; i++) {
		const GOutputMessage *m = &messages[i];
		const uint8_t *b;
		size_t len;

		if (!m->bytes_sent || !m->vectors)
			continue;
		len = gather_out(m->vectors, (gint)m->num_vectors, m->bytes_sent, &b, scratch,
		                 sizeof(scratch));
		if (dc_tap_wanted(socket, b, len))
			dc_tap_bytes(socket, m->address, true, b, len);
	}
	return n;
}

