/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * offload_chan.c - the channels of the kernel offload: a tp_offload_chan
 * becomes a c2p and a p2c entry (bpf/relay_maps.h) sharing a per-CPU counter
 * slot; the counters and the reasons are read back summed over the CPUs.
 * The channels live only in the kernel maps (c2p holds the slot).
 */
#ifdef TP_HAVE_OFFLOAD

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "bpf/relay_maps.h"
#include "offload_priv.h"

_Static_assert((int)TP_OFFLOAD_NREASONS == (int)TP_OFL_R_COUNT, "reason enums out of step");
_Static_assert(sizeof(struct tp_ofl_c2p_key) == 40 && sizeof(struct tp_ofl_p2c_key) == 40,
               "map keys must have no implicit padding");

struct keys {
	struct tp_ofl_c2p_key ck;
	struct tp_ofl_p2c_key pk;
	struct tp_addr client, listener, relay, peer;
};

static int make_keys(const struct tp_offload_chan *c, struct keys *k)
{
	uint8_t fam;

	memset(k, 0, sizeof(*k));
	k->client = c->client;
	k->listener = c->listener;
	k->relay = c->relay;
	k->peer = c->peer;
	tp_ofl_addr_normalize(&k->client);
	tp_ofl_addr_normalize(&k->listener);
	tp_ofl_addr_normalize(&k->relay);
	tp_ofl_addr_normalize(&k->peer);
	if (k->client.family != AF_INET && k->client.family != AF_INET6)
		return -EAFNOSUPPORT;
	if (k->listener.family != k->client.family || k->relay.family != k->client.family ||
	    k->peer.family != k->client.family)
		return -EAFNOSUPPORT;
	if (c->chan < TP_CHAN_MIN || c->chan > TP_CHAN_MAX_RFC5766 || !c->client.port ||
	    !c->listener.port || !c->relay.port || !c->peer.port ||
	    tp_ofl_addr_is_any(&k->listener) || tp_ofl_addr_is_any(&k->relay))
		return -EINVAL;
	fam = k->client.family == AF_INET ? TP_OFL_FAMILY_V4 : TP_OFL_FAMILY_V6;
	memcpy(k->ck.client, k->client.ip, 16);
	memcpy(k->ck.listener, k->listener.ip, 16);
	k->ck.client_port = htons(k->client.port);
	k->ck.listener_port = htons(k->listener.port);
	k->ck.chan = htons(c->chan);
	k->ck.family = fam;
	memcpy(k->pk.peer, k->peer.ip, 16);
	memcpy(k->pk.relay, k->relay.ip, 16);
	k->pk.peer_port = htons(k->peer.port);
	k->pk.relay_port = htons(k->relay.port);
	k->pk.family = fam;
	return 0;
}

static int read_counts(struct tp_offload *o, uint32_t slot, struct tp_offload_counts *out)
{
	struct tp_ofl_counts *per = calloc((size_t)o->ncpus, sizeof(*per));

	memset(out, 0, sizeof(*out));
	if (!per)
		return -ENOMEM;
	if (bpf_map_lookup_elem(o->counts_fd, &slot, per) != 0) {
		int e = -errno;

		free(per);
		return e;
	}
	for (int i = 0; i < o->ncpus; i++) {
		out->c2p_pkts += per[i].c2p_pkts;
		out->c2p_bytes += per[i].c2p_bytes;
		out->p2c_pkts += per[i].p2c_pkts;
		out->p2c_bytes += per[i].p2c_bytes;
	}
	free(per);
	return 0;
}

static int zero_counts(struct tp_offload *o, uint32_t slot)
{
	struct tp_ofl_counts *per = calloc((size_t)o->ncpus, sizeof(*per));
	int e = 0;

	if (!per)
		return -ENOMEM;
	if (bpf_map_update_elem(o->counts_fd, &slot, per, BPF_ANY) != 0)
		e = -errno;
	free(per);
	return e;
}

/* Free slots are reused oldest first, so a program still running on another
 * CPU with a just-deleted entry cannot count into a channel installed the
 * next moment. */
static void slot_free(struct tp_offload *o, uint32_t slot)
{
	o->free_slots[(o->free_head + o->free_count) % o->max_chans] = slot;
	o->free_count++;
}

int tp_offload_chan_add(struct tp_offload *o, const struct tp_offload_chan *c)
{
	struct tp_ofl_c2p_val cv;
	struct tp_ofl_p2c_val pv;
	struct keys k;
	uint32_t slot = 0;
	unsigned mtu;
	bool have_slot = false, have_p2c = false;
	int e = make_keys(c, &k);

	if (e)
		return e;
	memset(&cv, 0, sizeof(cv));
	memset(&pv, 0, sizeof(pv));
	pthread_mutex_lock(&o->mu);
	e = tp_ofl_egress(o, &k.relay, &k.peer, &cv.ifindex, &mtu);
	if (!e)
		e = tp_ofl_egress(o, &k.listener, &k.client, &pv.ifindex, &mtu);
	if (e)
		goto out;
	if (o->free_count == 0) {
		e = -ENOSPC;
		goto out;
	}
	slot = o->free_slots[o->free_head];
	o->free_head = (o->free_head + 1) % o->max_chans;
	o->free_count--;
	have_slot = true;
	e = zero_counts(o, slot);
	if (e)
		goto out;

	memcpy(cv.relay, k.relay.ip, 16);
	memcpy(cv.peer, k.peer.ip, 16);
	cv.relay_port = k.pk.relay_port;
	cv.peer_port = k.pk.peer_port;
	cv.slot = slot;
	memcpy(pv.listener, k.listener.ip, 16);
	memcpy(pv.client, k.client.ip, 16);
	pv.listener_port = k.ck.listener_port;
	pv.client_port = k.ck.client_port;
	pv.chan = k.ck.chan;
	pv.mtu = (uint16_t)(mtu > 65535 ? 65535 : mtu);
	pv.slot = slot;
	if (bpf_map_update_elem(o->p2c_fd, &k.pk, &pv, BPF_NOEXIST) != 0) {
		e = -errno;
		goto out;
	}
	have_p2c = true;
	if (bpf_map_update_elem(o->c2p_fd, &k.ck, &cv, BPF_NOEXIST) != 0) {
		e = -errno;
		goto out;
	}
	pthread_mutex_unlock(&o->mu);
	return 0;
out:
	if (have_p2c)
		(void)bpf_map_delete_elem(o->p2c_fd, &k.pk);
	if (have_slot)
		slot_free(o, slot);
	pthread_mutex_unlock(&o->mu);
	return e == -E2BIG ? -ENOSPC : e;
}

int tp_offload_chan_del(struct tp_offload *o, const struct tp_offload_chan *c,
                        struct tp_offload_counts *last)
{
	struct tp_ofl_c2p_val cv;
	struct keys k;
	int e = make_keys(c, &k);

	if (last)
		memset(last, 0, sizeof(*last));
	if (e)
		return e;
	pthread_mutex_lock(&o->mu);
	if (bpf_map_lookup_elem(o->c2p_fd, &k.ck, &cv) != 0) {
		e = -ENOENT;
		goto out;
	}
	(void)bpf_map_delete_elem(o->c2p_fd, &k.ck);
	(void)bpf_map_delete_elem(o->p2c_fd, &k.pk);
	if (last)
		(void)read_counts(o, cv.slot, last);
	slot_free(o, cv.slot);
out:
	pthread_mutex_unlock(&o->mu);
	return e;
}

int tp_offload_chan_counts(struct tp_offload *o, const struct tp_offload_chan *c,
                           struct tp_offload_counts *out)
{
	struct tp_ofl_c2p_val cv;
	struct keys k;
	int e = make_keys(c, &k);

	memset(out, 0, sizeof(*out));
	if (e)
		return e;
	if (bpf_map_lookup_elem(o->c2p_fd, &k.ck, &cv) != 0)
		return -ENOENT;
	return read_counts(o, cv.slot, out);
}

int tp_offload_reasons(struct tp_offload *o, uint64_t out[TP_OFFLOAD_NREASONS])
{
	uint64_t *per = calloc((size_t)o->ncpus, sizeof(*per));

	memset(out, 0, sizeof(uint64_t) * TP_OFFLOAD_NREASONS);
	if (!per)
		return -ENOMEM;
	for (uint32_t r = 0; r < TP_OFFLOAD_NREASONS; r++) {
		if (bpf_map_lookup_elem(o->reasons_fd, &r, per) != 0)
			continue;
		for (int i = 0; i < o->ncpus; i++)
			out[r] += per[i];
	}
	free(per);
	return 0;
}

#endif /* TP_HAVE_OFFLOAD */
