/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * offload_stub.c - what exists in every build: the names of the kernel
 * path's decisions; and, in a build without the kernel offload (no clang,
 * bpftool or libbpf, or TP_OFFLOAD=OFF), every entry point of offload.h
 * answering "not built in".
 */
#include <errno.h>
#include <stdio.h>
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

#endif /* !TP_HAVE_OFFLOAD */
