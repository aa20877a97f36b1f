/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nice_relay.c - interop with libnice: two relay-only agents in one process
 * gather relay candidates through turnpike over UDP, exchange candidates and
 * credentials in-process, reach READY and send datagrams both ways. The
 * selected pair must be relay to relay.
 */
#include <stdlib.h>
#include <string.h>

#include <agent.h>
#include <glib.h>

#include "harness.h"
#include "tp_test.h"

#define NMSG 5

struct side {
	NiceAgent *agent;
	guint stream;
	bool gathered, ready;
	int sent, received;
	const char *name;
};

static struct side sides[2];
static GMainLoop *loop;
static bool timed_out;
static const struct th_server *srv;

static void try_exchange(void);

static void on_gathered(NiceAgent *agent, guint stream, gpointer data)
{
	struct side *s = data;

	(void)agent;
	(void)stream;
	s->gathered = true;
	try_exchange();
}

static bool only_relay(struct side *s, int *n)
{
	GSList *cands = nice_agent_get_local_candidates(s->agent, s->stream, 1);
	bool ok = cands != NULL;

	*n = 0;
	for (GSList *i = cands; i; i = i->next) {
		NiceCandidate *c = i->data;
		char ip[NICE_ADDRESS_STRING_LEN];

		nice_address_to_string(&c->addr, ip);
		printf("%s: local candidate type %d %s:%u\n", s->name, c->type, ip,
		       nice_address_get_port(&c->addr));
		if (c->type != NICE_CANDIDATE_TYPE_RELAYED)
			ok = false;
		else if (nice_address_get_port(&c->addr) >= srv->min_port &&
		         nice_address_get_port(&c->addr) <= srv->max_port)
			(*n)++;
	}
	g_slist_free_full(cands, (GDestroyNotify)nice_candidate_free);
	return ok;
}

static void try_exchange(void)
{
	int n;

	if (!sides[0].gathered || !sides[1].gathered)
		return;
	for (int i = 0; i < 2; i++) {
		struct side *a = &sides[i], *b = &sides[1 - i];
		gchar *ufrag = NULL, *pwd = NULL;
		GSList *cands;

		CHECK(only_relay(a, &n));
		CHECK(n >= 1);
		nice_agent_get_local_credentials(a->agent, a->stream, &ufrag, &pwd);
		nice_agent_set_remote_credentials(b->agent, b->stream, ufrag, pwd);
		g_free(ufrag);
		g_free(pwd);
		cands = nice_agent_get_local_candidates(a->agent, a->stream, 1);
		CHECK(nice_agent_set_remote_candidates(b->agent, b->stream, 1, cands) >= 1);
		g_slist_free_full(cands, (GDestroyNotify)nice_candidate_free);
	}
}

static void send_some(struct side *s)
{
	char msg[32];

	for (; s->sent < NMSG; s->sent++) {
		snprintf(msg, sizeof(msg), "%s-%d", s->name, s->sent);
		nice_agent_send(s->agent, s->stream, 1, (guint)strlen(msg), msg);
	}
}

static void check_done(void)
{
	if (sides[0].received >= NMSG && sides[1].received >= NMSG)
		g_main_loop_quit(loop);
}

static void on_state(NiceAgent *agent, guint stream, guint comp, guint state, gpointer data)
{
	struct side *s = data;

	(void)stream;
	(void)comp;
	printf("%s: component state %s\n", s->name, nice_component_state_to_string(state));
	if (state == NICE_COMPONENT_STATE_FAILED) {
		fprintf(stderr, "%s: ICE failed\n", s->name);
		g_main_loop_quit(loop);
		return;
	}
	if (state != NICE_COMPONENT_STATE_READY || s->ready)
		return;
	s->ready = true;

	NiceCandidate *local = NULL, *remote = NULL;

	if (nice_agent_get_selected_pair(agent, s->stream, 1, &local, &remote)) {
		CHECK_EQ(local->type, NICE_CANDIDATE_TYPE_RELAYED);
		CHECK_EQ(remote->type, NICE_CANDIDATE_TYPE_RELAYED);
	} else {
		CHECK(!"no selected pair");
	}
	send_some(s);
}

static void on_recv(NiceAgent *agent, guint stream, guint comp, guint len, gchar *buf,
                    gpointer data)
{
	struct side *s = data;
	const char *other = sides[0].name == s->name ? sides[1].name : sides[0].name;

	(void)agent;
	(void)stream;
	(void)comp;
	if (len > strlen(other) && memcmp(buf, other, strlen(other)) == 0)
		s->received++;
	/* the other side may become READY after its peer started sending */
	check_done();
}

/* datagrams sent before the far side was ready may be lost: top up */
static gboolean on_tick(gpointer data)
{
	(void)data;
	for (int i = 0; i < 2; i++)
		if (sides[i].ready && sides[1 - i].received < NMSG) {
			sides[i].sent = NMSG - 1;
			send_some(&sides[i]);
		}
	return G_SOURCE_CONTINUE;
}

static int closed;

static void on_closed(GObject *src, GAsyncResult *res, gpointer data)
{
	(void)src;
	(void)res;
	(void)data;
	if (++closed == 2)
		g_main_loop_quit(loop);
}

static gboolean on_timeout(gpointer data)
{
	(void)data;
	timed_out = true;
	g_main_loop_quit(loop);
	return G_SOURCE_REMOVE;
}

static void setup(struct side *s, const char *name, bool controlling)
{
	NiceAddress lo;

	s->name = name;
	s->agent = nice_agent_new(g_main_loop_get_context(loop), NICE_COMPATIBILITY_RFC5245);
	g_object_set(s->agent, "controlling-mode", controlling, "force-relay", TRUE,
	             "ice-tcp", FALSE, "upnp", FALSE, NULL);
	/* loopback only: no traffic leaves the host */
	nice_address_init(&lo);
	nice_address_set_from_string(&lo, "127.0.0.1");
	nice_agent_add_local_address(s->agent, &lo);
	s->stream = nice_agent_add_stream(s->agent, 1);
	CHECK(s->stream > 0);
	CHECK(nice_agent_set_relay_info(s->agent, s->stream, 1, "127.0.0.1", srv->port, "alice",
	                                "alicepw", NICE_RELAY_TYPE_TURN_UDP));
	g_signal_connect(s->agent, "candidate-gathering-done", G_CALLBACK(on_gathered), s);
	g_signal_connect(s->agent, "component-state-changed", G_CALLBACK(on_state), s);
	nice_agent_attach_recv(s->agent, s->stream, 1, g_main_loop_get_context(loop), on_recv, s);
	CHECK(nice_agent_gather_candidates(s->agent, s->stream));
}

int main(int argc, char **argv)
{
	struct th_server s;

	th_init(argc, argv);
	/* the test process runs with leak detection off (GLib keeps caches for the
	 * life of the process); the server under test gets it back */
	setenv("ASAN_OPTIONS", "detect_leaks=1", 1);
	CHECK(th_server_start(&s, "allowed-peer = [\"127.0.0.0/8\"];\n", 0) == 0);
	if (s.pid <= 0)
		TP_TEST_END();
	srv = &s;
	loop = g_main_loop_new(NULL, FALSE);
	setup(&sides[0], "left", true);
	setup(&sides[1], "right", false);
	g_timeout_add_seconds(30, on_timeout, NULL);
	g_timeout_add(250, on_tick, NULL);
	g_main_loop_run(loop);

	CHECK(!timed_out);
	CHECK(sides[0].gathered && sides[1].gathered);
	CHECK(sides[0].ready && sides[1].ready);
	CHECK(sides[0].received >= NMSG);
	CHECK(sides[1].received >= NMSG);
	printf("left received %d, right received %d\n", sides[0].received, sides[1].received);
	/* release the TURN allocations (Refresh 0) before the server stops */
	for (int i = 0; i < 2; i++)
		nice_agent_close_async(sides[i].agent, on_closed, NULL);
	if (!timed_out) {
		g_timeout_add_seconds(5, on_timeout, NULL);
		g_main_loop_run(loop);
	}
	for (int i = 0; i < 2; i++)
		g_object_unref(sides[i].agent);
	g_main_loop_unref(loop);
	CHECK(th_server_stop(&s) == 0);
	TP_TEST_END();
}
