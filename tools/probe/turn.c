/*
 * turn.c - the probe's TURN client (RFC 8656) over any probe transport: the
 * long-term credential dance (RFC 8489 §9.2: 401 -> REALM/NONCE -> retry; 438 ->
 * new NONCE), TURN REST credentials from a shared secret, Allocate,
 * CreatePermission, ChannelBind and Refresh(0). Every failure is kept as a
 * struct turn_fail so classify.c can explain it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "probe.h"

#define MSG_CAP 2048

struct turn_cli {
	struct px *x;                      /* borrowed */
	const struct probe_creds *cr;      /* borrowed */
	char user[TP_MAX_USERNAME + 1];
	char pass[128];
	char realm[TP_MAX_REALM + 1];
	char nonce[TP_MAX_NONCE + 1];
	uint16_t algs[8];
	size_t nalgs;
	uint8_t key[TP_KEY_MAX];
	size_t keylen;
	bool have_key;
	struct tp_addr relayed, mapped;
	uint32_t lifetime;
	struct turn_fail fail;
	char reason[128];
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

	if (!t)
		return NULL;
	t->x = x;
	t->cr = cr;
	if (cr->secret) {
		/* TURN REST API: "<expiry>:<name>", base64(HMAC-SHA1(secret, username)). */
		uint8_t mac[EVP_MAX_MD_SIZE];
		unsigned maclen = 0;

		snprintf(t->user, sizeof(t->user), "%lld:%s", (long long)time(NULL) + 3600,
		         cr->user ? cr->user : "turnpike-probe");
		HMAC(EVP_sha1(), cr->secret, (int)strlen(cr->secret), (const uint8_t *)t->user,
		     strlen(t->user), mac, &maclen);
		EVP_EncodeBlock((unsigned char *)t->pass, mac, (int)maclen);
	} else if (cr->user && cr->pass) {
		snprintf(t->user, sizeof(t->user), "%s", cr->user);
		snprintf(t->pass, sizeof(t->pass), "%s", cr->pass);
	}
	return t;
}

void turn_free(struct turn_cli *t)
{
	free(t);
}

const struct turn_fail *turn_last(const struct turn_cli *t) { return &t->fail; }
const char *turn_last_reason(const struct turn_cli *t) { return t->reason; }
const struct tp_addr *turn_relayed(const struct turn_cli *t) { return &t->relayed; }
const struct tp_addr *turn_mapped(const struct turn_cli *t) { return &t->mapped; }
uint32_t turn_lifetime(const struct turn_cli *t) { return t->lifetime; }
const char *turn_realm(const struct turn_cli *t) { return t->realm; }
struct px *turn_px(const struct turn_cli *t) { return t->x; }

static void take_str(const struct tp_stun_attr *a, char *out, size_t cap)
{
	const char *s;
	size_t len;

	tp_attr_str(a, &s, &len);
	if (len >= cap)
		len = cap - 1;
	memcpy(out, s, len);
	out[len] = '\0';
}

static long build(struct turn_cli *t, const struct req_spec *rs, uint8_t *buf, size_t cap,
                  uint8_t tid[TP_STUN_TID_LEN])
{
	struct tp_stun_wr w;

	tp_stun_new_tid(tid);
	tp_stun_wr_init(&w, buf, cap, rs->method, TP_CLASS_REQUEST, tid);
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
	if (t->have_key) {
		tp_stun_put_str(&w, TP_ATTR_USERNAME, t->user, strlen(t->user));
		tp_stun_put_str(&w, TP_ATTR_REALM, t->realm, strlen(t->realm));
		tp_stun_put_str(&w, TP_ATTR_NONCE, t->nonce, strlen(t->nonce));
		if (t->nalgs) {
			/* RFC 8489 §9.2.4: echo the list, pick MD5. */
			tp_stun_put_pw_algs(&w, t->algs, t->nalgs);
			tp_stun_put_pw_alg(&w, TP_PWALG_MD5);
		}
		tp_stun_put_mi(&w, t->key, t->keylen);
	}
	tp_stun_put_fingerprint(&w);
	return tp_stun_wr_finish(&w);
}

/* Send and wait for the answer with our tid; other messages (Data indications,
 * ChannelData) are skipped. UDP and DTLS retransmit. 1: answer in m, 0: timeout,
 * <0: transport error. */
static int transact(struct turn_cli *t, const uint8_t *req, size_t len, const uint8_t *tid,
                    uint8_t *buf, size_t cap, struct tp_stun_msg *m, int ms)
{
	int64_t end = probe_now_ms() + ms;
	int rto = px_is_stream(t->x) ? ms : 250;   /* no retransmission on streams */

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
			if (tp_stun_decode(m, buf, (size_t)n, NULL) == TP_P_OK && !m->classic &&
			    memcmp(m->tid, tid, TP_STUN_TID_LEN) == 0 &&
			    (m->cls == TP_CLASS_SUCCESS || m->cls == TP_CLASS_ERROR))
				return 1;
		}
		if (probe_left(end) == 0)
			return 0;
		rto *= 2;
	}
}

static int learn_challenge(struct turn_cli *t, const struct tp_stun_msg *m)
{
	const struct tp_stun_attr *realm = tp_stun_find(m, TP_ATTR_REALM);
	const struct tp_stun_attr *nonce = tp_stun_find(m, TP_ATTR_NONCE);
	const struct tp_stun_attr *algs = tp_stun_find(m, TP_ATTR_PASSWORD_ALGORITHMS);

	t->fail.had_realm = realm != NULL;
	if (!realm || !nonce)
		return -1;
	take_str(realm, t->realm, sizeof(t->realm));
	take_str(nonce, t->nonce, sizeof(t->nonce));
	t->nalgs = algs ? tp_attr_pw_algs(algs, t->algs, 8) : 0;
	if (t->nalgs > 8)
		t->nalgs = 8;
	if (!t->user[0])
		return -1;
	if (tp_key_long_term(TP_PWALG_MD5, t->user, strlen(t->user), t->realm, strlen(t->realm),
	                     t->pass, strlen(t->pass), t->key, &t->keylen) != TP_P_OK)
		return -1;
	t->have_key = true;
	return 0;
}

/* One request with authentication; on success m holds the answer (in buf). */
static int request(struct turn_cli *t, const struct req_spec *rs, uint8_t *buf, size_t cap,
                   struct tp_stun_msg *m, int ms)
{
	int64_t end = probe_now_ms() + ms;
	uint8_t req[MSG_CAP], tid[TP_STUN_TID_LEN];
	int tries = 0;

	memset(&t->fail, 0, sizeof(t->fail));
	t->fail.method = rs->method;
	t->fail.had_creds = t->user[0] != '\0';
	t->fail.rest = t->cr->secret != NULL;
	t->fail.had_realm = true;
	t->reason[0] = '\0';
	for (;;) {
		long len = build(t, rs, req, sizeof(req), tid);
		const struct tp_stun_attr *ec;
		struct tp_error_code e = { 0 };
		int rc;

		if (len < 0) {
			t->fail.errno_ = (int)len;
			return -1;
		}
		rc = transact(t, req, (size_t)len, tid, buf, cap, m, probe_left(end));
		if (rc <= 0) {
			t->fail.errno_ = rc ? rc : -ETIMEDOUT;
			snprintf(t->reason, sizeof(t->reason), "%s",
			         rc ? strerror(-rc) : "no answer (timed out)");
			return -1;
		}
		if (m->cls == TP_CLASS_SUCCESS) {
			if (t->have_key && tp_stun_verify_mi(m, t->key, t->keylen) != TP_P_OK &&
			    m->mi >= 0) {
				t->fail.errno_ = -EBADMSG;
				snprintf(t->reason, sizeof(t->reason),
				         "success answer with a bad MESSAGE-INTEGRITY");
				return -1;
			}
			return 0;
		}
		ec = tp_stun_find(m, TP_ATTR_ERROR_CODE);
		if (ec)
			tp_attr_error_code(ec, &e);
		t->fail.code = ec ? e.code : 500;
		snprintf(t->reason, sizeof(t->reason), "%u %.*s", t->fail.code,
		         (int)(e.reason_len > 100 ? 100 : e.reason_len), e.reason ? e.reason : "");
		if (++tries > 4)
			return -1;
		if (t->fail.code == 401 && !t->have_key) {
			if (learn_challenge(t, m) != 0)
				return -1;
			continue;
		}
		if (t->fail.code == 438) {
			const struct tp_stun_attr *nonce = tp_stun_find(m, TP_ATTR_NONCE);

			t->fail.n438++;
			if (!nonce || t->fail.n438 > 2)
				return -1;
			take_str(nonce, t->nonce, sizeof(t->nonce));
			continue;
		}
		return -1;
	}
}

int turn_allocate(struct turn_cli *t, uint8_t family, int ms)
{
	struct req_spec rs = { .method = TP_METHOD_ALLOCATE, .transport = TP_TRANSPORT_UDP,
		               .family = family };
	uint8_t buf[MSG_CAP];
	struct tp_stun_msg m;
	const struct tp_stun_attr *a;

	if (request(t, &rs, buf, sizeof(buf), &m, ms) != 0)
		return -1;
	a = tp_stun_find(&m, TP_ATTR_XOR_RELAYED_ADDRESS);
	if (!a || tp_attr_addr(&m, a, &t->relayed) != TP_P_OK) {
		t->fail.errno_ = -EBADMSG;
		snprintf(t->reason, sizeof(t->reason), "success without XOR-RELAYED-ADDRESS");
		return -1;
	}
	a = tp_stun_find(&m, TP_ATTR_XOR_MAPPED_ADDRESS);
	if (a)
		tp_attr_addr(&m, a, &t->mapped);
	a = tp_stun_find(&m, TP_ATTR_LIFETIME);
	t->lifetime = a ? tp_attr_u32(a) : 0;
	return 0;
}

int turn_permission(struct turn_cli *t, const struct tp_addr *peer, int ms)
{
	struct req_spec rs = { .method = TP_METHOD_CREATE_PERMISSION, .peer = peer };
	uint8_t buf[MSG_CAP];
	struct tp_stun_msg m;

	return request(t, &rs, buf, sizeof(buf), &m, ms);
}

int turn_channel(struct turn_cli *t, uint16_t chan, const struct tp_addr *peer, int ms)
{
	struct req_spec rs = { .method = TP_METHOD_CHANNEL_BIND, .peer = peer, .chan = chan };
	uint8_t buf[MSG_CAP];
	struct tp_stun_msg m;

	return request(t, &rs, buf, sizeof(buf), &m, ms);
}

int turn_release(struct turn_cli *t, int ms)
{
	struct req_spec rs = { .method = TP_METHOD_REFRESH, .lifetime_zero = true };
	uint8_t buf[MSG_CAP];
	struct tp_stun_msg m;

	return request(t, &rs, buf, sizeof(buf), &m, ms);
}
