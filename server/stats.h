/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stats.h - the counters of one worker, and snapshots that add them up.
 *
 * Each worker writes its own struct tp_stats, plainly, from its own thread:
 * no atomics on the packet path. A snapshot is taken on each worker's own
 * loop (worker.c's tp_worker_collect) and the copies are summed with
 * tp_stats_add, so a reader never looks at a counter another thread is
 * writing. Gauges (what exists now) are filled in at snapshot time.
 *
 * Drops are counted here, never logged per packet.
 */
#ifndef TP_STATS_H
#define TP_STATS_H

#include <stdint.h>

/* Request methods as counted (index of tp_stats.req's first dimension). */
enum tp_stat_method {
	TP_SM_BINDING, TP_SM_ALLOCATE, TP_SM_REFRESH, TP_SM_CREATE_PERMISSION,
	TP_SM_CHANNEL_BIND, TP_SM_CONNECT, TP_SM_CONNECTION_BIND, TP_SM_OTHER, TP_SM_COUNT
};

/* Results as counted: success, then the error codes a server sends. */
#define TP_STAT_CODES { 0, 300, 400, 401, 403, 420, 437, 438, 440, 441, 442, 443, 446, 447, \
                        486, 500, 508, 999 }
enum { TP_SR_COUNT = 18 };

/* Client transports (index: TP_LISTEN_UDP..TP_LISTEN_DTLS; 0 unused). */
enum { TP_ST_COUNT = 5 };
enum tp_stat_dir { TP_SD_TO_PEER, TP_SD_TO_CLIENT };

struct tp_stats {
	uint64_t rx_msgs, tx_msgs;
	uint64_t req[TP_SM_COUNT][TP_SR_COUNT];   /* answered requests by method, result */

	/* authentication */
	uint64_t auth_fail_unknown, auth_fail_integrity, auth_fail_expired, auth_fail_nonce;
	uint64_t auth_throttled;    /* requests dropped unchecked (password guessing) */

	/* relayed application data, by direction and the client's transport */
	uint64_t relay_pkts[2][TP_ST_COUNT], relay_bytes[2][TP_ST_COUNT];

	/* drops */
	uint64_t drop_malformed, drop_not_stun, drop_rate, drop_no_alloc;
	uint64_t drop_no_perm, drop_policy, drop_too_big, drop_slow, drop_bandwidth;
	uint64_t drop_reply;        /* replies that could not be built (too large) */
	uint64_t kernel_drops;      /* a UDP receive buffer was full (SO_RXQ_OVFL) */
	uint64_t send_errors, icmp_rx;
	uint64_t conn_timeouts, conn_refused;
	uint64_t drop_proxy;        /* stream connections refused over the PROXY protocol:
	                               a header missing, malformed or from an untrusted source */

	/* allocations made and released */
	uint64_t allocs_created, allocs_deleted;
	/* what allocations that ended had relayed (coturn's turn_traffic_*): from and
	 * to the client, from and to peers */
	uint64_t fin_rcvp, fin_rcvb, fin_sentp, fin_sentb;
	uint64_t fin_peer_rcvp, fin_peer_rcvb, fin_peer_sentp, fin_peer_sentb;

	/* kernel offload (offload_srv.c): channels installed / refused by the
	 * kernel, and what the kernel relayed (also in relay_pkts/bytes) */
	uint64_t offload_installed, offload_install_failures;
	uint64_t offload_pkts[2], offload_bytes[2];  /* by enum tp_stat_dir */

	/* gauges, filled in by the snapshot */
	uint64_t allocs[TP_ST_COUNT][2];          /* by client transport, relay family v4/v6 */
	uint64_t allocations, permissions, channels;
	uint64_t stream_conns, dtls_sessions, peer_conns;
	uint64_t offload_channels;                /* channels the kernel relays now */
};

/* The index of a STUN method / result code. */
enum tp_stat_method tp_stats_method(uint16_t method);
unsigned tp_stats_result(uint16_t code);
/* The code of result index i (0: success), and a method's name. */
uint16_t tp_stats_code(unsigned i);
const char *tp_stats_method_name(enum tp_stat_method m);

/* Count an answered request. */
void tp_stats_answer(struct tp_stats *st, uint16_t method, uint16_t code);
/* dst += src, every field. */
void tp_stats_add(struct tp_stats *dst, const struct tp_stats *src);

#endif
