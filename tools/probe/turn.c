/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * turn.c - the probe's TURN requests (RFC 8656) over any probe transport:
 * Allocate, CreatePermission, ChannelBind and Refresh(0), with TURN REST
 * credentials from a shared secret. The protocol (the long-term credential
 * dance of RFC 8489 §9.2, signing, matching answers) is proto's tp_tc; this
 * file keeps the transport, the retransmissions, the rounds (at most 4, and 2
 * stale nonces in a row), and every failure as a struct turn_fail so
 * classify.c can explain it. An Allocate answered with 300 Try Alternate can
 * be followed to the ALTERNATE-SERVER (turn_allocate_follow).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "probe.h"

#define MSG_CAP 2048

struct turn_cli {
	struct px *x;                      /* borrowed */
	const struct probe_creds *cr;      /* borrowed */
	struct tp_tc tc;                   /* the protocol: proto/turn_client.c */
	bool have_creds;
	char realm[TP_MAX_REALM + 1];      /* the server's, once a challenge named it */
	struct tp_addr relayed, mapped;
	uint32_t lifetime;
	struct turn_fail fail;
	char reason[128];
	enum tp_tc_res last;               /* what tp_tc made of the last answer */
	bool has_alternate;                /* the last Allocate: a 300 to follow */
	struct tp_addr alternate;          /* ... and its ALTERNATE-SERVER */
};

/* What one request carries besides authentication. */
struct req_spec {
	uint16_t method;
	uint8_t transport;                 /* Allocate */
	uint8_t family;                    /* Allocate: REQUESTED-ADDRESS-FAMILY, 0 none */
	const struct tp_addr *peer;
	uint16_t chan;
	bool lifetime_zero;                /* Refresh(0) */
};

struct turn_cli *turn_new(struct px *x, const struct probe_creds *cr)
{
	struct turn_cli *t = calloc(1, sizeof(*t));
	char user[TP_MAX_USERNAME + 1] = "", pass[128] = "";

	if (!t)
		return NULL;
	t->x = x;
	t->cr = cr;
	/* RFC 8489 defaults: the server's first algorithm, MESSAGE-INTEGRITY-SHA256
	 * when it lists them; FINGERPRINT as any client behind a multiplexer sends */
	tp_tc_init(&t->tc, &(struct tp_tc_opts){ .fingerprint = true });
	if (cr->secret) {
		/* TURN REST API: "<expiry>:<name>", base64(HMAC-SHA1(secret, username)). */
		uint8_t mac[EVP_MAX_MD_SIZE];
		unsigned maclen = 0;

		snprintf(user, sizeof(user), "%lld:%s", (long long)time(NULL) + 3600,
		         cr->user ? cr->user : "turnpike-probe");
		HMAC(EVP_sha1(), cr->secret, (int)strlen(cr->secret), (const uint8_t *)user,
		     strlen(user), mac, &maclen);
		EVP_EncodeBlock((unsigned char *)pass, mac, (int)maclen);
	} else if (cr->user && cr->pass) {
		snprintf(user, sizeof(user), "%s", cr->user);
		snprintf(pass, sizeof(pass), "%s", cr->pass);
	}
	if (user[0])
		t->have_creds =
			tp_tc_set_password(&t->tc, user, strlen(user), pass, strlen(pass)) == 0;
	OPENSSL_cleanse(pass, sizeof(pass));
	return t;
}

void turn_free(struct turn_cli *t)
{
	if (!t)
		return;
	tp_tc_clear(&t->tc);
	free(t);
}

const struct turn_fail *turn_last(const struct turn_cli *t) { return &t->fail; }
const char *turn_last_reason(const struct turn_cli *t) { return t->reason; }
const struct tp_addr *turn_relayed(const struct turn_cli *t) { return &t->relayed; }
const struct tp_addr *turn_mapped(const struct turn_cli *t) { return &t->mapped; }
uint32_t turn_lifetime(const struct turn_cli *t) { return t->lifetime; }
const char *turn_realm(const struct turn_cli *t) { return t->realm; }
struct px *turn_px(const struct turn_cli *t) { return t->x; }

static long build(struct turn_cli *t, const struct req_spec *rs, uint8_t *buf, size_t cap)
{
	struct tp_stun_wr w;
	int rc = tp_tc_begin(&t->tc, &w, buf, cap, rs->method, NULL);

	if (rc)
		return rc;
	if (rs->method == TP_METHOD_ALLOCATE) {
		tp_stun_put_transport(&w, rs->transport);
		if (rs->family)
			tp_stun_put_family(&w, TP_ATTR_REQUESTED_ADDRESS_FAMILY, rs->family);
	}
	if (rs->chan)
		tp_stun_put_channel(&w, rs->chan);
	if (rs->peer)
		tp_stun_put_addr(&w, TP_ATTR_XOR_PEER_ADDRESS, rs->peer);
	if (rs->lifetime_zero)
		tp_stun_put_u32(&w, TP_ATTR_LIFETIME, 0);
	return tp_tc_finish(&t->tc, &w, 0);
}

/*
 * Send and wait for the answer; other messages (Data indications, ChannelData,
 * strays) are skipped. UDP and DTLS retransmit. 1: an answer, what it is in
 * *res; 0: timeout; <0: transport error, or -EBADMSG when every answer failed
 * its integrity check (at once on a stream, RFC 8489 §9.2.5).
 */
static int transact(struct turn_cli *t, const uint8_t *req, size_t len, uint8_t *buf,
                    size_t cap, struct tp_tc_resp *r, enum tp_tc_res *res, int ms)
{
	int64_t end = probe_now_ms() + ms;
	bool stream = px_is_stream(t->x), forged = false;
	int rto = stream ? ms : 250;   /* no retransmission on streams */

	for (;;) {
		int64_t next = probe_now_ms() + rto;
		int rc = px_send(t->x, req, len);

		if (rc)
			return rc;
		if (next > end)
			next = end;
		while (probe_left(next) > 0) {
			long n = px_recv(t->x, buf, cap, probe_left(next));

			if (n == 0)
				break;
			if (n < 0)
				return (int)n;
			*res = tp_tc_recv(&t->tc, buf, (size_t)n, r);
			if (*res == TP_TC_NOT_RESPONSE || *res == TP_TC_NOT_OURS ||
			    *res == TP_TC_MALFORMED)
				continue;
			/* an error answer without integrity is still the server's word
			 * on what failed; a success must be authentic to count */
			if (*res == TP_TC_INTEGRITY_BAD ||
			    (*res == TP_TC_UNAUTHENTICATED && r->code == 0)) {
				forged = true;
				if (stream)
					return -EBADMSG;
				continue;
			}
			return 1;
		}
		if (probe_left(end) == 0)
			return forged ? -EBADMSG : 0;
		rto *= 2;
	}
}

/* One request with authentication; on success *r holds the answer (in buf). */
static int request(struct turn_cli *t, const struct req_spec *rs, uint8_t *buf, size_t cap,
                   struct tp_tc_resp *r, int ms)
{
	int64_t end = probe_now_ms() + ms;
	uint8_t req[MSG_CAP];
	int tries = 0;

	memset(&t->fail, 0, sizeof(t->fail));
	t->fail.method = rs->method;
	t->fail.had_creds = t->have_creds;
	t->fail.rest = t->cr->secret != NULL;
	t->fail.had_realm = true;
	t->reason[0] = '\0';
	for (;;) {
		long len = build(t, rs, req, sizeof(req));
		enum tp_tc_res res = TP_TC_MALFORMED;
		const char *realm, *note;
		size_t realm_len;
		int rc;

		if (len < 0) {
			t->fail.errno_ = (int)len;
			snprintf(t->reason, sizeof(t->reason), "cannot build the request: %s",
			         strerror((int)-len));
			return -1;
		}
		rc = transact(t, req, (size_t)len, buf, cap, r, &res, probe_left(end));
		t->last = res;
		tp_tc_challenge(&t->tc, &realm, &realm_len, NULL, NULL, NULL, NULL);
		snprintf(t->realm, sizeof(t->realm), "%.*s", (int)realm_len, realm);
		if (rc <= 0) {
			tp_tc_cancel(&t->tc, req + 8);
			t->fail.errno_ = rc ? rc : -ETIMEDOUT;
			snprintf(t->reason, sizeof(t->reason), "%s",
			         rc == -EBADMSG ? "answers with a wrong MESSAGE-INTEGRITY"
			         : rc ? strerror(-rc) : "no answer (timed out)");
			return -1;
		}
		if (res == TP_TC_SUCCESS)
			return 0;
		note = res == TP_TC_DOWNGRADE || res == TP_TC_AUTH_UNUSABLE ? tp_tc_res_str(res)
		                                                               : NULL;
		t->fail.code = r->code;
		snprintf(t->reason, sizeof(t->reason), "%u %.*s%s%s%s", r->code,
		         (int)(r->reason_len > 80 ? 80 : r->reason_len), r->reason ? r->reason : "",
		         note ? " (" : "", note ? note : "", note ? ")" : "");
		if (r->code == 401)
			t->fail.had_realm = tp_stun_find(&r->m, TP_ATTR_REALM) != NULL;
		if (r->code == 438)
			t->fail.n438++;
		if (res != TP_TC_RETRY || ++tries > 4 || t->fail.n438 > 2)
			return -1;
	}
}

int turn_allocate(struct turn_cli *t, uint8_t family, int ms)
{
	struct req_spec rs = { .method = TP_METHOD_ALLOCATE, .transport = TP_TRANSPORT_UDP,
		               .family = family };
	uint8_t buf[MSG_CAP];
	struct tp_tc_resp r;

	t->has_alternate = false;
	if (request(t, &rs, buf, sizeof(buf), &r, ms) != 0) {
		const struct tp_stun_attr *alt;

		if (t->fail.code != 300)
			return -1;
		alt = tp_stun_find(&r.m, TP_ATTR_ALTERNATE_SERVER);
		if (!alt || tp_attr_addr(&r.m, alt, &t->alternate) != TP_P_OK) {
			snprintf(t->reason, sizeof(t->reason), "300 Try Alternate without an "
			         "ALTERNATE-SERVER");
			return -1;
		}
		/* RFC 8489 §10: a redirect is only as good as the answer it came in.
		 * An unsigned 300 to an unsigned Allocate is followed: a server that
		 * sheds load says so before authentication (the client then
		 * authenticates at the alternate with that node's nonce). An unsigned
		 * 300 to a signed request is not: the server knows the key. */
		if (!r.authenticated && t->last == TP_TC_UNAUTHENTICATED) {
			snprintf(t->reason, sizeof(t->reason), "300 Try Alternate without "
			         "MESSAGE-INTEGRITY: not followed");
			return -1;
		}
		t->has_alternate = true;
		return -1;
	}
	if (r.nrelayed == 0) {
		t->fail.errno_ = -EBADMSG;
		snprintf(t->reason, sizeof(t->reason), "success without XOR-RELAYED-ADDRESS");
		return -1;
	}
	t->relayed = r.relayed[0];
	if (r.has_mapped)
		t->mapped = r.mapped;
	t->lifetime = r.has_lifetime ? r.lifetime : 0;
	return 0;
}

int turn_permission(struct turn_cli *t, const struct tp_addr *peer, int ms)
{
	struct req_spec rs = { .method = TP_METHOD_CREATE_PERMISSION, .peer = peer };
	uint8_t buf[MSG_CAP];
	struct tp_tc_resp r;

	return request(t, &rs, buf, sizeof(buf), &r, ms);
}

int turn_channel(struct turn_cli *t, uint16_t chan, const struct tp_addr *peer, int ms)
{
	struct req_spec rs = { .method = TP_METHOD_CHANNEL_BIND, .peer = peer, .chan = chan };
	uint8_t buf[MSG_CAP];
	struct tp_tc_resp r;

	return request(t, &rs, buf, sizeof(buf), &r, ms);
}

int turn_release(struct turn_cli *t, int ms)
{
	struct req_spec rs = { .method = TP_METHOD_REFRESH, .lifetime_zero = true };
	uint8_t buf[MSG_CAP];
	struct tp_tc_resp r;

	return request(t, &rs, buf, sizeof(buf), &r, ms);
}

int turn_allocate_follow(struct turn_cli **tp, struct px **xp, enum probe_xport k,
                         const struct tp_addr *server, const char *sni, uint8_t family,
                         int ms, struct tp_addr *via, size_t *nvia)
{
	int64_t end = probe_now_ms() + ms;
	struct tp_addr tried[1 + TURN_MAX_REDIRECTS];
	size_t ntried = 1;

	tried[0] = *server;
	*nvia = 0;
	for (;;) {
		struct turn_cli *t = *tp, *t2;
		struct px *x = NULL;
		char a[64], why[PROBE_TEXT];

		if (turn_allocate(t, family, probe_left(end)) == 0)
			return 0;
		if (!t->has_alternate)
			return -1;
		tp_addr_fmt(&t->alternate, a, sizeof(a));
		for (size_t i = 0; i < ntried; i++)
			if (tp_addr_eq(&tried[i], &t->alternate)) {
				snprintf(t->reason, sizeof(t->reason), "300 Try Alternate back to %s, "
				         "already tried: a redirect loop, not followed", a);
				return -1;
			}
		if (ntried == 1 + TURN_MAX_REDIRECTS) {
			snprintf(t->reason, sizeof(t->reason), "300 Try Alternate %s: more than %d "
			         "redirects, not followed", a, TURN_MAX_REDIRECTS);
			return -1;
		}
		tried[ntried++] = t->alternate;
		if (px_open(&x, k, &t->alternate, sni, probe_left(end), why, sizeof(why)) != 0) {
			snprintf(t->reason, sizeof(t->reason), "300 Try Alternate %s: %.80s", a, why);
			return -1;
		}
		t2 = turn_new(x, t->cr);
		if (!t2) {
			px_close(x);
			return -1;
		}
		via[(*nvia)++] = t->alternate;
		turn_free(t);
		px_close(*xp);
		*tp = t2;
		*xp = x;
	}
}
