/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * offload.c - the control plane of the kernel datapath (see offload.h): loads
 * the skeleton of server/bpf/relay.bpf.c, attaches it (at open and, through
 * tp_ofl_egress, as channels need it), and keeps the owner's lease. The
 * channels are offload_chan.c's; interfaces and routes offload_if.c's.
 */
#ifdef TP_HAVE_OFFLOAD

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/relay_maps.h"
#include "offload_priv.h"
#include "relay.skel.h"

/* The kernel's values (uapi 6.6+); Debian 12's headers predate tcx. */
#define TP_BPF_TCX_INGRESS 46
/* Our cls_bpf filter: a handle and priority nobody else is likely to pick,
 * so that the next open finds (and replaces) a filter a dead process left. */
#define TP_TC_HANDLE 0x7470
#define TP_TC_PRIO 0x7470

static bool verbose_libbpf;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!verbose_libbpf || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* ------------------------------------------------------------------ */
/* Lease                                                               */
/* ------------------------------------------------------------------ */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* bpf_ktime_get_ns() is CLOCK_MONOTONIC (of the host: a time namespace would
 * offset our clock, not the program's; none is used by ip netns or Docker). */
static int lease_write(struct tp_offload *o, uint64_t until)
{
	struct tp_ofl_conf c = { .lease_ns = until };
	uint32_t k = 0;

	return bpf_map_update_elem(o->conf_fd, &k, &c, BPF_ANY) ? -errno : 0;
}

int tp_offload_lease_renew(struct tp_offload *o)
{
	return lease_write(o, mono_ns() + (uint64_t)TP_OFFLOAD_LEASE_MS * 1000000ull);
}

void tp_offload_lease_hold(struct tp_offload *o, bool hold)
{
	pthread_mutex_lock(&o->mu);
	o->hold = hold;
	if (hold)
		(void)lease_write(o, 0);
	else
		(void)tp_offload_lease_renew(o);
	pthread_mutex_unlock(&o->mu);
}

static void *lease_main(void *arg)
{
	struct tp_offload *o = arg;

	pthread_mutex_lock(&o->mu);
	while (!o->stop) {
		struct timespec ts;

		if (!o->hold)
			(void)tp_offload_lease_renew(o);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&o->lease_cv, &o->mu, &ts);
	}
	pthread_mutex_unlock(&o->mu);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Attaching                                                           */
/* ------------------------------------------------------------------ */

static int tc_detach(int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
	                    .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TP_TC_HANDLE, .priority = TP_TC_PRIO);

	return bpf_tc_detach(&hook, &opts);
}

static int attach_tc(struct tp_offload *o, struct attachment *a)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = a->ifindex,
	                    .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = tp_offload_prog_fd(o),
	                    .handle = TP_TC_HANDLE, .priority = TP_TC_PRIO,
	                    .flags = BPF_TC_F_REPLACE);
	int err = bpf_tc_hook_create(&hook);

	if (err && err != -EEXIST)
		return err;
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		return err;
	a->tc = true;
	return 0;
}

static int attach_one(struct tp_offload *o, int ifindex, const char *name, char *err,
                      size_t errlen)
{
	struct attachment *a = &o->att[o->natt];
	int e;

	for (size_t i = 0; i < o->natt; i++)
		if (o->att[i].ifindex == ifindex)
			return 0;
	if (o->mode == TP_OFFLOAD_ATTACH_NONE)
		return 0;
	if (o->natt == TP_OFL_MAX_IFACES) {
		snprintf(err, errlen, "attaching to %s: more than %d interfaces", name,
		         TP_OFL_MAX_IFACES);
		return -ENOSPC;
	}
	memset(a, 0, sizeof(*a));
	a->ifindex = ifindex;
	a->link_fd = -1;
	if (o->mode == TP_OFFLOAD_ATTACH_AUTO || o->mode == TP_OFFLOAD_ATTACH_TCX) {
		int fd = bpf_link_create(tp_offload_prog_fd(o), ifindex,
		                         (enum bpf_attach_type)TP_BPF_TCX_INGRESS, NULL);

		if (fd >= 0) {
			a->link_fd = fd;
			o->mode = TP_OFFLOAD_ATTACH_TCX;
			(void)tc_detach(ifindex);   /* a filter a dead process left behind */
			o->natt++;
			return 0;
		}
		e = fd;
		if (o->mode == TP_OFFLOAD_ATTACH_TCX || (e != -EINVAL && e != -EOPNOTSUPP &&
		                                         e != -ENOTSUP)) {
			snprintf(err, errlen, "attaching to %s with tcx: %s%s", name, strerror(-e),
			         e == -EINVAL ? " (tcx needs Linux 6.6)" : "");
			return e;
		}
		o->mode = TP_OFFLOAD_ATTACH_TC;
	}
	e = attach_tc(o, a);
	if (e) {
		snprintf(err, errlen, "attaching to %s (clsact ingress, cls_bpf): %s%s", name,
		         strerror(-e),
		         e == -EOPNOTSUPP || e == -ENOENT
		             ? " (needs CONFIG_NET_SCH_INGRESS and CONFIG_NET_CLS_BPF)" : "");
		return e;
	}
	o->natt++;
	return 0;
}

static void detach_all(struct tp_offload *o)
{
	for (size_t i = 0; i < o->natt; i++) {
		struct attachment *a = &o->att[i];

		if (a->link_fd >= 0)
			close(a->link_fd);
		if (a->tc)
			(void)tc_detach(a->ifindex);
		/* The clsact qdisc stays: other filters may use it, and empty it
		 * costs nothing measurable. */
	}
	o->natt = 0;
}

/*
 * The interfaces to attach to at open: the Ethernet interfaces that carry the
 * local addresses (a wildcard: every Ethernet interface that is up). An
 * address on a non-Ethernet interface (lo, a tunnel) is fine: the program is
 * attached to the interfaces its channels' traffic uses when they are added.
 * An address that no interface carries is a configuration error.
 */
static int pick_ifaces(struct tp_offload *o, const struct tp_addr *local, size_t nlocal,
                       int *want, size_t *nwant, char *err, size_t errlen)
{
	const struct tp_ofl_ifs *t = &o->ifs;

	*nwant = 0;
	for (size_t i = 0; i < nlocal; i++) {
		struct tp_addr a = local[i];
		char s[64];

		tp_ofl_addr_normalize(&a);
		if (a.family != AF_INET && a.family != AF_INET6) {
			snprintf(err, errlen, "local address %zu: not IPv4 or IPv6", i);
			return -EAFNOSUPPORT;
		}
		tp_addr_fmt(&a, s, sizeof(s));
		for (size_t k = 0; k < t->nifs; k++) {
			const struct tp_ofl_iface *f = &t->ifs[k];
			bool dup = false;
			int idx;

			if (tp_ofl_addr_is_any(&a))
				idx = f->up && f->ether && !f->loopback ? f->ifindex : 0;
			else
				idx = tp_ofl_if_of_addr(t, &a) == f->ifindex && f->ether ? f->ifindex : 0;
			if (!idx)
				continue;
			for (size_t m = 0; m < *nwant; m++)
				dup |= want[m] == idx;
			if (!dup && *nwant < TP_OFL_MAX_IFACES)
				want[(*nwant)++] = idx;
		}
		if (!tp_ofl_addr_is_any(&a) && !tp_ofl_if_of_addr(t, &a)) {
			snprintf(err, errlen, "no interface carries %s", s);
			return -EADDRNOTAVAIL;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Open / close                                                        */
/* ------------------------------------------------------------------ */

static int load(struct tp_offload *o, unsigned max_chans, char *err, size_t errlen)
{
	int e;

	o->skel = relay_bpf__open();
	if (!o->skel) {
		e = -errno;
		snprintf(err, errlen, "opening the BPF object: %s", strerror(-e));
		return e;
	}
	if (bpf_map__set_max_entries(o->skel->maps.tp_c2p, max_chans) ||
	    bpf_map__set_max_entries(o->skel->maps.tp_p2c, max_chans) ||
	    bpf_map__set_max_entries(o->skel->maps.tp_counts, max_chans)) {
		snprintf(err, errlen, "sizing the maps for %u channels", max_chans);
		return -EINVAL;
	}
	e = relay_bpf__load(o->skel);
	if (e) {
		if (e == -EPERM || e == -EACCES)
			snprintf(err, errlen, "kernel offload needs root or CAP_BPF and "
			         "CAP_NET_ADMIN (loading the BPF program: %s)", strerror(-e));
		else if (e == -ENOSYS)
			snprintf(err, errlen, "this kernel has no bpf() system call");
		else
			snprintf(err, errlen, "the kernel rejected the BPF program (%s): it needs "
			         "Linux 6.1 or later; verbose shows the verifier log", strerror(-e));
		return e == -ENOSYS ? -ENOTSUP : e;
	}
	o->c2p_fd = bpf_map__fd(o->skel->maps.tp_c2p);
	o->p2c_fd = bpf_map__fd(o->skel->maps.tp_p2c);
	o->counts_fd = bpf_map__fd(o->skel->maps.tp_counts);
	o->reasons_fd = bpf_map__fd(o->skel->maps.tp_reasons);
	o->conf_fd = bpf_map__fd(o->skel->maps.tp_conf);
	return 0;
}

/* A tp_offload with nothing loaded yet, its counter slots all free. */
static int create(unsigned max_chans, enum tp_offload_attach mode, struct tp_offload **out)
{
	struct tp_offload *o = calloc(1, sizeof(*o));
	pthread_condattr_t ca;

	*out = NULL;
	if (!o)
		return -ENOMEM;
	o->free_slots = calloc(max_chans, sizeof(*o->free_slots));
	o->ncpus = libbpf_num_possible_cpus();
	if (!o->free_slots || o->ncpus <= 0) {
		int e = o->free_slots ? (o->ncpus ? o->ncpus : -EINVAL) : -ENOMEM;

		free(o->free_slots);
		free(o);
		return e;
	}
	pthread_mutex_init(&o->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&o->lease_cv, &ca);
	pthread_condattr_destroy(&ca);
	o->mode = mode;
	o->max_chans = max_chans;
	o->c2p_fd = o->p2c_fd = o->counts_fd = o->reasons_fd = o->conf_fd = -1;
	for (uint32_t i = 0; i < max_chans; i++)
		o->free_slots[i] = i;
	o->free_count = max_chans;
	*out = o;
	return 0;
}

int tp_offload_open(const struct tp_addr *local, size_t nlocal,
                    const struct tp_offload_opts *opts, struct tp_offload **out, char *err,
                    size_t errlen)
{
	static const struct tp_offload_opts defaults = { 0 };
	struct tp_offload *o;
	int want[TP_OFL_MAX_IFACES];
	size_t nwant = 0;
	unsigned max_chans;
	int e;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	max_chans = opts->max_chans ? opts->max_chans : TP_OFFLOAD_DEFAULT_CHANS;
	if (max_chans > (1u << 22) || (nlocal && !local) ||
	    (unsigned)opts->attach > TP_OFFLOAD_ATTACH_NONE) {
		snprintf(err, errlen, "bad options (max_chans %u)", max_chans);
		return -EINVAL;
	}
	e = create(max_chans, opts->attach, &o);
	if (e) {
		snprintf(err, errlen, "%s", e == -ENOMEM ? "out of memory" : "counting CPUs");
		return e;
	}
	e = tp_ofl_if_scan(&o->ifs);
	if (e) {
		snprintf(err, errlen, "reading the interfaces: %s", strerror(-e));
		goto out;
	}
	if (o->mode != TP_OFFLOAD_ATTACH_NONE) {
		e = pick_ifaces(o, local, nlocal, want, &nwant, err, errlen);
		if (e)
			goto out;
	}

	/* libbpf logs through one process-wide callback: ours from now on, quiet
	 * unless asked (an absent filter found by a clean-up is not news). */
	verbose_libbpf = opts->verbose;
	libbpf_set_print(libbpf_print);
	e = load(o, max_chans, err, errlen);
	if (e)
		goto out;
	e = tp_offload_lease_renew(o);
	if (e) {
		snprintf(err, errlen, "writing the lease: %s", strerror(-e));
		goto out;
	}
	e = pthread_create(&o->lease_thread, NULL, lease_main, o);
	if (e) {
		e = -e;
		snprintf(err, errlen, "starting the lease thread: %s", strerror(-e));
		goto out;
	}
	o->lease_started = true;
	for (size_t i = 0; i < nwant; i++) {
		const struct tp_ofl_iface *f = tp_ofl_if_get(&o->ifs, want[i]);

		e = attach_one(o, want[i], f ? f->name : "?", err, errlen);
		if (e)
			goto out;
	}
	*out = o;
	return 0;
out:
	tp_offload_close(o);
	return e;
}

void tp_offload_close(struct tp_offload *o)
{
	if (!o)
		return;
	if (o->lease_started) {
		pthread_mutex_lock(&o->mu);
		o->stop = true;
		pthread_cond_signal(&o->lease_cv);
		pthread_mutex_unlock(&o->mu);
		pthread_join(o->lease_thread, NULL);
	}
	if (o->conf_fd >= 0)
		(void)lease_write(o, 0);   /* inert at once, before the detach */
	detach_all(o);
	relay_bpf__destroy(o->skel);
	pthread_cond_destroy(&o->lease_cv);
	pthread_mutex_destroy(&o->mu);
	free(o->free_slots);
	free(o);
}

const char *tp_offload_attach_name(const struct tp_offload *o)
{
	if (o->natt == 0)
		return "none";   /* not (yet) attached anywhere */
	return o->att[0].link_fd >= 0 ? "tcx" : "tc";
}

int tp_offload_prog_fd(const struct tp_offload *o)
{
	return o && o->skel ? bpf_program__fd(o->skel->progs.tp_relay) : -1;
}

/*
 * The interface a datagram from src to dst leaves by, as the routing table
 * says (the one a socket bound to src would use), with its MTU; it must carry
 * an Ethernet header. src must be one of our addresses. The program is
 * attached there too: with symmetric routing, the traffic of the other
 * direction arrives on it. Called with o->mu held.
 */
int tp_ofl_egress(struct tp_offload *o, const struct tp_addr *src, const struct tp_addr *dst,
                  uint32_t *ifindex, unsigned *mtu)
{
	const struct tp_ofl_iface *f;
	char err[160];
	int idx;

	if (!tp_ofl_if_of_addr(&o->ifs, src)) {
		(void)tp_ofl_if_scan(&o->ifs);   /* an address added since */
		if (!tp_ofl_if_of_addr(&o->ifs, src))
			return -EADDRNOTAVAIL;
	}
	idx = tp_ofl_route_oif(src, dst);
	if (idx == -ENETUNREACH || idx == -EHOSTUNREACH)
		return idx;
	if (idx < 0)   /* no rtnetlink answer: the interface carrying src */
		idx = tp_ofl_if_of_addr(&o->ifs, src);
	if (!(f = tp_ofl_if_get(&o->ifs, idx))) {
		(void)tp_ofl_if_scan(&o->ifs);
		if (!(f = tp_ofl_if_get(&o->ifs, idx)))
			return -ENODEV;
	}
	if (!f->ether)
		return -ENODEV;
	*ifindex = (uint32_t)idx;
	*mtu = f->mtu;
	return attach_one(o, idx, f->name, err, sizeof(err));
}

#endif /* TP_HAVE_OFFLOAD */
