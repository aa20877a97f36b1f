/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_conn_limits.c - server/conn_limits.c: the total cap and the per-source
 * cap refuse with distinct errors, a zero cap is no cap, releases give room
 * back, and connections counted without a slot (RFC 6062 peer connections)
 * use only the total.
 */
#include <errno.h>

#include "conn_limits.h"
#include "tp_test.h"

static void test_caps(void)
{
	struct tp_limits *l = tp_limits_new();
	struct tp_conf c = { .max_connections = 5, .max_connections_per_ip = 2 };

	CHECK_EQ(tp_limits_admit(l, &c, 7), 0);
	CHECK_EQ(tp_limits_admit(l, &c, 7), 0);
	CHECK_EQ(tp_limits_admit(l, &c, 7), -EMFILE);     /* third from one source */
	CHECK_EQ(tp_limits_conns_from(l, 7), 2);
	CHECK_EQ(tp_limits_admit(l, &c, 8), 0);
	CHECK_EQ(tp_limits_admit(l, &c, TP_LIMITS_NOSLOT), 0);
	tp_limits_hold(l);
	CHECK_EQ(tp_limits_conns(l), 5);
	CHECK(!tp_limits_room(l, &c));
	CHECK_EQ(tp_limits_admit(l, &c, 9), -ENFILE);     /* the server is full */
	CHECK_EQ(tp_limits_admit(l, &c, TP_LIMITS_NOSLOT), -ENFILE);
	tp_limits_release(l, 7);
	CHECK_EQ(tp_limits_conns_from(l, 7), 1);
	CHECK(tp_limits_room(l, &c));
	CHECK_EQ(tp_limits_admit(l, &c, 7), 0);
	CHECK_EQ(tp_limits_admit(l, &c, TP_RATE_SLOTS), -ENFILE);
	tp_limits_release(l, TP_LIMITS_NOSLOT);
	CHECK_EQ(tp_limits_admit(l, &c, TP_RATE_SLOTS), -EINVAL);  /* a bad slot */
	CHECK_EQ(tp_limits_conns(l), 4);
	tp_limits_free(l);
}

static void test_no_caps(void)
{
	struct tp_limits *l = tp_limits_new();
	struct tp_conf c = { 0 };

	for (int i = 0; i < 10000; i++)
		CHECK_EQ(tp_limits_admit(l, &c, 1), 0);
	CHECK_EQ(tp_limits_conns(l), 10000);
	CHECK_EQ(tp_limits_conns_from(l, 1), 10000);
	for (int i = 0; i < 10001; i++)
		tp_limits_release(l, 1);  /* one too many: stays at zero */
	CHECK_EQ(tp_limits_conns(l), 0);
	CHECK_EQ(tp_limits_conns_from(l, 1), 0);
	tp_limits_free(l);
}

int main(void)
{
	test_caps();
	test_no_caps();
	TP_TEST_END();
}
