/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_lifecycle.c - start-up log lines, the demo credential, SIGHUP reload
 * (users and peer policy change, allocations survive, a broken file keeps the
 * old config) and SIGTERM with live allocations (exit 0, checked by the
 * harness in th_server_stop).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "tp_test.h"

static const char base[] = "allowed-peer = [\"127.0.0.0/8\"];\n";

static bool flows(struct th_client *c, int pfd, const struct tp_addr *peer,
                  const struct tp_addr *relay)
{
	uint8_t buf[64];
	struct th_data d;
	struct tp_addr from;

	if (th_send_ind(c, peer, "ping", 4) != 0)
		return false;
	if (th_udp_recv(pfd, buf, sizeof(buf), 500, &from) != 4 || !tp_addr_eq(&from, relay))
		return false;
	if (th_udp_send(pfd, relay, "pong", 4) != 0)
		return false;
	return th_recv_data(c, &d, 500) == 1 && d.len == 4 && memcmp(d.data, "pong", 4) == 0;
}

/* After a reload that refuses the peer: nothing passes either way. */
static bool denied_both_ways(struct th_client *c, int pfd, const struct tp_addr *peer,
                             const struct tp_addr *relay)
{
	uint8_t buf[64];
	struct th_data d;
	bool ok = true;

	if (th_udp_send(pfd, relay, "peer->client", 12) != 0)
		return false;
	ok &= th_recv_data(c, &d, 500) == 0;
	if (th_chandata(c, 0x4000, "chan", 4) != 0)
		return false;
	ok &= th_udp_recv(pfd, buf, sizeof(buf), 300, NULL) == 0;
	if (th_send_ind(c, peer, "send", 4) != 0)
		return false;
	ok &= th_udp_recv(pfd, buf, sizeof(buf), 300, NULL) == 0;
	return ok;
}

static void test_reload(void)
{
	struct th_server s;
	struct th_client c, n;
	struct th_resp r;
	struct tp_addr peer, relay;
	char conf[1024], line[64];
	int pfd;

	CHECK(th_server_start(&s, base, 0) == 0);
	if (s.pid <= 0)
		return;
	snprintf(line, sizeof(line), "listening on udp 127.0.0.1:%u", s.port);
	CHECK(th_server_log_has(&s, line));
	snprintf(line, sizeof(line), "ports %u-%u", s.min_port, s.max_port);
	CHECK(th_server_log_has(&s, "relay IPv4 127.0.0.1"));
	CHECK(th_server_log_has(&s, line));
	CHECK(!th_server_log_has(&s, "user=demo"));

	pfd = th_udp_open("127.0.0.2", &peer);
	CHECK(th_client_open(&c, &s, NULL, "alice", "alicepw") == 0);
	CHECK_EQ(th_allocate(&c, NULL, &r, &relay), 0);
	CHECK_EQ(th_permit(&c, &peer, 1, &r), 0);
	CHECK(flows(&c, pfd, &peer, &relay));
	CHECK_EQ(th_chanbind(&c, 0x4000, &peer, &r), 0);
	CHECK(th_chandata(&c, 0x4000, "chan", 4) == 0);
	CHECK_EQ(th_udp_recv(pfd, (uint8_t[64]){ 0 }, 64, 500, NULL), 4);
	CHECK(th_client_open(&n, &s, NULL, "newbie", "newpw") == 0);
	CHECK_EQ(th_allocate(&n, NULL, &r, NULL), 401);

	/* add a user */
	snprintf(conf, sizeof(conf),
	         "%susers = ( { name = \"alice\"; password = \"alicepw\"; },\n"
	         "          { name = \"newbie\"; password = \"newpw\"; } );\n",
	         base);
	CHECK(th_server_reload(&s, conf) == 0);
	CHECK(flows(&c, pfd, &peer, &relay));
	CHECK_EQ(th_refresh(&c, 600, &r), 0);
	CHECK_EQ(th_allocate(&n, NULL, &r, NULL), 0);

	/* a broken file: the reload fails, the running config stays */
	FILE *f = fopen(s.conf_path, "a");

	if (f) {
		fprintf(f, "this is not libconfig = = ;\n");
		fclose(f);
	}
	CHECK(kill(s.pid, SIGHUP) == 0);
	usleep(300 * 1000);
	CHECK(flows(&c, pfd, &peer, &relay));
	CHECK_EQ(th_refresh(&n, 600, &r), 0);

	/* the peer policy changes: loopback no longer allowed, the permission goes */
	snprintf(conf, sizeof(conf),
	         "users = ( { name = \"alice\"; password = \"alicepw\"; },\n"
	         "          { name = \"newbie\"; password = \"newpw\"; } );\n");
	CHECK(th_server_reload(&s, conf) == 0);
	CHECK(!flows(&c, pfd, &peer, &relay));
	CHECK_EQ(th_permit(&c, &peer, 1, &r), 403);
	/* ... in both directions, each checked on its own: the peer's datagrams
	 * do not reach the client, neither as Data indications nor on the
	 * channel, and the client's ChannelData does not reach the peer */
	CHECK(denied_both_ways(&c, pfd, &peer, &relay));
	/* the allocation itself is still there */
	CHECK_EQ(th_refresh(&c, 600, &r), 0);

	/* SIGTERM with live allocations: exit 0 (th_server_stop checks) */
	th_client_close(&c);
	th_client_close(&n);
	close(pfd);
	CHECK(th_server_stop(&s) == 0);
}

/* no users and no secrets: a demo credential is generated and logged */
static void test_demo(void)
{
	struct th_server s;
	struct th_client c;
	struct th_resp r;
	char pass[128] = "";

	CHECK(th_server_start(&s, "users = ( );\ndemo-user = true;\n", 0) == 0);
	if (s.pid <= 0)
		return;
	FILE *f = fopen(s.log_path, "r");
	char line[1024];

	while (f && fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "user=demo password=");

		if (p) {
			sscanf(p + strlen("user=demo password="), "%127s", pass);
			break;
		}
	}
	if (f)
		fclose(f);
	CHECK(pass[0] != '\0');
	CHECK(th_client_open(&c, &s, NULL, "demo", pass) == 0);
	CHECK_EQ(th_allocate(&c, NULL, &r, NULL), 0);
	th_client_close(&c);
	CHECK(th_client_open(&c, &s, NULL, "demo", "guess") == 0);
	CHECK_EQ(th_allocate(&c, NULL, &r, NULL), 401);
	th_client_close(&c);
	CHECK(th_server_stop(&s) == 0);

	/* demo-user = false and no credentials: nobody can allocate */
	CHECK(th_server_start(&s, "users = ( );\ndemo-user = false;\n", 0) == 0);
	if (s.pid <= 0)
		return;
	CHECK(!th_server_log_has(&s, "user=demo"));
	CHECK(th_client_open(&c, &s, NULL, "demo", pass) == 0);
	CHECK_EQ(th_allocate(&c, NULL, &r, NULL), 401);
	th_client_close(&c);
	CHECK(th_server_stop(&s) == 0);
}

int main(int argc, char **argv)
{
	th_init(argc, argv);
	test_reload();
	test_demo();
	TP_TEST_END();
}
