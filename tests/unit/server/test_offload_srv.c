/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_offload_srv.c - when the kernel offload may relay a channel
 * (tp_offload_srv_refused, which decides both the install at ChannelBind and
 * the removal at every tick), with a fake clock and no kernel: UDP client and
 * relay only, no bandwidth cap, one family, not our own relay address, the
 * peer policy, and the channel and its permission live for TP_OFL_MARGIN s
 * more (removed 2 s before either expires).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "conf.h"
#include "offload_srv.h"
#include "ports.h"
#include "shared.h"
#include "tp_test.h"

static uint64_t clock_ms;

static uint64_t fake_ms(void)
{
	return clock_ms;
}

static struct tp_addr addr(const char *ip, uint16_t port)
{
	struct tp_addr a = { 0 };

	a.family = strchr(ip, ':') ? AF_INET6 : AF_INET;
	inet_pton(a.family, ip, a.ip);
	a.port = port;
	return a;
}

static bool refused_for(struct tp_alloc *a, uint16_t num, const struct tp_addr *peer,
                        const char *why)
{
	const char *r = tp_offload_srv_refused(a, num, peer);

	if (!why)
		return r == NULL;
	if (!r || !strstr(r, why)) {
		fprintf(stderr, "  refused: %s (expected %s)\n", r ? r : "(null)", why);
		return false;
	}
	return true;
}

int main(void)
{
	static const struct tp_io io = { .mono_ms = fake_ms };
	static struct tp_conf c;
	struct tp_srv s;
	struct tp_alloc a;
	struct tp_addr peer = addr("8.8.8.8", 4000), peer6 = addr("2001:4860::8888", 4000);
	struct tp_addr relay_ip = addr("203.0.113.1", 0), own = addr("203.0.113.1", 50001);

	memset(&s, 0, sizeof(s));
	s.io = &io;
	s.conf = &c;
	s.sh = tp_shared_create();
	CHECK(s.sh != NULL);
	s.sh->pools[s.sh->npools++] = tp_portpool_create(&relay_ip);
	memset(&a, 0, sizeof(a));
	a.s = &s;
	a.ft.transport = TP_LISTEN_UDP;
	a.ft.client = addr("198.51.100.2", 5000);
	a.ft.local = addr("198.51.100.1", 3478);
	tp_perms_init(&a.perms);
	tp_chans_init(&a.chans);

	clock_ms = 1000 * 1000;
	CHECK_EQ(tp_chans_bind(&a.chans, 0x4001, &peer, false, 10, 1000), 0);
	CHECK_EQ(tp_perms_install(&a.perms, &peer, 10, 1000), 0);
	CHECK(refused_for(&a, 0x4001, &peer, NULL));
	CHECK(refused_for(&a, 0x4002, &peer, "channel expires"));      /* not bound */
	struct tp_addr other_port = peer;

	other_port.port = 4001;
	CHECK(refused_for(&a, 0x4001, &other_port, "channel expires")); /* bound elsewhere */

	/* the permission (300 s) goes first: refused from 2 s before */
	clock_ms = 1297 * 1000 + 999;
	CHECK(refused_for(&a, 0x4001, &peer, NULL));
	clock_ms = 1298 * 1000;
	CHECK(refused_for(&a, 0x4001, &peer, "permission expires"));
	/* refreshed (a ChannelBind refresh or CreatePermission): fine until the
	 * channel's 600 s are nearly over */
	CHECK_EQ(tp_perms_install(&a.perms, &peer, 10, 1400), 0);
	clock_ms = 1597 * 1000;
	CHECK(refused_for(&a, 0x4001, &peer, NULL));
	clock_ms = 1598 * 1000;
	CHECK(refused_for(&a, 0x4001, &peer, "channel expires"));
	CHECK_EQ(tp_chans_bind(&a.chans, 0x4001, &peer, false, 10, 1598), 0);
	CHECK(refused_for(&a, 0x4001, &peer, NULL));

	/* caps: the kernel path has no token bucket */
	c.max_bps = 1000000;
	CHECK(refused_for(&a, 0x4001, &peer, "bandwidth cap"));
	c.max_bps = 0;
	c.user_max_bps = 1000000;
	CHECK(refused_for(&a, 0x4001, &peer, "bandwidth cap"));
	c.user_max_bps = 0;

	/* the peer policy (a reload's new denied-peer) */
	c.denied_peers[0].net = addr("8.8.8.0", 0);
	c.denied_peers[0].prefix = 24;
	c.ndenied_peers = 1;
	CHECK(refused_for(&a, 0x4001, &peer, "peer policy"));
	c.ndenied_peers = 0;
	CHECK(refused_for(&a, 0x4001, &peer, NULL));

	/* client transport and relay type */
	a.ft.transport = TP_LISTEN_TCP;
	CHECK(refused_for(&a, 0x4001, &peer, "client not on UDP"));
	a.ft.transport = TP_LISTEN_DTLS;
	CHECK(refused_for(&a, 0x4001, &peer, "client not on UDP"));
	a.ft.transport = TP_LISTEN_UDP;
	a.is_tcp = true;
	CHECK(refused_for(&a, 0x4001, &peer, "TCP relay"));
	a.is_tcp = false;

	/* an IPv4 client with an IPv6 peer */
	CHECK_EQ(tp_chans_bind(&a.chans, 0x4002, &peer6, false, 10, 1598), 0);
	CHECK_EQ(tp_perms_install(&a.perms, &peer6, 10, 1598), 0);
	CHECK(refused_for(&a, 0x4002, &peer6, "different families"));

	/* relay to relay stays in user space, bound as self_relay or not */
	CHECK_EQ(tp_chans_bind(&a.chans, 0x4003, &own, false, 10, 1598), 0);
	CHECK_EQ(tp_perms_install(&a.perms, &own, 10, 1598), 0);
	CHECK(refused_for(&a, 0x4003, &own, "relay addresses"));
	struct tp_addr own2 = own;

	own2.port = 50002;
	CHECK_EQ(tp_chans_bind(&a.chans, 0x4004, &own2, true, 10, 1598), 0);
	CHECK(refused_for(&a, 0x4004, &own2, "relay addresses"));

	/* nothing installed without a loaded datapath */
	CHECK_EQ(tp_offload_srv_count(&a), 0);

	tp_perms_free(&a.perms);
	tp_chans_free(&a.chans);
	tp_shared_free(s.sh);
	TP_TEST_END();
}
