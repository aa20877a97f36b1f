/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * make_request_seeds.c - writes the seed corpus of fuzz_request
 * (corpus/request/): whole client sessions recorded against the fake world,
 * with proto/'s TURN client (turn_client.h) building and signing every
 * request from the challenges the world's server really gave. The world's
 * nonce key and clock are fixed, so each recorded input replays identically.
 *
 * Every step is checked as it is recorded (the answer it must get, the data
 * it must relay), so a seed that stopped reaching its path fails here; the
 * invariants of request_world.c run on every message as in the fuzzer.
 *
 *	make_request_seeds DIR      (writes DIR/<name> per seed)
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include "proto.h"
#include "request_world.h"

#define SEED_MAX 16384

struct seed {
	const char *name;
	uint8_t d[SEED_MAX];
	size_t n;
	struct rw_world *w;
	uint32_t tid_next;
};

struct cl {
	struct tp_tc tc;
	unsigned tuple;
};

/* What a request carries besides the credentials. */
struct req {
	uint16_t method;
	int transport;              /* REQUESTED-TRANSPORT: 17, 6 or 0 for none */
	uint8_t family;             /* REQUESTED-ADDRESS-FAMILY (0: none) */
	bool additional_v6;         /* ADDITIONAL-ADDRESS-FAMILY IPv6 */
	bool even_port, even_r;
	bool has_token;
	uint64_t token;
	int npeers;
	struct tp_addr peer[2];
	uint16_t chan;
	int64_t lifetime;           /* -1: none */
	bool mobility;
	const uint8_t *ticket;      /* with mobility: NULL for the empty one */
	size_t ticket_len;
	bool has_cid;
	uint32_t cid;
	bool unknown_attr;          /* an unknown comprehension-required attribute */
};

static const char *outdir;
static int nseeds;

static void die(struct seed *sd, const char *what)
{
	fprintf(stderr, "make_request_seeds: %s: %s\n", sd->name, what);
	exit(1);
}

static struct tp_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	return (struct tp_addr){ .family = AF_INET, .ip = { a, b, c, d }, .port = port };
}

static struct tp_addr peer6(uint16_t port)
{
	struct tp_addr a = { .family = AF_INET6, .port = port };

	inet_pton(AF_INET6, "2001:db8:77::7", a.ip);
	return a;
}

static void begin(struct seed *sd, const char *name)
{
	memset(sd, 0, sizeof(*sd));
	sd->name = name;
	sd->w = rw_create();
}

static void finish(struct seed *sd)
{
	char path[4096];
	FILE *f;

	rw_free(sd->w);
	snprintf(path, sizeof(path), "%s/%s", outdir, sd->name);
	f = fopen(path, "wb");
	if (!f || fwrite(sd->d, 1, sd->n, f) != sd->n || fclose(f) != 0)
		die(sd, "cannot write the seed");
	nseeds++;
}

/* Append one record and run it in the world, exactly as the fuzzer will.
 * For RW_OP_ADVANCE, len is the 2-byte value and p is unused. */
static void rec(struct seed *sd, uint8_t hdr, const uint8_t *p, size_t len)
{
	size_t at = sd->n;
	unsigned op = hdr >> 5;
	bool bytes = op <= RW_OP_DGRAM2 || op == RW_OP_SIGNED;

	if (len > 0xffff || sd->n + 3 + (bytes ? len : 0) > sizeof(sd->d))
		die(sd, "seed too long");
	sd->d[sd->n++] = hdr;
	if (bytes || op == RW_OP_ADVANCE) {
		sd->d[sd->n++] = (uint8_t)(len >> 8);
		sd->d[sd->n++] = (uint8_t)len;
	}
	if (bytes) {
		memcpy(sd->d + sd->n, p, len);
		sd->n += len;
	}
	if (rw_run_record(sd->w, sd->d + at, sd->n - at) != sd->n - at)
		die(sd, "record length mismatch");
}

static void advance_s(struct seed *sd, unsigned seconds)
{
	rec(sd, RW_HDR(RW_OP_ADVANCE, 0), NULL, 0x8000u | seconds);
}

static void event(struct seed *sd, unsigned which)
{
	rec(sd, RW_HDR(RW_OP_EVENT, which), NULL, 0);
}

static uint8_t msg_op(unsigned tuple)
{
	return rw_tuple_stream(tuple) ? RW_OP_STREAM : RW_OP_DGRAM;
}

static void put_attrs(struct tp_stun_wr *w, const struct req *r)
{
	if (r->transport)
		tp_stun_put_transport(w, (uint8_t)r->transport);
	if (r->family)
		tp_stun_put_family(w, TP_ATTR_REQUESTED_ADDRESS_FAMILY, r->family);
	if (r->additional_v6)
		tp_stun_put_family(w, TP_ATTR_ADDITIONAL_ADDRESS_FAMILY, TP_STUN_FAMILY_IPV6);
	if (r->even_port)
		tp_stun_put_even_port(w, r->even_r);
	if (r->has_token)
		tp_stun_put_u64(w, TP_ATTR_RESERVATION_TOKEN, r->token);
	if (r->chan)   /* raw: the writer refuses RFC 5766's legacy range */
		tp_stun_put_u32(w, TP_ATTR_CHANNEL_NUMBER, (uint32_t)r->chan << 16);
	for (int i = 0; i < r->npeers; i++)
		tp_stun_put_addr(w, TP_ATTR_XOR_PEER_ADDRESS, &r->peer[i]);
	if (r->lifetime >= 0)
		tp_stun_put_u32(w, TP_ATTR_LIFETIME, (uint32_t)r->lifetime);
	if (r->mobility)
		tp_stun_put(w, TP_ATTR_MOBILITY_TICKET, r->ticket, r->ticket_len);
	if (r->has_cid)
		tp_stun_put_u32(w, TP_ATTR_CONNECTION_ID, r->cid);
	if (r->unknown_attr)
		tp_stun_put_u32(w, 0x7777, 1);
}

static void next_tid(struct seed *sd, uint8_t tid[TP_STUN_TID_LEN])
{
	memset(tid, 0, TP_STUN_TID_LEN);
	sd->tid_next++;
	memcpy(tid, "seed", 4);
	tid[8] = (uint8_t)(sd->tid_next >> 24);
	tid[9] = (uint8_t)(sd->tid_next >> 16);
	tid[10] = (uint8_t)(sd->tid_next >> 8);
	tid[11] = (uint8_t)sd->tid_next;
}

/* Read the answer to the message just recorded into c (0 or 1 answers). */
static enum tp_tc_res answer(struct seed *sd, struct cl *c, struct tp_tc_resp *resp)
{
	const struct rw_reply *r = rw_reply(sd->w, 0);

	if (rw_nreplies(sd->w) == 0)
		return TP_TC_NOT_OURS;   /* nothing came back */
	return tp_tc_recv(&c->tc, r->buf, r->len, resp);
}

/* One request from c with the challenge dance (at most two rounds): the
 * result, and the response in *resp (borrowed from the world until the next
 * message). flags: tp_tc_finish's. */
static enum tp_tc_res transact(struct seed *sd, struct cl *c, const struct req *r,
                               struct tp_tc_resp *resp, unsigned flags)
{
	static uint8_t buf[2048];
	enum tp_tc_res res = TP_TC_NOT_OURS;

	for (int round = 0; round < 3; round++) {
		struct tp_stun_wr w;
		uint8_t tid[TP_STUN_TID_LEN];
		long n;

		next_tid(sd, tid);
		if (tp_tc_begin(&c->tc, &w, buf, sizeof(buf), r->method, tid) != 0)
			die(sd, "tp_tc_begin");
		put_attrs(&w, r);
		n = tp_tc_finish(&c->tc, &w, flags);
		if (n < 0)
			die(sd, "tp_tc_finish");
		rec(sd, RW_HDR(msg_op(c->tuple), c->tuple), buf, (size_t)n);
		res = answer(sd, c, resp);
		if (res != TP_TC_RETRY)
			return res;
	}
	return res;
}

static void must(struct seed *sd, struct cl *c, const struct req *r, struct tp_tc_resp *resp,
                 uint16_t code, const char *what)
{
	struct tp_tc_resp tmp;
	enum tp_tc_res res = transact(sd, c, r, resp ? resp : &tmp, 0);

	if (!resp)
		resp = &tmp;
	if (code == 0 && (res != TP_TC_SUCCESS || !resp->authenticated))
		die(sd, what);
	if (code && (res != TP_TC_ERROR || resp->code != code)) {
		fprintf(stderr, "  (got %s, code %u)\n", tp_tc_res_str(res), resp->code);
		die(sd, what);
	}
}

static void client(struct cl *c, unsigned tuple, const struct tp_tc_opts *o, const char *user,
                   const char *pass)
{
	tp_tc_init(&c->tc, o);
	c->tuple = tuple;
	if (tp_tc_set_password(&c->tc, user, strlen(user), pass, strlen(pass)) != 0)
		exit(1);
}

/* A Send indication and a ChannelData message, each of which must be relayed
 * (or, with relayed false, must not). */
static void send_ind(struct seed *sd, unsigned tuple, const struct tp_addr *peer, bool relayed)
{
	uint8_t buf[256], tid[TP_STUN_TID_LEN];
	static const char data[] = "hello, peer";
	struct tp_stun_wr w;
	uint64_t before = rw_totals()->relayed;
	long n;

	next_tid(sd, tid);
	tp_stun_wr_init(&w, buf, sizeof(buf), TP_METHOD_SEND, TP_CLASS_INDICATION, tid);
	tp_stun_put_addr(&w, TP_ATTR_XOR_PEER_ADDRESS, peer);
	tp_stun_put(&w, TP_ATTR_DATA, data, sizeof(data) - 1);
	n = tp_stun_wr_finish(&w);
	if (n < 0)
		die(sd, "Send indication");
	rec(sd, RW_HDR(msg_op(tuple), tuple), buf, (size_t)n);
	if ((rw_totals()->relayed > before) != relayed)
		die(sd, relayed ? "Send indication not relayed" : "Send indication relayed");
}

static void chandata(struct seed *sd, unsigned tuple, uint16_t chan, bool relayed)
{
	uint8_t buf[64];
	static const char data[] = "channel data!";
	uint64_t before = rw_totals()->relayed;
	size_t len = sizeof(data) - 1;
	size_t n = 4 + (rw_tuple_stream(tuple) ? (len + 3) & ~3u : len);

	/* by hand: tp_chan_encode refuses RFC 5766's legacy range */
	memset(buf, 0, sizeof(buf));
	tp_chan_put_header(buf, chan, (uint16_t)len);
	memcpy(buf + 4, data, len);
	rec(sd, RW_HDR(msg_op(tuple), tuple), buf, n);
	if ((rw_totals()->relayed > before) != relayed)
		die(sd, relayed ? "ChannelData not relayed" : "ChannelData relayed");
}

static const struct req allocate_udp = { .method = TP_METHOD_ALLOCATE, .transport = 17,
                                         .lifetime = -1 };

/* Allocate, CreatePermission, ChannelBind, Send, ChannelData, Refresh, Refresh(0). */
static void session(const char *name, unsigned tuple, const struct tp_tc_opts *o,
                    const char *user, const char *pass, bool v6)
{
	struct seed sd;
	struct cl c;
	struct tp_addr peer = v6 ? peer6(5000) : v4(198, 51, 100, 7, 5000);
	struct req r = allocate_udp;

	begin(&sd, name);
	client(&c, tuple, o, user, pass);
	if (v6)
		r.family = TP_STUN_FAMILY_IPV6;
	must(&sd, &c, &r, NULL, 0, "Allocate");
	must(&sd, &c, &(struct req){ .method = TP_METHOD_CREATE_PERMISSION, .npeers = 1,
	                             .peer = { peer }, .lifetime = -1 },
	     NULL, 0, "CreatePermission");
	must(&sd, &c, &(struct req){ .method = TP_METHOD_CHANNEL_BIND, .npeers = 1, .peer = { peer },
	                             .chan = 0x4001, .lifetime = -1 },
	     NULL, 0, "ChannelBind");
	send_ind(&sd, tuple, &peer, true);
	chandata(&sd, tuple, 0x4001, true);
	must(&sd, &c, &(struct req){ .method = TP_METHOD_REFRESH, .lifetime = 1200 }, NULL, 0,
	     "Refresh");
	must(&sd, &c, &(struct req){ .method = TP_METHOD_REFRESH, .lifetime = 0 }, NULL, 0,
	     "Refresh(0)");
	chandata(&sd, tuple, 0x4001, false);
	finish(&sd);
}

/* RFC 8016: Allocate with MOBILITY-TICKET from tuple 0, Refresh with the
 * ticket from tuple 1 (same address, new port), data from the new place. */
static void mobility(void)
{
	struct seed sd;
	struct cl c;
	struct tp_tc_resp resp;
	struct req r = allocate_udp;
	struct tp_addr peer = v4(198, 51, 100, 8, 6000);
	uint8_t ticket[64];
	size_t tlen;
	const struct tp_stun_attr *tk;

	begin(&sd, "mobility");
	client(&c, 0, NULL, RW_USER, RW_PASS);
	r.mobility = true;
	must(&sd, &c, &r, &resp, 0, "Allocate with MOBILITY-TICKET");
	tk = tp_stun_find(&resp.m, TP_ATTR_MOBILITY_TICKET);
	if (!tk || tk->len > sizeof(ticket))
		die(&sd, "no MOBILITY-TICKET");
	tlen = tk->len;
	memcpy(ticket, tk->val, tlen);
	must(&sd, &c, &(struct req){ .method = TP_METHOD_CREATE_PERMISSION, .npeers = 1,
	                             .peer = { peer }, .lifetime = -1 },
	     NULL, 0, "CreatePermission");
	c.tuple = 1;
	must(&sd, &c, &(struct req){ .method = TP_METHOD_REFRESH, .lifetime = 600, .mobility = true,
	                             .ticket = ticket, .ticket_len = tlen },
	     NULL, 0, "Refresh moving the allocation");
	send_ind(&sd, 1, &peer, true);
	send_ind(&sd, 0, &peer, false);
	finish(&sd);
}

/* Dual stack, EVEN-PORT with the R bit and its RESERVATION-TOKEN. */
static void families_and_tokens(void)
{
	struct seed sd;
	struct cl c0, c1, c2;
	struct tp_tc_resp resp;
	struct req r = allocate_udp;
	const struct tp_stun_attr *tok;
	uint64_t token;

	begin(&sd, "dual_stack_even_port_token");
	client(&c0, 0, NULL, RW_USER, RW_PASS);
	client(&c1, 1, NULL, RW_USER, RW_PASS);
	client(&c2, 2, NULL, RW_USER, RW_PASS);
	r.additional_v6 = true;
	must(&sd, &c0, &r, &resp, 0, "dual-stack Allocate");
	if (resp.nrelayed != 2)
		die(&sd, "dual-stack Allocate gave one relay address");
	must(&sd, &c0, &(struct req){ .method = TP_METHOD_CREATE_PERMISSION, .npeers = 2,
	                              .peer = { v4(198, 51, 100, 9, 0), peer6(0) }, .lifetime = -1 },
	     NULL, 0, "CreatePermission for both families");
	r = allocate_udp;
	r.even_port = r.even_r = true;
	must(&sd, &c2, &r, &resp, 0, "Allocate EVEN-PORT R");
	tok = tp_stun_find(&resp.m, TP_ATTR_RESERVATION_TOKEN);
	if (!tok)
		die(&sd, "no RESERVATION-TOKEN");
	token = tp_attr_u64(tok);
	r = allocate_udp;
	r.has_token = true;
	r.token = token;
	must(&sd, &c1, &r, &resp, 0, "Allocate with the RESERVATION-TOKEN");
	must(&sd, &c1, &(struct req){ .method = TP_METHOD_REFRESH, .lifetime = 0 }, NULL, 0,
	     "Refresh(0)");
	finish(&sd);
}

/* RFC 6062: a TCP allocation, Connect answered later, ConnectionBind on a
 * second connection that becomes the pipe. */
static void tcp_relay(void)
{
	struct seed sd;
	struct cl c, d;
	struct tp_tc_resp resp;
	struct tp_tc_opts o = { .fingerprint = true };
	const char *realm, *nonce;
	const uint8_t *algs;
	size_t rl, nl, al;
	const struct tp_stun_attr *cid;
	uint8_t buf[2048], tid[TP_STUN_TID_LEN];
	struct tp_stun_wr w;
	long n;

	begin(&sd, "tcp_relay_connect_bind");
	client(&c, 4, &o, RW_USER, RW_PASS);
	must(&sd, &c, &(struct req){ .method = TP_METHOD_ALLOCATE, .transport = 6, .lifetime = -1 },
	     NULL, 0, "TCP Allocate");
	/* Connect: no answer now; the world's settle answers it */
	next_tid(&sd, tid);
	tp_tc_begin(&c.tc, &w, buf, sizeof(buf), TP_METHOD_CONNECT, tid);
	tp_stun_put_addr(&w, TP_ATTR_XOR_PEER_ADDRESS, &(struct tp_addr){ .family = AF_INET,
	                 .ip = { 198, 51, 100, 10 }, .port = 80 });
	n = tp_tc_finish(&c.tc, &w, 0);
	rec(&sd, RW_HDR(RW_OP_STREAM, 4), buf, (size_t)n);
	if (rw_nreplies(sd.w) != 0)
		die(&sd, "Connect answered at once");
	rec(&sd, RW_HDR(RW_OP_SETTLE, 1), NULL, 0);
	if (answer(&sd, &c, &resp) != TP_TC_SUCCESS || !resp.authenticated)
		die(&sd, "Connect not answered with success");
	cid = tp_stun_find(&resp.m, TP_ATTR_CONNECTION_ID);
	if (!cid)
		die(&sd, "no CONNECTION-ID");
	/* the data connection: same address, the challenge it already knows */
	client(&d, 6, &o, RW_USER, RW_PASS);
	tp_tc_challenge(&c.tc, &realm, &rl, &nonce, &nl, &algs, &al);
	tp_tc_set_challenge(&d.tc, realm, rl, nonce, nl, algs, al);
	must(&sd, &d, &(struct req){ .method = TP_METHOD_CONNECTION_BIND, .has_cid = true,
	                             .cid = tp_attr_u32(cid), .lifetime = -1 },
	     NULL, 0, "ConnectionBind");
	rec(&sd, RW_HDR(RW_OP_STREAM, 6), (const uint8_t *)"raw pipe bytes", 14);
	/* a second Connect that fails */
	next_tid(&sd, tid);
	tp_tc_begin(&c.tc, &w, buf, sizeof(buf), TP_METHOD_CONNECT, tid);
	tp_stun_put_addr(&w, TP_ATTR_XOR_PEER_ADDRESS, &(struct tp_addr){ .family = AF_INET,
	                 .ip = { 198, 51, 100, 11 }, .port = 80 });
	n = tp_tc_finish(&c.tc, &w, 0);
	rec(&sd, RW_HDR(RW_OP_STREAM, 4), buf, (size_t)n);
	rec(&sd, RW_HDR(RW_OP_SETTLE, 0), NULL, 0);
	if (answer(&sd, &c, &resp) != TP_TC_ERROR || resp.code != 447)
		die(&sd, "failed Connect not answered with 447");
	finish(&sd);
}

/* Configuration 1: the cluster's user-quota decides later (admitted, then
 * refused), max-permissions, max-channels, the total quota with an alternate
 * server, draining. */
static void limits(void)
{
	struct seed sd;
	struct cl c0, c2, c3;
	struct tp_tc_resp resp;

	begin(&sd, "limits_quota_alternate");
	event(&sd, 5);    /* configuration 1 */
	client(&c0, 0, NULL, RW_USER, RW_PASS);
	client(&c2, 2, NULL, RW_USER, RW_PASS);
	client(&c3, 3, NULL, RW_USER, RW_PASS);
	if (transact(&sd, &c0, &allocate_udp, &resp, 0) != TP_TC_NOT_OURS)
		die(&sd, "quota wait answered at once");
	rec(&sd, RW_HDR(RW_OP_SETTLE, 1), NULL, 0);
	if (answer(&sd, &c0, &resp) != TP_TC_SUCCESS)
		die(&sd, "admitted Allocate not answered with success");
	must(&sd, &c0, &(struct req){ .method = TP_METHOD_CREATE_PERMISSION, .npeers = 2,
	                              .peer = { v4(198, 51, 100, 1, 0), v4(198, 51, 100, 2, 0) },
	                              .lifetime = -1 },
	     NULL, 0, "CreatePermission");
	must(&sd, &c0, &(struct req){ .method = TP_METHOD_CREATE_PERMISSION, .npeers = 2,
	                              .peer = { v4(198, 51, 100, 3, 0), v4(198, 51, 100, 4, 0) },
	                              .lifetime = -1 },
	     NULL, 508, "max-permissions");
	must(&sd, &c0, &(struct req){ .method = TP_METHOD_CREATE_PERMISSION, .npeers = 1,
	                              .peer = { v4(198, 51, 100, 200, 0) }, .lifetime = -1 },
	     NULL, 403, "denied-peer");
	must(&sd, &c0, &(struct req){ .method = TP_METHOD_CHANNEL_BIND, .npeers = 1,
	                              .peer = { v4(198, 51, 100, 1, 7) }, .chan = 0x6000,
	                              .lifetime = -1 },
	     NULL, 0, "ChannelBind in the legacy range");
	chandata(&sd, 0, 0x6000, true);
	if (transact(&sd, &c2, &allocate_udp, &resp, 0) != TP_TC_NOT_OURS)
		die(&sd, "second quota wait answered at once");
	rec(&sd, RW_HDR(RW_OP_SETTLE, 0), NULL, 0);
	if (answer(&sd, &c2, &resp) != TP_TC_ERROR || resp.code != 486)
		die(&sd, "refused Allocate not answered with 486");
	event(&sd, 6);    /* draining: 300 to the alternate */
	must(&sd, &c3, &allocate_udp, NULL, 300, "Allocate while draining");
	event(&sd, 7);
	event(&sd, 3);    /* policy re-check */
	event(&sd, 0);    /* kill alice's sessions */
	send_ind(&sd, 0, &(struct tp_addr){ .family = AF_INET, .ip = { 198, 51, 100, 1 } }, false);
	finish(&sd);
}

/* Time: permissions end after 300 s, channels after 600 s, the allocation
 * at its lifetime; the nonce goes stale (438, absorbed), a REST user. */
static void expiry(void)
{
	struct seed sd;
	struct cl c;
	struct tp_addr peer = v4(198, 51, 100, 12, 7000);
	char user[64], pass[64];
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned maclen = 0;

	snprintf(user, sizeof(user), "%u:carol", RW_START_WALL + 86400u);
	HMAC(EVP_sha1(), RW_SECRET, (int)strlen(RW_SECRET), (const uint8_t *)user, strlen(user),
	     mac, &maclen);
	sodium_bin2base64(pass, sizeof(pass), mac, maclen, sodium_base64_VARIANT_ORIGINAL);
	begin(&sd, "expiry_rest_user");
	client(&c, 2, NULL, user, pass);
	must(&sd, &c, &(struct req){ .method = TP_METHOD_ALLOCATE, .transport = 17,
	                             .lifetime = 3600 },
	     NULL, 0, "Allocate (REST user)");
	must(&sd, &c, &(struct req){ .method = TP_METHOD_CHANNEL_BIND, .npeers = 1, .peer = { peer },
	                             .chan = 0x4abc, .lifetime = -1 },
	     NULL, 0, "ChannelBind");
	advance_s(&sd, 301);
	chandata(&sd, 2, 0x4abc, false);        /* the permission is gone */
	must(&sd, &c, &(struct req){ .method = TP_METHOD_CREATE_PERMISSION, .npeers = 1,
	                             .peer = { peer }, .lifetime = -1 },
	     NULL, 0, "CreatePermission again");
	chandata(&sd, 2, 0x4abc, true);
	advance_s(&sd, 400);                    /* past the nonce (600 s) and the channel */
	chandata(&sd, 2, 0x4abc, false);
	must(&sd, &c, &(struct req){ .method = TP_METHOD_REFRESH, .lifetime = 600 }, NULL, 0,
	     "Refresh after a stale nonce");
	advance_s(&sd, 700);
	must(&sd, &c, &(struct req){ .method = TP_METHOD_REFRESH, .lifetime = 600 }, NULL, 437,
	     "Refresh of an expired allocation");
	finish(&sd);
}

/* Binding in its forms, errors before and after authentication, framing. */
static void misc(void)
{
	struct seed sd;
	struct cl c, bad;
	struct tp_tc_resp resp;
	struct tp_tc_opts fp = { .fingerprint = true };
	uint8_t buf[512], tid[TP_STUN_TID_LEN];
	struct tp_stun_wr w;
	long n;

	begin(&sd, "binding_and_errors");
	client(&c, 0, &fp, RW_USER, RW_PASS);
	/* Binding: plain, with FINGERPRINT, with a long SOFTWARE, CHANGE-REQUEST */
	for (int k = 0; k < 4; k++) {
		next_tid(&sd, tid);
		tp_stun_wr_init(&w, buf, sizeof(buf), TP_METHOD_BINDING, TP_CLASS_REQUEST, tid);
		if (k == 2) {
			static const char sw[] = "a client with a long software name, long enough "
			                         "to pay for ours";

			tp_stun_put_str(&w, TP_ATTR_SOFTWARE, sw, sizeof(sw) - 1);
		}
		if (k == 3)
			tp_stun_put_change(&w, TP_CHANGE_IP);
		if (k >= 1)
			tp_stun_put_fingerprint(&w);
		n = tp_stun_wr_finish(&w);
		rec(&sd, RW_HDR(RW_OP_DGRAM, k), buf, (size_t)n);
		if (rw_nreplies(sd.w) != 1)
			die(&sd, "Binding not answered");
	}
	/* RFC 5780 on tuple 2's listener: from the other address and port, to
	 * RESPONSE-PORT; then with PADDING */
	for (int k = 0; k < 2; k++) {
		next_tid(&sd, tid);
		tp_stun_wr_init(&w, buf, sizeof(buf), TP_METHOD_BINDING, TP_CLASS_REQUEST, tid);
		if (k == 0) {
			tp_stun_put_change(&w, TP_CHANGE_IP | TP_CHANGE_PORT);
			tp_stun_put_response_port(&w, 40100);
		} else {
			tp_stun_put_padding(&w, 200);
		}
		n = tp_stun_wr_finish(&w);
		rec(&sd, RW_HDR(RW_OP_DGRAM, 2), buf, (size_t)n);
		if (rw_nreplies(sd.w) != 1)
			die(&sd, "RFC 5780 Binding not answered");
	}
	/* classic RFC 3489 Binding */
	static const uint8_t classic[20] = { 0x00, 0x01, 0x00, 0x00, 1, 2, 3, 4, 5, 6, 7, 8,
	                                     9, 10, 11, 12, 13, 14, 15, 16 };
	rec(&sd, RW_HDR(RW_OP_DGRAM, 2), classic, sizeof(classic));
	/* a request whose attribute overruns: 400 by its header */
	static const uint8_t broken[28] = { 0x00, 0x03, 0x00, 0x08, 0x21, 0x12, 0xA4, 0x42,
	                                    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
	                                    0x00, 0x19, 0x00, 0x09, 17, 0, 0, 0 };
	rec(&sd, RW_HDR(RW_OP_DGRAM, 0), broken, sizeof(broken));
	/* an unknown method */
	next_tid(&sd, tid);
	tp_stun_wr_init(&w, buf, sizeof(buf), 0x0fe, TP_CLASS_REQUEST, tid);
	n = tp_stun_wr_finish(&w);
	rec(&sd, RW_HDR(RW_OP_DGRAM, 3), buf, (size_t)n);
	/* no credentials, then an unknown comprehension-required attribute */
	must(&sd, &c, &(struct req){ .method = TP_METHOD_ALLOCATE, .transport = 17, .lifetime = -1,
	                             .unknown_attr = true },
	     NULL, 420, "420 for an unknown attribute");
	must(&sd, &c, &(struct req){ .method = TP_METHOD_REFRESH, .lifetime = 600 }, NULL, 437,
	     "Refresh without allocation");
	must(&sd, &c, &(struct req){ .method = TP_METHOD_ALLOCATE, .transport = 6, .lifetime = -1 },
	     NULL, 442, "TCP relay over UDP");
	/* a wrong password, an unknown user */
	client(&bad, 0, NULL, RW_USER, "not-the-password");
	if (transact(&sd, &bad, &allocate_udp, &resp, 0) != TP_TC_AUTH_REJECTED)
		die(&sd, "wrong password not refused");
	client(&bad, 2, NULL, "mallory", "whatever");
	if (transact(&sd, &bad, &allocate_udp, &resp, 0) != TP_TC_AUTH_REJECTED)
		die(&sd, "unknown user not refused");
	/* a stream framing error closes the TLS connection */
	rec(&sd, RW_HDR(RW_OP_STREAM, 5), (const uint8_t *)"\x99garbage", 8);
	finish(&sd);
}

/* RW_OP_SIGNED: a template the world signs (selector sel), answered with
 * code (0: success). */
static void sig(struct seed *sd, unsigned tuple, uint8_t sel, const struct req *r, uint16_t code,
                const char *what)
{
	uint8_t buf[2048], tid[TP_STUN_TID_LEN];
	struct tp_stun_wr w;
	struct tp_stun_msg m;
	const struct rw_reply *rp;
	long n;

	next_tid(sd, tid);
	buf[0] = sel;
	tp_stun_wr_init(&w, buf + 1, sizeof(buf) - 1, r->method, TP_CLASS_REQUEST, tid);
	put_attrs(&w, r);
	n = tp_stun_wr_finish(&w);
	if (n < 0)
		die(sd, "template");
	rec(sd, RW_HDR(RW_OP_SIGNED, tuple), buf, (size_t)n + 1);
	rp = rw_reply(sd->w, 0);
	if (!rp || tp_stun_decode(&m, rp->buf, rp->len, NULL) != TP_P_OK)
		die(sd, what);

	if (code == 0 && m.cls != TP_CLASS_SUCCESS)
		die(sd, what);
	if (code) {
		const struct tp_stun_attr *e = tp_stun_find(&m, TP_ATTR_ERROR_CODE);
		struct tp_error_code ec = { 0 };

		if (e)
			tp_attr_error_code(e, &ec);
		if (m.cls != TP_CLASS_ERROR || ec.code != code)
			die(sd, what);
	}
}

/* Templates the world signs: the fuzzer mutates these and they still pass
 * authentication. Permissions and channels past the tables' linear size
 * (their hash indexes), every credential kind, streams. */
static void templates(void)
{
	struct seed sd;
	struct req perm = { .method = TP_METHOD_CREATE_PERMISSION, .lifetime = -1, .npeers = 2 };

	begin(&sd, "signed_templates");
	sig(&sd, 0, 0, &allocate_udp, 0, "signed Allocate");
	for (uint8_t i = 0; i < 6; i++) {
		perm.peer[0] = v4(198, 51, 100, (uint8_t)(20 + 2 * i), 0);
		perm.peer[1] = v4(198, 51, 100, (uint8_t)(21 + 2 * i), 0);
		sig(&sd, 0, (uint8_t)((i & 1) | ((i << 1) & 0x1c)), &perm, 0, "signed CreatePermission");
	}
	for (uint16_t i = 0; i < 10; i++)
		sig(&sd, 0, 4, &(struct req){ .method = TP_METHOD_CHANNEL_BIND, .npeers = 1,
		                              .peer = { v4(198, 51, 100, 20, (uint16_t)(3000 + i)) },
		                              .chan = (uint16_t)(0x4100 + i), .lifetime = -1 },
		    0, "signed ChannelBind");
	chandata(&sd, 0, 0x4105, true);
	sig(&sd, 0, 8, &(struct req){ .method = TP_METHOD_CHANNEL_BIND, .npeers = 1,
	                              .peer = { v4(198, 51, 100, 21, 3000) }, .chan = 0x4100,
	                              .lifetime = -1 },
	    400, "rebinding a channel to another peer");
	sig(&sd, 3, 1, &(struct req){ .method = TP_METHOD_ALLOCATE, .transport = 17,
	                              .family = TP_STUN_FAMILY_IPV6, .lifetime = -1 },
	    0, "signed IPv6 Allocate (SHA-256)");
	sig(&sd, 2, 2 | 16, &allocate_udp, 0, "signed Allocate (store user)");
	sig(&sd, 7, 3, &allocate_udp, 0, "signed Allocate (REST user)");
	sig(&sd, 4, 8, &(struct req){ .method = TP_METHOD_ALLOCATE, .transport = 6, .lifetime = -1 },
	    0, "signed TCP Allocate");
	sig(&sd, 0, 0, &(struct req){ .method = TP_METHOD_REFRESH, .lifetime = 0 }, 0,
	    "signed Refresh(0)");
	sig(&sd, 0, 0, &(struct req){ .method = TP_METHOD_REFRESH, .lifetime = 0 }, 437,
	    "signed Refresh(0) again, a new transaction");
	finish(&sd);
}

/* Regression (fixed in dispatch.c): a "request" of an indication-only method
 * (Data, Send) got a 400 error response of that method, a message type that
 * does not exist; it is dropped. (proto/ allows every class of
 * ConnectionAttempt: that one gets a 400 that decodes.) */
static void regress_indication_methods(void)
{
	static const struct {
		unsigned tuple;
		uint16_t type;
		const char *tid;
		size_t replies;
	} m[] = { { 0, 0x0007, "regress-data", 0 }, { 4, 0x0006, "regress-send", 0 },
	          { 7, 0x000c, "regress-catt", 1 } };
	struct seed sd;

	begin(&sd, "regress_request_of_indication_method");
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		uint8_t b[TP_STUN_HDR_LEN] = { (uint8_t)(m[i].type >> 8), (uint8_t)m[i].type, 0, 0,
		                               0x21, 0x12, 0xA4, 0x42 };

		memcpy(b + 8, m[i].tid, TP_STUN_TID_LEN);
		rec(&sd, RW_HDR(msg_op(m[i].tuple), m[i].tuple), b, sizeof(b));
		if (rw_nreplies(sd.w) != m[i].replies)
			die(&sd, "a request of an indication-only method answered");
	}
	finish(&sd);
}

int main(int argc, char **argv)
{
	struct tp_tc_opts sha = { .mi = TP_TC_MI_SHA256, .userhash = true, .fingerprint = true };
	struct tp_tc_opts rfc5389 = { .alg = TP_TC_ALG_RFC5389, .mi = TP_TC_MI_SHA1 };

	if (argc != 2) {
		fprintf(stderr, "usage: make_request_seeds DIR\n");
		return 2;
	}
	outdir = argv[1];
	session("udp_session", 0, NULL, RW_USER, RW_PASS, false);
	session("udp6_session", 3, NULL, RW_USER, RW_PASS, true);
	session("tcp_session", 4, NULL, RW_USER, RW_PASS, false);
	session("tls_sha256_userhash", 5, &sha, RW_USER, RW_PASS, false);
	session("dtls_store_user_rfc5389", 7, &rfc5389, RW_STORE_USER, RW_STORE_PASS, false);
	session("udp_store_user_userhash", 2, &(struct tp_tc_opts){ .userhash = true },
	        RW_STORE_USER, RW_STORE_PASS, false);
	mobility();
	families_and_tokens();
	tcp_relay();
	limits();
	expiry();
	misc();
	templates();
	regress_indication_methods();
	printf("make_request_seeds: %d seeds in %s, %llu allocations created\n", nseeds, outdir,
	       (unsigned long long)rw_totals()->allocs_created);
	return 0;
}
