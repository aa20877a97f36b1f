/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_limits.c - tables an authenticated client can grow are bounded and
 * survive their bounds: more than 32,768 permissions on one allocation (a
 * 16-bit capacity used to wrap to 0 there: realloc(p, 0) freed the table and
 * the next CreatePermission read freed memory), up to max-permissions, then
 * 508; the allocation still relays.
 */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "tp_test.h"

#define PER_REQ 32
#define WANT 33000   /* past 32,768 */

static void test_many_permissions(void)
{
	struct th_server s;
	struct th_client c;
	struct th_resp r;
	struct tp_addr peers[PER_REQ], peer, relay, from;
	uint8_t buf[64];
	int pfd, n = 0, failed = 0;

	CHECK(th_server_start(&s, "max-permissions = 33000;\nallowed-peer = [\"127.0.0.0/8\"];\n",
	                      0) == 0);
	if (s.pid <= 0)
		return;
	CHECK(th_client_open(&c, &s, NULL, "alice", "alicepw") == 0);
	CHECK_EQ(th_allocate(&c, NULL, &r, &relay), 0);
	while (n < WANT) {
		int k = WANT - n < PER_REQ ? WANT - n : PER_REQ;

		for (int i = 0; i < k; i++) {
			uint32_t v = 0x7F010000u + (uint32_t)(n + i); /* 127.1.x.y */

			memset(&peers[i], 0, sizeof(peers[i]));
			peers[i].family = AF_INET;
			peers[i].ip[0] = (uint8_t)(v >> 24);
			peers[i].ip[1] = (uint8_t)(v >> 16);
			peers[i].ip[2] = (uint8_t)(v >> 8);
			peers[i].ip[3] = (uint8_t)v;
			peers[i].port = 9;
		}
		if (th_permit(&c, peers, k, &r) != 0) {
			failed++;
			break;
		}
		n += k;
	}
	printf("%d permissions installed on one allocation\n", n);
	CHECK_EQ(failed, 0);
	CHECK_EQ(n, WANT);
	/* the table is full: a new peer gets 508, a refresh of one still works */
	peer = th_addr("127.2.0.1:9");
	CHECK_EQ(th_permit(&c, &peer, 1, &r), 508);
	CHECK_EQ(th_permit(&c, &peers[0], 1, &r), 0);
	/* and the allocation relays to a permitted peer */
	pfd = th_udp_open("127.1.0.7", &peer);
	CHECK(th_send_ind(&c, &peer, "still", 5) == 0);
	CHECK_EQ(th_udp_recv(pfd, buf, sizeof(buf), 1000, &from), 5);
	CHECK(tp_addr_eq(&from, &relay));
	close(pfd);
	CHECK_EQ(th_refresh(&c, 0, &r), 0);
	th_client_close(&c);
	CHECK(th_server_stop(&s) == 0);
}

int main(int argc, char **argv)
{
	th_init(argc, argv);
	test_many_permissions();
	TP_TEST_END();
}
