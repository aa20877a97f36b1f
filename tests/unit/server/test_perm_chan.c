/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_perm_chan.c - server/perm.c and server/chan.c with a fake clock:
 * permissions for 300 s by IP (any port), refresh, the configured maximum of
 * live entries and what expiry frees, tables far past the 16-bit boundary
 * (70,000 entries: O(1) lookups, no wrap); channels for 600 s, the RFC 8656
 * §12 rebinding rules, the 5-minute quarantine, lookups both ways, filters.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "chan.h"
#include "perm.h"
#include "tp_test.h"

static struct tp_addr ip4(uint32_t v, uint16_t port)
{
	struct tp_addr a = { .family = AF_INET, .port = port };

	v = htonl(v);
	memcpy(a.ip, &v, 4);
	return a;
}

static struct tp_addr ip6(const char *s, uint16_t port)
{
	struct tp_addr a = { .family = AF_INET6, .port = port };

	inet_pton(AF_INET6, s, a.ip);
	return a;
}

static void test_perms(void)
{
	struct tp_perms p;
	struct tp_addr a = ip4(0x08080808, 1000), a2 = ip4(0x08080808, 2000);
	struct tp_addr b = ip4(0x01010101, 1000), v6 = ip6("2001:4860::8888", 1000);
	time_t now = 1000;

	tp_perms_init(&p);
	CHECK(!tp_perms_ok(&p, &a, now));
	CHECK_EQ(tp_perms_install(&p, &a, 2, now), 0);
	CHECK(tp_perms_ok(&p, &a, now));
	CHECK(tp_perms_ok(&p, &a2, now));           /* the port does not matter */
	CHECK(!tp_perms_ok(&p, &b, now));
	CHECK_EQ(tp_perms_install(&p, &v6, 2, now), 0);
	CHECK_EQ(tp_perms_install(&p, &b, 2, now), -ENOSPC);  /* max 2 live */
	CHECK_EQ(tp_perms_count(&p, now), 2);
	/* 300 s: valid at 1299, gone at 1300 */
	CHECK(tp_perms_ok(&p, &a, now + TP_PERM_LIFETIME - 1));
	CHECK(!tp_perms_ok(&p, &a, now + TP_PERM_LIFETIME));
	/* a refresh restarts the 300 s */
	CHECK_EQ(tp_perms_install(&p, &a2, 2, now + 200), 0);
	CHECK(tp_perms_ok(&p, &a, now + 499));
	CHECK(!tp_perms_ok(&p, &v6, now + 300));
	/* an expired one frees its place */
	CHECK_EQ(tp_perms_install(&p, &b, 2, now + 300), 0);
	CHECK_EQ(tp_perms_count(&p, now + 300), 2);
	tp_perms_free(&p);
}

static bool not_b(void *arg, const struct tp_addr *ip)
{
	return !tp_addr_ip_eq(ip, (const struct tp_addr *)arg);
}

static void test_perms_large(void)
{
	struct tp_perms p;
	const uint32_t n = 70000;
	uint32_t ok = 0;
	time_t now = 5;

	tp_perms_init(&p);
	for (uint32_t i = 0; i < n; i++) {
		struct tp_addr a = ip4(0x0A000000 + i, 9);

		ok += tp_perms_install(&p, &a, n, now) == 0;
	}
	CHECK_EQ(ok, n);
	CHECK(p.cap >= n && p.idx_cap >= 2 * n);  /* far past 65,535: no wrap */
	ok = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct tp_addr a = ip4(0x0A000000 + i, 1);

		ok += tp_perms_ok(&p, &a, now);
	}
	CHECK_EQ(ok, n);
	struct tp_addr other = ip4(0x0B000000, 1), gone = ip4(0x0A000007, 0);

	CHECK(!tp_perms_ok(&p, &other, now));
	CHECK_EQ(tp_perms_install(&p, &other, n, now), -ENOSPC);
	/* filtering keeps the index right */
	tp_perms_filter(&p, now, not_b, &gone);
	CHECK(!tp_perms_ok(&p, &gone, now));
	CHECK_EQ(tp_perms_count(&p, now), n - 1);
	struct tp_addr last = ip4(0x0A000000 + n - 1, 0);

	CHECK(tp_perms_ok(&p, &last, now));
	/* everything expired: the whole table is reusable */
	CHECK_EQ(tp_perms_install(&p, &other, n, now + TP_PERM_LIFETIME), 0);
	CHECK_EQ(tp_perms_count(&p, now + TP_PERM_LIFETIME), 1);
	CHECK(tp_perms_ok(&p, &other, now + TP_PERM_LIFETIME));
	tp_perms_free(&p);
}

static bool keep_not_num(void *arg, const struct tp_chan *ch)
{
	return ch->num != *(const uint16_t *)arg;
}

static void test_chans(void)
{
	struct tp_chans c;
	struct tp_addr p1 = ip4(0x08080808, 5000), p1b = ip4(0x08080808, 5001);
	struct tp_addr p2 = ip4(0x01010101, 5000);
	time_t now = 100;
	const struct tp_chan *ch;

	tp_chans_init(&c);
	CHECK_EQ(tp_chans_bind(&c, 0x4000, &p1, false, 3, now), 0);
	ch = tp_chans_by_num(&c, 0x4000, now);
	CHECK(ch && tp_addr_eq(&ch->peer, &p1));
	ch = tp_chans_by_peer(&c, &p1, now);
	CHECK(ch && ch->num == 0x4000);
	CHECK(!tp_chans_by_peer(&c, &p1b, now));     /* the port matters */
	/* the same binding again: a refresh */
	CHECK_EQ(tp_chans_bind(&c, 0x4000, &p1, false, 3, now + 500), 0);
	CHECK(tp_chans_by_num(&c, 0x4000, now + 1099));
	CHECK(!tp_chans_by_num(&c, 0x4000, now + 1100));
	/* the number to another peer, or the peer to another number: 400 */
	CHECK_EQ(tp_chans_bind(&c, 0x4000, &p2, false, 3, now), -EEXIST);
	CHECK_EQ(tp_chans_bind(&c, 0x4001, &p1, false, 3, now), -EEXIST);
	CHECK_EQ(tp_chans_bind(&c, 0x4001, &p1b, false, 3, now), 0);
	CHECK_EQ(tp_chans_bind(&c, 0x4002, &p2, true, 3, now), 0);
	CHECK_EQ(tp_chans_bind(&c, 0x4003, &p2, false, 3, now), -EEXIST);
	CHECK_EQ(tp_chans_count(&c, now), 3);
	struct tp_addr p3 = ip4(0x09090909, 1);

	CHECK_EQ(tp_chans_bind(&c, 0x4004, &p3, false, 3, now), -ENOSPC);
	ch = tp_chans_by_num(&c, 0x4002, now);
	CHECK(ch && ch->self_relay);
	/* expiry (600 s), then 5 minutes of quarantine: neither number nor
	 * peer can be bound to anything else, the same pair can */
	time_t exp = now + TP_CHAN_LIFETIME;         /* 0x4001 and 0x4002 */
	CHECK(!tp_chans_by_num(&c, 0x4001, exp));
	CHECK_EQ(tp_chans_bind(&c, 0x4001, &p3, false, 3, exp + 10), -EEXIST);
	CHECK_EQ(tp_chans_bind(&c, 0x4005, &p2, false, 3, exp + 10), -EEXIST);
	CHECK_EQ(tp_chans_bind(&c, 0x4002, &p2, false, 3, exp + 10), 0); /* rebinding */
	CHECK_EQ(tp_chans_bind(&c, 0x4001, &p3, false, 3, exp + TP_CHAN_QUARANTINE), 0);
	/* a filter drops live bindings only */
	uint16_t drop = 0x4002;

	tp_chans_filter(&c, exp + TP_CHAN_QUARANTINE, keep_not_num, &drop);
	CHECK(!tp_chans_by_num(&c, 0x4002, exp + TP_CHAN_QUARANTINE));
	CHECK(tp_chans_by_num(&c, 0x4001, exp + TP_CHAN_QUARANTINE));
	tp_chans_free(&c);
}

static void test_chans_large(void)
{
	struct tp_chans c;
	uint32_t ok = 0;

	tp_chans_init(&c);
	for (uint16_t i = 0; i < 4096; i++) {
		struct tp_addr p = ip4(0x0C000000 + i, (uint16_t)(1000 + i));

		ok += tp_chans_bind(&c, (uint16_t)(0x4000 + i), &p, false, 4096, 1) == 0;
	}
	CHECK_EQ(ok, 4096);
	ok = 0;
	for (uint16_t i = 0; i < 4096; i++) {
		struct tp_addr p = ip4(0x0C000000 + i, (uint16_t)(1000 + i));
		const struct tp_chan *a = tp_chans_by_num(&c, (uint16_t)(0x4000 + i), 2);
		const struct tp_chan *b = tp_chans_by_peer(&c, &p, 2);

		ok += a && b && a == b;
	}
	CHECK_EQ(ok, 4096);
	tp_chans_free(&c);
}

/* tp_perms_check / tp_chans_check: quiet on every table the functions above
 * build (small, indexed, after expiry, compaction and filters), and each
 * breakage of the structure named. */
static bool keep_odd(void *arg, const struct tp_addr *ip)
{
	(void)arg;
	return ip->ip[3] & 1;
}

static bool keep_odd_chan(void *arg, const struct tp_chan *ch)
{
	(void)arg;
	return ch->num & 1;
}

static void test_checks(void)
{
	struct tp_perms p;
	struct tp_chans c;
	time_t now = 1000;

	tp_perms_init(&p);
	CHECK(tp_perms_check(&p) == NULL);
	for (uint32_t i = 0; i < 40; i++) {
		struct tp_addr a = ip4(0x08080800 + i, 0);

		CHECK_EQ(tp_perms_install(&p, &a, 30, now + i), 0 - (i >= 30 ? ENOSPC : 0));
		CHECK(tp_perms_check(&p) == NULL);
	}
	CHECK(p.idx != NULL);
	/* expired ones make room (compaction and reindex) */
	struct tp_addr late = ip4(0x09090909, 0);

	CHECK_EQ(tp_perms_install(&p, &late, 30, now + 400), 0);
	CHECK(tp_perms_check(&p) == NULL);
	CHECK_EQ(p.n, 1);
	for (uint32_t i = 0; i < 20; i++) {
		struct tp_addr a = ip4(0x0a0a0a00 + i, 0);

		CHECK_EQ(tp_perms_install(&p, &a, 30, now + 400), 0);
	}
	CHECK(tp_perms_check(&p) == NULL);
	tp_perms_filter(&p, now + 400, keep_odd, NULL);
	CHECK(tp_perms_check(&p) == NULL);
	/* breakages: a duplicate, a port, an index slot lost, past the end */
	CHECK(p.n >= 2);
	struct tp_perm save = p.v[1];

	p.v[1].ip = p.v[0].ip;
	CHECK(tp_perms_check(&p) != NULL);
	p.v[1] = save;
	p.v[0].ip.port = 9;
	CHECK(tp_perms_check(&p) != NULL);
	p.v[0].ip.port = 0;
	CHECK(tp_perms_check(&p) == NULL);
	for (uint32_t i = 0; i < p.idx_cap; i++)
		if (p.idx[i] == 1) {
			p.idx[i] = 0;
			CHECK(tp_perms_check(&p) != NULL);
			p.idx[i] = p.n + 1;
			CHECK(tp_perms_check(&p) != NULL);
			p.idx[i] = 1;
		}
	CHECK(tp_perms_check(&p) == NULL);
	p.n = p.cap + 1;
	CHECK(tp_perms_check(&p) != NULL);
	p.n = 0;
	tp_perms_free(&p);

	tp_chans_init(&c);
	CHECK(tp_chans_check(&c) == NULL);
	for (uint16_t i = 0; i < 20; i++) {
		struct tp_addr a = ip4(0x08080808, (uint16_t)(2000 + i));

		CHECK_EQ(tp_chans_bind(&c, (uint16_t)(0x4000 + i), &a, false, 20, now), 0);
		CHECK(tp_chans_check(&c) == NULL);
	}
	CHECK(c.by_num != NULL);
	/* past the quarantine: rebinding compacts */
	struct tp_addr peer = ip4(0x01010101, 1);

	CHECK_EQ(tp_chans_bind(&c, 0x4100, &peer, false, 20, now + TP_CHAN_LIFETIME + TP_CHAN_QUARANTINE), 0);
	CHECK(tp_chans_check(&c) == NULL);
	CHECK_EQ(c.n, 1);
	for (uint16_t i = 0; i < 12; i++) {
		struct tp_addr a = ip4(0x08080808, (uint16_t)(3000 + i));

		CHECK_EQ(tp_chans_bind(&c, (uint16_t)(0x4200 + i), &a, false, 20, now + 1000), 0);
	}
	tp_chans_filter(&c, now + 1000, keep_odd_chan, NULL);
	CHECK(tp_chans_check(&c) == NULL);
	CHECK(c.n >= 2);
	struct tp_chan cs = c.v[1];

	c.v[1].num = c.v[0].num;
	CHECK(tp_chans_check(&c) != NULL);
	c.v[1] = cs;
	c.v[1].peer = c.v[0].peer;
	CHECK(tp_chans_check(&c) != NULL);
	c.v[1] = cs;
	c.v[1].num = 0x8000;
	CHECK(tp_chans_check(&c) != NULL);
	c.v[1] = cs;
	CHECK(tp_chans_check(&c) == NULL);
	if (c.by_peer) {
		uint32_t *bp = c.by_peer;

		c.by_peer = NULL;
		CHECK(tp_chans_check(&c) != NULL);
		c.by_peer = bp;
	}
	CHECK(tp_chans_check(&c) == NULL);
	tp_chans_free(&c);
}

int main(void)
{
	test_perms();
	test_perms_large();
	test_chans();
	test_chans_large();
	test_checks();
	TP_TEST_END();
}
