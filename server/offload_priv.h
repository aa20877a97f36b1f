/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * offload_priv.h - the state of a tp_offload, shared by offload.c (loading,
 * attaching, the lease) and offload_chan.c (the channels). Private to them.
 */
#ifndef TP_OFFLOAD_PRIV_H
#define TP_OFFLOAD_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "offload.h"
#include "offload_if.h"

struct relay_bpf;   /* the skeleton (relay.skel.h) */

struct attachment {
	int ifindex;
	int link_fd;            /* tcx: the link; -1 for cls_bpf */
	bool tc;                /* a cls_bpf filter at TP_TC_HANDLE/TP_TC_PRIO */
};

struct tp_offload {
	struct relay_bpf *skel;
	int c2p_fd, p2c_fd, counts_fd, reasons_fd, conf_fd;
	int ncpus;
	enum tp_offload_attach mode;

	pthread_mutex_t mu;              /* everything below */
	struct tp_ofl_ifs ifs;           /* as last scanned */
	struct attachment att[TP_OFL_MAX_IFACES];
	size_t natt;
	uint32_t *free_slots;            /* FIFO ring of free counter slots */
	uint32_t max_chans, free_head, free_count;

	pthread_t lease_thread;
	pthread_cond_t lease_cv;
	bool lease_started, stop, hold;
};

/* The egress interface (and its MTU) of a datagram from src, one of our
 * addresses, to dst; attaches the program there. With o->mu held. 0 or
 * -errno (offload.c). */
int tp_ofl_egress(struct tp_offload *o, const struct tp_addr *src, const struct tp_addr *dst,
                  uint32_t *ifindex, unsigned *mtu);

#endif
