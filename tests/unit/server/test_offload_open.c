/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_offload_open.c - tp_offload_open's answers that need no privileges:
 * bad options, an address no interface carries, an address on lo (not
 * Ethernet), each with its errno and a reason naming the address; and, in a
 * build without the kernel offload, "not built in" from every entry point.
 * What needs root (loading, attaching, real packets) is tests/netns/offload.
 */
#include <errno.h>
#include <string.h>

#include "offload.h"
#include "tp_test.h"

int main(void)
{
	struct tp_offload *o = (struct tp_offload *)&o;
	struct tp_offload_opts big = { .max_chans = 1u << 30 };
	struct tp_addr a;
	char err[256] = "";
	int e;

	tp_addr_parse(&a, "192.0.2.77:3478", 0);
#ifdef TP_HAVE_OFFLOAD
	e = tp_offload_open(&a, 1, &big, &o, err, sizeof(err));
	CHECK_EQ(e, -EINVAL);
	CHECK(o == NULL && strstr(err, "max_chans") != NULL);
	e = tp_offload_open(NULL, 1, NULL, &o, err, sizeof(err));
	CHECK_EQ(e, -EINVAL);
	e = tp_offload_open(&a, 1, NULL, &o, err, sizeof(err));
	CHECK_EQ(e, -EADDRNOTAVAIL);
	CHECK(strstr(err, "192.0.2.77") != NULL);
	a.family = 99;
	e = tp_offload_open(&a, 1, NULL, &o, err, sizeof(err));
	CHECK_EQ(e, -EAFNOSUPPORT);
#else
	(void)big;
	e = tp_offload_open(&a, 1, NULL, &o, err, sizeof(err));
	CHECK_EQ(e, -ENOTSUP);
	CHECK(o == NULL && strstr(err, "not built in") != NULL);
	CHECK_EQ(tp_offload_chan_add(NULL, NULL), -ENOTSUP);
	CHECK_EQ(tp_offload_prog_fd(NULL), -1);
#endif
	CHECK(strcmp(tp_offload_reason_name(TP_OFFLOAD_CSUM_PARTIAL), "csum-partial") == 0);
	CHECK(strcmp(tp_offload_reason_name(TP_OFFLOAD_ERROR), "error") == 0);
	CHECK(strcmp(tp_offload_reason_name(TP_OFFLOAD_NREASONS), "?") == 0);
	tp_offload_close(NULL);
	TP_TEST_END();
}
