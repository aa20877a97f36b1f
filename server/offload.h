/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * offload.h - the kernel datapath for established UDP channels (issue 15):
 * load server/bpf/relay.bpf.c, attach it to TC ingress of the interfaces that
 * carry the server's addresses, and install / remove one channel at a time.
 *
 * The program relays, for every installed channel, ChannelData from the
 * client to the peer (header and padding stripped, sent from the relay
 * address) and the peer's datagrams to the client (ChannelData header added,
 * sent from the listener address), counting packets and data bytes per
 * channel. Every other datagram reaches the server's sockets as before.
 * User space stays the control plane: it decides what to install and when
 * to remove it, and reads the counters.
 *
 * libbpf only; no libevent. All functions are thread-safe. Errors are 0 or
 * -errno; tp_offload_open also writes a one-line reason into err.
 *
 * Requirements: root or CAP_BPF + CAP_NET_ADMIN (checked by tp_offload_open),
 * Linux 6.1 or later (verified there; the helpers used exist since 5.10), and
 * Ethernet-type interfaces on the paths to clients and peers (checked per
 * channel: a channel whose traffic would use lo or a tunnel stays in user
 * space). Built only when clang, bpftool and libbpf were found at build time;
 * otherwise tp_offload_open fails with -ENOTSUP and says "not built in".
 *
 * Where it attaches: at open, to the Ethernet interfaces that carry the local
 * addresses; and, as channels are added, to the interfaces the routing table
 * uses from the listener to the client and from the relay address to the
 * peer (which are also the egress interfaces of the rewritten datagrams; with
 * symmetric routing the other direction arrives there). So addresses on lo
 * (anycast, the netns lab) work. Interfaces and routes are read in the network
 * namespace current at open and at each chan_add; egress and MTU are fixed
 * when the channel is added (re-add it after a routing change).
 *
 * Lifetime of the attachment: on kernels with tcx (6.6+) the program is
 * attached through BPF links owned by this process, so it is detached when
 * the process exits, however it exits. On older kernels it is a cls_bpf
 * filter (clsact), which outlives the process: the program then stops
 * relaying on its own within TP_OFFLOAD_LEASE_MS after the process died (a
 * lease this module renews from a thread), relays nothing for a relay address
 * no socket is bound to any more, and the next tp_offload_open replaces the
 * stale filter.
 */
#ifndef TP_OFFLOAD_H
#define TP_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct tp_offload;                                 /* opaque */

#define TP_OFFLOAD_LEASE_MS 3000                   /* renewed every 1000 ms */
#define TP_OFFLOAD_DEFAULT_CHANS 16384

enum tp_offload_attach {
	TP_OFFLOAD_ATTACH_AUTO,     /* tcx where the kernel has it, else cls_bpf */
	TP_OFFLOAD_ATTACH_TCX,      /* tcx links only (6.6+) */
	TP_OFFLOAD_ATTACH_TC,       /* cls_bpf filters only */
	TP_OFFLOAD_ATTACH_NONE,     /* load (verify) only: for tests and checks */
};

struct tp_offload_opts {
	unsigned max_chans;                  /* channels at once; 0: TP_OFFLOAD_DEFAULT_CHANS */
	enum tp_offload_attach attach;
	bool verbose;                        /* libbpf's messages (verifier log) to stderr */
};

/*
 * Load the program and attach it to TC ingress of every Ethernet interface
 * that carries one of the local addresses (listeners and relay addresses; a
 * wildcard means every Ethernet interface that is up; none is fine, see
 * above). opts may be NULL. 0 and *out, or -errno with a reason in err:
 * -ENOTSUP (not built in, or no bpf()), -EPERM (not privileged),
 * -EADDRNOTAVAIL (no interface carries a concrete local address), -EINVAL
 * (bad options, or the verifier rejected the program), or the attach error.
 */
int tp_offload_open(const struct tp_addr *local, size_t nlocal,
                    const struct tp_offload_opts *opts, struct tp_offload **out, char *err,
                    size_t errlen);

/* Detach from every interface, stop the lease thread, free. NULL is a no-op. */
void tp_offload_close(struct tp_offload *o);

/* How the program is attached ("tcx", "tc", "none"). */
const char *tp_offload_attach_name(const struct tp_offload *o);

/* One channel, UDP on both legs: the client's 5-tuple (client -> listener),
 * the allocation's relay transport address and the bound peer. All four must
 * be of one family, listener and relay concrete (not wildcard) addresses. */
struct tp_offload_chan {
	struct tp_addr client, listener;
	struct tp_addr relay, peer;
	uint16_t chan;                       /* 0x4000..0x7FFF (0x4FFF unless legacy) */
};

/*
 * Install a channel; its counters start at zero. Any error leaves the channel
 * to user space: -EEXIST if the client 5-tuple and channel, or the relay/peer
 * pair, is installed already; -ENOSPC when max_chans are installed;
 * -EAFNOSUPPORT for mixed families; -EINVAL for a bad channel number, port or
 * wildcard address; -EADDRNOTAVAIL when no interface carries the relay or
 * listener address; -ENETUNREACH without a route to the client or peer;
 * -ENODEV when that route leaves by a non-Ethernet interface; an attach error.
 */
int tp_offload_chan_add(struct tp_offload *o, const struct tp_offload_chan *c);

struct tp_offload_counts {
	uint64_t c2p_pkts, c2p_bytes, p2c_pkts, p2c_bytes;
};

/* Remove a channel; the kernel path stops at once. If last is not NULL it
 * receives the channel's final counters. -ENOENT if it was not installed. */
int tp_offload_chan_del(struct tp_offload *o, const struct tp_offload_chan *c,
                        struct tp_offload_counts *last);

/* The per-CPU counters of one channel, summed (bytes = application data:
 * ChannelData payload without header and padding, the peer's payload). */
int tp_offload_chan_counts(struct tp_offload *o, const struct tp_offload_chan *c,
                           struct tp_offload_counts *out);

/* What the program did with the UDP datagrams it saw since open, by reason
 * (relayed either way, or passed to the stack and why). */
enum tp_offload_reason {
	TP_OFFLOAD_C2P, TP_OFFLOAD_P2C, TP_OFFLOAD_NO_ENTRY, TP_OFFLOAD_NOT_HOST,
	TP_OFFLOAD_IP_OPTS, TP_OFFLOAD_FRAG, TP_OFFLOAD_IP_LEN, TP_OFFLOAD_IP_CSUM,
	TP_OFFLOAD_CD_LEN, TP_OFFLOAD_TTL, TP_OFFLOAD_CSUM_PARTIAL, TP_OFFLOAD_NO_CSUM,
	TP_OFFLOAD_GSO, TP_OFFLOAD_MTU, TP_OFFLOAD_NO_SOCKET, TP_OFFLOAD_LEASE,
	TP_OFFLOAD_ERROR, TP_OFFLOAD_NREASONS
};
int tp_offload_reasons(struct tp_offload *o, uint64_t out[TP_OFFLOAD_NREASONS]);
const char *tp_offload_reason_name(enum tp_offload_reason r);

/* The program's fd (for tests that run it with BPF_PROG_TEST_RUN), or -1. */
int tp_offload_prog_fd(const struct tp_offload *o);

/* Renew the lease now (the thread does it every second; tests stop the thread
 * with tp_offload_lease_hold to see the program give up). */
int tp_offload_lease_renew(struct tp_offload *o);
void tp_offload_lease_hold(struct tp_offload *o, bool hold);

#endif
