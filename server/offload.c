/*
 * offload.c - the control plane of the kernel datapath (see offload.h): loads
 * the skeleton of server/bpf/relay.bpf.c, attaches it, keeps the owner's lease
 * and turns tp_offload_chan into the map entries of bpf/relay_maps.h.
 *
 * State kept here: the interfaces seen at open (for the egress ifindex and MTU
 * of new entries), the attachments, and a FIFO of free counter slots. The
 * channels themselves live only in the kernel maps (c2p holds the slot).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "offload.h"

static const char *const reason_names[TP_OFFLOAD_NREASONS] = {
	"c2p", "p2c", "no-entry", "not-host", "ip-options", "fragment", "ip-length",
	"ip-checksum", "cd-length", "ttl", "csum-partial", "no-udp-csum", "gso", "mtu",
	"no-socket", "lease", "error",
};

const char *tp_offload_reason_name(enum tp_offload_reason r)
{
	return (unsigned)r < TP_OFFLOAD_NREASONS ? reason_names[r] : "?";
}

#ifndef TP_HAVE_OFFLOAD

/* Built without clang/bpftool/libbpf: every call says so. */
int tp_offload_open(const struct tp_addr *local, size_t nlocal,
                    const struct tp_offload_opts *opts, struct tp_offload **out, char *err,
                    size_t errlen)
{
	(void)local;
	(void)nlocal;
	(void)opts;
	*out = NULL;
	snprintf(err, errlen, "kernel offload not built in (build with clang, bpftool and "
	                      "libbpf-dev installed: tools/deps.sh --offload)");
	return -ENOTSUP;
}

void tp_offload_close(struct tp_offload *o)
{
	(void)o;
}

const char *tp_offload_attach_name(const struct tp_offload *o)
{
	(void)o;
	return "none";
}

int tp_offload_chan_add(struct tp_offload *o, const struct tp_offload_chan *c)
{
	(void)o;
	(void)c;
	return -ENOTSUP;
}

int tp_offload_chan_del(struct tp_offload *o, const struct tp_offload_chan *c,
                        struct tp_offload_counts *last)
{
	(void)o;
	(void)c;
	(void)last;
	return -ENOTSUP;
}

int tp_offload_chan_counts(struct tp_offload *o, const struct tp_offload_chan *c,
                           struct tp_offload_counts *out)
{
	(void)o;
	(void)c;
	(void)out;
	return -ENOTSUP;
}

int tp_offload_reasons(struct tp_offload *o, uint64_t out[TP_OFFLOAD_NREASONS])
{
	(void)o;
	memset(out, 0, sizeof(uint64_t) * TP_OFFLOAD_NREASONS);
	return -ENOTSUP;
}

int tp_offload_prog_fd(const struct tp_offload *o)
{
	(void)o;
	return -1;
}

int tp_offload_lease_renew(struct tp_offload *o)
{
	(void)o;
	return -ENOTSUP;
}

void tp_offload_lease_hold(struct tp_offload *o, bool hold)
{
	(void)o;
	(void)hold;
}

#else /* TP_HAVE_OFFLOAD */

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/relay_maps.h"
#include "offload_if.h"
#include "relay.skel.h"

/* The kernel's values (uapi 6.6+); Debian 12's headers predate tcx. */
#define TP_BPF_TCX_INGRESS 46
/* Our cls_bpf filter: a handle and priority nobody else is likely to pick,
 * so that the next open finds (and replaces) a filter a dead process left. */
#define TP_TC_HANDLE 0x7470
#define TP_TC_PRIO 0x7470

_Static_assert((int)TP_OFFLOAD_NREASONS == (int)TP_OFL_R_COUNT, "reason enums out of step");
_Static_assert(sizeof(struct tp_ofl_c2p_key) == 40 && sizeof(struct tp_ofl_p2c_key) == 40,
               "map keys must have no implicit padding");

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
	o = calloc(1, sizeof(*o));
	if (!o) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&o->mu, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&o->lease_cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	o->mode = opts->attach;
	o->max_chans = max_chans;
	o->c2p_fd = o->p2c_fd = o->counts_fd = o->reasons_fd = o->conf_fd = -1;
	o->free_slots = calloc(max_chans, sizeof(*o->free_slots));
	if (!o->free_slots) {
		snprintf(err, errlen, "out of memory");
		e = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < max_chans; i++)
		o->free_slots[i] = i;
	o->free_count = max_chans;
	o->ncpus = libbpf_num_possible_cpus();
	if (o->ncpus <= 0) {
		e = o->ncpus ? o->ncpus : -EINVAL;
		snprintf(err, errlen, "counting CPUs: %s", strerror(-e));
		goto out;
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

/* ------------------------------------------------------------------ */
/* Channels                                                            */
/* ------------------------------------------------------------------ */

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

/*
 * The interface a datagram from src to dst leaves by, as the routing table
 * says (the one a socket bound to src would use), with its MTU; it must carry
 * an Ethernet header. src must be one of our addresses. The program is
 * attached there too: with symmetric routing, the traffic of the other
 * direction arrives on it. Called with o->mu held.
 */
static int egress(struct tp_offload *o, const struct tp_addr *src, const struct tp_addr *dst,
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
	e = egress(o, &k.relay, &k.peer, &cv.ifindex, &mtu);
	if (!e)
		e = egress(o, &k.listener, &k.client, &pv.ifindex, &mtu);
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
