/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * offload_srv.h - the kernel offload (offload.h) from the server's side: which
 * channels the kernel relays, and what it relayed for them.
 *
 * srv.c reaches it through the hooks of the layers below: struct tp_io's
 * chan_bound (after a ChannelBind), struct tp_alloc_ops's moved and released
 * (mobility, the allocation's end), the worker's one-second tick and reload.
 * The state layer and the protocol core never call it.
 *
 * A channel is installed when all of these hold, and removed as soon as one
 * stops holding (checked at every tick, and at once on the events above):
 * the client is on a UDP listener and the allocation relays UDP; neither
 * max-bps nor user-max-bps is set (the kernel path has no token bucket:
 * capped allocations stay in user space); client and peer have one family;
 * the peer is not one of our relay addresses (relay to relay stays in user
 * space, which checks on every packet that the port is still held); the
 * peer policy accepts the peer; the channel and the peer's permission are
 * still live TP_OFL_MARGIN s from now (so the kernel never relays past an
 * expiry that user space would enforce).
 *
 * What the kernel relayed is folded into the allocation's and the worker's
 * counters every tick and when an entry is removed, so sessions, the
 * allocation-end log, per-user accounting and /metrics include it.
 *
 * One struct tp_offload for the whole server (sh->offload, thread-safe); each
 * worker keeps the entries of its own allocations (a->ofl).
 */
#ifndef TP_OFFLOAD_SRV_H
#define TP_OFFLOAD_SRV_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct tp_alloc;
struct tp_chan;
struct tp_conf;
struct tp_shared;
struct tp_srv;

#define TP_OFL_MARGIN 2          /* s: an entry goes this long before an expiry */

/* With kernel-offload: load and attach for the given local addresses (UDP
 * listeners, relay addresses) into sh->offload. On failure one warning line,
 * and sh->offload stays NULL (everything is relayed in user space). Call
 * before the workers run. */
void tp_offload_srv_open(struct tp_shared *sh, const struct tp_conf *c,
                         const struct tp_addr *local, size_t nlocal);
/* After every allocation is freed. */
void tp_offload_srv_close(struct tp_shared *sh);

/* The hooks (see above). */
void tp_offload_srv_chan_bound(struct tp_alloc *a, const struct tp_chan *ch);
void tp_offload_srv_moved(struct tp_alloc *a);
void tp_offload_srv_released(struct tp_alloc *a);
/* Every tick, and after a reload: fold the counters, drop what may no longer
 * be relayed by the kernel. */
void tp_offload_srv_tick(struct tp_srv *s);

/* Why the kernel may not relay a's channel num to peer now and for the next
 * TP_OFL_MARGIN s (the rules above), or NULL. Needs no kernel: for tests. */
const char *tp_offload_srv_refused(struct tp_alloc *a, uint16_t num, const struct tp_addr *peer);

/* Channels of a relayed by the kernel now. */
size_t tp_offload_srv_count(const struct tp_alloc *a);

#endif
